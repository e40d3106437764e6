/* The agent's durable outbox over LMDB: see glci_outbox.h.
 *
 * Layout (named databases in one environment):
 *   meta        short ASCII keys -> little-endian u64/i64 or text
 *               (stream, next_seq, acked, bytes, obs, last_ack, state,
 *               city (text: the city the outbox belongs to), key_pub
 *               and server_pub (text: the public keys the daemon
 *               connects with),
 *               state_since, rejects, quarantined, created, and after a
 *               rebase lost_stream, lost_first, lost_last, lost_at,
 *               lost_events, lost_batches)
 *   batches     8-byte big-endian seq -> batch record
 *   quarantine  8-byte big-endian seq -> the record as it was found
 *   markers     input identity text -> i64 time it was taken, and for a
 *               spool file (glci_outbox_append_from) then stream u64 |
 *               first u64 | last u64 | origin (the file's path in done/);
 *               a settled marker's record moves to "IDENTITY#N" (N: meta
 *               settled_n, 16 hex digits), seen only by the origin scan
 *   dead        8-byte big-endian dead-letter id -> dead-letter record
 *               (meta dl_next holds the next id)
 *   retained    8-byte big-endian seq -> ack time i64 | the batch record
 *               of an acked batch (meta r_bytes: bytes of those records;
 *               resent_*: the collector's requests for them)
 *
 * A batch record is little-endian:
 *   "GOB1" | created i64 | n_obs u32 | n_obs x observation | checksum[16]
 *   observation: period i32 | value f64 bits | observed_at i64 |
 *                ind_len u16 | src_len u16 | indicator | source
 * The checksum is BLAKE2b-128 (libsodium) of everything before it. The top
 * bit of ind_len marks a retraction (value bits 0): S_IL_RETRACT.
 *
 * A dead-letter record is little-endian:
 *   "GDL1" | at i64 | period i32 | value f64 bits | observed_at i64 |
 *   ind_len u16 | src_len u16 | reason_len u16 | indicator | source | reason
 *   [ | origin_len u16 | origin ]   (the tail only when it has an origin)
 *
 * Environment handling (durable commits, stale readers, map growth on
 * MDB_MAP_FULL, adopting a map grown by another process) is the shared
 * helper layer's (glci_mdb.h); write transactions are its callbacks. A
 * callback that refuses (EFULL, EEXIST, ...) aborts with its outbox code,
 * which the helper layer hands back as it is; glci_outbox_code maps the layer's LMDB
 * and errno codes into outbox codes, once, and lets those pass. */

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_outbox_int.h"


const char *glci_outbox_strerror(int code)
{
    switch (code) {
    case GLCI_OUTBOX_OK:       return "ok";
    case GLCI_OUTBOX_ENOENT:   return "no such batch or outbox";
    case GLCI_OUTBOX_EFULL:    return "outbox size limit reached";
    case GLCI_OUTBOX_ECORRUPT: return "outbox record is corrupt";
    case GLCI_OUTBOX_EINVAL:   return "invalid argument";
    case GLCI_OUTBOX_EIO:      return "outbox I/O error";
    case GLCI_OUTBOX_ENOSPC:   return "no space left for the outbox";
    case GLCI_OUTBOX_EEXIST:   return "input already taken into the outbox";
    case GLCI_OUTBOX_ECITY:    return "the outbox belongs to another city";
    default:                   return "unknown outbox error";
    }
}

/* ---- little-endian and key helpers ------------------------------------ */

void glci_outbox_le_put(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t glci_outbox_le_get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void glci_outbox_seq_key(uint64_t seq, unsigned char key[8])
{
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)(seq >> (56 - 8 * i));
}

uint64_t glci_outbox_key_seq(const MDB_val *k)
{
    const unsigned char *p = k->mv_data;
    uint64_t v = 0;
    if (k->mv_size != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* LMDB or errno code (or an outbox code, passed through) -> outbox code:
 * the one mapping of the helper layer's codes. */
int glci_outbox_code(int rc)
{
    if (rc <= GLCI_OUTBOX_ENOENT && rc >= GLCI_OUTBOX_EEXIST)
        return rc;
    switch (rc) {
    case 0:
        return GLCI_OUTBOX_OK;
    case MDB_NOTFOUND:
    case ENOENT:
        return GLCI_OUTBOX_ENOENT;
    case MDB_MAP_FULL:
    case ENOSPC:
        return GLCI_OUTBOX_ENOSPC;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_BAD_VALSIZE:
        return GLCI_OUTBOX_ECORRUPT;
    default:
        return GLCI_OUTBOX_EIO;
    }
}

static int64_t s_now(void)
{
    return (int64_t)time(NULL);
}

uint64_t glci_outbox_meta_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t dflt)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != 8)
        return dflt;
    return glci_outbox_le_get(v.mv_data, 8);
}

int glci_outbox_meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value)
{
    unsigned char buf[8];
    glci_outbox_le_put(buf, value, 8);
    MDB_val k = {strlen(name), (void *)name}, v = {8, buf};
    return mdb_put(txn, dbi, &k, &v, 0);
}

