/* The collector's and the agent's metrics, live: the real glci-collector
 * with metrics_listen and two real glci-agents with metrics_file, over
 * CURVE on loopback, scraped by a real Prometheus server.
 *
 * - Prometheus reads back through its HTTP API that the observations
 *   applied are what the agents sent, and the batches, handshakes,
 *   connected agents, cities' last-seen times, health and build info;
 * - a rejected value is counted by reason on both sides;
 * - a refused key and a wrong collector key show as refused and failed
 *   handshakes, and leave the count of connected agents as it was;
 * - promtool accepts a live scrape and the agent's textfile;
 * - stalled HTTP clients hold no batch back;
 * - a reload moves the server to a changed metrics_listen and stops it when
 *   the setting goes;
 * - a collector whose metrics_listen cannot be bound does not start;
 * - /health answers 503 with the reason while the store is at its map_max
 *   (and the failure is logged once, with a count), 200 again after a
 *   restart with room, and 503 when the store's data file is removed;
 * - HTTP probes of the data port count as failed handshakes and leave the
 *   count of connected agents as it was;
 * - once the data file is removed, a batch is answered UNAVAILABLE and
 *   stays in the agent's outbox;
 * - on a disk that is really full (a small tmpfs in a mount namespace of
 *   the test's own, as root) /health answers 503, and 200 again in the same
 *   process once room is made, with every value stored once. */
#define _GNU_SOURCE                 /* unshare, CLONE_NEWNS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_checker.h"
#include "glci_keyfile.h"
#include "glci_prom.h"
#include "glci_testsupport.h"

#define S_WAIT_MS GLCI_SYS_DRAIN_MS
#define N_AGENTS 2
#define N_VALUES 300           /* per agent: 3 batches of batch_max 100 */

static glci_sys_t *s_sys;
static glci_ts_prom_t *s_prom;
static int s_port;             /* the collector's metrics port */
static char s_textfile[N_AGENTS][700];

/* The port the collector says it serves metrics on (it was given port 0). */
static int s_metrics_port(glci_ts_proc_t *coll)
{
    const char *mark = "serving /metrics and /health on 127.0.0.1:";
    if (glci_ts_proc_wait_log(coll, mark, S_WAIT_MS) != 0)
        return -1;
    char *log = glci_ts_proc_stderr(coll);
    const char *at = log;
    for (const char *p = strstr(log, mark); p; p = strstr(p + 1, mark))
        at = p;                /* the latest, after a restart or a reload */
    int port = (int)strtol(at + strlen(mark), NULL, 10);
    free(log);
    return port;
}

/* Scrapes until series is at least want. */
static double s_wait_at_least(int port, const char *series, double want)
{
    double v = -1;
    for (int waited = 0; waited < S_WAIT_MS; waited += 200) {
        if (glci_ts_scrape_value(port, series, &v) == 0 && v >= want)
            return v;
        glci_sys_sleep_ms(200);
    }
    fail_msg("%s stayed at %g, below %g", series, v, want);
    return v;
}

/* Waits until /health answers want (a server not there yet is waited
 * for too); returns the body (caller frees). */
static char *s_wait_health(int port, int want)
{
    int status = 0;
    char *body = NULL;
    for (int waited = 0; waited < S_WAIT_MS; waited += 200) {
        free(body);
        body = NULL;
        if (glci_ts_http_get(port, "/health", S_WAIT_MS, &status, &body) == 0 && status == want)
            return body;
        glci_sys_sleep_ms(200);
    }
    fail_msg("/health stayed %d (%s), never %d", status, body ? body : "", want);
    return NULL;
}

static int s_setup(void **state)
{
    glci_sys_opts_t o = {.collector_conf = "metrics_listen = 127.0.0.1:0\n"};
    s_sys = glci_sys_open("coll-metrics", N_AGENTS, &o);
    for (size_t i = 0; i < N_AGENTS; i++) {
        snprintf(s_textfile[i], sizeof s_textfile[i], "%s/agent-%zu.prom", s_sys->dir, i);
        char *conf = glci_ts_read_file(s_sys->agents[i].conf);
        size_t n = strlen(conf) + strlen(s_textfile[i]) + 32;
        char *more = malloc(n);
        snprintf(more, n, "%smetrics_file = %s\n", conf, s_textfile[i]);
        assert_int_equal(glci_ts_write_file(s_sys->agents[i].conf, more), 0);
        free(more);
        free(conf);
    }
    glci_sys_start_collector(s_sys, NULL);
    s_port = s_metrics_port(s_sys->coll);
    assert_true(s_port > 0);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_start_agent(s_sys, i);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", s_port);
    s_prom = glci_ts_prom_start((const char *[]){target, NULL}, NULL, S_WAIT_MS);
    return glci_ts_prom_wait_up(s_prom, S_WAIT_MS);
}

