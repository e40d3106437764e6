/* A flooding city and a calm one against a collector: see glci_flood.h. */
#include "glci_flood.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "glci_wire.h"

#define S_CALM_MAX 200000

static double s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void glci_flood_rss(pid_t pid, long *rss_kib, long *anon_kib)
{
    char path[64], line[256];
    *rss_kib = *anon_kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            *rss_kib = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            *anon_kib = strtol(line + 8, NULL, 10);
    }
    fclose(f);
}

static void *s_dealer(void *ctx, const glci_flood_opts_t *o, const char *pub, const char *sec)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, o->server_pub, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40) != 0 ||
        zmq_connect(s, o->endpoint) != 0) {
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

/* Reads one ack; 0, or -1 with r->error. */
static int s_ack(void *sock, glci_wire_ack_t *ack, glci_flood_result_t *r)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        snprintf(r->error, sizeof r->error, "recv: %s", zmq_strerror(errno));
        zmq_msg_close(&m);
        return -1;
    }
    char err[256];
    int rc = glci_wire_ack_unpack(zmq_msg_data(&m), zmq_msg_size(&m), ack, err, sizeof err);
    zmq_msg_close(&m);
    if (rc != 0) {
        snprintf(r->error, sizeof r->error, "ack does not decode: %s", err);
        return -1;
    }
    return 0;
}

