/* Unit tests for the agent's library (agent/): every malformed-CSV case,
 * spool intake (done/, failed/ with NAME.errors, half-written files, a file
 * taken once across a crash, the outbox limit), configuration from file
 * and flags, the key-file permission check and the dead-letter file. */
#define _GNU_SOURCE 1      /* RTLD_NEXT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_agent_cmd.h"
#include "glci_agent_config.h"
#include "glci_agent_csv.h"
#include "glci_agent_sender.h"
#include "glci_agent_deadletter.h"
#include "glci_agent_spool.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_outbox.h"
#include "glci_utf8.h"

static char s_dir[256];

/* zmq_poll as the agent library sees it: this executable's definition
 * comes before libzmq's, so a test can make the daemon's poll fail. */
static int s_poll_fail;

int zmq_poll(zmq_pollitem_t *items, int nitems, long timeout)
{
    static int (*real)(zmq_pollitem_t *, int, long);
    if (s_poll_fail) {
        errno = EFAULT;
        return -1;
    }
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "zmq_poll");
        assert_non_null(sym);
        memcpy(&real, &sym, sizeof real);
    }
    return real(items, nitems, timeout);
}

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/glci-test-agent-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    return 0;
}

static int s_teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_write(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static char *s_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int s_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ---- CSV ---------------------------------------------------------------- */

static const char *const s_head = "indicator,period,value\n";

/* Parses text; asserts exactly one error, on `line`, containing `want`. */
static void s_bad(const char *text, size_t len, size_t line, const char *want)
{
    glci_agent_csv_t *c = glci_agent_csv_parse(text, len);
    if (glci_agent_csv_n_errors(c) != 1)
        fail_msg("%zu errors for %s (want '%s')", glci_agent_csv_n_errors(c), text, want);
    const char *e = glci_agent_csv_error(c, 0);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "line %zu: ", line);
    if (strncmp(e, prefix, strlen(prefix)) != 0 || !strstr(e, want))
        fail_msg("error '%s', wanted '%s%s'", e, prefix, want);
    glci_agent_csv_free(&c);
    assert_null(c);
}

static void s_bad_row(const char *row, const char *want)
{
    char text[2048];
    int n = snprintf(text, sizeof text, "%s%s", s_head, row);
    s_bad(text, (size_t)n, 2, want);
}

/* Excel-style files (semicolon, decimal comma): chosen by the header or a
 * sep= line, or forced by the setting; a decimal point is refused in them. */
static void test_csv_excel_dialect(void **state)
{
    const char *why;
    const glci_obs_t *rows;
    const char *text = "\xef\xbb\xbfindicator;period;value;source\r\n"
                       "adult_learning_rate;2025;12,5;\"office; 2025\"\r\n"
                       "x;2024;-3;\r\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_dialect(c, &why), GLCI_AGENT_CSV_EXCEL);
    assert_string_equal(why, "its header");
    assert_int_equal(glci_agent_csv_rows(c, &rows), 2);
    assert_true(rows[0].value == 12.5);
    assert_string_equal(rows[0].source, "office; 2025");
    assert_true(rows[1].value == -3.0);
    glci_agent_csv_free(&c);

    /* a sep= line says so, and is not the header; lines count from it */
    text = "sep=;\nindicator;period;value\na;2025;1,5\nb;2025;1.234\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_dialect(c, &why), GLCI_AGENT_CSV_EXCEL);
    assert_string_equal(why, "its sep= line");
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "line 4: value '1.234' is not a number "
                                                       "with a decimal comma"));
    glci_agent_csv_free(&c);
    text = "\"sep=,\"\r\nindicator,period,value\na,2025,1.5\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_dialect(c, &why), GLCI_AGENT_CSV_COMMA);
    assert_string_equal(why, "its sep= line");
    glci_agent_csv_free(&c);

    /* a comma file stays RFC 4180: a decimal comma is two fields */
    text = "indicator,period,value\na,2025,1,5\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_dialect(c, &why), GLCI_AGENT_CSV_COMMA);
    assert_string_equal(why, "its header");
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "4 fields, the header has 3"));
    glci_agent_csv_free(&c);
    text = "indicator;period;value\na;2025;1,5,5\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "not a number with a decimal comma"));
    glci_agent_csv_free(&c);

    /* the setting wins over the file, and the error says why */
    text = "indicator;period;value\na;2025;1,5\n";
    c = glci_agent_csv_parse_as(text, strlen(text), GLCI_AGENT_CSV_COMMA);
    assert_int_equal(glci_agent_csv_dialect(c, &why), GLCI_AGENT_CSV_COMMA);
    assert_true(glci_agent_csv_n_errors(c) >= 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "unknown column 'indicator;period;"
                                                       "value'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "the csv_dialect setting"));
    glci_agent_csv_free(&c);
    text = "indicator,period,value\na,2025,1\n";
    c = glci_agent_csv_parse_as(text, strlen(text), GLCI_AGENT_CSV_EXCEL);
    assert_int_equal(glci_agent_csv_dialect(c, NULL), GLCI_AGENT_CSV_EXCEL);
    assert_true(glci_agent_csv_n_errors(c) >= 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "read as excel"));
    glci_agent_csv_free(&c);

    glci_agent_csv_dialect_t d;
    assert_int_equal(glci_agent_csv_dialect_parse("excel", &d), 0);
    assert_int_equal(d, GLCI_AGENT_CSV_EXCEL);
    assert_int_equal(glci_agent_csv_dialect_parse("Excel", &d), -1);
}

static void test_csv_good_any_order_and_optional(void **state)
{
    const char *text =
        "\xef\xbb\xbfsource , value,observed_at,indicator,period\r\n"
        "\"census, 2021\",41.5,2025-06-30,adult_learning_rate,2024\r\n"
        "\r\n"
        ",-3e2,2025-06-30T12:00:00Z,x_y,2023\r\n"
        "\"two \"\"quoted\"\" words\",0,,z,2022\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    const glci_obs_t *rows;
    assert_int_equal(glci_agent_csv_rows(c, &rows), 3);
    assert_string_equal(rows[0].indicator, "adult_learning_rate");
    assert_int_equal(rows[0].period, 2024);
    assert_true(rows[0].value == 41.5);
    assert_string_equal(rows[0].source, "census, 2021");
    assert_int_equal(rows[0].observed_at, 1751241600);
    assert_null(rows[1].source);
    assert_true(rows[1].value == -300.0);
    assert_int_equal(rows[1].observed_at, 1751284800);
    assert_int_equal(rows[2].observed_at, 0);
    assert_string_equal(rows[2].source, "two \"quoted\" words");
    glci_agent_csv_free(&c);
}

/* A sheet's defused formula cell reads back as written; texts read with
 * glci_agent_csv_literal (a command line's) keep their quote. */
static void test_csv_formula_quote(void **state)
{
    (void)state;
    const char *text = "indicator,period,value,source\n\"'=x\",2024,1,\"'=quoted\"\n";
    const glci_obs_t *rows;
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_string_equal(rows[0].indicator, "=x");
    assert_string_equal(rows[0].source, "=quoted");
    glci_agent_csv_free(&c);
    c = glci_agent_csv_new();
    glci_agent_csv_literal(c);
    glci_agent_csv_feed(c, text, strlen(text));
    glci_agent_csv_finish(c);
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_string_equal(rows[0].indicator, "'=x");
    assert_string_equal(rows[0].source, "'=quoted");
    glci_agent_csv_free(&c);
}

