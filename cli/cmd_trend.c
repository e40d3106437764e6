/* glci trend CITY: the city's index, area and focus-area scores in each of
 * its reporting rounds, the change from the previous round and a trend
 * class per score (glci_trend_compute; docs/ANALYSIS.md has the classes
 * and their source). A round is a period whose result holds a value of
 * that period; periods that only carry earlier values are not listed. The
 * change of the first round shown is from the round before it, when the
 * store has one before --from. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

typedef struct {
    const glci_framework_t *fw;
    const glci_city_t *c;
    size_t n;                           /* rounds */
    const glci_result_t **rounds;       /* ascending; owned by the view */
    glci_trend_cell_t *cells;           /* n * nodes */
    size_t nodes;
    size_t first, last;                 /* rounds shown: [first, last) */
} s_trend_t;

/* Level and id of node j. */
static const char *s_node_id(const s_trend_t *t, size_t j, const char **level)
{
    const glci_framework_t *fw = t->fw;
    if (j == 0) {
        *level = "index";
        return t->c->id;
    }
    if (j <= fw->n_areas) {
        *level = "area";
        return fw->areas[j - 1].id;
    }
    *level = "focus";
    return fw->focus[j - 1 - fw->n_areas].id;
}

/* The nodes in tree order: the index, then each area followed by its
 * focus areas. Fills order (glci_trend_n_nodes entries). */
static void s_tree_order(const glci_framework_t *fw, size_t *order)
{
    size_t k = 0;
    order[k++] = 0;
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        order[k++] = 1 + a;
        for (uint32_t m = 0; m < fw->areas[a].n_focus; m++)
            order[k++] = 1 + fw->n_areas + fw->areas[a].focus[m];
    }
}

static json_t *s_cell_json(const glci_trend_cell_t *c)
{
    const char *trend = glci_trend_str(c->trend);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "score", glci_json_num(c->score, c->present),
                     "previous", c->has_change ? json_integer(c->previous) : json_null(),
                     "change", glci_json_num(c->change, c->has_change), "per_year",
                     glci_json_num(c->per_year, c->has_change), "trend",
                     trend ? json_string(trend) : json_null());
}

static json_t *s_json(const s_trend_t *t)
{
    const glci_framework_t *fw = t->fw;
    json_t *periods = json_array();
    for (size_t k = t->first; k < t->last; k++) {
        const glci_trend_cell_t *row = &t->cells[k * t->nodes];
        json_t *areas = json_array();
        for (uint32_t a = 0; a < fw->n_areas; a++) {
            json_t *focus = json_array();
            for (uint32_t m = 0; m < fw->areas[a].n_focus; m++) {
                uint32_t f = fw->areas[a].focus[m];
                json_t *fo = s_cell_json(&row[1 + fw->n_areas + f]);
                json_object_set_new(fo, "id", json_string(fw->focus[f].id));
                json_array_append_new(focus, fo);
            }
            json_t *ar = s_cell_json(&row[1 + a]);
            json_object_set_new(ar, "id", json_string(fw->areas[a].id));
            json_object_set_new(ar, "focus", focus);
            json_array_append_new(areas, ar);
        }
        json_array_append_new(periods, json_pack("{s:i, s:o, s:o}", "period",
                                                 (int)t->rounds[k]->period, "index",
                                                 s_cell_json(&row[0]), "areas", areas));
    }
    return json_pack("{s:s, s:s, s:i, s:i, s:f, s:o}", "city", t->c->id, "name", t->c->name,
                     "from", (int)t->rounds[t->first]->period, "to",
                     (int)t->rounds[t->last - 1]->period, "rate_per_year", GLCI_TREND_RATE,
                     "periods", periods);
}

/* The rows of the shown rounds, in tree order, for CSV (exact numbers,
 * level and id apart, empty when absent) or for people (scores with one
 * decimal, changes by glci_trend_fmt, indented ids, "-" when absent). */
static glci_table_t *s_rows(const s_trend_t *t, const size_t *order, int csv)
{
    static const char *const csv_h[] = {"period", "level", "id", "score", "previous",
                                        "change", "per_year", "trend"};
    static const char *const text_h[] = {"period", "", "score", "since", "change",
                                         "per year", "trend"};
    glci_table_t *tb = csv ? glci_table_new(8, csv_h, NULL) : glci_table_new(7, text_h,
                                                                             "llrlrrl");
    const char *none = csv ? "" : "-";
    char buf[64];
    for (size_t k = t->first; k < t->last; k++) {
        for (size_t m = 0; m < t->nodes; m++) {
            const glci_trend_cell_t *c = &t->cells[k * t->nodes + order[m]];
            const char *level, *id = s_node_id(t, order[m], &level);
            const char *trend = glci_trend_str(c->trend);
            if (csv || m == 0)
                glci_table_cellf(tb, "%d", (int)t->rounds[k]->period);
            else
                glci_table_cell(tb, "");
            if (csv) {
                glci_table_cell(tb, level);
                glci_table_cell(tb, id);
                glci_fmt_exact(c->score, c->present, buf, sizeof buf);
            } else {
                glci_table_cellf(tb, "%s%s", level[0] == 'i' ? "" : level[0] == 'a' ? "  "
                                                                                     : "    ",
                                 level[0] == 'i' ? "index" : id);
                glci_fmt_score(c->score, c->present, buf, sizeof buf);
            }
            glci_table_cell(tb, buf);
            if (c->has_change)
                glci_table_cellf(tb, "%d", (int)c->previous);
            else
                glci_table_cell(tb, none);
            for (int j = 0; j < 2; j++) {
                double v = j == 0 ? c->change : c->per_year;
                if (csv)
                    glci_fmt_exact(v, c->has_change, buf, sizeof buf);
                else if (c->has_change)
                    glci_trend_fmt(v, buf, sizeof buf);
                else
                    snprintf(buf, sizeof buf, "%s", none);
                glci_table_cell(tb, buf);
            }
            glci_table_cell(tb, trend ? trend : none);
        }
    }
    return tb;
}

