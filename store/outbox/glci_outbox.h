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
 * - An outbox belongs to one city: the city it was made for is recorded in
 *   it (SPEC §4: a batch only ever writes its own city's data, and a stream
 *   id is known to the collector under one city only). An outbox made
 *   before this record existed adopts the city of the first opener that
 *   names one.
 * - Meta records let `status` (another process) read what the running
 *   daemon saw: last ack, connection state, dead-letter count, and batches
 *   the collector lost after acknowledging them (glci_outbox_rebase).
 * - Acked batches are retained (a table of their own, not counted against
 *   the size limit) for a retention window bounded by age and by bytes,
 *   oldest dropped first, pruned in the ack's transaction: if the
 *   collector's store is restored from an older backup, the agent resends
 *   them on the same stream (glci_outbox_retained_read). Retained batches
 *   are always the contiguous range of numbers just below the oldest
 *   undelivered batch (or next_seq when there is none).
 * - Dead letters (observations the collector rejected) are stored in a
 *   table of their own in the transaction that records the ack (or the
 *   quarantine) of their batch, so the ack never waits for the dead-letter
 *   file; the daemon copies them to the file afterwards and deletes them
 *   (glci_outbox_dead_list / glci_outbox_dead_delete).
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

#include "glci_obs.h"

enum {
    GLCI_OUTBOX_OK       = 0,
    GLCI_OUTBOX_ENOENT   = -1,   /* no such batch (or the outbox is empty) */
    GLCI_OUTBOX_EFULL    = -2,   /* the size limit would be exceeded; nothing stored */
    GLCI_OUTBOX_ECORRUPT = -3,   /* a record fails its checksum or does not decode */
    GLCI_OUTBOX_EINVAL   = -4,   /* bad argument (string too long, n == 0...) */
    GLCI_OUTBOX_EIO      = -5,   /* LMDB or system error */
    GLCI_OUTBOX_ENOSPC   = -6,   /* the disk (or LMDB map) is full; nothing stored */
    GLCI_OUTBOX_EEXIST   = -7,   /* the append's marker was recorded before: nothing stored */
    GLCI_OUTBOX_ECITY    = -8    /* the outbox belongs to another city (glci_outbox_open) */
};
const char *glci_outbox_strerror(int code);

typedef struct glci_outbox glci_outbox_t;

/* A batch read back from the outbox. Owns its memory (strings included);
 * free with glci_outbox_batch_free. Its observations are the ones stored,
 * with has_period and has_value set (an outbox holds only observations that
 * passed glci_obs_check) and source "" when there was none. */
typedef struct {
    uint64_t seq;
    int64_t created;          /* Unix seconds when it was stored */
    size_t n_obs;
    glci_obs_t *obs;
} glci_outbox_batch_t;

void glci_outbox_batch_free(glci_outbox_batch_t **self);

#define GLCI_OUTBOX_NOCREATE 0x1u   /* open only an existing outbox (ENOENT if none) */

typedef struct {
    uint64_t limit;           /* bytes of batch records; 0: 1 GiB */
    unsigned flags;           /* GLCI_OUTBOX_NOCREATE */
    /* The retention of acked batches (glci_outbox_retain): seconds since
     * the ack, and bytes of retained records. Either 0: nothing is
     * retained, and an ack drops what an earlier policy kept. Only the
     * process that records acks needs them (and bounds the map with
     * retain_bytes); the others may leave them 0. */
    int64_t retain_s;
    uint64_t retain_bytes;
    /* The city the opener acts for (NULL or "": none, nothing checked or
     * recorded). A new outbox records it; an outbox with no city recorded
     * (made by an older agent) records it now; an outbox recorded for
     * another city is refused with ECITY and a message naming both. At
     * most GLCI_OUTBOX_CITY_MAX bytes (else EINVAL). */
    const char *city;
} glci_outbox_opts_t;

#define GLCI_OUTBOX_CITY_MAX 63

#define GLCI_OUTBOX_DEFAULT_LIMIT (1024ull * 1024 * 1024)

/* Opens the outbox in dir, creating the folder (mode 0700) and a new outbox
 * with a fresh stream id if there is none (unless NOCREATE). opts may be
 * NULL. Runs mdb_reader_check. Returns 0, ENOENT (NOCREATE and no outbox),
 * ECITY (opts->city is not the outbox's city), EINVAL (a city too long),
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
 * observation glci_obs_check refuses, or a period outside the wire's 32
 * bits), EFULL, ENOSPC, EIO. */
int glci_outbox_append(glci_outbox_t *ob, const glci_obs_t *obs, size_t n,
                       size_t batch_max, int64_t now, const char *marker,
                       uint64_t *first, uint64_t *last);