static void test_csv_every_malformed_row(void **state)
{
    s_bad_row("a,2020,abc\n", "value 'abc' is not a number");
    s_bad_row("a,2020,1.5.2\n", "is not a number");
    s_bad_row("a,2020,0x10\n", "is not a number");
    s_bad_row("a,2020,nan\n", "value 'nan' is not finite");
    s_bad_row("a,2020,NaN\n", "not finite");
    s_bad_row("a,2020,inf\n", "not finite");
    s_bad_row("a,2020,-Infinity\n", "not finite");
    s_bad_row("a,2020,1e999\n", "is too large for a number");
    /* a value missing where the row says something else: a source, a date */
    s_bad("indicator,period,value,source\na,2020,,office\n", 45, 2, "value is missing");
    s_bad("indicator,period,value,observed_at\na,2020,,2020-06-30\n", 54, 2,
          "value is missing");
    s_bad_row(",2020,1\n", "indicator is missing");
    s_bad_row("a,,1\n", "period is missing");
    s_bad_row("a,20.5,1\n", "period '20.5' is not an integer year");
    s_bad_row("a,99999999999,1\n", "not an integer year");
    s_bad_row("a b,2020,1\n", "blank or control character");
    s_bad_row("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,2020,1\n",
              "indicator is longer than 64 bytes");
    s_bad_row("a,2020\n", "2 fields, the header has 3");
    s_bad_row("a,2020,1,4\n", "4 fields, the header has 3");
    s_bad_row("\xff\xfe,2020,1\n", "indicator is not valid UTF-8");
    s_bad_row("\xc0\xaf,2020,1\n", "not valid UTF-8");   /* overlong */
    s_bad_row("\"a\"b,2020,1\n", "malformed quoting");
    s_bad_row("\"a,2020,1\n", "not closed at the end of the file");
    {
        char text[64];
        int n = snprintf(text, sizeof text, "%sa,2020,1\n", s_head);
        text[n - 5] = '\0';      /* "a,202\0,1": a NUL byte inside the period */
        s_bad(text, (size_t)n, 2, "period contains a NUL byte");
    }
}

static void test_csv_optional_columns_checked(void **state)
{
    const char *h = "indicator,period,value,observed_at,source\n";
    char text[1024], src[300];
    snprintf(text, sizeof text, "%sa,2020,1,2025-13-01,\n", h);
    s_bad(text, strlen(text), 2, "observed_at '2025-13-01' is not a date");
    snprintf(text, sizeof text, "%sa,2020,1,yesterday,\n", h);
    s_bad(text, strlen(text), 2, "is not a date");
    snprintf(text, sizeof text, "%sa,2020,1,2025-06-30T12:00:00+02:00,\n", h);
    s_bad(text, strlen(text), 2, "is not a date");
    memset(src, 's', 201);
    src[201] = '\0';
    snprintf(text, sizeof text, "%sa,2020,1,,%s\n", h, src);
    s_bad(text, strlen(text), 2, "source is 201 bytes, at most 200");
    src[200] = '\0';             /* exactly 200 is fine */
    snprintf(text, sizeof text, "%sa,2020,1,,%s\n", h, src);
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    glci_agent_csv_free(&c);

    /* A source the collector would refuse is refused here, with the file:
     * a line break inside a quoted field, a tab, text that is not UTF-8. */
    snprintf(text, sizeof text, "%sa,2020,1,,\"line1\r\nline2\"\n", h);
    s_bad(text, strlen(text), 3, "source contains a control character");
    snprintf(text, sizeof text, "%sa,2020,1,,\"tab\there\"\n", h);
    s_bad(text, strlen(text), 2, "source contains a control character");
    snprintf(text, sizeof text, "%sa,2020,1,,caf\xe9\n", h);
    s_bad(text, strlen(text), 2, "source is not valid UTF-8");
    snprintf(text, sizeof text, "%sa,2020,1,,\"Caf\xc3\xa9 \"\"Plaza\"\", 2025\"\n", h);
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    glci_agent_csv_free(&c);
}

static void test_csv_bad_headers(void **state)
{
    s_bad("indicator,period,value,colour\na,2020,1,red\n", 36, 1,
          "unknown column 'colour'");
    s_bad("indicator,period\na,2020\n", 24, 1, "required column 'value' is missing");
    s_bad("indicator,period,value,value\na,1,2,3\n", 37, 1, "column 'value' appears twice");
    s_bad("", 0, 1, "the file is empty");
    /* a header and no rows: no values, and no error */
    glci_agent_csv_t *h = glci_agent_csv_parse("indicator,period,value\n\n", 24);
    const glci_obs_t *none;
    assert_int_equal(glci_agent_csv_n_errors(h), 0);
    assert_int_equal(glci_agent_csv_rows(h, &none), 0);
    glci_agent_csv_free(&h);
    /* names are exact: every bad and every missing column is listed */
    glci_agent_csv_t *c = glci_agent_csv_parse("Indicator,period,value\nA,1,2\n", 29);
    assert_int_equal(glci_agent_csv_n_errors(c), 2);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "line 1: bad header: unknown column 'Indicator'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 1), "required column 'indicator' is missing"));
    glci_agent_csv_free(&c);
}

/* The informational columns of glci template's CSV are taken anywhere in
 * the header and their fields ignored, whatever they hold (they are never
 * sent); any other unknown column still fails the header. */
