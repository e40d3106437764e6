/* libFuzzer target for the spool CSV reader (agent/glci_agent_csv.c): the
 * bytes are one file dropped into the spool, taken whole through a file
 * descriptor as the spool takes it (glci_agent_csv_read_fd on a memfd, the
 * spool's byte cap, the dialect chosen by the file).
 *
 * Contract checked beyond "no crash, no leak":
 *   - every error is "line N: reason" with N a line of the file, or "file:
 *     reason", one line of printable UTF-8 (the spool writes them to
 *     NAME.errors, one per line); the dialect read in is comma or excel,
 *     with a reason;
 *   - the same bytes fed in three pieces (split where the input says) give
 *     the same dialect, errors and rows as the whole file;
 *   - a file with no error has at least one row, and every row keeps the
 *     rules of glci_agent_csv.h: an indicator of 1-64 bytes without blanks
 *     or control characters, a finite value, a period in int32, a time that
 *     prints as a date and reads back, a source of printable UTF-8 within
 *     its limit, and glci_obs_check's shape;
 *   - the rows written out again as CSV (comma dialect, every column
 *     quoted, the values in round-trip form, a quote before a text the
 *     reader would take as formula-quoted) read back as exactly the same
 *     rows: nothing the reader accepted depends on how the file spelled it
 *     or in which dialect.
 *
 * Run: fuzz_csv -dict=tests/fuzz/csv.dict NEWDIR tests/fuzz/corpus/csv */
#define _GNU_SOURCE               /* memfd_create */
#include <csv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "glci_agent_csv.h"
#include "glci_agent_spool.h"
#include "glci_alloc.h"
#include "glci_fuzz.h"
#include "glci_obs.h"
#include "glci_text.h"
#include "glci_utf8.h"

static int s_fd = -1;

static glci_agent_csv_t *s_read(const uint8_t *data, size_t size)
{
    if (s_fd < 0 && (s_fd = memfd_create("fuzz-csv", MFD_CLOEXEC)) < 0) {
        perror("memfd_create");
        abort();
    }
    if (ftruncate(s_fd, 0) != 0 || pwrite(s_fd, data, size, 0) != (ssize_t)size ||
        lseek(s_fd, 0, SEEK_SET) != 0) {
        perror("memfd");
        abort();
    }
    glci_agent_csv_t *csv = NULL;
    uint64_t nread = 0;
    char err[256];
    int rc = glci_agent_csv_read_fd(s_fd, "spool/fuzz.csv", GLCI_AGENT_SPOOL_FILE_MAX,
                                    GLCI_AGENT_CSV_AUTO, &csv, &nread, err, sizeof err);
    GLCI_FUZZ_CHECK(rc == 0 && csv, "csv: reading a memfd failed: %s", err);
    GLCI_FUZZ_CHECK(nread == size, "csv: read %llu of %zu bytes", (unsigned long long)nread,
                    size);
    return csv;
}

static int s_same_row(const glci_obs_t *a, const glci_obs_t *b)
{
    return strcmp(a->indicator, b->indicator) == 0 && a->period == b->period &&
           memcmp(&a->value, &b->value, sizeof a->value) == 0 &&
           a->observed_at == b->observed_at &&
           (a->source ? b->source && strcmp(a->source, b->source) == 0 : !b->source);
}

static void s_check_errors(const glci_agent_csv_t *csv, const uint8_t *data, size_t size)
{
    size_t lines = glci_fuzz_lines(data, size);
    GLCI_FUZZ_CHECK(glci_agent_csv_n_listed(csv) <= glci_agent_csv_n_errors(csv) &&
                    glci_agent_csv_n_listed(csv) <= GLCI_AGENT_CSV_ERRORS_LISTED,
                    "csv: %zu errors listed of %zu", glci_agent_csv_n_listed(csv),
                    glci_agent_csv_n_errors(csv));
    for (size_t i = 0; i < glci_agent_csv_n_listed(csv); i++) {
        const char *e = glci_agent_csv_error(csv, i);
        GLCI_FUZZ_CHECK(e, "csv: listed error %zu missing", i);
        glci_fuzz_check_line("csv error", e, strlen(e) + 1);
        if (strncmp(e, "file: ", 6) == 0 && e[6])
            continue;
        size_t line = 0;
        const char *p = e + 5;
        GLCI_FUZZ_CHECK(strncmp(e, "line ", 5) == 0, "csv: error without a line: %s", e);
        while (*p >= '0' && *p <= '9' && line < 100000000)
            line = line * 10 + (size_t)(*p++ - '0');
        GLCI_FUZZ_CHECK(line >= 1 && line <= lines && p[0] == ':' && p[1] == ' ' && p[2],
                        "csv: error names line %zu of a %zu-line file: %s", line, lines, e);
    }
    const char *why = NULL;
    glci_agent_csv_dialect_t d = glci_agent_csv_dialect(csv, &why);
    GLCI_FUZZ_CHECK((d == GLCI_AGENT_CSV_COMMA || d == GLCI_AGENT_CSV_EXCEL) && why && why[0],
                    "csv: read in dialect %d (%s)", (int)d, why ? why : "no reason");
}

