/* glci-soak: a long run of the whole system with periodic kills.
 *
 * N agents (CURVE, one city each) and one collector on loopback run for M
 * minutes. Every second a few agents get new values (push --csv and spool
 * files, alternating); every --agent-kill seconds a random agent is killed
 * with SIGKILL and restarted; every --collector-kill seconds the collector
 * is. Every --sample seconds the collector's RSS (VmRSS) and open file
 * descriptors are read from /proc. At the end it waits until everything is
 * delivered, runs the exactly-once checker and `glci verify`, and prints one
 * JSON object: lost and duplicated (must be 0 and 0), the samples, and per
 * collector lifetime the RSS and fd figures after a warm-up (must be flat).
 *
 * Not part of ctest. Usage:
 *   glci-soak [--agents N] [--minutes M] [--agent-kill S] [--collector-kill S]
 *             [--sample S] [--rate VALUES_PER_SECOND]
 * Exit status: 0 if nothing was lost or duplicated and verify passed, 1
 * otherwise, 2 on a usage error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "glci_alloc.h"
#include "glci_checker.h"
#include "glci_text.h"

typedef struct {
    double t;                 /* seconds since start */
    int generation;           /* collector lifetime number */
    long rss_kb;              /* VmRSS: includes the store's mapped pages */
    long anon_kb;             /* RssAnon: the heap, where a leak would show */
    long fds;
    uint64_t stored, sent;
} s_sample_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_arg(const char *text, long lo, long hi, long *out)
{
    int64_t v;
    if (glci_parse_int64(text, lo, hi, &v) != 0)
        return -1;
    *out = (long)v;
    return 0;
}

static int s_usage(const char *msg)
{
    fprintf(stderr, "glci-soak: %s\nusage: glci-soak [--agents N] [--minutes M] "
                    "[--agent-kill S] [--collector-kill S] [--sample S] [--rate V]\n",
            msg);
    return 2;
}

