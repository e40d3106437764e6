/* glci export: every score of every city for one period or for all
 * periods with results -- rank, index, coverage, area and focus area
 * scores, and each indicator's value and score -- for analysts (CSV with
 * one row per city and period, or JSON). */
#include "cli.h"
#include "cli_documents.h"

#include <stdio.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"

static void s_json_rows(const glci_framework_t *fw, const glci_period_t *p, json_t *rows)
{
    for (size_t k = 0; k < p->n; k++) {
        const glci_period_row_t *row = &p->rows[k];
        const glci_result_t *r = row->result;
        json_t *areas = json_object(), *focus = json_object(), *inds = json_object();
        for (uint32_t a = 0; a < fw->n_areas; a++) {
            const glci_node_t *n = glci_result_area_c(fw, r, a);
            json_object_set_new(areas, fw->areas[a].id, glci_json_num(n->score, (int)n->present));
        }
        for (uint32_t f = 0; f < fw->n_focus; f++) {
            const glci_node_t *n = glci_result_focus_c(fw, r, f);
            json_object_set_new(focus, fw->focus[f].id, glci_json_num(n->score, (int)n->present));
        }
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            const glci_slot_t *s = glci_result_slot_c(fw, r, i);
            json_object_set_new(inds, fw->ind[i].id, json_pack(
                "{s:o, s:o, s:o}", "value", glci_json_num(s->value, (int)s->present),
                "period", s->present ? json_integer(s->period) : json_null(), "score",
                glci_json_num(s->score, (int)s->present)));
        }
        json_array_append_new(rows, json_pack(
            "{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "city", row->city, "period",
            (int)p->period, "rank", row->ranked ? json_integer(row->rank) : json_null(),
            "index", glci_json_num(r->index, (int)r->has_index), "coverage",
            glci_json_num(r->coverage, 1), "areas", areas, "focus", focus, "indicators",
            inds));
    }
}

static glci_table_t *s_csv_table(const glci_framework_t *fw)
{
    size_t n = 5 + fw->n_areas + fw->n_focus + 2 * (size_t)fw->n_ind;
    char **h = glci_xcalloc(n, sizeof *h);
    size_t k = 0;
    h[k++] = glci_xstrdup("city");
    h[k++] = glci_xstrdup("period");
    h[k++] = glci_xstrdup("rank");
    h[k++] = glci_xstrdup("index");
    h[k++] = glci_xstrdup("coverage");
    char buf[256];
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        snprintf(buf, sizeof buf, "area:%s", fw->areas[a].id);
        h[k++] = glci_xstrdup(buf);
    }
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        snprintf(buf, sizeof buf, "focus:%s", fw->focus[f].id);
        h[k++] = glci_xstrdup(buf);
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        snprintf(buf, sizeof buf, "value:%s", fw->ind[i].id);
        h[k++] = glci_xstrdup(buf);
        snprintf(buf, sizeof buf, "score:%s", fw->ind[i].id);
        h[k++] = glci_xstrdup(buf);
    }
    glci_table_t *t = glci_table_new(n, (const char *const *)h, NULL);
    for (size_t i = 0; i < n; i++)
        free(h[i]);
    free(h);
    return t;
}

static void s_csv_rows(const glci_framework_t *fw, const glci_period_t *p, glci_table_t *t)
{
    char buf[64];
    for (size_t k = 0; k < p->n; k++) {
        const glci_period_row_t *row = &p->rows[k];
        const glci_result_t *r = row->result;
        glci_table_cell(t, row->city);
        glci_table_cellf(t, "%d", (int)p->period);
        if (row->ranked)
            glci_table_cellf(t, "%u", row->rank);
        else
            glci_table_cell(t, "");
        glci_fmt_exact(r->index, (int)r->has_index, buf, sizeof buf);
        glci_table_cell(t, buf);
        glci_fmt_exact(r->coverage, 1, buf, sizeof buf);
        glci_table_cell(t, buf);
        for (uint32_t a = 0; a < fw->n_areas; a++) {
            const glci_node_t *n = glci_result_area_c(fw, r, a);
            glci_fmt_exact(n->score, (int)n->present, buf, sizeof buf);
            glci_table_cell(t, buf);
        }
        for (uint32_t f = 0; f < fw->n_focus; f++) {
            const glci_node_t *n = glci_result_focus_c(fw, r, f);
            glci_fmt_exact(n->score, (int)n->present, buf, sizeof buf);
            glci_table_cell(t, buf);
        }
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            const glci_slot_t *s = glci_result_slot_c(fw, r, i);
            glci_fmt_exact(s->value, (int)s->present, buf, sizeof buf);
            glci_table_cell(t, buf);
            glci_fmt_exact(s->score, (int)s->present, buf, sizeof buf);
            glci_table_cell(t, buf);
        }
    }
}

