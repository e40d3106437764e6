/* glci-bench index: the cost of one incremental index update as the number
 * of cities in memory grows (100, 10,000, 1,000,000), and the cost of a full
 * recomputation per city, with the shipped framework. What it must show
 * (issue #18): no term that grows with the number of cities, i.e. ns per
 * update at 1 M cities within 2x of 10,000 cities, and every update < 2 us.
 *
 * Every city keeps the results of a small window of periods, laid out
 * contiguously per city, each block aligned to a cache line, in one anonymous
 * mapping advised to use huge pages (fewer TLB misses; a store maps its
 * pages the same way through LMDB). The results are first filled by a full
 * recomputation from synthetic observations. An update is one random
 * observation (random city, indicator, period, value within [min, max])
 * applied with glci_index_apply to every stored period it affects. The
 * observations are generated before the clock starts.
 *
 * Throughput: every row's state is built first and the repetitions are
 * interleaved (rep 1 of every row, then rep 2, ...), so a change of load on
 * the shared machine hits every row alike and the ratio 1M / 10k is taken
 * from figures measured side by side. Each figure is the median of the
 * repetitions, as wall time and as the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID, which leaves out the time other processes ran
 * but keeps every cache and TLB miss of ours). Two figures per row:
 * ns_per_update applies the observations one after the other as they come;
 * ns_per_update_prefetch processes them as a batch would be, issuing
 * glci_index_prefetch for the observation --ahead places later before
 * applying the current one, so the cache misses of cities not in cache
 * overlap instead of adding up.
 *
 * Every update, timed one by one: a separate pass, on each row's state as
 * just built, over --latency-updates observations, each update (all its
 * periods) between two reads of CLOCK_MONOTONIC (the timer's own cost,
 * timer_ns, is included, so the figures are upper bounds). A single update
 * can be hit by an interrupt or lose the CPU to another process; on a
 * shared machine the raw max says more about the scheduler than about the
 * engine. So the pass is run three times, from the same state with the same observations (on the
 * state, on a copy of it, on the copy built again): an update slow in
 * every run is slow because of what it does; an interrupt landing on the
 * same update in all three is unlikely. max_ns is the raw maximum of the
 * first run, max_ns_min_of_3 the maximum over updates of the fastest of
 * its three timings; over_2us counts updates above 2 us in the same two
 * ways, and involuntary_switches says how often the first run lost the
 * CPU. The runs ask for a real-time priority (SCHED_FIFO, as root;
 * "realtime" says whether they got it), so other processes do not take
 * the CPU in the middle of an update; interrupts still do.
 *
 * memory_latency_ns is what one random access into a row's state costs
 * this machine, with no engine in it (a chain of dependent loads), and
 * memory_ratio_1m_to_10k its ratio: the yardstick for the engine's.
 *
 * Options: --reps N (default 5, at least 3), --updates N per repetition
 * (default 200000), --latency-updates N (default 200000; 0: no latency
 * pass), --periods N stored per city (default 2), --ahead N (default 8),
 * --max-cities N (skip larger rows), --framework FILE. */
#define _GNU_SOURCE                 /* MAP_ANONYMOUS, MADV_HUGEPAGE, RUSAGE_THREAD */
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "glci_alloc.h"
#include "glci_index.h"
#include "glci_text.h"

#ifndef GLCI_FRAMEWORK_FILE
#define GLCI_FRAMEWORK_FILE "framework/glci.ini"
#endif

#define S_FIRST_PERIOD 2020         /* first stored period */
#define S_ROWS         3
#define S_REPS_MAX     101
#define S_TARGET_RATIO 2.0          /* 1M cities / 10k cities, at most */
#define S_TARGET_NS    2000.0       /* every update, below */

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

static double s_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
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

/* The q-quantile (0..1) of n sorted values, by the nearest rank. */
static double s_quantile(const double *sorted, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);
    return sorted[k ? k - 1 : 0];
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

