/* glci-agent configuration from an INI file and flags: see glci_agent_config.h.
 * Every setting is one line of s_keys; the file, the flags and --help all
 * come from it (common/glci_config). */
#include "glci_agent_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glci_endpoint.h"
#include "glci_limits.h"
#include "glci_metrics_file.h"
#include "glci_obs.h"
#include "glci_utf8.h"

const char *glci_agent_strerror(int code)
{
    switch (code) {
    case GLCI_AGENT_OK:      return "ok";
    case GLCI_AGENT_EUSAGE:  return "usage error";
    case GLCI_AGENT_EIO:     return "I/O error";
    case GLCI_AGENT_EINPUT:  return "malformed input";
    case GLCI_AGENT_EFULL:   return "outbox size limit reached";
    case GLCI_AGENT_EOUTBOX: return "outbox error";
    case GLCI_AGENT_EKEY:    return "unusable key";
    case GLCI_AGENT_ENET:    return "network error";
    default:                 return "unknown agent error";
    }
}

/* City ids by the one rule (glci_city_id_valid). */
static int s_city_check(const char *value, char *why, size_t whylen)
{
    if (glci_city_id_valid(value))
        return 0;
    snprintf(why, whylen, "be 1-%d of [a-z0-9._-] starting with a letter or digit",
             GLCI_CITY_ID_MAX);
    return -1;
}

static int s_dialect_check(const char *value, char *why, size_t whylen)
{
    glci_agent_csv_dialect_t d;
    if (glci_agent_csv_dialect_parse(value, &d) == 0)
        return 0;
    snprintf(why, whylen, "be auto, comma or excel");
    return -1;
}

/* The dialect of c's csv_dialect (checked when it was set). */
glci_agent_csv_dialect_t glci_agent_config_dialect(const glci_agent_config_t *c)
{
    glci_agent_csv_dialect_t d = GLCI_AGENT_CSV_AUTO;
    (void)glci_agent_csv_dialect_parse(c->csv_dialect, &d);
    return d;
}

#define S_AT(field) offsetof(glci_agent_config_t, field), sizeof(((glci_agent_config_t *)0)->field)
#define S_FLAG GLCI_CONF_FLAG
#define S_U32 (GLCI_CONF_FLAG | GLCI_CONF_UNSIGNED)

