/* Spreadsheets with libxlsxwriter: the analysts' export workbook and the
 * city staff's data-entry template (glci_sheet.h). */
#include "glci_sheet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "glci_alloc.h"
#include "glci_output.h"
#include "glci_report_int.h"
#include "glci_spool_csv.h"
#include "glci_text.h"

/* ---- A sheet that continues in another when it is full ------------------ */

typedef struct {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold;
    const char *name;
    const char *const *headers;
    const double *widths;       /* per column, may be NULL */
    lxw_col_t n_cols;
    lxw_row_t row;              /* the row being written */
    int part;
    lxw_error *error;           /* the workbook's first error */
} s_sheet_t;

static void s_check(lxw_error *first, lxw_error e)
{
    if (e != LXW_NO_ERROR && *first == LXW_NO_ERROR)
        *first = e;
}

static void s_sheet_start(s_sheet_t *s)
{
    char name[48];      /* Excel allows 31 characters: names here are short */
    if (s->part <= 1)
        snprintf(name, sizeof name, "%.24s", s->name);
    else
        snprintf(name, sizeof name, "%.24s (%d)", s->name, s->part % 1000);
    s->ws = workbook_add_worksheet(s->wb, name);
    if (!s->ws) {
        s_check(s->error, LXW_ERROR_MEMORY_MALLOC_FAILED);
        return;
    }
    for (lxw_col_t c = 0; c < s->n_cols; c++) {
        s_check(s->error, worksheet_write_string(s->ws, 0, c, s->headers[c], s->bold));
        if (s->widths)
            s_check(s->error, worksheet_set_column(s->ws, c, c, s->widths[c], NULL));
    }
    worksheet_freeze_panes(s->ws, 1, 0);
    s->row = 0;
}

static void s_sheet_init(s_sheet_t *s, lxw_workbook *wb, lxw_format *bold, lxw_error *error,
                         const char *name, const char *const *headers, lxw_col_t n_cols,
                         const double *widths)
{
    *s = (s_sheet_t){.wb = wb, .bold = bold, .name = name, .headers = headers,
                     .n_cols = n_cols, .widths = widths, .part = 1, .error = error};
    s_sheet_start(s);
}

/* Moves to the next row, into a new part when this one is full. */
static void s_sheet_next(s_sheet_t *s)
{
    if (s->row + 1 >= LXW_ROW_MAX) {
        s->part++;
        s_sheet_start(s);
    }
    s->row++;
}

static void s_str(s_sheet_t *s, lxw_col_t col, const char *text)
{
    if (s->ws && text && *text)
        s_check(s->error, worksheet_write_string(s->ws, s->row, col, text, NULL));
}

static void s_num(s_sheet_t *s, lxw_col_t col, double v, int present)
{
    if (s->ws && present)
        s_check(s->error, worksheet_write_number(s->ws, s->row, col, v, NULL));
}

static void s_bool(s_sheet_t *s, lxw_col_t col, int v)
{
    if (s->ws)
        s_check(s->error, worksheet_write_boolean(s->ws, s->row, col, v, NULL));
}

static void s_time(s_sheet_t *s, lxw_col_t col, int64_t unix_seconds, lxw_format *fmt)
{
    if (s->ws && unix_seconds != 0)
        s_check(s->error, worksheet_write_unixtime(s->ws, s->row, col, unix_seconds, fmt));
}

static const char *s_lxw_message(lxw_error e)
{
    return lxw_strerror(e);
}

/* ---- Export ------------------------------------------------------------- */

struct glci_sheet_export {
    const glci_framework_t *fw;
    int64_t generated;
    lxw_workbook *wb;
    lxw_format *bold, *when;
    lxw_error error;
    char path[4096];
    glci_report_tmpdir_t tmp;   /* libxlsxwriter writes tmp.tmp by name at close */
    s_sheet_t index, areas, focus, inds, values;
    const char **area_headers, **focus_headers;
    char **notes;               /* key, text, key, text, ... for the about sheet */
    size_t n_notes;
};

