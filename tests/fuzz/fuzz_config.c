/* libFuzzer target for the daemons' config files: the common loader
 * (common/glci_config.c, glci_conf_load_text: the same reader as a file)
 * with each daemon's table, glci-agent's [agent] (agent/glci_agent_config.c)
 * and glci-collector's [collector] (collector/collector_config.c). The
 * same bytes go to both.
 *
 * The contract is checked against a model of the file written from the
 * words of glci_config.h and SPEC §5, line by line: blanks around a line,
 * a key and a value are not part of them, ';' and '#' start a comment line
 * and " ;" a comment after a value, "[NAME]" names the section, "key =
 * value" (or "key: value") sets a key of the table through glci_conf_set,
 * once per file, and anything else refuses the file at that line. Checked beyond "no
 * crash, no leak":
 *   - the loader refuses exactly the texts the model refuses, at the line
 *     the model names, with "NAME:LINE: message" in one printable line;
 *   - an accepted text sets every key exactly as the model does (an
 *     indented line is never glued to the line before it, a long line
 *     never split into two, a NUL byte never cuts a value short);
 *   - glci-agent's check of an accepted config answers 0 or one line, and
 *     so does glci-collector's build of its configuration from the same
 *     text read as a file (a memfd, as --config names it), which judges
 *     what the table cannot: a store, insecure endpoints, heartbeats.
 *
 * Run: fuzz_config -dict=tests/fuzz/config.dict NEWDIR tests/fuzz/corpus/config */
#define _GNU_SOURCE             /* memfd_create */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_alloc.h"
#include "glci_collector.h"
#include "glci_config.h"
#include "glci_fuzz.h"

#define S_NAME "fuzz.conf"

/* The longest line the model accepts, in bytes without its newline: what
 * Debian's inih (INI_MAX_LINE 200) reads whole with room for "\r\n". */
#define S_LINE_MAX 197

static const char *s_skip(const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b))
        b++;
    return b;
}

static const char *s_rskip(const char *b, const char *e)
{
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    return e;
}

/* The first of chars in [b, e), or a ';' after a blank; e if neither. */
static const char *s_find(const char *b, const char *e, const char *chars)
{
    int was_space = 0;
    for (; b < e; b++) {
        if ((chars && strchr(chars, *b)) || (was_space && *b == ';'))
            return b;
        was_space = isspace((unsigned char)*b);
    }
    return e;
}

/* One line [b, e) as the model reads it, applied to cfg: 0, or -1 when the
 * model refuses it. seen marks the keys given so far (each once a file). */
static int s_model_line(const glci_conf_map_t *map, void *cfg, unsigned char *seen,
                        int *in_section, size_t line, const char *b, const char *e)
{
    if (memchr(b, '\0', (size_t)(e - b)) || (size_t)(e - b) > S_LINE_MAX)
        return -1;
    /* byte-order marks open the file, before blanks or after them */
    for (const char *was = NULL; was != b;) {
        was = b;
        if (line == 1 && e - b >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0)
            b += 3;
        b = s_skip(b, e);
    }
    e = s_rskip(b, e);
    if (b == e || *b == ';' || *b == '#')
        return 0;
    if (*b == '[') {
        const char *close = s_find(b + 1, e, "]");
        if (close == e || *close != ']')
            return -1;
        size_t n = (size_t)(close - b - 1);
        if (n != strlen(map->section) || memcmp(b + 1, map->section, n) != 0)
            return -1;
        *in_section = 1;
        return 0;
    }
    const char *d = s_find(b, e, "=:");
    if (d == e || *d == ';' || !*in_section)
        return -1;
    char *key = glci_xstrndup(b, (size_t)(s_rskip(b, d) - b));
    const char *v = d + 1;
    const char *ve = s_find(v, e, NULL);
    v = s_skip(v, ve);
    char *value = glci_xstrndup(v, (size_t)(s_rskip(v, ve) - v));
    const glci_conf_key_t *k = glci_conf_find(map, key);
    char err[512];
    int bad = !k || (k->flags & GLCI_CONF_NO_FILE) || seen[k - map->keys] ||
              glci_conf_set(map, cfg, key, value, "model", err, sizeof err) != 0;
    if (!bad)
        seen[k - map->keys] = 1;
    free(key);
    free(value);
    return bad ? -1 : 0;
}

/* Applies the text to cfg as the model reads it: 0, or the first line the
 * model refuses. */
