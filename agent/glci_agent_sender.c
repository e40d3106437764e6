/* The agent's DEALER and the delivery state machine carried out on it: see
 * glci_agent_sender.h. glci_agent_delivery.c decides what each event asks
 * (a pure table); here each action is one function (s_do_*) on the
 * sockets and the outbox. Every time comes from the step's one clock.
 *
 * Frames: the agent sends one frame, a packed glci.Batch; the collector's
 * ROUTER answers with one frame, a packed glci.Ack. */
#include "glci_agent_sender.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_agent_deadletter.h"
#include "glci_alloc.h"
#include "glci_endpoint.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_log_repeat.h"
#include "glci_monitor.h"
#include "glci_wire.h"

#define S_POLL_OUTBOX_MS 200

struct glci_agent_sender {
    void *zctx;
    void *dealer, *monitor;   /* NULL while REFUSED: the socket is made again at retry_at */
    glci_outbox_t *ob;
    int insecure;
    uint32_t heartbeat_ivl;
    glci_key_t pub, sec, server;                  /* CURVE: this city's pair, the collector's */
    char key_fp[GLCI_KEY_FP_LEN + 1];             /* of pub */
    char server_fp[GLCI_KEY_FP_LEN + 1];          /* of server */
    char city[GLCI_CITY_ID_MAX + 1];
    char endpoint[256];
    char deadletter[GLCI_AGENT_PATH_MAX + 32];
    char spool[GLCI_AGENT_PATH_MAX];
    uint32_t window;
    int64_t ack_timeout_ms;

    glci_delivery_t d;        /* the machine: state, window, pause, suspicion */
    uint64_t stream;
    uint64_t prev_stream;     /* the stream before a move: its late answers are expected */
    uint64_t recover_first;   /* RECOVERING: the first batch the collector asked again */
    int wrong_city_told;      /* the ALARM for a key of another city was logged */
    int64_t next_outbox_poll;
    int64_t last_ack_ms;      /* last ack, or when sending started */
    int64_t backoff_ms;       /* the next pause's base */
    int64_t retry_ms;         /* the next handshake retry's base */
    glci_log_repeat_t log_refused, log_failed;   /* one line per retry step */
    glci_log_repeat_t log_unanswered;   /* handshakes nobody answered */
    int64_t tcp_at;           /* when the last TCP connection was made (-1: none) */
    int64_t down_since;       /* not connected since (0: connected); see s_redial */
    int redialled;            /* dialled again in this outage (logged once) */
    int forbidden;            /* FORBIDDEN answered: a new connection at the pause's end */
    /* RESTREAMING: the answers awaited until clash_deadline, and the batches
     * they show stored (left out of the move). */
    int64_t clash_deadline;
    uint64_t *drop;
    size_t n_drop, cap_drop;
    glci_agent_deadletter_t dead;   /* rows stored in the outbox, not yet in the file */
    char state[32];           /* what status shows */
    int64_t state_since;      /* Unix seconds: since when state has been what it is */
    glci_agent_time_t now;    /* the current step's clock (at open: read once) */
    const glci_agent_metrics_t *metrics;   /* counters of acks and rejections; may be NULL */
    /* The collector's refusals of batches, logged once per pause (every
     * batch of the window gets the same answer; docs/METRICS.md). */
    glci_log_repeat_t log_unavailable, log_refusal;
    /* Connections the collector drops while a batch waits for its answer
     * (one larger than its max_message is dropped so, every time): after
     * S_DROPS_FREE in a row, a wait before dialling again (s_do_dropped). */
    int conn_sent, conn_answered;   /* since the last handshake */
    uint64_t sent_seq;              /* the last batch sent, and its bytes */
    size_t sent_bytes;
    int drops;                      /* dropped in a row without an answer */
    int64_t drop_ms;                /* the next wait's base */
    glci_log_repeat_t log_dropped;
};

/* Reads which acked batches the outbox retains (after every change the
 * sender makes there, and every 200 ms for a reload's pruning). */
static void s_refresh_retained(glci_agent_sender_t *s)
{
    if (glci_outbox_retained_range(s->ob, &s->d.retained_first, &s->d.retained_last) != 0)
        s->d.retained_first = s->d.retained_last = 0;
}

static void s_set_state(glci_agent_sender_t *s, const char *state)
{
    if (strcmp(s->state, state) == 0)
        return;
    snprintf(s->state, sizeof s->state, "%s", state);
    s->state_since = s->now.unix_s;
    int rc = glci_outbox_set_state(s->ob, state, s->now.unix_s);
    if (rc != 0)
        glci_warn("cannot record the connection state in the outbox: %s",
                  glci_outbox_strerror(rc));
}

/* The same with why and when the next try is (a refused handshake):
 * written every time, the detail changing with each try; the state's
 * `since` stays when it is again the same (refused since the first
 * refusal, not since the last try). */
static void s_set_state_detail(glci_agent_sender_t *s, const char *state, const char *detail,
                               int64_t retry_at)
{
    if (strcmp(s->state, state) != 0) {
        snprintf(s->state, sizeof s->state, "%s", state);
        s->state_since = s->now.unix_s;
    }
    int rc = glci_outbox_set_state_detail(s->ob, state, detail, retry_at, s->state_since);
    if (rc != 0)
        glci_warn("cannot record the connection state in the outbox: %s",
                  glci_outbox_strerror(rc));
}

/* 1 for the states an answer of the collector sets (s_on_refusal): they
 * last only until it takes a batch again. */
static int s_state_from_answer(const char *state)
{
    return strcmp(state, "forbidden") == 0 || strcmp(state, "malformed") == 0;
}

static int s_setsockopt_int(void *sock, int opt, int value)
{
    return zmq_setsockopt(sock, opt, &value, sizeof value);
}

/* Closes the DEALER and its monitor (linger 0). */
static void s_socket_close(glci_agent_sender_t *s)
{
    if (s->dealer) {
        zmq_socket_monitor(s->dealer, NULL, 0);
        zmq_close(s->dealer);
        s->dealer = NULL;
    }
    if (s->monitor) {
        zmq_close(s->monitor);
        s->monitor = NULL;
    }
}

/* How long libzmq waits for the collector's greeting and handshake. */
#define S_HANDSHAKE_IVL_MS 10000

/* Makes the DEALER and its monitor and connects: at open, and again after
 * a refused or failed handshake (libzmq will not retry a refused one).
 * 0, or -1 with the message in err. */
