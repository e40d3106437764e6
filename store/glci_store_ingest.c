/* The ingest transaction: a group of batches applied in one durable LMDB
 * write transaction (group commit).
 *
 * Shape of the transaction, chosen so that LMDB touches each page once and
 * in key order (a scattered put copies a whole page each time):
 *   1. In batch order: find the city (FORBIDDEN if unknown or revoked), the
 *      stream mark, and decide DUPLICATE / GAP / APPLIED. For an applied
 *      batch, validate every observation: a valid one becomes a work item
 *      numbered by the city's history counter (application order), an
 *      invalid one is written to the rejects log at once (its keys only
 *      grow, so those writes are appends).
 *   2. Sort the work by history key (city, number) and write the history:
 *      one run of appends at the end of each city's range.
 *   3. Sort the work by observation key; per (city, indicator, period) the
 *      last value wins (the earlier ones are revisions, kept in history)
 *      and is written once.
 *   4. From the winners, the index updates: one per affected period. Sorted
 *      by (city, period), each result is read once, updated for all its
 *      observations with the engine's incremental path, written once, and
 *      its rank-view entry moved only if its index or coverage changed.
 *   5. Period counts, stream marks, city records, store counters.
 * The whole body is a callback of glci_mdb_write: on MDB_MAP_FULL it is
 * run again from scratch, so it resets all its scratch state on entry.
 *
 * Retractions (SPEC §7) take the same path: in step 1 a retraction must
 * find a current value (the stored one, or one of an earlier item of the
 * group: the pending table, kept only for groups that hold a retraction),
 * else it is rejected; in step 3 a retraction that wins its key deletes
 * the stored value and asks each affected result to reset the slot from
 * the values that remain (glci_index_reset), which in step 4 empties a
 * result whose last value went. An operator's correction (glci_store_correct)
 * is one more work item, judged like an agent's, in a transaction of its
 * own: steps 2 to 5 are shared (s_apply, s_finish). */
#include "glci_store_int.h"

#include <assert.h>
#include <math.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"
#include "glci_utf8.h"

typedef struct {
    const char *id;           /* points into the caller's batch */
    s_cityrec_t rec;
    int ok;                   /* known and active */
    int dirty;
    uint32_t order;           /* rank of id among the cities of this txn */
    uint64_t dropped;         /* its rejects dropped from the log (meta) */
    int dropped_read, dropped_dirty;
} s_tcity_t;

typedef struct {
    uint32_t city;
    uint64_t stream;
    uint64_t mark0, mark;
} s_tstream_t;

typedef struct {
    uint32_t order;           /* city order, for sorting */
    uint32_t city;            /* index into cities */
    uint32_t ind;
    int32_t period;
    double value;
    uint64_t hist_no;
    uint32_t batch, obs;
    int retract;              /* a revision without a value */
    uint32_t hlen;            /* its history entry's bytes (step 2's plan) */
    const glci_correction_t *op;   /* an operator's correction, else NULL */
} s_work_t;

typedef struct {
    uint32_t order, city;
    int32_t P;
    uint32_t ind;
    int32_t p;
    double v;
    int reset;                /* re-read the slot from the stored values */
} s_upd_t;

typedef struct {
    int32_t period;
    int64_t delta;
} s_pdelta_t;

/* The state an earlier item of this group left (city, indicator, period)
 * in, for judging a later retraction of it. */
typedef struct {
    uint32_t city, ind;
    int32_t period;
    uint8_t used, has_value;
} s_pend_t;

/* A sort key and the index of its item (see "sorting the work"). */
typedef struct {
    uint64_t key;
    uint64_t idx;
} s_rkey_t;

/* The store counters a transaction moves. */
typedef struct {
    uint64_t n_obs, n_hist, n_rej, n_bat, next_rej;
    int any_applied;
} s_counts_t;

typedef struct {
    glci_store_t *st;
    const glci_batch_t *batches;
    size_t n;
    int64_t now;
    int64_t recv;             /* the receive time recorded (glci_store_receive_time) */
    int64_t future_ok;        /* the latest period the future rule passed at recv */
    glci_batch_result_t *results;
    const glci_correction_t *corr;     /* glci_store_correct: the one correction */
    glci_correction_result_t corr_res;
    char *err;
    size_t errlen;
    s_pend_t *pend;           /* open addressing; NULL when the group has no retraction */
    size_t pend_mask;

    s_tcity_t *cities;
    size_t n_cities, cap_cities;
    s_tstream_t *streams;
    size_t n_streams, cap_streams;
    s_work_t *work;
    size_t n_work, cap_work;
    s_work_t *work_alt;       /* a sort gathers into it, then the two swap */
    size_t cap_work_alt;
    s_upd_t *upd;
    size_t n_upd, cap_upd;
    s_upd_t *upd_alt;
    size_t cap_upd_alt;
    uint32_t *pcount;         /* s_sort_upd's counts, one per period */
    size_t cap_pcount;
    s_pdelta_t *pd;
    size_t n_pd, cap_pd;
    glci_result_t *r;         /* aligned scratch result */
    glci_result_t *r0;        /* its slots as stored, for those step 4 read */
    unsigned char *head;      /* a head record being written */
    uint32_t *loaded;         /* per focus area: == stamp when its slots are read */
    uint32_t *written;        /* per chunk: == stamp when it is written */
    uint32_t *dirty;          /* per focus area: == stamp when a slot of it changed */
    uint32_t *touched;        /* those focus areas, n_touched of them */
    size_t n_touched;
    uint32_t stamp;
    unsigned char *buf;       /* record scratch */
    size_t cap_buf;
    s_rkey_t *keys;           /* sort keys and their radix scratch */
    size_t cap_keys;
    uint64_t dropped;         /* rejects dropped from the log in this txn */
    struct s_hrun *hruns;     /* step 2's runs (s_plan_history) */
    size_t n_hruns, cap_hruns;
    uint64_t hist_base;       /* meta hist_runs as the transaction found it */
    const s_rkey_t *hist_ord; /* step 2's order of the work */
} s_ingest_t;

void glci_batch_result_release(glci_batch_result_t *r)
{
    if (!r)
        return;
    free(r->rejections);
    r->rejections = NULL;
    r->n_rejections = 0;
}

#define S_GROW(arr, n, cap)                                                   \
    do {                                                                      \
        if ((n) == (cap)) {                                                   \
            (cap) = (cap) ? (cap) * 2 : 16;                                   \
            (arr) = glci_xrealloc((arr), (cap) * sizeof *(arr));              \
        }                                                                     \
    } while (0)

static unsigned char *s_buf(s_ingest_t *g, size_t need)
{
    if (need > g->cap_buf) {
        g->cap_buf = need * 2;
        g->buf = glci_xrealloc(g->buf, g->cap_buf);
    }
    return g->buf;
}

/* The slot of city id in this transaction, loading its record on first use. */
static int s_city(s_ingest_t *g, MDB_txn *txn, const char *id, uint32_t *slot)
{
    s_tcity_t *c;
    int rc;

    for (size_t i = 0; i < g->n_cities; i++)
        if (strcmp(g->cities[i].id, id) == 0) {
            *slot = (uint32_t)i;
            return 0;
        }
    S_GROW(g->cities, g->n_cities, g->cap_cities);
    c = &g->cities[g->n_cities];
    memset(c, 0, sizeof *c);
    c->id = id;
    rc = glci_store_city_get(g->st, txn, id, &c->rec);
    if (rc == 0)
        c->ok = c->rec.active != 0;
    else if (rc != GLCI_STORE_ENOCITY)
        return rc;
    *slot = (uint32_t)g->n_cities++;
    return 0;
}

