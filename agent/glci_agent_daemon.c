/* glci-agent run: the daemon. One thread around one zmq_poll: the DEALER
 * and its monitor (glci_agent_sender), an inotify descriptor on the spool
 * folder (glci_agent_spool) and a signalfd for SIGTERM, SIGINT and SIGHUP
 * (blocked before ZeroMQ starts its threads, so they inherit the mask). The
 * outbox is the truth: on SIGTERM the loop ends at once, without waiting
 * for acks; what was not acked is sent again next time. */
#include "glci_agent_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_agent_cmd.h"
#include "glci_agent_deadletter.h"
#include "glci_agent_metrics.h"
#include "glci_agent_sender.h"
#include "glci_agent_spool.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_outbox.h"

typedef struct {
    glci_agent_config_t cfg;
    glci_outbox_t *ob;
    glci_agent_spool_t *spool;
    glci_agent_sender_t *sender;
    glci_agent_meter_t *meter;   /* metrics_file (glci_agent_metrics.h) */
    void *zctx;
    int lock_fd, inotify_fd, signal_fd, watch;
    char deadletter[GLCI_AGENT_PATH_MAX + 32];
    int64_t next_rescan;
    uint64_t retain_bytes_open;   /* retain_bytes when the outbox was opened */
    int64_t next_watch;          /* without a watch: when to try making one again */
    int64_t next_gone_warn;      /* spool path missing: when to warn again */
} s_daemon_t;

/* Without an inotify watch (the user's inotify instances or watches used
 * up, EMFILE/ENOSPC) the spool is scanned this often instead, and making
 * the watch is tried again at every rescan_interval. */
#define S_UNWATCHED_SCAN_MS 2000

/* Makes the spool watch into d->inotify_fd / d->watch. 0, or -1 with errno
 * set and no descriptor left open. */
static int s_watch(s_daemon_t *d)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    int w = inotify_add_watch(fd, d->cfg.spool, IN_CLOSE_WRITE | IN_MOVED_TO |
                              IN_DELETE_SELF | IN_MOVE_SELF);
    if (w < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    d->inotify_fd = fd;
    d->watch = w;
    return 0;
}

/* Tries the watch again when it is due; says when it works again. */
static void s_rewatch(s_daemon_t *d, int64_t now)
{
    if (d->inotify_fd >= 0 || now < d->next_watch)
        return;
    d->next_watch = now + 1000 * (int64_t)d->cfg.rescan_interval;
    if (s_watch(d) == 0)
        glci_info("%s: watching the spool folder again", d->cfg.spool);
}

/* The spool path checked against the folder open (at every rescan, and at
 * once when the watch says the folder was moved or removed): a new folder
 * there is opened and watched, with one line; a missing one is warned
 * about once per rescan_interval and looked for again at every rescan
 * (every 2 s, as without a watch). 0 when the folder may be scanned. */
static int s_spool_check(s_daemon_t *d, int64_t now)
{
    char err[1024];
    int rc = glci_agent_spool_refresh(d->spool, err, sizeof err);
    if (rc == 0)
        return 0;
    if (d->inotify_fd >= 0) {      /* it watches the old folder */
        close(d->inotify_fd);
        d->inotify_fd = -1;
    }
    if (rc < 0) {
        if (now >= d->next_gone_warn) {
            glci_warn("%s; looking for it again every %d s", err, S_UNWATCHED_SCAN_MS / 1000);
            d->next_gone_warn = now + 1000 * (int64_t)d->cfg.rescan_interval;
        }
        return -1;
    }
    d->next_gone_warn = 0;
    if (s_watch(d) != 0)
        d->next_watch = now;       /* s_rewatch tries again, as at start */
    glci_info("%s: the spool folder was replaced while running; taking files from the new "
              "folder (with its done/ and failed/)%s", d->cfg.spool,
              d->inotify_fd >= 0 ? "" : ", scanning it until it can be watched");
    return 0;
}

/* A spool file left because it was being written or had just changed is
 * looked at again by a rescan shortly after it settles, not only at the
 * next periodic rescan. */
