/* Quiet logging of errors of many kinds (shared/SPEC.md section 9: "a
 * repeated error is logged once per backoff step, not per try"), when the
 * kinds come from outside (a city id, an address, the shape of an error)
 * and may be more than anyone can keep.
 *
 * Each kind (a key string) gets a glci_log_repeat_t of its own in one of
 * a fixed number of slots: its first occurrence is printed, its repeats
 * within the quiet time are counted. A slot is taken over by another kind
 * only when it has nothing left to say (its quiet time over with no repeat
 * counted); when every slot still has something to say, the other kinds
 * share one limiter, whose line says so. So however many kinds a peer
 * makes up, the lines per quiet time stay bounded by the slots plus one.
 * glci_log_kinds_tick, called from the caller's loop, prints the counts of
 * the kinds whose quiet time is over and frees their slots, so a count is
 * never held back for want of a next occurrence; glci_log_kinds_end prints
 * every count still held (at stop).
 *
 * Time is the caller's monotonic clock in milliseconds. Not thread-safe. */
#ifndef GLCI_LOG_KINDS_H
#define GLCI_LOG_KINDS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_log_repeat.h"

typedef struct glci_log_kinds glci_log_kinds_t;

/* A set of slots slots (at least 1), quiet for quiet_ms after a line;
 * others_note is appended to the shared limiter's lines (copied). */
glci_log_kinds_t *glci_log_kinds_new(size_t slots, int64_t quiet_ms, const char *others_note);

/* Prints every count still held (glci_log_kinds_end), then frees; accepts
 * NULL and NULLs the caller's pointer. */
void glci_log_kinds_free(glci_log_kinds_t **self, int64_t now_ms);

/* One occurrence of kind key (cut to 300 bytes) with the line fmt makes at
 * level: printed or counted. Returns 1 if a line was printed. */
int glci_log_kinds(glci_log_kinds_t *k, const char *key, int64_t now_ms, glci_log_level_t level,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The kinds whose quiet time is over print what they counted and free
 * their slots. Returns the lines printed. */
int glci_log_kinds_tick(glci_log_kinds_t *k, int64_t now_ms);

/* Every kind prints what it counted, quiet time over or not, and every
 * slot is freed. Returns the lines printed. */
int glci_log_kinds_end(glci_log_kinds_t *k, int64_t now_ms);

#endif
