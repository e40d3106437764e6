/* How robust each rank is (SPEC §8): a Monte Carlo over method choices in
 * the manner of the JRC's and COINr's uncertainty analysis. Each sample
 * perturbs the weights of each level, the aggregation, the carry-forward,
 * the normalisation and the coverage threshold, recomputes every city's
 * index and ranks the cities; per city the sample ranks give a median and
 * a 5-95 % band, and per choice the same draws applied one at a time give
 * its mean absolute rank shift. docs/ANALYSIS.md has the ranges and why.
 *
 * Exactness: a method is a shallow copy of the framework with other
 * weights, goalposts, aggregation and carry_forward, scored by the
 * engine's own full path (glci_index_full) from the values the stored
 * result holds, and ranked in the rank view's order (index descending, then
 * city id) with glci_rank_assign's shared ranks. With the nominal method
 * the copy is the framework, so the indices are the stored doubles and the
 * ranks are glci rank's, ties included. Min-max and z-score normalisation
 * are goalposts too: min..max, and mean -/+ 5 standard deviations (so
 * z = -5 scores 0, z = +5 scores 100, the engine clamps beyond). Only the
 * coverage threshold is applied outside the engine (the copy has
 * min_coverage 0 and the ranking keeps cities whose coverage is at least
 * the threshold): the engine's test, in the same words.
 *
 * Values for a smaller carry-forward k: the stored result of period P holds,
 * per indicator, the observation of greatest period p in [P - CF, P]; the
 * one of greatest period in [P - k, P] is that same one if p >= P - k, else
 * there is none. So the stored results are all the data a sample needs.
 *
 * Determinism: sample k draws from its own stream seeded from (seed, k) and
 * writes its ranks and shifts to its own row; rows are combined in sample
 * order with integer sums. Threads only decide who computes which row. */
#include "glci_analysis.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* z-scores are mapped to 50 + 10 z: the goalposts are mean -/+ this many
 * standard deviations. */
#define S_Z_SPAN 5.0

struct glci_sens {
    const glci_framework_t *fw;
    int32_t period;
    size_t n;
    glci_city_result_t *cities;     /* copy of the caller's array */
    size_t *by_id;                  /* the cities' indices in city id order */
    int32_t cf_max;                 /* fw->carry_forward */
    /* Goalposts of the data-driven normalisations, per carry-forward k and
     * indicator: [k * n_ind + i]. */
    double *mm_lo, *mm_hi, *z_lo, *z_hi;
};

const char *glci_norm_str(glci_norm_t norm)
{
    switch (norm) {
    case GLCI_NORM_MINMAX: return "minmax";
    case GLCI_NORM_ZSCORE: return "zscore";
    default:               return "goalposts";
    }
}

int glci_norm_parse(const char *text, glci_norm_t *out)
{
    /* docs/ANALYSIS.md writes "min-max" and "z-score", the output the
     * names without the hyphen: a reader may type either. */
    static const struct {
        const char *name;
        glci_norm_t norm;
    } spelt[] = {{"min-max", GLCI_NORM_MINMAX}, {"z-score", GLCI_NORM_ZSCORE}};
    for (int k = GLCI_NORM_GOALPOSTS; k <= GLCI_NORM_ZSCORE; k++) {
        if (strcmp(text, glci_norm_str((glci_norm_t)k)) == 0) {
            *out = (glci_norm_t)k;
            return 0;
        }
    }
    for (size_t k = 0; k < sizeof spelt / sizeof spelt[0]; k++) {
        if (strcmp(text, spelt[k].name) == 0) {
            *out = spelt[k].norm;
            return 0;
        }
    }
    return -1;
}

static const char *const s_choice_names[GLCI_CHOICE_COUNT] = {
    "weights.indicator", "weights.focus", "weights.area", "aggregation",
    "carry_forward", "normalisation", "coverage"
};

const char *glci_choice_str(glci_choice_t choice)
{
    return (unsigned)choice < GLCI_CHOICE_COUNT ? s_choice_names[choice] : NULL;
}

