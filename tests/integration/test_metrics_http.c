/* Integration tests for metrics/glci_metrics_http.c: the server runs in
 * this process on a loopback port the kernel picks; curl (a real HTTP
 * client) and raw sockets (requests no client library would send) talk to
 * it. What must hold: /metrics is the registry's exposition with the 0.0.4
 * content type, /health follows the callback, only GET and HEAD are
 * served, bad and hostile requests get an error or are closed while other
 * clients are served, the limits hold, and the server's thread takes no
 * signal. When it may (as root), the whole test runs in a network namespace
 * of its own, where the IPv6 case listens on that namespace's ::1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "glci_metrics.h"
#include "glci_metrics_http.h"
#include "glci_prom.h"
#include "glci_testsupport.h"

#define S_WAIT_MS 60000

typedef struct {
    glci_metrics_t *reg;
    glci_metric_t *counter;
    glci_metrics_http_t *http;
    int port;
    atomic_int healthy;
} s_fixture_t;

static int s_health(void *arg, char *why, size_t whylen)
{
    s_fixture_t *f = arg;
    if (atomic_load(&f->healthy))
        return 1;
    snprintf(why, whylen, "store not writable");
    return 0;
}

static s_fixture_t *s_start(const char *addr, unsigned max_conn, unsigned per_ip,
                            unsigned timeout_s)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char err[256];
    f->reg = glci_metrics_new();
    assert_int_equal(glci_metrics_add(f->reg, &(glci_metric_spec_t){
        .type = GLCI_METRIC_COUNTER, .name = "glci_test_events_total", .help = "Events."},
        &f->counter, err, sizeof err), 0);
    atomic_init(&f->healthy, 1);
    glci_metrics_listen_t l;
    assert_int_equal(glci_metrics_listen_parse(addr, &l, err, sizeof err), 0);
    glci_metrics_http_cfg_t cfg = {.metrics = f->reg, .health = s_health, .health_arg = f,
                                   .max_connections = max_conn, .per_ip = per_ip,
                                   .timeout_s = timeout_s};
    if (glci_metrics_http_start(&l, &cfg, &f->http, err, sizeof err) != 0)
        fail_msg("start on %s: %s", addr, err);
    f->port = glci_metrics_http_port(f->http);
    assert_true(f->port > 0);
    return f;
}

static void s_stop(s_fixture_t **f)
{
    glci_metrics_http_stop(&(*f)->http);
    assert_null((*f)->http);
    glci_metrics_destroy(&(*f)->reg);
    free(*f);
    *f = NULL;
}

/* curl with its output (headers with -i/-I, then the body) in *out; returns
 * curl's exit status. */
static int s_curl(const char *const *args, char **out)
{
    const char *argv[16] = {"/usr/bin/curl", "-sS", "--max-time", "60"};
    int n = 4;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, S_WAIT_MS, out, &err);
    if (rc != 0)
        fprintf(stderr, "curl: %s\n", err ? err : "");
    free(err);
    return rc;
}

static char *s_url(int port, const char *path)
{
    char *u = malloc(128);
    snprintf(u, 128, "http://127.0.0.1:%d%s", port, path);
    return u;
}

static void test_get_metrics(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 0);
    glci_counter_add(f->counter, 0, 41);
    glci_counter_inc(f->counter, 0);
    char *url = s_url(f->port, "/metrics"), *out;
    assert_int_equal(s_curl((const char *[]){"-i", url, NULL}, &out), 0);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    assert_non_null(strstr(out, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_non_null(strstr(out, "Cache-Control: no-store\r\n"));
    char *body = strstr(out, "\r\n\r\n") + 4, *want, err[256];
    assert_int_equal(glci_metrics_render(f->reg, &want, NULL, err, sizeof err), 0);
    assert_string_equal(body, want);
    assert_non_null(strstr(body, "glci_test_events_total 42\n"));
    free(out);

    /* HEAD: the same headers and length, no body */
    assert_int_equal(s_curl((const char *[]){"-I", url, NULL}, &out), 0);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    char len[64];
    snprintf(len, sizeof len, "Content-Length: %zu\r\n", strlen(want));
    assert_non_null(strstr(out, len));
    assert_string_equal(strstr(out, "\r\n\r\n"), "\r\n\r\n");
    free(out);
    free(want);

    /* a query string is ignored */
    free(url);
    url = s_url(f->port, "/metrics?name[]=x");
    assert_int_equal(s_curl((const char *[]){"-g", "-o", "/dev/null", "-w", "%{http_code}", url,
                                             NULL}, &out), 0);
    assert_string_equal(out, "200");
    free(out);
    free(url);
    s_stop(&f);
}

static void test_health(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 0);
    char *url = s_url(f->port, "/health"), *out;
    assert_int_equal(s_curl((const char *[]){"-w", " %{http_code}", url, NULL}, &out), 0);
    assert_string_equal(out, "ok\n 200");
    free(out);
    atomic_store(&f->healthy, 0);
    assert_int_equal(s_curl((const char *[]){"-w", " %{http_code}", url, NULL}, &out), 0);
    assert_string_equal(out, "unhealthy: store not writable\n 503");
    free(out);
    atomic_store(&f->healthy, 1);
    assert_int_equal(s_curl((const char *[]){"-I", url, NULL}, &out), 0);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    free(out);
    free(url);
    s_stop(&f);
}

