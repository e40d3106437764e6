/* What one authenticated city may cost the collector (issue 20), private to
 * collector/: taking one message off the ROUTER with its frames and bytes
 * counted, the budget of a group commit (batches, payload bytes and
 * observations), and the memory policy that makes the resident size come
 * back after a flood.
 *
 * libzmq hands a message over only once all its frames have arrived, and
 * bounds each frame (ZMQ_MAXMSGSIZE), not the message: the frames of one
 * message sit in libzmq until they are read. What the collector decides is
 * what happens next: a message that is not exactly one frame of at most
 * max_message bytes is answered MALFORMED and never decoded or kept (each
 * extra frame is read and freed at once), and a group stops taking
 * messages once it holds group_max batches, group_bytes payload bytes or
 * group_obs observations (the last message taken may pass the byte and
 * observation budgets; a group holds at least one). ROUTER reads are fair
 * queued across connections, one message each in turn, so a flooding city
 * shares each group with every other city that has a batch waiting, and
 * the budget bounds how long each group's transaction takes: another
 * city's ack waits for at most the group its batch is in and the one
 * before. */
#ifndef GLCI_COLLECTOR_BUDGET_H
#define GLCI_COLLECTOR_BUDGET_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

/* One message as it came off the ROUTER. */
typedef struct {
    unsigned frames;          /* after the routing id: a batch is exactly 1 */
    uint64_t bytes;           /* of all those frames together */
} glci_collector_msg_t;

/* Receives one message without waiting: the routing id into *id and the
 * first frame after it into *body (both initialised here; the caller
 * closes them); every further frame is read, counted into *m and freed at
 * once, so one message keeps one frame in hand whatever it holds. Returns
 * 1 when a message was taken, 0 when none is waiting (nothing to close). */
int glci_collector_recv(void *router, zmq_msg_t *id, zmq_msg_t *body, glci_collector_msg_t *m);

/* The budget of one group commit. */
typedef struct {
    size_t batches_max;
    uint64_t bytes_max;
    uint64_t obs_max;
} glci_collector_group_budget_t;

/* What a group holds so far. */
typedef struct {
    size_t batches;
    uint64_t bytes, obs;
} glci_collector_group_t;

/* 1 while the group may take another message: fewer batches than
 * batches_max, and fewer bytes and observations than their budgets. */
int glci_collector_group_open(const glci_collector_group_t *g,
                              const glci_collector_group_budget_t *b);

/* Counts one message of the group (obs: its observations, 0 when it was
 * refused before decoding). */
void glci_collector_group_add(glci_collector_group_t *g, uint64_t bytes, uint64_t obs);

/* ---- memory --------------------------------------------------------------- */

/* Sets glibc's allocator to give memory back: a fixed mmap threshold (so
 * a frame buffer freed after a flood goes back to the system instead of
 * raising the threshold and staying in the heap), and 8 MiB kept at the top
 * of each heap when it is trimmed, so that a busy store thread does not
 * give back and fault in again the top of its heap at every commit (at
 * most that much of a flood's memory stays in a thread's heap). Call once,
 * before ZeroMQ starts its threads. */
void glci_collector_memory_init(void);

/* Reports work done (bytes taken in) and, when the loop is idle and at
 * least 1 MiB was taken in since the last trim, returns free heap pages of
 * every arena to the system (malloc_trim), at most once a second. */
void glci_collector_memory_note(uint64_t bytes);
void glci_collector_memory_idle(int64_t now_ms);

#endif
