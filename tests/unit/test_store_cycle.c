/* The reporting cycle in the collector's store (SPEC §7), on real LMDB
 * files: future periods rejected in the ingest transaction, retractions by
 * agents (rejected when there is nothing to retract) and corrections by
 * operators with the results falling back and verify agreeing, the round
 * status and the default period, as-of recomputation, editions written once
 * and proved by verify, the receive-time floor, the schema-1 store read and
 * upgraded, and random streams of values, revisions and retractions kept
 * equal to the full recomputation bit for bit. */
#define _XOPEN_SOURCE 700     /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "glci_store.h"
#include "glci_text.h"

/* Receive times count from the time the test starts: cities are
 * registered at the clock's time, and as of an earlier time they were not
 * members yet. Periods up to the current year are not in the future. */
static int64_t T0;

/* Two areas, four indicators; an index needs half of them (min_coverage
 * 0.5) and both areas; values carry two years. */
static const char s_tiny[] =
    "[framework]\nid = tiny\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
    "first_period = 2000\nlast_period = 2100\ncadence = 1\ndue = 03-31\n"
    "[area:a]\nname = A\n[focus:a.x]\narea = a\nname = X\n"
    "[indicator:i1]\nfocus = a.x\nname = I1\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 100\nmin = 0\nmax = 1000\n"
    "[indicator:i2]\nfocus = a.x\nname = I2\nunit = %\ndirection = lower\n"
    "lower = 0\nupper = 50\nmin = 0\nmax = 1000\n"
    "[area:b]\nname = B\n[focus:b.y]\narea = b\nname = Y\n"
    "[indicator:i3]\nfocus = b.y\nname = I3\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 100\nmin = 0\nmax = 100\n"
    "[indicator:i4]\nfocus = b.y\nname = I4\nunit = yes/no\ndirection = higher\n"
    "lower = 0\nupper = 1\nmin = 0\nmax = 1\n";

typedef struct {
    char dir[64];
    glci_store_t *st;
    const glci_framework_t *fw;
    uint64_t seq[8];          /* next seq per city slot */
} fx_t;

static const char *const s_cities[] = {"alpha", "beta", "gamma", "delta"};

static int s_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* (Re)opens the fixture's store, closing the handle open before. */
static void s_open(fx_t *f, unsigned flags)
{
    char err[256];
    glci_store_opts_t o = {.flags = flags};
    glci_store_close(&f->st);
    if (glci_store_open(f->dir, &o, &f->st, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    f->fw = glci_store_framework(f->st);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char path[128], err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/glci-cycle-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof path, "%s.ini", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(s_tiny, fp);
    fclose(fp);
    if (glci_store_create(f->dir, path, NULL, err, sizeof err) != 0)
        fail_msg("create: %s", err);
    unlink(path);
    s_open(f, 0);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(glci_store_city_add(f->st, s_cities[i], "C", "IE", NULL, err,
                                             sizeof err), 0);
        f->seq[i] = 1;
    }
    T0 = (int64_t)time(NULL);   /* after the cities were registered */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    glci_store_close(&f->st);
    nftw(f->dir, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int s_slot(const char *city)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s_cities[i], city) == 0)
            return i;
    fail_msg("no city %s", city);
    return -1;
}

/* One batch of n observations for city at time now; *res is the caller's. */
static void s_send(fx_t *f, const char *city, const glci_obs_t *obs, size_t n, int64_t now,
                   glci_batch_result_t *res)
{
    int k = s_slot(city);
    glci_batch_t b = {.city = city, .stream = 7, .seq = f->seq[k]++, .obs = obs, .n_obs = n};
    assert_int_equal(glci_store_ingest(f->st, &b, 1, now, res), 0);
    assert_int_equal(res->status, GLCI_BATCH_APPLIED);
}

/* The same, expecting no rejection. */
static void s_ok(fx_t *f, const char *city, const glci_obs_t *obs, size_t n, int64_t now)
{
    glci_batch_result_t res;
    s_send(f, city, obs, n, now, &res);
    if (res.n_rejections)
        fail_msg("rejected: %s", res.rejections[0].message);
    glci_batch_result_release(&res);
}

/* Keeps the last difference in ctx (512 bytes). */
static void s_diff_keep(void *ctx, const char *d)
{
    snprintf(ctx, 512, "%s", d);
}

static void s_diff_print(void *ctx, const char *d)
{
    (void)ctx;
    print_error("verify: %s\n", d);
}

static void s_verify_ok(fx_t *f)
{
    uint64_t n = 0;
    assert_int_equal(glci_store_verify(f->st, s_diff_print, NULL, &n), 0);
    assert_int_equal(n, 0);
}

/* A copy of the stored result of (city, P), or NULL when it has none. */
static glci_result_t *s_result(fx_t *f, const char *city, int32_t P)
{
    glci_view_t *v = NULL;
    const glci_result_t *r = NULL;
    glci_result_t *copy = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    int rc = glci_view_result(v, city, P, &r);
    if (rc == 0) {
        copy = malloc(glci_result_size(f->fw));
        memcpy(copy, r, glci_result_size(f->fw));
    } else {
        assert_int_equal(rc, GLCI_STORE_ENODATA);
    }
    glci_view_end(&v);
    return copy;
}

static glci_obs_t V(const char *ind, int64_t p, double v)
{
    return glci_obs_make(ind, p, v);
}

static glci_obs_t R(const char *ind, int64_t p)
{
    return glci_obs_retraction(ind, p);
}

/* ---- future periods ------------------------------------------------------------- */

static void test_future_rejected(void **state)
{
    fx_t *f = *state;
    glci_obs_t o[4] = {V("i1", 2025, 10), V("i1", 2026, 20), V("i3", 2100, 30),
                       R("i1", 2026)};
    glci_batch_result_t res;
    s_send(f, "alpha", o, 4, 1764000000 /* 2025-11-24T16:00:00Z */, &res);
    /* 2025 is this year: stored; 2026 and 2100 are in the future */
    assert_int_equal(res.n_rejections, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(res.rejections[i].index, i + 1);
        assert_int_equal(res.rejections[i].reason, GLCI_REJECT_FUTURE);
    }
    assert_string_equal(res.rejections[0].message,
                        "period 2026 is in the future (at most 2025 on 2025-11-24)");
    assert_string_equal(glci_reject_str(GLCI_REJECT_FUTURE), "period in the future");
    glci_batch_result_release(&res);

    glci_view_t *v = NULL;
    glci_store_status_t s;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.n_observations, 1);
    assert_int_equal(s.n_rejects, 3);
    assert_int_equal(s.last_period, 2025);      /* nothing moved to 2100 */
    glci_view_end(&v);
    s_verify_ok(f);
}

/* ---- retractions ----------------------------------------------------------------- */

typedef struct {
    size_t n;
    glci_history_row_t rows[16];
    char ops[16][80], reasons[16][220];
} hist_t;

static int s_hist_cb(void *ctx, const glci_history_row_t *row)
{
    hist_t *h = ctx;
    assert_true(h->n < 16);
    h->rows[h->n] = *row;
    snprintf(h->ops[h->n], sizeof h->ops[0], "%s|%s", row->op, row->sudo_user);
    snprintf(h->reasons[h->n], sizeof h->reasons[0], "%s", row->reason);
    h->n++;
    return 0;
}

static hist_t s_history(fx_t *f, const char *city, const char *ind)
{
    hist_t h;
    memset(&h, 0, sizeof h);
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_history(v, city, ind, s_hist_cb, &h), 0);
    glci_view_end(&v);
    return h;
}

static void test_retraction_falls_back(void **state)
{
    fx_t *f = *state;
    size_t rs = glci_result_size(f->fw);
    glci_obs_t first[4] = {V("i1", 2023, 40), V("i2", 2023, 10), V("i3", 2023, 60),
                           V("i4", 2023, 1)};
    s_ok(f, "alpha", first, 4, T0);
    glci_result_t *before = s_result(f, "alpha", 2024);   /* 2023 carried */
    assert_non_null(before);
    glci_obs_t second[1] = {V("i1", 2024, 90)};
    s_ok(f, "alpha", second, 1, T0 + 10);
    glci_result_t *with = s_result(f, "alpha", 2024);
    assert_memory_not_equal(before, with, rs);
    /* withdrawn: 2024 falls back to 2023's value, exactly as before it came */
    glci_obs_t r[1] = {R("i1", 2024)};
    s_ok(f, "alpha", r, 1, T0 + 20);
    glci_result_t *after = s_result(f, "alpha", 2024);
    assert_memory_equal(before, after, rs);
    s_verify_ok(f);

    /* nothing left to withdraw: rejected with its own reason, nothing changes */
    glci_batch_result_t res;
    s_send(f, "alpha", r, 1, T0 + 30, &res);
    assert_int_equal(res.n_rejections, 1);
    assert_int_equal(res.rejections[0].reason, GLCI_REJECT_NOTHING_TO_RETRACT);
    assert_string_equal(res.rejections[0].message, "no current value of i1 for 2024 to retract");
    glci_batch_result_release(&res);

    /* history keeps the retraction */
    hist_t h = s_history(f, "alpha", "i1");
    assert_int_equal(h.n, 3);
    assert_false(h.rows[1].retracted);
    assert_true(h.rows[2].retracted);
    assert_int_equal(h.rows[2].period, 2024);
    assert_false(h.rows[2].by_operator);
    assert_true(h.rows[0].current);

    /* the whole city withdrawn: its results and the period count go */
    glci_obs_t all[4] = {R("i1", 2023), R("i2", 2023), R("i3", 2023), R("i4", 2023)};
    s_ok(f, "alpha", all, 4, T0 + 40);
    glci_result_t *gone = s_result(f, "alpha", 2023);
    assert_null(gone);
    glci_view_t *v = NULL;
    glci_store_status_t s;
    int32_t latest;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.n_observations, 0);
    assert_int_equal(glci_view_latest_period(v, &latest), GLCI_STORE_ENODATA);
    glci_view_end(&v);
    s_verify_ok(f);
    free(before);
    free(with);
    free(after);
}

static void test_retraction_in_one_batch(void **state)
{
    fx_t *f = *state;
    /* a value and its retraction in one batch: the retraction finds the
     * pending value; a second one finds nothing; then a new value stands */
    glci_obs_t o[5] = {V("i1", 2024, 50), R("i1", 2024), R("i1", 2024), V("i3", 2024, 70),
                       V("i1", 2024, 55)};
    glci_batch_result_t res;
    s_send(f, "beta", o, 5, T0, &res);
    assert_int_equal(res.n_rejections, 1);
    assert_int_equal(res.rejections[0].index, 2);
    assert_int_equal(res.rejections[0].reason, GLCI_REJECT_NOTHING_TO_RETRACT);
    glci_batch_result_release(&res);
    glci_result_t *r = s_result(f, "beta", 2024);
    assert_non_null(r);
    assert_true(glci_result_slot_c(f->fw, r, 0)->value == 55);
    assert_int_equal(r->n_values, 2);
    free(r);
    /* a retraction that carries a value is malformed, the rest stands */
    glci_obs_t both[2] = {R("i3", 2024), V("i4", 2024, 1)};
    both[0].has_value = 1;
    both[0].value = 3;
    s_send(f, "beta", both, 2, T0, &res);
    assert_int_equal(res.n_rejections, 1);
    assert_int_equal(res.rejections[0].reason, GLCI_REJECT_MALFORMED);
    assert_string_equal(res.rejections[0].message, "i3: a retraction carries no value");
    glci_batch_result_release(&res);
    r = s_result(f, "beta", 2024);
    assert_true(glci_result_slot_c(f->fw, r, 2)->present);     /* i3 still stands */
    assert_true(glci_result_slot_c(f->fw, r, 3)->present);
    free(r);
    /* value, then retraction, in one batch: nothing stays */
    glci_obs_t p[2] = {V("i2", 2022, 5), R("i2", 2022)};
    s_ok(f, "beta", p, 2, T0 + 1);
    assert_null(s_result(f, "beta", 2022));
    s_verify_ok(f);
}

