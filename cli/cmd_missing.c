/* glci missing: who has reported for a round (SPEC §7). Every active
 * city's status for period P (default: the current round) -- complete,
 * partial or missing by its values of P itself (carried values do not
 * count) -- whether it is overdue, its reported coverage, the indicators
 * it still lacks and when it last delivered. One pass over the cities with
 * each one's stored result of P (glci_view_round); the JSON is streamed a
 * row at a time. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_text.h"

/* Indicator ids shown per city in the table; the rest are counted. */
#define S_TABLE_IDS 4

typedef struct {
    const glci_framework_t *fw;
    glci_format_t format;
    int32_t period;
    int round;                /* P is a round of the framework's cadence */
    int past_due;             /* its due day has ended (a round or not) */
    glci_table_t *t;
    json_t *row;              /* JSON: one reused object */
    size_t n_rows;
    size_t n[3];              /* by glci_round_status_t */
    size_t n_overdue;
    int failed;
} s_missing_t;

static void s_ids(const s_missing_t *m, const glci_round_row_t *r, size_t max, char *buf,
                  size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < r->n_missing && used + 1 < len; k++) {
        if (max && k == max) {
            snprintf(buf + used, len - used, " +%u more", r->n_missing - k);
            return;
        }
        int w = snprintf(buf + used, len - used, "%s%s", k ? (max ? ", " : " ") : "",
                         m->fw->ind[r->missing[k]].id);
        used += w > 0 ? (size_t)w : 0;
    }
}