static int s_socket_open(glci_agent_sender_t *s, char *err, size_t errlen)
{
    static unsigned s_count;
    char mon_ep[64];
    int rc;
    s->tcp_at = -1;
    s->dealer = zmq_socket(s->zctx, ZMQ_DEALER);
    if (!s->dealer)
        goto zmq_fail;
    rc = s_setsockopt_int(s->dealer, ZMQ_LINGER, 0);
    rc |= s_setsockopt_int(s->dealer, ZMQ_IMMEDIATE, 1);
    rc |= s_setsockopt_int(s->dealer, ZMQ_SNDHWM, (int)s->window + 16);
    rc |= s_setsockopt_int(s->dealer, ZMQ_RCVHWM, (int)s->window * 4 + 64);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HEARTBEAT_IVL, (int)s->heartbeat_ivl);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HEARTBEAT_TIMEOUT, 3 * (int)s->heartbeat_ivl);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HEARTBEAT_TTL, 3 * (int)s->heartbeat_ivl);
    rc |= s_setsockopt_int(s->dealer, ZMQ_RECONNECT_IVL, 100);
    rc |= s_setsockopt_int(s->dealer, ZMQ_RECONNECT_IVL_MAX, 5000);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HANDSHAKE_IVL, S_HANDSHAKE_IVL_MS);
    /* An ack is small; refuse anything huge from a hostile peer. */
    int64_t maxmsg = 4 << 20;
    rc |= zmq_setsockopt(s->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    rc |= glci_endpoint_zmq_family(s->dealer, s->endpoint);
    if (!s->insecure) {
        rc |= zmq_setsockopt(s->dealer, ZMQ_CURVE_SERVERKEY, s->server.z85, GLCI_Z85_KEY_LEN + 1);
        rc |= zmq_setsockopt(s->dealer, ZMQ_CURVE_PUBLICKEY, s->pub.z85, GLCI_Z85_KEY_LEN + 1);
        rc |= zmq_setsockopt(s->dealer, ZMQ_CURVE_SECRETKEY, s->sec.z85, GLCI_Z85_KEY_LEN + 1);
    }
    if (rc != 0)
        goto zmq_fail;

    snprintf(mon_ep, sizeof mon_ep, "inproc://glci-agent-monitor-%u", s_count++);
    if (zmq_socket_monitor(s->dealer, mon_ep,
                           ZMQ_EVENT_CONNECTED |
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        goto zmq_fail;
    s->monitor = zmq_socket(s->zctx, ZMQ_PAIR);
    if (!s->monitor || s_setsockopt_int(s->monitor, ZMQ_LINGER, 0) != 0 ||
        zmq_connect(s->monitor, mon_ep) != 0)
        goto zmq_fail;
    if (zmq_connect(s->dealer, s->endpoint) != 0) {
        snprintf(err, errlen, "collector endpoint '%s': %s", s->endpoint,
                 zmq_strerror(zmq_errno()));
        s_socket_close(s);
        return -1;
    }
    return 0;

zmq_fail:
    snprintf(err, errlen, "cannot set up the connection to %s: %s", s->endpoint,
             zmq_strerror(zmq_errno()));
    s_socket_close(s);
    return -1;
}

int glci_agent_sender_open(const glci_agent_config_t *cfg, glci_outbox_t *ob,
                           void *zctx, const char *deadletter,
                           glci_agent_sender_t **out, char *err, size_t errlen)
{
    glci_agent_sender_t *s = NULL;

    *out = NULL;
    if (cfg->insecure && !glci_agent_endpoint_is_local(cfg->collector)) {
        snprintf(err, errlen, "insecure mode refuses collector endpoint '%s': only "
                 "loopback or ipc:// is allowed", cfg->collector);
        return GLCI_AGENT_EUSAGE;
    }
    s = glci_xcalloc(1, sizeof *s);
    if (!cfg->insecure) {
        if (glci_keyfile_read(cfg->key_file, &s->pub, &s->sec, err, errlen) != 0 ||
            glci_key_from_text_or_file(cfg->collector_key, &s->server, err, errlen) != 0) {
            sodium_memzero(s, sizeof *s);
            free(s);
            return GLCI_AGENT_EKEY;
        }
        glci_key_fingerprint(&s->pub, s->key_fp);
        glci_key_fingerprint(&s->server, s->server_fp);
    }
    s->zctx = zctx;
    s->insecure = cfg->insecure;
    s->heartbeat_ivl = cfg->heartbeat_ivl;
    s->ob = ob;
    snprintf(s->city, sizeof s->city, "%s", cfg->city);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", cfg->collector);
    snprintf(s->deadletter, sizeof s->deadletter, "%s", deadletter);
    snprintf(s->spool, sizeof s->spool, "%s", cfg->spool);
    s->stream = glci_outbox_stream(ob);
    s->window = cfg->window;
    s->ack_timeout_ms = 4 * (int64_t)cfg->heartbeat_ivl + 10000;
    s->backoff_ms = GLCI_DELIVERY_BACKOFF_MIN_MS;
    s->retry_ms = GLCI_DELIVERY_RETRY_MIN_MS;
    s->drop_ms = GLCI_DELIVERY_BACKOFF_MIN_MS;

    if (s_socket_open(s, err, errlen) != 0) {
        int usage = strncmp(err, "collector endpoint", 18) == 0;
        glci_agent_sender_close(&s);
        return usage ? GLCI_AGENT_EUSAGE : GLCI_AGENT_ENET;
    }

    /* the keys in use, for status: a reload that refuses a changed key
     * file keeps these */
    int krc = glci_outbox_set_keys(ob, s->insecure ? "" : s->pub.z85,
                                   s->insecure ? "" : s->server.z85);
    if (krc != 0) {
        /* the keys of the connection before are not these: none is
         * better than those (status shows the files configured then) */
        glci_outbox_set_keys(ob, "", "");
        glci_warn("cannot record the keys in use in outbox for status: %s",
                  glci_outbox_strerror(krc));
    }

    if (glci_outbox_next_seq(ob, &s->d.head) != 0 ||
        glci_outbox_first_seq(ob, &s->d.base) != 0)
        s->d.base = s->d.head;
    s_refresh_retained(s);
    s->d.next_send = s->d.base;
    s->d.state = GLCI_DELIVERY_DISCONNECTED;
    s->now = glci_agent_time_now();
    s->down_since = s->now.ms;
    s->dead.pending = 1;               /* left by an earlier run? the first step looks */
    s->state[0] = '\0';
    s_set_state(s, "connecting");
    *out = s;
    return GLCI_AGENT_OK;
}

void glci_agent_sender_close(glci_agent_sender_t **self)
{
    if (!self || !*self)
        return;
    glci_agent_sender_t *s = *self;
    s_socket_close(s);
    free(s->drop);
    sodium_memzero(s, sizeof *s);
    free(s);
    *self = NULL;
}

void glci_agent_sender_poll_items(glci_agent_sender_t *s, zmq_pollitem_t *items)
{
    memset(items, 0, GLCI_AGENT_SENDER_NPOLL * sizeof *items);
    /* no socket while refused: poll(2) skips a negative descriptor */
    for (int i = 0; i < GLCI_AGENT_SENDER_NPOLL; i++) {
        items[i].socket = i == 0 ? s->dealer : s->monitor;
        items[i].fd = -1;
        items[i].events = items[i].socket ? ZMQ_POLLIN : 0;
    }
}

int glci_agent_sender_connected(const glci_agent_sender_t *s)
{
    return s->d.state != GLCI_DELIVERY_DISCONNECTED && s->d.state != GLCI_DELIVERY_REFUSED;
}

glci_delivery_state_t glci_agent_sender_state(const glci_agent_sender_t *s)
{
    return s->d.state;
}

const char *glci_agent_sender_state_word(const glci_agent_sender_t *s)
{
    return s->state;
}

void glci_agent_sender_set_metrics(glci_agent_sender_t *s, const glci_agent_metrics_t *m)
{
    s->metrics = m;
}

void glci_agent_sender_kick(glci_agent_sender_t *s)
{
    s->next_outbox_poll = 0;
}


/* The rejected observations an APPLIED ack names, as dead letters: their
 * rows read from batch ack->seq, the collector's message and the time now
 * (Unix seconds).
 * *out (caller frees with s_dead_free) receives *n rows (0 if the batch is
 * gone). Returns 0, or -1 if the batch cannot be read. */
typedef struct {
    glci_outbox_batch_t *batch;
    glci_outbox_dead_t *rows;
    char (*text)[GLCI_REJECT_MESSAGE_MAX + 1];
    size_t n;
    char origin[GLCI_OUTBOX_ORIGIN_MAX + 1];    /* the spool file, "" unknown */
} s_dead_t;

/* Where batch seq came from (the spool file's path in done/) into out, ""
 * when unknown: its dead letters also go beside that file. */
static void s_origin(glci_agent_sender_t *s, uint64_t seq, char *out, size_t len)
{
    int rc = glci_outbox_origin(s->ob, seq, out, len);
    if (rc != 1) {
        if (rc < 0)
            glci_warn("cannot look up where batch %llu came from: %s",
                      (unsigned long long)seq, glci_outbox_strerror(rc));
        out[0] = '\0';
    }
}

static void s_dead_free(s_dead_t *d)
{
    free(d->text);
    free(d->rows);
    glci_outbox_batch_free(&d->batch);
    memset(d, 0, sizeof *d);
}

static int s_dead_rows(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now,
                       s_dead_t *d)
{
    memset(d, 0, sizeof *d);
    int rc = glci_outbox_read(s->ob, ack->seq, &d->batch);
    if (rc != 0) {
        if (rc == GLCI_OUTBOX_ENOENT)
            return 0;
        glci_error("cannot read batch %llu for its rejected observations: %s",
                   (unsigned long long)ack->seq, glci_outbox_strerror(rc));
        return -1;
    }
    d->rows = glci_xcalloc(ack->n_rejections, sizeof *d->rows);
    d->text = glci_xcalloc(ack->n_rejections, sizeof *d->text);
    s_origin(s, ack->seq, d->origin, sizeof d->origin);
    for (size_t i = 0; i < ack->n_rejections; i++) {
        const glci_rejection_t *r = &ack->rejections[i];
        if (r->index >= d->batch->n_obs)
            continue;
        d->rows[d->n].obs = d->batch->obs[r->index];
        snprintf(d->text[d->n], sizeof d->text[d->n], "%s",
                 r->message[0] ? r->message : "rejected");
        d->rows[d->n].reason = d->text[d->n];
        d->rows[d->n].at = now;
        d->rows[d->n].origin = d->origin;
        d->n++;
    }
    return 0;
}

/* MALFORMED for batch base: permanent for that batch (PROTOCOL.md: never
 * resend as is). In one transaction (glci_outbox_quarantine_dead) its rows
 * are stored as dead letters with the collector's error, its record moves
 * to the quarantine table, and an empty batch takes its number, so the
 * collector's mark moves past it and delivery goes on with the next batch
 * on the same stream; the rows reach the dead-letter file at the next
 * flush. 1 done, 0 not (the caller backs off and keeps it). */
static int s_malformed(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    glci_outbox_batch_t *b = NULL;
    if (ack->seq != s->d.base || glci_outbox_read(s->ob, ack->seq, &b) != 0)
        return 0;
    if (b->n_obs == 0) {                /* nothing left to refuse: keep backing off */
        glci_outbox_batch_free(&b);
        return 0;
    }
    char why[sizeof ack->error + 64];
    snprintf(why, sizeof why, "batch refused as malformed: %s",
             ack->error[0] ? ack->error : "(no detail)");
    size_t n = b->n_obs;
    glci_outbox_dead_t *rows = glci_xcalloc(n, sizeof *rows);
    char origin[GLCI_OUTBOX_ORIGIN_MAX + 1];
    s_origin(s, ack->seq, origin, sizeof origin);
    for (size_t i = 0; i < n; i++) {
        rows[i].obs = b->obs[i];
        rows[i].reason = why;
        rows[i].at = now;
        rows[i].origin = origin;
    }
    int done = 0;
    int rc = glci_outbox_quarantine_dead(s->ob, ack->seq, now, rows, n);
    if (rc != 0) {
        glci_error("cannot quarantine batch %llu: %s", (unsigned long long)ack->seq,
                   glci_outbox_strerror(rc));
    } else {
        glci_error("ALARM: the collector refused batch %llu of stream %016llx as "
                   "malformed (%s): its %zu observation%s go to %s and the batch to "
                   "quarantine; an empty batch takes its number and delivery goes on",
                   (unsigned long long)ack->seq, (unsigned long long)s->stream,
                   ack->error[0] ? ack->error : "no detail", n, n == 1 ? "" : "s",
                   s->deadletter);
        glci_agent_deadletter_stored(&s->dead);
        done = 1;
    }
    free(rows);
    glci_outbox_batch_free(&b);
    return done;
}

enum { S_SENT = 1, S_SENT_WOULD_BLOCK = 0, S_SENT_GONE = 2 };

/* Reads retained batch seq, which the collector lost after acknowledging
 * it. One found corrupt can never be resent: it is dropped with every
 * retained batch below it, so the collector's next GAP names a batch no
 * longer retained and the loss is reported (REBASE). ENOENT when it is
 * gone (pruned meanwhile: the same follows). */
static int s_read_retained(glci_agent_sender_t *s, uint64_t seq, glci_outbox_batch_t **b)
{
    int rc = glci_outbox_retained_read(s->ob, seq, b);
    if (rc == GLCI_OUTBOX_ECORRUPT) {
        glci_error("ALARM: retained batch %llu of stream %016llx is corrupt and cannot be "
                   "sent again; it and the retained batches before it are dropped",
                   (unsigned long long)seq, (unsigned long long)s->stream);
        if (glci_outbox_retained_drop(s->ob, seq, NULL) != 0)
            glci_error("cannot drop the corrupt retained batch %llu", (unsigned long long)seq);
        rc = GLCI_OUTBOX_ENOENT;
    }
    if (rc == GLCI_OUTBOX_ENOENT)
        s_refresh_retained(s);
    return rc;
}

/* Sends one batch: S_SENT, S_SENT_WOULD_BLOCK (the socket is full),
 * S_SENT_GONE (acked meanwhile: no such batch), or a negative agent code.
 * A batch below base was acked and is sent again from the retained table. */
static int s_send(glci_agent_sender_t *s, uint64_t seq, int64_t now)
{
    glci_outbox_batch_t *b = NULL;
    int rc = seq < s->d.base ? s_read_retained(s, seq, &b) : glci_outbox_read(s->ob, seq, &b);
    if (rc == GLCI_OUTBOX_ECORRUPT && seq >= s->d.base) {
        glci_error("ALARM: outbox batch %llu is corrupt; its record is moved to the "
                   "quarantine table and an empty batch takes its number",
                   (unsigned long long)seq);
        rc = glci_outbox_quarantine(s->ob, seq, now);
        if (rc == 0)
            rc = glci_outbox_read(s->ob, seq, &b);
    }
    if (rc == GLCI_OUTBOX_ENOENT)
        return S_SENT_GONE;
    if (rc != 0) {
        glci_error("cannot read batch %llu from the outbox: %s", (unsigned long long)seq,
                   glci_outbox_strerror(rc));
        return GLCI_AGENT_EOUTBOX;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    rc = glci_wire_batch_pack(s->stream, seq, s->city, b->obs, b->n_obs, &buf, &len);
    glci_outbox_batch_free(&b);
    if (rc != 0) {
        glci_error("cannot pack batch %llu: %s", (unsigned long long)seq,
                   glci_wire_strerror(rc));
        return GLCI_AGENT_EOUTBOX;
    }
    int n = zmq_send(s->dealer, buf, len, ZMQ_DONTWAIT);
    int e = zmq_errno();
    free(buf);
    if (n < 0)
        return e == EAGAIN ? S_SENT_WOULD_BLOCK : GLCI_AGENT_ENET;
    s->conn_sent = 1;
    s->sent_seq = seq;
    s->sent_bytes = len;
    return S_SENT;
}

/* ---- the transitions: one function per action of the decision table -- */

/* The pause after a refusal: resend from the restart point once it is over
 * (a resend of retained batches stops; the collector asks again). */
static void s_do_pause(glci_agent_sender_t *s, int64_t now)
{
    s->d.next_send = glci_delivery_restart(&s->d);
    s->d.gap_target = 0;
    if (glci_agent_backoff(&s->backoff_ms, &s->d.pause_until, now, randombytes_random()))
        glci_warn("pausing delivery for %lld ms", (long long)(s->d.pause_until - now));
    if (s->d.state != GLCI_DELIVERY_DISCONNECTED)
        s->d.state = GLCI_DELIVERY_PAUSED;
}

/* The state a connection sends in: lost batches still suspected, or not. */
static glci_delivery_state_t s_sending_state(const glci_agent_sender_t *s)
{
    return s->d.lost_since ? GLCI_DELIVERY_SUSPECT_LOSS : GLCI_DELIVERY_SENDING;
}

static void s_do_rebuild(glci_agent_sender_t *s);

/* The pause is over. After a FORBIDDEN the connection is made again: the
 * collector answers FORBIDDEN on a connection it admitted before the city
 * was revoked or the key removed, and only a new handshake lets its ZAP
 * handler refuse the key (remembered in glci keys refused; this agent
 * REFUSED, retrying with its backoff) or, reinstated meanwhile, admit it. */
static void s_do_resume(glci_agent_sender_t *s)
{
    if (s->forbidden && s->dealer) {
        s->forbidden = 0;
        glci_info("reconnecting to %s: the collector forbids this connection's batches; a "
                  "new handshake shows whether it still takes this agent's key", s->endpoint);
        s_socket_close(s);
        s_do_rebuild(s);
        return;
    }
    s->d.state = s_sending_state(s);
}

/* The resend of retained batches is over: the collector holds every batch
 * below base again. */
static void s_recovered(glci_agent_sender_t *s)
{
    glci_info("the collector holds batches %llu..%llu of stream %016llx again, resent from "
              "the retained batches", (unsigned long long)s->recover_first,
              (unsigned long long)(s->d.base - 1), (unsigned long long)s->stream);
    s->d.state = s_sending_state(s);
    s->d.floor = 0;
    s->recover_first = 0;
    s_set_state(s, "connected");
}

/* Back to the oldest batch; while recovering, to the oldest the collector
 * has not confirmed again, unless a GAP at or above base shows it holds
 * them all. */
static void s_do_rewind(glci_agent_sender_t *s, uint64_t target, int64_t now, int timeout)
{
    uint64_t from = s->d.base;
    if (s->d.state == GLCI_DELIVERY_RECOVERING) {
        if (target >= s->d.base)
            s_recovered(s);
        else
            from = s->d.floor;
    }
    if (timeout) {
        glci_warn("no ack for %lld ms; resending from batch %llu",
                  (long long)(now - s->last_ack_ms), (unsigned long long)from);
        s->last_ack_ms = now;
    }
    s->d.next_send = from;
    s->d.gap_target = target;
}

/* The collector lost batches from `from` that it had acknowledged (its
 * store restored from an older backup) and this outbox retains them all:
 * they are sent again from there on the same stream, the window counting
 * from the floor, so the store ends as it was before the loss. Logged and
 * noted for `status` once per request (not for the GAPs of the batches
 * that were in flight). */
static void s_do_recover(glci_agent_sender_t *s, uint64_t from, int64_t now)
{
    uint64_t last = s->d.base - 1;
    glci_warn("the collector lost batches %llu..%llu of stream %016llx after acknowledging "
              "them (was its store restored from an older backup?); sending them again from "
              "the retained batches", (unsigned long long)from, (unsigned long long)last,
              (unsigned long long)s->stream);
    int rc = glci_outbox_note_resend(s->ob, from, last, s->now.unix_s);
    if (rc != 0)
        glci_warn("cannot record the resend in the outbox: %s", glci_outbox_strerror(rc));
    s->d.state = GLCI_DELIVERY_RECOVERING;
    s->d.floor = from;
    s->d.next_send = from;
    s->d.gap_target = from;
    s->d.lost_since = 0;
    s->recover_first = from;
    s->last_ack_ms = now;
    s_set_state(s, "recovering");
}

static void s_do_connect(glci_agent_sender_t *s, uint64_t from, int64_t now)
{
    /* the refusals that were only counted are summed up first */
    glci_log_repeat_end(&s->log_refused, now);
    glci_log_repeat_end(&s->log_failed, now);
    glci_log_repeat_end(&s->log_unanswered, now);
    s->retry_ms = GLCI_DELIVERY_RETRY_MIN_MS;
    s->d.retry_at = 0;
    glci_info("connected to %s; resending from batch %llu%s", s->endpoint,
              (unsigned long long)from, from < s->d.base ? " (retained: does the collector "
              "still hold it?)" : "");
    s->d.state = now < s->d.pause_until ? GLCI_DELIVERY_PAUSED : s_sending_state(s);
    s->d.floor = 0;
    s->d.next_send = from;
    s->d.gap_target = 0;
    s->last_ack_ms = now;
    s->down_since = 0;
    s->redialled = 0;
    s->forbidden = 0;
    s->conn_sent = s->conn_answered = 0;
    s_set_state(s, "connected");
}

/* Closes the socket and sets the wait before a new one: a jittered delay
 * from *backoff_ms, which doubles up to max_ms. Returns the wait in ms. */
static int64_t s_close_and_wait(glci_agent_sender_t *s, int64_t *backoff_ms, int64_t max_ms,
                                int64_t now)
{
    s_socket_close(s);
    int64_t until = 0;
    glci_agent_backoff_capped(backoff_ms, &until, now, randombytes_random(), max_ms);
    s->d.state = GLCI_DELIVERY_REFUSED;
    s->d.retry_at = until;
    s->d.next_send = s->d.base;
    s->n_drop = 0;
    return until - now;
}

/* The collector dropped the connection again while batch sent_seq waited
 * for its answer, with no answer on it: libzmq would dial again at once and
 * the same batch would be dropped again, ten times a second. So the socket
 * is closed and made again at retry_at, after a jittered wait doubling from
 * 1 s to 10 s, logged once per wait; an answer ends it. The first
 * S_DROPS_FREE drops in a row dial at once (a collector restarted while a
 * batch was on its way is reached again without a wait). */
#define S_DROPS_FREE 2
#define S_DROP_WAIT_MAX_MS 10000
static void s_do_dropped(glci_agent_sender_t *s, int64_t now)
{
    int64_t wait_ms = s_close_and_wait(s, &s->drop_ms, S_DROP_WAIT_MAX_MS, now);
    if (!s->down_since)
        s->down_since = now;
    char detail[256];
    snprintf(detail, sizeof detail, "the collector dropped the connection %d times in a row "
             "after batch %llu (%zu bytes) was sent, without an answer", s->drops,
             (unsigned long long)s->sent_seq, s->sent_bytes);
    glci_log_repeat(&s->log_dropped, now, wait_ms, GLCI_LOG_ERROR,
                    "%s: the collector at %s drops a connection whose message is larger than "
                    "its max_message (is batch %llu larger?), or it is restarting; next try "
                    "in %lld s", detail, s->endpoint, (unsigned long long)s->sent_seq,
                    (long long)((wait_ms + 999) / 1000));
    s_set_state_detail(s, "disconnected", detail, s->now.unix_s + (wait_ms + 999) / 1000);
}

static void s_do_disconnect(glci_agent_sender_t *s)
{
    if (s->d.state != GLCI_DELIVERY_DISCONNECTED && s->conn_sent && !s->conn_answered &&
        ++s->drops > S_DROPS_FREE) {
        s_do_dropped(s, s->now.ms);
        return;
    }
    if (s->d.state != GLCI_DELIVERY_DISCONNECTED)
        glci_warn("lost the connection to %s; reconnecting", s->endpoint);
    s->d.state = GLCI_DELIVERY_DISCONNECTED;
    s->d.next_send = s->d.base;
    s->n_drop = 0;                 /* answers lost: resending from base asks again */
    if (!s->down_since)
        s->down_since = s->now.ms;
    s_set_state(s, "disconnected");
}

/* A refused handshake (the collector does not know this agent's key, or
 * its city is revoked) or a failed one (the collector's key is not the one
 * configured, or something else answers there): libzmq gives up on the
 * first and retries the second every few hundred milliseconds, so the
 * socket is closed either way and made again at retry_at, after a
 * jittered wait doubling from 1 s to 5 minutes. Logged once per wait
 * (glci_log_repeat); `status` shows the reason and the next try. */
static void s_do_handshake_fail(glci_agent_sender_t *s, glci_delivery_event_kind_t kind,
                                int64_t now)
{
    int64_t wait_ms = s_close_and_wait(s, &s->retry_ms, GLCI_DELIVERY_RETRY_MAX_MS, now);
    char detail[256];
    if (kind == GLCI_DEV_HANDSHAKE_REFUSED) {
        snprintf(detail, sizeof detail, "the collector refused this agent's key %s (not "
                 "registered, or the city is revoked)", s->key_fp);
        glci_log_repeat(&s->log_refused, now, wait_ms, GLCI_LOG_ERROR,
                        "the collector at %s refused this agent's key %s (not registered, "
                        "or the city is revoked); next try in %lld s", s->endpoint, s->key_fp,
                        (long long)((wait_ms + 999) / 1000));
        s_set_state_detail(s, "refused", detail, s->now.unix_s + (wait_ms + 999) / 1000);
    } else {
        /* insecure: no key of the collector's was given, so none is wrong */
        char why[160];
        if (s->server_fp[0])
            snprintf(why, sizeof why, "key is not %s (collector_key)", s->server_fp);
        else
            snprintf(why, sizeof why, "handshake needs CURVE, and this agent runs insecure");
        snprintf(detail, sizeof detail, "the handshake with the collector failed: its %s, or no "
                 "glci collector answers there", why);
        glci_log_repeat(&s->log_failed, now, wait_ms, GLCI_LOG_ERROR,
                        "handshake with %s failed: the collector's %s, or no glci collector "
                        "answers there; next try in %lld s", s->endpoint, why,
                        (long long)((wait_ms + 999) / 1000));
        s_set_state_detail(s, "handshake-failed", detail,
                           s->now.unix_s + (wait_ms + 999) / 1000);
    }
}

/* The wait after a refused handshake is over: a new socket connects. The
 * state `status` shows stays until the handshake's outcome is known. */
static void s_do_rebuild(glci_agent_sender_t *s)
{
    char err[512];
    s->d.state = GLCI_DELIVERY_DISCONNECTED;
    if (!s->down_since)
        s->down_since = s->now.ms;
    if (s_socket_open(s, err, sizeof err) != 0) {
        /* as a failed handshake: wait, then try again */
        glci_error("%s", err);
        s_do_handshake_fail(s, GLCI_DEV_HANDSHAKE_FAILED, s->now.ms);
    }
}

/* After a move onto a new stream (a rebase or a clash), from batch 1 of it:
 * the one reset of the window both moves share. A rebase puts the retained
 * batches first (1..retained), which the collector has not seen under the
 * new stream: they are resent (RECOVERING from 1), then the kept ones. */
static void s_enter_stream(glci_agent_sender_t *s, uint64_t new_stream, uint64_t retained,
                           uint64_t kept, int64_t now)
{
    s->prev_stream = s->stream;
    s->stream = new_stream;
    s->d.base = retained + 1;
    s->d.head = retained + kept + 1;
    s->d.retained_first = retained ? 1 : 0;
    s->d.retained_last = retained;
    s->d.next_send = 1;
    s->d.gap_target = 0;
    s->d.lost_since = 0;
    s->d.pause_until = 0;
    s->d.floor = 0;
    s->last_ack_ms = now;
    s->next_outbox_poll = 0;
    if (s->d.state == GLCI_DELIVERY_DISCONNECTED) {
        s->d.next_send = s->d.base;    /* the connection's resend asks the collector */
        return;
    }
    s->d.state = GLCI_DELIVERY_SENDING;
    if (retained) {
        s->d.state = GLCI_DELIVERY_RECOVERING;
        s->d.floor = 1;
        s->recover_first = 1;
        int rc = glci_outbox_note_resend(s->ob, 1, retained, s->now.unix_s);
        if (rc != 0)
            glci_warn("cannot record the resend in the outbox: %s", glci_outbox_strerror(rc));
        s_set_state(s, "recovering");
    }
}

/* An ack recorded. again: it answers a batch sent again from the retained
 * ones (a resend after a loss, or the probe applied), which the outbox
 * records as an ack (its time is status' and the metric's last ack) though
 * it deletes nothing. */
static int s_do_record_ack(glci_agent_sender_t *s, uint64_t acked, const s_dead_t *dead,
                           int again, const glci_agent_time_t *now)
{
    size_t n_dead = dead ? dead->n : 0;
    if (acked >= s->d.head) {
        uint64_t next = s->d.head;
        glci_outbox_next_seq(s->ob, &next);
        s->d.head = next;
        if (acked >= next) {
            glci_error("the collector acknowledges batch %llu of stream %016llx, but this "
                       "outbox has stored only up to %llu (was the outbox restored from a "
                       "copy?); batches up to it count as delivered",
                       (unsigned long long)acked, (unsigned long long)s->stream,
                       (unsigned long long)(next - 1));
        }
    }
    s->backoff_ms = GLCI_DELIVERY_BACKOFF_MIN_MS;
    if (acked + 1 >= s->d.base) {
        s->d.lost_since = 0;       /* the collector holds what it acked */
        if (s->d.state == GLCI_DELIVERY_SUSPECT_LOSS)
            s->d.state = GLCI_DELIVERY_SENDING;
    }
    if (s->d.state == GLCI_DELIVERY_RECOVERING && acked + 1 > s->d.floor) {
        s->d.floor = acked + 1;    /* confirmed again up to acked */
        s->last_ack_ms = now->ms;
        again = 1;
        if (s->d.floor >= s->d.base)
            s_recovered(s);
    }
    if (acked < s->d.base && n_dead == 0 && !again)
        return GLCI_AGENT_OK;
    size_t gone = 0;
    int rc = glci_outbox_ack_dead(s->ob, acked, now->unix_s, n_dead ? dead->rows : NULL,
                                  n_dead, &gone);
    if (rc != 0) {
        glci_error("cannot record the ack of batch %llu in the outbox: %s",
                   (unsigned long long)acked, glci_outbox_strerror(rc));
        return GLCI_AGENT_EOUTBOX;
    }
    if (s->metrics)
        glci_counter_add(s->metrics->batches_acked, 0, gone);
    glci_log_repeat_end(&s->log_unavailable, now->ms);
    glci_log_repeat_end(&s->log_refusal, now->ms);
    if (n_dead) {
        glci_warn("batch %llu: %zu observation%s rejected by the collector (kept as dead "
                  "letters for %s)", (unsigned long long)dead->batch->seq, n_dead,
                  n_dead == 1 ? "" : "s", s->deadletter);
        glci_agent_deadletter_stored(&s->dead);
    }
    if (acked + 1 > s->d.base)
        s->d.base = acked + 1;
    s_refresh_retained(s);         /* the ack retained these and may have pruned */
    if (s->d.next_send < glci_delivery_floor(&s->d))
        s->d.next_send = glci_delivery_floor(&s->d);
    s->last_ack_ms = now->ms;
    return GLCI_AGENT_OK;
}

/* An applied batch whose observations were rejected because this agent's
 * key belongs to another city than its `city` setting names: the rows go
 * to the dead-letter file like any rejected ones and delivery goes on (the
 * stream's mark moved, so nothing is sent twice); the ALARM says once per
 * run what to fix. */
static void s_wrong_city(glci_agent_sender_t *s, const glci_wire_ack_t *ack)
{
    if (s->wrong_city_told)
        return;
    for (size_t i = 0; i < ack->n_rejections; i++) {
        if (ack->rejections[i].reason != GLCI_REJECT_WRONG_CITY)
            continue;
        glci_error("ALARM: the collector rejected the observations of batch %llu: %s. This "
                   "agent's city setting is '%s' but its key is registered to another city; "
                   "the rows go to %s. Set city to the key's city (or use that city's key) "
                   "and deliver them again", (unsigned long long)ack->seq,
                   ack->rejections[i].message, s->city, s->deadletter);
        s->wrong_city_told = 1;
        /* the outbox took its city from that setting: forgotten, so the
         * corrected setting is the one recorded (docs/AGENT.md) */
        int rc = glci_outbox_set_city(s->ob, "");
        if (rc != 0)
            glci_warn("cannot forget the outbox's city: %s", glci_outbox_strerror(rc));
        return;
    }
}

/* An APPLIED answer for a retained batch outside a resend: the probe
 * (the newest retained batch, sent at a connection with nothing
 * undelivered) was applied, so the collector had lost that batch after
 * acknowledging it, its store restored from a backup taken just before.
 * Logged and noted for `status` like a resend (s_do_recover), which it
 * is, of one batch. Returns 1 then, else 0. */
static int s_probe_applied(glci_agent_sender_t *s, const glci_wire_ack_t *ack)
{
    if (ack->status != GLCI_BATCH_APPLIED || ack->stream != s->stream ||
        ack->seq >= s->d.base || !s->d.retained_first || ack->seq < s->d.retained_first ||
        s->d.state == GLCI_DELIVERY_RECOVERING)
        return 0;
    glci_warn("the collector lost batches %llu..%llu of stream %016llx after acknowledging "
              "them (was its store restored from an older backup?); sent again from the "
              "retained batches, they are applied again", (unsigned long long)ack->seq,
              (unsigned long long)ack->seq, (unsigned long long)s->stream);
    int rc = glci_outbox_note_resend(s->ob, ack->seq, ack->seq, s->now.unix_s);
    if (rc != 0)
        glci_warn("cannot record the resend in the outbox: %s", glci_outbox_strerror(rc));
    return 1;
}

/* An ACK or DUPLICATE: the ack recorded with the rejected rows of an
 * APPLIED batch, which are stored in its transaction (the dead-letter file
 * is written afterwards). */
static int s_on_record(glci_agent_sender_t *s, const glci_wire_ack_t *ack, uint64_t upto,
                       const glci_agent_time_t *now)
{
    s_dead_t dead = {0};
    if (ack->status == GLCI_BATCH_APPLIED && ack->n_rejections > 0 &&
        s_dead_rows(s, ack, now->unix_s, &dead) != 0) {
        s_do_pause(s, now->ms);        /* the batch cannot be read: keep it, ask again */
        return GLCI_AGENT_OK;
    }
    if (ack->status == GLCI_BATCH_APPLIED)
        s_wrong_city(s, ack);
    int again = s_probe_applied(s, ack);
    int rc = s_do_record_ack(s, upto, &dead, again, now);
    /* the collector takes this agent's batches again: a refusal of an
     * earlier answer is over (the connection never dropped, so nothing
     * else would say so) */
    if (rc == 0 && glci_agent_sender_connected(s) && s_state_from_answer(s->state))
        s_set_state(s, "connected");
    /* the metric counts what status counts: the rows stored as dead
     * letters. A batch no longer in the outbox (a retained one resent
     * after a restore, a repeated answer) was counted when first acked. */
    if (rc == 0 && s->metrics && ack->status == GLCI_BATCH_APPLIED && dead.batch)
        for (size_t i = 0; i < ack->n_rejections; i++) {
            size_t child = GLCI_MC_REJECT(ack->rejections[i].reason);
            if (ack->rejections[i].reason != GLCI_REJECT_NONE && child < GLCI_MC_REJECT_N &&
                ack->rejections[i].index < dead.batch->n_obs)
                glci_counter_inc(s->metrics->observations_rejected, child);
        }
    s_dead_free(&dead);
    glci_debug("batch %llu %s, acked up to %llu", (unsigned long long)ack->seq,
               glci_batch_status_str((int)ack->status), (unsigned long long)ack->acked);
    return rc;
}

/* A GAP below the oldest batch in the outbox: the collector's mark is below
 * batches it acknowledged, i.e. it lost them (its store was restored from
 * an older backup). They were deleted when acked and cannot be resent;
 * waiting for them would stall forever. Since the collector's mark
 * (expected - 1) is below base - 1, it applied none of the batches still
 * here, so they can safely start over on a new stream.
 *
 * Marks never go back otherwise, and answers on one connection come in the
 * order the collector made them; only an answer from an earlier, dropped
 * connection could be older than an ack already taken. So the first such
 * GAP only pauses sending for GLCI_DELIVERY_LOST_CONFIRM_MS (answers still
 * on their way are read meanwhile) and resends from base; one that arrives
 * after the pause, with no ack having moved base in between, confirms it
 * (s_do_rebase). */
static void s_do_suspect_loss(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    glci_warn("the collector expects batch %llu of stream %016llx, below batch %llu, "
              "the oldest still in this outbox (batches before it were acknowledged); "
              "checking again in %d ms",
              (unsigned long long)ack->expected, (unsigned long long)s->stream,
              (unsigned long long)s->d.base, GLCI_DELIVERY_LOST_CONFIRM_MS);
    s->d.lost_since = now;
    s->d.pause_until = now + GLCI_DELIVERY_LOST_CONFIRM_MS;
    s->d.state = GLCI_DELIVERY_SUSPECT_LOSS;
    s->d.floor = 0;
    s->d.next_send = glci_delivery_restart(&s->d);   /* the probe, with nothing to send */
    s->d.gap_target = 0;
}

/* The loss confirmed: the alarm is logged once, the outbox is rebased
 * (glci_outbox_rebase, one transaction: the retained batches first, then
 * the undelivered ones) and sending starts again at batch 1 of the new
 * stream. Only the batches no longer retained are lost. */
static int s_do_rebase(glci_agent_sender_t *s, const glci_wire_ack_t *ack,
                       const glci_agent_time_t *now)
{
    uint64_t lost_first = ack->expected;
    /* The range ends just below the oldest batch retained, or else in the
     * outbox, as they are now. */
    uint64_t head = 0;
    if (glci_outbox_first_seq(s->ob, &head) != 0 && glci_outbox_next_seq(s->ob, &head) != 0)
        head = s->d.base;
    s_refresh_retained(s);
    if (head > s->d.base)          /* acked meanwhile (cannot be: nothing acks but us) */
        s->d.base = head;
    if (glci_delivery_retained(&s->d, lost_first)) {
        s_do_recover(s, lost_first, now->ms);   /* all still here after all */
        return GLCI_AGENT_OK;
    }
    uint64_t lost_last = (s->d.retained_first ? s->d.retained_first : s->d.base) - 1;
    if (lost_first > lost_last) {  /* nothing below what is here: no loss */
        s->d.lost_since = 0;
        s->d.state = s_sending_state(s);
        return GLCI_AGENT_OK;
    }
    uint64_t old_stream = s->stream, new_stream = 0, kept = 0, retained = 0;
    int rc = glci_outbox_rebase(s->ob, lost_first, lost_last, now->unix_s, &new_stream, &kept,
                                &retained);
    if (rc != 0) {
        glci_error("the collector lost batches %llu..%llu of stream %016llx, but the outbox "
                   "cannot move to a new stream: %s; will retry",
                   (unsigned long long)lost_first, (unsigned long long)lost_last,
                   (unsigned long long)old_stream, glci_outbox_strerror(rc));
        s->d.lost_since = 0;
        s_do_pause(s, now->ms);
        return GLCI_AGENT_EOUTBOX;
    }
    glci_error("ALARM: the collector lost batches %llu..%llu of stream %016llx after "
               "acknowledging them (was its store restored from an older backup?); this "
               "agent no longer retains them (acknowledged longer ago than retain, or "
               "beyond retain_bytes) and cannot resend them. "
               "Re-deliver the values of that period: drop the CSV files delivered since "
               "then again (%s/done/ still holds them) and re-push single values. The %llu "
               "retained and %llu undelivered batch%s continue as batches 1..%llu of the new "
               "stream %016llx",
               (unsigned long long)lost_first, (unsigned long long)lost_last,
               (unsigned long long)old_stream, s->spool, (unsigned long long)retained,
               (unsigned long long)kept, retained + kept == 1 ? "" : "es",
               (unsigned long long)(retained + kept), (unsigned long long)new_stream);
    s_enter_stream(s, new_stream, retained, kept, now->ms);
    s->backoff_ms = GLCI_DELIVERY_BACKOFF_MIN_MS;
    return GLCI_AGENT_OK;
}

/* The collector answered DUPLICATE "with different content" for batch
 * base: it holds other content under this number of this stream, so this
 * batch was never stored; this outbox was cloned or restored from a copy
 * and another copy delivered first. Deleting it as delivered would lose its
 * values; moving the outbox onto a new stream delivers them exactly once
 * (the collector never saw that stream). Batches sent after it may have
 * been stored meanwhile (APPLIED), so sending stops and their answers are
 * awaited first; those shown stored are left out of the move. */
static void s_do_clash_begin(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    glci_error("ALARM: the collector holds other content under batch %llu of stream "
               "%016llx (%s): this outbox was cloned or restored from a copy and another "
               "copy delivered first; its undelivered batches move onto a new stream",
               (unsigned long long)ack->seq, (unsigned long long)s->stream, ack->error);
    s->d.state = GLCI_DELIVERY_RESTREAMING;
    s->d.clash_last = s->d.next_send > ack->seq ? s->d.next_send - 1 : ack->seq;
    s->clash_deadline = now + s->ack_timeout_ms;
    s->n_drop = 0;
    s_set_state(s, "restreaming");
}

static void s_clash_drop(glci_agent_sender_t *s, uint64_t seq)
{
    if (s->n_drop == s->cap_drop) {
        s->cap_drop = s->cap_drop ? 2 * s->cap_drop : 16;
        s->drop = glci_xrealloc(s->drop, s->cap_drop * sizeof *s->drop);
    }
    s->drop[s->n_drop++] = seq;
}

/* An answer while restreaming: note what it shows stored. An APPLIED
 * batch's rejected rows are stored now and the batch is dropped at the
 * move; should the move not happen (timeout, dropped connection), the batch
 * is sent again and answered DUPLICATE without rejections: they are stored
 * once. */
static void s_do_clash_note(glci_agent_sender_t *s, const glci_wire_ack_t *ack,
                            const glci_agent_time_t *now)
{
    if (ack->seq <= s->d.base)
        return;                    /* the clashing batch itself, or older */
    if (ack->status == GLCI_BATCH_APPLIED) {
        s_dead_t dead;
        if (ack->n_rejections > 0 && s_dead_rows(s, ack, now->unix_s, &dead) == 0) {
            if (dead.n) {
                int rc = glci_outbox_dead_add(s->ob, dead.rows, dead.n);
                if (rc != 0)
                    glci_error("ALARM: cannot keep the %zu observations of batch %llu "
                               "rejected by the collector: %s", dead.n,
                               (unsigned long long)ack->seq, glci_outbox_strerror(rc));
                else
                    glci_agent_deadletter_stored(&s->dead);
            }
            s_dead_free(&dead);
        }
        s_clash_drop(s, ack->seq);
    } else if (ack->status == GLCI_BATCH_DUPLICATE && !ack->error[0]) {
        s_clash_drop(s, ack->seq);
    }
}

/* Every answer is in: the batches the collector stored are left out, the
 * others move onto a new stream. */
static int s_do_clash_finish(glci_agent_sender_t *s, const glci_agent_time_t *now)
{
    uint64_t old_stream = s->stream, new_stream = 0, kept = 0;
    int rc = glci_outbox_restream(s->ob, s->drop, s->n_drop, 0, now->unix_s, &new_stream,
                                  &kept);
    s->d.state = s_sending_state(s);
    if (rc != 0) {
        glci_error("cannot move the outbox onto a new stream: %s; will retry",
                   glci_outbox_strerror(rc));
        s->n_drop = 0;
        s_do_pause(s, now->ms);
        return GLCI_AGENT_EOUTBOX;
    }
    glci_error("ALARM: %zu batch%s of stream %016llx were stored by the collector; the %llu "
               "others continue as batches 1..%llu of the new stream %016llx",
               s->n_drop, s->n_drop == 1 ? "" : "es", (unsigned long long)old_stream,
               (unsigned long long)kept, (unsigned long long)kept,
               (unsigned long long)new_stream);
    s->n_drop = 0;
    s_enter_stream(s, new_stream, 0, kept, now->ms);
    s_set_state(s, "connected");
    return GLCI_AGENT_OK;
}

static void s_do_clash_abandon(glci_agent_sender_t *s)
{
    glci_warn("no answer for the batches sent before the clash; asking again from "
              "batch %llu", (unsigned long long)s->d.base);
    s->d.state = s_sending_state(s);
    s->n_drop = 0;
    s->d.next_send = s->d.base;
    s->d.gap_target = 0;
}

/* MALFORMED for the oldest batch, which could not be quarantined (gone,
 * unreadable, empty), or for another batch; and FORBIDDEN, UNAVAILABLE. */
static void s_on_refusal(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    /* every batch of the window gets the answer: one line per pause */
    if (ack->status == GLCI_BATCH_UNAVAILABLE) {
        glci_log_repeat(&s->log_unavailable, now, s->backoff_ms, GLCI_LOG_WARN,
                        "the collector cannot store now (batch %llu): %s; will resend",
                        (unsigned long long)ack->seq,
                        ack->error[0] ? ack->error : "unavailable");
    } else {
        glci_log_repeat(&s->log_refusal, now, s->backoff_ms, GLCI_LOG_ERROR,
                        "the collector refused batch %llu as %s: %s; the batch is kept",
                        (unsigned long long)ack->seq, glci_batch_status_str((int)ack->status),
                        ack->error[0] ? ack->error : "(no detail)");
        s_set_state(s, ack->status == GLCI_BATCH_FORBIDDEN ? "forbidden" : "malformed");
        if (ack->status == GLCI_BATCH_FORBIDDEN)
            s->forbidden = 1;
    }
    s_do_pause(s, now);
}

/* ---- events ------------------------------------------------------------ */

/* The machine's view for the decision. */
static glci_delivery_event_t s_event(glci_delivery_event_kind_t kind, int64_t now)
{
    glci_delivery_event_t ev = {.kind = kind, .now = now};
    return ev;
}

/* Decides ev and carries the action out. ack is the answer behind an answer
 * event (NULL for the others). */
static int s_handle(glci_agent_sender_t *s, const glci_delivery_event_t *ev,
                    const glci_wire_ack_t *ack, const glci_agent_time_t *now)
{
    glci_delivery_action_t a = glci_delivery_decide(&s->d, ev);
    switch (a.kind) {
    case GLCI_DACT_NONE:
        return GLCI_AGENT_OK;
    case GLCI_DACT_RECORD_ACK:
        return s_on_record(s, ack, a.upto, now);
    case GLCI_DACT_REWIND:
        s_do_rewind(s, a.target, now->ms, ev->kind == GLCI_DEV_TIMEOUT);
        return GLCI_AGENT_OK;
    case GLCI_DACT_PAUSE:
        s_on_refusal(s, ack, now->ms);
        return GLCI_AGENT_OK;
    case GLCI_DACT_RESUME:
        s_do_resume(s);
        return GLCI_AGENT_OK;
    case GLCI_DACT_QUARANTINE:
        if (s_malformed(s, ack, now->unix_s)) {
            s->d.next_send = s->d.base;     /* the empty batch, then the rest */
            s->d.gap_target = 0;
        } else {
            s_on_refusal(s, ack, now->ms);  /* not identifiable: kept, as FORBIDDEN */
        }
        return GLCI_AGENT_OK;
    case GLCI_DACT_SUSPECT_LOSS:
        s_do_suspect_loss(s, ack, now->ms);
        return GLCI_AGENT_OK;
    case GLCI_DACT_REBASE:
        return s_do_rebase(s, ack, now);
    case GLCI_DACT_CLASH_BEGIN:
        s_do_clash_begin(s, ack, now->ms);
        if (s->d.clash_last == ack->seq)
            return s_do_clash_finish(s, now);
        return GLCI_AGENT_OK;
    case GLCI_DACT_CLASH_NOTE:
        s_do_clash_note(s, ack, now);
        return GLCI_AGENT_OK;
    case GLCI_DACT_CLASH_FINISH:
        s_do_clash_note(s, ack, now);
        return s_do_clash_finish(s, now);
    case GLCI_DACT_CLASH_ABANDON:
        s_do_clash_abandon(s);
        return GLCI_AGENT_OK;
    case GLCI_DACT_RECOVER:
        s_do_recover(s, a.target, now->ms);
        return GLCI_AGENT_OK;
    case GLCI_DACT_CONNECT:
        s_do_connect(s, a.target, now->ms);
        return GLCI_AGENT_OK;
    case GLCI_DACT_DISCONNECT:
        s_do_disconnect(s);
        return GLCI_AGENT_OK;
    case GLCI_DACT_HANDSHAKE_FAIL:
        s_do_handshake_fail(s, ev->kind, now->ms);
        return GLCI_AGENT_OK;
    case GLCI_DACT_REBUILD:
        s_do_rebuild(s);
        return GLCI_AGENT_OK;
    }
    return GLCI_AGENT_OK;
}

int glci_agent_sender_same_keys(const glci_agent_sender_t *s, const glci_agent_config_t *cfg)
{
    if (cfg->insecure || s->insecure)
        return cfg->insecure == s->insecure;
    glci_key_t pub, server;
    char err[512];
    return glci_keyfile_read(cfg->key_file, &pub, NULL, err, sizeof err) == 0 &&
           glci_key_from_text_or_file(cfg->collector_key, &server, err, sizeof err) == 0 &&
           strcmp(pub.z85, s->pub.z85) == 0 && strcmp(server.z85, s->server.z85) == 0;
}

int glci_agent_monitor_read(void *monitor, uint16_t *event)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    *event = 0;
    if (zmq_msg_size(&m) >= 6)
        memcpy(event, zmq_msg_data(&m), 2);
    int more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) {                 /* the endpoint frame */
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, monitor, 0) < 0)
            more = 0;
        else
            more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return 1;
}

