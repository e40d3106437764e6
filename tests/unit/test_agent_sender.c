/* The agent sender's pure rules, without ZeroMQ or an outbox: the delivery
 * decision table (glci_delivery_decide), one test per transition of
 * glci_agent_delivery.h (the resend of retained batches and its probe
 * included), and the backoff rule (glci_agent_backoff): one
 * pause per group of failing answers, doubling once per pause, capped at
 * 60 s; and the refused state a failed handshake leads to, with its
 * retries capped at 5 minutes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "glci_agent_delivery.h"

/* A machine sending batches 10.. with 10..14 in flight. */
static glci_delivery_t s_sending(void)
{
    glci_delivery_t d = {.state = GLCI_DELIVERY_SENDING, .base = 10, .next_send = 15};
    return d;
}

static glci_delivery_event_t s_answer(glci_delivery_event_kind_t kind, uint64_t seq,
                                      uint64_t acked, int64_t now)
{
    glci_delivery_event_t ev = {.kind = kind, .seq = seq, .acked = acked, .now = now};
    return ev;
}

static glci_delivery_action_kind_t s_decide(const glci_delivery_t *d,
                                            const glci_delivery_event_t *ev)
{
    return glci_delivery_decide(d, ev).kind;
}

static void test_event_of_status(void **state)
{
    (void)state;
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_APPLIED, 0), GLCI_DEV_ACK);
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_DUPLICATE, 0), GLCI_DEV_DUPLICATE);
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_DUPLICATE, 1),
                     GLCI_DEV_DUPLICATE_DIFFERS);
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_GAP, 0), GLCI_DEV_GAP);
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_MALFORMED, 1), GLCI_DEV_MALFORMED);
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_FORBIDDEN, 1), GLCI_DEV_REFUSED);
    assert_int_equal(glci_delivery_event_of(GLCI_BATCH_UNAVAILABLE, 0),
                     GLCI_DEV_UNAVAILABLE);
}

/* ack: cumulative, deletes up to the collector's mark. */
static void test_ack_records_up_to_the_mark(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_ACK, 11, 12, 0);
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 12);
    /* also while a loss is suspected: an ack clears the suspicion */
    d.state = GLCI_DELIVERY_SUSPECT_LOSS;
    d.lost_since = 5;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_RECORD_ACK);
}

/* duplicate: confirms the batch it answers only, not those above it. */
static void test_duplicate_records_only_its_batch(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_DUPLICATE, 11, 14, 0);
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 11);
    ev.acked = 10;                     /* a mark below the batch: the mark */
    assert_int_equal(glci_delivery_decide(&d, &ev).upto, 10);
}

/* duplicate with different content: a clash for the oldest batch; for a
 * later one, ask again from the oldest, once; below the window, only the
 * ack is left. */
static void test_duplicate_differs(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_DUPLICATE_DIFFERS, 10, 12, 0);
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CLASH_BEGIN);

    ev.seq = 12;
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_REWIND);
    assert_int_equal(a.target, 10);
    d.gap_target = 10;                 /* rewound already: not again */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);

    ev.seq = 7;
    ev.acked = 12;
    a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 7);
}

/* While restreaming every answer is noted; the last batch sent finishes. */
static void test_restreaming_notes_then_finishes(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    d.state = GLCI_DELIVERY_RESTREAMING;
    d.clash_last = 14;
    glci_delivery_event_t ev = s_answer(GLCI_DEV_ACK, 12, 12, 0);
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CLASH_NOTE);
    ev.kind = GLCI_DEV_GAP;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CLASH_NOTE);
    ev.kind = GLCI_DEV_DUPLICATE;
    ev.seq = 14;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CLASH_FINISH);
}

/* gap: back to the batch expected, once per gap. */
static void test_gap_rewinds_once(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_GAP, 13, 11, 0);
    ev.expected = 12;
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_REWIND);
    assert_int_equal(a.target, 12);
    d.gap_target = 12;                 /* more GAPs naming it: sent before the rewind */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    d.gap_target = 0;
    ev.expected = 15;                  /* not below what was sent: nothing to redo */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.expected = 0;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
}

/* gap below the outbox: suspected first, confirmed by a second one after
 * the pause, ignored within it; a GAP answering a batch below the window
 * (an old answer) is no evidence of a loss, only an ordinary rewind. */
