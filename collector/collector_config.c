/* glci-collector's command line and its INI file ([collector] section):
 * defaults, then the file, then the flags, all from one table (s_keys,
 * common/glci_config). Strict: an unknown section or key, a value that is
 * not exactly a number in range, or a bad boolean is refused with
 * "FILE:LINE: message" so an operator's typo never silently runs with a
 * default. */
#include "glci_collector.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_text.h"
#include "glci_endpoint.h"
#include "glci_metrics_http.h"
#include "glci_utf8.h"

static const char s_usage_head[] =
    "usage: glci-collector --store DIR [--listen ENDPOINT] [--config FILE]\n"
    "                      [--insecure] [--log-level error|warn|info|debug] [settings]\n"
    "       glci-collector --check-config [--config FILE] [settings]\n"
    "\n"
    "Receives batches from glci-agent over ZeroMQ (CURVE), validates them,\n"
    "stores them and updates the index in one transaction, then acks.\n"
    "\n"
    "  --config FILE            INI file, section [collector]; flags override it\n"
    "  --check-config           check the configuration, key file, store and\n"
    "                           addresses without starting; one line per problem,\n"
    "                           exit 0 when there is none, else 1\n"
    "  --help                   this text\n"
    "settings (config file [collector] section, or flags that override it):\n";

static const char s_usage_tail[] =
    "\n"
    "SIGTERM/SIGINT: finish the transaction in hand, ack it, exit 0.\n"
    "SIGHUP: reload the config file (log level, limits and metrics_listen).\n";

/* metrics_listen as glci_metrics_listen_parse reads it (so the daemon, its
 * reload and --check-config agree): the parser's reason, without its
 * "listen address "X": " lead, completes "metrics_listen must ...". */
static int s_metrics_listen_check(const char *value, char *why, size_t whylen)
{
    glci_metrics_listen_t l;
    char err[256];
    if (glci_metrics_listen_parse(value, &l, err, sizeof err) == 0)
        return 0;
    const char *detail = strstr(err, "\": ");
    snprintf(why, whylen, "be PORT, ADDRESS:PORT or [IPV6]:PORT (%s)",
             detail ? detail + 3 : err);
    return -1;
}

#define S_AT(field) offsetof(glci_collector_config_t, field), \
    sizeof(((glci_collector_config_t *)0)->field)
#define S_FLAG GLCI_CONF_FLAG

/* The collector's settings: the [collector] section, the flags and --help.
 * A new setting is one line here (and its field). */
