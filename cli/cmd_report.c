/* glci report: the reports people look at (SPEC §8). Fills the report
 * model (report/glci_report.h) from one read view -- every city's result
 * for the period with its rank, its index in every earlier period with
 * data, how many of its values come from a synthetic source -- and renders
 * the static HTML site (--out DIR) or one city's printable profile
 * (--city ID --pdf FILE).
 *
 * The indicators' lights, the trend classes of the city's reporting rounds
 * and its peers come from the analysis module (index/glci_analysis.h) with
 * the functions and defaults of `glci show`, `glci trend` and `glci peers`,
 * so the report says what those commands say. --edition and --as-of
 * read the table as rank does (source.c); the trend's earlier periods are
 * recomputed as of the same time. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_analysis.h"
#include "glci_report.h"
#include "glci_text.h"

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
 * them from a synthetic source. Live (as_of 0): the rows marked current.
 * As of a time (an edition's or --as-of): per period, the latest row
 * received by then, unless it is a retraction; rows of one indicator are
 * gathered in slot[] (one per period from first) and counted by
 * s_count_flush. */
typedef struct {
    int64_t received;
    int set, synthetic, retracted;
} s_slot_t;

typedef struct {
    int32_t period, first;
    int64_t as_of;
    uint32_t values, synthetic;
    s_slot_t *slot;             /* period - first + 1 of them, as of a time */
} s_count_t;

static int s_history_cb(void *ctx, const glci_history_row_t *row)
{
    s_count_t *n = ctx;
    if (row->period > n->period)
        return 0;
    if (!n->as_of) {
        if (!row->current)
            return 0;
        n->values++;
        n->synthetic += glci_report_source_synthetic(row->source) != 0;
        return 0;
    }
    if (row->received > n->as_of || row->period < n->first)
        return 0;
    s_slot_t *sl = &n->slot[row->period - n->first];
    if (sl->set && sl->received > row->received)
        return 0;
    sl->set = 1;
    sl->received = row->received;
    sl->retracted = row->retracted;
    sl->synthetic = glci_report_source_synthetic(row->source) != 0;
    return 0;
}

static void s_count_flush(s_count_t *n)
{
    if (!n->as_of)
        return;
    for (int32_t p = n->first; p <= n->period; p++) {
        s_slot_t *sl = &n->slot[p - n->first];
        if (sl->set && !sl->retracted) {
            n->values++;
            n->synthetic += sl->synthetic != 0;
        }
        memset(sl, 0, sizeof *sl);
    }
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

/* The results of one period of the trend, and its rows in id order. */
typedef struct {
    glci_period_t per;
    const glci_period_row_t **by_id;
} s_period_t;

static void s_period_index(s_period_t *p)
{
    p->by_id = glci_xcalloc(p->per.n ? p->per.n : 1, sizeof *p->by_id);
    for (size_t k = 0; k < p->per.n; k++)
        p->by_id[k] = &p->per.rows[k];
    qsort(p->by_id, p->per.n, sizeof *p->by_id, s_row_ptr_cmp);
}

/* City id's row in period p, or NULL. */
static const glci_period_row_t *s_period_row(const s_period_t *p, const char *id)
{
    const glci_period_row_t *const *row =
        p->per.n ? bsearch(id, p->by_id, p->per.n, sizeof *p->by_id, s_period_row_cmp) : NULL;
    return row ? *row : NULL;
}

/* The lights of city c's indicators, as `glci show` gives them. */
static void s_lights(const glci_framework_t *fw, glci_report_city_t *c,
                     const glci_result_t *res)
{
    for (uint32_t i = 0; i < fw->n_ind; i++)
        c->ind[i].light = glci_slot_light(&fw->ind[i], glci_result_slot_c(fw, res, i));
}

/* City c's trend as `glci trend` computes it: its reporting rounds among
 * the n periods' results (ascending), each compared with the round before. */
static void s_rounds(glci_report_t *r, glci_report_city_t *c, const s_period_t *periods,
                     size_t n)
{
    const glci_framework_t *fw = r->fw;
    const glci_result_t **rounds = glci_xcalloc(n ? n : 1, sizeof *rounds);
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        const glci_period_row_t *row = s_period_row(&periods[k], c->id);
        if (row && glci_result_is_round(fw, row->result))
            rounds[m++] = row->result;
    }
    glci_trend_cell_t *cells = glci_xcalloc(m ? m * glci_trend_n_nodes(fw) : 1, sizeof *cells);
    glci_trend_compute(fw, rounds, m, cells);
    glci_report_set_rounds(r, c, rounds, cells, m);
    free(cells);
    free(rounds);
}

