/* The stored form of a result (schema 3): what an update rewrites apart
 * from what it does not.
 *
 * The engine's result of (city, P) is one block: header, area and focus
 * nodes, one slot per indicator (index/glci_index.h). Stored whole, every
 * update rewrote the whole block, so the bytes written per value grew with
 * the number of indicators (SPEC §3 rules that out; with 440 indicators the
 * block no longer fits a page and every rewrite moved overflow pages). From
 * schema 3 a result is stored as
 *   results  cityz | P i32         -> the head: header and nodes, then
 *                                     n_own u32 and 0 u32
 *   slots    cityz | P i32 | ind u16 -> the indicator's glci_slot_t, only
 *                                     while it is present
 * An update rewrites the head (its size depends on the areas and focus
 * areas only) and the slots it changed. n_own counts the present slots of
 * P's own period, so the rank view's "reported" flag (glci_result_reported)
 * is known without reading every slot.
 *
 * Schemas 1 and 2 stored the whole block under the results key; the sizes
 * differ (a head is never as large as a block), so a reader tells the two
 * forms apart record by record and a read-only open of an older store reads
 * it as it is. A writable open converts it (glci_store_result_put). */
#include "glci_store_int.h"

#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

size_t glci_store_head_size(const glci_framework_t *fw)
{
    return sizeof(glci_result_t) + (size_t)(fw->n_areas + fw->n_focus) * sizeof(glci_node_t) +
           S_HEAD_TAIL;
}

size_t glci_store_slot_key(unsigned char *k, const char *city, int32_t period, uint32_t ind)
{
    size_t n = glci_store_result_key(k, city, period);
    glci_be16_put(k + n, (uint16_t)ind);
    return n + 2;
}

uint32_t glci_store_result_own(const glci_framework_t *fw, const glci_result_t *r)
{
    const glci_slot_t *s = glci_result_slot_c(fw, r, 0);
    uint32_t n = 0;
    for (uint32_t i = 0; i < fw->n_ind; i++)
        n += s[i].present && s[i].period == r->period;
    return n;
}

void glci_store_head_decode(glci_store_t *st, const MDB_val *d, glci_result_t *dst,
                            uint32_t *own)
{
    size_t body = st->hsize - S_HEAD_TAIL;
    memcpy(dst, d->mv_data, body);
    memset((unsigned char *)dst + body, 0, st->rsize - body);
    if (own) {
        uint32_t o;
        memcpy(&o, (const unsigned char *)d->mv_data + body, sizeof o);
        *own = o;
    }
}

size_t glci_store_head_encode(glci_store_t *st, const glci_result_t *r, uint32_t own,
                              unsigned char *out)
{
    size_t body = st->hsize - S_HEAD_TAIL;
    uint32_t tail[2] = {own, 0};
    memcpy(out, r, body);
    memcpy(out + body, tail, sizeof tail);
    return st->hsize;
}

int glci_store_result_decode(glci_store_t *st, MDB_txn *txn, const char *city, int32_t period,
                             const MDB_val *d, glci_result_t *dst, size_t *n_slots)
{
    const glci_framework_t *fw = st->fw;
    if (n_slots)
        *n_slots = 0;
    if (d->mv_size == st->rsize) {          /* schemas 1 and 2: the whole block */
        memcpy(dst, d->mv_data, st->rsize);
        return 0;
    }
    if (d->mv_size != st->hsize)
        return GLCI_STORE_ECORRUPT;
    /* A head whose slots this handle cannot see: the store was converted
     * after a read-only open of its older form. */
    if (!st->has_db[S_DB_SLOTS])
        return GLCI_STORE_ESCHEMA;
    glci_store_head_decode(st, d, dst, NULL);

    unsigned char pk[S_CITYZ_MAX + 6];
    size_t plen = glci_store_result_key(pk, city, period);
    MDB_cursor *cur;
    MDB_val k = {plen, pk}, v;
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_SLOTS], &cur);
    if (rc != 0)
        return glci_store_code(rc);
    glci_slot_t *slots = glci_result_slot(fw, dst, 0);
    size_t n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, pk, plen) != 0)
            break;
        uint32_t ind = k.mv_size == plen + 2
                           ? glci_be16_get((const unsigned char *)k.mv_data + plen)
                           : UINT32_MAX;
        if (ind >= fw->n_ind || v.mv_size != sizeof(glci_slot_t)) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(&slots[ind], v.mv_data, sizeof(glci_slot_t));
        n++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return glci_store_code(rc);
    if (n_slots)
        *n_slots = n;
    return 0;
}

int glci_store_result_put(glci_store_t *st, MDB_txn *txn, const char *city,
                          const glci_result_t *r)
{
    const glci_framework_t *fw = st->fw;
    unsigned char k[S_CITYZ_MAX + 6];
    unsigned char *head = glci_xmalloc(st->hsize);
    const glci_slot_t *slots = glci_result_slot_c(fw, r, 0);
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < fw->n_ind; i++) {
        if (!slots[i].present)
            continue;
        MDB_val key = {glci_store_slot_key(k, city, r->period, i), k};
        MDB_val val = {sizeof(glci_slot_t), (void *)&slots[i]};
        rc = mdb_put(txn, st->dbi[S_DB_SLOTS], &key, &val, 0);
    }
    if (rc == 0) {
        MDB_val key = {glci_store_result_key(k, city, r->period), k};
        MDB_val val = {glci_store_head_encode(st, r, glci_store_result_own(fw, r), head), head};
        rc = mdb_put(txn, st->dbi[S_DB_RESULTS], &key, &val, 0);
    }
    free(head);
    return rc;
}
