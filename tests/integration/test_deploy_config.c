/* The shipped example configs (deploy/collector.conf, deploy/agent.conf)
 * against the programs' own configuration loaders, linked from their
 * libraries:
 *
 * - each file, as shipped, loads without error;
 * - each documents every key the program reads, exactly once, under a
 *   comment naming it, and nothing else: the key set equals the fixed list;
 * - with every commented-out key switched on, the file still loads (so every
 *   key and every value shown is one the program accepts, since the loaders
 *   refuse unknown keys), and the values shown are the program's defaults;
 * - every key is described in the program's man page.
 *
 * Files are found through $GLCI_SOURCE_DIR (set by ctest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_collector.h"

static const char *const s_collector_keys[] = {
    "store", "listen", "insecure", "log_level", "key_file", "batch_max", "group_max",
    "group_bytes", "group_obs", "rejects_keep",
    "max_message", "sndhwm", "rcvhwm", "heartbeat_ivl", "heartbeat_timeout",
    "handshake_ivl", "map_max", "enrol_listen", "previous_listen", "previous_key_file",
    "enrol_tries_per_addr", "enrol_tries_total", "enrol_window", "refused_max", "key_flush",
    "metrics_listen",
};
#define S_N_COLLECTOR_KEYS (sizeof s_collector_keys / sizeof s_collector_keys[0])

static const char *const s_agent_keys[] = {
    "city", "collector", "collector_key", "key_file", "outbox", "spool", "batch_max",
    "window", "outbox_limit", "retain", "retain_bytes", "log_level", "rescan_interval",
    "heartbeat_ivl", "insecure", "metrics_file",
};
#define S_N_AGENT_KEYS (sizeof s_agent_keys / sizeof s_agent_keys[0])

#define S_MAX_KEYS 64

/* One key line of an example config. */
typedef struct {
    char name[64];
    int commented;        /* written as ";name = value" */
    int documented;       /* the comment block above it names it */
    int line;
} s_key_t;

typedef struct {
    s_key_t keys[S_MAX_KEYS];
    size_t n;
    int sections;         /* "[...]" lines */
    char section[64];     /* the last one's name */
} s_example_t;

static char s_dir[256];

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/glci-test-deploy-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    return 0;
}

static int s_teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_source_path(char *buf, size_t len, const char *rel)
{
    const char *src = getenv("GLCI_SOURCE_DIR");
    assert_non_null(src);
    int n = snprintf(buf, len, "%s/%s", src, rel);
    assert_true(n > 0 && (size_t)n < len);
}

static char *s_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t got;
    while ((got = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
    }
    fclose(f);
    text[len] = '\0';
    return text;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* If s (after blanks) is "name = ..." with name of [a-z0-9_], copies the
 * name and returns 1. */
static int s_key_name(const char *s, char *name, size_t len)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = 0;
    while (islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_')
        n++;
    if (n == 0 || n >= len)
        return 0;
    const char *p = s + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return 0;
    memcpy(name, s, n);
    name[n] = '\0';
    return 1;
}

/* 1 if text contains name as a whole word ([a-z0-9_] boundaries). */
static int s_has_word(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        int before = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        int after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (before && after)
            return 1;
    }
    return 0;
}

/* Reads an example config: its key lines, active or commented out, each with
 * whether the comment lines just above it name it. */
static void s_example_parse(const char *text, s_example_t *ex)
{
    memset(ex, 0, sizeof *ex);
    char comment[4096] = "";   /* the comment block above the current line */
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[512];
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (end ? 1 : 0);
        lineno++;

        char name[64];
        int is_comment = line[0] == ';' || line[0] == '#';
        const char *body = is_comment ? line + 1 : line;
        if (line[0] == '[') {
            const char *close = strchr(line, ']');
            assert_non_null(close);
            snprintf(ex->section, sizeof ex->section, "%.*s", (int)(close - line - 1), line + 1);
            ex->sections++;
            comment[0] = '\0';
        } else if (s_key_name(body, name, sizeof name)) {
            assert_true(ex->n < S_MAX_KEYS);
            s_key_t *k = &ex->keys[ex->n++];
            snprintf(k->name, sizeof k->name, "%s", name);
            k->commented = is_comment;
            k->line = lineno;
            k->documented = s_has_word(comment, name);
            /* keys listed together (sndhwm, rcvhwm) share one comment */
        } else if (is_comment) {
            size_t used = strlen(comment);
            snprintf(comment + used, sizeof comment - used, "%s\n", body);
        } else {
            comment[0] = '\0';   /* a blank line ends a comment block */
        }
    }
}

