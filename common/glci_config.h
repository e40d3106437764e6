/* One table drives a daemon's configuration: its INI file section, its
 * command-line flags and the settings part of its --help (as Fluent Bit's
 * config maps). Each key is one line of a glci_conf_key_t array: name,
 * type, default, help, where it lives in the daemon's config struct, and
 * its range. A new setting is one line there; nothing else changes.
 *
 * Names: the file spells a key with underscores (batch_max), a flag with
 * dashes (--batch-max). Flags take "--name VALUE" or "--name=VALUE"; a
 * boolean flag alone means true.
 *
 * Errors: functions return 0 or -1 and write one line naming the origin
 * into err ("FILE:LINE: ...", "--flag: ..."); glci_conf_load also returns -2
 * when the file cannot be read at all. */
#ifndef GLCI_CONFIG_H
#define GLCI_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    GLCI_CONF_TEXT,       /* char[size] buffer, non-empty, shorter than size */
    GLCI_CONF_STRING,     /* char *, glci_xstrdup'd (glci_conf_release frees) */
    GLCI_CONF_INT,        /* integer in [min, max], stored in size bytes (4 or 8;
                             signed unless GLCI_CONF_UNSIGNED) */
    GLCI_CONF_BYTES,      /* uint64_t bytes in [min, max]: 4096, 64K, 512M, 1G */
    GLCI_CONF_DURATION,   /* int64_t seconds in [min, max]: 90, 90s, 15m, 36h, 30d, 2w */
    GLCI_CONF_BOOL,       /* int: true/yes/on/1, false/no/off/0 */
    GLCI_CONF_LOG_LEVEL   /* glci_log_level_t: error, warn, info, debug */
} glci_conf_type_t;

#define GLCI_CONF_FLAG     0x1u   /* also a command-line flag */
#define GLCI_CONF_NO_FILE  0x2u   /* a flag only (e.g. --config itself) */
#define GLCI_CONF_UNSIGNED 0x4u   /* GLCI_CONF_INT: an unsigned field */

typedef struct {
    const char *name;         /* file key; the flag is --name with '_' -> '-' */
    glci_conf_type_t type;
    const char *dflt;         /* the default as text (NULL: empty, 0, false) */
    const char *metavar;      /* for --help: "N", "DIR"... (NULL: none) */
    const char *help;         /* one line for --help */
    size_t offset, size;      /* the field in the config struct */
    int64_t min, max;         /* GLCI_CONF_INT, GLCI_CONF_BYTES */
    unsigned flags;
    /* An extra rule for the value (a city id's syntax, an endpoint's
     * scheme): 0, or -1 with a phrase completing "NAME must ..." in why. */
    int (*check)(const char *value, char *why, size_t whylen);
} glci_conf_key_t;

/* A daemon's table and its section name. */
typedef struct {
    const char *section;      /* "agent", "collector" */
    const glci_conf_key_t *keys;
    size_t n_keys;
} glci_conf_map_t;

/* The key called name, or NULL. */
const glci_conf_key_t *glci_conf_find(const glci_conf_map_t *map, const char *name);

/* Sets every key of cfg to its default (cfg zeroed first). */
void glci_conf_defaults(const glci_conf_map_t *map, void *cfg);

/* Frees what the GLCI_CONF_STRING keys of cfg own and sets them to NULL. */
void glci_conf_release(const glci_conf_map_t *map, void *cfg);

/* Sets key name of cfg from text. where names the origin for the message
 * ("FILE:LINE", "--flag"). -1 for an unknown key ("unknown key 'x'") or a
 * bad value ("batch_max must be an integer in [1, 10000], not 'x'"). */
int glci_conf_set(const glci_conf_map_t *map, void *cfg, const char *name,
                  const char *value, const char *where, char *err, size_t errlen);

/* The largest config file read, in bytes. */
#define GLCI_CONF_FILE_MAX (1024 * 1024)

/* Reads the map's section of the INI file at path over cfg (inih): -2 if
 * the file cannot be read, -1 for a file over GLCI_CONF_FILE_MAX bytes, a
 * key outside the section, an unknown section (even one without keys) or
 * key, a bad value, a NUL byte, a line over 197 bytes or one that is not
 * INI, the message starting "PATH:LINE: " for the first such line. Blanks
 * before a line are ignored (no line continues the one before), ';' or '#'
 * starts a comment line and " ;" a comment after a value. Keys marked
 * GLCI_CONF_NO_FILE are unknown here. Messages show any byte that is not
 * printable UTF-8 as \xNN, here and in every function below. */
int glci_conf_load(const glci_conf_map_t *map, void *cfg, const char *path,
                   char *err, size_t errlen);

/* The same for len bytes of text in memory (a file's content read
 * elsewhere, a test's input), read exactly as a file would be, name
 * standing for the path in messages: 0 or -1, never -2. text need not be
 * NUL-terminated. */
int glci_conf_load_text(const glci_conf_map_t *map, void *cfg, const char *text, size_t len,
                        const char *name, char *err, size_t errlen);

/* If argv[*i] names a flag of the map (GLCI_CONF_FLAG), sets it in cfg from
 * its value, advances *i past it and returns 1; returns 0 when it is not a
 * flag of the map; -1 for a missing or bad value. */
int glci_conf_flag(const glci_conf_map_t *map, void *cfg, int argc, char **argv, int *i,
                   char *err, size_t errlen);

/* The same without setting anything: 1 and *key / *value (into argv, or
 * "true" for a bare boolean) when argv[*i] is a flag of the map, *i
 * advanced; 0 when not; -1 when its value is missing. */
int glci_conf_flag_peek(const glci_conf_map_t *map, int argc, char **argv, int *i,
                        const glci_conf_key_t **key, const char **value,
                        char *err, size_t errlen);

/* Prints the flags of the map for --help, one line each: the flag, its
 * metavar, the help and the default. */
void glci_conf_help(const glci_conf_map_t *map, FILE *out);

#endif
