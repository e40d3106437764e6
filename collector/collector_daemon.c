/* The collector daemon: one loop that owns every socket, and a store
 * thread that runs the transactions.
 *
 *   poll(ROUTERs, ZAP, enrolment, monitor, the store thread's eventfd)
 *     -> answer ZAP requests
 *     -> the store thread is done with group k: send k's acks, hand it
 *        the group taken meanwhile, if there is one
 *     -> a group buffer is free: take every batch waiting (up to the group
 *        budget), decode and attribute each to its connection's city,
 *        check the connection's key is still registered; hand the group
 *        to the store thread if it is idle, else keep it for when it is
 *
 * The store thread ingests the good batches of one group in ONE store
 * transaction while the loop receives and decodes the next group and keeps
 * answering handshakes and enrolments (docs/PERFORMANCE.md, "Receive
 * beside the commit"); what each side may do and why the guarantees hold:
 * "The store thread" below. Acks are sent only after glci_store_ingest has
 * committed their group, so an ack always means durable. A send that would
 * block or whose peer is gone (ROUTER_MANDATORY: EAGAIN / EHOSTUNREACH)
 * drops that ack: the agent resends and gets a DUPLICATE re-ack. Signals
 * only set flags, so a SIGTERM finishes the groups in hand and sends their
 * acks before the loop ends. */
#define _GNU_SOURCE   /* pthread_setname_np */
#include "glci_collector.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <zmq.h>

#include "collector_auth.h"
#include "collector_budget.h"
#include "collector_enrol.h"
#include "collector_keylog.h"
#include "collector_lock.h"
#include "collector_metrics.h"
#include "collector_zap.h"
#include "glci_alloc.h"
#include "glci_endpoint.h"
#include "glci_keyfile.h"
#include "glci_log_kinds.h"
#include "glci_log_repeat.h"
#include "glci_metrics_http.h"
#include "glci_utf8.h"

#include <unistd.h>

#define S_POLL_MS          1000
#define S_READER_CHECK_S   60
#define S_STATS_S          60
#define S_LINGER_MS        2000
/* TCP keepalive on every accepted connection: a peer gone without a word
 * (its host down, the path cut) while no TTL timer of its pings was armed
 * is found by the kernel, at no cost to the I/O thread's timer list (see
 * docs/PERFORMANCE.md): probes after 60 s of silence, 3 of them 10 s apart. */
#define S_KEEPALIVE_IDLE_S 60
#define S_KEEPALIVE_INTVL_S 10
#define S_KEEPALIVE_CNT    3
#define S_ZAP_ENDPOINT     "inproc://zeromq.zap.01"
#define S_LOG_QUIET_MS     60000   /* a repeated error: one line a minute */
#define S_REFUSAL_KINDS    64      /* refusals told apart in the log at once */
/* Test hooks, read once at start, for tests/integration/
 * test_collector_overlap.c; a value out of range is refused at start.
 * The store thread sleeps this many ms before each ingest, a slow commit
 * (0 to 60000; unset: none). */
#define S_DELAY_ENV        "GLCI_COLLECTOR_TEST_INGEST_DELAY_MS"
/* The key log writes early once this many distinct keys were used since
 * its last write (1 to GLCI_COLLECTOR_KEYLOG_USES_MAX, the bound when
 * unset): that write, from ZAP serving, with a few clients. */
#define S_USES_ENV         "GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX"

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
    void *sock;                /* the ROUTER it came on, to answer on */
    zmq_msg_t id;              /* the peer's routing id, to address the ack */
    glci_collector_batch_t b;
    char city[GLCI_CITY_ID_MAX + 1];
    glci_wire_ack_t ack;
    int to_store;              /* 1: goes into the transaction */
    glci_batch_t batch;        /* what the store ingests of it, hash taken */
    size_t slot;               /* its index in batches[] / results[] */
} s_item_t;

/* One group: the batches taken off the ROUTERs in one round and what the
 * store made of them. Two of them, so one is filled while the store
 * thread ingests the other. */
typedef struct {
    size_t cap, n, nb;         /* n items, nb of them to the store */
    glci_collector_group_t used;  /* what n holds, against the group budget */
    s_item_t *items;
    glci_batch_t *batches;     /* point into items[] */
    glci_batch_result_t *results;
} s_group_t;

/* The store thread (see "The store thread" below). mu guards job, done,
 * rc, seconds and quit; the eventfd wakes the loop's poll when done is
 * set. */
typedef struct {
    glci_store_t *st;
    pthread_t thread;
    int started;
    int efd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    s_group_t *job;            /* handed over; the thread's until collected */
    int done;                  /* job's ingest returned */
    int rc;                    /* glci_store_ingest's code for job */
    double seconds;            /* how long it took */
    int quit;
    int delay_ms;              /* the test hook, S_DELAY_ENV */
} s_ingester_t;


/* Refused batches are logged once a minute per kind of refusal: the city
 * the connection names, the answer's status, and its error text with each
 * run of digits read as one '#' (so "undecodable batch (9 bytes)" and
 * "(12 bytes)" are one kind, "protocol version 99 not supported" another).
 * One limiter for all of them would print one city's refusal with another
 * city's count and never print a different one (docs/METRICS.md, "Repeated
 * errors"). The slots and their reuse: glci_log_kinds.h. */

/* A ROUTER serving one collector key on one endpoint: the data socket
 * (listen, the key in use), the previous key's during a rotation
 * (previous_listen), the enrolment socket (enrol_listen). */
typedef struct {
    void *sock;
    char endpoint[256];        /* as bound (ZMQ_LAST_ENDPOINT), for a rebind */
    glci_key_t pub;            /* the key it serves */
} s_server_t;

