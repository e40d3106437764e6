/* Integration tests of glci's analysis commands (trend, peers, sensitivity)
 * and of the lights in show and framework: the real binary against stores
 * filled through the store API, every format, usage errors (exit 2) and
 * runtime errors (exit 1, one line).
 *
 * The hand-checked store (the tiny framework with dashboard thresholds on
 * i1: green 80 red 40; i2 (lower): green 10 red 30; i4: green 1 red 0):
 *   alpha  2021 i1 40 i2 25 i3 50 i4 0   a.x 45  b.y 25  index 35
 *          2023 i1 50 i2 20 i3 60 i4 1   a.x 55  b.y 80  index 67.5
 *          2025 i1 50 i2 21 i3 50 i4 1   a.x 54  b.y 75  index 64.5
 *   beta   2025 i1 80 i2 10 i3 90 i4 1   a.x 80  b.y 95  index 87.5
 *   gamma  2025 i1 70 i2 5  i3 40 i4 0   a.x 80  b.y 20  index 50
 *   delta  2025 i1 30 i2 40 i3 80 i4 1   a.x 25  b.y 90  index 57.5
 *   epsilon 2025 i1 60 i3 70 i4 1        a.x 60  b.y 85  index 72.5
 *   zeta   2025 i1 20                    a.x 20          unranked
 *   eta    registered, no data
 * (i2's score is 100 - 2 v.) In 2025 alpha is below the median in a.x (54
 * < 57; upper quartile 80: beta, gamma lead) and in b.y (75 < 85; upper
 * quartile 90: beta, delta lead).
 *
 * Two more stores hold the same 40 random cities (with ties and unranked
 * ones) under arithmetic and geometric aggregation, for sensitivity
 * against glci rank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_cli_support.h"

static char s_dir[256];
static char s_store[300], s_arith[300], s_geo[300], s_empty[300];

/* The tiny framework (see test_cli_support.h), with thresholds when
 * lights, with the given aggregation. Returns the path (static). */
static const char *s_framework(const char *dir, const char *name, int lights,
                               const char *aggregation)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[framework]\nid = tiny\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
            "aggregation = %s\n\n[area:a]\nname = Area A\n\n"
            "[focus:a.x]\narea = a\nname = Focus X\n\n"
            "[indicator:i1]\nfocus = a.x\nname = Indicator one\nunit = %%\n"
            "direction = higher\nlower = 0\nupper = 100\nmin = 0\nmax = 100\n%s\n"
            "[indicator:i2]\nfocus = a.x\nname = Indicator two\nunit = count\n"
            "direction = lower\nlower = 0\nupper = 50\nmin = 0\nmax = 1000\n%s\n"
            "[area:b]\nname = Area B\n\n[focus:b.y]\narea = b\nname = Focus Y\n\n"
            "[indicator:i3]\nfocus = b.y\nname = Indicator three\nunit = %%\n"
            "direction = higher\nlower = 0\nupper = 100\nmin = 0\nmax = 100\n\n"
            "[indicator:i4]\nfocus = b.y\nname = Indicator four, yes/no\nunit = yes/no\n"
            "direction = higher\nlower = 0\nupper = 1\nmin = 0\nmax = 1\n%s",
            aggregation, lights ? "green = 80\nred = 40\n" : "",
            lights ? "green = 10\nred = 30\n" : "", lights ? "green = 1\nred = 0\n" : "");
    assert_int_equal(fclose(f), 0);
    return path;
}

static void s_fill_hand(glci_store_t *st)
{
    static const char *const ids[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta",
                                      "eta"};
    static const char *const names[] = {"Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta",
                                        "Eta"};
    for (size_t k = 0; k < 7; k++)
        cli_city_add(st, ids[k], names[k], "IE");
    const int64_t t0 = 1764000000;
    const cli_obs_t a21[] = {{"i1", 2021, 40}, {"i2", 2021, 25}, {"i3", 2021, 50}, {"i4", 2021, 0}};
    const cli_obs_t a23[] = {{"i1", 2023, 50}, {"i2", 2023, 20}, {"i3", 2023, 60}, {"i4", 2023, 1}};
    const cli_obs_t a25[] = {{"i1", 2025, 50}, {"i2", 2025, 21}, {"i3", 2025, 50}, {"i4", 2025, 1}};
    const cli_obs_t b25[] = {{"i1", 2025, 80}, {"i2", 2025, 10}, {"i3", 2025, 90}, {"i4", 2025, 1}};
    const cli_obs_t g25[] = {{"i1", 2025, 70}, {"i2", 2025, 5}, {"i3", 2025, 40}, {"i4", 2025, 0}};
    const cli_obs_t d25[] = {{"i1", 2025, 30}, {"i2", 2025, 40}, {"i3", 2025, 80}, {"i4", 2025, 1}};
    const cli_obs_t e25[] = {{"i1", 2025, 60}, {"i3", 2025, 70}, {"i4", 2025, 1}};
    const cli_obs_t z25[] = {{"i1", 2025, 20}};
    cli_ingest(st, "alpha", 1, a21, 4, t0);
    cli_ingest(st, "alpha", 2, a23, 4, t0 + 1);
    cli_ingest(st, "alpha", 3, a25, 4, t0 + 2);
    cli_ingest(st, "beta", 1, b25, 4, t0 + 3);
    cli_ingest(st, "gamma", 1, g25, 4, t0 + 4);
    cli_ingest(st, "delta", 1, d25, 4, t0 + 5);
    cli_ingest(st, "epsilon", 1, e25, 3, t0 + 6);
    cli_ingest(st, "zeta", 1, z25, 1, t0 + 7);
}

/* 40 random cities: values of 2022-2025 (2022's are too old for 2025 with
 * carry_forward 2), every seventh a copy of the one before (a tie), some
 * with too few values (unranked). */
