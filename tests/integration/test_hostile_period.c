/* One city must not move everyone's default view (issue 20, finding 8): a
 * city that sends values for 2100 made plain `glci rank`, `show` and
 * `export` show 2100. The reporting cycle (SPEC section 7) fixes the cause:
 * a value for a period after the current year + future_periods is rejected
 * ("period in the future"), and rank and export without --period take the
 * latest period in which at least half of the active cities have an index.
 * This is the scenario from the hostile city's side, both ways: with the
 * guard (future_periods = 0: its 2100 values are rejected) and without it
 * (future_periods = 100: accepted, and still not the default view).
 * The same from the network, through the real collector and CURVE, is in
 * tests/fault/test_collector_flood.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_cli_support.h"

static char s_dir[256];
static int s_year;                /* the last finished year: honest data */

static const char *s_framework(const char *dir, int future_periods)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/future-%d.ini", dir, future_periods);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f, "[framework]\nid = tiny\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
            "aggregation = arithmetic\nfirst_period = 2000\nlast_period = 2100\n"
            "future_periods = %d\n\n"
            "[area:a]\nname = Area A\n\n[focus:a.x]\narea = a\nname = Focus X\n\n"
            "[indicator:i1]\nfocus = a.x\nname = One\nunit = %%\ndirection = higher\n"
            "lower = 0\nupper = 100\nmin = 0\nmax = 100\n\n"
            "[indicator:i2]\nfocus = a.x\nname = Two\nunit = %%\ndirection = higher\n"
            "lower = 0\nupper = 100\nmin = 0\nmax = 100\n\n"
            "[area:b]\nname = Area B\n\n[focus:b.y]\narea = b\nname = Focus Y\n\n"
            "[indicator:i3]\nfocus = b.y\nname = Three\nunit = %%\ndirection = higher\n"
            "lower = 0\nupper = 100\nmin = 0\nmax = 100\n", future_periods);
    return fclose(f) == 0 ? path : NULL;
}

/* Six honest cities with an index for s_year, one hostile city with every
 * indicator for 2100. Returns the store's path (static); *rejected gets
 * how many of the hostile values were rejected, with their messages
 * checked to say "future" when any are. */
static const char *s_scenario(int future_periods, size_t *rejected)
{
    static char store[400];
    snprintf(store, sizeof store, "%s/store-%d", s_dir, future_periods);
    glci_store_t *st = cli_store_create(store, s_framework(s_dir, future_periods), 0);
    static const char *const honest[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    cli_city_add(st, "mallory", "Mallory", "XX");
    for (size_t c = 0; c < 6; c++) {
        cli_city_add(st, honest[c], honest[c], "IE");
        cli_obs_t o[3] = {{"i1", s_year, 40.0 + (double)c}, {"i2", s_year, 50},
                          {"i3", s_year, 60}};
        cli_ingest(st, honest[c], 1, o, 3, (int64_t)time(NULL));
    }
    glci_obs_t o[3] = {glci_obs_make("i1", 2100, 100), glci_obs_make("i2", 2100, 100),
                       glci_obs_make("i3", 2100, 100)};
    glci_batch_t b = {.city = "mallory", .stream = CLI_STREAM, .seq = 1, .obs = o, .n_obs = 3};
    glci_batch_result_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_store_ingest(st, &b, 1, (int64_t)time(NULL), &r), 0);
    assert_int_equal(r.status, GLCI_BATCH_APPLIED);
    *rejected = r.n_rejections;
    for (size_t i = 0; i < r.n_rejections; i++)
        if (!strstr(r.rejections[i].message, "future"))
            fail_msg("rejected for another reason: %s", r.rejections[i].message);
    glci_batch_result_release(&r);
    glci_store_close(&st);
    return store;
}

/* Plain rank, show and export: the honest period, never 2100. */
static void s_default_view_is_honest(const char *store)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "rank", "--format", "json", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal((int)cli_json_num(j, "period"), s_year);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "show", "alpha", "--format", "json", NULL),
                     0);
    j = cli_json(&o);
    assert_int_equal((int)cli_json_num(j, "period"), s_year);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "export", "--format", "json", NULL), 0);
    if (strstr(o.out, "\"period\": 2100"))
        fail_msg("plain export shows 2100:\n%.400s", o.out);
    assert_non_null(strstr(o.out, "\"city\": \"alpha\""));
    cli_out_release(&o);
}

static void test_future_values_of_one_city_are_rejected(void **state)
{
    (void)state;
    size_t rejected = 0;
    const char *store = s_scenario(0, &rejected);
    assert_int_equal(rejected, 3);
    s_default_view_is_honest(store);
}

static void test_accepted_future_values_of_one_city_do_not_move_the_view(void **state)
{
    (void)state;
    size_t rejected = 1;
    const char *store = s_scenario(100, &rejected);
    assert_int_equal(rejected, 0);
    s_default_view_is_honest(store);
}

int main(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    s_year = tm.tm_year + 1900 - 1;
    cli_tmpdir(s_dir, sizeof s_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_future_values_of_one_city_are_rejected),
        cmocka_unit_test(test_accepted_future_values_of_one_city_do_not_move_the_view),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cli_rmdir(s_dir);
    return failed;
}