/* The meta key PREFIX_NAME into buf. */
static const char *s_event_key(char *buf, size_t len, const char *prefix, const char *name)
{
    snprintf(buf, len, "%s_%s", prefix, name);
    return buf;
}

int glci_outbox_meta_event_put(MDB_txn *txn, MDB_dbi dbi, const char *prefix, uint64_t stream,
                               uint64_t first, uint64_t last, int64_t at)
{
    char k[32];
    int rc;
    uint64_t events = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "events"), 0);
    uint64_t batches = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "batches"),
                                            0);
    if ((rc = glci_outbox_meta_put_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "stream"),
                                       stream)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "first"),
                                       first)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "last"),
                                       last)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "at"),
                                       (uint64_t)at)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "events"),
                                       events + 1)) != 0)
        return rc;
    return glci_outbox_meta_put_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "batches"),
                                    batches + (last - first + 1));
}

void glci_outbox_meta_event_get(MDB_txn *txn, MDB_dbi dbi, const char *prefix,
                                uint64_t *stream, uint64_t *first, uint64_t *last,
                                int64_t *at, uint64_t *events, uint64_t *batches)
{
    char k[32];
    *stream = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "stream"), 0);
    *first = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "first"), 0);
    *last = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "last"), 0);
    *at = (int64_t)glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "at"), 0);
    *events = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "events"), 0);
    *batches = glci_outbox_meta_u64(txn, dbi, s_event_key(k, sizeof k, prefix, "batches"), 0);
}

/* ---- records ----------------------------------------------------------- */

size_t glci_outbox_strlen0(const char *s)
{
    return s ? strlen(s) : 0;
}

static size_t s_record_len(const glci_obs_t *obs, size_t n)
{
    size_t len = S_HDR_LEN + S_SUM_LEN;
    for (size_t i = 0; i < n; i++)
        len += S_OBS_FIXED + strlen(obs[i].indicator) + glci_outbox_strlen0(obs[i].source);
    return len;
}

void glci_outbox_record_encode(const glci_obs_t *obs, size_t n, int64_t created,
                            unsigned char *p, size_t len)
{
    unsigned char *start = p;
    memcpy(p, S_MAGIC, 4);
    glci_outbox_le_put(p + 4, (uint64_t)created, 8);
    glci_outbox_le_put(p + 12, (uint64_t)n, 4);
    p += S_HDR_LEN;
    for (size_t i = 0; i < n; i++) {
        size_t il = strlen(obs[i].indicator), sl = glci_outbox_strlen0(obs[i].source);
        uint64_t bits;
        memcpy(&bits, &obs[i].value, 8);
        glci_outbox_le_put(p, (uint64_t)(uint32_t)obs[i].period, 4);
        glci_outbox_le_put(p + 4, bits, 8);
        glci_outbox_le_put(p + 12, (uint64_t)obs[i].observed_at, 8);
        glci_outbox_le_put(p + 20, il | (obs[i].retract ? S_IL_RETRACT : 0u), 2);
        glci_outbox_le_put(p + 22, sl, 2);
        p += S_OBS_FIXED;
        memcpy(p, obs[i].indicator, il);
        p += il;
        if (sl)
            memcpy(p, obs[i].source, sl);
        p += sl;
    }
    crypto_generichash(p, S_SUM_LEN, start, (size_t)(p - start), NULL, 0);
    (void)len;
}

/* Header fields of a record without checking it; 0 if too short. */
int glci_outbox_record_header(const MDB_val *v, int64_t *created, uint32_t *n_obs)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < S_HDR_LEN + S_SUM_LEN || memcmp(p, S_MAGIC, 4) != 0)
        return 0;
    if (created)
        *created = (int64_t)glci_outbox_le_get(p + 4, 8);
    if (n_obs)
        *n_obs = (uint32_t)glci_outbox_le_get(p + 12, 4);
    return 1;
}