static void s_framework_sheet(glci_sheet_export_t *x)
{
    /* green and red are part of the framework (and of its hash when set):
     * empty cells for an indicator without them */
    static const char *const h[] = {"level", "id", "name", "parent", "weight", "unit",
                                    "direction", "lower", "upper", "min", "max", "green",
                                    "red"};
    static const double w[] = {10, 28, 60, 28, 8, 12, 10, 9, 9, 9, 9, 9, 9};
    const glci_framework_t *fw = x->fw;
    s_sheet_t s;
    s_sheet_init(&s, x->wb, x->bold, &x->error, "framework", h, 13, w);
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        const glci_area_t *area = &fw->areas[a];
        s_sheet_next(&s);
        s_str(&s, 0, "area");
        s_str(&s, 1, area->id);
        s_str(&s, 2, area->name);
        s_num(&s, 4, area->weight, 1);
        for (uint32_t k = 0; k < area->n_focus; k++) {
            const glci_focus_t *fo = &fw->focus[area->focus[k]];
            s_sheet_next(&s);
            s_str(&s, 0, "focus");
            s_str(&s, 1, fo->id);
            s_str(&s, 2, fo->name);
            s_str(&s, 3, area->id);
            s_num(&s, 4, fo->weight, 1);
            for (uint32_t j = 0; j < fo->n_ind; j++) {
                const glci_indicator_t *ind = &fw->ind[fo->ind[j]];
                s_sheet_next(&s);
                s_str(&s, 0, "indicator");
                s_str(&s, 1, ind->id);
                s_str(&s, 2, ind->name);
                s_str(&s, 3, fo->id);
                s_num(&s, 4, ind->weight, 1);
                s_str(&s, 5, ind->unit);
                s_str(&s, 6, ind->direction == GLCI_DIR_HIGHER ? "higher" : "lower");
                s_num(&s, 7, ind->lower, 1);
                s_num(&s, 8, ind->upper, 1);
                s_num(&s, 9, ind->min, 1);
                s_num(&s, 10, ind->max, 1);
                s_num(&s, 11, ind->green, ind->has_lights);
                s_num(&s, 12, ind->red, ind->has_lights);
            }
        }
    }
    if (s.ws)
        s_check(&x->error, worksheet_autofilter(s.ws, 0, 0, s.row, 12));
}

int glci_sheet_export_open(const char *path, const glci_framework_t *fw, int64_t generated,
                           glci_sheet_export_t **out, char *err, size_t errlen)
{
    static const char *const h_index[] = {"city", "name", "country", "period", "rank",
                                          "index", "coverage"};
    static const double w_index[] = {24, 28, 8, 8, 6, 12, 10};
    static const char *const h_ind[] = {"city", "period", "indicator", "value",
                                        "value_period", "carried", "score"};
    static const double w_ind[] = {24, 8, 30, 12, 12, 8, 12};
    static const char *const h_val[] = {"city", "indicator", "period", "value", "observed_at",
                                        "received", "source", "current"};
    static const double w_val[] = {24, 30, 8, 12, 20, 20, 30, 8};
    *out = NULL;
    glci_sheet_export_t *x = glci_xcalloc(1, sizeof *x);
    if (strlen(path) >= sizeof x->path) {
        snprintf(err, errlen, "%.200s...: path too long", path);
        free(x);
        return GLCI_REPORT_EIO;
    }
    x->fw = fw;
    x->generated = generated;
    snprintf(x->path, sizeof x->path, "%s", path);
    /* The workbook is zipped at close; check now that its file can be made. */
    int rc = glci_report_tmpdir_open(&x->tmp, path, err, errlen);
    if (rc != 0) {
        free(x);
        return rc;
    }
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .use_zip64 = LXW_TRUE};
    x->wb = workbook_new_opt(x->tmp.tmp, &opts);
    if (!x->wb) {
        glci_report_tmpdir_abort(&x->tmp);
        snprintf(err, errlen, "cannot start the workbook %s", path);
        free(x);
        return GLCI_REPORT_EXLSX;
    }
    x->bold = workbook_add_format(x->wb);
    format_set_bold(x->bold);
    x->when = workbook_add_format(x->wb);
    format_set_num_format(x->when, "yyyy-mm-dd hh:mm:ss");

    size_t na = 2 + fw->n_areas, nf = 2 + fw->n_focus;
    x->area_headers = glci_xcalloc(na, sizeof *x->area_headers);
    x->focus_headers = glci_xcalloc(nf, sizeof *x->focus_headers);
    x->area_headers[0] = x->focus_headers[0] = "city";
    x->area_headers[1] = x->focus_headers[1] = "period";
    for (uint32_t a = 0; a < fw->n_areas; a++)
        x->area_headers[2 + a] = fw->areas[a].id;
    for (uint32_t f = 0; f < fw->n_focus; f++)
        x->focus_headers[2 + f] = fw->focus[f].id;

    s_sheet_init(&x->index, x->wb, x->bold, &x->error, "index", h_index, 7, w_index);
    s_sheet_init(&x->areas, x->wb, x->bold, &x->error, "areas", x->area_headers,
                 (lxw_col_t)na, NULL);
    s_sheet_init(&x->focus, x->wb, x->bold, &x->error, "focus areas", x->focus_headers,
                 (lxw_col_t)nf, NULL);
    s_sheet_init(&x->inds, x->wb, x->bold, &x->error, "indicators", h_ind, 7, w_ind);
    s_sheet_init(&x->values, x->wb, x->bold, &x->error, "values", h_val, 8, w_val);
    s_framework_sheet(x);
    *out = x;
    return 0;
}

