/* Unit tests for the sensitivity Monte Carlo (index/glci_sensitivity.c):
 * with no perturbation its indices are the engine's doubles and its ranks
 * glci rank's, ties included, under the shipped framework and under
 * variants made by editing the framework text (geometric aggregation,
 * smaller carry-forward, another coverage threshold); min-max and z-score
 * normalisation against values computed here; the same result for every
 * thread count; the shape of the sample statistics and the effects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_analysis.h"
#include "test_obs.h"

#ifndef GLCI_FRAMEWORK_FILE
#define GLCI_FRAMEWORK_FILE "framework/glci.ini"
#endif

#define P 2025

/* ---- data --------------------------------------------------------------- */

typedef struct {
    char id[32];
    test_obs_t *o;
    size_t n;
} city_t;

static uint64_t s_rng = 42;

static double s_unif(void)
{
    s_rng = s_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(s_rng >> 11) * 0x1.0p-53;
}

/* n cities with values of the last 4 periods (most of P itself) for most
 * indicators, so that about half reach the shipped coverage of 0.8; city
 * 5k+1 copies city 5k (equal indices: ties); a few report little
 * (unranked). */
static city_t *s_cities(const glci_framework_t *fw, size_t n)
{
    city_t *cs = calloc(n, sizeof *cs);
    assert_non_null(cs);
    for (size_t c = 0; c < n; c++) {
        city_t *x = &cs[c];
        snprintf(x->id, sizeof x->id, "city%03zu", c);
        x->o = calloc(fw->n_ind * 2, sizeof *x->o);
        assert_non_null(x->o);
        if (c % 5 == 1) {
            for (size_t k = 0; k < cs[c - 1].n; k++)
                x->o[k] = cs[c - 1].o[k];
            x->n = cs[c - 1].n;
            continue;
        }
        double report = c % 13 == 5 ? 0.5 : 0.93;
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            if (s_unif() > report)
                continue;
            const glci_indicator_t *in = &fw->ind[i];
            double u = s_unif();
            int32_t age = u < 0.6 ? 0 : u < 0.8 ? 1 : u < 0.9 ? 2 : 3;
            double v = in->min + (in->max - in->min) * s_unif();
            double lo = in->lower < in->upper ? in->lower : in->upper;
            double hi = in->lower < in->upper ? in->upper : in->lower;
            if (s_unif() < 0.9)         /* mostly between the goalposts */
                v = lo + (hi - lo) * s_unif();
            if (in->max - in->min == 1.0)
                v = s_unif() < 0.6 ? 1.0 : 0.0;
            x->o[x->n++] = (test_obs_t){i, P - age, v};
        }
    }
    return cs;
}

static void s_cities_free(city_t *cs, size_t n)
{
    for (size_t c = 0; c < n; c++)
        free(cs[c].o);
    free(cs);
}

/* The engine's results of period P for every city, under fw. */
static glci_city_result_t *s_results(const glci_framework_t *fw, const city_t *cs, size_t n)
{
    glci_city_result_t *r = calloc(n, sizeof *r);
    assert_non_null(r);
    for (size_t c = 0; c < n; c++) {
        r[c].city = cs[c].id;
        r[c].result = test_obs_result(fw, cs[c].o, cs[c].n, P);
    }
    return r;
}

static void s_results_free(glci_city_result_t *r, size_t n)
{
    for (size_t c = 0; c < n; c++)
        free((void *)r[c].result);
    free(r);
}

/* glci rank's order over results: index descending, ties by id, equal
 * indices share a rank. rank[c] is 0 for a city without an index. */
typedef struct {
    double index;
    const char *id;
    size_t c;
} ref_t;

static int s_ref_cmp(const void *a, const void *b)
{
    const ref_t *x = a, *y = b;
    return glci_rank_cmp(x->index, x->id, y->index, y->id);
}

