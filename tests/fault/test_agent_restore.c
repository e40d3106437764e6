/* The collector's store restored from an older backup, seen from a running
 * agent, with the real processes on loopback over CURVE.
 *
 * Each case: the agent delivers N values; `glci backup` copies the store;
 * the agent delivers more (acked); the collector is stopped and its store
 * replaced by the copy the way docs/OPERATIONS.md says (the store that
 * lost nothing moved aside, the copy put in its place); the collector
 * starts again. The agent is never restarted.
 *
 * - Within the retention window (the default): the agent's reconnection
 *   sends its newest retained batch (its outbox is empty), the collector
 *   answers GAP, and the agent sends the retained batches again on the
 *   same stream. The store then equals the one that lost nothing: every
 *   city's counters, every history row (value, period, observed time,
 *   source, stream and seq; not the receive time), every current value,
 *   every rejected observation and every index result, bit for bit; the
 *   exactly-once checker and `glci verify` pass; a rejected row reaches
 *   rejected.csv once; new values follow on the same stream.
 * - Part of the lost range older than the window (retain_bytes lowered by
 *   a reload so that only the newest batches stay): those batches are
 *   reported lost (one ALARM, `collector_lost` in status), the retained
 *   ones move with the undelivered ones onto a new stream and are stored;
 *   the store holds everything but the batches reported lost.
 * - A backup older than the agent's stream: the restored store does not
 *   know it (GAP expecting 1); every batch, retained from 1, is resent.
 * - A retraction sent after the backup: resent like a value, the value
 *   withdrawn again in the restored store.
 * - Retention off (retain = 0): as before retention existed, every batch
 *   acked after the backup is reported lost and the agent moves on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "glci_checker.h"
#include "glci_store.h"
#include "glci_text.h"

#define T_BATCH 50
#define T_N 500      /* batches 1..10: in the backup */

/* The integer after "key": in a JSON text (the first occurrence). */
static void s_wait_log(glci_sys_t *s, const char *text)
{
    if (glci_ts_proc_wait_log(s->agents[0].proc, text, GLCI_SYS_DRAIN_MS) != 0) {
        char *log = glci_ts_proc_stderr(s->agents[0].proc);
        fail_msg("the agent never logged \"%s\": %s", text, log ? log : "");
    }
}

static void s_backup(glci_sys_t *s, const char *dir)
{
    const char *args[] = {"backup", dir, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci backup exited %d: %s", rc, err ? err : "");
    free(out);
    free(err);
}

/* Values delivered (and acked) that a restore will lose for good: the
 * checker does not expect them. */
static void s_push_unexpected(glci_sys_t *s, size_t n)
{
    glci_checker_t *keep = s->chk;
    s->chk = glci_checker_new();
    glci_sys_push(s, 0, n);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_checker_free(&s->chk);
    s->chk = keep;
}

/* A second boundary passed, and its time: an ack after this returns is
 * recorded at `*t` or later, every ack before it earlier. */
static void s_after_a_second(int64_t *t, char *iso, size_t len)
{
    glci_sys_sleep_ms(1100);
    *t = (int64_t)time(NULL);
    glci_format_iso_time(*t, iso, len);
}

/* The agent's last ack in its status (JSON "last_ack") is at iso or later. */
static void s_assert_last_ack_since(glci_sys_t *s, const char *iso)
{
    char *js = glci_sys_agent_status(s, 0, "json");
    const char *p = strstr(js, "\"last_ack\": \"");
    if (!p || strncmp(p + 13, iso, strlen(iso)) < 0)
        fail_msg("last_ack is not at %s or later: %s", iso, js);
    free(js);
}

/* The restore of docs/OPERATIONS.md while the agent runs: the collector
 * stopped, the store moved to `kept` (it lost nothing), the backup put in
 * its place, verified, the collector started on it. */
static void s_restore(glci_sys_t *s, const char *backup, const char *kept)
{
    glci_sys_stop_collector(s);
    assert_int_equal(rename(s->store, kept), 0);
    assert_int_equal(rename(backup, s->store), 0);
    const char *argv[] = {s->glci, "--store", s->store, "verify", NULL};
    assert_int_equal(glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, NULL), 0);
    glci_sys_start_collector(s, NULL);
}

/* ---- a store's content, receive times left out ---------------------------- */

typedef struct {
    FILE *f;
    glci_view_t *v;
    const glci_framework_t *fw;
} s_dump_t;