/* The same bytes in three pieces, cut where the input's first bytes say:
 * the same dialect, errors and rows as read whole. */
static void s_check_pieces(const glci_agent_csv_t *whole, const uint8_t *data, size_t size)
{
    size_t a = size ? data[0] % (size + 1) : 0;
    size_t b = size > 1 ? a + data[1] % (size - a + 1) : a;
    glci_agent_csv_t *c = glci_agent_csv_new();
    glci_agent_csv_feed(c, (const char *)data, a);
    glci_agent_csv_feed(c, (const char *)data + a, b - a);
    glci_agent_csv_feed(c, (const char *)data + b, size - b);
    glci_agent_csv_finish(c);
    GLCI_FUZZ_CHECK(glci_agent_csv_dialect(c, NULL) == glci_agent_csv_dialect(whole, NULL),
                    "csv: fed in pieces at %zu and %zu, read in another dialect", a, b);
    GLCI_FUZZ_CHECK(glci_agent_csv_n_errors(c) == glci_agent_csv_n_errors(whole),
                    "csv: fed in pieces at %zu and %zu, %zu errors, not %zu", a, b,
                    glci_agent_csv_n_errors(c), glci_agent_csv_n_errors(whole));
    for (size_t i = 0; i < glci_agent_csv_n_listed(whole); i++)
        GLCI_FUZZ_CHECK(strcmp(glci_agent_csv_error(c, i), glci_agent_csv_error(whole, i)) == 0,
                        "csv: fed in pieces at %zu and %zu, error %zu is '%s', not '%s'", a, b,
                        i, glci_agent_csv_error(c, i), glci_agent_csv_error(whole, i));
    const glci_obs_t *x, *y;
    size_t n = glci_agent_csv_rows(whole, &x);
    GLCI_FUZZ_CHECK(glci_agent_csv_rows(c, &y) == n, "csv: fed in pieces, another row count");
    for (size_t i = 0; i < n && glci_agent_csv_n_errors(whole) == 0; i++)
        GLCI_FUZZ_CHECK(s_same_row(&x[i], &y[i]), "csv: fed in pieces at %zu and %zu, row %zu "
                        "differs", a, b, i);
    glci_agent_csv_free(&c);
}

static void s_check_row(const glci_obs_t *o, size_t i)
{
    GLCI_FUZZ_CHECK(o->indicator && o->has_period && o->has_value, "csv: row %zu incomplete", i);
    size_t n = strlen(o->indicator);
    GLCI_FUZZ_CHECK(n >= 1 && n <= GLCI_OBS_INDICATOR_MAX, "csv: row %zu: indicator of %zu "
                    "bytes", i, n);
    for (size_t k = 0; k < n; k++)
        GLCI_FUZZ_CHECK((unsigned char)o->indicator[k] > 0x20 && o->indicator[k] != 0x7f,
                        "csv: row %zu: blank or control character in the indicator", i);
    GLCI_FUZZ_CHECK(!glci_utf8_problem(o->indicator), "csv: row %zu: indicator %s", i,
                    glci_utf8_problem(o->indicator));
    GLCI_FUZZ_CHECK(isfinite(o->value), "csv: row %zu: value not finite", i);
    GLCI_FUZZ_CHECK(o->period >= INT32_MIN && o->period <= INT32_MAX,
                    "csv: row %zu: period %lld", i, (long long)o->period);
    if (o->observed_at) {
        char t[32];
        int64_t back;
        glci_format_iso_time(o->observed_at, t, sizeof t);
        GLCI_FUZZ_CHECK(glci_parse_iso_time(t, &back) == 0 && back == o->observed_at,
                        "csv: row %zu: observed_at %lld does not print as a date", i,
                        (long long)o->observed_at);
    }
    if (o->source) {
        GLCI_FUZZ_CHECK(o->source[0] && strlen(o->source) <= GLCI_OBS_SOURCE_MAX,
                        "csv: row %zu: source of %zu bytes", i, strlen(o->source));
        GLCI_FUZZ_CHECK(!glci_utf8_problem(o->source), "csv: row %zu: source %s", i,
                        glci_utf8_problem(o->source));
    }
    char msg[160];
    GLCI_FUZZ_CHECK(glci_obs_check(o, msg, sizeof msg) == GLCI_REJECT_NONE,
                    "csv: row %zu fails the shape check: %s", i, msg);
}

