/* libFuzzer target for the framework INI loader (index/glci_framework.c,
 * glci_framework_load_text): the bytes are a framework file.
 *
 * Contract checked beyond "no crash, no leak":
 *   - a refusal is GLCI_INDEX_EPARSE with "NAME:LINE: message" (LINE a line
 *     of the text) or "NAME: message", one line of printable UTF-8;
 *   - an accepted framework keeps every rule of SPEC §2 and
 *     docs/FRAMEWORK.md: ids valid and found again by their lookups,
 *     texts printable UTF-8 (they reach tables, JSON and HTML), weights in
 *     (0, 1e6], goalposts apart, min <= max, goalposts, range and
 *     thresholds within +-1e100 and every score of a value in [min, max]
 *     (ends, goalposts, middle) a number in [0, 100], periods in order, no empty
 *     area or focus area, children in file order, thresholds inside the
 *     range and the goalposts with green better than red; the reporting
 *     cycle's keys within their ranges (cadence 1-100, due a day of every
 *     year, future_periods 0-100), their defaults when not set, and only
 *     the keys set marked so (only those enter the hash);
 *   - its canonical text (every value written back, numbers in round-trip
 *     form, comments and spacing gone) loads again to the same hash, and
 *     so does the source it keeps;
 *   - the framework's checks of an observation accept the indicator's own
 *     range and refuse NaN and a period past the last, with printable
 *     messages; a retraction's key check agrees with the value check on
 *     the key; the future check takes the current year plus
 *     future_periods and refuses the next with a printable message; the
 *     first period is a round and every round's due day prints as a date.
 *
 * Run: fuzz_framework -dict=tests/fuzz/framework.dict NEWDIR tests/fuzz/corpus/framework */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_fuzz.h"
#include "glci_index.h"
#include "glci_text.h"
#include "glci_utf8.h"

#define S_NAME "fuzz.ini"

static void s_text_ok(const char *what, const char *s)
{
    GLCI_FUZZ_CHECK(s && s[0], "framework: %s is empty", what);
    const char *why = glci_utf8_problem(s);
    GLCI_FUZZ_CHECK(!why, "framework: accepted a %s that %s", what, why);
}

static void s_id_ok(const char *what, const char *id)
{
    size_t n = strlen(id);
    GLCI_FUZZ_CHECK(n >= 1 && n <= GLCI_FRAMEWORK_ID_MAX, "framework: %s id of %zu bytes", what,
                    n);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        GLCI_FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.',
                        "framework: %s id with character 0x%02x", what, (unsigned char)c);
    }
}

static void s_weight_ok(const char *what, double w)
{
    GLCI_FUZZ_CHECK(w > 0 && w <= 1e6, "framework: %s weight %g", what, w);
}

