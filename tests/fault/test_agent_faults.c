/* Fault tests of delivery with the real daemons on loopback, over CURVE:
 * kill -9 of the agent between queueing and sending and between sending
 * and the ack, kill -9 of the collector mid-stream several times, the
 * collector stopped (SIGSTOP) for 20 s under load, and the agent started
 * before the collector exists. Each ends with every value stored exactly
 * once and in order, the last revision current, checked through the
 * store's read views (glci_view_history, glci_view_city).
 *
 * The values are revisions: value i goes to indicator s_ind[i % 2], period
 * 2024, so each history must list exactly its values in push order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "glci_keyfile.h"
#include "glci_outbox.h"
#include "glci_store.h"
#include "glci_testsupport.h"

#define T_READY_MS 30000
#define T_STOP_MS 10000
#define T_DRAIN_MS 240000     /* upper bound for a sanitizer build; not a speed check */

static const char *const s_ind[2] = {"adult_learning_rate", "adult_literacy_rate"};

typedef struct {
    char *dir;
    char store[512], conf[512], outbox[512], spool[512], csv[512];
    char endpoint[64];
    char *coll_bin, *agent_bin;
    glci_ts_proc_t *coll, *agent;
    size_t pushed;            /* values pushed so far: 0 .. pushed-1 */
} s_env_t;

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double s_value(size_t i)
{
    return (double)(i % 100000) / 1000.0;
}

static void s_env_init(s_env_t *e, const char *tag, int batch_max)
{
    char err[512], path[600];
    memset(e, 0, sizeof *e);
    e->dir = glci_ts_tmpdir(tag);
    snprintf(e->store, sizeof e->store, "%s/store", e->dir);
    snprintf(e->conf, sizeof e->conf, "%s/agent.conf", e->dir);
    snprintf(e->outbox, sizeof e->outbox, "%s/outbox", e->dir);
    snprintf(e->spool, sizeof e->spool, "%s/spool", e->dir);
    snprintf(e->csv, sizeof e->csv, "%s/values.csv", e->dir);
    e->coll_bin = glci_ts_bin("collector/glci-collector");
    e->agent_bin = glci_ts_bin("agent/glci-agent");

    assert_int_equal(glci_store_create(e->store, glci_ts_framework(), NULL, err, sizeof err), 0);
    glci_key_t cpub, csec, spub, ssec;
    assert_int_equal(glci_key_generate(&cpub, &csec, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&spub, &ssec, err, sizeof err), 0);
    glci_store_t *st = NULL;
    assert_int_equal(glci_store_open(e->store, NULL, &st, err, sizeof err), 0);
    assert_int_equal(glci_store_city_add(st, "cork-ie", "Cork", "IE", cpub.z85, NULL, 0), 0);
    glci_store_close(&st);
    snprintf(path, sizeof path, "%s/collector.key", e->store);
    assert_int_equal(glci_keyfile_write_secret(path, &spub, &ssec, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/collector.pub", e->dir);
    assert_int_equal(glci_keyfile_write_public(path, &spub, err, sizeof err), 0);
    char keyfile[600];
    snprintf(keyfile, sizeof keyfile, "%s/city.key", e->dir);
    assert_int_equal(glci_keyfile_write_secret(keyfile, &cpub, &csec, err, sizeof err), 0);

    snprintf(e->endpoint, sizeof e->endpoint, "tcp://127.0.0.1:%d", glci_ts_free_port());
    char conf[4096];
    snprintf(conf, sizeof conf,
             "[agent]\ncity = cork-ie\ncollector = %s\ncollector_key = %s\nkey_file = %s\n"
             "outbox = %s\nspool = %s\nbatch_max = %d\nwindow = 8\nheartbeat_ivl = 1000\n"
             "log_level = info\n",
             e->endpoint, path, keyfile, e->outbox, e->spool, batch_max);
    assert_int_equal(glci_ts_write_file(e->conf, conf), 0);
}

static void s_start_collector(s_env_t *e)
{
    const char *argv[] = {e->coll_bin, "--store", e->store, "--listen", e->endpoint, NULL};
    e->coll = glci_ts_proc_start(argv, NULL);
    if (glci_ts_proc_wait_ready(e->coll, T_READY_MS) != 0)
        fail_msg("collector not ready: %s", glci_ts_proc_stderr(e->coll));
}

static void s_start_agent(s_env_t *e)
{
    const char *argv[] = {e->agent_bin, "run", "--config", e->conf, NULL};
    e->agent = glci_ts_proc_start(argv, NULL);
    if (glci_ts_proc_wait_ready(e->agent, T_READY_MS) != 0)
        fail_msg("agent not ready: %s", glci_ts_proc_stderr(e->agent));
}

static void s_kill9(glci_ts_proc_t **p)
{
    assert_int_equal(glci_ts_proc_signal(*p, SIGKILL), 0);
    assert_int_equal(glci_ts_proc_wait_exit(*p, T_STOP_MS), 128 + SIGKILL);
    glci_ts_proc_stop(p, T_STOP_MS);
}

/* Queues n more values with `glci-agent push --csv` (durable when it returns). */
static void s_push(s_env_t *e, size_t n)
{
    FILE *f = fopen(e->csv, "w");
    assert_non_null(f);
    fprintf(f, "indicator,period,value\n");
    for (size_t i = e->pushed; i < e->pushed + n; i++)
        fprintf(f, "%s,2024,%.3f\n", s_ind[i % 2], s_value(i));
    fclose(f);
    const char *argv[] = {e->agent_bin, "push", "--config", e->conf, "--csv", e->csv, NULL};
    char *err = NULL;
    int status = glci_ts_run(argv, NULL, T_DRAIN_MS, NULL, &err);
    if (status != 0)
        fail_msg("push failed (%d): %s", status, err);
    free(err);
    e->pushed += n;
}

/* Observations the store holds for the city (revisions included). */
static uint64_t s_stored(s_env_t *e)
{
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    char err[512];
    glci_city_t c;
    assert_int_equal(glci_store_open(e->store, &o, &st, err, sizeof err), 0);
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_city(v, "cork-ie", &c), 0);
    glci_view_end(&v);
    glci_store_close(&st);
    return c.observations;
}

/* Waits until the store holds at least n observations. */
static void s_wait_stored(s_env_t *e, uint64_t n, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        if (s_stored(e) >= n)
            return;
        s_sleep_ms(100);
    }
    char *a = e->agent ? glci_ts_proc_stderr(e->agent) : NULL;
    fail_msg("store holds %llu of %llu observations; agent log:\n%s",
             (unsigned long long)s_stored(e), (unsigned long long)n, a ? a : "");
}

