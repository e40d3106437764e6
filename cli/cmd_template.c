/* glci template: a data-entry sheet for city staff (SPEC §8), as xlsx or
 * as CSV in the agent's spool format, for one round (period) and
 * optionally one city, whose values for that round and last values are
 * taken from the store (report/glci_sheet.h writes the sheet). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_sheet.h"

/* The current value of the greatest period <= P of one indicator. */
typedef struct {
    int32_t period;
    glci_sheet_last_t *last;
    char *source;               /* owned copy: rows point into the view */
} s_last_t;

static int s_last_cb(void *ctx, const glci_history_row_t *row)
{
    s_last_t *l = ctx;
    if (!row->current || row->period > l->period)
        return 0;
    if (l->last->has_last && row->period < l->last->last_period)
        return 0;
    l->last->has_last = 1;
    l->last->last_value = row->value;
    l->last->last_period = row->period;
    free(l->source);
    l->source = glci_xstrdup(row->source ? row->source : "");
    return 0;
}

/* The round a template is for when none is given: the current round
 * (glci_round_current: the latest round whose year has ended, the one
 * being collected), else the framework's first period. */
static int32_t s_default_period(const glci_framework_t *fw)
{
    int32_t p;
    if (glci_round_current(fw, (int64_t)time(NULL), &p) != 0)
        p = fw->first_period;
    return p;
}

int glci_cmd_template_run(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "out", .has_arg = 1},
        {.name = "city", .has_arg = 1},
        {.name = "period", .has_arg = 1},
    };
    int rc = glci_args_parse(cmd, argc, argv, opts, 3, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    const char *out = opts[0].value, *city = opts[1].value;
    if (city && glci_city_id_check(city, NULL, 0) != 0)
        return glci_usage_bad_city(cmd, city);
    int32_t period = 0;
    if (opts[2].seen && glci_args_period_opt(cmd, &opts[2], &period) != 0)
        return GLCI_EXIT_USAGE;
    if (cli->format != GLCI_FMT_XLSX && cli->format != GLCI_FMT_CSV)
        return glci_usage_error(cmd, "%s", "give --format xlsx or --format csv");
    if (!out || !*out)
        return glci_usage_error(cmd, "%s", "missing --out FILE");
    if (glci_args_out(cmd, &opts[0]) != 0)
        return GLCI_EXIT_USAGE;
    if (city && !*city)
        return glci_usage_error(cmd, "%s", "an empty city name");

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_sheet_last_t *last = NULL;
    char **sources = NULL;
    glci_city_t c;
    int status = GLCI_EXIT_FAIL;
    char err[1024] = "";
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    if (!opts[2].seen)
        period = s_default_period(fw);
    if (period < fw->first_period || period > fw->last_period) {
        glci_fail(cmd, "period %d is outside the framework's %d to %d", (int)period,
                  (int)fw->first_period, (int)fw->last_period);
        goto cleanup;
    }
    /* A sheet no agent could deliver: the collector refuses its period
     * (the future rule, SPEC section 7) until its year comes. */
    int64_t now = (int64_t)time(NULL);
    char why[160];
    if (glci_framework_check_future(fw, period, now, why, sizeof why) != GLCI_REJECT_NONE) {
        glci_fail(cmd, "%s: the collector would refuse every value of this sheet", why);
        goto cleanup;
    }
    glci_sheet_template_t t = {.fw = fw, .period = period, .generated = now};
    if (city) {
        rc = glci_view_city(v, city, &c);
        if (rc == GLCI_STORE_ENOCITY) {
            glci_fail(cmd, "no city '%s' in the store", city);
            goto cleanup;
        }
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
            goto cleanup;
        }
        last = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *last);
        sources = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *sources);
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            s_last_t l = {.period = period, .last = &last[i]};
            rc = glci_view_history(v, c.id, fw->ind[i].id, s_last_cb, &l);
            sources[i] = l.source;
            last[i].last_source = l.source ? l.source : "";
            if (rc != 0) {
                glci_cli_store_fail(cmd, cli, rc, "cannot read the values");
                goto cleanup;
            }
        }
        t.city = c.id;
        t.city_name = c.name;
        t.country = c.country;
        t.last = last;
    }
    glci_view_end(&v);
    rc = cli->format == GLCI_FMT_CSV ? glci_sheet_template_csv(&t, out, err, sizeof err)
                                     : glci_sheet_template_xlsx(&t, out, err, sizeof err);
    if (rc != 0) {
        glci_fail(cmd, "%s", err);
        goto cleanup;
    }
    printf("template for %d%s%s: %s (%u indicators)\n", (int)period, city ? ", city " : "",
           city ? city : "", out, fw->n_ind);
    status = GLCI_EXIT_OK;
cleanup:
    if (sources)
        for (uint32_t i = 0; st && i < glci_store_framework(st)->n_ind; i++)
            free(sources[i]);
    free(sources);
    free(last);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}
