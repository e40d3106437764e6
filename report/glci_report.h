/* Reports people look at (SPEC §8): a plain-data model of one period's
 * results -- the league table and, per city, its area, focus-area and
 * indicator scores, its index over the periods, the network's medians and
 * what is missing for the round, and from the analysis module its
 * indicators' lights, its trends and its peers -- and the renderers that
 * turn it into a
 * static HTML site (glci_report_write_site) and a printable two-page A4
 * city profile (glci_report_write_profile). Both draw their charts with the
 * same Cairo code (glci_chart.h). See docs/REPORTS.md.
 *
 * The model knows nothing of the store: the CLI fills it from read views
 * (cli/cmd_report.c), tests fill it by hand. It depends on index/ (the
 * framework, the result blocks and the analysis module's types and
 * network median, glci_analysis.h) and common/ only.
 *
 * Errors: functions that can fail return 0 or a negative GLCI_REPORT_E*
 * code; glci_report_strerror() names it, and the err buffer gets a
 * one-line message naming the file or folder at fault.
 *
 * Memory: the model owns every string and array in it (copied in);
 * allocation failure aborts (glci_xmalloc). The framework is borrowed and
 * must outlive the model. */
#ifndef GLCI_REPORT_H
#define GLCI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "glci_analysis.h"
#include "glci_index.h"

enum {
    GLCI_REPORT_OK        = 0,
    GLCI_REPORT_EIO       = -1,  /* a file or folder cannot be made or written */
    GLCI_REPORT_ENOTEMPTY = -2,  /* the output folder holds files of something else */
    GLCI_REPORT_EDRAW     = -3,  /* Cairo failed to draw or to write a surface */
    GLCI_REPORT_EXLSX     = -4,  /* libxlsxwriter failed (glci_sheet.h) */
    GLCI_REPORT_EINVAL    = -5   /* an argument the renderer cannot use */
};
const char *glci_report_strerror(int code);

/* A score that may be absent (present 0: score is 0.0 and means nothing). */
typedef struct {
    double score;
    int present;
} glci_report_score_t;

/* One indicator of a city for the report's period (SPEC §3.1). */
typedef struct {
    int present;                /* a value is used for the period */
    double value;               /* as observed */
    double score;               /* 0..100 */
    int32_t period;             /* the period of the value used */
    int carried;                /* period < the report's period */
    glci_light_t light;         /* glci_slot_light; NONE until filled */
} glci_report_ind_t;

/* Peers (whom to learn from; SPEC §8 `glci peers`), as glci_peers_find
 * finds them, with the ids and names copied in: rendered when the caller
 * supplies them (glci_report_t.has_peers, glci_report_set_peers). */
typedef struct {
    char *city, *name;
    double score;               /* the peer's score in the focus area */
    uint32_t rank;              /* its rank there (ties shared) */
    size_t n_ind;
    glci_peer_ind_t *ind;       /* the indicators that make the difference */
} glci_report_peer_t;

typedef struct {
    uint32_t focus;             /* index into fw->focus: a weak focus area */
    double score, median;       /* the city's score there and the network's */
    size_t n_scored;            /* cities with a score there */
    size_t n_peers;
    glci_report_peer_t *peers;  /* best first */
} glci_report_peer_focus_t;

/* One city. Arrays are sized by the framework (areas n_areas, focus
 * n_focus, ind n_ind) and by the report (trend n_periods). */
typedef struct {
    char *id, *name, *country;
    int has_result;             /* the city has a result for the period */
    int ranked;                 /* has an index, so a rank */
    uint32_t rank;
    glci_report_score_t index;
    double coverage;
    glci_report_score_t *areas, *focus;
    glci_report_ind_t *ind;
    glci_report_score_t *trend; /* index per period, first_period + i */
    size_t n_peer_focus;
    glci_report_peer_focus_t *peer_focus;  /* weakest first; owned */
    /* Trend (glci_trend_compute): the city's reporting rounds up to the
     * period, ascending; round k's period is round_period[k] and its cells
     * are round_cells + k * glci_trend_n_nodes(fw). Owned. */
    size_t n_rounds;
    int32_t *round_period;
    glci_trend_cell_t *round_cells;
    uint32_t n_values;          /* current values of the city up to the period */
    uint32_t n_synthetic;       /* of them, from a synthetic source */
} glci_report_city_t;

typedef struct {
    const glci_framework_t *fw; /* borrowed */
    int32_t period;             /* P */
    int32_t first_period;       /* of the trend: first_period .. period */
    size_t n_periods;
    int64_t generated;          /* Unix seconds, printed on every page */
    char table[256];            /* which table, printed on every page: "" for
                                   the live store, else e.g. "edition
                                   2025-final (as of ...)" */
    size_t n_cities, cap;
    glci_report_city_t *cities; /* in id order */
    size_t *league;             /* after glci_report_finish: indices into
                                   cities in league order */
    size_t n_ranked;            /* after finish: cities with a rank */
    size_t n_with_result;       /* after finish: cities with a result for P */
    /* The network's medians over the cities with a score (after finish). */
    glci_report_score_t *focus_median, *area_median;
    glci_report_score_t *index_median;     /* per trend period */
    int has_lights;             /* set by whoever fills the lights */
    int has_peers;              /* set by whoever fills the peers */
    int has_trends;             /* set by whoever fills the rounds */
    uint64_t n_values, n_synthetic;        /* sums over the cities */
} glci_report_t;

