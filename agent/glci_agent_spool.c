/* Spool intake and the dead-letter file: see glci_agent_spool.h.
 *
 * Before a file is read it is opened and a read lease is taken on it:
 * F_SETLEASE F_RDLCK fails with EAGAIN while anyone has the file open for
 * writing, so a file still being written in place is left alone. The lease
 * break signal is set to SIGURG (ignored by default), so a writer opening
 * the file while it is read only waits for the lease to go (at most the
 * read) and never kills the daemon. Where leases are refused (EACCES: not
 * the file's owner and no CAP_LEASE; EINVAL: a file system without them)
 * the mtime rule alone applies. After the read, the file's size and mtime
 * must still be what they were before it: otherwise it is left for its
 * next event or rescan. */
#define _GNU_SOURCE 1      /* F_SETLEASE, F_SETSIG */
#include "glci_agent_spool.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_agent_csv.h"
#include "glci_alloc.h"
#include "glci_log.h"
#include "glci_text.h"

static int s_mkdir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create folder: %s", path, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", path);
        return GLCI_AGENT_EIO;
    }
    return GLCI_AGENT_OK;
}

int glci_agent_spool_prepare(const char *spool, char *err, size_t errlen)
{
    char path[GLCI_AGENT_PATH_MAX + 16];
    int rc = s_mkdir(spool, err, errlen);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/done", spool);
        rc = s_mkdir(path, err, errlen);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/failed", spool);
        rc = s_mkdir(path, err, errlen);
    }
    return rc;
}

int glci_agent_spool_name_ok(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".csv") == 0;
}

/* A name in dir/ that is not taken: name, name.1, name.2, ... */
static void s_free_name(const char *dir, const char *name, char *out, size_t outlen)
{
    struct stat sb;
    snprintf(out, outlen, "%s/%s", dir, name);
    for (unsigned k = 1; lstat(out, &sb) == 0 && k < 100000; k++)
        snprintf(out, outlen, "%s/%s.%u", dir, name, k);
}

static int s_write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Moves spool/name to failed/ with NAME.errors beside it: the csv's error
 * lines, or (csv NULL) the one line why. */