/* ---- corrections by operators ------------------------------------------------------ */

static void test_correct(void **state)
{
    fx_t *f = *state;
    char err[256];
    glci_obs_t o[2] = {V("i1", 2024, 50), V("i3", 2024, 60)};
    s_ok(f, "gamma", o, 2, T0);
    glci_correction_t c = {.city = "gamma", .indicator = "i1", .period = 2024, .value = 65,
                           .op = "root", .sudo_user = "alice", .reason = "typo in the form"};
    glci_correction_result_t res;
    assert_int_equal(glci_store_correct(f->st, &c, T0 + 5, &res, err, sizeof err), 0);
    assert_true(res.had && res.before == 50);
    glci_result_t *r = s_result(f, "gamma", 2024);
    assert_true(glci_result_slot_c(f->fw, r, 0)->value == 65);
    free(r);
    c.retract = 1;
    c.indicator = "i3";
    c.sudo_user = NULL;
    c.reason = "not measured that year";
    assert_int_equal(glci_store_correct(f->st, &c, T0 + 6, &res, err, sizeof err), 0);
    r = s_result(f, "gamma", 2024);
    assert_false(glci_result_slot_c(f->fw, r, 2)->present);
    free(r);
    s_verify_ok(f);

    hist_t h = s_history(f, "gamma", "i1");
    assert_int_equal(h.n, 2);
    assert_true(h.rows[1].by_operator && !h.rows[1].retracted && h.rows[1].current);
    assert_string_equal(h.ops[1], "root|alice");
    assert_string_equal(h.reasons[1], "typo in the form");
    assert_int_equal(h.rows[1].stream, 0);
    h = s_history(f, "gamma", "i3");
    assert_true(h.rows[1].by_operator && h.rows[1].retracted);
    assert_string_equal(h.ops[1], "root|");

    /* refusals, each with its line; nothing changes */
    assert_int_equal(glci_store_correct(f->st, &c, T0 + 7, NULL, err, sizeof err),
                     GLCI_STORE_ENODATA);
    assert_string_equal(err, "city 'gamma' has no current value of i3 for 2024 to retract");
    c.retract = 0;
    c.value = 5000;
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_string_equal(err, "value 5000 outside [0, 100] for i3");
    c.value = 5;
    c.indicator = "nope";
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_string_equal(err, "unknown indicator 'nope'");
    c.indicator = "i3";
    c.period = 2030;
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "period 2030 is in the future"));
    c.period = 2024;
    c.reason = "";
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "the reason must be 1 to 200 bytes"));
    c.reason = "   ";
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_string_equal(err, "the reason is blank, only spaces");
    c.reason = "typo\xE2\x80\xA8then";
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_string_equal(err, "the reason contains a line or paragraph separator (U+2028, U+2029)");
    c.reason = "bad\x01text";
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "the reason"));
    c.reason = "ok";
    c.city = "nowhere";
    assert_int_equal(glci_store_correct(f->st, &c, T0, NULL, err, sizeof err),
                     GLCI_STORE_ENOCITY);
    assert_string_equal(err, "no city 'nowhere'");
    h = s_history(f, "gamma", "i3");
    assert_int_equal(h.n, 2);
    s_verify_ok(f);
}

/* ---- rounds and the default period ------------------------------------------------- */

typedef struct {
    int n;
    char line[8][128];
} round_t;

static int s_round_cb(void *ctx, const glci_round_row_t *row)
{
    round_t *r = ctx;
    char *p = r->line[r->n++];
    int w = snprintf(p, 128, "%s %s %u", row->city->id, glci_round_status_str(row->status),
                     row->reported);
    for (uint32_t i = 0; i < row->n_missing; i++)
        w += snprintf(p + w, (size_t)(128 - w), " %u", row->missing[i]);
    return 0;
}

static void test_round_and_default(void **state)
{
    fx_t *f = *state;
    glci_obs_t full[4] = {V("i1", 2024, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                          V("i4", 2024, 1)};
    s_ok(f, "alpha", full, 4, T0);
    s_ok(f, "beta", full, 2, T0);              /* i1, i2 only: no index (area b) */
    glci_obs_t g[2] = {V("i1", 2024, 70), V("i3", 2024, 50)};
    s_ok(f, "gamma", g, 2, T0);
    /* one early value for 2025 with everything else carried */
    glci_obs_t early[1] = {V("i1", 2025, 99)};
    s_ok(f, "delta", full, 4, T0);
    s_ok(f, "delta", early, 1, T0 + 1);

    glci_view_t *v = NULL;
    round_t r = {0};
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_round(v, 2024, s_round_cb, &r), 0);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.line[0], "alpha complete 4");
    assert_string_equal(r.line[1], "beta partial 2 2 3");
    assert_string_equal(r.line[2], "delta complete 4");
    assert_string_equal(r.line[3], "gamma partial 2 1 3");
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_round(v, 2025, s_round_cb, &r), 0);
    assert_string_equal(r.line[0], "alpha missing 0 0 1 2 3");   /* carried values do not count */
    assert_string_equal(r.line[2], "delta partial 1 1 2 3");

    /* every city has an index in 2025 and 2026 (carried), but only delta
     * reported for 2025: the default stays 2024, where 3 of 4 have one */
    glci_period_choice_t ch;
    assert_int_equal(glci_view_default_period(v, &ch), 0);
    assert_int_equal(ch.period, 2024);
    assert_int_equal(ch.rule, GLCI_PERIOD_HALF);
    assert_int_equal(ch.active_indexed, 3);
    assert_int_equal(ch.n_active, 4);
    char line[200];
    glci_period_rule_text(&ch, line, sizeof line);
    assert_string_equal(line, "period 2024: the latest in which at least half of the active "
                              "cities (3 of 4) have reported an index");
    /* the same rule as of a time: before delta's early value, and now */
    assert_int_equal(glci_view_asof_default_period(v, T0, &ch), 0);
    assert_int_equal(ch.period, 2024);
    assert_int_equal(ch.active_indexed, 3);
    glci_view_end(&v);

    /* three cities revoked: half of the one active city is one */
    char err[256];
    assert_int_equal(glci_store_city_revoke(f->st, "alpha", err, sizeof err), 0);
    assert_int_equal(glci_store_city_revoke(f->st, "beta", err, sizeof err), 0);
    assert_int_equal(glci_store_city_revoke(f->st, "gamma", err, sizeof err), 0);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_default_period(v, &ch), 0);
    assert_int_equal(ch.period, 2025);
    assert_int_equal(ch.rule, GLCI_PERIOD_HALF);
    assert_int_equal(glci_view_asof_default_period(v, T0 + 100, &ch), 0);
    assert_int_equal(ch.period, 2025);
    glci_view_end(&v);
}

static void test_default_fallbacks(void **state)
{
    fx_t *f = *state;
    glci_view_t *v = NULL;
    glci_period_choice_t ch;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_default_period(v, &ch), GLCI_STORE_ENODATA);
    assert_int_equal(glci_view_asof_default_period(v, T0, &ch), GLCI_STORE_ENODATA);
    glci_view_end(&v);
    /* no index anywhere: the latest with data */
    glci_obs_t o[1] = {V("i1", 2020, 1)};
    s_ok(f, "alpha", o, 1, T0);
    glci_obs_t p[1] = {V("i1", 2021, 1)};
    s_ok(f, "beta", p, 1, T0);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_default_period(v, &ch), 0);
    assert_int_equal(ch.period, 2021);
    assert_int_equal(ch.rule, GLCI_PERIOD_LATEST_DATA);
    glci_view_end(&v);
    /* one city of four with an index in 2020: the latest with any */
    glci_obs_t q[1] = {V("i3", 2020, 1)};
    s_ok(f, "alpha", q, 1, T0);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_default_period(v, &ch), 0);
    assert_int_equal(ch.period, 2020);
    assert_int_equal(ch.rule, GLCI_PERIOD_ANY_INDEX);
    assert_int_equal(glci_view_asof_default_period(v, T0, &ch), 0);
    assert_int_equal(ch.period, 2020);
    assert_int_equal(ch.rule, GLCI_PERIOD_ANY_INDEX);
    glci_view_end(&v);
}

/* ---- as-of and editions ------------------------------------------------------------- */

/* The snapshot's row of city, or NULL. */
static const glci_result_t *s_row(const glci_snapshot_t *s, const char *city)
{
    const glci_snapshot_row_t *r = glci_snapshot_find(s, city);
    return r ? r->result : NULL;
}

static void test_asof(void **state)
{
    fx_t *f = *state;
    size_t rs = glci_result_size(f->fw);
    glci_obs_t a[4] = {V("i1", 2024, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);
    s_ok(f, "beta", a, 4, T0 + 5);
    glci_result_t *at10 = s_result(f, "alpha", 2024);
    glci_obs_t rev[1] = {V("i1", 2024, 95)};
    s_ok(f, "alpha", rev, 1, T0 + 20);
    glci_result_t *at20 = s_result(f, "alpha", 2024);
    glci_obs_t ret[1] = {R("i3", 2024)};
    s_ok(f, "alpha", ret, 1, T0 + 30);
    glci_result_t *at30 = s_result(f, "alpha", 2024);

    glci_view_t *v = NULL;
    glci_snapshot_t s = {0};
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_asof(v, 2024, T0 - 1, &s), 0);
    assert_int_equal(s.n, 0);                          /* before anything arrived */
    glci_snapshot_release(&s);
    assert_int_equal(glci_view_asof(v, 2024, T0 + 1, &s), 0);
    assert_int_equal(s.n, 1);                          /* beta came later */
    assert_memory_equal(s_row(&s, "alpha"), at10, rs);
    glci_snapshot_release(&s);
    assert_int_equal(glci_view_asof(v, 2024, T0 + 25, &s), 0);
    assert_memory_equal(s_row(&s, "alpha"), at20, rs);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.n_ranked, 2);
    assert_string_equal(s.rows[0].city, "alpha");    /* 95 ranks above 40 */
    assert_int_equal(s.rows[0].rank, 1);
    glci_snapshot_release(&s);
    assert_int_equal(glci_view_asof(v, 2024, T0 + 30, &s), 0);
    assert_memory_equal(s_row(&s, "alpha"), at30, rs);   /* retraction at its time */
    glci_snapshot_release(&s);
    /* carried periods as of a time */
    assert_int_equal(glci_view_asof(v, 2026, T0 + 25, &s), 0);
    glci_result_t *c26 = s_result(f, "beta", 2026);
    assert_memory_equal(s_row(&s, "beta"), c26, rs);
    glci_snapshot_release(&s);
    glci_view_end(&v);
    free(at10);
    free(at20);
    free(at30);
    free(c26);
}

