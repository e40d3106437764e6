/* The collector's metrics endpoint: an HTTP server (libmicrohttpd) that
 * answers GET and HEAD on
 *   /metrics  the registry in the Prometheus text format (200), and
 *   /health   200 "ok" or 503 with the reason, from the caller's callback,
 * in a thread of its own (libmicrohttpd's internal polling thread, epoll on
 * Linux), so a slow or hostile client never blocks the caller; the caller
 * only pays for its atomic updates (glci_metrics.h).
 *
 * Bounds, so that no client can exhaust or stall the server for others:
 * only GET and HEAD (405 otherwise), a URL of at most 64 bytes (414),
 * request headers within 8 KiB (431), Host with HTTP/1.1 (400), a request
 * body is never read, at most max_connections connections at once and
 * per_ip of them from one address (more are refused at accept), and every
 * connection is closed timeout_s seconds after it was accepted, whatever
 * it is doing (sending a byte now and then does not keep it open). Every
 * answer the server makes has a Content-Length and "Cache-Control:
 * no-store"; the few libmicrohttpd makes itself (an unsupported HTTP
 * version, a request over its 32 KiB of connection memory, a request line
 * it cannot parse, a bad Content-Length) have no Cache-Control
 * (docs/METRICS.md, "The HTTP server").
 *
 * The listen address (`metrics_listen`) is parsed here so that the
 * collector's config, its flag and --check-config give the same answer. */
#ifndef GLCI_METRICS_HTTP_H
#define GLCI_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "glci_metrics.h"

/* ---- listen address ---------------------------------------------------- */

typedef struct {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int port;                 /* 0..65535; 0: any free port (see _port) */
    int loopback;             /* 1 when only this machine can connect */
    char text[64];            /* canonical: "127.0.0.1:9461", "[::1]:9461" */
} glci_metrics_listen_t;

/* Parses a listen address:
 *   PORT               127.0.0.1:PORT (loopback unless told otherwise)
 *   A.B.C.D:PORT       an IPv4 address (0.0.0.0: every IPv4 interface)
 *   [IPV6]:PORT        an IPv6 address ([::]: every IPv6 interface, IPv6 only)
 *   localhost:PORT     127.0.0.1:PORT, without asking a resolver
 * PORT is a decimal 0..65535 (0: any free port, for tests). Refused with a
 * one-line message: anything else, notably ":PORT" (which elsewhere means
 * every interface; say 0.0.0.0:PORT or PORT), host names other than
 * localhost (give the address: a listener must not depend on a resolver
 * at start), IPv6 without brackets, zone ids, and text over 100 bytes.
 * Returns 0 or -1 (message in err). A non-loopback address is accepted
 * because it was written out; the caller may log that it is exposed. */
int glci_metrics_listen_parse(const char *text, glci_metrics_listen_t *out, char *err,
                              size_t errlen);

/* ---- server ----------------------------------------------------------- */

/* Answers 1 when healthy, 0 when not, with a short reason (one line) in
 * why. Called on the server's thread; reads the caller's state with its
 * own synchronisation (e.g. atomics) and must not block. */
typedef int (*glci_metrics_health_fn)(void *arg, char *why, size_t whylen);

typedef struct {
    glci_metrics_t *metrics;          /* rendered on /metrics; borrowed */
    glci_metrics_health_fn health;    /* NULL: /health always answers 200 */
    void *health_arg;
    unsigned max_connections;         /* 0: 32 */
    unsigned per_ip;                  /* 0: 8 */
    unsigned timeout_s;               /* a connection's life from accept; 0: 10 s */
} glci_metrics_http_cfg_t;

typedef struct glci_metrics_http glci_metrics_http_t;

/* Binds the address (SO_REUSEADDR; IPv6 only for an IPv6 address) and
 * starts the server's thread, with every signal blocked in it so that
 * signals keep going to the caller's threads (the daemons take theirs
 * through signalfd). Returns 0, or -1 with a one-line message naming the
 * address (e.g. "cannot listen on 127.0.0.1:9461: Address already in
 * use"). cfg->metrics and health_arg must outlive the server. */
int glci_metrics_http_start(const glci_metrics_listen_t *listen,
                            const glci_metrics_http_cfg_t *cfg,
                            glci_metrics_http_t **out, char *err, size_t errlen);

/* Binds the address as glci_metrics_http_start does and releases it at
 * once: whether a server could start there now, for a daemon that asks
 * before a step it cannot undo. Returns 0, or -1 with the line
 * glci_metrics_http_start would give ("cannot listen on 127.0.0.1:9461:
 * Address already in use"). */
int glci_metrics_listen_probe(const glci_metrics_listen_t *listen, char *err, size_t errlen);

/* The port bound (the one chosen when the address said 0). */
int glci_metrics_http_port(const glci_metrics_http_t *h);

/* Closes the listener and every connection and joins the thread (which
 * waits for a /metrics render or health callback in progress); sets *self
 * to NULL. Accepts NULL. */
void glci_metrics_http_stop(glci_metrics_http_t **self);

#endif
