/* Reading a spool CSV (SPEC §5) whole, with libcsv in strict RFC 4180 mode.
 *
 * Header required: indicator, period, value, and optionally observed_at and
 * source, in any order (names are matched exactly after trimming blanks; a
 * UTF-8 byte-order mark at the start of the data is skipped, also before a
 * quoted name). The informational columns of glci template's CSV (name,
 * unit, min, max, last_value, last_period: glci_spool_csv.h) may stand
 * anywhere in the header too; their fields are ignored, whatever they
 * hold, and never sent. Any other name, and a name given twice, is a bad
 * header. Each data row must
 * have as many fields as the header and:
 *   indicator  non-empty, no blanks or control characters
 *   (and the shape rules of glci_obs_check: the indicator at most
 *   GLCI_OBS_INDICATOR_MAX bytes, the source at most GLCI_OBS_SOURCE_MAX
 *   bytes of printable UTF-8)
 *   period     an integer (the collector checks the framework's range)
 *   value      a finite decimal number (no NaN, no Inf, no hex); a row
 *              whose value, source and observed_at are all empty is one
 *              left unfilled (a template's row): skipped and counted
 *              (glci_agent_csv_n_unfilled), not an error, except for a
 *              value given on the command line (glci_agent_csv_literal)
 *   observed_at  empty, or 2025-06-30 / 2025-06-30T12:00:00Z
 *   source     free text
 * and every field of those columns must be valid UTF-8 without NUL bytes
 * (an informational field is not looked at). Blank lines are
 * skipped. The file is judged whole: the result lists "line N: reason" for
 * every bad row (N is the line on which the row ends, which is the line of
 * the row unless a quoted field spans lines), and callers queue nothing
 * from a file with any error. Field text quoted in an error is cut to 40
 * bytes with control characters escaped (\n, \r, \t, \xNN), so each error
 * stays on one line. After malformed quoting the parser starts afresh on
 * the next line, so the bad lines after it are listed too (a bad header
 * stops the checking of data rows, not of their quoting). Indicator ids
 * and value ranges are the collector's to judge. A single quote before a
 * leading = + - @ tab or CR in the indicator or source (as glci's own CSV
 * writer defuses formulas, glci_csv_field) is taken off
 * (glci_agent_csv_literal keeps it).
 *
 * Bounds, whatever the file holds: the first GLCI_AGENT_CSV_ERRORS_LISTED
 * errors are kept as text and the rest only counted; a row longer than
 * GLCI_AGENT_CSV_ROW_MAX bytes is an error (so libcsv's buffer stays
 * small); a file of more than GLCI_AGENT_CSV_ROWS_MAX rows fails; reading
 * streams the file in 64 KiB chunks and stops past a byte cap. What a
 * valid file costs is then its rows: GLCI_AGENT_CSV_ROWS_MAX at most, each
 * a glci_obs_t and its indicator and source text.
 *
 * Two dialects (docs/AGENT.md, "Spreadsheet CSV"): comma, RFC 4180 as
 * above (',' between fields, '.' as the decimal mark), and excel, what a
 * spreadsheet in a decimal-comma locale saves (';' between fields, ',' as
 * the decimal mark, a '.' in a value refused: it may be a thousands
 * separator). Automatic choice, in this order: a first line "sep=;" or
 * "sep=," (the spreadsheet convention; the line is skipped), else the
 * header: excel when it has a ';' and no ',' outside quotes, else comma.
 * A dialect set by the caller (the agent's csv_dialect setting) is used
 * whatever the file says, but a "sep=" line is still skipped. Fed in
 * pieces, the first bytes are held until that choice can be made (at most
 * one row's bytes). */
#ifndef GLCI_AGENT_CSV_H
#define GLCI_AGENT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "glci_outbox.h"

typedef struct glci_agent_csv glci_agent_csv_t;

/* Error lines kept as text per file; more are counted. */
#define GLCI_AGENT_CSV_ERRORS_LISTED 100
/* Data rows one file may hold. */
#define GLCI_AGENT_CSV_ROWS_MAX 1000000
/* Bytes one row may span (quoted line breaks included). */
#define GLCI_AGENT_CSV_ROW_MAX 65536

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

