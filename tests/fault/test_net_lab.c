/* The fault lab and the fault proxy themselves: a lab's links carry TCP,
 * a cut stops it and mending brings it back, loss and duplication rules
 * count the packets they hit, a tmpfs fills and frees, bad arguments are
 * refused, and a lab whose process is killed with SIGKILL leaves no
 * namespace behind (its watchdog removes them). The proxy: bad flags and
 * control files are refused with one line naming the fault, a bad control
 * file on SIGHUP keeps the settings in force, and a stream passes through
 * it intact when no fault is asked for.
 *
 * Skipped (exit 77) where network namespaces cannot be made. */
#define _GNU_SOURCE               /* setns */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glci_lab.h"
#include "glci_netsys.h"

#define S_PORT 9400

/* Joins namespace name (in a child that will _exit). */
static void s_enter(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
        _exit(100);
    close(fd);
}

/* An echo server in namespace name on port S_PORT: a child process. */
static pid_t s_echo_server(const char *name)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* dies with the test, even one that fails half-way: it holds the
         * test's stdout, which ctest waits on */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(ready[0]);
        s_enter(name);
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(S_PORT)};
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0)
            _exit(101);
        (void)!write(ready[1], "r", 1);
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                continue;
            char buf[4096];
            ssize_t n;
            while ((n = read(c, buf, sizeof buf)) > 0)
                if (write(c, buf, (size_t)n) != n)
                    break;
            close(c);
        }
    }
    close(ready[1]);
    char r;
    assert_int_equal(read(ready[0], &r, 1), 1);
    close(ready[0]);
    return pid;
}

/* From namespace name, connects to addr:port and has bytes echoed back,
 * waiting at most wait_s seconds for each step. Returns 0 if they all came
 * back intact, 1 if the connection could not be made or went silent, 2 if
 * they came back changed. */
