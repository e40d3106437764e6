/* A test's CURVE DEALERs talking to a real collector: see glci_peer.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "glci_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "glci_keyfile.h"
#include "glci_monitor.h"
#include "glci_obs.h"

int glci_peer_lab_open(glci_peer_lab_t *l, const char *tag, const char *const *ids, size_t n,
                       glci_key_t *pub, glci_key_t *sec, int wait_ms)
{
    char err[512], path[600];
    memset(l, 0, sizeof *l);
    l->dir = glci_ts_tmpdir(tag);
    size_t len = strlen(l->dir) + 32;
    l->store = malloc(len);
    assert_non_null(l->store);
    snprintf(l->store, len, "%s/store", l->dir);
    l->bin = glci_ts_bin("collector/glci-collector");
    if (glci_store_create(l->store, glci_ts_framework(), NULL, err, sizeof err) != 0) {
        fprintf(stderr, "store create: %s\n", err);
        return -1;
    }
    glci_store_t *st = NULL;
    if (glci_store_open(l->store, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "store open: %s\n", err);
        return -1;
    }
    int rc = 0;
    for (size_t c = 0; c < n && rc == 0; c++)
        if (glci_key_generate(&pub[c], &sec[c], err, sizeof err) != 0 ||
            glci_store_city_add(st, ids[c], ids[c], "XX", pub[c].z85, err, sizeof err) != 0) {
            fprintf(stderr, "city %s: %s\n", ids[c], err);
            rc = -1;
        }
    glci_store_close(&st);
    snprintf(path, sizeof path, "%s/collector.key", l->store);
    if (rc != 0 || glci_key_generate(&l->server_pub, &l->server_sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(path, &l->server_pub, &l->server_sec, err, sizeof err) != 0) {
        fprintf(stderr, "collector key: %s\n", err);
        return -1;
    }
    snprintf(l->endpoint, sizeof l->endpoint, "tcp://127.0.0.1:%d", glci_ts_free_port());
    l->ctx = zmq_ctx_new();
    l->peer = (glci_peer_t){.ctx = l->ctx, .endpoint = l->endpoint,
                            .server_pub = &l->server_pub, .store = l->store,
                            .proc = &l->proc, .wait_ms = wait_ms};
    return l->ctx ? 0 : -1;
}

void glci_peer_lab_close(glci_peer_lab_t *l, int stop_ms)
{
    glci_ts_proc_stop(&l->proc, stop_ms);
    glci_peer_close_all(&l->peer);
    if (l->ctx)
        zmq_ctx_term(l->ctx);
    if (l->dir)
        glci_ts_rmtree(l->dir);
    free(l->dir);
    free(l->store);
    free(l->bin);
    memset(l, 0, sizeof *l);
}

int64_t glci_peer_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void glci_peer_sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000}, NULL);
}

void glci_peer_fail(const glci_peer_t *p, const char *what)
{
    glci_ts_proc_t *proc = p->proc ? *p->proc : NULL;
    char *e = proc ? glci_ts_proc_stderr(proc) : NULL;
    size_t n = e ? strlen(e) : 0;
    fail_msg("%s; collector stderr ends:\n%s", what, e ? e + (n > 3000 ? n - 3000 : 0) : "");
}

void glci_peer_keep(glci_peer_t *p, void *sock, int keep)
{
    for (size_t i = 0; i < GLCI_PEER_OPEN_MAX; i++)
        if (p->open[i] == (keep ? NULL : sock)) {
            p->open[i] = keep ? sock : NULL;
            return;
        }
    assert_false(keep);
}

void glci_peer_close_all(glci_peer_t *p)
{
    for (size_t i = 0; i < GLCI_PEER_OPEN_MAX; i++)
        if (p->open[i]) {
            zmq_close(p->open[i]);
            p->open[i] = NULL;
        }
}

void *glci_peer_dealer(glci_peer_t *p, const glci_key_t *pub, const glci_key_t *sec,
                       void **monitor)
{
    void *sock = zmq_socket(p->ctx, ZMQ_DEALER);
    assert_non_null(sock);
    int zero = 0;
    assert_int_equal(zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, p->server_pub->z85,
                                    GLCI_Z85_KEY_LEN), 0);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub->z85, GLCI_Z85_KEY_LEN), 0);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec->z85, GLCI_Z85_KEY_LEN), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://peer-monitor-%p-%d", (void *)p, p->monitors++);
    assert_int_equal(zmq_socket_monitor(sock, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED), 0);
    *monitor = zmq_socket(p->ctx, ZMQ_PAIR);
    assert_non_null(*monitor);
    assert_int_equal(zmq_setsockopt(*monitor, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_connect(*monitor, ep), 0);
    glci_peer_keep(p, sock, 1);
    glci_peer_keep(p, *monitor, 1);
    assert_int_equal(zmq_connect(sock, p->endpoint), 0);
    return sock;
}

int64_t glci_peer_wait_handshake(const glci_peer_t *p, void *monitor)
{
    int64_t end = glci_peer_ms() + p->wait_ms;
    for (;;) {
        uint16_t event;
        while (glci_monitor_read(monitor, &event, NULL) == 1)
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                return glci_peer_ms();
        int64_t left = end - glci_peer_ms();
        if (left <= 0)
            glci_peer_fail(p, "no handshake");
        zmq_pollitem_t it = {monitor, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, (long)left);
    }
}

void glci_peer_monitor_end(glci_peer_t *p, void *sock, void **monitor)
{
    zmq_socket_monitor(sock, NULL, 0);
    glci_peer_keep(p, *monitor, 0);
    zmq_close(*monitor);
    *monitor = NULL;
}

void glci_peer_close(glci_peer_t *p, void **sock, void **monitor)
{
    if (monitor && *monitor)
        glci_peer_monitor_end(p, *sock, monitor);
    glci_peer_keep(p, *sock, 0);
    zmq_close(*sock);
    *sock = NULL;
}

void glci_peer_send(void *sock, uint64_t stream, uint64_t seq, const char *city, size_t n,
                    int64_t first_period, double base)
{
    glci_obs_t *o = calloc(n, sizeof *o);
    assert_non_null(o);
    for (size_t i = 0; i < n; i++)
        o[i] = glci_obs_make("adult_learning_rate", first_period + (int64_t)(i % 20),
                             base + (double)(i % 4096) / 1024.0);
    uint8_t *buf;
    size_t len;
    assert_int_equal(glci_wire_batch_pack(stream, seq, city, o, n, &buf, &len), 0);
    free(o);
    assert_int_equal(zmq_send(sock, buf, len, 0), (int)len);
    free(buf);
}

int glci_peer_waiting(void *sock, int timeout_ms)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    return zmq_poll(&it, 1, timeout_ms) > 0;
}

int64_t glci_peer_recv_ack(const glci_peer_t *p, void *sock, glci_wire_ack_t *ack)
{
    if (!glci_peer_waiting(sock, p->wait_ms))
        glci_peer_fail(p, "no ack");
    int64_t at = glci_peer_ms();
    zmq_msg_t m;
    zmq_msg_init(&m);
    assert_true(zmq_msg_recv(&m, sock, 0) >= 0);
    char err[200];
    if (glci_wire_ack_unpack(zmq_msg_data(&m), zmq_msg_size(&m), ack, err, sizeof err) != 0)
        fail_msg("ack does not decode: %s", err);
    zmq_msg_close(&m);
    return at;
}

int64_t glci_peer_expect_ack(const glci_peer_t *p, void *sock, uint64_t seq, int status,
                             uint64_t acked)
{
    glci_wire_ack_t ack;
    int64_t at = glci_peer_recv_ack(p, sock, &ack);
    if ((int)ack.status != status || ack.seq != seq || ack.acked != acked)
        fail_msg("ack of seq %llu: %s (%s), acked %llu; expected seq %llu %s acked %llu",
                 (unsigned long long)ack.seq, glci_batch_status_str(ack.status), ack.error,
                 (unsigned long long)ack.acked, (unsigned long long)seq,
                 glci_batch_status_str(status), (unsigned long long)acked);
    glci_wire_ack_release(&ack);
    return at;
}

uint64_t glci_peer_mark(const glci_peer_t *p, const char *city, uint64_t stream,
                        glci_store_status_t *status)
{
    glci_store_opts_t opts = {GLCI_STORE_RDONLY, 0, 0};
    char err[256];
    glci_store_t *st = NULL;
    if (glci_store_open(p->store, &opts, &st, err, sizeof err) != 0)
        fail_msg("store: %s", err);
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(st, &v), 0);
    uint64_t mark = 0;
    int rc = glci_view_stream_mark(v, city, stream, &mark);
    if (status)
        assert_int_equal(glci_view_status(v, status), 0);
    glci_view_end(&v);
    glci_store_close(&st);
    if (rc == GLCI_STORE_ENODATA)
        return 0;
    assert_int_equal(rc, 0);
    return mark;
}