int glci_sheet_export_result(glci_sheet_export_t *x, const char *city, const char *name,
                             const char *country, int ranked, uint32_t rank,
                             const glci_result_t *r)
{
    const glci_framework_t *fw = x->fw;
    s_sheet_next(&x->index);
    s_str(&x->index, 0, city);
    s_str(&x->index, 1, name);
    s_str(&x->index, 2, country);
    s_num(&x->index, 3, r->period, 1);
    s_num(&x->index, 4, rank, ranked);
    s_num(&x->index, 5, r->index, r->has_index != 0);
    s_num(&x->index, 6, r->coverage, 1);

    s_sheet_next(&x->areas);
    s_str(&x->areas, 0, city);
    s_num(&x->areas, 1, r->period, 1);
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        const glci_node_t *n = glci_result_area_c(fw, r, a);
        s_num(&x->areas, (lxw_col_t)(2 + a), n->score, n->present != 0);
    }
    s_sheet_next(&x->focus);
    s_str(&x->focus, 0, city);
    s_num(&x->focus, 1, r->period, 1);
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_node_t *n = glci_result_focus_c(fw, r, f);
        s_num(&x->focus, (lxw_col_t)(2 + f), n->score, n->present != 0);
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_slot_t *s = glci_result_slot_c(fw, r, i);
        s_sheet_next(&x->inds);
        s_str(&x->inds, 0, city);
        s_num(&x->inds, 1, r->period, 1);
        s_str(&x->inds, 2, fw->ind[i].id);
        s_num(&x->inds, 3, s->value, s->present != 0);
        s_num(&x->inds, 4, s->period, s->present != 0);
        if (s->present)
            s_bool(&x->inds, 5, s->period < r->period);
        s_num(&x->inds, 6, s->score, s->present != 0);
    }
    return x->error == LXW_NO_ERROR ? 0 : GLCI_REPORT_EXLSX;
}

int glci_sheet_export_value(glci_sheet_export_t *x, const char *city, const char *indicator,
                            int32_t period, double value, int has_value, int64_t observed_at,
                            int64_t received, const char *source, int current)
{
    s_sheet_t *s = &x->values;
    s_sheet_next(s);
    s_str(s, 0, city);
    s_str(s, 1, indicator);
    s_num(s, 2, period, 1);
    s_num(s, 3, value, has_value != 0);
    s_time(s, 4, observed_at, x->when);
    s_time(s, 5, received, x->when);
    s_str(s, 6, source);
    s_bool(s, 7, current != 0);
    return x->error == LXW_NO_ERROR ? 0 : GLCI_REPORT_EXLSX;
}

void glci_sheet_export_note(glci_sheet_export_t *x, const char *key, const char *text)
{
    x->notes = glci_xrealloc(x->notes, (x->n_notes + 2) * sizeof *x->notes);
    x->notes[x->n_notes++] = glci_xstrdup(key);
    x->notes[x->n_notes++] = glci_xstrdup(text);
}

static void s_export_free(glci_sheet_export_t *x)
{
    for (size_t i = 0; i < x->n_notes; i++)
        free(x->notes[i]);
    free(x->notes);
    free(x->area_headers);
    free(x->focus_headers);
    free(x);
}

/* Key and value rows of an about sheet. */
static void s_about_row(s_sheet_t *s, const char *key, const char *text)
{
    s_sheet_next(s);
    s_str(s, 0, key);
    s_str(s, 1, text);
}

static void s_about_num(s_sheet_t *s, const char *key, double v)
{
    s_sheet_next(s);
    s_str(s, 0, key);
    s_num(s, 1, v, 1);
}

