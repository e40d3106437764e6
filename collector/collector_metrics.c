/* The collector's metrics and health: see collector_metrics.h and
 * docs/METRICS.md. The daemon's thread updates handles of the catalog
 * (glci_metrics_catalog.h) and a few atomics; the HTTP server's thread
 * reads them. */
#include "collector_metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "collector_conns.h"
#include "glci_alloc.h"
#include "glci_log.h"
#include "glci_text.h"
#include "glci_metrics.h"
#include "glci_metrics_catalog.h"
#include "glci_metrics_http.h"
#include "glci_monitor.h"

#define S_TICK_MS 1000

/* The monitor's events; the value of each is what libzmq documents for it. */
#define S_MONITOR_EVENTS                                                                 \
    (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |                                 \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |         \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED)

struct glci_collector_meter {
    glci_store_t *st;
    char *store_dir;
    glci_metrics_t *reg;
    glci_collector_metrics_t m;
    glci_metrics_http_t *http;
    glci_metrics_listen_t listen;      /* what http serves */
    void *router, *monitor;
    glci_collector_conns_t conns;      /* connections, from the monitor */
    int64_t next_tick;
    /* What /health answers from, written here and read by the server. */
    atomic_int store_rc;               /* the last commit's code; 0 ok */
    atomic_int store_gone;             /* data.mdb removed under the open store */
    atomic_int bound;                  /* the ROUTER is bound */
};

/* ---- health ------------------------------------------------------------ */

/* 1 and "ok", or 0 and the first reason the collector cannot do its job. */
static int s_health(void *arg, char *why, size_t whylen)
{
    glci_collector_meter_t *m = arg;
    int rc = atomic_load(&m->store_rc);
    if (atomic_load(&m->store_gone)) {
        snprintf(why, whylen, "store not writable: its data file was removed");
        return 0;
    }
    if (rc != 0) {
        snprintf(why, whylen, "store not writable: %s", glci_store_strerror(rc));
        return 0;
    }
    if (!atomic_load(&m->bound)) {
        snprintf(why, whylen, "the ROUTER is not bound");
        return 0;
    }
    snprintf(why, whylen, "ok");
    return 1;
}

/* The healthy gauge says what /health would answer. */
static void s_health_changed(glci_collector_meter_t *m)
{
    char why[128];
    glci_gauge_set(m->m.healthy, 0, s_health(m, why, sizeof why) ? 1.0 : 0.0);
}

/* ---- scrape-time families ----------------------------------------------- */

static int s_city_emit(void *ctx, const glci_city_t *c)
{
    if (c->active) {
        const char *values[] = {c->id, NULL};
        glci_metric_sink_emit(ctx, values, (double)c->last_seen);
    }
    return 0;
}

/* Each active city's last batch time, read through a view of the server's
 * own thread when a scraper asks. */
static int s_cities(void *arg, glci_metric_sink_t *sink)
{
    glci_collector_meter_t *m = arg;
    glci_view_t *v = NULL;
    int rc = glci_view_begin(m->st, &v);
    if (rc == 0)
        rc = glci_view_cities(v, s_city_emit, sink);
    glci_view_end(&v);
    return rc == 0 ? 0 : -1;
}

/* ---- the store ------------------------------------------------------------ */

static void s_space(glci_collector_meter_t *m)
{
    glci_store_space_t sp;
    if (glci_store_space(m->st, &sp) != 0) {
        glci_debug("metrics: cannot look at the store's data file");
        return;
    }
    /* by file (label index = GLCI_STORE_FILE_*): the store is full when
     * one of them is, so each is compared with its own bound */
    for (unsigned i = 0; i < sp.n_files; i++) {
        glci_gauge_set(m->m.store_used, i, (double)sp.file[i].used_bytes);
        glci_gauge_set(m->m.store_file, i, (double)sp.file[i].file_bytes);
        glci_gauge_set(m->m.store_map, i, (double)sp.file[i].map_bytes);
        glci_gauge_set(m->m.store_map_max, i, (double)sp.file[i].map_max_bytes);
    }
    if (atomic_exchange(&m->store_gone, !sp.linked) != !sp.linked) {
        if (!sp.linked)
            glci_error("a data file of the store %s (data.mdb, or history/data.mdb) was "
                       "removed while the collector has it open; /health answers 503",
                       m->store_dir);
        s_health_changed(m);
    }
}

/* The round gauges (docs/METRICS.md, "Rounds"): the latest round whose
 * year has ended (glci_round_current, the round `glci missing` and
 * `city list` report on), opened on 1 January after its period, due at the
 * end of its due day (UTC), the moment `glci missing` starts calling it
 * overdue. All three are 0 before the framework's first round has ended. */
