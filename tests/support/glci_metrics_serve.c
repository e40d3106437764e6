/* glci-metrics-serve: the metrics module as the daemons will run it, for
 * the tests that need a real scrape target without a collector.
 *
 *   glci-metrics-serve --listen ADDR [--count N] [--cities K] [--textfile PATH]
 *
 * Registers the collector's catalog (glci_metrics_catalog.h) and one test
 * family with label values that need escaping, records N applied batches
 * (N * 3 observations, N group commits), emits K cities' last-seen times
 * from a collect callback, serves it all over glci_metrics_http on ADDR,
 * and with --textfile writes the agent's catalog to PATH. It then logs
 * "listening on HOST:PORT" (the port bound, also for port 0) and runs until
 * SIGTERM or SIGINT; each SIGUSR1 records N more batches. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_metrics.h"
#include "glci_metrics_catalog.h"
#include "glci_metrics_file.h"
#include "glci_metrics_http.h"
#include "glci_text.h"

/* The label value the test reads back through Prometheus. */
#define S_ESCAPES "quote \" backslash \\ newline \n end"

static int s_cities(void *arg, glci_metric_sink_t *sink)
{
    long k = *(const long *)arg;
    for (long i = 0; i < k; i++) {
        char city[32];
        snprintf(city, sizeof city, "city-%05ld", i);
        glci_metric_sink_emit(sink, (const char *[]){city}, 1764547200.0 + (double)i);
    }
    return 0;
}

static void s_record(glci_collector_metrics_t *m, long n)
{
    for (long i = 0; i < n; i++) {
        glci_counter_inc(m->batches, GLCI_MC_BATCH_APPLIED);
        glci_counter_add(m->observations_applied, 0, 3);
        glci_histogram_observe(m->ingest_duration, 0, 0.002);
        glci_histogram_observe(m->ingest_group, 0, 1);
    }
}

static long s_arg_long(const char *flag, const char *text)
{
    int64_t v;
    if (glci_parse_int64(text, 0, 100000000, &v) < 0) {
        fprintf(stderr, "glci-metrics-serve: %s: not a number 0..100000000: %s\n", flag, text);
        exit(2);
    }
    return (long)v;
}

int main(int argc, char **argv)
{
    const char *listen_text = NULL, *textfile = NULL;
    long count = 0, cities = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            fprintf(stderr, "glci-metrics-serve: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--listen") == 0)
            listen_text = argv[++i];
        else if (strcmp(argv[i], "--count") == 0)
            count = s_arg_long("--count", argv[++i]);
        else if (strcmp(argv[i], "--cities") == 0)
            cities = s_arg_long("--cities", argv[++i]);
        else if (strcmp(argv[i], "--textfile") == 0)
            textfile = argv[++i];
        else {
            fprintf(stderr, "glci-metrics-serve: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    char err[512];
    glci_metrics_listen_t listen;
    if (!listen_text || glci_metrics_listen_parse(listen_text, &listen, err, sizeof err) < 0) {
        fprintf(stderr, "glci-metrics-serve: %s\n", listen_text ? err : "--listen is required");
        return 2;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    int rc = 1;
    glci_metrics_t *reg = glci_metrics_new(), *agent_reg = glci_metrics_new();
    glci_metrics_http_t *http = NULL;
    glci_collector_metrics_t m;
    glci_agent_metrics_t a;
    glci_metric_t *escapes;
    glci_collector_metrics_cfg_t cfg = {
        .framework = "unesco-glci 2013.1", .framework_hash = "9f2c00", .city_last_seen = s_cities,
        .city_last_seen_arg = &cities};
    if (glci_metrics_catalog_collector(reg, &cfg, &m, err, sizeof err) < 0 ||
        glci_metrics_add(reg, &(glci_metric_spec_t){
            .type = GLCI_METRIC_GAUGE, .name = "glci_test_label_escapes",
            .help = "A label value with a quote, a backslash and a newline.",
            .labels = (const char *[]){"value", NULL},
            .values = (const char *[]){S_ESCAPES, NULL}}, &escapes, err, sizeof err) < 0 ||
        glci_metrics_catalog_agent(agent_reg, "cork-ie", &a, err, sizeof err) < 0)
        goto done;
    glci_gauge_set(escapes, 0, 1);
    glci_gauge_set(m.healthy, 0, 1);
    glci_gauge_set(m.store_map_max, 0, 1099511627776.0);
    s_record(&m, count);

    if (textfile) {
        glci_gauge_set(a.outbox_batches, 0, 3);
        glci_gauge_select(a.connection_state, GLCI_MC_STATE_CONNECTED);
        if (glci_metrics_file_write(agent_reg, textfile, err, sizeof err) < 0)
            goto done;
    }
    glci_metrics_http_cfg_t hcfg = {.metrics = reg};
    if (glci_metrics_http_start(&listen, &hcfg, &http, err, sizeof err) < 0)
        goto done;
    /* the canonical text with the port bound in place of the one asked */
    fprintf(stderr, "glci-metrics-serve: listening on %.*s:%d\n",
            (int)(strrchr(listen.text, ':') - listen.text), listen.text,
            glci_metrics_http_port(http));

    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig) != 0)
            break;
        if (sig != SIGUSR1)
            break;
        s_record(&m, count);
        fprintf(stderr, "glci-metrics-serve: recorded %ld more\n", count);
    }
    rc = 0;

done:
    if (rc)
        fprintf(stderr, "glci-metrics-serve: %s\n", err);
    glci_metrics_http_stop(&http);
    glci_metrics_destroy(&reg);
    glci_metrics_destroy(&agent_reg);
    return rc;
}
