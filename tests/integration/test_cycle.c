/* The reporting cycle (SPEC §7) with the real programs: a collector and
 * agents over CURVE on loopback, values and retractions through
 * `glci-agent push|retract`, and the operator's `glci`:
 *   - future periods rejected with their own reason, explained to the agent
 *     (dead-letter file) and logged, and a hostile city's value for 2100
 *     moving no one's default league table, which names its rule;
 *   - retractions through the agent, durable when the command returns and
 *     applied exactly once across a kill -9, the index falling back; a
 *     retraction of nothing refused back to the agent;
 *   - corrections and retractions by operators while the collector runs,
 *     with who (the effective user, SUDO_USER) and why in history, and each
 *     refusal with its one-line message;
 *   - glci missing and city list for a round, in every format;
 *   - editions: published, unchanged while revisions move the live table,
 *     equal to `--as-of` at their time, refused a second time, listed and
 *     compared, and proved by glci verify;
 *   - membership over time: cities invited, revoked or reinstated after T
 *     change neither `rank --as-of T` nor an edition of T. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "glci_checker.h"

/* Two areas, six indicators, an index from half of them; values carry two
 * years; rounds every year, due on 31 March of the next. */
static const char s_framework[] =
    "[framework]\nid = cycle-test\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
    "first_period = 2000\nlast_period = 2100\ncadence = 1\ndue = 03-31\nfuture_periods = 0\n"
    "[area:a]\nname = A\n[focus:a.x]\narea = a\nname = X\n"
    "[indicator:i1]\nfocus = a.x\nname = One\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 100\nmin = 0\nmax = 100\n"
    "[indicator:i2]\nfocus = a.x\nname = Two\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 100\nmin = 0\nmax = 100\n"
    "[indicator:i3]\nfocus = a.x\nname = Three\nunit = %\ndirection = lower\n"
    "lower = 0\nupper = 50\nmin = 0\nmax = 100\n"
    "[area:b]\nname = B\n[focus:b.y]\narea = b\nname = Y\n"
    "[indicator:i4]\nfocus = b.y\nname = Four\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 100\nmin = 0\nmax = 100\n"
    "[indicator:i5]\nfocus = b.y\nname = Five\nunit = yes/no\ndirection = higher\n"
    "lower = 0\nupper = 1\nmin = 0\nmax = 1\n"
    "[indicator:i6]\nfocus = b.y\nname = Six\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 100\nmin = 0\nmax = 100\n";

static const char *const s_ids[6] = {"i1", "i2", "i3", "i4", "i5", "i6"};

static char *s_dir;

static int s_year(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

static glci_sys_t *s_open(const char *tag, size_t n)
{
    s_dir = glci_ts_tmpdir(tag);
    static char fw[600];
    snprintf(fw, sizeof fw, "%s/cycle.ini", s_dir);
    assert_int_equal(glci_ts_write_file(fw, s_framework), 0);
    glci_sys_opts_t o = {.framework = fw, .batch_max = 4, .window = 2};
    glci_sys_t *s = glci_sys_open(tag, n, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < n; i++)
        glci_sys_start_agent(s, i);
    return s;
}

static void s_close(glci_sys_t **s)
{
    for (size_t i = 0; i < (*s)->n_agents; i++)
        if ((*s)->agents[i].proc)
            glci_sys_stop_agent(*s, i);
    glci_sys_stop_collector(*s);
    glci_sys_close(s);
    glci_ts_rmtree(s_dir);
    free(s_dir);
    s_dir = NULL;
}

/* Agent i sends the six indicators of period P at base + k. */
static void s_send_all(glci_sys_t *s, size_t i, int P, int base)
{
    for (int k = 0; k < 6; k++) {
        char v[16];
        snprintf(v, sizeof v, "%d", k == 4 ? (base + k) % 2 : base + k);
        glci_sys_push_one(s, i, s_ids[k], P, v);
    }
}

/* Runs the agent binary of agent i with args after its --config; returns
 * the exit status, *err its stderr (malloc'd, may be NULL). */
static int s_agent(glci_sys_t *s, size_t i, const char *const *args, char **err)
{
    const char *argv[12] = {s->agent_bin};
    int n = 1;
    for (; args[n - 1] && n < 9; n++)
        argv[n] = args[n - 1];
    argv[n++] = "--config";
    argv[n++] = s->agents[i].conf;
    argv[n] = NULL;
    return glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, err);
}

/* Runs glci on the system's store with env_extra; *out, *err malloc'd. */
static int s_glci(glci_sys_t *s, const char *const *env, const char *const *args, char **out,
                  char **err)
{
    const char *argv[24] = {s->glci, "--store", s->store};
    int n = 3;
    for (int k = 0; args[k] && n < 23; k++)
        argv[n++] = args[k];
    argv[n] = NULL;
    return glci_ts_run(argv, env, GLCI_SYS_DRAIN_MS, out, err);
}

static json_t *s_json(glci_sys_t *s, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci %s exited %d: %s", args[0], rc, err ? err : "");
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        fail_msg("glci %s: not JSON (%s): %s", args[0], je.text, out);
    free(out);
    free(err);
    return j;
}

/* A failure: exit status want, one line on stderr holding what, nothing on
 * stdout. */
static void s_expect(glci_sys_t *s, int want, const char *what, const char *const *env,
                     const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = s_glci(s, env, args, &out, &err);
    if (rc != want || !err || !strstr(err, what))
        fail_msg("glci %s: want exit %d with '%s', got %d: %s", args[0], want, what, rc,
                 err ? err : "");
    /* one line, a usage error's with the usage at its end */
    size_t lines = 0;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1);
    if (want == 2)
        assert_non_null(strstr(err, " (usage: glci "));
    assert_true(!out || !*out);
    free(out);
    free(err);
}

/* Waits until path holds text (the dead-letter file is written after the
 * ack); fails at the deadline. */