static void test_csv_template_columns_ignored(void **state)
{
    const glci_obs_t *rows;
    const char *text = "last_period,indicator,name,unit,period,min,value,max,source,"
                       "last_value\r\n"
                       "2024,adult_learning_rate,\"Adults, \"\"25-64\"\"\",%,2025,0,41.5,100,"
                       "office,40\r\n"
                       /* garbage in every informational field: a formula, a
                        * line break, a tab, bytes that are not UTF-8, a NUL */
                       "x,b,\"=HYPERLINK(\"\"http://e\"\")\r\n\tcaf\xe9\",\x01,2024,lots,"
                       "-3,\"\",,\"\0\"\r\n";
    size_t len = strlen(text) + 4;          /* the NUL and the three bytes after it */
    glci_agent_csv_t *c = glci_agent_csv_parse(text, len);
    if (glci_agent_csv_n_errors(c))
        fail_msg("%s", glci_agent_csv_error(c, 0));
    assert_int_equal(glci_agent_csv_rows(c, &rows), 2);
    assert_string_equal(rows[0].indicator, "adult_learning_rate");
    assert_int_equal(rows[0].period, 2025);
    assert_true(rows[0].value == 41.5);
    assert_string_equal(rows[0].source, "office");
    assert_string_equal(rows[1].indicator, "b");
    assert_int_equal(rows[1].period, 2024);
    assert_true(rows[1].value == -3);
    assert_null(rows[1].source);
    glci_agent_csv_free(&c);

    /* the header glci template writes, its values filled in */
    text = "indicator,period,value,source,name,unit,min,max,last_value,last_period\r\n"
           "a,2025,7,,Libraries,\"per 10,000\",0,1000,0.3333333333333333,2023\r\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_true(rows[0].value == 7);
    glci_agent_csv_free(&c);

    /* rows left unfilled (value, source and date empty): skipped and
     * counted, not errors; the filled ones are taken; a bad indicator or
     * period is still an error on an unfilled row */
    text = "indicator,period,value,source,name,unit,min,max,last_value,last_period\r\n"
           "a,2025,,,Libraries,n,0,1000,3,2023\r\n"
           "b,2025,4,,Books,n,0,1000,,\r\n"
           "c,2025,,,Halls,n,0,9,,\r\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_string_equal(rows[0].indicator, "b");
    assert_int_equal(glci_agent_csv_n_unfilled(c), 2);
    glci_agent_csv_free(&c);
    text = "indicator,period,value\na,2025,\nb,,\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "line 3: period is missing"));
    assert_int_equal(glci_agent_csv_n_unfilled(c), 1);
    glci_agent_csv_free(&c);

    /* blanks at the ends of an unquoted field are not part of it; inside
     * quotes they are (docs/AGENT.md) */
    text = "indicator,period,value\n\t a ,2025 , 4\t\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_string_equal(rows[0].indicator, "a");
    assert_int_equal(rows[0].period, 2025);
    assert_true(rows[0].value == 4);
    glci_agent_csv_free(&c);
    s_bad_row("\" a\",2025,4\n", "indicator ' a' contains a blank or control character");

    /* in the excel dialect too */
    text = "indicator;period;value;name;min\r\na;2025;1,5;\"Name; with a semicolon\";0,5\r\n";
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 0);
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_true(rows[0].value == 1.5);
    glci_agent_csv_free(&c);

    /* their rows still need as many fields as the header */
    s_bad("indicator,period,value,name\na,2020,1\n", 37, 2, "3 fields, the header has 4");
    /* names are exact; a misspelt one, or one given twice, is a bad header */
    s_bad("indicator,period,vlaue,value,name\na,2020,1,1,x\n", 45, 1,
          "unknown column 'vlaue' (expected indicator, period, value, observed_at, source, "
          "name, unit, min, max, last_value, last_period, reason, rejected_at; read as comma");
    s_bad("indicator,period,value,Name\na,2020,1,x\n", 38, 1, "unknown column 'Name'");
    s_bad("indicator,period,value,last-value\na,2020,1,x\n", 44, 1,
          "unknown column 'last-value'");
    s_bad("indicator,period,value,unit,unit\na,2020,1,%,%\n", 46, 1,
          "column 'unit' appears twice");
    /* and they do not stand in for a required column */
    s_bad("indicator,period,name\na,2020,x\n", 31, 1, "required column 'value' is missing");
}

static void test_csv_lists_every_bad_line(void **state)
{
    const char *text = "indicator,period,value\n"
                       "a,2020,1\n"
                       "b,2020,x\n"
                       "c,2020,2\n"
                       "d,y,3\n"
                       "e,2020\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 3);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "line 3: value 'x'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 1), "line 5: period 'y'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 2), "line 6: 2 fields"));
    assert_null(glci_agent_csv_error(c, 3));
    glci_agent_csv_free(&c);
}

/* Field text echoed in an error keeps the error on one line. */
static void test_csv_errors_escape_control_characters(void **state)
{
    const char *text = "indicator,period,value,observed_at\n"
                       "a,\"20\n24\",1,\n"
                       "b,2020,\"1\r\n2\",\n"
                       "c,2020,\"1\x01\t\",\n"
                       "d,2020,1,\"2025\n06\"\n"
                       "\"e\x7f\",2020,1,\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 5);
    for (size_t i = 0; i < 5; i++) {
        const char *e = glci_agent_csv_error(c, i);
        for (const char *p = e; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                fail_msg("control character 0x%02x in error %zu: %s", *p, i, e);
    }
    assert_string_equal(glci_agent_csv_error(c, 0),
                        "line 3: period '20\\n24' is not an integer year");
    assert_non_null(strstr(glci_agent_csv_error(c, 1), "line 5: value '1\\r\\n2' is not"));
    assert_non_null(strstr(glci_agent_csv_error(c, 2), "line 6: value '1\\x01\\t' is not"));
    assert_non_null(strstr(glci_agent_csv_error(c, 3), "line 8: observed_at '2025\\n06'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 4), "line 9: indicator 'e\\x7f' contains"));
    glci_agent_csv_free(&c);
    /* a header name too */
    const char *hdr = "indicator,period,value,\"col\nour\"\na,1,2,3\n";
    c = glci_agent_csv_parse(hdr, strlen(hdr));
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "unknown column 'col\\nour'"));
    glci_agent_csv_free(&c);
    /* long text is cut at 40 bytes, not inside a UTF-8 sequence */
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%sa,2020,%s\xc3\xa9x\n", s_head,
                     "000000000000000000000000000000000000000");
    c = glci_agent_csv_parse(buf, (size_t)n);
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0),
                           "'000000000000000000000000000000000000000' is not a number"));
    glci_agent_csv_free(&c);
}

/* Malformed quoting on one line does not hide the bad lines after it. */
/* A header is echoed before any field is checked: bytes that are not
 * UTF-8 are escaped too, so NAME.errors stays valid UTF-8 (found by
 * fuzz_csv). */
static void test_csv_errors_escape_invalid_utf8(void **state)
{
    const char *hdr = "indicato\xff\xffr,period,value,\"caf\xc3\xa9 \xe2\x82\"\nx,1,2,3\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(hdr, strlen(hdr));
    assert_int_equal(glci_agent_csv_n_errors(c), 3);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "unknown column 'indicato\\xff\\xffr'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 1),
                           "unknown column 'caf\xc3\xa9 \\xe2\\x82'"));
    for (size_t i = 0; i < 3; i++)
        assert_null(glci_utf8_problem(glci_agent_csv_error(c, i)));
    glci_agent_csv_free(&c);
}

/* A C1 control character (U+009C here) in an indicator is a control
 * character like any other (found by fuzz_csv). */
static void test_csv_indicator_c1_control(void **state)
{
    const char *text = "indicator,period,value\nadult_learni\xc2\x9cng_rate,2025,41.5\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_string_equal(glci_agent_csv_error(c, 0), "line 2: indicator 'adult_learni\\xc2\\x9cng_rate' "
                        "contains a blank or control character");
    glci_agent_csv_free(&c);
}

static void test_csv_malformed_quote_keeps_going(void **state)
{
    const char *text = "indicator,period,value\n"
                       "x,2020,1\"\n"
                       "x,2021,2\n"
                       "y,\"20\"21,3\n"
                       "z,bad,1\n"
                       "\"w\"\"\",2020,4\n"
                       "v,2020,\"5\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 4);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "line 2: malformed quoting"));
    assert_non_null(strstr(glci_agent_csv_error(c, 1), "line 4: malformed quoting"));
    assert_non_null(strstr(glci_agent_csv_error(c, 2), "line 5: period 'bad'"));
    assert_non_null(strstr(glci_agent_csv_error(c, 3), "line 7: malformed quoting: a quoted "
                                                       "field is not closed"));
    glci_agent_csv_free(&c);
    /* a header with malformed quoting: its data rows are not judged */
    const char *hdr = "indicator,\"period\"x,value\na,2020,1\nb,\"2\"0,1\n";
    c = glci_agent_csv_parse(hdr, strlen(hdr));
    assert_int_equal(glci_agent_csv_n_errors(c), 2);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "line 1: malformed quoting"));
    assert_non_null(strstr(glci_agent_csv_error(c, 1), "line 3: malformed quoting"));
    glci_agent_csv_free(&c);
}

