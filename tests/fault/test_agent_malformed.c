/* A batch the collector refuses as MALFORMED (here: more observations than
 * the collector's batch_max) is permanent for that batch: the agent writes
 * its rows to rejected.csv with the collector's error, quarantines it, and
 * delivers the next batches (the empty batch that takes its number moves
 * the collector's mark, so no GAP follows). Real processes over CURVE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"
#include "glci_outbox.h"

static size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_malformed_batch_is_dead_lettered(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 20, .window = 4, .collector_conf = "batch_max = 10\n"};
    glci_sys_t *s = glci_sys_open("agent-malformed", 1, &o);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);

    /* 20 values in one batch: over the collector's limit, not expected */
    glci_checker_t *keep = s->chk;
    s->chk = glci_checker_new();
    glci_sys_push(s, 0, 20);
    glci_checker_free(&s->chk);
    s->chk = keep;
    glci_sys_push(s, 0, 5);                          /* a batch of 5: fine */
    glci_sys_push(s, 0, 7);
    glci_sys_wait_stored(s, 12, GLCI_SYS_DRAIN_MS);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    /* every value once, in order; the checker's one seq remark is the empty
     * batch that took number 1 (it stores no value) */
    glci_check_result_t r;
    glci_checker_run(s->chk, s->store, s->glci, 0, &r);
    fprintf(stderr, "# lost %llu dup %llu unexpected %llu disordered %llu seq %llu: %s\n",
            (unsigned long long)r.lost, (unsigned long long)r.duplicated,
            (unsigned long long)r.unexpected, (unsigned long long)r.disordered,
            (unsigned long long)r.seq_errors, r.first_problem);
    assert_int_equal(r.lost, 0);
    assert_int_equal(r.duplicated, 0);
    assert_int_equal(r.unexpected, 0);
    assert_int_equal(r.disordered, 0);
    assert_int_equal(r.seq_errors, 1);
    assert_int_equal(r.stored, 12);
    assert_int_equal(glci_sys_stored(s->store), 12);

    char path[700];
    snprintf(path, sizeof path, "%s/rejected.csv", s->dir);
    snprintf(path, sizeof path, "%s", s->agents[0].spool);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof path - (size_t)(slash - path), "/rejected.csv");
    char *dl = glci_ts_read_file(path);
    assert_non_null(dl);
    assert_int_equal(s_count(dl, "batch refused as malformed"), 20);
    free(dl);

    glci_outbox_t *ob = NULL;
    char err[256];
    glci_outbox_opts_t oo = {.flags = GLCI_OUTBOX_NOCREATE};
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_open(s->agents[0].outbox, &oo, &ob, err, sizeof err), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    glci_outbox_close(&ob);
    assert_int_equal(st.rejects, 20);
    assert_int_equal(st.quarantined, 1);
    assert_int_equal(st.batches, 0);

    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    assert_int_equal(s_count(log, "ALARM: the collector refused batch 1 of stream"), 1);
    free(log);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_malformed_batch_is_dead_lettered, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
