/* Read views: one read-only LMDB transaction from glci_view_begin to
 * glci_view_end, so every answer of a view comes from one snapshot, and the
 * walks the CLI needs (rank, results, history, rejects, cities) are cursor
 * walks over keys laid out for them. Strings handed out point into the map
 * and live until the view ends; result blocks are copied to aligned memory
 * (LMDB values are only 2-byte aligned). */
#include "glci_store_int.h"

#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

int glci_view_begin(glci_store_t *st, glci_view_t **out)
{
    glci_view_t *v = glci_xcalloc(1, sizeof *v);
    int rc = glci_store_code(glci_mdb_read_begin(st->mdb, &v->txn));

    *out = NULL;
    if (rc != 0) {
        free(v);
        return rc;
    }
    v->st = st;
    v->scratch = glci_xmalloc(st->rsize);
    *out = v;
    return 0;
}

void glci_view_end(glci_view_t **self)
{
    glci_view_t *v;
    if (!self || !*self)
        return;
    v = *self;
    glci_store_hist_txn_end(v->st, &v->htxn);
    glci_mdb_read_end(v->st->mdb, &v->txn);
    for (size_t i = 0; i < v->n_owned; i++)
        free(v->owned[i]);
    free(v->owned);
    free(v->scratch);
    free(v);
    *self = NULL;
}

int glci_view_status(glci_view_t *v, glci_store_status_t *out)
{
    glci_store_t *st = v->st;
    MDB_cursor *cur;
    MDB_val k, d;
    uint64_t u;
    int rc;

    memset(out, 0, sizeof *out);
    out->schema = st->schema;
    if ((rc = glci_store_meta_u64(st, v->txn, "n_obs", &out->n_observations)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "n_history", &out->n_history)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "n_rejects", &out->n_rejects)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "rejects_dropped", &out->rejects_dropped)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "n_batches", &out->n_batches)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "last_ingest", &u)) != 0)
        return rc;
    out->last_ingest = (int64_t)u;

    rc = mdb_cursor_open(v->txn, st->dbi[S_DB_CITIES], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        s_cityrec_t rec;
        if (glci_store_city_decode(&d, &rec) != 0) {
            mdb_cursor_close(cur);
            return GLCI_STORE_ECORRUPT;
        }
        out->n_cities++;
        if (rec.active)
            out->n_active++;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return glci_store_code(rc);

    rc = mdb_cursor_open(v->txn, st->dbi[S_DB_PERIODS], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    if (mdb_cursor_get(cur, &k, &d, MDB_FIRST) == 0 && k.mv_size == 4)
        out->first_period = glci_bei32_get(k.mv_data);
    if (mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0 && k.mv_size == 4)
        out->last_period = glci_bei32_get(k.mv_data);
    mdb_cursor_close(cur);

    /* the sums over the store's files (from schema 7 the history file's
     * too); on disk 0 when a file cannot be looked at */
    glci_store_space_t sp;
    int known = glci_store_space(st, &sp) == 0;
    out->size_bytes = sp.used_bytes;
    out->map_bytes = sp.map_bytes;
    out->file_bytes = known ? sp.file_bytes : 0;
    return 0;
}

int glci_view_latest_period(glci_view_t *v, int32_t *period)
{
    MDB_cursor *cur;
    MDB_val k, d;
    int rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_PERIODS], &cur);

    if (rc != 0)
        return glci_store_code(rc);
    rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return GLCI_STORE_ENODATA;
    if (rc != 0)
        return glci_store_code(rc);
    if (k.mv_size != 4)
        return GLCI_STORE_ECORRUPT;
    *period = glci_bei32_get(k.mv_data);
    return 0;
}

void glci_store_city_out(const char *id, size_t idlen, const s_cityrec_t *rec, glci_city_t *out)
{
    memset(out, 0, sizeof *out);
    if (idlen > GLCI_CITY_ID_MAX)
        idlen = GLCI_CITY_ID_MAX;
    memcpy(out->id, id, idlen);
    memcpy(out->name, rec->name, sizeof out->name);
    out->name[sizeof out->name - 1] = 0;
    memcpy(out->country, rec->country, sizeof out->country);
    out->country[sizeof out->country - 1] = 0;
    out->active = rec->active != 0;
    out->observations = rec->observations;
    out->rejects = rec->rejects;
    out->batches = rec->batches;
    out->last_seen = rec->last_seen;
    out->n_keys = rec->n_keys;
    out->added = rec->added;
}

