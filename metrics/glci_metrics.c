/* The metric registry and its text exposition: see glci_metrics.h.
 *
 * Storage: every child owns a block of `stride` atomic 64-bit words that
 * starts on a 64-byte boundary. A counter uses word 0 (the count), a gauge
 * word 0 (the bits of a double); a histogram words 0..n_buckets (one
 * non-cumulative count per bucket, the last one +Inf) and word
 * n_buckets + 1 (the bits of the sum). Rendering makes the buckets
 * cumulative. Label text is escaped once, at registration. */
#include "glci_metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"

#define S_LINE_WORDS 8 /* 64-byte cache line / 8-byte word */

struct glci_metric {
    glci_metric_type_t type;
    char *name;
    char *help;                 /* escaped for the HELP line */
    size_t n_labels;
    char **labels;              /* n_labels names */
    size_t n_children;          /* 0 for a collected family */
    char **label_text;          /* per child: a="x",b="y" (escaped), "" without labels */
    size_t n_buckets;
    double *bounds;
    char **le_text;             /* per bound: its exposition text */
    size_t stride;              /* words per child */
    void *raw;                  /* what was allocated for words */
    _Atomic uint64_t *words;    /* n_children * stride, 64-byte aligned */
    glci_metric_collect_fn collect;
    void *collect_arg;
    glci_metric_t *next;
};

struct glci_metrics {
    pthread_mutex_t lock;       /* the family list: add and render */
    glci_metric_t *head, *tail;
};

/* ---- text buffer -------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} s_buf_t;

static void s_buf_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = glci_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void s_buf_puts(s_buf_t *b, const char *s)
{
    s_buf_put(b, s, strlen(s));
}

static char *s_buf_take(s_buf_t *b)
{
    if (!b->p)
        s_buf_put(b, "", 0);
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- names, UTF-8 and escaping ----------------------------------------- */

static bool s_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static bool s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t s_utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Appends text escaped for the exposition: backslash and newline always,
 * the double quote inside label values; ill-formed UTF-8 becomes U+FFFD. */
static void s_put_escaped(s_buf_t *b, const char *text, bool quote)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t n = s_utf8_len(s);
        if (n == 0) {
            s_buf_puts(b, "\xEF\xBF\xBD");
            s++;
        } else if (*s == '\\') {
            s_buf_puts(b, "\\\\");
            s++;
        } else if (*s == '\n') {
            s_buf_puts(b, "\\n");
            s++;
        } else if (*s == '"' && quote) {
            s_buf_puts(b, "\\\"");
            s++;
        } else {
            s_buf_put(b, (const char *)s, n);
            s += n;
        }
    }
}

/* Appends a sample value as Prometheus reads it: NaN, +Inf, -Inf, integers
 * below 2^53 as integers, anything else as the shortest text that reads
 * back as the same double. */
static void s_put_double(s_buf_t *b, double v)
{
    char num[64];
    if (isnan(v))
        s_buf_puts(b, "NaN");
    else if (isinf(v))
        s_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (fabs(v) < 9007199254740992.0 && v == trunc(v)) {
        snprintf(num, sizeof num, "%lld", (long long)v);
        s_buf_puts(b, num);
    } else {
        glci_format_double(v, num, sizeof num);
        s_buf_puts(b, num);
    }
}

static void s_put_u64(s_buf_t *b, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    s_buf_puts(b, num);
}

/* a="x",b="y" for one row of values (one per label name). */
static char *s_label_text(const glci_metric_t *m, const char *const *values)
{
    s_buf_t b = {0};
    for (size_t i = 0; i < m->n_labels; i++) {
        if (i)
            s_buf_puts(&b, ",");
        s_buf_puts(&b, m->labels[i]);
        s_buf_puts(&b, "=\"");
        s_put_escaped(&b, values[i], true);
        s_buf_puts(&b, "\"");
    }
    return s_buf_take(&b);
}

/* ---- words -------------------------------------------------------------- */

static _Atomic uint64_t *s_words(const glci_metric_t *m, size_t child)
{
    assert(child < m->n_children);
    return m->words + child * m->stride;
}

static double s_bits_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t s_double_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static void s_add_double(_Atomic uint64_t *w, double delta)
{
    uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        w, &old, s_double_bits(s_bits_double(old) + delta), memory_order_relaxed,
        memory_order_relaxed)) {
    }
}

