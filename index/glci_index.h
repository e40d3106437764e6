/* The UNESCO Global Learning City Index: the framework model and the exact
 * scoring engine (SPEC §2-§3). Pure computation: no I/O besides reading a
 * framework file, no LMDB, no ZeroMQ.
 *
 * Errors: functions that can fail return 0 or a negative GLCI_INDEX_E* code;
 * glci_index_strerror() names it. Loader errors also fill a caller buffer
 * with "FILE:LINE: message". */
#ifndef GLCI_INDEX_H
#define GLCI_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "glci_obs.h"

enum {
    GLCI_INDEX_OK      = 0,
    GLCI_INDEX_EIO     = -1,   /* framework file cannot be read */
    GLCI_INDEX_EPARSE  = -2,   /* framework text is malformed (see err buffer) */
    GLCI_INDEX_EINVAL  = -3    /* argument out of range (e.g. unknown index) */
};
const char *glci_index_strerror(int code);

/* ---- Framework model (read-only once loaded) ------------------------- */

/* Longest area, focus area or indicator id a framework may define, in bytes.
 * (An observation may name up to GLCI_OBS_INDICATOR_MAX bytes: a longer id
 * than this is simply not in any framework, i.e. an unknown indicator.) */
#define GLCI_FRAMEWORK_ID_MAX 63

typedef enum { GLCI_DIR_HIGHER = 0, GLCI_DIR_LOWER = 1 } glci_direction_t;
typedef enum { GLCI_AGG_ARITHMETIC = 0, GLCI_AGG_GEOMETRIC = 1 } glci_aggregation_t;

typedef struct {
    char *id, *name;
    double weight;
    uint32_t n_focus;
    uint32_t *focus;        /* its focus areas, framework (file) order */
} glci_area_t;

typedef struct {
    char *id, *name;        /* id like "benefits.empowerment" */
    double weight;
    uint32_t area;          /* index into areas[] */
    uint32_t n_ind;
    uint32_t *ind;          /* its indicators, framework (file) order */
} glci_focus_t;

typedef struct {
    char *id, *name, *unit;
    uint32_t focus;         /* index into focus[] */
    glci_direction_t direction;
    double lower, upper;    /* goalposts scored 0 and 100 */
    double min, max;        /* valid range; outside is rejected */
    double weight;
    int has_lights;         /* 1 if the dashboard thresholds below are set */
    double green, red;      /* in the indicator's unit: as good as green is
                               green, as bad as red is red (glci_analysis.h) */
} glci_indicator_t;

/* Which reporting-cycle keys a framework file sets: only those enter its
 * hash, so a file without them keeps the hash it had before they existed. */
#define GLCI_CYCLE_CADENCE 0x1u
#define GLCI_CYCLE_DUE     0x2u
#define GLCI_CYCLE_FUTURE  0x4u

typedef struct glci_framework {
    char *id, *version;
    double min_coverage;            /* default 0.8 */
    int32_t carry_forward;          /* default 2 */
    glci_aggregation_t aggregation; /* default arithmetic */
    int32_t first_period, last_period;  /* default 2000, 2100 */
    /* The reporting cycle (SPEC §7, docs/CYCLE.md). */
    int32_t cadence;                /* years between rounds; default 1 */
    int32_t due_month, due_day;     /* a round for P is due on this day of
                                       year P + 1; default 03-31 */
    int32_t future_periods;         /* periods after the current UTC year a
                                       value may name; default 0 */
    unsigned cycle_set;             /* GLCI_CYCLE_* the file sets (hashed) */
    uint32_t n_areas, n_focus, n_ind;
    glci_area_t *areas;
    glci_focus_t *focus;
    glci_indicator_t *ind;
    unsigned char hash[32];         /* SHA-256 of the canonical form (comments,
                                       spacing and key order do not change it) */
    char hash_hex[65];
    char *source;                   /* the text it was loaded from, NUL-terminated */
    size_t source_len;
    void *lookup;                   /* private: id -> indicator index table */
} glci_framework_t;

/* Largest framework text accepted, file or embedded: 1 KiB for each of the
 * at most 65,535 indicators and 1 KiB for the rest (docs/FRAMEWORK.md). */
