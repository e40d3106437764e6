/* The table-driven configuration of the daemons: see glci_config.h.
 *
 * The file is read whole (at most GLCI_CONF_FILE_MAX bytes) and handed to
 * inih one line at a time by the shared reader of glci_ini.h, so a long
 * line is refused rather than split, an indented line is never glued to
 * the key before it, a NUL byte is refused rather than cutting a value,
 * and the handler knows its line (Debian's inih gives it none). */
#include "glci_config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_file.h"
#include "glci_log.h"
#include "glci_ini.h"
#include "glci_text.h"
#include "glci_utf8.h"

/* glci_errf with the message made printable: messages quote values and
 * names from files and command lines, which may hold any byte, and must
 * stay one line of valid UTF-8 (glci_utf8_escape). Returns -1. */
static int s_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_errf(char *err, size_t errlen, const char *fmt, ...)
{
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (err && errlen)
        glci_utf8_escape(raw, sizeof raw, err, errlen);
    return -1;
}

const glci_conf_key_t *glci_conf_find(const glci_conf_map_t *map, const char *name)
{
    for (size_t k = 0; k < map->n_keys; k++)
        if (strcmp(map->keys[k].name, name) == 0)
            return &map->keys[k];
    return NULL;
}

static void *s_field(const glci_conf_key_t *key, void *cfg)
{
    return (char *)cfg + key->offset;
}

/* ---- values ------------------------------------------------------------ */

static int s_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Bytes with an optional binary suffix: 4096, 64K, 512M, 1G (KiB/MiB/GiB,
 * B too). -1 if it is not such a number. */
