/* glci retract / glci correct: an operator withdraws or replaces a city's
 * value (SPEC §7). One store write transaction each (glci_store_correct),
 * safe while the collector runs: history records it with the reason and
 * the operator as the OS reports them, and the index follows as it does
 * for an agent's value. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "glci_text.h"
#include "glci_utf8.h"

static int s_run(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv,
                 int retract)
{
    glci_opt_t opts[] = {{.name = "reason", .has_arg = 1}};
    const char *pos[4];
    size_t want = retract ? 3 : 4;
    int rc = glci_args_parse(cmd, argc, argv, opts, 1, pos, want, want, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    char why[256];
    if (glci_city_id_check(pos[0], why, sizeof why) != 0)
        return glci_usage_error(cmd, "%s", why);
    int32_t period;
    if (glci_args_period(cmd, pos[2], &period) != 0)
        return GLCI_EXIT_USAGE;
    double value = 0.0;
    if (!retract && (glci_parse_double(pos[3], &value) != 0 || !isfinite(value)))
        return glci_usage_error(cmd, "invalid value '%.80s' (a finite number)", pos[3]);
    /* -0 is 0, as the engine takes every value (glci_engine.c) and the
     * store records it (s_work_add): the printed line says what is kept */
    value = value == 0.0 ? 0.0 : value;
    if (!opts[0].seen)
        return glci_usage_error(cmd, "missing --reason TEXT (why; it is kept in history)");
    /* the store's rule (glci_store_correct), asked here so that every bad
     * reason is the usage error it is, before the store is opened */
    const char *reason = opts[0].value, *why_bad;
    size_t reason_len = strlen(reason);
    if (!*reason)
        return glci_usage_error(cmd, "the reason is empty (say why; it is kept in history)");
    if (strspn(reason, " ") == reason_len)
        return glci_usage_error(cmd, "the reason is blank, only spaces (say why; it is kept in "
                                "history)");
    if (reason_len > GLCI_REASON_MAX)
        return glci_usage_error(cmd, "the reason is %zu bytes, at most %d (it is kept in "
                                "history)", reason_len, GLCI_REASON_MAX);
    if ((why_bad = glci_utf8_problem(reason)) != NULL)
        return glci_usage_error(cmd, "the reason %s; give one line of printable text", why_bad);

    char op[GLCI_OPERATOR_MAX + 1], sudo[GLCI_OPERATOR_MAX + 1], err[512] = "";
    glci_cli_operator(op, sudo);
    glci_correction_t c = {.city = pos[0], .indicator = pos[1], .period = period,
                           .retract = retract, .value = value, .op = op,
                           .sudo_user = sudo[0] ? sudo : NULL, .reason = opts[0].value};
    glci_correction_result_t res;
    glci_store_t *st = NULL;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        goto cleanup;
    rc = glci_store_correct(st, &c, (int64_t)time(NULL), &res, err, sizeof err);
    if (rc == GLCI_STORE_ENOCITY) {
        glci_fail(cmd, "no such city '%s'", pos[0]);
        goto cleanup;
    }
    if (rc != 0) {
        glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));
        goto cleanup;
    }
    char when[32], before[40], after[40];
    glci_format_iso_time(res.received, when, sizeof when);
    glci_format_double(res.before, before, sizeof before);
    glci_format_double(value, after, sizeof after);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:b, s:o, s:o, s:s, s:o, s:s, s:o}", "city",
                              pos[0], "indicator", pos[1], "period", (int)period, "retracted",
                              retract, "value", glci_json_num(value, !retract), "before",
                              glci_json_num(res.before, res.had), "by", op, "sudo_user",
                              sudo[0] ? json_string(sudo) : json_null(), "reason",
                              opts[0].value, "received", glci_json_time(res.received));
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        static const char *const h[] = {"city", "indicator", "period", "retracted", "value",
                                        "before", "by", "sudo_user", "reason", "received"};
        glci_table_t *t = glci_table_new(10, h, NULL);
        glci_table_cell(t, pos[0]);
        glci_table_cell(t, pos[1]);
        glci_table_cellf(t, "%d", (int)period);
        glci_table_cell(t, retract ? "true" : "false");
        glci_table_cell(t, retract ? "" : after);
        glci_table_cell(t, res.had ? before : "");
        glci_table_cell(t, op);
        glci_table_cell(t, sudo);
        glci_table_cell(t, opts[0].value);
        glci_table_cell(t, when);
        glci_table_print_csv(t, stdout);
        glci_table_free(&t);
        status = GLCI_EXIT_OK;
    } else {
        if (retract)
            printf("retracted %s of %s for %d (was %s): the index falls back to what is left\n",
                   pos[1], pos[0], (int)period, before);
        else
            printf("corrected %s of %s for %d to %s (was %s)\n", pos[1], pos[0], (int)period,
                   after, res.had ? before : "none");
        printf("recorded in history at %s by %s%s%s%s: %s\n", when, op,
               sudo[0] ? " (sudo from " : "", sudo, sudo[0] ? ")" : "", opts[0].value);
        status = GLCI_EXIT_OK;
    }
cleanup:
    glci_store_close(&st);
    return status;
}

static int s_retract(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    return s_run(cmd, cli, argc, argv, 1);
}

static int s_correct(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    return s_run(cmd, cli, argc, argv, 0);
}

const glci_cmd_t glci_cmd_retract = {
    .name = "retract",
    .usage = "retract CITY INDICATOR PERIOD --reason TEXT",
    .summary = "withdraw a city's value (kept in history with who and why)",
    .help =
        "Withdraws city CITY's current value of INDICATOR for PERIOD: a revision\n"
        "without a value, recorded in history with the reason and the operator\n"
        "(the effective user's name, and SUDO_USER when set). The city's index\n"
        "falls back to the next value within carry-forward, incrementally, as\n"
        "for an agent's retraction; glci verify covers it. Refused when there\n"
        "is no current value. Safe while the collector runs.\n\n"
        "Options:\n"
        "  --reason TEXT   why (1 to 200 bytes, one line, not only spaces; required)",
    .pos = {"CITY", "INDICATOR", "PERIOD"},
    .run = s_retract,
};

const glci_cmd_t glci_cmd_correct = {
    .name = "correct",
    .usage = "correct CITY INDICATOR PERIOD VALUE --reason TEXT",
    .summary = "replace a city's value (kept in history with who and why)",
    .help =
        "Sets city CITY's value of INDICATOR for PERIOD to VALUE (whether or not\n"
        "one is current), judged like an agent's value (valid range, periods,\n"
        "none in the future), and records it in history with the reason and the\n"
        "operator (the effective user's name, and SUDO_USER when set). The index\n"
        "follows incrementally. Safe while the collector runs.\n\n"
        "Options:\n"
        "  --reason TEXT   why (1 to 200 bytes, one line, not only spaces; required)",
    .pos = {"CITY", "INDICATOR", "PERIOD"},
    .run = s_correct,
};
