/* Spool intake: see glci_agent_spool.h.
 *
 * Leases: before a file is read it is opened and a read lease is taken on
 * it: F_SETLEASE F_RDLCK fails with EAGAIN while anyone has the file open
 * for writing, so a file still being written in place is left alone. The
 * lease break signal is set to SIGURG (ignored by default), so a writer
 * opening the file while it is read only waits for the lease to go (at
 * most the read) and never kills the daemon. Where leases are refused
 * (EACCES: not the file's owner and no CAP_LEASE; EINVAL: a file system
 * without them) the quiet rule decides instead: the identity seen at an
 * earlier look, at least the quiet period ago, must still be the file's.
 *
 * Watching: the descriptor a file was read from is kept after the move
 * (its lease given up, so a writer is not held), and its size looked at on
 * every scan while the watch lasts. A rename does not change the inode, so
 * a writer that kept the file open writes into done/NAME, and the growth
 * shows there. */
#define _GNU_SOURCE 1      /* F_SETLEASE, F_SETSIG, renameat2 */
#include "glci_agent_spool.h"

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
#include "glci_utf8.h"

#define S_SEEN_MAX 4096       /* files waiting for their quiet period */
#define S_ODD_MAX 1024        /* non-regular *.csv names remembered as logged */
#define S_NAME_SHOWN 256      /* an escaped name in a message */

typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim;
} s_ident_t;

typedef struct {
    char *name;
    s_ident_t id;
    int64_t since_ms;         /* first seen with this identity */
    int touched;              /* seen by the current scan */
} s_seen_t;

typedef struct {
    char *name;
    dev_t dev;
    ino_t ino;
    int touched;
} s_odd_t;

typedef struct {
    int fd;
    char *name;               /* the name it was taken under */
    char *where;              /* "done/NAME.1" */
    int failed;               /* in failed/: growth is reported, not read */
    s_ident_t id;             /* at the last look */
    uint64_t taken;           /* bytes read (and queued, in done/) */
    glci_agent_csv_layout_t layout;
    int64_t changed_ms;       /* when the identity last changed */
    int64_t until_ms;
} s_watch_t;

struct glci_agent_spool {
    char *path;
    int dirfd;
    char *marker;             /* STATE/spool.reading, or NULL */
    int64_t settle_ms;
    uid_t uid;
    s_seen_t *seen;
    size_t n_seen, cap_seen;
    s_odd_t *odd;
    size_t n_odd, cap_odd;
    int odd_full_logged;
    s_watch_t watch[GLCI_AGENT_SPOOL_WATCH_MAX];
    size_t n_watch;
    unsigned aside_n;
};

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static s_ident_t s_ident(const struct stat *sb)
{
    s_ident_t id = {sb->st_dev, sb->st_ino, sb->st_size, sb->st_mtim};
    return id;
}

static int s_same(const s_ident_t *a, const s_ident_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec;
}

/* The name as it may appear in a log line or message. */
static const char *s_shown(const char *name, char *buf, size_t len)
{
    glci_utf8_escape(name, S_NAME_SHOWN, buf, len);
    return buf;
}

int glci_agent_spool_name_ok(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".csv") == 0;
}

/* 1 if sb's mtime is less than the quiet period ago (or in the future). */
static int s_fresh(const glci_agent_spool_t *sp, const struct stat *sb)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_ms = ((int64_t)now.tv_sec - sb->st_mtim.tv_sec) * 1000 +
                     (now.tv_nsec - sb->st_mtim.tv_nsec) / 1000000;
    return age_ms < sp->settle_ms;
}

/* ---- done/ and failed/ --------------------------------------------------- */

/* Opens the spool's sub-folder sub, made if missing. A folder that is not
 * the agent's own (a link, a file, a folder of another user or writable
 * by others: a group member put it there) is moved aside and made anew,
 * with an ALARM. Returns the descriptor, or -1 with err. */
static int s_subdir(glci_agent_spool_t *sp, const char *sub, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = openat(sp->dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            if (mkdirat(sp->dirfd, sub, 0750) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "%s/%s: cannot create folder: %s", sp->path, sub,
                         strerror(errno));
                return -1;
            }
            continue;
        }
        char why[128];
        struct stat sb;
        if (fd < 0 && errno != ELOOP && errno != ENOTDIR) {
            snprintf(err, errlen, "%s/%s: cannot open: %s", sp->path, sub, strerror(errno));
            return -1;
        }
        if (fd < 0)
            snprintf(why, sizeof why, "not a folder (a link or a file)");
        else if (fstat(fd, &sb) != 0)
            snprintf(why, sizeof why, "not readable (%s)", strerror(errno));
        else if (sb.st_uid != sp->uid)
            snprintf(why, sizeof why, "a folder of uid %u, not of the agent (uid %u)",
                     (unsigned)sb.st_uid, (unsigned)sp->uid);
        else if (sb.st_mode & 022)
            snprintf(why, sizeof why, "writable by others than the agent (mode %04o)",
                     (unsigned)(sb.st_mode & 07777));
        else
            return fd;
        if (fd >= 0)
            close(fd);
        char aside[96];
        snprintf(aside, sizeof aside, ".%s.suspect-%lld-%u", sub, (long long)time(NULL),
                 sp->aside_n++);
        if (renameat2(sp->dirfd, sub, sp->dirfd, aside, RENAME_NOREPLACE) != 0) {
            snprintf(err, errlen, "%s/%s is %s and cannot be moved aside: %s", sp->path, sub,
                     why, strerror(errno));
            return -1;
        }
        glci_error("ALARM: %s/%s was %s: someone who can write the spool folder replaced "
                   "it; moved aside to %s/%s, made anew, nothing written into it",
                   sp->path, sub, why, sp->path, aside);
    }
    snprintf(err, errlen, "%s/%s keeps being replaced; files wait in the spool", sp->path, sub);
    return -1;
}

