/* glci-nemesis: the whole system on a real network under random faults.
 *
 * N agents (one city and one stream each, CURVE) in a few site namespaces
 * reach the collector's namespace through glci-faultproxy in the hub
 * (tests/support/glci_lab.h, glci_netsys.h); the store sits on a tmpfs of
 * its own; the agents run under libfaketime. For M minutes values are
 * queued (push --csv, and spool files now and then) while a scheduler
 * injects random faults: kill -9 of the collector and of agents, SIGSTOP /
 * SIGCONT of either, partitions (drop-all or link down) of a site or of
 * the collector, packet loss and duplication (nftables), proxy delay with
 * jitter, in-stream corruption (duplicated, swapped or flipped bytes,
 * resets, replayed connections) and stalls, the store's disk full and
 * freed, an agent's wall clock moved by hours. Then every fault is healed,
 * everything is delivered, and the exactly-once checker and `glci verify`
 * judge the store.
 *
 * The fault schedule is a pure function of the seed and the options
 * (agents, sites, duration, rate): --schedule prints it without running,
 * and the report carries its hash, so a run is replayed with --seed and the
 * same options (what a fault meets still depends on timing).
 *
 * Not part of ctest (a 60 s smoke of it is). Prints one JSON object on
 * stdout. Exit status: 0 if nothing was lost, duplicated, unexpected,
 * disordered or out of sequence, every value current and verify passed;
 * 1 otherwise; 2 on a usage error; 77 where network namespaces cannot be
 * made (the report says why). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_netsys.h"
#include "glci_text.h"

/* ---- the fault model ------------------------------------------------------- */

typedef enum {
    K_KILL_COLLECTOR,
    K_KILL_AGENT,
    K_STOP_COLLECTOR,
    K_STOP_AGENT,
    K_PARTITION,
    K_LOSS,
    K_DUP,
    K_PROXY_DELAY,
    K_PROXY_CORRUPT,
    K_PROXY_STALL,
    K_DISK_FULL,
    K_CLOCK,
    K_COUNT
} s_kind_t;

static const char *const s_kind_name[K_COUNT] = {
    "kill9_collector", "kill9_agent", "sigstop_collector", "sigstop_agent",
    "partition", "packet_loss", "packet_dup", "proxy_delay", "proxy_corrupt",
    "proxy_stall", "disk_full", "clock_jump"};

/* Relative weights of the kinds (sum 100). */
static const unsigned s_weight[K_COUNT] = {8, 14, 6, 10, 12, 10, 6, 8, 8, 4, 6, 8};

typedef enum { C_DUP, C_SWAP, C_FLIP, C_RESET, C_REPLAY, C_COUNT } s_corrupt_t;
static const char *const s_corrupt_key[C_COUNT] = {"dup_pct", "swap_pct", "flip_pct",
                                                   "reset_pct", "replay_pct"};

typedef struct {
    int64_t at_ms, dur_ms;    /* start after the run's start; how long it lasts */
    s_kind_t kind;
    int target;               /* agent index, or lab node (GLCI_LAB_COLLECTOR, site) */
    int a, b;                 /* kind-specific: cut mode, percent, delay/jitter, offset h */
} s_event_t;

typedef struct {
    s_event_t *ev;
    size_t n, cap;
} s_schedule_t;

typedef struct {
    size_t agents, sites;
    int64_t run_ms;
    double rate;              /* faults per hour */
    uint64_t seed;
} s_plan_t;

static uint64_t s_next(uint64_t *st)
{
    return glci_sys_rand(st);
}

/* Uniform in [lo, hi]. */
static int64_t s_uniform(uint64_t *st, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(s_next(st) % (uint64_t)(hi - lo + 1));
}

/* Log-uniform in [lo, hi]: as many second-long faults as minute-long ones
 * per decade, so short and long both happen. */
static int64_t s_log_uniform(uint64_t *st, int64_t lo, int64_t hi)
{
    double u = (double)(s_next(st) >> 11) / 9007199254740992.0;
    return (int64_t)exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));
}

/* Resources a fault holds while it lasts: one fault at a time per process,
 * per link and kind, per agent clock, on the proxy, on the disk. */
