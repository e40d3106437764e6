/* The framework loader: reads the INI format of SPEC §2 with inih into the
 * model of glci_index.h, refuses every malformed file with
 * "FILE:LINE: message", computes the content hash and keeps the id lookups.
 *
 * inih (Debian's build) reports neither line numbers nor empty sections to
 * the handler, so the text is fed through the shared reader of glci_ini.h
 * (it counts lines, strips leading blanks so an indented line is never
 * taken as a continuation of the previous value, refuses NUL bytes and
 * over-long lines), and ours records every [section] header with its line.
 * inih processes one line at a time, so when the handler runs, the reader's
 * line counter is the handler's line.
 *
 * Parsing is two phases: the handler stores the raw text of every known key
 * with its line in the current section (unknown and repeated keys are
 * refused at once); then the model is built in file order, converting and
 * checking each value, resolving references and checking that no area or
 * focus area is empty. The first error found wins. */
#include "glci_index.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <sodium.h>

#include "glci_alloc.h"
#include "glci_file.h"
#include "glci_ini.h"
#include "glci_text.h"
#include "glci_utf8.h"

#define S_ID_MAX GLCI_FRAMEWORK_ID_MAX
#define S_PERIOD_MIN 1
#define S_PERIOD_MAX 9999
#define S_CARRY_MAX 100
/* Most years between reporting rounds, and most periods after the current
 * year a value may name (SPEC §7). */
#define S_CADENCE_MAX 100
#define S_FUTURE_MAX 100
/* Largest weight accepted. The engine sums weight * score (scores <= 100)
 * over up to 65,535 indicators: with weights up to 1e6 every sum stays far
 * below DBL_MAX, so no sum can overflow to inf and no index become NaN. */
#define S_WEIGHT_MAX 1e6
/* Largest magnitude of a number in an indicator's unit (lower, upper, min,
 * max, green, red). With every value v in [min, max] within it too,
 * 100 * (v - lower), 100 * (upper - v) and upper - lower stay below 2e102,
 * far from DBL_MAX: no score is inf / inf (NaN, which the clamp turned into
 * 0) and none rounds to inf on the way (docs/FRAMEWORK.md argues it). */
#define S_UNIT_MAX 1e100
#define S_UNIT_MAX_TEXT "1e100"
/* Most indicators accepted: the store keys an observation by the indicator's
 * index in 16 bits, so a larger framework would make keys collide. */
#define S_IND_MAX 65535u

const char *glci_index_strerror(int code)
{
    switch (code) {
    case GLCI_INDEX_OK:     return "ok";
    case GLCI_INDEX_EIO:    return "framework file cannot be read";
    case GLCI_INDEX_EPARSE: return "framework is malformed";
    case GLCI_INDEX_EINVAL: return "invalid argument";
    default:                return "unknown index error";
    }
}

/* ---- Section kinds and their keys ------------------------------------ */

enum { S_FRAMEWORK, S_AREA, S_FOCUS, S_INDICATOR, S_NKINDS };

#define S_MAX_KEYS 11

static const char *const s_kind_name[S_NKINDS] = {
    "framework", "area", "focus", "indicator"
};

static const char *const s_keys[S_NKINDS][S_MAX_KEYS + 1] = {
    [S_FRAMEWORK] = {"id", "version", "min_coverage", "carry_forward",
                     "aggregation", "first_period", "last_period", "cadence", "due",
                     "future_periods", NULL},
    [S_AREA]      = {"name", "weight", NULL},
    [S_FOCUS]     = {"area", "name", "weight", NULL},
    [S_INDICATOR] = {"focus", "name", "unit", "direction", "lower", "upper",
                     "min", "max", "weight", "green", "red", NULL},
};

/* Indices into s_keys, per kind. */
enum { FW_ID, FW_VERSION, FW_MIN_COVERAGE, FW_CARRY, FW_AGG, FW_FIRST, FW_LAST,
       FW_CADENCE, FW_DUE, FW_FUTURE };
enum { AR_NAME, AR_WEIGHT };
enum { FO_AREA, FO_NAME, FO_WEIGHT };
enum { IN_FOCUS, IN_NAME, IN_UNIT, IN_DIRECTION, IN_LOWER, IN_UPPER, IN_MIN,
       IN_MAX, IN_WEIGHT, IN_GREEN, IN_RED };

typedef struct {
    int kind;
    char *id;                       /* NULL for [framework] */
    int line;                       /* line of the [header] */
    char *value[S_MAX_KEYS];        /* raw text, NULL if the key is absent */
    int vline[S_MAX_KEYS];
} s_section_t;

typedef struct {
    const char *name;               /* for messages */
    glci_ini_text_t src;            /* the text; src.line: the line last handed to inih */
    s_section_t *sec;
    size_t n_sec, cap_sec;
    s_section_t *cur;               /* section the next keys belong to */
    int err_line;                   /* 0: none yet; -1: error without line */
    char err[256];
} s_parse_t;

static void s_fail(s_parse_t *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error. Messages quote the file's text (keys, values,
 * ids), which may hold any byte: the whole message is made printable here,
 * once, so it stays one line of valid UTF-8. */
