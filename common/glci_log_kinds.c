/* Quiet logging of many kinds of error in bounded slots: see
 * glci_log_kinds.h. */
#include "glci_log_kinds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

#define S_KEY_MAX 300

typedef struct {
    int used;
    char key[S_KEY_MAX + 1];
    glci_log_repeat_t rep;
} s_slot_t;

struct glci_log_kinds {
    size_t n;
    int64_t quiet_ms;
    char note[256];
    glci_log_repeat_t others;   /* every slot taken */
    s_slot_t *slot;
};

glci_log_kinds_t *glci_log_kinds_new(size_t slots, int64_t quiet_ms, const char *others_note)
{
    glci_log_kinds_t *k = glci_xcalloc(1, sizeof *k);
    k->n = slots ? slots : 1;
    k->quiet_ms = quiet_ms;
    snprintf(k->note, sizeof k->note, "%s", others_note ? others_note : "");
    k->slot = glci_xcalloc(k->n, sizeof *k->slot);
    return k;
}

void glci_log_kinds_free(glci_log_kinds_t **self, int64_t now_ms)
{
    glci_log_kinds_t *k = self ? *self : NULL;
    if (!k)
        return;
    *self = NULL;
    glci_log_kinds_end(k, now_ms);
    free(k->slot);
    free(k);
}

/* The slot of key, or a slot with nothing left to say (never used, or its
 * quiet time over with no repeat counted) made key's, or NULL. */
static s_slot_t *s_slot(glci_log_kinds_t *k, const char *key, int64_t now_ms)
{
    s_slot_t *free_slot = NULL;
    for (size_t i = 0; i < k->n; i++) {
        s_slot_t *s = &k->slot[i];
        if (s->used && strcmp(s->key, key) == 0)
            return s;
        if (!free_slot && (!s->used || (s->rep.repeats == 0 && now_ms >= s->rep.quiet_until)))
            free_slot = s;
    }
    if (free_slot) {
        memset(free_slot, 0, sizeof *free_slot);
        free_slot->used = 1;
        snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
    }
    return free_slot;
}

int glci_log_kinds(glci_log_kinds_t *k, const char *key, int64_t now_ms, glci_log_level_t level,
                   const char *fmt, ...)
{
    char line[1024], cut[S_KEY_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(cut, sizeof cut, "%s", key);
    s_slot_t *s = s_slot(k, cut, now_ms);
    if (s)
        return glci_log_repeat(&s->rep, now_ms, k->quiet_ms, level, "%s", line);
    return glci_log_repeat(&k->others, now_ms, k->quiet_ms, level, "%s%s", line, k->note);
}

int glci_log_kinds_tick(glci_log_kinds_t *k, int64_t now_ms)
{
    int lines = 0;
    for (size_t i = 0; i < k->n; i++) {
        s_slot_t *s = &k->slot[i];
        if (s->used && s->rep.repeats > 0 && now_ms >= s->rep.quiet_until) {
            lines += glci_log_repeat_end(&s->rep, now_ms);
            s->used = 0;
        }
    }
    if (k->others.repeats > 0 && now_ms >= k->others.quiet_until)
        lines += glci_log_repeat_end(&k->others, now_ms);
    return lines;
}

int glci_log_kinds_end(glci_log_kinds_t *k, int64_t now_ms)
{
    int lines = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (k->slot[i].used)
            lines += glci_log_repeat_end(&k->slot[i].rep, now_ms);
        k->slot[i].used = 0;
    }
    lines += glci_log_repeat_end(&k->others, now_ms);
    return lines;
}
