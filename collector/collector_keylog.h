/* The collector's record of key events, private to collector/: which keys
 * were used (admitted at a handshake, or sending batches) and which were
 * refused (unknown, or their city revoked), written to the store in
 * batches (glci_store_key_record) and logged quietly.
 *
 * A refused handshake costs a table lookup in memory, never a store write:
 * events are merged per key in bounded tables and flushed at most every
 * flush_s seconds in one transaction (and at shutdown), so a flood of
 * strangers cannot turn into a flood of transactions, and the store's
 * refused-keys table keeps its bound. When the pending table is full the
 * least recently seen stranger is dropped from it (counted). Refusals are
 * logged once a minute at most (glci_log_repeat), with how many were
 * counted in between; `glci keys refused` lists every key.
 *
 * Single-threaded: the daemon's main loop only. Every write to the store
 * first calls the gate, when one is set: the daemon's waits there for the
 * group its store thread is ingesting, so the log never writes beside an
 * ingest (collector_daemon.c, "The store thread"). */
#ifndef GLCI_COLLECTOR_KEYLOG_H
#define GLCI_COLLECTOR_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include "glci_store.h"

typedef struct glci_collector_keylog glci_collector_keylog_t;

/* Distinct keys used between two writes: more than a collector's cities
 * have keys. When that many are pending, a use of one more key writes
 * them first (through the gate), wherever it is called from. */
#define GLCI_COLLECTOR_KEYLOG_USES_MAX 4096

/* A log writing into st (borrowed) every flush_s seconds (>= 1), keeping
 * at most bound refused keys in the store (0: GLCI_STORE_REFUSED_MAX). */
glci_collector_keylog_t *glci_collector_keylog_new(glci_store_t *st, size_t bound,
                                                   int64_t flush_s);

/* Lowers the bound of distinct used keys from GLCI_COLLECTOR_KEYLOG_USES_MAX
 * to max (1 to it, and no fewer than are pending: asserted), for the
 * daemon's test hook GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX, so that the early
 * write can be made with a few keys. */
void glci_collector_keylog_uses_max(glci_collector_keylog_t *kl, size_t max);

/* fn(arg) is called before each store write of the log (NULL: none). */
void glci_collector_keylog_gate(glci_collector_keylog_t *kl, void (*fn)(void *arg), void *arg);

/* Flushes what is pending (logging a failure), frees, NULLs *self. */
void glci_collector_keylog_free(glci_collector_keylog_t **self);

/* A handshake refused key (32 raw bytes) from addr (may be NULL) at now
 * (Unix seconds); mono_ms is the monotonic clock for the quiet log. */
void glci_collector_keylog_refused(glci_collector_keylog_t *kl, const unsigned char key[32],
                                   const char *addr, int64_t now, int64_t mono_ms);

/* The refusals counted by the quiet log since its last line: printed once
 * its minute is over (even if no key is refused again), or at once with
 * end (the collector stopping). mono_ms as for glci_collector_keylog_refused. */
void glci_collector_keylog_quiet(glci_collector_keylog_t *kl, int64_t mono_ms, int end);

/* key was admitted, or sent a batch, at now. */
void glci_collector_keylog_used(glci_collector_keylog_t *kl, const unsigned char key[32],
                                int64_t now);

/* Writes what is pending when flush_s has passed since the last write (or
 * always with force). Returns 0 (also when nothing was due), or the store's
 * code; on failure the events stay pending for the next try. */
int glci_collector_keylog_flush(glci_collector_keylog_t *kl, int64_t now, int force);

/* Events waiting (for tests): refused keys, used keys, strangers dropped
 * because the pending table was full. */
void glci_collector_keylog_pending(const glci_collector_keylog_t *kl, size_t *refused,
                                   size_t *used, uint64_t *dropped);

#endif