int glci_view_city(glci_view_t *v, const char *id, glci_city_t *out)
{
    s_cityrec_t rec;
    int rc;

    if (!glci_city_id_valid(id))
        return GLCI_STORE_ENOCITY;
    rc = glci_store_city_get(v->st, v->txn, id, &rec);
    if (rc != 0)
        return rc;
    glci_store_city_out(id, strlen(id), &rec, out);
    return 0;
}

/* Ends a cursor walk: the callback's own non-zero value wins, untouched;
 * running off the end is success; anything else is mapped to a store code. */
int glci_store_walk_end(MDB_cursor *cur, int rc, int cb)
{
    mdb_cursor_close(cur);
    if (cb != 0)
        return cb;
    return rc == MDB_NOTFOUND ? 0 : glci_store_code(rc);
}

int glci_store_each_city(glci_store_t *st, MDB_txn *txn,
                         int (*each)(void *ctx, const char *id, const s_cityrec_t *rec),
                         void *ctx)
{
    int cb = 0;               /* each's value, returned as is */
    MDB_cursor *cur;
    MDB_val k, d;
    char id[GLCI_CITY_ID_MAX + 1];
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_CITIES], &cur);

    if (rc != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        s_cityrec_t rec;
        if (k.mv_size == 0 || k.mv_size > GLCI_CITY_ID_MAX ||
            glci_store_city_decode(&d, &rec) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(id, k.mv_data, k.mv_size);
        id[k.mv_size] = 0;
        if ((cb = each(ctx, id, &rec)) != 0)
            break;
    }
    return glci_store_walk_end(cur, rc, cb);
}

typedef struct {
    int (*fn)(void *ctx, const glci_city_t *c);
    void *ctx;
} s_cities_t;

static int s_city_one(void *arg, const char *id, const s_cityrec_t *rec)
{
    s_cities_t *x = arg;
    glci_city_t c;
    glci_store_city_out(id, strlen(id), rec, &c);
    return x->fn(x->ctx, &c);
}

int glci_view_cities(glci_view_t *v, int (*fn)(void *ctx, const glci_city_t *c), void *ctx)
{
    s_cities_t x = {fn, ctx};
    return glci_store_each_city(v->st, v->txn, s_city_one, &x);
}

int glci_view_stream_mark(glci_view_t *v, const char *city, uint64_t stream,
                          uint64_t *mark)
{
    unsigned char k[S_CITYZ_MAX + 8];
    MDB_val key = {0, k}, d;
    s_cityrec_t rec;
    int rc;

    *mark = 0;
    if (!glci_city_id_valid(city))
        return GLCI_STORE_ENOCITY;
    rc = glci_store_city_get(v->st, v->txn, city, &rec);
    if (rc != 0)
        return rc;
    key.mv_size = glci_store_cityz(k, city);
    glci_be64_put(k + key.mv_size, stream);
    key.mv_size += 8;
    rc = mdb_get(v->txn, v->st->dbi[S_DB_STREAMS], &key, &d);
    if (rc == MDB_NOTFOUND)
        return GLCI_STORE_ENODATA;
    if (rc != 0)
        return glci_store_code(rc);
    if (d.mv_size != 8)
        return GLCI_STORE_ECORRUPT;
    *mark = glci_be64_get(d.mv_data);
    return 0;
}

int glci_store_result_read(glci_store_t *st, MDB_txn *txn, const char *city, int32_t period,
                           void *dst)
{
    unsigned char k[S_CITYZ_MAX + 4];
    MDB_val key = {glci_store_result_key(k, city, period), k}, d;
    int rc = mdb_get(txn, st->dbi[S_DB_RESULTS], &key, &d);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return glci_store_code(rc);
    rc = glci_store_result_decode(st, txn, city, period, &d, dst, NULL);
    return rc != 0 ? rc : 1;
}

