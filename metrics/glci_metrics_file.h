/* The agent's metrics file (`metrics_file`): the registry's exposition
 * written for node_exporter's textfile collector, which reads every
 * "*.prom" file in its folder (--collector.textfile.directory) at each of
 * its own scrapes.
 *
 * node_exporter may read the file at any moment, so it is never written
 * in place: the text goes to a temporary file in the same folder (named
 * ".NAME.XXXXXX", which node_exporter ignores), is fsynced, made 0644 (the
 * exporter runs as another user; metrics are not secret) and renamed over
 * the file, then the folder is fsynced. A reader sees the old file or the
 * new one, whole. */
#ifndef GLCI_METRICS_FILE_H
#define GLCI_METRICS_FILE_H

#include <stddef.h>

#include "glci_metrics.h"

/* Whether path can be the metrics file: it ends in ".prom" with a name in
 * front (else node_exporter never reads it), names no folder, and its
 * folder exists and lets this process create files. Returns 0, or -1 with
 * a one-line message naming the path (for the config checks; bytes of the
 * path that are not printable UTF-8 are shown as \xNN). */
int glci_metrics_file_check(const char *path, char *err, size_t errlen);

/* Renders reg and replaces path with it as above. Returns 0, or -1 with a
 * one-line message naming the path and the failing step (the temporary
 * file is removed then; the previous file stays as it was). When a
 * collect callback failed the file is written all the same, without that
 * family's samples, and -1 is returned with render's message. */
int glci_metrics_file_write(glci_metrics_t *reg, const char *path, char *err, size_t errlen);

#endif