static void test_gap_below_the_outbox(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_GAP, 10, 4, 1000);
    ev.expected = 5;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_SUSPECT_LOSS);
    d.state = GLCI_DELIVERY_SUSPECT_LOSS;
    d.lost_since = 1000;
    ev.now = 1000 + GLCI_DELIVERY_LOST_CONFIRM_MS - 1;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.now = 1000 + GLCI_DELIVERY_LOST_CONFIRM_MS;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_REBASE);
    ev.seq = 9;                        /* an answer to a batch acked already */
    d = s_sending();
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_REWIND);
    assert_int_equal(a.target, 5);
}

/* A machine whose batches 3..9 were acked and are retained; 10.. are in
 * the outbox, 10..14 in flight. */
static glci_delivery_t s_retaining(void)
{
    glci_delivery_t d = s_sending();
    d.head = 20;
    d.retained_first = 3;
    d.retained_last = 9;
    return d;
}

/* gap below the outbox, the batch expected retained: resend from it on the
 * same stream at once (a resend the collector did not need is answered
 * DUPLICATE), not the loss rule. */
static void test_gap_below_the_outbox_retained_recovers(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_GAP, 10, 5, 1000);
    ev.expected = 6;
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECOVER);
    assert_int_equal(a.target, 6);
    ev.expected = 3;                   /* the oldest retained: still all here */
    a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECOVER);
    assert_int_equal(a.target, 3);
    /* also when paused or suspecting a loss: the collector says what it needs */
    d.state = GLCI_DELIVERY_PAUSED;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_RECOVER);
    d.state = GLCI_DELIVERY_SUSPECT_LOSS;
    d.lost_since = 900;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_RECOVER);
}

/* recovering: the GAPs of the batches in flight before the resend name the
 * same batch and change nothing; one naming another retained batch (the
 * collector restored again) starts the resend there. */
static void test_recovering_ignores_the_same_gap(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    d.state = GLCI_DELIVERY_RECOVERING;
    d.floor = 6;
    d.gap_target = 6;
    d.next_send = 10;
    glci_delivery_event_t ev = s_answer(GLCI_DEV_GAP, 12, 5, 1000);
    ev.expected = 6;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.expected = 4;
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECOVER);
    assert_int_equal(a.target, 4);
    /* a GAP at or above base while recovering: an ordinary rewind to it */
    d.next_send = 12;
    ev.expected = 10;
    a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_REWIND);
    assert_int_equal(a.target, 10);
}

/* recovering: acks and duplicates are recorded as anywhere (the sender
 * moves the floor with them); a refusal pauses, which ends the resend. */
static void test_recovering_answers(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    d.state = GLCI_DELIVERY_RECOVERING;
    d.floor = 6;
    d.next_send = 9;
    glci_delivery_event_t ev = s_answer(GLCI_DEV_ACK, 6, 6, 0);
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 6);
    ev = s_answer(GLCI_DEV_DUPLICATE, 7, 12, 0);
    a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 7);
    ev = s_answer(GLCI_DEV_MALFORMED, 7, 6, 0);   /* not the oldest in the outbox */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_PAUSE);
    ev = s_answer(GLCI_DEV_UNAVAILABLE, 7, 6, 0);
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_PAUSE);
    assert_string_equal(glci_delivery_state_str(GLCI_DELIVERY_RECOVERING), "recovering");
}

/* recovering: the window counts from the floor; no ack for a while with
 * batches in flight above it resends from it. */
static void test_recovering_timeout_rewinds(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    d.state = GLCI_DELIVERY_RECOVERING;
    d.floor = 6;
    d.next_send = 8;
    assert_int_equal(glci_delivery_floor(&d), 6);
    glci_delivery_event_t ev = {.kind = GLCI_DEV_TIMEOUT, .now = 99999};
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_REWIND);
    assert_int_equal(a.target, 0);
    d.next_send = 6;                   /* nothing in flight */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    d.state = GLCI_DELIVERY_SENDING;
    assert_int_equal(glci_delivery_floor(&d), 10);
}

/* gap below what is retained too: the loss rule as without retention, the
 * REBASE then moving the retained batches onto the new stream first. */