/* An empty mapping for n cities, advised to use huge pages. 0 or -1. */
static int s_cities_map(s_cities_t *c, const glci_framework_t *fw, uint32_t n, int periods)
{
    c->periods = periods;
    c->stride = (glci_result_size(fw) + 63) & ~(size_t)63;
    c->map_len = (size_t)n * (size_t)periods * c->stride;
    void *m = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "glci-bench index: cannot map %zu bytes for %u cities\n", c->map_len, n);
        c->mem = NULL;
        return -1;
    }
    madvise(m, c->map_len, MADV_HUGEPAGE);
    c->mem = m;
    return 0;
}

/* Fills every result of c by a full recomputation: the same state each
 * time. */
static void s_cities_fill(s_cities_t *c, const glci_framework_t *fw, uint32_t n)
{
    s_synth_t syn = {.fw = fw};
    for (uint32_t city = 0; city < n; city++) {
        syn.city = city;
        for (int k = 0; k < c->periods; k++)
            glci_index_full(fw, s_synth_lookup, &syn, S_FIRST_PERIOD + k, s_result(c, city, k));
    }
}

static int s_cities_make(s_cities_t *c, const glci_framework_t *fw, uint32_t n, int periods)
{
    if (s_cities_map(c, fw, n, periods) != 0)
        return -1;
    s_cities_fill(c, fw, n);
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

/* One update: op applied to every stored period it affects. Returns the
 * applications; adds the changed results to *changed. */
static uint64_t s_update(const glci_framework_t *fw, const s_cities_t *c, const s_op_t *op,
                         uint64_t *changed)
{
    int32_t first, last;
    s_span(fw, c, op->period, &first, &last);
    for (int32_t P = first; P <= last; P++)
        *changed += (uint64_t)glci_index_apply(fw, s_result(c, op->city, P - S_FIRST_PERIOD),
                                               op->ind, op->period, op->value);
    return first <= last ? (uint64_t)(last - first + 1) : 0;
}

/* Applies ops one after the other; returns the applications. With ahead >
 * 0, the results of the observation `ahead` places later are prefetched
 * first (glci_index_prefetch), as a batch would be processed. */
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
        applied += s_update(fw, c, &ops[k], changed);
    }
    return applied;
}

/* Times every update of ops on c, one by one, into lat (ns). */
static void s_run_timed(const glci_framework_t *fw, const s_cities_t *c, const s_op_t *ops,
                        size_t n, double *lat, uint64_t *changed)
{
    for (size_t k = 0; k < n; k++) {
        double t0 = s_clock_ns(CLOCK_MONOTONIC);
        s_update(fw, c, &ops[k], changed);
        lat[k] = s_clock_ns(CLOCK_MONOTONIC) - t0;
    }
}

/* What the latency pass found for one row. */
typedef struct {
    size_t n;
    double timer_ns, p50, p99, p999, p9999, max, max_min3;
    size_t over, over_min3;
    long nivcsw;
    int fifo;               /* 1: the runs had a real-time priority */
} s_lat_t;

static long s_nivcsw(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : 0;
}

/* The timed runs ask for SCHED_FIFO (root only; RT throttling still
 * leaves other processes 5% of each second): a normal process on a busy
 * machine loses the CPU for milliseconds, which says nothing about an
 * update. Interrupts, and a virtual machine's host, still take it; the
 * other two runs are for them. Returns 1 if the policy was set. */
static int s_realtime(int on)
{
    struct sched_param sp;
    memset(&sp, 0, sizeof sp);
    sp.sched_priority = on ? 1 : 0;
    return sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &sp) == 0;
}

/* The latency pass of one row (see the top of the file), on the state
 * just built: three runs of the same n observations, on c, on a copy of
 * it, and on the copy built again. c is left as the first run left it. 0,
 * or -1 if the copy cannot be mapped. */
