/* glci rank: the league table of a period, by the index or by one area's
 * or focus area's score. The results of the period are read in one view
 * and ranked in memory (ties share a rank and are listed by city id);
 * cities with a result but no score to rank on are listed apart. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

/* The city's name for people, "" if it cannot be read. */
static void s_name(glci_view_t *v, const char *id, glci_city_t *c)
{
    if (glci_view_city(v, id, c) != 0)
        c->name[0] = '\0';
}

/* The JSON form, streamed: the frame is written here, each row is one
 * reused jansson object whose values change in place, dumped straight into
 * stdout. Byte for byte what dumping the whole tree at once gives
 *   {"period": P, "by": B, "id": I, "ranked": N, "rows": [ROW, ...],
 *    "unranked": [ROW, ...]}
 * without building 10,000 objects and a megabyte string first. 0 or -1. */
static int s_json(glci_view_t *v, const glci_period_t *p, size_t shown,
                  glci_rank_by_t by, const char *by_id)
{
    FILE *out = stdout;
    glci_city_t c;
    int rc = 0;
    /* The head through jansson, its closing brace left off. */
    json_t *head = json_pack("{s:i, s:s, s:o, s:I}", "period", (int)p->period, "by",
                             by == GLCI_RANK_INDEX ? "index"
                             : by == GLCI_RANK_AREA ? "area" : "focus",
                             "id", by_id ? json_string(by_id) : json_null(), "ranked",
                             (json_int_t)p->n_ranked);
    char *text = head ? json_dumps(head, JSON_PRESERVE_ORDER) : NULL;
    json_decref(head);
    if (!text)
        return -1;
    size_t len = strlen(text);
    if (len < 2 || fwrite(text, 1, len - 1, out) != len - 1)
        rc = -1;
    free(text);

    json_t *row = json_object();
    json_object_set_new_nocheck(row, "rank", json_integer(0));
    json_object_set_new_nocheck(row, "city", json_string(""));
    json_object_set_new_nocheck(row, "name", json_string(""));
    json_object_set_new_nocheck(row, "score", json_null());
    json_object_set_new_nocheck(row, "index", json_null());
    json_object_set_new_nocheck(row, "coverage", json_null());
    json_t *rank = json_object_get(row, "rank");
    fputs(", \"rows\": [", out);
    for (size_t i = 0; rc == 0 && i < shown; i++) {
        const glci_period_row_t *r = &p->rows[i];
        s_name(v, r->city, &c);
        json_integer_set(rank, (json_int_t)r->rank);
        glci_json_set_str(row, "city", r->city);
        glci_json_set_str(row, "name", c.name);
        glci_json_set_num(row, "score", r->key, 1);
        glci_json_set_num(row, "index", r->index, r->has_index);
        glci_json_set_num(row, "coverage", r->coverage, 1);
        if ((i > 0 && fputs(", ", out) == EOF) || glci_json_write(row, out) != 0)
            rc = -1;
    }
    json_decref(row);

    row = json_object();
    json_object_set_new_nocheck(row, "city", json_string(""));
    json_object_set_new_nocheck(row, "name", json_string(""));
    json_object_set_new_nocheck(row, "coverage", json_null());
    fputs("], \"unranked\": [", out);
    for (size_t i = p->n_ranked; rc == 0 && i < p->n; i++) {
        const glci_period_row_t *r = &p->rows[i];
        s_name(v, r->city, &c);
        glci_json_set_str(row, "city", r->city);
        glci_json_set_str(row, "name", c.name);
        glci_json_set_num(row, "coverage", r->coverage, 1);
        if ((i > p->n_ranked && fputs(", ", out) == EOF) || glci_json_write(row, out) != 0)
            rc = -1;
    }
    json_decref(row);
    if (fputs("]}\n", out) == EOF || ferror(out))
        rc = -1;
    return rc;
}

