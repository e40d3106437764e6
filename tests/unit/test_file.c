/* Unit tests for common/glci_file.c's temporaries: glci_file_tmp_make
 * makes a new file (or folder) under a fresh name and never one that
 * stands there already, reports the errno of what failed, and leaves
 * nothing behind; glci_file_place renames a complete file into place, or
 * refuses a destination it must not replace and removes the temporary.
 *
 * The random names come from getrandom, swapped at link time for the one
 * below: it gives the bytes the test queues, or fails with the errno it
 * is told to, and falls back to fixed bytes otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_file.h"

static char s_dir[256];

/* ---- getrandom, as the test says ------------------------------------------ */

static unsigned char s_bytes[8][6];   /* queued names: byte b gives letter b % 36 */
static size_t s_queued, s_taken;
static int s_fail_errno;              /* non-zero: the next call fails with it */

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    (void)flags;
    if (s_fail_errno) {
        errno = s_fail_errno;
        s_fail_errno = 0;
        return -1;
    }
    unsigned char *out = buf;
    for (size_t i = 0; i < len; i++)
        out[i] = s_taken < s_queued && i < 6 ? s_bytes[s_taken][i] : (unsigned char)(20 + i);
    if (s_taken < s_queued)
        s_taken++;
    return (ssize_t)len;
}

/* Queues a name of six times the letter of byte b ('a' + b for b < 26). */
static void s_queue(unsigned char b)
{
    assert_true(s_queued < 8);
    memset(s_bytes[s_queued++], b, 6);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/glci-test-file-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    s_queued = s_taken = 0;
    s_fail_errno = 0;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* How many entries the test folder holds. */
static int s_entries(void)
{
    DIR *d = opendir(s_dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* A name planted where the first draw falls (a link to a file of the
 * test's, a FIFO) is not opened: the next name is drawn, and the victim
 * is untouched. */
static void test_tmp_make_never_opens_a_planted_name(void **state)
{
    (void)state;
    char path[300], planted[320], fifo[320], victim[300], tmp[320];
    snprintf(path, sizeof path, "%s/x.conf", s_dir);
    snprintf(planted, sizeof planted, "%s/.x.conf.aaaaaa", s_dir);
    snprintf(fifo, sizeof fifo, "%s/.x.conf.bbbbbb", s_dir);
    snprintf(victim, sizeof victim, "%s/victim", s_dir);
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("the victim\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(symlink(victim, planted), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    s_queue(0);
    s_queue(1);
    s_queue(2);
    int fd = glci_file_tmp_make(tmp, sizeof tmp, path, 0, 0600);
    assert_true(fd >= 0);
    assert_int_equal(s_taken, 3);
    char want[320];
    snprintf(want, sizeof want, "%s/.x.conf.cccccc", s_dir);
    assert_string_equal(tmp, want);
    assert_true(glci_file_tmp_of(".x.conf.cccccc", "x.conf"));
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_size, 0);
    assert_int_equal(write(fd, "new\n", 4), 4);
    assert_int_equal(close(fd), 0);
    f = fopen(victim, "r");
    char line[32] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "the victim\n");
    assert_int_equal(lstat(planted, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
}

/* A folder temporary has the mode asked for (less the umask). */
static void test_tmp_make_folder_mode(void **state)
{
    (void)state;
    char path[300], tmp[320];
    snprintf(path, sizeof path, "%s/book.xlsx", s_dir);
    mode_t old = umask(022);
    assert_int_equal(glci_file_tmp_make(tmp, sizeof tmp, path, 1, 0750), 0);
    umask(old);
    struct stat sb;
    assert_int_equal(lstat(tmp, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0750);
    assert_int_equal(rmdir(tmp), 0);
}

/* Failures give the errno of what failed, and leave nothing. */
static void test_tmp_make_failures(void **state)
{
    (void)state;
    char path[300], tmp[320];
    snprintf(path, sizeof path, "%s/x.conf", s_dir);
    s_fail_errno = EAGAIN;
    errno = 0;
    assert_int_equal(glci_file_tmp_make(tmp, sizeof tmp, path, 0, 0600), -1);
    assert_int_equal(errno, EAGAIN);
    /* a name that does not fit */
    char small[8];
    errno = 0;
    assert_int_equal(glci_file_tmp_make(small, sizeof small, path, 0, 0600), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    /* a folder that is not there */
    snprintf(path, sizeof path, "%s/missing/x.conf", s_dir);
    errno = 0;
    assert_int_equal(glci_file_tmp_make(tmp, sizeof tmp, path, 0, 0600), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(glci_file_tmp_make(tmp, sizeof tmp, path, 1, 0700), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(s_entries(), 0);
}

/* place: the complete file replaces a regular file or takes a new name,
 * with nothing left beside it; a destination it must not replace (a
 * folder, a link) is refused, the temporary removed and the destination
 * as it was. */
static void test_place(void **state)
{
    (void)state;
    char path[300], tmp[320], err[512];
    snprintf(path, sizeof path, "%s/x.conf", s_dir);
    for (int round = 0; round < 2; round++) {      /* new, then over the first */
        int fd = glci_file_tmp_make(tmp, sizeof tmp, path, 0, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, round ? "two\n" : "one\n", 4), 4);
        assert_int_equal(close(fd), 0);
        assert_int_equal(glci_file_place(tmp, path, err, sizeof err), 0);
        assert_int_not_equal(access(tmp, F_OK), 0);
        FILE *f = fopen(path, "r");
        char line[16] = "";
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_string_equal(line, round ? "two\n" : "one\n");
        assert_int_equal(s_entries(), 1);
    }

    char folder[300], link[300];
    snprintf(folder, sizeof folder, "%s/d.conf", s_dir);
    snprintf(link, sizeof link, "%s/l.conf", s_dir);
    assert_int_equal(mkdir(folder, 0700), 0);
    assert_int_equal(symlink(path, link), 0);
    const char *dests[] = {folder, link};
    const char *what[] = {"is a folder", "is a symbolic link"};
    for (int k = 0; k < 2; k++) {
        int fd = glci_file_tmp_make(tmp, sizeof tmp, dests[k], 0, 0644);
        assert_true(fd >= 0);
        assert_int_equal(close(fd), 0);
        assert_int_equal(glci_file_place(tmp, dests[k], err, sizeof err), -1);
        assert_non_null(strstr(err, dests[k]));
        assert_non_null(strstr(err, what[k]));
        assert_int_not_equal(access(tmp, F_OK), 0);
    }
    struct stat sb;
    assert_int_equal(lstat(folder, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(s_entries(), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tmp_make_never_opens_a_planted_name, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_tmp_make_folder_mode, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tmp_make_failures, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_place, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
