/* glci sensitivity: how much each city's rank in a period depends on the
 * method. A Monte Carlo (glci_sens_run) over the weights of each level, the
 * aggregation, the carry-forward, the normalisation and the coverage
 * threshold; per city the nominal rank, the median rank and the 5-95 %
 * band over the samples, per choice the mean absolute rank shift it causes
 * alone. docs/ANALYSIS.md has the ranges and the method. With --vary none
 * every sample is the nominal method and the ranks are glci rank's. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_text.h"

#define S_SAMPLES_MAX 100000u
/* The sample ranks are kept whole for the quantiles, 4 bytes per city and
 * sample: at most 256 MiB of them. */
#define S_CELLS_MAX (64u * 1024u * 1024u)
#define S_THREADS_MAX 64

typedef struct {
    const glci_framework_t *fw;
    glci_view_t *v;
    int32_t period;
    const glci_sens_opts_t *o;
    const glci_city_result_t *cities;
    const glci_sens_result_t *r;
    size_t *order;              /* rows: nominal rank order, unranked by id */
} s_out_t;

/* A row's sort key: ranked rows by rank, ties and unranked rows by id. */
typedef struct {
    int ranked;
    uint32_t rank;
    const char *id;
    size_t i;
} s_row_t;

static int s_cmp_row(const void *a, const void *b)
{
    const s_row_t *p = a, *q = b;
    if (p->ranked != q->ranked)
        return p->ranked ? -1 : 1;
    if (p->ranked && p->rank != q->rank)
        return p->rank < q->rank ? -1 : 1;
    return strcmp(p->id, q->id);
}

/* A rank of the band: 0 (no sample ranked any city) is none. */
static json_t *s_json_rank(uint32_t rank)
{
    return rank ? json_integer(rank) : json_null();
}

static void s_cell_rank(glci_table_t *t, uint32_t rank, const char *none)
{
    if (rank)
        glci_table_cellf(t, "%u", rank);
    else
        glci_table_cell(t, none);
}

static const char *s_agg_str(glci_aggregation_t a)
{
    return a == GLCI_AGG_GEOMETRIC ? "geometric" : "arithmetic";
}

static json_t *s_json(const s_out_t *o)
{
    json_t *vary = json_array();
    json_t *effects = json_array();
    for (int k = 0; k < GLCI_CHOICE_COUNT; k++) {
        if (!(o->o->vary & (1u << k)))
            continue;
        json_array_append_new(vary, json_string(glci_choice_str((glci_choice_t)k)));
        json_array_append_new(effects, json_pack(
            "{s:s, s:o}", "choice", glci_choice_str((glci_choice_t)k), "mean_abs_rank_shift",
            glci_json_num(o->r->effect[k], o->r->n_ranked > 0)));
    }
    json_t *rows = json_array();
    glci_city_t c;
    for (size_t k = 0; k < o->r->n; k++) {
        size_t i = o->order[k];
        const glci_sens_city_t *e = &o->r->nominal[i];
        glci_analysis_name(o->v, o->cities[i].city, &c);
        json_array_append_new(rows, json_pack(
            "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "city", o->cities[i].city, "name",
            c.name, "rank", e->ranked ? json_integer(e->rank) : json_null(), "score",
            glci_json_num(e->index, e->ranked), "median_rank", s_json_rank(o->r->median[i]),
            "q05", s_json_rank(o->r->q05[i]), "q95", s_json_rank(o->r->q95[i]), "ranked_share",
            glci_json_num(o->r->ranked_share[i], 1)));
    }
    json_t *nominal = json_pack(
        "{s:s, s:s, s:i, s:o}", "aggregation", s_agg_str(o->o->base.aggregation),
        "normalisation", glci_norm_str(o->o->base.normalisation), "carry_forward",
        (int)o->o->base.carry_forward, "min_coverage", glci_json_num(o->o->base.min_coverage, 1));
    return json_pack("{s:i, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o}", "period",
                     (int)o->period, "samples", (json_int_t)o->o->samples, "seed",
                     (json_int_t)o->o->seed, "nominal", nominal, "vary", vary, "weight_noise",
                     glci_json_num(o->o->weight_noise, 1), "coverage_noise",
                     glci_json_num(o->o->coverage_noise, 1), "cities", (json_int_t)o->r->n,
                     "ranked", (json_int_t)o->r->n_ranked, "rows", rows, "effects", effects);
}

