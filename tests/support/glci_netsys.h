/* A whole installation (glci_sys_t: store, cities, keys, agent configs,
 * the exactly-once checker) laid out on a fault lab (glci_lab.h): the real
 * glci-collector in the lab's collector namespace, listening on
 * tcp://10.231.0.1:7461 over CURVE; the agents spread round robin over the
 * site namespaces (agent i in site i % sites), connecting to the collector
 * through the hub's routing, or through glci-faultproxy running in the hub
 * (tcp://HUB-ADDR:7462 on their site's link). Values are queued with the
 * glci_sys_* functions as in every system test (the outboxes are files;
 * `glci-agent push` runs outside the lab); glci_sys_assert_exactly_once
 * checks the end.
 *
 * Optional: the agents under libfaketime, each with an offset file whose
 * change moves its wall clock (monotonic time is left alone, as a real
 * clock step leaves it); the store on a tmpfs of its own that can be
 * filled.
 *
 * The start functions return -1 (and say why on stderr) instead of failing
 * the test, so the nemesis can carry on; tests assert on them. */
#ifndef GLCI_NETSYS_H
#define GLCI_NETSYS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_checker.h"
#include "glci_lab.h"

/* ctest's SKIP_RETURN_CODE for the network fault tests. */
#define GLCI_NETSYS_SKIP 77

#define GLCI_NETSYS_COLLECTOR_PORT 7461
#define GLCI_NETSYS_PROXY_PORT 7462

typedef struct {
    size_t sites;             /* 0: 2 (at most the number of agents) */
    int proxy;                /* 1: agents connect through the fault proxy */
    int clock;                /* 1: agents run under libfaketime */
    size_t disk;              /* > 0: the store on a tmpfs of this many bytes */
    unsigned long long seed;  /* the proxy's seed (0: 1) */
} glci_netsys_opts_t;

typedef struct {
    glci_sys_t *sys;
    glci_lab_t *lab;
    glci_netsys_opts_t o;
    glci_ts_proc_t *proxy;    /* NULL unless o.proxy and started */
    char proxy_ctl[600];      /* the proxy's control file */
    char coll_listen[64];     /* tcp://10.231.0.1:7461 */
    char (*clock)[600];       /* per agent: its libfaketime offset file */
    char *proxy_bin;
} glci_netsys_t;

/* The main() of a network fault test: skipped (GLCI_NETSYS_SKIP) where the
 * lab cannot run, else the cmocka tests given (CMUnitTest initialisers). */
#define GLCI_NETSYS_MAIN(...)                                                  \
    int main(void)                                                             \
    {                                                                          \
        int skip_ = glci_netsys_skip_unless_allowed();                         \
        if (skip_)                                                             \
            return skip_;                                                      \
        const struct CMUnitTest tests_[] = {__VA_ARGS__};                      \
        return cmocka_run_group_tests(tests_, NULL, NULL);                     \
    }

/* Batches waiting in the outbox at dir; UINT64_MAX if it cannot be read. */
uint64_t glci_netsys_outbox_depth(const char *dir);

/* Whether the lab can run here; if not, prints "# SKIP: ..." naming why and
 * returns GLCI_NETSYS_SKIP (for main to return), else 0. */
int glci_netsys_skip_unless_allowed(void);

/* Opens the system (glci_sys_open with sopts), the lab and, with o->disk,
 * moves the store onto its tmpfs; writes every agent's config for its
 * route. Starts nothing. Returns 0, or a GLCI_LAB_E* code with err set. */
int glci_netsys_open(const char *tag, size_t n_agents, const glci_sys_opts_t *sopts,
                     const glci_netsys_opts_t *o, glci_netsys_t **out, char *err,
                     size_t errlen);

/* For tests: glci_netsys_open (failing the test on an error), then the
 * collector, the proxy when o->proxy, and every agent, each ready (or the
 * test fails). */
glci_netsys_t *glci_netsys_up(const char *tag, size_t n_agents, const glci_sys_opts_t *sopts,
                              const glci_netsys_opts_t *o);

/* Queues n more values for every agent (glci_sys_push). */
void glci_netsys_push_all(glci_netsys_t *ns, size_t n);

/* Stops every process (SIGKILL, reaped), removes the lab, then closes the
 * system (its directory). Accepts NULL; sets *self to NULL. */
void glci_netsys_close(glci_netsys_t **self);

/* cmocka teardown: closes every netsys still open (a failed test), then
 * glci_sys_teardown. Returns 0. */
int glci_netsys_teardown(void **state);

/* The site (lab node) agent i runs in. */
int glci_netsys_site(const glci_netsys_t *ns, size_t i);

/* Starts argv (argv[0] a path) inside node's namespace, with a parent-death
 * SIGKILL; env_extra as glci_ts_proc_start. */
glci_ts_proc_t *glci_netsys_spawn(glci_netsys_t *ns, int node, const char *const *argv,
                                  const char *const *env_extra);

/* Starts the collector (into ns->sys->coll, which must be NULL) and waits
 * for READY. Returns 0, or -1 if it exited or did not get ready (then
 * ns->sys->coll is NULL again). */
int glci_netsys_start_collector(glci_netsys_t *ns);

/* The same for agent i (into ns->sys->agents[i].proc). */
int glci_netsys_start_agent(glci_netsys_t *ns, size_t i);

/* Starts the fault proxy in the hub with an empty control file. */
int glci_netsys_start_proxy(glci_netsys_t *ns);

/* Replaces the proxy's control file with these [proxy] lines ("" for no
 * faults), signals it and waits until it has read them. Returns 0, or -1
 * if the proxy refused them or is gone. */
int glci_netsys_proxy_set(glci_netsys_t *ns, const char *lines);

typedef struct {
    unsigned long long conns, replays, chunks, dups, swaps, flips, resets;
} glci_proxy_stats_t;

/* The proxy's counters so far (it prints them on SIGUSR1). 0, or -1. */
int glci_netsys_proxy_stats(glci_netsys_t *ns, glci_proxy_stats_t *out);

/* Moves agent i's wall clock offset_s seconds from the real time (0: back
 * to real time); the agent sees it within about a second. Needs o.clock.
 * Returns 0 or -1. */
int glci_netsys_clock(glci_netsys_t *ns, size_t i, long offset_s);

/* SIGKILL and reap a process slot (the collector's or an agent's), if it
 * runs; the slot is NULL after. */
void glci_netsys_kill9(glci_ts_proc_t **p);

#endif
