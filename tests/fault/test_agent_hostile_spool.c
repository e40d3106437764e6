/* The real glci-agent against a hostile or careless spool (issue 20): the
 * installation of the system harness (glci init, city add, CURVE), the
 * daemon as packaged, and the attacks as the findings describe them:
 *  1. a group member swaps spool/failed for a folder holding
 *     x.csv.errors -> OUTBOX/data.mdb and drops a bad x.csv: the agent
 *     survives, its outbox intact, and delivers every value;
 *  2. a file of 5,000,000 two-byte bad rows (10 MB): the agent's peak
 *     memory stays small and the errors file short; push --csv /dev/zero
 *     ends with one line; a file the agent dies on twice while reading it
 *     is set aside at the next start;
 *  3. a writer that pauses mid-file while leases do not work (the agent
 *     runs without CAP_LEASE and the file is another user's): every row
 *     is delivered, and the late ones with an ALARM;
 *  6, 11. names that are links, FIFOs or folders are logged once each, a
 *     name with a line break cannot forge a log line.
 * Old code: 1 dies of SIGBUS with its batches gone, 2 uses hundreds of MB
 * and aborts under a memory limit, 3 delivers half the file silently. */
#define _GNU_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_checker.h"

#define T_NOBODY 65534

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int s_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Waits for path to exist; fails with the agent's log at the deadline. */
static void s_wait_path(glci_sys_t *s, const char *path, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (s_exists(path))
            return;
        s_sleep_ms(50);
    }
    char *log = s->agents[0].proc ? glci_ts_proc_stderr(s->agents[0].proc) : NULL;
    fail_msg("%s did not appear; agent log:\n%s", path, log ? log : "");
}

static void s_conf_add(glci_sys_t *s, const char *lines)
{
    char *conf = glci_ts_read_file(s->agents[0].conf);
    assert_non_null(conf);
    size_t len = strlen(conf) + strlen(lines) + 1;
    char *next = malloc(len);
    snprintf(next, len, "%s%s", conf, lines);
    assert_int_equal(glci_ts_write_file(s->agents[0].conf, next), 0);
    free(next);
    free(conf);
}

/* A peak resident size (kB) of a running process: VmHWM. */
static long s_peak_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static void test_swapped_failed_folder_leaves_the_outbox_intact(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 10};
    glci_sys_t *s = glci_sys_open("hostile-spool", 1, &o);
    glci_sys_agent_t *a = &s->agents[0];
    /* values waiting in the outbox: the collector is not running yet */
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 40);

    /* mv failed failed.old; mkdir failed; ln -s OUTBOX/data.mdb failed/x.csv.errors */
    char failed[700], old[700], link[800], data[700], path[800];
    snprintf(failed, sizeof failed, "%s/failed", a->spool);
    snprintf(old, sizeof old, "%s/failed.old", a->spool);
    snprintf(data, sizeof data, "%s/data.mdb", a->outbox);
    assert_int_equal(rename(failed, old), 0);
    assert_int_equal(mkdir(failed, 02770), 0);
    assert_int_equal(chown(failed, T_NOBODY, T_NOBODY), 0);
    snprintf(link, sizeof link, "%s/x.csv.errors", failed);
    assert_int_equal(symlink(data, link), 0);
    struct stat before;
    assert_int_equal(stat(data, &before), 0);
    glci_sys_spool_text(s, 0, "x.csv", "indicator,period,value\nthis is not a row\n");

    /* the bad file is failed into a failed/ of the agent's own */
    snprintf(path, sizeof path, "%s/x.csv", failed);
    s_wait_path(s, path, 30000);
    assert_true(glci_ts_proc_alive(a->proc));
    struct stat fs;
    assert_int_equal(lstat(failed, &fs), 0);
    assert_true(S_ISDIR(fs.st_mode));
    assert_int_equal(fs.st_uid, geteuid());
    snprintf(path, sizeof path, "%s/x.csv.errors", failed);
    assert_int_equal(lstat(path, &fs), 0);
    assert_true(S_ISREG(fs.st_mode));
    char *log = glci_ts_proc_stderr(a->proc);
    assert_non_null(strstr(log, "ALARM: "));
    assert_non_null(strstr(log, "moved aside"));
    free(log);
    /* the impostor was moved aside whole, its link untouched */
    DIR *d = opendir(a->spool);
    assert_non_null(d);
    struct dirent *e;
    char aside[1200] = "";
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".failed.suspect-", 16) == 0)
            snprintf(aside, sizeof aside, "%s/%s/x.csv.errors", a->spool, e->d_name);
    closedir(d);
    assert_true(aside[0]);
    char target[700];
    ssize_t n = readlink(aside, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, data);
    struct stat after;
    assert_int_equal(stat(data, &after), 0);
    assert_true(after.st_ino == before.st_ino);

    /* the outbox opens and delivers all 40 values exactly once */
    char *out = NULL;
    const char *st[] = {s->agent_bin, "status", "--config", a->conf, NULL};
    assert_int_equal(glci_ts_run(st, NULL, 30000, &out, NULL), 0);
    free(out);
    glci_sys_start_collector(s, NULL);
    glci_sys_assert_exactly_once(s);
    assert_true(glci_ts_proc_alive(a->proc));
    glci_sys_close(&s);
}

