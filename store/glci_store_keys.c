/* Enrolment invitations, the keys' added and last-used times, the bounded
 * table of refused keys, and what the collector says about itself: see
 * glci_store.h ("Enrolment, key records, refused keys") and docs/STORE.md.
 * Every change is one write transaction; readers use a view. */
#include "glci_store_int.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_text.h"

/* Closed and expired invitations are kept this long after they closed, so
 * a reused or late string is told what happened to it; then dropped. */
#define S_INVITE_KEEP_S (90 * 86400)

/* The domain label hashed in front of every invitation's city and secret:
 * a hash made for anything else never matches one. */
static const char s_label[] = "glci enrolment invitation v1";

const char *glci_invite_state_str(glci_invite_state_t s)
{
    switch (s) {
    case GLCI_INVITE_OPEN: return "open";
    case GLCI_INVITE_USED: return "used";
    case GLCI_INVITE_WITHDRAWN: return "withdrawn";
    case GLCI_INVITE_EXPIRED: return "expired";
    default: return "unknown";
    }
}

/* BLAKE2b-256 of label, city, NUL, secret: the invitation's key. */
static void s_hash(const char *city, const unsigned char secret[GLCI_ENROL_SECRET_LEN],
                   unsigned char out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const unsigned char *)s_label, sizeof s_label);
    crypto_generichash_update(&h, (const unsigned char *)city, strlen(city) + 1);
    crypto_generichash_update(&h, secret, GLCI_ENROL_SECRET_LEN);
    crypto_generichash_final(&h, out, 32);
}

static int s_invite_get(const MDB_val *v, s_inviterec_t *rec)
{
    if (v->mv_size != sizeof *rec)
        return GLCI_STORE_ECORRUPT;
    memcpy(rec, v->mv_data, sizeof *rec);
    rec->city[sizeof rec->city - 1] = '\0';
    return 0;
}

/* The public form of a record: its state at now and the id its hash gives. */
static void s_invite_out(const unsigned char hash[32], const s_inviterec_t *rec, int64_t now,
                         glci_invite_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->city, sizeof out->city, "%s", rec->city);
    sodium_bin2hex(out->id, sizeof out->id, hash, 8);
    out->state = rec->state == S_INV_USED        ? GLCI_INVITE_USED
               : rec->state == S_INV_WITHDRAWN   ? GLCI_INVITE_WITHDRAWN
               : now >= rec->expires             ? GLCI_INVITE_EXPIRED
                                                 : GLCI_INVITE_OPEN;
    out->created = rec->created;
    out->expires = rec->expires;
    out->closed = rec->closed;
    memcpy(out->key, rec->key, 32);
}

/* ---- making and withdrawing invitations ----------------------------------- */

typedef struct {
    glci_store_t *st;
    const char *id, *name;
    char country[3];
    int64_t now, expires;
    unsigned char hash[32];
    int withdraw_only;        /* glci_store_invite_withdraw */
    size_t n_withdrawn;
    int city_existed, city_revoked;
    s_inviterec_t rec;
} s_invite_ctx_t;