/* Sets up an empty report of period P with a trend over first_period .. P
 * (first_period <= P). */
void glci_report_init(glci_report_t *r, const glci_framework_t *fw, int32_t period,
                      int32_t first_period, int64_t generated);

/* Frees everything the report owns and zeroes it; safe on a zeroed report
 * and twice. */
void glci_report_release(glci_report_t *r);

/* Adds a city without a result: every score and value absent (present 0),
 * so renderers read a city's scores without asking has_result. Cities must
 * be added in strictly increasing id order (strcmp; a programmer error
 * otherwise).
 * The pointer returned is valid until the next add. */
glci_report_city_t *glci_report_add_city(glci_report_t *r, const char *id,
                                         const char *name, const char *country);

/* The city with this id, or NULL (binary search; any time). */
glci_report_city_t *glci_report_find(const glci_report_t *r, const char *id);

/* Takes the city's result for the report's period (res->period must be
 * r->period) and its rank (ranked 0 when it has none). */
void glci_report_set_result(const glci_report_t *r, glci_report_city_t *c,
                            const glci_result_t *res, int ranked, uint32_t rank);

/* Sets the city's index for one trend period (ignored outside the trend). */
void glci_report_set_trend(const glci_report_t *r, glci_report_city_t *c, int32_t period,
                           int has_index, double index);

/* Takes city c's peers p, as glci_peers_find found them among cities (the
 * array passed to it): copies each peer's id, its name in the report (its
 * id when it is not in the report) and its indicators. Replaces earlier
 * peers of c. Call after the last glci_report_add_city. */
void glci_report_set_peers(const glci_report_t *r, glci_report_city_t *c,
                           const glci_peers_t *p, const glci_city_result_t *cities);

/* Takes city c's trend: its n reporting rounds up to the report's period,
 * ascending, and their cells as glci_trend_compute filled them for those
 * rounds (n * glci_trend_n_nodes(fw)). Copies both; replaces an earlier
 * trend. A programmer error when a round lies after the period. */
void glci_report_set_rounds(const glci_report_t *r, glci_report_city_t *c,
                            const glci_result_t *const *rounds,
                            const glci_trend_cell_t *cells, size_t n);

/* The trend cell of node (glci_trend_n_nodes numbering: 0 the index, then
 * the areas, then the focus areas) in round k of city c. */
const glci_trend_cell_t *glci_report_round_cell(const glci_report_t *r,
                                                const glci_report_city_t *c, size_t k,
                                                size_t node);

/* The cell of node in city c's latest reporting round up to the period
 * (what the report shows as the node's trend), or NULL when it has none. */
const glci_trend_cell_t *glci_report_trend_latest(const glci_report_t *r,
                                                  const glci_report_city_t *c, size_t node);

/* Computes the league order (ranked cities by rank then id, then cities
 * with a result and no rank, then cities without a result, each by id),
 * the network's medians (glci_median over the cities with that score) and
 * the sums. Call once, after filling. */
void glci_report_finish(glci_report_t *r);

/* What is missing for the round: the indicators (indices into fw->ind, in
 * framework order, written to out, which holds fw->n_ind) with no value for
 * the period or only a carried one. Returns their number. */
size_t glci_report_missing(const glci_report_t *r, const glci_report_city_t *c,
                           uint32_t *out);

/* 1 if an observation's source text marks it synthetic: it starts, after
 * blanks, with the word "synthetic" in any letter case (the demo's sample
 * generator writes "synthetic demo data"). The one rule for "synthetic". */
int glci_report_source_synthetic(const char *source);

/* Writes the static site of the report into dir (created if missing; it
 * must be empty or hold an earlier glci report, marked by a file
 * .glci-report): index.html with the league table and city-ID.html per
 * city, charts as SVG under charts/. Every file is written under a
 * temporary name and renamed into place. Call after glci_report_finish.
 * Returns 0 and the number of city pages in *n_pages (may be NULL), or EIO,
 * ENOTEMPTY, EDRAW with err naming the path. */
int glci_report_write_site(const glci_report_t *r, const char *dir, size_t *n_pages,
                           char *err, size_t errlen);

/* Writes city c's printable profile as a two-page A4 PDF at path (through
 * a temporary file renamed into place). Returns 0, EIO or EDRAW. */
int glci_report_write_profile(const glci_report_t *r, const glci_report_city_t *c,
                              const char *path, char *err, size_t errlen);

#endif