static int s_teardown(void **state)
{
    glci_ts_prom_stop(&s_prom);
    glci_sys_close(&s_sys);
    return 0;
}

static void test_prometheus_reads_what_was_sent(void **state)
{
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_push(s_sys, i, N_VALUES);
    glci_sys_assert_exactly_once(s_sys);

    /* each after the traffic: the last scrape may have come mid-round */
    const char *expect_one[] = {
        "glci_collector_handshakes_total{result=\"accepted\"} >= bool 2",
        "count(glci_collector_city_last_seen_timestamp_seconds > 1700000000) == bool 2",
        "glci_collector_healthy",
        "glci_collector_build_info{framework=~\"unesco-glci .+\",framework_hash=~\"[0-9a-f]{64}\"}",
        "glci_collector_ingest_duration_seconds_count >= bool 1",
        "glci_collector_ingest_group_batches_sum == bool on() "
        "sum(glci_collector_batches_total{status=~\"applied|duplicate|gap\"})",
        /* both files of the store (schema 7), each in use and on disk */
        "min(glci_collector_store_used_bytes > bool 0 and glci_collector_store_file_bytes > 0)",
        "count(glci_collector_store_file_bytes{file=~\"state|history\"} > 0) == bool 2",
    };
    assert_int_equal(glci_ts_prom_wait_value(s_prom, "glci_collector_observations_applied_total",
                                             N_AGENTS * N_VALUES, S_WAIT_MS), 0);
    assert_int_equal(glci_ts_prom_wait_value(s_prom,
        "glci_collector_batches_total{status=\"applied\"}", N_AGENTS * N_VALUES / 100,
        S_WAIT_MS), 0);
    assert_int_equal(glci_ts_prom_wait_value(s_prom, "glci_collector_connected_agents",
                                             N_AGENTS, S_WAIT_MS), 0);
    for (size_t i = 0; i < sizeof expect_one / sizeof *expect_one; i++)
        assert_int_equal(glci_ts_prom_wait_value(s_prom, expect_one[i], 1, S_WAIT_MS), 0);
}

/* The round gauges describe the round `glci missing` reports on: with the
 * shipped framework (every year, due 03-31) the previous UTC year, opened
 * on 1 January of this one, due at the end of 31 March. Computed here from
 * the calendar, not from the index library the collector uses. */
static void test_round_gauges_follow_the_calendar(void **state)
{
    (void)state;
    time_t now = time(NULL);
    struct tm tm;
    assert_non_null(gmtime_r(&now, &tm));
    struct tm jan1 = {.tm_year = tm.tm_year, .tm_mon = 0, .tm_mday = 1};
    struct tm apr1 = {.tm_year = tm.tm_year, .tm_mon = 3, .tm_mday = 1};
    double want_period = tm.tm_year + 1900 - 1, want_opened = (double)timegm(&jan1),
           want_due = (double)timegm(&apr1);
    double period, opened, due;
    assert_int_equal(glci_ts_scrape_value(s_port, "glci_collector_round_period", &period), 0);
    assert_int_equal(glci_ts_scrape_value(s_port, "glci_collector_round_opened_timestamp_seconds",
                                          &opened), 0);
    assert_int_equal(glci_ts_scrape_value(s_port, "glci_collector_round_due_timestamp_seconds",
                                          &due), 0);
    assert_true(period == want_period);
    assert_true(opened == want_opened);
    assert_true(due == want_due);
}

static void test_rejects_counted_by_reason(void **state)
{
    glci_sys_push_one(s_sys, 0, "adult_learning_rate", 2024, "1000");   /* over its max */
    assert_int_equal(glci_ts_prom_wait_value(s_prom,
        "glci_collector_observations_rejected_total{reason=\"out_of_range\"}", 1, S_WAIT_MS), 0);
    double v;
    assert_int_equal(glci_ts_prom_query(s_prom, "glci_collector_observations_applied_total",
                                        &v), 0);
    assert_true(v == N_AGENTS * N_VALUES);
    /* the agent's file has it once it is rewritten (every 15 s) */
    for (int waited = 0;; waited += 500) {
        char *text = glci_ts_read_file(s_textfile[0]);
        int done = text && glci_ts_metric_value(text,
            "glci_agent_observations_rejected_total{reason=\"out_of_range\"}", &v) == 0 &&
            v == 1;
        free(text);
        if (done)
            break;
        if (waited > S_WAIT_MS)
            fail_msg("the agent's metrics file never counted the rejected value");
        glci_sys_sleep_ms(500);
    }
}

