/* The printable city profile (glci_report_write_profile): two A4 pages
 * through Cairo's PDF surface, with the same chart code as the web pages.
 *
 *   page 1  the city, its key figures (index, rank, coverage, network
 *           median), the radar of its focus areas, the area bars (with
 *           their trends) and the index over time with its trend
 *   page 2  every indicator grouped by focus area (value, unit, period,
 *           carried mark, score, light; each focus area's score, median
 *           and trend), what is missing for the round and whom to learn
 *           from (the weak focus areas, their leading cities and the
 *           indicators where those do better)
 *
 * Lights, trends and peers are shown when the report has them. The
 * indicator table's row height shrinks to fit the framework and the notes
 * under it on one page, so the profile is always exactly two pages. */
#include "glci_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>

#include "glci_alloc.h"
#include "glci_chart.h"
#include "glci_report_int.h"
#include "glci_text.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define S_PAGE_W 595.276        /* A4 in points */
#define S_PAGE_H 841.890
#define S_MARGIN 40.0
#define S_BOTTOM (S_PAGE_H - 42.0)
/* A name put into a line of other text goes between these (first strong
 * isolate, pop directional isolate): an Arabic or Hebrew name then reads
 * right to left without turning the line, or the numbers after it, round. */
#define S_FSI "\xe2\x81\xa8"
#define S_PDI "\xe2\x81\xa9"

