/* Unit tests for metrics/: the registry's rules, the text exposition byte
 * for byte (escaping, number formats, histograms, collected families),
 * exact totals from concurrent updates, the textfile writer, and the
 * listen address parser. */
#define _GNU_SOURCE                 /* unshare, CLONE_NEWNS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glci_metrics.h"
#include "glci_metrics_file.h"
#include "glci_metrics_http.h"
#include "glci_testsupport.h"

/* Registers spec in reg; the test fails with the message if it is refused. */
static glci_metric_t *s_add(glci_metrics_t *reg, const glci_metric_spec_t *spec)
{
    glci_metric_t *m = NULL;
    char err[256];
    if (glci_metrics_add(reg, spec, &m, err, sizeof err) != 0)
        fail_msg("%s", err);
    return m;
}

static char *s_render(glci_metrics_t *reg)
{
    char *text, err[256];
    size_t len;
    assert_int_equal(glci_metrics_render(reg, &text, &len, err, sizeof err), 0);
    assert_int_equal(strlen(text), len);
    return text;
}

/* ---- exposition ---------------------------------------------------------- */

static int s_two_cities(void *arg, glci_metric_sink_t *sink)
{
    (void)arg;
    glci_metric_sink_emit(sink, (const char *[]){"a\"b"}, 1);
    glci_metric_sink_emit(sink, (const char *[]){"x\\y\nz"}, 1764547200);
    return 0;
}

static void test_exposition_golden(void **state)
{
    glci_metrics_t *reg = glci_metrics_new();
    glci_metric_t *req, *temp, *lat, *seen;
    static const double bounds[] = {0.25, 1};
    req = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_COUNTER, .name = "t_requests_total", .help = "Requests.",
        .labels = (const char *[]){"code", "method", NULL},
        .values = (const char *[]){"200", "get", "500", "post", NULL}});
    temp = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "t_temperature_celsius",
        .help = "A \\ back\nslash \"quoted\"."});
    lat = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_HISTOGRAM, .name = "t_latency_seconds", .help = "Latency.",
        .buckets = bounds, .n_buckets = 2});
    seen = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "t_city_seen_timestamp_seconds", .help = "Seen.",
        .labels = (const char *[]){"city", NULL}, .collect = s_two_cities});
    assert_int_equal(glci_metric_children(req), 2);
    assert_int_equal(glci_metric_children(seen), 0);

    glci_counter_add(req, 0, 3);
    glci_counter_inc(req, 1);
    glci_gauge_set(temp, 0, -1.5);
    glci_histogram_observe(lat, 0, 0.125);
    glci_histogram_observe(lat, 0, 0.25);   /* le is inclusive */
    glci_histogram_observe(lat, 0, 0.5);
    glci_histogram_observe(lat, 0, 2);
    glci_histogram_observe(lat, 0, NAN);    /* not counted */

    char *text = s_render(reg);
    assert_string_equal(text,
        "# HELP t_requests_total Requests.\n"
        "# TYPE t_requests_total counter\n"
        "t_requests_total{code=\"200\",method=\"get\"} 3\n"
        "t_requests_total{code=\"500\",method=\"post\"} 1\n"
        "# HELP t_temperature_celsius A \\\\ back\\nslash \"quoted\".\n"
        "# TYPE t_temperature_celsius gauge\n"
        "t_temperature_celsius -1.5\n"
        "# HELP t_latency_seconds Latency.\n"
        "# TYPE t_latency_seconds histogram\n"
        "t_latency_seconds_bucket{le=\"0.25\"} 2\n"
        "t_latency_seconds_bucket{le=\"1\"} 3\n"
        "t_latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "t_latency_seconds_sum 2.875\n"
        "t_latency_seconds_count 4\n"
        "# HELP t_city_seen_timestamp_seconds Seen.\n"
        "# TYPE t_city_seen_timestamp_seconds gauge\n"
        "t_city_seen_timestamp_seconds{city=\"a\\\"b\"} 1\n"
        "t_city_seen_timestamp_seconds{city=\"x\\\\y\\nz\"} 1764547200\n");
    free(text);
    assert_int_equal(glci_histogram_count(lat, 0), 4);
    assert_true(glci_histogram_sum(lat, 0) == 2.875);
    glci_metrics_destroy(&reg);
    assert_null(reg);
    glci_metrics_destroy(&reg);     /* accepts NULL */
}

