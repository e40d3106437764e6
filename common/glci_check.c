/* The configuration checks' lines: see glci_check.h. */
#include "glci_check.h"

#include <stdarg.h>

static void s_line(FILE *to, const char *program, const char *kind, const char *fmt,
                   va_list ap) __attribute__((format(printf, 4, 0)));

static void s_line(FILE *to, const char *program, const char *kind, const char *fmt,
                   va_list ap)
{
    fprintf(to, "%s: %s", program, kind);
    vfprintf(to, fmt, ap);
    fputc('\n', to);
}

void glci_check_problem(glci_check_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_line(c->err, c->program, "", fmt, ap);
    va_end(ap);
    c->problems++;
}

void glci_check_note(glci_check_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_line(c->out, c->program, "note: ", fmt, ap);
    va_end(ap);
}

int glci_check_status(const glci_check_t *c)
{
    return c->problems ? 1 : 0;
}