static void s_fail(s_parse_t *ps, int line, const char *fmt, ...)
{
    if (ps->err_line)
        return;                     /* the first error wins */
    char raw[sizeof ps->err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    glci_utf8_escape(raw, sizeof raw, ps->err, sizeof ps->err);
    ps->err_line = line > 0 ? line : -1;
    ps->src.stop = 1;
}

static int s_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int s_valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > S_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* A [header] line (already stripped of leading blanks), the reader's
 * header callback: records the section or fails with the reason; nonzero
 * once the text has failed. */
static int s_header(void *ctx, const char *line, size_t n)
{
    s_parse_t *ps = ctx;
    const char *close = memchr(line, ']', n);
    if (!close) {
        s_fail(ps, ps->src.line, "section header without closing ']'");
        return -1;
    }
    /* After ']' only blanks or a comment may follow. */
    for (const char *p = close + 1; p < line + n; p++) {
        if (*p == ';' || *p == '#')
            break;
        if (!s_is_blank(*p)) {
            s_fail(ps, ps->src.line, "unexpected text after ']'");
            return -1;
        }
    }
    const char *b = line + 1, *e = close;
    while (b < e && s_is_blank(*b))
        b++;
    while (e > b && s_is_blank(e[-1]))
        e--;
    char *head = glci_xstrndup(b, (size_t)(e - b));
    const char *colon = strchr(head, ':');
    size_t klen = colon ? (size_t)(colon - head) : strlen(head);
    int kind = -1;
    for (int k = 0; k < S_NKINDS; k++)
        if (strlen(s_kind_name[k]) == klen && memcmp(head, s_kind_name[k], klen) == 0)
            kind = k;
    if (kind < 0) {
        s_fail(ps, ps->src.line, "unknown section kind '%.*s' (expected framework, "
               "area:ID, focus:ID or indicator:ID)", (int)klen, head);
        goto cleanup;
    }
    if (kind == S_FRAMEWORK && colon) {
        s_fail(ps, ps->src.line, "[framework] takes no id");
        goto cleanup;
    }
    if (kind != S_FRAMEWORK && !colon) {
        s_fail(ps, ps->src.line, "[%s] needs an id: [%s:ID]", head, head);
        goto cleanup;
    }
    if (colon && !s_valid_id(colon + 1)) {
        s_fail(ps, ps->src.line, "bad id '%s' (1-%d characters of A-Z a-z 0-9 . _ -)",
               colon + 1, S_ID_MAX);
        goto cleanup;
    }
    if (ps->n_sec == ps->cap_sec) {
        ps->cap_sec = ps->cap_sec ? 2 * ps->cap_sec : 32;
        ps->sec = glci_xrealloc(ps->sec, ps->cap_sec * sizeof *ps->sec);
    }
    s_section_t *s = &ps->sec[ps->n_sec++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->id = colon ? glci_xstrdup(colon + 1) : NULL;
    s->line = ps->src.line;
    ps->cur = s;
cleanup:
    free(head);
    return ps->err_line != 0;
}

static int s_handler(void *user, const char *section, const char *name,
                     const char *value)
{
    s_parse_t *ps = user;
    (void)section;              /* inih truncates it; ours is ps->cur */
    if (ps->err_line)
        return 0;
    if (!ps->cur) {
        s_fail(ps, ps->src.line, "key '%s' outside any section", name);
        return 0;
    }
    s_section_t *s = ps->cur;
    for (int k = 0; s_keys[s->kind][k]; k++) {
        if (strcmp(s_keys[s->kind][k], name) != 0)
            continue;
        if (s->value[k]) {
            s_fail(ps, ps->src.line, "duplicate key '%s' (first on line %d)", name,
                   s->vline[k]);
            return 0;
        }
        s->value[k] = glci_xstrdup(value);
        s->vline[k] = ps->src.line;
        return 1;
    }
    s_fail(ps, ps->src.line, "unknown key '%s' in [%s%s%s]", name, s_kind_name[s->kind],
           s->id ? ":" : "", s->id ? s->id : "");
    return 0;
}

/* ---- Id lookup: open addressing, one table per kind ------------------ */

typedef struct {
    uint32_t mask;              /* capacity - 1 (a power of two) */
    int32_t *slot;              /* index into the kind's array, or -1 */
} s_table_t;

typedef struct {
    s_table_t t[S_NKINDS];      /* [S_FRAMEWORK] unused */
} s_lookup_t;

/* Eight bytes at a time: the store looks up every observation's indicator
 * id here, and a byte-at-a-time hash (one dependent multiply per byte) was
 * 5 % of the store thread's time under ingest. Whole words are loaded as
 * such; the last is the id's last eight bytes (overlapping the word before)
 * or, for an id shorter than eight, its bytes gathered in a register, so no
 * load waits on a narrower store. */
static uint64_t s_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

static uint64_t s_hash_id(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w = 0;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            w |= (uint64_t)(unsigned char)s[i] << (8 * i);
        h = s_mix(h, w);
    } else {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            h = s_mix(h, w);
        }
        memcpy(&w, s + n - 8, 8);
        h = s_mix(h, w);
    }
    h ^= h >> 33;             /* MurmurHash3's finalizer: every bit reaches the low ones */
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static void s_table_init(s_table_t *t, uint32_t n)
{
    uint32_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    t->mask = cap - 1;
    t->slot = glci_xmalloc(cap * sizeof *t->slot);
    for (uint32_t i = 0; i < cap; i++)
        t->slot[i] = -1;
}

static const char *s_id_of(const glci_framework_t *fw, int kind, int32_t i)
{
    switch (kind) {
    case S_AREA:  return fw->areas[i].id;
    case S_FOCUS: return fw->focus[i].id;
    default:      return fw->ind[i].id;
    }
}

static int32_t s_table_find(const glci_framework_t *fw, int kind, const char *id)
{
    const s_lookup_t *lk = fw->lookup;
    if (!lk || !id)
        return -1;
    const s_table_t *t = &lk->t[kind];
    for (uint32_t h = (uint32_t)s_hash_id(id) & t->mask;; h = (h + 1) & t->mask) {
        int32_t i = t->slot[h];
        if (i < 0)
            return -1;
        if (strcmp(s_id_of(fw, kind, i), id) == 0)
            return i;
    }
}

/* Inserts index i of kind; returns the index already there for the same id,
 * or -1 when inserted. */
static int32_t s_table_add(glci_framework_t *fw, int kind, int32_t i)
{
    s_table_t *t = &((s_lookup_t *)fw->lookup)->t[kind];
    const char *id = s_id_of(fw, kind, i);
    for (uint32_t h = (uint32_t)s_hash_id(id) & t->mask;; h = (h + 1) & t->mask) {
        int32_t j = t->slot[h];
        if (j < 0) {
            t->slot[h] = i;
            return -1;
        }
        if (strcmp(s_id_of(fw, kind, j), id) == 0)
            return j;
    }
}

int32_t glci_framework_indicator(const glci_framework_t *fw, const char *id)
{
    return s_table_find(fw, S_INDICATOR, id);
}

int32_t glci_framework_area(const glci_framework_t *fw, const char *id)
{
    return s_table_find(fw, S_AREA, id);
}

int32_t glci_framework_focus(const glci_framework_t *fw, const char *id)
{
    return s_table_find(fw, S_FOCUS, id);
}

int glci_indicator_rising(const glci_indicator_t *ind)
{
    /* The score rises with the value for `higher` over lower < upper and for
     * `lower` over lower > upper; it falls in the two other cases. */
    return (ind->direction == GLCI_DIR_HIGHER) == (ind->upper > ind->lower);
}

const char *glci_indicator_better_word(const glci_indicator_t *ind)
{
    return glci_indicator_rising(ind) ? "higher" : "lower";
}

int glci_indicator_better(const glci_indicator_t *ind, double a, double b)
{
    int c = (a > b) - (a < b);
    return glci_indicator_rising(ind) ? c : -c;
}

/* ---- Value conversion ------------------------------------------------- */

static const char *s_sec_label(const s_section_t *s, char *buf, size_t len)
{
    snprintf(buf, len, "[%s%s%s]", s_kind_name[s->kind], s->id ? ":" : "",
             s->id ? s->id : "");
    return buf;
}

/* Required string: fails at the section's line when absent, at its own
 * when empty or not printable UTF-8 (names, units and ids reach tables,
 * JSON and HTML, which need text). */
static char *s_req_str(s_parse_t *ps, const s_section_t *s, int k)
{
    char lab[96];
    if (!s->value[k]) {
        s_fail(ps, s->line, "missing field '%s' in %s", s_keys[s->kind][k],
               s_sec_label(s, lab, sizeof lab));
        return NULL;
    }
    if (!*s->value[k]) {
        s_fail(ps, s->vline[k], "empty value for '%s' in %s", s_keys[s->kind][k],
               s_sec_label(s, lab, sizeof lab));
        return NULL;
    }
    const char *why = glci_utf8_problem_framework(s->value[k]);
    if (why) {
        s_fail(ps, s->vline[k], "'%s' in %s %s", s_keys[s->kind][k],
               s_sec_label(s, lab, sizeof lab), why);
        return NULL;
    }
    return glci_xstrdup(s->value[k]);
}

/* A finite number; def is used when absent and not required. Returns 0 or -1. */
static int s_num(s_parse_t *ps, const s_section_t *s, int k, int required,
                 double def, double *out)
{
    char lab[96];
    if (!s->value[k]) {
        if (required) {
            s_fail(ps, s->line, "missing field '%s' in %s", s_keys[s->kind][k],
                   s_sec_label(s, lab, sizeof lab));
            return -1;
        }
        *out = def;
        return 0;
    }
    double v;
    if (glci_parse_double(s->value[k], &v) != 0 || !isfinite(v)) {
        s_fail(ps, s->vline[k], "'%s' is not a finite number: '%s'",
               s_keys[s->kind][k], s->value[k]);
        return -1;
    }
    *out = v == 0.0 ? 0.0 : v;      /* no negative zero */
    return 0;
}

static int s_weight(s_parse_t *ps, const s_section_t *s, int k, double *out)
{
    if (s_num(ps, s, k, 0, 1.0, out) != 0)
        return -1;
    if (!(*out > 0)) {
        s_fail(ps, s->vline[k], "weight must be positive, not '%s'", s->value[k]);
        return -1;
    }
    if (*out > S_WEIGHT_MAX) {
        s_fail(ps, s->vline[k], "weight must be at most 1000000, not '%s'", s->value[k]);
        return -1;
    }
    return 0;
}

/* A required number in the indicator's unit, within +-S_UNIT_MAX. */
static int s_unit_num(s_parse_t *ps, const s_section_t *s, int k, double *out)
{
    if (s_num(ps, s, k, 1, 0, out) != 0)
        return -1;
    if (fabs(*out) > S_UNIT_MAX) {
        s_fail(ps, s->vline[k], "'%s' must be between -" S_UNIT_MAX_TEXT " and "
               S_UNIT_MAX_TEXT ", not '%s'", s_keys[s->kind][k], s->value[k]);
        return -1;
    }
    return 0;
}

static int s_int(s_parse_t *ps, const s_section_t *s, int k, int64_t def,
                 int64_t lo, int64_t hi, int64_t *out)
{
    if (!s->value[k]) {
        *out = def;
        return 0;
    }
    if (glci_parse_int64(s->value[k], INT64_MIN, INT64_MAX, out) != 0) {
        s_fail(ps, s->vline[k], "'%s' is not an integer: '%s'",
               s_keys[s->kind][k], s->value[k]);
        return -1;
    }
    if (*out < lo || *out > hi) {
        s_fail(ps, s->vline[k], "'%s' must be in [%lld, %lld], not %lld",
               s_keys[s->kind][k], (long long)lo, (long long)hi, (long long)*out);
        return -1;
    }
    return 0;
}

/* ---- Building the model ---------------------------------------------- */

/* The reporting cycle (SPEC §7): cadence, due (MM-DD of the year after
 * the period) and future_periods, each remembered as set or not for the
 * hash. The defaults (every year, 03-31, none ahead) are those of a file
 * that names none of them. */
static int s_build_cycle(s_parse_t *ps, const s_section_t *s, glci_framework_t *fw)
{
    int64_t cadence, future;
    if (s_int(ps, s, FW_CADENCE, 1, 1, S_CADENCE_MAX, &cadence) != 0 ||
        s_int(ps, s, FW_FUTURE, 0, 0, S_FUTURE_MAX, &future) != 0)
        return -1;
    fw->cadence = (int32_t)cadence;
    fw->future_periods = (int32_t)future;
    fw->due_month = 3;
    fw->due_day = 31;
    fw->cycle_set = (s->value[FW_CADENCE] ? GLCI_CYCLE_CADENCE : 0u) |
                    (s->value[FW_DUE] ? GLCI_CYCLE_DUE : 0u) |
                    (s->value[FW_FUTURE] ? GLCI_CYCLE_FUTURE : 0u);
    const char *due = s->value[FW_DUE];
    if (!due)
        return 0;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int ok = strlen(due) == 5 && due[2] == '-';
    for (int i = 0; ok && i < 5; i++)
        ok = i == 2 || (due[i] >= '0' && due[i] <= '9');
    if (!ok) {
        s_fail(ps, s->vline[FW_DUE], "due must be a day of the year as MM-DD (e.g. 03-31), "
               "not '%s'", due);
        return -1;
    }
    int m = (due[0] - '0') * 10 + (due[1] - '0'), d = (due[3] - '0') * 10 + (due[4] - '0');
    if (m == 2 && d == 29) {
        s_fail(ps, s->vline[FW_DUE], "due 02-29 is not a day of every year (use 02-28 or "
               "03-01)");
        return -1;
    }
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) {
        s_fail(ps, s->vline[FW_DUE], "due %s is not a day of the year (MM-DD)", due);
        return -1;
    }
    fw->due_month = m;
    fw->due_day = d;
    return 0;
}