static glci_table_t *s_text_table(const glci_framework_t *fw)
{
    size_t n = 5 + fw->n_areas;
    const char **h = glci_xcalloc(n, sizeof *h);
    char *align = glci_xcalloc(n + 1, 1);
    h[0] = "city";
    h[1] = "period";
    h[2] = "rank";
    h[3] = "index";
    h[4] = "coverage";
    for (uint32_t a = 0; a < fw->n_areas; a++)
        h[5 + a] = fw->areas[a].id;
    memset(align, 'r', n);
    align[0] = 'l';
    glci_table_t *t = glci_table_new(n, h, align);
    free(align);
    free(h);
    return t;
}

static void s_text_rows(const glci_framework_t *fw, const glci_period_t *p, glci_table_t *t)
{
    char buf[64];
    for (size_t k = 0; k < p->n; k++) {
        const glci_period_row_t *row = &p->rows[k];
        const glci_result_t *r = row->result;
        glci_table_cell(t, row->city);
        glci_table_cellf(t, "%d", (int)p->period);
        if (row->ranked)
            glci_table_cellf(t, "%u", row->rank);
        else
            glci_table_cell(t, "-");
        glci_fmt_score(r->index, (int)r->has_index, buf, sizeof buf);
        glci_table_cell(t, buf);
        glci_table_cellf(t, "%.0f%%", r->coverage * 100.0);
        for (uint32_t a = 0; a < fw->n_areas; a++) {
            const glci_node_t *n = glci_result_area_c(fw, r, a);
            glci_fmt_score(n->score, (int)n->present, buf, sizeof buf);
            glci_table_cell(t, buf);
        }
    }
}