static int s_latency(const glci_framework_t *fw, s_cities_t *c, uint32_t cities, s_op_t *ops,
                     size_t n, s_lat_t *out, uint64_t *changed)
{
    s_cities_t copy = {0};
    if (s_cities_map(&copy, fw, cities, c->periods) != 0)
        return -1;
    memcpy(copy.mem, c->mem, c->map_len);
    double *t[3];
    for (int r = 0; r < 3; r++)
        t[r] = glci_xcalloc(n, sizeof *t[r]);
    s_make_ops(fw, ops, n, cities, c->periods);

    /* the timer alone, for the reader: its cost is inside every figure */
    size_t nt = n < 10001 ? n : 10001;
    for (size_t k = 0; k < nt; k++) {
        double t0 = s_clock_ns(CLOCK_MONOTONIC);
        t[0][k] = s_clock_ns(CLOCK_MONOTONIC) - t0;
    }
    out->timer_ns = s_median(t[0], (int)nt);

    out->fifo = s_realtime(1);
    long sw = s_nivcsw();
    s_run_timed(fw, c, ops, n, t[0], changed);
    out->nivcsw = s_nivcsw() - sw;
    s_run_timed(fw, &copy, ops, n, t[1], changed);
    s_realtime(0);
    s_cities_fill(&copy, fw, cities);
    s_realtime(1);
    s_run_timed(fw, &copy, ops, n, t[2], changed);
    s_realtime(0);
    s_cities_free(&copy);

    out->n = n;
    out->over = out->over_min3 = 0;
    out->max_min3 = 0;
    for (size_t k = 0; k < n; k++) {
        double m = t[0][k];
        m = t[1][k] < m ? t[1][k] : m;
        m = t[2][k] < m ? t[2][k] : m;
        out->over += t[0][k] > S_TARGET_NS;
        out->over_min3 += m > S_TARGET_NS;
        if (m > out->max_min3)
            out->max_min3 = m;
    }
    double *a = t[0];
    qsort(a, n, sizeof *a, s_cmp_double);
    out->p50 = s_quantile(a, n, 0.50);
    out->p99 = s_quantile(a, n, 0.99);
    out->p999 = s_quantile(a, n, 0.999);
    out->p9999 = s_quantile(a, n, 0.9999);
    out->max = a[n - 1];
    for (int r = 0; r < 3; r++)
        free(t[r]);
    return 0;
}

/* What one random access into the row's state costs this machine, as a
 * chain of dependent loads (each address depends on the value read
 * before), in ns. The engine's ratio 1M / 10k is to be read against this
 * one: it is the memory hierarchy's own (cache or DRAM), with no engine
 * in it. */
static volatile uint64_t s_probe_sink;

