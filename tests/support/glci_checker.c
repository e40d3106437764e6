/* The system harness and the exactly-once checker: see glci_checker.h.
 *
 * Expectations are kept per (city, indicator) in a small open-addressing
 * table, each an array in sending order. The check walks every city of the
 * store and every indicator of its embedded framework, so a value stored
 * where nothing was expected is found too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_checker.h"
#include "glci_keyfile.h"
#include "glci_outbox.h"
#include "glci_store.h"

/* ---- expectations -------------------------------------------------------- */

typedef struct {
    int32_t period;
    uint32_t lane;            /* values are ordered within a lane only */
    double value;
} s_val_t;

typedef struct {
    char *city, *indicator;
    s_val_t *v;
    size_t n, cap;
} s_key_t;

struct glci_checker {
    s_key_t *slots;           /* open addressing, power of two */
    size_t n_slots, n_keys;
    uint64_t n_values;
    uint32_t lanes;           /* lanes handed out by glci_checker_new_lane */
};

static uint64_t s_hash(const char *city, const char *indicator)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = city; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = indicator; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static s_key_t *s_find(const glci_checker_t *c, const char *city, const char *indicator)
{
    size_t mask = c->n_slots - 1;
    for (size_t i = (size_t)s_hash(city, indicator) & mask;; i = (i + 1) & mask) {
        s_key_t *k = &c->slots[i];
        if (!k->city)
            return k;
        if (strcmp(k->city, city) == 0 && strcmp(k->indicator, indicator) == 0)
            return k;
    }
}

static void s_grow(glci_checker_t *c)
{
    s_key_t *old = c->slots;
    size_t n_old = c->n_slots;
    c->n_slots = n_old ? n_old * 2 : 64;
    c->slots = glci_xcalloc(c->n_slots, sizeof *c->slots);
    for (size_t i = 0; i < n_old; i++)
        if (old[i].city)
            *s_find(c, old[i].city, old[i].indicator) = old[i];
    free(old);
}

glci_checker_t *glci_checker_new(void)
{
    glci_checker_t *c = glci_xcalloc(1, sizeof *c);
    s_grow(c);
    return c;
}

void glci_checker_free(glci_checker_t **self)
{
    if (!self || !*self)
        return;
    glci_checker_t *c = *self;
    for (size_t i = 0; i < c->n_slots; i++) {
        free(c->slots[i].city);
        free(c->slots[i].indicator);
        free(c->slots[i].v);
    }
    free(c->slots);
    free(c);
    *self = NULL;
}

uint32_t glci_checker_new_lane(glci_checker_t *c)
{
    return ++c->lanes;
}

void glci_checker_expect(glci_checker_t *c, const char *city, const char *indicator,
                         int32_t period, double value)
{
    glci_checker_expect_lane(c, city, indicator, period, value, 0);
}

void glci_checker_expect_lane(glci_checker_t *c, const char *city, const char *indicator,
                              int32_t period, double value, uint32_t lane)
{
    if (2 * (c->n_keys + 1) > c->n_slots)
        s_grow(c);
    s_key_t *k = s_find(c, city, indicator);
    if (!k->city) {
        k->city = glci_xstrdup(city);
        k->indicator = glci_xstrdup(indicator);
        c->n_keys++;
    }
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->v = glci_xrealloc(k->v, k->cap * sizeof *k->v);
    }
    k->v[k->n++] = (s_val_t){period, lane, value};
    c->n_values++;
}

uint64_t glci_checker_expected(const glci_checker_t *c)
{
    return c->n_values;
}

/* ---- the check ----------------------------------------------------------- */

typedef struct {
    int32_t period;
    double value;
    uint64_t stream, seq;
    int current;
} s_row_t;

typedef struct {
    s_row_t *r;
    size_t n, cap;
} s_rows_t;

static int s_collect(void *ctx, const glci_history_row_t *row)
{
    s_rows_t *rs = ctx;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->r = glci_xrealloc(rs->r, rs->cap * sizeof *rs->r);
    }
    rs->r[rs->n++] = (s_row_t){row->period, row->value, row->stream, row->seq, row->current};
    return 0;
}

typedef struct {
    uint64_t stream, seq;
} s_seq_t;

typedef struct {
    s_seq_t *s;
    size_t n, cap;
} s_seqs_t;

static void s_seq_add(s_seqs_t *ss, uint64_t stream, uint64_t seq)
{
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? ss->cap * 2 : 1024;
        ss->s = glci_xrealloc(ss->s, ss->cap * sizeof *ss->s);
    }
    ss->s[ss->n++] = (s_seq_t){stream, seq};
}

