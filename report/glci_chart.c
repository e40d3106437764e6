/* The report's charts (glci_chart.h): radar, trend and area bars, drawn
 * on any Cairo surface, and their SVG documents for the web pages. */
#include "glci_chart.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-svg.h>
#include <fribidi.h>
#include <pango/pangocairo.h>

#include "glci_alloc.h"
#include "glci_report_int.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define S_FONT "DejaVu Sans"
#define S_LEGEND_H 24.0
/* One size for every text of a chart (and 9 for the radar's ring digits):
 * each size and weight is a separate set of glyph outlines in an SVG, and
 * those are most of its bytes. */
#define S_TEXT 10.0
#define S_DIGITS 9.0

/* ---- Palette ------------------------------------------------------------ */

static const glci_colour_def_t s_palette[GLCI_COLOURS] = {
    [GLCI_COLOUR_CITY]   = {0.000, 0.447, 0.698, "#0072B2"},
    [GLCI_COLOUR_MEDIAN] = {0.902, 0.624, 0.000, "#E69F00"},
    [GLCI_COLOUR_GREEN]  = {0.000, 0.620, 0.451, "#009E73"},
    [GLCI_COLOUR_YELLOW] = {0.941, 0.894, 0.259, "#F0E442"},
    [GLCI_COLOUR_RED]    = {0.835, 0.369, 0.000, "#D55E00"},
    [GLCI_COLOUR_INK]    = {0.106, 0.106, 0.122, "#1B1B1F"},
    [GLCI_COLOUR_MUTED]  = {0.345, 0.345, 0.376, "#585860"},
    [GLCI_COLOUR_GRID]   = {0.800, 0.800, 0.820, "#CCCCD1"},
};

const glci_colour_def_t *glci_colour(glci_colour_t which)
{
    return &s_palette[which < GLCI_COLOURS ? which : GLCI_COLOUR_INK];
}

glci_colour_t glci_colour_of_light(glci_light_t light)
{
    switch (light) {
    case GLCI_LIGHT_GREEN:  return GLCI_COLOUR_GREEN;
    case GLCI_LIGHT_YELLOW: return GLCI_COLOUR_YELLOW;
    case GLCI_LIGHT_RED:    return GLCI_COLOUR_RED;
    default:                return GLCI_COLOUR_MUTED;
    }
}

glci_colour_t glci_colour_of_trend(glci_trend_t trend)
{
    switch (trend) {
    case GLCI_TREND_IMPROVING: return GLCI_COLOUR_GREEN;
    case GLCI_TREND_DECLINING: return GLCI_COLOUR_RED;
    default:                   return GLCI_COLOUR_MUTED;
    }
}

void glci_chart_colour(cairo_t *cr, glci_colour_t which, double alpha)
{
    const glci_colour_def_t *c = glci_colour(which);
    cairo_set_source_rgba(cr, c->r, c->g, c->b, alpha);
}

/* ---- Text --------------------------------------------------------------- */

/* Text goes through Pango (HarfBuzz shapes it, FriBidi orders it), so
 * Arabic letters join and right-to-left names read right to left; Cairo's
 * toy text API does neither. The font stays in cr's state as a toy font
 * face (family, weight, size), so cairo_save/cairo_restore keep and give
 * back the font as they did before; each measure or draw reads it from
 * there. */

static const cairo_user_data_key_t s_layout_key;

/* The layout that measures and draws cr's text, made on first use and
 * freed with cr (a Pango context is per thread, as is a cairo_t). Hinting
 * and glyph-position rounding are off: SVG and PDF are vector output, and
 * a width measured here is the width drawn at any scale. */
static PangoLayout *s_layout(cairo_t *cr)
{
    PangoLayout *l = cairo_get_user_data(cr, &s_layout_key);
    if (!l) {
        l = pango_cairo_create_layout(cr);
        PangoContext *ctx = pango_layout_get_context(l);
        cairo_font_options_t *fo = cairo_font_options_create();
        cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
        cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
        pango_cairo_context_set_font_options(ctx, fo);
        cairo_font_options_destroy(fo);
        pango_context_set_round_glyph_positions(ctx, FALSE);
        pango_layout_set_single_paragraph_mode(l, TRUE);
        pango_layout_set_auto_dir(l, FALSE);
        cairo_set_user_data(cr, &s_layout_key, l, g_object_unref);
    }
    pango_cairo_update_layout(cr, l);

    PangoFontDescription *fd = pango_font_description_new();
    cairo_font_face_t *face = cairo_get_font_face(cr);
    int bold = 0;
    if (cairo_font_face_get_type(face) == CAIRO_FONT_TYPE_TOY) {
        pango_font_description_set_family(fd, cairo_toy_font_face_get_family(face));
        bold = cairo_toy_font_face_get_weight(face) == CAIRO_FONT_WEIGHT_BOLD;
    } else {
        pango_font_description_set_family_static(fd, S_FONT);
    }
    cairo_matrix_t m;
    cairo_get_font_matrix(cr, &m);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(fd, m.yy * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);   /* no new layout when equal */
    pango_font_description_free(fd);
    return l;
}

