/* libFuzzer target for the ack as the agent takes it: the bytes of one
 * answer from the collector go through glci_wire_ack_unpack
 * (wire/glci_wire.c) and, when they decode, through the delivery decision
 * (agent/glci_agent_delivery.c) in a few states of the sender, as
 * glci_agent_sender.c does on each answer.
 *
 * Contract checked beyond "no crash, no leak":
 *   - a refusal is one of the codes glci_wire.h lists, with a one-line
 *     printable message, and leaves nothing to release;
 *   - an accepted ack has a known status, and its error and every
 *     rejection's message are printable UTF-8 within their buffers (what
 *     glci_rejection_t promises: they reach the log, rejected.csv and the
 *     outbox);
 *   - it packs and unpacks to the same ack (what the agent read is what the
 *     collector could have said);
 *   - the decision table answers it with an action its header allows for
 *     that answer: an ack records exactly its mark, a duplicate at most the
 *     batch it answers, a GAP rewinds to a batch already sent or recovers
 *     from a batch still retained, and nothing is done while REFUSED (no
 *     socket: a stray answer is dropped).
 *
 * Run: fuzz_ack -dict=tests/fuzz/ack.dict NEWDIR tests/fuzz/corpus/ack */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_agent_delivery.h"
#include "glci_fuzz.h"
#include "glci_wire.h"

static void s_same(const glci_wire_ack_t *a, const glci_wire_ack_t *b)
{
    GLCI_FUZZ_CHECK(a->status == b->status && a->stream == b->stream && a->seq == b->seq &&
                    a->acked == b->acked && a->n_rejections == b->n_rejections &&
                    strcmp(a->error, b->error) == 0,
                    "ack: packing and unpacking changed the ack");
    GLCI_FUZZ_CHECK(a->status != GLCI_BATCH_GAP || a->expected == b->expected,
                    "ack: a GAP lost its expected batch on the way");
    for (size_t i = 0; i < a->n_rejections; i++)
        GLCI_FUZZ_CHECK(a->rejections[i].index == b->rejections[i].index &&
                        a->rejections[i].reason == b->rejections[i].reason &&
                        strcmp(a->rejections[i].message, b->rejections[i].message) == 0,
                        "ack: rejection %zu changed on the way", i);
}

static void s_roundtrip(const glci_wire_ack_t *ack)
{
    uint8_t *buf;
    size_t len;
    GLCI_FUZZ_CHECK(glci_wire_ack_pack(ack, &buf, &len) == 0, "ack: a decoded ack does not pack");
    glci_wire_ack_t back;
    char err[256];
    int rc = glci_wire_ack_unpack(buf, len, &back, err, sizeof err);
    GLCI_FUZZ_CHECK(rc == 0, "ack: a packed ack does not unpack: %s", err);
    s_same(ack, &back);
    glci_wire_ack_release(&back);
    free(buf);
}

/* The sender states an answer can meet (base = oldest batch in the outbox,
 * next_send = next batch to send). */
static const glci_delivery_t s_states[] = {
    {.state = GLCI_DELIVERY_SENDING, .base = 1, .next_send = 1},
    {.state = GLCI_DELIVERY_SENDING, .base = 5, .next_send = 13},
    {.state = GLCI_DELIVERY_SENDING, .base = 5, .next_send = 13, .gap_target = 7},
    {.state = GLCI_DELIVERY_PAUSED, .base = 5, .next_send = 13, .pause_until = 9000},
    {.state = GLCI_DELIVERY_SUSPECT_LOSS, .base = 5, .next_send = 13, .lost_since = 4500},
    {.state = GLCI_DELIVERY_SUSPECT_LOSS, .base = 5, .next_send = 13, .lost_since = 1000},
    {.state = GLCI_DELIVERY_RESTREAMING, .base = 5, .next_send = 13, .clash_last = 9},
    {.state = GLCI_DELIVERY_DISCONNECTED, .base = 1, .next_send = 1},
    {.state = GLCI_DELIVERY_REFUSED, .base = 5, .next_send = 5, .retry_at = 9000},
    /* acked batches 2..4 retained for a restored collector */
    {.state = GLCI_DELIVERY_SENDING, .base = 5, .next_send = 13, .retained_first = 2,
     .retained_last = 4},
    {.state = GLCI_DELIVERY_RECOVERING, .base = 5, .next_send = 4, .retained_first = 2,
     .retained_last = 4, .floor = 2, .gap_target = 3},
};