static int s_seq_cmp(const void *a, const void *b)
{
    const s_seq_t *x = a, *y = b;
    if (x->stream != y->stream)
        return x->stream < y->stream ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct {
    double value;
    int32_t period;
    size_t pos;               /* position in sending order */
    size_t lane;              /* index into the key's distinct lanes */
} s_sorted_t;

static int s_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int s_sorted_cmp(const void *a, const void *b)
{
    const s_sorted_t *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->period > y->period) - (x->period < y->period);
}

static void s_problem(glci_check_result_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_problem(glci_check_result_t *out, const char *fmt, ...)
{
    if (out->first_problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->first_problem, sizeof out->first_problem, fmt, ap);
    va_end(ap);
}

/* Every value current: in each period the current value is the one that
 * arrived last (history is in arrival order; within a lane arrival follows
 * sending order, which s_check_key checks), and only that one is. */
static void s_check_current(const char *city, const char *ind, const s_rows_t *rs,
                            glci_check_result_t *out)
{
    int32_t *periods = glci_xcalloc(rs->n ? rs->n : 1, sizeof *periods);
    size_t np = 0;
    for (size_t r = rs->n; r-- > 0;) {
        int latest = 1;
        for (size_t k = 0; k < np && latest; k++)
            latest = periods[k] != rs->r[r].period;
        if (latest)
            periods[np++] = rs->r[r].period;
        if (latest != (rs->r[r].current != 0)) {
            out->not_current++;
            s_problem(out, "%s %s: value %.17g for period %d is %s", city, ind,
                      rs->r[r].value, (int)rs->r[r].period,
                      latest ? "the latest but not current" : "current but not the latest");
        }
    }
    free(periods);
}

/* Compares one (city, indicator) history with what was sent. */
static void s_check_key(const s_key_t *k, const char *city, const char *ind,
                        const s_rows_t *rs, int prefix, glci_check_result_t *out)
{
    size_t ne = k ? k->n : 0;
    s_sorted_t *sorted = glci_xcalloc(ne ? ne : 1, sizeof *sorted);
    unsigned char *seen = glci_xcalloc(ne ? ne : 1, 1);
    /* the distinct lanes of this key; per lane, the last and the greatest
     * sending position stored so far (SIZE_MAX: none yet) */
    uint32_t *lanes = glci_xcalloc(ne ? ne : 1, sizeof *lanes);
    size_t nl = 0;
    for (size_t i = 0; i < ne; i++)
        lanes[i] = k->v[i].lane;
    qsort(lanes, ne, sizeof *lanes, s_u32_cmp);
    for (size_t i = 0; i < ne; i++)
        if (nl == 0 || lanes[nl - 1] != lanes[i])
            lanes[nl++] = lanes[i];
    size_t *last = glci_xcalloc(nl ? nl : 1, sizeof *last);
    size_t *max_seen = glci_xcalloc(nl ? nl : 1, sizeof *max_seen);
    for (size_t l = 0; l < nl; l++)
        last[l] = max_seen[l] = SIZE_MAX;
    for (size_t i = 0; i < ne; i++) {
        uint32_t *at = bsearch(&k->v[i].lane, lanes, nl, sizeof *lanes, s_u32_cmp);
        sorted[i] = (s_sorted_t){k->v[i].value, k->v[i].period, i, (size_t)(at - lanes)};
    }
    qsort(sorted, ne, sizeof *sorted, s_sorted_cmp);

    for (size_t r = 0; r < rs->n; r++) {
        s_sorted_t probe = {rs->r[r].value, rs->r[r].period, 0, 0};
        s_sorted_t *hit = ne ? bsearch(&probe, sorted, ne, sizeof *sorted, s_sorted_cmp) : NULL;
        if (!hit) {
            out->unexpected++;
            s_problem(out, "%s %s: unexpected value %.17g for period %d (stream %016llx seq %llu)",
                      city, ind, rs->r[r].value, (int)rs->r[r].period,
                      (unsigned long long)rs->r[r].stream, (unsigned long long)rs->r[r].seq);
            continue;
        }
        if (seen[hit->pos]) {
            out->duplicated++;
            s_problem(out, "%s %s: value %.17g for period %d stored twice (stream %016llx seq %llu)",
                      city, ind, rs->r[r].value, (int)rs->r[r].period,
                      (unsigned long long)rs->r[r].stream, (unsigned long long)rs->r[r].seq);
            continue;
        }
        seen[hit->pos] = 1;
        size_t l = hit->lane;
        if (last[l] != SIZE_MAX && hit->pos < last[l]) {
            out->disordered++;
            s_problem(out, "%s %s: value #%zu stored after value #%zu", city, ind, hit->pos,
                      last[l]);
        }
        last[l] = hit->pos;
        if (max_seen[l] == SIZE_MAX || hit->pos > max_seen[l])
            max_seen[l] = hit->pos;
        /* within one history, a stream's seqs never go back */
        for (size_t q = r; q-- > 0;)
            if (rs->r[q].stream == rs->r[r].stream) {
                if (rs->r[q].seq > rs->r[r].seq) {
                    out->seq_errors++;
                    s_problem(out, "%s %s: stream %016llx seq %llu stored after seq %llu", city,
                              ind, (unsigned long long)rs->r[r].stream,
                              (unsigned long long)rs->r[r].seq,
                              (unsigned long long)rs->r[q].seq);
                }
                break;
            }
    }
    for (size_t i = 0; i < ne; i++) {
        if (seen[i])
            continue;
        uint32_t *at = bsearch(&k->v[i].lane, lanes, nl, sizeof *lanes, s_u32_cmp);
        size_t ms = max_seen[at - lanes];
        if (prefix && (ms == SIZE_MAX || i > ms))
            continue;         /* not arrived yet when the copy was taken */
        out->lost++;
        s_problem(out, "%s %s: value #%zu (%.17g for period %d) was never stored", city, ind, i,
                  k->v[i].value, (int)k->v[i].period);
    }
    s_check_current(city, ind, rs, out);
    free(sorted);
    free(seen);
    free(lanes);
    free(last);
    free(max_seen);
}

typedef struct {
    char (*ids)[GLCI_CITY_ID_MAX + 1];
    size_t n, cap;
} s_cities_t;

static int s_city(void *ctx, const glci_city_t *c)
{
    s_cities_t *cs = ctx;
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 64;
        cs->ids = glci_xrealloc(cs->ids, cs->cap * sizeof *cs->ids);
    }
    snprintf(cs->ids[cs->n++], sizeof cs->ids[0], "%s", c->id);
    return 0;
}

