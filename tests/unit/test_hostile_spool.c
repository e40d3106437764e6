/* The spool folder against its own users (issue 20): a group member who
 * swaps done/ or failed/ for a folder of links, a file of a million bad
 * lines, a writer that pauses mid-file where leases do not work, a file
 * that stops the agent while it is read, names that are links, FIFOs or
 * carry line breaks. The spool library is driven directly (as the daemon
 * does); the real daemon faces the same in tests/fault/test_hostile_spool.c.
 *
 * Runs as root (CI does): the cases of a spool shared with other users are
 * made with chown to uid 65534, and a spool where leases are refused by
 * dropping CAP_LEASE from this process's effective set for the test. */
#define _GNU_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_agent_csv.h"
#include "glci_agent_spool.h"
#include "glci_log.h"
#include "glci_outbox.h"
#include "glci_testsupport.h"

#define T_NOBODY 65534

static char s_dir[256];

typedef struct {
    char spool[320], outbox[320], log[320];
    glci_agent_spool_t *sp;
    glci_outbox_t *ob;
    int saved_stderr;
} s_env_t;

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/glci-test-hostile-spool-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *s_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    return buf;
}

static int s_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static size_t s_count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Sets the mtime of path `ago` seconds in the past (a settled file). */
static void s_age(const char *path, int ago)
{
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= ago;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The log goes to env->log while the test runs. */
static void s_env_init(s_env_t *e, int64_t settle_ms, int with_marker)
{
    char err[512];
    memset(e, 0, sizeof *e);
    snprintf(e->spool, sizeof e->spool, "%s/spool", s_dir);
    snprintf(e->outbox, sizeof e->outbox, "%s/outbox", s_dir);
    snprintf(e->log, sizeof e->log, "%s/log", s_dir);
    fflush(stderr);
    e->saved_stderr = dup(2);
    int fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
    glci_outbox_opts_t o = {0};
    assert_int_equal(glci_outbox_open(e->outbox, &o, &e->ob, err, sizeof err), 0);
    glci_agent_spool_opts_t so = {.settle_ms = settle_ms,
                                  .state_dir = with_marker ? e->outbox : NULL};
    assert_int_equal(glci_agent_spool_open(e->spool, &so, &e->sp, err, sizeof err), 0);
}

static char *s_env_log(s_env_t *e)
{
    fflush(stderr);
    return s_read(e->log);
}

static void s_env_release(s_env_t *e)
{
    glci_agent_spool_close(&e->sp);
    glci_outbox_close(&e->ob);
    fflush(stderr);
    dup2(e->saved_stderr, 2);
    close(e->saved_stderr);
}

static uint64_t s_queued(s_env_t *e)
{
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(e->ob, &st), 0);
    return st.observations;
}

static void s_spool_file(s_env_t *e, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", e->spool, name);
    s_write(path, text);
    s_age(path, 10);
}

static void s_scan(s_env_t *e, glci_agent_spool_stats_t *st)
{
    memset(st, 0, sizeof *st);
    glci_agent_spool_scan(e->sp, e->ob, 100, GLCI_AGENT_CSV_AUTO, st);
}

/* Raises or drops CAP_LEASE in this process's effective set. */
static int s_cap_lease(int on)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return -1;
    unsigned idx = CAP_LEASE / 32, bit = 1u << (CAP_LEASE % 32);
    if (on)
        d[idx].effective |= bit;
    else
        d[idx].effective &= ~bit;
    return (int)syscall(SYS_capset, &h, d);
}

/* ---- finding 1: done/ and failed/ swapped by a group member -------------- */

