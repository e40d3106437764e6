/* /metrics and /health over libmicrohttpd: see glci_metrics_http.h.
 *
 * The listening socket is made here, not by libmicrohttpd, so that a bind
 * failure comes back as a message with its errno, the port chosen for
 * port 0 is known, and an IPv6 address listens on IPv6 only. libmicrohttpd
 * takes the socket over and closes it when stopped. Its own error log
 * (e.g. "connection limit reached", once per refused connection) goes to
 * glci_log through a repeat limiter, so a flood of refusals is one line a
 * minute.
 *
 * libmicrohttpd's connection timeout counts idleness: every byte received
 * starts it again, so a client sending a byte every few seconds would hold
 * its slot for ever, and 32 of them the server. So each connection also
 * has a deadline, timeout_s after it was accepted: a thread of this module
 * (the reaper) shuts the socket down when it passes, and libmicrohttpd,
 * seeing the socket closed, drops the connection. The reaper learns of
 * connections from libmicrohttpd's connection notifications, and holds
 * the lock that the "closed" notification takes, so the descriptor it
 * shuts down is still that connection's (libmicrohttpd closes it only
 * after the notification returns).
 *
 * The requests libmicrohttpd would answer itself with an error page and
 * no Cache-Control, and that it can hand over, are answered here: the
 * connection memory is four times the 8 KiB allowed for headers, which
 * are measured here, and a missing Host is accepted by libmicrohttpd
 * (strict mode 0) and refused here (libmicrohttpd 0.9.75's own 400 for it
 * sends its status line and headers twice). What it still answers itself
 * is listed in docs/METRICS.md. */
#include "glci_metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_log.h"
#include "glci_log_repeat.h"
#include "glci_text.h"

#define S_MAX_URL          64
#define S_MAX_HEADERS      (8 * 1024)    /* names, values, ": " and CRLF */
#define S_MEMORY_LIMIT     (32 * 1024)   /* per connection, for libmicrohttpd */
#define S_LOG_QUIET_MS     60000

/* An open connection, from libmicrohttpd's "started" notification to its
 * "closed" one (its socket context). Every connection has the same time
 * to live, so the list in accept order is in deadline order. */
typedef struct s_conn {
    int fd;
    int64_t deadline_ms;
    int linked;                     /* in the list: its deadline not passed */
    struct s_conn *prev, *next;
} s_conn_t;

