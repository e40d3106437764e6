/* glci-bench ingest's pair options: the real bench, with its real
 * collector and agents, refusing what it cannot run with one line and exit
 * 2, and running --rounds N as N interleaved pairs whose JSON says so; and
 * glci-bench pagecache running its five cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "glci_testsupport.h"
#include "test_cli_support.h"

/* the build's glci-bench, for the whole run */
static char *s_bench;

/* exit 2, one line on stderr naming what, nothing on stdout */
static void s_refused(const char *const *argv, const char *what)
{
    cli_out_t o;
    cli_run_program(&o, s_bench, argv);
    if (o.status != 2 || strstr(o.err, what) == NULL)
        fail_msg("glci-bench %s %s: status %d, stderr '%s'", argv[0], argv[1], o.status,
                 o.err);
    const char *nl = strchr(o.err, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "");
    assert_string_equal(o.out, "");
    cli_out_release(&o);
}

/* glci-bench with argv, which must exit 0: its JSON (the caller frees) */
static json_t *s_json_of(const char *const *argv)
{
    cli_out_t o;
    cli_run_program(&o, s_bench, argv);
    if (o.status != 0)
        fail_msg("glci-bench %s: status %d, stderr '%s'", argv[0], o.status, o.err);
    json_t *j = cli_json(&o);
    cli_out_release(&o);
    return j;
}

static void test_rounds_refused(void **state)
{
    (void)state;
    const char *alone[] = {"ingest", "--rounds", "3", NULL};
    s_refused(alone, "--rounds goes with --prefill or --indicators-x");
    const char *zero[] = {"ingest", "--prefill", "1000", "--rounds", "0", NULL};
    s_refused(zero, "--rounds needs a whole number in [1, 100]");
    const char *big[] = {"ingest", "--prefill", "1000", "--rounds", "101", NULL};
    s_refused(big, "--rounds needs a whole number in [1, 100]");
    const char *word[] = {"ingest", "--prefill", "1000", "--rounds", "x", NULL};
    s_refused(word, "--rounds needs a whole number in [1, 100]");
    const char *tail[] = {"ingest", "--prefill", "1000", "--rounds", "3x", NULL};
    s_refused(tail, "--rounds needs a whole number in [1, 100]");
    const char *neg[] = {"ingest", "--prefill", "-5", NULL};
    s_refused(neg, "--prefill needs a whole number in [0, 1000000000]");
    const char *unknown[] = {"ingest", "--bogus", NULL};
    s_refused(unknown, "unknown option --bogus");
}

/* Two rounds of a small prefill: four runs, alternating the empty store
 * and the prefilled one (the order swapped in the second round), every
 * run storing its values, and the medians over the rounds. */
static void test_rounds_run(void **state)
{
    (void)state;
    const char *argv[] = {"ingest", "--prefill", "2000", "--obs", "2000", "--cities", "4",
                          "--batch", "100", "--rounds", "2", NULL};
    json_t *j = s_json_of(argv);
    assert_string_equal(cli_json_str(j, "bench"), "ingest_prefill");
    assert_int_equal((int)cli_json_num(j, "rounds"), 2);
    json_t *runs = cli_json_get(j, "runs");
    assert_int_equal(json_array_size(runs), 4);
    /* round 1: empty then prefilled; round 2: prefilled then empty */
    const int prefill[4] = {0, 2000, 2000, 0};
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(runs, i);
        assert_int_equal((int)cli_json_num(r, "prefill"), prefill[i]);
        assert_int_equal((int)cli_json_num(r, "observations"), 2000);
        assert_int_equal((int)cli_json_num(r, "exit_status"), 0);
        assert_true(cli_json_num(r, "obs_per_s") > 0);
        assert_true(cli_json_num(r, "collector_major_faults") >= 0);
        assert_true(cli_json_num(r, "disk_read_bytes_per_obs") >= 0);
    }
    json_t *ratios = cli_json_get(j, "obs_per_s_ratios");
    assert_int_equal(json_array_size(ratios), 2);
    double lo = json_number_value(json_array_get(ratios, 0));
    double hi = json_number_value(json_array_get(ratios, 1));
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double med = cli_json_num(j, "obs_per_s_ratio");
    /* the median of two is their mean, printed to three places */
    assert_true(med >= lo - 0.001 && med <= hi + 0.001);
    assert_true(cli_json_num(j, "cpu_ns_per_obs_ratio") > 0);
    json_decref(j);
}

/* A small pagecache run: every case, each with its CPU per page, and the
 * appends long enough (16 MiB) that the dropping case drops. */
static void test_pagecache_run(void **state)
{
    (void)state;
    const char *argv[] = {"pagecache", "--mib", "16", "--rounds", "4", "--pages", "1024",
                          NULL};
    json_t *j = s_json_of(argv);
    assert_string_equal(cli_json_str(j, "bench"), "pagecache");
    json_t *cases = cli_json_get(j, "cases");
    const char *names[] = {"append", "overwrite_small", "overwrite_large", "append_after",
                           "append_after_dropped"};
    assert_int_equal(json_array_size(cases), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *c = json_array_get(cases, i);
        assert_string_equal(cli_json_str(c, "case"), names[i]);
        assert_true(cli_json_num(c, "total_s") > 0);
        assert_true(cli_json_num(c, "cpu_us_per_page") > 0);
    }
    assert_true(cli_json_num(j, "append_after_to_dropped") > 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounds_refused),
        cmocka_unit_test(test_rounds_run),
        cmocka_unit_test(test_pagecache_run),
    };
    s_bench = glci_ts_bin("bench/glci-bench");
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free(s_bench);
    return failed;
}