static void s_soon_rescan(s_daemon_t *d, int busy)
{
    int64_t soon = glci_agent_time_now().ms + 1000 * (GLCI_AGENT_SPOOL_SETTLE_S + 1);
    if ((busy || glci_agent_spool_wants_look(d->spool)) && soon < d->next_rescan)
        d->next_rescan = soon;
}

static void s_take_events(s_daemon_t *d)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int rescan = 0, queued = 0, busy = 0, gone = 0;
    for (;;) {
        ssize_t n = read(d->inotify_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                gone = 1;          /* the folder itself: later names are the old one's */
            else if (!gone && (ev->mask & IN_Q_OVERFLOW))
                rescan = 1;
            else if (!gone && ev->len && glci_agent_spool_name_ok(ev->name)) {
                glci_agent_spool_stats_t stats = {0};
                char err[1024];
                int rc = glci_agent_spool_take(d->spool, d->ob, ev->name,
                                               d->cfg.batch_max,
                                               glci_agent_config_dialect(&d->cfg), &stats,
                                               err, sizeof err);
                if (rc != 0)
                    glci_error("%s", err);
                queued += stats.files_done > 0 || stats.rows_queued > 0;
                busy += stats.files_busy > 0;
            }
            p += sizeof *ev + ev->len;
        }
    }
    if (gone) {
        /* the folder was moved or removed: the rescan, now, looks for the
         * one the path names */
        close(d->inotify_fd);
        d->inotify_fd = -1;
        d->next_rescan = 0;
        return;
    }
    if (rescan) {
        glci_agent_spool_stats_t stats = {0};
        glci_agent_spool_scan(d->spool, d->ob, d->cfg.batch_max,
                              glci_agent_config_dialect(&d->cfg), &stats);
        queued += stats.files_done > 0 || stats.rows_queued > 0;
        busy += stats.files_busy > 0;
    }
    s_soon_rescan(d, busy);
    if (queued)
        glci_agent_sender_kick(d->sender);
}

static int s_same_connection(const glci_agent_config_t *a, const glci_agent_config_t *b)
{
    return strcmp(a->city, b->city) == 0 && strcmp(a->collector, b->collector) == 0 &&
           strcmp(a->collector_key, b->collector_key) == 0 &&
           strcmp(a->key_file, b->key_file) == 0 && a->window == b->window &&
           a->heartbeat_ivl == b->heartbeat_ivl && a->insecure == b->insecure;
}

/* The retention of acked batches (retain, retain_bytes) applied to the
 * outbox now: at start, and when a reload changes it (a lowered bound
 * prunes at once; the sender sees the new range at its next outbox poll). */
static void s_apply_retention(s_daemon_t *d, const glci_agent_config_t *was)
{
    if (was && was->retain == d->cfg.retain && was->retain_bytes == d->cfg.retain_bytes)
        return;
    uint64_t dropped = 0;
    int rc = glci_outbox_retain(d->ob, d->cfg.retain, d->cfg.retain_bytes,
                                glci_agent_time_now().unix_s, &dropped);
    if (rc != 0)
        glci_warn("cannot apply the retention of acked batches: %s; retrying at the next ack",
                  glci_outbox_strerror(rc));
    else if (dropped || was)
        glci_info("retaining acked batches for %lld s, at most %llu bytes%s (%llu dropped now)",
                  (long long)d->cfg.retain, (unsigned long long)d->cfg.retain_bytes,
                  d->cfg.retain && d->cfg.retain_bytes ? "" : ": off",
                  (unsigned long long)dropped);
}

/* The secret key file as `run` takes it at start (readable, a secret key,
 * not readable by group or others), whether or not the reload changes the
 * connection: a key file that became world-readable is refused at a reload
 * as at a start. 0, or -1 with the line in err. */
static int s_key_usable(const glci_agent_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->insecure)
        return 0;
    glci_key_t pub, sec;
    int rc = glci_keyfile_read(cfg->key_file, &pub, &sec, err, errlen);
    sodium_memzero(&sec, sizeof sec);
    return rc == 0 ? 0 : -1;
}