/* The peers in period P of every city (only NULL) or of city only, as
 * `glci peers` finds them (glci_peers_find's answer, over a network
 * prepared once), with its defaults. Returns 0 or the exit status of a
 * failure it has printed. */
static int s_peers(const glci_cmd_t *cmd, glci_report_t *r, const s_period_t *now,
                   const char *only)
{
    const glci_framework_t *fw = r->fw;
    size_t n = now->per.n;
    glci_city_result_t *cities = glci_xcalloc(n ? n : 1, sizeof *cities);
    for (size_t k = 0; k < n; k++)
        cities[k] = (glci_city_result_t){now->per.rows[k].city, now->per.rows[k].result};
    int status = 0;
    glci_peers_net_t *net = NULL;
    int rc = glci_peers_net_new(fw, cities, n, &net);
    if (rc != 0)
        status = glci_fail(cmd, "cannot compare the cities: %s", glci_index_strerror(rc));
    for (size_t i = 0; i < r->n_cities && status == 0; i++) {
        glci_report_city_t *c = &r->cities[i];
        const glci_period_row_t *row = s_period_row(now, c->id);
        if (!row || (only && strcmp(only, c->id) != 0))
            continue;
        glci_peers_t peers = {0};
        rc = glci_peers_net_find(net, (size_t)(row - now->per.rows), GLCI_PEERS_DEFAULT_FOCUS,
                                 GLCI_PEERS_DEFAULT_PEERS, &peers);
        if (rc != 0)
            status = glci_fail(cmd, "cannot find peers of '%s': %s", c->id,
                               glci_index_strerror(rc));
        else
            glci_report_set_peers(r, c, &peers, cities);
        glci_peers_release(&peers);
    }
    glci_peers_net_free(&net);
    free(cities);
    r->has_peers = status == 0;
    return status;
}

/* Fills r for period from the view; with only (a profile), the trend and
 * the peers of that city alone, which is all its profile shows. Returns 0
 * or the exit status of a failure it has printed. */
