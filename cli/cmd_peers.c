/* glci peers CITY: whom the city can learn from. For its focus areas below
 * the network's median in the period, weakest first, the cities that lead
 * there (at or above the upper quartile) with their scores and the
 * indicators where they do better (glci_peers_find; docs/ANALYSIS.md has
 * the definitions). */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const glci_framework_t *fw;
    glci_view_t *v;
    const glci_city_t *c;
    int32_t period;
    const glci_city_result_t *cities;
    size_t n;
    const glci_peers_t *peers;
} s_out_t;

static json_t *s_json(const s_out_t *o)
{
    const glci_framework_t *fw = o->fw;
    json_t *focus = json_array();
    glci_city_t pc;
    for (size_t k = 0; k < o->peers->n_focus; k++) {
        const glci_peer_focus_t *pf = &o->peers->focus[k];
        json_t *peers = json_array();
        for (size_t j = 0; j < pf->n_peers; j++) {
            const glci_peer_t *p = &pf->peers[j];
            json_t *inds = json_array();
            for (size_t m = 0; m < p->n_ind; m++) {
                const glci_peer_ind_t *d = &p->ind[m];
                const char *light = glci_light_str(glci_light(&fw->ind[d->ind], d->value));
                json_array_append_new(inds, json_pack(
                    "{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", fw->ind[d->ind].id, "value",
                    glci_json_num(d->value, 1), "score", glci_json_num(d->score, 1),
                    "light", light ? json_string(light) : json_null(), "city_value",
                    glci_json_num(d->city_value, d->city_present), "city_score",
                    glci_json_num(d->city_score, d->city_present), "gap",
                    glci_json_num(d->gap, d->city_present)));
            }
            glci_analysis_name(o->v, o->cities[p->city].city, &pc);
            json_array_append_new(peers, json_pack(
                "{s:s, s:s, s:o, s:I, s:o}", "city", o->cities[p->city].city, "name", pc.name,
                "score", glci_json_num(p->score, 1), "rank", (json_int_t)p->rank,
                "indicators", inds));
        }
        json_array_append_new(focus, json_pack(
            "{s:s, s:s, s:o, s:o, s:I, s:o}", "id", fw->focus[pf->focus].id, "name",
            fw->focus[pf->focus].name, "score", glci_json_num(pf->score, 1), "median",
            glci_json_num(pf->median, 1), "cities", (json_int_t)pf->n_scored, "peers", peers));
    }
    return json_pack("{s:s, s:s, s:i, s:o}", "city", o->c->id, "name", o->c->name, "period",
                     (int)o->period, "focus", focus);
}

static void s_csv(const s_out_t *o)
{
    static const char *const headers[] = {"focus", "focus_score", "median", "peer",
                                          "peer_name", "peer_score", "peer_rank", "indicator",
                                          "value", "score", "city_value", "city_score", "gap"};
    glci_table_t *t = glci_table_new(13, headers, NULL);
    char buf[64];
    glci_city_t pc;
    for (size_t k = 0; k < o->peers->n_focus; k++) {
        const glci_peer_focus_t *pf = &o->peers->focus[k];
        for (size_t j = 0; j < (pf->n_peers ? pf->n_peers : 1); j++) {
            const glci_peer_t *p = pf->n_peers ? &pf->peers[j] : NULL;
            if (p)
                glci_analysis_name(o->v, o->cities[p->city].city, &pc);
            for (size_t m = 0; m < (p && p->n_ind ? p->n_ind : 1); m++) {
                const glci_peer_ind_t *d = p && p->n_ind ? &p->ind[m] : NULL;
                glci_table_cell(t, o->fw->focus[pf->focus].id);
                glci_fmt_exact(pf->score, 1, buf, sizeof buf);
                glci_table_cell(t, buf);
                glci_fmt_exact(pf->median, 1, buf, sizeof buf);
                glci_table_cell(t, buf);
                glci_table_cell(t, p ? o->cities[p->city].city : "");
                glci_table_cell(t, p ? pc.name : "");
                glci_fmt_exact(p ? p->score : 0, p != NULL, buf, sizeof buf);
                glci_table_cell(t, buf);
                if (p)
                    glci_table_cellf(t, "%u", p->rank);
                else
                    glci_table_cell(t, "");
                glci_table_cell(t, d ? o->fw->ind[d->ind].id : "");
                glci_fmt_exact(d ? d->value : 0, d != NULL, buf, sizeof buf);
                glci_table_cell(t, buf);
                glci_fmt_exact(d ? d->score : 0, d != NULL, buf, sizeof buf);
                glci_table_cell(t, buf);
                glci_fmt_exact(d ? d->city_value : 0, d && d->city_present, buf, sizeof buf);
                glci_table_cell(t, buf);
                glci_fmt_exact(d ? d->city_score : 0, d && d->city_present, buf, sizeof buf);
                glci_table_cell(t, buf);
                glci_fmt_exact(d ? d->gap : 0, d && d->city_present, buf, sizeof buf);
                glci_table_cell(t, buf);
            }
        }
    }
    glci_table_print_csv(t, stdout);
    glci_table_free(&t);
}

