/* What the report's renderers share inside report/: escaping for HTML and
 * XML, number texts for people, and writing a file under a temporary name
 * that is renamed into place only when it is complete. */
#ifndef GLCI_REPORT_INT_H
#define GLCI_REPORT_INT_H

#include <stddef.h>
#include <stdio.h>

#include "glci_report.h"

/* Writes s with & < > " ' as character references: safe as HTML or XML
 * text and inside a quoted attribute. NULL writes nothing. */
void glci_report_esc(FILE *f, const char *s);

/* Text from outside written as page text (a city's name, the framework's
 * names and units: an operator's words, in any script): escaped as
 * glci_report_esc, inside <bdi>, so a right-to-left name (Arabic,
 * Hebrew) is laid out on its own and never reorders the text around it.
 * Only where an element may stand: never in an attribute, <title> or
 * <option>. NULL writes an empty isolate. */
void glci_report_text(FILE *f, const char *s);

/* "61.3" (one decimal), or "–" when absent. */
void glci_report_fmt_score(glci_report_score_t s, char *buf, size_t len);

/* A file being written: FILE on a temporary ".NAME.XXXXXX" beside PATH,
 * renamed to PATH on commit. */
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4110];
} glci_report_file_t;

/* Opens a new temporary beside PATH for writing (binary), once PATH is
 * missing or a regular file (glci_file_check_replace: a device, FIFO,
 * socket, folder or symbolic link is refused, nothing written). The
 * temporary is glci_file_tmp_make's (O_CREAT|O_EXCL|O_NOFOLLOW under a
 * fresh random name, checked to be a regular file of this user), so
 * nothing planted beside PATH (a file of another user, a link, a FIFO) is
 * ever opened, written or renamed into place; glci_file_tmp_of tells one. Returns 0 or EIO with err naming PATH. */
int glci_report_file_open(glci_report_file_t *out, const char *path, char *err, size_t errlen);

/* A file a library writes by name (libxlsxwriter reopens its file at
 * close): tmp is PATH's base name inside dir, a new folder ".NAME.XXXXXX"
 * of mode 0700 beside PATH that no other user can put anything in. */
typedef struct {
    char path[4096];
    char dir[4110];
    char tmp[4200];
} glci_report_tmpdir_t;

/* Makes the folder once PATH is missing or a regular file (as
 * glci_report_file_open). Returns 0 or EIO with err naming PATH. */
int glci_report_tmpdir_open(glci_report_tmpdir_t *out, const char *path, char *err,
                            size_t errlen);

/* Renames tmp into place (glci_report_file_place) and removes the folder,
 * on success and on failure. 0, or EIO with err naming PATH. */
int glci_report_tmpdir_place(glci_report_tmpdir_t *t, char *err, size_t errlen);

/* Removes tmp and the folder (after a failure); accepts one already placed
 * or removed. */
void glci_report_tmpdir_abort(glci_report_tmpdir_t *t);

/* Renames tmp (a complete file) to path, checking path again first as
 * glci_report_file_open did; tmp is removed on any failure. 0, or EIO
 * with err naming path. The one rename of every report writer. */
int glci_report_file_place(const char *tmp, const char *path, char *err, size_t errlen);

/* Flushes, closes and renames into place. On a write error the temporary
 * is removed and EIO returned with err naming the path. Always closes. */
int glci_report_file_commit(glci_report_file_t *file, char *err, size_t errlen);

/* Closes and removes the temporary (after a failure); accepts a file that
 * is not open. */
void glci_report_file_abort(glci_report_file_t *file);

/* "2026-11-25 14:02 UTC" for the pages' footers. */
void glci_report_fmt_time(int64_t unix_seconds, char *buf, size_t len);

#endif
