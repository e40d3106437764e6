/* glci-collector as a library: command line and INI configuration, and the
 * daemon itself (ROUTER socket with CURVE, ZAP handler, group commit into
 * the store). main.c only glues these together; tests and the fuzz target
 * link the same code.
 *
 * Errors: configuration functions return 0, or -1 after writing a one-line
 * message naming the file:line, key or flag at fault into err. */
#ifndef GLCI_COLLECTOR_H
#define GLCI_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "glci_check.h"
#include "glci_config.h"
#include "glci_log.h"
#include "glci_store.h"
#include "glci_wire.h"

#define GLCI_COLLECTOR_DEFAULT_LISTEN "tcp://0.0.0.0:7461"
#define GLCI_COLLECTOR_ZAP_DOMAIN     "glci"

/* Exit statuses of glci-collector. */
enum {
    GLCI_COLLECTOR_EXIT_OK = 0,
    GLCI_COLLECTOR_EXIT_FAIL = 1,    /* store, key or socket failure */
    GLCI_COLLECTOR_EXIT_USAGE = 2    /* bad flag, bad config file */
};

/* What the command line said: --config, --help, and each setting given as
 * a flag, in order (key: the table's name, e.g. "batch_max"). Strings
 * point into argv (or, added by a caller, into its own storage). */
typedef struct {
    const char *config;
    int help;
    int check;                 /* --check-config */
    size_t n_set;
    struct {
        const char *key, *value;
    } set[32];
} glci_collector_args_t;

/* Adds a setting as if given as a flag (overrides the file). -1 when the
 * list is full. */
int glci_collector_args_add(glci_collector_args_t *args, const char *key, const char *value);

/* The last value given for key, or NULL. */
const char *glci_collector_args_get(const glci_collector_args_t *args, const char *key);

/* The effective configuration: defaults, then the file, then the flags
 * (the table glci_collector_config_map says each key's default and range). */
typedef struct {
    char *store;               /* required */
    char *listen;
    int insecure;
    glci_log_level_t log_level;
    char *key_file;            /* default STORE/collector.key */
    size_t batch_max;          /* observations per batch, default 10000 */
    size_t group_max;          /* batches per transaction, default 256 */
    uint64_t group_bytes;      /* payload bytes per transaction, default 8 MiB */
    size_t group_obs;          /* observations per transaction, default 20000 */
    size_t rejects_keep;       /* rejected observations kept per city, default 10000 */
    int64_t max_message;       /* bytes, ZMQ_MAXMSGSIZE, default 16 MiB */
    int sndhwm, rcvhwm;        /* default 1000 */
    int heartbeat_ivl;         /* ms, default 0: no pings of the collector's own;
                                * agents' pings carry a TTL (docs/PERFORMANCE.md) */
    int heartbeat_timeout;     /* ms, default 30000 */
    int handshake_ivl;         /* ms, default 10000 */
    size_t map_max;            /* bytes; 0: the store's default */
    char *enrol_listen;        /* the enrolment endpoint; NULL: no enrolment */
    char *previous_listen;     /* where the previous key is served during a
                                  rotation; NULL: not served */
    char *previous_key_file;   /* default STORE/collector.previous.key */
    int enrol_tries_per_addr;  /* failed enrolment tries per address per window */
    int enrol_tries_total;     /* from all addresses */
    int enrol_window;          /* seconds */
    size_t refused_max;        /* refused keys kept in the store */
    int key_flush;             /* seconds between writes of key events */
    char *metrics_listen;      /* /metrics and /health (glci_metrics_listen_parse);
                                  NULL: no metrics server */
} glci_collector_config_t;

/* The table of the collector's settings (glci_config.h). */
extern const glci_conf_map_t glci_collector_config_map;

/* Prints --help: the usage, then the settings from the table. */
void glci_collector_usage(FILE *out);

/* Parses the command line (argv[0] is the program): --config, --help and
 * every setting of the table as a flag, "--flag VALUE" or "--flag=VALUE"
 * (a boolean alone means true); values are judged by
 * glci_collector_config_build. -1 for an unknown flag, a missing or empty
 * value or a stray argument. */
int glci_collector_parse_args(int argc, char **argv, glci_collector_args_t *args,
                              char *err, size_t errlen);

