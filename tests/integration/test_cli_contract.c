/* The glci CLI held to the letter of docs/CLI.md and SPEC section 5, with
 * the real binary against stores filled through the store API:
 *
 *   - a period of 0 is a year like any other, never "not given": every
 *     command that takes one answers 0 as it answers 1999 (outside the
 *     tiny framework's [2000, 2100]), and edition publish refuses it;
 *   - lost output (stdout on /dev/full) is exit 1 with one line, for every
 *     query command in every format, whatever the command returned;
 *   - a negative number is an argument ("correct ... -3.5"), -0 is stored
 *     as 0;
 *   - an option whose value is missing before another of the command's
 *     options says so, rather than taking the option as its value;
 *   - CSV headers are JSON's field names;
 *   - an edition's rank table (and an as-of table) reads the same after
 *     cities are added: its heading counts the active cities of its time. */
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
static const char *s_fw;

static int s_group_setup(void **state)
{
    (void)state;
    cli_tmpdir(s_dir, sizeof s_dir);
    s_fw = cli_tiny_framework(s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    glci_store_t *st = cli_store_create(s_store, s_fw, 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    cli_rmdir(s_dir);
    return 0;
}

/* A fresh fixture store of its own under the group's folder, for a test
 * that writes. */
static void s_own_store(const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", s_dir, name);
    glci_store_t *st = cli_store_create(path, s_fw, 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
}

/* Runs glci --store STORE ARGS (NULL-terminated) with every "@P" in ARGS
 * replaced by p. */
static int s_run_period(cli_out_t *o, const char *store, const char *p, const char *const *args)
{
    const char *argv[32] = {"--store", store};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < 31);
        argv[n++] = strcmp(args[i], "@P") == 0 ? p : args[i];
    }
    argv[n] = NULL;
    return cli_runv(o, argv);
}

/* text with every "1999" replaced by "0" (owned). */
static char *s_as_zero(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len + 1), *w = out;
    assert_non_null(out);
    for (const char *r = text; *r;) {
        if (strncmp(r, "1999", 4) == 0) {
            *w++ = '0';
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return out;
}

/* ---- a period of 0 ---------------------------------------------------------- */

static void test_period_zero_is_a_year(void **state)
{
    (void)state;
    char out_file[400], out_dir[400];
    snprintf(out_file, sizeof out_file, "%s/sheet.csv", s_dir);
    snprintf(out_dir, sizeof out_dir, "%s/report", s_dir);
    const char *const cases[][12] = {
        {"rank", "--period", "@P", NULL},
        {"show", "alpha", "--period", "@P", NULL},
        {"export", "--period", "@P", NULL},
        {"export", "--format", "json", "--period", "@P", NULL},
        {"missing", "--period", "@P", NULL},
        {"template", "--format", "csv", "--out", out_file, "--period", "@P", NULL},
        {"report", "--out", out_dir, "--period", "@P", NULL},
        {"trend", "alpha", "--to", "@P", NULL},
        {"peers", "alpha", "--period", "@P", NULL},
        {"sensitivity", "--samples", "10", "--period", "@P", NULL},
        {"correct", "alpha", "i1", "@P", "5", "--reason", "r", NULL},
        {"retract", "alpha", "i1", "@P", "--reason", "r", NULL},
        {"edition", "publish", "e-zero", "--period", "@P", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cli_out_t a, b;
        s_run_period(&a, s_store, "1999", cases[k]);
        static const char *const zeros[] = {"0", "00", "-0"};
        for (size_t z = 0; z < 3; z++) {
            s_run_period(&b, s_store, zeros[z], cases[k]);
            char *want = s_as_zero(a.err);
            if (b.status != a.status || strcmp(b.err, want) != 0)
                fail_msg("%s --period %s: exit %d '%s', want exit %d '%s'", cases[k][0],
                         zeros[z], b.status, b.err, a.status, want);
            assert_int_not_equal(b.status, 0);
            free(want);
            cli_out_release(&b);
        }
        cli_out_release(&a);
    }
    /* nothing was published under the name, nothing corrected */
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "edition", "list", "--format", "json",
                             NULL), 0);
    assert_null(strstr(o.out, "e-zero"));
    cli_out_release(&o);

    /* the refusal edition publish gives */
    const char *const publish[] = {"edition", "publish", "e0", "--period", "@P", NULL};
    s_run_period(&o, s_store, "0", publish);
    cli_expect_fail(&o, "period 0 is outside the framework's [2000, 2100]");
    cli_out_release(&o);

    /* --from 0 is a bound like --from 1999: every round from the first */
    cli_out_t a, b;
    assert_int_equal(cli_run(&a, "--store", s_store, "trend", "alpha", "--from", "1999", NULL), 0);
    assert_int_equal(cli_run(&b, "--store", s_store, "trend", "alpha", "--from", "0", NULL), 0);
    assert_string_equal(a.out, b.out);
    cli_out_release(&a);
    cli_out_release(&b);
}

/* ---- lost output ---------------------------------------------------------------- */

/* Runs glci ARGS with stdout on /dev/full. */
static int s_run_full(cli_out_t *o, const char *const *args)
{
    char bin[1024];
    const char *dir = getenv("GLCI_BIN_DIR");
    assert_non_null(dir);
    snprintf(bin, sizeof bin, "%s/cli/glci", dir);
    const char *argv[40] = {"-c", "exec \"$0\" \"$@\" >/dev/full", bin};
    size_t n = 3;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < 39);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return cli_run_program(o, "/bin/sh", argv);
}