static void test_failed_folder_of_links_is_not_written_through(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    s_env_t e;
    s_env_init(&e, 0, 0);
    char data[400], before[400], failed[400], link[500], path[500];
    snprintf(data, sizeof data, "%s/data.mdb", e.outbox);
    struct stat sb0;
    assert_int_equal(stat(data, &sb0), 0);
    char *content0 = s_read(data);
    /* values waiting in the outbox */
    s_spool_file(&e, "good.csv", "indicator,period,value\nx,2020,1\ny,2021,2\n");
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(s_queued(&e), 2);
    assert_int_equal(stat(data, &sb0), 0);
    free(content0);
    content0 = s_read(data);

    /* mv failed failed.old; mkdir failed; ln -s OUTBOX/data.mdb failed/x.csv.errors */
    snprintf(failed, sizeof failed, "%s/failed", e.spool);
    snprintf(before, sizeof before, "%s/failed.old", e.spool);
    assert_int_equal(rename(failed, before), 0);
    assert_int_equal(mkdir(failed, 02770), 0);
    assert_int_equal(chown(failed, T_NOBODY, T_NOBODY), 0);
    snprintf(link, sizeof link, "%s/x.csv.errors", failed);
    assert_int_equal(symlink(data, link), 0);
    s_spool_file(&e, "x.csv", "indicator,period,value\nbad row\n");
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);

    /* the outbox is untouched and still opens with its values */
    char *content1 = s_read(data);
    struct stat sb1;
    assert_int_equal(stat(data, &sb1), 0);
    assert_int_equal(sb1.st_size, sb0.st_size);
    assert_memory_equal(content0, content1, (size_t)sb0.st_size);
    free(content0);
    free(content1);
    assert_int_equal(s_queued(&e), 2);
    /* the impostor was moved aside, failed/ made anew, the file failed into it */
    struct stat fs;
    assert_int_equal(lstat(failed, &fs), 0);
    assert_true(S_ISDIR(fs.st_mode));
    assert_int_equal(fs.st_uid, 0);
    snprintf(path, sizeof path, "%s/x.csv.errors", failed);
    assert_int_equal(lstat(path, &fs), 0);
    assert_true(S_ISREG(fs.st_mode));
    char *log = s_env_log(&e);
    assert_non_null(strstr(log, "ALARM: "));
    assert_non_null(strstr(log, "/failed was a folder of uid 65534"));
    free(log);

    /* done/ as a link to the outbox folder: a good file never lands there */
    char done[400], out[600];
    snprintf(done, sizeof done, "%s/done", e.spool);
    snprintf(out, sizeof out, "%s/done.old", e.spool);
    assert_int_equal(rename(done, out), 0);
    assert_int_equal(symlink(e.outbox, done), 0);
    s_spool_file(&e, "data.mdb.csv", "indicator,period,value\nz,2022,3\n");
    s_scan(&e, &st);
    assert_int_equal(st.files_done, 1);
    snprintf(path, sizeof path, "%s/data.mdb.csv", e.outbox);
    assert_false(s_exists(path));
    assert_int_equal(lstat(done, &fs), 0);
    assert_true(S_ISDIR(fs.st_mode));
    snprintf(path, sizeof path, "%s/data.mdb.csv", done);
    assert_true(s_exists(path));
    assert_int_equal(s_queued(&e), 3);
    s_env_release(&e);
}

/* Inside the agent's own failed/, a link under the errors file's name (a
 * race, or a failed/ of old) is passed over, never written through. */
static void test_errors_file_is_never_written_through_a_link(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 0);
    char victim[400], link[500], path[500];
    snprintf(victim, sizeof victim, "%s/victim", s_dir);
    s_write(victim, "keep me\n");
    snprintf(link, sizeof link, "%s/failed/y.csv.errors", e.spool);
    assert_int_equal(symlink(victim, link), 0);
    s_spool_file(&e, "y.csv", "indicator,period,value\nbad\n");
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);
    char *v = s_read(victim);
    assert_string_equal(v, "keep me\n");
    free(v);
    snprintf(path, sizeof path, "%s/failed/y.csv.1.errors", e.spool);
    char *errs = s_read(path);
    assert_non_null(errs);
    assert_non_null(strstr(errs, "line 2:"));
    free(errs);
    s_env_release(&e);
}

/* done/NAME.log (how a file was read) is made new beside the moved file: a
 * link planted under that name, symbolic or hard, is replaced, never
 * written through. */