static void s_fill_random(glci_store_t *st)
{
    static const char *const ind[] = {"i1", "i2", "i3", "i4"};
    uint64_t x = 2013;
    cli_obs_t obs[4], prev[4];
    size_t n_prev = 0;
    for (int c = 0; c < 40; c++) {
        char id[32];
        snprintf(id, sizeof id, "c%02d", c);
        cli_city_add(st, id, id, "FR");
        size_t n = 0;
        if (c % 7 == 6) {
            memcpy(obs, prev, sizeof obs);
            n = n_prev;
        } else {
            for (int i = 0; i < 4; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                double u = (double)(x >> 11) * 0x1.0p-53;
                if (u < 0.12)
                    continue;
                int age = (int)((x >> 3) % 4);
                double v = i == 3 ? (double)((x >> 9) % 2) : i == 1 ? u * 60.0 : u * 100.0;
                obs[n++] = (cli_obs_t){ind[i], 2025 - age, v};
            }
        }
        if (n > 0)
            cli_ingest(st, id, 1, obs, n, 1764000000 + c);
        memcpy(prev, obs, sizeof prev);
        n_prev = n;
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    cli_tmpdir(s_dir, sizeof s_dir);
    snprintf(s_store, sizeof s_store, "%s/hand", s_dir);
    snprintf(s_arith, sizeof s_arith, "%s/arith", s_dir);
    snprintf(s_geo, sizeof s_geo, "%s/geo", s_dir);
    snprintf(s_empty, sizeof s_empty, "%s/empty", s_dir);
    glci_store_t *st = cli_store_create(s_store, s_framework(s_dir, "lights.ini", 1,
                                                             "arithmetic"), 0);
    s_fill_hand(st);
    glci_store_close(&st);
    st = cli_store_create(s_arith, s_framework(s_dir, "arith.ini", 0, "arithmetic"), 0);
    s_fill_random(st);
    glci_store_close(&st);
    st = cli_store_create(s_geo, s_framework(s_dir, "geo.ini", 0, "geometric"), 0);
    s_fill_random(st);
    glci_store_close(&st);
    st = cli_store_create(s_empty, s_framework(s_dir, "empty.ini", 1, "arithmetic"), 0);
    glci_store_close(&st);
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    cli_rmdir(s_dir);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static json_t *s_at(json_t *arr, size_t k)
{
    json_t *v = json_array_get(arr, k);
    assert_non_null(v);
    return v;
}

/* ---- help, usage ----------------------------------------------------------- */

static void test_help(void **state)
{
    (void)state;
    static const char *const cmds[] = {"trend", "peers", "sensitivity"};
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--help", NULL), 0);
    for (size_t k = 0; k < 3; k++) {
        char want[64];
        snprintf(want, sizeof want, "\n  %s ", cmds[k]);
        assert_non_null(strstr(o.out, want));
    }
    cli_out_release(&o);
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(cli_run(&o, cmds[k], "--help", NULL), 0);
        char want[64];
        snprintf(want, sizeof want, "usage: glci %s", cmds[k]);
        assert_non_null(strstr(o.out, want));
        assert_string_equal(o.err, "");
        cli_out_release(&o);
    }
}

static void test_usage_errors(void **state)
{
    (void)state;
    static const char *const cases[][8] = {
        {"trend", NULL},
        {"trend", "alpha", "beta", NULL},
        {"trend", "alpha", "--from", "20x1", NULL},
        {"trend", "alpha", "--to", "abc", NULL},
        {"trend", "alpha", "--from", "2025", "--to", "2021", NULL},
        {"trend", "alpha", "--since", "2021", NULL},
        {"peers", NULL},
        {"peers", "alpha", "--limit", "0", NULL},
        {"peers", "alpha", "--peers", "-1", NULL},
        {"peers", "alpha", "--peers", "0", NULL},
        {"peers", "alpha", "--period", "soon", NULL},
        {"sensitivity", "--samples", "0", NULL},
        {"sensitivity", "--samples", "100001", NULL},
        {"sensitivity", "--seed", "-3", NULL},
        {"sensitivity", "--seed", "9223372036854775808", NULL},
        {"sensitivity", "--threads", "0", NULL},
        {"sensitivity", "--vary", "weights,colour", NULL},
        {"sensitivity", "--vary", "aggregation", "--aggregation", "geometric", NULL},
        {"sensitivity", "--aggregation", "harmonic", NULL},
        {"sensitivity", "--normalisation", "z", NULL},
        {"sensitivity", "--carry-forward", "3", NULL},
        {"sensitivity", "--min-coverage", "1.5", NULL},
        {"sensitivity", "--weight-noise", "1", NULL},
        {"sensitivity", "--coverage-noise", "x", NULL},
        {"sensitivity", "extra", NULL},
    };
    static const char *const want[] = {
        "missing CITY",
        "unexpected argument 'beta'",
        "invalid --from '20x1' (a year such as 2025)",
        "invalid --to 'abc' (a year such as 2025)",
        "--from 2025 is after --to 2021",
        "unknown option '--since'",
        "missing CITY",
        "invalid --limit '0' (a whole number from 1 to 2147483647)",
        "invalid --peers '-1' (a whole number from 1 to 2147483647)",
        "invalid --peers '0' (a whole number from 1 to 2147483647)",
        "invalid --period 'soon'",
        "invalid --samples '0'",
        "invalid --samples '100001'",
        "invalid --seed '-3' (an integer from 0 to 9223372036854775807)",
        "invalid --seed '9223372036854775808' (an integer from 0 to 9223372036854775807)",
        "invalid --threads '0'",
        "unknown choice 'colour' in --vary",
        "aggregation is fixed by its option and cannot also be varied",
        "invalid --aggregation 'harmonic'",
        "invalid --normalisation 'z' (goalposts, minmax or zscore; min-max and z-score "
        "also do)",
        "invalid --carry-forward 3 (0 to the framework's 2)",
        "invalid --min-coverage '1.5'",
        "invalid --weight-noise '1'",
        "invalid --coverage-noise 'x'",
        "unexpected argument 'extra'",
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *argv[12] = {"--store", s_store};
        size_t n = 2;
        for (size_t j = 0; cases[k][j]; j++)
            argv[n++] = cases[k][j];
        argv[n] = NULL;
        cli_out_t o;
        cli_runv(&o, argv);
        cli_expect_usage(&o, want[k]);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: glci %s", cases[k][0]);
        assert_non_null(strstr(o.err, usage));
        cli_out_release(&o);
    }
}

static void test_runtime_errors(void **state)
{
    (void)state;
    cli_out_t o;
    cli_run(&o, "--store", s_store, "trend", "nowhere", NULL);
    cli_expect_fail(&o, "no such city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "trend", "eta", NULL);
    cli_expect_fail(&o, "no data for city 'eta'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "trend", "alpha", "--from", "2026", NULL);
    cli_expect_fail(&o, "no reporting round of city 'alpha' from 2026");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "trend", "alpha", "--to", "2020", NULL);
    cli_expect_fail(&o, "no reporting round of city 'alpha' up to 2020");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "trend", "alpha", "--from", "2022", "--to", "2022", NULL);
    cli_expect_fail(&o, "no reporting round of city 'alpha' in 2022-2022");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "peers", "nowhere", NULL);
    cli_expect_fail(&o, "no such city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "peers", "eta", NULL);
    cli_expect_fail(&o, "no data for city 'eta'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "peers", "alpha", "--period", "2019", NULL);
    cli_expect_fail(&o, "no data for city 'alpha' in period 2019");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "sensitivity", "--period", "1990", NULL);
    cli_expect_fail(&o, "no data for period 1990");
    cli_out_release(&o);
    cli_run(&o, "--store", s_empty, "sensitivity", NULL);
    cli_expect_fail(&o, "no data in the store");
    cli_out_release(&o);
    cli_run(&o, "--store", s_empty, "peers", "alpha", NULL);
    cli_expect_fail(&o, "no such city 'alpha'");
    cli_out_release(&o);
    char missing[400];
    snprintf(missing, sizeof missing, "%s/none", s_dir);
    cli_run(&o, "--store", missing, "sensitivity", NULL);
    cli_expect_fail(&o, "no store at");
    cli_out_release(&o);
}

/* ---- thresholds and lights --------------------------------------------------- */

static void test_thresholds_refused_at_init(void **state)
{
    (void)state;
    char bad[600], store[400];
    snprintf(bad, sizeof bad, "%s/bad.ini", s_dir);
    snprintf(store, sizeof store, "%s/bad-store", s_dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("[framework]\nid = x\nversion = 1\n[area:a]\nname = A\n[focus:a.x]\narea = a\n"
          "name = X\n[indicator:i1]\nfocus = a.x\nname = One\nunit = %\ndirection = lower\n"
          "lower = 0\nupper = 50\nmin = 0\nmax = 100\ngreen = 40\nred = 10\n", f);
    assert_int_equal(fclose(f), 0);
    cli_out_t o;
    cli_run(&o, "--store", store, "init", "--framework", bad, NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(strstr(o.err, "bad.ini:18: green 40 must be better than red 10 "
                                  "(direction lower: better is lower)"));
    cli_out_release(&o);
}

static void test_show_lights(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "show", "alpha",
                             NULL), 0);
    json_t *j = cli_json(&o);
    json_t *ax = s_at(cli_json_get(s_at(cli_json_get(j, "areas"), 0), "focus"), 0);
    json_t *by = s_at(cli_json_get(s_at(cli_json_get(j, "areas"), 1), "focus"), 0);
    assert_string_equal(cli_json_str(s_at(cli_json_get(ax, "indicators"), 0), "light"), "yellow");
    assert_string_equal(cli_json_str(s_at(cli_json_get(ax, "indicators"), 1), "light"), "yellow");
    assert_true(json_is_null(cli_json_get(s_at(cli_json_get(by, "indicators"), 0), "light")));
    assert_string_equal(cli_json_str(s_at(cli_json_get(by, "indicators"), 1), "light"), "green");
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "show", "zeta",
                             NULL), 0);
    j = cli_json(&o);
    ax = s_at(cli_json_get(s_at(cli_json_get(j, "areas"), 0), "focus"), 0);
    assert_string_equal(cli_json_str(s_at(cli_json_get(ax, "indicators"), 0), "light"), "red");
    assert_true(json_is_null(cli_json_get(s_at(cli_json_get(ax, "indicators"), 1), "light")));  /* no value */
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "show", "gamma", NULL),
                     0);
    assert_true(strncmp(o.out, "level,id,value,period,carried,score,light\r\n", 43) == 0);
    assert_non_null(strstr(o.out, "\r\nindicator,i1,70,2025,false,70,yellow\r\n"));
    assert_non_null(strstr(o.out, "\r\nindicator,i2,5,2025,false,90,green\r\n"));
    assert_non_null(strstr(o.out, "\r\nindicator,i3,40,2025,false,40,\r\n"));
    assert_non_null(strstr(o.out, "\r\nindicator,i4,0,2025,false,0,red\r\n"));
    assert_non_null(strstr(o.out, "\r\nfocus,a.x,,,,80,\r\n"));
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "show", "beta", NULL), 0);
    assert_non_null(strstr(o.out, "light\n"));
    assert_non_null(strstr(o.out, "80.0  green\n"));
    cli_out_release(&o);

    /* the framework shows its thresholds */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "framework", NULL), 0);
    j = cli_json(&o);
    json_t *i2 = s_at(cli_json_get(s_at(cli_json_get(s_at(cli_json_get(j, "areas"), 0), "focus"), 0), "indicators"),
                      1);
    assert_true(cli_json_num(i2, "green") == 10.0 && cli_json_num(i2, "red") == 30.0);
    json_t *i3 = s_at(cli_json_get(s_at(cli_json_get(s_at(cli_json_get(j, "areas"), 1), "focus"), 0), "indicators"),
                      0);
    assert_true(json_is_null(cli_json_get(i3, "green")));
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "framework", NULL), 0);
    assert_non_null(strstr(o.out, ",weight,green,red\r\n"));
    assert_non_null(strstr(o.out, ",0,50,0,1000,1,10,30\r\n"));
    assert_non_null(strstr(o.out, ",0,100,0,100,1,,\r\n"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "framework", NULL), 0);
    assert_non_null(strstr(o.out, "green 10, red 30"));
    cli_out_release(&o);
}