#define GLCI_FRAMEWORK_MAX_BYTES ((size_t)64 << 20)

/* Loads a framework file. On success *out owns a new framework (free with
 * glci_framework_free). On failure returns GLCI_INDEX_EIO (cannot open or
 * read; not a regular file, "FILE: is a FIFO, not a regular file"; larger
 * than GLCI_FRAMEWORK_MAX_BYTES, "FILE: N bytes, larger than a framework
 * file can be (67108864)") or GLCI_INDEX_EPARSE and writes
 * "FILE:LINE: message" (or "FILE: message") into err. A FIFO or a device
 * is refused without waiting or reading. */
int glci_framework_load_file(const char *path, glci_framework_t **out,
                             char *err, size_t errlen);

/* Same from text in memory (e.g. the copy embedded in a store); name is used
 * in messages in place of the file name. text need not be NUL-terminated.
 * A text over GLCI_FRAMEWORK_MAX_BYTES is GLCI_INDEX_EPARSE, "NAME: N
 * bytes, larger than a framework file can be (67108864)". */
int glci_framework_load_text(const char *text, size_t len, const char *name,
                             glci_framework_t **out, char *err, size_t errlen);

/* Frees a framework and sets *self to NULL. Accepts NULL and *self == NULL. */
void glci_framework_free(glci_framework_t **self);

/* Index of the indicator with this id (into fw->ind), or -1 if there is
 * none or id is NULL. O(1) on average; no error codes; fw is not changed,
 * so any number of threads may look up at once. */
int32_t glci_framework_indicator(const glci_framework_t *fw, const char *id);

/* The same for areas (index into fw->areas) and focus areas (into
 * fw->focus, ids like "benefits.empowerment"): the index, or -1 if there
 * is none or id is NULL. */
int32_t glci_framework_area(const glci_framework_t *fw, const char *id);
int32_t glci_framework_focus(const glci_framework_t *fw, const char *id);

/* ---- Validation of one observation ----------------------------------- */

/* Checks one observation against the framework: the indicator exists, the
 * period is within the framework's, the value is finite and within the
 * indicator's [min, max]. Its shape (fields present, lengths, text) is
 * glci_obs_check's, which the store asks first. Returns GLCI_REJECT_NONE and
 * the indicator's index in *ind, or the reason with a one-line explanation in
 * msg (e.g. "value 120 outside [0, 100] for adult_learning_rate").
 * MALFORMED only for a missing or empty id; any other id not in the
 * framework, whatever its length, is UNKNOWN_INDICATOR and is echoed in msg
 * escaped with glci_utf8_escape and cut after GLCI_OBS_INDICATOR_MAX bytes
 * ("..."), so msg is always printable, valid UTF-8. msg may be NULL
 * (msglen 0). */
glci_reject_t glci_framework_check(const glci_framework_t *fw,
                                   const char *indicator, int64_t period,
                                   double value, uint32_t *ind,
                                   char *msg, size_t msglen);

/* The indicator and period of an observation without its value: the
 * checks of glci_framework_check that a retraction (which has no value)
 * must pass. Same returns and messages. */
glci_reject_t glci_framework_check_key(const glci_framework_t *fw, const char *indicator,
                                       int64_t period, uint32_t *ind, char *msg,
                                       size_t msglen);

/* The future rule (SPEC §7): a period later than the UTC year of `now`
 * (Unix seconds; the store passes the ingest's receive time) plus
 * future_periods is GLCI_REJECT_FUTURE with "period 2027 is in the future
 * (at most 2026 on 2026-12-01)" in msg (may be NULL); else NONE. Asked
 * after glci_framework_check, which judges the framework's own range. */
glci_reject_t glci_framework_check_future(const glci_framework_t *fw, int64_t period,
                                          int64_t now, char *msg, size_t msglen);

/* ---- Results ----------------------------------------------------------
 *
 * The result of one (city, period) is one flat block of
 * glci_result_size(fw) bytes: this header, then n_areas area nodes, then
 * n_focus focus nodes, then n_ind indicator slots. No pointers and no
 * padding holes: the store writes it to disk as is, and two results are
 * equal exactly when memcmp says so. Absent scores have present == 0 and
 * score == 0.0. */

