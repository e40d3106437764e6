/* The delivery decision table: see glci_agent_delivery.h. */
#include "glci_agent_delivery.h"

#include <errno.h>
#include <time.h>

glci_agent_time_t glci_agent_time_now(void)
{
    struct timespec ts;
    glci_agent_time_t t;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t.ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    t.unix_s = (int64_t)time(NULL);
    return t;
}

const char *glci_delivery_state_str(glci_delivery_state_t state)
{
    switch (state) {
    case GLCI_DELIVERY_DISCONNECTED: return "disconnected";
    case GLCI_DELIVERY_SENDING: return "sending";
    case GLCI_DELIVERY_PAUSED: return "paused";
    case GLCI_DELIVERY_SUSPECT_LOSS: return "suspect-loss";
    case GLCI_DELIVERY_RESTREAMING: return "restreaming";
    case GLCI_DELIVERY_RECOVERING: return "recovering";
    case GLCI_DELIVERY_REFUSED: return "refused";
    default: return "unknown";
    }
}

int glci_delivery_handshake_unanswered(uint32_t err, int64_t since_connect_ms,
                                       int64_t handshake_ivl_ms)
{
    if (since_connect_ms < 0 || err == EPIPE || err == ECONNRESET)
        return 0;
    return since_connect_ms >= handshake_ivl_ms - handshake_ivl_ms / 10;
}

glci_delivery_event_kind_t glci_delivery_event_of(glci_batch_status_t status,
                                                  int content_differs)
{
    switch (status) {
    case GLCI_BATCH_APPLIED: return GLCI_DEV_ACK;
    case GLCI_BATCH_DUPLICATE:
        return content_differs ? GLCI_DEV_DUPLICATE_DIFFERS : GLCI_DEV_DUPLICATE;
    case GLCI_BATCH_GAP: return GLCI_DEV_GAP;
    case GLCI_BATCH_MALFORMED: return GLCI_DEV_MALFORMED;
    case GLCI_BATCH_FORBIDDEN: return GLCI_DEV_REFUSED;
    case GLCI_BATCH_UNAVAILABLE:
    default: return GLCI_DEV_UNAVAILABLE;
    }
}

int glci_agent_backoff_capped(int64_t *backoff_ms, int64_t *until, int64_t now, uint32_t rnd,
                              int64_t max_ms)
{
    if (now < *until)
        return 0;                      /* paused already: one pause per answer group */
    /* uniform in [d/2, d]: spreads many agents coming back together */
    int64_t d = *backoff_ms;
    *until = now + d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
    *backoff_ms = d * 2 > max_ms ? max_ms : d * 2;
    return 1;
}

int glci_agent_backoff(int64_t *backoff_ms, int64_t *until, int64_t now, uint32_t rnd)
{
    return glci_agent_backoff_capped(backoff_ms, until, now, rnd, GLCI_DELIVERY_BACKOFF_MAX_MS);
}

static glci_delivery_action_t s_act(glci_delivery_action_kind_t kind)
{
    glci_delivery_action_t a = {.kind = kind};
    return a;
}

static int s_is_answer(glci_delivery_event_kind_t k)
{
    return k <= GLCI_DEV_UNAVAILABLE;
}

int glci_delivery_retained(const glci_delivery_t *d, uint64_t seq)
{
    return d->retained_first && seq >= d->retained_first && seq <= d->retained_last;
}

uint64_t glci_delivery_restart(const glci_delivery_t *d)
{
    /* nothing undelivered: the newest retained batch asks the collector
     * whether it still holds what it acked */
    if (d->base >= d->head && d->retained_last && d->retained_last + 1 == d->base)
        return d->retained_last;
    return d->base;
}

uint64_t glci_delivery_floor(const glci_delivery_t *d)
{
    return d->state == GLCI_DELIVERY_RECOVERING ? d->floor : d->base;
}

/* A GAP: back to the batch expected, or, below the outbox, the loss rules:
 * retained batches are sent again; batches no longer retained are lost. */