static void test_done_log_is_never_written_through_a_link(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 0);
    char victim[400], path[500];
    snprintf(victim, sizeof victim, "%s/victim", s_dir);
    s_write(victim, "keep me\n");
    snprintf(path, sizeof path, "%s/done/s.csv.log", e.spool);
    assert_int_equal(symlink(victim, path), 0);
    snprintf(path, sizeof path, "%s/done/h.csv.log", e.spool);
    assert_int_equal(link(victim, path), 0);
    s_spool_file(&e, "s.csv", "indicator;period;value\nx;2020;1,5\n");
    s_spool_file(&e, "h.csv", "indicator,period,value\nx,2020,1.5\n");
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(st.files_done, 2);
    char *v = s_read(victim);
    assert_string_equal(v, "keep me\n");
    free(v);
    static const char *const logs[] = {"s.csv.log", "h.csv.log"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/done/%s", e.spool, logs[i]);
        char *log = s_read(path);
        assert_non_null(log);
        assert_non_null(strstr(log, i == 0 ? "read as excel" : "read as comma"));
        free(log);
    }
    s_env_release(&e);
}

/* Fed a byte at a time, the reader still sees a sep= line or a whole
 * header before it chooses the dialect. */
static void test_dialect_chosen_from_bytes_fed_one_by_one(void **state)
{
    (void)state;
    static const char *const texts[] = {"\xef\xbb\xbfindicator;period;value\nx;2020;1,5\n",
                                        "sep=;\nindicator;period;value\nx;2020;1,5\n",
                                        "indicator,period,value\nx,2020,1.5\n"};
    for (size_t t = 0; t < 3; t++) {
        glci_agent_csv_t *c = glci_agent_csv_new();
        for (const char *p = texts[t]; *p; p++)
            glci_agent_csv_feed(c, p, 1);
        glci_agent_csv_finish(c);
        assert_int_equal(glci_agent_csv_n_errors(c), 0);
        const glci_obs_t *rows;
        assert_int_equal(glci_agent_csv_rows(c, &rows), 1);
        assert_true(rows[0].value == 1.5);
        assert_int_equal(glci_agent_csv_dialect(c, NULL),
                         t < 2 ? GLCI_AGENT_CSV_EXCEL : GLCI_AGENT_CSV_COMMA);
        glci_agent_csv_free(&c);
    }
}

/* ---- finding 2: errors and memory bounded per file ----------------------- */

static void test_a_million_bad_lines_cost_a_counter(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 0);
    char path[500];
    snprintf(path, sizeof path, "%s/bad.csv", e.spool);
    assert_int_equal(glci_ts_write_rows(path, "indicator,period,value\n", "x\n", 1000000), 0);
    s_age(path, 10);
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);
    snprintf(path, sizeof path, "%s/failed/bad.csv.errors", e.spool);
    char *errs = s_read(path);
    assert_non_null(errs);
    assert_int_equal(s_count(errs, "\n"), GLCI_AGENT_CSV_ERRORS_LISTED + 1);
    assert_non_null(strstr(errs, "line 2: 1 fields, the header has 3\n"));
    assert_non_null(strstr(errs, "\nand 999900 more bad lines (not listed)\n"));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size < 8192);
    free(errs);
    s_env_release(&e);

    /* a row that never ends, and more rows than one file may hold */
    char *big = malloc(200000);
    memset(big, 'a', 199999);
    big[199999] = '\0';
    glci_agent_csv_t *c = glci_agent_csv_parse(big, strlen(big));
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "row longer than 65536 bytes"));
    glci_agent_csv_free(&c);
    free(big);
    c = glci_agent_csv_new();
    glci_agent_csv_feed(c, "indicator,period,value\n", 23);
    for (int i = 0; i <= GLCI_AGENT_CSV_ROWS_MAX; i++)
        glci_agent_csv_feed(c, "a,1,2\n", 6);
    glci_agent_csv_finish(c);
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_non_null(strstr(glci_agent_csv_error(c, 0), "more than 1000000 data rows"));
    glci_agent_csv_free(&c);
}

