/* League tables: the one module that reads them from the store (see
 * glci_store.h), with the rank rule of index/ (glci_rank_cmp,
 * glci_rank_assign) and the rank view's key encoding, which is the store's.
 *
 * By the index, the table is the rank view that ingest maintains in the
 * transaction of each change (key: period | rank key | id, value: coverage
 * and id): a cursor walk in key order is the table, so `glci rank --limit
 * 10` reads ten entries and counts the rest from their keys. By an area or
 * a focus area there is no view: the period's results are read, the score
 * of that node taken from each in place, and the rows ordered here with the
 * same rule (glci_rank_cmp). Unranked cities (a result for P but no score)
 * come from one walk over the cities (glci_store_each_result, shared with
 * glci_view_results); by the index, a city the rank view
 * names is ranked and its result is not read at all, so a table whose
 * cities are all ranked reads no result but those it prints. */
#include "glci_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* IEEE-754 bits made unsigned-order-preserving (flip the sign bit of
 * positives, all bits of negatives), then inverted for descending order,
 * written big-endian. */
void glci_store_rank_key_encode(double index, unsigned char out[8])
{
    uint64_t bits;
    if (index == 0.0)
        index = 0.0;            /* -0.0 and 0.0 are the same index */
    memcpy(&bits, &index, 8);
    bits = (bits >> 63) ? ~bits : bits | (1ull << 63);
    bits = ~bits;
    glci_be64_put(out, bits);
}

double glci_store_rank_key_decode(const unsigned char key[8])
{
    uint64_t bits = ~glci_be64_get(key);
    bits = (bits >> 63) ? bits & ~(1ull << 63) : ~bits;
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

size_t glci_store_rank_val(unsigned char *v, double coverage, const char *city, int reported)
{
    memcpy(v, &coverage, 8);
    size_t n = 8 + glci_store_cityz(v + 8, city);
    v[n] = reported ? GLCI_RANK_REPORTED : 0;
    return n + 1;
}

int glci_store_rank_val_decode(const MDB_val *d, double *coverage, const char **city,
                               int *reported)
{
    const char *p = d->mv_data;
    if (d->mv_size < 10)
        return GLCI_STORE_ECORRUPT;
    const char *end = memchr(p + 8, 0, d->mv_size - 8);
    if (!end || end == p + 8)
        return GLCI_STORE_ECORRUPT;
    size_t used = (size_t)(end - p) + 1;
    if (used == d->mv_size)
        *reported = -1;         /* schema 1: no flags byte */
    else if (used + 1 == d->mv_size && !((unsigned char)p[used] & ~GLCI_RANK_REPORTED))
        *reported = ((unsigned char)p[used] & GLCI_RANK_REPORTED) != 0;
    else
        return GLCI_STORE_ECORRUPT;
    if (coverage)
        memcpy(coverage, p, 8);
    if (city)
        *city = p + 8;
    return 0;
}

/* ---- reading results in place ---------------------------------------- */

/* The row of one city's result, read from the record in place (LMDB values
 * are not aligned: fields are copied out). Returns whether it is ranked. */
static int s_row_of(const glci_framework_t *fw, glci_rank_by_t by, uint32_t which,
                    const MDB_val *rec, glci_rank_row_t *row)
{
    const unsigned char *p = rec->mv_data;
    glci_result_t head;
    glci_node_t node;
    memcpy(&head, p, sizeof head);
    row->index = head.has_index ? head.index : 0.0;
    row->has_index = head.has_index != 0;
    row->coverage = head.coverage;
    if (by == GLCI_RANK_INDEX) {
        row->score = row->index;
        return row->has_index;
    }
    size_t at = sizeof head + sizeof node * (by == GLCI_RANK_AREA ? which
                                             : fw->n_areas + which);
    memcpy(&node, p + at, sizeof node);
    row->score = node.present ? node.score : 0.0;
    return node.present != 0;
}

static int s_which_ok(const glci_framework_t *fw, glci_rank_by_t by, uint32_t which)
{
    return by == GLCI_RANK_INDEX || (by == GLCI_RANK_AREA && which < fw->n_areas) ||
           (by == GLCI_RANK_FOCUS && which < fw->n_focus);
}

/* ---- walks over the cities -------------------------------------------- */

typedef struct {
    const char **id;          /* into the map: valid while the view lives */
    size_t n, cap;
} s_ids_t;

static int s_id_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}


