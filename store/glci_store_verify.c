/* verify and backup.
 *
 * verify reads the whole store in one read transaction and checks, city by
 * city, that:
 *   - every current observation points at a history entry of the same
 *     period and value, and no history entry of its (indicator, period) is
 *     newer (the current value is the latest applied one);
 *   - the city's history count equals its observation counter, its
 *     entries numbered from 0 without a gap;
 *   - results exist for exactly the periods its observations reach
 *     (p .. p + carry_forward), and each stored result equals, bit for bit,
 *     the engine's full recomputation from the stored observations;
 *   - each ranked result has its rank-view entry (right key, coverage, id);
 * and then that every rank-view entry belongs to such a result and that
 * the store counters and per-period counts match what is stored.
 *
 * backup is mdb_env_copy2 with compaction into an empty directory, then an
 * open of the copy and a verify of it. */
#include "glci_store_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glci_alloc.h"
#include "glci_text.h"

typedef struct {
    int32_t period;
    double value;
    uint64_t hist_no;
} s_vobs_t;

typedef struct {
    glci_store_t *st;
    MDB_txn *txn;
    MDB_txn *htxn;            /* the history file's snapshot (glci_store_hist_open) */
    void (*fn)(void *ctx, const char *difference);
    void *ctx;
    uint64_t diffs;
    /* the current city's observations, by indicator then period */
    s_vobs_t *obs;
    size_t n_obs, cap_obs;
    size_t *ind_start;        /* n_ind + 1 offsets into obs */
    glci_result_t *calc, *stored;
    unsigned char *want;      /* periods that must have a result */
    uint64_t n_slots;         /* slot records the results read */
} s_verify_t;

static void s_diff(s_verify_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_diff(s_verify_t *v, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    v->diffs++;
    if (!v->fn)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    v->fn(v->ctx, line);
}

/* glci_obs_lookup_fn over the cached observations of the current city. */
static int s_lookup(void *vctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value)
{
    s_verify_t *v = vctx;
    size_t a = v->ind_start[ind], b = v->ind_start[ind + 1];
    for (size_t i = b; i > a; i--) {
        const s_vobs_t *o = &v->obs[i - 1];
        if (o->period > hi)
            continue;
        if (o->period < lo)
            return 0;
        *period = o->period;
        *value = o->value;
        return 1;
    }
    return 0;
}

/* The city's current observations, grouped per indicator into v->obs, each
 * with its history entry; marks the periods they reach in v->want. */
static int s_verify_obs(s_verify_t *v, const char *city, uint64_t *tot_obs,
                        uint64_t *period_counts)
{
    glci_store_t *st = v->st;
    const glci_framework_t *fw = st->fw;
    unsigned char pk[S_CITYZ_MAX + 10];
    size_t plen = glci_store_cityz(pk, city);
    MDB_cursor *cur;
    MDB_val k, d;
    int rc;

    int32_t span = fw->last_period - fw->first_period + 1;
    uint32_t cur_ind = 0;

    v->n_obs = 0;
    memset(v->ind_start, 0, (fw->n_ind + 1) * sizeof *v->ind_start);
    memset(v->want, 0, (size_t)span);
    glci_hist_iter_t it;
    if ((rc = glci_store_hist_open(st, v->txn, &v->htxn, city, &it)) != 0) {
        glci_store_hist_close(&it);
        return rc;
    }
    rc = mdb_cursor_open(v->txn, st->dbi[S_DB_OBS], &cur);
    if (rc != 0) {
        glci_store_hist_close(&it);
        return glci_store_code(rc);
    }
    k.mv_size = plen;
    k.mv_data = pk;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *kp = k.mv_data;
        s_obsrec_t o;
        uint32_t ind;
        int32_t p;
        if (k.mv_size < plen || memcmp(kp, pk, plen) != 0)
            break;
        if (k.mv_size != plen + 6 || d.mv_size != sizeof o) {
            s_diff(v, "%s: an observation record does not decode", city);
            continue;
        }
        ind = glci_be16_get(kp + plen);
        p = glci_bei32_get(kp + plen + 2);
        memcpy(&o, d.mv_data, sizeof o);
        if (ind >= fw->n_ind || p < fw->first_period || p > fw->last_period) {
            s_diff(v, "%s: observation of indicator #%u period %d is outside the framework",
                   city, ind, p);
            continue;
        }
        while (cur_ind < ind)
            v->ind_start[++cur_ind] = v->n_obs;
        if (v->n_obs == v->cap_obs) {
            v->cap_obs = v->cap_obs ? v->cap_obs * 2 : 256;
            v->obs = glci_xrealloc(v->obs, v->cap_obs * sizeof *v->obs);
        }
        v->obs[v->n_obs].period = p;
        v->obs[v->n_obs].value = o.value;
        v->obs[v->n_obs].hist_no = o.hist_no;
        v->n_obs++;
        period_counts[p - fw->first_period]++;
        int32_t first, last;
        glci_index_affected(fw, p, &first, &last);
        for (int32_t P = first; P <= last; P++)
            v->want[P - fw->first_period] = 1;

        /* Its history entry. */
        MDB_val hd;
        s_hist_t x;
        int hrc = glci_store_hist_find(&it, o.hist_no, &hd);
        if (hrc < 0 && hrc != GLCI_STORE_ECORRUPT) {
            rc = hrc;
            break;
        }
        if (hrc != 1 || glci_store_hist_decode(&hd, &x) != 0) {
            s_diff(v, "%s: current value of %s period %d has no history entry", city,
                   fw->ind[ind].id, p);
            continue;
        }
        if (x.h.period != p || x.h.ind != ind || (x.flags & S_HIST_RETRACT) ||
            memcmp(&x.h.value, &o.value, sizeof(double)) != 0)
            s_diff(v, "%s: current value of %s period %d differs from its history entry",
                   city, fw->ind[ind].id, p);
    }
    while (cur_ind < fw->n_ind)
        v->ind_start[++cur_ind] = v->n_obs;
    mdb_cursor_close(cur);
    glci_store_hist_close(&it);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return glci_store_code(rc);
    *tot_obs += v->n_obs;

    return 0;
}