static void test_methods_and_paths(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 0);
    char *metrics = s_url(f->port, "/metrics"), *out;
    static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", NULL};
    for (int i = 0; methods[i]; i++) {
        assert_int_equal(s_curl((const char *[]){"-i", "-X", methods[i], "--data", "x=1",
                                                 metrics, NULL}, &out), 0);
        if (!strstr(out, "HTTP/1.1 405") || !strstr(out, "Allow: GET, HEAD\r\n"))
            fail_msg("%s: %s", methods[i], out);
        free(out);
    }
    static const char *const missing[] = {"/", "/metrics/", "/Metrics", "/health/x",
                                          "/../metrics", "/favicon.ico", NULL};
    for (int i = 0; missing[i]; i++) {
        int status = 0;
        assert_int_equal(glci_ts_http_get(f->port, missing[i], S_WAIT_MS, &status, NULL), 0);
        if (status != 404 && status != 400)
            fail_msg("%s: %d", missing[i], status);
    }
    char longpath[200] = "/metrics";
    memset(longpath + 8, 'x', 100);
    longpath[108] = '\0';
    int status = 0;
    assert_int_equal(glci_ts_http_get(f->port, longpath, S_WAIT_MS, &status, NULL), 0);
    assert_int_equal(status, 414);
    /* the whole URL counts, query string included */
    char longquery[200] = "/health?";
    memset(longquery + 8, 'a', 100);
    longquery[108] = '\0';
    assert_int_equal(glci_ts_http_get(f->port, longquery, S_WAIT_MS, &status, NULL), 0);
    assert_int_equal(status, 414);
    assert_int_equal(glci_ts_http_get(f->port, "/health?a=1", S_WAIT_MS, &status, NULL), 0);
    assert_int_equal(status, 200);
    /* a decoded NUL is part of the path, not its end */
    static const char *const nul[] = {"/health%00", "/metrics%00x", "/health%00?a=1", NULL};
    for (int i = 0; nul[i]; i++) {
        assert_int_equal(glci_ts_http_get(f->port, nul[i], S_WAIT_MS, &status, NULL), 0);
        if (status != 404)
            fail_msg("%s: %d", nul[i], status);
    }
    assert_int_equal(glci_ts_http_get(f->port, "/%68ealth", S_WAIT_MS, &status, NULL), 0);
    assert_int_equal(status, 200);
    free(metrics);
    s_stop(&f);
}

/* Requests no client should send: each gets an error or is closed, and the
 * server goes on serving. */
static void test_hostile_requests(void **state)
{
    /* an idle connection (a request that never ends its line) closes after 2 s */
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 2);
    size_t big = 64 * 1024;
    char *huge = malloc(big + 128);
    int n = snprintf(huge, 128, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(huge + n, 'a', big);
    memcpy(huge + n + big, "\r\n\r\n", 5);
    const char *requests[] = {
        "garbage\r\n\r\n",
        "GET /metrics HTTP/9.9\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n\r\n",                  /* 1.1 without Host */
        "GET /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
        "GET /metrics HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",    /* a TLS hello */
        huge,
    };
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        char *resp;
        int rc = glci_ts_http_raw(f->port, 0, requests[i], S_WAIT_MS, &resp);
        /* closed by the server (rc 0 or a reset), never left hanging */
        if (rc == 1)
            fail_msg("request %zu: connection left open: %s", i, resp);
        if (rc == 0 && resp[0] && strncmp(resp, "HTTP/1.", 7) != 0)
            fail_msg("request %zu: not an HTTP answer: %s", i, resp);
        if (i == sizeof requests / sizeof requests[0] - 1 && rc == 0 && resp[0] &&
            strstr(resp, " 200 "))
            fail_msg("a 64 KiB header was served: %.80s", resp);
        free(resp);
        int status = 0;
        assert_int_equal(glci_ts_http_get(f->port, "/health", S_WAIT_MS, &status, NULL), 0);
        assert_int_equal(status, 200);
    }
    free(huge);
    s_stop(&f);
}