typedef struct {
    char id[GLCI_CITY_ID_MAX + 1];
    glci_rank_row_t row;
} s_entry_t;

typedef struct {
    s_entry_t *e;
    size_t n, cap;
} s_entries_t;

typedef struct {
    const glci_framework_t *fw;
    glci_rank_by_t by;
    uint32_t which;
    int (*fn)(void *ctx, const glci_rank_row_t *row);
    void *ctx;
    size_t unranked;
    s_entries_t *keep;        /* by area/focus: the ranked rows, to order */
} s_walk_t;

/* One city's result (glci_store_each_result): kept to be ordered when
 * ranked and keep is set, or given to fn as an unranked row. */
static int s_each(void *arg, const char *id, const MDB_val *rec)
{
    s_walk_t *w = arg;
    glci_rank_row_t one = {.city = id}, *row = &one;
    int ranked = s_row_of(w->fw, w->by, w->which, rec, row);
    if (ranked) {
        if (!w->keep)
            return 0;
        s_entries_t *es = w->keep;
        if (es->n == es->cap) {
            es->cap = es->cap ? 2 * es->cap : 256;
            es->e = glci_xrealloc(es->e, es->cap * sizeof *es->e);
        }
        s_entry_t *e = &es->e[es->n++];
        snprintf(e->id, sizeof e->id, "%s", id);
        e->row = *row;
        return 0;
    }
    w->unranked++;
    if (!w->fn)
        return 0;
    row->rank = 0;
    row->score = 0.0;
    return w->fn(w->ctx, row);
}

static int s_entry_cmp(const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    return glci_rank_cmp(x->row.score, x->id, y->row.score, y->id);
}

/* ---- by the index: the rank view --------------------------------------- */

/* Walks the rank view of P: fn for the first limit entries (0: all), then
 * counts the rest from their keys. *ranked receives the count; ids (may be
 * NULL) every ranked city's id, in rank order. */
static int s_rank_view(glci_view_t *v, int32_t period, size_t limit,
                       int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx,
                       size_t *ranked, s_ids_t *ids)
{
    int cb = 0;               /* fn's value, returned as is */
    MDB_cursor *cur;
    unsigned char pk[4];
    MDB_val k = {4, pk}, d;
    glci_rank_row_t row;
    size_t pos = 0;
    int rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_RANK], &cur);

    if (rc != 0)
        return glci_store_code(rc);
    glci_bei32_put(pk, period);
    memset(&row, 0, sizeof row);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size < 13 || memcmp(k.mv_data, pk, 4) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        pos++;
        const char *city;
        int reported;
        if ((ids || (fn && (!limit || pos <= limit))) &&
            glci_store_rank_val_decode(&d, &row.coverage, &city, &reported) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (ids) {
            if (ids->n == ids->cap) {
                ids->cap = ids->cap ? 2 * ids->cap : 256;
                ids->id = glci_xrealloc(ids->id, ids->cap * sizeof *ids->id);
            }
            ids->id[ids->n++] = city;
        }
        if (!fn || (limit && pos > limit))
            continue;         /* counted only */
        double index = glci_store_rank_key_decode((const unsigned char *)k.mv_data + 4);
        row.rank = glci_rank_at(pos, index, row.index, row.rank);
        row.index = index;
        row.score = index;
        row.has_index = 1;
        row.city = city;
        if ((cb = fn(ctx, &row)) != 0)
            break;
    }
    if (ranked)
        *ranked = pos;
    return glci_store_walk_end(cur, rc, cb);
}

int glci_store_rank_each(glci_view_t *v, int32_t period,
                         int (*each)(void *ctx, const char *city, int reported), void *ctx)
{
    int cb = 0;
    MDB_cursor *cur;
    unsigned char pk[4];
    MDB_val k = {4, pk}, d;
    int rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_RANK], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    glci_bei32_put(pk, period);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size < 13 || memcmp(k.mv_data, pk, 4) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        const char *city;
        int reported;
        if (glci_store_rank_val_decode(&d, NULL, &city, &reported) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (reported < 0) {     /* schema 1, read only: ask the result */
            rc = glci_store_result_read(v->st, v->txn, city, period, v->scratch);
            if (rc <= 0) {
                rc = rc == 0 ? GLCI_STORE_ECORRUPT : rc;
                break;
            }
            rc = 0;
            reported = glci_result_reported(v->st->fw, v->scratch);
        }
        if ((cb = each(ctx, city, reported)) != 0)
            break;
    }
    return glci_store_walk_end(cur, rc, cb);
}