/* A byte-order mark before a quoted header (as spreadsheets write it). */
static void test_csv_bom_before_quoted_header(void **state)
{
    const char *text = "\xef\xbb\xbf\"indicator\",\"period\",\"value\"\r\n\"a\",2020,1.5\r\n";
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    if (glci_agent_csv_n_errors(c))
        fail_msg("%s", glci_agent_csv_error(c, 0));
    const glci_obs_t *rows;
    assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
    assert_string_equal(rows[0].indicator, "a");
    assert_true(rows[0].value == 1.5);
    glci_agent_csv_free(&c);
    /* only one mark is skipped */
    c = glci_agent_csv_parse("\xef\xbb\xbf\xef\xbb\xbfindicator,period,value\na,1,2\n", 35);
    assert_true(glci_agent_csv_n_errors(c) >= 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "unknown column"));
    glci_agent_csv_free(&c);
}

/* ---- spool -------------------------------------------------------------- */

typedef struct {
    char spool[320], outbox[320];
    glci_agent_spool_t *sp;
    glci_outbox_t *ob;
} s_spool_t;

static void s_spool_init(s_spool_t *s, uint64_t limit)
{
    char err[512];
    snprintf(s->spool, sizeof s->spool, "%s/spool", s_dir);
    snprintf(s->outbox, sizeof s->outbox, "%s/outbox", s_dir);
    assert_int_equal(glci_agent_spool_open(s->spool, NULL, &s->sp, err, sizeof err), 0);
    glci_outbox_opts_t o = {.limit = limit};
    assert_int_equal(glci_outbox_open(s->outbox, &o, &s->ob, err, sizeof err), 0);
}

static uint64_t s_queued(s_spool_t *s)
{
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(s->ob, &st), 0);
    return st.observations;
}

/* Sets path's mtime `ago` seconds in the past. */
static void s_age(const char *path, int ago)
{
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= ago;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* A spool file written and settled (modified 10 s ago), as a rescan takes. */
static void s_spool_file(s_spool_t *s, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s->spool, name);
    s_write(path, text, strlen(text));
    s_age(path, 10);
}

/* An Excel-style file goes through the spool; done/NAME.log says how it
 * was read and what was queued. */
static void test_spool_excel_file_logged(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 0);
    s_spool_file(&s, "x.csv", "indicator;period;value\r\nx;2020;1,5\r\ny;2021;2\r\n");
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 10, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_done, 1);
    assert_int_equal(s_queued(&s), 2);
    char path[512];
    snprintf(path, sizeof path, "%s/done/x.csv.log", s.spool);
    char *log = s_read(path);
    assert_non_null(log);
    assert_non_null(strstr(log, "x.csv: taken "));
    assert_non_null(strstr(log, "read as excel (';' between fields, ',' decimal mark), chosen "
                                "by its header"));
    assert_non_null(strstr(log, "2 rows queued as batch 1"));
    free(log);

    /* forced by the setting: the same file is failed, with the reason */
    s_spool_file(&s, "y.csv", "indicator;period;value\nx;2020;1,5\n");
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 10, GLCI_AGENT_CSV_COMMA, &st), 0);
    assert_int_equal(st.files_failed, 1);
    snprintf(path, sizeof path, "%s/failed/y.csv.errors", s.spool);
    char *errs = s_read(path);
    assert_non_null(errs);
    assert_non_null(strstr(errs, "the csv_dialect setting"));
    free(errs);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

static void test_spool_good_file_to_done(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 0);
    s_spool_file(&s, "a.csv", "indicator,period,value\nx,2020,1\ny,2021,2\nz,2022,3\n");
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 2, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_done, 1);
    assert_int_equal(st.rows_queued, 3);
    assert_int_equal(s_queued(&s), 3);
    uint64_t next;
    assert_int_equal(glci_outbox_next_seq(s.ob, &next), 0);
    assert_true(next == 3);                 /* 3 rows, batch_max 2: two batches */
    char path[512];
    snprintf(path, sizeof path, "%s/done/a.csv", s.spool);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/a.csv", s.spool);
    assert_false(s_exists(path));

    /* the same name again lands beside the first in done/ */
    s_spool_file(&s, "a.csv", "indicator,period,value\nx,2020,5\n");
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 2, GLCI_AGENT_CSV_AUTO, &st), 0);
    snprintf(path, sizeof path, "%s/done/a.csv.1", s.spool);
    assert_true(s_exists(path));
    assert_int_equal(s_queued(&s), 4);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

static void test_spool_bad_file_to_failed_with_errors(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 0);
    s_spool_file(&s, "b.csv", "indicator,period,value\nx,2020,1\nx,2021,NaN\nx,20x,2\n");
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_failed, 1);
    assert_int_equal(s_queued(&s), 0);      /* nothing from it */
    char path[512];
    snprintf(path, sizeof path, "%s/failed/b.csv", s.spool);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/failed/b.csv.errors", s.spool);
    char *errs = s_read(path);
    assert_non_null(errs);
    assert_string_equal(errs, "line 3: value 'NaN' is not finite\n"
                              "line 4: period '20x' is not an integer year\n");
    free(errs);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

static void test_spool_half_written_not_taken(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 0);
    /* a copy in progress under a dot-name or a .tmp name is left alone */
    s_spool_file(&s, ".c.csv", "indicator,period,value\nx,2020,1\n");
    s_spool_file(&s, "c.csv.tmp", "indicator,period,value\nx,2020,1\n");
    s_spool_file(&s, "c.txt", "indicator,period,value\nx,2020,1\n");
    assert_false(glci_agent_spool_name_ok(".c.csv"));
    assert_false(glci_agent_spool_name_ok("c.csv.tmp"));
    assert_false(glci_agent_spool_name_ok(".csv"));
    assert_true(glci_agent_spool_name_ok("c.csv"));
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_done + st.files_failed, 0);
    assert_int_equal(s_queued(&s), 0);
    char path[512], to[512];
    snprintf(path, sizeof path, "%s/.c.csv", s.spool);
    assert_true(s_exists(path));

    /* renamed when complete: taken */
    snprintf(to, sizeof to, "%s/c.csv", s.spool);
    assert_int_equal(rename(path, to), 0);
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_done, 1);
    assert_int_equal(s_queued(&s), 1);

    /* written in place and cut mid-row: the whole file fails, nothing queued */
    s_spool_file(&s, "d.csv", "indicator,period,value\nx,2020,1\nx,20");
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_failed, 1);
    assert_int_equal(s_queued(&s), 1);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

/* A file written in place and still open for writing is not taken, even
 * when its mtime is old; a fresh file is not taken by a rescan; once the
 * writer closes it, its close event takes it whole. */