static void s_table(const s_out_t *o)
{
    const glci_framework_t *fw = o->fw;
    glci_city_t pc;
    char a[32], b[32], s[32];
    printf("%s (%s, %s), period %d: ", o->c->name, o->c->id, o->c->country, (int)o->period);
    if (o->peers->n_focus == 0) {
        printf("no focus area below the network's median\n");
        return;
    }
    printf("%zu weakest focus area%s below the network's median\n", o->peers->n_focus,
           o->peers->n_focus == 1 ? "" : "s");
    for (size_t k = 0; k < o->peers->n_focus; k++) {
        const glci_peer_focus_t *pf = &o->peers->focus[k];
        glci_fmt_score(pf->score, 1, a, sizeof a);
        glci_fmt_score(pf->median, 1, b, sizeof b);
        printf("\n%s (%s): score %s, median %s of %zu cities\n", fw->focus[pf->focus].name,
               fw->focus[pf->focus].id, a, b, pf->n_scored);
        if (pf->n_peers == 0) {
            printf("  no other city leads there\n");
            continue;
        }
        static const char *const headers[] = {"peer", "name", "score", "rank", "ahead on",
                                              "value", "score", "yours"};
        glci_table_t *t = glci_table_new(8, headers, "llrrlrrr");
        for (size_t j = 0; j < pf->n_peers; j++) {
            const glci_peer_t *p = &pf->peers[j];
            glci_analysis_name(o->v, o->cities[p->city].city, &pc);
            for (size_t m = 0; m < (p->n_ind ? p->n_ind : 1); m++) {
                const glci_peer_ind_t *d = p->n_ind ? &p->ind[m] : NULL;
                glci_table_cell(t, m == 0 ? o->cities[p->city].city : "");
                glci_table_cell(t, m == 0 ? pc.name : "");
                glci_fmt_score(p->score, m == 0, s, sizeof s);
                glci_table_cell(t, m == 0 ? s : "");
                if (m == 0)
                    glci_table_cellf(t, "%u", p->rank);
                else
                    glci_table_cell(t, "");
                glci_table_cell(t, d ? fw->ind[d->ind].id : "-");
                if (d) {
                    glci_fmt_value(d->value, a, sizeof a);
                    glci_table_cellf(t, "%s %s", a, fw->ind[d->ind].unit);
                    glci_fmt_score(d->score, 1, s, sizeof s);
                    glci_table_cell(t, s);
                    glci_fmt_score(d->city_score, d->city_present, s, sizeof s);
                    glci_table_cell(t, d->city_present ? s : "no value");
                } else {
                    glci_table_cell(t, "");
                    glci_table_cell(t, "");
                    glci_table_cell(t, "");
                }
            }
        }
        glci_table_print_text(t, stdout);
        glci_table_free(&t);
    }
}