int glci_choice_parse(const char *text, glci_choice_t *out)
{
    for (int k = 0; k < GLCI_CHOICE_COUNT; k++) {
        if (strcmp(text, s_choice_names[k]) == 0) {
            *out = (glci_choice_t)k;
            return 0;
        }
    }
    return -1;
}

void glci_method_nominal(const glci_framework_t *fw, glci_method_t *out)
{
    out->aggregation = fw->aggregation;
    out->normalisation = GLCI_NORM_GOALPOSTS;
    out->carry_forward = fw->carry_forward;
    out->min_coverage = fw->min_coverage;
}

void glci_sens_opts_default(const glci_framework_t *fw, glci_sens_opts_t *out)
{
    memset(out, 0, sizeof *out);
    out->samples = 1000;
    out->seed = 1;
    out->threads = 1;
    out->vary = GLCI_CHOICES_ALL;
    glci_method_nominal(fw, &out->base);
    out->weight_noise = 0.25;
    out->coverage_noise = 0.1;
}

/* ---- Preparing the period's data --------------------------------------- */

/* Goalposts giving every city 50 when all values are v (no spread). */
static void s_flat(double v, double *lo, double *hi)
{
    double d = fabs(v) > 1.0 ? fabs(v) : 1.0;
    *lo = v - d;
    *hi = v + d;
}

/* Statistics of indicator i over the cities whose value is at most k
 * periods old. */
static void s_stats(glci_sens_t *s, int32_t k, uint32_t i, double *vals)
{
    const glci_framework_t *fw = s->fw;
    size_t m = 0, at = (size_t)k * fw->n_ind + i;
    for (size_t c = 0; c < s->n; c++) {
        const glci_slot_t *sl = glci_result_slot_c(fw, s->cities[c].result, i);
        if (sl->present && s->period - sl->period <= k)
            vals[m++] = sl->value;
    }
    if (m == 0) {
        s_flat(0.0, &s->mm_lo[at], &s->mm_hi[at]);
        s_flat(0.0, &s->z_lo[at], &s->z_hi[at]);
        return;
    }
    double lo = vals[0], hi = vals[0], sum = 0.0;
    for (size_t j = 0; j < m; j++) {
        lo = vals[j] < lo ? vals[j] : lo;
        hi = vals[j] > hi ? vals[j] : hi;
        sum += vals[j];
    }
    if (hi > lo) {
        s->mm_lo[at] = lo;
        s->mm_hi[at] = hi;
    } else {
        s_flat(lo, &s->mm_lo[at], &s->mm_hi[at]);
    }
    double mean = sum / (double)m, ss = 0.0;
    for (size_t j = 0; j < m; j++)
        ss += (vals[j] - mean) * (vals[j] - mean);
    double sd = m > 1 ? sqrt(ss / (double)(m - 1)) : 0.0;
    s->z_lo[at] = mean - S_Z_SPAN * sd;
    s->z_hi[at] = mean + S_Z_SPAN * sd;
    if (!(s->z_hi[at] > s->z_lo[at]))
        s_flat(mean, &s->z_lo[at], &s->z_hi[at]);
}

typedef struct {
    const char *id;
    size_t city;
} s_id_t;

static int s_cmp_id(const void *a, const void *b)
{
    return strcmp(((const s_id_t *)a)->id, ((const s_id_t *)b)->id);
}

