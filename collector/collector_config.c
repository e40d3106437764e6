/* glci-collector's command line and its INI file ([collector] section):
 * defaults, then the file, then the flags. Strict: an unknown section or
 * key, a value that is not exactly a number in range, or a bad boolean is
 * refused with "FILE:LINE: message" so an operator's typo never silently
 * runs with a default. */
#include "glci_collector.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"
#include "glci_endpoint.h"
#include "glci_text.h"

const char glci_collector_usage[] =
    "usage: glci-collector --store DIR [--listen ENDPOINT] [--config FILE]\n"
    "                      [--insecure] [--log-level error|warn|info|debug]\n"
    "\n"
    "Receives batches from glci-agent over ZeroMQ (CURVE), validates them,\n"
    "stores them and updates the index in one transaction, then acks.\n"
    "\n"
    "  --store DIR        the store (created by `glci init`)\n"
    "  --listen ENDPOINT  where to bind (default " GLCI_COLLECTOR_DEFAULT_LISTEN ")\n"
    "  --config FILE      INI file, section [collector]; flags override it\n"
    "  --insecure         no CURVE (tests, demos): loopback or ipc:// only\n"
    "  --log-level L      error, warn, info (default) or debug\n"
    "  --help             this text\n"
    "\n"
    "SIGTERM/SIGINT: finish the transaction in hand, ack it, exit 0.\n"
    "SIGHUP: reload the config file (log level and limits).\n";

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- command line ------------------------------------------------------ */

int glci_collector_parse_args(int argc, char **argv, glci_collector_args_t *args,
                              char *err, size_t errlen)
{
    static const struct {
        const char *name;
        size_t off;
    } valued[] = {
        {"--store", offsetof(glci_collector_args_t, store)},
        {"--listen", offsetof(glci_collector_args_t, listen)},
        {"--config", offsetof(glci_collector_args_t, config)},
        {"--log-level", offsetof(glci_collector_args_t, log_level)},
    };
    memset(args, 0, sizeof *args);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            args->help = 1;
            continue;
        }
        if (strcmp(a, "--insecure") == 0) {
            args->insecure = 1;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof valued / sizeof valued[0]; k++) {
            size_t n = strlen(valued[k].name);
            if (strncmp(a, valued[k].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
                continue;
            const char *v;
            if (a[n] == '=') {
                v = a + n + 1;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                s_err(err, errlen, "%s needs a value", valued[k].name);
                return -1;
            }
            if (!*v) {
                s_err(err, errlen, "%s needs a non-empty value", valued[k].name);
                return -1;
            }
            *(const char **)((char *)args + valued[k].off) = v;
            break;
        }
        if (k == sizeof valued / sizeof valued[0]) {
            if (a[0] == '-')
                s_err(err, errlen, "unknown option %s", a);
            else
                s_err(err, errlen, "unexpected argument %s", a);
            return -1;
        }
    }
    return 0;
}

/* ---- values ------------------------------------------------------------ */

static int s_bool(const char *v, int *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0")) {
        *out = 0;
        return 0;
    }
    return -1;
}

int glci_collector_endpoint_local(const char *ep)
{
    return glci_endpoint_local(ep);
}

/* ---- the INI file ------------------------------------------------------ */

/* Debian's inih is built without INI_HANDLER_LINENO, so the line number is
 * counted by our own line reader. */
typedef struct {
    glci_collector_config_t *cfg;
    const char *path;
    char *err;
    size_t errlen;
    int failed;
    FILE *f;
    int lineno;
} s_ini_ctx_t;

static char *s_ini_reader(char *str, int num, void *stream)
{
    s_ini_ctx_t *c = stream;
    char *line = fgets(str, num, c->f);
    if (line && (strchr(line, '\n') || feof(c->f)))
        c->lineno++;
    return line;
}

typedef enum { S_STR, S_BOOL, S_LEVEL, S_SIZE, S_INT } s_kind_t;