static int s_build_framework(s_parse_t *ps, const s_section_t *s, glci_framework_t *fw)
{
    int64_t cf, first, last;
    if (!(fw->id = s_req_str(ps, s, FW_ID)) ||
        !(fw->version = s_req_str(ps, s, FW_VERSION)))
        return -1;
    if (s_num(ps, s, FW_MIN_COVERAGE, 0, 0.8, &fw->min_coverage) != 0)
        return -1;
    if (fw->min_coverage < 0 || fw->min_coverage > 1) {
        s_fail(ps, s->vline[FW_MIN_COVERAGE], "min_coverage must be in [0, 1], not '%s'",
               s->value[FW_MIN_COVERAGE]);
        return -1;
    }
    if (s->value[FW_CARRY]) {
        int64_t v;
        if (glci_parse_int64(s->value[FW_CARRY], INT64_MIN, INT64_MAX, &v) == 0 && v < 0) {
            s_fail(ps, s->vline[FW_CARRY], "carry_forward must not be negative, not %lld",
                   (long long)v);
            return -1;
        }
    }
    if (s_int(ps, s, FW_CARRY, 2, 0, S_CARRY_MAX, &cf) != 0)
        return -1;
    fw->carry_forward = (int32_t)cf;
    const char *agg = s->value[FW_AGG];
    if (!agg || strcmp(agg, "arithmetic") == 0) {
        fw->aggregation = GLCI_AGG_ARITHMETIC;
    } else if (strcmp(agg, "geometric") == 0) {
        fw->aggregation = GLCI_AGG_GEOMETRIC;
    } else {
        s_fail(ps, s->vline[FW_AGG], "aggregation must be arithmetic or geometric, not '%s'",
               agg);
        return -1;
    }
    if (s_int(ps, s, FW_FIRST, 2000, S_PERIOD_MIN, S_PERIOD_MAX, &first) != 0 ||
        s_int(ps, s, FW_LAST, 2100, S_PERIOD_MIN, S_PERIOD_MAX, &last) != 0)
        return -1;
    if (first > last) {
        int line = s->value[FW_LAST] ? s->vline[FW_LAST]
                 : s->value[FW_FIRST] ? s->vline[FW_FIRST] : s->line;
        s_fail(ps, line, "first_period %lld is after last_period %lld",
               (long long)first, (long long)last);
        return -1;
    }
    fw->first_period = (int32_t)first;
    fw->last_period = (int32_t)last;
    return s_build_cycle(ps, s, fw);
}