static void s_wait_file(const char *path, const char *text)
{
    for (int i = 0; i < GLCI_SYS_DRAIN_MS / 20; i++) {
        char *t = glci_ts_read_file(path);
        int ok = t && strstr(t, text);
        free(t);
        if (ok)
            return;
        glci_sys_sleep_ms(20);
    }
    fail_msg("%s never held '%s'", path, text);
}

static void s_deadletter(glci_sys_t *s, size_t i, char *path, size_t len)
{
    snprintf(path, len, "%s", s->agents[i].spool);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash, len - (size_t)(slash - path), "/rejected.csv");
}

/* ---- future periods and the default period ---------------------------------- */

static void test_future_and_default(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("cycle-future", 4);
    for (size_t i = 0; i < 4; i++)
        s_send_all(s, i, 2024, 10 + (int)i);
    for (size_t i = 0; i < 3; i++)
        s_send_all(s, i, 2025, 20 + 10 * (int)i);
    for (size_t i = 0; i < 4; i++)
        glci_sys_wait_outbox_empty(s, i, GLCI_SYS_DRAIN_MS);

    json_t *before = s_json(s, (const char *[]){"rank", "--format", "json", NULL});
    assert_int_equal(json_integer_value(json_object_get(before, "period")), 2025);
    assert_string_equal(json_string_value(json_object_get(before, "period_rule")),
                        "half_of_active");
    char *table = glci_sys_cli_ok(s, (const char *[]){"rank", NULL});
    assert_non_null(strstr(table, "period 2025: the latest in which at least half of the "
                                  "active cities (3 of 4) have reported an index\n"));
    free(table);

    /* The hostile city: a value for 2100 and one for next year, and one for
     * this year (allowed: one city's early value moves nobody either). */
    char next[16], now[16];
    snprintf(next, sizeof next, "%d", s_year() + 1);
    snprintf(now, sizeof now, "%d", s_year());
    glci_sys_push_one(s, 3, "i1", 2100, "99");
    glci_sys_push_one(s, 3, "i1", s_year() + 1, "99");
    glci_sys_push_one(s, 3, "i1", s_year(), "99");
    glci_sys_wait_outbox_empty(s, 3, GLCI_SYS_DRAIN_MS);

    json_t *rj = s_json(s, (const char *[]){"rejects", "--format", "json", NULL});
    json_t *rows = json_object_get(rj, "rows");
    assert_int_equal(json_array_size(rows), 2);
    for (size_t k = 0; k < 2; k++) {
        json_t *r = json_array_get(rows, k);
        assert_string_equal(json_string_value(json_object_get(r, "reason")),
                            "period in the future");
        assert_non_null(strstr(json_string_value(json_object_get(r, "message")),
                               "is in the future (at most"));
    }
    json_decref(rj);
    char dl[700];
    s_deadletter(s, 3, dl, sizeof dl);
    s_wait_file(dl, "\"i1\",2100,99,");
    s_wait_file(dl, "period 2100 is in the future");

    json_t *after = s_json(s, (const char *[]){"rank", "--format", "json", NULL});
    assert_true(json_equal(before, after));       /* nobody's table moved */
    json_decref(after);
    json_t *show = s_json(s, (const char *[]){"show", "c00-xx", "--format", "json", NULL});
    assert_int_equal(json_integer_value(json_object_get(show, "period")), 2025);
    json_decref(show);
    json_t *st = s_json(s, (const char *[]){"status", "--format", "json", NULL});
    json_decref(st);
    json_decref(before);
    char *v = glci_sys_cli_ok(s, (const char *[]){"verify", NULL});
    free(v);
    s_close(&s);
}

/* ---- retractions through the agent ---------------------------------------------- */

static size_t s_retractions(json_t *hist, int period)
{
    size_t n = 0;
    json_t *rows = json_object_get(hist, "rows");
    for (size_t k = 0; k < json_array_size(rows); k++) {
        json_t *r = json_array_get(rows, k);
        n += strcmp(json_string_value(json_object_get(r, "kind")), "retraction") == 0 &&
             json_integer_value(json_object_get(r, "period")) == period;
    }
    return n;
}

static void test_agent_retraction(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("cycle-retract", 2);
    s_send_all(s, 0, 2024, 40);
    glci_sys_push_one(s, 0, "i1", 2025, "90");
    glci_sys_push_one(s, 0, "i2", 2025, "80");
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);

    /* queued while the daemon is down: durable when the command returns */
    glci_sys_stop_agent(s, 0);
    char *err = NULL;
    assert_int_equal(s_agent(s, 0, (const char *[]){"retract", "i1", "2025", NULL}, &err), 0);
    assert_non_null(strstr(err, "queued the retraction of i1 2025 as batch"));
    free(err);
    glci_sys_start_agent(s, 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);

    json_t *h = s_json(s, (const char *[]){"history", "c00-xx", "i1", "--format", "json", NULL});
    assert_int_equal(s_retractions(h, 2025), 1);
    json_t *last = json_array_get(json_object_get(h, "rows"), 2);
    assert_string_equal(json_string_value(json_object_get(last, "via")), "agent");
    assert_true(json_is_null(json_object_get(last, "value")));
    json_decref(h);
    /* the index falls back to 2024's value, carried */
    json_t *show = s_json(s, (const char *[]){"show", "c00-xx", "--period", "2025", "--format",
                                              "json", NULL});
    json_t *i1 = json_array_get(json_object_get(json_array_get(json_object_get(
                     json_array_get(json_object_get(show, "areas"), 0), "focus"), 0),
                     "indicators"), 0);
    assert_string_equal(json_string_value(json_object_get(i1, "id")), "i1");
    assert_true(json_number_value(json_object_get(i1, "value")) == 40);
    assert_true(json_is_true(json_object_get(i1, "carried")));
    json_decref(show);

    /* exactly once across a kill -9 of the agent around delivery */
    glci_sys_stop_agent(s, 0);
    assert_int_equal(s_agent(s, 0, (const char *[]){"retract", "i2", "2025", NULL}, NULL), 0);
    glci_sys_start_agent(s, 0);
    glci_sys_kill9_agent(s, 0);
    glci_sys_start_agent(s, 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    h = s_json(s, (const char *[]){"history", "c00-xx", "i2", "--format", "json", NULL});
    assert_int_equal(s_retractions(h, 2025), 1);
    json_decref(h);

    /* nothing left to withdraw: refused back to the agent */
    assert_int_equal(s_agent(s, 0, (const char *[]){"retract", "i1", "2025", NULL}, NULL), 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    char dl[700];
    s_deadletter(s, 0, dl, sizeof dl);
    s_wait_file(dl, "\"i1\",2025,retract,");
    s_wait_file(dl, "no current value of i1 for 2025 to retract");
    json_t *rj = s_json(s, (const char *[]){"rejects", "--format", "json", NULL});
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(rj, "rows"), 0), "reason")), "nothing to retract");
    json_decref(rj);
    /* the agent's own usage errors */
    assert_int_equal(s_agent(s, 0, (const char *[]){"retract", "i1", NULL}, &err), 2);
    assert_non_null(strstr(err, "needs INDICATOR PERIOD"));
    free(err);
    assert_int_equal(s_agent(s, 0, (const char *[]){"retract", "i1", "20x5", NULL}, &err), 2);
    assert_non_null(strstr(err, "period '20x5' is not an integer year"));
    free(err);

    char *v = glci_sys_cli_ok(s, (const char *[]){"verify", NULL});
    assert_non_null(strstr(v, "ok:"));
    free(v);
    s_close(&s);
}

