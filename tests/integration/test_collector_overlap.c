/* The collector receives beside the store's commit (collector_daemon.c,
 * "The store thread"): the real process on loopback with every ingest made
 * slow by its test hook (GLCI_COLLECTOR_TEST_INGEST_DELAY_MS), CURVE
 * DEALER clients with socket monitors, and a read-only view of the store.
 *
 * While one group's ingest runs, a new agent's handshake completes (the
 * loop still answers ZAP) and the next batch of the same stream is taken;
 * every ack comes only once its group committed (the store holds the batch
 * when the ack arrives, and not before the slow ingest), the next group is
 * ingested only after the one before (seq 2 after seq 1: APPLIED, never a
 * GAP), and a SIGTERM during an ingest still answers the group in flight
 * and the one taken meanwhile before the collector exits 0; a SIGHUP
 * answers them before it reloads, and the collector goes on. An enrolment
 * (a store write of the loop) sent during an ingest is served only after
 * that group committed, a handshake made while it waits completes at once,
 * and the collector goes on; the handshake whose key fills the key log
 * (its early write, from ZAP serving, with the log's bound lowered by
 * GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX) completes only after that group
 * committed, and the collector goes on; a bad value of that hook is
 * refused at start. */
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
#include <zmq.h>

#include "glci_enrol.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_peer.h"
#include "glci_testsupport.h"
#include "glci_wire.h"

#define T_DELAY_MS 2000     /* each ingest of the collector waits this long */
#define T_READY_MS 60000    /* deadlines for a slow sanitizer build */
#define T_WAIT_MS  60000
#define T_STOP_MS  30000

enum { C_ALPHA, C_BETA, C_N };
static const char *const s_city_ids[C_N] = {"alpha", "beta"};

static struct {
    glci_peer_lab_t lab;
    char enrol_endpoint[64];
    glci_key_t pub[C_N], sec[C_N];
} s;

/* A CURVE DEALER with the key pair pub, sec and a monitor of its
 * handshakes in *monitor. */
static void *s_client_keyed(const glci_key_t *pub, const glci_key_t *sec, void **monitor)
{
    return glci_peer_dealer(&s.lab.peer, pub, sec, monitor);
}

/* A CURVE DEALER of city c with a monitor of its handshakes in *monitor. */
static void *s_client(int c, void **monitor)
{
    return s_client_keyed(&s.pub[c], &s.sec[c], monitor);
}

static void s_client_close(void **sock, void **monitor)
{
    glci_peer_close(&s.lab.peer, sock, monitor);
}

static int64_t s_wait_handshake(void *monitor)
{
    return glci_peer_wait_handshake(&s.lab.peer, monitor);
}

/* Seq of stream for city: one value of adult_learning_rate, period 2000 +
 * seq. */
static void s_send(void *sock, uint64_t stream, uint64_t seq, const char *city, double value)
{
    glci_peer_send(sock, stream, seq, city, 1, 2000 + (int64_t)seq, value);
}

static int64_t s_expect_ack(void *sock, uint64_t seq, int status, uint64_t acked)
{
    return glci_peer_expect_ack(&s.lab.peer, sock, seq, status, acked);
}

static uint64_t s_mark(const char *city, uint64_t stream)
{
    return glci_peer_mark(&s.lab.peer, city, stream, NULL);
}

/* The collector, with its enrolment endpoint when enrol is set and env
 * (one "NAME=value", or NULL) beside the ingest delay. */
static void s_start_collector_with(int enrol, const char *env_more)
{
    char delay[64];
    snprintf(delay, sizeof delay, "GLCI_COLLECTOR_TEST_INGEST_DELAY_MS=%d", T_DELAY_MS);
    const char *env[] = {delay, env_more, NULL};
    const char *argv[] = {s.lab.bin, "--store", s.lab.store, "--listen", s.lab.endpoint,
                          "--log_level", "info", enrol ? "--enrol_listen" : NULL,
                          s.enrol_endpoint, NULL};
    s.lab.proc = glci_ts_proc_start(argv, env);
    if (glci_ts_proc_wait_ready(s.lab.proc, T_READY_MS) != 0)
        glci_peer_fail(&s.lab.peer, "collector did not become ready");
    char *e = glci_ts_proc_stderr(s.lab.proc);
    if (!strstr(e, "a test hook"))
        glci_peer_fail(&s.lab.peer, "the collector did not take the ingest delay");
    free(e);
}

