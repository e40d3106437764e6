/* The fuzz targets' shared checks: see glci_fuzz.h. */
#include "glci_fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_utf8.h"

void glci_fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("contract: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void glci_fuzz_check_line(const char *what, const char *msg, size_t cap)
{
    size_t len = strnlen(msg, cap);
    GLCI_FUZZ_CHECK(len < cap, "%s: message not terminated in its %zu bytes", what, cap);
    GLCI_FUZZ_CHECK(len > 0, "%s: empty message", what);
    const char *why = glci_utf8_problem(msg);
    if (why) {
        char shown[512];
        glci_utf8_escape(msg, len, shown, sizeof shown);
        glci_fuzz_fail("%s: message %s: \"%s\"", what, why, shown);
    }
}

size_t glci_fuzz_lines(const uint8_t *data, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i + 1 < len; i++)
        n += data[i] == '\n';
    return n;
}

size_t glci_fuzz_line_of(const char *what, const char *msg, const char *name)
{
    size_t n = strlen(name);
    GLCI_FUZZ_CHECK(strncmp(msg, name, n) == 0 && msg[n] == ':',
                    "%s: message does not start with \"%s:\": %s", what, name, msg);
    const char *p = msg + n + 1;
    if (*p == ' ')
        return 0;
    size_t line = 0;
    while (*p >= '0' && *p <= '9' && line < 100000000)
        line = line * 10 + (size_t)(*p++ - '0');
    GLCI_FUZZ_CHECK(line > 0 && p[0] == ':' && p[1] == ' ',
                    "%s: message is not \"%s:LINE: ...\": %s", what, name, msg);
    return line;
}
