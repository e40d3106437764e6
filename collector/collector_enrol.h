/* The collector's enrolment endpoint, private to collector/ (SPEC section
 * 9, docs/PROTOCOL.md "Enrolment").
 *
 * A ROUTER of its own, bound to enrol_listen with the collector's key and
 * the ZAP domain "glci-enrol", whose handler admits any CURVE key: an
 * agent that has no registered key yet must be able to finish a handshake
 * to prove it holds the secret half of the key it wants registered. The
 * socket speaks one message, EnrolRequest; whatever a connection sends,
 * the only thing it can cause is one enrolment transaction
 * (glci_store_enrol) when it holds an open invitation's secret. It never
 * reaches the data socket, whose ZAP domain admits registered keys only.
 *
 * Failed tries (a secret no invitation has, a request that does not
 * decode) are limited per source address and in total: more than
 * tries_per_addr from one address, or tries_total from all, within window
 * seconds, and every request (a right one too) is answered LIMITED with
 * the seconds to wait, without looking at the store. A secret has 128
 * random bits, so the limits are not what stops guessing; they keep a
 * prober from making the collector work and from filling its log.
 *
 * Single-threaded: the daemon's main loop only. */
#ifndef GLCI_COLLECTOR_ENROL_H
#define GLCI_COLLECTOR_ENROL_H

#include <stddef.h>
#include <stdint.h>

#include "glci_enrol.h"
#include "glci_store.h"

#define GLCI_COLLECTOR_ENROL_DOMAIN "glci-enrol"

typedef struct {
    uint32_t tries_per_addr;  /* failed tries per address per window */
    uint32_t tries_total;     /* failed tries from all addresses per window */
    int64_t window;           /* seconds */
} glci_collector_enrol_limits_t;

typedef struct glci_collector_enrol glci_collector_enrol_t;

/* st is borrowed and must outlive the handler. */
glci_collector_enrol_t *glci_collector_enrol_new(glci_store_t *st,
                                                 const glci_collector_enrol_limits_t *lim);
/* Prints the refusal counts still held (as glci_collector_enrol_tick does
 * once their minute is over), then frees. */
void glci_collector_enrol_free(glci_collector_enrol_t **self);

/* Called from the loop: prints the counts of refusal kinds whose minute
 * is over without a next refusal, and frees their slots. */
void glci_collector_enrol_tick(glci_collector_enrol_t *e, int64_t mono_ms);

/* New limits (SIGHUP); the counts so far are kept. */
void glci_collector_enrol_set_limits(glci_collector_enrol_t *e,
                                     const glci_collector_enrol_limits_t *lim);

/* Decides one request: frame (len bytes) from a connection whose CURVE
 * key is key_z85 (the ZAP handler's X-Key; NULL if missing) at peer
 * address addr (may be NULL), at now (Unix seconds; mono_ms for the quiet
 * log). Fills *reply; the store is written only for an enrolment. */
void glci_collector_enrol_handle(glci_collector_enrol_t *e, const void *frame, size_t len,
                                 const char *key_z85, const char *addr, int64_t now,
                                 int64_t mono_ms, glci_enrol_reply_t *reply);

/* Answers every request waiting on the enrolment ROUTER sock (one frame
 * each after the routing id; more frames are MALFORMED). Replies are sent
 * without blocking; one that cannot go is dropped (the agent times out and
 * may try again). Returns how many were answered, or -1 if the socket
 * failed. */
int glci_collector_enrol_serve(glci_collector_enrol_t *e, void *sock, int64_t now,
                               int64_t mono_ms);

#endif