int glci_store_each_result(glci_view_t *v, int32_t period, const char *const *skip,
                           size_t n_skip,
                           int (*each)(void *ctx, const char *city, const MDB_val *rec),
                           void *ctx)
{
    int cb = 0;               /* each's value, returned as is */
    size_t at = 0;            /* next id of skip not yet passed */
    MDB_cursor *cur;
    MDB_val k, d, rec;
    char id[GLCI_CITY_ID_MAX + 1];
    unsigned char rk[S_CITYZ_MAX + 4];
    int rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_CITIES], &cur);

    if (rc != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size == 0 || k.mv_size > GLCI_CITY_ID_MAX) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(id, k.mv_data, k.mv_size);
        id[k.mv_size] = 0;
        /* the cities and skip are both in id order: one merge pass */
        int c = 1;
        while (at < n_skip && (c = strcmp(skip[at], id)) < 0)
            at++;
        if (at < n_skip && c == 0)
            continue;
        MDB_val key = {glci_store_result_key(rk, id, period), rk};
        rc = mdb_get(v->txn, v->st->dbi[S_DB_RESULTS], &key, &rec);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc != 0)
            break;
        if (rec.mv_size != v->st->rsize && rec.mv_size != v->st->hsize) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if ((cb = each(ctx, id, &rec)) != 0)
            break;
    }
    return glci_store_walk_end(cur, rc, cb);
}

typedef struct {
    glci_view_t *v;
    int32_t period;
    int (*fn)(void *ctx, const char *city, const glci_result_t *r);
    void *ctx;
} s_results_t;

static int s_result_copy(void *arg, const char *city, const MDB_val *rec)
{
    s_results_t *x = arg;
    glci_result_t *r = x->v->scratch;      /* aligned for the callback */
    int rc = glci_store_result_decode(x->v->st, x->v->txn, city, x->period, rec, r, NULL);
    return rc != 0 ? rc : x->fn(x->ctx, city, r);
}

int glci_view_results(glci_view_t *v, int32_t period,
                      int (*fn)(void *ctx, const char *city, const glci_result_t *r),
                      void *ctx)
{
    s_results_t x = {v, period, fn, ctx};
    return glci_store_each_result(v, period, NULL, 0, s_result_copy, &x);
}

int glci_view_result(glci_view_t *v, const char *city, int32_t period,
                     const glci_result_t **out)
{
    s_cityrec_t rec;
    void *copy;
    int rc;

    *out = NULL;
    if (!glci_city_id_valid(city))
        return GLCI_STORE_ENOCITY;
    rc = glci_store_city_get(v->st, v->txn, city, &rec);
    if (rc != 0)
        return rc;
    copy = glci_xmalloc(v->st->rsize);
    rc = glci_store_result_read(v->st, v->txn, city, period, copy);
    if (rc <= 0) {
        free(copy);
        return rc == 0 ? GLCI_STORE_ENODATA : rc;
    }
    if (v->n_owned == v->cap_owned) {
        v->cap_owned = v->cap_owned ? v->cap_owned * 2 : 8;
        v->owned = glci_xrealloc(v->owned, v->cap_owned * sizeof *v->owned);
    }
    v->owned[v->n_owned++] = copy;
    *out = copy;
    return 0;
}

int glci_view_history(glci_view_t *v, const char *city, const char *indicator,
                      int (*fn)(void *ctx, const glci_history_row_t *row), void *ctx)
{
    int cb = 0;               /* fn's value, returned as is */
    glci_store_t *st = v->st;
    s_cityrec_t rec;
    unsigned char ok[S_CITYZ_MAX + 6];
    MDB_val d;
    uint64_t no;
    int32_t ind;
    int rc;

    if (!glci_city_id_valid(city))
        return GLCI_STORE_ENOCITY;
    rc = glci_store_city_get(st, v->txn, city, &rec);
    if (rc != 0)
        return rc;
    ind = indicator ? glci_framework_indicator(st->fw, indicator) : -1;
    if (ind < 0)
        return GLCI_STORE_EINVAL;
    /* The city's history in application order, filtered by indicator. */
    glci_hist_iter_t it;
    if ((rc = glci_store_hist_open(st, v->txn, &v->htxn, city, &it)) != 0)
        goto out;
    while ((rc = glci_store_hist_next(&it, &no, &d)) == 1) {
        s_hist_t x;
        glci_history_row_t row;
        MDB_val okey = {0, ok}, od;

        if ((rc = glci_store_hist_decode(&d, &x)) != 0)
            break;
        const s_histrec_t h = x.h;
        if (h.ind != (uint32_t)ind)
            continue;
        memset(&row, 0, sizeof row);
        row.period = h.period;
        row.value = h.value;
        row.received = h.received;
        row.observed_at = h.observed_at;
        row.source = x.source;
        row.stream = h.stream;
        row.seq = h.seq;
        row.retracted = (x.flags & S_HIST_RETRACT) != 0;
        row.by_operator = (x.flags & S_HIST_OPERATOR) != 0;
        row.op = x.op;
        row.sudo_user = x.sudo;
        row.reason = x.reason;
        okey.mv_size = glci_store_obs_key(ok, city, (uint32_t)ind, h.period);
        if (!row.retracted && mdb_get(v->txn, st->dbi[S_DB_OBS], &okey, &od) == 0 &&
            od.mv_size == sizeof(s_obsrec_t)) {
            s_obsrec_t o;
            memcpy(&o, od.mv_data, sizeof o);
            row.current = o.hist_no == no;
        }
        if ((cb = fn(ctx, &row)) != 0)
            break;
    }
out:
    glci_store_hist_close(&it);
    return cb != 0 ? cb : rc > 0 ? 0 : rc;
}