/* The bytes n observations take against the size limit when stored as
 * ceil(n / batch_max) batches (batch_max 0: one batch): an input larger
 * than the limit on its own can never be stored, however much is
 * delivered, unlike one that only needs room. */
uint64_t glci_outbox_append_bytes(const glci_obs_t *obs, size_t n, size_t batch_max);

/* The longest origin (glci_outbox_append_from, glci_outbox_dead_t). */
#define GLCI_OUTBOX_ORIGIN_MAX 2048

/* The same, recording with the marker where the input went (origin, e.g.
 * the spool file's path in done/; NULL or "" for none; needs a marker) and
 * the numbers its batches got, for glci_outbox_origin. EINVAL also for an
 * origin longer than GLCI_OUTBOX_ORIGIN_MAX. */
int glci_outbox_append_from(glci_outbox_t *ob, const glci_obs_t *obs, size_t n,
                            size_t batch_max, int64_t now, const char *marker,
                            const char *origin, uint64_t *first, uint64_t *last);

/* The origin recorded for batch seq of the current stream into out: 1 when
 * found, 0 when the batch came from no recorded origin (pushed values, an
 * older outbox, batches renumbered onto a new stream), or a code. It
 * scans the markers (one per input ever taken): for the rare rejected
 * batch, not per delivery. */
int glci_outbox_origin(glci_outbox_t *ob, uint64_t seq, char *out, size_t len);

/* Settles marker: the input it names has gone where it goes (a spool file
 * moved to done/), so the same input seen again is new input, not a retry
 * of an unfinished take. Its record (and the origin it keeps) stays, under
 * a key of its own, for glci_outbox_origin; glci_outbox_has_marker and the
 * append no longer see it. 0 also when marker is not recorded (settled
 * before), else ENOSPC, EIO. */
int glci_outbox_marker_settle(glci_outbox_t *ob, const char *marker);

/* 1 if marker was recorded by an earlier append (and not settled since),
 * 0 if not, or a code. */
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

#define GLCI_OUTBOX_REASON_MAX 1024   /* bytes of a dead letter's reason */

/* A dead letter: one observation the collector rejected, why and when. */
typedef struct {
    uint64_t id;              /* given by the outbox when stored: 1, 2, 3... in order */
    glci_obs_t obs;
    const char *reason;       /* one line, at most GLCI_OUTBOX_REASON_MAX bytes */
    int64_t at;               /* Unix seconds when it was rejected */
    const char *origin;       /* where its input went (glci_outbox_origin), or
                                 NULL / "" (read back: "") */
} glci_outbox_dead_t;

/* Dead letters read back (glci_outbox_dead_list). Owns its memory; free
 * with glci_outbox_dead_list_free. */
typedef struct {
    size_t n;
    glci_outbox_dead_t *rows;
} glci_outbox_dead_list_t;

void glci_outbox_dead_list_free(glci_outbox_dead_list_t **self);

/* Stores n dead letters (ids are given in order; the id field of the
 * input is ignored) and adds n to the dead-letter count, in one durable
 * transaction. Dead letters do not count against the size limit.
 * EINVAL (n == 0, an observation glci_obs_check refuses, a reason NULL or
 * longer than GLCI_OUTBOX_REASON_MAX), ENOSPC, EIO. */
int glci_outbox_dead_add(glci_outbox_t *ob, const glci_outbox_dead_t *dead, size_t n);

/* Reads the (at most max) oldest stored dead letters, lowest id first, into
 * *out (caller frees; (*out)->n is 0 when there are none). ECORRUPT if a
 * record does not decode. */
int glci_outbox_dead_list(glci_outbox_t *ob, size_t max, glci_outbox_dead_list_t **out);

/* Deletes every stored dead letter with an id <= upto (one durable
 * transaction). *deleted (may be NULL) receives how many. */
int glci_outbox_dead_delete(glci_outbox_t *ob, uint64_t upto, size_t *deleted);

/* Moves the record of batch seq, as it is, to the quarantine table and puts
 * an empty batch with the same number in its place. ENOENT if absent. */
int glci_outbox_quarantine(glci_outbox_t *ob, uint64_t seq, int64_t now);

/* The same for a batch the collector refused as MALFORMED (permanent),
 * whose n_rejects observations the caller wrote to the dead-letter file:
 * they are added to the dead-letter count in the same transaction. */
int glci_outbox_quarantine_rejected(glci_outbox_t *ob, uint64_t seq, int64_t now,
                                    uint64_t n_rejects);

/* The same for a MALFORMED batch whose rows the caller gives as dead
 * letters: they are stored (as glci_outbox_dead_add) in the quarantine's
 * transaction instead of being written to the file first. */