int glci_outbox_record_decode(const MDB_val *v, uint64_t seq, glci_outbox_batch_t **out)
{
    const unsigned char *p = v->mv_data;
    size_t len = v->mv_size;
    int64_t created;
    uint32_t n;
    unsigned char sum[S_SUM_LEN];
    if (!glci_outbox_record_header(v, &created, &n))
        return GLCI_OUTBOX_ECORRUPT;
    crypto_generichash(sum, S_SUM_LEN, p, len - S_SUM_LEN, NULL, 0);
    if (sodium_memcmp(sum, p + len - S_SUM_LEN, S_SUM_LEN) != 0)
        return GLCI_OUTBOX_ECORRUPT;
    size_t body = len - S_SUM_LEN;
    if ((size_t)n > (body - S_HDR_LEN) / S_OBS_FIXED)
        return GLCI_OUTBOX_ECORRUPT;

    glci_outbox_batch_t *b = glci_xcalloc(1, sizeof *b);
    b->seq = seq;
    b->created = created;
    b->n_obs = n;
    /* One allocation for the strings: at most body bytes plus two NULs each. */
    b->obs = glci_xcalloc(n ? n : 1, sizeof *b->obs);
    char *pool = glci_xmalloc(body + 2 * (size_t)n + 1);
    /* The pool is freed through obs[0].indicator, or directly when n == 0. */
    char *w = pool;
    size_t off = S_HDR_LEN;
    for (uint32_t i = 0; i < n; i++) {
        if (body - off < S_OBS_FIXED)
            goto corrupt;
        const unsigned char *q = p + off;
        uint64_t bits = glci_outbox_le_get(q + 4, 8);
        size_t il = (size_t)glci_outbox_le_get(q + 20, 2), sl = (size_t)glci_outbox_le_get(q + 22, 2);
        int retract = (il & S_IL_RETRACT) != 0;
        il &= ~(size_t)S_IL_RETRACT;
        off += S_OBS_FIXED;
        if (body - off < il + sl || il == 0)
            goto corrupt;
        b->obs[i].period = (int32_t)(uint32_t)glci_outbox_le_get(q, 4);
        b->obs[i].has_period = 1;
        b->obs[i].has_value = !retract;
        b->obs[i].retract = (unsigned)retract;
        memcpy(&b->obs[i].value, &bits, 8);
        b->obs[i].observed_at = (int64_t)glci_outbox_le_get(q + 12, 8);
        memcpy(w, p + off, il);
        w[il] = '\0';
        b->obs[i].indicator = w;
        w += il + 1;
        off += il;
        memcpy(w, p + off, sl);
        w[sl] = '\0';
        b->obs[i].source = w;
        w += sl + 1;
        off += sl;
    }
    if (off != body)
        goto corrupt;
    if (n == 0)
        free(pool);
    *out = b;
    return GLCI_OUTBOX_OK;
corrupt:
    free(pool);
    free(b->obs);
    free(b);
    return GLCI_OUTBOX_ECORRUPT;
}

void glci_outbox_batch_free(glci_outbox_batch_t **self)
{
    if (!self || !*self)
        return;
    glci_outbox_batch_t *b = *self;
    if (b->n_obs)
        free((void *)b->obs[0].indicator);
    free(b->obs);
    free(b);
    *self = NULL;
}

/* ---- open / close ------------------------------------------------------ */

#define S_NDBI 6
static const char *const s_dbi_names[S_NDBI] = {"meta", "batches", "quarantine", "markers",
                                                "dead", "retained"};

typedef struct {
    glci_outbox_t *ob;
    const char *city;         /* the opener's, or NULL */
    char held[GLCI_OUTBOX_CITY_MAX + 1];   /* the outbox's, when it is another */
} s_init_ctx_t;

/* The city recorded in meta into out ("" when none). */
static void s_city_get(MDB_txn *txn, MDB_dbi meta, char *out, size_t len)
{
    MDB_val k = {4, "city"}, v;
    out[0] = '\0';
    if (mdb_get(txn, meta, &k, &v) == 0 && v.mv_size < len) {
        memcpy(out, v.mv_data, v.mv_size);
        out[v.mv_size] = '\0';
    }
}

/* Records the opener's city in an outbox that has none; ECITY when it has
 * another (x->held names it). */
static int s_city_claim(MDB_txn *txn, s_init_ctx_t *x)
{
    if (!x->city)
        return 0;
    s_city_get(txn, x->ob->meta, x->held, sizeof x->held);
    if (x->held[0])
        return strcmp(x->held, x->city) == 0 ? 0 : GLCI_OUTBOX_ECITY;
    MDB_val k = {4, "city"}, v = {strlen(x->city), (void *)x->city};
    return mdb_put(txn, x->ob->meta, &k, &v, 0);
}

static int s_set_city_cb(MDB_txn *txn, void *arg)
{
    s_init_ctx_t *x = arg;
    MDB_val k = {4, "city"}, v = {strlen(x->city), (void *)x->city};
    if (!x->city[0]) {
        int rc = mdb_del(txn, x->ob->meta, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    return mdb_put(txn, x->ob->meta, &k, &v, 0);
}

int glci_outbox_set_city(glci_outbox_t *ob, const char *city)
{
    if (!city || strlen(city) > GLCI_OUTBOX_CITY_MAX)
        return GLCI_OUTBOX_EINVAL;
    s_init_ctx_t x = {.ob = ob, .city = city};
    return glci_outbox_run(ob, s_set_city_cb, &x);
}

static int s_init_cb(MDB_txn *txn, void *arg)
{
    s_init_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    int rc;
    ob->stream = glci_outbox_meta_u64(txn, ob->meta, "stream", 0);
    if (ob->stream != 0)
        return s_city_claim(txn, x);
    while (ob->stream == 0)
        randombytes_buf(&ob->stream, sizeof ob->stream);
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "stream", ob->stream)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "next_seq", 1)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "created", (uint64_t)s_now())) != 0)
        return rc;
    return s_city_claim(txn, x);
}