static void s_model_ok(const glci_framework_t *fw)
{
    s_text_ok("framework id", fw->id);
    s_text_ok("framework version", fw->version);
    GLCI_FUZZ_CHECK(fw->min_coverage >= 0 && fw->min_coverage <= 1, "framework: min_coverage");
    GLCI_FUZZ_CHECK(fw->carry_forward >= 0 && fw->carry_forward <= 100, "framework: carry");
    GLCI_FUZZ_CHECK(fw->first_period >= 1 && fw->first_period <= fw->last_period &&
                    fw->last_period <= 9999, "framework: periods %d..%d", fw->first_period,
                    fw->last_period);
    GLCI_FUZZ_CHECK(fw->cadence >= 1 && fw->cadence <= 100 && fw->future_periods >= 0 &&
                    fw->future_periods <= 100, "framework: cadence %d, future_periods %d",
                    fw->cadence, fw->future_periods);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    GLCI_FUZZ_CHECK(fw->due_month >= 1 && fw->due_month <= 12 && fw->due_day >= 1 &&
                    fw->due_day <= mdays[fw->due_month - 1],
                    "framework: due %02d-%02d is not a day of every year", fw->due_month,
                    fw->due_day);
    unsigned all = GLCI_CYCLE_CADENCE | GLCI_CYCLE_DUE | GLCI_CYCLE_FUTURE;
    GLCI_FUZZ_CHECK((fw->cycle_set & ~all) == 0 &&
                    ((fw->cycle_set & GLCI_CYCLE_CADENCE) || fw->cadence == 1) &&
                    ((fw->cycle_set & GLCI_CYCLE_DUE) ||
                     (fw->due_month == 3 && fw->due_day == 31)) &&
                    ((fw->cycle_set & GLCI_CYCLE_FUTURE) || fw->future_periods == 0),
                    "framework: cycle keys set 0x%x, cadence %d, due %02d-%02d, future %d",
                    fw->cycle_set, fw->cadence, fw->due_month, fw->due_day,
                    fw->future_periods);
    GLCI_FUZZ_CHECK(fw->n_areas >= 1 && fw->n_focus >= fw->n_areas && fw->n_ind >= fw->n_focus,
                    "framework: %u areas, %u focus areas, %u indicators", fw->n_areas,
                    fw->n_focus, fw->n_ind);
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        const glci_area_t *x = &fw->areas[a];
        s_id_ok("area", x->id);
        s_text_ok("area name", x->name);
        s_weight_ok("area", x->weight);
        GLCI_FUZZ_CHECK(glci_framework_area(fw, x->id) == (int32_t)a, "framework: area lookup");
        GLCI_FUZZ_CHECK(x->n_focus >= 1, "framework: empty area %s", x->id);
        for (uint32_t k = 0; k < x->n_focus; k++)
            GLCI_FUZZ_CHECK(x->focus[k] < fw->n_focus && fw->focus[x->focus[k]].area == a &&
                            (k == 0 || x->focus[k] > x->focus[k - 1]),
                            "framework: area %s children", x->id);
    }
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_focus_t *x = &fw->focus[f];
        s_id_ok("focus", x->id);
        s_text_ok("focus name", x->name);
        s_weight_ok("focus", x->weight);
        GLCI_FUZZ_CHECK(glci_framework_focus(fw, x->id) == (int32_t)f, "framework: focus lookup");
        GLCI_FUZZ_CHECK(x->area < fw->n_areas && x->n_ind >= 1, "framework: focus %s", x->id);
        for (uint32_t k = 0; k < x->n_ind; k++)
            GLCI_FUZZ_CHECK(x->ind[k] < fw->n_ind && fw->ind[x->ind[k]].focus == f &&
                            (k == 0 || x->ind[k] > x->ind[k - 1]),
                            "framework: focus %s children", x->id);
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *x = &fw->ind[i];
        s_id_ok("indicator", x->id);
        s_text_ok("indicator name", x->name);
        s_text_ok("indicator unit", x->unit);
        s_weight_ok("indicator", x->weight);
        GLCI_FUZZ_CHECK(glci_framework_indicator(fw, x->id) == (int32_t)i,
                        "framework: indicator lookup");
        GLCI_FUZZ_CHECK(isfinite(x->lower) && isfinite(x->upper) && x->lower != x->upper &&
                        isfinite(x->min) && isfinite(x->max) && x->min <= x->max,
                        "framework: indicator %s bounds", x->id);
        GLCI_FUZZ_CHECK(fabs(x->lower) <= 1e100 && fabs(x->upper) <= 1e100 &&
                        fabs(x->min) <= 1e100 && fabs(x->max) <= 1e100,
                        "framework: indicator %s numbers over the cap", x->id);
        const double probe[] = {x->min, x->max, fmin(fmax(x->lower, x->min), x->max),
                                fmin(fmax(x->upper, x->min), x->max),
                                x->min / 2 + x->max / 2};
        for (size_t k = 0; k < sizeof probe / sizeof *probe; k++) {
            double sc = glci_indicator_score(x, probe[k]);
            GLCI_FUZZ_CHECK(sc >= 0.0 && sc <= 100.0, "framework: indicator %s scores %g "
                            "at %g", x->id, sc, probe[k]);
        }
        if (x->has_lights) {
            double lo = fmin(x->lower, x->upper), hi = fmax(x->lower, x->upper);
            GLCI_FUZZ_CHECK(x->green >= x->min && x->green <= x->max && x->red >= x->min &&
                            x->red <= x->max && x->green >= lo && x->green <= hi &&
                            x->red >= lo && x->red <= hi &&
                            glci_indicator_better(x, x->green, x->red) > 0,
                            "framework: indicator %s thresholds", x->id);
        }
    }
}

