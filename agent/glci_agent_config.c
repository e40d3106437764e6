/* glci-agent configuration from an INI file and flags: see glci_agent_config.h. */
#include "glci_agent_config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "glci_endpoint.h"
#include "glci_text.h"

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

void glci_agent_config_defaults(glci_agent_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->batch_max = 1000;
    c->window = 8;
    c->outbox_limit = 1024ull * 1024 * 1024;
    c->log_level = GLCI_LOG_INFO;
    c->rescan_interval = 60;
    c->heartbeat_ivl = 5000;
}

static int s_copy(char *dst, size_t cap, const char *value, const char *where,
                  const char *name, char *err, size_t errlen)
{
    size_t len = strlen(value);
    if (len == 0) {
        snprintf(err, errlen, "%s: %s is empty", where, name);
        return GLCI_AGENT_EUSAGE;
    }
    if (len >= cap) {
        snprintf(err, errlen, "%s: %s is longer than %zu bytes", where, name, cap - 1);
        return GLCI_AGENT_EUSAGE;
    }
    memcpy(dst, value, len + 1);
    return GLCI_AGENT_OK;
}

static int s_u32(uint32_t *dst, const char *value, int64_t min, int64_t max,
                 const char *where, const char *name, char *err, size_t errlen)
{
    int64_t v;
    if (glci_parse_int64(value, min, max, &v) != 0) {
        snprintf(err, errlen, "%s: %s must be an integer in [%lld, %lld], not '%s'",
                 where, name, (long long)min, (long long)max, value);
        return GLCI_AGENT_EUSAGE;
    }
    *dst = (uint32_t)v;
    return GLCI_AGENT_OK;
}

/* Bytes with an optional binary suffix: 4096, 64K, 512M, 1G (KiB/MiB/GiB too). */
static int s_bytes(uint64_t *dst, const char *value, const char *where,
                   char *err, size_t errlen)
{
    char num[32];
    size_t len = strlen(value), digits = 0;
    while (digits < len && value[digits] >= '0' && value[digits] <= '9')
        digits++;
    const char *suffix = value + digits;
    uint64_t mult = 1;
    if (!*suffix || strcmp(suffix, "B") == 0)
        mult = 1;
    else if (strcasecmp(suffix, "K") == 0 || strcmp(suffix, "KiB") == 0)
        mult = 1024ull;
    else if (strcasecmp(suffix, "M") == 0 || strcmp(suffix, "MiB") == 0)
        mult = 1024ull * 1024;
    else if (strcasecmp(suffix, "G") == 0 || strcmp(suffix, "GiB") == 0)
        mult = 1024ull * 1024 * 1024;
    else
        digits = 0;
    int64_t v;
    if (digits == 0 || digits >= sizeof num) {
        snprintf(err, errlen, "%s: outbox_limit must be bytes (e.g. 1073741824 or 1G), not '%s'",
                 where, value);
        return GLCI_AGENT_EUSAGE;
    }
    memcpy(num, value, digits);
    num[digits] = '\0';
    /* at least 64 KiB, at most 1 TiB */
    if (glci_parse_int64(num, 0, INT64_MAX / 1024 / 1024 / 1024, &v) != 0 ||
        (uint64_t)v * mult < 65536 || (uint64_t)v * mult > (1ull << 40)) {
        snprintf(err, errlen, "%s: outbox_limit must be between 64K and 1024G, not '%s'",
                 where, value);
        return GLCI_AGENT_EUSAGE;
    }
    *dst = (uint64_t)v * mult;
    return GLCI_AGENT_OK;
}