/* The agent's settings: the [agent] section, the flags and --help. */
static const glci_conf_key_t s_keys[] = {
    {"config", GLCI_CONF_TEXT, NULL, "FILE",
     "INI file with an [agent] section (default $GLCI_AGENT_CONFIG, else "
     GLCI_AGENT_DEFAULT_CONFIG " if it exists)",
     S_AT(config_path), 0, 0, S_FLAG | GLCI_CONF_NO_FILE, NULL},
    {"city", GLCI_CONF_TEXT, NULL, "ID", "this city's id", S_AT(city), 0, 0, S_FLAG,
     s_city_check},
    {"collector", GLCI_CONF_TEXT, NULL, "ENDPOINT", "tcp://host:7461 (or ipc:// for tests)",
     S_AT(collector), 0, 0, S_FLAG, glci_endpoint_scheme_check},
    {"collector_key", GLCI_CONF_TEXT, NULL, "KEY",
     "the collector's public key: Z85 text or a key file", S_AT(collector_key), 0, 0, S_FLAG,
     NULL},
    {"key_file", GLCI_CONF_TEXT, NULL, "FILE", "this city's secret key file (mode 0600)",
     S_AT(key_file), 0, 0, S_FLAG, NULL},
    {"outbox", GLCI_CONF_TEXT, NULL, "DIR", "the durable outbox folder", S_AT(outbox), 0, 0,
     S_FLAG, NULL},
    {"spool", GLCI_CONF_TEXT, NULL, "DIR", "the folder watched for *.csv files", S_AT(spool),
     0, 0, S_FLAG, NULL},
    {"batch_max", GLCI_CONF_INT, "1000", "N", "observations per batch", S_AT(batch_max), 1,
     GLCI_BATCH_OBS_MAX, S_U32, NULL},
    {"window", GLCI_CONF_INT, "8", "N", "batches in flight", S_AT(window), 1, 1024, S_U32, NULL},
    {"outbox_limit", GLCI_CONF_BYTES, "1G", "BYTES", "outbox size limit", S_AT(outbox_limit),
     65536, INT64_C(1) << 40, S_FLAG, NULL},
    {"retain", GLCI_CONF_DURATION, "30d", "DURATION",
     "keep acked batches this long, to resend after a collector restore (0: never)",
     S_AT(retain), 0, INT64_C(3650) * 86400, S_FLAG, NULL},
    {"retain_bytes", GLCI_CONF_BYTES, "256M", "BYTES",
     "at most this much of acked batches kept, oldest dropped first (0: none)",
     S_AT(retain_bytes), 0, INT64_C(1) << 40, S_FLAG, NULL},
    {"log_level", GLCI_CONF_LOG_LEVEL, "info", "LEVEL", "error, warn, info or debug",
     S_AT(log_level), 0, 0, S_FLAG, NULL},
    {"rescan_interval", GLCI_CONF_INT, "60", "S", "spool rescan period in seconds",
     S_AT(rescan_interval), 1, 86400, S_U32, NULL},
    {"heartbeat_ivl", GLCI_CONF_INT, "5000", "MS", "connection heartbeat in ms",
     S_AT(heartbeat_ivl), 100, 600000, S_U32, NULL},
    {"insecure", GLCI_CONF_BOOL, "false", NULL, "no CURVE; loopback or ipc:// endpoints only",
     S_AT(insecure), 0, 0, S_FLAG, NULL},
    {"metrics_file", GLCI_CONF_TEXT, NULL, "FILE", "write metrics for node_exporter's textfile "
     "collector here (a *.prom file; unset: none)", S_AT(metrics_file), 0, 0, S_FLAG, NULL},
    {"csv_dialect", GLCI_CONF_TEXT, "auto", "D", "spool CSV: auto (as the file says), comma "
     "(',' and a decimal point) or excel (';' and a decimal comma)", S_AT(csv_dialect), 0, 0,
     S_FLAG, s_dialect_check},
};

const glci_conf_map_t glci_agent_config_map = {"agent", s_keys, sizeof s_keys / sizeof s_keys[0]};

void glci_agent_config_defaults(glci_agent_config_t *c)
{
    glci_conf_defaults(&glci_agent_config_map, c);
}

int glci_agent_config_set(glci_agent_config_t *c, const char *name, const char *value,
                          const char *where, char *err, size_t errlen)
{
    const glci_conf_key_t *key = glci_conf_find(&glci_agent_config_map, name);
    if (key && (key->flags & GLCI_CONF_NO_FILE)) {
        snprintf(err, errlen, "%s: unknown key '%s'", where, name);
        return GLCI_AGENT_EUSAGE;
    }
    return glci_conf_set(&glci_agent_config_map, c, name, value, where, err, errlen) == 0
               ? GLCI_AGENT_OK : GLCI_AGENT_EUSAGE;
}

int glci_agent_config_load(glci_agent_config_t *c, const char *path,
                           char *err, size_t errlen)
{
    int rc = glci_conf_load(&glci_agent_config_map, c, path, err, errlen);
    return rc == 0 ? GLCI_AGENT_OK : rc == -2 ? GLCI_AGENT_EIO : GLCI_AGENT_EUSAGE;
}

int glci_agent_config_flag(glci_agent_config_t *c, int argc, char **argv, int *i,
                           char *err, size_t errlen)
{
    int rc = glci_conf_flag(&glci_agent_config_map, c, argc, argv, i, err, errlen);
    return rc < 0 ? GLCI_AGENT_EUSAGE : rc;
}

void glci_agent_config_help(FILE *out)
{
    fputs("settings (config file [agent] section, or flags that override it):\n", out);
    glci_conf_help(&glci_agent_config_map, out);
}