static int s_stream(s_ingest_t *g, MDB_txn *txn, uint32_t city, uint64_t stream,
                    uint32_t *slot)
{
    unsigned char k[S_CITYZ_MAX + 8];
    MDB_val key, val;
    s_tstream_t *s;
    size_t n;
    int rc;

    for (size_t i = 0; i < g->n_streams; i++)
        if (g->streams[i].city == city && g->streams[i].stream == stream) {
            *slot = (uint32_t)i;
            return 0;
        }
    n = glci_store_cityz(k, g->cities[city].id);
    glci_be64_put(k + n, stream);
    key.mv_size = n + 8;
    key.mv_data = k;
    S_GROW(g->streams, g->n_streams, g->cap_streams);
    s = &g->streams[g->n_streams];
    s->city = city;
    s->stream = stream;
    s->mark0 = 0;
    rc = mdb_get(txn, g->st->dbi[S_DB_STREAMS], &key, &val);
    if (rc == 0) {
        if (val.mv_size != 8)
            return GLCI_STORE_ECORRUPT;
        s->mark0 = glci_be64_get(val.mv_data);
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    s->mark = s->mark0;
    *slot = (uint32_t)g->n_streams++;
    return 0;
}

/* The hash's input gathered in a buffer and passed to BLAKE2b a few KiB
 * at a time: the same bytes in the same order, so the same hash as one
 * update per field gave (the stored hashes stay comparable), without the
 * call per field that the profile showed at a third of the hash's cost. */
typedef struct {
    crypto_generichash_state h;
    size_t n;
    unsigned char buf[4096];
} s_hasher_t;

static void s_hasher_add(s_hasher_t *x, const void *p, size_t len)
{
    if (x->n + len > sizeof x->buf) {
        crypto_generichash_update(&x->h, x->buf, x->n);
        x->n = 0;
        if (len > sizeof x->buf) {
            crypto_generichash_update(&x->h, p, len);
            return;
        }
    }
    memcpy(x->buf + x->n, p, len);
    x->n += len;
}

void glci_store_batch_hash(const glci_batch_t *b, unsigned char out[GLCI_STORE_BATCH_HASH_LEN])
{
    s_hasher_t x;
    unsigned char buf[8 + 8 + 8 + 8 + 2];

    crypto_generichash_init(&x.h, NULL, 0, GLCI_STORE_HASH_LEN);
    x.n = 0;
    glci_be64_put(buf, (uint64_t)b->n_obs);
    s_hasher_add(&x, buf, 8);
    for (size_t i = 0; i < b->n_obs; i++) {
        const glci_obs_t *o = &b->obs[i];
        uint64_t bits;
        size_t il = o->indicator ? strlen(o->indicator) : 0;
        size_t sl = o->source ? strlen(o->source) : 0;
        memcpy(&bits, &o->value, 8);
        glci_be64_put(buf, (uint64_t)o->period);
        glci_be64_put(buf + 8, o->has_value ? bits : 0);
        glci_be64_put(buf + 16, (uint64_t)o->observed_at);
        glci_be64_put(buf + 24, ((uint64_t)il << 32) | sl);
        buf[32] = (unsigned char)(o->indicator != NULL);
        buf[33] = (unsigned char)((o->has_period ? 1 : 0) | (o->has_value ? 2 : 0) |
                                  (o->source ? 4 : 0) | (o->retract ? 8 : 0));
        s_hasher_add(&x, buf, sizeof buf);
        if (il)
            s_hasher_add(&x, o->indicator, il);
        if (sl)
            s_hasher_add(&x, o->source, sl);
    }
    if (x.n)
        crypto_generichash_update(&x.h, x.buf, x.n);
    crypto_generichash_final(&x.h, out, GLCI_STORE_HASH_LEN);
}

static void s_hash_batch(const glci_batch_t *b, unsigned char out[GLCI_STORE_HASH_LEN])
{
    if (b->has_hash)
        memcpy(out, b->hash, GLCI_STORE_HASH_LEN);
    else
        glci_store_batch_hash(b, out);
}

static int s_batch_key(unsigned char *k, const char *city, uint64_t stream, uint64_t seq)
{
    size_t n = glci_store_cityz(k, city);
    glci_be64_put(k + n, stream);
    glci_be64_put(k + n + 8, seq);
    return (int)(n + 16);
}

/* Records the content hash of an applied batch; forgets the one
 * GLCI_STORE_HASH_KEEP seqs older. */
static int s_hash_put(s_ingest_t *g, MDB_txn *txn, const glci_batch_t *b)
{
    unsigned char k[S_CITYZ_MAX + 16], h[GLCI_STORE_HASH_LEN];
    MDB_val key, val = {GLCI_STORE_HASH_LEN, h};
    int rc;

    s_hash_batch(b, h);
    key.mv_data = k;
    key.mv_size = (size_t)s_batch_key(k, b->city, b->stream, b->seq);
    rc = mdb_put(txn, g->st->dbi[S_DB_BATCHES], &key, &val, 0);
    if (rc != 0 || b->seq <= GLCI_STORE_HASH_KEEP)
        return rc;
    key.mv_size = (size_t)s_batch_key(k, b->city, b->stream, b->seq - GLCI_STORE_HASH_KEEP);
    rc = mdb_del(txn, g->st->dbi[S_DB_BATCHES], &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* 1 if a hash is kept for (city, stream, seq) and differs from b's. */
static int s_hash_differs(s_ingest_t *g, MDB_txn *txn, const glci_batch_t *b)
{
    unsigned char k[S_CITYZ_MAX + 16], h[GLCI_STORE_HASH_LEN];
    MDB_val key, val;

    key.mv_data = k;
    key.mv_size = (size_t)s_batch_key(k, b->city, b->stream, b->seq);
    if (mdb_get(txn, g->st->dbi[S_DB_BATCHES], &key, &val) != 0 ||
        val.mv_size != GLCI_STORE_HASH_LEN)
        return 0;
    s_hash_batch(b, h);
    return memcmp(h, val.mv_data, GLCI_STORE_HASH_LEN) != 0;
}

/* Judges one observation: its shape (glci_obs_check), then against the
 * framework (glci_framework_check). GLCI_REJECT_NONE and *ind, or a reason
 * + msg. Everything written into msg is printable, valid UTF-8: the
 * indicator as received is named only escaped (glci_utf8_escape). */
static glci_reject_t s_check(const glci_framework_t *fw, const glci_obs_t *o, int64_t recv,
                             int64_t *future_ok, uint32_t *ind, char *msg, size_t msglen)
{
    char shape[GLCI_REJECT_MESSAGE_MAX + 1];
    glci_reject_t why = glci_obs_check(o, shape, sizeof shape);
    if (why != GLCI_REJECT_NONE) {
        /* name the indicator when it is not itself the fault */
        if (o->indicator && o->indicator[0] &&
            strlen(o->indicator) <= GLCI_OBS_INDICATOR_MAX) {
            char ie[61];          /* the id escaped, cut after 60 bytes */
            glci_utf8_escape(o->indicator, GLCI_OBS_INDICATOR_MAX, ie, sizeof ie);
            if (snprintf(msg, msglen, "%s: %s", ie, shape) >= (int)msglen)
                return why;   /* cut: the caller escapes what ends mid-character */
        } else {
            snprintf(msg, msglen, "%s", shape);
        }
        return why;
    }
    msg[0] = 0;
    why = o->retract ? glci_framework_check_key(fw, o->indicator, o->period, ind, msg, msglen)
                     : glci_framework_check(fw, o->indicator, o->period, o->value, ind, msg,
                                            msglen);
    if (why != GLCI_REJECT_NONE)
        return why;
    /* The future rule only bounds periods from above, and recv is the
     * transaction's: a period at or below one it accepted passes without
     * asking again (it reads the calendar, a cost per value the profile
     * showed). */
    if (o->period <= *future_ok)
        return GLCI_REJECT_NONE;
    why = glci_framework_check_future(fw, o->period, recv, msg, msglen);
    if (why == GLCI_REJECT_NONE)
        *future_ok = o->period;
    return why;
}

/* ---- the pending table: what earlier items of the group left ------------ */

static uint64_t s_pend_hash(uint32_t city, uint32_t ind, int32_t period)
{
    uint64_t h = ((uint64_t)city << 40) ^ ((uint64_t)ind << 20) ^ (uint32_t)period;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static s_pend_t *s_pend_slot(s_ingest_t *g, uint32_t city, uint32_t ind, int32_t period)
{
    for (size_t h = s_pend_hash(city, ind, period) & g->pend_mask;; h = (h + 1) & g->pend_mask) {
        s_pend_t *e = &g->pend[h];
        if (!e->used || (e->city == city && e->ind == ind && e->period == period))
            return e;
    }
}

static void s_pend_set(s_ingest_t *g, const s_work_t *w)
{
    if (!g->pend)
        return;
    s_pend_t *e = s_pend_slot(g, w->city, w->ind, w->period);
    *e = (s_pend_t){.city = w->city, .ind = w->ind, .period = w->period, .used = 1,
                    .has_value = !w->retract};
}

/* Sizes the pending table for the group when it holds a retraction (the
 * only item that asks it); a group without one pays nothing. */
static void s_pend_init(s_ingest_t *g)
{
    size_t total = 0;
    int any = 0;
    for (size_t b = 0; b < g->n; b++) {
        total += g->batches[b].n_obs;
        for (size_t i = 0; i < g->batches[b].n_obs && !any; i++)
            any = g->batches[b].obs[i].retract;
    }
    free(g->pend);
    g->pend = NULL;
    if (!any)
        return;
    size_t cap = 16;
    while (cap < 2 * total + 2)
        cap *= 2;
    g->pend = glci_xcalloc(cap, sizeof *g->pend);
    g->pend_mask = cap - 1;
}

/* The stored current value of (city, ind, period): *has, *value. */
static int s_obs_get(s_ingest_t *g, MDB_txn *txn, const char *city, uint32_t ind,
                     int32_t period, int *has, double *value)
{
    unsigned char k[S_CITYZ_MAX + 6];
    MDB_val key = {glci_store_obs_key(k, city, ind, period), k}, val;
    int rc = mdb_get(txn, g->st->dbi[S_DB_OBS], &key, &val);
    *has = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (val.mv_size != sizeof(s_obsrec_t))
        return GLCI_STORE_ECORRUPT;
    s_obsrec_t o;
    memcpy(&o, val.mv_data, sizeof o);
    *has = 1;
    *value = o.value;
    return 0;
}

/* Whether (city, ind, period) has a current value at this point of the
 * transaction: left by an earlier item, else stored. *value receives it. */
static int s_current(s_ingest_t *g, MDB_txn *txn, uint32_t city, uint32_t ind, int32_t period,
                     int *has, double *value)
{
    if (g->pend) {
        const s_pend_t *e = s_pend_slot(g, city, ind, period);
        if (e->used) {
            *has = e->has_value;
            /* the value itself is not kept: only a correction asks for it,
             * and a correction is alone in its transaction */
            *value = 0.0;
            return 0;
        }
    }
    return s_obs_get(g, txn, g->cities[city].id, ind, period, has, value);
}

/* 1 if b names another city than the one its key belongs to, with the
 * message every one of its observations is rejected with in msg (the
 * claimed id escaped: it comes from the payload). */
static int s_wrong_city(const glci_batch_t *b, char *msg, size_t msglen)
{
    if (!b->claimed_city || !b->claimed_city[0] || strcmp(b->claimed_city, b->city) == 0)
        return 0;
    char claimed[GLCI_CITY_ID_MAX + 1];   /* a valid id whole; others escaped, cut */
    glci_utf8_escape(b->claimed_city, GLCI_CITY_ID_MAX, claimed, sizeof claimed);
    snprintf(msg, msglen, "batch claims city %s but its key belongs to %s", claimed, b->city);
    return 1;
}

/* Writes one rejected observation to the log and the city's reject index;
 * msg is already printable, valid UTF-8, the indicator is escaped here. */
static int s_reject_put(s_ingest_t *g, MDB_txn *txn, uint64_t no, const glci_batch_t *b,
                        uint32_t idx, glci_reject_t reason, const char *msg)
{
    const glci_obs_t *o = &b->obs[idx];
    /* The indicator is stored as received but escaped: rows must be
     * printable, valid UTF-8 for every reader (JSON output refuses others). */
    char ind[GLCI_REJECT_IND_KEEP + 1];
    size_t cl = strlen(b->city);
    size_t il = o->indicator ? glci_utf8_escape(o->indicator, GLCI_REJECT_IND_KEEP, ind,
                                                sizeof ind) : 0;
    size_t ml = strlen(msg);
    s_rejrec_t rec;
    unsigned char *p, k[S_CITYZ_MAX + 8];
    MDB_val key, val;
    size_t n;
    int rc;

    if (cl > GLCI_CITY_ID_MAX)
        cl = GLCI_CITY_ID_MAX;
    if (!o->indicator)
        ind[0] = 0;
    memset(&rec, 0, sizeof rec);
    rec.period = o->has_period ? o->period : 0;
    rec.value = o->has_value ? o->value : 0.0;
    rec.received = g->recv;
    rec.stream = b->stream;
    rec.seq = b->seq;
    rec.index = idx;
    rec.reason = (uint8_t)reason;
    rec.has_period = o->has_period ? 1 : 0;
    rec.has_value = o->has_value ? 1 : 0;
    rec.city_len = (uint16_t)cl;
    rec.ind_len = (uint16_t)il;
    rec.msg_len = (uint16_t)ml;
    n = sizeof rec + cl + 1 + il + 1 + ml + 1;
    p = s_buf(g, n);
    memcpy(p, &rec, sizeof rec);
    memcpy(p + sizeof rec, b->city, cl);
    p[sizeof rec + cl] = 0;
    memcpy(p + sizeof rec + cl + 1, ind, il);
    p[sizeof rec + cl + 1 + il] = 0;
    memcpy(p + sizeof rec + cl + 1 + il + 1, msg, ml + 1);

    glci_be64_put(k, no);
    key.mv_size = 8;
    key.mv_data = k;
    val.mv_size = n;
    val.mv_data = p;
    rc = mdb_put(txn, g->st->dbi[S_DB_REJECTS], &key, &val, MDB_APPEND);
    if (rc != 0)
        return rc;
    n = glci_store_cityz(k, b->city);
    glci_be64_put(k + n, no);
    key.mv_size = n + 8;
    val.mv_size = 0;
    val.mv_data = k;
    return mdb_put(txn, g->st->dbi[S_DB_CITY_REJECTS], &key, &val, 0);
}

/* The log keeps at most st->rejects_keep rejects per city: before one
 * more is written, the city's oldest are deleted (at most a few per new
 * one, so a log kept longer by an older program shrinks as it grows) and
 * counted per city and in all ("rejects_dropped"; docs/STORE.md). A city
 * flooding the collector with bad rows costs its own history of rejects,
 * never another city's, and the store a bounded size. */
#define S_DROP_PER_REJECT 16

static void s_dropped_key(char *buf, size_t len, const char *city)
{
    snprintf(buf, len, "rejects_dropped/%s", city);
}

static int s_reject_room(s_ingest_t *g, MDB_txn *txn, s_tcity_t *c)
{
    char name[GLCI_CITY_ID_MAX + 32];
    unsigned char k[S_CITYZ_MAX + 8];
    MDB_cursor *cur = NULL;
    int rc;
    if (!c->dropped_read) {
        s_dropped_key(name, sizeof name, c->id);
        rc = glci_store_meta_u64(g->st, txn, name, &c->dropped);
        if (rc != 0)
            return rc;
        c->dropped_read = 1;
    }
    size_t n = glci_store_cityz(k, c->id);
    for (int i = 0; i < S_DROP_PER_REJECT; i++) {
        if (c->rec.rejects < c->dropped || c->rec.rejects - c->dropped < g->st->rejects_keep)
            break;
        if (!cur && (rc = mdb_cursor_open(txn, g->st->dbi[S_DB_CITY_REJECTS], &cur)) != 0)
            return rc;
        MDB_val key = {n, k}, val;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc != 0)
            goto out;
        if (key.mv_size != n + 8 || memcmp(key.mv_data, k, n) != 0)
            break;                           /* none of this city left */
        unsigned char no[8];
        memcpy(no, (const unsigned char *)key.mv_data + n, 8);
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            goto out;
        MDB_val rk = {8, no};
        rc = mdb_del(txn, g->st->dbi[S_DB_REJECTS], &rk, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            goto out;
        c->dropped++;
        c->dropped_dirty = 1;
        g->dropped++;
    }
    rc = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

static void s_add_rejection(glci_batch_result_t *res, uint32_t idx, glci_reject_t reason,
                            const char *msg)
{
    glci_rejection_t *rj;
    /* The array doubles when its count reaches a power of two (its size is
     * always the next one): a batch of 10,000 rejects costs 14 reallocs, not
     * 10,000 (each a copy of the whole array under a sanitizer). */
    size_t n = res->n_rejections;
    if (n == 0 || (n & (n - 1)) == 0)
        res->rejections = glci_xrealloc(res->rejections,
                                        (n ? 2 * n : 1) * sizeof *res->rejections);
    rj = &res->rejections[res->n_rejections++];
    rj->index = idx;
    rj->reason = reason;
    snprintf(rj->message, sizeof rj->message, "%s", msg);
}

typedef struct {
    const char *id;
    uint32_t slot;
} s_idslot_t;

static int s_cmp_idslot(const void *a, const void *b)
{
    return strcmp(((const s_idslot_t *)a)->id, ((const s_idslot_t *)b)->id);
}

static int s_cmp_pd(const void *a, const void *b)
{
    const s_pdelta_t *x = a, *y = b;
    return x->period < y->period ? -1 : x->period > y->period;
}

static void s_period_delta(s_ingest_t *g, int32_t period, int64_t delta)
{
    for (size_t i = 0; i < g->n_pd; i++)
        if (g->pd[i].period == period) {
            g->pd[i].delta += delta;
            return;
        }
    S_GROW(g->pd, g->n_pd, g->cap_pd);
    g->pd[g->n_pd].period = period;
    g->pd[g->n_pd].delta = delta;
    g->n_pd++;
}

/* ---- sorting the work ------------------------------------------------------
 *
 * The three sorts of a transaction order up to a few hundred thousand
 * items by small integer fields, which a comparison sort did at a cost the
 * profile showed (msort, its comparators and their memmove: 15% of the
 * collector). Each item gets a 64-bit key whose unsigned order is the
 * wanted order; an LSD radix sort by bytes (stable) orders (key, index)
 * pairs by the bytes in which the keys differ (one to three of the eight:
 * a transaction's cities, indicators and periods are few), and the items
 * are gathered once into a second array that then takes the first's
 * place. Keys already in order (one pass finds out) are not sorted. */

/* Sorts a[0..n) by key, stably; tmp holds n. Returns the sorted array
 * (a or tmp), or NULL when a was in order already. */
static s_rkey_t *s_radix(s_rkey_t *a, s_rkey_t *tmp, size_t n)
{
    uint64_t differ = 0, k0 = a[0].key;
    int sorted = 1;
    for (size_t i = 1; i < n; i++) {
        differ |= a[i].key ^ k0;
        sorted &= a[i - 1].key <= a[i].key;
    }
    if (sorted)
        return NULL;
    int shift[8], nb = 0;
    for (int b = 0; b < 8; b++)
        if ((differ >> (8 * b)) & 0xff)
            shift[nb++] = 8 * b;
    size_t count[8][256];
    memset(count, 0, (size_t)nb * sizeof count[0]);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].key;
        for (int j = 0; j < nb; j++)
            count[j][(k >> shift[j]) & 0xff]++;
    }
    for (int j = 0; j < nb; j++) {
        size_t *c = count[j], sum = 0;
        int sh = shift[j];
        for (int v = 0; v < 256; v++) {
            size_t x = c[v];
            c[v] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            tmp[c[(a[i].key >> sh) & 0xff]++] = a[i];
        s_rkey_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Reorders arr[0..n) (capacity cap) by the sorted keys ord (NULL: in
 * order already), stably: the items are gathered into alt (capacity
 * cap_alt, grown to cap), which then takes arr's place. An assignment of
 * the item's own type, not a memcpy of a run-time size (the profile showed
 * that one as `rep movs`, slow for 40 to 56 bytes). */
#define S_GATHER(arr, cap, alt, cap_alt, n, ord)                             \
    do {                                                                      \
        if (!(ord))                                                           \
            break;                                                            \
        if ((cap_alt) < (cap)) {                                              \
            free(alt);                                                        \
            (alt) = glci_xcalloc((cap), sizeof *(alt));                       \
            (cap_alt) = (cap);                                                \
        }                                                                     \
        for (size_t i_ = 0; i_ < (n); i_++)                                   \
            (alt)[i_] = (arr)[(ord)[i_].idx];                                 \
        void *t_ = (arr);                                                     \
        (arr) = (alt);                                                        \
        (alt) = t_;                                                           \
        size_t c_ = (cap);                                                    \
        (cap) = (cap_alt);                                                    \
        (cap_alt) = c_;                                                       \
    } while (0)

static s_rkey_t *s_keys(s_ingest_t *g, size_t n)
{
    if (2 * n > g->cap_keys) {
        g->cap_keys = 2 * n;
        g->keys = glci_xrealloc(g->keys, g->cap_keys * sizeof *g->keys);
    }
    return g->keys;
}

/* The keys' 16-bit fields hold what the framework loader allows: at most
 * 65,535 indicators and periods within [1, 9999], so an offset from
 * first_period below 2^16; a city's order (its rank among the
 * transaction's cities) has the upper 32 bits. */
static void s_keys_fit(const glci_framework_t *fw)
{
    assert(fw->n_ind <= 0x10000);
    assert((int64_t)fw->last_period - fw->first_period <= 0xffff);
    (void)fw;
}

/* Step 2's order: (city, number), as the work's indices (the items stay
 * where they are: step 3 sorts them from the order they were taken in).
 * A city's items were taken in number order, so a stable sort by city is
 * enough. Returns NULL when the work is in that order already. */
static const s_rkey_t *s_order_hist(s_ingest_t *g)
{
    s_rkey_t *k = s_keys(g, g->n_work);
    for (size_t i = 0; i < g->n_work; i++)
        k[i] = (s_rkey_t){g->work[i].order, i};
    return s_radix(k, k + g->n_work, g->n_work);
}

/* The i-th item of an order s_order_hist gave (NULL: the items' own). */
static size_t s_at(const s_rkey_t *ord, size_t i)
{
    return ord ? (size_t)ord[i].idx : i;
}

/* Step 3's order: (city, indicator, period, number). The items' own order
 * is the order they were taken in, in which a city's numbers rise, so a
 * stable sort by the first three gives it. */
static void s_sort_obs(s_ingest_t *g)
{
    const glci_framework_t *fw = g->st->fw;
    s_keys_fit(fw);
    s_rkey_t *k = s_keys(g, g->n_work);
    for (size_t i = 0; i < g->n_work; i++) {
        const s_work_t *w = &g->work[i];
        k[i] = (s_rkey_t){((uint64_t)w->order << 32) | ((uint64_t)w->ind << 16) |
                              (uint64_t)(w->period - fw->first_period),
                          i};
    }
    const s_rkey_t *ord = s_radix(k, k + g->n_work, g->n_work);
    S_GATHER(g->work, g->cap_work, g->work_alt, g->cap_work_alt, g->n_work, ord);
}

/* Step 4's order: grouped by (city, P). Within a group the order does not
 * matter: the engine's result does not depend on the order its updates
 * come in (each slot keeps the latest period, a reset reads the current
 * values as step 3 left them, the nodes are recomputed from the slots).
 * The updates come from step 3's order, so each city's are together and
 * the cities in order already: each city's run is put in P order by a
 * counting sort over the few periods it spans (stable, one pass to count,
 * one to place), with no keys. */
static void s_sort_upd(s_ingest_t *g)
{
    s_keys_fit(g->st->fw);
    size_t n = g->n_upd;
    if (g->cap_upd_alt < g->cap_upd) {
        free(g->upd_alt);
        g->upd_alt = glci_xcalloc(g->cap_upd, sizeof *g->upd_alt);
        g->cap_upd_alt = g->cap_upd;
    }
    const s_upd_t *in = g->upd;
    s_upd_t *out = g->upd_alt;
    int moved = 0;
    for (size_t i = 0, j; i < n; i = j) {
        int32_t lo = in[i].P, hi = lo;
        int sorted = 1;
        for (j = i + 1; j < n && in[j].order == in[i].order; j++) {
            sorted &= in[j].P >= in[j - 1].P;
            lo = in[j].P < lo ? in[j].P : lo;
            hi = in[j].P > hi ? in[j].P : hi;
        }
        if (sorted) {
            if (moved)        /* runs before the first unsorted one are copied then */
                memcpy(out + i, in + i, (j - i) * sizeof *out);
            continue;
        }
        if (!moved)
            memcpy(out, in, i * sizeof *out);
        moved = 1;
        size_t range = (size_t)(hi - lo) + 1;     /* < 2^16: s_keys_fit */
        if (range + 1 > g->cap_pcount) {
            g->cap_pcount = range + 1;
            g->pcount = glci_xrealloc(g->pcount, g->cap_pcount * sizeof *g->pcount);
        }
        uint32_t *c = g->pcount;
        memset(c, 0, (range + 1) * sizeof *c);
        for (size_t k = i; k < j; k++)
            c[in[k].P - lo + 1]++;
        for (size_t v = 1; v <= range; v++)
            c[v] += c[v - 1];
        for (size_t k = i; k < j; k++)
            out[i + c[in[k].P - lo]++] = in[k];
    }
    if (!moved)
        return;
    s_upd_t *t = g->upd;
    g->upd = g->upd_alt;
    g->upd_alt = t;
    size_t cap = g->cap_upd;
    g->cap_upd = g->cap_upd_alt;
    g->cap_upd_alt = cap;
}

/* A work item's history entry (glci_store_int.h): s_histrec_t, the
 * source, a NUL and, for a retraction or an operator's entry, the flags
 * byte and the operator's name, sudo user and reason. s_hist_len gives its
 * size, s_hist_fill writes it at p. */
static size_t s_hist_len(const s_ingest_t *g, const s_work_t *w)
{
    const glci_obs_t *o = &g->batches[w->batch].obs[w->obs];
    size_t n = sizeof(s_histrec_t) + (o->source ? strlen(o->source) : 0) + 1;
    if (w->op)
        n += 1 + strlen(w->op->op) + (w->op->sudo_user ? strlen(w->op->sudo_user) : 0) +
             strlen(w->op->reason) + 3;
    else if (w->retract)
        n += 1;
    return n;
}

static void s_hist_fill(const s_ingest_t *g, const s_work_t *w, unsigned char *p)
{
    const glci_batch_t *b = &g->batches[w->batch];
    const glci_obs_t *o = &b->obs[w->obs];
    size_t sl = o->source ? strlen(o->source) : 0;
    s_histrec_t h;

    memset(&h, 0, sizeof h);
    h.period = w->period;
    h.source_len = (uint32_t)sl;
    h.value = w->retract ? 0.0 : w->value;
    h.received = g->recv;
    h.observed_at = o->observed_at;
    h.stream = b->stream;
    h.seq = b->seq;
    h.index = w->obs;
    h.ind = w->ind;
    memcpy(p, &h, sizeof h);
    p += sizeof h;
    if (sl)
        memcpy(p, o->source, sl);
    p[sl] = 0;
    p += sl + 1;
    if (!w->retract && !w->op)
        return;
    *p++ = (unsigned char)((w->retract ? S_HIST_RETRACT : 0u) | (w->op ? S_HIST_OPERATOR : 0u));
    if (w->op) {
        const char *parts[3] = {w->op->op, w->op->sudo_user ? w->op->sudo_user : "",
                                w->op->reason};
        for (int j = 0; j < 3; j++) {
            size_t n = strlen(parts[j]) + 1;
            memcpy(p, parts[j], n);
            p += n;
        }
    }
}

/* Step 2: history, in (city, number) order: one record per run of a
 * city's consecutive numbers, at most S_HIST_RUN_MAX entries and
 * S_HIST_RUN_BYTES bytes (glci_store_int.h), each naming the city's run
 * before it; the city record, written in step 6, names the newest. The
 * runs go to the history file (schema 7) under the store's next run
 * numbers, appended (MDB_APPEND: the right edge of the tree, the one place
 * a commit's history goes) and committed there before the state's
 * transaction goes on; meta hist_runs, in the state, moves with the
 * state's commit. Runs above the state's hist_runs are those of a commit
 * that did not complete (a crash between the two, or this transaction
 * run again after its map grew): named by no record, they are removed
 * and their numbers written again. */
typedef struct s_hrun {
    size_t at, n;             /* its items: the order's [at, at + n) */
    uint64_t no, prev, first;
    size_t body;              /* its entries' bytes */
} s_hrun_t;

/* Plans the runs of the work (numbers after base, links, sizes) into
 * g->hruns, moving each city's hist_last; writes nothing. */
static void s_plan_history(s_ingest_t *g, const s_rkey_t *ord, uint64_t base)
{
    g->n_hruns = 0;
    for (size_t i = 0, j; i < g->n_work; i = j) {
        const s_work_t *w = &g->work[s_at(ord, i)];
        size_t body = 0;
        for (j = i; j < g->n_work; j++) {
            s_work_t *x = &g->work[s_at(ord, j)];
            size_t len = s_hist_len(g, x);
            if (j > i && (x->city != w->city || x->hist_no != w->hist_no + (j - i) ||
                          !glci_store_hist_run_fits(j - i, body, len)))
                break;
            x->hlen = (uint32_t)len;  /* an entry is at most some hundred bytes */
            body += len;
        }
        s_tcity_t *c = &g->cities[w->city];
        S_GROW(g->hruns, g->n_hruns, g->cap_hruns);
        g->hruns[g->n_hruns++] = (s_hrun_t){i, j - i, ++base, c->rec.hist_last, w->hist_no,
                                            body};
        c->rec.hist_last = base;
    }
}

/* The history file's transaction: the planned runs written (any left
 * above g->hist_base removed first). Runs again from the start after the
 * history file's map grew: it only reads the plan. */
static int s_history_txn(MDB_txn *htxn, void *vctx)
{
    s_ingest_t *g = vctx;
    MDB_cursor *cur;
    MDB_val k, d;
    unsigned char kb[8];
    int rc = mdb_cursor_open(htxn, g->st->hdbi, &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
    if (rc == 0 && k.mv_size == 8 && glci_be64_get(k.mv_data) > g->hist_base) {
        glci_be64_put(kb, g->hist_base + 1);
        MDB_val from = {8, kb};
        for (rc = mdb_cursor_get(cur, &from, &d, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &from, &d, MDB_SET_RANGE)) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            from = (MDB_val){8, kb};
        }
    }
    if (rc == MDB_NOTFOUND || (rc == 0 && k.mv_size == 8))
        rc = 0;
    else if (rc == 0)
        rc = GLCI_STORE_ECORRUPT;
    uint32_t *ends = (uint32_t *)(void *)s_buf(g, S_HIST_RUN_MAX * sizeof *ends);
    for (size_t r = 0; r < g->n_hruns && rc == 0; r++) {
        const s_hrun_t *run = &g->hruns[r];
        const s_work_t *w = &g->work[s_at(g->hist_ord, run->at)];
        s_tcity_t *c = &g->cities[w->city];
        size_t idz = strlen(c->id) + 1;
        s_hrunhead_t h = {run->prev, run->first};
        MDB_val key = {8, kb}, val;
        glci_be64_put(kb, run->no);
        val.mv_size = sizeof h + idz + S_HIST_RUN_HEAD(run->n) + run->body;
        if ((rc = mdb_cursor_put(cur, &key, &val, MDB_RESERVE | MDB_APPEND)) != 0)
            break;
        unsigned char *p = val.mv_data;
        memcpy(p, &h, sizeof h);
        memcpy(p + sizeof h, c->id, idz);
        p += sizeof h + idz;
        unsigned char *body = p + S_HIST_RUN_HEAD(run->n);
        uint32_t off = 0;
        for (size_t e = 0; e < run->n; e++) {
            const s_work_t *x = &g->work[s_at(g->hist_ord, run->at + e)];
            s_hist_fill(g, x, body + off);
            off += x->hlen;
            ends[e] = off;
        }
        glci_store_hist_run_head(p, (uint32_t)run->n, ends);
    }
    mdb_cursor_close(cur);
    return rc;
}

static int s_write_history(s_ingest_t *g, MDB_txn *txn)
{
    if (g->n_work == 0)
        return 0;
    int rc = glci_store_meta_u64(g->st, txn, "hist_runs", &g->hist_base);
    if (rc != 0)
        return rc;
    g->hist_ord = g->n_work > 1 ? s_order_hist(g) : NULL;
    s_plan_history(g, g->hist_ord, g->hist_base);
    /* a store code, so that a full history file is not taken for the
     * state's map, which glci_mdb_write would grow */
    rc = glci_store_code(glci_mdb_write(g->st->hmdb, s_history_txn, g));
    if (rc != 0)
        return rc;
    glci_mdb_drop_written(g->st->hmdb, S_HIST_CACHE_KEEP);
    return glci_store_meta_put_u64(g->st, txn, "hist_runs", g->hist_base + g->n_hruns);
}

/* LMDB's default order of keys (memcmp over the shorter, then the shorter
 * first). */
static int s_key_cmp(const MDB_val *a, const MDB_val *b)
{
    size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
    int c = memcmp(a->mv_data, b->mv_data, n);
    return c ? c : (a->mv_size > b->mv_size) - (a->mv_size < b->mv_size);
}

/* Puts the cursor on key (rc 0, its value in *val) or says it is absent
 * (MDB_NOTFOUND). The keys come in strictly rising order and most are
 * stored side by side (a city's indicators and periods), so once the
 * cursor has been placed (it is on the key sought before, or where that
 * key was deleted: either way the next record is the first after that
 * key) the next record is tried first: it is the key (found), or above it
 * (then nothing lies between the key before and it: absent, which is what
 * a new period's values meet, with no search), or the end (absent). Only
 * a record below the key, one not sought in this transaction, sends it to
 * a search (MDB_SET, about ten comparisons). */
static int s_obs_seek(MDB_cursor *cur, MDB_val *key, MDB_val *val, int placed)
{
    if (placed) {
        MDB_val k;
        int rc = mdb_cursor_get(cur, &k, val, MDB_NEXT);
        if (rc != 0)
            return rc;
        int c = s_key_cmp(&k, key);
        if (c >= 0)
            return c == 0 ? 0 : MDB_NOTFOUND;
    }
    return mdb_cursor_get(cur, key, val, MDB_SET);
}

static int s_write_obs(s_ingest_t *g, MDB_txn *txn, uint64_t *n_obs)
{
    const glci_framework_t *fw = g->st->fw;
    MDB_cursor *cur;
    unsigned char k[S_CITYZ_MAX + 6];
    int rc;

    if (g->n_work > 1)
        s_sort_obs(g);
    rc = mdb_cursor_open(txn, g->st->dbi[S_DB_OBS], &cur);
    if (rc != 0)
        return rc;
    int placed = 0;                 /* the cursor has been used (s_obs_seek) */
    for (size_t i = 0; i < g->n_work && rc == 0; i++) {
        const s_work_t *w = &g->work[i];
        if (i + 1 < g->n_work && w[1].order == w->order && w[1].ind == w->ind &&
            w[1].period == w->period)
            continue;               /* a later value of this txn wins */
        s_obsrec_t rec = {w->value, w->hist_no};
        MDB_val key = {0, k}, val;
        int32_t first, last;

        key.mv_size = glci_store_obs_key(k, g->cities[w->city].id, w->ind, w->period);
        rc = s_obs_seek(cur, &key, &val, placed);
        placed = 1;
        if (w->retract) {
            /* Nothing stored: the value it withdraws came earlier in this
             * transaction and was never written, nor applied. Nothing is
             * put either, so the cursor is not on this key: the next one
             * searches. */
            if (rc == MDB_NOTFOUND) {
                rc = 0;
                placed = 0;
                continue;
            }
            if (rc != 0 || (rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            (*n_obs)--;
            s_period_delta(g, w->period, -1);
        } else {
            if (rc == MDB_NOTFOUND) {
                (*n_obs)++;
                s_period_delta(g, w->period, 1);
            } else if (rc != 0) {
                break;
            }
            /* found: the cursor is on it, and the record keeps its size */
            unsigned flags = rc == 0 && val.mv_size == sizeof rec ? MDB_CURRENT : 0;
            val.mv_size = sizeof rec;
            val.mv_data = &rec;
            rc = mdb_cursor_put(cur, &key, &val, flags);
        }
        glci_index_affected(fw, w->period, &first, &last);
        for (int32_t P = first; P <= last; P++) {
            S_GROW(g->upd, g->n_upd, g->cap_upd);
            s_upd_t *u = &g->upd[g->n_upd++];
            u->order = w->order;
            u->city = w->city;
            u->P = P;
            u->ind = w->ind;
            u->p = w->period;
            u->v = w->value;
            u->reset = w->retract;
        }
    }
    mdb_cursor_close(cur);
    return rc;
}

/* The state of a result its rank-view entry reflects. */
typedef struct {
    uint32_t has;
    double index, coverage;
    int reported;             /* glci_result_reported */
} s_rank_state_t;

/* own: the result's values of its own period (the head's n_own), so the
 * flag needs no slot that was not read. */
static void s_rank_state(const glci_result_t *r, uint32_t own, s_rank_state_t *s)
{
    s->has = r->has_index;
    s->index = r->index;
    s->coverage = r->coverage;
    s->reported = r->has_index && own > 0;
}

/* Moves a city's rank-view entry from the old to the new state of its
 * result. */
static int s_rank_move(s_ingest_t *g, MDB_txn *txn, const char *city, int32_t P,
                       const s_rank_state_t *old, const s_rank_state_t *now)
{
    MDB_dbi dbi = g->st->dbi[S_DB_RANK];
    unsigned char k[12 + GLCI_CITY_ID_MAX];
    unsigned char v[9 + S_CITYZ_MAX];
    MDB_val key = {0, k}, val;
    int same_index = old->has && now->has &&
                     memcmp(&old->index, &now->index, sizeof(double)) == 0;
    int rc;

    if (old->has && !same_index) {
        key.mv_size = glci_store_rank_key(k, P, old->index, city);
        rc = mdb_del(txn, dbi, &key, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    if (!now->has)
        return 0;
    if (same_index && memcmp(&old->coverage, &now->coverage, sizeof(double)) == 0 &&
        now->reported == old->reported)
        return 0;
    key.mv_size = glci_store_rank_key(k, P, now->index, city);
    val.mv_size = glci_store_rank_val(v, now->coverage, city, now->reported);
    val.mv_data = v;
    return mdb_put(txn, dbi, &key, &val, 0);
}

/* What glci_index_full's lookup would find for (city, ind) in period P
 * among the stored values (which step 3 has already changed): the greatest
 * period within carry_forward. */
static int s_fallback(s_ingest_t *g, MDB_txn *txn, const char *city, uint32_t ind, int32_t P,
                      int *has, int32_t *p, double *v)
{
    const glci_framework_t *fw = g->st->fw;
    *has = 0;
    for (int32_t q = P; q >= P - fw->carry_forward && q >= fw->first_period; q--) {
        int rc = s_obs_get(g, txn, city, ind, q, has, v);
        if (rc != 0 || *has) {
            *p = q;
            return rc;
        }
    }
    return 0;
}

/* A new group: the per-focus and per-chunk marks of the last one no
 * longer match (the scratch outlives transactions, so on the stamp's
 * wrap the marks are cleared rather than trusted). */
static void s_next_stamp(s_ingest_t *g)
{
    if (++g->stamp != 0)
        return;
    size_t nf = g->st->fw->n_focus ? g->st->fw->n_focus : 1;
    memset(g->loaded, 0, nf * sizeof *g->loaded);
    memset(g->dirty, 0, nf * sizeof *g->dirty);
    memset(g->written, 0, (g->st->n_chunks ? g->st->n_chunks : 1) * sizeof *g->written);
    g->stamp = 1;
}

/* Sorts a few focus area numbers (insertion sort: a group touches at most
 * n_focus of them). */
static void s_sort_u32(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* Reads the stored slots of focus area f of (city, P) (its chunks) into r
 * and r0 (the state before this transaction); an absent chunk is left as
 * init made it: zero. */
static int s_load_focus(s_ingest_t *g, MDB_cursor *scur, const char *city, int32_t P,
                        uint32_t f)
{
    glci_store_t *st = g->st;
    unsigned char k[S_CITYZ_MAX + 6];
    for (uint32_t c = st->focus_chunk[f]; c < st->focus_chunk[f + 1]; c++) {
        MDB_val key = {glci_store_slot_key(k, city, P, c), k}, val;
        int rc = mdb_cursor_get(scur, &key, &val, MDB_SET);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0 || (rc = glci_store_chunk_decode(st, c, &val, g->r)) != 0)
            return rc;
        glci_store_chunk_decode(st, c, &val, g->r0);
    }
    return 0;
}

/* Writes the chunk of indicator ind of (city, P) if this transaction
 * changed a slot of it (once per chunk and group: written[] == stamp);
 * deleted when none of its slots is present. *own follows the values of
 * P. */
static int s_chunk_write(s_ingest_t *g, MDB_cursor *scur, const char *city, int32_t P,
                         uint32_t ind, uint32_t *own)
{
    glci_store_t *st = g->st;
    const glci_framework_t *fw = st->fw;
    uint32_t c = st->ind_chunk[ind];
    if (g->written[c] == g->stamp)
        return 0;
    g->written[c] = g->stamp;
    const glci_store_chunk_t *ch = &st->chunks[c];
    const uint32_t *inds = fw->focus[ch->focus].ind + ch->first;
    int changed = 0;
    for (uint32_t q = 0; q < ch->n; q++) {
        const glci_slot_t *a = glci_result_slot_c(fw, g->r0, inds[q]);
        const glci_slot_t *b = glci_result_slot_c(fw, g->r, inds[q]);
        if (memcmp(a, b, sizeof *a) == 0)
            continue;
        changed = 1;
        *own -= a->present && a->period == P;
        *own += b->present && b->period == P;
    }
    if (!changed)
        return 0;
    unsigned char k[S_CITYZ_MAX + 6];
    glci_slot_t rec[GLCI_STORE_CHUNK];
    MDB_val key = {glci_store_slot_key(k, city, P, c), k};
    MDB_val val = {glci_store_chunk_encode(st, g->r, c, rec), rec};
    if (val.mv_size == 0) {
        int rc = mdb_del(mdb_cursor_txn(scur), st->dbi[S_DB_SLOTS], &key, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    return mdb_cursor_put(scur, &key, &val, 0);
}

/* Step 4: per (city, period): read the head and the slots of the focus
 * areas its updates touch, apply all, write the head once and the slots
 * that changed, move rank. Nothing here reads or writes a slot of a focus
 * area no update touched, so the bytes per value do not grow with the
 * number of indicators (glci_store_result.c). */
static int s_write_results(s_ingest_t *g, MDB_txn *txn)
{
    glci_store_t *st = g->st;
    const glci_framework_t *fw = st->fw;
    MDB_cursor *cur = NULL, *scur = NULL;
    unsigned char k[S_CITYZ_MAX + 4];
    int rc;

    if (g->n_upd > 1)
        s_sort_upd(g);
    if ((rc = mdb_cursor_open(txn, st->dbi[S_DB_RESULTS], &cur)) != 0 ||
        (rc = mdb_cursor_open(txn, st->dbi[S_DB_SLOTS], &scur)) != 0)
        goto out;
    for (size_t i = 0; i < g->n_upd && rc == 0;) {
        const s_upd_t *u = &g->upd[i];
        const char *city = g->cities[u->city].id;
        MDB_val key = {0, k}, val;
        int changed = 0;
        uint32_t own = 0;
        size_t j;

        key.mv_size = glci_store_result_key(k, city, u->P);
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET);
        glci_result_init(fw, g->r, u->P);
        int existed = rc == 0;
        if (rc == 0) {
            if (val.mv_size != st->hsize) {
                rc = GLCI_STORE_ECORRUPT;
                break;
            }
            glci_store_head_decode(st, &val, g->r, &own);
        } else if (rc == MDB_NOTFOUND) {
            changed = 1;
        } else {
            break;
        }
        /* r0: the slots before, absent until read (a new result has none) */
        memcpy(g->r0, g->r, st->rsize);
        s_next_stamp(g);
        s_rank_state_t old, now;
        s_rank_state(g->r, own, &old);
        rc = 0;
        for (j = i; rc == 0 && j < g->n_upd && g->upd[j].order == u->order &&
                    g->upd[j].P == u->P; j++) {
            const s_upd_t *x = &g->upd[j];
            uint32_t f = fw->ind[x->ind].focus;
            if (g->loaded[f] != g->stamp) {
                if (existed && (rc = s_load_focus(g, scur, city, u->P, f)) != 0)
                    break;
                g->loaded[f] = g->stamp;
            }
            int took;
            if (!x->reset) {
                took = glci_index_apply_slot(fw, g->r, x->ind, x->p, x->v);
            } else {
                int has = 0;
                int32_t p = 0;
                double v = 0.0;
                if ((rc = s_fallback(g, txn, city, x->ind, x->P, &has, &p, &v)) != 0)
                    break;
                took = glci_index_reset_slot(fw, g->r, x->ind, has, p, v);
            }
            /* its focus area is recomputed once, after the group */
            if (took && g->dirty[f] != g->stamp) {
                g->dirty[f] = g->stamp;
                g->touched[g->n_touched++] = f;
            }
            changed |= took;
        }
        size_t end = j;
        if (rc == 0 && g->n_touched) {
            if (g->n_touched > 1)
                s_sort_u32(g->touched, g->n_touched);
            glci_index_refresh(fw, g->r, g->touched, g->n_touched);
        }
        g->n_touched = 0;
        if (rc != 0 || !changed) {
            i = end;
            continue;
        }
        /* the chunks whose slots it changed */
        for (j = i; rc == 0 && j < end; j++)
            if (j == i || g->upd[j].ind != g->upd[j - 1].ind)
                rc = s_chunk_write(g, scur, city, u->P, g->upd[j].ind, &own);
        i = end;
        if (rc != 0)
            break;
        if (g->r->n_values == 0) {
            /* Its last value was withdrawn: no observation reaches P. */
            if (existed && (rc = mdb_cursor_del(cur, 0)) != 0)
                break;
        } else {
            val.mv_size = glci_store_head_encode(st, g->r, own, g->head);
            val.mv_data = g->head;
            rc = mdb_cursor_put(cur, &key, &val, 0);
        }
        s_rank_state(g->r, own, &now);
        if (rc == 0)
            rc = s_rank_move(g, txn, city, u->P, &old, &now);
    }
out:
    if (scur)
        mdb_cursor_close(scur);
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

/* Step 5a: period counts of current observations. */
static int s_write_periods(s_ingest_t *g, MDB_txn *txn)
{
    if (g->n_pd > 1)
        qsort(g->pd, g->n_pd, sizeof *g->pd, s_cmp_pd);
    for (size_t i = 0; i < g->n_pd; i++) {
        unsigned char k[4], v[8];
        MDB_val key = {4, k}, val;
        uint64_t count = 0;
        int rc;

        glci_bei32_put(k, g->pd[i].period);
        rc = mdb_get(txn, g->st->dbi[S_DB_PERIODS], &key, &val);
        if (rc == 0 && val.mv_size == 8)
            count = glci_be64_get(val.mv_data);
        else if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        int64_t now_count = (int64_t)count + g->pd[i].delta;
        if (now_count <= 0) {
            /* the period's last current value was withdrawn */
            rc = count ? mdb_del(txn, g->st->dbi[S_DB_PERIODS], &key, NULL) : 0;
            if (rc != 0)
                return rc;
            continue;
        }
        glci_be64_put(v, (uint64_t)now_count);
        val.mv_size = 8;
        val.mv_data = v;
        rc = mdb_put(txn, g->st->dbi[S_DB_PERIODS], &key, &val, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void s_reset(s_ingest_t *g)
{
    g->n_cities = g->n_streams = g->n_work = g->n_upd = g->n_pd = 0;
    memset(&g->corr_res, 0, sizeof g->corr_res);
    if (g->pend)
        memset(g->pend, 0, (g->pend_mask + 1) * sizeof *g->pend);
    for (size_t i = 0; g->results && i < g->n; i++) {
        glci_batch_result_release(&g->results[i]);
        memset(&g->results[i], 0, sizeof g->results[i]);
    }
}

/* The start of every transaction: scratch reset, counters read, the
 * receive time fixed. */
static int s_begin(s_ingest_t *g, MDB_txn *txn, s_counts_t *k)
{
    glci_store_t *st = g->st;
    int rc;
    s_reset(g);
    g->dropped = 0;
    memset(k, 0, sizeof *k);
    if ((rc = glci_store_meta_u64(st, txn, "n_obs", &k->n_obs)) != 0 ||
        (rc = glci_store_meta_u64(st, txn, "n_history", &k->n_hist)) != 0 ||
        (rc = glci_store_meta_u64(st, txn, "n_rejects", &k->n_rej)) != 0 ||
        (rc = glci_store_meta_u64(st, txn, "n_batches", &k->n_bat)) != 0 ||
        (rc = glci_store_meta_u64(st, txn, "next_reject", &k->next_rej)) != 0)
        return rc;
    g->future_ok = INT64_MIN;
    return glci_store_receive_time(st, txn, g->now, &g->recv);
}

/* A valid observation of batch b becomes the next work item of its city. */
static s_work_t *s_work_add(s_ingest_t *g, uint32_t ci, uint32_t ind, const glci_obs_t *o,
                            uint32_t b, uint32_t i)
{
    s_tcity_t *c = &g->cities[ci];
    S_GROW(g->work, g->n_work, g->cap_work);
    s_work_t *w = &g->work[g->n_work++];
    memset(w, 0, sizeof *w);
    w->city = ci;
    w->ind = ind;
    w->period = (int32_t)o->period;
    /* -0 is 0, in history and the current value alike, as the engine
     * scores it (glci_engine.c): nothing shows a negative zero */
    w->value = o->retract || o->value == 0.0 ? 0.0 : o->value;
    w->retract = o->retract;
    w->hist_no = c->rec.observations++;
    w->batch = b;
    w->obs = i;
    if (c->rec.last_change < g->recv)
        c->rec.last_change = g->recv;
    c->dirty = 1;
    s_pend_set(g, w);
    return w;
}

/* Judges observation i of an applied batch: valid -> a work item; invalid
 * -> logged and reported. */
static int s_take(s_ingest_t *g, MDB_txn *txn, s_counts_t *k, uint32_t b, uint32_t ci,
                  uint32_t i)
{
    const glci_batch_t *bt = &g->batches[b];
    const glci_obs_t *o = &bt->obs[i];
    glci_batch_result_t *res = &g->results[b];
    char msg[sizeof(((glci_rejection_t *)0)->message)], esc[sizeof msg];
    uint32_t ind = 0;
    int rc;

    /* a batch claiming another city: each observation rejected, none stored */
    glci_reject_t why = s_wrong_city(bt, msg, sizeof msg)
                            ? GLCI_REJECT_WRONG_CITY
                            : s_check(g->st->fw, o, g->recv, &g->future_ok, &ind, msg,
                                      sizeof msg);
    if (why == GLCI_REJECT_NONE && o->retract) {
        int has = 0;
        double v;
        if ((rc = s_current(g, txn, ci, ind, (int32_t)o->period, &has, &v)) != 0)
            return rc;
        if (!has) {
            why = GLCI_REJECT_NOTHING_TO_RETRACT;
            snprintf(msg, sizeof msg, "no current value of %s for %lld to retract",
                     g->st->fw->ind[ind].id, (long long)o->period);
        }
    }
    if (why == GLCI_REJECT_NONE) {
        s_work_add(g, ci, ind, o, b, i);
        return 0;
    }
    if (!msg[0])
        snprintf(msg, sizeof msg, "%s", glci_reject_str(why));
    /* A message cut by snprintf may end inside a UTF-8 character: what is
     * stored and answered is always printable, valid UTF-8. */
    glci_utf8_escape(msg, sizeof msg, esc, sizeof esc);
    memcpy(msg, esc, sizeof msg);
    if ((rc = s_reject_room(g, txn, &g->cities[ci])) != 0)
        return rc;
    rc = s_reject_put(g, txn, k->next_rej++, bt, i, why, msg);
    if (rc != 0)
        return rc;
    s_add_rejection(res, i, why, msg);
    g->cities[ci].rec.rejects++;
    k->n_rej++;
    return 0;
}

/* Step 1: decide each batch in order; validate; log rejects. */
static int s_decide(s_ingest_t *g, MDB_txn *txn, s_counts_t *k)
{
    int rc;
    for (size_t b = 0; b < g->n; b++) {
        const glci_batch_t *bt = &g->batches[b];
        glci_batch_result_t *res = &g->results[b];
        uint32_t ci, si;
        s_tcity_t *c;
        s_tstream_t *s;

        res->status = GLCI_BATCH_FORBIDDEN;
        if (!bt->city || !glci_city_id_valid(bt->city))
            continue;
        rc = s_city(g, txn, bt->city, &ci);
        if (rc != 0)
            return rc;
        c = &g->cities[ci];
        if (!c->ok)
            continue;
        rc = s_stream(g, txn, ci, bt->stream, &si);
        if (rc != 0)
            return rc;
        s = &g->streams[si];
        c->rec.last_seen = g->recv;
        c->dirty = 1;
        res->acked = s->mark;
        if (bt->seq <= s->mark) {
            res->status = GLCI_BATCH_DUPLICATE;
            res->content_differs = s_hash_differs(g, txn, bt);
            continue;
        }
        if (bt->seq > s->mark + 1) {
            res->status = GLCI_BATCH_GAP;
            res->expected = s->mark + 1;
            continue;
        }
        res->status = GLCI_BATCH_APPLIED;
        for (size_t i = 0; i < bt->n_obs; i++)
            if ((rc = s_take(g, txn, k, (uint32_t)b, ci, (uint32_t)i)) != 0)
                return rc;
        c->rec.batches++;
        k->n_bat++;
        s->mark = bt->seq;
        res->acked = s->mark;
        rc = s_hash_put(g, txn, bt);
        if (rc != 0)
            return rc;
        k->any_applied = 1;
    }
    return 0;
}

/* Steps 2 to 5a for the work of step 1: history, current values, index
 * results and rank view, period counts. */
static int s_apply(s_ingest_t *g, MDB_txn *txn, s_counts_t *k)
{
    /* City order for the sorts: the rank of each id. */
    if (g->n_cities > 1) {
        s_idslot_t *idx = glci_xmalloc(g->n_cities * sizeof *idx);
        for (size_t i = 0; i < g->n_cities; i++) {
            idx[i].id = g->cities[i].id;
            idx[i].slot = (uint32_t)i;
        }
        qsort(idx, g->n_cities, sizeof *idx, s_cmp_idslot);
        for (size_t i = 0; i < g->n_cities; i++)
            g->cities[idx[i].slot].order = (uint32_t)i;
        free(idx);
    }
    for (size_t i = 0; i < g->n_work; i++)
        g->work[i].order = g->cities[g->work[i].city].order;

    k->n_hist += g->n_work;
    int rc;
    if ((rc = s_write_history(g, txn)) != 0 || (rc = s_write_obs(g, txn, &k->n_obs)) != 0 ||
        (rc = s_write_results(g, txn)) != 0 || (rc = s_write_periods(g, txn)) != 0)
        return rc;
    return 0;
}

/* Step 5b: marks, cities, counters. */
static int s_finish(s_ingest_t *g, MDB_txn *txn, const s_counts_t *k)
{
    glci_store_t *st = g->st;
    int rc;
    for (size_t i = 0; i < g->n_streams; i++) {
        s_tstream_t *s = &g->streams[i];
        unsigned char key_b[S_CITYZ_MAX + 8], v[8];
        MDB_val key = {0, key_b}, val = {8, v};
        size_t n;
        if (s->mark == s->mark0)
            continue;
        n = glci_store_cityz(key_b, g->cities[s->city].id);
        glci_be64_put(key_b + n, s->stream);
        key.mv_size = n + 8;
        glci_be64_put(v, s->mark);
        rc = mdb_put(txn, st->dbi[S_DB_STREAMS], &key, &val, 0);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < g->n_cities; i++) {
        s_tcity_t *c = &g->cities[i];
        MDB_val key = {strlen(c->id), (void *)c->id}, val = {sizeof c->rec, &c->rec};
        if (c->dropped_dirty) {
            char name[GLCI_CITY_ID_MAX + 32];
            s_dropped_key(name, sizeof name, c->id);
            if ((rc = glci_store_meta_put_u64(st, txn, name, c->dropped)) != 0)
                return rc;
        }
        if (!c->dirty)
            continue;
        rc = mdb_put(txn, st->dbi[S_DB_CITIES], &key, &val, 0);
        if (rc != 0)
            return rc;
    }
    if (g->dropped > 0) {
        uint64_t all = 0;
        if ((rc = glci_store_meta_u64(st, txn, "rejects_dropped", &all)) != 0 ||
            (rc = glci_store_meta_put_u64(st, txn, "rejects_dropped", all + g->dropped)) != 0)
            return rc;
    }
    if ((rc = glci_store_meta_put_u64(st, txn, "n_obs", k->n_obs)) != 0 ||
        (rc = glci_store_meta_put_u64(st, txn, "n_history", k->n_hist)) != 0 ||
        (rc = glci_store_meta_put_u64(st, txn, "n_rejects", k->n_rej)) != 0 ||
        (rc = glci_store_meta_put_u64(st, txn, "n_batches", k->n_bat)) != 0 ||
        (rc = glci_store_meta_put_u64(st, txn, "next_reject", k->next_rej)) != 0)
        return rc;
    if (k->any_applied)
        rc = glci_store_meta_put_u64(st, txn, "last_ingest", (uint64_t)g->recv);
    /* The store's clock: no receive time recorded is later (an edition
     * "as of now" includes everything committed before it). */
    if (rc == 0 && (k->any_applied || g->n_work))
        rc = glci_store_clock_to(st, txn, g->recv);
    return rc;
}

static int s_ingest_txn(MDB_txn *txn, void *vctx)
{
    s_ingest_t *g = vctx;
    s_counts_t k;
    int rc;
    if ((rc = s_begin(g, txn, &k)) != 0 || (rc = s_decide(g, txn, &k)) != 0 ||
        (rc = s_apply(g, txn, &k)) != 0)
        return rc;
    return s_finish(g, txn, &k);
}

/* The scratch results of step 4. */
static void s_scratch_init(s_ingest_t *g)
{
    g->r = glci_xmalloc(g->st->rsize);
    g->r0 = glci_xmalloc(g->st->rsize);
    g->head = glci_xmalloc(g->st->hsize);
    g->loaded = glci_xcalloc(g->st->fw->n_focus ? g->st->fw->n_focus : 1, sizeof *g->loaded);
    g->written = glci_xcalloc(g->st->n_chunks ? g->st->n_chunks : 1, sizeof *g->written);
    g->dirty = glci_xcalloc(g->st->fw->n_focus ? g->st->fw->n_focus : 1, sizeof *g->dirty);
    g->touched = glci_xcalloc(g->st->fw->n_focus ? g->st->fw->n_focus : 1, sizeof *g->touched);
}

static void s_release(s_ingest_t *g)
{
    free(g->cities);
    free(g->streams);
    free(g->work);
    free(g->upd);
    free(g->pd);
    free(g->pend);
    free(g->r);
    free(g->r0);
    free(g->head);
    free(g->loaded);
    free(g->written);
    free(g->dirty);
    free(g->touched);
    free(g->keys);
    free(g->buf);
    free(g->work_alt);
    free(g->upd_alt);
    free(g->pcount);
    free(g->hruns);
}

/* The scratch of one ingest is kept in the handle for the next: a group's
 * arrays run to megabytes, which malloc maps and unmaps afresh for every
 * transaction, and the page faults of touching them again were a cost the
 * profile showed. Taken and given back with an atomic exchange, so two
 * threads ingesting through one handle each get scratch of their own (the
 * second a fresh one). The kept arrays stay as large as the largest group
 * until the handle closes. */
static s_ingest_t *s_scratch_take(glci_store_t *st)
{
    s_ingest_t *g = atomic_exchange(&st->ingest_cache, NULL);
    if (!g) {
        g = glci_xcalloc(1, sizeof *g);
        g->st = st;
        s_scratch_init(g);
    }
    return g;
}

static void s_scratch_give(glci_store_t *st, s_ingest_t *g)
{
    free(g->pend);
    g->pend = NULL;
    g->batches = NULL;
    g->results = NULL;
    g->n = 0;
    s_ingest_t *old = atomic_exchange(&st->ingest_cache, g);
    if (old) {
        s_release(old);
        free(old);
    }
}

void glci_store_ingest_cache_free(glci_store_t *st)
{
    s_ingest_t *g = atomic_exchange(&st->ingest_cache, NULL);
    if (g) {
        s_release(g);
        free(g);
    }
}

int glci_store_ingest(glci_store_t *st, const glci_batch_t *batches, size_t n,
                      int64_t now, glci_batch_result_t *results)
{
    int rc;

    /* first, whatever is returned: a caller releases every result */
    for (size_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof results[i]);
    if (glci_mdb_rdonly(st->mdb))
        return GLCI_STORE_ERDONLY;
    if (n == 0)
        return 0;
    s_ingest_t *g = s_scratch_take(st);
    g->batches = batches;
    g->n = n;
    g->now = now;
    g->results = results;
    s_pend_init(g);
    rc = glci_store_code(glci_mdb_write(st->mdb, s_ingest_txn, g));
    if (rc != 0)
        s_reset(g);
    s_scratch_give(st, g);
    return rc;
}

/* ---- corrections by operators ---------------------------------------------- */

/* Codes of a correction's own refusals, out of LMDB's and the store's way
 * (a write callback's code comes back as it is). */
#define S_CORR_BAD 1001
#define S_CORR_NOCITY 1002
#define S_CORR_NOTHING 1003

static int s_correct_txn(MDB_txn *txn, void *vctx)
{
    s_ingest_t *g = vctx;
    const glci_correction_t *c = g->corr;
    s_counts_t k;
    uint32_t ci, ind = 0;
    char msg[GLCI_REJECT_MESSAGE_MAX + 1];
    int rc;

    if ((rc = s_begin(g, txn, &k)) != 0 || (rc = s_city(g, txn, c->city, &ci)) != 0)
        return rc;
    /* Unknown: refused. Revoked: its data stays, so an operator may still
     * correct it. */
    rc = glci_store_city_get(g->st, txn, c->city, &g->cities[ci].rec);
    if (rc == GLCI_STORE_ENOCITY)
        return S_CORR_NOCITY;
    if (rc != 0)
        return rc;
    const glci_obs_t *o = &g->batches[0].obs[0];
    glci_reject_t why = s_check(g->st->fw, o, g->recv, &g->future_ok, &ind, msg, sizeof msg);
    if (why != GLCI_REJECT_NONE) {
        glci_errf(g->err, g->errlen, "%s", msg[0] ? msg : glci_reject_str(why));
        return S_CORR_BAD;
    }
    if ((rc = s_current(g, txn, ci, ind, (int32_t)o->period, &g->corr_res.had,
                        &g->corr_res.before)) != 0)
        return rc;
    if (c->retract && !g->corr_res.had) {
        glci_errf(g->err, g->errlen, "city '%s' has no current value of %s for %lld to retract",
                  c->city, c->indicator, (long long)o->period);
        return S_CORR_NOTHING;
    }
    g->corr_res.received = g->recv;
    s_work_add(g, ci, ind, o, 0, 0)->op = c;
    if ((rc = s_apply(g, txn, &k)) != 0)
        return rc;
    return s_finish(g, txn, &k);
}

/* The operator's texts: printable UTF-8 of a bounded length. */
static int s_text_ok(const char *what, const char *text, size_t min, size_t max, char *err,
                     size_t errlen)
{
    size_t n = text ? strlen(text) : 0;
    const char *why;
    if (n < min || n > max)
        return glci_errf(err, errlen, "%s must be %zu to %zu bytes, not %zu", what, min, max, n);
    if (n && (why = glci_utf8_problem(text)) != NULL)
        return glci_errf(err, errlen, "%s %s", what, why);
    return 0;
}

int glci_store_correct(glci_store_t *st, const glci_correction_t *c, int64_t now,
                       glci_correction_result_t *res, char *err, size_t errlen)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (glci_mdb_rdonly(st->mdb)) {
        glci_errf(err, errlen, "%s: store is open read-only", st->dir);
        return GLCI_STORE_ERDONLY;
    }
    if (!glci_city_id_valid(c->city)) {
        glci_errf(err, errlen, "no city '%.80s'", c->city ? c->city : "");
        return GLCI_STORE_ENOCITY;
    }
    if (s_text_ok("the reason", c->reason, 1, GLCI_REASON_MAX, err, errlen) != 0 ||
        s_text_ok("the operator's name", c->op, 1, GLCI_OPERATOR_MAX, err, errlen) != 0 ||
        s_text_ok("SUDO_USER", c->sudo_user, 0, GLCI_OPERATOR_MAX, err, errlen) != 0)
        return GLCI_STORE_EINVAL;
    if (strspn(c->reason, " ") == strlen(c->reason)) {
        glci_errf(err, errlen, "the reason is blank, only spaces");
        return GLCI_STORE_EINVAL;
    }
    glci_obs_t o = c->retract ? glci_obs_retraction(c->indicator, c->period)
                              : glci_obs_make(c->indicator, c->period, c->value);
    glci_batch_t b = {.city = c->city, .obs = &o, .n_obs = 1};
    s_ingest_t g;
    memset(&g, 0, sizeof g);
    g.st = st;
    g.batches = &b;
    g.n = 1;
    g.now = now;
    g.corr = c;
    g.err = err;
    g.errlen = errlen;
    s_scratch_init(&g);
    int rc = glci_mdb_write(st->mdb, s_correct_txn, &g);
    switch (rc) {
    case 0:
        if (res)
            *res = g.corr_res;
        break;
    case S_CORR_BAD:
        rc = GLCI_STORE_EINVAL;
        break;
    case S_CORR_NOCITY:
        glci_errf(err, errlen, "no city '%s'", c->city);
        rc = GLCI_STORE_ENOCITY;
        break;
    case S_CORR_NOTHING:
        rc = GLCI_STORE_ENODATA;
        break;
    default:
        rc = glci_store_code(rc);
        glci_errf(err, errlen, "%s: cannot write: %s", st->dir, glci_store_strerror(rc));
        break;
    }
    s_release(&g);
    return rc;
}