/* push --csv reads through the same reader with the spool's cap: /dev/zero
 * ends at 256 MiB with one line, a larger regular file is not read. */
static void test_push_csv_is_capped(void **state)
{
    (void)state;
    glci_agent_csv_t *c = NULL;
    char err[512];
    assert_int_equal(glci_agent_csv_read_file("/dev/zero", GLCI_AGENT_SPOOL_FILE_MAX,
                                              GLCI_AGENT_CSV_AUTO, &c, err, sizeof err), 0);
    assert_int_equal(glci_agent_csv_n_errors(c), 1);
    assert_string_equal(glci_agent_csv_error(c, 0), "file: more than 268435456 bytes, larger "
                        "than the largest file taken; split it into smaller files");
    glci_agent_csv_free(&c);
    char path[400];
    snprintf(path, sizeof path, "%s/sparse.csv", s_dir);
    s_write(path, "indicator,period,value\n");
    assert_int_equal(truncate(path, (off_t)GLCI_AGENT_SPOOL_FILE_MAX + 1), 0);
    assert_int_not_equal(glci_agent_csv_read_file(path, GLCI_AGENT_SPOOL_FILE_MAX,
                                                  GLCI_AGENT_CSV_AUTO, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "larger than the largest file taken"));
    assert_int_equal(glci_agent_csv_read_file(s_dir, 0, GLCI_AGENT_CSV_AUTO, &c, err,
                                              sizeof err), GLCI_AGENT_EIO);
    assert_non_null(strstr(err, "is a folder"));
}

/* A UTF-16 file (a spreadsheet's "Unicode text"), either byte order: one
 * line that says so, no garbled header errors, nothing taken. A UTF-8 file
 * whose first value happens to start with those bytes cannot exist: they
 * are not UTF-8. */
static void test_utf16_file_is_named(void **state)
{
    (void)state;
    static const char le[] = "\xff\xfei\0n\0d\0i\0c\0a\0t\0o\0r\0,\0p\0\n\0";
    static const char be[] = "\xfe\xff\0i\0n\0d\0i\0c\0a\0t\0o\0r\0,\0p\0\n";
    const char *const texts[] = {le, be};
    for (int i = 0; i < 2; i++) {
        char path[400], err[512];
        snprintf(path, sizeof path, "%s/u16-%d.csv", s_dir, i);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(texts[i], 1, sizeof le - 1, f), sizeof le - 1);
        assert_int_equal(fclose(f), 0);
        glci_agent_csv_t *c = NULL;
        assert_int_equal(glci_agent_csv_read_file(path, GLCI_AGENT_SPOOL_FILE_MAX,
                                                  GLCI_AGENT_CSV_AUTO, &c, err, sizeof err), 0);
        assert_int_equal(glci_agent_csv_n_errors(c), 1);
        assert_string_equal(glci_agent_csv_error(c, 0), "file: not UTF-8: the file starts with "
                            "a UTF-16 byte-order mark (save it as \"CSV UTF-8\")");
        const glci_obs_t *rows;
        assert_int_equal(glci_agent_csv_rows(c, &rows), 0);
        glci_agent_csv_free(&c);
    }
}

/* ---- finding 2: a file that stops the agent while it is read ------------- */

/* A child takes the file; it is killed as soon as the marker says it is
 * reading (what an OOM kill or an abort does). */