/* The direction of text as one paragraph (Unicode bidi rules P2 and P3):
 * that of its first strong character outside isolates, left to right when
 * it has none. A line that starts with an isolated name ("\u2068NAME\u2069
 * 87.3 (rank 2)") is laid out left to right whatever script the name is
 * in, and the name is still read right to left within it. */
static PangoDirection s_direction(const char *text)
{
    int depth = 0;
    for (const char *p = text; *p; p = g_utf8_next_char(p)) {
        FriBidiCharType t = fribidi_get_bidi_type(g_utf8_get_char(p));
        if (t == FRIBIDI_TYPE_LRI || t == FRIBIDI_TYPE_RLI || t == FRIBIDI_TYPE_FSI)
            depth++;
        else if (t == FRIBIDI_TYPE_PDI && depth > 0)
            depth--;
        else if (depth == 0 && FRIBIDI_IS_LETTER(t))
            return FRIBIDI_IS_RTL(t) ? PANGO_DIRECTION_RTL : PANGO_DIRECTION_LTR;
    }
    return PANGO_DIRECTION_LTR;
}

/* The layout holding text (bytes that are not UTF-8 shown as U+FFFD). */
static PangoLayout *s_set(cairo_t *cr, const char *text)
{
    PangoLayout *l = s_layout(cr);
    char *valid = g_utf8_validate(text, -1, NULL) ? NULL : g_utf8_make_valid(text, -1);
    const char *t = valid ? valid : text;
    PangoContext *ctx = pango_layout_get_context(l);
    PangoDirection dir = s_direction(t);
    if (pango_context_get_base_dir(ctx) != dir) {
        pango_context_set_base_dir(ctx, dir);
        pango_layout_context_changed(l);
    }
    pango_layout_set_width(l, -1);     /* one line, unless a paragraph asks */
    pango_layout_set_text(l, t, -1);
    g_free(valid);
    return l;
}

void glci_chart_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, S_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double s_width(cairo_t *cr, const char *text)
{
    PangoRectangle logical;
    pango_layout_get_extents(s_set(cr, text), NULL, &logical);
    return (double)logical.width / PANGO_SCALE;
}

double glci_chart_width(cairo_t *cr, const char *text)
{
    return s_width(cr, text);
}

double glci_chart_text(cairo_t *cr, double x, double y, const char *text, glci_align_t align)
{
    PangoLayout *l = s_set(cr, text);
    PangoRectangle logical;
    pango_layout_get_extents(l, NULL, &logical);
    double w = (double)logical.width / PANGO_SCALE;
    if (align == GLCI_ALIGN_CENTRE)
        x -= w / 2;
    else if (align == GLCI_ALIGN_RIGHT)
        x -= w;
    cairo_move_to(cr, x - (double)logical.x / PANGO_SCALE,
                  y - (double)pango_layout_get_baseline(l) / PANGO_SCALE);
    pango_cairo_show_layout(cr, l);
    cairo_new_path(cr);
    return w;
}

size_t glci_chart_paragraph(cairo_t *cr, double x, double y, const char *text, double max_w,
                            double line_h, int draw)
{
    PangoLayout *l = s_set(cr, text);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_width(l, (int)(max_w * PANGO_SCALE));
    size_t n = (size_t)pango_layout_get_line_count(l);
    if (!draw)
        return n;
    PangoLayoutIter *it = pango_layout_get_iter(l);
    size_t k = 0;
    do {
        PangoRectangle logical;
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        cairo_move_to(cr, x + (double)logical.x / PANGO_SCALE, y + line_h * (double)k++);
        pango_cairo_show_layout_line(cr, pango_layout_iter_get_line_readonly(it));
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    cairo_new_path(cr);
    return n;
}

/* Length of the UTF-8 character starting at s (1 for a stray byte). */
static size_t s_char_len(const char *s)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    for (size_t k = 1; k < n; k++)
        if (((unsigned char)s[k] & 0xc0) != 0x80)
            return 1;
    return n;
}

