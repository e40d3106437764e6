/* The dead-letter file: see glci_agent_deadletter.h. */
#include "glci_agent_deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_log.h"
#include "glci_output.h"
#include "glci_spool_csv.h"
#include "glci_text.h"

/* Dead letters written per append (the rest follow at once). */
#define S_CHUNK 512

void glci_agent_deadletter_path(const char *spool, char *out, size_t outlen)
{
    char dir[GLCI_AGENT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", spool);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(out, outlen, "rejected.csv");
    else if (slash == dir)
        snprintf(out, outlen, "/rejected.csv");
    else {
        *slash = '\0';
        snprintf(out, outlen, "%s/rejected.csv", dir);
    }
}

/* Appends rows to the dead-letter file; row i is obs(i), reason(i), at(i). */
static int s_deadletter_write(const char *path, size_t n,
                              const glci_obs_t *(*row)(const void *, size_t,
                                                              const char **, int64_t *),
                              const void *arg, char *err, size_t errlen)
{
    /* Never through a link, and only into a regular file: whoever can
     * write beside it must not make the agent append to another file. */
    struct stat sb;
    FILE *f = NULL;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                  0644);
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) {
        close(fd);
        snprintf(err, errlen, "%s: cannot append: not a regular file", path);
        return GLCI_AGENT_EIO;
    }
    if (fd >= 0 && !(f = fdopen(fd, "a")))
        close(fd);
    if (!f) {
        snprintf(err, errlen, "%s: cannot append: %s", path,
                 errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        return GLCI_AGENT_EIO;
    }
    if (sb.st_size == 0)
        fputs(GLCI_SPOOL_DEADLETTER_HEADER, f);
    char at[32], obs_at[32], num[40];
    for (size_t i = 0; i < n; i++) {
        const char *reason = "";
        int64_t when = 0;
        const glci_obs_t *o = row(arg, i, &reason, &when);
        const char *src = o->source ? o->source : "";
        glci_format_iso_time(when, at, sizeof at);
        obs_at[0] = '\0';
        if (o->observed_at)
            glci_format_iso_time(o->observed_at, obs_at, sizeof obs_at);
        /* A retraction has no value: its row says so where the value
         * goes, which the spool refuses, so it is never taken back as a
         * value if the file is dropped into the spool again. */
        if (o->retract)
            snprintf(num, sizeof num, "retract");
        else
            glci_format_double(o->value, num, sizeof num);
        glci_csv_field_quoted(f, o->indicator);
        fprintf(f, ",%d,%s,%s,", (int)o->period, num, obs_at);
        glci_csv_field_quoted(f, src);
        fputc(',', f);
        glci_csv_field_quoted(f, reason);
        fprintf(f, ",%s\r\n", at);
    }
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    int saved = errno;
    bad |= fclose(f) != 0;
    if (bad) {
        snprintf(err, errlen, "%s: cannot append: %s", path, strerror(saved));
        return GLCI_AGENT_EIO;
    }
    return GLCI_AGENT_OK;
}

typedef struct {
    const glci_obs_t *obs;
    const char *const *reasons;
    int64_t when;
} s_append_rows_t;

static const glci_obs_t *s_append_row(const void *arg, size_t i, const char **reason,
                                             int64_t *when)
{
    const s_append_rows_t *a = arg;
    *reason = a->reasons[i];
    *when = a->when;
    return &a->obs[i];
}

int glci_agent_deadletter_append(const char *path, const glci_obs_t *obs,
                                 const char *const *reasons, size_t n, int64_t when,
                                 char *err, size_t errlen)
{
    s_append_rows_t a = {obs, reasons, when};
    return s_deadletter_write(path, n, s_append_row, &a, err, errlen);
}

static const glci_obs_t *s_dead_row(const void *arg, size_t i, const char **reason,
                                           int64_t *when)
{
    const glci_outbox_dead_t *d = (const glci_outbox_dead_t *)arg + i;
    *reason = d->reason;
    *when = d->at;
    return &d->obs;
}

