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
    char id[GLCI_CITY_ID_MAX + 1];
    int active;
} s_member_t;

/* Counts the cities with a reported index in P into *c. */
static int s_count(glci_view_t *v, const s_member_t *m, size_t n, int32_t P,
                   glci_period_count_t *c)
{
    glci_result_t *r = v->scratch;
    c->active_indexed = c->indexed = 0;
    for (size_t i = 0; i < n; i++) {
        int have = s_result(v, m[i].id, P, r);
        if (have < 0)
            return have;
        if (!have || !glci_result_reported(v->st->fw, r))
            continue;
        c->indexed++;
        c->active_indexed += m[i].active != 0;
    }
    return 0;
}

int glci_view_default_period(glci_view_t *v, glci_period_choice_t *out)
{
    s_member_t *m = NULL;
    size_t n = 0, cap = 0, n_cand = 0, cap_cand = 0;
    uint32_t n_active = 0;
    glci_period_count_t *cand = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
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
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            m = glci_xrealloc(m, cap * sizeof *m);
        }
        memcpy(m[n].id, k.mv_data, k.mv_size);
        m[n].id[k.mv_size] = 0;
        m[n].active = rec.active != 0;
        n_active += rec.active != 0;
        n++;
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
    /* Only the periods the rank view can make half are counted (a city
     * with a reported index is ranked); when none is half, the latest
     * with any reported index, counted in order until one is found. */
    int found = 0;
    for (size_t i = 0; rc == 0 && i < n_cand && !found; i++) {
        size_t ranked = 0;
        rc = glci_view_league_ranked(v, cand[i].period, GLCI_RANK_INDEX, 0, &ranked);
        if (rc != 0 || ranked == 0 || 2 * (uint64_t)ranked < n_active)
            continue;
        rc = s_count(v, m, n, cand[i].period, &cand[i]);
        found = rc == 0 && glci_period_half(&cand[i], n_active);
    }
    for (size_t i = 0; rc == 0 && !found && i < n_cand; i++) {
        rc = s_count(v, m, n, cand[i].period, &cand[i]);
        found = rc == 0 && cand[i].indexed > 0;
    }
    if (rc == 0 && glci_period_choose(cand, n_cand, n_active, out) != 0)
        rc = GLCI_STORE_ENODATA;
out:
    if (cur)
        mdb_cursor_close(cur);
    free(m);
    free(cand);
    return rc == 0 ? 0 : glci_store_code(rc);
}
