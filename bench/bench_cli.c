/* glci-bench cli: how long the operators wait for `glci rank` and `glci
 * show`, measured as whole processes (fork/exec of the real binary, store
 * open, read view, output) on a large store.
 *
 * The store is built through the store API: the shipped framework, N
 * cities (default 10,000), each with values for the first K indicators
 * (default 44, all of them) in each of P periods (default 10, ending 2025),
 * ingested in chunks of cities, one durable transaction per chunk and
 * period, period p received at second p after the build began. Then
 * `glci rank` (table and JSON) for the default period, `glci rank --limit
 * 10` (which reads only the rows it prints from the store's rank view) and
 * `glci show` of random cities run R times each (default 21) with output to
 * /dev/null; the medians are printed, with the full table's time over the
 * short one's as rank_limit10_speedup (target: at least 3). The reporting
 * cycle (SPEC §7): `glci missing` for the last period (table and JSON, R
 * times; target under 100 ms), and `glci rank --as-of T` with T the
 * receive time of the middle period, so every city has history after T
 * and is recomputed from its history (R/3 times, at least 3; with --period
 * and, as asof_rank_default_ms, with the default period chosen as of T;
 * target under 2 s):
 *
 *   {"bench": "cli", "rank_ms": ..., "rank_limit10_ms": ..., "show_ms": ...,
 *    "missing_ms": ..., "asof_rank_ms": ..., ...}
 *
 * Options: --cities N, --indicators K, --periods P, --runs R, --dir DIR
 * (an empty or missing folder to build in; default a temporary folder,
 * removed afterwards), --store DIR (reuse a store built before, e.g. with
 * --keep), --keep. Targets: rank under 50 ms, show under 10 ms. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_text.h"

static double s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, s_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift64*: deterministic values, the same store on every run. */
static uint64_t s_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Runs glci with argv (NULL-terminated) and stdout/stderr on /dev/null;
 * returns the wall time in ms, or -1 if it did not exit 0. */
static double s_run(const char *bin, char *const *argv)
{
    double t0 = s_now_ms();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, argv);
        _exit(127);
    }
    int ws = 0;
    if (waitpid(pid, &ws, 0) != pid)
        return -1;
    double t = s_now_ms() - t0;
    return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? t : -1;
}