static void s_table(const s_trend_t *t, const size_t *order)
{
    glci_table_t *tb = s_rows(t, order, 0);
    size_t shown = t->last - t->first;
    printf("%s (%s, %s): %zu reporting round%s, %d-%d\n", t->c->name, t->c->id, t->c->country,
           shown, shown == 1 ? "" : "s", (int)t->rounds[t->first]->period,
           (int)t->rounds[t->last - 1]->period);
    printf("trend of the change per year since the previous round: improving at +%.2f "
           "points or more, declining at -%.2f or less, else stagnating\n\n",
           GLCI_TREND_RATE, GLCI_TREND_RATE);
    glci_table_print_text(tb, stdout);
    glci_table_free(&tb);
}

static int s_trend(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "from", .has_arg = 1}, {.name = "to", .has_arg = 1}};
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 2, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (glci_city_id_check(pos[0], NULL, 0) != 0)
        return glci_usage_bad_city(cmd, pos[0]);
    int32_t from = 0, to = 9999;
    if (opts[0].seen && glci_args_period_opt(cmd, &opts[0], &from) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[1].seen && glci_args_period_opt(cmd, &opts[1], &to) != 0)
        return GLCI_EXIT_USAGE;
    if (from > to)
        return glci_usage_error(cmd, "--from %d is after --to %d", (int)from, (int)to);

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    glci_city_t c;
    s_trend_t t = {0};
    size_t *order = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    t.fw = glci_store_framework(st);
    t.c = &c;
    if (glci_analysis_city(cmd, cli, v, pos[0], &c) != 0)
        goto cleanup;
    glci_store_status_t ss;
    rc = glci_view_status(v, &ss);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the store status");
        goto cleanup;
    }
    /* Every round of the city, so the first shown has its previous one. */
    size_t cap = ss.first_period ? (size_t)(ss.last_period - ss.first_period + 1) : 0;
    t.rounds = glci_xcalloc(cap ? cap : 1, sizeof *t.rounds);
    for (int32_t p = ss.first_period; cap && p <= ss.last_period; p++) {
        const glci_result_t *r = NULL;
        rc = glci_view_result(v, c.id, p, &r);
        if (rc == GLCI_STORE_ENODATA)
            continue;
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
            goto cleanup;
        }
        if (glci_result_is_round(t.fw, r))
            t.rounds[t.n++] = r;
    }
    while (t.first < t.n && t.rounds[t.first]->period < from)
        t.first++;
    for (t.last = t.first; t.last < t.n && t.rounds[t.last]->period <= to;)
        t.last++;
    if (t.n == 0) {
        glci_fail(cmd, "no data for city '%s'", c.id);
        goto cleanup;
    }
    if (t.first == t.last) {
        if (opts[0].seen && opts[1].seen)
            glci_fail(cmd, "no reporting round of city '%s' in %d-%d", c.id, (int)from, (int)to);
        else if (opts[0].seen)
            glci_fail(cmd, "no reporting round of city '%s' from %d", c.id, (int)from);
        else
            glci_fail(cmd, "no reporting round of city '%s' up to %d", c.id, (int)to);
        goto cleanup;
    }
    t.nodes = glci_trend_n_nodes(t.fw);
    t.cells = glci_xcalloc(t.n * t.nodes, sizeof *t.cells);
    glci_trend_compute(t.fw, t.rounds, t.n, t.cells);
    order = glci_xcalloc(t.nodes, sizeof *order);
    s_tree_order(t.fw, order);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = s_json(&t);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_t *tb = s_rows(&t, order, 1);
        glci_table_print_csv(tb, stdout);
        glci_table_free(&tb);
        status = GLCI_EXIT_OK;
    } else {
        s_table(&t, order);
        status = GLCI_EXIT_OK;
    }
cleanup:
    free(order);
    free(t.cells);
    free(t.rounds);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_trend = {
    .name = "trend",
    .usage = "trend CITY [--from P] [--to P]",
    .summary = "a city's scores per reporting round, with changes and trends",
    .help =
        "Prints city CITY's index, area and focus-area scores in each of its\n"
        "reporting rounds (periods with a value of their own, not only values\n"
        "carried from earlier ones), each with its change from the previous\n"
        "round that had that score, the change per year, and a trend class:\n"
        "improving (+1 point a year or more), declining (-1 or less) or\n"
        "stagnating (between). The table shows changes with two decimals,\n"
        "never at or past +/-1.00 for a stagnating score (0.996 shows +0.99);\n"
        "JSON and CSV give them exactly. See docs/ANALYSIS.md.\n\n"
        "Options:\n"
        "  --from P     the first period shown (its change is still from the\n"
        "               round before it)\n"
        "  --to P       the last period shown",
    .pos = {"CITY"},
    .run = s_trend,
};
