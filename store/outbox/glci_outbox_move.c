/* The outbox's repairs (glci_outbox.h): a record moved to quarantine with
 * an empty batch in its place, and the moves onto a new stream after the
 * collector lost acknowledged batches older than the retention window
 * (rebase) or held other content under this outbox's numbers (restream). */
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
    uint64_t kept, retained;
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

/* The lowest number in dbi, or dflt when it is empty. */
static int s_first_key(MDB_txn *txn, MDB_dbi dbi, uint64_t dflt, uint64_t *first)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    *first = rc == 0 ? glci_outbox_key_seq(&k) : dflt;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Renumbers the records of dbi from *n + 1 in key order: each record is
 * copied out, its old key deleted and the copy put under the new number
 * (a number in x->drop, with `drops`, is deleted instead, its bytes and
 * observations counted). New numbers are never above the old ones (the
 * table's first record is numbered above *n), so the walk upwards never
 * meets a moved record. */
static int s_renumber(MDB_txn *txn, MDB_dbi dbi, const s_rebase_ctx_t *x, int drops,
                      uint64_t *n, uint64_t *dropped_bytes, uint64_t *dropped_obs)
{
    MDB_cursor *cur = NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    uint64_t from = 0;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    for (;;) {
        unsigned char key[8];
        glci_outbox_seq_key(from, key);
        k.mv_size = 8;
        k.mv_data = key;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc != 0)
            break;
        uint64_t seq = glci_outbox_key_seq(&k);
        if (v.mv_size > cap) {
            cap = v.mv_size;
            free(buf);
            buf = glci_xmalloc(cap);
        }
        memcpy(buf, v.mv_data, v.mv_size);
        MDB_val copy = {v.mv_size, buf};
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        from = seq + 1;
        if (drops && s_dropped(x, seq)) {
            uint32_t n_obs = 0;
            if (!glci_outbox_record_header(&copy, NULL, &n_obs))
                n_obs = 0;
            *dropped_bytes += copy.mv_size;
            *dropped_obs += n_obs;
            continue;
        }
        unsigned char nkey[8];
        glci_outbox_seq_key(++*n, nkey);
        MDB_val nk = {8, nkey};
        if ((rc = mdb_put(txn, dbi, &nk, &copy, MDB_NOOVERWRITE)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    free(buf);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A rebase keeps the retained batches (numbered first, still retained) and
 * moves the undelivered ones after them; a restream drops the retained
 * ones and renumbers the undelivered ones without those in x->drop. */
static int s_rebase_cb(MDB_txn *txn, void *arg)
{
    s_rebase_ctx_t *x = arg;
    glci_outbox_t *ob = x->ob;
    MDB_dbi m = ob->meta;
    int rc;
    x->kept = x->retained = 0;
    uint64_t old_stream = glci_outbox_meta_u64(txn, m, "stream", 0);
    uint64_t next = glci_outbox_meta_u64(txn, m, "next_seq", 1);
    uint64_t first = next, first_retained = 0;
    if ((rc = s_first_key(txn, ob->batches, next, &first)) != 0 ||
        (rc = s_first_key(txn, ob->retained, 0, &first_retained)) != 0)
        return rc;
    if ((!x->restream && x->lost_last + 1 != (first_retained ? first_retained : first)) ||
        x->stream == old_stream)
        return GLCI_OUTBOX_EINVAL;
    uint64_t n = 0, dropped_bytes = 0, dropped_obs = 0;
    if (x->restream)
        rc = glci_outbox_retained_drop_txn(txn, ob, UINT64_MAX, NULL);
    else
        rc = s_renumber(txn, ob->retained, x, 0, &n, &dropped_bytes, &dropped_obs);
    if (rc != 0)
        return rc;
    x->retained = n;
    if ((rc = s_renumber(txn, ob->batches, x, x->restream, &n, &dropped_bytes,
                         &dropped_obs)) != 0)
        return rc;
    x->kept = n - x->retained;
    if ((rc = glci_outbox_meta_put_u64(txn, m, "stream", x->stream)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, m, "next_seq", n + 1)) != 0 ||
        (rc = glci_outbox_meta_put_u64(txn, m, "acked", x->retained)) != 0)
        return rc;
    if (x->restream) {
        uint64_t bytes = glci_outbox_meta_u64(txn, m, "bytes", 0);
        uint64_t count = glci_outbox_meta_u64(txn, m, "obs", 0);
        bytes = bytes > dropped_bytes ? bytes - dropped_bytes : 0;
        count = count > dropped_obs ? count - dropped_obs : 0;
        if ((rc = glci_outbox_meta_put_u64(txn, m, "bytes", bytes)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, m, "obs", count)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, m, "rejects",
                                 glci_outbox_meta_u64(txn, m, "rejects", 0) + x->n_rejects)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, m, "clash_stream", old_stream)) != 0 ||
            (rc = glci_outbox_meta_put_u64(txn, m, "clash_at", (uint64_t)x->now)) != 0)
            return rc;
        return glci_outbox_meta_put_u64(txn, m, "clash_events",
                                        glci_outbox_meta_u64(txn, m, "clash_events", 0) + 1);
    }
    return glci_outbox_meta_event_put(txn, m, "lost", old_stream, x->lost_first, x->lost_last,
                                      x->now);
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
                       int64_t now, uint64_t *new_stream, uint64_t *kept,
                       uint64_t *retained)
{
    if (lost_first == 0 || lost_first > lost_last)
        return GLCI_OUTBOX_EINVAL;
    s_rebase_ctx_t x = {.ob = ob, .lost_first = lost_first, .lost_last = lost_last,
                        .now = now};
    int rc = s_move(ob, &x, new_stream, kept);
    if (rc == 0 && retained)
        *retained = x.retained;
    return rc;
}

int glci_outbox_restream(glci_outbox_t *ob, const uint64_t *drop, size_t n_drop,
                         uint64_t n_rejects, int64_t now, uint64_t *new_stream,
                         uint64_t *kept)
{
    s_rebase_ctx_t x = {.ob = ob, .now = now, .restream = 1, .drop = drop,
                        .n_drop = n_drop, .n_rejects = n_rejects};
    return s_move(ob, &x, new_stream, kept);
}

