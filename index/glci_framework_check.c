/* The checks of one observation against the framework (glci_index.h,
 * glci_framework_check): the one place that judges an indicator id, a
 * period and a value; an observation's shape is wire/'s (glci_obs_check),
 * asked first by the store. */
#include "glci_index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_text.h"
#include "glci_utf8.h"

/* A number for a message: plain decimals when they read back exactly
 * ("120", "0.25"), else the shortest round-trip form. */
static void s_fmt(double v, char *buf, size_t len)
{
    double a = fabs(v);
    if (a == 0.0 || (a >= 1e-6 && a < 1e15)) {
        for (int d = 0; d <= 17; d++) {
            snprintf(buf, len, "%.*f", d, v);
            if (strtod(buf, NULL) == v)
                return;
        }
    }
    glci_format_double(v, buf, len);
}

glci_reject_t glci_framework_check_key(const glci_framework_t *fw, const char *indicator,
                                       int64_t period, uint32_t *ind, char *msg,
                                       size_t msglen)
{
    char a[64];
    if (!msg || !msglen) {
        msg = a;            /* scratch: the caller wants no text */
        msglen = sizeof a;
    }
    msg[0] = '\0';
    if (!indicator || !*indicator) {
        snprintf(msg, msglen, "indicator id is missing");
        return GLCI_REJECT_MALFORMED;
    }
    /* Any id that is not in the framework is unknown, however long: the
     * limits of what may arrive at all are the wire's and the store's. The
     * id is echoed escaped (it may hold any bytes) and cut after the
     * longest id an observation may carry. */
    int32_t i = glci_framework_indicator(fw, indicator);
    if (i < 0) {
        char e[4 * GLCI_OBS_INDICATOR_MAX + 1];
        size_t room = msglen > 26 ? msglen - 26 : 1;    /* never cut inside */
        glci_utf8_escape(indicator, GLCI_OBS_INDICATOR_MAX, e,
                         room < sizeof e ? room : sizeof e);
        snprintf(msg, msglen, "unknown indicator '%s%s'", e,
                 strnlen(indicator, GLCI_OBS_INDICATOR_MAX + 1) > GLCI_OBS_INDICATOR_MAX
                     ? "..." : "");
        return GLCI_REJECT_UNKNOWN_INDICATOR;
    }
    if (period < fw->first_period || period > fw->last_period) {
        snprintf(msg, msglen, "period %lld outside [%d, %d] for %s", (long long)period,
                 (int)fw->first_period, (int)fw->last_period, indicator);
        return GLCI_REJECT_BAD_PERIOD;
    }
    if (ind)
        *ind = (uint32_t)i;
    return GLCI_REJECT_NONE;
}

glci_reject_t glci_framework_check(const glci_framework_t *fw,
                                   const char *indicator, int64_t period,
                                   double value, uint32_t *ind,
                                   char *msg, size_t msglen)
{
    char a[64], b[64], c[64];
    uint32_t i = 0;
    if (!msg || !msglen) {
        msg = a;            /* scratch: the caller wants no text */
        msglen = sizeof a;
    }
    glci_reject_t why = glci_framework_check_key(fw, indicator, period, &i, msg, msglen);
    if (why != GLCI_REJECT_NONE)
        return why;
    if (!isfinite(value)) {
        snprintf(msg, msglen, "value %s for %s is not finite",
                 isnan(value) ? "nan" : value > 0 ? "inf" : "-inf", indicator);
        return GLCI_REJECT_NOT_FINITE;
    }
    const glci_indicator_t *in = &fw->ind[i];
    if (value < in->min || value > in->max) {
        char v[64];
        s_fmt(value, v, sizeof v);
        s_fmt(in->min, b, sizeof b);
        s_fmt(in->max, c, sizeof c);
        snprintf(msg, msglen, "value %s outside [%s, %s] for %s", v, b, c, indicator);
        return GLCI_REJECT_OUT_OF_RANGE;
    }
    if (ind)
        *ind = i;
    return GLCI_REJECT_NONE;
}

glci_reject_t glci_framework_check_future(const glci_framework_t *fw, int64_t period,
                                          int64_t now, char *msg, size_t msglen)
{
    int64_t latest = (int64_t)glci_utc_year(now) + fw->future_periods;
    if (period <= latest)
        return GLCI_REJECT_NONE;
    if (msg && msglen) {
        char day[32];
        glci_format_iso_time(now, day, sizeof day);
        day[10] = '\0';            /* the date is enough */
        snprintf(msg, msglen, "period %lld is in the future (at most %lld on %s)",
                 (long long)period, (long long)latest, day);
    }
    return GLCI_REJECT_FUTURE;
}