static void s_die_while_reading(s_env_t *e)
{
    int in = inotify_init1(IN_CLOEXEC);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, e->outbox, IN_MOVED_TO) >= 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        glci_outbox_t *ob = NULL;
        glci_agent_spool_t *sp = NULL;
        glci_outbox_opts_t o = {0};
        glci_agent_spool_opts_t so = {.state_dir = e->outbox};
        if (glci_outbox_open(e->outbox, &o, &ob, err, sizeof err) != 0 ||
            glci_agent_spool_open(e->spool, &so, &sp, err, sizeof err) != 0)
            _exit(3);
        glci_agent_spool_stats_t st = {0};
        glci_agent_spool_scan(sp, ob, 100, GLCI_AGENT_CSV_AUTO, &st);
        _exit(4);            /* read it all before the kill: the test fails */
    }
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int seen = 0;
    while (!seen) {
        struct pollfd pf = {in, POLLIN, 0};
        if (poll(&pf, 1, 120000) != 1) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("the spool never said it was reading the file");
        }
        ssize_t n = read(in, buf, sizeof buf);
        assert_true(n > 0);
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            if (ev->len && strcmp(ev->name, GLCI_AGENT_SPOOL_MARKER) == 0)
                seen = 1;
            p += sizeof *ev + ev->len;
        }
    }
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    close(in);
}

static void test_a_file_that_stops_the_agent_twice_is_set_aside(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 1);
    glci_agent_spool_close(&e.sp);
    /* a file long enough to read that the kill lands inside the read */
    char path[500];
    snprintf(path, sizeof path, "%s/slow.csv", e.spool);
    assert_int_equal(glci_ts_write_rows(path, "indicator,period,value\n",
                                        "x,#,not-a-number-at-all\n", 2000000), 0);
    s_age(path, 10);

    s_die_while_reading(&e);
    /* the first death: the file is read again at the next start */
    char err[512];
    glci_agent_spool_opts_t so = {.state_dir = e.outbox};
    assert_int_equal(glci_agent_spool_open(e.spool, &so, &e.sp, err, sizeof err), 0);
    assert_true(s_exists(path));
    glci_agent_spool_close(&e.sp);
    s_die_while_reading(&e);
    /* the second: set aside at start, with the reason */
    assert_int_equal(glci_agent_spool_open(e.spool, &so, &e.sp, err, sizeof err), 0);
    assert_false(s_exists(path));
    snprintf(path, sizeof path, "%s/failed/slow.csv.errors", e.spool);
    char *errs = s_read(path);
    assert_non_null(errs);
    assert_non_null(strstr(errs, "file: the agent stopped 2 times while reading this file"));
    free(errs);
    char *log = s_env_log(&e);
    assert_non_null(strstr(log, "ALARM: "));
    free(log);
    snprintf(path, sizeof path, "%s/%s", e.outbox, GLCI_AGENT_SPOOL_MARKER);
    assert_false(s_exists(path));
    s_env_release(&e);
}

/* ---- finding 3: a writer that pauses mid-file, without leases ------------ */