static int s_build_area(s_parse_t *ps, const s_section_t *s, glci_area_t *a)
{
    a->id = glci_xstrdup(s->id);
    if (!(a->name = s_req_str(ps, s, AR_NAME)))
        return -1;
    return s_weight(ps, s, AR_WEIGHT, &a->weight);
}

static int s_build_focus(s_parse_t *ps, const s_section_t *s, glci_focus_t *f)
{
    f->id = glci_xstrdup(s->id);
    if (!s->value[FO_AREA]) {
        char lab[96];
        s_fail(ps, s->line, "missing field 'area' in %s", s_sec_label(s, lab, sizeof lab));
        return -1;
    }
    if (!(f->name = s_req_str(ps, s, FO_NAME)))
        return -1;
    return s_weight(ps, s, FO_WEIGHT, &f->weight);
}

/* Dashboard thresholds (optional, both or neither): each within the valid
 * range and between the goalposts (a value scoring 100 must not miss green,
 * one scoring 0 must not escape red), green strictly better than red in the
 * order the score gives values (glci_indicator_better). */
static int s_thresholds(s_parse_t *ps, const s_section_t *s, glci_indicator_t *in)
{
    char lab[96];
    int have_g = s->value[IN_GREEN] != NULL, have_r = s->value[IN_RED] != NULL;
    if (!have_g && !have_r)
        return 0;
    if (have_g != have_r) {
        int k = have_g ? IN_GREEN : IN_RED;
        s_fail(ps, s->vline[k], "'%s' needs '%s' too in %s", have_g ? "green" : "red",
               have_g ? "red" : "green", s_sec_label(s, lab, sizeof lab));
        return -1;
    }
    if (s_unit_num(ps, s, IN_GREEN, &in->green) != 0 ||
        s_unit_num(ps, s, IN_RED, &in->red) != 0)
        return -1;
    double lo = in->lower < in->upper ? in->lower : in->upper;
    double hi = in->lower < in->upper ? in->upper : in->lower;
    for (int k = IN_GREEN; k <= IN_RED; k++) {
        double v = k == IN_GREEN ? in->green : in->red;
        if (v < in->min || v > in->max) {
            s_fail(ps, s->vline[k], "%s %s outside the valid range [%s, %s]",
                   s_keys[S_INDICATOR][k], s->value[k], s->value[IN_MIN], s->value[IN_MAX]);
            return -1;
        }
        if (v < lo || v > hi) {
            s_fail(ps, s->vline[k], "%s %s is not between the goalposts %s and %s",
                   s_keys[S_INDICATOR][k], s->value[k], s->value[IN_LOWER],
                   s->value[IN_UPPER]);
            return -1;
        }
    }
    if (glci_indicator_better(in, in->green, in->red) <= 0) {
        s_fail(ps, s->vline[IN_GREEN], "green %s must be better than red %s (direction %s: "
               "better is %s)", s->value[IN_GREEN], s->value[IN_RED],
               in->direction == GLCI_DIR_LOWER ? "lower" : "higher",
               glci_indicator_better_word(in));
        return -1;
    }
    in->has_lights = 1;
    return 0;
}