static int s_bytes(const char *value, uint64_t *out)
{
    size_t len = strlen(value), digits = 0;
    while (digits < len && value[digits] >= '0' && value[digits] <= '9')
        digits++;
    const char *suffix = value + digits;
    uint64_t mult;
    if (!*suffix || strcmp(suffix, "B") == 0)
        mult = 1;
    else if (strcasecmp(suffix, "K") == 0 || strcmp(suffix, "KiB") == 0)
        mult = 1024ull;
    else if (strcasecmp(suffix, "M") == 0 || strcmp(suffix, "MiB") == 0)
        mult = 1024ull * 1024;
    else if (strcasecmp(suffix, "G") == 0 || strcmp(suffix, "GiB") == 0)
        mult = 1024ull * 1024 * 1024;
    else
        return -1;
    char num[32];
    int64_t v;
    if (digits == 0 || digits >= sizeof num)
        return -1;
    memcpy(num, value, digits);
    num[digits] = '\0';
    if (glci_parse_int64(num, 0, INT64_MAX / (int64_t)mult, &v) != 0)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

/* Seconds with an optional unit: 90, 90s, 15m, 36h, 30d, 2w. -1 if it is
 * not such a number or it overflows. */
static int s_duration(const char *value, int64_t *out)
{
    size_t len = strlen(value), digits = 0;
    while (digits < len && value[digits] >= '0' && value[digits] <= '9')
        digits++;
    const char *unit = value + digits;
    int64_t mult = !*unit ? 1 : strcmp(unit, "s") == 0 ? 1 : strcmp(unit, "m") == 0 ? 60
                 : strcmp(unit, "h") == 0 ? 3600 : strcmp(unit, "d") == 0 ? 86400
                 : strcmp(unit, "w") == 0 ? 7 * 86400 : 0;
    char num[32];
    int64_t v;
    if (!mult || digits == 0 || digits >= sizeof num)
        return -1;
    memcpy(num, value, digits);
    num[digits] = '\0';
    if (glci_parse_int64(num, 0, INT64_MAX / mult, &v) != 0)
        return -1;
    *out = v * mult;
    return 0;
}

static void s_int_store(const glci_conf_key_t *key, void *field, int64_t v)
{
    if (key->size == sizeof(int64_t))
        memcpy(field, &v, sizeof v);
    else if (key->flags & GLCI_CONF_UNSIGNED) {
        uint32_t u = (uint32_t)v;
        memcpy(field, &u, sizeof u);
    } else {
        int i = (int)v;
        memcpy(field, &i, sizeof i);
    }
}

/* Sets one key from text; the message says "NAME ..." after "WHERE: ". */
static int s_set(const glci_conf_key_t *key, void *cfg, const char *value,
                 const char *where, char *err, size_t errlen)
{
    void *field = s_field(key, cfg);
    char why[256];
    const char *name = key->name;

    if (key->check && key->check(value, why, sizeof why) != 0)
        return s_errf(err, errlen, "%s: %s must %s, not '%s'", where, name, why, value);
    switch (key->type) {
    case GLCI_CONF_TEXT:
    case GLCI_CONF_STRING: {
        size_t len = strlen(value);
        if (len == 0)
            return s_errf(err, errlen, "%s: %s is empty", where, name);
        if (key->type == GLCI_CONF_STRING) {
            char **p = field;
            free(*p);
            *p = glci_xstrdup(value);
            return 0;
        }
        if (len >= key->size)
            return s_errf(err, errlen, "%s: %s is longer than %zu bytes", where, name,
                         key->size - 1);
        memcpy(field, value, len + 1);
        return 0;
    }
    case GLCI_CONF_INT: {
        int64_t v;
        if (glci_parse_int64(value, key->min, key->max, &v) != 0)
            return s_errf(err, errlen, "%s: %s must be an integer in [%lld, %lld], not '%s'",
                         where, name, (long long)key->min, (long long)key->max, value);
        s_int_store(key, field, v);
        return 0;
    }
    case GLCI_CONF_BYTES: {
        uint64_t v;
        if (s_bytes(value, &v) != 0)
            return s_errf(err, errlen, "%s: %s must be bytes (e.g. 1073741824 or 1G), not '%s'",
                         where, name, value);
        if (v < (uint64_t)key->min || v > (uint64_t)key->max)
            return s_errf(err, errlen, "%s: %s must be between %lld and %lld bytes, not '%s'",
                         where, name, (long long)key->min, (long long)key->max, value);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case GLCI_CONF_DURATION: {
        int64_t v;
        if (s_duration(value, &v) != 0)
            return glci_errf(err, errlen, "%s: %s must be a duration in seconds, or with a "
                             "unit s, m, h, d or w (e.g. 30d), not '%s'", where, name, value);
        if (v < key->min || v > key->max)
            return glci_errf(err, errlen, "%s: %s must be between %lld and %lld seconds, not "
                             "'%s'", where, name, (long long)key->min, (long long)key->max,
                             value);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case GLCI_CONF_BOOL:
        if (s_bool(value, field) != 0)
            return s_errf(err, errlen, "%s: %s must be true or false, not '%s'", where, name,
                         value);
        return 0;
    case GLCI_CONF_LOG_LEVEL:
        if (glci_log_level_parse(value, field) != 0)
            return s_errf(err, errlen, "%s: %s must be error, warn, info or debug, not '%s'",
                         where, name, value);
        return 0;
    }
    return s_errf(err, errlen, "%s: %s has no type", where, name);
}

int glci_conf_set(const glci_conf_map_t *map, void *cfg, const char *name,
                  const char *value, const char *where, char *err, size_t errlen)
{
    const glci_conf_key_t *key = glci_conf_find(map, name);
    if (!key)
        return s_errf(err, errlen, "%s: unknown key '%s'", where, name);
    return s_set(key, cfg, value, where, err, errlen);
}

void glci_conf_defaults(const glci_conf_map_t *map, void *cfg)
{
    for (size_t k = 0; k < map->n_keys; k++) {
        const glci_conf_key_t *key = &map->keys[k];
        void *field = s_field(key, cfg);
        memset(field, 0, key->type == GLCI_CONF_STRING ? sizeof(char *) : key->size);
        /* the defaults are the program's own: a bad one is a programmer error */
        if (key->dflt && s_set(key, cfg, key->dflt, "default", NULL, 0) != 0)
            abort();
    }
}

void glci_conf_release(const glci_conf_map_t *map, void *cfg)
{
    for (size_t k = 0; k < map->n_keys; k++) {
        if (map->keys[k].type != GLCI_CONF_STRING)
            continue;
        char **p = s_field(&map->keys[k], cfg);
        free(*p);
        *p = NULL;
    }
}

/* ---- the file ---------------------------------------------------------- */

typedef struct {
    const glci_conf_map_t *map;
    void *cfg;
    glci_ini_text_t src;
    int bad_line;                /* the first line refused here, 0 while none is */
    int *seen;                   /* per key of the map: the line that gave it, 0 */
    char msg[512];
} s_ini_t;

static void s_refuse(s_ini_t *x, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_refuse(s_ini_t *x, int line, const char *fmt, ...)
{
    if (x->bad_line)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof x->msg, fmt, ap);
    va_end(ap);
    x->bad_line = line;
    x->src.stop = 1;
}

/* The reader's header callback: inih calls no handler for a [section]
 * header, so an unknown section without keys would pass unseen. The text
 * after ']' is inih's to ignore. */
static int s_header(void *ctx, const char *line, size_t n)
{
    s_ini_t *x = ctx;
    const char *close = memchr(line, ']', n);
    if (!close)
        return 0;                /* inih refuses it as not INI */
    size_t k = (size_t)(close - line - 1);
    if (k == strlen(x->map->section) && memcmp(line + 1, x->map->section, k) == 0)
        return 0;
    s_refuse(x, x->src.line, "unknown section [%.*s]: only [%s] is read", (int)k, line + 1,
             x->map->section);
    return -1;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ini_t *x = user;
    if (x->bad_line)
        return 0;
    if (!name)                   /* a header, from an inih built to report them */
        return 1;
    if (!section[0]) {
        s_refuse(x, x->src.line, "'%s' outside the [%s] section", name, x->map->section);
        return 0;
    }
    if (strcmp(section, x->map->section) != 0) {  /* the reader refuses its header first */
        s_refuse(x, x->src.line, "unknown section [%s]: only [%s] is read", section,
                 x->map->section);
        return 0;
    }
    const glci_conf_key_t *key = glci_conf_find(x->map, name);
    if (!key || (key->flags & GLCI_CONF_NO_FILE)) {
        s_refuse(x, x->src.line, "unknown key '%s'", name);
        return 0;
    }
    /* Last-wins would run silently with a value the operator may not have
     * meant (two edits of one file); inih also hands an indented line over
     * as the same key again (a continuation line). */
    size_t k = (size_t)(key - x->map->keys);
    if (x->seen[k]) {
        s_refuse(x, x->src.line, "'%s' is given twice in [%s] (first on line %d); give each "
                 "key once", name, section, x->seen[k]);
        return 0;
    }
    x->seen[k] = x->src.line;
    /* the line is added by the caller: the message starts after "@: " */
    if (s_set(key, x->cfg, value, "@", x->msg, sizeof x->msg) != 0) {
        x->bad_line = x->src.line;
        x->src.stop = 1;
        return 0;
    }
    return 1;
}

int glci_conf_load_text(const glci_conf_map_t *map, void *cfg, const char *text, size_t len,
                        const char *name, char *err, size_t errlen)
{
    s_ini_t x = {.map = map, .cfg = cfg};
    x.src = (glci_ini_text_t){.text = text, .len = text ? len : 0, .header = s_header, .ctx = &x};
    x.seen = glci_xcalloc(map->n_keys ? map->n_keys : 1, sizeof *x.seen);
    /* inih goes on after a line it cannot parse and returns the first such
     * line; the first problem of either kind is the one reported */
    int line = ini_parse_stream(glci_ini_reader, &x.src, s_handler, &x);
    free(x.seen);
    if (x.src.bad_line)
        s_refuse(&x, x.src.bad_line, "%s", x.src.why);
    if (line != 0 && (!x.bad_line || line < x.bad_line))
        return s_errf(err, errlen, "%s:%d: not a valid INI line", name, line);
    if (x.bad_line) {
        const char *m = strncmp(x.msg, "@: ", 3) == 0 ? x.msg + 3 : x.msg;
        return s_errf(err, errlen, "%s:%d: %s", name, x.bad_line, m);
    }
    return 0;
}

int glci_conf_load(const glci_conf_map_t *map, void *cfg, const char *path,
                   char *err, size_t errlen)
{
    /* Regular files only (and /dev/null, which means "no settings"): a FIFO
     * or a device would hang or feed the reader for ever. */
    char why[512];
    struct stat sb;
    int fd = glci_file_open_regular(path, GLCI_FILE_NULL_OK, 0, NULL, &sb, why, sizeof why);
    if (fd < 0) {
        /* why starts with "PATH: " */
        const char *m = strncmp(why, path, strlen(path)) == 0 ? why + strlen(path) + 2 : why;
        s_errf(err, errlen, "%s: cannot read the config: %s", path, m);
        return -2;
    }
    /* a config is a page of text: a bound keeps a log named by mistake
     * from being read whole */
    char *text;
    size_t len;
    int failed = glci_file_read_fd(fd, GLCI_CONF_FILE_MAX, (uint64_t)sb.st_size, &text, &len);
    close(fd);
    int rc;
    if (failed) {
        s_errf(err, errlen, "%s: cannot read the config: %s", path, strerror(failed));
        rc = -2;
    } else if (len > GLCI_CONF_FILE_MAX)
        rc = s_errf(err, errlen, "%s: larger than %d bytes, not a config file", path,
                    GLCI_CONF_FILE_MAX);
    else
        rc = glci_conf_load_text(map, cfg, text, len, path, err, errlen);
    free(text);
    return rc;
}

/* ---- flags --------------------------------------------------------------- */

int glci_conf_flag_peek(const glci_conf_map_t *map, int argc, char **argv, int *i,
                        const glci_conf_key_t **key, const char **value,
                        char *err, size_t errlen)
{
    const char *arg = argv[*i];
    char name[64];
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (len == 0 || len >= sizeof name)
        return 0;
    for (size_t k = 0; k < len; k++)
        name[k] = arg[2 + k] == '-' ? '_' : arg[2 + k];
    name[len] = '\0';
    const glci_conf_key_t *found = glci_conf_find(map, name);
    if (!found || !(found->flags & GLCI_CONF_FLAG))
        return 0;
    int used = 1;
    const char *v = eq ? eq + 1 : NULL;
    if (!v && found->type == GLCI_CONF_BOOL) {
        v = "true";
    } else if (!v) {
        if (*i + 1 >= argc)
            return s_errf(err, errlen, "--%.*s needs a value", (int)len, arg + 2);
        v = argv[*i + 1];
        used = 2;
    }
    *key = found;
    *value = v;
    *i += used;
    return 1;
}

int glci_conf_flag(const glci_conf_map_t *map, void *cfg, int argc, char **argv, int *i,
                   char *err, size_t errlen)
{
    const glci_conf_key_t *key;
    const char *value;
    int at = *i;
    int rc = glci_conf_flag_peek(map, argc, argv, i, &key, &value, err, errlen);
    if (rc <= 0)
        return rc;
    char flag[80];
    const char *eq = strchr(argv[at], '=');
    snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - argv[at]) : 79, argv[at]);
    if (s_set(key, cfg, value, flag, err, errlen) != 0) {
        *i = at;
        return -1;
    }
    return 1;
}

void glci_conf_help(const glci_conf_map_t *map, FILE *out)
{
    for (size_t k = 0; k < map->n_keys; k++) {
        const glci_conf_key_t *key = &map->keys[k];
        if (!(key->flags & GLCI_CONF_FLAG))
            continue;
        char flag[96];
        int n = snprintf(flag, sizeof flag, "--%s", key->name);
        for (int c = 2; c < n && c < (int)sizeof flag; c++)
            if (flag[c] == '_')
                flag[c] = '-';
        if (key->metavar)
            snprintf(flag + n, sizeof flag - (size_t)n, " %s", key->metavar);
        fprintf(out, "  %-24s %s", flag, key->help);
        if (key->dflt && key->type != GLCI_CONF_BOOL)
            fprintf(out, " (default %s)", key->dflt);
        fputc('\n', out);
    }
}
