/* Unit tests for metrics/glci_metrics_catalog.c: both daemons' families
 * register together; the child indexes follow the wire's Status and
 * Reason and the validator's glci_reject_t; docs/METRICS.md lists every
 * family and no other glci_ metric; the alert rules name only families
 * that exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci.pb-c.h"
#include "glci_index.h"
#include "glci_metrics.h"
#include "glci_metrics_catalog.h"
#include "glci_testsupport.h"

typedef struct {
    char names[64][128];
    size_t n;
} s_names_t;

static int s_one_city(void *arg, glci_metric_sink_t *sink)
{
    glci_metric_sink_emit(sink, (const char *[]){"cork-ie"}, 1764547200);
    return 0;
}

static glci_metrics_t *s_both(glci_collector_metrics_t *c, glci_agent_metrics_t *a)
{
    glci_metrics_t *reg = glci_metrics_new();
    char err[256];
    glci_collector_metrics_cfg_t cfg = {.framework = "unesco-glci 2013.1",
                                        .framework_hash = "9f2c", .city_last_seen = s_one_city};
    if (glci_metrics_catalog_collector(reg, &cfg, c, err, sizeof err) != 0 ||
        glci_metrics_catalog_agent(reg, "cork-ie", a, err, sizeof err) != 0)
        fail_msg("%s", err);
    return reg;
}

/* The family names, from the "# TYPE" lines. */
static void s_family_names(glci_metrics_t *reg, s_names_t *out)
{
    char *text, err[256];
    assert_int_equal(glci_metrics_render(reg, &text, NULL, err, sizeof err), 0);
    out->n = 0;
    for (char *p = strstr(text, "# TYPE "); p; p = strstr(p + 1, "# TYPE ")) {
        assert_true(out->n < 64);
        sscanf(p + 7, "%127s", out->names[out->n++]);
    }
    free(text);
}

/* The family names of both daemons' catalogs. */
static void s_catalog_names(s_names_t *out)
{
    glci_collector_metrics_t c;
    glci_agent_metrics_t a;
    glci_metrics_t *reg = s_both(&c, &a);
    s_family_names(reg, out);
    glci_metrics_destroy(&reg);
}

static int s_known(const s_names_t *f, const char *token)
{
    static const char *const suffixes[] = {"", "_bucket", "_sum", "_count"};
    for (size_t i = 0; i < f->n; i++)
        for (size_t k = 0; k < 4; k++) {
            char full[160];
            snprintf(full, sizeof full, "%s%s", f->names[i], suffixes[k]);
            if (strcmp(full, token) == 0)
                return 1;
        }
    return 0;
}

