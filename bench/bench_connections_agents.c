/* The agents of glci-bench connections: a process of the bench's own
 * (forked before the bench makes any thread or ZeroMQ context) holding one
 * DEALER and one CURVE key pair per agent, with the socket options the
 * real agent sets (agent/glci_agent_sender.c: immediate, heartbeats every
 * 5 s, reconnect 100 ms .. 5 s). Keeping them out of the bench's own
 * process and out of the collector's means the collector's memory is
 * measured alone. It does what the bench asks over its command pipe (see
 * bench_connections.h) and answers each command once. */
#define _GNU_SOURCE
#include "bench_connections.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_alloc.h"
#include "glci_wire.h"

#define S_ROUND_WAIT_S  180.0   /* a ROUND gives up on missing acks after this */
#define S_SEND_GRACE_S  30.0    /* SEND waits this long for acks after the last send */
#define S_HEARTBEAT_MS  5000    /* the agent's default heartbeat_ivl */

typedef struct {
    const glci_bc_agents_t *a;
    void *ctx;
    void **socks;
    uint64_t *seq;              /* the last sequence number sent, per agent */
    zmq_pollitem_t *items;
} s_agents_t;

void glci_bc_city(int k, char *buf, size_t len)
{
    snprintf(buf, len, "c%05d", k);
}

int glci_bc_write(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int glci_bc_read(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static double s_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t s_stream(int k)
{
    return 0xc0c0000000000000ull + (uint64_t)k;
}

static int s_setopt(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

/* Packs batch `seq` of agent k: n observations, each a different
 * (indicator, period) of the framework, values inside [min, max]. */
static void s_pack(const s_agents_t *s, int k, uint64_t seq, size_t n, uint8_t **buf,
                   size_t *len)
{
    const glci_framework_t *fw = s->a->fw;
    glci_obs_t *obs = glci_xcalloc(n, sizeof *obs);
    for (size_t i = 0; i < n; i++) {
        uint64_t serial = seq * n + i;
        const glci_indicator_t *ind = &fw->ind[serial % fw->n_ind];
        obs[i] = glci_obs_make(ind->id, 2000 + (int64_t)((serial / fw->n_ind) % 26),
                               ind->min + (ind->max - ind->min) *
                                              (double)((serial + (uint64_t)k) % 97) / 97.0);
    }
    char city[16];
    glci_bc_city(s->a->first + k, city, sizeof city);
    glci_wire_batch_pack(s_stream(s->a->first + k), seq, city, obs, n, buf, len);
    free(obs);
}

/* Reads one ack waiting on sock: 1 and its seq in *seq if it was APPLIED
 * without rejections, 0 if it said something else (err filled), -1 if
 * nothing was waiting. */
static int s_ack(void *sock, uint64_t *seq, char *err, size_t errlen)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    glci_wire_ack_t ack;
    memset(&ack, 0, sizeof ack);
    char why[256];
    int rc = glci_wire_ack_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &ack, why, sizeof why);
    zmq_msg_close(&m);
    int good = rc == 0 && ack.status == GLCI_BATCH_APPLIED && ack.n_rejections == 0;
    if (!good)
        snprintf(err, errlen, "ack of seq %llu: %.60s (%zu rejections) %.120s",
                 (unsigned long long)ack.seq, rc == 0 ? glci_batch_status_str(ack.status) : why,
                 ack.n_rejections, ack.error);
    *seq = ack.seq;
    glci_wire_ack_release(&ack);
    return good;
}

/* Counts a failure; the first one's text is what the bench reports. */
static void s_fail(glci_bc_reply_t *r, const char *what, const char *detail)
{
    r->failed++;
    if (!r->error[0])
        snprintf(r->error, sizeof r->error, "%s%s", what, detail);
}

static void s_connect(s_agents_t *s, glci_bc_reply_t *r)
{
    const glci_bc_agents_t *a = s->a;
    for (int k = 0; k < a->n; k++) {
        const int g = a->first + k;
        void *sock = zmq_socket(s->ctx, ZMQ_DEALER);
        int rc = sock ? 0 : -1;
        rc |= s_setopt(sock, ZMQ_LINGER, 0) | s_setopt(sock, ZMQ_IMMEDIATE, 1) |
              s_setopt(sock, ZMQ_SNDHWM, 64) | s_setopt(sock, ZMQ_RCVHWM, 256) |
              s_setopt(sock, ZMQ_HEARTBEAT_IVL, S_HEARTBEAT_MS) |
              s_setopt(sock, ZMQ_HEARTBEAT_TIMEOUT, 3 * S_HEARTBEAT_MS) |
              s_setopt(sock, ZMQ_HEARTBEAT_TTL, 3 * S_HEARTBEAT_MS) |
              s_setopt(sock, ZMQ_RECONNECT_IVL, 100) | s_setopt(sock, ZMQ_RECONNECT_IVL_MAX, 5000) |
              s_setopt(sock, ZMQ_HANDSHAKE_IVL, 10000);
        rc |= zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, a->server_pub->z85, GLCI_Z85_KEY_LEN);
        rc |= zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, a->pub[g].z85, GLCI_Z85_KEY_LEN);
        rc |= zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, a->sec[g].z85, GLCI_Z85_KEY_LEN);
        if (rc == 0)
            rc = zmq_connect(sock, a->endpoint);
        if (rc != 0) {
            s_fail(r, "cannot make a DEALER: ", zmq_strerror(errno));
            if (sock)
                zmq_close(sock);
            sock = NULL;
        } else {
            r->ok++;
        }
        s->socks[k] = sock;
        s->items[k].socket = sock;
        s->items[k].fd = -1;
        s->items[k].events = sock ? ZMQ_POLLIN : 0;
    }
}

