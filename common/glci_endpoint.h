/* The strict "is this endpoint on this machine" check shared by the
 * collector (an insecure listener) and the agent (an insecure collector
 * endpoint): without CURVE, traffic may only use loopback or ipc://. */
#ifndef GLCI_ENDPOINT_H
#define GLCI_ENDPOINT_H

#include <stddef.h>

/* 1 if endpoint is exactly one of
 *   ipc://PATH                  (PATH non-empty)
 *   tcp://127.A.B.C:PORT        (A, B, C decimal 0..255)
 *   tcp://localhost:PORT
 *   tcp://[::1]:PORT
 * where PORT is a decimal 1..65535 or "*" (any free port, for a bind) and
 * nothing follows it (so no ZeroMQ "source;destination" forms and no host
 * names that merely start with "127." or "localhost"), else 0. */
int glci_endpoint_local(const char *endpoint);

/* The rule of a setting naming an endpoint: 0 for tcp://HOST:PORT (PORT
 * 1..65535 or "*", HOST not empty) or ipc://PATH (PATH not empty), else -1
 * with what it must be in why (a glci_conf_key_t check). */
int glci_endpoint_scheme_check(const char *value, char *why, size_t whylen);

/* Splits tcp://HOST:PORT into HOST (a name, a dotted address, "*", or an
 * IPv6 address in brackets, which are kept) and PORT (1..65535). 0, or -1
 * for another scheme, a missing or bad port (including "*"), an empty
 * host, or a host longer than hostlen - 1. */
int glci_endpoint_tcp_split(const char *endpoint, char *host, size_t hostlen,
                            unsigned *port);

/* 1 for a host that binds every interface: "*", "0.0.0.0", "[::]". */
int glci_endpoint_host_wildcard(const char *host);

#endif