int glci_outbox_open(const char *dir, const glci_outbox_opts_t *opts,
                     glci_outbox_t **out, char *err, size_t errlen)
{
    uint64_t limit = opts && opts->limit ? opts->limit : GLCI_OUTBOX_DEFAULT_LIMIT;
    unsigned flags = opts ? opts->flags : 0;
    glci_outbox_t *ob = NULL;
    int rc;

    *out = NULL;
    const char *city = opts && opts->city && opts->city[0] ? opts->city : NULL;
    if (city && strlen(city) > GLCI_OUTBOX_CITY_MAX) {
        snprintf(err, errlen, "%s: city id longer than %d bytes", dir, GLCI_OUTBOX_CITY_MAX);
        return GLCI_OUTBOX_EINVAL;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "%s: libsodium cannot start", dir);
        return GLCI_OUTBOX_EIO;
    }
    if (!(flags & GLCI_OUTBOX_NOCREATE) && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the outbox folder: %s", dir, strerror(errno));
        return GLCI_OUTBOX_EIO;
    }

    ob = glci_xcalloc(1, sizeof *ob);
    ob->limit = limit;
    if (opts && opts->retain_s > 0 && opts->retain_bytes > 0) {
        ob->retain_s = opts->retain_s;
        ob->retain_bytes = opts->retain_bytes;
    }
    /* The map starts at 64 MiB and grows on demand; page overhead keeps it
     * well below twice what the undelivered and the retained batches may
     * hold. */
    rc = glci_mdb_open(dir, (flags & GLCI_OUTBOX_NOCREATE) ? 0 : GLCI_MDB_CREATE, 0,
                       (size_t)(2 * (limit + ob->retain_bytes) + (64u << 20)), 8, &ob->mdb,
                       err, errlen);
    if (rc != 0) {
        free(ob);
        if (rc == ENOENT)
            snprintf(err, errlen, "%s: no outbox there", dir);
        return rc == ENOENT ? GLCI_OUTBOX_ENOENT : glci_outbox_code(rc);
    }
    MDB_dbi dbis[S_NDBI];
    rc = glci_mdb_dbis(ob->mdb, s_dbi_names, NULL, S_NDBI, 1, dbis);
    if (rc == 0) {
        ob->meta = dbis[0];
        ob->batches = dbis[1];
        ob->quarantine = dbis[2];
        ob->markers = dbis[3];
        ob->dead = dbis[4];
        ob->retained = dbis[5];
        s_init_ctx_t x = {.ob = ob, .city = city};
        rc = glci_mdb_write(ob->mdb, s_init_cb, &x);
        if (rc == GLCI_OUTBOX_ECITY) {
            snprintf(err, errlen, "outbox %s belongs to city %s, not to city %s: its batches "
                     "are %s's; give city %s an outbox folder of its own", dir, x.held, city,
                     x.held, city);
            glci_mdb_close(&ob->mdb);
            free(ob);
            return GLCI_OUTBOX_ECITY;
        }
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot open the outbox: %s", dir,
                 glci_outbox_strerror(glci_outbox_code(rc)));
        glci_mdb_close(&ob->mdb);
        free(ob);
        return glci_outbox_code(rc) == GLCI_OUTBOX_ENOSPC ? GLCI_OUTBOX_ENOSPC : GLCI_OUTBOX_EIO;
    }
    *out = ob;
    return GLCI_OUTBOX_OK;
}

void glci_outbox_close(glci_outbox_t **self)
{
    if (!self || !*self)
        return;
    glci_mdb_close(&(*self)->mdb);
    free(*self);
    *self = NULL;
}