/* Every agent sends its next batch (one observation); waits for every ack. */
static void s_round(s_agents_t *s, glci_bc_reply_t *r)
{
    const int n = s->a->n;
    char *done = glci_xcalloc((size_t)n, 1);
    int pending = 0;
    for (int k = 0; k < n; k++) {
        if (!s->socks[k]) {
            done[k] = 1;
            r->failed++;
            continue;
        }
        uint8_t *buf;
        size_t len;
        s_pack(s, k, ++s->seq[k], 1, &buf, &len);
        if (zmq_send(s->socks[k], buf, len, ZMQ_DONTWAIT) < 0) {
            s_fail(r, "send (agent not connected?): ", zmq_strerror(errno));
            done[k] = 1;
        } else {
            pending++;
        }
        free(buf);
    }
    double deadline = s_mono() + S_ROUND_WAIT_S;
    while (pending > 0 && s_mono() < deadline) {
        if (zmq_poll(s->items, n, 1000) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < n; k++) {
            if (done[k] || !(s->items[k].revents & ZMQ_POLLIN))
                continue;
            uint64_t seq;
            char err[256] = "";
            int rc;
            while ((rc = s_ack(s->socks[k], &seq, err, sizeof err)) >= 0) {
                if (seq != s->seq[k])
                    continue;       /* an old answer, resent */
                if (rc == 1)
                    r->ok++;
                else
                    s_fail(r, err, "");
                done[k] = 1;
                pending--;
                break;
            }
        }
    }
    if (pending > 0) {
        r->failed += pending;
        if (!r->error[0])
            snprintf(r->error, sizeof r->error, "%d acks missing after %.0f s", pending,
                     S_ROUND_WAIT_S);
    }
    free(done);
}

/* The latency phase: senders agents each send a batch of c->batch
 * observations c->rate times a second for c->seconds, their first sends
 * spread c->spacing apart; each batch's send-to-ack time is recorded. */