static void s_start_collector_enrolling(int enrol)
{
    s_start_collector_with(enrol, NULL);
}

static void s_start_collector(void)
{
    s_start_collector_enrolling(0);
}

static int s_setup(void **state)
{
    (void)state;
    if (glci_peer_lab_open(&s.lab, "overlap", s_city_ids, C_N, s.pub, s.sec, T_WAIT_MS) != 0)
        return -1;
    snprintf(s.enrol_endpoint, sizeof s.enrol_endpoint, "tcp://127.0.0.1:%d",
             glci_ts_free_port());
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    glci_peer_lab_close(&s.lab, T_STOP_MS);
    return 0;
}

/* While seq 1's ingest waits, beta's handshake completes and alpha's seq 2
 * is taken; each ack comes after its own group's commit, seq 2's group
 * after seq 1's. */
static void test_receive_beside_the_commit(void **state)
{
    (void)state;
    s_start_collector();
    void *ma, *mb;
    void *a = s_client(C_ALPHA, &ma);
    s_wait_handshake(ma);
    uint64_t stream = 0x0e71a9000000001ull, bstream = 0x0e71a9000000002ull;

    int64_t t0 = glci_peer_ms();
    s_send(a, stream, 1, "alpha", 1.0);
    glci_peer_sleep_ms(300);              /* seq 1 is the group in the store thread */
    s_send(a, stream, 2, "alpha", 2.0);
    void *b = s_client(C_BETA, &mb);
    s_wait_handshake(mb);
    /* A single-threaded loop answers ZAP only after the ingest returned
     * and seq 1's ack went out: the handshake would come after the ack.
     * (No bound on the time: a loaded machine may take long to shake
     * hands, and the ack not yet there is what tells the order.) */
    if (glci_peer_waiting(a, 0))
        glci_peer_fail(&s.lab.peer, "beta's handshake waited for alpha's commit");
    if (s_mark("alpha", stream) != 0)
        fail_msg("seq 1 committed before the slow ingest ended");
    s_send(b, bstream, 1, "beta", 3.0);

    int64_t at1 = s_expect_ack(a, 1, GLCI_BATCH_APPLIED, 1);
    /* the store holds seq 1 when its ack arrives: the ack followed the
     * commit; seq 2, taken meanwhile, is in the next group */
    uint64_t mark = s_mark("alpha", stream);
    if (mark < 1)
        fail_msg("seq 1 acked before it was committed (mark %llu)", (unsigned long long)mark);
    if (at1 - t0 < T_DELAY_MS)
        fail_msg("seq 1 acked after %lld ms, before its ingest's %d ms", (long long)(at1 - t0),
                 T_DELAY_MS);
    int64_t at2 = s_expect_ack(a, 2, GLCI_BATCH_APPLIED, 2);
    if (at2 - t0 < 2 * T_DELAY_MS)
        fail_msg("seq 2 acked after %lld ms: its group did not wait for seq 1's",
                 (long long)(at2 - t0));
    assert_int_equal(s_mark("alpha", stream), 2);
    s_expect_ack(b, 1, GLCI_BATCH_APPLIED, 1);
    assert_int_equal(s_mark("beta", bstream), 1);
    s_client_close(&a, &ma);
    s_client_close(&b, &mb);
    assert_int_equal(glci_ts_proc_stop(&s.lab.proc, T_STOP_MS), 0);
}

/* Starts the collector and puts two groups in hand: alpha's seq 1 acked,
 * seq 2 in the store thread's slow ingest, seq 3 taken and waiting for it.
 * Returns the DEALER (its monitor in *mon). */
