/* Disk full on the collector: a store whose maps may not grow past 1 MiB
 * (the collector's map_max) fills up while two agents deliver over CURVE.
 * The collector says so clearly (one error line naming the store as full),
 * acknowledges nothing it could not store, keeps what it stored consistent
 * (`glci verify` passes, the stored values are an exact prefix of what was
 * sent), and once space is back (a restart with a bigger map_max) every
 * value arrives exactly once, in order. */
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

#define N_AGENTS 2
#define SMALL_MAP ((size_t)1 << 20)

/* Batches still waiting in agent i's outbox. */
static uint64_t s_outbox_depth(glci_sys_t *s, size_t i)
{
    glci_outbox_t *ob = NULL;
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    glci_outbox_status_t st;
    char err[512];
    if (glci_outbox_open(s->agents[i].outbox, &o, &ob, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    glci_outbox_close(&ob);
    return st.batches;
}

static void test_map_full_then_bigger_map(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 50, .window = 4, .store_map = SMALL_MAP,
                         .collector_conf = "map_max = 1048576\n"};
    glci_sys_t *s = glci_sys_open("sys-diskfull", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 20000);     /* far more than 1 MiB holds (each file) */
    }
    if (glci_ts_proc_wait_log(s->coll, "store is full", GLCI_SYS_DRAIN_MS) != 0) {
        char *log = glci_ts_proc_stderr(s->coll);
        fail_msg("the collector never said the store is full: %s", log ? log : "");
    }
    char *log = glci_ts_proc_stderr(s->coll);
    assert_non_null(strstr(log, "failed: store is full (map cannot grow or disk full)"));
    free(log);

    /* Full: the store stops growing (batches of a transaction that did not
     * fit may still fit one by one or in a smaller group, so it may take a
     * few more before nothing fits), and what was not stored was not acked. */
    uint64_t stored = glci_sys_stored(s->store);
    int still = 0;
    for (int waited = 0; !still && waited < GLCI_SYS_DRAIN_MS; waited += 1500) {
        glci_sys_sleep_ms(1500);
        uint64_t now = glci_sys_stored(s->store);
        still = now == stored;
        stored = now;
    }
    assert_true(still);
    assert_true(stored < glci_checker_expected(s->chk));
    uint64_t waiting = 0;
    for (size_t i = 0; i < N_AGENTS; i++)
        waiting += s_outbox_depth(s, i);
    assert_true(waiting > 0);
    fprintf(stderr, "# full at %llu of %llu values, %llu batches waiting\n",
            (unsigned long long)stored, (unsigned long long)glci_checker_expected(s->chk),
            (unsigned long long)waiting);

    /* What is stored is consistent: an exact prefix, verify passes. */
    glci_check_result_t r;
    if (glci_checker_run(s->chk, s->store, s->glci, 1, &r) != 0)
        fail_msg("full store is not an exact prefix: %s", r.first_problem);
    assert_int_equal(r.stored, stored);
    assert_int_equal(r.verify_status, 0);

    /* The operator gives it room and restarts it. */
    glci_sys_stop_collector(s);
    glci_sys_collector_conf(s, "map_max = 268435456\n");
    glci_sys_start_collector(s, NULL);
    glci_sys_assert_exactly_once(s);
    log = glci_ts_proc_stderr(s->coll);
    assert_null(strstr(log, "store is full"));
    free(log);

    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_map_full_then_bigger_map, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