static void test_exposition_numbers(void **state)
{
    glci_metrics_t *reg = glci_metrics_new();
    glci_metric_t *g, *c;
    g = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "n", .help = "h",
        .labels = (const char *[]){"k", NULL},
        .values = (const char *[]){"a", "b", "c", "d", "e", "f", "g", NULL}});
    c = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_COUNTER, .name = "c_total", .help = "h"});
    glci_gauge_set(g, 0, NAN);
    glci_gauge_set(g, 1, INFINITY);
    glci_gauge_set(g, 2, -INFINITY);
    glci_gauge_set(g, 3, 0.1);
    glci_gauge_set(g, 4, 1e300);
    glci_gauge_set(g, 5, 9007199254740993.0 * 4);  /* above 2^53: not printed as an integer */
    glci_gauge_add(g, 6, 2);
    glci_gauge_add(g, 6, -0.5);
    glci_counter_add(c, 0, UINT64_MAX);
    char *text = s_render(reg);
    assert_non_null(strstr(text, "n{k=\"a\"} NaN\n"));
    assert_non_null(strstr(text, "n{k=\"b\"} +Inf\n"));
    assert_non_null(strstr(text, "n{k=\"c\"} -Inf\n"));
    assert_non_null(strstr(text, "n{k=\"d\"} 0.1\n"));
    assert_non_null(strstr(text, "n{k=\"e\"} 1e+300\n"));
    assert_non_null(strstr(text, "n{k=\"f\"} 3.602879701896397e+16\n"));
    assert_non_null(strstr(text, "n{k=\"g\"} 1.5\n"));
    assert_non_null(strstr(text, "c_total 18446744073709551615\n"));
    free(text);
    glci_metrics_destroy(&reg);
}

static void test_exposition_utf8(void **state)
{
    glci_metrics_t *reg = glci_metrics_new();
    /* valid multi-byte text stays; a lone continuation byte, an overlong
     * "/" and a surrogate become U+FFFD, one per byte */
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "u", .help = "Köln \xff",
        .labels = (const char *[]){"city", NULL},
        .values = (const char *[]){"Kraków", "a\x80z", "\xc0\xaf", "\xed\xa0\x80", NULL}});
    char *text = s_render(reg);
    assert_non_null(strstr(text, "# HELP u Köln \xef\xbf\xbd\n"));
    assert_non_null(strstr(text, "u{city=\"Kraków\"} 0\n"));
    assert_non_null(strstr(text, "u{city=\"a\xef\xbf\xbdz\"} 0\n"));
    assert_non_null(strstr(text, "u{city=\"\xef\xbf\xbd\xef\xbf\xbd\"} 0\n"));
    assert_non_null(strstr(text, "u{city=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 0\n"));
    free(text);
    glci_metrics_destroy(&reg);
}

static int s_failing(void *arg, glci_metric_sink_t *sink)
{
    glci_metric_sink_emit(sink, NULL, 42);
    return *(int *)arg;
}

static void test_collect_failure_drops_samples(void **state)
{
    glci_metrics_t *reg = glci_metrics_new();
    char err[256] = "";
    int fail = -1, ok = 0;
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "a_broken", .help = "h", .collect = s_failing,
        .collect_arg = &fail});
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_COUNTER, .name = "b_fine_total", .help = "h", .collect = s_failing,
        .collect_arg = &ok});
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "c_after", .help = "h"});
    char *text;
    assert_int_equal(glci_metrics_render(reg, &text, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"a_broken\""));
    assert_string_equal(text,
        "# HELP a_broken h\n# TYPE a_broken gauge\n"
        "# HELP b_fine_total h\n# TYPE b_fine_total counter\nb_fine_total 42\n"
        "# HELP c_after h\n# TYPE c_after gauge\nc_after 0\n");
    free(text);
    glci_metrics_destroy(&reg);
}

