/* collector_conns: the connected-agents count from monitor event sequences
 * as libzmq 4.3 gives them (results name no connection), one handshake at a
 * time and several at once, with connections that never speak ZMTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collector_conns.h"

static void test_one_at_a_time_is_exact(void **state)
{
    (void)state;
    glci_collector_conns_t c;
    glci_collector_conns_init(&c);
    glci_collector_conns_accepted(&c, 12);          /* an agent */
    glci_collector_conns_result(&c, 1);
    assert_int_equal(glci_collector_conns_connected(&c), 1);
    for (int i = 0; i < 2; i++) {                   /* HTTP probes: no result */
        glci_collector_conns_accepted(&c, 13);
        assert_int_equal(glci_collector_conns_disconnected(&c, 13), 1);
    }
    glci_collector_conns_accepted(&c, 13);          /* a wrong collector key */
    glci_collector_conns_result(&c, 0);
    assert_int_equal(glci_collector_conns_disconnected(&c, 13), 0);
    assert_int_equal(glci_collector_conns_connected(&c), 1);
    assert_int_equal(glci_collector_conns_disconnected(&c, 12), 0);
    assert_int_equal(glci_collector_conns_connected(&c), 0);
    glci_collector_conns_release(&c);
}

static void test_concurrent_handshakes_settle(void **state)
{
    (void)state;
    glci_collector_conns_t c;
    glci_collector_conns_init(&c);
    /* a restart: 100 agents reconnect at once, a probe among them */
    for (uint32_t fd = 10; fd < 110; fd++)
        glci_collector_conns_accepted(&c, fd);
    glci_collector_conns_accepted(&c, 500);
    for (int i = 0; i < 100; i++)
        glci_collector_conns_result(&c, 1);
    assert_int_equal(glci_collector_conns_connected(&c), 100);
    assert_int_equal(glci_collector_conns_disconnected(&c, 500), 1);
    assert_int_equal(glci_collector_conns_connected(&c), 100);
    /* a refused key while an agent and a probe are pending */
    glci_collector_conns_accepted(&c, 200);         /* probe */
    glci_collector_conns_accepted(&c, 201);         /* refused */
    glci_collector_conns_accepted(&c, 202);         /* agent */
    glci_collector_conns_result(&c, 0);
    glci_collector_conns_result(&c, 1);
    assert_int_equal(glci_collector_conns_disconnected(&c, 201), 0);
    assert_int_equal(glci_collector_conns_disconnected(&c, 200), 1);
    assert_int_equal(glci_collector_conns_connected(&c), 101);
    assert_int_equal(glci_collector_conns_disconnected(&c, 202), 0);
    for (uint32_t fd = 10; fd < 110; fd++)
        assert_int_equal(glci_collector_conns_disconnected(&c, fd), 0);
    assert_int_equal(glci_collector_conns_connected(&c), 0);
    glci_collector_conns_release(&c);
}

static void test_a_wrong_guess_heals_and_never_goes_below_zero(void **state)
{
    (void)state;
    glci_collector_conns_t c;
    glci_collector_conns_init(&c);
    /* an agent and a probe pending, the agent's success unplaced; the
     * agent ends first: taken for the probe, the probe then for the agent */
    glci_collector_conns_accepted(&c, 7);
    glci_collector_conns_accepted(&c, 8);
    glci_collector_conns_result(&c, 1);
    assert_int_equal(glci_collector_conns_connected(&c), 1);
    assert_int_equal(glci_collector_conns_disconnected(&c, 7), 1);
    assert_int_equal(glci_collector_conns_disconnected(&c, 8), 0);
    assert_int_equal(glci_collector_conns_connected(&c), 0);
    /* events for descriptors never accepted (before the watch began) */
    assert_int_equal(glci_collector_conns_disconnected(&c, 9), 0);
    assert_int_equal(glci_collector_conns_disconnected(&c, 100000), 0);
    glci_collector_conns_result(&c, 1);
    assert_int_equal(glci_collector_conns_connected(&c), 0);
    /* a descriptor reused without its end seen */
    glci_collector_conns_accepted(&c, 3);
    glci_collector_conns_result(&c, 1);
    glci_collector_conns_accepted(&c, 3);
    assert_int_equal(glci_collector_conns_connected(&c), 0);
    glci_collector_conns_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_at_a_time_is_exact),
        cmocka_unit_test(test_concurrent_handshakes_settle),
        cmocka_unit_test(test_a_wrong_guess_heals_and_never_goes_below_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
