/* A truncated data.mdb, or history/data.mdb (issue 20, finding 5): every glci command, the
 * collector and the agent (with a truncated outbox) exit 1 with one line
 * saying so, instead of dying of SIGBUS on the first page past the end of
 * the file. The store is the CLI tests' fixture (data in it, so the file
 * has pages to lose); each command runs on fresh copies cut at 0 bytes,
 * inside the first meta page, after it, after both meta pages, and in the
 * middle of the data. */
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

#include "glci_testsupport.h"
#include "test_cli_support.h"

static char s_dir[256];
static char s_store[300];
static char s_pubkey[64];

/* Every command of glci --help with arguments that would succeed on the
 * intact store ("@" is replaced by a fresh path in the test's folder). */
typedef struct {
    const char *name;            /* as glci --help lists it */
    const char *args[12];
} s_cmd_t;

static const s_cmd_t s_cmds[] = {
    {"init", {"init", "--framework", "@fw", NULL}},
    {"collector-key", {"collector-key", NULL}},
    {"city add", {"city", "add", "newcity", "--name", "New", "--country", "IE", "--key-out",
                  "@key", NULL}},
    {"city list", {"city", "list", NULL}},
    {"city show", {"city", "show", "alpha", NULL}},
    {"city revoke", {"city", "revoke", "alpha", NULL}},
    {"city reinstate", {"city", "reinstate", "alpha", NULL}},
    {"city invite", {"city", "invite", "alpha", NULL}},
    {"city invites", {"city", "invites", NULL}},
    {"keys refused", {"keys", "refused", NULL}},
    {"city key-add", {"city", "key-add", "alpha", "--key-out", "@key", NULL}},
    {"city key-remove", {"city", "key-remove", "alpha", "--public-key", "@pub", NULL}},
    {"rank", {"rank", NULL}},
    {"show", {"show", "alpha", NULL}},
    {"history", {"history", "alpha", "i1", NULL}},
    {"export", {"export", "--format", "csv", NULL}},
    {"status", {"status", NULL}},
    {"rejects", {"rejects", NULL}},
    {"verify", {"verify", NULL}},
    {"backup", {"backup", "@backup", NULL}},
    {"framework", {"framework", NULL}},
    {"trend", {"trend", "alpha", NULL}},
    {"peers", {"peers", "alpha", NULL}},
    {"sensitivity", {"sensitivity", "--samples", "10", NULL}},
    {"report", {"report", "--out", "@report", NULL}},
    {"template", {"template", "--format", "csv", "--out", "@template.csv", NULL}},
    {"export xlsx", {"export", "--format", "xlsx", "--out", "@export.xlsx", NULL}},
    {"missing", {"missing", "--period", "2025", NULL}},
    {"retract", {"retract", "alpha", "i1", "2025", "--reason", "entered twice", NULL}},
    {"correct", {"correct", "alpha", "i1", "2025", "75", "--reason", "typo", NULL}},
    {"edition publish", {"edition", "publish", "e2025", "--period", "2025", NULL}},
    {"edition list", {"edition", "list", NULL}},
    {"edition diff", {"edition", "diff", "first", "second", NULL}},
};
#define S_N_CMDS (sizeof s_cmds / sizeof s_cmds[0])

