/* glci's program level: the global options (--store, --format, anywhere on
 * the line), the command table and dispatch, the program's help, and the
 * store access every command shares (opening, error lines, the ranked
 * results of a period). */
#include "cli.h"
#include "cli_documents.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

static const glci_cmd_t *const s_cmds[] = {
    &glci_cmd_init, &glci_cmd_collector_key, &glci_cmd_city_add,
    &glci_cmd_city_list, &glci_cmd_city_show, &glci_cmd_city_revoke,
    &glci_cmd_city_reinstate, &glci_cmd_city_key_add, &glci_cmd_city_key_remove,
    &glci_cmd_city_invite, &glci_cmd_city_invites, &glci_cmd_keys_refused,
    &glci_cmd_rank, &glci_cmd_show,
    &glci_cmd_history, &glci_cmd_export, &glci_cmd_status, &glci_cmd_rejects,
    &glci_cmd_verify, &glci_cmd_backup, &glci_cmd_framework, &glci_cmd_trend,
    &glci_cmd_peers, &glci_cmd_sensitivity, &glci_cmd_report,
    &glci_cmd_template, &glci_cmd_missing, &glci_cmd_retract, &glci_cmd_correct,
    &glci_cmd_edition_publish, &glci_cmd_edition_list, &glci_cmd_edition_diff,
};
#define S_N_CMDS (sizeof s_cmds / sizeof s_cmds[0])

static const char s_usage[] =
    "glci [--store DIR] [--format table|json|csv] COMMAND [ARGS...]";

static void s_program_help(void)
{
    printf("usage: %s\n\n"
           "The operators' CLI of the UNESCO Global Learning City Index collector.\n"
           "Queries read the store without blocking the collector; admin commands\n"
           "change it in one transaction each.\n\nCommands:\n", s_usage);
    for (size_t i = 0; i < S_N_CMDS; i++)
        printf("  %-15s %s\n", s_cmds[i]->name, s_cmds[i]->summary);
    printf("\nGlobal options (anywhere on the line):\n"
           "  --store DIR       the store (default $GLCI_STORE, else %s)\n"
           "  --format FORMAT   table (default), json or csv\n"
           "  --help            this text; COMMAND --help for a command\n\n"
           "Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.\n",
           GLCI_DEFAULT_STORE);
}

/* Commands of two words: "city add", "keys refused", "edition publish". */
static const char *const s_groups[] = {"city", "keys", "edition"};

static int s_is_group(const char *word)
{
    for (size_t i = 0; i < sizeof s_groups / sizeof s_groups[0]; i++)
        if (strcmp(word, s_groups[i]) == 0)
            return 1;
    return 0;
}

/* "add, list, ..." of a group, into buf. */
static void s_group_subs(const char *group, char *buf, size_t len)
{
    size_t n = strlen(group), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < S_N_CMDS && used < len; i++)
        if (strncmp(s_cmds[i]->name, group, n) == 0 && s_cmds[i]->name[n] == ' ') {
            int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                             s_cmds[i]->name + n + 1);
            used += w > 0 ? (size_t)w : 0;
        }
}

static void s_group_help(const char *group)
{
    char subs[256];
    s_group_subs(group, subs, sizeof subs);
    printf("usage: glci %s SUBCOMMAND ... (%s)\n\n%s:\n", group, subs,
           strcmp(group, "city") == 0    ? "Cities and their agents' keys"
           : strcmp(group, "edition") == 0 ? "Published league tables, frozen for good"
                                           : "Keys the collector has seen");
    size_t n = strlen(group);
    for (size_t i = 0; i < S_N_CMDS; i++)
        if (strncmp(s_cmds[i]->name, group, n) == 0 && s_cmds[i]->name[n] == ' ')
            printf("  glci %s\n      %s\n", s_cmds[i]->usage, s_cmds[i]->summary);
}



static int s_program_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int s_program_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("glci: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (usage: %s)\n", s_usage);
    return GLCI_EXIT_USAGE;
}

static const glci_cmd_t *s_lookup(const char *name)
{
    for (size_t i = 0; i < S_N_CMDS; i++)
        if (strcmp(s_cmds[i]->name, name) == 0)
            return s_cmds[i];
    return NULL;
}

/* Takes --store and --format (either spelling) out of argv wherever they
 * stand, before "--"; the rest keeps its order in rest. */