static void s_on_monitor(glci_agent_sender_t *s, const glci_agent_time_t *now)
{
    uint16_t event;
    uint32_t value;
    while (s->monitor && glci_monitor_read(s->monitor, &event, &value)) {
        /* a handshake failure closes the monitor with the socket */
        glci_delivery_event_kind_t kind;
        if (event == ZMQ_EVENT_CONNECTED) {
            s->tcp_at = now->ms;
            continue;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL &&
            glci_delivery_handshake_unanswered(value, s->tcp_at >= 0 ? now->ms - s->tcp_at : -1,
                                               S_HANDSHAKE_IVL_MS)) {
            /* no key problem: the DISCONNECTED that follows is handled as
             * a dropped connection, and libzmq dials again */
            glci_log_repeat(&s->log_unanswered, now->ms, 60000, GLCI_LOG_WARN,
                            "the collector at %s accepted the connection but did not answer "
                            "the handshake within %d s (stopped or overloaded?); trying "
                            "again", s->endpoint, S_HANDSHAKE_IVL_MS / 1000);
            s->tcp_at = -1;
            continue;
        }
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: kind = GLCI_DEV_CONNECTED; break;
        case ZMQ_EVENT_DISCONNECTED: kind = GLCI_DEV_DISCONNECTED; break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: kind = GLCI_DEV_HANDSHAKE_REFUSED; break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: kind = GLCI_DEV_HANDSHAKE_FAILED; break;
        default: continue;
        }
        glci_delivery_event_t ev = s_event(kind, now->ms);
        s_handle(s, &ev, NULL, now);
    }
}

