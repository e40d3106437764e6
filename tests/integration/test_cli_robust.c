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

static char s_mnt[700];
static int s_have_mount;

static int s_teardown(void **state)
{
    (void)state;
    if (s_have_mount)
        umount2(s_mnt, MNT_DETACH);
    cli_rmdir(s_dir);
    return 0;
}

/* dir/name in one of a few static buffers (the last four calls stay
 * valid). */
static char *s_join(const char *dir, const char *name)
{
    static char buf[4][900];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static char *s_path(const char *name)
{
    return s_join(s_dir, name);
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

/* What stands at the old temporary name PATH.tmp (a file of another user,
 * a link to a victim, a FIFO) is never opened, written or renamed into
 * place: the temporary is made anew under a name of its own. */
static void test_planted_temporaries_are_never_used(void **state)
{
    (void)state;
    const char *dir = s_path("planted");
    assert_int_equal(mkdir(dir, 0755), 0);
    char victim[800];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    assert_int_equal(glci_ts_write_file(victim, "victim\n"), 0);
    static const char *const outs[] = {"t.csv", "t.xlsx", "e.xlsx", "p.pdf"};
    for (int kind = 0; kind < 3; kind++) {
        for (size_t c = 0; c < 4; c++) {
            char out[800], tmp[820];
            snprintf(out, sizeof out, "%s/%s", dir, outs[c]);
            snprintf(tmp, sizeof tmp, "%s.tmp", out);
            unlink(out);
            if (kind == 0) {
                assert_int_equal(glci_ts_write_file(tmp, "planted\n"), 0);
                assert_int_equal(chmod(tmp, 0666), 0);
                if (geteuid() == 0)
                    assert_int_equal(chown(tmp, 65534, 65534), 0);
            } else if (kind == 1) {
                assert_int_equal(symlink(victim, tmp), 0);
            } else {
                assert_int_equal(mkfifo(tmp, 0666), 0);
            }
            const char *cmds[][10] = {
                {"--store", s_store, "template", "--format", "csv", "--out", out, NULL},
                {"--store", s_store, "template", "--format", "xlsx", "--out", out, NULL},
                {"--store", s_store, "export", "--format", "xlsx", "--out", out, NULL},
                {"--store", s_store, "report", "--city", "alpha", "--pdf", out, NULL},
            };
            cli_out_t o;
            if (cli_runv(&o, cmds[c]) != 0)
                fail_msg("%s beside a planted %s: exit %d: %s", outs[c], kind == 0 ? "file" :
                         kind == 1 ? "link" : "FIFO", o.status, o.err);
            cli_out_release(&o);
            struct stat sb;
            assert_int_equal(lstat(out, &sb), 0);
            assert_true(S_ISREG(sb.st_mode));
            assert_int_equal(sb.st_uid, geteuid());
            assert_true(sb.st_size > 8);
            assert_int_equal(lstat(tmp, &sb), 0);
            if (kind == 0) {
                assert_true(S_ISREG(sb.st_mode));
                char *kept = glci_ts_read_file(tmp);
                assert_string_equal(kept, "planted\n");
                free(kept);
                if (geteuid() == 0)
                    assert_int_equal(sb.st_uid, 65534);
            } else {
                assert_int_equal(sb.st_mode & S_IFMT, kind == 1 ? S_IFLNK : S_IFIFO);
            }
            assert_int_equal(unlink(tmp), 0);
        }
        char *kept = glci_ts_read_file(victim);
        assert_string_equal(kept, "victim\n");
        free(kept);
    }
    /* nothing of the temporaries is left: the outputs and the victim only */
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s' | wc -l)\" = 5", dir);
    assert_int_equal(system(cmd), 0);
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


/* ---- 5. a store folder the user cannot enter ------------------------- */

static void test_unreadable_store_is_not_no_store(void **state)
{
    (void)state;
    if (geteuid() != 0 || access("/usr/sbin/runuser", X_OK) != 0)
        skip();                 /* needs root to act as another user */
    char cmd[2400], perm[700];
    snprintf(perm, sizeof perm, "%s", s_path("s-perm"));
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && chmod 0700 '%s'", s_store, perm, perm);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(s_dir, 0755), 0);
    static const char *const cmds[][4] = {{"status", NULL}, {"rank", NULL},
                                          {"city", "list", NULL}};
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        const char *argv[12] = {"-u", "nobody", "--", s_glci(), "--store", perm};
        for (size_t i = 0; cmds[c][i]; i++)
            argv[6 + i] = cmds[c][i];
        cli_out_t o;
        cli_run_program(&o, "/usr/sbin/runuser", argv);
        char want[900];
        snprintf(want, sizeof want, ": cannot open the store at %s: Permission denied\n",
                 perm);
        cli_expect_fail(&o, want);
        assert_null(strstr(o.err, "no store"));
        cli_out_release(&o);
    }
    assert_int_equal(chmod(s_dir, 0700), 0);
}

/* ---- 6. collector-key rotate and retire ------------------------------- */

/* A fresh store made by the real glci init (with its key pair) at dir. */
static void s_init_store(const char *dir)
{
    cli_out_t o;
    if (cli_run(&o, "--store", dir, "init", "--framework", s_fw, NULL) != 0)
        fail_msg("init %s: %s", dir, o.err);
    cli_out_release(&o);
}

static char *s_key_file(const char *dir, const char *name)
{
    char path[900];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return glci_ts_read_file(path);
}

static int s_exists(const char *dir, const char *name)
{
    char path[900];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &sb) == 0;
}

static void test_rotate_checks_first_and_retire_keeps_the_only_key(void **state)
{
    (void)state;
    cli_out_t o;
    const char *k1 = s_path("k1");
    s_init_store(k1);
    char path[900];

    /* collector.pub lost: rebuilt from collector.key, then the rotation */
    char *old_key = s_key_file(k1, "collector.key");
    snprintf(path, sizeof path, "%s/collector.pub", k1);
    assert_int_equal(unlink(path), 0);
    if (cli_run(&o, "--store", k1, "collector-key", "rotate", NULL) != 0)
        fail_msg("rotate: %s", o.err);
    cli_out_release(&o);
    char *prev = s_key_file(k1, "collector.previous.key");
    assert_string_equal(prev, old_key);
    free(prev);
    free(old_key);
    assert_true(s_exists(k1, "collector.previous.pub"));
    assert_false(s_exists(k1, "collector.key.new"));
    assert_int_equal(cli_run(&o, "--store", k1, "collector-key", NULL), 0);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", k1, "collector-key", "retire", NULL), 0);
    cli_out_release(&o);

    /* a rename that fails part-way (the place for the previous public key
     * is a folder holding a file) is undone: the pair in use is as it was */
    char *key = s_key_file(k1, "collector.key"), *pub = s_key_file(k1, "collector.pub");
    snprintf(path, sizeof path, "%s/collector.previous.pub", k1);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/collector.previous.pub/x", k1);
    assert_int_equal(glci_ts_write_file(path, "x"), 0);
    cli_run(&o, "--store", k1, "collector-key", "rotate", NULL);
    cli_expect_fail(&o, "cannot install the new key");
    assert_non_null(strstr(o.err, "nothing changed"));
    cli_out_release(&o);
    char *key2 = s_key_file(k1, "collector.key"), *pub2 = s_key_file(k1, "collector.pub");
    assert_string_equal(key2, key);
    assert_string_equal(pub2, pub);
    free(key2);
    free(pub2);
    free(key);
    free(pub);
    assert_false(s_exists(k1, "collector.previous.key"));
    assert_false(s_exists(k1, "collector.key.new"));
    assert_false(s_exists(k1, "collector.pub.new"));
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "rm -r '%s/collector.previous.pub'", k1);
    assert_int_equal(system(cmd), 0);

    /* retire while no pair is in use (a rotation stopped half-way by a
     * crash: collector.key gone) is refused and keeps the previous key */
    assert_int_equal(cli_run(&o, "--store", k1, "collector-key", "rotate", NULL), 0);
    cli_out_release(&o);
    snprintf(path, sizeof path, "%s/collector.key", k1);
    char aside[900];
    snprintf(aside, sizeof aside, "%s/aside.key", s_dir);
    assert_int_equal(rename(path, aside), 0);
    cli_run(&o, "--store", k1, "collector-key", "retire", NULL);
    cli_expect_fail(&o, "is not retired while there is no key pair in use");
    cli_out_release(&o);
    assert_true(s_exists(k1, "collector.previous.key"));
    assert_true(s_exists(k1, "collector.previous.pub"));
    /* nor while collector.pub is not collector.key's */
    assert_int_equal(rename(aside, path), 0);
    snprintf(path, sizeof path, "%s/collector.pub", k1);
    snprintf(aside, sizeof aside, "%s/collector.previous.pub", k1);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", aside, path);
    assert_int_equal(system(cmd), 0);
    cli_run(&o, "--store", k1, "collector-key", "retire", NULL);
    cli_expect_fail(&o, "does not hold the public key of");
    cli_out_release(&o);
    assert_true(s_exists(k1, "collector.previous.key"));
}