static void test_a_flood_of_bad_rows_costs_little(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("hostile-flood", 1, NULL);
    glci_sys_agent_t *a = &s->agents[0];
    glci_sys_start_agent(s, 0);
    long base = s_peak_kib(glci_ts_proc_pid(a->proc));

    /* 10 MB of two-byte bad rows */
    char tmp[700], path[800];
    snprintf(tmp, sizeof tmp, "%s/.flood.csv", a->spool);
    assert_int_equal(glci_ts_write_rows(tmp, "indicator,period,value\n", "x\n", 5000000), 0);
    snprintf(path, sizeof path, "%s/flood.csv", a->spool);
    assert_int_equal(rename(tmp, path), 0);
    snprintf(path, sizeof path, "%s/failed/flood.csv.errors", a->spool);
    s_wait_path(s, path, 120000);
    s_sleep_ms(200);
    long peak = s_peak_kib(glci_ts_proc_pid(a->proc));
    print_message("# agent peak RSS: %ld kB before, %ld kB after a 10 MB file of bad rows\n",
                  base, peak);
    /* the old reader kept one string per bad line: about 345 MB here (a
     * sanitizer build's allocator keeps freed memory: not measured there) */
#ifndef __SANITIZE_ADDRESS__
    assert_true(peak > 0 && peak - base < 32 * 1024);
#endif
    char *errs = glci_ts_read_file(path);
    assert_non_null(errs);
    assert_true(strlen(errs) < 8192);
    assert_non_null(strstr(errs, "and 4999900 more bad lines (not listed)"));
    free(errs);

    /* push --csv /dev/zero: one line, under a memory limit the old code
     * could not live with (it read until memory ran out). AddressSanitizer
     * reserves terabytes of shadow memory, so a sanitizer build runs it
     * without the limit. */
#ifdef __SANITIZE_ADDRESS__
    const char *push[] = {s->agent_bin, "push", "--csv", "/dev/zero", "--config", a->conf,
                          NULL};
#else
    const char *push[] = {"/usr/bin/prlimit", "--as=2147483648", "--", s->agent_bin, "push",
                          "--csv", "/dev/zero", "--config", a->conf, NULL};
#endif
    char *err = NULL;
    int rc = glci_ts_run(push, NULL, 120000, NULL, &err);
    if (rc != 1 || !strstr(err, "more than 268435456 bytes") || strchr(err, '\n')[1])
        fail_msg("push --csv /dev/zero: exit %d, stderr:\n%s", rc, err);
    free(err);

    /* a file that alone is more than the outbox may hold: said so, not
     * "it drains as the collector acknowledges" of an empty outbox */
    char big[700], empty[700];
    snprintf(big, sizeof big, "%s/big.csv", s->dir);
    snprintf(empty, sizeof empty, "%s/empty-outbox", s->dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    fputs("indicator,period,value\n", f);
    for (int i = 0; i < 30000; i++)
        fprintf(f, "x%d,2025,%d\n", i % 97, i);
    assert_int_equal(fclose(f), 0);
    const char *alone[] = {s->agent_bin, "push", "--csv", big, "--config", a->conf, "--outbox",
                           empty, "--outbox-limit", "64K", NULL};
    err = NULL;
    rc = glci_ts_run(alone, NULL, 120000, NULL, &err);
    if (rc != 1 || !strstr(err, "larger than the outbox size limit (65536 bytes) on its own; "
                                "split it") || strchr(err, '\n')[1])
        fail_msg("push --csv of a file over the limit: exit %d, stderr:\n%s", rc, err);
    free(err);
    /* the same with the outbox most of the way full (nothing delivers):
     * still the file's own size, not "it drains as the collector
     * acknowledges", since no delivery would ever make room */
    char part[700];
    snprintf(part, sizeof part, "%s/part.csv", s->dir);
    f = fopen(part, "w");
    assert_non_null(f);
    fputs("indicator,period,value\n", f);
    for (int i = 0; i < 1500; i++)
        fprintf(f, "y%d,2025,%d\n", i % 97, i);
    assert_int_equal(fclose(f), 0);
    const char *fill[] = {s->agent_bin, "push", "--csv", part, "--config", a->conf, "--outbox",
                          empty, "--outbox-limit", "64K", NULL};
    assert_int_equal(glci_ts_run(fill, NULL, 120000, NULL, NULL), 0);
    err = NULL;
    rc = glci_ts_run(alone, NULL, 120000, NULL, &err);
    if (rc != 1 || !strstr(err, "larger than the outbox size limit (65536 bytes) on its own; "
                                "split it") || strstr(err, "drains") || strchr(err, '\n')[1])
        fail_msg("push --csv of a file over the limit, outbox not empty: exit %d, stderr:\n%s",
                 rc, err);
    free(err);
    /* a file that only needs room is told to wait */
    rc = glci_ts_run(fill, NULL, 120000, NULL, &err);
    if (rc != 1 || !strstr(err, "has reached its size limit (65536 bytes); it drains"))
        fail_msg("push --csv into a full outbox: exit %d, stderr:\n%s", rc, err);
    free(err);
    glci_sys_close(&s);
}

/* Waits for the agent to rename its reading marker into place. */
static void s_kill_while_reading(glci_sys_t *s, int in)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        struct pollfd pf = {in, POLLIN, 0};
        if (poll(&pf, 1, 120000) != 1)
            fail_msg("the agent never said it was reading the spool file");
        ssize_t n = read(in, buf, sizeof buf);
        assert_true(n > 0);
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            if (ev->len && strcmp(ev->name, "spool.reading") == 0) {
                glci_sys_kill9_agent(s, 0);
                return;
            }
            p += sizeof *ev + ev->len;
        }
    }
}