uint64_t glci_outbox_stream(const glci_outbox_t *ob)
{
    return ob->stream;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct {
    glci_outbox_t *ob;
    const glci_obs_t *obs;
    size_t n, batch_max;
    int64_t now;
    const char *marker, *origin;
    uint64_t first, last;
} s_append_ctx_t;

static int s_append_cb(MDB_txn *txn, void *arg)
{
    s_append_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    int rc;
    if (x->marker) {
        MDB_val k = {strlen(x->marker), (void *)x->marker}, v;
        rc = mdb_get(txn, ob->markers, &k, &v);
        if (rc == 0)
            return GLCI_OUTBOX_EEXIST;
        if (rc != MDB_NOTFOUND)
            return rc;
    }
    uint64_t next = glci_outbox_meta_u64(txn, ob->meta, "next_seq", 1);
    uint64_t bytes = glci_outbox_meta_u64(txn, ob->meta, "bytes", 0);
    uint64_t count = glci_outbox_meta_u64(txn, ob->meta, "obs", 0);
    uint64_t total = glci_outbox_append_bytes(x->obs, x->n, x->batch_max);
    if (bytes + total > ob->limit)
        return GLCI_OUTBOX_EFULL;
    x->first = next;
    for (size_t at = 0; at < x->n; at += x->batch_max) {
        size_t k = x->n - at < x->batch_max ? x->n - at : x->batch_max;
        size_t len = s_record_len(x->obs + at, k);
        unsigned char key[8];
        glci_outbox_seq_key(next, key);
        MDB_val kv = {8, key}, vv = {len, NULL};
        if ((rc = mdb_put(txn, ob->batches, &kv, &vv, MDB_RESERVE | MDB_APPEND)) != 0)
            return rc;
        glci_outbox_record_encode(x->obs + at, k, x->now, vv.mv_data, len);
        next++;
    }
    x->last = next - 1;
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "next_seq", next)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "bytes", bytes + total)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "obs", count + x->n)) != 0)
        return rc;
    if (x->marker) {
        size_t ol = x->origin ? strlen(x->origin) : 0;
        unsigned char rec[32 + GLCI_OUTBOX_ORIGIN_MAX];
        glci_outbox_le_put(rec, (uint64_t)x->now, 8);
        if (ol) {
            glci_outbox_le_put(rec + 8, ob->stream, 8);
            glci_outbox_le_put(rec + 16, x->first, 8);
            glci_outbox_le_put(rec + 24, x->last, 8);
            memcpy(rec + 32, x->origin, ol);
        }
        MDB_val k = {strlen(x->marker), (void *)x->marker}, v = {ol ? 32 + ol : 8, rec};
        if ((rc = mdb_put(txn, ob->markers, &k, &v, 0)) != 0)
            return rc;
    }
    return 0;
}

uint64_t glci_outbox_append_bytes(const glci_obs_t *obs, size_t n, size_t batch_max)
{
    uint64_t total = 0;
    if (batch_max == 0)
        batch_max = n ? n : 1;
    for (size_t at = 0; at < n; at += batch_max) {
        size_t k = n - at < batch_max ? n - at : batch_max;
        total += s_record_len(obs + at, k);
    }
    return total;
}

/* Runs a write callback; its own refusal code comes back as it is. An
 * ENOENT from inside a write is no refusal of ours: an I/O error. */
int glci_outbox_run(glci_outbox_t *ob, glci_mdb_write_fn fn, void *ctx)
{
    int rc = glci_mdb_write(ob->mdb, fn, ctx);
    if (rc == MDB_NOTFOUND || rc == ENOENT)
        return GLCI_OUTBOX_EIO;
    return glci_outbox_code(rc);
}

/* GLCI_OUTBOX_OK if every observation may be stored: its shape is right
 * (glci_obs_check) and its period fits the record's (and the wire's) 32
 * bits. */
int glci_outbox_obs_ok(const glci_obs_t *o)
{
    if (glci_obs_check(o, NULL, 0) != GLCI_REJECT_NONE || o->period < INT32_MIN ||
        o->period > INT32_MAX)
        return GLCI_OUTBOX_EINVAL;
    return GLCI_OUTBOX_OK;
}

int glci_outbox_append(glci_outbox_t *ob, const glci_obs_t *obs, size_t n,
                       size_t batch_max, int64_t now, const char *marker,
                       uint64_t *first, uint64_t *last)
{
    return glci_outbox_append_from(ob, obs, n, batch_max, now, marker, NULL, first, last);
}

int glci_outbox_append_from(glci_outbox_t *ob, const glci_obs_t *obs, size_t n,
                            size_t batch_max, int64_t now, const char *marker,
                            const char *origin, uint64_t *first, uint64_t *last)
{
    if (n == 0 || batch_max == 0 || (marker && !*marker) || (origin && !marker) ||
        (origin && strlen(origin) > GLCI_OUTBOX_ORIGIN_MAX))
        return GLCI_OUTBOX_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (glci_outbox_obs_ok(&obs[i]) != 0)
            return GLCI_OUTBOX_EINVAL;
    s_append_ctx_t x = {.ob = ob, .obs = obs, .n = n, .batch_max = batch_max, .now = now,
                        .marker = marker, .origin = origin && *origin ? origin : NULL};
    int rc = glci_outbox_run(ob, s_append_cb, &x);
    if (rc == 0) {
        if (first)
            *first = x.first;
        if (last)
            *last = x.last;
    }
    return rc;
}

/* Begins a read transaction (adopting a map another process grew). */
int glci_outbox_read_begin(glci_outbox_t *ob, MDB_txn **txn)
{
    return glci_mdb_read_begin(ob->mdb, txn);
}

void glci_outbox_read_end(glci_outbox_t *ob, MDB_txn **txn)
{
    glci_mdb_read_end(ob->mdb, txn);
}

typedef struct {
    glci_outbox_t *ob;
    const char *marker;
} s_settle_ctx_t;