static void test_spool_open_writer_not_taken(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 0);
    char path[512], moved[512];
    snprintf(path, sizeof path, "%s/w.csv", s.spool);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    const char *part = "indicator,period,value\nx,2020,1\ny,20";
    assert_int_equal(write(fd, part, strlen(part)), (ssize_t)strlen(part));
    s_age(path, 10);                 /* the mtime rule alone would take it */
    glci_agent_spool_stats_t st = {0};
    char err[512];
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(glci_agent_spool_take(s.sp, s.ob, "w.csv", 100, GLCI_AGENT_CSV_AUTO,
                                           &st, err, sizeof err),
                     0);
    assert_int_equal(st.files_done + st.files_failed + st.files_waiting, 0);
    assert_int_equal(st.files_busy, 2);
    assert_int_equal(s_queued(&s), 0);
    assert_true(s_exists(path));

    /* the writer finishes and closes: fresh, so a rescan still waits */
    const char *rest = "21,2\nz,2022,3\n";
    assert_int_equal(write(fd, rest, strlen(rest)), (ssize_t)strlen(rest));
    assert_int_equal(close(fd), 0);
    memset(&st, 0, sizeof st);
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_busy, 1);
    assert_int_equal(s_queued(&s), 0);
    /* its IN_CLOSE_WRITE event takes it, whole */
    assert_int_equal(glci_agent_spool_take(s.sp, s.ob, "w.csv", 100, GLCI_AGENT_CSV_AUTO,
                                           &st, err, sizeof err),
                     0);
    assert_int_equal(st.files_done, 1);
    assert_int_equal(st.rows_queued, 3);
    assert_int_equal(s_queued(&s), 3);
    snprintf(moved, sizeof moved, "%s/done/w.csv", s.spool);
    assert_true(s_exists(moved));
    assert_false(s_exists(path));

    /* a settled file nobody has open: the rescan takes it */
    s_spool_file(&s, "v.csv", "indicator,period,value\nv,2020,1\n");
    memset(&st, 0, sizeof st);
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_done, 1);
    assert_int_equal(s_queued(&s), 4);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

/* A stop between queueing a file's rows and its move to done/ (the rows
 * and the file's identity committed, the file still in the spool): the
 * next take only moves it. A file that did reach done/ and is dropped
 * back (what the ALARM after a collector's loss asks) is delivered again. */
static void test_spool_file_taken_once_across_crash(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 0);
    s_spool_file(&s, "e.csv", "indicator,period,value\nx,2020,1\nx,2021,2\n");
    char from[512], to[512], err[512], marker[GLCI_AGENT_SPOOL_IDENTITY_MAX];
    snprintf(from, sizeof from, "%s/done/e.csv", s.spool);
    snprintf(to, sizeof to, "%s/e.csv", s.spool);
    /* the commit of the stopped take: its rows under the file's identity */
    struct stat sb;
    assert_int_equal(stat(to, &sb), 0);
    glci_agent_spool_identity("e.csv", &sb, marker, sizeof marker);
    glci_obs_t rows[2] = {
        {.has_period = 1, .has_value = 1, .indicator = "x", .period = 2020, .value = 1},
        {.has_period = 1, .has_value = 1, .indicator = "x", .period = 2021, .value = 2},
    };
    assert_int_equal(glci_outbox_append_from(s.ob, rows, 2, 100, 1, marker, from, NULL, NULL),
                     0);
    assert_int_equal(s_queued(&s), 2);
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_take(s.sp, s.ob, "e.csv", 100, GLCI_AGENT_CSV_AUTO,
                                           &st, err, sizeof err), 0);
    assert_int_equal(s_queued(&s), 2);      /* not queued twice */
    assert_true(s_exists(from));
    assert_false(s_exists(to));
    assert_int_equal(st.files_done, 1);
    assert_int_equal(st.rows_queued, 0);

    /* delivered (in done/), then moved back under its name: a new delivery */
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(glci_agent_spool_take(s.sp, s.ob, "e.csv", 100, GLCI_AGENT_CSV_AUTO,
                                           &st, err, sizeof err), 0);
    assert_int_equal(s_queued(&s), 4);
    assert_int_equal(st.rows_queued, 2);
    assert_true(s_exists(from));
    /* and again: each drop is one delivery */
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 100, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(s_queued(&s), 6);
    assert_int_equal(st.files_done, 3);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

/* A file that fits the limit but not what is left waits in the spool. */
static void test_spool_outbox_limit_keeps_file_waiting(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 65536);
    glci_obs_t obs[100];
    char names[100][32];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "indicator_number_%d", i);
        obs[i] = (glci_obs_t){.has_period = 1, .has_value = 1, .indicator = names[i], .period = 2020, .value = i};
    }
    int rc, k = 0;
    while ((rc = glci_outbox_append(s.ob, obs, 100, 100, 1, NULL, NULL, NULL)) == 0)
        assert_true(++k < 1000);
    assert_int_equal(rc, GLCI_OUTBOX_EFULL);
    while ((rc = glci_outbox_append(s.ob, obs, 1, 1, 1, NULL, NULL, NULL)) == 0)
        assert_true(++k < 10000);            /* fill it to the last byte */
    assert_int_equal(rc, GLCI_OUTBOX_EFULL);
    uint64_t before = s_queued(&s);
    assert_true(before > 0);
    s_spool_file(&s, "small.csv", "indicator,period,value\nx,2020,1\ny,2020,2\n");
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 1000, GLCI_AGENT_CSV_AUTO, &st), GLCI_AGENT_EFULL);
    assert_int_equal(st.files_waiting, 1);
    assert_int_equal(st.files_failed, 0);
    assert_int_equal(s_queued(&s), before);
    char path[512];
    snprintf(path, sizeof path, "%s/small.csv", s.spool);
    assert_true(s_exists(path));            /* it waits; nothing is dropped */
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

/* A file that can never fit (larger than the outbox limit, or than the
 * spool's file size cap) goes to failed/ with the reason, unread. */
