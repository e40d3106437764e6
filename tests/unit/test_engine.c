/* Unit tests for the scoring engine (index/glci_engine.c): hand-checked
 * examples for every rule of SPEC §3 (scores, clamping, direction, carry
 * forward, revisions, coverage, missing areas, both aggregations, ranks),
 * each also checked incremental == full with memcmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_index.h"

/* Two areas: x (weight 1) with focus x.f {a (higher, 0..50, w1), b (lower,
 * 10..30, w3)}; y (weight 3) with y.g (w2) {c yes/no} and y.h (w1)
 * {d (higher, 20..80)}. Four indicators; min_coverage and aggregation vary. */
static glci_framework_t *s_fw(const char *min_coverage, const char *aggregation)
{
    char text[2048], err[256];
    snprintf(text, sizeof text,
             "[framework]\nid = e\nversion = 1\nmin_coverage = %s\ncarry_forward = 2\n"
             "aggregation = %s\nfirst_period = 2000\nlast_period = 2030\n"
             "[area:x]\nname = X\n"
             "[focus:x.f]\narea = x\nname = F\n"
             "[indicator:a]\nfocus = x.f\nname = A\nunit = %%\ndirection = higher\n"
             "lower = 0\nupper = 50\nmin = 0\nmax = 100\n"
             "[indicator:b]\nfocus = x.f\nname = B\nunit = %%\ndirection = lower\n"
             "lower = 10\nupper = 30\nmin = 0\nmax = 100\nweight = 3\n"
             "[area:y]\nname = Y\nweight = 3\n"
             "[focus:y.g]\narea = y\nname = G\nweight = 2\n"
             "[indicator:c]\nfocus = y.g\nname = C\nunit = yes/no\ndirection = higher\n"
             "lower = 0\nupper = 1\nmin = 0\nmax = 1\n"
             "[focus:y.h]\narea = y\nname = H\n"
             "[indicator:d]\nfocus = y.h\nname = D\nunit = %%\ndirection = higher\n"
             "lower = 20\nupper = 80\nmin = 0\nmax = 100\n",
             min_coverage, aggregation);
    glci_framework_t *fw = NULL;
    int rc = glci_framework_load_text(text, strlen(text), "e.ini", &fw, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return fw;
}

enum { A, B, C, D };

/* A city's observations in arrival order: the full path's source. */
typedef struct {
    uint32_t ind;
    int32_t period;
    double value;
} obs_t;

typedef struct {
    obs_t o[64];
    size_t n;
} city_t;

static int s_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value)
{
    const city_t *c = ctx;
    int found = 0;
    for (size_t k = 0; k < c->n; k++) {
        const obs_t *o = &c->o[k];
        if (o->ind != ind || o->period < lo || o->period > hi)
            continue;
        if (!found || o->period >= *period) {   /* later arrival revises */
            *period = o->period;
            *value = o->value;
            found = 1;
        }
    }
    return found;
}

static int s_failing_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                            double *value)
{
    return ind == 2 ? -7 : 0;
}

/* One city with results for every period, updated both ways. */
typedef struct {
    const glci_framework_t *fw;
    city_t city;
    glci_result_t *res[31];         /* 2000..2030 */
} fixture_t;

static void s_fix_init(fixture_t *fx, const glci_framework_t *fw)
{
    memset(fx, 0, sizeof *fx);
    fx->fw = fw;
    for (int k = 0; k < 31; k++) {
        fx->res[k] = malloc(glci_result_size(fw));
        assert_non_null(fx->res[k]);
        glci_result_init(fw, fx->res[k], 2000 + k);
    }
}

static void s_fix_release(fixture_t *fx)
{
    for (int k = 0; k < 31; k++)
        free(fx->res[k]);
}

static glci_result_t *s_res(fixture_t *fx, int32_t period)
{
    return fx->res[period - 2000];
}

/* Stores the observation, applies it to every affected period, checks each
 * period equals the full recomputation bit for bit. Returns how many results
 * changed. */
