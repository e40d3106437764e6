/* The history database read and upgraded, whatever its schema's form.
 *
 * Before schema 5 a history record is one entry, keyed cityz | number.
 * From schema 5 it is a run (glci_store_int.h): the entries of
 * consecutive numbers of one city that one transaction wrote, keyed by
 * the first one's number, so the ingest makes one B-tree put per city
 * and transaction instead of one per value and the entries pack into
 * overflow pages instead of half-filled leaves. Which form a record has
 * is decided by the store's schema, never guessed from its bytes.
 *
 * From schema 6 the runs live in hruns instead, keyed by a number of the
 * whole store's that grows with each run written (the ingest appends with
 * MDB_APPEND: a commit's history fills the right edge of one tree, where
 * keys by city had it write one leaf per city and commit). Each run's
 * head names the city and the city's run before it; the city record
 * names its newest. A walk reads the chain back from the record once, at
 * its open, and then goes forward through it.
 *
 * Every reader walks a city's entries through glci_hist_iter_t: in
 * number order from a number (seek: MDB_SET_RANGE, then MDB_PREV when the
 * key found is not the number's own, since the run holding it begins
 * before; from schema 6 a binary search of the chain), and a lookup of
 * one entry is a seek and one step. */
#include "glci_store_int.h"

#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* Where a walk stands (glci_hist_iter_t.state). */
enum {
    S_HI_END,                 /* past the city's last entry */
    S_HI_AT,                  /* the cursor is at a record not read yet */
    S_HI_IN,                  /* a record is read; entry i is the next */
    S_HI_DONE                 /* a record is read and given whole; the next is after it */
};

static uint32_t s_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Whether the run d (schema-5 form) has a head that parses: its count n. */
static int s_run_check(const MDB_val *d, uint32_t *n)
{
    const unsigned char *p = d->mv_data;
    if (d->mv_size < S_HIST_RUN_HEAD(1))
        return GLCI_STORE_ECORRUPT;
    *n = s_u32(p);
    if (*n == 0 || *n > S_HIST_RUN_MAX || S_HIST_RUN_HEAD(*n) >= d->mv_size ||
        s_u32(p + 4 + 4 * (size_t)(*n - 1)) != d->mv_size)
        return GLCI_STORE_ECORRUPT;
    return 0;
}

int glci_store_hrun_parse(const MDB_val *k, const MDB_val *d, uint64_t *no, s_hrunhead_t *head,
                          const char **city, size_t *clen, MDB_val *run)
{
    const unsigned char *p = d->mv_data;
    if (k->mv_size != 8 || d->mv_size < sizeof *head + 2)
        return GLCI_STORE_ECORRUPT;
    *no = glci_be64_get(k->mv_data);
    memcpy(head, p, sizeof *head);
    const unsigned char *id = p + sizeof *head;
    size_t room = d->mv_size - sizeof *head;
    const unsigned char *nul = memchr(id, 0, room < S_CITYZ_MAX ? room : S_CITYZ_MAX);
    if (!nul || nul == id || head->prev >= *no)
        return GLCI_STORE_ECORRUPT;
    *city = (const char *)id;
    *clen = (size_t)(nul - id);
    run->mv_data = (void *)(nul + 1);
    run->mv_size = room - *clen - 1;
    return 0;
}

/* Reads the record at (k, d) into the walk: 0 (it->state S_HI_IN), 1 when
 * it is not the city's (S_HI_END), ECORRUPT (S_HI_DONE: the walk steps past
 * it). Only the head's outline is checked here; each entry's bounds are
 * checked as it is given, so seeking into a run costs no walk of its head. */