static void test_spool_too_large_file_failed(void **state)
{
    s_spool_t s;
    s_spool_init(&s, 65536);
    char *big = malloc(200000);
    size_t n = (size_t)snprintf(big, 200000, "indicator,period,value\n");
    for (int i = 0; i < 4000; i++)
        n += (size_t)snprintf(big + n, 200000 - n, "indicator_number_%d,2020,%d\n", i, i);
    s_spool_file(&s, "big.csv", big);
    free(big);
    glci_agent_spool_stats_t st = {0};
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 1000, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_failed, 1);
    assert_int_equal(st.files_waiting, 0);
    assert_int_equal(s_queued(&s), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/big.csv", s.spool);
    assert_false(s_exists(path));
    snprintf(path, sizeof path, "%s/failed/big.csv", s.spool);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/failed/big.csv.errors", s.spool);
    char *errs = s_read(path);
    assert_non_null(errs);
    if (!strstr(errs, "larger than the outbox size limit (65536 bytes)") ||
        strchr(errs, '\n') != errs + strlen(errs) - 1)
        fail_msg("errors: %s", errs);
    free(errs);

    /* a sparse 300 MiB file under a 1 GiB limit: over the spool's cap */
    glci_outbox_close(&s.ob);
    glci_outbox_opts_t o = {.limit = 1ULL << 30};
    char err[512];
    assert_int_equal(glci_outbox_open(s.outbox, &o, &s.ob, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/huge.csv", s.spool);
    s_write(path, "indicator,period,value\n", 23);
    assert_int_equal(truncate(path, 300LL * 1024 * 1024), 0);
    s_age(path, 10);
    memset(&st, 0, sizeof st);
    assert_int_equal(glci_agent_spool_scan(s.sp, s.ob, 1000, GLCI_AGENT_CSV_AUTO, &st), 0);
    assert_int_equal(st.files_failed, 1);
    snprintf(path, sizeof path, "%s/failed/huge.csv.errors", s.spool);
    errs = s_read(path);
    assert_non_null(errs);
    if (!strstr(errs, "larger than the largest spool file taken (268435456 bytes)"))
        fail_msg("errors: %s", errs);
    free(errs);
    glci_outbox_close(&s.ob);
    glci_agent_spool_close(&s.sp);
}

/* ---- config -------------------------------------------------------------- */

static void test_config_file_and_flags(void **state)
{
    char path[320], err[1024];
    snprintf(path, sizeof path, "%s/agent.conf", s_dir);
    const char *conf = "; comment\n[agent]\ncity = cork-ie\ncollector = tcp://127.0.0.1:7461\n"
                       "outbox = /o\nspool = /s\nbatch_max = 500\nwindow = 4\n"
                       "outbox_limit = 64M\nlog_level = debug\nrescan_interval = 5\n"
                       "heartbeat_ivl = 1000\ninsecure = true\nretain = 36h\n"
                       "retain_bytes = 0\n";
    s_write(path, conf, strlen(conf));
    char *argv[] = {"run", "--config", path, "--batch-max", "7", "--window=2", "--insecure", NULL};
    char *rest[8];
    int n_rest = 0;
    glci_agent_config_t c;
    assert_int_equal(glci_agent_config_from_args(&c, 7, argv, rest, &n_rest, err, sizeof err), 0);
    assert_int_equal(n_rest, 1);
    assert_string_equal(rest[0], "run");
    assert_string_equal(c.city, "cork-ie");
    assert_int_equal(c.batch_max, 7);       /* flags override the file */
    assert_int_equal(c.window, 2);
    assert_true(c.outbox_limit == 64ull << 20);
    assert_int_equal(c.log_level, GLCI_LOG_DEBUG);
    assert_int_equal(c.rescan_interval, 5);
    assert_int_equal(c.heartbeat_ivl, 1000);
    assert_int_equal(c.insecure, 1);
    assert_true(c.retain == 36 * 3600);
    assert_true(c.retain_bytes == 0);
    assert_int_equal(glci_agent_config_check_run(&c, err, sizeof err), 0);

    /* the defaults: 30 days, 256 MiB; durations in each unit */
    glci_agent_config_defaults(&c);
    assert_true(c.retain == 30 * 86400 && c.retain_bytes == 256ull << 20);
    const struct {
        const char *text;
        int64_t seconds;
    } d[] = {{"90", 90}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"30d", 2592000},
             {"2w", 1209600}, {"0", 0}, {"3650d", 3650 * 86400LL}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        assert_int_equal(glci_agent_config_set(&c, "retain", d[i].text, "t", err, sizeof err),
                         0);
        assert_true(c.retain == d[i].seconds);
    }
}

static void s_conf_error(const char *text, const char *want)
{
    char path[320], err[1024] = "";
    snprintf(path, sizeof path, "%s/bad.conf", s_dir);
    s_write(path, text, strlen(text));
    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    assert_int_equal(glci_agent_config_load(&c, path, err, sizeof err), GLCI_AGENT_EUSAGE);
    char full[400];
    snprintf(full, sizeof full, "%s:%s", path, want);
    if (!strstr(err, full))
        fail_msg("error '%s', wanted '%s'", err, full);
}

static void test_config_errors_name_file_and_line(void **state)
{
    s_conf_error("[agent]\ncity = x\nbogus = 1\n", "3: unknown key 'bogus'");
    s_conf_error("[agent]\nbatch_max = 0\n", "2: batch_max must be an integer in [1, 10000]");
    s_conf_error("[agent]\nwindow = lots\n", "2: window must be an integer");
    s_conf_error("[agent]\nCity = x\n", "2: unknown key 'City'");
    s_conf_error("[agent]\ncity = Cork\n", "2: city must be");
    s_conf_error("[agent]\ncollector = http://x\n", "2: collector must be tcp://HOST:PORT");
    s_conf_error("[agent]\ncollector = tcp://127.0.0.1:70000\n", "2: collector must be "
                 "tcp://HOST:PORT with PORT a number 1..65535");
    s_conf_error("[agent]\noutbox_limit = 12Q\n", "2: outbox_limit must be bytes");
    s_conf_error("[agent]\noutbox_limit = 100\n", "2: outbox_limit must be between");
    s_conf_error("[agent]\nretain = 30 days\n", "2: retain must be a duration in seconds, "
                 "or with a unit s, m, h, d or w (e.g. 30d), not '30 days'");
    s_conf_error("[agent]\nretain = -1d\n", "2: retain must be a duration");
    s_conf_error("[agent]\nretain = 1y\n", "2: retain must be a duration");
    s_conf_error("[agent]\nretain = d\n", "2: retain must be a duration");
    s_conf_error("[agent]\nretain = 3651d\n", "2: retain must be between 0 and 315360000 "
                 "seconds, not '3651d'");
    s_conf_error("[agent]\nretain = 99999999999999999999w\n", "2: retain must be a duration");
    s_conf_error("[agent]\nretain_bytes = lots\n", "2: retain_bytes must be bytes");
    s_conf_error("[agent]\nretain_bytes = 2048G\n", "2: retain_bytes must be between");
    s_conf_error("[agent]\nlog_level = chatty\n", "2: log_level must be");
    s_conf_error("[agent]\ninsecure = maybe\n", "2: insecure must be true or false");
    s_conf_error("[agent]\nheartbeat_ivl = 5\n", "2: heartbeat_ivl must be");
    s_conf_error("[agent]\nrescan_interval = -1\n", "2: rescan_interval must be");
    s_conf_error("[agent]\nspool =\n", "2: spool is empty");
    s_conf_error("[agent]\ncsv_dialect = semicolon\n", "2: csv_dialect must be auto, comma or "
                 "excel");
    s_conf_error("city = x\n", "1: 'city' outside the [agent] section");
    s_conf_error("[agent]\ncity = x\n[collector]\nstore = y\n", "3: unknown section [collector]");
    s_conf_error("[agent]\nthis line is not ini\n", "2: not a valid INI line");

    char err[512];
    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    assert_int_equal(glci_agent_config_load(&c, "/nonexistent/agent.conf", err, sizeof err),
                     GLCI_AGENT_EIO);
    assert_non_null(strstr(err, "/nonexistent/agent.conf"));
}

static void test_config_flag_errors(void **state)
{
    char err[512], *rest[8];
    int n;
    glci_agent_config_t c;
    char *a1[] = {"run", "--window", NULL};
    assert_int_equal(glci_agent_config_from_args(&c, 2, a1, rest, &n, err, sizeof err),
                     GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "--window needs a value"));
    char *a2[] = {"run", "--batch-max=abc", NULL};
    assert_int_equal(glci_agent_config_from_args(&c, 2, a2, rest, &n, err, sizeof err),
                     GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "--batch-max: batch_max must be an integer"));
    /* unknown flags are left for the command to judge */
    char *a3[] = {"status", "--format", "json", NULL};
    assert_int_equal(glci_agent_config_from_args(&c, 3, a3, rest, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
}

static void test_config_run_requirements(void **state)
{
    char err[512];
    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    assert_int_equal(glci_agent_config_check_run(&c, err, sizeof err), GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "city is not set"));
    glci_agent_config_set(&c, "city", "x", "t", err, sizeof err);
    glci_agent_config_set(&c, "collector", "tcp://10.0.0.1:7461", "t", err, sizeof err);
    glci_agent_config_set(&c, "outbox", "/o", "t", err, sizeof err);
    glci_agent_config_set(&c, "spool", "/s", "t", err, sizeof err);
    assert_int_equal(glci_agent_config_check_run(&c, err, sizeof err), GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "collector_key is not set"));
    c.insecure = 1;
    assert_int_equal(glci_agent_config_check_run(&c, err, sizeof err), GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "10.0.0.1"));
    assert_true(glci_agent_endpoint_is_local("tcp://127.0.0.1:1"));
    assert_true(glci_agent_endpoint_is_local("tcp://localhost:1"));
    assert_true(glci_agent_endpoint_is_local("tcp://[::1]:1"));
    assert_true(glci_agent_endpoint_is_local("ipc:///tmp/x"));
    assert_false(glci_agent_endpoint_is_local("tcp://128.0.0.1:1"));
    assert_false(glci_agent_endpoint_is_local("tcp://localhost.evil.org:1"));
}

