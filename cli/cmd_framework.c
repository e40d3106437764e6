/* glci framework: the indicator framework embedded in the store, as a tree
 * of areas, focus areas and indicators with units, directions, goalposts,
 * valid ranges and weights. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "glci_text.h"

static json_t *s_json(const glci_framework_t *fw)
{
    json_t *areas = json_array();
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        json_t *focus = json_array();
        for (uint32_t k = 0; k < fw->areas[a].n_focus; k++) {
            const glci_focus_t *f = &fw->focus[fw->areas[a].focus[k]];
            json_t *inds = json_array();
            for (uint32_t m = 0; m < f->n_ind; m++) {
                const glci_indicator_t *i = &fw->ind[f->ind[m]];
                json_array_append_new(inds, json_pack(
                    "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                    i->id, "name", i->name, "unit", i->unit, "direction",
                    i->direction == GLCI_DIR_LOWER ? "lower" : "higher", "better",
                    glci_indicator_better_word(i), "lower",
                    glci_json_num(i->lower, 1), "upper", glci_json_num(i->upper, 1), "min",
                    glci_json_num(i->min, 1), "max", glci_json_num(i->max, 1), "weight",
                    glci_json_num(i->weight, 1), "green", glci_json_num(i->green, i->has_lights),
                    "red", glci_json_num(i->red, i->has_lights)));
            }
            json_array_append_new(focus, json_pack("{s:s, s:s, s:o, s:o}", "id", f->id,
                                                   "name", f->name, "weight",
                                                   glci_json_num(f->weight, 1),
                                                   "indicators", inds));
        }
        json_array_append_new(areas, json_pack("{s:s, s:s, s:o, s:o}", "id", fw->areas[a].id,
                                               "name", fw->areas[a].name, "weight",
                                               glci_json_num(fw->areas[a].weight, 1),
                                               "focus", focus));
    }
    char due[8];
    glci_round_due_key(fw, due, sizeof due);
    return json_pack("{s:s, s:s, s:s, s:o, s:i, s:s, s:i, s:i, s:i, s:s, s:i, s:o}", "id",
                     fw->id, "version", fw->version, "hash", fw->hash_hex, "min_coverage",
                     glci_json_num(fw->min_coverage, 1), "carry_forward",
                     (int)fw->carry_forward, "aggregation",
                     fw->aggregation == GLCI_AGG_GEOMETRIC ? "geometric" : "arithmetic",
                     "first_period", (int)fw->first_period, "last_period",
                     (int)fw->last_period, "cadence", (int)fw->cadence, "due", due,
                     "future_periods", (int)fw->future_periods, "areas", areas);
}

static void s_num(glci_table_t *t, double v)
{
    char buf[40];
    glci_format_double(v, buf, sizeof buf);
    glci_table_cell(t, buf);
}

static void s_csv(const glci_framework_t *fw)
{
    static const char *const headers[] = {"area", "focus", "indicator", "name", "unit",
                                          "direction", "lower", "upper", "min", "max",
                                          "weight", "green", "red"};
    glci_table_t *t = glci_table_new(13, headers, NULL);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *ind = &fw->ind[i];
        const glci_focus_t *f = &fw->focus[ind->focus];
        glci_table_cell(t, fw->areas[f->area].id);
        glci_table_cell(t, f->id);
        glci_table_cell(t, ind->id);
        glci_table_cell(t, ind->name);
        glci_table_cell(t, ind->unit);
        glci_table_cell(t, ind->direction == GLCI_DIR_LOWER ? "lower" : "higher");
        s_num(t, ind->lower);
        s_num(t, ind->upper);
        s_num(t, ind->min);
        s_num(t, ind->max);
        s_num(t, ind->weight);
        if (ind->has_lights) {
            s_num(t, ind->green);
            s_num(t, ind->red);
        } else {
            glci_table_cell(t, "");
            glci_table_cell(t, "");
        }
    }
    glci_table_print_csv(t, stdout);
    glci_table_free(&t);
}

static void s_table(const glci_framework_t *fw)
{
    static const char *const headers[] = {"id", "name", "unit", "better", "goalposts",
                                          "valid", "weight", "lights"};
    glci_table_t *t = glci_table_new(8, headers, "llllllll");
    char a[40], b[40];
    for (uint32_t ai = 0; ai < fw->n_areas; ai++) {
        const glci_area_t *area = &fw->areas[ai];
        glci_table_cell(t, area->id);
        glci_table_cell(t, area->name);
        for (int k = 0; k < 4; k++)
            glci_table_cell(t, "");
        glci_format_double(area->weight, a, sizeof a);
        glci_table_cell(t, a);
        glci_table_cell(t, "");
        for (uint32_t k = 0; k < area->n_focus; k++) {
            const glci_focus_t *f = &fw->focus[area->focus[k]];
            glci_table_cellf(t, "  %s", f->id);
            glci_table_cell(t, f->name);
            for (int m = 0; m < 4; m++)
                glci_table_cell(t, "");
            glci_format_double(f->weight, a, sizeof a);
            glci_table_cell(t, a);
            glci_table_cell(t, "");
            for (uint32_t m = 0; m < f->n_ind; m++) {
                const glci_indicator_t *i = &fw->ind[f->ind[m]];
                glci_table_cellf(t, "    %s", i->id);
                glci_table_cell(t, i->name);
                glci_table_cell(t, i->unit);
                /* which values score better (the sign of the score's slope, not
                 * the raw direction key: `lower` over lower 10, upper 3 scores
                 * 10 as 100), then the value scored 0 and the one scored 100,
                 * as the legend says: for `lower` upper..lower (SPEC section 3) */
                glci_table_cell(t, glci_indicator_better_word(i));
                int lower_key = i->direction == GLCI_DIR_LOWER;
                glci_format_double(lower_key ? i->upper : i->lower, a, sizeof a);
                glci_format_double(lower_key ? i->lower : i->upper, b, sizeof b);
                glci_table_cellf(t, "%s..%s", a, b);
                glci_format_double(i->min, a, sizeof a);
                glci_format_double(i->max, b, sizeof b);
                glci_table_cellf(t, "[%s, %s]", a, b);
                glci_format_double(i->weight, a, sizeof a);
                glci_table_cell(t, a);
                if (i->has_lights) {
                    glci_format_double(i->green, a, sizeof a);
                    glci_format_double(i->red, b, sizeof b);
                    glci_table_cellf(t, "green %s, red %s", a, b);
                } else {
                    glci_table_cell(t, "");
                }
            }
        }
    }
    printf("framework %s %s\nhash %s\n", fw->id, fw->version, fw->hash_hex);
    printf("%u areas, %u focus areas, %u indicators; min coverage %.0f%%, values carried "
           "forward %d periods, %s aggregation, periods %d-%d\n",
           fw->n_areas, fw->n_focus, fw->n_ind, fw->min_coverage * 100.0,
           (int)fw->carry_forward,
           fw->aggregation == GLCI_AGG_GEOMETRIC ? "geometric" : "arithmetic",
           (int)fw->first_period, (int)fw->last_period);
    /* the reporting cycle (SPEC section 7), before the tree */
    printf("rounds every %d year%s, due %02d-%02d of the year after; values may name up to "
           "%d period%s after the current year\n\n", (int)fw->cadence,
           fw->cadence == 1 ? "" : "s", (int)fw->due_month % 100, (int)fw->due_day % 100,
           (int)fw->future_periods, fw->future_periods == 1 ? "" : "s");
    glci_table_print_text(t, stdout);
    printf("\ngoalposts: the value scored 0..the value scored 100; valid: values "
           "outside are rejected;\nlights: a value as good as green is green, as bad as "
           "red is red, yellow between\n");
    glci_table_free(&t);
}

static int s_framework(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        return GLCI_EXIT_FAIL;
    const glci_framework_t *fw = glci_store_framework(st);
    int status = GLCI_EXIT_OK;
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = s_json(fw);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        s_csv(fw);
    } else {
        s_table(fw);
    }
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_framework = {
    .name = "framework",
    .usage = "framework",
    .summary = "print the embedded indicator framework",
    .help = "Prints the indicator framework embedded in the store when it was made:\n"
            "its id, version and hash, the settings, and the tree of areas, focus\n"
            "areas and indicators with unit, better direction, goalposts, valid\n"
            "range, weight and dashboard thresholds (green, red) when set.",
    .run = s_framework,
};