static int s_build_indicator(s_parse_t *ps, const s_section_t *s, glci_indicator_t *in)
{
    in->id = glci_xstrdup(s->id);
    if (!s->value[IN_FOCUS]) {
        char lab[96];
        s_fail(ps, s->line, "missing field 'focus' in %s", s_sec_label(s, lab, sizeof lab));
        return -1;
    }
    if (!(in->name = s_req_str(ps, s, IN_NAME)) || !(in->unit = s_req_str(ps, s, IN_UNIT)))
        return -1;
    const char *dir = s->value[IN_DIRECTION];
    if (!dir) {
        char lab[96];
        s_fail(ps, s->line, "missing field 'direction' in %s",
               s_sec_label(s, lab, sizeof lab));
        return -1;
    }
    if (strcmp(dir, "higher") == 0) {
        in->direction = GLCI_DIR_HIGHER;
    } else if (strcmp(dir, "lower") == 0) {
        in->direction = GLCI_DIR_LOWER;
    } else {
        s_fail(ps, s->vline[IN_DIRECTION], "direction must be higher or lower, not '%s'",
               dir);
        return -1;
    }
    if (s_unit_num(ps, s, IN_LOWER, &in->lower) != 0 ||
        s_unit_num(ps, s, IN_UPPER, &in->upper) != 0 ||
        s_unit_num(ps, s, IN_MIN, &in->min) != 0 ||
        s_unit_num(ps, s, IN_MAX, &in->max) != 0)
        return -1;
    if (in->lower == in->upper) {
        s_fail(ps, s->vline[IN_UPPER], "goalposts lower and upper are equal (%s)",
               s->value[IN_UPPER]);
        return -1;
    }
    if (in->min > in->max) {
        s_fail(ps, s->vline[IN_MAX], "min %s is greater than max %s", s->value[IN_MIN],
               s->value[IN_MAX]);
        return -1;
    }
    if (s_weight(ps, s, IN_WEIGHT, &in->weight) != 0)
        return -1;
    return s_thresholds(ps, s, in);
}