static int s_build(const char *dir, int64_t cities, int64_t inds, int64_t periods)
{
    char err[512] = "";
    glci_store_opts_t opts = {.map_size = (size_t)4 << 30};
    int rc = glci_store_create(dir, GLCI_FRAMEWORK_FILE, &opts, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "glci-bench cli: %s\n", err[0] ? err : glci_store_strerror(rc));
        return -1;
    }
    glci_store_t *st = NULL;
    if (glci_store_open(dir, &opts, &st, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench cli: %s\n", err);
        return -1;
    }
    const glci_framework_t *fw = glci_store_framework(st);
    if (inds > (int64_t)fw->n_ind)
        inds = fw->n_ind;
    for (int64_t c = 0; c < cities; c++) {
        char id[32], name[64];
        glci_key_t pub, sec;
        snprintf(id, sizeof id, "city%05lld", (long long)c);
        snprintf(name, sizeof name, "City %lld", (long long)c);
        if (glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
            (rc = glci_store_city_add(st, id, name, "XX", pub.z85, NULL, 0)) != 0) {
            fprintf(stderr, "glci-bench cli: city add: %s\n", glci_store_strerror(rc));
            glci_store_close(&st);
            return -1;
        }
    }
    /* Receive times from now on, so the cities (registered at the clock's
     * time) were members when the values came: as of any of them. */
    const int64_t t0 = (int64_t)time(NULL);
    const int64_t chunk = 500;
    glci_batch_t *batches = glci_xcalloc((size_t)chunk, sizeof *batches);
    glci_batch_result_t *results = glci_xcalloc((size_t)chunk, sizeof *results);
    glci_obs_t *obs = glci_xcalloc((size_t)(chunk * inds), sizeof *obs);
    char (*ids)[32] = glci_xcalloc((size_t)chunk, sizeof *ids);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int64_t p = 0; p < periods && rc == 0; p++) {
        int32_t period = (int32_t)(2025 - periods + 1 + p);
        for (int64_t c0 = 0; c0 < cities && rc == 0; c0 += chunk) {
            int64_t n = cities - c0 < chunk ? cities - c0 : chunk;
            for (int64_t k = 0; k < n; k++) {
                snprintf(ids[k], sizeof ids[k], "city%05lld", (long long)(c0 + k));
                for (int64_t i = 0; i < inds; i++) {
                    const glci_indicator_t *ind = &fw->ind[i];
                    double u = (double)(s_rand(&seed) >> 11) / 9007199254740992.0;
                    double lo = ind->min, hi = ind->max;
                    glci_obs_t *o = &obs[k * inds + i];
                    *o = (glci_obs_t){.indicator = ind->id, .period = period,
                                      .value = lo + u * (hi - lo), .has_period = 1,
                                      .has_value = 1};
                }
                batches[k] = (glci_batch_t){.city = ids[k], .stream = 1,
                                            .seq = (uint64_t)p + 1, .obs = &obs[k * inds],
                                            .n_obs = (size_t)inds};
            }
            rc = glci_store_ingest(st, batches, (size_t)n, t0 + p, results);
            if (rc != 0)
                fprintf(stderr, "glci-bench cli: ingest: %s\n", glci_store_strerror(rc));
            for (int64_t k = 0; rc == 0 && k < n; k++)
                glci_batch_result_release(&results[k]);
        }
    }
    free(ids);
    free(obs);
    free(results);
    free(batches);
    glci_store_close(&st);
    return rc == 0 ? 0 : -1;
}

/* The store's last period with data, its middle one and the receive time
 * of that middle one's values (every period was received in its own
 * second, in order: the last ingest is the last period's). */
static int s_periods(const char *dir, int32_t *last, int32_t *mid, int64_t *t_mid)
{
    glci_store_opts_t o = {.flags = GLCI_STORE_RDONLY};
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_store_status_t s;
    char err[512];
    int rc = glci_store_open(dir, &o, &st, err, sizeof err);
    if (rc == 0 && (rc = glci_view_begin(st, &v)) == 0)
        rc = glci_view_status(v, &s);
    glci_view_end(&v);
    glci_store_close(&st);
    if (rc != 0 || s.last_period == 0) {
        fprintf(stderr, "glci-bench cli: %s: %s\n", dir, rc ? glci_store_strerror(rc)
                                                           : "no data");
        return -1;
    }
    *last = s.last_period;
    *mid = s.first_period + (s.last_period - s.first_period) / 2;
    *t_mid = s.last_ingest - (s.last_period - *mid);
    return 0;
}

