/* glci-bench index: the cost of one incremental index update as the number
 * of cities in memory grows (100, 10,000, 1,000,000), and the cost of a full
 * recomputation per city, with the shipped framework.
 *
 * Every city keeps the results of a small window of periods, laid out
 * contiguously per city, each block aligned to a cache line, in one anonymous
 * mapping advised to use huge pages (fewer TLB misses; a store maps its
 * pages the same way through LMDB). The results are first filled by a full
 * recomputation from synthetic observations. An update is one random
 * observation (random city, indicator, period, value within [min, max])
 * applied with glci_index_apply to every stored period it affects. The
 * observations are generated before the clock starts. Each figure is the
 * median of several repetitions.
 *
 * Two figures per row: ns_per_update applies the observations one after
 * the other as they come; ns_per_update_prefetch processes them as a batch
 * would be, issuing glci_index_prefetch for the observation --ahead places
 * later before applying the current one, so the cache misses of cities not
 * in cache overlap instead of adding up.
 *
 * Options: --reps N (default 7), --updates N per repetition (default
 * 200000), --periods N stored per city (default 2), --ahead N (default 8),
 * --max-cities N (skip larger rows), --framework FILE. */
#define _DEFAULT_SOURCE             /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "glci_index.h"
#include "glci_text.h"

#ifndef GLCI_FRAMEWORK_FILE
#define GLCI_FRAMEWORK_FILE "framework/glci.ini"
#endif

#define S_FIRST_PERIOD 2020         /* first stored period */

typedef struct {
    uint32_t city, ind;
    int32_t period;
    double value;
} s_op_t;

typedef struct {
    const glci_framework_t *fw;
    uint32_t city;
} s_synth_t;

static uint64_t s_rng = 0x5EED2025ull;

static uint64_t s_next(void)
{
    uint64_t z = (s_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
}

static double s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double s_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, s_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Synthetic observations of a city: about nine indicators in ten have a
 * value, at a period within the carry-forward window, fixed per city. */
static int s_synth_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                          double *value)
{
    const s_synth_t *s = ctx;
    uint64_t h = s_mix(((uint64_t)s->city << 32) ^ ((uint64_t)ind << 16) ^ (uint64_t)hi);
    if (h % 10 == 0)
        return 0;
    const glci_indicator_t *in = &s->fw->ind[ind];
    *period = hi - (int32_t)((h >> 8) % (uint64_t)(hi - lo + 1));
    *value = in->min + (in->max - in->min) * (double)((h >> 16) % 1001) / 1000.0;
    return 1;
}

typedef struct {
    unsigned char *mem;
    size_t map_len, stride;         /* bytes per (city, period) block */
    int periods;
} s_cities_t;

static glci_result_t *s_result(const s_cities_t *c, uint32_t city, int k)
{
    return (glci_result_t *)(void *)(c->mem + ((size_t)city * (size_t)c->periods + (size_t)k) *
                                                  c->stride);
}

static int s_cities_make(s_cities_t *c, const glci_framework_t *fw, uint32_t n, int periods)
{
    c->periods = periods;
    c->stride = (glci_result_size(fw) + 63) & ~(size_t)63;
    c->map_len = (size_t)n * (size_t)periods * c->stride;
    void *m = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "glci-bench index: cannot map %zu bytes for %u cities\n", c->map_len, n);
        return -1;
    }
    madvise(m, c->map_len, MADV_HUGEPAGE);
    c->mem = m;
    s_synth_t syn = {.fw = fw};
    for (uint32_t city = 0; city < n; city++) {
        syn.city = city;
        for (int k = 0; k < periods; k++)
            glci_index_full(fw, s_synth_lookup, &syn, S_FIRST_PERIOD + k, s_result(c, city, k));
    }
    return 0;
}

static void s_cities_free(s_cities_t *c)
{
    if (c->mem)
        munmap(c->mem, c->map_len);
    c->mem = NULL;
}

/* Random observations whose periods reach the stored window: from
 * carry_forward years before its first period to its last. */
static void s_make_ops(const glci_framework_t *fw, s_op_t *ops, size_t n, uint32_t cities,
                       int periods)
{
    int32_t lo = S_FIRST_PERIOD - fw->carry_forward;
    uint32_t span = (uint32_t)(periods + fw->carry_forward);
    for (size_t k = 0; k < n; k++) {
        uint64_t r = s_next();
        ops[k].city = (uint32_t)(r % cities);
        ops[k].ind = (uint32_t)((r >> 32) % fw->n_ind);
        ops[k].period = lo + (int32_t)((r >> 48) % span);
        const glci_indicator_t *in = &fw->ind[ops[k].ind];
        ops[k].value = in->min + (in->max - in->min) * (double)(s_next() % 100001) / 100000.0;
    }
}

/* The stored periods an observation of period p affects. */
static void s_span(const glci_framework_t *fw, const s_cities_t *c, int32_t p, int32_t *first,
                   int32_t *last)
{
    glci_index_affected(fw, p, first, last);
    if (*first < S_FIRST_PERIOD)
        *first = S_FIRST_PERIOD;
    if (*last > S_FIRST_PERIOD + c->periods - 1)
        *last = S_FIRST_PERIOD + c->periods - 1;
}

/* Applies ops to every stored period each affects; returns the applications.
 * With ahead > 0, the results of the observation `ahead` places later are
 * prefetched first (glci_index_prefetch), as a batch would be processed. */
