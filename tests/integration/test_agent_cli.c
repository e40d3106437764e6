/* glci-agent's own command line, the real binary (docs/AGENT.md, SPEC
 * section 5):
 *
 *   - push's options take "--name VALUE" and "--name=VALUE", each at most
 *     once, and those for one value are refused with --csv (exit 2, one
 *     line) rather than dropped, and a bad --source of any length is
 *     exit 2 naming it;
 *   - lost output (stdout on /dev/full) is exit 1 with one line, for status
 *     in every format and for help;
 *   - so is a closed pipe (`glci-agent status | true`), not death by
 *     SIGPIPE (status 141) without a word;
 *   - enrol refuses a crafted enrolment string whose city id or host is not
 *     valid (a line break in the city would add a setting to the config it
 *     writes), and a key file path that no config line can hold: exit 2,
 *     one line, before any network use, nothing written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_forge.h"
#include "glci_testsupport.h"

#define S_DEADLINE_MS 60000   /* a bound for a slow sanitizer build, not a speed check */

static char *s_dir;
static char *s_agent;
static char s_conf[512];

static int s_setup(void **state)
{
    (void)state;
    s_dir = glci_ts_tmpdir("agent-cli");
    s_agent = glci_ts_bin("agent/glci-agent");
    char text[2048], spool[600];
    snprintf(s_conf, sizeof s_conf, "%s/agent.conf", s_dir);
    snprintf(spool, sizeof spool, "%s/spool", s_dir);
    snprintf(text, sizeof text,
             "[agent]\ncity = cork-ie\ncollector = tcp://127.0.0.1:%d\ninsecure = true\n"
             "outbox = %s/outbox\nspool = %s\n", glci_ts_free_port(), s_dir, spool);
    assert_int_equal(glci_ts_write_file(s_conf, text), 0);
    assert_int_equal(mkdir(spool, 0700), 0);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    glci_ts_rmtree(s_dir);
    free(s_dir);
    free(s_agent);
    s_dir = s_agent = NULL;
    return 0;
}

/* Runs glci-agent --config CONF ARGS... (NULL-terminated); with full, its
 * stdout goes to /dev/full. Returns the exit status, stdout and stderr in
 * *out / *err (malloc'd; may be NULL). */
static int s_run(int full, char **out, char **err, ...)
{
    const char *argv[24];
    size_t n = 0;
    if (full) {
        argv[n++] = "/bin/sh";
        argv[n++] = "-c";
        argv[n++] = "exec \"$0\" \"$@\" >/dev/full";
    }
    argv[n++] = s_agent;
    argv[n++] = "--config";
    argv[n++] = s_conf;
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 23;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return glci_ts_run(argv, NULL, S_DEADLINE_MS, out, err);
}

/* Asserts stderr is exactly want and a newline. */
static void s_expect_err(char *err, const char *want)
{
    char line[1024];
    snprintf(line, sizeof line, "%s\n", want);
    if (!err || strcmp(err, line) != 0)
        fail_msg("stderr is not '%s':\n%s", want, err ? err : "(none)");
    free(err);
}