static void test_lost_output_fails(void **state)
{
    (void)state;
    const char *const cmds[][6] = {
        {"rank", NULL}, {"show", "alpha", NULL}, {"history", "alpha", "i1", NULL},
        {"export", NULL}, {"status", NULL}, {"rejects", NULL}, {"verify", NULL},
        {"framework", NULL}, {"trend", "alpha", NULL}, {"peers", "alpha", NULL},
        {"missing", NULL}, {"city", "list", NULL}, {"city", "show", "alpha", NULL},
        {"sensitivity", "--samples", "10", NULL},
    };
    static const char *const formats[] = {"table", "json", "csv"};
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        for (size_t f = 0; f < 3; f++) {
            const char *argv[12] = {"--store", s_store, "--format", formats[f]};
            size_t n = 4;
            for (size_t i = 0; cmds[k][i]; i++)
                argv[n++] = cmds[k][i];
            argv[n] = NULL;
            cli_out_t o;
            s_run_full(&o, argv);
            char want[128];
            snprintf(want, sizeof want, "glci %s%s%s: cannot write the output: No space left "
                     "on device\n", cmds[k][0], strcmp(cmds[k][0], "city") == 0 ? " " : "",
                     strcmp(cmds[k][0], "city") == 0 ? cmds[k][1] : "");
            if (o.status != 1 || strcmp(o.err, want) != 0)
                fail_msg("%s --format %s >/dev/full: exit %d, stderr '%s'", cmds[k][0],
                         formats[f], o.status, o.err);
            cli_out_release(&o);
        }
    }
    /* help and version too */
    const char *const help[] = {"rank", "--help", NULL};
    cli_out_t o;
    s_run_full(&o, help);
    assert_int_equal(o.status, 1);
    assert_string_equal(o.err, "glci rank: cannot write the output: No space left on device\n");
    cli_out_release(&o);
    const char *const version[] = {"--version", NULL};
    s_run_full(&o, version);
    assert_int_equal(o.status, 1);
    assert_string_equal(o.err, "glci: cannot write the output: No space left on device\n");
    cli_out_release(&o);
}

/* ---- negative numbers, missing values ---------------------------------------------- */

