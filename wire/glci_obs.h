/* The observation: one indicator value of a city, the one type every stage
 * of its path uses (the CSV reader makes it, the outbox stores and returns
 * it, the sender packs it, the collector unpacks it, the store ingests it),
 * with what is said about it on the way: the batch statuses, the reject
 * reasons and the one shape check.
 *
 * The shape check is what every stage can judge without the framework:
 * fields present, strings within their limits (glci_limits.h), text that
 * is printable UTF-8. Whether the indicator exists and the value and
 * period are in range is the framework's to say (glci_framework_check,
 * index/), and only the store asks it.
 *
 * Adding a reject reason or a batch status is one line in its table below
 * (and the same number in proto/glci.proto; wire/glci_wire.c checks at
 * compile time that the two agree). */
#ifndef GLCI_OBS_H
#define GLCI_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_limits.h"

/* One observation. Strings are NUL-terminated and owned by whoever made the
 * observation (a CSV result, an outbox batch, a decoded wire batch): each
 * says how long they live. Presence flags tell a real 0 from absent. */
typedef struct {
    const char *indicator;    /* NULL if absent */
    int64_t period;
    double value;
    int64_t observed_at;      /* Unix seconds; 0 unknown */
    const char *source;       /* NULL or "" when none */
    unsigned has_period : 1;
    unsigned has_value : 1;
    unsigned retract : 1;     /* a retraction: the current value of (indicator,
                                 period) is withdrawn; has no value (SPEC §7) */
    /* Set by the wire decoder when the indicator or the source held a NUL
     * byte: C strings end there, so the text seen is cut; the shape check
     * refuses such an observation rather than store the cut text. */
    unsigned indicator_nul : 1;
    unsigned source_nul : 1;
} glci_obs_t;

/* A present observation of indicator, period and value (no source, time
 * unknown), for code that makes observations from parts. */
glci_obs_t glci_obs_make(const char *indicator, int64_t period, double value);

/* A retraction of indicator's value for period: a revision without a value
 * (no source, time unknown). */
glci_obs_t glci_obs_retraction(const char *indicator, int64_t period);

/* ---- Batch statuses: how the collector answers a batch ----------------- */

/* X(NAME, number, text); the numbers are those of proto enum glci.Status. */
#define GLCI_BATCH_STATUSES(X)                                                    \
    X(APPLIED, 1, "applied")         /* stored now; rejections name the invalid */ \
    X(DUPLICATE, 2, "duplicate")     /* at or below the mark: acked again */       \
    X(GAP, 3, "gap")                 /* beyond mark + 1: resend from expected */   \
    X(MALFORMED, 4, "malformed")     /* permanent: never resend as is */           \
    X(FORBIDDEN, 5, "forbidden")     /* permanent: wrong city, revoked key */      \
    X(UNAVAILABLE, 6, "unavailable") /* transient: resend later */

typedef enum {
#define GLCI_X_(name, num, text) GLCI_BATCH_##name = num,
    GLCI_BATCH_STATUSES(GLCI_X_)
#undef GLCI_X_
} glci_batch_status_t;

/* 1 if status is one of the table's numbers. */
int glci_batch_status_valid(int status);

/* The table's text ("applied"...), "unknown" for any other number. */
const char *glci_batch_status_str(int status);

/* ---- Reject reasons: why one observation was not stored ---------------- */

/* X(NAME, number, text, name in proto enum glci.Reason); the numbers are
 * the proto's and are stored in the rejects log, so they never change
 * meaning. */
#define GLCI_REJECT_REASONS(X)                                                 \
    X(NONE, 0, "ok", REASON_UNSPECIFIED)                                       \
    X(UNKNOWN_INDICATOR, 1, "unknown indicator", UNKNOWN_INDICATOR)            \
    X(NOT_FINITE, 2, "value is not finite", NOT_FINITE)                        \
    X(OUT_OF_RANGE, 3, "value out of range", OUT_OF_RANGE)                     \
    X(BAD_PERIOD, 4, "period out of range", BAD_PERIOD)                        \
    X(MALFORMED, 5, "malformed observation", MALFORMED_OBS) /* a field missing, \
                                                               too long, not text */ \
    X(FUTURE, 6, "period in the future", FUTURE_PERIOD) /* after the receive year \
                                                           + future_periods */     \
    X(NOTHING_TO_RETRACT, 7, "nothing to retract", NOTHING_TO_RETRACT) /* no current \
                                                                          value */  \
    X(WRONG_CITY, 8, "wrong city", WRONG_CITY) /* the batch claims another city \
                                                  than its key's: none stored */

typedef enum {
#define GLCI_X_(name, num, text, proto) GLCI_REJECT_##name = num,
    GLCI_REJECT_REASONS(GLCI_X_)
#undef GLCI_X_
} glci_reject_t;

/* The table's text, "unknown reason" for any other number. */
const char *glci_reject_str(glci_reject_t reason);

/* One rejected observation, as the store reports it and an ack carries it. */
typedef struct {
    uint32_t index;           /* position in its batch */
    glci_reject_t reason;
    char message[GLCI_REJECT_MESSAGE_MAX + 1];   /* printable UTF-8 */
} glci_rejection_t;

/* ---- The shape check ----------------------------------------------------- */

/* Checks what can be judged of o without the framework: an indicator of 1
 * to GLCI_OBS_INDICATOR_MAX bytes, a period and a value present, a source
 * (if any) of at most GLCI_OBS_SOURCE_MAX bytes of printable UTF-8 (no
 * control, no bidirectional control character and no line or paragraph
 * separator, glci_utf8_problem), an
 * observed_at of 0 (unknown) or within [GLCI_OBS_OBSERVED_MIN,
 * GLCI_OBS_OBSERVED_MAX], and no string that held a NUL byte. A
 * retraction has a period and no value ("a retraction carries no value"
 * otherwise); any other observation needs its value ("value is missing").
 * Returns GLCI_REJECT_NONE, or GLCI_REJECT_MALFORMED with a one-line
 * message naming the field ("indicator is longer than 64 bytes", "source
 * is 201 bytes, at most 200", "source contains a control character"...)
 * in msg (msglen bytes; msg may be NULL). The message holds no text of o,
 * so it is always printable. */
glci_reject_t glci_obs_check(const glci_obs_t *o, char *msg, size_t msglen);

/* ---- City ids ------------------------------------------------------------ */

/* 1 if id is a valid city id: 1 to GLCI_CITY_ID_MAX bytes of [a-z0-9._-]
 * starting with a letter or digit. The one rule for every id a batch, an
 * enrolment string, a config file or a command names. */
int glci_city_id_valid(const char *id);

#endif