typedef struct {
    int32_t period;         /* P */
    uint32_t n_values;      /* indicators with a value */
    uint32_t has_index;     /* 1 if index is defined (all areas + coverage) */
    uint32_t reserved;      /* 0 */
    double coverage;        /* n_values / n_ind */
    double index;           /* 0.0 when !has_index */
} glci_result_t;

typedef struct {
    double score;
    uint32_t present;
    uint32_t reserved;      /* 0 */
} glci_node_t;

typedef struct {
    double value;           /* the value used (as observed) */
    double score;           /* indicator score 0..100 */
    int32_t period;         /* period p of the observation used */
    uint32_t present;       /* 1 if a value is used */
} glci_slot_t;

/* Bytes of one result of fw: the header plus n_areas + n_focus nodes plus
 * n_ind slots. A result block must be this large and 8-byte aligned. */
size_t glci_result_size(const glci_framework_t *fw);

/* Sets r (glci_result_size bytes) to "no values" for period P. */
void glci_result_init(const glci_framework_t *fw, glci_result_t *r, int32_t period);

/* Accessors into a result block r of fw: the node of area a (< n_areas),
 * of focus area f (< n_focus), the slot of indicator i (< n_ind). They
 * return pointers INTO r (no copy, nothing to free), valid as long as r is;
 * an index out of range is a programmer error (assert). The _c forms are
 * the same for a const result. */
glci_node_t *glci_result_area(const glci_framework_t *fw, glci_result_t *r, uint32_t a);
glci_node_t *glci_result_focus(const glci_framework_t *fw, glci_result_t *r, uint32_t f);
glci_slot_t *glci_result_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t i);
const glci_node_t *glci_result_area_c(const glci_framework_t *fw, const glci_result_t *r, uint32_t a);
const glci_node_t *glci_result_focus_c(const glci_framework_t *fw, const glci_result_t *r, uint32_t f);
const glci_slot_t *glci_result_slot_c(const glci_framework_t *fw, const glci_result_t *r, uint32_t i);

/* Names the first field in which results a and b of fw (glci_result_size
 * bytes each) differ, in the order: index, coverage, n_values, the header's
 * period and reserved word, each area node (score, then reserved), each
 * focus node, each indicator slot (value, period, score). Writes
 * "FIELD A, B_NAME B" into buf (len bytes, always terminated): FIELD is
 * "index", "coverage", "n_values", "area ID score", "focus ID score",
 * "indicator ID value" / "period" / "score" (or "... reserved"); a score
 * or value that is absent reads "none", numbers are round-trip exact
 * (glci_format_double), so two that print alike are equal. Fields are
 * compared bit for bit, as memcmp compares results: every byte of the
 * block belongs to one of them. Returns 1 if they differ, 0 if not (buf
 * empty). */
int glci_result_diff(const glci_framework_t *fw, const glci_result_t *a,
                     const glci_result_t *b, const char *b_name, char *buf, size_t len);

/* ---- The engine ------------------------------------------------------- */

/* Observation source for a full recomputation: finds the city's observation
 * of indicator ind with the greatest period p, lo <= p <= hi. Returns 1 and
 * sets *period, *value; 0 if there is none; a negative value aborts the
 * computation and is returned by glci_index_full. */
typedef int (*glci_obs_lookup_fn)(void *ctx, uint32_t ind, int32_t lo, int32_t hi,
                                  int32_t *period, double *value);

/* Full path: computes the whole result of one city for period P into out
 * (glci_result_size bytes) from its observations. Returns 0 or the lookup's
 * negative code. */
int glci_index_full(const glci_framework_t *fw, glci_obs_lookup_fn lookup,
                    void *ctx, int32_t period, glci_result_t *out);

/* The periods whose result an observation of period p can change:
 * p .. min(p + carry_forward, last_period). */
void glci_index_affected(const glci_framework_t *fw, int32_t p,
                         int32_t *first, int32_t *last);