static int s_globals(int argc, char **argv, glci_cli_t *cli, char **rest, int *n_rest)
{
    const char *format = NULL;
    const char *store = NULL;
    int n = 0, done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        const char *val = NULL;
        const char *name = NULL;
        if (!done && strcmp(a, "--") == 0)
            done = 1;
        if (!done && (strcmp(a, "--store") == 0 || strncmp(a, "--store=", 8) == 0)) {
            slot = &store;
            name = "--store";
            val = a[7] == '=' ? a + 8 : NULL;
        } else if (!done && (strcmp(a, "--format") == 0 || strncmp(a, "--format=", 9) == 0)) {
            slot = &format;
            name = "--format";
            val = a[8] == '=' ? a + 9 : NULL;
        }
        if (!slot) {
            rest[n++] = argv[i];
            continue;
        }
        if (!val) {
            if (i + 1 >= argc)
                return s_program_usage("option %s needs a value", name);
            val = argv[++i];
        }
        if (*slot)
            return s_program_usage("option %s given twice", name);
        if (!*val)
            return s_program_usage("option %s needs a value", name);
        *slot = val;
    }
    rest[n] = NULL;
    *n_rest = n;
    cli->format = GLCI_FMT_TABLE;
    if (format && glci_format_parse(format, &cli->format) != 0)
        return s_program_usage("unknown format '%.80s' (table, json or csv; xlsx for export "
                               "and template)", format);
    if (!store)
        store = getenv("GLCI_STORE");
    if (!store || !*store)
        store = GLCI_DEFAULT_STORE;
    cli->store_dir = store;
    return 0;
}

int glci_cli_main(int argc, char **argv)
{
    glci_cli_t cli;
    char **rest = glci_xcalloc((size_t)argc + 1, sizeof *rest);
    const glci_cmd_t *cmd = NULL;
    int n = 0, werr;
    /* A reader that has gone (`glci ... | head`) is a write error, which
     * glci_output_check reports as one line and exit 1 (docs/CLI.md), not a
     * silent death by SIGPIPE. Inherited by glci-report through execv. */
    signal(SIGPIPE, SIG_IGN);
    int rc = s_globals(argc, argv, &cli, rest, &n);
    if (rc != 0)
        goto done;
    if (n == 0) {
        rc = s_program_usage("%s", "no command given");
        goto done;
    }
    if (strcmp(rest[0], "--help") == 0 || strcmp(rest[0], "-h") == 0 ||
        strcmp(rest[0], "help") == 0) {
        const glci_cmd_t *c = n > 1 ? s_lookup(rest[1]) : NULL;
        char name[32];
        if (n > 2 && s_is_group(rest[1])) {
            snprintf(name, sizeof name, "%s %s", rest[1], rest[2]);
            c = s_lookup(name);
        }
        char *help_argv[] = {(char *)"--help", NULL};
        if (c && !c->run) {
            /* a command whose code is in glci-report: its help is its
             * descriptor's, answered here without that program */
            glci_args_help(c, 1, help_argv);
            rc = GLCI_EXIT_OK;
        } else if (c) {
            rc = c->run(c, &cli, 1, help_argv);
        } else if (n > 1 && s_is_group(rest[1])) {
            s_group_help(rest[1]);
            rc = GLCI_EXIT_OK;
        } else if (n > 1) {
            rc = s_program_usage("unknown command '%.80s'", rest[1]);
        } else {
            s_program_help();
            rc = GLCI_EXIT_OK;
        }
        goto done;
    }
    if (strcmp(rest[0], "--version") == 0) {
        printf("glci 0.1.0\n");
        rc = GLCI_EXIT_OK;
        goto done;
    }
    int skip = 1;
    if (s_is_group(rest[0])) {
        char subs[256];
        s_group_subs(rest[0], subs, sizeof subs);
        if (n < 2) {
            rc = s_program_usage("%s needs a subcommand: %s", rest[0], subs);
            goto done;
        }
        if (strcmp(rest[1], "--help") == 0 || strcmp(rest[1], "-h") == 0) {
            s_group_help(rest[0]);
            rc = GLCI_EXIT_OK;
            goto done;
        }
        char name[64];
        snprintf(name, sizeof name, "%s %s", rest[0], rest[1]);
        cmd = s_lookup(name);
        if (!cmd) {
            rc = s_program_usage("unknown %s subcommand '%.80s' (%s)", rest[0], rest[1], subs);
            goto done;
        }
        skip = 2;
    } else {
        cmd = s_lookup(rest[0]);
        if (!cmd) {
            rc = s_program_usage("unknown command '%.80s'", rest[0]);
            goto done;
        }
    }
    if (cli.format == GLCI_FMT_XLSX && !cmd->xlsx) {
        rc = glci_usage_error(cmd, "%s", "--format xlsx is only for export and template");
        goto done;
    }
    if (glci_cli_documents_elsewhere(cmd, &cli)) {
        /* --help is the descriptor's text, which glci holds too: answered
         * here, so a glci without glci-report beside it (a copied binary)
         * still has every command's help (SPEC section 5) */
        int help = glci_args_help(cmd, n - skip, rest + skip);
        if (help != GLCI_ARGS_OK)
            rc = help == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
        else
            rc = glci_cli_documents_exec(cmd, argv);
        goto done;
    }
    rc = cmd->run(cmd, &cli, n - skip, rest + skip);
done:
    /* Lost output is a failure whatever the command returned (a command
     * whose JSON could not be written returns 1 without a line): one line,
     * unless the command printed its own already. */
    werr = glci_output_check(stdout);
    if (werr != 0) {
        if (!glci_error_printed()) {
            fprintf(stderr, "glci%s%s: cannot write the output: %s\n", cmd ? " " : "",
                    cmd ? cmd->name : "", strerror(werr));
        }
        rc = GLCI_EXIT_FAIL;
    }
    free(rest);
    return rc;
}

