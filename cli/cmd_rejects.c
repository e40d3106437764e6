/* glci rejects: the observations the collector refused, newest first, with
 * the reason each was refused. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "glci_text.h"

#define S_EROW 1    /* a row jansson cannot encode (the walk stops there) */

typedef struct {
    glci_format_t format;
    json_t *rows;
    glci_table_t *table;
    char bad[160];              /* the row jansson refused */
} s_rej_t;

static int s_row(void *ctx, const glci_reject_row_t *row)
{
    s_rej_t *x = ctx;
    if (x->rows) {
        char stream[24];
        snprintf(stream, sizeof stream, "%016llx", (unsigned long long)row->stream);
        json_t *o = json_pack(
            "{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:s, s:I, s:I}", "city", row->city,
            "indicator", row->indicator ? row->indicator : "", "period",
            row->has_period ? json_integer(row->period) : json_null(), "value",
            glci_json_num(row->value, row->has_value), "reason", glci_reject_str(row->reason),
            "message", row->message ? row->message : "", "received",
            glci_json_time(row->received), "stream", stream, "seq",
            (json_int_t)row->seq, "index", (json_int_t)row->index);
        /* jansson refuses text that is not valid UTF-8: a row that cannot be
         * written is an error, never silently left out. */
        if (!o) {
            snprintf(x->bad, sizeof x->bad, "city %s, stream %016llx seq %llu index %u", row->city,
                     (unsigned long long)row->stream, (unsigned long long)row->seq,
                     (unsigned)row->index);
            return S_EROW;
        }
        json_array_append_new(x->rows, o);
        return 0;
    }
    char buf[64];
    glci_fmt_time(row->received, buf, sizeof buf);
    glci_table_cell(x->table, buf);
    glci_table_cell(x->table, row->city);
    glci_table_cell(x->table, row->indicator ? row->indicator : "");
    if (row->has_period)
        glci_table_cellf(x->table, "%lld", (long long)row->period);
    else
        glci_table_cell(x->table, x->format == GLCI_FMT_CSV ? "" : "-");
    if (row->has_value)
        glci_format_double(row->value, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s", x->format == GLCI_FMT_CSV ? "" : "-");
    glci_table_cell(x->table, buf);
    glci_table_cell(x->table, glci_reject_str(row->reason));
    glci_table_cell(x->table, row->message ? row->message : "");
    if (x->format == GLCI_FMT_CSV) {
        /* where it came from, as JSON gives it: for people the table
         * stops at the message */
        glci_table_cellf(x->table, "%016llx", (unsigned long long)row->stream);
        glci_table_cellf(x->table, "%llu", (unsigned long long)row->seq);
        glci_table_cellf(x->table, "%u", (unsigned)row->index);
    }
    return 0;
}

static int s_rejects(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "city", .has_arg = 1}, {.name = "limit", .has_arg = 1}};
    int rc = glci_args_parse(cmd, argc, argv, opts, 2, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    size_t limit = 0;
    if (opts[1].seen && glci_args_limit(cmd, &opts[1], &limit) != 0)
        return GLCI_EXIT_USAGE;
    const char *city = opts[0].seen ? opts[0].value : NULL;
    if (city && glci_city_id_check(city, NULL, 0) != 0)
        return glci_usage_bad_city(cmd, city);

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    static const char *const headers[] = {"received", "city",   "indicator", "period",
                                          "value",    "reason", "message",   "stream",
                                          "seq",      "index"};
    s_rej_t x = {.format = cli->format};
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    if (city) {
        glci_city_t c;
        rc = glci_view_city(v, city, &c);
        if (rc == GLCI_STORE_ENOCITY || rc == GLCI_STORE_EINVAL) {
            glci_fail(cmd, "no such city '%s'", city);
            goto cleanup;
        }
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
            goto cleanup;
        }
    }
    if (cli->format == GLCI_FMT_JSON)
        x.rows = json_array();
    else
        x.table = cli->format == GLCI_FMT_CSV ? glci_table_new(10, headers, "lllrrllrrr")
                                              : glci_table_new(7, headers, "lllrrll");
    rc = glci_view_rejects(v, city, limit, s_row, &x);
    if (rc == S_EROW) {
        glci_fail(cmd, "the reject row of %s holds text that is not valid UTF-8 and "
                  "cannot be written as JSON (use --format text or csv)", x.bad);
        goto cleanup;
    }
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the rejects");
        goto cleanup;
    }
    if (x.rows) {
        json_t *j = json_pack("{s:O}", "rows", x.rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_print_csv(x.table, stdout);
        status = GLCI_EXIT_OK;
    } else {
        if (glci_table_rows(x.table) == 0)
            printf("no rejected observations\n");
        else
            glci_table_print_text(x.table, stdout);
        status = GLCI_EXIT_OK;
    }
cleanup:
    json_decref(x.rows);
    glci_table_free(&x.table);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_rejects = {
    .name = "rejects",
    .usage = "rejects [--city ID] [--limit N]",
    .summary = "rejected observations with reasons",
    .help = "Lists the observations the collector refused, newest first: when, from\n"
            "which city, indicator, period and value as received, the reason and a\n"
            "message naming what was wrong.\n\n"
            "Options:\n"
            "  --city ID    only this city's\n"
            "  --limit N    at most N rows",
    .run = s_rejects,
};