static void test_a_paused_writer_loses_no_rows(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    s_env_t e;
    s_env_init(&e, 300, 0);
    char path[500];
    snprintf(path, sizeof path, "%s/p.csv", e.spool);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, T_NOBODY, T_NOBODY), 0);   /* a staff member's file */
    assert_int_equal(s_cap_lease(0), 0);                   /* no lease for the agent */

    char rows[4096];
    size_t n = (size_t)snprintf(rows, sizeof rows, "indicator,period,value\n");
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(rows + n, sizeof rows - n, "first_%d,2024,%d\n", i, i);
    assert_int_equal(write(fd, rows, n), (ssize_t)n);
    s_age(path, 10);              /* the old rule took it now: it looks settled */
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(st.files_busy, 1);            /* first look: only remembered */
    assert_int_equal(s_queued(&e), 0);
    s_sleep_ms(400);
    s_scan(&e, &st);                               /* quiet since: taken */
    assert_int_equal(st.files_done, 1);
    assert_int_equal(s_queued(&e), 10);
    assert_true(glci_agent_spool_wants_look(e.sp));

    /* the writer goes on, through the descriptor it kept: into done/p.csv */
    n = 0;
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(rows + n, sizeof rows - n, "second_%d,2024,%d\n", i, i);
    assert_int_equal(write(fd, rows, n), (ssize_t)n);
    close(fd);
    s_scan(&e, &st);                               /* growth seen: wait for quiet */
    s_sleep_ms(400);
    s_scan(&e, &st);
    assert_int_equal(s_queued(&e), 20);            /* nothing lost */
    assert_int_equal(st.rows_queued, 10);
    char *log = s_env_log(&e);
    if (!strstr(log, "ALARM: ") || !strstr(log, "grew by") || !strstr(log, "10 more rows"))
        fail_msg("no alarm for the rows added after the take:\n%s", log);
    free(log);
    /* looked at again, nothing is queued twice */
    s_sleep_ms(400);
    s_scan(&e, &st);
    assert_int_equal(s_queued(&e), 20);

    /* cut mid-row, paused: a file that does not end a line waits five quiet
     * periods; taken then, it fails whole, and its growth is reported */
    snprintf(path, sizeof path, "%s/q.csv", e.spool);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, T_NOBODY, T_NOBODY), 0);
    const char *part = "indicator,period,value\nx,2024,1\ny,20";
    assert_int_equal(write(fd, part, strlen(part)), (ssize_t)strlen(part));
    s_age(path, 10);
    s_scan(&e, &st);
    s_sleep_ms(400);
    s_scan(&e, &st);
    assert_int_equal(st.files_busy, 1);            /* quiet once: not enough */
    assert_int_equal(s_queued(&e), 20);
    s_sleep_ms(1200);
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);
    assert_int_equal(write(fd, "24,2\n", 5), 5);
    close(fd);
    s_scan(&e, &st);
    s_sleep_ms(400);
    s_scan(&e, &st);
    log = s_env_log(&e);
    if (!strstr(log, "failed/q.csv grew by 5 bytes after it was taken"))
        fail_msg("no alarm for the failed file that grew:\n%s", log);
    free(log);
    assert_int_equal(s_queued(&e), 20);
    assert_int_equal(s_cap_lease(1), 0);
    s_env_release(&e);
}

/* ---- findings 6 and 11: names in the log, links and FIFOs ----------------- */

static void test_odd_names_are_logged_once_and_escaped(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 0);
    char path[500];
    snprintf(path, sizeof path, "%s/link.csv", e.spool);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/pipe.csv", e.spool);
    assert_int_equal(mkfifo(path, 0644), 0);
    snprintf(path, sizeof path, "%s/dir.csv", e.spool);
    assert_int_equal(mkdir(path, 0755), 0);
    /* a name that would forge a log line, and one that reorders it */
    s_spool_file(&e, "evil\n2026-01-01T00:00:00.000Z error glci-agent: forged.csv",
                 "indicator,period,value\nbad\n");
    s_spool_file(&e, "report\xE2\x80\xAE" "vsc.csv", "indicator,period,value\nbad\n");
    glci_agent_spool_stats_t st;
    for (int i = 0; i < 3; i++)
        s_scan(&e, &st);
    char *log = s_env_log(&e);
    assert_int_equal(s_count(log, "link.csv is a symbolic link, not a regular file"), 1);
    assert_int_equal(s_count(log, "pipe.csv is a FIFO, not a regular file"), 1);
    assert_int_equal(s_count(log, "dir.csv is a folder, not a regular file"), 1);
    assert_null(strstr(log, "\n2026-01-01T00:00:00.000Z error glci-agent: forged"));
    assert_non_null(strstr(log, "evil\\x0A2026-01-01"));
    assert_null(strstr(log, "\xE2\x80\xAE"));
    assert_non_null(strstr(log, "report\\xE2\\x80\\xAEvsc.csv"));
    free(log);
    /* nothing was taken or moved */
    snprintf(path, sizeof path, "%s/pipe.csv", e.spool);
    assert_true(s_exists(path));
    /* a link that goes and comes back is logged again, once */
    snprintf(path, sizeof path, "%s/link.csv", e.spool);
    assert_int_equal(unlink(path), 0);
    s_scan(&e, &st);
    assert_int_equal(symlink("/etc/hostname", path), 0);
    s_scan(&e, &st);
    s_scan(&e, &st);
    log = s_env_log(&e);
    assert_int_equal(s_count(log, "link.csv is a symbolic link"), 2);
    free(log);
    s_env_release(&e);
}

/* Fails the test with the log, stderr given back first (fail_msg writes
 * there). */
