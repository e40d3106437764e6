/* The agent's DEALER and its delivery state machine: see glci_agent_sender.h.
 *
 * Frames: the agent sends one frame, a packed glci.Batch; the collector's
 * ROUTER answers with one frame, a packed glci.Ack. */
#include "glci_agent_sender.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_agent_spool.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_wire.h"

#define S_POLL_OUTBOX_MS 200
#define S_BACKOFF_MIN_MS 1000
#define S_BACKOFF_MAX_MS 60000
/* A GAP below the oldest batch in the outbox is acted on only when it is
 * seen again after this pause in sending (see s_on_lost). */
#define S_LOST_CONFIRM_MS 1000
/* Dead letters whose file write failed are tried again this often. */
#define S_DEAD_RETRY_MS 1000
/* Dead letters written per append (the rest follow at once). */
#define S_DEAD_CHUNK 512

struct glci_agent_sender {
    void *dealer, *monitor;
    glci_outbox_t *ob;
    char city[64];
    char endpoint[256];
    char deadletter[GLCI_AGENT_PATH_MAX + 32];
    char spool[GLCI_AGENT_PATH_MAX];
    uint64_t stream;
    uint64_t prev_stream;     /* the stream before a rebase: its late answers are expected */
    uint32_t window;
    int64_t ack_timeout_ms;

    int connected;
    uint64_t base;            /* oldest batch still in the outbox */
    uint64_t next_send;       /* next batch to send */
    uint64_t next_seq;        /* the outbox's next number: batches < it exist */
    uint64_t gap_target;      /* where the last GAP sent us; 0 none. Answers arrive in
                                 order, so more GAPs naming it are for batches sent
                                 before that rewind */
    int64_t next_outbox_poll;
    int64_t last_ack_ms;      /* last ack, or when sending started */
    int64_t down_since;       /* not connected since (0: connected); see s_redial */
    int redialled;            /* dialled again in this streak (logged once) */
    int64_t backoff_until;    /* no sending before this */
    int64_t backoff_ms;       /* the next backoff's base */
    int64_t lost_since;       /* a GAP below base was seen at this time; 0 none */
    /* A DUPLICATE "with different content" for batch base (another copy of
     * this outbox delivered other batches under the same numbers): sending
     * stops until the answers to everything sent (up to clash_last) are in,
     * the batches they show stored are listed in drop, then the outbox moves
     * onto a new stream without them (s_clash_finish). */
    uint64_t clash_seq;       /* 0: none */
    uint64_t clash_last;
    int64_t clash_deadline;
    uint64_t *drop;
    size_t n_drop, cap_drop;
    /* Dead letters stored in the outbox and not yet in the dead-letter file
     * (s_flush_dead): pending until a flush finds none; failing while the
     * file cannot be written (warned once per streak, retried every
     * S_DEAD_RETRY_MS). */
    int dead_pending;
    int dead_failing;
    int64_t next_dead_flush;
    char state[32];
};

int64_t glci_agent_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_set_state(glci_agent_sender_t *s, const char *state)
{
    if (strcmp(s->state, state) == 0)
        return;
    snprintf(s->state, sizeof s->state, "%s", state);
    int rc = glci_outbox_set_state(s->ob, state, (int64_t)time(NULL));
    if (rc != 0)
        glci_warn("cannot record the connection state in the outbox: %s",
                  glci_outbox_strerror(rc));
}

static int s_setsockopt_int(void *sock, int opt, int value)
{
    return zmq_setsockopt(sock, opt, &value, sizeof value);
}