/* Fills children lists (file order) and refuses empty areas / focus areas. */
static int s_link(s_parse_t *ps, glci_framework_t *fw, const s_section_t *const *area_sec,
                  const s_section_t *const *focus_sec)
{
    for (uint32_t i = 0; i < fw->n_ind; i++)
        fw->focus[fw->ind[i].focus].n_ind++;
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        fw->areas[fw->focus[f].area].n_focus++;
        fw->focus[f].ind = glci_xcalloc(fw->focus[f].n_ind ? fw->focus[f].n_ind : 1,
                                        sizeof(uint32_t));
        fw->focus[f].n_ind = 0;
    }
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        fw->areas[a].focus = glci_xcalloc(fw->areas[a].n_focus ? fw->areas[a].n_focus : 1,
                                          sizeof(uint32_t));
        fw->areas[a].n_focus = 0;
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        glci_focus_t *f = &fw->focus[fw->ind[i].focus];
        f->ind[f->n_ind++] = i;
    }
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        glci_area_t *a = &fw->areas[fw->focus[f].area];
        a->focus[a->n_focus++] = f;
    }
    /* Report the earliest empty section in the file. */
    const s_section_t *bad = NULL;
    for (uint32_t a = 0; a < fw->n_areas; a++)
        if (fw->areas[a].n_focus == 0 && (!bad || area_sec[a]->line < bad->line))
            bad = area_sec[a];
    for (uint32_t f = 0; f < fw->n_focus; f++)
        if (fw->focus[f].n_ind == 0 && (!bad || focus_sec[f]->line < bad->line))
            bad = focus_sec[f];
    if (bad) {
        if (bad->kind == S_AREA)
            s_fail(ps, bad->line, "area '%s' has no focus areas", bad->id);
        else
            s_fail(ps, bad->line, "focus area '%s' has no indicators", bad->id);
        return -1;
    }
    return 0;
}

/* ---- Canonical form and hash ------------------------------------------ */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} s_buf_t;

static void s_put(s_buf_t *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap)
            b->cap = b->cap ? 2 * b->cap : 1024;
        b->p = glci_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void s_put_u64(s_buf_t *b, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    s_put(b, le, 8);
}

static void s_put_str(s_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    s_put_u64(b, n);
    s_put(b, s, n);
}

static void s_put_double(s_buf_t *b, double d)
{
    uint64_t bits;
    if (d == 0.0)
        d = 0.0;
    memcpy(&bits, &d, 8);
    s_put_u64(b, bits);
}

/* Every value of the model, in framework order, strings length-prefixed,
 * numbers as little-endian integers / IEEE-754 bits; references by id. */
static void s_hash(glci_framework_t *fw)
{
    s_buf_t b = {0};
    s_put_str(&b, "glci-framework-1");
    s_put_str(&b, fw->id);
    s_put_str(&b, fw->version);
    s_put_double(&b, fw->min_coverage);
    s_put_u64(&b, (uint64_t)(int64_t)fw->carry_forward);
    s_put_u64(&b, (uint64_t)fw->aggregation);
    s_put_u64(&b, (uint64_t)(int64_t)fw->first_period);
    s_put_u64(&b, (uint64_t)(int64_t)fw->last_period);
    s_put_u64(&b, fw->n_areas);
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        s_put_str(&b, fw->areas[a].id);
        s_put_str(&b, fw->areas[a].name);
        s_put_double(&b, fw->areas[a].weight);
    }
    s_put_u64(&b, fw->n_focus);
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        s_put_str(&b, fw->focus[f].id);
        s_put_str(&b, fw->focus[f].name);
        s_put_str(&b, fw->areas[fw->focus[f].area].id);
        s_put_double(&b, fw->focus[f].weight);
    }
    s_put_u64(&b, fw->n_ind);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *in = &fw->ind[i];
        s_put_str(&b, in->id);
        s_put_str(&b, in->name);
        s_put_str(&b, in->unit);
        s_put_str(&b, fw->focus[in->focus].id);
        s_put_u64(&b, (uint64_t)in->direction);
        s_put_double(&b, in->lower);
        s_put_double(&b, in->upper);
        s_put_double(&b, in->min);
        s_put_double(&b, in->max);
        s_put_double(&b, in->weight);
    }
    /* Dashboard thresholds only when some are set, after everything else:
     * a framework without them keeps the hash it had before they existed,
     * and the counts above make every form parse one way only. */
    uint64_t n_lights = 0;
    for (uint32_t i = 0; i < fw->n_ind; i++)
        n_lights += fw->ind[i].has_lights != 0;
    if (n_lights > 0) {
        s_put_str(&b, "dashboard");
        s_put_u64(&b, n_lights);
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            if (!fw->ind[i].has_lights)
                continue;
            s_put_u64(&b, i);
            s_put_double(&b, fw->ind[i].green);
            s_put_double(&b, fw->ind[i].red);
        }
    }
    /* The reporting cycle likewise: only the keys the file sets, each by
     * name, so a framework without them keeps its hash. */
    if (fw->cycle_set) {
        s_put_str(&b, "cycle");
        s_put_u64(&b, fw->cycle_set);
        if (fw->cycle_set & GLCI_CYCLE_CADENCE)
            s_put_u64(&b, (uint64_t)fw->cadence);
        if (fw->cycle_set & GLCI_CYCLE_DUE)
            s_put_u64(&b, (uint64_t)(fw->due_month * 100 + fw->due_day));
        if (fw->cycle_set & GLCI_CYCLE_FUTURE)
            s_put_u64(&b, (uint64_t)fw->future_periods);
    }
    crypto_hash_sha256(fw->hash, b.p, b.n);
    sodium_bin2hex(fw->hash_hex, sizeof fw->hash_hex, fw->hash, sizeof fw->hash);
    free(b.p);
}