static cairo_status_t s_write(void *closure, const unsigned char *data, unsigned int len)
{
    FILE *f = closure;
    return fwrite(data, 1, len, f) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static void s_footer(cairo_t *cr, const glci_report_t *r, int page)
{
    char when[64], line[512], method[256], lines[4][160], num[32];
    glci_report_fmt_time(r->generated, when, sizeof when);
    snprintf(line, sizeof line, "Generated %s by glci from the collector's store%s%s", when,
             r->table[0] ? ": " : "", r->table);
    snprintf(method, sizeof method, "framework %s %s (SHA-256 %.12s\xe2\x80\xa6)", r->fw->id,
             r->fw->version, r->fw->hash_hex);
    snprintf(num, sizeof num, "page %d of 2", page);
    glci_chart_font(cr, 7.5, 0);
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    /* One line when it all fits; else where the table comes from (on up to
     * three lines: an edition's name and time are long) and the framework
     * on a line of its own, so each page names both whole. Four lines
     * still end above the page's bottom edge by 12 points. */
    double max_w = S_PAGE_W - 2 * S_MARGIN - glci_chart_width(cr, num) - 12;
    size_t at = strlen(line), n;
    snprintf(line + at, sizeof line - at, " \xc2\xb7 %s", method);
    if (glci_chart_width(cr, line) <= max_w) {
        n = glci_chart_wrap(cr, line, max_w, 1, lines);
    } else {
        line[at] = '\0';
        n = glci_chart_wrap(cr, line, max_w, 3, lines);
        glci_chart_fit(cr, method, max_w, lines[n], sizeof lines[n]);
        n++;
    }
    double y = S_PAGE_H - 24 - 4.0 * (double)(n - 1);
    glci_chart_text(cr, S_PAGE_W - S_MARGIN, y, num, GLCI_ALIGN_RIGHT);
    for (size_t k = 0; k < n; k++)
        glci_chart_text(cr, S_MARGIN, y + 8.0 * (double)k, lines[k], GLCI_ALIGN_LEFT);
}

/* The synthetic-data label; returns the height it took. */
static double s_synthetic(cairo_t *cr, const glci_report_t *r, const glci_report_city_t *c,
                          double y)
{
    if (r->n_synthetic == 0)
        return 0;
    char line[512], lines[2][160];
    snprintf(line, sizeof line, "SYNTHETIC DATA: %llu of the %llu values in this report (this "
             "city: %u of %u) come from sources marked synthetic; they describe no real city.",
             (unsigned long long)r->n_synthetic, (unsigned long long)r->n_values,
             c->n_synthetic, c->n_values);
    glci_chart_font(cr, 8.5, 1);
    size_t n = glci_chart_wrap(cr, line, S_PAGE_W - 2 * S_MARGIN - 12, 2, lines);
    double h = 8 + 11.0 * (double)n;
    glci_chart_colour(cr, GLCI_COLOUR_RED, 1.0);
    cairo_set_line_width(cr, 1.5);
    cairo_rectangle(cr, S_MARGIN, y, S_PAGE_W - 2 * S_MARGIN, h);
    cairo_stroke(cr);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    for (size_t k = 0; k < n; k++)
        glci_chart_text(cr, S_MARGIN + 6, y + 13 + 11.0 * (double)k, lines[k], GLCI_ALIGN_LEFT);
    return h + 8;
}

static void s_fact(cairo_t *cr, double x, double y, const char *label, const char *value)
{
    glci_chart_font(cr, 8, 0);
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    glci_chart_text(cr, x, y, label, GLCI_ALIGN_LEFT);
    glci_chart_font(cr, 20, 1);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_text(cr, x, y + 24, value, GLCI_ALIGN_LEFT);
}

static void s_heading(cairo_t *cr, double y, const char *text)
{
    glci_chart_font(cr, 11, 1);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_text(cr, S_MARGIN, y, text, GLCI_ALIGN_LEFT);
}

static void s_chart(cairo_t *cr, glci_chart_kind_t kind, double y, double h,
                    const glci_report_t *r, const glci_report_city_t *c)
{
    cairo_save(cr);
    cairo_translate(cr, S_MARGIN, y);
    glci_chart_draw(cr, kind, S_PAGE_W - 2 * S_MARGIN, h, r, c);
    cairo_restore(cr);
}

/* The city's name as page 1's title, whole whatever its length: at 22
 * points on up to two lines, else smaller on up to three, else at 12
 * points on as many as it takes (the 127 bytes a name may have take at
 * most four), broken between words or, in a word wider than the page,
 * between characters. Returns the last line's baseline. */
static double s_title(cairo_t *cr, const char *name, double w)
{
    static const struct {
        double size;
        size_t max_lines;       /* 0: as many as it takes */
    } sizes[] = {{22, 2}, {18, 3}, {15, 3}, {12, 0}};
    size_t k = 0, n;
    for (;; k++) {
        glci_chart_font(cr, sizes[k].size, 1);
        n = glci_chart_paragraph(cr, 0, 0, name, w, 0, 0);
        if (sizes[k].max_lines == 0 || n <= sizes[k].max_lines)
            break;
    }
    double first = 56 + sizes[k].size, line_h = sizes[k].size * 1.15;
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_paragraph(cr, S_MARGIN, first, name, w, line_h, 1);
    return first + line_h * (double)(n - 1);
}

static void s_page_one(cairo_t *cr, const glci_report_t *r, const glci_report_city_t *c)
{
    char line[512], fitted[512], v[64];
    double w = S_PAGE_W - 2 * S_MARGIN;
    glci_chart_font(cr, 8.5, 0);
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    snprintf(line, sizeof line, "UNESCO GLOBAL LEARNING CITY INDEX \xc2\xb7 CITY PROFILE %d",
             (int)r->period);
    glci_chart_text(cr, S_MARGIN, 50, line, GLCI_ALIGN_LEFT);
    double base = s_title(cr, c->name, w);
    snprintf(line, sizeof line, "Country %s \xc2\xb7 city id %s", c->country, c->id);
    glci_chart_font(cr, 9, 0);
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    glci_chart_fit(cr, line, w, fitted, sizeof fitted);
    glci_chart_text(cr, S_MARGIN, base + 16, fitted, GLCI_ALIGN_LEFT);
    double y = base + 28;
    y += s_synthetic(cr, r, c, y);

    snprintf(line, sizeof line, "Index %d", (int)r->period);
    glci_report_fmt_score(c->index, v, sizeof v);
    s_fact(cr, S_MARGIN, y + 10, line, v);
    if (c->ranked)
        snprintf(v, sizeof v, "%u of %zu", c->rank, r->n_ranked);
    else
        snprintf(v, sizeof v, "\xe2\x80\x93");      /* the line below says why */
    s_fact(cr, S_MARGIN + w * 0.25, y + 10, "Rank", v);
    if (c->has_result)
        snprintf(v, sizeof v, "%.0f%%", c->coverage * 100.0);
    else
        snprintf(v, sizeof v, "no data");
    s_fact(cr, S_MARGIN + w * 0.5, y + 10, "Coverage", v);
    glci_report_fmt_score(r->index_median[r->n_periods - 1], v, sizeof v);
    s_fact(cr, S_MARGIN + w * 0.75, y + 10, "Network median", v);
    y += 52;
    if (!c->has_result || !c->ranked) {
        if (!c->has_result)
            snprintf(line, sizeof line, "No result for %d: the city has no value that counts "
                     "for it.", (int)r->period);
        else
            snprintf(line, sizeof line, "Not ranked in %d: an area has no score or fewer than "
                     "%.0f%% of the indicators have a value.", (int)r->period,
                     r->fw->min_coverage * 100.0);
        glci_chart_font(cr, 9, 0);
        glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
        glci_chart_fit(cr, line, w, fitted, sizeof fitted);
        glci_chart_text(cr, S_MARGIN, y + 4, fitted, GLCI_ALIGN_LEFT);
        y += 14;
    }

    /* the three charts share what is left of the page */
    double heads = 3 * 18.0, avail = S_BOTTOM - y - heads;
    double h_radar = avail * 0.56, h_areas = avail * 0.2, h_trend = avail * 0.24;
    s_heading(cr, y + 12, "Focus areas against the network median");
    s_chart(cr, GLCI_CHART_RADAR, y + 18, h_radar, r, c);
    y += 18 + h_radar;
    s_heading(cr, y + 12, "Index and areas");
    s_chart(cr, GLCI_CHART_AREAS, y + 18, h_areas, r, c);
    y += 18 + h_areas;
    snprintf(line, sizeof line, "Index %d to %d", (int)r->first_period, (int)r->period);
    const glci_trend_cell_t *t = r->has_trends ? glci_report_trend_latest(r, c, 0) : NULL;
    if (t && t->has_change) {
        char change[32];
        size_t at = strlen(line);
        glci_trend_fmt(t->per_year, change, sizeof change);
        snprintf(line + at, sizeof line - at, " \xc2\xb7 %s, %s a year from %d to %d",
                 glci_trend_str(t->trend), change, (int)t->previous,
                 (int)c->round_period[c->n_rounds - 1]);
    }
    s_heading(cr, y + 12, line);
    s_chart(cr, GLCI_CHART_TREND, y + 18, h_trend, r, c);
    s_footer(cr, r, 1);
}

/* A light as shape and colour, then its word. */
static void s_light(cairo_t *cr, double x, double y, double size, glci_light_t light)
{
    if (light == GLCI_LIGHT_NONE)
        return;
    double s = size * 0.38, cy = y - size * 0.33;
    glci_chart_colour(cr, glci_colour_of_light(light), 1.0);
    if (light == GLCI_LIGHT_GREEN) {
        cairo_arc(cr, x + s, cy, s, 0, 2 * M_PI);
    } else if (light == GLCI_LIGHT_YELLOW) {
        cairo_move_to(cr, x, cy + s);
        cairo_line_to(cr, x + 2 * s, cy + s);
        cairo_line_to(cr, x + s, cy - s);
        cairo_close_path(cr);
    } else {
        cairo_rectangle(cr, x, cy - s, 2 * s, 2 * s);
    }
    cairo_fill(cr);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_text(cr, x + 2 * s + 3, y, glci_light_str(light), GLCI_ALIGN_LEFT);
}

/* A line of text under the indicator table. */
typedef struct {
    char text[320];
    int bold;
} s_note_t;

#define S_NOTES_MAX 24
#define S_NOTE_H 10.5
#define S_TABLE_TOP 96.0    /* the indicator table's first row */
#define S_ROW_MIN 9.0       /* its rows' least height (text 6.7 points) */

/* Adds text as one line fitted to w (bold or not) when there is room. */
static void s_note(cairo_t *cr, s_note_t *notes, size_t *n, double w, int bold,
                   const char *text)
{
    if (*n >= S_NOTES_MAX)
        return;
    glci_chart_font(cr, 7.5, bold);
    glci_chart_fit(cr, text, w, notes[*n].text, sizeof notes[*n].text);
    notes[(*n)++].bold = bold;
}

/* What is missing for the round: every indicator id in framework order,
 * in at most max_lines lines; when they do not fit, as many whole ids as
 * do and how many more there are (glci_chart_wrap_list). */
static void s_notes_missing(cairo_t *cr, const glci_report_t *r, const glci_report_city_t *c,
                            double w, size_t max_lines, s_note_t *notes, size_t *n)
{
    const glci_framework_t *fw = r->fw;
    uint32_t *miss = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *miss);
    size_t n_miss = glci_report_missing(r, c, miss);
    const char **ids = glci_xcalloc(n_miss ? n_miss : 1, sizeof *ids);
    char (*lines)[160] = glci_xcalloc(max_lines, sizeof *lines);
    char head[160];
    size_t nl = 0;
    for (size_t k = 0; k < n_miss; k++)
        ids[k] = fw->ind[miss[k]].id;
    glci_chart_font(cr, 7.5, 0);
    if (n_miss == 0) {
        snprintf(head, sizeof head, "Missing for the %d round: nothing, every indicator has a "
                 "value for %d.", (int)r->period, (int)r->period);
        nl = glci_chart_wrap(cr, head, w, max_lines, lines);
    } else {
        snprintf(head, sizeof head, "Missing for the %d round:", (int)r->period);
        glci_chart_wrap_list(cr, head, ids, n_miss, w, max_lines, lines, &nl);
    }
    for (size_t k = 0; k < nl && *n < S_NOTES_MAX; k++) {
        snprintf(notes[*n].text, sizeof notes[*n].text, "%s", lines[k]);
        notes[(*n)++].bold = 0;
    }
    free(lines);
    free(ids);
    free(miss);
}

