/* Editions (SPEC §7): a league table published under a name, written once
 * in one transaction and never changed -- the as-of recomputation of one
 * period (glci_store_asof.c) with its ranks and the framework hash.
 *
 * Records (glci_store_int.h): `editions` maps the name to s_editionrec_t
 * and the publisher's name and SUDO_USER, as the first release wrote it
 * (so its binaries still read a store this one published in). The
 * edition's publication number (big-endian u64 from 1; the last one given
 * kept in meta editions_published) is meta edition_seq/NAME, written in
 * the same transaction; a record may also end in the number itself, as a
 * few development builds wrote it. `edition_rows` maps name NUL
 * city NUL to the city's rank (u32, 0 unranked), a reserved u32 and its
 * result block. Publishing moves meta sealed_until to the edition's as-of
 * time, and every later write is recorded as received after it
 * (glci_store_receive_time): the recomputation at that time can never
 * change, which is what verify proves for each edition. */
#include "glci_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"
#include "glci_utf8.h"

#define S_ROW_HEAD 8u         /* rank u32, reserved u32 */
#define S_SEQ_LEN 8u          /* the publication number after the strings */
#define S_SEQ_META "editions_published"
#define S_SEQ_KEY "edition_seq/"    /* + name: the edition's number, in meta */

int glci_edition_name_check(const char *name, char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 1 && n <= GLCI_EDITION_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        ok = alnum || (i > 0 && (c == '.' || c == '_' || c == '-'));
    }
    if (ok)
        return 0;
    char esc[4 * 80 + 1];
    glci_utf8_escape(name ? name : "", 80, esc, sizeof esc);
    glci_errf(err, errlen, "edition name '%s' is not valid (1 to %d of A-Z a-z 0-9 . _ -, "
              "starting with a letter or digit)", esc, GLCI_EDITION_NAME_MAX);
    return GLCI_STORE_EINVAL;
}

int glci_edition_cmp(const void *a, const void *b)
{
    const glci_edition_t *x = a, *y = b;
    /* the number is the order, whatever the wall clock did between two
     * publications; the unnumbered were published before any numbered one */
    if (x->seq || y->seq) {
        if (x->seq != y->seq)
            return !x->seq ? -1 : !y->seq ? 1 : x->seq < y->seq ? -1 : 1;
        return strcmp(x->name, y->name);
    }
    if (x->published != y->published)
        return x->published < y->published ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The meta key of edition name's number. */
static void s_seq_key(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s%s", S_SEQ_KEY, name);
}

static size_t s_row_key(unsigned char *k, const char *name, const char *city)
{
    size_t n = strlen(name);
    memcpy(k, name, n);
    k[n] = 0;
    return n + 1 + glci_store_cityz(k + n + 1, city);
}

/* Decodes an edition header into *out, its number from meta when the
 * record holds none. 0, ECORRUPT or a store error. */
static int s_decode(glci_store_t *st, MDB_txn *txn, const MDB_val *k, const MDB_val *d,
                    glci_edition_t *out)
{
    s_editionrec_t rec;
    memset(out, 0, sizeof *out);
    if (k->mv_size == 0 || k->mv_size > GLCI_EDITION_NAME_MAX || d->mv_size < sizeof rec)
        return GLCI_STORE_ECORRUPT;
    memcpy(&rec, d->mv_data, sizeof rec);
    const char *p = (const char *)d->mv_data + sizeof rec;
    size_t base = sizeof rec + rec.who_len + 1u + rec.sudo_len + 1u;
    if (rec.who_len > GLCI_OPERATOR_MAX || rec.sudo_len > GLCI_OPERATOR_MAX ||
        (d->mv_size != base && d->mv_size != base + S_SEQ_LEN) ||
        p[rec.who_len] != 0 || p[rec.who_len + 1 + rec.sudo_len] != 0)
        return GLCI_STORE_ECORRUPT;
    if (d->mv_size == base + S_SEQ_LEN &&
        (out->seq = glci_be64_get((const unsigned char *)d->mv_data + base)) == 0)
        return GLCI_STORE_ECORRUPT;
    memcpy(out->name, k->mv_data, k->mv_size);
    out->period = rec.period;
    out->as_of = rec.as_of;
    out->published = rec.published;
    out->n_rows = rec.n_rows;
    out->n_ranked = rec.n_ranked;
    memcpy(out->fw_hash, rec.fw_hash, 32);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out->fw_hash_hex[2 * i] = hex[rec.fw_hash[i] >> 4];
        out->fw_hash_hex[2 * i + 1] = hex[rec.fw_hash[i] & 15];
    }
    memcpy(out->by, p, rec.who_len + 1u);
    memcpy(out->sudo_user, p + rec.who_len + 1, rec.sudo_len + 1u);
    if (out->seq == 0) {
        char key[sizeof S_SEQ_KEY + GLCI_EDITION_NAME_MAX];
        s_seq_key(key, sizeof key, out->name);
        return glci_store_meta_u64(st, txn, key, &out->seq);
    }
    return 0;
}