static int s_settle_cb(MDB_txn *txn, void *arg)
{
    s_settle_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    MDB_val k = {strlen(x->marker), (void *)x->marker}, v;
    int rc = mdb_get(txn, ob->markers, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    uint64_t n = glci_outbox_meta_u64(txn, ob->meta, "settled_n", 0) + 1;
    unsigned char rec[32 + GLCI_OUTBOX_ORIGIN_MAX];
    size_t len = v.mv_size < sizeof rec ? v.mv_size : sizeof rec;
    memcpy(rec, v.mv_data, len);
    char key[GLCI_OUTBOX_ORIGIN_MAX + 32];
    snprintf(key, sizeof key, "%s#%016llx", x->marker, (unsigned long long)n);
    MDB_val sk = {strlen(key), key}, sv = {len, rec};
    if ((rc = mdb_put(txn, ob->markers, &sk, &sv, 0)) != 0 ||
        (rc = mdb_del(txn, ob->markers, &k, NULL)) != 0)
        return rc;
    return glci_outbox_meta_put_u64(txn, ob->meta, "settled_n", n);
}

int glci_outbox_marker_settle(glci_outbox_t *ob, const char *marker)
{
    if (!marker || !*marker || strlen(marker) > GLCI_OUTBOX_ORIGIN_MAX)
        return GLCI_OUTBOX_EINVAL;
    s_settle_ctx_t x = {ob, marker};
    return glci_outbox_run(ob, s_settle_cb, &x);
}

int glci_outbox_has_marker(glci_outbox_t *ob, const char *marker)
{
    MDB_txn *txn = NULL;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    MDB_val k = {strlen(marker), (void *)marker}, v;
    rc = mdb_get(txn, ob->markers, &k, &v);
    glci_outbox_read_end(ob, &txn);
    if (rc == 0)
        return 1;
    return rc == MDB_NOTFOUND ? 0 : glci_outbox_code(rc);
}

int glci_outbox_origin(glci_outbox_t *ob, uint64_t seq, char *out, size_t len)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    int found = 0;
    if ((rc = mdb_cursor_open(txn, ob->markers, &cur)) == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !found;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const unsigned char *p = v.mv_data;
            if (v.mv_size <= 32 || glci_outbox_le_get(p + 8, 8) != ob->stream ||
                seq < glci_outbox_le_get(p + 16, 8) || seq > glci_outbox_le_get(p + 24, 8))
                continue;
            size_t ol = v.mv_size - 32;
            snprintf(out, len, "%.*s", (int)ol, (const char *)p + 32);
            found = 1;
        }
        mdb_cursor_close(cur);
    }
    glci_outbox_read_end(ob, &txn);
    if (found)
        return 1;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : glci_outbox_code(rc);
}

typedef struct {
    glci_outbox_t *ob;
    uint64_t acked, n_rejects;
    int64_t now;
    size_t gone;
    const glci_outbox_dead_t *dead;
    size_t n_dead;
} s_ack_ctx_t;

static int s_ack_cb(MDB_txn *txn, void *arg)
{
    s_ack_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    MDB_cursor *cur = NULL;
    int rc;
    x->gone = 0;
    uint64_t next = glci_outbox_meta_u64(txn, ob->meta, "next_seq", 1);
    uint64_t prev = glci_outbox_meta_u64(txn, ob->meta, "acked", 0);
    uint64_t bytes = glci_outbox_meta_u64(txn, ob->meta, "bytes", 0);
    uint64_t count = glci_outbox_meta_u64(txn, ob->meta, "obs", 0);
    uint64_t acked = x->acked;
    if (acked >= next)          /* nothing beyond what was stored can be acked */
        acked = next - 1;
    if ((rc = mdb_cursor_open(txn, ob->batches, &cur)) != 0)
        return rc;
    MDB_val k, v;
    int retain = ob->retain_s > 0 && ob->retain_bytes > 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && glci_outbox_key_seq(&k) <= acked) {
        uint32_t n_obs = 0;
        if (!glci_outbox_record_header(&v, NULL, &n_obs))
            n_obs = 0;
        bytes = bytes > v.mv_size ? bytes - v.mv_size : 0;
        count = count > n_obs ? count - n_obs : 0;
        /* v points into the page the delete below frees: keep it first */
        if (retain &&
            (rc = glci_outbox_retained_put(txn, ob, glci_outbox_key_seq(&k), &v, x->now)) != 0)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        x->gone++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if ((rc = glci_outbox_retained_prune(txn, ob, x->now, NULL)) != 0)
        return rc;
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "acked", acked > prev ? acked : prev)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "last_ack", (uint64_t)x->now)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "bytes", bytes)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "obs", count)) != 0)
        return rc;
    if (x->n_rejects &&
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "rejects",
                             glci_outbox_meta_u64(txn, ob->meta, "rejects", 0) + x->n_rejects)) != 0)
        return rc;
    return glci_outbox_dead_put(txn, ob, x->dead, x->n_dead);
}

int glci_outbox_ack(glci_outbox_t *ob, uint64_t acked, int64_t now,
                    uint64_t n_rejects, size_t *deleted)
{
    s_ack_ctx_t x = {.ob = ob, .acked = acked, .n_rejects = n_rejects, .now = now};
    int rc = glci_outbox_run(ob, s_ack_cb, &x);
    if (rc == 0 && deleted)
        *deleted = x.gone;
    return rc;
}

