/* The configuration checks' lines: see glci_check.h. */
#include "glci_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "glci_log.h"

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
    if (c->to_log) {
        char line[1024];
        vsnprintf(line, sizeof line, fmt, ap);
        glci_warn("%s", line);
    } else {
        s_line(c->err, c->program, "", fmt, ap);
    }
    va_end(ap);
    c->problems++;
}

void glci_check_note(glci_check_t *c, const char *fmt, ...)
{
    if (c->to_log)
        return;
    va_list ap;
    va_start(ap, fmt);
    s_line(c->out, c->program, "note: ", fmt, ap);
    va_end(ap);
}

int glci_check_status(const glci_check_t *c)
{
    return c->problems ? 1 : 0;
}

int glci_check_mode(glci_check_t *c, const char *what, const char *path, unsigned bad,
                    unsigned want)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return 0;
    unsigned has = (unsigned)sb.st_mode & bad;
    if (!has)
        return 0;
    char lets[64] = "";
    unsigned w = has & (S_IWGRP | S_IWOTH);
    if (w)
        snprintf(lets, sizeof lets, "writable by %s",
                 w == (S_IWGRP | S_IWOTH) ? "group and others" : w == S_IWGRP ? "group"
                                                                               : "others");
    if (has & S_IROTH)
        snprintf(lets + strlen(lets), sizeof lets - strlen(lets), "%sreadable by others",
                 w ? ", " : "");
    glci_check_problem(c, "%s %s is mode %04o: %s; make it %04o (chmod %o %s)", what, path,
                       (unsigned)sb.st_mode & 07777, lets, want, want, path);
    return 1;
}
