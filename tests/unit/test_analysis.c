/* Unit tests for the dashboard and peers of index/glci_analysis.h: the
 * framework's dashboard thresholds (loading, every validation error with
 * its FILE:LINE, the content hash with and without them), traffic lights,
 * trend classes between reporting rounds, and peers, on hand-checked
 * results computed by the engine's full path. */
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

/* Two indicators in one focus area: i1 higher 0..60 in [0, 100], i2 lower
 * (100 at 5, 0 at 35) in [0, 100]; EXTRA is put into [indicator:i1]. Its
 * hash without thresholds was pinned before thresholds existed. */
static const char s_head[] =
    "[framework]\nid = t\nversion = 1\n[area:a]\nname = A\n[focus:a.x]\narea = a\n"
    "name = X\n[indicator:i1]\nfocus = a.x\nname = One\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 60\nmin = 0\nmax = 100\n";
static const char s_tail[] =
    "[indicator:i2]\nfocus = a.x\nname = Two\nunit = %\ndirection = lower\nlower = 5\n"
    "upper = 35\nmin = 0\nmax = 100\n";
#define S_PINNED_HASH "a5b589ed1795fdd97a774661255119b726abc506cc24b2aea551d6255405dcd3"
/* Lines of s_head: the first line of EXTRA is line 18. */
#define S_EXTRA_LINE 18

static int s_load(const char *extra, const char *extra2, glci_framework_t **fw, char *err,
                  size_t errlen)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s%s%s", s_head, extra, s_tail, extra2);
    return glci_framework_load_text(text, strlen(text), "t.ini", fw, err, errlen);
}

