/* glci-bench flood: one authenticated city floods the real glci-collector
 * with batches of rejected rows while a second city sends one batch of one
 * valid value at a time (tests/support/glci_flood.h, the driver the fault
 * test shares). The figure of issue 20: the second city's p99 ack under
 * 1 s while the first floods, and the collector's resident size before,
 * at the peak and after.
 *
 * Prints {"bench": "flood", "flood_batches", "flood_obs", "flood_s",
 * "calm_acks", "calm_p50_ms", "calm_p99_ms", "calm_max_ms",
 * "rss_before_kib", "rss_peak_kib", "rss_after_kib", "anon_before_kib",
 * "anon_peak_kib", "anon_after_kib", "rejects", "rejects_dropped"}.
 *
 * Options: --batches N (512) --obs N (10000) --window N (64) --keep;
 * $GLCI_COLLECTOR names another collector binary to measure. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "glci_flood.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_text.h"

int glci_bench_flood(int argc, char **argv)
{
    int64_t batches = 512, obs = 10000, window = 64;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(argv[i], "--batches"))
            rc = glci_bench_opt("flood", "--batches", v, 1, 1000000, &batches), i++;
        else if (!strcmp(argv[i], "--obs"))
            rc = glci_bench_opt("flood", "--obs", v, 1, 10000, &obs), i++;
        else if (!strcmp(argv[i], "--window"))
            rc = glci_bench_opt("flood", "--window", v, 1, 1000, &window), i++;
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else {
            fprintf(stderr, "glci-bench flood: unknown option %s\n", argv[i]);
            return 2;
        }
        if (rc != 0)
            return 2;
    }
    int status = 1;
    char err[512], dir[] = "/tmp/glci-bench-flood-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "glci-bench flood: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char store[sizeof dir + 16], path[sizeof dir + 64], endpoint[64];
    snprintf(store, sizeof store, "%s/store", dir);
    glci_key_t pub[2], sec[2], server, server_sec;
    glci_store_t *st = NULL;
    pid_t pid = -1;
    if (glci_store_create(store, GLCI_FRAMEWORK_FILE, NULL, err, sizeof err) != 0 ||
        glci_store_open(store, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench flood: %s\n", err);
        goto cleanup;
    }
    static const char *const ids[2] = {"flood", "calm"};
    for (int c = 0; c < 2; c++)
        if (glci_key_generate(&pub[c], &sec[c], err, sizeof err) != 0 ||
            glci_store_city_add(st, ids[c], ids[c], "XX", pub[c].z85, err, sizeof err) != 0) {
            fprintf(stderr, "glci-bench flood: %s\n", err);
            glci_store_close(&st);
            goto cleanup;
        }
    glci_store_close(&st);
    snprintf(path, sizeof path, "%s/collector.key", store);
    if (glci_key_generate(&server, &server_sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(path, &server, &server_sec, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench flood: %s\n", err);
        goto cleanup;
    }
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", glci_bench_free_port());
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/collector/glci-collector", GLCI_BIN_DIR);
    if (getenv("GLCI_COLLECTOR"))       /* another build's, to compare */
        snprintf(bin, sizeof bin, "%s", getenv("GLCI_COLLECTOR"));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--store", store, "--listen", endpoint, "--log-level", "error",
              (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        fprintf(stderr, "glci-bench flood: fork: %s\n", strerror(errno));
        goto cleanup;
    }
    glci_flood_opts_t o = {
        .endpoint = endpoint, .server_pub = server.z85,
        .flood_pub = pub[0].z85, .flood_sec = sec[0].z85,
        .calm_pub = pub[1].z85, .calm_sec = sec[1].z85, .calm_indicator = "adult_learning_rate",
        .flood_batches = (size_t)batches, .flood_obs = (size_t)obs,
        .flood_window = (size_t)window, .collector = pid, .settle_ms = 3000,
        .timeout_ms = 3600000,
    };
    glci_flood_result_t r;
    if (glci_flood_run(&o, &r) != 0) {
        fprintf(stderr, "glci-bench flood: %s\n", r.error);
        goto cleanup;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    pid = -1;
    glci_store_status_t ss = {0};
    glci_view_t *v = NULL;
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    if (glci_store_open(store, &ro, &st, err, sizeof err) == 0 && glci_view_begin(st, &v) == 0)
        glci_view_status(v, &ss);
    glci_view_end(&v);
    glci_store_close(&st);
    printf("{\"bench\": \"flood\", \"flood_batches\": %zu, \"flood_obs\": %lld, "
           "\"flood_s\": %.2f, \"calm_acks\": %zu, \"calm_p50_ms\": %.1f, "
           "\"calm_p99_ms\": %.1f, \"calm_max_ms\": %.1f, \"rss_before_kib\": %ld, "
           "\"rss_peak_kib\": %ld, \"rss_after_kib\": %ld, \"anon_before_kib\": %ld, "
           "\"anon_peak_kib\": %ld, \"anon_after_kib\": %ld, \"rejects\": %llu, "
           "\"rejects_dropped\": %llu}\n",
           r.flood_acked, (long long)obs, r.flood_s, r.calm_acks, r.calm_p50_ms,
           r.calm_p99_ms, r.calm_max_ms, r.rss_before_kib, r.rss_peak_kib, r.rss_after_kib,
           r.anon_before_kib, r.anon_peak_kib, r.anon_after_kib,
           (unsigned long long)ss.n_rejects, (unsigned long long)ss.rejects_dropped);
    status = 0;
cleanup:
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    if (!keep) {
        char cmd[sizeof dir + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "glci-bench flood: cannot remove %s\n", dir);
    } else {
        fprintf(stderr, "glci-bench flood: kept %s\n", dir);
    }
    return status;
}