static void test_gap_below_the_retained(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_GAP, 10, 1, 1000);
    ev.expected = 2;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_SUSPECT_LOSS);
    d.state = GLCI_DELIVERY_SUSPECT_LOSS;
    d.lost_since = 1000;
    ev.now = 1000 + GLCI_DELIVERY_LOST_CONFIRM_MS;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_REBASE);
    /* an answer to a retained batch sent again counts (the probe below) */
    ev.seq = 9;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_REBASE);
    /* one to a batch neither in the outbox nor retained does not */
    ev.seq = 2;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_REWIND);
}

/* the restart point: the oldest batch in the outbox; with an empty outbox
 * and retained batches, the newest retained one (the probe); a connection
 * starts there. */
static void test_connect_probes_with_an_empty_outbox(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    glci_delivery_event_t ev = {.kind = GLCI_DEV_CONNECTED};
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_CONNECT);
    assert_int_equal(a.target, 10);
    d.head = 10;                       /* nothing undelivered */
    assert_int_equal(glci_delivery_restart(&d), 9);
    a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_CONNECT);
    assert_int_equal(a.target, 9);
    assert_true(glci_delivery_retained(&d, 9));
    assert_true(glci_delivery_retained(&d, 3));
    assert_false(glci_delivery_retained(&d, 2));
    assert_false(glci_delivery_retained(&d, 10));
    d.retained_first = d.retained_last = 0;   /* nothing retained: nothing to ask */
    assert_int_equal(glci_delivery_restart(&d), 10);
    assert_false(glci_delivery_retained(&d, 0));
}

/* the probe's answers: DUPLICATE (the collector holds it) records nothing
 * new; GAP below what is retained is the loss rule; GAP within it resends. */
static void test_probe_answers(void **state)
{
    (void)state;
    glci_delivery_t d = s_retaining();
    d.head = 10;
    d.next_send = 10;
    glci_delivery_event_t ev = s_answer(GLCI_DEV_DUPLICATE, 9, 9, 0);
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 9);
    ev = s_answer(GLCI_DEV_ACK, 9, 9, 0);     /* only that batch was lost */
    a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_RECORD_ACK);
    assert_int_equal(a.upto, 9);
    ev = s_answer(GLCI_DEV_GAP, 9, 4, 0);
    ev.expected = 5;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_RECOVER);
    ev.expected = 1;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_SUSPECT_LOSS);
}

/* refused (FORBIDDEN) and unavailable: pause, the batch kept. */
static void test_refused_and_unavailable_pause(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_REFUSED, 10, 0, 0);
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_PAUSE);
    ev.kind = GLCI_DEV_UNAVAILABLE;
    ev.seq = 13;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_PAUSE);
}

/* malformed: the oldest batch goes to quarantine (its rows to dead
 * letters); for another batch, a pause. */
static void test_malformed(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = s_answer(GLCI_DEV_MALFORMED, 10, 9, 0);
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_QUARANTINE);
    ev.seq = 12;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_PAUSE);
    ev.seq = 0;                        /* undecodable: no batch named */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_PAUSE);
}

/* timeout: with batches in flight, resend from the oldest; while
 * restreaming, give the clash up and ask again; otherwise nothing. */
static void test_timeout(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    glci_delivery_event_t ev = {.kind = GLCI_DEV_TIMEOUT, .now = 99999};
    glci_delivery_action_t a = glci_delivery_decide(&d, &ev);
    assert_int_equal(a.kind, GLCI_DACT_REWIND);
    assert_int_equal(a.target, 0);
    d.next_send = d.base;              /* nothing in flight */
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    d.state = GLCI_DELIVERY_RESTREAMING;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CLASH_ABANDON);
    d.state = GLCI_DELIVERY_DISCONNECTED;
    d.next_send = 15;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
}

/* reconnect: from any state but refused, connecting resends from the
 * oldest; losing the connection drops what was in flight; a refused or
 * failed handshake is its own action (the refused state, below). */