typedef struct {
    size_t k;                 /* which indicator */
    size_t seen;
    size_t bad;
    int last_current;
} s_hist_t;

static int s_hist_row(void *ctx, const glci_history_row_t *row)
{
    s_hist_t *h = ctx;
    size_t i = h->k + 2 * h->seen;          /* the value expected at this position */
    char text[32];
    snprintf(text, sizeof text, "%.3f", s_value(i));   /* as the CSV wrote it */
    if (row->period != 2024 || row->value != strtod(text, NULL))
        h->bad++;
    h->last_current = row->current;
    h->seen++;
    return 0;
}

/* Everything pushed is stored exactly once, in order, the last current. */
static void s_check_exactly_once(s_env_t *e)
{
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    char err[512];
    glci_city_t c;
    assert_int_equal(glci_store_open(e->store, &o, &st, err, sizeof err), 0);
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_city(v, "cork-ie", &c), 0);
    assert_int_equal(c.observations, e->pushed);
    assert_int_equal(c.rejects, 0);
    for (size_t k = 0; k < 2; k++) {
        s_hist_t h = {.k = k};
        assert_int_equal(glci_view_history(v, "cork-ie", s_ind[k], s_hist_row, &h), 0);
        assert_int_equal(h.seen, (e->pushed + 1 - k) / 2);
        assert_int_equal(h.bad, 0);
        assert_true(h.last_current);
    }
    glci_view_end(&v);
    glci_store_close(&st);
}

/* The agent's outbox is empty once everything is acked. */
static void s_wait_outbox_empty(s_env_t *e)
{
    for (int waited = 0; waited <= T_DRAIN_MS; waited += 100) {
        glci_outbox_t *ob = NULL;
        glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
        char err[512];
        glci_outbox_status_t st;
        assert_int_equal(glci_outbox_open(e->outbox, &o, &ob, err, sizeof err), 0);
        assert_int_equal(glci_outbox_status(ob, &st), 0);
        glci_outbox_close(&ob);
        /* none of these faults loses an acked batch at the collector: the
         * agent must never take them for a restored store */
        assert_int_equal(st.lost_events, 0);
        if (st.batches == 0)
            return;
        s_sleep_ms(100);
    }
    fail_msg("the outbox did not drain");
}