/* The period to use: P when given (the city must have a result there);
 * else the one rule's (glci_cli_default_period), or the city's latest
 * before it, or its first after it (glci_cli_city_period). */
static int s_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                    const char *city, int given, int32_t *period)
{
    const glci_result_t *r;
    int rc;
    if (given) {
        rc = glci_view_result(v, city, *period, &r);
        if (rc == GLCI_STORE_ENODATA)
            return glci_fail(cmd, "no data for city '%s' in period %d", city, (int)*period);
        return rc ? glci_cli_store_fail(cmd, cli, rc, "cannot read the result") : 0;
    }
    int32_t latest;
    if (glci_cli_default_period(cmd, cli, v, NULL, &latest) != 0)
        return GLCI_EXIT_FAIL;
    return glci_cli_city_period(cmd, cli, v, city, latest, period, &r);
}

static int s_peers(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "period", .has_arg = 1}, {.name = "limit", .has_arg = 1},
                         {.name = "peers", .has_arg = 1}};
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 3, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (glci_city_id_check(pos[0], NULL, 0) != 0)
        return glci_usage_bad_city(cmd, pos[0]);
    int32_t period = 0;
    size_t limit = GLCI_PEERS_DEFAULT_FOCUS, max_peers = GLCI_PEERS_DEFAULT_PEERS;
    if (opts[0].seen && glci_args_period_opt(cmd, &opts[0], &period) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[1].seen && glci_args_limit(cmd, &opts[1], &limit) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[2].seen && glci_args_limit(cmd, &opts[2], &max_peers) != 0)
        return GLCI_EXIT_USAGE;

    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_period_t p = {0};
    glci_city_result_t *cities = NULL;
    glci_peers_t peers = {0};
    int status = GLCI_EXIT_FAIL;
    glci_city_t c;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    if (glci_analysis_city(cmd, cli, v, pos[0], &c) != 0 ||
        s_period(cmd, cli, v, c.id, opts[0].seen, &period) != 0 ||
        glci_analysis_period(cmd, cli, v, fw, period, &p, &cities) != 0)
        goto cleanup;
    size_t self = p.n;
    for (size_t k = 0; k < p.n; k++)
        if (strcmp(cities[k].city, c.id) == 0)
            self = k;
    rc = glci_peers_find(fw, cities, p.n, self, limit, max_peers, &peers);
    if (rc != 0) {
        glci_fail(cmd, "cannot find peers of '%s': %s", c.id, glci_index_strerror(rc));
        goto cleanup;
    }
    s_out_t o = {.fw = fw, .v = v, .c = &c, .period = period, .cities = cities, .n = p.n,
                 .peers = &peers};
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = s_json(&o);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        s_csv(&o);
        status = GLCI_EXIT_OK;
    } else {
        s_table(&o);
        status = GLCI_EXIT_OK;
    }
cleanup:
    glci_peers_release(&peers);
    free(cities);
    glci_period_release(&p);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_peers = {
    .name = "peers",
    .usage = "peers CITY [--period P] [--limit N] [--peers N]",
    .summary = "whom a city can learn from where it is weakest",
    .help =
        "For city CITY's focus areas whose score is below the network's median\n"
        "in period P, weakest first, lists the cities that lead there (a score\n"
        "at or above the upper quartile of the network's, and above CITY's),\n"
        "best first, with their scores and rank, and for each the indicators\n"
        "where it scores higher than CITY (largest weighted gap first), then\n"
        "those it reports and CITY does not. Default period: the one rank\n"
        "chooses, or CITY's latest before it. See docs/ANALYSIS.md.\n\n"
        "Options:\n"
        "  --period P   the period (year)\n"
        "  --limit N    at most N focus areas (default 3)\n"
        "  --peers N    at most N leading cities per focus area (default 3)",
    .pos = {"CITY"},
    .run = s_peers,
};
