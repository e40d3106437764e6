/* The reporting cycle read from the live store (SPEC §7): every city's
 * status for a round (glci missing, glci city list) and the default period
 * (glci_view_default_period), both from the stored results, with index/'s
 * rules (glci_round_status, glci_result_reported, glci_period_choose). */
#include "glci_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* ---- a round ------------------------------------------------------------------ */

typedef struct {
    glci_view_t *v;
    int32_t period;
    uint32_t *missing;
    int (*fn)(void *ctx, const glci_round_row_t *row);
    void *ctx;
} s_round_t;

static int s_round_city(void *arg, const char *id, const s_cityrec_t *rec)
{
    s_round_t *x = arg;
    const glci_framework_t *fw = x->v->st->fw;
    glci_city_t c;
    glci_store_city_out(id, strlen(id), rec, &c);
    glci_result_t *r = x->v->scratch;
    int have = glci_store_result_read(x->v->st, x->v->txn, id, x->period, r);
    if (have < 0)
        return have;
    glci_round_row_t row = {.city = &c, .result = have ? r : NULL, .missing = x->missing};
    row.status = glci_round_status(fw, row.result, &row.reported);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_slot_t *s = have ? glci_result_slot_c(fw, r, i) : NULL;
        if (!s || !s->present || s->period != x->period)
            x->missing[row.n_missing++] = i;
    }
    return x->fn(x->ctx, &row);
}

int glci_view_round(glci_view_t *v, int32_t period,
                    int (*fn)(void *ctx, const glci_round_row_t *row), void *ctx)
{
    const glci_framework_t *fw = v->st->fw;
    s_round_t x = {v, period, glci_xmalloc((fw->n_ind ? fw->n_ind : 1) * sizeof(uint32_t)),
                   fn, ctx};
    int rc = glci_store_each_city(v->st, v->txn, s_round_city, &x);
    free(x.missing);
    return rc;
}

/* ---- the default period --------------------------------------------------------- */

typedef struct {
    char (*inactive)[GLCI_CITY_ID_MAX + 1];   /* revoked cities, in id order */
    size_t n_inactive, cap;
    uint32_t n_active;
    glci_period_count_t *c;
} s_count_t;

static int s_member(void *ctx, const char *id, const s_cityrec_t *rec)
{
    s_count_t *x = ctx;
    if (rec->active) {
        x->n_active++;
        return 0;
    }
    if (x->n_inactive == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 16;
        x->inactive = glci_xrealloc(x->inactive, x->cap * sizeof *x->inactive);
    }
    snprintf(x->inactive[x->n_inactive++], sizeof *x->inactive, "%s", id);
    return 0;
}

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
    size_t n_cand = 0, cap_cand = 0;
    glci_period_count_t *cand = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    /* Active cities are counted and the revoked ones kept (usually few):
     * a city with a reported index is in the rank view, which says so. */
    int rc = glci_store_each_city(v->st, v->txn, s_member, &x);
    uint32_t n_active = x.n_active;
    if (rc != 0)
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
