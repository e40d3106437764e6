/* Spool CSV reading and validation with libcsv: see glci_agent_csv.h.
 *
 * The data is fed to libcsv one physical line at a time, so the row-end
 * callback knows the line number. Field texts are copied out of libcsv's
 * buffer into the current row; accepted rows keep their strings in an
 * arena of large blocks, so a million-row file costs a few allocations. */
#include "glci_agent_csv.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_alloc.h"
#include "glci_spool_csv.h"
#include "glci_text.h"
#include "glci_utf8.h"

enum { COL_INDICATOR, COL_PERIOD, COL_VALUE, COL_OBSERVED_AT, COL_SOURCE, COL_N };
static const char *const s_col_names[COL_N] = {
    "indicator", "period", "value", "observed_at", "source"
};

#define S_MAX_FIELDS 64
#define S_FIELD_CAP 256       /* longer field texts are cut, but their length kept */
#define S_BLOCK (64 * 1024)
#define S_READ_CHUNK (64 * 1024)
#define S_PROBE_MAX (GLCI_AGENT_CSV_ROW_MAX + 16)   /* a sep= line and a header row */

typedef struct s_block {
    struct s_block *next;
    size_t used;
    char data[];
} s_block_t;

struct glci_agent_csv {
    glci_obs_t *rows;
    size_t n_rows, cap_rows;
    size_t n_unfilled;        /* rows left without a value (a template's): skipped */
    char **errors;            /* the first GLCI_AGENT_CSV_ERRORS_LISTED */
    size_t n_errors, n_listed, cap_errors;
    s_block_t *blocks;

    glci_agent_csv_dialect_t dialect;  /* never AUTO once chosen */
    const char *dialect_why;
    /* The first bytes, held until the dialect is chosen (a "sep=" line or
     * the header line is whole, or S_PROBE_MAX bytes came). */
    int chosen;
    int dead;                 /* refused whole at its first bytes: the rest is not parsed */
    char *probe;
    size_t n_probe;

    /* parse state, kept across glci_agent_csv_feed calls */
    struct csv_parser p;
    int rest;                 /* parsing what a file gained after it was taken */
    int pending_nl;           /* the last byte fed ended a line */
    int skip_line;            /* after an error: drop bytes up to the line's end */
    int row_ended;            /* set by the row callback */
    size_t row_bytes;         /* bytes fed since the current row began */
    int rows_over;            /* GLCI_AGENT_CSV_ROWS_MAX passed: rows no longer kept */
    size_t line;
    int header_done, header_bad;
    int literal;              /* glci_agent_csv_literal: no formula quote taken off */
    int col[COL_N];                    /* header position of each column, or -1 */
    size_t n_header;
    size_t n_fields;                   /* in the current row */
    char field[S_MAX_FIELDS][S_FIELD_CAP + 1];
    size_t field_len[S_MAX_FIELDS];
    int field_nul[S_MAX_FIELDS];
};