static void *s_two_in_hand(uint64_t stream, void **mon)
{
    s_start_collector();
    void *a = s_client(C_ALPHA, mon);
    s_wait_handshake(*mon);
    s_send(a, stream, 1, "alpha", 1.0);
    s_expect_ack(a, 1, GLCI_BATCH_APPLIED, 1);
    s_send(a, stream, 2, "alpha", 2.0);
    glci_peer_sleep_ms(300);              /* seq 2 in flight */
    s_send(a, stream, 3, "alpha", 3.0);
    glci_peer_sleep_ms(300);              /* seq 3 taken, waiting for the store thread */
    return a;
}

/* SIGTERM while seq 2 is being ingested and seq 3 waits for the store
 * thread: both are answered, then the collector exits 0. */
static void test_sigterm_answers_groups_in_hand(void **state)
{
    (void)state;
    void *ma;
    uint64_t stream = 0x0e71a9000000003ull;
    void *a = s_two_in_hand(stream, &ma);
    assert_int_equal(glci_ts_proc_signal(s.lab.proc, SIGTERM), 0);
    s_expect_ack(a, 2, GLCI_BATCH_APPLIED, 2);
    s_expect_ack(a, 3, GLCI_BATCH_APPLIED, 3);
    int status = glci_ts_proc_wait_exit(s.lab.proc, T_STOP_MS);
    if (status != 0)
        glci_peer_fail(&s.lab.peer, "collector did not exit 0 after SIGTERM");
    char *e = glci_ts_proc_stderr(s.lab.proc);
    assert_non_null(strstr(e, "stopping"));
    free(e);
    glci_ts_proc_stop(&s.lab.proc, T_STOP_MS);
    assert_int_equal(s_mark("alpha", stream), 3);
    s_client_close(&a, &ma);
}

/* SIGHUP while seq 2 is being ingested and seq 3 waits for the store
 * thread: both are answered before the reload (which may rebind the
 * socket their acks go out on), and the collector goes on: seq 4 is
 * applied after them. */
static void test_sighup_answers_groups_in_hand(void **state)
{
    (void)state;
    void *ma;
    uint64_t stream = 0x0e71a9000000004ull;
    void *a = s_two_in_hand(stream, &ma);
    assert_int_equal(glci_ts_proc_signal(s.lab.proc, SIGHUP), 0);
    s_expect_ack(a, 2, GLCI_BATCH_APPLIED, 2);
    s_expect_ack(a, 3, GLCI_BATCH_APPLIED, 3);
    s_send(a, stream, 4, "alpha", 4.0);
    s_expect_ack(a, 4, GLCI_BATCH_APPLIED, 4);
    char *e = glci_ts_proc_stderr(s.lab.proc);
    if (!strstr(e, "keys read again"))
        glci_peer_fail(&s.lab.peer, "the collector did not reload on SIGHUP");
    free(e);
    assert_int_equal(s_mark("alpha", stream), 4);
    s_client_close(&a, &ma);
    assert_int_equal(glci_ts_proc_stop(&s.lab.proc, T_STOP_MS), 0);
}

/* Called for each key of a city: counts them, and whether one is *ctx's. */
typedef struct {
    const unsigned char *want;
    int n, found;
} s_keys_t;

static int s_key_seen(void *ctx, const glci_city_key_t *k)
{
    s_keys_t *ks = ctx;
    ks->n++;
    if (memcmp(k->key, ks->want, 32) == 0)
        ks->found = 1;
    return 0;
}

/* An enrolment during seq 1's slow ingest: the loop answers its handshake
 * (ZAP) at once, but serves the request only once seq 1's group committed
 * (glci_store_enrol writes the store); the new city's key is registered,
 * seq 1 is acked APPLIED, and seq 2, sent after the enrolment, follows it. */
/* An invitation for city in the store (the collector not running yet):
 * req gets the city and the secret an enrolment names. */