struct glci_metrics_http {
    struct MHD_Daemon *daemon;
    glci_metrics_http_cfg_t cfg;
    int port;
    pthread_mutex_t log_lock;       /* libmicrohttpd may log from two threads */
    glci_log_repeat_t log_mhd;      /* its messages */
    glci_log_repeat_t log_render;   /* a collect callback that fails (server thread) */
    pthread_mutex_t conn_lock;      /* the list, stopping, log_deadline */
    pthread_cond_t conn_wake;       /* CLOCK_MONOTONIC */
    s_conn_t *head, *tail;          /* open connections before their deadline */
    int stopping;
    pthread_t reaper;
    glci_log_repeat_t log_deadline; /* connections closed at their deadline */
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- listen address ---------------------------------------------------- */

static int s_parse_port(const char *text, const char *port, int *out, char *err, size_t errlen)
{
    int64_t v;
    /* glci_parse_int64 takes a sign; a port is digits only */
    if (*port < '0' || *port > '9' || strlen(port) > 5 ||
        glci_parse_int64(port, 0, 65535, &v) < 0) {
        snprintf(err, errlen, "listen address \"%s\": the port must be a number 0..65535",
                 text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int glci_metrics_listen_parse(const char *text, glci_metrics_listen_t *out, char *err,
                              size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text) {
        snprintf(err, errlen, "listen address is empty (give PORT or HOST:PORT)");
        return -1;
    }
    if (strlen(text) > 100) {
        snprintf(err, errlen, "listen address \"%.40s...\" is longer than 100 bytes", text);
        return -1;
    }
    if (strstr(text, "://")) {
        snprintf(err, errlen, "listen address \"%s\": give HOST:PORT, not a URL", text);
        return -1;
    }
    char host[128];
    const char *port;
    int v6 = 0;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "listen address \"%s\": give an IPv6 address as [ADDRESS]:PORT",
                     text);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(close - text - 1), text + 1);
        port = close + 2;
        v6 = 1;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon) {
            host[0] = '\0';
            port = text;
        } else {
            if (colon == text) {
                snprintf(err, errlen,
                         "listen address \"%s\": no host; give %s for loopback or "
                         "0.0.0.0%s for every interface", text, text + 1, text);
                return -1;
            }
            snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
            if (strchr(host, ':')) {
                snprintf(err, errlen,
                         "listen address \"%s\": put an IPv6 address in brackets, "
                         "[ADDRESS]:PORT", text);
                return -1;
            }
            port = colon + 1;
        }
    }
    if (s_parse_port(text, port, &out->port, err, errlen) < 0)
        return -1;

    if (v6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&out->addr;
        if (inet_pton(AF_INET6, host, &sa->sin6_addr) != 1) {
            snprintf(err, errlen, "listen address \"%s\": \"%s\" is not an IPv6 address", text,
                     host);
            return -1;
        }
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)out->port);
        out->addr_len = sizeof *sa;
        out->loopback = IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr) ||
                        (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr) && sa->sin6_addr.s6_addr[12] == 127);
        char canon[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &sa->sin6_addr, canon, sizeof canon);
        snprintf(out->text, sizeof out->text, "[%s]:%d", canon, out->port);
        return 0;
    }
    struct sockaddr_in *sa = (struct sockaddr_in *)&out->addr;
    const char *ip = host;
    if (!*host || strcmp(host, "localhost") == 0)
        ip = "127.0.0.1";
    if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
        snprintf(err, errlen,
                 "listen address \"%s\": \"%s\" is not an IPv4 address or localhost "
                 "(give the address, not a host name)", text, host);
        return -1;
    }
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)out->port);
    out->addr_len = sizeof *sa;
    out->loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
    char canon[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, canon, sizeof canon);
    snprintf(out->text, sizeof out->text, "%s:%d", canon, out->port);
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