/* Decodes a reject record into row; pointers into d. */
static int s_reject_row(const MDB_val *d, glci_reject_row_t *row)
{
    s_rejrec_t r;
    const char *p;

    if (d->mv_size < sizeof r)
        return GLCI_STORE_ECORRUPT;
    memcpy(&r, d->mv_data, sizeof r);
    if (d->mv_size != sizeof r + (size_t)r.city_len + r.ind_len + r.msg_len + 3)
        return GLCI_STORE_ECORRUPT;
    p = (const char *)d->mv_data + sizeof r;
    if (p[r.city_len] || p[r.city_len + 1 + r.ind_len] ||
        p[r.city_len + 1 + r.ind_len + 1 + r.msg_len])
        return GLCI_STORE_ECORRUPT;
    memset(row, 0, sizeof *row);
    row->city = p;
    row->indicator = p + r.city_len + 1;
    row->message = p + r.city_len + 1 + r.ind_len + 1;
    row->period = r.period;
    row->value = r.value;
    row->has_period = r.has_period;
    row->has_value = r.has_value;
    row->reason = (glci_reject_t)r.reason;
    row->received = r.received;
    row->stream = r.stream;
    row->seq = r.seq;
    row->index = r.index;
    return 0;
}

int glci_view_rejects(glci_view_t *v, const char *city, size_t limit,
                      int (*fn)(void *ctx, const glci_reject_row_t *row), void *ctx)
{
    int cb = 0;               /* fn's value, returned as is */
    glci_store_t *st = v->st;
    MDB_cursor *cur;
    MDB_val k, d;
    glci_reject_row_t row;
    size_t seen = 0;
    int rc;

    if (city) {
        s_cityrec_t rec;
        unsigned char pk[S_CITYZ_MAX + 8];
        size_t plen;

        if (!glci_city_id_valid(city))
            return GLCI_STORE_ENOCITY;
        rc = glci_store_city_get(st, v->txn, city, &rec);
        if (rc != 0)
            return rc;
        plen = glci_store_cityz(pk, city);
        /* Newest first: position after the city's last entry, then walk back. */
        memset(pk + plen, 0xff, 8);
        rc = mdb_cursor_open(v->txn, st->dbi[S_DB_CITY_REJECTS], &cur);
        if (rc != 0)
            return glci_store_code(rc);
        k.mv_size = plen + 8;
        k.mv_data = pk;
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &d, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
        for (; rc == 0; rc = mdb_cursor_get(cur, &k, &d, MDB_PREV)) {
            unsigned char rk[8];
            MDB_val rkey = {8, rk}, rd;
            if (k.mv_size != plen + 8 || memcmp(k.mv_data, pk, plen) != 0) {
                rc = MDB_NOTFOUND;
                break;
            }
            memcpy(rk, (const unsigned char *)k.mv_data + plen, 8);
            rc = mdb_get(v->txn, st->dbi[S_DB_REJECTS], &rkey, &rd);
            if (rc != 0) {
                rc = rc == MDB_NOTFOUND ? GLCI_STORE_ECORRUPT : rc;
                break;
            }
            if ((rc = s_reject_row(&rd, &row)) != 0 || (cb = fn(ctx, &row)) != 0)
                break;
            if (limit && ++seen >= limit) {
                rc = MDB_NOTFOUND;
                break;
            }
        }
    } else {
        rc = mdb_cursor_open(v->txn, st->dbi[S_DB_REJECTS], &cur);
        if (rc != 0)
            return glci_store_code(rc);
        for (rc = mdb_cursor_get(cur, &k, &d, MDB_LAST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &d, MDB_PREV)) {
            if ((rc = s_reject_row(&d, &row)) != 0 || (cb = fn(ctx, &row)) != 0)
                break;
            if (limit && ++seen >= limit) {
                rc = MDB_NOTFOUND;
                break;
            }
        }
    }
    return glci_store_walk_end(cur, rc, cb);
}
