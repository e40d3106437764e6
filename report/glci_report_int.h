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

/* "61.3" (one decimal), or "–" when absent. */
void glci_report_fmt_score(glci_report_score_t s, char *buf, size_t len);

/* A file being written: FILE on "PATH.tmp", renamed to PATH on commit. */
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4110];
} glci_report_file_t;

/* Opens PATH.tmp for writing (binary), once PATH and PATH.tmp are each
 * missing or a regular file (glci_file_check_replace: a device, FIFO,
 * socket, folder or symbolic link is refused, nothing written). Returns 0
 * or EIO with err naming it. */
int glci_report_file_open(glci_report_file_t *out, const char *path, char *err, size_t errlen);

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
