/* Reordering and corruption inside a TCP stream, which TCP itself never
 * delivers: glci-faultproxy between four agents and the collector (network
 * namespaces, tests/support/glci_lab.h) swaps a chunk of a connection's
 * bytes with the next one, then flips single bits. ZMTP/CURVE must see
 * each (a message box that does not open, a nonce out of order), drop the
 * connection, and the agent must reconnect and resend; the collector must
 * stay up and store nothing twice. At the end every value is stored
 * exactly once, in order, current, and `glci verify` passes; the proxy's
 * counters show the faults happened.
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

/* The proxy's count of the fault the phase injects. */
static unsigned long long s_count(glci_netsys_t *ns, int flips)
{
    glci_proxy_stats_t st;
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    return flips ? st.flips : st.swaps;
}

/* Load with the fault on: six rounds, and more (at most 30 in all) while
 * the proxy has not yet met a chunk to fault, as a light load on few
 * connections sometimes gives it none. */
static void s_phase(glci_netsys_t *ns, const char *lines, int flips)
{
    unsigned long long before = s_count(ns, flips);
    assert_int_equal(glci_netsys_proxy_set(ns, lines), 0);
    for (int k = 0; k < 30 && (k < 6 || s_count(ns, flips) == before); k++) {
        glci_netsys_push_all(ns, 50);
        glci_sys_sleep_ms(1000);
    }
    /* the faults off, so the queued values get through */
    assert_int_equal(glci_netsys_proxy_set(ns, ""), 0);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_wait_outbox_empty(ns->sys, i, GLCI_SYS_DRAIN_MS);
    glci_sys_wait_stored(ns->sys, glci_checker_expected(ns->sys->chk), GLCI_SYS_DRAIN_MS);
}

static void test_swapped_and_flipped_bytes(void **state)
{
    (void)state;
    uint64_t seed = glci_sys_seed();
    glci_sys_opts_t so = {.batch_max = 10, .window = 4};
    glci_netsys_opts_t o = {.sites = 2, .proxy = 1, .seed = seed};
    glci_netsys_t *ns = glci_netsys_up("netreorder", N_AGENTS, &so, &o);
    glci_proxy_stats_t st;

    s_phase(ns, "swap_pct = 5\n", 0);
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    fprintf(stderr, "# swaps %llu over %llu chunks, %llu connections\n", st.swaps, st.chunks,
            st.conns);
    assert_true(st.swaps > 0);

    s_phase(ns, "flip_pct = 3\n", 1);
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    fprintf(stderr, "# flips %llu over %llu chunks, %llu connections\n", st.flips, st.chunks,
            st.conns);
    assert_true(st.flips > 0);

    assert_true(glci_ts_proc_alive(ns->sys->coll));
    glci_sys_assert_exactly_once(ns->sys);
    glci_netsys_close(&ns);
}

GLCI_NETSYS_MAIN(cmocka_unit_test_teardown(test_swapped_and_flipped_bytes, glci_netsys_teardown))