void glci_chart_fit(cairo_t *cr, const char *text, double max_w, char *buf, size_t len)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    /* glci_chart_wrap fits a line in place (text == buf): work from a copy,
     * since snprintf from a buffer into itself is undefined. */
    char *own = glci_xstrdup(text);
    text = own;
    snprintf(buf, len, "%s", text);
    /* whole only when it fits the buffer too: a longer text is cut below,
     * at a character boundary and with the ellipsis, never by bytes */
    if (strlen(text) < len && s_width(cr, buf) <= max_w) {
        free(own);
        return;
    }
    /* The longest prefix of whole characters that fits with the ellipsis,
     * by bisection over the character boundaries (a layout per trial). */
    size_t n = strlen(text), n_cuts = 0;
    size_t *cuts = glci_xcalloc(n + 1, sizeof *cuts);
    for (size_t at = 0; at < n; at += s_char_len(text + at))
        cuts[n_cuts++] = at + s_char_len(text + at);
    char *trial = glci_xmalloc(n + sizeof ellipsis);
    size_t lo = 0, hi = n_cuts;     /* cuts[0..lo) fit, cuts[hi..) do not */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, next = cuts[mid];
        memcpy(trial, text, next);
        memcpy(trial + next, ellipsis, sizeof ellipsis);
        if (s_width(cr, trial) > max_w)
            hi = mid;
        else
            lo = mid + 1;
    }
    size_t keep = lo > 0 ? cuts[lo - 1] : 0;
    while (keep > 0 && text[keep - 1] == ' ')
        keep--;
    if (keep + sizeof ellipsis > len)
        keep = len > sizeof ellipsis ? len - sizeof ellipsis : 0;
    while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
        keep--;
    snprintf(buf, len, "%.*s%s", (int)keep, text, ellipsis);
    free(trial);
    free(cuts);
    free(own);
}

size_t glci_chart_wrap(cairo_t *cr, const char *text, double max_w, size_t max_lines,
                       char (*lines)[160])
{
    size_t n = 0;
    const char *p = text;
    while (*p == ' ')
        p++;
    while (*p && n < max_lines) {
        if (n == max_lines - 1) {
            glci_chart_fit(cr, p, max_w, lines[n], sizeof lines[n]);
            return n + 1;
        }
        /* The most words that fit; a single word too wide is cut. */
        size_t best = 0, end = 0;
        char trial[160];
        for (;;) {
            while (p[end] && p[end] != ' ')
                end++;
            if (end >= sizeof trial)
                break;
            memcpy(trial, p, end);
            trial[end] = '\0';
            if (best > 0 && s_width(cr, trial) > max_w)
                break;
            best = end;
            if (!p[end])
                break;
            end++;
        }
        if (best == 0 || best >= sizeof lines[n]) {
            glci_chart_fit(cr, p, max_w, lines[n], sizeof lines[n]);
            return n + 1;
        }
        memcpy(lines[n], p, best);
        lines[n][best] = '\0';
        if (s_width(cr, lines[n]) > max_w)
            glci_chart_fit(cr, lines[n], max_w, lines[n], sizeof lines[n]);
        n++;
        p += best;
        while (*p == ' ')
            p++;
    }
    return n;
}

/* Greedy layout of head and items[0..k), each but the last followed by
 * ",", the last by tail, into at most max_lines lines. Returns 1 when it
 * fits (lines and *n_lines filled), else 0 with *placed the items that
 * fitted before the lines ran out. */
static int s_list_fit(cairo_t *cr, const char *head, const char *const *items, size_t k,
                      const char *tail, double max_w, size_t max_lines, char (*lines)[160],
                      size_t *n_lines, size_t *placed)
{
    size_t nl = 0;
    char cur[160], trial[2 * 160];
    snprintf(cur, sizeof cur, "%s", head);
    for (size_t i = 0; i < k; i++) {
        char tok[160];
        snprintf(tok, sizeof tok, "%s%s", items[i], i + 1 < k ? "," : tail);
        if (s_width(cr, tok) > max_w)
            glci_chart_fit(cr, tok, max_w, tok, sizeof tok);   /* alone too wide */
        snprintf(trial, sizeof trial, "%s%s%s", cur, cur[0] ? " " : "", tok);
        if (strlen(trial) < sizeof cur && s_width(cr, trial) <= max_w) {
            memcpy(cur, trial, strlen(trial) + 1);
            continue;
        }
        if (nl + 1 >= max_lines) {
            *placed = i;
            return 0;
        }
        memcpy(lines[nl++], cur, sizeof cur);
        memcpy(cur, tok, sizeof tok);
    }
    if (k == 0) {   /* head and tail alone */
        snprintf(trial, sizeof trial, "%s%s", cur, cur[0] ? tail : tail + (tail[0] == ' '));
        glci_chart_fit(cr, trial, max_w, cur, sizeof cur);
    }
    memcpy(lines[nl++], cur, sizeof cur);
    *n_lines = nl;
    *placed = k;
    return 1;
}

size_t glci_chart_wrap_list(cairo_t *cr, const char *head, const char *const *items, size_t n,
                            double max_w, size_t max_lines, char (*lines)[160],
                            size_t *n_lines)
{
    assert(max_lines >= 1);
    size_t k = n;
    if (s_list_fit(cr, head, items, n, ".", max_w, max_lines, lines, n_lines, &k))
        return n;
    /* Fewer items, with the count after the last: the most that fit, at
     * most those that fitted without the count (k == 0 always fits). */
    for (;; k--) {
        char tail[64];
        size_t placed;
        snprintf(tail, sizeof tail, " \xe2\x80\xa6 and %zu more.", n - k);
        if (s_list_fit(cr, head, items, k, tail, max_w, max_lines, lines, n_lines, &placed))
            return k;
    }
}