static int s_dump_hist(void *ctx, const glci_history_row_t *r)
{
    s_dump_t *d = ctx;
    fprintf(d->f, "  %d %a %lld [%s] %016llx/%llu%s%s\n", (int)r->period, r->value,
            (long long)r->observed_at, r->source, (unsigned long long)r->stream,
            (unsigned long long)r->seq, r->current ? " current" : "",
            r->retracted ? " retracted" : "");
    return 0;
}

static int s_dump_reject(void *ctx, const glci_reject_row_t *r)
{
    s_dump_t *d = ctx;
    fprintf(d->f, "reject %s %s %lld %a %d [%s] %016llx/%llu #%u\n", r->city, r->indicator,
            (long long)r->period, r->value, (int)r->reason, r->message,
            (unsigned long long)r->stream, (unsigned long long)r->seq, (unsigned)r->index);
    return 0;
}

static int s_dump_city(void *ctx, const glci_city_t *c)
{
    s_dump_t *d = ctx;
    fprintf(d->f, "city %s active %d observations %llu rejects %llu batches %llu\n", c->id,
            c->active, (unsigned long long)c->observations, (unsigned long long)c->rejects,
            (unsigned long long)c->batches);
    for (uint32_t i = 0; i < d->fw->n_ind; i++) {
        fprintf(d->f, " %s\n", d->fw->ind[i].id);
        assert_int_equal(glci_view_history(d->v, c->id, d->fw->ind[i].id, s_dump_hist, d), 0);
    }
    for (int32_t p = d->fw->first_period; p <= d->fw->last_period; p++) {
        const glci_result_t *r = NULL;
        if (glci_view_result(d->v, c->id, p, &r) == 0)
            fprintf(d->f, " result %d index %d %a coverage %a\n", (int)p, (int)r->has_index,
                    r->index, r->coverage);
    }
    return 0;
}

/* Everything agents delivered to the store at dir, as text (malloc'd). */
static char *s_dump(const char *dir)
{
    glci_store_t *st = NULL;
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    char err[512], *text = NULL;
    size_t len = 0;
    if (glci_store_open(dir, &o, &st, err, sizeof err) != 0)
        fail_msg("cannot open %s: %s", dir, err);
    s_dump_t d = {open_memstream(&text, &len), NULL, glci_store_framework(st)};
    assert_non_null(d.f);
    assert_int_equal(glci_view_begin(st, &d.v), 0);
    assert_int_equal(glci_view_cities(d.v, s_dump_city, &d), 0);
    assert_int_equal(glci_view_rejects(d.v, NULL, 0, s_dump_reject, &d), 0);
    glci_view_end(&d.v);
    glci_store_close(&st);
    fclose(d.f);
    return text;
}

/* ---- the cases ------------------------------------------------------------ */

typedef struct {
    glci_sys_t *s;
    char backup[600];         /* the backup, then the restored store */
    char kept[600];           /* the store that lost nothing, moved aside */
} s_case_t;

/* One city's system with batches of T_BATCH, the collector and the agent
 * running: n values delivered and acked, then the backup taken (n = 0: the
 * backup first, and the agent started after it). */
static glci_sys_t *s_case_open(s_case_t *c, const char *tag, const char *agent_conf, size_t n)
{
    glci_sys_opts_t o = {.batch_max = T_BATCH, .window = 4, .agent_conf = agent_conf};
    c->s = glci_sys_open(tag, 1, &o);
    snprintf(c->backup, sizeof c->backup, "%s/backup", c->s->dir);
    snprintf(c->kept, sizeof c->kept, "%s.kept", c->s->store);
    glci_sys_start_collector(c->s, NULL);
    if (n == 0)
        s_backup(c->s, c->backup);
    glci_sys_start_agent(c->s, 0);
    if (n > 0) {
        glci_sys_push(c->s, 0, n);
        glci_sys_wait_outbox_empty(c->s, 0, GLCI_SYS_DRAIN_MS);
        s_backup(c->s, c->backup);
    }
    return c->s;
}

static void s_case_close(s_case_t *c)
{
    glci_sys_stop_agent(c->s, 0);
    glci_sys_stop_collector(c->s);
    glci_ts_rmtree(c->kept);
    glci_sys_close(&c->s);
}

/* s_case_open with the agent writing a metrics file, named into prom. */
static glci_sys_t *s_case_open_metered(s_case_t *c, const char *tag, char *prom, size_t len)
{
    char conf[200];
    snprintf(prom, len, "/tmp/glci-%s-%d.prom", tag, (int)getpid());
    snprintf(conf, sizeof conf, "metrics_file = %s\n", prom);
    return s_case_open(c, tag, conf, T_N);
}

/* The agent's last figures: it writes them when it stops; started again
 * after. The text (malloc'd, NULL if none); the file is removed. */