static int s_fill(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                  const glci_framework_t *fw, glci_source_t *src, const char *only,
                  glci_report_t *r)
{
    int32_t period = src->choice.period;
    int live = src->args.kind == GLCI_SRC_LIVE;
    int64_t as_of = live ? 0 : src->args.as_of;
    glci_city_list_t cities = {0};
    s_period_t *periods = NULL;
    s_slot_t *slots = NULL;
    size_t n_loaded = 0;
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
    /* Every period of the trend, the report's last; each result is a copy.
     * As of a time or from an edition, the report's period is the table
     * asked for and the earlier ones are recomputed as of the same time, so
     * the whole report is what the store said then. */
    periods = glci_xcalloc(r->n_periods, sizeof *periods);
    for (; n_loaded < r->n_periods; n_loaded++) {
        int32_t p = first + (int32_t)n_loaded;
        glci_snapshot_t snap = {0};
        if (live) {
            rc = glci_period_load(v, fw, p, &periods[n_loaded].per);
        } else if (p == period) {
            glci_period_from_snapshot(&src->snap, &periods[n_loaded].per);
            rc = 0;
        } else if ((rc = glci_view_asof(v, p, as_of, &snap)) == 0) {
            glci_period_from_snapshot(&snap, &periods[n_loaded].per);
        }
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
            goto cleanup;
        }
        s_period_index(&periods[n_loaded]);
    }
    const s_period_t *now = &periods[r->n_periods - 1];
    if (now->per.n == 0) {
        glci_fail(cmd, "no data for period %d", (int)period);
        goto cleanup;
    }

    /* Every city with a result, and every active one (its page says what
     * is missing); a revoked city without a result is left out. */
    for (size_t i = 0; i < cities.n; i++) {
        const glci_city_t *c = &cities.rows[i];
        const glci_period_row_t *row = s_period_row(now, c->id);
        if (!row && !c->active)
            continue;
        glci_report_city_t *entry = glci_report_add_city(r, c->id, c->name, c->country);
        if (!row)
            continue;
        glci_report_set_result(r, entry, row->result, row->ranked, row->rank);
        s_lights(fw, entry, row->result);
    }
    for (uint32_t i = 0; i < fw->n_ind; i++)
        r->has_lights |= fw->ind[i].has_lights != 0;
    for (size_t k = 0; k + 1 < r->n_periods; k++) {
        const glci_period_t *past = &periods[k].per;
        for (size_t j = 0; j < past->n; j++) {
            glci_report_city_t *c = glci_report_find(r, past->rows[j].city);
            if (c)
                glci_report_set_trend(r, c, past->period, past->rows[j].has_index,
                                      past->rows[j].index);
        }
    }
    for (size_t i = 0; i < r->n_cities; i++)
        if (!only || strcmp(only, r->cities[i].id) == 0)
            s_rounds(r, &r->cities[i], periods, r->n_periods);
    r->has_trends = 1;
    if (s_peers(cmd, r, now, only) != 0)
        goto cleanup;
    slots = live ? NULL : glci_xcalloc(r->n_periods, sizeof *slots);
    for (size_t i = 0; i < r->n_cities; i++) {
        glci_report_city_t *c = &r->cities[i];
        s_count_t n = {.period = period, .first = first, .as_of = as_of, .slot = slots};
        for (uint32_t k = 0; k < fw->n_ind; k++) {
            rc = glci_view_history(v, c->id, fw->ind[k].id, s_history_cb, &n);
            if (rc != 0) {
                glci_cli_store_fail(cmd, cli, rc, "cannot read the values");
                goto cleanup;
            }
            s_count_flush(&n);
        }
        c->n_values = n.values;
        c->n_synthetic = n.synthetic;
    }
    glci_report_finish(r);
    status = 0;
cleanup:
    for (size_t k = 0; k < n_loaded; k++) {
        free(periods[k].by_id);
        glci_period_release(&periods[k].per);
    }
    free(periods);
    free(slots);
    glci_city_list_release(&cities);
    return status;
}

/* Which table the report shows, on every page: nothing for the live
 * store, else the edition (with the time it froze) or the as-of time. */
static void s_table_note(const glci_source_t *src, glci_report_t *r)
{
    char when[32];
    glci_format_iso_time(src->args.as_of, when, sizeof when);
    if (src->args.kind == GLCI_SRC_EDITION)
        snprintf(r->table, sizeof r->table, "edition %s of period %d, as published (the "
                 "store as of %s)", src->edition.name, (int)src->edition.period, when);
    else if (src->args.kind == GLCI_SRC_ASOF)
        snprintf(r->table, sizeof r->table, "as of %s (recomputed from the values received "
                 "by then)", when);
}

int glci_cmd_report_run(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "out", .has_arg = 1},
        {.name = "period", .has_arg = 1},
        {.name = "city", .has_arg = 1},
        {.name = "pdf", .has_arg = 1},
        {.name = "as-of", .has_arg = 1},
        {.name = "edition", .has_arg = 1},
    };
    int rc = glci_args_parse(cmd, argc, argv, opts, 6, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    const char *out = opts[0].value, *city = opts[2].value, *pdf = opts[3].value;
    if (city && glci_city_id_check(city, NULL, 0) != 0)
        return glci_usage_bad_city(cmd, city);
    glci_src_args_t sa;
    if (glci_src_args(cmd, &opts[1], &opts[4], &opts[5], &sa) != 0)
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
    if (glci_args_out(cmd, &opts[0]) != 0 || glci_args_out(cmd, &opts[3]) != 0)
        return GLCI_EXIT_USAGE;

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_report_t r = {0};
    glci_source_t src = {0};
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
    if (glci_source_open(cmd, cli, v, &sa, sa.kind != GLCI_SRC_LIVE, &src) != 0)
        goto cleanup;
    int32_t period = src.choice.period;
    glci_source_print(&src, stdout);    /* the rule's line or the table, as rank says */
    if (s_fill(cmd, cli, v, fw, &src, city, &r) != 0)
        goto cleanup;
    s_table_note(&src, &r);
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
    glci_source_release(&src);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}