static const struct {
    const char *key;
    s_kind_t kind;
    size_t off;
    int64_t min, max;
} s_keys[] = {
    {"store", S_STR, offsetof(glci_collector_config_t, store), 0, 0},
    {"listen", S_STR, offsetof(glci_collector_config_t, listen), 0, 0},
    {"insecure", S_BOOL, offsetof(glci_collector_config_t, insecure), 0, 0},
    {"log_level", S_LEVEL, offsetof(glci_collector_config_t, log_level), 0, 0},
    {"key_file", S_STR, offsetof(glci_collector_config_t, key_file), 0, 0},
    {"batch_max", S_SIZE, offsetof(glci_collector_config_t, batch_max), 1, 1000000},
    {"group_max", S_SIZE, offsetof(glci_collector_config_t, group_max), 1, 65536},
    {"max_message", S_INT, offsetof(glci_collector_config_t, max_message), 1024,
     INT64_C(1) << 31},
    {"sndhwm", S_INT, offsetof(glci_collector_config_t, sndhwm), 0, 10000000},
    {"rcvhwm", S_INT, offsetof(glci_collector_config_t, rcvhwm), 0, 10000000},
    {"heartbeat_ivl", S_INT, offsetof(glci_collector_config_t, heartbeat_ivl), 0, 3600000},
    {"heartbeat_timeout", S_INT, offsetof(glci_collector_config_t, heartbeat_timeout), 0,
     3600000},
    {"handshake_ivl", S_INT, offsetof(glci_collector_config_t, handshake_ivl), 0, 3600000},
    {"map_max", S_SIZE, offsetof(glci_collector_config_t, map_max), 1 << 20,
     INT64_MAX},
};

static int s_ini_handler(void *user, const char *section, const char *name,
                         const char *value)
{
    s_ini_ctx_t *c = user;
    int lineno = c->lineno;
    if (c->failed)
        return 0;
    if (!name) /* a section header alone */
        return 1;
    c->failed = 1;
    if (strcmp(section, "collector") != 0) {
        s_err(c->err, c->errlen, "%s:%d: key %s in unknown section [%s] (expected [collector])",
              c->path, lineno, name, section);
        return 0;
    }
    size_t k;
    for (k = 0; k < sizeof s_keys / sizeof s_keys[0]; k++)
        if (strcmp(name, s_keys[k].key) == 0)
            break;
    if (k == sizeof s_keys / sizeof s_keys[0]) {
        s_err(c->err, c->errlen, "%s:%d: unknown key %s", c->path, lineno, name);
        return 0;
    }
    void *field = (char *)c->cfg + s_keys[k].off;
    switch (s_keys[k].kind) {
    case S_STR:
        if (!*value) {
            s_err(c->err, c->errlen, "%s:%d: %s is empty", c->path, lineno, name);
            return 0;
        }
        free(*(char **)field);
        *(char **)field = glci_xstrdup(value);
        break;
    case S_BOOL:
        if (s_bool(value, field) != 0) {
            s_err(c->err, c->errlen, "%s:%d: %s must be true or false, not \"%s\"", c->path,
                  lineno, name, value);
            return 0;
        }
        break;
    case S_LEVEL:
        if (glci_log_level_parse(value, field) != 0) {
            s_err(c->err, c->errlen,
                  "%s:%d: %s must be error, warn, info or debug, not \"%s\"", c->path,
                  lineno, name, value);
            return 0;
        }
        break;
    case S_SIZE:
    case S_INT: {
        int64_t v;
        if (glci_parse_int64(value, s_keys[k].min, s_keys[k].max, &v) != 0) {
            s_err(c->err, c->errlen,
                  "%s:%d: %s must be a whole number in [%lld, %lld], not \"%s\"", c->path,
                  lineno, name, (long long)s_keys[k].min, (long long)s_keys[k].max, value);
            return 0;
        }
        if (s_keys[k].kind == S_SIZE)
            *(size_t *)field = (size_t)v;
        else if (s_keys[k].off == offsetof(glci_collector_config_t, max_message))
            *(int64_t *)field = v;
        else
            *(int *)field = (int)v;
        break;
    }
    }
    c->failed = 0;
    return 1;
}