static void test_negative_number_is_an_argument(void **state)
{
    (void)state;
    char store[400];
    s_own_store("negative", store, sizeof store);
    cli_out_t o;
    /* i1's valid range is [0, 100]: -3.5 reaches the range check */
    assert_int_equal(cli_run(&o, "--store", store, "correct", "alpha", "i1", "2025", "-3.5",
                             "--reason", "r", NULL), 1);
    cli_expect_fail(&o, "value -3.5 outside [0, 100] for i1");
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "correct", "alpha", "i1", "2025", "-.5",
                             "--reason", "r", NULL), 1);
    cli_expect_fail(&o, "value -0.5 outside");
    cli_out_release(&o);
    /* an option is still an option */
    assert_int_equal(cli_run(&o, "--store", store, "correct", "alpha", "i1", "2025", "5",
                             "-x", "--reason", "r", NULL), 2);
    cli_expect_usage(&o, "unknown option '-x'");
    cli_out_release(&o);

    /* -0 is stored as 0 */
    assert_int_equal(cli_run(&o, "--store", store, "correct", "alpha", "i1", "2025", "-0",
                             "--reason", "r", NULL), 0);
    assert_non_null(strstr(o.out, " to 0 (was 80)"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "csv", "history", "alpha", "i1",
                             NULL), 0);
    assert_non_null(strstr(o.out, "\r\n2025,0,"));
    assert_null(strstr(o.out, ",-0,"));
    cli_out_release(&o);
}

static void test_missing_value_before_an_option(void **state)
{
    (void)state;
    char key[400];
    snprintf(key, sizeof key, "%s/w1.key", s_dir);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "add", "w1", "--name", "--country",
                             "IE", "--key-out", key, NULL), 2);
    cli_expect_usage(&o, "option --name needs a value");
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "rank", "--period", "--limit", "3", NULL),
                     2);
    cli_expect_usage(&o, "option --period needs a value");
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "rank", "--period", "--limit=3", NULL), 2);
    cli_expect_usage(&o, "option --period needs a value");
    cli_out_release(&o);
    /* a value that only looks like an option of another command is a value */
    assert_int_equal(cli_run(&o, "--store", s_store, "rank", "--area", "--nothing", NULL), 1);
    cli_expect_fail(&o, "--nothing");
    cli_out_release(&o);
}

/* ---- CSV columns are JSON's fields ------------------------------------------------ */

/* Asserts that the CSV header of glci ARGS --format csv names exactly the
 * fields of the first object of JSON's array key (glci ARGS --format json),
 * in any order. */
static void s_expect_csv_is_json(const char *key, const char *const *args)
{
    const char *argv[16] = {"--store", s_store, "--format", "json"};
    size_t n = 4;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    cli_out_t j, c;
    assert_int_equal(cli_runv(&j, argv), 0);
    argv[3] = "csv";
    assert_int_equal(cli_runv(&c, argv), 0);
    json_t *doc = cli_json(&j);
    json_t *row = json_array_get(cli_json_get(doc, key), 0);
    assert_non_null(row);
    char *header = strndup(c.out, strcspn(c.out, "\r"));
    assert_non_null(header);
    size_t n_csv = 1;
    for (const char *p = header; *p; p++)
        n_csv += *p == ',';
    size_t wlen = strlen(header) + 3;
    char *wrapped = malloc(wlen);          /* ",HEADER,": every column between commas */
    assert_non_null(wrapped);
    snprintf(wrapped, wlen, ",%s,", header);
    const char *field;
    json_t *value;
    json_object_foreach(row, field, value) {
        char quoted[80];
        snprintf(quoted, sizeof quoted, ",%s,", field);
        if (!strstr(wrapped, quoted))
            fail_msg("%s: JSON field '%s' is not a CSV column: %s", args[0], field, header);
    }
    free(wrapped);
    if (json_object_size(row) != n_csv)
        fail_msg("%s: %zu JSON fields, %zu CSV columns: %s", args[0], json_object_size(row),
                 n_csv, header);
    free(header);
    json_decref(doc);
    cli_out_release(&j);
    cli_out_release(&c);
}

static void test_csv_columns_are_json_fields(void **state)
{
    (void)state;
    const char *const history[] = {"history", "alpha", "i1", NULL};
    s_expect_csv_is_json("rows", history);
    const char *const list[] = {"city", "list", NULL};
    s_expect_csv_is_json("cities", list);
}

/* ---- an edition never changes -------------------------------------------------- */

