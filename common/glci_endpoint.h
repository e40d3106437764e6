/* The rules of ZeroMQ endpoints the programs are given: the strict "is
 * this endpoint on this machine" check shared by the collector (an
 * insecure listener) and the agent (an insecure collector endpoint):
 * without CURVE, traffic may only use loopback or ipc://; the syntax a
 * setting naming an endpoint must have; and which address family a socket
 * bound or connected to one needs (libzmq refuses an IPv6 address unless
 * the socket was told, before it binds or connects, that IPv6 is wanted). */
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

/* 1 if a socket must speak IPv6 to bind or connect to endpoint: a tcp://
 * endpoint naming an address in brackets ("tcp://[::1]:7461",
 * "tcp://[::]:7461", a source address "tcp://[::1]:0;[::1]:7461"), else
 * 0. A name, "*", an interface or a dotted address stays IPv4, as before:
 * libzmq takes one address of one family for a name and tries no other,
 * so a name with an AAAA record would be dialled over IPv6 even where the
 * collector listens on IPv4 only (tcp://0.0.0.0:P, tcp://localhost:P bound
 * as 127.0.0.1). */
int glci_endpoint_ipv6(const char *endpoint);

/* Sets ZMQ_IPV6 on the ZeroMQ socket sock to glci_endpoint_ipv6(endpoint),
 * to be called before each zmq_bind or zmq_connect to endpoint. An IPv6
 * bind of "[::]" listens on IPv4 as well (libzmq clears IPV6_V6ONLY); one
 * of "[::1]" on IPv6 loopback only. Returns 0, or -1 with zmq_errno() set
 * (a closed socket, ETERM). In glci_endpoint_zmq.c: glci, which opens no
 * socket, does not load libzmq. */
int glci_endpoint_zmq_family(void *sock, const char *endpoint);

#endif
