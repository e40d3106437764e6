/* The stored form of a result (schema 3): what an update rewrites apart
 * from what it does not.
 *
 * The engine's result of (city, P) is one block: header, area and focus
 * nodes, one slot per indicator (index/glci_index.h). Stored whole, every
 * update rewrote the whole block, so the bytes written per value grew with
 * the number of indicators (SPEC §3 rules that out; with 440 indicators the
 * block no longer fits a page and every rewrite moved overflow pages). From
 * schema 3 a result is stored as
 *   results  cityz | P i32             -> the head: header and nodes, then
 *                                         n_own u32 and 0 u32
 *   slots    cityz | P i32 | chunk u16 -> the chunk's glci_slot_t array,
 *                                         only while one of them is present
 * A chunk is a run of at most GLCI_STORE_CHUNK indicators of one focus area
 * in the focus area's order (the order the engine sums them in), so the
 * slots one update may change and the engine reads (those of its focus
 * area) are one or a few records, and no record is larger than
 * GLCI_STORE_CHUNK slots however many indicators the framework has. An
 * update rewrites the head (its size depends on the areas and focus areas
 * only) and the chunks whose slots it changed. Chunks rather than one
 * record per slot: the shipped framework's focus areas hold 3 to 5
 * indicators, and a B-tree operation per slot cost more than the bytes it
 * saved (docs/PERFORMANCE.md, "Ingest"). n_own counts the present slots of
 * P's own period, so the rank view's "reported" flag
 * (glci_result_reported) is known without reading every slot.
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

size_t glci_store_slot_key(unsigned char *k, const char *city, int32_t period, uint32_t chunk)
{
    size_t n = glci_store_result_key(k, city, period);
    glci_be16_put(k + n, (uint16_t)chunk);
    return n + 2;
}

void glci_store_chunks_init(glci_store_t *st)
{
    const glci_framework_t *fw = st->fw;
    size_t n = 0;
    for (uint32_t f = 0; f < fw->n_focus; f++)
        n += (fw->focus[f].n_ind + GLCI_STORE_CHUNK - 1) / GLCI_STORE_CHUNK;
    st->chunks = glci_xcalloc(n ? n : 1, sizeof *st->chunks);
    st->focus_chunk = glci_xcalloc((size_t)fw->n_focus + 1, sizeof *st->focus_chunk);
    st->ind_chunk = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *st->ind_chunk);
    uint32_t c = 0;
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_focus_t *fo = &fw->focus[f];
        st->focus_chunk[f] = c;
        for (uint32_t j = 0; j < fo->n_ind; j += GLCI_STORE_CHUNK, c++) {
            st->chunks[c].focus = f;
            st->chunks[c].first = j;
            st->chunks[c].n = fo->n_ind - j < GLCI_STORE_CHUNK ? fo->n_ind - j
                                                               : GLCI_STORE_CHUNK;
            for (uint32_t q = 0; q < st->chunks[c].n; q++)
                st->ind_chunk[fo->ind[j + q]] = c;
        }
    }
    st->focus_chunk[fw->n_focus] = c;
    st->n_chunks = c;
}

void glci_store_chunks_release(glci_store_t *st)
{
    free(st->chunks);
    free(st->focus_chunk);
    free(st->ind_chunk);
    st->chunks = NULL;
    st->focus_chunk = st->ind_chunk = NULL;
}

size_t glci_store_chunk_encode(glci_store_t *st, const glci_result_t *r, uint32_t c,
                               glci_slot_t *out)
{
    const glci_framework_t *fw = st->fw;
    const glci_store_chunk_t *ch = &st->chunks[c];
    const uint32_t *ind = fw->focus[ch->focus].ind + ch->first;
    int any = 0;
    for (uint32_t q = 0; q < ch->n; q++) {
        out[q] = *glci_result_slot_c(fw, r, ind[q]);
        any |= out[q].present != 0;
    }
    return any ? ch->n * sizeof *out : 0;
}

int glci_store_chunk_decode(glci_store_t *st, uint32_t c, const MDB_val *v, glci_result_t *r)
{
    const glci_framework_t *fw = st->fw;
    if (c >= st->n_chunks || v->mv_size != st->chunks[c].n * sizeof(glci_slot_t))
        return GLCI_STORE_ECORRUPT;
    const glci_store_chunk_t *ch = &st->chunks[c];
    const uint32_t *ind = fw->focus[ch->focus].ind + ch->first;
    const unsigned char *p = v->mv_data;
    for (uint32_t q = 0; q < ch->n; q++)
        memcpy(glci_result_slot(fw, r, ind[q]), p + q * sizeof(glci_slot_t),
               sizeof(glci_slot_t));
    return 0;
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
    size_t n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, pk, plen) != 0)
            break;
        uint32_t c = k.mv_size == plen + 2
                         ? glci_be16_get((const unsigned char *)k.mv_data + plen)
                         : UINT32_MAX;
        if ((rc = glci_store_chunk_decode(st, c, &v, dst)) != 0)
            break;
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
    unsigned char k[S_CITYZ_MAX + 6];
    unsigned char *head = glci_xmalloc(st->hsize);
    glci_slot_t chunk[GLCI_STORE_CHUNK];
    int rc = 0;
    for (uint32_t c = 0; rc == 0 && c < st->n_chunks; c++) {
        MDB_val val = {glci_store_chunk_encode(st, r, c, chunk), chunk};
        if (val.mv_size == 0)
            continue;
        MDB_val key = {glci_store_slot_key(k, city, r->period, c), k};
        rc = mdb_put(txn, st->dbi[S_DB_SLOTS], &key, &val, 0);
    }
    if (rc == 0) {
        MDB_val key = {glci_store_result_key(k, city, r->period), k};
        MDB_val val = {glci_store_head_encode(st, r, glci_store_result_own(st->fw, r), head),
                       head};
        rc = mdb_put(txn, st->dbi[S_DB_RESULTS], &key, &val, 0);
    }
    free(head);
    return rc;
}
