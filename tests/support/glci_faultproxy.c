/* glci-faultproxy: a fault-injecting TCP proxy for the network fault tests
 * and the nemesis run. It accepts connections on --listen, opens one to
 * --upstream for each, and forwards both directions with the faults its
 * control file asks for, re-read on SIGHUP.
 *
 * What "delay, reordering and duplication" can mean for a TCP stream, and
 * so what this proxy does (docs/RELIABILITY.md has the reasoning):
 *   - delay and jitter: every chunk it reads is held until a release time
 *     (a per-connection base delay drawn from delay_ms +- jitter_ms, plus up
 *     to jitter_ms per chunk), never earlier than the chunk before it, so a
 *     stream stays a valid stream while its timing is bursty; connections
 *     get different delays, so a newer connection of an agent can overtake
 *     an older one still delivering: reordering between streams, which is
 *     what TCP does not hide.
 *   - within one stream, reordering and duplication are corruption (TCP
 *     never delivers them): swap_pct swaps a chunk with the next one,
 *     dup_pct sends a chunk twice, flip_pct flips one bit. ZMTP/CURVE must
 *     detect each, drop the connection, and the agent must recover.
 *   - duplication of a whole conversation: replay_pct replays the first
 *     64 KiB a client sent on a connection, after it ends, on a fresh
 *     upstream connection (a replay attack, or a middlebox resending);
 *     CURVE must refuse it (its cookie is for another connection).
 *   - reset_pct resets a connection (both sides) at a chunk, as a NAT or
 *     middlebox timing out does; stall = 1 holds every byte (a black hole
 *     that keeps connections open) until it is 0 again.
 *
 * Usage: glci-faultproxy --listen ADDR:PORT --upstream ADDR:PORT
 *                        [--control FILE] [--seed N]
 * Control file (INI, every key optional):
 *   [proxy]
 *   delay_ms = 200     jitter_ms = 100     stall = 0
 *   dup_pct = 0        swap_pct = 0        flip_pct = 0
 *   reset_pct = 0      replay_pct = 0      (percent per chunk / per connection)
 * Signals: SIGHUP re-reads the control file (a bad one is reported and the
 * settings in force are kept); SIGUSR1 prints a "stats:" line on stderr;
 * SIGTERM/SIGINT print it and exit 0. Tells systemd (NOTIFY_SOCKET) when
 * it listens. Exit status 1 on a bad control file or a socket error at
 * start, 2 on a usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_text.h"

#define S_CHUNK 16384
#define S_QUEUE_MAX (4u << 20)     /* bytes queued per direction before reading stops */
#define S_RECORD_MAX 65536         /* client bytes kept per connection for a replay */
#define S_MAX_CONNS 2048
#define S_SWAP_WAIT_MS 200         /* a chunk held for a swap goes alone after this */
#define S_REPLAY_LIFE_MS 5000

typedef struct {
    int64_t delay_ms, jitter_ms;
    int stall;
    double dup_pct, swap_pct, flip_pct, reset_pct, replay_pct;
} s_cfg_t;

typedef struct s_chunk {
    struct s_chunk *next;
    int64_t release;
    size_t len, off;
    unsigned char data[];
} s_chunk_t;

typedef struct {
    s_chunk_t *head, *tail;
    size_t bytes;
    s_chunk_t *held;           /* waiting for the next chunk to swap with */
    int64_t held_until;
    int64_t last_release;
    int eof;                   /* the source ended */
    int shut;                  /* the destination was shut for writing */
} s_dir_t;

typedef struct {
    int cfd, ufd;              /* client, upstream; -1 when closed */
    int connecting;
    int replay;                /* a replay connection: no client */
    int64_t born, base_delay;
    s_dir_t up, down;          /* client -> upstream, upstream -> client */
    unsigned char *rec;
    size_t rec_n;
} s_conn_t;

typedef struct {
    unsigned long long conns, replays, chunks, dups, swaps, flips, resets, bytes_up, bytes_down;
} s_stats_t;

static volatile sig_atomic_t s_hup, s_usr1, s_term;
static s_cfg_t s_cfg;
static s_stats_t s_st;
static uint64_t s_rng;
static s_conn_t *s_conns[S_MAX_CONNS];
static size_t s_nconns;
static struct sockaddr_in s_upstream;

static void s_on_signal(int sig)
{
    if (sig == SIGHUP)
        s_hup = 1;
    else if (sig == SIGUSR1)
        s_usr1 = 1;
    else
        s_term = 1;
}

