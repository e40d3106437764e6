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

typedef struct glci_framework {
    char *id, *version;
    double min_coverage;            /* default 0.8 */
    int32_t carry_forward;          /* default 2 */
    glci_aggregation_t aggregation; /* default arithmetic */
    int32_t first_period, last_period;  /* default 2000, 2100 */
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

/* Loads a framework file. On success *out owns a new framework (free with
 * glci_framework_free). On failure returns GLCI_INDEX_EIO or
 * GLCI_INDEX_EPARSE and writes "FILE:LINE: message" (or "FILE: message")
 * into err. */
int glci_framework_load_file(const char *path, glci_framework_t **out,
                             char *err, size_t errlen);

/* Same from text in memory (e.g. the copy embedded in a store); name is used
 * in messages in place of the file name. text need not be NUL-terminated. */
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

#endif