static int s_load(glci_hist_iter_t *it, const MDB_val *k, const MDB_val *d)
{
    const unsigned char *kp = k->mv_data;
    if (k->mv_size < it->plen || memcmp(kp, it->pk, it->plen) != 0) {
        it->state = S_HI_END;
        return 1;
    }
    uint32_t n = 1;
    it->state = S_HI_DONE;
    it->n = 0;                /* nothing of a record that does not parse is given */
    if (k->mv_size != it->plen + 8)
        return GLCI_STORE_ECORRUPT;
    if (it->runs && s_run_check(d, &n) != 0)
        return GLCI_STORE_ECORRUPT;
    it->first = glci_be64_get(kp + it->plen);
    it->d = *d;
    it->n = n;
    it->i = 0;
    it->state = S_HI_IN;
    return 0;
}

/* Schema 6: reads run ci of the chain (S_HI_END past the last): 0, 1 at
 * the end, ECORRUPT (S_HI_DONE: the walk steps past it), or a code. The
 * chain was read in this transaction, so the head and the city are as
 * s_chain checked them; only the run itself is checked here. */
static int s_load6(glci_hist_iter_t *it, size_t ci)
{
    it->ci = ci;
    it->n = 0;
    if (ci >= it->n_chain) {
        it->state = S_HI_END;
        return 1;
    }
    unsigned char kb[8];
    glci_be64_put(kb, it->chain[ci].no);
    MDB_val k = {8, kb}, d;
    it->state = S_HI_DONE;
    int rc = mdb_get(it->txn, it->dbi, &k, &d);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? GLCI_STORE_ECORRUPT : glci_store_code(rc);
    size_t at = sizeof(s_hrunhead_t) + it->plen;
    if (d.mv_size <= at)
        return GLCI_STORE_ECORRUPT;
    MDB_val run = {d.mv_size - at, (unsigned char *)d.mv_data + at};
    uint32_t n;
    if (s_run_check(&run, &n) != 0)
        return GLCI_STORE_ECORRUPT;
    it->first = it->chain[ci].first;
    it->d = run;
    it->n = n;
    it->i = 0;
    it->state = S_HI_IN;
    return 0;
}

/* Reads the record the cursor stands at (op: how to move it there first). */
static int s_step(glci_hist_iter_t *it, MDB_cursor_op op)
{
    if (it->runs == 2)
        return s_load6(it, op == MDB_NEXT ? it->ci + 1 : it->ci);
    MDB_val k, d;
    int rc = mdb_cursor_get(it->cur, &k, &d, op);
    if (rc == MDB_NOTFOUND) {
        it->state = S_HI_END;
        return 1;
    }
    if (rc != 0)
        return glci_store_code(rc);
    return s_load(it, &k, &d);
}

/* Schema 6: the city's chain, read back from its record's newest run. A
 * run missing or whose head does not parse ends it (the walk then gives
 * the runs after it and tells of the break once). */
static int s_chain(glci_store_t *st, MDB_txn *txn, const char *city, glci_hist_iter_t *it)
{
    s_cityrec_t rec;
    int rc = glci_store_city_get(st, txn, city, &rec);
    if (rc == GLCI_STORE_ENOCITY)
        return 0;
    if (rc != 0)
        return rc;
    size_t cap = 0;
    for (uint64_t no = rec.hist_last; no != 0;) {
        unsigned char kb[8];
        glci_be64_put(kb, no);
        MDB_val k = {8, kb}, d, run;
        s_hrunhead_t h;
        const char *id;
        size_t clen;
        uint64_t got;
        rc = mdb_get(it->txn, it->dbi, &k, &d);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return glci_store_code(rc);
        if (rc != 0 || glci_store_hrun_parse(&k, &d, &got, &h, &id, &clen, &run) != 0 ||
            clen + 1 != it->plen || memcmp(id, it->pk, clen) != 0 ||
            (it->n_chain > 0 && h.first >= it->chain[it->n_chain - 1].first)) {
            it->broken = 1;
            break;
        }
        if (it->n_chain == cap) {
            cap = cap ? 2 * cap : 16;
            it->chain = glci_xrealloc(it->chain, cap * sizeof *it->chain);
        }
        it->chain[it->n_chain++] = (struct glci_hist_link){no, h.first};
        no = h.prev;
    }
    for (size_t a = 0, b = it->n_chain; a + 1 < b; a++, b--) {
        struct glci_hist_link t = it->chain[a];
        it->chain[a] = it->chain[b - 1];
        it->chain[b - 1] = t;
    }
    return 0;
}