static int s_reject_seq(void *ctx, const glci_reject_row_t *row)
{
    s_seq_add(ctx, row->stream, row->seq);
    return 0;
}

/* Per (city, stream): the applied seqs are exactly 1..mark. */
static void s_check_seqs(glci_view_t *v, const char *city, s_seqs_t *ss,
                         glci_check_result_t *out)
{
    if (ss->n)                /* a city with nothing stored: ss->s is NULL */
        qsort(ss->s, ss->n, sizeof *ss->s, s_seq_cmp);
    size_t i = 0;
    while (i < ss->n) {
        uint64_t stream = ss->s[i].stream, distinct = 0, top = 0;
        for (; i < ss->n && ss->s[i].stream == stream; i++)
            if (top != ss->s[i].seq) {
                top = ss->s[i].seq;
                distinct++;
            }
        out->streams++;
        uint64_t mark = 0;
        int rc = glci_view_stream_mark(v, city, stream, &mark);
        if (rc != 0) {
            out->seq_errors++;
            s_problem(out, "%s stream %016llx: no mark: %s", city, (unsigned long long)stream,
                      glci_store_strerror(rc));
        } else if (mark != top || distinct != top) {
            out->seq_errors++;
            s_problem(out,
                      "%s stream %016llx: mark %llu but seqs stored are %llu distinct up to %llu",
                      city, (unsigned long long)stream, (unsigned long long)mark,
                      (unsigned long long)distinct, (unsigned long long)top);
        }
    }
}

