/* The enrolment endpoint's requests and their limits: see
 * collector_enrol.h. */
#include "collector_enrol.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "collector_auth.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_log_kinds.h"

/* Addresses whose failures are counted; when full, the one whose window
 * started first gives way (it is the nearest to being forgotten anyway). */
#define S_ADDRS_MAX 4096
#define S_LOG_QUIET_MS 60000
/* Refusals are logged quietly per kind and city (or address, before a city
 * is known): each different refusal gets its line, the repeats of one a
 * count (glci_log_kinds.h). The key is the peer's choice, so when every
 * slot still has something to say the rest share one limiter: however many
 * addresses or city ids a peer makes up, a minute has at most
 * S_LOG_SLOTS + 1 lines. */
#define S_LOG_SLOTS 64

typedef struct {
    char addr[GLCI_STORE_ADDR_MAX + 1];
    int64_t start;            /* its window began */
    uint32_t failures;        /* within the window */
    int used;
} s_addr_t;

struct glci_collector_enrol {
    glci_store_t *st;
    glci_collector_enrol_limits_t lim;
    s_addr_t *addrs;
    int64_t total_start;
    uint32_t total_failures;
    glci_log_kinds_t *log;
    int64_t mono_ms;          /* the last time seen, for the counts at free */
};

glci_collector_enrol_t *glci_collector_enrol_new(glci_store_t *st,
                                                 const glci_collector_enrol_limits_t *lim)
{
    glci_collector_enrol_t *e = glci_xcalloc(1, sizeof *e);
    e->st = st;
    e->lim = *lim;
    e->addrs = glci_xcalloc(S_ADDRS_MAX, sizeof *e->addrs);
    char note[160];
    snprintf(note, sizeof note, " [more than %d kinds of enrolment refusal within a minute: "
             "this line's count is of all the kinds beyond them]", S_LOG_SLOTS);
    e->log = glci_log_kinds_new(S_LOG_SLOTS, S_LOG_QUIET_MS, note);
    return e;
}

void glci_collector_enrol_free(glci_collector_enrol_t **self)
{
    if (!self || !*self)
        return;
    glci_log_kinds_free(&(*self)->log, (*self)->mono_ms);
    free((*self)->addrs);
    free(*self);
    *self = NULL;
}

void glci_collector_enrol_set_limits(glci_collector_enrol_t *e,
                                     const glci_collector_enrol_limits_t *lim)
{
    e->lim = *lim;
}

/* The slot of addr: found, else a free one, else the oldest window's. */
static s_addr_t *s_addr(glci_collector_enrol_t *e, const char *addr)
{
    s_addr_t *free_slot = NULL, *oldest = &e->addrs[0];
    for (size_t i = 0; i < S_ADDRS_MAX; i++) {
        s_addr_t *a = &e->addrs[i];
        if (!a->used) {
            if (!free_slot)
                free_slot = a;
            continue;
        }
        if (strcmp(a->addr, addr) == 0)
            return a;
        if (a->start < oldest->start)
            oldest = a;
    }
    s_addr_t *a = free_slot ? free_slot : oldest;
    memset(a, 0, sizeof *a);
    a->used = 1;
    snprintf(a->addr, sizeof a->addr, "%s", addr);
    return a;
}

/* Seconds until addr may try again, 0 if it may now. */
static int64_t s_limited(glci_collector_enrol_t *e, s_addr_t *a, int64_t now)
{
    if (now >= e->total_start + e->lim.window)
        e->total_failures = 0;
    if (now >= a->start + e->lim.window)
        a->failures = 0;
    int64_t wait = 0;
    if (a->failures >= e->lim.tries_per_addr)
        wait = a->start + e->lim.window - now;
    if (e->total_failures >= e->lim.tries_total && e->total_start + e->lim.window - now > wait)
        wait = e->total_start + e->lim.window - now;
    return wait > 0 ? wait : 0;
}

static void s_failed(glci_collector_enrol_t *e, s_addr_t *a, int64_t now)
{
    if (a->failures == 0)
        a->start = now;
    a->failures++;
    if (e->total_failures == 0)
        e->total_start = now;
    e->total_failures++;
}

