/* The collector's batch path between the wire and the store: decode a
 * payload with the limits (the observations come out of the codec as the
 * glci_obs_t the store ingests, no copy here), decide which city it may
 * write (the authenticated one, never the payload's, except in insecure
 * mode; a batch claiming another city is passed on for the store to reject
 * observation by observation), and turn the store's answer into an Ack. No
 * sockets here: the fuzz target drives this code directly. */
#include "glci_collector.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_utf8.h"

/* msg may quote the batch (its claimed city): the ack and the log carry it
 * as printable UTF-8 (glci_utf8_escape). */
static void s_ack_error(glci_wire_ack_t *ack, glci_batch_status_t status, const char *msg)
{
    ack->version = GLCI_WIRE_VERSION;
    ack->status = status;
    glci_utf8_escape(msg, SIZE_MAX, ack->error, sizeof ack->error);
}

int glci_collector_batch_prepare(const void *payload, size_t len, const char *user_id,
                                 const glci_wire_limits_t *lim, glci_collector_batch_t *out,
                                 char city[GLCI_CITY_ID_MAX + 1], glci_wire_ack_t *ack)
{
    char err[GLCI_ACK_ERROR_MAX + 1];
    uint64_t partial[2];
    memset(out, 0, sizeof *out);
    memset(ack, 0, sizeof *ack);
    city[0] = '\0';

    int rc = glci_wire_batch_unpack(payload, len, lim, &out->wb, partial, err, sizeof err);
    if (rc != 0) {
        ack->stream = partial[0];
        ack->seq = partial[1];
        s_ack_error(ack, GLCI_BATCH_MALFORMED, err);
        return GLCI_BATCH_MALFORMED;
    }
    glci_wire_batch_t *wb = out->wb;
    ack->stream = wb->stream;
    ack->seq = wb->seq;

    if (user_id) {
        /* Another city claimed: stored as a batch whose every observation
         * is rejected (the store's rule), so it is answered, recorded in
         * the rejects and never resent; FORBIDDEN would leave the agent
         * retrying it forever. */
        if (wb->city[0] && strcmp(wb->city, user_id) != 0)
            out->claimed = wb->city;
        if (!glci_city_id_valid(user_id)) {
            s_ack_error(ack, GLCI_BATCH_FORBIDDEN, "connection is bound to no valid city");
            goto refuse;
        }
        snprintf(city, GLCI_CITY_ID_MAX + 1, "%s", user_id);
    } else {
        if (!wb->city[0]) {
            s_ack_error(ack, GLCI_BATCH_FORBIDDEN,
                        "batch names no city (needed without CURVE authentication)");
            goto refuse;
        }
        if (!glci_city_id_valid(wb->city)) {
            s_ack_error(ack, GLCI_BATCH_FORBIDDEN, "batch names an invalid city id");
            goto refuse;
        }
        snprintf(city, GLCI_CITY_ID_MAX + 1, "%s", wb->city);
    }

    return 0;

refuse:
    glci_collector_batch_release(out);
    city[0] = '\0';
    return GLCI_BATCH_FORBIDDEN;
}

void glci_collector_batch_release(glci_collector_batch_t *b)
{
    if (!b)
        return;
    glci_wire_batch_free(&b->wb);
}

void glci_collector_ack_from_result(const glci_collector_batch_t *b,
                                    const glci_batch_result_t *r, glci_wire_ack_t *ack)
{
    memset(ack, 0, sizeof *ack);
    ack->version = GLCI_WIRE_VERSION;
    ack->stream = b->wb->stream;
    ack->seq = b->wb->seq;
    ack->acked = r->acked;
    switch (r->status) {
    case GLCI_BATCH_APPLIED:
        ack->status = GLCI_BATCH_APPLIED;
        break;
    case GLCI_BATCH_DUPLICATE:
        ack->status = GLCI_BATCH_DUPLICATE;
        if (r->content_differs)
            snprintf(ack->error, sizeof ack->error,
                     "seq %llu was applied before with different content; not applied",
                     (unsigned long long)b->wb->seq);
        break;
    case GLCI_BATCH_GAP:
        ack->status = GLCI_BATCH_GAP;
        ack->expected = r->expected;
        snprintf(ack->error, sizeof ack->error,
                 "sequence gap: got %llu, expected %llu",
                 (unsigned long long)b->wb->seq, (unsigned long long)r->expected);
        break;
    case GLCI_BATCH_FORBIDDEN:
    default:
        ack->status = GLCI_BATCH_FORBIDDEN;
        snprintf(ack->error, sizeof ack->error, "city unknown or revoked");
        break;
    }
    if (r->n_rejections == 0)
        return;
    /* the store's rejections are the ack's, one type */
    ack->n_rejections = r->n_rejections;
    ack->rejections = glci_xcalloc(r->n_rejections, sizeof *ack->rejections);
    memcpy(ack->rejections, r->rejections, r->n_rejections * sizeof *ack->rejections);
}