/* ---- trend ---------------------------------------------------------------------- */

static json_t *s_trend_node(json_t *period, int area, int focus)
{
    if (area < 0)
        return cli_json_get(period, "index");
    json_t *a = s_at(cli_json_get(period, "areas"), (size_t)area);
    return focus < 0 ? a : s_at(cli_json_get(a, "focus"), (size_t)focus);
}

static void test_trend_json(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "trend", "alpha",
                             NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(cli_json_str(j, "city"), "alpha");
    assert_int_equal(cli_json_num(j, "from"), 2021);
    assert_int_equal(cli_json_num(j, "to"), 2025);
    assert_true(cli_json_num(j, "rate_per_year") == 1.0);
    json_t *ps = cli_json_get(j, "periods");
    assert_int_equal(json_array_size(ps), 3);    /* 2022, 2024: carried only */
    json_t *p21 = s_at(ps, 0), *p23 = s_at(ps, 1), *p25 = s_at(ps, 2);
    assert_int_equal(cli_json_num(p21, "period"), 2021);
    assert_int_equal(cli_json_num(p23, "period"), 2023);
    assert_int_equal(cli_json_num(p25, "period"), 2025);
    json_t *i21 = s_trend_node(p21, -1, -1);
    assert_true(cli_json_num(i21, "score") == 35.0);
    assert_true(json_is_null(cli_json_get(i21, "previous")));
    assert_true(json_is_null(cli_json_get(i21, "change")));
    assert_true(json_is_null(cli_json_get(i21, "trend")));
    json_t *i23 = s_trend_node(p23, -1, -1);
    assert_true(cli_json_num(i23, "score") == 67.5);
    assert_int_equal(cli_json_num(i23, "previous"), 2021);
    assert_true(cli_json_num(i23, "change") == 32.5);
    assert_true(cli_json_num(i23, "per_year") == 16.25);
    assert_string_equal(cli_json_str(i23, "trend"), "improving");
    json_t *ax25 = s_trend_node(p25, 0, 0), *by25 = s_trend_node(p25, 1, 0);
    assert_string_equal(cli_json_str(ax25, "id"), "a.x");
    assert_true(cli_json_num(ax25, "score") == 54.0 && cli_json_num(ax25, "per_year") == -0.5);
    assert_string_equal(cli_json_str(ax25, "trend"), "stagnating");
    assert_string_equal(cli_json_str(by25, "id"), "b.y");
    assert_true(cli_json_num(by25, "change") == -5.0 && cli_json_num(by25, "per_year") == -2.5);
    assert_string_equal(cli_json_str(by25, "trend"), "declining");
    assert_string_equal(cli_json_str(s_trend_node(p25, 1, -1), "trend"), "declining");
    assert_string_equal(cli_json_str(s_trend_node(p25, -1, -1), "trend"), "declining");
    json_decref(j);
    cli_out_release(&o);

    /* --from: the first shown is still compared with the round before */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "trend", "alpha",
                             "--from", "2022", "--to", "2024", NULL), 0);
    j = cli_json(&o);
    ps = cli_json_get(j, "periods");
    assert_int_equal(json_array_size(ps), 1);
    assert_int_equal(cli_json_num(j, "from"), 2023);
    assert_int_equal(cli_json_num(s_trend_node(s_at(ps, 0), -1, -1), "previous"), 2021);
    json_decref(j);
    cli_out_release(&o);

    /* one round, nothing to compare */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "trend", "beta",
                             NULL), 0);
    j = cli_json(&o);
    ps = cli_json_get(j, "periods");
    assert_int_equal(json_array_size(ps), 1);
    assert_true(json_is_null(cli_json_get(s_trend_node(s_at(ps, 0), 0, 0), "trend")));
    json_decref(j);
    cli_out_release(&o);
}