int glci_sheet_export_close(glci_sheet_export_t **xp, int32_t first, int32_t last,
                            char *err, size_t errlen)
{
    static const char *const h[] = {"key", "value"};
    static const double w[] = {22, 70};
    glci_sheet_export_t *x = *xp;
    *xp = NULL;
    const glci_framework_t *fw = x->fw;
    char when[64], due[8];
    s_sheet_t s;
    s_sheet_init(&s, x->wb, x->bold, &x->error, "about", h, 2, w);
    s_about_row(&s, "what", "glci export: scores of every city and period, the values "
                            "received and the indicator framework");
    glci_format_iso_time(x->generated, when, sizeof when);
    s_about_row(&s, "exported", when);
    /* the periods of this export; first_period and last_period below are
     * the framework's keys, as `glci framework` names them */
    s_about_num(&s, "exported_first_period", first);
    s_about_num(&s, "exported_last_period", last);
    for (size_t i = 0; i + 1 < x->n_notes; i += 2)
        s_about_row(&s, x->notes[i], x->notes[i + 1]);
    s_about_row(&s, "framework", fw->id);
    s_about_row(&s, "version", fw->version);
    s_about_row(&s, "hash", fw->hash_hex);
    s_about_num(&s, "first_period", fw->first_period);
    s_about_num(&s, "last_period", fw->last_period);
    s_about_num(&s, "cadence", fw->cadence);
    glci_round_due_key(fw, due, sizeof due);
    s_about_row(&s, "due", due);
    s_about_num(&s, "future_periods", fw->future_periods);
    s_about_num(&s, "min_coverage", fw->min_coverage);
    s_about_num(&s, "carry_forward", fw->carry_forward);
    s_about_row(&s, "aggregation",
                fw->aggregation == GLCI_AGG_GEOMETRIC ? "geometric" : "arithmetic");

    lxw_error e = workbook_close(x->wb);
    x->wb = NULL;
    lxw_error first_err = x->error != LXW_NO_ERROR ? x->error : e;
    if (first_err != LXW_NO_ERROR) {
        glci_report_tmpdir_abort(&x->tmp);
        snprintf(err, errlen, "cannot write %s: %s", x->path, s_lxw_message(first_err));
        s_export_free(x);
        return first_err == LXW_ERROR_CREATING_XLSX_FILE ? GLCI_REPORT_EIO : GLCI_REPORT_EXLSX;
    }
    if (glci_report_tmpdir_place(&x->tmp, err, errlen) != 0) {
        s_export_free(x);
        return GLCI_REPORT_EIO;
    }
    s_export_free(x);
    return 0;
}

void glci_sheet_export_abort(glci_sheet_export_t **xp)
{
    glci_sheet_export_t *x = xp ? *xp : NULL;
    if (!x)
        return;
    *xp = NULL;
    workbook_close(x->wb);
    glci_report_tmpdir_abort(&x->tmp);
    s_export_free(x);
}

/* ---- Template ------------------------------------------------------------- */

/* The value the sheet starts with for indicator i: the city's own value for
 * the period, never a carried one (sending the sheet unchanged must not
 * restate an old value as the new round's). */
static const glci_sheet_last_t *s_current(const glci_sheet_template_t *t, uint32_t i)
{
    if (!t->last || !t->last[i].has_last || t->last[i].last_period != t->period)
        return NULL;
    return &t->last[i];
}

/* The columns the agent reads, before the informational ones. */
enum { S_ENTRY_DATA_COLS = 4 };
static const char *const s_entry_data[S_ENTRY_DATA_COLS] = {"indicator", "period", "value",
                                                            "source"};

/* Informational column k of indicator i's row (glci_spool_csv.h): a text,
 * or a number when has_num; empty text when there is nothing to show. */
typedef struct {
    const char *text;
    int has_num;
    double num;
} s_info_t;

