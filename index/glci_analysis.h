/* Analysis for peer learning (SPEC §8): traffic lights on indicator values,
 * trend classes of scores between reporting rounds, the peers that lead
 * where a city is weak, and how much each rank depends on the method
 * (Monte Carlo over method choices). Methods, thresholds and their sources
 * are in docs/ANALYSIS.md.
 *
 * Pure computation over the engine's result blocks (glci_index.h): no I/O,
 * no LMDB. The caller reads the results through the store's views and owns
 * every input; nothing here keeps a pointer into an input after it returns,
 * except where a contract says so.
 *
 * Errors: functions that can fail return 0 or a negative GLCI_INDEX_E* code
 * (glci_index_strerror names it). Allocation failure aborts, as everywhere. */
#ifndef GLCI_ANALYSIS_H
#define GLCI_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_index.h"

/* One city's stored result for a period, as the analysis reads it. city and
 * result stay the caller's and must outlive the call they are passed to
 * (or, for glci_sens_new, the glci_sens_t made from them). */
typedef struct {
    const char *city;
    const glci_result_t *result;
} glci_city_result_t;

/* ---- Traffic lights ---------------------------------------------------- */

typedef enum {
    GLCI_LIGHT_NONE   = 0,      /* no thresholds, or no value */
    GLCI_LIGHT_GREEN  = 1,      /* as good as green or better */
    GLCI_LIGHT_YELLOW = 2,      /* between red and green */
    GLCI_LIGHT_RED    = 3       /* as bad as red or worse */
} glci_light_t;

/* "green", "yellow", "red"; NULL for GLCI_LIGHT_NONE. */
const char *glci_light_str(glci_light_t light);

/* The light of value v of indicator ind: NONE when ind has no thresholds
 * (has_lights == 0), else GREEN, YELLOW or RED, "better" and "worse" as
 * glci_indicator_better orders values. */
glci_light_t glci_light(const glci_indicator_t *ind, double v);

/* The light of the value a result's slot holds: NONE when the slot is
 * empty (present == 0), else glci_light(ind, s->value). */
glci_light_t glci_slot_light(const glci_indicator_t *ind, const glci_slot_t *s);

/* ---- Trends between reporting rounds ----------------------------------- */

/* Points per year on the 0-100 score scale: a per-year change of at least
 * +GLCI_TREND_RATE is improving, of at most -GLCI_TREND_RATE declining,
 * anything between stagnating (see docs/ANALYSIS.md for the source). */
#define GLCI_TREND_RATE 1.0

typedef enum {
    GLCI_TREND_NONE       = 0,  /* no score now, or none in an earlier round */
    GLCI_TREND_IMPROVING  = 1,
    GLCI_TREND_STAGNATING = 2,
    GLCI_TREND_DECLINING  = 3
} glci_trend_t;

/* "improving", "stagnating", "declining"; NULL for GLCI_TREND_NONE. */
const char *glci_trend_str(glci_trend_t trend);

/* The class of a change of per_year points a year (finite). */
glci_trend_t glci_trend_classify(double per_year);

/* A change for people, the one rule wherever one is printed (the trend
 * table, the HTML report, the PDF profile): a sign and two decimals,
 * "+0.97", "-1.00", "0.00" (never "+0.00" or "-0.00"), rounded to the
 * nearest hundredth except that a figure never reads at or beyond
 * +/-GLCI_TREND_RATE when v is inside (-RATE, RATE): 0.996 is "+0.99",
 * so the figure next to "stagnating" never reads as improving or
 * declining. v finite; buf at least 32 bytes (shorter is cut). */
void glci_trend_fmt(double v, char *buf, size_t len);

/* 1 if result r is a reporting round of its city: at least one value it
 * uses was observed for r's own period (is not carried); 0 if every value
 * is carried from earlier rounds (or it holds none). */
int glci_result_is_round(const glci_framework_t *fw, const glci_result_t *r);

/* The scores a trend follows, numbered: node 0 is the index, node 1 + a is
 * area a, node 1 + n_areas + f is focus area f. */
size_t glci_trend_n_nodes(const glci_framework_t *fw);

typedef struct {
    double score;               /* this round's score; 0 when !present */
    int present;
    int has_change;             /* an earlier round had a score for this node */
    int32_t previous;           /* that round's period, when has_change */
    double change;              /* score - that round's score */
    double per_year;            /* change / (period - previous) */
    glci_trend_t trend;         /* of per_year; NONE without a change */
} glci_trend_cell_t;

/* Fills the trend of one city: rounds are its results for n periods in
 * ascending period order (normally those glci_result_is_round accepts);
 * cells has n * glci_trend_n_nodes(fw) entries, row k (cells + k * nodes)
 * for rounds[k]. Each node of a round is compared with the latest earlier
 * round in which that node had a score. Asserts ascending periods. */
void glci_trend_compute(const glci_framework_t *fw, const glci_result_t *const *rounds,
                        size_t n, glci_trend_cell_t *cells);

/* ---- The network's median ---------------------------------------------- */