int glci_store_hist_open(glci_store_t *st, MDB_txn *txn, MDB_txn **htxn, const char *city,
                         glci_hist_iter_t *it)
{
    memset(it, 0, sizeof *it);
    it->runs = st->schema >= 6 ? 2 : st->schema >= 5;
    if (st->schema < GLCI_STORE_SCHEMA) {
        /* A read-only handle of an older store: the store must still be
         * of its schema in this snapshot, else its records are runs. */
        MDB_val k = {6, "schema"}, d;
        int rc = mdb_get(txn, st->dbi[S_DB_META], &k, &d);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return glci_store_code(rc);
        if (rc == 0 && (d.mv_size != 4 || glci_be32_get(d.mv_data) != st->schema))
            return GLCI_STORE_ESCHEMA;
    }
    it->plen = glci_store_cityz(it->pk, city);
    if (it->runs == 2) {
        it->txn = txn;
        it->dbi = st->dbi[S_DB_HRUNS];
        if (st->hmdb) {
            /* schema 7: the runs are in the history file */
            if (!*htxn) {
                int rc = glci_store_code(glci_mdb_read_begin(st->hmdb, htxn));
                if (rc != 0) {
                    *htxn = NULL;
                    return rc;
                }
            }
            it->txn = *htxn;
            it->dbi = st->hdbi;
        }
        int rc = s_chain(st, txn, city, it);
        if (rc != 0)
            return rc;
        return glci_store_hist_seek(it, 0);
    }
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_HISTORY], &it->cur);
    if (rc != 0) {
        it->cur = NULL;
        return glci_store_code(rc);
    }
    return glci_store_hist_seek(it, 0);
}

void glci_store_hist_txn_end(glci_store_t *st, MDB_txn **htxn)
{
    if (htxn && *htxn)
        glci_mdb_read_end(st->hmdb, htxn);
}

void glci_store_hist_close(glci_hist_iter_t *it)
{
    if (it->cur)
        mdb_cursor_close(it->cur);
    it->cur = NULL;
    free(it->chain);
    it->chain = NULL;
    it->n_chain = 0;
}

/* Schema 6: the seek, by the chain (the last run beginning at or before
 * from holds it, or the walk begins at the run after). */
static int s_seek6(glci_hist_iter_t *it, uint64_t from)
{
    size_t lo = 0, hi = it->n_chain;      /* runs [0, lo) begin at or before from */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (it->chain[mid].first <= from)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        it->ci = 0;
        it->state = S_HI_AT;
        return 0;
    }
    int rc = s_load6(it, lo - 1);
    if (rc == GLCI_STORE_ECORRUPT) {
        it->ci = lo - 1;              /* the next step reads it again and tells */
        it->state = S_HI_AT;
        return 0;
    }
    if (rc < 0)
        return rc;
    if (from - it->first < it->n) {
        it->i = (uint32_t)(from - it->first);
        return 0;
    }
    it->ci = lo;
    it->state = S_HI_AT;
    return 0;
}

