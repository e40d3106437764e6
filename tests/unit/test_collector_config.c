/* Unit tests for the collector's command line, config file, endpoint check
 * and batch path (city decision, too-long overrides in acks) without
 * sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_collector.h"
#include "glci_testsupport.h"
#include "glci_utf8.h"

static char *s_dir;

static int s_setup(void **state)
{
    s_dir = glci_ts_tmpdir("collector-config");
    return 0;
}

static int s_teardown(void **state)
{
    glci_ts_rmtree(s_dir);
    free(s_dir);
    return 0;
}

static void test_endpoint_local(void **state)
{
    static const char *const yes[] = {"ipc:///tmp/x.sock", "tcp://127.0.0.1:7461",
                                      "tcp://127.1.2.3:1", "tcp://localhost:7461",
                                      "tcp://[::1]:7461", "tcp://127.255.255.255:9"};
    static const char *const no[] = {"tcp://0.0.0.0:7461", "tcp://*:7461",
                                     "tcp://10.0.0.1:7461", "tcp://127.0.0.1.x.org:7461",
                                     "tcp://127.0.0:1", "tcp://127.0.0.256:1",
                                     "tcp://localhost.evil:1", "tcp://[::]:1", "tcp://[::2]:1",
                                     "tcp://[2001:db8::1]:1", "tcp://[fe80::1]:1",
                                     "tcp://[::1]", "tcp://::1:1", "ipc://",
                                     "inproc://x", "udp://127.0.0.1:1", "tcp://eth0;127.0.0.1:1"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!glci_collector_endpoint_local(yes[i]))
            fail_msg("%s should be local", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (glci_collector_endpoint_local(no[i]))
            fail_msg("%s should not be local", no[i]);
}

static void test_args(void **state)
{
    glci_collector_args_t a;
    char err[256];
    char *ok[] = {"glci-collector", "--store", "/s", "--listen=tcp://127.0.0.1:1",
                  "--insecure", "--log-level", "debug", "--config", "/c", NULL};
    assert_int_equal(glci_collector_parse_args(9, ok, &a, err, sizeof err), 0);
    assert_string_equal(glci_collector_args_get(&a, "store"), "/s");
    assert_string_equal(glci_collector_args_get(&a, "listen"), "tcp://127.0.0.1:1");
    assert_string_equal(glci_collector_args_get(&a, "log_level"), "debug");
    assert_string_equal(a.config, "/c");
    assert_string_equal(glci_collector_args_get(&a, "insecure"), "true");

    char *missing[] = {"glci-collector", "--listen", NULL};
    assert_int_equal(glci_collector_parse_args(2, missing, &a, err, sizeof err), -1);
    assert_string_equal(err, "--listen needs a value");
    char *empty[] = {"glci-collector", "--store=", NULL};
    assert_int_equal(glci_collector_parse_args(2, empty, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "--store"));
    char *stray[] = {"glci-collector", "run", NULL};
    assert_int_equal(glci_collector_parse_args(2, stray, &a, err, sizeof err), -1);
    assert_string_equal(err, "unexpected argument run");
    char *prefix[] = {"glci-collector", "--storex", "/s", NULL};
    assert_int_equal(glci_collector_parse_args(3, prefix, &a, err, sizeof err), -1);
    assert_string_equal(err, "unknown option --storex");
}

static void test_config_file_then_flags(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/c.conf", s_dir);
    assert_int_equal(glci_ts_write_file(path,
        "; comment\n"
        "[collector]\n"
        "store = /var/lib/glci\n"
        "listen = tcp://0.0.0.0:9000\n"
        "insecure = false\n"
        "log_level = warn\n"
        "key_file = /etc/glci/collector.key\n"
        "batch_max = 500\n"
        "group_max = 32\n"
        "max_message = 1048576\n"
        "sndhwm = 10\n"
        "rcvhwm = 20\n"
        "heartbeat_ivl = 1000\n"
        "heartbeat_timeout = 3000\n"
        "handshake_ivl = 2000\n"
        "map_max = 1073741824\n"), 0);
    glci_collector_args_t a;
    memset(&a, 0, sizeof a);
    a.config = path;
    glci_collector_config_t c;
    char err[512];
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), 0);
    assert_string_equal(c.store, "/var/lib/glci");
    assert_string_equal(c.listen, "tcp://0.0.0.0:9000");
    assert_false(c.insecure);
    assert_int_equal(c.log_level, GLCI_LOG_WARN);
    assert_string_equal(c.key_file, "/etc/glci/collector.key");
    assert_int_equal(c.batch_max, 500);
    assert_int_equal(c.group_max, 32);
    assert_int_equal(c.max_message, 1048576);
    assert_int_equal(c.sndhwm, 10);
    assert_int_equal(c.rcvhwm, 20);
    assert_int_equal(c.heartbeat_ivl, 1000);
    assert_int_equal(c.heartbeat_timeout, 3000);
    assert_int_equal(c.handshake_ivl, 2000);
    assert_int_equal(c.map_max, 1073741824);
    glci_collector_config_release(&c);

    /* flags win */
    glci_collector_args_add(&a, "store", "/tmp/s");
    glci_collector_args_add(&a, "listen", "ipc:///tmp/x");
    glci_collector_args_add(&a, "log_level", "debug");
    glci_collector_args_add(&a, "insecure", "true");
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), 0);
    assert_string_equal(c.store, "/tmp/s");
    assert_string_equal(c.listen, "ipc:///tmp/x");
    assert_int_equal(c.log_level, GLCI_LOG_DEBUG);
    assert_true(c.insecure);
    assert_string_equal(c.key_file, "/etc/glci/collector.key");
    glci_collector_config_release(&c);
}

