/* The collector's store restored from an older backup, seen from a running
 * agent, with the real processes on loopback over CURVE.
 *
 * The agent delivers N values; `glci backup` copies the store; the agent
 * delivers M more (acked, hence deleted from its outbox); the collector is
 * stopped and its store replaced by the copy the way docs/OPERATIONS.md
 * says (the broken store moved aside, the copy put in its place, the safely
 * kept collector key put back); the collector starts again and K more
 * values are queued at the agent, which is never restarted. Its next
 * batches get GAP answers expecting a batch below its oldest one: it must
 * log the ALARM naming the lost batches once, move its outbox onto a new
 * stream, and deliver the K values exactly once. The store then holds the
 * N and the K values exactly once and in order (the exactly-once checker,
 * stream seqs 1..mark for both streams, `glci verify`), none of the M, and
 * `glci-agent status` reports the M's batches as lost by the collector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glci_checker.h"

#define T_BATCH 50
#define T_N 500      /* batches 1..10: in the backup */
#define T_M 300      /* batches 11..16: acked after the backup, then lost */
#define T_K 400      /* batches 17..24, sent after the restore */

static char *s_agent_status(glci_sys_t *s, const char *format)
{
    const char *argv[] = {s->agent_bin, "status", "--config", s->agents[0].conf,
                          "--format", format, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_READY_MS, &out, &err);
    if (rc != 0)
        fail_msg("glci-agent status exited %d: %s", rc, err ? err : "");
    free(err);
    return out;
}

static void test_agent_moves_on_after_store_restore(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = T_BATCH, .window = 4};
    glci_sys_t *s = glci_sys_open("agent-restore", 1, &o);
    char backup[600], broken[600];
    snprintf(backup, sizeof backup, "%s/backup", s->dir);
    snprintf(broken, sizeof broken, "%s.broken", s->store);

    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, T_N);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_sys_stored(s->store), T_N);

    const char *args[] = {"backup", backup, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci backup exited %d: %s", rc, err ? err : "");
    free(out);
    free(err);

    /* M values delivered after the backup: the checker does not expect
     * them, since the restore below loses them. */
    glci_checker_t *keep = s->chk;
    s->chk = glci_checker_new();
    glci_sys_push(s, 0, T_M);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_checker_free(&s->chk);
    s->chk = keep;
    assert_int_equal(glci_sys_stored(s->store), T_N + T_M);
    char *js = s_agent_status(s, "json");
    assert_non_null(strstr(js, "\"collector_lost\": null"));
    free(js);

    /* Restore, as docs/OPERATIONS.md says; the agent keeps running. */
    glci_sys_stop_collector(s);
    assert_int_equal(rename(s->store, broken), 0);
    assert_int_equal(rename(backup, s->store), 0);
    char src[700], dst[700];
    snprintf(src, sizeof src, "%s/collector.key", broken);
    snprintf(dst, sizeof dst, "%s/collector.key", s->store);
    char *key = glci_ts_read_file(src);
    assert_non_null(key);
    assert_int_equal(glci_ts_write_file(dst, key), 0);
    assert_int_equal(chmod(dst, 0600), 0);
    free(key);
    {
        const char *argv[] = {s->glci, "--store", s->store, "verify", NULL};
        rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, NULL);
        assert_int_equal(rc, 0);
    }
    glci_sys_start_collector(s, NULL);
    assert_int_equal(glci_sys_stored(s->store), T_N);

    glci_sys_push(s, 0, T_K);
    if (glci_ts_proc_wait_log(s->agents[0].proc, "continue as batches", GLCI_SYS_DRAIN_MS)
        != 0) {
        char *log = glci_ts_proc_stderr(s->agents[0].proc);
        fail_msg("the agent did not move to a new stream: %s", log ? log : "");
    }
    /* every value expected (N, then K) stored exactly once and in order,
     * both streams' seqs exact, verify passing; none of the M */
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), T_N + T_K);

    /* the alarm once, naming the lost batches 11..16 and what to do */
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    assert_int_equal(glci_ts_count(log, "ALARM: the collector lost batches"), 1);
    const char *alarm = strstr(log, "ALARM");
    fprintf(stderr, "# %.*s\n", (int)strcspn(alarm, "\n"), alarm);
    assert_non_null(strstr(log, "lost batches 11..16 of stream"));
    assert_non_null(strstr(log, "done/"));
    assert_non_null(strstr(log, "continue as batches 1..8 of the new stream"));
    free(log);

    /* status shows it, in json and in the table */
    js = s_agent_status(s, "json");
    if (!strstr(js, "\"collector_lost\": {\"events\": 1, \"batches\": 6") ||
        !strstr(js, "\"last_first\": 11, \"last_last\": 16") ||
        !strstr(js, "\"batches\": 0, \"observations\": 0"))
        fail_msg("unexpected status: %s", js);
    free(js);
    char *table = s_agent_status(s, "table");
    if (!strstr(table, "LOST") || !strstr(table, "batches 11..16 of stream"))
        fail_msg("unexpected status table: %s", table);
    free(table);

    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_ts_rmtree(broken);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_agent_moves_on_after_store_restore, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
