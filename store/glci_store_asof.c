/* The store as it was: results of a period recomputed from the history
 * entries received up to a time (SPEC §7, `--as-of`), and the default
 * period of that past store. Editions are such recomputations, frozen
 * (glci_store_edition.c), and verify recomputes each the honest way.
 *
 * A city's state as of T is, per (indicator, period), its last history
 * entry (in application order, i.e. by history number) received at or
 * before T: a value is current, a retraction leaves none. Its result of P
 * is then glci_index_full over that state, the same code as verify's and
 * so the same doubles as the live store would have held.
 *
 * Cities registered after T are left out (they were not members then);
 * revoked cities are not (revocation keeps a city's data). The default
 * period counts the cities active at T (glci_store_member_at: the
 * membership log), not those active now. A city whose
 * history has no entry received after T (last_change <= T) had then the
 * state it has now: its stored result is used, unless the caller asks for
 * the honest recomputation (verify of editions). */
#include "glci_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* One history entry kept for the as-of state. */
typedef struct {
    uint32_t ind;
    int32_t period;
    double value;
    int retract;
} s_entry_t;

typedef struct {
    glci_store_t *st;
    MDB_txn *txn;
    MDB_txn **htxn;           /* the history file's snapshot slot (glci_store_hist_open) */
    MDB_txn *own_htxn;        /* the slot when the caller gave none */
    int64_t as_of;
    int honest;               /* never use a stored result */
    s_entry_t *e;             /* the current city's entries, application order */
    size_t n_e, cap_e;
    int32_t lo, hi;           /* the state table's periods */
    size_t cap_state;
    unsigned char *has;       /* n_ind x (hi - lo + 1): 1 if a value is current */
    double *value;
    glci_result_t *r;         /* scratch result */
} s_asof_t;

static void s_asof_init(s_asof_t *a, glci_store_t *st, MDB_txn *txn, MDB_txn **htxn,
                        int64_t as_of, int honest)
{
    memset(a, 0, sizeof *a);
    a->st = st;
    a->txn = txn;
    a->own_htxn = NULL;
    a->htxn = htxn ? htxn : &a->own_htxn;
    a->as_of = as_of;
    a->honest = honest;
    a->r = glci_xmalloc(st->rsize);
}

static void s_asof_release(s_asof_t *a)
{
    glci_store_hist_txn_end(a->st, &a->own_htxn);
    free(a->e);
    free(a->has);
    free(a->value);
    free(a->r);
}

/* The city's history entries received up to as_of with a period in
 * [lo, hi], in application order, into a->e. */
static int s_collect(s_asof_t *a, const char *city, int32_t lo, int32_t hi)
{
    glci_hist_iter_t it;
    MDB_val d;
    uint64_t no;
    int rc = glci_store_hist_open(a->st, a->txn, a->htxn, city, &it);
    if (rc != 0)
        goto out;
    a->n_e = 0;
    while ((rc = glci_store_hist_next(&it, &no, &d)) == 1) {
        s_histrec_t h;
        if (d.mv_size < sizeof h) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(&h, d.mv_data, sizeof h);
        if (h.received > a->as_of || h.period < lo || h.period > hi)
            continue;
        s_hist_t x;
        if ((rc = glci_store_hist_decode(&d, &x)) != 0)
            break;
        if (h.ind >= a->st->fw->n_ind) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (a->n_e == a->cap_e) {
            a->cap_e = a->cap_e ? 2 * a->cap_e : 256;
            a->e = glci_xrealloc(a->e, a->cap_e * sizeof *a->e);
        }
        a->e[a->n_e++] = (s_entry_t){h.ind, h.period, h.value, (x.flags & S_HIST_RETRACT) != 0};
    }
out:
    glci_store_hist_close(&it);
    return rc;
}

/* The state table over [lo, hi] from the collected entries: the last
 * entry of each (indicator, period) decides. */
static void s_state(s_asof_t *a, int32_t lo, int32_t hi)
{
    const glci_framework_t *fw = a->st->fw;
    size_t span = (size_t)(hi - lo + 1), need = (size_t)fw->n_ind * span;
    if (need > a->cap_state) {
        a->cap_state = need;
        a->has = glci_xrealloc(a->has, need);
        a->value = glci_xrealloc(a->value, need * sizeof *a->value);
    }
    memset(a->has, 0, need);
    a->lo = lo;
    a->hi = hi;
    for (size_t i = 0; i < a->n_e; i++) {
        const s_entry_t *e = &a->e[i];
        size_t at = (size_t)e->ind * span + (size_t)(e->period - lo);
        a->has[at] = !e->retract;
        a->value[at] = e->value;
    }
}

