/* glci-bench ingest: the real glci-collector process on a fresh store with
 * N registered cities, fed over loopback with CURVE by several sender
 * threads. Each thread owns a share of the cities, one DEALER (own key) per
 * city as a city's agent would, and keeps a window of batches in flight.
 * Batches are packed before the clock starts; every connection has
 * completed its CURVE handshake and had one warm-up batch acked.
 *
 * Prints {"bench": "ingest", "obs_per_s", "ack_p50_ms", "ack_p99_ms",
 * "senders", "curve": true, ...}: observations per second from the first
 * timed send to the last durable ack, and the send-to-ack latency of every
 * timed batch. Finally checks through a read-only view that the store holds
 * every observation sent. Also: the collector's CPU time, its minor and
 * major page faults (per 1,000 observations), the bytes it
 * wrote (/proc/PID/io wchar: the store's pages and the acks) and the bytes
 * it had read from the disk (read_bytes: pages not in the page cache), per
 * observation; and the share of the machine's CPU time (all cores, from
 * /proc/stat) that was idle and that the hypervisor gave to other guests
 * ("steal") while the batches flowed, so a run on a starved machine shows
 * as one.
 *
 * Options: --cities N (200) --obs N (1000000) --batch N (1000)
 *          --senders N (4) --window N (8, batches in flight per sender)
 *          --metrics (the collector serves metrics_listen on loopback and a
 *          scraper thread reads /metrics every second while batches flow:
 *          fifteen times the rate of deploy/prometheus/prometheus.yml, so
 *          the cost is not hidden)
 *          --compare N (N runs without metrics and N with, interleaved, in
 *          one invocation: prints each run and the medians, and the cost of
 *          metrics as a percentage of the throughput without)
 *          --prefill N (N values written into the store through the store
 *          API before the collector starts, in groups of 100 batches; with
 *          it the bench runs twice in one invocation, on an empty store and
 *          on the prefilled one, and prints both and their ratio)
 *          --indicators-x K (with K > 1, runs twice: the shipped framework
 *          and one generated from it with each indicator repeated K times
 *          (ids suffixed _2.._K, weights kept), and prints the ns per
 *          observation of both and their ratio)
 *          --rounds N (with --prefill or --indicators-x: N rounds of the
 *          two runs, interleaved with the order swapped every round; prints
 *          every run, the medians, the median of the per-round ratios and
 *          each round's ratio; 1 by default)
 *          --keep (leave the temp store) */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_text.h"
#include "glci_wire.h"

typedef struct {
    uint8_t *buf;
    size_t len;
    int city;                 /* index into the sender's cities */
    uint64_t seq;
    double sent_at;
} s_batch_t;

typedef struct {
    int id;
    int n_cities;
    int *cities;              /* global city numbers */
    void **socks;
    uint64_t *streams;
    s_batch_t *batches;
    size_t n_batches;
    double *lat_ms;           /* per batch */
    double last_ack;
    int failed;
    char error[512];
} s_sender_t;

static struct {
    void *ctx;
    char endpoint[64];
    glci_key_t server_pub;
    glci_key_t *pub, *sec;
    int window;
    pthread_barrier_t ready;
    double t0;
} s;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of the children reaped so far. */
static double s_children_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Minor and major page faults of the reaped children so far (the
 * collector's, as for the CPU time above). */
static void s_children_faults(double *minflt, double *majflt)
{
    struct rusage ru;
    *minflt = *majflt = 0;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return;
    *minflt = (double)ru.ru_minflt;
    *majflt = (double)ru.ru_majflt;
}

/* A counter of process pid's /proc/PID/io ("wchar": bytes passed to write
 * calls, LMDB's pages and the acks; "read_bytes": bytes read from the
 * disk); 0 if unknown. */
static uint64_t s_proc_io(pid_t pid, const char *field)
{
    char path[64], line[128];
    unsigned long long v = 0;
    size_t n = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':' &&
            sscanf(line + n + 1, "%llu", &v) == 1)
            break;
    fclose(f);
    return v;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Receives one ack on sock; returns 0 and fills ack, -1 on error. */
static int s_recv_ack(void *sock, glci_wire_ack_t *ack, char *err, size_t errlen)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        snprintf(err, errlen, "recv: %s", zmq_strerror(errno));
        zmq_msg_close(&m);
        return -1;
    }
    int rc = glci_wire_ack_unpack(zmq_msg_data(&m), zmq_msg_size(&m), ack, err, errlen);
    zmq_msg_close(&m);
    return rc == 0 ? 0 : -1;
}