/* ---- 8. the smaller one-line errors ----------------------------------- */

static void test_small_errors_say_what_is_wrong(void **state)
{
    (void)state;
    cli_out_t o;
    cli_run(&o, "--store", s_store, "rank", "--limit", "2147483648", NULL);
    cli_expect_usage(&o, "invalid --limit '2147483648' (a whole number from 1 to 2147483647)");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--help=yes", NULL);
    cli_expect_usage(&o, "option --help takes no value");
    cli_out_release(&o);
    /* a period of 300 digits is named, not echoed whole */
    char digits[301];
    memset(digits, '7', 300);
    digits[300] = '\0';
    static const char *const period_cmds[][8] = {
        {"peers", "alpha", "--period", NULL},
        {"edition", "publish", "e1", "--period", NULL},
        {"correct", "alpha", "i1", NULL},
    };
    for (size_t c = 0; c < 3; c++) {
        const char *argv[16] = {"--store", s_store};
        size_t n = 2;
        for (size_t i = 0; period_cmds[c][i]; i++)
            argv[n++] = period_cmds[c][i];
        argv[n++] = digits;
        if (c == 2) {
            argv[n++] = "1";
            argv[n++] = "--reason";
            argv[n++] = "x";
        }
        cli_runv(&o, argv);
        cli_expect_usage(&o, "'77777777777777777777");
        if (strlen(o.err) > 300)
            fail_msg("%s: the period was echoed whole: %s", period_cmds[c][0], o.err);
        cli_out_release(&o);
    }

    assert_int_equal(glci_ts_write_file(s_path("plain"), "x"), 0);
    cli_run(&o, "--store", s_path("plain"), "init", "--framework", s_fw, NULL);
    cli_expect_fail(&o, "plain: is a regular file, not a directory");
    cli_out_release(&o);
    cli_run(&o, "--store", s_path("plain"), "status", NULL);
    cli_expect_fail(&o, "plain: is a regular file, not a directory");
    cli_out_release(&o);
    cli_run(&o, "--store", s_path("new-store"), "init", "--framework", "", NULL);
    cli_expect_usage(&o, "--framework names no file: the path is empty");
    cli_out_release(&o);
    struct stat sb;
    assert_int_equal(lstat(s_path("new-store"), &sb), -1);

    /* a city id that is no id: a usage error before any look-up, and a
     * 100 KB argument is never echoed whole */
    size_t big = 100 * 1024;
    char *id = malloc(big + 1);
    assert_non_null(id);
    memset(id, 'a', big);
    id[big] = '\0';
    const char *const cmds[][8] = {
        {"show", id, NULL},
        {"history", id, "i1", NULL},
        {"trend", id, NULL},
        {"peers", id, NULL},
        {"city", "revoke", id, NULL},
        {"rejects", "--city", id, NULL},
        {"report", "--city", id, "--pdf", s_path("x.pdf"), NULL},
        {"template", "--city", id, "--out", s_path("x.csv"), "--format", "csv"},
        {"show", "Bad Id", NULL},
        {"history", "", "i1", NULL},
    };
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        const char *argv[12] = {"--store", s_store};
        for (size_t i = 0; i < 8 && cmds[c][i]; i++)
            argv[2 + i] = cmds[c][i];
        cli_runv(&o, argv);
        cli_expect_usage(&o, "is not valid ([a-z0-9][a-z0-9._-]*, at most 63 characters)");
        assert_true(strlen(o.err) < 1024);
        cli_out_release(&o);
    }
    /* and other words from the line are cut short too */
    cli_run(&o, "--store", s_store, "history", "alpha", id, NULL);
    cli_expect_fail(&o, "no indicator 'aaaa");
    assert_true(strlen(o.err) < 1024);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, id, NULL);
    assert_int_equal(o.status, 2);
    assert_true(strlen(o.err) < 1024);
    cli_out_release(&o);
    free(id);
}

