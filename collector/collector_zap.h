/* The collector's ZAP handler (ZeroMQ RFC 27), private to collector/. */
#ifndef GLCI_COLLECTOR_ZAP_H
#define GLCI_COLLECTOR_ZAP_H

#include "glci_store.h"

/* Answers every ZAP request waiting on the REP socket zap (bound to
 * inproc://zeromq.zap.01) and returns how many it answered, or -1 if the
 * socket failed. A request is admitted (200, User-Id = the city, metadata
 * property X-Key = the client's public key in Z85) only when
 * it is for domain "glci", mechanism CURVE, and the client's public key is
 * registered for an active city; anything else, including a store error,
 * is refused (400 or 500): the handler fails closed. */
int glci_collector_zap_serve(void *zap, glci_store_t *st);

#endif
