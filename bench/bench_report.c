/* glci-bench report: how long `glci report` takes for the whole network,
 * measured as whole processes (fork/exec of the real binary, store open,
 * one read view, the model, every chart and page written).
 *
 * The store is built through the store API (bench_cli.c's builder): the
 * shipped framework, N cities (default 425, the network at the end of
 * 2025) with every indicator in each of P periods (default 10, ending
 * 2025). Then, R times each (default 5, after one warm-up): `glci report
 * --out DIR` (the site, rewritten in place), `glci report --city C --pdf
 * FILE` and `glci export --format xlsx --out FILE`; the medians are
 * printed with the site's size:
 *
 *   {"bench": "report", "report_ms": ..., "pdf_ms": ..., "xlsx_ms": ...,
 *    "pages": ..., "site_bytes": ..., "target_report_ms": 5000, ...}
 *
 * Options: --cities N, --periods P, --runs R, --store DIR (reuse a store,
 * e.g. one kept with --keep), --keep. Target: the site under 5 s for 425
 * cities x 10 periods. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "glci_alloc.h"
#include "glci_text.h"

/* Files and bytes under dir (one level of sub-folders, as the site has). */
static void s_size(const char *dir, uint64_t *files, uint64_t *bytes, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode) && depth < 1) {
            s_size(path, files, bytes, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            (*files)++;
            *bytes += (uint64_t)sb.st_size;
        }
    }
    closedir(d);
}

static double s_median_of(const char *bin, char *const *argv, int64_t runs, int *failed)
{
    double *t = glci_xcalloc((size_t)runs, sizeof *t);
    glci_bench_run(bin, argv);     /* warm-up: page cache and the site's folder */
    for (int64_t r = 0; r < runs; r++) {
        t[r] = glci_bench_run(bin, argv);
        if (t[r] < 0)
            *failed = 1;
    }
    double m = glci_bench_median(t, (size_t)runs);
    free(t);
    return m;
}

int glci_bench_report(int argc, char **argv)
{
    int64_t cities = 425, periods = 10, runs = 5;
    const char *store = NULL;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        int64_t *num = NULL;
        if (strcmp(argv[i], "--cities") == 0)
            num = &cities;
        else if (strcmp(argv[i], "--periods") == 0)
            num = &periods;
        else if (strcmp(argv[i], "--runs") == 0)
            num = &runs;
        else if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
            continue;
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            store = argv[++i];
            continue;
        }
        if (!num || i + 1 >= argc || glci_parse_int64(argv[i + 1], 1, 1000000, num) != 0) {
            fprintf(stderr, "usage: glci-bench report [--cities N] [--periods P] [--runs R] "
                            "[--store DIR] [--keep]\n");
            return 2;
        }
        i++;
    }
    char bin[1024];
    const char *bindir = getenv("GLCI_BIN_DIR");
    snprintf(bin, sizeof bin, "%s/cli/glci", bindir && *bindir ? bindir : GLCI_BIN_DIR);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "glci-bench report: %s: %s (build the glci target)\n", bin,
                strerror(errno));
        return 1;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/glci-bench-report-XXXXXX");
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "glci-bench report: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char store_dir[128], site[128], pdf[128], xlsx[128];
    snprintf(store_dir, sizeof store_dir, "%s/store", tmp);
    snprintf(site, sizeof site, "%s/site", tmp);
    snprintf(pdf, sizeof pdf, "%s/profile.pdf", tmp);
    snprintf(xlsx, sizeof xlsx, "%s/export.xlsx", tmp);
    double build_s = 0;
    int status = 0;
    if (!store) {
        double t0 = glci_bench_now_ms();
        if (glci_bench_build_store(store_dir, cities, 1000, periods) != 0) {
            status = 1;
            goto cleanup;
        }
        build_s = (glci_bench_now_ms() - t0) / 1e3;
        store = store_dir;
    }
    int failed = 0;
    char *report_argv[] = {bin, (char *)"--store", (char *)store, (char *)"report",
                           (char *)"--out", site, NULL};
    char *pdf_argv[] = {bin, (char *)"--store", (char *)store, (char *)"report",
                        (char *)"--city", (char *)"city00000", (char *)"--pdf", pdf, NULL};
    char *xlsx_argv[] = {bin, (char *)"--store", (char *)store, (char *)"--format",
                         (char *)"xlsx", (char *)"export", (char *)"--period", (char *)"2025",
                         (char *)"--out", xlsx, NULL};
    double report_ms = s_median_of(bin, report_argv, runs, &failed);
    double pdf_ms = s_median_of(bin, pdf_argv, runs, &failed);
    double xlsx_ms = s_median_of(bin, xlsx_argv, runs, &failed);
    if (failed) {
        fprintf(stderr, "glci-bench report: a glci run failed (store %s)\n", store);
        status = 1;
        goto cleanup;
    }
    uint64_t files = 0, bytes = 0;
    s_size(site, &files, &bytes, 0);
    printf("{\"bench\": \"report\", \"report_ms\": %.1f, \"pdf_ms\": %.1f, \"xlsx_ms\": %.1f, "
           "\"site_files\": %llu, \"site_bytes\": %llu, \"cities\": %lld, \"periods\": %lld, "
           "\"runs\": %lld, \"build_s\": %.1f, \"target_report_ms\": 5000}\n",
           report_ms, pdf_ms, xlsx_ms, (unsigned long long)files, (unsigned long long)bytes,
           (long long)cities, (long long)periods, (long long)runs, build_s);
cleanup:
    if (!keep) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "glci-bench report: could not remove %s\n", tmp);
    } else {
        fprintf(stderr, "glci-bench report: kept %s (store %s)\n", tmp, store);
    }
    return status;
}