static int s_on_ack(glci_agent_sender_t *s, const void *data, size_t len,
                    const glci_agent_time_t *now)
{
    glci_wire_ack_t ack;
    char err[256];
    int rc = glci_wire_ack_unpack(data, len, &ack, err, sizeof err);
    if (rc != 0) {
        glci_warn("ignoring an undecodable answer from the collector: %s", err);
        return GLCI_AGENT_OK;
    }
    if (ack.stream != s->stream && ack.stream != 0 && ack.stream == s->prev_stream) {
        glci_debug("ignoring a late answer for the previous stream %016llx",
                   (unsigned long long)ack.stream);
    } else if (ack.stream != s->stream) {
        glci_warn("ignoring an ack for stream %016llx (this outbox is %016llx)",
                  (unsigned long long)ack.stream, (unsigned long long)s->stream);
    } else {
        /* an answer: the connection carries batches, whatever it says */
        s->conn_answered = 1;
        s->drops = 0;
        s->drop_ms = GLCI_DELIVERY_BACKOFF_MIN_MS;
        glci_log_repeat_end(&s->log_dropped, now->ms);
        glci_delivery_event_t ev = s_event(glci_delivery_event_of(ack.status, ack.error[0] != 0),
                                           now->ms);
        ev.seq = ack.seq;
        ev.acked = ack.acked;
        ev.expected = ack.expected;
        rc = s_handle(s, &ev, &ack, now);
    }
    glci_wire_ack_release(&ack);
    return rc;
}

