/* Unit tests of glci's output layer (cli/output.c), in process: aligned
 * tables (UTF-8 widths, right alignment, no trailing blanks), RFC 4180
 * quoting, numbers that round-trip exactly, readable values, nulls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_output.h"
#include "glci_text.h"

/* Runs a printer into memory and returns the text (owned). */
static char *s_capture_text(const glci_table_t *t, int csv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (csv)
        glci_table_print_csv(t, f);
    else
        glci_table_print_text(t, f);
    fclose(f);
    return buf;
}

static void test_table_alignment(void **state)
{
    static const char *const h[] = {"rank", "city", "score"};
    glci_table_t *t = glci_table_new(3, h, "rlr");
    glci_table_cell(t, "1");
    glci_table_cell(t, "Zürich");
    glci_table_cell(t, "71.2");
    glci_table_cell(t, "10");
    glci_table_cell(t, "Cork");
    glci_table_cell(t, "5.0");
    assert_int_equal(glci_table_rows(t), 2);
    char *text = s_capture_text(t, 0);
    assert_string_equal(text, "rank  city    score\n"
                              "   1  Zürich   71.2\n"
                              "  10  Cork      5.0\n");
    free(text);
    glci_table_free(&t);
    assert_null(t);
    glci_table_free(&t);   /* accepts NULL */

    /* a left column last on the line leaves no trailing blanks */
    static const char *const h2[] = {"id", "note"};
    t = glci_table_new(2, h2, NULL);
    glci_table_cell(t, "a");
    glci_table_cell(t, "");
    glci_table_cell(t, "longer");
    glci_table_cell(t, "x");
    text = s_capture_text(t, 0);
    assert_string_equal(text, "id      note\na\nlonger  x\n");
    free(text);
    glci_table_free(&t);
}

static void test_csv_quoting(void **state)
{
    static const char *const h[] = {"name", "value"};
    glci_table_t *t = glci_table_new(2, h, NULL);
    glci_table_cell(t, "Beta, \"the\" Town");
    glci_table_cell(t, "1");
    glci_table_cell(t, "two\nlines");
    glci_table_cellf(t, "%d", 2);
    glci_table_cell(t, NULL);
    glci_table_cell(t, "plain");
    char *text = s_capture_text(t, 1);
    assert_string_equal(text, "name,value\r\n\"Beta, \"\"the\"\" Town\",1\r\n"
                              "\"two\nlines\",2\r\n,plain\r\n");
    free(text);
    glci_table_free(&t);
}

static void test_exact_numbers(void **state)
{
    static const double vals[] = {0.1, 80.0, 0.75, 12.345678901234567, 1.0 / 3.0,
                                  100.0 * 2.0 / 3.0, 1e-7, 123456789012.5, -0.0, 5e300};
    char buf[64];
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        glci_fmt_exact(vals[i], 1, buf, sizeof buf);
        assert_true(strtod(buf, NULL) == vals[i]);
    }
    glci_fmt_exact(0.1, 1, buf, sizeof buf);
    assert_string_equal(buf, "0.1");        /* shortest, not 0.10000000000000001 */
    glci_fmt_exact(80.0, 1, buf, sizeof buf);
    assert_string_equal(buf, "80");
    glci_fmt_exact(80.0, 0, buf, sizeof buf);
    assert_string_equal(buf, "");
    glci_fmt_exact(NAN, 1, buf, sizeof buf);
    assert_string_equal(buf, "");

    /* Subnormals carry fewer bits: 15 digits read back without being the
     * shortest, so CSV says what history's CSV says (glci_format_double). */
    glci_fmt_exact(1e-310, 1, buf, sizeof buf);
    assert_string_equal(buf, "1e-310");
    glci_fmt_exact(5e-324, 1, buf, sizeof buf);
    assert_string_equal(buf, "5e-324");
    glci_fmt_exact(-2.5e-320, 1, buf, sizeof buf);
    assert_string_equal(buf, "-2.5e-320");
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t bits = x & 0x800fffffffffffffull;     /* exponent 0: subnormal */
        double v;
        memcpy(&v, &bits, sizeof v);
        char shorter[330], plain[64];
        glci_fmt_exact(v, 1, buf, sizeof buf);
        assert_true(strtod(buf, NULL) == v);
        glci_format_double(v, plain, sizeof plain);
        assert_string_equal(buf, plain);
        /* no fewer significant digits read back */
        int digits = 0;
        for (const char *p = buf; *p && *p != 'e'; p++)
            digits += *p >= '0' && *p <= '9';
        if (digits > 1) {
            snprintf(shorter, sizeof shorter, "%.*g", digits - 1, v);
            assert_false(strtod(shorter, NULL) == v);
        }
    }

    /* JSON: 17 digits, read back exactly; absent and non-finite are null */
    json_t *j = json_pack("{s:o, s:o, s:o, s:o}", "a", glci_json_num(1.0 / 3.0, 1), "b",
                          glci_json_num(2.0, 0), "c", glci_json_num(INFINITY, 1), "d",
                          glci_json_time(0));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(glci_json_print(&j, f), 0);
    fclose(f);
    assert_null(j);
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_true(json_real_value(json_object_get(back, "a")) == 1.0 / 3.0);
    assert_true(json_is_null(json_object_get(back, "b")));
    assert_true(json_is_null(json_object_get(back, "c")));
    assert_true(json_is_null(json_object_get(back, "d")));
    const char *raw = strstr(text, "\"a\": ");
    assert_non_null(raw);
    assert_true(strtod(raw + 5, NULL) == 1.0 / 3.0);
    assert_true(text[len - 1] == '\n');
    json_decref(back);
    free(text);
}

