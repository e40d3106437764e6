/* Process and temp-dir helpers for the integration tests: see
 * glci_testsupport.h. Plain POSIX: fork/exec, waitpid, an AF_UNIX datagram
 * socket standing in for systemd's notify socket. */
#define _GNU_SOURCE                 /* unshare, CLONE_NEWNET */
#include "glci_testsupport.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void s_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "test support: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static char *s_strdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        s_die("out of memory");
    return p;
}

static char *s_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (!p)
        s_die("out of memory");
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static long long s_ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- paths and directories -------------------------------------------- */

char *glci_ts_tmpdir(const char *tag)
{
    char buf[256];
    snprintf(buf, sizeof buf, "/tmp/glci-%s-XXXXXX", tag ? tag : "test");
    if (!mkdtemp(buf))
        s_die("mkdtemp %s: %s", buf, strerror(errno));
    return s_strdup(buf);
}

void glci_ts_rmtree(const char *path)
{
    if (!path || !*path)
        return;
    const char *argv[] = {"/bin/rm", "-rf", path, NULL};
    pid_t pid = fork();
    if (pid < 0)
        s_die("fork: %s", strerror(errno));
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

char *glci_ts_bin(const char *rel)
{
    const char *dir = getenv("GLCI_BIN_DIR");
    return s_join(dir && *dir ? dir : ".", rel);
}

const char *glci_ts_framework(void)
{
    const char *f = getenv("GLCI_FRAMEWORK");
    if (!f || !*f)
        s_die("GLCI_FRAMEWORK is not set (run through ctest)");
    return f;
}

/* A TCP socket bound to 127.0.0.1:want (0: a port the system chooses),
 * listening when backlog > 0; *port receives the port. Returns the
 * descriptor, or -1 when want is taken (dies on any other failure). */
static int s_bind_loopback_at(int want, int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        s_die("socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)want);
    socklen_t len = sizeof a;
    if (want && bind(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno == EADDRINUSE) {
        close(fd);
        return -1;
    }
    if ((!want && bind(fd, (struct sockaddr *)&a, sizeof a) != 0) ||
        (backlog > 0 && listen(fd, backlog) != 0) ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        s_die("bind 127.0.0.1:%d: %s", want, strerror(errno));
    *port = ntohs(a.sin_port);
    return fd;
}

static int s_bind_loopback(int backlog, int *port)
{
    return s_bind_loopback_at(0, backlog, port);
}

/* The low end of the kernel's ephemeral port range (32768 by default). */
static int s_ephemeral_low(void)
{
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768;
        fclose(f);
    }
    return lo;
}

/* A free port below the ephemeral range: a server started on it later cannot
 * find it taken by an outgoing connection's source port, in particular by
 * a client that dialled it before the server was up (TCP self-connect:
 * the kernel may give the connecting socket the very port it dials). */
int glci_ts_free_port(void)
{
    /* each process its own sequence: parallel tests must not try the
     * same ports in the same order */
    static uint64_t x;
    if (!x) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
        x |= 1;
    }
    int lo = s_ephemeral_low(), span = lo - 10000;
    if (span < 1000)
        goto any;
    for (int tries = 0; tries < 200; tries++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int port, fd = s_bind_loopback_at(10000 + (int)(x % (uint64_t)span), 0, &port);
        if (fd >= 0) {
            close(fd);
            return port;
        }
    }
any:;
    int port;
    close(s_bind_loopback(0, &port));
    return port;
}

int glci_ts_listen_loopback(int *port)
{
    return s_bind_loopback(8, port);
}

size_t glci_ts_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int glci_ts_own_network(char *why, size_t len)
{
    if (geteuid() != 0) {
        snprintf(why, len, "making a network namespace needs root");
        return 77;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, len, "this host does not let us make a network namespace: %s",
                 strerror(errno));
        return 77;
    }
    const char *ip = access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
    const char *up[] = {ip, "link", "set", "lo", "up", NULL};
    char *err = NULL;
    int rc = glci_ts_run(up, NULL, 30000, NULL, &err);
    if (rc != 0) {
        snprintf(why, len, "%s link set lo up exited %d: %s", ip, rc, err ? err : "");
        free(err);
        return 1;
    }
    free(err);
    char *addrs = glci_ts_read_file("/proc/net/if_inet6");
    int has = addrs && strstr(addrs, "00000000000000000000000000000001") != NULL;
    free(addrs);
    if (!has) {
        snprintf(why, len, "no ::1 on lo in the test's network namespace (a kernel "
                           "without IPv6?)");
        return 1;
    }
    return 0;
}

int glci_ts_try_own_network(const char *cases)
{
    char why[512];
    int rc = glci_ts_own_network(why, sizeof why);
    if (rc == 1) {
        fprintf(stderr, "%s\n", why);
        return -1;
    }
    if (rc != 0)
        printf("# the cases %s are skipped: %s\n", cases, why);
    return rc == 0;
}

char *glci_ts_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        s_die("out of memory");
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                s_die("out of memory");
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int glci_ts_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* ---- processes --------------------------------------------------------- */

struct glci_ts_proc {
    pid_t pid;
    int exited;
    int status;        /* as returned by glci_ts_proc_wait_exit */
    int notify_fd;
    int ready;
    char *dir;
    char *out_path, *err_path, *notify_path;
};

static int s_decode_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

static int s_reap(glci_ts_proc_t *p, int block)
{
    if (p->exited)
        return 1;
    int st;
    pid_t r;
    do
        r = waitpid(p->pid, &st, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        p->exited = 1;
        p->status = s_decode_status(st);
        return 1;
    }
    if (r < 0) { /* not our child any more: treat as gone */
        p->exited = 1;
        p->status = -1;
        return 1;
    }
    return 0;
}

glci_ts_proc_t *glci_ts_proc_start(const char *const *argv, const char *const *env_extra)
{
    glci_ts_proc_t *p = calloc(1, sizeof *p);
    if (!p)
        s_die("out of memory");
    p->dir = glci_ts_tmpdir("proc");
    p->out_path = s_join(p->dir, "stdout");
    p->err_path = s_join(p->dir, "stderr");
    p->notify_path = s_join(p->dir, "notify");

    p->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (p->notify_fd < 0)
        s_die("socket AF_UNIX: %s", strerror(errno));
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(p->notify_path) >= sizeof a.sun_path)
        s_die("notify socket path too long: %s", p->notify_path);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", p->notify_path);
    if (bind(p->notify_fd, (struct sockaddr *)&a, sizeof a) != 0)
        s_die("bind %s: %s", p->notify_path, strerror(errno));

    fflush(stdout);
    fflush(stderr);
    p->pid = fork();
    if (p->pid < 0)
        s_die("fork: %s", strerror(errno));
    if (p->pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        close(in);
        close(out);
        close(err);
        setenv("NOTIFY_SOCKET", p->notify_path, 1);
        for (size_t i = 0; env_extra && env_extra[i]; i++) {
            const char *eq = strchr(env_extra[i], '=');
            if (!eq)
                continue;
            char name[128];
            size_t n = (size_t)(eq - env_extra[i]);
            if (n >= sizeof name)
                continue;
            memcpy(name, env_extra[i], n);
            name[n] = '\0';
            setenv(name, eq + 1, 1);
        }
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return p;
}

int glci_ts_proc_wait_ready(glci_ts_proc_t *p, int timeout_ms)
{
    long long deadline = s_ms_now() + timeout_ms;
    while (!p->ready) {
        long long left = deadline - s_ms_now();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {p->notify_fd, POLLIN, 0};
        int r = poll(&pfd, 1, left < 100 ? (int)left : 100);
        if (r > 0) {
            char buf[4096];
            ssize_t n = recv(p->notify_fd, buf, sizeof buf - 1, 0);
            if (n > 0) {
                buf[n] = '\0';
                /* newline-separated assignments */
                for (char *line = buf; line && *line;) {
                    char *nl = strchr(line, '\n');
                    if (nl)
                        *nl = '\0';
                    if (strcmp(line, "READY=1") == 0)
                        p->ready = 1;
                    line = nl ? nl + 1 : NULL;
                }
            }
            continue;
        }
        if (s_reap(p, 0))
            return -1;
    }
    return 0;
}

int glci_ts_proc_wait_log(glci_ts_proc_t *p, const char *text, int timeout_ms)
{
    long long deadline = s_ms_now() + timeout_ms;
    for (;;) {
        int gone = s_reap(p, 0);
        char *s = glci_ts_read_file(p->err_path);
        int found = s && strstr(s, text) != NULL;
        free(s);
        if (found)
            return 0;
        if (gone || s_ms_now() >= deadline)
            return -1;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int glci_ts_proc_signal(glci_ts_proc_t *p, int sig)
{
    if (s_reap(p, 0))
        return -1;
    return kill(p->pid, sig) == 0 ? 0 : -1;
}

int glci_ts_proc_wait_exit(glci_ts_proc_t *p, int timeout_ms)
{
    long long deadline = s_ms_now() + timeout_ms;
    while (!s_reap(p, 0)) {
        if (s_ms_now() >= deadline)
            return -1;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return p->status;
}

int glci_ts_proc_alive(glci_ts_proc_t *p)
{
    return !s_reap(p, 0);
}

pid_t glci_ts_proc_pid(const glci_ts_proc_t *p)
{
    return p->pid;
}

char *glci_ts_proc_stderr(const glci_ts_proc_t *p)
{
    char *s = glci_ts_read_file(p->err_path);
    return s ? s : s_strdup("");
}

char *glci_ts_proc_stdout(const glci_ts_proc_t *p)
{
    char *s = glci_ts_read_file(p->out_path);
    return s ? s : s_strdup("");
}

int glci_ts_proc_stop(glci_ts_proc_t **self, int timeout_ms)
{
    if (!self || !*self)
        return -1;
    glci_ts_proc_t *p = *self;
    if (!s_reap(p, 0)) {
        kill(p->pid, SIGTERM);
        if (glci_ts_proc_wait_exit(p, timeout_ms) < 0 && !p->exited) {
            kill(p->pid, SIGKILL);
            s_reap(p, 1);
        }
    }
    int status = p->status;
    close(p->notify_fd);
    glci_ts_rmtree(p->dir);
    free(p->dir);
    free(p->out_path);
    free(p->err_path);
    free(p->notify_path);
    free(p);
    *self = NULL;
    return status;
}

int glci_ts_run(const char *const *argv, const char *const *env_extra, int timeout_ms,
                char **out, char **err)
{
    glci_ts_proc_t *p = glci_ts_proc_start(argv, env_extra);
    int status = glci_ts_proc_wait_exit(p, timeout_ms);
    if (status < 0 && !p->exited) {
        kill(p->pid, SIGKILL);
        s_reap(p, 1);
        status = p->status;
    }
    if (out)
        *out = glci_ts_proc_stdout(p);
    if (err)
        *err = glci_ts_proc_stderr(p);
    glci_ts_proc_stop(&p, 0);
    return status;
}

int glci_ts_run_closed_pipe(const char *const *argv, char **err)
{
    int fds[2];
    FILE *fe = tmpfile();
    if (!fe || pipe(fds) != 0)
        return -1;
    close(fds[0]);                      /* the reader is gone before the first write */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        dup2(fds[1], 1);
        dup2(fileno(fe), 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (err) {
        long n = ftell(fe);
        *err = calloc(1, n > 0 ? (size_t)n + 1 : 1);
        rewind(fe);
        if (*err && n > 0)
            (*err)[fread(*err, 1, (size_t)n, fe)] = '\0';
    }
    fclose(fe);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int glci_ts_fill_fs(const char *dir, const char *path, unsigned long long room)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0)
        return -1;
    unsigned long long free_bytes = (unsigned long long)v.f_bavail * v.f_frsize;
    if (free_bytes < room)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static char block[65536];
    for (unsigned long long left = free_bytes - room; left > 0;) {
        size_t n = left < sizeof block ? (size_t)left : sizeof block;
        if (fwrite(block, 1, n, f) != n)
            break;
        left -= n;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int glci_ts_write_rows(const char *path, const char *header, const char *row, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(header, f);
    for (int i = 0; i < n; i++)
        for (const char *p = row; *p; p++) {
            if (*p == '#')
                fprintf(f, "%d", i);
            else
                fputc(*p, f);
        }
    return fclose(f) == 0 ? 0 : -1;
}
