/* Files and values an operator or a city office gets wrong, given to the
 * real programs (issue 20, findings 10 and 11): a FIFO, a folder or
 * /dev/zero as key file (a FIFO hung the agent with SIGTERM blocked, and
 * the collector), a config file that gives a key twice (last-wins before),
 * 1e-310 as a value (called "not a number"), a source with a right-to-left
 * override (accepted); a FIFO, /dev/zero or a 65 MiB file as the framework
 * of glci init (read for ever, or whole). Every program answers at once
 * with one line. */
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

#include "glci_keyfile.h"
#include "glci_testsupport.h"

static char *s_dir, *s_agent, *s_collector;
static char s_fifo[512], s_folder[512], s_outbox[512], s_spool[512], s_endpoint[64];
static glci_key_t s_server;

static int s_setup(void **state)
{
    (void)state;
    char err[256];
    glci_key_t sec;
    s_dir = glci_ts_tmpdir("hostile-files");
    s_agent = glci_ts_bin("agent/glci-agent");
    s_collector = glci_ts_bin("collector/glci-collector");
    snprintf(s_fifo, sizeof s_fifo, "%s/key.fifo", s_dir);
    snprintf(s_folder, sizeof s_folder, "%s/key.d", s_dir);
    snprintf(s_outbox, sizeof s_outbox, "%s/outbox", s_dir);
    snprintf(s_spool, sizeof s_spool, "%s/spool", s_dir);
    snprintf(s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", glci_ts_free_port());
    if (mkfifo(s_fifo, 0600) != 0 || mkdir(s_folder, 0700) != 0 ||
        glci_key_generate(&s_server, &sec, err, sizeof err) != 0)
        return -1;
    /* a store for the collector, which reads its key after opening it */
    char store[600];
    snprintf(store, sizeof store, "%s/store", s_dir);
    char *glci = glci_ts_bin("cli/glci");
    const char *init[] = {glci, "--store", store, "init", "--framework", glci_ts_framework(),
                          NULL};
    int rc = glci_ts_run(init, NULL, 60000, NULL, NULL);
    free(glci);
    return rc == 0 ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    glci_ts_rmtree(s_dir);
    free(s_dir);
    free(s_agent);
    free(s_collector);
    return 0;
}

/* Runs argv; a program that hangs is killed after 20 s (status 137). */
static int s_run(const char *const *argv, char **err)
{
    return glci_ts_run(argv, NULL, 20000, NULL, err);
}

static int s_one_line(const char *text)
{
    const char *nl = strchr(text, '\n');
    return nl && nl[1] == '\0';
}

static void test_key_files_that_are_not_files(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *says;
    } kinds[] = {{"fifo", "is a FIFO, not a regular file"},
                 {"folder", "is a folder, not a regular file"},
                 {"/dev/zero", "is a character device, not a regular file"}};
    for (size_t k = 0; k < 3; k++) {
        const char *key = k == 0 ? s_fifo : k == 1 ? s_folder : "/dev/zero";
        const char *agent[] = {s_agent, "run", "--config", "/dev/null", "--city", "alpha",
                               "--collector", s_endpoint, "--collector-key", s_server.z85,
                               "--key-file", key, "--outbox", s_outbox, "--spool", s_spool,
                               NULL};
        char *err = NULL;
        int rc = s_run(agent, &err);
        if ((rc != 1 && rc != 2) || !strstr(err, kinds[k].says))
            fail_msg("glci-agent run with a %s as key file: exit %d, stderr:\n%s",
                     kinds[k].what, rc, err);
        free(err);
        char store[600];
        snprintf(store, sizeof store, "%s/store", s_dir);
        const char *coll[] = {s_collector, "--store", store, "--listen", s_endpoint,
                              "--key-file", key, NULL};
        err = NULL;
        rc = s_run(coll, &err);
        if (rc != 1 || !strstr(err, kinds[k].says))
            fail_msg("glci-collector with a %s as key file: exit %d, stderr:\n%s",
                     kinds[k].what, rc, err);
        free(err);
    }
}

/* glci init --framework with a FIFO, /dev/zero (read for ever before) or
 * a file over 64 MiB (read whole): exit 1 at once, one line, no store. */