int glci_checker_run(const glci_checker_t *c, const char *store_dir, const char *glci_bin,
                     int prefix, glci_check_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->expected = c->n_values;
    out->verify_status = -2;

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    char err[512];
    int rc = glci_store_open(store_dir, &o, &st, err, sizeof err);
    if (rc != 0) {
        s_problem(out, "%s: cannot open the store: %s", store_dir, err);
        out->lost = c->n_values;
        return -1;
    }
    assert_int_equal(glci_view_begin(st, &v), 0);
    const glci_framework_t *fw = glci_store_framework(st);

    s_cities_t cs = {0};
    assert_int_equal(glci_view_cities(v, s_city, &cs), 0);
    uint64_t keys_checked = 0;
    for (size_t ci = 0; ci < cs.n; ci++) {
        const char *city = cs.ids[ci];
        s_seqs_t ss = {0};
        for (uint32_t ii = 0; ii < fw->n_ind; ii++) {
            const char *ind = fw->ind[ii].id;
            s_rows_t rs = {0};
            assert_int_equal(glci_view_history(v, city, ind, s_collect, &rs), 0);
            const s_key_t *k = s_find(c, city, ind);
            if (k->city)
                keys_checked++;
            out->stored += rs.n;
            s_check_key(k->city ? k : NULL, city, ind, &rs, prefix, out);
            for (size_t r = 0; r < rs.n; r++)
                s_seq_add(&ss, rs.r[r].stream, rs.r[r].seq);
            free(rs.r);
        }
        assert_int_equal(glci_view_rejects(v, city, 0, s_reject_seq, &ss), 0);
        s_check_seqs(v, city, &ss, out);
        free(ss.s);
    }
    /* expectations for cities or indicators the store does not have */
    if (keys_checked != c->n_keys)
        for (size_t i = 0; i < c->n_slots; i++) {
            const s_key_t *k = &c->slots[i];
            if (!k->city)
                continue;
            int found = glci_framework_indicator(fw, k->indicator) >= 0;
            for (size_t ci = 0; found && ci < cs.n; ci++)
                if (strcmp(cs.ids[ci], k->city) == 0)
                    found = 2;
            if (found != 2) {
                out->lost += k->n;
                s_problem(out, "%s %s: %zu values sent, city or indicator not in the store",
                          k->city, k->indicator, k->n);
            }
        }
    free(cs.ids);
    glci_view_end(&v);
    glci_store_close(&st);

    if (glci_bin) {
        const char *argv[] = {glci_bin, "--store", store_dir, "verify", NULL};
        char *vout = NULL, *verr = NULL;
        out->verify_status = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, &vout, &verr);
        if (out->verify_status != 0)
            s_problem(out, "glci verify exited %d: %s%s", out->verify_status, vout ? vout : "",
                      verr ? verr : "");
        free(vout);
        free(verr);
    }
    int ok = out->lost == 0 && out->duplicated == 0 && out->unexpected == 0 &&
             out->disordered == 0 && out->seq_errors == 0 && out->not_current == 0 &&
             (out->verify_status == 0 || out->verify_status == -2);
    return ok ? 0 : -1;
}

char *glci_check_result_json(const glci_check_result_t *r)
{
    char esc[1100];
    size_t j = 0;
    for (const char *p = r->first_problem; *p && j + 7 < sizeof esc; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            esc[j++] = '\\';
            esc[j++] = (char)ch;
        } else if (ch < 0x20) {
            j += (size_t)snprintf(esc + j, sizeof esc - j, "\\u%04x", ch);
        } else {
            esc[j++] = (char)ch;
        }
    }
    esc[j] = '\0';
    size_t len = 2048;
    char *s = glci_xmalloc(len);
    snprintf(s, len,
             "{\"expected\": %llu, \"stored\": %llu, \"lost\": %llu, \"duplicated\": %llu, "
             "\"unexpected\": %llu, \"disordered\": %llu, \"seq_errors\": %llu, "
             "\"not_current\": %llu, \"streams\": %llu, \"verify_status\": %d, "
             "\"first_problem\": \"%s\"}",
             (unsigned long long)r->expected, (unsigned long long)r->stored,
             (unsigned long long)r->lost, (unsigned long long)r->duplicated,
             (unsigned long long)r->unexpected, (unsigned long long)r->disordered,
             (unsigned long long)r->seq_errors, (unsigned long long)r->not_current,
             (unsigned long long)r->streams,
             r->verify_status, esc);
    return s;
}

/* ---- the system ---------------------------------------------------------- */

/* Indicators of the shipped framework with the range [0, 100]. */
static const char *const s_ind[4] = {"adult_learning_rate", "adult_literacy_rate",
                                     "volunteering_rate", "employment_rate"};

void glci_sys_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

uint64_t glci_sys_seed(void)
{
    const char *env = getenv("GLCI_SEED");
    uint64_t seed = 0;
    if (env && *env) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 10);
        if (errno == 0 && end && *end == '\0')
            seed = v;
    }
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
               ((uint64_t)getpid() << 32);
    }
    if (!seed)
        seed = 1;
    fprintf(stderr, "# GLCI_SEED=%llu\n", (unsigned long long)seed);
    return seed;
}

uint64_t glci_sys_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

int glci_sys_cli(glci_sys_t *s, const char *const *args, char **out, char **err)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = s->glci;
    argv[n++] = "--store";
    argv[n++] = s->store;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < 31);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, out, err);
}

char *glci_sys_cli_ok(glci_sys_t *s, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci %s exited %d: %s", args[0], rc, err ? err : "");
    free(err);
    return out;
}

long long glci_sys_json_int(const char *js, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(js, pat);
    if (!p)
        fail_msg("no %s in %s", key, js);
    return strtoll(p + strlen(pat), NULL, 10);
}

char *glci_sys_agent_status(glci_sys_t *s, size_t i, const char *format)
{
    const char *argv[] = {s->agent_bin, "status", "--config", s->agents[i].conf,
                          "--format", format, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_READY_MS, &out, &err);
    if (rc != 0)
        fail_msg("glci-agent status of %s exited %d: %s", s->agents[i].city, rc,
                 err ? err : "");
    free(err);
    return out;
}