static char *s_arena_copy(glci_agent_csv_t *c, const char *s, size_t len)
{
    s_block_t *b = c->blocks;
    if (!b || S_BLOCK - b->used < len + 1) {
        size_t cap = len + 1 > S_BLOCK ? len + 1 : S_BLOCK;
        b = glci_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->next = c->blocks;
        c->blocks = b;
    }
    char *p = b->data + b->used;
    memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

static void s_error(glci_agent_csv_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts an error and keeps its text while fewer than
 * GLCI_AGENT_CSV_ERRORS_LISTED are kept: a file of a million bad lines
 * costs a counter, not a million strings. */
static void s_verror(glci_agent_csv_t *c, int whole, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void s_verror(glci_agent_csv_t *c, int whole, const char *fmt, va_list ap)
{
    c->n_errors++;
    if (c->n_listed >= GLCI_AGENT_CSV_ERRORS_LISTED)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c->n_listed == c->cap_errors) {
        c->cap_errors = c->cap_errors ? 2 * c->cap_errors : 16;
        c->errors = glci_xrealloc(c->errors, c->cap_errors * sizeof *c->errors);
    }
    char line[600];
    if (whole)
        snprintf(line, sizeof line, "file: %s", msg);
    else
        snprintf(line, sizeof line, "line %zu: %s", c->line, msg);
    c->errors[c->n_listed++] = glci_xstrdup(line);
}

static void s_error(glci_agent_csv_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(c, 0, fmt, ap);
    va_end(ap);
}

static void s_file_error(glci_agent_csv_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_file_error(glci_agent_csv_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(c, 1, fmt, ap);
    va_end(ap);
}

/* Field text for an error line: at most S_ECHO_MAX bytes of s (not cutting
 * a UTF-8 sequence), with control characters escaped (\n, \r, \t, others
 * \xNN) so that a quoted field spanning lines keeps the error on one line,
 * and bytes that are not UTF-8 (a header is echoed before any check) as
 * \xNN too, so the line is valid UTF-8. Returns out. */
#define S_ECHO_MAX 40
static const char *s_echo(const char *s, char *out, size_t cap)
{
    size_t len = strlen(s), o = 0;
    if (len > S_ECHO_MAX) {
        len = S_ECHO_MAX;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        size_t seq = ch < 0xc0 ? 1 : ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4;
        if (ch >= 0x80 && (seq == 1 || seq > len - i || o + seq >= cap ||
                           glci_utf8_problem_n(s + i, seq))) {
            snprintf(out + o, cap - o, "\\x%02x", ch);
            o += 4;
        } else if (ch >= 0x80) {
            memcpy(out + o, s + i, seq);
            o += seq;
            i += seq - 1;
        } else if (ch == '\n' || ch == '\r' || ch == '\t') {
            out[o++] = '\\';
            out[o++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(out + o, cap - o, "\\x%02x", ch);
            o += 4;
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return out;
}

static void s_field_cb(void *s, size_t len, void *data)
{
    glci_agent_csv_t *c = data;
    size_t k = c->n_fields++;
    if (k >= S_MAX_FIELDS)
        return;
    size_t keep = len < S_FIELD_CAP ? len : S_FIELD_CAP;
    const char *text = s ? s : "";
    memcpy(c->field[k], text, keep);
    c->field[k][keep] = '\0';
    c->field_len[k] = len;
    /* 2: a NUL byte, 1: not UTF-8, 0: fine */
    if (len > 0 && memchr(text, '\0', len))
        c->field_nul[k] = 2;
    else
        c->field_nul[k] = glci_utf8_valid(text, len) ? 0 : 1;
}

static void s_trim(char *s)
{
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        s[--len] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, len - lead + 1);
}

static void s_header(glci_agent_csv_t *c)
{
    c->header_done = 1;
    for (int k = 0; k < COL_N; k++)
        c->col[k] = -1;
    c->n_header = c->n_fields;
    if (c->n_fields > S_MAX_FIELDS) {
        s_error(c, "header has %zu columns, at most %d are read", c->n_fields, S_MAX_FIELDS);
        c->header_bad = 1;
        return;
    }
    int info_col[GLCI_SPOOL_IGNORED_N];
    for (int k = 0; k < GLCI_SPOOL_IGNORED_N; k++)
        info_col[k] = -1;
    for (size_t f = 0; f < c->n_fields; f++) {
        char *name = c->field[f];
        char echo[4 * S_ECHO_MAX + 8];
        s_trim(name);
        int found = -1;
        for (int k = 0; k < COL_N; k++)
            if (strcmp(name, s_col_names[k]) == 0)
                found = k;
        /* a template's informational column or a dead-letter file's
         * reason and time: taken, its contents ignored */
        int info = found < 0 ? glci_spool_ignored_find(name) : -1;
        int *slot = found >= 0 ? &c->col[found] : info >= 0 ? &info_col[info] : NULL;
        if (!slot) {
            s_error(c, "bad header: unknown column '%s' (expected indicator, period, value, "
                    "observed_at, source" GLCI_SPOOL_IGNORED_LIST "; read as %s by %s)",
                    s_echo(name, echo, sizeof echo),
                    c->dialect == GLCI_AGENT_CSV_EXCEL ? "excel, ';' between fields"
                                                       : "comma, ',' between fields",
                    c->dialect_why);
            c->header_bad = 1;
        } else if (*slot >= 0) {
            s_error(c, "bad header: column '%s' appears twice", name);
            c->header_bad = 1;
        } else {
            *slot = (int)f;
        }
    }
    for (int k = 0; k <= COL_VALUE; k++)
        if (c->col[k] < 0) {
            s_error(c, "bad header: required column '%s' is missing", s_col_names[k]);
            c->header_bad = 1;
        }
}

static void s_add(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 3 >= cap)
        return;
    if (used) {
        memcpy(buf + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

/* Takes off the single quote that glci's CSV writer puts in front of a
 * cell a spreadsheet would read as a formula ("'=x", glci_csv_field), so a
 * sheet the programs wrote (glci template) reads back as it was written. */
static void s_unquote_formula(glci_agent_csv_t *c, int col)
{
    if (col < 0 || (size_t)col >= c->n_fields)
        return;
    char *f = c->field[col];
    if (f[0] != '\'' || !f[1] || !strchr("=+-@\t\r", f[1]))
        return;
    memmove(f, f + 1, strlen(f));
    c->field_len[col]--;
}

static void s_row(glci_agent_csv_t *c)
{
    char why[512] = "";
    char echo[4 * S_ECHO_MAX + 8], echo2[4 * S_ECHO_MAX + 8];
    if (c->n_fields != c->n_header) {
        s_error(c, "%zu fields, the header has %zu", c->n_fields, c->n_header);
        return;
    }
    if (!c->literal) {
        s_unquote_formula(c, c->col[COL_INDICATOR]);
        s_unquote_formula(c, c->col[COL_SOURCE]);
    }
    for (size_t f = 0; f < c->n_fields; f++) {
        const char *name = NULL;
        for (int k = 0; k < COL_N; k++)
            if (c->col[k] == (int)f)
                name = s_col_names[k];
        if (!name)            /* an informational column: its contents are ignored */
            continue;
        if (c->field_nul[f] == 2)
            s_add(why, sizeof why, "%s contains a NUL byte", name);
        else if (c->field_nul[f])
            s_add(why, sizeof why, "%s is not valid UTF-8", name);
    }
    if (why[0]) {
        s_error(c, "%s", why);
        return;
    }

    const char *ind = c->field[c->col[COL_INDICATOR]];
    size_t ind_len = c->field_len[c->col[COL_INDICATOR]];
    /* Blanks and control characters in an id are a spreadsheet's typo,
     * caught here where the whole file can still be refused; the shape
     * rules (length, source text) are glci_obs_check's, asked below. */
    if (ind_len == 0) {
        s_add(why, sizeof why, "indicator is missing");
    } else if (ind_len <= GLCI_OBS_INDICATOR_MAX) {
        /* control characters: C0, DEL and C1 (U+0080-U+009F) alike */
        int bad = glci_utf8_problem_n(ind, ind_len) != NULL;
        for (size_t i = 0; !bad && i < ind_len; i++)
            bad = ind[i] == ' ';
        if (bad)
            s_add(why, sizeof why, "indicator '%s' contains a blank or control character",
                  s_echo(ind, echo, sizeof echo));
    }

    int64_t period = 0;
    const char *ptext = c->field[c->col[COL_PERIOD]];
    if (!ptext[0])
        s_add(why, sizeof why, "period is missing");
    else if (c->field_len[c->col[COL_PERIOD]] > 32 ||
             glci_parse_int64(ptext, INT32_MIN, INT32_MAX, &period) != 0)
        s_add(why, sizeof why, "period '%s' is not an integer year",
              s_echo(ptext, echo, sizeof echo));

    /* A row with its value, source and date all empty is one not filled in
     * (glci template's sheet has one per indicator): skipped and counted,
     * not an error. Not for a value given on the command line. */
    if (!why[0] && !c->literal && !c->field[c->col[COL_VALUE]][0] &&
        (c->col[COL_SOURCE] < 0 || !c->field_len[c->col[COL_SOURCE]]) &&
        (c->col[COL_OBSERVED_AT] < 0 || !c->field[c->col[COL_OBSERVED_AT]][0])) {
        c->n_unfilled++;
        return;
    }

    double value = 0;
    int vrc = 0;
    const char *vtext = c->field[c->col[COL_VALUE]];
    char vbuf[S_FIELD_CAP + 1];
    int decimal_ok = 1;
    if (c->dialect == GLCI_AGENT_CSV_EXCEL && vtext[0]) {
        /* a decimal comma becomes the point glci_parse_double reads; a
         * point is refused, as it may be a thousands separator */
        snprintf(vbuf, sizeof vbuf, "%s", vtext);
        decimal_ok = strchr(vbuf, '.') == NULL;
        char *comma = strchr(vbuf, ',');
        if (comma && strchr(comma + 1, ','))
            decimal_ok = 0;
        if (comma)
            *comma = '.';
        vtext = vbuf;
    }
    if (!vtext[0])
        s_add(why, sizeof why, "value is missing");
    else if (strcmp(vtext, "retract") == 0)
        /* a rejected retraction's row in the dead-letter file: a file
         * never withdraws a value (docs/CYCLE.md), the command does */
        s_add(why, sizeof why, "value 'retract' is not a number (a retraction goes in with "
              "glci-agent retract %s %s, never from a file)",
              s_echo(ind, echo, sizeof echo), s_echo(c->field[c->col[COL_PERIOD]], echo2,
                                                     sizeof echo2));
    else if (!decimal_ok)
        s_add(why, sizeof why, "value '%s' is not a number with a decimal comma (this file "
              "is read as excel: ';' between fields, ',' decimal mark, no thousands "
              "separator)", s_echo(c->field[c->col[COL_VALUE]], echo, sizeof echo));
    else if (c->field_len[c->col[COL_VALUE]] > 64 ||
             (vrc = glci_parse_double(vtext, &value)) == -1)
        s_add(why, sizeof why, "value '%s' is not a number", s_echo(vtext, echo, sizeof echo));
    else if (vrc != 0)
        s_add(why, sizeof why, "value '%s' is too large for a number (at most about "
              "1.8e308)", s_echo(vtext, echo, sizeof echo));
    else if (!isfinite(value))
        s_add(why, sizeof why, "value '%s' is not finite", s_echo(vtext, echo, sizeof echo));

    int64_t observed_at = 0;
    if (c->col[COL_OBSERVED_AT] >= 0) {
        const char *t = c->field[c->col[COL_OBSERVED_AT]];
        if (t[0] && (c->field_len[c->col[COL_OBSERVED_AT]] > 32 ||
                     glci_parse_iso_time(t, &observed_at) != 0))
            s_add(why, sizeof why, "observed_at '%s' is not a date (YYYY-MM-DD or "
                  "YYYY-MM-DDTHH:MM:SSZ)", s_echo(t, echo, sizeof echo));
    }

    const char *src = NULL;
    size_t src_len = 0;
    if (c->col[COL_SOURCE] >= 0) {
        src_len = c->field_len[c->col[COL_SOURCE]];
        src = c->field[c->col[COL_SOURCE]];
    }
    /* The shape check on what the row holds: the indicator's length and the
     * source (a NUL byte, which the field keeps, is a control character).
     * Field texts are cut at S_FIELD_CAP, above both limits, so a check of
     * the cut text sees every over-long one. */
    char shape[160];
    glci_obs_t o = glci_obs_make(ind_len ? ind : NULL, period, value);
    o.source = src_len ? src : NULL;
    o.observed_at = observed_at;
    if (src_len && memchr(src, '\0', src_len < S_FIELD_CAP ? src_len : S_FIELD_CAP))
        s_add(why, sizeof why, "source contains a control character");
    else if (ind_len && glci_obs_check(&o, shape, sizeof shape) != GLCI_REJECT_NONE) {
        if (strncmp(shape, "source is ", 10) == 0)   /* the text kept is cut: its length */
            s_add(why, sizeof why, "source is %zu bytes, at most %d bytes", src_len,
                  GLCI_OBS_SOURCE_MAX);
        else
            s_add(why, sizeof why, "%s", shape);
    }
    if (why[0]) {
        s_error(c, "%s", why);
        return;
    }
    if (c->n_errors)          /* the file fails anyway: keep only the errors */
        return;
    if (c->n_rows == GLCI_AGENT_CSV_ROWS_MAX) {
        s_error(c, "more than %d data rows, the most one file may hold; split the file",
                GLCI_AGENT_CSV_ROWS_MAX);
        c->rows_over = 1;
        return;
    }
    if (c->n_rows == c->cap_rows) {
        c->cap_rows = c->cap_rows ? 2 * c->cap_rows : 256;
        c->rows = glci_xrealloc(c->rows, c->cap_rows * sizeof *c->rows);
    }
    glci_obs_t *row = &c->rows[c->n_rows++];
    *row = glci_obs_make(s_arena_copy(c, ind, ind_len), period, value);
    row->observed_at = observed_at;
    row->source = src_len ? s_arena_copy(c, src, src_len) : NULL;
}

static void s_row_cb(int term, void *data)
{
    glci_agent_csv_t *c = data;
    (void)term;
    if (!c->header_done)
        s_header(c);
    else if (!c->header_bad)
        s_row(c);
    c->n_fields = 0;
    c->row_ended = 1;
}

static void s_parser_init(glci_agent_csv_t *c)
{
    if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        abort();      /* only fails on allocation */
    if (c->dialect == GLCI_AGENT_CSV_EXCEL)
        csv_set_delim(&c->p, ';');
}

int glci_agent_csv_dialect_parse(const char *text, glci_agent_csv_dialect_t *out)
{
    static const char *const names[] = {"auto", "comma", "excel"};
    for (int d = 0; d < 3; d++)
        if (strcmp(text, names[d]) == 0) {
            *out = (glci_agent_csv_dialect_t)d;
            return 0;
        }
    return -1;
}

const char *glci_agent_csv_dialect_str(glci_agent_csv_dialect_t d)
{
    return d == GLCI_AGENT_CSV_EXCEL ? "excel (';' between fields, ',' decimal mark)"
                                     : "comma (',' between fields, '.' decimal mark)";
}

glci_agent_csv_dialect_t glci_agent_csv_dialect(const glci_agent_csv_t *csv, const char **why)
{
    if (why)
        *why = csv->dialect_why;
    return csv->dialect;
}

/* A first line "sep=X" (quoted or not, X one byte): X, and *skip the
 * bytes of that line with its end; 0 when there is none. */
static char s_sep_line(const char *data, size_t len, size_t *skip)
{
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    size_t end = n;
    if (end && data[end - 1] == '\r')
        end--;
    size_t a = 0;
    if (end >= 2 && data[0] == '"' && data[end - 1] == '"') {
        a = 1;
        end--;
    }
    if (end - a != 5 || memcmp(data + a, "sep=", 4) != 0)
        return 0;
    *skip = nl ? n + 1 : n;
    return data[a + 4];
}

/* The header line's verdict: excel when it has a ';' and no ',' outside
 * quotes. *whole: the line's end was seen. */
static glci_agent_csv_dialect_t s_header_dialect(const char *data, size_t len, int *whole)
{
    int quoted = 0, semis = 0, commas = 0;
    size_t i = 0;
    for (; i < len && (quoted || data[i] != '\n'); i++) {
        if (data[i] == '"')
            quoted = !quoted;
        else if (!quoted && data[i] == ';')
            semis++;
        else if (!quoted && data[i] == ',')
            commas++;
    }
    *whole = i < len;
    return semis && !commas ? GLCI_AGENT_CSV_EXCEL : GLCI_AGENT_CSV_COMMA;
}

/* The row in hand is bad: the parser starts afresh on the next line, so
 * every later bad line is listed too (a bad header spoils the data rows). */
static void s_parser_reset(glci_agent_csv_t *c, int line_ended)
{
    if (!c->header_done) {
        c->header_done = 1;
        c->header_bad = 1;
    }
    c->n_fields = 0;
    c->row_bytes = 0;
    c->skip_line = !line_ended;
    csv_free(&c->p);
    s_parser_init(c);
}

static glci_agent_csv_t *s_new(void)
{
    glci_agent_csv_t *c = glci_xcalloc(1, sizeof *c);
    s_parser_init(c);
    c->line = 1;
    return c;
}

glci_agent_csv_t *glci_agent_csv_new(void)
{
    return s_new();
}

/* libcsv is fed one physical line (or the part of it in this chunk) at a
 * time, so the row-end callback knows the line number. A row may not grow
 * past GLCI_AGENT_CSV_ROW_MAX bytes (a quoted field spanning lines
 * included): libcsv keeps a row's text in its own buffer, which is so
 * bounded whatever the file holds. */
static void s_feed_lines(glci_agent_csv_t *c, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        if (c->pending_nl) {
            c->line++;
            c->pending_nl = 0;
        }
        const char *nl = memchr(data + off, '\n', len - off);
        size_t seg = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
        if (c->skip_line) {
            /* the rest of a line already reported */
        } else if (c->row_bytes + seg > GLCI_AGENT_CSV_ROW_MAX) {
            s_error(c, "row longer than %d bytes (no valid row is that long)",
                    GLCI_AGENT_CSV_ROW_MAX);
            s_parser_reset(c, nl != NULL);
        } else {
            c->row_ended = 0;
            if (csv_parse(&c->p, data + off, seg, s_field_cb, s_row_cb, c) != seg) {
                if (csv_error(&c->p) == CSV_ENOMEM || csv_error(&c->p) == CSV_ETOOBIG) {
                    fprintf(stderr, "glci-agent: out of memory parsing CSV\n");
                    abort();
                }
                s_error(c, "malformed quoting (RFC 4180: a quote inside a field must be "
                        "doubled, a quoted field must end with a quote)");
                s_parser_reset(c, nl != NULL);
            } else {
                c->row_bytes = c->row_ended ? 0 : c->row_bytes + seg;
            }
        }
        if (nl) {
            c->skip_line = 0;
            c->pending_nl = 1;
        }
        off += seg;
    }
}

/* 1 if data starts with a UTF-16 byte-order mark (either order). */
static int s_utf16_bom(const char *data, size_t n)
{
    const unsigned char *u = (const unsigned char *)data;
    return n >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff));
}

/* Chooses the dialect from the bytes held (all there is when final): the
 * caller's, else a "sep=" line, else the header. Then parses them. */
static int s_choose(glci_agent_csv_t *c, int final)
{
    /* nothing held yet (an empty file) is no buffer: d + 0 on NULL is
     * undefined behaviour */
    const char *d = c->probe ? c->probe : "";
    size_t len = c->n_probe, off = 0, skip = 0;
    /* a UTF-16 text ("Unicode text" of a spreadsheet): one line saying so,
     * not the garbled header it would parse into; the rest is not read */
    if (!final && len < 2 && len > 0 && ((unsigned char)d[0] == 0xff ||
                                         (unsigned char)d[0] == 0xfe))
        return 0;
    if (s_utf16_bom(d, len)) {
        s_file_error(c, "not UTF-8: the file starts with a UTF-16 byte-order mark (save it as "
                     "\"CSV UTF-8\")");
        c->chosen = c->dead = 1;
        if (c->dialect == GLCI_AGENT_CSV_AUTO)
            c->dialect = GLCI_AGENT_CSV_COMMA;
        c->dialect_why = "nothing (the file is not UTF-8)";
        free(c->probe);
        c->probe = NULL;
        c->n_probe = 0;
        return 0;
    }
    /* a UTF-8 byte-order mark before the header (even a quoted one) */
    if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
        off = 3;
    else if (!final && len < 3 && memcmp(d, "\xef\xbb\xbf", len) == 0)
        return 0;
    int whole = 0;
    char sep = 0;
    if (memchr(d + off, '\n', len - off) || final || len >= S_PROBE_MAX)
        sep = s_sep_line(d + off, len - off, &skip);
    else
        return 0;
    glci_agent_csv_dialect_t hd = GLCI_AGENT_CSV_COMMA;
    if (sep != ';' && sep != ',') {
        hd = s_header_dialect(d + off, len - off, &whole);
        if (!whole && !final && len < S_PROBE_MAX)
            return 0;
    }
    if (c->dialect != GLCI_AGENT_CSV_AUTO) {
        c->dialect_why = "the csv_dialect setting";
    } else if (sep == ';' || sep == ',') {
        c->dialect = sep == ';' ? GLCI_AGENT_CSV_EXCEL : GLCI_AGENT_CSV_COMMA;
        c->dialect_why = "its sep= line";
    } else {
        c->dialect = hd;
        c->dialect_why = "its header";
    }
    if (sep == ';' || sep == ',') {
        off += skip;
        c->line++;
    }
    c->chosen = 1;
    csv_free(&c->p);
    s_parser_init(c);
    s_feed_lines(c, d + off, len - off);
    free(c->probe);
    c->probe = NULL;
    c->n_probe = 0;
    return 1;
}

void glci_agent_csv_feed(glci_agent_csv_t *c, const char *data, size_t len)
{
    if (c->dead)
        return;
    if (c->chosen) {
        s_feed_lines(c, data, len);
        return;
    }
    /* held until the dialect is chosen: at most S_PROBE_MAX bytes */
    size_t take = S_PROBE_MAX - c->n_probe;
    if (take > len)
        take = len;
    c->probe = glci_xrealloc(c->probe, c->n_probe + take + 1);
    memcpy(c->probe + c->n_probe, data, take);
    c->n_probe += take;
    if (s_choose(c, 0) && take < len)
        s_feed_lines(c, data + take, len - take);
}

void glci_agent_csv_finish(glci_agent_csv_t *c)
{
    if (!c->chosen)
        s_choose(c, 1);
    if (c->dead)
        return;
    if (!c->skip_line && csv_fini(&c->p, s_field_cb, s_row_cb, c) != 0)
        s_error(c, "malformed quoting: a quoted field is not closed at the end of the file");
    csv_free(&c->p);
    s_parser_init(c);        /* so that glci_agent_csv_free always has one to free */
    if (c->rest)
        return;
    /* A header and no rows is a valid file of no values (SPEC §5 fails a
     * file only for a malformed line): the caller says nothing was queued. */
    if (!c->header_done && !c->n_errors) {
        c->line = 1;
        s_error(c, "bad header: the file is empty (header indicator,period,value required)");
    }
}

glci_agent_csv_t *glci_agent_csv_new_as(glci_agent_csv_dialect_t d)
{
    glci_agent_csv_t *c = s_new();
    c->dialect = d;
    return c;
}

void glci_agent_csv_literal(glci_agent_csv_t *csv)
{
    csv->literal = 1;
}

glci_agent_csv_t *glci_agent_csv_parse(const char *data, size_t len)
{
    return glci_agent_csv_parse_as(data, len, GLCI_AGENT_CSV_AUTO);
}

glci_agent_csv_t *glci_agent_csv_parse_as(const char *data, size_t len,
                                          glci_agent_csv_dialect_t d)
{
    glci_agent_csv_t *c = glci_agent_csv_new_as(d);
    glci_agent_csv_feed(c, data, len);
    glci_agent_csv_finish(c);
    return c;
}

void glci_agent_csv_layout(const glci_agent_csv_t *csv, glci_agent_csv_layout_t *out)
{
    memset(out, 0, sizeof *out);
    out->usable = csv->header_done && !csv->header_bad;
    for (int k = 0; k < COL_N && k < GLCI_AGENT_CSV_COLS; k++)
        out->col[k] = csv->col[k];
    out->n_header = csv->n_header;
    out->next_line = csv->line + (csv->pending_nl ? 1 : 0);
    out->at_line_start = csv->pending_nl;
    out->dialect = csv->dialect;
    out->dialect_why = csv->dialect_why;
}

glci_agent_csv_t *glci_agent_csv_parse_rest(const glci_agent_csv_layout_t *layout,
                                            const char *data, size_t len)
{
    glci_agent_csv_t *c = s_new();
    c->rest = 1;
    c->chosen = 1;
    c->dialect = layout->dialect;
    c->dialect_why = layout->dialect_why;
    csv_free(&c->p);
    s_parser_init(c);
    c->header_done = 1;
    c->header_bad = !layout->usable;
    for (int k = 0; k < COL_N && k < GLCI_AGENT_CSV_COLS; k++)
        c->col[k] = layout->col[k];
    c->n_header = layout->n_header;
    c->line = layout->next_line;
    if (!layout->at_line_start)
        s_error(c, "the text added continues a line that was already taken (the row taken "
                "there may have been cut)");
    glci_agent_csv_feed(c, data, len);
    glci_agent_csv_finish(c);
    return c;
}

int glci_agent_csv_read_fd(int fd, const char *path, uint64_t max_bytes,
                           glci_agent_csv_dialect_t d, glci_agent_csv_t **out, uint64_t *nread,
                           char *err, size_t errlen)
{
    *out = NULL;
    *nread = 0;
    char *buf = glci_xmalloc(S_READ_CHUNK);
    glci_agent_csv_t *c = glci_agent_csv_new_as(d);
    uint64_t total = 0;
    int over = 0;
    for (;;) {
        ssize_t n = read(fd, buf, S_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
            free(buf);
            glci_agent_csv_free(&c);
            return GLCI_AGENT_EIO;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (max_bytes && total > max_bytes) {
            over = 1;
            break;
        }
        glci_agent_csv_feed(c, buf, (size_t)n);
    }
    free(buf);
    *nread = total;
    if (over) {
        /* what was parsed so far says nothing about a file never read whole */
        glci_agent_csv_free(&c);
        c = glci_agent_csv_new_as(d);
        c->chosen = 1;
        c->dialect = d == GLCI_AGENT_CSV_EXCEL ? d : GLCI_AGENT_CSV_COMMA;
        c->dialect_why = "nothing (the file was not read)";
        s_file_error(c, "more than %llu bytes, larger than the largest file taken; split it "
                     "into smaller files", (unsigned long long)max_bytes);
        csv_free(&c->p);
        s_parser_init(c);
    } else {
        glci_agent_csv_finish(c);
    }
    *out = c;
    return GLCI_AGENT_OK;
}

int glci_agent_csv_read_file(const char *path, uint64_t max_bytes, glci_agent_csv_dialect_t d,
                             glci_agent_csv_t **out, char *err, size_t errlen)
{
    *out = NULL;
    /* A pipe or a FIFO is read too (push --csv /dev/stdin), never past
     * max_bytes; a folder is refused. "-" is standard input, as enrol's. */
    int std_in = strcmp(path, "-") == 0;
    if (std_in)
        path = "stdin";
    int fd = std_in ? fcntl(0, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, S_ISDIR(sb.st_mode) ? "is a folder, not a file"
                                                                 : strerror(errno));
        close(fd);
        return GLCI_AGENT_EIO;
    }
    if (S_ISREG(sb.st_mode) && max_bytes && (uint64_t)sb.st_size > max_bytes) {
        snprintf(err, errlen, "%s: %lld bytes, larger than the largest file taken (%llu "
                 "bytes); split it into smaller files", path, (long long)sb.st_size,
                 (unsigned long long)max_bytes);
        close(fd);
        return GLCI_AGENT_EINPUT;
    }
    uint64_t nread;
    int rc = glci_agent_csv_read_fd(fd, path, max_bytes, d, out, &nread, err, errlen);
    close(fd);
    return rc;
}

void glci_agent_csv_free(glci_agent_csv_t **self)
{
    if (!self || !*self)
        return;
    glci_agent_csv_t *c = *self;
    for (size_t i = 0; i < c->n_listed; i++)
        free(c->errors[i]);
    free(c->errors);
    free(c->rows);
    free(c->probe);
    csv_free(&c->p);
    while (c->blocks) {
        s_block_t *next = c->blocks->next;
        free(c->blocks);
        c->blocks = next;
    }
    free(c);
    *self = NULL;
}

size_t glci_agent_csv_rows(const glci_agent_csv_t *csv, const glci_obs_t **rows)
{
    *rows = csv->rows;
    return csv->n_rows;
}

size_t glci_agent_csv_n_unfilled(const glci_agent_csv_t *csv)
{
    return csv->n_unfilled;
}

size_t glci_agent_csv_n_errors(const glci_agent_csv_t *csv)
{
    return csv->n_errors;
}

size_t glci_agent_csv_n_listed(const glci_agent_csv_t *csv)
{
    return csv->n_listed;
}

const char *glci_agent_csv_error(const glci_agent_csv_t *csv, size_t i)
{
    return i < csv->n_listed ? csv->errors[i] : NULL;
}