int glci_store_edition_get(glci_store_t *st, MDB_txn *txn, const char *name, glci_edition_t *out)
{
    if (!st->has_db[S_DB_EDITIONS] || !st->has_db[S_DB_EDITION_ROWS])
        return GLCI_STORE_ENOENT;
    MDB_val k = {strlen(name), (void *)name}, d;
    if (k.mv_size == 0 || k.mv_size > GLCI_EDITION_NAME_MAX)
        return GLCI_STORE_ENOENT;
    int rc = mdb_get(txn, st->dbi[S_DB_EDITIONS], &k, &d);
    if (rc == MDB_NOTFOUND)
        return GLCI_STORE_ENOENT;
    if (rc != 0)
        return glci_store_code(rc);
    return s_decode(st, txn, &k, &d, out);
}

int glci_view_edition(glci_view_t *v, const char *name, glci_edition_t *out)
{
    return glci_store_edition_get(v->st, v->txn, name, out);
}

int glci_view_editions(glci_view_t *v, int (*fn)(void *ctx, const glci_edition_t *e),
                       void *ctx)
{
    if (!v->st->has_db[S_DB_EDITIONS])
        return 0;
    MDB_cursor *cur;
    MDB_val k, d;
    int cb = 0, rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_EDITIONS], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        glci_edition_t e;
        if ((rc = s_decode(v->st, v->txn, &k, &d, &e)) != 0 || (cb = fn(ctx, &e)) != 0)
            break;
    }
    return glci_store_walk_end(cur, rc, cb);
}

int glci_store_edition_rows(glci_store_t *st, MDB_txn *txn, const char *name,
                            glci_snapshot_t *out)
{
    glci_edition_t e;
    memset(out, 0, sizeof *out);
    int rc = glci_store_edition_get(st, txn, name, &e);
    if (rc != 0)
        return rc;
    out->period = e.period;
    unsigned char pk[GLCI_EDITION_NAME_MAX + 1];
    size_t plen = strlen(name) + 1;
    memcpy(pk, name, plen);
    MDB_cursor *cur;
    MDB_val k = {plen, pk}, d;
    size_t cap = 0;
    if ((rc = mdb_cursor_open(txn, st->dbi[S_DB_EDITION_ROWS], &cur)) != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, pk, plen) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        size_t clen = k.mv_size - plen;
        const char *city = (const char *)k.mv_data + plen;
        if (clen < 2 || clen > S_CITYZ_MAX || city[clen - 1] != 0 ||
            d.mv_size != S_ROW_HEAD + st->rsize) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 256;
            out->rows = glci_xrealloc(out->rows, cap * sizeof *out->rows);
        }
        glci_snapshot_row_t *row = &out->rows[out->n++];
        memset(row, 0, sizeof *row);
        memcpy(row->city, city, clen);
        uint32_t rank;
        memcpy(&rank, d.mv_data, 4);
        row->rank = rank;
        row->result = glci_xmalloc(st->rsize);
        memcpy(row->result, (const unsigned char *)d.mv_data + S_ROW_HEAD, st->rsize);
        out->n_ranked += rank != 0;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        glci_snapshot_release(out);
        return glci_store_code(rc);
    }
    /* Rows come by city id: put them in the table's order (the ranks as
     * frozen, ties by id, then the unranked). */
    glci_store_snapshot_order(out);
    return 0;
}