/* libzmq ends a connecting session for good after a protocol error (a
 * handshake or message box that does not check out, as bytes corrupted on
 * the way make them): it reconnects after connection errors and timeouts
 * only. Not connected for an ack timeout, the agent dials again itself;
 * during a long outage that is one more dial per ack timeout. */
static void s_redial(glci_agent_sender_t *s, int64_t now)
{
    (void)zmq_disconnect(s->dealer, s->endpoint);   /* ENOENT once libzmq dropped it */
    if (zmq_connect(s->dealer, s->endpoint) != 0)
        glci_warn("cannot dial %s again: %s", s->endpoint, zmq_strerror(zmq_errno()));
    else if (!s->redialled)
        glci_info("no connection to %s for %lld ms; dialling again", s->endpoint,
                  (long long)(now - s->down_since));
    s->redialled = 1;
    s->down_since = now;
}

/* 1 in the states that keep a window in flight. */
static int s_sends(const glci_agent_sender_t *s)
{
    return s->d.state == GLCI_DELIVERY_SENDING || s->d.state == GLCI_DELIVERY_SUSPECT_LOSS ||
           s->d.state == GLCI_DELIVERY_RECOVERING;
}

/* The timers' events: the clash deadline, the end of a pause, no ack for
 * the ack timeout with batches in flight. */