static void s_csv(const s_out_t *o)
{
    static const char *const headers[] = {"kind", "city", "name", "rank", "score",
                                          "median_rank", "q05", "q95", "ranked_share",
                                          "choice", "mean_abs_rank_shift"};
    glci_table_t *t = glci_table_new(11, headers, NULL);
    char buf[64];
    glci_city_t c;
    for (size_t k = 0; k < o->r->n; k++) {
        size_t i = o->order[k];
        const glci_sens_city_t *e = &o->r->nominal[i];
        glci_analysis_name(o->v, o->cities[i].city, &c);
        glci_table_cell(t, "city");
        glci_table_cell(t, o->cities[i].city);
        glci_table_cell(t, c.name);
        if (e->ranked)
            glci_table_cellf(t, "%u", e->rank);
        else
            glci_table_cell(t, "");
        glci_fmt_exact(e->index, e->ranked, buf, sizeof buf);
        glci_table_cell(t, buf);
        s_cell_rank(t, o->r->median[i], "");
        s_cell_rank(t, o->r->q05[i], "");
        s_cell_rank(t, o->r->q95[i], "");
        glci_fmt_exact(o->r->ranked_share[i], 1, buf, sizeof buf);
        glci_table_cell(t, buf);
        glci_table_cell(t, "");
        glci_table_cell(t, "");
    }
    for (int k = 0; k < GLCI_CHOICE_COUNT; k++) {
        if (!(o->o->vary & (1u << k)))
            continue;
        glci_table_cell(t, "effect");
        for (int m = 0; m < 8; m++)
            glci_table_cell(t, "");
        glci_table_cell(t, glci_choice_str((glci_choice_t)k));
        glci_fmt_exact(o->r->effect[k], o->r->n_ranked > 0, buf, sizeof buf);
        glci_table_cell(t, buf);
    }
    glci_table_print_csv(t, stdout);
    glci_table_free(&t);
}

static void s_table(const s_out_t *o)
{
    const glci_sens_opts_t *op = o->o;
    char buf[32];
    glci_city_t c;
    printf("Sensitivity of the %d ranks to the method: %u samples, seed %llu; %u of %zu "
           "cities ranked\n", (int)o->period, op->samples, (unsigned long long)op->seed,
           o->r->n_ranked, o->r->n);
    printf("nominal: %s aggregation, %s normalisation, carry-forward %d, min coverage %.0f%%\n",
           s_agg_str(op->base.aggregation), glci_norm_str(op->base.normalisation),
           (int)op->base.carry_forward, op->base.min_coverage * 100.0);
    printf("varied:");
    int any = 0;
    for (int k = 0; k < GLCI_CHOICE_COUNT; k++)
        if (op->vary & (1u << k)) {
            printf("%s %s", any ? "," : "", glci_choice_str((glci_choice_t)k));
            any = 1;
        }
    printf("%s (weights x U(%.2f, %.2f), coverage threshold +/- %.2f)\n\n", any ? "" : " none",
           1.0 - op->weight_noise, 1.0 + op->weight_noise, op->coverage_noise);
    static const char *const headers[] = {"rank", "city", "name", "score", "median", "5-95%",
                                          "ranked"};
    glci_table_t *t = glci_table_new(7, headers, "rllrrrr");
    for (size_t k = 0; k < o->r->n; k++) {
        size_t i = o->order[k];
        const glci_sens_city_t *e = &o->r->nominal[i];
        glci_analysis_name(o->v, o->cities[i].city, &c);
        if (e->ranked)
            glci_table_cellf(t, "%u", e->rank);
        else
            glci_table_cell(t, "-");
        glci_table_cell(t, o->cities[i].city);
        glci_table_cell(t, c.name);
        glci_fmt_score(e->index, e->ranked, buf, sizeof buf);
        glci_table_cell(t, buf);
        s_cell_rank(t, o->r->median[i], "-");
        if (o->r->q05[i])
            glci_table_cellf(t, "%u-%u", o->r->q05[i], o->r->q95[i]);
        else
            glci_table_cell(t, "-");
        glci_table_cellf(t, "%.0f%%", o->r->ranked_share[i] * 100.0);
    }
    glci_table_print_text(t, stdout);
    glci_table_free(&t);
    printf("\na city without an index in a sample takes the rank after the last ranked one\n");
    if (o->r->n && !o->r->median[o->order[0]])
        printf("no sample ranks any city: there are no ranks to show\n");
    if (!any)
        return;
    static const char *const eh[] = {"choice", "mean abs rank shift"};
    t = glci_table_new(2, eh, "lr");
    for (int k = 0; k < GLCI_CHOICE_COUNT; k++) {
        if (!(op->vary & (1u << k)))
            continue;
        glci_table_cell(t, glci_choice_str((glci_choice_t)k));
        if (o->r->n_ranked > 0)
            glci_table_cellf(t, "%.2f", o->r->effect[k]);
        else
            glci_table_cell(t, "-");
    }
    printf("\nEach choice varied alone, the others nominal:\n");
    glci_table_print_text(t, stdout);
    glci_table_free(&t);
}

