/* glci-collector --check-config: what the daemon needs, checked without
 * starting it, so an operator can look before a restart or a reload (SPEC
 * section 9). Each problem is one line; the checks go on after a problem
 * wherever the next one does not depend on it.
 *
 * Nothing is changed: the store is opened read-only (beside a running
 * collector, which LMDB allows, and without its lock: a running collector
 * holds that), the addresses are bound and at once released, and an ipc:// endpoint is not bound at all (that would make
 * its socket file) but its folder looked at. An address in use is only a
 * note while a collector holds the store's lock (during a check before a
 * restart, that collector holds the address); with none running, another
 * program holds it and the collector would not start: a problem. */
#include "glci_collector.h"

#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "collector_lock.h"
#include "glci_check.h"
#include "glci_endpoint.h"
#include "glci_keyfile.h"
#include "glci_metrics_http.h"

static void s_check_store(glci_check_t *c, const glci_collector_config_t *cfg)
{
    glci_store_t *st = NULL;
    glci_store_opts_t opts = {GLCI_STORE_RDONLY, 0, 0};
    char err[512] = "";
    int rc = glci_store_open(cfg->store, &opts, &st, err, sizeof err);
    if (rc != 0) {
        if (err[0])
            glci_check_problem(c, "store: %s", err);
        else
            glci_check_problem(c, "store %s: %s", cfg->store, glci_store_strerror(rc));
        return;
    }
    char data[4096], hdir[4096], hdata[4200];
    snprintf(data, sizeof data, "%s/data.mdb", cfg->store);
    snprintf(hdir, sizeof hdir, "%s/history", cfg->store);
    snprintf(hdata, sizeof hdata, "%s/data.mdb", hdir);
    if (access(cfg->store, W_OK) != 0 || access(data, W_OK) != 0)
        glci_check_problem(c, "store %s: not writable by this user (uid %u): %s", cfg->store,
                  (unsigned)geteuid(), strerror(errno));
    /* schema 7: its history file too (absent before the upgrade) */
    else if (access(hdir, F_OK) == 0 && (access(hdir, W_OK) != 0 || access(hdata, W_OK) != 0))
        glci_check_problem(c, "store %s: its history file %s is not writable by this user "
                  "(uid %u): %s", cfg->store, hdata, (unsigned)geteuid(), strerror(errno));
    /* map_max bounds each of the store's files (docs/OPERATIONS.md) */
    glci_store_space_t sp;
    uint64_t used = 0;
    if (glci_store_space(st, &sp) == 0)
        for (unsigned i = 0; i < sp.n_files; i++)
            if (sp.file[i].used_bytes > used)
                used = sp.file[i].used_bytes;
    if (cfg->map_max > 0 && used > 0 && cfg->map_max <= used)
        glci_check_problem(c, "map_max %zu is not above the %llu bytes the store %s uses already: "
                  "nothing more would fit", cfg->map_max, (unsigned long long)used,
                  cfg->store);
    glci_store_close(&st);
}

void glci_collector_check_modes(glci_check_t *c, const glci_collector_config_t *cfg)
{
    /* every city's data: no one else may change it, nor read the file */
    size_t n;
    const glci_store_mode_rule_t *r = glci_store_mode_rules(&n);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (r[i].name[0])
            snprintf(path, sizeof path, "%s/%s", cfg->store, r[i].name);
        else
            snprintf(path, sizeof path, "%s", cfg->store);
        glci_check_mode(c, r[i].what, path, r[i].bad, r[i].want);
    }
    if (cfg->insecure)
        return;
    /* whoever may write its folder may put another key in its place */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", cfg->key_file);
    if (strcmp(dirname(dir), cfg->store) != 0)    /* the store folder is judged above */
        glci_check_mode(c, "key_file's folder", dir, S_IWGRP | S_IWOTH, 0700);
}

static void s_check_key(glci_check_t *c, const glci_collector_config_t *cfg)
{
    glci_key_t pub, sec;
    char err[512];
    if (cfg->insecure) {
        glci_check_note(c, "insecure = true: no CURVE and no authentication (tests and demos only)");
        return;
    }
    int krc = glci_keyfile_read(cfg->key_file, &pub, &sec, err, sizeof err);
    memset(&sec, 0, sizeof sec);
    if (krc != 0)
        glci_check_problem(c, "key_file: %s", err);
    /* STORE/collector.pub is the key operators hand out (glci
     * collector-key, enrolment strings): it must be the one served */
    char pub_path[4096];
    snprintf(pub_path, sizeof pub_path, "%s/collector.pub", cfg->store);
    if (krc == 0 && access(pub_path, F_OK) != 0 && errno == ENOENT)
        glci_check_note(c, "%s is missing: glci collector-key cannot print the key served "
                        "(the public half of %s)", pub_path, cfg->key_file);
    else if (krc == 0 &&
             glci_keyfile_match_public(pub_path, &pub, cfg->key_file, err, sizeof err) != 0)
        glci_check_problem(c, "%s", err);
}

/* The previous key during a rotation: served while its file is there
 * (glci collector-key retire removes it), so only a file that is there and
 * does not read is a problem. */