/* --insecure takes only endpoints that stay on this machine, by the same
 * strict parser as the collector's listener. */
static void test_config_insecure_endpoints(void **state)
{
    static const char *const yes[] = {
        "tcp://127.0.0.1:7461", "tcp://127.1.2.3:1", "tcp://localhost:7461",
        "tcp://[::1]:7461", "tcp://127.255.255.255:65535", "ipc:///tmp/glci.sock",
        "ipc://@abstract"};
    static const char *const no[] = {
        "tcp://127.attacker.example:7461", "tcp://127.0.0.1.evil.example:7461",
        "tcp://127.0.0:7461", "tcp://127.0.0.256:7461", "tcp://127.0.0.1",
        "tcp://127.0.0.1:", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536",
        "tcp://127.0.0.1:7461x", "tcp://127.0.0.1:1;10.0.0.1:7461",
        "tcp://localhost:1;10.0.0.1:7461", "tcp://[::1]:1;10.0.0.1:7461",
        "tcp://localhost.evil.org:1", "tcp://localhostx:1", "tcp://[::]:1",
        "tcp://[::2]:1", "tcp://[2001:db8::1]:7461", "tcp://[fe80::1]:1", "tcp://::1:1",
        "tcp://eth0;127.0.0.1:1", "tcp://10.0.0.1:7461", "tcp://0.0.0.0:7461",
        "ipc://", "inproc://x", "udp://127.0.0.1:1", ""};
    char err[512];
    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    glci_agent_config_set(&c, "city", "x", "t", err, sizeof err);
    glci_agent_config_set(&c, "outbox", "/o", "t", err, sizeof err);
    glci_agent_config_set(&c, "spool", "/s", "t", err, sizeof err);
    c.insecure = 1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        snprintf(c.collector, sizeof c.collector, "%s", yes[i]);
        if (glci_agent_config_check_run(&c, err, sizeof err) != 0)
            fail_msg("%s refused: %s", yes[i], err);
    }
    for (size_t i = 0; i + 1 < sizeof no / sizeof no[0]; i++) {
        snprintf(c.collector, sizeof c.collector, "%s", no[i]);
        if (glci_agent_config_check_run(&c, err, sizeof err) != GLCI_AGENT_EUSAGE)
            fail_msg("%s accepted", no[i]);
        if (!strstr(err, no[i]) || !strstr(err, "insecure"))
            fail_msg("%s: unclear error: %s", no[i], err);
    }
    assert_false(glci_agent_endpoint_is_local(""));
    /* the refusal quotes the file's bytes as one printable line (found by
     * fuzz_config) */
    snprintf(c.collector, sizeof c.collector, "tcp://caf\xe9.example:1\r\n");
    assert_int_equal(glci_agent_config_check_run(&c, err, sizeof err), GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "'tcp://caf\\xE9.example:1\\x0D\\x0A'"));
    assert_null(glci_utf8_problem(err));
}

/* ---- run ----------------------------------------------------------------- */

/* When the daemon's poll loop fails, `run` stops with exit status 1 (a
 * supervisor restarts it), not 0. Run in a child: run blocks signals. */
static void test_run_poll_failure_exits_1(void **state)
{
    glci_agent_config_t c;
    char err[512];
    glci_agent_config_defaults(&c);
    glci_agent_config_set(&c, "city", "x", "t", err, sizeof err);
    snprintf(c.collector, sizeof c.collector, "ipc://%.200s/n.sock", s_dir);
    snprintf(c.outbox, sizeof c.outbox, "%s/outbox", s_dir);
    snprintf(c.spool, sizeof c.spool, "%s/spool", s_dir);
    c.insecure = 1;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        s_poll_fail = 1;
        char *argv[] = {NULL};
        _exit(glci_agent_cmd_run(&c, 0, argv));
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 1);
}

/* ---- keys ---------------------------------------------------------------- */

static void test_key_file_readable_by_others_refused(void **state)
{
    char err[512], path[320], outbox[320];
    glci_key_t pub, sec, spub, ssec;
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&spub, &ssec, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/city.key", s_dir);
    assert_int_equal(glci_keyfile_write_secret(path, &pub, &sec, err, sizeof err), 0);
    snprintf(outbox, sizeof outbox, "%s/outbox", s_dir);
    glci_outbox_t *ob = NULL;
    assert_int_equal(glci_outbox_open(outbox, NULL, &ob, err, sizeof err), 0);

    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    snprintf(c.city, sizeof c.city, "x");
    snprintf(c.collector, sizeof c.collector, "tcp://127.0.0.1:1");
    snprintf(c.collector_key, sizeof c.collector_key, "%s", spub.z85);
    snprintf(c.key_file, sizeof c.key_file, "%s", path);
    void *ctx = zmq_ctx_new();
    glci_agent_sender_t *s = NULL;
    /* 0600: accepted */
    assert_int_equal(glci_agent_sender_open(&c, ob, ctx, "/dev/null", &s, err, sizeof err), 0);
    glci_agent_sender_close(&s);
    assert_null(s);
    /* group- or world-readable: refused, naming the file */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(chmod(path, k ? 0604 : 0640), 0);
        assert_int_equal(glci_agent_sender_open(&c, ob, ctx, "/dev/null", &s, err, sizeof err),
                         GLCI_AGENT_EKEY);
        assert_null(s);
        assert_non_null(strstr(err, path));
    }
    /* a bad collector key is refused too */
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(c.collector_key, sizeof c.collector_key, "not-a-key");
    assert_int_equal(glci_agent_sender_open(&c, ob, ctx, "/dev/null", &s, err, sizeof err),
                     GLCI_AGENT_EKEY);
    zmq_ctx_term(ctx);
    glci_outbox_close(&ob);
}