/* ---- registration rules ------------------------------------------------ */

static const double s_b1[] = {1};
static const double s_bad_order[] = {1, 1};
static const double s_bad_inf[] = {1, INFINITY};
static int s_noop(void *arg, glci_metric_sink_t *sink)
{
    return 0;
}

static void test_registration_rules(void **state)
{
    const struct {
        glci_metric_spec_t spec;
        const char *message;
    } cases[] = {
        {{.type = GLCI_METRIC_GAUGE, .name = "9lives", .help = "h"}, "not a valid name"},
        {{.type = GLCI_METRIC_GAUGE, .name = "a:b", .help = "h"}, "not a valid name"},
        {{.type = GLCI_METRIC_GAUGE, .name = "", .help = "h"}, "not a valid name"},
        {{.type = GLCI_METRIC_GAUGE, .name = NULL, .help = "h"}, "not a valid name"},
        {{.type = GLCI_METRIC_GAUGE, .name = "a b", .help = "h"}, "not a valid name"},
        {{.type = (glci_metric_type_t)7, .name = "x", .help = "h"}, "unknown type"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x"}, "no help text"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = ""}, "no help text"},
        {{.type = GLCI_METRIC_COUNTER, .name = "requests", .help = "h"}, "ends in _total"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x_total", .help = "h"},
         "only a counter's name ends in _total"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "x_count", .help = "h", .buckets = s_b1,
          .n_buckets = 1}, "does not end in _bucket"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"__reserved", NULL}, .values = (const char *[]){"v", NULL}},
         "not a valid label name"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"a-b", NULL}, .values = (const char *[]){"v", NULL}},
         "not a valid label name"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"a", "a", NULL}, .values = (const char *[]){"v", "w", NULL}},
         "given twice"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "x", .help = "h",
          .labels = (const char *[]){"le", NULL}, .values = (const char *[]){"v", NULL},
          .buckets = s_b1, .n_buckets = 1}, "cannot have the label \"le\""},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .values = (const char *[]){"v", NULL}}, "without label names"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"a", NULL}}, "0 label values"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"a", "b", NULL},
          .values = (const char *[]){"1", "2", "3", NULL}},
         "3 label values do not make rows of 2"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"a", NULL}, .values = (const char *[]){"p", "q", "p", NULL}},
         "row 3 repeats row 1"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "x", .help = "h"}, "at least one bucket"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "x", .help = "h", .buckets = s_bad_order,
          .n_buckets = 2}, "bound 2 is not"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "x", .help = "h", .buckets = s_bad_inf,
          .n_buckets = 2}, "bound 2 is not"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h", .buckets = s_b1, .n_buckets = 1},
         "only a histogram has buckets"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "x", .help = "h", .buckets = s_b1,
          .n_buckets = 1, .collect = s_noop}, "cannot be collected"},
        {{.type = GLCI_METRIC_GAUGE, .name = "x", .help = "h",
          .labels = (const char *[]){"a", NULL}, .values = (const char *[]){"v", NULL},
          .collect = s_noop}, "come from its callback"},
        {{.type = GLCI_METRIC_GAUGE, .name = "taken", .help = "h"}, "already registered"},
        {{.type = GLCI_METRIC_GAUGE, .name = "lat_seconds_sum", .help = "h"},
         "already registered"},
        {{.type = GLCI_METRIC_HISTOGRAM, .name = "taken2", .help = "h", .buckets = s_b1,
          .n_buckets = 1}, "already registered"},
    };
    glci_metrics_t *reg = glci_metrics_new();
    char err[256];
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "taken", .help = "h"});
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_HISTOGRAM, .name = "lat_seconds", .help = "h", .buckets = s_b1,
        .n_buckets = 1});
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "taken2_bucket", .help = "h"});
    char *before = s_render(reg);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        glci_metric_t *got = NULL;
        int rc = glci_metrics_add(reg, &cases[i].spec, &got, err, sizeof err);
        if (rc != -1 || !strstr(err, cases[i].message) || strchr(err, '\n'))
            fail_msg("case %zu: rc %d, message \"%s\", wanted \"%s\"", i, rc, err,
                     cases[i].message);
        assert_null(got);
    }
    char *after = s_render(reg);
    assert_string_equal(before, after);     /* nothing was registered */
    free(before);
    free(after);
    glci_metrics_destroy(&reg);
}