static int s_row(void *ctx, const glci_round_row_t *r)
{
    s_missing_t *m = ctx;
    if (!r->city->active)
        return 0;               /* a revoked city is no longer asked */
    int overdue = m->round && m->past_due && r->status != GLCI_ROUND_COMPLETE;
    double coverage = m->fw->n_ind ? (double)r->reported / (double)m->fw->n_ind : 0.0;
    m->n[r->status]++;
    m->n_overdue += (size_t)overdue;
    if (m->format == GLCI_FMT_JSON) {
        json_t *ids = json_array();
        for (uint32_t k = 0; k < r->n_missing; k++)
            json_array_append_new(ids, json_string(m->fw->ind[r->missing[k]].id));
        glci_json_set_str(m->row, "city", r->city->id);
        glci_json_set_str(m->row, "name", r->city->name);
        glci_json_set_str(m->row, "status", glci_round_status_str(r->status));
        json_object_set_new(m->row, "overdue", json_boolean(overdue));
        glci_json_set_num(m->row, "coverage", coverage, 1);
        json_object_set_new(m->row, "reported", json_integer(r->reported));
        json_object_set_new(m->row, "missing", ids);
        json_object_set_new(m->row, "last_seen", glci_json_time(r->city->last_seen));
        if ((m->n_rows++ > 0 && fputs(", ", stdout) == EOF) ||
            glci_json_write(m->row, stdout) != 0) {
            m->failed = 1;
            return 1;
        }
        return 0;
    }
    char buf[1024];
    int csv = m->format == GLCI_FMT_CSV;
    glci_table_cell(m->t, r->city->id);
    glci_table_cell(m->t, r->city->name);
    glci_table_cell(m->t, glci_round_status_str(r->status));
    glci_table_cell(m->t, csv ? (overdue ? "true" : "false") : (overdue ? "OVERDUE" : ""));
    if (csv)
        glci_fmt_exact(coverage, 1, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%u/%u", r->reported, m->fw->n_ind);
    glci_table_cell(m->t, buf);
    s_ids(m, r, csv ? 0 : S_TABLE_IDS, buf, sizeof buf);
    glci_table_cell(m->t, buf);
    if (csv && r->city->last_seen == 0)
        buf[0] = '\0';
    else
        glci_fmt_time(r->city->last_seen, buf, sizeof buf);
    glci_table_cell(m->t, buf);
    return 0;
}

/* The JSON head without its closing brace, then the rows' array opens. */
static int s_json_head(const s_missing_t *m, const char *due)
{
    json_t *head = json_pack("{s:i, s:s, s:b, s:b}", "period", (int)m->period, "due", due,
                             "past_due", m->past_due, "round", m->round);
    int rc = glci_json_write_head(head, "rows", stdout);
    json_decref(head);
    return rc;
}

static int s_missing(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "period", .has_arg = 1}};
    int rc = glci_args_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    int32_t period = 0;
    if (opts[0].seen && glci_args_period_opt(cmd, &opts[0], &period) != 0)
        return GLCI_EXIT_USAGE;

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    s_missing_t m = {.format = cli->format};
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    m.fw = glci_store_framework(st);
    int64_t now = (int64_t)time(NULL);
    if (!opts[0].seen && glci_round_current(m.fw, now, &period) != 0) {
        glci_fail(cmd, "no round of framework %s has ended yet (its first period is %d)",
                  m.fw->id, (int)m.fw->first_period);
        goto cleanup;
    }
    if (period < m.fw->first_period || period > m.fw->last_period) {
        glci_fail(cmd, "period %d is outside framework %s's [%d, %d]", (int)period, m.fw->id,
                  (int)m.fw->first_period, (int)m.fw->last_period);
        goto cleanup;
    }
    m.period = period;
    m.round = glci_round_is(m.fw, period);
    m.past_due = glci_round_past_due(m.fw, period, now);
    char due[16];
    glci_round_due_text(m.fw, period, due, sizeof due);
    static const char *const headers[] = {"city", "name", "status", "overdue", "coverage",
                                          "missing", "last_seen"};
    if (cli->format == GLCI_FMT_JSON) {
        m.row = json_object();
        json_object_set_new_nocheck(m.row, "city", json_string(""));
        json_object_set_new_nocheck(m.row, "name", json_string(""));
        json_object_set_new_nocheck(m.row, "status", json_string(""));
        json_object_set_new_nocheck(m.row, "overdue", json_false());
        json_object_set_new_nocheck(m.row, "coverage", json_null());
        json_object_set_new_nocheck(m.row, "reported", json_integer(0));
        json_object_set_new_nocheck(m.row, "missing", json_array());
        json_object_set_new_nocheck(m.row, "last_seen", json_null());
        if (s_json_head(&m, due) != 0)
            goto cleanup;
    } else {
        m.t = glci_table_new(7, headers, cli->format == GLCI_FMT_CSV ? NULL : "lllllll");
    }
    rc = glci_view_round(v, period, s_row, &m);
    if (m.failed)
        goto cleanup;
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
        goto cleanup;
    }
    if (cli->format == GLCI_FMT_JSON) {
        status = fputs("]}\n", stdout) == EOF || ferror(stdout) ? GLCI_EXIT_FAIL : GLCI_EXIT_OK;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_print_csv(m.t, stdout);
        status = GLCI_EXIT_OK;
    } else {
        size_t active = m.n[0] + m.n[1] + m.n[2];
        if (m.round)
            printf("Round %d, due %s%s: ", (int)period, due, m.past_due ? " (past due)" : "");
        else
            printf("Period %d, not a round (every %d years from %d; nothing is due): ",
                   (int)period, (int)m.fw->cadence, (int)m.fw->first_period);
        printf("%zu complete, %zu partial, %zu missing of %zu active cit%s; %zu overdue\n",
               m.n[GLCI_ROUND_COMPLETE], m.n[GLCI_ROUND_PARTIAL], m.n[GLCI_ROUND_MISSING],
               active, active == 1 ? "y" : "ies", m.n_overdue);
        if (glci_table_rows(m.t) > 0)
            glci_table_print_text(m.t, stdout);
        else
            printf("no active cities\n");
        status = GLCI_EXIT_OK;
    }
cleanup:
    json_decref(m.row);
    glci_table_free(&m.t);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_missing = {
    .name = "missing",
    .usage = "missing [--period P]",
    .summary = "who has reported for a round: complete, partial, missing, overdue",
    .help =
        "Lists every active city's status for the round of period P (default:\n"
        "the current round, the latest whose year has ended; rounds follow the\n"
        "framework's cadence): complete (every indicator has a value of P itself,\n"
        "none carried), partial or missing (no value of P). A city is overdue\n"
        "once the round's due day (the framework's due, in the year after P) has\n"
        "ended and it is not complete; for a period that is not a round, none\n"
        "is. Also its coverage (indicators with a value of P, of all), the\n"
        "indicators it lacks (the table shows the first few) and when it last\n"
        "delivered. See docs/CYCLE.md.\n\n"
        "Options:\n"
        "  --period P   the round (year)",
    .run = s_missing,
};
