/* The collector's per-batch key check, private to collector/.
 *
 * The ZAP handler admits a connection once, at its handshake; a key removed
 * from its city afterwards (glci city key-remove) must still stop that
 * connection's next batch. The handler hands the client's public key to
 * every message of the connection as the ZAP metadata property X-Key (Z85);
 * before a batch goes into the store the daemon asks this cache whether
 * that key is still registered to the connection's city.
 *
 * The answer is cached per (key, city) together with the store's auth
 * generation it was read under (glci_store_auth_generation: moved by every
 * city or key change, by any process). While the generation stays the same
 * a batch costs one hash lookup; after a change every key is looked up in
 * the store again (glci_store_key_check) once, on its next batch. The
 * generation itself is read at most once per round (glci_collector_auth_round
 * marks a new round). Single-threaded: the daemon's main loop only. */
#ifndef GLCI_COLLECTOR_AUTH_H
#define GLCI_COLLECTOR_AUTH_H

#include "glci_store.h"

/* ZAP metadata property holding the client's public key (Z85). libzmq
 * passes user-defined properties through; the "X-" prefix is the ZMTP
 * convention for application properties. */
#define GLCI_COLLECTOR_KEY_PROPERTY "X-Key"

typedef struct glci_collector_auth glci_collector_auth_t;

/* Makes an empty cache reading st (not owned; must outlive the cache). */
glci_collector_auth_t *glci_collector_auth_new(glci_store_t *st);

/* Frees the cache and NULLs the pointer; NULL is fine. */
void glci_collector_auth_free(glci_collector_auth_t **a);

/* Starts a new round: the next check reads the auth generation again. */
void glci_collector_auth_round(glci_collector_auth_t *a);

/* 0 if the key (Z85 text, as carried in X-Key) is still registered to city
 * and the city active; GLCI_STORE_ENOCITY if not (removed key, revoked
 * city) or if key_z85 is NULL or not a valid key; another negative store
 * code if the store could not answer (nothing cached then). */
int glci_collector_auth_check(glci_collector_auth_t *a, const char *key_z85,
                              const char *city);

#endif