/* ---- Load -------------------------------------------------------------- */

static void s_parse_release(s_parse_t *ps)
{
    for (size_t i = 0; i < ps->n_sec; i++) {
        free(ps->sec[i].id);
        for (int k = 0; k < S_MAX_KEYS; k++)
            free(ps->sec[i].value[k]);
    }
    free(ps->sec);
}

static int s_build(s_parse_t *ps, glci_framework_t *fw)
{
    const s_section_t *fw_sec = NULL;
    const s_section_t **area_sec = NULL, **focus_sec = NULL, **ind_sec = NULL;
    int rc = -1;

    for (size_t i = 0; i < ps->n_sec; i++) {
        const s_section_t *s = &ps->sec[i];
        if (s->kind == S_FRAMEWORK) {
            if (fw_sec) {
                s_fail(ps, s->line, "duplicate [framework] section (first on line %d)",
                       fw_sec->line);
                return -1;
            }
            fw_sec = s;
        }
        fw->n_areas += s->kind == S_AREA;
        fw->n_focus += s->kind == S_FOCUS;
        fw->n_ind += s->kind == S_INDICATOR;
    }
    if (!fw_sec) {
        s_fail(ps, 0, "no [framework] section");
        return -1;
    }
    if (fw->n_areas == 0) {
        s_fail(ps, 0, "no [area:ID] section");
        return -1;
    }
    if (fw->n_ind > S_IND_MAX) {
        s_fail(ps, 0, "too many indicators (%u; at most %u)", fw->n_ind, S_IND_MAX);
        return -1;
    }
    fw->areas = glci_xcalloc(fw->n_areas, sizeof *fw->areas);
    fw->focus = glci_xcalloc(fw->n_focus ? fw->n_focus : 1, sizeof *fw->focus);
    fw->ind = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *fw->ind);
    area_sec = glci_xcalloc(fw->n_areas, sizeof *area_sec);
    focus_sec = glci_xcalloc(fw->n_focus ? fw->n_focus : 1, sizeof *focus_sec);
    ind_sec = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *ind_sec);
    s_lookup_t *lk = glci_xcalloc(1, sizeof *lk);
    fw->lookup = lk;
    s_table_init(&lk->t[S_AREA], fw->n_areas);
    s_table_init(&lk->t[S_FOCUS], fw->n_focus);
    s_table_init(&lk->t[S_INDICATOR], fw->n_ind);

    /* Pass 1, file order: values of every section, duplicate ids. */
    uint32_t na = 0, nf = 0, ni = 0;
    for (size_t i = 0; i < ps->n_sec; i++) {
        const s_section_t *s = &ps->sec[i];
        int32_t dup = -1;
        const s_section_t *first = NULL;
        switch (s->kind) {
        case S_FRAMEWORK:
            if (s_build_framework(ps, s, fw) != 0)
                goto cleanup;
            break;
        case S_AREA:
            area_sec[na] = s;
            if (s_build_area(ps, s, &fw->areas[na]) != 0)
                goto cleanup;
            if ((dup = s_table_add(fw, S_AREA, (int32_t)na)) >= 0)
                first = area_sec[dup];
            na++;
            break;
        case S_FOCUS:
            focus_sec[nf] = s;
            if (s_build_focus(ps, s, &fw->focus[nf]) != 0)
                goto cleanup;
            if ((dup = s_table_add(fw, S_FOCUS, (int32_t)nf)) >= 0)
                first = focus_sec[dup];
            nf++;
            break;
        default:
            ind_sec[ni] = s;
            if (s_build_indicator(ps, s, &fw->ind[ni]) != 0)
                goto cleanup;
            if ((dup = s_table_add(fw, S_INDICATOR, (int32_t)ni)) >= 0)
                first = ind_sec[dup];
            ni++;
            break;
        }
        if (first) {
            s_fail(ps, s->line, "duplicate id '%s' (first on line %d)", s->id, first->line);
            goto cleanup;
        }
    }
    /* Pass 2: references, reported in file order. */
    for (size_t i = 0, f = 0, k = 0; i < ps->n_sec; i++) {
        const s_section_t *s = &ps->sec[i];
        if (s->kind == S_FOCUS) {
            int32_t a = glci_framework_area(fw, s->value[FO_AREA]);
            if (a < 0) {
                s_fail(ps, s->vline[FO_AREA], "focus area '%s' names unknown area '%s'",
                       s->id, s->value[FO_AREA]);
                goto cleanup;
            }
            fw->focus[f++].area = (uint32_t)a;
        } else if (s->kind == S_INDICATOR) {
            int32_t fo = glci_framework_focus(fw, s->value[IN_FOCUS]);
            if (fo < 0) {
                s_fail(ps, s->vline[IN_FOCUS], "indicator '%s' names unknown focus area '%s'",
                       s->id, s->value[IN_FOCUS]);
                goto cleanup;
            }
            fw->ind[k++].focus = (uint32_t)fo;
        }
    }
    if (s_link(ps, fw, area_sec, focus_sec) != 0)
        goto cleanup;
    s_hash(fw);
    rc = 0;