/* ---- Store access ----------------------------------------------------- */

static void s_store_note(void *arg, const char *line)
{
    fprintf(stderr, "glci %s: note: %s\n", ((const glci_cmd_t *)arg)->name, line);
}

/* What a writable open did to a store an earlier release left, said once
 * on stderr: the schema it converted it from, for good (the modes it took
 * away were said before the open: docs/OPERATIONS.md, "Upgrading"). */
static void s_say_upgrade(const glci_cmd_t *cmd, const glci_store_t *st)
{
    if (glci_store_schema_opened(st) != glci_store_schema(st))
        fprintf(stderr, "glci %s: note: store upgraded from schema %u to %u\n", cmd->name,
                glci_store_schema_opened(st), glci_store_schema(st));
}

int glci_cli_open(const glci_cmd_t *cmd, const glci_cli_t *cli, int rdonly,
                  glci_store_t **out)
{
    glci_store_opts_t opts = {.flags = rdonly ? GLCI_STORE_RDONLY : 0u};
    char err[512] = "";
    /* before the open: it opens and closes the store's files, and closing
     * a descriptor of lock.mdb would drop LMDB's locks on it */
    if (!rdonly)
        glci_store_tighten(cli->store_dir, s_store_note, (void *)cmd);
    int rc = glci_store_open(cli->store_dir, &opts, out, err, sizeof err);
    switch (rc) {
    case GLCI_STORE_OK:
        if (!rdonly)
            s_say_upgrade(cmd, *out);
        return 0;
    case GLCI_STORE_ENOENT:
        return glci_fail(cmd, "no store at %s", cli->store_dir);
    case GLCI_STORE_ESCHEMA:
        return glci_fail(cmd, "the store at %s was made by a newer schema; use a newer glci",
                         cli->store_dir);
    default:
        if (err[0]) {
            /* the store's line names the folder first: said once */
            size_t n = strlen(cli->store_dir);
            const char *why = err;
            if (strncmp(err, cli->store_dir, n) == 0 && err[n] == ':' && err[n + 1] == ' ')
                why = err + n + 2;
            return glci_fail(cmd, "cannot open the store at %s: %s", cli->store_dir, why);
        }
        return glci_fail(cmd, "cannot open the store at %s: %s", cli->store_dir,
                         glci_store_strerror(rc));
    }
}

int glci_cli_view(const glci_cmd_t *cmd, glci_store_t *st, glci_view_t **out)
{
    int rc = glci_view_begin(st, out);
    if (rc != 0)
        return glci_fail(cmd, "cannot read the store: %s", glci_store_strerror(rc));
    return 0;
}

int glci_cli_store_fail(const glci_cmd_t *cmd, const glci_cli_t *cli, int code,
                        const char *what)
{
    return glci_fail(cmd, "%s: %s (store %s)", what, glci_store_strerror(code),
                     cli->store_dir);
}

