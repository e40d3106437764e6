/* The outbox's repairs (glci_outbox.h): a record moved to quarantine with
 * an empty batch in its place, and the moves onto a new stream after the
 * collector lost acknowledged batches (rebase) or held other content under
 * this outbox's numbers (restream). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_outbox_int.h"

typedef struct {
    glci_outbox_t *ob;
    uint64_t seq;
    int64_t now;
    uint64_t n_rejects;
    const glci_outbox_dead_t *dead;
    size_t n_dead;
} s_quarantine_ctx_t;

static int s_quarantine_cb(MDB_txn *txn, void *arg)
{
    s_quarantine_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    unsigned char key[8];
    glci_outbox_seq_key(x->seq, key);
    MDB_val kv = {8, key}, vv;
    int rc;
    if ((rc = mdb_get(txn, ob->batches, &kv, &vv)) != 0)
        return rc == MDB_NOTFOUND ? GLCI_OUTBOX_ENOENT : rc;
    uint32_t n_bad = 0;
    if (!glci_outbox_record_header(&vv, NULL, &n_bad))
        n_bad = 0;
    uint64_t bytes = glci_outbox_meta_u64(txn, ob->meta, "bytes", 0);
    uint64_t count = glci_outbox_meta_u64(txn, ob->meta, "obs", 0);
    size_t old_len = vv.mv_size;
    if ((rc = mdb_put(txn, ob->quarantine, &kv, &vv, 0)) != 0)
        return rc;
    unsigned char empty[S_HDR_LEN + S_SUM_LEN];
    glci_outbox_record_encode(NULL, 0, x->now, empty, sizeof empty);
    MDB_val ev = {sizeof empty, empty};
    if ((rc = mdb_put(txn, ob->batches, &kv, &ev, 0)) != 0)
        return rc;
    bytes = bytes > old_len ? bytes - old_len : 0;
    count = count > n_bad ? count - n_bad : 0;
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "bytes", bytes + sizeof empty)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "obs", count)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "quarantined",
                             glci_outbox_meta_u64(txn, ob->meta, "quarantined", 0) + 1)) != 0)
        return rc;
    if (x->n_rejects &&
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "rejects",
                             glci_outbox_meta_u64(txn, ob->meta, "rejects", 0) + x->n_rejects)) != 0)
        return rc;
    return glci_outbox_dead_put(txn, ob, x->dead, x->n_dead);
}

int glci_outbox_quarantine(glci_outbox_t *ob, uint64_t seq, int64_t now)
{
    return glci_outbox_quarantine_rejected(ob, seq, now, 0);
}

int glci_outbox_quarantine_rejected(glci_outbox_t *ob, uint64_t seq, int64_t now,
                                    uint64_t n_rejects)
{
    s_quarantine_ctx_t x = {.ob = ob, .seq = seq, .now = now, .n_rejects = n_rejects};
    return glci_outbox_run(ob, s_quarantine_cb, &x);
}

int glci_outbox_quarantine_dead(glci_outbox_t *ob, uint64_t seq, int64_t now,
                                const glci_outbox_dead_t *dead, size_t n_dead)
{
    if (glci_outbox_dead_check(dead, n_dead) != 0)
        return GLCI_OUTBOX_EINVAL;
    s_quarantine_ctx_t x = {.ob = ob, .seq = seq, .now = now, .dead = dead,
                            .n_dead = n_dead};
    return glci_outbox_run(ob, s_quarantine_cb, &x);
}

typedef struct {
    glci_outbox_t *ob;
    uint64_t lost_first, lost_last, stream;
    int64_t now;
    uint64_t kept;
    int restream;             /* glci_outbox_restream: no lost range; drop these */
    const uint64_t *drop;
    size_t n_drop;
    uint64_t n_rejects;
} s_rebase_ctx_t;

static int s_dropped(const s_rebase_ctx_t *x, uint64_t seq)
{
    for (size_t i = 0; i < x->n_drop; i++)
        if (x->drop[i] == seq)
            return 1;
    return 0;
}

/* Renumbers the batches from 1 in key order: each record is copied out,
 * its old key deleted and the copy put under the new number. New numbers
 * are below every old number not yet moved (the first batch is above 1),
 * so the walk from `from` upwards never meets a moved record. */