/* ---- writing rows out again ---------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} s_text_t;

static void s_put(s_text_t *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        while (t->n + n + 1 > t->cap)
            t->cap = t->cap ? 2 * t->cap : 4096;
        t->p = glci_xrealloc(t->p, t->cap);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
}

static void s_field_raw(s_text_t *t, const char *s, const char *sep)
{
    size_t n = strlen(s);
    size_t need = csv_write(NULL, 0, s, n);
    char *q = glci_xmalloc(need);
    csv_write(q, need, s, n);
    s_put(t, q, need);
    s_put(t, sep, strlen(sep));
    free(q);
}

/* One text field (indicator or source), quoted; a text the reader would
 * take as formula-quoted (a
 * leading = + - @ tab or CR, or a quote before one) gets the quote the
 * reader takes off there (glci_agent_csv.h), so it reads back as it is. */
static void s_field(s_text_t *t, const char *s, const char *sep)
{
    static const char formula[] = "=+-@\t\r";
    if (s[0] && (strchr(formula, s[0]) || (s[0] == '\'' && s[1] && strchr(formula, s[1])))) {
        char *q = glci_xmalloc(strlen(s) + 2);
        q[0] = '\'';
        memcpy(q + 1, s, strlen(s) + 1);
        s_field_raw(t, q, sep);
        free(q);
        return;
    }
    s_field_raw(t, s, sep);
}

static void s_write(s_text_t *t, const glci_obs_t *rows, size_t n)
{
    static const char head[] = "indicator,period,value,observed_at,source\r\n";
    s_put(t, head, sizeof head - 1);
    for (size_t i = 0; i < n; i++) {
        char period[32], value[32], when[32] = "";
        snprintf(period, sizeof period, "%lld", (long long)rows[i].period);
        glci_format_double(rows[i].value, value, sizeof value);
        if (rows[i].observed_at)
            glci_format_iso_time(rows[i].observed_at, when, sizeof when);
        s_field(t, rows[i].indicator, ",");
        s_field_raw(t, period, ",");
        s_field_raw(t, value, ",");
        s_field_raw(t, when, ",");
        s_field(t, rows[i].source ? rows[i].source : "", "\r\n");
    }
}

static void s_roundtrip(const glci_obs_t *rows, size_t n)
{
    s_text_t t = {0};
    s_write(&t, rows, n);
    glci_agent_csv_t *again = glci_agent_csv_parse(t.p, t.n);
    GLCI_FUZZ_CHECK(glci_agent_csv_n_errors(again) == 0,
                    "csv: accepted rows written out again are refused: %s",
                    glci_agent_csv_error(again, 0));
    const glci_obs_t *back;
    GLCI_FUZZ_CHECK(glci_agent_csv_rows(again, &back) == n,
                    "csv: rows written out again read back as another number of rows");
    for (size_t i = 0; i < n; i++) {
        GLCI_FUZZ_CHECK(s_same_row(&rows[i], &back[i]), "csv: row %zu reads back differently",
                        i);
    }
    glci_agent_csv_free(&again);
    free(t.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glci_agent_csv_t *csv = s_read(data, size);
    s_check_errors(csv, data, size);
    s_check_pieces(csv, data, size);
    const glci_obs_t *rows;
    size_t n = glci_agent_csv_rows(csv, &rows);
    if (glci_agent_csv_n_errors(csv) == 0) {
        /* a header without rows is a file of no values (docs/AGENT.md), not an error */
        for (size_t i = 0; i < n; i++)
            s_check_row(&rows[i], i);
        s_roundtrip(rows, n);
    }
    glci_agent_csv_free(&csv);
    return 0;
}