int glci_outbox_quarantine_dead(glci_outbox_t *ob, uint64_t seq, int64_t now,
                                const glci_outbox_dead_t *dead, size_t n_dead);

/* Records a cumulative ack: deletes every batch with a number <= acked,
 * records the ack time `now` and adds n_rejects to the dead-letter count,
 * in one durable transaction. Acks below the recorded one change nothing
 * but the time. *deleted (may be NULL) receives the number of batches
 * removed. Under a retention policy (glci_outbox_retain) the removed
 * batches move, unchanged and stamped with `now`, to the retained table,
 * which is then pruned in the same transaction: oldest first, every batch
 * acked more than retain_s before `now`, then as many as keep the retained
 * records within retain_bytes. */
int glci_outbox_ack(glci_outbox_t *ob, uint64_t acked, int64_t now,
                    uint64_t n_rejects, size_t *deleted);

/* The same ack, which also stores the dead letters dead[0..n_dead) (as
 * glci_outbox_dead_add: their count is added to the dead-letter count) in
 * the SAME transaction: the batch is never deleted without its rejected
 * rows, and recording the ack never depends on the dead-letter file.
 * EINVAL (a bad dead letter, as glci_outbox_dead_add) with nothing changed. */
int glci_outbox_ack_dead(glci_outbox_t *ob, uint64_t acked, int64_t now,
                         const glci_outbox_dead_t *dead, size_t n_dead, size_t *deleted);

/* Moves the outbox onto a new stream after the collector lost batches it
 * had acknowledged (its store restored from an older backup): the batches
 * lost_first .. lost_last of the current stream were acked and are no
 * longer retained here (older than the retention window), so they exist
 * nowhere any more, while every batch still retained or in the outbox
 * (numbers above lost_last) was never applied by that store. In ONE durable
 * transaction: a new random stream id (never 0, never the old one), the r
 * retained batches renumbered 1..r (records and ack times unchanged, still
 * retained: the caller resends them from there), the undelivered ones
 * r+1..r+k in their order with their records unchanged, next_seq r+k+1,
 * the acked mark r, and the event kept in meta for `status`: the old
 * stream, the lost range, `now`, and running totals of such events and of
 * lost batches. Markers and quarantined records stay (quarantined records
 * keep the old stream's numbers). The handle's stream (glci_outbox_stream)
 * becomes the new one; other processes with the outbox open see it in
 * glci_outbox_status. *new_stream, *kept and *retained (each may be NULL)
 * receive the new stream id, k and r. EINVAL, with nothing changed, if
 * lost_first is 0 or above lost_last, or if lost_last is not the number
 * just below the oldest retained batch (the oldest batch in the outbox when
 * none is retained, next_seq - 1 when that is empty too): a range reaching
 * further names batches that are still here and can be resent, so nothing
 * is lost. Otherwise ENOSPC or EIO, with nothing changed. */
int glci_outbox_rebase(glci_outbox_t *ob, uint64_t lost_first, uint64_t lost_last,
                       int64_t now, uint64_t *new_stream, uint64_t *kept,
                       uint64_t *retained);

/* Moves the outbox onto a new stream because the collector holds other
 * content under numbers of this one (the outbox was cloned or restored from
 * a copy, and another copy delivered first: the collector answered
 * DUPLICATE with "different content"). In ONE durable transaction: a new
 * random stream id (never 0, never the old one), the batches whose numbers
 * are in drop[0..n_drop) deleted (the caller knows the collector stored
 * them under the old stream), every other batch renumbered 1..k in its
 * order with its record unchanged, next_seq k+1, the acked mark 0,
 * n_rejects added to the dead-letter count, every retained batch dropped
 * (they were stored under the old stream, which is never sent again), and
 * the event kept in meta for
 * `status` (clash_stream: the old stream, clash_at, clash_events). Numbers
 * in drop that are not in the outbox are ignored. The handle's stream
 * becomes the new one. *new_stream and *kept (may be NULL) receive the new
 * stream id and k. ENOSPC or EIO, with nothing changed. */
int glci_outbox_restream(glci_outbox_t *ob, const uint64_t *drop, size_t n_drop,
                         uint64_t n_rejects, int64_t now, uint64_t *new_stream,
                         uint64_t *kept);

/* ---- Retention of acked batches ----------------------------------------- */

/* Sets the handle's retention policy (see glci_outbox_opts_t) and prunes
 * the retained table by it at once, in one durable transaction (a policy
 * lowered by a reload takes effect now, not at the next ack). *dropped
 * (may be NULL) receives how many retained batches went. ENOSPC, EIO. */
int glci_outbox_retain(glci_outbox_t *ob, int64_t retain_s, uint64_t retain_bytes,
                       int64_t now, uint64_t *dropped);

