/* Output formatting for every program that prints a result (glci's
 * commands, glci-agent status): aligned text tables for people, RFC 4180
 * CSV with a header for programs, and JSON through jansson with numbers
 * that read back as exactly the same doubles.
 *
 * A glci_table_t collects rows of text cells; it prints either as aligned
 * columns or as CSV, so a command builds its rows once for both. */
#ifndef GLCI_OUTPUT_H
#define GLCI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

typedef enum {
    GLCI_FMT_TABLE = 0,
    GLCI_FMT_JSON  = 1,
    GLCI_FMT_CSV   = 2,
    GLCI_FMT_XLSX  = 3          /* a workbook file: only commands with xlsx set */
} glci_format_t;

/* Parses "table", "json", "csv", "xlsx". Returns 0, or -1 for anything else. */
int glci_format_parse(const char *text, glci_format_t *out);

typedef struct glci_table glci_table_t;

/* A table with n_cols columns named by headers (copied). align has one
 * character per column: 'l' left, 'r' right (NULL: all left). */
glci_table_t *glci_table_new(size_t n_cols, const char *const *headers, const char *align);

/* Frees and sets *self to NULL; accepts NULL. */
void glci_table_free(glci_table_t **self);

/* Appends the next cell, filling rows left to right (text copied; NULL is
 * an empty cell). */
void glci_table_cell(glci_table_t *t, const char *text);
void glci_table_cellf(glci_table_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

size_t glci_table_rows(const glci_table_t *t);

/* Prints the header and the rows with columns aligned (widths in terminal
 * columns: a full-width character takes two, a combining mark none), two
 * spaces apart, no trailing blanks. */
void glci_table_print_text(const glci_table_t *t, FILE *out);

/* The same without the header line: for a list of items, one per row. */
void glci_table_print_rows(const glci_table_t *t, FILE *out);

/* Prints the header and rows as RFC 4180 CSV (CRLF line ends; fields with
 * a comma, quote, CR or LF quoted, quotes doubled; formulas defused as
 * glci_csv_field says). */
void glci_table_print_csv(const glci_table_t *t, FILE *out);

/* 1 if a spreadsheet opening a CSV would take the cell text as a formula
 * (OWASP, CSV injection): it starts with '=', '+', '-', '@', a tab or a CR
 * and is not a finite decimal number ("-3.5" stays a number). */
int glci_csv_formula(const char *text);

/* Prints one CSV field without separator: quoted when it holds a comma, a
 * quote, CR or LF (quotes doubled), and a formula (glci_csv_formula) is
 * quoted with a single quote in front inside the quotes, "'=HYPERLINK(...)",
 * so that a spreadsheet shows it as text. Every CSV the programs print goes
 * through here. */
void glci_csv_field(FILE *out, const char *text);

/* The same, always quoted (for files whose every field is quoted). */
void glci_csv_field_quoted(FILE *out, const char *text);

/* Whether everything printed on out reached its file: flushes out and
 * looks at its error flag (a write that failed earlier, a full disk, a
 * closed pipe). Returns 0, or the errno of the failure: the flush's, else
 * that of the last failed glci_json_print / glci_json_write, else EIO (an
 * earlier write failed and its errno is gone). A program calls it
 * once for stdout after its command, so that no command can end with exit
 * 0, or exit 1 without a line, when its output was lost (SPEC section 5). */
int glci_output_check(FILE *out);

/* Dumps a JSON value (stealing the reference) on out with a newline, keys
 * in insertion order, reals with 17 significant digits so they round-trip.
 * Returns 0, or -1 if writing failed. */
int glci_json_print(json_t **value, FILE *out);

/* Dumps a JSON value (not stolen, no newline) on out with the flags of
 * glci_json_print, straight into the stream. For output streamed piece by
 * piece: a command writes the frame of a large array itself and each
 * element with this. Returns 0, or -1 if encoding or writing failed. */
int glci_json_write(const json_t *value, FILE *out);

/* Writes obj (not stolen) on out as glci_json_write would, but without its
 * closing brace, then ", \"KEY\": [": the head of a document whose array
 * KEY the caller streams next, closing it with "]}" (or "], ...}").
 * Returns 0, or -1 if encoding or writing failed. */
int glci_json_write_head(const json_t *obj, const char *key, FILE *out);

/* Sets obj[key] (key a literal the object is built with) to the number v,
 * or null when !present or v is not finite, changing the value in place
 * when it is a real already: for one row object reused for every row. */
void glci_json_set_num(json_t *obj, const char *key, double v, int present);

/* Sets obj[key] to the string text in place (null if text is not UTF-8). */
void glci_json_set_str(json_t *obj, const char *key, const char *text);

/* A JSON number for v, or null when !present or v is not finite. */
json_t *glci_json_num(double v, int present);

/* Text of a score for people: "71.2" (one decimal), "-" when absent. */
void glci_fmt_score(double v, int present, char *buf, size_t len);

/* Text of a number for CSV: the shortest exact form, subnormals included
 * (glci_format_shortest_g), "" when absent or not finite. */
void glci_fmt_exact(double v, int present, char *buf, size_t len);

/* Text of a measured value for people: at most two decimals, no trailing
 * zeros ("41", "99.07"); very small or large magnitudes in %g form. */
void glci_fmt_value(double v, char *buf, size_t len);

/* ISO 8601 UTC text of Unix seconds, or "-" / JSON null for 0 (never). */
void glci_fmt_time(int64_t unix_seconds, char *buf, size_t len);
json_t *glci_json_time(int64_t unix_seconds);

#endif