/* The pieces of streamed JSON: one row object reused with its values set
 * in place (real <-> null, strings), dumped with the same flags. */
static void test_json_stream_pieces(void **state)
{
    (void)state;
    json_t *row = json_object();
    json_object_set_new_nocheck(row, "name", json_string(""));
    json_object_set_new_nocheck(row, "score", json_null());
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    static const struct {
        const char *name;
        double v;
        int present;
    } steps[] = {{"a", 1.0 / 3.0, 1}, {"b\"c", 2.5, 1}, {"d", 7.0, 0}, {"e", NAN, 1},
                 {"f", 0.1, 1}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        glci_json_set_str(row, "name", steps[i].name);
        glci_json_set_num(row, "score", steps[i].v, steps[i].present);
        if (i > 0)
            fputs(", ", f);
        assert_int_equal(glci_json_write(row, f), 0);
    }
    /* not UTF-8: null rather than a broken document */
    glci_json_set_str(row, "name", "\xff\xfe");
    fputs(", ", f);
    assert_int_equal(glci_json_write(row, f), 0);
    json_t *three = json_integer(3);   /* any value, not only objects */
    assert_int_equal(glci_json_write(three, f), 0);
    json_decref(three);
    fclose(f);
    assert_string_equal(text,
        "{\"name\": \"a\", \"score\": 0.33333333333333331}, "
        "{\"name\": \"b\\\"c\", \"score\": 2.5}, {\"name\": \"d\", \"score\": null}, "
        "{\"name\": \"e\", \"score\": null}, {\"name\": \"f\", "
        "\"score\": 0.10000000000000001}, {\"name\": null, \"score\": 0.10000000000000001}3");
    assert_true(strtod(strstr(text, "0.333"), NULL) == 1.0 / 3.0);
    free(text);
    json_decref(row);
}

static void test_people_numbers(void **state)
{
    char buf[64];
    glci_fmt_score(71.25, 1, buf, sizeof buf);
    assert_string_equal(buf, "71.2");
    glci_fmt_score(71.26, 1, buf, sizeof buf);
    assert_string_equal(buf, "71.3");
    glci_fmt_score(71.2, 0, buf, sizeof buf);
    assert_string_equal(buf, "-");
    glci_fmt_value(41.0, buf, sizeof buf);
    assert_string_equal(buf, "41");
    glci_fmt_value(41.5, buf, sizeof buf);
    assert_string_equal(buf, "41.5");
    glci_fmt_value(99.0716754299418, buf, sizeof buf);
    assert_string_equal(buf, "99.07");
    glci_fmt_value(-0.001, buf, sizeof buf);
    assert_string_equal(buf, "-0.001");
    glci_fmt_value(0.0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    glci_fmt_time(0, buf, sizeof buf);
    assert_string_equal(buf, "-");
    glci_fmt_time(1764000000, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-24T16:00:00Z");
}

static void test_format_names(void **state)
{
    glci_format_t f;
    assert_int_equal(glci_format_parse("json", &f), 0);
    assert_int_equal(f, GLCI_FMT_JSON);
    assert_int_equal(glci_format_parse("csv", &f), 0);
    assert_int_equal(f, GLCI_FMT_CSV);
    assert_int_equal(glci_format_parse("table", &f), 0);
    assert_int_equal(f, GLCI_FMT_TABLE);
    assert_int_equal(glci_format_parse("JSON", &f), -1);
    assert_int_equal(glci_format_parse("", &f), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_exact_numbers),
        cmocka_unit_test(test_json_stream_pieces),
        cmocka_unit_test(test_people_numbers),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