/* Terminal columns of UTF-8 text: the CJK ideographs of the test (U+4E00
 * to U+9FFF, three bytes from 0xE4 to 0xE9) take two, other characters one. */
static size_t s_cols(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        if ((b & 0xC0) == 0x80)
            continue;
        w += b >= 0xE4 && b <= 0xE9 ? 2 : 1;
    }
    return w;
}

static void test_tables_align_wide_characters(void **state)
{
    (void)state;
    const char *wide = s_path("wide");
    glci_store_t *st = cli_store_create(wide, s_fw, 0);
    cli_city_add(st, "zurich-bj", "Z\xc3\xbcrich \xe5\x8c\x97\xe4\xba\xac", "CH");
    cli_city_add(st, "cork-ie", "Cork", "IE");
    glci_store_close(&st);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", wide, "city", "list", NULL), 0);
    /* the country column starts at the same column on both rows */
    const char *rows[] = {strstr(o.out, "cork-ie"), strstr(o.out, "zurich-bj")};
    const char *cc[] = {" IE ", " CH "};
    size_t at[2];
    for (int i = 0; i < 2; i++) {
        assert_non_null(rows[i]);
        const char *line = rows[i];
        while (line > o.out && line[-1] != '\n')
            line--;
        const char *c = strstr(rows[i], cc[i]);
        assert_non_null(c);
        at[i] = s_cols(line, (size_t)(c - line));
    }
    if (at[0] != at[1])
        fail_msg("country at column %zu and %zu:\n%s", at[0], at[1], o.out);
    cli_out_release(&o);
}

