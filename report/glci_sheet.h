/* Spreadsheets in and out (SPEC §8), with libxlsxwriter:
 *
 *   export    an analyst's workbook: a sheet per level (index, areas,
 *             focus areas, indicators), the raw values and the framework,
 *             every number a number cell
 *   template  a data-entry sheet for city staff, as xlsx (with Excel data
 *             validation of each value's range and the indicator's name,
 *             unit and last value as the cell's input message) or as CSV
 *             in the agent's spool format (SPEC §5) with the same
 *             informational columns, so that the filled sheet goes into
 *             the spool as it is
 *
 * Layouts are described in docs/REPORTS.md. Like the rest of report/ this
 * knows nothing of the store: the CLI hands the rows in.
 *
 * Errors: 0 or a negative GLCI_REPORT_E* code (glci_report.h) with a
 * one-line message in err naming the file. Files are written under a
 * temporary name and renamed into place, so a failure never leaves half a
 * workbook at the path. Numbers are written by libxlsxwriter with 16
 * significant digits (Excel itself keeps 15). */
#ifndef GLCI_SHEET_H
#define GLCI_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "glci_index.h"
#include "glci_report.h"

/* ---- Export ------------------------------------------------------------- */

typedef struct glci_sheet_export glci_sheet_export_t;

/* Starts a workbook for path, with the framework's sheet (fw is borrowed
 * until close). Rows are added in the order they should appear; a sheet
 * that reaches Excel's row limit continues in "NAME (2)". Returns 0 and
 * *out, or EIO/EXLSX. */
int glci_sheet_export_open(const char *path, const glci_framework_t *fw, int64_t generated,
                           glci_sheet_export_t **out, char *err, size_t errlen);

/* One (city, period) result: a row in the index, areas and focus areas
 * sheets and one row per indicator in the indicators sheet. ranked 0:
 * rank left blank. Strings are copied. Returns 0 or EXLSX. */
int glci_sheet_export_result(glci_sheet_export_t *x, const char *city, const char *name,
                             const char *country, int ranked, uint32_t rank,
                             const glci_result_t *r);

/* One stored value (a history row: SPEC §5 `glci history`): a row in the
 * values sheet. has_value 0: a retraction (value left blank). observed_at
 * 0: unknown (blank). Returns 0 or EXLSX. */
int glci_sheet_export_value(glci_sheet_export_t *x, const char *city, const char *indicator,
                            int32_t period, double value, int has_value, int64_t observed_at,
                            int64_t received, const char *source, int current);

/* A key and text for the about sheet, after the periods (which table the
 * workbook holds: an edition, the store as of a time, how its period was
 * chosen). Both are copied; rows keep the order of the calls. */
void glci_sheet_export_note(glci_sheet_export_t *x, const char *key, const char *text);

/* Finishes the workbook (with its about sheet naming the periods exported,
 * first..last) and renames it into place; frees and NULLs *x in every case.
 * Returns 0, EIO or EXLSX. */
int glci_sheet_export_close(glci_sheet_export_t **x, int32_t first, int32_t last,
                            char *err, size_t errlen);

/* Drops an unfinished workbook (nothing is left at its path); accepts NULL. */
void glci_sheet_export_abort(glci_sheet_export_t **x);

/* ---- Template ------------------------------------------------------------- */

/* What the store knows of one indicator for the template's city. Strings
 * are borrowed. */
typedef struct {
    int has_last;               /* a value of a period <= P exists */
    double last_value;
    int32_t last_period;
    const char *last_source;    /* "" when none */
} glci_sheet_last_t;

typedef struct {
    const glci_framework_t *fw;
    int32_t period;             /* the round the sheet is for */
    int64_t generated;
    const char *city;           /* NULL: a blank template for any city */
    const char *city_name, *country;
    const glci_sheet_last_t *last;  /* fw->n_ind entries, or NULL without a city */
} glci_sheet_template_t;

/* The agent-ready CSV: header indicator,period,value,source followed by
 * the informational columns (glci_spool_csv.h: name, unit, min, max,
 * last_value, last_period), and one row per indicator in framework order
 * with the period P; value and source are filled when the city already
 * has a value for P itself (so the sheet can correct it), else empty for
 * staff to fill. name, unit, min and max are the framework's; last_value
 * and last_period the city's latest value of a period <= P, empty without
 * one or without a city. Numbers are written round-trip exact
 * (glci_format_double). Returns 0 or EIO. */
int glci_sheet_template_csv(const glci_sheet_template_t *t, const char *path,
                            char *err, size_t errlen);

/* The xlsx template: sheet "entry" with exactly the CSV's columns and
 * rows (so saving it as CSV gives the agent's format), data validation on
 * each value (a decimal within the indicator's [min, max]) and on the
 * period, and an input message with the indicator's name, unit, range and
 * last value; sheet "guide" with every indicator's name, unit, focus area,
 * range, goalposts and last value; sheet "about" with the city, period,
 * framework and how to send the sheet. Returns 0, EIO or EXLSX. */
int glci_sheet_template_xlsx(const glci_sheet_template_t *t, const char *path,
                             char *err, size_t errlen);

#endif
