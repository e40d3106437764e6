/* The per-batch key check behind an open connection (see collector_auth.h):
 * a direct-mapped table of (key, city) -> answer, each answer valid for the
 * store auth generation it was read under. A collision only costs a second
 * store lookup, so the table stays small and every check is O(1). */
#include "collector_auth.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log.h"

#define S_SLOTS 1024u   /* power of two; far more than cities per collector */

typedef struct {
    unsigned char key[32];
    char city[GLCI_CITY_ID_MAX + 1];
    uint64_t gen;          /* generation the answer was read under */
    int used;
    int ok;                /* 1: still registered */
} s_slot_t;

struct glci_collector_auth {
    glci_store_t *st;
    uint64_t gen;          /* this round's generation, when have_gen */
    int have_gen;
    int round_read;        /* the generation was read (or tried) this round */
    s_slot_t slots[S_SLOTS];
};

glci_collector_auth_t *glci_collector_auth_new(glci_store_t *st)
{
    assert(st);
    glci_collector_auth_t *a = glci_xcalloc(1, sizeof *a);
    a->st = st;
    return a;
}

void glci_collector_auth_free(glci_collector_auth_t **a)
{
    if (!a || !*a)
        return;
    free(*a);
    *a = NULL;
}

void glci_collector_auth_round(glci_collector_auth_t *a)
{
    a->round_read = 0;
}

/* Keys are CURVE public keys: their bytes are already uniform. */
static size_t s_index(const unsigned char key[32])
{
    uint32_t h;
    memcpy(&h, key, sizeof h);
    return h & (S_SLOTS - 1u);
}

int glci_collector_auth_check(glci_collector_auth_t *a, const char *key_z85,
                              const char *city)
{
    unsigned char key[32];
    if (!key_z85 || !city || glci_key_decode(key_z85, key) != 0)
        return GLCI_STORE_ENOCITY;
    if (!a->round_read) {
        a->round_read = 1;
        uint64_t gen;
        int rc = glci_store_auth_generation(a->st, &gen);
        if (rc == 0) {
            a->gen = gen;
            a->have_gen = 1;
        } else {
            /* no generation, no cache: every batch this round asks the
             * store itself */
            a->have_gen = 0;
            glci_warn("store: cannot read the auth generation (%s); checking every "
                      "batch's key", glci_store_strerror(rc));
        }
    }
    s_slot_t *s = &a->slots[s_index(key)];
    if (a->have_gen && s->used && s->gen == a->gen && memcmp(s->key, key, 32) == 0 &&
        strcmp(s->city, city) == 0)
        return s->ok ? 0 : GLCI_STORE_ENOCITY;

    int rc = glci_store_key_check(a->st, key, city);
    if (rc != 0 && rc != GLCI_STORE_ENOCITY)
        return rc;
    if (rc == GLCI_STORE_ENOCITY) {
        char fp[GLCI_KEY_FP_LEN + 1];
        glci_key_fingerprint_raw(key, fp);
        glci_warn("key %s is no longer registered to %s (removed, or the city revoked); "
                  "refusing batches on its open connection", fp, city);
    }
    if (a->have_gen) {
        memcpy(s->key, key, 32);
        size_t n = strlen(city);
        if (n > GLCI_CITY_ID_MAX)
            n = GLCI_CITY_ID_MAX;
        memcpy(s->city, city, n);
        s->city[n] = '\0';
        s->gen = a->gen;
        s->used = 1;
        s->ok = rc == 0;
    }
    return rc;
}