static int s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Opens n connections that each send half a request and stop, so the
 * server holds them. */
static void s_hold(int port, int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        fds[i] = s_connect(port);
        assert_int_equal(send(fds[i], "GET /hea", 8, MSG_NOSIGNAL), 8);
    }
}

/* Reads until the peer closes (1) or the deadline passes (0). */
static int s_closed_within(int fd, int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return 1;
        if (r < 0)
            return 0;
    }
}

/* A client that sends half a request and stops holds one connection, not
 * the server: others are served, the caller keeps updating, and the idle
 * connection is closed once it is idle for timeout_s. */
static void test_stalled_client(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 1);
    int stalled = s_connect(f->port);
    assert_int_equal(send(stalled, "GET /metr", 9, MSG_NOSIGNAL), 9);
    for (int i = 0; i < 3; i++) {
        glci_counter_inc(f->counter, 0);
        int status = 0;
        char *body;
        assert_int_equal(glci_ts_http_get(f->port, "/metrics", S_WAIT_MS, &status, &body), 0);
        assert_int_equal(status, 200);
        char line[64];
        snprintf(line, sizeof line, "glci_test_events_total %d\n", i + 1);
        assert_non_null(strstr(body, line));
        free(body);
    }
    assert_int_equal(s_closed_within(stalled, S_WAIT_MS), 1);
    close(stalled);
    s_stop(&f);
}