static void s_invite(const char *city, glci_enrol_request_t *req)
{
    char err[256];
    memset(req, 0, sizeof *req);
    snprintf(req->city, sizeof req->city, "%s", city);
    glci_store_t *st = NULL;
    assert_int_equal(glci_store_open(s.lab.store, NULL, &st, err, sizeof err), 0);
    int64_t now = (int64_t)time(NULL);
    if (glci_store_invite_add(st, city, city, "XX", now, now + 3600, req->secret, NULL, err,
                              sizeof err) != 0)
        fail_msg("invite: %s", err);
    glci_store_close(&st);
}

/* The enrolment client: any key may connect, the request names the
 * invitation's city and secret. */
static void *s_enrol_client(const glci_key_t *pub, const glci_key_t *sec)
{
    void *en = zmq_socket(s.lab.ctx, ZMQ_DEALER);
    assert_non_null(en);
    glci_peer_keep(&s.lab.peer, en, 1);
    int zero = 0;
    assert_int_equal(zmq_setsockopt(en, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_setsockopt(en, ZMQ_CURVE_SERVERKEY, s.lab.server_pub.z85,
                                    GLCI_Z85_KEY_LEN), 0);
    assert_int_equal(zmq_setsockopt(en, ZMQ_CURVE_PUBLICKEY, pub->z85, GLCI_Z85_KEY_LEN), 0);
    assert_int_equal(zmq_setsockopt(en, ZMQ_CURVE_SECRETKEY, sec->z85, GLCI_Z85_KEY_LEN), 0);
    assert_int_equal(zmq_connect(en, s.enrol_endpoint), 0);
    return en;
}

static void s_enrol_send(void *en, const glci_enrol_request_t *req)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(glci_enrol_request_pack(req, &buf, &len), 0);
    assert_int_equal(zmq_send(en, buf, len, 0), (int)len);
    free(buf);
}

/* The enrolment reply waiting on en: ENROLLED for city, or the test fails. */
static void s_enrol_expect(void *en, const char *city)
{
    char err[256];
    zmq_msg_t m;
    zmq_msg_init(&m);
    assert_true(zmq_msg_recv(&m, en, 0) >= 0);
    assert_false(zmq_msg_more(&m));
    glci_enrol_reply_t reply;
    if (glci_enrol_reply_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &reply, err,
                                sizeof err) != 0)
        fail_msg("enrolment reply does not decode: %s", err);
    zmq_msg_close(&m);
    if (reply.status != GLCI_ENROL_ENROLLED)
        fail_msg("enrolment %s: %s", glci_enrol_status_str((int)reply.status), reply.error);
    assert_string_equal(reply.city, city);
}

/* An invitation for city, the collector with enrolment, alpha's DEALER
 * (*a, its monitor *ma) once its handshake succeeded, and an enrolment
 * client with a new key pair pub, sec, returned; *req names the
 * invitation. */
static void *s_enrol_scene(const char *city, glci_key_t *pub, glci_key_t *sec,
                           glci_enrol_request_t *req, void **a, void **ma)
{
    char err[256];
    assert_int_equal(glci_key_generate(pub, sec, err, sizeof err), 0);
    s_invite(city, req);
    s_start_collector_enrolling(1);
    *a = s_client(C_ALPHA, ma);
    s_wait_handshake(*ma);
    return s_enrol_client(pub, sec);
}

