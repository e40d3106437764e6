/* The report model: building it city by city, the league order, the
 * network's medians and what is missing for the round (glci_report.h).
 * Lights, peers and trends are the analysis module's (glci_analysis.h);
 * the model only copies them in, and its medians are glci_median's. */
#include "glci_report.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

const char *glci_report_strerror(int code)
{
    switch (code) {
    case GLCI_REPORT_OK:        return "success";
    case GLCI_REPORT_EIO:       return "cannot write the output";
    case GLCI_REPORT_ENOTEMPTY: return "the output folder holds other files";
    case GLCI_REPORT_EDRAW:     return "drawing failed";
    case GLCI_REPORT_EXLSX:     return "cannot write the workbook";
    case GLCI_REPORT_EINVAL:    return "invalid argument";
    default:                    return "unknown report error";
    }
}

void glci_report_init(glci_report_t *r, const glci_framework_t *fw, int32_t period,
                      int32_t first_period, int64_t generated)
{
    assert(fw && first_period <= period);
    memset(r, 0, sizeof *r);
    r->fw = fw;
    r->period = period;
    r->first_period = first_period;
    r->n_periods = (size_t)(period - first_period) + 1;
    r->generated = generated;
    r->focus_median = glci_xcalloc(fw->n_focus ? fw->n_focus : 1, sizeof *r->focus_median);
    r->area_median = glci_xcalloc(fw->n_areas ? fw->n_areas : 1, sizeof *r->area_median);
    r->index_median = glci_xcalloc(r->n_periods, sizeof *r->index_median);
}

static void s_peers_release(glci_report_city_t *c)
{
    for (size_t f = 0; f < c->n_peer_focus; f++) {
        glci_report_peer_focus_t *pf = &c->peer_focus[f];
        for (size_t p = 0; p < pf->n_peers; p++) {
            free(pf->peers[p].city);
            free(pf->peers[p].name);
            free(pf->peers[p].ind);
        }
        free(pf->peers);
    }
    free(c->peer_focus);
    c->peer_focus = NULL;
    c->n_peer_focus = 0;
}

static void s_city_release(glci_report_city_t *c)
{
    free(c->id);
    free(c->name);
    free(c->country);
    free(c->areas);
    free(c->focus);
    free(c->ind);
    free(c->trend);
    free(c->round_period);
    free(c->round_cells);
    s_peers_release(c);
}

void glci_report_release(glci_report_t *r)
{
    for (size_t i = 0; i < r->n_cities; i++)
        s_city_release(&r->cities[i]);
    free(r->cities);
    free(r->league);
    free(r->focus_median);
    free(r->area_median);
    free(r->index_median);
    memset(r, 0, sizeof *r);
}

glci_report_city_t *glci_report_add_city(glci_report_t *r, const char *id,
                                         const char *name, const char *country)
{
    assert(id && name && country);
    assert(r->n_cities == 0 || strcmp(r->cities[r->n_cities - 1].id, id) < 0);
    if (r->n_cities == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->cities = glci_xrealloc(r->cities, r->cap * sizeof *r->cities);
    }
    const glci_framework_t *fw = r->fw;
    glci_report_city_t *c = &r->cities[r->n_cities++];
    memset(c, 0, sizeof *c);
    c->id = glci_xstrdup(id);
    c->name = glci_xstrdup(name);
    c->country = glci_xstrdup(country);
    c->areas = glci_xcalloc(fw->n_areas ? fw->n_areas : 1, sizeof *c->areas);
    c->focus = glci_xcalloc(fw->n_focus ? fw->n_focus : 1, sizeof *c->focus);
    c->ind = glci_xcalloc(fw->n_ind ? fw->n_ind : 1, sizeof *c->ind);
    c->trend = glci_xcalloc(r->n_periods, sizeof *c->trend);
    return c;
}

static int s_city_id_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const glci_report_city_t *)elem)->id);
}

glci_report_city_t *glci_report_find(const glci_report_t *r, const char *id)
{
    if (!id || r->n_cities == 0)
        return NULL;
    return bsearch(id, r->cities, r->n_cities, sizeof *r->cities, s_city_id_cmp);
}

