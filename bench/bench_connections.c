/* glci-bench connections: ten thousand agents on one real glci-collector
 * (issue #18). Each agent is one DEALER with its own CURVE key pair,
 * registered as its own city through the store API; the DEALERs live in
 * agent processes of the bench's own (bench_connections_agents.c), so the
 * collector's memory is measured alone. The bench raises its open-files
 * limit as the collector's unit does (LimitNOFILE=65536, or the hard limit
 * if that is lower) and the collector and the agent processes inherit it.
 *
 * The phases, and what each measures:
 *   1. before: the collector is up and listening; its RSS.
 *   2. connect: every agent connects at once (the herd after a collector
 *      restart). From the collector's side, the time until its ZAP handler
 *      has admitted every city (its log: "zap: admitted CITY"), the
 *      handshakes per second that makes, the collector's CPU time spent.
 *   3. idle: every agent sends one batch of one observation and gets its
 *      ack, then all sit idle for --idle-wait seconds (longer than the
 *      agents' heartbeat interval, 5 s, so their pings and the TTL timers
 *      they set in the collector have run); the
 *      collector's RSS, and per connection (RSS_idle - RSS_before) / N,
 *      from /proc/PID/status VmRSS and RssAnon (RssFile is the store's
 *      mapped pages).
 *   4. load: while all are connected, --senders agents (1% by default)
 *      each send a batch of --batch observations --rate times a second for
 *      --seconds; the send-to-ack latency of every batch (p50, p99, max).
 *   5. held: every agent sends one more batch; all must be acked, so all
 *      connections were still held.
 * Finally the store must hold every observation sent.
 *
 * Prints one JSON object; "targets" compares with issue #18's (p99 < 1 s,
 * RSS < 20 KiB per idle connection).
 *
 * If not every agent is admitted within --connect-wait seconds, it prints
 * how far the collector got ("complete": false) and fails.
 *
 * Options: --agents N (10000) --procs N (agent processes, 4) --senders N
 * (agents/100) --batch N (100) --rate R (1 per second) --seconds N (30)
 * --connect-wait S (600) --idle-wait S (15) --set KEY=VALUE (a collector
 * setting, repeatable, e.g. --set heartbeat_ivl=10000) --keep (leave the
 * temp store). GLCI_COLLECTOR names the collector binary; GLCI_BENCH_WRAP
 * (e.g. "valgrind --tool=massif --massif-out-file=/tmp/m") runs it under
 * a tool that execs it, whose process then is the one measured. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_connections.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_text.h"

#define S_NAME            "glci-bench connections"
#define S_NOFILE_WANT     65536     /* the unit's LimitNOFILE */
#define S_PROCS_MAX       64
#define S_SETS_MAX        16
#define S_READY_WAIT_S    60.0
#define S_TARGET_P99_MS   1000.0
#define S_TARGET_RSS      20480.0   /* bytes per idle connection */

/* What the collector's log said, read by a thread of the bench. */
static struct {
    pthread_mutex_t lock;
    int fd;
    int ready;                /* "listening on" seen */
    int agents;
    unsigned char *admitted;  /* per agent */
    int distinct;             /* agents admitted at least once */
    long admissions;          /* every "zap: admitted", retries included */
    double first_at, all_at;  /* CLOCK_MONOTONIC s */
    long warnings, errors;
    char last_problem[512];
} s_log;

static double s_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* One line of the collector's log. */
static void s_log_line(const char *line)
{
    double now = s_mono();
    pthread_mutex_lock(&s_log.lock);
    const char *z = strstr(line, "zap: admitted c");
    if (z) {
        long k = strtol(z + strlen("zap: admitted c"), NULL, 10);
        s_log.admissions++;
        if (k >= 0 && k < s_log.agents && !s_log.admitted[k]) {
            s_log.admitted[k] = 1;
            if (s_log.distinct++ == 0)
                s_log.first_at = now;
            if (s_log.distinct == s_log.agents)
                s_log.all_at = now;
        }
    } else if (strstr(line, "listening on")) {
        s_log.ready = 1;
    } else if (strstr(line, " warn ") || strstr(line, " error ")) {
        if (strstr(line, " error "))
            s_log.errors++;
        else
            s_log.warnings++;
        snprintf(s_log.last_problem, sizeof s_log.last_problem, "%.400s", line);
    }
    pthread_mutex_unlock(&s_log.lock);
}

