/* Delivery of the outbox to the collector (SPEC §4): a ZeroMQ DEALER with
 * CURVE (or, insecure, plain on loopback/ipc), ZMQ_IMMEDIATE, LINGER 0 and
 * ZMTP heartbeats, driven from the daemon's poll loop. The rules below are
 * the decision table of glci_agent_delivery.h; this module carries them
 * out.
 *
 * - A window of batches in flight: batches base .. base+window-1 are sent
 *   without waiting; base is the oldest batch still in the outbox.
 * - Acks are cumulative: an ack for N deletes every batch <= N from the
 *   outbox (one transaction) and moves the window.
 * - GAP: go back to the expected number (once per gap, not once per answer).
 * - GAP below the oldest batch in the outbox (the collector lost batches it
 *   had acknowledged: its store was restored from an older backup): after a
 *   1 s pause and a second such answer, an ALARM is logged with the lost
 *   range and what to do, the outbox moves onto a new stream with its
 *   remaining batches renumbered from 1 (glci_outbox_rebase), and delivery
 *   continues there. Answers for the old stream are then ignored.
 * - DUPLICATE "with different content" for the oldest batch (a cloned or
 *   copied outbox delivered other batches under these numbers): ALARM, wait
 *   for the answers in flight, and move the batches the collector does not
 *   hold onto a new stream (glci_outbox_restream). A DUPLICATE deletes only
 *   up to the batch it answers; a GAP's mark is not taken as an ack.
 * - On every (re)connection (handshake done), resend from the oldest unacked
 *   batch; in flight batches of a dropped connection are assumed lost. If no
 *   ack comes for a while with batches in flight, go back to the oldest too.
 * - While the collector is away, libzmq reconnects with exponential backoff
 *   and random jitter (ZMQ_RECONNECT_IVL 100 ms doubling to
 *   ZMQ_RECONNECT_IVL_MAX 5 s; libzmq adds up to one interval of jitter).
 * - MALFORMED / FORBIDDEN: logged as errors, the batch is kept, sending
 *   pauses with exponential backoff (1 s .. 60 s, jittered; doubled at most
 *   once per pause, however many answers of the window ask) and resumes
 *   from the oldest batch. UNAVAILABLE: the same, logged as a warning.
 * - Rejected observations of an applied batch are stored in the outbox's
 *   dead-letter table in the transaction that records the ack (and their
 *   count in its meta); recording the ack never depends on the dead-letter
 *   file. They are then appended to the file (fsynced) and deleted from the
 *   table in a following transaction; when the file cannot be written they
 *   stay, a warning is logged once per streak of failures and the flush is
 *   retried every second. A crash between the append and the delete writes
 *   those rows again (at-least-once; a repeated row is identical).
 * - New batches stored by other processes (`push`) are noticed by polling
 *   the outbox's next sequence number every 200 ms (a cheap read
 *   transaction).
 * The connection state and last ack time are recorded in the outbox meta
 * for `status`. */
#ifndef GLCI_AGENT_SENDER_H
#define GLCI_AGENT_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "glci_agent_config.h"
#include "glci_agent_delivery.h"
#include "glci_metrics_catalog.h"
#include "glci_outbox.h"

typedef struct glci_agent_sender glci_agent_sender_t;

/* Creates the DEALER (and its monitor) in zctx and connects it to
 * cfg->collector. Loads the city's key pair from cfg->key_file (refused if
 * group or others may read it) and the collector's public key unless
 * cfg->insecure. ob is borrowed. Returns 0, EKEY, ENET, EUSAGE (message in
 * err). */
int glci_agent_sender_open(const glci_agent_config_t *cfg, glci_outbox_t *ob,
                           void *zctx, const char *deadletter,
                           glci_agent_sender_t **out, char *err, size_t errlen);

/* Closes the sockets (linger 0: nothing waits) and sets *self to NULL. */
void glci_agent_sender_close(glci_agent_sender_t **self);

/* The number of poll items the sender needs (2) and their setup: items[0]
 * the DEALER, items[1] the monitor. */
#define GLCI_AGENT_SENDER_NPOLL 2
void glci_agent_sender_poll_items(glci_agent_sender_t *s, zmq_pollitem_t *items);

/* Handles what the poll found (items as filled above, with revents), then
 * sends what the window allows. now is the step's clock (read once by the
 * caller, glci_agent_time_now): every timer and every time recorded in the
 * outbox comes from it. Returns 0, or EOUTBOX when the outbox failed (the
 * daemon logs it and goes on). */
int glci_agent_sender_step(glci_agent_sender_t *s, const zmq_pollitem_t *items,
                           const glci_agent_time_t *now);

/* Milliseconds the poll may sleep before the sender needs a step. */
long glci_agent_sender_timeout(const glci_agent_sender_t *s, int64_t now_ms);

/* Tells the sender the outbox may have new batches (e.g. after a spool
 * file was queued by this process). */
void glci_agent_sender_kick(glci_agent_sender_t *s);

/* 1 while a connection to the collector is up. */
int glci_agent_sender_connected(const glci_agent_sender_t *s);

/* 1 if cfg's key_file and collector_key hold the keys s uses now (read
 * from their files again), 0 if either changed or cannot be read. */
int glci_agent_sender_same_keys(const glci_agent_sender_t *s, const glci_agent_config_t *cfg);

/* Reads one event of a ZeroMQ socket monitor (a PAIR connected to
 * zmq_socket_monitor's endpoint) without waiting: 1 with its number in
 * *event (ZMQ_EVENT_*), 0 if none waits. */
int glci_agent_monitor_read(void *monitor, uint16_t *event);

/* The delivery machine's state. */
glci_delivery_state_t glci_agent_sender_state(const glci_agent_sender_t *s);

/* The connection's state as the outbox records it and the metrics file
 * shows it ("connecting", "connected", "refused", "handshake-failed", ...;
 * `status` shows "handshake-failed" as "refused" with its reason); valid
 * until the next step. */
const char *glci_agent_sender_state_word(const glci_agent_sender_t *s);

/* The counters the sender adds its events to: batches acknowledged and the
 * rejected observations of applied batches by reason (the agent meter's,
 * glci_agent_metrics.h). NULL, the default, counts nothing. Borrowed: m
 * must outlive the sender or be replaced first. */
void glci_agent_sender_set_metrics(glci_agent_sender_t *s, const glci_agent_metrics_t *m);

#endif