int glci_view_edition_rows(glci_view_t *v, const char *name, glci_snapshot_t *out)
{
    return glci_store_edition_rows(v->st, v->txn, name, out);
}

/* ---- publishing ----------------------------------------------------------------- */

typedef struct {
    glci_store_t *st;
    const glci_edition_spec_t *spec;
    int64_t now;
    glci_edition_t *out;
    char *err;
    size_t errlen;
} s_publish_t;

#define S_PUB_EXISTS 1101
#define S_PUB_NODATA 1102
#define S_PUB_FUTURE 1103

static int s_publish_txn(MDB_txn *txn, void *vctx)
{
    s_publish_t *x = vctx;
    glci_store_t *st = x->st;
    const glci_edition_spec_t *spec = x->spec;
    glci_edition_t old;
    glci_snapshot_t snap = {0};
    int rc = glci_store_edition_get(st, txn, spec->name, &old);
    if (rc == 0) {
        char when[32];
        glci_format_iso_time(old.published, when, sizeof when);
        glci_errf(x->err, x->errlen, "edition '%s' exists already (period %d, published %s); "
                  "an edition is never changed: publish under another name", spec->name,
                  (int)old.period, when);
        return S_PUB_EXISTS;
    }
    if (rc != GLCI_STORE_ENOENT)
        return rc;
    int64_t as_of = spec->as_of, store_now;
    if ((rc = glci_store_now(st, txn, x->now, &store_now)) != 0)
        return rc;
    if (spec->as_of_now)
        as_of = store_now;
    if (as_of > store_now) {
        char t[32];
        glci_format_iso_time(as_of, t, sizeof t);
        glci_errf(x->err, x->errlen, "as-of time %s is in the future: an edition freezes what "
                  "the store held", t);
        return S_PUB_FUTURE;
    }
    int32_t period = spec->period;
    if (!spec->has_period) {
        glci_period_choice_t ch;
        rc = glci_store_asof_default(st, txn, NULL, as_of, &ch);
        if (rc == GLCI_STORE_ENODATA) {
            glci_errf(x->err, x->errlen, "no data in the store as of that time");
            return S_PUB_NODATA;
        }
        if (rc != 0)
            return rc;
        period = ch.period;
    }
    if ((rc = glci_store_asof_snapshot(st, txn, NULL, period, as_of, 0, &snap)) != 0)
        return rc;
    if (snap.n == 0) {
        glci_errf(x->err, x->errlen, "no data for period %d as of that time", (int)period);
        glci_snapshot_release(&snap);
        return S_PUB_NODATA;
    }
    const char *who = spec->op, *sudo = spec->sudo_user ? spec->sudo_user : "";
    s_editionrec_t rec;
    memset(&rec, 0, sizeof rec);
    rec.period = period;
    rec.n_rows = (uint32_t)snap.n;
    rec.n_ranked = (uint32_t)snap.n_ranked;
    rec.who_len = (uint16_t)strlen(who);
    rec.sudo_len = (uint16_t)strlen(sudo);
    rec.as_of = as_of;
    rec.published = x->now;
    memcpy(rec.fw_hash, st->fw->hash, 32);
    /* numbered in publication order: `published` is whole seconds, and
     * editions of one second would otherwise list in name order */
    uint64_t seq = 0;
    char seq_key[sizeof S_SEQ_KEY + GLCI_EDITION_NAME_MAX];
    s_seq_key(seq_key, sizeof seq_key, spec->name);
    if ((rc = glci_store_meta_u64(st, txn, S_SEQ_META, &seq)) != 0 ||
        (rc = glci_store_meta_put_u64(st, txn, S_SEQ_META, ++seq)) != 0 ||
        (rc = glci_store_meta_put_u64(st, txn, seq_key, seq)) != 0) {
        glci_snapshot_release(&snap);
        return rc;
    }
    size_t len = sizeof rec + rec.who_len + 1u + rec.sudo_len + 1u;
    unsigned char *buf = glci_xmalloc(len > S_ROW_HEAD + st->rsize ? len
                                                                    : S_ROW_HEAD + st->rsize);
    memcpy(buf, &rec, sizeof rec);
    memcpy(buf + sizeof rec, who, rec.who_len + 1u);
    memcpy(buf + sizeof rec + rec.who_len + 1, sudo, rec.sudo_len + 1u);
    MDB_val k = {strlen(spec->name), (void *)spec->name}, d = {len, buf};
    rc = mdb_put(txn, st->dbi[S_DB_EDITIONS], &k, &d, MDB_NOOVERWRITE);
    for (size_t i = 0; rc == 0 && i < snap.n; i++) {
        unsigned char key[GLCI_EDITION_NAME_MAX + 1 + S_CITYZ_MAX];
        MDB_val rk = {s_row_key(key, spec->name, snap.rows[i].city), key};
        uint32_t head[2] = {snap.rows[i].rank, 0};
        memcpy(buf, head, S_ROW_HEAD);
        memcpy(buf + S_ROW_HEAD, snap.rows[i].result, st->rsize);
        MDB_val rd = {S_ROW_HEAD + st->rsize, buf};
        rc = mdb_put(txn, st->dbi[S_DB_EDITION_ROWS], &rk, &rd, MDB_NOOVERWRITE);
    }
    free(buf);
    uint64_t sealed = 0;
    if (rc == 0)
        rc = glci_store_meta_u64(st, txn, "sealed_until", &sealed);
    if (rc == 0 && (int64_t)sealed < as_of)
        rc = glci_store_meta_put_u64(st, txn, "sealed_until", (uint64_t)as_of);
    if (rc == 0 && x->out) {
        MDB_val dk = {strlen(spec->name), (void *)spec->name}, dd;
        if ((rc = mdb_get(txn, st->dbi[S_DB_EDITIONS], &dk, &dd)) == 0)
            rc = s_decode(st, txn, &dk, &dd, x->out);
    }
    glci_snapshot_release(&snap);
    return rc;
}