/* ---- concurrency --------------------------------------------------------- */

#define S_ROUNDS 200000

typedef struct {
    glci_metric_t *c, *g, *h;
} s_shared_t;

static void *s_hammer(void *arg)
{
    s_shared_t *s = arg;
    for (int i = 0; i < S_ROUNDS; i++) {
        glci_counter_inc(s->c, 1);
        glci_gauge_add(s->g, 0, 1.0);
        glci_histogram_observe(s->h, 0, (double)(i % 4));
    }
    return NULL;
}

static void *s_scrape(void *arg)
{
    glci_metrics_t *reg = arg;
    for (int i = 0; i < 50; i++) {
        char *text, err[256];
        glci_metrics_render(reg, &text, NULL, err, sizeof err);
        free(text);
    }
    return NULL;
}

static void test_concurrent_updates_are_exact(void **state)
{
    static const double bounds[] = {0.5, 1.5, 2.5};
    glci_metrics_t *reg = glci_metrics_new();
    s_shared_t s;
    s.c = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_COUNTER, .name = "c_total", .help = "h",
        .labels = (const char *[]){"k", NULL}, .values = (const char *[]){"a", "b", NULL}});
    s.g = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "g", .help = "h"});
    s.h = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_HISTOGRAM, .name = "h", .help = "h", .buckets = bounds,
        .n_buckets = 3});
    pthread_t t[3];
    assert_int_equal(pthread_create(&t[0], NULL, s_hammer, &s), 0);
    assert_int_equal(pthread_create(&t[1], NULL, s_hammer, &s), 0);
    assert_int_equal(pthread_create(&t[2], NULL, s_scrape, reg), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(glci_counter_get(s.c, 0), 0);
    assert_int_equal(glci_counter_get(s.c, 1), 2 * S_ROUNDS);
    assert_true(glci_gauge_get(s.g, 0) == 2.0 * S_ROUNDS);
    assert_int_equal(glci_histogram_count(s.h, 0), 2 * S_ROUNDS);
    /* each thread observes 0,1,2,3 in turn: sum 6 per 4 rounds */
    assert_true(glci_histogram_sum(s.h, 0) == 2.0 * 6 * (S_ROUNDS / 4));
    char *text = s_render(reg);
    char line[128];
    snprintf(line, sizeof line, "h_bucket{le=\"0.5\"} %d\n", 2 * S_ROUNDS / 4);
    assert_non_null(strstr(text, line));
    snprintf(line, sizeof line, "h_bucket{le=\"2.5\"} %d\n", 3 * 2 * S_ROUNDS / 4);
    assert_non_null(strstr(text, line));
    snprintf(line, sizeof line, "h_count %d\n", 2 * S_ROUNDS);
    assert_non_null(strstr(text, line));
    free(text);
    glci_metrics_destroy(&reg);
}

