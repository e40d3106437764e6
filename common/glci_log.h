/* Leveled logging to stderr for the daemons: one line per event,
 * "LEVEL component: message". Thread-safe (one fprintf per line). The
 * message is written through glci_utf8_escape: control characters, bytes
 * that are not UTF-8, bidirectional controls and line or paragraph
 * separators (U+2028, U+2029) appear as \xNN, so text
 * from outside can never break a line or forge one. */
#ifndef GLCI_LOG_H
#define GLCI_LOG_H

typedef enum {
    GLCI_LOG_ERROR = 0,
    GLCI_LOG_WARN  = 1,
    GLCI_LOG_INFO  = 2,
    GLCI_LOG_DEBUG = 3
} glci_log_level_t;

/* Sets the program name printed in front of each line and the most verbose
 * level printed (default "glci", GLCI_LOG_INFO). */
void glci_log_init(const char *program, glci_log_level_t level);
void glci_log_set_level(glci_log_level_t level);

/* Parses "error", "warn", "info", "debug". Returns 0, or -1 for anything else. */
int glci_log_level_parse(const char *text, glci_log_level_t *out);

void glci_log(glci_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define glci_error(...) glci_log(GLCI_LOG_ERROR, __VA_ARGS__)
#define glci_warn(...)  glci_log(GLCI_LOG_WARN, __VA_ARGS__)
#define glci_info(...)  glci_log(GLCI_LOG_INFO, __VA_ARGS__)
#define glci_debug(...) glci_log(GLCI_LOG_DEBUG, __VA_ARGS__)

#endif