int glci_sens_new(const glci_framework_t *fw, int32_t period, const glci_city_result_t *cities,
                  size_t n, glci_sens_t **out)
{
    *out = NULL;
    if (n == 0)
        return GLCI_INDEX_EINVAL;
    glci_sens_t *s = glci_xcalloc(1, sizeof *s);
    s->fw = fw;
    s->period = period;
    s->n = n;
    s->cities = glci_xmalloc(n * sizeof *s->cities);
    memcpy(s->cities, cities, n * sizeof *s->cities);
    s->cf_max = fw->carry_forward;
    size_t cells = (size_t)(s->cf_max + 1) * (fw->n_ind ? fw->n_ind : 1);
    s->mm_lo = glci_xmalloc(cells * sizeof(double));
    s->mm_hi = glci_xmalloc(cells * sizeof(double));
    s->z_lo = glci_xmalloc(cells * sizeof(double));
    s->z_hi = glci_xmalloc(cells * sizeof(double));
    s_id_t *ids = glci_xmalloc(n * sizeof *ids);
    for (size_t c = 0; c < n; c++)
        ids[c] = (s_id_t){cities[c].city, c};
    qsort(ids, n, sizeof *ids, s_cmp_id);
    s->by_id = glci_xmalloc(n * sizeof *s->by_id);
    for (size_t c = 0; c < n; c++)
        s->by_id[c] = ids[c].city;
    free(ids);
    double *vals = glci_xmalloc(n * sizeof *vals);
    for (int32_t k = 0; k <= s->cf_max; k++)
        for (uint32_t i = 0; i < fw->n_ind; i++)
            s_stats(s, k, i, vals);
    free(vals);
    *out = s;
    return GLCI_INDEX_OK;
}

void glci_sens_free(glci_sens_t **self)
{
    if (!self || !*self)
        return;
    glci_sens_t *s = *self;
    free(s->cities);
    free(s->by_id);
    free(s->mm_lo);
    free(s->mm_hi);
    free(s->z_lo);
    free(s->z_hi);
    free(s);
    *self = NULL;
}

/* ---- One evaluation ----------------------------------------------------- */

/* An index as a 64-bit key whose ascending order is glci_rank_cmp's
 * descending order of indices: the IEEE-754 bits made order-preserving
 * (sign bit of positives flipped, all bits of negatives), then inverted.
 * -0.0 and 0.0 give the same key, as they are the same index. */
static uint64_t s_sort_key(double index)
{
    uint64_t bits;
    if (index == 0.0)
        index = 0.0;
    memcpy(&bits, &index, sizeof bits);
    bits = (bits >> 63) ? ~bits : bits | (UINT64_C(1) << 63);
    return ~bits;
}

/* A ranked city in a sort: its sort key (s_sort_key: ascending keys are
 * descending indices, equal indices equal keys) and its index in the
 * input. */
typedef struct {
    uint64_t key;
    size_t city;
} s_order_t;

/* A thread's workspace: the method's framework copy and per-city arrays. */
typedef struct {
    const glci_sens_t *s;
    glci_framework_t fw;            /* shallow copy; its three arrays are ours */
    glci_result_t *scratch;
    double *index, *coverage;       /* of the last s_score */
    unsigned char *ok;              /* every area has a score */
    s_order_t *order, *spare;       /* the radix sort's two buffers */
    double *sorted;
    uint32_t *ranks, *alt;
    double *f_ind, *f_focus, *f_area;   /* one sample's weight factors */
} s_work_t;

static void s_work_init(s_work_t *w, const glci_sens_t *s)
{
    const glci_framework_t *fw = s->fw;
    memset(w, 0, sizeof *w);
    w->s = s;
    w->fw = *fw;
    w->fw.areas = glci_xmalloc(fw->n_areas * sizeof *w->fw.areas);
    w->fw.focus = glci_xmalloc((fw->n_focus ? fw->n_focus : 1) * sizeof *w->fw.focus);
    w->fw.ind = glci_xmalloc((fw->n_ind ? fw->n_ind : 1) * sizeof *w->fw.ind);
    w->fw.lookup = NULL;            /* the engine needs no id lookups */
    w->scratch = glci_xmalloc(glci_result_size(fw));
    w->index = glci_xmalloc(s->n * sizeof *w->index);
    w->coverage = glci_xmalloc(s->n * sizeof *w->coverage);
    w->ok = glci_xmalloc(s->n);
    w->order = glci_xmalloc(s->n * sizeof *w->order);
    w->spare = glci_xmalloc(s->n * sizeof *w->spare);
    w->sorted = glci_xmalloc(s->n * sizeof *w->sorted);
    w->ranks = glci_xmalloc(s->n * sizeof *w->ranks);
    w->alt = glci_xmalloc(s->n * sizeof *w->alt);
    w->f_ind = glci_xmalloc((fw->n_ind ? fw->n_ind : 1) * sizeof(double));
    w->f_focus = glci_xmalloc((fw->n_focus ? fw->n_focus : 1) * sizeof(double));
    w->f_area = glci_xmalloc(fw->n_areas * sizeof(double));
}