static void s_decide(const glci_wire_ack_t *ack)
{
    glci_delivery_event_t ev = {
        .kind = glci_delivery_event_of(ack->status, ack->error[0] != 0),
        .seq = ack->seq, .acked = ack->acked, .expected = ack->expected, .now = 5000,
    };
    for (size_t k = 0; k < sizeof s_states / sizeof s_states[0]; k++) {
        const glci_delivery_t *d = &s_states[k];
        glci_delivery_action_t a = glci_delivery_decide(d, &ev);
        switch (a.kind) {
        case GLCI_DACT_CONNECT:
        case GLCI_DACT_DISCONNECT:
        case GLCI_DACT_HANDSHAKE_FAIL:
        case GLCI_DACT_RESUME:
        case GLCI_DACT_CLASH_ABANDON:
        case GLCI_DACT_REBUILD:
            glci_fuzz_fail("delivery: an answer (%s) asked for action %d in state %zu",
                           glci_batch_status_str((int)ack->status), (int)a.kind, k);
        case GLCI_DACT_CLASH_NOTE:
        case GLCI_DACT_CLASH_FINISH:
            GLCI_FUZZ_CHECK(d->state == GLCI_DELIVERY_RESTREAMING,
                            "delivery: a clash noted outside RESTREAMING (state %zu)", k);
            break;
        case GLCI_DACT_RECORD_ACK:
            if (ev.kind == GLCI_DEV_ACK)
                GLCI_FUZZ_CHECK(a.upto == ack->acked, "delivery: an ack recorded %llu, not "
                                "its mark %llu", (unsigned long long)a.upto,
                                (unsigned long long)ack->acked);
            else
                GLCI_FUZZ_CHECK(a.upto <= ack->seq && a.upto <= ack->acked,
                                "delivery: a %s recorded %llu beyond the batch it answers",
                                glci_batch_status_str((int)ack->status),
                                (unsigned long long)a.upto);
            break;
        case GLCI_DACT_REWIND:
            if (ev.kind == GLCI_DEV_GAP)
                GLCI_FUZZ_CHECK(a.target == ack->expected && a.target > 0 &&
                                a.target < d->next_send && a.target != d->gap_target,
                                "delivery: a GAP rewinds to %llu, not to a batch sent "
                                "(state %zu)", (unsigned long long)a.target, k);
            else
                GLCI_FUZZ_CHECK(ev.kind == GLCI_DEV_DUPLICATE_DIFFERS && a.target == d->base,
                                "delivery: a %s rewinds to %llu (state %zu)",
                                glci_batch_status_str((int)ack->status),
                                (unsigned long long)a.target, k);
            break;
        case GLCI_DACT_QUARANTINE:
            GLCI_FUZZ_CHECK(ack->status == GLCI_BATCH_MALFORMED && ack->seq == d->base,
                            "delivery: quarantine of a batch that is not the oldest");
            break;
        case GLCI_DACT_RECOVER:
            GLCI_FUZZ_CHECK(ack->status == GLCI_BATCH_GAP && a.target == ack->expected &&
                            a.target >= d->retained_first && a.target <= d->retained_last &&
                            d->retained_first > 0,
                            "delivery: a recovery from %llu, not a retained batch (state %zu)",
                            (unsigned long long)a.target, k);
            break;
        case GLCI_DACT_SUSPECT_LOSS:
        case GLCI_DACT_REBASE:
            GLCI_FUZZ_CHECK(ack->status == GLCI_BATCH_GAP && ack->expected < d->base,
                            "delivery: a loss suspected without a GAP below the outbox");
            break;
        case GLCI_DACT_NONE:
        case GLCI_DACT_PAUSE:
        case GLCI_DACT_CLASH_BEGIN:
            break;
        }
        GLCI_FUZZ_CHECK(d->state != GLCI_DELIVERY_REFUSED || a.kind == GLCI_DACT_NONE,
                        "delivery: an answer acted on while REFUSED (no socket)");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glci_wire_ack_t ack;
    char err[256];
    int rc = glci_wire_ack_unpack(data, size, &ack, err, sizeof err);
    if (rc != 0) {
        GLCI_FUZZ_CHECK(rc == GLCI_WIRE_EDECODE || rc == GLCI_WIRE_EBUDGET ||
                        rc == GLCI_WIRE_EVERSION || rc == GLCI_WIRE_EFIELD,
                        "ack: undocumented code %d", rc);
        glci_fuzz_check_line("ack decoder error", err, sizeof err);
        GLCI_FUZZ_CHECK(!ack.rejections && ack.n_rejections == 0,
                        "ack: a refused ack holds rejections");
        return 0;
    }
    GLCI_FUZZ_CHECK(glci_batch_status_valid((int)ack.status), "ack: status %d accepted",
                    (int)ack.status);
    if (ack.error[0])
        glci_fuzz_check_line("ack error text", ack.error, sizeof ack.error);
    for (size_t i = 0; i < ack.n_rejections; i++)
        if (ack.rejections[i].message[0])
            glci_fuzz_check_line("rejection message", ack.rejections[i].message,
                                 sizeof ack.rejections[i].message);
    s_roundtrip(&ack);
    s_decide(&ack);
    glci_wire_ack_release(&ack);
    return 0;
}