static int s_observe(fixture_t *fx, uint32_t ind, int32_t p, double v)
{
    assert_true(fx->city.n < 64);
    fx->city.o[fx->city.n++] = (obs_t){ind, p, v};
    int32_t first, last;
    glci_index_affected(fx->fw, p, &first, &last);
    int changed = 0;
    for (int32_t P = first; P <= last; P++)
        changed += glci_index_apply(fx->fw, s_res(fx, P), ind, p, v);
    size_t size = glci_result_size(fx->fw);
    glci_result_t *full = malloc(size);
    assert_non_null(full);
    for (int32_t P = 2000; P <= 2030; P++) {
        assert_int_equal(glci_index_full(fx->fw, s_lookup, &fx->city, P, full), 0);
        if (memcmp(full, s_res(fx, P), size) != 0)
            print_error("period %d: incremental differs from full\n", P);
        assert_memory_equal(full, s_res(fx, P), size);
    }
    free(full);
    return changed;
}

/* ---- Tests -------------------------------------------------------------- */

static void test_layout_and_absent(void **state)
{
    glci_framework_t *fw = s_fw("0.75", "arithmetic");
    assert_int_equal(glci_result_size(fw), 32 + 16 * (2 + 3) + 24 * 4);
    size_t size = glci_result_size(fw);
    glci_result_t *r = malloc(size);
    unsigned char *zero = calloc(1, size);
    memset(r, 0xAB, size);
    glci_result_init(fw, r, 2024);
    assert_int_equal(r->period, 2024);
    /* Everything else is zero bytes: absent score 0.0, present 0. */
    assert_memory_equal((unsigned char *)r + 4, zero + 4, size - 4);
    assert_ptr_equal(glci_result_area(fw, r, 0), (glci_node_t *)(void *)((char *)r + 32));
    assert_ptr_equal(glci_result_focus(fw, r, 0), (glci_node_t *)(void *)((char *)r + 64));
    assert_ptr_equal(glci_result_slot(fw, r, 0), (glci_slot_t *)(void *)((char *)r + 112));
    assert_ptr_equal(glci_result_slot_c(fw, r, 3), (glci_slot_t *)(void *)((char *)r + 184));
    assert_ptr_equal(glci_result_focus_c(fw, r, 2), glci_result_focus(fw, r, 2));
    assert_ptr_equal(glci_result_area_c(fw, r, 1), glci_result_area(fw, r, 1));
    free(zero);
    free(r);
    glci_framework_free(&fw);
}

static void test_indicator_score(void **state)
{
    glci_framework_t *fw = s_fw("0.75", "arithmetic");
    const glci_indicator_t *a = &fw->ind[A], *b = &fw->ind[B];
    /* higher: 100 (v - lower) / (upper - lower) */
    assert_true(glci_indicator_score(a, 25) == 50.0);
    assert_true(glci_indicator_score(a, 0) == 0.0);
    assert_true(glci_indicator_score(a, 50) == 100.0);
    assert_true(glci_indicator_score(a, 10) == 20.0);
    /* clamped to [0, 100] */
    assert_true(glci_indicator_score(a, 60) == 100.0);
    assert_true(glci_indicator_score(a, 100) == 100.0);
    /* lower: 100 (upper - v) / (upper - lower) */
    assert_true(glci_indicator_score(b, 15) == 75.0);
    assert_true(glci_indicator_score(b, 10) == 100.0);
    assert_true(glci_indicator_score(b, 30) == 0.0);
    assert_true(glci_indicator_score(b, 5) == 100.0);
    assert_true(glci_indicator_score(b, 40) == 0.0);
    assert_false(signbit(glci_indicator_score(b, 40)));
    assert_false(signbit(glci_indicator_score(b, 30)));
    /* reversed goalposts with "higher" still follow the formula */
    glci_indicator_t rev = *a;
    rev.lower = 50;
    rev.upper = 0;
    assert_true(glci_indicator_score(&rev, 10) == 80.0);
    assert_true(glci_indicator_score(&rev, 50) == 0.0);
    assert_false(signbit(glci_indicator_score(&rev, 50)));
    glci_framework_free(&fw);
}