static void test_editions(void **state)
{
    fx_t *f = *state;
    size_t rs = glci_result_size(f->fw);
    char err[256];
    glci_obs_t a[4] = {V("i1", 2024, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);
    s_ok(f, "beta", a, 3, T0);
    glci_result_t *alpha = s_result(f, "alpha", 2024);

    glci_edition_spec_t spec = {.name = "glci-2024.1", .as_of = T0 + 100, .op = "root",
                                .sudo_user = "alice"};
    glci_edition_t e;
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 100, &e, err, sizeof err), 0);
    assert_int_equal(e.period, 2024);                 /* the default rule */
    assert_int_equal(e.n_rows, 2);
    assert_int_equal(e.n_ranked, 2);
    assert_string_equal(e.by, "root");
    assert_string_equal(e.sudo_user, "alice");
    assert_memory_equal(e.fw_hash, f->fw->hash, 32);

    /* written once: the same name again is refused, whatever it asks */
    spec.has_period = 1;
    spec.period = 2023;
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 200, NULL, err, sizeof err),
                     GLCI_STORE_EEXIST);
    assert_non_null(strstr(err, "edition 'glci-2024.1' exists already"));
    spec.name = "bad name";
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 200, NULL, err, sizeof err),
                     GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "edition name 'bad name' is not valid"));
    spec.name = "later";
    spec.as_of = T0 + 300;
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 200, NULL, err, sizeof err),
                     GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "is in the future"));
    spec.as_of = T0 + 200;
    spec.period = 2010;
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 200, NULL, err, sizeof err),
                     GLCI_STORE_ENODATA);
    assert_string_equal(err, "no data for period 2010 as of that time");
    /* a given period 0 is a year outside the framework, not "the default" */
    spec.period = 0;
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 200, NULL, err, sizeof err),
                     GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "period 0 is outside the framework's"));

    /* a write in the edition's second is recorded after it */
    glci_obs_t rev[1] = {V("i1", 2024, 99)};
    s_ok(f, "alpha", rev, 1, T0 + 100);
    hist_t h = s_history(f, "alpha", "i1");
    assert_int_equal(h.rows[1].received, T0 + 101);
    /* a city added after the edition is never in it, nor as of its time */
    assert_int_equal(glci_store_city_add(f->st, "zeta", "Z", "PT", NULL, err, sizeof err), 0);

    glci_view_t *v = NULL;
    glci_snapshot_t s = {0}, asof = {0};
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_edition(v, "glci-2024.1", &e), 0);
    assert_int_equal(glci_view_edition(v, "none", &e), GLCI_STORE_ENOENT);
    assert_int_equal(glci_view_edition_rows(v, "glci-2024.1", &s), 0);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s_row(&s, "alpha"), alpha, rs);   /* unchanged by the revision */
    assert_int_equal(glci_view_asof(v, 2024, T0 + 100, &asof), 0);
    assert_int_equal(asof.n, 2);
    for (size_t i = 0; i < s.n; i++) {
        assert_string_equal(s.rows[i].city, asof.rows[i].city);
        assert_int_equal(s.rows[i].rank, asof.rows[i].rank);
        assert_memory_equal(s.rows[i].result, asof.rows[i].result, rs);
    }
    glci_snapshot_release(&s);
    glci_snapshot_release(&asof);
    glci_view_end(&v);

    /* "now" in the same second: the store's now, which the revision
     * recorded after the first edition is not later than */
    glci_edition_spec_t now2 = {.name = "same-second", .as_of = T0 + 100, .as_of_now = 1,
                                .op = "root"};
    assert_int_equal(glci_store_edition_publish(f->st, &now2, T0 + 100, &e, err, sizeof err), 0);
    assert_int_equal(e.as_of, T0 + 101);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_edition_rows(v, "same-second", &s), 0);
    assert_true(glci_result_slot_c(f->fw, s_row(&s, "alpha"), 0)->value == 99);
    int64_t store_now = 0;
    assert_int_equal(glci_view_now(v, T0 + 100, &store_now), 0);
    assert_int_equal(store_now, T0 + 101);
    glci_snapshot_release(&s);
    glci_view_end(&v);
    s_verify_ok(f);
    free(alpha);
}

/* Sets meta/schema to n in txn (a big-endian u32, docs/STORE.md). */
static void s_set_schema(MDB_txn *txn, unsigned n)
{
    MDB_dbi dbi;
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    MDB_val k = {6, "schema"}, v = {4, b};
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

/* The store's environment opened with raw LMDB (the store closed), a
 * write transaction begun: for changing records behind the store's back. */
static void s_raw_begin(fx_t *f, MDB_env **env, MDB_txn **txn)
{
    glci_store_close(&f->st);
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_maxdbs(*env, 32), 0);
    assert_int_equal(mdb_env_open(*env, f->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
}

/* The same for the history file (schema 7: DIR/history, its hruns; the
 * state's environment may be open beside it). */
static void s_raw_hist_begin(fx_t *f, MDB_env **env, MDB_txn **txn, MDB_dbi *dbi)
{
    char hdir[600];
    glci_store_close(&f->st);
    snprintf(hdir, sizeof hdir, "%s/history", f->dir);
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_maxdbs(*env, 4), 0);
    assert_int_equal(mdb_env_open(*env, hdir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
    assert_int_equal(mdb_dbi_open(*txn, "hruns", 0, dbi), 0);
}

/* Removes the history file (a store older than schema 7 has none). */
static void s_hist_remove(fx_t *f)
{
    char path[600];
    snprintf(path, sizeof path, "%s/history/data.mdb", f->dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, "%s/history/lock.mdb", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/history", f->dir);
    assert_int_equal(rmdir(path), 0);
}

/* verify catches an edition row changed behind the store's back */
static void test_edition_tamper(void **state)
{
    fx_t *f = *state;
    char err[256];
    glci_obs_t a[4] = {V("i1", 2024, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);
    glci_edition_spec_t spec = {.name = "e1", .has_period = 1, .period = 2024, .as_of = T0 + 1,
                                .op = "op"};
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 1, NULL, err, sizeof err), 0);
    s_verify_ok(f);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, d;
    s_raw_begin(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "edition_rows", 0, &dbi), 0);
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    assert_int_equal(mdb_cursor_get(cur, &k, &d, MDB_FIRST), 0);
    unsigned char *copy = malloc(d.mv_size);
    memcpy(copy, d.mv_data, d.mv_size);
    glci_result_t head;
    memcpy(&head, copy + 8, sizeof head);
    char want[160], x[40], y[40];
    glci_format_double(nextafter(head.index, 200.0), x, sizeof x);
    glci_format_double(head.index, y, sizeof y);
    snprintf(want, sizeof want, "(index %s, recomputed %s)", x, y);
    head.index = nextafter(head.index, 200.0);          /* one ulp */
    memcpy(copy + 8, &head, sizeof head);
    MDB_val nd = {d.mv_size, copy};
    assert_int_equal(mdb_cursor_put(cur, &k, &nd, MDB_CURRENT), 0);
    mdb_cursor_close(cur);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(copy);

    s_open(f, 0);
    uint64_t n = 0;
    char line[512] = "";
    assert_int_equal(glci_store_verify(f->st, s_diff_keep, line, &n), GLCI_STORE_EVERIFY);
    assert_int_equal(n, 1);
    /* the line names the field that differs, both values exact */
    if (!strstr(line, "edition e1: alpha differs from the recomputation as of ") ||
        !strstr(line, want))
        fail_msg("wanted '%s' in: %s", want, line);
}

/* The editions in publication order (glci_edition_cmp), names joined. */
typedef struct {
    glci_edition_t e[8];
    size_t n;
} ed_list_t;

static int s_ed_add(void *ctx, const glci_edition_t *e)
{
    ed_list_t *l = ctx;
    assert_true(l->n < 8);
    l->e[l->n++] = *e;
    return 0;
}

static void s_ed_order(fx_t *f, char *out, size_t len)
{
    ed_list_t l = {.n = 0};
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_editions(v, s_ed_add, &l), 0);
    glci_view_end(&v);
    qsort(l.e, l.n, sizeof *l.e, glci_edition_cmp);
    out[0] = '\0';
    for (size_t i = 0; i < l.n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s:%llu", i ? " " : "", l.e[i].name,
                 (unsigned long long)l.e[i].seq);
}

/* Editions list in the order they were published (their publication
 * numbers), not by name within a second and not by a wall clock stepped
 * back between two publications. The record stays as the first release
 * wrote it (its binaries read a store published in by this one): the
 * number is beside it, in meta. A store's editions without a number
 * (written before the store numbered them) still read, ahead of the
 * numbered ones, by time and then name; a record that ends in its number
 * (as a few development builds wrote it) reads too; verify stays clean. */
static void test_edition_order(void **state)
{
    fx_t *f = *state;
    char err[256], order[256];
    glci_obs_t a[4] = {V("i1", 2024, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);
    const char *names[] = {"zz1", "aa1", "mm1"};
    for (int i = 0; i < 3; i++) {
        glci_edition_spec_t spec = {.name = names[i], .has_period = 1, .period = 2024,
                                    .as_of = T0 + 1, .op = "op"};
        glci_edition_t e;
        assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 100, &e, err,
                                                    sizeof err), 0);
        assert_int_equal(e.seq, (uint64_t)i + 1);
    }
    s_ed_order(f, order, sizeof order);
    assert_string_equal(order, "zz1:1 aa1:2 mm1:3");

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi, meta;
    s_raw_begin(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "editions", 0, &dbi), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    for (int i = 0; i < 3; i++) {
        MDB_val k = {strlen(names[i]), (void *)names[i]}, d;
        assert_int_equal(mdb_get(txn, dbi, &k, &d), 0);
        /* the first release's layout: the strings "op" and "" end it */
        assert_true(d.mv_size > 4);
        assert_memory_equal((const char *)d.mv_data + d.mv_size - 4, "op\0\0", 4);
        char key[64];
        snprintf(key, sizeof key, "edition_seq/%s", names[i]);
        MDB_val mk = {strlen(key), key};
        if (i != 1) {
            /* zz1 and mm1 as an older store holds them: no number at all */
            assert_int_equal(mdb_del(txn, meta, &mk, NULL), 0);
            continue;
        }
        /* aa1 as a development build wrote it: the number ends the record */
        unsigned char copy[512];
        assert_true(d.mv_size + 8 <= sizeof copy);
        memcpy(copy, d.mv_data, d.mv_size);
        memset(copy + d.mv_size, 0, 8);
        copy[d.mv_size + 7] = 2;
        MDB_val nd = {d.mv_size + 8, copy};
        assert_int_equal(mdb_put(txn, dbi, &k, &nd, 0), 0);
        assert_int_equal(mdb_del(txn, meta, &mk, NULL), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    s_open(f, 0);
    s_ed_order(f, order, sizeof order);
    assert_string_equal(order, "mm1:0 zz1:0 aa1:2");
    s_verify_ok(f);
    /* the next edition takes the next number, and keeps its place after
     * the others though the clock was stepped back before it */
    glci_edition_spec_t spec = {.name = "bb1", .has_period = 1, .period = 2024,
                                .as_of = T0 + 1, .op = "op"};
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 50, NULL, err, sizeof err),
                     0);
    spec.name = "cc1";
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 20, NULL, err, sizeof err),
                     0);
    s_ed_order(f, order, sizeof order);
    assert_string_equal(order, "mm1:0 zz1:0 aa1:2 bb1:4 cc1:5");
    s_verify_ok(f);
}