static int64_t s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t s_rand(void)
{
    uint64_t x = s_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s_rng = x;
    return x * 2685821657736338717ULL;
}

/* 1 with probability pct percent. */
static int s_chance(double pct)
{
    return pct > 0 && (double)(s_rand() % 1000000) < pct * 10000.0;
}

/* ---- the control file ------------------------------------------------------- */

typedef struct {
    s_cfg_t cfg;
    char err[256];
} s_load_t;

static int s_ini(void *user, const char *section, const char *name, const char *value)
{
    s_load_t *l = user;
    if (strcmp(section, "proxy") != 0) {
        snprintf(l->err, sizeof l->err, "section [%s] is not [proxy]", section);
        return 0;
    }
    int64_t *ms = strcmp(name, "delay_ms") == 0    ? &l->cfg.delay_ms
                  : strcmp(name, "jitter_ms") == 0 ? &l->cfg.jitter_ms
                                                   : NULL;
    double *pct = strcmp(name, "dup_pct") == 0      ? &l->cfg.dup_pct
                  : strcmp(name, "swap_pct") == 0   ? &l->cfg.swap_pct
                  : strcmp(name, "flip_pct") == 0   ? &l->cfg.flip_pct
                  : strcmp(name, "reset_pct") == 0  ? &l->cfg.reset_pct
                  : strcmp(name, "replay_pct") == 0 ? &l->cfg.replay_pct
                                                    : NULL;
    if (ms) {
        if (glci_parse_int64(value, 0, 600000, ms) != 0) {
            snprintf(l->err, sizeof l->err, "%s must be an integer in [0, 600000], not '%s'",
                     name, value);
            return 0;
        }
    } else if (pct) {
        if (glci_parse_double(value, pct) != 0 || !(*pct >= 0 && *pct <= 100)) {
            snprintf(l->err, sizeof l->err, "%s must be a percentage in [0, 100], not '%s'",
                     name, value);
            return 0;
        }
    } else if (strcmp(name, "stall") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
            snprintf(l->err, sizeof l->err, "stall must be 0 or 1, not '%s'", value);
            return 0;
        }
        l->cfg.stall = value[0] == '1';
    } else {
        snprintf(l->err, sizeof l->err, "unknown key '%s'", name);
        return 0;
    }
    return 1;
}

/* Reads the control file into *out. Returns 0, or -1 with "FILE:LINE:
 * message" (or "FILE: message") in err. */
static int s_load(const char *path, s_cfg_t *out, char *err, size_t errlen)
{
    s_load_t l;
    memset(&l, 0, sizeof l);
    int line = ini_parse(path, s_ini, &l);
    if (line < 0) {
        snprintf(err, errlen, "%s: cannot read the control file: %s", path,
                 line == -1 ? strerror(errno) : "out of memory");
        return -1;
    }
    if (line > 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line,
                 l.err[0] ? l.err : "not a key = value line");
        return -1;
    }
    *out = l.cfg;
    return 0;
}

/* ---- connections ------------------------------------------------------------ */

static void s_print_stats(void)
{
    fprintf(stderr,
            "glci-faultproxy: stats: connections=%llu replays=%llu chunks=%llu dups=%llu "
            "swaps=%llu flips=%llu resets=%llu bytes_up=%llu bytes_down=%llu\n",
            s_st.conns, s_st.replays, s_st.chunks, s_st.dups, s_st.swaps, s_st.flips,
            s_st.resets, s_st.bytes_up, s_st.bytes_down);
}

static int64_t s_draw_base(void)
{
    int64_t j = s_cfg.jitter_ms;
    int64_t d = s_cfg.delay_ms + (j ? (int64_t)(s_rand() % (uint64_t)(2 * j + 1)) - j : 0);
    return d < 0 ? 0 : d;
}

static void s_dir_free(s_dir_t *d)
{
    for (s_chunk_t *c = d->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(d->held);
    memset(d, 0, sizeof *d);
}

static void s_push(s_dir_t *d, s_chunk_t *c)
{
    c->next = NULL;
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->bytes += c->len;
}

static s_chunk_t *s_chunk(const unsigned char *data, size_t n, int64_t release)
{
    s_chunk_t *c = glci_xmalloc(sizeof *c + n);
    c->next = NULL;
    c->release = release;
    c->len = n;
    c->off = 0;
    memcpy(c->data, data, n);
    return c;
}

static int s_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Opens a non-blocking connection to the upstream; -1 on failure. */
static int s_connect_upstream(int *connecting)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s_nonblock(fd) != 0) {
        close(fd);
        return -1;
    }
    *connecting = 0;
    if (connect(fd, (struct sockaddr *)&s_upstream, sizeof s_upstream) != 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return -1;
        }
        *connecting = 1;
    }
    return fd;
}