static void *s_sender_main(void *arg)
{
    s_sender_t *t = arg;
    zmq_pollitem_t *items = glci_xcalloc((size_t)t->n_cities, sizeof *items);
    /* warm-up: one batch per city, so every handshake is done */
    for (int c = 0; c < t->n_cities; c++) {
        void *sock = zmq_socket(s.ctx, ZMQ_DEALER);
        int g = t->cities[c];
        int zero = 0, hwm = 10000, rcvtimeo = 60000;
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(sock, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo);
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s.server_pub.z85, GLCI_Z85_KEY_LEN);
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s.pub[g].z85, GLCI_Z85_KEY_LEN);
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s.sec[g].z85, GLCI_Z85_KEY_LEN);
        zmq_connect(sock, s.endpoint);
        t->socks[c] = sock;
        items[c].socket = sock;
        items[c].events = ZMQ_POLLIN;
        char city[16];
        snprintf(city, sizeof city, "city%03d", g);
        glci_obs_t o;
        memset(&o, 0, sizeof o);
        o.indicator = "adult_learning_rate";
        o.period = 2000;
        o.has_period = 1;
        o.value = 1.0;
        o.has_value = 1;
        uint8_t *buf;
        size_t len;
        glci_wire_batch_pack(t->streams[c], 1, city, &o, 1, &buf, &len);
        zmq_send(sock, buf, len, 0);
        free(buf);
    }
    for (int c = 0; c < t->n_cities; c++) {
        glci_wire_ack_t ack;
        memset(&ack, 0, sizeof ack);
        if (s_recv_ack(t->socks[c], &ack, t->error, sizeof t->error) != 0 ||
            ack.status != GLCI_BATCH_APPLIED) {
            if (!t->error[0])
                snprintf(t->error, sizeof t->error, "warm-up ack %s: %s",
                         glci_batch_status_str(ack.status), ack.error);
            t->failed = 1;
        }
        glci_wire_ack_release(&ack);
        /* One warm-up unanswered within the receive timeout means the
         * collector is gone or refuses us: waiting out every other city's
         * timeout in turn would hold the bench for most of an hour. */
        if (t->failed)
            break;
    }
    int r = pthread_barrier_wait(&s.ready);
    if (r == PTHREAD_BARRIER_SERIAL_THREAD)
        s.t0 = s_now();
    pthread_barrier_wait(&s.ready);
    if (t->failed)
        goto done;

    size_t next = 0, acked = 0, inflight = 0;
    /* per city, the batches in flight are acked in order */
    size_t *head = glci_xcalloc((size_t)t->n_cities, sizeof *head);
    size_t **queue = glci_xcalloc((size_t)t->n_cities, sizeof *queue);
    for (int c = 0; c < t->n_cities; c++)
        queue[c] = glci_xcalloc(t->n_batches + 1, sizeof **queue);
    size_t *tail = glci_xcalloc((size_t)t->n_cities, sizeof *tail);
    while (acked < t->n_batches) {
        while (inflight < (size_t)s.window && next < t->n_batches) {
            s_batch_t *b = &t->batches[next];
            b->sent_at = s_now();
            if (zmq_send(t->socks[b->city], b->buf, b->len, 0) < 0) {
                snprintf(t->error, sizeof t->error, "send: %s", zmq_strerror(errno));
                t->failed = 1;
                goto out;
            }
            queue[b->city][tail[b->city]++] = next;
            next++;
            inflight++;
        }
        if (zmq_poll(items, t->n_cities, 60000) <= 0) {
            snprintf(t->error, sizeof t->error, "no ack within 60 s");
            t->failed = 1;
            goto out;
        }
        for (int c = 0; c < t->n_cities; c++) {
            if (!(items[c].revents & ZMQ_POLLIN))
                continue;
            for (;;) {
                zmq_pollitem_t one = {t->socks[c], 0, ZMQ_POLLIN, 0};
                if (zmq_poll(&one, 1, 0) <= 0)
                    break;
                glci_wire_ack_t ack;
                memset(&ack, 0, sizeof ack);
                if (s_recv_ack(t->socks[c], &ack, t->error, sizeof t->error) != 0) {
                    t->failed = 1;
                    goto out;
                }
                if (ack.status != GLCI_BATCH_APPLIED || ack.n_rejections ||
                    head[c] >= tail[c]) {
                    snprintf(t->error, sizeof t->error, "ack %s (%zu rejections): %s",
                             glci_batch_status_str(ack.status), ack.n_rejections, ack.error);
                    glci_wire_ack_release(&ack);
                    t->failed = 1;
                    goto out;
                }
                size_t bi = queue[c][head[c]++];
                double now = s_now();
                t->lat_ms[bi] = (now - t->batches[bi].sent_at) * 1000.0;
                t->last_ack = now;
                glci_wire_ack_release(&ack);
                acked++;
                inflight--;
            }
        }
    }
out:
    for (int c = 0; c < t->n_cities; c++)
        free(queue[c]);
    free(queue);
    free(head);
    free(tail);
done:
    for (int c = 0; c < t->n_cities; c++)
        zmq_close(t->socks[c]);
    free(items);
    return NULL;
}

/* ---- the scraper: what Prometheus does, faster -------------------------- */

typedef struct {
    int port;
    volatile int stop;
    uint64_t scrapes, bytes, failures;
} s_scraper_t;