static void s_work_release(s_work_t *w)
{
    free(w->fw.areas);
    free(w->fw.focus);
    free(w->fw.ind);
    free(w->scratch);
    free(w->index);
    free(w->coverage);
    free(w->ok);
    free(w->order);
    free(w->spare);
    free(w->sorted);
    free(w->ranks);
    free(w->alt);
    free(w->f_ind);
    free(w->f_focus);
    free(w->f_area);
}

/* Makes the workspace's framework copy the method m with the framework's
 * weights times the factors given (NULL: that level keeps its weights
 * exactly). The coverage threshold is left to s_rank. */
static void s_apply(s_work_t *w, const glci_method_t *m, const double *f_ind,
                    const double *f_focus, const double *f_area)
{
    const glci_sens_t *s = w->s;
    const glci_framework_t *fw = s->fw;
    size_t at = (size_t)m->carry_forward * fw->n_ind;
    memcpy(w->fw.areas, fw->areas, fw->n_areas * sizeof *fw->areas);
    memcpy(w->fw.focus, fw->focus, fw->n_focus * sizeof *fw->focus);
    memcpy(w->fw.ind, fw->ind, fw->n_ind * sizeof *fw->ind);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        glci_indicator_t *in = &w->fw.ind[i];
        const double *lo = NULL, *hi = NULL;
        if (f_ind)
            in->weight *= f_ind[i];
        if (m->normalisation == GLCI_NORM_MINMAX) {
            lo = s->mm_lo;
            hi = s->mm_hi;
        } else if (m->normalisation == GLCI_NORM_ZSCORE) {
            lo = s->z_lo;
            hi = s->z_hi;
        }
        /* New goalposts in the framework's order, so "better" stays what
         * the direction and goalposts made it (glci_indicator_better). */
        if (lo && in->lower <= in->upper) {
            in->lower = lo[at + i];
            in->upper = hi[at + i];
        } else if (lo) {
            in->lower = hi[at + i];
            in->upper = lo[at + i];
        }
    }
    for (uint32_t f = 0; f_focus && f < fw->n_focus; f++)
        w->fw.focus[f].weight *= f_focus[f];
    for (uint32_t a = 0; f_area && a < fw->n_areas; a++)
        w->fw.areas[a].weight *= f_area[a];
    w->fw.aggregation = m->aggregation;
    w->fw.carry_forward = m->carry_forward;
    w->fw.min_coverage = 0.0;
}

/* The engine's observation source: the value the stored result holds, if
 * it is recent enough for the copy's carry_forward. ctx is the result's
 * first slot. */
static int s_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value)
{
    const glci_slot_t *sl = (const glci_slot_t *)ctx + ind;
    (void)hi;
    if (!sl->present || sl->period < lo)
        return 0;
    *period = sl->period;
    *value = sl->value;
    return 1;
}

/* Scores every city with the workspace's framework copy. */
static void s_score(s_work_t *w)
{
    const glci_sens_t *s = w->s;
    for (size_t c = 0; c < s->n; c++) {
        const glci_slot_t *slots = glci_result_slot_c(s->fw, s->cities[c].result, 0);
        glci_index_full(&w->fw, s_lookup, (void *)slots, s->period, w->scratch);
        w->ok[c] = w->scratch->has_index != 0;
        w->index[c] = w->scratch->index;
        w->coverage[c] = w->scratch->coverage;
    }
}