typedef struct {
    const glci_collector_args_t *args;
    glci_collector_config_t cfg;  /* shallow copy: strings are the caller's */
    glci_store_t *st;
    glci_collector_auth_t *auth;  /* key checks on open connections (CURVE) */
    glci_collector_keylog_t *keylog;
    glci_collector_enrol_t *enrol;
    void *ctx, *router, *zap;
    s_server_t data, previous, enrolment;
    int lock_fd;
    glci_collector_meter_t *meter;  /* metrics and /health (collector_metrics.h) */
    char *metrics_listen;      /* what the meter serves; NULL: nothing */
    glci_log_kinds_t *refusals;  /* "batch ... refused" lines, by kind */
    glci_log_repeat_t log_ingest, log_clash, log_wrong_city;
    int64_t ingest_failed_ms;  /* the last failed ingest (monotonic) */
    s_group_t groups[2];
    s_group_t *flight;         /* with the store thread; NULL: it is idle */
    s_group_t *staged;         /* taken, waiting for the store thread */
    s_ingester_t ing;
    int64_t next_check;        /* the next glci_store_reader_check (s_now) */
    glci_collector_stats_t stats;
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

static double s_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* error with each run of digits as one '#': what tells one kind of
 * refusal from another, whatever the sizes, versions and counts in it. */
static void s_refusal_shape(const char *error, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = error; *p && n + 1 < outlen; p++) {
        if (*p >= '0' && *p <= '9') {
            while (p[1] >= '0' && p[1] <= '9')
                p++;
            out[n++] = '#';
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* One refused batch of city, answered status with error: the line fmt
 * makes, printed or counted by the limiter of its kind. */
static void s_log_refused(s_daemon_t *d, const char *city, int status, const char *error,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void s_log_refused(s_daemon_t *d, const char *city, int status, const char *error,
                          const char *fmt, ...)
{
    char line[1024], shape[GLCI_ACK_ERROR_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char key[GLCI_CITY_ID_MAX + GLCI_ACK_ERROR_MAX + 32];
    s_refusal_shape(error, shape, sizeof shape);
    snprintf(key, sizeof key, "%d/%s/%s", status, city, shape);
    glci_log_kinds(d->refusals, key, s_now_ms(), GLCI_LOG_WARN, "%s", line);
}

static void s_group_grow(s_group_t *g, size_t cap)
{
    if (cap <= g->cap)
        return;
    g->items = glci_xrealloc(g->items, cap * sizeof *g->items);
    g->batches = glci_xrealloc(g->batches, cap * sizeof *g->batches);
    g->results = glci_xrealloc(g->results, cap * sizeof *g->results);
    g->cap = cap;
}

static int s_setopt_int(void *sock, int opt, int v, const char *name)
{
    if (zmq_setsockopt(sock, opt, &v, sizeof v) != 0) {
        glci_error("cannot set %s=%d: %s", name, v, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* The limits, set before a bind: libzmq copies them into the listener at
 * bind, and its connections get them from there (a SIGHUP does not set
 * them again: s_reload). */
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

/* Reads a secret key file into the Z85 pair. 0, or -1 after logging. */
static int s_read_key(const char *path, glci_key_t *pub, glci_key_t *sec)
{
    char err[512];
    if (glci_keyfile_read(path, pub, sec, err, sizeof err) != 0) {
        glci_error("%s", err);
        return -1;
    }
    return 0;
}

/* Binds srv->sock to endpoint with the secret key sec (libzmq copies a
 * socket's options into each listener when it binds, so a socket rebound
 * after a new key is set serves the new key; unbinding also closes the
 * connections that listener accepted, and their agents reconnect). A port
 * just unbound may still be held by the I/O thread for a moment: the bind
 * is tried again for up to a second. */
static int s_bind(s_server_t *srv, const char *endpoint, const glci_key_t *pub,
                  const glci_key_t *sec)
{
    if (zmq_setsockopt(srv->sock, ZMQ_CURVE_SECRETKEY, sec->z85, GLCI_Z85_KEY_LEN + 1) != 0) {
        glci_error("cannot set the collector key: %s", zmq_strerror(errno));
        return -1;
    }
    if (glci_endpoint_zmq_family(srv->sock, endpoint) != 0) {
        glci_error("cannot listen on %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    int rc = -1;
    for (int i = 0; i < 50 && rc != 0; i++) {
        rc = zmq_bind(srv->sock, endpoint);
        if (rc != 0 && errno == EADDRINUSE && i < 49)
            nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    if (rc != 0) {
        glci_error("cannot listen on %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    size_t len = sizeof srv->endpoint;
    if (zmq_getsockopt(srv->sock, ZMQ_LAST_ENDPOINT, srv->endpoint, &len) != 0)
        snprintf(srv->endpoint, sizeof srv->endpoint, "%s", endpoint);
    srv->pub = *pub;
    return 0;
}

/* A CURVE ROUTER in ZAP domain `domain` (fail closed: see below). */
static void *s_curve_router(s_daemon_t *d, const char *domain, const char *what)
{
    void *sock = zmq_socket(d->ctx, ZMQ_ROUTER);
    if (!sock) {
        glci_error("cannot create the %s socket: %s", what, zmq_strerror(errno));
        return NULL;
    }
    if (s_setopt_int(sock, ZMQ_ROUTER_MANDATORY, 1, "router_mandatory") ||
        s_setopt_int(sock, ZMQ_LINGER, S_LINGER_MS, "linger") ||
        s_setopt_int(sock, ZMQ_CURVE_SERVER, 1, "curve_server") ||
        s_setopt_int(sock, ZMQ_TCP_KEEPALIVE, 1, "tcp_keepalive") ||
        s_setopt_int(sock, ZMQ_TCP_KEEPALIVE_IDLE, S_KEEPALIVE_IDLE_S, "tcp_keepalive_idle") ||
        s_setopt_int(sock, ZMQ_TCP_KEEPALIVE_INTVL, S_KEEPALIVE_INTVL_S,
                     "tcp_keepalive_intvl") ||
        s_setopt_int(sock, ZMQ_TCP_KEEPALIVE_CNT, S_KEEPALIVE_CNT, "tcp_keepalive_cnt") ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0) {
        glci_error("cannot set up the %s socket: %s", what, zmq_strerror(errno));
        zmq_close(sock);
        return NULL;
    }
    /* Fail closed: with the domain enforced, a missing handler refuses
     * every client. A stable libzmq lacks the option; then what keeps it
     * closed is that our handler is bound before the ROUTER exists and
     * closed after it, so no handshake can find it missing. */
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        glci_debug("libzmq has no ZMQ_ZAP_ENFORCE_DOMAIN (%s); the ZAP handler "
                   "outlives the ROUTER instead", zmq_strerror(errno));
    return sock;
}

static void s_server_close(s_server_t *srv)
{
    if (srv->sock)
        zmq_close(srv->sock);
    memset(srv, 0, sizeof *srv);
}

/* The previous key during a rotation: served on previous_listen while its
 * file exists; closed when it is gone (glci collector-key retire). Called
 * at start and at each SIGHUP; with no file, says so each time, since
 * nothing listens on previous_listen then (docs/OPERATIONS.md). */
static void s_previous_sync(s_daemon_t *d)
{
    if (!d->cfg.previous_listen || d->cfg.insecure)
        return;
    glci_key_t pub, sec;
    int present = access(d->cfg.previous_key_file, F_OK) == 0;
    if (!present) {
        if (d->previous.sock) {
            glci_info("previous collector key retired: %s closed", d->previous.endpoint);
            s_server_close(&d->previous);
        } else {
            glci_info("previous_listen %s is not served until glci collector-key rotate "
                      "makes %s (then: systemctl reload glci-collector)",
                      d->cfg.previous_listen, d->cfg.previous_key_file);
        }
        return;
    }
    if (s_read_key(d->cfg.previous_key_file, &pub, &sec) != 0)
        return;
    if (d->previous.sock && strcmp(d->previous.pub.z85, pub.z85) == 0)
        return;
    s_server_close(&d->previous);
    d->previous.sock = s_curve_router(d, GLCI_COLLECTOR_ZAP_DOMAIN, "previous-key");
    if (d->previous.sock && (s_apply_limits(d->previous.sock, &d->cfg) != 0 ||
                             s_bind(&d->previous, d->cfg.previous_listen, &pub, &sec) != 0))
        s_server_close(&d->previous);
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint(&pub, fp);
    if (d->previous.sock)
        glci_info("previous collector key %s served on %s until it is retired", fp,
                  d->previous.endpoint);
    sodium_memzero(&sec, sizeof sec);
}

static int s_open_sockets(s_daemon_t *d)
{
    d->ctx = zmq_ctx_new();
    if (!d->ctx) {
        glci_error("cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        return -1;
    }
    glci_key_t pub, sec;
    if (!d->cfg.insecure) {
        if (!zmq_has("curve")) {
            glci_error("this libzmq has no CURVE support");
            return -1;
        }
        if (s_read_key(d->cfg.key_file, &pub, &sec) != 0)
            return -1;
        char fp[GLCI_KEY_FP_LEN + 1];
        glci_key_fingerprint(&pub, fp);
        glci_info("collector public key %s (fingerprint %s)", pub.z85, fp);
        /* The ZAP handler must be bound before any connection arrives. */
        d->zap = zmq_socket(d->ctx, ZMQ_REP);
        if (!d->zap || zmq_bind(d->zap, S_ZAP_ENDPOINT) != 0) {
            glci_error("cannot bind the ZAP handler: %s", zmq_strerror(errno));
            return -1;
        }
        d->data.sock = s_curve_router(d, GLCI_COLLECTOR_ZAP_DOMAIN, "ROUTER");
    } else {
        d->data.sock = zmq_socket(d->ctx, ZMQ_ROUTER);
        if (d->data.sock && (s_setopt_int(d->data.sock, ZMQ_ROUTER_MANDATORY, 1,
                                          "router_mandatory") ||
                             s_setopt_int(d->data.sock, ZMQ_LINGER, S_LINGER_MS, "linger"))) {
            zmq_close(d->data.sock);
            d->data.sock = NULL;
        }
    }
    d->router = d->data.sock;
    if (!d->router || s_apply_limits(d->router, &d->cfg))
        return -1;
    int rc;
    if (d->cfg.insecure) {
        rc = glci_endpoint_zmq_family(d->router, d->cfg.listen);
        if (rc == 0)
            rc = zmq_bind(d->router, d->cfg.listen);
        if (rc != 0)
            glci_error("cannot listen on %s: %s", d->cfg.listen, zmq_strerror(errno));
    } else {
        rc = s_bind(&d->data, d->cfg.listen, &pub, &sec);
    }
    if (rc == 0 && d->cfg.enrol_listen) {
        d->enrolment.sock = s_curve_router(d, GLCI_COLLECTOR_ENROL_DOMAIN, "enrolment");
        int64_t maxmsg = GLCI_ENROL_MESSAGE_MAX;
        rc = !d->enrolment.sock ||
             zmq_setsockopt(d->enrolment.sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
             s_setopt_int(d->enrolment.sock, ZMQ_HANDSHAKE_IVL, d->cfg.handshake_ivl,
                          "handshake_ivl") ||
             s_bind(&d->enrolment, d->cfg.enrol_listen, &pub, &sec) != 0 ? -1 : 0;
    }
    sodium_memzero(&sec, sizeof sec);
    if (rc != 0)
        return -1;
    s_previous_sync(d);
    return 0;
}

/* SIGHUP: the key files again. A new key in key_file (glci collector-key
 * rotate) is served from now on: the data and enrolment sockets are
 * rebound with it (their connections are closed and made again, under the
 * new key); the previous key is served, or no longer, as its file says
 * (connections on previous_listen are not touched by a rebind of listen). */
static void s_reload_keys(s_daemon_t *d)
{
    if (d->cfg.insecure)
        return;
    glci_key_t pub, sec;
    if (s_read_key(d->cfg.key_file, &pub, &sec) != 0) {
        glci_error("SIGHUP: keeping the collector key in use");
        return;
    }
    if (strcmp(pub.z85, d->data.pub.z85) != 0) {
        char fp[GLCI_KEY_FP_LEN + 1];
        glci_key_fingerprint(&pub, fp);
        s_server_t *srv[2] = {&d->data, &d->enrolment};
        for (int i = 0; i < 2; i++) {
            if (!srv[i]->sock)
                continue;
            char ep[256];
            snprintf(ep, sizeof ep, "%s", srv[i]->endpoint);
            if (zmq_unbind(srv[i]->sock, ep) != 0 || s_bind(srv[i], ep, &pub, &sec) != 0)
                glci_error("SIGHUP: %s is not served with the new key", ep);
        }
        glci_info("collector public key %s (fingerprint %s) in use from now on", pub.z85, fp);
    }
    sodium_memzero(&sec, sizeof sec);
    s_previous_sync(d);
}

static void s_send_ack(s_daemon_t *d, s_item_t *it)
{
    uint8_t *buf;
    size_t len;
    if (glci_wire_ack_pack(&it->ack, &buf, &len) != 0) {
        glci_error("internal: cannot pack ack with status %d", (int)it->ack.status);
        return;
    }
    if (zmq_send(it->sock, zmq_msg_data(&it->id), zmq_msg_size(&it->id),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(it->sock, buf, len, ZMQ_DONTWAIT) < 0) {
        /* peer gone (EHOSTUNREACH) or its queue is full (EAGAIN): it will
         * resend and get the answer again */
        glci_debug("ack for %s seq %llu dropped: %s", it->city[0] ? it->city : "?",
                   (unsigned long long)it->ack.seq, zmq_strerror(errno));
    }
    free(buf);
}

/* Receives one message of sock into it. Returns 1 if an item was taken (*m
 * says what it held), 0 if nothing is waiting. */
static int s_take(s_daemon_t *d, void *sock, s_item_t *it, const glci_wire_limits_t *lim,
                  glci_collector_msg_t *m)
{
    memset(it, 0, sizeof *it);
    it->sock = sock;
    zmq_msg_t body;
    if (!glci_collector_recv(sock, &it->id, &body, m))
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
        unsigned char raw[32];
        if (rc == 0 && d->keylog && key && glci_key_decode(key, raw) == 0)
            glci_collector_keylog_used(d->keylog, raw, (int64_t)time(NULL));
        if (rc == 0) {
            /* the content hash here, beside the commit in flight, not on
             * the store thread that holds the write transaction */
            glci_batch_t *b = &it->batch;
            b->city = it->city;
            b->claimed_city = it->b.claimed;
            b->stream = it->b.wb->stream;
            b->seq = it->b.wb->seq;
            b->obs = it->b.wb->obs;
            b->n_obs = it->b.wb->n_obs;
            glci_store_batch_hash(b, b->hash);
            b->has_hash = 1;
        }
        if (rc != 0) {
            it->to_store = 0;
            glci_collector_batch_release(&it->b);
            it->ack.version = GLCI_WIRE_VERSION;
            if (rc == GLCI_STORE_ENOCITY) {
                /* the key by its fingerprint: this text reaches the
                 * collector's log and the agent's */
                char fp[GLCI_KEY_FP_LEN + 1] = "(none)";
                if (key && glci_key_decode(key, raw) == 0)
                    glci_key_fingerprint_raw(raw, fp);
                it->ack.status = GLCI_BATCH_FORBIDDEN;
                snprintf(it->ack.error, sizeof it->ack.error,
                         "key %s is no longer registered to city %s", fp, it->city);
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
        s_log_refused(d, user ? user : "?", (int)it->ack.status, it->ack.error,
                      "batch from %s (stream %016llx seq %llu) refused: %s: %s",
                      user ? user : "?", (unsigned long long)it->ack.stream,
                      (unsigned long long)it->ack.seq,
                      glci_batch_status_str(it->ack.status), it->ack.error);
    }
    zmq_msg_close(&body);
    return 1;
}

/* The repeats the quiet logs counted since their last lines: printed once
 * each one's quiet time is over, even if that error never comes again, or
 * at once with end (the collector stopping), so no count is lost. */
static void s_quiet_logs(s_daemon_t *d, int64_t now_ms, int end)
{
    glci_log_repeat_t *logs[] = {&d->log_ingest, &d->log_clash, &d->log_wrong_city};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
        if (end)
            glci_log_repeat_end(logs[i], now_ms);
        else
            glci_log_repeat_tick(logs[i], now_ms);
    }
    glci_collector_zap_quiet(now_ms, end);
    if (d->keylog)
        glci_collector_keylog_quiet(d->keylog, now_ms, end);
}

/* An authenticated agent sent a batch naming another city: the store
 * rejected its observations as "wrong city"; logged once a minute at most
 * (an agent with a wrong city setting sends every batch so). */
static void s_log_wrong_city(s_daemon_t *d, const s_item_t *it, const glci_batch_result_t *r)
{
    char claimed[GLCI_CITY_ID_MAX * 4 + 1];
    glci_utf8_escape(it->b.claimed, GLCI_CITY_ID_MAX, claimed, sizeof claimed);
    glci_log_repeat(&d->log_wrong_city, s_now_ms(), S_LOG_QUIET_MS, GLCI_LOG_WARN,
                    "batch from %s (stream %016llx seq %llu) claims city %s but its key "
                    "belongs to %s: its %zu observations are rejected as wrong city (glci "
                    "rejects --city %s)", it->city, (unsigned long long)it->ack.stream,
                    (unsigned long long)it->ack.seq, claimed, it->city, r->n_rejections,
                    it->city);
}

/* ---- The store thread --------------------------------------------------
 *
 * The loop hands a group to the store thread (s_start), which runs
 * glci_store_ingest on it and reports its code (s_ingester_main); the loop
 * then answers it (s_collect, s_answer). Why the guarantees hold:
 *
 * - An ack means durable. A group's acks are built and sent by the loop in
 *   s_answer, called by s_collect only once the thread has set done under
 *   mu, after glci_store_ingest returned (a durable commit: docs/STORE.md);
 *   the mutex also makes the thread's results visible to the loop. They are
 *   built from that group's own results[]: each group has its own items,
 *   batches and results (two buffers), and a buffer is filled again only
 *   after its group was answered and released.
 * - Order. At most one group is with the thread (d->flight), and the next
 *   is handed over only by s_dispatch, with d->flight NULL, that is after
 *   s_collect saw the previous ingest return. Groups are handed over in the
 *   order they were taken (one is staged at most; a round takes into the
 *   staged group while its budget has room, and into a free buffer only
 *   while none is staged), so a stream's seq N+1 in group k+1 is
 *   ingested after seq N in group k committed, and the store's GAP and
 *   DUPLICATE checks see them in order, as in a single-threaded loop.
 * - The store handle. glci_store.h lets glci_store_city_by_key,
 *   glci_store_key_check and glci_store_auth_generation (the ZAP handler,
 *   the key checks of s_take) and read views (the metrics server's thread)
 *   run beside an ingest in another thread: each read takes the mdb layer's
 *   map_lock shared, as does the write transaction; the writer's own remap
 *   (map full, or another process's growth) takes it exclusively only after
 *   giving up its share, and waits for those reads to end, which never wait
 *   for the store thread (glibc's rwlock lets readers in while a writer
 *   waits: no cycle). Every other store call of the loop -- the writes
 *   (glci_store_enrol, the key log's glci_store_key_record) and the calls on
 *   the handle's own state (glci_store_set_rejects_keep in a reload,
 *   glci_store_reader_check, the meter's glci_store_space) -- is made with
 *   no group in flight: where the loop finds the thread idle (s_quiet,
 *   right after each collect; s_enrol, before each hand-over: an
 *   enrolment request waits in libzmq while a group is in flight) or after
 *   s_store_idle, which waits for the group in flight and answers it. So
 *   the handle is never used by two writers, LMDB's writer mutex is never
 *   waited for by one thread of this process while the other holds it, and
 *   no thread waits for the other while holding map_lock: no lock-order
 *   deadlock. A reload also answers
 *   a staged group first (s_drain): it may close or rebind the socket
 *   those acks go out on.
 * - Failure. The ingest's code comes back with its group; s_answer logs the
 *   same line and answers UNAVAILABLE, as before. The meter, the log and
 *   the stats are the loop's only: the thread measures the ingest's
 *   duration and touches nothing else.
 * - Signals. The handlers only set flags, and the thread blocks the
 *   signals, so they interrupt the loop's poll. On SIGTERM/SIGINT the loop
 *   ends, waits for the group in flight and answers it, then ingests and
 *   answers a staged group too: every batch taken off a ROUTER is answered.
 * - Budget. The staged group keeps filling while the store thread works,
 *   by the same group budget (s_group_open), so every transaction is
 *   bounded as before (collector_budget.h).
 * - No spinning. The ROUTERs are polled only while a group can take more;
 *   with one group in flight and the next full, the loop sleeps on the
 *   eventfd, ZAP and the monitor (enrolment only with none in flight). A
 *   quiet collector sleeps in poll and gives memory back as before
 *   (glci_collector_memory_idle). */

static void *s_ingester_main(void *arg)
{
    s_ingester_t *ing = arg;
    pthread_setname_np(pthread_self(), "glci-store");   /* in top -H, perf, gdb */
    pthread_mutex_lock(&ing->mu);
    for (;;) {
        while (!ing->quit && (!ing->job || ing->done))
            pthread_cond_wait(&ing->cv, &ing->mu);
        if (ing->quit)
            break;
        s_group_t *g = ing->job;
        pthread_mutex_unlock(&ing->mu);
        if (ing->delay_ms > 0)
            nanosleep(&(struct timespec){ing->delay_ms / 1000,
                                         (long)(ing->delay_ms % 1000) * 1000000}, NULL);
        double t0 = s_seconds();
        int rc = glci_store_ingest(ing->st, g->batches, g->nb, (int64_t)time(NULL),
                                   g->results);
        double seconds = s_seconds() - t0;
        pthread_mutex_lock(&ing->mu);
        ing->rc = rc;
        ing->seconds = seconds;
        ing->done = 1;
        /* written under mu with done, and s_collect reads both under mu:
         * it always finds the count and leaves the eventfd empty */
        uint64_t one = 1;
        if (write(ing->efd, &one, sizeof one) != (ssize_t)sizeof one)
            glci_error("internal: store thread cannot wake the loop: %s", strerror(errno));
        pthread_cond_signal(&ing->cv);
    }
    pthread_mutex_unlock(&ing->mu);
    return NULL;
}

/* Starts the store thread with every signal blocked in it. 0, or -1
 * after logging. */
static int s_ingester_start(s_ingester_t *ing, glci_store_t *st, int delay_ms)
{
    ing->st = st;
    ing->delay_ms = delay_ms;
    ing->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ing->efd < 0) {
        glci_error("cannot make the store thread's eventfd: %s", strerror(errno));
        return -1;
    }
    pthread_mutex_init(&ing->mu, NULL);
    pthread_cond_init(&ing->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&ing->thread, NULL, s_ingester_main, ing);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        glci_error("cannot start the store thread: %s", strerror(rc));
        pthread_cond_destroy(&ing->cv);
        pthread_mutex_destroy(&ing->mu);
        return -1;
    }
    ing->started = 1;
    return 0;
}

static void s_ingester_stop(s_ingester_t *ing)
{
    if (ing->started) {
        pthread_mutex_lock(&ing->mu);
        ing->quit = 1;
        pthread_cond_signal(&ing->cv);
        pthread_mutex_unlock(&ing->mu);
        pthread_join(ing->thread, NULL);
        pthread_cond_destroy(&ing->cv);
        pthread_mutex_destroy(&ing->mu);
        ing->started = 0;
    }
    if (ing->efd >= 0)
        close(ing->efd);
    ing->efd = -1;
}

/* The buffer neither in flight nor staged, or NULL. */
static s_group_t *s_free_group(s_daemon_t *d)
{
    for (int i = 0; i < 2; i++)
        if (&d->groups[i] != d->flight && &d->groups[i] != d->staged)
            return &d->groups[i];
    return NULL;
}

/* The group budget of the configuration in use. */
static glci_collector_group_budget_t s_budget(const s_daemon_t *d)
{
    return (glci_collector_group_budget_t){d->cfg.group_max, d->cfg.group_bytes,
                                           d->cfg.group_obs};
}

/* 1 while g may take another message. */
static int s_group_open(const s_daemon_t *d, const s_group_t *g)
{
    glci_collector_group_budget_t budget = s_budget(d);
    return g->n < g->cap && glci_collector_group_open(&g->used, &budget);
}

/* The buffer a round takes into: the staged group while its budget has
 * room (it keeps filling while the store thread works, so the next
 * transaction holds what came meanwhile, not only what was waiting when
 * the last one was handed over), else a free one; NULL when neither. */
static s_group_t *s_taking(s_daemon_t *d)
{
    if (d->staged)
        return s_group_open(d, d->staged) ? d->staged : NULL;
    s_group_t *g = s_free_group(d);
    if (g && g->n == 0)
        s_group_grow(g, d->cfg.group_max);   /* empty: a reload may raise group_max */
    return g;
}

/* Takes what is waiting into g, up to the group budget. */
static void s_take_group(s_daemon_t *d, s_group_t *g)
{
    /* What one frame may cost in the decoder: about 512 bytes per allowed
     * observation plus 1 MiB (the wire layer also caps it at 16x the
     * frame). An honest observation needs under 400. */
    glci_wire_limits_t lim = {d->cfg.batch_max, d->cfg.batch_max * 512 + (1u << 20)};
    if (d->auth)
        glci_collector_auth_round(d->auth);
    /* the data socket, then the previous key's during a rotation: one group,
     * bounded by batches, payload bytes and observations, so one city's
     * flood cannot make a transaction that holds every other city's ack
     * for long (collector_budget.h) */
    glci_collector_msg_t m;
    void *socks[2] = {d->router, d->previous.sock};
    for (int k = 0; k < 2; k++)
        while (socks[k] && s_group_open(d, g) && s_take(d, socks[k], &g->items[g->n], &lim, &m)) {
            s_item_t *it = &g->items[g->n++];
            glci_collector_group_add(&g->used, m.bytes, it->to_store ? it->b.wb->n_obs : 0);
            glci_collector_memory_note(m.bytes);
        }
}

/* The batches of g's good items, for the store: g->nb of them. */
static void s_group_batches(s_group_t *g)
{
    size_t nb = 0;
    for (size_t i = 0; i < g->n; i++) {
        s_item_t *it = &g->items[i];
        if (!it->to_store)
            continue;
        g->batches[nb] = it->batch;   /* city points into the item: items stay put */
        it->slot = nb++;
    }
    g->nb = nb;
}

/* Answers every item of g after its ingest returned rc in seconds (nb 0:
 * nothing was ingested), then empties g. */
static void s_answer(s_daemon_t *d, s_group_t *g, int rc, double seconds)
{
    size_t n = g->n, nb = g->nb;
    if (nb > 0) {
        glci_collector_meter_commit(d->meter, rc, seconds, nb);
        /* A full disk fails every group until room is made: one line a
         * minute. Near the end a small group may still fit between failures,
         * so the episode ends at the first commit a quiet minute after the
         * last failure, not at any success. */
        int64_t now_ms = s_now_ms();
        if (rc != 0) {
            d->ingest_failed_ms = now_ms;
            glci_log_repeat(&d->log_ingest, now_ms, S_LOG_QUIET_MS, GLCI_LOG_ERROR,
                            "store: ingest of %zu batches failed: %s; answered UNAVAILABLE",
                            nb, glci_store_strerror(rc));
        } else if (now_ms - d->ingest_failed_ms >= S_LOG_QUIET_MS) {
            glci_log_repeat_end(&d->log_ingest, now_ms);
        }
    }
    for (size_t i = 0; i < n; i++) {
        s_item_t *it = &g->items[i];
        if (it->to_store) {
            if (rc == 0) {
                const glci_batch_result_t *r = &g->results[it->slot];
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
                if (r->status == GLCI_BATCH_APPLIED && it->b.claimed)
                    s_log_wrong_city(d, it, r);
                if (r->status == GLCI_BATCH_FORBIDDEN)
                    s_log_refused(d, it->city, GLCI_BATCH_FORBIDDEN, "city unknown or revoked",
                                  "batch from %s refused: city unknown or revoked", it->city);
                if (r->status == GLCI_BATCH_DUPLICATE && r->content_differs)
                    glci_log_repeat(&d->log_clash, s_now_ms(), S_LOG_QUIET_MS,
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
        glci_collector_meter_answer(d->meter, &it->ack, it->to_store ? it->b.wb->n_obs : 0);
        s_send_ack(d, it);
    }
    for (size_t i = 0; i < nb; i++)
        glci_batch_result_release(&g->results[i]);
    for (size_t i = 0; i < n; i++) {
        s_item_t *it = &g->items[i];
        glci_wire_ack_release(&it->ack);
        glci_collector_batch_release(&it->b);
        zmq_msg_close(&it->id);
    }
    g->n = g->nb = 0;
    memset(&g->used, 0, sizeof g->used);
}

/* Hands g (nb > 0) to the idle store thread. */
static void s_start(s_daemon_t *d, s_group_t *g)
{
    pthread_mutex_lock(&d->ing.mu);    /* results: zeroed by the ingest */
    d->ing.job = g;
    d->ing.done = 0;
    pthread_cond_signal(&d->ing.cv);
    pthread_mutex_unlock(&d->ing.mu);
    d->flight = g;
}

/* 1 if the group in flight is done: what the eventfd says, asked again
 * when a poll timed out, so that a wake-up the eventfd could not carry
 * (its write failed, and was logged) costs a poll interval, not the
 * collector. */
static int s_flight_done(s_daemon_t *d)
{
    if (!d->flight)
        return 0;
    pthread_mutex_lock(&d->ing.mu);
    int done = d->ing.done;
    pthread_mutex_unlock(&d->ing.mu);
    return done;
}

/* Waits for the group in flight (at once when the eventfd said it is
 * done) and answers it. */
static void s_collect(s_daemon_t *d)
{
    s_group_t *g = d->flight;
    if (!g)
        return;
    pthread_mutex_lock(&d->ing.mu);
    while (!d->ing.done)
        pthread_cond_wait(&d->ing.cv, &d->ing.mu);
    int rc = d->ing.rc;
    double seconds = d->ing.seconds;
    d->ing.job = NULL;
    d->ing.done = 0;
    uint64_t v;
    if (read(d->ing.efd, &v, sizeof v) < 0 && errno != EAGAIN)
        glci_error("internal: cannot read the store thread's eventfd: %s", strerror(errno));
    pthread_mutex_unlock(&d->ing.mu);
    d->flight = NULL;
    s_answer(d, g, rc, seconds);
}

/* The store to this thread alone: the group in flight committed and
 * answered. Called before every store write of the loop (and the key
 * log's gate). */
static void s_store_idle(void *arg)
{
    s_collect(arg);
}

/* Answers the enrolment requests waiting, which write the store: only with
 * no group in flight. While one is, the loop leaves the enrolment ROUTER
 * unpolled (its requests wait in libzmq) and goes on answering handshakes
 * and taking batches; the requests are answered before the next group is
 * handed over (s_dispatch), however the one in flight ended (its eventfd,
 * a gate's s_store_idle, a drain), so a busy collector cannot starve
 * them, and at a stop after the last drain. */
static void s_enrol(s_daemon_t *d, int64_t wall)
{
    if (!d->enrol || d->flight)
        return;
    if (glci_collector_enrol_serve(d->enrol, d->enrolment.sock, wall, s_now_ms()) < 0)
        glci_error("enrol: socket error: %s", zmq_strerror(errno));
}

/* The staged group to the store thread, if it is idle (one with nothing
 * for the store is answered at once). */
static void s_dispatch(s_daemon_t *d)
{
    if (!d->flight && d->staged) {
        s_group_t *g = d->staged;
        d->staged = NULL;
        s_group_batches(g);
        if (g->nb == 0) {
            s_answer(d, g, 0, 0.0);
        } else {
            s_enrol(d, (int64_t)time(NULL));   /* while the store is free */
            s_start(d, g);
        }
    }
}

/* What the loop does with the store only while no group is in flight:
 * the key log's flush when due, the meter's look at the store's space,
 * the periodic reader check. */
static void s_quiet(s_daemon_t *d)
{
    if (d->flight)
        return;
    if (d->keylog)
        glci_collector_keylog_flush(d->keylog, (int64_t)time(NULL), 0);
    glci_collector_meter_tick(d->meter, s_now_ms());
    int64_t now = s_now();
    if (now >= d->next_check) {
        d->next_check = now + S_READER_CHECK_S;
        int cleared = glci_store_reader_check(d->st);
        if (cleared > 0)
            glci_info("store: cleared %d stale reader slots", cleared);
        else if (cleared < 0)
            glci_warn("store: reader check failed: %s", glci_store_strerror(cleared));
    }
}

/* One round: take what is waiting into the staged group or a free
 * buffer; it goes to the store thread now if that is idle, else when it
 * is done with the group in flight. */
static void s_round(s_daemon_t *d)
{
    /* a gate (the key log's, in ZAP) may have collected the group in
     * flight: the staged one goes first, keeping the order */
    s_dispatch(d);
    s_group_t *g = s_taking(d);
    if (!g)
        return;
    s_take_group(d, g);
    if (g->n == 0)
        return;
    d->staged = g;
    s_dispatch(d);
}

/* Every group in hand committed and answered, the store thread idle: at
 * the end of the loop. */
static void s_drain(s_daemon_t *d)
{
    s_store_idle(d);
    s_dispatch(d);
    s_store_idle(d);
}

static int s_same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Appends name to the comma-separated list names when changed, counting
 * it: a reload's warning names the settings that changed, not all that
 * could. */
static void s_name_if(char *names, size_t len, size_t *count, int changed, const char *name)
{
    if (!changed)
        return;
    size_t at = strlen(names);
    snprintf(names + at, len - at, "%s%s", at ? ", " : "", name);
    (*count)++;
}

/* metrics_listen from a reloaded configuration: the server stays when the
 * address is the same, moves when it changed, stops when it was removed. */
static void s_reload_metrics(s_daemon_t *d, const char *metrics_listen)
{
    char err[512];
    if (glci_collector_meter_serve(d->meter, metrics_listen, err, sizeof err) != 0) {
        glci_error("SIGHUP: metrics: %s; metrics_listen stays %s", err,
                   d->metrics_listen ? d->metrics_listen : "unset");
        return;
    }
    if (!s_same_text(metrics_listen, d->metrics_listen)) {
        free(d->metrics_listen);
        d->metrics_listen = metrics_listen ? glci_xstrdup(metrics_listen) : NULL;
    }
}

static void s_reload(s_daemon_t *d)
{
    glci_collector_config_t n;
    char err[512];
    s_reload_keys(d);
    if (!d->args->config) {
        glci_info("SIGHUP: no config file to reload; keys read again");
        return;
    }
    if (glci_collector_config_build(d->args, &n, err, sizeof err) != 0) {
        glci_error("SIGHUP: %s; keeping the running configuration", err);
        return;
    }
    /* The socket options are not set again on the live sockets: libzmq
     * gives each listener a copy of them at bind, so new values would not
     * reach new connections anyway, and setting them while the I/O thread
     * accepts a connection crashed that thread (libzmq 4.3.4, about one
     * reload in six under load). max_message is also checked by the
     * collector on every message, so a lower one holds at once. */
    char names[256] = "";
    size_t count = 0;
    s_name_if(names, sizeof names, &count, n.max_message > d->cfg.max_message,
              "max_message (larger)");
    s_name_if(names, sizeof names, &count, n.sndhwm != d->cfg.sndhwm, "sndhwm");
    s_name_if(names, sizeof names, &count, n.rcvhwm != d->cfg.rcvhwm, "rcvhwm");
    s_name_if(names, sizeof names, &count, n.heartbeat_ivl != d->cfg.heartbeat_ivl,
              "heartbeat_ivl");
    s_name_if(names, sizeof names, &count, n.heartbeat_timeout != d->cfg.heartbeat_timeout,
              "heartbeat_timeout");
    s_name_if(names, sizeof names, &count, n.handshake_ivl != d->cfg.handshake_ivl,
              "handshake_ivl");
    if (count)
        glci_warn("SIGHUP: %s changed; %s the connections only after a restart (a lower "
                  "max_message holds at once)", names, count == 1 ? "reaches" : "reach");
    names[0] = '\0';
    count = 0;
    s_name_if(names, sizeof names, &count, strcmp(n.store, d->cfg.store) != 0, "store");
    s_name_if(names, sizeof names, &count, strcmp(n.listen, d->cfg.listen) != 0, "listen");
    s_name_if(names, sizeof names, &count, strcmp(n.key_file, d->cfg.key_file) != 0,
              "key_file");
    s_name_if(names, sizeof names, &count, n.insecure != d->cfg.insecure, "insecure");
    s_name_if(names, sizeof names, &count, n.map_max != d->cfg.map_max, "map_max");
    s_name_if(names, sizeof names, &count, !s_same_text(n.enrol_listen, d->cfg.enrol_listen),
              "enrol_listen");
    s_name_if(names, sizeof names, &count,
              !s_same_text(n.previous_listen, d->cfg.previous_listen), "previous_listen");
    s_name_if(names, sizeof names, &count,
              strcmp(n.previous_key_file, d->cfg.previous_key_file) != 0, "previous_key_file");
    s_name_if(names, sizeof names, &count, n.refused_max != d->cfg.refused_max, "refused_max");
    if (count)
        glci_warn("SIGHUP: %s changed; %s effect only after a restart", names,
                  count == 1 ? "takes" : "take");
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
    d->cfg.enrol_tries_per_addr = n.enrol_tries_per_addr;
    d->cfg.enrol_tries_total = n.enrol_tries_total;
    d->cfg.enrol_window = n.enrol_window;
    if (d->enrol) {
        glci_collector_enrol_limits_t lim = {(uint32_t)n.enrol_tries_per_addr,
                                             (uint32_t)n.enrol_tries_total, n.enrol_window};
        glci_collector_enrol_set_limits(d->enrol, &lim);
    }
    s_reload_metrics(d, n.metrics_listen);
    glci_collector_config_release(&n);
    glci_info("configuration reloaded (batch_max %zu, group_max %zu, max_message %lld)",
              d->cfg.batch_max, d->cfg.group_max, (long long)d->cfg.max_message);
}

/* The store is there and of a schema this program reads, without a
 * write (glci_collector_run). 0, or the store's code, its line logged. */
static int s_store_look(const char *dir, char *err, size_t errlen)
{
    glci_store_t *st = NULL;
    glci_store_opts_t opts = {GLCI_STORE_RDONLY, 0, 0};
    err[0] = '\0';
    int rc = glci_store_open(dir, &opts, &st, err, errlen);
    if (rc != 0)
        glci_error("%s", err[0] ? err : glci_store_strerror(rc));
    glci_store_close(&st);
    return rc;
}

/* metrics_listen (NULL: none) can be bound now: asked before the store is
 * written, since the server is started only once the store is open. 0, or
 * -1 with the line logged. */
static int s_metrics_free(const char *text)
{
    glci_metrics_listen_t l;
    char err[256];
    if (text && (glci_metrics_listen_parse(text, &l, err, sizeof err) != 0 ||
                 glci_metrics_listen_probe(&l, err, sizeof err) != 0)) {
        glci_error("metrics: %s", err);
        return -1;
    }
    return 0;
}

static void s_store_note(void *arg, const char *line)
{
    (void)arg;
    glci_warn("%s", line);
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

void glci_collector_stats_line(const glci_collector_stats_t *st, int seconds, char *buf,
                               size_t len)
{
    snprintf(buf, len, "last %ds: %llu batch%s applied, %llu observation%s stored, %llu "
             "rejected, %llu batch%s refused", seconds, (unsigned long long)st->batches,
             st->batches == 1 ? "" : "es", (unsigned long long)st->obs,
             st->obs == 1 ? "" : "s", (unsigned long long)st->rejected,
             (unsigned long long)st->refused, st->refused == 1 ? "" : "es");
}

/* A test hook's value from the environment variable name into *out (left
 * as it is when unset). 0, or -1 after logging the one line that names a
 * value that is not a whole number of unit from lo to hi. */
static int s_test_hook(const char *name, long lo, long hi, const char *unit, long *out)
{
    const char *text = getenv(name);
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi) {
        glci_error("%s=%s: not a number of %s from %ld to %ld", name, text, unit, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int glci_collector_run(const glci_collector_args_t *args, const glci_collector_config_t *cfg)
{
    int status = GLCI_COLLECTOR_EXIT_FAIL;
    s_daemon_t d;
    memset(&d, 0, sizeof d);
    char note[160];
    snprintf(note, sizeof note, " [more than %d kinds of refusal within a minute: this line's "
             "count is of all the kinds beyond them]", S_REFUSAL_KINDS);
    d.refusals = glci_log_kinds_new(S_REFUSAL_KINDS, S_LOG_QUIET_MS, note);
    d.args = args;
    d.cfg = *cfg;
    d.lock_fd = -1;
    d.ing.efd = -1;
    s_stop = 0;
    s_hup = 0;
    s_signals();

    char err[512];
    long delay_ms = 0, uses_max = 0;
    if (s_test_hook(S_DELAY_ENV, 0, 60000, "ms", &delay_ms) != 0 ||
        s_test_hook(S_USES_ENV, 1, GLCI_COLLECTOR_KEYLOG_USES_MAX, "keys", &uses_max) != 0)
        goto done;
    glci_collector_memory_init();
    /* Nothing is written to the store before the collector will run: the
     * store is looked at read-only, the lock taken and the addresses bound
     * first, and only then is it opened for writing, which converts a
     * store of an older schema for good. A collector that cannot start
     * leaves the store as it was, for a first-release collector (which
     * takes no lock) that may still run on it. */
    int rc = s_store_look(cfg->store, err, sizeof err);
    if (rc != 0)
        goto done;
    /* before any socket: a second collector binds nothing, answers no one */
    d.lock_fd = glci_collector_lock(cfg->store, NULL, err, sizeof err);
    if (d.lock_fd < 0) {
        glci_error("%s", err);
        goto done;
    }
    if (s_open_sockets(&d) != 0 || s_metrics_free(cfg->metrics_listen) != 0)
        goto done;
    glci_store_opts_t opts = {0, 0, cfg->map_max};
    /* before the open: it opens and closes the store's files */
    glci_store_tighten(cfg->store, s_store_note, NULL);
    rc = glci_store_open(cfg->store, &opts, &d.st, err, sizeof err);
    if (rc != 0) {
        glci_error("%s", err[0] ? err : glci_store_strerror(rc));
        goto done;
    }
    if (glci_store_schema_opened(d.st) != glci_store_schema(d.st))
        glci_info("store upgraded from schema %u to %u", glci_store_schema_opened(d.st),
                  glci_store_schema(d.st));
    /* what --check-config calls a problem and the store could not take
     * away (another owner's), said, though not refused: a deployment that
     * runs keeps running */
    glci_check_t modes = {.program = "glci-collector", .to_log = 1};
    glci_collector_check_modes(&modes, cfg);
    glci_store_set_rejects_keep(d.st, cfg->rejects_keep);
    /* metrics after the ROUTER is bound, so /health is right from the start */
    if (glci_collector_meter_open(d.st, cfg->store, &d.meter, err, sizeof err) != 0 ||
        glci_collector_meter_watch(d.meter, d.ctx, d.router, err, sizeof err) != 0 ||
        glci_collector_meter_serve(d.meter, cfg->metrics_listen, err, sizeof err) != 0) {
        glci_error("metrics: %s", err);
        goto done;
    }
    glci_collector_meter_bound(d.meter, 1);
    d.metrics_listen = cfg->metrics_listen ? glci_xstrdup(cfg->metrics_listen) : NULL;
    if (!d.cfg.insecure) {
        d.auth = glci_collector_auth_new(d.st);
        d.keylog = glci_collector_keylog_new(d.st, d.cfg.refused_max, d.cfg.key_flush);
    }
    if (d.enrolment.sock) {
        glci_collector_enrol_limits_t lim = {(uint32_t)d.cfg.enrol_tries_per_addr,
                                             (uint32_t)d.cfg.enrol_tries_total,
                                             d.cfg.enrol_window};
        d.enrol = glci_collector_enrol_new(d.st, &lim);
    }
    /* what `glci city add --invite` puts into enrolment strings */
    rc = glci_store_collector_put(d.st, d.cfg.listen,
                                  d.cfg.enrol_listen ? d.cfg.enrol_listen : "", NULL);
    if (rc != 0)
        glci_warn("store: cannot record the endpoints for enrolment strings: %s",
                  glci_store_strerror(rc));
    if (d.keylog)
        glci_collector_keylog_gate(d.keylog, s_store_idle, &d);
    if (d.keylog && uses_max > 0) {
        glci_collector_keylog_uses_max(d.keylog, (size_t)uses_max);
        glci_warn("%s=%ld: the key log writes early after %ld distinct keys (a test hook)",
                  S_USES_ENV, uses_max, uses_max);
    }
    if (s_ingester_start(&d.ing, d.st, (int)delay_ms) != 0)
        goto done;
    if (delay_ms > 0)
        glci_warn("%s=%ld: each ingest waits %ld ms first (a test hook)", S_DELAY_ENV, delay_ms,
                  delay_ms);
    if (d.cfg.insecure)
        glci_warn("INSECURE mode: no CURVE, no authentication, the city is taken from "
                  "each batch (tests and demos only)");
    glci_info("listening on %s (%s), store %s", d.cfg.listen,
              d.cfg.insecure ? "insecure" : "CURVE", d.cfg.store);
    if (d.enrolment.sock)
        glci_info("enrolment on %s", d.enrolment.endpoint);
    sd_notify(0, "READY=1");

    d.next_check = s_now() + S_READER_CHECK_S;
    int64_t next_stats = s_now() + S_STATS_S;
    while (!s_stop) {
        /* the ROUTERs while a group can take more, the ZAP handler, the
         * enrolment ROUTER, the data ROUTER's monitor and the store thread's
         * eventfd while a group is in flight; a missing one is an empty slot
         * (poll(2) skips a negative descriptor) */
        s_dispatch(&d);   /* a gate may have left the thread idle */
        void *monitor = glci_collector_meter_socket(d.meter);
        short take = s_taking(&d) ? ZMQ_POLLIN : 0;
        zmq_pollitem_t items[6] = {
            {d.router, 0, take, 0},
            {d.zap, -1, d.zap ? ZMQ_POLLIN : 0, 0},
            {d.enrolment.sock, -1, d.enrolment.sock && !d.flight ? ZMQ_POLLIN : 0, 0},
            {d.previous.sock, -1, d.previous.sock ? take : 0, 0},
            {monitor, -1, monitor ? ZMQ_POLLIN : 0, 0},
            {NULL, d.flight ? d.ing.efd : -1, d.flight ? ZMQ_POLLIN : 0, 0},
        };
        int np = zmq_poll(items, 6, S_POLL_MS);
        if (np < 0 && errno != EINTR) {
            glci_error("poll failed: %s", zmq_strerror(errno));
            goto done;
        }
        int64_t wall = (int64_t)time(NULL);
        if ((np > 0 && (items[5].revents & ZMQ_POLLIN)) || (np == 0 && s_flight_done(&d))) {
            /* group k committed: its acks, the quiet-store work, group
             * k+1 (the enrolments that waited for k first: s_dispatch) */
            s_collect(&d);
            s_quiet(&d);
            s_dispatch(&d);
        }
        if (np > 0 && d.zap && (items[1].revents & ZMQ_POLLIN) &&
            glci_collector_zap_serve(d.zap, d.st, d.keylog, wall, s_now_ms()) < 0)
            glci_error("zap: socket error: %s", zmq_strerror(errno));
        if (np > 0 && ((items[0].revents | items[3].revents) & ZMQ_POLLIN))
            s_round(&d);
        else if (!d.flight && !d.staged)
            glci_collector_memory_idle(s_now_ms());   /* quiet: give memory back */
        if (np > 0 && (items[2].revents & ZMQ_POLLIN) && !d.flight) {
            s_enrol(&d, wall);
            s_dispatch(&d);
        }
        s_quiet(&d);
        if (np > 0 && (items[4].revents & ZMQ_POLLIN))
            glci_collector_meter_events(d.meter);
        glci_log_kinds_tick(d.refusals, s_now_ms());
        s_quiet_logs(&d, s_now_ms(), 0);
        if (d.enrol)
            glci_collector_enrol_tick(d.enrol, s_now_ms());
        if (s_hup) {
            s_hup = 0;
            /* every group in hand answered first: the reload sets the
             * store's rejects_keep, and may close or rebind the sockets
             * a staged group's acks would go out on */
            s_drain(&d);
            s_reload(&d);
        }
        int64_t now = s_now();
        if (now >= next_stats) {
            next_stats = now + S_STATS_S;
            if (d.stats.batches || d.stats.refused) {
                char line[256];
                glci_collector_stats_line(&d.stats, S_STATS_S, line, sizeof line);
                glci_info("%s", line);
            }
            memset(&d.stats, 0, sizeof d.stats);
        }
    }
    s_drain(&d);
    s_enrol(&d, (int64_t)time(NULL));   /* the requests that waited for the drain */
    sd_notify(0, "STOPPING=1");
    glci_info("stopping");
    status = GLCI_COLLECTOR_EXIT_OK;

done:
    if (d.ing.started)
        s_drain(&d);        /* a failed poll too: what was taken is answered */
    s_ingester_stop(&d.ing);
    if (d.meter)
        glci_collector_meter_bound(d.meter, 0);
    glci_collector_meter_close(&d.meter);     /* its server reads the store */
    free(d.metrics_listen);
    s_server_close(&d.previous);
    s_server_close(&d.enrolment);
    if (d.router)
        zmq_close(d.router);
    if (d.zap) {
        int zero = 0;
        zmq_setsockopt(d.zap, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(d.zap);
    }
    if (d.ctx)
        zmq_ctx_term(d.ctx);
    s_quiet_logs(&d, s_now_ms(), 1);           /* the counts still held, printed */
    glci_collector_keylog_free(&d.keylog);     /* the last key events written */
    glci_collector_enrol_free(&d.enrol);
    glci_collector_auth_free(&d.auth);
    glci_store_close(&d.st);
    if (d.lock_fd >= 0)
        close(d.lock_fd);
    for (int i = 0; i < 2; i++) {
        free(d.groups[i].items);
        free(d.groups[i].batches);
        free(d.groups[i].results);
    }
    glci_log_kinds_free(&d.refusals, s_now_ms());    /* the counts still held, printed */
    return status;
}
