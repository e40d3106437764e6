/* The collector's and the agent's metric families: see
 * glci_metrics_catalog.h and docs/METRICS.md. One table per daemon; a row
 * names the family, its handle's place in the daemon's struct, and what
 * the daemon's configuration adds at registration (build info labels, the
 * per-city callback). */
#include "glci_metrics_catalog.h"

#include <stdio.h>

#ifndef GLCI_VERSION
#error "GLCI_VERSION is defined by metrics/CMakeLists.txt"
#endif

typedef enum { S_PLAIN, S_BUILD_INFO, S_CITIES } s_fill_t;

typedef struct {
    glci_metric_spec_t spec;
    size_t offset;            /* of the handle in the daemon's struct */
    s_fill_t fill;
} s_row_t;

static const char *const s_status_label[] = {"status", NULL};
static const char *const s_status[] = {"applied", "duplicate", "gap", "malformed",
                                       "forbidden", "unavailable", NULL};
static const char *const s_reason_label[] = {"reason", NULL};
static const char *const s_reason[] = {"unknown_indicator", "not_finite", "out_of_range",
                                       "bad_period", "malformed", "period_in_future",
                                       "nothing_to_retract", "wrong_city", NULL};
static const char *const s_result_label[] = {"result", NULL};
static const char *const s_result[] = {"accepted", "refused", "failed", NULL};
static const char *const s_state_label[] = {"state", NULL};
static const char *const s_state[] = {"connecting", "connected", "disconnected", "refused",
                                      "handshake_failed", "forbidden", "malformed",
                                      "restreaming", "recovering", NULL};
static const char *const s_city_label[] = {"city", NULL};
static const char *const s_file_label[] = {"file", NULL};
static const char *const s_file[] = {"state", "history", NULL};
static const char *const s_collector_info_labels[] = {"version", "framework", "framework_hash",
                                                      NULL};
static const char *const s_agent_info_labels[] = {"version", "city", NULL};

_Static_assert(sizeof s_status / sizeof *s_status == GLCI_MC_BATCH_N + 1, "status labels");
_Static_assert(sizeof s_reason / sizeof *s_reason == GLCI_MC_REJECT_N + 1, "reason labels");
_Static_assert(sizeof s_result / sizeof *s_result == GLCI_MC_HANDSHAKE_N + 1, "result labels");
_Static_assert(sizeof s_state / sizeof *s_state == GLCI_MC_STATE_N + 1, "state labels");

/* One group commit: an LMDB transaction with its fsync, from about a
 * millisecond on an SSD to seconds on a busy disk. */
static const double s_seconds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                   0.1,    0.25,  0.5,    1,     2.5,   5,     10};
/* Batches per group: powers of two up to group_max's useful range. */
static const double s_group[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

#define S_COUNTER GLCI_METRIC_COUNTER
#define S_GAUGE GLCI_METRIC_GAUGE
#define S_HIST GLCI_METRIC_HISTOGRAM
#define S_AT(type, field) offsetof(type, field)
#define S_C(field) S_AT(glci_collector_metrics_t, field)
#define S_A(field) S_AT(glci_agent_metrics_t, field)
#define S_N(a) (sizeof a / sizeof *a)
#define S_FAMILY(t, n, h, ...) {.type = t, .name = n, .help = h, __VA_ARGS__}

static const s_row_t s_collector[] = {
    {S_FAMILY(S_COUNTER, "glci_collector_batches_total",
              "Batches answered, by the status of the answer.",
              .labels = s_status_label, .values = s_status),
     S_C(batches), S_PLAIN},
    {S_FAMILY(S_COUNTER, "glci_collector_observations_applied_total",
              "Observations stored from applied batches (rejected ones not counted)."),
     S_C(observations_applied), S_PLAIN},
    {S_FAMILY(S_COUNTER, "glci_collector_observations_rejected_total",
              "Observations refused by validation, by reason.",
              .labels = s_reason_label, .values = s_reason),
     S_C(observations_rejected), S_PLAIN},
    {S_FAMILY(S_COUNTER, "glci_collector_handshakes_total",
              "Agent connections by the outcome of their CURVE handshake.",
              .labels = s_result_label, .values = s_result),
     S_C(handshakes), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_connected_agents",
              "Agent connections that completed the handshake and are open."),
     S_C(connected_agents), S_PLAIN},
    {S_FAMILY(S_HIST, "glci_collector_ingest_duration_seconds",
              "Time of one group commit: the store transaction of a group of batches, with its "
              "sync.",
              .buckets = s_seconds, .n_buckets = S_N(s_seconds)),
     S_C(ingest_duration), S_PLAIN},
    {S_FAMILY(S_HIST, "glci_collector_ingest_group_batches",
              "Batches in one group commit.",
              .buckets = s_group, .n_buckets = S_N(s_group)),
     S_C(ingest_group), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_store_used_bytes",
              "Space in use in each of the store's files (LMDB's high-water mark).",
              .labels = s_file_label, .values = s_file),
     S_C(store_used), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_store_file_bytes",
              "Size of each of the store's data files on disk.",
              .labels = s_file_label, .values = s_file),
     S_C(store_file), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_store_map_bytes",
              "Each file's current LMDB map size (it doubles when a write finds it full).",
              .labels = s_file_label, .values = s_file),
     S_C(store_map), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_store_map_max_bytes",
              "map_max: the size each file's map never grows past.",
              .labels = s_file_label, .values = s_file),
     S_C(store_map_max), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_round_period",
              "The period of the current reporting round (the latest whose year has ended)."),
     S_C(round_period), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_round_opened_timestamp_seconds",
              "When that round opened (1 January after its period, UTC)."),
     S_C(round_opened), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_round_due_timestamp_seconds",
              "The end of that round's due day (UTC)."),
     S_C(round_due), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_healthy",
              "1 while the store is writable and the ROUTER bound (what /health answers), else "
              "0."),
     S_C(healthy), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_collector_city_last_seen_timestamp_seconds",
              "When each active city's last batch arrived.",
              .labels = s_city_label),
     S_C(city_last_seen), S_CITIES},
    {S_FAMILY(S_GAUGE, "glci_collector_build_info",
              "Always 1; the labels name this build and the store's framework.",
              .labels = s_collector_info_labels),
     S_C(build_info), S_BUILD_INFO},
};