static void test_enrol_waits_for_the_group_in_flight(void **state)
{
    (void)state;
    char err[256];
    const char *city = "gamma";
    glci_key_t gpub, gsec;
    glci_enrol_request_t req;
    void *a, *ma;
    void *en = s_enrol_scene(city, &gpub, &gsec, &req, &a, &ma);
    unsigned char gkey[32];
    assert_int_equal(glci_key_decode(gpub.z85, gkey), 0);
    uint64_t stream = 0x0e71a9000000005ull;

    int64_t t0 = glci_peer_ms();
    s_send(a, stream, 1, "alpha", 1.0);
    glci_peer_sleep_ms(300);              /* seq 1 is the group in the store thread */
    if (s_mark("alpha", stream) != 0)
        fail_msg("seq 1 committed before the slow ingest ended");
    s_enrol_send(en, &req);

    /* the waiting enrolment holds nothing else up: a handshake completes
     * while seq 1 is still in the store thread */
    glci_peer_sleep_ms(200);
    void *mb;
    void *b = s_client(C_BETA, &mb);
    int64_t th = s_wait_handshake(mb);
    if (s_mark("alpha", stream) != 0)
        fail_msg("a handshake waited for the group in flight behind an enrolment (%lld ms)",
                 (long long)(th - t0));

    if (!glci_peer_waiting(en, T_WAIT_MS))
        glci_peer_fail(&s.lab.peer, "no enrolment reply");
    int64_t te = glci_peer_ms();
    /* the store holds seq 1 when the reply arrives: the enrolment was
     * served after the group in flight committed, not beside it */
    uint64_t mark = s_mark("alpha", stream);
    if (mark != 1)
        fail_msg("enrolment answered with seq 1 not committed (mark %llu)",
                 (unsigned long long)mark);
    if (te - t0 < T_DELAY_MS)
        fail_msg("enrolment answered after %lld ms, before seq 1's ingest's %d ms",
                 (long long)(te - t0), T_DELAY_MS);
    s_enrol_expect(en, city);
    glci_peer_keep(&s.lab.peer, en, 0);
    zmq_close(en);

    /* the new city holds the connection's key, and only it */
    {
        glci_store_opts_t opts = {GLCI_STORE_RDONLY, 0, 0};
        glci_store_t *st = NULL;
        glci_view_t *v = NULL;
        assert_int_equal(glci_store_open(s.lab.store, &opts, &st, err, sizeof err), 0);
        assert_int_equal(glci_view_begin(st, &v), 0);
        s_keys_t ks = {gkey, 0, 0};
        assert_int_equal(glci_view_city_keys(v, city, s_key_seen, &ks), 0);
        glci_view_end(&v);
        glci_store_close(&st);
        assert_int_equal(ks.n, 1);
        assert_true(ks.found);
    }

    int64_t at1 = s_expect_ack(a, 1, GLCI_BATCH_APPLIED, 1);
    if (at1 - t0 < T_DELAY_MS)
        fail_msg("seq 1 acked after %lld ms, before its ingest's %d ms", (long long)(at1 - t0),
                 T_DELAY_MS);
    s_send(a, stream, 2, "alpha", 2.0);
    s_expect_ack(a, 2, GLCI_BATCH_APPLIED, 2);
    assert_int_equal(s_mark("alpha", stream), 2);
    s_client_close(&b, &mb);
    s_client_close(&a, &ma);
    assert_int_equal(glci_ts_proc_stop(&s.lab.proc, T_STOP_MS), 0);
}

/* An enrolment request sent while seq 1 is being ingested, then SIGTERM:
 * the collector answers seq 1, then the request (it waited for the store
 * thread, and the stop must not leave it unanswered), then exits 0. */
static void test_sigterm_answers_waiting_enrolment(void **state)
{
    (void)state;
    const char *city = "delta";
    glci_key_t dpub, dsec;
    glci_enrol_request_t req;
    void *a, *ma;
    void *en = s_enrol_scene(city, &dpub, &dsec, &req, &a, &ma);
    uint64_t stream = 0x0e71a9000000008ull;
    s_send(a, stream, 1, "alpha", 1.0);
    glci_peer_sleep_ms(300);              /* seq 1 is the group in the store thread */
    s_enrol_send(en, &req);
    glci_peer_sleep_ms(300);              /* the request waits in libzmq */
    if (s_mark("alpha", stream) != 0)
        fail_msg("seq 1 committed before the slow ingest ended");
    assert_int_equal(glci_ts_proc_signal(s.lab.proc, SIGTERM), 0);
    s_expect_ack(a, 1, GLCI_BATCH_APPLIED, 1);
    if (!glci_peer_waiting(en, T_WAIT_MS))
        glci_peer_fail(&s.lab.peer, "the enrolment that waited for the group in flight got "
                                    "no reply at the stop");
    s_enrol_expect(en, city);
    if (glci_ts_proc_wait_exit(s.lab.proc, T_STOP_MS) != 0)
        glci_peer_fail(&s.lab.peer, "collector did not exit 0 after SIGTERM");
    glci_ts_proc_stop(&s.lab.proc, T_STOP_MS);
    glci_peer_keep(&s.lab.peer, en, 0);
    zmq_close(en);
    s_client_close(&a, &ma);
}