int glci_agent_deadletter_write(const char *path, const glci_outbox_dead_t *rows, size_t n,
                                char *err, size_t errlen)
{
    return s_deadletter_write(path, n, s_dead_row, rows, err, errlen);
}

/* Also lists each run of rows with an origin (a spool file, now in done/)
 * in ORIGIN.rejects beside that file, in the dead-letter file's format.
 * Best effort: the rows are in the dead-letter file already, so a .rejects
 * that cannot be written is warned about and not retried. */
static void s_beside_origins(const glci_outbox_dead_t *rows, size_t n)
{
    for (size_t at = 0; at < n;) {
        const char *origin = rows[at].origin;
        size_t k = 1;
        while (at + k < n && strcmp(rows[at + k].origin, origin) == 0)
            k++;
        if (origin[0]) {
            char path[GLCI_OUTBOX_ORIGIN_MAX + 16], err[GLCI_OUTBOX_ORIGIN_MAX + 128];
            snprintf(path, sizeof path, "%s.rejects", origin);
            if (glci_agent_deadletter_write(path, rows + at, k, err, sizeof err) != 0)
                glci_warn("%s (the rows are in the dead-letter file)", err);
        }
        at += k;
    }
}

/* Copies the dead letters stored in the outbox to the dead-letter file
 * (append, fsync), then deletes them from the outbox in a following
 * transaction. If the agent dies between the two, the rows are written
 * again at the next flush: the file is at-least-once, and a repeated row
 * is identical to the first (its time is the one stored). When the file
 * cannot be written the rows stay in the outbox; a warning is logged once
 * per streak of failures and the flush is tried again GLCI_AGENT_DEADLETTER_RETRY_MS
 * later. */
void glci_agent_deadletter_stored(glci_agent_deadletter_t *dl)
{
    dl->pending = 1;
    if (!dl->failing)
        dl->next_ms = 0;
}

void glci_agent_deadletter_flush(glci_agent_deadletter_t *dl, glci_outbox_t *ob,
                                 const char *path, int64_t now)
{
    size_t written = 0;
    if (!dl->pending || now < dl->next_ms)
        return;
    for (;;) {
        glci_outbox_dead_list_t *l = NULL;
        int rc = glci_outbox_dead_list(ob, S_CHUNK, &l);
        if (rc != 0) {
            glci_error("cannot read the dead letters from the outbox: %s; will retry",
                       glci_outbox_strerror(rc));
            dl->next_ms = now + GLCI_AGENT_DEADLETTER_RETRY_MS;
            return;
        }
        if (l->n == 0) {
            glci_outbox_dead_list_free(&l);
            break;
        }
        char err[512];
        if (glci_agent_deadletter_write(path, l->rows, l->n, err, sizeof err) != 0) {
            if (!dl->failing) {
                glci_outbox_status_t st;
                uint64_t pending = glci_outbox_status(ob, &st) == 0 ? st.dead_pending : l->n;
                glci_warn("%s; %llu rejected observation%s kept in the outbox, retrying",
                          err, (unsigned long long)pending, pending == 1 ? "" : "s");
            }
            dl->failing = 1;
            dl->next_ms = now + GLCI_AGENT_DEADLETTER_RETRY_MS;
            glci_outbox_dead_list_free(&l);
            return;
        }
        s_beside_origins(l->rows, l->n);
        uint64_t upto = l->rows[l->n - 1].id;
        size_t n = l->n;
        glci_outbox_dead_list_free(&l);
        rc = glci_outbox_dead_delete(ob, upto, NULL);
        if (rc != 0) {
            glci_error("cannot delete dead letters written to %s from the outbox: %s; they "
                       "will be written again", path, glci_outbox_strerror(rc));
            dl->next_ms = now + GLCI_AGENT_DEADLETTER_RETRY_MS;
            return;
        }
        written += n;
        if (n < S_CHUNK)
            break;
    }
    if (written)
        glci_warn("%zu observation%s rejected by the collector written to %s", written,
                  written == 1 ? "" : "s", path);
    if (dl->failing)
        glci_info("the dead-letter file %s can be written again", path);
    dl->failing = 0;
    dl->pending = 0;
}