static void s_defaults(glci_collector_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = glci_xstrdup(GLCI_COLLECTOR_DEFAULT_LISTEN);
    cfg->log_level = GLCI_LOG_INFO;
    cfg->batch_max = 10000;
    cfg->group_max = 256;
    cfg->max_message = 16777216;
    cfg->sndhwm = 1000;
    cfg->rcvhwm = 1000;
    cfg->heartbeat_ivl = 10000;
    cfg->heartbeat_timeout = 30000;
    cfg->handshake_ivl = 10000;
}

static void s_set(char **field, const char *v)
{
    free(*field);
    *field = glci_xstrdup(v);
}

void glci_collector_config_release(glci_collector_config_t *cfg)
{
    if (!cfg)
        return;
    free(cfg->store);
    free(cfg->listen);
    free(cfg->key_file);
    memset(cfg, 0, sizeof *cfg);
}

int glci_collector_config_build(const glci_collector_args_t *args,
                                glci_collector_config_t *cfg, char *err, size_t errlen)
{
    s_defaults(cfg);
    if (args->config) {
        FILE *f = fopen(args->config, "r");
        if (!f) {
            s_err(err, errlen, "%s: cannot open config file: %s", args->config,
                  strerror(errno));
            goto fail;
        }
        s_ini_ctx_t c = {cfg, args->config, err, errlen, 0, f, 0};
        int rc = ini_parse_stream(s_ini_reader, &c, s_ini_handler, &c);
        fclose(f);
        if (rc != 0) {
            if (!c.failed)
                s_err(err, errlen, "%s:%d: not an INI line", args->config, rc);
            goto fail;
        }
    }
    if (args->store)
        s_set(&cfg->store, args->store);
    if (args->listen)
        s_set(&cfg->listen, args->listen);
    if (args->insecure)
        cfg->insecure = 1;
    if (args->log_level && glci_log_level_parse(args->log_level, &cfg->log_level) != 0) {
        s_err(err, errlen, "--log-level must be error, warn, info or debug, not \"%s\"",
              args->log_level);
        goto fail;
    }
    if (!cfg->store) {
        s_err(err, errlen, "no store given (--store DIR or store = DIR in [collector])");
        goto fail;
    }
    if (!cfg->key_file) {
        size_t n = strlen(cfg->store) + sizeof "/collector.key";
        cfg->key_file = glci_xmalloc(n);
        snprintf(cfg->key_file, n, "%s/collector.key", cfg->store);
    }
    if (strncmp(cfg->listen, "tcp://", 6) != 0 && strncmp(cfg->listen, "ipc://", 6) != 0) {
        s_err(err, errlen, "listen endpoint %s is not tcp:// or ipc://", cfg->listen);
        goto fail;
    }
    if (cfg->insecure && !glci_collector_endpoint_local(cfg->listen)) {
        s_err(err, errlen,
              "--insecure refuses endpoint %s: only tcp://127.x, tcp://localhost, "
              "tcp://[::1] or ipc:// without CURVE",
              cfg->listen);
        goto fail;
    }
    if (cfg->heartbeat_ivl > 0 && cfg->heartbeat_timeout > 0 &&
        cfg->heartbeat_timeout < cfg->heartbeat_ivl) {
        s_err(err, errlen, "%s%sheartbeat_timeout (%d ms) is shorter than heartbeat_ivl (%d ms)",
              args->config ? args->config : "", args->config ? ": " : "",
              cfg->heartbeat_timeout, cfg->heartbeat_ivl);
        goto fail;
    }
    return 0;

fail:
    glci_collector_config_release(cfg);
    return -1;
}