int glci_agent_config_set(glci_agent_config_t *c, const char *name, const char *value,
                          const char *where, char *err, size_t errlen)
{
    if (strcmp(name, "city") == 0) {
        size_t len = strlen(value);
        int ok = len > 0 && len < sizeof c->city &&
                 ((value[0] >= 'a' && value[0] <= 'z') || (value[0] >= '0' && value[0] <= '9'));
        for (size_t i = 0; ok && i < len; i++) {
            char ch = value[i];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-';
        }
        if (!ok) {
            snprintf(err, errlen, "%s: city must be 1-63 of [a-z0-9._-] starting with a letter "
                     "or digit, not '%s'", where, value);
            return GLCI_AGENT_EUSAGE;
        }
        memcpy(c->city, value, len + 1);
        return GLCI_AGENT_OK;
    }
    if (strcmp(name, "collector") == 0) {
        if (strncmp(value, "tcp://", 6) != 0 && strncmp(value, "ipc://", 6) != 0) {
            snprintf(err, errlen, "%s: collector must be a tcp:// or ipc:// endpoint, not '%s'",
                     where, value);
            return GLCI_AGENT_EUSAGE;
        }
        return s_copy(c->collector, sizeof c->collector, value, where, name, err, errlen);
    }
    if (strcmp(name, "collector_key") == 0)
        return s_copy(c->collector_key, sizeof c->collector_key, value, where, name, err, errlen);
    if (strcmp(name, "key_file") == 0)
        return s_copy(c->key_file, sizeof c->key_file, value, where, name, err, errlen);
    if (strcmp(name, "outbox") == 0)
        return s_copy(c->outbox, sizeof c->outbox, value, where, name, err, errlen);
    if (strcmp(name, "spool") == 0)
        return s_copy(c->spool, sizeof c->spool, value, where, name, err, errlen);
    if (strcmp(name, "batch_max") == 0)
        return s_u32(&c->batch_max, value, 1, 10000, where, name, err, errlen);
    if (strcmp(name, "window") == 0)
        return s_u32(&c->window, value, 1, 1024, where, name, err, errlen);
    if (strcmp(name, "rescan_interval") == 0)
        return s_u32(&c->rescan_interval, value, 1, 86400, where, name, err, errlen);
    if (strcmp(name, "heartbeat_ivl") == 0)
        return s_u32(&c->heartbeat_ivl, value, 100, 600000, where, name, err, errlen);
    if (strcmp(name, "outbox_limit") == 0)
        return s_bytes(&c->outbox_limit, value, where, err, errlen);
    if (strcmp(name, "log_level") == 0) {
        if (glci_log_level_parse(value, &c->log_level) != 0) {
            snprintf(err, errlen, "%s: log_level must be error, warn, info or debug, not '%s'",
                     where, value);
            return GLCI_AGENT_EUSAGE;
        }
        return GLCI_AGENT_OK;
    }
    if (strcmp(name, "insecure") == 0) {
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            c->insecure = 1;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
                 strcmp(value, "0") == 0)
            c->insecure = 0;
        else {
            snprintf(err, errlen, "%s: insecure must be true or false, not '%s'", where, value);
            return GLCI_AGENT_EUSAGE;
        }
        return GLCI_AGENT_OK;
    }
    snprintf(err, errlen, "%s: unknown setting '%s'", where, name);
    return GLCI_AGENT_EUSAGE;
}

typedef struct {
    glci_agent_config_t *c;
    const char *path;
    int failed;
    char msg[512];
} s_ini_ctx_t;

static int s_ini_handler(void *user, const char *section, const char *name,
                         const char *value)
{
    s_ini_ctx_t *x = user;
    if (x->failed)
        return 0;
    if (!section[0]) {
        snprintf(x->msg, sizeof x->msg, "'%s' outside the [agent] section", name);
        x->failed = 1;
        return 0;
    }
    if (strcmp(section, "agent") != 0) {
        snprintf(x->msg, sizeof x->msg, "unknown section [%s]: only [agent] is read",
                 section);
        x->failed = 1;
        return 0;
    }
    /* the line number is added by the caller from ini_parse's result */
    int rc = glci_agent_config_set(x->c, name, value, "@", x->msg, sizeof x->msg);
    if (rc != 0) {
        x->failed = 1;
        return 0;
    }
    return 1;
}

