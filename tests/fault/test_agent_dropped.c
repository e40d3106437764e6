/* A collector that drops every connection carrying a batch: its
 * max_message (ZMQ_MAXMSGSIZE) is below the size of the agent's batch, so
 * libzmq closes the connection when the batch arrives and nothing answers
 * it. Real glci-collector and glci-agent over CURVE on loopback.
 *
 * The agent does not dial again ten times a second: after two drops in a
 * row it waits, 1 s doubling to 10 s, one log line per wait naming the
 * batch and its size and the collector's max_message as the likely cause,
 * and `status` says so. With max_message raised (the collector restarted),
 * the batch is delivered at the end of the wait, exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"

static size_t s_count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static void test_dropped_batch_waits_between_dials(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("agent-dropped", 1, NULL);
    glci_sys_collector_conf(s, "max_message = 1024\n");
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 100);          /* one batch of about 4 KB */

    /* 8 s: without a wait the agent dials about 80 times */
    glci_sys_sleep_ms(8000);
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    size_t dials = s_count(log, "connected to ");
    print_message("# %zu connections in 8 s\n", dials);
    if (dials > 10)
        fail_msg("%zu connections in 8 s: the agent dials again at once:\n%s", dials, log);
    if (!strstr(log, "drops a connection whose message is larger than its max_message"))
        fail_msg("no line names the likely cause:\n%s", log);
    if (!strstr(log, " bytes) was sent, without an answer"))
        fail_msg("no line names the batch's size:\n%s", log);
    free(log);
    char *st = glci_sys_wait_agent_status(s, 0, "json", "dropped the connection", 60000);
    free(st);
    assert_int_equal(glci_sys_stored(s->store), 0);

    /* max_message back to its default: delivered at the end of the wait */
    glci_sys_stop_collector(s);
    glci_sys_collector_conf(s, "");
    glci_sys_start_collector(s, NULL);
    glci_sys_assert_exactly_once(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_batch_waits_between_dials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
