/* What the daemons' configuration checks print (glci-collector
 * --check-config, glci-agent check): one line per problem on one stream,
 * "PROGRAM: problem", counted; notes, "PROGRAM: note: ...", on another and
 * not counted. The check's exit status is 1 when it found a problem. */
#ifndef GLCI_CHECK_H
#define GLCI_CHECK_H

#include <stdio.h>

typedef struct {
    const char *program;      /* the lines' prefix, "glci-agent check" */
    FILE *out;                /* notes and the last line */
    FILE *err;                /* problems */
    int problems;
} glci_check_t;

void glci_check_problem(glci_check_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void glci_check_note(glci_check_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 0 without problems, else 1. */
int glci_check_status(const glci_check_t *c);

#endif