/* Incremental path: applies one new or revised observation (indicator ind,
 * period p, value v) to the result r of a period P with p <= P <= p +
 * carry_forward, recomputing only indicator -> focus area -> area -> index.
 * The slot takes the observation if it holds none or one of period <= p.
 * Returns 1 if r changed, 0 if not. After applying every observation of a
 * city, r equals glci_index_full bit for bit. */
int glci_index_apply(const glci_framework_t *fw, glci_result_t *r,
                     uint32_t ind, int32_t p, double v);

/* Retraction path: sets the slot of indicator ind of r to the observation
 * (p, v) when has is 1, or empties it when has is 0, whatever it held, and
 * recomputes only indicator -> focus area -> area -> index. The caller
 * gives what glci_index_full's lookup would find among the city's current
 * observations after the retraction: the greatest period p in [P -
 * carry_forward, P] (P = r->period). Returns 1 if r changed, 0 if not. With
 * glci_index_apply for the values, r equals glci_index_full bit for bit. */
int glci_index_reset(const glci_framework_t *fw, glci_result_t *r, uint32_t ind, int has,
                     int32_t p, double v);

/* The same two paths for many updates of one result: each sets the slot
 * only (and n_values) and returns 1 if it changed; the nodes above it are
 * stale until glci_index_refresh recomputes the focus areas focus[0..n)
 * (every focus area of a changed slot, each at least once), their areas
 * and the index. Then r is what the one-at-a-time calls give, bit for bit,
 * whatever the order of the updates; the cost is one recomputation per
 * focus area touched instead of one per update. */
int glci_index_apply_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t ind,
                          int32_t p, double v);
int glci_index_reset_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t ind, int has,
                          int32_t p, double v);
void glci_index_refresh(const glci_framework_t *fw, glci_result_t *r, const uint32_t *focus,
                        size_t n);

/* A hint, no effect on results: starts loading the memory that
 * glci_index_apply(fw, r, ind, ...) will read and write (the header, the
 * area nodes, the focus nodes of the indicator's area and the slots of its
 * focus area). Issuing it a few observations ahead when applying a batch
 * hides the cache misses of results that are not in cache. */
void glci_index_prefetch(const glci_framework_t *fw, const glci_result_t *r, uint32_t ind);

/* Indicator score of value v (SPEC §3.2), clamped to [0, 100]. */
double glci_indicator_score(const glci_indicator_t *ind, double v);

/* Which of two values of indicator ind is better, in the order its score
 * gives them before clamping (direction and the order of the goalposts):
 * positive if a is better than b, 0 if they are equal, negative if worse.
 * No error codes; a and b are compared as values, so no rounding enters. */
int glci_indicator_better(const glci_indicator_t *ind, double a, double b);

/* 1 if higher values of ind score better (the score's slope is positive:
 * `higher` over lower < upper, or `lower` over lower > upper), 0 if lower
 * values do. What a listing calls the "better" direction; the raw
 * `direction` key alone says it only when lower < upper. */
int glci_indicator_rising(const glci_indicator_t *ind);

/* "higher" or "lower": glci_indicator_rising in words. A static string. */
const char *glci_indicator_better_word(const glci_indicator_t *ind);

/* ---- Rank order (SPEC §3.7) --------------------------------------------
 *
 * The rule every league table follows; the store applies it to what it
 * holds (glci_view_league), and the rank view's byte encoding is the
 * store's. */

/* Order of two ranked entries: score descending, then city id ascending.
 * Negative if a comes first. */
int glci_rank_cmp(double a_score, const char *a_city, double b_score, const char *b_city);

/* The rank of the pos-th entry (from 1) of a table in rank order, given
 * its score and the previous entry's score and rank (ignored for pos 1):
 * equal scores share a rank (1, 2, 2, 4). For tables read one row at a
 * time. */
uint32_t glci_rank_at(size_t pos, double score, double prev_score, uint32_t prev_rank);

/* Ranks for n scores already in rank order (glci_rank_at for each). */
void glci_rank_assign(const double *sorted_desc, size_t n, uint32_t *ranks);

/* ---- The reporting cycle (SPEC §7; glci_cycle.c) -------------------------
 *
 * Rounds: period P is a round when (P - first_period) is a multiple of
 * cadence; the round of P is due on due_month-due_day of year P + 1 and
 * overdue once that day has ended (UTC). The current round is the latest
 * round whose year has ended: the latest round P <= UTC year - 1. */

