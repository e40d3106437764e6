/* A system on a fault lab: see glci_netsys.h. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_netsys.h"
#include "glci_outbox.h"

#define S_SETPRIV "/usr/bin/setpriv"
#define S_FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
#define S_MAX_OPEN 4
#define S_PROXY_MS 10000

static glci_netsys_t *s_open[S_MAX_OPEN];
static int s_atexit_done;

static void s_at_exit(void)
{
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (s_open[k])
            glci_netsys_close(&s_open[k]);
}

int glci_netsys_skip_unless_allowed(void)
{
    char err[512];
    if (glci_lab_probe(err, sizeof err) == 0)
        return 0;
    printf("# SKIP: the network fault tests need network namespaces: %s\n", err);
    fflush(stdout);
    return GLCI_NETSYS_SKIP;
}

uint64_t glci_netsys_outbox_depth(const char *dir)
{
    glci_outbox_t *ob = NULL;
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    glci_outbox_status_t st = {0};
    char err[512];
    if (glci_outbox_open(dir, &o, &ob, err, sizeof err) != 0)
        return UINT64_MAX;
    if (glci_outbox_status(ob, &st) != 0)
        st.batches = UINT64_MAX;
    glci_outbox_close(&ob);
    return st.batches;
}

int glci_netsys_site(const glci_netsys_t *ns, size_t i)
{
    return (int)(i % ns->o.sites);
}

/* The directory holding path (agent i's config: its own folder). */
static void s_dirname(const char *path, char *out, size_t len)
{
    size_t n = strlen(path);
    if (n >= len)
        n = len - 1;
    memcpy(out, path, n);
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}

/* The store onto a tmpfs of its own: copied aside, the tmpfs mounted on
 * its directory, copied back. */
static int s_store_on_tmpfs(glci_netsys_t *ns, char *err, size_t errlen)
{
    glci_sys_t *s = ns->sys;
    char aside[600];
    snprintf(aside, sizeof aside, "%s.init", s->store);
    if (rename(s->store, aside) != 0 || mkdir(s->store, 0700) != 0) {
        snprintf(err, errlen, "cannot move %s aside: %s", s->store, strerror(errno));
        return GLCI_LAB_ESYS;
    }
    int rc = glci_lab_tmpfs(ns->lab, s->store, ns->o.disk, err, errlen);
    if (rc != 0)
        return rc;
    char from[700];
    snprintf(from, sizeof from, "%s/.", aside);
    const char *cp[] = {"/bin/cp", "-a", from, s->store, NULL};
    char *e = NULL;
    if (glci_ts_run(cp, NULL, 60000, NULL, &e) != 0) {
        snprintf(err, errlen, "cannot copy the store onto its tmpfs: %s", e ? e : "");
        free(e);
        return GLCI_LAB_ESYS;
    }
    free(e);
    glci_ts_rmtree(aside);
    return GLCI_LAB_OK;
}

