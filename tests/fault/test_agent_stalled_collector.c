/* A collector that is only stalled (kill -STOP) is no key problem, with
 * the real glci-collector and glci-agent on loopback over CURVE.
 *
 * Stopped, the collector's kernel still accepts TCP connections, but
 * nothing answers the greeting: libzmq's handshake timer ends each try
 * with HANDSHAKE_FAILED_NO_DETAIL and then DISCONNECTED. The agent logs
 * that nothing answered the handshake and stays `disconnected` in status
 * (no `refused (handshake failed)`, no connection_reason, no
 * state="handshake_failed" in its metrics file, which says the city must
 * fix collector_key); resumed, the collector gets everything exactly once.
 * (A wrong collector_key is still handshake_failed: test_system_keys.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"
#include "glci_testsupport.h"

static void test_stalled_collector_is_disconnected_not_refused(void **state)
{
    (void)state;
    char prom[700], lines[800];
    glci_sys_opts_t o = {.batch_max = 50, .window = 4};
    glci_sys_t *s = glci_sys_open("agent-stalled-collector", 1, &o);
    snprintf(prom, sizeof prom, "%s/agent.prom", s->dir);
    snprintf(lines, sizeof lines, "metrics_file = %s\n", prom);
    char *conf = glci_ts_read_file(s->agents[0].conf);
    assert_non_null(conf);
    size_t len = strlen(conf) + strlen(lines) + 1;
    char *more = malloc(len);
    assert_non_null(more);
    snprintf(more, len, "%s%s", conf, lines);
    assert_int_equal(glci_ts_write_file(s->agents[0].conf, more), 0);
    free(more);
    free(conf);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 10);
    glci_sys_wait_stored(s, 10, GLCI_SYS_DRAIN_MS);

    pid_t coll = glci_ts_proc_pid(s->coll);
    assert_int_equal(kill(coll, SIGSTOP), 0);
    glci_sys_push(s, 0, 10);
    /* a try timed out unanswered (the heartbeat drops the first
     * connection, the next one is accepted and never greeted) */
    int seen = glci_ts_proc_wait_log(s->agents[0].proc, "did not answer the handshake",
                                     GLCI_SYS_DRAIN_MS);
    char *js = seen == 0 ? glci_sys_agent_status(s, 0, "json") : NULL;
    char *text = seen == 0 ? glci_ts_read_file(prom) : NULL;
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    kill(coll, SIGCONT);                     /* resumed whatever the outcome */
    if (seen != 0)
        fail_msg("no unanswered handshake logged:\n%s", log ? log : "");
    if (!strstr(js, "\"connection\": \"disconnected\"") ||
        !strstr(js, "\"connection_reason\": null") || strstr(log, "handshake failed") ||
        strstr(log, "the collector's key is not"))
        fail_msg("status:\n%s\nlog:\n%s", js, log ? log : "");
    if (text && strstr(text, "glci_agent_connection_state{state=\"handshake_failed\"} 1"))
        fail_msg("metrics:\n%s", text);
    free(js);
    free(text);
    free(log);

    /* resumed: everything arrives, and the state is connected again */
    glci_sys_assert_exactly_once(s);
    js = glci_sys_wait_agent_status(s, 0, "json", "\"connection\": \"connected\"",
                                    GLCI_SYS_DRAIN_MS);
    free(js);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stalled_collector_is_disconnected_not_refused,
                                  glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