static void s_log(glci_collector_enrol_t *e, int64_t mono_ms, const char *kind,
                  const char *who, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A refusal's warning, quiet per (kind, who) for S_LOG_QUIET_MS. */
static void s_log(glci_collector_enrol_t *e, int64_t mono_ms, const char *kind,
                  const char *who, const char *fmt, ...)
{
    char key[GLCI_CITY_ID_MAX + GLCI_STORE_ADDR_MAX + 16], msg[512];
    snprintf(key, sizeof key, "%s/%s", kind, who);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->mono_ms = mono_ms;
    glci_log_kinds(e->log, key, mono_ms, GLCI_LOG_WARN, "%s", msg);
}

void glci_collector_enrol_tick(glci_collector_enrol_t *e, int64_t mono_ms)
{
    e->mono_ms = mono_ms;
    glci_log_kinds_tick(e->log, mono_ms);
}

static void s_reply(glci_enrol_reply_t *r, glci_enrol_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_reply(glci_enrol_reply_t *r, glci_enrol_status_t status, const char *fmt, ...)
{
    va_list ap;
    r->status = status;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

void glci_collector_enrol_handle(glci_collector_enrol_t *e, const void *frame, size_t len,
                                 const char *key_z85, const char *addr, int64_t now,
                                 int64_t mono_ms, glci_enrol_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    if (!addr || !*addr)
        addr = "?";
    s_addr_t *a = s_addr(e, addr);
    int64_t wait = s_limited(e, a, now);
    if (wait > 0) {
        s_reply(reply, GLCI_ENROL_LIMITED, "too many failed enrolment tries from %s: try "
                "again in %lld s", addr, (long long)wait);
        reply->retry_after = (uint32_t)wait;
        s_log(e, mono_ms, "limited", addr, "enrol: %s has failed too often; its tries are "
              "refused for %lld s", addr, (long long)wait);
        return;
    }
    glci_enrol_request_t req;
    unsigned char key[32];
    char why[256];
    if (!key_z85 || glci_key_decode(key_z85, key) != 0) {
        s_failed(e, a, now);
        s_reply(reply, GLCI_ENROL_MALFORMED, "connection not authenticated with CURVE");
        return;
    }
    if (glci_enrol_request_unpack(frame, len, &req, why, sizeof why) != 0) {
        s_failed(e, a, now);
        s_reply(reply, GLCI_ENROL_MALFORMED, "%s", why);
        s_log(e, mono_ms, "malformed", addr, "enrol: refused a request from %s: %s", addr,
              why);
        return;
    }
    glci_enrol_outcome_t outcome;
    glci_invite_t inv;
    char msg[GLCI_ENROL_ERROR_MAX + 1], fp[GLCI_KEY_FP_LEN + 1];
    int rc = glci_store_enrol(e->st, req.city, req.secret, key, now, &outcome, &inv, msg,
                              sizeof msg);
    memset(req.secret, 0, sizeof req.secret);
    glci_key_fingerprint_raw(key, fp);
    if (rc != 0) {
        s_reply(reply, GLCI_ENROL_UNAVAILABLE, "the collector cannot store now (%s); try "
                "again later", glci_store_strerror(rc));
        glci_error("enrol: cannot store the enrolment of %s from %s: %s", req.city, addr, msg);
        return;
    }
    if (outcome == GLCI_ENROL_OK) {
        reply->status = GLCI_ENROL_ENROLLED;
        snprintf(reply->city, sizeof reply->city, "%s", req.city);
        glci_info("enrol: city %s enrolled key %s from %s (invitation %s)", req.city, fp,
                  addr, inv.id);
        return;
    }
    if (outcome == GLCI_ENROL_NO_MATCH)
        s_failed(e, a, now);
    s_reply(reply, GLCI_ENROL_REFUSED, "%s", msg);
    char kind[16];
    snprintf(kind, sizeof kind, "outcome%d", (int)outcome);
    s_log(e, mono_ms, kind, req.city, "enrol: refused key %s for city %s from %s: %s", fp,
          req.city, addr, msg);
}

/* Receives one request: its routing id and the frames after it (the first
 * in *body). Returns 1 + the number of frames after the id, 0 if nothing
 * waits (id and body then untouched), -1 on a socket error. */
static int s_recv(void *sock, zmq_msg_t *id, zmq_msg_t *body)
{
    zmq_msg_init(id);
    if (zmq_msg_recv(id, sock, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close(id);
        return e == EAGAIN || e == EINTR ? 0 : -1;
    }
    int frames = 0, more = zmq_msg_more(id);
    zmq_msg_init(body);
    while (more) {
        zmq_msg_t extra, *m = frames == 0 ? body : &extra;
        if (m == &extra)
            zmq_msg_init(&extra);
        if (zmq_msg_recv(m, sock, 0) < 0) {
            if (m == &extra)
                zmq_msg_close(&extra);
            break;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(&extra);
        frames++;
    }
    return frames + 1;
}

int glci_collector_enrol_serve(glci_collector_enrol_t *e, void *sock, int64_t now,
                               int64_t mono_ms)
{
    int answered = 0;
    for (;;) {
        zmq_msg_t id, body;
        int got = s_recv(sock, &id, &body);
        if (got <= 0)
            return got < 0 ? -1 : answered;
        int frames = got - 1;
        glci_enrol_reply_t reply;
        const char *key = frames >= 1 ? zmq_msg_gets(&body, GLCI_COLLECTOR_KEY_PROPERTY) : NULL;
        const char *addr = frames >= 1 ? zmq_msg_gets(&body, "Peer-Address") : NULL;
        if (frames != 1) {
            memset(&reply, 0, sizeof reply);
            reply.status = GLCI_ENROL_MALFORMED;
            snprintf(reply.error, sizeof reply.error, "an enrolment request is one frame; "
                     "got %d", frames);
        } else {
            glci_collector_enrol_handle(e, zmq_msg_data(&body), zmq_msg_size(&body), key,
                                        addr, now, mono_ms, &reply);
        }
        uint8_t *buf;
        size_t len;
        if (glci_enrol_reply_pack(&reply, &buf, &len) == 0) {
            if (zmq_send(sock, zmq_msg_data(&id), zmq_msg_size(&id),
                         ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0)
                glci_debug("enrol: reply dropped: %s", zmq_strerror(errno));
            free(buf);
        }
        zmq_msg_close(&body);
        zmq_msg_close(&id);
        answered++;
    }
}