/* ---- history as runs (schema 5) ------------------------------------------------- */

/* A schema-5 history record is a run: n (u32), the end of each entry from
 * the value's start (u32 each), then the entries (docs/STORE.md). */
static uint32_t s_u32_at(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A schema-6 run record of hruns: prev u64, first u64 (native), the
 * city's id and NUL, then the run (docs/STORE.md). */
#define S_HRUN_HEAD 16u

/* The city record of schemas 2 to 5: the schema-6 one without hist_last. */
#define S_CITYREC_V6 200u
#define S_CITYREC_V5 192u

static uint64_t s_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int b = 0; b < 8; b++)
        v = v << 8 | p[b];
    return v;
}

/* Cuts every city record of the cities database to its first keep bytes,
 * the form an older schema wrote (each record is read before any is
 * written: a put may move the page a cursor's key points into). */
static void s_cities_trim(MDB_txn *txn, MDB_dbi cities, size_t keep)
{
    MDB_cursor *cur;
    MDB_val k, d;
    char ids[16][64];
    unsigned char recs[16][256];
    size_t n = 0;
    assert_int_equal(mdb_cursor_open(txn, cities, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        assert_true(d.mv_size > keep && keep <= sizeof recs[0] && n < 16 && k.mv_size < 64);
        memcpy(ids[n], k.mv_data, k.mv_size);
        ids[n][k.mv_size] = 0;
        memcpy(recs[n++], d.mv_data, keep);
    }
    mdb_cursor_close(cur);
    for (size_t i = 0; i < n; i++) {
        MDB_val ck = {strlen(ids[i]), ids[i]}, cv = {keep, recs[i]};
        assert_int_equal(mdb_put(txn, cities, &ck, &cv, 0), 0);
    }
}

/* Rewrites the history as schema 5 kept it: each run in history under
 * cityz | its first number (taken from the history file, which is
 * removed), no hruns database, city records without hist_last. txn: the
 * state's. */
static void s_make_v5_history(fx_t *f, MDB_txn *txn)
{
    MDB_dbi from, to, cities, state_hruns;
    MDB_cursor *cur;
    MDB_val k, d;
    MDB_env *henv;
    MDB_txn *htxn;
    s_raw_hist_begin(f, &henv, &htxn, &from);
    assert_int_equal(mdb_dbi_open(txn, "history", 0, &to), 0);
    assert_int_equal(mdb_dbi_open(txn, "cities", 0, &cities), 0);
    assert_int_equal(mdb_cursor_open(htxn, from, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *p = d.mv_data;
        assert_true(k.mv_size == 8 && d.mv_size > S_HRUN_HEAD + 2);
        uint64_t first;
        memcpy(&first, p + 8, 8);
        size_t clen = strlen((const char *)p + S_HRUN_HEAD);
        unsigned char key[80];
        assert_true(clen + 9 <= sizeof key);
        memcpy(key, p + S_HRUN_HEAD, clen + 1);
        for (int b = 0; b < 8; b++)
            key[clen + 1 + b] = (unsigned char)(first >> (8 * (7 - b)));
        MDB_val nk = {clen + 9, key},
                nd = {d.mv_size - S_HRUN_HEAD - clen - 1, (void *)(p + S_HRUN_HEAD + clen + 1)};
        assert_int_equal(mdb_put(txn, to, &nk, &nd, MDB_NOOVERWRITE), 0);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(htxn);
    mdb_env_close(henv);
    s_hist_remove(f);
    assert_int_equal(mdb_dbi_open(txn, "hruns", 0, &state_hruns), 0);
    assert_int_equal(mdb_drop(txn, state_hruns, 1), 0);
    s_cities_trim(txn, cities, S_CITYREC_V5);
}

/* Makes the history as schema 6 kept it: the history file's runs in the
 * state's hruns (txn: the state's), no meta hist_runs. keep: the history
 * file stays, as an upgrade a crash interrupted leaves it, with a run its
 * copy would not hold (number 1 made another city's, one past the last);
 * else it is removed. */
static void s_make_v6_history(fx_t *f, MDB_txn *txn, int keep)
{
    MDB_dbi from, to, meta;
    MDB_cursor *cur;
    MDB_val k, d;
    MDB_env *henv;
    MDB_txn *htxn;
    uint64_t last = 0;
    s_raw_hist_begin(f, &henv, &htxn, &from);
    assert_int_equal(mdb_dbi_open(txn, "hruns", 0, &to), 0);
    assert_int_equal(mdb_cursor_open(htxn, from, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        assert_int_equal(mdb_put(txn, to, &k, &d, MDB_APPEND), 0);
        last = s_be64(k.mv_data);
    }
    mdb_cursor_close(cur);
    assert_true(last > 1);
    if (keep) {
        unsigned char junk[40] = {0}, key[8];
        memcpy(junk + S_HRUN_HEAD, "zzz", 4);
        for (int pass = 0; pass < 2; pass++) {
            uint64_t no = pass == 0 ? 1 : last + 1;
            for (int b = 0; b < 8; b++)
                key[7 - b] = (unsigned char)(no >> (8 * b));
            MDB_val jk = {8, key}, jd = {sizeof junk, junk};
            assert_int_equal(mdb_put(htxn, from, &jk, &jd, 0), 0);
        }
        assert_int_equal(mdb_txn_commit(htxn), 0);
    } else {
        mdb_txn_abort(htxn);
    }
    mdb_env_close(henv);
    if (!keep)
        s_hist_remove(f);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val mk = {9, "hist_runs"};
    assert_int_equal(mdb_del(txn, meta, &mk, NULL), 0);
}

/* Rewrites history as schemas 1 to 4 wrote it: one record per entry,
 * keyed by its own number. */
static void s_make_single_history(fx_t *f, MDB_txn *txn)
{
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, d;
    size_t n = 0, cap = 0;
    struct {
        unsigned char key[80];
        size_t klen;
        unsigned char *val;
        size_t vlen;
    } *e = NULL;
    s_make_v5_history(f, txn);
    assert_int_equal(mdb_dbi_open(txn, "history", 0, &dbi), 0);
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *p = d.mv_data;
        uint32_t cnt = s_u32_at(p);
        size_t at = 4 + 4 * (size_t)cnt;
        assert_true(k.mv_size <= 80 && k.mv_size > 8 && cnt > 0);
        uint64_t first = 0;
        for (size_t b = k.mv_size - 8; b < k.mv_size; b++)
            first = first << 8 | ((const unsigned char *)k.mv_data)[b];
        for (uint32_t i = 0; i < cnt; i++) {
            size_t end = s_u32_at(p + 4 + 4 * (size_t)i);
            assert_true(end > at && end <= d.mv_size);
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                e = realloc(e, cap * sizeof *e);
                assert_non_null(e);
            }
            memcpy(e[n].key, k.mv_data, k.mv_size);
            e[n].klen = k.mv_size;
            for (size_t b = 0; b < 8; b++)
                e[n].key[k.mv_size - 1 - b] = (unsigned char)((first + i) >> (8 * b));
            e[n].vlen = end - at;
            e[n].val = malloc(e[n].vlen);
            memcpy(e[n].val, p + at, e[n].vlen);
            n++;
            at = end;
        }
    }
    mdb_cursor_close(cur);
    assert_int_equal(mdb_drop(txn, dbi, 0), 0);
    for (size_t i = 0; i < n; i++) {
        MDB_val nk = {e[i].klen, e[i].key}, nd = {e[i].vlen, e[i].val};
        assert_int_equal(mdb_put(txn, dbi, &nk, &nd, 0), 0);
        free(e[i].val);
    }
    free(e);
}

/* The run sizes of city's history records (schema 6: its runs in hruns,
 * in the order written), into counts (at most max); returns how many
 * records; *largest: the largest run. */
static size_t s_runs(fx_t *f, const char *city, uint32_t *counts, size_t max, size_t *largest)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, d;
    size_t plen = strlen(city) + 1, n = 0;
    s_raw_hist_begin(f, &env, &txn, &dbi);
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    *largest = 0;
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *p = d.mv_data;
        if (d.mv_size < S_HRUN_HEAD + plen || memcmp(p + S_HRUN_HEAD, city, plen) != 0)
            continue;
        assert_true(n < max);
        counts[n++] = s_u32_at(p + S_HRUN_HEAD + plen);
        if (d.mv_size - S_HRUN_HEAD - plen > *largest)
            *largest = d.mv_size - S_HRUN_HEAD - plen;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    s_open(f, 0);
    return n;
}

/* Every history row of every city and indicator, as text. */
static int s_hist_print(void *ctx, const glci_history_row_t *r)
{
    fprintf(ctx, "%lld %a %lld %lld [%s] %llu/%llu r%d o%d c%d %s|%s|%s\n",
            (long long)r->period, r->value, (long long)r->received, (long long)r->observed_at,
            r->source ? r->source : "", (unsigned long long)r->stream,
            (unsigned long long)r->seq, r->retracted, r->by_operator, r->current, r->op,
            r->sudo_user, r->reason);
    return 0;
}

/* Every history row of one city, as text. */
static char *s_city_history_text(fx_t *f, const char *city)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    for (uint32_t i = 0; i < f->fw->n_ind; i++)
        assert_int_equal(glci_view_history(v, city, f->fw->ind[i].id, s_hist_print, fp), 0);
    glci_view_end(&v);
    fclose(fp);
    return text;
}

static char *s_history_text(fx_t *f)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    for (size_t c = 0; c < 4; c++)
        for (uint32_t i = 0; i < f->fw->n_ind; i++) {
            fprintf(fp, "%s %s\n", s_cities[c], f->fw->ind[i].id);
            assert_int_equal(glci_view_history(v, s_cities[c], f->fw->ind[i].id, s_hist_print,
                                               fp), 0);
        }
    glci_view_end(&v);
    fclose(fp);
    return text;
}

/* The as-of results of period P at t of every city, as one buffer. */
static unsigned char *s_asof_bytes(fx_t *f, int32_t P, int64_t t, size_t *len)
{
    glci_view_t *v = NULL;
    glci_snapshot_t snap = {0};
    size_t rs = glci_result_size(f->fw);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_asof(v, P, t, &snap), 0);
    unsigned char *b = calloc(snap.n + 1, rs + GLCI_CITY_ID_MAX + 1);
    for (size_t i = 0; i < snap.n; i++) {
        memcpy(b + i * (rs + GLCI_CITY_ID_MAX + 1), snap.rows[i].city, GLCI_CITY_ID_MAX + 1);
        memcpy(b + i * (rs + GLCI_CITY_ID_MAX + 1) + GLCI_CITY_ID_MAX + 1, snap.rows[i].result,
               rs);
    }
    *len = snap.n * (rs + GLCI_CITY_ID_MAX + 1);
    glci_snapshot_release(&snap);
    glci_view_end(&v);
    return b;
}

/* n values of city, each (indicator, period) revised k times over, with
 * sources of srclen bytes (0: none). */
static void s_many(fx_t *f, const char *city, size_t n, size_t srclen, int64_t now)
{
    static char src[256];
    memset(src, 's', sizeof src - 1);
    src[srclen < sizeof src ? srclen : sizeof src - 1] = 0;
    glci_obs_t *o = calloc(n, sizeof *o);
    for (size_t i = 0; i < n; i++) {
        o[i] = V(f->fw->ind[i % 4].id, 2000 + (int64_t)(i / 4 % 25), (double)(i / 4 % 2));
        o[i].source = srclen ? src : NULL;
    }
    s_ok(f, city, o, n, now);
    free(o);
}

