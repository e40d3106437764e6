/* IPv6 endpoints end to end, with the real programs: a collector listening
 * on tcp://[::1]:PORT over CURVE (and its /metrics on [::1]:PORT), an
 * agent delivering to it and `glci-agent check` finding it; a collector
 * on tcp://[::]:PORT that IPv4 and IPv6 agents both reach; an enrolment
 * string naming [::1] that `glci-agent enrol` completes; and the same
 * loopback without CURVE (--insecure takes [::1] as loopback).
 *
 * Tests may use 127.0.0.1 and ipc:// only, or addresses in a network
 * namespace of their own: main() moves this process into a new network
 * namespace (unshare(CLONE_NEWNET)) and brings its `lo` up, so ::1 is the
 * namespace's, and every program started from here runs in it. Skipped
 * (exit 77) where namespaces cannot be made: not root, or refused. */
#define _GNU_SOURCE                 /* unshare, CLONE_NEWNET */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_checker.h"
#include "glci_prom.h"

#define S_SKIP 77               /* ctest's SKIP_RETURN_CODE */
#define S_VALUES 40

/* The collector's log must hold text; fails the test with the log. */
static void s_log_has(glci_sys_t *s, const char *text)
{
    char *log = glci_ts_proc_stderr(s->coll);
    if (!log || !strstr(log, text))
        fail_msg("no \"%s\" in the collector's log:\n%s", text, log ? log : "");
    free(log);
}

/* `glci-agent check` of agent i must pass (exit 0, its "ok" line). */
static void s_agent_check_ok(glci_sys_t *s, size_t i)
{
    const char *argv[] = {s->agent_bin, "--config", s->agents[i].conf, "check",
                          "--timeout", "10", NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(argv, NULL, 60000, &out, &err);
    if (rc != 0 || !out || !strstr(out, "glci-agent check: ok:"))
        fail_msg("glci-agent check of %s exited %d\nstdout: %s\nstderr: %s",
                 s->agents[i].city, rc, out ? out : "", err ? err : "");
    free(out);
    free(err);
}

/* Every agent delivers S_VALUES values; each is stored exactly once. */
static void s_deliver(glci_sys_t *s)
{
    for (size_t i = 0; i < s->n_agents; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, S_VALUES);
    }
    glci_sys_wait_stored(s, s->n_agents * S_VALUES, GLCI_SYS_DRAIN_MS);
    glci_sys_assert_exactly_once(s);
    for (size_t i = 0; i < s->n_agents; i++)
        glci_sys_stop_agent(s, i);
}