static double s_probe(const s_cities_t *c, uint32_t cities)
{
    const size_t n = 200000;
    uint64_t x = 0x9E3779B97F4A7C15ull, sum = 0;
    double t0 = s_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (size_t k = 0; k < n; k++) {
        x = s_mix(x + sum);
        const glci_result_t *r = s_result(c, (uint32_t)(x % cities), (int)((x >> 40) % (uint64_t)c->periods));
        sum = (uint64_t)r->n_values;
    }
    double ns = (s_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / (double)n;
    /* The sink keeps the chain: n_values is 32 bits, so a test of the sum
     * against UINT64_MAX let the compiler drop the loop. */
    s_probe_sink = sum;
    return ns;
}

/* Kilobytes of this process's anonymous memory in huge pages, or -1. */
static long s_huge_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    long kib = -1;
    char line[256];
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
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
    long long reps = 5, updates = 200000, periods = 2, max_cities = 1000000, ahead = 8;
    long long lat_updates = 200000;
    const char *path = GLCI_FRAMEWORK_FILE;
    for (int i = 1; i < argc; i++) {
        int rc = 0;
        if (strcmp(argv[i], "--reps") == 0)
            rc = s_arg_long(argc, argv, &i, 3, &reps);
        else if (strcmp(argv[i], "--updates") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &updates);
        else if (strcmp(argv[i], "--latency-updates") == 0)
            rc = s_arg_long(argc, argv, &i, 0, &lat_updates);
        else if (strcmp(argv[i], "--periods") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &periods);
        else if (strcmp(argv[i], "--ahead") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &ahead);
        else if (strcmp(argv[i], "--max-cities") == 0)
            rc = s_arg_long(argc, argv, &i, 1, &max_cities);
        else if (strcmp(argv[i], "--framework") == 0 && i + 1 < argc)
            path = argv[++i];
        else {
            fprintf(stderr, "usage: glci-bench index [--reps N] [--updates N] "
                            "[--latency-updates N] [--periods N] [--ahead N] "
                            "[--max-cities N] [--framework FILE]\n");
            return 2;
        }
        if (rc)
            return 2;
    }
    if (reps > S_REPS_MAX || periods > 16) {
        fprintf(stderr, "glci-bench index: --reps at most %d, --periods at most 16\n",
                S_REPS_MAX);
        return 2;
    }

    glci_framework_t *fw = NULL;
    char err[512];
    if (glci_framework_load_file(path, &fw, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench index: %s\n", err);
        return 1;
    }
    static const uint32_t sizes[S_ROWS] = {100, 10000, 1000000};
    size_t n_ops = (size_t)(updates > lat_updates ? updates : lat_updates);
    s_op_t *ops = glci_xcalloc(n_ops, sizeof *ops);
    s_cities_t rows[S_ROWS];
    memset(rows, 0, sizeof rows);
    s_lat_t lat[S_ROWS];
    memset(lat, 0, sizeof lat);
    double probe[S_ROWS] = {0};
    double load0 = glci_bench_loadavg();
    int n_rows = 0, status = 0;
    uint64_t changed = 0;
    for (int s = 0; s < S_ROWS && sizes[s] <= (uint64_t)max_cities; s++) {
        if (s_cities_make(&rows[s], fw, sizes[s], (int)periods) != 0) {
            status = 1;
            goto cleanup;
        }
        /* every update timed, from the state just built (see s_latency) */
        if (lat_updates > 0 &&
            s_latency(fw, &rows[s], sizes[s], ops, (size_t)lat_updates, &lat[s], &changed) != 0) {
            status = 1;
            goto cleanup;
        }
        probe[s] = s_probe(&rows[s], sizes[s]);
        /* warm-up: the first touches of the mapping are not timed */
        s_make_ops(fw, ops, (size_t)updates, sizes[s], (int)periods);
        s_run(fw, &rows[s], ops, (size_t)updates < 10000 ? (size_t)updates : 10000, 0, &changed);
        n_rows++;
    }
    long huge_kib = s_huge_kib();

    /* [row][mode][rep]: wall and CPU ns per update */
    static double wall[S_ROWS][2][S_REPS_MAX], cpu[S_ROWS][2][S_REPS_MAX];
    double applies[S_ROWS] = {0};
    for (int r = 0; r < reps; r++) {
        for (int s = 0; s < n_rows; s++) {
            for (int mode = 0; mode < 2; mode++) {
                s_make_ops(fw, ops, (size_t)updates, sizes[s], (int)periods);
                double w0 = s_clock_ns(CLOCK_MONOTONIC);
                double c0 = s_clock_ns(CLOCK_THREAD_CPUTIME_ID);
                uint64_t applied = s_run(fw, &rows[s], ops, (size_t)updates,
                                         mode ? (size_t)ahead : 0, &changed);
                cpu[s][mode][r] = (s_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)updates;
                wall[s][mode][r] = (s_clock_ns(CLOCK_MONOTONIC) - w0) / (double)updates;
                applies[s] = (double)applied / (double)updates;
            }
        }
    }
    double med_wall[S_ROWS][2] = {{0}}, med_cpu[S_ROWS][2] = {{0}};
    for (int s = 0; s < n_rows; s++)
        for (int mode = 0; mode < 2; mode++) {
            med_wall[s][mode] = s_median(wall[s][mode], (int)reps);
            med_cpu[s][mode] = s_median(cpu[s][mode], (int)reps);
        }

    /* full recomputation of the first stored period, per city, at 10k */
    double full_ns = 0, samples[S_REPS_MAX];
    if (n_rows > 1) {
        s_synth_t syn = {.fw = fw};
        for (int r = 0; r < reps; r++) {
            double t0 = s_clock_ns(CLOCK_MONOTONIC);
            for (uint32_t city = 0; city < sizes[1]; city++) {
                syn.city = city;
                glci_index_full(fw, s_synth_lookup, &syn, S_FIRST_PERIOD,
                                s_result(&rows[1], city, 0));
            }
            samples[r] = (s_clock_ns(CLOCK_MONOTONIC) - t0) / (double)sizes[1];
        }
        full_ns = s_median(samples, (int)reps);
    }

    double load1 = glci_bench_loadavg();

    printf("{\"bench\": \"index\", \"framework\": \"%s\", \"indicators\": %u, "
           "\"result_bytes\": %zu, \"periods_stored\": %lld, \"reps\": %lld, "
           "\"updates_per_rep\": %lld, \"prefetch_ahead\": %lld, \"huge_pages_kib\": %ld, "
           "\"load_before\": %.2f, \"load_after\": %.2f, \"rows\": [",
           fw->id, fw->n_ind, glci_result_size(fw), periods, reps, updates, ahead, huge_kib,
           load0, load1);
    for (int s = 0; s < n_rows; s++) {
        printf("%s{\"cities\": %u, \"ns_per_update\": %.1f, \"ns_per_update_prefetch\": %.1f, "
               "\"cpu_ns_per_update\": %.1f, \"cpu_ns_per_update_prefetch\": %.1f, "
               "\"applies_per_update\": %.3f, \"memory_latency_ns\": %.1f",
               s ? ", " : "", sizes[s], med_wall[s][0], med_wall[s][1], med_cpu[s][0],
               med_cpu[s][1], applies[s], probe[s]);
        if (lat[s].n)
            printf(", \"latency\": {\"updates\": %zu, \"timer_ns\": %.1f, \"p50_ns\": %.0f, "
                   "\"p99_ns\": %.0f, \"p999_ns\": %.0f, \"p9999_ns\": %.0f, \"max_ns\": %.0f, "
                   "\"over_2us\": %zu, \"max_ns_min_of_3\": %.0f, \"over_2us_min_of_3\": %zu, "
                   "\"involuntary_switches\": %ld, \"realtime\": %s}",
                   lat[s].n, lat[s].timer_ns, lat[s].p50, lat[s].p99, lat[s].p999,
                   lat[s].p9999, lat[s].max, lat[s].over, lat[s].max_min3, lat[s].over_min3,
                   lat[s].nivcsw, lat[s].fifo ? "true" : "false");
        printf("}");
    }
    printf("], \"full_ns_per_city\": %.1f", full_ns);
    if (n_rows == S_ROWS) {
        double rw = med_wall[2][0] / med_wall[1][0], rwp = med_wall[2][1] / med_wall[1][1];
        double rc = med_cpu[2][0] / med_cpu[1][0], rcp = med_cpu[2][1] / med_cpu[1][1];
        printf(", \"ratio_1m_to_10k\": %.3f, \"ratio_1m_to_10k_prefetch\": %.3f, "
               "\"cpu_ratio_1m_to_10k\": %.3f, \"cpu_ratio_1m_to_10k_prefetch\": %.3f, "
               "\"memory_ratio_1m_to_10k\": %.3f",
               rw, rwp, rc, rcp, probe[2] / probe[1]);
        printf(", \"target\": {\"ratio_max\": %.1f, \"update_max_ns\": %.0f, "
               "\"ratio_met\": %s",
               S_TARGET_RATIO, S_TARGET_NS,
               rw <= S_TARGET_RATIO && rwp <= S_TARGET_RATIO ? "true" : "false");
        if (lat_updates > 0) {
            double worst = 0;
            for (int s = 0; s < n_rows; s++)
                worst = lat[s].max_min3 > worst ? lat[s].max_min3 : worst;
            printf(", \"update_max_met\": %s", worst < S_TARGET_NS ? "true" : "false");
        }
        printf("}");
    }
    printf(", \"changed\": %llu}\n", (unsigned long long)changed);

cleanup:
    for (int s = 0; s < S_ROWS; s++)
        s_cities_free(&rows[s]);
    free(ops);
    glci_framework_free(&fw);
    return status;
}
