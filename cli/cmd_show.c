/* glci show CITY: one city's result for a period as a tree -- index and
 * coverage, areas, focus areas, and every indicator with the value used,
 * the period it came from (marked when carried from an earlier one) and
 * its score. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "glci_analysis.h"
#include "glci_text.h"

/* The result to show: of period P when given, else of the period the
 * rule chooses (src), or the city's own latest before it, or its first
 * after it (glci_cli_city_period). As of a time or from an edition, the
 * city's row of that table. */
static int s_find(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                  const char *city, const glci_source_t *src, int32_t *period,
                  const glci_result_t **r)
{
    int rc;
    int given = src->choice.rule == GLCI_PERIOD_GIVEN;
    *period = src->choice.period;
    if (src->args.kind != GLCI_SRC_LIVE) {
        const glci_snapshot_row_t *row = glci_snapshot_find(&src->snap, city);
        char when[32];
        glci_format_iso_time(src->args.as_of, when, sizeof when);
        if (!row && src->args.kind == GLCI_SRC_EDITION)
            return glci_fail(cmd, "city '%s' is not in edition %s (period %d)", city,
                             src->edition.name, (int)*period);
        if (!row)
            return glci_fail(cmd, "no data for city '%s' in period %d as of %s", city,
                             (int)*period, when);
        *r = row->result;
        return 0;
    }
    if (given) {
        rc = glci_view_result(v, city, *period, r);
        if (rc == GLCI_STORE_ENODATA)
            return glci_fail(cmd, "no data for city '%s' in period %d", city, (int)*period);
        if (rc != 0)
            return glci_cli_store_fail(cmd, cli, rc, "cannot read the result");
        return 0;
    }
    return glci_cli_city_period(cmd, cli, v, city, src->choice.period, period, r);
}

static json_t *s_json(const glci_framework_t *fw, const glci_city_t *c,
                      const glci_result_t *r)
{
    json_t *areas = json_array();
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        const glci_area_t *area = &fw->areas[a];
        const glci_node_t *an = glci_result_area_c(fw, r, a);
        json_t *focus = json_array();
        for (uint32_t k = 0; k < area->n_focus; k++) {
            uint32_t f = area->focus[k];
            const glci_focus_t *fo = &fw->focus[f];
            const glci_node_t *fn = glci_result_focus_c(fw, r, f);
            json_t *inds = json_array();
            for (uint32_t m = 0; m < fo->n_ind; m++) {
                uint32_t i = fo->ind[m];
                const glci_slot_t *s = glci_result_slot_c(fw, r, i);
                const char *light = glci_light_str(glci_slot_light(&fw->ind[i], s));
                json_array_append_new(inds, json_pack(
                    "{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", fw->ind[i].id, "unit",
                    fw->ind[i].unit, "value", glci_json_num(s->value, (int)s->present),
                    "period", s->present ? json_integer(s->period) : json_null(),
                    "carried", s->present ? json_boolean(s->period < r->period) : json_null(),
                    "score", glci_json_num(s->score, (int)s->present), "light",
                    light ? json_string(light) : json_null()));
            }
            json_array_append_new(focus, json_pack(
                "{s:s, s:s, s:o, s:o}", "id", fo->id, "name", fo->name, "score",
                glci_json_num(fn->score, (int)fn->present), "indicators", inds));
        }
        json_array_append_new(areas, json_pack(
            "{s:s, s:s, s:o, s:o}", "id", area->id, "name", area->name, "score",
            glci_json_num(an->score, (int)an->present), "focus", focus));
    }
    return json_pack("{s:s, s:s, s:i, s:o, s:o, s:I, s:I, s:o}", "city", c->id, "name",
                     c->name, "period", (int)r->period, "index",
                     glci_json_num(r->index, (int)r->has_index), "coverage",
                     glci_json_num(r->coverage, 1), "values", (json_int_t)r->n_values,
                     "indicators", (json_int_t)fw->n_ind, "areas", areas);
}