int glci_bench_cli(int argc, char **argv)
{
    int64_t cities = 10000, inds = 44, periods = 10, runs = 21;
    const char *dir = NULL, *store = NULL;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        int64_t *num = NULL;
        if (strcmp(argv[i], "--cities") == 0)
            num = &cities;
        else if (strcmp(argv[i], "--indicators") == 0)
            num = &inds;
        else if (strcmp(argv[i], "--periods") == 0)
            num = &periods;
        else if (strcmp(argv[i], "--runs") == 0)
            num = &runs;
        else if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
            continue;
        } else if ((strcmp(argv[i], "--dir") == 0 || strcmp(argv[i], "--store") == 0) &&
                   i + 1 < argc) {
            if (argv[i][2] == 'd')
                dir = argv[++i];
            else
                store = argv[++i];
            continue;
        }
        if (!num || i + 1 >= argc || glci_parse_int64(argv[i + 1], 1, 10000000, num) != 0) {
            fprintf(stderr, "usage: glci-bench cli [--cities N] [--indicators K] "
                            "[--periods P] [--runs R] [--dir DIR | --store DIR] [--keep]\n");
            return 2;
        }
        i++;
    }
    char tmp[64] = "", bin[1024];
    const char *bindir = getenv("GLCI_BIN_DIR");
    snprintf(bin, sizeof bin, "%s/cli/glci", bindir && *bindir ? bindir : GLCI_BIN_DIR);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "glci-bench cli: %s: %s (build the glci target)\n", bin, strerror(errno));
        return 1;
    }
    double build_s = 0;
    if (!store) {
        if (!dir) {
            snprintf(tmp, sizeof tmp, "/tmp/glci-bench-cli-XXXXXX");
            if (!mkdtemp(tmp)) {
                fprintf(stderr, "glci-bench cli: mkdtemp: %s\n", strerror(errno));
                return 1;
            }
            dir = tmp;
        }
        double t0 = s_now_ms();
        if (s_build(dir, cities, inds, periods) != 0)
            return 1;
        build_s = (s_now_ms() - t0) / 1e3;
        store = dir;
    }

    double *rank = glci_xcalloc((size_t)runs, sizeof *rank);
    double *rank_json = glci_xcalloc((size_t)runs, sizeof *rank_json);
    double *show = glci_xcalloc((size_t)runs, sizeof *show);
    double *rank10 = glci_xcalloc((size_t)runs, sizeof *rank10);
    uint64_t seed = 42;
    int status = 0;
    char *rank_argv[] = {bin, (char *)"--store", (char *)store, (char *)"rank", NULL};
    char *rank_json_argv[] = {bin, (char *)"--store", (char *)store, (char *)"rank",
                              (char *)"--format", (char *)"json", NULL};
    char *rank10_argv[] = {bin, (char *)"--store", (char *)store, (char *)"rank",
                           (char *)"--limit", (char *)"10", NULL};
    /* one warm-up of each, so every measurement sees a warm page cache */
    s_run(bin, rank_argv);
    for (int64_t r = 0; r < runs && status == 0; r++) {
        char city[32];
        snprintf(city, sizeof city, "city%05llu", (unsigned long long)(s_rand(&seed) % (uint64_t)cities));
        char *show_argv[] = {bin, (char *)"--store", (char *)store, (char *)"show", city,
                             (char *)"--format", (char *)"json", NULL};
        rank[r] = s_run(bin, rank_argv);
        rank_json[r] = s_run(bin, rank_json_argv);
        show[r] = s_run(bin, show_argv);
        rank10[r] = s_run(bin, rank10_argv);
        if (rank[r] < 0 || rank_json[r] < 0 || show[r] < 0 || rank10[r] < 0) {
            fprintf(stderr, "glci-bench cli: a glci run failed (store %s)\n", store);
            status = 1;
        }
    }
    /* The reporting cycle: missing for the last period; rank as of the
     * middle period's receive time. */
    double *missing = glci_xcalloc((size_t)runs, sizeof *missing);
    double *missing_json = glci_xcalloc((size_t)runs, sizeof *missing_json);
    int64_t asof_runs = runs / 3 < 3 ? 3 : runs / 3;
    double *asof = glci_xcalloc((size_t)asof_runs, sizeof *asof);
    double *asof_default = glci_xcalloc((size_t)asof_runs, sizeof *asof_default);
    int32_t last = 0, mid = 0;
    int64_t t_mid = 0;
    if (status == 0 && s_periods(store, &last, &mid, &t_mid) != 0)
        status = 1;
    char last_text[16], mid_text[16], at[32];
    snprintf(last_text, sizeof last_text, "%d", (int)last);
    snprintf(mid_text, sizeof mid_text, "%d", (int)mid);
    snprintf(at, sizeof at, "@%lld", (long long)t_mid);
    char *missing_argv[] = {bin, (char *)"--store", (char *)store, (char *)"missing",
                            (char *)"--period", last_text, NULL};
    char *missing_json_argv[] = {bin, (char *)"--store", (char *)store, (char *)"missing",
                                 (char *)"--period", last_text, (char *)"--format",
                                 (char *)"json", NULL};
    char *asof_argv[] = {bin, (char *)"--store", (char *)store, (char *)"rank",
                         (char *)"--as-of", at, (char *)"--period", mid_text, NULL};
    char *asof_default_argv[] = {bin, (char *)"--store", (char *)store, (char *)"rank",
                                 (char *)"--as-of", at, NULL};
    if (status == 0)
        s_run(bin, missing_argv);
    for (int64_t r = 0; r < runs && status == 0; r++) {
        missing[r] = s_run(bin, missing_argv);
        missing_json[r] = s_run(bin, missing_json_argv);
        if (r < asof_runs) {
            asof[r] = s_run(bin, asof_argv);
            asof_default[r] = s_run(bin, asof_default_argv);
        }
        if (missing[r] < 0 || missing_json[r] < 0 ||
            (r < asof_runs && (asof[r] < 0 || asof_default[r] < 0))) {
            fprintf(stderr, "glci-bench cli: a glci missing or rank --as-of run failed "
                            "(store %s)\n", store);
            status = 1;
        }
    }
    if (status == 0) {
        double full = s_median(rank, (size_t)runs), short10 = s_median(rank10, (size_t)runs);
        printf("{\"bench\": \"cli\", \"rank_ms\": %.3f, \"rank_limit10_ms\": %.3f, "
               "\"rank_limit10_speedup\": %.2f, \"show_ms\": %.3f, "
               "\"rank_json_ms\": %.3f, \"missing_ms\": %.3f, \"missing_json_ms\": %.3f, "
               "\"asof_rank_ms\": %.3f, \"asof_rank_default_ms\": %.3f, "
               "\"cities\": %lld, \"indicators\": %lld, "
               "\"periods\": %lld, \"runs\": %lld, \"asof_runs\": %lld, \"build_s\": %.1f, "
               "\"target_rank_ms\": 50, \"target_rank_limit10_speedup\": 3, "
               "\"target_show_ms\": 10, \"target_missing_ms\": 100, "
               "\"target_asof_rank_ms\": 2000}\n",
               full, short10, short10 > 0 ? full / short10 : 0.0,
               s_median(show, (size_t)runs), s_median(rank_json, (size_t)runs),
               s_median(missing, (size_t)runs), s_median(missing_json, (size_t)runs),
               s_median(asof, (size_t)asof_runs), s_median(asof_default, (size_t)asof_runs),
               (long long)cities, (long long)inds, (long long)periods, (long long)runs,
               (long long)asof_runs, build_s);
    }
    free(missing);
    free(missing_json);
    free(asof);
    free(asof_default);
    free(rank);
    free(rank_json);
    free(show);
    free(rank10);
    if (tmp[0] && !keep) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "glci-bench cli: could not remove %s\n", tmp);
    } else if (tmp[0]) {
        fprintf(stderr, "glci-bench cli: store kept in %s\n", tmp);
    }
    return status;
}

/* ---- shared with the other whole-process benchmarks (bench.h) ----------- */

int glci_bench_opt(const char *bench, const char *name, const char *v, int64_t min,
                   int64_t max, int64_t *out)
{
    if (!v || glci_parse_int64(v, min, max, out) != 0) {
        fprintf(stderr, "glci-bench %s: %s needs a whole number in [%lld, %lld]\n", bench, name,
                (long long)min, (long long)max);
        return -1;
    }
    return 0;
}

int glci_bench_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

double glci_bench_now_ms(void)
{
    return s_now_ms();
}

double glci_bench_median(double *v, size_t n)
{
    return s_median(v, n);
}

double glci_bench_run(const char *bin, char *const *argv)
{
    return s_run(bin, argv);
}

int glci_bench_build_store(const char *dir, int64_t cities, int64_t inds, int64_t periods)
{
    return s_build(dir, cities, inds, periods);
}
