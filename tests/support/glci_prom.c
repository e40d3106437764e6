/* HTTP client and Prometheus harness for the tests: see glci_prom.h. */
#include "glci_prom.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "glci_testsupport.h"

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void s_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "prometheus harness: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static long long s_ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- HTTP ----------------------------------------------------------------- */

int glci_ts_http_raw(int port, int host6, const char *request, int timeout_ms, char **response)
{
    *response = NULL;
    int fd = socket(host6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        s_die("socket: %s", strerror(errno));
    int rc;
    if (host6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    size_t n = strlen(request), off = 0;
    while (off < n) {
        ssize_t w = send(fd, request + off, n - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;      /* the server may answer and close before reading it all */
        }
        off += (size_t)w;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        s_die("out of memory");
    long long deadline = s_ms_now() + timeout_ms;
    int result = 1;
    for (;;) {
        long long left = deadline - s_ms_now();
        if (left <= 0)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        if (len + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                s_die("out of memory");
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            result = len ? 0 : -1;     /* reset */
            break;
        }
        if (r == 0) {
            result = 0;
            break;
        }
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(fd);
    *response = buf;
    return result;
}

int glci_ts_http_get(int port, const char *path, int timeout_ms, int *status, char **body)
{
    char req[2048];
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
    char *resp;
    int rc = glci_ts_http_raw(port, 0, req, timeout_ms, &resp);
    if (body)
        *body = NULL;
    int code = 0;
    const char *end = resp ? strstr(resp, "\r\n\r\n") : NULL;
    if (rc != 0 || !end || sscanf(resp, "HTTP/1.%*d %d", &code) != 1) {
        free(resp);
        return -1;
    }
    *status = code;
    if (body) {
        size_t n = strlen(end + 4);
        *body = malloc(n + 1);
        if (!*body)
            s_die("out of memory");
        memcpy(*body, end + 4, n + 1);
    }
    free(resp);
    return 0;
}

char *glci_ts_url_encode(const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(text);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        s_die("out of memory");
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            *s == '-' || *s == '_' || *s == '.' || *s == '~') {
            *o++ = (char)*s;
        } else {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 15];
        }
    }
    *o = '\0';
    return out;
}

/* ---- Prometheus ------------------------------------------------------------- */

struct glci_ts_prom {
    glci_ts_proc_t *proc;
    char *dir;
    int port;
    int targets;
};

/* ---- the exposition text -------------------------------------------------- */

int glci_ts_metric_value(const char *text, const char *series, double *value)
{
    size_t n = strlen(series);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            char *end;
            *value = strtod(line + n + 1, &end);
            return end != line + n + 1 && (*end == '\n' || *end == '\0') ? 0 : -1;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

int glci_ts_scrape_value(int port, const char *series, double *value)
{
    int status = 0;
    char *body = NULL;
    int rc = glci_ts_http_get(port, "/metrics", 60000, &status, &body);
    if (rc == 0 && status == 200)
        rc = glci_ts_metric_value(body, series, value);
    else
        rc = -1;
    free(body);
    return rc;
}

int glci_ts_scrape_wait(int port, const char *series, double want, int timeout_ms)
{
    long long deadline = s_ms_now() + timeout_ms;
    double v = 0;
    int rc;
    for (;;) {
        rc = glci_ts_scrape_value(port, series, &v);
        if (rc == 0 && v == want)
            return 0;
        if (s_ms_now() >= deadline)
            break;
        s_sleep_ms(200);
    }
    fprintf(stderr, "scrape of port %d: %s never became %.17g (last: %s%.17g)\n", port, series,
            want, rc == 0 ? "" : "no sample, ", v);
    return -1;
}

int glci_ts_promtool_check(const char *text)
{
    char *dir = glci_ts_tmpdir("promtool");
    size_t n = strlen(dir) + 32;
    char *file = malloc(n), *script = malloc(2 * n + 64);
    if (!file || !script)
        s_die("out of memory");
    snprintf(file, n, "%s/metrics.prom", dir);
    if (glci_ts_write_file(file, text) != 0)
        s_die("cannot write %s", file);
    snprintf(script, 2 * n + 64, "exec /usr/bin/promtool check metrics < '%s'", file);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(argv, NULL, 120000, &out, &err);
    int quiet = (!out || !*out) && (!err || !*err);
    if (rc != 0 || !quiet)
        fprintf(stderr, "promtool check metrics: exit %d\n%s%s\n", rc, out ? out : "",
                err ? err : "");
    free(out);
    free(err);
    free(script);
    free(file);
    glci_ts_rmtree(dir);
    free(dir);
    return rc == 0 && quiet ? 0 : -1;
}

int glci_ts_promtool_scrape(int port)
{
    int status = 0;
    char *scrape = NULL;
    int rc = glci_ts_http_get(port, "/metrics", 60000, &status, &scrape);
    if (rc == 0 && status == 200)
        rc = glci_ts_promtool_check(scrape);
    else
        rc = -1;
    free(scrape);
    return rc;
}

/* ---- Prometheus ----------------------------------------------------------- */

static void s_write_config(const char *dir, const char *const *targets, const char *rule_file)
{
    char path[512], text[8192];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                          "  evaluation_interval: 1s\n");
    if (rule_file)
        n += (size_t)snprintf(text + n, sizeof text - n, "rule_files:\n  - '%s'\n", rule_file);
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "scrape_configs:\n  - job_name: glci\n    static_configs:\n"
                          "      - targets:\n");
    for (size_t i = 0; targets[i]; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "          - '%s'\n", targets[i]);
    if (n >= sizeof text)
        s_die("config too long");
    snprintf(path, sizeof path, "%s/prometheus.yml", dir);
    if (glci_ts_write_file(path, text) != 0)
        s_die("cannot write %s", path);
}