static void test_hand_checked_arithmetic(void **state)
{
    glci_framework_t *fw = s_fw("0.75", "arithmetic");
    fixture_t fx;
    s_fix_init(&fx, fw);
    assert_int_equal(s_observe(&fx, A, 2024, 25), 3);      /* 2024..2026 change */
    assert_int_equal(s_observe(&fx, B, 2024, 15), 3);
    assert_int_equal(s_observe(&fx, C, 2024, 1), 3);
    glci_result_t *r = s_res(&fx, 2024);
    /* focus x.f = (1*50 + 3*75) / 4 = 68.75; area x the same */
    assert_true(glci_result_focus(fw, r, 0)->score == 68.75);
    assert_true(glci_result_area(fw, r, 0)->score == 68.75);
    /* y.g = 100, y.h absent: area y = 2*100 / 2 */
    assert_int_equal(glci_result_focus(fw, r, 2)->present, 0);
    assert_true(glci_result_focus(fw, r, 2)->score == 0.0);
    assert_true(glci_result_area(fw, r, 1)->score == 100.0);
    /* coverage 3/4 == min_coverage: the index exists, (68.75 + 3*100) / 4 */
    assert_int_equal(r->n_values, 3);
    assert_true(r->coverage == 0.75);
    assert_int_equal(r->has_index, 1);
    assert_true(r->index == (68.75 + 300.0) / 4.0);
    assert_true(fabs(r->index - 92.1875) < 1e-12);

    assert_int_equal(s_observe(&fx, D, 2024, 50), 3);
    /* y.h = 50: area y = (2*100 + 1*50) / 3; index = (68.75 + 3 * y) / 4 */
    double y = (2.0 * 100.0 + 1.0 * 50.0) / 3.0;
    assert_true(glci_result_area(fw, r, 1)->score == y);
    assert_true(r->coverage == 1.0);
    assert_true(r->index == (1.0 * 68.75 + 3.0 * y) / 4.0);
    assert_true(fabs(r->index - 79.6875) < 1e-12);
    /* Slots keep the value as observed and the period used. */
    const glci_slot_t *s = glci_result_slot_c(fw, r, D);
    assert_true(s->value == 50.0 && s->score == 50.0);
    assert_int_equal(s->period, 2024);
    assert_int_equal(s->present, 1);
    /* 2026 uses the 2024 values, carried two years; 2027 has nothing. */
    assert_int_equal(glci_result_slot_c(fw, s_res(&fx, 2026), D)->period, 2024);
    assert_true(s_res(&fx, 2026)->index == r->index);
    assert_int_equal(s_res(&fx, 2027)->n_values, 0);
    assert_int_equal(s_res(&fx, 2023)->n_values, 0);
    s_fix_release(&fx);
    glci_framework_free(&fw);
}

static void test_clamping_in_nodes(void **state)
{
    glci_framework_t *fw = s_fw("0", "arithmetic");
    fixture_t fx;
    s_fix_init(&fx, fw);
    s_observe(&fx, A, 2010, 100);      /* above upper goalpost: 100 */
    s_observe(&fx, B, 2010, 0);        /* lower direction, below lower: 100 */
    glci_result_t *r = s_res(&fx, 2010);
    assert_true(glci_result_focus(fw, r, 0)->score == 100.0);
    s_observe(&fx, A, 2010, 0);        /* revision to the 0 goalpost */
    s_observe(&fx, B, 2010, 100);      /* far above the 0 goalpost: 0 */
    assert_true(glci_result_focus(fw, r, 0)->score == 0.0);
    assert_int_equal(glci_result_focus(fw, r, 0)->present, 1);
    assert_false(signbit(glci_result_focus(fw, r, 0)->score));
    /* area y missing: no index even with min_coverage 0 */
    assert_int_equal(r->has_index, 0);
    assert_true(r->index == 0.0);
    s_fix_release(&fx);
    glci_framework_free(&fw);
}