int glci_store_hist_seek(glci_hist_iter_t *it, uint64_t from)
{
    /* The record read last may hold it (verify's lookups, in a city's
     * order of indicators, often land in the run of the one before). */
    if ((it->state == S_HI_IN || it->state == S_HI_DONE) && it->n > 0 && from >= it->first &&
        from - it->first < it->n) {
        it->i = (uint32_t)(from - it->first);
        it->state = S_HI_IN;
        return 0;
    }
    if (it->runs == 2)
        return s_seek6(it, from);
    unsigned char kb[S_CITYZ_MAX + 8];
    memcpy(kb, it->pk, it->plen);
    glci_be64_put(kb + it->plen, from);
    MDB_val k = {it->plen + 8, kb}, d;
    int rc = mdb_cursor_get(it->cur, &k, &d, MDB_SET_RANGE);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return glci_store_code(rc);
    int exact = rc == 0 && k.mv_size == it->plen + 8 && memcmp(k.mv_data, kb, k.mv_size) == 0;
    if (rc == 0 && (exact || !it->runs)) {
        it->state = S_HI_AT;
        return 0;
    }
    /* A run holding `from` begins before it: the record before. */
    rc = s_step(it, rc == 0 ? MDB_PREV : MDB_LAST);
    if (rc < 0 && rc != GLCI_STORE_ECORRUPT)
        return rc;
    if (rc == 0 && from >= it->first && from - it->first < it->n) {
        it->i = (uint32_t)(from - it->first);
        return 0;
    }
    /* None does: the walk begins at the record after `from`. */
    k = (MDB_val){it->plen + 8, kb};
    rc = mdb_cursor_get(it->cur, &k, &d, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
        it->state = S_HI_END;
        return 0;
    }
    if (rc != 0)
        return glci_store_code(rc);
    it->state = S_HI_AT;
    return 0;
}

int glci_store_hist_next(glci_hist_iter_t *it, uint64_t *no, MDB_val *entry)
{
    int rc;
    if (it->broken) {
        it->broken = 0;
        return GLCI_STORE_ECORRUPT;
    }
    for (;;) {
        switch (it->state) {
        case S_HI_END:
            return 0;
        case S_HI_AT:
            if ((rc = s_step(it, MDB_GET_CURRENT)) < 0)
                return rc;
            break;
        case S_HI_DONE:
            if ((rc = s_step(it, MDB_NEXT)) < 0)
                return rc;
            break;
        default: {
            uint32_t i = it->i++;
            if (it->i == it->n)
                it->state = S_HI_DONE;
            *no = it->first + i;
            if (!it->runs) {
                *entry = it->d;
                return 1;
            }
            const unsigned char *p = it->d.mv_data;
            size_t head = S_HIST_RUN_HEAD(it->n);
            size_t start = i == 0 ? head : s_u32(p + 4 + 4 * (size_t)(i - 1));
            size_t end = s_u32(p + 4 + 4 * (size_t)i);
            if (start < head || end <= start || end > it->d.mv_size)
                return GLCI_STORE_ECORRUPT;
            entry->mv_data = (void *)(p + start);
            entry->mv_size = end - start;
            return 1;
        }
        }
    }
}

int glci_store_hist_find(glci_hist_iter_t *it, uint64_t no, MDB_val *entry)
{
    uint64_t got;
    it->broken = 0;           /* a lookup answers for its entry alone */
    int rc = glci_store_hist_seek(it, no);
    if (rc != 0)
        return rc;
    rc = glci_store_hist_next(it, &got, entry);
    return rc == 1 && got != no ? 0 : rc;
}

int glci_store_hist_run_fits(size_t n, size_t body, size_t len)
{
    return n == 0 || (n < S_HIST_RUN_MAX && S_HIST_RUN_HEAD(n + 1) + body + len <= S_HIST_RUN_BYTES);
}

size_t glci_store_hist_run_head(unsigned char *p, uint32_t n, const uint32_t *ends)
{
    size_t head = S_HIST_RUN_HEAD(n);
    memcpy(p, &n, sizeof n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t end = (uint32_t)(head + ends[i]);
        memcpy(p + 4 + 4 * (size_t)i, &end, sizeof end);
    }
    return head;
}

/* One run of the upgrade: the entries from the cursor's (k, d) on, while
 * they are the same city's, consecutive and within the bound, become one
 * record under the first one's key. Leaves *k the key to go on from: the
 * city's first number after the run, in kb. */