static void s_env_fail(s_env_t *e, const char *log)
{
    s_env_release(e);
    fail_msg("log: %s", log);
}

/* A name already taken in failed/ or done/: the log names where the file
 * and its .errors went (failed/h.csv.1 with failed/h.csv.1.errors), for a
 * file of bad lines and one failed whole, and done/a.csv.1 for a file
 * taken. */
static void test_clashing_names_are_logged_as_moved(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 0);
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/failed/h.csv", e.spool);
    s_write(path, "an earlier failure\n");
    snprintf(path, sizeof path, "%s/done/a.csv", e.spool);
    s_write(path, "an earlier delivery\n");
    s_spool_file(&e, "h.csv", "indicator,period,value\nx,2020,NaN\n");
    s_spool_file(&e, "a.csv", "indicator,period,value\nx,2020,1\n");
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);
    assert_int_equal(st.files_done, 1);
    char *log = s_env_log(&e);
    if (!strstr(log, "moved to failed/h.csv.1 with failed/h.csv.1.errors;") ||
        !strstr(log, "a.csv: queued 1 row as batch 1 (read as comma by") ||
        !strstr(log, "; moved to done/a.csv.1\n") || strstr(log, "with h.csv.errors"))
        s_env_fail(&e, log);
    free(log);
    snprintf(path, sizeof path, "%s/failed/h.csv.1.errors", e.spool);
    assert_true(s_exists(path));

    /* failed whole: rows that cannot fit the limit, failed/h.csv.1 taken too */
    glci_outbox_close(&e.ob);
    glci_outbox_opts_t o = {.limit = 4096};
    assert_int_equal(glci_outbox_open(e.outbox, &o, &e.ob, err, sizeof err), 0);
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof big, "indicator,period,value\n");
    for (int i = 0; n + 40 < 4000; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "x,%d,1\n", 2000 + i);
    s_spool_file(&e, "h.csv", big);
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);
    log = s_env_log(&e);
    if (!strstr(log, "moved to failed/h.csv.2 with failed/h.csv.2.errors;"))
        s_env_fail(&e, log);
    free(log);
    s_env_release(&e);
}

/* A header and no rows is no malformed line: the file goes to done/ with a
 * line saying it held no values, and nothing is queued. */
static void test_header_only_file_goes_to_done(void **state)
{
    (void)state;
    s_env_t e;
    s_env_init(&e, 0, 0);
    s_spool_file(&e, "hdr.csv", "indicator,period,value\n\n");
    glci_agent_spool_stats_t st;
    s_scan(&e, &st);
    assert_int_equal(st.files_done, 1);
    assert_int_equal(st.files_failed, 0);
    assert_int_equal(s_queued(&e), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/done/hdr.csv", e.spool);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/done/hdr.csv.log", e.spool);
    char *dl = s_read(path);
    assert_non_null(dl);
    assert_non_null(strstr(dl, "a header and no rows: no values, nothing queued"));
    free(dl);
    char *log = s_env_log(&e);
    if (!strstr(log, "hdr.csv: a header and no rows: it held no values, nothing queued; "
                     "moved to done/hdr.csv"))
        s_env_fail(&e, log);
    free(log);
    /* a 0-byte file still fails: the header is required */
    s_spool_file(&e, "empty.csv", "");
    s_scan(&e, &st);
    assert_int_equal(st.files_failed, 1);
    s_env_release(&e);
}

int main(void)
{
    glci_log_init("glci-agent", GLCI_LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_folder_of_links_is_not_written_through,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_errors_file_is_never_written_through_a_link,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_done_log_is_never_written_through_a_link,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dialect_chosen_from_bytes_fed_one_by_one,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_million_bad_lines_cost_a_counter, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_utf16_file_is_named, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_push_csv_is_capped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_file_that_stops_the_agent_twice_is_set_aside,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_paused_writer_loses_no_rows, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_odd_names_are_logged_once_and_escaped, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_clashing_names_are_logged_as_moved, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_header_only_file_goes_to_done, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
