/* glci-bench pagecache: what the kernel charges for the writes a commit
 * makes, apart from glci and LMDB. A prefilled store is slower than an
 * empty one by more than its CPU (docs/PERFORMANCE.md, "Flat in store
 * size: where the prefilled run's time goes"): its commits overwrite free
 * pages scattered through a large file whose page cache was filled by
 * long writes, where an empty store's commits mostly append. This bench
 * isolates that with plain files, three cases of the same rounds (each
 * round: --pages single 4 KiB page writes, then fdatasync, as a commit):
 *
 *   append           a new file, every page written at its end
 *   overwrite_small  random pages of a --mib file filled 4 KiB at a time
 *   overwrite_large  the same pages of a --mib file filled 1 MiB at a time
 *
 * The two overwrite cases differ only in how their page cache was filled
 * (Linux 6.x on ext4 gives a long write one large folio of many pages, and
 * each page written inside one costs a walk over the folio's state);
 * --span keeps the overwrites to the file's first N MiB, which tells the
 * spread of the writes from the size of the file. Two more cases append
 * to the end of a --mib file filled 1 MiB at a time, 64 pages a pwritev,
 * as the history file's commits do in a prefilled store (docs/PERFORMANCE.md,
 * "The history file's cache"):
 *
 *   append_after         its page cache kept, as the kernel would
 *   append_after_dropped after each round, what lies more than 8 MiB
 *                        behind the end dropped from the page cache
 *                        once 16 MiB have gathered (POSIX_FADV_DONTNEED,
 *                        by glci_mdb_drop_written's rule)
 *
 * Prints {"bench": "pagecache", "mib", "span_mib", "rounds", "pages", "cases": [{"case",
 * "write_s", "sync_s", "total_s", "write_mib_per_s", "cpu_us_per_page"}, ...],
 * "overwrite_large_to_small", "overwrite_large_to_append" (total times),
 * "append_after_to_dropped" (CPU times)}.
 *
 * Options: --mib N (764, the prefilled store's size) --span N (the
 * overwrites land in the file's first N MiB; the whole file) --rounds N (80)
 * --pages N (760, the pages of one commit of `glci-bench ingest`) --dir D
 * (where the files go: the file system of the store to judge; /tmp). */
#define _DEFAULT_SOURCE             /* pwritev */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "glci_mdb.h"

#define S_NAME "glci-bench pagecache"
#define S_PAGE 4096
#define S_FILL (1024 * 1024)

typedef struct {
    const char *name;
    size_t fill;              /* bytes a fill write (0: no fill) */
    int append, drop;         /* pages go at the end; drop what lies behind */
    double write_s, sync_s, cpu_s;
} s_case_t;

#define S_IOV 64
#define S_KEEP ((uint64_t)8 << 20)   /* the history file's S_HIST_CACHE_KEEP */

static double s_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The same page sequence for both overwrite cases. */
static uint64_t s_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int s_pwrite(int fd, const char *buf, size_t n, off_t at, const char *path)
{
    ssize_t w = pwrite(fd, buf, n, at);
    if (w == (ssize_t)n)
        return 0;
    fprintf(stderr, S_NAME ": %s: %s\n", path, w < 0 ? strerror(errno) : "short write");
    return -1;
}

/* n pages of buf at `at` with one pwritev. */
static int s_pwritev(int fd, char *buf, int n, off_t at, const char *path)
{
    struct iovec iov[S_IOV];
    for (int k = 0; k < n; k++)
        iov[k] = (struct iovec){buf + (size_t)k * S_PAGE, S_PAGE};
    ssize_t w = pwritev(fd, iov, n, at);
    if (w == (ssize_t)n * S_PAGE)
        return 0;
    fprintf(stderr, S_NAME ": %s: %s\n", path, w < 0 ? strerror(errno) : "short write");
    return -1;
}

