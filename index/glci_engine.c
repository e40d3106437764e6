/* The scoring engine of SPEC §3: the flat result block, the full and the
 * incremental computation, and the rank order helpers.
 *
 * Exactness: both entry points fill indicator slots and then recompute each
 * node from its children with the same static functions (s_focus, s_area,
 * s_top), summing in framework order. Nothing is kept as a running sum, so
 * the incremental result is the full result bit for bit, whatever order the
 * observations arrive in. The only running quantity is the integer count of
 * indicators with a value, which is exact.
 *
 * Cost of glci_index_apply: one slot, the slots of one focus area, the focus
 * nodes of one area and the area nodes; independent of the number of
 * indicators and focus areas elsewhere. Many updates of one result (the
 * store's group of a transaction) set their slots first
 * (glci_index_apply_slot) and recompute each focus area they touched once
 * (glci_index_refresh): the same functions on the same slots, so the same
 * doubles, at a cost per focus area rather than per update. */
#include "glci_index.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "glci_text.h"

/* The block must have no padding: the store writes it as is and compares
 * results with memcmp. */
_Static_assert(sizeof(glci_result_t) == 32, "glci_result_t has padding");
_Static_assert(sizeof(glci_node_t) == 16, "glci_node_t has padding");
_Static_assert(sizeof(glci_slot_t) == 24, "glci_slot_t has padding");

size_t glci_result_size(const glci_framework_t *fw)
{
    return sizeof(glci_result_t) + (size_t)(fw->n_areas + fw->n_focus) * sizeof(glci_node_t) +
           (size_t)fw->n_ind * sizeof(glci_slot_t);
}

void glci_result_init(const glci_framework_t *fw, glci_result_t *r, int32_t period)
{
    memset(r, 0, glci_result_size(fw));
    r->period = period;
}

static glci_node_t *s_areas(glci_result_t *r)
{
    return (glci_node_t *)(void *)(r + 1);
}

glci_node_t *glci_result_area(const glci_framework_t *fw, glci_result_t *r, uint32_t a)
{
    assert(a < fw->n_areas);
    return s_areas(r) + a;
}

glci_node_t *glci_result_focus(const glci_framework_t *fw, glci_result_t *r, uint32_t f)
{
    assert(f < fw->n_focus);
    return s_areas(r) + fw->n_areas + f;
}

glci_slot_t *glci_result_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t i)
{
    assert(i < fw->n_ind);
    return (glci_slot_t *)(void *)(s_areas(r) + fw->n_areas + fw->n_focus) + i;
}

const glci_node_t *glci_result_area_c(const glci_framework_t *fw, const glci_result_t *r,
                                      uint32_t a)
{
    return glci_result_area(fw, (glci_result_t *)r, a);
}

const glci_node_t *glci_result_focus_c(const glci_framework_t *fw, const glci_result_t *r,
                                       uint32_t f)
{
    return glci_result_focus(fw, (glci_result_t *)r, f);
}

const glci_slot_t *glci_result_slot_c(const glci_framework_t *fw, const glci_result_t *r,
                                      uint32_t i)
{
    return glci_result_slot(fw, (glci_result_t *)r, i);
}

/* ---- Naming a difference --------------------------------------------- */

/* One field of glci_result_diff: a double that is "none" unless has_x; a
 * difference in presence or in any bit of the number counts. */
static int s_diff_num(const char *field, int has_a, double a, int has_b, double b,
                      const char *b_name, char *buf, size_t len)
{
    if (has_a == has_b && memcmp(&a, &b, sizeof a) == 0)
        return 0;
    char x[40] = "none", y[40] = "none";
    /* both absent yet different bits: show the bits' numbers */
    int show = has_a == has_b;
    if (has_a || show)
        glci_format_double(a, x, sizeof x);
    if (has_b || show)
        glci_format_double(b, y, sizeof y);
    snprintf(buf, len, "%s %s, %s %s", field, x, b_name, y);
    return 1;
}

static int s_diff_u32(const char *field, int64_t a, int64_t b, const char *b_name,
                      char *buf, size_t len)
{
    if (a == b)
        return 0;
    snprintf(buf, len, "%s %lld, %s %lld", field, (long long)a, b_name, (long long)b);
    return 1;
}