/* ---- the canonical text -------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} s_text_t;

static void s_put(s_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_put(s_text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (t->p && (size_t)n < t->cap - t->n) {
            t->n += (size_t)n;
            return;
        }
        t->cap = t->cap ? 2 * t->cap + (size_t)n : 4096 + (size_t)n;
        t->p = glci_xrealloc(t->p, t->cap);
    }
}

/* key=value with the value's shortest round-trip form; no blanks, so no
 * line grows past what the loader accepted. */
static void s_num(s_text_t *t, const char *key, double v)
{
    char buf[40];
    glci_format_double(v, buf, sizeof buf);
    s_put(t, "%s=%s\n", key, buf);
}

static void s_canonical(const glci_framework_t *fw, s_text_t *t)
{
    s_put(t, "[framework]\nid=%s\nversion=%s\n", fw->id, fw->version);
    s_num(t, "min_coverage", fw->min_coverage);
    s_put(t, "carry_forward=%d\naggregation=%s\nfirst_period=%d\nlast_period=%d\n",
          fw->carry_forward, fw->aggregation == GLCI_AGG_GEOMETRIC ? "geometric" : "arithmetic",
          fw->first_period, fw->last_period);
    /* the cycle's keys only when the file set them: they enter the hash so */
    if (fw->cycle_set & GLCI_CYCLE_CADENCE)
        s_put(t, "cadence=%d\n", fw->cadence);
    if (fw->cycle_set & GLCI_CYCLE_DUE)
        s_put(t, "due=%02d-%02d\n", fw->due_month, fw->due_day);
    if (fw->cycle_set & GLCI_CYCLE_FUTURE)
        s_put(t, "future_periods=%d\n", fw->future_periods);
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        s_put(t, "[area:%s]\nname=%s\n", fw->areas[a].id, fw->areas[a].name);
        s_num(t, "weight", fw->areas[a].weight);
    }
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_focus_t *x = &fw->focus[f];
        s_put(t, "[focus:%s]\narea=%s\nname=%s\n", x->id, fw->areas[x->area].id, x->name);
        s_num(t, "weight", x->weight);
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *x = &fw->ind[i];
        s_put(t, "[indicator:%s]\nfocus=%s\nname=%s\nunit=%s\ndirection=%s\n", x->id,
              fw->focus[x->focus].id, x->name, x->unit,
              x->direction == GLCI_DIR_LOWER ? "lower" : "higher");
        s_num(t, "lower", x->lower);
        s_num(t, "upper", x->upper);
        s_num(t, "min", x->min);
        s_num(t, "max", x->max);
        s_num(t, "weight", x->weight);
        if (x->has_lights) {
            s_num(t, "green", x->green);
            s_num(t, "red", x->red);
        }
    }
}

static void s_reload_same(const glci_framework_t *fw, const char *text, size_t len,
                          const char *what)
{
    glci_framework_t *again = NULL;
    char err[512];
    int rc = glci_framework_load_text(text, len, "again.ini", &again, err, sizeof err);
    GLCI_FUZZ_CHECK(rc == 0, "framework: its %s is refused: %s", what, err);
    GLCI_FUZZ_CHECK(memcmp(again->hash, fw->hash, sizeof fw->hash) == 0 &&
                    again->n_areas == fw->n_areas && again->n_focus == fw->n_focus &&
                    again->n_ind == fw->n_ind,
                    "framework: its %s loads to another framework (hash %s, not %s)", what,
                    again->hash_hex, fw->hash_hex);
    glci_framework_free(&again);
}

/* ---- the checks of an observation ---------------------------------------- */