static void test_defaults(void **state)
{
    glci_collector_args_t a;
    memset(&a, 0, sizeof a);
    glci_collector_args_add(&a, "store", "/srv/store");
    glci_collector_config_t c;
    char err[512];
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), 0);
    assert_string_equal(c.listen, GLCI_COLLECTOR_DEFAULT_LISTEN);
    assert_string_equal(c.key_file, "/srv/store/collector.key");
    assert_int_equal(c.batch_max, 10000);
    assert_int_equal(c.group_max, 256);
    assert_int_equal(c.max_message, 16777216);
    assert_int_equal(c.sndhwm, 1000);
    assert_int_equal(c.rcvhwm, 1000);
    assert_int_equal(c.heartbeat_ivl, 0);
    assert_int_equal(c.heartbeat_timeout, 30000);
    assert_int_equal(c.handshake_ivl, 10000);
    assert_int_equal(c.map_max, 0);
    assert_false(c.insecure);
    assert_int_equal(c.log_level, GLCI_LOG_INFO);
    glci_collector_config_release(&c);
}

static void s_expect_refused(const char *text, const char *want1, const char *want2)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.conf", s_dir);
    assert_int_equal(glci_ts_write_file(path, text), 0);
    glci_collector_args_t a;
    memset(&a, 0, sizeof a);
    a.config = path;
    glci_collector_args_add(&a, "store", "/s");
    glci_collector_config_t c;
    char err[512];
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, want1, want2 ? want2 : "");
}

static void test_config_refusals(void **state)
{
    s_expect_refused("[collector]\nlisten = tcp://127.0.0.1:1\nstorage = /x\n", ":3:",
                     "unknown key 'storage'");
    s_expect_refused("[collector]\nbatch_max = 10k\n", ":2:", "batch_max");
    s_expect_refused("[collector]\nbatch_max = -1\n", ":2:", "batch_max");
    s_expect_refused("[collector]\nbatch_max = 99999999999999999999\n", ":2:", "batch_max");
    s_expect_refused("[collector]\nmax_message = 12\n", ":2:", "max_message");
    s_expect_refused("[collector]\nsndhwm = \n", ":2:", "sndhwm");
    s_expect_refused("[collector]\ninsecure = yes please\n", ":2:", "insecure");
    s_expect_refused("[collector]\nlog_level = verbose\n", ":2:", "log_level");
    s_expect_refused("[collector]\nstore =\n", ":2:", "store is empty");
    s_expect_refused("[collector]\n\n\n[other]\nx = 1\n", ":4:", "[other]");
    s_expect_refused("[collector]\nthis is not ini\n", ":2:", "not a valid INI line");
    s_expect_refused("[collector]\nheartbeat_ivl = 5000\nheartbeat_timeout = 1000\n",
                     "heartbeat_timeout", NULL);
}

static void test_build_refusals(void **state)
{
    glci_collector_args_t a;
    glci_collector_config_t c;
    char err[512];
    memset(&a, 0, sizeof a);
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "no store"));
    glci_collector_args_add(&a, "store", "/s");
    glci_collector_args_add(&a, "listen", "tcp://0.0.0.0:7461");
    glci_collector_args_add(&a, "insecure", "true");
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "--insecure refuses endpoint tcp://0.0.0.0:7461"));
    glci_collector_args_add(&a, "listen", "tcp://\x1b[2J:1");     /* quoted printable */
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "--insecure refuses endpoint tcp://\\x1B[2J:1"));
    glci_collector_args_add(&a, "listen", "udp://127.0.0.1:1");
    glci_collector_args_add(&a, "insecure", "false");
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "udp://"));
    /* the file is read before the flags: its failure is the one named */
    a.config = "/nonexistent/x.conf";
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