static int s_diff_node(const char *kind, const char *id, const glci_node_t *x,
                       const glci_node_t *y, const char *b_name, char *buf, size_t len)
{
    char field[96];
    snprintf(field, sizeof field, "%s %s score", kind, id);
    if (s_diff_num(field, x->present != 0, x->score, y->present != 0, y->score, b_name, buf,
                   len))
        return 1;
    snprintf(field, sizeof field, "%s %s present", kind, id);
    if (s_diff_u32(field, x->present, y->present, b_name, buf, len))
        return 1;
    snprintf(field, sizeof field, "%s %s reserved", kind, id);
    return s_diff_u32(field, x->reserved, y->reserved, b_name, buf, len);
}

int glci_result_diff(const glci_framework_t *fw, const glci_result_t *a,
                     const glci_result_t *b, const char *b_name, char *buf, size_t len)
{
    char field[96];
    if (len)
        buf[0] = '\0';
    if (s_diff_num("index", a->has_index != 0, a->index, b->has_index != 0, b->index, b_name,
                   buf, len) ||
        s_diff_u32("has_index", a->has_index, b->has_index, b_name, buf, len) ||
        s_diff_num("coverage", 1, a->coverage, 1, b->coverage, b_name, buf, len) ||
        s_diff_u32("n_values", a->n_values, b->n_values, b_name, buf, len) ||
        s_diff_u32("period", a->period, b->period, b_name, buf, len) ||
        s_diff_u32("reserved", a->reserved, b->reserved, b_name, buf, len))
        return 1;
    for (uint32_t k = 0; k < fw->n_areas; k++)
        if (s_diff_node("area", fw->areas[k].id, glci_result_area_c(fw, a, k),
                        glci_result_area_c(fw, b, k), b_name, buf, len))
            return 1;
    for (uint32_t k = 0; k < fw->n_focus; k++)
        if (s_diff_node("focus", fw->focus[k].id, glci_result_focus_c(fw, a, k),
                        glci_result_focus_c(fw, b, k), b_name, buf, len))
            return 1;
    for (uint32_t k = 0; k < fw->n_ind; k++) {
        const glci_slot_t *x = glci_result_slot_c(fw, a, k), *y = glci_result_slot_c(fw, b, k);
        const char *id = fw->ind[k].id;
        int hx = x->present != 0, hy = y->present != 0;
        snprintf(field, sizeof field, "indicator %s value", id);
        if (s_diff_num(field, hx, x->value, hy, y->value, b_name, buf, len))
            return 1;
        snprintf(field, sizeof field, "indicator %s present", id);
        if (s_diff_u32(field, x->present, y->present, b_name, buf, len))
            return 1;
        snprintf(field, sizeof field, "indicator %s period", id);
        if (s_diff_u32(field, x->period, y->period, b_name, buf, len))
            return 1;
        snprintf(field, sizeof field, "indicator %s score", id);
        if (s_diff_num(field, hx, x->score, hy, y->score, b_name, buf, len))
            return 1;
    }
    return 0;
}

double glci_indicator_score(const glci_indicator_t *ind, double v)
{
    double s = ind->direction == GLCI_DIR_HIGHER
                   ? 100.0 * (v - ind->lower) / (ind->upper - ind->lower)
                   : 100.0 * (ind->upper - v) / (ind->upper - ind->lower);
    if (!(s > 0.0))
        return 0.0;             /* also turns -0.0 into 0.0 */
    if (s > 100.0)
        return 100.0;
    return s;
}

/* ---- Node recomputation: the one code path of both entry points -------- */

static void s_set_node(glci_node_t *n, double sum, double wsum, int any)
{
    n->score = any ? sum / wsum : 0.0;
    n->present = any ? 1u : 0u;
    n->reserved = 0;
}

static void s_focus(const glci_framework_t *fw, glci_result_t *r, uint32_t f)
{
    const glci_focus_t *fo = &fw->focus[f];
    const glci_slot_t *slots = glci_result_slot(fw, r, 0);
    double sum = 0.0, wsum = 0.0;
    int any = 0;
    for (uint32_t k = 0; k < fo->n_ind; k++) {
        uint32_t i = fo->ind[k];
        if (slots[i].present) {
            double w = fw->ind[i].weight;
            sum += w * slots[i].score;
            wsum += w;
            any = 1;
        }
    }
    s_set_node(glci_result_focus(fw, r, f), sum, wsum, any);
}