static double *s_send(s_agents_t *s, const glci_bc_cmd_t *c, glci_bc_reply_t *r)
{
    int senders = c->senders < s->a->n ? c->senders : s->a->n;
    int per = (int)ceil(c->rate * c->seconds);
    size_t total = (size_t)senders * (size_t)per;
    double *lat = glci_xcalloc(total ? total : 1, sizeof *lat);
    if (total == 0)
        return lat;
    uint8_t **buf = glci_xcalloc(total, sizeof *buf);
    size_t *len = glci_xcalloc(total, sizeof *len);
    double *sent = glci_xcalloc(total, sizeof *sent);
    uint64_t *first_seq = glci_xcalloc((size_t)senders, sizeof *first_seq);
    int *next = glci_xcalloc((size_t)senders, sizeof *next);
    for (int j = 0; j < senders; j++) {
        first_seq[j] = s->seq[j] + 1;
        for (int b = 0; b < per; b++)
            s_pack(s, j, ++s->seq[j], (size_t)c->batch, &buf[(size_t)j * per + b],
                   &len[(size_t)j * per + b]);
    }
    size_t answered = 0, sent_n = 0;
    double last_due = 0;
    for (;;) {
        double now = s_mono(), wake = now + 1.0;
        for (int j = 0; j < senders; j++) {
            while (next[j] < per) {
                double due = c->t_start + (c->sender_base + j) * c->spacing + next[j] / c->rate;
                if (due > now) {
                    wake = due < wake ? due : wake;
                    break;
                }
                size_t i = (size_t)j * per + next[j];
                sent[i] = s_mono();
                if (zmq_send(s->socks[j], buf[i], len[i], ZMQ_DONTWAIT) < 0) {
                    s_fail(r, "send: ", zmq_strerror(errno));
                    lat[i] = -1;
                    answered++;
                }
                last_due = due;
                next[j]++;
                sent_n++;
            }
        }
        if (sent_n == total && (answered == total || now > last_due + S_SEND_GRACE_S))
            break;
        int wait_ms = (int)((wake - now) * 1000.0);
        if (zmq_poll(s->items, senders, wait_ms < 0 ? 0 : wait_ms) < 0 && errno != EINTR)
            break;
        for (int j = 0; j < senders; j++) {
            if (!(s->items[j].revents & ZMQ_POLLIN))
                continue;
            uint64_t seq;
            char err[256] = "";
            int rc;
            while ((rc = s_ack(s->socks[j], &seq, err, sizeof err)) >= 0) {
                if (seq < first_seq[j] || seq >= first_seq[j] + (uint64_t)per)
                    continue;
                size_t i = (size_t)j * per + (size_t)(seq - first_seq[j]);
                if (lat[i] != 0)
                    continue;       /* answered already */
                double now_ack = s_mono();
                if (rc == 1) {
                    lat[i] = (now_ack - sent[i]) * 1000.0;
                    r->ok++;
                } else {
                    lat[i] = -1;
                    s_fail(r, err, "");
                }
                answered++;
            }
        }
    }
    /* the latencies of acked batches, in order; the rest are failures */
    size_t n_lat = 0;
    for (size_t i = 0; i < total; i++) {
        if (lat[i] > 0)
            lat[n_lat++] = lat[i];
        else if (lat[i] == 0)
            s_fail(r, "a batch was never acked", "");
        free(buf[i]);
    }
    r->n_lat = (int32_t)n_lat;
    free(buf);
    free(len);
    free(sent);
    free(first_seq);
    free(next);
    return lat;
}

int glci_bc_agents_main(const glci_bc_agents_t *a)
{
    s_agents_t s;
    memset(&s, 0, sizeof s);
    s.a = a;
    s.ctx = zmq_ctx_new();
    /* a socket per agent, and a few for libzmq's own use */
    zmq_ctx_set(s.ctx, ZMQ_MAX_SOCKETS, a->n + 64);
    s.socks = glci_xcalloc((size_t)a->n, sizeof *s.socks);
    s.seq = glci_xcalloc((size_t)a->n, sizeof *s.seq);
    s.items = glci_xcalloc((size_t)a->n, sizeof *s.items);
    int status = 0;
    for (;;) {
        glci_bc_cmd_t c;
        if (glci_bc_read(a->cmd_fd, &c, sizeof c) != 0)
            break;
        glci_bc_reply_t r;
        memset(&r, 0, sizeof r);
        r.op = c.op;
        double *lat = NULL;
        if (c.op == GLCI_BC_CONNECT)
            s_connect(&s, &r);
        else if (c.op == GLCI_BC_ROUND)
            s_round(&s, &r);
        else if (c.op == GLCI_BC_SEND)
            lat = s_send(&s, &c, &r);
        else if (c.op != GLCI_BC_QUIT)
            s_fail(&r, "unknown command", "");
        if (glci_bc_write(a->res_fd, &r, sizeof r) != 0 ||
            (lat && r.n_lat > 0 &&
             glci_bc_write(a->res_fd, lat, (size_t)r.n_lat * sizeof *lat) != 0))
            status = 1;
        free(lat);
        if (c.op == GLCI_BC_QUIT || status)
            break;
    }
    for (int k = 0; k < a->n; k++)
        if (s.socks[k])
            zmq_close(s.socks[k]);
    zmq_ctx_term(s.ctx);
    free(s.socks);
    free(s.seq);
    free(s.items);
    return status;
}