int glci_agent_sender_open(const glci_agent_config_t *cfg, glci_outbox_t *ob,
                           void *zctx, const char *deadletter,
                           glci_agent_sender_t **out, char *err, size_t errlen)
{
    glci_key_t pub, sec, server;
    glci_agent_sender_t *s = NULL;
    char mon_ep[64];
    int rc;
    static unsigned s_count;

    *out = NULL;
    if (cfg->insecure) {
        if (!glci_agent_endpoint_is_local(cfg->collector)) {
            snprintf(err, errlen, "insecure mode refuses collector endpoint '%s': only "
                     "loopback or ipc:// is allowed", cfg->collector);
            return GLCI_AGENT_EUSAGE;
        }
    } else {
        if (glci_keyfile_read(cfg->key_file, &pub, &sec, err, errlen) != 0)
            return GLCI_AGENT_EKEY;
        if (glci_key_from_text_or_file(cfg->collector_key, &server, err, errlen) != 0)
            return GLCI_AGENT_EKEY;
    }

    s = glci_xcalloc(1, sizeof *s);
    s->ob = ob;
    snprintf(s->city, sizeof s->city, "%s", cfg->city);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", cfg->collector);
    snprintf(s->deadletter, sizeof s->deadletter, "%s", deadletter);
    snprintf(s->spool, sizeof s->spool, "%s", cfg->spool);
    s->stream = glci_outbox_stream(ob);
    s->window = cfg->window;
    s->ack_timeout_ms = 4 * (int64_t)cfg->heartbeat_ivl + 10000;
    s->backoff_ms = S_BACKOFF_MIN_MS;

    s->dealer = zmq_socket(zctx, ZMQ_DEALER);
    if (!s->dealer)
        goto zmq_fail;
    rc = s_setsockopt_int(s->dealer, ZMQ_LINGER, 0);
    rc |= s_setsockopt_int(s->dealer, ZMQ_IMMEDIATE, 1);
    rc |= s_setsockopt_int(s->dealer, ZMQ_SNDHWM, (int)cfg->window + 16);
    rc |= s_setsockopt_int(s->dealer, ZMQ_RCVHWM, (int)cfg->window * 4 + 64);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HEARTBEAT_IVL, (int)cfg->heartbeat_ivl);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HEARTBEAT_TIMEOUT, 3 * (int)cfg->heartbeat_ivl);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HEARTBEAT_TTL, 3 * (int)cfg->heartbeat_ivl);
    rc |= s_setsockopt_int(s->dealer, ZMQ_RECONNECT_IVL, 100);
    rc |= s_setsockopt_int(s->dealer, ZMQ_RECONNECT_IVL_MAX, 5000);
    rc |= s_setsockopt_int(s->dealer, ZMQ_HANDSHAKE_IVL, 10000);
    /* An ack is small; refuse anything huge from a hostile peer. */
    int64_t maxmsg = 4 << 20;
    rc |= zmq_setsockopt(s->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (!cfg->insecure) {
        rc |= zmq_setsockopt(s->dealer, ZMQ_CURVE_SERVERKEY, server.z85, GLCI_Z85_KEY_LEN + 1);
        rc |= zmq_setsockopt(s->dealer, ZMQ_CURVE_PUBLICKEY, pub.z85, GLCI_Z85_KEY_LEN + 1);
        rc |= zmq_setsockopt(s->dealer, ZMQ_CURVE_SECRETKEY, sec.z85, GLCI_Z85_KEY_LEN + 1);
        sodium_memzero(&sec, sizeof sec);
    }
    if (rc != 0)
        goto zmq_fail;

    snprintf(mon_ep, sizeof mon_ep, "inproc://glci-agent-monitor-%u", s_count++);
    if (zmq_socket_monitor(s->dealer, mon_ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        goto zmq_fail;
    s->monitor = zmq_socket(zctx, ZMQ_PAIR);
    if (!s->monitor || s_setsockopt_int(s->monitor, ZMQ_LINGER, 0) != 0 ||
        zmq_connect(s->monitor, mon_ep) != 0)
        goto zmq_fail;
    if (zmq_connect(s->dealer, cfg->collector) != 0) {
        snprintf(err, errlen, "collector endpoint '%s': %s", cfg->collector,
                 zmq_strerror(zmq_errno()));
        glci_agent_sender_close(&s);
        return GLCI_AGENT_EUSAGE;
    }

    if (glci_outbox_next_seq(ob, &s->next_seq) != 0 ||
        glci_outbox_first_seq(ob, &s->base) != 0)
        s->base = s->next_seq;
    s->next_send = s->base;
    s->dead_pending = 1;               /* left by an earlier run? the first step looks */
    s->down_since = glci_agent_now_ms();
    s->state[0] = '\0';
    s_set_state(s, "connecting");
    *out = s;
    return GLCI_AGENT_OK;

zmq_fail:
    snprintf(err, errlen, "cannot set up the connection to %s: %s", cfg->collector,
             zmq_strerror(zmq_errno()));
    glci_agent_sender_close(&s);
    return GLCI_AGENT_ENET;
}

void glci_agent_sender_close(glci_agent_sender_t **self)
{
    if (!self || !*self)
        return;
    glci_agent_sender_t *s = *self;
    if (s->dealer) {
        zmq_socket_monitor(s->dealer, NULL, 0);
        zmq_close(s->dealer);
    }
    if (s->monitor)
        zmq_close(s->monitor);
    free(s->drop);
    free(s);
    *self = NULL;
}

void glci_agent_sender_poll_items(glci_agent_sender_t *s, zmq_pollitem_t *items)
{
    memset(items, 0, GLCI_AGENT_SENDER_NPOLL * sizeof *items);
    items[0].socket = s->dealer;
    items[0].events = ZMQ_POLLIN;
    items[1].socket = s->monitor;
    items[1].events = ZMQ_POLLIN;
}

int glci_agent_sender_connected(const glci_agent_sender_t *s)
{
    return s->connected;
}

void glci_agent_sender_kick(glci_agent_sender_t *s)
{
    s->next_outbox_poll = 0;
}

int glci_agent_backoff(int64_t *backoff_ms, int64_t *until, int64_t now, uint32_t rnd)
{
    if (now < *until)
        return 0;                      /* paused already: one pause per answer group */
    /* uniform in [d/2, d]: spreads many agents coming back together */
    int64_t d = *backoff_ms;
    *until = now + d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
    *backoff_ms = d * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : d * 2;
    return 1;
}

static void s_backoff(glci_agent_sender_t *s, int64_t now)
{
    s->next_send = s->base;            /* resend from the oldest after the pause */
    s->gap_target = 0;
    if (glci_agent_backoff(&s->backoff_ms, &s->backoff_until, now, randombytes_random()))
        glci_warn("pausing delivery for %lld ms", (long long)(s->backoff_until - now));
}

static void s_on_monitor(glci_agent_sender_t *s, int64_t now)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&m) >= 6)
            memcpy(&event, zmq_msg_data(&m), 2);
        int more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        while (more) {                 /* the endpoint frame */
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s->monitor, 0) < 0)
                more = 0;
            else
                more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            glci_info("connected to %s; resending from batch %llu", s->endpoint,
                      (unsigned long long)s->base);
            s->connected = 1;
            s->down_since = 0;
            s->redialled = 0;
            s->next_send = s->base;
            s->gap_target = 0;
            s->last_ack_ms = now;
            s_set_state(s, "connected");
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (s->connected)
                glci_warn("lost the connection to %s; reconnecting", s->endpoint);
            s->connected = 0;
            if (!s->down_since)
                s->down_since = now;
            s->next_send = s->base;
            s->clash_seq = 0;          /* answers lost: resending from base asks again */
            s->n_drop = 0;
            s_set_state(s, "disconnected");
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            glci_error("the collector at %s refused this agent's key (not registered, or "
                       "the city is revoked); retrying", s->endpoint);
            s->connected = 0;
            s_set_state(s, "refused");
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            glci_error("handshake with %s failed (wrong collector key?); retrying",
                       s->endpoint);
            s->connected = 0;
            if (!s->down_since)
                s->down_since = now;
            s_set_state(s, "handshake-failed");
            break;
        default:
            break;
        }
    }
}