static glci_framework_t *s_ok(const char *extra, const char *extra2)
{
    glci_framework_t *fw = NULL;
    char err[256] = "";
    int rc = s_load(extra, extra2, &fw, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return fw;
}

static void s_bad(const char *extra, const char *extra2, const char *want)
{
    glci_framework_t *fw = NULL;
    char err[256] = "";
    assert_int_equal(s_load(extra, extra2, &fw, err, sizeof err), GLCI_INDEX_EPARSE);
    assert_null(fw);
    if (strcmp(err, want) != 0)
        print_error("got  '%s'\nwant '%s'\n", err, want);
    assert_string_equal(err, want);
}

/* ---- thresholds -------------------------------------------------------- */

static void test_thresholds_load_and_hash(void **state)
{
    (void)state;
    glci_framework_t *plain = s_ok("", "");
    assert_string_equal(plain->hash_hex, S_PINNED_HASH);
    assert_int_equal(plain->ind[0].has_lights, 0);
    assert_int_equal(plain->ind[1].has_lights, 0);

    glci_framework_t *a = s_ok("green = 45\nred = 15\n", "green = 10\nred = 25\n");
    assert_int_equal(a->ind[0].has_lights, 1);
    assert_true(a->ind[0].green == 45.0 && a->ind[0].red == 15.0);
    assert_true(a->ind[1].green == 10.0 && a->ind[1].red == 25.0);
    assert_string_not_equal(a->hash_hex, S_PINNED_HASH);

    /* Spelling and key order do not count; values and their place do. */
    glci_framework_t *b = s_ok("red = 1.5e1\ngreen = 45.0\n", "red = 25\ngreen = 10\n");
    assert_string_equal(a->hash_hex, b->hash_hex);
    glci_framework_t *c = s_ok("green = 45\nred = 16\n", "green = 10\nred = 25\n");
    assert_string_not_equal(a->hash_hex, c->hash_hex);
    glci_framework_t *d = s_ok("green = 30\nred = 10\n", "");
    glci_framework_t *e = s_ok("", "green = 10\nred = 30\n");
    assert_string_not_equal(d->hash_hex, e->hash_hex);
    assert_string_not_equal(d->hash_hex, a->hash_hex);
    /* thresholds on the goalposts themselves are fine */
    glci_framework_t *f = s_ok("green = 60\nred = 0\n", "green = 5\nred = 35\n");
    glci_framework_free(&plain);
    glci_framework_free(&a);
    glci_framework_free(&b);
    glci_framework_free(&c);
    glci_framework_free(&d);
    glci_framework_free(&e);
    glci_framework_free(&f);
}

static void test_thresholds_errors(void **state)
{
    (void)state;
    char want[256];
    snprintf(want, sizeof want, "t.ini:%d: 'green' needs 'red' too in [indicator:i1]",
             S_EXTRA_LINE);
    s_bad("green = 45\n", "", want);
    snprintf(want, sizeof want, "t.ini:%d: 'red' needs 'green' too in [indicator:i1]",
             S_EXTRA_LINE + 1);
    s_bad("weight = 1\nred = 15\n", "", want);
    snprintf(want, sizeof want, "t.ini:%d: 'green' is not a finite number: 'lots'",
             S_EXTRA_LINE);
    s_bad("green = lots\nred = 15\n", "", want);
    snprintf(want, sizeof want, "t.ini:%d: 'red' is not a finite number: 'nan'",
             S_EXTRA_LINE + 1);
    s_bad("green = 45\nred = nan\n", "", want);
    snprintf(want, sizeof want, "t.ini:%d: green 45 must be better than red 50 "
             "(direction higher: better is higher)", S_EXTRA_LINE);
    s_bad("green = 45\nred = 50\n", "", want);
    snprintf(want, sizeof want, "t.ini:%d: green 45 must be better than red 45 "
             "(direction higher: better is higher)", S_EXTRA_LINE);
    s_bad("green = 45\nred = 45\n", "", want);
    snprintf(want, sizeof want, "t.ini:%d: red 70 is not between the goalposts 0 and 60",
             S_EXTRA_LINE + 1);
    s_bad("green = 45\nred = 70\n", "", want);
    /* without EXTRA, i2 holds lines 18-26: its green is line 27 */
    s_bad("", "green = 30\nred = 10\n",
          "t.ini:27: green 30 must be better than red 10 (direction lower: better is lower)");
    s_bad("", "green = 2\nred = 30\n", "t.ini:27: green 2 is not between the goalposts 5 and 35");
    /* the valid range is checked before the goalposts */
    s_bad("", "green = -1\nred = 30\n", "t.ini:27: green -1 outside the valid range [0, 100]");
}

/* The shipped framework gives every indicator thresholds; yes/no items are
 * green at 1 and red at 0. */
static void test_shipped_thresholds(void **state)
{
    (void)state;
    glci_framework_t *fw = NULL;
    char err[512] = "";
    int rc = glci_framework_load_file(GLCI_FRAMEWORK_FILE, &fw, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *in = &fw->ind[i];
        assert_int_equal(in->has_lights, 1);
        assert_true(glci_indicator_better(in, in->green, in->red) > 0);
        if (strcmp(in->unit, "yes/no") == 0)
            assert_true(in->green == 1.0 && in->red == 0.0);
    }
    glci_framework_free(&fw);
}

static void test_thresholds_valid_range(void **state)
{
    (void)state;
    /* Goalposts wider than the valid range: a threshold must also be valid. */
    static const char text[] =
        "[framework]\nid = t\nversion = 1\n[area:a]\nname = A\n[focus:a.x]\narea = a\n"
        "name = X\n[indicator:i1]\nfocus = a.x\nname = One\nunit = %\ndirection = higher\n"
        "lower = 0\nupper = 150\nmin = 0\nmax = 100\ngreen = 120\nred = 10\n";
    glci_framework_t *fw = NULL;
    char err[256] = "";
    assert_int_equal(glci_framework_load_text(text, strlen(text), "r.ini", &fw, err, sizeof err),
                     GLCI_INDEX_EPARSE);
    assert_string_equal(err, "r.ini:18: green 120 outside the valid range [0, 100]");
}

/* ---- lights -------------------------------------------------------------- */

static void test_lights(void **state)
{
    (void)state;
    glci_framework_t *fw = s_ok("green = 45\nred = 15\n", "green = 10\nred = 25\n");
    const glci_indicator_t *hi = &fw->ind[0], *lo = &fw->ind[1];
    assert_int_equal(glci_light(hi, 100), GLCI_LIGHT_GREEN);
    assert_int_equal(glci_light(hi, 45), GLCI_LIGHT_GREEN);
    assert_int_equal(glci_light(hi, 44.999), GLCI_LIGHT_YELLOW);
    assert_int_equal(glci_light(hi, 15.001), GLCI_LIGHT_YELLOW);
    assert_int_equal(glci_light(hi, 15), GLCI_LIGHT_RED);
    assert_int_equal(glci_light(hi, 0), GLCI_LIGHT_RED);
    assert_int_equal(glci_light(lo, 5), GLCI_LIGHT_GREEN);
    assert_int_equal(glci_light(lo, 10), GLCI_LIGHT_GREEN);
    assert_int_equal(glci_light(lo, 11), GLCI_LIGHT_YELLOW);
    assert_int_equal(glci_light(lo, 25), GLCI_LIGHT_RED);
    assert_int_equal(glci_light(lo, 90), GLCI_LIGHT_RED);
    assert_string_equal(glci_light_str(GLCI_LIGHT_GREEN), "green");
    assert_string_equal(glci_light_str(GLCI_LIGHT_YELLOW), "yellow");
    assert_string_equal(glci_light_str(GLCI_LIGHT_RED), "red");
    assert_null(glci_light_str(GLCI_LIGHT_NONE));

    glci_slot_t empty = {0}, full = {.value = 50, .score = 83, .period = 2025, .present = 1};
    assert_int_equal(glci_slot_light(hi, &empty), GLCI_LIGHT_NONE);
    assert_int_equal(glci_slot_light(hi, &full), GLCI_LIGHT_GREEN);
    glci_framework_t *plain = s_ok("", "");
    assert_int_equal(glci_light(&plain->ind[0], 50), GLCI_LIGHT_NONE);
    assert_int_equal(glci_slot_light(&plain->ind[0], &full), GLCI_LIGHT_NONE);

    /* direction higher over goalposts given high to low: the score falls
     * as the value rises, so lower values are better */
    glci_indicator_t inv = *hi;
    inv.lower = 60;
    inv.upper = 0;
    inv.green = 10;
    inv.red = 50;
    assert_true(glci_indicator_better(&inv, 10, 50) > 0);
    assert_int_equal(glci_light(&inv, 5), GLCI_LIGHT_GREEN);
    assert_int_equal(glci_light(&inv, 30), GLCI_LIGHT_YELLOW);
    assert_int_equal(glci_light(&inv, 55), GLCI_LIGHT_RED);
    assert_true(glci_indicator_better(hi, 3, 3) == 0);
    glci_framework_free(&fw);
    glci_framework_free(&plain);
}

/* ---- results from observations ------------------------------------------ */

/* Two areas: a {a.x: i1, i2 (higher 0..100)}, b {b.y: i3, b.z: i4 (higher
 * 0..100)}; all weights 1, min_coverage 0.5, carry_forward 2. */
static glci_framework_t *s_fw2(void)
{
    static const char text[] =
        "[framework]\nid = t2\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
        "[area:a]\nname = A\n[area:b]\nname = B\n"
        "[focus:a.x]\narea = a\nname = X\n[focus:b.y]\narea = b\nname = Y\n"
        "[focus:b.z]\narea = b\nname = Z\n"
        "[indicator:i1]\nfocus = a.x\nname = 1\nunit = %\ndirection = higher\nlower = 0\n"
        "upper = 100\nmin = 0\nmax = 100\n"
        "[indicator:i2]\nfocus = a.x\nname = 2\nunit = %\ndirection = higher\nlower = 0\n"
        "upper = 100\nmin = 0\nmax = 100\nweight = 3\n"
        "[indicator:i3]\nfocus = b.y\nname = 3\nunit = %\ndirection = higher\nlower = 0\n"
        "upper = 100\nmin = 0\nmax = 100\n"
        "[indicator:i4]\nfocus = b.z\nname = 4\nunit = %\ndirection = higher\nlower = 0\n"
        "upper = 100\nmin = 0\nmax = 100\n";
    glci_framework_t *fw = NULL;
    char err[256];
    int rc = glci_framework_load_text(text, strlen(text), "t2.ini", &fw, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return fw;
}

enum { I1, I2, I3, I4 };

/* ---- trends ---------------------------------------------------------------- */

static void test_trend_classes(void **state)
{
    (void)state;
    assert_int_equal(glci_trend_classify(1.0), GLCI_TREND_IMPROVING);
    assert_int_equal(glci_trend_classify(0.999), GLCI_TREND_STAGNATING);
    assert_int_equal(glci_trend_classify(0.0), GLCI_TREND_STAGNATING);
    assert_int_equal(glci_trend_classify(-0.999), GLCI_TREND_STAGNATING);
    assert_int_equal(glci_trend_classify(-1.0), GLCI_TREND_DECLINING);
    assert_int_equal(glci_trend_classify(-30), GLCI_TREND_DECLINING);
    assert_string_equal(glci_trend_str(GLCI_TREND_IMPROVING), "improving");
    assert_string_equal(glci_trend_str(GLCI_TREND_STAGNATING), "stagnating");
    assert_string_equal(glci_trend_str(GLCI_TREND_DECLINING), "declining");
    assert_null(glci_trend_str(GLCI_TREND_NONE));
}

/* What a change reads as never crosses a threshold its class did not. */
static void test_trend_fmt(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *shown;
    } cases[] = {
        {0.968, "+0.97"}, {0.994, "+0.99"}, {0.995, "+0.99"}, {0.996, "+0.99"},
        {0.99999999999999989, "+0.99"}, {1.0, "+1.00"}, {1.004, "+1.00"}, {1.006, "+1.01"},
        {-0.968, "-0.97"}, {-0.995, "-0.99"}, {-0.9999999, "-0.99"}, {-1.0, "-1.00"},
        {-1.3, "-1.30"}, {0.0, "0.00"}, {-0.0, "0.00"}, {0.004, "0.00"}, {-0.004, "0.00"},
        {0.005001, "+0.01"}, {50.3 - 50.0, "+0.30"}, {16.25, "+16.25"}, {-32.5, "-32.50"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char buf[32];
        glci_trend_fmt(cases[k].v, buf, sizeof buf);
        if (strcmp(buf, cases[k].shown) != 0)
            fail_msg("glci_trend_fmt(%.17g) = %s, expected %s", cases[k].v, buf,
                     cases[k].shown);
        /* the figure, read back, is in the class of the value */
        assert_int_equal(glci_trend_classify(strtod(buf, NULL)), glci_trend_classify(cases[k].v));
    }
}

static void test_trend_rounds(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw2();
    /* A biennial city: rounds 2019, 2021, 2023; 2020 and 2022 only carry.
     * b.z has no value in 2021 (i4 of 2019 is carried into 2021, so take
     * a new indicator set): i4 reported in 2019 and 2023 only, and not
     * carried into 2021 or 2023 beyond 2 years. */
    static const test_obs_t o[] = {
        {I1, 2019, 40}, {I2, 2019, 40}, {I3, 2019, 50}, {I4, 2016, 10},
        {I1, 2021, 44}, {I2, 2021, 42}, {I3, 2021, 51},
        {I1, 2023, 44}, {I2, 2023, 40}, {I3, 2023, 55}, {I4, 2023, 30},
    };
    glci_result_t *r2019 = test_obs_result(fw, o, 11, 2019);
    glci_result_t *r2020 = test_obs_result(fw, o, 11, 2020);
    glci_result_t *r2021 = test_obs_result(fw, o, 11, 2021);
    glci_result_t *r2023 = test_obs_result(fw, o, 11, 2023);
    assert_int_equal(glci_result_is_round(fw, r2019), 1);
    assert_int_equal(glci_result_is_round(fw, r2020), 0);
    assert_int_equal(glci_result_is_round(fw, r2021), 1);
    glci_result_t *none = malloc(glci_result_size(fw));
    glci_result_init(fw, none, 2030);
    assert_int_equal(glci_result_is_round(fw, none), 0);

    const glci_result_t *rounds[] = {r2019, r2021, r2023};
    size_t nodes = glci_trend_n_nodes(fw);
    assert_int_equal(nodes, 1 + 2 + 3);
    glci_trend_cell_t cells[3 * 6];
    glci_trend_compute(fw, rounds, 3, cells);
    /* a.x = (i1 + 3 i2) / 4: 40, 42.5, 41; per year +1.25, -0.75 */
    const glci_trend_cell_t *ax0 = &cells[0 * nodes + 3], *ax1 = &cells[1 * nodes + 3],
                            *ax2 = &cells[2 * nodes + 3];
    assert_true(ax0->present && ax0->score == 40.0);
    assert_false(ax0->has_change);
    assert_int_equal(ax0->trend, GLCI_TREND_NONE);
    assert_true(ax1->score == 42.5 && ax1->has_change && ax1->previous == 2019);
    assert_true(ax1->change == 2.5 && ax1->per_year == 1.25);
    assert_int_equal(ax1->trend, GLCI_TREND_IMPROVING);
    assert_true(ax2->change == -1.5 && ax2->per_year == -0.75);
    assert_int_equal(ax2->trend, GLCI_TREND_STAGNATING);
    /* b.z: 10 in 2019 (carried from 2016? no: 2016 < 2017), so absent in
     * 2019 and 2021; 30 in 2023 with nothing before */
    const glci_trend_cell_t *bz0 = &cells[0 * nodes + 5], *bz2 = &cells[2 * nodes + 5];
    assert_false(bz0->present);
    assert_true(bz2->present && bz2->score == 30.0 && !bz2->has_change);
    /* b.y: 50, 51, 55: +0.5 stagnating, +2 improving */
    assert_int_equal(cells[1 * nodes + 4].trend, GLCI_TREND_STAGNATING);
    assert_int_equal(cells[2 * nodes + 4].trend, GLCI_TREND_IMPROVING);
    /* area b = mean of its focus areas with a score: 50, 51, (55 + 30) / 2 */
    assert_true(cells[2 * nodes + 2].score == 42.5);
    assert_true(cells[2 * nodes + 2].per_year == -4.25);
    assert_int_equal(cells[2 * nodes + 2].trend, GLCI_TREND_DECLINING);
    /* the index (a + b) / 2: 45, 46.75, 41.75 */
    assert_true(cells[0].score == 45.0 && cells[nodes].score == 46.75);
    assert_true(cells[2 * nodes].change == -5.0);
    assert_int_equal(cells[2 * nodes].trend, GLCI_TREND_DECLINING);

    /* A node missing in the middle round is compared with the round before:
     * drop 2021's i3 */
    static const test_obs_t p[] = {
        {I1, 2019, 40}, {I2, 2019, 40}, {I3, 2017, 50},
        {I1, 2021, 44}, {I2, 2021, 42},
        {I1, 2023, 44}, {I3, 2023, 60},
    };
    glci_result_t *q2019 = test_obs_result(fw, p, 7, 2019);
    glci_result_t *q2021 = test_obs_result(fw, p, 7, 2021);
    glci_result_t *q2023 = test_obs_result(fw, p, 7, 2023);
    const glci_result_t *qr[] = {q2019, q2021, q2023};
    glci_trend_compute(fw, qr, 3, cells);
    assert_true(cells[0 * nodes + 4].present);      /* 2017's i3 carried into 2019 */
    assert_false(cells[1 * nodes + 4].present);
    assert_true(cells[2 * nodes + 4].has_change && cells[2 * nodes + 4].previous == 2019);
    assert_true(cells[2 * nodes + 4].per_year == 2.5);
    free(q2019);
    free(q2021);
    free(q2023);
    free(none);
    free(r2019);
    free(r2020);
    free(r2021);
    free(r2023);
    glci_framework_free(&fw);
}

/* ---- peers ------------------------------------------------------------------ */

static void test_peers(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw2();
    /* Six cities, period 2025. a.x = (i1 + 3 i2) / 4.
     *   me:    i1 20, i2 40 -> a.x 35; i3 30 -> b.y 30; i4 90 -> b.z 90
     *   c1:    i1 80, i2 40 -> 50;     i3 70;          i4 10
     *   c2:    i1 20, i2 80 -> 65;     i3 90;          i4 20
     *   c3:    i1 60        -> 60;     i3 20;          i4 30
     *   c4:    i2 20        -> 20;     i3 40;          -
     *   c5:    i2 60        -> 60;     -               i4 40
     * a.x scores 35 50 65 60 20 60 -> sorted 20 35 50 60 60 65, median 55,
     * upper quartile the 5th smallest: 60. b.y: 30 70 90 20 40 -> median 40,
     * Q3 the 4th smallest: 70. b.z: 90 10 20 30 40 -> median 30: me above. */
    static const test_obs_t me[] = {{I1, 2025, 20}, {I2, 2025, 40}, {I3, 2025, 30}, {I4, 2025, 90}};
    static const test_obs_t c1[] = {{I1, 2025, 80}, {I2, 2025, 40}, {I3, 2025, 70}, {I4, 2025, 10}};
    static const test_obs_t c2[] = {{I1, 2025, 20}, {I2, 2025, 80}, {I3, 2025, 90}, {I4, 2025, 20}};
    static const test_obs_t c3[] = {{I1, 2025, 60}, {I3, 2025, 20}, {I4, 2025, 30}};
    static const test_obs_t c4[] = {{I2, 2025, 20}, {I3, 2025, 40}};
    static const test_obs_t c5[] = {{I2, 2025, 60}, {I4, 2025, 40}};
    glci_city_result_t cities[6] = {
        {"c1", test_obs_result(fw, c1, 4, 2025)}, {"c2", test_obs_result(fw, c2, 4, 2025)},
        {"c3", test_obs_result(fw, c3, 3, 2025)}, {"c4", test_obs_result(fw, c4, 2, 2025)},
        {"c5", test_obs_result(fw, c5, 2, 2025)}, {"me", test_obs_result(fw, me, 4, 2025)},
    };
    glci_peers_t p;
    assert_int_equal(glci_peers_find(fw, cities, 6, 5, 3, 3, &p), 0);
    /* weakest first: b.y 30 (median 40), then a.x 35 (median 55) */
    assert_int_equal(p.n_focus, 2);
    const glci_peer_focus_t *by = &p.focus[0], *ax = &p.focus[1];
    assert_int_equal(by->focus, 1);
    assert_true(by->score == 30.0 && by->median == 40.0);
    assert_int_equal(by->n_scored, 5);
    /* leaders in b.y: c2 90, c1 70 (= Q3) */
    assert_int_equal(by->n_peers, 2);
    assert_int_equal(by->peers[0].city, 1);
    assert_true(by->peers[0].score == 90.0);
    assert_int_equal(by->peers[0].rank, 1);
    assert_int_equal(by->peers[1].city, 0);
    assert_int_equal(by->peers[1].rank, 2);
    assert_int_equal(by->peers[0].n_ind, 1);
    assert_int_equal(by->peers[0].ind[0].ind, I3);
    assert_true(by->peers[0].ind[0].value == 90.0 && by->peers[0].ind[0].gap == 60.0);
    assert_true(by->peers[0].ind[0].city_present && by->peers[0].ind[0].city_value == 30.0);

    assert_int_equal(ax->focus, 0);
    assert_true(ax->score == 35.0 && ax->median == 55.0);
    assert_int_equal(ax->n_scored, 6);
    /* leaders at or above 60: c2 65, then c3 and c5 tie at 60 (by id) */
    assert_int_equal(ax->n_peers, 3);
    assert_int_equal(ax->peers[0].city, 1);
    assert_int_equal(ax->peers[1].city, 2);
    assert_int_equal(ax->peers[2].city, 4);
    assert_int_equal(ax->peers[1].rank, 2);
    assert_int_equal(ax->peers[2].rank, 2);
    /* c2 leads on i2 (80 vs 40); i1 is equal: not a difference */
    assert_int_equal(ax->peers[0].n_ind, 1);
    assert_int_equal(ax->peers[0].ind[0].ind, I2);
    assert_true(ax->peers[0].ind[0].gap == 40.0);
    /* c3 leads on i1 (60 vs 20), has no i2 */
    assert_int_equal(ax->peers[1].n_ind, 1);
    assert_int_equal(ax->peers[1].ind[0].ind, I1);
    /* c5 leads on i2 (60 vs 40) */
    assert_int_equal(ax->peers[2].ind[0].ind, I2);
    assert_true(ax->peers[2].ind[0].gap == 20.0);
    glci_peers_release(&p);
    glci_peers_release(&p);                 /* released twice is fine */

    /* the limits; a huge one costs nothing */
    assert_int_equal(glci_peers_find(fw, cities, 6, 5, SIZE_MAX, SIZE_MAX, &p), 0);
    assert_int_equal(p.n_focus, 2);
    assert_int_equal(p.focus[1].n_peers, 3);
    glci_peers_release(&p);
    assert_int_equal(glci_peers_find(fw, cities, 6, 5, 1, 1, &p), 0);
    assert_int_equal(p.n_focus, 1);
    assert_int_equal(p.focus[0].focus, 1);
    assert_int_equal(p.focus[0].n_peers, 1);
    glci_peers_release(&p);
    assert_int_equal(glci_peers_find(fw, cities, 6, 6, 3, 3, &p), GLCI_INDEX_EINVAL);
    assert_int_equal(glci_peers_find(fw, cities, 6, 5, 0, 3, &p), GLCI_INDEX_EINVAL);
    assert_int_equal(glci_peers_find(fw, cities, 6, 5, 3, 0, &p), GLCI_INDEX_EINVAL);
    glci_peers_release(&p);

    /* c2 is strong everywhere but b.z (20 < 30): one focus area, whose
     * leaders are me (90) and c5 (40, = Q3: the 4th smallest of 5) */
    assert_int_equal(glci_peers_find(fw, cities, 6, 1, 3, 3, &p), 0);
    assert_int_equal(p.n_focus, 1);
    assert_int_equal(p.focus[0].focus, 2);
    assert_int_equal(p.focus[0].n_peers, 2);
    assert_int_equal(p.focus[0].peers[0].city, 5);
    assert_int_equal(p.focus[0].peers[1].city, 4);
    glci_peers_release(&p);

    /* a city that lacks an indicator its peer reports: listed after the
     * gaps, without a city value. c4 (a.x 20, only i2) vs c3 (i1 only) */
    assert_int_equal(glci_peers_find(fw, cities, 6, 3, 3, 5, &p), 0);
    const glci_peer_focus_t *f0 = NULL;
    for (size_t k = 0; k < p.n_focus; k++)
        if (p.focus[k].focus == 0)
            f0 = &p.focus[k];
    assert_non_null(f0);
    const glci_peer_t *vs_c3 = NULL;
    for (size_t k = 0; k < f0->n_peers; k++)
        if (f0->peers[k].city == 2)
            vs_c3 = &f0->peers[k];
    assert_non_null(vs_c3);
    assert_int_equal(vs_c3->n_ind, 1);
    assert_int_equal(vs_c3->ind[0].ind, I1);
    assert_false(vs_c3->ind[0].city_present);
    /* c2 vs c4: i2 80 vs 20 (gap 60), then i1 (c4 has none) */
    const glci_peer_t *vs_c2 = &f0->peers[0];
    assert_int_equal(vs_c2->city, 1);
    assert_int_equal(vs_c2->n_ind, 2);
    assert_int_equal(vs_c2->ind[0].ind, I2);
    assert_true(vs_c2->ind[0].city_present);
    assert_int_equal(vs_c2->ind[1].ind, I1);
    assert_false(vs_c2->ind[1].city_present);
    glci_peers_release(&p);

    for (size_t k = 0; k < 6; k++)
        free((void *)cities[k].result);
    glci_framework_free(&fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds_load_and_hash),
        cmocka_unit_test(test_thresholds_errors),
        cmocka_unit_test(test_thresholds_valid_range),
        cmocka_unit_test(test_shipped_thresholds),
        cmocka_unit_test(test_lights),
        cmocka_unit_test(test_trend_classes),
        cmocka_unit_test(test_trend_fmt),
        cmocka_unit_test(test_trend_rounds),
        cmocka_unit_test(test_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