/* Reads the collector's stderr to its end, line by line (it must never
 * block on a full pipe: its log is written from its one loop). */
static void *s_log_main(void *arg)
{
    (void)arg;
    char buf[8192], line[2048];
    size_t used = 0;
    for (;;) {
        ssize_t n = read(s_log.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || used == sizeof line - 1) {
                line[used] = '\0';
                s_log_line(line);
                used = 0;
            } else {
                line[used++] = buf[i];
            }
        }
    }
    return NULL;
}

/* The collector's memory from /proc/PID/status, in KiB; -1 when unknown. */
typedef struct {
    long rss, anon, file;
} s_mem_t;

static s_mem_t s_mem(pid_t pid)
{
    s_mem_t m = {glci_bench_status_kib(pid, "VmRSS:"), glci_bench_status_kib(pid, "RssAnon:"),
                 glci_bench_status_kib(pid, "RssFile:")};
    return m;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The open-files limit raised as the unit raises it (LimitNOFILE sets
 * both limits): both to S_NOFILE_WANT where the process may raise its hard
 * limit (root), else the soft one up to the hard one. Returns the soft
 * limit. */
static long s_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < S_NOFILE_WANT) {
        struct rlimit both = {S_NOFILE_WANT, S_NOFILE_WANT};
        if (setrlimit(RLIMIT_NOFILE, &both) == 0)
            return S_NOFILE_WANT;
    }
    rlim_t want = S_NOFILE_WANT;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return -1;
    }
    return (long)rl.rlim_cur;
}

typedef struct {
    pid_t pid;
    int cmd_fd, res_fd;
    int first, n;
} s_proc_t;

/* Sends c to every agent process (SEND's senders spread over them). 0, or
 * -1 if a process is gone. */
static int s_tell(s_proc_t *procs, int n, const glci_bc_cmd_t *c)
{
    int base = 0;
    for (int i = 0; i < n; i++) {
        glci_bc_cmd_t mine = *c;
        if (c->op == GLCI_BC_SEND) {
            mine.senders = c->senders / n + (i < c->senders % n);
            mine.sender_base = base;
            base += mine.senders;
        }
        if (glci_bc_write(procs[i].cmd_fd, &mine, sizeof mine) != 0)
            return -1;
    }
    return 0;
}

/* Reads every process's reply into sum (ok and failed added, the first
 * error kept); SEND's latencies are appended to *lat. 0, or -1 if a
 * process is gone. */
static int s_collect(s_proc_t *procs, int n, glci_bc_reply_t *sum, double **lat, size_t *n_lat)
{
    memset(sum, 0, sizeof *sum);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        glci_bc_reply_t r;
        if (glci_bc_read(procs[i].res_fd, &r, sizeof r) != 0) {
            rc = -1;
            continue;
        }
        sum->ok += r.ok;
        sum->failed += r.failed;
        if (r.error[0] && !sum->error[0])
            snprintf(sum->error, sizeof sum->error, "%s", r.error);
        if (r.n_lat > 0) {
            *lat = glci_xrealloc(*lat, (*n_lat + (size_t)r.n_lat) * sizeof **lat);
            if (glci_bc_read(procs[i].res_fd, *lat + *n_lat, (size_t)r.n_lat * sizeof **lat) != 0)
                rc = -1;
            else
                *n_lat += (size_t)r.n_lat;
        }
    }
    return rc;
}

static int s_ask(s_proc_t *procs, int n, const glci_bc_cmd_t *c, glci_bc_reply_t *sum,
                 double **lat, size_t *n_lat)
{
    memset(sum, 0, sizeof *sum);
    if (s_tell(procs, n, c) != 0)
        return -1;
    return s_collect(procs, n, sum, lat, n_lat);
}

