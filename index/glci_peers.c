/* Peers (SPEC §8): for a city's weakest focus areas, the cities that lead
 * there and the indicators that make the difference, so a city knows whom
 * to learn from and on what.
 *
 * Definitions (docs/ANALYSIS.md says why):
 * - weak: the city's focus-area score is below the median of the scores of
 *   every city with a score there in the period (the city included; the
 *   mean of the two middle scores when their number is even);
 * - leading: a score at or above the upper quartile there (nearest rank:
 *   the ceil(3n/4)-th smallest score, a score some city has) and above the
 *   city's own, so a "leader" is never merely a little better;
 * - making the difference: an indicator of the focus area where the peer
 *   scores higher than the city, ordered by its weighted gap (the weight
 *   times the score difference, the indicator's share of the difference in
 *   the focus-area score when both report the same indicators), and after
 *   those, the indicators the peer reports and the city does not. */
#include "glci_analysis.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

typedef struct {
    uint32_t focus;
    double score, median;
    size_t n_scored;
} s_weak_t;

typedef struct {
    size_t city;
    double score;
    const char *id;
} s_entry_t;

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int s_cmp_weak(const void *a, const void *b)
{
    const s_weak_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return (x->focus > y->focus) - (x->focus < y->focus);
}

static int s_cmp_entry(const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    return glci_rank_cmp(x->score, x->id, y->score, y->id);
}

/* An indicator that makes the difference, with its sort key. */
typedef struct {
    glci_peer_ind_t d;
    double weighted;            /* weight * gap; only with city_present */
} s_ind_t;

static int s_cmp_ind(const void *a, const void *b)
{
    const s_ind_t *x = a, *y = b;
    if (x->d.city_present != y->d.city_present)
        return x->d.city_present ? -1 : 1;
    if (x->d.city_present && x->weighted != y->weighted)
        return x->weighted > y->weighted ? -1 : 1;
    return (x->d.ind > y->d.ind) - (x->d.ind < y->d.ind);
}

/* The indicators of focus f where peer leads me. */
static void s_differences(const glci_framework_t *fw, uint32_t f, const glci_result_t *me,
                          const glci_result_t *peer, glci_peer_t *out)
{
    const glci_focus_t *fo = &fw->focus[f];
    s_ind_t *tmp = glci_xcalloc(fo->n_ind ? fo->n_ind : 1, sizeof *tmp);
    size_t n = 0;
    for (uint32_t k = 0; k < fo->n_ind; k++) {
        uint32_t i = fo->ind[k];
        const glci_slot_t *ps = glci_result_slot_c(fw, peer, i);
        const glci_slot_t *ms = glci_result_slot_c(fw, me, i);
        if (!ps->present)
            continue;
        if (ms->present && !(ps->score > ms->score))
            continue;
        s_ind_t *t = &tmp[n++];
        t->d.ind = i;
        t->d.value = ps->value;
        t->d.score = ps->score;
        t->d.city_present = ms->present != 0;
        if (ms->present) {
            t->d.city_value = ms->value;
            t->d.city_score = ms->score;
            t->d.gap = ps->score - ms->score;
            t->weighted = fw->ind[i].weight * t->d.gap;
        }
    }
    qsort(tmp, n, sizeof *tmp, s_cmp_ind);
    out->n_ind = n;
    out->ind = glci_xcalloc(n ? n : 1, sizeof *out->ind);
    for (size_t k = 0; k < n; k++)
        out->ind[k] = tmp[k].d;
    free(tmp);
}

/* One focus area of the network: the cities with a score there in rank
 * order (score descending, then id), their ranks, the median and the upper
 * quartile. */
typedef struct {
    size_t n;                   /* cities with a score */
    s_entry_t *e;               /* in rank order */
    uint32_t *rank;             /* rank of e[k], ties shared */
    double median, q3;          /* when n > 0 */
} s_focus_net_t;

struct glci_peers_net {
    const glci_framework_t *fw;
    const glci_city_result_t *cities;
    size_t n;
    s_focus_net_t *focus;       /* fw->n_focus */
};