/* --vary: a comma-separated list of choices, "weights" for the three
 * weight levels, "all" or "none". Returns 0 or prints the usage error. */
static int s_parse_vary(const glci_cmd_t *cmd, const char *text, unsigned *out)
{
    unsigned vary = 0;
    for (const char *tok = text;; tok++) {
        const char *end = strchr(tok, ',');
        size_t len = end ? (size_t)(end - tok) : strlen(tok);
        char name[32];
        glci_choice_t ch;
        if (len == 0 || len >= sizeof name)
            name[0] = '\0';
        else
            snprintf(name, sizeof name, "%.*s", (int)len, tok);
        if (strcmp(name, "all") == 0)
            vary |= GLCI_CHOICES_ALL;
        else if (strcmp(name, "weights") == 0)
            vary |= (1u << GLCI_CHOICE_WEIGHTS_INDICATOR) | (1u << GLCI_CHOICE_WEIGHTS_FOCUS) |
                    (1u << GLCI_CHOICE_WEIGHTS_AREA);
        else if (glci_choice_parse(name, &ch) == 0)
            vary |= 1u << ch;
        else if (strcmp(name, "none") != 0)
            return glci_usage_error(cmd, "unknown choice '%.*s' in --vary (weights, "
                                    "weights.indicator, weights.focus, weights.area, "
                                    "aggregation, carry_forward, normalisation, coverage, "
                                    "all, none)", (int)len, tok);
        if (!end)
            break;
        tok = end;
    }
    *out = vary;
    return 0;
}

/* An integer option in [lo, hi]: 0, or the usage error "invalid --NAME
 * 'TEXT' (what)". */
static int s_parse_int(const glci_cmd_t *cmd, const glci_opt_t *opt, int64_t lo, int64_t hi,
                       const char *what, int64_t *out)
{
    if (glci_parse_int64(opt->value, lo, hi, out) != 0)
        return glci_usage_error(cmd, "invalid --%s '%.80s' (%s)", opt->name, opt->value, what);
    return 0;
}

/* A number in [lo, hi] for option name. 0 or the usage error. */
static int s_parse_unit(const glci_cmd_t *cmd, const char *name, const char *text, double lo,
                        double hi, int hi_open, double *out)
{
    double v;
    if (glci_parse_double(text, &v) != 0 || !(v >= lo) || (hi_open ? !(v < hi) : !(v <= hi)))
        return glci_usage_error(cmd, "invalid --%s '%.80s' (a number in [%g, %g%c)", name, text,
                                lo, hi, hi_open ? ')' : ']');
    *out = v;
    return 0;
}

enum { O_PERIOD, O_SAMPLES, O_SEED, O_THREADS, O_VARY, O_AGG, O_NORM, O_CF, O_COV, O_WNOISE,
       O_CNOISE, O_COUNT };

