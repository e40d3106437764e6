/* The outbox's retained acked batches (glci_outbox.h): kept after their
 * ack for a window bounded by age and bytes, so that batches a collector
 * lost after acknowledging them (its store restored from an older backup)
 * can be sent again on the same stream.
 *
 * A retained record is the ack time (i64 little-endian) followed by the
 * batch record exactly as the batches table held it, checksum included:
 * what is resent is byte for byte what was acked. Meta r_bytes holds the
 * bytes of the retained batch records (the ack times not counted), which
 * retain_bytes bounds.
 *
 * Acks come in number order and each stamps its batches with its time, so
 * the oldest batch is also the one acked first (a wall clock moved back
 * can break that; pruning still goes by number, so the retained numbers
 * stay one contiguous range ending just below the oldest undelivered
 * batch, which the sender's resend relies on). */
#include <stdlib.h>
#include <string.h>

#include "glci_outbox_int.h"

static int s_policy_on(const glci_outbox_t *ob)
{
    return ob->retain_s > 0 && ob->retain_bytes > 0;
}

int glci_outbox_retained_put(MDB_txn *txn, glci_outbox_t *ob, uint64_t seq,
                             const MDB_val *record, int64_t acked_at)
{
    unsigned char key[8];
    glci_outbox_seq_key(seq, key);
    MDB_val kv = {8, key}, old;
    uint64_t r_bytes = glci_outbox_meta_u64(txn, ob->meta, "r_bytes", 0);
    int rc = mdb_get(txn, ob->retained, &kv, &old);
    if (rc == 0) {
        size_t was = old.mv_size > S_RETAINED_HDR ? old.mv_size - S_RETAINED_HDR : 0;
        r_bytes = r_bytes > was ? r_bytes - was : 0;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    MDB_val vv = {S_RETAINED_HDR + record->mv_size, NULL};
    if ((rc = mdb_put(txn, ob->retained, &kv, &vv, MDB_RESERVE)) != 0)
        return rc;
    glci_outbox_le_put(vv.mv_data, (uint64_t)acked_at, 8);
    memcpy((unsigned char *)vv.mv_data + S_RETAINED_HDR, record->mv_data, record->mv_size);
    return glci_outbox_meta_put_u64(txn, ob->meta, "r_bytes", r_bytes + record->mv_size);
}

/* Walks the retained table from its oldest batch, deleting while keep()
 * says no; keeps r_bytes right. */
typedef int (*s_keep_fn)(const glci_outbox_t *ob, uint64_t seq, int64_t acked_at,
                         uint64_t r_bytes, int64_t now, uint64_t upto);

static int s_drop_while(MDB_txn *txn, glci_outbox_t *ob, s_keep_fn keep, int64_t now,
                        uint64_t upto, uint64_t *dropped)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint64_t r_bytes = glci_outbox_meta_u64(txn, ob->meta, "r_bytes", 0), n = 0;
    int rc = mdb_cursor_open(txn, ob->retained, &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int64_t acked_at = v.mv_size >= S_RETAINED_HDR
                               ? (int64_t)glci_outbox_le_get(v.mv_data, 8) : 0;
        if (keep(ob, glci_outbox_key_seq(&k), acked_at, r_bytes, now, upto))
            break;
        size_t len = v.mv_size > S_RETAINED_HDR ? v.mv_size - S_RETAINED_HDR : 0;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        r_bytes = r_bytes > len ? r_bytes - len : 0;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (dropped)
        *dropped = n;
    return n ? glci_outbox_meta_put_u64(txn, ob->meta, "r_bytes", r_bytes) : 0;
}

/* The policy: younger than retain_s and within retain_bytes. */
static int s_keep_by_policy(const glci_outbox_t *ob, uint64_t seq, int64_t acked_at,
                            uint64_t r_bytes, int64_t now, uint64_t upto)
{
    (void)seq;
    (void)upto;
    if (!s_policy_on(ob))
        return 0;
    return now - acked_at <= ob->retain_s && r_bytes <= ob->retain_bytes;
}

static int s_keep_above(const glci_outbox_t *ob, uint64_t seq, int64_t acked_at,
                        uint64_t r_bytes, int64_t now, uint64_t upto)
{
    (void)ob;
    (void)acked_at;
    (void)r_bytes;
    (void)now;
    return seq > upto;
}

int glci_outbox_retained_prune(MDB_txn *txn, glci_outbox_t *ob, int64_t now,
                               uint64_t *dropped)
{
    return s_drop_while(txn, ob, s_keep_by_policy, now, 0, dropped);
}

int glci_outbox_retained_drop_txn(MDB_txn *txn, glci_outbox_t *ob, uint64_t upto,
                                  uint64_t *dropped)
{
    return s_drop_while(txn, ob, s_keep_above, 0, upto, dropped);
}

typedef struct {
    glci_outbox_t *ob;
    int64_t now;
    uint64_t upto;            /* drop: the newest number to go */
    uint64_t dropped;
} s_prune_ctx_t;

static int s_prune_cb(MDB_txn *txn, void *arg)
{
    s_prune_ctx_t *x = arg;
    return glci_outbox_retained_prune(txn, x->ob, x->now, &x->dropped);
}

int glci_outbox_retain(glci_outbox_t *ob, int64_t retain_s, uint64_t retain_bytes,
                       int64_t now, uint64_t *dropped)
{
    ob->retain_s = retain_s > 0 && retain_bytes > 0 ? retain_s : 0;
    ob->retain_bytes = retain_s > 0 && retain_bytes > 0 ? retain_bytes : 0;
    s_prune_ctx_t x = {.ob = ob, .now = now};
    int rc = glci_outbox_run(ob, s_prune_cb, &x);
    if (rc == 0 && dropped)
        *dropped = x.dropped;
    return rc;
}

static int s_drop_cb(MDB_txn *txn, void *arg)
{
    s_prune_ctx_t *x = arg;
    return glci_outbox_retained_drop_txn(txn, x->ob, x->upto, &x->dropped);
}

int glci_outbox_retained_drop(glci_outbox_t *ob, uint64_t upto, uint64_t *dropped)
{
    s_prune_ctx_t x = {.ob = ob, .upto = upto};
    int rc = glci_outbox_run(ob, s_drop_cb, &x);
    if (rc == 0 && dropped)
        *dropped = x.dropped;
    return rc;
}

int glci_outbox_retained_range(glci_outbox_t *ob, uint64_t *first, uint64_t *last)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    *first = *last = 0;
    int rc = glci_outbox_read_begin(ob, &txn);
    if (rc != 0)
        return glci_outbox_code(rc);
    if ((rc = mdb_cursor_open(txn, ob->retained, &cur)) == 0) {
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0)
            *first = glci_outbox_key_seq(&k);
        if (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) == 0)
            *last = glci_outbox_key_seq(&k);
        mdb_cursor_close(cur);
    }
    glci_outbox_read_end(ob, &txn);
    if (rc != 0)
        *first = *last = 0;
    return glci_outbox_code(rc);
}

int glci_outbox_retained_read(glci_outbox_t *ob, uint64_t seq, glci_outbox_batch_t **out)
{
    return glci_outbox_read_record(ob, ob->retained, S_RETAINED_HDR, seq, out);
}

typedef struct {
    glci_outbox_t *ob;
    uint64_t first, last;
    int64_t now;
} s_resend_ctx_t;

static int s_resend_cb(MDB_txn *txn, void *arg)
{
    s_resend_ctx_t *x = arg;
    return glci_outbox_meta_event_put(txn, x->ob->meta, "resent", x->ob->stream, x->first,
                                      x->last, x->now);
}

int glci_outbox_note_resend(glci_outbox_t *ob, uint64_t first, uint64_t last, int64_t now)
{
    if (first == 0 || first > last)
        return GLCI_OUTBOX_EINVAL;
    s_resend_ctx_t x = {ob, first, last, now};
    return glci_outbox_run(ob, s_resend_cb, &x);
}
