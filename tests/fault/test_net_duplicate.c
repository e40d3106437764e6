/* Duplication on a real network, at each level it can happen: four agents
 * and the collector in network namespaces (tests/support/glci_lab.h),
 * through glci-faultproxy, over CURVE.
 *   1. packets: nftables sends 30 % of the packets on every link twice
 *      (`dup`); TCP must discard the copies.
 *   2. bytes within a stream: the proxy sends 4 % of the chunks twice,
 *      which corrupts the stream; CURVE must refuse the replayed message
 *      box (its nonce is not new), drop the connection, and the agent
 *      resend.
 *   3. whole conversations: the proxy replays every ended connection's
 *      first 64 KiB on a fresh connection to the collector (and resets 1 %
 *      of the chunks' connections, and kills one agent, so some end); CURVE
 *      must refuse each replay (its cookie belongs to another connection)
 *      and store nothing from it.
 * At the end every value is stored exactly once, in order, current, and
 * `glci verify` passes; the counters show each fault happened.
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

static void s_load(glci_netsys_t *ns)
{
    for (int k = 0; k < 6; k++) {
        glci_netsys_push_all(ns, 50);
        glci_sys_sleep_ms(1000);
    }
}

static void test_duplicates(void **state)
{
    (void)state;
    uint64_t seed = glci_sys_seed();
    glci_sys_opts_t so = {.batch_max = 10, .window = 4};
    glci_netsys_opts_t o = {.sites = 2, .proxy = 1, .seed = seed};
    glci_netsys_t *ns = glci_netsys_up("netdup", N_AGENTS, &so, &o);
    glci_sys_t *s = ns->sys;
    glci_lab_t *lab = ns->lab;
    const int nodes[] = {GLCI_LAB_COLLECTOR, 0, 1};

    for (size_t k = 0; k < 3; k++)
        assert_int_equal(glci_lab_dup(lab, nodes[k], 30), 0);
    s_load(ns);
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);
    for (size_t k = 0; k < 3; k++) {
        glci_lab_counts_t c;
        assert_int_equal(glci_lab_counts(lab, nodes[k], &c), 0);
        fprintf(stderr, "# link %d: %llu packets sent twice\n", nodes[k], c.duplicated);
        assert_true(c.duplicated > 0);
    }
    assert_int_equal(glci_lab_heal(lab), 0);

    glci_proxy_stats_t st;
    assert_int_equal(glci_netsys_proxy_set(ns, "dup_pct = 4\n"), 0);
    s_load(ns);
    assert_int_equal(glci_netsys_proxy_set(ns, ""), 0);
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    fprintf(stderr, "# %llu chunks sent twice of %llu\n", st.dups, st.chunks);
    assert_true(st.dups > 0);

    assert_int_equal(glci_netsys_proxy_set(ns, "replay_pct = 100\nreset_pct = 1\n"), 0);
    s_load(ns);
    /* resets at 1 % of the chunks may end no connection in a short load;
     * an agent killed and started again always ends one */
    glci_netsys_kill9(&s->agents[0].proc);
    assert_int_equal(glci_netsys_start_agent(ns, 0), 0);
    s_load(ns);
    assert_int_equal(glci_netsys_proxy_set(ns, ""), 0);
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    fprintf(stderr, "# %llu connections replayed, %llu reset\n", st.replays, st.resets);
    assert_true(st.replays > 0);
    assert_true(glci_ts_proc_alive(s->coll));
    glci_netsys_close(&ns);
}

GLCI_NETSYS_MAIN(cmocka_unit_test_teardown(test_duplicates, glci_netsys_teardown))
