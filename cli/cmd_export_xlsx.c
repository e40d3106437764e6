/* glci export --format xlsx --out FILE: the branch of export that writes a
 * workbook (report/glci_sheet.h) -- the same results as the CSV and JSON
 * export, one sheet per level, plus every value received and the
 * framework. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_sheet.h"

typedef struct {
    glci_sheet_export_t *x;
    const char *city, *indicator;
    int32_t lo, hi;             /* periods of the values sheet */
    int rc;
} s_values_t;

static int s_value_cb(void *ctx, const glci_history_row_t *row)
{
    s_values_t *s = ctx;
    if (row->period < s->lo || row->period > s->hi)
        return 0;
    s->rc = glci_sheet_export_value(s->x, s->city, s->indicator, row->period, row->value,
                                    row->observed_at, row->received, row->source, row->current);
    return s->rc;
}

int glci_export_xlsx(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                     const glci_framework_t *fw, int32_t first, int32_t last,
                     int with_period, const char *path)
{
    char err[1024] = "";
    glci_city_list_t cities = {0};
    glci_sheet_export_t *x = NULL;
    int status = GLCI_EXIT_FAIL;
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
        rc = glci_period_load(v, fw, p, &per);
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
    if (rc == 0 && with_period && total == 0) {
        glci_fail(cmd, "no data for period %d", (int)first);
        goto cleanup;
    }
    /* The values that can count for the periods exported. */
    s_values_t vs = {.x = x, .lo = with_period ? first - fw->carry_forward : INT32_MIN,
                     .hi = with_period ? last : INT32_MAX};
    for (size_t c = 0; c < cities.n && rc == 0; c++) {
        for (uint32_t i = 0; i < fw->n_ind && rc == 0; i++) {
            vs.city = cities.rows[c].id;
            vs.indicator = fw->ind[i].id;
            vs.rc = 0;
            rc = glci_view_history(v, vs.city, vs.indicator, s_value_cb, &vs);
            if (rc != 0 && vs.rc == 0) {
                glci_cli_store_fail(cmd, cli, rc, "cannot read the values");
                goto cleanup;
            }
        }
    }
    if (rc != 0) {
        /* the workbook's own error, named when it is closed */
        glci_sheet_export_close(&x, first, last, err, sizeof err);
        glci_fail(cmd, "%s", err[0] ? err : "cannot write the workbook");
        goto cleanup;
    }
    rc = glci_sheet_export_close(&x, first, last, err, sizeof err);
    if (rc != 0) {
        glci_fail(cmd, "%s", err);
        goto cleanup;
    }
    if (total == 0)
        printf("no data in the store yet; wrote %s with the framework only\n", path);
    else
        printf("wrote %s: %zu results of %d to %d\n", path, total, (int)first, (int)last);
    status = GLCI_EXIT_OK;
cleanup:
    glci_sheet_export_abort(&x);
    glci_city_list_release(&cities);
    return status;
}
