/* Random packet loss on a real network: the collector and four agents in
 * network namespaces (tests/support/glci_lab.h), nftables dropping 10 % of
 * the packets on every link, then 30 % on one site's link and 20 % on the
 * collector's (each packet drawn on its own: `numgen random mod 100`),
 * values queued throughout over CURVE. TCP retransmits, ZeroMQ heartbeats
 * time out and reconnect; at the end every value is stored exactly once,
 * in order, current, and `glci verify` passes. The rules' counters show
 * that packets were in fact dropped.
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

static unsigned long long s_lost(glci_lab_t *lab, int node)
{
    glci_lab_counts_t c;
    assert_int_equal(glci_lab_counts(lab, node, &c), 0);
    return c.lost;
}

static void test_packet_loss(void **state)
{
    (void)state;
    /* small batches and a small window: many round trips for the loss to hit */
    glci_sys_opts_t so = {.batch_max = 5, .window = 2};
    glci_netsys_opts_t o = {.sites = 2};
    glci_netsys_t *ns = glci_netsys_up("netloss", N_AGENTS, &so, &o);
    glci_sys_t *s = ns->sys;
    glci_lab_t *lab = ns->lab;

    /* 10 % everywhere */
    assert_int_equal(glci_lab_loss(lab, GLCI_LAB_COLLECTOR, 10), 0);
    assert_int_equal(glci_lab_loss(lab, 0, 10), 0);
    assert_int_equal(glci_lab_loss(lab, 1, 10), 0);
    for (int k = 0; k < 8; k++) {
        glci_netsys_push_all(ns, 75);
        glci_sys_sleep_ms(1000);
    }
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);
    unsigned long long l0 = s_lost(lab, GLCI_LAB_COLLECTOR), l1 = s_lost(lab, 0),
                       l2 = s_lost(lab, 1);
    fprintf(stderr, "# 10%%: dropped %llu (collector), %llu (site 0), %llu (site 1)\n", l0, l1,
            l2);
    assert_true(l0 > 0 && l1 > 0 && l2 > 0);

    /* 30 % on site 0's link, 20 % on the collector's */
    assert_int_equal(glci_lab_loss(lab, 0, 30), 0);
    assert_int_equal(glci_lab_loss(lab, GLCI_LAB_COLLECTOR, 20), 0);
    assert_int_equal(glci_lab_loss(lab, 1, 0), 0);
    for (int k = 0; k < 8; k++) {
        glci_netsys_push_all(ns, 50);
        glci_sys_sleep_ms(1000);
    }
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS);
    l0 = s_lost(lab, GLCI_LAB_COLLECTOR);
    l1 = s_lost(lab, 0);
    fprintf(stderr, "# 30%%/20%%: dropped %llu (collector), %llu (site 0)\n", l0, l1);
    assert_true(l0 > 0 && l1 > 0);
    assert_int_equal(s_lost(lab, 1), 0);

    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_lab_heal(lab), 0);
    glci_netsys_close(&ns);
}

GLCI_NETSYS_MAIN(cmocka_unit_test_teardown(test_packet_loss, glci_netsys_teardown))
