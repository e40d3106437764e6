/* The collector away while every agent keeps working: stopped with SIGSTOP
 * under load from six agents (longer than the agents' heartbeat timeout),
 * and not running at all while every agent builds up a backlog through
 * push and spool intake, then started so that all backlogs arrive at once.
 * Each ends with every value exactly once, in order, and `glci verify`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>

#include "glci_checker.h"

#define N_AGENTS 6

static void test_collector_sigstop_under_load(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 50, .window = 8};
    glci_sys_t *s = glci_sys_open("sys-sigstop", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 2000);
    }
    glci_sys_wait_stored(s, 2000, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_ts_proc_signal(s->coll, SIGSTOP), 0);
    uint64_t at_stop = glci_sys_stored(s->store);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_push(s, i, 500);
        glci_sys_spool(s, i, 500);
    }
    glci_sys_sleep_ms(6000);               /* past the agents' heartbeat timeout */
    assert_int_equal(glci_sys_stored(s->store), at_stop);
    assert_int_equal(glci_ts_proc_signal(s->coll, SIGCONT), 0);
    glci_sys_assert_exactly_once(s);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

static void test_restart_with_backlog_from_every_agent(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 100, .window = 8};
    glci_sys_t *s = glci_sys_open("sys-backlog", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 300);
    }
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);
    glci_sys_stop_collector(s);
    /* Every agent builds a backlog while the collector is down. */
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_push(s, i, 3000);
        glci_sys_spool(s, i, 1000);
        glci_sys_push(s, i, 1000);
    }
    glci_sys_sleep_ms(1000);               /* the agents take in their spools, retry */
    assert_int_equal(glci_sys_stored(s->store), (uint64_t)N_AGENTS * 300);
    glci_sys_start_collector(s, NULL);
    glci_sys_assert_exactly_once(s);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_collector_sigstop_under_load, glci_sys_teardown),
        cmocka_unit_test_teardown(test_restart_with_backlog_from_every_agent, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