static void test_trend_table_csv(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "trend", "alpha",
                             NULL), 0);
    assert_true(strncmp(o.out, "period,level,id,score,previous,change,per_year,trend\r\n",
                        54) == 0);
    assert_int_equal(cli_csv_records(o.out), 1 + 3 * 5);
    assert_non_null(strstr(o.out, "\r\n2021,index,alpha,35,,,,\r\n"));
    assert_non_null(strstr(o.out, "\r\n2023,area,b,80,2021,55,27.5,improving\r\n"));
    assert_non_null(strstr(o.out, "\r\n2025,focus,b.y,75,2023,-5,-2.5,declining\r\n"));
    assert_non_null(strstr(o.out, "\r\n2025,focus,a.x,54,2023,-1,-0.5,stagnating\r\n"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "trend", "alpha", NULL), 0);
    assert_non_null(strstr(o.out, "Alpha (alpha, IE): 3 reporting rounds, 2021-2025\n"));
    assert_non_null(strstr(o.out, "\n2023    index"));
    assert_non_null(
        strstr(o.out, "\n2023    index     67.5  2021   +32.50    +16.25  improving\n"));
    assert_non_null(strstr(o.out, "\n            a.x"));
    assert_non_null(strstr(o.out, "declining\n"));
    cli_out_release(&o);
}

/* The table row of node id (index, a, a.x, ...) in round period of a trend
 * table: its change, per-year and trend cells. */
static void s_trend_row(const char *table, int period, const char *id, const char *change,
                        const char *per_year, const char *trend)
{
    int in = 0;
    for (const char *line = table; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[256], tok[8][64];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        int n = sscanf(buf, "%63s %63s %63s %63s %63s %63s %63s %63s", tok[0], tok[1],
                       tok[2], tok[3], tok[4], tok[5], tok[6], tok[7]);
        int first = 0;
        if (buf[0] >= '0' && buf[0] <= '9') {
            in = strtol(buf, NULL, 10) == period;
            first = 1;
        }
        if (in && n - first == 6 && strcmp(tok[first], id) == 0) {
            assert_string_equal(tok[first + 3], change);
            assert_string_equal(tok[first + 4], per_year);
            assert_string_equal(tok[first + 5], trend);
            return;
        }
        line = end ? end + 1 : NULL;
    }
    fail_msg("no row %s in round %d of:\n%s", id, period, table);
}

/* The trends row of node key (index, focus:a.x) on page holds shown and
 * the class. */
static void s_page_trend(const char *page, const char *key, const char *shown,
                         const char *trend)
{
    char want[128];
    snprintf(want, sizeof want, "data-node=\"%s\"", key);
    const char *row = strstr(page, want);
    assert_non_null(row);
    const char *end = strstr(row, "</tr>");
    assert_non_null(end);
    char cell[64];
    snprintf(cell, sizeof cell, ">%s</td>", shown);
    const char *at = strstr(row, cell);
    if (!at || at > end)
        fail_msg("%s: no %s in its trends row", key, cell);
    snprintf(want, sizeof want, "data-key=\"trend\" data-value=\"%s\"", trend);
    at = strstr(row, want);
    if (!at || at > end)
        fail_msg("%s: not %s in its trends row", key, trend);
}

/* Changes a year just under and at the class thresholds: what the table
 * and the report show never reads across a threshold the class did not
 * cross (0.995 is +0.99 stagnating, 1 is +1.00 improving), while JSON
 * keeps them exact. theta (i2 25 scores 50, i4 1 scores 100):
 *   2023  i1 50     i3 50  a.x 50      b.y 75  index 62.5
 *   2024  i1 51.99  i3 52  a.x 50.995  b.y 76  index 63.4975
 *   2025  i1 50     i3 50  a.x 50      b.y 75  index 62.5 */