int glci_cli_default_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                            glci_period_choice_t *choice, int32_t *out)
{
    glci_period_choice_t c;
    int rc = glci_view_default_period(v, &c);
    if (rc == GLCI_STORE_ENODATA)
        return glci_fail(cmd, "no data in the store at %s yet", cli->store_dir);
    if (rc != 0)
        return glci_cli_store_fail(cmd, cli, rc, "cannot choose the period");
    if (choice)
        *choice = c;
    *out = c.period;
    return 0;
}

int glci_cli_city_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                         const char *city, int32_t P, int32_t *period,
                         const glci_result_t **r)
{
    glci_store_status_t s;
    int rc = glci_view_status(v, &s);
    if (rc != 0)
        return glci_cli_store_fail(cmd, cli, rc, "cannot read the store status");
    int32_t first = s.first_period ? s.first_period : P;
    int32_t last = s.last_period ? s.last_period : P;
    /* P, P - 1, ..., first, then P + 1, ..., last */
    for (int32_t p = P, step = -1; step < 0 ? p >= first : p <= last; p += step) {
        rc = glci_view_result(v, city, p, r);
        if (rc == 0) {
            *period = p;
            return 0;
        }
        if (rc != GLCI_STORE_ENODATA)
            return glci_cli_store_fail(cmd, cli, rc, "cannot read the result");
        if (step < 0 && p <= first) {
            step = 1;
            p = P;
        }
    }
    return glci_fail(cmd, "no data for city '%s'", city);
}

/* ---- The ranked results of one period ---------------------------------- */

typedef struct {
    glci_view_t *v;
    const glci_framework_t *fw;
    glci_period_t *p;
} s_load_t;

static int s_load_one(void *ctx, const glci_rank_row_t *rr)
{
    s_load_t *l = ctx;
    glci_period_t *p = l->p;
    const glci_result_t *r = NULL;
    int rc = glci_view_result(l->v, rr->city, p->period, &r);
    if (rc != 0)
        return rc;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->rows = glci_xrealloc(p->rows, p->cap * sizeof *p->rows);
    }
    glci_period_row_t *row = &p->rows[p->n++];
    memset(row, 0, sizeof *row);
    snprintf(row->city, sizeof row->city, "%s", rr->city);
    size_t size = glci_result_size(l->fw);
    row->result = glci_xmalloc(size);
    memcpy(row->result, r, size);
    row->index = rr->index;
    row->has_index = rr->has_index;
    row->coverage = rr->coverage;
    row->ranked = rr->rank != 0;
    row->rank = rr->rank;
    row->key = rr->score;
    return 0;
}

int glci_period_load(glci_view_t *v, const glci_framework_t *fw, int32_t period,
                     glci_period_t *out)
{
    memset(out, 0, sizeof *out);
    out->period = period;
    s_load_t l = {.v = v, .fw = fw, .p = out};
    glci_league_counts_t counts;
    int rc = glci_view_league(v, period, GLCI_RANK_INDEX, 0, 0, GLCI_LEAGUE_UNRANKED,
                              s_load_one, &l, &counts);
    if (rc != 0) {
        glci_period_release(out);
        return rc;
    }
    out->n_ranked = counts.ranked;
    return 0;
}

void glci_period_from_snapshot(glci_snapshot_t *s, glci_period_t *out)
{
    memset(out, 0, sizeof *out);
    out->period = s->period;
    out->n = out->cap = s->n;
    out->n_ranked = s->n_ranked;
    out->rows = glci_xcalloc(s->n ? s->n : 1, sizeof *out->rows);
    for (size_t i = 0; i < s->n; i++) {
        glci_period_row_t *row = &out->rows[i];
        const glci_snapshot_row_t *sr = &s->rows[i];
        snprintf(row->city, sizeof row->city, "%s", sr->city);
        row->result = sr->result;
        row->has_index = sr->result->has_index != 0;
        row->index = row->has_index ? sr->result->index : 0.0;
        row->coverage = sr->result->coverage;
        row->ranked = sr->rank != 0;
        row->rank = sr->rank;
        row->key = row->index;
    }
    free(s->rows);          /* the results now belong to out */
    memset(s, 0, sizeof *s);
}

void glci_period_release(glci_period_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->rows[i].result);
    free(p->rows);
    memset(p, 0, sizeof *p);
}