static void test_carry_forward_edges(void **state)
{
    glci_framework_t *fw = s_fw("0", "arithmetic");
    int32_t first, last;
    glci_index_affected(fw, 2022, &first, &last);
    assert_int_equal(first, 2022);
    assert_int_equal(last, 2024);
    glci_index_affected(fw, 2029, &first, &last);    /* capped at last_period */
    assert_int_equal(first, 2029);
    assert_int_equal(last, 2030);
    glci_index_affected(fw, 2030, &first, &last);
    assert_int_equal(last, 2030);

    fixture_t fx;
    s_fix_init(&fx, fw);
    /* Exactly carry_forward years back counts, carry_forward + 1 does not. */
    s_observe(&fx, A, 2021, 10);
    s_observe(&fx, A, 2022, 20);
    const glci_slot_t *s24 = glci_result_slot_c(fw, s_res(&fx, 2024), A);
    assert_int_equal(s24->present, 1);
    assert_int_equal(s24->period, 2022);
    assert_true(s24->value == 20.0);
    const glci_slot_t *s23 = glci_result_slot_c(fw, s_res(&fx, 2023), A);
    assert_int_equal(s23->period, 2022);
    assert_int_equal(glci_result_slot_c(fw, s_res(&fx, 2025), A)->present, 0);
    assert_int_equal(glci_result_slot_c(fw, s_res(&fx, 2021), A)->period, 2021);

    /* A later period wins over an earlier one, whatever the arrival order. */
    s_observe(&fx, B, 2024, 12);
    assert_int_equal(s_observe(&fx, B, 2023, 25), 1);   /* changes only 2023 */
    const glci_slot_t *b24 = glci_result_slot_c(fw, s_res(&fx, 2024), B);
    assert_int_equal(b24->period, 2024);
    assert_true(b24->value == 12.0);
    assert_int_equal(glci_result_slot_c(fw, s_res(&fx, 2025), B)->period, 2024);
    assert_int_equal(glci_result_slot_c(fw, s_res(&fx, 2023), B)->period, 2023);
    /* Direct: an older observation never replaces a newer one. */
    glci_result_t *copy = malloc(glci_result_size(fw));
    memcpy(copy, s_res(&fx, 2024), glci_result_size(fw));
    assert_int_equal(glci_index_apply(fw, copy, B, 2022, 11), 0);
    assert_memory_equal(copy, s_res(&fx, 2024), glci_result_size(fw));
    free(copy);

    /* A revision of the same period replaces the value. */
    assert_int_equal(s_observe(&fx, B, 2024, 20), 3);
    assert_true(glci_result_slot_c(fw, s_res(&fx, 2024), B)->value == 20.0);
    assert_true(glci_result_slot_c(fw, s_res(&fx, 2024), B)->score == 50.0);
    /* The same value again changes nothing. */
    assert_int_equal(s_observe(&fx, B, 2024, 20), 0);
    /* A revision of an older period only reaches the periods it serves. */
    assert_int_equal(s_observe(&fx, A, 2021, 30), 1);   /* 2021 only */
    s_fix_release(&fx);
    glci_framework_free(&fw);
}

static void test_coverage_threshold(void **state)
{
    glci_framework_t *fw = s_fw("0.75", "arithmetic");
    fixture_t fx;
    s_fix_init(&fx, fw);
    s_observe(&fx, A, 2015, 25);
    s_observe(&fx, C, 2015, 1);
    glci_result_t *r = s_res(&fx, 2015);
    /* every area has a score, but coverage 0.5 < 0.75 */
    assert_int_equal(glci_result_area(fw, r, 0)->present, 1);
    assert_int_equal(glci_result_area(fw, r, 1)->present, 1);
    assert_true(r->coverage == 0.5);
    assert_int_equal(r->has_index, 0);
    assert_true(r->index == 0.0);
    /* exactly at the limit: 3 / 4 == 0.75 */
    s_observe(&fx, D, 2015, 20);
    assert_true(r->coverage == 0.75);
    assert_int_equal(r->has_index, 1);
    s_fix_release(&fx);
    glci_framework_free(&fw);

    /* min_coverage 1: all four needed */
    fw = s_fw("1", "arithmetic");
    s_fix_init(&fx, fw);
    s_observe(&fx, A, 2015, 25);
    s_observe(&fx, B, 2015, 25);
    s_observe(&fx, C, 2015, 0);
    assert_int_equal(s_res(&fx, 2015)->has_index, 0);
    s_observe(&fx, D, 2014, 80);        /* carried one year */
    assert_int_equal(s_res(&fx, 2015)->has_index, 1);
    assert_true(s_res(&fx, 2015)->coverage == 1.0);
    assert_int_equal(s_res(&fx, 2014)->has_index, 0);
    s_fix_release(&fx);
    glci_framework_free(&fw);
}