static s_info_t s_info(const glci_sheet_template_t *t, uint32_t i, glci_spool_info_t k)
{
    const glci_indicator_t *ind = &t->fw->ind[i];
    const glci_sheet_last_t *l = t->last && t->last[i].has_last ? &t->last[i] : NULL;
    switch (k) {
    case GLCI_SPOOL_INFO_NAME:
        return (s_info_t){.text = ind->name ? ind->name : ""};
    case GLCI_SPOOL_INFO_UNIT:
        return (s_info_t){.text = ind->unit ? ind->unit : ""};
    case GLCI_SPOOL_INFO_MIN:
        return (s_info_t){.text = "", .has_num = 1, .num = ind->min};
    case GLCI_SPOOL_INFO_MAX:
        return (s_info_t){.text = "", .has_num = 1, .num = ind->max};
    case GLCI_SPOOL_INFO_LAST_VALUE:
        return (s_info_t){.text = "", .has_num = l != NULL, .num = l ? l->last_value : 0};
    case GLCI_SPOOL_INFO_LAST_PERIOD:
        return (s_info_t){.text = "", .has_num = l != NULL, .num = l ? l->last_period : 0};
    case GLCI_SPOOL_INFO_N:
        break;
    }
    return (s_info_t){.text = ""};
}

int glci_sheet_template_csv(const glci_sheet_template_t *t, const char *path,
                            char *err, size_t errlen)
{
    glci_report_file_t file;
    int rc = glci_report_file_open(&file, path, err, errlen);
    if (rc != 0)
        return rc;
    for (int k = 0; k < S_ENTRY_DATA_COLS; k++)
        fprintf(file.f, "%s%s", k ? "," : "", s_entry_data[k]);
    for (int k = 0; k < GLCI_SPOOL_INFO_N; k++)
        fprintf(file.f, ",%s", glci_spool_info_name((glci_spool_info_t)k));
    fputs("\r\n", file.f);
    for (uint32_t i = 0; i < t->fw->n_ind; i++) {
        const glci_sheet_last_t *cur = s_current(t, i);
        char v[32];
        glci_csv_field(file.f, t->fw->ind[i].id);
        fprintf(file.f, ",%d,", (int)t->period);
        if (cur) {
            glci_format_double(cur->last_value, v, sizeof v);
            fputs(v, file.f);
            fputc(',', file.f);
            glci_csv_field(file.f, cur->last_source ? cur->last_source : "");
        } else {
            fputc(',', file.f);
        }
        for (int k = 0; k < GLCI_SPOOL_INFO_N; k++) {
            s_info_t f = s_info(t, i, (glci_spool_info_t)k);
            fputc(',', file.f);
            if (f.has_num) {
                glci_format_double(f.num, v, sizeof v);
                fputs(v, file.f);
            } else {
                glci_csv_field(file.f, f.text);
            }
        }
        fputs("\r\n", file.f);
    }
    return glci_report_file_commit(&file, err, errlen);
}

/* Copies text into buf cut to at most max bytes on a UTF-8 boundary (Excel
 * limits validation titles to 32 and messages to 255 characters). */
static void s_cut(char *buf, size_t len, const char *text, size_t max)
{
    snprintf(buf, len, "%s", text);
    size_t n = strlen(buf);
    if (n <= max)
        return;
    n = max;
    while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
        n--;
    buf[n] = '\0';
}

/* The value cell's input message, at most 255 bytes (Excel's limit is 255
 * characters): "NAME (UNIT): a number from LO to HI. Last value: V (P)."
 * A long name is shortened first, at a word boundary and ended with "…",
 * so the range and the last value are always there. */
static void s_input_message(char *buf, size_t len, const glci_indicator_t *ind, const char *lo,
                            const char *hi, const char *last)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    char tail[512];
    snprintf(tail, sizeof tail, " (%s): a number from %s to %s.%s", ind->unit, lo, hi, last);
    char msg[768];
    size_t n = strlen(ind->name), t = strlen(tail);
    size_t room = t + sizeof ellipsis - 1 < 255 ? 255 - t - (sizeof ellipsis - 1) : 0;
    if (n + t <= 255) {
        snprintf(msg, sizeof msg, "%s%s", ind->name, tail);
        s_cut(buf, len, msg, 255);
        return;
    }
    /* the most whole words that fit room; one word longer than room is
     * cut at a character boundary */
    size_t cut = room;
    while (cut > 0 && ((unsigned char)ind->name[cut] & 0xc0) == 0x80)
        cut--;
    size_t word = cut;
    while (word > 0 && ind->name[word] != ' ')
        word--;
    if (word > 0)
        cut = word;
    while (cut > 0 && (ind->name[cut - 1] == ' ' || ind->name[cut - 1] == ','))
        cut--;
    snprintf(msg, sizeof msg, "%.*s%s%s", (int)cut, ind->name, ellipsis, tail);
    s_cut(buf, len, msg, 255);      /* only an absurdly long unit reaches this */
}