static uint32_t s_ref_ranks(const glci_city_result_t *r, size_t n, uint32_t *rank)
{
    ref_t *t = calloc(n, sizeof *t);
    double *sorted = calloc(n, sizeof *sorted);
    uint32_t *rk = calloc(n, sizeof *rk);
    size_t m = 0;
    for (size_t c = 0; c < n; c++) {
        rank[c] = 0;
        if (r[c].result->has_index)
            t[m++] = (ref_t){r[c].result->index, r[c].city, c};
    }
    qsort(t, m, sizeof *t, s_ref_cmp);
    for (size_t k = 0; k < m; k++)
        sorted[k] = t[k].index;
    glci_rank_assign(sorted, m, rk);
    for (size_t k = 0; k < m; k++)
        rank[t[k].c] = rk[k];
    free(t);
    free(sorted);
    free(rk);
    return (uint32_t)m;
}

/* The shipped framework, with the "key = value" lines of up to two keys
 * replaced (key NULL: none), e.g. ("aggregation", "geometric"). */
static glci_framework_t *s_shipped2(const char *k1, const char *v1, const char *k2,
                                    const char *v2)
{
    FILE *f = fopen(GLCI_FRAMEWORK_FILE, "rb");
    assert_non_null(f);
    static char text[1 << 17], edited[(1 << 17) + 256];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    const char *keys[2] = {k1, k2}, *vals[2] = {v1, v2};
    for (int k = 0; k < 2; k++) {
        if (!keys[k])
            continue;
        char *at = strstr(text, keys[k]);
        assert_non_null(at);
        char *eol = strchr(at, '\n');
        assert_non_null(eol);
        int n = snprintf(edited, sizeof edited, "%.*s%s = %s%s", (int)(at - text), text,
                         keys[k], vals[k], eol);
        assert_true(n > 0 && (size_t)n < sizeof text);
        memcpy(text, edited, (size_t)n + 1);
    }
    glci_framework_t *fw = NULL;
    char err[256];
    int rc = glci_framework_load_text(text, strlen(text), "glci.ini", &fw, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return fw;
}

static glci_framework_t *s_shipped(const char *key, const char *value)
{
    return s_shipped2(key, value, NULL, NULL);
}

/* Evaluates method m over `over` (stored results of fw) and checks every
 * city's index bit for bit and rank against the engine's results under
 * `want_fw` (a framework whose nominal method is m). */
static void s_expect_engine(const glci_framework_t *fw, const glci_framework_t *want_fw,
                            const glci_method_t *m, const city_t *cs, size_t n)
{
    glci_city_result_t *over = s_results(fw, cs, n);
    glci_city_result_t *want = s_results(want_fw, cs, n);
    uint32_t *rank = calloc(n, sizeof *rank);
    uint32_t n_ranked = s_ref_ranks(want, n, rank);
    if (!(n_ranked >= 5 && n_ranked < n))
        print_error("%u of %zu ranked\n", n_ranked, n);
    assert_true(n_ranked >= 5 && n_ranked < n);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, over, n, &s), 0);
    glci_sens_city_t *e = calloc(n, sizeof *e);
    assert_int_equal(glci_sens_eval(s, m, e), 0);
    size_t ties = 0, tied_pairs = 0;
    for (size_t c = 0; c < n; c++) {
        tied_pairs += c % 5 == 1 && want[c].result->has_index;
        assert_int_equal(e[c].ranked, want[c].result->has_index != 0);
        assert_int_equal(e[c].rank, rank[c]);
        assert_memory_equal(&e[c].coverage, &want[c].result->coverage, sizeof(double));
        if (e[c].ranked)
            assert_memory_equal(&e[c].index, &want[c].result->index, sizeof(double));
        ties += c > 0 && e[c].ranked && e[c].rank == e[c - 1].rank;
    }
    assert_true(ties >= tied_pairs);
    assert_true(tied_pairs > 0 || n_ranked < 20);

    /* The Monte Carlo with nothing varied: every sample is the method. */
    glci_sens_opts_t o;
    glci_sens_opts_default(fw, &o);
    o.base = *m;
    o.vary = 0;
    o.samples = 5;
    o.threads = 2;
    glci_sens_result_t res;
    assert_int_equal(glci_sens_run(s, &o, &res), 0);
    assert_int_equal(res.n_ranked, n_ranked);
    for (size_t c = 0; c < n; c++) {
        uint32_t r = rank[c] ? rank[c] : n_ranked + 1;
        assert_int_equal(res.nominal[c].rank, rank[c]);
        assert_int_equal(res.median[c], r);
        assert_int_equal(res.q05[c], r);
        assert_int_equal(res.q95[c], r);
        assert_true(res.ranked_share[c] == (rank[c] ? 1.0 : 0.0));
    }
    for (int k = 0; k < GLCI_CHOICE_COUNT; k++)
        assert_true(res.effect[k] == 0.0);
    glci_sens_result_release(&res);
    free(e);
    glci_sens_free(&s);
    free(rank);
    s_results_free(over, n);
    s_results_free(want, n);
}