static void test_gauge_select(void **state)
{
    glci_metrics_t *reg = glci_metrics_new();
    glci_metric_t *g;
    g = s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "state", .help = "h",
        .labels = (const char *[]){"state", NULL},
        .values = (const char *[]){"up", "down", "stuck", NULL}});
    glci_gauge_select(g, 2);
    glci_gauge_select(g, 1);
    char *text = s_render(reg);
    assert_non_null(strstr(text, "state{state=\"up\"} 0\nstate{state=\"down\"} 1\n"
                                 "state{state=\"stuck\"} 0\n"));
    free(text);
    glci_metrics_destroy(&reg);
}

/* ---- the textfile writer ------------------------------------------------- */

static glci_metrics_t *s_small_registry(glci_metric_t **g)
{
    glci_metrics_t *reg = glci_metrics_new();
    char err[256];
    assert_int_equal(glci_metrics_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "glci_test_value", .help = "A value."}, g, err,
        sizeof err), 0);
    return reg;
}

static int s_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_file_write_atomic(void **state)
{
    char *dir = glci_ts_tmpdir("metrics-file");
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/glci-agent.prom", dir);
    glci_metric_t *g;
    glci_metrics_t *reg = s_small_registry(&g);
    glci_gauge_set(g, 0, 7);
    assert_int_equal(glci_metrics_file_write(reg, path, err, sizeof err), 0);
    char *text = glci_ts_read_file(path);
    char *want = s_render(reg);
    assert_string_equal(text, want);
    free(text);
    free(want);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    glci_gauge_set(g, 0, 8);
    assert_int_equal(glci_metrics_file_write(reg, path, err, sizeof err), 0);
    text = glci_ts_read_file(path);
    assert_non_null(strstr(text, "glci_test_value 8\n"));
    free(text);
    assert_int_equal(s_entries(dir), 1);    /* no temporary file left */

    /* a relative path is in the current folder */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(glci_metrics_file_write(reg, "rel.prom", err, sizeof err), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(s_entries(dir), 2);
    glci_metrics_destroy(&reg);
    glci_ts_rmtree(dir);
    free(dir);
}

static void test_file_bad_paths(void **state)
{
    char *dir = glci_ts_tmpdir("metrics-file");
    char path[512], err[256];
    glci_metric_t *g;
    glci_metrics_t *reg = s_small_registry(&g);
    char file[512], sub[512];
    snprintf(file, sizeof file, "%s/plain", dir);
    assert_int_equal(glci_ts_write_file(file, "x"), 0);
    snprintf(sub, sizeof sub, "%s/folder.prom", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    const struct {
        const char *name;
        const char *message;
    } cases[] = {
        {"glci.txt", "must end in .prom"},
        {".prom", "must end in .prom"},
        {"", "must end in .prom"},
        {"missing/glci.prom", "No such file or directory"},
        {"plain/glci.prom", "is not a folder"},
        {"folder.prom", "is a folder"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        err[0] = '\0';
        assert_int_equal(glci_metrics_file_check(path, err, sizeof err), -1);
        if (!strstr(err, cases[i].message) || !strstr(err, path))
            fail_msg("%s: \"%s\", wanted \"%s\"", path, err, cases[i].message);
        assert_int_equal(glci_metrics_file_write(reg, path, err, sizeof err), -1);
        assert_non_null(strstr(err, cases[i].message));
    }
    assert_int_equal(glci_metrics_file_check("", err, sizeof err), -1);
    assert_non_null(strstr(err, "no path"));
    glci_metrics_destroy(&reg);
    glci_ts_rmtree(dir);
    free(dir);
}

/* A path is a config value and may hold any byte: the check's message
 * stays one printable line (found by the config fuzz target). */
static void test_file_check_message_printable(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(glci_metrics_file_check("/tmp/\xff\x01x.prom.txt", err, sizeof err), -1);
    assert_string_equal(err, "metrics file /tmp/\\xFF\\x01x.prom.txt: the name must end in "
                        ".prom (node_exporter's textfile collector reads only those)");
    assert_int_equal(glci_metrics_file_check("/no\nsuch/glci.prom", err, sizeof err), -1);
    assert_non_null(strstr(err, "/no\\x0Asuch/glci.prom: folder /no\\x0Asuch: "));
    assert_null(strchr(err, '\n'));
}

/* 0 when both the check and a write refuse a file in folder with the
 * folder named and why; prints what they said otherwise. */
static int s_refuses_folder(const char *folder, const char *why)
{
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/glci.prom", folder);
    glci_metric_t *g;
    glci_metrics_t *reg = s_small_registry(&g);
    int ok = glci_metrics_file_check(path, err, sizeof err) == -1 &&
             strstr(err, "is not writable") && strstr(err, why) && strstr(err, folder);
    if (!ok)
        fprintf(stderr, "check: %s\n", err);
    int wrote = glci_metrics_file_write(reg, path, err, sizeof err);
    if (wrote != -1 || !strstr(err, "is not writable")) {
        fprintf(stderr, "write: %s\n", err);
        ok = 0;
    }
    glci_metrics_destroy(&reg);
    return ok ? 0 : -1;
}

/* A folder this process cannot write: by its mode for a user, and for
 * root (whom modes do not stop) a read-only mount in a mount namespace of
 * a child's own. */
static void test_file_unwritable_folder(void **state)
{
    char *dir = glci_ts_tmpdir("metrics-file");
    char ro[256];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    assert_int_equal(mkdir(ro, 0755), 0);
    if (geteuid() != 0) {
        assert_int_equal(chmod(ro, 0555), 0);
        assert_int_equal(s_refuses_folder(ro, "Permission denied"), 0);
    } else {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (unshare(CLONE_NEWNS) != 0 ||
                mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
                mount("tmpfs", ro, "tmpfs", MS_RDONLY, NULL) != 0)
                _exit(77);
            _exit(s_refuses_folder(ro, "Read-only file system") == 0 ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 77) {
            glci_ts_rmtree(dir);
            free(dir);
            skip();     /* no mount namespace here (a container without the right) */
        }
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    glci_ts_rmtree(dir);
    free(dir);
}

/* A write that fails half way (the file size limit, which binds root too)
 * leaves the previous file whole and no temporary file. */
static void test_file_failed_write_keeps_old(void **state)
{
    char *dir = glci_ts_tmpdir("metrics-file");
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/glci.prom", dir);
    glci_metric_t *g;
    glci_metrics_t *reg = s_small_registry(&g);
    glci_gauge_set(g, 0, 1);
    assert_int_equal(glci_metrics_file_write(reg, path, err, sizeof err), 0);
    char *old = glci_ts_read_file(path);

    static char names[64][16];
    const char *values[65];
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof names[i], "city-%02d", i);
        values[i] = names[i];
    }
    values[64] = NULL;
    s_add(reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_GAUGE, .name = "glci_test_big", .help = "Big.",
        .labels = (const char *[]){"city", NULL}, .values = values});
    struct rlimit saved, small = {.rlim_cur = 256, .rlim_max = 0};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small.rlim_max = saved.rlim_max;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = glci_metrics_file_write(reg, path, err, sizeof err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "cannot write"));
    assert_non_null(strstr(err, path));
    char *now = glci_ts_read_file(path);
    assert_string_equal(now, old);
    assert_int_equal(s_entries(dir), 1);
    free(old);
    free(now);
    glci_metrics_destroy(&reg);
    glci_ts_rmtree(dir);
    free(dir);
}

