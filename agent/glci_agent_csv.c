/* Spool CSV reading and validation with libcsv: see glci_agent_csv.h.
 *
 * The data is fed to libcsv one physical line at a time, so the row-end
 * callback knows the line number. Field texts are copied out of libcsv's
 * buffer into the current row; accepted rows keep their strings in an
 * arena of large blocks, so a million-row file costs a few allocations. */
#include "glci_agent_csv.h"

#include <csv.h>
#include <errno.h>
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
#include "glci_text.h"
#include "glci_utf8.h"

enum { COL_INDICATOR, COL_PERIOD, COL_VALUE, COL_OBSERVED_AT, COL_SOURCE, COL_N };
static const char *const s_col_names[COL_N] = {
    "indicator", "period", "value", "observed_at", "source"
};

#define S_MAX_FIELDS 64
#define S_FIELD_CAP 256       /* longer field texts are cut, but their length kept */
#define S_BLOCK (64 * 1024)

typedef struct s_block {
    struct s_block *next;
    size_t used;
    char data[];
} s_block_t;

struct glci_agent_csv {
    glci_obs_t *rows;
    size_t n_rows, cap_rows;
    char **errors;
    size_t n_errors, cap_errors;
    s_block_t *blocks;

    /* parse state */
    size_t line;
    int header_done, header_bad;
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

static void s_error(glci_agent_csv_t *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->n_errors == c->cap_errors) {
        c->cap_errors = c->cap_errors ? 2 * c->cap_errors : 16;
        c->errors = glci_xrealloc(c->errors, c->cap_errors * sizeof *c->errors);
    }
    char line[600];
    snprintf(line, sizeof line, "line %zu: %s", c->line, msg);
    c->errors[c->n_errors++] = glci_xstrdup(line);
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
    for (size_t f = 0; f < c->n_fields; f++) {
        char *name = c->field[f];
        char echo[4 * S_ECHO_MAX + 8];
        s_trim(name);
        int found = -1;
        for (int k = 0; k < COL_N; k++)
            if (strcmp(name, s_col_names[k]) == 0)
                found = k;
        if (found < 0) {
            s_error(c, "bad header: unknown column '%s' (expected indicator, period, value, "
                    "observed_at, source)", s_echo(name, echo, sizeof echo));
            c->header_bad = 1;
        } else if (c->col[found] >= 0) {
            s_error(c, "bad header: column '%s' appears twice", name);
            c->header_bad = 1;
        } else {
            c->col[found] = (int)f;
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

static void s_row(glci_agent_csv_t *c)
{
    char why[512] = "";
    char echo[4 * S_ECHO_MAX + 8];
    if (c->n_fields != c->n_header) {
        s_error(c, "%zu fields, the header has %zu", c->n_fields, c->n_header);
        return;
    }
    for (size_t f = 0; f < c->n_fields; f++) {
        const char *name = "?";
        for (int k = 0; k < COL_N; k++)
            if (c->col[k] == (int)f)
                name = s_col_names[k];
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

    double value = 0;
    const char *vtext = c->field[c->col[COL_VALUE]];
    if (!vtext[0])
        s_add(why, sizeof why, "value is missing");
    else if (c->field_len[c->col[COL_VALUE]] > 64 || glci_parse_double(vtext, &value) != 0)
        s_add(why, sizeof why, "value '%s' is not a number", s_echo(vtext, echo, sizeof echo));
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
    if (!c->header_done)
        s_header(c);
    else if (!c->header_bad)
        s_row(c);
    c->n_fields = 0;
}

glci_agent_csv_t *glci_agent_csv_parse(const char *data, size_t len)
{
    glci_agent_csv_t *c = glci_xcalloc(1, sizeof *c);
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        abort();      /* only fails on allocation */
    size_t off = 0;
    c->line = 1;
    /* a UTF-8 byte-order mark before the header (even a quoted one) */
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        off = 3;
    while (off < len) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t seg = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
        if (csv_parse(&p, data + off, seg, s_field_cb, s_row_cb, c) != seg) {
            if (csv_error(&p) == CSV_ENOMEM || csv_error(&p) == CSV_ETOOBIG) {
                fprintf(stderr, "glci-agent: out of memory parsing CSV\n");
                abort();
            }
            s_error(c, "malformed quoting (RFC 4180: a quote inside a field must be "
                    "doubled, a quoted field must end with a quote)");
            /* The row is bad; start afresh on the next line so every later
             * bad line is listed too. A bad header spoils the data rows. */
            if (!c->header_done) {
                c->header_done = 1;
                c->header_bad = 1;
            }
            c->n_fields = 0;
            csv_free(&p);
            if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
                abort();
        }
        off += seg;
        if (nl && off < len)
            c->line++;
    }
    if (csv_fini(&p, s_field_cb, s_row_cb, c) != 0)
        s_error(c, "malformed quoting: a quoted field is not closed at the end of the file");
    csv_free(&p);
    if (!c->header_done && !c->n_errors) {
        c->line = 1;
        s_error(c, "bad header: the file is empty (header indicator,period,value required)");
    } else if (c->header_done && !c->header_bad && c->n_rows == 0 && c->n_errors == 0) {
        s_error(c, "no data rows after the header");
    }
    return c;
}

int glci_agent_csv_read_fd(int fd, const char *path, glci_agent_csv_t **out,
                           uint64_t *nread, char *err, size_t errlen)
{
    *out = NULL;
    *nread = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? 2 * cap : 65536;
            buf = glci_xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
            free(buf);
            return GLCI_AGENT_EIO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *nread = len;
    *out = glci_agent_csv_parse(buf, len);
    free(buf);
    return GLCI_AGENT_OK;
}

int glci_agent_csv_read_file(const char *path, glci_agent_csv_t **out,
                             char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = GLCI_AGENT_OK;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? 2 * cap : 65536;
            buf = glci_xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
                rc = GLCI_AGENT_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc == GLCI_AGENT_OK)
        *out = glci_agent_csv_parse(buf, len);
    free(buf);
    return rc;
}

void glci_agent_csv_free(glci_agent_csv_t **self)
{
    if (!self || !*self)
        return;
    glci_agent_csv_t *c = *self;
    for (size_t i = 0; i < c->n_errors; i++)
        free(c->errors[i]);
    free(c->errors);
    free(c->rows);
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

size_t glci_agent_csv_n_errors(const glci_agent_csv_t *csv)
{
    return csv->n_errors;
}

const char *glci_agent_csv_error(const glci_agent_csv_t *csv, size_t i)
{
    return i < csv->n_errors ? csv->errors[i] : NULL;
}
