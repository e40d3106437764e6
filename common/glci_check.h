/* What the daemons' configuration checks print (glci-collector
 * --check-config, glci-agent check): one line per problem on one stream,
 * "PROGRAM: problem", counted; notes, "PROGRAM: note: ...", on another and
 * not counted. The check's exit status is 1 when it found a problem.
 *
 * A daemon runs some of the same checks at start (the modes, which it
 * does not refuse to start on): with to_log set, each problem is a warning
 * in the daemon's log (glci_warn) and notes are dropped; out, err and
 * program are then unused. */
#ifndef GLCI_CHECK_H
#define GLCI_CHECK_H

#include <stdio.h>

typedef struct {
    const char *program;      /* the lines' prefix, "glci-agent check" */
    FILE *out;                /* notes and the last line */
    FILE *err;                /* problems */
    int problems;
    int to_log;               /* problems to the log as warnings, notes dropped */
} glci_check_t;

void glci_check_problem(glci_check_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void glci_check_note(glci_check_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The mode of path judged (SPEC section 9: "file permissions"): a problem
 * when it has any of the bits in bad (S_IWGRP, S_IWOTH, S_IROTH), one line
 * naming what and path, its mode, what those bits let others do and the
 * mode it should have ("store folder /var/lib/glci is mode 0777: writable
 * by group and others; make it 0700 (chmod 700 /var/lib/glci)"). A path
 * that cannot be looked at is not judged here (the check that reads it
 * names that). Returns 1 when it was a problem, else 0. */
int glci_check_mode(glci_check_t *c, const char *what, const char *path, unsigned bad,
                    unsigned want);

/* 0 without problems, else 1. */
int glci_check_status(const glci_check_t *c);

#endif
