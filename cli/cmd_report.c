/* glci report: the reports people look at (SPEC §8). Fills the report
 * model (report/glci_report.h) from one read view -- every city's result
 * for the period with its rank, its index in every earlier period with
 * data, how many of its values come from a synthetic source -- and renders
 * the static HTML site (--out DIR) or one city's printable profile
 * (--city ID --pdf FILE).
 *
 * Peers and lights come from the analysis module when it is there; until
 * then the model's peer and light fields stay empty and the pages leave
 * those parts out. --edition (published editions) is not offered yet. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_report.h"

static int s_period_row_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const glci_period_row_t *const *)elem)[0]->city);
}

static int s_row_ptr_cmp(const void *a, const void *b)
{
    return strcmp((*(const glci_period_row_t *const *)a)->city,
                  (*(const glci_period_row_t *const *)b)->city);
}

/* Counts a city's current values up to the report's period and those of
 * them from a synthetic source. */
typedef struct {
    int32_t period;
    uint32_t values, synthetic;
} s_count_t;

static int s_history_cb(void *ctx, const glci_history_row_t *row)
{
    s_count_t *n = ctx;
    if (!row->current || row->period > n->period)
        return 0;
    n->values++;
    n->synthetic += glci_report_source_synthetic(row->source) != 0;
    return 0;
}

/* The earliest period of the trend: the first with data, at most period. */
static int s_first_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                          int32_t period, int32_t *first)
{
    glci_store_status_t s;
    int rc = glci_view_status(v, &s);
    if (rc != 0)
        return glci_cli_store_fail(cmd, cli, rc, "cannot read the store status");
    *first = s.first_period && s.first_period < period ? s.first_period : period;
    return 0;
}

/* Fills r for period from the view. Returns 0 or the exit status of a
 * failure it has printed. */
static int s_fill(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                  const glci_framework_t *fw, int32_t period, glci_report_t *r)
{
    glci_city_list_t cities = {0};
    glci_period_t per = {0};
    const glci_period_row_t **by_id = NULL;
    int status = GLCI_EXIT_FAIL;
    int32_t first = period;
    if (s_first_period(cmd, cli, v, period, &first) != 0)
        goto cleanup;
    glci_report_init(r, fw, period, first, (int64_t)time(NULL));
    int rc = glci_city_list_load(v, &cities);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the cities");
        goto cleanup;
    }
    rc = glci_period_load(v, fw, period, &per);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
        goto cleanup;
    }
    if (per.n == 0) {
        glci_fail(cmd, "no data for period %d", (int)period);
        goto cleanup;
    }
    by_id = glci_xcalloc(per.n, sizeof *by_id);
    for (size_t k = 0; k < per.n; k++)
        by_id[k] = &per.rows[k];
    qsort(by_id, per.n, sizeof *by_id, s_row_ptr_cmp);

    /* Every city with a result, and every active one (its page says what
     * is missing); a revoked city without a result is left out. */
    for (size_t i = 0; i < cities.n; i++) {
        const glci_city_t *c = &cities.rows[i];
        const glci_period_row_t *const *row =
            bsearch(c->id, by_id, per.n, sizeof *by_id, s_period_row_cmp);
        if (!row && !c->active)
            continue;
        glci_report_city_t *entry = glci_report_add_city(r, c->id, c->name, c->country);
        if (row)
            glci_report_set_result(r, entry, (*row)->result, (*row)->ranked, (*row)->rank);
    }
    for (int32_t p = first; p < period; p++) {
        glci_period_t past;
        rc = glci_period_load(v, fw, p, &past);
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
            goto cleanup;
        }
        for (size_t k = 0; k < past.n; k++) {
            glci_report_city_t *c = glci_report_find(r, past.rows[k].city);
            if (c)
                glci_report_set_trend(r, c, p, past.rows[k].has_index, past.rows[k].index);
        }
        glci_period_release(&past);
    }
    for (size_t i = 0; i < r->n_cities; i++) {
        glci_report_city_t *c = &r->cities[i];
        s_count_t n = {.period = period};
        for (uint32_t k = 0; k < fw->n_ind; k++) {
            rc = glci_view_history(v, c->id, fw->ind[k].id, s_history_cb, &n);
            if (rc != 0) {
                glci_cli_store_fail(cmd, cli, rc, "cannot read the values");
                goto cleanup;
            }
        }
        c->n_values = n.values;
        c->n_synthetic = n.synthetic;
    }
    glci_report_finish(r);
    status = 0;
