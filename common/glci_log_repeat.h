/* Quiet logging of an error that repeats (shared/SPEC.md section 9: "a
 * repeated error is logged once per backoff step, not per try").
 *
 * One glci_log_repeat_t per error class (a handshake refused, the store
 * full, a dead-letter file that cannot be written...), zero-initialised or
 * GLCI_LOG_REPEAT_INIT. Each occurrence is reported with the time and how
 * long repeats stay quiet after a line is printed: the caller's backoff
 * step (so one line per step) or a fixed window. The first occurrence is
 * printed; later ones within the quiet time are only counted; the first
 * one after it is printed with what was counted:
 *
 *   handshake with tcp://... failed (repeated 12 times in the last 8.0 s)
 *
 * where 12 counts the occurrences since the previous printed line,
 * including this one, and the time is since that line. When the condition
 * ends (a connection is made, a write succeeds) glci_log_repeat_end prints
 * the repeats still unreported, with the last message, and starts over.
 *
 * Time is the caller's monotonic clock in milliseconds (the daemons' loops
 * already hold one; tests pass their own). Not thread-safe: one struct is
 * used by one thread, or under the caller's lock. */
#ifndef GLCI_LOG_REPEAT_H
#define GLCI_LOG_REPEAT_H

#include <stdint.h>

#include "glci_log.h"

typedef struct {
    int printed;              /* a line was printed and not ended */
    int64_t printed_at;       /* when that line was printed */
    int64_t quiet_until;      /* no line before this */
    uint64_t repeats;         /* occurrences counted since that line */
    glci_log_level_t level;   /* of the last occurrence counted */
    char last[512];           /* its message, for glci_log_repeat_end */
} glci_log_repeat_t;

#define GLCI_LOG_REPEAT_INIT {0}

/* Reports one occurrence at now_ms. Prints it (with the count of repeats
 * since the last printed line, if any) when nothing was printed yet or the
 * quiet time is over, and then keeps repeats quiet for quiet_ms (< 0 is
 * taken as 0). Returns 1 if a line was printed, 0 if it was counted. */
int glci_log_repeat(glci_log_repeat_t *r, int64_t now_ms, int64_t quiet_ms,
                    glci_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The condition is over: prints the last counted message with "(repeated
 * N times in the last T s)" when repeats were counted since the last
 * printed line, then starts over, so the next occurrence is printed at
 * once. Returns 1 if a line was printed. */
int glci_log_repeat_end(glci_log_repeat_t *r, int64_t now_ms);

/* From the caller's loop: once the quiet time after a printed line is over
 * with repeats counted since, prints them as glci_log_repeat_end does and
 * starts over, so a count is never held back until the error comes again
 * (it may not). Returns 1 if a line was printed. */
int glci_log_repeat_tick(glci_log_repeat_t *r, int64_t now_ms);

#endif
