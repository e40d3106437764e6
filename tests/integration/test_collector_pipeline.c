/* The collector's two group buffers under strain (collector_daemon.c, "The
 * store thread"): the real process on loopback with every ingest made slow
 * by its test hook (GLCI_COLLECTOR_TEST_INGEST_DELAY_MS), CURVE DEALER
 * clients, its /metrics and a read-only view of the store.
 *
 * - An ingest that fails while the next group is in hand: the store's map
 *   may not grow past map_max, and one city's group (one batch far larger
 *   than the map) is in the store thread while another city's small batch
 *   is taken into the staged group. The large batch is answered
 *   UNAVAILABLE and nothing of it is in the store; the staged batch is
 *   ingested after it on its own, APPLIED and stored; the collector goes
 *   on, and the first city's resend of that seq, small now, is APPLIED.
 * - The staged group's budget while it refills: batches of several streams
 *   arrive one by one while a group is in the store thread, so the staged
 *   group takes them over several rounds; no group commit holds more than
 *   its budget allows (group_obs, below), and every batch is APPLIED in
 *   order per stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "glci_keyfile.h"
#include "glci_prom.h"
#include "glci_store.h"
#include "glci_peer.h"
#include "glci_testsupport.h"
#include "glci_wire.h"

#define T_READY_MS 60000    /* deadlines for a slow sanitizer build */
#define T_WAIT_MS  60000
#define T_STOP_MS  30000

enum { C_ALPHA, C_BETA, C_GAMMA, C_N };
static const char *const s_city_ids[C_N] = {"alpha", "beta", "gamma"};

static struct {
    glci_peer_lab_t lab;
    glci_key_t pub[C_N], sec[C_N];
} s;

/* A CURVE DEALER of city c, returned once its handshake succeeded (the
 * collector's ZAP handler admitted its key), so that no group below waits
 * for a handshake. */
static void *s_client(int c)
{
    void *monitor;
    void *sock = glci_peer_dealer(&s.lab.peer, &s.pub[c], &s.sec[c], &monitor);
    glci_peer_wait_handshake(&s.lab.peer, monitor);
    glci_peer_monitor_end(&s.lab.peer, sock, &monitor);
    return sock;
}

static void s_client_close(void **sock)
{
    glci_peer_close(&s.lab.peer, sock, NULL);
}

/* Sends seq of stream for city: n observations, values base, base + 1/1024
 * and so on, over the indicator's periods 2000 to 2019 (each one a revision
 * the store keeps in its history). */
static void s_send(void *sock, uint64_t stream, uint64_t seq, const char *city, size_t n,
                   double base)
{
    glci_peer_send(sock, stream, seq, city, n, 2000, base);
}

static int64_t s_recv_ack(void *sock, glci_wire_ack_t *ack)
{
    return glci_peer_recv_ack(&s.lab.peer, sock, ack);
}

static int64_t s_expect_ack(void *sock, uint64_t seq, int status, uint64_t acked)
{
    return glci_peer_expect_ack(&s.lab.peer, sock, seq, status, acked);
}

static uint64_t s_mark(const char *city, uint64_t stream, glci_store_status_t *status)
{
    return glci_peer_mark(&s.lab.peer, city, stream, status);
}

/* The collector with each ingest delay_ms late, metrics on a port of its
 * choosing, and the settings in extra ("--name", "value" pairs, NULL
 * after). Returns that metrics port. */