/* The rejected observations an APPLIED ack names, as dead letters: their
 * rows read from batch ack->seq, the collector's message and the time now.
 * *out (caller frees with s_dead_free) receives *n rows (0 if the batch is
 * gone). Returns 0, or -1 if the batch cannot be read. */
typedef struct {
    glci_outbox_batch_t *batch;
    glci_outbox_dead_t *rows;
    char (*text)[GLCI_WIRE_MESSAGE_MAX + 1];
    size_t n;
} s_dead_t;

static void s_dead_free(s_dead_t *d)
{
    free(d->text);
    free(d->rows);
    glci_outbox_batch_free(&d->batch);
    memset(d, 0, sizeof *d);
}

static int s_dead_rows(glci_agent_sender_t *s, const glci_wire_ack_t *ack, s_dead_t *d)
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
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < ack->n_rejections; i++) {
        const glci_wire_rejection_t *r = &ack->rejections[i];
        if (r->index >= d->batch->n_obs)
            continue;
        d->rows[d->n].obs = d->batch->obs[r->index];
        snprintf(d->text[d->n], sizeof d->text[d->n], "%s",
                 r->message[0] ? r->message : "rejected");
        d->rows[d->n].reason = d->text[d->n];
        d->rows[d->n].at = now;
        d->n++;
    }
    return 0;
}