static void test_push_options(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL, csv[600], arg[700];
    snprintf(csv, sizeof csv, "%s/values.csv", s_dir);
    assert_int_equal(glci_ts_write_file(csv, "indicator,period,value\r\n"
                                             "adult_learning_rate,2025,41\r\n"), 0);

    /* --name=VALUE as --name VALUE */
    assert_int_equal(s_run(0, NULL, &err, "push", "adult_learning_rate", "2025", "41",
                           "--observed-at=2025-06-30", "--source=survey", NULL), 0);
    free(err);
    snprintf(arg, sizeof arg, "--csv=%s", csv);
    assert_int_equal(s_run(0, NULL, &err, "push", arg, NULL), 0);
    free(err);
    assert_int_equal(s_run(0, &out, &err, "status", "--format", "json", NULL), 0);
    if (!out || !strstr(out, "\"observations\": 2,"))
        fail_msg("two values queued:\n%s\n%s", out, err);
    free(out);
    free(err);

    /* a repeat is refused, not the last one kept */
    assert_int_equal(s_run(0, NULL, &err, "push", "adult_learning_rate", "2025", "41",
                           "--source", "x", "--source=y", NULL), 2);
    s_expect_err(err, "glci-agent push: --source given twice (see glci-agent push --help)");
    assert_int_equal(s_run(0, NULL, &err, "push", "--csv", csv, "--csv", csv, NULL), 2);
    s_expect_err(err, "glci-agent push: --csv given twice (see glci-agent push --help)");

    /* options for one value do not apply to a file's rows */
    assert_int_equal(s_run(0, NULL, &err, "push", "--csv", csv, "--source", "x", NULL), 2);
    s_expect_err(err, "glci-agent push: --source does not apply with --csv (give the column "
                      "in the file) (see glci-agent push --help)");
    assert_int_equal(s_run(0, NULL, &err, "push", "--observed-at=2025-06-30", "--csv", csv,
                           NULL), 2);
    s_expect_err(err, "glci-agent push: --observed-at does not apply with --csv (give the "
                      "column in the file) (see glci-agent push --help)");

    /* still refused: an unknown option, a missing value */
    assert_int_equal(s_run(0, NULL, &err, "push", "--sourcex=1", NULL), 2);
    s_expect_err(err, "glci-agent push: unknown option '--sourcex=1' (see glci-agent push "
                      "--help)");
    assert_int_equal(s_run(0, NULL, &err, "push", "adult_learning_rate", "2025", "41",
                           "--source", NULL), 2);
    s_expect_err(err, "glci-agent push: --source needs a value (see glci-agent push --help)");

    /* a bad --source is exit 2 naming it, however long (never dropped to
     * fit the row the value is checked as) */
    char *big = malloc(3001);
    assert_non_null(big);
    memset(big, 's', 3000);
    big[3000] = '\0';
    assert_int_equal(s_run(0, NULL, &err, "push", "adult_learning_rate", "2025", "41",
                           "--source", big, NULL), 2);
    s_expect_err(err, "glci-agent push: source is 3000 bytes, at most 200 bytes (see "
                      "glci-agent push --help)");
    free(big);
    assert_int_equal(s_run(0, NULL, &err, "push", "adult_learning_rate", "2025", "41",
                           "--source", "a\nb", NULL), 2);
    s_expect_err(err, "glci-agent push: source contains a control character (see glci-agent "
                      "push --help)");

    /* nothing more was queued */
    assert_int_equal(s_run(0, &out, &err, "status", "--format", "json", NULL), 0);
    assert_non_null(strstr(out, "\"observations\": 2,"));
    free(out);
    free(err);
}

static void test_lost_output_fails(void **state)
{
    (void)state;
    char *err = NULL;
    static const char *const formats[] = {"table", "json", "csv"};
    for (size_t f = 0; f < 3; f++) {
        assert_int_equal(s_run(1, NULL, &err, "status", "--format", formats[f], NULL), 1);
        s_expect_err(err, "glci-agent status: cannot write the output: No space left on "
                          "device");
    }
    assert_int_equal(s_run(1, NULL, &err, "push", "--help", NULL), 1);
    s_expect_err(err, "glci-agent push: cannot write the output: No space left on device");
}

/* The field of header name in a CSV text of a header and one row (no
 * quoted commas in either), into out. */
static void s_csv_field_of(const char *csv, const char *name, char *out, size_t len)
{
    const char *row = strchr(csv, '\n');
    assert_non_null(row);
    row++;
    size_t col = 0, nlen = strlen(name);
    const char *h = csv;
    for (; h < row; col++) {
        size_t w = strcspn(h, ",\r\n");
        if (w == nlen && strncmp(h, name, nlen) == 0)
            break;
        h += w + 1;
    }
    assert_true(h < row);
    const char *f = row;
    for (size_t i = 0; i < col; i++)
        f += strcspn(f, ",\r\n") + 1;
    size_t w = strcspn(f, ",\r\n");
    snprintf(out, len, "%.*s", (int)w, f);
}

/* What JSON gives as null, CSV gives as an empty field (docs/CLI.md):
 * oldest_age_s of an outbox with nothing undelivered is empty, not 0, and
 * so is every other field whose JSON key is null. */