char *glci_sys_wait_agent_status(glci_sys_t *s, size_t i, const char *format,
                                 const char *want, int timeout_ms)
{
    char *out = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        free(out);
        out = glci_sys_agent_status(s, i, format);
        if (strstr(out, want))
            return out;
        glci_sys_sleep_ms(100);
    }
    fail_msg("the status of %s never showed '%s'; the last:\n%s", s->agents[i].city, want,
             out);
    return NULL;
}

char *glci_sys_wait_file(const char *path, const char *want, int timeout_ms)
{
    char *text = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        free(text);
        text = glci_ts_read_file(path);
        if (text && strstr(text, want))
            return text;
        glci_sys_sleep_ms(100);
    }
    fail_msg("%s never held '%s'; the last:\n%s", path, want, text ? text : "(missing)");
    return NULL;
}

static void s_cli_ok(glci_sys_t *s, const char *const *args, char **out)
{
    char *err = NULL;
    int rc = glci_sys_cli(s, args, out, &err);
    if (rc != 0)
        fail_msg("glci %s %s failed (%d): %s", args[0], args[1] ? args[1] : "", rc,
                 err ? err : "");
    free(err);
}

void glci_sys_collector_conf(glci_sys_t *s, const char *lines)
{
    char text[4096];
    snprintf(text, sizeof text, "[collector]\nlog_level = info\n%s", lines ? lines : "");
    assert_int_equal(glci_ts_write_file(s->coll_conf, text), 0);
}

/* ---- the list of open systems (stopped on failure) ------------------------ */

#define S_MAX_OPEN 16

static glci_sys_t *s_open[S_MAX_OPEN];
static int s_atexit_done;

static size_t s_kill_procs(glci_sys_t *s)
{
    size_t n = 0;
    glci_ts_proc_t *procs[1 + 4096];
    size_t np = 0;
    if (s->coll)
        procs[np++] = s->coll;
    for (size_t i = 0; i < s->n_agents && np < sizeof procs / sizeof procs[0]; i++)
        if (s->agents[i].proc)
            procs[np++] = s->agents[i].proc;
    /* all signalled first, then reaped: no process waits for another's end */
    for (size_t i = 0; i < np; i++)
        if (glci_ts_proc_alive(procs[i]) && glci_ts_proc_signal(procs[i], SIGKILL) == 0)
            n++;
    for (size_t i = 0; i < np; i++)
        (void)glci_ts_proc_wait_exit(procs[i], GLCI_SYS_STOP_MS);
    return n;
}

size_t glci_sys_kill_all(void)
{
    size_t n = 0;
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (s_open[k])
            n += s_kill_procs(s_open[k]);
    return n;
}

static void s_at_exit(void)
{
    size_t n = glci_sys_kill_all();
    if (n)
        fprintf(stderr, "# killed %zu process(es) left running at exit\n", n);
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (s_open[k] && !getenv("GLCI_KEEP"))
            glci_ts_rmtree(s_open[k]->dir);
}

int glci_sys_teardown(void **state)
{
    (void)state;
    for (size_t k = 0; k < S_MAX_OPEN; k++) {
        if (!s_open[k])
            continue;
        glci_sys_t *s = s_open[k];
        size_t n = s_kill_procs(s);
        fprintf(stderr, "# teardown: killed %zu process(es) of %s\n", n, s->dir);
        glci_sys_close(&s);   /* takes it off the list */
    }
    return 0;
}

static void s_register(glci_sys_t *s)
{
    if (!s_atexit_done) {
        atexit(s_at_exit);
        s_atexit_done = 1;
    }
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (!s_open[k]) {
            s_open[k] = s;
            return;
        }
    fail_msg("more than %d systems open at once", S_MAX_OPEN);
}

static void s_unregister(const glci_sys_t *s)
{
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (s_open[k] == s)
            s_open[k] = NULL;
}