static void test_framework_files_that_are_not_frameworks(void **state)
{
    (void)state;
    char big[600], store[600], data[700];
    snprintf(big, sizeof big, "%s/big.ini", s_dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)65 << 20), 0);   /* sparse */
    fclose(f);
    snprintf(store, sizeof store, "%s/never", s_dir);
    snprintf(data, sizeof data, "%s/data.mdb", store);
    char *glci = glci_ts_bin("cli/glci");
    const struct {
        const char *path;
        const char *says;
    } files[] = {{s_fifo, "key.fifo: is a FIFO, not a regular file"},
                 {"/dev/zero", "/dev/zero: is a character device, not a regular file"},
                 {s_folder, "key.d: is a folder, not a regular file"},
                 {big, "big.ini: 68157440 bytes, larger than a framework file can be "
                       "(67108864)"}};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        const char *init[] = {glci, "--store", store, "init", "--framework", files[k].path,
                              NULL};
        char *err = NULL;
        int rc = s_run(init, &err);
        if (rc != 1 || !strstr(err, files[k].says) || !s_one_line(err))
            fail_msg("glci init --framework %s: exit %d, stderr:\n%s", files[k].path, rc, err);
        free(err);
        assert_int_not_equal(access(data, F_OK), 0);
    }
    unlink(big);
    free(glci);
}

static void test_config_keys_given_twice(void **state)
{
    (void)state;
    char conf[600], want[700];
    snprintf(conf, sizeof conf, "%s/agent.conf", s_dir);
    assert_int_equal(glci_ts_write_file(conf, "[agent]\nbatch_max = 5\nwindow = 2\n"
                                              "batch_max = 500\n"), 0);
    const char *agent[] = {s_agent, "status", "--config", conf, "--outbox", s_outbox, NULL};
    char *err = NULL;
    int rc = s_run(agent, &err);
    snprintf(want, sizeof want, "%s:4: 'batch_max' is given twice in [agent]", conf);
    if (rc != 2 || !strstr(err, want) || !s_one_line(err))
        fail_msg("glci-agent with a key given twice: exit %d, stderr:\n%s", rc, err);
    free(err);

    snprintf(conf, sizeof conf, "%s/collector.conf", s_dir);
    assert_int_equal(glci_ts_write_file(conf, "[collector]\nstore = /nonexistent\n"
                                              "group_max = 4\ngroup_max = 400\n"), 0);
    const char *coll[] = {s_collector, "--config", conf, NULL};
    err = NULL;
    rc = s_run(coll, &err);
    snprintf(want, sizeof want, "%s:4: 'group_max' is given twice in [collector]", conf);
    if (rc != 2 || !strstr(err, want) || !s_one_line(err))
        fail_msg("glci-collector with a key given twice: exit %d, stderr:\n%s", rc, err);
    free(err);
}

static void test_values_at_the_edges(void **state)
{
    (void)state;
    const char *base[] = {"--config", "/dev/null", "--city", "alpha", "--collector",
                          "tcp://127.0.0.1:9", "--insecure", "--outbox", s_outbox,
                          "--spool", s_spool};
    /* 1e-310 is a number (a subnormal double) */
    const char *sub[20] = {s_agent, "push", "adult_learning_rate", "2024", "1e-310"};
    memcpy(sub + 5, base, sizeof base);
    char *err = NULL;
    int rc = s_run(sub, &err);
    if (rc != 0)
        fail_msg("push 1e-310: exit %d, stderr:\n%s", rc, err);
    free(err);
    /* a right-to-left override in a source is refused, with what it is */
    const char *bidi[24] = {s_agent, "push", "adult_learning_rate", "2024", "5", "--source",
                            "census \xE2\x80\xAE" "fdp.exe"};
    memcpy(bidi + 7, base, sizeof base);
    err = NULL;
    rc = s_run(bidi, &err);
    if (rc != 2 || !strstr(err, "bidirectional control character"))
        fail_msg("push with an override in the source: exit %d, stderr:\n%s", rc, err);
    free(err);
    /* an observed_at no real observation has */
    const char *when[24] = {s_agent, "push", "adult_learning_rate", "2024", "5",
                            "--observed-at", "1960-01-01"};
    memcpy(when + 7, base, sizeof base);
    err = NULL;
    rc = s_run(when, &err);
    if (rc != 2 || !strstr(err, "observed_at is outside 1970-01-01 to 2199-12-31"))
        fail_msg("push observed at 1960: exit %d, stderr:\n%s", rc, err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_files_that_are_not_files),
        cmocka_unit_test(test_framework_files_that_are_not_frameworks),
        cmocka_unit_test(test_config_keys_given_twice),
        cmocka_unit_test(test_values_at_the_edges),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
