/* glci-agent's own command line, the real binary (docs/AGENT.md, SPEC
 * section 5):
 *
 *   - push's options take "--name VALUE" and "--name=VALUE", each at most
 *     once, and those for one value are refused with --csv (exit 2, one
 *     line) rather than dropped;
 *   - lost output (stdout on /dev/full) is exit 1 with one line, for status
 *     in every format and for help;
 *   - so is a closed pipe (`glci-agent status | true`), not death by
 *     SIGPIPE (status 141) without a word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_options),
        cmocka_unit_test(test_lost_output_fails),
        cmocka_unit_test(test_closed_pipe_fails_with_a_line),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