static char *s_last_metrics(glci_sys_t *s, const char *prom)
{
    glci_sys_stop_agent(s, 0);
    char *text = glci_ts_read_file(prom);
    unlink(prom);
    glci_sys_start_agent(s, 0);
    return text;
}

/* The restored store equals the kept one, receive times aside. */
static void s_assert_same_store(const s_case_t *c)
{
    char *want = s_dump(c->kept), *have = s_dump(c->s->store);
    if (strcmp(want, have) != 0)
        fail_msg("the restored store differs from the one that lost nothing:\n--- kept\n%s\n"
                 "--- restored\n%s", want, have);
    free(want);
    free(have);
}

static void test_restore_within_retention_loses_nothing(void **state)
{
    (void)state;
    s_case_t c;
    char prom[128];
    glci_sys_t *s = s_case_open_metered(&c, "agent-restore", prom, sizeof prom);
    char dead[700];

    /* after the backup: batches 11..16, and 17, one value the collector
     * rejects (its rejection must come back too) */
    glci_sys_push(s, 0, 300);
    glci_sys_push_one(s, 0, "no_such_indicator", 2021, "7");
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_sys_stored(s->store), T_N + 300);
    char *js = glci_sys_agent_status(s, 0, "json");
    assert_int_equal(glci_sys_json_int(js, "retained_batches"), 17);
    assert_true(glci_sys_json_int(js, "retained_bytes") > 0);
    assert_non_null(strstr(js, "\"collector_resent\": null"));
    char stream[24];
    const char *sp = strstr(js, "\"stream\": \"");
    assert_non_null(sp);
    snprintf(stream, sizeof stream, "%.16s", sp + 11);
    free(js);
    int64_t t_restore;
    char iso[32];
    s_after_a_second(&t_restore, iso, sizeof iso);

    s_restore(s, c.backup, c.kept);
    s_wait_log(s, "holds batches 11..17 of stream");
    /* the acks of the resent batches are the last ones */
    s_assert_last_ack_since(s, iso);

    /* the store is the one that lost nothing, receive times aside */
    s_assert_same_store(&c);
    char *have = s_dump(s->store);
    assert_non_null(strstr(have, "no_such_indicator"));
    free(have);
    glci_sys_assert_exactly_once(s);

    /* new values follow on the same stream, exactly once */
    glci_sys_push(s, 0, 200);
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), T_N + 500);

    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    const char *line = strstr(log, "the collector lost batches");
    assert_non_null(line);
    fprintf(stderr, "# %.*s\n", (int)strcspn(line, "\n"), line);
    if (glci_ts_count(log, "sending them again from the retained batches") != 1)
        fail_msg("the resend was not logged once: %s", log);
    assert_non_null(strstr(log, "lost batches 11..17 of stream"));
    assert_null(strstr(log, "ALARM"));
    free(log);
    js = glci_sys_agent_status(s, 0, "json");
    if (!strstr(js, "\"collector_resent\": {\"events\": 1, \"batches\": 7") ||
        !strstr(js, "\"last_first\": 11, \"last_last\": 17") ||
        !strstr(js, "\"collector_lost\": null") || !strstr(js, stream) ||
        glci_sys_json_int(js, "rejects") != 1 || glci_sys_json_int(js, "retained_batches") != 21)
        fail_msg("unexpected status: %s", js);
    free(js);
    char *table = glci_sys_agent_status(s, 0, "table");
    if (!strstr(table, "RESENT") || !strstr(table, "batches 11..17 of stream") ||
        !strstr(table, "21 batches (1..21)"))
        fail_msg("unexpected status table: %s", table);
    free(table);
    /* the rejected row was written once, not again for the resend */
    snprintf(dead, sizeof dead, "%s/../rejected.csv", s->agents[0].spool);
    char *csv = glci_ts_read_file(dead);
    assert_non_null(csv);
    if (glci_ts_count(csv, "\"no_such_indicator\",") != 1)
        fail_msg("rejected.csv holds the rejected row not once: %s", csv);
    free(csv);
    /* and the metric counts it once, as status does */
    char *text = s_last_metrics(s, prom);
    if (!text || !strstr(text, "glci_agent_observations_rejected_total{reason=\""
                               "unknown_indicator\"} 1\n"))
        fail_msg("metrics: %s", text ? text : "(none)");
    free(text);

    s_case_close(&c);
}

/* Only the newest batch acked after the backup: the probe at the
 * reconnection (the newest retained batch, nothing being undelivered) is
 * applied by the restored store, not answered GAP. The agent still says
 * the collector lost it, counts the resend for status (RESENT), and the
 * ack of the probe is its last ack, in status and in the metric. */