/* The numbers of the oldest and newest retained batches; ENOENT (both set
 * to 0) when none is retained. */
int glci_outbox_retained_range(glci_outbox_t *ob, uint64_t *first, uint64_t *last);

/* Reads retained batch seq into a new batch (*out, caller frees), as
 * glci_outbox_read: ENOENT if it is not retained (never, or pruned),
 * ECORRUPT if its record fails its checksum. */
int glci_outbox_retained_read(glci_outbox_t *ob, uint64_t seq, glci_outbox_batch_t **out);

/* Drops every retained batch numbered <= upto (one durable transaction):
 * for a retained record found corrupt, which can never be resent, so that
 * the range the collector may ask for starts above it. *dropped (may be
 * NULL) receives how many went. */
int glci_outbox_retained_drop(glci_outbox_t *ob, uint64_t upto, uint64_t *dropped);

/* Records for `status` that the collector asked again for retained batches
 * first..last of the current stream (it lost them after acknowledging
 * them) and that they are being resent: the range, `now`, and running
 * totals of such events and batches. */
int glci_outbox_note_resend(glci_outbox_t *ob, uint64_t first, uint64_t last, int64_t now);

/* Records city (at most GLCI_OUTBOX_CITY_MAX bytes) as the city the
 * outbox belongs to, in place of any other; "" forgets it (the next opener
 * that names a city records its own). For the daemon: the collector said
 * the configured city is not this agent's key's, so the recorded one,
 * taken from that setting, is wrong too. EINVAL, ENOSPC, EIO. */
int glci_outbox_set_city(glci_outbox_t *ob, const char *city);

/* Records the daemon's connection state (a short word such as
 * "connected") and since when, for `status`; clears the detail. */
int glci_outbox_set_state(glci_outbox_t *ob, const char *state, int64_t now);

/* The same with what `status` says about it: detail, one line (at most 255
 * bytes; "" none), and retry_at, when the daemon tries again (Unix
 * seconds; 0 none). EINVAL for a state or detail too long. */
int glci_outbox_set_state_detail(glci_outbox_t *ob, const char *state, const char *detail,
                                 int64_t retry_at, int64_t now);

/* Records the public keys the daemon connects with, its own and the
 * collector's (Z85 text of GLCI_OUTBOX_KEY_LEN characters, or "" for none:
 * insecure), for `status` to show the keys in use rather than those the
 * files hold now (a reload that refused a changed key file keeps the old
 * key). EINVAL for a key of another length. */
#define GLCI_OUTBOX_KEY_LEN 40
int glci_outbox_set_keys(glci_outbox_t *ob, const char *key, const char *server);

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
    char state_detail[256];   /* why, for a refused connection; "" none */
    int64_t retry_at;         /* the daemon's next try; 0 none */
    char key_in_use[GLCI_OUTBOX_KEY_LEN + 1];     /* glci_outbox_set_keys's; "" none */
    char server_in_use[GLCI_OUTBOX_KEY_LEN + 1];
    uint64_t rejects;         /* observations rejected (stored as dead letters or
                                 written to the dead-letter file) */
    uint64_t dead_pending;    /* dead letters stored, not yet in the dead-letter file */
    uint64_t quarantined;     /* records moved to quarantine */
    int64_t created;          /* when the outbox was made */
    char city[GLCI_OUTBOX_CITY_MAX + 1];  /* the city it belongs to; "" not recorded yet */
    /* Batches the collector lost after acknowledging them (glci_outbox_rebase):
     * the last event's old stream, range and time (all 0 if none ever), and
     * totals over every event. */
    uint64_t lost_stream;
    uint64_t lost_first, lost_last;
    int64_t lost_at;
    uint64_t lost_events;
    uint64_t lost_batches;
    /* Moves onto a new stream because the collector held other content
     * under this outbox's numbers (glci_outbox_restream): the last one's
     * old stream and time (0 if none), and how many there were. */
    uint64_t clash_stream;
    int64_t clash_at;
    uint64_t clash_events;
    /* Acked batches retained for resending: how many, the bytes of their
     * records, their numbers, and when the oldest was acknowledged (0s
     * when none). */
    uint64_t retained_batches;
    uint64_t retained_bytes;
    uint64_t retained_first, retained_last;
    int64_t retained_oldest;
    /* Retained batches the collector asked for again (glci_outbox_note_resend):
     * the last event's stream, range and time (0 if none ever), and totals. */
    uint64_t resent_stream;
    uint64_t resent_first, resent_last;
    int64_t resent_at;
    uint64_t resent_events;
    uint64_t resent_batches;
} glci_outbox_status_t;

/* Fills *out from one read transaction. */
int glci_outbox_status(glci_outbox_t *ob, glci_outbox_status_t *out);

#endif