int glci_outbox_ack_dead(glci_outbox_t *ob, uint64_t acked, int64_t now,
                         const glci_outbox_dead_t *dead, size_t n_dead, size_t *deleted)
{
    if (glci_outbox_dead_check(dead, n_dead) != 0)
        return GLCI_OUTBOX_EINVAL;
    s_ack_ctx_t x = {.ob = ob, .acked = acked, .now = now, .dead = dead, .n_dead = n_dead};
    int rc = glci_outbox_run(ob, s_ack_cb, &x);
    if (rc == 0 && deleted)
        *deleted = x.gone;
    return rc;
}

typedef struct {
    glci_outbox_t *ob;
    const char *state, *detail;
    int64_t retry_at, now;
} s_state_ctx_t;

static int s_state_cb(MDB_txn *txn, void *arg)
{
    s_state_ctx_t *x = arg;
    MDB_val k = {5, "state"}, v = {strlen(x->state), (void *)x->state};
    int rc = mdb_put(txn, x->ob->meta, &k, &v, 0);
    if (rc == 0)
        rc = glci_outbox_meta_put_u64(txn, x->ob->meta, "state_since", (uint64_t)x->now);
    MDB_val dk = {12, "state_detail"}, dv = {strlen(x->detail), (void *)x->detail};
    if (rc == 0)
        rc = mdb_put(txn, x->ob->meta, &dk, &dv, 0);
    if (rc == 0)
        rc = glci_outbox_meta_put_u64(txn, x->ob->meta, "retry_at", (uint64_t)x->retry_at);
    return rc;
}

int glci_outbox_set_state(glci_outbox_t *ob, const char *state, int64_t now)
{
    return glci_outbox_set_state_detail(ob, state, "", 0, now);
}

int glci_outbox_set_state_detail(glci_outbox_t *ob, const char *state, const char *detail,
                                 int64_t retry_at, int64_t now)
{
    if (strlen(state) >= sizeof ((glci_outbox_status_t *)0)->state ||
        strlen(detail) >= sizeof ((glci_outbox_status_t *)0)->state_detail)
        return GLCI_OUTBOX_EINVAL;
    s_state_ctx_t x = {ob, state, detail, retry_at, now};
    return glci_outbox_run(ob, s_state_cb, &x);
}

typedef struct {
    glci_outbox_t *ob;
    const char *key, *server;
} s_keys_ctx_t;

static int s_keys_cb(MDB_txn *txn, void *arg)
{
    s_keys_ctx_t *x = arg;
    MDB_val k = {7, "key_pub"}, v = {strlen(x->key), (void *)x->key};
    MDB_val sk = {10, "server_pub"}, sv = {strlen(x->server), (void *)x->server};
    int rc = mdb_put(txn, x->ob->meta, &k, &v, 0);
    return rc == 0 ? mdb_put(txn, x->ob->meta, &sk, &sv, 0) : rc;
}

int glci_outbox_set_keys(glci_outbox_t *ob, const char *key, const char *server)
{
    size_t kl = strlen(key), sl = strlen(server);
    if ((kl && kl != GLCI_OUTBOX_KEY_LEN) || (sl && sl != GLCI_OUTBOX_KEY_LEN))
        return GLCI_OUTBOX_EINVAL;
    s_keys_ctx_t x = {ob, key, server};
    return glci_outbox_run(ob, s_keys_cb, &x);
}

/* ---- reading ----------------------------------------------------------- */

/* The text under key in meta into out (len bytes; "" when missing or too
 * long). */
static void s_meta_text(MDB_txn *txn, MDB_dbi meta, const char *key, char *out, size_t len)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    out[0] = '\0';
    if (mdb_get(txn, meta, &k, &v) == 0 && v.mv_size < len) {
        memcpy(out, v.mv_data, v.mv_size);
        out[v.mv_size] = '\0';
    }
}

int glci_outbox_next_seq(glci_outbox_t *ob, uint64_t *next)
{
    MDB_txn *txn = NULL;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    *next = glci_outbox_meta_u64(txn, ob->meta, "next_seq", 1);
    glci_outbox_read_end(ob, &txn);
    return GLCI_OUTBOX_OK;
}

int glci_outbox_first_seq(glci_outbox_t *ob, uint64_t *seq)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    if ((rc = mdb_cursor_open(txn, ob->batches, &cur)) == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc == 0)
            *seq = glci_outbox_key_seq(&k);
        mdb_cursor_close(cur);
    }
    glci_outbox_read_end(ob, &txn);
    return glci_outbox_code(rc);
}