/* Calls fn for every token glci_[a-z0-9_]+ in text. */
static void s_tokens(const char *text, void (*fn)(const char *token, void *arg), void *arg)
{
    for (const char *p = strstr(text, "glci_"); p; p = strstr(p + 1, "glci_")) {
        if (p > text && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z')))
            continue;
        size_t n = 5;
        while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
            n++;
        char token[160];
        snprintf(token, sizeof token, "%.*s", (int)n, p);
        fn(token, arg);
    }
}

static char *s_source_file(const char *rel)
{
    const char *src = getenv("GLCI_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src, rel);
    char *text = glci_ts_read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

static void test_children_follow_the_enums(void **state)
{
    glci_collector_metrics_t c;
    glci_agent_metrics_t a;
    glci_metrics_t *reg = s_both(&c, &a);
    glci_counter_inc(c.batches, GLCI_MC_BATCH(GLCI__STATUS__GAP));
    glci_counter_add(c.batches, GLCI_MC_BATCH(GLCI__STATUS__UNAVAILABLE), 2);
    glci_counter_inc(c.observations_rejected, GLCI_MC_REJECT(GLCI_REJECT_OUT_OF_RANGE));
    glci_counter_add(c.observations_rejected, GLCI_MC_REJECT(GLCI__REASON__MALFORMED_OBS), 3);
    glci_counter_inc(a.observations_rejected, GLCI_MC_REJECT(GLCI__REASON__UNKNOWN_INDICATOR));
    /* the reasons after the wire's first five: the same children, in order */
    assert_int_equal(GLCI_MC_REJECT(GLCI_REJECT_FUTURE), GLCI_MC_REJECT_PERIOD_IN_FUTURE);
    assert_int_equal(GLCI_MC_REJECT(GLCI_REJECT_NOTHING_TO_RETRACT),
                     GLCI_MC_REJECT_NOTHING_TO_RETRACT);
    assert_int_equal(GLCI_MC_REJECT(GLCI__REASON__WRONG_CITY), GLCI_MC_REJECT_WRONG_CITY);
    assert_int_equal(GLCI_MC_REJECT_N, GLCI_MC_REJECT(GLCI_REJECT_WRONG_CITY) + 1);
    glci_counter_inc(a.observations_rejected, GLCI_MC_REJECT(GLCI_REJECT_WRONG_CITY));
    glci_counter_inc(c.handshakes, GLCI_MC_HANDSHAKE_FAILED);
    glci_gauge_select(a.connection_state, GLCI_MC_STATE_HANDSHAKE_FAILED);
    char *text, err[256];
    assert_int_equal(glci_metrics_render(reg, &text, NULL, err, sizeof err), 0);
    assert_non_null(strstr(text, "glci_collector_batches_total{status=\"gap\"} 1\n"));
    assert_non_null(strstr(text, "glci_collector_batches_total{status=\"unavailable\"} 2\n"));
    assert_non_null(strstr(text,
        "glci_collector_observations_rejected_total{reason=\"out_of_range\"} 1\n"));
    assert_non_null(strstr(text,
        "glci_collector_observations_rejected_total{reason=\"malformed\"} 3\n"));
    assert_non_null(strstr(text,
        "glci_agent_observations_rejected_total{reason=\"unknown_indicator\"} 1\n"));
    assert_non_null(strstr(text,
        "glci_agent_observations_rejected_total{reason=\"wrong_city\"} 1\n"));
    assert_non_null(strstr(text, "glci_collector_handshakes_total{result=\"failed\"} 1\n"));
    assert_non_null(strstr(text, "glci_agent_connection_state{state=\"handshake_failed\"} 1\n"));
    assert_non_null(strstr(text, "glci_agent_connection_state{state=\"connected\"} 0\n"));
    assert_non_null(strstr(text,
        "glci_collector_city_last_seen_timestamp_seconds{city=\"cork-ie\"} 1764547200\n"));
    assert_non_null(strstr(text, "glci_collector_build_info{version=\"" GLCI_VERSION
                                 "\",framework=\"unesco-glci 2013.1\",framework_hash=\"9f2c\"} 1\n"));
    assert_non_null(strstr(text, "glci_agent_build_info{version=\"" GLCI_VERSION
                                 "\",city=\"cork-ie\"} 1\n"));
    free(text);
    glci_metrics_destroy(&reg);
}

static void test_registering_twice_is_refused(void **state)
{
    glci_collector_metrics_t c;
    glci_agent_metrics_t a;
    glci_metrics_t *reg = s_both(&c, &a);
    char err[256];
    glci_collector_metrics_cfg_t cfg = {0};
    assert_int_equal(glci_metrics_catalog_collector(reg, &cfg, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"glci_collector_batches_total\": the name is already"));
    glci_metrics_destroy(&reg);

    /* without a per-city callback the family is there, empty */
    reg = glci_metrics_new();
    assert_int_equal(glci_metrics_catalog_collector(reg, &cfg, &c, err, sizeof err), 0);
    char *text;
    assert_int_equal(glci_metrics_render(reg, &text, NULL, err, sizeof err), 0);
    assert_non_null(strstr(text, "# TYPE glci_collector_city_last_seen_timestamp_seconds gauge\n"
                                 "# HELP"));
    free(text);
    glci_metrics_destroy(&reg);
}

typedef struct {
    const s_names_t *families;
    const char *file;
    int unknown;
} s_check_t;

static void s_check_token(const char *token, void *arg)
{
    s_check_t *c = arg;
    if (!s_known(c->families, token)) {
        fprintf(stderr, "%s names %s, which no family of the catalog is\n", c->file, token);
        c->unknown++;
    }
}

static void test_docs_list_every_family(void **state)
{
    s_names_t f;
    s_catalog_names(&f);
    assert_true(f.n >= 25);
    char *doc = s_source_file("docs/METRICS.md");
    for (size_t i = 0; i < f.n; i++) {
        char quoted[160];
        snprintf(quoted, sizeof quoted, "`%s`", f.names[i]);
        if (!strstr(doc, quoted))
            fail_msg("docs/METRICS.md does not list %s", f.names[i]);
    }
    /* metric names in the docs are the catalog's (C identifiers of the
     * metrics module, glci_metrics_..., are not metric names) */
    s_check_t check = {&f, "docs/METRICS.md", 0};
    char *p = doc;
    while ((p = strstr(p, "`glci_"))) {
        const char *q = p + 1;
        size_t n = 0;
        while ((q[n] >= 'a' && q[n] <= 'z') || (q[n] >= '0' && q[n] <= '9') || q[n] == '_')
            n++;
        char token[160];
        snprintf(token, sizeof token, "%.*s", (int)n, q);
        int metric = strncmp(token, "glci_collector_", 15) == 0 ||
                     strncmp(token, "glci_agent_", 11) == 0;
        /* not functions, files, C types, or the prefixes themselves */
        int c_name = q[n] == '(' || q[n] == '.' || (n > 2 && strcmp(token + n - 2, "_t") == 0) ||
                     token[n - 1] == '_';
        if (metric && !c_name)
            s_check_token(token, &check);
        p++;
    }
    assert_int_equal(check.unknown, 0);
    free(doc);
}

static void test_rules_name_only_catalog_families(void **state)
{
    s_names_t f;
    s_catalog_names(&f);
    static const char *const files[] = {"deploy/prometheus/glci-rules.yml",
                                        "deploy/prometheus/glci-rules.test.yml"};
    for (size_t i = 0; i < 2; i++) {
        char *text = s_source_file(files[i]);
        s_check_t check = {&f, files[i], 0};
        s_tokens(text, s_check_token, &check);
        assert_int_equal(check.unknown, 0);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_children_follow_the_enums),
        cmocka_unit_test(test_registering_twice_is_refused),
        cmocka_unit_test(test_docs_list_every_family),
        cmocka_unit_test(test_rules_name_only_catalog_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
