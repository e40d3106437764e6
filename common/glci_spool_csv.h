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

/* The informational column named name exactly, or -1. */
int glci_spool_info_find(const char *name);

#endif
