/* The agent's delivery rules as an explicit state machine, apart from any
 * socket or file: a state, the events that reach it (answers of the
 * collector, connection changes, timers), and one pure function that
 * decides what each event asks for. glci_agent_sender.c carries the
 * decisions out (one function per action) with ZeroMQ and the outbox; the
 * unit test checks every row of the table without either.
 *
 *   state         event                         action
 *   any           CONNECTED                     CONNECT (resend from the restart point:
 *                                               the oldest batch, or the probe)
 *   REFUSED       DISCONNECTED                  NONE (the failed handshake's own)
 *   other         DISCONNECTED                  DISCONNECT (in flight assumed lost)
 *   REFUSED       HANDSHAKE_REFUSED / _FAILED   NONE (already waiting to retry)
 *   other         HANDSHAKE_REFUSED / _FAILED   HANDSHAKE_FAIL (close the socket,
 *                                               REFUSED until retry_at)
 *   REFUSED       RETRY_DUE, at retry_at        REBUILD (a new socket connects)
 *   PAUSED        PAUSE_OVER                    RESUME
 *   RESTREAMING   TIMEOUT                       CLASH_ABANDON (ask again from the oldest)
 *   SENDING...    TIMEOUT                       REWIND (no ack for a while)
 *   RECOVERING    TIMEOUT                       REWIND (to the floor)
 *   RESTREAMING   any answer                    CLASH_NOTE, or CLASH_FINISH for the last
 *   otherwise:
 *                 ACK / DUPLICATE               RECORD_ACK up to acked (DUPLICATE: at
 *                                               most the batch it answers)
 *                 DUPLICATE_DIFFERS, oldest     CLASH_BEGIN
 *                 DUPLICATE_DIFFERS, later      REWIND to the oldest (once)
 *                 DUPLICATE_DIFFERS, acked      RECORD_ACK (nothing left to delete)
 *                 GAP, expected in the outbox   REWIND to it (once per gap)
 *                 GAP below the outbox, the     RECOVER (resend the retained batches
 *                   batch expected retained     from it, on the same stream)
 *                 the same, RECOVERING from it  NONE (answers to batches sent before)
 *                 GAP below the outbox and what
 *                   is retained, first          SUSPECT_LOSS (pause, resend, look again)
 *                 GAP below, within the pause   NONE (an answer to what was sent before)
 *                 GAP below, after the pause    REBASE (onto a new stream, the retained
 *                                               batches first, then RECOVERING)
 *                 MALFORMED for the oldest      QUARANTINE (rows to dead letters)
 *                 MALFORMED for another batch   PAUSE
 *                 REFUSED (forbidden)           PAUSE
 *                 UNAVAILABLE                   PAUSE
 *
 * The restart point (glci_delivery_restart) is the oldest batch in the
 * outbox; when the outbox is empty and acked batches are retained, it is
 * the newest retained one, the probe: a collector that holds it answers
 * DUPLICATE, one restored from an older backup GAP (or APPLIED, if only
 * that batch was lost), so a restore is found with nothing new to send.
 * While RECOVERING the window counts from the floor, the oldest batch the
 * collector has not confirmed again; RECORD_ACK moves it, and at the
 * oldest batch in the outbox the machine is SENDING again.
 *
 * Times are the one clock of a step (glci_agent_time_t): monotonic
 * milliseconds for every timer, read once with the wall-clock seconds that
 * records carry. */
#ifndef GLCI_AGENT_DELIVERY_H
#define GLCI_AGENT_DELIVERY_H

#include <stdint.h>

#include "glci_obs.h"

/* The clock of one step: both readings taken together, once. */
typedef struct {
    int64_t ms;               /* monotonic milliseconds: timers */
    int64_t unix_s;           /* wall-clock seconds: what the outbox records */
} glci_agent_time_t;

/* Reads the clock (CLOCK_MONOTONIC and time()). */
glci_agent_time_t glci_agent_time_now(void);