static void test_status_csv_absent_is_empty(void **state)
{
    (void)state;
    char outbox[600], *js = NULL, *csv = NULL, *err = NULL, field[256];
    snprintf(outbox, sizeof outbox, "%s/fresh-outbox", s_dir);
    /* an outbox that exists and holds nothing: made by a push of no rows */
    char hdr[600];
    snprintf(hdr, sizeof hdr, "%s/header-only.csv", s_dir);
    assert_int_equal(glci_ts_write_file(hdr, "indicator,period,value\n"), 0);
    assert_int_equal(s_run(0, NULL, &err, "--outbox", outbox, "push", "--csv", hdr, NULL), 0);
    free(err);
    assert_int_equal(s_run(0, &js, &err, "status", "--outbox", outbox, "--format", "json",
                           NULL), 0);
    free(err);
    assert_int_equal(s_run(0, &csv, &err, "status", "--outbox", outbox, "--format", "csv",
                           NULL), 0);
    free(err);
    assert_non_null(strstr(js, "\"oldest_age_s\": null"));
    s_csv_field_of(csv, "oldest_age_s", field, sizeof field);
    assert_string_equal(field, "");
    size_t hlen = strcspn(csv, "\r\n");
    for (const char *h = csv; h < csv + hlen;) {
        size_t w = strcspn(h, ",\r\n");
        char name[64], key[80];
        snprintf(name, sizeof name, "%.*s", (int)w, h);
        snprintf(key, sizeof key, "\"%s\": null", name);
        if (strstr(js, key)) {
            s_csv_field_of(csv, name, field, sizeof field);
            if (field[0])
                fail_msg("%s is null in JSON but '%s' in CSV:\n%s", name, field, csv);
        }
        h += w + 1;
    }
    free(js);
    free(csv);
}

/* push --csv - reads standard input, as enrol - does; a header and no
 * rows queues nothing and is no error. */
static void test_push_csv_stdin_and_header_only(void **state)
{
    (void)state;
    char csv[600], outbox[600], script[2048], *out = NULL, *err = NULL;
    snprintf(csv, sizeof csv, "%s/stdin.csv", s_dir);
    snprintf(outbox, sizeof outbox, "%s/stdin-outbox", s_dir);
    assert_int_equal(glci_ts_write_file(csv, "indicator,period,value\n"
                                             "adult_learning_rate,2025,41\n"
                                             "adult_learning_rate,2024,40\n"), 0);
    snprintf(script, sizeof script, "exec \"$0\" --config '%s' --outbox '%s' push --csv - "
             "< '%s'", s_conf, outbox, csv);
    const char *argv[] = {"/bin/sh", "-c", script, s_agent, NULL};
    assert_int_equal(glci_ts_run(argv, NULL, S_DEADLINE_MS, NULL, &err), 0);
    s_expect_err(err, "glci-agent push: queued 2 values as batch 1");
    assert_int_equal(s_run(0, &out, &err, "status", "--outbox", outbox, "--format", "json",
                           NULL), 0);
    assert_non_null(strstr(out, "\"observations\": 2,"));
    free(out);
    free(err);
    /* a bad row from stdin is named as stdin's */
    assert_int_equal(glci_ts_write_file(csv, "indicator,period,value\nx,20x,1\n"), 0);
    assert_int_equal(glci_ts_run(argv, NULL, S_DEADLINE_MS, NULL, &err), 1);
    s_expect_err(err, "glci-agent push: stdin: 1 bad line, nothing queued: line 2: period "
                      "'20x' is not an integer year");

    /* more bad lines than the one line holds: whole reasons, then a count
     * of the rest, never a reason cut short */
    {
        char many[8192];
        size_t used = (size_t)snprintf(many, sizeof many, "indicator,period,value\n");
        for (int i = 0; i < 60; i++)
            used += (size_t)snprintf(many + used, sizeof many - used,
                                     "adult_learning_rate,20x%02d,1\n", i);
        assert_int_equal(glci_ts_write_file(csv, many), 0);
        assert_int_equal(glci_ts_run(argv, NULL, S_DEADLINE_MS, NULL, &err), 1);
        assert_non_null(strstr(err, "glci-agent push: stdin: 60 bad lines, nothing queued: "
                                    "line 2: period '20x00' is not an integer year; "));
        const char *more = strstr(err, " more not listed\n");
        if (!more || strchr(err, '\n') != more + strlen(" more not listed"))
            fail_msg("no count of the bad lines not listed at the end of one line: %s", err);
        const char *and = strstr(err, "; and ");
        assert_non_null(and);
        /* the last listed reason is whole: it ends "is not an integer year" */
        assert_true(and - err > 22);
        assert_memory_equal(and - 22, "is not an integer year", 22);
        int listed = 0;
        for (const char *p = err; (p = strstr(p, "line ")) != NULL; p++)
            listed++;
        assert_int_equal(strtol(and + 6, NULL, 10), 60 - listed);
        free(err);
    }

    /* a header and no rows: exit 0, 0 values queued */
    assert_int_equal(glci_ts_write_file(csv, "indicator,period,value\n"), 0);
    assert_int_equal(s_run(0, NULL, &err, "--outbox", outbox, "push", "--csv", csv, NULL), 0);
    char want[800];
    snprintf(want, sizeof want, "glci-agent push: %s: a header and no rows: 0 values queued",
             csv);
    s_expect_err(err, want);
    assert_int_equal(s_run(0, &out, &err, "status", "--outbox", outbox, "--format", "json",
                           NULL), 0);
    assert_non_null(strstr(out, "\"observations\": 2,"));
    free(out);
    free(err);
}