static void *s_scraper_main(void *arg)
{
    s_scraper_t *sc = arg;
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n";
    char buf[65536];
    while (!sc->stop) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)sc->port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ssize_t n = -1;
        uint64_t got = 0;
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            send(fd, req, sizeof req - 1, 0) == (ssize_t)(sizeof req - 1))
            while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
                got += (uint64_t)n;
        if (fd >= 0)
            close(fd);
        if (n == 0 && got > 0) {
            sc->scrapes++;
            sc->bytes += got;
        } else {
            sc->failures++;
        }
        for (int i = 0; i < 10 && !sc->stop; i++)
            nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    return NULL;
}

/* ---- one run ------------------------------------------------------------ */

typedef struct {
    int64_t n_cities, n_obs, batch, senders, window;
    int64_t prefill;          /* values stored through the API before the run */
    const char *framework;    /* the framework file */
    int keep, metrics;
} s_opts_t;

typedef struct {
    double obs_per_s, p50, p99, secs;
    double cpu_s;             /* the collector's user + system CPU time, start to stop */
    double minflt, majflt;    /* the collector's page faults, start to stop */
    double prefill_s;         /* wall time of the prefill */
    double idle_pct, steal_pct; /* the machine's CPU time idle, and stolen by the
                                 * hypervisor, while batches flowed (-1: unknown) */
    uint64_t wchar;           /* bytes the collector wrote (write calls), start to stop */
    uint64_t read_bytes;      /* bytes it read from the disk since it started */
    uint64_t store_bytes;     /* data.mdb in use after the run */
    uint64_t stored, scrapes, scrape_bytes, scrape_failures;
    int exit_status;
} s_result_t;

/* The observations of the benchmark: serial numbers run through the
 * indicators, then the periods 2000..2025, with values spread over each
 * indicator's range. Fills obs[0..n) from serial on; returns the next. */
static size_t s_fill(const glci_framework_t *fw, glci_obs_t *obs, size_t n, size_t serial)
{
    for (size_t i = 0; i < n; i++, serial++) {
        const glci_indicator_t *ind = &fw->ind[serial % fw->n_ind];
        memset(&obs[i], 0, sizeof obs[i]);
        obs[i].indicator = ind->id;
        obs[i].period = 2000 + (int64_t)((serial / fw->n_ind) % 26);
        obs[i].has_period = 1;
        obs[i].value = ind->min + (ind->max - ind->min) * (double)(serial % 97) / 97.0;
        obs[i].has_value = 1;
    }
    return serial;
}

/* Writes n values into st through glci_store_ingest, as the collector
 * would but without the pipe: batches of `batch` values for the cities in
 * turn (streams of their own, so the timed run's streams start fresh),
 * 100 batches per transaction. 0 or -1. */
static int s_prefill(glci_store_t *st, const glci_framework_t *fw, int64_t n_cities,
                     int64_t batch, int64_t n)
{
    enum { GROUP = 100 };
    glci_obs_t *obs = glci_xcalloc((size_t)(GROUP * batch), sizeof *obs);
    glci_batch_t b[GROUP];
    glci_batch_result_t res[GROUP];
    char ids[GROUP][32];
    uint64_t *seq = glci_xcalloc((size_t)n_cities, sizeof *seq);
    size_t serial = 0, city = 0;
    int64_t done = 0;
    int status = 0;
    while (done < n && status == 0) {
        size_t nb = 0;
        for (; nb < GROUP && done < n; nb++) {
            size_t k = (size_t)(n - done < batch ? n - done : batch);
            serial = s_fill(fw, obs + nb * (size_t)batch, k, serial);
            snprintf(ids[nb], sizeof ids[nb], "city%03zu", city);
            b[nb] = (glci_batch_t){.city = ids[nb], .stream = 0xbe4f000000000000ull + city,
                                   .seq = ++seq[city], .obs = obs + nb * (size_t)batch,
                                   .n_obs = k};
            city = (city + 1) % (size_t)n_cities;
            done += (int64_t)k;
        }
        int rc = glci_store_ingest(st, b, nb, (int64_t)time(NULL), res);
        if (rc != 0) {
            fprintf(stderr, "glci-bench ingest: prefill: %s\n", glci_store_strerror(rc));
            status = -1;
        }
        for (size_t i = 0; i < nb; i++) {
            if (rc == 0 && (res[i].status != GLCI_BATCH_APPLIED || res[i].n_rejections)) {
                fprintf(stderr, "glci-bench ingest: prefill: batch %s\n",
                        glci_batch_status_str(res[i].status));
                status = -1;
            }
            if (rc == 0)
                glci_batch_result_release(&res[i]);
        }
    }
    free(seq);
    free(obs);
    return status;
}

/* Writes to path the framework of src with every indicator section
 * repeated k times (the copies' ids suffixed _2.._k, their other lines
 * kept, weights included, so the structure and the weights stay valid).
 * 0 or -1 with a message. */