static void s_rounds(glci_collector_meter_t *m)
{
    const glci_framework_t *fw = glci_store_framework(m->st);
    int32_t P;
    double period = 0.0, opened = 0.0, due = 0.0;
    if (glci_round_current(fw, (int64_t)time(NULL), &P) == 0) {
        period = (double)P;
        opened = (double)(glci_days_from_civil((int64_t)P + 1, 1, 1) * 86400);
        due = (double)(glci_round_due(fw, P) + 86400);
    }
    glci_gauge_set(m->m.round_period, 0, period);
    glci_gauge_set(m->m.round_opened, 0, opened);
    glci_gauge_set(m->m.round_due, 0, due);
}

/* ---- the meter ------------------------------------------------------------ */

int glci_collector_meter_open(glci_store_t *st, const char *store_dir,
                              glci_collector_meter_t **out, char *err, size_t errlen)
{
    *out = NULL;
    glci_collector_meter_t *m = glci_xcalloc(1, sizeof *m);
    m->st = st;
    m->store_dir = glci_xstrdup(store_dir);
    m->reg = glci_metrics_new();
    glci_collector_conns_init(&m->conns);
    const glci_framework_t *fw = glci_store_framework(st);
    char framework[256];
    snprintf(framework, sizeof framework, "%s %s", fw->id, fw->version);
    glci_collector_metrics_cfg_t cfg = {.framework = framework,
                                        .framework_hash = fw->hash_hex,
                                        .city_last_seen = s_cities,
                                        .city_last_seen_arg = m};
    if (glci_metrics_catalog_collector(m->reg, &cfg, &m->m, err, errlen) != 0) {
        glci_collector_conns_release(&m->conns);
        glci_metrics_destroy(&m->reg);
        free(m->store_dir);
        free(m);
        return -1;
    }
    s_space(m);
    s_rounds(m);
    s_health_changed(m);
    *out = m;
    return 0;
}

static void s_unwatch(glci_collector_meter_t *m)
{
    if (m->router && m->monitor)
        zmq_socket_monitor(m->router, NULL, 0);
    if (m->monitor)
        zmq_close(m->monitor);
    m->monitor = NULL;
    m->router = NULL;
}

void glci_collector_meter_close(glci_collector_meter_t **self)
{
    if (!self || !*self)
        return;
    glci_collector_meter_t *m = *self;
    glci_metrics_http_stop(&m->http);
    s_unwatch(m);
    glci_collector_conns_release(&m->conns);
    glci_metrics_destroy(&m->reg);
    free(m->store_dir);
    free(m);
    *self = NULL;
}

/* ---- connections --------------------------------------------------------- */

int glci_collector_meter_watch(glci_collector_meter_t *m, void *ctx, void *router, char *err,
                               size_t errlen)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://glci-collector-monitor-%p", (void *)m);
    if (zmq_socket_monitor(router, ep, S_MONITOR_EVENTS) != 0) {
        snprintf(err, errlen, "cannot monitor the ROUTER: %s", zmq_strerror(errno));
        return -1;
    }
    m->router = router;
    int zero = 0;
    m->monitor = zmq_socket(ctx, ZMQ_PAIR);
    if (!m->monitor || zmq_setsockopt(m->monitor, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(m->monitor, ep) != 0) {
        snprintf(err, errlen, "cannot read the ROUTER's monitor: %s", zmq_strerror(errno));
        s_unwatch(m);
        return -1;
    }
    return 0;
}

void *glci_collector_meter_socket(const glci_collector_meter_t *m)
{
    return m->monitor;
}

/* A connection that ends without a handshake result of its own (it never
 * spoke ZMTP: libzmq signals no failure for it) is a failed handshake too
 * (collector_conns.h). */
void glci_collector_meter_events(glci_collector_meter_t *m)
{
    uint16_t event;
    uint32_t value;
    int seen = 0;
    while (m->monitor && glci_monitor_read(m->monitor, &event, &value)) {
        seen = 1;
        switch (event) {
        case ZMQ_EVENT_ACCEPTED:
            glci_collector_conns_accepted(&m->conns, value);
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            glci_collector_conns_result(&m->conns, 1);
            glci_counter_inc(m->m.handshakes, GLCI_MC_HANDSHAKE_ACCEPTED);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            glci_collector_conns_result(&m->conns, 0);
            glci_counter_inc(m->m.handshakes, GLCI_MC_HANDSHAKE_REFUSED);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            glci_collector_conns_result(&m->conns, 0);
            glci_counter_inc(m->m.handshakes, GLCI_MC_HANDSHAKE_FAILED);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (glci_collector_conns_disconnected(&m->conns, value))
                glci_counter_inc(m->m.handshakes, GLCI_MC_HANDSHAKE_FAILED);
            break;
        default:
            break;
        }
    }
    if (seen)
        glci_gauge_set(m->m.connected_agents, 0,
                       (double)glci_collector_conns_connected(&m->conns));
}