/* A leading city's line: its name (shortened to half the line), score
 * and rank, then the indicators where it does better, largest gap first,
 * each with its value and this city's: whole ones only, as many as fit,
 * then how many more there are. An indicator is never cut, so no number
 * on the line is a shortened one. */
static void s_note_peer(cairo_t *cr, const glci_framework_t *fw, const glci_report_peer_t *peer,
                        double w, s_note_t *notes, size_t *n)
{
    if (*n >= S_NOTES_MAX)
        return;
    char name[256], line[sizeof notes->text], part[sizeof notes->text];
    char more[64];
    glci_chart_font(cr, 7.5, 0);
    glci_chart_fit(cr, peer->name, w * 0.5, name, sizeof name);
    size_t len = (size_t)snprintf(line, sizeof line, "    " S_FSI "%s" S_PDI " %.1f (rank %u)",
                                  name, peer->score, peer->rank);
    size_t shown = 0;
    for (; shown < peer->n_ind; shown++) {
        const glci_peer_ind_t *d = &peer->ind[shown];
        char v[32], mine[32];
        glci_format_value(d->value, v, sizeof v);
        if (d->city_present)
            glci_format_value(d->city_value, mine, sizeof mine);
        size_t plen = (size_t)snprintf(part, sizeof part, "%s%s %s %s (this city: %s)",
                                       shown ? "; " : ": ", fw->ind[d->ind].name, v,
                                       fw->ind[d->ind].unit, d->city_present ? mine : "no value");
        size_t rest = peer->n_ind - shown - 1;
        if (rest > 0)
            snprintf(more, sizeof more, "; and %zu more", rest);
        else
            more[0] = '\0';
        if (len + plen + strlen(more) >= sizeof line)
            break;
        memcpy(line + len, part, plen + 1);
        size_t mlen = strlen(more);
        memcpy(line + len + plen, more, mlen + 1);
        double fits = glci_chart_width(cr, line) <= w;
        line[len + plen] = '\0';
        if (!fits) {
            line[len] = '\0';
            break;
        }
        len += plen;
    }
    if (shown < peer->n_ind) {
        if (shown == 0)
            snprintf(more, sizeof more, ": %zu indicators where it does better", peer->n_ind);
        else
            snprintf(more, sizeof more, "; and %zu more", peer->n_ind - shown);
        if (len + strlen(more) < sizeof line) {
            memcpy(line + len, more, strlen(more) + 1);
            if (glci_chart_width(cr, line) > w)
                line[len] = '\0';
        }
    }
    memcpy(notes[*n].text, line, sizeof line);
    notes[(*n)++].bold = 0;
}