/* The network's median of n scores (n > 0), the one rule for it wherever a
 * median is shown or compared with (peers' weak focus areas, the report's
 * medians of every score): the middle score, or the mean of the two middle
 * ones when n is even. Sorts v ascending in place. */
double glci_median(double *v, size_t n);

/* ---- Peers: who leads where a city is weak ----------------------------- */

/* The defaults of `glci peers` and of the report's peers: at most this many
 * weak focus areas, and leading cities per focus area. */
#define GLCI_PEERS_DEFAULT_FOCUS 3
#define GLCI_PEERS_DEFAULT_PEERS 3

typedef struct {
    uint32_t ind;               /* indicator (index into fw->ind) */
    double value, score;        /* the peer's value and score */
    int city_present;           /* the city has a value for it */
    double city_value, city_score;  /* when city_present; else 0 */
    double gap;                 /* score - city_score when city_present; else 0 */
} glci_peer_ind_t;

typedef struct {
    size_t city;                /* index into the cities passed in */
    double score;               /* its focus-area score */
    uint32_t rank;              /* its rank in the focus area (ties shared) */
    size_t n_ind;
    glci_peer_ind_t *ind;       /* the indicators that make the difference */
} glci_peer_t;

typedef struct {
    uint32_t focus;             /* focus area (index into fw->focus) */
    double score;               /* the city's score */
    double median;              /* the network's median score */
    size_t n_scored;            /* cities with a score there, the city included */
    size_t n_peers;
    glci_peer_t *peers;         /* best first */
} glci_peer_focus_t;

typedef struct {
    size_t n_focus;
    glci_peer_focus_t *focus;   /* weakest first */
} glci_peers_t;

/* For city cities[self], the focus areas where its score is below the
 * network's median (the median over the n cities with a score there),
 * weakest first (ties in framework order), at most max_focus; for each,
 * the leading cities: scores at or above the network's upper quartile
 * there and above the city's, best first (ties by city id), at most
 * max_peers; for each peer, the indicators of the focus area where it
 * scores higher than the city, or has a value the city lacks: those with a
 * gap first, largest weighted gap first, then those the city lacks, in
 * framework order. A focus area where the city has no score is not listed.
 * cities must hold distinct ids, all results of one period of fw.
 * Returns 0 and fills *out (release with glci_peers_release), or EINVAL
 * when self >= n or max_focus or max_peers is 0. */
int glci_peers_find(const glci_framework_t *fw, const glci_city_result_t *cities, size_t n,
                    size_t self, size_t max_focus, size_t max_peers, glci_peers_t *out);

/* The network of one period prepared for the peers of many of its cities
 * (the report asks for every city's): per focus area, the cities with a
 * score in rank order, their ranks, the median and the upper quartile,
 * computed once. Opaque; immutable once made, so any number of threads may
 * read it. Keeps pointers to fw and cities (the caller's, to outlive it). */
typedef struct glci_peers_net glci_peers_net_t;

/* Prepares the n cities, as glci_peers_find takes them. Returns 0 and *out
 * (free with glci_peers_net_free). */
int glci_peers_net_new(const glci_framework_t *fw, const glci_city_result_t *cities, size_t n,
                       glci_peers_net_t **out);

/* Frees and sets *self to NULL; accepts NULL and *self == NULL. */
void glci_peers_net_free(glci_peers_net_t **self);

/* glci_peers_find for the city cities[self] of the prepared network: the
 * same answer, and the same EINVAL. (glci_peers_find is this over a network
 * made for the one call.) */
int glci_peers_net_find(const glci_peers_net_t *net, size_t self, size_t max_focus,
                        size_t max_peers, glci_peers_t *out);

/* Frees what glci_peers_find allocated and zeroes *p; accepts a zeroed or
 * released one. */
void glci_peers_release(glci_peers_t *p);

/* ---- Sensitivity of ranks to the method -------------------------------- */

typedef enum {
    GLCI_NORM_GOALPOSTS = 0,    /* the framework's goalposts (the engine) */
    GLCI_NORM_MINMAX    = 1,    /* min..max of the period's cities -> 0..100 */
    GLCI_NORM_ZSCORE    = 2     /* 50 + 10 z over the period's cities */
} glci_norm_t;

/* "goalposts", "minmax", "zscore"; parse takes those and "min-max",
 * "z-score" (the docs' spelling) and returns 0 or -1. */
const char *glci_norm_str(glci_norm_t norm);
int glci_norm_parse(const char *text, glci_norm_t *out);

/* The method choices a sample perturbs, in a fixed order. */
typedef enum {
    GLCI_CHOICE_WEIGHTS_INDICATOR = 0,
    GLCI_CHOICE_WEIGHTS_FOCUS     = 1,
    GLCI_CHOICE_WEIGHTS_AREA      = 2,
    GLCI_CHOICE_AGGREGATION       = 3,
    GLCI_CHOICE_CARRY_FORWARD     = 4,
    GLCI_CHOICE_NORMALISATION     = 5,
    GLCI_CHOICE_COVERAGE          = 6,
    GLCI_CHOICE_COUNT             = 7
} glci_choice_t;

#define GLCI_CHOICES_ALL ((1u << GLCI_CHOICE_COUNT) - 1u)