static const glci_conf_key_t s_keys[] = {
    {"store", GLCI_CONF_STRING, NULL, "DIR", "the store (created by `glci init`)",
     S_AT(store), 0, 0, S_FLAG, NULL},
    {"listen", GLCI_CONF_STRING, GLCI_COLLECTOR_DEFAULT_LISTEN, "ENDPOINT", "where to bind",
     S_AT(listen), 0, 0, S_FLAG, glci_endpoint_scheme_check},
    {"insecure", GLCI_CONF_BOOL, "false", NULL, "no CURVE (tests, demos): loopback or ipc:// only",
     S_AT(insecure), 0, 0, S_FLAG, NULL},
    {"log_level", GLCI_CONF_LOG_LEVEL, "info", "LEVEL", "error, warn, info or debug",
     S_AT(log_level), 0, 0, S_FLAG, NULL},
    {"key_file", GLCI_CONF_STRING, NULL, "FILE", "the collector's secret key (default "
     "STORE/collector.key)", S_AT(key_file), 0, 0, S_FLAG, NULL},
    {"batch_max", GLCI_CONF_INT, "10000", "N", "observations per batch, at most",
     S_AT(batch_max), 1, 1000000, S_FLAG, NULL},
    {"group_max", GLCI_CONF_INT, "256", "N", "batches per transaction, at most",
     S_AT(group_max), 1, 65536, S_FLAG, NULL},
    {"group_bytes", GLCI_CONF_BYTES, "8M", "BYTES", "payload bytes per transaction (the "
     "batch that passes it is the last)", S_AT(group_bytes), 1024, INT64_C(1) << 34, S_FLAG,
     NULL},
    {"group_obs", GLCI_CONF_INT, "20000", "N", "observations per transaction (the batch "
     "that passes it is the last)", S_AT(group_obs), 1, 100000000, S_FLAG, NULL},
    {"rejects_keep", GLCI_CONF_INT, "10000", "N", "rejected observations kept per city in "
     "the store's log (older ones dropped, counted)", S_AT(rejects_keep), 1, 100000000,
     S_FLAG, NULL},
    {"max_message", GLCI_CONF_INT, "16777216", "BYTES", "largest frame (ZMQ_MAXMSGSIZE)",
     S_AT(max_message), 1024, INT64_C(1) << 31, S_FLAG, NULL},
    {"sndhwm", GLCI_CONF_INT, "1000", "N", "send high-water mark", S_AT(sndhwm), 0, 10000000,
     S_FLAG, NULL},
    {"rcvhwm", GLCI_CONF_INT, "1000", "N", "receive high-water mark", S_AT(rcvhwm), 0,
     10000000, S_FLAG, NULL},
    {"heartbeat_ivl", GLCI_CONF_INT, "0", "MS", "ZMTP heartbeat interval (0: none)",
     S_AT(heartbeat_ivl), 0, 3600000, S_FLAG, NULL},
    {"heartbeat_timeout", GLCI_CONF_INT, "30000", "MS", "ZMTP heartbeat timeout",
     S_AT(heartbeat_timeout), 0, 3600000, S_FLAG, NULL},
    {"handshake_ivl", GLCI_CONF_INT, "10000", "MS", "CURVE handshake time limit",
     S_AT(handshake_ivl), 0, 3600000, S_FLAG, NULL},
    {"map_max", GLCI_CONF_INT, "0", "BYTES", "largest store map (0: the store's default)",
     S_AT(map_max), 0, INT64_MAX, S_FLAG, NULL},
    {"enrol_listen", GLCI_CONF_STRING, NULL, "ENDPOINT", "where agents enrol with an "
     "enrolment string (unset: no enrolment)", S_AT(enrol_listen), 0, 0, S_FLAG,
     glci_endpoint_scheme_check},
    {"previous_listen", GLCI_CONF_STRING, NULL, "ENDPOINT", "where the previous collector "
     "key is served after `glci collector-key rotate` (unset: not served)",
     S_AT(previous_listen), 0, 0, S_FLAG, glci_endpoint_scheme_check},
    {"previous_key_file", GLCI_CONF_STRING, NULL, "FILE", "the previous secret key (default "
     "STORE/collector.previous.key)", S_AT(previous_key_file), 0, 0, S_FLAG, NULL},
    {"enrol_tries_per_addr", GLCI_CONF_INT, "5", "N", "failed enrolment tries per address "
     "per window", S_AT(enrol_tries_per_addr), 1, 1000000, S_FLAG, NULL},
    {"enrol_tries_total", GLCI_CONF_INT, "100", "N", "failed enrolment tries from all "
     "addresses per window", S_AT(enrol_tries_total), 1, 1000000, S_FLAG, NULL},
    {"enrol_window", GLCI_CONF_INT, "600", "S", "seconds the enrolment limits count over",
     S_AT(enrol_window), 1, 86400, S_FLAG, NULL},
    {"refused_max", GLCI_CONF_INT, "1000", "N", "refused keys kept in the store (the least "
     "recently seen give way)", S_AT(refused_max), 16, 100000, S_FLAG, NULL},
    {"key_flush", GLCI_CONF_INT, "10", "S", "seconds between writes of refused and used "
     "keys", S_AT(key_flush), 1, 3600, S_FLAG, NULL},
    {"metrics_listen", GLCI_CONF_STRING, NULL, "ADDR", "serve /metrics and /health: PORT "
     "(loopback), ADDRESS:PORT or [IPV6]:PORT (unset: no metrics)", S_AT(metrics_listen), 0, 0,
     S_FLAG, s_metrics_listen_check},
};

const glci_conf_map_t glci_collector_config_map = {"collector", s_keys,
                                                   sizeof s_keys / sizeof s_keys[0]};

void glci_collector_usage(FILE *out)
{
    fputs(s_usage_head, out);
    glci_conf_help(&glci_collector_config_map, out);
    fputs(s_usage_tail, out);
}

/* ---- command line ------------------------------------------------------ */

int glci_collector_args_add(glci_collector_args_t *args, const char *key, const char *value)
{
    if (args->n_set == sizeof args->set / sizeof args->set[0])
        return -1;
    args->set[args->n_set].key = key;
    args->set[args->n_set].value = value;
    args->n_set++;
    return 0;
}

const char *glci_collector_args_get(const glci_collector_args_t *args, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < args->n_set; i++)
        if (strcmp(args->set[i].key, key) == 0)
            v = args->set[i].value;
    return v;
}

int glci_collector_parse_args(int argc, char **argv, glci_collector_args_t *args,
                              char *err, size_t errlen)
{
    memset(args, 0, sizeof *args);
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            args->help = 1;
            i++;
            continue;
        }
        if (strcmp(a, "--check-config") == 0) {
            args->check = 1;
            i++;
            continue;
        }
        if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : i + 1 < argc ? argv[i + 1] : NULL;
            if (!v) {
                glci_errf(err, errlen, "--config needs a value");
                return -1;
            }
            if (!*v) {
                glci_errf(err, errlen, "--config needs a non-empty value");
                return -1;
            }
            args->config = v;
            i += a[8] == '=' ? 1 : 2;
            continue;
        }
        const glci_conf_key_t *key;
        const char *value;
        int rc = glci_conf_flag_peek(&glci_collector_config_map, argc, argv, &i, &key, &value,
                                     err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            if (a[0] == '-')
                glci_errf(err, errlen, "unknown option %s", a);
            else
                glci_errf(err, errlen, "unexpected argument %s", a);
            return -1;
        }
        if (!*value) {
            glci_errf(err, errlen, "--%s needs a non-empty value", key->name);
            return -1;
        }
        if (glci_collector_args_add(args, key->name, value) != 0) {
            glci_errf(err, errlen, "too many settings on the command line");
            return -1;
        }
    }
    return 0;
}