int glci_agent_config_from_args(glci_agent_config_t *c, int argc, char **argv,
                                char **rest, int *n_rest, char *err, size_t errlen)
{
    glci_agent_config_t scratch;
    glci_agent_config_defaults(c);
    *n_rest = 0;
    /* First pass: find --config, so the file lies under every flag. */
    glci_agent_config_defaults(&scratch);
    for (int i = 0; i < argc;) {
        if (strcmp(argv[i], "--") == 0)
            break;
        int rc = glci_agent_config_flag(&scratch, argc, argv, &i, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0)
            i++;
    }
    const char *env = NULL;
    if (!scratch.config_path[0]) {
        /* No --config: the variable, else the default, which alone may be absent. */
        struct stat st;
        const char *path = NULL;
        env = getenv("GLCI_AGENT_CONFIG");
        if (env && env[0])
            path = env;
        else if (stat(GLCI_AGENT_DEFAULT_CONFIG, &st) == 0 || errno != ENOENT)
            path = GLCI_AGENT_DEFAULT_CONFIG;
        if (path && (size_t)snprintf(scratch.config_path, sizeof scratch.config_path, "%s",
                                     path) >= sizeof scratch.config_path) {
            snprintf(err, errlen, "config path named by %s is longer than %zu bytes",
                     path == env ? "$GLCI_AGENT_CONFIG" : "the default",
                     sizeof scratch.config_path - 1);
            return GLCI_AGENT_EUSAGE;
        }
    }
    if (scratch.config_path[0]) {
        int rc = glci_agent_config_load(c, scratch.config_path, err, errlen);
        if (rc != 0) {
            size_t len = strlen(err);
            if (env && env[0])
                snprintf(err + len, errlen - len, " (named by $GLCI_AGENT_CONFIG)");
            return rc;
        }
        memcpy(c->config_path, scratch.config_path, sizeof c->config_path);
    }
    for (int i = 0; i < argc;) {
        if (strcmp(argv[i], "--") == 0) {
            for (i++; i < argc; i++)
                rest[(*n_rest)++] = argv[i];
            break;
        }
        int rc = glci_agent_config_flag(c, argc, argv, &i, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0)
            rest[(*n_rest)++] = argv[i++];
    }
    return GLCI_AGENT_OK;
}

int glci_agent_endpoint_is_local(const char *ep)
{
    return glci_endpoint_local(ep);
}

size_t glci_agent_config_problems(const glci_agent_config_t *c,
                                  void (*each)(void *arg, const char *line), void *arg)
{
    struct {
        const char *key, *flag;
        int set;
    } need[] = {
        {"city", "city", c->city[0] != '\0'},
        {"collector", "collector", c->collector[0] != '\0'},
        {"outbox", "outbox", c->outbox[0] != '\0'},
        {"spool", "spool", c->spool[0] != '\0'},
        {"collector_key", "collector-key", c->insecure || c->collector_key[0]},
        {"key_file", "key-file", c->insecure || c->key_file[0]},
    };
    size_t n = 0;
    char line[4 * sizeof c->collector + 256];   /* room for the endpoint escaped */
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
        if (!need[k].set) {
            snprintf(line, sizeof line, "%s is not set (config key %s, or --%s)", need[k].key,
                     need[k].key, need[k].flag);
            each(arg, line);
            n++;
        }
    if (c->insecure && c->collector[0] && !glci_agent_endpoint_is_local(c->collector)) {
        char shown[4 * sizeof c->collector];   /* the file's bytes, printable */
        glci_utf8_escape(c->collector, sizeof c->collector, shown, sizeof shown);
        snprintf(line, sizeof line, "insecure mode refuses collector endpoint '%s': only "
                 "loopback (127.0.0.0/8, [::1], localhost) or ipc:// is allowed", shown);
        each(arg, line);
        n++;
    }
    if (c->metrics_file[0] && glci_metrics_file_check(c->metrics_file, line, sizeof line) != 0) {
        each(arg, line);
        n++;
    }
    return n;
}

typedef struct {
    char *err;
    size_t errlen;
    int kept;
} s_first_t;

static void s_keep_first(void *arg, const char *line)
{
    s_first_t *f = arg;
    if (!f->kept++)
        snprintf(f->err, f->errlen, "%s", line);
}

int glci_agent_config_check_run(const glci_agent_config_t *c, char *err, size_t errlen)
{
    s_first_t f = {err, errlen, 0};
    return glci_agent_config_problems(c, s_keep_first, &f) ? GLCI_AGENT_EUSAGE : GLCI_AGENT_OK;
}