/* ---- registry ----------------------------------------------------------- */

glci_metrics_t *glci_metrics_new(void)
{
    glci_metrics_t *reg = glci_xcalloc(1, sizeof *reg);
    pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

static void s_metric_free(glci_metric_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_labels; i++)
        free(m->labels[i]);
    for (size_t i = 0; i < m->n_children; i++)
        free(m->label_text[i]);
    for (size_t i = 0; i < m->n_buckets; i++)
        free(m->le_text[i]);
    free(m->labels);
    free(m->label_text);
    free(m->le_text);
    free(m->bounds);
    free(m->raw);
    free(m->name);
    free(m->help);
    free(m);
}

void glci_metrics_destroy(glci_metrics_t **self)
{
    if (!self || !*self)
        return;
    glci_metrics_t *reg = *self;
    glci_metric_t *m = reg->head;
    while (m) {
        glci_metric_t *next = m->next;
        s_metric_free(m);
        m = next;
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
    *self = NULL;
}

static size_t s_count(const char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

/* The exposition names a family uses: itself, and a histogram's series. */
static size_t s_series_names(const char *name, glci_metric_type_t type, char out[4][256])
{
    snprintf(out[0], 256, "%s", name);
    if (type != GLCI_METRIC_HISTOGRAM)
        return 1;
    snprintf(out[1], 256, "%s_bucket", name);
    snprintf(out[2], 256, "%s_sum", name);
    snprintf(out[3], 256, "%s_count", name);
    return 4;
}

static int s_name_taken(const glci_metrics_t *reg, const glci_metric_spec_t *spec)
{
    char mine[4][256], theirs[4][256];
    size_t n = s_series_names(spec->name, spec->type, mine);
    for (const glci_metric_t *m = reg->head; m; m = m->next) {
        size_t k = s_series_names(m->name, m->type, theirs);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++)
                if (strcmp(mine[i], theirs[j]) == 0)
                    return 1;
    }
    return 0;
}

/* Every rule a spec must meet; the message names what is wrong. */
static int s_check_spec(const glci_metrics_t *reg, const glci_metric_spec_t *s, char *err,
                        size_t errlen)
{
    const char *name = s->name ? s->name : "(null)";
    if (!s_name_ok(s->name) || strlen(s->name) > 200) {
        snprintf(err, errlen,
                 "metric \"%s\": not a valid name (letters, digits and _, not starting "
                 "with a digit, at most 200 characters)", name);
        return -1;
    }
    if (s->type != GLCI_METRIC_COUNTER && s->type != GLCI_METRIC_GAUGE &&
        s->type != GLCI_METRIC_HISTOGRAM) {
        snprintf(err, errlen, "metric \"%s\": unknown type %d", name, (int)s->type);
        return -1;
    }
    if (!s->help || !*s->help) {
        snprintf(err, errlen, "metric \"%s\": no help text", name);
        return -1;
    }
    bool total = s_ends_with(s->name, "_total");
    if (s->type == GLCI_METRIC_COUNTER && !total) {
        snprintf(err, errlen, "metric \"%s\": a counter's name ends in _total", name);
        return -1;
    }
    if (s->type != GLCI_METRIC_COUNTER && total) {
        snprintf(err, errlen, "metric \"%s\": only a counter's name ends in _total", name);
        return -1;
    }
    if (s->type == GLCI_METRIC_HISTOGRAM &&
        (s_ends_with(s->name, "_bucket") || s_ends_with(s->name, "_sum") ||
         s_ends_with(s->name, "_count"))) {
        snprintf(err, errlen,
                 "metric \"%s\": a histogram's name does not end in _bucket, _sum or _count",
                 name);
        return -1;
    }
    size_t n_labels = s_count(s->labels);
    for (size_t i = 0; i < n_labels; i++) {
        const char *l = s->labels[i];
        if (!s_name_ok(l) || strncmp(l, "__", 2) == 0 || strlen(l) > 100) {
            snprintf(err, errlen, "metric \"%s\": label \"%s\" is not a valid label name", name,
                     l);
            return -1;
        }
        if (s->type == GLCI_METRIC_HISTOGRAM && strcmp(l, "le") == 0) {
            snprintf(err, errlen, "metric \"%s\": a histogram cannot have the label \"le\"",
                     name);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(l, s->labels[j]) == 0) {
                snprintf(err, errlen, "metric \"%s\": label \"%s\" given twice", name, l);
                return -1;
            }
    }
    size_t n_values = s_count(s->values);
    if (s->collect) {
        if (s->type == GLCI_METRIC_HISTOGRAM) {
            snprintf(err, errlen, "metric \"%s\": a histogram cannot be collected", name);
            return -1;
        }
        if (s->values) {
            snprintf(err, errlen,
                     "metric \"%s\": a collected family's samples come from its callback, "
                     "not from label values", name);
            return -1;
        }
    } else if (n_labels == 0 && s->values) {
        snprintf(err, errlen, "metric \"%s\": label values given without label names", name);
        return -1;
    } else if (n_labels > 0 && (n_values == 0 || n_values % n_labels != 0)) {
        snprintf(err, errlen,
                 "metric \"%s\": %zu label values do not make rows of %zu (one per label)",
                 name, n_values, n_labels);
        return -1;
    }
    for (size_t r = 0; n_labels && r < n_values / n_labels; r++)
        for (size_t q = 0; q < r; q++) {
            size_t same = 0;
            for (size_t i = 0; i < n_labels; i++)
                same += strcmp(s->values[r * n_labels + i], s->values[q * n_labels + i]) == 0;
            if (same == n_labels) {
                snprintf(err, errlen, "metric \"%s\": label values row %zu repeats row %zu",
                         name, r + 1, q + 1);
                return -1;
            }
        }
    if (s->type == GLCI_METRIC_HISTOGRAM) {
        if (!s->buckets || s->n_buckets == 0) {
            snprintf(err, errlen, "metric \"%s\": a histogram needs at least one bucket", name);
            return -1;
        }
        for (size_t i = 0; i < s->n_buckets; i++) {
            if (!isfinite(s->buckets[i]) || (i > 0 && s->buckets[i] <= s->buckets[i - 1])) {
                snprintf(err, errlen,
                         "metric \"%s\": bucket bounds must be finite and strictly ascending "
                         "(bound %zu is not)", name, i + 1);
                return -1;
            }
        }
    } else if (s->buckets || s->n_buckets) {
        snprintf(err, errlen, "metric \"%s\": only a histogram has buckets", name);
        return -1;
    }
    if (s_name_taken(reg, s)) {
        snprintf(err, errlen, "metric \"%s\": the name is already registered", name);
        return -1;
    }
    return 0;
}

int glci_metrics_add(glci_metrics_t *reg, const glci_metric_spec_t *spec, glci_metric_t **out,
                     char *err, size_t errlen)
{
    assert(reg && spec && out);
    *out = NULL;
    pthread_mutex_lock(&reg->lock);
    if (s_check_spec(reg, spec, err, errlen) < 0) {
        pthread_mutex_unlock(&reg->lock);
        return -1;
    }
    glci_metric_t *m = glci_xcalloc(1, sizeof *m);
    m->type = spec->type;
    m->name = glci_xstrdup(spec->name);
    s_buf_t help = {0};
    s_put_escaped(&help, spec->help, false);
    m->help = s_buf_take(&help);
    m->n_labels = s_count(spec->labels);
    m->labels = glci_xcalloc(m->n_labels ? m->n_labels : 1, sizeof *m->labels);
    for (size_t i = 0; i < m->n_labels; i++)
        m->labels[i] = glci_xstrdup(spec->labels[i]);
    m->collect = spec->collect;
    m->collect_arg = spec->collect_arg;
    if (!m->collect)
        m->n_children = m->n_labels ? s_count(spec->values) / m->n_labels : 1;
    m->label_text = glci_xcalloc(m->n_children ? m->n_children : 1, sizeof *m->label_text);
    for (size_t c = 0; c < m->n_children; c++)
        m->label_text[c] = s_label_text(m, m->n_labels ? spec->values + c * m->n_labels : NULL);

    m->n_buckets = spec->type == GLCI_METRIC_HISTOGRAM ? spec->n_buckets : 0;
    m->bounds = glci_xcalloc(m->n_buckets ? m->n_buckets : 1, sizeof *m->bounds);
    m->le_text = glci_xcalloc(m->n_buckets ? m->n_buckets : 1, sizeof *m->le_text);
    for (size_t i = 0; i < m->n_buckets; i++) {
        s_buf_t le = {0};
        m->bounds[i] = spec->buckets[i];
        s_put_double(&le, spec->buckets[i]);
        m->le_text[i] = s_buf_take(&le);
    }
    /* buckets, +Inf and the sum for a histogram; one word otherwise; whole
     * cache lines either way */
    size_t words = m->type == GLCI_METRIC_HISTOGRAM ? m->n_buckets + 2 : 1;
    m->stride = (words + S_LINE_WORDS - 1) / S_LINE_WORDS * S_LINE_WORDS;
    size_t n_words = m->stride * (m->n_children ? m->n_children : 1);
    m->raw = glci_xcalloc(n_words + S_LINE_WORDS, sizeof(uint64_t));
    uintptr_t at = ((uintptr_t)m->raw + 63) & ~(uintptr_t)63;
    m->words = (_Atomic uint64_t *)at;
    for (size_t i = 0; i < n_words; i++)
        atomic_init(&m->words[i], 0);    /* 0 is also the bits of 0.0 */

    if (reg->tail)
        reg->tail->next = m;
    else
        reg->head = m;
    reg->tail = m;
    pthread_mutex_unlock(&reg->lock);
    *out = m;
    return 0;
}

size_t glci_metric_children(const glci_metric_t *m)
{
    return m->n_children;
}

/* ---- updates ------------------------------------------------------------ */

void glci_counter_add(glci_metric_t *m, size_t child, uint64_t n)
{
    assert(m->type == GLCI_METRIC_COUNTER);
    atomic_fetch_add_explicit(s_words(m, child), n, memory_order_relaxed);
}

void glci_counter_inc(glci_metric_t *m, size_t child)
{
    glci_counter_add(m, child, 1);
}

void glci_gauge_set(glci_metric_t *m, size_t child, double v)
{
    assert(m->type == GLCI_METRIC_GAUGE);
    atomic_store_explicit(s_words(m, child), s_double_bits(v), memory_order_relaxed);
}

void glci_gauge_add(glci_metric_t *m, size_t child, double delta)
{
    assert(m->type == GLCI_METRIC_GAUGE);
    s_add_double(s_words(m, child), delta);
}

void glci_gauge_select(glci_metric_t *m, size_t child)
{
    assert(child < m->n_children);
    for (size_t c = 0; c < m->n_children; c++)
        glci_gauge_set(m, c, c == child ? 1.0 : 0.0);
}

void glci_histogram_observe(glci_metric_t *m, size_t child, double v)
{
    assert(m->type == GLCI_METRIC_HISTOGRAM);
    if (isnan(v))
        return;
    /* the first bound >= v; n_buckets (the +Inf bucket) if none */
    size_t lo = 0, hi = m->n_buckets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    _Atomic uint64_t *w = s_words(m, child);
    atomic_fetch_add_explicit(&w[lo], 1, memory_order_relaxed);
    s_add_double(&w[m->n_buckets + 1], v);
}

uint64_t glci_counter_get(const glci_metric_t *m, size_t child)
{
    assert(m->type == GLCI_METRIC_COUNTER);
    return atomic_load_explicit(s_words(m, child), memory_order_relaxed);
}

double glci_gauge_get(const glci_metric_t *m, size_t child)
{
    assert(m->type == GLCI_METRIC_GAUGE);
    return s_bits_double(atomic_load_explicit(s_words(m, child), memory_order_relaxed));
}

uint64_t glci_histogram_count(const glci_metric_t *m, size_t child)
{
    assert(m->type == GLCI_METRIC_HISTOGRAM);
    _Atomic uint64_t *w = s_words(m, child);
    uint64_t n = 0;
    for (size_t i = 0; i <= m->n_buckets; i++)
        n += atomic_load_explicit(&w[i], memory_order_relaxed);
    return n;
}

double glci_histogram_sum(const glci_metric_t *m, size_t child)
{
    assert(m->type == GLCI_METRIC_HISTOGRAM);
    _Atomic uint64_t *w = s_words(m, child);
    return s_bits_double(atomic_load_explicit(&w[m->n_buckets + 1], memory_order_relaxed));
}

/* ---- exposition --------------------------------------------------------- */

struct glci_metric_sink {
    s_buf_t *buf;
    const glci_metric_t *m;
};

/* name[suffix]{labels[,extra]} */
static void s_put_series(s_buf_t *b, const glci_metric_t *m, const char *suffix,
                         const char *labels, const char *extra)
{
    s_buf_puts(b, m->name);
    if (suffix)
        s_buf_puts(b, suffix);
    bool have = labels && *labels;
    if (have || extra) {
        s_buf_puts(b, "{");
        if (have)
            s_buf_puts(b, labels);
        if (extra) {
            if (have)
                s_buf_puts(b, ",");
            s_buf_puts(b, extra);
        }
        s_buf_puts(b, "}");
    }
    s_buf_puts(b, " ");
}

void glci_metric_sink_emit(glci_metric_sink_t *sink, const char *const *values, double value)
{
    const glci_metric_t *m = sink->m;
    assert(m->n_labels == 0 || values);
    s_buf_t *b = sink->buf;
    s_buf_puts(b, m->name);
    if (m->n_labels) {
        s_buf_puts(b, "{");
        for (size_t i = 0; i < m->n_labels; i++) {
            assert(values[i]);
            if (i)
                s_buf_puts(b, ",");
            s_buf_puts(b, m->labels[i]);
            s_buf_puts(b, "=\"");
            s_put_escaped(b, values[i], true);
            s_buf_puts(b, "\"");
        }
        s_buf_puts(b, "}");
    }
    s_buf_puts(b, " ");
    s_put_double(b, value);
    s_buf_puts(b, "\n");
}

static void s_render_histogram(s_buf_t *b, const glci_metric_t *m, size_t c)
{
    _Atomic uint64_t *w = s_words(m, c);
    uint64_t cum = 0;
    char le[96];
    for (size_t i = 0; i <= m->n_buckets; i++) {
        cum += atomic_load_explicit(&w[i], memory_order_relaxed);
        snprintf(le, sizeof le, "le=\"%s\"", i < m->n_buckets ? m->le_text[i] : "+Inf");
        s_put_series(b, m, "_bucket", m->label_text[c], le);
        s_put_u64(b, cum);
        s_buf_puts(b, "\n");
    }
    s_put_series(b, m, "_sum", m->label_text[c], NULL);
    s_put_double(b, s_bits_double(atomic_load_explicit(&w[m->n_buckets + 1],
                                                       memory_order_relaxed)));
    s_buf_puts(b, "\n");
    s_put_series(b, m, "_count", m->label_text[c], NULL);
    s_put_u64(b, cum);
    s_buf_puts(b, "\n");
}

static const char *const s_type_names[] = {"counter", "gauge", "histogram"};

int glci_metrics_render(glci_metrics_t *reg, char **text, size_t *len, char *err, size_t errlen)
{
    s_buf_t b = {0};
    int rc = 0;
    size_t failed = 0;
    pthread_mutex_lock(&reg->lock);
    for (const glci_metric_t *m = reg->head; m; m = m->next) {
        s_buf_puts(&b, "# HELP ");
        s_buf_puts(&b, m->name);
        s_buf_puts(&b, " ");
        s_buf_puts(&b, m->help);
        s_buf_puts(&b, "\n# TYPE ");
        s_buf_puts(&b, m->name);
        s_buf_puts(&b, " ");
        s_buf_puts(&b, s_type_names[m->type]);
        s_buf_puts(&b, "\n");
        if (m->collect) {
            size_t mark = b.len;
            glci_metric_sink_t sink = {&b, m};
            if (m->collect(m->collect_arg, &sink) < 0) {
                b.len = mark;
                if (b.p)
                    b.p[mark] = '\0';
                if (failed++ == 0)
                    snprintf(err, errlen, "metric \"%s\": its source failed; "
                             "its samples are left out", m->name);
                rc = -1;
            }
            continue;
        }
        for (size_t c = 0; c < m->n_children; c++) {
            if (m->type == GLCI_METRIC_HISTOGRAM) {
                s_render_histogram(&b, m, c);
                continue;
            }
            s_put_series(&b, m, NULL, m->label_text[c], NULL);
            uint64_t w = atomic_load_explicit(s_words(m, c), memory_order_relaxed);
            if (m->type == GLCI_METRIC_COUNTER)
                s_put_u64(&b, w);
            else
                s_put_double(&b, s_bits_double(w));
            s_buf_puts(&b, "\n");
        }
    }
    pthread_mutex_unlock(&reg->lock);
    if (failed > 1 && err && errlen) {
        size_t used = strlen(err);
        snprintf(err + used, errlen - used, " (and %zu more families)", failed - 1);
    }
    if (len)
        *len = b.len;
    *text = s_buf_take(&b);
    return rc;
}
