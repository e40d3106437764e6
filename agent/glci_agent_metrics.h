/* glci-agent's metrics file (`metrics_file`, docs/METRICS.md): the
 * catalog's agent families, their gauges filled from the outbox's status
 * and the sender's connection state, their counters from the sender's
 * events, written for node_exporter's textfile collector
 * (metrics/glci_metrics_file.h) by the daemon's thread.
 *
 * The file is rewritten every GLCI_AGENT_METRICS_EVERY_MS and soon after
 * the connection state changes, never more than once a second: a write is
 * a render, one read transaction of the outbox and two fsyncs.
 *
 * Errors: the agent layer's convention (glci_agent_config.h). */
#ifndef GLCI_AGENT_METRICS_H
#define GLCI_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_metrics_catalog.h"
#include "glci_outbox.h"

#define GLCI_AGENT_METRICS_EVERY_MS 15000
#define GLCI_AGENT_METRICS_MIN_MS   1000

typedef struct glci_agent_meter glci_agent_meter_t;

/* Registers the agent's families for city. Returns 0, or EUSAGE with the
 * message in err when the catalog cannot be registered. */
int glci_agent_meter_open(const char *city, glci_agent_meter_t **out, char *err,
                          size_t errlen);

/* Frees the meter and sets *self to NULL; accepts NULL. The file stays. */
void glci_agent_meter_close(glci_agent_meter_t **self);

/* The handles the sender counts its events in (glci_agent_sender_set_metrics);
 * valid until the meter is closed. */
const glci_agent_metrics_t *glci_agent_meter_metrics(const glci_agent_meter_t *m);

/* Writes the file at path ("" for none) when it is due at now_ms (monotonic):
 * the first call, GLCI_AGENT_METRICS_EVERY_MS after the last write, or
 * GLCI_AGENT_METRICS_MIN_MS after it when state (the sender's word,
 * glci_agent_sender_state_word: "connected", "handshake-failed"...; "" or
 * an unknown word selects none) differs from the one last written. A path that changed
 * (a reload) removes the file at the old one. A failed write is logged
 * once a minute while it keeps failing, and tried again a second later. */
void glci_agent_meter_step(glci_agent_meter_t *m, const char *path, glci_outbox_t *ob,
                           const char *state, int64_t now_ms);

/* Writes the file now whatever is due (at the daemon's stop). */
void glci_agent_meter_flush(glci_agent_meter_t *m, const char *path, glci_outbox_t *ob,
                            const char *state, int64_t now_ms);

/* Milliseconds until the next write is due (state as for _step), for the
 * daemon's poll; GLCI_AGENT_METRICS_EVERY_MS when there is no file. */
long glci_agent_meter_timeout(const glci_agent_meter_t *m, const char *path, const char *state,
                              int64_t now_ms);

#endif