static void test_curve_on_ipv6_loopback(void **state)
{
    (void)state;
    int mport = glci_ts_free_port();
    char conf[128];
    snprintf(conf, sizeof conf, "metrics_listen = [::1]:%d\n", mport);
    glci_sys_opts_t o = {.collector_conf = conf};
    glci_sys_t *s = glci_sys_open("ipv6-curve", 1, &o);
    snprintf(s->endpoint, sizeof s->endpoint, "tcp://[::1]:%d", glci_ts_free_port());
    glci_sys_agent_endpoint(s, 0, s->endpoint);

    /* the configuration check binds the address as the collector will */
    const char *cc[] = {s->collector_bin, "--check-config", "--store", s->store, "--listen",
                        s->endpoint, "--config", s->coll_conf, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(cc, NULL, 60000, &out, &err);
    if (rc != 0)
        fail_msg("--check-config with %s exited %d\nstdout: %s\nstderr: %s", s->endpoint, rc,
                 out ? out : "", err ? err : "");
    free(out);
    free(err);

    glci_sys_start_collector(s, NULL);
    char line[128];
    snprintf(line, sizeof line, "listening on %s (CURVE)", s->endpoint);
    s_log_has(s, line);
    snprintf(line, sizeof line, "metrics: serving /metrics and /health on [::1]:%d", mport);
    s_log_has(s, line);
    char *resp = NULL;
    assert_int_equal(glci_ts_http_raw(mport, 1, "GET /health HTTP/1.0\r\n\r\n", 10000, &resp), 0);
    if (!resp || strncmp(resp, "HTTP/1.", 7) != 0 || strncmp(resp + 8, " 200 ", 5) != 0)
        fail_msg("/health over [::1]:%d answered:\n%s", mport, resp ? resp : "(nothing)");
    free(resp);

    s_agent_check_ok(s, 0);
    s_deliver(s);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* tcp://[::]:PORT listens on both families: agent 0 dials [::1], agent 1
 * 127.0.0.1. */
static void test_ipv6_wildcard_takes_both_families(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("ipv6-any", 2, NULL);
    int port = glci_ts_free_port();
    char ep[64];
    snprintf(s->endpoint, sizeof s->endpoint, "tcp://[::]:%d", port);
    snprintf(ep, sizeof ep, "tcp://[::1]:%d", port);
    glci_sys_agent_endpoint(s, 0, ep);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    glci_sys_agent_endpoint(s, 1, ep);
    glci_sys_start_collector(s, NULL);
    s_agent_check_ok(s, 0);
    s_agent_check_ok(s, 1);
    s_deliver(s);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* `glci city add --invite` on a collector listening on [::1] makes a
 * string naming [::1]; `glci-agent enrol` with it completes over IPv6 and
 * writes a config the agent then delivers with. */
static void test_enrol_over_ipv6_loopback(void **state)
{
    (void)state;
    char conf[128];
    snprintf(conf, sizeof conf, "enrol_listen = tcp://[::1]:%d\nkey_flush = 1\n",
             glci_ts_free_port());
    glci_sys_opts_t o = {.collector_conf = conf};
    glci_sys_t *s = glci_sys_open("ipv6-enrol", 1, &o);
    snprintf(s->endpoint, sizeof s->endpoint, "tcp://[::1]:%d", glci_ts_free_port());
    glci_sys_start_collector(s, NULL);
    s_log_has(s, "enrolment on tcp://[::1]:");

    const char *add[] = {"city", "add", "enrol-xx", "--name", "Enrolled", "--country", "XX",
                         "--invite", NULL};
    char *token = glci_sys_cli_ok(s, add);
    token[strcspn(token, "\n")] = '\0';
    /* the harness's slot becomes the enrolled city's agent */
    glci_sys_agent_t *a = &s->agents[0];
    snprintf(a->city, sizeof a->city, "enrol-xx");
    unlink(a->conf);
    unlink(a->key);
    const char *enrol[] = {s->agent_bin, "--config", "/dev/null", "enrol", token,
                           "--config-out", a->conf, "--key-file", a->key, "--timeout", "60",
                           NULL};
    char *err = NULL;
    int rc = glci_ts_run(enrol, NULL, GLCI_SYS_DRAIN_MS, NULL, &err);
    if (rc != 0)
        fail_msg("glci-agent enrol exited %d: %s", rc, err ? err : "");
    free(err);
    free(token);
    char *written = glci_ts_read_file(a->conf);
    char line[128];
    snprintf(line, sizeof line, "collector = %s\n", s->endpoint);
    if (!written || !strstr(written, line))
        fail_msg("no \"%s\" in the config enrol wrote:\n%s", line, written ? written : "");
    free(written);
    s_agent_check_ok(s, 0);
    s_deliver(s);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

static void test_insecure_on_ipv6_loopback(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.insecure = 1};
    glci_sys_t *s = glci_sys_open("ipv6-insecure", 1, &o);
    snprintf(s->endpoint, sizeof s->endpoint, "tcp://[::1]:%d", glci_ts_free_port());
    glci_sys_agent_endpoint(s, 0, s->endpoint);
    glci_sys_start_collector(s, NULL);
    s_agent_check_ok(s, 0);
    s_deliver(s);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    char why[512];
    int rc = glci_ts_own_network(why, sizeof why);
    if (rc == S_SKIP)
        printf("# SKIP: %s\n", why);
    else if (rc != 0)
        fprintf(stderr, "%s\n", why);
    if (rc != 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_curve_on_ipv6_loopback, glci_sys_teardown),
        cmocka_unit_test_teardown(test_ipv6_wildcard_takes_both_families, glci_sys_teardown),
        cmocka_unit_test_teardown(test_enrol_over_ipv6_loopback, glci_sys_teardown),
        cmocka_unit_test_teardown(test_insecure_on_ipv6_loopback, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
