/* The line reader for inih: see glci_ini.h. */
#include "glci_ini.h"

#include <stdio.h>
#include <string.h>

static int s_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

char *glci_ini_reader(char *buf, int num, void *stream)
{
    glci_ini_text_t *t = stream;
    if (t->stop || t->bad_line || t->pos >= t->len)
        return NULL;
    const char *start = t->text + t->pos;
    size_t rest = t->len - t->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t n = nl ? (size_t)(nl - start) : rest;
    t->pos += nl ? n + 1 : n;
    t->line++;
    if (memchr(start, '\0', n)) {
        t->bad_line = t->line;
        snprintf(t->why, sizeof t->why, "NUL byte in line");
        return NULL;
    }
    /* inih needs room for the line, "\r\n" and the NUL. */
    if (num < 4 || n > (size_t)num - 3) {
        t->bad_line = t->line;
        snprintf(t->why, sizeof t->why, "line too long (%zu bytes, at most %d)", n,
                 num < 4 ? 0 : num - 3);
        return NULL;
    }
    /* Blanks go, and on the first line byte-order marks among them too:
     * inih would skip a mark it still saw there, and whoever checks the
     * line (a [section] header) must see what inih sees. */
    for (;;) {
        if (n > 0 && s_is_blank(*start)) {
            start++;
            n--;
        } else if (t->line == 1 && n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
            start += 3;
            n -= 3;
        } else {
            break;
        }
    }
    if (n > 0 && *start == '[' && t->header && t->header(t->ctx, start, n) != 0) {
        t->stop = 1;
        return NULL;
    }
    memcpy(buf, start, n);
    buf[n] = '\n';
    buf[n + 1] = '\0';
    return buf;
}
