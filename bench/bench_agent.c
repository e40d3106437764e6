/* glci-bench agent: the agent's idle footprint and its drain rate, measured
 * on the real processes (glci-collector and glci-agent over CURVE on
 * loopback):
 *
 *   idle_rss_kib     VmRSS of the agent (/proc/PID/status) after the idle span
 *   idle_cpu_pct     its user+system CPU (/proc/PID/stat) over the idle span,
 *                    connected, with an empty outbox (default 30 s)
 *   drain_obs_per_s  observations per second from a full outbox (1,000,000
 *                    queued in batches of 1000 while the agent is stopped) to
 *                    the collector's store, timed from the agent's start until
 *                    its outbox is empty (every batch acked, so stored)
 *
 * Options: --idle-seconds N (30), --observations N (1000000), --retain D (the
 * agent's retention of acked batches, default its own, 30d: `--retain 0`
 * measures the drain without it). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "glci_keyfile.h"
#include "glci_outbox.h"
#include "glci_store.h"
#include "glci_text.h"

extern char **environ;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static pid_t s_spawn(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static void s_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static int s_outbox_status(const char *dir, glci_outbox_status_t *st)
{
    glci_outbox_t *ob = NULL;
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    char err[512];
    if (glci_outbox_open(dir, &o, &ob, err, sizeof err) != 0)
        return -1;
    int rc = glci_outbox_status(ob, st);
    glci_outbox_close(&ob);
    return rc;
}

int glci_bench_agent(int argc, char **argv)
{
    long idle_s = 30;
    int64_t n_obs = 1000000;
    const char *retain = "30d";
    for (int i = 1; i < argc; i++) {
        int64_t v;
        if (strcmp(argv[i], "--idle-seconds") == 0 && i + 1 < argc &&
            glci_parse_int64(argv[i + 1], 1, 3600, &v) == 0) {
            idle_s = (long)v;
            i++;
        } else if (strcmp(argv[i], "--observations") == 0 && i + 1 < argc &&
                   glci_parse_int64(argv[i + 1], 1000, 100000000, &v) == 0) {
            n_obs = v;
            i++;
        } else if (strcmp(argv[i], "--retain") == 0 && i + 1 < argc &&
                   strspn(argv[i + 1], "0123456789smhdw") == strlen(argv[i + 1])) {
            retain = argv[++i];
        } else {
            fprintf(stderr, "usage: glci-bench agent [--idle-seconds N] [--observations N] "
                    "[--retain DURATION]\n");
            return 2;
        }
    }

    char dir[] = "/tmp/glci-bench-agent-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char store[64], outbox[64], spool[64], conf[64], ckey[128], cpub[64], akey[64];
    char clog[64], alog[64], endpoint[64], err[512];
    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(outbox, sizeof outbox, "%s/outbox", dir);
    snprintf(spool, sizeof spool, "%s/spool", dir);
    snprintf(conf, sizeof conf, "%s/agent.conf", dir);
    snprintf(ckey, sizeof ckey, "%s/collector.key", store);
    snprintf(cpub, sizeof cpub, "%s/collector.pub", dir);
    snprintf(akey, sizeof akey, "%s/city.key", dir);
    snprintf(clog, sizeof clog, "%s/collector.log", dir);
    snprintf(alog, sizeof alog, "%s/agent.log", dir);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 20000 + (int)(getpid() % 20000));

    int status = 1;
    pid_t coll = -1, agent = -1;
    glci_key_t pub, sec, spub, ssec;
    glci_store_t *st = NULL;
    if (glci_store_create(store, GLCI_FRAMEWORK_FILE, NULL, err, sizeof err) != 0 ||
        glci_store_open(store, NULL, &st, err, sizeof err) != 0 ||
        glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
        glci_key_generate(&spub, &ssec, err, sizeof err) != 0 ||
        glci_store_city_add(st, "bench-city", "Bench", "XX", pub.z85, NULL, 0) != 0 ||
        glci_keyfile_write_secret(ckey, &spub, &ssec, err, sizeof err) != 0 ||
        glci_keyfile_write_public(cpub, &spub, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(akey, &pub, &sec, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench agent: set-up failed: %s\n", err);
        glci_store_close(&st);
        goto done;
    }
    glci_store_close(&st);
    FILE *f = fopen(conf, "w");
    if (!f)
        goto done;
    fprintf(f, "[agent]\ncity = bench-city\ncollector = %s\ncollector_key = %s\n"
            "key_file = %s\noutbox = %s\nspool = %s\nbatch_max = 1000\nwindow = 8\n"
            "log_level = warn\nretain = %s\n", endpoint, cpub, akey, outbox, spool, retain);
    fclose(f);

    char coll_bin[512], agent_bin[512];
    snprintf(coll_bin, sizeof coll_bin, "%s/collector/glci-collector", GLCI_BIN_DIR);
    snprintf(agent_bin, sizeof agent_bin, "%s/agent/glci-agent", GLCI_BIN_DIR);
    char *cargv[] = {coll_bin, "--store", store, "--listen", endpoint, "--log-level", "warn",
                     NULL};
    char *aargv[] = {agent_bin, "run", "--config", conf, NULL};
    coll = s_spawn(cargv, clog);
    agent = s_spawn(aargv, alog);
    if (coll < 0 || agent < 0) {
        fprintf(stderr, "glci-bench agent: cannot start the daemons\n");
        goto done;
    }

    /* Connected, outbox empty. */
    glci_outbox_status_t os;
    int connected = 0;
    for (int k = 0; k < 300 && !connected; k++) {
        s_sleep_ms(100);
        connected = s_outbox_status(outbox, &os) == 0 && strcmp(os.state, "connected") == 0;
    }
    if (!connected) {
        fprintf(stderr, "glci-bench agent: the agent did not connect (see %s)\n", alog);
        goto done;
    }
    s_sleep_ms(1000);
    long long t0 = glci_bench_cpu_ticks(agent);
    double w0 = s_now();
    s_sleep_ms(idle_s * 1000);
    long long t1 = glci_bench_cpu_ticks(agent);
    double w1 = s_now();
    long rss = glci_bench_status_kib(agent, "VmRSS:");
    double cpu_pct = 100.0 * (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK) / (w1 - w0);

    /* Drain: fill the outbox while the agent is stopped, then time it. */
    s_stop(agent);
    agent = -1;
    glci_outbox_t *ob = NULL;
    glci_outbox_opts_t oo = {.limit = 1ull << 32};
    if (glci_outbox_open(outbox, &oo, &ob, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench agent: %s\n", err);
        goto done;
    }
    const int64_t chunk = 100000;
    glci_obs_t *obs = calloc((size_t)chunk, sizeof *obs);
    int rc = 0;
    for (int64_t at = 0; rc == 0 && at < n_obs; at += chunk) {
        int64_t k = n_obs - at < chunk ? n_obs - at : chunk;
        for (int64_t i = 0; i < k; i++) {
            obs[i].indicator = (at + i) % 2 ? "adult_literacy_rate" : "adult_learning_rate";
            obs[i].period = 2000 + (int32_t)((at + i) % 25);
            obs[i].has_period = obs[i].has_value = 1;
            obs[i].value = (double)((at + i) % 1000) / 10.0;
        }
        rc = glci_outbox_append(ob, obs, (size_t)k, 1000, (int64_t)time(NULL), NULL, NULL, NULL);
    }
    free(obs);
    glci_outbox_close(&ob);
    if (rc != 0) {
        fprintf(stderr, "glci-bench agent: filling the outbox: %s\n", glci_outbox_strerror(rc));
        goto done;
    }
    double d0 = s_now();
    agent = s_spawn(aargv, alog);
    int drained = 0;
    while (!drained && s_now() - d0 < 3600) {
        s_sleep_ms(50);
        drained = s_outbox_status(outbox, &os) == 0 && os.batches == 0;
    }
    double d1 = s_now();
    /* the agent's own CPU time for the drain: load from other work on the
     * machine stretches the wall-clock rate far more than it */
    long long dticks = glci_bench_cpu_ticks(agent);
    if (!drained) {
        fprintf(stderr, "glci-bench agent: the outbox did not drain within an hour\n");
        goto done;
    }
    printf("{\"bench\": \"agent\", \"idle_rss_kib\": %ld, \"idle_cpu_pct\": %.3f, "
           "\"idle_seconds\": %ld, \"drain_obs_per_s\": %.0f, \"drain_observations\": %lld, "
           "\"drain_seconds\": %.3f, \"drain_agent_cpu_seconds\": %.2f, \"batch_max\": 1000, "
           "\"window\": 8, \"retain\": \"%s\", \"retained_batches\": %llu, "
           "\"retained_bytes\": %llu}\n",
           rss, cpu_pct, idle_s, (double)n_obs / (d1 - d0), (long long)n_obs, d1 - d0,
           (double)dticks / (double)sysconf(_SC_CLK_TCK), retain,
           (unsigned long long)os.retained_batches, (unsigned long long)os.retained_bytes);
    status = 0;

done:
    s_stop(agent);
    s_stop(coll);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "glci-bench agent: could not remove %s\n", dir);
    return status;
}