/* "weights.indicator", "weights.focus", "weights.area", "aggregation",
 * "carry_forward", "normalisation", "coverage"; parse returns 0 or -1. */
const char *glci_choice_str(glci_choice_t choice);
int glci_choice_parse(const char *text, glci_choice_t *out);

/* A method apart from the weights: what one sample's choices come to. */
typedef struct {
    glci_aggregation_t aggregation;
    glci_norm_t normalisation;
    int32_t carry_forward;      /* 0 .. fw->carry_forward */
    double min_coverage;        /* 0 .. 1 */
} glci_method_t;

/* The framework's own method: its aggregation, goalposts, carry_forward
 * and min_coverage. */
void glci_method_nominal(const glci_framework_t *fw, glci_method_t *out);

/* The period's data prepared for many evaluations. Opaque; immutable once
 * made, so any number of threads may evaluate it at once. */
typedef struct glci_sens glci_sens_t;

/* Prepares the n results (the period's cities, distinct ids) of period P
 * of fw. Keeps pointers to fw, the ids and the results (the caller's, to
 * outlive the glci_sens_t); precomputes, per carry-forward 0..CF, each
 * indicator's min, max, mean and standard deviation over the cities.
 * Returns 0 and *out (free with glci_sens_free), or EINVAL for n == 0. */
int glci_sens_new(const glci_framework_t *fw, int32_t period, const glci_city_result_t *cities,
                  size_t n, glci_sens_t **out);

/* Frees and sets *self to NULL; accepts NULL and *self == NULL. */
void glci_sens_free(glci_sens_t **self);

typedef struct {
    int ranked;                 /* has an index under the method */
    double index;               /* when ranked; else 0 */
    double coverage;            /* share of indicators with a value */
    uint32_t rank;              /* 1-based, ties shared; 0 when unranked */
} glci_sens_city_t;

/* Evaluates every city under method m with the framework's weights, with
 * the engine's full path (glci_index_full over a copy of the framework
 * whose goalposts, aggregation and carry_forward m sets): with
 * glci_method_nominal the indices and ranks are the stored ones exactly.
 * out has n entries, in the order the cities were given. Returns 0, or
 * EINVAL when m is out of range (carry_forward, min_coverage). */
int glci_sens_eval(const glci_sens_t *s, const glci_method_t *m, glci_sens_city_t *out);

#define GLCI_SENS_SAMPLES_MAX (1u << 30)
#define GLCI_SENS_THREADS_MAX 1024u

typedef struct {
    uint32_t samples;           /* 1 .. GLCI_SENS_SAMPLES_MAX */
    uint64_t seed;              /* same seed, same result */
    unsigned threads;           /* 1 .. GLCI_SENS_THREADS_MAX; the result does
                                   not depend on it */
    unsigned vary;              /* bit 1 << choice for each choice perturbed */
    glci_method_t base;         /* the unperturbed method (nominal, or with
                                   some choices fixed by the caller) */
    double weight_noise;        /* each weight times U(1 - x, 1 + x); [0, 1) */
    double coverage_noise;      /* min_coverage + U(-x, x), clipped to [0, 1] */
} glci_sens_opts_t;

/* Defaults: 1,000 samples, seed 1, 1 thread, every choice varied, the
 * framework's method, weight_noise 0.25, coverage_noise 0.1. */
void glci_sens_opts_default(const glci_framework_t *fw, glci_sens_opts_t *out);

typedef struct {
    size_t n;                   /* cities, in the order given */
    glci_sens_city_t *nominal;  /* under opts.base */
    uint32_t n_ranked;          /* cities ranked under opts.base */
    uint32_t *median, *q05, *q95;   /* ranks over the samples that rank any city
                                       (nearest rank); 0 when none does */
    double *ranked_share;       /* share of samples in which it was ranked */
    /* Mean absolute rank shift of each choice perturbed alone (others at
     * base), over the samples and the cities ranked under base; 0 for a
     * choice not varied or when no city is ranked under base. */
    double effect[GLCI_CHOICE_COUNT];
} glci_sens_result_t;

/* The Monte Carlo: per sample k, a random stream seeded from (seed, k)
 * draws every choice (in choice order, varied or not, so one choice's
 * draws do not depend on which others vary); the varied ones replace
 * base's. In a sample, a city without an index takes the rank after the
 * last ranked city; a sample that ranks no city gives no rank to any.
 * Samples run on opts.threads threads, each sample's ranks stored apart
 * and combined in sample order: the result is the same whatever the
 * thread count (a thread that cannot be started leaves its share to the
 * others). Memory: 4 bytes per city and sample for the
 * ranks, kept until the quantiles are taken. Returns 0 and fills *out
 * (release with glci_sens_result_release), or EINVAL for options out of
 * range (samples, threads, vary, base, the noises) or ranks that would not
 * fit in memory's address range. */
int glci_sens_run(const glci_sens_t *s, const glci_sens_opts_t *opts, glci_sens_result_t *out);

/* Frees the arrays of r and zeroes it; accepts a zeroed or released one. */
void glci_sens_result_release(glci_sens_result_t *r);

#endif