/* ---- with every perturbation off: the engine ------------------------------ */

static void test_nominal_is_the_engine(void **state)
{
    (void)state;
    glci_framework_t *fw = s_shipped(NULL, NULL);
    city_t *cs = s_cities(fw, 120);
    glci_method_t m;
    glci_method_nominal(fw, &m);
    assert_int_equal(m.normalisation, GLCI_NORM_GOALPOSTS);
    s_expect_engine(fw, fw, &m, cs, 120);
    s_cities_free(cs, 120);
    glci_framework_free(&fw);
}

static void test_geometric_is_a_geometric_framework(void **state)
{
    (void)state;
    glci_framework_t *fw = s_shipped(NULL, NULL);
    glci_framework_t *geo = s_shipped("aggregation", "geometric");
    assert_int_equal(geo->aggregation, GLCI_AGG_GEOMETRIC);
    city_t *cs = s_cities(fw, 120);
    glci_method_t m;
    glci_method_nominal(fw, &m);
    m.aggregation = GLCI_AGG_GEOMETRIC;
    s_expect_engine(fw, geo, &m, cs, 120);
    s_cities_free(cs, 120);
    glci_framework_free(&geo);
    glci_framework_free(&fw);
}

static void test_carry_forward_and_coverage_are_the_engine(void **state)
{
    (void)state;
    glci_framework_t *fw = s_shipped(NULL, NULL);
    city_t *cs = s_cities(fw, 120);
    /* with less carried, coverage falls: lower the bar with it */
    static const char *const cf[] = {"0", "1"};
    for (int k = 0; k < 2; k++) {
        glci_framework_t *v = s_shipped2("carry_forward", cf[k], "min_coverage", "0.5");
        glci_method_t m;
        glci_method_nominal(fw, &m);
        m.carry_forward = k;
        m.min_coverage = 0.5;
        s_expect_engine(fw, v, &m, cs, 120);
        glci_framework_free(&v);
    }
    glci_framework_t *cov = s_shipped("min_coverage", "0.9");
    glci_method_t m;
    glci_method_nominal(fw, &m);
    m.min_coverage = 0.9;
    s_expect_engine(fw, cov, &m, cs, 120);
    glci_framework_free(&cov);
    s_cities_free(cs, 120);
    glci_framework_free(&fw);
}

/* ---- min-max and z-score against values computed here ----------------------- */

/* One area per focus area, so areas are focus areas: a {a.x: i1 higher
 * 0..100, i2 lower 0..50 weight 2}, b {b.y: i3 higher 0..10}. */
