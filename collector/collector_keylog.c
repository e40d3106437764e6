/* Batched, bounded record of key events: see collector_keylog.h. */
#include "collector_keylog.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_log_repeat.h"

#define S_LOG_QUIET_MS 60000

struct glci_collector_keylog {
    glci_store_t *st;
    size_t bound;
    int64_t flush_s, last_flush;
    /* bound entries at most, in the order of their last sightings, oldest
     * first: the store breaks ties of a second by that order, and the
     * oldest gives way when the table is full */
    glci_key_refusal_t *refused;
    size_t n_refused;
    glci_key_use_t *uses;
    size_t n_uses, uses_max;      /* uses_max: GLCI_COLLECTOR_KEYLOG_USES_MAX at most */
    uint64_t dropped;
    glci_log_repeat_t log_refused, log_flush;
    void (*gate)(void *arg);       /* called before each store write */
    void *gate_arg;
};

glci_collector_keylog_t *glci_collector_keylog_new(glci_store_t *st, size_t bound,
                                                   int64_t flush_s)
{
    glci_collector_keylog_t *kl = glci_xcalloc(1, sizeof *kl);
    kl->st = st;
    kl->bound = bound ? bound : GLCI_STORE_REFUSED_MAX;
    kl->flush_s = flush_s > 0 ? flush_s : 1;
    kl->refused = glci_xcalloc(kl->bound, sizeof *kl->refused);
    kl->uses = glci_xcalloc(GLCI_COLLECTOR_KEYLOG_USES_MAX, sizeof *kl->uses);
    kl->uses_max = GLCI_COLLECTOR_KEYLOG_USES_MAX;
    return kl;
}

void glci_collector_keylog_uses_max(glci_collector_keylog_t *kl, size_t max)
{
    assert(max >= 1 && max <= GLCI_COLLECTOR_KEYLOG_USES_MAX && kl->n_uses <= max);
    kl->uses_max = max;
}

void glci_collector_keylog_gate(glci_collector_keylog_t *kl, void (*fn)(void *arg), void *arg)
{
    kl->gate = fn;
    kl->gate_arg = arg;
}

void glci_collector_keylog_free(glci_collector_keylog_t **self)
{
    if (!self || !*self)
        return;
    glci_collector_keylog_t *kl = *self;
    glci_collector_keylog_flush(kl, 0, 1);
    free(kl->refused);
    free(kl->uses);
    free(kl);
    *self = NULL;
}

void glci_collector_keylog_refused(glci_collector_keylog_t *kl, const unsigned char key[32],
                                   const char *addr, int64_t now, int64_t mono_ms)
{
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint_raw(key, fp);
    glci_log_repeat(&kl->log_refused, mono_ms, S_LOG_QUIET_MS, GLCI_LOG_WARN,
                    "zap: refused unknown or revoked key %s from %s (glci keys refused "
                    "lists them)", fp, addr && *addr ? addr : "?");
    /* this sighting moves the key to the end: taken out where it stands
     * (or, new in a full table, the oldest, at 0, gives way) */
    glci_key_refusal_t e;
    size_t at = 0;
    while (at < kl->n_refused && memcmp(kl->refused[at].key, key, 32) != 0)
        at++;
    if (at < kl->n_refused) {
        e = kl->refused[at];
    } else {
        memset(&e, 0, sizeof e);
        if (kl->n_refused < kl->bound)
            kl->n_refused++;      /* room at the end: nothing moves out */
        else
            at = 0, kl->dropped++;
    }
    if (at + 1 < kl->n_refused)
        memmove(&kl->refused[at], &kl->refused[at + 1],
                (kl->n_refused - at - 1) * sizeof *kl->refused);
    glci_key_refusal_t *r = &kl->refused[kl->n_refused - 1];
    *r = e;
    if (r->count == 0) {
        memcpy(r->key, key, 32);
        r->first = now;
    }
    r->last = now;
    r->count++;
    snprintf(r->addr, sizeof r->addr, "%s", addr ? addr : "");
}

void glci_collector_keylog_quiet(glci_collector_keylog_t *kl, int64_t mono_ms, int end)
{
    if (end)
        glci_log_repeat_end(&kl->log_refused, mono_ms);
    else
        glci_log_repeat_tick(&kl->log_refused, mono_ms);
}

void glci_collector_keylog_used(glci_collector_keylog_t *kl, const unsigned char key[32],
                                int64_t now)
{
    for (size_t i = kl->n_uses; i > 0; i--) {    /* the latest first: a busy key */
        if (memcmp(kl->uses[i - 1].key, key, 32) == 0) {
            kl->uses[i - 1].at = now;
            return;
        }
    }
    if (kl->n_uses == kl->uses_max)
        glci_collector_keylog_flush(kl, now, 1);
    if (kl->n_uses == kl->uses_max)
        return;                   /* the store is failing: a last-used time may lag */
    memcpy(kl->uses[kl->n_uses].key, key, 32);
    kl->uses[kl->n_uses].at = now;
    kl->n_uses++;
}

int glci_collector_keylog_flush(glci_collector_keylog_t *kl, int64_t now, int force)
{
    if (kl->n_refused == 0 && kl->n_uses == 0)
        return 0;
    if (!force && now < kl->last_flush + kl->flush_s)
        return 0;
    kl->last_flush = now;
    if (kl->gate)
        kl->gate(kl->gate_arg);
    int rc = glci_store_key_record(kl->st, kl->uses, kl->n_uses, kl->refused, kl->n_refused,
                                   kl->bound);
    if (rc != 0) {
        glci_log_repeat(&kl->log_flush, now * 1000, S_LOG_QUIET_MS, GLCI_LOG_WARN,
                        "store: cannot record %zu refused and %zu used keys: %s; will retry",
                        kl->n_refused, kl->n_uses, glci_store_strerror(rc));
        return rc;
    }
    glci_log_repeat_end(&kl->log_flush, now * 1000);
    kl->n_refused = 0;
    kl->n_uses = 0;
    return 0;
}

void glci_collector_keylog_pending(const glci_collector_keylog_t *kl, size_t *refused,
                                   size_t *used, uint64_t *dropped)
{
    if (refused)
        *refused = kl->n_refused;
    if (used)
        *used = kl->n_uses;
    if (dropped)
        *dropped = kl->dropped;
}