/* ---- the dead-letter file delivered again ------------------------------------- */

/* text with each "from" replaced by "to" (malloc'd). */
static char *s_replace(const char *text, const char *from, const char *to)
{
    size_t n = 0, lf = strlen(from), lt = strlen(to);
    for (const char *p = strstr(text, from); p; p = strstr(p + lf, from))
        n++;
    assert_true(n > 0);
    size_t cap = strlen(text) + n * lt + 1;
    char *out = malloc(cap), *o = out;
    assert_non_null(out);
    for (const char *p = text, *q; (q = strstr(p, from)); p = q + lf) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, lt);
        o += lt;
        text = q + lf;
    }
    snprintf(o, cap - (size_t)(o - out), "%s", text);
    return out;
}

/* Moves the dead-letter file away (the agent starts a new one) and returns
 * its text once it holds want. */
static char *s_take_deadletter(glci_sys_t *s, const char *want, const char *to)
{
    char dl[700];
    s_deadletter(s, 0, dl, sizeof dl);
    s_wait_file(dl, want);
    assert_int_equal(rename(dl, to), 0);
    char *text = glci_ts_read_file(to);
    assert_non_null(text);
    assert_non_null(strstr(text, "indicator,period,value,observed_at,source,reason,"
                                 "rejected_at\r\n"));
    return text;
}

/* What docs/AGENT.md and docs/OPERATIONS.md tell a city to do with the rows
 * of rejected.csv: fix the values and deliver the file again, as it is,
 * through `glci-agent push --csv` or the spool; a rejected retraction's
 * row is refused back with the command that queues it. */
