/* The collector's metrics and health (docs/METRICS.md), private to
 * collector/: the registry holding the catalog's collector families, one
 * update per event of the daemon's loop, a socket monitor on the ROUTER
 * that tells handshakes and connections, and the /metrics and /health
 * server (metrics/glci_metrics_http.h) on metrics_listen.
 *
 * Threads: every function here is called by the daemon's thread. The
 * server's own thread renders the registry (whose updates are atomics),
 * answers /health from flags set here (atomics) and, for each active
 * city's last-seen time, reads the store through a read view of its own,
 * which glci_store.h allows beside the daemon's ingest. The daemon never
 * waits for that thread except when a server is stopped (which joins it).
 *
 * Errors: functions that can fail return 0, or -1 with a one-line message
 * in err, as metrics/ does. */
#ifndef GLCI_COLLECTOR_METRICS_H
#define GLCI_COLLECTOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_store.h"
#include "glci_wire.h"

typedef struct glci_collector_meter glci_collector_meter_t;

/* Registers the collector's families for the open store st in folder
 * store_dir (st is borrowed: it must outlive the meter) and sets what is
 * known at start: build info with the store's framework, the store's space
 * and map_max, the round gauges. Nothing is served until
 * glci_collector_meter_serve. Returns 0, or -1 (message in err) when the
 * catalog cannot be registered. */
int glci_collector_meter_open(glci_store_t *st, const char *store_dir,
                              glci_collector_meter_t **out, char *err, size_t errlen);

/* Stops the server (joining its thread) and the monitor, frees the meter,
 * sets *self to NULL. Accepts NULL. Call it before the ROUTER and the
 * store are closed. */
void glci_collector_meter_close(glci_collector_meter_t **self);

/* Watches the connections of router (a socket of ctx) with a ZeroMQ socket
 * monitor: handshakes that succeeded count as accepted (ZAP admitted the
 * key; in insecure mode there is no ZAP and every completed handshake is
 * accepted), those refused by ZAP as refused, every other failure (a wrong
 * collector key, a connection that broke or timed out during the
 * handshake) as failed, and the connections with a completed handshake
 * still open as connected agents. Returns 0, or -1 with the message. */
int glci_collector_meter_watch(glci_collector_meter_t *m, void *ctx, void *router, char *err,
                               size_t errlen);

/* The monitor's socket for the daemon's zmq_poll (NULL before _watch). */
void *glci_collector_meter_socket(const glci_collector_meter_t *m);

/* Takes every event waiting on the monitor's socket. */
void glci_collector_meter_events(glci_collector_meter_t *m);

/* Serves /metrics and /health on metrics_listen (glci_metrics_listen_parse),
 * or nothing when it is NULL. A server already on the same address keeps
 * running; on another address it is stopped and the new one started, and
 * if that fails the old address is served again (message in err, -1).
 * Returns 0 or -1. */
int glci_collector_meter_serve(glci_collector_meter_t *m, const char *metrics_listen,
                               char *err, size_t errlen);

/* The port served (the one bound when the address said 0), or 0 when
 * nothing is served. */
int glci_collector_meter_port(const glci_collector_meter_t *m);

/* Whether the ROUTER is bound: set once it is, cleared before it closes. */
void glci_collector_meter_bound(glci_collector_meter_t *m, int bound);

/* One answered batch: its ack (the status; for an applied batch the
 * rejections by reason) and the observations it carried (those not
 * rejected count as applied). */
void glci_collector_meter_answer(glci_collector_meter_t *m, const glci_wire_ack_t *ack,
                                 size_t n_obs);

/* One group commit: glci_store_ingest's return code, how long it took and
 * how many batches it held (failed commits included). A failed commit makes
 * the collector unhealthy until one succeeds. */
void glci_collector_meter_commit(glci_collector_meter_t *m, int rc, double seconds,
                                 size_t n_batches);

/* Time passes (monotonic ms): at most once a second the store's space is
 * read again (the data file's presence among it, for /health), and the
 * round gauges are brought up to date. */
void glci_collector_meter_tick(glci_collector_meter_t *m, int64_t now_ms);

#endif