static void s_reload(s_daemon_t *d, int argc, char **argv)
{
    glci_agent_config_t next;
    char err[1024];
    char **rest = glci_xcalloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0;
    int rc = glci_agent_config_from_args(&next, argc, argv, rest, &n_rest, err, sizeof err);
    free(rest);
    if (rc == 0)
        rc = glci_agent_config_check_run(&next, err, sizeof err);
    if (rc == 0)
        rc = s_key_usable(&next, err, sizeof err);
    if (rc != 0) {
        glci_error("reload refused, keeping the running configuration: %s", err);
        return;
    }
    /* the outbox is the running city's (its stream is known to the
     * collector under that city only): another city needs its own */
    glci_outbox_status_t ost;
    if (strcmp(next.city, d->cfg.city) != 0 && glci_outbox_status(d->ob, &ost) == 0) {
        if (ost.city[0] && strcmp(ost.city, next.city) != 0) {
            glci_error("reload refused, keeping the running configuration: outbox %s belongs "
                       "to city %s, not to city %s; give city %s an outbox folder of its own "
                       "and restart", d->cfg.outbox, ost.city, next.city, next.city);
            return;
        }
        /* none recorded (an older outbox, or one whose city the collector
         * said was wrong): the corrected setting's */
        if (!ost.city[0] && glci_outbox_set_city(d->ob, next.city) != 0)
            glci_warn("reload: cannot record city %s in outbox %s", next.city, d->cfg.outbox);
    }
    if (strcmp(next.outbox, d->cfg.outbox) != 0 || strcmp(next.spool, d->cfg.spool) != 0 ||
        next.outbox_limit != d->cfg.outbox_limit)
        glci_warn("reload: outbox, spool and outbox_limit changes take effect at restart");
    /* the outbox's map was bounded for the retention at start */
    if (next.retain_bytes > d->retain_bytes_open) {
        glci_warn("reload: retain_bytes above %llu (its value at start) takes effect at "
                  "restart", (unsigned long long)d->retain_bytes_open);
        next.retain_bytes = d->retain_bytes_open;
    }
    /* a key file rewritten in place (a rotated collector key in the same
     * file) is a new connection too */
    if (!s_same_connection(&next, &d->cfg) || !glci_agent_sender_same_keys(d->sender, &next)) {
        glci_agent_sender_t *s = NULL;
        rc = glci_agent_sender_open(&next, d->ob, d->zctx, d->deadletter, &s, err, sizeof err);
        if (rc != 0) {
            glci_error("reload refused, keeping the running connection: %s", err);
            return;
        }
        glci_agent_sender_close(&d->sender);
        d->sender = s;
        glci_agent_sender_set_metrics(d->sender, glci_agent_meter_metrics(d->meter));
        glci_info("reload: reconnecting to %s", next.collector);
    }
    snprintf(next.outbox, sizeof next.outbox, "%s", d->cfg.outbox);
    snprintf(next.spool, sizeof next.spool, "%s", d->cfg.spool);
    next.outbox_limit = d->cfg.outbox_limit;
    glci_agent_config_t was = d->cfg;
    d->cfg = next;
    s_apply_retention(d, &was);
    glci_log_set_level(d->cfg.log_level);
    d->next_rescan = 0;
    glci_info("configuration reloaded");
}

/* Names this run in its lock file and in the outbox handle: the pid and a
 * random number, so neither a pid used again (a container's pid 1) nor a
 * run that was killed passes for this one. A lock file that cannot be
 * written leaves the run unnamed: status then shows the key files. */
static void s_stamp_lock(s_daemon_t *d, const char *lock)
{
    uint64_t r;
    randombytes_buf(&r, sizeof r);
    char run[GLCI_OUTBOX_RUN_LEN + 1], line[GLCI_OUTBOX_RUN_LEN + 2];
    snprintf(run, sizeof run, "%ld-%016llx", (long)getpid(), (unsigned long long)r);
    int n = snprintf(line, sizeof line, "%s\n", run);
    if (ftruncate(d->lock_fd, 0) != 0 || pwrite(d->lock_fd, line, (size_t)n, 0) != n) {
        glci_warn("%s: cannot name this run in it (%s): status shows the key files, not "
                  "the keys in use", lock, strerror(errno));
        return;
    }
    glci_outbox_set_run(d->ob, run);
}