static void test_deadletter_delivered_again(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("cycle-redeliver", 1);
    char csv[700], fixed[700], *err = NULL;
    snprintf(csv, sizeof csv, "%s/values.csv", s_dir);
    assert_int_equal(glci_ts_write_file(csv,
        "indicator,period,value,observed_at,source\n"
        "i1,2024,150,2025-01-15,\"Survey, table \"\"3\"\"\"\n"
        "i2,2024,-5,,\n"
        "i3,2024,40,,\n"), 0);
    assert_int_equal(s_agent(s, 0, (const char *[]){"push", "--csv", csv, NULL}, NULL), 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    assert_int_equal(s_agent(s, 0, (const char *[]){"retract", "i4", "2024", NULL}, NULL), 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_sys_stored(s->store), 1);

    snprintf(fixed, sizeof fixed, "%s/rejected-1.csv", s_dir);
    char *dead = s_take_deadletter(s, "\"i4\",2024,retract,", fixed);
    assert_non_null(strstr(dead, "\"i1\",2024,150,2025-01-15T00:00:00Z,"
                                 "\"Survey, table \"\"3\"\"\",\"value "));
    assert_non_null(strstr(dead, "\"i2\",2024,-5,,\"\",\"value "));

    /* as it is, the retraction's row refuses the whole file, naming the
     * command; nothing is queued */
    assert_int_equal(s_agent(s, 0, (const char *[]){"push", "--csv", fixed, NULL}, &err), 1);
    if (!err || !strstr(err, "line 4: value 'retract' is not a number (a retraction goes in "
                             "with glci-agent retract i4 2024, never from a file)"))
        fail_msg("unexpected push error: %s", err ? err : "(none)");
    free(err);
    err = NULL;

    /* the values fixed and the retraction's row taken out: through push */
    char *a = s_replace(dead, ",150,", ",95,");
    char *b = s_replace(a, ",-5,", ",5,");
    char *retract = strstr(b, "\"i4\",2024,retract,");
    assert_non_null(retract);
    *retract = '\0';
    assert_int_equal(glci_ts_write_file(fixed, b), 0);
    free(a);
    free(b);
    free(dead);
    assert_int_equal(s_agent(s, 0, (const char *[]){"push", "--csv", fixed, NULL}, &err), 0);
    free(err);
    err = NULL;
    glci_sys_wait_stored(s, 3, GLCI_SYS_DRAIN_MS);
    json_t *h = s_json(s, (const char *[]){"history", "c00-xx", "i1", "--format", "json", NULL});
    json_t *row = json_array_get(json_object_get(h, "rows"), 0);
    assert_true(json_number_value(json_object_get(row, "value")) == 95);
    assert_string_equal(json_string_value(json_object_get(row, "source")),
                        "Survey, table \"3\"");
    json_decref(h);

    /* another rejection, its file fixed and dropped into the spool */
    glci_sys_push_one(s, 0, "i5", 2024, "7");
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    snprintf(fixed, sizeof fixed, "%s/rejected-2.csv", s_dir);
    dead = s_take_deadletter(s, "\"i5\",2024,7,", fixed);
    a = s_replace(dead, ",7,", ",1,");
    glci_sys_spool_text(s, 0, "again.csv", a);
    free(a);
    free(dead);
    glci_sys_wait_stored(s, 4, GLCI_SYS_DRAIN_MS);
    h = s_json(s, (const char *[]){"history", "c00-xx", "i5", "--format", "json", NULL});
    row = json_array_get(json_object_get(h, "rows"), 0);
    assert_true(json_number_value(json_object_get(row, "value")) == 1);
    json_decref(h);
    json_t *rj = s_json(s, (const char *[]){"rejects", "--format", "json", NULL});
    assert_int_equal(json_array_size(json_object_get(rj, "rows")), 4);   /* none new */
    json_decref(rj);
    s_close(&s);
}

/* ---- corrections by operators ---------------------------------------------------- */

static void test_operator_corrections(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("cycle-correct", 2);
    s_send_all(s, 0, 2024, 40);
    s_send_all(s, 1, 2024, 50);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_sys_wait_outbox_empty(s, 1, GLCI_SYS_DRAIN_MS);

    const char *sudo[] = {"SUDO_USER=alice", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(s_glci(s, sudo, (const char *[]){"correct", "c01-xx", "i1", "2024", "55",
                                                      "--reason", "typo in the form", NULL},
                            &out, &err), 0);
    assert_non_null(strstr(out, "corrected i1 of c01-xx for 2024 to 55 (was 50)"));
    free(out);
    free(err);
    assert_int_equal(s_glci(s, NULL, (const char *[]){"retract", "c01-xx", "i3", "2024",
                                                      "--reason", "not measured", "--format",
                                                      "json", NULL}, &out, &err), 0);
    json_t *rj = json_loads(out, 0, NULL);
    assert_non_null(rj);
    assert_true(json_is_true(json_object_get(rj, "retracted")));
    assert_true(json_number_value(json_object_get(rj, "before")) == 52);
    json_decref(rj);
    free(out);
    free(err);

    const struct passwd *pw = getpwuid(geteuid());
    json_t *h = s_json(s, (const char *[]){"history", "c01-xx", "i1", "--format", "json", NULL});
    json_t *r = json_array_get(json_object_get(h, "rows"), 1);
    assert_string_equal(json_string_value(json_object_get(r, "via")), "operator");
    assert_string_equal(json_string_value(json_object_get(r, "by")), pw->pw_name);
    assert_string_equal(json_string_value(json_object_get(r, "sudo_user")), "alice");
    assert_string_equal(json_string_value(json_object_get(r, "reason")), "typo in the form");
    assert_true(json_is_true(json_object_get(r, "current")));
    json_decref(h);
    char *table = glci_sys_cli_ok(s, (const char *[]){"history", "c01-xx", "i3", NULL});
    assert_non_null(strstr(table, "retracted"));
    assert_non_null(strstr(table, "not measured"));
    free(table);
    char *csv = glci_sys_cli_ok(s, (const char *[]){"history", "c01-xx", "i3", "--format", "csv", NULL});
    assert_non_null(strstr(csv, ",retraction,"));
    free(csv);

    /* every refusal is one line naming what is wrong; nothing changes */
    s_expect(s, 2, "missing --reason TEXT", NULL,
             (const char *[]){"retract", "c01-xx", "i1", "2024", NULL});
    s_expect(s, 2, "the reason is empty", NULL,
             (const char *[]){"retract", "c01-xx", "i1", "2024", "--reason", "", NULL});
    s_expect(s, 2, "the reason is blank, only spaces", NULL,
             (const char *[]){"retract", "c01-xx", "i1", "2024", "--reason", " ", NULL});
    s_expect(s, 2, "the reason is blank, only spaces", NULL,
             (const char *[]){"correct", "c01-xx", "i1", "2024", "5", "--reason", "   ", NULL});
    s_expect(s, 2, "the reason contains a line or paragraph separator (U+2028, U+2029)", NULL,
             (const char *[]){"retract", "c01-xx", "i1", "2024", "--reason",
                              "typo\xE2\x80\xA8" "ALARM: forged", NULL});
    s_expect(s, 2, "the reason contains a line or paragraph separator (U+2028, U+2029)", NULL,
             (const char *[]){"correct", "c01-xx", "i1", "2024", "5", "--reason",
                              "typo\xE2\x80\xA9" "ALARM: forged", NULL});
    s_expect(s, 2, "invalid value 'abc'", NULL,
             (const char *[]){"correct", "c01-xx", "i1", "2024", "abc", "--reason", "x", NULL});
    s_expect(s, 1, "no such city 'nope'", NULL,
             (const char *[]){"retract", "nope", "i1", "2024", "--reason", "x", NULL});
    s_expect(s, 1, "unknown indicator 'i9'", NULL,
             (const char *[]){"correct", "c01-xx", "i9", "2024", "5", "--reason", "x", NULL});
    s_expect(s, 1, "value 5000 outside [0, 100] for i1", NULL,
             (const char *[]){"correct", "c01-xx", "i1", "2024", "5000", "--reason", "x", NULL});
    char next[16];
    snprintf(next, sizeof next, "%d", s_year() + 1);
    s_expect(s, 1, "is in the future", NULL,
             (const char *[]){"correct", "c01-xx", "i1", next, "5", "--reason", "x", NULL});
    s_expect(s, 1, "city 'c01-xx' has no current value of i3 for 2024 to retract", NULL,
             (const char *[]){"retract", "c01-xx", "i3", "2024", "--reason", "x", NULL});
    h = s_json(s, (const char *[]){"history", "c01-xx", "i1", "--format", "json", NULL});
    assert_int_equal(json_array_size(json_object_get(h, "rows")), 2);
    json_decref(h);

    /* the collector keeps taking values meanwhile, and verify covers it all */
    glci_sys_push_one(s, 1, "i2", 2024, "77");
    glci_sys_wait_outbox_empty(s, 1, GLCI_SYS_DRAIN_MS);

    /* a negative zero from an agent is stored as 0, from the command line
     * and from a spool file alike, and a command line's --source is kept
     * as given (no spreadsheet quote taken off) */
    uint64_t before = glci_sys_stored(s->store);
    assert_int_equal(s_agent(s, 0, (const char *[]){"push", "i2", "2024", "-0", "--source",
                                                    "'=quoted", NULL}, NULL), 0);
    glci_sys_spool_text(s, 1, "negzero.csv", "indicator,period,value\ni4,2024,-0.0\n");
    glci_sys_wait_stored(s, before + 2, GLCI_SYS_DRAIN_MS);
    const char *zeros[][2] = {{"c00-xx", "i2"}, {"c01-xx", "i4"}};
    for (size_t k = 0; k < 2; k++) {
        h = s_json(s, (const char *[]){"history", zeros[k][0], zeros[k][1], "--format", "json",
                                       NULL});
        json_t *rows = json_object_get(h, "rows");
        r = json_array_get(rows, json_array_size(rows) - 1);
        double z = json_number_value(json_object_get(r, "value"));
        if (z != 0.0 || signbit(z))
            fail_msg("%s %s: the last value is %g, not 0", zeros[k][0], zeros[k][1], z);
        if (k == 0)
            assert_string_equal(json_string_value(json_object_get(r, "source")), "'=quoted");
        json_decref(h);
        csv = glci_sys_cli_ok(s, (const char *[]){"history", zeros[k][0], zeros[k][1],
                                                  "--format", "csv", NULL});
        assert_non_null(strstr(csv, "\r\n2024,0,"));
        assert_null(strstr(csv, ",-0"));
        free(csv);
    }
    csv = glci_sys_cli_ok(s, (const char *[]){"export", "--format", "csv", NULL});
    assert_null(strstr(csv, ",-0"));
    free(csv);
    char *v = glci_sys_cli_ok(s, (const char *[]){"verify", NULL});
    assert_non_null(strstr(v, "ok:"));
    free(v);
    s_close(&s);
}

/* ---- who has reported ------------------------------------------------------------- */

static json_t *s_row_of(json_t *rows, const char *key, const char *city)
{
    for (size_t k = 0; k < json_array_size(rows); k++) {
        json_t *r = json_array_get(rows, k);
        if (strcmp(json_string_value(json_object_get(r, key)), city) == 0)
            return r;
    }
    return NULL;
}

static void test_missing(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("cycle-missing", 4);
    s_send_all(s, 0, 2024, 40);
    glci_sys_push_one(s, 1, "i1", 2024, "10");
    glci_sys_push_one(s, 1, "i2", 2024, "10");
    glci_sys_push_one(s, 1, "i4", 2024, "10");
    s_send_all(s, 3, 2024, 30);
    for (size_t i = 0; i < 4; i++)
        glci_sys_wait_outbox_empty(s, i, GLCI_SYS_DRAIN_MS);
    char *o = glci_sys_cli_ok(s, (const char *[]){"city", "revoke", "c03-xx", NULL});
    free(o);

    json_t *j = s_json(s, (const char *[]){"missing", "--period", "2024", "--format", "json",
                                           NULL});
    assert_int_equal(json_integer_value(json_object_get(j, "period")), 2024);
    assert_string_equal(json_string_value(json_object_get(j, "due")), "2025-03-31");
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 3);           /* the revoked city is not asked */
    json_t *a = s_row_of(rows, "city", "c00-xx"), *b = s_row_of(rows, "city", "c01-xx"),
           *c = s_row_of(rows, "city", "c02-xx");
    assert_string_equal(json_string_value(json_object_get(a, "status")), "complete");
    assert_true(json_is_false(json_object_get(a, "overdue")));
    assert_true(json_number_value(json_object_get(a, "coverage")) == 1.0);
    assert_int_equal(json_array_size(json_object_get(a, "missing")), 0);
    assert_true(json_is_string(json_object_get(a, "last_seen")));
    assert_string_equal(json_string_value(json_object_get(b, "status")), "partial");
    assert_true(json_is_true(json_object_get(b, "overdue")));
    assert_true(json_number_value(json_object_get(b, "coverage")) == 0.5);
    json_t *bm = json_object_get(b, "missing");
    assert_int_equal(json_array_size(bm), 3);
    assert_string_equal(json_string_value(json_array_get(bm, 0)), "i3");
    assert_string_equal(json_string_value(json_object_get(c, "status")), "missing");
    assert_true(json_is_true(json_object_get(c, "overdue")));
    assert_true(json_number_value(json_object_get(c, "coverage")) == 0.0);
    assert_int_equal(json_array_size(json_object_get(c, "missing")), 6);
    assert_true(json_is_null(json_object_get(c, "last_seen")));
    json_decref(j);

    char *t = glci_sys_cli_ok(s, (const char *[]){"missing", "--period", "2024", NULL});
    assert_non_null(strstr(t, "Round 2024, due 2025-03-31 (past due): 1 complete, 1 partial, "
                              "1 missing of 3 active cities; 2 overdue\n"));
    assert_non_null(strstr(t, "OVERDUE"));
    free(t);
    t = glci_sys_cli_ok(s, (const char *[]){"missing", "--period", "2024", "--format", "csv", NULL});
    assert_non_null(strstr(t, "city,name,status,overdue,coverage,missing,last_seen\r\n"));
    assert_non_null(strstr(t, ",partial,true,0.5,i3 i5 i6,"));
    free(t);
    /* not yet due: nobody is overdue */
    j = s_json(s, (const char *[]){"missing", "--period", "2100", "--format", "json", NULL});
    assert_true(json_is_false(json_object_get(j, "past_due")));
    rows = json_object_get(j, "rows");
    for (size_t k = 0; k < json_array_size(rows); k++)
        assert_true(json_is_false(json_object_get(json_array_get(rows, k), "overdue")));
    json_decref(j);
    /* the current round: the latest whose year has ended */
    j = s_json(s, (const char *[]){"missing", "--format", "json", NULL});
    assert_int_equal(json_integer_value(json_object_get(j, "period")), s_year() - 1);
    json_decref(j);
    j = s_json(s, (const char *[]){"city", "list", "--format", "json", NULL});
    json_t *cities = json_object_get(j, "cities");
    assert_int_equal(json_integer_value(json_object_get(s_row_of(cities, "id", "c00-xx"),
                                                        "round")), s_year() - 1);
    assert_true(json_is_string(json_object_get(s_row_of(cities, "id", "c02-xx"), "status")));
    json_decref(j);
    t = glci_sys_cli_ok(s, (const char *[]){"city", "list", NULL});
    assert_non_null(strstr(t, "round"));
    free(t);

    s_expect(s, 2, "invalid --period 'x'", NULL, (const char *[]){"missing", "--period", "x", NULL});
    s_expect(s, 1, "period 1999 is outside framework cycle-test's [2000, 2100]", NULL,
             (const char *[]){"missing", "--period", "1999", NULL});
    s_close(&s);
}

/* A period that is not a round of the framework's cadence has nothing due:
 * nobody is overdue for it, though its would-be due day has passed; the
 * round before it still has its overdue cities. */
static void test_missing_off_round(void **state)
{
    (void)state;
    char *dir = glci_ts_tmpdir("cycle-offround");
    char fw[600], *text = strdup(s_framework);
    char *at = strstr(text, "cadence = 1");
    assert_non_null(at);
    at[10] = '2';                       /* rounds 2000, 2002, ..., 2024 */
    snprintf(fw, sizeof fw, "%s/cycle2.ini", dir);
    assert_int_equal(glci_ts_write_file(fw, text), 0);
    free(text);
    glci_sys_opts_t o = {.framework = fw, .batch_max = 4, .window = 2};
    glci_sys_t *s = glci_sys_open("cycle-offround", 2, &o);

    json_t *j = s_json(s, (const char *[]){"missing", "--period", "2025", "--format", "json",
                                           NULL});
    assert_true(json_is_false(json_object_get(j, "round")));
    assert_true(json_is_true(json_object_get(j, "past_due")));   /* 2026-03-31 has passed */
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 2);
    for (size_t k = 0; k < json_array_size(rows); k++) {
        json_t *r = json_array_get(rows, k);
        assert_string_equal(json_string_value(json_object_get(r, "status")), "missing");
        assert_true(json_is_false(json_object_get(r, "overdue")));
    }
    json_decref(j);
    char *t = glci_sys_cli_ok(s, (const char *[]){"missing", "--period", "2025", NULL});
    assert_non_null(strstr(t, "Period 2025, not a round (every 2 years from 2000; nothing is "
                              "due): 0 complete, 0 partial, 2 missing of 2 active cities; "
                              "0 overdue\n"));
    assert_null(strstr(t, "OVERDUE"));
    free(t);

    j = s_json(s, (const char *[]){"missing", "--period", "2024", "--format", "json", NULL});
    assert_true(json_is_true(json_object_get(j, "round")));
    rows = json_object_get(j, "rows");
    for (size_t k = 0; k < json_array_size(rows); k++)
        assert_true(json_is_true(json_object_get(json_array_get(rows, k), "overdue")));
    json_decref(j);
    glci_sys_close(&s);
    glci_ts_rmtree(dir);
    free(dir);
}

