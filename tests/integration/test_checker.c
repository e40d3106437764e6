/* The exactly-once checker checked: stores built directly through the store
 * API (glci_store_ingest, no network, no agent) with one known defect each
 * -- a value stored twice, a value lost, a value nobody sent, two values
 * stored in the wrong order, a seq that left nothing behind (a gap between
 * applied seqs and the stream's mark) -- must each be reported as exactly
 * that defect, and a clean store must be reported clean, with `glci verify`
 * run on it. A store with all the defects at once reports each of them.
 *
 * The checker is what every fault test relies on to say "every value
 * exactly once, in order"; a checker that cannot see a duplicate would make
 * all of them pass vacuously. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"
#include "glci_store.h"

#define IND_A "adult_learning_rate"
#define IND_B "adult_literacy_rate"
#define CITY "c00-xx"
#define STREAM 0x1234abcdULL

typedef struct {
    char *dir, store[600];
    glci_store_t *st;
    glci_checker_t *chk;
    uint64_t seq;             /* last seq ingested on STREAM */
} s_fixture_t;

static s_fixture_t *s_open(void)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = glci_ts_tmpdir("checker");
    snprintf(f->store, sizeof f->store, "%s/store", f->dir);
    glci_store_opts_t o = {0, 0, 0};
    char err[512];
    if (glci_store_create(f->store, glci_ts_framework(), &o, err, sizeof err) != 0 ||
        glci_store_open(f->store, &o, &f->st, err, sizeof err) != 0)
        fail_msg("cannot create the store: %s", err);
    assert_int_equal(glci_store_city_add(f->st, CITY, "City 0", "XX", NULL, NULL, 0), 0);
    f->chk = glci_checker_new();
    return f;
}

static void s_close(s_fixture_t **self)
{
    s_fixture_t *f = *self;
    glci_store_close(&f->st);
    glci_checker_free(&f->chk);
    glci_ts_rmtree(f->dir);
    free(f->dir);
    free(f);
    *self = NULL;
}

/* Ingests the next seq of STREAM with n values of indicator ind, period
 * 2025 (n may be 0: a batch that leaves nothing in the store). */
static void s_ingest(s_fixture_t *f, const char *ind, const double *values, size_t n)
{
    glci_obs_t obs[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        obs[i] = (glci_obs_t){.indicator = ind, .period = 2025, .value = values[i],
                              .has_period = 1, .has_value = 1};
    glci_batch_t b = {.city = CITY, .stream = STREAM, .seq = ++f->seq, .obs = obs, .n_obs = n};
    glci_batch_result_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_store_ingest(f->st, &b, 1, 1764000000, &r), 0);
    assert_int_equal(r.status, GLCI_BATCH_APPLIED);
    assert_int_equal(r.n_rejections, 0);
    glci_batch_result_release(&r);
}

static void s_expect(s_fixture_t *f, const char *ind, const double *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        glci_checker_expect(f->chk, CITY, ind, 2025, values[i]);
}

/* Runs the checker (the store is closed for it, as a stopped collector's
 * would be) and prints the result. */
static int s_check(s_fixture_t *f, int prefix, const char *glci, glci_check_result_t *r)
{
    glci_store_close(&f->st);
    int rc = glci_checker_run(f->chk, f->store, glci, prefix, r);
    char *json = glci_check_result_json(r);
    fprintf(stderr, "# %s\n", json);
    free(json);
    return rc;
}

static void s_assert_counts(const glci_check_result_t *r, uint64_t lost, uint64_t dup,
                            uint64_t unexp, uint64_t disord, uint64_t seq)
{
    assert_int_equal(r->lost, lost);
    assert_int_equal(r->duplicated, dup);
    assert_int_equal(r->unexpected, unexp);
    assert_int_equal(r->disordered, disord);
    assert_int_equal(r->seq_errors, seq);
}

static const double s_v[] = {1.5, 2.5, 3.5, 4.5};

static void test_clean_store_is_clean(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 3);
    s_expect(f, IND_B, s_v, 2);
    s_ingest(f, IND_A, s_v, 2);
    s_ingest(f, IND_B, s_v, 2);
    s_ingest(f, IND_A, s_v + 2, 1);
    glci_check_result_t r;
    char *glci = glci_ts_bin("cli/glci");
    int rc = s_check(f, 0, glci, &r);
    free(glci);
    assert_int_equal(rc, 0);
    s_assert_counts(&r, 0, 0, 0, 0, 0);
    assert_int_equal(r.expected, 5);
    assert_int_equal(r.stored, 5);
    assert_int_equal(r.streams, 1);
    assert_int_equal(r.verify_status, 0);
    assert_string_equal(r.first_problem, "");
    s_close(&f);
}

static void test_duplicate_is_reported(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 2);
    s_ingest(f, IND_A, s_v, 2);
    s_ingest(f, IND_A, s_v + 1, 1);     /* 2.5 again, under a new seq */
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 0, 1, 0, 0, 0);
    assert_int_equal(r.stored, 3);
    assert_non_null(strstr(r.first_problem, "stored twice"));
    assert_non_null(strstr(r.first_problem, IND_A));
    s_close(&f);
}

static void test_lost_value_is_reported(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 3);
    s_ingest(f, IND_A, s_v, 2);         /* 3.5 never arrives */
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 1, 0, 0, 0, 0);
    assert_non_null(strstr(r.first_problem, "never stored"));
    assert_non_null(strstr(r.first_problem, "3.5"));
    /* as a backup copy, a missing tail is fine */
    assert_int_equal(glci_checker_run(f->chk, f->store, NULL, 1, &r), 0);
    s_assert_counts(&r, 0, 0, 0, 0, 0);
    s_close(&f);
}