glci_sys_t *glci_sys_open(const char *tag, size_t n, const glci_sys_opts_t *opts)
{
    glci_sys_t *s = glci_xcalloc(1, sizeof *s);
    if (opts)
        s->opts = *opts;
    if (!s->opts.framework)
        s->opts.framework = glci_ts_framework();
    if (!s->opts.batch_max)
        s->opts.batch_max = 100;
    if (!s->opts.window)
        s->opts.window = 8;
    s->dir = glci_ts_tmpdir(tag);
    s_register(s);
    s->glci = glci_ts_bin("cli/glci");
    s->collector_bin = glci_ts_bin("collector/glci-collector");
    s->agent_bin = glci_ts_bin("agent/glci-agent");
    s->chk = glci_checker_new();
    snprintf(s->store, sizeof s->store, "%s/store", s->dir);
    snprintf(s->coll_conf, sizeof s->coll_conf, "%s/collector.conf", s->dir);
    snprintf(s->coll_pub, sizeof s->coll_pub, "%s/collector.pub", s->store);
    snprintf(s->endpoint, sizeof s->endpoint, "tcp://127.0.0.1:%d", glci_ts_free_port());
    glci_sys_collector_conf(s, s->opts.collector_conf);

    glci_store_t *st = NULL;
    glci_store_opts_t so = {0, s->opts.store_map, s->opts.store_map};
    char err[512];
    if (s->opts.store_map) {
        /* What `glci init` does, with a small map the CLI would not choose. */
        glci_key_t pub, sec;
        char keyfile[600];
        if (glci_store_create(s->store, s->opts.framework, &so, err, sizeof err) != 0 ||
            glci_store_open(s->store, &so, &st, err, sizeof err) != 0)
            fail_msg("cannot create the store: %s", err);
        assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
        snprintf(keyfile, sizeof keyfile, "%s/collector.key", s->store);
        assert_int_equal(glci_keyfile_write_secret(keyfile, &pub, &sec, err, sizeof err), 0);
        assert_int_equal(glci_keyfile_write_public(s->coll_pub, &pub, err, sizeof err), 0);
    } else {
        const char *init[] = {"init", "--framework", s->opts.framework, NULL};
        s_cli_ok(s, init, NULL);
    }

    s->n_agents = n;
    s->agents = glci_xcalloc(n ? n : 1, sizeof *s->agents);
    for (size_t i = 0; i < n; i++) {
        glci_sys_agent_t *a = &s->agents[i];
        char adir[512], name[64];
        snprintf(a->city, sizeof a->city, "c%02zu-xx", i);
        snprintf(name, sizeof name, "City %zu", i);
        snprintf(adir, sizeof adir, "%s/%s", s->dir, a->city);
        assert_int_equal(mkdir(adir, 0700), 0);
        snprintf(a->conf, sizeof a->conf, "%s/agent.conf", adir);
        snprintf(a->outbox, sizeof a->outbox, "%s/outbox", adir);
        snprintf(a->spool, sizeof a->spool, "%s/spool", adir);
        snprintf(a->key, sizeof a->key, "%s/city.key", adir);
        if (st) {
            glci_key_t pub, sec;
            assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
            assert_int_equal(glci_store_city_add(st, a->city, name, "XX", pub.z85, NULL, 0), 0);
            assert_int_equal(glci_keyfile_write_secret(a->key, &pub, &sec, err, sizeof err), 0);
        } else {
            const char *add[] = {"city", "add", a->city, "--name", name, "--country", "XX",
                                 "--key-out", a->key, NULL};
            s_cli_ok(s, add, NULL);
        }
        glci_sys_agent_endpoint(s, i, s->endpoint);
    }
    glci_store_close(&st);
    return s;
}

void glci_sys_agent_endpoint(glci_sys_t *s, size_t i, const char *endpoint)
{
    const glci_sys_agent_t *a = &s->agents[i];
    char conf[4096];
    snprintf(conf, sizeof conf,
             "[agent]\ncity = %s\ncollector = %s\ncollector_key = %s\nkey_file = %s\n"
             "outbox = %s\nspool = %s\nbatch_max = %d\nwindow = %d\nheartbeat_ivl = 1000\n"
             "log_level = info\ninsecure = %s\n%s",
             a->city, endpoint, s->coll_pub, a->key, a->outbox, a->spool,
             s->opts.batch_max, s->opts.window, s->opts.insecure ? "true" : "false",
             s->opts.agent_conf ? s->opts.agent_conf : "");
    assert_int_equal(glci_ts_write_file(a->conf, conf), 0);
}

void glci_sys_close(glci_sys_t **self)
{
    if (!self || !*self)
        return;
    glci_sys_t *s = *self;
    s_unregister(s);
    for (size_t i = 0; i < s->n_agents; i++)
        glci_ts_proc_stop(&s->agents[i].proc, GLCI_SYS_STOP_MS);
    glci_ts_proc_stop(&s->coll, GLCI_SYS_STOP_MS);
    glci_checker_free(&s->chk);
    if (!getenv("GLCI_KEEP"))
        glci_ts_rmtree(s->dir);
    else
        fprintf(stderr, "# kept %s\n", s->dir);
    free(s->dir);
    free(s->glci);
    free(s->collector_bin);
    free(s->agent_bin);
    free(s->agents);
    free(s);
    *self = NULL;
}