static int s_connect_from(const char *from, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Clients that send a byte every second never fall idle, yet each
 * connection ends timeout_s after it was accepted: with every slot taken
 * by them (32, 8 from each of four addresses), a scrape from a fifth
 * address is answered once their deadline passes, and every dripping
 * connection is closed by the server. */
static void test_dripping_clients_cannot_hold_the_server(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 2);
    int drip[32], closed[32] = {0}, open_n = 32;
    for (int i = 0; i < 32; i++) {
        char from[16];
        snprintf(from, sizeof from, "127.0.0.%d", 2 + i / 8);
        drip[i] = s_connect_from(from, f->port);
        const char *line = "GET /health HTTP/1.1\r\nX-Drip: ";
        assert_int_equal(send(drip[i], line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
    }
    int scrape = s_connect_from("127.0.0.9", f->port);
    const char *req = "GET /health HTTP/1.0\r\n\r\n";
    assert_int_equal(send(scrape, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    char buf[1024];
    size_t got = 0;
    int answered = 0;
    /* a byte a second to every dripping connection still open, until the
     * scrape is answered and the server has closed them all */
    for (int turn = 0; turn < S_WAIT_MS / 1000 && (!answered || open_n > 0); turn++) {
        for (int i = 0; i < 32; i++)
            if (!closed[i] && send(drip[i], "a", 1, MSG_NOSIGNAL) != 1) {
                closed[i] = 1;
                open_n--;
            }
        struct pollfd pfd = {scrape, POLLIN, 0};
        while (!answered && poll(&pfd, 1, 1000) == 1) {
            ssize_t r = recv(scrape, buf + got, sizeof buf - 1 - got, 0);
            if (r <= 0) {
                answered = 1;
                break;
            }
            got += (size_t)r;
        }
    }
    buf[got] = '\0';
    if (!strstr(buf, "HTTP/1.1 200"))
        fail_msg("the scrape was not answered while clients dripped: \"%s\"", buf);
    for (int i = 0; i < 32; i++) {
        if (!closed[i])
            assert_int_equal(s_closed_within(drip[i], S_WAIT_MS), 1);
        close(drip[i]);
    }
    close(scrape);
    s_stop(&f);
}

/* What an answer's head says: its status lines (one, unless garbled), its
 * status, whether it carries Cache-Control: no-store, and whether its
 * Content-Length is the body's length. */
typedef struct {
    size_t status_lines;
    int status;
    int no_store;
    int length_ok;
} s_head_t;

static s_head_t s_head(const char *resp)
{
    s_head_t h = {0};
    h.status_lines = glci_ts_count(resp, "\nHTTP/1.") + (strncmp(resp, "HTTP/1.", 7) == 0);
    if (strncmp(resp, "HTTP/1.1 ", 9) == 0)
        h.status = (int)strtol(resp + 9, NULL, 10);
    const char *end = strstr(resp, "\r\n\r\n");
    if (!end)
        return h;
    const char *cc = strstr(resp, "\r\nCache-Control: no-store\r\n");
    h.no_store = cc && cc < end;
    const char *cl = strstr(resp, "\r\nContent-Length: ");
    if (cl && cl < end)
        h.length_ok = strtoul(cl + 18, NULL, 10) == strlen(end + 4);
    return h;
}

static char *s_request_with(const char *before, char fill, size_t n, const char *after)
{
    size_t a = strlen(before), b = strlen(after);
    char *r = malloc(a + n + b + 1);
    memcpy(r, before, a);
    memset(r + a, fill, n);
    memcpy(r + a + n, after, b + 1);
    return r;
}

/* Every error answer: the server's own carry Cache-Control: no-store and
 * a right Content-Length with one status line; those libmicrohttpd sends
 * itself (docs/METRICS.md) carry a right Content-Length and no
 * Cache-Control. An HTTP/1.1 request without Host is answered once, by
 * the server, not garbled by libmicrohttpd. */
static void test_error_answers(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 0);
    struct {
        char *req;
        int status, ours;
    } cases[] = {
        {strdup("GET /health HTTP/1.1\r\n\r\n"), 400, 1},
        {strdup("GET /health HTTP/1.2\r\n\r\n"), 400, 1},
        {strdup("GET /health HTTP/1.1\r\nhost: x\r\n\r\n"), 200, 1},
        {strdup("GET /health HTTP/1.0\r\n\r\n"), 200, 1},
        {s_request_with("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", 'a', 9000, "\r\n\r\n"),
         431, 1},
        {s_request_with("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", 'a', 20000, "\r\n\r\n"),
         431, 1},
        {s_request_with("GET /health?", 'a', 100, " HTTP/1.1\r\nHost: x\r\n\r\n"), 414, 1},
        {s_request_with("GET /health?", 'a', 20000, " HTTP/1.1\r\nHost: x\r\n\r\n"), 414, 1},
        {strdup("GET /hea lth HTTP/1.1\r\nHost: x\r\n\r\n"), 404, 1},
        {strdup("POST /health HTTP/1.1\r\nHost: x\r\n\r\n"), 405, 1},
        /* libmicrohttpd's own */
        {strdup("GET /health HTTP/2.0\r\nHost: x\r\n\r\n"), 505, 0},
        {s_request_with("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", 'a', 40000, "\r\n\r\n"),
         431, 0},
        {s_request_with("GET /health?", 'a', 40000, " HTTP/1.1\r\nHost: x\r\n\r\n"), 414, 0},
        {strdup("GET /health\r\n\r\n"), 400, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *resp = NULL;
        int rc = glci_ts_http_raw(f->port, 0, cases[i].req, S_WAIT_MS, &resp);
        if (rc != 0)
            fail_msg("case %zu: no whole answer (%d)", i, rc);
        s_head_t h = s_head(resp);
        if (h.status_lines != 1 || h.status != cases[i].status || !h.length_ok ||
            h.no_store != cases[i].ours)
            fail_msg("case %zu (%.40s): status lines %zu, status %d (want %d), length %s, "
                     "no-store %d (want %d):\n%.400s", i, cases[i].req, h.status_lines, h.status,
                     cases[i].status, h.length_ok ? "right" : "wrong", h.no_store, cases[i].ours,
                     resp);
        free(resp);
        free(cases[i].req);
    }
    s_stop(&f);
}

/* At most max_connections at once: libmicrohttpd stops accepting, so one
 * more waits in the listen backlog, unanswered, until a slot frees. The
 * server closes a connection after each answer, so the four it holds are
 * clients that stopped half way through a request (accepted in order,
 * before the fifth). */
static void test_connection_limit(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 4, 4, 60);
    int fds[4];
    s_hold(f->port, fds, 4);
    int extra = s_connect(f->port);
    const char *req = "GET /health HTTP/1.0\r\n\r\n";
    assert_int_equal(send(extra, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    /* a correct server never answers it now; a second is long enough to
     * catch one that would */
    struct pollfd pfd = {extra, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 1000), 0);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    char buf[1024];
    size_t got = 0;
    for (;;) {
        pfd.revents = 0;
        if (poll(&pfd, 1, S_WAIT_MS) != 1)
            break;
        ssize_t r = recv(extra, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    close(extra);
    s_stop(&f);
}

/* One address holds at most per_ip connections, whatever the total: one
 * more is closed at accept, unanswered. */
static void test_per_ip_limit(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 32, 2, 60);
    int fds[2];
    s_hold(f->port, fds, 2);
    char *resp;
    int rc = glci_ts_http_raw(f->port, 0, "GET /health HTTP/1.0\r\n\r\n", S_WAIT_MS, &resp);
    if (rc == 1 || (resp && resp[0]))
        fail_msg("a third connection from one address was served (%d): %s", rc,
                 resp ? resp : "");
    free(resp);
    for (int i = 0; i < 2; i++)
        close(fds[i]);
    s_stop(&f);
}

/* Set by main: this process runs in a network namespace of its own, so ::1
 * is the namespace's; without one (not root) the case is skipped, since
 * the host's own addresses are not the tests' to use. */
static int s_own_net;

static void test_ipv6_loopback(void **state)
{
    if (!s_own_net)
        skip();
    s_fixture_t *f = s_start("[::1]:0", 0, 0, 0);
    char *resp;
    assert_int_equal(glci_ts_http_raw(f->port, 1, "GET /health HTTP/1.0\r\n\r\n", S_WAIT_MS,
                                      &resp), 0);
    assert_non_null(strstr(resp, " 200 "));
    free(resp);
    /* IPv6 only: not on 127.0.0.1 */
    int status;
    assert_int_equal(glci_ts_http_get(f->port, "/health", 2000, &status, NULL), -1);
    s_stop(&f);
}

static void test_address_in_use(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 0);
    char addr[64], err[256] = "";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", f->port);
    glci_metrics_listen_t l;
    assert_int_equal(glci_metrics_listen_parse(addr, &l, err, sizeof err), 0);
    glci_metrics_http_cfg_t cfg = {.metrics = f->reg};
    glci_metrics_http_t *second = (glci_metrics_http_t *)(uintptr_t)1; /* must be overwritten */
    assert_int_equal(glci_metrics_http_start(&l, &cfg, &second, err, sizeof err), -1);
    assert_null(second);
    char want[128];
    snprintf(want, sizeof want, "cannot listen on %s: Address already in use", addr);
    assert_string_equal(err, want);
    /* the first is unaffected */
    int status = 0;
    assert_int_equal(glci_ts_http_get(f->port, "/health", S_WAIT_MS, &status, NULL), 0);
    assert_int_equal(status, 200);
    s_stop(&f);
}

/* A signal for the process goes to a thread that has it unblocked: with
 * the server's thread blocking all, SIGUSR1 (default: terminate) stays
 * pending for this thread, which blocked it after the server started. */
static void test_server_thread_takes_no_signal(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, NULL), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    struct timespec wait = {60, 0};
    assert_int_equal(sigtimedwait(&usr1, NULL, &wait), SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL), 0);
    s_stop(&f);
}

/* Stopping closes a connection that is still open and returns. */
static void test_stop_with_open_connection(void **state)
{
    s_fixture_t *f = s_start("127.0.0.1:0", 0, 0, 60);
    int fd = s_connect(f->port);
    assert_int_equal(send(fd, "GET /he", 7, MSG_NOSIGNAL), 7);
    int status = 0;
    assert_int_equal(glci_ts_http_get(f->port, "/health", S_WAIT_MS, &status, NULL), 0);
    s_stop(&f);
    assert_int_equal(s_closed_within(fd, S_WAIT_MS), 1);
    close(fd);
    glci_metrics_http_stop(NULL);
}

int main(void)
{
    s_own_net = glci_ts_try_own_network("on IPv6");
    if (s_own_net < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_metrics),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_methods_and_paths),
        cmocka_unit_test(test_hostile_requests),
        cmocka_unit_test(test_stalled_client),
        cmocka_unit_test(test_dripping_clients_cannot_hold_the_server),
        cmocka_unit_test(test_error_answers),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_per_ip_limit),
        cmocka_unit_test(test_ipv6_loopback),
        cmocka_unit_test(test_address_in_use),
        cmocka_unit_test(test_server_thread_takes_no_signal),
        cmocka_unit_test(test_stop_with_open_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