static int s_scale_framework(const char *src, int64_t k, const char *path)
{
    FILE *in = fopen(src, "r"), *out = in ? fopen(path, "w") : NULL;
    char line[1024], id[256] = "";
    char *sect = NULL;
    size_t len = 0, cap = 0;
    int status = 0;
    if (!in || !out) {
        fprintf(stderr, "glci-bench ingest: %s: %s\n", in ? path : src, strerror(errno));
        status = -1;
        goto cleanup;
    }
    /* sect holds the body of the indicator section being read (after its
     * header line); it is written k times when the next section starts */
    for (int more = 1; more;) {
        more = fgets(line, sizeof line, in) != NULL;
        int header = more && line[0] == '[';
        if ((header || !more) && id[0]) {
            for (int64_t c = 1; c <= k; c++) {
                if (c == 1)
                    fprintf(out, "[indicator:%s]\n", id);
                else
                    fprintf(out, "[indicator:%s_%lld]\n", id, (long long)c);
                fwrite(sect, 1, len, out);
            }
            id[0] = 0;
            len = 0;
        }
        if (!more)
            break;
        if (header && strncmp(line, "[indicator:", 11) == 0) {
            char *end = strchr(line, ']');
            if (!end || (size_t)(end - line - 11) >= sizeof id) {
                fprintf(stderr, "glci-bench ingest: %s: cannot read %s", src, line);
                status = -1;
                goto cleanup;
            }
            memcpy(id, line + 11, (size_t)(end - line - 11));
            id[end - line - 11] = 0;
            continue;
        }
        if (id[0]) {
            size_t n = strlen(line);
            if (len + n > cap) {
                cap = (len + n) * 2;
                sect = glci_xrealloc(sect, cap);
            }
            memcpy(sect + len, line, n);
            len += n;
        } else {
            fputs(line, out);
        }
    }
cleanup:
    free(sect);
    if (out && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "glci-bench ingest: %s: %s\n", path, strerror(errno));
        status = -1;
    }
    if (in)
        fclose(in);
    return status;
}