static int s_start_collector(int delay_ms, const char *const *extra)
{
    char delay[64];
    snprintf(delay, sizeof delay, "GLCI_COLLECTOR_TEST_INGEST_DELAY_MS=%d", delay_ms);
    const char *env[] = {delay, NULL};
    const char *argv[32] = {s.lab.bin, "--store", s.lab.store, "--listen", s.lab.endpoint,
                            "--log_level", "info", "--metrics_listen", "127.0.0.1:0"};
    size_t n = 9;
    for (size_t i = 0; extra && extra[i]; i++) {
        assert_true(n + 1 < sizeof argv / sizeof argv[0]);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    s.lab.proc = glci_ts_proc_start(argv, env);
    if (glci_ts_proc_wait_ready(s.lab.proc, T_READY_MS) != 0)
        glci_peer_fail(&s.lab.peer, "collector did not become ready");
    const char *mark = "serving /metrics and /health on 127.0.0.1:";
    if (glci_ts_proc_wait_log(s.lab.proc, mark, T_WAIT_MS) != 0)
        glci_peer_fail(&s.lab.peer, "the collector serves no metrics");
    char *e = glci_ts_proc_stderr(s.lab.proc);
    if (!strstr(e, "a test hook"))
        glci_peer_fail(&s.lab.peer, "the collector did not take the ingest delay");
    int port = (int)strtol(strstr(e, mark) + strlen(mark), NULL, 10);
    free(e);
    assert_true(port > 0);
    return port;
}

/* One sample of the collector's /metrics, which must be there. */
static double s_scrape(int port, const char *series)
{
    double v;
    if (glci_ts_scrape_value(port, series, &v) != 0)
        glci_peer_fail(&s.lab.peer, series);
    return v;
}

/* A new store with the cities and the collector's key: one per test. */
static int s_setup(void **state)
{
    (void)state;
    memset(&s, 0, sizeof s);
    return glci_peer_lab_open(&s.lab, "pipeline", s_city_ids, C_N, s.pub, s.sec, T_WAIT_MS);
}

static int s_teardown(void **state)
{
    (void)state;
    glci_peer_lab_close(&s.lab, T_STOP_MS);
    return 0;
}

/* ---- an ingest that fails with the next group in hand ------------------ */

#define T_FAIL_DELAY_MS 2000   /* each ingest waits this long */
#define T_MAP_MAX "1048576"    /* the store's map never grows past 1 MiB */
#define T_BIG_OBS 100000       /* a batch whose revisions take far more */

/* alpha's batch is the group in the store thread, and it cannot fit in
 * the map; beta's, sent while it waits, is taken into the staged group.
 * The failed ingest answers only alpha's batch, UNAVAILABLE, with nothing
 * of it stored; beta's is ingested after it, on its own, and APPLIED; the
 * collector goes on and takes alpha's resend of seq 1, small now. */
static void test_failed_ingest_with_the_next_group_in_hand(void **state)
{
    (void)state;
    int port = s_start_collector(T_FAIL_DELAY_MS, (const char *[]){
        "--map_max", T_MAP_MAX, "--batch_max", "100000" /* T_BIG_OBS */, NULL});
    void *a = s_client(C_ALPHA), *b = s_client(C_BETA);
    uint64_t astream = 0x91be11e000000001ull, bstream = 0x91be11e000000002ull;
    glci_store_status_t st0;
    s_mark("alpha", astream, &st0);

    /* alone in its group: more observations than group_obs (20000) close
     * it, whenever beta's batch comes */
    int64_t t0 = glci_peer_ms();
    s_send(a, astream, 1, "alpha", T_BIG_OBS, 1.0);
    glci_peer_sleep_ms(500);              /* alpha's group is in the store thread */
    if (glci_peer_waiting(a, 0))
        glci_peer_fail(&s.lab.peer, "alpha's group was answered before its slow ingest ended");
    s_send(b, bstream, 1, "beta", 1, 7.0);

    int64_t at_a = s_expect_ack(a, 1, GLCI_BATCH_UNAVAILABLE, 0);
    if (at_a - t0 < T_FAIL_DELAY_MS)
        fail_msg("alpha answered after %lld ms, before its ingest's %d ms",
                 (long long)(at_a - t0), T_FAIL_DELAY_MS);
    int64_t at_b = s_expect_ack(b, 1, GLCI_BATCH_APPLIED, 1);
    if (at_b - t0 < 2 * T_FAIL_DELAY_MS)
        fail_msg("beta acked after %lld ms: its group did not wait for alpha's",
                 (long long)(at_b - t0));
    glci_store_status_t st1;
    assert_int_equal(s_mark("alpha", astream, &st1), 0);
    assert_int_equal(s_mark("beta", bstream, NULL), 1);
    fprintf(stderr, "# store %llu bytes in use before, %llu after (map_max %s)\n",
            (unsigned long long)st0.size_bytes, (unsigned long long)st1.size_bytes,
            T_MAP_MAX);
    /* nothing of alpha's batch: beta's one value and one batch only */
    assert_int_equal(st1.n_history, st0.n_history + 1);
    assert_int_equal(st1.n_batches, st0.n_batches + 1);
    assert_int_equal(st1.n_rejects, st0.n_rejects);

    /* two commits of one batch each: alpha's failed, beta's */
    assert_true(s_scrape(port, "glci_collector_ingest_group_batches_count") == 2);
    assert_true(s_scrape(port, "glci_collector_ingest_group_batches_bucket{le=\"1\"}") == 2);
    assert_true(s_scrape(port, "glci_collector_batches_total{status=\"unavailable\"}") == 1);
    assert_true(s_scrape(port, "glci_collector_batches_total{status=\"applied\"}") == 1);
    char *e = glci_ts_proc_stderr(s.lab.proc);
    if (!strstr(e, "store: ingest of 1 batches failed: store is full"))
        glci_peer_fail(&s.lab.peer, "the collector did not say the ingest failed");
    free(e);

    /* the collector goes on: alpha's seq 1 again, small now, and more of
     * both streams */
    s_send(a, astream, 1, "alpha", 3, 2.0);
    s_expect_ack(a, 1, GLCI_BATCH_APPLIED, 1);
    s_send(a, astream, 2, "alpha", 1, 3.0);
    s_send(b, bstream, 2, "beta", 1, 8.0);
    s_expect_ack(a, 2, GLCI_BATCH_APPLIED, 2);
    s_expect_ack(b, 2, GLCI_BATCH_APPLIED, 2);
    glci_store_status_t st2;
    assert_int_equal(s_mark("alpha", astream, &st2), 2);
    assert_int_equal(s_mark("beta", bstream, NULL), 2);
    assert_int_equal(st2.n_history, st0.n_history + 6);
    assert_true(glci_ts_proc_alive(s.lab.proc));
    s_client_close(&a);
    s_client_close(&b);
    assert_int_equal(glci_ts_proc_stop(&s.lab.proc, T_STOP_MS), 0);
}

/* ---- the staged group's budget as it refills --------------------------- */

#define T_BUDGET_DELAY_MS 1000 /* each ingest waits this long */
#define T_STREAMS 4
#define T_BATCHES 13           /* in all, one observation each */
#define T_GAP_MS 150           /* between two sends: one batch a round */

/* The budget is group_obs = 2 with batches of one observation: a group
 * commit holds at most 2 batches. (group_max would be checked twice over:
 * a group's buffer holds group_max items, so a budget check that let the
 * staged group take more would still stop at the buffer's end.) While the
 * first batch's group waits in the store thread, the others come one by
 * one, each taken in a round of its own into the staged group until its
 * budget is spent, then into the groups after it. */
static void test_staged_group_keeps_its_budget(void **state)
{
    (void)state;
    int port = s_start_collector(T_BUDGET_DELAY_MS, (const char *[]){"--group_obs", "2",
                                                                     NULL});
    void *sock[C_N];
    for (int c = 0; c < C_N; c++)
        sock[c] = s_client(c);
    /* alpha sends two streams, beta and gamma one each */
    static const int owner[T_STREAMS] = {C_ALPHA, C_ALPHA, C_BETA, C_GAMMA};
    uint64_t stream[T_STREAMS], sent[T_STREAMS] = {0}, acked[T_STREAMS] = {0};
    for (int i = 0; i < T_STREAMS; i++)
        stream[i] = 0xb0d6e7000000001ull + (uint64_t)i;

    for (int k = 0; k < T_BATCHES; k++) {
        int i = k % T_STREAMS;
        s_send(sock[owner[i]], stream[i], ++sent[i], s_city_ids[owner[i]], 1, (double)k);
        glci_peer_sleep_ms(k == 0 ? 300 : T_GAP_MS);   /* the first is the group in flight */
    }
    int got[C_N] = {0}, want[C_N] = {0};
    for (int i = 0; i < T_STREAMS; i++)
        want[owner[i]] += (int)sent[i];
    for (int c = 0; c < C_N; c++)
        for (; got[c] < want[c]; got[c]++) {
            glci_wire_ack_t ack;
            s_recv_ack(sock[c], &ack);
            int i = 0;
            while (i < T_STREAMS && !(owner[i] == c && stream[i] == ack.stream))
                i++;
            if (i == T_STREAMS || (int)ack.status != GLCI_BATCH_APPLIED ||
                ack.seq != acked[i] + 1 || ack.acked != ack.seq)
                fail_msg("%s: ack of stream %016llx seq %llu: %s (%s), acked %llu; expected "
                         "seq %llu applied", s_city_ids[c], (unsigned long long)ack.stream,
                         (unsigned long long)ack.seq, glci_batch_status_str(ack.status),
                         ack.error, (unsigned long long)ack.acked,
                         i < T_STREAMS ? (unsigned long long)acked[i] + 1 : 0ull);
            acked[i] = ack.seq;
            glci_wire_ack_release(&ack);
        }
    for (int i = 0; i < T_STREAMS; i++)
        assert_int_equal(s_mark(s_city_ids[owner[i]], stream[i], NULL), sent[i]);

    /* every commit within the budget, and the budget reached: some group
     * held 2, so the staged group did stop at it */
    double count = s_scrape(port, "glci_collector_ingest_group_batches_count");
    double sum = s_scrape(port, "glci_collector_ingest_group_batches_sum");
    double le1 = s_scrape(port, "glci_collector_ingest_group_batches_bucket{le=\"1\"}");
    double le2 = s_scrape(port, "glci_collector_ingest_group_batches_bucket{le=\"2\"}");
    fprintf(stderr, "# %g batches in %g commits: %g of one batch, %g of at most two\n", sum,
            count, le1, le2);
    assert_true(sum == T_BATCHES);
    if (le2 != count)
        fail_msg("%g of %g group commits held more than 2 batches (group_obs 2)", count - le2,
                 count);
    assert_true(le1 < count);
    assert_true(s_scrape(port, "glci_collector_batches_total{status=\"applied\"}") ==
                T_BATCHES);
    for (int c = 0; c < C_N; c++)
        s_client_close(&sock[c]);
    assert_int_equal(glci_ts_proc_stop(&s.lab.proc, T_STOP_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_ingest_with_the_next_group_in_hand,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_staged_group_keeps_its_budget, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