int glci_collector_endpoint_local(const char *ep)
{
    return glci_endpoint_local(ep);
}

/* ---- the effective configuration --------------------------------------- */

void glci_collector_config_release(glci_collector_config_t *cfg)
{
    if (!cfg)
        return;
    glci_conf_release(&glci_collector_config_map, cfg);
    memset(cfg, 0, sizeof *cfg);
}

int glci_collector_config_build(const glci_collector_args_t *args,
                                glci_collector_config_t *cfg, char *err, size_t errlen)
{
    glci_conf_defaults(&glci_collector_config_map, cfg);
    if (args->config) {
        if (glci_conf_load(&glci_collector_config_map, cfg, args->config, err, errlen) != 0)
            goto fail;
    }
    for (size_t i = 0; i < args->n_set; i++) {
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", args->set[i].key);
        for (char *c = flag + 2; *c; c++)
            if (*c == '_')
                *c = '-';
        if (glci_conf_set(&glci_collector_config_map, cfg, args->set[i].key,
                          args->set[i].value, flag, err, errlen) != 0)
            goto fail;
    }
    if (!cfg->store) {
        glci_errf(err, errlen, "no store given (--store DIR or store = DIR in [collector])");
        goto fail;
    }
    if (!cfg->key_file) {
        size_t n = strlen(cfg->store) + sizeof "/collector.key";
        cfg->key_file = glci_xmalloc(n);
        snprintf(cfg->key_file, n, "%s/collector.key", cfg->store);
    }
    if (!cfg->previous_key_file) {
        size_t n = strlen(cfg->store) + sizeof "/collector.previous.key";
        cfg->previous_key_file = glci_xmalloc(n);
        snprintf(cfg->previous_key_file, n, "%s/collector.previous.key", cfg->store);
    }
    if (cfg->insecure && (cfg->enrol_listen || cfg->previous_listen)) {
        glci_errf(err, errlen, "%s needs CURVE: it cannot be set with --insecure",
                  cfg->enrol_listen ? "enrol_listen" : "previous_listen");
        goto fail;
    }
    /* libzmq binds to an interface name or an address, never a DNS name:
     * "tcp://localhost:P" would fail with "No such device". localhost is
     * loopback by definition, so it is bound as 127.0.0.1. */
    char **eps[3] = {&cfg->listen, &cfg->enrol_listen, &cfg->previous_listen};
    for (size_t i = 0; i < 3; i++)
        if (*eps[i] && strncmp(*eps[i], "tcp://localhost:", 16) == 0) {
            size_t n = strlen(*eps[i]) + 2;
            char *bound = glci_xmalloc(n);
            snprintf(bound, n, "tcp://127.0.0.1:%s", *eps[i] + 16);
            free(*eps[i]);
            *eps[i] = bound;
        }
    if ((cfg->enrol_listen && strcmp(cfg->enrol_listen, cfg->listen) == 0) ||
        (cfg->previous_listen && strcmp(cfg->previous_listen, cfg->listen) == 0) ||
        (cfg->enrol_listen && cfg->previous_listen &&
         strcmp(cfg->enrol_listen, cfg->previous_listen) == 0)) {
        glci_errf(err, errlen, "listen, enrol_listen and previous_listen must be three "
                  "different endpoints");
        goto fail;
    }
    if (cfg->insecure && !glci_collector_endpoint_local(cfg->listen)) {
        char shown[1024];       /* the file's or the flag's bytes, printable */
        glci_utf8_escape(cfg->listen, SIZE_MAX, shown, sizeof shown);
        glci_errf(err, errlen,
              "--insecure refuses endpoint %s: only tcp://127.x, tcp://localhost, "
              "tcp://[::1] or ipc:// without CURVE",
              shown);
        goto fail;
    }
    if (cfg->heartbeat_ivl > 0 && cfg->heartbeat_timeout > 0 &&
        cfg->heartbeat_timeout < cfg->heartbeat_ivl) {
        glci_errf(err, errlen, "%s%sheartbeat_timeout (%d ms) is shorter than heartbeat_ivl (%d ms)",
              args->config ? args->config : "", args->config ? ": " : "",
              cfg->heartbeat_timeout, cfg->heartbeat_ivl);
        goto fail;
    }
    return 0;

fail:
    glci_collector_config_release(cfg);
    return -1;
}
