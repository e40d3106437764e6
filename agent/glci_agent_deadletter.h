/* The dead-letter file, rejected.csv beside the spool folder (docs/AGENT.md):
 * the one module that writes it. Rows reach it two ways: straight from a
 * caller (glci_agent_deadletter_append), or from the outbox's dead-letter
 * table, where the sender stores rejected rows in the transaction of their
 * ack; glci_agent_deadletter_flush copies those to the file and then
 * deletes them (at least once in the file: a crash between the two writes
 * them again, identical).
 *
 * Errors: 0 or GLCI_AGENT_EIO with one line naming the file in err. */
#ifndef GLCI_AGENT_DEADLETTER_H
#define GLCI_AGENT_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "glci_obs.h"
#include "glci_outbox.h"

/* The dead-letter file's path for a spool folder: its parent's
 * rejected.csv. */
void glci_agent_deadletter_path(const char *spool, char *out, size_t outlen);

/* Appends rows to the dead-letter file (creating it with its header) and
 * fsyncs it. reasons[i] describes obs[i]; when is Unix seconds. 0 or EIO. */
int glci_agent_deadletter_append(const char *path, const glci_obs_t *obs,
                                 const char *const *reasons, size_t n, int64_t when,
                                 char *err, size_t errlen);

/* Appends dead letters read from the outbox (each with its own reason and
 * time) to the dead-letter file, creating it with its header, and fsyncs
 * it. 0 or EIO. */
int glci_agent_deadletter_write(const char *path, const glci_outbox_dead_t *rows, size_t n,
                                char *err, size_t errlen);

/* The flush of the outbox's dead letters into the file, as a value in its
 * owner (the sender): pending while rows may wait in the outbox, failing
 * while the file cannot be written (warned once per streak, retried every
 * GLCI_AGENT_DEADLETTER_RETRY_MS). */
typedef struct {
    int pending;
    int failing;
    int64_t next_ms;          /* monotonic ms of the next try */
} glci_agent_deadletter_t;

#define GLCI_AGENT_DEADLETTER_RETRY_MS 1000

/* Rows were stored in the outbox's table: flush at the next chance. */
void glci_agent_deadletter_stored(glci_agent_deadletter_t *dl);

/* If a flush is due (pending, now_ms past next_ms): copies the stored dead
 * letters of ob to path, fsynced, then deletes them from ob; logs what it
 * did. On failure the rows stay and the flush is tried again later. */
void glci_agent_deadletter_flush(glci_agent_deadletter_t *dl, glci_outbox_t *ob,
                                 const char *path, int64_t now_ms);

#endif