static void test_missing_area(void **state)
{
    glci_framework_t *fw = s_fw("0.5", "arithmetic");
    fixture_t fx;
    s_fix_init(&fx, fw);
    s_observe(&fx, C, 2020, 1);
    s_observe(&fx, D, 2020, 80);
    glci_result_t *r = s_res(&fx, 2020);
    assert_true(r->coverage == 0.5);           /* enough coverage ... */
    assert_int_equal(glci_result_area(fw, r, 0)->present, 0);   /* ... but no x */
    assert_true(glci_result_area(fw, r, 0)->score == 0.0);
    assert_int_equal(r->has_index, 0);
    assert_true(r->index == 0.0);
    s_observe(&fx, B, 2020, 30);               /* x scores 0 but exists */
    assert_int_equal(r->has_index, 1);
    assert_true(r->index == (1.0 * 0.0 + 3.0 * 100.0) / 4.0);
    s_fix_release(&fx);
    glci_framework_free(&fw);
}

static void test_geometric(void **state)
{
    glci_framework_t *fw = s_fw("0", "geometric");
    fixture_t fx;
    s_fix_init(&fx, fw);
    s_observe(&fx, A, 2012, 0);
    s_observe(&fx, B, 2012, 30);               /* area x scores 0 */
    s_observe(&fx, C, 2012, 1);
    s_observe(&fx, D, 2012, 80);               /* area y scores 100 */
    glci_result_t *r = s_res(&fx, 2012);
    assert_true(glci_result_area(fw, r, 0)->score == 0.0);
    assert_true(glci_result_area(fw, r, 1)->score == 100.0);
    /* max(0, 1)^(1/4) * 100^(3/4) = 10^1.5, not 0 */
    assert_int_equal(r->has_index, 1);
    assert_true(r->index == pow(100.0, 0.75));
    assert_true(fabs(r->index - 31.622776601683793) < 1e-9);
    /* equal area scores: the index is that score */
    s_observe(&fx, A, 2012, 50);
    s_observe(&fx, B, 2012, 10);
    assert_true(fabs(r->index - 100.0) < 1e-12);
    /* a score below 1 counts as 1 */
    s_observe(&fx, A, 2013, 0.25);             /* a scores 0.5 */
    s_observe(&fx, B, 2013, 30);
    s_observe(&fx, C, 2013, 1);
    s_observe(&fx, D, 2013, 80);
    r = s_res(&fx, 2013);
    assert_true(glci_result_area(fw, r, 0)->score == 0.125);
    assert_true(r->index == pow(100.0, 0.75));
    s_fix_release(&fx);
    glci_framework_free(&fw);
}

static void test_full_lookup_error(void **state)
{
    glci_framework_t *fw = s_fw("0.75", "arithmetic");
    glci_result_t *r = malloc(glci_result_size(fw));
    assert_int_equal(glci_index_full(fw, s_failing_lookup, NULL, 2020, r), -7);
    free(r);
    glci_framework_free(&fw);
}

static void test_apply_changed_flag(void **state)
{
    glci_framework_t *fw = s_fw("0.75", "arithmetic");
    size_t size = glci_result_size(fw);
    glci_result_t *r = malloc(size), *before = malloc(size);
    glci_result_init(fw, r, 2020);
    memcpy(before, r, size);
    assert_int_equal(glci_index_apply(fw, r, A, 2020, 10), 1);
    assert_memory_not_equal(before, r, size);
    memcpy(before, r, size);
    assert_int_equal(glci_index_apply(fw, r, A, 2020, 10), 0);
    assert_memory_equal(before, r, size);
    /* a new value with the same score still changes the block (value kept) */
    assert_int_equal(glci_index_apply(fw, r, A, 2020, 60), 1);
    assert_int_equal(glci_index_apply(fw, r, A, 2020, 70), 1);
    assert_true(glci_result_slot(fw, r, A)->score == 100.0);
    memcpy(before, r, size);
    assert_int_equal(glci_index_apply(fw, r, A, 2019, 70), 0);
    assert_memory_equal(before, r, size);
    /* the prefetch hint changes nothing */
    for (uint32_t i = 0; i < fw->n_ind; i++)
        glci_index_prefetch(fw, r, i);
    assert_memory_equal(before, r, size);
    free(before);
    free(r);
    glci_framework_free(&fw);
}