static void test_restore_of_the_newest_batch_only(void **state)
{
    (void)state;
    s_case_t c;
    char prom[128];
    glci_sys_t *s = s_case_open_metered(&c, "agent-restore-one", prom, sizeof prom);
    glci_sys_push(s, 0, 1);            /* batch 11, acked after the backup */
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    int64_t t_restore;
    char iso[32];
    s_after_a_second(&t_restore, iso, sizeof iso);

    s_restore(s, c.backup, c.kept);
    s_wait_log(s, "lost batches 11..11 of stream");
    s_assert_same_store(&c);
    glci_sys_assert_exactly_once(s);
    s_assert_last_ack_since(s, iso);
    char *js = glci_sys_agent_status(s, 0, "json");
    if (!strstr(js, "\"collector_resent\": {\"events\": 1, \"batches\": 1") ||
        !strstr(js, "\"last_first\": 11, \"last_last\": 11"))
        fail_msg("unexpected status: %s", js);
    free(js);
    char *table = glci_sys_agent_status(s, 0, "table");
    if (!strstr(table, "RESENT"))
        fail_msg("no RESENT line: %s", table);
    free(table);

    /* the metric is the outbox's last ack */
    char *text = s_last_metrics(s, prom);
    const char *m = text ? strstr(text, "\nglci_agent_last_ack_timestamp_seconds ") : NULL;
    if (!m || strtod(m + 39, NULL) < (double)t_restore)
        fail_msg("glci_agent_last_ack_timestamp_seconds is not at %lld or later: %s",
                 (long long)t_restore, text ? text : "(none)");
    free(text);
    s_case_close(&c);
}

static void test_restore_beyond_retention_reports_only_the_old(void **state)
{
    (void)state;
    s_case_t c;
    glci_sys_t *s = s_case_open(&c, "agent-restore-old", NULL, T_N);

    /* batches 11..14, then 15..18, acked after the backup */
    s_push_unexpected(s, 200);
    char *js = glci_sys_agent_status(s, 0, "json");
    long long r1 = glci_sys_json_int(js, "retained_bytes");
    free(js);
    glci_sys_push(s, 0, 200);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    js = glci_sys_agent_status(s, 0, "json");
    long long r2 = glci_sys_json_int(js, "retained_bytes");
    assert_int_equal(glci_sys_json_int(js, "retained_batches"), 18);
    free(js);

    /* room for 15..18 only: a reload prunes the older ones at once */
    char *conf = glci_ts_read_file(s->agents[0].conf), line[64];
    assert_non_null(conf);
    snprintf(line, sizeof line, "retain_bytes = %lld\n", r2 - r1);
    size_t len = strlen(conf) + strlen(line) + 1;
    conf = realloc(conf, len);
    strncat(conf, line, len - strlen(conf) - 1);
    assert_int_equal(glci_ts_write_file(s->agents[0].conf, conf), 0);
    free(conf);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    s_wait_log(s, "(14 dropped now)");
    js = glci_sys_agent_status(s, 0, "json");
    if (glci_sys_json_int(js, "retained_batches") != 4 || glci_sys_json_int(js, "retained_bytes") != r2 - r1)
        fail_msg("unexpected status after the reload: %s", js);
    free(js);

    s_restore(s, c.backup, c.kept);
    s_wait_log(s, "continue as batches 1..4 of the new stream");
    s_wait_log(s, "holds batches 1..4 of stream");
    /* N and the retained 200 exactly once, both streams' seqs exact */
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), T_N + 200);
    glci_sys_push(s, 0, 100);
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), T_N + 300);

    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    assert_int_equal(glci_ts_count(log, "ALARM: the collector lost batches"), 1);
    const char *alarm = strstr(log, "ALARM");
    fprintf(stderr, "# %.*s\n", (int)strcspn(alarm, "\n"), alarm);
    assert_non_null(strstr(log, "lost batches 11..14 of stream"));
    assert_non_null(strstr(log, "The 4 retained and 0 undelivered batches continue"));
    free(log);
    js = glci_sys_agent_status(s, 0, "json");
    if (!strstr(js, "\"collector_lost\": {\"events\": 1, \"batches\": 4") ||
        !strstr(js, "\"last_first\": 11, \"last_last\": 14") ||
        !strstr(js, "\"collector_resent\": {\"events\": 1, \"batches\": 4") ||
        !strstr(js, "\"batches\": 0, \"observations\": 0"))
        fail_msg("unexpected status: %s", js);
    free(js);

    s_case_close(&c);
}