static int s_fail_file(const char *spool, const char *name, const glci_agent_csv_t *csv,
                       const char *why, char *err, size_t errlen)
{
    char from[GLCI_AGENT_PATH_MAX * 2], to[GLCI_AGENT_PATH_MAX * 2 + 16];
    char dir[GLCI_AGENT_PATH_MAX + 16], errs[GLCI_AGENT_PATH_MAX * 2 + 32];
    snprintf(from, sizeof from, "%s/%s", spool, name);
    snprintf(dir, sizeof dir, "%s/failed", spool);
    s_free_name(dir, name, to, sizeof to);
    snprintf(errs, sizeof errs, "%s.errors", to);
    int fd = open(errs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", errs, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    int bad = 0;
    size_t n = csv ? glci_agent_csv_n_errors(csv) : 1;
    for (size_t i = 0; !bad && i < n; i++) {
        const char *line = csv ? glci_agent_csv_error(csv, i) : why;
        bad = s_write_all(fd, line, strlen(line)) != 0 || s_write_all(fd, "\n", 1) != 0;
    }
    if (!bad)
        bad = fsync(fd) != 0;
    int saved = errno;
    close(fd);
    if (bad) {
        snprintf(err, errlen, "%s: cannot write: %s", errs, strerror(saved));
        return GLCI_AGENT_EIO;
    }
    if (rename(from, to) != 0) {
        snprintf(err, errlen, "%s: cannot move to %s: %s", from, to, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    return GLCI_AGENT_OK;
}

/* Writes done/NAME.log (TO.log), what the take did: when, the dialect the
 * file was read in and why, the batches. Best effort: a log that cannot be
 * written is warned about and the file still moves (its rows are queued). */
static void s_done_log(const char *to, const char *name, const char *what)
{
    char path[GLCI_AGENT_PATH_MAX * 2 + 24], when[32];
    snprintf(path, sizeof path, "%s.log", to);
    glci_format_iso_time((int64_t)time(NULL), when, sizeof when);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        glci_warn("%s: cannot write: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "%s: taken %s\n%s", name, when, what);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        glci_warn("%s: cannot write: %s", path, strerror(errno));
    fclose(f);
}

/* The path spool/name gets in done/ (name, or name.1, name.2... when
 * taken). */
static void s_done_name(const char *spool, const char *name, char *to, size_t len)
{
    char dir[GLCI_AGENT_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/done", spool);
    s_free_name(dir, name, to, len);
}

/* Moves spool/name to done/: to `to` when given (chosen by s_done_name
 * before its rows were queued, so the outbox knows where it went), else to
 * a free name there; done/NAME.log is written beside it first. */
static int s_done_file(const char *spool, const char *name, const char *given,
                       const char *what, char *err, size_t errlen)
{
    char from[GLCI_AGENT_PATH_MAX * 2], to[GLCI_AGENT_PATH_MAX * 2 + 16];
    snprintf(from, sizeof from, "%s/%s", spool, name);
    struct stat sb;
    if (given && lstat(given, &sb) != 0)
        snprintf(to, sizeof to, "%s", given);
    else
        s_done_name(spool, name, to, sizeof to);
    s_done_log(to, name, what);
    if (rename(from, to) != 0) {
        snprintf(err, errlen, "%s: cannot move to %s: %s", from, to, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    return GLCI_AGENT_OK;
}

/* Fails a file for a reason of the whole file (one line in NAME.errors). */
static int s_fail_whole(const char *spool, const char *name, const char *path,
                        const char *why, glci_agent_spool_stats_t *stats,
                        char *err, size_t errlen)
{
    int rc = s_fail_file(spool, name, NULL, why, err, errlen);
    if (rc != 0) {
        stats->files_waiting++;
        return rc;
    }
    glci_error("%s: %s; moved to failed/ with %s.errors; nothing from it was queued",
               path, why + strlen("file: "), name);
    stats->files_failed++;
    return GLCI_AGENT_OK;
}

/* 1 if sb's mtime is less than GLCI_AGENT_SPOOL_SETTLE_S seconds ago (or in
 * the future). */
static int s_fresh(const struct stat *sb)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return sb->st_mtim.tv_sec > now.tv_sec - GLCI_AGENT_SPOOL_SETTLE_S ||
           (sb->st_mtim.tv_sec == now.tv_sec - GLCI_AGENT_SPOOL_SETTLE_S &&
            sb->st_mtim.tv_nsec > now.tv_nsec);
}

/* Takes one file; rescan: found by a scan, not named by an event. */
static int s_take(glci_outbox_t *ob, const char *spool, const char *name, size_t batch_max,
                  glci_agent_csv_dialect_t dialect, int rescan,
                  glci_agent_spool_stats_t *stats, char *err, size_t errlen)
{
    char what[GLCI_AGENT_PATH_MAX + 512] = "was queued by an earlier take (before a "
                                           "restart); moved to done/ now\n";
    char to[GLCI_AGENT_PATH_MAX * 2 + 16] = "";
    char path[GLCI_AGENT_PATH_MAX * 2];
    struct stat sb, after;
    glci_agent_csv_t *csv = NULL;
    int fd, leased = 0;
    snprintf(path, sizeof path, "%s/%s", spool, name);
    if (!glci_agent_spool_name_ok(name))
        return GLCI_AGENT_OK;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return GLCI_AGENT_OK;     /* vanished, a link, a folder...: not ours */
    }
    /* Still open for writing somewhere: not now. */
    if (fcntl(fd, F_SETSIG, SIGURG) == 0 && fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        leased = 1;
    } else if (errno == EAGAIN || errno == EBUSY) {
        glci_debug("%s: still open for writing; left for its close", path);
        goto busy;
    }
    /* Without a lease, or found by a rescan: only once it stopped changing. */
    if ((rescan || !leased) && s_fresh(&sb)) {
        glci_debug("%s: modified less than %d s ago; left for later", path,
                   GLCI_AGENT_SPOOL_SETTLE_S);
        goto busy;
    }

    /* The file's identity: taken once, even if moving it fails after. */
    char marker[GLCI_AGENT_PATH_MAX + 128];
    snprintf(marker, sizeof marker, "spool:%s:%llu:%llu:%lld:%lld.%09ld", name,
             (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
             (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
    int rc = glci_outbox_has_marker(ob, marker);
    if (rc == 1) {
        glci_info("%s: was queued before; moving it to done/", path);
        goto done;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: outbox: %s", path, glci_outbox_strerror(rc));
        rc = GLCI_AGENT_EOUTBOX;
        goto waiting;
    }

    /* A file that can never fit is failed, not retried forever, and is
     * never read into memory. */
    glci_outbox_status_t ost;
    rc = glci_outbox_status(ob, &ost);
    if (rc != 0) {
        snprintf(err, errlen, "%s: outbox: %s", path, glci_outbox_strerror(rc));
        rc = GLCI_AGENT_EOUTBOX;
        goto waiting;
    }
    if ((uint64_t)sb.st_size > GLCI_AGENT_SPOOL_FILE_MAX || (uint64_t)sb.st_size > ost.limit) {
        int hard = (uint64_t)sb.st_size > GLCI_AGENT_SPOOL_FILE_MAX;
        char why[256];
        snprintf(why, sizeof why, "file: %lld bytes, larger than %s (%llu "
                 "bytes); split it into smaller files", (long long)sb.st_size,
                 hard ? "the largest spool file taken" : "the outbox size limit",
                 hard ? (unsigned long long)GLCI_AGENT_SPOOL_FILE_MAX
                      : (unsigned long long)ost.limit);
        rc = s_fail_whole(spool, name, path, why, stats, err, errlen);
        close(fd);
        return rc;
    }

    uint64_t nread = 0;
    rc = glci_agent_csv_read_fd_as(fd, path, dialect, &csv, &nread, err, errlen);
    if (rc != 0)
        goto waiting;
    if (fstat(fd, &after) != 0 || after.st_size != sb.st_size || nread != (uint64_t)sb.st_size ||
        after.st_mtim.tv_sec != sb.st_mtim.tv_sec || after.st_mtim.tv_nsec != sb.st_mtim.tv_nsec) {
        glci_info("%s: changed while it was read; left for its next close or rescan", path);
        glci_agent_csv_free(&csv);
        goto busy;
    }
    /* The descriptor (and the lease, which holds off a writer's open) is
     * kept until the file has been moved. */
    if (glci_agent_csv_n_errors(csv) > 0) {
        size_t n = glci_agent_csv_n_errors(csv);
        rc = s_fail_file(spool, name, csv, NULL, err, errlen);
        if (rc != 0)
            goto waiting;
        glci_error("%s: %zu bad line%s, first: %s; moved to failed/ with %s.errors; "
                   "nothing from it was queued", path, n, n == 1 ? "" : "s",
                   glci_agent_csv_error(csv, 0), name);
        stats->files_failed++;
        glci_agent_csv_free(&csv);
        close(fd);
        return GLCI_AGENT_OK;
    }
    const glci_obs_t *rows;
    size_t n = glci_agent_csv_rows(csv, &rows);
    uint64_t first = 0, last = 0;
    s_done_name(spool, name, to, sizeof to);
    rc = glci_outbox_append_from(ob, rows, n, batch_max, (int64_t)time(NULL), marker,
                                 strlen(to) <= GLCI_OUTBOX_ORIGIN_MAX ? to : NULL, &first,
                                 &last);
    if (rc == GLCI_OUTBOX_EFULL && glci_outbox_status(ob, &ost) == 0 && ost.batches == 0) {
        char why[256];
        snprintf(why, sizeof why, "file: its %zu rows do not fit in the outbox size "
                 "limit (%llu bytes) even when it is empty; split it into smaller files", n,
                 (unsigned long long)ost.limit);
        glci_agent_csv_free(&csv);
        rc = s_fail_whole(spool, name, path, why, stats, err, errlen);
        close(fd);
        return rc;
    }
    if (rc == GLCI_OUTBOX_EFULL) {
        snprintf(err, errlen, "%s: not queued: the outbox size limit is reached "
                 "(%zu rows wait in the spool until deliveries make room)", path, n);
        rc = GLCI_AGENT_EFULL;
        goto waiting;
    }
    if (rc != 0 && rc != GLCI_OUTBOX_EEXIST) {
        snprintf(err, errlen, "%s: not queued: %s", path, glci_outbox_strerror(rc));
        rc = GLCI_AGENT_EOUTBOX;
        goto waiting;
    }
    const char *why;
    glci_agent_csv_dialect_t d = glci_agent_csv_dialect(csv, &why);
    if (rc == 0) {
        char batches[64];
        if (first == last)
            snprintf(batches, sizeof batches, "batch %llu", (unsigned long long)first);
        else
            snprintf(batches, sizeof batches, "batches %llu..%llu",
                     (unsigned long long)first, (unsigned long long)last);
        glci_info("%s: queued %zu row%s as %s (read as %s by %s)", path, n,
                  n == 1 ? "" : "s", batches, d == GLCI_AGENT_CSV_EXCEL ? "excel" : "comma",
                  why);
        const char *base = strrchr(to, '/');
        snprintf(what, sizeof what, "read as %s, chosen by %s\n%zu row%s queued as %s\n"
                 "rows the collector rejects are listed in %s.rejects beside this file and "
                 "in rejected.csv\n", glci_agent_csv_dialect_str(d), why, n,
                 n == 1 ? "" : "s", batches, base ? base + 1 : to);
        stats->rows_queued += n;
    } else {
        snprintf(what, sizeof what, "read as %s, chosen by %s\nits rows were queued by an "
                 "earlier take (before a restart)\n", glci_agent_csv_dialect_str(d), why);
    }
    glci_agent_csv_free(&csv);
done:
    rc = s_done_file(spool, name, to[0] ? to : NULL, what, err, errlen);
    close(fd);
    if (rc != 0) {
        stats->files_waiting++;
        return rc;
    }
    stats->files_done++;
    return GLCI_AGENT_OK;
waiting:
    close(fd);
    glci_agent_csv_free(&csv);
    stats->files_waiting++;
    return rc;
busy:
    close(fd);            /* also gives up the lease */
    stats->files_busy++;
    return GLCI_AGENT_OK;
}

int glci_agent_spool_take(glci_outbox_t *ob, const char *spool, const char *name,
                          size_t batch_max, glci_agent_csv_dialect_t dialect,
                          glci_agent_spool_stats_t *stats, char *err, size_t errlen)
{
    return s_take(ob, spool, name, batch_max, dialect, 0, stats, err, errlen);
}


static int s_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int glci_agent_spool_scan(glci_outbox_t *ob, const char *spool, size_t batch_max,
                          glci_agent_csv_dialect_t dialect, glci_agent_spool_stats_t *stats)
{
    DIR *d = opendir(spool);
    if (!d) {
        glci_error("%s: cannot read the spool folder: %s", spool, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!glci_agent_spool_name_ok(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = glci_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = glci_xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, s_cmp_names);
    int first_rc = 0;
    for (size_t i = 0; i < n; i++) {
        char err[1024];
        int rc = s_take(ob, spool, names[i], batch_max, dialect, 1, stats, err, sizeof err);
        if (rc != 0) {
            glci_error("%s", err);
            if (!first_rc)
                first_rc = rc;
        }
        free(names[i]);
    }
    free(names);
    return first_rc;
}
