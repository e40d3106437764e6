/* glci-agent's configuration: the [agent] section of an INI file (inih) and
 * the flags of the same names, which override the file (SPEC §5).
 *
 *   city, collector, collector_key, key_file, outbox, spool, batch_max,
 *   window, outbox_limit, retain, retain_bytes, log_level, rescan_interval,
 *   heartbeat_ivl, insecure, metrics_file, csv_dialect
 *
 * Flags spell the names with dashes (--collector-key, --batch-max...), take
 * "--name VALUE" or "--name=VALUE"; --insecure alone means true.
 *
 * Errors: the agent layer's convention -- functions return 0 or a negative
 * GLCI_AGENT_E* code (glci_agent_strerror) and write one line naming the
 * file:line or the flag at fault into err. */
#ifndef GLCI_AGENT_CONFIG_H
#define GLCI_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "glci_agent_csv.h"
#include "glci_config.h"
#include "glci_limits.h"
#include "glci_log.h"

enum {
    GLCI_AGENT_OK     = 0,
    GLCI_AGENT_EUSAGE = -1,   /* bad flag, config key or value: exit 2 */
    GLCI_AGENT_EIO    = -2,   /* a file or folder cannot be read or written */
    GLCI_AGENT_EINPUT = -3,   /* input data (a CSV, a pushed value) is malformed */
    GLCI_AGENT_EFULL  = -4,   /* the outbox size limit is reached */
    GLCI_AGENT_EOUTBOX = -5,  /* the outbox failed */
    GLCI_AGENT_EKEY   = -6,   /* a key or key file is unusable */
    GLCI_AGENT_ENET   = -7    /* ZeroMQ failed */
};
const char *glci_agent_strerror(int code);

#define GLCI_AGENT_PATH_MAX 1024

/* The config file every command reads when neither --config nor
 * $GLCI_AGENT_CONFIG names one (CMake sets it from the install prefix). */
#ifndef GLCI_AGENT_DEFAULT_CONFIG
#define GLCI_AGENT_DEFAULT_CONFIG "/etc/glci/agent.conf"
#endif

typedef struct {
    char config_path[GLCI_AGENT_PATH_MAX];   /* "" when none */
    char city[GLCI_CITY_ID_MAX + 1];
    char collector[256];
    char collector_key[GLCI_AGENT_PATH_MAX]; /* Z85 text or a key file path */
    char key_file[GLCI_AGENT_PATH_MAX];
    char outbox[GLCI_AGENT_PATH_MAX];
    char spool[GLCI_AGENT_PATH_MAX];
    uint32_t batch_max;          /* default 1000, 1..10000 */
    uint32_t window;             /* default 8, 1..1024 */
    uint64_t outbox_limit;       /* bytes; default 1 GiB */
    int64_t retain;              /* seconds acked batches are kept; default 30 days */
    uint64_t retain_bytes;       /* bytes of acked batches kept at most; default 256 MiB */
    glci_log_level_t log_level;  /* default info */
    uint32_t rescan_interval;    /* seconds, default 60, 1..86400 */
    uint32_t heartbeat_ivl;      /* ms, default 5000, 100..600000 */
    int insecure;                /* 0/1 */
    char metrics_file[GLCI_AGENT_PATH_MAX];  /* node_exporter textfile; "" none */
    char csv_dialect[8];         /* auto (default), comma or excel (glci_agent_csv.h) */
} glci_agent_config_t;

/* The spool CSV dialect csv_dialect names. */
glci_agent_csv_dialect_t glci_agent_config_dialect(const glci_agent_config_t *c);

/* The table of the agent's settings (glci_config.h): one line per key. */
extern const glci_conf_map_t glci_agent_config_map;

/* Fills the defaults. */
void glci_agent_config_defaults(glci_agent_config_t *c);

/* Prints the settings part of --help, from the table. */
void glci_agent_config_help(FILE *out);

/* Sets one setting by its config name (underscores) from text. `where`
 * names the origin for messages ("FILE:LINE" or "--flag"). EUSAGE for an
 * unknown name ("unknown key 'x'") or a bad value. */
int glci_agent_config_set(glci_agent_config_t *c, const char *name, const char *value,
                          const char *where, char *err, size_t errlen);

/* Reads the [agent] section of an INI file over c. EIO if it cannot be
 * read, EUSAGE for an unknown section or key or a bad value (FILE:LINE in
 * the message). */
int glci_agent_config_load(glci_agent_config_t *c, const char *path,
                           char *err, size_t errlen);

/* If argv[*i] is a config flag (--name or --name=value, with --config
 * among them), consumes it (and its value) into c, advances *i past it and
 * returns 1; returns 0 if it is not one; EUSAGE for a bad value or a
 * missing one. --config only records the path. */
int glci_agent_config_flag(glci_agent_config_t *c, int argc, char **argv, int *i,
                           char *err, size_t errlen);

/* Builds the configuration of a command line: defaults, then the config
 * file, then the flags in order. The file is the one named by --config
 * (wherever it stands), else by $GLCI_AGENT_CONFIG (when set and not
 * empty), else GLCI_AGENT_DEFAULT_CONFIG. A file named by --config or the
 * variable must be readable (EIO otherwise); the default file may be
 * absent, and then only defaults and flags count (config_path stays "").
 * A default file that exists is read as a named one would be. Every
 * argument that is not a config flag is copied, in order, to rest[]
 * (*n_rest of them; rest must hold argc entries). */
int glci_agent_config_from_args(glci_agent_config_t *c, int argc, char **argv,
                                char **rest, int *n_rest, char *err, size_t errlen);

/* Checks what `run` needs: city, collector, outbox, spool; unless insecure,
 * collector_key and key_file; with insecure, a loopback or ipc endpoint; a
 * metrics_file that can be written (glci_metrics_file_check). EUSAGE naming
 * the first missing or bad setting (the order above). */
int glci_agent_config_check_run(const glci_agent_config_t *c, char *err, size_t errlen);

/* The same checks, every one made: calls each(arg, line) once per missing
 * or bad setting, in that order, with one line naming it (valid during
 * the call). Returns the number of problems (0: run may start). */
size_t glci_agent_config_problems(const glci_agent_config_t *c,
                                  void (*each)(void *arg, const char *line), void *arg);

/* 1 if endpoint is ipc://PATH or tcp://127.A.B.C:PORT, tcp://[::1]:PORT,
 * tcp://localhost:PORT with nothing after the port: the strict check the
 * collector uses too (glci_endpoint_local, common/glci_endpoint.h). */
int glci_agent_endpoint_is_local(const char *endpoint);

#endif