/* Copies the dead letters stored in the outbox to the dead-letter file
 * (append, fsync), then deletes them from the outbox in a following
 * transaction. If the agent dies between the two, the rows are written
 * again at the next flush: the file is at-least-once, and a repeated row
 * is identical to the first (its time is the one stored). When the file
 * cannot be written the rows stay in the outbox; a warning is logged once
 * per streak of failures and the flush is tried again S_DEAD_RETRY_MS
 * later. */
static void s_flush_dead(glci_agent_sender_t *s, int64_t now)
{
    size_t written = 0;
    for (;;) {
        glci_outbox_dead_list_t *l = NULL;
        int rc = glci_outbox_dead_list(s->ob, S_DEAD_CHUNK, &l);
        if (rc != 0) {
            glci_error("cannot read the dead letters from the outbox: %s; will retry",
                       glci_outbox_strerror(rc));
            s->next_dead_flush = now + S_DEAD_RETRY_MS;
            return;
        }
        if (l->n == 0) {
            glci_outbox_dead_list_free(&l);
            break;
        }
        char err[512];
        if (glci_agent_deadletter_write(s->deadletter, l->rows, l->n, err, sizeof err) != 0) {
            if (!s->dead_failing) {
                glci_outbox_status_t st;
                uint64_t pending = glci_outbox_status(s->ob, &st) == 0 ? st.dead_pending : l->n;
                glci_warn("%s; %llu rejected observation%s kept in the outbox, retrying",
                          err, (unsigned long long)pending, pending == 1 ? "" : "s");
            }
            s->dead_failing = 1;
            s->next_dead_flush = now + S_DEAD_RETRY_MS;
            glci_outbox_dead_list_free(&l);
            return;
        }
        uint64_t upto = l->rows[l->n - 1].id;
        size_t n = l->n;
        glci_outbox_dead_list_free(&l);
        rc = glci_outbox_dead_delete(s->ob, upto, NULL);
        if (rc != 0) {
            glci_error("cannot delete dead letters written to %s from the outbox: %s; they "
                       "will be written again", s->deadletter, glci_outbox_strerror(rc));
            s->next_dead_flush = now + S_DEAD_RETRY_MS;
            return;
        }
        written += n;
        if (n < S_DEAD_CHUNK)
            break;
    }
    if (written)
        glci_warn("%zu observation%s rejected by the collector written to %s", written,
                  written == 1 ? "" : "s", s->deadletter);
    if (s->dead_failing)
        glci_info("the dead-letter file %s can be written again", s->deadletter);
    s->dead_failing = 0;
    s->dead_pending = 0;
}

/* Dead letters were stored: flush them at the next step. */
static void s_dead_stored(glci_agent_sender_t *s)
{
    s->dead_pending = 1;
    if (!s->dead_failing)
        s->next_dead_flush = 0;
}

static int s_record_ack(glci_agent_sender_t *s, uint64_t acked, const s_dead_t *dead,
                        int64_t now)
{
    size_t n_dead = dead ? dead->n : 0;
    if (acked >= s->next_seq) {
        uint64_t next = s->next_seq;
        glci_outbox_next_seq(s->ob, &next);
        s->next_seq = next;
        if (acked >= next) {
            glci_error("the collector acknowledges batch %llu of stream %016llx, but this "
                       "outbox has stored only up to %llu (was the outbox restored from a "
                       "copy?); batches up to it count as delivered",
                       (unsigned long long)acked, (unsigned long long)s->stream,
                       (unsigned long long)(next - 1));
        }
    }
    if (acked < s->base && n_dead == 0)
        return GLCI_AGENT_OK;
    size_t gone = 0;
    int rc = glci_outbox_ack_dead(s->ob, acked, (int64_t)time(NULL),
                                  n_dead ? dead->rows : NULL, n_dead, &gone);
    if (rc != 0) {
        glci_error("cannot record the ack of batch %llu in the outbox: %s",
                   (unsigned long long)acked, glci_outbox_strerror(rc));
        return GLCI_AGENT_EOUTBOX;
    }
    if (n_dead) {
        glci_warn("batch %llu: %zu observation%s rejected by the collector (kept as dead "
                  "letters for %s)", (unsigned long long)dead->batch->seq, n_dead,
                  n_dead == 1 ? "" : "s", s->deadletter);
        s_dead_stored(s);
    }
    if (acked + 1 > s->base) {
        s->base = acked + 1;
        s->lost_since = 0;         /* the collector holds what it acked */
    }
    if (s->next_send < s->base)
        s->next_send = s->base;
    s->last_ack_ms = now;
    return GLCI_AGENT_OK;
}