static glci_framework_t *s_small(void)
{
    static const char text[] =
        "[framework]\nid = s\nversion = 1\nmin_coverage = 0.6\ncarry_forward = 1\n"
        "[area:a]\nname = A\n[area:b]\nname = B\nweight = 2\n"
        "[focus:a.x]\narea = a\nname = X\n[focus:b.y]\narea = b\nname = Y\n"
        "[indicator:i1]\nfocus = a.x\nname = 1\nunit = %\ndirection = higher\nlower = 0\n"
        "upper = 100\nmin = 0\nmax = 100\n"
        "[indicator:i2]\nfocus = a.x\nname = 2\nunit = n\ndirection = lower\nlower = 0\n"
        "upper = 50\nmin = 0\nmax = 1000\nweight = 2\n"
        "[indicator:i3]\nfocus = b.y\nname = 3\nunit = n\ndirection = higher\nlower = 0\n"
        "upper = 10\nmin = 0\nmax = 100\n";
    glci_framework_t *fw = NULL;
    char err[256];
    assert_int_equal(glci_framework_load_text(text, strlen(text), "s.ini", &fw, err, sizeof err),
                     0);
    return fw;
}

/* Values: NAN for none. Seven cities; b has no i1 (2 of 3 values), g no i3
 * (no area b: unranked); f's i1 is of 2024 (carried; gone with
 * carry_forward 0). */
static const double s_vals[7][3] = {
    {10, 40, 2},  {NAN, 10, 8},   {90, 30, 5}, {30, 5, 9},
    {70, 200, 1}, {60, 20, 6},   {80, 15, NAN},
};

static city_t *s_small_cities(void)
{
    city_t *cs = calloc(7, sizeof *cs);
    assert_non_null(cs);
    for (size_t c = 0; c < 7; c++) {
        snprintf(cs[c].id, sizeof cs[c].id, "%c", (char)('a' + c));
        cs[c].o = calloc(3, sizeof(test_obs_t));
        for (uint32_t i = 0; i < 3; i++)
            if (!isnan(s_vals[c][i]))
                cs[c].o[cs[c].n++] = (test_obs_t){i, c == 5 && i == 0 ? P - 1 : P, s_vals[c][i]};
    }
    return cs;
}

/* The index of each city by hand: normalised scores s_i, a = (s1 + 2 s2) /
 * 3, b = s3, index = (a + 2 b) / 3; cities without i3 have none. norm 1
 * min-max, 2 z-score (50 + 10 z clamped to [0, 100]); with cf0 the
 * carried value of f is absent. */
static void s_by_hand(int norm, int cf0, double *index, int *has)
{
    int dir[3] = {+1, -1, +1};
    double s[7][3];
    int present[7][3];
    for (size_t c = 0; c < 7; c++)
        for (int i = 0; i < 3; i++)
            present[c][i] = !isnan(s_vals[c][i]) && !(cf0 && c == 5 && i == 0);
    for (int i = 0; i < 3; i++) {
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        int m = 0;
        for (size_t c = 0; c < 7; c++) {
            if (!present[c][i])
                continue;
            double v = s_vals[c][i];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
            sum += v;
            m++;
        }
        double mean = sum / m, ss = 0;
        for (size_t c = 0; c < 7; c++)
            if (present[c][i])
                ss += (s_vals[c][i] - mean) * (s_vals[c][i] - mean);
        double sd = sqrt(ss / (m - 1));
        for (size_t c = 0; c < 7; c++) {
            if (!present[c][i])
                continue;
            double v = s_vals[c][i];
            if (norm == 1) {
                s[c][i] = dir[i] > 0 ? 100 * (v - lo) / (hi - lo) : 100 * (hi - v) / (hi - lo);
            } else {
                double z = (v - mean) / sd * dir[i];
                s[c][i] = fmin(100, fmax(0, 50 + 10 * z));
            }
        }
    }
    for (size_t c = 0; c < 7; c++) {
        double a = 0, wa = 0;
        if (present[c][0]) {
            a += s[c][0];
            wa += 1;
        }
        if (present[c][1]) {
            a += 2 * s[c][1];
            wa += 2;
        }
        int n_vals = present[c][0] + present[c][1] + present[c][2];
        has[c] = wa > 0 && present[c][2] && n_vals >= 2;    /* 2/3 >= 0.6 */
        index[c] = has[c] ? (a / wa + 2 * s[c][2]) / 3 : 0;
    }
}