static int s_rebase_cb(MDB_txn *txn, void *arg)
{
    s_rebase_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    MDB_cursor *cur = NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    int rc;
    x->kept = 0;
    uint64_t old_stream = glci_outbox_meta_u64(txn, ob->meta, "stream", 0);
    uint64_t next = glci_outbox_meta_u64(txn, ob->meta, "next_seq", 1);
    uint64_t first = next;
    if ((rc = mdb_cursor_open(txn, ob->batches, &cur)) != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0)
        first = glci_outbox_key_seq(&k);
    else if (rc != MDB_NOTFOUND)
        goto done;
    if ((!x->restream && x->lost_last + 1 != first) || x->stream == old_stream) {
        rc = GLCI_OUTBOX_EINVAL;
        goto done;
    }
    uint64_t from = first, dropped_bytes = 0, dropped_obs = 0;
    while (from < next) {
        unsigned char key[8];
        glci_outbox_seq_key(from, key);
        k.mv_size = 8;
        k.mv_data = key;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc != 0)
            goto done;
        uint64_t seq = glci_outbox_key_seq(&k);
        if (v.mv_size > cap) {
            cap = v.mv_size;
            free(buf);
            buf = glci_xmalloc(cap);
        }
        memcpy(buf, v.mv_data, v.mv_size);
        MDB_val copy = {v.mv_size, buf};
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            goto done;
        if (x->restream && s_dropped(x, seq)) {
            uint32_t n_obs = 0;
            if (!glci_outbox_record_header(&copy, NULL, &n_obs))
                n_obs = 0;
            dropped_bytes += copy.mv_size;
            dropped_obs += n_obs;
            from = seq + 1;
            continue;
        }
        unsigned char nkey[8];
        glci_outbox_seq_key(++x->kept, nkey);
        MDB_val nk = {8, nkey};
        if ((rc = mdb_put(txn, ob->batches, &nk, &copy, MDB_NOOVERWRITE)) != 0)
            goto done;
        from = seq + 1;
    }
    rc = 0;
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "stream", x->stream)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "next_seq", x->kept + 1)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "acked", 0)) != 0)
        goto done;
    if (x->restream) {
        uint64_t bytes = glci_outbox_meta_u64(txn, ob->meta, "bytes", 0);
        uint64_t count = glci_outbox_meta_u64(txn, ob->meta, "obs", 0);
        bytes = bytes > dropped_bytes ? bytes - dropped_bytes : 0;
        count = count > dropped_obs ? count - dropped_obs : 0;
        if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "bytes", bytes)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, ob->meta, "obs", count)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, ob->meta, "rejects",
                                 glci_outbox_meta_u64(txn, ob->meta, "rejects", 0) + x->n_rejects)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, ob->meta, "clash_stream", old_stream)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, ob->meta, "clash_at", (uint64_t)x->now)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, ob->meta, "clash_events",
                                 glci_outbox_meta_u64(txn, ob->meta, "clash_events", 0) + 1)) != 0)
            goto done;
        goto done;
    }
    if ((rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_stream", old_stream)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_stream", old_stream)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_first", x->lost_first)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_last", x->lost_last)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_at", (uint64_t)x->now)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_events",
                             glci_outbox_meta_u64(txn, ob->meta, "lost_events", 0) + 1)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, ob->meta, "lost_batches",
                             glci_outbox_meta_u64(txn, ob->meta, "lost_batches", 0) +
                             (x->lost_last - x->lost_first + 1))) != 0)
        goto done;
done:
    mdb_cursor_close(cur);
    free(buf);
    return rc;
}

/* Runs a move onto a new random stream (a rebase or a restream) and adopts
 * the new stream on success. */
static int s_move(glci_outbox_t *ob, s_rebase_ctx_t *x, uint64_t *new_stream, uint64_t *kept)
{
    while (x->stream == 0 || x->stream == ob->stream)
        randombytes_buf(&x->stream, sizeof x->stream);
    int rc = glci_outbox_run(ob, s_rebase_cb, x);
    if (rc != 0)
        return rc;
    ob->stream = x->stream;
    if (new_stream)
        *new_stream = x->stream;
    if (kept)
        *kept = x->kept;
    return GLCI_OUTBOX_OK;
}

int glci_outbox_rebase(glci_outbox_t *ob, uint64_t lost_first, uint64_t lost_last,
                       int64_t now, uint64_t *new_stream, uint64_t *kept)
{
    if (lost_first == 0 || lost_first > lost_last)
        return GLCI_OUTBOX_EINVAL;
    s_rebase_ctx_t x = {.ob = ob, .lost_first = lost_first, .lost_last = lost_last,
                        .now = now};
    return s_move(ob, &x, new_stream, kept);
}

int glci_outbox_restream(glci_outbox_t *ob, const uint64_t *drop, size_t n_drop,
                         uint64_t n_rejects, int64_t now, uint64_t *new_stream,
                         uint64_t *kept)
{
    s_rebase_ctx_t x = {.ob = ob, .now = now, .restream = 1, .drop = drop,
                        .n_drop = n_drop, .n_rejects = n_rejects};
    return s_move(ob, &x, new_stream, kept);
}