typedef struct {
    int64_t collector, proxy, disk;
    int64_t *agent, *clock;
    int64_t link[3][GLCI_LAB_MAX_SITES + 1];   /* partition, loss, dup; [0] collector */
} s_busy_t;

static int64_t *s_slot(s_busy_t *b, const s_event_t *e)
{
    switch (e->kind) {
    case K_KILL_COLLECTOR:
    case K_STOP_COLLECTOR: return &b->collector;
    case K_KILL_AGENT:
    case K_STOP_AGENT:     return &b->agent[e->target];
    case K_PARTITION:      return &b->link[0][e->target + 1];
    case K_LOSS:           return &b->link[1][e->target + 1];
    case K_DUP:            return &b->link[2][e->target + 1];
    case K_PROXY_DELAY:
    case K_PROXY_CORRUPT:
    case K_PROXY_STALL:    return &b->proxy;
    case K_DISK_FULL:      return &b->disk;
    case K_CLOCK:          return &b->clock[e->target];
    default:               return NULL;
    }
}

/* The schedule: a Poisson process of the given rate, each event's kind,
 * target and parameters drawn from the same generator, an event whose
 * resource is busy moved to the next free target of its kind or dropped.
 * Depends on nothing but the plan. */
static void s_make_schedule(const s_plan_t *p, s_schedule_t *out)
{
    uint64_t st = p->seed;
    s_busy_t b;
    memset(&b, 0, sizeof b);
    b.agent = glci_xcalloc(p->agents, sizeof *b.agent);
    b.clock = glci_xcalloc(p->agents, sizeof *b.clock);
    double mean_gap_ms = 3600000.0 / p->rate;
    int64_t t = 3000;         /* everyone connected first */
    int64_t long_max = p->run_ms / 5 < 120000 ? p->run_ms / 5 : 120000;
    if (long_max < 2000)
        long_max = 2000;
    memset(out, 0, sizeof *out);
    for (;;) {
        double u = ((double)(s_next(&st) >> 11) + 1.0) / 9007199254740993.0;
        t += (int64_t)(-log(u) * mean_gap_ms);
        if (t >= p->run_ms)
            break;
        s_event_t e = {.at_ms = t};
        unsigned w = (unsigned)(s_next(&st) % 100), acc = 0;
        for (e.kind = 0; e.kind < K_COUNT - 1; e.kind++) {
            acc += s_weight[e.kind];
            if (w < acc)
                break;
        }
        int per_agent = e.kind == K_KILL_AGENT || e.kind == K_STOP_AGENT || e.kind == K_CLOCK;
        int per_link = e.kind == K_PARTITION || e.kind == K_LOSS || e.kind == K_DUP;
        if (per_agent)
            e.target = (int)(s_next(&st) % p->agents);
        if (per_link) /* the collector's link a quarter of the time: it cuts everyone */
            e.target = s_next(&st) % 4 == 0 ? GLCI_LAB_COLLECTOR
                                            : (int)(s_next(&st) % p->sites);
        switch (e.kind) {
        case K_KILL_COLLECTOR:
        case K_KILL_AGENT:     e.dur_ms = s_uniform(&st, 0, 3000); break;
        case K_STOP_COLLECTOR: e.dur_ms = s_uniform(&st, 500, 15000); break;
        case K_STOP_AGENT:     e.dur_ms = s_uniform(&st, 500, 30000); break;
        case K_PARTITION:
            e.dur_ms = s_log_uniform(&st, 1000, long_max);
            e.a = s_next(&st) % 2 ? GLCI_LAB_CUT_DROP : GLCI_LAB_CUT_DOWN;
            break;
        case K_LOSS:
            e.dur_ms = s_uniform(&st, 5000, 60000);
            e.a = (int)s_uniform(&st, 10, 30);
            break;
        case K_DUP:
            e.dur_ms = s_uniform(&st, 5000, 60000);
            e.a = (int)s_uniform(&st, 10, 50);
            break;
        case K_PROXY_DELAY:
            e.dur_ms = s_uniform(&st, 5000, 60000);
            e.a = (int)s_uniform(&st, 50, 800);      /* delay */
            e.b = (int)s_uniform(&st, 0, 400);       /* jitter */
            break;
        case K_PROXY_CORRUPT:
            e.dur_ms = s_uniform(&st, 2000, 20000);
            e.a = (int)(s_next(&st) % C_COUNT);
            e.b = e.a == C_REPLAY ? (int)s_uniform(&st, 50, 100) : (int)s_uniform(&st, 1, 5);
            break;
        case K_PROXY_STALL:    e.dur_ms = s_uniform(&st, 1000, 10000); break;
        case K_DISK_FULL:      e.dur_ms = s_uniform(&st, 2000, 30000); break;
        case K_CLOCK:
            e.dur_ms = s_uniform(&st, 10000, 300000);
            e.a = (int)s_uniform(&st, 1, 48) * (s_next(&st) % 2 ? 1 : -1);   /* hours */
            break;
        default: break;
        }
        if (e.at_ms + e.dur_ms > p->run_ms)
            e.dur_ms = p->run_ms - e.at_ms;
        /* a busy resource: the next free target of the kind, else drop */
        size_t tries = per_agent ? p->agents : per_link ? p->sites + 1 : 1;
        int placed = 0;
        for (size_t k = 0; k < tries && !placed; k++) {
            int64_t *slot = s_slot(&b, &e);
            if (*slot <= e.at_ms) {
                *slot = e.at_ms + e.dur_ms;
                placed = 1;
            } else if (per_agent)
                e.target = (int)(((size_t)e.target + 1) % p->agents);
            else if (per_link)
                e.target = e.target + 1 >= (int)p->sites ? GLCI_LAB_COLLECTOR : e.target + 1;
        }
        if (!placed)
            continue;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 256;
            out->ev = glci_xrealloc(out->ev, out->cap * sizeof *out->ev);
        }
        out->ev[out->n++] = e;
    }
    free(b.agent);
    free(b.clock);
}