void glci_report_set_result(const glci_report_t *r, glci_report_city_t *c,
                            const glci_result_t *res, int ranked, uint32_t rank)
{
    const glci_framework_t *fw = r->fw;
    assert(res->period == r->period);
    c->has_result = 1;
    c->ranked = ranked != 0;
    c->rank = ranked ? rank : 0;
    c->index = (glci_report_score_t){res->index, res->has_index != 0};
    c->coverage = res->coverage;
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        const glci_node_t *n = glci_result_area_c(fw, res, a);
        c->areas[a] = (glci_report_score_t){n->score, n->present != 0};
    }
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_node_t *n = glci_result_focus_c(fw, res, f);
        c->focus[f] = (glci_report_score_t){n->score, n->present != 0};
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_slot_t *s = glci_result_slot_c(fw, res, i);
        glci_report_ind_t *d = &c->ind[i];
        d->present = s->present != 0;
        d->value = s->present ? s->value : 0.0;
        d->score = s->present ? s->score : 0.0;
        d->period = s->present ? s->period : 0;
        d->carried = s->present && s->period < r->period;
    }
    glci_report_set_trend(r, c, r->period, res->has_index != 0, res->index);
}

void glci_report_set_trend(const glci_report_t *r, glci_report_city_t *c, int32_t period,
                           int has_index, double index)
{
    if (period < r->first_period || period > r->period)
        return;
    c->trend[period - r->first_period] = (glci_report_score_t){has_index ? index : 0.0,
                                                               has_index != 0};
}

void glci_report_set_peers(const glci_report_t *r, glci_report_city_t *c,
                           const glci_peers_t *p, const glci_city_result_t *cities)
{
    s_peers_release(c);
    c->n_peer_focus = p->n_focus;
    c->peer_focus = glci_xcalloc(p->n_focus ? p->n_focus : 1, sizeof *c->peer_focus);
    for (size_t k = 0; k < p->n_focus; k++) {
        const glci_peer_focus_t *from = &p->focus[k];
        glci_report_peer_focus_t *to = &c->peer_focus[k];
        to->focus = from->focus;
        to->score = from->score;
        to->median = from->median;
        to->n_scored = from->n_scored;
        to->n_peers = from->n_peers;
        to->peers = glci_xcalloc(from->n_peers ? from->n_peers : 1, sizeof *to->peers);
        for (size_t j = 0; j < from->n_peers; j++) {
            const glci_peer_t *pe = &from->peers[j];
            const char *id = cities[pe->city].city;
            const glci_report_city_t *in = glci_report_find(r, id);
            glci_report_peer_t *d = &to->peers[j];
            d->city = glci_xstrdup(id);
            d->name = glci_xstrdup(in ? in->name : id);
            d->score = pe->score;
            d->rank = pe->rank;
            d->n_ind = pe->n_ind;
            d->ind = glci_xcalloc(pe->n_ind ? pe->n_ind : 1, sizeof *d->ind);
            if (pe->n_ind)
                memcpy(d->ind, pe->ind, pe->n_ind * sizeof *d->ind);
        }
    }
}

void glci_report_set_rounds(const glci_report_t *r, glci_report_city_t *c,
                            const glci_result_t *const *rounds,
                            const glci_trend_cell_t *cells, size_t n)
{
    size_t nodes = glci_trend_n_nodes(r->fw);
    free(c->round_period);
    free(c->round_cells);
    c->n_rounds = n;
    c->round_period = glci_xcalloc(n ? n : 1, sizeof *c->round_period);
    c->round_cells = glci_xcalloc(n ? n * nodes : 1, sizeof *c->round_cells);
    for (size_t k = 0; k < n; k++) {
        assert(rounds[k]->period <= r->period);
        c->round_period[k] = rounds[k]->period;
    }
    if (n)
        memcpy(c->round_cells, cells, n * nodes * sizeof *cells);
}