static int s_echo_wait(const char *name, const char *addr, int port, size_t bytes, int wait_s)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        s_enter(name);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, addr, &a.sin_addr);
        struct timeval tv = {wait_s, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
            _exit(1);
        unsigned char *out = malloc(bytes), *in = malloc(bytes);
        /* never periodic: a duplicated or swapped chunk must show */
        uint64_t x = 88172645463325252ULL;
        for (size_t i = 0; i < bytes; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out[i] = (unsigned char)(x >> 32);
        }
        size_t sent = 0, got = 0;
        while (got < bytes) {
            if (sent < bytes) {
                size_t step = bytes - sent < 8192 ? bytes - sent : 8192;
                ssize_t n = write(fd, out + sent, step);
                if (n <= 0)
                    _exit(1);
                sent += (size_t)n;
            }
            ssize_t n = read(fd, in + got, bytes - got);
            if (n <= 0)
                _exit(1);
            got += (size_t)n;
        }
        _exit(memcmp(in, out, bytes) == 0 ? 0 : 2);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

/* An echo that should pass waits long (a lossy link retransmits for
 * seconds); one through a cut fails after 3 s. */
static int s_echo_from(const char *name, const char *addr, int port, size_t bytes)
{
    return s_echo_wait(name, addr, port, bytes, 60);
}

static int s_echo_cut(const char *name, const char *addr, int port, size_t bytes)
{
    return s_echo_wait(name, addr, port, bytes, 3);
}

static void s_stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int s_ns_exists(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    return access(path, F_OK) == 0;
}

static glci_lab_t *s_open(size_t sites)
{
    glci_lab_t *lab = NULL;
    char err[512];
    int rc = glci_lab_open("labtest", sites, &lab, err, sizeof err);
    if (rc != 0)
        fail_msg("lab: %s", err);
    return lab;
}

static void test_links_cut_and_mend(void **state)
{
    (void)state;
    glci_lab_t *lab = s_open(2);
    const char *coll = glci_lab_addr(lab, GLCI_LAB_COLLECTOR);
    pid_t srv = s_echo_server(glci_lab_ns(lab, GLCI_LAB_COLLECTOR));
    assert_int_equal(s_echo_from(glci_lab_ns(lab, 0), coll, S_PORT, 100000), 0);
    assert_int_equal(s_echo_from(glci_lab_ns(lab, 1), coll, S_PORT, 100000), 0);

    /* a site cut by a drop-all rule: that site only */
    assert_int_equal(glci_lab_cut(lab, 0, GLCI_LAB_CUT_DROP), 0);
    assert_int_equal(s_echo_cut(glci_lab_ns(lab, 0), coll, S_PORT, 1000), 1);
    assert_int_equal(s_echo_from(glci_lab_ns(lab, 1), coll, S_PORT, 1000), 0);
    assert_int_equal(glci_lab_cut(lab, 0, 0), 0);
    assert_int_equal(s_echo_from(glci_lab_ns(lab, 0), coll, S_PORT, 1000), 0);

    /* the collector's link down: every site */
    assert_int_equal(glci_lab_cut(lab, GLCI_LAB_COLLECTOR, GLCI_LAB_CUT_DOWN), 0);
    assert_int_equal(s_echo_cut(glci_lab_ns(lab, 0), coll, S_PORT, 1000), 1);
    assert_int_equal(s_echo_cut(glci_lab_ns(lab, 1), coll, S_PORT, 1000), 1);
    assert_int_equal(glci_lab_heal(lab), 0);
    assert_int_equal(s_echo_from(glci_lab_ns(lab, 1), coll, S_PORT, 1000), 0);

    /* loss and duplication: TCP carries the bytes intact through both, and
     * the rules did hit packets */
    assert_int_equal(glci_lab_loss(lab, 0, 20), 0);
    assert_int_equal(glci_lab_dup(lab, 0, 30), 0);
    assert_int_equal(s_echo_from(glci_lab_ns(lab, 0), coll, S_PORT, 300000), 0);
    glci_lab_counts_t c;
    assert_int_equal(glci_lab_counts(lab, 0, &c), 0);
    fprintf(stderr, "# site 0: %llu packets dropped, %llu duplicated\n", c.lost, c.duplicated);
    assert_true(c.lost > 0);
    assert_true(c.duplicated > 0);
    assert_int_equal(glci_lab_heal(lab), 0);
    assert_int_equal(glci_lab_counts(lab, 0, &c), 0);
    assert_int_equal(c.lost + c.duplicated, 0);
    s_stop(srv);
    glci_lab_close(&lab);
    assert_null(lab);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    glci_lab_t *lab = NULL;
    char err[512] = "";
    assert_int_equal(glci_lab_open("Bad-Tag", 1, &lab, err, sizeof err), GLCI_LAB_EINVAL);
    assert_non_null(strstr(err, "Bad-Tag"));
    assert_int_equal(glci_lab_open("ok", 0, &lab, err, sizeof err), GLCI_LAB_EINVAL);
    assert_non_null(strstr(err, "sites"));
    assert_null(lab);
    lab = s_open(1);
    assert_int_equal(glci_lab_loss(lab, 0, 101), GLCI_LAB_EINVAL);
    assert_int_equal(glci_lab_dup(lab, 5, 10), GLCI_LAB_EINVAL);
    assert_int_equal(glci_lab_cut(lab, GLCI_LAB_HUB, GLCI_LAB_CUT_DROP), GLCI_LAB_EINVAL);
    assert_int_equal(glci_lab_cut(lab, 0, 7), GLCI_LAB_EINVAL);
    assert_null(glci_lab_ns(lab, 1));
    assert_string_equal(glci_lab_strerror(GLCI_LAB_EINVAL), "invalid argument");
    glci_lab_close(&lab);
}

static void test_tmpfs_fills_and_frees(void **state)
{
    (void)state;
    glci_lab_t *lab = s_open(1);
    char *dir = glci_ts_tmpdir("labdisk");
    char err[512];
    assert_int_equal(glci_lab_tmpfs(lab, dir, 4 << 20, err, sizeof err), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/file", dir);
    assert_int_equal(glci_lab_fill(dir, err, sizeof err), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    static char block[65536];
    size_t n = fwrite(block, 1, sizeof block, f);
    int full = n < sizeof block || fflush(f) != 0;
    fclose(f);
    assert_true(full);
    assert_int_equal(glci_lab_unfill(dir), 0);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    assert_int_equal(fclose(f), 0);
    glci_lab_close(&lab);
    /* unmounted: the file was on the tmpfs, the directory is empty again */
    assert_int_equal(access(path, F_OK), -1);
    glci_ts_rmtree(dir);
    free(dir);
}

static void test_killed_lab_leaves_nothing(void **state)
{
    (void)state;
    int names[2];
    assert_int_equal(pipe(names), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        glci_lab_t *lab = NULL;
        char err[512];
        if (glci_lab_open("crash", 1, &lab, err, sizeof err) != 0)
            _exit(1);
        char line[256];
        int n = snprintf(line, sizeof line, "%s\n%s\n", glci_lab_ns(lab, GLCI_LAB_HUB),
                         glci_lab_ns(lab, 0));
        (void)!write(names[1], line, (size_t)n);
        raise(SIGKILL);
    }
    close(names[1]);
    char buf[256] = "";
    ssize_t n = read(names[0], buf, sizeof buf - 1);
    close(names[0]);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    assert_true(n > 0);
    buf[n] = '\0';
    char *hub = buf, *site = strchr(buf, '\n');
    assert_non_null(site);
    *site++ = '\0';
    site[strcspn(site, "\n")] = '\0';
    int gone = 0;
    for (int waited = 0; waited < 30000 && !gone; waited += 100) {
        gone = !s_ns_exists(hub) && !s_ns_exists(site);
        if (!gone)
            glci_sys_sleep_ms(100);
    }
    if (!gone)
        fail_msg("namespaces %s and %s outlived the killed lab", hub, site);
}

/* ---- the proxy ------------------------------------------------------------- */

/* Runs build/REL with args; fails unless it exits want and its stderr has
 * text (NULL: anything). Returns its stderr (the caller frees); *out (may
 * be NULL) gets its stdout. */
static char *s_run_bin(const char *rel, const char *const *args, int want, const char *text,
                       char **out)
{
    char *bin = glci_ts_bin(rel);
    const char *argv[16] = {bin};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, 60000, out, &err);
    if (rc != want || (text && !strstr(err, text)))
        fail_msg("%s exited %d (not %d) saying: %s (wanted '%s')", rel, rc, want, err,
                 text ? text : "");
    free(bin);
    return err;
}

static void s_proxy_refuses(const char *const *args, int want, const char *text)
{
    char *err = s_run_bin("tests/support/glci-faultproxy", args, want, text, NULL);
    /* one line naming the fault (then the usage line for usage errors) */
    assert_int_equal(strncmp(err, "glci-faultproxy: ", 17), 0);
    assert_non_null(strchr(err, '\n'));
    free(err);
}

static void test_proxy_refuses_bad_input(void **state)
{
    (void)state;
    char *dir = glci_ts_tmpdir("proxyin");
    char bad[600], unknown[600], worse[600];
    snprintf(bad, sizeof bad, "%s/bad.ini", dir);
    snprintf(unknown, sizeof unknown, "%s/unknown.ini", dir);
    snprintf(worse, sizeof worse, "%s/worse.ini", dir);
    assert_int_equal(glci_ts_write_file(bad, "[proxy]\ndelay_ms = 10\ndup_pct = 150\n"), 0);
    assert_int_equal(glci_ts_write_file(unknown, "[proxy]\ndelya_ms = 10\n"), 0);
    assert_int_equal(glci_ts_write_file(worse, "[other]\nstall = 1\n"), 0);
    const char *a1[] = {"--listen", "127.0.0.1", "--upstream", "127.0.0.1:1", NULL};
    s_proxy_refuses(a1, 2, "--listen must be IPV4:PORT");
    const char *a2[] = {"--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:70000", NULL};
    s_proxy_refuses(a2, 2, "--upstream must be IPV4:PORT");
    const char *a3[] = {"--listen", "127.0.0.1:1", "--bogus", "x", NULL};
    s_proxy_refuses(a3, 2, "unknown option '--bogus'");
    const char *a4[] = {"--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:1", "--control",
                        bad, NULL};
    s_proxy_refuses(a4, 1, ":3: dup_pct must be a percentage in [0, 100], not '150'");
    const char *a5[] = {"--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:1", "--control",
                        unknown, NULL};
    s_proxy_refuses(a5, 1, ":2: unknown key 'delya_ms'");
    const char *a6[] = {"--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:1", "--control",
                        worse, NULL};
    s_proxy_refuses(a6, 1, ":2: section [other] is not [proxy]");
    const char *a7[] = {"--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:1", "--seed", "0",
                        NULL};
    s_proxy_refuses(a7, 2, "--seed must be a positive integer");
    glci_ts_rmtree(dir);
    free(dir);
}

static void test_proxy_passes_and_keeps_settings(void **state)
{
    (void)state;
    glci_netsys_t *ns = NULL;
    char err[512];
    glci_netsys_opts_t o = {.sites = 1, .proxy = 1};
    if (glci_netsys_open("proxypass", 0, NULL, &o, &ns, err, sizeof err) != 0)
        fail_msg("%s", err);
    pid_t srv = s_echo_server(glci_lab_ns(ns->lab, GLCI_LAB_COLLECTOR));
    /* the proxy forwards to the collector's port: put the echo server's
     * port behind it by pointing a proxy at it */
    char upstream[64], *bin = glci_ts_bin("tests/support/glci-faultproxy");
    snprintf(upstream, sizeof upstream, "%s:%d", glci_lab_addr(ns->lab, GLCI_LAB_COLLECTOR),
             S_PORT);
    assert_int_equal(glci_ts_write_file(ns->proxy_ctl, "[proxy]\n"), 0);
    const char *argv[] = {bin, "--listen", "0.0.0.0:7462", "--upstream", upstream,
                          "--control", ns->proxy_ctl, NULL};
    ns->proxy = glci_netsys_spawn(ns, GLCI_LAB_HUB, argv, NULL);
    assert_int_equal(glci_ts_proc_wait_ready(ns->proxy, GLCI_SYS_READY_MS), 0);
    const char *hub = glci_lab_hub_addr(ns->lab, 0);
    assert_int_equal(s_echo_from(glci_lab_ns(ns->lab, 0), hub, 7462, 500000), 0);

    /* delayed and jittered, the stream is still intact */
    assert_int_equal(glci_netsys_proxy_set(ns, "delay_ms = 50\njitter_ms = 40\n"), 0);
    assert_int_equal(s_echo_from(glci_lab_ns(ns->lab, 0), hub, 7462, 200000), 0);
    /* a bad file on SIGHUP is reported and the settings stay */
    assert_int_equal(glci_netsys_proxy_set(ns, "delay_ms = soon\n"), -1);
    char *log = glci_ts_proc_stderr(ns->proxy);
    assert_non_null(strstr(log, ":2: delay_ms must be an integer in [0, 600000], not 'soon'; "
                                "keeping the settings in force"));
    free(log);
    assert_true(glci_ts_proc_alive(ns->proxy));
    /* a stall holds every byte: the echo does not come back in time */
    assert_int_equal(glci_netsys_proxy_set(ns, "stall = 1\n"), 0);
    assert_int_equal(s_echo_cut(glci_lab_ns(ns->lab, 0), hub, 7462, 1000), 1);
    assert_int_equal(glci_netsys_proxy_set(ns, ""), 0);
    assert_int_equal(s_echo_from(glci_lab_ns(ns->lab, 0), hub, 7462, 1000), 0);
    /* in-stream duplication corrupts the stream, and is counted */
    assert_int_equal(glci_netsys_proxy_set(ns, "dup_pct = 100\n"), 0);
    assert_int_not_equal(s_echo_cut(glci_lab_ns(ns->lab, 0), hub, 7462, 50000), 0);
    glci_proxy_stats_t st;
    assert_int_equal(glci_netsys_proxy_stats(ns, &st), 0);
    assert_true(st.dups > 0);
    assert_true(st.conns >= 5);
    s_stop(srv);
    free(bin);
    glci_netsys_close(&ns);
}

/* ---- skipping, and the nemesis's command line ------------------------------ */

/* Runs a program as nobody; returns its exit status, *out its stdout. */
static int s_as_nobody(const char *const *args, char **out)
{
    const char *argv[16] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                            "--clear-groups", "--"};
    size_t n = 5;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return glci_ts_run(argv, NULL, 60000, out, NULL);
}

static void test_skipped_where_not_allowed(void **state)
{
    (void)state;
    char *test = glci_ts_bin("tests/test_net_loss");
    char *nemesis = glci_ts_bin("bench/nemesis/glci-nemesis");
    char *out = NULL;
    const char *t[] = {test, NULL};
    assert_int_equal(s_as_nobody(t, &out), GLCI_NETSYS_SKIP);
    assert_non_null(strstr(out, "# SKIP: the network fault tests need network namespaces: "
                                "not root"));
    free(out);
    const char *nm[] = {nemesis, "--agents", "2", "--seconds", "10", NULL};
    assert_int_equal(s_as_nobody(nm, &out), GLCI_NETSYS_SKIP);
    assert_non_null(strstr(out, "\"skipped\": true"));
    free(out);
    free(test);
    free(nemesis);
}

static void s_nemesis(const char *const *args, int want, const char *text, char **out)
{
    free(s_run_bin("bench/nemesis/glci-nemesis", args, want, text, out));
}

static void test_nemesis_command_line(void **state)
{
    (void)state;
    const char *a1[] = {"--agents", "0", NULL};
    s_nemesis(a1, 2, "--agents must be an integer in [1, 400], not '0'", NULL);
    const char *a2[] = {"--bogus", NULL};
    s_nemesis(a2, 2, "unknown option '--bogus'", NULL);
    const char *a3[] = {"--agents", "2", "--sites", "3", NULL};
    s_nemesis(a3, 2, "--sites must not exceed --agents", NULL);
    const char *a4[] = {"--seconds", NULL};
    s_nemesis(a4, 2, "--seconds is missing its value", NULL);

    /* the schedule is a function of the seed and options alone */
    char *x = NULL, *y = NULL, *z = NULL;
    const char *s1[] = {"--seed", "11", "--agents", "30", "--minutes", "20", "--schedule",
                        NULL};
    const char *s2[] = {"--seed", "12", "--agents", "30", "--minutes", "20", "--schedule",
                        NULL};
    s_nemesis(s1, 0, NULL, &x);
    s_nemesis(s1, 0, NULL, &y);
    s_nemesis(s2, 0, NULL, &z);
    assert_string_equal(x, y);
    assert_string_not_equal(x, z);
    assert_non_null(strstr(x, "\"schedule_hash\": "));
    /* at least 1,000 faults an hour: 20 minutes hold more than 333 */
    const char *last = strstr(x, "\"faults\": ");
    assert_non_null(last);
    assert_true(strtol(last + 10, NULL, 10) > 333);
    free(x);
    free(y);
    free(z);
}

GLCI_NETSYS_MAIN(cmocka_unit_test(test_links_cut_and_mend),
                 cmocka_unit_test(test_bad_arguments),
                 cmocka_unit_test(test_tmpfs_fills_and_frees),
                 cmocka_unit_test(test_killed_lab_leaves_nothing),
                 cmocka_unit_test(test_proxy_refuses_bad_input),
                 cmocka_unit_test(test_skipped_where_not_allowed),
                 cmocka_unit_test(test_nemesis_command_line),
                 cmocka_unit_test_teardown(test_proxy_passes_and_keeps_settings,
                                           glci_netsys_teardown))