static glci_delivery_action_t s_gap(const glci_delivery_t *d, const glci_delivery_event_t *ev)
{
    glci_delivery_action_t a = s_act(GLCI_DACT_NONE);
    if (ev->expected > 0 && ev->expected < d->base) {
        /* Sending them again costs nothing if the collector has them after
         * all (each is answered DUPLICATE), so no confirmation is awaited. */
        if (glci_delivery_retained(d, ev->expected)) {
            if (d->state == GLCI_DELIVERY_RECOVERING && ev->expected == d->gap_target)
                return a;          /* answers to batches sent before the resend */
            a.kind = GLCI_DACT_RECOVER;
            a.target = ev->expected;
            return a;
        }
        /* An answer to a batch acked since (not sent again since) comes
         * from an older connection: no evidence of a loss. */
        if (ev->seq >= d->base || glci_delivery_retained(d, ev->seq)) {
            if (!d->lost_since)
                a.kind = GLCI_DACT_SUSPECT_LOSS;
            else if (ev->now >= d->lost_since + GLCI_DELIVERY_LOST_CONFIRM_MS)
                a.kind = GLCI_DACT_REBASE;
            /* else: an answer to something sent before the pause */
            return a;
        }
    }
    /* The mark it reports is not an ack: batches at or below it still here
     * get their own answers (their content checked) when sent again. Answers
     * come in order, so more GAPs naming the same batch are for batches
     * sent before the rewind. */
    if (ev->expected > 0 && ev->expected != d->gap_target && ev->expected < d->next_send) {
        a.kind = GLCI_DACT_REWIND;
        a.target = ev->expected;
    }
    return a;
}

glci_delivery_action_t glci_delivery_decide(const glci_delivery_t *d,
                                            const glci_delivery_event_t *ev)
{
    glci_delivery_action_t a = s_act(GLCI_DACT_NONE);

    switch (ev->kind) {
    case GLCI_DEV_CONNECTED:
        a.kind = GLCI_DACT_CONNECT;
        a.target = glci_delivery_restart(d);
        return a;
    case GLCI_DEV_DISCONNECTED:
        return s_act(d->state == GLCI_DELIVERY_REFUSED ? GLCI_DACT_NONE : GLCI_DACT_DISCONNECT);
    case GLCI_DEV_HANDSHAKE_REFUSED:
    case GLCI_DEV_HANDSHAKE_FAILED:
        return s_act(d->state == GLCI_DELIVERY_REFUSED ? GLCI_DACT_NONE
                                                       : GLCI_DACT_HANDSHAKE_FAIL);
    case GLCI_DEV_RETRY_DUE:
        return s_act(d->state == GLCI_DELIVERY_REFUSED && ev->now >= d->retry_at
                         ? GLCI_DACT_REBUILD : GLCI_DACT_NONE);
    case GLCI_DEV_PAUSE_OVER:
        return s_act(d->state == GLCI_DELIVERY_PAUSED && ev->now >= d->pause_until
                         ? GLCI_DACT_RESUME : GLCI_DACT_NONE);
    case GLCI_DEV_TIMEOUT:
        if (d->state == GLCI_DELIVERY_RESTREAMING)
            return s_act(GLCI_DACT_CLASH_ABANDON);
        if ((d->state == GLCI_DELIVERY_SENDING || d->state == GLCI_DELIVERY_SUSPECT_LOSS ||
             d->state == GLCI_DELIVERY_RECOVERING) &&
            d->next_send > glci_delivery_floor(d))
            return s_act(GLCI_DACT_REWIND);    /* target 0: a fresh start */
        return a;
    default:
        break;
    }
    if (!s_is_answer(ev->kind) || d->state == GLCI_DELIVERY_REFUSED)
        return a;                      /* no socket, no answer: a stray one is dropped */

    /* While restreaming every answer is noted; the last one finishes. */
    if (d->state == GLCI_DELIVERY_RESTREAMING)
        return s_act(ev->seq >= d->clash_last ? GLCI_DACT_CLASH_FINISH : GLCI_DACT_CLASH_NOTE);

    switch (ev->kind) {
    case GLCI_DEV_DUPLICATE_DIFFERS:
        if (ev->seq == d->base)
            return s_act(GLCI_DACT_CLASH_BEGIN);
        if (ev->seq > d->base) {
            /* batches below it have no answer yet: ask again from base, once */
            if (d->gap_target != d->base) {
                a.kind = GLCI_DACT_REWIND;
                a.target = d->base;
            }
            return a;
        }
        /* below base: deleted already; nothing but the ack is left */
        /* fall through */
    case GLCI_DEV_DUPLICATE:
        /* A DUPLICATE confirms the content of the batch it answers only:
         * batches above it are deleted when their own answers come. */
        a.kind = GLCI_DACT_RECORD_ACK;
        a.upto = ev->acked < ev->seq ? ev->acked : ev->seq;
        return a;
    case GLCI_DEV_ACK:
        a.kind = GLCI_DACT_RECORD_ACK;
        a.upto = ev->acked;
        return a;
    case GLCI_DEV_GAP:
        return s_gap(d, ev);
    case GLCI_DEV_MALFORMED:
        return s_act(ev->seq == d->base ? GLCI_DACT_QUARANTINE : GLCI_DACT_PAUSE);
    case GLCI_DEV_REFUSED:
    case GLCI_DEV_UNAVAILABLE:
    default:
        return s_act(GLCI_DACT_PAUSE);
    }
}