static uint64_t s_schedule_hash(const s_schedule_t *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < s->n; i++) {
        int64_t f[6] = {s->ev[i].at_ms, s->ev[i].dur_ms, s->ev[i].kind, s->ev[i].target,
                        s->ev[i].a, s->ev[i].b};
        for (size_t k = 0; k < 6; k++)
            for (int byte = 0; byte < 8; byte++)
                h = (h ^ (uint64_t)((f[k] >> (8 * byte)) & 0xff)) * 1099511628211ULL;
    }
    return h;
}

static void s_describe(const s_event_t *e, char *buf, size_t len)
{
    switch (e->kind) {
    case K_KILL_AGENT:
    case K_STOP_AGENT:
        snprintf(buf, len, "agent %d", e->target);
        break;
    case K_CLOCK:
        snprintf(buf, len, "agent %d %+d h", e->target, e->a);
        break;
    case K_PARTITION:
    case K_LOSS:
    case K_DUP: {
        char link[32];
        if (e->target < 0)
            snprintf(link, sizeof link, "collector");
        else
            snprintf(link, sizeof link, "site %d", e->target);
        if (e->kind == K_PARTITION)
            snprintf(buf, len, "%s %s", link, e->a == GLCI_LAB_CUT_DROP ? "drop" : "down");
        else
            snprintf(buf, len, "%s %d%%", link, e->a);
        break;
    }
    case K_PROXY_DELAY:
        snprintf(buf, len, "%d ms +- %d ms", e->a, e->b);
        break;
    case K_PROXY_CORRUPT:
        snprintf(buf, len, "%s = %d", s_corrupt_key[e->a], e->b);
        break;
    default:
        buf[0] = '\0';
    }
}

/* ---- the run ----------------------------------------------------------------- */

/* What the programs said about the faults, counted from their logs before
 * each process ends: evidence that a fault reached them. */
typedef enum { M_FULL, M_REDIAL, M_LOST, M_HANDSHAKE, M_COUNT } s_marker_t;
static const char *const s_marker_text[M_COUNT] = {
    "store is full", "dialling again", "lost the connection", "handshake with"};
