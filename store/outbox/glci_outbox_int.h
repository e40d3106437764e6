/* Internals of the agent's outbox shared by its source files
 * (glci_outbox.c: open, batches, acks, status; glci_outbox_dead.c: dead
 * letters; glci_outbox_move.c: quarantine, rebase, restream;
 * glci_outbox_retain.c: the retained acked batches). The record layouts
 * are described in glci_outbox.c. */
#ifndef GLCI_OUTBOX_INT_H
#define GLCI_OUTBOX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "glci_mdb.h"
#include "glci_outbox.h"

#define S_MAGIC "GOB1"
#define S_HDR_LEN (4 + 8 + 4)
#define S_OBS_FIXED (4 + 8 + 8 + 2 + 2)
#define S_SUM_LEN 16
/* The top bit of an observation's 2-byte indicator length marks a
 * retraction (ids are at most GLCI_OBS_INDICATOR_MAX bytes, so the bit was
 * always 0): its value bits are 0. A program older than retractions reads
 * the length as too long and refuses the record as corrupt, never as a
 * value. */
#define S_IL_RETRACT 0x8000u

struct glci_outbox {
    glci_mdb_t *mdb;
    MDB_dbi meta, batches, quarantine, markers, dead, retained;
    uint64_t limit;
    uint64_t stream;
    int64_t retain_s;         /* the retention policy; either 0: none */
    uint64_t retain_bytes;
    char run[GLCI_OUTBOX_RUN_LEN + 1];  /* glci_outbox_set_run's; "" none */
};

/* A retained record: the ack time (i64, little-endian), then the batch
 * record as it was. */
#define S_RETAINED_HDR 8

/* Little-endian integers of `bytes` bytes. */
void glci_outbox_le_put(unsigned char *p, uint64_t v, int bytes);
uint64_t glci_outbox_le_get(const unsigned char *p, int bytes);

/* 8-byte big-endian keys of batch numbers and dead-letter ids. */
void glci_outbox_seq_key(uint64_t seq, unsigned char key[8]);
uint64_t glci_outbox_key_seq(const MDB_val *k);

/* LMDB or errno code (or an outbox code, passed through) -> outbox code:
 * the one mapping of the helper layer's codes. */
int glci_outbox_code(int rc);

/* Meta u64 values (little-endian; dflt when absent). */
uint64_t glci_outbox_meta_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t dflt);
int glci_outbox_meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value);

/* An event kept in meta under PREFIX_stream, _first, _last, _at (the last
 * one's) and the totals PREFIX_events, PREFIX_batches ("lost": batches the
 * collector lost; "resent": retained batches it asked for again). _put
 * records one more, of last - first + 1 batches; _get reads them (0s when
 * none). */
int glci_outbox_meta_event_put(MDB_txn *txn, MDB_dbi dbi, const char *prefix, uint64_t stream,
                               uint64_t first, uint64_t last, int64_t at);
void glci_outbox_meta_event_get(MDB_txn *txn, MDB_dbi dbi, const char *prefix,
                                uint64_t *stream, uint64_t *first, uint64_t *last,
                                int64_t *at, uint64_t *events, uint64_t *batches);

size_t glci_outbox_strlen0(const char *s);

/* A batch record of obs[0..n) created at `created` into p (len bytes). */
void glci_outbox_record_encode(const glci_obs_t *obs, size_t n, int64_t created,
                               unsigned char *p, size_t len);

/* Header fields of a record without checking it; 0 if too short. */
int glci_outbox_record_header(const MDB_val *v, int64_t *created, uint32_t *n_obs);

/* A batch record (checksum checked) into a new batch numbered seq; ECORRUPT. */
int glci_outbox_record_decode(const MDB_val *v, uint64_t seq, glci_outbox_batch_t **out);

/* Reads record seq of dbi, whose batch record starts `skip` bytes in, into
 * a new batch (glci_outbox_read's contract). */
int glci_outbox_read_record(glci_outbox_t *ob, MDB_dbi dbi, size_t skip, uint64_t seq,
                            glci_outbox_batch_t **out);

/* Keeps the record of acked batch seq in the retained table, stamped with
 * acked_at, in txn (a retained record of that number is replaced). */
int glci_outbox_retained_put(MDB_txn *txn, glci_outbox_t *ob, uint64_t seq,
                             const MDB_val *record, int64_t acked_at);

/* Prunes the retained table by the handle's policy at `now`, oldest first;
 * *dropped (may be NULL) counts the batches that went. */
int glci_outbox_retained_prune(MDB_txn *txn, glci_outbox_t *ob, int64_t now,
                               uint64_t *dropped);

/* Drops the retained batches numbered <= upto (UINT64_MAX: all), in txn. */
int glci_outbox_retained_drop_txn(MDB_txn *txn, glci_outbox_t *ob, uint64_t upto,
                                  uint64_t *dropped);

/* Runs a write callback (glci_mdb_write); its own refusal code comes back
 * as it is, LMDB's are mapped. */
int glci_outbox_run(glci_outbox_t *ob, glci_mdb_write_fn fn, void *ctx);

/* Read transactions of the handle. */
int glci_outbox_read_begin(glci_outbox_t *ob, MDB_txn **txn);
void glci_outbox_read_end(glci_outbox_t *ob, MDB_txn **txn);

/* GLCI_OUTBOX_OK if an observation may be stored (glci_obs_check, and a
 * period within 32 bits), else EINVAL. */
int glci_outbox_obs_ok(const glci_obs_t *o);

/* EINVAL unless every dead letter may be stored. */
int glci_outbox_dead_check(const glci_outbox_dead_t *dead, size_t n);

/* Stores dead[0..n) under the next ids and adds n to the rejects count, in
 * txn. */
int glci_outbox_dead_put(MDB_txn *txn, glci_outbox_t *ob, const glci_outbox_dead_t *dead,
                         size_t n);

#endif