/* Starts a long-running program under `setpriv --pdeathsig KILL` (which
 * execs it, same pid) so that it dies with the test process even when that
 * ends without running teardown or atexit (a sanitizer abort, a ctest
 * timeout); without setpriv, directly. */
static glci_ts_proc_t *s_start(const char *const *argv)
{
    static const char setpriv[] = "/usr/bin/setpriv";
    const char *wrapped[16];
    size_t n = 0;
    if (access(setpriv, X_OK) == 0) {
        wrapped[n++] = setpriv;
        wrapped[n++] = "--pdeathsig";
        wrapped[n++] = "KILL";
        wrapped[n++] = "--";
    }
    for (size_t i = 0; argv[i]; i++) {
        assert_true(n < 15);
        wrapped[n++] = argv[i];
    }
    wrapped[n] = NULL;
    return glci_ts_proc_start(wrapped, NULL);
}

glci_ts_proc_t *glci_sys_spawn_collector(glci_sys_t *s, const char *store)
{
    const char *argv[] = {s->collector_bin, "--store", store ? store : s->store,
                          "--listen", s->endpoint, "--config", s->coll_conf,
                          s->opts.insecure ? "--insecure" : NULL, NULL};
    return s_start(argv);
}

void glci_sys_start_collector(glci_sys_t *s, const char *store)
{
    assert_null(s->coll);
    s->coll = glci_sys_spawn_collector(s, store);
    if (glci_ts_proc_wait_ready(s->coll, GLCI_SYS_READY_MS) != 0) {
        char *log = glci_ts_proc_stderr(s->coll);
        fail_msg("collector not ready: %s", log ? log : "");
    }
}

static void s_kill9(glci_ts_proc_t **p)
{
    assert_non_null(*p);
    assert_int_equal(glci_ts_proc_signal(*p, SIGKILL), 0);
    assert_int_equal(glci_ts_proc_wait_exit(*p, GLCI_SYS_STOP_MS), 128 + SIGKILL);
    glci_ts_proc_stop(p, GLCI_SYS_STOP_MS);
}

void glci_sys_kill9_collector(glci_sys_t *s)
{
    s_kill9(&s->coll);
}

void glci_sys_kill9_agent(glci_sys_t *s, size_t i)
{
    s_kill9(&s->agents[i].proc);
}

static void s_stop(glci_ts_proc_t **p, const char *what)
{
    char *log = glci_ts_proc_stderr(*p);
    int rc = glci_ts_proc_stop(p, GLCI_SYS_STOP_MS);
    if (rc != 0)
        fail_msg("%s exited %d on SIGTERM: %s", what, rc, log ? log : "");
    free(log);
}

void glci_sys_stop_collector(glci_sys_t *s)
{
    s_stop(&s->coll, "collector");
}

void glci_sys_stop_agent(glci_sys_t *s, size_t i)
{
    s_stop(&s->agents[i].proc, s->agents[i].city);
}

void glci_sys_start_agent(glci_sys_t *s, size_t i)
{
    glci_sys_agent_t *a = &s->agents[i];
    assert_null(a->proc);
    const char *argv[] = {s->agent_bin, "run", "--config", a->conf, NULL};
    a->proc = s_start(argv);
    if (glci_ts_proc_wait_ready(a->proc, GLCI_SYS_READY_MS) != 0) {
        char *log = glci_ts_proc_stderr(a->proc);
        fail_msg("agent %s not ready: %s", a->city, log ? log : "");
    }
}

/* Writes the next n generated values of agent i as CSV into f, recorded in
 * the given lane. */
static void s_generate(glci_sys_t *s, size_t i, size_t n, FILE *f, uint32_t lane)
{
    glci_sys_agent_t *a = &s->agents[i];
    fprintf(f, "indicator,period,value\n");
    for (size_t m = 0; m < n; m++, a->next++) {
        uint64_t k = a->next, j = k / 4;
        const char *ind = s_ind[k % 4];
        int32_t period = (int32_t)(2020 + j % 5);
        char text[32];
        /* unique within (city, indicator) for the first 400,000 values */
        snprintf(text, sizeof text, "%.3f", (double)(j % 100000) / 1000.0);
        fprintf(f, "%s,%d,%s\n", ind, (int)period, text);
        glci_checker_expect_lane(s->chk, a->city, ind, period, strtod(text, NULL), lane);
    }
}

void glci_sys_push(glci_sys_t *s, size_t i, size_t n)
{
    glci_sys_agent_t *a = &s->agents[i];
    char path[700];
    snprintf(path, sizeof path, "%s/push.csv", s->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    s_generate(s, i, n, f, 0);
    assert_int_equal(fclose(f), 0);
    const char *argv[] = {s->agent_bin, "push", "--config", a->conf, "--csv", path, NULL};
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, &err);
    if (rc != 0)
        fail_msg("push for %s failed (%d): %s", a->city, rc, err ? err : "");
    free(err);
}