static void s_pack(const char *city, const glci_obs_t *o, size_t n, uint8_t **buf,
                   size_t *len)
{
    assert_int_equal(glci_wire_batch_pack(77, 5, city, o, n, buf, len), 0);
}

/* metrics_listen as the flag and --check-config: the listen parser's forms
 * pass, its refusals name the flag and the reason. */
static void test_metrics_listen_and_check(void **state)
{
    static const char *const ok[][2] = {{"9461", "9461"}, {"127.0.0.1:9461", "127.0.0.1:9461"},
                                        {"[::1]:9461", "[::1]:9461"}, {"0.0.0.0:0", "0.0.0.0:0"}};
    static const char *const bad[][2] = {
        {":9461", "--metrics-listen: metrics_listen must be PORT, ADDRESS:PORT or [IPV6]:PORT "
                  "(no host; give 9461 for loopback or 0.0.0.0:9461 for every interface), not "
                  "':9461'"},
        {"http://127.0.0.1:9461", "(give HOST:PORT, not a URL)"},
        {"::1:9461", "(put an IPv6 address in brackets, [ADDRESS]:PORT)"},
        {"9461x", "(the port must be a number 0..65535)"},
        {"host.example:9461", "is not an IPv4 address or localhost"},
    };
    glci_collector_args_t a;
    glci_collector_config_t c;
    char err[512];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *argv[] = {"glci-collector", "--store", "/s", "--metrics-listen", (char *)ok[i][0],
                        NULL};
        assert_int_equal(glci_collector_parse_args(5, argv, &a, err, sizeof err), 0);
        assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), 0);
        assert_string_equal(c.metrics_listen, ok[i][1]);
        glci_collector_config_release(&c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {"glci-collector", "--store", "/s", "--metrics-listen", (char *)bad[i][0],
                        NULL};
        assert_int_equal(glci_collector_parse_args(5, argv, &a, err, sizeof err), 0);
        assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), -1);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: %s", bad[i][0], err);
    }
    char *argv[] = {"glci-collector", "--check-config", "--store", "/s", NULL};
    assert_int_equal(glci_collector_parse_args(4, argv, &a, err, sizeof err), 0);
    assert_true(a.check);
    assert_int_equal(glci_collector_config_build(&a, &c, err, sizeof err), 0);
    assert_null(c.metrics_listen);
    glci_collector_config_release(&c);
}

static void test_batch_city_decision(void **state)
{
    glci_obs_t o;
    memset(&o, 0, sizeof o);
    o.indicator = "adult_learning_rate";
    o.period = 2020;
    o.has_period = 1;
    o.value = 0.0;
    o.has_value = 1;
    glci_wire_limits_t lim = {10, 0};
    glci_collector_batch_t b;
    glci_wire_ack_t ack;
    char city[GLCI_CITY_ID_MAX + 1];
    uint8_t *buf;
    size_t len;

    /* CURVE: the authenticated city wins; a claim of another goes to the
     * store under the authenticated city, with the claim named, for its
     * observations to be rejected as "wrong city" */
    s_pack("cork-ie", &o, 1, &buf, &len);
    assert_int_equal(glci_collector_batch_prepare(buf, len, "cork-ie", &lim, &b, city, &ack), 0);
    assert_string_equal(city, "cork-ie");
    assert_null(b.claimed);
    assert_int_equal(b.wb->obs[0].has_value, 1);
    assert_true(b.wb->obs[0].value == 0.0);
    glci_collector_batch_release(&b);
    assert_int_equal(glci_collector_batch_prepare(buf, len, "hamburg-de", &lim, &b, city, &ack),
                     0);
    assert_string_equal(city, "hamburg-de");
    assert_non_null(b.claimed);
    assert_string_equal(b.claimed, "cork-ie");
    assert_int_equal(b.wb->seq, 5);
    assert_int_equal(b.wb->stream, 77);
    glci_collector_batch_release(&b);
    free(buf);

    /* no claim with CURVE: the authenticated city */
    s_pack(NULL, &o, 1, &buf, &len);
    assert_int_equal(glci_collector_batch_prepare(buf, len, "cork-ie", &lim, &b, city, &ack), 0);
    assert_string_equal(city, "cork-ie");
    assert_null(b.claimed);
    glci_collector_batch_release(&b);
    /* no claim without CURVE: refused */
    assert_int_equal(glci_collector_batch_prepare(buf, len, NULL, &lim, &b, city, &ack),
                     GLCI_BATCH_FORBIDDEN);
    assert_non_null(strstr(ack.error, "no city"));
    free(buf);

    /* insecure with an invalid id */
    s_pack("Cork IE", &o, 1, &buf, &len);
    assert_int_equal(glci_collector_batch_prepare(buf, len, NULL, &lim, &b, city, &ack),
                     GLCI_BATCH_FORBIDDEN);
    free(buf);

    /* a claim that is not text, under CURVE: kept as it came for the store,
     * which quotes it escaped in each rejection (found by fuzz_batch) */
    s_pack("\xe3ta\nFAKE", &o, 1, &buf, &len);
    assert_int_equal(glci_collector_batch_prepare(buf, len, "cork-ie", &lim, &b, city, &ack), 0);
    assert_string_equal(city, "cork-ie");
    assert_string_equal(b.claimed, "\xe3ta\nFAKE");
    glci_collector_batch_release(&b);
    free(buf);

    /* malformed */
    assert_int_equal(glci_collector_batch_prepare("\xff\xff", 2, NULL, &lim, &b, city, &ack),
                     GLCI_BATCH_MALFORMED);
    assert_int_equal(ack.status, GLCI_BATCH_MALFORMED);
    assert_true(ack.error[0] != '\0');
    assert_null(b.wb);
}