static void test_closed_pipe_fails_with_a_line(void **state)
{
    (void)state;
    char *err = NULL;
    static const char *const formats[] = {"table", "json", "csv"};
    for (size_t f = 0; f < 3; f++) {
        const char *argv[] = {s_agent, "--config", s_conf, "status", "--format", formats[f],
                              NULL};
        assert_int_equal(glci_ts_run_closed_pipe(argv, &err), 1);
        s_expect_err(err, "glci-agent status: cannot write the output: Broken pipe");
    }
}

/* glci-agent --config /dev/null enrol TEXT --config-out DIR/enrol.conf
 * --key-file KEY (CURVE on: the agent config of the other tests is
 * insecure, which enrol refuses anyway). */
static int s_enrol(const char *text, const char *key, char **err)
{
    char conf[600];
    snprintf(conf, sizeof conf, "%s/enrol.conf", s_dir);
    const char *argv[] = {s_agent, "--config", "/dev/null", "enrol", text, "--config-out",
                          conf, "--key-file", key, "--timeout", "2", NULL};
    int rc = glci_ts_run(argv, NULL, S_DEADLINE_MS, NULL, err);
    if (rc != 2)
        fail_msg("enrol exited %d, not 2: %s", rc, *err ? *err : "");
    return rc;
}

static void s_nothing_written(const char *key)
{
    char path[700];
    snprintf(path, sizeof path, "%s/enrol.conf", s_dir);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_not_equal(access(key, F_OK), 0);
    snprintf(path, sizeof path, "%s.pub", key);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_enrol_crafted_string(void **state)
{
    (void)state;
    char text[1024], key[600], *err = NULL;
    snprintf(key, sizeof key, "%s/enrol.key", s_dir);
    glci_forge_enrol("127.0.0.1", "cork-ie\nmetrics_file = /tmp/pwn", text, sizeof text);
    assert_int_equal(s_enrol(text, key, &err), 2);
    s_expect_err(err, "glci-agent enrol: enrolment string names no valid city id "
                 "([a-z0-9][a-z0-9._-]*, at most 63 characters): forged or damaged (see "
                 "glci-agent enrol --help)");
    s_nothing_written(key);
    glci_forge_enrol("127.0.0.1", "CORK-IE", text, sizeof text);
    assert_int_equal(s_enrol(text, key, &err), 2);
    assert_non_null(strstr(err, "no valid city id"));
    free(err);
    s_nothing_written(key);
    glci_forge_enrol("127.0.0.1:31163", "cork-ie", text, sizeof text);
    assert_int_equal(s_enrol(text, key, &err), 2);
    s_expect_err(err, "glci-agent enrol: enrolment string names no usable collector: host "
                 "'127.0.0.1:31163' is not a DNS name, a dotted IPv4 address or a bracketed "
                 "IPv6 one: it holds a port: give the host alone (the ports come from the "
                 "collector) (see glci-agent enrol --help)");
    s_nothing_written(key);

    /* the config writer's own guard: a path with a line break */
    char bad_key[600];
    snprintf(bad_key, sizeof bad_key, "%s/k\nmetrics_file = /tmp/pwn", s_dir);
    glci_forge_enrol("127.0.0.1", "cork-ie", text, sizeof text);
    assert_int_equal(s_enrol(text, bad_key, &err), 2);
    s_expect_err(err, "glci-agent enrol: key_file: its value holds a control character, which "
                 "a config line cannot hold (see glci-agent enrol --help)");
    s_nothing_written(bad_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_options),
        cmocka_unit_test(test_lost_output_fails),
        cmocka_unit_test(test_status_csv_absent_is_empty),
        cmocka_unit_test(test_push_csv_stdin_and_header_only),
        cmocka_unit_test(test_closed_pipe_fails_with_a_line),
        cmocka_unit_test(test_enrol_crafted_string),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