/* ---- the server ------------------------------------------------------------ */

static int s_start(glci_collector_meter_t *m, const glci_metrics_listen_t *l, char *err,
                   size_t errlen)
{
    glci_metrics_http_cfg_t cfg = {.metrics = m->reg, .health = s_health, .health_arg = m};
    if (glci_metrics_http_start(l, &cfg, &m->http, err, errlen) != 0)
        return -1;
    m->listen = *l;
    int port = glci_metrics_http_port(m->http);
    /* the port bound, which port 0 leaves to the system */
    char shown[80];
    snprintf(shown, sizeof shown, "%.*s:%d", (int)(strrchr(l->text, ':') - l->text), l->text,
             port);
    glci_info("metrics: serving /metrics and /health on %s", shown);
    if (!l->loopback)
        glci_warn("metrics: %s is reachable from other machines; the metrics name cities "
                  "and their timings, so expose them to the monitoring network only", shown);
    return 0;
}

int glci_collector_meter_serve(glci_collector_meter_t *m, const char *metrics_listen,
                               char *err, size_t errlen)
{
    glci_metrics_listen_t l;
    if (!metrics_listen) {
        /* stopped first: once the line is logged, nothing answers there */
        int served = m->http != NULL;
        glci_metrics_http_stop(&m->http);
        if (served)
            glci_info("metrics: no longer served on %s", m->listen.text);
        return 0;
    }
    if (glci_metrics_listen_parse(metrics_listen, &l, err, errlen) != 0)
        return -1;
    /* port 0 asks for any port: a server already on one keeps it */
    if (m->http && strcmp(l.text, m->listen.text) == 0)
        return 0;
    glci_metrics_listen_t old = m->listen;
    int had = m->http != NULL;
    if (had)
        glci_info("metrics: moving from %s to %s", old.text, l.text);
    glci_metrics_http_stop(&m->http);
    if (s_start(m, &l, err, errlen) == 0)
        return 0;
    char again[256];
    if (had && s_start(m, &old, again, sizeof again) != 0)
        glci_error("metrics: %s; no metrics served", again);
    return -1;
}

int glci_collector_meter_port(const glci_collector_meter_t *m)
{
    return m->http ? glci_metrics_http_port(m->http) : 0;
}

/* ---- the daemon's events ----------------------------------------------------- */

void glci_collector_meter_bound(glci_collector_meter_t *m, int bound)
{
    atomic_store(&m->bound, bound);
    s_health_changed(m);
}

void glci_collector_meter_answer(glci_collector_meter_t *m, const glci_wire_ack_t *ack,
                                 size_t n_obs)
{
    if (!glci_batch_status_valid((int)ack->status))
        return;
    glci_counter_inc(m->m.batches, GLCI_MC_BATCH(ack->status));
    if (ack->status != GLCI_BATCH_APPLIED)
        return;
    glci_counter_add(m->m.observations_applied, 0,
                     n_obs > ack->n_rejections ? n_obs - ack->n_rejections : 0);
    for (size_t i = 0; i < ack->n_rejections; i++) {
        size_t child = GLCI_MC_REJECT(ack->rejections[i].reason);
        if (ack->rejections[i].reason != GLCI_REJECT_NONE && child < GLCI_MC_REJECT_N)
            glci_counter_inc(m->m.observations_rejected, child);
    }
}

void glci_collector_meter_commit(glci_collector_meter_t *m, int rc, double seconds,
                                 size_t n_batches)
{
    glci_histogram_observe(m->m.ingest_duration, 0, seconds);
    glci_histogram_observe(m->m.ingest_group, 0, (double)n_batches);
    if (atomic_exchange(&m->store_rc, rc) != rc)
        s_health_changed(m);
}

void glci_collector_meter_tick(glci_collector_meter_t *m, int64_t now_ms)
{
    if (now_ms < m->next_tick)
        return;
    m->next_tick = now_ms + S_TICK_MS;
    s_space(m);
    s_rounds(m);
}