/* The UTC calendar year of Unix seconds t. */
int32_t glci_utc_year(int64_t t);

/* 1 if P is a round of fw (and within its periods). */
int glci_round_is(const glci_framework_t *fw, int32_t P);

/* The current round at Unix time now into *P: 0, or GLCI_INDEX_EINVAL when
 * no round of the framework's periods has ended yet. */
int glci_round_current(const glci_framework_t *fw, int64_t now, int32_t *P);

/* Unix seconds of 00:00:00 UTC of the day the round of P is due. */
int64_t glci_round_due(const glci_framework_t *fw, int32_t P);

/* "2026-03-31": the due day of P's round (buf at least 11 bytes). */
void glci_round_due_text(const glci_framework_t *fw, int32_t P, char *buf, size_t len);

/* "03-31": the framework's due day as its file writes it (the key `due`;
 * buf at least 6 bytes). */
void glci_round_due_key(const glci_framework_t *fw, char *buf, size_t len);

/* 1 once the due day of P's round has ended at Unix time now. */
int glci_round_past_due(const glci_framework_t *fw, int32_t P, int64_t now);

typedef enum {
    GLCI_ROUND_MISSING = 0,     /* no value of P itself */
    GLCI_ROUND_PARTIAL = 1,     /* some indicators have a value of P */
    GLCI_ROUND_COMPLETE = 2     /* every indicator has a value of P, none carried */
} glci_round_status_t;

/* "missing", "partial", "complete". */
const char *glci_round_status_str(glci_round_status_t s);

/* A city's status for round P from its result of P (NULL when it has
 * none): how many indicators hold a value of P itself (carried ones do not
 * count) into *reported (may be NULL). */
glci_round_status_t glci_round_status(const glci_framework_t *fw, const glci_result_t *r,
                                      uint32_t *reported);

/* ---- The default period (SPEC §7; glci_cycle.c) ---------------------------
 *
 * The one rule every command that defaults a period follows: the latest
 * period in which at least half of the active cities have a reported index
 * (an index and at least one value of the period itself: an index carried
 * whole from earlier periods is not a report for it), else the latest in
 * which any city has one, else the latest period with data. */

typedef enum {
    GLCI_PERIOD_GIVEN = 0,      /* the caller named it (--period) */
    GLCI_PERIOD_HALF,           /* half of the active cities have a reported index */
    GLCI_PERIOD_ANY_INDEX,      /* no period reaches half: the latest with any */
    GLCI_PERIOD_LATEST_DATA,    /* no reported index at all: the latest with data */
    GLCI_PERIOD_EDITION         /* the period an edition was published for */
} glci_period_rule_t;

/* What the rule is told about one candidate period. */
typedef struct {
    int32_t period;
    uint32_t active_indexed;    /* active cities with a reported index */
    uint32_t indexed;           /* cities (active or not) with a reported index */
} glci_period_count_t;

typedef struct {
    int32_t period;
    glci_period_rule_t rule;
    uint32_t active_indexed, n_active;   /* of the chosen period */
} glci_period_choice_t;

/* 1 if a result of period r->period counts for the rule: an index and at
 * least one value of the period itself. */
int glci_result_reported(const glci_framework_t *fw, const glci_result_t *r);

/* 1 once the period counted as c settles the choice: stop offering more. */
int glci_period_half(const glci_period_count_t *c, uint32_t n_active);

/* The choice from counts of candidate periods in descending order (each a
 * period with data), n_active active cities; *out. GLCI_INDEX_EINVAL when
 * n is 0 (no data). */
int glci_period_choose(const glci_period_count_t *counts, size_t n, uint32_t n_active,
                       glci_period_choice_t *out);

/* One line for people naming the rule of a choice: "period 2025: the latest
 * in which at least half of the active cities (4 of 6) have an index". */
void glci_period_rule_text(const glci_period_choice_t *c, char *buf, size_t len);

/* The same as a short word for JSON: "given", "half_of_active",
 * "latest_with_index", "latest_with_data", "edition". */
const char *glci_period_rule_str(glci_period_rule_t rule);

#endif