/* A GAP answer (for the current stream, to a batch still in the outbox)
 * expects a batch below the oldest one left here: the collector's mark is
 * below batches it acknowledged, i.e. it lost them (its store was restored
 * from an older backup). Those batches were deleted when acked and cannot
 * be resent; waiting for them would stall forever. Since the collector's
 * mark (expected - 1) is below base - 1, it applied none of the batches
 * still in the outbox, so they can safely start over on a new stream.
 *
 * Marks never go back otherwise, and answers on one connection come in the
 * order the collector made them; only an answer from an earlier, dropped
 * connection could be older than an ack already taken. So the first such
 * GAP only pauses sending for S_LOST_CONFIRM_MS (answers still on their way
 * are read meanwhile) and resends from base; a GAP below base that arrives
 * after the pause, with no ack having moved base in between, confirms it:
 * the alarm is logged once, the outbox is rebased (glci_outbox_rebase, one
 * transaction) and sending starts again at batch 1 of the new stream. */
static int s_on_lost(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    uint64_t lost_first = ack->expected, lost_last = s->base - 1;
    if (!s->lost_since) {
        glci_warn("the collector expects batch %llu of stream %016llx, below batch %llu, "
                  "the oldest still in this outbox (batches before it were acknowledged); "
                  "checking again in %d ms",
                  (unsigned long long)lost_first, (unsigned long long)s->stream,
                  (unsigned long long)s->base, S_LOST_CONFIRM_MS);
        s->lost_since = now;
        s->backoff_until = now + S_LOST_CONFIRM_MS;
        s->next_send = s->base;
        s->gap_target = 0;
        return GLCI_AGENT_OK;
    }
    if (now < s->lost_since + S_LOST_CONFIRM_MS)
        return GLCI_AGENT_OK;      /* an answer to something sent before the pause */

    /* The range ends just below the outbox's head as it is now. */
    uint64_t head = 0;
    if (glci_outbox_first_seq(s->ob, &head) != 0 && glci_outbox_next_seq(s->ob, &head) != 0)
        head = s->base;
    if (head > s->base) {          /* acked meanwhile (cannot be: nothing acks but us) */
        s->base = head;
        if (lost_first >= head) {
            s->lost_since = 0;
            return GLCI_AGENT_OK;
        }
    }
    lost_last = s->base - 1;

    uint64_t old_stream = s->stream, new_stream = 0, kept = 0;
    int rc = glci_outbox_rebase(s->ob, lost_first, lost_last, (int64_t)time(NULL),
                                &new_stream, &kept);
    if (rc != 0) {
        glci_error("the collector lost batches %llu..%llu of stream %016llx, but the outbox "
                   "cannot move to a new stream: %s; will retry",
                   (unsigned long long)lost_first, (unsigned long long)lost_last,
                   (unsigned long long)old_stream, glci_outbox_strerror(rc));
        s->lost_since = 0;
        s_backoff(s, now);
        return GLCI_AGENT_EOUTBOX;
    }
    glci_error("ALARM: the collector lost batches %llu..%llu of stream %016llx after "
               "acknowledging them (was its store restored from an older backup?); this "
               "agent deleted them when they were acknowledged and cannot resend them. "
               "Re-deliver the values of that period: drop the CSV files delivered since "
               "then again (%s/done/ still holds them) and re-push single values. The %llu "
               "undelivered batch%s continue as batches 1..%llu of the new stream %016llx",
               (unsigned long long)lost_first, (unsigned long long)lost_last,
               (unsigned long long)old_stream, s->spool,
               (unsigned long long)kept, kept == 1 ? "" : "es", (unsigned long long)kept,
               (unsigned long long)new_stream);
    s->prev_stream = old_stream;
    s->stream = new_stream;
    s->base = 1;
    s->next_seq = kept + 1;
    s->next_send = 1;
    s->gap_target = 0;
    s->lost_since = 0;
    s->backoff_until = 0;
    s->backoff_ms = S_BACKOFF_MIN_MS;
    s->last_ack_ms = now;
    s->next_outbox_poll = 0;
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
static void s_clash_begin(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    glci_error("ALARM: the collector holds other content under batch %llu of stream "
               "%016llx (%s): this outbox was cloned or restored from a copy and another "
               "copy delivered first; its undelivered batches move onto a new stream",
               (unsigned long long)ack->seq, (unsigned long long)s->stream, ack->error);
    s->clash_seq = ack->seq;
    s->clash_last = s->next_send > ack->seq ? s->next_send - 1 : ack->seq;
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

static int s_clash_finish(glci_agent_sender_t *s, int64_t now)
{
    uint64_t old_stream = s->stream, new_stream = 0, kept = 0;
    int rc = glci_outbox_restream(s->ob, s->drop, s->n_drop, 0, (int64_t)time(NULL),
                                  &new_stream, &kept);
    s->clash_seq = 0;
    if (rc != 0) {
        glci_error("cannot move the outbox onto a new stream: %s; will retry",
                   glci_outbox_strerror(rc));
        s->n_drop = 0;
        s_backoff(s, now);
        return GLCI_AGENT_EOUTBOX;
    }
    glci_error("ALARM: %zu batch%s of stream %016llx were stored by the collector; the %llu "
               "others continue as batches 1..%llu of the new stream %016llx",
               s->n_drop, s->n_drop == 1 ? "" : "es", (unsigned long long)old_stream,
               (unsigned long long)kept, (unsigned long long)kept,
               (unsigned long long)new_stream);
    s->n_drop = 0;
    s->prev_stream = old_stream;
    s->stream = new_stream;
    s->base = 1;
    s->next_seq = kept + 1;
    s->next_send = 1;
    s->gap_target = 0;
    s->lost_since = 0;
    s->backoff_until = 0;
    s->last_ack_ms = now;
    s->next_outbox_poll = 0;
    s_set_state(s, s->connected ? "connected" : "disconnected");
    return GLCI_AGENT_OK;
}

/* An answer for the current stream while a clash is pending: note what it
 * shows stored, and finish once the last batch sent has its answer. */
static int s_clash_answer(glci_agent_sender_t *s, const glci_wire_ack_t *ack, int64_t now)
{
    if (ack->seq > s->clash_seq) {
        if (ack->status == GLCI_WIRE_APPLIED) {
            /* Its rejected rows are stored now; the batch is dropped at the
             * move. Should the move not happen (timeout, dropped
             * connection), the batch is sent again and answered DUPLICATE
             * without rejections: they are stored once. */
            s_dead_t dead;
            if (ack->n_rejections > 0 && s_dead_rows(s, ack, &dead) == 0) {
                if (dead.n) {
                    int rc = glci_outbox_dead_add(s->ob, dead.rows, dead.n);
                    if (rc != 0)
                        glci_error("ALARM: cannot keep the %zu observations of batch %llu "
                                   "rejected by the collector: %s", dead.n,
                                   (unsigned long long)ack->seq, glci_outbox_strerror(rc));
                    else
                        s_dead_stored(s);
                }
                s_dead_free(&dead);
            }
            s_clash_drop(s, ack->seq);
        } else if (ack->status == GLCI_WIRE_DUPLICATE && !ack->error[0]) {
            s_clash_drop(s, ack->seq);
        }
    }
    if (ack->seq >= s->clash_last)
        return s_clash_finish(s, now);
    return GLCI_AGENT_OK;
}

/* MALFORMED for batch base: permanent for that batch (PROTOCOL.md: never
 * resend as is). In one transaction (glci_outbox_quarantine_dead) its rows
 * are stored as dead letters with the collector's error, its record moves
 * to the quarantine table, and an empty batch takes its number, so the
 * collector's mark moves past it and delivery goes on with the next batch
 * on the same stream; the rows reach the dead-letter file at the next
 * flush. 1 done, 0 not (the caller backs off and keeps it). */
static int s_malformed(glci_agent_sender_t *s, const glci_wire_ack_t *ack)
{
    glci_outbox_batch_t *b = NULL;
    if (ack->seq != s->base || glci_outbox_read(s->ob, ack->seq, &b) != 0)
        return 0;
    if (b->n_obs == 0) {                /* nothing left to refuse: keep backing off */
        glci_outbox_batch_free(&b);
        return 0;
    }
    char why[sizeof ack->error + 64];
    snprintf(why, sizeof why, "batch refused as malformed: %s",
             ack->error[0] ? ack->error : "(no detail)");
    size_t n = b->n_obs;
    int64_t now = (int64_t)time(NULL);
    glci_outbox_dead_t *rows = glci_xcalloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        rows[i].obs = b->obs[i];
        rows[i].reason = why;
        rows[i].at = now;
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
        s_dead_stored(s);
        done = 1;
    }
    free(rows);
    glci_outbox_batch_free(&b);
    return done;
}

static int s_on_ack(glci_agent_sender_t *s, const void *data, size_t len, int64_t now)
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
        glci_wire_ack_release(&ack);
        return GLCI_AGENT_OK;
    }
    if (ack.stream != s->stream) {
        glci_warn("ignoring an ack for stream %016llx (this outbox is %016llx)",
                  (unsigned long long)ack.stream, (unsigned long long)s->stream);
        glci_wire_ack_release(&ack);
        return GLCI_AGENT_OK;
    }
    rc = GLCI_AGENT_OK;
    if (s->clash_seq) {
        rc = s_clash_answer(s, &ack, now);
        glci_wire_ack_release(&ack);
        return rc;
    }
    if (ack.status == GLCI_WIRE_DUPLICATE && ack.error[0] && ack.seq >= s->base) {
        if (ack.seq == s->base) {
            s_clash_begin(s, &ack, now);
            if (s->clash_last == ack.seq)
                rc = s_clash_finish(s, now);
        } else if (s->gap_target != s->base) {
            /* batches below it have no answer yet: ask again from base */
            s->next_send = s->base;
            s->gap_target = s->base;
        }
        glci_wire_ack_release(&ack);
        return rc;
    }
    switch (ack.status) {
    case GLCI_WIRE_APPLIED:
    case GLCI_WIRE_DUPLICATE: {
        /* The rejected rows are stored with the ack, in its transaction;
         * the dead-letter file is written afterwards (s_flush_dead). */
        s_dead_t dead = {0};
        if (ack.status == GLCI_WIRE_APPLIED && ack.n_rejections > 0 &&
            s_dead_rows(s, &ack, &dead) != 0) {
            s_backoff(s, now);    /* the batch cannot be read: keep it, ask again */
            break;
        }
        /* A DUPLICATE confirms the content of the batch it answers only:
         * batches above it are deleted when their own answers come, so a
         * batch the collector holds other content for is never deleted
         * unseen. */
        uint64_t upto = ack.acked;
        if (ack.status == GLCI_WIRE_DUPLICATE && upto > ack.seq)
            upto = ack.seq;
        rc = s_record_ack(s, upto, &dead, now);
        s_dead_free(&dead);
        s->backoff_ms = S_BACKOFF_MIN_MS;
        glci_debug("batch %llu %s, acked up to %llu", (unsigned long long)ack.seq,
                   glci_wire_status_str((int)ack.status), (unsigned long long)ack.acked);
        break;
    }
    case GLCI_WIRE_GAP:
        if (ack.expected > 0 && ack.expected < s->base && ack.seq >= s->base) {
            rc = s_on_lost(s, &ack, now);
            break;
        }
        /* The mark it reports is not taken as an ack: batches at or below
         * it that are still here get their own answers (DUPLICATE, with
         * their content checked) when sent again from base. */
        if (ack.expected > 0 && ack.expected != s->gap_target &&
            ack.expected < s->next_send) {
            glci_warn("the collector expects batch %llu (answer to %llu); going back",
                      (unsigned long long)ack.expected, (unsigned long long)ack.seq);
            s->gap_target = ack.expected;
            s->next_send = s->base;
        }
        break;
    case GLCI_WIRE_MALFORMED:
        if (s_malformed(s, &ack)) {
            s->next_send = s->base;     /* the empty batch, then the rest */
            s->gap_target = 0;
            break;
        }
        /* not identifiable, or not dead-lettered yet: as FORBIDDEN */
        /* fall through */
    case GLCI_WIRE_FORBIDDEN:
        glci_error("the collector refused batch %llu as %s: %s; the batch is kept",
                   (unsigned long long)ack.seq, glci_wire_status_str((int)ack.status),
                   ack.error[0] ? ack.error : "(no detail)");
        s_set_state(s, ack.status == GLCI_WIRE_FORBIDDEN ? "forbidden" : "malformed");
        s_backoff(s, now);
        break;
    case GLCI_WIRE_UNAVAILABLE:
        glci_warn("the collector cannot store now (batch %llu): %s; will resend",
                  (unsigned long long)ack.seq, ack.error[0] ? ack.error : "unavailable");
        s_backoff(s, now);
        break;
    default:
        break;
    }
    glci_wire_ack_release(&ack);
    return rc;
}

