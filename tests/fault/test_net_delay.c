/* Delay, jitter and reordering between connections on a real network:
 * four agents reach the collector (each in network namespaces of its own
 * kind, tests/support/glci_lab.h) through glci-faultproxy in the hub, over
 * CURVE. Phases, values queued throughout:
 *   1. every chunk held 200 ms +- 150 ms (order kept within a stream);
 *   2. 600 ms +- 300 ms per connection, while agents are killed with
 *      SIGKILL and restarted at once: the dead process's connection still
 *      delivers its batches through the proxy while the new process's
 *      connection, with a delay of its own, resends them, so the same
 *      batches reach the collector twice and in either order;
 *   3. a stall: the proxy holds every byte for 8 s with the connections
 *      open (heartbeats time out on both sides), then lets go.
 * At the end every value is stored exactly once, in order, current, and
 * `glci verify` passes.
 *
 * Skipped (exit 77) where network namespaces cannot be made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "glci_netsys.h"

#define N_AGENTS 4

static void test_delay_jitter_and_overtaking(void **state)
{
    (void)state;
    uint64_t rng = glci_sys_seed();
    glci_sys_opts_t so = {.batch_max = 10, .window = 4};
    glci_netsys_opts_t o = {.sites = 2, .proxy = 1, .seed = rng};
    glci_netsys_t *ns = glci_netsys_up("netdelay", N_AGENTS, &so, &o);
    glci_sys_t *s = ns->sys;

    assert_int_equal(glci_netsys_proxy_set(ns, "delay_ms = 200\njitter_ms = 150\n"), 0);
    for (int k = 0; k < 5; k++) {
        glci_netsys_push_all(ns, 80);
        glci_sys_sleep_ms(1000);
    }
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);

    assert_int_equal(glci_netsys_proxy_set(ns, "delay_ms = 600\njitter_ms = 300\n"), 0);
    for (int k = 0; k < 8; k++) {
        size_t i = (size_t)(glci_sys_rand(&rng) % N_AGENTS);
        glci_netsys_push_all(ns, 60);
        glci_sys_sleep_ms(300 + (long)(glci_sys_rand(&rng) % 1200));
        glci_sys_kill9_agent(s, i);
        assert_int_equal(glci_netsys_start_agent(ns, i), 0);
    }
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);

    assert_int_equal(glci_netsys_proxy_set(ns, "stall = 1\n"), 0);
    glci_netsys_push_all(ns, 100);
    glci_sys_sleep_ms(8000);
    assert_int_equal(glci_netsys_proxy_set(ns, "delay_ms = 100\njitter_ms = 100\n"), 0);

    glci_sys_assert_exactly_once(s);
    glci_proxy_stats_t st;
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    fprintf(stderr, "# proxy: %llu connections, %llu chunks\n", st.conns, st.chunks);
    assert_true(st.conns > N_AGENTS);
    glci_netsys_close(&ns);
}

GLCI_NETSYS_MAIN(cmocka_unit_test_teardown(test_delay_jitter_and_overtaking, glci_netsys_teardown))