/* ---- Shared pieces ------------------------------------------------------- */

static void s_marker_circle(cairo_t *cr, double x, double y, double rad)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, rad, 0, 2 * M_PI);
}

static void s_marker_square(cairo_t *cr, double x, double y, double half)
{
    cairo_rectangle(cr, x - half, y - half, 2 * half, 2 * half);
}

static void s_city_line(cairo_t *cr)
{
    glci_chart_colour(cr, GLCI_COLOUR_CITY, 1.0);
    cairo_set_line_width(cr, 2.5);
    cairo_set_dash(cr, NULL, 0, 0);
}

static void s_median_line(cairo_t *cr)
{
    static const double dash[] = {6.0, 4.0};
    glci_chart_colour(cr, GLCI_COLOUR_MEDIAN, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_set_dash(cr, dash, 2, 0);
}

void glci_chart_trend_mark(cairo_t *cr, double x, double y, double size, glci_trend_t trend)
{
    if (trend == GLCI_TREND_NONE)
        return;
    /* drawn pointing right, then turned: a shaft and a head */
    double l = size / 2, t = size * 0.13, head = size * 0.5;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (trend != GLCI_TREND_STAGNATING)
        cairo_rotate(cr, trend == GLCI_TREND_IMPROVING ? -M_PI / 2 : M_PI / 2);
    glci_chart_colour(cr, glci_colour_of_trend(trend), 1.0);
    cairo_move_to(cr, -l, -t);
    cairo_line_to(cr, l - head, -t);
    cairo_line_to(cr, l - head, -size / 2);
    cairo_line_to(cr, l, 0);
    cairo_line_to(cr, l - head, size / 2);
    cairo_line_to(cr, l - head, t);
    cairo_line_to(cr, -l, t);
    cairo_close_path(cr);
    cairo_fill(cr);
    cairo_restore(cr);
}

/* The legend across the top: the city (solid blue, circles) and the
 * network median (dashed orange, squares); name_w is the room for the
 * city's name. */
static void s_legend(cairo_t *cr, double name_w, const glci_report_t *r,
                     const glci_report_city_t *c)
{
    char label[160], median[96];
    glci_chart_font(cr, S_TEXT, 0);
    double y = 15, x = 4;
    s_city_line(cr);
    cairo_move_to(cr, x, y - 4);
    cairo_line_to(cr, x + 26, y - 4);
    cairo_stroke(cr);
    s_marker_circle(cr, x + 13, y - 4, 3.5);
    cairo_fill(cr);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    glci_chart_fit(cr, c->name, name_w, label, sizeof label);
    x += 32 + glci_chart_text(cr, x + 32, y, label, GLCI_ALIGN_LEFT) + 22;
    s_median_line(cr);
    cairo_move_to(cr, x, y - 4);
    cairo_line_to(cr, x + 26, y - 4);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    s_marker_square(cr, x + 13, y - 4, 3.2);
    cairo_fill(cr);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    snprintf(median, sizeof median, "Network median (%zu cities)", r->n_with_result);
    glci_chart_text(cr, x + 32, y, median, GLCI_ALIGN_LEFT);
}

/* ---- Radar --------------------------------------------------------------- */

static void s_radar(cairo_t *cr, double w, double h, const glci_report_t *r,
                    const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    uint32_t n = fw->n_focus;
    s_legend(cr, w * 0.45, r, c);
    if (n < 3)
        return;
    double top = S_LEGEND_H + 6;
    double label_w = w * 0.19;
    double cx = w / 2, cy = top + (h - top) / 2;
    double rad = fmin(w / 2 - label_w - 12, (h - top) / 2 - 42);
    if (rad < 20)
        rad = 20;
    double *ang = glci_xcalloc(n, sizeof *ang);
    for (uint32_t k = 0; k < n; k++)
        ang[k] = -M_PI / 2 + 2 * M_PI * k / n;

    /* rings at 25, 50, 75, 100 and the spokes */
    glci_chart_colour(cr, GLCI_COLOUR_GRID, 1.0);
    cairo_set_line_width(cr, 1.0);
    for (int ring = 1; ring <= 4; ring++) {
        double rr = rad * ring / 4.0;
        for (uint32_t k = 0; k <= n; k++) {
            double x = cx + rr * cos(ang[k % n]), y = cy + rr * sin(ang[k % n]);
            if (k == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
    }
    for (uint32_t k = 0; k < n; k++) {
        cairo_move_to(cr, cx, cy);
        cairo_line_to(cr, cx + rad * cos(ang[k]), cy + rad * sin(ang[k]));
    }
    cairo_stroke(cr);
    glci_chart_font(cr, S_DIGITS, 0);
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    for (int ring = 1; ring <= 4; ring++) {
        char t[8];
        snprintf(t, sizeof t, "%d", ring * 25);
        glci_chart_text(cr, cx + 3, cy - rad * ring / 4.0 + 10, t, GLCI_ALIGN_LEFT);
    }

    /* the median, then the city on top */
    s_median_line(cr);
    int started = 0;
    for (uint32_t k = 0; k < n; k++) {
        double v = r->focus_median[k].present ? r->focus_median[k].score : 0.0;
        double x = cx + rad * v / 100 * cos(ang[k]), y = cy + rad * v / 100 * sin(ang[k]);
        if (!started)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
        started = 1;
    }
    cairo_close_path(cr);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    for (uint32_t k = 0; k < n; k++) {
        if (!r->focus_median[k].present)
            continue;
        double v = r->focus_median[k].score;
        s_marker_square(cr, cx + rad * v / 100 * cos(ang[k]), cy + rad * v / 100 * sin(ang[k]),
                        3.0);
        cairo_fill(cr);
    }
    if (c->has_result) {
        for (uint32_t k = 0; k < n; k++) {
            double v = c->focus[k].present ? c->focus[k].score : 0.0;
            double x = cx + rad * v / 100 * cos(ang[k]), y = cy + rad * v / 100 * sin(ang[k]);
            if (k == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
        }
        cairo_close_path(cr);
        glci_chart_colour(cr, GLCI_COLOUR_CITY, 0.16);
        cairo_fill_preserve(cr);
        s_city_line(cr);
        cairo_stroke(cr);
        for (uint32_t k = 0; k < n; k++) {
            double v = c->focus[k].present ? c->focus[k].score : 0.0;
            double x = cx + rad * v / 100 * cos(ang[k]), y = cy + rad * v / 100 * sin(ang[k]);
            s_marker_circle(cr, x, y, 3.5);
            if (c->focus[k].present) {
                cairo_fill(cr);
            } else {
                cairo_set_source_rgb(cr, 1, 1, 1);
                cairo_fill_preserve(cr);
                s_city_line(cr);
                cairo_set_line_width(cr, 1.5);
                cairo_stroke(cr);
            }
        }
    }

    /* labels: the focus-area name, then the city's score */
    for (uint32_t k = 0; k < n; k++) {
        char lines[3][160], score[32];
        double co = cos(ang[k]), si = sin(ang[k]);
        double ax = cx + (rad + 10) * co, ay = cy + (rad + 10) * si;
        glci_align_t align = co > 0.3 ? GLCI_ALIGN_LEFT : co < -0.3 ? GLCI_ALIGN_RIGHT
                                                                     : GLCI_ALIGN_CENTRE;
        /* a label above or below the centre must stay clear of its
         * neighbours, which start (rad + 10) sin(pi / 6) to either side */
        double max_w = align == GLCI_ALIGN_CENTRE ? fmin(label_w * 1.6, rad + 2) : label_w;
        glci_chart_font(cr, S_TEXT, 0);
        size_t nl = glci_chart_wrap(cr, fw->focus[k].name, max_w, 3, lines);
        if (!c->has_result)
            score[0] = '\0';
        else if (c->focus[k].present)
            snprintf(score, sizeof score, "%.1f", c->focus[k].score);
        else
            snprintf(score, sizeof score, "no data");
        double lh = 12.0;
        double block = lh * (double)(nl + (score[0] != '\0'));
        double y0 = si < -0.3 ? ay - block + 8 : si > 0.3 ? ay + 9 : ay - block / 2 + 9;
        glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
        for (size_t l = 0; l < nl; l++)
            glci_chart_text(cr, ax, y0 + lh * (double)l, lines[l], align);
        if (score[0]) {
            glci_chart_font(cr, S_TEXT, 1);
            glci_chart_colour(cr, GLCI_COLOUR_CITY, 1.0);
            glci_chart_text(cr, ax, y0 + lh * (double)nl, score, align);
        }
    }
    free(ang);
}

/* ---- Trend --------------------------------------------------------------- */

static void s_trend(cairo_t *cr, double w, double h, const glci_report_t *r,
                    const glci_report_city_t *c)
{
    s_legend(cr, w * 0.45, r, c);
    double x0 = 44, x1 = w - 24, y0 = S_LEGEND_H + 14, y1 = h - 26;
    size_t n = r->n_periods;
    glci_chart_font(cr, S_TEXT, 0);
    cairo_set_line_width(cr, 1.0);
    for (int g = 0; g <= 4; g++) {
        double y = y1 - (y1 - y0) * g / 4.0;
        char t[8];
        glci_chart_colour(cr, GLCI_COLOUR_GRID, 1.0);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x1, y);
        cairo_stroke(cr);
        snprintf(t, sizeof t, "%d", g * 25);
        glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
        glci_chart_text(cr, x0 - 6, y + 3.5, t, GLCI_ALIGN_RIGHT);
    }
    double pad = 16;
    double *xs = glci_xcalloc(n, sizeof *xs);
    for (size_t i = 0; i < n; i++)
        xs[i] = n == 1 ? (x0 + x1) / 2 : x0 + pad + (x1 - x0 - 2 * pad) * (double)i / (double)(n - 1);
    size_t step = n <= 12 ? 1 : (n + 11) / 12;
    glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
    for (size_t i = 0; i < n; i++) {
        if (i % step != 0 && i != n - 1)
            continue;
        char t[16];
        snprintf(t, sizeof t, "%d", (int)(r->first_period + (int32_t)i));
        glci_chart_text(cr, xs[i], h - 8, t, GLCI_ALIGN_CENTRE);
    }
#define S_Y(v) (y1 - (y1 - y0) * (v) / 100.0)
    /* median: dashed, squares; gaps where no city had an index */
    s_median_line(cr);
    for (size_t i = 0; i < n; i++) {
        if (!r->index_median[i].present)
            continue;
        if (i > 0 && r->index_median[i - 1].present)
            cairo_line_to(cr, xs[i], S_Y(r->index_median[i].score));
        else
            cairo_move_to(cr, xs[i], S_Y(r->index_median[i].score));
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    for (size_t i = 0; i < n; i++)
        if (r->index_median[i].present) {
            s_marker_square(cr, xs[i], S_Y(r->index_median[i].score), 3.2);
            cairo_fill(cr);
        }
    /* city: solid, circles, its values written above the points */
    s_city_line(cr);
    for (size_t i = 0; i < n; i++) {
        if (!c->trend[i].present)
            continue;
        if (i > 0 && c->trend[i - 1].present)
            cairo_line_to(cr, xs[i], S_Y(c->trend[i].score));
        else
            cairo_move_to(cr, xs[i], S_Y(c->trend[i].score));
    }
    cairo_stroke(cr);
    glci_chart_font(cr, S_TEXT, 1);
    for (size_t i = 0; i < n; i++) {
        if (!c->trend[i].present)
            continue;
        double y = S_Y(c->trend[i].score);
        glci_chart_colour(cr, GLCI_COLOUR_CITY, 1.0);
        s_marker_circle(cr, xs[i], y, 4.0);
        cairo_fill(cr);
        if (n <= 12) {
            char t[16];
            snprintf(t, sizeof t, "%.1f", c->trend[i].score);
            glci_chart_text(cr, xs[i], y - 9, t, GLCI_ALIGN_CENTRE);
        }
    }
#undef S_Y
    free(xs);
}

/* ---- Area bars ----------------------------------------------------------- */

/* One bar: name, the score's bar with the median marked, the score and,
 * when trend is not NULL, the trend class's mark after it. */
static void s_bar_row(cairo_t *cr, double w, double y, double row_h, const char *name,
                      int bold, glci_report_score_t v, glci_report_score_t median,
                      const glci_trend_cell_t *trend)
{
    char lines[2][160], t[32];
    double label_w = w * 0.36, bx0 = label_w + 10, bx1 = w - (trend ? 72 : 52);
    double bar_h = fmin(16, row_h * 0.5), by = y + (row_h - bar_h) / 2;
    glci_chart_font(cr, S_TEXT, bold);
    size_t nl = glci_chart_wrap(cr, name, label_w, 2, lines);
    glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
    double ty = y + row_h / 2 + 3.5 - 6.0 * (double)(nl - 1);
    for (size_t l = 0; l < nl; l++)
        glci_chart_text(cr, 0, ty + 12.0 * (double)l, lines[l], GLCI_ALIGN_LEFT);
    glci_chart_colour(cr, GLCI_COLOUR_GRID, 0.45);
    cairo_rectangle(cr, bx0, by, bx1 - bx0, bar_h);
    cairo_fill(cr);
    glci_chart_font(cr, S_TEXT, 1);
    if (v.present) {
        glci_chart_colour(cr, GLCI_COLOUR_CITY, 1.0);
        cairo_rectangle(cr, bx0, by, (bx1 - bx0) * fmax(0, fmin(100, v.score)) / 100, bar_h);
        cairo_fill(cr);
        snprintf(t, sizeof t, "%.1f", v.score);
        glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
        glci_chart_text(cr, bx1 + 8, by + bar_h / 2 + 3.5, t, GLCI_ALIGN_LEFT);
    } else {
        glci_chart_font(cr, S_TEXT, 0);
        glci_chart_colour(cr, GLCI_COLOUR_MUTED, 1.0);
        glci_chart_text(cr, bx0 + 6, by + bar_h / 2 + 3.5, "no score", GLCI_ALIGN_LEFT);
    }
    if (trend)
        glci_chart_trend_mark(cr, w - 9, by + bar_h / 2, 12, trend->trend);
    if (median.present) {
        static const double dash[] = {3.0, 2.0};
        double mx = bx0 + (bx1 - bx0) * fmax(0, fmin(100, median.score)) / 100;
        glci_chart_colour(cr, GLCI_COLOUR_MEDIAN, 1.0);
        cairo_set_line_width(cr, 2.0);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, mx, by - 5);
        cairo_line_to(cr, mx, by + bar_h + 5);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        s_marker_square(cr, mx, by - 5, 3.2);
        cairo_fill(cr);
    }
}

static void s_areas(cairo_t *cr, double w, double h, const glci_report_t *r,
                    const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    /* the trends of the latest reporting round, when known */
    int trends = r->has_trends && c->n_rounds > 0;
    s_legend(cr, w * (trends ? 0.3 : 0.45), r, c);
    if (trends) {
        glci_chart_font(cr, S_TEXT, 0);
        glci_chart_colour(cr, GLCI_COLOUR_INK, 1.0);
        double x = w - 4 - glci_chart_text(cr, w - 4, 15, "Trend", GLCI_ALIGN_RIGHT) - 10;
        for (int k = GLCI_TREND_DECLINING; k >= GLCI_TREND_IMPROVING; k--, x -= 14)
            glci_chart_trend_mark(cr, x, 11, 10, (glci_trend_t)k);
    }
    double top = S_LEGEND_H + 8;
    size_t rows = 1 + fw->n_areas;
    double row_h = (h - top) / (double)rows;
    s_bar_row(cr, w, top, row_h, "Index", 1, c->index, r->index_median[r->n_periods - 1],
              trends ? glci_report_trend_latest(r, c, 0) : NULL);
    for (uint32_t a = 0; a < fw->n_areas; a++)
        s_bar_row(cr, w, top + row_h * (double)(a + 1), row_h, fw->areas[a].name, 0,
                  c->areas[a], r->area_median[a],
                  trends ? glci_report_trend_latest(r, c, 1 + a) : NULL);
}

/* ---- Entry points -------------------------------------------------------- */

const char *glci_chart_name(glci_chart_kind_t kind)
{
    switch (kind) {
    case GLCI_CHART_RADAR: return "radar";
    case GLCI_CHART_TREND: return "trend";
    default:               return "areas";
    }
}

void glci_chart_size(glci_chart_kind_t kind, double *w, double *h)
{
    *w = 640;
    *h = kind == GLCI_CHART_RADAR ? 500 : kind == GLCI_CHART_TREND ? 280 : 230;
}

void glci_chart_draw(cairo_t *cr, glci_chart_kind_t kind, double w, double h,
                     const glci_report_t *r, const glci_report_city_t *c)
{
    cairo_save(cr);
    /* Smaller than its web size (the PDF), a chart is drawn at that size
     * and scaled down, so text and markers keep their proportions. */
    double k = fmin(1.0, fmax(0.7, w / 640.0));
    cairo_scale(cr, k, k);
    w /= k;
    h /= k;
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    switch (kind) {
    case GLCI_CHART_RADAR: s_radar(cr, w, h, r, c); break;
    case GLCI_CHART_TREND: s_trend(cr, w, h, r, c); break;
    default:               s_areas(cr, w, h, r, c); break;
    }
    cairo_restore(cr);
}

void glci_chart_title(glci_chart_kind_t kind, const glci_report_t *r,
                      const glci_report_city_t *c, char *buf, size_t len)
{
    switch (kind) {
    case GLCI_CHART_RADAR:
        snprintf(buf, len, "%s: focus-area scores %d against the network median", c->name,
                 (int)r->period);
        break;
    case GLCI_CHART_TREND:
        snprintf(buf, len, "%s: index %d to %d against the network median", c->name,
                 (int)r->first_period, (int)r->period);
        break;
    default:
        snprintf(buf, len, "%s: index and area scores %d against the network median",
                 c->name, (int)r->period);
        break;
    }
}

/* Appends printf text to buf at *at, never past len. */
static void s_add(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_add(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    if (*at >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < len ? *at + (size_t)n : len;
}

void glci_chart_describe(glci_chart_kind_t kind, const glci_report_t *r,
                         const glci_report_city_t *c, char *buf, size_t len)
{
    const glci_framework_t *fw = r->fw;
    size_t at = 0;
    buf[0] = '\0';
    if (!c->has_result && kind != GLCI_CHART_TREND) {
        s_add(buf, len, &at, "%s has no result for %d; the chart shows the network median only.",
              c->name, (int)r->period);
        return;
    }
    if (kind == GLCI_CHART_RADAR) {
        int best = -1, worst = -1;
        uint32_t above = 0, scored = 0;
        for (uint32_t f = 0; f < fw->n_focus; f++) {
            if (!c->focus[f].present)
                continue;
            scored++;
            if (best < 0 || c->focus[f].score > c->focus[best].score)
                best = (int)f;
            if (worst < 0 || c->focus[f].score < c->focus[worst].score)
                worst = (int)f;
            if (r->focus_median[f].present && c->focus[f].score > r->focus_median[f].score)
                above++;
        }
        s_add(buf, len, &at, "Scores from 0 to 100 in %u focus areas; %u have a score.",
              fw->n_focus, scored);
        if (best >= 0)
            s_add(buf, len, &at, " Strongest: %s (%.1f); weakest: %s (%.1f). Above the network"
                  " median in %u of %u.", fw->focus[best].name, c->focus[best].score,
                  fw->focus[worst].name, c->focus[worst].score, above, scored);
    } else if (kind == GLCI_CHART_TREND) {
        int first = -1, last = -1;
        for (size_t i = 0; i < r->n_periods; i++)
            if (c->trend[i].present) {
                if (first < 0)
                    first = (int)i;
                last = (int)i;
            }
        if (first < 0) {
            s_add(buf, len, &at, "%s has no index in %d to %d.", c->name, (int)r->first_period,
                  (int)r->period);
        } else {
            s_add(buf, len, &at, "Index %.1f in %d", c->trend[first].score,
                  (int)r->first_period + first);
            if (last != first)
                s_add(buf, len, &at, ", %.1f in %d", c->trend[last].score,
                      (int)r->first_period + last);
            s_add(buf, len, &at, ".");
        }
        const glci_report_score_t *m = &r->index_median[r->n_periods - 1];
        if (m->present)
            s_add(buf, len, &at, " Network median %.1f in %d.", m->score, (int)r->period);
    } else {
        for (uint32_t a = 0; a <= fw->n_areas; a++) {
            char v[32];
            glci_report_score_t score = a == 0 ? c->index : c->areas[a - 1];
            glci_report_score_t m = a == 0 ? r->index_median[r->n_periods - 1]
                                           : r->area_median[a - 1];
            const glci_trend_cell_t *t = r->has_trends ? glci_report_trend_latest(r, c, a)
                                                       : NULL;
            const char *trend = t ? glci_trend_str(t->trend) : NULL;
            glci_report_fmt_score(score, v, sizeof v);
            s_add(buf, len, &at, "%s%s %s", a ? "; " : "", a ? fw->areas[a - 1].name : "Index",
                  v);
            if (m.present)
                s_add(buf, len, &at, " (median %.1f%s%s)", m.score, trend ? ", " : "",
                      trend ? trend : "");
            else if (trend)
                s_add(buf, len, &at, " (%s)", trend);
        }
        s_add(buf, len, &at, ".");
    }
}

/* ---- SVG ------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t n, cap;
} s_buf_t;

static cairo_status_t s_buf_write(void *closure, const unsigned char *data, unsigned int len)
{
    s_buf_t *b = closure;
    if (b->n + len + 1 > b->cap) {        /* + 1: room for a NUL at the end */
        b->cap = (b->n + len) * 2 + 4096;
        b->data = glci_xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

int glci_chart_svg(glci_chart_kind_t kind, const glci_report_t *r,
                   const glci_report_city_t *c, FILE *out)
{
    double w, h;
    glci_chart_size(kind, &w, &h);
    s_buf_t b = {0};
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(s_buf_write, &b, w, h);
    cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PX);
    cairo_t *cr = cairo_create(s);
    glci_chart_draw(cr, kind, w, h, r, c);
    int rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? 0 : GLCI_REPORT_EDRAW;
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        rc = GLCI_REPORT_EDRAW;
    cairo_surface_destroy(s);
    if (rc != 0)
        goto cleanup;

    /* The title and description go right after the <svg ...> start tag. */
    if (!b.data) {
        rc = GLCI_REPORT_EDRAW;
        goto cleanup;
    }
    b.data[b.n] = '\0';
    const char *svg = strstr(b.data, "<svg");
    const char *gt = svg ? strchr(svg, '>') : NULL;
    if (!gt) {
        rc = GLCI_REPORT_EDRAW;
        goto cleanup;
    }
    char text[1024];
    fwrite(b.data, 1, (size_t)(gt - b.data), out);
    fputs(" role=\"img\" aria-labelledby=\"chart-title chart-desc\">\n<title id=\"chart-title\">",
          out);
    glci_chart_title(kind, r, c, text, sizeof text);
    glci_report_esc(out, text);
    fputs("</title>\n<desc id=\"chart-desc\">", out);
    glci_chart_describe(kind, r, c, text, sizeof text);
    glci_report_esc(out, text);
    fputs("</desc>", out);
    fwrite(gt + 1, 1, b.n - (size_t)(gt + 1 - b.data), out);
    if (ferror(out))
        rc = GLCI_REPORT_EIO;
cleanup:
    free(b.data);
    return rc;
}

/* LeakSanitizer's hook (sanitizer builds call it; elsewhere it is unused).
 * Cairo's and Pango's caches stay reachable until exit and are not
 * reported, but fontconfig links its patterns by offsets, not pointers, so
 * LeakSanitizer takes its configuration for a leak. Freeing the caches at
 * exit (cairo_debug_reset_static_data, FcFini) is no way out: Pango matches
 * fonts in a pool of its own threads, and a match still running holds a
 * font map and its fonts, so the reset finds live fonts and aborts (or
 * frees what that thread uses). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