static size_t s_model(const glci_conf_map_t *map, void *cfg, const char *text, size_t len)
{
    int in_section = 0;
    size_t line = 0, bad_line = 0;
    unsigned char *seen = glci_xcalloc(map->n_keys ? map->n_keys : 1, 1);
    for (size_t off = 0; off < len && !bad_line;) {
        const char *b = text + off;
        const char *nl = memchr(b, '\n', len - off);
        const char *e = nl ? nl : text + len;
        off = (size_t)(e - text) + (nl ? 1 : 0);
        line++;
        if (s_model_line(map, cfg, seen, &in_section, line, b, e) != 0)
            bad_line = line;
    }
    free(seen);
    return bad_line;
}

static void s_same(const glci_conf_map_t *map, const void *a, const void *b)
{
    for (size_t k = 0; k < map->n_keys; k++) {
        const glci_conf_key_t *key = &map->keys[k];
        const char *fa = (const char *)a + key->offset, *fb = (const char *)b + key->offset;
        int same;
        if (key->type == GLCI_CONF_STRING) {
            const char *sa = *(char *const *)(const void *)fa;
            const char *sb = *(char *const *)(const void *)fb;
            same = sa ? sb && strcmp(sa, sb) == 0 : !sb;
        } else if (key->type == GLCI_CONF_TEXT) {
            same = strcmp(fa, fb) == 0;
        } else {
            same = memcmp(fa, fb, key->size) == 0;
        }
        GLCI_FUZZ_CHECK(same, "config [%s]: %s is not what the file says", map->section,
                        key->name);
    }
}

/* Loads the text with one daemon's table and checks it against the model;
 * returns 1 if it was accepted. */
static int s_one(const glci_conf_map_t *map, void *cfg, void *model, const uint8_t *data,
                 size_t size)
{
    char err[600];
    glci_conf_defaults(map, cfg);
    glci_conf_defaults(map, model);
    int rc = glci_conf_load_text(map, cfg, (const char *)data, size, S_NAME, err, sizeof err);
    size_t bad = s_model(map, model, (const char *)data, size);
    GLCI_FUZZ_CHECK(rc == 0 || rc == -1, "config [%s]: code %d", map->section, rc);
    if (rc == 0) {
        GLCI_FUZZ_CHECK(bad == 0, "config [%s]: accepted, but line %zu is bad", map->section,
                        bad);
        s_same(map, cfg, model);
    } else {
        glci_fuzz_check_line("config error", err, sizeof err);
        size_t line = glci_fuzz_line_of("config error", err, S_NAME);
        GLCI_FUZZ_CHECK(bad != 0, "config [%s]: refused a good text: %s", map->section, err);
        GLCI_FUZZ_CHECK(line == bad, "config [%s]: refused at line %zu, not at the first bad "
                        "line %zu: %s", map->section, line, bad, err);
    }
    glci_conf_release(map, cfg);
    glci_conf_release(map, model);
    return rc == 0;
}

/* glci-collector --config FILE --store DIR on the text as a file: the
 * build answers 0 or one printable line. */
static void s_collector_build(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.conf", 0);
        GLCI_FUZZ_CHECK(fd >= 0, "config: memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    GLCI_FUZZ_CHECK(ftruncate(fd, 0) == 0 && (size == 0 || pwrite(fd, data, size, 0) ==
                                              (ssize_t)size), "config: cannot write the memfd");
    glci_collector_args_t args = {.config = path};
    glci_collector_args_add(&args, "store", "/nonexistent/store");
    glci_collector_config_t cfg;
    char err[600];
    if (glci_collector_config_build(&args, &cfg, err, sizeof err) == 0)
        glci_collector_config_release(&cfg);
    else
        glci_fuzz_check_line("collector config build", err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glci_agent_config_t agent, agent_model;
    if (s_one(&glci_agent_config_map, &agent, &agent_model, data, size)) {
        char err[600];
        glci_agent_config_defaults(&agent);
        glci_conf_load_text(&glci_agent_config_map, &agent, (const char *)data, size, S_NAME,
                            err, sizeof err);
        if (glci_agent_config_check_run(&agent, err, sizeof err) != 0)
            glci_fuzz_check_line("agent check", err, sizeof err);
    }
    glci_collector_config_t collector, collector_model;
    if (s_one(&glci_collector_config_map, &collector, &collector_model, data, size))
        s_collector_build(data, size);
    return 0;
}