int glci_netsys_open(const char *tag, size_t n_agents, const glci_sys_opts_t *sopts,
                     const glci_netsys_opts_t *o, glci_netsys_t **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    glci_netsys_t *ns = glci_xcalloc(1, sizeof *ns);
    if (o)
        ns->o = *o;
    if (!ns->o.sites)
        ns->o.sites = 2;
    if (n_agents && ns->o.sites > n_agents)
        ns->o.sites = n_agents;
    if (!ns->o.seed)
        ns->o.seed = 1;
    if (ns->o.clock && access(S_FAKETIME_LIB, R_OK) != 0) {
        snprintf(err, errlen, "%s is missing (Debian package faketime)", S_FAKETIME_LIB);
        free(ns);
        return GLCI_LAB_ETOOL;
    }
    /* lab tags are [a-z0-9]: the system's tag with the rest dropped */
    char lab_tag[13];
    size_t k = 0;
    for (const char *p = tag; *p && k < sizeof lab_tag - 1; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            lab_tag[k++] = *p;
    lab_tag[k] = '\0';
    int rc = glci_lab_open(k ? lab_tag : "sys", ns->o.sites, &ns->lab, err, errlen);
    if (rc != 0) {
        free(ns);
        return rc;
    }
    ns->sys = glci_sys_open(tag, n_agents, sopts);
    glci_sys_t *s = ns->sys;
    snprintf(ns->coll_listen, sizeof ns->coll_listen, "tcp://%s:%d",
             glci_lab_addr(ns->lab, GLCI_LAB_COLLECTOR), GLCI_NETSYS_COLLECTOR_PORT);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", ns->coll_listen);
    ns->proxy_bin = glci_ts_bin("tests/support/glci-faultproxy");
    snprintf(ns->proxy_ctl, sizeof ns->proxy_ctl, "%s/proxy.ini", s->dir);
    ns->clock = glci_xcalloc(n_agents ? n_agents : 1, sizeof *ns->clock);
    for (size_t i = 0; i < n_agents; i++) {
        char ep[80], dir[580];
        int site = glci_netsys_site(ns, i);
        if (ns->o.proxy)
            snprintf(ep, sizeof ep, "tcp://%s:%d", glci_lab_hub_addr(ns->lab, site),
                     GLCI_NETSYS_PROXY_PORT);
        else
            snprintf(ep, sizeof ep, "%s", ns->coll_listen);
        glci_sys_agent_endpoint(s, i, ep);
        s_dirname(s->agents[i].conf, dir, sizeof dir);
        snprintf(ns->clock[i], sizeof ns->clock[i], "%s/faketime", dir);
        assert_int_equal(glci_ts_write_file(ns->clock[i], "+0\n"), 0);
    }
    for (k = 0; k < S_MAX_OPEN && s_open[k]; k++)
        ;
    if (k == S_MAX_OPEN)
        fail_msg("more than %d lab systems open at once", S_MAX_OPEN);
    s_open[k] = ns;
    if (!s_atexit_done) {
        atexit(s_at_exit);    /* after glci_sys's: runs before it */
        s_atexit_done = 1;
    }
    if (ns->o.disk) {
        rc = s_store_on_tmpfs(ns, err, errlen);
        if (rc != 0) {
            glci_netsys_close(&ns);
            return rc;
        }
    }
    *out = ns;
    return GLCI_LAB_OK;
}

glci_netsys_t *glci_netsys_up(const char *tag, size_t n_agents, const glci_sys_opts_t *sopts,
                              const glci_netsys_opts_t *o)
{
    glci_netsys_t *ns = NULL;
    char err[512];
    if (glci_netsys_open(tag, n_agents, sopts, o, &ns, err, sizeof err) != 0)
        fail_msg("cannot set up the lab: %s", err);
    if (glci_netsys_start_collector(ns) != 0)
        fail_msg("the collector did not start in the lab");
    if (ns->o.proxy && glci_netsys_start_proxy(ns) != 0)
        fail_msg("the fault proxy did not start in the lab");
    for (size_t i = 0; i < n_agents; i++)
        if (glci_netsys_start_agent(ns, i) != 0)
            fail_msg("agent %zu did not start in the lab", i);
    return ns;
}

void glci_netsys_push_all(glci_netsys_t *ns, size_t n)
{
    for (size_t i = 0; i < ns->sys->n_agents; i++)
        glci_sys_push(ns->sys, i, n);
}

void glci_netsys_kill9(glci_ts_proc_t **p)
{
    if (!*p)
        return;
    (void)glci_ts_proc_signal(*p, SIGKILL);
    (void)glci_ts_proc_wait_exit(*p, GLCI_SYS_STOP_MS);
    glci_ts_proc_stop(p, GLCI_SYS_STOP_MS);
}

void glci_netsys_close(glci_netsys_t **self)
{
    if (!self || !*self)
        return;
    glci_netsys_t *ns = *self;
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (s_open[k] == ns)
            s_open[k] = NULL;
    glci_sys_t *s = ns->sys;
    glci_netsys_kill9(&ns->proxy);
    if (s) {
        for (size_t i = 0; i < s->n_agents; i++)
            glci_netsys_kill9(&s->agents[i].proc);
        glci_netsys_kill9(&s->coll);
    }
    if (s && ns->o.disk && getenv("GLCI_KEEP")) {
        /* the store is on the tmpfs that goes with the lab: keep a copy */
        char kept[600];
        snprintf(kept, sizeof kept, "%s.kept", s->store);
        const char *cp[] = {"/bin/cp", "-a", s->store, kept, NULL};
        (void)glci_ts_run(cp, NULL, 600000, NULL, NULL);
        fprintf(stderr, "# the store is kept as %s\n", kept);
    }
    glci_lab_close(&ns->lab);     /* the store's tmpfs too, before its directory goes */
    glci_sys_close(&ns->sys);
    free(ns->clock);
    free(ns->proxy_bin);
    free(ns);
    *self = NULL;
}

int glci_netsys_teardown(void **state)
{
    for (size_t k = 0; k < S_MAX_OPEN; k++)
        if (s_open[k])
            glci_netsys_close(&s_open[k]);
    return glci_sys_teardown(state);
}

glci_ts_proc_t *glci_netsys_spawn(glci_netsys_t *ns, int node, const char *const *argv,
                                  const char *const *env_extra)
{
    const char *full[40];
    size_t n = 0;
    if (access(S_SETPRIV, X_OK) == 0) {
        full[n++] = S_SETPRIV;
        full[n++] = "--pdeathsig";
        full[n++] = "KILL";
        full[n++] = "--";
    }
    size_t k = glci_lab_exec_prefix(ns->lab, node, full + n, 4);
    assert_int_equal(k, 4);
    n += k;
    for (size_t i = 0; argv[i]; i++) {
        assert_true(n < 39);
        full[n++] = argv[i];
    }
    full[n] = NULL;
    return glci_ts_proc_start(full, env_extra);
}

/* Waits for READY; on failure says why, ends the process and NULLs *p. */
static int s_ready(glci_ts_proc_t **p, const char *what)
{
    if (glci_ts_proc_wait_ready(*p, GLCI_SYS_READY_MS) == 0)
        return 0;
    char *log = glci_ts_proc_stderr(*p);
    fprintf(stderr, "# %s did not get ready: %s\n", what, log ? log : "");
    free(log);
    glci_netsys_kill9(p);
    return -1;
}

int glci_netsys_start_collector(glci_netsys_t *ns)
{
    glci_sys_t *s = ns->sys;
    assert_null(s->coll);
    const char *argv[] = {s->collector_bin, "--store", s->store, "--listen", ns->coll_listen,
                          "--config", s->coll_conf, NULL};
    s->coll = glci_netsys_spawn(ns, GLCI_LAB_COLLECTOR, argv, NULL);
    return s_ready(&s->coll, "the collector");
}

int glci_netsys_start_agent(glci_netsys_t *ns, size_t i)
{
    glci_sys_t *s = ns->sys;
    glci_sys_agent_t *a = &s->agents[i];
    assert_null(a->proc);
    const char *argv[] = {s->agent_bin, "run", "--config", a->conf, NULL};
    char file[700], asan[600];
    const char *env[8] = {NULL};
    if (ns->o.clock) {
        /* the wall clock from the offset file, re-read every second; the
         * monotonic clock untouched, as a stepped system clock leaves it.
         * A sanitizer build wants its runtime first: tell it the preload
         * is meant. */
        const char *prev = getenv("ASAN_OPTIONS");
        snprintf(file, sizeof file, "FAKETIME_TIMESTAMP_FILE=%s", ns->clock[i]);
        snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
                 prev ? prev : "", prev && *prev ? ":" : "");
        env[0] = "LD_PRELOAD=" S_FAKETIME_LIB;
        env[1] = file;
        env[2] = "FAKETIME_CACHE_DURATION=1";
        env[3] = "FAKETIME_DONT_FAKE_MONOTONIC=1";
        env[4] = "FAKETIME_DONT_RESET=1";
        env[5] = asan;
    }
    a->proc = glci_netsys_spawn(ns, glci_netsys_site(ns, i), argv, env);
    return s_ready(&a->proc, a->city);
}