static size_t s_count_rows(fx_t *f, const char *city, const char *ind, size_t *current)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    FILE *fp = open_memstream(&text, &len);
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_history(v, city, ind, s_hist_print, fp), 0);
    glci_view_end(&v);
    fclose(fp);
    *current = 0;
    for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
        n++;
        if (strstr(l, " c1 ") && strchr(l, '\n') > strstr(l, " c1 "))
            (*current)++;
    }
    free(text);
    return n;
}

/* One transaction's values of a city are one record per run: split at
 * S_HIST_RUN_MAX (512) entries and at 64 KiB, each entry found again by
 * number (verify looks each current value up, most of them inside a run),
 * with a retraction inside a run. */
static void test_history_runs(void **state)
{
    fx_t *f = *state;
    uint32_t counts[16];
    size_t largest, current;
    s_many(f, "alpha", 1200, 0, T0);
    assert_int_equal(s_runs(f, "alpha", counts, 16, &largest), 3);
    assert_int_equal(counts[0], 512);
    assert_int_equal(counts[1], 512);
    assert_int_equal(counts[2], 176);
    /* 300 values of i1 over 25 periods: 12 revisions each, the last current */
    assert_int_equal(s_count_rows(f, "alpha", "i1", &current), 300);
    assert_int_equal(current, 25);
    s_verify_ok(f);

    /* sources of 200 bytes: 257 bytes an entry, so the byte bound splits */
    s_many(f, "beta", 400, 200, T0);
    size_t nr = s_runs(f, "beta", counts, 16, &largest);
    assert_int_equal(nr, 2);
    assert_true(largest <= 65536 && largest > 60000);
    assert_int_equal(counts[0] + counts[1], 400);
    s_verify_ok(f);

    /* a retraction among values: one run of 5 */
    glci_obs_t r[5] = {V("i1", 2020, 5), V("i2", 2020, 6), R("i1", 2020), V("i3", 2020, 7),
                       V("i1", 2021, 8)};
    s_ok(f, "gamma", r, 5, T0 + 1);
    assert_int_equal(s_runs(f, "gamma", counts, 16, &largest), 1);
    assert_int_equal(counts[0], 5);
    hist_t h = s_history(f, "gamma", "i1");
    assert_int_equal(h.n, 3);
    assert_true(h.rows[1].retracted && !h.rows[0].current && h.rows[2].current);
    s_verify_ok(f);
}

/* The lines verify reports, joined. */
static void s_diff_join(void *ctx, const char *d)
{
    size_t n = strlen(ctx);
    snprintf((char *)ctx + n, 4096 - n, "%s\n", d);
}

static uint64_t s_verify_lines(fx_t *f, char *lines)
{
    uint64_t n = 0;
    lines[0] = 0;
    int rc = glci_store_verify(f->st, s_diff_join, lines, &n);
    assert_int_equal(rc, n ? GLCI_STORE_EVERIFY : 0);
    return n;
}

/* Sets run `no` of hruns to v (n bytes) behind the store's back, or
 * deletes it (v NULL), and reopens the store read-only. */
static void s_hrun_set(fx_t *f, uint64_t no, const void *v, size_t n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char key[8];
    for (int b = 0; b < 8; b++)
        key[7 - b] = (unsigned char)(no >> (8 * b));
    MDB_val k = {8, key}, d = {n, (void *)v};
    s_raw_hist_begin(f, &env, &txn, &dbi);
    if (v)
        assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
    else
        assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    s_open(f, GLCI_STORE_RDONLY);
}

/* A copy of run `no` of hruns (*n bytes), or NULL when there is none. */
static unsigned char *s_hrun_get(fx_t *f, uint64_t no, size_t *n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char key[8], *copy = NULL;
    for (int b = 0; b < 8; b++)
        key[7 - b] = (unsigned char)(no >> (8 * b));
    MDB_val k = {8, key}, d;
    s_raw_hist_begin(f, &env, &txn, &dbi);
    if (mdb_get(txn, dbi, &k, &d) == 0) {
        assert_int_equal(s_be64(k.mv_data), no);
        copy = malloc(d.mv_size);
        memcpy(copy, d.mv_data, d.mv_size);
        *n = d.mv_size;
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    s_open(f, GLCI_STORE_RDONLY);
    return copy;
}

/* Runs are checked entry by entry: verify finds an entry changed in the
 * middle of a run, a run's head that does not parse, a run gone, a run
 * under another number, and a city's chain that leads to another city's
 * run or back into itself. */
static void test_history_runs_tamper(void **state)
{
    fx_t *f = *state;
    char lines[4096];
    glci_obs_t o[20];
    for (size_t i = 0; i < 20; i++)
        o[i] = V(f->fw->ind[i % 4].id, 2000 + (int64_t)(i / 4), i % 4 == 3 ? 1.0 : (double)i);
    s_ok(f, "alpha", o, 20, T0);
    s_verify_ok(f);

    /* alpha's one run is run 1: head, "alpha" NUL, then the run */
    size_t vlen;
    unsigned char *save = s_hrun_get(f, 1, &vlen), *bad = malloc(vlen);
    const size_t at = S_HRUN_HEAD + 6;
    assert_non_null(save);
    assert_string_equal((const char *)save + S_HRUN_HEAD, "alpha");
    assert_int_equal(s_u32_at(save + at), 20);

    /* entry 10's value (i3 of 2002): where entry 9 ends, at offset 8 */
    memcpy(bad, save, vlen);
    size_t at10 = at + s_u32_at(save + at + 4 + 4 * 9);
    double x;
    memcpy(&x, bad + at10 + 8, sizeof x);
    assert_true(x == 10.0);
    x = nextafter(x, 100);
    memcpy(bad + at10 + 8, &x, sizeof x);
    s_hrun_set(f, 1, bad, vlen);
    assert_int_equal(s_verify_lines(f, lines), 1);
    assert_non_null(strstr(lines, "alpha: current value of i3 period 2002 differs from its history entry"));

    /* the head's count says more entries than the value holds */
    memcpy(bad, save, vlen);
    uint32_t n21 = 21;
    memcpy(bad + at, &n21, 4);
    s_hrun_set(f, 1, bad, vlen);
    assert_true(s_verify_lines(f, lines) > 0);
    assert_non_null(strstr(lines, "alpha: a history record does not decode"));

    /* the run gone */
    s_hrun_set(f, 1, NULL, 0);
    assert_true(s_verify_lines(f, lines) > 0);
    assert_non_null(strstr(lines, "alpha: a history record does not decode"));
    assert_non_null(strstr(lines, "alpha: current value of i1 period 2000 has no history entry"));
    assert_non_null(strstr(lines, "history entries but the city counts 20 observations"));

    /* under number 1: every entry found one number off */
    memcpy(bad, save, vlen);
    uint64_t one = 1;
    memcpy(bad + 8, &one, 8);
    s_hrun_set(f, 1, bad, vlen);
    assert_true(s_verify_lines(f, lines) > 0);
    assert_non_null(strstr(lines, "alpha: history entry 1 where entry 0 belongs"));
    assert_non_null(strstr(lines, "alpha: current value of i1 period 2000 has no history entry"));
    assert_non_null(strstr(lines, "alpha: current value of i2 period 2000 differs from its history entry"));

    /* another city's name in alpha's run: not alpha's */
    memcpy(bad, save, vlen);
    bad[S_HRUN_HEAD] = 'A';
    s_hrun_set(f, 1, bad, vlen);
    assert_true(s_verify_lines(f, lines) > 0);
    assert_non_null(strstr(lines, "alpha: a history record does not decode"));
    assert_non_null(strstr(lines, "alpha: current value of i1 period 2000 has no history entry"));

    /* a run naming itself as the one before: the chain ends there */
    memcpy(bad, save, vlen);
    memcpy(bad, &one, 8);
    s_hrun_set(f, 1, bad, vlen);
    assert_true(s_verify_lines(f, lines) > 0);
    assert_non_null(strstr(lines, "alpha: a history record does not decode"));

    /* put back: verify passes again */
    s_hrun_set(f, 1, save, vlen);
    s_verify_ok(f);
    free(bad);
    free(save);
}

/* While another process holds the collector's lock on an older store (a
 * collector of its schema runs), a writable open refuses to upgrade it,
 * saying why, and leaves it as it was; once the lock is gone it opens. */
static void s_upgrade_refused_beside_collector(fx_t *f)
{
    char path[160], err[256];
    int go[2], ready[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ready), 0);
    snprintf(path, sizeof path, "%s/collector.lock", f->dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_RDWR | O_CREAT, 0600);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        char c = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    glci_store_opts_t o = {.flags = 0};
    glci_store_t *st = NULL;
    assert_int_equal(glci_store_open(f->dir, &o, &st, err, sizeof err), GLCI_STORE_EBUSY);
    assert_null(st);
    char want[160];
    snprintf(want, sizeof want, "a collector (pid %ld) runs on this schema-5 store: stop it",
             (long)pid);
    assert_non_null(strstr(err, want));
    /* read-only opens are not refused, and see the old schema */
    s_open(f, GLCI_STORE_RDONLY);
    glci_store_status_t s;
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 5);
    glci_view_end(&v);
    glci_store_close(&f->st);
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]);
    close(go[1]);
    close(ready[0]);
    close(ready[1]);
}

/* Puts v (n bytes) as run `no` of the history file behind the store's
 * back, and opens the store for writing again. */
static void s_hrun_put(fx_t *f, uint64_t no, const void *v, size_t n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char key[8];
    for (int b = 0; b < 8; b++)
        key[7 - b] = (unsigned char)(no >> (8 * b));
    MDB_val k = {8, key}, d = {n, (void *)v};
    s_raw_hist_begin(f, &env, &txn, &dbi);
    assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    s_open(f, 0);
}