/* Fills path to `bytes` with writes of `chunk` bytes and syncs it. */
static int s_fill(int fd, const char *path, char *buf, size_t bytes, size_t chunk)
{
    for (size_t at = 0; at < bytes; at += chunk)
        if (s_pwrite(fd, buf, chunk, (off_t)at, path) != 0)
            return -1;
    if (fdatasync(fd) != 0) {
        fprintf(stderr, S_NAME ": %s: fdatasync: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* One case: its fill, then the rounds. */
static int s_run(const char *dir, size_t bytes, size_t span, int64_t rounds, int64_t pages,
                 char *buf, s_case_t *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/pagecache.data", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, S_NAME ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = out->fill ? s_fill(fd, path, buf, bytes, out->fill) : 0;
    uint64_t x = 0x9e3779b97f4a7c15ull, n_pages = span / S_PAGE;
    uint64_t end = out->fill && out->append ? bytes / S_PAGE : 0;
    uint64_t dropped = (end * S_PAGE + GLCI_MDB_DROP_GRAIN - 1) & ~(GLCI_MDB_DROP_GRAIN - 1);
    double c0 = s_cpu();
    out->write_s = out->sync_s = 0.0;
    for (int64_t r = 0; r < rounds && rc == 0; r++) {
        double t0 = s_now();
        for (int64_t p = 0; p < pages && rc == 0;) {
            if (out->fill && out->append) {
                /* as LMDB's commit: up to 64 pages a pwritev */
                int n = pages - p < S_IOV ? (int)(pages - p) : S_IOV;
                rc = s_pwritev(fd, buf, n, (off_t)(end * S_PAGE), path);
                end += (uint64_t)n;
                p += n;
                continue;
            }
            uint64_t pg = out->append ? end++ : s_next(&x) % n_pages;
            buf[0] = (char)p++;
            rc = s_pwrite(fd, buf, S_PAGE, (off_t)(pg * S_PAGE), path);
        }
        double t1 = s_now();
        if (rc == 0 && fdatasync(fd) != 0) {
            fprintf(stderr, S_NAME ": %s: fdatasync: %s\n", path, strerror(errno));
            rc = -1;
        }
        uint64_t to = out->drop ? glci_mdb_drop_due(dropped, end * S_PAGE, S_KEEP) : 0;
        if (rc == 0 && to) {
            (void)posix_fadvise(fd, (off_t)dropped, (off_t)(to - dropped), POSIX_FADV_DONTNEED);
            dropped = to;
        }
        out->write_s += t1 - t0;
        out->sync_s += s_now() - t1;
    }
    out->cpu_s = s_cpu() - c0;
    close(fd);
    unlink(path);
    return rc;
}

int glci_bench_pagecache(int argc, char **argv)
{
    int64_t mib = 764, span_mib = 0, rounds = 80, pages = 760;
    const char *where = "/tmp";
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(argv[i], "--mib"))
            rc = glci_bench_opt("pagecache", "--mib", v, 1, 1 << 20, &mib), i++;
        else if (!strcmp(argv[i], "--span"))
            rc = glci_bench_opt("pagecache", "--span", v, 1, 1 << 20, &span_mib), i++;
        else if (!strcmp(argv[i], "--rounds"))
            rc = glci_bench_opt("pagecache", "--rounds", v, 1, 100000, &rounds), i++;
        else if (!strcmp(argv[i], "--pages"))
            rc = glci_bench_opt("pagecache", "--pages", v, 1, 1000000, &pages), i++;
        else if (!strcmp(argv[i], "--dir") && v)
            where = v, i++;
        else if (!strcmp(argv[i], "--dir")) {
            fprintf(stderr, S_NAME ": --dir needs a folder\n");
            return 2;
        } else {
            fprintf(stderr, S_NAME ": unknown option %s\n", argv[i]);
            return 2;
        }
        if (rc != 0)
            return 2;
    }
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/glci-bench-pagecache-XXXXXX", where) >= (int)sizeof dir) {
        fprintf(stderr, S_NAME ": --dir is too long\n");
        return 2;
    }
    if (!mkdtemp(dir)) {
        fprintf(stderr, S_NAME ": mkdtemp in %s: %s\n", where, strerror(errno));
        return 1;
    }
    char *buf = aligned_alloc(S_PAGE, S_FILL);
    if (!buf) {
        fprintf(stderr, S_NAME ": out of memory\n");
        rmdir(dir);
        return 1;
    }
    memset(buf, 0x5a, S_FILL);
    size_t bytes = (size_t)mib << 20;
    size_t span = span_mib && span_mib < mib ? (size_t)span_mib << 20 : bytes;
    s_case_t c[] = {{.name = "append", .append = 1},
                    {.name = "overwrite_small", .fill = S_PAGE},
                    {.name = "overwrite_large", .fill = S_FILL},
                    {.name = "append_after", .fill = S_FILL, .append = 1},
                    {.name = "append_after_dropped", .fill = S_FILL, .append = 1, .drop = 1}};
    enum { N = sizeof c / sizeof c[0] };
    int rc = 0;
    for (int k = 0; k < N && rc == 0; k++)
        rc = s_run(dir, bytes, span, rounds, pages, buf, &c[k]);
    free(buf);
    rmdir(dir);
    if (rc != 0)
        return 1;
    printf("{\"bench\": \"pagecache\", \"mib\": %lld, \"span_mib\": %zu, \"rounds\": %lld, "
           "\"pages\": %lld, \"cases\": [",
           (long long)mib, span >> 20, (long long)rounds, (long long)pages);
    double mb = (double)rounds * (double)pages * S_PAGE / (1024.0 * 1024.0);
    for (int k = 0; k < N; k++)
        printf("%s{\"case\": \"%s\", \"write_s\": %.3f, \"sync_s\": %.3f, \"total_s\": %.3f, "
               "\"write_mib_per_s\": %.0f, \"cpu_us_per_page\": %.2f}",
               k ? ", " : "", c[k].name, c[k].write_s, c[k].sync_s, c[k].write_s + c[k].sync_s,
               c[k].write_s > 0 ? mb / c[k].write_s : 0.0,
               c[k].cpu_s * 1e6 / ((double)rounds * (double)pages));
    double t1 = c[1].write_s + c[1].sync_s, t2 = c[2].write_s + c[2].sync_s,
           t0 = c[0].write_s + c[0].sync_s;
    printf("], \"overwrite_large_to_small\": %.2f, \"overwrite_large_to_append\": %.2f, "
           "\"append_after_to_dropped\": %.2f}\n",
           t1 > 0 ? t2 / t1 : 0.0, t0 > 0 ? t2 / t0 : 0.0,
           c[4].cpu_s > 0 ? c[3].cpu_s / c[4].cpu_s : 0.0);
    return 0;
}