int glci_netsys_start_proxy(glci_netsys_t *ns)
{
    assert_null(ns->proxy);
    char listen_at[64], upstream[64], seed[32];
    snprintf(listen_at, sizeof listen_at, "0.0.0.0:%d", GLCI_NETSYS_PROXY_PORT);
    snprintf(upstream, sizeof upstream, "%s:%d", glci_lab_addr(ns->lab, GLCI_LAB_COLLECTOR),
             GLCI_NETSYS_COLLECTOR_PORT);
    snprintf(seed, sizeof seed, "%llu", ns->o.seed);
    assert_int_equal(glci_ts_write_file(ns->proxy_ctl, "[proxy]\n"), 0);
    const char *argv[] = {ns->proxy_bin, "--listen", listen_at, "--upstream", upstream,
                          "--control", ns->proxy_ctl, "--seed", seed, NULL};
    ns->proxy = glci_netsys_spawn(ns, GLCI_LAB_HUB, argv, NULL);
    return s_ready(&ns->proxy, "the fault proxy");
}

static size_t s_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Signals the proxy and waits until its stderr holds one more `line` or
 * `alt` than before; returns 1 for line, 2 for alt, -1 if gone or late. */
static int s_proxy_answer(glci_netsys_t *ns, int sig, const char *line, const char *alt,
                          void (*before)(glci_netsys_t *, const void *), const void *arg)
{
    if (!ns->proxy)
        return -1;
    char *log = glci_ts_proc_stderr(ns->proxy);
    size_t n0 = s_count(log, line), a0 = alt ? s_count(log, alt) : 0;
    free(log);
    if (before)
        before(ns, arg);
    if (glci_ts_proc_signal(ns->proxy, sig) != 0)
        return -1;
    for (int waited = 0; waited < S_PROXY_MS; waited += 20) {
        log = glci_ts_proc_stderr(ns->proxy);
        size_t n = s_count(log, line), a = alt ? s_count(log, alt) : 0;
        free(log);
        if (n > n0)
            return 1;
        if (a > a0)
            return 2;
        glci_sys_sleep_ms(20);
    }
    return -1;
}