/* glci_obs_lookup_fn over the state table. */
static int s_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value)
{
    const s_asof_t *a = ctx;
    size_t span = (size_t)(a->hi - a->lo + 1);
    if (hi > a->hi)
        hi = a->hi;
    for (int32_t p = hi; p >= lo && p >= a->lo; p--) {
        size_t at = (size_t)ind * span + (size_t)(p - a->lo);
        if (a->has[at]) {
            *period = p;
            *value = a->value[at];
            return 1;
        }
    }
    return 0;
}

/* The city's result of P from the state table into a->r; 1 if it has one
 * (a value reaches P). */
static int s_result(s_asof_t *a, int32_t P)
{
    glci_index_full(a->st->fw, s_lookup, a, P, a->r);
    return a->r->n_values > 0;
}

/* The stored result of (city, P) into a->r: 1, 0, or a negative code. */
static int s_stored(s_asof_t *a, const char *city, int32_t P)
{
    return glci_store_result_read(a->st, a->txn, city, P, a->r);
}

/* ---- one period -------------------------------------------------------------- */

typedef struct {
    s_asof_t *a;
    int32_t period;
    glci_snapshot_t *out;
    size_t cap;
} s_period_t;

static int s_period_city(void *ctx, const char *id, const s_cityrec_t *rec)
{
    s_period_t *x = ctx;
    s_asof_t *a = x->a;
    const glci_framework_t *fw = a->st->fw;
    if (rec->added > a->as_of)
        return 0;               /* not a member then */
    int have;
    if (!a->honest && rec->last_change <= a->as_of) {
        have = s_stored(a, id, x->period);
        if (have < 0)
            return have;
    } else {
        int rc = s_collect(a, id, x->period - fw->carry_forward, x->period);
        if (rc != 0)
            return rc;
        s_state(a, x->period - fw->carry_forward, x->period);
        have = s_result(a, x->period);
    }
    if (!have)
        return 0;
    glci_snapshot_t *s = x->out;
    if (s->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 256;
        s->rows = glci_xrealloc(s->rows, x->cap * sizeof *s->rows);
    }
    glci_snapshot_row_t *row = &s->rows[s->n++];
    memset(row, 0, sizeof *row);
    snprintf(row->city, sizeof row->city, "%s", id);
    row->result = glci_xmalloc(a->st->rsize);
    memcpy(row->result, a->r, a->st->rsize);
    return 0;
}

int glci_store_asof_snapshot(glci_store_t *st, MDB_txn *txn, MDB_txn **htxn, int32_t period,
                             int64_t as_of, int honest, glci_snapshot_t *out)
{
    const glci_framework_t *fw = st->fw;
    memset(out, 0, sizeof *out);
    out->period = period;
    if (period < fw->first_period || period > fw->last_period)
        return 0;               /* nothing can reach it */
    s_asof_t a;
    s_asof_init(&a, st, txn, htxn, as_of, honest);
    s_period_t x = {.a = &a, .period = period, .out = out};
    int rc = glci_store_each_city(st, txn, s_period_city, &x);
    s_asof_release(&a);
    if (rc != 0) {
        glci_snapshot_release(out);
        out->period = period;
        return rc;
    }
    glci_store_snapshot_rank(out);
    return 0;
}

int glci_view_now(glci_view_t *v, int64_t now, int64_t *out)
{
    return glci_store_now(v->st, v->txn, now, out);
}

int glci_view_asof(glci_view_t *v, int32_t period, int64_t as_of, glci_snapshot_t *out)
{
    return glci_store_asof_snapshot(v->st, v->txn, &v->htxn, period, as_of, 0, out);
}

/* ---- the default period as of a time ------------------------------------------ */

typedef struct {
    s_asof_t *a;
    int32_t first, last;      /* the framework's periods: c[] and data[] */
    int32_t sfirst, slast;    /* the periods the store has results for */
    glci_period_count_t *c;   /* [P - first] */
    unsigned char *data;      /* [P - first]: some city had a value of P */
    uint32_t n_active;
} s_counts_t;