static void test_edition_table_never_changes(void **state)
{
    (void)state;
    char store[400], key[500];
    s_own_store("edition", store, sizeof store);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "edition", "publish", "e1", NULL), 0);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "edition", "list", NULL),
                     0);
    json_t *j = cli_json(&o);
    char as_of[64];
    snprintf(as_of, sizeof as_of, "%s",
             cli_json_str(json_array_get(cli_json_get(j, "editions"), 0), "as_of"));
    json_decref(j);
    cli_out_release(&o);

    static const char *const formats[] = {"table", "json", "csv"};
    cli_out_t before[2][3], after;
    for (size_t f = 0; f < 3; f++) {
        assert_int_equal(cli_run(&before[0][f], "--store", store, "--format", formats[f],
                                 "rank", "--edition", "e1", NULL), 0);
        assert_int_equal(cli_run(&before[1][f], "--store", store, "--format", formats[f],
                                 "rank", "--as-of", as_of, "--period", "2025", NULL), 0);
    }
    /* the heading counts the active cities as of the edition: 6, zeta too */
    assert_non_null(strstr(before[0][0].out, "; 6 active cities registered)"));
    assert_non_null(strstr(before[1][0].out, "; 6 active cities registered)"));

    /* cities registered after the edition */
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "late%d", i);
        snprintf(key, sizeof key, "%s/%s.key", s_dir, id);
        assert_int_equal(cli_run(&o, "--store", store, "city", "add", id, "--name", id,
                                 "--country", "IE", "--key-out", key, NULL), 0);
        cli_out_release(&o);
    }
    assert_int_equal(cli_run(&o, "--store", store, "rank", NULL), 0);
    assert_non_null(strstr(o.out, "; 9 active cities registered)"));
    cli_out_release(&o);
    for (size_t f = 0; f < 3; f++) {
        assert_int_equal(cli_run(&after, "--store", store, "--format", formats[f], "rank",
                                 "--edition", "e1", NULL), 0);
        assert_string_equal(after.out, before[0][f].out);
        cli_out_release(&after);
        assert_int_equal(cli_run(&after, "--store", store, "--format", formats[f], "rank",
                                 "--as-of", as_of, "--period", "2025", NULL), 0);
        assert_string_equal(after.out, before[1][f].out);
        cli_out_release(&after);
        cli_out_release(&before[0][f]);
        cli_out_release(&before[1][f]);
    }
}

/* ---- what docs/CLI.md says of country codes and an empty export ------------------- */

static void test_country_shape_and_empty_export(void **state)
{
    (void)state;
    char store[400], key[500];
    snprintf(store, sizeof store, "%s/empty", s_dir);
    glci_store_t *st = cli_store_create(store, s_fw, 0);
    glci_store_close(&st);
    cli_out_t o;
    /* only the shape is checked: user-assigned codes are taken */
    static const char *const ok[] = {"XK", "xx", "JJ"};
    for (size_t i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "c%zu", i);
        snprintf(key, sizeof key, "%s/%s.key", s_dir, id);
        assert_int_equal(cli_run(&o, "--store", store, "city", "add", id, "--name", id,
                                 "--country", ok[i], "--key-out", key, NULL), 0);
        cli_out_release(&o);
    }
    snprintf(key, sizeof key, "%s/gb.key", s_dir);
    assert_int_equal(cli_run(&o, "--store", store, "city", "add", "gb", "--name", "G",
                             "--country", "GB-SCT", "--key-out", key, NULL), 2);
    cli_expect_usage(&o, "country 'GB-SCT' is not a two-letter ISO 3166-1 code");
    cli_out_release(&o);

    /* an export of a store without data is no error, in every format */
    assert_int_equal(cli_run(&o, "--store", store, "export", NULL), 0);
    assert_string_equal(o.out, "no data in the store yet\n");
    assert_string_equal(o.err, "");
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "export", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(json_array_size(cli_json_get(j, "rows")), 0);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "csv", "export", NULL), 0);
    assert_int_equal(cli_csv_records(o.out), 1);
    cli_out_release(&o);
    /* rank is an error there */
    assert_int_equal(cli_run(&o, "--store", store, "rank", NULL), 1);
    cli_out_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_zero_is_a_year),
        cmocka_unit_test(test_lost_output_fails),
        cmocka_unit_test(test_negative_number_is_an_argument),
        cmocka_unit_test(test_missing_value_before_an_option),
        cmocka_unit_test(test_csv_columns_are_json_fields),
        cmocka_unit_test(test_edition_table_never_changes),
        cmocka_unit_test(test_country_shape_and_empty_export),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
