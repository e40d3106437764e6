/* The store against a city that floods it with bad rows (issue 20, finding
 * 4): the rejects log keeps the newest rejects_keep of each city, drops
 * that city's oldest first, counts them, and never touches another city's;
 * glci verify still balances the log with the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_store.h"

static char s_dir[] = "/tmp/glci-test-store-bounds-XXXXXX";

typedef struct {
    size_t n;
    uint64_t min_seq, max_seq;
    char first_city[64];
} s_rows_t;

static int s_row(void *ctx, const glci_reject_row_t *row)
{
    s_rows_t *r = ctx;
    if (r->n == 0 || row->seq < r->min_seq)
        r->min_seq = row->seq;
    if (row->seq > r->max_seq)
        r->max_seq = row->seq;
    if (r->n == 0)
        snprintf(r->first_city, sizeof r->first_city, "%s", row->city);
    r->n++;
    return 0;
}

static s_rows_t s_rejects(glci_store_t *st, const char *city)
{
    glci_view_t *v = NULL;
    s_rows_t r = {0};
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_rejects(v, city, 0, s_row, &r), 0);
    glci_view_end(&v);
    return r;
}

/* One batch of n observations of an indicator no framework has. */
static void s_bad_batch(glci_store_t *st, const char *city, uint64_t seq, size_t n)
{
    glci_obs_t *obs = calloc(n, sizeof *obs);
    for (size_t i = 0; i < n; i++)
        obs[i] = glci_obs_make("no_such_indicator", 2024, (double)i);
    glci_batch_t b = {.city = city, .stream = 7, .seq = seq, .obs = obs, .n_obs = n};
    glci_batch_result_t r;
    assert_int_equal(glci_store_ingest(st, &b, 1, 1764000000 + (int64_t)seq, &r), 0);
    assert_int_equal(r.status, GLCI_BATCH_APPLIED);
    assert_int_equal(r.n_rejections, n);
    glci_batch_result_release(&r);
    free(obs);
}

static void test_rejects_log_is_bounded_per_city(void **state)
{
    (void)state;
    char store[128], err[512];
    assert_non_null(mkdtemp(s_dir));
    snprintf(store, sizeof store, "%s/store", s_dir);
    assert_int_equal(glci_store_create(store, GLCI_FRAMEWORK_FILE, NULL, err, sizeof err), 0);
    glci_store_t *st = NULL;
    assert_int_equal(glci_store_open(store, NULL, &st, err, sizeof err), 0);
    assert_int_equal(glci_store_city_add(st, "flood", "Flood", "IE", NULL, err, sizeof err), 0);
    assert_int_equal(glci_store_city_add(st, "calm", "Calm", "FR", NULL, err, sizeof err), 0);
    glci_store_set_rejects_keep(st, 100);

    s_bad_batch(st, "calm", 1, 5);
    for (uint64_t seq = 1; seq <= 7; seq++)
        s_bad_batch(st, "flood", seq, 50);       /* 350 rejects */

    /* the flooding city keeps its newest 100, the other city all of its 5 */
    s_rows_t f = s_rejects(st, "flood"), c = s_rejects(st, "calm");
    assert_int_equal(f.n, 100);
    assert_int_equal(f.min_seq, 6);
    assert_int_equal(f.max_seq, 7);
    assert_int_equal(c.n, 5);
    s_rows_t all = s_rejects(st, NULL);
    assert_int_equal(all.n, 105);
    assert_string_equal(all.first_city, "flood");           /* newest first */

    /* counted: rejects ever, and how many the log dropped */
    glci_view_t *v = NULL;
    glci_store_status_t ss;
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_status(v, &ss), 0);
    glci_city_t city;
    assert_int_equal(glci_view_city(v, "flood", &city), 0);
    glci_view_end(&v);
    assert_int_equal(ss.n_rejects, 355);
    assert_int_equal(ss.rejects_dropped, 250);
    assert_int_equal(city.rejects, 350);

    uint64_t diffs = 0;
    assert_int_equal(glci_store_verify(st, NULL, NULL, &diffs), 0);
    glci_store_close(&st);

    /* a later open (the default keep) goes on from the same counts */
    assert_int_equal(glci_store_open(store, NULL, &st, err, sizeof err), 0);
    s_bad_batch(st, "flood", 8, 10);
    f = s_rejects(st, "flood");
    assert_int_equal(f.n, 110);
    assert_int_equal(glci_store_verify(st, NULL, NULL, &diffs), 0);
    glci_store_close(&st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejects_log_is_bounded_per_city),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
