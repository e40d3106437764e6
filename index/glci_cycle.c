/* The reporting cycle of SPEC §7 as pure rules (glci_index.h): which
 * periods are rounds and when they are due, a city's status for a round,
 * and the one rule every command follows when no period is given.
 * docs/CYCLE.md says the same for people. */
#include "glci_index.h"

#include <stdio.h>
#include <time.h>

#include "glci_text.h"

int32_t glci_utc_year(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return 0;
    return (int32_t)tm.tm_year + 1900;
}

int glci_round_is(const glci_framework_t *fw, int32_t P)
{
    return P >= fw->first_period && P <= fw->last_period &&
           (P - fw->first_period) % fw->cadence == 0;
}

/* The latest round at or before period y (y >= first_period). */
static int32_t s_round_at_or_before(const glci_framework_t *fw, int32_t y)
{
    return fw->first_period + (y - fw->first_period) / fw->cadence * fw->cadence;
}

int glci_round_current(const glci_framework_t *fw, int64_t now, int32_t *P)
{
    int32_t y = glci_utc_year(now) - 1;     /* the latest year that has ended */
    if (y < fw->first_period)
        return GLCI_INDEX_EINVAL;
    if (y > fw->last_period)
        y = fw->last_period;
    *P = s_round_at_or_before(fw, y);
    return 0;
}

int64_t glci_round_due(const glci_framework_t *fw, int32_t P)
{
    return glci_days_from_civil((int64_t)P + 1, (unsigned)fw->due_month,
                                (unsigned)fw->due_day) * 86400;
}

void glci_round_due_text(const glci_framework_t *fw, int32_t P, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d", (int)P + 1, (int)fw->due_month, (int)fw->due_day);
}

void glci_round_due_key(const glci_framework_t *fw, char *buf, size_t len)
{
    snprintf(buf, len, "%02d-%02d", (int)fw->due_month % 100, (int)fw->due_day % 100);
}

int glci_round_past_due(const glci_framework_t *fw, int32_t P, int64_t now)
{
    return now >= glci_round_due(fw, P) + 86400;
}

const char *glci_round_status_str(glci_round_status_t s)
{
    switch (s) {
    case GLCI_ROUND_COMPLETE: return "complete";
    case GLCI_ROUND_PARTIAL: return "partial";
    default: return "missing";
    }
}

/* Indicators of r holding a value of r's own period. */
static uint32_t s_own_values(const glci_framework_t *fw, const glci_result_t *r)
{
    const glci_slot_t *slots = glci_result_slot_c(fw, r, 0);
    uint32_t n = 0;
    for (uint32_t i = 0; i < fw->n_ind; i++)
        n += slots[i].present && slots[i].period == r->period;
    return n;
}

glci_round_status_t glci_round_status(const glci_framework_t *fw, const glci_result_t *r,
                                      uint32_t *reported)
{
    uint32_t n = r ? s_own_values(fw, r) : 0;
    if (reported)
        *reported = n;
    if (n == 0)
        return GLCI_ROUND_MISSING;
    return n == fw->n_ind ? GLCI_ROUND_COMPLETE : GLCI_ROUND_PARTIAL;
}

/* ---- the default period ---------------------------------------------------- */

int glci_result_reported(const glci_framework_t *fw, const glci_result_t *r)
{
    if (!r->has_index)
        return 0;
    const glci_slot_t *slots = glci_result_slot_c(fw, r, 0);
    for (uint32_t i = 0; i < fw->n_ind; i++)
        if (slots[i].present && slots[i].period == r->period)
            return 1;
    return 0;
}

int glci_period_half(const glci_period_count_t *c, uint32_t n_active)
{
    return c->active_indexed > 0 && 2 * (uint64_t)c->active_indexed >= n_active;
}

int glci_period_choose(const glci_period_count_t *counts, size_t n, uint32_t n_active,
                       glci_period_choice_t *out)
{
    if (n == 0)
        return GLCI_INDEX_EINVAL;
    size_t pick = 0;
    glci_period_rule_t rule = GLCI_PERIOD_LATEST_DATA;
    for (size_t k = 0; k < n && rule == GLCI_PERIOD_LATEST_DATA; k++)
        if (glci_period_half(&counts[k], n_active)) {
            pick = k;
            rule = GLCI_PERIOD_HALF;
        }
    for (size_t k = 0; k < n && rule == GLCI_PERIOD_LATEST_DATA; k++)
        if (counts[k].indexed > 0) {
            pick = k;
            rule = GLCI_PERIOD_ANY_INDEX;
        }
    out->period = counts[pick].period;
    out->rule = rule;
    out->active_indexed = counts[pick].active_indexed;
    out->n_active = n_active;
    return 0;
}

void glci_period_rule_text(const glci_period_choice_t *c, char *buf, size_t len)
{
    switch (c->rule) {
    case GLCI_PERIOD_HALF:
        snprintf(buf, len, "period %d: the latest in which at least half of the active "
                 "cities (%u of %u) have reported an index", (int)c->period,
                 c->active_indexed, c->n_active);
        break;
    case GLCI_PERIOD_ANY_INDEX:
        snprintf(buf, len, "period %d: the latest in which any city has reported an index "
                 "(in none have half of the %u active cities)", (int)c->period, c->n_active);
        break;
    case GLCI_PERIOD_LATEST_DATA:
        snprintf(buf, len, "period %d: the latest with data (no city has reported an index "
                 "for any period)", (int)c->period);
        break;
    case GLCI_PERIOD_EDITION:
        snprintf(buf, len, "period %d: the period of the edition", (int)c->period);
        break;
    default:
        snprintf(buf, len, "period %d: as given", (int)c->period);
        break;
    }
}

const char *glci_period_rule_str(glci_period_rule_t rule)
{
    switch (rule) {
    case GLCI_PERIOD_HALF: return "half_of_active";
    case GLCI_PERIOD_ANY_INDEX: return "latest_with_index";
    case GLCI_PERIOD_LATEST_DATA: return "latest_with_data";
    case GLCI_PERIOD_EDITION: return "edition";
    default: return "given";
    }
}
