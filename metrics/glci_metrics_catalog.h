/* Every metric family glci-collector serves and glci-agent writes, defined
 * once: names, help, types, labels and buckets (docs/METRICS.md explains
 * each and is checked against this table by test_metrics_catalog). A
 * daemon registers its set with one call and updates a handle per event:
 *
 *     glci_counter_inc(m.batches, GLCI_MC_BATCH(ack.status));
 *     glci_counter_add(m.observations_applied, 0, n_applied);
 *     glci_histogram_observe(m.ingest_duration, 0, seconds);
 *
 * Child indexes of labelled families are the enums below, in the order of
 * their label values. */
#ifndef GLCI_METRICS_CATALOG_H
#define GLCI_METRICS_CATALOG_H

#include <stddef.h>

#include "glci_metrics.h"

/* batches_total{status}: the wire's Status (glci.proto) minus one. */
enum {
    GLCI_MC_BATCH_APPLIED = 0,
    GLCI_MC_BATCH_DUPLICATE,
    GLCI_MC_BATCH_GAP,
    GLCI_MC_BATCH_MALFORMED,
    GLCI_MC_BATCH_FORBIDDEN,
    GLCI_MC_BATCH_UNAVAILABLE,
    GLCI_MC_BATCH_N
};
#define GLCI_MC_BATCH(wire_status) ((size_t)(wire_status) - 1)

/* observations_rejected_total{reason}: glci_reject_t (wire/glci_obs.h)
 * minus one: the wire's reasons, then "period in the future" and "nothing
 * to retract" (shared/SPEC.md section 7), then "wrong city" (a batch
 * claiming another city, SPEC section 4). */
enum {
    GLCI_MC_REJECT_UNKNOWN_INDICATOR = 0,
    GLCI_MC_REJECT_NOT_FINITE,
    GLCI_MC_REJECT_OUT_OF_RANGE,
    GLCI_MC_REJECT_BAD_PERIOD,
    GLCI_MC_REJECT_MALFORMED,
    GLCI_MC_REJECT_PERIOD_IN_FUTURE,
    GLCI_MC_REJECT_NOTHING_TO_RETRACT,
    GLCI_MC_REJECT_WRONG_CITY,
    GLCI_MC_REJECT_N
};
#define GLCI_MC_REJECT(reason) ((size_t)(reason) - 1)

/* handshakes_total{result} */
enum {
    GLCI_MC_HANDSHAKE_ACCEPTED = 0, /* ZAP admitted the key */
    GLCI_MC_HANDSHAKE_REFUSED,      /* ZAP refused: unknown or revoked key, no CURVE, bad request */
    GLCI_MC_HANDSHAKE_FAILED,       /* the CURVE handshake failed (socket monitor) */
    GLCI_MC_HANDSHAKE_N
};

/* The agent's connection_state{state}: its sender's states. */
enum {
    GLCI_MC_STATE_CONNECTING = 0,
    GLCI_MC_STATE_CONNECTED,
    GLCI_MC_STATE_DISCONNECTED,
    GLCI_MC_STATE_REFUSED,
    GLCI_MC_STATE_HANDSHAKE_FAILED,
    GLCI_MC_STATE_FORBIDDEN,
    GLCI_MC_STATE_MALFORMED,
    GLCI_MC_STATE_RESTREAMING,
    GLCI_MC_STATE_RECOVERING,
    GLCI_MC_STATE_N
};

typedef struct {
    glci_metric_t *batches;                /* counter {status} */
    glci_metric_t *observations_applied;   /* counter */
    glci_metric_t *observations_rejected;  /* counter {reason} */
    glci_metric_t *handshakes;             /* counter {result} */
    glci_metric_t *connected_agents;       /* gauge */
    glci_metric_t *ingest_duration;        /* histogram, seconds per group transaction */
    glci_metric_t *ingest_group;           /* histogram, batches per group transaction */
    glci_metric_t *store_used;             /* gauge, bytes */
    glci_metric_t *store_file;             /* gauge, bytes */
    glci_metric_t *store_map;              /* gauge, bytes */
    glci_metric_t *store_map_max;          /* gauge, bytes */
    glci_metric_t *round_period;           /* gauge */
    glci_metric_t *round_opened;           /* gauge, Unix seconds */
    glci_metric_t *round_due;              /* gauge, Unix seconds */
    glci_metric_t *healthy;                /* gauge, 1 or 0 */
    glci_metric_t *city_last_seen;         /* collected gauge {city}, Unix seconds */
    glci_metric_t *build_info;             /* gauge {version, framework, framework_hash} = 1 */
} glci_collector_metrics_t;

typedef struct {
    const char *framework;                 /* e.g. "unesco-glci 2013.1" */
    const char *framework_hash;            /* the store's framework hash, hex */
    /* Emits one sample per active city: {city} = its last batch's time in
     * Unix seconds (see glci_metric_collect_fn for the thread it runs on). */
    glci_metric_collect_fn city_last_seen;
    void *city_last_seen_arg;
} glci_collector_metrics_cfg_t;

/* Registers the collector's families in reg and fills m. build_info is set
 * to 1 with this build's version. Returns 0, or -1 (message in err) when a
 * name is already taken in reg. */
int glci_metrics_catalog_collector(glci_metrics_t *reg, const glci_collector_metrics_cfg_t *cfg,
                                   glci_collector_metrics_t *m, char *err, size_t errlen);

typedef struct {
    glci_metric_t *outbox_batches;         /* gauge: undelivered batches */
    glci_metric_t *outbox_bytes;           /* gauge */
    glci_metric_t *outbox_limit;           /* gauge, bytes (outbox_limit) */
    glci_metric_t *outbox_oldest;          /* gauge, Unix seconds; 0 when empty */
    glci_metric_t *retained_batches;       /* gauge: acked batches kept for resending */
    glci_metric_t *retained_bytes;         /* gauge */
    glci_metric_t *last_ack;               /* gauge, Unix seconds; 0 before the first */
    glci_metric_t *connection_state;       /* gauge {state}, one 1 (glci_gauge_select) */
    glci_metric_t *batches_acked;          /* counter */
    glci_metric_t *observations_rejected;  /* counter {reason}, as the collector's */
    glci_metric_t *dead_letters_pending;   /* gauge */
    glci_metric_t *build_info;             /* gauge {version, city} = 1 */
} glci_agent_metrics_t;

/* Registers the agent's families in reg and fills m; city labels
 * build_info. Returns 0, or -1 (message in err) as above. */
int glci_metrics_catalog_agent(glci_metrics_t *reg, const char *city, glci_agent_metrics_t *m,
                               char *err, size_t errlen);

#endif