static void s_template_entry(lxw_workbook *wb, lxw_format *bold, lxw_error *error,
                             const glci_sheet_template_t *t)
{
    static const double w_data[S_ENTRY_DATA_COLS] = {34, 9, 14, 40};
    const char *h[S_ENTRY_DATA_COLS + GLCI_SPOOL_INFO_N];
    double w[S_ENTRY_DATA_COLS + GLCI_SPOOL_INFO_N];
    for (int k = 0; k < S_ENTRY_DATA_COLS; k++) {
        h[k] = s_entry_data[k];
        w[k] = w_data[k];
    }
    for (int k = 0; k < GLCI_SPOOL_INFO_N; k++) {
        h[S_ENTRY_DATA_COLS + k] = glci_spool_info_name((glci_spool_info_t)k);
        w[S_ENTRY_DATA_COLS + k] = k == GLCI_SPOOL_INFO_NAME ? 60 : 11;
    }
    const glci_framework_t *fw = t->fw;
    s_sheet_t s;
    s_sheet_init(&s, wb, bold, error, "entry", h, S_ENTRY_DATA_COLS + GLCI_SPOOL_INFO_N, w);
    if (!s.ws)
        return;
    lxw_data_validation period_dv = {
        .validate = LXW_VALIDATION_TYPE_INTEGER,
        .criteria = LXW_VALIDATION_CRITERIA_BETWEEN,
        .minimum_number = fw->first_period,
        .maximum_number = fw->last_period,
        .error_title = "Period out of range",
    };
    char period_msg[256];
    snprintf(period_msg, sizeof period_msg, "The period is a year from %d to %d.",
             (int)fw->first_period, (int)fw->last_period);
    period_dv.error_message = period_msg;
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *ind = &fw->ind[i];
        char lo[32], hi[32], msg[512], input[256], title[64], error_msg[256], last[96] = "";
        s_sheet_next(&s);
        s_str(&s, 0, ind->id);
        s_num(&s, 1, t->period, 1);
        /* value and source start empty, even for a value the city has for
         * P (last_value shows it): a spreadsheet saves a number cell as CSV
         * as it shows it, to 15 significant digits at best, so a value sent
         * back untouched would come back as another number, a revision
         * nobody made. A row is sent only when someone types its value. */
        for (int k = 0; k < GLCI_SPOOL_INFO_N; k++) {
            s_info_t f = s_info(t, i, (glci_spool_info_t)k);
            lxw_col_t col = (lxw_col_t)(S_ENTRY_DATA_COLS + k);
            if (f.has_num)
                s_num(&s, col, f.num, 1);
            else
                s_str(&s, col, f.text);
        }
        glci_format_value(ind->min, lo, sizeof lo);
        glci_format_value(ind->max, hi, sizeof hi);
        if (t->last && t->last[i].has_last) {
            char v[32];
            glci_format_value(t->last[i].last_value, v, sizeof v);
            snprintf(last, sizeof last, " Last value: %s (%d).", v, (int)t->last[i].last_period);
        }
        s_input_message(input, sizeof input, ind, lo, hi, last);
        s_cut(title, sizeof title, ind->id, 32);
        snprintf(msg, sizeof msg, "%s takes a number from %s to %s (%s).", ind->id, lo, hi,
                 ind->unit);
        s_cut(error_msg, sizeof error_msg, msg, 255);
        lxw_data_validation dv = {
            .validate = LXW_VALIDATION_TYPE_DECIMAL,
            .criteria = LXW_VALIDATION_CRITERIA_BETWEEN,
            .minimum_number = ind->min,
            .maximum_number = ind->max,
            .input_title = title,
            .input_message = input,
            .error_title = "Value out of range",
            .error_message = error_msg,
        };
        s_check(error, worksheet_data_validation_cell(s.ws, s.row, 2, &dv));
        s_check(error, worksheet_data_validation_cell(s.ws, s.row, 1, &period_dv));
    }
    worksheet_activate(s.ws);
}

