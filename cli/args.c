/* Argument parsing and error lines shared by glci's commands: see cli.h.
 *
 * A small parser of its own rather than getopt_long: long options only,
 * "--name VALUE" and "--name=VALUE", positional arguments anywhere, "--"
 * ends options; every mistake is a one-line usage error. A negative number
 * is an argument, not an option; a value that is missing before another of
 * the command's options is said to be missing ("--name --country IE"),
 * rather than taken from it (--name=--country gives such a value). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "glci_text.h"

/* Set once a failure or usage line is on stderr (glci_error_printed). */
static int s_error_printed;

int glci_error_printed(void)
{
    return s_error_printed;
}

/* "glci CMD: MESSAGE", and " (usage: glci USAGE)" when usage is set, as
 * one line. */
static void s_vline(const glci_cmd_t *cmd, const char *usage, const char *fmt, va_list ap)
{
    s_error_printed = 1;
    fprintf(stderr, "glci %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    if (usage)
        fprintf(stderr, " (usage: glci %s)", usage);
    fputc('\n', stderr);
}

int glci_usage_error(const glci_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vline(cmd, cmd->usage, fmt, ap);
    va_end(ap);
    return GLCI_EXIT_USAGE;
}

int glci_fail(const glci_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vline(cmd, NULL, fmt, ap);
    va_end(ap);
    return GLCI_EXIT_FAIL;
}

static void s_help(const glci_cmd_t *cmd)
{
    printf("usage: glci %s\n\n%s\n", cmd->usage, cmd->help);
    printf("\nGlobal options (anywhere on the line):\n"
           "  --store DIR       the store (default $GLCI_STORE, else %s)\n"
           "  --format FORMAT   table (default), json or csv\n"
           "  --help            this text\n", GLCI_DEFAULT_STORE);
}

int glci_args_help(const glci_cmd_t *cmd, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_help(cmd);
            return GLCI_ARGS_HELP;
        }
        if (strncmp(a, "--help=", 7) == 0) {
            glci_usage_error(cmd, "option --help takes no value");
            return GLCI_ARGS_BAD;
        }
    }
    return GLCI_ARGS_OK;
}

static glci_opt_t *s_find(glci_opt_t *opts, size_t n_opts, const char *name, size_t len)
{
    for (size_t i = 0; i < n_opts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* A negative number ("-3.5", "-0", "-.5") is an argument, never an option:
 * no option name starts with a digit or a dot. */
static int s_is_number(const char *a)
{
    return a[0] == '-' && ((a[1] >= '0' && a[1] <= '9') || a[1] == '.');
}

/* Whether a is one of the command's own options ("--name" or
 * "--name=..."), for a value that is missing before it. */
static int s_is_option(glci_opt_t *opts, size_t n_opts, const char *a)
{
    if (strncmp(a, "--", 2) != 0)
        return 0;
    const char *name = a + 2, *eq = strchr(name, '=');
    return s_find(opts, n_opts, name, eq ? (size_t)(eq - name) : strlen(name)) != NULL;
}

int glci_args_parse(const glci_cmd_t *cmd, int argc, char **argv,
                    glci_opt_t *opts, size_t n_opts, const char **pos,
                    size_t min_pos, size_t max_pos, size_t *n_pos)
{
    size_t np = 0;
    int options_done = 0;
    for (size_t i = 0; i < n_opts; i++) {
        opts[i].value = NULL;
        opts[i].seen = 0;
    }
    int help = glci_args_help(cmd, argc, argv);
    if (help != GLCI_ARGS_OK)
        return help;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = 1;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0' && !s_is_number(a)) {
            if (a[1] != '-') {
                glci_usage_error(cmd, "unknown option '%.80s'", a);
                return GLCI_ARGS_BAD;
            }
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            glci_opt_t *o = s_find(opts, n_opts, name, len);
            if (!o) {
                glci_usage_error(cmd, "unknown option '--%.*s'", len > 80 ? 80 : (int)len, name);
                return GLCI_ARGS_BAD;
            }
            if (o->seen) {
                glci_usage_error(cmd, "option --%s given twice", o->name);
                return GLCI_ARGS_BAD;
            }
            o->seen = 1;
            if (!o->has_arg) {
                if (eq) {
                    glci_usage_error(cmd, "option --%s takes no value", o->name);
                    return GLCI_ARGS_BAD;
                }
                o->value = "";
            } else if (eq) {
                o->value = eq + 1;
            } else if (i + 1 < argc && !s_is_option(opts, n_opts, argv[i + 1])) {
                o->value = argv[++i];
            } else {
                glci_usage_error(cmd, "option --%s needs a value", o->name);
                return GLCI_ARGS_BAD;
            }
            continue;
        }
        if (np == max_pos) {
            glci_usage_error(cmd, "unexpected argument '%.80s'", a);
            return GLCI_ARGS_BAD;
        }
        pos[np++] = a;
    }
    if (np < min_pos) {
        glci_usage_error(cmd, "missing %s", np < 3 && cmd->pos[np] ? cmd->pos[np] : "argument");
        return GLCI_ARGS_BAD;
    }
    if (n_pos)
        *n_pos = np;
    return GLCI_ARGS_OK;
}

/* A period as the command line gives one: a year within [0, 9999]. */
static int s_period(const char *text, int32_t *out)
{
    int64_t v;
    if (glci_parse_int64(text, 0, 9999, &v) != 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

int glci_args_period(const glci_cmd_t *cmd, const char *text, int32_t *out)
{
    if (s_period(text, out) != 0)
        return glci_usage_error(cmd, "invalid period '%.80s' (a year such as 2025)", text);
    return 0;
}

int glci_args_period_opt(const glci_cmd_t *cmd, const glci_opt_t *opt, int32_t *out)
{
    if (s_period(opt->value, out) != 0)
        return glci_usage_error(cmd, "invalid --%s '%.80s' (a year such as 2025)", opt->name,
                                opt->value);
    return 0;
}

int glci_args_limit(const glci_cmd_t *cmd, const glci_opt_t *opt, size_t *out)
{
    int64_t v;
    if (glci_parse_int64(opt->value, 1, INT32_MAX, &v) != 0)
        return glci_usage_error(cmd, "invalid --%s '%.80s' (a whole number from 1 to %d)",
                                opt->name, opt->value, INT32_MAX);
    *out = (size_t)v;
    return 0;
}

int glci_args_out(const glci_cmd_t *cmd, const glci_opt_t *opt)
{
    if (!opt->seen || strcmp(opt->value, "-") != 0)
        return 0;
    return glci_usage_error(cmd, "--%s -: this command writes a file, not standard output "
                            "(give a path; ./- for a file named -)", opt->name);
}

int glci_usage_bad_city(const glci_cmd_t *cmd, const char *id)
{
    char why[256];
    glci_city_id_check(id, why, sizeof why);
    return glci_usage_error(cmd, "%s", why);
}
