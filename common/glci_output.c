/* Tables, CSV and JSON for glci's output: see output.h. */
#include "glci_output.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"

struct glci_table {
    size_t n_cols;
    char **headers;
    char *align;
    size_t n_cells, cap;
    char **cells;
};

int glci_format_parse(const char *text, glci_format_t *out)
{
    if (strcmp(text, "table") == 0)
        *out = GLCI_FMT_TABLE;
    else if (strcmp(text, "json") == 0)
        *out = GLCI_FMT_JSON;
    else if (strcmp(text, "csv") == 0)
        *out = GLCI_FMT_CSV;
    else if (strcmp(text, "xlsx") == 0)
        *out = GLCI_FMT_XLSX;
    else
        return -1;
    return 0;
}

glci_table_t *glci_table_new(size_t n_cols, const char *const *headers, const char *align)
{
    assert(n_cols > 0);
    glci_table_t *t = glci_xcalloc(1, sizeof *t);
    t->n_cols = n_cols;
    t->headers = glci_xcalloc(n_cols, sizeof *t->headers);
    t->align = glci_xcalloc(n_cols + 1, 1);
    for (size_t i = 0; i < n_cols; i++) {
        t->headers[i] = glci_xstrdup(headers[i]);
        t->align[i] = align && align[i] == 'r' ? 'r' : 'l';
    }
    return t;
}

void glci_table_free(glci_table_t **self)
{
    if (!self || !*self)
        return;
    glci_table_t *t = *self;
    for (size_t i = 0; i < t->n_cols; i++)
        free(t->headers[i]);
    for (size_t i = 0; i < t->n_cells; i++)
        free(t->cells[i]);
    free(t->headers);
    free(t->align);
    free(t->cells);
    free(t);
    *self = NULL;
}

void glci_table_cell(glci_table_t *t, const char *text)
{
    if (t->n_cells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = glci_xrealloc(t->cells, t->cap * sizeof *t->cells);
    }
    t->cells[t->n_cells++] = glci_xstrdup(text ? text : "");
}

void glci_table_cellf(glci_table_t *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    glci_table_cell(t, buf);
}

size_t glci_table_rows(const glci_table_t *t)
{
    return (t->n_cells + t->n_cols - 1) / t->n_cols;
}

/* The columns a terminal gives code point c: 2 for East Asian wide and
 * full-width characters (CJK, Hangul, full-width forms, most emoji), 0
 * for combining marks and zero-width characters, else 1. A table of
 * ranges (after Markus Kuhn's wcwidth) rather than wcwidth(3), which
 * needs a UTF-8 locale the program may not run under. */
static size_t s_cols(uint32_t c)
{
    static const uint32_t zero[][2] = {
        {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
        {0x064B, 0x065F}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
        {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x20D0, 0x20FF},
        {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
    };
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F}, {0x2E80, 0x303E}, {0x3041, 0x33FF}, {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF}, {0xA000, 0xA4CF}, {0xA960, 0xA97F}, {0xAC00, 0xD7A3},
        {0xF900, 0xFAFF}, {0xFE30, 0xFE4F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6},
        {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (c >= zero[i][0] && c <= zero[i][1])
            return 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (c >= wide[i][0] && c <= wide[i][1])
            return 2;
    return 1;
}

/* Display width of UTF-8 text in terminal columns (s_cols of each code
 * point; a byte that starts no valid sequence counts as one column). */
static size_t s_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p;
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (n > 1) {
            c &= 0xFFu >> (n + 1);
            for (size_t k = 1; k < n; k++) {
                if ((p[k] & 0xC0) != 0x80) {
                    n = 1;
                    break;
                }
                c = (c << 6) | (p[k] & 0x3Fu);
            }
        }
        w += n == 1 && *p >= 0x80 ? 1 : s_cols(c);
        p += n;
    }
    return w;
}

static const char *s_cell(const glci_table_t *t, size_t row, size_t col)
{
    size_t i = row * t->n_cols + col;
    return i < t->n_cells ? t->cells[i] : "";
}

static void s_pad(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', out);
}

static void s_text_row(const glci_table_t *t, FILE *out, const size_t *widths,
                       const char *const *texts)
{
    /* The last non-empty column ends the line: no trailing blanks. */
    size_t last = 0;
    for (size_t c = 0; c < t->n_cols; c++)
        if (*texts[c] || t->align[c] == 'r')
            last = c;
    for (size_t c = 0; c <= last; c++) {
        size_t w = s_width(texts[c]);
        size_t pad = widths[c] > w ? widths[c] - w : 0;
        if (c > 0)
            fputs("  ", out);
        if (t->align[c] == 'r')
            s_pad(out, pad);
        fputs(texts[c], out);
        if (t->align[c] != 'r' && c < last)
            s_pad(out, pad);
    }
    fputc('\n', out);
}

static void s_print_text(const glci_table_t *t, FILE *out, int header)
{
    size_t rows = glci_table_rows(t);
    size_t *widths = glci_xcalloc(t->n_cols, sizeof *widths);
    const char **texts = glci_xcalloc(t->n_cols, sizeof *texts);
    for (size_t c = 0; c < t->n_cols; c++) {
        widths[c] = header ? s_width(t->headers[c]) : 0;
        for (size_t r = 0; r < rows; r++) {
            size_t w = s_width(s_cell(t, r, c));
            if (w > widths[c])
                widths[c] = w;
        }
    }
    if (header)
        s_text_row(t, out, widths, (const char *const *)t->headers);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++)
            texts[c] = s_cell(t, r, c);
        s_text_row(t, out, widths, texts);
    }
    free(texts);
    free(widths);
}

void glci_table_print_text(const glci_table_t *t, FILE *out)
{
    s_print_text(t, out, 1);
}