/* One history entry of the current city, for the checks by key. */
typedef struct {
    uint32_t ind;
    int32_t period;
    uint64_t no;
    int retract;
} s_vhist_t;

static int s_vhist_cmp(const void *a, const void *b)
{
    const s_vhist_t *x = a, *y = b;
    if (x->ind != y->ind)
        return x->ind < y->ind ? -1 : 1;
    if (x->period != y->period)
        return x->period < y->period ? -1 : 1;
    return x->no < y->no ? -1 : x->no > y->no;
}

/* The current value of (ind, period) among the city's, or NULL. */
static const s_vobs_t *s_current_of(const s_verify_t *v, uint32_t ind, int32_t period)
{
    for (size_t i = v->ind_start[ind]; i < v->ind_start[ind + 1]; i++)
        if (v->obs[i].period == period)
            return &v->obs[i];
    return NULL;
}

/* The city's history: its count; per (indicator, period) the last entry
 * decides: a value is the current one, a retraction leaves none; and a
 * retraction always withdraws a value (the entry before it is one). */
static int s_verify_history(s_verify_t *v, const char *city, const s_cityrec_t *rec,
                            uint64_t *tot_hist)
{
    glci_store_t *st = v->st;
    const glci_framework_t *fw = st->fw;
    MDB_val d;
    int rc;

    uint64_t n_hist = 0;
    s_vhist_t *e = NULL;
    size_t n_e = 0, cap_e = 0;

    /* Entries are numbered from 0 without a gap (a history entry is never
     * deleted): a number out of its place is a record lost, doubled or
     * overlapping another run. */
    glci_hist_iter_t it;
    uint64_t no, want = 0;
    int gap = 0;
    if ((rc = glci_store_hist_open(st, v->txn, &v->htxn, city, &it)) != 0) {
        glci_store_hist_close(&it);
        return rc;
    }
    while ((rc = glci_store_hist_next(&it, &no, &d)) != 0) {
        s_hist_t x;
        if (rc == GLCI_STORE_ECORRUPT) {
            n_hist++;
            s_diff(v, "%s: a history record does not decode", city);
            continue;
        }
        if (rc < 0)
            break;
        n_hist++;
        if (no != want && !gap++)
            s_diff(v, "%s: history entry %llu where entry %llu belongs", city,
                   (unsigned long long)no, (unsigned long long)want);
        want = no + 1;
        if (glci_store_hist_decode(&d, &x) != 0) {
            s_diff(v, "%s: a history record does not decode", city);
            continue;
        }
        if (x.h.ind >= fw->n_ind) {
            s_diff(v, "%s: history entry of unknown indicator #%u", city, x.h.ind);
            continue;
        }
        if (n_e == cap_e) {
            cap_e = cap_e ? 2 * cap_e : 256;
            e = glci_xrealloc(e, cap_e * sizeof *e);
        }
        e[n_e++] = (s_vhist_t){x.h.ind, x.h.period, no, (x.flags & S_HIST_RETRACT) != 0};
    }
    glci_store_hist_close(&it);
    if (rc < 0) {
        free(e);
        return rc;
    }
    if (n_e > 1)
        qsort(e, n_e, sizeof *e, s_vhist_cmp);
    for (size_t i = 0; i < n_e; i++) {
        const s_vhist_t *h = &e[i];
        int first = i == 0 || e[i - 1].ind != h->ind || e[i - 1].period != h->period;
        int last = i + 1 == n_e || e[i + 1].ind != h->ind || e[i + 1].period != h->period;
        const char *id = fw->ind[h->ind].id;
        if (h->retract && (first || e[i - 1].retract))
            s_diff(v, "%s: %s period %d has a retraction that withdraws no value", city, id,
                   h->period);
        if (!last)
            continue;
        const s_vobs_t *o = s_current_of(v, h->ind, h->period);
        if (h->retract && o)
            s_diff(v, "%s: %s period %d has a current value after its retraction", city, id,
                   h->period);
        else if (!h->retract && !o)
            s_diff(v, "%s: %s period %d is in history but has no current value", city, id,
                   h->period);
        else if (!h->retract && o->hist_no < h->no)
            s_diff(v, "%s: %s period %d has a history entry newer than its current value",
                   city, id, h->period);
    }
    free(e);
    if (n_hist != rec->observations)
        s_diff(v, "%s: %llu history entries but the city counts %llu observations", city,
               (unsigned long long)n_hist, (unsigned long long)rec->observations);
    *tot_hist += n_hist;

    return 0;
}