/* Builds the effective configuration into cfg (release it with
 * glci_collector_config_release): defaults, the config file named by args
 * (unknown sections or keys and bad values are refused as "FILE:LINE: ..."),
 * then the flags. Checks that a store is given and that an insecure
 * endpoint is loopback or ipc. */
int glci_collector_config_build(const glci_collector_args_t *args,
                                glci_collector_config_t *cfg, char *err, size_t errlen);

void glci_collector_config_release(glci_collector_config_t *cfg);

/* 1 if the endpoint is ipc://..., tcp://127.x.y.z:..., tcp://localhost:...
 * or tcp://[::1]:..., else 0: glci_endpoint_local (common/glci_endpoint.h),
 * which also requires the port to end the text. */
int glci_collector_endpoint_local(const char *endpoint);

/* --check-config: builds the configuration of args and checks, without
 * starting, what the daemon needs: the store opens and this user may write
 * it, map_max leaves room, the key file (and during a rotation the previous
 * one) reads and is private, listen, enrol_listen, previous_listen and
 * metrics_listen can be bound. Prints one line per problem on err
 * ("glci-collector: ..."), notes (an address in use, insecure mode, a
 * metrics address other machines reach) on out, and one line on out when
 * there is no problem. Returns the exit status: 0 without problems, else 1. */
int glci_collector_check(const glci_collector_args_t *args, FILE *out, FILE *err);

/* The modes --check-config judges (docs/OPERATIONS.md, "Modes the checks
 * judge"): the store folder, its data and lock files, and key_file's
 * folder when it is not the store's; one problem through c per mode that
 * lets another user change or read what it should not. --check-config
 * prints them; the daemon logs them as warnings at start (c->to_log) and
 * starts all the same. */
void glci_collector_check_modes(glci_check_t *c, const glci_collector_config_t *cfg);

/* What the collector did within a span of its run, for the summary line
 * it logs once a minute. */
typedef struct {
    uint64_t batches, obs, rejected, refused;
} glci_collector_stats_t;

/* The summary line of st over `seconds` into buf (len bytes, cut to fit),
 * each count with its noun in the singular or the plural: "last 60s: 1
 * batch applied, 2 observations stored, 0 rejected, 0 batches refused". */
void glci_collector_stats_line(const glci_collector_stats_t *st, int seconds, char *buf,
                               size_t len);

/* Runs the daemon until SIGTERM or SIGINT: returns an exit status. args is
 * kept to rebuild the configuration on SIGHUP. Installs its own signal
 * handlers. */
int glci_collector_run(const glci_collector_args_t *args, const glci_collector_config_t *cfg);

/* ---- The batch path, exposed for the fuzz target --------------------- */

/* One received batch: the decoded wire batch, whose observations
 * (wb->obs, strings pointing into wb) the store ingests as they are. */
typedef struct {
    glci_wire_batch_t *wb;
    const char *claimed;      /* secure mode: the other city the batch claims
                                 (points into wb), NULL when it claims none or
                                 its own; the store rejects its observations */
} glci_collector_batch_t;

/* Decodes payload and decides the city: in secure mode (user_id not NULL)
 * the city is user_id, and a batch claiming another city is accepted with
 * out->claimed naming it (glci_batch_t.claimed_city: the store rejects
 * every observation of it as "wrong city"); in insecure mode (user_id
 * NULL) the claimed city is used and must be a valid id.
 * Returns 0 with out filled and city set, or the ack status to answer with
 * (GLCI_BATCH_MALFORMED or GLCI_BATCH_FORBIDDEN) with ack->error, stream and
 * seq filled. */
int glci_collector_batch_prepare(const void *payload, size_t len, const char *user_id,
                                 const glci_wire_limits_t *lim, glci_collector_batch_t *out,
                                 char city[GLCI_CITY_ID_MAX + 1], glci_wire_ack_t *ack);

void glci_collector_batch_release(glci_collector_batch_t *b);

/* Fills ack from a batch's store result (its rejections copied). The caller
 * releases ack with
 * glci_wire_ack_release. */
void glci_collector_ack_from_result(const glci_collector_batch_t *b,
                                    const glci_batch_result_t *r, glci_wire_ack_t *ack);

#endif