static void s_check_norm(glci_norm_t norm, int cf)
{
    glci_framework_t *fw = s_small();
    city_t *cs = s_small_cities();
    glci_city_result_t *r = s_results(fw, cs, 7);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, r, 7, &s), 0);
    glci_method_t m;
    glci_method_nominal(fw, &m);
    m.normalisation = norm;
    m.carry_forward = cf;
    glci_sens_city_t e[7];
    assert_int_equal(glci_sens_eval(s, &m, e), 0);
    double want[7];
    int has[7];
    s_by_hand(norm == GLCI_NORM_MINMAX ? 1 : 2, cf == 0, want, has);
    /* ranks by hand: count the cities with a strictly greater index */
    for (size_t c = 0; c < 7; c++) {
        assert_int_equal(e[c].ranked, has[c]);
        if (!has[c])
            continue;
        if (fabs(e[c].index - want[c]) > 1e-9)
            print_error("city %zu: %.17g, by hand %.17g\n", c, e[c].index, want[c]);
        assert_true(fabs(e[c].index - want[c]) <= 1e-9);
        uint32_t rank = 1;
        for (size_t d = 0; d < 7; d++)
            rank += has[d] && want[d] > want[c] + 1e-9;
        assert_int_equal(e[c].rank, rank);
    }
    glci_sens_free(&s);
    s_results_free(r, 7);
    s_cities_free(cs, 7);
    glci_framework_free(&fw);
}

static void test_minmax(void **state)
{
    (void)state;
    s_check_norm(GLCI_NORM_MINMAX, 1);
    s_check_norm(GLCI_NORM_MINMAX, 0);
}

static void test_zscore(void **state)
{
    (void)state;
    s_check_norm(GLCI_NORM_ZSCORE, 1);
    s_check_norm(GLCI_NORM_ZSCORE, 0);
}

/* Goalposts given high to low reverse "better"; min-max and z-score keep
 * it: i2 as direction higher, 100 at 0 and 0 at 50 (lower better), scores
 * as the original direction lower, 100 at 0 and 0 at 50. */
static void test_norm_keeps_better(void **state)
{
    (void)state;
    static const char *const texts[2] = {
        "[indicator:i2]\nfocus = a.x\nname = 2\nunit = n\ndirection = lower\nlower = 0\n"
        "upper = 50\nmin = 0\nmax = 1000\nweight = 2\n",
        "[indicator:i2]\nfocus = a.x\nname = 2\nunit = n\ndirection = higher\nlower = 50\n"
        "upper = 0\nmin = 0\nmax = 1000\nweight = 2\n"};
    static const char head[] =
        "[framework]\nid = s\nversion = 1\nmin_coverage = 0.6\ncarry_forward = 1\n"
        "[area:a]\nname = A\n[area:b]\nname = B\nweight = 2\n"
        "[focus:a.x]\narea = a\nname = X\n[focus:b.y]\narea = b\nname = Y\n"
        "[indicator:i1]\nfocus = a.x\nname = 1\nunit = %\ndirection = higher\nlower = 0\n"
        "upper = 100\nmin = 0\nmax = 100\n";
    static const char tail[] =
        "[indicator:i3]\nfocus = b.y\nname = 3\nunit = n\ndirection = higher\nlower = 0\n"
        "upper = 10\nmin = 0\nmax = 100\n";
    city_t *cs = s_small_cities();
    glci_sens_city_t e[2][3][7];
    for (int k = 0; k < 2; k++) {
        char text[2048], err[256];
        snprintf(text, sizeof text, "%s%s%s", head, texts[k], tail);
        glci_framework_t *fw = NULL;
        assert_int_equal(glci_framework_load_text(text, strlen(text), "s.ini", &fw, err,
                                                  sizeof err), 0);
        glci_city_result_t *r = s_results(fw, cs, 7);
        glci_sens_t *s = NULL;
        assert_int_equal(glci_sens_new(fw, P, r, 7, &s), 0);
        for (int norm = 0; norm < 3; norm++) {
            glci_method_t m;
            glci_method_nominal(fw, &m);
            m.normalisation = (glci_norm_t)norm;
            assert_int_equal(glci_sens_eval(s, &m, e[k][norm]), 0);
        }
        glci_sens_free(&s);
        s_results_free(r, 7);
        glci_framework_free(&fw);
    }
    for (int norm = 0; norm < 3; norm++)
        for (size_t c = 0; c < 7; c++) {
            assert_int_equal(e[0][norm][c].rank, e[1][norm][c].rank);
            assert_true(fabs(e[0][norm][c].index - e[1][norm][c].index) < 1e-9);
        }
    s_cities_free(cs, 7);
}

