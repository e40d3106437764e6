/* glci-bench sensitivity: wall time of the sensitivity Monte Carlo
 * (glci_sens_run, every choice varied, the default ranges) over synthetic
 * cities scored with the shipped framework, as the number of samples and
 * of cities grows, and with one thread against all of them.
 *
 * A synthetic city has a level of its own (so ranks mean something and
 * nearby cities swap under perturbation, as real ones do) plus noise per
 * indicator; about nineteen indicators in twenty have a value, most of the
 * period itself, some carried from one or two periods before. Results are
 * made with glci_index_full before the clock starts; the clock covers
 * glci_sens_new and glci_sens_run, i.e. everything `glci sensitivity` does
 * after reading the store. Each figure is the median (and the min and max)
 * of --reps repetitions: the machine is shared, medians resist a
 * neighbour's burst.
 *
 * Options: --reps N (default 3), --threads N (default: online CPUs),
 * --max-cities N (skip larger rows), --framework FILE. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "glci_analysis.h"
#include "glci_text.h"

#ifndef GLCI_FRAMEWORK_FILE
#define GLCI_FRAMEWORK_FILE "framework/glci.ini"
#endif

#define S_PERIOD 2025

typedef struct {
    const glci_framework_t *fw;
    uint32_t city;
} s_synth_t;

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int s_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value)
{
    const s_synth_t *s = ctx;
    const glci_indicator_t *in = &s->fw->ind[ind];
    uint64_t h = s_mix(((uint64_t)s->city << 20) ^ ind);
    if (h % 20 == 0)
        return 0;
    int32_t age = (h >> 8) % 10 < 7 ? 0 : (int32_t)((h >> 12) % 3);
    if (hi - age < lo)
        return 0;
    /* the city's level in [0.2, 0.8] plus noise of +/- 0.2, along the
     * goalposts (0 = the goalpost scored 0) */
    double level = 0.2 + 0.6 * (double)(s_mix(s->city) % 1001) / 1000.0;
    double t = level + 0.4 * ((double)((h >> 20) % 1001) / 1000.0 - 0.5);
    double v = in->lower + (in->upper - in->lower) * t;
    if (in->max - in->min == 1.0)
        v = t > 0.5 ? 1.0 : 0.0;
    v = v < in->min ? in->min : v > in->max ? in->max : v;
    *period = hi - age;
    *value = v;
    return 1;
}

typedef struct {
    uint32_t cities, samples;
    unsigned threads;
    double median, min, max;
    uint32_t ranked;
} s_row_t;