const glci_trend_cell_t *glci_report_round_cell(const glci_report_t *r,
                                                const glci_report_city_t *c, size_t k,
                                                size_t node)
{
    size_t nodes = glci_trend_n_nodes(r->fw);
    assert(k < c->n_rounds && node < nodes);
    return &c->round_cells[k * nodes + node];
}

const glci_trend_cell_t *glci_report_trend_latest(const glci_report_t *r,
                                                  const glci_report_city_t *c, size_t node)
{
    return c->n_rounds ? glci_report_round_cell(r, c, c->n_rounds - 1, node) : NULL;
}

/* ---- League order and medians ------------------------------------------ */

static int s_league_class(const glci_report_city_t *c)
{
    return c->ranked ? 0 : c->has_result ? 1 : 2;
}

static int s_league_cmp(const void *a, const void *b)
{
    const glci_report_city_t *x = *(const glci_report_city_t *const *)a;
    const glci_report_city_t *y = *(const glci_report_city_t *const *)b;
    int cx = s_league_class(x), cy = s_league_class(y);
    if (cx != cy)
        return cx - cy;
    if (cx == 0 && x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The network's median of the n values in v (sorted in place), absent when
 * no city has the score. */
static glci_report_score_t s_median(double *v, size_t n)
{
    if (n == 0)
        return (glci_report_score_t){0.0, 0};
    return (glci_report_score_t){glci_median(v, n), 1};
}

void glci_report_finish(glci_report_t *r)
{
    const glci_framework_t *fw = r->fw;
    free(r->league);
    r->league = glci_xcalloc(r->n_cities ? r->n_cities : 1, sizeof *r->league);
    const glci_report_city_t **order = glci_xcalloc(r->n_cities ? r->n_cities : 1,
                                                    sizeof *order);
    for (size_t i = 0; i < r->n_cities; i++)
        order[i] = &r->cities[i];
    qsort(order, r->n_cities, sizeof *order, s_league_cmp);
    for (size_t i = 0; i < r->n_cities; i++)
        r->league[i] = (size_t)(order[i] - r->cities);
    free(order);

    r->n_ranked = r->n_with_result = 0;
    r->n_values = r->n_synthetic = 0;
    for (size_t i = 0; i < r->n_cities; i++) {
        const glci_report_city_t *c = &r->cities[i];
        r->n_ranked += c->ranked != 0;
        r->n_with_result += c->has_result != 0;
        r->n_values += c->n_values;
        r->n_synthetic += c->n_synthetic;
    }

    double *v = glci_xcalloc(r->n_cities ? r->n_cities : 1, sizeof *v);
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_cities; i++)
            if (r->cities[i].has_result && r->cities[i].focus[f].present)
                v[n++] = r->cities[i].focus[f].score;
        r->focus_median[f] = s_median(v, n);
    }
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_cities; i++)
            if (r->cities[i].has_result && r->cities[i].areas[a].present)
                v[n++] = r->cities[i].areas[a].score;
        r->area_median[a] = s_median(v, n);
    }
    for (size_t p = 0; p < r->n_periods; p++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_cities; i++)
            if (r->cities[i].trend[p].present)
                v[n++] = r->cities[i].trend[p].score;
        r->index_median[p] = s_median(v, n);
    }
    free(v);
}

size_t glci_report_missing(const glci_report_t *r, const glci_report_city_t *c,
                           uint32_t *out)
{
    size_t n = 0;
    for (uint32_t i = 0; i < r->fw->n_ind; i++)
        if (!c->ind[i].present || c->ind[i].carried)
            out[n++] = i;
    return n;
}

int glci_report_source_synthetic(const char *source)
{
    static const char word[] = "synthetic";
    if (!source)
        return 0;
    while (*source == ' ' || *source == '\t')
        source++;
    for (size_t k = 0; k < sizeof word - 1; k++)
        if (tolower((unsigned char)source[k]) != word[k])
            return 0;
    /* the whole word: "synthetic", "synthetic demo data", not "synthetics" */
    unsigned char next = (unsigned char)source[sizeof word - 1];
    return !isalnum(next);
}
