/* An agent whose connection is corrupted on the way recovers once the
 * network is clean again. glci-faultproxy flips a bit in every chunk for
 * a few seconds (every CURVE handshake and message box fails to open),
 * then stops; the agent must reconnect by itself and deliver everything
 * exactly once, without a restart.
 *
 * libzmq ends a connecting session for good after a protocol error (a
 * handshake or message box that does not check out): it reconnects after
 * connection errors and timeouts only. So a single corrupted segment on a
 * city's link stops that agent until someone restarts it, unless the
 * agent dials again itself.
 *
 * Skipped (exit 77) where network namespaces cannot be made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "glci_netsys.h"

static void test_agent_recovers_after_corruption(void **state)
{
    (void)state;
    glci_sys_opts_t so = {.batch_max = 10, .window = 4};
    glci_netsys_opts_t o = {.sites = 1, .proxy = 1, .seed = 7};
    glci_netsys_t *ns = glci_netsys_up("netcorrupt", 1, &so, &o);
    glci_sys_t *s = ns->sys;

    glci_sys_push(s, 0, 50);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);

    assert_int_equal(glci_netsys_proxy_set(ns, "flip_pct = 100\n"), 0);
    glci_sys_push(s, 0, 50);
    glci_sys_sleep_ms(4000);
    assert_int_equal(glci_netsys_proxy_set(ns, ""), 0);
    glci_proxy_stats_t st;
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    assert_true(st.flips > 0);

    glci_sys_assert_exactly_once(s);
    glci_netsys_close(&ns);
}

GLCI_NETSYS_MAIN(cmocka_unit_test_teardown(test_agent_recovers_after_corruption, glci_netsys_teardown))