static void test_reconnect(void **state)
{
    (void)state;
    const glci_delivery_state_t all[] = {GLCI_DELIVERY_DISCONNECTED, GLCI_DELIVERY_SENDING,
                                         GLCI_DELIVERY_PAUSED, GLCI_DELIVERY_SUSPECT_LOSS,
                                         GLCI_DELIVERY_RESTREAMING, GLCI_DELIVERY_RECOVERING};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        glci_delivery_t d = s_sending();
        d.state = all[i];
        glci_delivery_event_t ev = {.kind = GLCI_DEV_CONNECTED};
        assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CONNECT);
        ev.kind = GLCI_DEV_DISCONNECTED;
        assert_int_equal(s_decide(&d, &ev), GLCI_DACT_DISCONNECT);
        ev.kind = GLCI_DEV_HANDSHAKE_REFUSED;
        assert_int_equal(s_decide(&d, &ev), GLCI_DACT_HANDSHAKE_FAIL);
        ev.kind = GLCI_DEV_HANDSHAKE_FAILED;
        assert_int_equal(s_decide(&d, &ev), GLCI_DACT_HANDSHAKE_FAIL);
    }
    assert_string_equal(glci_delivery_state_str(GLCI_DELIVERY_SUSPECT_LOSS), "suspect-loss");
}

/* refused: entered by a refused or failed handshake from any other state;
 * there, the failed handshake's own disconnect and further handshake
 * events change nothing (one wait per failure), and a handshake that
 * succeeds (a socket made again) connects. */
static void test_refused_entered_and_kept(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    d.state = GLCI_DELIVERY_REFUSED;
    d.retry_at = 9000;
    glci_delivery_event_t ev = {.kind = GLCI_DEV_DISCONNECTED, .now = 100};
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.kind = GLCI_DEV_HANDSHAKE_REFUSED;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.kind = GLCI_DEV_HANDSHAKE_FAILED;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.kind = GLCI_DEV_CONNECTED;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_CONNECT);
    assert_string_equal(glci_delivery_state_str(GLCI_DELIVERY_REFUSED), "refused");
}

/* refused: the retry timer rebuilds the socket once the wait is over,
 * not before; in any other state it does nothing. */
static void test_refused_retry_due_rebuilds(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    d.state = GLCI_DELIVERY_REFUSED;
    d.retry_at = 9000;
    glci_delivery_event_t ev = {.kind = GLCI_DEV_RETRY_DUE, .now = 8999};
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.now = 9000;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_REBUILD);
    const glci_delivery_state_t others[] = {GLCI_DELIVERY_DISCONNECTED, GLCI_DELIVERY_SENDING,
                                            GLCI_DELIVERY_PAUSED, GLCI_DELIVERY_SUSPECT_LOSS,
                                            GLCI_DELIVERY_RESTREAMING,
                                            GLCI_DELIVERY_RECOVERING};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        d.state = others[i];
        assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    }
}

/* refused: no socket, so an answer (a stray one read before the socket
 * closed), the ack timer and the end of a pause do nothing. */
static void test_refused_ignores_answers_and_timers(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    d.state = GLCI_DELIVERY_REFUSED;
    d.pause_until = 10;
    const glci_delivery_event_kind_t kinds[] = {
        GLCI_DEV_ACK, GLCI_DEV_DUPLICATE, GLCI_DEV_DUPLICATE_DIFFERS, GLCI_DEV_GAP,
        GLCI_DEV_MALFORMED, GLCI_DEV_REFUSED, GLCI_DEV_UNAVAILABLE, GLCI_DEV_TIMEOUT,
        GLCI_DEV_PAUSE_OVER};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        glci_delivery_event_t ev = s_answer(kinds[i], 10, 12, 20);
        ev.expected = 5;
        assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    }
}

/* the waits between handshake retries double from 1 s to 5 minutes, each
 * jittered within [d/2, d]. */
static void test_retry_backoff_capped_at_5_minutes(void **state)
{
    (void)state;
    int64_t d = GLCI_DELIVERY_RETRY_MIN_MS, until = 0, now = 0;
    int64_t waits[16];
    for (int i = 0; i < 16; i++) {
        assert_int_equal(glci_agent_backoff_capped(&d, &until, now, 0xffffffffu * (uint32_t)(i & 1),
                                                   GLCI_DELIVERY_RETRY_MAX_MS), 1);
        waits[i] = until - now;
        assert_true(waits[i] <= GLCI_DELIVERY_RETRY_MAX_MS);
        now = until;
    }
    assert_true(waits[0] >= 500 && waits[0] <= 1000);
    assert_true(waits[5] >= 16000 && waits[5] <= 32000);
    assert_true(d == GLCI_DELIVERY_RETRY_MAX_MS);
    assert_true(waits[15] >= GLCI_DELIVERY_RETRY_MAX_MS / 2);
}