/* Sends one batch; 1 if sent, 0 if the socket would block, <0 on error. */
static int s_send(glci_agent_sender_t *s, uint64_t seq)
{
    glci_outbox_batch_t *b = NULL;
    int rc = glci_outbox_read(s->ob, seq, &b);
    if (rc == GLCI_OUTBOX_ECORRUPT) {
        glci_error("ALARM: outbox batch %llu is corrupt; its record is moved to the "
                   "quarantine table and an empty batch takes its number",
                   (unsigned long long)seq);
        rc = glci_outbox_quarantine(s->ob, seq, (int64_t)time(NULL));
        if (rc == 0)
            rc = glci_outbox_read(s->ob, seq, &b);
    }
    if (rc == GLCI_OUTBOX_ENOENT)
        return 2;               /* acked meanwhile */
    if (rc != 0) {
        glci_error("cannot read batch %llu from the outbox: %s", (unsigned long long)seq,
                   glci_outbox_strerror(rc));
        return GLCI_AGENT_EOUTBOX;
    }
    glci_wire_obs_t *w = glci_xcalloc(b->n_obs ? b->n_obs : 1, sizeof *w);
    for (size_t i = 0; i < b->n_obs; i++) {
        w[i].indicator = b->obs[i].indicator;
        w[i].period = b->obs[i].period;
        w[i].value = b->obs[i].value;
        w[i].observed_at = b->obs[i].observed_at;
        w[i].source = b->obs[i].source && b->obs[i].source[0] ? b->obs[i].source : NULL;
        w[i].has_period = 1;
        w[i].has_value = 1;
        w[i].has_observed_at = b->obs[i].observed_at != 0;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    rc = glci_wire_batch_pack(s->stream, seq, s->city, w, b->n_obs, &buf, &len);
    free(w);
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
        return e == EAGAIN ? 0 : GLCI_AGENT_ENET;
    return 1;
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

int glci_agent_sender_step(glci_agent_sender_t *s, const zmq_pollitem_t *items,
                           int64_t now)
{
    int rc = GLCI_AGENT_OK;
    if (items[1].revents & ZMQ_POLLIN)
        s_on_monitor(s, now);
    if (items[0].revents & ZMQ_POLLIN) {
        for (;;) {
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
    if (now >= s->next_outbox_poll) {
        uint64_t next;
        if (glci_outbox_next_seq(s->ob, &next) == 0)
            s->next_seq = next;
        s->next_outbox_poll = now + S_POLL_OUTBOX_MS;
    }
    if (s->dead_pending && now >= s->next_dead_flush)
        s_flush_dead(s, now);
    if (s->clash_seq && now >= s->clash_deadline) {
        glci_warn("no answer for the batches sent before the clash; asking again from "
                  "batch %llu", (unsigned long long)s->base);
        s->clash_seq = 0;
        s->n_drop = 0;
        s->next_send = s->base;
        s->gap_target = 0;
    }
    if (!s->connected && s->down_since && now - s->down_since > s->ack_timeout_ms)
        s_redial(s, now);
    if (!s->connected || now < s->backoff_until || s->clash_seq)
        return rc;
    if (s->next_send > s->base && now - s->last_ack_ms > s->ack_timeout_ms) {
        glci_warn("no ack for %lld ms; resending from batch %llu",
                  (long long)(now - s->last_ack_ms), (unsigned long long)s->base);
        s->next_send = s->base;
        s->gap_target = 0;
        s->last_ack_ms = now;
    }
    while (s->next_send < s->next_seq && s->next_send < s->base + s->window) {
        if (s->next_send == s->base)
            s->last_ack_ms = now;      /* the clock for an ack starts now */
        int r = s_send(s, s->next_send);
        if (r == 0)
            break;
        if (r < 0) {
            if (rc == 0)
                rc = r;
            break;
        }
        if (r == 2) {                  /* acked meanwhile: re-read the head */
            uint64_t first;
            if (glci_outbox_first_seq(s->ob, &first) == 0 && first > s->base)
                s->base = first;
        }
        s->next_send++;
    }
    return rc;
}

long glci_agent_sender_timeout(const glci_agent_sender_t *s, int64_t now)
{
    int64_t t = s->next_outbox_poll - now;
    if (s->backoff_until > now && s->backoff_until - now < t)
        t = s->backoff_until - now;
    if (s->dead_pending && s->next_dead_flush - now < t)
        t = s->next_dead_flush - now;
    if (t < 0)
        t = 0;
    /* the socket may refuse a send (EAGAIN) while batches wait: look again soon */
    if (s->connected && s->next_send < s->next_seq &&
        s->next_send < s->base + s->window && now >= s->backoff_until && t > 10)
        t = 10;
    return (long)t;
}