#define GLCI_DELIVERY_STATES(X)                                                       \
    X(DISCONNECTED) /* no connection: nothing is sent */                              \
    X(SENDING)      /* connected: the window is kept full */                          \
    X(PAUSED)       /* connected, backing off after a refusal until pause_until */    \
    X(SUSPECT_LOSS) /* connected, a GAP below the outbox seen at lost_since: sends    \
                       again after a short pause and waits to see it once more */     \
    X(RESTREAMING)  /* connected, a clash seen: waits for the answers in flight */    \
    X(RECOVERING)   /* connected, the collector lost acked batches this outbox        \
                       retains: they are sent again from floor, then the outbox */    \
    X(REFUSED)      /* the handshake was refused (this agent's key) or failed (the    \
                       collector's key): no socket until retry_at, then a new one.    \
                       libzmq 4.3 gives up after a refusal and retries a failure      \
                       every few hundred ms: neither is left to it */

typedef enum {
#define GLCI_X_(name) GLCI_DELIVERY_##name,
    GLCI_DELIVERY_STATES(GLCI_X_)
#undef GLCI_X_
} glci_delivery_state_t;

/* "disconnected", "sending", ... */
const char *glci_delivery_state_str(glci_delivery_state_t state);

/* What the decision reads: the state and the numbers it depends on. */
typedef struct {
    glci_delivery_state_t state;
    uint64_t base;            /* oldest batch still in the outbox */
    uint64_t head;            /* the outbox's next number: batches below it exist */
    uint64_t retained_first;  /* acked batches retained for resending, first..last */
    uint64_t retained_last;   /* (always last == base - 1); 0 0 none */
    uint64_t floor;           /* RECOVERING: the oldest batch not confirmed again */
    uint64_t next_send;       /* next batch to send */
    uint64_t gap_target;      /* where the last rewind went; 0 none */
    int64_t pause_until;      /* ms: no sending before */
    int64_t lost_since;       /* ms: first GAP below the outbox; 0 none */
    uint64_t clash_last;      /* RESTREAMING: the last batch sent before the clash */
    int64_t retry_at;         /* REFUSED: ms, when the socket is made again */
} glci_delivery_t;

typedef enum {
    GLCI_DEV_ACK,               /* APPLIED */
    GLCI_DEV_DUPLICATE,         /* DUPLICATE, the same content */
    GLCI_DEV_DUPLICATE_DIFFERS, /* DUPLICATE "with different content" */
    GLCI_DEV_GAP,               /* GAP, with expected */
    GLCI_DEV_MALFORMED,
    GLCI_DEV_REFUSED,           /* FORBIDDEN */
    GLCI_DEV_UNAVAILABLE,
    GLCI_DEV_TIMEOUT,           /* no answer for the ack timeout (or clash deadline) */
    GLCI_DEV_PAUSE_OVER,
    GLCI_DEV_CONNECTED,         /* handshake done (a connection or a reconnection) */
    GLCI_DEV_DISCONNECTED,
    GLCI_DEV_HANDSHAKE_REFUSED, /* the collector refused this agent's key */
    GLCI_DEV_HANDSHAKE_FAILED,  /* wrong collector key, protocol error */
    GLCI_DEV_RETRY_DUE          /* timer: a refused handshake's wait may be over */
} glci_delivery_event_kind_t;

typedef struct {
    glci_delivery_event_kind_t kind;
    uint64_t seq;             /* answers: the batch answered */
    uint64_t acked;           /* answers: the collector's mark */
    uint64_t expected;        /* GAP: the batch the collector wants */
    int64_t now;              /* ms */
} glci_delivery_event_t;

/* The event an answer of the current stream is: by its status (and, for a
 * DUPLICATE, whether it says the content differs). */
glci_delivery_event_kind_t glci_delivery_event_of(glci_batch_status_t status,
                                                  int content_differs);

/* A handshake that ended without detail (libzmq's
 * ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, whose value is an errno) is one of
 * two things: the peer closed the connection during the handshake (the
 * glci collector does that to a client whose idea of its key is wrong:
 * EPIPE or ECONNRESET, at once), or the handshake timer ran out with no
 * answer at all (a collector stopped by SIGSTOP or too busy to greet,
 * whose kernel still accepted the TCP connection). The second is no key
 * problem: it is told by the time since the TCP connection (at least the
 * handshake interval, 10 s, less a tenth for the clocks' slack) and by no
 * close from the peer. Returns 1 for the no-answer case, which the daemon
 * handles as a dropped connection (`disconnected`); 0 for a failed
 * handshake. since_connect_ms < 0: no TCP connection was seen (0). */
