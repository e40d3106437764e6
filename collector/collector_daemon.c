/* The collector daemon: one thread, one loop.
 *
 *   poll(ROUTER, ZAP) -> answer ZAP requests
 *                     -> take every batch waiting (up to group_max),
 *                        decode and attribute each to its connection's city,
 *                        check the connection's key is still registered,
 *                        ingest the good ones in ONE store transaction,
 *                        then send every ack (non-blocking, never stalls)
 *
 * Acks are sent only after glci_store_ingest has committed, so an ack always
 * means durable. A send that would block or whose peer is gone
 * (ROUTER_MANDATORY: EAGAIN / EHOSTUNREACH) drops that ack: the agent
 * resends and gets a DUPLICATE re-ack. Signals only set flags, so a
 * SIGTERM finishes the group in hand and sends its acks before the loop
 * ends. */
#include "glci_collector.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <zmq.h>

#include "collector_auth.h"
#include "collector_budget.h"
#include "collector_zap.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log_repeat.h"
#include "glci_utf8.h"

#define S_POLL_MS          1000
#define S_READER_CHECK_S   60
#define S_STATS_S          60
#define S_LINGER_MS        2000
#define S_ZAP_ENDPOINT     "inproc://zeromq.zap.01"

/* A draft option in libzmq 4.3: stable builds (Debian's) refuse it. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_hup;

static void s_on_signal(int sig)
{
    if (sig == SIGHUP)
        s_hup = 1;
    else
        s_stop = 1;
}

typedef struct {
    zmq_msg_t id;              /* the peer's routing id, to address the ack */
    glci_collector_batch_t b;
    char city[GLCI_CITY_ID_MAX + 1];
    glci_wire_ack_t ack;
    int to_store;              /* 1: goes into the transaction */
    size_t slot;               /* its index in batches[] / results[] */
} s_item_t;

typedef struct {
    uint64_t batches, obs, rejected, refused;
} s_stats_t;

/* Warnings a hostile or broken city can repeat at will, each class printed
 * once per S_REPEAT_QUIET_MS with a count of the rest. */
#define S_REPEAT_QUIET_MS 10000
typedef struct {
    glci_log_repeat_t refused, forbidden, clash;
} s_repeats_t;

typedef struct {
    const glci_collector_args_t *args;
    glci_collector_config_t cfg;  /* shallow copy: strings are the caller's */
    glci_store_t *st;
    glci_collector_auth_t *auth;  /* key checks on open connections (CURVE) */
    void *ctx, *router, *zap;
    size_t cap;
    s_item_t *items;
    glci_batch_t *batches;
    glci_batch_result_t *results;
    s_stats_t stats;
    s_repeats_t rep;
} s_daemon_t;

static int64_t s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_grow(s_daemon_t *d, size_t cap)
{
    if (cap <= d->cap)
        return;
    d->items = glci_xrealloc(d->items, cap * sizeof *d->items);
    d->batches = glci_xrealloc(d->batches, cap * sizeof *d->batches);
    d->results = glci_xrealloc(d->results, cap * sizeof *d->results);
    d->cap = cap;
}