int glci_store_invites_withdraw(glci_store_t *st, MDB_txn *txn, const char *city, int64_t now,
                                uint32_t why, size_t *n)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_INVITES], &cur);
    if (rc != 0)
        return rc;
    *n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        s_inviterec_t r;
        if (s_invite_get(&v, &r) != 0)
            continue;                /* left for an operator to see, never a failure */
        int64_t ended = r.state != S_INV_OPEN ? r.closed : r.expires;
        if (why == S_INV_BY_OPERATOR && ended + S_INVITE_KEEP_S < now) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            continue;
        }
        if (r.state == S_INV_OPEN && strcmp(r.city, city) == 0) {
            r.state = S_INV_WITHDRAWN;
            r.closed = now;
            r.why = why;
            MDB_val nv = {sizeof r, &r};
            rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
            if (rc != 0)
                break;
            (*n)++;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int s_invite_txn(MDB_txn *txn, void *vctx)
{
    s_invite_ctx_t *c = vctx;
    glci_store_t *st = c->st;
    s_cityrec_t city;
    int rc = glci_store_city_get(st, txn, c->id, &city);
    c->city_existed = rc == 0;
    c->city_revoked = rc == 0 && !city.active;
    if (c->name) {                    /* city add --invite: the city is new */
        if (rc == 0)
            return GLCI_STORE_EEXIST;
        if (rc != GLCI_STORE_ENOCITY)
            return rc;
        memset(&city, 0, sizeof city);
        city.active = 1;
        snprintf(city.name, sizeof city.name, "%s", c->name);
        memcpy(city.country, c->country, 3);
        /* It joined when it was invited, as `city add` with a key records:
         * a table as of an earlier time never counts it. */
        if ((rc = glci_store_stamp(st, txn, c->now, &city.added)) != 0)
            return rc;
        MDB_val k = {strlen(c->id), (void *)c->id}, v = {sizeof city, &city};
        rc = mdb_put(txn, st->dbi[S_DB_CITIES], &k, &v, 0);
        if (rc == 0)
            rc = glci_store_bump_auth(st, txn);
        if (rc != 0)
            return rc;
    } else if (rc != 0) {
        return rc;
    } else if (!city.active && !c->withdraw_only) {
        return GLCI_STORE_EREVOKED;
    }
    rc = glci_store_invites_withdraw(st, txn, c->id, c->now, S_INV_BY_OPERATOR,
                                     &c->n_withdrawn);
    if (rc != 0 || c->withdraw_only)
        return rc;
    MDB_val k = {32, c->hash}, v = {sizeof c->rec, &c->rec};
    return mdb_put(txn, st->dbi[S_DB_INVITES], &k, &v, 0);
}

static int s_invite_run(glci_store_t *st, s_invite_ctx_t *c, char *err, size_t errlen)
{
    if (glci_mdb_rdonly(st->mdb)) {
        glci_errf(err, errlen, "%s: store is open read-only", st->dir);
        return GLCI_STORE_ERDONLY;
    }
    c->st = st;
    int rc = glci_store_code(glci_mdb_write(st->mdb, s_invite_txn, c));
    switch (rc) {
    case 0:
        break;
    case GLCI_STORE_EEXIST:
        if (c->city_revoked)
            glci_errf(err, errlen, "city '%s' is registered and revoked: take it back with "
                      "`glci city reinstate %s`, then invite it", c->id, c->id);
        else
            glci_errf(err, errlen, "city '%s' is already registered: `glci city invite %s` "
                      "makes a new enrolment string for it", c->id, c->id);
        break;
    case GLCI_STORE_ENOCITY:
        glci_errf(err, errlen, "no city '%s'", c->id);
        break;
    case GLCI_STORE_EREVOKED:
        glci_errf(err, errlen, "city '%s' is revoked: reinstate it first (`glci city "
                  "reinstate %s`)", c->id, c->id);
        break;
    default:
        glci_errf(err, errlen, "%s: cannot write: %s", st->dir, glci_store_strerror(rc));
        break;
    }
    return rc;
}

int glci_store_invite_add(glci_store_t *st, const char *id, const char *name,
                          const char *country, int64_t now, int64_t expires,
                          unsigned char *secret, glci_invite_t *out, char *err, size_t errlen)
{
    s_invite_ctx_t c;
    memset(&c, 0, sizeof c);
    int rc;
    if (name || country) {
        if ((rc = glci_city_check(id, name, country, c.country, err, errlen)) != 0)
            return rc;
        c.name = name;
    } else if ((rc = glci_city_id_check(id, err, errlen)) != 0) {
        return GLCI_STORE_ENOCITY;
    }
    if (expires <= now) {
        glci_errf(err, errlen, "an invitation must expire after it is made");
        return GLCI_STORE_EINVAL;
    }
    c.id = id;
    c.now = now;
    c.expires = expires;
    /* made once, before the transaction, which may run twice */
    randombytes_buf(secret, GLCI_ENROL_SECRET_LEN);
    s_hash(id, secret, c.hash);
    c.rec.created = now;
    c.rec.expires = expires;
    c.rec.state = S_INV_OPEN;
    snprintf(c.rec.city, sizeof c.rec.city, "%s", id);
    rc = s_invite_run(st, &c, err, errlen);
    if (rc != 0) {
        sodium_memzero(secret, GLCI_ENROL_SECRET_LEN);
        return rc;
    }
    if (out)
        s_invite_out(c.hash, &c.rec, now, out);
    return 0;
}

int glci_store_invite_withdraw(glci_store_t *st, const char *id, int64_t now, size_t *n,
                               char *err, size_t errlen)
{
    s_invite_ctx_t c;
    memset(&c, 0, sizeof c);
    if (glci_city_id_check(id, err, errlen) != 0)
        return GLCI_STORE_ENOCITY;
    c.id = id;
    c.now = now;
    c.withdraw_only = 1;
    int rc = s_invite_run(st, &c, err, errlen);
    if (n)
        *n = rc == 0 ? c.n_withdrawn : 0;
    return rc;
}

/* ---- enrolment -------------------------------------------------------------- */

typedef struct {
    glci_store_t *st;
    const char *city;
    const unsigned char *key;
    int64_t now;
    unsigned char hash[32];
    glci_enrol_outcome_t outcome;
    int found;
    s_inviterec_t rec;
    char owner[GLCI_CITY_ID_MAX + 1];   /* KEY_TAKEN: whose */
} s_enrol_ctx_t;

static int s_enrol_txn(MDB_txn *txn, void *vctx)
{
    s_enrol_ctx_t *c = vctx;
    glci_store_t *st = c->st;
    MDB_val k = {32, c->hash}, v;
    c->found = 0;
    int rc = mdb_get(txn, st->dbi[S_DB_INVITES], &k, &v);
    if (rc == MDB_NOTFOUND) {
        c->outcome = GLCI_ENROL_NO_MATCH;
        return S_TXN_NOCOMMIT;
    }
    if (rc != 0)
        return rc;
    if ((rc = s_invite_get(&v, &c->rec)) != 0)
        return rc;
    c->found = 1;
    if (strcmp(c->rec.city, c->city) != 0) {
        c->outcome = GLCI_ENROL_NO_MATCH;
        return S_TXN_NOCOMMIT;
    }
    if (c->rec.state != S_INV_OPEN || c->now >= c->rec.expires) {
        c->outcome = c->rec.state == S_INV_USED        ? GLCI_ENROL_USED
                   : c->rec.state == S_INV_WITHDRAWN   ? GLCI_ENROL_WITHDRAWN
                                                       : GLCI_ENROL_EXPIRED;
        return S_TXN_NOCOMMIT;
    }
    s_cityrec_t city;
    rc = glci_store_city_get(st, txn, c->city, &city);
    if (rc == GLCI_STORE_ENOCITY) {
        c->outcome = GLCI_ENROL_NO_MATCH;
        return S_TXN_NOCOMMIT;
    }
    if (rc != 0)
        return rc;
    if (!city.active) {
        c->outcome = GLCI_ENROL_CITY_REVOKED;
        return S_TXN_NOCOMMIT;
    }
    MDB_val kk = {32, (void *)c->key}, kv;
    rc = mdb_get(txn, st->dbi[S_DB_KEYS], &kk, &kv);
    if (rc == 0) {
        int64_t a, u;
        if (glci_store_keyval_parse(&kv, c->owner, &a, &u) != 0)
            c->owner[0] = '\0';
        c->outcome = GLCI_ENROL_KEY_TAKEN;
        return S_TXN_NOCOMMIT;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    unsigned char val[S_CITYZ_MAX + 16];
    kv.mv_size = glci_store_keyval(val, c->city, c->now, c->now);
    kv.mv_data = val;
    if ((rc = mdb_put(txn, st->dbi[S_DB_KEYS], &kk, &kv, 0)) != 0)
        return rc;
    city.n_keys++;
    MDB_val ck = {strlen(c->city), (void *)c->city}, cv = {sizeof city, &city};
    if ((rc = mdb_put(txn, st->dbi[S_DB_CITIES], &ck, &cv, 0)) != 0)
        return rc;
    c->rec.state = S_INV_USED;
    c->rec.closed = c->now;
    memcpy(c->rec.key, c->key, 32);
    v.mv_size = sizeof c->rec;
    v.mv_data = &c->rec;
    if ((rc = mdb_put(txn, st->dbi[S_DB_INVITES], &k, &v, 0)) != 0)
        return rc;
    c->outcome = GLCI_ENROL_OK;
    return glci_store_bump_auth(st, txn);
}

/* The line the agent is told for an outcome that is not OK. */
static void s_enrol_msg(const s_enrol_ctx_t *c, char *msg, size_t msglen)
{
    char when[32], fp[GLCI_KEY_FP_LEN + 1];
    switch (c->outcome) {
    case GLCI_ENROL_OK:
        glci_errf(msg, msglen, "enrolled");
        break;
    case GLCI_ENROL_NO_MATCH:
        glci_errf(msg, msglen, "no invitation of city '%s' has this enrolment string's "
                  "secret (forged, or made for another collector?)", c->city);
        break;
    case GLCI_ENROL_USED:
        glci_format_iso_time(c->rec.closed, when, sizeof when);
        glci_key_fingerprint_raw(c->rec.key, fp);
        glci_errf(msg, msglen, "this enrolment string was used at %s (key %s); each works "
                  "once: ask the institute for a new one", when, fp);
        break;
    case GLCI_ENROL_WITHDRAWN:
        glci_format_iso_time(c->rec.closed, when, sizeof when);
        glci_errf(msg, msglen, "this enrolment string was withdrawn by the institute at %s%s: "
                  "ask it for a new one", when,
                  c->rec.why == S_INV_BY_REVOCATION ? ", when it revoked the city" : "");
        break;
    case GLCI_ENROL_EXPIRED:
        glci_format_iso_time(c->rec.expires, when, sizeof when);
        glci_errf(msg, msglen, "this enrolment string expired at %s: ask the institute for "
                  "a new one", when);
        break;
    case GLCI_ENROL_CITY_REVOKED:
        glci_errf(msg, msglen, "city '%s' is revoked: the institute must reinstate it "
                  "before it can enrol", c->city);
        break;
    case GLCI_ENROL_KEY_TAKEN:
        glci_errf(msg, msglen, "this agent's key is registered already%s%s: make a new "
                  "key pair and enrol again", c->owner[0] ? " to city " : "", c->owner);
        break;
    }
}

int glci_store_enrol(glci_store_t *st, const char *city,
                     const unsigned char secret[GLCI_ENROL_SECRET_LEN],
                     const unsigned char key[32], int64_t now, glci_enrol_outcome_t *outcome,
                     glci_invite_t *inv, char *msg, size_t msglen)
{
    s_enrol_ctx_t c;
    memset(&c, 0, sizeof c);
    *outcome = GLCI_ENROL_NO_MATCH;
    if (glci_mdb_rdonly(st->mdb)) {
        glci_errf(msg, msglen, "%s: store is open read-only", st->dir);
        return GLCI_STORE_ERDONLY;
    }
    c.st = st;
    c.city = city;
    c.key = key;
    c.now = now;
    if (!glci_city_id_valid(city)) {
        /* no invitation can match; said as such (the id is the agent's
         * bytes: the collector's log escapes them, the agent prints only
         * printable ASCII of a reply) */
        glci_errf(msg, msglen, "'%.80s' is not a valid city id ([a-z0-9][a-z0-9._-]*): no "
                  "invitation has it", city ? city : "");
        return 0;
    }
    s_hash(city, secret, c.hash);
    int rc = glci_mdb_write(st->mdb, s_enrol_txn, &c);
    if (rc != 0 && rc != S_TXN_NOCOMMIT) {
        rc = glci_store_code(rc);
        glci_errf(msg, msglen, "%s: cannot write: %s", st->dir, glci_store_strerror(rc));
        return rc;
    }
    *outcome = c.outcome;
    if (inv && c.found)
        s_invite_out(c.hash, &c.rec, now, inv);
    s_enrol_msg(&c, msg, msglen);
    return 0;
}

int glci_view_invites(glci_view_t *v, int64_t now, int all,
                      int (*fn)(void *ctx, const glci_invite_t *inv), void *ctx)
{
    glci_store_t *st = v->st;
    if (!st->has_db[S_DB_INVITES])
        return 0;
    MDB_cursor *cur;
    MDB_val k, val;
    int rc = mdb_cursor_open(v->txn, st->dbi[S_DB_INVITES], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    /* hash order is no order for people: collect, then sort by creation */
    glci_invite_t *rows = NULL;
    size_t n = 0, cap = 0;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        s_inviterec_t r;
        if (k.mv_size != 32 || s_invite_get(&val, &r) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        glci_invite_t out;
        s_invite_out(k.mv_data, &r, now, &out);
        if (!all && out.state != GLCI_INVITE_OPEN)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            rows = glci_xrealloc(rows, cap * sizeof *rows);
        }
        rows[n++] = out;
    }
    int cb = 0;
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        for (size_t i = 1; i < n; i++)    /* insertion sort: a handful per city */
            for (size_t j = i; j > 0 && rows[j - 1].created > rows[j].created; j--) {
                glci_invite_t t = rows[j];
                rows[j] = rows[j - 1];
                rows[j - 1] = t;
            }
        for (size_t i = 0; i < n && !cb; i++)
            cb = fn(ctx, &rows[i]);
    }
    free(rows);
    return glci_store_walk_end(cur, rc, cb);
}

/* ---- keys: listing, last used ----------------------------------------------- */

int glci_view_city_keys(glci_view_t *v, const char *id,
                        int (*fn)(void *ctx, const glci_city_key_t *k), void *ctx)
{
    glci_store_t *st = v->st;
    s_cityrec_t rec;
    int rc = glci_city_id_valid(id) ? glci_store_city_get(st, v->txn, id, &rec)
                                    : GLCI_STORE_ENOCITY;
    if (rc != 0)
        return rc;
    MDB_cursor *cur;
    MDB_val k, val;
    if ((rc = mdb_cursor_open(v->txn, st->dbi[S_DB_KEYS], &cur)) != 0)
        return glci_store_code(rc);
    int cb = 0;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0 && !cb;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        char owner[GLCI_CITY_ID_MAX + 1];
        glci_city_key_t ck;
        if (k.mv_size != 32 ||
            glci_store_keyval_parse(&val, owner, &ck.added, &ck.last_used) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (strcmp(owner, id) != 0)
            continue;
        memcpy(ck.key, k.mv_data, 32);
        cb = fn(ctx, &ck);
    }
    return glci_store_walk_end(cur, rc, cb);
}

/* ---- the collector's record of key events ---------------------------------- */

typedef struct {
    unsigned char key[32];
    size_t at;
} s_keyat_t;

typedef struct {
    glci_store_t *st;
    const glci_key_use_t *uses;
    size_t n_uses;
    const glci_key_refusal_t *refused;
    size_t n_refused, bound;
    s_keyat_t *bykey;         /* the refusals' keys in key order, with their indices */
} s_record_ctx_t;

static int s_keyat_cmp(const void *a, const void *b)
{
    return memcmp(((const s_keyat_t *)a)->key, ((const s_keyat_t *)b)->key, 32);
}

/* Where key stands among the refusals this transaction wrote before the
 * i-th: its index there, or -1 (a record of an earlier write). */
static long s_written_at(const s_record_ctx_t *c, const unsigned char *key, size_t i)
{
    size_t lo = 0, hi = c->n_refused;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = memcmp(c->bykey[mid].key, key, 32);
        if (d == 0)
            return c->bykey[mid].at < i ? (long)c->bykey[mid].at : -1;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int s_record_uses(s_record_ctx_t *c, MDB_txn *txn)
{
    for (size_t i = 0; i < c->n_uses; i++) {
        MDB_val k = {32, (void *)c->uses[i].key}, v;
        int rc = mdb_get(txn, c->st->dbi[S_DB_KEYS], &k, &v);
        if (rc == MDB_NOTFOUND)
            continue;                 /* removed since: nothing to note */
        if (rc != 0)
            return rc;
        char city[GLCI_CITY_ID_MAX + 1];
        int64_t added, used;
        if (glci_store_keyval_parse(&v, city, &added, &used) != 0 || used >= c->uses[i].at)
            continue;
        unsigned char val[S_CITYZ_MAX + 16];
        v.mv_size = glci_store_keyval(val, city, added, c->uses[i].at);
        v.mv_data = val;
        if ((rc = mdb_put(txn, c->st->dbi[S_DB_KEYS], &k, &v, 0)) != 0)
            return rc;
    }
    return 0;
}

/* Deletes the least recently seen refused key. Times are whole seconds:
 * of the keys last seen in the same second, one from an earlier write goes
 * first, then those this transaction wrote before the i-th refusal, in
 * the order given (oldest sighting first). */
static int s_refused_evict(const s_record_ctx_t *c, size_t i, MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char oldest[32];
    int64_t oldest_last = INT64_MAX;
    long oldest_at = LONG_MAX;
    int found = 0;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        s_refusedrec_t r;
        int64_t last = INT64_MIN;     /* a record that does not decode goes first */
        if (v.mv_size == sizeof r) {
            memcpy(&r, v.mv_data, sizeof r);
            last = r.last;
        }
        if (k.mv_size != 32 || last > oldest_last)
            continue;
        long at = s_written_at(c, k.mv_data, i);
        if (last < oldest_last || at < oldest_at) {
            oldest_last = last;
            oldest_at = at;
            memcpy(oldest, k.mv_data, 32);
            found = 1;
        }
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    if (!found)
        return 0;
    MDB_val ok = {32, oldest};
    return mdb_del(txn, dbi, &ok, NULL);
}

static int s_record_refused(s_record_ctx_t *c, MDB_txn *txn)
{
    MDB_dbi dbi = c->st->dbi[S_DB_REFUSED];
    for (size_t i = 0; i < c->n_refused; i++) {
        const glci_key_refusal_t *in = &c->refused[i];
        MDB_val k = {32, (void *)in->key}, v;
        s_refusedrec_t r;
        int rc = mdb_get(txn, dbi, &k, &v);
        if (rc == 0 && v.mv_size == sizeof r) {
            memcpy(&r, v.mv_data, sizeof r);
            if (in->first < r.first)
                r.first = in->first;
            if (in->last >= r.last) {
                r.last = in->last;
                snprintf(r.addr, sizeof r.addr, "%s", in->addr);
            }
            r.count += in->count;
        } else if (rc == 0 || rc == MDB_NOTFOUND) {
            MDB_stat ms;
            if ((rc = mdb_stat(txn, dbi, &ms)) != 0)
                return rc;
            /* room for one more: the table never exceeds the bound */
            for (size_t n = ms.ms_entries; rc == 0 && n >= c->bound; n--)
                rc = s_refused_evict(c, i, txn, dbi);
            if (rc != 0)
                return rc;
            memset(&r, 0, sizeof r);
            r.first = in->first;
            r.last = in->last;
            r.count = in->count;
            snprintf(r.addr, sizeof r.addr, "%s", in->addr);
        } else {
            return rc;
        }
        v.mv_size = sizeof r;
        v.mv_data = &r;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
            return rc;
    }
    return 0;
}

static int s_record_txn(MDB_txn *txn, void *vctx)
{
    s_record_ctx_t *c = vctx;
    int rc = s_record_uses(c, txn);
    return rc != 0 ? rc : s_record_refused(c, txn);
}

int glci_store_key_record(glci_store_t *st, const glci_key_use_t *uses, size_t n_uses,
                          const glci_key_refusal_t *refused, size_t n_refused, size_t bound)
{
    if (glci_mdb_rdonly(st->mdb))
        return GLCI_STORE_ERDONLY;
    if (n_uses == 0 && n_refused == 0)
        return 0;
    s_record_ctx_t c = {st, uses, n_uses, refused, n_refused,
                        bound ? bound : GLCI_STORE_REFUSED_MAX, NULL};
    c.bykey = glci_xcalloc(n_refused ? n_refused : 1, sizeof *c.bykey);
    for (size_t i = 0; i < n_refused; i++) {
        memcpy(c.bykey[i].key, refused[i].key, 32);
        c.bykey[i].at = i;
    }
    qsort(c.bykey, n_refused, sizeof *c.bykey, s_keyat_cmp);
    int rc = glci_store_code(glci_mdb_write(st->mdb, s_record_txn, &c));
    free(c.bykey);
    return rc;
}

static int s_refused_cmp(const void *a, const void *b)
{
    const glci_key_refusal_t *x = a, *y = b;
    if (x->last != y->last)
        return x->last > y->last ? -1 : 1;
    return memcmp(x->key, y->key, 32);
}

int glci_view_refused(glci_view_t *v, int (*fn)(void *ctx, const glci_key_refusal_t *r),
                      void *ctx, size_t *total)
{
    glci_store_t *st = v->st;
    if (total)
        *total = 0;
    if (!st->has_db[S_DB_REFUSED])
        return 0;
    MDB_cursor *cur;
    MDB_val k, val;
    int rc = mdb_cursor_open(v->txn, st->dbi[S_DB_REFUSED], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    glci_key_refusal_t *rows = NULL;
    size_t n = 0, cap = 0;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        s_refusedrec_t r;
        if (k.mv_size != 32 || val.mv_size != sizeof r) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(&r, val.mv_data, sizeof r);
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            rows = glci_xrealloc(rows, cap * sizeof *rows);
        }
        glci_key_refusal_t *o = &rows[n++];
        memcpy(o->key, k.mv_data, 32);
        r.addr[sizeof r.addr - 1] = '\0';
        snprintf(o->addr, sizeof o->addr, "%s", r.addr);
        o->first = r.first;
        o->last = r.last;
        o->count = r.count;
    }
    int cb = 0;
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        if (total)
            *total = n;
        if (n)
            qsort(rows, n, sizeof *rows, s_refused_cmp);
        for (size_t i = 0; i < n && !cb; i++)
            cb = fn(ctx, &rows[i]);
    }
    free(rows);
    return glci_store_walk_end(cur, rc, cb);
}

