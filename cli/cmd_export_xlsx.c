/* glci export --format xlsx --out FILE: the branch of export that writes a
 * workbook (report/glci_sheet.h) -- the same results as the CSV and JSON
 * export, of the same table (the period by the one rule, a given one, the
 * store as of a time, an edition; or every period), one sheet per level,
 * plus the values that count for it and the framework. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_sheet.h"
#include "glci_text.h"

/* The values sheet: the history of one (city, indicator) at a time, kept
 * until it is whole, because as of a time the value current then is the
 * last one received by then, which only the whole history tells. */
typedef struct {
    glci_sheet_export_t *x;
    const char *city, *indicator;
    int32_t lo, hi;             /* periods of the values sheet */
    int has_as_of;              /* only the values received by as_of */
    int64_t as_of;
    size_t n, cap;
    glci_history_row_t *rows;   /* strings borrowed from the view */
} s_values_t;

static int s_value_cb(void *ctx, const glci_history_row_t *row)
{
    s_values_t *s = ctx;
    if (row->period < s->lo || row->period > s->hi)
        return 0;
    if (s->has_as_of && row->received > s->as_of)
        return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->rows = glci_xrealloc(s->rows, s->cap * sizeof *s->rows);
    }
    s->rows[s->n++] = *row;
    return 0;
}

/* Writes the rows kept, oldest first. As of a time, a row is current if
 * it is a value and no later row of its period came by then (a retraction
 * withdraws, as glci_view_asof recomputes); live, as the store says. */
static int s_values_flush(s_values_t *s)
{
    for (size_t k = 0; k < s->n; k++) {
        const glci_history_row_t *r = &s->rows[k];
        int current = r->current;
        if (s->has_as_of) {
            current = !r->retracted;
            for (size_t j = k + 1; j < s->n && current; j++)
                current = s->rows[j].period != r->period;
        }
        int rc = glci_sheet_export_value(s->x, s->city, s->indicator, r->period, r->value,
                                         !r->retracted, r->observed_at, r->received, r->source,
                                         current);
        if (rc != 0)
            return rc;
    }
    s->n = 0;
    return 0;
}

/* What the about sheet says of the table: which one, and how its period
 * was chosen. */
static void s_notes(glci_sheet_export_t *x, const glci_source_t *src)
{
    char line[256], when[32];
    if (!src) {
        glci_sheet_export_note(x, "table", "the live store, every period with results");
        return;
    }
    glci_format_iso_time(src->args.as_of, when, sizeof when);
    if (src->args.kind == GLCI_SRC_EDITION) {
        snprintf(line, sizeof line, "edition %s, as published (the store as of %s)",
                 src->edition.name, when);
        glci_sheet_export_note(x, "table", line);
        glci_sheet_export_note(x, "edition", src->edition.name);
        glci_sheet_export_note(x, "as_of", when);
    } else if (src->args.kind == GLCI_SRC_ASOF) {
        snprintf(line, sizeof line, "as of %s: recomputed from the values received by then",
                 when);
        glci_sheet_export_note(x, "table", line);
        glci_sheet_export_note(x, "as_of", when);
    } else {
        glci_sheet_export_note(x, "table", "the live store");
    }
    glci_sheet_export_note(x, "period_rule", glci_period_rule_str(src->choice.rule));
    glci_period_rule_text(&src->choice, line, sizeof line);
    glci_sheet_export_note(x, "period_note", line);
}

int glci_export_xlsx(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                     const glci_framework_t *fw, glci_source_t *src, int32_t first,
                     int32_t last, const char *path)
{
    char err[1024] = "";
    glci_city_list_t cities = {0};
    glci_sheet_export_t *x = NULL;
    s_values_t vs = {0};
    int status = GLCI_EXIT_FAIL;
    if (src)
        first = last = src->choice.period;
    int rc = glci_city_list_load(v, &cities);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the cities");
        goto cleanup;
    }
    rc = glci_sheet_export_open(path, fw, (int64_t)time(NULL), &x, err, sizeof err);
    if (rc != 0) {
        glci_fail(cmd, "%s", err);
        goto cleanup;
    }
    size_t total = 0;
    for (int32_t p = first; p <= last; p++) {
        glci_period_t per;
        rc = glci_source_period(v, fw, src, p, &per);
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
            goto cleanup;
        }
        for (size_t k = 0; k < per.n && rc == 0; k++) {
            const glci_period_row_t *row = &per.rows[k];
            const glci_city_t *c = glci_city_list_find(&cities, row->city);
            rc = glci_sheet_export_result(x, row->city, c ? c->name : "", c ? c->country : "",
                                          row->ranked, row->rank, row->result);
        }
        total += per.n;
        glci_period_release(&per);
        if (rc != 0)
            break;
    }
    if (rc == 0 && src && total == 0) {
        glci_source_no_data(cmd, src);
        goto cleanup;
    }
    /* The values that can count for the periods exported, as of the
     * table's time when it has one. */
    vs.x = x;
    vs.lo = src ? first - fw->carry_forward : INT32_MIN;
    vs.hi = src ? last : INT32_MAX;
    vs.has_as_of = src && src->args.kind != GLCI_SRC_LIVE;
    vs.as_of = src ? src->args.as_of : 0;
    for (size_t c = 0; c < cities.n && rc == 0; c++) {
        for (uint32_t i = 0; i < fw->n_ind && rc == 0; i++) {
            vs.city = cities.rows[c].id;
            vs.indicator = fw->ind[i].id;
            vs.n = 0;
            rc = glci_view_history(v, vs.city, vs.indicator, s_value_cb, &vs);
            if (rc != 0) {
                glci_cli_store_fail(cmd, cli, rc, "cannot read the values");
                goto cleanup;
            }
            rc = s_values_flush(&vs);
        }
    }
    if (rc != 0) {
        /* the workbook's own error, named when it is closed */
        glci_sheet_export_close(&x, first, last, err, sizeof err);
        glci_fail(cmd, "%s", err[0] ? err : "cannot write the workbook");
        goto cleanup;
    }
    s_notes(x, src);
    rc = glci_sheet_export_close(&x, first, last, err, sizeof err);
    if (rc != 0) {
        glci_fail(cmd, "%s", err);
        goto cleanup;
    }
    if (src)
        glci_source_print(src, stdout);
    if (total == 0)
        printf("no data in the store yet; wrote %s with the framework only\n", path);
    else if (src)
        printf("wrote %s: %zu results of period %d\n", path, total, (int)first);
    else
        printf("wrote %s: %zu results of %d to %d\n", path, total, (int)first, (int)last);
    status = GLCI_EXIT_OK;
cleanup:
    free(vs.rows);
    glci_sheet_export_abort(&x);
    glci_city_list_release(&cities);
    return status;
}