static s_conn_t *s_conn_add(int cfd, int ufd, int connecting)
{
    if (s_nconns == S_MAX_CONNS)
        return NULL;
    s_conn_t *c = glci_xcalloc(1, sizeof *c);
    c->cfd = cfd;
    c->ufd = ufd;
    c->connecting = connecting;
    c->born = s_now();
    c->base_delay = s_draw_base();
    s_conns[s_nconns++] = c;
    return c;
}

/* A replay of what conn's client sent, on a fresh upstream connection. */
static void s_replay(const s_conn_t *orig)
{
    int connecting = 0;
    int ufd = s_connect_upstream(&connecting);
    if (ufd < 0)
        return;
    s_conn_t *c = s_conn_add(-1, ufd, connecting);
    if (!c) {
        close(ufd);
        return;
    }
    c->replay = 1;
    s_push(&c->up, s_chunk(orig->rec, orig->rec_n, 0));
    c->up.eof = 1;             /* then it shuts, like a client that is done */
    s_st.replays++;
}

static void s_close_fd(int *fd, int reset)
{
    if (*fd < 0)
        return;
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(*fd);
    *fd = -1;
}

/* Ends a connection (reset: both sides get an RST), maybe replaying it. */
static void s_conn_end(size_t i, int reset)
{
    s_conn_t *c = s_conns[i];
    if (!c->replay && c->rec_n > 0 && s_chance(s_cfg.replay_pct))
        s_replay(c);
    s_close_fd(&c->cfd, reset);
    s_close_fd(&c->ufd, reset);
    s_dir_free(&c->up);
    s_dir_free(&c->down);
    free(c->rec);
    free(c);
    s_conns[i] = s_conns[--s_nconns];
}

/* Takes n bytes read from one side into dir d, with the faults in force.
 * Returns 1 if the connection is to be reset. */
static int s_take(s_conn_t *c, s_dir_t *d, unsigned char *data, size_t n)
{
    int64_t now = s_now();
    s_st.chunks++;
    if (s_chance(s_cfg.reset_pct)) {
        s_st.resets++;
        return 1;
    }
    if (s_chance(s_cfg.flip_pct)) {
        uint64_t r = s_rand();
        data[r % n] ^= (unsigned char)(1u << (r >> 32) % 8);
        s_st.flips++;
    }
    int64_t j = s_cfg.jitter_ms;
    int64_t release = now + c->base_delay + (j ? (int64_t)(s_rand() % (uint64_t)(j + 1)) : 0);
    if (release < d->last_release)
        release = d->last_release;   /* never before the chunk ahead of it */
    d->last_release = release;
    s_chunk_t *k = s_chunk(data, n, release);
    if (d->held) {
        /* the held chunk goes after this one: the stream is reordered */
        s_push(d, k);
        d->held->release = release;
        s_push(d, d->held);
        d->held = NULL;
        s_st.swaps++;
        return 0;
    }
    if (s_chance(s_cfg.swap_pct)) {
        d->held = k;
        d->held_until = now + S_SWAP_WAIT_MS;
        return 0;
    }
    s_push(d, k);
    if (s_chance(s_cfg.dup_pct)) {
        s_push(d, s_chunk(data, n, release));
        s_st.dups++;
    }
    return 0;
}

/* Reads what fd has into d. Returns 0, 1 to reset, -1 on a read error. */
static int s_read(s_conn_t *c, int fd, s_dir_t *d, int upward)
{
    unsigned char buf[S_CHUNK];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0) {
        d->eof = 1;
        return 0;
    }
    if (upward && !c->replay && c->rec_n < S_RECORD_MAX) {
        size_t keep = (size_t)n < S_RECORD_MAX - c->rec_n ? (size_t)n : S_RECORD_MAX - c->rec_n;
        if (!c->rec)
            c->rec = glci_xmalloc(S_RECORD_MAX);
        memcpy(c->rec + c->rec_n, buf, keep);
        c->rec_n += keep;
    }
    if (upward)
        s_st.bytes_up += (unsigned long long)n;
    else
        s_st.bytes_down += (unsigned long long)n;
    return s_take(c, d, buf, (size_t)n);
}