static void test_trend_thresholds(void **state)
{
    (void)state;
    char store[300], site[300], page[400];
    snprintf(store, sizeof store, "%s/edge", s_dir);
    glci_store_t *st = cli_store_create(store, s_framework(s_dir, "edge.ini", 0, "arithmetic"),
                                        0);
    cli_city_add(st, "theta", "Theta", "IE");
    const cli_obs_t r23[] = {{"i1", 2023, 50}, {"i2", 2023, 25}, {"i3", 2023, 50}, {"i4", 2023, 1}};
    const cli_obs_t r24[] = {{"i1", 2024, 51.99}, {"i2", 2024, 25}, {"i3", 2024, 52},
                             {"i4", 2024, 1}};
    const cli_obs_t r25[] = {{"i1", 2025, 50}, {"i2", 2025, 25}, {"i3", 2025, 50}, {"i4", 2025, 1}};
    cli_ingest(st, "theta", 1, r23, 4, 1764000000);
    cli_ingest(st, "theta", 2, r24, 4, 1764000001);
    cli_ingest(st, "theta", 3, r25, 4, 1764000002);
    glci_store_close(&st);

    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "trend", "theta",
                             NULL), 0);
    json_t *j = cli_json(&o);
    json_t *p24 = s_at(cli_json_get(j, "periods"), 1);
    double ax = cli_json_num(s_trend_node(p24, 0, 0), "per_year");
    assert_true(ax > 0.99 && ax < 1.0);
    assert_true(cli_json_num(s_trend_node(p24, 1, 0), "per_year") == 1.0);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "trend", "theta", NULL), 0);
    s_trend_row(o.out, 2024, "index", "+0.99", "+0.99", "stagnating");
    s_trend_row(o.out, 2024, "a.x", "+0.99", "+0.99", "stagnating");
    s_trend_row(o.out, 2024, "b.y", "+1.00", "+1.00", "improving");
    s_trend_row(o.out, 2025, "index", "-0.99", "-0.99", "stagnating");
    s_trend_row(o.out, 2025, "a", "-0.99", "-0.99", "stagnating");
    s_trend_row(o.out, 2025, "a.x", "-0.99", "-0.99", "stagnating");
    s_trend_row(o.out, 2025, "b.y", "-1.00", "-1.00", "declining");
    cli_out_release(&o);

    /* the report's trends table: the latest round up to its period */
    for (int period = 2024; period <= 2025; period++) {
        char p[8];
        snprintf(p, sizeof p, "%d", period);
        snprintf(site, sizeof site, "%s/edge-site-%d", s_dir, period);
        assert_int_equal(cli_run(&o, "--store", store, "report", "--out", site, "--period", p,
                                 NULL), 0);
        cli_out_release(&o);
        snprintf(page, sizeof page, "%s/city-theta.html", site);
        FILE *f = fopen(page, "rb");
        assert_non_null(f);
        char *html = calloc(1, 1 << 20);
        assert_non_null(html);
        size_t got = fread(html, 1, (1 << 20) - 1, f);
        fclose(f);
        assert_true(got > 0 && got < (1 << 20) - 1);
        s_page_trend(html, "index", period == 2024 ? "+0.99" : "-0.99", "stagnating");
        s_page_trend(html, "focus:a.x", period == 2024 ? "+0.99" : "-0.99", "stagnating");
        s_page_trend(html, "focus:b.y", period == 2024 ? "+1.00" : "-1.00",
                     period == 2024 ? "improving" : "declining");
        free(html);
    }
}

/* ---- peers -------------------------------------------------------------------- */

static void s_expect_ind(json_t *ind, const char *id, double value, double score,
                         double city_value, double gap, const char *light)
{
    assert_string_equal(cli_json_str(ind, "id"), id);
    assert_true(cli_json_num(ind, "value") == value);
    assert_true(cli_json_num(ind, "score") == score);
    assert_true(cli_json_num(ind, "city_value") == city_value);
    assert_true(cli_json_num(ind, "gap") == gap);
    if (light)
        assert_string_equal(cli_json_str(ind, "light"), light);
    else
        assert_true(json_is_null(cli_json_get(ind, "light")));
}

static void test_peers_json(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "peers", "alpha",
                             NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(cli_json_str(j, "city"), "alpha");
    assert_int_equal(cli_json_num(j, "period"), 2025);
    json_t *focus = cli_json_get(j, "focus");
    assert_int_equal(json_array_size(focus), 2);
    json_t *ax = s_at(focus, 0), *by = s_at(focus, 1);
    assert_string_equal(cli_json_str(ax, "id"), "a.x");
    assert_true(cli_json_num(ax, "score") == 54.0 && cli_json_num(ax, "median") == 57.0);
    assert_int_equal(cli_json_num(ax, "cities"), 6);
    json_t *peers = cli_json_get(ax, "peers");
    assert_int_equal(json_array_size(peers), 2);
    json_t *beta = s_at(peers, 0), *gamma = s_at(peers, 1);
    assert_string_equal(cli_json_str(beta, "city"), "beta");
    assert_string_equal(cli_json_str(beta, "name"), "Beta");
    assert_true(cli_json_num(beta, "score") == 80.0);
    assert_int_equal(cli_json_num(beta, "rank"), 1);
    assert_int_equal(json_array_size(cli_json_get(beta, "indicators")), 2);
    s_expect_ind(s_at(cli_json_get(beta, "indicators"), 0), "i1", 80, 80, 50, 30, "green");
    s_expect_ind(s_at(cli_json_get(beta, "indicators"), 1), "i2", 10, 80, 21, 22, "green");
    assert_string_equal(cli_json_str(gamma, "city"), "gamma");
    assert_int_equal(cli_json_num(gamma, "rank"), 1);
    s_expect_ind(s_at(cli_json_get(gamma, "indicators"), 0), "i2", 5, 90, 21, 32, "green");
    s_expect_ind(s_at(cli_json_get(gamma, "indicators"), 1), "i1", 70, 70, 50, 20, "yellow");

    assert_string_equal(cli_json_str(by, "id"), "b.y");
    assert_true(cli_json_num(by, "score") == 75.0 && cli_json_num(by, "median") == 85.0);
    peers = cli_json_get(by, "peers");
    assert_int_equal(json_array_size(peers), 2);
    assert_string_equal(cli_json_str(s_at(peers, 0), "city"), "beta");
    assert_string_equal(cli_json_str(s_at(peers, 1), "city"), "delta");
    assert_int_equal(json_array_size(cli_json_get(s_at(peers, 1), "indicators")), 1);
    s_expect_ind(s_at(cli_json_get(s_at(peers, 1), "indicators"), 0), "i3", 80, 80, 50, 30, NULL);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "peers", "alpha",
                             "--limit", "2147483647", "--peers", "2147483647", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(cli_json_get(j, "focus")), 2);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "peers", "alpha",
                             "--limit", "1", "--peers", "1", NULL), 0);
    j = cli_json(&o);
    focus = cli_json_get(j, "focus");
    assert_int_equal(json_array_size(focus), 1);
    assert_int_equal(json_array_size(cli_json_get(s_at(focus, 0), "peers")), 1);
    json_decref(j);
    cli_out_release(&o);

    /* beta leads everywhere; an earlier period where alpha is alone */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "peers", "beta",
                             NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(cli_json_get(j, "focus")), 0);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "peers", "alpha",
                             "--period", "2023", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(cli_json_num(j, "period"), 2023);
    assert_int_equal(json_array_size(cli_json_get(j, "focus")), 0);
    json_decref(j);
    cli_out_release(&o);
}

