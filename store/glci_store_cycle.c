/* The reporting cycle read from the live store (SPEC §7): every city's
 * status for a round (glci missing, glci city list) and the default period
 * (glci_view_default_period), both from the stored results, with index/'s
 * rules (glci_round_status, glci_result_reported, glci_period_choose). */
#include "glci_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* The stored result of (city, P) copied into dst (aligned); 1, 0 if there
 * is none, or a negative code. */
static int s_result(glci_view_t *v, const char *city, int32_t period, glci_result_t *dst)
{
    unsigned char k[S_CITYZ_MAX + 4];
    MDB_val key = {glci_store_result_key(k, city, period), k}, d;
    int rc = mdb_get(v->txn, v->st->dbi[S_DB_RESULTS], &key, &d);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return glci_store_code(rc);
    if (d.mv_size != v->st->rsize)
        return GLCI_STORE_ECORRUPT;
    memcpy(dst, d.mv_data, d.mv_size);
    return 1;
}

/* ---- a round ------------------------------------------------------------------ */

int glci_view_round(glci_view_t *v, int32_t period,
                    int (*fn)(void *ctx, const glci_round_row_t *row), void *ctx)
{
    const glci_framework_t *fw = v->st->fw;
    uint32_t *missing = glci_xmalloc((fw->n_ind ? fw->n_ind : 1) * sizeof *missing);
    MDB_cursor *cur;
    MDB_val k, d;
    int cb = 0, rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_CITIES], &cur);
    if (rc != 0) {
        free(missing);
        return glci_store_code(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        s_cityrec_t rec;
        glci_city_t c;
        if (k.mv_size == 0 || k.mv_size > GLCI_CITY_ID_MAX ||
            glci_store_city_decode(&d, &rec) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        glci_store_city_out(k.mv_data, k.mv_size, &rec, &c);
        glci_result_t *r = v->scratch;
        int have = s_result(v, c.id, period, r);
        if (have < 0) {
            rc = have;
            break;
        }
        glci_round_row_t row = {.city = &c, .result = have ? r : NULL};
        row.status = glci_round_status(fw, row.result, &row.reported);
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            const glci_slot_t *s = have ? glci_result_slot_c(fw, r, i) : NULL;
            if (!s || !s->present || s->period != period)
                missing[row.n_missing++] = i;
        }
        row.missing = missing;
        if ((cb = fn(ctx, &row)) != 0)
            break;
    }
    free(missing);
    return glci_store_walk_end(cur, rc, cb);
}

/* ---- the default period --------------------------------------------------------- */

typedef struct {
    char (*inactive)[GLCI_CITY_ID_MAX + 1];   /* revoked cities, in id order */
    size_t n_inactive;
    glci_period_count_t *c;
} s_count_t;

static int s_id_cmp(const void *key, const void *elem)
{
    return strcmp(key, elem);
}

static int s_count_one(void *ctx, const char *city, int reported)
{
    s_count_t *x = ctx;
    if (!reported)
        return 0;
    x->c->indexed++;
    x->c->active_indexed += !(x->n_inactive && bsearch(city, x->inactive, x->n_inactive,
                                                       sizeof *x->inactive, s_id_cmp));
    return 0;
}

int glci_view_default_period(glci_view_t *v, glci_period_choice_t *out)
{
    s_count_t x = {0};
    size_t cap = 0, n_cand = 0, cap_cand = 0;
    uint32_t n_active = 0;
    glci_period_count_t *cand = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    /* Active cities are counted and the revoked ones kept (usually few):
     * a city with a reported index is in the rank view, which says so. */
    int rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_CITIES], &cur);
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
        if (rec.active) {
            n_active++;
            continue;
        }
        if (x.n_inactive == cap) {
            cap = cap ? 2 * cap : 16;
            x.inactive = glci_xrealloc(x.inactive, cap * sizeof *x.inactive);
        }
        memcpy(x.inactive[x.n_inactive], k.mv_data, k.mv_size);
        x.inactive[x.n_inactive++][k.mv_size] = 0;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    if (rc != MDB_NOTFOUND)
        goto out;
    /* The candidates: every period with data, latest first. */
    rc = mdb_cursor_open(v->txn, v->st->dbi[S_DB_PERIODS], &cur);
    if (rc != 0)
        goto out;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_LAST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_PREV)) {
        if (k.mv_size != 4) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (n_cand == cap_cand) {
            cap_cand = cap_cand ? 2 * cap_cand : 32;
            cand = glci_xrealloc(cand, cap_cand * sizeof *cand);
        }
        memset(&cand[n_cand], 0, sizeof *cand);
        cand[n_cand++].period = glci_bei32_get(k.mv_data);
    }
    mdb_cursor_close(cur);
    cur = NULL;
    if (rc != MDB_NOTFOUND)
        goto out;
    rc = 0;
    if (n_cand == 0) {
        rc = GLCI_STORE_ENODATA;
        goto out;
    }
    /* Counted from the latest down until one has half: the rule then
     * picks it, and every later one is counted to be sure it has not. */
    for (size_t i = 0; rc == 0 && i < n_cand; i++) {
        x.c = &cand[i];
        rc = glci_store_rank_each(v, cand[i].period, s_count_one, &x);
        if (rc == 0 && glci_period_half(&cand[i], n_active))
            break;
    }
    if (rc == 0 && glci_period_choose(cand, n_cand, n_active, out) != 0)
        rc = GLCI_STORE_ENODATA;
out:
    if (cur)
        mdb_cursor_close(cur);
    free(x.inactive);
    free(cand);
    return rc == 0 ? 0 : glci_store_code(rc);
}
