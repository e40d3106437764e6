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

void glci_report_text(FILE *f, const char *s)
{
    fputs("<bdi>", f);
    glci_report_esc(f, s);
    fputs("</bdi>", f);
}

void glci_report_fmt_score(glci_report_score_t s, char *buf, size_t len)
{
    if (!s.present || !isfinite(s.score))
        snprintf(buf, len, "%s", "\xe2\x80\x93");
    else
        snprintf(buf, len, "%.1f", s.score);
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
    int fd = glci_file_tmp_make(out->tmp, sizeof out->tmp, path, 0, 0666);
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
    if (glci_file_tmp_make(out->dir, sizeof out->dir, path, 1, 0700) != 0) {
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
    return glci_file_place(tmp, path, err, errlen) == 0 ? 0 : GLCI_REPORT_EIO;
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
