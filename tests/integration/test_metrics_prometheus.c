/* A real Prometheus scrapes glci-metrics-serve (the collector's catalog
 * over glci_metrics_http) on loopback; the test reads back through
 * Prometheus' HTTP API what the program recorded, label escaping included,
 * and a live update. promtool lints a live scrape and the agent's textfile;
 * the alert rules of deploy/prometheus/ load and evaluate in that server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_prom.h"
#include "glci_testsupport.h"

#define S_WAIT_MS 120000
#define S_COUNT 1234
#define S_CITIES 10000
#define S_ESCAPES "quote \" backslash \\ newline \n end"

static char *s_dir;
static char s_textfile[512];
static glci_ts_proc_t *s_serve;
static int s_port;
static glci_ts_prom_t *s_prom;

static int s_setup(void **state)
{
    s_dir = glci_ts_tmpdir("metrics-prom");
    char *bin = glci_ts_bin("tests/glci-metrics-serve");
    char count[16], cities[16];
    snprintf(count, sizeof count, "%d", S_COUNT);
    snprintf(cities, sizeof cities, "%d", S_CITIES);
    snprintf(s_textfile, sizeof s_textfile, "%s/glci-agent.prom", s_dir);
    const char *argv[] = {bin,      "--listen",   "127.0.0.1:0", "--count", count,
                          "--cities", cities, "--textfile", s_textfile, NULL};
    s_serve = glci_ts_proc_start(argv, NULL);
    free(bin);
    const char *mark = "listening on 127.0.0.1:";
    char *log = NULL;
    if (glci_ts_proc_wait_log(s_serve, mark, S_WAIT_MS) == 0) {
        log = glci_ts_proc_stderr(s_serve);
        s_port = (int)strtol(strstr(log, mark) + strlen(mark), NULL, 10);
    }
    if (s_port <= 0) {
        free(log);
        log = glci_ts_proc_stderr(s_serve);
        fprintf(stderr, "glci-metrics-serve did not start: %s\n", log);
        free(log);
        return -1;
    }
    free(log);

    char target[64], *rules = NULL;
    snprintf(target, sizeof target, "127.0.0.1:%d", s_port);
    const char *src = getenv("GLCI_SOURCE_DIR");
    assert_non_null(src);
    size_t n = strlen(src) + 64;
    rules = malloc(n);
    snprintf(rules, n, "%s/deploy/prometheus/glci-rules.yml", src);
    s_prom = glci_ts_prom_start((const char *[]){target, NULL}, rules, S_WAIT_MS);
    free(rules);
    return glci_ts_prom_wait_up(s_prom, S_WAIT_MS);
}

static int s_teardown(void **state)
{
    glci_ts_prom_stop(&s_prom);
    int rc = glci_ts_proc_stop(&s_serve, 10000);
    glci_ts_rmtree(s_dir);
    free(s_dir);
    return rc == 0 ? 0 : -1;
}

static void test_values_read_back(void **state)
{
    double v;
    assert_int_equal(glci_ts_prom_wait_value(s_prom,
        "glci_collector_batches_total{status=\"applied\"}", S_COUNT, S_WAIT_MS), 0);
    assert_int_equal(glci_ts_prom_query(s_prom, "glci_collector_observations_applied_total", &v),
                     0);
    assert_true(v == 3.0 * S_COUNT);
    assert_int_equal(glci_ts_prom_query(s_prom, "glci_collector_ingest_duration_seconds_count",
                                        &v), 0);
    assert_true(v == S_COUNT);
    assert_int_equal(glci_ts_prom_query(s_prom,
        "glci_collector_ingest_duration_seconds_bucket{le=\"0.0025\"} - ignoring (le) "
        "glci_collector_ingest_duration_seconds_bucket{le=\"0.001\"}", &v), 0);
    assert_true(v == S_COUNT);
    assert_int_equal(glci_ts_prom_query(s_prom,
        "glci_collector_batches_total{status=\"gap\"}", &v), 0);
    assert_true(v == 0);
    assert_int_equal(glci_ts_prom_query(s_prom, "glci_collector_healthy", &v), 0);
    assert_true(v == 1);
    /* every city of the collect callback, one series each */
    assert_int_equal(glci_ts_prom_query(s_prom,
        "count(glci_collector_city_last_seen_timestamp_seconds)", &v), 0);
    assert_true(v == S_CITIES);
    assert_int_equal(glci_ts_prom_query(s_prom,
        "glci_collector_city_last_seen_timestamp_seconds{city=\"city-09999\"}", &v), 0);
    assert_true(v == 1764547200.0 + 9999);
    assert_int_equal(glci_ts_prom_query(s_prom, "glci_collector_build_info", &v), 0);
    assert_true(v == 1);
}

