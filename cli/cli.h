/* The operators' CLI, glci (SPEC §5): what the command files share.
 *
 * Every command is a function that takes the parsed global options (store
 * folder, output format) and the rest of its own arguments, prints its
 * result on stdout and returns the process exit status: 0 success, 1 a
 * runtime failure (one line on stderr naming the thing at fault), 2 a usage
 * error (one line saying what is wrong, the command's usage at its end in
 * parentheses).
 *
 * Queries open the store read-only (safe while the collector writes and
 * grows the map); admin commands open it for writing, one transaction per
 * change. */
#ifndef GLCI_CLI_H
#define GLCI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "glci_store.h"
#include "glci_output.h"

enum {
    GLCI_EXIT_OK    = 0,
    GLCI_EXIT_FAIL  = 1,
    GLCI_EXIT_USAGE = 2
};

#define GLCI_DEFAULT_STORE "/var/lib/glci"

/* The global options, valid anywhere on the command line. */
typedef struct {
    const char *store_dir;      /* --store, else $GLCI_STORE, else the default */
    glci_format_t format;       /* --format, default table */
} glci_cli_t;

/* One command: its name as typed ("rank", "city add"), a one-line usage
 * (after "glci "), a short summary for the program's help, the text of its
 * --help, and its entry point. */
typedef struct glci_cmd {
    const char *name;
    const char *usage;
    const char *summary;
    const char *help;
    const char *pos[3];         /* names of the positional arguments, for errors */
    int xlsx;                   /* takes --format xlsx (with --out FILE) */
    int (*run)(const struct glci_cmd *cmd, const glci_cli_t *cli, int argc, char **argv);
} glci_cmd_t;

/* ---- Argument parsing ------------------------------------------------- */

/* An option of a command: "--name VALUE" / "--name=VALUE" when has_arg,
 * "--name" alone otherwise. After parsing, value holds the text (or "" for
 * a flag) and seen says whether it was given. */
typedef struct {
    const char *name;           /* without the leading "--" */
    int has_arg;
    const char *value;
    int seen;
} glci_opt_t;

enum {
    GLCI_ARGS_OK   = 0,
    GLCI_ARGS_HELP = 1,         /* --help printed: exit 0 */
    GLCI_ARGS_BAD  = 2          /* usage error printed: exit 2 */
};

/* Parses argv[0..argc) (the command's own arguments, its name excluded)
 * against opts; positional arguments go to pos (at most max_pos, at least
 * min_pos), their count to *n_pos. "--" ends the options. Prints the help
 * or the usage error itself and returns one of GLCI_ARGS_*. */
int glci_args_parse(const glci_cmd_t *cmd, int argc, char **argv,
                    glci_opt_t *opts, size_t n_opts, const char **pos,
                    size_t min_pos, size_t max_pos, size_t *n_pos);

/* The first step of glci_args_parse, alone: "--help" or "-h" anywhere in
 * argv[0..argc) prints cmd's help from its descriptor and returns
 * GLCI_ARGS_HELP; "--help=..." prints the usage error and returns
 * GLCI_ARGS_BAD; otherwise GLCI_ARGS_OK, nothing printed. For a command
 * whose code is not in this program (cli_documents.h), so its help is the
 * same text wherever it is asked. */
int glci_args_help(const glci_cmd_t *cmd, int argc, char **argv);

/* Prints "glci CMD: MESSAGE (usage: glci USAGE)", one line, on stderr;
 * returns 2. */