/* Starts the collector with its stderr on a pipe to the log thread. */
static pid_t s_start_collector(const char *store, const char *endpoint, char **sets, int n_sets,
                               int *log_fd)
{
    const char *bin = getenv("GLCI_COLLECTOR");
    char binbuf[1024];
    if (!bin) {
        snprintf(binbuf, sizeof binbuf, "%s/collector/glci-collector", GLCI_BIN_DIR);
        bin = binbuf;
    }
    const char *wrap = getenv("GLCI_BENCH_WRAP");
    /* argv: [sh -c 'exec WRAP "$0" "$@"'] bin --store S --listen E --log-level info
     * [--KEY VALUE]... */
    char *argv[16 + 2 * S_SETS_MAX];
    char flags[S_SETS_MAX][80];
    int a = 0;
    char script[512];
    if (wrap && *wrap) {
        snprintf(script, sizeof script, "exec %s \"$0\" \"$@\"", wrap);
        argv[a++] = "/bin/sh";
        argv[a++] = "-c";
        argv[a++] = script;
    }
    argv[a++] = (char *)bin;
    argv[a++] = "--store";
    argv[a++] = (char *)store;
    argv[a++] = "--listen";
    argv[a++] = (char *)endpoint;
    argv[a++] = "--log-level";
    argv[a++] = "info";
    for (int i = 0; i < n_sets; i++) {
        const char *eq = strchr(sets[i], '=');
        snprintf(flags[i], sizeof flags[i], "--%.*s", (int)(eq - sets[i]), sets[i]);
        for (char *c = flags[i] + 2; *c; c++)
            if (*c == '_')
                *c = '-';
        argv[a++] = flags[i];
        argv[a++] = (char *)eq + 1;
    }
    argv[a] = NULL;
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        fprintf(stderr, S_NAME ": exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    *log_fd = p[0];
    return pid;
}

/* Forks an agent process for agents [first, first + n); the n_before
 * processes already made are in before[] (the child closes their pipes,
 * so each process sees the end of its own when the bench closes it). */
static int s_start_agents(s_proc_t *pr, glci_bc_agents_t *a, int first, int n,
                          const s_proc_t *before, int n_before)
{
    int cmd[2], res[2];
    if (pipe(cmd) != 0)
        return -1;
    if (pipe(res) != 0) {
        close(cmd[0]);
        close(cmd[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(cmd[1]);
        close(res[0]);
        for (int i = 0; i < n_before; i++) {
            close(before[i].cmd_fd);
            close(before[i].res_fd);
        }
        a->first = first;
        a->n = n;
        a->cmd_fd = cmd[0];
        a->res_fd = res[1];
        _exit(glci_bc_agents_main(a));
    }
    close(cmd[0]);
    close(res[1]);
    if (pid < 0) {
        close(cmd[1]);
        close(res[0]);
        return -1;
    }
    /* the agents of later processes must not hold these ends open */
    fcntl(cmd[1], F_SETFD, FD_CLOEXEC);
    fcntl(res[0], F_SETFD, FD_CLOEXEC);
    pr->pid = pid;
    pr->cmd_fd = cmd[1];
    pr->res_fd = res[0];
    pr->first = first;
    pr->n = n;
    return 0;
}

static void s_print_mem(const char *name, const s_mem_t *m, int n)
{
    printf("\"%s\": {", name);
    const char *names[] = {"before", "connected", "idle", "under_load", "after"};
    for (int i = 0; i < n; i++)
        printf("%s\"%s\": %ld", i ? ", " : "", names[i],
               !strcmp(name, "rss_kib") ? m[i].rss : !strcmp(name, "rss_anon_kib") ? m[i].anon
                                                                                   : m[i].file);
    printf("}");
}

int glci_bench_connections(int argc, char **argv)
{
    int64_t agents = 10000, procs = 4, senders = -1, batch = 100, seconds = 30, idle_wait = 15;
    int64_t connect_wait = 600;
    double rate = 1.0;
    int keep = 0, n_sets = 0;
    char *sets[S_SETS_MAX];
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(argv[i], "--agents"))
            rc = glci_bench_opt("connections", "--agents", v, 1, 100000, &agents), i++;
        else if (!strcmp(argv[i], "--procs"))
            rc = glci_bench_opt("connections", "--procs", v, 1, S_PROCS_MAX, &procs), i++;
        else if (!strcmp(argv[i], "--senders"))
            rc = glci_bench_opt("connections", "--senders", v, 0, 100000, &senders), i++;
        else if (!strcmp(argv[i], "--batch"))
            rc = glci_bench_opt("connections", "--batch", v, 1, 10000, &batch), i++;
        else if (!strcmp(argv[i], "--seconds"))
            rc = glci_bench_opt("connections", "--seconds", v, 1, 3600, &seconds), i++;
        else if (!strcmp(argv[i], "--connect-wait"))
            rc = glci_bench_opt("connections", "--connect-wait", v, 1, 3600, &connect_wait), i++;
        else if (!strcmp(argv[i], "--idle-wait"))
            rc = glci_bench_opt("connections", "--idle-wait", v, 0, 3600, &idle_wait), i++;
        else if (!strcmp(argv[i], "--rate")) {
            if (!v || glci_parse_double(v, &rate) != 0 || !(rate > 0 && rate <= 1000)) {
                fprintf(stderr, S_NAME ": --rate needs a number of batches per second in "
                                "(0, 1000]\n");
                return 2;
            }
            i++;
        } else if (!strcmp(argv[i], "--set")) {
            if (!v || !strchr(v, '=') || v[0] == '=' || strlen(v) > 70 || n_sets == S_SETS_MAX) {
                fprintf(stderr, S_NAME ": --set needs KEY=VALUE (a collector setting, at most "
                                "%d)\n", S_SETS_MAX);
                return 2;
            }
            sets[n_sets++] = argv[++i];
        } else if (!strcmp(argv[i], "--keep")) {
            keep = 1;
        } else {
            fprintf(stderr, S_NAME ": unknown option %s\n", argv[i]);
            return 2;
        }
        if (rc != 0)
            return 2;
    }
    if (senders < 0)
        senders = agents / 100 > 0 ? agents / 100 : 1;
    if (senders > agents)
        senders = agents;
    if (procs > agents)
        procs = agents;

    int status = 1;
    char err[512];
    long nofile = s_raise_nofile();
    signal(SIGPIPE, SIG_IGN);       /* a gone agent process is an error, not a kill */
    char dir[] = "/tmp/glci-bench-conn-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, S_NAME ": mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char store[sizeof dir + 16], path[sizeof dir + 64], endpoint[64];
    snprintf(store, sizeof store, "%s/store", dir);
    pid_t pid = -1;
    pthread_t log_thread;
    int log_started = 0;
    s_proc_t pr[S_PROCS_MAX];
    int n_pr = 0;
    glci_framework_t *fw = NULL;
    glci_key_t *pub = glci_xcalloc((size_t)agents, sizeof *pub);
    glci_key_t *sec = glci_xcalloc((size_t)agents, sizeof *sec);
    double *lat = NULL;
    size_t n_lat = 0;
    memset(&s_log, 0, sizeof s_log);
    pthread_mutex_init(&s_log.lock, NULL);
    s_log.fd = -1;
    s_log.agents = (int)agents;
    s_log.admitted = glci_xcalloc((size_t)agents, 1);

    /* the store: a city and a key per agent, through the store API */
    double t_reg = s_mono();
    glci_store_t *st = NULL;
    if (glci_store_create(store, GLCI_FRAMEWORK_FILE, NULL, err, sizeof err) != 0 ||
        glci_store_open(store, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, S_NAME ": %s\n", err);
        goto cleanup;
    }
    for (int k = 0; k < agents; k++) {
        char id[16];
        glci_bc_city(k, id, sizeof id);
        if (glci_key_generate(&pub[k], &sec[k], err, sizeof err) != 0 ||
            glci_store_city_add(st, id, id, "XX", pub[k].z85, err, sizeof err) != 0) {
            fprintf(stderr, S_NAME ": cannot register %s: %s\n", id, err);
            glci_store_close(&st);
            goto cleanup;
        }
    }
    glci_store_close(&st);
    t_reg = s_mono() - t_reg;
    glci_key_t server_pub, server_sec;
    snprintf(path, sizeof path, "%s/collector.key", store);
    if (glci_key_generate(&server_pub, &server_sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(path, &server_pub, &server_sec, err, sizeof err) != 0) {
        fprintf(stderr, S_NAME ": %s\n", err);
        goto cleanup;
    }
    if (glci_framework_load_file(GLCI_FRAMEWORK_FILE, &fw, err, sizeof err) != 0) {
        fprintf(stderr, S_NAME ": %s\n", err);
        goto cleanup;
    }
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", glci_bench_free_port());

    /* the agent processes first: forked before any thread or context */
    glci_bc_agents_t a = {endpoint, &server_pub, pub, sec, fw, 0, 0, -1, -1};
    for (int i = 0; i < procs; i++) {
        int first = (int)(agents / procs * i + (i < agents % procs ? i : agents % procs));
        int n = (int)(agents / procs + (i < agents % procs));
        if (s_start_agents(&pr[n_pr], &a, first, n, pr, n_pr) != 0) {
            fprintf(stderr, S_NAME ": cannot start agent process %d: %s\n", i, strerror(errno));
            goto cleanup;
        }
        n_pr++;
    }
    pid = s_start_collector(store, endpoint, sets, n_sets, &s_log.fd);
    if (pid < 0) {
        fprintf(stderr, S_NAME ": cannot start the collector: %s\n", strerror(errno));
        goto cleanup;
    }
    if (pthread_create(&log_thread, NULL, s_log_main, NULL) != 0)
        goto cleanup;
    log_started = 1;

    /* 1. before */
    double until = s_mono() + S_READY_WAIT_S;
    int ready = 0;
    while (!ready && s_mono() < until && waitpid(pid, NULL, WNOHANG) == 0) {
        s_sleep(0.05);
        pthread_mutex_lock(&s_log.lock);
        ready = s_log.ready;
        pthread_mutex_unlock(&s_log.lock);
    }
    if (!ready) {
        fprintf(stderr, S_NAME ": the collector did not start: %s\n", s_log.last_problem);
        goto cleanup;
    }
    s_sleep(1.0);
    s_mem_t mem[5];
    mem[0] = s_mem(pid);
    double load0 = glci_bench_loadavg();

    /* 2. connect */
    glci_bc_cmd_t cmd;
    glci_bc_reply_t rep;
    memset(&cmd, 0, sizeof cmd);
    double cpu0 = glci_bench_cpu_s(pid);
    double t0 = s_mono();
    cmd.op = GLCI_BC_CONNECT;
    if (s_ask(pr, n_pr, &cmd, &rep, &lat, &n_lat) != 0 || rep.failed) {
        fprintf(stderr, S_NAME ": connect: %s\n", rep.error);
        goto cleanup;
    }
    until = t0 + (double)connect_wait;
    int distinct = 0;
    while (s_mono() < until) {
        pthread_mutex_lock(&s_log.lock);
        distinct = s_log.distinct;
        pthread_mutex_unlock(&s_log.lock);
        if (distinct == agents)
            break;
        s_sleep(0.01);
    }
    if (distinct != agents) {
        /* what a collector that cannot take the herd looks like: how far
         * it got, and what it cost */
        s_mem_t m = s_mem(pid);
        pthread_mutex_lock(&s_log.lock);
        printf("{\"bench\": \"connections\", \"agents\": %lld, \"complete\": false, "
               "\"connect_wait_s\": %lld, \"admitted\": %d, \"admissions\": %ld, "
               "\"collector_cpu_s\": %.2f, \"collector_fds\": %ld, \"rss_kib\": %ld, "
               "\"rss_anon_kib\": %ld, \"load_before\": %.2f, \"load_after\": %.2f}\n",
               (long long)agents, (long long)connect_wait, s_log.distinct, s_log.admissions,
               glci_bench_cpu_s(pid) - cpu0, glci_bench_fds(pid), m.rss, m.anon, load0, glci_bench_loadavg());
        fprintf(stderr, S_NAME ": only %d of %lld agents admitted after %lld s (last problem: "
                        "%s)\n", s_log.distinct, (long long)agents, (long long)connect_wait,
                s_log.last_problem);
        pthread_mutex_unlock(&s_log.lock);
        goto cleanup;
    }
    double handshake_s = s_log.all_at - t0, span_s = s_log.all_at - s_log.first_at;
    double handshake_cpu = glci_bench_cpu_s(pid) - cpu0;
    s_sleep(2.0);
    mem[1] = s_mem(pid);

    /* 3. idle */
    cmd.op = GLCI_BC_ROUND;
    if (s_ask(pr, n_pr, &cmd, &rep, &lat, &n_lat) != 0 || rep.failed) {
        fprintf(stderr, S_NAME ": first batches: %d acked, %d failed: %s\n", rep.ok, rep.failed,
                rep.error);
        goto cleanup;
    }
    s_sleep((double)idle_wait);
    mem[2] = s_mem(pid);
    long fds = glci_bench_fds(pid);

    /* 4. load */
    memset(&cmd, 0, sizeof cmd);
    cmd.op = GLCI_BC_SEND;
    cmd.senders = (int32_t)senders;
    cmd.batch = (int32_t)batch;
    cmd.seconds = (int32_t)seconds;
    cmd.rate = rate;
    cmd.spacing = 1.0 / rate / (double)senders;
    cmd.t_start = s_mono() + 1.0;
    double cpu1 = glci_bench_cpu_s(pid);
    if (s_tell(pr, n_pr, &cmd) != 0) {
        fprintf(stderr, S_NAME ": load phase: an agent process is gone\n");
        goto cleanup;
    }
    /* the collector's memory at the middle of the load */
    s_sleep(1.0 + (double)seconds / 2);
    mem[3] = s_mem(pid);
    if (s_collect(pr, n_pr, &rep, &lat, &n_lat) != 0) {
        fprintf(stderr, S_NAME ": load phase: an agent process is gone\n");
        goto cleanup;
    }
    int load_failed = rep.failed;
    char load_error[256];
    snprintf(load_error, sizeof load_error, "%s", rep.error);
    double load_cpu = glci_bench_cpu_s(pid) - cpu1;

    /* 5. held */
    memset(&cmd, 0, sizeof cmd);
    cmd.op = GLCI_BC_ROUND;
    if (s_ask(pr, n_pr, &cmd, &rep, &lat, &n_lat) != 0) {
        fprintf(stderr, S_NAME ": last round: an agent process is gone\n");
        goto cleanup;
    }
    int held = rep.ok;
    mem[4] = s_mem(pid);
    double load1 = glci_bench_loadavg();

    cmd.op = GLCI_BC_QUIT;
    s_ask(pr, n_pr, &cmd, &rep, &lat, &n_lat);
    for (int i = 0; i < n_pr; i++) {
        waitpid(pr[i].pid, NULL, 0);
        close(pr[i].cmd_fd);
        close(pr[i].res_fd);
    }
    n_pr = 0;
    kill(pid, SIGTERM);
    int wst = 0;
    waitpid(pid, &wst, 0);
    pid = -1;

    /* everything acked is in the store */
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    glci_store_status_t ss;
    glci_view_t *v = NULL;
    memset(&ss, 0, sizeof ss);
    if (glci_store_open(store, &ro, &st, err, sizeof err) == 0 && glci_view_begin(st, &v) == 0)
        glci_view_status(v, &ss);
    glci_view_end(&v);
    glci_store_close(&st);
    uint64_t want = (uint64_t)agents + (uint64_t)held + (uint64_t)n_lat * (uint64_t)batch;

    qsort(lat, n_lat, sizeof *lat, s_cmp_double);
    double p50 = n_lat ? lat[(n_lat - 1) / 2] : -1;
    double p99 = n_lat ? lat[(size_t)ceil(0.99 * (double)n_lat) - 1] : -1;
    double lmax = n_lat ? lat[n_lat - 1] : -1;
    double per_rss = (double)(mem[2].rss - mem[0].rss) * 1024.0 / (double)agents;
    double per_anon = (double)(mem[2].anon - mem[0].anon) * 1024.0 / (double)agents;
    double per_rss_c = (double)(mem[1].rss - mem[0].rss) * 1024.0 / (double)agents;
    double per_anon_c = (double)(mem[1].anon - mem[0].anon) * 1024.0 / (double)agents;

    printf("{\"bench\": \"connections\", \"agents\": %lld, \"agent_processes\": %d, "
           "\"curve\": true, \"nofile_limit\": %ld, \"register_s\": %.1f, "
           "\"handshake_s\": %.3f, \"handshakes_per_s\": %.0f, \"admission_span_s\": %.3f, "
           "\"admissions\": %ld, \"collector_cpu_s_handshakes\": %.2f, "
           "\"collector_cpu_us_per_handshake\": %.0f, \"collector_fds\": %ld, ",
           (long long)agents, (int)procs, nofile, t_reg, handshake_s,
           (double)agents / handshake_s, span_s, s_log.admissions, handshake_cpu,
           handshake_cpu * 1e6 / (double)agents, fds);
    s_print_mem("rss_kib", mem, 5);
    printf(", ");
    s_print_mem("rss_anon_kib", mem, 5);
    printf(", ");
    s_print_mem("rss_file_kib", mem, 5);
    printf(", \"bytes_per_connection\": {\"connected_vmrss\": %.0f, \"connected_rss_anon\": %.0f, "
           "\"idle_vmrss\": %.0f, \"idle_rss_anon\": %.0f}, ",
           per_rss_c, per_anon_c, per_rss, per_anon);
    printf("\"load\": {\"senders\": %lld, \"batch\": %lld, \"rate_per_s\": %g, \"seconds\": %lld, "
           "\"acked\": %zu, \"failed\": %d, \"ack_p50_ms\": %.2f, \"ack_p99_ms\": %.2f, "
           "\"ack_max_ms\": %.2f, \"collector_cpu_s\": %.2f%s%s%s}, ",
           (long long)senders, (long long)batch, rate, (long long)seconds, n_lat, load_failed,
           p50, p99, lmax, load_cpu, load_failed ? ", \"first_error\": \"" : "",
           load_failed ? load_error : "", load_failed ? "\"" : "");
    printf("\"held\": %d, \"stored\": %llu, \"stored_expected\": %llu, "
           "\"collector_warnings\": %ld, \"collector_errors\": %ld, \"collector_exit\": %d, "
           "\"load_before\": %.2f, \"load_after\": %.2f, ",
           held, (unsigned long long)ss.n_history, (unsigned long long)want, s_log.warnings,
           s_log.errors, WIFEXITED(wst) ? WEXITSTATUS(wst) : -1, load0, load1);
    int p99_met = n_lat > 0 && !load_failed && p99 < S_TARGET_P99_MS;
    int rss_met = per_rss < S_TARGET_RSS;
    printf("\"targets\": {\"ack_p99_ms_below\": %.0f, \"rss_bytes_per_idle_connection_below\": "
           "%.0f, \"p99_met\": %s, \"rss_met\": %s}}\n",
           S_TARGET_P99_MS, S_TARGET_RSS, p99_met ? "true" : "false", rss_met ? "true" : "false");
    if (held == agents && ss.n_history == want && !load_failed)
        status = 0;
    else
        fprintf(stderr, S_NAME ": held %d of %lld, stored %llu of %llu, %d load failures%s%s\n",
                held, (long long)agents, (unsigned long long)ss.n_history,
                (unsigned long long)want, load_failed, load_failed ? ": " : "", load_error);

cleanup:
    for (int i = 0; i < n_pr; i++) {
        close(pr[i].cmd_fd);
        close(pr[i].res_fd);
        kill(pr[i].pid, SIGTERM);   /* it may be waiting on acks */
        waitpid(pr[i].pid, NULL, 0);
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    if (log_started)
        pthread_join(log_thread, NULL);
    if (s_log.fd >= 0)
        close(s_log.fd);
    glci_framework_free(&fw);
    free(pub);
    free(sec);
    free(lat);
    free(s_log.admitted);
    if (!keep) {
        char rm[sizeof dir + 16];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        if (system(rm) != 0)
            fprintf(stderr, S_NAME ": could not remove %s\n", dir);
    } else {
        fprintf(stderr, S_NAME ": store kept in %s\n", store);
    }
    return status;
}
