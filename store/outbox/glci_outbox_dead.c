/* The outbox's dead letters (glci_outbox.h): observations the collector
 * rejected, stored in the transaction of their ack or quarantine, listed
 * and deleted once the dead-letter file holds them.
 *
 * A dead-letter record is little-endian:
 *   "GDL1" | at i64 | period i32 | value f64 bits | observed_at i64 |
 *   ind_len u16 | src_len u16 | reason_len u16 | indicator | source | reason
 * (the top bit of ind_len marks a retraction, as in batch records). */
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_outbox_int.h"

/* ---- dead letters ------------------------------------------------------ */

#define S_DL_MAGIC "GDL1"
#define S_DL_FIXED (4 + 8 + 4 + 8 + 8 + 2 + 2 + 2)

int glci_outbox_dead_check(const glci_outbox_dead_t *dead, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (glci_outbox_obs_ok(&dead[i].obs) != 0 || !dead[i].reason ||
            strlen(dead[i].reason) > GLCI_OUTBOX_REASON_MAX ||
            glci_outbox_strlen0(dead[i].origin) > GLCI_OUTBOX_ORIGIN_MAX)
            return GLCI_OUTBOX_EINVAL;
    }
    return GLCI_OUTBOX_OK;
}

/* Stores dead[0..n) under the next ids and adds n to the rejects count. */
int glci_outbox_dead_put(MDB_txn *txn, glci_outbox_t *ob, const glci_outbox_dead_t *dead,
                      size_t n)
{
    int rc;
    if (n == 0)
        return 0;
    uint64_t id = glci_outbox_meta_u64(txn, ob->meta, "dl_next", 1);
    for (size_t i = 0; i < n; i++, id++) {
        const glci_outbox_dead_t *d = &dead[i];
        size_t il = strlen(d->obs.indicator), sl = glci_outbox_strlen0(d->obs.source);
        size_t rl = strlen(d->reason), ol = glci_outbox_strlen0(d->origin);
        unsigned char key[8];
        glci_outbox_seq_key(id, key);
        /* the origin is an optional tail: records written before it end
         * after the reason */
        MDB_val kv = {8, key}, vv = {S_DL_FIXED + il + sl + rl + (ol ? 2 + ol : 0), NULL};
        if ((rc = mdb_put(txn, ob->dead, &kv, &vv, MDB_RESERVE | MDB_APPEND)) != 0)
            return rc;
        unsigned char *p = vv.mv_data;
        uint64_t bits;
        memcpy(&bits, &d->obs.value, 8);
        memcpy(p, S_DL_MAGIC, 4);
        glci_outbox_le_put(p + 4, (uint64_t)d->at, 8);
        glci_outbox_le_put(p + 12, (uint64_t)(uint32_t)d->obs.period, 4);
        glci_outbox_le_put(p + 16, bits, 8);
        glci_outbox_le_put(p + 24, (uint64_t)d->obs.observed_at, 8);
        glci_outbox_le_put(p + 32, il | (d->obs.retract ? S_IL_RETRACT : 0u), 2);
        glci_outbox_le_put(p + 34, sl, 2);
        glci_outbox_le_put(p + 36, rl, 2);
        p += S_DL_FIXED;
        memcpy(p, d->obs.indicator, il);
        if (sl)
            memcpy(p + il, d->obs.source, sl);
        if (rl)
            memcpy(p + il + sl, d->reason, rl);
        if (ol) {
            glci_outbox_le_put(p + il + sl + rl, ol, 2);
            memcpy(p + il + sl + rl + 2, d->origin, ol);
        }
    }
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "dl_next", id)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "rejects",
                             glci_outbox_meta_u64(txn, ob->meta, "rejects", 0) + n)) != 0)
        return rc;
    return 0;
}

/* Decodes a dead-letter record into d, its strings copied into pool (at
 * least v->mv_size + 4 bytes). 0, or ECORRUPT. */
