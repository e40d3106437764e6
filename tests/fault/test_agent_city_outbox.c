/* An outbox belongs to one city, with the real glci-collector and
 * glci-agent on loopback over CURVE (SPEC section 4: a batch only ever
 * writes its own city's data).
 *
 * c00-xx delivers 20 values and stops. Its outbox copied under c01-xx's
 * config (its retained, acknowledged batches included) is refused by
 * `push`, `check` and `run` with one line naming both cities, exit 1, and
 * nothing is ever stored under c01-xx (an outbox that kept no city sent
 * c00-xx's whole history again as c01-xx's, the collector having no mark
 * for that stream under c01-xx). `enrol` of another city into a config
 * whose outbox is c00-xx's refuses before making a key, and a SIGHUP that
 * switches the running agent's city is refused, the running one kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_checker.h"
#include "glci_testsupport.h"

#define S_WANT "belongs to city c00-xx, not to city c01-xx"

/* Runs glci-agent with agent i's config; returns the exit status and
 * fails unless stderr is one line holding want. */
static int s_agent_refused(glci_sys_t *s, size_t i, const char *const *args, const char *want)
{
    const char *argv[16] = {s->agent_bin, "--config", s->agents[i].conf};
    size_t n = 3;
    for (; args[n - 3] && n < 15; n++)
        argv[n] = args[n - 3];
    argv[n] = NULL;
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_READY_MS, NULL, &err);
    if (!err || !strstr(err, want) || glci_ts_count(err, "\n") != 1)
        fail_msg("glci-agent %s: exit %d, stderr: %s", args[0], rc, err ? err : "");
    free(err);
    return rc;
}

static void test_outbox_of_another_city_refused(void **state)
{
    (void)state;
    char conf[256];
    snprintf(conf, sizeof conf, "enrol_listen = tcp://127.0.0.1:%d\n", glci_ts_free_port());
    glci_sys_opts_t o = {.batch_max = 5, .window = 2, .collector_conf = conf};
    glci_sys_t *s = glci_sys_open("agent-city-outbox", 2, &o);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 20);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_sys_stop_agent(s, 0);
    assert_int_equal(glci_sys_stored(s->store), 20);

    /* cp -a of c00-xx's outbox (4 acknowledged batches retained in it)
     * as c01-xx's */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s' && rm -f '%s/agent.lock'",
             s->agents[1].outbox, s->agents[0].outbox, s->agents[1].outbox,
             s->agents[1].outbox);
    assert_int_equal(system(cmd), 0);
    const char *push[] = {"push", "adult_learning_rate", "2024", "50", NULL};
    assert_int_equal(s_agent_refused(s, 1, push, S_WANT), 1);
    const char *check[] = {"check", NULL};
    assert_int_equal(s_agent_refused(s, 1, check, S_WANT), 1);
    const char *run_argv[] = {s->agent_bin, "run", "--config", s->agents[1].conf, NULL};
    glci_ts_proc_t *p = glci_ts_proc_start(run_argv, NULL);
    assert_int_equal(glci_ts_proc_wait_exit(p, GLCI_SYS_READY_MS), 1);
    char *log = glci_ts_proc_stderr(p);
    if (!log || !strstr(log, S_WANT))
        fail_msg("run: %s", log ? log : "");
    free(log);
    glci_ts_proc_stop(&p, GLCI_SYS_STOP_MS);
    assert_int_equal(glci_sys_stored(s->store), 20);   /* nothing as c01-xx */
    const char *rejects[] = {"rejects", "--city", "c01-xx", "--format", "csv", NULL};
    char *rj = glci_sys_cli_ok(s, rejects);
    assert_int_equal(glci_ts_count(rj, "\n"), 1);      /* the header alone */
    free(rj);

    /* enrol of c01-xx into c00-xx's config: refused before any key */
    const char *add[] = {"city", "add", "c01-xx-new", "--name", "New", "--country", "XX",
                         "--invite", NULL};
    char *token = glci_sys_cli_ok(s, add);
    token[strcspn(token, "\n")] = '\0';
    char key[700];
    snprintf(key, sizeof key, "%s/new.key", s->dir);
    const char *enrol[] = {"enrol", token, "--key-file", key, NULL};
    assert_int_equal(s_agent_refused(s, 0, enrol,
                                     "belongs to city c00-xx, not to city c01-xx-new"), 1);
    assert_int_not_equal(access(key, F_OK), 0);
    free(token);

    /* a reload that switches the running agent's city is refused */
    glci_sys_start_agent(s, 0);
    char *text = glci_ts_read_file(s->agents[0].conf);
    assert_non_null(text);
    char *at = strstr(text, "city = c00-xx\n");
    assert_non_null(at);
    memcpy(at, "city = c01-xx\n", 14);
    assert_int_equal(glci_ts_write_file(s->agents[0].conf, text), 0);
    free(text);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    assert_int_equal(glci_ts_proc_wait_log(s->agents[0].proc, "reload refused, keeping the "
                                           "running configuration: outbox", GLCI_SYS_READY_MS),
                     0);
    glci_sys_stop_agent(s, 0);
    assert_int_equal(glci_sys_stored(s->store), 20);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_outbox_of_another_city_refused, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