cleanup:
    free(area_sec);
    free(focus_sec);
    free(ind_sec);
    return rc;
}

int glci_framework_load_text(const char *text, size_t len, const char *name,
                             glci_framework_t **out, char *err, size_t errlen)
{
    if (!name)
        name = "framework";
    *out = NULL;
    s_parse_t ps = {.name = name, .src = {.text = text, .len = text ? len : 0,
                                          .header = s_header, .ctx = &ps}};
    if (len > GLCI_FRAMEWORK_MAX_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %zu bytes, larger than a framework file can be (%zu)",
                     name, len, GLCI_FRAMEWORK_MAX_BYTES);
        return GLCI_INDEX_EPARSE;
    }
    glci_framework_t *fw = glci_xcalloc(1, sizeof *fw);
    int rc = GLCI_INDEX_EPARSE;

    int ini = ini_parse_stream(glci_ini_reader, &ps.src, s_handler, &ps);
    if (ps.src.bad_line)
        s_fail(&ps, ps.src.bad_line, "%s", ps.src.why);
    /* inih goes on after a line it cannot parse and returns the first one:
     * an earlier line than the error recorded is the first problem */
    if (ini != 0 && (ps.err_line <= 0 || (ini > 0 && ini < ps.err_line))) {
        ps.err_line = 0;
        s_fail(&ps, ini > 0 ? ini : ps.src.line, "syntax error (expected [section], "
               "key = value or a comment)");
    }
    if (ps.err_line || s_build(&ps, fw) != 0)
        goto cleanup;
    fw->source = glci_xmalloc(ps.src.len + 1);
    if (ps.src.len)
        memcpy(fw->source, text, ps.src.len);
    fw->source[ps.src.len] = '\0';
    fw->source_len = ps.src.len;
    *out = fw;
    fw = NULL;
    rc = GLCI_INDEX_OK;
cleanup:
    if (rc != GLCI_INDEX_OK && err && errlen) {
        if (ps.err_line > 0)
            snprintf(err, errlen, "%s:%d: %s", name, ps.err_line, ps.err);
        else
            snprintf(err, errlen, "%s: %s", name, ps.err);
    }
    glci_framework_free(&fw);
    s_parse_release(&ps);
    return rc;
}

int glci_framework_load_file(const char *path, glci_framework_t **out,
                             char *err, size_t errlen)
{
    char why[512];
    struct stat sb;
    *out = NULL;
    /* A FIFO or a device (/dev/zero) is refused before any read, and so is
     * a file over the limit; the read stops one byte past the limit in
     * case the file grew since the fstat. */
    int fd = glci_file_open_regular(path, 0, GLCI_FRAMEWORK_MAX_BYTES, "a framework file",
                                    &sb, why, sizeof why);
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s", why);
        return GLCI_INDEX_EIO;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = GLCI_INDEX_EIO;
    int e = glci_file_read_fd(fd, GLCI_FRAMEWORK_MAX_BYTES, (uint64_t)sb.st_size, &text, &len);
    if (e != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        goto cleanup;
    }
    rc = glci_framework_load_text(text, len, path, out, err, errlen);
    if (rc == GLCI_INDEX_EPARSE && len > GLCI_FRAMEWORK_MAX_BYTES)
        rc = GLCI_INDEX_EIO;        /* it grew past the limit while read */
cleanup:
    close(fd);
    free(text);
    return rc;
}

void glci_framework_free(glci_framework_t **self)
{
    if (!self || !*self)
        return;
    glci_framework_t *fw = *self;
    for (uint32_t a = 0; fw->areas && a < fw->n_areas; a++) {
        free(fw->areas[a].id);
        free(fw->areas[a].name);
        free(fw->areas[a].focus);
    }
    for (uint32_t f = 0; fw->focus && f < fw->n_focus; f++) {
        free(fw->focus[f].id);
        free(fw->focus[f].name);
        free(fw->focus[f].ind);
    }
    for (uint32_t i = 0; fw->ind && i < fw->n_ind; i++) {
        free(fw->ind[i].id);
        free(fw->ind[i].name);
        free(fw->ind[i].unit);
    }
    free(fw->areas);
    free(fw->focus);
    free(fw->ind);
    s_lookup_t *lk = fw->lookup;
    if (lk) {
        for (int k = 0; k < S_NKINDS; k++)
            free(lk->t[k].slot);
        free(lk);
    }
    free(fw->id);
    free(fw->version);
    free(fw->source);
    free(fw);
    *self = NULL;
}