/* ---- the league ----------------------------------------------------------- */

/* By area or focus: the ranked rows in rank order, through fn (at most
 * limit), and their count. */
static int s_ordered(glci_view_t *v, int32_t period, glci_rank_by_t by, uint32_t which,
                     size_t limit, int (*fn)(void *ctx, const glci_rank_row_t *row),
                     void *ctx, size_t *ranked)
{
    s_entries_t es = {0};
    s_walk_t w = {.fw = v->st->fw, .by = by, .which = which, .keep = &es};
    int rc = glci_store_each_result(v, period, NULL, 0, s_each, &w);
    if (rc == 0 && es.n > 1)
        qsort(es.e, es.n, sizeof *es.e, s_entry_cmp);
    *ranked = es.n;
    size_t shown = limit && limit < es.n ? limit : es.n;
    for (size_t i = 0; rc == 0 && fn && i < shown; i++) {
        s_entry_t *e = &es.e[i];
        e->row.rank = glci_rank_at(i + 1, e->row.score, i ? es.e[i - 1].row.score : 0.0,
                                   i ? es.e[i - 1].row.rank : 0);
        e->row.city = e->id;
        rc = fn(ctx, &e->row);
    }
    free(es.e);
    return rc;
}

int glci_view_league(glci_view_t *v, int32_t period, glci_rank_by_t by, uint32_t which,
                     size_t limit, unsigned flags,
                     int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx,
                     glci_league_counts_t *counts)
{
    size_t ranked = 0;
    int rc;

    if (counts)
        memset(counts, 0, sizeof *counts);
    if (!s_which_ok(v->st->fw, by, which))
        return GLCI_STORE_EINVAL;
    s_ids_t ids = {0};
    int unranked = (flags & GLCI_LEAGUE_UNRANKED) != 0;
    if (by == GLCI_RANK_INDEX)
        rc = s_rank_view(v, period, limit, fn, ctx, &ranked, unranked ? &ids : NULL);
    else
        rc = s_ordered(v, period, by, which, limit, fn, ctx, &ranked);
    if (counts)
        counts->ranked = ranked;
    /* Every city ranked: none can be unranked, no walk needed. */
    MDB_stat cs;
    if (rc == 0 && unranked && by == GLCI_RANK_INDEX &&
        mdb_stat(v->txn, v->st->dbi[S_DB_CITIES], &cs) == 0 && cs.ms_entries == ranked)
        unranked = 0;
    if (rc == 0 && unranked) {
        if (ids.n > 1)
            qsort(ids.id, ids.n, sizeof *ids.id, s_id_cmp);
        s_walk_t w = {.fw = v->st->fw, .by = by, .which = which, .fn = fn, .ctx = ctx};
        rc = glci_store_each_result(v, period, ids.id, by == GLCI_RANK_INDEX ? ids.n : 0,
                                    s_each, &w);
        if (counts)
            counts->unranked = w.unranked;
    }
    free(ids.id);
    return rc;
}

int glci_view_league_ranked(glci_view_t *v, int32_t period, glci_rank_by_t by,
                            uint32_t which, size_t *ranked)
{
    *ranked = 0;
    if (!s_which_ok(v->st->fw, by, which))
        return GLCI_STORE_EINVAL;
    if (by == GLCI_RANK_INDEX)
        return s_rank_view(v, period, 0, NULL, NULL, ranked, NULL);
    return s_ordered(v, period, by, which, 0, NULL, NULL, ranked);
}

int glci_view_rank(glci_view_t *v, int32_t period,
                   int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx)
{
    return glci_view_league(v, period, GLCI_RANK_INDEX, 0, 0, 0, fn, ctx, NULL);
}

/* ---- snapshots: tables that are not the live store's ------------------------ */

void glci_snapshot_release(glci_snapshot_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i].result);
    free(s->rows);
    memset(s, 0, sizeof *s);
}

const glci_snapshot_row_t *glci_snapshot_find(const glci_snapshot_t *s, const char *city)
{
    for (size_t i = 0; city && i < s->n; i++)
        if (strcmp(s->rows[i].city, city) == 0)
            return &s->rows[i];
    return NULL;
}

static int s_snap_cmp(const void *a, const void *b)
{
    const glci_snapshot_row_t *x = a, *y = b;
    int xr = x->result->has_index != 0, yr = y->result->has_index != 0;
    if (xr != yr)
        return yr - xr;         /* ranked first */
    if (!xr)
        return strcmp(x->city, y->city);
    return glci_rank_cmp(x->result->index, x->city, y->result->index, y->city);
}