/* ---- editions -------------------------------------------------------------------------- */

/* obj's rows and unranked arrays as one JSON text, for comparing tables
 * whose heads say different things about where they come from. */
static char *s_table_of(json_t *j)
{
    json_t *t = json_pack("{s:O, s:O}", "rows", json_object_get(j, "rows"), "unranked",
                          json_object_get(j, "unranked"));
    char *text = json_dumps(t, JSON_SORT_KEYS);
    json_decref(t);
    return text;
}

static void test_editions(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("cycle-edition", 3);
    for (size_t i = 0; i < 3; i++)
        s_send_all(s, i, 2025, 20 + 20 * (int)i);
    for (size_t i = 0; i < 3; i++)
        glci_sys_wait_outbox_empty(s, i, GLCI_SYS_DRAIN_MS);

    json_t *e = s_json(s, (const char *[]){"edition", "publish", "glci-2025", "--format", "json",
                                           NULL});
    assert_int_equal(json_integer_value(json_object_get(e, "period")), 2025);
    assert_int_equal(json_integer_value(json_object_get(e, "cities")), 3);
    char at[40];
    snprintf(at, sizeof at, "%s", json_string_value(json_object_get(e, "as_of")));
    json_decref(e);
    char *ed0 = glci_sys_cli_ok(s, (const char *[]){"rank", "--edition", "glci-2025", "--format", "json",
                                           NULL});
    json_t *live0 = s_json(s, (const char *[]){"rank", "--format", "json", NULL});
    json_t *ed0j = json_loads(ed0, 0, NULL);
    char *a = s_table_of(live0), *b = s_table_of(ed0j);
    assert_string_equal(a, b);                    /* the edition is the table of then */
    free(a);
    free(b);

    /* revisions move the live table; c00 overtakes everyone, c02 withdraws */
    s_send_all(s, 0, 2025, 90);
    assert_int_equal(s_agent(s, 2, (const char *[]){"retract", "i6", "2025", NULL}, NULL), 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_sys_wait_outbox_empty(s, 2, GLCI_SYS_DRAIN_MS);
    char *ed1 = glci_sys_cli_ok(s, (const char *[]){"rank", "--edition", "glci-2025", "--format", "json",
                                           NULL});
    assert_string_equal(ed0, ed1);                /* unchanged, byte for byte */
    json_t *live1 = s_json(s, (const char *[]){"rank", "--format", "json", NULL});
    a = s_table_of(live1);
    b = s_table_of(ed0j);
    assert_string_not_equal(a, b);                /* the live table moved */
    free(a);
    free(b);
    if (strcmp(json_string_value(json_object_get(json_array_get(
                   json_object_get(live1, "rows"), 0), "city")), "c00-xx") != 0) {
        char *dump = json_dumps(live1, 0);
        char *h = glci_sys_cli_ok(s, (const char *[]){"history", "c00-xx", "i1", NULL});
        fail_msg("c00-xx is not first after its revisions: %s\n%s", dump, h);
    }

    /* --as-of the edition's time is the edition */
    json_t *asof = s_json(s, (const char *[]){"rank", "--as-of", at, "--format", "json", NULL});
    assert_int_equal(json_integer_value(json_object_get(asof, "period")), 2025);
    a = s_table_of(asof);
    b = s_table_of(ed0j);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_t *s1 = s_json(s, (const char *[]){"show", "c02-xx", "--edition", "glci-2025",
                                            "--format", "json", NULL});
    json_t *s2 = s_json(s, (const char *[]){"show", "c02-xx", "--as-of", at, "--format", "json",
                                            NULL});
    assert_true(json_equal(json_object_get(s1, "areas"), json_object_get(s2, "areas")));
    assert_true(json_equal(json_object_get(s1, "index"), json_object_get(s2, "index")));
    json_decref(s1);
    json_decref(s2);
    json_t *x1 = s_json(s, (const char *[]){"export", "--edition", "glci-2025", "--format",
                                            "json", NULL});
    json_t *x2 = s_json(s, (const char *[]){"export", "--as-of", at, "--format", "json", NULL});
    assert_true(json_equal(json_object_get(x1, "rows"), json_object_get(x2, "rows")));
    json_decref(x1);
    json_decref(x2);
    char *t = glci_sys_cli_ok(s, (const char *[]){"rank", "--edition", "glci-2025", NULL});
    assert_non_null(strstr(t, "edition glci-2025: the store as of "));
    free(t);

    /* written once; every bad request is refused with its line */
    s_expect(s, 1, "edition 'glci-2025' exists already", NULL,
             (const char *[]){"edition", "publish", "glci-2025", NULL});
    s_expect(s, 2, "edition name 'bad/name' is not valid", NULL,
             (const char *[]){"edition", "publish", "bad/name", NULL});
    s_expect(s, 1, "is in the future", NULL,
             (const char *[]){"edition", "publish", "later", "--as-of", "2999-01-01", NULL});
    s_expect(s, 1, "--as-of 2999-01-01T23:59:59Z is in the future (the store holds no later "
             "state than now; for the latest, give now)", NULL,
             (const char *[]){"rank", "--as-of", "2999-01-01", NULL});
    s_expect(s, 2, "invalid time 'yesterday'", NULL,
             (const char *[]){"rank", "--as-of", "yesterday", NULL});
    s_expect(s, 2, "give either --as-of or --edition", NULL,
             (const char *[]){"rank", "--as-of", "now", "--edition", "glci-2025", NULL});
    s_expect(s, 1, "no edition 'none'", NULL, (const char *[]){"rank", "--edition", "none", NULL});
    s_expect(s, 1, "edition glci-2025 is of period 2025, not 2024", NULL,
             (const char *[]){"show", "c00-xx", "--edition", "glci-2025", "--period", "2024",
                              NULL});
    s_expect(s, 1, "no data for period 2010 as of", NULL,
             (const char *[]){"rank", "--as-of", "now", "--period", "2010", NULL});

    /* a second edition, listed and compared */
    json_decref(s_json(s, (const char *[]){"edition", "publish", "glci-2025.2", "--period",
                                           "2025", "--format", "json", NULL}));
    json_t *l = s_json(s, (const char *[]){"edition", "list", "--format", "json", NULL});
    json_t *eds = json_object_get(l, "editions");
    assert_int_equal(json_array_size(eds), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(eds, 0), "name")),
                        "glci-2025");
    json_decref(l);
    json_t *d = s_json(s, (const char *[]){"edition", "diff", "glci-2025", "glci-2025.2",
                                           "--format", "json", NULL});
    json_t *drows = json_object_get(d, "rows");
    json_t *first = json_array_get(drows, 0);
    assert_string_equal(json_string_value(json_object_get(first, "city")), "c00-xx");
    assert_int_equal(json_integer_value(json_object_get(first, "rank_a")), 3);
    assert_int_equal(json_integer_value(json_object_get(first, "rank_b")), 1);
    assert_int_equal(json_integer_value(json_object_get(first, "rank_change")), 2);
    assert_true(json_number_value(json_object_get(first, "index_change")) > 0);
    json_decref(d);
    t = glci_sys_cli_ok(s, (const char *[]){"edition", "diff", "glci-2025", "glci-2025.2", NULL});
    assert_non_null(strstr(t, "3 cities changed rank"));
    free(t);

    /* verify proves both editions equal their recomputation */
    char *v = glci_sys_cli_ok(s, (const char *[]){"verify", NULL});
    assert_non_null(strstr(v, "every edition"));
    free(v);
    json_decref(asof);
    json_decref(live0);
    json_decref(live1);
    json_decref(ed0j);
    free(ed0);
    free(ed1);
    s_close(&s);
}