static enum MHD_Result s_answer(struct MHD_Connection *c, unsigned status,
                                const char *content_type, char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result s_text(struct MHD_Connection *c, unsigned status, const char *line)
{
    char *body = glci_xstrdup(line);
    return s_answer(c, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result s_metrics(glci_metrics_http_t *h, struct MHD_Connection *c)
{
    char *text, err[256];
    size_t len;
    if (glci_metrics_render(h->cfg.metrics, &text, &len, err, sizeof err) < 0)
        glci_log_repeat(&h->log_render, s_now_ms(), S_LOG_QUIET_MS, GLCI_LOG_WARN,
                        "metrics: %s", err);
    else
        glci_log_repeat_end(&h->log_render, s_now_ms());
    return s_answer(c, MHD_HTTP_OK, GLCI_METRICS_CONTENT_TYPE, text, len);
}

static enum MHD_Result s_health(glci_metrics_http_t *h, struct MHD_Connection *c)
{
    char why[200] = "", line[256];
    if (!h->cfg.health || h->cfg.health(h->cfg.health_arg, why, sizeof why))
        return s_text(c, MHD_HTTP_OK, "ok\n");
    snprintf(line, sizeof line, "unhealthy: %s\n", why[0] ? why : "no reason given");
    return s_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, line);
}

/* What the request line's raw URL says, found before libmicrohttpd splits
 * off the query string and decodes the path in place (after which neither
 * the whole length nor a decoded NUL can be seen: strcmp would stop at
 * it). Handed to s_request as the request's initial *req_cls. */
static const int s_url_ok = 0, s_url_long = 1, s_url_nul = 2;

static void *s_url_look(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    size_t n = strlen(uri);
    if (n > S_MAX_URL)
        return (void *)&s_url_long;
    char path[S_MAX_URL + 1];
    size_t plen = strcspn(uri, "?");
    memcpy(path, uri, plen);
    path[plen] = '\0';
    size_t dlen = MHD_http_unescape(path);
    return memchr(path, '\0', dlen) ? (void *)&s_url_nul : (void *)&s_url_ok;
}

static enum MHD_Result s_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* Answers on the first call, with the headers: a body, if the client sent
 * one, is never read (libmicrohttpd then closes the connection). */
static enum MHD_Result s_request(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    (void)upload_data;
    (void)upload_data_size;
    glci_metrics_http_t *h = cls;
    const int *look = *req_cls;
    size_t header_bytes = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, s_header_bytes, &header_bytes);
    if (header_bytes > S_MAX_HEADERS)
        return s_text(c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                      "request headers over 8 KiB\n");
    /* HTTP/1.1 (and any later 1.x libmicrohttpd serves as 1.1) needs Host */
    if (strcmp(version, MHD_HTTP_VERSION_1_0) != 0 &&
        !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
        return s_text(c, MHD_HTTP_BAD_REQUEST, "an HTTP/1.1 request needs a Host header\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    /* the query string counts (docs/METRICS.md: "a URL over 64 bytes") */
    if (look == &s_url_long || strlen(url) > S_MAX_URL)
        return s_text(c, MHD_HTTP_URI_TOO_LONG, "URL too long\n");
    if (look == &s_url_nul)
        return s_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /health\n");
    if (strcmp(url, "/metrics") == 0)
        return s_metrics(h, c);
    if (strcmp(url, "/health") == 0)
        return s_health(h, c);
    return s_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /health\n");
}

/* ---- the whole-connection deadline -------------------------------------- */

static void s_unlink(glci_metrics_http_t *h, s_conn_t *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        h->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        h->tail = k->prev;
    k->prev = k->next = NULL;
    k->linked = 0;
}

/* libmicrohttpd's connection notifications, on its thread: "started" right
 * after accept, "closed" before it closes the socket. */
static void s_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    glci_metrics_http_t *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!info)
            return;     /* not in the list: only libmicrohttpd's timeout applies */
        s_conn_t *k = glci_xcalloc(1, sizeof *k);
        k->fd = info->connect_fd;
        k->deadline_ms = s_now_ms() + (int64_t)h->cfg.timeout_s * 1000;
        pthread_mutex_lock(&h->conn_lock);
        k->prev = h->tail;
        if (h->tail)
            h->tail->next = k;
        else
            h->head = k;
        h->tail = k;
        k->linked = 1;
        if (h->head == k)
            pthread_cond_signal(&h->conn_wake);
        pthread_mutex_unlock(&h->conn_lock);
        *socket_context = k;
        return;
    }
    s_conn_t *k = *socket_context;
    if (!k)
        return;
    pthread_mutex_lock(&h->conn_lock);
    if (k->linked)
        s_unlink(h, k);
    pthread_mutex_unlock(&h->conn_lock);
    free(k);
    *socket_context = NULL;
}

/* The reaper: sleeps until the oldest connection's deadline and shuts its
 * socket down then, whatever the client is doing (sending a byte now and
 * then, reading the answer slowly). */
static void *s_reaper(void *arg)
{
    glci_metrics_http_t *h = arg;
    pthread_mutex_lock(&h->conn_lock);
    while (!h->stopping) {
        int64_t now = s_now_ms();
        while (h->head && h->head->deadline_ms <= now) {
            s_conn_t *k = h->head;
            shutdown(k->fd, SHUT_RDWR);
            s_unlink(h, k);
            glci_log_repeat(&h->log_deadline, now, S_LOG_QUIET_MS, GLCI_LOG_INFO,
                            "metrics http: closed a connection still open %u s after it "
                            "was accepted", h->cfg.timeout_s);
        }
        if (!h->head) {
            pthread_cond_wait(&h->conn_wake, &h->conn_lock);
            continue;
        }
        struct timespec until = {(time_t)(h->head->deadline_ms / 1000),
                                 (long)(h->head->deadline_ms % 1000) * 1000000};
        pthread_cond_timedwait(&h->conn_wake, &h->conn_lock, &until);
    }
    pthread_mutex_unlock(&h->conn_lock);
    return NULL;
}