/* ---- the listen address --------------------------------------------------- */

static void test_listen_parse_good(void **state)
{
    static const struct {
        const char *in, *canon;
        int loopback, port;
    } cases[] = {
        {"9461", "127.0.0.1:9461", 1, 9461},
        {"0", "127.0.0.1:0", 1, 0},
        {"127.0.0.1:9461", "127.0.0.1:9461", 1, 9461},
        {"127.8.9.10:1", "127.8.9.10:1", 1, 1},
        {"localhost:9461", "127.0.0.1:9461", 1, 9461},
        {"[::1]:9461", "[::1]:9461", 1, 9461},
        {"[0:0:0:0:0:0:0:1]:80", "[::1]:80", 1, 80},
        {"[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]:80", 1, 80},
        {"0.0.0.0:9461", "0.0.0.0:9461", 0, 9461},
        {"192.0.2.10:65535", "192.0.2.10:65535", 0, 65535},
        {"[::]:9461", "[::]:9461", 0, 9461},
        {"[2001:db8::1]:9461", "[2001:db8::1]:9461", 0, 9461},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        glci_metrics_listen_t l;
        char err[256] = "";
        if (glci_metrics_listen_parse(cases[i].in, &l, err, sizeof err) != 0)
            fail_msg("%s: refused: %s", cases[i].in, err);
        assert_string_equal(l.text, cases[i].canon);
        assert_int_equal(l.loopback, cases[i].loopback);
        assert_int_equal(l.port, cases[i].port);
    }
}