/* The same in pieces: new, feed the bytes in any number of pieces, finish
 * once; then read the result as from glci_agent_csv_parse. */
glci_agent_csv_t *glci_agent_csv_new(void);
glci_agent_csv_t *glci_agent_csv_new_as(glci_agent_csv_dialect_t d);
void glci_agent_csv_feed(glci_agent_csv_t *csv, const char *data, size_t len);

/* Before the first feed: the fields are texts given as they are (the
 * agent's command line), not cells of a sheet glci wrote, so the single
 * quote in front of a formula character is kept. */
void glci_agent_csv_literal(glci_agent_csv_t *csv);
void glci_agent_csv_finish(glci_agent_csv_t *csv);

/* Reads the file and parses it (a pipe or FIFO too; a folder is refused;
 * path "-" is standard input, named "stdin" in messages),
 * never more than max_bytes (0: no cap): a regular file larger than that
 * is GLCI_AGENT_EINPUT with the line in err, unread; a stream that goes
 * past it gives a result with the one error "file: more than N bytes".
 * In dialect d (AUTO: as the file says). Returns 0, EINPUT or
 * GLCI_AGENT_EIO with a message naming path in err. */
int glci_agent_csv_read_file(const char *path, uint64_t max_bytes, glci_agent_csv_dialect_t d,
                             glci_agent_csv_t **out, char *err, size_t errlen);

/* Reads fd to its end in chunks and parses what was read; *nread is the
 * byte count. Past max_bytes (0: no cap) it stops, *nread is more than
 * max_bytes and the result holds the one error "file: more than N bytes".
 * path names the file in messages. 0, or GLCI_AGENT_EIO with a message. */
int glci_agent_csv_read_fd(int fd, const char *path, uint64_t max_bytes,
                           glci_agent_csv_dialect_t d, glci_agent_csv_t **out, uint64_t *nread,
                           char *err, size_t errlen);

/* What is needed to read more rows of the same file later: the header's
 * columns and where the text ended. A value type. */
#define GLCI_AGENT_CSV_COLS 5
typedef struct {
    int usable;                       /* the header was good */
    int col[GLCI_AGENT_CSV_COLS];
    size_t n_header;
    size_t next_line;                 /* line number of the next byte */
    int at_line_start;                /* the text ended with a line end */
    glci_agent_csv_dialect_t dialect; /* the rest is read as the start was */
    const char *dialect_why;          /* static text */
} glci_agent_csv_layout_t;

void glci_agent_csv_layout(const glci_agent_csv_t *csv, glci_agent_csv_layout_t *out);

/* Parses bytes a file gained after it was read (a writer that still had
 * it open) as more rows under layout's header, lines numbered on from
 * where the first read ended. Text that does not start on a new line is an
 * error (the last row taken may have been cut). No rows is no error. */
glci_agent_csv_t *glci_agent_csv_parse_rest(const glci_agent_csv_layout_t *layout,
                                            const char *data, size_t len);

void glci_agent_csv_free(glci_agent_csv_t **self);

/* The rows, valid while the result lives (meaningful only when there are no
 * errors). */
size_t glci_agent_csv_rows(const glci_agent_csv_t *csv, const glci_obs_t **rows);

/* Rows skipped because they were left unfilled (no value, source or
 * observed_at), whatever else the file holds. */
size_t glci_agent_csv_n_unfilled(const glci_agent_csv_t *csv);

/* Number of errors (bad lines and file errors, listed or not), the number
 * listed (at most GLCI_AGENT_CSV_ERRORS_LISTED), and listed error i as
 * "line N: reason" or "file: reason" (NULL past the listed ones). */
size_t glci_agent_csv_n_errors(const glci_agent_csv_t *csv);
size_t glci_agent_csv_n_listed(const glci_agent_csv_t *csv);
const char *glci_agent_csv_error(const glci_agent_csv_t *csv, size_t i);

#endif
