/* A registry of Prometheus metric families and their exposition in the
 * text format 0.0.4, shared by the collector (served over HTTP, see
 * glci_metrics_http.h) and the agent (written to a file for node_exporter's
 * textfile collector, see glci_metrics_file.h).
 *
 * A family has a name, a help text, a type and a fixed set of children:
 * each child is one row of label values given when the family is
 * registered (e.g. status="applied", status="gap", ...), so the hot path
 * names a child by its index and never looks a label up, allocates or
 * locks. Updates are C11 atomics (relaxed: a scrape needs no ordering with
 * other memory), safe from any thread:
 *   - counters are exact unsigned 64-bit integers;
 *   - gauges and histogram sums are doubles stored as their bits, added
 *     with a compare-and-swap loop;
 *   - histogram buckets are one atomic counter each; _count is the sum of
 *     the buckets read at scrape time, so it always equals the +Inf bucket.
 * Each child's storage starts a 64-byte slot of its own, so two threads
 * updating different children never share a cache line.
 *
 * Families whose children are not known in advance (each active city's
 * last-seen time, tens of thousands of them) are "collected": a callback
 * given at registration emits their samples at scrape time, on the
 * scraping thread, so the ingest path maintains nothing for them.
 *
 * Registration and rendering take the registry's mutex; updates do not.
 * Families live until the registry is destroyed, so a handle stays valid
 * as long as the registry. Names follow Prometheus conventions, checked
 * at registration: [a-zA-Z_][a-zA-Z0-9_]* (no colons: they are for
 * recording rules), counters end in "_total", label names do not start
 * with "__", histograms do not use the label "le".
 *
 * Errors: functions that can fail return 0, or -1 with a one-line message
 * naming the family in the caller's buffer (err, errlen), as common/ does.
 * Allocation failure aborts (glci_alloc.h). Passing a child index out of
 * range or a handle of another type is a programmer error (assert). */
#ifndef GLCI_METRICS_H
#define GLCI_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct glci_metrics glci_metrics_t;
typedef struct glci_metric glci_metric_t;
typedef struct glci_metric_sink glci_metric_sink_t;

typedef enum {
    GLCI_METRIC_COUNTER = 0,
    GLCI_METRIC_GAUGE = 1,
    GLCI_METRIC_HISTOGRAM = 2
} glci_metric_type_t;

/* Emits the samples of a collected family through glci_metric_sink_emit.
 * Called on the thread that renders (the HTTP server's, or the agent's
 * when it writes its file), concurrently with everything else the program
 * does, so it reads its sources under their own synchronisation. It runs
 * under the registry's mutex: it must not register families. Returns
 * 0, or a negative value when its source failed: the samples it emitted
 * in that call are then dropped (the family shows its HELP and TYPE only)
 * and glci_metrics_render reports it. */
typedef int (*glci_metric_collect_fn)(void *arg, glci_metric_sink_t *sink);

typedef struct {
    glci_metric_type_t type;
    const char *name;
    const char *help;           /* one line, not empty */
    /* Label names, NULL-terminated; NULL for a family without labels. */
    const char *const *labels;
    /* The children's label values, row after row (one value per label
     * name), NULL-terminated; NULL without labels (one child) and for a
     * collected family. Rows must differ. Any UTF-8 text; invalid bytes
     * are shown as U+FFFD. */
    const char *const *values;
    /* Histograms only: the buckets' upper bounds, finite and strictly
     * ascending (+Inf is implicit), n_buckets >= 1. */
    const double *buckets;
    size_t n_buckets;
    /* Set for a collected family (counters and gauges only). */
    glci_metric_collect_fn collect;
    void *collect_arg;
} glci_metric_spec_t;

/* A new empty registry. Destroy it after every thread that updates,
 * renders or collects has stopped using it. */
glci_metrics_t *glci_metrics_new(void);

/* Frees the registry and every family; sets *self to NULL. Accepts NULL. */
void glci_metrics_destroy(glci_metrics_t **self);

/* Registers a family; spec's strings and arrays are copied. *out receives
 * the family's handle, valid until the registry is destroyed. Returns 0,
 * or -1 (message in err, *out NULL) when a name, label, row, bucket list
 * or the type's rules are wrong, or the name (or a histogram's _bucket,
 * _sum, _count) is already taken; nothing is registered then. */
int glci_metrics_add(glci_metrics_t *reg, const glci_metric_spec_t *spec,
                     glci_metric_t **out, char *err, size_t errlen);

/* The number of children of a registered family (0 for a collected one). */
size_t glci_metric_children(const glci_metric_t *m);

/* ---- the hot path: any thread, no locks ------------------------------- */

void glci_counter_add(glci_metric_t *m, size_t child, uint64_t n);
void glci_counter_inc(glci_metric_t *m, size_t child);

void glci_gauge_set(glci_metric_t *m, size_t child, double v);
void glci_gauge_add(glci_metric_t *m, size_t child, double delta);
/* Sets child to 1 and every other child to 0: a state set such as the
 * agent's connection state. A concurrent scrape may see the switch half
 * done (two 1s or none) for one scrape. */
void glci_gauge_select(glci_metric_t *m, size_t child);

/* Counts v in the first bucket whose bound is >= v (Prometheus' "le") and
 * adds it to the sum. NaN is not counted. */
void glci_histogram_observe(glci_metric_t *m, size_t child, double v);

/* Reads back (tests, log lines). A histogram's count is its buckets' sum. */
uint64_t glci_counter_get(const glci_metric_t *m, size_t child);
double glci_gauge_get(const glci_metric_t *m, size_t child);
uint64_t glci_histogram_count(const glci_metric_t *m, size_t child);
double glci_histogram_sum(const glci_metric_t *m, size_t child);

/* ---- collected families ----------------------------------------------- */

/* Emits one sample of the family being collected: values holds one label
 * value per label name of the family (NULL for a family without labels),
 * value its value. Rows the callback emits twice make an invalid scrape;
 * the callback keeps them distinct. */
void glci_metric_sink_emit(glci_metric_sink_t *sink, const char *const *values,
                           double value);

/* ---- exposition -------------------------------------------------------- */

/* The content type of what glci_metrics_render produces. */
#define GLCI_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Renders every family, in registration order, in the text format 0.0.4:
 * "# HELP" and "# TYPE" lines, then one line per sample (histograms:
 * _bucket{le=...} cumulative, _sum, _count). *text receives the
 * NUL-terminated text (malloc'd, the caller frees) and *len its length
 * (len may be NULL). Returns 0, or -1 when a collect callback failed
 * (message in err naming the first such family): *text is set all the
 * same, without that family's samples. */
int glci_metrics_render(glci_metrics_t *reg, char **text, size_t *len,
                        char *err, size_t errlen);

#endif