static void test_a_file_the_agent_dies_on_is_set_aside(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("hostile-crash", 1, NULL);
    glci_sys_agent_t *a = &s->agents[0];
    char path[800];
    /* a spool file long enough to read that the kill lands inside the read */
    assert_int_equal(mkdir(a->spool, 0755), 0);
    snprintf(path, sizeof path, "%s/slow.csv", a->spool);
    assert_int_equal(glci_ts_write_rows(path, "indicator,period,value\n",
                                        "x,#,not-a-number-at-all\n", 2000000), 0);
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= 10;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    /* the outbox folder exists once the agent ran: push makes it */
    glci_sys_push(s, 0, 4);

    int in = inotify_init1(IN_CLOEXEC);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, a->outbox, IN_MOVED_TO) >= 0);
    for (int death = 0; death < 2; death++) {
        const char *argv[] = {s->agent_bin, "run", "--config", a->conf, NULL};
        a->proc = glci_ts_proc_start(argv, NULL);
        s_kill_while_reading(s, in);       /* as an OOM kill or an abort would */
        assert_true(s_exists(path));
    }
    close(in);
    glci_sys_start_agent(s, 0);
    char errs[900];
    snprintf(errs, sizeof errs, "%s/failed/slow.csv.errors", a->spool);
    s_wait_path(s, errs, 30000);
    assert_false(s_exists(path));
    char *text = glci_ts_read_file(errs);
    assert_non_null(strstr(text, "the agent stopped 2 times while reading this file"));
    free(text);
    char *log = glci_ts_proc_stderr(a->proc);
    assert_non_null(strstr(log, "ALARM: "));
    free(log);
    /* and the agent goes on: the values pushed meanwhile are delivered */
    glci_sys_start_collector(s, NULL);
    glci_sys_assert_exactly_once(s);
    assert_true(glci_ts_proc_alive(a->proc));
    glci_sys_close(&s);
}