/* Whom to learn from: a line per weak focus area, then one per leading
 * city (s_note_peer). */
static void s_notes_peers(cairo_t *cr, const glci_report_t *r, const glci_report_city_t *c,
                          double w, s_note_t *notes, size_t *n)
{
    const glci_framework_t *fw = r->fw;
    char buf[1024];
    if (!c->has_result)
        return;                 /* page 1 says there is no result */
    if (c->n_peer_focus == 0) {
        snprintf(buf, sizeof buf, "Whom to learn from: no focus area below the network's median "
                 "in %d.", (int)r->period);
        s_note(cr, notes, n, w, 1, buf);
        return;
    }
    s_note(cr, notes, n, w, 1, "Whom to learn from: where the city is below the network's "
           "median, the cities that lead there and where they do better");
    for (size_t k = 0; k < c->n_peer_focus; k++) {
        const glci_report_peer_focus_t *pf = &c->peer_focus[k];
        snprintf(buf, sizeof buf, "%s: %.1f, network median %.1f (%zu cities)",
                 fw->focus[pf->focus].name, pf->score, pf->median, pf->n_scored);
        s_note(cr, notes, n, w, 1, buf);
        for (size_t p = 0; p < pf->n_peers; p++)
            s_note_peer(cr, fw, &pf->peers[p], w, notes, n);
    }
}

