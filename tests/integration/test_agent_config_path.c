/* Which config file the real glci-agent reads when it is not told
 * (docs/AGENT.md, "The config file"): --config FILE, else
 * $GLCI_AGENT_CONFIG, else /etc/glci/agent.conf if it exists.
 *
 *   - a file named by --config or the variable must exist: every command
 *     (run, push, status, keygen) stops with exit 2 and one line naming it;
 *   - the variable's file is read by every command, --config beats it, and
 *     an empty variable means "not set";
 *   - an absent default is no error: the flags alone count.
 *
 * ctest sets GLCI_AGENT_CONFIG=/dev/null for every test, so no test reads
 * a machine's /etc/glci/agent.conf; this one sets the variable per case. The
 * case that needs the default absent skips where the file exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_testsupport.h"

#define S_DEADLINE_MS 60000   /* a bound for a slow sanitizer build, not a speed check */

static char *s_dir;
static char *s_agent;

static int s_setup(void **state)
{
    (void)state;
    s_dir = glci_ts_tmpdir("agent-config-path");
    s_agent = glci_ts_bin("agent/glci-agent");
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

/* Writes DIR/NAME.conf for an insecure agent with its own outbox and spool
 * below DIR, whose collector listens nowhere (port: a free one). */
static void s_conf(const char *name, char *path, size_t cap)
{
    char text[2048];
    snprintf(path, cap, "%s/%s.conf", s_dir, name);
    snprintf(text, sizeof text,
             "[agent]\ncity = cork-ie\ncollector = tcp://127.0.0.1:%d\ninsecure = true\n"
             "outbox = %s/%s-outbox\nspool = %s/%s-spool\n",
             glci_ts_free_port(), s_dir, name, s_dir, name);
    assert_int_equal(glci_ts_write_file(path, text), 0);
    snprintf(text, sizeof text, "%s/%s-spool", s_dir, name);
    assert_int_equal(mkdir(text, 0700), 0);
}

/* Runs glci-agent ARGS... with env (NULL-terminated) added; returns the
 * exit status and the stderr text in *err (malloc'd). */
static int s_run(const char *const *env, char **out, char **err, ...)
{
    const char *argv[16] = {s_agent};
    size_t n = 1;
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 15;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return glci_ts_run(argv, env, S_DEADLINE_MS, out, err);
}

static void s_expect_line(const char *err, const char *want)
{
    if (!err || !strstr(err, want))
        fail_msg("stderr lacks '%s':\n%s", want, err ? err : "(none)");
    const char *nl = strchr(err, '\n');
    if (!nl || nl[1] != '\0')
        fail_msg("stderr is not one line:\n%s", err);
}

static void test_explicit_config_must_exist(void **state)
{
    (void)state;
    char missing[512], want[600];
    snprintf(missing, sizeof missing, "%s/no-such.conf", s_dir);
    snprintf(want, sizeof want, "%s: cannot read the config: No such file or directory",
             missing);
    static const char *const cmds[] = {"run", "push", "status", "keygen"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *err = NULL;
        /* --config missing, whatever the variable says */
        const char *const env[] = {"GLCI_AGENT_CONFIG=/dev/null", NULL};
        assert_int_equal(s_run(env, NULL, &err, cmds[i], "--config", missing, NULL), 2);
        s_expect_line(err, want);
        free(err);
        /* the variable naming a missing file, and it says where the name came from */
        char var[600];
        snprintf(var, sizeof var, "GLCI_AGENT_CONFIG=%s", missing);
        const char *const env2[] = {var, NULL};
        err = NULL;
        assert_int_equal(s_run(env2, NULL, &err, cmds[i], NULL), 2);
        s_expect_line(err, want);
        s_expect_line(err, "(named by $GLCI_AGENT_CONFIG)");
        free(err);
    }
}

static void test_variable_names_the_config(void **state)
{
    (void)state;
    char conf[512], var[600], other[512], *out = NULL, *err = NULL;
    s_conf("env", conf, sizeof conf);
    snprintf(var, sizeof var, "GLCI_AGENT_CONFIG=%s", conf);
    const char *const env[] = {var, NULL};

    /* push and status take the outbox from the variable's file */
    assert_int_equal(s_run(env, NULL, &err, "push", "adult_learning_rate", "2025", "41", NULL),
                     0);
    free(err);
    err = NULL;
    assert_int_equal(s_run(env, &out, &err, "status", "--format", "json", NULL), 0);
    if (!out || !strstr(out, "\"observations\": 1,"))
        fail_msg("status from the variable's outbox:\n%s\n%s", out, err);
    free(out);
    free(err);
    out = err = NULL;

    /* --config beats the variable: two values into the other outbox */
    s_conf("flag", other, sizeof other);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s_run(env, NULL, &err, "push", "--config", other, "adult_learning_rate",
                               i ? "2024" : "2025", "40", NULL), 0);
        free(err);
        err = NULL;
    }
    assert_int_equal(s_run(env, &out, &err, "status", "--config", other, "--format", "json",
                           NULL), 0);
    if (!out || !strstr(out, "\"observations\": 2,"))
        fail_msg("status with --config over the variable:\n%s\n%s", out, err);
    free(out);
    free(err);
    out = err = NULL;

    /* keygen reads it too: a broken file named by the variable stops it */
    char bad[512], badvar[600], keyout[512];
    snprintf(bad, sizeof bad, "%s/bad.conf", s_dir);
    assert_int_equal(glci_ts_write_file(bad, "[agent]\nwindow = lots\n"), 0);
    snprintf(badvar, sizeof badvar, "GLCI_AGENT_CONFIG=%s", bad);
    snprintf(keyout, sizeof keyout, "%s/city.key", s_dir);
    const char *const envbad[] = {badvar, NULL};
    assert_int_equal(s_run(envbad, NULL, &err, "keygen", "--out", keyout, NULL), 2);
    s_expect_line(err, ":2: window must be an integer");
    free(err);
    err = NULL;
    assert_int_not_equal(access(keyout, F_OK), 0);

    /* run: started from the variable's file, and SIGHUP re-reads that file */
    const char *argv[] = {s_agent, "run", NULL};
    glci_ts_proc_t *p = glci_ts_proc_start(argv, env);
    if (glci_ts_proc_wait_ready(p, S_DEADLINE_MS) != 0) {
        char *log = glci_ts_proc_stderr(p);
        fail_msg("run did not get ready:\n%s", log);
    }
    char want[700];
    snprintf(want, sizeof want, "outbox %s/env-outbox", s_dir);
    assert_int_equal(glci_ts_proc_wait_log(p, want, S_DEADLINE_MS), 0);
    assert_int_equal(glci_ts_proc_signal(p, SIGHUP), 0);
    snprintf(want, sizeof want, "SIGHUP: reloading %s", conf);
    assert_int_equal(glci_ts_proc_wait_log(p, want, S_DEADLINE_MS), 0);
    assert_int_equal(glci_ts_proc_wait_log(p, "configuration reloaded", S_DEADLINE_MS), 0);
    assert_int_equal(glci_ts_proc_stop(&p, S_DEADLINE_MS), 0);
}