static void test_peers_table_csv(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "peers", "alpha",
                             NULL), 0);
    assert_true(strncmp(o.out, "focus,focus_score,median,peer,peer_name,peer_score,peer_rank,"
                               "indicator,value,score,city_value,city_score,gap\r\n", 99) == 0);
    /* a.x: beta (2), gamma (2); b.y: beta (1), delta (1) */
    assert_int_equal(cli_csv_records(o.out), 1 + 2 + 2 + 1 + 1);
    assert_non_null(strstr(o.out, "\r\na.x,54,57,beta,Beta,80,1,i1,80,80,50,50,30\r\n"));
    assert_non_null(strstr(o.out, "\r\nb.y,75,85,delta,Delta,90,2,i3,80,80,50,50,30\r\n"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "peers", "alpha", NULL), 0);
    assert_non_null(strstr(o.out, "Alpha (alpha, IE), period 2025: 2 weakest focus areas"));
    assert_non_null(strstr(o.out, "\nFocus X (a.x): score 54.0, median 57.0 of 6 cities\n"));
    assert_non_null(
        strstr(o.out, "\nbeta   Beta    80.0     1  i1            80 %   80.0   50.0\n"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "peers", "beta", NULL), 0);
    assert_non_null(strstr(o.out, "no focus area below the network's median\n"));
    cli_out_release(&o);
}

/* ---- sensitivity ---------------------------------------------------------------- */

/* Checks that sensitivity's rows (rank, city, score) are glci rank's, in
 * the same order, and that its unranked cities are rank's. */
static void s_expect_rank(const char *rank_store, const char *sens_store, const char *opt1,
                          const char *opt2)
{
    cli_out_t r, s;
    assert_int_equal(cli_run(&r, "--store", rank_store, "--format", "json", "rank", NULL), 0);
    assert_int_equal(cli_run(&s, "--store", sens_store, "--format", "json", "sensitivity",
                             "--vary", "none", "--samples", "3", opt1, opt2, NULL), 0);
    json_t *jr = cli_json(&r), *js = cli_json(&s);
    json_t *rr = cli_json_get(jr, "rows"), *sr = cli_json_get(js, "rows");
    size_t n = json_array_size(rr), ties = 0;
    assert_true(n > 10);
    assert_int_equal(cli_json_num(js, "ranked"), n);
    assert_int_equal(json_array_size(sr), n + json_array_size(cli_json_get(jr, "unranked")));
    for (size_t k = 0; k < n; k++) {
        json_t *a = s_at(rr, k), *b = s_at(sr, k);
        assert_string_equal(cli_json_str(a, "city"), cli_json_str(b, "city"));
        assert_int_equal(cli_json_num(a, "rank"), cli_json_num(b, "rank"));
        assert_true(cli_json_num(a, "score") == cli_json_num(b, "score"));
        assert_int_equal(cli_json_num(b, "median_rank"), cli_json_num(a, "rank"));
        assert_int_equal(cli_json_num(b, "q05"), cli_json_num(a, "rank"));
        assert_int_equal(cli_json_num(b, "q95"), cli_json_num(a, "rank"));
        ties += k > 0 && cli_json_num(a, "rank") == cli_json_num(s_at(rr, k - 1), "rank");
    }
    assert_true(ties > 0);
    json_t *un = cli_json_get(jr, "unranked");
    assert_true(json_array_size(un) > 0);
    for (size_t k = 0; k < json_array_size(un); k++) {
        json_t *b = s_at(sr, n + k);
        assert_string_equal(cli_json_str(s_at(un, k), "city"), cli_json_str(b, "city"));
        assert_true(json_is_null(cli_json_get(b, "rank")));
        assert_int_equal(cli_json_num(b, "median_rank"), n + 1);
        assert_true(cli_json_num(b, "ranked_share") == 0.0);
    }
    assert_int_equal(json_array_size(cli_json_get(js, "effects")), 0);
    json_decref(jr);
    json_decref(js);
    cli_out_release(&r);
    cli_out_release(&s);
}

static void test_sensitivity_nominal_is_rank(void **state)
{
    (void)state;
    s_expect_rank(s_arith, s_arith, NULL, NULL);
    s_expect_rank(s_geo, s_arith, "--aggregation=geometric", NULL);
    s_expect_rank(s_geo, s_geo, NULL, NULL);
    s_expect_rank(s_arith, s_geo, "--aggregation", "arithmetic");
}

/* Min-max over the hand store's 2025 values, computed here: per indicator
 * 100 (v - min) / (max - min) over the cities with a value (i2 reversed),
 * then the framework's means; ranks by hand. */