/* ---- dead letters ------------------------------------------------------- */

static void test_deadletter_file(void **state)
{
    char path[512], err[512];
    glci_agent_deadletter_path("/var/lib/glci-agent/spool", path, sizeof path);
    assert_string_equal(path, "/var/lib/glci-agent/rejected.csv");
    glci_agent_deadletter_path("/var/lib/glci-agent/spool/", path, sizeof path);
    assert_string_equal(path, "/var/lib/glci-agent/rejected.csv");
    glci_agent_deadletter_path("spool", path, sizeof path);
    assert_string_equal(path, "rejected.csv");

    snprintf(path, sizeof path, "%s/rejected.csv", s_dir);
    glci_obs_t o[2] = {
        {.has_period = 1, .has_value = 1, .indicator = "bogus", .period = 2020, .value = 1.5, .source = "a \"b\""},
        {.has_period = 1, .has_value = 1, .indicator = "x", .period = 1800, .value = 2, .observed_at = 1751241600},
    };
    const char *why[2] = {"unknown indicator 'bogus'", "period 1800 outside"};
    assert_int_equal(glci_agent_deadletter_append(path, o, why, 2, 1751284800, err, sizeof err), 0);
    assert_int_equal(glci_agent_deadletter_append(path, o, why, 1, 1751284800, err, sizeof err), 0);
    char *text = s_read(path);
    assert_non_null(text);
    /* RFC 4180 with CRLF, as every CSV the programs write (docs/CLI.md) */
    assert_string_equal(text,
        "indicator,period,value,observed_at,source,reason,rejected_at\r\n"
        "\"bogus\",2020,1.5,,\"a \"\"b\"\"\",\"unknown indicator 'bogus'\",2025-06-30T12:00:00Z\r\n"
        "\"x\",1800,2,2025-06-30T00:00:00Z,\"\",\"period 1800 outside\",2025-06-30T12:00:00Z\r\n"
        "\"bogus\",2020,1.5,,\"a \"\"b\"\"\",\"unknown indicator 'bogus'\",2025-06-30T12:00:00Z\r\n");

    /* read back as a spool file, as it is: reason and rejected_at are
     * ignored, every other field comes back as it went out */
    const glci_obs_t *rows;
    glci_agent_csv_t *c = glci_agent_csv_parse(text, strlen(text));
    if (glci_agent_csv_n_errors(c))
        fail_msg("%s", glci_agent_csv_error(c, 0));
    assert_int_equal(glci_agent_csv_rows(c, &rows), 3);
    assert_string_equal(rows[0].indicator, "bogus");
    assert_int_equal(rows[0].period, 2020);
    assert_true(rows[0].value == 1.5);
    assert_string_equal(rows[0].source, "a \"b\"");
    assert_int_equal(rows[0].observed_at, 0);
    assert_string_equal(rows[1].indicator, "x");
    assert_int_equal(rows[1].observed_at, 1751241600);
    assert_null(rows[1].source);
    glci_agent_csv_free(&c);
    free(text);

    /* a rejected retraction stays refused when dropped back */
    glci_obs_t r = {.has_period = 1, .retract = 1, .indicator = "x", .period = 2024};
    const char *none = "nothing to retract";
    snprintf(path, sizeof path, "%s/retract.csv", s_dir);
    assert_int_equal(glci_agent_deadletter_append(path, &r, &none, 1, 1751284800, err,
                                                  sizeof err), 0);
    text = s_read(path);
    assert_non_null(text);
    c = glci_agent_csv_parse(text, strlen(text));
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_string_equal(glci_agent_csv_error(c, 0), "line 2: value 'retract' is not a number "
                        "(a retraction goes in with glci-agent retract x 2024, never from a "
                        "file)");
    assert_int_equal(glci_agent_csv_rows(c, &rows), 0);
    glci_agent_csv_free(&c);
    free(text);

    /* a file of the first release (LF rows) is appended to with CRLF rows,
     * and the spool's reader takes the mixed file as it takes either */
    char old[600];
    snprintf(old, sizeof old, "%s/rejected-lf.csv", s_dir);
    FILE *f = fopen(old, "w");
    assert_non_null(f);
    fputs("indicator,period,value,observed_at,source,reason,rejected_at\n"
          "\"y\",2021,3,,\"\",\"unknown indicator 'y'\",2025-06-30T12:00:00Z\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(glci_agent_deadletter_append(old, o, why, 1, 1751284800, err, sizeof err), 0);
    text = s_read(old);
    assert_non_null(text);
    assert_non_null(strstr(text, "12:00:00Z\n\"bogus\",2020,1.5,"));
    assert_non_null(strstr(text, "'bogus'\",2025-06-30T12:00:00Z\r\n"));
    free(text);
    /* rows taken back into the spool keep whichever line end they had */
    static const char mixed[] = "indicator,period,value,source\n\"y\",2021,3,\"\"\n"
                                "\"bogus\",2020,1.5,\"a \"\"b\"\"\"\r\n";
    c = glci_agent_csv_parse(mixed, sizeof mixed - 1);
    if (glci_agent_csv_n_errors(c))
        fail_msg("%s", glci_agent_csv_error(c, 0));
    assert_int_equal(glci_agent_csv_rows(c, &rows), 2);
    assert_string_equal(rows[0].indicator, "y");
    assert_string_equal(rows[1].indicator, "bogus");
    glci_agent_csv_free(&c);
    assert_int_equal(glci_agent_deadletter_append("/nonexistent/r.csv", o, why, 1, 0, err,
                                                  sizeof err), GLCI_AGENT_EIO);
    assert_non_null(strstr(err, "/nonexistent/r.csv"));
}

int main(void)
{
    glci_log_init("test_agent", GLCI_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_good_any_order_and_optional),
        cmocka_unit_test(test_csv_formula_quote),
        cmocka_unit_test(test_csv_excel_dialect),
        cmocka_unit_test(test_csv_every_malformed_row),
        cmocka_unit_test(test_csv_optional_columns_checked),
        cmocka_unit_test(test_csv_bad_headers),
        cmocka_unit_test(test_csv_template_columns_ignored),
        cmocka_unit_test(test_csv_lists_every_bad_line),
        cmocka_unit_test(test_csv_errors_escape_control_characters),
        cmocka_unit_test(test_csv_errors_escape_invalid_utf8),
        cmocka_unit_test(test_csv_indicator_c1_control),
        cmocka_unit_test(test_csv_malformed_quote_keeps_going),
        cmocka_unit_test(test_csv_bom_before_quoted_header),
        cmocka_unit_test_setup_teardown(test_spool_good_file_to_done, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_excel_file_logged, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_bad_file_to_failed_with_errors, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_half_written_not_taken, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_open_writer_not_taken, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_file_taken_once_across_crash, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_outbox_limit_keeps_file_waiting, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_too_large_file_failed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config_file_and_flags, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config_errors_name_file_and_line, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_config_flag_errors),
        cmocka_unit_test(test_config_run_requirements),
        cmocka_unit_test(test_config_insecure_endpoints),
        cmocka_unit_test_setup_teardown(test_run_poll_failure_exits_1, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_key_file_readable_by_others_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_deadletter_file, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