/* A backup taken before the agent's stream existed: the restored store
 * does not know the stream and answers GAP expecting batch 1; everything,
 * retained from 1, is sent again and the store ends as before. */
static void test_restore_older_than_the_stream(void **state)
{
    (void)state;
    s_case_t c;
    glci_sys_t *s = s_case_open(&c, "agent-restore-new", NULL, 0);
    glci_sys_push(s, 0, 200);          /* batches 1..4 */
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    s_restore(s, c.backup, c.kept);
    assert_int_equal(glci_sys_stored(s->store), 0);
    s_wait_log(s, "holds batches 1..4 of stream");
    s_assert_same_store(&c);
    glci_sys_assert_exactly_once(s);
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(strstr(log, "the collector lost batches 1..4 of stream"));
    assert_null(strstr(log, "ALARM"));
    free(log);

    s_case_close(&c);
}

static void test_restore_without_retention_moves_on(void **state)
{
    (void)state;
    s_case_t c;
    glci_sys_t *s = s_case_open(&c, "agent-restore-off", "retain = 0\n", T_N);
    s_push_unexpected(s, 300);         /* batches 11..16 */
    assert_int_equal(glci_sys_stored(s->store), T_N + 300);
    char *js = glci_sys_agent_status(s, 0, "json");
    assert_non_null(strstr(js, "\"collector_lost\": null"));
    assert_int_equal(glci_sys_json_int(js, "retained_batches"), 0);
    free(js);

    s_restore(s, c.backup, c.kept);
    assert_int_equal(glci_sys_stored(s->store), T_N);
    glci_sys_push(s, 0, 400);          /* batches 17..24 */
    s_wait_log(s, "continue as batches");
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), T_N + 400);

    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    assert_int_equal(glci_ts_count(log, "ALARM: the collector lost batches"), 1);
    assert_non_null(strstr(log, "lost batches 11..16 of stream"));
    assert_non_null(strstr(log, "done/"));
    assert_non_null(strstr(log, "The 0 retained and 8 undelivered batches continue as "
                                "batches 1..8 of the new stream"));
    free(log);
    js = glci_sys_agent_status(s, 0, "json");
    if (!strstr(js, "\"collector_lost\": {\"events\": 1, \"batches\": 6") ||
        !strstr(js, "\"last_first\": 11, \"last_last\": 16") ||
        !strstr(js, "\"batches\": 0, \"observations\": 0") ||
        !strstr(js, "\"collector_resent\": null"))
        fail_msg("unexpected status: %s", js);
    free(js);
    char *table = glci_sys_agent_status(s, 0, "table");
    if (!strstr(table, "LOST") || !strstr(table, "batches 11..16 of stream") ||
        !strstr(table, "retention off"))
        fail_msg("unexpected status table: %s", table);
    free(table);

    s_case_close(&c);
}

/* A retraction the agent sent after the backup is agent data like a
 * value: retained, sent again, and the restored store withdraws the value
 * again (the same revision, no current value). The checker knows values
 * only, so the stores are compared and `glci verify` run. */
static void test_restore_resends_a_retraction(void **state)
{
    (void)state;
    s_case_t c;
    glci_sys_t *s = s_case_open(&c, "agent-restore-retract", NULL, T_N);
    /* the harness's first value: adult_learning_rate 2020, in the backup */
    const char *argv[] = {s->agent_bin, "retract", "adult_learning_rate", "2020", "--config",
                          s->agents[0].conf, NULL};
    char *err = NULL;
    if (glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, &err) != 0)
        fail_msg("glci-agent retract failed: %s", err ? err : "");
    free(err);
    glci_sys_push(s, 0, 100);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    char *kept = s_dump(s->store);
    assert_non_null(strstr(kept, " retracted\n"));
    free(kept);

    s_restore(s, c.backup, c.kept);
    s_wait_log(s, "holds batches 11..13 of stream");
    s_assert_same_store(&c);
    const char *verify[] = {s->glci, "--store", s->store, "verify", NULL};
    assert_int_equal(glci_ts_run(verify, NULL, GLCI_SYS_DRAIN_MS, NULL, NULL), 0);

    s_case_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_restore_within_retention_loses_nothing,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_restore_of_the_newest_batch_only, glci_sys_teardown),
        cmocka_unit_test_teardown(test_restore_beyond_retention_reports_only_the_old,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_restore_older_than_the_stream, glci_sys_teardown),
        cmocka_unit_test_teardown(test_restore_resends_a_retraction, glci_sys_teardown),
        cmocka_unit_test_teardown(test_restore_without_retention_moves_on, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