static void test_listen_parse_bad(void **state)
{
    static const struct {
        const char *in, *message;
    } cases[] = {
        {"", "empty"},
        {":9461", "no host; give 9461 for loopback or 0.0.0.0:9461"},
        {"65536", "0..65535"},
        {"-1", "0..65535"},
        {"+80", "0..65535"},
        {" 80", "0..65535"},
        {"80 ", "0..65535"},
        {"127.0.0.1:", "0..65535"},
        {"127.0.0.1:http", "0..65535"},
        {"127.0.0.1:000009461", "0..65535"},
        {"127.0.0.1", "0..65535"},
        {"127.1:9461", "not an IPv4 address"},
        {"256.0.0.1:9461", "not an IPv4 address"},
        {"metrics.example.org:9461", "not a host name"},
        {"localhost.:9461", "not an IPv4 address"},
        {"::1:9461", "in brackets"},
        {"[::1]9461", "[ADDRESS]:PORT"},
        {"[::1]", "[ADDRESS]:PORT"},
        {"[::1:9461", "[ADDRESS]:PORT"},
        {"[fe80::1%eth0]:9461", "not an IPv6 address"},
        {"[127.0.0.1]:9461", "not an IPv6 address"},
        {"http://127.0.0.1:9461", "not a URL"},
        {"tcp://127.0.0.1:9461", "not a URL"},
        {"127.0.0.1:9461/metrics", "0..65535"},
        {"1111111111111111111111111111111111111111111111111111111111111111111111111111111"
         "1111111111111111111111111", "longer than 100 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        glci_metrics_listen_t l;
        char err[256] = "";
        int rc = glci_metrics_listen_parse(cases[i].in, &l, err, sizeof err);
        if (rc != -1 || !strstr(err, cases[i].message) || strchr(err, '\n'))
            fail_msg("\"%s\": rc %d, \"%s\", wanted \"%s\"", cases[i].in, rc, err,
                     cases[i].message);
    }
    glci_metrics_listen_t l;
    char err[256];
    assert_int_equal(glci_metrics_listen_parse(NULL, &l, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposition_golden),
        cmocka_unit_test(test_exposition_numbers),
        cmocka_unit_test(test_exposition_utf8),
        cmocka_unit_test(test_collect_failure_drops_samples),
        cmocka_unit_test(test_registration_rules),
        cmocka_unit_test(test_concurrent_updates_are_exact),
        cmocka_unit_test(test_gauge_select),
        cmocka_unit_test(test_file_write_atomic),
        cmocka_unit_test(test_file_bad_paths),
        cmocka_unit_test(test_file_check_message_printable),
        cmocka_unit_test(test_file_unwritable_folder),
        cmocka_unit_test(test_file_failed_write_keeps_old),
        cmocka_unit_test(test_listen_parse_good),
        cmocka_unit_test(test_listen_parse_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