/* The example's keys are exactly the fixed list, once each, all documented. */
static void s_example_check_keys(const s_example_t *ex, const char *path, const char *section,
                                 const char *const *keys, size_t n_keys)
{
    if (ex->sections != 1 || strcmp(ex->section, section) != 0)
        fail_msg("%s: expected exactly one section [%s]", path, section);
    for (size_t i = 0; i < ex->n; i++) {
        int known = 0;
        for (size_t j = 0; j < n_keys; j++)
            known |= strcmp(ex->keys[i].name, keys[j]) == 0;
        if (!known)
            fail_msg("%s:%d: key '%s' is not one the program reads", path, ex->keys[i].line,
                     ex->keys[i].name);
        if (!ex->keys[i].documented)
            fail_msg("%s:%d: key '%s' has no comment naming it above it", path,
                     ex->keys[i].line, ex->keys[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(ex->keys[i].name, ex->keys[j].name) == 0)
                fail_msg("%s:%d: key '%s' appears twice", path, ex->keys[i].line,
                         ex->keys[i].name);
    }
    for (size_t j = 0; j < n_keys; j++) {
        int found = 0;
        for (size_t i = 0; i < ex->n; i++)
            found |= strcmp(ex->keys[i].name, keys[j]) == 0;
        if (!found)
            fail_msg("%s: key '%s' is missing from the example", path, keys[j]);
    }
}

/* The example with every ";key = value" line switched on, written into the
 * temp dir as name; returns its path in buf. */
static void s_example_uncomment(const char *text, const char *name, char *buf, size_t len)
{
    size_t tlen = strlen(text);
    char *out = malloc(tlen + 1);
    assert_non_null(out);
    size_t o = 0;
    int line_start = 1;
    char key[64];
    for (size_t i = 0; i < tlen; i++) {
        if (line_start && text[i] == ';' && s_key_name(text + i + 1, key, sizeof key)) {
            line_start = 0;
            continue;   /* drop the ';' */
        }
        line_start = text[i] == '\n';
        out[o++] = text[i];
    }
    out[o] = '\0';
    snprintf(buf, len, "%s/%s", s_dir, name);
    s_write(buf, out);
    free(out);
}

/* Every key is named in the man page. */
static void s_man_check_keys(const char *page, const char *const *keys, size_t n_keys)
{
    char path[1024];
    s_source_path(path, sizeof path, page);
    char *text = s_read(path);
    for (size_t j = 0; j < n_keys; j++)
        if (!s_has_word(text, keys[j]))
            fail_msg("%s does not describe the key '%s'", page, keys[j]);
    free(text);
}

/* ---- collector --------------------------------------------------------- */

static int s_collector_build(const char *config, const char *store,
                             glci_collector_config_t *cfg, char *err, size_t errlen)
{
    glci_collector_args_t args = {0};
    args.config = config;
    if (store)
        glci_collector_args_add(&args, "store", store);
    return glci_collector_config_build(&args, cfg, err, errlen);
}

static void test_collector_example_as_shipped(void **state)
{
    char path[1024], err[512] = "";
    s_source_path(path, sizeof path, "deploy/collector.conf");
    glci_collector_config_t cfg;
    if (s_collector_build(path, NULL, &cfg, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(cfg.store, "/var/lib/glci");
    assert_string_equal(cfg.listen, GLCI_COLLECTOR_DEFAULT_LISTEN);
    assert_string_equal(cfg.key_file, "/var/lib/glci/collector.key");
    assert_int_equal(cfg.insecure, 0);
    assert_int_equal(cfg.log_level, GLCI_LOG_INFO);
    glci_collector_config_release(&cfg);
}

static void test_collector_example_keys(void **state)
{
    char path[1024];
    s_source_path(path, sizeof path, "deploy/collector.conf");
    char *text = s_read(path);
    s_example_t ex;
    s_example_parse(text, &ex);
    s_example_check_keys(&ex, path, "collector", s_collector_keys, S_N_COLLECTOR_KEYS);
    free(text);
}

static void test_collector_example_values_are_defaults(void **state)
{
    char path[1024], full[1024], empty[1024], err[512] = "";
    s_source_path(path, sizeof path, "deploy/collector.conf");
    char *text = s_read(path);
    s_example_uncomment(text, "collector-full.conf", full, sizeof full);
    free(text);
    snprintf(empty, sizeof empty, "%s/collector-empty.conf", s_dir);
    s_write(empty, "[collector]\n");

    glci_collector_config_t u, d;
    if (s_collector_build(full, NULL, &u, err, sizeof err) != 0)
        fail_msg("every key switched on: %s", err);
    if (s_collector_build(empty, "/var/lib/glci", &d, err, sizeof err) != 0)
        fail_msg("defaults: %s", err);
    assert_string_equal(u.store, d.store);
    assert_string_equal(u.listen, d.listen);
    assert_string_equal(u.key_file, d.key_file);
    assert_int_equal(u.insecure, d.insecure);
    assert_int_equal(u.log_level, d.log_level);
    assert_int_equal(u.batch_max, d.batch_max);
    assert_int_equal(u.group_max, d.group_max);
    assert_int_equal(u.group_bytes, d.group_bytes);
    assert_int_equal(u.group_obs, d.group_obs);
    assert_int_equal(u.rejects_keep, d.rejects_keep);
    assert_int_equal(u.max_message, d.max_message);
    assert_int_equal(u.sndhwm, d.sndhwm);
    assert_int_equal(u.rcvhwm, d.rcvhwm);
    assert_int_equal(u.heartbeat_ivl, d.heartbeat_ivl);
    assert_int_equal(u.heartbeat_timeout, d.heartbeat_timeout);
    assert_int_equal(u.handshake_ivl, d.handshake_ivl);
    assert_int_equal(u.enrol_tries_per_addr, d.enrol_tries_per_addr);
    assert_int_equal(u.enrol_tries_total, d.enrol_tries_total);
    assert_int_equal(u.enrol_window, d.enrol_window);
    assert_int_equal(u.refused_max, d.refused_max);
    assert_int_equal(u.key_flush, d.key_flush);
    assert_string_equal(u.previous_key_file, d.previous_key_file);
    /* enrolment and the previous key's endpoint are off unless set: the
     * example shows the endpoints the guide uses */
    assert_null(d.enrol_listen);
    assert_string_equal(u.enrol_listen, "tcp://0.0.0.0:7462");
    assert_null(d.previous_listen);
    assert_string_equal(u.previous_listen, "tcp://0.0.0.0:7463");
    /* map_max 0 means "the store's bound", which the example spells out */
    assert_int_equal(d.map_max, 0);
    assert_int_equal(u.map_max, (size_t)1 << 40);
    /* no metrics server unless asked; the example asks for the loopback port */
    assert_null(d.metrics_listen);
    assert_string_equal(u.metrics_listen, "9461");
    glci_collector_config_release(&u);
    glci_collector_config_release(&d);
}

/* The comparison above means something only because the loader refuses
 * what it does not read. */
static void test_collector_refuses_unknown_key(void **state)
{
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/collector-bad.conf", s_dir);
    s_write(path, "[collector]\nstore = /var/lib/glci\ncolour = blue\n");
    glci_collector_config_t cfg;
    assert_int_not_equal(s_collector_build(path, NULL, &cfg, err, sizeof err), 0);
    assert_non_null(strstr(err, "colour"));
    assert_non_null(strstr(err, ":3:"));
}

static void test_collector_man_page_keys(void **state)
{
    s_man_check_keys("deploy/man/glci-collector.8", s_collector_keys, S_N_COLLECTOR_KEYS);
}

/* ---- agent ------------------------------------------------------------- */

static void test_agent_example_as_shipped(void **state)
{
    char path[1024], err[512] = "";
    s_source_path(path, sizeof path, "deploy/agent.conf");
    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    if (glci_agent_config_load(&c, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.outbox, "/var/lib/glci-agent/outbox");
    assert_string_equal(c.spool, "/var/lib/glci-agent/spool");
    assert_string_equal(c.key_file, "/var/lib/glci-agent/city.key");
    assert_int_equal(c.insecure, 0);
    /* the city is the operator's to fill in, and `run` says so */
    assert_string_equal(c.city, "");
    assert_int_equal(glci_agent_config_check_run(&c, err, sizeof err), GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "city"));
}

static void test_agent_example_keys(void **state)
{
    char path[1024];
    s_source_path(path, sizeof path, "deploy/agent.conf");
    char *text = s_read(path);
    s_example_t ex;
    s_example_parse(text, &ex);
    s_example_check_keys(&ex, path, "agent", s_agent_keys, S_N_AGENT_KEYS);
    free(text);
}

static void test_agent_example_values_are_defaults(void **state)
{
    char path[1024], full[1024], err[512] = "";
    s_source_path(path, sizeof path, "deploy/agent.conf");
    char *text = s_read(path);
    s_example_uncomment(text, "agent-full.conf", full, sizeof full);
    free(text);

    glci_agent_config_t u, d;
    glci_agent_config_defaults(&u);
    glci_agent_config_defaults(&d);
    if (glci_agent_config_load(&u, full, err, sizeof err) != 0)
        fail_msg("every key switched on: %s", err);
    /* city, collector and collector_key have no default: the example shows
     * one of each kind, and with them `run` has all it needs */
    assert_string_equal(u.city, "cork-ie");
    /* no metrics file unless asked; the example's is node_exporter's folder,
     * which this machine need not have, so run is judged without it */
    assert_string_equal(d.metrics_file, "");
    assert_string_equal(u.metrics_file, "/var/lib/prometheus/node-exporter/glci-agent.prom");
    u.metrics_file[0] = '\0';
    assert_int_equal(glci_agent_config_check_run(&u, err, sizeof err), GLCI_AGENT_OK);
    assert_int_equal(u.batch_max, d.batch_max);
    assert_int_equal(u.window, d.window);
    assert_int_equal(u.outbox_limit, d.outbox_limit);
    assert_int_equal(u.retain, d.retain);
    assert_int_equal(u.retain_bytes, d.retain_bytes);
    assert_int_equal(u.log_level, d.log_level);
    assert_int_equal(u.rescan_interval, d.rescan_interval);
    assert_int_equal(u.heartbeat_ivl, d.heartbeat_ivl);
    assert_int_equal(u.insecure, d.insecure);
}

static void test_agent_refuses_unknown_key(void **state)
{
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/agent-bad.conf", s_dir);
    s_write(path, "[agent]\nwindow = 4\ncolour = blue\n");
    glci_agent_config_t c;
    glci_agent_config_defaults(&c);
    assert_int_equal(glci_agent_config_load(&c, path, err, sizeof err), GLCI_AGENT_EUSAGE);
    assert_non_null(strstr(err, "colour"));
    assert_non_null(strstr(err, ":3:"));
}

static void test_agent_man_page_keys(void **state)
{
    s_man_check_keys("deploy/man/glci-agent.8", s_agent_keys, S_N_AGENT_KEYS);
}

/* ---- the checker itself -------------------------------------------------- */

/* The example parser finds commented-out keys, ties comments to keys and
 * notices an undocumented one; otherwise the checks above could pass on
 * nothing. */
static void test_parser_sees_keys_and_comments(void **state)
{
    s_example_t ex;
    s_example_parse("; top\n\n[agent]\n\n; window: batches in flight\n;window = 8\n\n"
                    "city = x\n", &ex);
    assert_int_equal(ex.sections, 1);
    assert_string_equal(ex.section, "agent");
    assert_int_equal(ex.n, 2);
    assert_string_equal(ex.keys[0].name, "window");
    assert_int_equal(ex.keys[0].commented, 1);
    assert_int_equal(ex.keys[0].documented, 1);
    assert_int_equal(ex.keys[0].line, 6);
    assert_string_equal(ex.keys[1].name, "city");
    assert_int_equal(ex.keys[1].commented, 0);
    assert_int_equal(ex.keys[1].documented, 0);
    /* "windows" does not document "window" */
    assert_int_equal(s_has_word("two windows\n", "window"), 0);
    assert_int_equal(s_has_word("a window.\n", "window"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_sees_keys_and_comments),
        cmocka_unit_test(test_collector_example_as_shipped),
        cmocka_unit_test(test_collector_example_keys),
        cmocka_unit_test(test_collector_example_values_are_defaults),
        cmocka_unit_test(test_collector_refuses_unknown_key),
        cmocka_unit_test(test_collector_man_page_keys),
        cmocka_unit_test(test_agent_example_as_shipped),
        cmocka_unit_test(test_agent_example_keys),
        cmocka_unit_test(test_agent_example_values_are_defaults),
        cmocka_unit_test(test_agent_refuses_unknown_key),
        cmocka_unit_test(test_agent_man_page_keys),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