static void test_a_paused_writer_loses_no_rows(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("hostile-pause", 1, NULL);
    glci_sys_agent_t *a = &s->agents[0];
    s_conf_add(s, "rescan_interval = 1\n");
    glci_sys_start_collector(s, NULL);
    /* as packaged: the agent may not take leases on staff's files */
    const char *argv[] = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--bounding-set",
                          "-lease", "--", s->agent_bin, "run", "--config", a->conf, NULL};
    a->proc = glci_ts_proc_start(argv, NULL);
    assert_int_equal(glci_ts_proc_wait_ready(a->proc, GLCI_SYS_READY_MS), 0);

    char path[800], rows[4096];
    uint32_t lane = glci_checker_new_lane(s->chk);
    snprintf(path, sizeof path, "%s/paused.csv", a->spool);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, T_NOBODY, T_NOBODY), 0);
    size_t n = (size_t)snprintf(rows, sizeof rows, "indicator,period,value\n");
    for (int i = 0; i < 20; i++) {
        const char *ind = i % 2 ? "adult_literacy_rate" : "adult_learning_rate";
        char v[32];
        snprintf(v, sizeof v, "%d.5", 10 + i);
        n += (size_t)snprintf(rows + n, sizeof rows - n, "%s,%d,%s\n", ind, 2000 + i, v);
        glci_checker_expect_lane(s->chk, a->city, ind, 2000 + i, strtod(v, NULL), lane);
        if (i == 9) {
            /* half the file, then a pause longer than the quiet rule waits */
            assert_int_equal(write(fd, rows, n), (ssize_t)n);
            n = 0;
            s_sleep_ms(8000);
        }
    }
    assert_int_equal(write(fd, rows, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
    glci_sys_wait_stored(s, 20, 120000);
    glci_sys_assert_exactly_once(s);
    char *log = glci_ts_proc_stderr(a->proc);
    /* taken after the pause it is whole; taken during it, the rest follows
     * with an alarm */
    char done[800];
    snprintf(done, sizeof done, "%s/done/paused.csv", a->spool);
    if (strstr(log, "grew by"))
        assert_non_null(strstr(log, "10 more rows were queued too"));
    print_message("# the paused file was taken %s\n",
                  strstr(log, "grew by") ? "during the pause, the rest with an ALARM"
                                         : "after the pause, whole");
    free(log);
    assert_true(s_exists(done));
    glci_sys_close(&s);
}

static size_t s_count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Links, FIFOs and folders under *.csv names are logged once each, not at
 * every rescan; a name with a line break or an override is escaped. */
static void test_odd_names_are_logged_once_and_escaped(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("hostile-names", 1, NULL);
    glci_sys_agent_t *a = &s->agents[0];
    s_conf_add(s, "rescan_interval = 1\n");
    assert_int_equal(mkdir(a->spool, 0755), 0);
    char path[800];
    snprintf(path, sizeof path, "%s/link.csv", a->spool);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/pipe.csv", a->spool);
    assert_int_equal(mkfifo(path, 0644), 0);
    snprintf(path, sizeof path, "%s/dir.csv", a->spool);
    assert_int_equal(mkdir(path, 0755), 0);
    glci_sys_start_agent(s, 0);
    glci_sys_spool_text(s, 0, "evil\n2026-01-01T00:00:00.000Z error glci-agent: forged.csv",
                        "indicator,period,value\nbad\n");
    snprintf(path, sizeof path, "%s/failed/evil\n2026-01-01T00:00:00.000Z error glci-agent: "
             "forged.csv.errors", a->spool);
    s_wait_path(s, path, 30000);
    s_sleep_ms(3500);                  /* three rescans more */
    char *log = glci_ts_proc_stderr(a->proc);
    if (s_count(log, "link.csv is a symbolic link, not a regular file") != 1 ||
        s_count(log, "pipe.csv is a FIFO, not a regular file") != 1 ||
        s_count(log, "dir.csv is a folder, not a regular file") != 1)
        fail_msg("each odd name logged once, not:\n%s", log);
    assert_null(strstr(log, "\n2026-01-01T00:00:00.000Z error glci-agent: forged"));
    assert_non_null(strstr(log, "evil\\x0A2026-01-01"));
    free(log);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_swapped_failed_folder_leaves_the_outbox_intact,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_a_flood_of_bad_rows_costs_little, glci_sys_teardown),
        cmocka_unit_test_teardown(test_a_file_the_agent_dies_on_is_set_aside,
                                  glci_sys_teardown),
        cmocka_unit_test_teardown(test_a_paused_writer_loses_no_rows, glci_sys_teardown),
        cmocka_unit_test_teardown(test_odd_names_are_logged_once_and_escaped,
                                  glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
