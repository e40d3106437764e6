/* glci rank: the league table of a period, by the index or by one area's
 * or focus area's score. The order is the store's (glci_view_league): the
 * rows come in rank order and the walk stops after --limit, so a short
 * table reads only the rows it prints. Cities with a result but no score
 * to rank on are listed apart. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"

/* The city's name for people, "" if it cannot be read. */
static void s_name(glci_view_t *v, const char *id, glci_city_t *c)
{
    if (glci_view_city(v, id, c) != 0)
        c->name[0] = '\0';
}

/* What the walk writes each row into: the JSON stream, or the tables. */
typedef struct {
    glci_view_t *v;
    glci_format_t format;
    FILE *out;
    json_t *row, *urow;       /* JSON: one reused object per kind of row */
    size_t n_rows, n_urows;
    int in_unranked;
    glci_table_t *t, *u;      /* table: ranked, unranked; CSV: both in t */
    int32_t period;           /* CSV: every row names it */
    int failed;
} s_out_t;

static int s_json_ranked(s_out_t *o, const glci_rank_row_t *r, const glci_city_t *c)
{
    json_integer_set(json_object_get(o->row, "rank"), (json_int_t)r->rank);
    glci_json_set_str(o->row, "city", r->city);
    glci_json_set_str(o->row, "name", c->name);
    glci_json_set_num(o->row, "score", r->score, 1);
    glci_json_set_num(o->row, "index", r->index, r->has_index);
    glci_json_set_num(o->row, "coverage", r->coverage, 1);
    return ((o->n_rows++ > 0 && fputs(", ", o->out) == EOF) ||
            glci_json_write(o->row, o->out) != 0) ? -1 : 0;
}

static int s_json_unranked(s_out_t *o, const glci_rank_row_t *r, const glci_city_t *c)
{
    if (!o->in_unranked) {
        o->in_unranked = 1;
        if (fputs("], \"unranked\": [", o->out) == EOF)
            return -1;
    }
    glci_json_set_str(o->urow, "city", r->city);
    glci_json_set_str(o->urow, "name", c->name);
    glci_json_set_num(o->urow, "coverage", r->coverage, 1);
    return ((o->n_urows++ > 0 && fputs(", ", o->out) == EOF) ||
            glci_json_write(o->urow, o->out) != 0) ? -1 : 0;
}

static int s_row(void *ctx, const glci_rank_row_t *r)
{
    s_out_t *o = ctx;
    glci_city_t c;
    char score[32], cov[32];
    s_name(o->v, r->city, &c);
    if (o->format == GLCI_FMT_JSON) {
        if ((r->rank ? s_json_ranked(o, r, &c) : s_json_unranked(o, r, &c)) != 0) {
            o->failed = 1;
            return 1;
        }
        return 0;
    }
    if (o->format == GLCI_FMT_CSV) {
        /* One table: ranked rows, then unranked ones with an empty rank. */
        if (r->rank)
            glci_table_cellf(o->t, "%u", r->rank);
        else
            glci_table_cell(o->t, "");
        glci_table_cell(o->t, r->city);
        glci_table_cell(o->t, c.name);
        glci_fmt_exact(r->score, r->rank != 0, score, sizeof score);
        glci_table_cell(o->t, score);
        glci_fmt_exact(r->coverage, 1, cov, sizeof cov);
        glci_table_cell(o->t, cov);
        glci_table_cellf(o->t, "%d", (int)o->period);
        return 0;
    }
    glci_table_t *t = r->rank ? o->t : o->u;
    if (r->rank)
        glci_table_cellf(t, "%u", r->rank);
    glci_table_cell(t, r->city);
    glci_table_cell(t, c.name);
    if (r->rank) {
        glci_fmt_score(r->score, 1, score, sizeof score);
        glci_table_cell(t, score);
    }
    glci_table_cellf(t, "%.0f%%", r->coverage * 100.0);
    return 0;
}

/* The JSON form, streamed: the head through jansson (its closing brace left
 * off), then each row as it comes, one reused object whose values change in
 * place. Byte for byte what dumping the whole tree at once gives
 *   {"period": P, "by": B, "id": I, "ranked": N, "rows": [ROW, ...],
 *    "unranked": [ROW, ...]}
 * without building 10,000 objects and a megabyte string first. */