/* ---- 2, 4. a full file system ------------------------------------------ */

/* A tmpfs of 8 MiB at dir/full, in a mount namespace of this process's
 * own, which the programs it starts share. Skips (root is needed, and a
 * namespace of one's own) when the machine does not allow it. */
static void s_full_mount(void)
{
    if (geteuid() != 0)
        skip();                 /* mounts need root; CI runs as root */
    if (!s_have_mount) {
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            skip();             /* a container without the right */
        snprintf(s_mnt, sizeof s_mnt, "%s", s_path("full"));
        assert_int_equal(mkdir(s_mnt, 0700), 0);
        if (mount("tmpfs", s_mnt, "tmpfs", 0, "size=8m,mode=0700") != 0)
            skip();
        s_have_mount = 1;
    }
}

/* Fills the tmpfs with s_mnt/filler but for `room` bytes. */
static void s_fill(unsigned long long room)
{
    char filler[800];
    snprintf(filler, sizeof filler, "%s/filler", s_mnt);
    unlink(filler);
    assert_int_equal(glci_ts_fill_fs(s_mnt, filler, room), 0);
}

static void s_unfill(void)
{
    char filler[800];
    snprintf(filler, sizeof filler, "%s/filler", s_mnt);
    unlink(filler);
}

static char *s_in_mnt(const char *name)
{
    return s_join(s_mnt, name);
}