static int s_setup(void **state)
{
    (void)state;
    cli_tmpdir(s_dir, sizeof s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    glci_store_t *st = cli_store_create(s_store, cli_tiny_framework(s_dir), 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    /* a key of alpha's, for key-remove */
    cli_out_t o;
    char key[400];
    snprintf(key, sizeof key, "%s/alpha2.key", s_dir);
    /* it prints the new public key on stdout */
    if (cli_run(&o, "--store", s_store, "city", "key-add", "alpha", "--key-out", key, NULL) ||
        strlen(o.out) < 40)
        return -1;
    snprintf(s_pubkey, sizeof s_pubkey, "%.40s", o.out);
    cli_out_release(&o);
    /* two editions, for edition diff */
    static const char *const editions[] = {"first", "second"};
    for (size_t i = 0; i < 2; i++) {
        if (cli_run(&o, "--store", s_store, "edition", "publish", editions[i], "--period",
                    "2025", NULL))
            return -1;
        cli_out_release(&o);
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    cli_rmdir(s_dir);
    return 0;
}

/* A copy of the store with file (data.mdb, or history/data.mdb: the
 * history file of schema 7) cut to `size` bytes (or to half its size when
 * size is -1). Returns the copy's path (static). */
static const char *s_cut_file_copy(const char *file, long size)
{
    static char copy[400];
    static unsigned n;
    char cmd[1000];
    snprintf(copy, sizeof copy, "%s/cut-%u", s_dir, n++);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", s_store, copy);
    assert_int_equal(system(cmd), 0);
    char data[450];
    snprintf(data, sizeof data, "%s/%s", copy, file);
    struct stat sb;
    assert_int_equal(stat(data, &sb), 0);
    if (size < 0)
        size = (long)(sb.st_size / 2);
    assert_true(size < sb.st_size);
    assert_int_equal(truncate(data, size), 0);
    return copy;
}

static const char *s_cut_copy(long size)
{
    return s_cut_file_copy("data.mdb", size);
}

/* Runs argv (with "@..." made fresh paths) on store; returns the result. */
static void s_run(const char *store, const char *const *args, cli_out_t *o)
{
    static unsigned n;
    const char *argv[16];
    char paths[12][500];
    size_t k = 0;
    argv[k++] = "--store";
    argv[k++] = store;
    for (size_t i = 0; args[i]; i++) {
        if (args[i][0] == '@' && strcmp(args[i], "@pub") == 0) {
            argv[k++] = s_pubkey;
        } else if (args[i][0] == '@' && strcmp(args[i], "@fw") == 0) {
            argv[k++] = cli_tiny_framework(s_dir);
        } else if (args[i][0] == '@') {
            snprintf(paths[i], sizeof paths[i], "%s/out-%u-%s", s_dir, n++, args[i] + 1);
            argv[k++] = paths[i];
        } else {
            argv[k++] = args[i];
        }
    }
    argv[k] = NULL;
    cli_runv(o, argv);
}

/* One line on stderr, ending the text. */
static int s_one_line(const char *text)
{
    const char *nl = strchr(text, '\n');
    return nl && nl[1] == '\0';
}

static void test_every_command_on_a_truncated_store(void **state)
{
    (void)state;
    /* 0 bytes; inside the first meta page; one page; both meta pages (the
     * data pages gone); half the file */
    static const long sizes[] = {0, 100, 4096, 8192, -1};
    static const char *const files[] = {"data.mdb", "history/data.mdb"};
    for (size_t s = 0; s < 2 * sizeof sizes / sizeof sizes[0]; s++) {
        const char *file = files[s / (sizeof sizes / sizeof sizes[0])];
        long size = sizes[s % (sizeof sizes / sizeof sizes[0])];
        const char *store = s_cut_file_copy(file, size);
        for (size_t c = 0; c < S_N_CMDS; c++) {
            cli_out_t o;
            s_run(store, s_cmds[c].args, &o);
            if (o.status != 1 || !s_one_line(o.err) || strncmp(o.err, "glci", 4) != 0)
                fail_msg("glci %s on %s cut at %ld bytes: exit %d, stderr:\n%s",
                         s_cmds[c].name, file, size, o.status, o.err);
            /* the line says what is wrong, not only that something is */
            if (strcmp(s_cmds[c].name, "init") == 0)
                assert_non_null(strstr(o.err, "already exists"));
            else if (!strstr(o.err, "truncated"))
                fail_msg("glci %s: the line does not say the store is truncated: %s",
                         s_cmds[c].name, o.err);
            cli_out_release(&o);
        }
    }
}

/* Commands glci --help lists that the table above lacks (added later) are
 * still run on a truncated store: whatever their arguments mean, none may
 * die of a signal or print more than one line. */
static void test_commands_not_in_the_table_do_not_crash(void **state)
{
    (void)state;
    cli_out_t help;
    assert_int_equal(cli_run(&help, "--help", NULL), 0);
    const char *store = s_cut_copy(8192);
    const char *p = strstr(help.out, "Commands:\n");
    assert_non_null(p);
    p += strlen("Commands:\n");
    size_t unknown = 0;
    while (*p == ' ') {
        /* "  NAME[ SUB]   summary": the name ends at two blanks */
        while (*p == ' ')
            p++;
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        int known = 0;
        for (size_t c = 0; c < S_N_CMDS; c++) {
            size_t n = strlen(s_cmds[c].name);
            known |= strncmp(p, s_cmds[c].name, n) == 0 && p[n] == ' ';
        }
        /* a new command: its name, and its subcommand in a family ("city x") */
        char word[2][32] = {"", ""}, name[70];
        sscanf(p, "%31s %31s", word[0], word[1]);
        if (strcmp(word[0], "city") != 0 && strcmp(word[0], "keys") != 0 &&
            strcmp(word[0], "edition") != 0)
            word[1][0] = '\0';
        snprintf(name, sizeof name, "%s%s%s", word[0], word[1][0] ? " " : "", word[1]);
        if (!known) {
            unknown++;
            static const char *const tries[][3] = {{NULL}, {"alpha", NULL},
                                                   {"alpha", "i1", NULL}};
            for (size_t t = 0; t < 3; t++) {
                const char *args[8];
                size_t k = 0;
                args[k++] = word[0];
                if (word[1][0])
                    args[k++] = word[1];
                for (size_t j = 0; tries[t][j]; j++)
                    args[k++] = tries[t][j];
                args[k] = NULL;
                cli_out_t o;
                s_run(store, args, &o);
                /* a runtime failure is one line; a usage error (exit 2) may
                 * add the usage line; never a signal */
                if (o.status > 2 || o.status < 0 || (o.status == 1 && !s_one_line(o.err)))
                    fail_msg("glci %s on a truncated store: exit %d, stderr:\n%s", name,
                             o.status, o.err);
                cli_out_release(&o);
            }
        }
        p = eol + 1;
    }
    print_message("# %zu command(s) of glci --help checked only for not crashing\n", unknown);
    cli_out_release(&help);
}

static void test_collector_on_a_truncated_store(void **state)
{
    (void)state;
    const char *store = s_cut_copy(-1);
    char *bin = glci_ts_bin("collector/glci-collector");
    char listen[64];
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", glci_ts_free_port());
    const char *argv[] = {bin, "--store", store, "--listen", listen, NULL};
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, 60000, NULL, &err);
    if (rc != 1 || !strstr(err, "truncated"))
        fail_msg("glci-collector on a truncated store: exit %d, stderr:\n%s", rc, err);
    free(err);
    free(bin);
}

static void test_agent_on_a_truncated_outbox(void **state)
{
    (void)state;
    char *bin = glci_ts_bin("agent/glci-agent");
    char outbox[400], spool[400], endpoint[64];
    snprintf(outbox, sizeof outbox, "%s/outbox", s_dir);
    snprintf(spool, sizeof spool, "%s/spool", s_dir);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", glci_ts_free_port());
    const char *common[] = {"--config", "/dev/null", "--city", "alpha", "--collector", endpoint,
                            "--insecure", "--outbox", outbox, "--spool", spool};
    const size_t nc = sizeof common / sizeof common[0];
    /* an outbox with undelivered values in it */
    const char *push[20] = {bin, "push", "i1", "2025", "50"};
    memcpy(push + 5, common, sizeof common);
    assert_int_equal(glci_ts_run(push, NULL, 60000, NULL, NULL), 0);
    assert_int_equal(glci_ts_run(push, NULL, 60000, NULL, NULL), 0);
    char data[450];
    snprintf(data, sizeof data, "%s/data.mdb", outbox);
    struct stat sb;
    assert_int_equal(stat(data, &sb), 0);
    assert_int_equal(truncate(data, sb.st_size / 2), 0);

    static const char *const cmds[][4] = {{"status", NULL}, {"push", "i1", "2025", "51"},
                                          {"run", NULL}};
    for (size_t c = 0; c < 3; c++) {
        const char *argv[24];
        size_t k = 0;
        argv[k++] = bin;
        for (size_t j = 0; j < 4 && cmds[c][j]; j++)
            argv[k++] = cmds[c][j];
        for (size_t j = 0; j < nc; j++)
            argv[k++] = common[j];
        argv[k] = NULL;
        char *out = NULL, *err = NULL;
        int rc = glci_ts_run(argv, NULL, 60000, &out, &err);
        if (rc != 1 || !strstr(err, "truncated"))
            fail_msg("glci-agent %s on a truncated outbox: exit %d, stderr:\n%s", cmds[c][0],
                     rc, err);
        /* status and push print one line; run logs one error line */
        if (c < 2 && !s_one_line(err))
            fail_msg("glci-agent %s: more than one line:\n%s", cmds[c][0], err);
        free(out);
        free(err);
    }
    /* the file was refused, never rewritten as a new outbox */
    struct stat after;
    assert_int_equal(stat(data, &after), 0);
    assert_int_equal(after.st_size, sb.st_size / 2);
    free(bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command_on_a_truncated_store),
        cmocka_unit_test(test_commands_not_in_the_table_do_not_crash),
        cmocka_unit_test(test_collector_on_a_truncated_store),
        cmocka_unit_test(test_agent_on_a_truncated_outbox),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