static const s_row_t s_agent[] = {
    {S_FAMILY(S_GAUGE, "glci_agent_outbox_batches",
              "Batches in the outbox not yet acknowledged."),
     S_A(outbox_batches), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_outbox_bytes",
              "Bytes of the batches in the outbox."),
     S_A(outbox_bytes), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_outbox_limit_bytes",
              "outbox_limit: new input is refused once the outbox holds this much."),
     S_A(outbox_limit), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_outbox_oldest_timestamp_seconds",
              "When the oldest unacknowledged batch was stored; 0 when the outbox is empty."),
     S_A(outbox_oldest), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_retained_batches",
              "Acked batches kept to be sent again should the collector lose them (retain)."),
     S_A(retained_batches), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_retained_bytes",
              "Bytes of the retained batches; retain_bytes bounds them."),
     S_A(retained_bytes), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_last_ack_timestamp_seconds",
              "When the collector last acknowledged a batch; 0 before the first."),
     S_A(last_ack), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_connection_state",
              "1 for the sender's current connection state, 0 for the others.",
              .labels = s_state_label, .values = s_state),
     S_A(connection_state), S_PLAIN},
    {S_FAMILY(S_COUNTER, "glci_agent_batches_acked_total",
              "Batches the collector acknowledged since the agent started."),
     S_A(batches_acked), S_PLAIN},
    {S_FAMILY(S_COUNTER, "glci_agent_observations_rejected_total",
              "Observations the collector rejected since the agent started, by reason.",
              .labels = s_reason_label, .values = s_reason),
     S_A(observations_rejected), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_dead_letters_pending",
              "Rejected observations kept in the outbox, not yet written to the dead-letter "
              "file."),
     S_A(dead_letters_pending), S_PLAIN},
    {S_FAMILY(S_GAUGE, "glci_agent_build_info",
              "Always 1; the labels name this build and the city.",
              .labels = s_agent_info_labels),
     S_A(build_info), S_BUILD_INFO},
};

/* Stands in for a per-city callback the daemon did not give: no samples. */
static int s_no_cities(void *arg, glci_metric_sink_t *sink)
{
    (void)arg;
    (void)sink;
    return 0;
}

/* Registers rows into the handles at base; info holds the build_info row's
 * label values, cities the callback for S_CITIES. */
static int s_register(glci_metrics_t *reg, const s_row_t *rows, size_t n, void *base,
                      const char *const *info, glci_metric_collect_fn cities, void *cities_arg,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        glci_metric_spec_t spec = rows[i].spec;
        if (rows[i].fill == S_BUILD_INFO)
            spec.values = info;
        if (rows[i].fill == S_CITIES) {
            spec.collect = cities ? cities : s_no_cities;
            spec.collect_arg = cities_arg;
        }
        glci_metric_t **slot = (glci_metric_t **)((char *)base + rows[i].offset);
        if (glci_metrics_add(reg, &spec, slot, err, errlen) < 0)
            return -1;
        if (rows[i].fill == S_BUILD_INFO)
            glci_gauge_set(*slot, 0, 1.0);
    }
    return 0;
}

int glci_metrics_catalog_collector(glci_metrics_t *reg, const glci_collector_metrics_cfg_t *cfg,
                                   glci_collector_metrics_t *m, char *err, size_t errlen)
{
    const char *info[] = {GLCI_VERSION, cfg->framework ? cfg->framework : "",
                          cfg->framework_hash ? cfg->framework_hash : "", NULL};
    return s_register(reg, s_collector, S_N(s_collector), m, info, cfg->city_last_seen,
                      cfg->city_last_seen_arg, err, errlen);
}

int glci_metrics_catalog_agent(glci_metrics_t *reg, const char *city, glci_agent_metrics_t *m,
                               char *err, size_t errlen)
{
    const char *info[] = {GLCI_VERSION, city ? city : "", NULL};
    return s_register(reg, s_agent, S_N(s_agent), m, info, NULL, NULL, err, errlen);
}