static int s_sensitivity(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[O_COUNT] = {
        [O_PERIOD] = {.name = "period", .has_arg = 1},
        [O_SAMPLES] = {.name = "samples", .has_arg = 1},
        [O_SEED] = {.name = "seed", .has_arg = 1},
        [O_THREADS] = {.name = "threads", .has_arg = 1},
        [O_VARY] = {.name = "vary", .has_arg = 1},
        [O_AGG] = {.name = "aggregation", .has_arg = 1},
        [O_NORM] = {.name = "normalisation", .has_arg = 1},
        [O_CF] = {.name = "carry-forward", .has_arg = 1},
        [O_COV] = {.name = "min-coverage", .has_arg = 1},
        [O_WNOISE] = {.name = "weight-noise", .has_arg = 1},
        [O_CNOISE] = {.name = "coverage-noise", .has_arg = 1},
    };
    int rc = glci_args_parse(cmd, argc, argv, opts, O_COUNT, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    int32_t period = 0;
    int64_t v64;
    unsigned vary = GLCI_CHOICES_ALL, fixed = 0;
    uint32_t samples = 1000;
    uint64_t seed = 1;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    double wnoise = 0.25, cnoise = 0.1, min_cov = 0;
    int64_t cf = -1;
    glci_aggregation_t agg = GLCI_AGG_ARITHMETIC;
    glci_norm_t norm = GLCI_NORM_GOALPOSTS;
    threads = threads < 1 ? 1 : threads > S_THREADS_MAX ? S_THREADS_MAX : threads;
    if (opts[O_PERIOD].seen && glci_args_period_opt(cmd, &opts[O_PERIOD], &period) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[O_SAMPLES].seen) {
        if (s_parse_int(cmd, &opts[O_SAMPLES], 1, S_SAMPLES_MAX, "1 to 100000", &v64) != 0)
            return GLCI_EXIT_USAGE;
        samples = (uint32_t)v64;
    }
    if (opts[O_SEED].seen) {
        /* JSON prints the seed as a signed 64-bit integer: 2^63 - 1 at most */
        if (s_parse_int(cmd, &opts[O_SEED], 0, INT64_MAX,
                        "an integer from 0 to 9223372036854775807", &v64) != 0)
            return GLCI_EXIT_USAGE;
        seed = (uint64_t)v64;
    }
    if (opts[O_THREADS].seen) {
        if (s_parse_int(cmd, &opts[O_THREADS], 1, S_THREADS_MAX, "1 to 64", &v64) != 0)
            return GLCI_EXIT_USAGE;
        threads = (long)v64;
    }
    if (opts[O_AGG].seen) {
        if (strcmp(opts[O_AGG].value, "arithmetic") == 0)
            agg = GLCI_AGG_ARITHMETIC;
        else if (strcmp(opts[O_AGG].value, "geometric") == 0)
            agg = GLCI_AGG_GEOMETRIC;
        else
            return glci_usage_error(cmd, "invalid --aggregation '%.80s' (arithmetic or geometric)",
                                    opts[O_AGG].value);
        fixed |= 1u << GLCI_CHOICE_AGGREGATION;
    }
    if (opts[O_NORM].seen) {
        if (glci_norm_parse(opts[O_NORM].value, &norm) != 0)
            return glci_usage_error(cmd, "invalid --normalisation '%.80s' (goalposts, minmax "
                                    "or zscore; min-max and z-score also do)",
                                    opts[O_NORM].value);
        fixed |= 1u << GLCI_CHOICE_NORMALISATION;
    }
    if (opts[O_CF].seen) {
        if (s_parse_int(cmd, &opts[O_CF], 0, 100, "0 to the framework's", &cf) != 0)
            return GLCI_EXIT_USAGE;
        fixed |= 1u << GLCI_CHOICE_CARRY_FORWARD;
    }
    if (opts[O_COV].seen) {
        if (s_parse_unit(cmd, "min-coverage", opts[O_COV].value, 0, 1, 0, &min_cov) != 0)
            return GLCI_EXIT_USAGE;
        fixed |= 1u << GLCI_CHOICE_COVERAGE;
    }
    if (opts[O_WNOISE].seen &&
        s_parse_unit(cmd, "weight-noise", opts[O_WNOISE].value, 0, 1, 1, &wnoise) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[O_CNOISE].seen &&
        s_parse_unit(cmd, "coverage-noise", opts[O_CNOISE].value, 0, 1, 0, &cnoise) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[O_VARY].seen) {
        if (s_parse_vary(cmd, opts[O_VARY].value, &vary) != 0)
            return GLCI_EXIT_USAGE;
        for (int k = 0; k < GLCI_CHOICE_COUNT; k++)
            if (vary & fixed & (1u << k))
                return glci_usage_error(cmd, "%s is fixed by its option and cannot also be "
                                        "varied", glci_choice_str((glci_choice_t)k));
    } else {
        vary &= ~fixed;
    }

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_period_t p = {0};
    glci_city_result_t *cities = NULL;
    glci_sens_t *sens = NULL;
    glci_sens_result_t r = {0};
    size_t *order = NULL;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    if (cf > fw->carry_forward) {
        status = glci_usage_error(cmd, "invalid --carry-forward %lld (0 to the framework's %d)",
                                  (long long)cf, (int)fw->carry_forward);
        goto cleanup;
    }
    glci_sens_opts_t o;
    glci_sens_opts_default(fw, &o);
    o.samples = samples;
    o.seed = seed;
    o.threads = (unsigned)threads;
    o.vary = vary;
    o.weight_noise = wnoise;
    o.coverage_noise = cnoise;
    if (fixed & (1u << GLCI_CHOICE_AGGREGATION))
        o.base.aggregation = agg;
    if (fixed & (1u << GLCI_CHOICE_NORMALISATION))
        o.base.normalisation = norm;
    if (fixed & (1u << GLCI_CHOICE_CARRY_FORWARD))
        o.base.carry_forward = (int32_t)cf;
    if (fixed & (1u << GLCI_CHOICE_COVERAGE))
        o.base.min_coverage = min_cov;
    if (glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    if (!opts[O_PERIOD].seen && glci_cli_default_period(cmd, cli, v, NULL, &period) != 0)
        goto cleanup;
    if (glci_analysis_period(cmd, cli, v, fw, period, &p, &cities) != 0)
        goto cleanup;
    if ((uint64_t)p.n * samples > S_CELLS_MAX) {
        glci_fail(cmd, "%u samples of %zu cities is too many (at most %u city-samples)",
                  samples, p.n, S_CELLS_MAX);
        goto cleanup;
    }
    /* The results are copies: no read transaction stays open while the
     * samples run (seconds for thousands of cities), so a long run pins
     * none of the pages the collector frees meanwhile. Names come from a
     * fresh view afterwards. */
    glci_view_end(&v);
    rc = glci_sens_new(fw, period, cities, p.n, &sens);
    if (rc == 0)
        rc = glci_sens_run(sens, &o, &r);
    if (rc != 0) {
        glci_fail(cmd, "cannot run the analysis: %s", glci_index_strerror(rc));
        goto cleanup;
    }
    if (glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    s_row_t *rows = glci_xmalloc(r.n * sizeof *rows);
    for (size_t k = 0; k < r.n; k++)
        rows[k] = (s_row_t){r.nominal[k].ranked, r.nominal[k].rank, cities[k].city, k};
    qsort(rows, r.n, sizeof *rows, s_cmp_row);
    order = glci_xmalloc(r.n * sizeof *order);
    for (size_t k = 0; k < r.n; k++)
        order[k] = rows[k].i;
    free(rows);
    s_out_t out = {.fw = fw, .v = v, .period = period, .o = &o, .cities = cities, .r = &r,
                   .order = order};
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = s_json(&out);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        s_csv(&out);
        status = GLCI_EXIT_OK;
    } else {
        s_table(&out);
        status = GLCI_EXIT_OK;
    }
cleanup:
    free(order);
    glci_sens_result_release(&r);
    glci_sens_free(&sens);
    free(cities);
    glci_period_release(&p);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_sensitivity = {
    .name = "sensitivity",
    .usage = "sensitivity [--period P] [--samples N] [--seed S] [--vary LIST] "
             "[--aggregation A] [--normalisation N] [--carry-forward K] [--min-coverage X] "
             "[--weight-noise X] [--coverage-noise X] [--threads N]",
    .summary = "how much each rank depends on the method (Monte Carlo)",
    .help =
        "Recomputes the league table of period P (default: the period rank\n"
        "chooses) N times, each with method choices drawn at random: every weight\n"
        "of each level (indicators, focus areas, areas) times U(1-x, 1+x);\n"
        "arithmetic or geometric aggregation; carry-forward 0 to the\n"
        "framework's; normalisation by the goalposts, by min-max or by z-score\n"
        "over the period's cities; the coverage threshold +/- y. Prints per city\n"
        "its nominal rank, its median rank and the 5-95% band over the samples,\n"
        "and per choice the mean absolute rank shift it causes when varied\n"
        "alone. A city without an index in a sample takes the rank after the\n"
        "last ranked one. The same seed gives the same output, whatever the\n"
        "number of threads. See docs/ANALYSIS.md.\n\n"
        "Options:\n"
        "  --period P           the period (year)\n"
        "  --samples N          samples (default 1000, at most 100000)\n"
        "  --seed S             the random seed, 0 to 2^63-1 (default 1)\n"
        "  --vary LIST          the choices varied, comma-separated (default all):\n"
        "                       weights (the three below), weights.indicator,\n"
        "                       weights.focus, weights.area, aggregation,\n"
        "                       carry_forward, normalisation, coverage; all; none\n"
        "  --aggregation A      fix the aggregation (arithmetic or geometric)\n"
        "  --normalisation N    fix the normalisation (goalposts, minmax or\n"
        "                       min-max, zscore or z-score)\n"
        "  --carry-forward K    fix the carry-forward (0 to the framework's)\n"
        "  --min-coverage X     fix the coverage threshold (0 to 1)\n"
        "  --weight-noise X     the weights' half-range x (default 0.25)\n"
        "  --coverage-noise Y   the threshold's half-range y (default 0.1)\n"
        "  --threads N          threads (default: the CPUs online)\n"
        "A fixed choice is the nominal one and is not varied.",
    .run = s_sensitivity,
};
