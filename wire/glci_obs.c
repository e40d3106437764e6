/* The observation's tables and its shape check: see glci_obs.h. */
#include "glci_obs.h"

#include <stdio.h>
#include <string.h>

#include "glci_text.h"
#include "glci_utf8.h"

#define S_STR_(x) #x
#define S_STR(x) S_STR_(x)

glci_obs_t glci_obs_make(const char *indicator, int64_t period, double value)
{
    glci_obs_t o = {.indicator = indicator, .period = period, .value = value,
                    .has_period = 1, .has_value = 1};
    return o;
}

glci_obs_t glci_obs_retraction(const char *indicator, int64_t period)
{
    glci_obs_t o = {.indicator = indicator, .period = period, .has_period = 1, .retract = 1};
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
#define GLCI_X_(name, num, text, proto) case num: return text;
    GLCI_REJECT_REASONS(GLCI_X_)
#undef GLCI_X_
    default:
        return "unknown reason";
    }
}

glci_reject_t glci_obs_check(const glci_obs_t *o, char *msg, size_t msglen)
{
    const char *why;
    if (msg && msglen)
        msg[0] = '\0';
    if (o->indicator_nul)
        why = "indicator contains a NUL byte";
    else if (o->source_nul)
        why = "source contains a NUL byte";
    else if (!o->indicator || !o->indicator[0])
        why = "indicator is missing";
    else if (strnlen(o->indicator, GLCI_OBS_INDICATOR_MAX + 1) > GLCI_OBS_INDICATOR_MAX)
        why = "indicator is longer than " S_STR(GLCI_OBS_INDICATOR_MAX) " bytes";
    else if (!o->has_period)
        why = "period is missing";
    else if (o->retract && o->has_value)
        why = "a retraction carries no value";
    else if (!o->retract && !o->has_value)
        why = "value is missing";
    else if (o->observed_at != 0 && (o->observed_at < GLCI_OBS_OBSERVED_MIN ||
                                     o->observed_at > GLCI_OBS_OBSERVED_MAX))
        why = "observed_at is outside 1970-01-01 to 2199-12-31";
    else if (!o->source)
        return GLCI_REJECT_NONE;
    else if (strlen(o->source) > GLCI_OBS_SOURCE_MAX) {
        glci_errf(msg, msglen, "source is %zu bytes, at most %d bytes", strlen(o->source),
                  GLCI_OBS_SOURCE_MAX);
        return GLCI_REJECT_MALFORMED;
    } else if ((why = glci_utf8_problem(o->source)) != NULL) {
        glci_errf(msg, msglen, "source %s", why);
        return GLCI_REJECT_MALFORMED;
    } else {
        return GLCI_REJECT_NONE;
    }
    glci_errf(msg, msglen, "%s", why);
    return GLCI_REJECT_MALFORMED;
}

/* ---- city ids ------------------------------------------------------------ */

int glci_city_id_valid(const char *id)
{
    size_t n;
    if (!id || !*id)
        return 0;
    n = strlen(id);
    if (n > GLCI_CITY_ID_MAX)
        return 0;
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}
