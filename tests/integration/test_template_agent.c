/* The data-entry template goes through today's agent as it is: a real
 * collector and glci-agent over CURVE on loopback. The CSV from `glci
 * template --format csv`, with its informational columns (name, unit,
 * min, max, last_value, last_period) and its empty values filled in and
 * nothing else touched, dropped into the spool, is taken whole (done/, not
 * failed/) and every value reaches the store for the round (`glci show`,
 * `glci history`); the same through `glci-agent push --csv`; a template
 * pushed untouched, or with one value typed and the other rows left as
 * they are, goes in too, its unfilled rows skipped and counted; a template
 * for a round the city has complete goes through untouched; garbage in an
 * informational column is ignored, a misspelt column still refuses the
 * file (failed/NAME.errors, push --csv exit 1); the xlsx template's entry
 * sheet saved as CSV the way a spreadsheet saves it (by
 * report_check.py xlsx-to-csv, with /usr/bin/python3 and openpyxl) goes
 * through too, also as a spreadsheet in a decimal-comma locale saves it
 * (';' between fields, decimal commas), which done/NAME.log says it
 * assumed; the rows of a file the collector rejects are listed beside it
 * in done/NAME.rejects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "glci_checker.h"
#include "glci_index.h"
#include "glci_text.h"

#define S_PYTHON "/usr/bin/python3"

static glci_framework_t *s_framework(void)
{
    glci_framework_t *fw = NULL;
    char err[512];
    assert_int_equal(glci_framework_load_file(glci_ts_framework(), &fw, err, sizeof err), 0);
    return fw;
}

/* The template file (made by glci template) as text. */
static char *s_template(glci_sys_t *s, const char *format, const char *period, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    const char *args[] = {"--format", format, "template", "--city", s->agents[0].city,
                          "--period", period, "--out", path, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci template failed (%d): %s", rc, err ? err : "");
    free(out);
    free(err);
    char *text = glci_ts_read_file(path);
    assert_non_null(text);
    return text;
}

/* Fills every empty value of a template CSV with the middle of the
 * indicator's valid range, touching nothing else; the values go to
 * want[i] in framework order. Returns the new text (malloc'd). */
static char *s_fill(const glci_framework_t *fw, const char *csv, double *want)
{
    size_t cap = strlen(csv) + 64 * fw->n_ind + 1, at = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    const char *line = csv;
    const char *eol = strstr(line, "\r\n");
    assert_non_null(eol);
    at += (size_t)snprintf(out, cap, "%.*s", (int)(eol + 2 - line), line);   /* the header */
    line = eol + 2;
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        eol = strstr(line, "\r\n");
        assert_non_null(eol);
        /* indicator,period,value,source,name,...: only value is touched */
        const char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        const char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        assert_non_null(c3);
        assert_true((size_t)(c1 - line) == strlen(fw->ind[i].id));
        assert_memory_equal(line, fw->ind[i].id, strlen(fw->ind[i].id));
        char value[64];
        if (c3 == c2 + 1) {
            want[i] = fw->ind[i].min + (fw->ind[i].max - fw->ind[i].min) / 2;
            glci_format_double(want[i], value, sizeof value);
        } else {
            snprintf(value, sizeof value, "%.*s", (int)(c3 - c2 - 1), c2 + 1);
            assert_int_equal(glci_parse_double(value, &want[i]), 0);
        }
        at += (size_t)snprintf(out + at, cap - at, "%.*s%s%.*s", (int)(c2 + 1 - line), line,
                               value, (int)(eol + 2 - c3), c3);
        line = eol + 2;
    }
    assert_string_equal(line, "");
    return out;
}

/* `glci history` of the agent's city shows indicator's current value for
 * period as exactly want. */
static void s_assert_history(glci_sys_t *s, const char *indicator, int32_t period,
                             double want)
{
    const char *args[] = {"--format", "json", "history", s->agents[0].city, indicator, NULL};
    char *out = glci_sys_cli_ok(s, args);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    size_t k;
    json_t *row;
    int seen = 0;
    json_array_foreach(json_object_get(j, "rows"), k, row)
        if (json_integer_value(json_object_get(row, "period")) == period &&
            json_is_true(json_object_get(row, "current"))) {
            assert_true(json_real_value(json_object_get(row, "value")) == want);
            seen++;
        }
    if (seen != 1)
        fail_msg("history of %s for %d: %d current rows in %s", indicator, (int)period, seen,
                 out);
    json_decref(j);
    free(out);
}

