/* The dashboard of SPEC §8, in the manner of the SDG Index's: a traffic
 * light per indicator value against the framework's thresholds, and a
 * trend class per score between a city's reporting rounds. The thresholds
 * and their sources are in docs/ANALYSIS.md and docs/FRAMEWORK.md.
 *
 * Trends compare rounds, not periods: a period whose result only carries
 * earlier values repeats the previous round's scores, and counting it as a
 * round would split one change over two steps (a city reporting every two
 * years would show no change, then the whole change in one year). The
 * change is divided by the years between the two rounds, so annual and
 * biennial reporters are judged on the same per-year scale. */
#include "glci_analysis.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *glci_light_str(glci_light_t light)
{
    switch (light) {
    case GLCI_LIGHT_GREEN:  return "green";
    case GLCI_LIGHT_YELLOW: return "yellow";
    case GLCI_LIGHT_RED:    return "red";
    default:                return NULL;
    }
}

glci_light_t glci_light(const glci_indicator_t *ind, double v)
{
    if (!ind->has_lights)
        return GLCI_LIGHT_NONE;
    if (glci_indicator_better(ind, v, ind->green) >= 0)
        return GLCI_LIGHT_GREEN;
    if (glci_indicator_better(ind, v, ind->red) <= 0)
        return GLCI_LIGHT_RED;
    return GLCI_LIGHT_YELLOW;
}

glci_light_t glci_slot_light(const glci_indicator_t *ind, const glci_slot_t *s)
{
    return s->present ? glci_light(ind, s->value) : GLCI_LIGHT_NONE;
}

const char *glci_trend_str(glci_trend_t trend)
{
    switch (trend) {
    case GLCI_TREND_IMPROVING:  return "improving";
    case GLCI_TREND_STAGNATING: return "stagnating";
    case GLCI_TREND_DECLINING:  return "declining";
    default:                    return NULL;
    }
}

glci_trend_t glci_trend_classify(double per_year)
{
    if (per_year >= GLCI_TREND_RATE)
        return GLCI_TREND_IMPROVING;
    if (per_year <= -GLCI_TREND_RATE)
        return GLCI_TREND_DECLINING;
    return GLCI_TREND_STAGNATING;
}

void glci_trend_fmt(double v, char *buf, size_t len)
{
    /* Rounded rather than cut toward zero: a change is a difference of
     * doubles, and 50.3 - 50.0 is 0.29999999999999716, which a cut would
     * show as 0.29. Only the half-hundredth under a threshold is pulled
     * back, to the last hundredth below it. */
    char mag[32];
    double a = fabs(v);
    snprintf(mag, sizeof mag, "%.2f", a);
    if (a < GLCI_TREND_RATE && strtod(mag, NULL) >= GLCI_TREND_RATE)
        snprintf(mag, sizeof mag, "%.2f", (ceil(GLCI_TREND_RATE * 100.0) - 1.0) / 100.0);
    if (strcmp(mag, "0.00") == 0)
        snprintf(buf, len, "%s", mag);
    else
        snprintf(buf, len, "%c%s", v < 0 ? '-' : '+', mag);
}

int glci_result_is_round(const glci_framework_t *fw, const glci_result_t *r)
{
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_slot_t *s = glci_result_slot_c(fw, r, i);
        if (s->present && s->period == r->period)
            return 1;
    }
    return 0;
}

size_t glci_trend_n_nodes(const glci_framework_t *fw)
{
    return 1u + (size_t)fw->n_areas + fw->n_focus;
}

/* Score of node k of result r. */
static double s_node(const glci_framework_t *fw, const glci_result_t *r, size_t k,
                     int *present)
{
    const glci_node_t *n;
    if (k == 0) {
        *present = r->has_index != 0;
        return r->index;
    }
    if (k <= fw->n_areas)
        n = glci_result_area_c(fw, r, (uint32_t)(k - 1));
    else
        n = glci_result_focus_c(fw, r, (uint32_t)(k - 1 - fw->n_areas));
    *present = n->present != 0;
    return n->score;
}

void glci_trend_compute(const glci_framework_t *fw, const glci_result_t *const *rounds,
                        size_t n, glci_trend_cell_t *cells)
{
    size_t nodes = glci_trend_n_nodes(fw);
    for (size_t k = 0; k < n; k++) {
        assert(k == 0 || rounds[k - 1]->period < rounds[k]->period);
        for (size_t j = 0; j < nodes; j++) {
            glci_trend_cell_t *c = &cells[k * nodes + j];
            int present;
            double score = s_node(fw, rounds[k], j, &present);
            c->score = present ? score : 0.0;
            c->present = present;
            c->has_change = 0;
            c->previous = 0;
            c->change = c->per_year = 0.0;
            c->trend = GLCI_TREND_NONE;
            if (!present)
                continue;
            for (size_t e = k; e-- > 0;) {
                const glci_trend_cell_t *p = &cells[e * nodes + j];
                if (!p->present)
                    continue;
                c->has_change = 1;
                c->previous = rounds[e]->period;
                c->change = c->score - p->score;
                c->per_year = c->change / (double)(rounds[k]->period - rounds[e]->period);
                c->trend = glci_trend_classify(c->per_year);
                break;
            }
        }
    }
}
