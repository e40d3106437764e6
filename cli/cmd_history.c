/* glci history CITY INDICATOR: every value applied for one city and
 * indicator, revisions included, oldest first, with when each arrived and
 * which is current for its period. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "glci_text.h"

#define S_EROW 1    /* a row jansson cannot encode (the walk stops there) */

typedef struct {
    glci_format_t format;
    json_t *rows;
    glci_table_t *table;
    char bad[96];               /* the row jansson refused */
} s_hist_t;

static int s_row(void *ctx, const glci_history_row_t *row)
{
    s_hist_t *h = ctx;
    if (h->rows) {
        char stream[24];
        snprintf(stream, sizeof stream, "%016llx", (unsigned long long)row->stream);
        json_t *o = json_pack(
            "{s:i, s:o, s:o, s:o, s:s, s:b, s:s, s:I}", "period", (int)row->period, "value",
            glci_json_num(row->value, !row->retracted), "received",
            glci_json_time(row->received), "observed_at", glci_json_time(row->observed_at),
            "source", row->source ? row->source : "", "current", row->current, "stream",
            stream, "seq", (json_int_t)row->seq);
        /* what kind of revision, and who made it with why (SPEC §7) */
        if (o && json_object_update_new(o, json_pack(
                     "{s:s, s:s, s:o, s:o, s:o}", "kind",
                     row->retracted ? "retraction" : "value", "via",
                     row->by_operator ? "operator" : "agent", "by",
                     row->by_operator ? json_string(row->op) : json_null(), "sudo_user",
                     row->sudo_user[0] ? json_string(row->sudo_user) : json_null(), "reason",
                     row->by_operator ? json_string(row->reason) : json_null())) != 0) {
            json_decref(o);
            o = NULL;
        }
        /* jansson refuses text that is not valid UTF-8: a row that cannot be
         * written is an error, never silently left out. */
        if (!o) {
            snprintf(h->bad, sizeof h->bad, "period %d, stream %016llx seq %llu", (int)row->period,
                     (unsigned long long)row->stream, (unsigned long long)row->seq);
            return S_EROW;
        }
        json_array_append_new(h->rows, o);
        return 0;
    }
    char buf[64];
    int csv = h->format == GLCI_FMT_CSV;
    glci_table_cellf(h->table, "%d", (int)row->period);
    if (row->retracted)
        snprintf(buf, sizeof buf, "%s", csv ? "" : "retracted");
    else
        glci_format_double(row->value, buf, sizeof buf);
    glci_table_cell(h->table, buf);
    glci_fmt_time(row->received, buf, sizeof buf);
    glci_table_cell(h->table, buf);
    if (csv && row->observed_at == 0)
        buf[0] = '\0';
    else
        glci_fmt_time(row->observed_at, buf, sizeof buf);
    glci_table_cell(h->table, buf);
    glci_table_cell(h->table, csv ? (row->current ? "true" : "false") : (row->current ? "*" : ""));
    glci_table_cell(h->table, row->source ? row->source : "");
    if (csv) {
        glci_table_cell(h->table, row->retracted ? "retraction" : "value");
        glci_table_cell(h->table, row->by_operator ? row->op : "");
        glci_table_cell(h->table, row->sudo_user);
    } else if (!row->by_operator) {
        glci_table_cell(h->table, "agent");
    } else if (row->sudo_user[0]) {
        glci_table_cellf(h->table, "%s (sudo from %s)", row->op, row->sudo_user);
    } else {
        glci_table_cell(h->table, row->op);
    }
    glci_table_cell(h->table, row->reason);
    if (csv) {
        /* columns added after the first release's, at the end of the row */
        glci_table_cellf(h->table, "%016llx", (unsigned long long)row->stream);
        glci_table_cellf(h->table, "%llu", (unsigned long long)row->seq);
        glci_table_cell(h->table, row->by_operator ? "operator" : "agent");
    }
    return 0;
}

static int s_history(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[2];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 2, 2, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (glci_city_id_check(pos[0], NULL, 0) != 0)
        return glci_usage_bad_city(cmd, pos[0]);
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    static const char *const headers[] = {"period", "value", "received", "observed",
                                          "current", "source", "by", "reason"};
    /* JSON's field names; columns added later go at the end */
    static const char *const csv_headers[] = {"period", "value", "received", "observed_at",
                                              "current", "source", "kind", "by", "sudo_user",
                                              "reason", "stream", "seq", "via"};
    s_hist_t h = {.format = cli->format};
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    glci_city_t c;
    rc = glci_view_city(v, pos[0], &c);
    if (rc == GLCI_STORE_ENOCITY || rc == GLCI_STORE_EINVAL) {
        glci_fail(cmd, "no such city '%s'", pos[0]);
        goto cleanup;
    }
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
        goto cleanup;
    }
    if (glci_framework_indicator(fw, pos[1]) < 0) {
        glci_fail(cmd, "no indicator '%.80s' in framework %s", pos[1], fw->id);
        goto cleanup;
    }
    if (cli->format == GLCI_FMT_JSON)
        h.rows = json_array();
    else if (cli->format == GLCI_FMT_CSV)
        h.table = glci_table_new(13, csv_headers, NULL);
    else
        h.table = glci_table_new(8, headers, "rrllllll");
    rc = glci_view_history(v, pos[0], pos[1], s_row, &h);
    if (rc == S_EROW) {
        glci_fail(cmd, "the history row of %s holds text that is not valid UTF-8 and "
                  "cannot be written as JSON (use --format text or csv)", h.bad);
        goto cleanup;
    }
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the history");
        goto cleanup;
    }
    if (h.rows) {
        json_t *j = json_pack("{s:s, s:s, s:O}", "city", pos[0], "indicator", pos[1],
                              "rows", h.rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_print_csv(h.table, stdout);
        status = GLCI_EXIT_OK;
    } else {
        int32_t i = glci_framework_indicator(fw, pos[1]);
        printf("%s (%s): %s [%s]\n", c.name, c.id, fw->ind[i].name, fw->ind[i].unit);
        if (glci_table_rows(h.table) == 0) {
            printf("no values received\n");
        } else {
            glci_table_print_text(h.table, stdout);
            printf("\n* current value of its period (later rows revise earlier ones; a\n"
                   "retraction withdraws the value before it; by: the city's agent or the\n"
                   "operator who corrected it)\n");
        }
        status = GLCI_EXIT_OK;
    }
cleanup:
    json_decref(h.rows);
    glci_table_free(&h.table);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_history = {
    .name = "history",
    .usage = "history CITY INDICATOR",
    .summary = "every observation and revision of one indicator",
    .help = "Lists every value city CITY delivered for INDICATOR, revisions\n"
            "included, oldest first: period, value, when the collector received it\n"
            "and when it was observed (UTC), whether it is the current value of its\n"
            "period, and its source; retractions (revisions without a value) and\n"
            "operators' corrections with who made them and why (glci retract,\n"
            "glci correct).",
    .pos = {"CITY", "INDICATOR"},
    .run = s_history,
};