static void s_rm(const char *path)
{
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void s_expect_full(const cli_out_t *o, const char *what)
{
    if (o->status != 1 || !strstr(o->err, what))
        fail_msg("expected exit 1 with '%s' (not SIGBUS, 135), got %d: %s", what, o->status,
                 o->err);
}

static void test_lock_file_on_a_full_disk_is_an_error(void **state)
{
    (void)state;
    s_full_mount();
    cli_out_t o;

    /* init onto a full file system */
    s_fill(0);
    cli_run(&o, "--store", s_in_mnt("s"), "init", "--framework", s_fw, NULL);
    s_expect_full(&o, "No space left on device");
    cli_out_release(&o);
    struct stat sb;
    assert_int_equal(lstat(s_in_mnt("s"), &sb), -1);

    /* a store copied without its lock file, opened on a full disk */
    s_unfill();
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "mkdir -m 0700 '%s' '%s/history' && cp '%s/data.mdb' '%s/' && "
             "cp '%s/history/data.mdb' '%s/history/'", s_in_mnt("nolock"), s_in_mnt("nolock"),
             s_store, s_in_mnt("nolock"), s_store, s_in_mnt("nolock"));
    assert_int_equal(system(cmd), 0);
    s_fill(0);
    static const char *const cmds[][3] = {{"status", NULL}, {"rank", NULL},
                                          {"city", "list"}};
    for (size_t c = 0; c < 3; c++) {
        const char *argv[8] = {"--store", s_in_mnt("nolock"), cmds[c][0], cmds[c][1], NULL};
        cli_runv(&o, argv);
        s_expect_full(&o, "lock.mdb: no space for the lock file");
        cli_out_release(&o);
    }
    assert_int_equal(lstat(s_in_mnt("nolock/lock.mdb"), &sb), -1);
    s_unfill();
    assert_int_equal(cli_run(&o, "--store", s_in_mnt("nolock"), "status", NULL), 0);
    cli_out_release(&o);

    /* a backup whose copy fits, but not the lock file its verify makes */
    assert_int_equal(cli_run(&o, "--store", s_store, "backup", s_path("b-size"), NULL), 0);
    cli_out_release(&o);
    char data[800];
    snprintf(data, sizeof data, "%s/data.mdb", s_path("b-size"));
    assert_int_equal(stat(data, &sb), 0);
    unsigned long long copy = (unsigned long long)sb.st_size;
    snprintf(data, sizeof data, "%s/history/data.mdb", s_path("b-size"));     /* schema 7 */
    assert_int_equal(stat(data, &sb), 0);
    copy += (unsigned long long)sb.st_size;
    s_fill(copy + 4096);
    cli_run(&o, "--store", s_store, "backup", s_in_mnt("b"), NULL);
    s_expect_full(&o, "no space");
    cli_out_release(&o);
    s_unfill();
    s_rm(s_in_mnt("nolock"));
    s_rm(s_in_mnt("b"));
}

/* init on a disk with `room` bytes left, for every room from none to more
 * than a store needs: it succeeds, or fails with one line leaving nothing
 * of its own (the folder gone, or empty again when it was there); and once
 * there is room the same init succeeds. */
