/* Test helpers for metrics: a plain HTTP client over loopback and a real
 * Prometheus server (Debian's package) started for one test.
 *
 * The Prometheus harness writes a config into a temp folder (one job,
 * "glci", scraping the given targets every second), starts `prometheus`
 * on a free loopback port with its TSDB in that folder, waits for
 * /-/ready, and answers instant queries through /api/v1/query. A port
 * taken between choosing and binding it is retried with another.
 *
 * As in glci_testsupport.h, deadlines are upper bounds for a slow build,
 * never assertions about speed; set-up failures abort the test with a
 * message; outcomes are return values. */
#ifndef GLCI_PROM_H
#define GLCI_PROM_H

#include <stddef.h>

/* ---- HTTP over loopback -------------------------------------------------- */

/* Connects to 127.0.0.1:port (or ::1 when host6), sends request as is and
 * reads what the server sends until it closes the connection or the
 * deadline passes. *response receives it (malloc'd, NUL-terminated; the
 * caller frees). Returns 0 when the server closed, 1 at the deadline with
 * the connection still open, -1 if the connection failed (or was reset
 * before anything came). */
int glci_ts_http_raw(int port, int host6, const char *request, int timeout_ms, char **response);

/* GET path (HTTP/1.0, so the server closes after answering). *status
 * receives the status code and *body the body (malloc'd; may be NULL if
 * not wanted). Returns 0, or -1 when no whole answer came. */
int glci_ts_http_get(int port, const char *path, int timeout_ms, int *status, char **body);

/* Percent-encodes text for a URL query value (malloc'd). */
char *glci_ts_url_encode(const char *text);

/* ---- the exposition text -------------------------------------------------- */

/* The value of one sample in exposition text: series is the name with its
 * labels as the exposition prints them, e.g.
 * glci_collector_batches_total{status="applied"}. Returns 0 and *value, or
 * -1 when no line has it. */
int glci_ts_metric_value(const char *text, const char *series, double *value);

/* Scrapes 127.0.0.1:port/metrics and reads series from it: 0, or -1 when
 * no answer came or the sample is not there. */
int glci_ts_scrape_value(int port, const char *series, double *value);

/* Scrapes until series equals want. Returns 0, or -1 at the deadline (the
 * last value is printed to stderr). */
int glci_ts_scrape_wait(int port, const char *series, double want, int timeout_ms);

/* promtool check metrics (Debian's prometheus package) on text. Returns 0
 * when promtool exits 0 and says nothing (every finding is a line), else
 * -1 after printing what it said. */
int glci_ts_promtool_check(const char *text);

/* Scrapes 127.0.0.1:port/metrics and checks it with promtool as above:
 * 0, or -1 when no 200 came or promtool found something. */
int glci_ts_promtool_scrape(int port);

/* ---- Prometheus ----------------------------------------------------------- */

typedef struct glci_ts_prom glci_ts_prom_t;

/* Starts Prometheus scraping targets ("127.0.0.1:PORT" strings,
 * NULL-terminated) as job "glci" every second. rule_file, if not NULL, is
 * loaded as a rule file (evaluated every second). Aborts the test if it
 * cannot start within timeout_ms (its log is printed). */
glci_ts_prom_t *glci_ts_prom_start(const char *const *targets, const char *rule_file,
                                   int timeout_ms);

/* The port of Prometheus' web server and API on 127.0.0.1. */
int glci_ts_prom_port(const glci_ts_prom_t *p);

/* Runs an instant query; returns the whole JSON answer (malloc'd), or NULL
 * if Prometheus did not answer 200. */
char *glci_ts_prom_query_json(glci_ts_prom_t *p, const char *promql);

/* Runs an instant query whose result is one sample; *value receives it.
 * Returns 0, 1 when the result is empty, -1 on any other answer. */
int glci_ts_prom_query(glci_ts_prom_t *p, const char *promql, double *value);

/* Runs the query until its single sample equals want. Returns 0, or -1 at
 * the deadline (the last answer is printed to stderr). */
int glci_ts_prom_wait_value(glci_ts_prom_t *p, const char *promql, double want,
                            int timeout_ms);

/* Waits until every target was scraped successfully (up == 1 for each). */
int glci_ts_prom_wait_up(glci_ts_prom_t *p, int timeout_ms);

/* Stops Prometheus, removes its folder, frees the handle and sets *self to
 * NULL. Accepts NULL. */
void glci_ts_prom_stop(glci_ts_prom_t **self);

#endif