static int s_send(void *sock, uint64_t stream, uint64_t seq, const glci_obs_t *obs, size_t n)
{
    uint8_t *buf;
    size_t len;
    if (glci_wire_batch_pack(stream, seq, NULL, obs, n, &buf, &len) != 0)
        return -1;
    int rc = zmq_send(sock, buf, len, 0) == (int)len ? 0 : -1;
    free(buf);
    return rc;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sends calm batch seq and waits for its ack (before the flood starts). */
static int s_calm_one(void *calm, uint64_t stream, uint64_t seq, const glci_obs_t *o,
                      glci_flood_result_t *r)
{
    glci_wire_ack_t ack;
    zmq_pollitem_t it = {calm, 0, ZMQ_POLLIN, 0};
    if (s_send(calm, stream, seq, o, 1) != 0 || zmq_poll(&it, 1, 60000) != 1 ||
        s_ack(calm, &ack, r) != 0) {
        if (!r->error[0])
            snprintf(r->error, sizeof r->error, "the calm city's first batch got no ack");
        return -1;
    }
    int ok = ack.status == GLCI_BATCH_APPLIED;
    if (!ok)
        snprintf(r->error, sizeof r->error, "calm batch answered %s: %s",
                 glci_batch_status_str(ack.status), ack.error);
    glci_wire_ack_release(&ack);
    return ok ? 0 : -1;
}

int glci_flood_run(const glci_flood_opts_t *o, glci_flood_result_t *r)
{
    memset(r, 0, sizeof *r);
    int status = -1;
    void *ctx = zmq_ctx_new();
    void *flood = ctx ? s_dealer(ctx, o, o->flood_pub, o->flood_sec) : NULL;
    void *calm = ctx ? s_dealer(ctx, o, o->calm_pub, o->calm_sec) : NULL;
    glci_obs_t *bad = calloc(o->flood_obs, sizeof *bad);
    double *lat = calloc(S_CALM_MAX, sizeof *lat);
    char ind[32];
    snprintf(ind, sizeof ind, "no_such_indicator");
    if (!flood || !calm || !bad || !lat) {
        snprintf(r->error, sizeof r->error, "cannot set up the clients: %s",
                 zmq_strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < o->flood_obs; i++)
        bad[i] = glci_obs_make(ind, 2024, (double)i);
    glci_obs_t good = glci_obs_make(o->calm_indicator, 2024, 50);
    uint64_t fstream = 0xf100d00000000000ull ^ (uint64_t)time(NULL);
    uint64_t cstream = 0xca1f000000000000ull ^ (uint64_t)time(NULL);
    uint64_t cseq = 1;

    /* both connected and answered once before the clock starts */
    if (s_calm_one(calm, cstream, cseq++, &good, r) != 0)
        goto out;
    glci_flood_rss(o->collector, &r->rss_before_kib, &r->anon_before_kib);
    r->rss_peak_kib = r->rss_before_kib;
    r->anon_peak_kib = r->anon_before_kib;

    double t0 = s_now_ms(), calm_sent = 0, next_rss = t0 + 100;
    size_t fsent = 0, in_flight = 0;
    int calm_waiting = 0;
    while (r->flood_acked < o->flood_batches) {
        double now = s_now_ms();
        if (now - t0 > o->timeout_ms) {
            snprintf(r->error, sizeof r->error, "timed out: %zu of %zu flood batches acked",
                     r->flood_acked, o->flood_batches);
            goto out;
        }
        while (fsent < o->flood_batches && in_flight < o->flood_window) {
            if (s_send(flood, fstream, fsent + 1, bad, o->flood_obs) != 0) {
                snprintf(r->error, sizeof r->error, "flood send: %s", zmq_strerror(errno));
                goto out;
            }
            fsent++;
            in_flight++;
        }
        if (!calm_waiting && r->calm_acks < S_CALM_MAX) {
            if (s_send(calm, cstream, cseq, &good, 1) != 0) {
                snprintf(r->error, sizeof r->error, "calm send: %s", zmq_strerror(errno));
                goto out;
            }
            calm_sent = s_now_ms();
            calm_waiting = 1;
        }
        zmq_pollitem_t items[2] = {{flood, 0, ZMQ_POLLIN, 0}, {calm, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 100) < 0 && errno != EINTR) {
            snprintf(r->error, sizeof r->error, "poll: %s", zmq_strerror(errno));
            goto out;
        }
        glci_wire_ack_t ack;
        if (items[0].revents & ZMQ_POLLIN) {
            if (s_ack(flood, &ack, r) != 0)
                goto out;
            if (ack.status == GLCI_BATCH_APPLIED) {
                r->flood_acked++;
                r->flood_rejected += ack.n_rejections;
                in_flight--;
            } else if (ack.status != GLCI_BATCH_DUPLICATE) {
                snprintf(r->error, sizeof r->error, "flood batch %llu answered %s: %s",
                         (unsigned long long)ack.seq, glci_batch_status_str(ack.status),
                         ack.error);
                glci_wire_ack_release(&ack);
                goto out;
            }
            glci_wire_ack_release(&ack);
        }
        if (items[1].revents & ZMQ_POLLIN) {
            if (s_ack(calm, &ack, r) != 0)
                goto out;
            if (ack.status != GLCI_BATCH_APPLIED || ack.seq != cseq) {
                snprintf(r->error, sizeof r->error, "calm batch %llu answered %s: %s",
                         (unsigned long long)ack.seq, glci_batch_status_str(ack.status),
                         ack.error);
                glci_wire_ack_release(&ack);
                goto out;
            }
            glci_wire_ack_release(&ack);
            lat[r->calm_acks++] = s_now_ms() - calm_sent;
            cseq++;
            calm_waiting = 0;
        }
        if (s_now_ms() >= next_rss) {
            long rss, anon;
            glci_flood_rss(o->collector, &rss, &anon);
            if (rss > r->rss_peak_kib)
                r->rss_peak_kib = rss;
            if (anon > r->anon_peak_kib)
                r->anon_peak_kib = anon;
            next_rss = s_now_ms() + 100;
        }
    }
    r->flood_s = (s_now_ms() - t0) / 1000.0;
    if (r->calm_acks == 0) {
        snprintf(r->error, sizeof r->error, "no calm batch was answered during the flood");
        goto out;
    }
    qsort(lat, r->calm_acks, sizeof *lat, s_cmp);
    r->calm_p50_ms = lat[(r->calm_acks - 1) / 2];
    r->calm_p99_ms = lat[(size_t)((double)(r->calm_acks - 1) * 0.99)];
    r->calm_max_ms = lat[r->calm_acks - 1];
    struct timespec ts = {o->settle_ms / 1000, (o->settle_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    glci_flood_rss(o->collector, &r->rss_after_kib, &r->anon_after_kib);
    status = 0;
out:
    if (flood)
        zmq_close(flood);
    if (calm)
        zmq_close(calm);
    if (ctx)
        zmq_ctx_term(ctx);
    free(bad);
    free(lat);
    return status;
}