static void s_checks_ok(const glci_framework_t *fw)
{
    const glci_indicator_t *x = &fw->ind[fw->n_ind - 1];
    char msg[160];
    uint32_t ind = UINT32_MAX;
    glci_reject_t why;
    why = glci_framework_check(fw, x->id, fw->first_period, x->min, &ind, msg, sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_NONE && ind == fw->n_ind - 1,
                    "framework: its own min refused: %s", msg);
    why = glci_framework_check(fw, x->id, fw->last_period, x->max, &ind, msg, sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_NONE, "framework: its own max refused: %s", msg);
    why = glci_framework_check(fw, x->id, fw->last_period, NAN, &ind, msg, sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_NOT_FINITE, "framework: NaN not refused as such");
    glci_fuzz_check_line("framework check message", msg, sizeof msg);
    why = glci_framework_check(fw, x->id, (int64_t)fw->last_period + 1, x->min, &ind, msg,
                               sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_BAD_PERIOD, "framework: a later period not refused");
    glci_fuzz_check_line("framework check message", msg, sizeof msg);

    /* a retraction's key: the same answer as the value check's on the key */
    why = glci_framework_check_key(fw, x->id, fw->first_period, &ind, msg, sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_NONE && ind == fw->n_ind - 1,
                    "framework: its own key refused to a retraction: %s", msg);
    why = glci_framework_check_key(fw, x->id, (int64_t)fw->last_period + 1, &ind, msg,
                                   sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_BAD_PERIOD, "framework: a retraction of a later "
                    "period not refused");

    /* the future: mid-2026, so the latest period a value may name is
     * 2026 + future_periods */
    const int64_t now = 1782864000;                     /* 2026-07-01T00:00:00Z */
    int64_t latest = 2026 + fw->future_periods;
    why = glci_framework_check_future(fw, latest, now, msg, sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_NONE, "framework: period %lld refused as future: %s",
                    (long long)latest, msg);
    why = glci_framework_check_future(fw, latest + 1, now, msg, sizeof msg);
    GLCI_FUZZ_CHECK(why == GLCI_REJECT_FUTURE, "framework: period %lld not refused as future",
                    (long long)latest + 1);
    glci_fuzz_check_line("framework future message", msg, sizeof msg);

    /* rounds: the first period is one, and the day its round is due (the
     * time the overdue rule counts from) is the day the report prints */
    GLCI_FUZZ_CHECK(glci_round_is(fw, fw->first_period), "framework: first period no round");
    char day[32], at[40];
    glci_round_due_text(fw, fw->first_period, day, sizeof day);
    glci_format_iso_time(glci_round_due(fw, fw->first_period), at, sizeof at);
    const char *tee = strchr(at, 'T');
    GLCI_FUZZ_CHECK(tee && (size_t)(tee - at) == strlen(day) && strncmp(day, at, strlen(day)) == 0,
                    "framework: round %d due on '%s' but at %s", fw->first_period, day, at);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glci_framework_t *fw = NULL;
    char err[512];
    int rc = glci_framework_load_text((const char *)data, size, S_NAME, &fw, err, sizeof err);
    if (rc != 0) {
        GLCI_FUZZ_CHECK(rc == GLCI_INDEX_EPARSE && !fw, "framework: code %d", rc);
        glci_fuzz_check_line("framework error", err, sizeof err);
        size_t line = glci_fuzz_line_of("framework error", err, S_NAME);
        GLCI_FUZZ_CHECK(line <= glci_fuzz_lines(data, size),
                        "framework: error names line %zu of a %zu-line text: %s", line,
                        glci_fuzz_lines(data, size), err);
        return 0;
    }
    s_model_ok(fw);
    GLCI_FUZZ_CHECK(fw->source_len == size && memcmp(fw->source, data, size) == 0,
                    "framework: the source kept is not the text loaded");
    s_reload_same(fw, fw->source, fw->source_len, "source");
    s_text_t t = {0};
    s_canonical(fw, &t);
    s_reload_same(fw, t.p, t.n, "canonical text");
    free(t.p);
    s_checks_ok(fw);
    glci_framework_free(&fw);
    return 0;
}