/* The city's results: exactly the periods its observations reach, each
 * equal to the full recomputation, each ranked one in the rank view. */
static int s_verify_results(s_verify_t *v, const char *city)
{
    glci_store_t *st = v->st;
    const glci_framework_t *fw = st->fw;
    unsigned char pk[S_CITYZ_MAX + 10];
    size_t plen = glci_store_cityz(pk, city);
    MDB_cursor *cur;
    MDB_val k, d;
    int rc;

    int32_t span = fw->last_period - fw->first_period + 1;

    rc = mdb_cursor_open(v->txn, st->dbi[S_DB_RESULTS], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    k.mv_size = plen;
    k.mv_data = pk;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *kp = k.mv_data;
        if (k.mv_size < plen || memcmp(kp, pk, plen) != 0)
            break;
        if (k.mv_size != plen + 4) {
            s_diff(v, "%s: a result record does not decode", city);
            continue;
        }
        int32_t P = glci_bei32_get(kp + plen);
        size_t n_slots = 0;
        int drc = glci_store_result_decode(st, v->txn, city, P, &d, v->stored, &n_slots);
        if (drc == GLCI_STORE_ECORRUPT) {
            s_diff(v, "%s period %d: a result record does not decode", city, P);
            continue;
        }
        if (drc != 0) {
            mdb_cursor_close(cur);
            return drc;
        }
        v->n_slots += n_slots;
        /* a head's own count: what the rank view's flag is kept from */
        uint32_t own = 0;
        if (d.mv_size == st->hsize) {
            glci_store_head_decode(st, &d, v->calc, &own);
            if (own != glci_store_result_own(fw, v->stored))
                s_diff(v, "%s period %d: the result counts %u values of its own period, "
                          "its slots hold %u", city, P, own,
                       glci_store_result_own(fw, v->stored));
        }
        if (P < fw->first_period || P > fw->last_period || !v->want[P - fw->first_period]) {
            s_diff(v, "%s period %d: a result is stored but no observation reaches it", city, P);
            continue;
        }
        v->want[P - fw->first_period] = 2;
        rc = glci_index_full(fw, s_lookup, v, P, v->calc);
        if (rc != 0) {
            mdb_cursor_close(cur);
            return GLCI_STORE_EIO;
        }
        if (memcmp(v->calc, v->stored, st->rsize) != 0) {
            /* the first field that differs, both values exact: the index
             * alone can be equal when a node, a slot or coverage is not */
            char what[320];
            glci_result_diff(fw, v->stored, v->calc, "recomputed", what, sizeof what);
            s_diff(v, "%s period %d: stored result differs from the full recomputation (%s)",
                   city, P, what);
        }
        /* Its rank-view entry. */
        if (v->stored->has_index) {
            unsigned char rk[12 + GLCI_CITY_ID_MAX];
            MDB_val rkey = {glci_store_rank_key(rk, P, v->stored->index, city), rk}, rd;
            double cov;
            const char *who;
            int reported;
            if (mdb_get(v->txn, st->dbi[S_DB_RANK], &rkey, &rd) != 0)
                s_diff(v, "%s period %d: ranked result is missing from the rank view", city, P);
            else if (glci_store_rank_val_decode(&rd, &cov, &who, &reported) != 0 ||
                     memcmp(&cov, &v->stored->coverage, 8) != 0 || strcmp(who, city) != 0 ||
                     (reported >= 0 && reported != glci_result_reported(fw, v->stored)))
                s_diff(v, "%s period %d: rank view entry disagrees with the result", city, P);
        }
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return glci_store_code(rc);
    for (int32_t i = 0; i < span; i++)
        if (v->want[i] == 1)
            s_diff(v, "%s period %d: observations reach this period but no result is stored",
                   city, fw->first_period + i);
    return 0;
}

/* One city: its observations, history and results. */
static int s_verify_city(s_verify_t *v, const char *city, const s_cityrec_t *rec,
                         uint64_t *tot_obs, uint64_t *tot_hist, uint64_t *period_counts)
{
    int rc = s_verify_obs(v, city, tot_obs, period_counts);
    if (rc == 0)
        rc = s_verify_history(v, city, rec, tot_hist);
    if (rc == 0)
        rc = s_verify_results(v, city);
    return rc;
}

/* Every rank-view entry must belong to a ranked result of the same index. */
static int s_verify_rank(s_verify_t *v)
{
    glci_store_t *st = v->st;
    MDB_cursor *cur;
    MDB_val k, d;
    int rc = mdb_cursor_open(v->txn, st->dbi[S_DB_RANK], &cur);

    if (rc != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *kp = k.mv_data;
        char city[GLCI_CITY_ID_MAX + 1];
        unsigned char rk[S_CITYZ_MAX + 4], want[8];
        MDB_val rkey = {0, rk}, rd;
        if (k.mv_size < 13 || k.mv_size > 12 + GLCI_CITY_ID_MAX) {
            s_diff(v, "rank view: an entry does not decode");
            continue;
        }
        int32_t P = glci_bei32_get(kp);
        memcpy(city, kp + 12, k.mv_size - 12);
        city[k.mv_size - 12] = 0;
        rkey.mv_size = glci_store_result_key(rk, city, P);
        if (mdb_get(v->txn, st->dbi[S_DB_RESULTS], &rkey, &rd) != 0 ||
            (rd.mv_size != st->rsize && rd.mv_size != st->hsize)) {
            s_diff(v, "%s period %d: rank view entry without a result", city, P);
            continue;
        }
        /* the header is all this needs, in either form */
        glci_store_head_decode(st, &rd, v->stored, NULL);
        glci_store_rank_key_encode(v->stored->index, want);
        if (!v->stored->has_index || memcmp(want, kp + 4, 8) != 0)
            s_diff(v, "%s period %d: rank view entry does not match the stored index", city, P);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : glci_store_code(rc);
}

static int s_row_city_cmp(const void *a, const void *b)
{
    return strcmp(((const glci_snapshot_row_t *)a)->city, ((const glci_snapshot_row_t *)b)->city);
}

/* One edition: its header, and each row equal, bit for bit and in rank, to
 * the honest as-of recomputation at its time (no stored result used). */
static int s_verify_edition(s_verify_t *v, const char *name)
{
    glci_store_t *st = v->st;
    glci_snapshot_t ed = {0}, re = {0};
    glci_edition_t e;
    int rc = glci_store_edition_rows(st, v->txn, name, &ed);
    if (rc == GLCI_STORE_ECORRUPT) {
        s_diff(v, "edition %s: a record does not decode", name);
        return 0;
    }
    if (rc != 0)
        return rc;
    rc = glci_store_edition_get(st, v->txn, name, &e);
    if (rc == 0)
        rc = glci_store_asof_snapshot(st, v->txn, &v->htxn, e.period, e.as_of, 1, &re);
    if (rc != 0)
        goto out;
    if (memcmp(e.fw_hash, st->fw->hash, 32) != 0)
        s_diff(v, "edition %s: framework hash %.12s... is not the store's", name, e.fw_hash_hex);
    if (e.n_rows != ed.n || e.n_ranked != ed.n_ranked)
        s_diff(v, "edition %s: its header counts %zu cities (%zu ranked), it holds %zu (%zu)",
               name, e.n_rows, e.n_ranked, ed.n, ed.n_ranked);
    if (ed.n > 1)
        qsort(ed.rows, ed.n, sizeof *ed.rows, s_row_city_cmp);
    if (re.n > 1)
        qsort(re.rows, re.n, sizeof *re.rows, s_row_city_cmp);
    char when[32];
    glci_format_iso_time(e.as_of, when, sizeof when);
    for (size_t i = 0, j = 0; i < ed.n || j < re.n;) {
        int c = i == ed.n ? 1 : j == re.n ? -1 : strcmp(ed.rows[i].city, re.rows[j].city);
        if (c < 0) {
            s_diff(v, "edition %s: holds %s, which the recomputation as of %s does not", name,
                   ed.rows[i].city, when);
            i++;
        } else if (c > 0) {
            s_diff(v, "edition %s: lacks %s, which the recomputation as of %s holds", name,
                   re.rows[j].city, when);
            j++;
        } else {
            const glci_snapshot_row_t *a = &ed.rows[i++], *b = &re.rows[j++];
            if (a->rank != b->rank || memcmp(a->result, b->result, st->rsize) != 0) {
                char what[320];
                if (a->rank != b->rank)
                    snprintf(what, sizeof what, "rank %u, recomputed %u", a->rank, b->rank);
                else
                    glci_result_diff(st->fw, a->result, b->result, "recomputed", what,
                                     sizeof what);
                s_diff(v, "edition %s: %s differs from the recomputation as of %s (%s)", name,
                       a->city, when, what);
            }
        }
    }
out:
    glci_snapshot_release(&ed);
    glci_snapshot_release(&re);
    return rc;
}

static int s_verify_editions(s_verify_t *v)
{
    glci_store_t *st = v->st;
    if (!st->has_db[S_DB_EDITIONS] || !st->has_db[S_DB_EDITION_ROWS])
        return 0;
    MDB_cursor *cur;
    MDB_val k, d;
    char name[GLCI_EDITION_NAME_MAX + 1];
    int rc = mdb_cursor_open(v->txn, st->dbi[S_DB_EDITIONS], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size == 0 || k.mv_size > GLCI_EDITION_NAME_MAX) {
            s_diff(v, "editions: a name does not decode");
            continue;
        }
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = 0;
        if ((rc = s_verify_edition(v, name)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : glci_store_code(rc);
}

static int s_verify_txn(s_verify_t *v)
{
    glci_store_t *st = v->st;
    const glci_framework_t *fw = st->fw;
    int32_t span = fw->last_period - fw->first_period + 1;
    uint64_t *pcounts = glci_xcalloc((size_t)span, sizeof *pcounts);
    uint64_t tot_obs = 0, tot_hist = 0, m_obs, m_hist, m_rej;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    MDB_stat ms;
    int rc;

    /* schema 7: the runs a city names are at or below the newest the
     * store counts; the next ingest writes over any above it */
    uint64_t m_runs = 0;
    if (st->hmdb && (rc = glci_store_meta_u64(st, v->txn, "hist_runs", &m_runs)) != 0)
        goto out;
    rc = mdb_cursor_open(v->txn, st->dbi[S_DB_CITIES], &cur);
    if (rc != 0) {
        rc = glci_store_code(rc);
        goto out;
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        char city[GLCI_CITY_ID_MAX + 1];
        s_cityrec_t rec;
        if (k.mv_size == 0 || k.mv_size > GLCI_CITY_ID_MAX ||
            glci_store_city_decode(&d, &rec) != 0) {
            s_diff(v, "cities: a record does not decode");
            continue;
        }
        memcpy(city, k.mv_data, k.mv_size);
        city[k.mv_size] = 0;
        if (st->hmdb && rec.hist_last > m_runs)
            s_diff(v, "%s: its newest history run %llu is above the store's newest (%llu)",
                   city, (unsigned long long)rec.hist_last, (unsigned long long)m_runs);
        rc = s_verify_city(v, city, &rec, &tot_obs, &tot_hist, pcounts);
        if (rc != 0)
            goto out;
    }
    if (rc != MDB_NOTFOUND) {
        rc = glci_store_code(rc);
        goto out;
    }
    /* every slot record belongs to a result read above */
    if (st->has_db[S_DB_SLOTS]) {
        if ((rc = glci_store_code(mdb_stat(v->txn, st->dbi[S_DB_SLOTS], &ms))) != 0)
            goto out;
        if (ms.ms_entries != v->n_slots)
            s_diff(v, "slots: %llu indicator slots are stored, %llu belong to results",
                   (unsigned long long)ms.ms_entries, (unsigned long long)v->n_slots);
    }
    rc = s_verify_rank(v);
    if (rc == 0)
        rc = s_verify_editions(v);
    if (rc != 0)
        goto out;

    if ((rc = glci_store_meta_u64(st, v->txn, "n_obs", &m_obs)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "n_history", &m_hist)) != 0 ||
        (rc = glci_store_meta_u64(st, v->txn, "n_rejects", &m_rej)) != 0)
        goto out;
    if (m_obs != tot_obs)
        s_diff(v, "store counts %llu current observations, %llu are stored",
               (unsigned long long)m_obs, (unsigned long long)tot_obs);
    if (m_hist != tot_hist)
        s_diff(v, "store counts %llu applied values, history holds %llu",
               (unsigned long long)m_hist, (unsigned long long)tot_hist);
    /* the log keeps a bounded number per city; the rest are counted dropped */
    uint64_t m_drop = 0;
    if ((rc = glci_store_meta_u64(st, v->txn, "rejects_dropped", &m_drop)) != 0)
        goto out;
    if (mdb_stat(v->txn, st->dbi[S_DB_REJECTS], &ms) == 0 && ms.ms_entries + m_drop != m_rej)
        s_diff(v, "store counts %llu rejects (%llu dropped from the log), the log holds %llu",
               (unsigned long long)m_rej, (unsigned long long)m_drop,
               (unsigned long long)ms.ms_entries);

    /* Per-period counts of current observations. */
    mdb_cursor_close(cur);
    rc = mdb_cursor_open(v->txn, st->dbi[S_DB_PERIODS], &cur);
    if (rc != 0) {
        rc = glci_store_code(rc);
        cur = NULL;
        goto out;
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size != 4 || d.mv_size != 8) {
            s_diff(v, "periods: a record does not decode");
            continue;
        }
        int32_t P = glci_bei32_get(k.mv_data);
        uint64_t c = glci_be64_get(d.mv_data);
        uint64_t have = P >= fw->first_period && P <= fw->last_period
                            ? pcounts[P - fw->first_period] : 0;
        if (c != have)
            s_diff(v, "period %d: counted %llu observations, %llu are stored", P,
                   (unsigned long long)c, (unsigned long long)have);
        if (have)
            pcounts[P - fw->first_period] = 0;
    }
    for (int32_t i = 0; i < span; i++)
        if (pcounts[i])
            s_diff(v, "period %d: %llu observations are stored but not counted",
                   fw->first_period + i, (unsigned long long)pcounts[i]);
    rc = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    free(pcounts);
    return rc;
}

int glci_store_verify(glci_store_t *st, void (*fn)(void *ctx, const char *difference),
                      void *ctx, uint64_t *n_diffs)
{
    const glci_framework_t *fw = st->fw;
    s_verify_t v;
    int rc;

    memset(&v, 0, sizeof v);
    v.st = st;
    v.fn = fn;
    v.ctx = ctx;
    v.ind_start = glci_xcalloc(fw->n_ind + 1, sizeof *v.ind_start);
    v.calc = glci_xmalloc(st->rsize);
    v.stored = glci_xmalloc(st->rsize);
    v.want = glci_xmalloc((size_t)(fw->last_period - fw->first_period + 1));
    rc = glci_store_code(glci_mdb_read_begin(st->mdb, &v.txn));
    if (rc == 0) {
        rc = s_verify_txn(&v);
        glci_store_hist_txn_end(st, &v.htxn);
        glci_mdb_read_end(st->mdb, &v.txn);
    }
    free(v.obs);
    free(v.ind_start);
    free(v.calc);
    free(v.stored);
    free(v.want);
    if (n_diffs)
        *n_diffs = v.diffs;
    if (rc == 0 && v.diffs)
        rc = GLCI_STORE_EVERIFY;
    return rc;
}

/* ---- Backup -------------------------------------------------------------- */

/* 0 if dir is (now) an empty directory, else ENOTEMPTY / EIO. */
static int s_empty_dir(const char *dir, char *err, size_t errlen)
{
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create backup directory: %s", dir, strerror(errno));
        return GLCI_STORE_EIO;
    }
    d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: not a readable directory: %s", dir, strerror(errno));
        return GLCI_STORE_EIO;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(err, errlen, "%s: backup destination is not empty (holds %s)", dir, e->d_name);
        rc = GLCI_STORE_ENOTEMPTY;
        break;
    }
    closedir(d);
    return rc;
}