static void s_timers(glci_agent_sender_t *s, const glci_agent_time_t *now)
{
    if (s->d.state == GLCI_DELIVERY_DISCONNECTED && s->dealer && s->down_since &&
        now->ms - s->down_since > s->ack_timeout_ms)
        s_redial(s, now->ms);
    glci_delivery_event_t ev = s_event(GLCI_DEV_TIMEOUT, now->ms);
    if (s->d.state == GLCI_DELIVERY_REFUSED && now->ms >= s->d.retry_at) {
        glci_delivery_event_t due = s_event(GLCI_DEV_RETRY_DUE, now->ms);
        s_handle(s, &due, NULL, now);
    }
    if (s->d.state == GLCI_DELIVERY_RESTREAMING && now->ms >= s->clash_deadline)
        s_handle(s, &ev, NULL, now);
    if (s->d.state == GLCI_DELIVERY_PAUSED && now->ms >= s->d.pause_until) {
        glci_delivery_event_t over = s_event(GLCI_DEV_PAUSE_OVER, now->ms);
        s_handle(s, &over, NULL, now);
    }
    if (s_sends(s) && now->ms >= s->d.pause_until &&
        s->d.next_send > glci_delivery_floor(&s->d) &&
        now->ms - s->last_ack_ms > s->ack_timeout_ms)
        s_handle(s, &ev, NULL, now);
}