static uint64_t s_run(const glci_framework_t *fw, const s_cities_t *c, const s_op_t *ops,
                      size_t n, size_t ahead, uint64_t *changed)
{
    uint64_t applied = 0;
    int32_t first, last;
    for (size_t k = 0; k < n; k++) {
        if (ahead && k + ahead < n) {
            const s_op_t *o = &ops[k + ahead];
            s_span(fw, c, o->period, &first, &last);
            for (int32_t P = first; P <= last; P++)
                glci_index_prefetch(fw, s_result(c, o->city, P - S_FIRST_PERIOD), o->ind);
        }
        s_span(fw, c, ops[k].period, &first, &last);
        for (int32_t P = first; P <= last; P++) {
            *changed += (uint64_t)glci_index_apply(fw, s_result(c, ops[k].city, P - S_FIRST_PERIOD),
                                                   ops[k].ind, ops[k].period, ops[k].value);
            applied++;
        }
    }
    return applied;
}

static int s_arg_long(int argc, char **argv, int *i, long long min, long long *out)
{
    int64_t v;
    if (*i + 1 >= argc || glci_parse_int64(argv[*i + 1], min, INT64_MAX, &v) != 0) {
        fprintf(stderr, "glci-bench index: %s needs an integer >= %lld\n", argv[*i], min);
        return -1;
    }
    *out = (long long)v;
    (*i)++;
    return 0;
}

int glci_bench_index(int argc, char **argv)
{
    long long reps = 7, updates = 200000, periods = 2, max_cities = 1000000, ahead = 8;
    const char *path = GLCI_FRAMEWORK_FILE;
    for (int i = 1; i < argc; i++) {
        int rc = 0;
        if (strcmp(argv[i], "--reps") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &reps);
        else if (strcmp(argv[i], "--updates") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &updates);
        else if (strcmp(argv[i], "--periods") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &periods);
        else if (strcmp(argv[i], "--ahead") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &ahead);
        else if (strcmp(argv[i], "--max-cities") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &max_cities);
        else if (strcmp(argv[i], "--framework") == 0 && i + 1 < argc)
            path = argv[++i];
        else {
            fprintf(stderr, "usage: glci-bench index [--reps N] [--updates N] [--periods N] "
                            "[--ahead N] [--max-cities N] [--framework FILE]\n");
            return 2;
        }
        if (rc)
            return 2;
    }
    if (reps > 101 || periods > 16) {
        fprintf(stderr, "glci-bench index: --reps at most 101, --periods at most 16\n");
        return 2;
    }

    glci_framework_t *fw = NULL;
    char err[512];
    if (glci_framework_load_file(path, &fw, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench index: %s\n", err);
        return 1;
    }
    static const uint32_t sizes[] = {100, 10000, 1000000};
    s_op_t *ops = malloc((size_t)updates * sizeof *ops);
    if (!ops) {
        fprintf(stderr, "glci-bench index: out of memory for %lld updates\n", updates);
        glci_framework_free(&fw);
        return 1;
    }
    double samples[101], row_ns[2][3] = {{0}}, row_apply[3] = {0};
    double full_ns = 0;
    int rows = 0, status = 0;
    uint64_t changed = 0;
    for (int s = 0; s < 3 && sizes[s] <= (uint64_t)max_cities; s++) {
        s_cities_t c = {0};
        if (s_cities_make(&c, fw, sizes[s], (int)periods) != 0) {
            status = 1;
            break;
        }
        uint64_t applied = 0;
        s_make_ops(fw, ops, (size_t)updates, sizes[s], (int)periods);
        s_run(fw, &c, ops, (size_t)updates < 10000 ? (size_t)updates : 10000, 0, &changed);
        for (int mode = 0; mode < 2; mode++) {
            for (int r = 0; r < reps; r++) {
                s_make_ops(fw, ops, (size_t)updates, sizes[s], (int)periods);
                double t0 = s_now_ns();
                applied = s_run(fw, &c, ops, (size_t)updates, mode ? (size_t)ahead : 0,
                                &changed);
                samples[r] = (s_now_ns() - t0) / (double)updates;
            }
            row_ns[mode][s] = s_median(samples, (int)reps);
        }
        row_apply[s] = (double)applied / (double)updates;
        if (sizes[s] == 10000) {
            /* full recomputation of every stored period, per city */
            s_synth_t syn = {.fw = fw};
            for (int r = 0; r < reps; r++) {
                double t0 = s_now_ns();
                for (uint32_t city = 0; city < sizes[s]; city++) {
                    syn.city = city;
                    glci_index_full(fw, s_synth_lookup, &syn, S_FIRST_PERIOD,
                                    s_result(&c, city, 0));
                }
                samples[r] = (s_now_ns() - t0) / (double)sizes[s];
            }
            full_ns = s_median(samples, (int)reps);
        }
        s_cities_free(&c);
        rows++;
    }

    printf("{\"bench\": \"index\", \"framework\": \"%s\", \"indicators\": %u, "
           "\"result_bytes\": %zu, \"periods_stored\": %lld, \"reps\": %lld, "
           "\"updates_per_rep\": %lld, \"rows\": [",
           fw->id, fw->n_ind, glci_result_size(fw), periods, reps, updates);
    for (int s = 0; s < rows; s++)
        printf("%s{\"cities\": %u, \"ns_per_update\": %.1f, \"ns_per_update_prefetch\": %.1f, "
               "\"applies_per_update\": %.3f}",
               s ? ", " : "", sizes[s], row_ns[0][s], row_ns[1][s], row_apply[s]);
    printf("], \"full_ns_per_city\": %.1f, \"prefetch_ahead\": %lld", full_ns, ahead);
    if (rows == 3)
        printf(", \"ratio_1000000_to_100\": %.3f, \"ratio_1000000_to_100_prefetch\": %.3f",
               row_ns[0][2] / row_ns[0][0], row_ns[1][2] / row_ns[1][0]);
    printf(", \"changed\": %llu}\n", (unsigned long long)changed);
    free(ops);
    glci_framework_free(&fw);
    return status;
}