/* A DEALER to the collector with these keys; the caller closes it. */
static void *s_dealer(void *ctx, const glci_key_t *server)
{
    glci_key_t pub, sec;
    char err[256];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    assert_non_null(d);
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, server->z85, GLCI_Z85_KEY_LEN + 1);
    zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, pub.z85, GLCI_Z85_KEY_LEN + 1);
    zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, sec.z85, GLCI_Z85_KEY_LEN + 1);
    assert_int_equal(zmq_connect(d, s_sys->endpoint), 0);
    return d;
}

static void test_handshakes_by_result(void **state)
{
    const char *refused = "glci_collector_handshakes_total{result=\"refused\"}";
    const char *failed = "glci_collector_handshakes_total{result=\"failed\"}";
    double r0, f0;
    assert_int_equal(glci_ts_scrape_value(s_port, refused, &r0), 0);
    assert_int_equal(glci_ts_scrape_value(s_port, failed, &f0), 0);

    glci_key_t server, other, sec;
    char err[256];
    assert_int_equal(glci_keyfile_read(s_sys->coll_pub, &server, NULL, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&other, &sec, err, sizeof err), 0);
    void *ctx = zmq_ctx_new();
    void *unknown = s_dealer(ctx, &server);     /* a key no city has */
    void *wrong = s_dealer(ctx, &other);        /* not the collector's key */
    s_wait_at_least(s_port, refused, r0 + 1);
    s_wait_at_least(s_port, failed, f0 + 1);
    zmq_close(unknown);
    zmq_close(wrong);
    zmq_ctx_term(ctx);
    /* every connection that failed its handshake has ended: the agents remain */
    assert_int_equal(glci_ts_scrape_wait(s_port, "glci_collector_connected_agents", N_AGENTS,
                                         S_WAIT_MS), 0);
}

static void test_promtool_accepts_scrape_and_textfile(void **state)
{
    assert_int_equal(glci_ts_promtool_scrape(s_port), 0);
    for (size_t i = 0; i < N_AGENTS; i++) {
        char *text = glci_ts_read_file(s_textfile[i]);
        assert_non_null(text);
        assert_int_equal(glci_ts_promtool_check(text), 0);
        assert_non_null(strstr(text, "glci_agent_connection_state{state=\"connected\"} 1\n"));
        char info[128];
        snprintf(info, sizeof info, "city=\"%s\"} 1\n", s_sys->agents[i].city);
        assert_non_null(strstr(text, info));
        free(text);
    }
}

/* A connection to the metrics port that sends text and then neither sends
 * nor reads any more. */
static int s_stall(const char *text)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 1024;
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(fd, text, strlen(text), 0), (ssize_t)strlen(text));
    return fd;
}

static void test_stalled_clients_hold_no_batch_back(void **state)
{
    int fds[5];
    for (int i = 0; i < 3; i++)
        fds[i] = s_stall("GET /metr");                     /* half a request */
    for (int i = 3; i < 5; i++)
        fds[i] = s_stall("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");   /* never read */
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_push(s_sys, i, N_VALUES);
    glci_sys_assert_exactly_once(s_sys);
    int status = 0;
    char *body = NULL;
    assert_int_equal(glci_ts_http_get(s_port, "/health", S_WAIT_MS, &status, &body), 0);
    assert_int_equal(status, 200);
    assert_string_equal(body, "ok\n");
    free(body);
    for (int i = 0; i < 5; i++)
        close(fds[i]);
}