/* Fresh cities keyed-0..n-1 with a key each, registered before the
 * collector starts. */
static void s_keyed_cities(glci_key_t *pub, glci_key_t *sec, unsigned char (*raw)[32], int n)
{
    char err[256], id[32];
    glci_store_t *st = NULL;
    assert_int_equal(glci_store_open(s.lab.store, NULL, &st, err, sizeof err), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(glci_key_generate(&pub[i], &sec[i], err, sizeof err), 0);
        assert_int_equal(glci_key_decode(pub[i].z85, raw[i]), 0);
        snprintf(id, sizeof id, "keyed-%d", i);
        if (glci_store_city_add(st, id, id, "XX", pub[i].z85, err, sizeof err) != 0)
            fail_msg("city %s: %s", id, err);
    }
    glci_store_close(&st);
}

static int s_key_last_used(void *ctx, const glci_city_key_t *k)
{
    *(int64_t *)ctx = k->last_used;
    return 0;
}

/* The last-used time the store has for city keyed-i's one key (0: none
 * recorded), read as `glci city show` reads it. */
static int64_t s_keyed_last_used(int i)
{
    char err[256], id[32];
    snprintf(id, sizeof id, "keyed-%d", i);
    glci_store_opts_t opts = {GLCI_STORE_RDONLY, 0, 0};
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int64_t at = -1;
    assert_int_equal(glci_store_open(s.lab.store, &opts, &st, err, sizeof err), 0);
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_city_keys(v, id, s_key_last_used, &at), 0);
    glci_view_end(&v);
    glci_store_close(&st);
    return at;
}

/* The key log's early write from ZAP serving while a group is in flight
 * (its bound lowered to 2 by GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX): city
 * 0's seq 1 is being ingested, its key and city 1's are pending; city 2's
 * handshake is a third key, so the log writes, and its gate first waits
 * for seq 1's commit and answers it. The handshake completes only after
 * that commit, with the two keys' last-used times in the store and the
 * third's not yet; seq 1's ack arrives APPLIED; the collector goes on
 * (city 3's handshake and batch, city 0's seq 2), and at its stop every
 * key's last use is in the store, with no failed write logged. */
