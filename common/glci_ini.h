/* Feeding inih from text in memory so that an INI file means what it shows.
 *
 * Debian's libinih is built with INI_MAX_LINE 200, multi-line values on and
 * no line numbers for the handler. Reading a file itself it splits a longer
 * line in two (the tail parsed as a line of its own), takes an indented
 * line as the continuation of the key before it, and cuts a line at a NUL
 * byte. glci_ini_reader, handed to ini_parse_stream, gives inih one line of
 * the text per call instead: it counts lines, refuses a line with a NUL
 * byte or one too long for inih's buffer, and strips leading blanks (and
 * UTF-8 byte-order marks among them on the first line), so no line is ever
 * a continuation and the line inih parses is the line its caller sees. Since inih reads one line per call, while a handler runs
 * the reader's line counter is the handler's line. The framework loader and
 * the daemons' config files read INI through it. */
#ifndef GLCI_INI_H
#define GLCI_INI_H

#include <stddef.h>

/* The text being read: set text, len and (optionally) header and ctx;
 * zero the rest. */
typedef struct {
    const char *text;
    size_t len, pos;
    /* Called with each [section] line (its leading blanks gone, without
     * its newline, n bytes) before inih parses it; nonzero stops the
     * reading (the callback has recorded why). NULL: none. */
    int (*header)(void *ctx, const char *line, size_t n);
    void *ctx;
    int stop;                 /* set by the owner (a handler's error): read no more */
    int line;                 /* the line last read (1 for the first) */
    int bad_line;             /* the line this reader refused, 0 while none is */
    char why[64];             /* why ("NUL byte in line", "line too long (...)") */
} glci_ini_text_t;

/* An ini_reader for ini_parse_stream, stream a glci_ini_text_t: copies the
 * next line, without its leading blanks, into buf (num bytes) ending in
 * "\n". Returns buf, or NULL at the end of the text, when the owner set
 * stop, the header callback said to stop, or a line is refused (bad_line
 * and why set), and ever after. */
char *glci_ini_reader(char *buf, int num, void *stream);

#endif