static void test_absent_default_is_no_error(void **state)
{
    (void)state;
    if (access(GLCI_AGENT_DEFAULT_CONFIG, F_OK) == 0) {
        fprintf(stderr, "skipped: %s exists on this machine\n", GLCI_AGENT_DEFAULT_CONFIG);
        skip();
    }
    char outbox[512], *out = NULL, *err = NULL;
    snprintf(outbox, sizeof outbox, "%s/default-outbox", s_dir);
    /* an empty variable is the same as none: the default, absent here */
    const char *const env[] = {"GLCI_AGENT_CONFIG=", NULL};
    assert_int_equal(s_run(env, NULL, &err, "push", "adult_learning_rate", "2025", "41",
                           "--outbox", outbox, NULL), 0);
    free(err);
    err = NULL;
    assert_int_equal(s_run(env, &out, &err, "status", "--outbox", outbox, "--format", "json",
                           NULL), 0);
    if (!out || !strstr(out, "\"observations\": 1,"))
        fail_msg("status without a config file:\n%s\n%s", out, err);
    free(out);
    out = NULL;
    free(err);
    err = NULL;
    /* without the flag, the setting is missing, and the message says how to give it */
    assert_int_equal(s_run(env, NULL, &err, "status", NULL), 2);
    s_expect_line(err, "outbox is not set (config key outbox, or --outbox)");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_explicit_config_must_exist, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_variable_names_the_config, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_absent_default_is_no_error, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