static void test_keylog_write_waits_for_the_group_in_flight(void **state)
{
    (void)state;
    enum { N = 4 };
    glci_key_t pub[N], sec[N];
    unsigned char raw[N][32];
    s_keyed_cities(pub, sec, raw, N);
    int64_t wall0 = (int64_t)time(NULL);
    s_start_collector_with(0, "GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX=2");
    {
        char *e = glci_ts_proc_stderr(s.lab.proc);
        if (!strstr(e, "GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX=2: the key log writes early"))
            glci_peer_fail(&s.lab.peer, "the collector did not take the key log's bound");
        free(e);
    }
    void *sock[N], *mon[N];
    sock[0] = s_client_keyed(&pub[0], &sec[0], &mon[0]);
    s_wait_handshake(mon[0]);
    uint64_t stream = 0x0e71a9000000006ull, dstream = 0x0e71a9000000007ull;

    int64_t t0 = glci_peer_ms();
    s_send(sock[0], stream, 1, "keyed-0", 1.0);
    glci_peer_sleep_ms(300);              /* seq 1 is the group in the store thread */
    if (s_mark("keyed-0", stream) != 0)
        fail_msg("seq 1 committed before the slow ingest ended");
    /* a second key: room in the log, admitted beside the commit */
    sock[1] = s_client_keyed(&pub[1], &sec[1], &mon[1]);
    s_wait_handshake(mon[1]);
    if (s_mark("keyed-0", stream) != 0)
        glci_peer_fail(&s.lab.peer, "the second key's handshake waited for the commit");

    /* a third: the log is full and writes before it takes it */
    sock[2] = s_client_keyed(&pub[2], &sec[2], &mon[2]);
    int64_t hs2 = s_wait_handshake(mon[2]);
    uint64_t mark = s_mark("keyed-0", stream);
    if (mark != 1)
        glci_peer_fail(&s.lab.peer, "the third handshake (the key log's early write) "
                                    "completed with seq 1 not committed: the write did not "
                                    "wait for the group in flight");
    if (hs2 - t0 < T_DELAY_MS)
        fail_msg("the third handshake completed after %lld ms, before seq 1's ingest's %d ms",
                 (long long)(hs2 - t0), T_DELAY_MS);
    if (s_keyed_last_used(0) < wall0 || s_keyed_last_used(1) < wall0)
        glci_peer_fail(&s.lab.peer, "the early write did not record the two pending keys");
    assert_int_equal(s_keyed_last_used(2), 0);       /* pending: the next write's */
    int64_t at1 = s_expect_ack(sock[0], 1, GLCI_BATCH_APPLIED, 1);
    if (at1 - t0 < T_DELAY_MS)
        fail_msg("seq 1 acked after %lld ms, before its ingest's %d ms", (long long)(at1 - t0),
                 T_DELAY_MS);

    /* and the collector goes on */
    sock[3] = s_client_keyed(&pub[3], &sec[3], &mon[3]);
    s_wait_handshake(mon[3]);
    s_send(sock[3], dstream, 1, "keyed-3", 4.0);
    s_send(sock[0], stream, 2, "keyed-0", 2.0);
    s_expect_ack(sock[3], 1, GLCI_BATCH_APPLIED, 1);
    s_expect_ack(sock[0], 2, GLCI_BATCH_APPLIED, 2);
    for (int i = 0; i < N; i++)
        s_client_close(&sock[i], &mon[i]);
    /* stopped first, then read: the last write of the log is at the stop */
    assert_int_equal(glci_ts_proc_signal(s.lab.proc, SIGTERM), 0);
    int status = glci_ts_proc_wait_exit(s.lab.proc, T_STOP_MS);
    char *e = glci_ts_proc_stderr(s.lab.proc);
    if (status != 0 || strstr(e, "cannot record") || strstr(e, "internal:"))
        fail_msg("collector exit %d; stderr:\n%s", status, e);
    free(e);
    glci_ts_proc_stop(&s.lab.proc, T_STOP_MS);
    for (int i = 0; i < N; i++)
        if (s_keyed_last_used(i) < wall0)
            fail_msg("keyed-%d's last use was not recorded", i);
    assert_int_equal(s_mark("keyed-0", stream), 2);
    assert_int_equal(s_mark("keyed-3", dstream), 1);
}

/* A bound out of 1..4096, or not a number, is refused at start with one
 * line naming the variable and the range. */
static void test_keylog_bound_refused(void **state)
{
    (void)state;
    const char *bad[] = {"0", "4097", "2x", "", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char env_uses[64], want[160];
        snprintf(env_uses, sizeof env_uses, "GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX=%s", bad[i]);
        snprintf(want, sizeof want, "%s: not a number of keys from 1 to 4096", env_uses);
        const char *env[] = {env_uses, NULL};
        const char *argv[] = {s.lab.bin, "--store", s.lab.store, "--listen", s.lab.endpoint, NULL};
        char *err = NULL;
        int status = glci_ts_run(argv, env, T_WAIT_MS, NULL, &err);
        if (status != 1 || glci_ts_count(err, want) != 1 || glci_ts_count(err, "\n") != 1)
            fail_msg("%s: exit %d, stderr:\n%s", env_uses, status, err);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receive_beside_the_commit),
        cmocka_unit_test(test_sigterm_answers_groups_in_hand),
        cmocka_unit_test(test_sighup_answers_groups_in_hand),
        cmocka_unit_test(test_enrol_waits_for_the_group_in_flight),
        cmocka_unit_test(test_sigterm_answers_waiting_enrolment),
        cmocka_unit_test(test_keylog_write_waits_for_the_group_in_flight),
        cmocka_unit_test(test_keylog_bound_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