/* the end of a pause resumes sending; before it, nothing. */
static void test_pause_over(void **state)
{
    (void)state;
    glci_delivery_t d = s_sending();
    d.state = GLCI_DELIVERY_PAUSED;
    d.pause_until = 5000;
    glci_delivery_event_t ev = {.kind = GLCI_DEV_PAUSE_OVER, .now = 4999};
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
    ev.now = 5000;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_RESUME);
    d.state = GLCI_DELIVERY_SENDING;
    assert_int_equal(s_decide(&d, &ev), GLCI_DACT_NONE);
}

static void test_window_of_failures_doubles_once(void **state)
{
    (void)state;
    int64_t d = 1000, until = 0;
    /* 8 answers of one window, all UNAVAILABLE, arriving together */
    assert_int_equal(glci_agent_backoff(&d, &until, 10000, 0xffffffffu), 1);
    int64_t first = until;
    assert_true(first >= 10500 && first <= 11000);
    for (int i = 0; i < 7; i++)
        assert_int_equal(glci_agent_backoff(&d, &until, 10000 + i, 12345u * (uint32_t)i), 0);
    assert_true(until == first);
    assert_true(d == 2000);
    /* the next failure after the pause: 2 s base, then 4 s */
    assert_int_equal(glci_agent_backoff(&d, &until, first, 0), 1);
    assert_true(until == first + 1000);
    assert_true(d == 4000);
}

static void test_backoff_is_capped(void **state)
{
    (void)state;
    int64_t d = 1000, until = 0, now = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(glci_agent_backoff(&d, &until, now, 7u), 1);
        assert_true(until - now <= 60000);
        now = until;
    }
    assert_true(d == 60000);
    assert_true(until - now <= 60000);
}

/* A handshake that ended without detail: the peer closing it (EPIPE,
 * ECONNRESET: a wrong collector key) is a failed handshake, however late;
 * no close and the handshake interval gone by is no answer at all. */
static void test_handshake_unanswered(void **state)
{
    (void)state;
    assert_int_equal(glci_delivery_handshake_unanswered(EAGAIN, 10000, 10000), 1);
    assert_int_equal(glci_delivery_handshake_unanswered(0, 9500, 10000), 1);
    assert_int_equal(glci_delivery_handshake_unanswered(EAGAIN, 40, 10000), 0);
    assert_int_equal(glci_delivery_handshake_unanswered(EPIPE, 10000, 10000), 0);
    assert_int_equal(glci_delivery_handshake_unanswered(ECONNRESET, 30000, 10000), 0);
    assert_int_equal(glci_delivery_handshake_unanswered(EAGAIN, -1, 10000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_of_status),
        cmocka_unit_test(test_handshake_unanswered),
        cmocka_unit_test(test_ack_records_up_to_the_mark),
        cmocka_unit_test(test_duplicate_records_only_its_batch),
        cmocka_unit_test(test_duplicate_differs),
        cmocka_unit_test(test_restreaming_notes_then_finishes),
        cmocka_unit_test(test_gap_rewinds_once),
        cmocka_unit_test(test_gap_below_the_outbox),
        cmocka_unit_test(test_gap_below_the_outbox_retained_recovers),
        cmocka_unit_test(test_recovering_ignores_the_same_gap),
        cmocka_unit_test(test_recovering_answers),
        cmocka_unit_test(test_recovering_timeout_rewinds),
        cmocka_unit_test(test_gap_below_the_retained),
        cmocka_unit_test(test_connect_probes_with_an_empty_outbox),
        cmocka_unit_test(test_probe_answers),
        cmocka_unit_test(test_refused_and_unavailable_pause),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_reconnect),
        cmocka_unit_test(test_refused_entered_and_kept),
        cmocka_unit_test(test_refused_retry_due_rebuilds),
        cmocka_unit_test(test_refused_ignores_answers_and_timers),
        cmocka_unit_test(test_retry_backoff_capped_at_5_minutes),
        cmocka_unit_test(test_pause_over),
        cmocka_unit_test(test_window_of_failures_doubles_once),
        cmocka_unit_test(test_backoff_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