static int s_json_head(FILE *out, const glci_source_t *src, glci_rank_by_t by,
                       const char *by_id, size_t ranked)
{
    json_t *head = json_pack("{s:i, s:s, s:o, s:I}", "period", (int)src->choice.period, "by",
                             by == GLCI_RANK_INDEX ? "index"
                             : by == GLCI_RANK_AREA ? "area" : "focus",
                             "id", by_id ? json_string(by_id) : json_null(), "ranked",
                             (json_int_t)ranked);
    if (head)
        glci_source_json(src, head);
    int rc = glci_json_write_head(head, "rows", out);
    json_decref(head);
    return rc;
}

static void s_json_rows_init(s_out_t *o)
{
    o->row = json_object();
    json_object_set_new_nocheck(o->row, "rank", json_integer(0));
    json_object_set_new_nocheck(o->row, "city", json_string(""));
    json_object_set_new_nocheck(o->row, "name", json_string(""));
    json_object_set_new_nocheck(o->row, "score", json_null());
    json_object_set_new_nocheck(o->row, "index", json_null());
    json_object_set_new_nocheck(o->row, "coverage", json_null());
    o->urow = json_object();
    json_object_set_new_nocheck(o->urow, "city", json_string(""));
    json_object_set_new_nocheck(o->urow, "name", json_string(""));
    json_object_set_new_nocheck(o->urow, "coverage", json_null());
}

/* "no data for period P" of the table read. */
static void s_no_data(const glci_cmd_t *cmd, const glci_source_t *src)
{
    char when[32];
    glci_format_iso_time(src->args.as_of, when, sizeof when);
    if (src->args.kind == GLCI_SRC_ASOF)
        glci_fail(cmd, "no data for period %d as of %s", (int)src->choice.period, when);
    else
        glci_fail(cmd, "no data for period %d", (int)src->choice.period);
}