/* Writes what is due from d to fd. Returns 0, or -1 on a write error. */
static int s_write(int fd, s_dir_t *d, int64_t now)
{
    if (d->held && now >= d->held_until) {
        s_push(d, d->held);    /* nothing came to swap with */
        d->held = NULL;
    }
    while (d->head && d->head->release <= now && !s_cfg.stall) {
        s_chunk_t *k = d->head;
        ssize_t n = write(fd, k->data + k->off, k->len - k->off);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        k->off += (size_t)n;
        if (k->off < k->len)
            return 0;
        d->head = k->next;
        if (!d->head)
            d->tail = NULL;
        d->bytes -= k->len;
        free(k);
    }
    if (d->eof && !d->head && !d->held && !d->shut) {
        shutdown(fd, SHUT_WR);
        d->shut = 1;
    }
    return 0;
}

/* Milliseconds until something queued in d is due: 0 now, -1 nothing is
 * (an empty queue, or a stall: SIGHUP ends that and wakes the loop). */
static int64_t s_due_in(const s_dir_t *d, int64_t now)
{
    int64_t t = -1;
    if (d->head && !s_cfg.stall)
        t = d->head->release > now ? d->head->release - now : 0;
    if (d->held) {
        int64_t h = d->held_until > now ? d->held_until - now : 0;
        if (t < 0 || h < t)
            t = h;
    }
    return t;
}

/* ---- main ------------------------------------------------------------------- */

