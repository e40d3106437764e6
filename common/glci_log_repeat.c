/* Quiet logging of repeated errors: see glci_log_repeat.h. */
#include "glci_log_repeat.h"

#include <stdarg.h>
#include <stdio.h>

/* " (repeated N times in the last T s)": T with a decimal below 10 s, where
 * a backoff step is short and a whole second would read as 0. */
static void s_print_summary(const glci_log_repeat_t *r, glci_log_level_t level,
                            const char *msg, uint64_t n, int64_t now_ms)
{
    int64_t ms = now_ms > r->printed_at ? now_ms - r->printed_at : 0;
    char span[32];
    if (ms < 10000)
        snprintf(span, sizeof span, "%.1f", (double)ms / 1000.0);
    else
        snprintf(span, sizeof span, "%lld", (long long)(ms / 1000));
    glci_log(level, "%s (repeated %llu time%s in the last %s s)", msg, (unsigned long long)n,
             n == 1 ? "" : "s", span);
}

int glci_log_repeat(glci_log_repeat_t *r, int64_t now_ms, int64_t quiet_ms,
                    glci_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->last, sizeof r->last, fmt, ap);
    va_end(ap);
    r->level = level;
    if (r->printed && now_ms < r->quiet_until) {
        r->repeats++;
        return 0;
    }
    if (r->printed && r->repeats > 0)
        s_print_summary(r, level, r->last, r->repeats + 1, now_ms);
    else
        glci_log(level, "%s", r->last);
    r->printed = 1;
    r->printed_at = now_ms;
    r->quiet_until = now_ms + (quiet_ms > 0 ? quiet_ms : 0);
    r->repeats = 0;
    return 1;
}

int glci_log_repeat_end(glci_log_repeat_t *r, int64_t now_ms)
{
    int printed = 0;
    if (r->printed && r->repeats > 0) {
        s_print_summary(r, r->level, r->last, r->repeats, now_ms);
        printed = 1;
    }
    r->printed = 0;
    r->repeats = 0;
    r->quiet_until = 0;
    return printed;
}

int glci_log_repeat_tick(glci_log_repeat_t *r, int64_t now_ms)
{
    if (!r->printed || r->repeats == 0 || now_ms < r->quiet_until)
        return 0;
    return glci_log_repeat_end(r, now_ms);
}
