/* Strict parsing and formatting of numbers and times shared by the programs.
 * Parsers return 0, or -1 when the whole text is not exactly one value of
 * the kind (no partial parses, no trailing characters, no overflow). */
#ifndef GLCI_TEXT_H
#define GLCI_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A finite or non-finite decimal number ("nan"/"inf" parse; callers that
 * need finite values check isfinite). Leading/trailing blanks are refused.
 * A number too small for a double reads as the nearest one (1e-310 as a
 * subnormal, 1e-400 as 0), like any decimal; -2 (not -1) for a number too
 * large for any double (1e999). */
int glci_parse_double(const char *text, double *out);

/* A decimal integer within [min, max]. */
int glci_parse_int64(const char *text, int64_t min, int64_t max, int64_t *out);

/* "2025-06-30" (midnight UTC) or "2025-06-30T12:00:00Z" -> Unix seconds. */
int glci_parse_iso_time(const char *text, int64_t *out);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (m in
 * 1..12, d in 1..31; no check). */
int64_t glci_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Unix seconds -> "2026-11-25T14:02:11Z" into buf (at least 21 bytes). */
void glci_format_iso_time(int64_t unix_seconds, char *buf, size_t len);

/* Shortest text that reads back as exactly the same double ("%.17g" cut to
 * the fewest digits that round-trip), as a plain decimal for magnitudes
 * from 1e-4 to below 1e15. buf at least 32 bytes. */
void glci_format_double(double v, char *buf, size_t len);

/* The shortest "%.*g" text that reads back as exactly v, subnormals
 * included ("1e-310"), into buf (at least 32 bytes); returns the
 * significant digits it used (1 to 17). The one rule of shortest numbers:
 * glci_format_double and the CLI's CSV (glci_fmt_exact) both ask it. */
int glci_format_shortest_g(double v, char *buf, size_t len);

/* Writes a one-line message into err (errlen bytes, always terminated;
 * nothing when err is NULL or errlen 0) and returns -1: the error helper of
 * every layer that reports into a caller's buffer. A message longer than
 * the buffer is cut before a UTF-8 character it would split. */
int glci_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A measured value for people: at most two decimals, no trailing zeros
 * ("41", "41.5", "99.07"); magnitudes under 0.01 or from 1e9 up, and
 * non-finite values, in %.4g form. */
void glci_format_value(double v, char *buf, size_t len);

#endif