static void test_reload_moves_and_stops_the_server(void **state)
{
    int port = glci_ts_free_port();
    char lines[64];
    snprintf(lines, sizeof lines, "metrics_listen = 127.0.0.1:%d\n", port);
    glci_sys_collector_conf(s_sys, lines);
    assert_int_equal(glci_ts_proc_signal(s_sys->coll, SIGHUP), 0);
    char *body = s_wait_health(port, 200);
    free(body);
    char *raw = NULL;
    assert_int_equal(glci_ts_http_raw(s_port, 0, "GET /health HTTP/1.0\r\n\r\n", 5000, &raw), -1);
    free(raw);

    glci_sys_collector_conf(s_sys, "");
    assert_int_equal(glci_ts_proc_signal(s_sys->coll, SIGHUP), 0);
    assert_int_equal(glci_ts_proc_wait_log(s_sys->coll, "metrics: no longer served on", S_WAIT_MS),
                     0);
    raw = NULL;
    assert_int_equal(glci_ts_http_raw(port, 0, "GET /health HTTP/1.0\r\n\r\n", 5000, &raw), -1);
    free(raw);
    /* batches still go through */
    glci_sys_push(s_sys, 1, 50);
    glci_sys_assert_exactly_once(s_sys);
}

/* ---- systems of their own ------------------------------------------------ */

static void test_unbindable_metrics_listen_stops_the_start(void **state)
{
    int busy;
    int fd = glci_ts_listen_loopback(&busy);
    char lines[64];
    snprintf(lines, sizeof lines, "metrics_listen = %d\n", busy);
    glci_sys_opts_t o = {.collector_conf = lines};
    glci_sys_t *s = glci_sys_open("coll-metrics-busy", 0, &o);
    glci_ts_proc_t *p = glci_sys_spawn_collector(s, NULL);
    assert_int_equal(glci_ts_proc_wait_exit(p, S_WAIT_MS), 1);
    char *log = glci_ts_proc_stderr(p);
    char want[128];
    snprintf(want, sizeof want, "metrics: cannot listen on 127.0.0.1:%d: Address already in use",
             busy);
    if (!strstr(log, want))
        fail_msg("no '%s' in: %s", want, log);
    free(log);
    glci_ts_proc_stop(&p, GLCI_SYS_STOP_MS);
    close(fd);
    glci_sys_close(&s);
}

static void test_health_follows_the_store(void **state)
{
    /* a store made by `glci init`, which records a 64 MiB map: the cap
     * below it holds all the same */
    glci_sys_opts_t o = {.batch_max = 50, .window = 4,
                         .collector_conf = "map_max = 1048576\nmetrics_listen = 127.0.0.1:0\n"};
    glci_sys_t *s = glci_sys_open("coll-metrics-full", 1, &o);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    glci_sys_start_collector(s, NULL);
    int port = s_metrics_port(s->coll);
    char *body = s_wait_health(port, 200);
    free(body);
    double map;
    /* the bound is each file's: the state's and the history's (schema 7) */
    assert_int_equal(glci_ts_scrape_value(port, "glci_collector_store_map_bytes{file=\"state\"}",
                                          &map), 0);
    assert_true(map == 1048576);
    assert_int_equal(glci_ts_scrape_value(port,
                                          "glci_collector_store_map_bytes{file=\"history\"}",
                                          &map), 0);
    assert_true(map == 1048576);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 20000);         /* far more than 1 MiB holds */

    body = s_wait_health(port, 503);
    assert_string_equal(body, "unhealthy: store not writable: store is full (map cannot grow "
                              "or disk full)\n");
    free(body);
    double v;
    assert_int_equal(glci_ts_scrape_value(port, "glci_collector_healthy", &v), 0);
    assert_true(v == 0);
    double unavailable = s_wait_at_least(port,
        "glci_collector_batches_total{status=\"unavailable\"}", 20);

    /* the failures repeat; their lines do not: one at the start, then at
     * most one a minute, with the count */
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char *log = glci_ts_proc_stderr(s->coll);
    int lines = (int)glci_ts_count(log, "store: ingest of");
    int allowed = 2 + (int)((t1.tv_sec - t0.tv_sec) / 60);
    if (lines < 1 || lines > allowed)
        fail_msg("%d ingest failure lines for %g unavailable batches (at most %d): %s", lines,
                 unavailable, allowed, log);
    free(log);
    log = glci_ts_proc_stderr(s->agents[0].proc);
    int agent_lines = (int)glci_ts_count(log, "the collector cannot store now");
    if (agent_lines < 1 || agent_lines >= unavailable)
        fail_msg("the agent logged %d lines for %g unavailable answers", agent_lines,
                 unavailable);
    free(log);
    fprintf(stderr, "# %g batches answered unavailable: %d collector lines, %d agent lines\n",
            unavailable, lines, agent_lines);

    /* room again, after a restart: healthy, and everything arrives once */
    glci_sys_stop_collector(s);
    glci_sys_collector_conf(s, "map_max = 268435456\nmetrics_listen = 127.0.0.1:0\n");
    glci_sys_start_collector(s, NULL);
    port = s_metrics_port(s->coll);
    glci_sys_assert_exactly_once(s);
    body = s_wait_health(port, 200);
    free(body);
    assert_int_equal(glci_ts_scrape_value(port, "glci_collector_healthy", &v), 0);
    assert_true(v == 1);

    /* a store whose data file is removed under the collector cannot be
     * relied on to keep anything */
    char data[700];
    snprintf(data, sizeof data, "%s/data.mdb", s->store);
    assert_int_equal(unlink(data), 0);
    body = s_wait_health(port, 503);
    assert_string_equal(body, "unhealthy: store not writable: its data file was removed\n");
    free(body);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* A system of one agent, with metrics, that has delivered 10 values;
 * *port is the collector's metrics port. */