static void s_csv_row(glci_table_t *t, const char *level, const char *id,
                      const glci_slot_t *s, const glci_node_t *n, int32_t period,
                      const char *light)
{
    char buf[64];
    glci_table_cell(t, level);
    glci_table_cell(t, id);
    if (s) {
        glci_fmt_exact(s->value, (int)s->present, buf, sizeof buf);
        glci_table_cell(t, buf);
        if (s->present) {
            glci_table_cellf(t, "%d", (int)s->period);
            glci_table_cell(t, s->period < period ? "true" : "false");
        } else {
            glci_table_cell(t, "");
            glci_table_cell(t, "");
        }
        glci_fmt_exact(s->score, (int)s->present, buf, sizeof buf);
    } else {
        glci_table_cell(t, "");
        glci_table_cell(t, "");
        glci_table_cell(t, "");
        glci_fmt_exact(n->score, (int)n->present, buf, sizeof buf);
    }
    glci_table_cell(t, buf);
    glci_table_cell(t, light ? light : "");
}

static void s_csv(const glci_framework_t *fw, const glci_city_t *c, const glci_result_t *r)
{
    static const char *const headers[] = {"level", "id", "value", "period", "carried", "score",
                                          "light"};
    glci_table_t *t = glci_table_new(7, headers, NULL);
    glci_node_t idx = {.score = r->index, .present = r->has_index};
    char cov[64];
    s_csv_row(t, "index", c->id, NULL, &idx, r->period, NULL);
    glci_fmt_exact(r->coverage, 1, cov, sizeof cov);
    glci_table_cell(t, "coverage");
    glci_table_cell(t, c->id);
    glci_table_cell(t, cov);
    glci_table_cellf(t, "%d", (int)r->period);
    glci_table_cell(t, "");
    glci_table_cell(t, "");
    glci_table_cell(t, "");
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        s_csv_row(t, "area", fw->areas[a].id, NULL, glci_result_area_c(fw, r, a), r->period,
                  NULL);
        for (uint32_t k = 0; k < fw->areas[a].n_focus; k++) {
            uint32_t f = fw->areas[a].focus[k];
            s_csv_row(t, "focus", fw->focus[f].id, NULL, glci_result_focus_c(fw, r, f),
                      r->period, NULL);
            for (uint32_t m = 0; m < fw->focus[f].n_ind; m++) {
                uint32_t i = fw->focus[f].ind[m];
                const glci_slot_t *s = glci_result_slot_c(fw, r, i);
                s_csv_row(t, "indicator", fw->ind[i].id, s, NULL, r->period,
                          glci_light_str(glci_slot_light(&fw->ind[i], s)));
            }
        }
    }
    glci_table_print_csv(t, stdout);
    glci_table_free(&t);
}