static void test_sensitivity_minmax(void **state)
{
    (void)state;
    /* alpha beta gamma delta epsilon zeta; NAN: none */
    static const double v[6][4] = {
        {50, 21, 50, 1}, {80, 10, 90, 1}, {70, 5, 40, 0},
        {30, 40, 80, 1}, {60, NAN, 70, 1}, {20, NAN, NAN, NAN},
    };
    static const char *const ids[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    double s[6][4], index[6];
    int has[6];
    for (int i = 0; i < 4; i++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int c = 0; c < 6; c++)
            if (!isnan(v[c][i])) {
                lo = fmin(lo, v[c][i]);
                hi = fmax(hi, v[c][i]);
            }
        for (int c = 0; c < 6; c++)
            s[c][i] = i == 1 ? 100 * (hi - v[c][i]) / (hi - lo) : 100 * (v[c][i] - lo) / (hi - lo);
    }
    for (int c = 0; c < 6; c++) {
        double ax = 0, by = 0;
        int nx = 0, ny = 0;
        for (int i = 0; i < 2; i++)
            if (!isnan(v[c][i])) {
                ax += s[c][i];
                nx++;
            }
        for (int i = 2; i < 4; i++)
            if (!isnan(v[c][i])) {
                by += s[c][i];
                ny++;
            }
        has[c] = nx && ny && nx + ny >= 2;
        index[c] = has[c] ? (ax / nx + by / ny) / 2 : 0;
    }
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "sensitivity",
                             "--vary", "none", "--normalisation", "minmax", "--samples", "2",
                             NULL), 0);
    /* the docs' spelling names the same method */
    cli_out_t spelt;
    assert_int_equal(cli_run(&spelt, "--store", s_store, "--format", "json", "sensitivity",
                             "--vary", "none", "--normalisation", "min-max", "--samples", "2",
                             NULL), 0);
    assert_string_equal(spelt.out, o.out);
    cli_out_release(&spelt);
    cli_out_t z, z_spelt;
    assert_int_equal(cli_run(&z, "--store", s_store, "--format", "json", "sensitivity",
                             "--vary", "none", "--normalisation", "zscore", "--samples", "2",
                             NULL), 0);
    assert_int_equal(cli_run(&z_spelt, "--store", s_store, "--format", "json", "sensitivity",
                             "--vary", "none", "--normalisation", "z-score", "--samples", "2",
                             NULL), 0);
    assert_string_equal(z_spelt.out, z.out);
    assert_non_null(strstr(z.out, "\"normalisation\": \"zscore\""));
    cli_out_release(&z);
    cli_out_release(&z_spelt);
    json_t *j = cli_json(&o);
    assert_string_equal(cli_json_str(cli_json_get(j, "nominal"), "normalisation"), "minmax");
    json_t *rows = cli_json_get(j, "rows");
    assert_int_equal(json_array_size(rows), 6);
    for (size_t k = 0; k < 6; k++) {
        json_t *row = s_at(rows, k);
        int c = 0;
        while (strcmp(ids[c], cli_json_str(row, "city")) != 0)
            c++;
        if (!has[c]) {
            assert_true(json_is_null(cli_json_get(row, "rank")));
            continue;
        }
        int rank = 1;
        for (int d = 0; d < 6; d++)
            rank += has[d] && index[d] > index[c] + 1e-9;
        assert_int_equal(cli_json_num(row, "rank"), rank);
        assert_true(fabs(cli_json_num(row, "score") - index[c]) < 1e-9);
    }
    json_decref(j);
    cli_out_release(&o);
}

static void test_sensitivity_outputs(void **state)
{
    (void)state;
    cli_out_t a, b, c;
    /* the same output whatever the thread count, and for the same seed */
    assert_int_equal(cli_run(&a, "--store", s_arith, "--format", "json", "sensitivity",
                             "--samples", "300", "--seed", "5", "--threads", "1", NULL), 0);
    assert_int_equal(cli_run(&b, "--store", s_arith, "--format", "json", "sensitivity",
                             "--samples", "300", "--seed", "5", "--threads", "3", NULL), 0);
    assert_string_equal(a.out, b.out);
    assert_int_equal(cli_run(&c, "--store", s_arith, "--format", "json", "sensitivity",
                             "--samples", "300", "--seed", "6", "--threads", "3", NULL), 0);
    assert_string_not_equal(a.out, c.out);
    json_t *j = cli_json(&a);
    assert_int_equal(cli_json_num(j, "samples"), 300);
    assert_int_equal(cli_json_num(j, "seed"), 5);
    assert_int_equal(cli_json_num(j, "period"), 2025);
    assert_string_equal(cli_json_str(cli_json_get(j, "nominal"), "aggregation"), "arithmetic");
    assert_int_equal(cli_json_num(cli_json_get(j, "nominal"), "carry_forward"), 2);
    assert_true(cli_json_num(j, "weight_noise") == 0.25);
    json_t *vary = cli_json_get(j, "vary"), *eff = cli_json_get(j, "effects");
    static const char *const choices[] = {"weights.indicator", "weights.focus", "weights.area",
                                          "aggregation", "carry_forward", "normalisation",
                                          "coverage"};
    assert_int_equal(json_array_size(vary), 7);
    assert_int_equal(json_array_size(eff), 7);
    for (size_t k = 0; k < 7; k++) {
        assert_string_equal(json_string_value(s_at(vary, k)), choices[k]);
        assert_string_equal(cli_json_str(s_at(eff, k), "choice"), choices[k]);
        /* one focus area per area: its weight cancels out */
        if (k == 1)
            assert_true(cli_json_num(s_at(eff, k), "mean_abs_rank_shift") == 0);
        else
            assert_true(cli_json_num(s_at(eff, k), "mean_abs_rank_shift") > 0);
    }
    json_t *rows = cli_json_get(j, "rows");
    assert_int_equal(json_array_size(rows), 40);  /* every city has a 2025 result */
    size_t wide = 0;
    for (size_t k = 0; k < json_array_size(rows); k++) {
        json_t *r = s_at(rows, k);
        assert_true(cli_json_num(r, "q05") <= cli_json_num(r, "median_rank"));
        assert_true(cli_json_num(r, "median_rank") <= cli_json_num(r, "q95"));
        wide += cli_json_num(r, "q95") > cli_json_num(r, "q05");
    }
    assert_true(wide > 10);
    json_decref(j);
    cli_out_release(&a);
    cli_out_release(&b);
    cli_out_release(&c);

    /* one choice: only its effect */
    assert_int_equal(cli_run(&a, "--store", s_arith, "--format", "json", "sensitivity",
                             "--samples", "50", "--vary", "weights.area,coverage", NULL), 0);
    j = cli_json(&a);
    assert_int_equal(json_array_size(cli_json_get(j, "effects")), 2);
    assert_string_equal(cli_json_str(s_at(cli_json_get(j, "effects"), 1), "choice"), "coverage");
    json_decref(j);
    cli_out_release(&a);

    /* CSV: the city rows, then one effect row per choice; same for threads */
    assert_int_equal(cli_run(&a, "--store", s_store, "--format", "csv", "sensitivity",
                             "--samples", "100", "--threads", "2", NULL), 0);
    assert_int_equal(cli_run(&b, "--store", s_store, "--format", "csv", "sensitivity",
                             "--samples", "100", "--threads", "1", NULL), 0);
    assert_string_equal(a.out, b.out);
    assert_true(strncmp(a.out, "kind,city,name,rank,score,median_rank,q05,q95,ranked_share,"
                               "choice,mean_abs_rank_shift\r\n", 86) == 0);
    assert_int_equal(cli_csv_records(a.out), 1 + 6 + 7);
    assert_non_null(strstr(a.out, "\r\ncity,beta,Beta,1,87.5,"));
    assert_non_null(strstr(a.out, "\r\neffect,,,,,,,,,aggregation,"));
    cli_out_release(&a);
    cli_out_release(&b);

    /* the table */
    assert_int_equal(cli_run(&a, "--store", s_store, "sensitivity", "--samples", "100", NULL),
                     0);
    assert_non_null(strstr(a.out, "Sensitivity of the 2025 ranks to the method: 100 samples, "
                                  "seed 1; 5 of 6 cities ranked\n"));
    assert_non_null(strstr(a.out, "\nrank  city"));
    assert_non_null(strstr(a.out, "\nEach choice varied alone, the others nominal:\n"));
    assert_non_null(strstr(a.out, "\ncarry_forward"));
    cli_out_release(&a);
    assert_int_equal(cli_run(&a, "--store", s_store, "sensitivity", "--vary", "none",
                             "--samples", "1", NULL), 0);
    assert_non_null(strstr(a.out, "varied: none"));
    assert_null(strstr(a.out, "Each choice"));
    cli_out_release(&a);
}