static int s_export(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "period", .has_arg = 1}, {.name = "out", .has_arg = 1},
                         {.name = "as-of", .has_arg = 1}, {.name = "edition", .has_arg = 1},
                         {.name = "all-periods", .has_arg = 0}};
    int rc = glci_args_parse(cmd, argc, argv, opts, 5, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_src_args_t sa;
    if (glci_src_args(cmd, &opts[0], &opts[2], &opts[3], &sa) != 0)
        return GLCI_EXIT_USAGE;
    int all = opts[4].seen;
    if (all && (opts[0].seen || sa.kind != GLCI_SRC_LIVE))
        return glci_usage_error(cmd, "%s", "--all-periods is the live store's every period: "
                                           "not with --period, --as-of or --edition");
    if (cli->format == GLCI_FMT_XLSX && (!opts[1].seen || !*opts[1].value))
        return glci_usage_error(cmd, "%s", "--format xlsx needs --out FILE");
    if (cli->format != GLCI_FMT_XLSX && opts[1].seen)
        return glci_usage_error(cmd, "%s", "--out is for --format xlsx (csv and json go to "
                                           "standard output)");
    if (glci_args_out(cmd, &opts[1]) != 0)
        return GLCI_EXIT_USAGE;

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_table_t *t = NULL;
    json_t *rows = NULL;
    glci_source_t src = {0};
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    /* A live store without data exports an empty table (and a workbook of
     * the framework alone), as it always did. */
    int32_t any;
    int every = all || (sa.kind == GLCI_SRC_LIVE && !opts[0].seen &&
                        glci_view_latest_period(v, &any) == GLCI_STORE_ENODATA);
    if (!every && glci_source_open(cmd, cli, v, &sa, sa.kind != GLCI_SRC_LIVE, &src) != 0)
        goto cleanup;
    int32_t period = src.choice.period;
    int32_t first = period, last = period;
    if (every) {
        glci_store_status_t s;
        rc = glci_view_status(v, &s);
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the store status");
            goto cleanup;
        }
        /* Results reach carry_forward periods past the last observation. */
        first = s.first_period;
        last = s.last_period ? s.last_period + fw->carry_forward : 0;
        if (last > fw->last_period)
            last = fw->last_period;
        if (s.first_period == 0) {
            first = 1;
            last = 0;
        }
    }
    if (cli->format == GLCI_FMT_XLSX) {
        /* glci has run glci-report before this point (cli_documents.h) */
        status = glci_export_xlsx
                     ? glci_export_xlsx(cmd, cli, v, fw, every ? NULL : &src, first, last,
                                        opts[1].value)
                     : glci_fail(cmd, "%s", "internal: the workbook code is not in this program");
        goto cleanup;
    }
    if (cli->format == GLCI_FMT_JSON)
        rows = json_array();
    else if (cli->format == GLCI_FMT_CSV)
        t = s_csv_table(fw);
    else
        t = s_text_table(fw);
    size_t total = 0;
    for (int32_t p = first; p <= last; p++) {
        glci_period_t per;
        rc = glci_source_period(v, fw, every ? NULL : &src, p, &per);
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
            goto cleanup;
        }
        total += per.n;
        if (rows)
            s_json_rows(fw, &per, rows);
        else if (cli->format == GLCI_FMT_CSV)
            s_csv_rows(fw, &per, t);
        else
            s_text_rows(fw, &per, t);
        glci_period_release(&per);
    }
    if (!every && total == 0) {
        glci_source_no_data(cmd, &src);
        goto cleanup;
    }
    if (rows) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "framework", fw->id, "version", fw->version,
                              "hash", fw->hash_hex);
        if (!every) {
            json_object_set_new(j, "period", json_integer(period));
            glci_source_json(&src, j);
        }
        json_object_set(j, "rows", rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_print_csv(t, stdout);
        status = GLCI_EXIT_OK;
    } else {
        if (!every)
            glci_source_print(&src, stdout);
        if (total == 0)
            printf("no data in the store yet\n");
        else
            glci_table_print_text(t, stdout);
        status = GLCI_EXIT_OK;
    }
cleanup:
    glci_source_release(&src);
    json_decref(rows);
    glci_table_free(&t);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_export = {
    .name = "export",
    .usage = "export [--period P | --all-periods] [--as-of TIME | --edition NAME] "
             "[--format xlsx --out FILE]",
    .summary = "all scores (csv/json/xlsx)",
    .help =
        "Exports every city's scores for period P (default: the period rank\n"
        "chooses, named in the output), or with --all-periods for every period\n"
        "with results: rank, index, coverage, each area and focus area score, and\n"
        "each indicator's value and score. CSV has one row per city and period\n"
        "(columns area:ID, focus:ID, value:ID, score:ID; empty when absent);\n"
        "JSON has the same as objects (null when absent); the table shows the\n"
        "index and area scores only. --format xlsx writes a workbook to --out\n"
        "FILE: a sheet per level (index, areas, focus areas, indicators), the\n"
        "values that can count for the period (values), the framework and an\n"
        "about sheet; with --as-of or --edition the values received by that\n"
        "time, with --all-periods every period and every value received.\n\n"
        "Options:\n"
        "  --period P       only this period\n"
        "  --all-periods    every period with results (the live store)\n"
        "  --as-of TIME     the scores as the store held them then (see glci rank)\n"
        "  --edition NAME   the scores as published in the edition\n"
        "  --out FILE       the workbook to write (with --format xlsx; - is refused)",
    .xlsx = 1,
    .run = s_export,
};
