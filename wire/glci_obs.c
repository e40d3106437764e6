/* The observation's tables and its shape check: see glci_obs.h. */
#include "glci_obs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "glci_utf8.h"

glci_obs_t glci_obs_make(const char *indicator, int64_t period, double value)
{
    glci_obs_t o = {.indicator = indicator, .period = period, .value = value,
                    .has_period = 1, .has_value = 1};
    return o;
}

int glci_batch_status_valid(int status)
{
    switch (status) {
#define GLCI_X_(name, num, text) case num:
    GLCI_BATCH_STATUSES(GLCI_X_)
#undef GLCI_X_
        return 1;
    default:
        return 0;
    }
}

const char *glci_batch_status_str(int status)
{
    switch (status) {
#define GLCI_X_(name, num, text) case num: return text;
    GLCI_BATCH_STATUSES(GLCI_X_)
#undef GLCI_X_
    default:
        return "unknown";
    }
}

const char *glci_reject_str(glci_reject_t reason)
{
    switch ((int)reason) {
#define GLCI_X_(name, num, text) case num: return text;
    GLCI_REJECT_REASONS(GLCI_X_)
#undef GLCI_X_
    default:
        return "unknown reason";
    }
}

static glci_reject_t s_malformed(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static glci_reject_t s_malformed(char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return GLCI_REJECT_MALFORMED;
}

glci_reject_t glci_obs_check(const glci_obs_t *o, char *msg, size_t msglen)
{
    const char *why;
    if (msg && msglen)
        msg[0] = '\0';
    if (!o->indicator || !o->indicator[0])
        return s_malformed(msg, msglen, "indicator is missing");
    if (strnlen(o->indicator, GLCI_OBS_INDICATOR_MAX + 1) > GLCI_OBS_INDICATOR_MAX)
        return s_malformed(msg, msglen, "indicator is longer than %d bytes",
                           GLCI_OBS_INDICATOR_MAX);
    if (!o->has_period)
        return s_malformed(msg, msglen, "period is missing");
    if (!o->has_value)
        return s_malformed(msg, msglen, "value is missing");
    if (o->source) {
        size_t len = strlen(o->source);
        if (len > GLCI_OBS_SOURCE_MAX)
            return s_malformed(msg, msglen, "source is %zu bytes, at most %d bytes", len,
                               GLCI_OBS_SOURCE_MAX);
        if ((why = glci_utf8_problem(o->source)) != NULL)
            return s_malformed(msg, msglen, "source %s", why);
    }
    return GLCI_REJECT_NONE;
}