/* 1 when /-/ready answers 200, 0 when not yet, -1 when Prometheus exited. */
static int s_ready(glci_ts_prom_t *p)
{
    if (!glci_ts_proc_alive(p->proc))
        return -1;
    int status = 0;
    if (glci_ts_http_get(p->port, "/-/ready", 2000, &status, NULL) == 0 && status == 200)
        return 1;
    return 0;
}

glci_ts_prom_t *glci_ts_prom_start(const char *const *targets, const char *rule_file,
                                   int timeout_ms)
{
    glci_ts_prom_t *p = calloc(1, sizeof *p);
    if (!p)
        s_die("out of memory");
    p->dir = glci_ts_tmpdir("prom");
    for (const char *const *t = targets; *t; t++)
        p->targets++;
    s_write_config(p->dir, targets, rule_file);
    char config[512], tsdb[512], listen[64];
    snprintf(config, sizeof config, "--config.file=%s/prometheus.yml", p->dir);
    snprintf(tsdb, sizeof tsdb, "--storage.tsdb.path=%s/data", p->dir);
    long long deadline = s_ms_now() + timeout_ms;
    for (int attempt = 0; attempt < 5; attempt++) {
        p->port = glci_ts_free_port();
        snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", p->port);
        const char *argv[] = {"/usr/bin/prometheus", config, tsdb, listen, NULL};
        p->proc = glci_ts_proc_start(argv, NULL);
        int r;
        while ((r = s_ready(p)) == 0 && s_ms_now() < deadline)
            s_sleep_ms(100);
        if (r == 1)
            return p;
        char *log = glci_ts_proc_stderr(p->proc);
        int taken = log && strstr(log, "address already in use");
        if (!taken || s_ms_now() >= deadline) {
            fprintf(stderr, "prometheus did not become ready; its log:\n%s\n", log ? log : "");
            free(log);
            glci_ts_proc_stop(&p->proc, 5000);
            s_die("cannot start prometheus");
        }
        free(log);
        glci_ts_proc_stop(&p->proc, 5000);
    }
    s_die("no free port for prometheus after 5 tries");
}

int glci_ts_prom_port(const glci_ts_prom_t *p)
{
    return p->port;
}

char *glci_ts_prom_query_json(glci_ts_prom_t *p, const char *promql)
{
    char *q = glci_ts_url_encode(promql);
    size_t n = strlen(q) + 32;
    char *path = malloc(n);
    if (!path)
        s_die("out of memory");
    snprintf(path, n, "/api/v1/query?query=%s", q);
    free(q);
    int status = 0;
    char *body = NULL;
    int rc = glci_ts_http_get(p->port, path, 30000, &status, &body);
    free(path);
    if (rc != 0 || status != 200) {
        free(body);
        return NULL;
    }
    return body;
}

int glci_ts_prom_query(glci_ts_prom_t *p, const char *promql, double *value)
{
    char *body = glci_ts_prom_query_json(p, promql);
    if (!body)
        return -1;
    json_error_t jerr;
    json_t *root = json_loads(body, 0, &jerr);
    free(body);
    json_t *result = json_object_get(json_object_get(root, "data"), "result");
    int rc = -1;
    if (json_is_array(result) && json_array_size(result) == 0)
        rc = 1;
    else if (json_is_array(result) && json_array_size(result) == 1) {
        json_t *v = json_array_get(json_object_get(json_array_get(result, 0), "value"), 1);
        if (json_is_string(v)) {
            char *end;
            *value = strtod(json_string_value(v), &end);
            rc = *end == '\0' ? 0 : -1;
        }
    }
    json_decref(root);
    return rc;
}

int glci_ts_prom_wait_value(glci_ts_prom_t *p, const char *promql, double want, int timeout_ms)
{
    long long deadline = s_ms_now() + timeout_ms;
    double v = 0;
    int rc;
    for (;;) {
        rc = glci_ts_prom_query(p, promql, &v);
        if (rc == 0 && v == want)
            return 0;
        if (s_ms_now() >= deadline)
            break;
        s_sleep_ms(200);
    }
    char *json = glci_ts_prom_query_json(p, promql);
    fprintf(stderr, "prometheus: %s never became %.17g; last answer: %s\n", promql, want,
            json ? json : "(none)");
    free(json);
    return -1;
}

int glci_ts_prom_wait_up(glci_ts_prom_t *p, int timeout_ms)
{
    return glci_ts_prom_wait_value(p, "count(up{job=\"glci\"} == 1)", p->targets, timeout_ms);
}

void glci_ts_prom_stop(glci_ts_prom_t **self)
{
    if (!self || !*self)
        return;
    glci_ts_prom_t *p = *self;
    glci_ts_proc_stop(&p->proc, 10000);
    glci_ts_rmtree(p->dir);
    free(p->dir);
    free(p);
    *self = NULL;
}
