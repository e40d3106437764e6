/* Text from cities and operators on its way out of glci (issue 20,
 * findings 7 and 11): history, rejects and city list in CSV printed
 * =HYPERLINK(...) and =cmd|... unchanged, for a spreadsheet to run; a city
 * name could hold right-to-left overrides. The store is filled through the
 * store API as the collector would (a source and a rejected indicator from
 * the network, a name from an operator), then the real glci prints it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_cli_support.h"

static char s_dir[256];
static char s_store[300];

#define T_SOURCE "=HYPERLINK(\"http://evil.example/\",\"click\")"
#define T_NAME   "=cmd|' /C calc'!A0"
#define T_IND    "@SUM(1+1)*cmd|' /C calc'!A0"

static int s_setup(void **state)
{
    (void)state;
    cli_tmpdir(s_dir, sizeof s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    glci_store_t *st = cli_store_create(s_store, cli_tiny_framework(s_dir), 0);
    cli_city_add(st, "alpha", T_NAME, "IE");
    /* a value with a formula for a source; an unknown indicator that is a
     * formula; a negative value out of range (a number, rejected) */
    glci_obs_t o[3] = {glci_obs_make("i1", 2025, 41.5), glci_obs_make(T_IND, 2025, 1),
                       glci_obs_make("i2", 2025, -12.5)};
    o[0].source = T_SOURCE;
    glci_batch_t b = {.city = "alpha", .stream = CLI_STREAM, .seq = 1, .obs = o, .n_obs = 3};
    glci_batch_result_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_store_ingest(st, &b, 1, 1764000000, &r), 0);
    assert_int_equal(r.n_rejections, 2);
    glci_batch_result_release(&r);
    glci_store_close(&st);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    cli_rmdir(s_dir);
    return 0;
}

/* No line of the CSV text starts a cell with a formula character unless
 * the cell is a number or defused ("'=..."). */
static void s_no_live_formula(const char *csv)
{
    int in_quotes = 0, cell_start = 1;
    for (const char *p = csv; *p; p++) {
        if (cell_start) {
            const char *c = p[0] == '"' ? p + 1 : p;
            if (strchr("=+@", *c) && *c)
                fail_msg("a live formula cell at: %.40s", p);
            if (*c == '-' && !(c[1] >= '0' && c[1] <= '9'))
                fail_msg("a live formula cell at: %.40s", p);
        }
        cell_start = 0;
        if (*p == '"')
            in_quotes = !in_quotes;
        else if (!in_quotes && (*p == ',' || *p == '\n'))
            cell_start = 1;
    }
}

static void test_history_rejects_and_city_list_defuse_formulas(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "history", "alpha", "i1", "--format", "csv",
                             NULL), 0);
    assert_non_null(strstr(o.out, "\"'" "=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\""));
    s_no_live_formula(o.out);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "rejects", "--format", "csv", NULL), 0);
    assert_non_null(strstr(o.out, "\"'@SUM(1+1)*cmd|' /C calc'!A0\""));
    assert_non_null(strstr(o.out, ",-12.5,"));            /* a number stays a number */
    s_no_live_formula(o.out);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "city", "list", "--format", "csv", NULL),
                     0);
    assert_non_null(strstr(o.out, "\"'=cmd|' /C calc'!A0\""));
    s_no_live_formula(o.out);
    cli_out_release(&o);

    /* JSON is not a spreadsheet's: the text is as stored */
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "list", "--format", "json", NULL),
                     0);
    assert_non_null(strstr(o.out, "\"=cmd|' /C calc'!A0\""));
    cli_out_release(&o);
}

static void test_names_with_bidi_overrides_are_refused(void **state)
{
    (void)state;
    cli_out_t o;
    char key[400];
    snprintf(key, sizeof key, "%s/beta.key", s_dir);
    /* "Dublin" shown, "nilbuD" stored: U+202E RIGHT-TO-LEFT OVERRIDE; a bad
     * argument, judged before the store is opened (exit 2) */
    cli_run(&o, "--store", s_store, "city", "add", "beta", "--name", "\xE2\x80\xAEnilbuD",
            "--country", "IE", "--key-out", key, NULL);
    cli_expect_usage(&o, "bidirectional control character");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "beta", "--name",
            "Dub\xE2\x81\xA6lin", "--country", "IE", "--key-out", key, NULL);
    cli_expect_usage(&o, "bidirectional control character");
    cli_out_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_rejects_and_city_list_defuse_formulas),
        cmocka_unit_test(test_names_with_bidi_overrides_are_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
