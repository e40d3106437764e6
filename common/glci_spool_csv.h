/* The spool CSV's informational columns (SPEC §5 and §8): what `glci
 * template --format csv` writes beside indicator, period, value and source
 * so that the staff who fill the sheet see each indicator's name, unit,
 * valid range and last value, and what the agent's CSV reader accepts in a
 * header and then ignores (their contents are never checked, never sent).
 * Defined here once, for the writer (report/) and the reader (agent/)
 * alike: a new column is one line in the table, and the two cannot drift.
 *
 * X(NAME, "header name", "what the template writes there") */
#ifndef GLCI_SPOOL_CSV_H
#define GLCI_SPOOL_CSV_H

#define GLCI_SPOOL_INFO_COLUMNS(X)                                                  \
    X(NAME, "name", "the indicator's name")                                         \
    X(UNIT, "unit", "the indicator's unit")                                         \
    X(MIN, "min", "the lowest valid value (the framework's min)")                   \
    X(MAX, "max", "the highest valid value (the framework's max)")                  \
    X(LAST_VALUE, "last_value", "the city's latest value of a period up to P")      \
    X(LAST_PERIOD, "last_period", "that value's period")

typedef enum {
#define GLCI_SPOOL_INFO_ENUM(n, h, d) GLCI_SPOOL_INFO_##n,
    GLCI_SPOOL_INFO_COLUMNS(GLCI_SPOOL_INFO_ENUM)
#undef GLCI_SPOOL_INFO_ENUM
    GLCI_SPOOL_INFO_N
} glci_spool_info_t;

/* The header names in table order, each after ", ", for a message that
 * lists the columns a header may have: ", name, unit, min, max,
 * last_value, last_period" (a string literal). */
#define GLCI_SPOOL_INFO_LIST_ITEM(n, h, d) ", " h
#define GLCI_SPOOL_INFO_LIST GLCI_SPOOL_INFO_COLUMNS(GLCI_SPOOL_INFO_LIST_ITEM)

/* Column k's header name (k < GLCI_SPOOL_INFO_N; a static string). */
const char *glci_spool_info_name(glci_spool_info_t k);

/* The dead-letter file's own columns (docs/AGENT.md, "Dead letters"):
 * what rejected.csv holds after indicator, period, value, observed_at and
 * source, in this order. The reader ignores them like the informational
 * columns above, so that a dead-letter file, its values fixed, goes back
 * in as it is through the spool or `glci-agent push --csv`; the template
 * never writes them. Defined here for the dead-letter writer (agent/) and
 * the reader alike.
 *
 * X(NAME, "header name", "what the dead-letter file holds there") */
#define GLCI_SPOOL_DEADLETTER_COLUMNS(X)                                            \
    X(REASON, "reason", "why the collector or the agent refused the row")           \
    X(REJECTED_AT, "rejected_at", "when it was refused (UTC, ISO 8601)")

/* The dead-letter file's header line, its CRLF included (a string literal):
 * "indicator,period,value,observed_at,source,reason,rejected_at\r\n". */
#define GLCI_SPOOL_DEADLETTER_HEADER_ITEM(n, h, d) "," h
#define GLCI_SPOOL_DEADLETTER_HEADER                                                \
    "indicator,period,value,observed_at,source"                                     \
    GLCI_SPOOL_DEADLETTER_COLUMNS(GLCI_SPOOL_DEADLETTER_HEADER_ITEM) "\r\n"

/* Every column the reader takes and ignores: the informational ones, then
 * the dead-letter file's. */
#define GLCI_SPOOL_IGNORED_COLUMNS(X)                                               \
    GLCI_SPOOL_INFO_COLUMNS(X)                                                      \
    GLCI_SPOOL_DEADLETTER_COLUMNS(X)

typedef enum {
#define GLCI_SPOOL_IGNORED_ENUM(n, h, d) GLCI_SPOOL_IGNORED_##n,
    GLCI_SPOOL_IGNORED_COLUMNS(GLCI_SPOOL_IGNORED_ENUM)
#undef GLCI_SPOOL_IGNORED_ENUM
    GLCI_SPOOL_IGNORED_N
} glci_spool_ignored_t;

/* Their header names in table order, each after ", " (a string literal),
 * for the message that lists the columns a header may have. */
#define GLCI_SPOOL_IGNORED_LIST GLCI_SPOOL_IGNORED_COLUMNS(GLCI_SPOOL_INFO_LIST_ITEM)

/* The ignored column (informational or dead-letter) named name exactly,
 * as a glci_spool_ignored_t, or -1. */
int glci_spool_ignored_find(const char *name);

#endif
