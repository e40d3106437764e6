/* Leveled stderr logging: see glci_log.h. */
#include "glci_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "glci_utf8.h"

static const char *s_program = "glci";
static glci_log_level_t s_level = GLCI_LOG_INFO;
static const char *const s_names[] = {"error", "warn", "info", "debug"};

void glci_log_init(const char *program, glci_log_level_t level)
{
    s_program = program;
    s_level = level;
}

void glci_log_set_level(glci_log_level_t level)
{
    s_level = level;
}

int glci_log_level_parse(const char *text, glci_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, s_names[i]) == 0) {
            *out = (glci_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void glci_log(glci_log_level_t level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    char raw[1024], msg[4 * sizeof raw];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* One event, one line, whatever text from outside it quotes: a line
     * break, a terminal escape or a bidirectional control in a claimed city
     * id, a key or a file name is written as \xNN (callers escape what
     * they quote too; this is the last guard). */
    glci_utf8_escape(raw, sizeof raw, msg, sizeof msg);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000L,
            s_names[level], s_program, msg);
}