static int s_run(const s_opts_t *o, s_result_t *res)
{
    int64_t n_cities = o->n_cities, n_obs = o->n_obs, batch = o->batch, window = o->window;
    int64_t senders = o->senders > n_cities ? n_cities : o->senders;
    int keep = o->keep;
    s_scraper_t scraper = {0};
    pthread_t scraper_th;
    int scraping = 0;
    memset(res, 0, sizeof *res);
    int status = 1;
    char err[512];
    char dir[] = "/tmp/glci-bench-ingest-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "glci-bench ingest: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char store[sizeof dir + 16], path[sizeof dir + 64];
    snprintf(store, sizeof store, "%s/store", dir);
    pid_t pid = -1;
    s_sender_t *t = NULL;
    glci_framework_t *fw = NULL;
    s.ctx = NULL;

    /* store, cities, keys */
    glci_store_t *st = NULL;
    if (glci_store_create(store, o->framework, NULL, err, sizeof err) != 0 ||
        glci_store_open(store, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench ingest: %s\n", err);
        goto cleanup;
    }
    s.pub = glci_xcalloc((size_t)n_cities, sizeof *s.pub);
    s.sec = glci_xcalloc((size_t)n_cities, sizeof *s.sec);
    for (int c = 0; c < n_cities; c++) {
        char id[16];
        snprintf(id, sizeof id, "city%03d", c);
        if (glci_key_generate(&s.pub[c], &s.sec[c], err, sizeof err) != 0 ||
            glci_store_city_add(st, id, id, "XX", s.pub[c].z85, NULL, 0) != 0) {
            fprintf(stderr, "glci-bench ingest: cannot register %s\n", id);
            glci_store_close(&st);
            goto cleanup;
        }
    }
    if (glci_framework_load_file(o->framework, &fw, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench ingest: %s\n", err);
        glci_store_close(&st);
        goto cleanup;
    }
    if (o->prefill) {
        double p0 = s_now();
        int prc = s_prefill(st, fw, n_cities, batch, o->prefill);
        res->prefill_s = s_now() - p0;
        if (prc != 0) {
            glci_store_close(&st);
            goto cleanup;
        }
    }
    glci_store_close(&st);
    glci_key_t server_sec;
    snprintf(path, sizeof path, "%s/collector.key", store);
    if (glci_key_generate(&s.server_pub, &server_sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(path, &s.server_pub, &server_sec, err, sizeof err) != 0) {
        fprintf(stderr, "glci-bench ingest: %s\n", err);
        goto cleanup;
    }
    int port = glci_bench_free_port();
    snprintf(s.endpoint, sizeof s.endpoint, "tcp://127.0.0.1:%d", port);
    char metrics[16] = "";
    if (o->metrics) {
        scraper.port = glci_bench_free_port();
        snprintf(metrics, sizeof metrics, "%d", scraper.port);
    }

    /* the collector */
    const char *bin = getenv("GLCI_COLLECTOR");
    char binbuf[1024];
    if (!bin) {
        snprintf(binbuf, sizeof binbuf, "%s/collector/glci-collector", GLCI_BIN_DIR);
        bin = binbuf;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (o->metrics)
            execl(bin, bin, "--store", store, "--listen", s.endpoint, "--log-level", "warn",
                  "--metrics-listen", metrics, (char *)NULL);
        else
            execl(bin, bin, "--store", store, "--listen", s.endpoint, "--log-level", "warn",
                  (char *)NULL);
        fprintf(stderr, "glci-bench ingest: exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        fprintf(stderr, "glci-bench ingest: fork: %s\n", strerror(errno));
        goto cleanup;
    }

    /* the batches, packed up front */
    size_t n_batches = (size_t)((n_obs + batch - 1) / batch);
    t = glci_xcalloc((size_t)senders, sizeof *t);
    glci_obs_t *obs = glci_xcalloc((size_t)batch, sizeof *obs);
    for (int k = 0; k < senders; k++) {
        s_sender_t *x = &t[k];
        x->id = k;
        x->n_cities = (int)(n_cities / senders + (k < n_cities % senders));
        x->cities = glci_xcalloc((size_t)x->n_cities, sizeof *x->cities);
        x->socks = glci_xcalloc((size_t)x->n_cities, sizeof *x->socks);
        x->streams = glci_xcalloc((size_t)x->n_cities, sizeof *x->streams);
        for (int c = 0; c < x->n_cities; c++) {
            x->cities[c] = k + c * (int)senders;
            x->streams[c] = 0xbe4c000000000000ull + (uint64_t)x->cities[c];
        }
        x->n_batches = n_batches / (size_t)senders + ((size_t)k < n_batches % (size_t)senders);
        x->batches = glci_xcalloc(x->n_batches ? x->n_batches : 1, sizeof *x->batches);
        x->lat_ms = glci_xcalloc(x->n_batches ? x->n_batches : 1, sizeof *x->lat_ms);
    }
    size_t obs_total = 0, serial = 0;
    for (int k = 0; k < senders; k++) {
        s_sender_t *x = &t[k];
        uint64_t *seq = glci_xcalloc((size_t)x->n_cities, sizeof *seq);
        for (size_t b = 0; b < x->n_batches; b++) {
            int c = (int)(b % (size_t)x->n_cities);
            size_t n = (size_t)batch;
            if (obs_total + n > (size_t)n_obs)
                n = (size_t)n_obs - obs_total;
            serial = s_fill(fw, obs, n, serial);
            obs_total += n;
            char city[16];
            snprintf(city, sizeof city, "city%03d", x->cities[c]);
            seq[c]++;
            x->batches[b].city = c;
            x->batches[b].seq = seq[c] + 1; /* seq 1 is the warm-up */
            glci_wire_batch_pack(x->streams[c], seq[c] + 1, city, obs, n, &x->batches[b].buf,
                                 &x->batches[b].len);
        }
        free(seq);
    }
    free(obs);

    s.ctx = zmq_ctx_new();
    s.window = (int)window;
    pthread_barrier_init(&s.ready, NULL, (unsigned)senders + 1);
    pthread_t *th = glci_xcalloc((size_t)senders, sizeof *th);
    for (int k = 0; k < senders; k++)
        pthread_create(&th[k], NULL, s_sender_main, &t[k]);
    pthread_barrier_wait(&s.ready);
    /* every warm-up is acked, so the collector and its metrics server run */
    if (o->metrics)
        scraping = pthread_create(&scraper_th, NULL, s_scraper_main, &scraper) == 0;
    glci_bench_machine_t m0 = {0, 0, 0}, m1 = {0, 0, 0};
    int m_ok = glci_bench_machine(&m0) == 0;
    pthread_barrier_wait(&s.ready);
    for (int k = 0; k < senders; k++)
        pthread_join(th[k], NULL);
    m_ok = m_ok && glci_bench_machine(&m1) == 0;
    res->idle_pct = m_ok ? glci_bench_share(&m0, &m1, 0) : -1;
    res->steal_pct = m_ok ? glci_bench_share(&m0, &m1, 1) : -1;
    if (scraping) {
        scraper.stop = 1;
        pthread_join(scraper_th, NULL);
        scraping = 0;
    }
    free(th);
    pthread_barrier_destroy(&s.ready);

    double t_end = s.t0;
    size_t n_lat = 0;
    double *lat = glci_xcalloc(n_batches ? n_batches : 1, sizeof *lat);
    int failed = 0;
    for (int k = 0; k < senders; k++) {
        if (t[k].failed) {
            fprintf(stderr, "glci-bench ingest: sender %d: %s\n", k, t[k].error);
            failed = 1;
        }
        if (t[k].last_ack > t_end)
            t_end = t[k].last_ack;
        for (size_t b = 0; b < t[k].n_batches; b++)
            lat[n_lat++] = t[k].lat_ms[b];
    }
    if (!failed) {
        qsort(lat, n_lat, sizeof *lat, s_cmp_double);
        double secs = t_end - s.t0;
        double p50 = lat[(n_lat - 1) / 2];
        double p99 = lat[(size_t)((double)(n_lat - 1) * 0.99)];

        /* everything sent is in the store (warm-ups included) */
        res->wchar = s_proc_io(pid, "wchar");
        res->read_bytes = s_proc_io(pid, "read_bytes");
        kill(pid, SIGTERM);
        int wst;
        /* the collector is the one child reaped here: its CPU time is what
         * the children's total grows by */
        double before = s_children_cpu(), min0, maj0, min1, maj1;
        s_children_faults(&min0, &maj0);
        waitpid(pid, &wst, 0);
        pid = -1;
        res->cpu_s = s_children_cpu() - before;
        s_children_faults(&min1, &maj1);
        res->minflt = min1 - min0;
        res->majflt = maj1 - maj0;
        glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
        glci_store_status_t ss;
        glci_view_t *v = NULL;
        memset(&ss, 0, sizeof ss);
        if (glci_store_open(store, &ro, &st, err, sizeof err) == 0 &&
            glci_view_begin(st, &v) == 0 && glci_view_status(v, &ss) == 0) {
            glci_view_end(&v);
            glci_store_close(&st);
        }
        uint64_t want = (uint64_t)n_obs + (uint64_t)n_cities + (uint64_t)o->prefill;
        res->store_bytes = ss.size_bytes;
        if (ss.n_history != want) {
            fprintf(stderr, "glci-bench ingest: store holds %llu applied values, sent %llu\n",
                    (unsigned long long)ss.n_history, (unsigned long long)want);
        } else {
            res->obs_per_s = (double)n_obs / secs;
            res->p50 = p50;
            res->p99 = p99;
            res->secs = secs;
            res->stored = ss.n_history;
            res->exit_status = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
            res->scrapes = scraper.scrapes;
            res->scrape_bytes = scraper.bytes;
            res->scrape_failures = scraper.failures;
            status = 0;
        }
    }
    free(lat);

cleanup:
    if (scraping) {
        scraper.stop = 1;
        pthread_join(scraper_th, NULL);
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    if (t) {
        for (int k = 0; k < senders; k++) {
            for (size_t b = 0; b < t[k].n_batches; b++)
                free(t[k].batches[b].buf);
            free(t[k].batches);
            free(t[k].lat_ms);
            free(t[k].cities);
            free(t[k].socks);
            free(t[k].streams);
        }
        free(t);
    }
    if (s.ctx)
        zmq_ctx_term(s.ctx);
    glci_framework_free(&fw);
    free(s.pub);
    free(s.sec);
    if (!keep) {
        char cmd[sizeof dir + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "glci-bench ingest: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "glci-bench ingest: store kept in %s\n", store);
    }
    return status;
}

/* ---- the command ---------------------------------------------------------- */

static void s_print(const s_opts_t *o, const s_result_t *r, const char *end)
{
    printf("{\"bench\": \"ingest\", \"obs_per_s\": %.0f, \"ack_p50_ms\": %.2f, "
           "\"ack_p99_ms\": %.2f, \"senders\": %lld, \"curve\": true, "
           "\"cities\": %lld, \"observations\": %lld, \"batch\": %lld, "
           "\"window\": %lld, \"seconds\": %.3f, \"stored\": %llu, "
           "\"metrics\": %s, \"scrapes\": %llu, \"scrape_bytes\": %llu, "
           "\"scrape_failures\": %llu, \"collector_cpu_s\": %.3f, "
           "\"collector_cpu_ns_per_obs\": %.0f, \"collector_faults_per_kobs\": %.1f, "
           "\"collector_major_faults\": %.0f, \"disk_read_bytes_per_obs\": %.1f, "
           "\"prefill\": %lld, \"prefill_s\": %.1f, "
           "\"store_bytes\": %llu, \"written_bytes_per_obs\": %.0f, "
           "\"machine_idle_pct\": %.1f, \"machine_steal_pct\": %.1f, \"framework\": \"%s\", "
           "\"exit_status\": %d}%s",
           r->obs_per_s, r->p50, r->p99, (long long)o->senders, (long long)o->n_cities,
           (long long)o->n_obs, (long long)o->batch, (long long)o->window, r->secs,
           (unsigned long long)r->stored, o->metrics ? "true" : "false",
           (unsigned long long)r->scrapes, (unsigned long long)r->scrape_bytes,
           (unsigned long long)r->scrape_failures, r->cpu_s, r->cpu_s * 1e9 / (double)o->n_obs,
           r->minflt * 1e3 / (double)o->n_obs, r->majflt,
           (double)r->read_bytes / (double)o->n_obs, (long long)o->prefill, r->prefill_s,
           (unsigned long long)r->store_bytes,
           (double)r->wchar / (double)o->n_obs, r->idle_pct, r->steal_pct, o->framework,
           r->exit_status, end);
}

/* Two runs in one invocation, a then b, each printed; then the ratio of
 * b to a in obs/s, in wall ns per observation and in the collector's CPU
 * ns per observation. */
static double s_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, s_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs a and b `rounds` times, interleaved, the order swapped every round
 * so neither always runs first on a machine whose load drifts; each run
 * starts on a store of its own (b's prefill is made again each round).
 * Prints every run, then the medians of a's and b's figures and the median
 * of the per-round ratios, with each round's ratio. */
static int s_pair(const char *name, const s_opts_t *a, const s_opts_t *b, int64_t rounds)
{
    size_t n = (size_t)rounds;
    double *v = glci_xcalloc(7 * n, sizeof *v);
    double *obs_a = v, *obs_b = v + n, *cpu_a = v + 2 * n, *cpu_b = v + 3 * n;
    double *ratio = v + 4 * n, *cpu_ratio = v + 5 * n, *ratios = v + 6 * n;
    int status = 0;
    printf("{\"bench\": \"%s\", \"rounds\": %lld, \"runs\": [\n", name, (long long)rounds);
    fflush(stdout);
    for (size_t i = 0; i < n && status == 0; i++) {
        for (int k = 0; k < 2; k++) {
            int is_b = (int)((i + (size_t)k) % 2);
            const s_opts_t *o = is_b ? b : a;
            s_result_t r;
            if (s_run(o, &r) != 0) {
                status = 1;
                break;
            }
            (is_b ? obs_b : obs_a)[i] = r.obs_per_s;
            (is_b ? cpu_b : cpu_a)[i] = r.cpu_s * 1e9 / (double)o->n_obs;
            printf("  ");
            s_print(o, &r, i + 1 == n && k == 1 ? "\n" : ",\n");
            fflush(stdout);
        }
        if (status == 0) {
            ratio[i] = ratios[i] = obs_b[i] / obs_a[i];
            cpu_ratio[i] = cpu_b[i] / cpu_a[i];
        }
    }
    if (status != 0) {
        printf("], \"error\": \"a run failed\"}\n");
        free(v);
        return 1;
    }
    printf("], \"obs_per_s_ratios\": [");
    for (size_t i = 0; i < n; i++)
        printf("%s%.3f", i ? ", " : "", ratios[i]);
    double m_a = s_median(obs_a, n), m_b = s_median(obs_b, n);
    double c_a = s_median(cpu_a, n), c_b = s_median(cpu_b, n);
    double ns_a = 1e9 / m_a, ns_b = 1e9 / m_b;
    /* with one round these are that round's figures */
    printf("], \"obs_per_s_a\": %.0f, \"obs_per_s_b\": %.0f, \"obs_per_s_ratio\": %.3f, "
           "\"ns_per_obs_a\": %.0f, \"ns_per_obs_b\": %.0f, \"ns_per_obs_ratio\": %.3f, "
           "\"cpu_ns_per_obs_a\": %.0f, \"cpu_ns_per_obs_b\": %.0f, "
           "\"cpu_ns_per_obs_ratio\": %.3f}\n",
           m_a, m_b, s_median(ratio, n), ns_a, ns_b, ns_b / ns_a, c_a, c_b,
           s_median(cpu_ratio, n));
    free(v);
    return 0;
}

/* n runs without metrics and n with, interleaved (the order swapped every
 * pair, so neither always runs first on a machine whose load drifts). */
static int s_compare(s_opts_t o, int64_t n)
{
    double *off = glci_xcalloc((size_t)n, sizeof *off), *on = glci_xcalloc((size_t)n, sizeof *on);
    double *off_p50 = glci_xcalloc((size_t)n, sizeof *off_p50);
    double *on_p50 = glci_xcalloc((size_t)n, sizeof *on_p50);
    double *off_cpu = glci_xcalloc((size_t)n, sizeof *off_cpu);
    double *on_cpu = glci_xcalloc((size_t)n, sizeof *on_cpu);
    int status = 0;
    printf("{\"bench\": \"ingest_metrics\", \"runs\": [\n");
    for (int64_t i = 0; i < n && status == 0; i++) {
        for (int k = 0; k < 2 && status == 0; k++) {
            o.metrics = (int)((i + k) % 2);
            s_result_t r;
            if (s_run(&o, &r) != 0) {
                status = 1;
                break;
            }
            (o.metrics ? on : off)[i] = r.obs_per_s;
            (o.metrics ? on_p50 : off_p50)[i] = r.p50;
            (o.metrics ? on_cpu : off_cpu)[i] = r.cpu_s;
            printf("  ");
            s_print(&o, &r, i + 1 == n && k == 1 ? "\n" : ",\n");
            fflush(stdout);
        }
    }
    if (status == 0) {
        double m_off = s_median(off, (size_t)n), m_on = s_median(on, (size_t)n);
        double c_off = s_median(off_cpu, (size_t)n), c_on = s_median(on_cpu, (size_t)n);
        /* the collector's CPU time hardly depends on what else the machine
         * runs, its throughput does: both are given */
        printf("], \"pairs\": %lld, \"obs_per_s_off_median\": %.0f, "
               "\"obs_per_s_on_median\": %.0f, \"ack_p50_ms_off_median\": %.2f, "
               "\"ack_p50_ms_on_median\": %.2f, \"metrics_cost_pct\": %.2f, "
               "\"collector_cpu_s_off_median\": %.3f, \"collector_cpu_s_on_median\": %.3f, "
               "\"cpu_cost_pct\": %.2f}\n",
               (long long)n, m_off, m_on, s_median(off_p50, (size_t)n),
               s_median(on_p50, (size_t)n), 100.0 * (m_off - m_on) / m_off, c_off, c_on,
               100.0 * (c_on - c_off) / c_off);
    } else {
        printf("], \"error\": \"a run failed\"}\n");
    }
    free(off);
    free(on);
    free(off_p50);
    free(on_p50);
    free(off_cpu);
    free(on_cpu);
    return status;
}

int glci_bench_ingest(int argc, char **argv)
{
    s_opts_t o = {.n_cities = 200, .n_obs = 1000000, .batch = 1000, .senders = 4,
                  .window = 8, .framework = GLCI_FRAMEWORK_FILE};
    int64_t compare = 0, scale = 1, rounds = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(argv[i], "--cities"))
            rc = glci_bench_opt("ingest", "--cities", v, 1, 10000, &o.n_cities), i++;
        else if (!strcmp(argv[i], "--obs"))
            rc = glci_bench_opt("ingest", "--obs", v, 1, 1000000000, &o.n_obs), i++;
        else if (!strcmp(argv[i], "--batch"))
            rc = glci_bench_opt("ingest", "--batch", v, 1, 10000, &o.batch), i++;
        else if (!strcmp(argv[i], "--senders"))
            rc = glci_bench_opt("ingest", "--senders", v, 1, 64, &o.senders), i++;
        else if (!strcmp(argv[i], "--window"))
            rc = glci_bench_opt("ingest", "--window", v, 1, 1000, &o.window), i++;
        else if (!strcmp(argv[i], "--compare"))
            rc = glci_bench_opt("ingest", "--compare", v, 1, 100, &compare), i++;
        else if (!strcmp(argv[i], "--prefill"))
            rc = glci_bench_opt("ingest", "--prefill", v, 0, 1000000000, &o.prefill), i++;
        else if (!strcmp(argv[i], "--rounds"))
            rc = glci_bench_opt("ingest", "--rounds", v, 1, 100, &rounds), i++;
        else if (!strcmp(argv[i], "--indicators-x"))
            rc = glci_bench_opt("ingest", "--indicators-x", v, 1, 100, &scale), i++;
        else if (!strcmp(argv[i], "--metrics"))
            o.metrics = 1;
        else if (!strcmp(argv[i], "--keep"))
            o.keep = 1;
        else {
            fprintf(stderr, "glci-bench ingest: unknown option %s\n", argv[i]);
            return 2;
        }
        if (rc != 0)
            return 2;
    }
    if (o.senders > o.n_cities)
        o.senders = o.n_cities;
    if (compare && (o.prefill || scale > 1)) {
        fprintf(stderr, "glci-bench ingest: --compare goes with neither --prefill nor "
                        "--indicators-x\n");
        return 2;
    }
    if (compare)
        return s_compare(o, compare);
    if (rounds > 1 && !o.prefill && scale == 1) {
        fprintf(stderr, "glci-bench ingest: --rounds goes with --prefill or --indicators-x\n");
        return 2;
    }
    if (o.prefill && scale > 1) {
        fprintf(stderr, "glci-bench ingest: --prefill and --indicators-x are separate runs\n");
        return 2;
    }
    if (o.prefill) {
        s_opts_t empty = o;
        empty.prefill = 0;
        return s_pair("ingest_prefill", &empty, &o, rounds);
    }
    if (scale > 1) {
        char dir[] = "/tmp/glci-bench-fw-XXXXXX", path[sizeof dir + 16];
        if (!mkdtemp(dir)) {
            fprintf(stderr, "glci-bench ingest: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        snprintf(path, sizeof path, "%s/glci.ini", dir);
        int status = 1;
        if (s_scale_framework(o.framework, scale, path) == 0) {
            s_opts_t wide = o;
            wide.framework = path;
            status = s_pair("ingest_indicators", &o, &wide, rounds);
        }
        unlink(path);
        rmdir(dir);
        return status;
    }
    s_result_t r;
    if (s_run(&o, &r) != 0)
        return 1;
    s_print(&o, &r, "\n");
    return 0;
}