static int s_upgrade_run(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *cur, MDB_val *k, MDB_val *d,
                         unsigned char *kb, unsigned char **buf, size_t *cap, uint32_t *ends)
{
    const unsigned char *kp = k->mv_data;
    if (k->mv_size < 9 || k->mv_size > S_CITYZ_MAX + 8 || kp[k->mv_size - 9] != 0)
        return GLCI_STORE_ECORRUPT;
    size_t klen = k->mv_size, plen = klen - 8;
    memcpy(kb, kp, klen);
    uint64_t first = glci_be64_get(kb + plen);
    size_t body = 0;
    uint32_t n = 0;
    int rc;

    for (;;) {
        if (!glci_store_hist_run_fits(n, body, d->mv_size))
            break;
        if (body + d->mv_size > *cap) {
            *cap = body + d->mv_size > 2 * *cap ? body + d->mv_size : 2 * *cap;
            *buf = glci_xrealloc(*buf, *cap);
        }
        memcpy(*buf + body, d->mv_data, d->mv_size);
        body += d->mv_size;
        ends[n++] = (uint32_t)body;
        rc = mdb_cursor_get(cur, k, d, MDB_NEXT);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc != 0)
            return rc;
        if (k->mv_size != klen || memcmp(k->mv_data, kb, plen) != 0 ||
            glci_be64_get((const unsigned char *)k->mv_data + plen) != first + n)
            break;
    }
    /* The entries after the first go; the first's record becomes the run. */
    for (uint32_t e = 1; e < n; e++) {
        glci_be64_put(kb + plen, first + e);
        MDB_val dk = {klen, kb};
        if ((rc = mdb_del(txn, dbi, &dk, NULL)) != 0)
            return rc;
    }
    glci_be64_put(kb + plen, first);
    MDB_val rk = {klen, kb}, rv = {S_HIST_RUN_HEAD(n) + body, NULL};
    if ((rc = mdb_put(txn, dbi, &rk, &rv, MDB_RESERVE)) != 0)
        return rc;
    size_t head = glci_store_hist_run_head(rv.mv_data, n, ends);
    memcpy((unsigned char *)rv.mv_data + head, *buf, body);
    glci_be64_put(kb + plen, first + n);
    *k = (MDB_val){klen, kb};
    return 0;
}

