/* Reading a spool CSV (SPEC §5) whole, with libcsv in strict RFC 4180 mode.
 *
 * Header required: indicator, period, value, and optionally observed_at and
 * source, in any order (names are matched exactly after trimming blanks; a
 * UTF-8 byte-order mark at the start of the data is skipped, also before a
 * quoted name). Each data row must
 * have as many fields as the header and:
 *   indicator  non-empty, no blanks or control characters
 *   (and the shape rules of glci_obs_check: the indicator at most
 *   GLCI_OBS_INDICATOR_MAX bytes, the source at most GLCI_OBS_SOURCE_MAX
 *   bytes of printable UTF-8)
 *   period     an integer (the collector checks the framework's range)
 *   value      a finite decimal number (no NaN, no Inf, no hex)
 *   observed_at  empty, or 2025-06-30 / 2025-06-30T12:00:00Z
 *   source     free text
 * and every field must be valid UTF-8 without NUL bytes. Blank lines are
 * skipped. The file is judged whole: the result lists "line N: reason" for
 * every bad row (N is the line on which the row ends, which is the line of
 * the row unless a quoted field spans lines), and callers queue nothing
 * from a file with any error. Field text quoted in an error is cut to 40
 * bytes with control characters escaped (\n, \r, \t, \xNN), so each error
 * stays on one line. After malformed quoting the parser starts afresh on
 * the next line, so the bad lines after it are listed too (a bad header
 * stops the checking of data rows, not of their quoting). Indicator ids
 * and value ranges are the collector's to judge.
 *
 * Two dialects (docs/AGENT.md, "Spreadsheet CSV"): comma, RFC 4180 as
 * above (',' between fields, '.' as the decimal mark), and excel, what a
 * spreadsheet in a decimal-comma locale saves (';' between fields, ',' as
 * the decimal mark, a '.' in a value refused: it may be a thousands
 * separator). Automatic choice, in this order: a first line "sep=;" or
 * "sep=," (the spreadsheet convention; the line is skipped), else the
 * header: excel when it has a ';' and no ',' outside quotes, else comma.
 * A dialect set by the caller (the agent's csv_dialect setting) is used
 * whatever the file says, but a "sep=" line is still skipped. */
#ifndef GLCI_AGENT_CSV_H
#define GLCI_AGENT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "glci_outbox.h"

typedef struct glci_agent_csv glci_agent_csv_t;

typedef enum {
    GLCI_AGENT_CSV_AUTO = 0,    /* from a sep= line or the header */
    GLCI_AGENT_CSV_COMMA,       /* RFC 4180: ',' and a decimal point */
    GLCI_AGENT_CSV_EXCEL        /* ';' and a decimal comma */
} glci_agent_csv_dialect_t;

/* "auto", "comma", "excel" <-> the dialect: 0, or -1 for another text. */
int glci_agent_csv_dialect_parse(const char *text, glci_agent_csv_dialect_t *out);

/* The dialect for people: "comma (',' between fields, '.' decimal mark)"
 * or "excel (';' between fields, ',' decimal mark)". */
const char *glci_agent_csv_dialect_str(glci_agent_csv_dialect_t d);

/* The dialect the file was read in (never AUTO) and why, as a phrase:
 * "its header", "its sep= line", "the csv_dialect setting". */
glci_agent_csv_dialect_t glci_agent_csv_dialect(const glci_agent_csv_t *csv, const char **why);

/* Parses len bytes of CSV. Always succeeds in building a result (bad input
 * is reported in its error list); free with glci_agent_csv_free. */
glci_agent_csv_t *glci_agent_csv_parse(const char *data, size_t len);

/* The same in dialect d (AUTO: chosen as above). */
glci_agent_csv_t *glci_agent_csv_parse_as(const char *data, size_t len,
                                          glci_agent_csv_dialect_t d);

/* Reads the whole file and parses it. Returns 0, or GLCI_AGENT_EIO with a
 * message naming path in err. */
int glci_agent_csv_read_file(const char *path, glci_agent_csv_t **out,
                             char *err, size_t errlen);

/* Reads fd to its end and parses what was read; *nread is the byte count.
 * path names the file in messages. 0, or GLCI_AGENT_EIO with a message. */
int glci_agent_csv_read_fd(int fd, const char *path, glci_agent_csv_t **out,
                           uint64_t *nread, char *err, size_t errlen);

/* The same in dialect d. */
int glci_agent_csv_read_fd_as(int fd, const char *path, glci_agent_csv_dialect_t d,
                              glci_agent_csv_t **out, uint64_t *nread, char *err,
                              size_t errlen);

void glci_agent_csv_free(glci_agent_csv_t **self);

/* The rows, valid while the result lives (meaningful only when there are no
 * errors). */
size_t glci_agent_csv_rows(const glci_agent_csv_t *csv, const glci_obs_t **rows);

/* Number of errors, and error i as "line N: reason". */
size_t glci_agent_csv_n_errors(const glci_agent_csv_t *csv);
const char *glci_agent_csv_error(const glci_agent_csv_t *csv, size_t i);

#endif