static void s_write_ctl(glci_netsys_t *ns, const void *lines)
{
    char text[2048];
    snprintf(text, sizeof text, "[proxy]\n%s", (const char *)lines);
    assert_int_equal(glci_ts_write_file(ns->proxy_ctl, text), 0);
}

int glci_netsys_proxy_set(glci_netsys_t *ns, const char *lines)
{
    int rc = s_proxy_answer(ns, SIGHUP, "glci-faultproxy: control:", "keeping the settings",
                            s_write_ctl, lines);
    return rc == 1 ? 0 : -1;
}

int glci_netsys_proxy_stats(glci_netsys_t *ns, glci_proxy_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (s_proxy_answer(ns, SIGUSR1, "glci-faultproxy: stats:", NULL, NULL, NULL) != 1)
        return -1;
    char *log = glci_ts_proc_stderr(ns->proxy);
    const char *last = NULL;
    for (const char *p = log; (p = strstr(p, "stats: ")); p++)
        last = p;
    int ok = last && sscanf(last, "stats: connections=%llu replays=%llu chunks=%llu dups=%llu "
                                  "swaps=%llu flips=%llu resets=%llu",
                            &out->conns, &out->replays, &out->chunks, &out->dups, &out->swaps,
                            &out->flips, &out->resets) == 7;
    free(log);
    return ok ? 0 : -1;
}

int glci_netsys_clock(glci_netsys_t *ns, size_t i, long offset_s)
{
    if (!ns->o.clock || i >= ns->sys->n_agents)
        return -1;
    char text[32], tmp[700];
    snprintf(text, sizeof text, "%+ld\n", offset_s);
    /* renamed into place: libfaketime never reads half a line */
    snprintf(tmp, sizeof tmp, "%s.tmp", ns->clock[i]);
    if (glci_ts_write_file(tmp, text) != 0 || rename(tmp, ns->clock[i]) != 0)
        return -1;
    return 0;
}