static void s_page_two(cairo_t *cr, const glci_report_t *r, const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    char line[512], fitted[512];
    double w = S_PAGE_W - 2 * S_MARGIN;
    /* the name shortened to what the line leaves, the page's subject whole */
    char tail[64], name[256];
    snprintf(tail, sizeof tail, " \xc2\xb7 indicators %d", (int)r->period);
    glci_chart_font(cr, 14, 1);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_fit(cr, c->name, w - glci_chart_width(cr, tail), name, sizeof name);
    snprintf(line, sizeof line, S_FSI "%s" S_PDI "%s", name, tail);
    glci_chart_text(cr, S_MARGIN, 54, line, GLCI_ALIGN_LEFT);
    glci_chart_font(cr, 8, 0);
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    snprintf(line, sizeof line, "Value used for %d, the period it comes from (carried: from an "
             "earlier one, at most %d years back), score 0-100.", (int)r->period,
             (int)fw->carry_forward);
    glci_chart_fit(cr, line, w, fitted, sizeof fitted);
    glci_chart_text(cr, S_MARGIN, 68, fitted, GLCI_ALIGN_LEFT);

    /* The notes under the table: what is missing, then whom to learn
     * from. The missing list may take the lines the peers leave while the
     * table's rows stay at least S_ROW_MIN high (and three lines however
     * large the framework). */
    s_note_t notes[S_NOTES_MAX], peers[S_NOTES_MAX];
    size_t n_notes = 0, n_peers = 0;
    if (r->has_peers)
        s_notes_peers(cr, r, c, w, peers, &n_peers);
    if (n_peers > S_NOTES_MAX - 3)
        n_peers = S_NOTES_MAX - 3;
    double rows = (double)(fw->n_ind + fw->n_focus);
    double room = floor((S_BOTTOM - S_TABLE_TOP - rows * S_ROW_MIN - 14) / S_NOTE_H);
    size_t lines = room > (double)(n_peers + 3) ? (size_t)room - n_peers : 3;
    if (lines > S_NOTES_MAX - n_peers)
        lines = S_NOTES_MAX - n_peers;
    s_notes_missing(cr, r, c, w, lines, notes, &n_notes);
    memcpy(notes + n_notes, peers, n_peers * sizeof *peers);
    n_notes += n_peers;
    double notes_h = S_NOTE_H * (double)n_notes + 14;

    /* columns */
    double x_name = S_MARGIN, x_value = S_MARGIN + w * 0.62, x_unit = x_value + 6;
    double x_period = S_MARGIN + w * 0.86, x_score = S_MARGIN + w * (r->has_lights ? 0.93 : 1.0);
    double x_light = x_score + 6;
    double name_w = x_value - x_name - 56;
    double y = S_TABLE_TOP - 6;
    glci_chart_font(cr, 8, 1);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_text(cr, x_name, y, "Indicator", GLCI_ALIGN_LEFT);
    glci_chart_text(cr, x_value, y, "Value", GLCI_ALIGN_RIGHT);
    glci_chart_text(cr, x_unit, y, "Unit", GLCI_ALIGN_LEFT);
    glci_chart_text(cr, x_period, y, "Period", GLCI_ALIGN_RIGHT);
    glci_chart_text(cr, x_score, y, "Score", GLCI_ALIGN_RIGHT);
    if (r->has_lights)
        glci_chart_text(cr, x_light, y, "Light", GLCI_ALIGN_LEFT);
    cairo_set_line_width(cr, 1.0);
    cairo_move_to(cr, S_MARGIN, y + 4);
    cairo_line_to(cr, S_MARGIN + w, y + 4);
    cairo_stroke(cr);
    y += 6;

    double rh = fmin(12.5, (S_BOTTOM - notes_h - y) / (rows > 0 ? rows : 1));
    double fs = fmin(8.5, rh * 0.74);
    for (uint32_t k = 0; k < fw->n_focus; k++) {
        const glci_focus_t *fo = &fw->focus[k];
        char s[32], m[32];
        glci_chart_colour(cr, GLCI_COLOUR_GRID, 0.35);
        cairo_rectangle(cr, S_MARGIN, y, w, rh);
        cairo_fill(cr);
        glci_report_fmt_score(c->focus[k], s,
                              sizeof s);
        glci_report_fmt_score(r->focus_median[k], m, sizeof m);
        glci_chart_font(cr, fs, 1);
        glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
        glci_chart_fit(cr, fo->name, w * 0.7, fitted, sizeof fitted);
        glci_chart_text(cr, x_name + 3, y + rh * 0.75, fitted, GLCI_ALIGN_LEFT);
        snprintf(line, sizeof line, "%s (median %s)", s, m);
        double right = S_MARGIN + w - 3;
        const glci_trend_cell_t *t = r->has_trends ?
            glci_report_trend_latest(r, c, 1 + fw->n_areas + k) : NULL;
        if (t && t->trend != GLCI_TREND_NONE) {
            right -= glci_chart_text(cr, right, y + rh * 0.75, glci_trend_str(t->trend),
                                     GLCI_ALIGN_RIGHT) + 2 + fs;
            glci_chart_trend_mark(cr, right + fs / 2, y + rh / 2, fs, t->trend);
            glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
            right -= 8;
        }
        glci_chart_text(cr, right, y + rh * 0.75, line, GLCI_ALIGN_RIGHT);
        y += rh;
        for (uint32_t j = 0; j < fo->n_ind; j++) {
            uint32_t i = fo->ind[j];
            const glci_indicator_t *ind = &fw->ind[i];
            const glci_report_ind_t *v = &c->ind[i];
            double by = y + rh * 0.75;
            glci_chart_font(cr, fs, 0);
            glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
            glci_chart_fit(cr, ind->name, name_w, fitted, sizeof fitted);
            glci_chart_text(cr, x_name + 3, by, fitted, GLCI_ALIGN_LEFT);
            if (v->present) {
                char val[32], sc[32];
                glci_format_value(v->value, val, sizeof val);
                glci_chart_text(cr, x_value, by, val, GLCI_ALIGN_RIGHT);
                snprintf(line, sizeof line, "%d%s", (int)v->period, v->carried ? " carried" : "");
                if (v->carried)
                    glci_chart_colour(cr, GLCI_COLOUR_RED, 1.0);
                glci_chart_text(cr, x_period, by, line, GLCI_ALIGN_RIGHT);
                glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
                snprintf(sc, sizeof sc, "%.1f", v->score);
                glci_chart_text(cr, x_score, by, sc, GLCI_ALIGN_RIGHT);
            } else {
                glci_chart_colour(cr, GLCI_COLOUR_RED, 1.0);
                glci_chart_text(cr, x_value, by, "no value", GLCI_ALIGN_RIGHT);
                glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
            }
            glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
            glci_chart_fit(cr, ind->unit, x_period - x_unit - 40, fitted, sizeof fitted);
            glci_chart_text(cr, x_unit, by, fitted, GLCI_ALIGN_LEFT);
            if (r->has_lights)
                s_light(cr, x_light, by, fs, v->light);
            y += rh;
        }
    }
    y += 14;
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    for (size_t k = 0; k < n_notes; k++) {
        glci_chart_font(cr, 7.5, notes[k].bold);
        glci_chart_text(cr, S_MARGIN, y + S_NOTE_H * (double)k, notes[k].text, GLCI_ALIGN_LEFT);
    }
    s_footer(cr, r, 2);
}

int glci_report_write_profile(const glci_report_t *r, const glci_report_city_t *c,
                              const char *path, char *err, size_t errlen)
{
    glci_report_file_t file;
    int rc = glci_report_file_open(&file, path, err, errlen);
    if (rc != 0)
        return rc;
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(s_write, file.f, S_PAGE_W,
                                                             S_PAGE_H);
    char title[256];
    snprintf(title, sizeof title, "%s: Global Learning City Index %d, city profile", c->name,
             (int)r->period);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "glci report");
    cairo_t *cr = cairo_create(s);
    s_page_one(cr, r, c);
    cairo_show_page(cr);
    s_page_two(cr, r, c);
    cairo_show_page(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        glci_report_file_abort(&file);
        snprintf(err, errlen, "cannot write %s: %s", path,
                 st == CAIRO_STATUS_WRITE_ERROR ? "write error" : cairo_status_to_string(st));
        return st == CAIRO_STATUS_WRITE_ERROR ? GLCI_REPORT_EIO : GLCI_REPORT_EDRAW;
    }
    return glci_report_file_commit(&file, err, errlen);
}
