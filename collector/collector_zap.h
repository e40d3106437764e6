/* The collector's ZAP handler (ZeroMQ RFC 27), private to collector/. */
#ifndef GLCI_COLLECTOR_ZAP_H
#define GLCI_COLLECTOR_ZAP_H

#include <stdint.h>

#include "collector_keylog.h"
#include "glci_store.h"

/* Answers every ZAP request waiting on the REP socket zap (bound to
 * inproc://zeromq.zap.01) and returns how many it answered, or -1 if the
 * socket failed. Both domains need mechanism CURVE and reply with the
 * client's public key in Z85 as the metadata property X-Key:
 *   "glci" (the data sockets): admitted (200, User-Id = the city) only
 *          when the key is registered for an active city; a refusal is
 *          recorded in kl (refused keys), an admission as the key's use;
 *   "glci-enrol" (the enrolment socket): every CURVE key is admitted, with
 *          an empty User-Id; that socket speaks enrolment requests only.
 * The domain is the listening socket's own setting, never the client's.
 * Anything else, including a store error, is refused (400 or 500): the
 * handler fails closed. now is Unix seconds, mono_ms the monotonic clock
 * for quiet logs. */
int glci_collector_zap_serve(void *zap, glci_store_t *st, glci_collector_keylog_t *kl,
                             int64_t now, int64_t mono_ms);

/* The refusals the handler's quiet logs counted since their last line:
 * printed once their quiet time is over, or at once with end (the
 * collector stopping). Same thread as glci_collector_zap_serve. */
void glci_collector_zap_quiet(int64_t mono_ms, int end);

#endif