static glci_sys_t *s_one_agent_delivered(const char *tag, int *port)
{
    glci_sys_opts_t o = {.collector_conf = "metrics_listen = 127.0.0.1:0\n"};
    glci_sys_t *s = glci_sys_open(tag, 1, &o);
    glci_sys_start_collector(s, NULL);
    *port = s_metrics_port(s->coll);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 10);
    glci_sys_wait_outbox_empty(s, 0, S_WAIT_MS);
    return s;
}

/* Once data.mdb (or the history file, history/data.mdb, which an ingest
 * commits to first) is gone a commit would go to a file no restart finds:
 * the batch is answered UNAVAILABLE and stays with the agent, whether or
 * not the metrics tick has noticed the removal yet. */
static void s_removed_file_leaves_batches_with_the_agent(const char *tag, const char *file)
{
    int port;
    glci_sys_t *s = s_one_agent_delivered(tag, &port);

    char data[700];
    snprintf(data, sizeof data, "%s/%s", s->store, file);
    assert_int_equal(unlink(data), 0);
    glci_sys_push(s, 0, 10);             /* one batch, sent at once */
    s_wait_at_least(port, "glci_collector_batches_total{status=\"unavailable\"}", 1);
    if (glci_ts_proc_wait_log(s->coll, "failed: its data file was removed; answered "
                              "UNAVAILABLE", S_WAIT_MS) != 0)
        fail_msg("no UNAVAILABLE line for the removed data file");
    char *js = glci_sys_agent_status(s, 0, "json");
    if (glci_sys_json_int(js, "batches") != 1 || glci_sys_json_int(js, "observations") != 10 ||
        glci_sys_json_int(js, "acked") != 1)
        fail_msg("the agent does not hold the unstored batch: %s", js);
    free(js);
    double applied;
    assert_int_equal(glci_ts_scrape_value(port, "glci_collector_batches_total{status=\"applied\"}",
                                          &applied), 0);
    assert_true(applied == 1);
    char *body = s_wait_health(port, 503);
    assert_string_equal(body, "unhealthy: store not writable: its data file was removed\n");
    free(body);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

static void test_removed_data_file_leaves_batches_with_the_agent(void **state)
{
    (void)state;
    s_removed_file_leaves_batches_with_the_agent("coll-metrics-removed", "data.mdb");
}

static void test_removed_history_file_leaves_batches_with_the_agent(void **state)
{
    (void)state;
    s_removed_file_leaves_batches_with_the_agent("coll-metrics-hremoved", "history/data.mdb");
}

/* A connection to the data port that speaks HTTP, not ZMTP: with CURVE,
 * libzmq signals no handshake failure for it, only its end. */
static void s_http_probe(int port)
{
    char *raw = NULL;
    /* the answer is none; how long to wait for the server to close first
     * does not matter, it ends either way */
    glci_ts_http_raw(port, 0, "GET / HTTP/1.0\r\n\r\n", 1000, &raw);
    free(raw);
}

static void test_probes_are_failed_handshakes_not_agents(void **state)
{
    int port;
    glci_sys_t *s = s_one_agent_delivered("coll-metrics-probe", &port);
    const char *gauge = "glci_collector_connected_agents";
    const char *failed = "glci_collector_handshakes_total{result=\"failed\"}";
    assert_int_equal(glci_ts_scrape_wait(port, gauge, 1, S_WAIT_MS), 0);
    double f0;
    assert_int_equal(glci_ts_scrape_value(port, failed, &f0), 0);
    int data_port = (int)strtol(strrchr(s->endpoint, ':') + 1, NULL, 10);
    s_http_probe(data_port);
    s_http_probe(data_port);
    s_wait_at_least(port, failed, f0 + 2);
    double v;
    assert_int_equal(glci_ts_scrape_value(port, failed, &v), 0);
    assert_true(v == f0 + 2);
    assert_int_equal(glci_ts_scrape_wait(port, gauge, 1, S_WAIT_MS), 0);
    /* the agent is still counted when it goes and comes back */
    glci_sys_stop_agent(s, 0);
    assert_int_equal(glci_ts_scrape_wait(port, gauge, 0, S_WAIT_MS), 0);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 10);
    glci_sys_wait_outbox_empty(s, 0, S_WAIT_MS);
    assert_int_equal(glci_ts_scrape_wait(port, gauge, 1, S_WAIT_MS), 0);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* Moves the store of s onto a tmpfs of `size` bytes mounted over its
 * folder, in a mount namespace of this process's own (which the programs
 * it starts share). 0, or -1 when this machine does not allow it. */