/* Sorts order[0..m) by key, stably (LSD radix, a byte a pass; a pass in
 * which every key has the same byte is skipped). Returns the buffer that
 * holds the result: order or spare. */
static s_order_t *s_radix(s_order_t *order, s_order_t *spare, size_t m)
{
    size_t count[256];
    for (int pass = 0; pass < 8; pass++) {
        int shift = 8 * pass;
        memset(count, 0, sizeof count);
        for (size_t k = 0; k < m; k++)
            count[(order[k].key >> shift) & 0xffu]++;
        if (m == 0 || count[(order[0].key >> shift) & 0xffu] == m)
            continue;
        for (size_t b = 0, sum = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t k = 0; k < m; k++)
            spare[count[(order[k].key >> shift) & 0xffu]++] = order[k];
        s_order_t *t = order;
        order = spare;
        spare = t;
    }
    return order;
}

/* Ranks cities scored as (index, coverage, ok) with coverage threshold
 * min_cov into rank[] (input order): the engine's test for an index, the
 * rank view's order (index descending, then city id: cities are taken in id
 * order and the sort is stable) and glci_rank_assign's shared ranks; a
 * city without an index gets the rank after the last ranked one. Returns
 * the number ranked. */
static uint32_t s_rank(s_work_t *w, const double *index, const double *coverage,
                       const unsigned char *ok, double min_cov, uint32_t *rank)
{
    const glci_sens_t *s = w->s;
    size_t m = 0;
    for (size_t j = 0; j < s->n; j++) {
        size_t c = s->by_id[j];
        if (!ok[c] || !(coverage[c] >= min_cov))
            continue;
        w->order[m].key = s_sort_key(index[c]);
        w->order[m].city = c;
        m++;
    }
    const s_order_t *sorted = s_radix(w->order, w->spare, m);
    for (size_t k = 0; k < m; k++)
        w->sorted[k] = index[sorted[k].city];
    glci_rank_assign(w->sorted, m, w->ranks);
    for (size_t c = 0; c < s->n; c++)
        rank[c] = (uint32_t)m + 1;
    for (size_t k = 0; k < m; k++)
        rank[sorted[k].city] = w->ranks[k];
    return (uint32_t)m;
}

static int s_method_ok(const glci_sens_t *s, const glci_method_t *m)
{
    return (m->aggregation == GLCI_AGG_ARITHMETIC || m->aggregation == GLCI_AGG_GEOMETRIC) &&
           (unsigned)m->normalisation <= GLCI_NORM_ZSCORE && m->carry_forward >= 0 &&
           m->carry_forward <= s->cf_max && m->min_coverage >= 0.0 && m->min_coverage <= 1.0;
}

int glci_sens_eval(const glci_sens_t *s, const glci_method_t *m, glci_sens_city_t *out)
{
    if (!s_method_ok(s, m))
        return GLCI_INDEX_EINVAL;
    s_work_t w;
    s_work_init(&w, s);
    s_apply(&w, m, NULL, NULL, NULL);
    s_score(&w);
    uint32_t *rank = glci_xmalloc(s->n * sizeof *rank);
    uint32_t m_ranked = s_rank(&w, w.index, w.coverage, w.ok, m->min_coverage, rank);
    for (size_t c = 0; c < s->n; c++) {
        out[c].ranked = rank[c] <= m_ranked;
        out[c].index = out[c].ranked ? w.index[c] : 0.0;
        out[c].coverage = w.coverage[c];
        out[c].rank = out[c].ranked ? rank[c] : 0;
    }
    free(rank);
    s_work_release(&w);
    return GLCI_INDEX_OK;
}

/* ---- The Monte Carlo ------------------------------------------------------ */

/* SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state stepped by the
 * golden gamma and mixed; statistically sound for streams this short, and
 * seeding a stream per sample needs nothing more. */
static uint64_t s_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t state;
} s_rng_t;

