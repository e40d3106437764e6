/* The real glci where the world is not as it expects (a robustness review
 * of the CLI and the store):
 *
 *   - a file output that names a device, a FIFO, a socket, a folder or a
 *     symbolic link is refused with one line and left as it was, where the
 *     rename of the finished file used to replace the node;
 *   - a closed pipe on standard output is exit 1 with one line, not death
 *     by SIGPIPE;
 *   - a store folder the user cannot enter is "cannot open the store ...:
 *     Permission denied", not "no store at";
 *   - on a full file system (a small tmpfs in a mount namespace of this
 *     process's own) every open that makes LMDB's lock file is an error,
 *     not SIGBUS; init leaves nothing behind, so a retry succeeds; a report
 *     folder that failed part-way is replaced by the retry;
 *   - collector-key rotate checks before it moves anything, and retire
 *     never removes the only key that works;
 *   - the smaller one-line errors (a limit too large, --help=yes, a store
 *     path that is a file, an empty framework path, a city id that is no
 *     id), and table columns aligned by display width. */
#define _GNU_SOURCE                 /* mknod, unshare, CLONE_NEWNS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "glci_testsupport.h"
#include "test_cli_support.h"

static char s_dir[256];
static char s_store[300];
static char s_fw[700];

static int s_setup(void **state)
{
    (void)state;
    cli_tmpdir(s_dir, sizeof s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    snprintf(s_fw, sizeof s_fw, "%s", cli_tiny_framework(s_dir));
    glci_store_t *st = cli_store_create(s_store, s_fw, 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    cli_rmdir(s_dir);
    return 0;
}

static char *s_path(const char *name)
{
    static char buf[4][700];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", s_dir, name);
    return p;
}

/* The glci binary of this build. */
static const char *s_glci(void)
{
    static char bin[1024];
    snprintf(bin, sizeof bin, "%s/cli/glci", getenv("GLCI_BIN_DIR"));
    return bin;
}

/* ---- 1. file outputs never replace what is not a regular file --------- */

/* Makes each kind of node that a rename would replace at dir/NAME. */
static void s_make_nodes(void)
{
    assert_int_equal(mknod(s_path("chardev"), S_IFCHR | 0666, makedev(1, 7)), 0);
    assert_int_equal(mkfifo(s_path("fifo"), 0600), 0);
    assert_int_equal(symlink("/proc/self/fd/1", s_path("link-stdout")), 0);
    assert_int_equal(glci_ts_write_file(s_path("target"), "kept\n"), 0);
    assert_int_equal(symlink(s_path("target"), s_path("link-file")), 0);
    assert_int_equal(mkdir(s_path("folder"), 0700), 0);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s_path("socket"));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
}

static void test_file_outputs_refuse_what_is_not_a_file(void **state)
{
    (void)state;
    s_make_nodes();
    static const struct {
        const char *name, *kind;
        mode_t type;
    } nodes[] = {
        {"chardev", "is a character device", S_IFCHR},
        {"fifo", "is a FIFO", S_IFIFO},
        {"link-stdout", "is a symbolic link", S_IFLNK},
        {"link-file", "is a symbolic link", S_IFLNK},
        {"folder", "is a folder", S_IFDIR},
        {"socket", "is a socket", S_IFSOCK},
    };
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        const char *p = s_path(nodes[i].name);
        const char *cmds[][10] = {
            {"--store", s_store, "template", "--format", "csv", "--out", p, NULL},
            {"--store", s_store, "template", "--format", "xlsx", "--out", p, NULL},
            {"--store", s_store, "export", "--format", "xlsx", "--out", p, NULL},
            {"--store", s_store, "report", "--city", "alpha", "--pdf", p, NULL},
        };
        for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
            cli_out_t o;
            cli_runv(&o, cmds[c]);
            char want[800];
            snprintf(want, sizeof want, "%s: %s", p, nodes[i].kind);
            if (o.status != 1 || !strstr(o.err, want))
                fail_msg("%s %s over %s: exit %d: %s", cmds[c][2], cmds[c][3], nodes[i].name,
                         o.status, o.err);
            assert_null(strstr(o.out, "wrote"));
            cli_out_release(&o);
            struct stat sb;
            assert_int_equal(lstat(p, &sb), 0);
            assert_int_equal(sb.st_mode & S_IFMT, nodes[i].type);
            char tmp[800];
            snprintf(tmp, sizeof tmp, "%s.tmp", p);
            assert_int_equal(lstat(tmp, &sb), -1);
        }
    }
    char *kept = glci_ts_read_file(s_path("target"));
    assert_string_equal(kept, "kept\n");
    free(kept);

    /* a regular file is replaced, and a new name written, as before */
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "template", "--format", "csv", "--out",
                             s_path("target"), NULL), 0);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "export", "--format", "xlsx", "--out",
                             s_path("new.xlsx"), NULL), 0);
    cli_out_release(&o);
    kept = glci_ts_read_file(s_path("target"));
    assert_null(strstr(kept, "kept"));
    free(kept);
}

/* ---- 3. a closed pipe --------------------------------------------------- */

static void test_closed_pipe_is_exit_1_with_a_line(void **state)
{
    (void)state;
    static const char *const cmds[][8] = {
        {"framework", "--format", "json", NULL},
        {"export", "--format", "json", "--all-periods", NULL},
        {"city", "list", NULL},
        {"status", "--format", "csv", NULL},
    };
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        const char *argv[12] = {s_glci(), "--store", s_store};
        for (size_t i = 0; cmds[c][i]; i++)
            argv[3 + i] = cmds[c][i];
        char *err = NULL;
        int status = glci_ts_run_closed_pipe(argv, &err);
        char want[200];
        snprintf(want, sizeof want, "glci %s%s%s: cannot write the output: Broken pipe\n",
                 cmds[c][0], strcmp(cmds[c][0], "city") == 0 ? " " : "",
                 strcmp(cmds[c][0], "city") == 0 ? cmds[c][1] : "");
        if (status != 1 || strcmp(err, want) != 0)
            fail_msg("%s: exit %d: %s", cmds[c][0], status, err);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_outputs_refuse_what_is_not_a_file),
        cmocka_unit_test(test_closed_pipe_is_exit_1_with_a_line),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