static int s_store_on_tmpfs(glci_sys_t *s, const char *size)
{
    char aside[700], cmd[2200], opts[64];
    snprintf(aside, sizeof aside, "%s.aside", s->store);
    snprintf(opts, sizeof opts, "size=%s,mode=0700", size);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    assert_int_equal(rename(s->store, aside), 0);
    assert_int_equal(mkdir(s->store, 0700), 0);
    if (mount("tmpfs", s->store, "tmpfs", 0, opts) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "cp -a '%s'/. '%s'/", aside, s->store);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void test_health_recovers_when_the_disk_has_room(void **state)
{
    if (geteuid() != 0)
        skip();                 /* mounts need root */
    glci_sys_opts_t o = {.batch_max = 50, .window = 4,
                         .collector_conf = "metrics_listen = 127.0.0.1:0\n"};
    glci_sys_t *s = glci_sys_open("coll-metrics-disk", 1, &o);
    if (s_store_on_tmpfs(s, "16m") != 0) {
        glci_sys_close(&s);
        skip();                 /* no mount namespace here (a container without the right) */
    }
    char filler[700];
    snprintf(filler, sizeof filler, "%s/filler", s->store);
    assert_int_equal(glci_ts_fill_fs(s->store, filler, 384 * 1024), 0);
    glci_sys_start_collector(s, NULL);
    int port = s_metrics_port(s->coll);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 20000);         /* far more than the room left */

    char *body = s_wait_health(port, 503);
    assert_string_equal(body, "unhealthy: store not writable: store is full (map cannot grow "
                              "or disk full)\n");
    free(body);
    /* room again, the same collector: its next commit makes it healthy */
    assert_int_equal(unlink(filler), 0);
    glci_sys_assert_exactly_once(s);
    body = s_wait_health(port, 200);
    free(body);
    double v;
    assert_int_equal(glci_ts_scrape_value(port, "glci_collector_healthy", &v), 0);
    assert_true(v == 1);
    assert_true(s_wait_at_least(port, "glci_collector_batches_total{status=\"unavailable\"}",
                                1) >= 1);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    assert_int_equal(umount2(s->store, MNT_DETACH), 0);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest live[] = {
        cmocka_unit_test(test_prometheus_reads_what_was_sent),
        cmocka_unit_test(test_round_gauges_follow_the_calendar),
        cmocka_unit_test(test_rejects_counted_by_reason),
        cmocka_unit_test(test_handshakes_by_result),
        cmocka_unit_test(test_promtool_accepts_scrape_and_textfile),
        cmocka_unit_test(test_stalled_clients_hold_no_batch_back),
        cmocka_unit_test(test_reload_moves_and_stops_the_server),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test_teardown(test_unbindable_metrics_listen_stops_the_start,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_health_follows_the_store, glci_sys_teardown),
        cmocka_unit_test_teardown(test_removed_data_file_leaves_batches_with_the_agent,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_removed_history_file_leaves_batches_with_the_agent,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_probes_are_failed_handshakes_not_agents,
                                  glci_sys_teardown),
        /* last: it leaves this process in a mount namespace of its own */
        cmocka_unit_test_teardown(test_health_recovers_when_the_disk_has_room,
                                  glci_sys_teardown),
    };
    int failed = cmocka_run_group_tests_name("live", live, s_setup, s_teardown);
    failed += cmocka_run_group_tests_name("own", own, NULL, NULL);
    return failed;
}