int glci_outbox_read_record(glci_outbox_t *ob, MDB_dbi dbi, size_t skip, uint64_t seq,
                            glci_outbox_batch_t **out)
{
    MDB_txn *txn = NULL;
    unsigned char key[8];
    glci_outbox_seq_key(seq, key);
    MDB_val kv = {8, key}, vv;
    *out = NULL;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    rc = mdb_get(txn, dbi, &kv, &vv);
    int code = glci_outbox_code(rc);
    if (rc == 0 && vv.mv_size < skip) {
        code = GLCI_OUTBOX_ECORRUPT;
    } else if (rc == 0) {
        MDB_val rec = {vv.mv_size - skip, (unsigned char *)vv.mv_data + skip};
        code = glci_outbox_record_decode(&rec, seq, out);
    }
    glci_outbox_read_end(ob, &txn);
    return code;
}

int glci_outbox_read(glci_outbox_t *ob, uint64_t seq, glci_outbox_batch_t **out)
{
    return glci_outbox_read_record(ob, ob->batches, 0, seq, out);
}

int glci_outbox_status(glci_outbox_t *ob, glci_outbox_status_t *out)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur;
    MDB_stat st;
    MDB_val k, v;
    memset(out, 0, sizeof *out);
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    out->stream = glci_outbox_meta_u64(txn, ob->meta, "stream", 0);
    out->next_seq = glci_outbox_meta_u64(txn, ob->meta, "next_seq", 1);
    out->observations = glci_outbox_meta_u64(txn, ob->meta, "obs", 0);
    out->bytes = glci_outbox_meta_u64(txn, ob->meta, "bytes", 0);
    out->limit = ob->limit;
    out->acked = glci_outbox_meta_u64(txn, ob->meta, "acked", 0);
    out->last_ack = (int64_t)glci_outbox_meta_u64(txn, ob->meta, "last_ack", 0);
    out->state_since = (int64_t)glci_outbox_meta_u64(txn, ob->meta, "state_since", 0);
    out->rejects = glci_outbox_meta_u64(txn, ob->meta, "rejects", 0);
    out->quarantined = glci_outbox_meta_u64(txn, ob->meta, "quarantined", 0);
    out->created = (int64_t)glci_outbox_meta_u64(txn, ob->meta, "created", 0);
    s_city_get(txn, ob->meta, out->city, sizeof out->city);
    glci_outbox_meta_event_get(txn, ob->meta, "lost", &out->lost_stream, &out->lost_first,
                               &out->lost_last, &out->lost_at, &out->lost_events,
                               &out->lost_batches);
    glci_outbox_meta_event_get(txn, ob->meta, "resent", &out->resent_stream,
                               &out->resent_first, &out->resent_last, &out->resent_at,
                               &out->resent_events, &out->resent_batches);
    out->clash_stream = glci_outbox_meta_u64(txn, ob->meta, "clash_stream", 0);
    out->clash_at = (int64_t)glci_outbox_meta_u64(txn, ob->meta, "clash_at", 0);
    out->clash_events = glci_outbox_meta_u64(txn, ob->meta, "clash_events", 0);
    k.mv_size = 5;
    k.mv_data = "state";
    if (mdb_get(txn, ob->meta, &k, &v) == 0 && v.mv_size < sizeof out->state) {
        memcpy(out->state, v.mv_data, v.mv_size);
        out->state[v.mv_size] = '\0';
    }
    k.mv_size = 12;
    k.mv_data = "state_detail";
    if (mdb_get(txn, ob->meta, &k, &v) == 0 && v.mv_size < sizeof out->state_detail) {
        memcpy(out->state_detail, v.mv_data, v.mv_size);
        out->state_detail[v.mv_size] = '\0';
    }
    out->retry_at = (int64_t)glci_outbox_meta_u64(txn, ob->meta, "retry_at", 0);
    s_meta_text(txn, ob->meta, "key_pub", out->key_in_use, sizeof out->key_in_use);
    s_meta_text(txn, ob->meta, "server_pub", out->server_in_use, sizeof out->server_in_use);
    out->retained_bytes = glci_outbox_meta_u64(txn, ob->meta, "r_bytes", 0);
    if ((rc = mdb_stat(txn, ob->batches, &st)) == 0)
        out->batches = st.ms_entries;
    if (rc == 0 && (rc = mdb_stat(txn, ob->dead, &st)) == 0)
        out->dead_pending = st.ms_entries;
    if (rc == 0 && (rc = mdb_stat(txn, ob->retained, &st)) == 0)
        out->retained_batches = st.ms_entries;
    if (rc == 0 && (rc = mdb_cursor_open(txn, ob->batches, &cur)) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0)
            glci_outbox_record_header(&v, &out->oldest, NULL);
        mdb_cursor_close(cur);
    }
    if (rc == 0 && (rc = mdb_cursor_open(txn, ob->retained, &cur)) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && v.mv_size >= S_RETAINED_HDR) {
            out->retained_first = glci_outbox_key_seq(&k);
            out->retained_oldest = (int64_t)glci_outbox_le_get(v.mv_data, 8);
        }
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0)
            out->retained_last = glci_outbox_key_seq(&k);
        mdb_cursor_close(cur);
    }
    glci_outbox_read_end(ob, &txn);
    return glci_outbox_code(rc);
}