static int s_rank(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "period", .has_arg = 1},
        {.name = "area", .has_arg = 1},
        {.name = "focus", .has_arg = 1},
        {.name = "limit", .has_arg = 1},
    };
    int rc = glci_args_parse(cmd, argc, argv, opts, 4, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    int32_t period = 0;
    size_t limit = 0;
    if (opts[0].seen && glci_args_period(cmd, opts[0].value, &period) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[3].seen && glci_args_limit(cmd, opts[3].value, &limit) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[1].seen && opts[2].seen)
        return glci_usage_error(cmd, "give either --area or --focus, not both");

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_period_t p = {0};
    glci_table_t *t = NULL;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    glci_rank_by_t by = GLCI_RANK_INDEX;
    int32_t which = 0;
    const char *by_id = NULL, *by_name = "index";
    if (opts[1].seen) {
        which = glci_framework_area(fw, opts[1].value);
        if (which < 0) {
            glci_fail(cmd, "no area '%s' in framework %s", opts[1].value, fw->id);
            goto cleanup;
        }
        by = GLCI_RANK_AREA;
        by_id = fw->areas[which].id;
        by_name = fw->areas[which].name;
    } else if (opts[2].seen) {
        which = glci_framework_focus(fw, opts[2].value);
        if (which < 0) {
            glci_fail(cmd, "no focus area '%s' in framework %s", opts[2].value, fw->id);
            goto cleanup;
        }
        by = GLCI_RANK_FOCUS;
        by_id = fw->focus[which].id;
        by_name = fw->focus[which].name;
    }
    if (glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    if (!opts[0].seen && glci_cli_latest_period(cmd, cli, v, &period) != 0)
        goto cleanup;
    rc = glci_period_load(v, fw, period, by, (uint32_t)which, 0, &p);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
        goto cleanup;
    }
    if (p.n == 0) {
        glci_fail(cmd, "no data for period %d", (int)period);
        goto cleanup;
    }
    size_t shown = limit && limit < p.n_ranked ? limit : p.n_ranked;
    glci_city_t c;

    if (cli->format == GLCI_FMT_JSON) {
        status = s_json(v, &p, shown, by, by_id) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
        goto cleanup;
    }

    char score[32], cov[32];
    if (cli->format == GLCI_FMT_CSV) {
        /* One table: ranked rows, then unranked ones with an empty rank. */
        static const char *const headers[] = {"rank", "city", "name", "score", "coverage"};
        t = glci_table_new(5, headers, NULL);
        for (size_t i = 0; i < p.n; i++) {
            const glci_period_row_t *r = &p.rows[i];
            if (i >= shown && i < p.n_ranked)
                continue;
            s_name(v, r->city, &c);
            if (r->ranked)
                glci_table_cellf(t, "%u", r->rank);
            else
                glci_table_cell(t, "");
            glci_table_cell(t, r->city);
            glci_table_cell(t, c.name);
            glci_fmt_exact(r->key, r->ranked, score, sizeof score);
            glci_table_cell(t, score);
            glci_fmt_exact(r->coverage, 1, cov, sizeof cov);
            glci_table_cell(t, cov);
        }
        glci_table_print_csv(t, stdout);
        status = GLCI_EXIT_OK;
        goto cleanup;
    }

    static const char *const headers[] = {"rank", "city", "name", "score", "coverage"};
    t = glci_table_new(5, headers, "rllrr");
    for (size_t i = 0; i < shown; i++) {
        const glci_period_row_t *r = &p.rows[i];
        s_name(v, r->city, &c);
        glci_table_cellf(t, "%u", r->rank);
        glci_table_cell(t, r->city);
        glci_table_cell(t, c.name);
        glci_fmt_score(r->key, 1, score, sizeof score);
        glci_table_cell(t, score);
        glci_table_cellf(t, "%.0f%%", r->coverage * 100.0);
    }
    printf("League table %d by %s%s%s%s (%zu ranked of %zu cities with data)\n",
           (int)period, by_name, by_id ? " (" : "", by_id ? by_id : "", by_id ? ")" : "",
           p.n_ranked, p.n);
    if (shown > 0)
        glci_table_print_text(t, stdout);
    else
        printf("no city is ranked for %d\n", (int)period);
    glci_table_free(&t);
    if (p.n > p.n_ranked) {
        static const char *const uh[] = {"city", "name", "coverage"};
        t = glci_table_new(3, uh, "llr");
        for (size_t i = p.n_ranked; i < p.n; i++) {
            const glci_period_row_t *r = &p.rows[i];
            s_name(v, r->city, &c);
            glci_table_cell(t, r->city);
            glci_table_cell(t, c.name);
            glci_table_cellf(t, "%.0f%%", r->coverage * 100.0);
        }
        printf("\nUnranked (%s; min coverage %.0f%%):\n",
               by == GLCI_RANK_INDEX ? "no index: an area without a score or coverage too low"
                                     : "no score for it",
               fw->min_coverage * 100.0);
        glci_table_print_text(t, stdout);
    }
    status = GLCI_EXIT_OK;
cleanup:
    glci_table_free(&t);
    glci_period_release(&p);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_rank = {
    .name = "rank",
    .usage = "rank [--period P] [--area ID | --focus ID] [--limit N]",
    .summary = "league table for a period",
    .help =
        "Prints the league table of period P (default: the latest period with\n"
        "data): cities by index, highest first; equal scores share a rank and\n"
        "are listed by city id. Cities with data but no index (an area without\n"
        "a score, or coverage below the framework's minimum) are listed apart.\n\n"
        "Options:\n"
        "  --period P   the period (year)\n"
        "  --area ID    rank by that area's score instead of the index\n"
        "  --focus ID   rank by that focus area's score\n"
        "  --limit N    show the first N ranked cities only",
    .run = s_rank,
};