int main(int argc, char **argv)
{
    long agents = 100, minutes = 10, agent_kill = 5, coll_kill = 120, sample = 5, rate = 500;
    for (int i = 1; i < argc; i++) {
        long *target = NULL, lo = 1, hi = 100000;
        if (strcmp(argv[i], "--agents") == 0)
            target = &agents, hi = 1000;
        else if (strcmp(argv[i], "--minutes") == 0)
            target = &minutes, hi = 24 * 60;
        else if (strcmp(argv[i], "--agent-kill") == 0)
            target = &agent_kill;
        else if (strcmp(argv[i], "--collector-kill") == 0)
            target = &coll_kill;
        else if (strcmp(argv[i], "--sample") == 0)
            target = &sample;
        else if (strcmp(argv[i], "--rate") == 0)
            target = &rate;
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: glci-soak [--agents N] [--minutes M] [--agent-kill S] "
                   "[--collector-kill S] [--sample S] [--rate V]\n");
            return 0;
        } else
            return s_usage("unknown argument");
        if (i + 1 >= argc)
            return s_usage("missing value");
        if (s_arg(argv[++i], lo, hi, target) != 0)
            return s_usage("bad number");
    }
    setenv("GLCI_BIN_DIR", GLCI_BIN_DIR, 0);
    setenv("GLCI_FRAMEWORK", GLCI_FRAMEWORK_FILE, 0);

    uint64_t rng = glci_sys_seed();
    glci_sys_opts_t o = {.batch_max = 100, .window = 8};
    glci_sys_t *s = glci_sys_open("soak", (size_t)agents, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < (size_t)agents; i++)
        glci_sys_start_agent(s, i);

    size_t n_samples = 0, cap_samples = 256;
    s_sample_t *samples = glci_xmalloc(cap_samples * sizeof *samples);
    int generation = 1, coll_kills = 0, agent_kills = 0;
    double t0 = s_now(), end = t0 + (double)minutes * 60.0;
    double next_agent_kill = t0 + (double)agent_kill, next_coll_kill = t0 + (double)coll_kill;
    double next_sample = t0, gen_start = t0;
    size_t rr = 0;
    long per_agent = 100;     /* values per intake; rate/per_agent agents a second */
    long per_second = rate / per_agent > 0 ? rate / per_agent : 1;
    unsigned tick = 0;

    while (s_now() < end) {
        double tick_start = s_now();
        for (long k = 0; k < per_second; k++, rr = (rr + 1) % (size_t)agents) {
            if ((tick + (unsigned)k) % 2)
                glci_sys_spool(s, rr, (size_t)per_agent);
            else
                glci_sys_push(s, rr, (size_t)per_agent);
        }
        tick++;
        double now = s_now();
        if (now >= next_agent_kill) {
            size_t i = (size_t)(glci_sys_rand(&rng) % (uint64_t)agents);
            glci_sys_kill9_agent(s, i);
            glci_sys_start_agent(s, i);
            agent_kills++;
            next_agent_kill += (double)agent_kill;
        }
        if (now >= next_coll_kill) {
            glci_sys_kill9_collector(s);
            glci_sys_start_collector(s, NULL);
            coll_kills++;
            generation++;
            gen_start = s_now();
            next_coll_kill += (double)coll_kill;
        }
        if (now >= next_sample) {
            pid_t pid = glci_ts_proc_pid(s->coll);
            if (n_samples == cap_samples) {
                cap_samples *= 2;
                samples = glci_xrealloc(samples, cap_samples * sizeof *samples);
            }
            samples[n_samples++] = (s_sample_t){
                now - t0, generation, glci_bench_status_kib(pid, "VmRSS:"),
                glci_bench_status_kib(pid, "RssAnon:"), glci_bench_fds(pid),
                glci_sys_stored(s->store), glci_checker_expected(s->chk)};
            fprintf(stderr, "# t=%.0f gen=%d rss=%ldkB anon=%ldkB fds=%ld stored=%llu sent=%llu\n",
                    now - t0, generation, samples[n_samples - 1].rss_kb,
                    samples[n_samples - 1].anon_kb,
                    samples[n_samples - 1].fds,
                    (unsigned long long)samples[n_samples - 1].stored,
                    (unsigned long long)samples[n_samples - 1].sent);
            next_sample += (double)sample;
        }
        double spent = s_now() - tick_start;
        if (spent < 1.0)
            glci_sys_sleep_ms((long)((1.0 - spent) * 1000.0));
    }
    (void)gen_start;
    double load_end = s_now();

    /* Drain, then check. */
    glci_sys_wait_stored(s, glci_checker_expected(s->chk), GLCI_SYS_DRAIN_MS * 2);
    for (size_t i = 0; i < (size_t)agents; i++)
        glci_sys_wait_outbox_empty(s, i, GLCI_SYS_DRAIN_MS);
    double drained = s_now();
    pid_t pid = glci_ts_proc_pid(s->coll);
    long final_rss = glci_bench_status_kib(pid, "VmRSS:");
    long final_anon = glci_bench_status_kib(pid, "RssAnon:");
    long final_fds = glci_bench_fds(pid);
    glci_check_result_t r;
    int rc = glci_checker_run(s->chk, s->store, s->glci, 0, &r);
    char *check = glci_check_result_json(&r);

    printf("{\"agents\": %ld, \"minutes\": %ld, \"values\": %llu, \"agent_kills\": %d, "
           "\"collector_kills\": %d, \"drain_seconds\": %.1f, \"lost\": %llu, "
           "\"duplicated\": %llu, \"check\": %s,\n \"final\": {\"rss_kb\": %ld, \"anon_kb\": %ld, \"fds\": %ld},\n"
           " \"lifetimes\": [",
           agents, minutes, (unsigned long long)r.expected, agent_kills, coll_kills,
           drained - load_end, (unsigned long long)r.lost, (unsigned long long)r.duplicated,
           check, final_rss, final_anon, final_fds);
    /* Per collector lifetime, after 30 s of warm-up: first, last, max. */
    for (int g = 1; g <= generation; g++) {
        long rf = -1, rl = -1, rm = -1, af = -1, al = -1, am = -1, ff = -1, fl = -1, fm = -1;
        double first_t = -1;
        for (size_t k = 0; k < n_samples; k++) {
            if (samples[k].generation != g)
                continue;
            if (first_t < 0)
                first_t = samples[k].t;
            if (samples[k].t < first_t + 30.0)
                continue;
            if (rf < 0)
                rf = samples[k].rss_kb, af = samples[k].anon_kb, ff = samples[k].fds;
            rl = samples[k].rss_kb, al = samples[k].anon_kb, fl = samples[k].fds;
            if (samples[k].anon_kb > am)
                am = samples[k].anon_kb;
            if (samples[k].rss_kb > rm)
                rm = samples[k].rss_kb;
            if (samples[k].fds > fm)
                fm = samples[k].fds;
        }
        printf("%s\n  {\"generation\": %d, \"rss_kb_first\": %ld, \"rss_kb_last\": %ld, "
               "\"rss_kb_max\": %ld, \"anon_kb_first\": %ld, \"anon_kb_last\": %ld, "
               "\"anon_kb_max\": %ld, \"fds_first\": %ld, \"fds_last\": %ld, \"fds_max\": %ld}",
               g > 1 ? "," : "", g, rf, rl, rm, af, al, am, ff, fl, fm);
    }
    printf("],\n \"samples\": [");
    for (size_t k = 0; k < n_samples; k++)
        printf("%s\n  {\"t\": %.0f, \"generation\": %d, \"rss_kb\": %ld, \"anon_kb\": %ld, "
               "\"fds\": %ld, "
               "\"stored\": %llu, \"sent\": %llu}",
               k ? "," : "", samples[k].t, samples[k].generation, samples[k].rss_kb,
               samples[k].anon_kb, samples[k].fds, (unsigned long long)samples[k].stored,
               (unsigned long long)samples[k].sent);
    printf("]}\n");
    fflush(stdout);

    free(check);
    free(samples);
    for (size_t i = 0; i < (size_t)agents; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
    return rc == 0 ? 0 : 1;
}