/* Moves spool/name into the folder subfd under name, name.1, name.2...
 * (never over an existing entry); the name used in to. */
static int s_move(glci_agent_spool_t *sp, const char *name, int subfd, char *to, size_t tolen)
{
    for (unsigned k = 0; k < 100000; k++) {
        if (k == 0)
            snprintf(to, tolen, "%s", name);
        else
            snprintf(to, tolen, "%s.%u", name, k);
        if (renameat2(sp->dirfd, name, subfd, to, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
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

static int s_write_line(int fd, const char *line)
{
    return s_write_all(fd, line, strlen(line)) != 0 || s_write_all(fd, "\n", 1) != 0 ? -1 : 0;
}

/* Moves spool/name to failed/ with NAME.errors beside it: the csv's error
 * lines (the listed ones, then how many more), or (csv NULL) the one line
 * why. The errors file is made new (O_EXCL, O_NOFOLLOW): a name already
 * there, a link included, makes the next free name be used. *to_out gets
 * "failed/NAME..." for messages (may be NULL). */
static int s_fail_file(glci_agent_spool_t *sp, const char *name, const glci_agent_csv_t *csv,
                       const char *why, char *to_out, size_t to_len, char *err, size_t errlen)
{
    char to[GLCI_AGENT_PATH_MAX + 16], errs[GLCI_AGENT_PATH_MAX + 32], shown[S_NAME_SHOWN * 4];
    int ffd = s_subdir(sp, "failed", err, errlen);
    if (ffd < 0)
        return GLCI_AGENT_EIO;
    int rc = GLCI_AGENT_EIO;
    for (unsigned k = 0; k < 100000; k++) {
        struct stat sb;
        if (k == 0)
            snprintf(to, sizeof to, "%s", name);
        else
            snprintf(to, sizeof to, "%s.%u", name, k);
        snprintf(errs, sizeof errs, "%s.errors", to);
        if (fstatat(ffd, to, &sb, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        int efd = openat(ffd, errs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (efd < 0 && errno == EEXIST)
            continue;
        if (efd < 0) {
            snprintf(err, errlen, "%s/failed/%s: cannot write: %s", sp->path,
                     s_shown(errs, shown, sizeof shown), strerror(errno));
            goto out;
        }
        int bad = 0;
        size_t listed = csv ? glci_agent_csv_n_listed(csv) : 1;
        for (size_t i = 0; !bad && i < listed; i++)
            bad = s_write_line(efd, csv ? glci_agent_csv_error(csv, i) : why) != 0;
        if (!bad && csv && glci_agent_csv_n_errors(csv) > listed) {
            char more[96];
            size_t m = glci_agent_csv_n_errors(csv) - listed;
            snprintf(more, sizeof more, "and %zu more bad line%s (not listed)", m,
                     m == 1 ? "" : "s");
            bad = s_write_line(efd, more) != 0;
        }
        if (!bad)
            bad = fsync(efd) != 0;
        int saved = errno;
        close(efd);
        if (bad) {
            unlinkat(ffd, errs, 0);
            snprintf(err, errlen, "%s/failed/%s: cannot write: %s", sp->path,
                     s_shown(errs, shown, sizeof shown), strerror(saved));
            goto out;
        }
        if (renameat2(sp->dirfd, name, ffd, to, RENAME_NOREPLACE) == 0) {
            if (to_out)
                snprintf(to_out, to_len, "failed/%s", to);
            rc = GLCI_AGENT_OK;
            goto out;
        }
        saved = errno;
        unlinkat(ffd, errs, 0);
        if (saved != EEXIST) {
            snprintf(err, errlen, "%s/%s: cannot move to failed/: %s", sp->path,
                     s_shown(name, shown, sizeof shown), strerror(saved));
            goto out;
        }
    }
    snprintf(err, errlen, "%s/%s: no free name in failed/", sp->path,
             s_shown(name, shown, sizeof shown));
out:
    close(ffd);
    return rc;
}

/* Writes done/TO.log, what the take did: when, the dialect the file was
 * read in and why, the batches. Relative to the done/ folder, an old entry
 * of that name removed first and the log made new (O_EXCL), so nothing is
 * ever written through a link planted there. Best effort: a log that
 * cannot be written is warned about and the file still counts as taken
 * (its rows are queued). */
static void s_done_log(glci_agent_spool_t *sp, int dfd, const char *to, const char *name,
                       const char *what)
{
    char log[GLCI_AGENT_PATH_MAX + 24], when[32], shown[S_NAME_SHOWN * 4];
    char shown_name[S_NAME_SHOWN * 4];
    snprintf(log, sizeof log, "%s.log", to);
    glci_format_iso_time((int64_t)time(NULL), when, sizeof when);
    s_shown(log, shown, sizeof shown);
    s_shown(name, shown_name, sizeof shown_name);
    if (unlinkat(dfd, log, 0) != 0 && errno != ENOENT) {
        glci_warn("%s/done/%s: cannot replace: %s", sp->path, shown, strerror(errno));
        return;
    }
    int fd = openat(dfd, log, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        glci_warn("%s/done/%s: cannot write: %s", sp->path, shown, strerror(errno));
        return;
    }
    fprintf(f, "%s: taken %s\n%s", shown_name, when, what);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        glci_warn("%s/done/%s: cannot write: %s", sp->path, shown, strerror(errno));
    fclose(f);
}

/* The name spool/name will get in done/ (name, or name.1, name.2... when
 * taken), told to the outbox before its rows are queued so their rejects
 * can be listed beside it; "" when done/ cannot be opened. */
static void s_done_name(glci_agent_spool_t *sp, const char *name, char *to, size_t len)
{
    char err[256];
    struct stat sb;
    to[0] = '\0';
    int dfd = s_subdir(sp, "done", err, sizeof err);
    if (dfd < 0)
        return;
    for (unsigned k = 0; k < 100000; k++) {
        if (k == 0)
            snprintf(to, len, "%s", name);
        else
            snprintf(to, len, "%s.%u", name, k);
        if (fstatat(dfd, to, &sb, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
            break;
    }
    close(dfd);
}

/* Moves name to done/, to `given` when that is still free (chosen by
 * s_done_name before the rows were queued), else to a free name there
 * (never over an entry); writes what (NULL: nothing) beside it. */
static int s_done_file(glci_agent_spool_t *sp, const char *name, const char *given,
                       const char *what, char *to_out, size_t to_len, char *err, size_t errlen)
{
    char to[GLCI_AGENT_PATH_MAX + 16], shown[S_NAME_SHOWN * 4];
    int dfd = s_subdir(sp, "done", err, errlen);
    if (dfd < 0)
        return GLCI_AGENT_EIO;
    int rc = -1;
    if (given && given[0]) {
        snprintf(to, sizeof to, "%s", given);
        rc = renameat2(sp->dirfd, name, dfd, to, RENAME_NOREPLACE);
    }
    if (rc != 0)
        rc = s_move(sp, name, dfd, to, sizeof to);
    int saved = errno;
    if (rc == 0 && what)
        s_done_log(sp, dfd, to, name, what);
    close(dfd);
    if (rc != 0) {
        snprintf(err, errlen, "%s/%s: cannot move to done/: %s", sp->path,
                 s_shown(name, shown, sizeof shown), strerror(saved));
        return GLCI_AGENT_EIO;
    }
    if (to_out)
        snprintf(to_out, to_len, "done/%s", to);
    return GLCI_AGENT_OK;
}

/* Fails a file for a reason of the whole file (one line in NAME.errors). */
static int s_fail_whole(glci_agent_spool_t *sp, const char *name, const char *why,
                        glci_agent_spool_stats_t *stats, char *err, size_t errlen)
{
    char shown[S_NAME_SHOWN * 4], to[GLCI_AGENT_PATH_MAX + 32], shown_to[S_NAME_SHOWN * 4];
    int rc = s_fail_file(sp, name, NULL, why, to, sizeof to, err, errlen);
    if (rc != 0) {
        stats->files_waiting++;
        return rc;
    }
    s_shown(name, shown, sizeof shown);
    s_shown(to, shown_to, sizeof shown_to);
    glci_error("%s/%s: %s; moved to %s with %s.errors; nothing from it was queued",
               sp->path, shown, why + strlen("file: "), shown_to, shown_to);
    stats->files_failed++;
    return GLCI_AGENT_OK;
}

/* ---- names that are not regular files ------------------------------------ */

/* Logs once that name is not a regular file (kind), until the name goes. */
static void s_odd(glci_agent_spool_t *sp, const char *name, const char *kind)
{
    struct stat sb;
    char shown[S_NAME_SHOWN * 4];
    if (fstatat(sp->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    for (size_t i = 0; i < sp->n_odd; i++) {
        s_odd_t *o = &sp->odd[i];
        if (strcmp(o->name, name) != 0)
            continue;
        o->touched = 1;
        if (o->dev == sb.st_dev && o->ino == sb.st_ino)
            return;
        o->dev = sb.st_dev;
        o->ino = sb.st_ino;
        goto log;
    }
    if (sp->n_odd == S_ODD_MAX) {
        if (!sp->odd_full_logged)
            glci_warn("%s: more than %d names that are not regular files; no more are "
                      "logged", sp->path, S_ODD_MAX);
        sp->odd_full_logged = 1;
        return;
    }
    if (sp->n_odd == sp->cap_odd) {
        sp->cap_odd = sp->cap_odd ? 2 * sp->cap_odd : 16;
        sp->odd = glci_xrealloc(sp->odd, sp->cap_odd * sizeof *sp->odd);
    }
    sp->odd[sp->n_odd++] = (s_odd_t){glci_xstrdup(name), sb.st_dev, sb.st_ino, 1};
log:
    glci_warn("%s/%s is %s, not a regular file: left alone (only regular files are taken)",
              sp->path, s_shown(name, shown, sizeof shown), kind);
}

/* ---- the quiet rule --------------------------------------------------------- */

static s_seen_t *s_seen_find(glci_agent_spool_t *sp, const char *name)
{
    for (size_t i = 0; i < sp->n_seen; i++)
        if (strcmp(sp->seen[i].name, name) == 0)
            return &sp->seen[i];
    return NULL;
}

static void s_seen_drop(glci_agent_spool_t *sp, s_seen_t *e)
{
    free(e->name);
    *e = sp->seen[--sp->n_seen];
}

/* 1 if the file (open as fd, fstat sb) has looked the same since a look at
 * least the quiet period ago (five times that when it does not end with a
 * line end, as a file cut by a pause mostly does not); else records this
 * look and returns 0. */
static int s_quiet(glci_agent_spool_t *sp, const char *name, int fd, const struct stat *sb)
{
    int64_t now = s_mono_ms();
    s_ident_t id = s_ident(sb);
    s_seen_t *e = s_seen_find(sp, name);
    if (e && s_same(&e->id, &id)) {
        e->touched = 1;
        char last = '\n';
        if (sb->st_size > 0 && pread(fd, &last, 1, sb->st_size - 1) != 1)
            last = '\n';
        int64_t need = last == '\n' ? sp->settle_ms : 5 * sp->settle_ms;
        return now - e->since_ms >= need;
    }
    if (!e) {
        if (sp->n_seen == S_SEEN_MAX) {       /* the oldest waits longer */
            size_t old = 0;
            for (size_t i = 1; i < sp->n_seen; i++)
                if (sp->seen[i].since_ms < sp->seen[old].since_ms)
                    old = i;
            s_seen_drop(sp, &sp->seen[old]);
        }
        if (sp->n_seen == sp->cap_seen) {
            sp->cap_seen = sp->cap_seen ? 2 * sp->cap_seen : 16;
            sp->seen = glci_xrealloc(sp->seen, sp->cap_seen * sizeof *sp->seen);
        }
        e = &sp->seen[sp->n_seen++];
        e->name = glci_xstrdup(name);
    }
    e->id = id;
    e->since_ms = now;
    e->touched = 1;
    return 0;
}

/* ---- the crash marker ------------------------------------------------------- */

typedef struct {
    unsigned count;
    s_ident_t id;
    char name[GLCI_AGENT_PATH_MAX];
} s_mark_t;

static int s_marker_read(const glci_agent_spool_t *sp, s_mark_t *m)
{
    if (!sp->marker)
        return -1;
    FILE *f = fopen(sp->marker, "re");
    if (!f)
        return -1;
    char text[GLCI_AGENT_PATH_MAX + 256];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    unsigned long long dev, ino, sec, nsec;
    long long size;
    int used = 0;
    memset(m, 0, sizeof *m);
    if (sscanf(text, "glci-spool-reading 1\ncount %u\nid %llu %llu %lld %llu %llu\nname %n",
               &m->count, &dev, &ino, &size, &sec, &nsec, &used) != 6 || used == 0)
        return -1;
    m->id.dev = (dev_t)dev;
    m->id.ino = (ino_t)ino;
    m->id.size = (off_t)size;
    m->id.mtim.tv_sec = (time_t)sec;
    m->id.mtim.tv_nsec = (long)nsec;
    size_t len = strlen(text + used);
    if (len == 0 || text[used + len - 1] != '\n')
        return -1;
    snprintf(m->name, sizeof m->name, "%.*s", (int)(len - 1), text + used);
    return 0;
}

/* Writes the marker (a new file renamed over the old one, fsynced): the
 * agent is about to read name. */
static void s_marker_write(const glci_agent_spool_t *sp, const s_mark_t *m)
{
    if (!sp->marker)
        return;
    char tmp[GLCI_AGENT_PATH_MAX + 32], text[GLCI_AGENT_PATH_MAX + 256];
    snprintf(tmp, sizeof tmp, "%s.new", sp->marker);
    int len = snprintf(text, sizeof text, "glci-spool-reading 1\ncount %u\nid %llu %llu %lld "
                       "%llu %llu\nname %s\n", m->count, (unsigned long long)m->id.dev,
                       (unsigned long long)m->id.ino, (long long)m->id.size,
                       (unsigned long long)m->id.mtim.tv_sec,
                       (unsigned long long)m->id.mtim.tv_nsec, m->name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || s_write_all(fd, text, (size_t)len) != 0 || fsync(fd) != 0 ||
        rename(tmp, sp->marker) != 0)
        glci_warn("%s: cannot write: %s (a file that stops the agent while it is read "
                  "is not set aside)", sp->marker, strerror(errno));
    if (fd >= 0)
        close(fd);
}

static void s_marker_clear(const glci_agent_spool_t *sp)
{
    if (sp->marker && unlink(sp->marker) != 0 && errno != ENOENT)
        glci_warn("%s: cannot remove: %s", sp->marker, strerror(errno));
}

/* At open: a marker means the agent died while reading its file. */
static void s_marker_recover(glci_agent_spool_t *sp)
{
    s_mark_t m;
    char shown[S_NAME_SHOWN * 4], err[1024];
    struct stat sb;
    if (s_marker_read(sp, &m) != 0) {
        s_marker_clear(sp);
        return;
    }
    int fd = openat(sp->dirfd, m.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int same = fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    if (same) {
        s_ident_t id = s_ident(&sb);
        same = s_same(&id, &m.id);
    }
    if (fd >= 0)
        close(fd);
    if (!same) {                   /* gone or changed since: not this file's doing */
        s_marker_clear(sp);
        return;
    }
    s_shown(m.name, shown, sizeof shown);
    if (m.count < GLCI_AGENT_SPOOL_CRASHES_MAX) {
        glci_warn("%s/%s: the agent stopped while reading it; it is read again (after %d "
                  "such stops it is moved to failed/)", sp->path, shown,
                  GLCI_AGENT_SPOOL_CRASHES_MAX);
        return;
    }
    char why[256], to[GLCI_AGENT_PATH_MAX + 32], shown_to[S_NAME_SHOWN * 4];
    snprintf(why, sizeof why, "file: the agent stopped %u times while reading this file (a "
             "crash, or a kill); it was moved here so that it cannot stop the agent again; "
             "move it back into the spool to try it again", m.count);
    if (s_fail_file(sp, m.name, NULL, why, to, sizeof to, err, sizeof err) != 0) {
        glci_error("%s", err);
        return;
    }
    s_shown(to, shown_to, sizeof shown_to);
    glci_error("ALARM: %s/%s: the agent stopped %u times while reading it; moved to %s with "
               "%s.errors, nothing from it was queued", sp->path, shown, m.count, shown_to,
               shown_to);
    s_marker_clear(sp);
}

/* ---- watching taken files ---------------------------------------------------- */

static void s_watch_end(glci_agent_spool_t *sp, size_t i)
{
    s_watch_t *w = &sp->watch[i];
    close(w->fd);
    free(w->name);
    free(w->where);
    sp->watch[i] = sp->watch[--sp->n_watch];
}

/* Keeps fd (the file just moved to where) to look for growth. */
static void s_watch_add(glci_agent_spool_t *sp, int fd, const char *name, const char *where,
                        int failed, const struct stat *sb, const glci_agent_csv_t *csv)
{
    if (sp->n_watch == GLCI_AGENT_SPOOL_WATCH_MAX) {
        size_t old = 0;
        for (size_t i = 1; i < sp->n_watch; i++)
            if (sp->watch[i].until_ms < sp->watch[old].until_ms)
                old = i;
        s_watch_end(sp, old);
    }
    fcntl(fd, F_SETLEASE, F_UNLCK);    /* a writer must not wait for us now */
    int64_t now = s_mono_ms();
    s_watch_t *w = &sp->watch[sp->n_watch++];
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->name = glci_xstrdup(name);
    w->where = glci_xstrdup(where);
    w->failed = failed;
    w->id = s_ident(sb);
    w->taken = (uint64_t)sb->st_size;
    if (csv)
        glci_agent_csv_layout(csv, &w->layout);
    w->changed_ms = now;
    w->until_ms = now + 1000LL * GLCI_AGENT_SPOOL_WATCH_S;
}

/* Reads bytes [from, to) of fd into a new buffer. NULL on a read error. */
static char *s_pread_range(int fd, uint64_t from, uint64_t to)
{
    size_t len = (size_t)(to - from), got = 0;
    char *buf = glci_xmalloc(len ? len : 1);
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(from + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    return buf;
}

/* A watched file in done/ gained bytes and has been quiet since: its added
 * rows are queued (with their own identity, so never twice), or the ALARM
 * says why not. Returns 1 to keep watching, 0 to end the watch. */
static int s_watch_grown(glci_agent_spool_t *sp, s_watch_t *w, glci_outbox_t *ob,
                         size_t batch_max, glci_agent_spool_stats_t *stats)
{
    char shown[S_NAME_SHOWN * 4];
    uint64_t size = (uint64_t)w->id.size, added = size - w->taken;
    glci_utf8_escape(w->where, S_NAME_SHOWN, shown, sizeof shown);
    if (w->failed) {
        glci_error("ALARM: %s/%s grew by %llu bytes after it was taken (a writer still had "
                   "it open); it may be complete now: move it back into the spool to take it "
                   "again", sp->path, shown, (unsigned long long)added);
        return 0;
    }
    if (size > GLCI_AGENT_SPOOL_FILE_MAX) {
        glci_error("ALARM: %s/%s grew to %llu bytes after it was taken, past the largest "
                   "spool file; what it gained was not queued", sp->path, shown,
                   (unsigned long long)size);
        return 0;
    }
    char *text = s_pread_range(w->fd, w->taken, size);
    if (!text) {
        glci_error("%s/%s: cannot read what it gained: %s", sp->path, shown, strerror(errno));
        return 0;
    }
    glci_agent_csv_t *rest = glci_agent_csv_parse_rest(&w->layout, text, (size_t)added);
    free(text);
    int keep = 1;
    const glci_obs_t *rows;
    size_t n = glci_agent_csv_rows(rest, &rows);
    if (glci_agent_csv_n_errors(rest) > 0) {
        glci_error("ALARM: %s/%s grew by %llu bytes after it was taken (a writer still had "
                   "it open), but what it gained does not read as rows (%zu bad line%s, "
                   "first: %s); nothing of it was queued: check the file", sp->path, shown,
                   (unsigned long long)added, glci_agent_csv_n_errors(rest),
                   glci_agent_csv_n_errors(rest) == 1 ? "" : "s",
                   glci_agent_csv_error(rest, 0));
        w->taken = size;
    } else if (n > 0) {
        char marker[GLCI_AGENT_PATH_MAX + 128];
        uint64_t first = 0, last = 0;
        snprintf(marker, sizeof marker, "spool-rest:%s:%llu:%llu:%llu:%llu", w->name,
                 (unsigned long long)w->id.dev, (unsigned long long)w->id.ino,
                 (unsigned long long)w->taken, (unsigned long long)size);
        int rc = glci_outbox_append(ob, rows, n, batch_max, (int64_t)time(NULL), marker,
                                    &first, &last);
        if (rc == 0 || rc == GLCI_OUTBOX_EEXIST) {
            glci_error("ALARM: %s/%s grew by %llu bytes after it was taken (a writer still "
                       "had it open): its %zu more row%s %s queued too; write files under "
                       "another name and rename them into the spool when complete", sp->path,
                       shown, (unsigned long long)added, n, n == 1 ? "" : "s",
                       n == 1 ? "was" : "were");
            if (rc == 0)
                stats->rows_queued += n;
            w->taken = size;
            glci_agent_csv_layout(rest, &w->layout);
        } else {
            /* full or failing: tried again at the next look */
            glci_warn("%s/%s: %zu rows it gained after it was taken wait: %s", sp->path, shown,
                      n, glci_outbox_strerror(rc));
            stats->files_waiting++;
        }
    } else {
        w->taken = size;          /* blank lines */
    }
    glci_agent_csv_free(&rest);
    return keep;
}

static void s_watch_check(glci_agent_spool_t *sp, glci_outbox_t *ob, size_t batch_max,
                          glci_agent_spool_stats_t *stats)
{
    int64_t now = s_mono_ms();
    char shown[S_NAME_SHOWN * 4];
    for (size_t i = sp->n_watch; i-- > 0;) {
        s_watch_t *w = &sp->watch[i];
        struct stat sb;
        if (fstat(w->fd, &sb) != 0) {
            s_watch_end(sp, i);
            continue;
        }
        s_ident_t id = s_ident(&sb);
        if (!s_same(&id, &w->id)) {
            if ((uint64_t)sb.st_size < w->taken ||
                ((uint64_t)sb.st_size == w->taken && sb.st_size == w->id.size)) {
                glci_utf8_escape(w->where, S_NAME_SHOWN, shown, sizeof shown);
                glci_error("ALARM: %s/%s changed after it was taken (now %lld bytes, %llu "
                           "when read): what was queued is the file as it was read; check "
                           "it", sp->path, shown, (long long)sb.st_size,
                           (unsigned long long)w->taken);
                s_watch_end(sp, i);
                continue;
            }
            w->id = id;              /* growing: wait until it is quiet */
            w->changed_ms = now;
            w->until_ms = now + 1000LL * GLCI_AGENT_SPOOL_WATCH_S;
            continue;
        }
        if ((uint64_t)w->id.size > w->taken && now - w->changed_ms >= sp->settle_ms &&
            !s_fresh(sp, &sb)) {
            if (!s_watch_grown(sp, w, ob, batch_max, stats)) {
                s_watch_end(sp, i);
                continue;
            }
        }
        if (now >= w->until_ms && (uint64_t)w->id.size == w->taken)
            s_watch_end(sp, i);
    }
}

/* ---- taking one file ---------------------------------------------------------- */

void glci_agent_spool_identity(const char *name, const struct stat *sb, char *out, size_t len)
{
    snprintf(out, len, "spool:%s:%llu:%llu:%lld:%lld.%09ld", name,
             (unsigned long long)sb->st_dev, (unsigned long long)sb->st_ino,
             (long long)sb->st_size, (long long)sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec);
}

/* Takes one file; rescan: found by a scan, not named by an event. */
static int s_take(glci_agent_spool_t *sp, glci_outbox_t *ob, const char *name,
                  size_t batch_max, glci_agent_csv_dialect_t dialect, int rescan,
                  glci_agent_spool_stats_t *stats, char *err, size_t errlen)
{
    char given[GLCI_AGENT_PATH_MAX + 16] = "", shown_to[S_NAME_SHOWN * 4];
    char what[S_NAME_SHOWN * 4 + 512] = "was queued by an earlier take (before a restart); moved to done/ "
                     "now\n";
    char shown[S_NAME_SHOWN * 4], to[GLCI_AGENT_PATH_MAX + 32], queued[384] = "";
    struct stat sb, after;
    glci_agent_csv_t *csv = NULL;
    int fd, leased = 0, watched = 0;
    if (!glci_agent_spool_name_ok(name))
        return GLCI_AGENT_OK;
    s_shown(name, shown, sizeof shown);
    fd = openat(sp->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            s_odd(sp, name, "a symbolic link");
        return GLCI_AGENT_OK;     /* vanished (or a link): not ours */
    }
    int known = fstat(fd, &sb) == 0;
    if (!known || !S_ISREG(sb.st_mode)) {
        close(fd);
        if (known) {
            const char *kind = S_ISDIR(sb.st_mode) ? "a folder" : S_ISFIFO(sb.st_mode) ? "a FIFO"
                             : S_ISSOCK(sb.st_mode) ? "a socket" : "a device";
            s_odd(sp, name, kind);
        }
        return GLCI_AGENT_OK;
    }
    /* Still open for writing somewhere: not now. */
    if (fcntl(fd, F_SETSIG, SIGURG) == 0 && fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        leased = 1;
    } else if (errno == EAGAIN || errno == EBUSY) {
        glci_debug("%s/%s: still open for writing; left for its close", sp->path, shown);
        goto busy;
    }
    /* Without a lease, or found by a rescan: only once it stopped changing. */
    if ((rescan || !leased) && s_fresh(sp, &sb)) {
        if (!leased)
            s_quiet(sp, name, fd, &sb);
        glci_debug("%s/%s: modified less than %lld ms ago; left for later", sp->path, shown,
                   (long long)sp->settle_ms);
        goto busy;
    }
    /* Without a lease nothing says whether a writer holds it: it must look
     * the same across a quiet period. */
    if (!leased && !s_quiet(sp, name, fd, &sb)) {
        glci_debug("%s/%s: not yet the same for %lld ms; left for later", sp->path, shown,
                   (long long)sp->settle_ms);
        goto busy;
    }
    s_seen_t *seen = s_seen_find(sp, name);
    if (seen)
        s_seen_drop(sp, seen);

    /* The file's identity: taken once, even if moving it fails after; once
     * it is in done/ the identity is settled, and the same file dropped
     * back is new input (see glci_agent_spool_identity). */
    char marker[GLCI_AGENT_SPOOL_IDENTITY_MAX];
    glci_agent_spool_identity(name, &sb, marker, sizeof marker);
    int rc = glci_outbox_has_marker(ob, marker);
    if (rc == 1) {
        glci_info("%s/%s: was queued before its move to done/ was interrupted (a stop "
                  "between the two); moving it to done/ now, not queued again", sp->path,
                  shown);
        goto done;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s/%s: outbox: %s", sp->path, shown, glci_outbox_strerror(rc));
        rc = GLCI_AGENT_EOUTBOX;
        goto waiting;
    }

    /* A file that can never fit is failed, not retried forever, and is
     * never read into memory. */
    glci_outbox_status_t ost;
    rc = glci_outbox_status(ob, &ost);
    if (rc != 0) {
        snprintf(err, errlen, "%s/%s: outbox: %s", sp->path, shown, glci_outbox_strerror(rc));
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
        rc = s_fail_whole(sp, name, why, stats, err, errlen);
        close(fd);
        return rc;
    }

    /* Reading is where a hostile file could stop the agent: say which file
     * is being read, so that a death here sets it aside (see open). */
    s_mark_t m = {.count = 1, .id = s_ident(&sb)};
    s_mark_t prev;
    snprintf(m.name, sizeof m.name, "%s", name);
    if (s_marker_read(sp, &prev) == 0 && strcmp(prev.name, name) == 0 &&
        s_same(&prev.id, &m.id))
        m.count = prev.count + 1;
    s_marker_write(sp, &m);
    char path[GLCI_AGENT_PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", sp->path, shown);
    uint64_t nread = 0;
    rc = glci_agent_csv_read_fd(fd, path, GLCI_AGENT_SPOOL_FILE_MAX, dialect, &csv, &nread, err,
                                errlen);
    s_marker_clear(sp);
    if (rc != 0)
        goto waiting;
    if (fstat(fd, &after) != 0 || after.st_size != sb.st_size || nread != (uint64_t)sb.st_size ||
        after.st_mtim.tv_sec != sb.st_mtim.tv_sec || after.st_mtim.tv_nsec != sb.st_mtim.tv_nsec) {
        glci_info("%s/%s: changed while it was read; left for its next close or rescan",
                  sp->path, shown);
        glci_agent_csv_free(&csv);
        goto busy;
    }
    /* The descriptor (and the lease, which holds off a writer's open) is
     * kept until the file has been moved. */
    if (glci_agent_csv_n_errors(csv) > 0) {
        size_t n = glci_agent_csv_n_errors(csv);
        rc = s_fail_file(sp, name, csv, NULL, to, sizeof to, err, errlen);
        if (rc != 0)
            goto waiting;
        glci_error("%s/%s: %zu bad line%s, first: %s; moved to %s with %s.errors; "
                   "nothing from it was queued", sp->path, shown, n, n == 1 ? "" : "s",
                   glci_agent_csv_error(csv, 0), s_shown(to, shown_to, sizeof shown_to),
                   shown_to);
        stats->files_failed++;
        s_watch_add(sp, fd, name, to, 1, &sb, NULL);
        glci_agent_csv_free(&csv);
        return GLCI_AGENT_OK;
    }
    const glci_obs_t *rows;
    size_t n = glci_agent_csv_rows(csv, &rows);
    uint64_t first = 0, last = 0;
    const char *chosen;
    glci_agent_csv_dialect_t d = glci_agent_csv_dialect(csv, &chosen);
    size_t unfilled = glci_agent_csv_n_unfilled(csv);
    char skipped[96] = "";
    if (unfilled)
        snprintf(skipped, sizeof skipped, "; %zu row%s left without a value, skipped",
                 unfilled, unfilled == 1 ? "" : "s");
    if (n == 0) {
        /* a header and no rows, or only rows left unfilled: nothing to
         * queue, nothing malformed */
        snprintf(queued, sizeof queued, "%s: it held no values, nothing queued%s",
                 unfilled ? "no row filled in" : "a header and no rows", skipped);
        snprintf(what, sizeof what, "read as %s, chosen by %s\n%s: no values, nothing "
                 "queued%s\n", glci_agent_csv_dialect_str(d), chosen,
                 unfilled ? "no row filled in" : "a header and no rows", skipped);
        goto done;
    }
    /* rows that can never fit fail now, however much the outbox holds */
    uint64_t need = glci_outbox_append_bytes(rows, n, batch_max);
    if (need > ost.limit) {
        char whole[256];
        snprintf(whole, sizeof whole, "file: its %zu rows take %llu bytes in the outbox, more "
                 "than its size limit (%llu bytes) even when it is empty; split it into "
                 "smaller files", n, (unsigned long long)need, (unsigned long long)ost.limit);
        glci_agent_csv_free(&csv);
        rc = s_fail_whole(sp, name, whole, stats, err, errlen);
        close(fd);
        return rc;
    }
    /* where the file will be, so its rows' rejects can be listed beside it */
    char origin[GLCI_AGENT_PATH_MAX * 2 + 32];
    s_done_name(sp, name, given, sizeof given);
    snprintf(origin, sizeof origin, "%s/done/%s", sp->path, given);
    rc = glci_outbox_append_from(ob, rows, n, batch_max, (int64_t)time(NULL), marker,
                                 given[0] && strlen(origin) <= GLCI_OUTBOX_ORIGIN_MAX ? origin
                                                                                      : NULL,
                                 &first, &last);
    if (rc == GLCI_OUTBOX_EFULL) {
        snprintf(err, errlen, "%s/%s: not queued: the outbox size limit is reached "
                 "(%zu rows wait in the spool until deliveries make room)", sp->path, shown, n);
        rc = GLCI_AGENT_EFULL;
        goto waiting;
    }
    if (rc != 0 && rc != GLCI_OUTBOX_EEXIST) {
        snprintf(err, errlen, "%s/%s: not queued: %s", sp->path, shown,
                 glci_outbox_strerror(rc));
        rc = GLCI_AGENT_EOUTBOX;
        goto waiting;
    }
    if (rc == 0) {
        char batches[64];
        if (first == last)
            snprintf(batches, sizeof batches, "batch %llu", (unsigned long long)first);
        else
            snprintf(batches, sizeof batches, "batches %llu..%llu",
                     (unsigned long long)first, (unsigned long long)last);
        snprintf(queued, sizeof queued, "queued %zu row%s as %s (read as %s by %s)%s", n,
                 n == 1 ? "" : "s", batches, d == GLCI_AGENT_CSV_EXCEL ? "excel" : "comma",
                 chosen, skipped);
        snprintf(what, sizeof what, "read as %s, chosen by %s\n%zu row%s queued as %s%s\n"
                 "rows the collector rejects are listed in %s.rejects beside this file and "
                 "in rejected.csv\n", glci_agent_csv_dialect_str(d), chosen, n,
                 n == 1 ? "" : "s", batches, skipped,
                 given[0] ? s_shown(given, shown_to, sizeof shown_to) : shown);
        stats->rows_queued += n;
    } else {
        snprintf(what, sizeof what, "read as %s, chosen by %s\nits rows were queued by an "
                 "earlier take (before a restart)\n", glci_agent_csv_dialect_str(d), chosen);
    }
    watched = 1;
done:
    rc = s_done_file(sp, name, given, what, to, sizeof to, err, errlen);
    if (rc != 0) {
        close(fd);
        glci_agent_csv_free(&csv);
        stats->files_waiting++;
        return rc;
    }
    /* in done/: a later drop of this very file is a new delivery. A stop
     * before this leaves the identity unsettled: the file in done/ then
     * counts as taken if it is dropped back (logged as above). */
    rc = glci_outbox_marker_settle(ob, marker);
    if (rc != 0)
        glci_warn("%s/%s: cannot record that it reached done/: %s; dropped back as it is, "
                  "it would not be queued again (copy it in instead)", sp->path, shown,
                  glci_outbox_strerror(rc));
    if (queued[0])      /* where it went: done/NAME.1 when done/ held NAME */
        glci_info("%s/%s: %s; moved to %s", sp->path, shown, queued,
                  s_shown(to, shown_to, sizeof shown_to));
    if (watched)
        s_watch_add(sp, fd, name, to, 0, &sb, csv);
    else
        close(fd);
    glci_agent_csv_free(&csv);
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

int glci_agent_spool_take(glci_agent_spool_t *sp, glci_outbox_t *ob, const char *name,
                          size_t batch_max, glci_agent_csv_dialect_t dialect,
                          glci_agent_spool_stats_t *stats, char *err, size_t errlen)
{
    return s_take(sp, ob, name, batch_max, dialect, 0, stats, err, errlen);
}

static int s_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int glci_agent_spool_scan(glci_agent_spool_t *sp, glci_outbox_t *ob, size_t batch_max,
                          glci_agent_csv_dialect_t dialect, glci_agent_spool_stats_t *stats)
{
    s_watch_check(sp, ob, batch_max, stats);
    int dfd = dup(sp->dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        glci_error("%s: cannot read the spool folder: %s", sp->path, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return GLCI_AGENT_EIO;
    }
    rewinddir(d);
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
    for (size_t i = 0; i < sp->n_seen; i++)
        sp->seen[i].touched = 0;
    for (size_t i = 0; i < sp->n_odd; i++)
        sp->odd[i].touched = 0;
    int first_rc = 0;
    for (size_t i = 0; i < n; i++) {
        char err[1024];
        int rc = s_take(sp, ob, names[i], batch_max, dialect, 1, stats, err, sizeof err);
        if (rc != 0) {
            glci_error("%s", err);
            if (!first_rc)
                first_rc = rc;
        }
        free(names[i]);
    }
    free(names);
    /* what this scan did not see is gone: forget it */
    for (size_t i = sp->n_seen; i-- > 0;)
        if (!sp->seen[i].touched)
            s_seen_drop(sp, &sp->seen[i]);
    for (size_t i = sp->n_odd; i-- > 0;)
        if (!sp->odd[i].touched) {
            free(sp->odd[i].name);
            sp->odd[i] = sp->odd[--sp->n_odd];
        }
    if (sp->n_odd < S_ODD_MAX)
        sp->odd_full_logged = 0;
    return first_rc;
}

int glci_agent_spool_wants_look(const glci_agent_spool_t *sp)
{
    return sp->n_seen > 0 || sp->n_watch > 0;
}

/* ---- open and close ------------------------------------------------------------ */

/* done/ and failed/ of the open folder, made or checked (s_subdir). */
static int s_subdirs(glci_agent_spool_t *sp, char *err, size_t errlen)
{
    static const char *const subs[] = {"done", "failed"};
    for (size_t i = 0; i < 2; i++) {
        int fd = s_subdir(sp, subs[i], err, errlen);
        if (fd < 0)
            return -1;
        close(fd);
    }
    return 0;
}

int glci_agent_spool_refresh(glci_agent_spool_t *sp, char *err, size_t errlen)
{
    struct stat now, held;
    int found = stat(sp->path, &now) == 0;
    if (!found || !S_ISDIR(now.st_mode)) {
        snprintf(err, errlen, "%s: the spool folder is %s (moved or removed while the agent "
                 "runs); files are taken again once a folder is there", sp->path,
                 found ? "no longer a folder" : errno == ENOENT ? "gone" : strerror(errno));
        return GLCI_AGENT_EIO;
    }
    if (fstat(sp->dirfd, &held) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino)
        return 0;
    int fd = open(sp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open the new spool folder: %s", sp->path,
                 strerror(errno));
        return GLCI_AGENT_EIO;
    }
    close(sp->dirfd);
    sp->dirfd = fd;
    /* what was seen in the old folder says nothing of the new one; files
     * taken from it stay watched through their own descriptors */
    for (size_t i = 0; i < sp->n_seen; i++)
        free(sp->seen[i].name);
    sp->n_seen = 0;
    for (size_t i = 0; i < sp->n_odd; i++)
        free(sp->odd[i].name);
    sp->n_odd = 0;
    sp->odd_full_logged = 0;
    return s_subdirs(sp, err, errlen) != 0 ? GLCI_AGENT_EIO : 1;
}

int glci_agent_spool_open(const char *spool, const glci_agent_spool_opts_t *opts,
                          glci_agent_spool_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(spool, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create folder: %s", spool, strerror(errno));
        return GLCI_AGENT_EIO;
    }
    /* The configured path is the operator's: it may be a link. What is
     * inside it is not trusted. */
    int dirfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(err, errlen, "%s: %s", spool, errno == ENOTDIR ? "not a folder"
                                                               : strerror(errno));
        return GLCI_AGENT_EIO;
    }
    glci_agent_spool_t *sp = glci_xcalloc(1, sizeof *sp);
    sp->path = glci_xstrdup(spool);
    sp->dirfd = dirfd;
    sp->uid = geteuid();
    sp->settle_ms = opts && opts->settle_ms > 0 ? opts->settle_ms
                                                : 1000LL * GLCI_AGENT_SPOOL_SETTLE_S;
    if (opts && opts->state_dir) {
        size_t len = strlen(opts->state_dir) + sizeof GLCI_AGENT_SPOOL_MARKER + 2;
        sp->marker = glci_xmalloc(len);
        snprintf(sp->marker, len, "%s/%s", opts->state_dir, GLCI_AGENT_SPOOL_MARKER);
    }
    if (s_subdirs(sp, err, errlen) != 0) {
        glci_agent_spool_close(&sp);
        return GLCI_AGENT_EIO;
    }
    s_marker_recover(sp);
    *out = sp;
    return GLCI_AGENT_OK;
}

void glci_agent_spool_close(glci_agent_spool_t **self)
{
    if (!self || !*self)
        return;
    glci_agent_spool_t *sp = *self;
    while (sp->n_watch)
        s_watch_end(sp, sp->n_watch - 1);
    for (size_t i = 0; i < sp->n_seen; i++)
        free(sp->seen[i].name);
    for (size_t i = 0; i < sp->n_odd; i++)
        free(sp->odd[i].name);
    free(sp->seen);
    free(sp->odd);
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    free(sp->marker);
    free(sp->path);
    free(sp);
    *self = NULL;
}