/* The label value comes back as it was, so the escaping is what
 * Prometheus' parser reads. */
static void test_label_escaping(void **state)
{
    char *json = glci_ts_prom_query_json(s_prom, "glci_test_label_escapes");
    assert_non_null(json);
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr);
    assert_non_null(root);
    json_t *result = json_object_get(json_object_get(root, "data"), "result");
    assert_int_equal(json_array_size(result), 1);
    json_t *value = json_object_get(json_object_get(json_array_get(result, 0), "metric"),
                                    "value");
    assert_string_equal(json_string_value(value), S_ESCAPES);
    json_decref(root);
    free(json);
}

static void test_live_update(void **state)
{
    assert_int_equal(glci_ts_proc_signal(s_serve, SIGUSR1), 0);
    assert_int_equal(glci_ts_prom_wait_value(s_prom,
        "glci_collector_batches_total{status=\"applied\"}", 2 * S_COUNT, S_WAIT_MS), 0);
}

/* promtool's linter (names, units, suffixes, help) on what a scraper sees
 * and on what node_exporter would read. */
static void test_promtool_lints(void **state)
{
    assert_int_equal(glci_ts_promtool_scrape(s_port), 0);
    char *text = glci_ts_read_file(s_textfile);
    assert_non_null(text);
    assert_int_equal(glci_ts_promtool_check(text), 0);
    assert_non_null(strstr(text, "glci_agent_outbox_batches 3\n"));
    assert_non_null(strstr(text, "glci_agent_connection_state{state=\"connected\"} 1\n"));
    free(text);
}

/* Every alert rule evaluates without error against these series. */
static void test_rules_evaluate(void **state)
{
    for (int tries = 0; tries < 600; tries++) {
        int status = 0;
        char *body = NULL;
        assert_int_equal(glci_ts_http_get(glci_ts_prom_port(s_prom), "/api/v1/rules", S_WAIT_MS,
                                          &status, &body), 0);
        assert_int_equal(status, 200);
        json_error_t jerr;
        json_t *root = json_loads(body, 0, &jerr);
        json_t *groups = json_object_get(json_object_get(root, "data"), "groups");
        size_t n_rules = 0, ok = 0, g, r;
        json_t *group, *rule;
        json_array_foreach(groups, g, group) {
            json_array_foreach(json_object_get(group, "rules"), r, rule) {
                n_rules++;
                const char *health = json_string_value(json_object_get(rule, "health"));
                if (health && strcmp(health, "err") == 0)
                    fail_msg("rule %s fails: %s",
                             json_string_value(json_object_get(rule, "name")),
                             json_string_value(json_object_get(rule, "lastError")));
                ok += health && strcmp(health, "ok") == 0;
            }
        }
        json_decref(root);
        free(body);
        assert_true(n_rules >= 5);
        if (ok == n_rules)
            return;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("the rules were not all evaluated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_read_back),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_live_update),
        cmocka_unit_test(test_promtool_lints),
        cmocka_unit_test(test_rules_evaluate),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