static void s_area(const glci_framework_t *fw, glci_result_t *r, uint32_t a)
{
    const glci_area_t *ar = &fw->areas[a];
    const glci_node_t *nodes = glci_result_focus(fw, r, 0);
    double sum = 0.0, wsum = 0.0;
    int any = 0;
    for (uint32_t k = 0; k < ar->n_focus; k++) {
        uint32_t f = ar->focus[k];
        if (nodes[f].present) {
            double w = fw->focus[f].weight;
            sum += w * nodes[f].score;
            wsum += w;
            any = 1;
        }
    }
    s_set_node(glci_result_area(fw, r, a), sum, wsum, any);
}

/* Coverage and the index from n_values and the area nodes. */
static void s_top(const glci_framework_t *fw, glci_result_t *r)
{
    const glci_node_t *areas = s_areas(r);
    r->coverage = fw->n_ind ? (double)r->n_values / (double)fw->n_ind : 0.0;
    r->has_index = 0;
    r->index = 0.0;
    r->reserved = 0;
    double wsum = 0.0;
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        if (!areas[a].present)
            return;
        wsum += fw->areas[a].weight;
    }
    if (!(r->coverage >= fw->min_coverage))
        return;
    double v;
    if (fw->aggregation == GLCI_AGG_GEOMETRIC) {
        v = 1.0;
        for (uint32_t a = 0; a < fw->n_areas; a++) {
            double s = areas[a].score < 1.0 ? 1.0 : areas[a].score;
            v *= pow(s, fw->areas[a].weight / wsum);
        }
    } else {
        v = 0.0;
        for (uint32_t a = 0; a < fw->n_areas; a++)
            v += fw->areas[a].weight * areas[a].score;
        v /= wsum;
    }
    r->index = v;
    r->has_index = 1;
}

static void s_set_slot(const glci_framework_t *fw, glci_slot_t *s, uint32_t i,
                       int32_t p, double v)
{
    s->value = v == 0.0 ? 0.0 : v;
    s->score = glci_indicator_score(&fw->ind[i], v);
    s->period = p;
    s->present = 1;
}

/* The path above indicator ind: its focus area, that area, the index. */
static void s_path(const glci_framework_t *fw, glci_result_t *r, uint32_t ind)
{
    uint32_t f = fw->ind[ind].focus;
    s_focus(fw, r, f);
    s_area(fw, r, fw->focus[f].area);
    s_top(fw, r);
}

/* ---- Entry points ------------------------------------------------------ */

int glci_index_full(const glci_framework_t *fw, glci_obs_lookup_fn lookup,
                    void *ctx, int32_t period, glci_result_t *out)
{
    glci_result_init(fw, out, period);
    int32_t lo = period - fw->carry_forward;
    glci_slot_t *slots = glci_result_slot(fw, out, 0);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        int32_t p = 0;
        double v = 0.0;
        int rc = lookup(ctx, i, lo, period, &p, &v);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        assert(p >= lo && p <= period);
        s_set_slot(fw, &slots[i], i, p, v);
        out->n_values++;
    }
    for (uint32_t f = 0; f < fw->n_focus; f++)
        s_focus(fw, out, f);
    for (uint32_t a = 0; a < fw->n_areas; a++)
        s_area(fw, out, a);
    s_top(fw, out);
    return 0;
}

void glci_index_affected(const glci_framework_t *fw, int32_t p, int32_t *first,
                         int32_t *last)
{
    *first = p;
    *last = p > fw->last_period - fw->carry_forward ? fw->last_period
                                                    : p + fw->carry_forward;
    if (*last < p)
        *last = p;
}

/* The slot half of glci_index_apply: 1 if the slot (and n_values)
 * changed; the nodes above it are left for s_path or glci_index_refresh. */
static int s_apply_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t ind, int32_t p,
                        double v)
{
    assert(ind < fw->n_ind);
    assert(p <= r->period && r->period - p <= fw->carry_forward);
    glci_slot_t *s = glci_result_slot(fw, r, ind);
    if (s->present && s->period > p)
        return 0;               /* a later observation serves this period */
    glci_slot_t before = *s;
    s_set_slot(fw, s, ind, p, v);
    if (memcmp(&before, s, sizeof before) == 0)
        return 0;               /* same value again: nothing can change */
    if (!before.present)
        r->n_values++;
    return 1;
}

/* The slot half of glci_index_reset. */
static int s_reset_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t ind, int has,
                        int32_t p, double v)
{
    assert(ind < fw->n_ind);
    assert(!has || (p <= r->period && r->period - p <= fw->carry_forward));
    glci_slot_t *s = glci_result_slot(fw, r, ind);
    glci_slot_t before = *s;
    if (has)
        s_set_slot(fw, s, ind, p, v);
    else
        memset(s, 0, sizeof *s);
    if (memcmp(&before, s, sizeof before) == 0)
        return 0;
    if (before.present && !s->present)
        r->n_values--;
    else if (!before.present && s->present)
        r->n_values++;
    return 1;
}

