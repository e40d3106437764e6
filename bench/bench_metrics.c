/* glci-bench metrics: what a metric update costs on the hot path, so the
 * target "ingest with metrics on within 3% of off" has a basis, and what
 * one scrape of the collector's catalog costs with many cities.
 *
 * Rows, each the median of --reps repetitions of --ops updates per thread:
 *   loop                   the measuring loop alone (subtract it mentally)
 *   counter_inc            glci_counter_inc, one thread
 *   counter_inc_2t_shared  two threads on the same child (one cache line
 *                          bouncing: the worst case)
 *   counter_inc_2t_apart   two threads on two children (own cache lines)
 *   gauge_add              glci_gauge_add (compare-and-swap on a double)
 *   histogram_observe      glci_histogram_observe, the ingest duration
 *                          histogram (14 buckets), values across them
 *   histogram_observe_2t   two threads on the same histogram
 * ns_per_op is wall time over the updates one thread made. Then
 * render_ms: one /metrics exposition of the collector's catalog with
 * --cities cities (default 10,000), and its size in bytes.
 *
 * Options: --ops N (default 10,000,000), --reps N (default 5),
 * --cities N. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "glci_metrics.h"
#include "glci_metrics_catalog.h"
#include "glci_text.h"

typedef enum {
    S_LOOP,
    S_COUNTER,
    S_GAUGE,
    S_HISTOGRAM
} s_op_t;

typedef struct {
    s_op_t op;
    glci_metric_t *m;
    size_t child;
    long ops;
    pthread_barrier_t *start;
    double seconds;
} s_worker_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *s_run(void *arg)
{
    s_worker_t *w = arg;
    /* values spread over the duration buckets, computed outside the clock's
     * concern: an index into a small table */
    static const double values[8] = {0.0003, 0.0008, 0.002, 0.004, 0.02, 0.07, 0.3, 3};
    volatile long sink = 0;
    pthread_barrier_wait(w->start);
    double t0 = s_now();
    switch (w->op) {
    case S_LOOP:
        for (long i = 0; i < w->ops; i++)
            sink = i;
        break;
    case S_COUNTER:
        for (long i = 0; i < w->ops; i++)
            glci_counter_inc(w->m, w->child);
        break;
    case S_GAUGE:
        for (long i = 0; i < w->ops; i++)
            glci_gauge_add(w->m, w->child, 1.0);
        break;
    case S_HISTOGRAM:
        for (long i = 0; i < w->ops; i++)
            glci_histogram_observe(w->m, w->child, values[i & 7]);
        break;
    }
    w->seconds = s_now() - t0;
    (void)sink;
    return NULL;
}

/* The median over reps of the per-op time of the slowest thread. */
static double s_measure(s_op_t op, glci_metric_t *m, const size_t *children, int threads,
                        long ops, int reps)
{
    double best[64];
    for (int r = 0; r < reps; r++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)threads);
        s_worker_t w[2];
        pthread_t t[2];
        for (int i = 0; i < threads; i++) {
            w[i] = (s_worker_t){op, m, children[i], ops, &start, 0};
            pthread_create(&t[i], NULL, s_run, &w[i]);
        }
        double worst = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            if (w[i].seconds > worst)
                worst = w[i].seconds;
        }
        pthread_barrier_destroy(&start);
        best[r] = worst * 1e9 / (double)ops;
    }
    for (int i = 1; i < reps; i++)     /* insertion sort: a handful */
        for (int j = i; j > 0 && best[j] < best[j - 1]; j--) {
            double x = best[j];
            best[j] = best[j - 1];
            best[j - 1] = x;
        }
    return best[reps / 2];
}

static int s_cities(void *arg, glci_metric_sink_t *sink)
{
    long n = *(const long *)arg;
    for (long i = 0; i < n; i++) {
        char city[32];
        snprintf(city, sizeof city, "city-%06ld", i);
        glci_metric_sink_emit(sink, (const char *[]){city}, 1764547200.0 + (double)i);
    }
    return 0;
}

static int s_option(const char *flag, const char *text, int64_t max, int64_t *out)
{
    if (!text || glci_parse_int64(text, 1, max, out) < 0) {
        fprintf(stderr, "glci-bench metrics: %s: not a number in 1..%lld: %s\n", flag,
                (long long)max, text ? text : "(missing)");
        return -1;
    }
    return 0;
}

int glci_bench_metrics(int argc, char **argv)
{
    int64_t ops = 10000000, reps = 5, cities = 10000;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc;
        if (strcmp(argv[i], "--ops") == 0)
            rc = s_option("--ops", v, 1000000000, &ops);
        else if (strcmp(argv[i], "--reps") == 0)
            rc = s_option("--reps", v, 64, &reps);
        else if (strcmp(argv[i], "--cities") == 0)
            rc = s_option("--cities", v, 10000000, &cities);
        else {
            fprintf(stderr, "usage: glci-bench metrics [--ops N] [--reps N] [--cities N]\n");
            return 2;
        }
        if (rc < 0)
            return 2;
        i++;
    }

    char err[256];
    glci_metrics_t *reg = glci_metrics_new();
    glci_collector_metrics_t m;
    long n_cities = (long)cities;
    glci_collector_metrics_cfg_t cfg = {.framework = "unesco-glci 2013.1",
                                        .framework_hash = "9f2c", .city_last_seen = s_cities,
                                        .city_last_seen_arg = &n_cities};
    if (glci_metrics_catalog_collector(reg, &cfg, &m, err, sizeof err) < 0) {
        fprintf(stderr, "glci-bench metrics: %s\n", err);
        glci_metrics_destroy(&reg);
        return 1;
    }
    const size_t same[2] = {0, 0}, apart[2] = {GLCI_MC_BATCH_APPLIED, GLCI_MC_BATCH_DUPLICATE};
    long n = (long)ops;
    int r = (int)reps;
    struct {
        const char *name;
        double ns;
        int threads;
    } rows[] = {
        {"loop", s_measure(S_LOOP, NULL, same, 1, n, r), 1},
        {"counter_inc", s_measure(S_COUNTER, m.batches, same, 1, n, r), 1},
        {"counter_inc_2t_shared", s_measure(S_COUNTER, m.batches, same, 2, n, r), 2},
        {"counter_inc_2t_apart", s_measure(S_COUNTER, m.batches, apart, 2, n, r), 2},
        {"gauge_add", s_measure(S_GAUGE, m.connected_agents, same, 1, n, r), 1},
        {"histogram_observe", s_measure(S_HISTOGRAM, m.ingest_duration, same, 1, n, r), 1},
        {"histogram_observe_2t", s_measure(S_HISTOGRAM, m.ingest_duration, same, 2, n, r), 2},
    };

    double t0 = s_now();
    char *text;
    size_t len;
    int rc = glci_metrics_render(reg, &text, &len, err, sizeof err);
    double render_ms = (s_now() - t0) * 1e3;
    free(text);
    glci_metrics_destroy(&reg);
    if (rc < 0) {
        fprintf(stderr, "glci-bench metrics: %s\n", err);
        return 1;
    }

    printf("{\"bench\": \"metrics\", \"ops_per_thread\": %lld, \"reps\": %d, \"rows\": [",
           (long long)ops, r);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("%s{\"op\": \"%s\", \"threads\": %d, \"ns_per_op\": %.2f}", i ? ", " : "",
               rows[i].name, rows[i].threads, rows[i].ns);
    printf("], \"render\": {\"cities\": %lld, \"ms\": %.2f, \"bytes\": %zu}}\n",
           (long long)cities, render_ms, len);
    return 0;
}