static void s_reaper_stop(glci_metrics_http_t *h)
{
    pthread_mutex_lock(&h->conn_lock);
    h->stopping = 1;
    pthread_cond_signal(&h->conn_wake);
    pthread_mutex_unlock(&h->conn_lock);
    pthread_join(h->reaper, NULL);
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    glci_metrics_http_t *h = cls;
    char msg[300];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    pthread_mutex_lock(&h->log_lock);
    glci_log_repeat(&h->log_mhd, s_now_ms(), S_LOG_QUIET_MS, GLCI_LOG_INFO, "metrics http: %s",
                    msg);
    pthread_mutex_unlock(&h->log_lock);
}

/* ---- start and stop ---------------------------------------------------- */

static int s_listen(const glci_metrics_listen_t *l, int *port, char *err, size_t errlen)
{
    int family = l->addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: socket: %s", l->text, strerror(errno));
        return -1;
    }
    int one = 1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", l->text, strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                     : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

int glci_metrics_listen_probe(const glci_metrics_listen_t *listen, char *err, size_t errlen)
{
    int port;
    int fd = s_listen(listen, &port, err, errlen);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int glci_metrics_http_start(const glci_metrics_listen_t *listen,
                            const glci_metrics_http_cfg_t *cfg,
                            glci_metrics_http_t **out, char *err, size_t errlen)
{
    glci_metrics_http_t *h = glci_xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    if (!h->cfg.max_connections)
        h->cfg.max_connections = 32;
    if (!h->cfg.per_ip)
        h->cfg.per_ip = 8;
    if (!h->cfg.timeout_s)
        h->cfg.timeout_s = 10;
    pthread_mutex_init(&h->log_lock, NULL);
    pthread_mutex_init(&h->conn_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->conn_wake, &ca);
    pthread_condattr_destroy(&ca);

    int fd = s_listen(listen, &h->port, err, errlen);
    if (fd < 0)
        goto fail;

    /* the server's threads inherit this mask: no signal for them */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&h->reaper, NULL, s_reaper, h);
    if (prc != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        snprintf(err, errlen, "cannot start the metrics server on %s: %s", listen->text,
                 strerror(prc));
        close(fd);
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (listen->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* strict mode 0: a request without Host reaches s_request, which
     * answers it; mode 1 has libmicrohttpd answer it, garbled */
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->cfg.per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)S_MEMORY_LIMIT,
        MHD_OPTION_STRICT_FOR_CLIENT, 0,
        MHD_OPTION_NOTIFY_CONNECTION, s_notify, h,
        MHD_OPTION_URI_LOG_CALLBACK, s_url_look, NULL,
        MHD_OPTION_END);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->daemon) {
        snprintf(err, errlen, "cannot start the metrics server on %s: %s", listen->text,
                 saved ? strerror(saved) : "libmicrohttpd refused to start");
        close(fd);
        s_reaper_stop(h);
        goto fail;
    }
    *out = h;
    return 0;

fail:
    pthread_cond_destroy(&h->conn_wake);
    pthread_mutex_destroy(&h->conn_lock);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
    *out = NULL;
    return -1;
}

int glci_metrics_http_port(const glci_metrics_http_t *h)
{
    return h->port;
}

void glci_metrics_http_stop(glci_metrics_http_t **self)
{
    if (!self || !*self)
        return;
    glci_metrics_http_t *h = *self;
    MHD_stop_daemon(h->daemon);     /* every connection's "closed" comes first */
    s_reaper_stop(h);
    pthread_cond_destroy(&h->conn_wake);
    pthread_mutex_destroy(&h->conn_lock);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
    *self = NULL;
}