static void test_failed_init_leaves_nothing_behind(void **state)
{
    (void)state;
    s_full_mount();
    int failed = 0, made = 0;
    /* existing: 0 no folder, 1 an empty one, 2 one with a lock file (kept
     * by a failed init, as the store keeps a lock file it did not make) */
    for (int existing = 0; existing < 3; existing++) {
        for (unsigned long long room = 0; room <= 96 * 1024; room += 4096) {
            const char *dir = s_in_mnt("s");
            s_rm(dir);
            if (existing)
                assert_int_equal(mkdir(dir, 0700), 0);
            if (existing == 2) {
                char lock[800], cmd[1000];
                snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
                snprintf(cmd, sizeof cmd, "head -c 8192 /dev/zero > '%s'", lock);
                assert_int_equal(system(cmd), 0);
            }
            s_fill(room);
            cli_out_t o;
            cli_run(&o, "--store", dir, "init", "--framework", s_fw, NULL);
            if (o.status != 0) {
                if (o.status != 1 || !strchr(o.err, '\n') || strchr(o.err, '\n')[1])
                    fail_msg("room %llu: exit %d: %s", room, o.status, o.err);
                failed++;
                struct stat sb;
                if (existing) {
                    char cmd[1000];
                    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = '%s'", dir,
                             existing == 2 ? "lock.mdb" : "");
                    if (system(cmd) != 0)
                        fail_msg("room %llu: init left files in %s: %s", room, dir, o.err);
                } else if (lstat(dir, &sb) == 0) {
                    fail_msg("room %llu: init left %s: %s", room, dir, o.err);
                }
                cli_out_release(&o);
                s_unfill();
                cli_run(&o, "--store", dir, "init", "--framework", s_fw, NULL);
                if (o.status != 0)
                    fail_msg("room %llu: the retry with room failed: %s", room, o.err);
            } else {
                made++;
            }
            cli_out_release(&o);
            s_unfill();
            assert_int_equal(cli_run(&o, "--store", dir, "status", NULL), 0);
            cli_out_release(&o);
            assert_int_equal(cli_run(&o, "--store", dir, "collector-key", NULL), 0);
            cli_out_release(&o);
        }
    }
    assert_true(failed > 2);
    assert_true(made > 0);
    s_rm(s_in_mnt("s"));
}

/* ---- 7. a report folder that failed part-way -------------------------- */

/* report --out on a disk with `room` bytes left, for rooms from none to
 * enough: whatever the first run left, the retry with room replaces it. */
static void test_failed_report_folder_is_replaced_by_the_retry(void **state)
{
    (void)state;
    s_full_mount();
    int failed = 0;
    for (unsigned long long room = 0; room <= 64 * 1024; room += 8192) {
        const char *rep = s_in_mnt("rep");
        s_rm(rep);
        s_fill(room);
        cli_out_t o;
        cli_run(&o, "--store", s_store, "report", "--out", rep, NULL);
        int st = o.status;
        if (st != 0 && st != 1)
            fail_msg("room %llu: exit %d: %s", room, st, o.err);
        failed += st != 0;
        cli_out_release(&o);
        s_unfill();
        if (cli_run(&o, "--store", s_store, "report", "--out", rep, NULL) != 0)
            fail_msg("room %llu: the retry with room failed: %s", room, o.err);
        cli_out_release(&o);
        char index[900];
        snprintf(index, sizeof index, "%s/index.html", rep);
        struct stat sb;
        assert_int_equal(stat(index, &sb), 0);
    }
    assert_true(failed > 0);
    s_rm(s_in_mnt("rep"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_outputs_refuse_what_is_not_a_file),
        cmocka_unit_test(test_planted_temporaries_are_never_used),
        cmocka_unit_test(test_closed_pipe_is_exit_1_with_a_line),
        cmocka_unit_test(test_unreadable_store_is_not_no_store),
        cmocka_unit_test(test_rotate_checks_first_and_retire_keeps_the_only_key),
        cmocka_unit_test(test_small_errors_say_what_is_wrong),
        cmocka_unit_test(test_tables_align_wide_characters),
        /* last: they leave this process in a mount namespace of its own */
        cmocka_unit_test(test_lock_file_on_a_full_disk_is_an_error),
        cmocka_unit_test(test_failed_init_leaves_nothing_behind),
        cmocka_unit_test(test_failed_report_folder_is_replaced_by_the_retry),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