int glci_index_apply(const glci_framework_t *fw, glci_result_t *r,
                     uint32_t ind, int32_t p, double v)
{
    if (!s_apply_slot(fw, r, ind, p, v))
        return 0;
    s_path(fw, r, ind);
    return 1;
}

int glci_index_reset(const glci_framework_t *fw, glci_result_t *r, uint32_t ind, int has,
                     int32_t p, double v)
{
    if (!s_reset_slot(fw, r, ind, has, p, v))
        return 0;
    s_path(fw, r, ind);
    return 1;
}

int glci_index_apply_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t ind,
                          int32_t p, double v)
{
    return s_apply_slot(fw, r, ind, p, v);
}

int glci_index_reset_slot(const glci_framework_t *fw, glci_result_t *r, uint32_t ind, int has,
                          int32_t p, double v)
{
    return s_reset_slot(fw, r, ind, has, p, v);
}

void glci_index_refresh(const glci_framework_t *fw, glci_result_t *r, const uint32_t *focus,
                        size_t n)
{
    for (size_t k = 0; k < n; k++)
        s_focus(fw, r, focus[k]);
    /* an area once per run of its focus areas: the list is usually in
     * framework order, where an area's focus areas are neighbours */
    for (size_t k = 0; k < n; k++) {
        uint32_t a = fw->focus[focus[k]].area;
        if (k == 0 || a != fw->focus[focus[k - 1]].area)
            s_area(fw, r, a);
    }
    s_top(fw, r);
}

/* Prefetches every cache line holding a byte of r[lo, hi), once. */
static void s_prefetch_range(const glci_result_t *r, size_t lo, size_t hi)
{
    const char *p = (const char *)r + lo, *end = (const char *)r + hi;
    for (p -= (uintptr_t)p & 63u; p < end; p += 64)
        __builtin_prefetch(p, 1, 3);
}

/* Three ranges of lines, not one prefetch per member: the members of an
 * area or a focus area are next to each other in framework order, so the
 * span from the first to the last is what the update reads (in a
 * framework that interleaves them, a few lines more: still a hint inside
 * the block). A prefetch per member asked for most lines two or three
 * times and cost more than the misses it hid when the block was cached. */
void glci_index_prefetch(const glci_framework_t *fw, const glci_result_t *r, uint32_t ind)
{
    assert(ind < fw->n_ind);
    size_t nodes = sizeof(glci_result_t) + (size_t)fw->n_areas * sizeof(glci_node_t);
    size_t slots = nodes + (size_t)fw->n_focus * sizeof(glci_node_t);
    uint32_t f = fw->ind[ind].focus;
    const glci_area_t *ar = &fw->areas[fw->focus[f].area];
    const glci_focus_t *fo = &fw->focus[f];
    s_prefetch_range(r, 0, nodes);     /* header and area nodes */
    s_prefetch_range(r, nodes + (size_t)ar->focus[0] * sizeof(glci_node_t),
                     nodes + ((size_t)ar->focus[ar->n_focus - 1] + 1) * sizeof(glci_node_t));
    s_prefetch_range(r, slots + (size_t)fo->ind[0] * sizeof(glci_slot_t),
                     slots + ((size_t)fo->ind[fo->n_ind - 1] + 1) * sizeof(glci_slot_t));
}

/* ---- Rank order ----------------------------------------------------------- */

int glci_rank_cmp(double a_score, const char *a_city, double b_score, const char *b_city)
{
    if (a_score > b_score)
        return -1;
    if (a_score < b_score)
        return 1;
    int c = strcmp(a_city, b_city);
    return (c > 0) - (c < 0);
}

uint32_t glci_rank_at(size_t pos, double score, double prev_score, uint32_t prev_rank)
{
    if (pos > 1 && score == prev_score)
        return prev_rank;
    return (uint32_t)pos;
}

void glci_rank_assign(const double *sorted_desc, size_t n, uint32_t *ranks)
{
    for (size_t k = 0; k < n; k++)
        ranks[k] = glci_rank_at(k + 1, sorted_desc[k], k ? sorted_desc[k - 1] : 0.0,
                                k ? ranks[k - 1] : 0);
}