static void s_count(s_counts_t *x, int member, int32_t P, const glci_result_t *r)
{
    const glci_framework_t *fw = x->a->st->fw;
    uint32_t own = 0;
    glci_round_status(fw, r, &own);
    if (own == 0)
        return;
    x->data[P - x->first] = 1;
    if (!glci_result_reported(fw, r))
        return;
    x->c[P - x->first].indexed++;
    x->c[P - x->first].active_indexed += member != 0;
}

static int s_counts_city(void *ctx, const char *id, const s_cityrec_t *rec)
{
    s_counts_t *x = ctx;
    s_asof_t *a = x->a;
    const glci_framework_t *fw = a->st->fw;
    if (rec->added > a->as_of)
        return 0;
    /* Active as of the time, not now: a revocation or reinstatement since
     * then does not change the table of then. */
    int member;
    int rc = glci_store_member_at(a->st, a->txn, id, rec, a->as_of, &member);
    if (rc != 0)
        return rc;
    x->n_active += member != 0;
    if (rec->last_change <= a->as_of) {
        for (int32_t P = x->sfirst; P <= x->slast; P++) {
            int have = s_stored(a, id, P);
            if (have < 0)
                return have;
            if (have)
                s_count(x, member, P, a->r);
        }
        return 0;
    }
    rc = s_collect(a, id, fw->first_period, fw->last_period);
    if (rc != 0 || a->n_e == 0)
        return rc;
    int32_t lo = a->e[0].period, hi = lo;
    for (size_t i = 1; i < a->n_e; i++) {
        lo = a->e[i].period < lo ? a->e[i].period : lo;
        hi = a->e[i].period > hi ? a->e[i].period : hi;
    }
    s_state(a, lo, hi);
    for (int32_t P = lo; P <= hi; P++)
        if (P >= x->first && P <= x->last && s_result(a, P))
            s_count(x, member, P, a->r);
    return 0;
}

/* The first and last period with a current value (the periods table), or
 * 1 and 0 when there is none. */
static int s_data_range(glci_store_t *st, MDB_txn *txn, int32_t *first, int32_t *last)
{
    MDB_cursor *cur;
    MDB_val k, d;
    *first = 1;
    *last = 0;
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_PERIODS], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    if ((rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST)) == 0 && k.mv_size == 4)
        *first = glci_bei32_get(k.mv_data);
    if (rc == 0 && (rc = mdb_cursor_get(cur, &k, &d, MDB_LAST)) == 0 && k.mv_size == 4)
        *last = glci_bei32_get(k.mv_data);
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : glci_store_code(rc);
}

int glci_view_asof_default_period(glci_view_t *v, int64_t as_of, glci_period_choice_t *out)
{
    return glci_store_asof_default(v->st, v->txn, &v->htxn, as_of, out);
}

int glci_store_asof_default(glci_store_t *st, MDB_txn *txn, MDB_txn **htxn, int64_t as_of,
                            glci_period_choice_t *out)
{
    const glci_framework_t *fw = st->fw;
    size_t span = (size_t)(fw->last_period - fw->first_period + 1);
    s_asof_t a;
    s_asof_init(&a, st, txn, htxn, as_of, 0);
    s_counts_t x = {.a = &a, .first = fw->first_period, .last = fw->last_period,
                    .c = glci_xcalloc(span, sizeof *x.c), .data = glci_xcalloc(span, 1)};
    /* Unchanged cities are counted from their stored results, over the
     * periods the store has results for; a city changed since as_of is
     * recomputed wherever it had values then. */
    int rc = s_data_range(st, txn, &x.sfirst, &x.slast);
    if (rc == 0 && x.sfirst <= x.slast)
        x.slast = x.slast > fw->last_period - fw->carry_forward ? fw->last_period
                                                                 : x.slast + fw->carry_forward;
    if (rc == 0)
        rc = glci_store_each_city(st, txn, s_counts_city, &x);
    size_t n = 0;
    glci_period_count_t *cands = NULL;
    if (rc == 0) {
        cands = glci_xcalloc(span, sizeof *cands);
        for (size_t i = span; i-- > 0;)
            if (x.data[i]) {
                cands[n] = x.c[i];
                cands[n].period = fw->first_period + (int32_t)i;
                n++;
            }
        rc = n ? glci_period_choose(cands, n, x.n_active, out) == 0 ? 0 : GLCI_STORE_EIO
               : GLCI_STORE_ENODATA;
    }
    free(cands);
    free(x.c);
    free(x.data);
    s_asof_release(&a);
    return rc;
}