static void s_check_previous(glci_check_t *c, const glci_collector_config_t *cfg)
{
    glci_key_t pub, sec;
    char err[512];
    if (access(cfg->previous_key_file, F_OK) != 0) {
        glci_check_note(c, "previous_listen %s is not served until glci collector-key rotate "
                        "makes %s", cfg->previous_listen, cfg->previous_key_file);
        return;
    }
    if (glci_keyfile_read(cfg->previous_key_file, &pub, &sec, err, sizeof err) != 0)
        glci_check_problem(c, "previous_key_file: %s", err);
    memset(&sec, 0, sizeof sec);
}

/* Whether a collector runs on the store: 1 (or -1: cannot tell, taken as
 * running, so a check never fails for what it cannot see) or 0. */
typedef struct {
    const char *store;
    int running;
} s_owner_t;

/* An address another socket holds: a note while the store's collector
 * runs (it holds its own addresses), else a problem. what names the
 * setting ("listen", "metrics_listen"). */
static void s_in_use(glci_check_t *c, const s_owner_t *o, const char *what, const char *addr)
{
    if (o->running)
        glci_check_note(c, "%s %s is in use now (by the running collector?)", what, addr);
    else
        glci_check_problem(c, "cannot listen on %s (%s): in use by another program, and no "
                           "glci-collector runs on store %s", addr, what, o->store);
}

/* A ROUTER's endpoint (listen, enrol_listen, previous_listen): a tcp:// one bound and released with ZeroMQ itself
 * (so its own syntax and name resolution are what is judged), an ipc://
 * one by its folder. */
static void s_check_listen(glci_check_t *c, const s_owner_t *o, const char *what,
                           const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", endpoint + 6);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            dir[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        if (access(dir, W_OK | X_OK) != 0)
            glci_check_problem(c, "cannot listen on %s: folder %s: %s", endpoint, dir, strerror(errno));
        return;
    }
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_ROUTER) : NULL;
    int zero = 0;
    if (!sock) {
        glci_check_problem(c, "cannot check %s: %s", endpoint, zmq_strerror(errno));
    } else {
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
        if (glci_endpoint_zmq_family(sock, endpoint) != 0 || zmq_bind(sock, endpoint) != 0) {
            if (errno == EADDRINUSE)
                s_in_use(c, o, what, endpoint);
            else
                glci_check_problem(c, "cannot listen on %s: %s", endpoint, zmq_strerror(errno));
        }
        zmq_close(sock);
    }
    if (ctx)
        zmq_ctx_term(ctx);
}

static void s_check_metrics(glci_check_t *c, const s_owner_t *o, const char *text)
{
    glci_metrics_listen_t l;
    char err[256];
    if (glci_metrics_listen_parse(text, &l, err, sizeof err) != 0) {
        glci_check_problem(c, "metrics_listen: %s", err);
        return;
    }
    int fd = socket(l.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) {
        glci_check_problem(c, "metrics_listen %s: %s", l.text, strerror(errno));
        return;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l.addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&l.addr, l.addr_len) != 0) {
        if (errno == EADDRINUSE)
            s_in_use(c, o, "metrics_listen", l.text);
        else
            glci_check_problem(c, "cannot listen on %s (metrics_listen): %s", l.text, strerror(errno));
    } else if (!l.loopback) {
        glci_check_note(c, "metrics_listen %s is reachable from other machines; the metrics name "
               "cities and their timings", l.text);
    }
    close(fd);
}

int glci_collector_check(const glci_collector_args_t *args, FILE *out, FILE *err)
{
    glci_check_t c = {"glci-collector", out, err, 0, 0};
    glci_collector_config_t cfg;
    char msg[512];
    if (glci_collector_config_build(args, &cfg, msg, sizeof msg) != 0) {
        glci_check_problem(&c, "%s", msg);
        return 1;
    }
    s_check_store(&c, &cfg);
    s_check_key(&c, &cfg);
    glci_collector_check_modes(&c, &cfg);
    pid_t pid;
    s_owner_t owner = {cfg.store, glci_collector_lock_held(cfg.store, &pid) != 0};
    s_check_listen(&c, &owner, "listen", cfg.listen);
    if (cfg.enrol_listen)
        s_check_listen(&c, &owner, "enrol_listen", cfg.enrol_listen);
    if (cfg.previous_listen) {
        s_check_listen(&c, &owner, "previous_listen", cfg.previous_listen);
        s_check_previous(&c, &cfg);
    }
    if (cfg.metrics_listen)
        s_check_metrics(&c, &owner, cfg.metrics_listen);
    if (c.problems == 0) {
        /* the address the metrics are served on, as resolved ("9461" is
         * 127.0.0.1:9461) */
        glci_metrics_listen_t ml;
        char merr[256];
        const char *metrics = "off";
        if (cfg.metrics_listen)
            metrics = glci_metrics_listen_parse(cfg.metrics_listen, &ml, merr, sizeof merr) == 0
                          ? ml.text
                          : cfg.metrics_listen;
        fprintf(out, "glci-collector: configuration ok (store %s, listen %s%s, metrics %s)\n",
                cfg.store, cfg.listen, cfg.insecure ? " without CURVE" : " with CURVE", metrics);
    }
    glci_collector_config_release(&cfg);
    return glci_check_status(&c);
}