static void test_lost_value_in_the_middle_is_lost_in_a_prefix_too(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 3);
    s_ingest(f, IND_A, s_v, 1);
    s_ingest(f, IND_A, s_v + 2, 1);     /* 2.5 missing between 1.5 and 3.5 */
    glci_check_result_t r;
    assert_int_equal(s_check(f, 1, NULL, &r), -1);
    s_assert_counts(&r, 1, 0, 0, 0, 0);
    assert_non_null(strstr(r.first_problem, "2.5"));
    s_close(&f);
}

static void test_lost_indicator_is_reported(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 1);
    s_expect(f, IND_B, s_v, 2);         /* nothing of IND_B arrives */
    glci_checker_expect(f->chk, "c99-xx", IND_A, 2025, 9.5);   /* nor the city */
    s_ingest(f, IND_A, s_v, 1);
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 3, 0, 0, 0, 0);
    s_close(&f);
}

static void test_unexpected_value_is_reported(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 2);
    s_ingest(f, IND_A, s_v, 2);
    const double extra = 77.25;
    s_ingest(f, IND_B, &extra, 1);      /* nobody sent it */
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 0, 0, 1, 0, 0);
    assert_non_null(strstr(r.first_problem, "unexpected value 77.25"));
    assert_non_null(strstr(r.first_problem, IND_B));
    s_close(&f);
}

static void test_reordering_is_reported(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 3);
    const double swapped[] = {1.5, 3.5, 2.5};
    s_ingest(f, IND_A, swapped, 3);
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 0, 0, 0, 1, 0);
    assert_non_null(strstr(r.first_problem, "stored after"));
    s_close(&f);
}

/* A spool file is a lane of its own: taken in after a later push is not a
 * reordering, but its own rows out of order are; a prefix is per lane. */
static void test_order_is_checked_within_a_lane(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    uint32_t file = glci_checker_new_lane(f->chk);
    assert_true(file != 0);
    glci_checker_expect_lane(f->chk, CITY, IND_A, 2025, 1.5, file);   /* spooled */
    glci_checker_expect_lane(f->chk, CITY, IND_A, 2025, 2.5, file);
    glci_checker_expect(f->chk, CITY, IND_A, 2025, 3.5);              /* pushed later */
    glci_checker_expect(f->chk, CITY, IND_A, 2025, 4.5);
    const double push_first[] = {3.5, 4.5, 1.5, 2.5};
    s_ingest(f, IND_A, push_first, 4);
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), 0);
    s_assert_counts(&r, 0, 0, 0, 0, 0);
    s_close(&f);

    f = s_open();
    file = glci_checker_new_lane(f->chk);
    glci_checker_expect_lane(f->chk, CITY, IND_A, 2025, 1.5, file);
    glci_checker_expect_lane(f->chk, CITY, IND_A, 2025, 2.5, file);
    glci_checker_expect(f->chk, CITY, IND_A, 2025, 3.5);
    const double file_swapped[] = {3.5, 2.5, 1.5};
    s_ingest(f, IND_A, file_swapped, 3);
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 0, 0, 0, 1, 0);
    s_close(&f);

    /* prefix: the push lane complete, the file not taken in yet: fine */
    f = s_open();
    file = glci_checker_new_lane(f->chk);
    glci_checker_expect_lane(f->chk, CITY, IND_A, 2025, 1.5, file);
    glci_checker_expect(f->chk, CITY, IND_A, 2025, 3.5);
    s_ingest(f, IND_A, s_v + 2, 1);
    assert_int_equal(s_check(f, 1, NULL, &r), 0);
    assert_int_equal(glci_checker_run(f->chk, f->store, NULL, 0, &r), -1);
    s_assert_counts(&r, 1, 0, 0, 0, 0);
    s_close(&f);
}

static void test_seq_gap_is_reported(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 2);
    s_ingest(f, IND_A, s_v, 1);         /* seq 1 */
    s_ingest(f, IND_A, NULL, 0);        /* seq 2: the mark moves, nothing stored */
    s_ingest(f, IND_A, s_v + 1, 1);     /* seq 3 */
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 0, 0, 0, 0, 1);
    assert_non_null(strstr(r.first_problem, "mark 3 but seqs stored are 2 distinct up to 3"));
    s_close(&f);
}

static void test_every_defect_at_once(void **state)
{
    (void)state;
    s_fixture_t *f = s_open();
    s_expect(f, IND_A, s_v, 4);         /* 1.5 2.5 3.5 4.5 */
    s_expect(f, IND_B, s_v, 1);         /* 1.5 */
    const double a1[] = {1.5, 3.5, 2.5};   /* reordered */
    s_ingest(f, IND_A, a1, 3);
    s_ingest(f, IND_A, NULL, 0);        /* a seq with nothing */
    const double b1[] = {1.5, 1.5, 66.0};  /* duplicate and unexpected */
    s_ingest(f, IND_B, b1, 3);          /* 4.5 of IND_A lost */
    glci_check_result_t r;
    assert_int_equal(s_check(f, 0, NULL, &r), -1);
    s_assert_counts(&r, 1, 1, 1, 1, 1);
    assert_int_equal(r.stored, 6);
    assert_int_equal(r.verify_status, -2);
    s_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_store_is_clean),
        cmocka_unit_test(test_duplicate_is_reported),
        cmocka_unit_test(test_lost_value_is_reported),
        cmocka_unit_test(test_lost_value_in_the_middle_is_lost_in_a_prefix_too),
        cmocka_unit_test(test_lost_indicator_is_reported),
        cmocka_unit_test(test_unexpected_value_is_reported),
        cmocka_unit_test(test_reordering_is_reported),
        cmocka_unit_test(test_order_is_checked_within_a_lane),
        cmocka_unit_test(test_seq_gap_is_reported),
        cmocka_unit_test(test_every_defect_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
