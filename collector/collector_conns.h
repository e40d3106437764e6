/* Which connections to the data ROUTER completed their handshake, from the
 * ROUTER's socket monitor, for glci_collector_connected_agents and the
 * handshakes counter (docs/METRICS.md). Pure bookkeeping: no sockets, so
 * the unit test drives it with event sequences.
 *
 * What libzmq 4.3 gives: ACCEPTED and DISCONNECTED carry the connection's
 * descriptor; HANDSHAKE_SUCCEEDED carries 0 and HANDSHAKE_FAILED_* an error
 * code, so a handshake's result names no connection. A connection that
 * never speaks ZMTP (an HTTP probe, a port scanner) gives ACCEPTED and
 * DISCONNECTED only. Events come in the order they happened, one connection's
 * result always between its ACCEPTED and its DISCONNECTED.
 *
 * So each open descriptor is pending (no result known), ok or failed. A
 * result goes to a pool of results not yet placed; the pool is placed on
 * the pending descriptors once that is unambiguous (as many results as
 * pending descriptors, all alike: the usual case of one handshake at a
 * time). A pending descriptor that disconnects takes a failure from the
 * pool if there is one (a failed handshake is closed at once, an agent
 * stays), an ok if the pool holds more oks than the descriptors left could
 * have, else it never spoke: a failed handshake of its own. A wrong guess
 * among concurrent handshakes moves a count from one connection to
 * another of the same batch, never loses it: the gauge is never below 0,
 * and exact again once the connections concerned have ended. Memory: one
 * byte per descriptor number, up to the highest seen. */
#ifndef GLCI_COLLECTOR_CONNS_H
#define GLCI_COLLECTOR_CONNS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *state;      /* by descriptor: see collector_conns.c */
    size_t cap;
    uint64_t pending, ok_open; /* open descriptors in each state */
    uint64_t pool_ok, pool_failed;
} glci_collector_conns_t;

void glci_collector_conns_init(glci_collector_conns_t *c);
void glci_collector_conns_release(glci_collector_conns_t *c);

/* A connection accepted on descriptor fd. */
void glci_collector_conns_accepted(glci_collector_conns_t *c, uint32_t fd);

/* A handshake completed (ok 1) or failed (ok 0), on a connection not named. */
void glci_collector_conns_result(glci_collector_conns_t *c, int ok);

/* The connection on fd ended. Returns 1 when it is taken for one that never
 * spoke ZMTP (no result of its own): the caller counts a failed handshake
 * for it; else 0. A descriptor not accepted since the watch began is
 * ignored (0). */
int glci_collector_conns_disconnected(glci_collector_conns_t *c, uint32_t fd);

/* Open connections whose handshake completed. */
uint64_t glci_collector_conns_connected(const glci_collector_conns_t *c);

#endif