/* The xlsx template of period, its entry sheet saved as CSV the way a
 * spreadsheet saves it (report_check.py xlsx-to-csv with the options
 * that follow, NULL-terminated); the caller frees the text. */
static char *s_xlsx_as_csv(glci_sys_t *s, const char *period, ...)
{
    char name[64], xlsx[700], out[700], check[1024];
    snprintf(name, sizeof name, "round-%s.xlsx", period);
    free(s_template(s, "xlsx", period, name));
    snprintf(xlsx, sizeof xlsx, "%s/%s", s->dir, name);
    snprintf(out, sizeof out, "%s/round-%s.csv", s->dir, period);
    snprintf(check, sizeof check, "%s/tests/integration/report_check.py",
             getenv("GLCI_SOURCE_DIR"));
    const char *argv[16] = {S_PYTHON, check, "xlsx-to-csv", xlsx, out};
    size_t n = 5;
    va_list ap;
    va_start(ap, period);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 15)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, 600000, NULL, &err);
    if (rc != 0)
        fail_msg("xlsx-to-csv %s failed (%d): %s", period, rc, err ? err : "");
    free(err);
    char *csv = glci_ts_read_file(out);
    assert_non_null(csv);
    return csv;
}

/* The number of CRLF-ended lines of text. */
static size_t s_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, "\r\n")) != NULL; p += 2)
        n++;
    return n;
}

/* `glci-agent push --csv path` of the agent: its exit status, *err its stderr. */
static int s_push_csv(glci_sys_t *s, const char *path, char **err)
{
    const char *argv[] = {s->agent_bin, "push", "--config", s->agents[0].conf, "--csv", path,
                          NULL};
    return glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, err);
}