/* A flat indicator (every city the same value) gives every city 50. */
static void test_flat_indicator(void **state)
{
    (void)state;
    glci_framework_t *fw = s_small();
    city_t *cs = s_small_cities();
    for (size_t c = 0; c < 7; c++)
        for (size_t k = 0; k < cs[c].n; k++)
            if (cs[c].o[k].ind == 2)
                cs[c].o[k].value = 4;
    glci_city_result_t *r = s_results(fw, cs, 7);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, r, 7, &s), 0);
    for (int norm = GLCI_NORM_MINMAX; norm <= GLCI_NORM_ZSCORE; norm++) {
        glci_method_t m;
        glci_method_nominal(fw, &m);
        m.normalisation = (glci_norm_t)norm;
        m.min_coverage = 1.0;       /* only cities with all three */
        glci_sens_city_t e[7];
        assert_int_equal(glci_sens_eval(s, &m, e), 0);
        for (size_t c = 0; c < 7; c++) {
            if (!e[c].ranked)
                continue;
            /* index = (a + 2 * 50) / 3 >= 100 / 3 */
            assert_true(e[c].index >= 100.0 / 3.0 - 1e-9);
        }
    }
    glci_sens_free(&s);
    s_results_free(r, 7);
    s_cities_free(cs, 7);
    glci_framework_free(&fw);
}

/* ---- the Monte Carlo --------------------------------------------------------- */

static void s_run(const glci_sens_t *s, const glci_sens_opts_t *o, glci_sens_result_t *r)
{
    assert_int_equal(glci_sens_run(s, o, r), 0);
}

static void s_same(const glci_sens_result_t *a, const glci_sens_result_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->median, b->median, a->n * sizeof *a->median);
    assert_memory_equal(a->q05, b->q05, a->n * sizeof *a->q05);
    assert_memory_equal(a->q95, b->q95, a->n * sizeof *a->q95);
    assert_memory_equal(a->ranked_share, b->ranked_share, a->n * sizeof *a->ranked_share);
    assert_memory_equal(a->nominal, b->nominal, a->n * sizeof *a->nominal);
    assert_memory_equal(a->effect, b->effect, sizeof a->effect);
}

static void test_same_for_every_thread_count(void **state)
{
    (void)state;
    glci_framework_t *fw = s_shipped(NULL, NULL);
    city_t *cs = s_cities(fw, 60);
    glci_city_result_t *r = s_results(fw, cs, 60);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, r, 60, &s), 0);
    glci_sens_opts_t o;
    glci_sens_opts_default(fw, &o);
    o.samples = 150;
    o.seed = 7;
    glci_sens_result_t one, other;
    s_run(s, &o, &one);
    static const unsigned threads[] = {2, 3, 8, 200};
    for (size_t k = 0; k < 4; k++) {
        o.threads = threads[k];
        s_run(s, &o, &other);
        s_same(&one, &other);
        glci_sens_result_release(&other);
    }
    /* every choice moved some rank; the band holds the median */
    for (int c = 0; c < GLCI_CHOICE_COUNT; c++) {
        if (one.effect[c] <= 0.0)
            print_error("choice %s: no effect\n", glci_choice_str((glci_choice_t)c));
        assert_true(one.effect[c] > 0.0);
    }
    size_t wide = 0;
    for (size_t c = 0; c < 60; c++) {
        assert_true(one.q05[c] <= one.median[c] && one.median[c] <= one.q95[c]);
        assert_true(one.q95[c] <= 61);
        wide += one.q95[c] > one.q05[c];
    }
    assert_true(wide > 30);
    /* another seed, another sample */
    o.seed = 8;
    o.threads = 2;
    s_run(s, &o, &other);
    assert_true(memcmp(one.effect, other.effect, sizeof one.effect) != 0);
    glci_sens_result_release(&other);
    glci_sens_result_release(&one);
    glci_sens_free(&s);
    s_results_free(r, 60);
    s_cities_free(cs, 60);
    glci_framework_free(&fw);
}

