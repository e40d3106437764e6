/* The agent's durable outbox: one LMDB environment in a folder on local disk
 * holding the batches a city has accepted and the collector has not yet
 * acknowledged. See docs/AGENT.md.
 *
 * - A new outbox gets a random 64-bit stream id (libsodium randombytes_buf).
 * - Observations are grouped into batches that get their sequence number
 *   (1, 2, 3...) when they are stored, in the same transaction, never when
 *   they are sent. Sequence numbers in the outbox are always contiguous:
 *   batches leave only from the head, when acknowledged.
 * - An ack deletes every batch at or below the acked number in the one
 *   transaction that also records the ack time.
 * - A size limit (bytes of batch records) makes new input fail with EFULL;
 *   nothing old is ever dropped to make room.
 * - Each record carries a checksum. A record that fails it is quarantined
 *   (moved, intact, to a quarantine table) and replaced by an empty batch of
 *   the same number, so delivery continues instead of stalling.
 * - Meta records let `status` (another process) read what the running
 *   daemon saw: last ack, connection state, dead-letter count.
 *
 * Several processes may open the same outbox at once (`push` while `run`
 * runs): LMDB's single-writer lock serialises writers. One process must not
 * open the same outbox twice.
 *
 * Errors: functions return 0 or a negative GLCI_OUTBOX_E* code;
 * glci_outbox_strerror() names it. open() also writes a one-line message
 * naming the folder into err. */
#ifndef GLCI_OUTBOX_H
#define GLCI_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

enum {
    GLCI_OUTBOX_OK       = 0,
    GLCI_OUTBOX_ENOENT   = -1,   /* no such batch (or the outbox is empty) */
    GLCI_OUTBOX_EFULL    = -2,   /* the size limit would be exceeded; nothing stored */
    GLCI_OUTBOX_ECORRUPT = -3,   /* a record fails its checksum or does not decode */
    GLCI_OUTBOX_EINVAL   = -4,   /* bad argument (string too long, n == 0...) */
    GLCI_OUTBOX_EIO      = -5,   /* LMDB or system error */
    GLCI_OUTBOX_ENOSPC   = -6,   /* the disk (or LMDB map) is full; nothing stored */
    GLCI_OUTBOX_EEXIST   = -7    /* the append's marker was recorded before: nothing stored */
};
const char *glci_outbox_strerror(int code);

typedef struct glci_outbox glci_outbox_t;

#define GLCI_OUTBOX_INDICATOR_MAX 64    /* bytes (the wire's cap) */
#define GLCI_OUTBOX_SOURCE_MAX    200   /* bytes (SPEC §5) */

/* One observation. Strings are NUL-terminated; source may be NULL. */
typedef struct {
    const char *indicator;
    int32_t period;
    double value;
    int64_t observed_at;      /* Unix seconds; 0 when unknown */
    const char *source;       /* NULL or "" when none */
} glci_outbox_obs_t;

/* A batch read back from the outbox. Owns its memory (strings included);
 * free with glci_outbox_batch_free. */
typedef struct {
    uint64_t seq;
    int64_t created;          /* Unix seconds when it was stored */
    size_t n_obs;
    glci_outbox_obs_t *obs;
} glci_outbox_batch_t;

void glci_outbox_batch_free(glci_outbox_batch_t **self);

#define GLCI_OUTBOX_NOCREATE 0x1u   /* open only an existing outbox (ENOENT if none) */

typedef struct {
    uint64_t limit;           /* bytes of batch records; 0: 1 GiB */
    unsigned flags;           /* GLCI_OUTBOX_NOCREATE */
} glci_outbox_opts_t;

#define GLCI_OUTBOX_DEFAULT_LIMIT (1024ull * 1024 * 1024)

/* Opens the outbox in dir, creating the folder (mode 0700) and a new outbox
 * with a fresh stream id if there is none (unless NOCREATE). opts may be
 * NULL. Runs mdb_reader_check. Returns 0, ENOENT (NOCREATE and no outbox),
 * EIO (message naming dir in err). */