cleanup:
    free(by_id);
    glci_period_release(&per);
    glci_city_list_release(&cities);
    return status;
}

static int s_report(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "out", .has_arg = 1},
        {.name = "period", .has_arg = 1},
        {.name = "city", .has_arg = 1},
        {.name = "pdf", .has_arg = 1},
    };
    int rc = glci_args_parse(cmd, argc, argv, opts, 4, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    const char *out = opts[0].value, *city = opts[2].value, *pdf = opts[3].value;
    int32_t period = 0;
    if (opts[1].seen && glci_args_period(cmd, opts[1].value, &period) != 0)
        return GLCI_EXIT_USAGE;
    if (cli->format != GLCI_FMT_TABLE)
        return glci_usage_error(cmd, "%s", "report writes files; --format does not apply");
    if (out && pdf)
        return glci_usage_error(cmd, "%s", "give either --out DIR or --city ID --pdf FILE, "
                                           "not both");
    if (!out && !pdf)
        return glci_usage_error(cmd, "%s", "give --out DIR (the site) or --city ID --pdf FILE "
                                           "(a city's profile)");
    if (pdf && !city)
        return glci_usage_error(cmd, "%s", "--pdf needs --city ID");
    if (out && city)
        return glci_usage_error(cmd, "%s", "--city goes with --pdf FILE (the site has a page "
                                           "for every city)");
    if ((out && !*out) || (pdf && !*pdf) || (city && !*city))
        return glci_usage_error(cmd, "%s", "an empty file, folder or city name");

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_report_t r = {0};
    int status = GLCI_EXIT_FAIL;
    char err[1024] = "";
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    if (city) {
        glci_city_t c;
        rc = glci_view_city(v, city, &c);
        if (rc == GLCI_STORE_ENOCITY) {
            glci_fail(cmd, "no city '%s' in the store", city);
            goto cleanup;
        }
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
            goto cleanup;
        }
    }
    if (!opts[1].seen && glci_cli_latest_period(cmd, cli, v, &period) != 0)
        goto cleanup;
    if (s_fill(cmd, cli, v, fw, period, &r) != 0)
        goto cleanup;
    /* The model holds copies: render after the read transaction. */
    glci_view_end(&v);

    if (out) {
        size_t pages = 0;
        rc = glci_report_write_site(&r, out, &pages, err, sizeof err);
        if (rc != 0) {
            glci_fail(cmd, "%s", err);
            goto cleanup;
        }
        printf("report %d: %zu city pages in %s; open %s/index.html\n", (int)period, pages, out,
               out);
    } else {
        const glci_report_city_t *c = glci_report_find(&r, city);
        if (!c) {
            glci_fail(cmd, "city '%s' is revoked and has no data for %d", city, (int)period);
            goto cleanup;
        }
        rc = glci_report_write_profile(&r, c, pdf, err, sizeof err);
        if (rc != 0) {
            glci_fail(cmd, "%s", err);
            goto cleanup;
        }
        printf("profile of %s for %d: %s\n", city, (int)period, pdf);
    }
    status = GLCI_EXIT_OK;
cleanup:
    glci_report_release(&r);
    glci_view_end(&v);
    glci_store_close(&st);
    glci_report_shutdown();     /* the process ends after the command */
    return status;
}

const glci_cmd_t glci_cmd_report = {
    .name = "report",
    .usage = "report --out DIR [--period P] | report --city ID --pdf FILE [--period P]",
    .summary = "HTML report site, or a city's printable PDF profile",
    .help =
        "Writes the report of period P (default: the latest period with data).\n\n"
        "With --out DIR: a static site that opens from the folder with no\n"
        "network: index.html, the league table (sortable, filtered by country),\n"
        "and city-ID.html per city with a radar chart of its focus areas against\n"
        "the network median, its index over time, area bars, its indicators\n"
        "(value, period, carried mark, score) and what is missing for the round.\n"
        "DIR is made if missing; it must be empty or hold an earlier report.\n\n"
        "With --city ID --pdf FILE: the city's printable profile, two A4 pages.\n\n"
        "Pages are labelled synthetic when any value comes from a source whose\n"
        "text starts with \"synthetic\" (as the demo's data does).\n\n"
        "Options:\n"
        "  --out DIR     the folder of the site\n"
        "  --city ID     the city of the profile\n"
        "  --pdf FILE    the profile to write\n"
        "  --period P    the period (year)",
    .run = s_report,
};