static int s_rank(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "period", .has_arg = 1},
        {.name = "area", .has_arg = 1},
        {.name = "focus", .has_arg = 1},
        {.name = "limit", .has_arg = 1},
        {.name = "as-of", .has_arg = 1},
        {.name = "edition", .has_arg = 1},
    };
    int rc = glci_args_parse(cmd, argc, argv, opts, 6, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    size_t limit = 0;
    glci_src_args_t sa;
    if (glci_src_args(cmd, &opts[0], &opts[4], &opts[5], &sa) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[3].seen && glci_args_limit(cmd, &opts[3], &limit) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[1].seen && opts[2].seen)
        return glci_usage_error(cmd, "give either --area or --focus, not both");

    glci_store_t *st = NULL;
    s_out_t o = {.format = cli->format, .out = stdout};
    glci_source_t src = {0};
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
            glci_fail(cmd, "no area '%.80s' in framework %s", opts[1].value, fw->id);
            goto cleanup;
        }
        by = GLCI_RANK_AREA;
        by_id = fw->areas[which].id;
        by_name = fw->areas[which].name;
    } else if (opts[2].seen) {
        which = glci_framework_focus(fw, opts[2].value);
        if (which < 0) {
            glci_fail(cmd, "no focus area '%.80s' in framework %s", opts[2].value, fw->id);
            goto cleanup;
        }
        by = GLCI_RANK_FOCUS;
        by_id = fw->focus[which].id;
        by_name = fw->focus[which].name;
    }
    if (glci_cli_view(cmd, st, &o.v) != 0 ||
        glci_source_open(cmd, cli, o.v, &sa, sa.kind != GLCI_SRC_LIVE, &src) != 0)
        goto cleanup;
    int32_t period = src.choice.period;
    int live = sa.kind == GLCI_SRC_LIVE;

    /* The JSON head names the ranked count before the rows: counted first
     * (from the rank view's keys alone, by the index). */
    size_t ranked = 0;
    if (cli->format == GLCI_FMT_JSON) {
        glci_league_counts_t c0;
        rc = live ? glci_view_league_ranked(o.v, period, by, (uint32_t)which, &ranked)
                  : glci_snapshot_league(fw, &src.snap, by, (uint32_t)which, 0, 0, NULL, NULL,
                                         &c0);
        if (!live)
            ranked = c0.ranked;
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
            goto cleanup;
        }
    }
    /* CSV rows name the period: a file says which table it is (the table
     * and JSON say it in their heading) */
    static const char *const headers[] = {"rank", "city", "name", "score", "coverage",
                                          "period"};
    static const char *const uheaders[] = {"city", "name", "coverage"};
    o.period = period;
    if (cli->format == GLCI_FMT_JSON) {
        s_json_rows_init(&o);
    } else if (cli->format == GLCI_FMT_CSV) {
        o.t = glci_table_new(6, headers, NULL);
        o.u = glci_table_new(3, uheaders, "llr");
    } else {
        o.t = glci_table_new(5, headers, "rllrr");
        o.u = glci_table_new(3, uheaders, "llr");
    }
    /* A period without any result is refused before anything is printed. */
    glci_league_counts_t counts = {0};
    if (cli->format == GLCI_FMT_JSON) {
        if (ranked == 0 && live)        /* any unranked city? */
            rc = glci_view_league(o.v, period, by, (uint32_t)which, 1, GLCI_LEAGUE_UNRANKED,
                                  NULL, NULL, &counts);
        else if (ranked == 0)
            counts.unranked = src.snap.n;
        if (rc == 0 && ranked + counts.unranked == 0) {
            s_no_data(cmd, &src);
            goto cleanup;
        }
        if (rc == 0 && s_json_head(o.out, &src, by, by_id, ranked) != 0)
            o.failed = 1;
    }
    if (!o.failed)
        rc = live ? glci_view_league(o.v, period, by, (uint32_t)which, limit,
                                     GLCI_LEAGUE_UNRANKED, s_row, &o, &counts)
                  : glci_snapshot_league(fw, &src.snap, by, (uint32_t)which, limit,
                                         GLCI_LEAGUE_UNRANKED, s_row, &o, &counts);
    if (rc != 0 && !o.failed) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
        goto cleanup;
    }
    if (cli->format == GLCI_FMT_JSON) {
        if (!o.failed && !o.in_unranked && fputs("], \"unranked\": [", o.out) == EOF)
            o.failed = 1;
        if (o.failed || fputs("]}\n", o.out) == EOF || ferror(o.out))
            goto cleanup;
        status = GLCI_EXIT_OK;
        goto cleanup;
    }
    size_t n = counts.ranked + counts.unranked;
    if (n == 0) {
        s_no_data(cmd, &src);
        goto cleanup;
    }
    if (cli->format == GLCI_FMT_CSV) {
        glci_table_print_csv(o.t, stdout);
        status = GLCI_EXIT_OK;
        goto cleanup;
    }
    uint32_t n_active;
    glci_source_active(o.v, &src, &n_active);
    glci_source_print(&src, stdout);
    printf("League table %d by %s%s%s%s (%zu ranked of %zu cities with data; %u active "
           "cities registered)\n", (int)period, by_name, by_id ? " (" : "", by_id ? by_id : "",
           by_id ? ")" : "", counts.ranked, n, n_active);
    if (glci_table_rows(o.t) > 0)
        glci_table_print_text(o.t, stdout);
    else
        printf("no city is ranked for %d\n", (int)period);
    if (counts.unranked > 0) {
        printf("\nUnranked (%s; min coverage %.0f%%):\n",
               by == GLCI_RANK_INDEX ? "no index: an area without a score or coverage too low"
                                     : "no score for it",
               fw->min_coverage * 100.0);
        glci_table_print_text(o.u, stdout);
    }
    status = GLCI_EXIT_OK;
cleanup:
    glci_source_release(&src);
    json_decref(o.row);
    json_decref(o.urow);
    glci_table_free(&o.t);
    glci_table_free(&o.u);
    glci_view_end(&o.v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_rank = {
    .name = "rank",
    .usage = "rank [--period P] [--as-of TIME | --edition NAME] [--area ID | --focus ID] "
             "[--limit N]",
    .summary = "league table for a period",
    .help =
        "Prints the league table of period P: cities by index, highest first;\n"
        "equal scores share a rank and are listed by city id. Cities with data\n"
        "but no index (an area without a score, or coverage below the\n"
        "framework's minimum) are listed apart. Without --period, the latest\n"
        "period in which at least half of the active cities have reported an\n"
        "index (else the latest in which any has), and the output says so\n"
        "(JSON: period_rule, period_note). See docs/CYCLE.md.\n\n"
        "Options:\n"
        "  --period P       the period (year)\n"
        "  --as-of TIME     the table as the store held it then, recomputed from\n"
        "                   the values received by TIME (now, YYYY-MM-DD: the end\n"
        "                   of that day, YYYY-MM-DDTHH:MM:SSZ, or @SECONDS; UTC)\n"
        "  --edition NAME   the table as published (glci edition publish)\n"
        "  --area ID        rank by that area's score instead of the index\n"
        "  --focus ID       rank by that focus area's score\n"
        "  --limit N        show the first N ranked cities only",
    .run = s_rank,
};