static void s_first_diff(void *ctx, const char *difference)
{
    char *first = ctx;
    if (!first[0])
        snprintf(first, 256, "%s", difference);
}

int glci_store_backup(glci_store_t *st, const char *dest, char *err, size_t errlen)
{
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    glci_store_t *copy = NULL;
    char first[256] = "";
    uint64_t n = 0;
    int rc;

    if (!dest || !*dest) {
        snprintf(err, errlen, "no backup destination given");
        return GLCI_STORE_EINVAL;
    }
    rc = s_empty_dir(dest, err, errlen);
    if (rc != 0)
        return rc;
    if (!st->hmdb) {
        /* A handle of a store older than schema 7 (read-only) copies its
         * one file: not if a writable open has since moved the history
         * out of it. */
        MDB_txn *txn = NULL;
        rc = glci_store_code(glci_mdb_read_begin(st->mdb, &txn));
        if (rc != 0) {
            snprintf(err, errlen, "%s: cannot read the store: %s", st->dir,
                     glci_store_strerror(rc));
            return rc;
        }
        int moved = glci_store_schema_in(st, txn) >= 7;
        glci_mdb_read_end(st->mdb, &txn);
        if (moved) {
            snprintf(err, errlen, "%s: the store was upgraded to schema %u while open; run the "
                     "backup again", st->dir, GLCI_STORE_SCHEMA);
            return GLCI_STORE_ESCHEMA;
        }
    }
    rc = glci_mdb_copy(st->mdb, dest);
    if (rc != 0) {
        snprintf(err, errlen, "%s: copy failed: %s", dest, mdb_strerror(rc));
        return glci_store_code(rc);
    }
    /* as private as the store: LMDB makes the copy's file under the umask */
    char data[4096];
    snprintf(data, sizeof data, "%s/data.mdb", dest);
    if (chmod(dest, 0700) != 0 || chmod(data, 0600) != 0) {
        snprintf(err, errlen, "%s: cannot make the copy private: %s", dest, strerror(errno));
        return GLCI_STORE_EIO;
    }
    /* Then the history file, copied after the state: its snapshot is as
     * new as the state's or newer, so it holds every run the state's
     * records name (runs a later commit added are named by none). */
    if (st->hmdb) {
        char hdir[4096];
        if ((size_t)snprintf(hdir, sizeof hdir, "%s/" S_HIST_DIR, dest) >= sizeof hdir ||
            (size_t)snprintf(data, sizeof data, "%s/data.mdb", hdir) >= sizeof data) {
            snprintf(err, errlen, "%s: path too long", dest);
            return GLCI_STORE_EINVAL;
        }
        if (mkdir(hdir, 0700) != 0) {
            snprintf(err, errlen, "%s: cannot create the history folder: %s", hdir,
                     strerror(errno));
            return GLCI_STORE_EIO;
        }
        rc = glci_mdb_copy(st->hmdb, hdir);
        if (rc != 0) {
            snprintf(err, errlen, "%s: copy of the history failed: %s", dest, mdb_strerror(rc));
            return glci_store_code(rc);
        }
        if (chmod(data, 0600) != 0) {
            snprintf(err, errlen, "%s: cannot make the copy private: %s", hdir,
                     strerror(errno));
            return GLCI_STORE_EIO;
        }
    }
    rc = glci_store_open(dest, &o, &copy, err, errlen);
    if (rc != 0)
        return rc;
    rc = glci_store_verify(copy, s_first_diff, first, &n);
    glci_store_close(&copy);
    if (rc == GLCI_STORE_EVERIFY)
        snprintf(err, errlen, "%s: the copy does not verify (%llu differences; first: %s)",
                 dest, (unsigned long long)n, first);
    else if (rc != 0)
        snprintf(err, errlen, "%s: cannot verify the copy: %s", dest, glci_store_strerror(rc));
    return rc;
}