/* Writes text to DIR/name; the path goes to path. */
static void s_write(glci_sys_t *s, const char *name, const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", s->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Every indicator of the agent's city has, for period, a value of that
 * period equal to want[i]. */
static void s_assert_round(glci_sys_t *s, const glci_framework_t *fw, const char *period,
                           const double *want)
{
    const char *args[] = {"--format", "json", "show", s->agents[0].city, "--period", period,
                          NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(glci_sys_cli(s, args, &out, &err), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    size_t seen = 0;
    size_t a, f, k;
    json_t *area, *focus, *ind;
    json_array_foreach(json_object_get(j, "areas"), a, area)
        json_array_foreach(json_object_get(area, "focus"), f, focus)
            json_array_foreach(json_object_get(focus, "indicators"), k, ind) {
                const char *id = json_string_value(json_object_get(ind, "id"));
                int32_t i = glci_framework_indicator(fw, id);
                assert_true(i >= 0);
                assert_true(json_real_value(json_object_get(ind, "value")) == want[i]);
                assert_int_equal(json_integer_value(json_object_get(ind, "period")),
                                 strtol(period, NULL, 10));
                seen++;
            }
    assert_int_equal(seen, fw->n_ind);
    json_decref(j);
    free(out);
    free(err);
}

/* The text of the file at path once the agent has written it (the
 * deadline is an upper bound, not a speed check); the caller frees it. */
static char *s_wait_file(const char *path)
{
    char *text = NULL;
    for (int waited = 0; !(text = glci_ts_read_file(path)); waited += 50) {
        if (waited > GLCI_SYS_DRAIN_MS)
            fail_msg("%s did not appear", path);
        glci_sys_sleep_ms(50);
    }
    return text;
}

/* Waits until the agent has moved the spool file to done/ or failed/ (the
 * deadline is an upper bound, not a speed check) and asserts it was taken
 * whole. */
static void s_assert_done(glci_sys_t *s, const char *name)
{
    char done[800], failed[800];
    struct stat sb;
    snprintf(done, sizeof done, "%s/done/%s", s->agents[0].spool, name);
    snprintf(failed, sizeof failed, "%s/failed/%s.errors", s->agents[0].spool, name);
    for (int waited = 0; stat(done, &sb) != 0; waited += 50) {
        if (stat(failed, &sb) == 0) {
            char *why = glci_ts_read_file(failed);
            fail_msg("%s was refused by the agent: %s", name, why ? why : "");
        }
        if (waited > GLCI_SYS_DRAIN_MS)
            fail_msg("%s was neither taken nor refused", name);
        glci_sys_sleep_ms(50);
    }
}

static void test_template_csv_through_the_agent(void **state)
{
    (void)state;
    glci_framework_t *fw = s_framework();
    glci_sys_t *s = glci_sys_open("template-agent", 1, NULL);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    /* last values: a few indicators of 2024, one of them already for 2025 */
    glci_sys_push_one(s, 0, fw->ind[0].id, 2024, "41.5");
    glci_sys_push_one(s, 0, fw->ind[1].id, 2024, "80");
    glci_sys_push_one(s, 0, fw->ind[2].id, 2025, "12.25");
    uint64_t stored = 3;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);

    /* round 2025: the city's own 2025 value starts filled, the rest is filled in */
    double *want = calloc(fw->n_ind, sizeof *want);
    assert_non_null(want);
    char *csv = s_template(s, "csv", "2025", "round-2025.csv");
    static const char head[] = "indicator,period,value,source,name,unit,min,max,last_value,"
                               "last_period\r\n";
    assert_memory_equal(csv, head, sizeof head - 1);
    /* the informational columns: the framework's name, unit and range, the
     * city's last value of a period <= 2025 (2024 is not 2025: value stays
     * empty) */
    char row[512], num[3][32];
    glci_format_double(fw->ind[0].min, num[0], sizeof num[0]);
    glci_format_double(fw->ind[0].max, num[1], sizeof num[1]);
    snprintf(row, sizeof row, "\r\n%s,2025,,,%s,%s,%s,%s,41.5,2024\r\n", fw->ind[0].id,
             fw->ind[0].name, fw->ind[0].unit, num[0], num[1]);
    if (!strstr(csv, row))
        fail_msg("no row %s in %s", row, csv);
    glci_format_double(fw->ind[2].min, num[0], sizeof num[0]);
    glci_format_double(fw->ind[2].max, num[1], sizeof num[1]);
    snprintf(row, sizeof row, "\r\n%s,2025,12.25,,%s,%s,%s,%s,12.25,2025\r\n",
             fw->ind[2].id, fw->ind[2].name, fw->ind[2].unit, num[0], num[1]);
    if (!strstr(csv, row))
        fail_msg("no row %s in %s", row, csv);
    char *filled = s_fill(fw, csv, want);
    glci_sys_spool_text(s, 0, "round-2025.csv", filled);
    s_assert_done(s, "round-2025.csv");
    stored += fw->n_ind;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_round(s, fw, "2025", want);
    s_assert_history(s, fw->ind[0].id, 2025, want[0]);
    s_assert_history(s, fw->ind[fw->n_ind - 1].id, 2025, want[fw->n_ind - 1]);

    /* the same file with a column misspelt is refused whole, by the
     * spool and by push --csv alike */
    char *bad = strdup(filled), path[800];
    assert_non_null(bad);
    memcpy(bad + strlen("indicator,period,"), "vlaue", 5);
    glci_sys_spool_text(s, 0, "misspelt.csv", bad);
    /* the file is moved once NAME.errors is written whole */
    snprintf(path, sizeof path, "%s/failed/misspelt.csv", s->agents[0].spool);
    free(s_wait_file(path));
    snprintf(path, sizeof path, "%s/failed/misspelt.csv.errors", s->agents[0].spool);
    char *errors = glci_ts_read_file(path);
    assert_non_null(errors);
    assert_non_null(strstr(errors, "line 1: bad header: unknown column 'vlaue'"));
    free(errors);
    s_write(s, "misspelt-push.csv", bad, path, sizeof path);
    char *err = NULL;
    assert_int_equal(s_push_csv(s, path, &err), 1);
    assert_non_null(strstr(err, "unknown column 'vlaue'"));
    assert_non_null(strstr(err, "nothing queued"));
    assert_true(strchr(err, '\n') == err + strlen(err) - 1);     /* one line */
    free(err);
    free(bad);
    free(filled);
    free(csv);

    /* push --csv takes the template as the spool does: round 2020 */
    double *want2020 = calloc(fw->n_ind, sizeof *want2020);
    assert_non_null(want2020);
    csv = s_template(s, "csv", "2020", "round-2020.csv");
    filled = s_fill(fw, csv, want2020);
    s_write(s, "round-2020-filled.csv", filled, path, sizeof path);
    err = NULL;
    if (s_push_csv(s, path, &err) != 0)
        fail_msg("push --csv of the template failed: %s", err ? err : "");
    free(err);
    stored += fw->n_ind;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_round(s, fw, "2020", want2020);
    s_assert_history(s, fw->ind[1].id, 2020, want2020[1]);
    free(filled);
    free(csv);
    free(want2020);

    /* garbage in the informational columns is ignored: a quote-balanced
     * formula with a line break, bytes that are not UTF-8, words for numbers */
    snprintf(row, sizeof row,
             "indicator,period,value,source,name,unit,min,max,last_value,last_period\r\n"
             "%s,2019,7.5,,\"=HYPERLINK(\"\"x\"\")\"\",\r\n\tweird\",\xff\xfe,lots,-,\"\"\"\",soon\r\n",
             fw->ind[3].id);
    glci_sys_spool_text(s, 0, "garbage.csv", row);
    s_assert_done(s, "garbage.csv");
    stored += 1;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_history(s, fw->ind[3].id, 2019, 7.5);

    /* the round is complete: the template goes through as it is */
    csv = s_template(s, "csv", "2025", "again-2025.csv");
    glci_sys_spool_text(s, 0, "again-2025.csv", csv);
    s_assert_done(s, "again-2025.csv");
    stored += fw->n_ind;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_round(s, fw, "2025", want);
    free(csv);

    char log_path[800], *text;
    /* round 2021, nothing reported yet: the template pushed as it is holds
     * no value and is no error; with one value typed and the other rows
     * left as they are, the one value goes in and the rest are skipped */
    csv = s_template(s, "csv", "2021", "round-2021.csv");
    s_write(s, "round-2021-empty.csv", csv, path, sizeof path);
    err = NULL;
    if (s_push_csv(s, path, &err) != 0)
        fail_msg("push --csv of the template as it is failed: %s", err ? err : "");
    snprintf(row, sizeof row, "no values: its %u rows were left without one; 0 values queued",
             fw->n_ind);
    if (!strstr(err, row))
        fail_msg("push --csv of an unfilled template said: %s", err);
    free(err);
    {
        const char *r1 = strstr(csv, "\r\n") + 2;      /* the first row: ind[0] */
        size_t head_len = (size_t)(r1 - csv), id_len = strlen(fw->ind[0].id);
        char *one = malloc(strlen(csv) + 16);
        assert_non_null(one);
        /* "ID,2021,,..." becomes "ID,2021,5.5,..." */
        snprintf(one, strlen(csv) + 16, "%.*s5.5%s", (int)(head_len + id_len + 6), csv,
                 r1 + id_len + 6);
        glci_sys_spool_text(s, 0, "round-2021.csv", one);
        free(one);
    }
    s_assert_done(s, "round-2021.csv");
    stored += 1;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_history(s, fw->ind[0].id, 2021, 5.5);
    snprintf(log_path, sizeof log_path, "%s/done/round-2021.csv.log", s->agents[0].spool);
    text = glci_ts_read_file(log_path);
    assert_non_null(text);
    snprintf(row, sizeof row, "1 row queued as batch");
    assert_non_null(strstr(text, row));
    snprintf(row, sizeof row, "; %u rows left without a value, skipped", fw->n_ind - 1);
    if (!strstr(text, row))
        fail_msg("done/round-2021.csv.log does not say '%s':\n%s", row, text);
    free(text);
    free(csv);

    /* the xlsx template's entry sheet, saved as CSV */
    csv = s_xlsx_as_csv(s, "2023", NULL);
    glci_sys_spool_text(s, 0, "round-2023.csv", csv);
    free(csv);
    s_assert_done(s, "round-2023.csv");
    stored += fw->n_ind;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    for (uint32_t i = 0; i < fw->n_ind; i++)
        want[i] = fw->ind[i].min + (fw->ind[i].max - fw->ind[i].min) / 2;
    s_assert_round(s, fw, "2023", want);

    /* the same sheet saved by a decimal-comma spreadsheet */
    csv = s_xlsx_as_csv(s, "2022", "--excel", NULL);
    assert_non_null(strstr(csv, "indicator;period;value;source;name;unit;min;max;last_value;"
                                "last_period\r\n"));
    assert_non_null(strchr(csv, ','));
    glci_sys_spool_text(s, 0, "round-2022.csv", csv);
    free(csv);
    s_assert_done(s, "round-2022.csv");
    stored += fw->n_ind;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_round(s, fw, "2022", want);
    snprintf(log_path, sizeof log_path, "%s/done/round-2022.csv.log", s->agents[0].spool);
    text = glci_ts_read_file(log_path);
    assert_non_null(text);
    assert_non_null(strstr(text, "read as excel (';' between fields, ',' decimal mark), chosen "
                                 "by its header"));
    assert_non_null(strstr(text, "44 rows queued as batch"));
    free(text);

    /* corrections through the xlsx: the city has values for 2018, one of
     * them needing all 17 digits; staff type one other value and delete
     * the rows they leave alone. The values not typed again stay as they
     * were, bit for bit: the entry sheet does not start with them (a
     * spreadsheet saves a number to at most 15 digits), so no revision
     * with a changed value is made. */
    double exact = fw->ind[0].min + (fw->ind[0].max - fw->ind[0].min) * 0.55085231131998725;
    char exact_text[32], rounded[32];
    glci_format_double(exact, exact_text, sizeof exact_text);
    snprintf(rounded, sizeof rounded, "%.15g", exact);
    assert_string_not_equal(exact_text, rounded);     /* it needs more than 15 digits */
    glci_sys_push_one(s, 0, fw->ind[0].id, 2018, exact_text);
    glci_sys_push_one(s, 0, fw->ind[1].id, 2018, "80");
    stored += 2;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    csv = s_xlsx_as_csv(s, "2018", "--delete-empty", "--fill", fw->ind[2].id, NULL);
    assert_int_equal(s_lines(csv), 2);          /* the header and the typed row */
    glci_sys_spool_text(s, 0, "round-2018.csv", csv);
    free(csv);
    s_assert_done(s, "round-2018.csv");
    stored += 1;
    glci_sys_wait_stored(s, stored, GLCI_SYS_DRAIN_MS);
    s_assert_history(s, fw->ind[0].id, 2018, exact);
    s_assert_history(s, fw->ind[1].id, 2018, 80);
    s_assert_history(s, fw->ind[2].id, 2018,
                     fw->ind[2].min + (fw->ind[2].max - fw->ind[2].min) / 2);

    /* a partly rejected file: the rejected row is listed beside it in
     * done/NAME.rejects (and in rejected.csv), the rest is stored */
    char partial[512], max_plus[64];
    glci_format_double(fw->ind[0].max + 1, max_plus, sizeof max_plus);
    for (char *p = max_plus; *p; p++)
        if (*p == '.')
            *p = ',';
    snprintf(partial, sizeof partial, "indicator;period;value\r\n%s;2021;%s\r\n%s;2021;1\r\n",
             fw->ind[0].id, max_plus, fw->ind[1].id);
    glci_sys_spool_text(s, 0, "partial.csv", partial);
    s_assert_done(s, "partial.csv");
    char rejects[800];
    snprintf(rejects, sizeof rejects, "%s/done/partial.csv.rejects", s->agents[0].spool);
    char *listed = s_wait_file(rejects);
    assert_non_null(strstr(listed, "indicator,period,value,observed_at,source,reason,"
                                   "rejected_at\r\n"));
    assert_non_null(strstr(listed, fw->ind[0].id));
    assert_null(strstr(listed, fw->ind[1].id));
    free(listed);

    free(want);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
    glci_framework_free(&fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_template_csv_through_the_agent, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