static void s_spool_rename(glci_sys_t *s, size_t i, const char *tmp, const char *name)
{
    char dst[800], spool_done[700];
    glci_sys_agent_t *a = &s->agents[i];
    snprintf(spool_done, sizeof spool_done, "%s", a->spool);
    mkdir(spool_done, 0755);  /* the agent makes it too; either may come first */
    snprintf(dst, sizeof dst, "%s/%s", a->spool, name);
    if (rename(tmp, dst) != 0)
        fail_msg("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
}

void glci_sys_spool(glci_sys_t *s, size_t i, size_t n)
{
    glci_sys_agent_t *a = &s->agents[i];
    char tmp[700], name[64];
    snprintf(tmp, sizeof tmp, "%s/spool.tmp", s->dir);
    snprintf(name, sizeof name, "values-%08llu.csv", (unsigned long long)a->next);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    s_generate(s, i, n, f, glci_checker_new_lane(s->chk));
    assert_int_equal(fclose(f), 0);
    s_spool_rename(s, i, tmp, name);
}

void glci_sys_spool_text(glci_sys_t *s, size_t i, const char *name, const char *csv)
{
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/spool.tmp", s->dir);
    assert_int_equal(glci_ts_write_file(tmp, csv), 0);
    s_spool_rename(s, i, tmp, name);
}

void glci_sys_push_one(glci_sys_t *s, size_t i, const char *indicator, int32_t period,
                       const char *value)
{
    glci_sys_agent_t *a = &s->agents[i];
    char ptext[16];
    snprintf(ptext, sizeof ptext, "%d", (int)period);
    const char *argv[] = {s->agent_bin, "push", "--config", a->conf, indicator, ptext,
                          value, NULL};
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, &err);
    if (rc != 0)
        fail_msg("push %s %s %s for %s failed (%d): %s", indicator, ptext, value, a->city, rc,
                 err ? err : "");
    free(err);
}

uint64_t glci_sys_stored(const char *store)
{
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    char err[512];
    glci_store_status_t ss;
    if (glci_store_open(store, &o, &st, err, sizeof err) != 0)
        fail_msg("cannot open %s: %s", store, err);
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_status(v, &ss), 0);
    glci_view_end(&v);
    glci_store_close(&st);
    return ss.n_history;
}

void glci_sys_wait_stored(glci_sys_t *s, uint64_t n, int timeout_ms)
{
    uint64_t have = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        have = glci_sys_stored(s->store);
        if (have >= n)
            return;
        glci_sys_sleep_ms(100);
    }
    char *log = s->coll ? glci_ts_proc_stderr(s->coll) : NULL;
    fail_msg("the store holds %llu of %llu values; collector log:\n%s",
             (unsigned long long)have, (unsigned long long)n, log ? log : "(not running)");
}

void glci_sys_wait_outbox_empty(glci_sys_t *s, size_t i, int timeout_ms)
{
    glci_outbox_status_t ost = {0};
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        glci_outbox_t *ob = NULL;
        glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
        char err[512];
        if (glci_outbox_open(s->agents[i].outbox, &o, &ob, err, sizeof err) != 0)
            fail_msg("cannot open the outbox of %s: %s", s->agents[i].city, err);
        assert_int_equal(glci_outbox_status(ob, &ost), 0);
        glci_outbox_close(&ob);
        if (ost.batches == 0)
            return;
        glci_sys_sleep_ms(100);
    }
    char *log = s->agents[i].proc ? glci_ts_proc_stderr(s->agents[i].proc) : NULL;
    fail_msg("the outbox of %s still holds %llu batches; agent log:\n%s", s->agents[i].city,
             (unsigned long long)ost.batches, log ? log : "(not running)");
}

void glci_sys_assert_exactly_once(glci_sys_t *s)
{
    glci_check_result_t r;
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);
    for (size_t i = 0; i < s->n_agents; i++)
        glci_sys_wait_outbox_empty(s, i, GLCI_SYS_DRAIN_MS);
    int rc = glci_checker_run(s->chk, s->store, s->glci, 0, &r);
    char *json = glci_check_result_json(&r);
    fprintf(stderr, "# check: %s\n", json);
    free(json);
    if (rc != 0)
        fail_msg("not exactly once: %s", r.first_problem);
    assert_int_equal(r.lost, 0);
    assert_int_equal(r.duplicated, 0);
    assert_int_equal(r.unexpected, 0);
    assert_int_equal(r.disordered, 0);
    assert_int_equal(r.seq_errors, 0);
    assert_int_equal(r.verify_status, 0);
    assert_int_equal(r.stored, r.expected);
}