int glci_outbox_open(const char *dir, const glci_outbox_opts_t *opts,
                     glci_outbox_t **out, char *err, size_t errlen);

/* Closes and sets *self to NULL; accepts NULL. */
void glci_outbox_close(glci_outbox_t **self);

/* The outbox's stream id (never 0). */
uint64_t glci_outbox_stream(const glci_outbox_t *ob);

/* Stores n observations as ceil(n / batch_max) batches, numbered from the
 * outbox's next sequence number, in ONE durable transaction: when this
 * returns 0 they survive a crash. *first / *last (may be NULL) receive the
 * numbers given. `marker` (may be NULL) names the input, e.g. a spool
 * file's identity: it is recorded in the same transaction, and if it is
 * already recorded nothing is stored and EEXIST is returned (the input was
 * taken before). Other errors: EINVAL (n == 0, batch_max == 0, an
 * indicator empty or longer than GLCI_OUTBOX_INDICATOR_MAX, a source
 * longer than GLCI_OUTBOX_SOURCE_MAX), EFULL, ENOSPC, EIO. */
int glci_outbox_append(glci_outbox_t *ob, const glci_outbox_obs_t *obs, size_t n,
                       size_t batch_max, int64_t now, const char *marker,
                       uint64_t *first, uint64_t *last);

/* 1 if marker was recorded by an earlier append, 0 if not, or a code. */
int glci_outbox_has_marker(glci_outbox_t *ob, const char *marker);

/* The sequence number the next stored batch will get (fresh read
 * transaction: sees every batch committed by any process). */
int glci_outbox_next_seq(glci_outbox_t *ob, uint64_t *next);

/* The number of the oldest batch still in the outbox; ENOENT if empty. */
int glci_outbox_first_seq(glci_outbox_t *ob, uint64_t *seq);

/* Reads batch seq into a new batch (*out, caller frees). ENOENT if there is
 * no such batch, ECORRUPT if its record fails its checksum (call
 * glci_outbox_quarantine, then read again). */
int glci_outbox_read(glci_outbox_t *ob, uint64_t seq, glci_outbox_batch_t **out);

/* Moves the record of batch seq, as it is, to the quarantine table and puts
 * an empty batch with the same number in its place. ENOENT if absent. */
int glci_outbox_quarantine(glci_outbox_t *ob, uint64_t seq, int64_t now);

/* Records a cumulative ack: deletes every batch with a number <= acked,
 * records the ack time `now` and adds n_rejects to the dead-letter count,
 * in one durable transaction. Acks below the recorded one change nothing
 * but the time. *deleted (may be NULL) receives the number of batches
 * removed. */
int glci_outbox_ack(glci_outbox_t *ob, uint64_t acked, int64_t now,
                    uint64_t n_rejects, size_t *deleted);

/* Records the daemon's connection state (a short word such as
 * "connected") and since when, for `status`. */
int glci_outbox_set_state(glci_outbox_t *ob, const char *state, int64_t now);

typedef struct {
    uint64_t stream;
    uint64_t next_seq;
    uint64_t batches;         /* undelivered batches */
    uint64_t observations;    /* undelivered observations */
    uint64_t bytes;           /* bytes of undelivered batch records */
    uint64_t limit;
    int64_t oldest;           /* creation time of the oldest batch; 0 when empty */
    uint64_t acked;           /* highest acked sequence number; 0 never */
    int64_t last_ack;         /* Unix seconds; 0 never */
    char state[32];           /* "" when no daemon has recorded one */
    int64_t state_since;
    uint64_t rejects;         /* observations written to the dead-letter file */
    uint64_t quarantined;     /* records moved to quarantine */
    int64_t created;          /* when the outbox was made */
} glci_outbox_status_t;

/* Fills *out from one read transaction. */
int glci_outbox_status(glci_outbox_t *ob, glci_outbox_status_t *out);

#endif