static int s_dead_decode(const MDB_val *v, glci_outbox_dead_t *d, char *pool)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < S_DL_FIXED || memcmp(p, S_DL_MAGIC, 4) != 0)
        return GLCI_OUTBOX_ECORRUPT;
    size_t il = (size_t)glci_outbox_le_get(p + 32, 2), sl = (size_t)glci_outbox_le_get(p + 34, 2);
    size_t rl = (size_t)glci_outbox_le_get(p + 36, 2);
    int retract = (il & S_IL_RETRACT) != 0;
    il &= ~(size_t)S_IL_RETRACT;
    size_t ol = 0;
    if (il == 0 || S_DL_FIXED + il + sl + rl > v->mv_size)
        return GLCI_OUTBOX_ECORRUPT;
    if (S_DL_FIXED + il + sl + rl != v->mv_size) {
        const unsigned char *tail = p + S_DL_FIXED + il + sl + rl;
        if (S_DL_FIXED + il + sl + rl + 2 > v->mv_size)
            return GLCI_OUTBOX_ECORRUPT;
        ol = (size_t)glci_outbox_le_get(tail, 2);
        if (S_DL_FIXED + il + sl + rl + 2 + ol != v->mv_size)
            return GLCI_OUTBOX_ECORRUPT;
    }
    uint64_t bits = glci_outbox_le_get(p + 16, 8);
    d->at = (int64_t)glci_outbox_le_get(p + 4, 8);
    d->obs.period = (int32_t)(uint32_t)glci_outbox_le_get(p + 12, 4);
    d->obs.has_period = 1;
    d->obs.has_value = !retract;
    d->obs.retract = (unsigned)retract;
    memcpy(&d->obs.value, &bits, 8);
    d->obs.observed_at = (int64_t)glci_outbox_le_get(p + 24, 8);
    p += S_DL_FIXED;
    memcpy(pool, p, il);
    pool[il] = '\0';
    d->obs.indicator = pool;
    pool += il + 1;
    memcpy(pool, p + il, sl);
    pool[sl] = '\0';
    d->obs.source = pool;
    pool += sl + 1;
    memcpy(pool, p + il + sl, rl);
    pool[rl] = '\0';
    d->reason = pool;
    pool += rl + 1;
    memcpy(pool, p + il + sl + rl + 2, ol);
    pool[ol] = '\0';
    d->origin = pool;
    return GLCI_OUTBOX_OK;
}

typedef struct {
    glci_outbox_t *ob;
    const glci_outbox_dead_t *dead;
    size_t n;
} s_dead_ctx_t;

static int s_dead_add_cb(MDB_txn *txn, void *arg)
{
    s_dead_ctx_t *x = arg;
    return glci_outbox_dead_put(txn, x->ob, x->dead, x->n);
}

int glci_outbox_dead_add(glci_outbox_t *ob, const glci_outbox_dead_t *dead, size_t n)
{
    if (n == 0 || glci_outbox_dead_check(dead, n) != 0)
        return GLCI_OUTBOX_EINVAL;
    s_dead_ctx_t x = {ob, dead, n};
    return glci_outbox_run(ob, s_dead_add_cb, &x);
}

void glci_outbox_dead_list_free(glci_outbox_dead_list_t **self)
{
    if (!self || !*self)
        return;
    glci_outbox_dead_list_t *l = *self;
    for (size_t i = 0; i < l->n; i++)
        free((void *)l->rows[i].obs.indicator);   /* each row's string pool */
    free(l->rows);
    free(l);
    *self = NULL;
}

int glci_outbox_dead_list(glci_outbox_t *ob, size_t max, glci_outbox_dead_list_t **out)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    *out = NULL;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    glci_outbox_dead_list_t *l = glci_xcalloc(1, sizeof *l);
    l->rows = glci_xcalloc(max ? max : 1, sizeof *l->rows);
    int code = GLCI_OUTBOX_OK;
    if ((rc = mdb_cursor_open(txn, ob->dead, &cur)) != 0) {
        code = glci_outbox_code(rc);
        goto out;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && l->n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        glci_outbox_dead_t *d = &l->rows[l->n];
        char *pool = glci_xmalloc(v.mv_size + 4);
        d->id = glci_outbox_key_seq(&k);
        if (s_dead_decode(&v, d, pool) != 0) {
            free(pool);
            code = GLCI_OUTBOX_ECORRUPT;
            break;
        }
        l->n++;
    }
    if (code == 0 && rc != 0 && rc != MDB_NOTFOUND)
        code = glci_outbox_code(rc);
out:
    if (cur)
        mdb_cursor_close(cur);
    glci_outbox_read_end(ob, &txn);
    if (code != 0)
        glci_outbox_dead_list_free(&l);
    *out = l;
    return code;
}

typedef struct {
    glci_outbox_t *ob;
    uint64_t upto;
    size_t gone;
} s_dead_del_ctx_t;

static int s_dead_del_cb(MDB_txn *txn, void *arg)
{
    s_dead_del_ctx_t *x = arg;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    x->gone = 0;
    int rc = mdb_cursor_open(txn, x->ob->dead, &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && glci_outbox_key_seq(&k) <= x->upto) {
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        x->gone++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int glci_outbox_dead_delete(glci_outbox_t *ob, uint64_t upto, size_t *deleted)
{
    s_dead_del_ctx_t x = {ob, upto, 0};
    int rc = glci_outbox_run(ob, s_dead_del_cb, &x);
    if (rc == 0 && deleted)
        *deleted = x.gone;
    return rc;
}

