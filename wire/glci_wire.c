/* Batch and Ack encoding with bounded decoding: see glci_wire.h; the
 * budget allocator is glci_wire_int.h's. */
#include "glci_wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci.pb-c.h"
#include "glci_alloc.h"
#include "glci_text.h"
#include "glci_utf8.h"
#include "glci_wire_int.h"

/* The tables of glci_obs.h and the enums of proto/glci.proto are one
 * contract: the same numbers for the same meaning. */
#define S_SAME_STATUS(name, num, text) \
    _Static_assert(GLCI_BATCH_##name == (int)GLCI__STATUS__##name, "status " #name);
GLCI_BATCH_STATUSES(S_SAME_STATUS)
#define S_SAME_REASON(name, num, text, proto) \
    _Static_assert(GLCI_REJECT_##name == (int)GLCI__REASON__##proto, "reason " #name);
GLCI_REJECT_REASONS(S_SAME_REASON)

const char *glci_wire_strerror(int code)
{
    switch (code) {
    case GLCI_WIRE_OK: return "ok";
    case GLCI_WIRE_EDECODE: return "not a valid message";
    case GLCI_WIRE_EBUDGET: return "message needs more memory than allowed";
    case GLCI_WIRE_EVERSION: return "unsupported protocol version";
    case GLCI_WIRE_EFIELD: return "required field missing or out of range";
    case GLCI_WIRE_ELIMIT: return "over a size limit";
    case GLCI_WIRE_EINVAL: return "invalid argument";
    default: return "unknown wire error";
    }
}

/* ---- NUL bytes in strings -------------------------------------------------
 *
 * protobuf-c hands a string field over as a C string, so one that holds a
 * NUL byte arrives cut there, without a word. A walk over the wire bytes
 * (which protobuf-c has just accepted, so they are well framed) sees each
 * string's true bytes: a claimed city (Batch field 4) holding a NUL refuses
 * the batch, an observation's indicator (1) or source (5) holding one is
 * flagged for the shape check, which rejects that observation alone. As in
 * protobuf-c, the last occurrence of a field is the one that counts. */

static int s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Reads one field at *p: its number, and for a length-delimited one its
 * bytes. -1 if the bytes are not a field (never after protobuf-c took
 * them). */
static int s_next_field(const uint8_t **p, const uint8_t *end, uint64_t *number,
                        const uint8_t **data, size_t *len)
{
    uint64_t key, v;
    *data = NULL;
    *len = 0;
    if (s_varint(p, end, &key) != 0)
        return -1;
    *number = key >> 3;
    switch (key & 7) {
    case 0:
        return s_varint(p, end, &v);
    case 1:
    case 5: {
        size_t w = (key & 7) == 1 ? 8 : 4;
        if ((size_t)(end - *p) < w)
            return -1;
        *p += w;
        return 0;
    }
    case 2:
        if (s_varint(p, end, &v) != 0 || v > (uint64_t)(end - *p))
            return -1;
        *data = *p;
        *len = (size_t)v;
        *p += v;
        return 0;
    default:
        return -1;
    }
}

/* Flags the observations of b whose strings hold a NUL; *city_nul: the
 * claimed city does. 0, or -1 if the walk and the decoded batch disagree. */
static int s_nul_scan(const uint8_t *buf, size_t len, glci_wire_batch_t *b, int *city_nul)
{
    const uint8_t *p = buf, *end = buf + len;
    size_t i = 0;
    *city_nul = 0;
    while (p < end) {
        uint64_t num;
        const uint8_t *d;
        size_t n;
        if (s_next_field(&p, end, &num, &d, &n) != 0)
            return -1;
        if (!d)
            continue;
        if (num == 4) {
            *city_nul = memchr(d, 0, n) != NULL;
        } else if (num == 5) {
            const uint8_t *q = d, *qend = d + n;
            if (i >= b->n_obs)
                return -1;
            while (q < qend) {
                uint64_t f;
                const uint8_t *t;
                size_t tn;
                if (s_next_field(&q, qend, &f, &t, &tn) != 0)
                    return -1;
                if (t && f == 1)
                    b->obs[i].indicator_nul = memchr(t, 0, tn) != NULL;
                else if (t && f == 5)
                    b->obs[i].source_nul = memchr(t, 0, tn) != NULL;
            }
            i++;
        }
    }
    return i == b->n_obs ? 0 : -1;
}

/* ---- Batch ------------------------------------------------------------- */

typedef struct {
    glci_wire_budget_t budget;
    Glci__Batch *msg;
} s_batch_priv_t;

int glci_wire_batch_pack(uint64_t stream, uint64_t seq, const char *city,
                         const glci_obs_t *obs, size_t n_obs,
                         uint8_t **out, size_t *outlen)
{
    if (seq == 0 || (city && strlen(city) > GLCI_CITY_ID_MAX))
        return GLCI_WIRE_EINVAL;
    Glci__Batch b = GLCI__BATCH__INIT;
    b.has_version = 1;
    b.version = GLCI_WIRE_VERSION;
    b.has_stream = 1;
    b.stream = stream;
    b.has_seq = 1;
    b.seq = seq;
    b.city = (char *)city;
    Glci__Observation *o = glci_xcalloc(n_obs, sizeof *o);
    Glci__Observation **po = glci_xcalloc(n_obs, sizeof *po);
    for (size_t i = 0; i < n_obs; i++) {
        glci__observation__init(&o[i]);
        const glci_obs_t *x = &obs[i];
        o[i].indicator = x->indicator && x->indicator[0] ? (char *)x->indicator : NULL;
        o[i].source = x->source && x->source[0] ? (char *)x->source : NULL;
        o[i].has_period = x->has_period;
        o[i].period = (int32_t)x->period;
        o[i].has_value = x->has_value;
        o[i].value = x->value;
        o[i].has_retract = x->retract;
        o[i].retract = x->retract;
        o[i].has_observed_at = x->observed_at != 0;
        o[i].observed_at = x->observed_at;
        po[i] = &o[i];
    }
    b.n_obs = n_obs;
    b.obs = po;
    size_t len = glci__batch__get_packed_size(&b);
    uint8_t *buf = glci_xmalloc(len);
    glci__batch__pack(&b, buf);
    free(po);
    free(o);
    *out = buf;
    *outlen = len;
    return GLCI_WIRE_OK;
}

void glci_wire_batch_free(glci_wire_batch_t **self)
{
    if (!self || !*self)
        return;
    glci_wire_batch_t *b = *self;
    s_batch_priv_t *p = b->priv_;
    if (p) {
        glci_wire_budget_release(&p->budget);     /* the message, all of it */
        free(p);
    }
    free(b->obs);
    free(b);
    *self = NULL;
}

int glci_wire_batch_unpack(const void *buf, size_t len, const glci_wire_limits_t *lim,
                           glci_wire_batch_t **out, uint64_t partial[2],
                           char *err, size_t errlen)
{
    size_t batch_max = lim && lim->batch_max ? lim->batch_max : GLCI_BATCH_OBS_MAX;
    size_t budget = glci_wire_default_budget(len);
    if (lim && lim->budget && lim->budget < budget)
        budget = lim->budget;
    int rc = GLCI_WIRE_OK;
    glci_wire_batch_t *b = NULL;
    s_batch_priv_t *p = glci_xcalloc(1, sizeof *p);
    glci_wire_budget_init_arena(&p->budget, budget);

    *out = NULL;
    if (partial)
        partial[0] = partial[1] = 0;
    if (err && errlen)
        err[0] = '\0';

    p->msg = glci__batch__unpack(&p->budget.alloc, len, buf);
    if (!p->msg) {
        if (p->budget.exhausted) {
            rc = GLCI_WIRE_EBUDGET;
            glci_errf(err, errlen, "batch of %zu bytes needs more memory than allowed", len);
        } else {
            rc = GLCI_WIRE_EDECODE;
            glci_errf(err, errlen, "undecodable batch (%zu bytes)", len);
        }
        goto fail;
    }
    Glci__Batch *m = p->msg;
    if (partial) {
        partial[0] = m->has_stream ? m->stream : 0;
        partial[1] = m->has_seq ? m->seq : 0;
    }
    if (m->has_version && m->version != GLCI_WIRE_VERSION) {
        rc = GLCI_WIRE_EVERSION;
        glci_errf(err, errlen, "protocol version %u not supported (this side speaks %u)",
              m->version, GLCI_WIRE_VERSION);
        goto fail;
    }
    if (!m->has_stream) {
        rc = GLCI_WIRE_EFIELD;
        glci_errf(err, errlen, "batch has no stream id");
        goto fail;
    }
    if (!m->has_seq || m->seq == 0) {
        rc = GLCI_WIRE_EFIELD;
        glci_errf(err, errlen, "batch has no sequence number (must be >= 1)");
        goto fail;
    }
    if (m->city && strlen(m->city) > GLCI_CITY_ID_MAX) {
        rc = GLCI_WIRE_ELIMIT;
        glci_errf(err, errlen, "claimed city id longer than %d bytes", GLCI_CITY_ID_MAX);
        goto fail;
    }
    if (m->n_obs > batch_max) {
        rc = GLCI_WIRE_ELIMIT;
        glci_errf(err, errlen, "batch has %zu observations, more than the limit %zu",
              m->n_obs, batch_max);
        goto fail;
    }

    b = glci_xcalloc(1, sizeof *b);
    b->version = m->has_version ? m->version : GLCI_WIRE_VERSION;
    b->stream = m->stream;
    b->seq = m->seq;
    b->city = m->city ? m->city : "";
    b->n_obs = m->n_obs;
    b->obs = glci_xcalloc(m->n_obs, sizeof *b->obs);
    for (size_t i = 0; i < m->n_obs; i++) {
        const Glci__Observation *o = m->obs[i];
        glci_obs_t *w = &b->obs[i];
        w->indicator = o->indicator;
        w->source = o->source;
        w->has_period = o->has_period;
        w->period = o->period;
        w->has_value = o->has_value;
        w->value = o->value;
        w->observed_at = o->has_observed_at ? o->observed_at : 0;
        w->retract = o->has_retract && o->retract;
    }
    int city_nul = 0;
    if (s_nul_scan(buf, len, b, &city_nul) != 0) {
        rc = GLCI_WIRE_EDECODE;
        glci_errf(err, errlen, "undecodable batch (%zu bytes)", len);
        goto fail;
    }
    if (city_nul) {
        rc = GLCI_WIRE_EFIELD;
        glci_errf(err, errlen, "claimed city id contains a NUL byte");
        goto fail;
    }
    b->priv_ = p;
    *out = b;
    return GLCI_WIRE_OK;

fail:
    if (b) {
        free(b->obs);
        free(b);
    }
    glci_wire_budget_release(&p->budget);
    free(p);
    return rc;
}

/* ---- Ack --------------------------------------------------------------- */

int glci_wire_ack_pack(const glci_wire_ack_t *ack, uint8_t **out, size_t *outlen)
{
    if (!glci_batch_status_valid((int)ack->status))
        return GLCI_WIRE_EINVAL;
    Glci__Ack a = GLCI__ACK__INIT;
    a.has_version = 1;
    a.version = GLCI_WIRE_VERSION;
    a.has_stream = 1;
    a.stream = ack->stream;
    a.has_seq = 1;
    a.seq = ack->seq;
    a.has_status = 1;
    a.status = (Glci__Status)ack->status;
    a.has_acked = 1;
    a.acked = ack->acked;
    if (ack->status == GLCI_BATCH_GAP) {
        a.has_expected = 1;
        a.expected = ack->expected;
    }
    if (ack->error[0])
        a.error = (char *)ack->error;
    Glci__Rejection *r = glci_xcalloc(ack->n_rejections, sizeof *r);
    Glci__Rejection **pr = glci_xcalloc(ack->n_rejections, sizeof *pr);
    for (size_t i = 0; i < ack->n_rejections; i++) {
        glci__rejection__init(&r[i]);
        r[i].has_index = 1;
        r[i].index = ack->rejections[i].index;
        r[i].has_reason = 1;
        r[i].reason = (Glci__Reason)ack->rejections[i].reason;
        r[i].message = (char *)ack->rejections[i].message;
        pr[i] = &r[i];
    }
    a.n_rejections = ack->n_rejections;
    a.rejections = pr;
    size_t len = glci__ack__get_packed_size(&a);
    uint8_t *buf = glci_xmalloc(len);
    glci__ack__pack(&a, buf);
    free(pr);
    free(r);
    *out = buf;
    *outlen = len;
    return GLCI_WIRE_OK;
}

/* The collector's texts reach the agent's log, its outbox and rejected.csv:
 * made printable, valid UTF-8 and cut on a character boundary, whatever
 * the bytes were (glci_rejection_t promises printable UTF-8). */
static void s_copy(char *dst, size_t cap, const char *src)
{
    glci_utf8_escape(src ? src : "", SIZE_MAX, dst, cap);
}

int glci_wire_ack_unpack(const void *buf, size_t len, glci_wire_ack_t *ack,
                         char *err, size_t errlen)
{
    glci_wire_budget_t budget;
    glci_wire_budget_init(&budget, glci_wire_default_budget(len));
    memset(ack, 0, sizeof *ack);
    if (err && errlen)
        err[0] = '\0';

    Glci__Ack *m = glci__ack__unpack(&budget.alloc, len, buf);
    if (!m) {
        if (budget.exhausted) {
            glci_errf(err, errlen, "ack of %zu bytes needs more memory than allowed", len);
            return GLCI_WIRE_EBUDGET;
        }
        glci_errf(err, errlen, "undecodable ack (%zu bytes)", len);
        return GLCI_WIRE_EDECODE;
    }
    int rc = GLCI_WIRE_OK;
    if (m->has_version && m->version != GLCI_WIRE_VERSION) {
        rc = GLCI_WIRE_EVERSION;
        glci_errf(err, errlen, "ack protocol version %u not supported", m->version);
        goto done;
    }
    if (!m->has_status || !glci_batch_status_valid((int)m->status)) {
        rc = GLCI_WIRE_EFIELD;
        glci_errf(err, errlen, "ack has no known status");
        goto done;
    }
    ack->version = m->has_version ? m->version : GLCI_WIRE_VERSION;
    ack->stream = m->stream;
    ack->seq = m->seq;
    ack->status = (glci_batch_status_t)m->status;
    ack->acked = m->acked;
    ack->expected = m->has_expected ? m->expected : 0;
    s_copy(ack->error, sizeof ack->error, m->error);
    ack->n_rejections = m->n_rejections;
    ack->rejections = glci_xcalloc(m->n_rejections, sizeof *ack->rejections);
    for (size_t i = 0; i < m->n_rejections; i++) {
        const Glci__Rejection *r = m->rejections[i];
        ack->rejections[i].index = r->index;
        ack->rejections[i].reason = r->has_reason ? (glci_reject_t)r->reason : GLCI_REJECT_NONE;
        s_copy(ack->rejections[i].message, sizeof ack->rejections[i].message, r->message);
    }
done:
    glci__ack__free_unpacked(m, &budget.alloc);
    return rc;
}

void glci_wire_ack_release(glci_wire_ack_t *ack)
{
    if (!ack)
        return;
    free(ack->rejections);
    memset(ack, 0, sizeof *ack);
}