/* With only the aggregation varied, each sample is the nominal or the
 * geometric table, and the effect is the geometric table's shift times the
 * share of geometric draws (about half). */
static void test_aggregation_alone(void **state)
{
    (void)state;
    glci_framework_t *fw = s_shipped(NULL, NULL);
    city_t *cs = s_cities(fw, 80);
    glci_city_result_t *r = s_results(fw, cs, 80);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, r, 80, &s), 0);
    glci_method_t nom, geo;
    glci_method_nominal(fw, &nom);
    geo = nom;
    geo.aggregation = GLCI_AGG_GEOMETRIC;
    glci_sens_city_t en[80], eg[80];
    assert_int_equal(glci_sens_eval(s, &nom, en), 0);
    assert_int_equal(glci_sens_eval(s, &geo, eg), 0);
    double shift = 0;
    uint32_t n_ranked = 0;
    for (size_t c = 0; c < 80; c++) {
        if (!en[c].ranked)
            continue;
        n_ranked++;
        shift += fabs((double)en[c].rank - (double)eg[c].rank);
    }
    shift /= n_ranked;
    assert_true(shift > 0.5);

    glci_sens_opts_t o;
    glci_sens_opts_default(fw, &o);
    o.vary = 1u << GLCI_CHOICE_AGGREGATION;
    o.samples = 400;
    o.threads = 2;
    glci_sens_result_t res;
    s_run(s, &o, &res);
    for (int c = 0; c < GLCI_CHOICE_COUNT; c++)
        if (c != GLCI_CHOICE_AGGREGATION)
            assert_true(res.effect[c] == 0.0);
    assert_true(res.effect[GLCI_CHOICE_AGGREGATION] > 0.35 * shift);
    assert_true(res.effect[GLCI_CHOICE_AGGREGATION] < 0.65 * shift);
    for (size_t c = 0; c < 80; c++) {
        if (!en[c].ranked)
            continue;
        assert_true(res.median[c] == en[c].rank || res.median[c] == eg[c].rank);
        assert_int_equal(res.q05[c], en[c].rank < eg[c].rank ? en[c].rank : eg[c].rank);
        assert_int_equal(res.q95[c], en[c].rank > eg[c].rank ? en[c].rank : eg[c].rank);
    }
    glci_sens_result_release(&res);
    glci_sens_free(&s);
    s_results_free(r, 80);
    s_cities_free(cs, 80);
    glci_framework_free(&fw);
}

/* The coverage threshold alone: cities with every value are always
 * ranked; b, with 2 of 3 (0.667), only when the threshold is at most that. */
static void test_coverage_alone(void **state)
{
    (void)state;
    glci_framework_t *fw = s_small();
    city_t *cs = s_small_cities();
    glci_city_result_t *r = s_results(fw, cs, 7);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, r, 7, &s), 0);
    glci_sens_opts_t o;
    glci_sens_opts_default(fw, &o);
    o.vary = 1u << GLCI_CHOICE_COVERAGE;
    o.coverage_noise = 0.1;
    o.samples = 300;
    static const double base[2] = {0.6, 0.7};
    for (int k = 0; k < 2; k++) {
        o.base.min_coverage = base[k];
        glci_sens_result_t res;
        s_run(s, &o, &res);
        for (size_t c = 0; c < 7; c++) {
            if (c == 1) {
                /* U(0.5, 0.7): 5/6 of the draws; U(0.6, 0.8): 1/3 */
                double want = k == 0 ? 5.0 / 6.0 : 1.0 / 3.0;
                assert_true(fabs(res.ranked_share[c] - want) < 0.1);
                assert_int_equal(res.nominal[c].ranked, k == 0);
            } else {
                assert_true(res.ranked_share[c] == (c == 6 ? 0.0 : 1.0));
            }
        }
        assert_true(res.effect[GLCI_CHOICE_COVERAGE] > 0.0);
        glci_sens_result_release(&res);
    }
    glci_sens_free(&s);
    s_results_free(r, 7);
    s_cities_free(cs, 7);
    glci_framework_free(&fw);
}