static void s_env_finish(s_env_t *e)
{
    s_wait_outbox_empty(e);
    s_check_exactly_once(e);
    assert_int_equal(glci_ts_proc_stop(&e->agent, T_STOP_MS), 0);
    assert_int_equal(glci_ts_proc_stop(&e->coll, T_STOP_MS), 0);
    glci_ts_rmtree(e->dir);
    free(e->dir);
    free(e->coll_bin);
    free(e->agent_bin);
}

/* ---- the faults ------------------------------------------------------------ */

static void test_agent_before_collector_exists(void **state)
{
    s_env_t e;
    s_env_init(&e, "agent-first", 100);
    s_start_agent(&e);
    s_push(&e, 3000);
    s_sleep_ms(1500);                    /* the agent retries meanwhile */
    assert_int_equal(s_stored(&e), 0);
    s_start_collector(&e);
    s_wait_stored(&e, e.pushed, T_DRAIN_MS);
    s_env_finish(&e);
}

static void test_kill9_agent_between_queue_and_send(void **state)
{
    s_env_t e;
    s_env_init(&e, "agent-kill-queued", 100);
    s_start_agent(&e);                      /* no collector: nothing can be sent */
    s_push(&e, 2000);
    s_kill9(&e.agent);
    s_start_collector(&e);
    s_start_agent(&e);
    s_push(&e, 1000);
    s_wait_stored(&e, e.pushed, T_DRAIN_MS);
    s_env_finish(&e);
}

static void test_kill9_agent_after_send_before_ack(void **state)
{
    s_env_t e;
    s_env_init(&e, "agent-kill-sent", 100);
    s_start_collector(&e);
    s_start_agent(&e);
    s_push(&e, 500);
    s_wait_stored(&e, e.pushed, T_DRAIN_MS);
    /* The collector is stopped: the agent sends, no ack can come back. */
    assert_int_equal(glci_ts_proc_signal(e.coll, SIGSTOP), 0);
    s_push(&e, 2000);
    s_sleep_ms(1000);                    /* the window goes out */
    s_kill9(&e.agent);
    fprintf(stderr, "# agent killed with %llu of %zu stored\n",
            (unsigned long long)s_stored(&e), e.pushed);
    /* The collector applies what was sent; its acks go nowhere. */
    assert_int_equal(glci_ts_proc_signal(e.coll, SIGCONT), 0);
    s_wait_stored(&e, 500 + 100, T_DRAIN_MS);
    s_start_agent(&e);                      /* resends from the oldest unacked */
    s_wait_stored(&e, e.pushed, T_DRAIN_MS);
    s_env_finish(&e);
}

static void test_kill9_collector_mid_stream(void **state)
{
    s_env_t e;
    s_env_init(&e, "collector-kill", 50);
    s_start_collector(&e);
    s_start_agent(&e);
    s_push(&e, 40000);
    for (int k = 1; k <= 3; k++) {
        /* after about a quarter more of the stream, kill the collector */
        uint64_t at = (uint64_t)(e.pushed * (size_t)k / 5);
        s_wait_stored(&e, at, T_DRAIN_MS);
        s_kill9(&e.coll);
        fprintf(stderr, "# collector killed with %llu of %zu stored\n",
                (unsigned long long)s_stored(&e), e.pushed);
        s_sleep_ms(300);
        s_start_collector(&e);
    }
    s_wait_stored(&e, e.pushed, T_DRAIN_MS);
    s_env_finish(&e);
}

static void test_collector_stopped_20s_under_load(void **state)
{
    s_env_t e;
    s_env_init(&e, "collector-stop", 100);
    s_start_collector(&e);
    s_start_agent(&e);
    s_push(&e, 20000);
    s_wait_stored(&e, 2000, T_DRAIN_MS);
    assert_int_equal(glci_ts_proc_signal(e.coll, SIGSTOP), 0);
    fprintf(stderr, "# collector stopped with %llu of %zu stored\n",
            (unsigned long long)s_stored(&e), e.pushed);
    s_push(&e, 5000);                       /* more load while it is away */
    s_sleep_ms(20000);
    assert_int_equal(glci_ts_proc_signal(e.coll, SIGCONT), 0);
    s_wait_stored(&e, e.pushed, T_DRAIN_MS);
    s_env_finish(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_before_collector_exists),
        cmocka_unit_test(test_kill9_agent_between_queue_and_send),
        cmocka_unit_test(test_kill9_agent_after_send_before_ack),
        cmocka_unit_test(test_kill9_collector_mid_stream),
        cmocka_unit_test(test_collector_stopped_20s_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