/* ---- membership over time ---------------------------------------------------- */

/* `glci correct` of the six indicators of P for city, at base + k. */
static void s_correct_all(glci_sys_t *s, const char *city, int P, int base)
{
    for (int k = 0; k < 6; k++) {
        char v[16], per[16];
        snprintf(v, sizeof v, "%d", k == 4 ? 1 : base + k);
        snprintf(per, sizeof per, "%d", P);
        free(glci_sys_cli_ok(s, (const char *[]){"correct", city, s_ids[k], per, v, "--reason",
                                                 "entered by hand", NULL}));
    }
}

/* The as-of table's period, its rule's line and its rows as one text. */
static char *s_asof_text(glci_sys_t *s, const char *at)
{
    json_t *j = s_json(s, (const char *[]){"rank", "--as-of", at, "--format", "json", NULL});
    json_t *t = json_pack("{s:O, s:O, s:O, s:O, s:O}", "period", json_object_get(j, "period"),
                          "rule", json_object_get(j, "period_rule"), "note",
                          json_object_get(j, "period_note"), "rows", json_object_get(j, "rows"),
                          "unranked", json_object_get(j, "unranked"));
    char *text = json_dumps(t, JSON_SORT_KEYS);
    json_decref(t);
    json_decref(j);
    return text;
}