static void s_table(const glci_framework_t *fw, const glci_city_t *c, const glci_result_t *r)
{
    static const char *const headers[] = {"", "value", "unit", "period", "score", "light"};
    glci_table_t *t = glci_table_new(6, headers, "lrlrrl");
    char buf[64];
    int carried = 0;
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        const glci_node_t *an = glci_result_area_c(fw, r, a);
        glci_table_cell(t, fw->areas[a].name);
        glci_table_cell(t, "");
        glci_table_cell(t, "");
        glci_table_cell(t, "");
        glci_fmt_score(an->score, (int)an->present, buf, sizeof buf);
        glci_table_cell(t, buf);
        glci_table_cell(t, "");
        for (uint32_t k = 0; k < fw->areas[a].n_focus; k++) {
            uint32_t f = fw->areas[a].focus[k];
            const glci_node_t *fn = glci_result_focus_c(fw, r, f);
            glci_table_cellf(t, "  %s", fw->focus[f].name);
            glci_table_cell(t, "");
            glci_table_cell(t, "");
            glci_table_cell(t, "");
            glci_fmt_score(fn->score, (int)fn->present, buf, sizeof buf);
            glci_table_cell(t, buf);
            glci_table_cell(t, "");
            for (uint32_t m = 0; m < fw->focus[f].n_ind; m++) {
                uint32_t i = fw->focus[f].ind[m];
                const glci_slot_t *s = glci_result_slot_c(fw, r, i);
                glci_table_cellf(t, "    %s", fw->ind[i].id);
                if (s->present) {
                    glci_fmt_value(s->value, buf, sizeof buf);
                    glci_table_cell(t, buf);
                    glci_table_cell(t, fw->ind[i].unit);
                    glci_table_cellf(t, "%d%s", (int)s->period,
                                     s->period < r->period ? "*" : " ");
                    carried |= s->period < r->period;
                } else {
                    glci_table_cell(t, "-");
                    glci_table_cell(t, fw->ind[i].unit);
                    glci_table_cell(t, "- ");
                }
                glci_fmt_score(s->score, (int)s->present, buf, sizeof buf);
                glci_table_cell(t, buf);
                const char *light = glci_light_str(glci_slot_light(&fw->ind[i], s));
                glci_table_cell(t, light ? light : "");
            }
        }
    }
    char idx[32];
    glci_fmt_score(r->index, (int)r->has_index, idx, sizeof idx);
    printf("%s (%s, %s), period %d\n", c->name, c->id, c->country, (int)r->period);
    printf("index %s%s   coverage %.1f%% (%u of %u indicators; %.0f%% needed)\n\n", idx,
           r->has_index ? "" : " (not ranked)", r->coverage * 100.0, r->n_values, fw->n_ind,
           fw->min_coverage * 100.0);
    glci_table_print_text(t, stdout);
    printf("\n%s- no value\n", carried ? "* value carried from an earlier period   " : "");
    glci_table_free(&t);
}

static int s_show(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "period", .has_arg = 1}, {.name = "as-of", .has_arg = 1},
                         {.name = "edition", .has_arg = 1}};
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 3, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (glci_city_id_check(pos[0], NULL, 0) != 0)
        return glci_usage_bad_city(cmd, pos[0]);
    int32_t period = 0;
    glci_src_args_t sa;
    if (glci_src_args(cmd, &opts[0], &opts[1], &opts[2], &sa) != 0)
        return GLCI_EXIT_USAGE;

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_source_t src = {0};
    int status = GLCI_EXIT_FAIL;
    glci_city_t c;
    const glci_result_t *r = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    rc = glci_view_city(v, pos[0], &c);
    if (rc == GLCI_STORE_ENOCITY || rc == GLCI_STORE_EINVAL) {
        glci_fail(cmd, "no such city '%s'", pos[0]);
        goto cleanup;
    }
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
        goto cleanup;
    }
    if (glci_source_open(cmd, cli, v, &sa, sa.kind != GLCI_SRC_LIVE, &src) != 0 ||
        s_find(cmd, cli, v, c.id, &src, &period, &r) != 0)
        goto cleanup;
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = s_json(fw, &c, r);
        glci_source_json(&src, j);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        s_csv(fw, &c, r);
        status = GLCI_EXIT_OK;
    } else {
        if (src.args.kind != GLCI_SRC_LIVE || period == src.choice.period)
            glci_source_print(&src, stdout);
        s_table(fw, &c, r);
        status = GLCI_EXIT_OK;
    }
cleanup:
    glci_source_release(&src);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_show = {
    .name = "show",
    .usage = "show CITY [--period P] [--as-of TIME | --edition NAME]",
    .summary = "a city's index, areas, focus areas and indicators",
    .help =
        "Prints city CITY's result for period P (default: the period rank\n"
        "chooses, or the city's latest before it) as a tree: index and coverage,\n"
        "each area and focus area with its score, and each indicator with the\n"
        "value used, its unit, the period it came from (marked * when carried\n"
        "from an earlier period), its score (0-100) and, when the framework\n"
        "gives the indicator dashboard thresholds, its light: green (as good as\n"
        "the green threshold or better), red (as bad as the red one or worse)\n"
        "or yellow (between).\n\n"
        "Options:\n"
        "  --period P       the period (year)\n"
        "  --as-of TIME     the result as the store held it then (see glci rank)\n"
        "  --edition NAME   the result as published in the edition",
    .pos = {"CITY"},
    .run = s_show,
};
