/* The harness's insecure mode, end to end: a collector started with
 * --insecure on loopback and agents whose config says `insecure = true`
 * deliver every value exactly once without CURVE, the collector says loudly
 * that it runs without it, and verify passes. Tests that use this mode
 * (where CURVE is beside the point) rely on both sides agreeing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"

#define N_AGENTS 2

static void test_insecure_loopback_delivers_exactly_once(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.insecure = 1, .batch_max = 40, .window = 4};
    glci_sys_t *s = glci_sys_open("sys-insecure", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 300);
    }
    glci_sys_spool(s, 1, 120);
    glci_sys_wait_stored(s, 2 * 300 + 120, GLCI_SYS_DRAIN_MS);
    glci_sys_assert_exactly_once(s);

    char *log = glci_ts_proc_stderr(s->coll);
    assert_non_null(log);
    if (!strstr(log, "INSECURE"))
        fail_msg("the collector did not warn that it runs without CURVE:\n%s", log);
    free(log);

    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_insecure_loopback_delivers_exactly_once,
                                  glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