static char *s_invite(glci_sys_t *s, const char *city)
{
    return glci_sys_cli_ok(s, (const char *[]){"city", "add", city, "--name", "Town",
                                               "--country", "IE", "--invite", "--host",
                                               "127.0.0.1", NULL});
}

/* A table as of T counts the cities that were members at T: a city invited
 * after T, one revoked after T, and one revoked before T and reinstated
 * after it change neither the default period nor its counts, nor an
 * edition of T published after them, and verify proves both editions. */
static void test_membership_as_of(void **state)
{
    (void)state;
    s_dir = glci_ts_tmpdir("cycle-members");
    static char fw[600], conf[128];
    snprintf(fw, sizeof fw, "%s/cycle.ini", s_dir);
    assert_int_equal(glci_ts_write_file(fw, s_framework), 0);
    snprintf(conf, sizeof conf, "enrol_listen = tcp://127.0.0.1:%d\n", glci_ts_free_port());
    glci_sys_opts_t o = {.framework = fw, .batch_max = 4, .window = 2, .collector_conf = conf};
    glci_sys_t *s = glci_sys_open("cycle-members", 1, &o);
    glci_sys_start_collector(s, NULL);

    /* the harness's own city is no part of this (revoked before T) */
    free(glci_sys_cli_ok(s, (const char *[]){"city", "revoke", s->agents[0].city, NULL}));
    int Y = s_year() - 1;                   /* a year that has ended, and the one before */
    char *tok;
    const char *cities[] = {"aa-ie", "bb-ie", "dd-ie"};
    for (size_t i = 0; i < 3; i++) {
        free(s_invite(s, cities[i]));
        s_correct_all(s, cities[i], Y - 1, 20 + 10 * (int)i);
    }
    s_correct_all(s, "aa-ie", Y, 50);
    free(glci_sys_cli_ok(s, (const char *[]){"city", "revoke", "dd-ie", NULL}));

    /* T: every write above is at or before it, every write below after */
    glci_sys_sleep_ms(1100);
    char at[32];
    snprintf(at, sizeof at, "@%lld", (long long)time(NULL));
    glci_sys_sleep_ms(1100);

    /* members at T: aa and bb (dd revoked); one of the two reported Y */
    char *t0 = s_asof_text(s, at), *want = NULL;
    json_t *j = json_loads(t0, 0, NULL);
    if (json_integer_value(json_object_get(j, "period")) != Y)
        fail_msg("as of %s: %s", at, t0);
    assert_string_equal(json_string_value(json_object_get(j, "rule")), "half_of_active");
    assert_non_null(strstr(json_string_value(json_object_get(j, "note")), "(1 of 2)"));
    json_decref(j);
    json_t *e = s_json(s, (const char *[]){"edition", "publish", "before", "--as-of", at,
                                           "--format", "json", NULL});
    assert_int_equal(json_integer_value(json_object_get(e, "period")), Y);
    json_decref(e);

    /* dd reinstated after T: revoked at T all the same */
    free(glci_sys_cli_ok(s, (const char *[]){"city", "reinstate", "dd-ie", NULL}));
    want = s_asof_text(s, at);
    assert_string_equal(want, t0);
    free(want);
    /* cc invited after T: not a member then */
    tok = s_invite(s, "cc-ie");
    free(tok);
    want = s_asof_text(s, at);
    assert_string_equal(want, t0);
    free(want);
    /* bb revoked after T: a member then */
    char *out = glci_sys_cli_ok(s, (const char *[]){"city", "revoke", "bb-ie", NULL});
    assert_non_null(strstr(out, "its open enrolment strings are withdrawn (1)"));
    free(out);
    want = s_asof_text(s, at);
    assert_string_equal(want, t0);
    free(want);
    /* the live table does count them as they are now: aa, cc and dd */
    json_t *live = s_json(s, (const char *[]){"rank", "--format", "json", NULL});
    assert_non_null(strstr(json_string_value(json_object_get(live, "period_note")), "of 3)"));
    json_decref(live);

    /* an edition of T published now is the one published then */
    e = s_json(s, (const char *[]){"edition", "publish", "after", "--as-of", at, "--format",
                                   "json", NULL});
    assert_int_equal(json_integer_value(json_object_get(e, "period")), Y);
    json_decref(e);
    json_t *e1 = s_json(s, (const char *[]){"rank", "--edition", "before", "--format", "json",
                                            NULL});
    json_t *e2 = s_json(s, (const char *[]){"rank", "--edition", "after", "--format", "json",
                                            NULL});
    char *a = s_table_of(e1), *b = s_table_of(e2);
    assert_string_equal(a, b);
    assert_true(json_equal(json_object_get(e1, "period"), json_object_get(e2, "period")));
    assert_int_equal(json_array_size(json_object_get(e1, "rows")), 3);
    free(a);
    free(b);
    json_decref(e1);
    json_decref(e2);
    char *v = glci_sys_cli_ok(s, (const char *[]){"verify", NULL});
    assert_non_null(strstr(v, "every edition"));
    free(v);
    free(t0);
    s_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_future_and_default, glci_sys_teardown),
        cmocka_unit_test_teardown(test_agent_retraction, glci_sys_teardown),
        cmocka_unit_test_teardown(test_deadletter_delivered_again, glci_sys_teardown),
        cmocka_unit_test_teardown(test_operator_corrections, glci_sys_teardown),
        cmocka_unit_test_teardown(test_missing, glci_sys_teardown),
        cmocka_unit_test_teardown(test_missing_off_round, glci_sys_teardown),
        cmocka_unit_test_teardown(test_editions, glci_sys_teardown),
        cmocka_unit_test_teardown(test_membership_as_of, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