static const char *const s_marker_name[M_COUNT] = {
    "collector_store_full", "agent_redials", "agent_connection_lost", "agent_handshake_failed"};
static unsigned long long s_markers[M_COUNT];

static void s_scan(glci_ts_proc_t *p)
{
    if (!p)
        return;
    char *log = glci_ts_proc_stderr(p);
    for (int m = 0; m < M_COUNT; m++)
        for (const char *q = log; (q = strstr(q, s_marker_text[m])); q++)
            s_markers[m]++;
    free(log);
}

typedef struct {
    int64_t at_ms;            /* when to undo */
    const s_event_t *e;
} s_undo_t;

typedef struct {
    glci_netsys_t *ns;
    int64_t t0;
    int *agent_stopped, coll_stopped;
    int *agent_down;          /* killed, to be restarted */
    int coll_down;
    s_undo_t *undo;
    size_t n_undo, cap_undo;
    unsigned long long applied[K_COUNT];
    unsigned long long restarts_failed;
    int64_t revive_at;
} s_run_t;

static int64_t s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_log(s_run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_log(s_run_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "# t=%.1f ", (double)(s_ms() - r->t0) / 1000.0);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void s_proxy(s_run_t *r, const char *lines)
{
    if (glci_netsys_proxy_set(r->ns, lines) != 0)
        s_log(r, "the proxy did not take its settings");
}

static void s_start_collector(s_run_t *r)
{
    if (glci_netsys_start_collector(r->ns) == 0)
        r->coll_down = 0;
    else {
        r->restarts_failed++;
        s_log(r, "collector did not start; retrying");
    }
}

static void s_start_agent(s_run_t *r, size_t i)
{
    if (glci_netsys_start_agent(r->ns, i) == 0)
        r->agent_down[i] = 0;
    else {
        r->restarts_failed++;
        s_log(r, "agent %zu did not start; retrying", i);
    }
}

static void s_signal(glci_ts_proc_t *p, int sig)
{
    if (p)
        (void)glci_ts_proc_signal(p, sig);
}

static void s_apply(s_run_t *r, const s_event_t *e)
{
    glci_netsys_t *ns = r->ns;
    glci_sys_t *s = ns->sys;
    char lines[128];
    switch (e->kind) {
    case K_KILL_COLLECTOR:
        if (r->coll_down)
            return;
        s_scan(s->coll);
        glci_netsys_kill9(&s->coll);
        r->coll_down = 1;
        break;
    case K_KILL_AGENT:
        if (r->agent_down[e->target])
            return;
        s_scan(s->agents[e->target].proc);
        glci_netsys_kill9(&s->agents[e->target].proc);
        r->agent_down[e->target] = 1;
        break;
    case K_STOP_COLLECTOR:
        if (r->coll_down)
            return;
        s_signal(s->coll, SIGSTOP);
        r->coll_stopped = 1;
        break;
    case K_STOP_AGENT:
        if (r->agent_down[e->target])
            return;
        s_signal(s->agents[e->target].proc, SIGSTOP);
        r->agent_stopped[e->target] = 1;
        break;
    case K_PARTITION:
        (void)glci_lab_cut(ns->lab, e->target, e->a);
        break;
    case K_LOSS:
        (void)glci_lab_loss(ns->lab, e->target, (unsigned)e->a);
        break;
    case K_DUP:
        (void)glci_lab_dup(ns->lab, e->target, (unsigned)e->a);
        break;
    case K_PROXY_DELAY:
        snprintf(lines, sizeof lines, "delay_ms = %d\njitter_ms = %d\n", e->a, e->b);
        s_proxy(r, lines);
        break;
    case K_PROXY_CORRUPT:
        snprintf(lines, sizeof lines, "%s = %d\n", s_corrupt_key[e->a], e->b);
        s_proxy(r, lines);
        break;
    case K_PROXY_STALL:
        s_proxy(r, "stall = 1\n");
        break;
    case K_DISK_FULL: {
        char err[512];
        if (glci_lab_fill(s->store, err, sizeof err) != 0)
            s_log(r, "cannot fill the disk: %s", err);
        break;
    }
    case K_CLOCK:
        (void)glci_netsys_clock(ns, (size_t)e->target, (long)e->a * 3600);
        break;
    default:
        return;
    }
    char what[96];
    s_describe(e, what, sizeof what);
    s_log(r, "%s %s for %lld ms", s_kind_name[e->kind], what, (long long)e->dur_ms);
    r->applied[e->kind]++;
    if (r->n_undo == r->cap_undo) {
        r->cap_undo = r->cap_undo ? r->cap_undo * 2 : 64;
        r->undo = glci_xrealloc(r->undo, r->cap_undo * sizeof *r->undo);
    }
    r->undo[r->n_undo++] = (s_undo_t){r->t0 + e->at_ms + e->dur_ms, e};
}

static void s_undo(s_run_t *r, const s_event_t *e)
{
    glci_netsys_t *ns = r->ns;
    glci_sys_t *s = ns->sys;
    switch (e->kind) {
    case K_KILL_COLLECTOR:
        s_start_collector(r);
        break;
    case K_KILL_AGENT:
        s_start_agent(r, (size_t)e->target);
        break;
    case K_STOP_COLLECTOR:
        s_signal(s->coll, SIGCONT);
        r->coll_stopped = 0;
        break;
    case K_STOP_AGENT:
        s_signal(s->agents[e->target].proc, SIGCONT);
        r->agent_stopped[e->target] = 0;
        break;
    case K_PARTITION:
        (void)glci_lab_cut(ns->lab, e->target, 0);
        break;
    case K_LOSS:
        (void)glci_lab_loss(ns->lab, e->target, 0);
        break;
    case K_DUP:
        (void)glci_lab_dup(ns->lab, e->target, 0);
        break;
    case K_PROXY_DELAY:
    case K_PROXY_CORRUPT:
    case K_PROXY_STALL:
        s_proxy(r, "");
        break;
    case K_DISK_FULL:
        (void)glci_lab_unfill(s->store);
        break;
    case K_CLOCK:
        (void)glci_netsys_clock(ns, (size_t)e->target, 0);
        break;
    default:
        break;
    }
}

/* Heals everything at once: what the schedule left and anything else. */
static void s_heal_all(s_run_t *r)
{
    glci_netsys_t *ns = r->ns;
    glci_sys_t *s = ns->sys;
    for (size_t k = 0; k < r->n_undo; k++)
        s_undo(r, r->undo[k].e);
    r->n_undo = 0;
    (void)glci_lab_heal(ns->lab);
    s_proxy(r, "");
    (void)glci_lab_unfill(s->store);
    s_signal(s->coll, SIGCONT);
    for (size_t i = 0; i < s->n_agents; i++) {
        s_signal(s->agents[i].proc, SIGCONT);
        (void)glci_netsys_clock(ns, i, 0);
    }
}

/* Restarts whatever is down (a start that failed earlier, or a process
 * that died by itself, which the report counts). */
static unsigned long long s_died;

static void s_revive(s_run_t *r)
{
    glci_sys_t *s = r->ns->sys;
    int64_t now = s_ms();
    if (now < r->revive_at)
        return;               /* once a second: a start that fails is not retried in a loop */
    r->revive_at = now + 1000;
    if (!r->coll_down && !r->coll_stopped && s->coll && !glci_ts_proc_alive(s->coll)) {
        char *log = glci_ts_proc_stderr(s->coll);
        s_log(r, "the collector died by itself: %s", log);
        free(log);
        s_died++;
        s_scan(s->coll);
        glci_ts_proc_stop(&s->coll, 0);
        r->coll_down = 1;
    }
    if (r->coll_down && !s->coll) {
        int pending = 0;      /* a kill whose restart is still scheduled */
        for (size_t k = 0; k < r->n_undo; k++)
            pending |= r->undo[k].e->kind == K_KILL_COLLECTOR;
        if (!pending)
            s_start_collector(r);
    }
    for (size_t i = 0; i < s->n_agents; i++) {
        glci_sys_agent_t *a = &s->agents[i];
        if (!r->agent_down[i] && a->proc && !glci_ts_proc_alive(a->proc)) {
            char *log = glci_ts_proc_stderr(a->proc);
            s_log(r, "agent %zu died by itself: %s", i, log);
            free(log);
            s_died++;
            s_scan(a->proc);
            glci_ts_proc_stop(&a->proc, 0);
            r->agent_down[i] = 1;
        }
        if (r->agent_down[i] && !a->proc) {
            int pending = 0;
            for (size_t k = 0; k < r->n_undo; k++)
                pending |= r->undo[k].e->kind == K_KILL_AGENT &&
                           r->undo[k].e->target == (int)i;
            if (!pending)
                s_start_agent(r, i);
        }
    }
}

/* ---- main ---------------------------------------------------------------------- */

static int s_usage(const char *msg)
{
    fprintf(stderr, "glci-nemesis: %s\nusage: glci-nemesis [--agents N] [--minutes M | --seconds S] "
                    "[--seed N] [--rate FAULTS_PER_HOUR] [--sites K] [--values PER_SECOND] "
                    "[--schedule]\n",
            msg);
    return 2;
}

static double s_now_s(void)
{
    return (double)s_ms() / 1000.0;
}

int main(int argc, char **argv)
{
    int64_t agents = 20, minutes = 10, seconds = 0, seed = 0, rate = 1500, sites = 0,
            values = 100;
    int only_schedule = 0;
    for (int i = 1; i < argc; i++) {
        int64_t *target = NULL, lo = 1, hi = 0;
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: glci-nemesis [--agents N] [--minutes M | --seconds S] [--seed N] "
                   "[--rate FAULTS_PER_HOUR] [--sites K] [--values PER_SECOND] [--schedule]\n");
            return 0;
        } else if (strcmp(argv[i], "--schedule") == 0) {
            only_schedule = 1;
            continue;
        } else if (strcmp(argv[i], "--agents") == 0)
            target = &agents, hi = 400;
        else if (strcmp(argv[i], "--minutes") == 0)
            target = &minutes, hi = 24 * 60;
        else if (strcmp(argv[i], "--seconds") == 0)
            target = &seconds, lo = 10, hi = 24 * 3600;
        else if (strcmp(argv[i], "--seed") == 0)
            target = &seed, hi = INT64_MAX;
        else if (strcmp(argv[i], "--rate") == 0)
            target = &rate, hi = 100000;
        else if (strcmp(argv[i], "--sites") == 0)
            target = &sites, hi = GLCI_LAB_MAX_SITES;
        else if (strcmp(argv[i], "--values") == 0)
            target = &values, hi = 10000;
        else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return s_usage(msg);
        }
        if (i + 1 >= argc) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s is missing its value", argv[i]);
            return s_usage(msg);
        }
        if (glci_parse_int64(argv[++i], lo, hi, target) != 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s must be an integer in [%lld, %lld], not '%s'",
                     argv[i - 1], (long long)lo, (long long)hi, argv[i]);
            return s_usage(msg);
        }
    }
    if (!sites)
        sites = agents < 4 ? agents : 4;
    if (sites > agents)
        return s_usage("--sites must not exceed --agents");
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t t = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
                     (uint64_t)getpid() << 20;
        seed = (int64_t)(t % 1000000000000ULL) + 1;
    }
    s_plan_t plan = {(size_t)agents, (size_t)sites,
                     seconds ? seconds * 1000 : minutes * 60000, (double)rate, (uint64_t)seed};
    s_schedule_t sched;
    s_make_schedule(&plan, &sched);
    if (only_schedule) {
        for (size_t k = 0; k < sched.n; k++) {
            char what[96];
            s_describe(&sched.ev[k], what, sizeof what);
            printf("{\"at_ms\": %lld, \"kind\": \"%s\", \"what\": \"%s\", \"ms\": %lld}\n",
                   (long long)sched.ev[k].at_ms, s_kind_name[sched.ev[k].kind], what,
                   (long long)sched.ev[k].dur_ms);
        }
        printf("{\"seed\": %lld, \"faults\": %zu, \"schedule_hash\": \"%016llx\"}\n",
               (long long)seed, sched.n, (unsigned long long)s_schedule_hash(&sched));
        free(sched.ev);
        return 0;
    }

    setenv("GLCI_BIN_DIR", GLCI_BIN_DIR, 0);
    setenv("GLCI_FRAMEWORK", GLCI_FRAMEWORK_FILE, 0);
    int skip = glci_netsys_skip_unless_allowed();
    if (skip) {
        printf("{\"skipped\": true, \"seed\": %lld}\n", (long long)seed);
        free(sched.ev);
        return skip;
    }
    fprintf(stderr, "# nemesis: seed %lld, %zu faults scheduled over %lld s (hash %016llx)\n",
            (long long)seed, sched.n, (long long)plan.run_ms / 1000,
            (unsigned long long)s_schedule_hash(&sched));

    /* The store's disk: room for what the run sends, several times over,
     * so that only a disk_full fault fills it. */
    uint64_t expect_values = (uint64_t)values * (uint64_t)(plan.run_ms / 1000);
    size_t disk = (size_t)(64u << 20) + (size_t)expect_values * 4096u;
    glci_sys_opts_t so = {.batch_max = 50, .window = 8};
    glci_netsys_opts_t no = {.sites = (size_t)sites, .proxy = 1, .clock = 1, .disk = disk,
                             .seed = (unsigned long long)seed};
    glci_netsys_t *ns = NULL;
    char err[512];
    double wall0 = s_now_s();
    if (glci_netsys_open("nemesis", (size_t)agents, &so, &no, &ns, err, sizeof err) != 0) {
        fprintf(stderr, "glci-nemesis: cannot set up the lab: %s\n", err);
        free(sched.ev);
        return 1;
    }
    glci_sys_t *s = ns->sys;
    s_run_t r = {.ns = ns};
    r.agent_stopped = glci_xcalloc((size_t)agents, sizeof *r.agent_stopped);
    r.agent_down = glci_xcalloc((size_t)agents, sizeof *r.agent_down);
    if (glci_netsys_start_collector(ns) != 0 || glci_netsys_start_proxy(ns) != 0) {
        fprintf(stderr, "glci-nemesis: the collector or the proxy did not start\n");
        glci_netsys_close(&ns);
        return 1;
    }
    for (size_t i = 0; i < (size_t)agents; i++)
        if (glci_netsys_start_agent(ns, i) != 0) {
            fprintf(stderr, "glci-nemesis: agent %zu did not start\n", i);
            glci_netsys_close(&ns);
            return 1;
        }

    /* Load: every second, `values` values in intakes of 25, round robin
     * over the agents that are not stopped (a stopped agent may hold its
     * outbox's write lock); one intake in four is a spool file. */
    r.t0 = s_ms();
    int64_t end = r.t0 + plan.run_ms, next_load = r.t0;
    size_t next_ev = 0, rr = 0;
    unsigned long long intakes = 0;
    while (s_ms() < end) {
        int64_t now = s_ms();
        while (next_ev < sched.n && r.t0 + sched.ev[next_ev].at_ms <= now)
            s_apply(&r, &sched.ev[next_ev++]);
        for (size_t k = 0; k < r.n_undo;) {
            if (r.undo[k].at_ms <= now) {
                s_undo_t u = r.undo[k];
                r.undo[k] = r.undo[--r.n_undo];
                s_undo(&r, u.e);
            } else
                k++;
        }
        s_revive(&r);
        if (now >= next_load) {
            int64_t left = values;
            for (size_t tries = 0; left > 0 && tries < (size_t)agents * 2; tries++) {
                size_t i = rr++ % (size_t)agents;
                if (r.agent_stopped[i])
                    continue;
                size_t n = left < 25 ? (size_t)left : 25;
                if (intakes++ % 4 == 3)
                    glci_sys_spool(s, i, n);
                else
                    glci_sys_push(s, i, n);
                left -= (int64_t)n;
            }
            next_load += 1000;
        }
        glci_sys_sleep_ms(50);
    }
    double load_end = s_now_s();
    fprintf(stderr, "# nemesis: load and faults over; healing\n");
    s_heal_all(&r);
    memset(r.agent_stopped, 0, (size_t)agents * sizeof *r.agent_stopped);
    r.coll_stopped = 0;

    /* Drain: everything stored and every outbox empty, or the deadline. */
    uint64_t expected = glci_checker_expected(s->chk), stored = 0;
    int64_t deadline = s_ms() + 600000 + (int64_t)agents * 3000;
    int drained = 0;
    while (!drained && s_ms() < deadline) {
        s_revive(&r);
        stored = glci_sys_stored(s->store);
        drained = stored >= expected;
        for (size_t i = 0; drained && i < (size_t)agents; i++)
            drained = glci_netsys_outbox_depth(s->agents[i].outbox) == 0;
        if (!drained)
            glci_sys_sleep_ms(500);
    }
    double drain_s = s_now_s() - load_end;
    glci_proxy_stats_t ps;
    if (glci_netsys_proxy_stats(ns, &ps) != 0)
        memset(&ps, 0, sizeof ps);
    glci_check_result_t res;
    int rc = glci_checker_run(s->chk, s->store, s->glci, 0, &res);
    char *check = glci_check_result_json(&res);

    /* every process ended and reaped: their CPU time is in RUSAGE_CHILDREN */
    glci_netsys_kill9(&ns->proxy);
    s_scan(s->coll);
    for (size_t i = 0; i < (size_t)agents; i++) {
        s_scan(s->agents[i].proc);
        (void)glci_ts_proc_stop(&s->agents[i].proc, GLCI_SYS_STOP_MS);
    }
    (void)glci_ts_proc_stop(&s->coll, GLCI_SYS_STOP_MS);
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double cpu = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                          kids.ru_stime.tv_sec) +
                 (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
                          kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
    double wall = s_now_s() - wall0;

    unsigned long long total = 0;
    for (int k = 0; k < K_COUNT; k++)
        total += r.applied[k];
    double hours = (double)plan.run_ms / 3600000.0;
    printf("{\"seed\": %lld, \"agents\": %lld, \"sites\": %lld, \"seconds\": %lld, "
           "\"schedule_hash\": \"%016llx\", \"faults\": %llu, \"faults_per_hour\": %.0f, "
           "\"faults_by_kind\": {",
           (long long)seed, (long long)agents, (long long)sites, (long long)plan.run_ms / 1000,
           (unsigned long long)s_schedule_hash(&sched), total, (double)total / hours);
    for (int k = 0; k < K_COUNT; k++)
        printf("%s\"%s\": %llu", k ? ", " : "", s_kind_name[k], r.applied[k]);
    printf("}, \"logs\": {");
    for (int m = 0; m < M_COUNT; m++)
        printf("%s\"%s\": %llu", m ? ", " : "", s_marker_name[m], s_markers[m]);
    printf("}, \"proxy\": {\"connections\": %llu, \"replays\": %llu, \"chunks\": %llu, "
           "\"dups\": %llu, \"swaps\": %llu, \"flips\": %llu, \"resets\": %llu}, "
           "\"values_sent\": %llu, \"values_stored\": %llu, \"lost\": %llu, "
           "\"duplicated\": %llu, \"verify\": \"%s\", \"drained\": %s, \"drain_seconds\": %.1f, "
           "\"died_by_themselves\": %llu, \"restarts_failed\": %llu, "
           "\"wall_seconds\": %.0f, \"cpu_seconds\": %.0f, \"check\": %s}\n",
           ps.conns, ps.replays, ps.chunks, ps.dups, ps.swaps, ps.flips, ps.resets,
           (unsigned long long)res.expected, (unsigned long long)res.stored,
           (unsigned long long)res.lost, (unsigned long long)res.duplicated,
           res.verify_status == 0 ? "ok" : "FAILED", drained ? "true" : "false", drain_s,
           s_died, r.restarts_failed, wall, cpu, check);
    fflush(stdout);
    free(check);
    free(r.undo);
    free(r.agent_stopped);
    free(r.agent_down);
    free(sched.ev);
    glci_netsys_close(&ns);
    return rc == 0 && drained ? 0 : 1;
}