static int s_row(const glci_framework_t *fw, s_row_t *row, int reps)
{
    size_t n = row->cities;
    size_t size = glci_result_size(fw);
    unsigned char *mem = malloc(n * size);
    glci_city_result_t *cities = malloc(n * sizeof *cities);
    char *ids = malloc(n * 32);
    double times[101];
    int rc = 0;
    if (!mem || !cities || !ids) {
        fprintf(stderr, "glci-bench sensitivity: out of memory for %zu cities\n", n);
        rc = 1;
        goto cleanup;
    }
    for (size_t c = 0; c < n; c++) {
        s_synth_t syn = {fw, (uint32_t)c};
        glci_result_t *r = (glci_result_t *)(void *)(mem + c * size);
        glci_index_full(fw, s_lookup, &syn, S_PERIOD, r);
        snprintf(ids + 32 * c, 32, "city-%06zu", c);
        cities[c].city = ids + 32 * c;
        cities[c].result = r;
    }
    for (int k = 0; k < reps; k++) {
        glci_sens_opts_t o;
        glci_sens_opts_default(fw, &o);
        o.samples = row->samples;
        o.threads = row->threads;
        o.seed = 2013;
        double t0 = s_now();
        glci_sens_t *s = NULL;
        glci_sens_result_t res;
        if (glci_sens_new(fw, S_PERIOD, cities, n, &s) != 0 || glci_sens_run(s, &o, &res) != 0) {
            fprintf(stderr, "glci-bench sensitivity: the analysis failed\n");
            glci_sens_free(&s);
            rc = 1;
            goto cleanup;
        }
        times[k] = s_now() - t0;
        row->ranked = res.n_ranked;
        glci_sens_result_release(&res);
        glci_sens_free(&s);
    }
    qsort(times, (size_t)reps, sizeof *times, s_cmp_double);
    row->median = reps % 2 ? times[reps / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
    row->min = times[0];
    row->max = times[reps - 1];
cleanup:
    free(ids);
    free(cities);
    free(mem);
    return rc;
}

static int s_arg(int argc, char **argv, int *i, long long lo, long long hi, long long *out)
{
    int64_t v;
    if (*i + 1 >= argc || glci_parse_int64(argv[*i + 1], lo, hi, &v) != 0) {
        fprintf(stderr, "glci-bench sensitivity: %s needs an integer in [%lld, %lld]\n",
                argv[*i], lo, hi);
        return -1;
    }
    *out = (long long)v;
    (*i)++;
    return 0;
}

int glci_bench_sensitivity(int argc, char **argv)
{
    long long reps = 3, max_cities = 10000, threads = sysconf(_SC_NPROCESSORS_ONLN);
    const char *path = GLCI_FRAMEWORK_FILE;
    if (threads < 1)
        threads = 1;
    for (int i = 1; i < argc; i++) {
        int rc = 0;
        if (strcmp(argv[i], "--reps") == 0)
            rc = s_arg(argc, argv, &i, 1, 101, &reps);
        else if (strcmp(argv[i], "--threads") == 0)
            rc = s_arg(argc, argv, &i, 1, 256, &threads);
        else if (strcmp(argv[i], "--max-cities") == 0)
            rc = s_arg(argc, argv, &i, 1, 1000000, &max_cities);
        else if (strcmp(argv[i], "--framework") == 0 && i + 1 < argc)
            path = argv[++i];
        else {
            fprintf(stderr, "usage: glci-bench sensitivity [--reps N] [--threads N] "
                            "[--max-cities N] [--framework FILE]\n");
            return 2;
        }
        if (rc)
            return 2;
    }
    glci_framework_t *fw = NULL;
    char err[512];
    if (glci_framework_load_file(path, &fw, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench sensitivity: %s\n", err);
        return 1;
    }
    unsigned t = (unsigned)threads;
    /* samples at 425 cities, cities at 1,000 samples, one thread at 425 */
    s_row_t rows[] = {
        {425, 100, t, 0, 0, 0, 0},   {425, 1000, t, 0, 0, 0, 0}, {425, 4000, t, 0, 0, 0, 0},
        {425, 1000, 1, 0, 0, 0, 0},  {1000, 1000, t, 0, 0, 0, 0},
        {2500, 1000, t, 0, 0, 0, 0}, {10000, 1000, t, 0, 0, 0, 0},
    };
    size_t n_rows = sizeof rows / sizeof rows[0], done = 0;
    int status = 0;
    for (size_t k = 0; k < n_rows && status == 0; k++) {
        if (rows[k].cities > (uint64_t)max_cities)
            continue;
        status = s_row(fw, &rows[k], (int)reps);
        done++;
    }
    printf("{\"bench\": \"sensitivity\", \"framework\": \"%s\", \"indicators\": %u, "
           "\"choices\": %d, \"reps\": %lld, \"rows\": [",
           fw->id, fw->n_ind, GLCI_CHOICE_COUNT, reps);
    for (size_t k = 0, shown = 0; k < n_rows; k++) {
        const s_row_t *r = &rows[k];
        if (r->cities > (uint64_t)max_cities || r->median == 0)
            continue;
        printf("%s{\"cities\": %u, \"samples\": %u, \"threads\": %u, \"ranked\": %u, "
               "\"median_s\": %.3f, \"min_s\": %.3f, \"max_s\": %.3f, "
               "\"us_per_city_sample\": %.3f}",
               shown++ ? ", " : "", r->cities, r->samples, r->threads, r->ranked, r->median,
               r->min, r->max, r->median * 1e6 / ((double)r->cities * r->samples));
    }
    printf("], \"target_425x1000_s\": 2, \"target_10000x1000_s\": 60, \"rows_run\": %zu}\n",
           done);
    glci_framework_free(&fw);
    return status;
}