static void test_bad_options(void **state)
{
    (void)state;
    glci_framework_t *fw = s_small();
    city_t *cs = s_small_cities();
    glci_city_result_t *r = s_results(fw, cs, 7);
    glci_sens_t *s = NULL;
    assert_int_equal(glci_sens_new(fw, P, r, 0, &s), GLCI_INDEX_EINVAL);
    assert_null(s);
    assert_int_equal(glci_sens_new(fw, P, r, 7, &s), 0);
    glci_sens_opts_t o, bad;
    glci_sens_opts_default(fw, &o);
    glci_sens_result_t res;
    bad = o;
    bad.samples = 0;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    bad = o;
    bad.threads = 0;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    bad.threads = GLCI_SENS_THREADS_MAX + 1;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    bad = o;
    bad.samples = GLCI_SENS_SAMPLES_MAX + 1;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    bad = o;
    bad.base.carry_forward = 2;     /* the framework's is 1 */
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    glci_sens_city_t e[7];
    assert_int_equal(glci_sens_eval(s, &bad.base, e), GLCI_INDEX_EINVAL);
    bad = o;
    bad.base.min_coverage = 1.5;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    bad = o;
    bad.weight_noise = 1.0;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    bad = o;
    bad.vary = 1u << GLCI_CHOICE_COUNT;
    assert_int_equal(glci_sens_run(s, &bad, &res), GLCI_INDEX_EINVAL);
    glci_sens_result_release(&res);

    glci_choice_t ch;
    glci_norm_t nm;
    for (int c = 0; c < GLCI_CHOICE_COUNT; c++) {
        assert_int_equal(glci_choice_parse(glci_choice_str((glci_choice_t)c), &ch), 0);
        assert_int_equal(ch, c);
    }
    assert_int_equal(glci_choice_parse("weights", &ch), -1);
    assert_int_equal(glci_norm_parse("zscore", &nm), 0);
    assert_int_equal(nm, GLCI_NORM_ZSCORE);
    /* the docs' spelling too; the output keeps the one without hyphen */
    assert_int_equal(glci_norm_parse("z-score", &nm), 0);
    assert_int_equal(nm, GLCI_NORM_ZSCORE);
    assert_int_equal(glci_norm_parse("min-max", &nm), 0);
    assert_int_equal(nm, GLCI_NORM_MINMAX);
    assert_string_equal(glci_norm_str(nm), "minmax");
    assert_int_equal(glci_norm_parse("min_max", &nm), -1);
    assert_int_equal(glci_norm_parse("zscores", &nm), -1);
    glci_sens_free(&s);
    glci_sens_free(&s);
    s_results_free(r, 7);
    s_cities_free(cs, 7);
    glci_framework_free(&fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nominal_is_the_engine),
        cmocka_unit_test(test_geometric_is_a_geometric_framework),
        cmocka_unit_test(test_carry_forward_and_coverage_are_the_engine),
        cmocka_unit_test(test_minmax),
        cmocka_unit_test(test_zscore),
        cmocka_unit_test(test_norm_keeps_better),
        cmocka_unit_test(test_flat_indicator),
        cmocka_unit_test(test_same_for_every_thread_count),
        cmocka_unit_test(test_aggregation_alone),
        cmocka_unit_test(test_coverage_alone),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