void glci_store_snapshot_rank(glci_snapshot_t *s)
{
    if (s->n > 1)
        qsort(s->rows, s->n, sizeof *s->rows, s_snap_cmp);
    s->n_ranked = 0;
    for (size_t i = 0; i < s->n; i++) {
        glci_snapshot_row_t *r = &s->rows[i];
        if (!r->result->has_index) {
            r->rank = 0;
            continue;
        }
        r->rank = glci_rank_at(i + 1, r->result->index, i ? s->rows[i - 1].result->index : 0.0,
                               i ? s->rows[i - 1].rank : 0);
        s->n_ranked++;
    }
}

static int s_frozen_cmp(const void *a, const void *b)
{
    const glci_snapshot_row_t *x = a, *y = b;
    if ((x->rank == 0) != (y->rank == 0))
        return x->rank == 0 ? 1 : -1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(x->city, y->city);
}

void glci_store_snapshot_order(glci_snapshot_t *s)
{
    if (s->n > 1)
        qsort(s->rows, s->n, sizeof *s->rows, s_frozen_cmp);
    s->n_ranked = 0;
    for (size_t i = 0; i < s->n; i++)
        s->n_ranked += s->rows[i].rank != 0;
}

static int s_id_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const s_entry_t *)a)->id, ((const s_entry_t *)b)->id);
}

int glci_snapshot_league(const glci_framework_t *fw, const glci_snapshot_t *s,
                         glci_rank_by_t by, uint32_t which, size_t limit, unsigned flags,
                         int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx,
                         glci_league_counts_t *counts)
{
    if (counts)
        memset(counts, 0, sizeof *counts);
    if (!s_which_ok(fw, by, which))
        return GLCI_STORE_EINVAL;
    s_entries_t ranked = {0}, unranked = {0};
    size_t rsize = glci_result_size(fw);
    for (size_t i = 0; i < s->n; i++) {
        const glci_snapshot_row_t *r = &s->rows[i];
        MDB_val rec = {rsize, r->result};
        s_entry_t e;
        snprintf(e.id, sizeof e.id, "%s", r->city);
        memset(&e.row, 0, sizeof e.row);
        int is_ranked = s_row_of(fw, by, which, &rec, &e.row);
        if (by == GLCI_RANK_INDEX)
            e.row.rank = r->rank;   /* as the snapshot holds it */
        s_entries_t *es = is_ranked ? &ranked : &unranked;
        if (es->n == es->cap) {
            es->cap = es->cap ? 2 * es->cap : 256;
            es->e = glci_xrealloc(es->e, es->cap * sizeof *es->e);
        }
        es->e[es->n++] = e;
    }
    /* By the index the snapshot's order is the table; otherwise the rule
     * orders the rows here. */
    if (by != GLCI_RANK_INDEX && ranked.n > 1)
        qsort(ranked.e, ranked.n, sizeof *ranked.e, s_entry_cmp);
    if (unranked.n > 1)
        qsort(unranked.e, unranked.n, sizeof *unranked.e, s_id_entry_cmp);
    int rc = 0;
    size_t shown = limit && limit < ranked.n ? limit : ranked.n;
    for (size_t i = 0; i < ranked.n; i++) {
        s_entry_t *e = &ranked.e[i];
        if (by != GLCI_RANK_INDEX)
            e->row.rank = glci_rank_at(i + 1, e->row.score, i ? ranked.e[i - 1].row.score : 0.0,
                                       i ? ranked.e[i - 1].row.rank : 0);
    }
    for (size_t i = 0; rc == 0 && fn && i < shown; i++) {
        ranked.e[i].row.city = ranked.e[i].id;
        rc = fn(ctx, &ranked.e[i].row);
    }
    if (flags & GLCI_LEAGUE_UNRANKED) {
        for (size_t i = 0; rc == 0 && fn && i < unranked.n; i++) {
            unranked.e[i].row.city = unranked.e[i].id;
            unranked.e[i].row.rank = 0;
            unranked.e[i].row.score = 0.0;
            rc = fn(ctx, &unranked.e[i].row);
        }
        if (counts)
            counts->unranked = unranked.n;
    }
    if (counts)
        counts->ranked = ranked.n;
    free(ranked.e);
    free(unranked.e);
    return rc;
}