static int s_parse_addr(const char *text, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host || colon == text)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    int64_t port;
    if (glci_parse_int64(colon + 1, 1, 65535, &port) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

static int s_usage(const char *msg)
{
    fprintf(stderr, "glci-faultproxy: %s\nusage: glci-faultproxy --listen ADDR:PORT "
                    "--upstream ADDR:PORT [--control FILE] [--seed N]\n",
            msg);
    return 2;
}

static void s_accept(int lfd)
{
    for (;;) {
        int cfd = accept(lfd, NULL, NULL);
        if (cfd < 0)
            return;
        int one = 1, connecting = 0;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int ufd = s_nonblock(cfd) == 0 ? s_connect_upstream(&connecting) : -1;
        if (ufd < 0 || !s_conn_add(cfd, ufd, connecting)) {
            close(cfd);        /* the collector is not there: the client retries */
            if (ufd >= 0)
                close(ufd);
            continue;
        }
        s_st.conns++;
    }
}

int main(int argc, char **argv)
{
    const char *listen_at = NULL, *upstream = NULL, *control = NULL;
    int64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char **target = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: glci-faultproxy --listen ADDR:PORT --upstream ADDR:PORT "
                   "[--control FILE] [--seed N]\n");
            return 0;
        }
        if (i + 1 >= argc)
            return s_usage("an option is missing its value");
        if (strcmp(argv[i], "--listen") == 0)
            target = &listen_at;
        else if (strcmp(argv[i], "--upstream") == 0)
            target = &upstream;
        else if (strcmp(argv[i], "--control") == 0)
            target = &control;
        else if (strcmp(argv[i], "--seed") == 0) {
            if (glci_parse_int64(argv[++i], 1, INT64_MAX, &seed) != 0)
                return s_usage("--seed must be a positive integer");
            continue;
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return s_usage(msg);
        }
        *target = argv[++i];
    }
    struct sockaddr_in la;
    if (!listen_at || s_parse_addr(listen_at, &la) != 0)
        return s_usage("--listen must be IPV4:PORT");
    if (!upstream || s_parse_addr(upstream, &s_upstream) != 0)
        return s_usage("--upstream must be IPV4:PORT");
    s_rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL | 1;
    char err[512];
    if (control && s_load(control, &s_cfg, err, sizeof err) != 0) {
        fprintf(stderr, "glci-faultproxy: %s\n", err);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&la, sizeof la) != 0 || listen(lfd, 256) != 0 ||
        s_nonblock(lfd) != 0) {
        fprintf(stderr, "glci-faultproxy: cannot listen on %s: %s\n", listen_at,
                strerror(errno));
        return 1;
    }
    fprintf(stderr, "glci-faultproxy: listening on %s, upstream %s\n", listen_at, upstream);
    sd_notify(0, "READY=1");

    static struct pollfd pfd[1 + 2 * S_MAX_CONNS];
    while (!s_term) {
        if (s_hup) {
            s_hup = 0;
            s_cfg_t next;
            if (!control)
                fprintf(stderr, "glci-faultproxy: SIGHUP without --control: nothing to read\n");
            else if (s_load(control, &next, err, sizeof err) != 0)
                fprintf(stderr, "glci-faultproxy: %s; keeping the settings in force\n", err);
            else {
                s_cfg = next;
                for (size_t i = 0; i < s_nconns; i++)
                    s_conns[i]->base_delay = s_draw_base();
                fprintf(stderr, "glci-faultproxy: control: delay_ms=%lld jitter_ms=%lld "
                                "stall=%d dup_pct=%g swap_pct=%g flip_pct=%g reset_pct=%g "
                                "replay_pct=%g\n",
                        (long long)s_cfg.delay_ms, (long long)s_cfg.jitter_ms, s_cfg.stall,
                        s_cfg.dup_pct, s_cfg.swap_pct, s_cfg.flip_pct, s_cfg.reset_pct,
                        s_cfg.replay_pct);
            }
        }
        if (s_usr1) {
            s_usr1 = 0;
            s_print_stats();
        }
        int64_t now = s_now(), wait = 1000;
        size_t np = 0;
        pfd[np++] = (struct pollfd){lfd, POLLIN, 0};
        for (size_t i = 0; i < s_nconns; i++) {
            s_conn_t *c = s_conns[i];
            short ce = 0, ue = 0;
            if (c->connecting)
                ue = POLLOUT;
            else {
                if (c->cfd >= 0 && !c->up.eof && c->up.bytes < S_QUEUE_MAX)
                    ce |= POLLIN;
                if (!c->down.eof && c->down.bytes < S_QUEUE_MAX)
                    ue |= POLLIN;
                int64_t tu = s_due_in(&c->up, now), td = s_due_in(&c->down, now);
                if (tu == 0)
                    ue |= POLLOUT;
                if (td == 0 && c->cfd >= 0)
                    ce |= POLLOUT;
                if (tu > 0 && tu < wait)
                    wait = tu;
                if (td > 0 && td < wait)
                    wait = td;
                if (c->replay && now - c->born < S_REPLAY_LIFE_MS &&
                    S_REPLAY_LIFE_MS - (now - c->born) < wait)
                    wait = S_REPLAY_LIFE_MS - (now - c->born);
            }
            /* a socket with nothing asked of it is left out (fd -1): a
             * half-closed one would report POLLHUP at every turn */
            pfd[np++] = (struct pollfd){ce ? c->cfd : -1, ce, 0};
            pfd[np++] = (struct pollfd){ue ? c->ufd : -1, ue, 0};
        }
        int r = poll(pfd, np, (int)wait);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "glci-faultproxy: poll: %s\n", strerror(errno));
            return 1;
        }
        now = s_now();
        /* connections, newest last: walk backwards so ending one (which
         * moves the last into its place) skips nothing */
        size_t n_before = s_nconns;
        for (size_t i = n_before; i-- > 0;) {
            s_conn_t *c = s_conns[i];
            short cre = pfd[1 + 2 * i].revents, ure = pfd[2 + 2 * i].revents;
            int end = 0, reset = 0;
            if (c->connecting) {
                if (ure & (POLLOUT | POLLERR | POLLHUP)) {
                    int e = 0;
                    socklen_t el = sizeof e;
                    getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &e, &el);
                    if (e != 0)
                        end = 1;
                    else
                        c->connecting = 0;
                }
            } else {
                if (c->cfd >= 0 && (cre & (POLLIN | POLLHUP | POLLERR))) {
                    int k = s_read(c, c->cfd, &c->up, 1);
                    end |= k < 0;
                    reset |= k > 0;
                }
                if (!end && !reset && (ure & (POLLIN | POLLHUP | POLLERR))) {
                    int k = c->replay ? 0 : s_read(c, c->ufd, &c->down, 0);
                    if (c->replay) {
                        unsigned char sink[S_CHUNK];
                        ssize_t n = read(c->ufd, sink, sizeof sink);
                        end |= n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
                    }
                    end |= k < 0;
                    reset |= k > 0;
                }
                if (!end && !reset) {
                    end |= s_write(c->ufd, &c->up, now) != 0;
                    if (c->cfd >= 0)
                        end |= s_write(c->cfd, &c->down, now) != 0;
                }
                /* done when both directions ended and were passed on */
                if (c->up.shut && (c->down.shut || c->replay))
                    end = 1;
                if (c->replay && now - c->born >= S_REPLAY_LIFE_MS)
                    end = 1;
                /* a side that ended while the other has nothing to say */
                if (c->down.eof && !c->down.head && !c->down.held && c->down.shut &&
                    c->up.eof)
                    end = 1;
            }
            if (end || reset)
                s_conn_end(i, reset);
        }
        if (pfd[0].revents & POLLIN)
            s_accept(lfd);
    }
    s_print_stats();
    return 0;
}
