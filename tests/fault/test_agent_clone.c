/* A cloned outbox (a VM clone, a backup of the city's server restored
 * beside the running one), with the real processes on loopback over CURVE.
 *
 * Agent A delivers some values, stops; its outbox folder is copied to a
 * second agent B of the same city (same stream, same next number). Both
 * queue different values under the same numbers: A 3 batches, B 8. A
 * delivers first. B's first batches are answered DUPLICATE "with different
 * content" (A's are stored under those numbers); B's later ones, above A's,
 * are applied under the old stream while B's window is in flight. B must
 * log the ALARM, move only the batches the collector does not hold onto a
 * new stream, and deliver them there: every value of both agents stored
 * exactly once (the checker; B's values in lanes of their own), nothing
 * left in either outbox, and B's status recording the move. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glci_alloc.h"
#include "glci_checker.h"
#include "glci_outbox.h"

#define T_BATCH 20

static const char *const s_ind[4] = {"adult_learning_rate", "adult_literacy_rate",
                                     "volunteering_rate", "employment_rate"};

/* n values for agent i from its own counter, in a lane of their own. */
static void s_push_lane(glci_sys_t *s, size_t i, size_t n)
{
    glci_sys_agent_t *a = &s->agents[i];
    char path[700];
    snprintf(path, sizeof path, "%s/push-%zu.csv", s->dir, i);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    uint32_t lane = glci_checker_new_lane(s->chk);
    fprintf(f, "indicator,period,value\n");
    for (size_t m = 0; m < n; m++, a->next++) {
        uint64_t k = a->next, j = k / 4;
        char text[32];
        snprintf(text, sizeof text, "%.3f", (double)(j % 100000) / 1000.0);
        fprintf(f, "%s,%d,%s\n", s_ind[k % 4], (int)(2020 + j % 5), text);
        glci_checker_expect_lane(s->chk, a->city, s_ind[k % 4], (int32_t)(2020 + j % 5),
                                 strtod(text, NULL), lane);
    }
    assert_int_equal(fclose(f), 0);
    const char *argv[] = {s->agent_bin, "push", "--config", a->conf, "--csv", path, NULL};
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, &err);
    if (rc != 0)
        fail_msg("push for agent %zu failed (%d): %s", i, rc, err ? err : "");
    free(err);
}

static void s_status(const char *dir, glci_outbox_status_t *st)
{
    glci_outbox_t *ob = NULL;
    char err[256];
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    assert_int_equal(glci_outbox_open(dir, &o, &ob, err, sizeof err), 0);
    assert_int_equal(glci_outbox_status(ob, st), 0);
    glci_outbox_close(&ob);
}

static void test_cloned_outbox_delivers_both(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = T_BATCH, .window = 8};
    glci_sys_t *s = glci_sys_open("agent-clone", 1, &o);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 5 * T_BATCH);               /* batches 1..5 */
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_sys_stop_agent(s, 0);

    /* the clone: agent 1, the same city, a copy of the outbox folder */
    s->agents = glci_xrealloc(s->agents, 2 * sizeof *s->agents);
    s->n_agents = 2;
    glci_sys_agent_t *a = &s->agents[0], *b = &s->agents[1];
    memset(b, 0, sizeof *b);
    snprintf(b->city, sizeof b->city, "%s", a->city);
    snprintf(b->key, sizeof b->key, "%s", a->key);
    snprintf(b->outbox, sizeof b->outbox, "%s/clone-outbox", s->dir);
    snprintf(b->spool, sizeof b->spool, "%s/clone-spool", s->dir);
    snprintf(b->conf, sizeof b->conf, "%s/clone.conf", s->dir);
    b->next = 200000;                               /* values A never makes */
    {
        const char *argv[] = {"/bin/cp", "-a", a->outbox, b->outbox, NULL};
        assert_int_equal(glci_ts_run(argv, NULL, GLCI_SYS_READY_MS, NULL, NULL), 0);
    }
    char *conf = glci_ts_read_file(a->conf);
    assert_non_null(conf);
    char *text = glci_xmalloc(strlen(conf) + 2048);
    char *p = strstr(conf, "outbox = ");
    assert_non_null(p);
    *p = '\0';
    snprintf(text, strlen(conf) + 2048, "%soutbox = %s\nspool = %s\nbatch_max = %d\n"
             "window = %d\nheartbeat_ivl = 1000\nlog_level = info\n",
             conf, b->outbox, b->spool, T_BATCH, 8);
    assert_int_equal(glci_ts_write_file(b->conf, text), 0);
    free(text);
    free(conf);

    s_push_lane(s, 0, 3 * T_BATCH);                 /* A: batches 6..8 */
    /* B: batches 6..13, other values. Its 6..8 land after its 9..13 (those
     * were applied while the clash was found), so they are lanes of their
     * own: the order between them is not kept (docs/AGENT.md). */
    s_push_lane(s, 1, 3 * T_BATCH);
    s_push_lane(s, 1, 5 * T_BATCH);
    glci_outbox_status_t sa, sb;
    s_status(a->outbox, &sa);
    s_status(b->outbox, &sb);
    assert_true(sa.stream == sb.stream);

    glci_sys_start_agent(s, 0);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_sys_start_agent(s, 1);
    if (glci_ts_proc_wait_log(b->proc, "of the new stream", GLCI_SYS_DRAIN_MS) != 0) {
        char *log = glci_ts_proc_stderr(b->proc);
        fail_msg("the clone did not move to a new stream: %s", log ? log : "");
    }
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), (5 + 3 + 8) * T_BATCH);

    char *log = glci_ts_proc_stderr(b->proc);
    assert_non_null(log);
    const char *alarm = strstr(log, "ALARM: the collector holds other content");
    assert_non_null(alarm);
    fprintf(stderr, "# %.*s\n", (int)strcspn(alarm, "\n"), alarm);
    /* B's 6..8 clashed with A's; its 9..13 were applied under the old stream */
    assert_non_null(strstr(log, "5 batches of stream"));
    assert_non_null(strstr(log, "continue as batches 1..3 of the new stream"));
    free(log);
    s_status(b->outbox, &sb);
    assert_int_equal(sb.clash_events, 1);
    assert_true(sb.clash_stream == sa.stream);
    assert_true(sb.stream != sa.stream);
    assert_int_equal(sb.batches, 0);

    /* `glci-agent status --format json` reports the move */
    const char *argv[] = {s->agent_bin, "status", "--config", b->conf, "--format", "json",
                          NULL};
    char *out = NULL;
    assert_int_equal(glci_ts_run(argv, NULL, 30000, &out, NULL), 0);
    assert_non_null(out);
    fprintf(stderr, "# status: %s", out);
    char want[128], at[32];
    snprintf(want, sizeof want, "\"clash_events\": 1, \"clash_stream\": \"%016llx\", "
             "\"clash_at\": \"", (unsigned long long)sa.stream);
    const char *got = strstr(out, want);
    assert_non_null(got);
    snprintf(at, sizeof at, "%.20s", got + strlen(want));   /* 2026-01-01T00:00:00Z */
    assert_int_equal(strlen(at), 20);
    assert_true(at[4] == '-' && at[10] == 'T' && at[19] == 'Z');
    assert_non_null(strstr(out, "\"dead_letters_pending\": 0"));
    free(out);

    glci_sys_stop_agent(s, 0);
    glci_sys_stop_agent(s, 1);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cloned_outbox_delivers_both, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
