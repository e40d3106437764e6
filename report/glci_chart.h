/* The report's charts, drawn with Cairo: one set of drawing functions that
 * the HTML site renders to SVG surfaces and the printable profile renders
 * to a PDF surface, so a chart looks the same on screen and on paper.
 *
 *   radar  the 12 focus-area scores of a city against the network median
 *   trend  the city's index over the report's periods, with the median
 *   areas  bars of the index and each area score, with the median marked
 *          and, when the report has trends, each score's trend class
 *
 * Colours are the Okabe-Ito palette (told apart with every common colour
 * vision deficiency); the city and the median also differ by line style
 * and marker shape, never by colour alone. Each chart has a title and a
 * one-sentence description, its text alternative; the pages add the data
 * as a table.
 *
 * Text is laid out with Pango in the DejaVu Sans family (fontconfig picks
 * a fallback for characters it lacks): HarfBuzz shapes it, so Arabic
 * letters join, and FriBidi orders it, so Arabic and Hebrew read right to
 * left, within a line that takes the direction of its first strong
 * character outside isolates (U+2066-U+2069). SVG output holds the glyphs
 * as paths and PDF output embeds the font with each glyph's text, so
 * neither needs a font on the reader's machine and text copied from a PDF
 * is the text as stored. The current font is Cairo's (set with
 * glci_chart_font), so cairo_save/cairo_restore keep it. */
#ifndef GLCI_CHART_H
#define GLCI_CHART_H

#include <stddef.h>
#include <stdio.h>

#include <cairo.h>

#include "glci_report.h"

typedef enum {
    GLCI_CHART_RADAR = 0,
    GLCI_CHART_TREND = 1,
    GLCI_CHART_AREAS = 2
} glci_chart_kind_t;
#define GLCI_CHART_KINDS 3

/* ---- Palette ------------------------------------------------------------ */

typedef enum {
    GLCI_COLOUR_CITY = 0,       /* blue #0072B2: the city */
    GLCI_COLOUR_MEDIAN,         /* orange #E69F00: the network median */
    GLCI_COLOUR_GREEN,          /* bluish green #009E73: light green */
    GLCI_COLOUR_YELLOW,         /* yellow #F0E442: light yellow */
    GLCI_COLOUR_RED,            /* vermillion #D55E00: light red, warnings */
    GLCI_COLOUR_INK,            /* text */
    GLCI_COLOUR_MUTED,          /* secondary text, axis labels */
    GLCI_COLOUR_GRID,           /* rings, grid lines, bar tracks */
    GLCI_COLOURS
} glci_colour_t;

typedef struct {
    double r, g, b;             /* 0..1 */
    const char *hex;            /* "#0072B2", for CSS */
} glci_colour_def_t;

/* The definition of a colour of the palette (static). */
const glci_colour_def_t *glci_colour(glci_colour_t which);

/* The colour of a light (NONE: the muted colour). */
glci_colour_t glci_colour_of_light(glci_light_t light);

/* The colour of a trend class: improving green, stagnating the muted
 * colour, declining vermillion (NONE: muted). */
glci_colour_t glci_colour_of_trend(glci_trend_t trend);

/* ---- Charts ------------------------------------------------------------- */

/* "radar", "trend", "areas": for file names and CSS classes (static). */
const char *glci_chart_name(glci_chart_kind_t kind);

/* The size the chart is drawn at on a web page, in CSS pixels. */
void glci_chart_size(glci_chart_kind_t kind, double *w, double *h);

/* Draws the chart of city c into the rectangle (0, 0, w, h) of cr's user
 * space (the caller translates and clips as it needs). Leaves cr's state as
 * it found it. A city without a result draws the axes and the median. */
void glci_chart_draw(cairo_t *cr, glci_chart_kind_t kind, double w, double h,
                     const glci_report_t *r, const glci_report_city_t *c);

/* The chart's title ("Cork: focus-area scores 2025 against the network
 * median") and its text alternative, one or two sentences naming the
 * numbers a reader takes from it. Always NUL-terminated, cut to len. */
void glci_chart_title(glci_chart_kind_t kind, const glci_report_t *r,
                      const glci_report_city_t *c, char *buf, size_t len);
void glci_chart_describe(glci_chart_kind_t kind, const glci_report_t *r,
                         const glci_report_city_t *c, char *buf, size_t len);

/* Writes the chart as a standalone SVG document (pixel units, the
 * chart's web size) to out, with <title> and <desc> holding the title and
 * the description and role="img". Returns 0, GLCI_REPORT_EDRAW (Cairo
 * failed) or GLCI_REPORT_EIO (writing to out failed). */
int glci_chart_svg(glci_chart_kind_t kind, const glci_report_t *r,
                   const glci_report_city_t *c, FILE *out);

/* ---- Text helpers shared with the profile ------------------------------ */

typedef enum { GLCI_ALIGN_LEFT, GLCI_ALIGN_CENTRE, GLCI_ALIGN_RIGHT } glci_align_t;

/* Selects the report's font family at size (user units), bold or not. */
void glci_chart_font(cairo_t *cr, double size, int bold);

/* The width of text as one line in the current font. */
double glci_chart_width(cairo_t *cr, const char *text);

/* Draws text with its baseline at y, aligned at x; returns its width. */
double glci_chart_text(cairo_t *cr, double x, double y, const char *text, glci_align_t align);

/* Lays text out as a paragraph max_w wide in the current font, broken
 * between words and inside a word only where the word alone is wider than
 * a line, so nothing of it is lost. Draws it when draw is set: the first
 * line's baseline at y, each next one line_h lower, from x (right-to-left
 * text reads right to left within each line). Returns its number of
 * lines, drawn or not. */
size_t glci_chart_paragraph(cairo_t *cr, double x, double y, const char *text, double max_w,
                            double line_h, int draw);

/* Copies text into buf, cut at a character boundary and ended with "…"
 * when it is wider than max_w in the current font or does not fit the
 * len bytes of buf (strlen(text) >= len). */
void glci_chart_fit(cairo_t *cr, const char *text, double max_w, char *buf, size_t len);

/* Breaks text into at most max_lines lines no wider than max_w at word
 * boundaries (the last line fitted with "…" when text does not fit);
 * each line is cut to 159 bytes. Returns the number of lines. */
size_t glci_chart_wrap(cairo_t *cr, const char *text, double max_w, size_t max_lines,
                       char (*lines)[160]);

/* Lays out a list for print: head, then the n items joined by ", " and
 * ended by ".", in at most max_lines lines (max_lines >= 1) no wider than
 * max_w in the current font, broken only between items (an item too wide
 * for a line alone is cut with "…"). When they do not all fit, the list
 * shows as many whole items as fit with, after the last, "… and N more."
 * (N the items left out), so it never ends mid-item and never hides a
 * count. Fills lines and *n_lines; returns the number of items shown
 * (n when all fit). No error codes. */
size_t glci_chart_wrap_list(cairo_t *cr, const char *head, const char *const *items, size_t n,
                            double max_w, size_t max_lines, char (*lines)[160],
                            size_t *n_lines);

/* Draws trend's mark, an arrow pointing up (improving), right
 * (stagnating) or down (declining) in its colour, centred at (x, y) and
 * size high; nothing for GLCI_TREND_NONE. */
void glci_chart_trend_mark(cairo_t *cr, double x, double y, double size, glci_trend_t trend);

/* Sets the source colour to a palette colour with alpha. */
void glci_chart_colour(cairo_t *cr, glci_colour_t which, double alpha);

#endif