/* Many updates of one result: setting the slots and recomputing each
 * touched focus area once (glci_index_apply_slot, glci_index_reset_slot,
 * glci_index_refresh) gives what one call at a time gives, bit for bit,
 * whatever the order of the updates, with resets among them. */
static void test_slots_then_refresh(void **state)
{
    (void)state;
    const char *aggs[2] = {"arithmetic", "geometric"};
    for (int a = 0; a < 2; a++) {
        glci_framework_t *fw = s_fw("0.5", aggs[a]);
        size_t size = glci_result_size(fw);
        glci_result_t *one = malloc(size), *many = malloc(size);
        unsigned seed = 7;
        for (int round = 0; round < 200; round++) {
            glci_result_init(fw, one, 2020);
            glci_result_init(fw, many, 2020);
            uint32_t touched[8];
            size_t nt = 0;
            int n = 1 + (int)(rand_r(&seed) % 12);
            for (int k = 0; k < n; k++) {
                uint32_t ind = (uint32_t)(rand_r(&seed) % fw->n_ind);
                int32_t p = 2018 + (int32_t)(rand_r(&seed) % 3);
                double v = (double)(rand_r(&seed) % 1000) / 10.0;
                int reset = rand_r(&seed) % 4 == 0, has = rand_r(&seed) % 2;
                int c1 = reset ? glci_index_reset(fw, one, ind, has, p, v)
                               : glci_index_apply(fw, one, ind, p, v);
                int c2 = reset ? glci_index_reset_slot(fw, many, ind, has, p, v)
                               : glci_index_apply_slot(fw, many, ind, p, v);
                assert_int_equal(c1, c2);
                uint32_t f = fw->ind[ind].focus;
                int seen = 0;
                for (size_t q = 0; q < nt; q++)
                    seen |= touched[q] == f;
                if (c2 && !seen)
                    touched[nt++] = f;
            }
            /* the focus areas in the order they were first touched */
            glci_index_refresh(fw, many, touched, nt);
            assert_memory_equal(one, many, size);
        }
        free(one);
        free(many);
        glci_framework_free(&fw);
    }
}

/* The rank rule (glci_rank_cmp, glci_rank_at, glci_rank_assign). */
static void test_rank_rule(void **state)
{
    (void)state;
    /* ties share a rank: 1, 2, 2, 4 */
    const double idx[] = {90.5, 80.0, 80.0, 70.0, 70.0, 70.0, 1.0};
    uint32_t ranks[7];
    glci_rank_assign(idx, 7, ranks);
    const uint32_t want[] = {1, 2, 2, 4, 4, 4, 7};
    assert_memory_equal(ranks, want, sizeof want);
    glci_rank_assign(idx, 0, ranks);            /* nothing to do */

    /* index descending, then city id ascending */
    assert_true(glci_rank_cmp(90, "b", 80, "a") < 0);
    assert_true(glci_rank_cmp(80, "a", 90, "b") > 0);
    assert_true(glci_rank_cmp(80, "a", 80, "b") < 0);
    assert_true(glci_rank_cmp(80, "b", 80, "a") > 0);
    assert_int_equal(glci_rank_cmp(80, "a", 80, "a"), 0);

    assert_int_equal(glci_rank_at(1, 50.0, 0.0, 0), 1);
    assert_int_equal(glci_rank_at(3, 50.0, 50.0, 2), 2);
    assert_int_equal(glci_rank_at(3, 49.0, 50.0, 2), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_rule),
        cmocka_unit_test(test_layout_and_absent),
        cmocka_unit_test(test_indicator_score),
        cmocka_unit_test(test_hand_checked_arithmetic),
        cmocka_unit_test(test_clamping_in_nodes),
        cmocka_unit_test(test_carry_forward_edges),
        cmocka_unit_test(test_coverage_threshold),
        cmocka_unit_test(test_missing_area),
        cmocka_unit_test(test_geometric),
        cmocka_unit_test(test_full_lookup_error),
        cmocka_unit_test(test_apply_changed_flag),
        cmocka_unit_test(test_slots_then_refresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