static void s_template_guide(lxw_workbook *wb, lxw_format *bold, lxw_error *error,
                             const glci_sheet_template_t *t)
{
    static const char *const h[] = {"indicator", "name", "unit", "focus area", "area",
                                    "better", "valid min", "valid max", "scored 0 at",
                                    "scored 100 at", "last value", "last period",
                                    "last source"};
    static const double w[] = {30, 60, 12, 40, 36, 8, 10, 10, 11, 12, 11, 11, 30};
    const glci_framework_t *fw = t->fw;
    s_sheet_t s;
    s_sheet_init(&s, wb, bold, error, "guide", h, 13, w);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *ind = &fw->ind[i];
        const glci_focus_t *fo = &fw->focus[ind->focus];
        int higher = ind->direction == GLCI_DIR_HIGHER;    /* the key, for the goalposts */
        s_sheet_next(&s);
        s_str(&s, 0, ind->id);
        s_str(&s, 1, ind->name);
        s_str(&s, 2, ind->unit);
        s_str(&s, 3, fo->name);
        s_str(&s, 4, fw->areas[fo->area].name);
        s_str(&s, 5, glci_indicator_better_word(ind));
        s_num(&s, 6, ind->min, 1);
        s_num(&s, 7, ind->max, 1);
        s_num(&s, 8, higher ? ind->lower : ind->upper, 1);
        s_num(&s, 9, higher ? ind->upper : ind->lower, 1);
        if (t->last && t->last[i].has_last) {
            s_num(&s, 10, t->last[i].last_value, 1);
            s_num(&s, 11, t->last[i].last_period, 1);
            s_str(&s, 12, t->last[i].last_source);
        }
    }
    if (s.ws)
        s_check(error, worksheet_autofilter(s.ws, 0, 0, s.row, 12));
}

static void s_template_about(lxw_workbook *wb, lxw_format *bold, lxw_error *error,
                             const glci_sheet_template_t *t)
{
    static const char *const h[] = {"key", "value"};
    static const double w[] = {16, 100};
    const glci_framework_t *fw = t->fw;
    char when[64], line[256];
    s_sheet_t s;
    s_sheet_init(&s, wb, bold, error, "about", h, 2, w);
    s_about_row(&s, "what", "glci data-entry template for the Global Learning City Index");
    s_about_row(&s, "city",
                t->city ? t->city : "(any city: the agent that sends the file decides)");
    if (t->city) {
        s_about_row(&s, "city name", t->city_name);
        s_about_row(&s, "country", t->country);
    }
    s_about_num(&s, "period", t->period);
    s_about_row(&s, "framework", fw->id);
    s_about_row(&s, "version", fw->version);
    s_about_row(&s, "hash", fw->hash_hex);
    glci_format_iso_time(t->generated, when, sizeof when);
    s_about_row(&s, "made", when);
    s_about_row(&s, "step 1", "Fill column C (value) of the sheet 'entry'; the sheet 'guide' "
                              "names each indicator, its unit and its valid range.");
    s_about_row(&s, "step 2", "Delete the rows you have no value for: the agent refuses a "
                              "file with an empty value.");
    s_about_row(&s, "step 3", "Save the sheet 'entry' as CSV (UTF-8) and put the file in the "
                              "agent's spool folder.");
    snprintf(line, sizeof line, "The agent sends columns indicator, period, value and "
             "source and ignores the others (%s); keep the header row as it is.",
             GLCI_SPOOL_INFO_LIST + 2);
    s_about_row(&s, "note", line);
}

int glci_sheet_template_xlsx(const glci_sheet_template_t *t, const char *path,
                             char *err, size_t errlen)
{
    glci_report_tmpdir_t tmp;
    int rc = glci_report_tmpdir_open(&tmp, path, err, errlen);
    if (rc != 0)
        return rc;
    lxw_workbook *wb = workbook_new(tmp.tmp);
    if (!wb) {
        glci_report_tmpdir_abort(&tmp);
        snprintf(err, errlen, "cannot start the workbook %s", path);
        return GLCI_REPORT_EXLSX;
    }
    lxw_error error = LXW_NO_ERROR;
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    s_template_entry(wb, bold, &error, t);
    s_template_guide(wb, bold, &error, t);
    s_template_about(wb, bold, &error, t);
    lxw_error e = workbook_close(wb);
    if (error == LXW_NO_ERROR)
        error = e;
    if (error != LXW_NO_ERROR) {
        glci_report_tmpdir_abort(&tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, s_lxw_message(error));
        return error == LXW_ERROR_CREATING_XLSX_FILE ? GLCI_REPORT_EIO : GLCI_REPORT_EXLSX;
    }
    if (glci_report_tmpdir_place(&tmp, err, errlen) != 0)
        return GLCI_REPORT_EIO;
    return 0;
}
