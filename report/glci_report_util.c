/* Escaping, number texts and complete-or-nothing files for the report's
 * renderers (glci_report_int.h). */
#include "glci_report_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_file.h"

void glci_report_esc(FILE *f, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (; *s; s++) {
        const char *ref;
        switch (*s) {
        case '&':  ref = "&amp;"; break;
        case '<':  ref = "&lt;"; break;
        case '>':  ref = "&gt;"; break;
        case '"':  ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default:   continue;
        }
        fwrite(run, 1, (size_t)(s - run), f);
        fputs(ref, f);
        run = s + 1;
    }
    fwrite(run, 1, (size_t)(s - run), f);
}

void glci_report_fmt_score(glci_report_score_t s, char *buf, size_t len)
{
    if (!s.present || !isfinite(s.score))
        snprintf(buf, len, "%s", "\xe2\x80\x93");
    else
        snprintf(buf, len, "%.1f", s.score);
}

/* The temporary's name: ".NAME.XXXXXX" beside path (XXXXXX random). */
static int s_tmp_name(char *buf, size_t len, const char *path)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[6];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    int n = snprintf(buf, len, "%.*s.%s.%c%c%c%c%c%c", dirlen, path, path + dirlen,
                     alpha[r[0] % 36], alpha[r[1] % 36], alpha[r[2] % 36], alpha[r[3] % 36],
                     alpha[r[4] % 36], alpha[r[5] % 36]);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int glci_report_tmp_of(const char *entry, const char *base)
{
    size_t bl = strlen(base);
    if (entry[0] != '.' || strncmp(entry + 1, base, bl) != 0 || entry[1 + bl] != '.')
        return 0;
    const char *x = entry + bl + 2;
    return strlen(x) == 6 && strspn(x, "abcdefghijklmnopqrstuvwxyz0123456789") == 6;
}

/* Makes something new of ours at a fresh temporary name beside path: a
 * file (fd returned) or, with dir, a folder of mode 0700 (0 returned). The
 * exclusive create never opens what stands at a name (a planted file,
 * link or FIFO is EEXIST and another name is drawn), and the fstat checks
 * that what was made is a regular file (or folder) of this user. -1 with
 * errno on failure, nothing left behind. */
static int s_make_tmp(char *tmp, size_t len, const char *path, int dir)
{
    for (int tries = 0; tries < 64; tries++) {
        if (s_tmp_name(tmp, len, path) != 0) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd;
        if (dir) {
            if (mkdir(tmp, 0700) != 0) {
                if (errno == EEXIST)
                    continue;
                return -1;
            }
            fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        } else {
            /* 0666: the umask decides the mode, as for any file a user writes */
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
            if (fd < 0 && errno == EEXIST)
                continue;
            if (fd < 0)
                return -1;
        }
        struct stat sb;
        int ok = fd >= 0 && fstat(fd, &sb) == 0 && sb.st_uid == geteuid() &&
                 (dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
        if (!ok) {
            int e = fd < 0 ? errno : EPERM;
            if (fd >= 0)
                close(fd);
            if (dir)
                rmdir(tmp);
            else
                unlink(tmp);
            errno = e;
            return -1;
        }
        if (dir) {
            close(fd);
            return 0;
        }
        return fd;
    }
    errno = EEXIST;
    return -1;
}

/* path into dst (len bytes) once it fits and is missing or a regular
 * file (glci_file_check_replace). 0 or EIO with err. */
static int s_target(char *dst, size_t len, const char *path, char *err, size_t errlen)
{
    if (strlen(path) >= len) {
        snprintf(err, errlen, "%.200s...: path too long", path);
        return GLCI_REPORT_EIO;
    }
    snprintf(dst, len, "%s", path);
    return glci_file_check_replace(path, err, errlen) != 0 ? GLCI_REPORT_EIO : 0;
}

int glci_report_file_open(glci_report_file_t *out, const char *path, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (s_target(out->path, sizeof out->path, path, err, errlen) != 0)
        return GLCI_REPORT_EIO;
    int fd = s_make_tmp(out->tmp, sizeof out->tmp, path, 0);
    if (fd >= 0 && (out->f = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        close(fd);
        unlink(out->tmp);
        errno = e;
    }
    if (!out->f) {
        /* the user named the path, not its temporary: say what they gave */
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        out->tmp[0] = '\0';
        return GLCI_REPORT_EIO;
    }
    return 0;
}

int glci_report_tmpdir_open(glci_report_tmpdir_t *out, const char *path, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (s_target(out->path, sizeof out->path, path, err, errlen) != 0)
        return GLCI_REPORT_EIO;
    if (s_make_tmp(out->dir, sizeof out->dir, path, 1) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        out->dir[0] = '\0';
        return GLCI_REPORT_EIO;
    }
    const char *slash = strrchr(path, '/');
    snprintf(out->tmp, sizeof out->tmp, "%s/%s", out->dir, slash ? slash + 1 : path);
    return 0;
}

int glci_report_tmpdir_place(glci_report_tmpdir_t *t, char *err, size_t errlen)
{
    int rc = glci_report_file_place(t->tmp, t->path, err, errlen);
    rmdir(t->dir);
    t->dir[0] = '\0';
    return rc;
}

void glci_report_tmpdir_abort(glci_report_tmpdir_t *t)
{
    if (!t->dir[0])
        return;
    unlink(t->tmp);
    rmdir(t->dir);
    t->dir[0] = '\0';
}

int glci_report_file_place(const char *tmp, const char *path, char *err, size_t errlen)
{
    if (glci_file_check_replace(path, err, errlen) != 0) {
        unlink(tmp);
        return GLCI_REPORT_EIO;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return GLCI_REPORT_EIO;
    }
    return 0;
}

/* No fsync: a report is derived from the store and can be written again;
 * the rename only keeps readers from ever seeing half a file. */
int glci_report_file_commit(glci_report_file_t *file, char *err, size_t errlen)
{
    int failed = ferror(file->f) != 0;
    int saved = errno;
    if (fflush(file->f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (fclose(file->f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    file->f = NULL;
    if (!failed)
        return glci_report_file_place(file->tmp, file->path, err, errlen);
    unlink(file->tmp);
    snprintf(err, errlen, "cannot write %s: %s", file->path,
             saved ? strerror(saved) : "write error");
    return GLCI_REPORT_EIO;
}

void glci_report_file_abort(glci_report_file_t *file)
{
    if (file->f) {
        fclose(file->f);
        file->f = NULL;
        unlink(file->tmp);
    }
}

void glci_report_fmt_time(int64_t unix_seconds, char *buf, size_t len)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, len, "%s", "?");
}