int glci_usage_error(const glci_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A city id the store refuses: its message (glci_city_id_check) as a
 * usage error; returns 2. */
int glci_usage_bad_city(const glci_cmd_t *cmd, const char *id);

/* Prints "glci CMD: MESSAGE" on stderr; returns 1. */
int glci_fail(const glci_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 1 once glci_fail or glci_usage_error has printed a line in this process,
 * else 0: the program adds its own line for lost output only when the
 * command printed none (glci_cli_main). */
int glci_error_printed(void);

/* Parses a period given on the command line (a year within [0, 9999]).
 * Returns 0, or prints the usage error and returns 2. */
int glci_args_period(const glci_cmd_t *cmd, const char *text, int32_t *out);

/* The same for the value of a period option (--period, --from, --to): the
 * error names opt ("invalid --from 'abc' (a year such as 2025)"). */
int glci_args_period_opt(const glci_cmd_t *cmd, const glci_opt_t *opt, int32_t *out);

/* Refuses "-" as the value of an option that names a file or folder to
 * write (--out, --pdf): documents are written under NAME.tmp and renamed
 * into place, never to standard output, and a file called "-" is more
 * often a slip than a wish ("./-" still names one). Returns 0 when opt is
 * unset or names anything else, or prints the usage error and returns 2. */
int glci_args_out(const glci_cmd_t *cmd, const glci_opt_t *opt);

/* Parses the value of a count option such as --limit or --peers (a
 * positive integer); the error names opt. 0 or 2 as above. */
int glci_args_limit(const glci_cmd_t *cmd, const glci_opt_t *opt, size_t *out);

/* ---- Store access ----------------------------------------------------- */

/* Opens the store of cli for reading (rdonly) or for an admin write. On
 * failure prints the one-line message ("no store at DIR", "store at DIR was
 * made by a newer schema", ...) and returns 1; 0 on success. */
int glci_cli_open(const glci_cmd_t *cmd, const glci_cli_t *cli, int rdonly,
                  glci_store_t **out);

/* Begins a read view; prints the failure and returns 1, or 0. */
int glci_cli_view(const glci_cmd_t *cmd, glci_store_t *st, glci_view_t **out);

/* Prints the one-line failure of a store call: "WHAT: REASON (store DIR)"
 * where REASON comes from the code; returns 1. */
int glci_cli_store_fail(const glci_cmd_t *cmd, const glci_cli_t *cli, int code,
                        const char *what);

/* ---- Results of a period, for export ---------------------------------- */

/* One city's result for a period, copied out of the view. */
typedef struct {
    char city[GLCI_CITY_ID_MAX + 1];
    glci_result_t *result;      /* glci_result_size bytes, owned */
    double index, coverage;
    int has_index;
    double key;                 /* the score ranked on (the index) */
    int ranked;
    uint32_t rank;              /* when ranked */
} glci_period_row_t;

typedef struct {
    int32_t period;
    size_t n, cap;
    glci_period_row_t *rows;    /* ranked first in rank order, then unranked by id */
    size_t n_ranked;
} glci_period_t;

/* Reads the league table of period P by the index (glci_view_league, the
 * store's order) with each city's whole result. Returns 0 or a negative
 * store code. */
int glci_period_load(glci_view_t *v, const glci_framework_t *fw, int32_t period,
                     glci_period_t *out);
void glci_period_release(glci_period_t *p);

/* Moves a snapshot's rows (an edition, an as-of recomputation) into *out
 * in its order; the snapshot is left empty. */
void glci_period_from_snapshot(glci_snapshot_t *s, glci_period_t *out);

/* The period to use when none is given (SPEC §7): the store's one rule
 * (glci_view_default_period, index/'s glci_period_choose), into *choice
 * (may be NULL). Prints "no data in the store at DIR yet" and returns 1
 * when there is none; 0 on success. */
int glci_cli_default_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                            glci_period_choice_t *choice, int32_t *out);

/* A city's result when no period is given (show, peers): of period P (the
 * rule's), else the city's latest before P, else -- a city that reported
 * ahead of the network -- its earliest after P. Sets *period and *r (valid
 * while v lasts). Prints "no data for city 'ID'" (in no period) and
 * returns 1 when it has none; 0 on success. */
int glci_cli_city_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                         const char *city, int32_t P, int32_t *period,
                         const glci_result_t **r);


/* ---- Which table: live, as of a time, or an edition (source.c) ---------- */

/* A TIME on the command line (docs/CYCLE.md): "now" (now), a date
 * YYYY-MM-DD (the end of that day, 23:59:59 UTC), YYYY-MM-DDTHH:MM:SSZ, or
 * @SECONDS (Unix time). Returns 0, or prints the usage error and returns 2.
 * Whether it is in the future is the store's to say (glci_cli_not_future). */
int glci_args_time(const glci_cmd_t *cmd, const char *opt, const char *text, int64_t now,
                   int64_t *out);

/* 0 if t is not after the store's now (glci_view_now); else prints "OPT
 * TIME is in the future ..." and returns 1. */
int glci_cli_not_future(const glci_cmd_t *cmd, glci_view_t *v, const char *opt, int64_t t);

typedef enum { GLCI_SRC_LIVE, GLCI_SRC_ASOF, GLCI_SRC_EDITION } glci_src_kind_t;

/* What --period, --as-of and --edition asked for, checked before the store
 * is opened. */
typedef struct {
    int has_period;
    int32_t period;
    glci_src_kind_t kind;
    int64_t as_of;
    int as_of_now;              /* --as-of now: the store's now (glci_view_now) */
    const char *edition;
} glci_src_args_t;

/* Parses the three options (a glci_opt_t each; edition and as_of may be
 * NULL for commands without them): at most one of --as-of and --edition.
 * Returns 0, or prints the usage error and returns 2. */
int glci_src_args(const glci_cmd_t *cmd, const glci_opt_t *period, const glci_opt_t *as_of,
                  const glci_opt_t *edition, glci_src_args_t *out);

/* The table a command reads, resolved in a view: the period (given, or by
 * the rule over the live store or the store as of the time, or the
 * edition's) and, as of a time or from an edition, every city's result of
 * it. */
typedef struct {
    glci_src_args_t args;
    glci_period_choice_t choice;
    glci_edition_t edition;     /* GLCI_SRC_EDITION */
    glci_snapshot_t snap;       /* GLCI_SRC_ASOF, GLCI_SRC_EDITION */
} glci_source_t;