static void test_ack_from_result(void **state)
{
    char ind[70];
    memset(ind, 'q', sizeof ind - 1);
    ind[sizeof ind - 1] = '\0';
    glci_obs_t o[2];
    memset(o, 0, sizeof o);
    o[0].indicator = ind;
    o[0].has_period = o[0].has_value = 1;
    o[1].indicator = "adult_learning_rate";
    o[1].has_period = o[1].has_value = 1;
    uint8_t *buf;
    size_t len;
    s_pack("cork-ie", o, 2, &buf, &len);
    glci_wire_limits_t lim = {10, 0};
    glci_collector_batch_t b;
    glci_wire_ack_t ack;
    char city[GLCI_CITY_ID_MAX + 1];
    assert_int_equal(glci_collector_batch_prepare(buf, len, "cork-ie", &lim, &b, city, &ack), 0);
    free(buf);
    /* the over-long id reaches the store, which rejects it itself */
    assert_string_equal(b.wb->obs[0].indicator, ind);
    assert_string_equal(b.wb->obs[1].indicator, "adult_learning_rate");

    glci_rejection_t rej = {0, GLCI_REJECT_MALFORMED, "indicator id qqq... is longer"};
    glci_batch_result_t r = {.status = GLCI_BATCH_APPLIED, .acked = 5, .n_rejections = 1,
                             .rejections = &rej};
    glci_collector_ack_from_result(&b, &r, &ack);
    assert_int_equal(ack.status, GLCI_BATCH_APPLIED);
    assert_int_equal(ack.acked, 5);
    assert_int_equal(ack.n_rejections, 1);
    assert_int_equal(ack.rejections[0].index, 0);
    assert_int_equal(ack.rejections[0].reason, GLCI_REJECT_MALFORMED);
    assert_string_equal(ack.rejections[0].message, "indicator id qqq... is longer");
    glci_wire_ack_release(&ack);

    glci_batch_result_t gap = {.status = GLCI_BATCH_GAP, .acked = 2, .expected = 3};
    glci_collector_ack_from_result(&b, &gap, &ack);
    assert_int_equal(ack.status, GLCI_BATCH_GAP);
    assert_int_equal(ack.expected, 3);
    assert_non_null(strstr(ack.error, "expected 3"));
    glci_wire_ack_release(&ack);

    glci_batch_result_t forb = {.status = GLCI_BATCH_FORBIDDEN};
    glci_collector_ack_from_result(&b, &forb, &ack);
    assert_int_equal(ack.status, GLCI_BATCH_FORBIDDEN);
    assert_non_null(strstr(ack.error, "revoked"));
    glci_wire_ack_release(&ack);
    glci_collector_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_local),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_config_file_then_flags),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_config_refusals),
        cmocka_unit_test(test_build_refusals),
        cmocka_unit_test(test_metrics_listen_and_check),
        cmocka_unit_test(test_batch_city_decision),
        cmocka_unit_test(test_ack_from_result),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