/* Makes the store (closed) one of schema 6, its history file removed. */
static void s_to_schema6(fx_t *f)
{
    MDB_env *env;
    MDB_txn *txn;
    s_raw_begin(f, &env, &txn);
    s_make_v6_history(f, txn, 0);
    s_set_schema(txn, 6);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* Two writable opens of one schema-6 store at once (two glci commands):
 * both may find schema 6, and the second to write its upgrade must see
 * the first's in its transaction and leave the history alone, not empty
 * the history file and fill it from the state's hruns, empty by then.
 * Several rounds, each two processes released together. */
static void test_schema6_upgraded_twice_at_once(void **state)
{
    fx_t *f = *state;
    glci_obs_t a[3] = {V("i1", 2023, 40), V("i2", 2024, 10), V("i3", 2024, 60)};
    s_ok(f, "alpha", a, 3, T0);
    s_ok(f, "beta", a, 2, T0);
    s_ok(f, "alpha", a, 1, T0 + 1);
    char *text = s_history_text(f);
    for (int round = 0; round < 6; round++) {
        s_to_schema6(f);
        int gate[2];
        assert_int_equal(pipe(gate), 0);
        pid_t kids[2];
        for (int k = 0; k < 2; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                char b, err[512];
                close(gate[1]);
                (void)read(gate[0], &b, 1);
                glci_store_t *st = NULL;
                glci_store_opts_t o = {0};
                int rc = glci_store_open(f->dir, &o, &st, err, sizeof err);
                if (rc != 0)
                    fprintf(stderr, "open in child %d: %s\n", k, err);
                glci_store_close(&st);
                _exit(rc == 0 ? 0 : 1);
            }
        }
        close(gate[0]);
        close(gate[1]);       /* both go */
        for (int k = 0; k < 2; k++) {
            int status;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        s_open(f, GLCI_STORE_RDONLY);
        glci_store_status_t st;
        glci_view_t *v = NULL;
        assert_int_equal(glci_view_begin(f->st, &v), 0);
        assert_int_equal(glci_view_status(v, &st), 0);
        assert_int_equal(st.schema, 7);
        glci_view_end(&v);
        char *now = s_history_text(f);
        assert_string_equal(now, text);
        free(now);
        s_verify_ok(f);
        glci_store_close(&f->st);
    }
    free(text);
}

/* A read-only handle of a schema-6 store whose store a writable open has
 * since upgraded does not back it up as one file (its history moved out
 * of it): ESCHEMA, saying to run it again; a fresh handle's backup holds
 * both files and verifies. */
static void test_schema6_backup_after_upgrade(void **state)
{
    fx_t *f = *state;
    char err[512];
    glci_obs_t a[2] = {V("i1", 2023, 40), V("i2", 2024, 10)};
    s_ok(f, "alpha", a, 2, T0);
    s_ok(f, "beta", a, 2, T0);
    s_to_schema6(f);
    s_open(f, GLCI_STORE_RDONLY);
    glci_store_t *w = NULL;
    glci_store_opts_t o = {0};
    assert_int_equal(glci_store_open(f->dir, &o, &w, err, sizeof err), 0);
    assert_int_equal(glci_store_schema(w), 7);
    char dest[600];
    snprintf(dest, sizeof dest, "%s-b1", f->dir);
    assert_int_equal(glci_store_backup(f->st, dest, err, sizeof err), GLCI_STORE_ESCHEMA);
    char want[800];
    snprintf(want, sizeof want, "%s: the store was upgraded to schema 7 while open; run the "
             "backup again", f->dir);
    assert_string_equal(err, want);
    snprintf(dest, sizeof dest, "%s-b2", f->dir);
    assert_int_equal(glci_store_backup(w, dest, err, sizeof err), 0);
    char hdata[700];
    struct stat sb;
    snprintf(hdata, sizeof hdata, "%s/history/data.mdb", dest);
    assert_int_equal(stat(hdata, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    glci_store_close(&w);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s-b1' '%s-b2'", f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
}

/* Schema 7: the history file's commit comes first, the state's second. A
 * crash between the two leaves runs in the history file that no city
 * record names, above meta hist_runs: the store reads and verifies as if
 * they were not there, and the next ingest writes its runs over them
 * (none is left above its own). A city record naming a run above
 * hist_runs is a difference verify reports; a missing history file is
 * refused by a writable and a read-only open alike, by name. */
static void test_history_file(void **state)
{
    fx_t *f = *state;
    char err[512], lines[4096];
    glci_obs_t a[4] = {V("i1", 2023, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);                 /* run 1 */
    char *alpha = s_city_history_text(f, "alpha");
    unsigned char junk[40] = {0};
    memcpy(junk + S_HRUN_HEAD, "zzz", 4);
    s_hrun_put(f, 2, junk, sizeof junk);
    s_hrun_put(f, 3, junk, sizeof junk);
    s_hrun_put(f, 7, junk, sizeof junk);
    s_verify_ok(f);
    char *now = s_city_history_text(f, "alpha");
    assert_string_equal(now, alpha);
    free(now);

    s_ok(f, "beta", a, 3, T0 + 1);              /* run 2, over the junk */
    size_t n;
    unsigned char *r = s_hrun_get(f, 2, &n);
    assert_non_null(r);
    assert_string_equal((const char *)r + S_HRUN_HEAD, "beta");
    free(r);
    assert_null(s_hrun_get(f, 3, &n));
    assert_null(s_hrun_get(f, 7, &n));
    s_open(f, 0);
    s_ok(f, "alpha", a + 1, 2, T0 + 2);         /* run 3 */
    r = s_hrun_get(f, 3, &n);
    assert_non_null(r);
    assert_string_equal((const char *)r + S_HRUN_HEAD, "alpha");
    free(r);
    s_verify_ok(f);
    hist_t h = s_history(f, "alpha", "i2");
    assert_int_equal(h.n, 2);
    h = s_history(f, "beta", "i3");
    assert_int_equal(h.n, 1);

    /* meta hist_runs behind a city's newest run */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    s_raw_begin(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    unsigned char one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    MDB_val mk = {9, "hist_runs"}, mv;
    assert_int_equal(mdb_get(txn, meta, &mk, &mv), 0);
    unsigned char save[8];
    assert_int_equal(mv.mv_size, 8);
    memcpy(save, mv.mv_data, 8);
    assert_int_equal(save[7], 3);
    mv = (MDB_val){8, one};
    assert_int_equal(mdb_put(txn, meta, &mk, &mv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    s_open(f, GLCI_STORE_RDONLY);
    assert_int_equal(s_verify_lines(f, lines), 2);
    assert_non_null(strstr(lines, "alpha: its newest history run 3 is above the store's newest (1)"));
    assert_non_null(strstr(lines, "beta: its newest history run 2 is above the store's newest (1)"));
    s_raw_begin(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    mv = (MDB_val){8, save};
    assert_int_equal(mdb_put(txn, meta, &mk, &mv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    /* modes others could use: the history folder and files are tightened
     * as the store's are */
    char hdir[600], hdata[700], notes[4096] = "";
    struct stat sb;
    glci_store_close(&f->st);
    snprintf(hdir, sizeof hdir, "%s/history", f->dir);
    snprintf(hdata, sizeof hdata, "%s/history/data.mdb", f->dir);
    assert_int_equal(chmod(hdir, 0777), 0);
    assert_int_equal(chmod(hdata, 0644), 0);
    assert_int_equal(glci_store_tighten(f->dir, s_diff_join, notes), 0);
    assert_int_equal(stat(hdir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0755);
    assert_int_equal(stat(hdata, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    char want[800];
    snprintf(want, sizeof want, "store: %s was mode 0777; made it 0755", hdir);
    assert_non_null(strstr(notes, want));
    snprintf(want, sizeof want, "store: %s was mode 0644; made it 0600", hdata);
    assert_non_null(strstr(notes, want));
    assert_int_equal(chmod(hdir, 0700), 0);
    s_open(f, 0);

    /* the history file missing */
    char from[600], to[600];
    snprintf(from, sizeof from, "%s/history", f->dir);
    snprintf(to, sizeof to, "%s/history.away", f->dir);
    assert_int_equal(rename(from, to), 0);
    for (int ro = 0; ro < 2; ro++) {
        glci_store_opts_t o = {.flags = ro ? GLCI_STORE_RDONLY : 0};
        glci_store_t *st = NULL;
        assert_int_equal(glci_store_open(f->dir, &o, &st, err, sizeof err),
                         GLCI_STORE_ECORRUPT);
        assert_null(st);
        snprintf(want, sizeof want, "%s: the store's history file %s/data.mdb is missing",
                 f->dir, from);
        assert_string_equal(err, want);
    }
    /* not made anew by a writable open: that would lose the history */
    assert_int_equal(stat(from, &sb), -1);
    assert_int_equal(rename(to, from), 0);
    s_open(f, 0);
    s_verify_ok(f);
    free(alpha);
}

/* A schema-4 store (one record per entry) or a schema-5 one (runs under
 * cityz | number) is read as it is read-only and moved into hruns as
 * chained runs by a writable open: every history row, verify and the
 * as-of answers are the same before and after, an operator's correction
 * and a retraction end up inside runs, and ingest goes on. */
static void s_old_history_store(fx_t *f, unsigned schema)
{
    char err[256];
    glci_obs_t a[4] = {V("i1", 2023, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    glci_obs_t b[3] = {V("i1", 2024, 45), R("i3", 2024), V("i3", 2023, 50)};
    s_ok(f, "alpha", a, 4, T0);
    s_ok(f, "beta", a, 3, T0);
    s_ok(f, "alpha", b, 3, T0 + 10);
    glci_correction_t c = {.city = "alpha", .indicator = "i2", .period = 2024, .value = 12,
                           .op = "root", .sudo_user = "alice", .reason = "typo in the form"};
    assert_int_equal(glci_store_correct(f->st, &c, T0 + 20, NULL, err, sizeof err), 0);
    s_ok(f, "alpha", a, 2, T0 + 30);
    s_many(f, "gamma", 700, 10, T0 + 30);
    glci_edition_spec_t spec = {.name = "e1", .as_of = T0 + 15, .op = "op"};
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 40, NULL, err, sizeof err), 0);
    s_verify_ok(f);
    char *text = s_history_text(f);
    int64_t times[4] = {T0, T0 + 10, T0 + 20, T0 + 30};
    unsigned char *asof[4];
    size_t asof_len[4];
    for (int i = 0; i < 4; i++)
        asof[i] = s_asof_bytes(f, 2024, times[i], &asof_len[i]);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    s_raw_begin(f, &env, &txn);
    if (schema == 4)
        s_make_single_history(f, txn);
    else if (schema == 5)
        s_make_v5_history(f, txn);
    else
        s_make_v6_history(f, txn, schema == 66);
    s_set_schema(txn, schema == 66 ? 6 : schema);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    if (schema == 5)
        s_upgrade_refused_beside_collector(f);
    glci_store_status_t s;
    glci_view_t *v = NULL;
    for (int pass = 0; pass < 2; pass++) {
        s_open(f, pass == 0 ? GLCI_STORE_RDONLY : 0);
        assert_int_equal(glci_view_begin(f->st, &v), 0);
        assert_int_equal(glci_view_status(v, &s), 0);
        assert_int_equal(s.schema, pass == 0 ? (schema == 66 ? 6 : schema) : 7);
        glci_view_end(&v);
        char *now = s_history_text(f);
        assert_string_equal(now, text);
        free(now);
        for (int i = 0; i < 4; i++) {
            size_t len;
            unsigned char *got = s_asof_bytes(f, 2024, times[i], &len);
            assert_int_equal(len, asof_len[i]);
            assert_memory_equal(got, asof[i], len);
            free(got);
        }
        s_verify_ok(f);
        glci_store_close(&f->st);
    }
    /* upgraded: from schema 4 alpha's 10 entries (the correction among
     * them) are one run; from 5 they stay the four runs its four
     * transactions wrote, in their order; gamma's 700 are two */
    uint32_t counts[8];
    size_t largest;
    s_open(f, 0);
    if (schema == 4) {
        assert_int_equal(s_runs(f, "alpha", counts, 8, &largest), 1);
        assert_int_equal(counts[0], 10);
    } else {
        assert_int_equal(s_runs(f, "alpha", counts, 8, &largest), 4);
        assert_int_equal(counts[0], 4);
        assert_int_equal(counts[1], 3);
        assert_int_equal(counts[2], 1);
        assert_int_equal(counts[3], 2);
    }
    /* the old databases are left empty: history, and the state's hruns
     * (schema 7: the runs are in the history file) */
    MDB_stat ms;
    s_raw_begin(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "history", 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
    assert_int_equal(ms.ms_entries, 0);
    assert_int_equal(mdb_dbi_open(txn, "hruns", 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
    assert_int_equal(ms.ms_entries, 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    /* the history file holds the runs and nothing else: an interrupted
     * copy's runs are gone */
    MDB_dbi hdbi;
    s_raw_hist_begin(f, &env, &txn, &hdbi);
    assert_int_equal(mdb_stat(txn, hdbi, &ms), 0);
    assert_int_equal(ms.ms_entries, schema == 4 ? 4 : 7);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    s_open(f, 0);
    assert_int_equal(s_runs(f, "gamma", counts, 8, &largest), 2);
    assert_int_equal(counts[0], 512);
    assert_int_equal(counts[1], 188);
    hist_t h = s_history(f, "alpha", "i2");
    assert_int_equal(h.n, 3);
    assert_true(h.rows[1].by_operator);
    assert_string_equal(h.ops[1], "root|alice");
    assert_string_equal(h.reasons[1], "typo in the form");
    glci_obs_t later[2] = {V("i3", 2024, 70), R("i1", 2024)};
    s_ok(f, "alpha", later, 2, T0 + 50);
    s_verify_ok(f);
    for (int i = 0; i < 4; i++)
        free(asof[i]);
    free(text);
}

/* A damaged schema-5 store still upgrades: a run whose bytes do not parse
 * is moved as it is (verify reports it, as it did before), and the runs
 * of a city without a record are moved too; the rest reads as before. */
static void test_schema5_damaged(void **state)
{
    fx_t *f = *state;
    char lines[4096];
    glci_obs_t a[4] = {V("i1", 2023, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);
    s_ok(f, "beta", a, 3, T0);
    s_ok(f, "gamma", a, 2, T0);
    s_ok(f, "beta", a + 1, 2, T0 + 1);
    char *alpha = s_city_history_text(f, "alpha");

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    s_raw_begin(f, &env, &txn);
    s_make_v5_history(f, txn);
    /* beta's first run says it holds 99 entries; gamma's record is gone */
    unsigned char bkey[13] = "beta";
    MDB_val k = {13, bkey}, d;
    assert_int_equal(mdb_dbi_open(txn, "history", 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &d), 0);
    unsigned char *bad = malloc(d.mv_size);
    memcpy(bad, d.mv_data, d.mv_size);
    uint32_t n99 = 99;
    memcpy(bad, &n99, 4);
    MDB_val bd = {d.mv_size, bad};
    assert_int_equal(mdb_put(txn, dbi, &k, &bd, 0), 0);
    free(bad);
    assert_int_equal(mdb_dbi_open(txn, "cities", 0, &dbi), 0);
    MDB_val gk = {5, "gamma"};
    assert_int_equal(mdb_del(txn, dbi, &gk, NULL), 0);
    s_set_schema(txn, 5);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s_open(f, 0);
    glci_store_status_t s;
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 7);
    glci_view_end(&v);
    uint32_t counts[8];
    size_t largest;
    assert_int_equal(s_runs(f, "gamma", counts, 8, &largest), 1);
    assert_int_equal(counts[0], 2);
    assert_int_equal(s_runs(f, "beta", counts, 8, &largest), 2);
    assert_int_equal(counts[0], 99);
    assert_true(s_verify_lines(f, lines) > 0);
    assert_non_null(strstr(lines, "beta: a history record does not decode"));
    assert_null(strstr(lines, "alpha"));
    char *now = s_city_history_text(f, "alpha");
    assert_string_equal(now, alpha);
    free(now);
    free(alpha);
    /* ingest goes on, after the moved runs */
    s_ok(f, "alpha", a, 1, T0 + 2);
    assert_int_equal(s_runs(f, "alpha", counts, 8, &largest), 2);
}

static void test_schema4_store(void **state)
{
    s_old_history_store(*state, 4);
}

static void test_schema5_store(void **state)
{
    s_old_history_store(*state, 5);
}

/* Schema 6 (runs in the state's hruns) moves to the history file; and
 * again when an upgrade was interrupted after its copy committed there
 * (the state still schema 6): the copy is made afresh. */
static void test_schema6_store(void **state)
{
    s_old_history_store(*state, 6);
}

static void test_schema6_interrupted(void **state)
{
    s_old_history_store(*state, 66);
}

/* ---- schema 1 stores ------------------------------------------------------------------ */

/* Results as schemas 1 and 2 stored them: each a whole block under its
 * results key (the schema-3 head joined with its slots), no slots
 * database. rsize, hsize: the block's and the head's sizes. */
static void s_make_whole_results(MDB_txn *txn, const glci_framework_t *fw, size_t rsize,
                                 size_t hsize, size_t slots_at)
{
    MDB_dbi res, sl;
    MDB_cursor *cur, *scur;
    MDB_val k, d, sk, sd;
    unsigned char keys[64][80], blocks[64][4096];
    size_t kl[64], n = 0;
    assert_true(rsize <= sizeof blocks[0]);
    assert_int_equal(mdb_dbi_open(txn, "results", 0, &res), 0);
    assert_int_equal(mdb_dbi_open(txn, "slots", 0, &sl), 0);
    assert_int_equal(mdb_cursor_open(txn, res, &cur), 0);
    assert_int_equal(mdb_cursor_open(txn, sl, &scur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        assert_true(n < 64 && k.mv_size <= 78 && d.mv_size == hsize);
        memcpy(keys[n], k.mv_data, k.mv_size);
        kl[n] = k.mv_size;
        memset(blocks[n], 0, rsize);
        memcpy(blocks[n], d.mv_data, hsize - 8);
        sk = (MDB_val){k.mv_size, keys[n]};
        for (int src = mdb_cursor_get(scur, &sk, &sd, MDB_SET_RANGE); src == 0;
             src = mdb_cursor_get(scur, &sk, &sd, MDB_NEXT)) {
            if (sk.mv_size != kl[n] + 2 || memcmp(sk.mv_data, keys[n], kl[n]) != 0)
                break;
            /* the test framework's focus areas hold consecutive
             * indicators, fewer than a chunk each: chunk c is focus c */
            const unsigned char *p = sk.mv_data;
            size_t c = ((size_t)p[kl[n]] << 8) | p[kl[n] + 1];
            assert_true(c < fw->n_focus);
            const glci_focus_t *fo = &fw->focus[c];
            assert_int_equal(sd.mv_size, fo->n_ind * sizeof(glci_slot_t));
            memcpy(blocks[n] + slots_at + fo->ind[0] * sizeof(glci_slot_t), sd.mv_data,
                   sd.mv_size);
        }
        n++;
    }
    mdb_cursor_close(scur);
    mdb_cursor_close(cur);
    for (size_t i = 0; i < n; i++) {
        MDB_val nk = {kl[i], keys[i]}, nd = {rsize, blocks[i]};
        assert_int_equal(mdb_put(txn, res, &nk, &nd, 0), 0);
    }
    assert_true(n > 0);
    assert_int_equal(mdb_drop(txn, sl, 1), 0);
}

/* The sizes s_make_whole_results needs, from the open store's framework. */
static void s_result_sizes(fx_t *f, size_t *rsize, size_t *hsize, size_t *slots_at)
{
    *rsize = glci_result_size(f->fw);
    *slots_at = sizeof(glci_result_t) + (f->fw->n_areas + f->fw->n_focus) * sizeof(glci_node_t);
    *hsize = *slots_at + 8;
}

/* Rewrites the store as schema 2 wrote it: whole result blocks, schema
 * number 2. */
static void s_make_v2(fx_t *f)
{
    MDB_env *env;
    MDB_txn *txn;
    size_t rsize, hsize, at;
    s_result_sizes(f, &rsize, &hsize, &at);
    glci_framework_t *fw = NULL;
    char err[256];
    assert_int_equal(glci_framework_load_text(s_tiny, strlen(s_tiny), "tiny", &fw, err, sizeof err), 0);
    s_raw_begin(f, &env, &txn);
    s_make_whole_results(txn, fw, rsize, hsize, at);
    s_make_single_history(f, txn);
    glci_framework_free(&fw);
    s_set_schema(txn, 2);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* Rewrites the store as schema 1 wrote it: short city records, whole
 * result blocks, no edition tables, schema number 1. */
static void s_make_v1(fx_t *f)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, d;
    size_t rsize, hsize, at;
    s_result_sizes(f, &rsize, &hsize, &at);
    glci_framework_t *fw = NULL;
    char err[256];
    assert_int_equal(glci_framework_load_text(s_tiny, strlen(s_tiny), "tiny", &fw, err, sizeof err), 0);
    s_raw_begin(f, &env, &txn);
    s_make_whole_results(txn, fw, rsize, hsize, at);
    s_make_single_history(f, txn);
    glci_framework_free(&fw);
    assert_int_equal(mdb_dbi_open(txn, "cities", 0, &dbi), 0);
    s_cities_trim(txn, dbi, 176);   /* the schema-1 record */
    /* rank-view entries without their flags byte */
    assert_int_equal(mdb_dbi_open(txn, "rank", 0, &dbi), 0);
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    unsigned char rkeys[8][80], rvals[8][80];
    size_t rkl[8], rvl[8], nr = 0;
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        assert_true(nr < 8 && k.mv_size <= 80 && d.mv_size <= 80);
        memcpy(rkeys[nr], k.mv_data, k.mv_size);
        rkl[nr] = k.mv_size;
        memcpy(rvals[nr], d.mv_data, d.mv_size - 1);
        rvl[nr++] = d.mv_size - 1;
    }
    mdb_cursor_close(cur);
    assert_true(nr > 0);
    for (size_t i = 0; i < nr; i++) {
        MDB_val nk = {rkl[i], rkeys[i]}, nd = {rvl[i], rvals[i]};
        assert_int_equal(mdb_put(txn, dbi, &nk, &nd, 0), 0);
    }
    assert_int_equal(mdb_dbi_open(txn, "editions", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "edition_rows", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    s_set_schema(txn, 1);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static int s_city_count(void *ctx, const glci_city_t *c)
{
    (*(int *)ctx)++;
    assert_int_equal(c->added, 0);
    return 0;
}

static int s_edition_count(void *ctx, const glci_edition_t *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

/* A copy of the result of (city, P) as the store gives it now. */
static void *s_result_copy(fx_t *f, const char *city, int32_t P)
{
    glci_view_t *v = NULL;
    const glci_result_t *r;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_result(v, city, P, &r), 0);
    void *copy = malloc(glci_result_size(f->fw));
    memcpy(copy, r, glci_result_size(f->fw));
    glci_view_end(&v);
    return copy;
}

/* Schema 2 stored each result whole: read as it is when opened read-only,
 * split into head and slots when opened for writing, the same results bit
 * for bit either way, and updates after it apply to the split form. */
static void test_schema2_store(void **state)
{
    fx_t *f = *state;
    glci_obs_t a[4] = {V("i1", 2023, 40), V("i2", 2024, 10), V("i3", 2024, 60),
                       V("i4", 2024, 1)};
    s_ok(f, "alpha", a, 4, T0);
    s_ok(f, "beta", a, 3, T0);
    size_t rsize = glci_result_size(f->fw);
    void *alpha = s_result_copy(f, "alpha", 2024), *beta = s_result_copy(f, "beta", 2025);
    s_make_v2(f);

    s_open(f, GLCI_STORE_RDONLY);
    glci_view_t *v = NULL;
    glci_store_status_t s;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 2);
    glci_view_end(&v);
    void *got = s_result_copy(f, "alpha", 2024);
    assert_memory_equal(got, alpha, rsize);
    free(got);
    s_verify_ok(f);
    glci_store_close(&f->st);

    s_open(f, 0);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 7);
    glci_view_end(&v);
    got = s_result_copy(f, "alpha", 2024);
    assert_memory_equal(got, alpha, rsize);
    free(got);
    got = s_result_copy(f, "beta", 2025);
    assert_memory_equal(got, beta, rsize);
    free(got);
    s_verify_ok(f);
    glci_obs_t b[2] = {V("i1", 2024, 45), R("i3", 2024)};
    s_ok(f, "alpha", b, 2, T0 + 10);
    s_verify_ok(f);
    free(alpha);
    free(beta);
}

static void test_schema1_store(void **state)
{
    fx_t *f = *state;
    char err[256];
    glci_obs_t a[2] = {V("i1", 2024, 40), V("i3", 2024, 60)};
    s_ok(f, "alpha", a, 2, T0);
    s_ok(f, "beta", a, 2, T0);
    s_make_v1(f);

    /* read as it is */
    s_open(f, GLCI_STORE_RDONLY);
    glci_view_t *v = NULL;
    glci_store_status_t s;
    glci_snapshot_t snap = {0};
    int n = 0, ne = 0;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 1);
    assert_int_equal(glci_view_cities(v, s_city_count, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(glci_view_editions(v, s_edition_count, &ne), 0);
    assert_int_equal(ne, 0);
    assert_int_equal(glci_view_asof(v, 2024, T0, &snap), 0);
    assert_int_equal(snap.n, 2);                   /* last_seen bounds its history */
    glci_snapshot_release(&snap);
    glci_period_choice_t ch;                       /* from the results themselves */
    assert_int_equal(glci_view_default_period(v, &ch), 0);
    assert_int_equal(ch.period, 2024);
    assert_int_equal(ch.active_indexed, 2);
    glci_view_end(&v);
    s_verify_ok(f);
    glci_store_close(&f->st);

    /* upgraded when opened for writing; everything still verifies */
    s_open(f, 0);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 7);
    glci_view_end(&v);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_default_period(v, &ch), 0);
    assert_int_equal(ch.active_indexed, 2);
    glci_view_end(&v);
    glci_edition_spec_t spec = {.name = "after", .as_of = T0 + 10, .op = "op"};
    assert_int_equal(glci_store_edition_publish(f->st, &spec, T0 + 10, NULL, err, sizeof err), 0);
    glci_obs_t r[1] = {R("i1", 2024)};
    s_ok(f, "alpha", r, 1, T0 + 20);
    s_verify_ok(f);
}

/* ---- membership over time -------------------------------------------------------- */

/* The default period as of t. */
static glci_period_choice_t s_default_at(fx_t *f, int64_t t)
{
    glci_view_t *v = NULL;
    glci_period_choice_t ch;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_asof_default_period(v, t, &ch), 0);
    glci_view_end(&v);
    return ch;
}

/* Two editions hold the same period and rows, bit for bit. */
static void s_editions_equal(fx_t *f, const char *a, const char *b)
{
    glci_view_t *v = NULL;
    glci_edition_t ea, eb;
    glci_snapshot_t sa = {0}, sb = {0};
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_edition(v, a, &ea), 0);
    assert_int_equal(glci_view_edition(v, b, &eb), 0);
    assert_int_equal(ea.period, eb.period);
    assert_int_equal(glci_view_edition_rows(v, a, &sa), 0);
    assert_int_equal(glci_view_edition_rows(v, b, &sb), 0);
    assert_int_equal(sa.n, sb.n);
    for (size_t i = 0; i < sa.n; i++) {
        assert_string_equal(sa.rows[i].city, sb.rows[i].city);
        assert_int_equal(sa.rows[i].rank, sb.rows[i].rank);
        assert_memory_equal(sa.rows[i].result, sb.rows[i].result, glci_result_size(f->fw));
    }
    glci_snapshot_release(&sa);
    glci_snapshot_release(&sb);
    glci_view_end(&v);
}

/* Values of 2024 for alpha, beta and gamma, of 2025 for alpha; gamma and
 * delta revoked; an edition `name` published as of the time returned,
 * which seals it: every change after is recorded later. */
static int64_t s_members_then(fx_t *f, const char *name)
{
    char err[256];
    glci_obs_t a[2] = {V("i1", 2024, 40), V("i3", 2024, 60)};
    glci_obs_t b[2] = {V("i1", 2025, 40), V("i3", 2025, 60)};
    s_ok(f, "alpha", a, 2, T0);
    s_ok(f, "beta", a, 2, T0);
    s_ok(f, "gamma", a, 2, T0);
    s_ok(f, "alpha", b, 2, T0);
    assert_int_equal(glci_store_city_revoke(f->st, "gamma", err, sizeof err), 0);
    assert_int_equal(glci_store_city_revoke(f->st, "delta", err, sizeof err), 0);
    int64_t t = (int64_t)time(NULL);
    glci_edition_spec_t spec = {.name = name, .as_of = t, .op = "op"};
    assert_int_equal(glci_store_edition_publish(f->st, &spec, t, NULL, err, sizeof err), 0);
    return t;
}

/* Revoked before T, reinstated after it: not a member at T; revoked after
 * T: a member then; invited after T: not one. */
static void test_membership_log(void **state)
{
    fx_t *f = *state;
    char err[256];
    int64_t t = s_members_then(f, "then");
    glci_period_choice_t ch = s_default_at(f, t);
    assert_int_equal(ch.period, 2025);              /* 1 of alpha and beta */
    assert_int_equal(ch.n_active, 2);
    glci_edition_spec_t spec = {.name = "then", .as_of = t, .op = "op"};

    assert_int_equal(glci_store_city_reinstate(f->st, "gamma", NULL, err, sizeof err), 0);
    assert_int_equal(glci_store_city_revoke(f->st, "beta", err, sizeof err), 0);
    unsigned char secret[GLCI_ENROL_SECRET_LEN];
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(glci_store_invite_add(f->st, "eps", "E", "PT", now, now + 100, secret, NULL,
                                           err, sizeof err), 0);
    ch = s_default_at(f, t);
    assert_int_equal(ch.period, 2025);
    assert_int_equal(ch.n_active, 2);
    assert_int_equal(ch.active_indexed, 1);
    ch = s_default_at(f, now + 1);
    assert_int_equal(ch.n_active, 3);               /* now: alpha, gamma, eps */
    spec.name = "again";
    assert_int_equal(glci_store_edition_publish(f->st, &spec, now + 1, NULL, err, sizeof err), 0);
    s_editions_equal(f, "then", "again");
    s_verify_ok(f);
}

/* A store of schema 3 has no membership log: its revoked cities count as
 * revoked at every time (as that store answered), and an edition it holds
 * still verifies after the upgrade and the changes that follow. */
static void test_schema3_store(void **state)
{
    fx_t *f = *state;
    char err[256];
    int64_t t = s_members_then(f, "old");
    glci_edition_spec_t spec = {.name = "old", .as_of = t, .op = "op"};
    /* as schema 3 wrote it: no members database */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    s_raw_begin(f, &env, &txn);
    s_make_single_history(f, txn);
    assert_int_equal(mdb_dbi_open(txn, "members", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    s_set_schema(txn, 3);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s_open(f, GLCI_STORE_RDONLY);
    glci_period_choice_t ch = s_default_at(f, t);
    assert_int_equal(ch.period, 2025);              /* 1 of alpha and beta */
    assert_int_equal(ch.n_active, 2);
    s_verify_ok(f);
    glci_store_close(&f->st);

    s_open(f, 0);
    glci_view_t *v = NULL;
    glci_store_status_t s;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.schema, 7);
    glci_view_end(&v);
    /* gamma back after t: revoked before its first logged change, so at t */
    assert_int_equal(glci_store_city_reinstate(f->st, "gamma", NULL, err, sizeof err), 0);
    ch = s_default_at(f, t);
    assert_int_equal(ch.period, 2025);
    assert_int_equal(ch.n_active, 2);
    spec.name = "new";
    assert_int_equal(glci_store_edition_publish(f->st, &spec, (int64_t)time(NULL) + 1, NULL, err,
                                                sizeof err), 0);
    s_editions_equal(f, "old", "new");
    s_verify_ok(f);
}

/* ---- random streams ---------------------------------------------------------------- */

static uint64_t s_rng = 20261201;

static uint32_t s_below(uint32_t n)
{
    uint64_t z = (s_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) % n);
}

/* Groups of batches of values, revisions and retractions (some of nothing,
 * some after a value of the same group); after each group verify proves
 * every stored result equal to the full recomputation and the as-of
 * recomputation of the moment equal to the live results. */
static void test_random_streams(void **state)
{
    fx_t *f = *state;
    static const char *const ind[] = {"i1", "i2", "i3", "i4"};
    static const double max[] = {1000, 1000, 100, 1};
    size_t rs = glci_result_size(f->fw);
    uint64_t retracted = 0, rejected = 0;
    for (int round = 0; round < 120; round++) {
        glci_batch_t b[3];
        glci_obs_t obs[3][12];
        glci_batch_result_t res[3];
        int nb = 1 + (int)s_below(3);
        for (int k = 0; k < nb; k++) {
            const char *city = s_cities[(round + k) % 4];
            size_t n = 1 + s_below(12);
            for (size_t i = 0; i < n; i++) {
                uint32_t x = s_below(4);
                int64_t p = 2018 + s_below(7);
                obs[k][i] = s_below(3) == 0 ? R(ind[x], p)
                                            : V(ind[x], p, max[x] * s_below(5) / 4.0);
            }
            b[k] = (glci_batch_t){.city = city, .stream = 7, .seq = f->seq[s_slot(city)]++, .obs = obs[k], .n_obs = n};
        }
        int64_t now = T0 + round;
        assert_int_equal(glci_store_ingest(f->st, b, (size_t)nb, now, res), 0);
        for (int k = 0; k < nb; k++) {
            assert_int_equal(res[k].status, GLCI_BATCH_APPLIED);
            for (size_t i = 0; i < b[k].n_obs; i++)
                retracted += b[k].obs[i].retract;
            for (size_t i = 0; i < res[k].n_rejections; i++) {
                assert_int_equal(res[k].rejections[i].reason, GLCI_REJECT_NOTHING_TO_RETRACT);
                rejected++;
            }
            glci_batch_result_release(&res[k]);
        }
        s_verify_ok(f);
        if (round % 20 == 19) {
            glci_view_t *v = NULL;
            assert_int_equal(glci_view_begin(f->st, &v), 0);
            for (int32_t P = 2018; P <= 2026; P++) {
                glci_snapshot_t s = {0};
                assert_int_equal(glci_view_asof(v, P, now, &s), 0);
                for (size_t i = 0; i < 4; i++) {
                    const glci_result_t *live = NULL;
                    int rc = glci_view_result(v, s_cities[i], P, &live);
                    const glci_result_t *then = s_row(&s, s_cities[i]);
                    assert_int_equal(rc == 0, then != NULL);
                    if (then)
                        assert_memory_equal(live, then, rs);
                }
                glci_snapshot_release(&s);
            }
            glci_view_end(&v);
        }
    }
    /* both outcomes of a retraction came up */
    assert_true(retracted > rejected && rejected > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_future_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retraction_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retraction_in_one_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_correct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_and_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_fallbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_editions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edition_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edition_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema1_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema2_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema3_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_runs_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema4_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema5_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema6_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema6_backup_after_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema6_upgraded_twice_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema6_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema5_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_membership_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_streams, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