/* Resolves a in view v into *out (released by glci_source_release; zeroed
 * first). need_table: load the snapshot (as of / edition). Prints the
 * failure ("no edition 'X'", "edition X is of period 2025, not 2024", "no
 * data ...") and returns 1; 0 on success. */
int glci_source_open(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                     const glci_src_args_t *a, int need_table, glci_source_t *out);
void glci_source_release(glci_source_t *s);

/* The results of period p in the table s reads (s NULL: the live store):
 * the live store's (glci_period_load), or the snapshot's rows of an as-of
 * time or an edition, moved out of s (so once, and p is s's period).
 * Released by glci_period_release. Returns 0 or a negative store code. */
int glci_source_period(glci_view_t *v, const glci_framework_t *fw, glci_source_t *s,
                       int32_t p, glci_period_t *out);

/* The active cities registered at the time of the table s reads, into
 * *out: now for the live store; as of the time for an as-of table or an
 * edition, counted as the store's default-period rule counts them then
 * (glci_view_asof_default_period), so an edition's text never changes as
 * cities are added later. Returns 0 or a negative store code (*out 0). */
int glci_source_active(glci_view_t *v, const glci_source_t *s, uint32_t *out);

/* Prints that the table of s has no result ("no data for period P", "...
 * as of TIME") and returns 1. */
int glci_source_no_data(const glci_cmd_t *cmd, const glci_source_t *s);

/* What the output says about the table: JSON fields "period_rule" (a
 * word, glci_period_rule_str) and "period_note" (the line), and "as_of" /
 * "edition" when they apply, set on obj. */
void glci_source_json(const glci_source_t *s, json_t *obj);

/* The same for people: the rule's line when the command chose the period,
 * and the as-of time or edition, on out (nothing for a live, given
 * period). */
void glci_source_print(const glci_source_t *s, FILE *out);

/* The operator as the OS reports it: the effective user's name
 * (getpwuid(geteuid()), "uid N" when it has none) into name, and SUDO_USER
 * (when set; cut and escaped to printable text) into sudo ("" when not).
 * Each buffer at least GLCI_OPERATOR_MAX + 1 bytes. */
void glci_cli_operator(char *name, char *sudo);

/* ---- Every city of a view (city_list.c) --------------------------------- */

typedef struct {
    size_t n, cap;
    glci_city_t *rows;          /* copies, in id order */
} glci_city_list_t;

/* Copies every city of the view into *out (released by
 * glci_city_list_release). Returns 0 or a negative store code (*out then
 * empty). */
int glci_city_list_load(glci_view_t *v, glci_city_list_t *out);

/* The city with this id, or NULL (binary search). */
const glci_city_t *glci_city_list_find(const glci_city_list_t *l, const char *id);

void glci_city_list_release(glci_city_list_t *l);

/* ---- The commands ----------------------------------------------------- */

extern const glci_cmd_t glci_cmd_init, glci_cmd_collector_key,
    glci_cmd_city_add, glci_cmd_city_list, glci_cmd_city_revoke,
    glci_cmd_city_key_add, glci_cmd_city_key_remove,
    glci_cmd_city_invite, glci_cmd_city_invites, glci_cmd_city_show,
    glci_cmd_city_reinstate, glci_cmd_keys_refused,
    glci_cmd_rank, glci_cmd_show, glci_cmd_history, glci_cmd_export,
    glci_cmd_status, glci_cmd_rejects, glci_cmd_verify, glci_cmd_backup,
    glci_cmd_framework, glci_cmd_trend, glci_cmd_peers, glci_cmd_sensitivity,
    glci_cmd_report, glci_cmd_template, glci_cmd_missing, glci_cmd_retract,
    glci_cmd_correct, glci_cmd_edition_publish, glci_cmd_edition_list,
    glci_cmd_edition_diff;

/* report and template (cmd_report.c, cmd_template.c; their descriptors in
 * cmd_documents.c; see cli_documents.h). */
int glci_cmd_report_run(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv);
int glci_cmd_template_run(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc,
                          char **argv);

/* export --format xlsx --out FILE (cmd_export_xlsx.c), as a workbook at
 * path. src NULL: the live store's results of periods first..last and
 * every stored value. Else the one period of the table src reads (live,
 * as of a time or an edition; a period without results fails) and the
 * values that can count for it (periods P - carry_forward .. P), as of the
 * table's time when it has one; the snapshot is moved out of src. Returns
 * the exit status. */
int glci_export_xlsx(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                     const glci_framework_t *fw, glci_source_t *src, int32_t first,
                     int32_t last, const char *path);

/* An enrolment string for city id (cmd_enrol.c): with name and country the
 * city is registered in the same transaction (city add --invite), else it
 * must exist (city invite). expires and host are the options' text or NULL.
 * Prints the string (or the failure) and returns the exit status. */
int glci_cli_invite(const glci_cmd_t *cmd, const glci_cli_t *cli, const char *id,
                    const char *name, const char *country, const char *expires,
                    const char *host);

/* The program: parses the global options, dispatches, returns the exit
 * status. */
int glci_cli_main(int argc, char **argv);

#endif