int glci_store_edition_publish(glci_store_t *st, const glci_edition_spec_t *spec, int64_t now,
                               glci_edition_t *out, char *err, size_t errlen)
{
    const glci_framework_t *fw = st->fw;
    if (glci_mdb_rdonly(st->mdb)) {
        glci_errf(err, errlen, "%s: store is open read-only", st->dir);
        return GLCI_STORE_ERDONLY;
    }
    if (glci_edition_name_check(spec->name, err, errlen) != 0)
        return GLCI_STORE_EINVAL;
    if (spec->has_period && (spec->period < fw->first_period || spec->period > fw->last_period)) {
        glci_errf(err, errlen, "period %d is outside the framework's [%d, %d]", (int)spec->period,
                  (int)fw->first_period, (int)fw->last_period);
        return GLCI_STORE_EINVAL;
    }
    size_t wl = spec->op ? strlen(spec->op) : 0, sl = spec->sudo_user ? strlen(spec->sudo_user) : 0;
    if (wl == 0 || wl > GLCI_OPERATOR_MAX || sl > GLCI_OPERATOR_MAX) {
        glci_errf(err, errlen, "the publisher's name must be 1 to %d bytes", GLCI_OPERATOR_MAX);
        return GLCI_STORE_EINVAL;
    }
    s_publish_t x = {st, spec, now, out, err, errlen};
    int rc = glci_mdb_write(st->mdb, s_publish_txn, &x);
    switch (rc) {
    case 0:
        return 0;
    case S_PUB_EXISTS:
        return GLCI_STORE_EEXIST;
    case S_PUB_NODATA:
        return GLCI_STORE_ENODATA;
    case S_PUB_FUTURE:
        return GLCI_STORE_EINVAL;
    default:
        rc = glci_store_code(rc);
        glci_errf(err, errlen, "%s: cannot write: %s", st->dir, glci_store_strerror(rc));
        return rc;
    }
}