int glci_agent_daemon_holder(const char *outbox, char *run, size_t len)
{
    char path[GLCI_AGENT_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/agent.lock", outbox);
    run[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (held) {
        char buf[GLCI_OUTBOX_RUN_LEN + 2];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(run, len, "%s", buf);
    }
    close(fd);
    return held;
}

int glci_agent_daemon_run(glci_agent_config_t *cfg, int argc, char **argv)
{
    char err[1024];
    int status = 1;
    s_daemon_t d;
    memset(&d, 0, sizeof d);
    d.lock_fd = d.inotify_fd = d.signal_fd = -1;
    d.cfg = *cfg;

    if (glci_agent_config_check_run(&d.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "glci-agent run: %s\n", err);
        return 2;
    }
    glci_log_init("glci-agent", d.cfg.log_level);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    d.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d.signal_fd < 0) {
        glci_error("signalfd: %s", strerror(errno));
        goto cleanup;
    }

    glci_outbox_opts_t oo = {.limit = d.cfg.outbox_limit, .retain_s = d.cfg.retain,
                             .retain_bytes = d.cfg.retain_bytes, .city = d.cfg.city};
    if (glci_outbox_open(d.cfg.outbox, &oo, &d.ob, err, sizeof err) != 0) {
        glci_error("%s", err);
        goto cleanup;
    }
    d.retain_bytes_open = d.cfg.retain_bytes;
    /* what check calls a problem, said, though not refused: a deployment
     * that runs keeps running */
    glci_check_t modes = {.program = "glci-agent", .to_log = 1};
    glci_agent_check_modes(&modes, &d.cfg);
    char lock[GLCI_AGENT_PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/agent.lock", d.cfg.outbox);
    d.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d.lock_fd < 0 || flock(d.lock_fd, LOCK_EX | LOCK_NB) != 0) {
        glci_error("%s: %s", lock, d.lock_fd >= 0 && errno == EWOULDBLOCK
                   ? "another glci-agent run is using this outbox" : strerror(errno));
        goto cleanup;
    }
    s_stamp_lock(&d, lock);
    /* The outbox folder holds the marker of a spool file being read: a
     * file that stopped the agent twice is set aside at this open. */
    glci_agent_spool_opts_t so = {.state_dir = d.cfg.outbox};
    if (glci_agent_spool_open(d.cfg.spool, &so, &d.spool, err, sizeof err) != 0) {
        glci_error("%s", err);
        goto cleanup;
    }
    glci_agent_deadletter_path(d.cfg.spool, d.deadletter, sizeof d.deadletter);
    s_apply_retention(&d, NULL);
    if (s_watch(&d) != 0) {
        /* the machine's inotify limits are shared by every program of the
         * user: the agent still delivers, by scanning */
        glci_warn("%s: cannot watch the spool folder: %s; scanning it every %d s instead "
                  "(fs.inotify.max_user_instances / max_user_watches)", d.cfg.spool,
                  strerror(errno), S_UNWATCHED_SCAN_MS / 1000);
        d.next_watch = glci_agent_time_now().ms + 1000 * (int64_t)d.cfg.rescan_interval;
    }

    d.zctx = zmq_ctx_new();
    if (!d.zctx) {
        glci_error("cannot start ZeroMQ: %s", zmq_strerror(zmq_errno()));
        goto cleanup;
    }
    if (glci_agent_sender_open(&d.cfg, d.ob, d.zctx, d.deadletter, &d.sender, err,
                               sizeof err) != 0 ||
        glci_agent_meter_open(d.cfg.city, &d.meter, err, sizeof err) != 0) {
        glci_error("%s", err);
        goto cleanup;
    }
    glci_agent_sender_set_metrics(d.sender, glci_agent_meter_metrics(d.meter));
    glci_info("started: city %s, collector %s%s, outbox %s (stream %016llx), spool %s",
              d.cfg.city, d.cfg.collector, d.cfg.insecure ? " (insecure)" : "",
              d.cfg.outbox, (unsigned long long)glci_outbox_stream(d.ob), d.cfg.spool);
    sd_notify(0, "READY=1");

    int stop = 0, failed = 0;
    while (!stop) {
        int64_t now = glci_agent_time_now().ms;
        if (now >= d.next_rescan) {
            glci_agent_spool_stats_t stats = {0};
            if (s_spool_check(&d, now) == 0)
                glci_agent_spool_scan(d.spool, d.ob, d.cfg.batch_max,
                                      glci_agent_config_dialect(&d.cfg), &stats);
            if (stats.files_done || stats.rows_queued)
                glci_agent_sender_kick(d.sender);
            d.next_rescan = now + 1000 * (int64_t)d.cfg.rescan_interval;
            if (d.inotify_fd < 0 && S_UNWATCHED_SCAN_MS < 1000 * (int64_t)d.cfg.rescan_interval)
                d.next_rescan = now + S_UNWATCHED_SCAN_MS;
            s_soon_rescan(&d, stats.files_busy > 0);
            s_rewatch(&d, now);
        }
        zmq_pollitem_t items[GLCI_AGENT_SENDER_NPOLL + 2];
        glci_agent_sender_poll_items(d.sender, items);
        items[2] = (zmq_pollitem_t){.socket = NULL, .fd = d.inotify_fd, .events = ZMQ_POLLIN};
        items[3] = (zmq_pollitem_t){.socket = NULL, .fd = d.signal_fd, .events = ZMQ_POLLIN};
        long timeout = glci_agent_sender_timeout(d.sender, now);
        long metrics = glci_agent_meter_timeout(d.meter, d.cfg.metrics_file,
                                                glci_agent_sender_state_word(d.sender), now);
        if (metrics < timeout)
            timeout = metrics;
        if (d.next_rescan - now < timeout)
            timeout = (long)(d.next_rescan - now);
        if (timeout < 0)
            timeout = 0;
        if (zmq_poll(items, 4, timeout) < 0 && zmq_errno() != EINTR) {
            glci_error("zmq_poll: %s; stopping (the outbox keeps what is not acked)",
                       zmq_strerror(zmq_errno()));
            failed = 1;
            break;
        }
        if (items[3].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo si;
            while (read(d.signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    glci_info("SIGHUP: reloading %s",
                              d.cfg.config_path[0] ? d.cfg.config_path : "(no config file)");
                    s_reload(&d, argc, argv);
                } else {
                    glci_info("signal %u: stopping (the outbox keeps what is not acked)",
                              si.ssi_signo);
                    stop = 1;
                }
            }
            if (stop)
                break;
            glci_agent_sender_poll_items(d.sender, items);   /* sender may be new */
        }
        if (items[2].revents & ZMQ_POLLIN)
            s_take_events(&d);
        glci_agent_time_t after = glci_agent_time_now();   /* the step's one clock */
        glci_agent_sender_step(d.sender, items, &after);
        glci_agent_meter_step(d.meter, d.cfg.metrics_file, d.ob,
                              glci_agent_sender_state_word(d.sender), after.ms);
    }
    sd_notify(0, "STOPPING=1");
    glci_outbox_set_state(d.ob, "stopped", glci_agent_time_now().unix_s);
    glci_outbox_set_keys(d.ob, "", "");       /* no key is in use any more */
    /* the last figures, in no connection state: the agent is not running */
    glci_agent_meter_flush(d.meter, d.cfg.metrics_file, d.ob, "", glci_agent_time_now().ms);
    status = failed ? 1 : 0;     /* a dead poll loop is a runtime failure */

cleanup:
    glci_agent_sender_close(&d.sender);
    glci_agent_meter_close(&d.meter);
    if (d.zctx)
        zmq_ctx_term(d.zctx);
    if (d.inotify_fd >= 0)
        close(d.inotify_fd);
    glci_agent_spool_close(&d.spool);
    glci_outbox_close(&d.ob);
    if (d.lock_fd >= 0)
        close(d.lock_fd);
    if (d.signal_fd >= 0)
        close(d.signal_fd);
    return status;
}