/* A period in which no city is ranked, nominally or in any sample (every
 * city has one value of four: coverage 0.25, below any threshold the
 * draws make of 0.5 +/- 0.1): no rank is made up for anyone. Every rank,
 * the band included, is null in JSON, empty in CSV and "-" in the table,
 * the effects are null, and nothing prints NaN. */
static void test_sensitivity_none_ranked(void **state)
{
    (void)state;
    char store[400];
    snprintf(store, sizeof store, "%s/unranked", s_dir);
    glci_store_t *st = cli_store_create(store, s_framework(s_dir, "unranked.ini", 0,
                                                           "arithmetic"), 0);
    const cli_obs_t a[] = {{"i1", 2025, 70}}, b[] = {{"i3", 2025, 20}};
    cli_city_add(st, "amman-jo", "Amman", "JO");
    cli_city_add(st, "bonn-de", "Bonn", "DE");
    cli_ingest(st, "amman-jo", 1, a, 1, 1764000000);
    cli_ingest(st, "bonn-de", 1, b, 1, 1764000001);
    glci_store_close(&st);

    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "sensitivity",
                             "--period", "2025", "--samples", "200", NULL), 0);
    assert_null(strstr(o.out, "nan"));
    json_t *j = cli_json(&o);
    assert_int_equal(cli_json_num(j, "ranked"), 0);
    json_t *rows = cli_json_get(j, "rows");
    assert_int_equal(json_array_size(rows), 2);
    static const char *const none[] = {"rank", "score", "median_rank", "q05", "q95"};
    for (size_t k = 0; k < 2; k++) {
        json_t *r = s_at(rows, k);
        assert_string_equal(cli_json_str(r, "city"), k ? "bonn-de" : "amman-jo");
        for (size_t f = 0; f < 5; f++) {
            json_t *v = json_object_get(r, none[f]);
            assert_non_null(v);
            assert_true(json_is_null(v));
        }
        assert_true(cli_json_num(r, "ranked_share") == 0);
    }
    json_t *eff = cli_json_get(j, "effects");
    assert_int_equal(json_array_size(eff), 7);
    for (size_t k = 0; k < 7; k++)
        assert_true(json_is_null(json_object_get(s_at(eff, k), "mean_abs_rank_shift")));
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "--format", "csv", "sensitivity",
                             "--period", "2025", "--samples", "200", NULL), 0);
    assert_non_null(strstr(o.out, "\r\ncity,amman-jo,Amman,,,,,,0,,\r\n"));
    assert_non_null(strstr(o.out, "\r\ncity,bonn-de,Bonn,,,,,,0,,\r\n"));
    assert_non_null(strstr(o.out, "\r\neffect,,,,,,,,,aggregation,\r\n"));
    assert_null(strstr(o.out, "nan"));
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "sensitivity", "--period", "2025",
                             "--samples", "200", NULL), 0);
    assert_non_null(strstr(o.out, "0 of 2 cities ranked\n"));
    assert_non_null(strstr(o.out, "no sample ranks any city"));
    const char *line = strstr(o.out, "amman-jo");
    assert_non_null(line);
    /* rank "-" before the id; score, median and band "-" after the name */
    assert_non_null(strstr(o.out, "   -  amman-jo  Amman      -       -      -      0%\n"));
    assert_null(strstr(o.out, "nan"));
    cli_out_release(&o);
}

/* More city-samples than the sample ranks may hold (64 Mi): 700 cities
 * x 100,000 samples is refused before any work, naming the counts. */
static void test_sensitivity_too_big(void **state)
{
    (void)state;
    char store[400];
    snprintf(store, sizeof store, "%s/big", s_dir);
    glci_store_t *st = cli_store_create(store, s_framework(s_dir, "big.ini", 0, "arithmetic"),
                                        0);
    enum { N = 700 };
    static char ids[N][16];
    static glci_obs_t obs[N];
    static glci_batch_t b[N];
    static glci_batch_result_t r[N];
    for (int c = 0; c < N; c++) {
        snprintf(ids[c], sizeof ids[c], "b%03d", c);
        cli_city_add(st, ids[c], ids[c], "DE");
        obs[c] = (glci_obs_t){.indicator = "i1", .period = 2025, .value = c % 100,
                              .has_period = 1, .has_value = 1};
        b[c] = (glci_batch_t){.city = ids[c], .stream = 1, .seq = 1, .obs = &obs[c],
                              .n_obs = 1};
    }
    assert_int_equal(glci_store_ingest(st, b, N, 1764000000, r), 0);
    for (int c = 0; c < N; c++)
        glci_batch_result_release(&r[c]);
    glci_store_close(&st);
    cli_out_t o;
    cli_run(&o, "--store", store, "sensitivity", "--samples", "100000", NULL);
    cli_expect_fail(&o, "100000 samples of 700 cities is too many (at most 67108864 "
                        "city-samples)");
    cli_out_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_runtime_errors),
        cmocka_unit_test(test_thresholds_refused_at_init),
        cmocka_unit_test(test_show_lights),
        cmocka_unit_test(test_trend_json),
        cmocka_unit_test(test_trend_table_csv),
        cmocka_unit_test(test_trend_thresholds),
        cmocka_unit_test(test_peers_json),
        cmocka_unit_test(test_peers_table_csv),
        cmocka_unit_test(test_sensitivity_nominal_is_rank),
        cmocka_unit_test(test_sensitivity_minmax),
        cmocka_unit_test(test_sensitivity_outputs),
        cmocka_unit_test(test_sensitivity_too_big),
        cmocka_unit_test(test_sensitivity_none_ranked),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