static int s_setopt_int(void *sock, int opt, int v, const char *name)
{
    if (zmq_setsockopt(sock, opt, &v, sizeof v) != 0) {
        glci_error("cannot set %s=%d: %s", name, v, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* Limits that may change on SIGHUP; libzmq applies them to connections
 * made after the call. */
static int s_apply_limits(void *router, const glci_collector_config_t *cfg)
{
    int64_t maxmsg = cfg->max_message;
    if (zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) {
        glci_error("cannot set max_message: %s", zmq_strerror(errno));
        return -1;
    }
    if (s_setopt_int(router, ZMQ_SNDHWM, cfg->sndhwm, "sndhwm") ||
        s_setopt_int(router, ZMQ_RCVHWM, cfg->rcvhwm, "rcvhwm") ||
        s_setopt_int(router, ZMQ_HEARTBEAT_IVL, cfg->heartbeat_ivl, "heartbeat_ivl") ||
        s_setopt_int(router, ZMQ_HEARTBEAT_TIMEOUT, cfg->heartbeat_timeout,
                     "heartbeat_timeout") ||
        s_setopt_int(router, ZMQ_HANDSHAKE_IVL, cfg->handshake_ivl, "handshake_ivl"))
        return -1;
    return 0;
}

static int s_open_sockets(s_daemon_t *d)
{
    d->ctx = zmq_ctx_new();
    if (!d->ctx) {
        glci_error("cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        return -1;
    }
    unsigned char secret[32];
    if (!d->cfg.insecure) {
        if (!zmq_has("curve")) {
            glci_error("this libzmq has no CURVE support");
            return -1;
        }
        glci_key_t pub, sec;
        char err[512];
        if (glci_keyfile_read(d->cfg.key_file, &pub, &sec, err, sizeof err) != 0) {
            glci_error("%s", err);
            return -1;
        }
        if (glci_key_decode(sec.z85, secret) != 0) {
            glci_error("%s: secret key does not decode", d->cfg.key_file);
            return -1;
        }
        glci_info("collector public key %s", pub.z85);
        /* The ZAP handler must be bound before any connection arrives. */
        d->zap = zmq_socket(d->ctx, ZMQ_REP);
        if (!d->zap || zmq_bind(d->zap, S_ZAP_ENDPOINT) != 0) {
            glci_error("cannot bind the ZAP handler: %s", zmq_strerror(errno));
            return -1;
        }
    }
    d->router = zmq_socket(d->ctx, ZMQ_ROUTER);
    if (!d->router) {
        glci_error("cannot create the ROUTER socket: %s", zmq_strerror(errno));
        return -1;
    }
    if (s_setopt_int(d->router, ZMQ_ROUTER_MANDATORY, 1, "router_mandatory") ||
        s_setopt_int(d->router, ZMQ_LINGER, S_LINGER_MS, "linger") ||
        s_apply_limits(d->router, &d->cfg))
        return -1;
    if (!d->cfg.insecure) {
        const char *dom = GLCI_COLLECTOR_ZAP_DOMAIN;
        if (s_setopt_int(d->router, ZMQ_CURVE_SERVER, 1, "curve_server") ||
            zmq_setsockopt(d->router, ZMQ_CURVE_SECRETKEY, secret, 32) != 0 ||
            zmq_setsockopt(d->router, ZMQ_ZAP_DOMAIN, dom, strlen(dom)) != 0) {
            glci_error("cannot enable CURVE: %s", zmq_strerror(errno));
            return -1;
        }
        /* Fail closed: with the domain enforced, a missing handler refuses
         * every client. A stable libzmq lacks the option; then what keeps it
         * closed is that our handler is bound before the ROUTER exists and
         * closed after it, so no handshake can find it missing. */
        int one = 1;
        if (zmq_setsockopt(d->router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
            glci_debug("libzmq has no ZMQ_ZAP_ENFORCE_DOMAIN (%s); the ZAP handler "
                       "outlives the ROUTER instead", zmq_strerror(errno));
    }
    memset(secret, 0, sizeof secret);
    if (zmq_bind(d->router, d->cfg.listen) != 0) {
        glci_error("cannot listen on %s: %s", d->cfg.listen, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static void s_send_ack(s_daemon_t *d, s_item_t *it)
{
    uint8_t *buf;
    size_t len;
    if (glci_wire_ack_pack(&it->ack, &buf, &len) != 0) {
        glci_error("internal: cannot pack ack with status %d", (int)it->ack.status);
        return;
    }
    if (zmq_send(d->router, zmq_msg_data(&it->id), zmq_msg_size(&it->id),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(d->router, buf, len, ZMQ_DONTWAIT) < 0) {
        /* peer gone (EHOSTUNREACH) or its queue is full (EAGAIN): it will
         * resend and get the answer again */
        glci_debug("ack for %s seq %llu dropped: %s", it->city[0] ? it->city : "?",
                   (unsigned long long)it->ack.seq, zmq_strerror(errno));
    }
    free(buf);
}

/* Receives one message into it. Returns 1 if an item was taken (*m says
 * what it held), 0 if nothing is waiting. */
static int s_take(s_daemon_t *d, s_item_t *it, const glci_wire_limits_t *lim,
                  glci_collector_msg_t *m)
{
    memset(it, 0, sizeof *it);
    zmq_msg_t body;
    if (!glci_collector_recv(d->router, &it->id, &body, m))
        return 0;
    int frames = (int)m->frames;
    const char *user = NULL, *key = NULL;
    if (frames >= 1 && !d->cfg.insecure) {
        user = zmq_msg_gets(&body, "User-Id");
        key = zmq_msg_gets(&body, GLCI_COLLECTOR_KEY_PROPERTY);
    }

    if (frames != 1 || m->bytes > (uint64_t)d->cfg.max_message) {
        it->ack.version = GLCI_WIRE_VERSION;
        it->ack.status = GLCI_BATCH_MALFORMED;
        snprintf(it->ack.error, sizeof it->ack.error,
                 "a batch is one frame of at most %lld bytes; got %u frame%s, %llu bytes in "
                 "all", (long long)d->cfg.max_message, m->frames, m->frames == 1 ? "" : "s",
                 (unsigned long long)m->bytes);
    } else if (!d->cfg.insecure && (!user || !*user)) {
        it->ack.version = GLCI_WIRE_VERSION;
        it->ack.status = GLCI_BATCH_FORBIDDEN;
        snprintf(it->ack.error, sizeof it->ack.error, "connection not authenticated");
    } else if (glci_collector_batch_prepare(zmq_msg_data(&body), zmq_msg_size(&body),
                                            user, lim, &it->b, it->city, &it->ack) == 0) {
        it->to_store = 1;
        /* the key was admitted at the handshake; it may have been removed
         * from its city since (the store's ingest checks only the city) */
        int rc = d->auth ? glci_collector_auth_check(d->auth, key, it->city) : 0;
        if (rc != 0) {
            it->to_store = 0;
            glci_collector_batch_release(&it->b);
            it->ack.version = GLCI_WIRE_VERSION;
            if (rc == GLCI_STORE_ENOCITY) {
                it->ack.status = GLCI_BATCH_FORBIDDEN;
                snprintf(it->ack.error, sizeof it->ack.error,
                         "key %.40s is no longer registered to city %s",
                         key ? key : "(none)", it->city);
            } else {
                it->ack.status = GLCI_BATCH_UNAVAILABLE;
                snprintf(it->ack.error, sizeof it->ack.error,
                         "collector cannot check the key now (%s); resend later",
                         glci_store_strerror(rc));
            }
        }
    }
    if (!it->to_store) {
        d->stats.refused++;
        glci_log_repeat(&d->rep.refused, s_now_ms(), S_REPEAT_QUIET_MS, GLCI_LOG_WARN,
                        "batch from %s (stream %016llx seq %llu) refused: %s: %s",
                        user ? user : "?", (unsigned long long)it->ack.stream,
                        (unsigned long long)it->ack.seq, glci_batch_status_str(it->ack.status),
                        it->ack.error);
    }
    zmq_msg_close(&body);
    return 1;
}

/* One round: take what is waiting, ingest it in one transaction, ack. */
static void s_round(s_daemon_t *d)
{
    /* What one frame may cost in the decoder: about 512 bytes per allowed
     * observation plus 1 MiB (the wire layer also caps it at 16x the
     * frame). An honest observation needs under 400. */
    glci_wire_limits_t lim = {d->cfg.batch_max, d->cfg.batch_max * 512 + (1u << 20)};
    size_t n = 0, nb = 0;
    if (d->auth)
        glci_collector_auth_round(d->auth);
    /* A group is bounded by batches, payload bytes and observations, so one
     * city's flood cannot make a transaction that holds every other city's
     * ack for long (collector_budget.h). */
    glci_collector_group_budget_t budget = {d->cfg.group_max, d->cfg.group_bytes,
                                            d->cfg.group_obs};
    glci_collector_group_t group = {0};
    glci_collector_msg_t m;
    while (glci_collector_group_open(&group, &budget) && s_take(d, &d->items[n], &lim, &m)) {
        s_item_t *it = &d->items[n++];
        glci_collector_group_add(&group, m.bytes, it->to_store ? it->b.wb->n_obs : 0);
        glci_collector_memory_note(m.bytes);
    }
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        s_item_t *it = &d->items[i];
        if (!it->to_store)
            continue;
        glci_batch_t *b = &d->batches[nb];
        b->city = it->city;
        b->stream = it->b.wb->stream;
        b->seq = it->b.wb->seq;
        b->obs = it->b.wb->obs;
        b->n_obs = it->b.wb->n_obs;
        it->slot = nb++;
    }
    int rc = 0;
    if (nb > 0) {
        memset(d->results, 0, nb * sizeof *d->results);
        rc = glci_store_ingest(d->st, d->batches, nb, (int64_t)time(NULL), d->results);
        if (rc != 0)
            glci_error("store: ingest of %zu batches failed: %s; answered UNAVAILABLE", nb,
                       glci_store_strerror(rc));
    }
    for (size_t i = 0; i < n; i++) {
        s_item_t *it = &d->items[i];
        if (it->to_store) {
            if (rc == 0) {
                const glci_batch_result_t *r = &d->results[it->slot];
                glci_collector_ack_from_result(&it->b, r, &it->ack);
                if (r->status == GLCI_BATCH_APPLIED) {
                    d->stats.batches++;
                    d->stats.obs += it->b.wb->n_obs - r->n_rejections;
                    d->stats.rejected += r->n_rejections;
                }
                glci_debug("%s stream %016llx seq %llu: %s, acked %llu, %zu rejected",
                           it->city, (unsigned long long)it->ack.stream,
                           (unsigned long long)it->ack.seq,
                           glci_batch_status_str(it->ack.status),
                           (unsigned long long)it->ack.acked, r->n_rejections);
                if (r->status == GLCI_BATCH_FORBIDDEN)
                    glci_log_repeat(&d->rep.forbidden, s_now_ms(), S_REPEAT_QUIET_MS,
                                    GLCI_LOG_WARN, "batch from %s refused: city unknown or "
                                    "revoked", it->city);
                if (r->status == GLCI_BATCH_DUPLICATE && r->content_differs)
                    glci_log_repeat(&d->rep.clash, s_now_ms(), S_REPEAT_QUIET_MS,
                                    GLCI_LOG_WARN, "%s stream %016llx seq %llu: duplicate with "
                                    "content different from the batch applied under that "
                                    "number (agent outbox restored from an old copy?); not "
                                    "applied", it->city, (unsigned long long)it->ack.stream,
                                    (unsigned long long)it->ack.seq);
            } else {
                memset(&it->ack, 0, sizeof it->ack);
                it->ack.version = GLCI_WIRE_VERSION;
                it->ack.stream = it->b.wb->stream;
                it->ack.seq = it->b.wb->seq;
                it->ack.status = GLCI_BATCH_UNAVAILABLE;
                snprintf(it->ack.error, sizeof it->ack.error,
                         "collector cannot store now (%s); resend later",
                         glci_store_strerror(rc));
            }
        }
        s_send_ack(d, it);
    }
    for (size_t i = 0; i < nb; i++)
        glci_batch_result_release(&d->results[i]);
    for (size_t i = 0; i < n; i++) {
        s_item_t *it = &d->items[i];
        glci_wire_ack_release(&it->ack);
        glci_collector_batch_release(&it->b);
        zmq_msg_close(&it->id);
    }
}

static void s_reload(s_daemon_t *d)
{
    glci_collector_config_t n;
    char err[512];
    if (!d->args->config) {
        glci_info("SIGHUP: no config file to reload");
        return;
    }
    if (glci_collector_config_build(d->args, &n, err, sizeof err) != 0) {
        glci_error("SIGHUP: %s; keeping the running configuration", err);
        return;
    }
    if (strcmp(n.store, d->cfg.store) || strcmp(n.listen, d->cfg.listen) ||
        strcmp(n.key_file, d->cfg.key_file) || n.insecure != d->cfg.insecure ||
        n.map_max != d->cfg.map_max)
        glci_warn("SIGHUP: store, listen, key_file, insecure and map_max take effect "
                  "only after a restart");
    glci_log_set_level(n.log_level);
    d->cfg.log_level = n.log_level;
    d->cfg.batch_max = n.batch_max;
    d->cfg.group_max = n.group_max;
    d->cfg.group_bytes = n.group_bytes;
    d->cfg.group_obs = n.group_obs;
    d->cfg.rejects_keep = n.rejects_keep;
    glci_store_set_rejects_keep(d->st, d->cfg.rejects_keep);
    d->cfg.max_message = n.max_message;
    d->cfg.sndhwm = n.sndhwm;
    d->cfg.rcvhwm = n.rcvhwm;
    d->cfg.heartbeat_ivl = n.heartbeat_ivl;
    d->cfg.heartbeat_timeout = n.heartbeat_timeout;
    d->cfg.handshake_ivl = n.handshake_ivl;
    s_grow(d, d->cfg.group_max);
    s_apply_limits(d->router, &d->cfg);
    glci_collector_config_release(&n);
    glci_info("configuration reloaded (batch_max %zu, group_max %zu, max_message %lld)",
              d->cfg.batch_max, d->cfg.group_max, (long long)d->cfg.max_message);
}

static void s_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART keeps LMDB's and libc's calls whole; poll() is never
     * restarted, so the loop still wakes up and sees the flag. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int glci_collector_run(const glci_collector_args_t *args, const glci_collector_config_t *cfg)
{
    int status = GLCI_COLLECTOR_EXIT_FAIL;
    s_daemon_t d;
    memset(&d, 0, sizeof d);
    d.args = args;
    d.cfg = *cfg;
    s_stop = 0;
    s_hup = 0;
    s_signals();

    char err[512];
    glci_collector_memory_init();
    glci_store_opts_t opts = {0, 0, cfg->map_max};
    int rc = glci_store_open(cfg->store, &opts, &d.st, err, sizeof err);
    if (rc != 0) {
        glci_error("%s", err[0] ? err : glci_store_strerror(rc));
        goto done;
    }
    glci_store_set_rejects_keep(d.st, cfg->rejects_keep);
    if (s_open_sockets(&d) != 0)
        goto done;
    if (!d.cfg.insecure)
        d.auth = glci_collector_auth_new(d.st);
    s_grow(&d, d.cfg.group_max);
    if (d.cfg.insecure)
        glci_warn("INSECURE mode: no CURVE, no authentication, the city is taken from "
                  "each batch (tests and demos only)");
    glci_info("listening on %s (%s), store %s", d.cfg.listen,
              d.cfg.insecure ? "insecure" : "CURVE", d.cfg.store);
    sd_notify(0, "READY=1");

    int64_t next_check = s_now() + S_READER_CHECK_S;
    int64_t next_stats = s_now() + S_STATS_S;
    while (!s_stop) {
        zmq_pollitem_t items[2] = {
            {d.router, 0, ZMQ_POLLIN, 0},
            {d.zap, 0, ZMQ_POLLIN, 0},
        };
        int np = zmq_poll(items, d.zap ? 2 : 1, S_POLL_MS);
        if (np < 0 && errno != EINTR) {
            glci_error("poll failed: %s", zmq_strerror(errno));
            goto done;
        }
        if (np > 0 && d.zap && (items[1].revents & ZMQ_POLLIN) &&
            glci_collector_zap_serve(d.zap, d.st) < 0)
            glci_error("zap: socket error: %s", zmq_strerror(errno));
        if (np > 0 && (items[0].revents & ZMQ_POLLIN))
            s_round(&d);
        else
            glci_collector_memory_idle(s_now_ms());   /* quiet: give memory back */
        if (s_hup) {
            s_hup = 0;
            s_reload(&d);
        }
        int64_t now = s_now();
        if (now >= next_check) {
            next_check = now + S_READER_CHECK_S;
            int cleared = glci_store_reader_check(d.st);
            if (cleared > 0)
                glci_info("store: cleared %d stale reader slots", cleared);
            else if (cleared < 0)
                glci_warn("store: reader check failed: %s", glci_store_strerror(cleared));
        }
        if (now >= next_stats) {
            next_stats = now + S_STATS_S;
            if (d.stats.batches || d.stats.refused)
                glci_info("last %ds: %llu batches applied, %llu observations stored, "
                          "%llu rejected, %llu batches refused",
                          S_STATS_S, (unsigned long long)d.stats.batches,
                          (unsigned long long)d.stats.obs,
                          (unsigned long long)d.stats.rejected,
                          (unsigned long long)d.stats.refused);
            memset(&d.stats, 0, sizeof d.stats);
        }
    }
    sd_notify(0, "STOPPING=1");
    glci_info("stopping");
    status = GLCI_COLLECTOR_EXIT_OK;

done:
    if (d.router)
        zmq_close(d.router);
    if (d.zap) {
        int zero = 0;
        zmq_setsockopt(d.zap, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(d.zap);
    }
    if (d.ctx)
        zmq_ctx_term(d.ctx);
    glci_collector_auth_free(&d.auth);
    glci_store_close(&d.st);
    free(d.items);
    free(d.batches);
    free(d.results);
    return status;
}
