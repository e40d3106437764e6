/* kill -9 at random moments, at system level: the collector killed 24 times
 * while four agents deliver push and spool intake, and agents killed at
 * random while they take in spool files and deliver. Each ends with every
 * value stored exactly once, in order, and `glci verify` passing (the
 * checker in tests/support/glci_checker.c).
 *
 * The moments come from a seeded PRNG; the seed is printed (# GLCI_SEED=N)
 * and a failing run is repeated with GLCI_SEED=N. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "glci_checker.h"

#define N_AGENTS 4
#define N_COLLECTOR_KILLS 24
#define N_AGENT_KILLS 12

static void test_collector_kill9_at_random_moments(void **state)
{
    (void)state;
    uint64_t rng = glci_sys_seed();
    glci_sys_opts_t o = {.batch_max = 20, .window = 8};
    glci_sys_t *s = glci_sys_open("sys-kill-coll", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 3000);
    }
    for (int k = 0; k < N_COLLECTOR_KILLS; k++) {
        /* more load keeps arriving between kills, by both intakes */
        size_t i = (size_t)(glci_sys_rand(&rng) % N_AGENTS);
        if (k % 2)
            glci_sys_spool(s, i, 200);
        else
            glci_sys_push(s, i, 200);
        glci_sys_sleep_ms((long)(glci_sys_rand(&rng) % 400));
        uint64_t before = glci_sys_stored(s->store);
        glci_sys_kill9_collector(s);
        fprintf(stderr, "# kill %d: %llu of %llu stored\n", k + 1,
                (unsigned long long)before,
                (unsigned long long)glci_checker_expected(s->chk));
        if (glci_sys_rand(&rng) % 2)
            glci_sys_sleep_ms((long)(glci_sys_rand(&rng) % 300));
        glci_sys_start_collector(s, NULL);
    }
    glci_sys_assert_exactly_once(s);
    glci_sys_stop_collector(s);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_close(&s);
}

static void test_agents_kill9_at_random_moments(void **state)
{
    (void)state;
    uint64_t rng = glci_sys_seed();
    glci_sys_opts_t o = {.batch_max = 25, .window = 4};
    glci_sys_t *s = glci_sys_open("sys-kill-agents", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 1000);
    }
    for (int k = 0; k < N_AGENT_KILLS; k++) {
        size_t i = (size_t)(glci_sys_rand(&rng) % N_AGENTS);
        /* a spool file lands, then the agent dies at some moment of its
         * intake or delivery */
        glci_sys_spool(s, i, 500);
        glci_sys_sleep_ms((long)(glci_sys_rand(&rng) % 300));
        glci_sys_kill9_agent(s, i);
        if (k % 3 == 0)
            glci_sys_push(s, i, 300);   /* queued while no daemon runs */
        glci_sys_start_agent(s, i);
    }
    glci_sys_assert_exactly_once(s);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_collector_kill9_at_random_moments, glci_sys_teardown),
        cmocka_unit_test_teardown(test_agents_kill9_at_random_moments, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