void glci_table_print_rows(const glci_table_t *t, FILE *out)
{
    s_print_text(t, out, 0);
}

int glci_csv_formula(const char *text)
{
    double v;
    if (!strchr("=+-@\t\r", text[0]) || !text[0])
        return 0;
    /* "-3.5" and "+2" are numbers to a spreadsheet too, and must stay
     * numbers; "-1+2", "-inf" and "@SUM(A1)" are not. */
    return !(glci_parse_double(text, &v) == 0 && isfinite(v));
}

/* Quoted, quotes doubled, and a formula led by a single quote inside the
 * quotes (OWASP, CSV injection): a spreadsheet shows '=1+2 as the text
 * =1+2 instead of computing it. */
static void s_csv_quoted(FILE *out, const char *text)
{
    fputc('"', out);
    if (glci_csv_formula(text))
        fputc('\'', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

void glci_csv_field(FILE *out, const char *text)
{
    if (!strpbrk(text, ",\"\r\n") && !glci_csv_formula(text)) {
        fputs(text, out);
        return;
    }
    s_csv_quoted(out, text);
}

void glci_csv_field_quoted(FILE *out, const char *text)
{
    s_csv_quoted(out, text);
}

void glci_table_print_csv(const glci_table_t *t, FILE *out)
{
    size_t rows = glci_table_rows(t);
    for (size_t c = 0; c < t->n_cols; c++) {
        if (c > 0)
            fputc(',', out);
        glci_csv_field(out, t->headers[c]);
    }
    fputs("\r\n", out);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            if (c > 0)
                fputc(',', out);
            glci_csv_field(out, s_cell(t, r, c));
        }
        fputs("\r\n", out);
    }
}

/* The errno of the last failed write of a JSON document: a write larger
 * than the stream's buffer goes straight to the file, and when it fails
 * nothing is left for the final flush to fail on again. */
static int s_write_errno;

static int s_write_failed(void)
{
    s_write_errno = errno ? errno : EIO;
    return -1;
}

int glci_output_check(FILE *out)
{
    errno = 0;
    if (fflush(out) != 0)
        return errno ? errno : EIO;
    if (!ferror(out))
        return 0;
    return s_write_errno ? s_write_errno : EIO;
}

int glci_json_print(json_t **value, FILE *out)
{
    /* jansson prints reals with "%.17g", which always reads back as the same
     * double; JSON_REAL_PRECISION(17) says so explicitly. */
    char *text = json_dumps(*value, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    int rc = text ? 0 : -1;
    if (text) {
        size_t len = strlen(text);
        errno = 0;
        if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF)
            rc = s_write_failed();
        free(text);
    }
    json_decref(*value);
    *value = NULL;
    return rc == 0 ? 0 : -1;
}

int glci_json_write(const json_t *value, FILE *out)
{
    /* Encoded into a buffer first: json_dumpf writes every token with its
     * own fwrite, which costs more than the encoding for small rows. */
    const size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY;
    char buf[1024];
    size_t len = json_dumpb(value, buf, sizeof buf, flags);
    if (len == 0)
        return -1;
    errno = 0;
    if (len > sizeof buf)
        return json_dumpf(value, out, flags) == 0 ? 0 : s_write_failed();
    return fwrite(buf, 1, len, out) == len ? 0 : s_write_failed();
}

void glci_json_set_num(json_t *obj, const char *key, double v, int present)
{
    json_t *cur = json_object_get(obj, key);
    if (present && isfinite(v)) {
        if (cur && json_is_real(cur))
            json_real_set(cur, v);
        else
            json_object_set_new_nocheck(obj, key, json_real(v));
    } else if (!cur || !json_is_null(cur)) {
        json_object_set_new_nocheck(obj, key, json_null());
    }
}

void glci_json_set_str(json_t *obj, const char *key, const char *text)
{
    json_t *cur = json_object_get(obj, key);
    if (cur && json_is_string(cur) && json_string_set(cur, text) == 0)
        return;
    json_t *s = json_string(text);
    json_object_set_new_nocheck(obj, key, s ? s : json_null());
}

json_t *glci_json_num(double v, int present)
{
    if (!present || !isfinite(v))
        return json_null();
    return json_real(v);
}

void glci_fmt_score(double v, int present, char *buf, size_t len)
{
    if (!present || !isfinite(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f", v);
}

void glci_fmt_exact(double v, int present, char *buf, size_t len)
{
    if (!present || !isfinite(v)) {
        snprintf(buf, len, "%s", "");
        return;
    }
    /* three tries at most for a normal number, where a search from 1
     * digit up would cost a table of 10,000 scores dearly */
    glci_format_shortest_g(v, buf, len);
}

void glci_fmt_value(double v, char *buf, size_t len)
{
    glci_format_value(v, buf, len);
}

void glci_fmt_time(int64_t unix_seconds, char *buf, size_t len)
{
    if (unix_seconds == 0)
        snprintf(buf, len, "-");
    else
        glci_format_iso_time(unix_seconds, buf, len);
}

json_t *glci_json_time(int64_t unix_seconds)
{
    char buf[40];
    if (unix_seconds == 0)
        return json_null();
    glci_format_iso_time(unix_seconds, buf, sizeof buf);
    return json_string(buf);
}

int glci_json_write_head(const json_t *obj, const char *key, FILE *out)
{
    char *text = obj ? json_dumps(obj, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    if (!text)
        return -1;
    size_t len = strlen(text);
    int rc = len < 2 || fwrite(text, 1, len - 1, out) != len - 1 ||
             fprintf(out, "%s\"%s\": [", len > 2 ? ", " : "", key) < 0 ? -1 : 0;
    free(text);
    return rc;
}