int glci_store_hist_upgrade(glci_store_t *st, MDB_txn *txn)
{
    MDB_dbi dbi = st->dbi[S_DB_HISTORY];
    MDB_cursor *cur;
    MDB_val k, d;
    unsigned char kb[S_CITYZ_MAX + 8];
    uint32_t *ends = glci_xmalloc(S_HIST_RUN_MAX * sizeof *ends);
    unsigned char *buf = NULL;
    size_t cap = 0;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        goto out;
    /* Each run is written before the next is read: the cursor is placed
     * again after the keys a run replaced, never reused across a write. */
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE)) {
        if ((rc = s_upgrade_run(txn, dbi, cur, &k, &d, kb, &buf, &cap, ends)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    mdb_cursor_close(cur);
out:
    free(buf);
    free(ends);
    return rc;
}

/* The city record of id (clen bytes) given hist_last = last; a city
 * without a record is left so (its runs are moved, unreachable as they
 * were, for verify and a repair to find). */
static int s_set_last(glci_store_t *st, MDB_txn *txn, const char *id, size_t clen, uint64_t last)
{
    char city[GLCI_CITY_ID_MAX + 1];
    s_cityrec_t rec;
    if (clen == 0 || clen > GLCI_CITY_ID_MAX)
        return 0;
    memcpy(city, id, clen);
    city[clen] = 0;
    int rc = glci_store_city_get(st, txn, city, &rec);
    if (rc == GLCI_STORE_ENOCITY)
        return 0;
    if (rc != 0)
        return rc;
    rec.hist_last = last;
    MDB_val k = {clen, city}, d = {sizeof rec, &rec};
    return mdb_put(txn, st->dbi[S_DB_CITIES], &k, &d, 0);
}

int glci_store_hist_upgrade6(glci_store_t *st, MDB_txn *txn)
{
    MDB_dbi from = st->dbi[S_DB_HISTORY], to = st->dbi[S_DB_HRUNS];
    MDB_cursor *cur;
    MDB_val k, d;
    unsigned char kb[S_CITYZ_MAX + 8], pb[S_CITYZ_MAX + 8], nk[8];
    size_t klen = 0, plast = 0, cap = 0;
    unsigned char *buf = NULL;
    uint64_t no = 0, prev = 0;
    int rc = mdb_cursor_open(txn, from, &cur);
    if (rc != 0)
        return rc;
    /* Each record is copied out (its key into kb, the new record into
     * buf) before anything is written: what LMDB hands out is valid only
     * until the next write. The cursor is placed again on the key after
     * each write. A run whose bytes do not parse is moved as it is, for
     * verify to report as before; only a key that names no city stops the
     * upgrade. */
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *kp = k.mv_data;
        if (k.mv_size < 10 || k.mv_size > S_CITYZ_MAX + 8 || kp[k.mv_size - 9] != 0 ||
            memchr(kp, 0, k.mv_size - 9) != NULL) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        klen = k.mv_size;
        memcpy(kb, kp, klen);
        size_t plen = klen - 8;
        size_t len = sizeof(s_hrunhead_t) + plen + d.mv_size;
        if (len > cap) {
            cap = len;
            buf = glci_xrealloc(buf, cap);
        }
        memcpy(buf + sizeof(s_hrunhead_t) + plen, d.mv_data, d.mv_size);
        memcpy(buf + sizeof(s_hrunhead_t), kb, plen);
        if (plast != 0 && (plast != plen || memcmp(pb, kb, plen) != 0)) {
            /* the city before is done: its record names its newest run */
            if ((rc = s_set_last(st, txn, (const char *)pb, plast - 1, no)) != 0)
                break;
            prev = 0;
        }
        memcpy(pb, kb, plen);
        plast = plen;
        s_hrunhead_t h = {prev, glci_be64_get(kb + plen)};
        memcpy(buf, &h, sizeof h);
        prev = ++no;
        glci_be64_put(nk, no);
        MDB_val rk = {8, nk}, rv = {len, buf};
        if ((rc = mdb_put(txn, to, &rk, &rv, MDB_APPEND)) != 0)
            break;
        MDB_val sk = {klen, kb};
        if ((rc = mdb_cursor_get(cur, &sk, &d, MDB_SET)) != 0) {
            if (rc == MDB_NOTFOUND)
                rc = GLCI_STORE_ECORRUPT;     /* never: the record was just read */
            break;
        }
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0 && plast != 0)
        rc = s_set_last(st, txn, (const char *)pb, plast - 1, no);
    if (rc == 0)
        rc = mdb_drop(txn, from, 0);
    free(buf);
    return rc;
}

/* ---- schema 6 -> 7 ---------------------------------------------------------- */

typedef struct {
    glci_store_t *st;
    MDB_txn *state;           /* the state's write transaction, read from */
    uint64_t last;            /* out: the newest run copied */
} s_up7_t;

/* The history file's transaction of the upgrade: its hruns emptied (a copy
 * an interrupted upgrade left), then every run of the state's, in order.
 * The state's records stay valid while this writes: another environment. */
static int s_up7_txn(MDB_txn *htxn, void *vctx)
{
    s_up7_t *u = vctx;
    MDB_cursor *cur;
    MDB_val k, d;
    u->last = 0;
    int rc = mdb_drop(htxn, u->st->hdbi, 0);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(u->state, u->st->dbi[S_DB_HRUNS], &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size != 8) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if ((rc = mdb_put(htxn, u->st->hdbi, &k, &d, MDB_APPEND)) != 0)
            break;
        u->last = glci_be64_get(k.mv_data);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int glci_store_hist_upgrade7(glci_store_t *st, MDB_txn *txn)
{
    s_up7_t u = {st, txn, 0};
    /* as a store code: a full history file is not the state's map to grow */
    int rc = glci_store_code(glci_mdb_write(st->hmdb, s_up7_txn, &u));
    if (rc != 0)
        return rc;
    if ((rc = mdb_drop(txn, st->dbi[S_DB_HRUNS], 0)) != 0)
        return rc;
    return glci_store_meta_put_u64(st, txn, "hist_runs", u.last);
}