int glci_agent_config_load(glci_agent_config_t *c, const char *path,
                           char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the config: %s", path, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    s_ini_ctx_t x = {.c = c, .path = path};
    int line = ini_parse_file(f, s_ini_handler, &x);
    fclose(f);
    if (line == 0)
        return GLCI_AGENT_OK;
    if (line < 0) {
        snprintf(err, errlen, "%s: cannot read the config", path);
        return GLCI_AGENT_EIO;
    }
    if (!x.failed) {
        snprintf(err, errlen, "%s:%d: not a valid INI line", path, line);
    } else {
        /* messages from glci_agent_config_set start with "@: " */
        const char *m = strncmp(x.msg, "@: ", 3) == 0 ? x.msg + 3 : x.msg;
        snprintf(err, errlen, "%s:%d: %s", path, line, m);
    }
    return GLCI_AGENT_EUSAGE;
}

int glci_agent_config_flag(glci_agent_config_t *c, int argc, char **argv, int *i,
                           char *err, size_t errlen)
{
    static const char *const names[] = {
        "config", "city", "collector", "collector_key", "key_file", "outbox", "spool",
        "batch_max", "window", "outbox_limit", "log_level", "rescan_interval",
        "heartbeat_ivl", "insecure",
    };
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (len == 0 || len >= sizeof name)
        return 0;
    for (size_t k = 0; k < len; k++)
        name[k] = arg[2 + k] == '-' ? '_' : arg[2 + k];
    name[len] = '\0';
    int known = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(name, names[k]) == 0)
            known = 1;
    if (!known)
        return 0;

    char flag[80];
    snprintf(flag, sizeof flag, "--%.*s", (int)len, arg + 2);
    const char *value = eq ? eq + 1 : NULL;
    int used = 1;
    if (!value && strcmp(name, "insecure") == 0) {
        value = "true";
    } else if (!value) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "%s needs a value", flag);
            return GLCI_AGENT_EUSAGE;
        }
        value = argv[*i + 1];
        used = 2;
    }
    int rc;
    if (strcmp(name, "config") == 0)
        rc = s_copy(c->config_path, sizeof c->config_path, value, flag, "config", err, errlen);
    else
        rc = glci_agent_config_set(c, name, value, flag, err, errlen);
    if (rc != 0)
        return rc;
    *i += used;
    return 1;
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
        int rc = 0;
        env = getenv("GLCI_AGENT_CONFIG");
        if (env && env[0])
            rc = s_copy(scratch.config_path, sizeof scratch.config_path, env,
                        "GLCI_AGENT_CONFIG", "the config path", err, errlen);
        else if (stat(GLCI_AGENT_DEFAULT_CONFIG, &st) == 0 || errno != ENOENT)
            rc = s_copy(scratch.config_path, sizeof scratch.config_path,
                        GLCI_AGENT_DEFAULT_CONFIG, "default", "config", err, errlen);
        if (rc != 0)
            return rc;
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

int glci_agent_config_check_run(const glci_agent_config_t *c, char *err, size_t errlen)
{
    const char *missing = !c->city[0] ? "city" : !c->collector[0] ? "collector"
                        : !c->outbox[0] ? "outbox" : !c->spool[0] ? "spool" : NULL;
    if (!missing && !c->insecure)
        missing = !c->collector_key[0] ? "collector_key" : !c->key_file[0] ? "key_file" : NULL;
    if (missing) {
        snprintf(err, errlen, "%s is not set (config key %s, or --%s)", missing, missing,
                 strcmp(missing, "collector_key") == 0 ? "collector-key"
                 : strcmp(missing, "key_file") == 0 ? "key-file" : missing);
        return GLCI_AGENT_EUSAGE;
    }
    if (c->insecure && !glci_agent_endpoint_is_local(c->collector)) {
        snprintf(err, errlen, "insecure mode refuses collector endpoint '%s': only "
                 "loopback (127.0.0.0/8, [::1], localhost) or ipc:// is allowed", c->collector);
        return GLCI_AGENT_EUSAGE;
    }
    return GLCI_AGENT_OK;
}