/* ---- what the collector says about itself ----------------------------------- */

typedef struct {
    glci_store_t *st;
    const char *names[3];
    const char *values[3];
} s_info_ctx_t;

static int s_info_txn(MDB_txn *txn, void *vctx)
{
    s_info_ctx_t *c = vctx;
    for (int i = 0; i < 3; i++) {
        if (!c->values[i])
            continue;
        MDB_val k = {strlen(c->names[i]), (void *)c->names[i]};
        MDB_val v = {strlen(c->values[i]), (void *)c->values[i]};
        int rc = mdb_put(txn, c->st->dbi[S_DB_META], &k, &v, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const char *const s_info_names[3] = {"collector_listen", "collector_enrol_listen",
                                            "collector_host"};

int glci_store_collector_put(glci_store_t *st, const char *listen, const char *enrol_listen,
                             const char *host)
{
    if (glci_mdb_rdonly(st->mdb))
        return GLCI_STORE_ERDONLY;
    s_info_ctx_t c = {st, {s_info_names[0], s_info_names[1], s_info_names[2]},
                      {listen, enrol_listen, host}};
    for (int i = 0; i < 3; i++)
        if (c.values[i] && strlen(c.values[i]) > 255)
            return GLCI_STORE_EINVAL;
    return glci_store_code(glci_mdb_write(st->mdb, s_info_txn, &c));
}

int glci_view_collector(glci_view_t *v, glci_collector_info_t *out)
{
    memset(out, 0, sizeof *out);
    char *fields[3] = {out->listen, out->enrol_listen, out->host};
    size_t sizes[3] = {sizeof out->listen, sizeof out->enrol_listen, sizeof out->host};
    for (int i = 0; i < 3; i++) {
        MDB_val k = {strlen(s_info_names[i]), (void *)s_info_names[i]}, val;
        int rc = mdb_get(v->txn, v->st->dbi[S_DB_META], &k, &val);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return glci_store_code(rc);
        if (val.mv_size >= sizes[i])
            return GLCI_STORE_ECORRUPT;
        memcpy(fields[i], val.mv_data, val.mv_size);
        fields[i][val.mv_size] = '\0';
    }
    return 0;
}