int glci_peers_net_new(const glci_framework_t *fw, const glci_city_result_t *cities, size_t n,
                       glci_peers_net_t **out)
{
    glci_peers_net_t *net = glci_xcalloc(1, sizeof *net);
    net->fw = fw;
    net->cities = cities;
    net->n = n;
    net->focus = glci_xcalloc(fw->n_focus ? fw->n_focus : 1, sizeof *net->focus);
    double *scores = glci_xmalloc((n ? n : 1) * sizeof *scores);
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        s_focus_net_t *fn = &net->focus[f];
        fn->e = glci_xmalloc((n ? n : 1) * sizeof *fn->e);
        for (size_t c = 0; c < n; c++) {
            const glci_node_t *node = glci_result_focus_c(fw, cities[c].result, f);
            if (node->present)
                fn->e[fn->n++] = (s_entry_t){.city = c, .score = node->score,
                                             .id = cities[c].city};
        }
        qsort(fn->e, fn->n, sizeof *fn->e, s_cmp_entry);
        fn->rank = glci_xmalloc((fn->n ? fn->n : 1) * sizeof *fn->rank);
        for (size_t k = 0; k < fn->n; k++)
            scores[k] = fn->e[k].score;
        glci_rank_assign(scores, fn->n, fn->rank);
        if (fn->n == 0)
            continue;
        /* The ceil(3n/4)-th smallest is, counting from the top, at n - that. */
        fn->q3 = scores[fn->n - (3 * fn->n + 3) / 4];
        fn->median = glci_median(scores, fn->n);
    }
    free(scores);
    *out = net;
    return GLCI_INDEX_OK;
}

void glci_peers_net_free(glci_peers_net_t **self)
{
    if (!self || !*self)
        return;
    glci_peers_net_t *net = *self;
    for (uint32_t f = 0; f < net->fw->n_focus; f++) {
        free(net->focus[f].e);
        free(net->focus[f].rank);
    }
    free(net->focus);
    free(net);
    *self = NULL;
}

/* The leaders of focus out->focus, above the city's score out->score. */
static void s_leaders(const glci_peers_net_t *net, size_t self, size_t max_peers,
                      glci_peer_focus_t *out)
{
    const s_focus_net_t *fn = &net->focus[out->focus];
    out->peers = glci_xcalloc(max_peers < fn->n ? max_peers : fn->n, sizeof *out->peers);
    for (size_t k = 0; k < fn->n && out->n_peers < max_peers; k++) {
        const s_entry_t *e = &fn->e[k];
        if (e->score < fn->q3 || !(e->score > out->score))
            break;
        if (e->city == self)
            continue;
        glci_peer_t *p = &out->peers[out->n_peers++];
        p->city = e->city;
        p->score = e->score;
        p->rank = fn->rank[k];
        s_differences(net->fw, out->focus, net->cities[self].result,
                      net->cities[e->city].result, p);
    }
}

double glci_median(double *v, size_t n)
{
    assert(n > 0);
    qsort(v, n, sizeof *v, s_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int glci_peers_net_find(const glci_peers_net_t *net, size_t self, size_t max_focus,
                        size_t max_peers, glci_peers_t *out)
{
    memset(out, 0, sizeof *out);
    if (self >= net->n || max_focus == 0 || max_peers == 0)
        return GLCI_INDEX_EINVAL;
    const glci_framework_t *fw = net->fw;
    const glci_result_t *me = net->cities[self].result;
    s_weak_t *weak = glci_xcalloc(fw->n_focus ? fw->n_focus : 1, sizeof *weak);
    size_t n_weak = 0;
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_node_t *mine = glci_result_focus_c(fw, me, f);
        const s_focus_net_t *fn = &net->focus[f];
        /* fn->n >= 1 when the city has a score: it is one of them */
        if (!mine->present || !(mine->score < fn->median))
            continue;
        weak[n_weak++] = (s_weak_t){.focus = f, .score = mine->score, .median = fn->median,
                                    .n_scored = fn->n};
    }
    qsort(weak, n_weak, sizeof *weak, s_cmp_weak);
    out->n_focus = n_weak < max_focus ? n_weak : max_focus;
    out->focus = glci_xcalloc(out->n_focus ? out->n_focus : 1, sizeof *out->focus);
    for (size_t k = 0; k < out->n_focus; k++) {
        glci_peer_focus_t *pf = &out->focus[k];
        pf->focus = weak[k].focus;
        pf->score = weak[k].score;
        pf->median = weak[k].median;
        pf->n_scored = weak[k].n_scored;
        s_leaders(net, self, max_peers, pf);
    }
    free(weak);
    return GLCI_INDEX_OK;
}

int glci_peers_find(const glci_framework_t *fw, const glci_city_result_t *cities, size_t n,
                    size_t self, size_t max_focus, size_t max_peers, glci_peers_t *out)
{
    memset(out, 0, sizeof *out);
    if (self >= n || max_focus == 0 || max_peers == 0)
        return GLCI_INDEX_EINVAL;
    glci_peers_net_t *net = NULL;
    glci_peers_net_new(fw, cities, n, &net);
    int rc = glci_peers_net_find(net, self, max_focus, max_peers, out);
    glci_peers_net_free(&net);
    return rc;
}

void glci_peers_release(glci_peers_t *p)
{
    for (size_t k = 0; p->focus && k < p->n_focus; k++) {
        for (size_t j = 0; j < p->focus[k].n_peers; j++)
            free(p->focus[k].peers[j].ind);
        free(p->focus[k].peers);
    }
    free(p->focus);
    memset(p, 0, sizeof *p);
}