int glci_delivery_handshake_unanswered(uint32_t err, int64_t since_connect_ms,
                                       int64_t handshake_ivl_ms);

typedef enum {
    GLCI_DACT_NONE,
    GLCI_DACT_RECORD_ACK,     /* delete up to `upto`, move the window */
    GLCI_DACT_REWIND,         /* resend from the oldest; gap_target = `target` */
    GLCI_DACT_PAUSE,          /* back off, then resend from the oldest */
    GLCI_DACT_RESUME,         /* the pause is over: send again */
    GLCI_DACT_QUARANTINE,     /* the oldest batch's rows to dead letters, an empty
                                 batch in its place (falls back to PAUSE) */
    GLCI_DACT_SUSPECT_LOSS,   /* pause briefly, resend, remember when */
    GLCI_DACT_REBASE,         /* the collector lost acked batches: new stream */
    GLCI_DACT_RECOVER,        /* the collector lost acked batches still retained:
                                 resend them from `target`, same stream */
    GLCI_DACT_CLASH_BEGIN,    /* stop sending, wait for the answers in flight */
    GLCI_DACT_CLASH_NOTE,     /* note what an answer shows stored */
    GLCI_DACT_CLASH_FINISH,   /* note it, then move onto a new stream */
    GLCI_DACT_CLASH_ABANDON,  /* the answers did not come: ask again */
    GLCI_DACT_CONNECT,
    GLCI_DACT_DISCONNECT,
    GLCI_DACT_HANDSHAKE_FAIL, /* close the socket, wait (backoff), state REFUSED */
    GLCI_DACT_REBUILD         /* the wait is over: make the socket again and connect */
} glci_delivery_action_kind_t;

typedef struct {
    glci_delivery_action_kind_t kind;
    uint64_t upto;            /* RECORD_ACK */
    uint64_t target;          /* REWIND: the new gap_target (0 none); RECOVER: the
                                 batch to resend from; CONNECT: the restart point */
} glci_delivery_action_t;

/* The GAP-below-the-outbox pause before a second such answer confirms a
 * loss (ms). */
#define GLCI_DELIVERY_LOST_CONFIRM_MS 1000

/* The pauses after refusals: from 1 s, doubling, at most 60 s. */
#define GLCI_DELIVERY_BACKOFF_MIN_MS 1000
#define GLCI_DELIVERY_BACKOFF_MAX_MS 60000

/* The waits after a refused or failed handshake: from 1 s, doubling, at
 * most 5 minutes (an operator fixing a key is seen within that), reset by
 * a successful handshake. */
#define GLCI_DELIVERY_RETRY_MIN_MS 1000
#define GLCI_DELIVERY_RETRY_MAX_MS 300000

/* The pause after a MALFORMED / FORBIDDEN / UNAVAILABLE answer. If a pause
 * is running (now < *until) nothing changes and 0 is returned: the other
 * answers of the same window neither lengthen it nor double the next one.
 * Otherwise *until = now + a wait uniform in [d/2, d] (d = *backoff_ms,
 * chosen by rnd), *backoff_ms doubles up to GLCI_DELIVERY_BACKOFF_MAX_MS, and 1 is returned. A
 * successful ack resets *backoff_ms to 1000. */
int glci_agent_backoff(int64_t *backoff_ms, int64_t *until, int64_t now, uint32_t rnd);

/* The same rule with another cap: *backoff_ms doubles up to max_ms. The
 * handshake retries use it with GLCI_DELIVERY_RETRY_MAX_MS. */
int glci_agent_backoff_capped(int64_t *backoff_ms, int64_t *until, int64_t now, uint32_t rnd,
                              int64_t max_ms);

/* Where sending starts again (a connection, a pause, a suspected loss):
 * base, or the probe (see above). Pure. */
uint64_t glci_delivery_restart(const glci_delivery_t *d);

/* The batch the window counts from: floor while RECOVERING, else base. */
uint64_t glci_delivery_floor(const glci_delivery_t *d);

/* 1 if batch seq was acked and is retained (it can be sent again). */
int glci_delivery_retained(const glci_delivery_t *d, uint64_t seq);

/* Decides what ev asks of a machine in d. Pure: reads only its arguments. */
glci_delivery_action_t glci_delivery_decide(const glci_delivery_t *d,
                                            const glci_delivery_event_t *ev);

#endif