static void s_rng_seed(s_rng_t *r, uint64_t seed, uint64_t sample)
{
    r->state = s_mix64(seed ^ s_mix64(sample + 0x9E3779B97F4A7C15ull));
}

/* Uniform in [0, 1), 53 bits. */
static double s_unif(s_rng_t *r)
{
    uint64_t z = s_mix64(r->state += 0x9E3779B97F4A7C15ull);
    return (double)(z >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, k), k small. */
static int32_t s_below(s_rng_t *r, int32_t k)
{
    return (int32_t)(s_unif(r) * (double)k);
}

/* One sample's draws of every choice. */
typedef struct {
    glci_method_t m;            /* aggregation, normalisation, carry_forward, coverage */
} s_draw_t;

typedef struct {
    const glci_sens_t *s;
    const glci_sens_opts_t *o;
    const uint32_t *nominal;    /* base ranks, input order */
    uint32_t n_ranked;          /* under base */
    const double *b_index, *b_cov;  /* base scores (for coverage-only variants) */
    const unsigned char *b_ok;
    uint32_t *ranks;            /* [sample * n + city] */
    uint32_t *n_ranked_at;      /* [sample] */
    uint64_t *shift;            /* [sample * GLCI_CHOICE_COUNT + choice] */
    atomic_uint next;
} s_job_t;

static void s_draw(s_work_t *w, const s_job_t *j, uint32_t k, s_draw_t *d)
{
    const glci_framework_t *fw = w->s->fw;
    const glci_sens_opts_t *o = j->o;
    s_rng_t r;
    s_rng_seed(&r, o->seed, k);
    for (uint32_t i = 0; i < fw->n_ind; i++)
        w->f_ind[i] = 1.0 - o->weight_noise + 2.0 * o->weight_noise * s_unif(&r);
    for (uint32_t f = 0; f < fw->n_focus; f++)
        w->f_focus[f] = 1.0 - o->weight_noise + 2.0 * o->weight_noise * s_unif(&r);
    for (uint32_t a = 0; a < fw->n_areas; a++)
        w->f_area[a] = 1.0 - o->weight_noise + 2.0 * o->weight_noise * s_unif(&r);
    d->m.aggregation = s_below(&r, 2) ? GLCI_AGG_GEOMETRIC : GLCI_AGG_ARITHMETIC;
    d->m.carry_forward = s_below(&r, w->s->cf_max + 1);
    d->m.normalisation = (glci_norm_t)s_below(&r, 3);
    double lo = o->base.min_coverage - o->coverage_noise;
    double hi = o->base.min_coverage + o->coverage_noise;
    lo = lo < 0.0 ? 0.0 : lo;
    hi = hi > 1.0 ? 1.0 : hi;
    d->m.min_coverage = lo + (hi - lo) * s_unif(&r);
}

/* The base method with choice c (or, for c == GLCI_CHOICE_COUNT, every
 * varied choice) taken from the draw. */
static glci_method_t s_variant(const s_job_t *j, const s_draw_t *d, int c)
{
    glci_method_t m = j->o->base;
    unsigned on = c == GLCI_CHOICE_COUNT ? j->o->vary : 1u << c;
    if (on & (1u << GLCI_CHOICE_AGGREGATION))
        m.aggregation = d->m.aggregation;
    if (on & (1u << GLCI_CHOICE_CARRY_FORWARD))
        m.carry_forward = d->m.carry_forward;
    if (on & (1u << GLCI_CHOICE_NORMALISATION))
        m.normalisation = d->m.normalisation;
    if (on & (1u << GLCI_CHOICE_COVERAGE))
        m.min_coverage = d->m.min_coverage;
    return m;
}

/* Scores and ranks the variant (c as in s_variant) into rank[]. */
static uint32_t s_eval_variant(s_work_t *w, const s_job_t *j, const s_draw_t *d, int c,
                               uint32_t *rank)
{
    unsigned on = c == GLCI_CHOICE_COUNT ? j->o->vary : 1u << c;
    glci_method_t m = s_variant(j, d, c);
    if (!(on & ~(1u << GLCI_CHOICE_COVERAGE)))     /* nothing but the threshold */
        return s_rank(w, j->b_index, j->b_cov, j->b_ok, m.min_coverage, rank);
    s_apply(w, &m, on & (1u << GLCI_CHOICE_WEIGHTS_INDICATOR) ? w->f_ind : NULL,
            on & (1u << GLCI_CHOICE_WEIGHTS_FOCUS) ? w->f_focus : NULL,
            on & (1u << GLCI_CHOICE_WEIGHTS_AREA) ? w->f_area : NULL);
    s_score(w);
    return s_rank(w, w->index, w->coverage, w->ok, m.min_coverage, rank);
}

/* 1 if choice c drawn alone leaves the base method as it is. */
static int s_same_as_base(const s_job_t *j, const s_draw_t *d, int c)
{
    const glci_method_t *b = &j->o->base;
    switch (c) {
    case GLCI_CHOICE_AGGREGATION:   return d->m.aggregation == b->aggregation;
    case GLCI_CHOICE_CARRY_FORWARD: return d->m.carry_forward == b->carry_forward;
    case GLCI_CHOICE_NORMALISATION: return d->m.normalisation == b->normalisation;
    case GLCI_CHOICE_COVERAGE:      return d->m.min_coverage == b->min_coverage;
    default:                        return 0;
    }
}

static void s_sample(s_work_t *w, s_job_t *j, uint32_t k)
{
    const glci_sens_t *s = w->s;
    s_draw_t d;
    s_draw(w, j, k, &d);
    uint32_t *rank = j->ranks + (size_t)k * s->n;
    j->n_ranked_at[k] = s_eval_variant(w, j, &d, GLCI_CHOICE_COUNT, rank);
    for (int c = 0; c < GLCI_CHOICE_COUNT; c++) {
        uint64_t sum = 0;
        if (!(j->o->vary & (1u << c)) || s_same_as_base(j, &d, c))
            continue;
        s_eval_variant(w, j, &d, c, w->alt);
        for (size_t i = 0; i < s->n; i++) {
            if (j->nominal[i] > j->n_ranked)
                continue;           /* not ranked under base */
            sum += w->alt[i] > j->nominal[i] ? w->alt[i] - j->nominal[i]
                                              : j->nominal[i] - w->alt[i];
        }
        j->shift[(size_t)k * GLCI_CHOICE_COUNT + c] = sum;
    }
}

static void s_drain(s_job_t *j)
{
    s_work_t w;
    s_work_init(&w, j->s);
    for (;;) {
        unsigned k = atomic_fetch_add(&j->next, 1u);
        if (k >= j->o->samples)
            break;
        s_sample(&w, j, k);
    }
    s_work_release(&w);
}

static void *s_thread(void *arg)
{
    s_drain(arg);
    return NULL;
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile pct/100 of sorted[0..n): the smallest value with at
 * least pct % of the samples at or below it. */
static uint32_t s_quantile(const uint32_t *sorted, uint32_t n, uint32_t pct)
{
    uint64_t at = ((uint64_t)pct * n + 99u) / 100u;
    return sorted[at ? at - 1 : 0];
}

int glci_sens_run(const glci_sens_t *s, const glci_sens_opts_t *o, glci_sens_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (o->samples == 0 || o->samples > GLCI_SENS_SAMPLES_MAX || o->threads == 0 ||
        o->threads > GLCI_SENS_THREADS_MAX || (o->vary & ~GLCI_CHOICES_ALL) ||
        !s_method_ok(s, &o->base) || !(o->weight_noise >= 0.0 && o->weight_noise < 1.0) ||
        !(o->coverage_noise >= 0.0 && o->coverage_noise <= 1.0) ||
        (size_t)o->samples > SIZE_MAX / sizeof(uint32_t) / s->n)
        return GLCI_INDEX_EINVAL;
    size_t n = s->n;
    out->n = n;
    out->nominal = glci_xcalloc(n, sizeof *out->nominal);
    out->median = glci_xcalloc(n, sizeof *out->median);
    out->q05 = glci_xcalloc(n, sizeof *out->q05);
    out->q95 = glci_xcalloc(n, sizeof *out->q95);
    out->ranked_share = glci_xcalloc(n, sizeof *out->ranked_share);

    /* The base: scored once, kept for coverage-only variants. */
    s_work_t w;
    s_work_init(&w, s);
    s_apply(&w, &o->base, NULL, NULL, NULL);
    s_score(&w);
    uint32_t *nominal = glci_xmalloc(n * sizeof *nominal);
    s_job_t j = {.s = s, .o = o, .nominal = nominal, .b_index = w.index, .b_cov = w.coverage,
                 .b_ok = w.ok};
    j.n_ranked = s_rank(&w, w.index, w.coverage, w.ok, o->base.min_coverage, nominal);
    out->n_ranked = j.n_ranked;
    for (size_t c = 0; c < n; c++) {
        glci_sens_city_t *e = &out->nominal[c];
        e->ranked = nominal[c] <= j.n_ranked;
        e->index = e->ranked ? w.index[c] : 0.0;
        e->coverage = w.coverage[c];
        e->rank = e->ranked ? nominal[c] : 0;
    }
    j.ranks = glci_xmalloc((size_t)o->samples * n * sizeof *j.ranks);
    j.n_ranked_at = glci_xmalloc(o->samples * sizeof *j.n_ranked_at);
    j.shift = glci_xcalloc((size_t)o->samples * GLCI_CHOICE_COUNT, sizeof *j.shift);
    atomic_init(&j.next, 0u);

    unsigned want = o->threads < o->samples ? o->threads : o->samples;
    pthread_t *tid = glci_xcalloc(want, sizeof *tid);
    unsigned started = 0;
    for (unsigned t = 1; t < want; t++)
        if (pthread_create(&tid[started], NULL, s_thread, &j) == 0)
            started++;
    s_drain(&j);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);

    /* A sample that ranks no city has no last ranked city to place the
     * others after: it gives no rank at all, and the band is taken over
     * the samples that rank one (every sample, whenever the base ranks a
     * city that no draw can drop). */
    uint32_t *col = glci_xmalloc(o->samples * sizeof *col);
    for (size_t c = 0; c < n; c++) {
        uint32_t ranked = 0, m = 0;
        for (uint32_t k = 0; k < o->samples; k++) {
            uint32_t r = j.ranks[(size_t)k * n + c];
            ranked += r <= j.n_ranked_at[k];
            if (j.n_ranked_at[k] > 0)
                col[m++] = r;
        }
        if (m > 0) {
            qsort(col, m, sizeof *col, s_cmp_u32);
            out->median[c] = s_quantile(col, m, 50);
            out->q05[c] = s_quantile(col, m, 5);
            out->q95[c] = s_quantile(col, m, 95);
        }
        out->ranked_share[c] = (double)ranked / (double)o->samples;
    }
    free(col);
    for (int c = 0; c < GLCI_CHOICE_COUNT; c++) {
        uint64_t sum = 0;
        for (uint32_t k = 0; k < o->samples; k++)
            sum += j.shift[(size_t)k * GLCI_CHOICE_COUNT + c];
        if ((o->vary & (1u << c)) && j.n_ranked > 0)
            out->effect[c] = (double)sum / ((double)o->samples * (double)j.n_ranked);
    }
    free(j.ranks);
    free(j.n_ranked_at);
    free(j.shift);
    free(nominal);
    s_work_release(&w);
    return GLCI_INDEX_OK;
}

void glci_sens_result_release(glci_sens_result_t *r)
{
    free(r->nominal);
    free(r->median);
    free(r->q05);
    free(r->q95);
    free(r->ranked_share);
    memset(r, 0, sizeof *r);
}