/* 1 while the window may be filled. */
static int s_may_send(const glci_agent_sender_t *s, int64_t now)
{
    return s_sends(s) && now >= s->d.pause_until;
}

int glci_agent_sender_step(glci_agent_sender_t *s, const zmq_pollitem_t *items,
                           const glci_agent_time_t *now)
{
    int rc = GLCI_AGENT_OK;
    s->now = *now;
    if (s->monitor && (items[1].revents & ZMQ_POLLIN))
        s_on_monitor(s, now);
    if (s->dealer && (items[0].revents & ZMQ_POLLIN)) {
        while (s->dealer) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s->dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            int r = s_on_ack(s, zmq_msg_data(&m), zmq_msg_size(&m), now);
            zmq_msg_close(&m);
            if (r != 0 && rc == 0)
                rc = r;
        }
    }
    if (now->ms >= s->next_outbox_poll) {
        uint64_t next;
        if (glci_outbox_next_seq(s->ob, &next) == 0)
            s->d.head = next;
        s_refresh_retained(s);      /* a reload may have pruned it */
        s->next_outbox_poll = now->ms + S_POLL_OUTBOX_MS;
    }
    glci_agent_deadletter_flush(&s->dead, s->ob, s->deadletter, now->ms);
    s_timers(s, now);
    if (!s_may_send(s, now->ms))
        return rc;
    uint64_t floor = glci_delivery_floor(&s->d);
    while (s->d.next_send < s->d.head && s->d.next_send < floor + s->window) {
        if (s->d.next_send == floor)
            s->last_ack_ms = now->ms;  /* the clock for an ack starts now */
        int r = s_send(s, s->d.next_send, now->unix_s);
        if (r == S_SENT_WOULD_BLOCK)
            break;
        if (r < 0) {
            if (rc == 0)
                rc = r;
            break;
        }
        if (r == S_SENT_GONE) {        /* acked meanwhile: re-read the head */
            uint64_t first;
            if (glci_outbox_first_seq(s->ob, &first) == 0 && first > s->d.base)
                s->d.base = first;
        }
        s->d.next_send++;
    }
    return rc;
}

long glci_agent_sender_timeout(const glci_agent_sender_t *s, int64_t now)
{
    int64_t t = s->next_outbox_poll - now;
    if (s->d.pause_until > now && s->d.pause_until - now < t)
        t = s->d.pause_until - now;
    if (s->d.state == GLCI_DELIVERY_REFUSED && s->d.retry_at - now < t)
        t = s->d.retry_at - now;
    if (s->dead.pending && s->dead.next_ms - now < t)
        t = s->dead.next_ms - now;
    if (t < 0)
        t = 0;
    /* the socket may refuse a send (EAGAIN) while batches wait: look again soon */
    if (s_may_send(s, now) && s->d.next_send < s->d.head &&
        s->d.next_send < glci_delivery_floor(&s->d) + s->window && t > 10)
        t = 10;
    return (long)t;
}
