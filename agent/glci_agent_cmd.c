/* glci-agent's commands: run (the daemon, glci_agent_daemon.c), push,
 * retract, status, keygen. See glci_agent_cmd.h and docs/AGENT.md. A `run` holds an
 * exclusive flock on OUTBOX/agent.lock while it lives; `status` tests it to
 * tell whether a daemon is running. */
#include "glci_agent_cmd.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_agent_csv.h"
#include "glci_agent_daemon.h"
#include "glci_agent_deadletter.h"
#include "glci_agent_spool.h"
#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_outbox.h"
#include "glci_output.h"
#include "glci_text.h"

/* The text of each command's --help, before the settings the table adds. */
static const char *s_usage_text(const char *command)
{
    if (!command)
        return "usage: glci-agent COMMAND [options]\n"
               "commands:\n"
               "  run                          the daemon: watch the spool, deliver the outbox\n"
               "  push INDICATOR PERIOD VALUE  queue one value (durable when it returns)\n"
               "  push --csv FILE              queue a whole CSV file\n"
               "  retract INDICATOR PERIOD     queue the withdrawal of a value sent before\n"
               "  status [--format F]          outbox depth, oldest undelivered, last ack, rejects\n"
               "  keygen --out FILE            create this city's key pair\n"
               "  enrol STRING                 enrol with the institute's enrolment string\n"
               "  check [--timeout S]          check settings, keys, folders, metrics file and\n"
               "                               a handshake with the collector\n"
               "Every command takes --help.\n";
    if (strcmp(command, "run") == 0)
        return "usage: glci-agent run [settings]\n"
               "Runs in the foreground: takes *.csv files from the spool folder into the\n"
               "outbox and delivers the outbox to the collector. SIGTERM stops at once,\n"
               "SIGHUP reloads the config file. Needs city, collector, outbox, spool and\n"
               "(unless --insecure) collector_key and key_file.\n";
    if (strcmp(command, "push") == 0)
        return "usage: glci-agent push INDICATOR PERIOD VALUE [--observed-at DATE] "
               "[--source TEXT] [settings]\n"
               "       glci-agent push --csv FILE [settings]\n"
               "Puts values into the outbox; they are durable when the command returns and\n"
               "the running daemon sends them. A CSV is taken whole or not at all.\n"
               "Needs the outbox setting.\n";
    if (strcmp(command, "retract") == 0)
        return "usage: glci-agent retract INDICATOR PERIOD [settings]\n"
               "Withdraws this city's current value of INDICATOR for PERIOD: queues a\n"
               "retraction (a revision without a value) in the outbox, durable when the\n"
               "command returns; the running daemon delivers it exactly once, like a value.\n"
               "The collector refuses it (into the dead-letter file) when it holds no\n"
               "value to withdraw. Needs the outbox setting.\n";
    if (strcmp(command, "status") == 0)
        return "usage: glci-agent status [--format table|json|csv] [settings]\n"
               "Prints the outbox depth, the oldest undelivered batch's age, the last ack,\n"
               "the daemon's connection state and the rejected-observation count.\n"
               "Needs the outbox setting.\n";
    if (strcmp(command, "enrol") == 0)
        return "usage: glci-agent enrol STRING|- [--config-out FILE] [--key-file FILE]\n"
               "                        [--timeout S] [settings]\n"
               "Enrols this city with the enrolment string the institute gave (`glci city\n"
               "add --invite`; - reads it from stdin): makes the key pair (key_file, mode\n"
               "0600, and key_file.pub), reaches the collector's enrolment endpoint over\n"
               "CURVE, authenticating it by the key in the string, proves the one-time\n"
               "secret, and writes the configuration: with --config-out a new FILE with\n"
               "everything `run` needs, else city, collector, collector_key and key_file\n"
               "set in place in the config file in use (default " GLCI_AGENT_DEFAULT_CONFIG ").\n"
               "Run as root, the key files are given to the owner of their folder.\n"
               "Prints the new key's fingerprint. Nothing is kept when it is refused.\n"
               "  --config-out FILE  write a new config file here\n"
               "  --key-file FILE    the key pair's place (default: key_file, else beside\n"
               "                     the config file as city.key)\n"
               "  --timeout S        seconds to wait for the collector (default 30)\n";
    if (strcmp(command, "check") == 0)
        return "usage: glci-agent check [--timeout S] [settings]\n"
               "Checks what run needs without running: the settings, the key files and\n"
               "their modes, the outbox and spool folders, the metrics file, and a real\n"
               "handshake with the collector within S seconds (default 10), telling a\n"
               "refused key, a failed handshake and no answer apart. One line per problem;\n"
               "exit 0 when there is none, else 1.\n";
    if (strcmp(command, "keygen") == 0)
        return "usage: glci-agent keygen --out FILE\n"
               "Creates this city's CURVE key pair: FILE (secret, mode 0600) and FILE.pub\n"
               "(public); prints the public key to give to the institute, and its\n"
               "fingerprint on stderr. Never overwrites.\n";
    return NULL;
}

void glci_agent_usage(const char *command, FILE *out)
{
    const char *text = s_usage_text(command);
    if (!text)
        text = s_usage_text(NULL);
    fputs(text, out);
    if (!command || strcmp(command, "keygen") != 0)
        glci_agent_config_help(out);
}

static int s_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int s_usage_error(const char *command, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "glci-agent %s: %s (see glci-agent %s --help)\n", command, msg, command);
    return 2;
}

/* ---- keygen -------------------------------------------------------------- */

int glci_agent_cmd_keygen(const glci_agent_config_t *cfg, int argc, char **argv)
{
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strncmp(argv[i], "--out=", 6) == 0)
            out = argv[i] + 6;
        else if (strcmp(argv[i], "--out") == 0)
            return s_usage_error("keygen", "%s needs a file name", "--out");
        else
            return s_usage_error("keygen", "unexpected argument '%s'", argv[i]);
    }
    if (!out || !*out)
        return s_usage_error("keygen", "%s FILE is required", "--out");
    char pubpath[GLCI_AGENT_PATH_MAX + 8], err[512];
    snprintf(pubpath, sizeof pubpath, "%s.pub", out);
    struct stat sb;
    if (lstat(pubpath, &sb) == 0) {
        fprintf(stderr, "glci-agent keygen: %s: already exists, not overwritten\n", pubpath);
        return 1;
    }
    glci_key_t pub, sec;
    if (glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(out, &pub, &sec, err, sizeof err) != 0) {
        fprintf(stderr, "glci-agent keygen: %s\n", err);
        return 1;
    }
    if (glci_keyfile_write_public(pubpath, &pub, err, sizeof err) != 0) {
        unlink(out);
        fprintf(stderr, "glci-agent keygen: %s\n", err);
        return 1;
    }
    memset(&sec, 0, sizeof sec);
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint(&pub, fp);
    /* the key on stdout alone (scripts take it as it is); its fingerprint,
     * to read back over the phone, on stderr */
    fprintf(stderr, "glci-agent keygen: key pair written to %s and %s; public key "
            "(fingerprint %s):\n", out, pubpath, fp);
    printf("%s\n", pub.z85);
    return 0;
}

/* ---- push ---------------------------------------------------------------- */

int glci_agent_outbox_city(const char *dir, char *city, size_t len)
{
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    glci_outbox_t *ob = NULL;
    glci_outbox_status_t st;
    char err[1024];
    city[0] = '\0';
    int rc = glci_outbox_open(dir, &o, &ob, err, sizeof err);
    if (rc == GLCI_OUTBOX_ENOENT)
        return 0;
    if (rc == 0)
        rc = glci_outbox_status(ob, &st);
    glci_outbox_close(&ob);
    if (rc != 0)
        return -1;
    snprintf(city, len, "%s", st.city);
    return city[0] ? 1 : 0;
}

static int s_open_outbox(const glci_agent_config_t *cfg, const char *command, unsigned flags,
                         glci_outbox_t **ob)
{
    char err[1024];
    if (!cfg->outbox[0]) {
        fprintf(stderr, "glci-agent %s: outbox is not set (config key outbox, or --outbox)\n",
                command);
        return 2;
    }
    /* push and retract claim the outbox for the configured city as run
     * does: values queued under one city's config never leave as
     * another's. status (NOCREATE) only reads it. */
    glci_outbox_opts_t o = {.limit = cfg->outbox_limit, .flags = flags,
                            .retain_s = cfg->retain, .retain_bytes = cfg->retain_bytes,
                            .city = (flags & GLCI_OUTBOX_NOCREATE) ? NULL : cfg->city};
    if (glci_outbox_open(cfg->outbox, &o, ob, err, sizeof err) != 0) {
        fprintf(stderr, "glci-agent %s: %s\n", command, err);
        return 1;
    }
    return 0;
}

static int s_append(glci_outbox_t *ob, const glci_agent_config_t *cfg,
                    const glci_obs_t *rows, size_t n, const char *what)
{
    uint64_t first = 0, last = 0;
    const char *cmd = rows[0].retract ? "retract" : "push";
    /* values larger than the limit on their own never fit, however much
     * is delivered: said first, whatever the outbox holds now */
    uint64_t need = glci_outbox_append_bytes(rows, n, cfg->batch_max);
    if (need > cfg->outbox_limit) {
        fprintf(stderr, "glci-agent %s: %s: not queued: its %zu value%s take %llu bytes, "
                "larger than the outbox size limit (%llu bytes) on its own; split it into "
                "smaller files\n", cmd, what, n, n == 1 ? "" : "s", (unsigned long long)need,
                (unsigned long long)cfg->outbox_limit);
        return 1;
    }
    int rc = glci_outbox_append(ob, rows, n, cfg->batch_max, (int64_t)time(NULL), NULL,
                                &first, &last);
    if (rc == GLCI_OUTBOX_EFULL) {
        fprintf(stderr, "glci-agent %s: %s: not queued: outbox %s has reached its size "
                "limit (%llu bytes); it drains as the collector acknowledges\n", cmd, what,
                cfg->outbox, (unsigned long long)cfg->outbox_limit);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "glci-agent %s: %s: not queued: %s: %s\n", cmd, what, cfg->outbox,
                glci_outbox_strerror(rc));
        return 1;
    }
    if (rows[0].retract)
        fprintf(stderr, "glci-agent retract: queued the %s as batch %llu\n", what,
                (unsigned long long)first);
    else if (first == last)
        fprintf(stderr, "glci-agent push: queued %zu value%s as batch %llu\n", n,
                n == 1 ? "" : "s", (unsigned long long)first);
    else
        fprintf(stderr, "glci-agent push: queued %zu values as batches %llu..%llu\n", n,
                (unsigned long long)first, (unsigned long long)last);
    return 0;
}

/* One value's spool row: the header, then the n fields quoted as RFC 4180
 * needs, whatever their length (a field is never dropped to fit). *len
 * gets the length; the caller frees. */
static char *s_csv_row(const char *const *fields, size_t n, size_t *len)
{
    static const char head[] = "indicator,period,value,observed_at,source\n";
    size_t cap = sizeof head;
    for (size_t i = 0; i < n; i++)
        cap += csv_write(NULL, 0, fields[i], strlen(fields[i])) + 1;
    char *buf = glci_xmalloc(cap);
    size_t used = sizeof head - 1;
    memcpy(buf, head, used);
    for (size_t i = 0; i < n; i++) {
        used += csv_write(buf + used, cap - used, fields[i], strlen(fields[i]));
        buf[used++] = i + 1 < n ? ',' : '\n';
    }
    *len = used;
    return buf;
}

/* push's own options: "--name VALUE" or "--name=VALUE", each at most once. */
enum { S_PUSH_CSV, S_PUSH_OBSERVED, S_PUSH_SOURCE, S_PUSH_N };

int glci_agent_cmd_push(const glci_agent_config_t *cfg, int argc, char **argv)
{
    static const char *const names[S_PUSH_N] = {"--csv", "--observed-at", "--source"};
    const char *val[S_PUSH_N] = {NULL, NULL, NULL};
    const char *pos[3];
    int n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k = 0, len = 0;
        for (; k < S_PUSH_N; k++) {
            len = strlen(names[k]);
            if (strncmp(a, names[k], len) == 0 && (a[len] == '\0' || a[len] == '='))
                break;
        }
        if (k < S_PUSH_N) {
            if (val[k])
                return s_usage_error("push", "%s given twice", names[k]);
            if (a[len] == '=')
                val[k] = a + len + 1;
            else if (i + 1 < argc)
                val[k] = argv[++i];
            else
                return s_usage_error("push", "%s needs a value", names[k]);
        } else if (strncmp(a, "--", 2) == 0 && a[2]) {
            return s_usage_error("push", "unknown option '%s'", a);
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            return s_usage_error("push", "unexpected argument '%s'", a);
        }
    }
    const char *csv_path = val[S_PUSH_CSV];
    const char *observed = val[S_PUSH_OBSERVED] ? val[S_PUSH_OBSERVED] : "";
    const char *source = val[S_PUSH_SOURCE] ? val[S_PUSH_SOURCE] : "";
    if (csv_path && n_pos)
        return s_usage_error("push", "%s takes no INDICATOR PERIOD VALUE", "--csv");
    /* a file's rows carry their own columns: an option for one value
     * would be dropped without a word */
    for (size_t k = S_PUSH_OBSERVED; csv_path && k < S_PUSH_N; k++)
        if (val[k])
            return s_usage_error("push", "%s does not apply with --csv (give the column "
                                 "in the file)", names[k]);
    if (!csv_path && n_pos != 3)
        return s_usage_error("push", "%s", "needs INDICATOR PERIOD VALUE, or --csv FILE");

    glci_agent_csv_t *csv = NULL;
    char err[1024], what[GLCI_AGENT_PATH_MAX + 16];
    int usage_on_error = 0;
    if (csv_path) {
        if (glci_agent_csv_read_file(csv_path, GLCI_AGENT_SPOOL_FILE_MAX,
                                     glci_agent_config_dialect(cfg), &csv, err,
                                     sizeof err) != 0) {
            fprintf(stderr, "glci-agent push: %s\n", err);
            return 1;
        }
        snprintf(what, sizeof what, "%s", strcmp(csv_path, "-") == 0 ? "stdin" : csv_path);
        csv_path = what;
    } else {
        /* One value goes through the same validation as a spool row, its
         * texts as given: a leading quote is the operator's, not one glci's
         * CSV writer put there */
        const char *fields[] = {pos[0], pos[1], pos[2], observed, source};
        size_t used;
        char *text = s_csv_row(fields, 5, &used);
        csv = glci_agent_csv_new_as(GLCI_AGENT_CSV_COMMA);
        glci_agent_csv_literal(csv);
        glci_agent_csv_feed(csv, text, used);
        glci_agent_csv_finish(csv);
        free(text);
        snprintf(what, sizeof what, "%s %s %s", pos[0], pos[1], pos[2]);
        usage_on_error = 1;
    }
    size_t n_err = glci_agent_csv_n_errors(csv);
    if (n_err) {
        char msg[1024];
        if (usage_on_error) {
            const char *e = glci_agent_csv_error(csv, 0);
            const char *colon = strchr(e, ':');
            snprintf(msg, sizeof msg, "%s", colon ? colon + 2 : e);
            fprintf(stderr, "glci-agent push: %s (see glci-agent push --help)\n", msg);
        } else {
            /* whole reasons only, as many as fit with room for the count
             * of the rest: a cut line must not read as complete */
            size_t used = 0, shown = 0;
            const size_t tail = 48;     /* "; and N more (the spool's NAME.errors ...)" */
            msg[0] = '\0';
            for (size_t i = 0; i < glci_agent_csv_n_listed(csv); i++) {
                const char *e = glci_agent_csv_error(csv, i);
                size_t need = strlen(e) + (i ? 2 : 0);
                if (used + need + tail >= sizeof msg)
                    break;
                used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s", i ? "; " : "", e);
                shown++;
            }
            if (shown < n_err)
                snprintf(msg + used, sizeof msg - used, "%sand %zu more not listed",
                         shown ? "; " : "", n_err - shown);
            fprintf(stderr, "glci-agent push: %s: %zu bad line%s, nothing queued: %s\n",
                    csv_path, n_err, n_err == 1 ? "" : "s", msg);
        }
        glci_agent_csv_free(&csv);
        return usage_on_error ? 2 : 1;
    }
    glci_outbox_t *ob = NULL;
    int rc = s_open_outbox(cfg, "push", 0, &ob);
    if (rc == 0) {
        const glci_obs_t *rows;
        size_t n = glci_agent_csv_rows(csv, &rows);
        size_t unfilled = glci_agent_csv_n_unfilled(csv);
        if (n == 0 && unfilled)
            fprintf(stderr, "glci-agent push: %s: no values: its %zu row%s left without "
                    "one; 0 values queued\n", what, unfilled, unfilled == 1 ? " was" : "s were");
        else if (n == 0)
            fprintf(stderr, "glci-agent push: %s: a header and no rows: 0 values queued\n",
                    what);
        else
            rc = s_append(ob, cfg, rows, n, what);
        if (n && rc == 0 && unfilled)
            fprintf(stderr, "glci-agent push: %s: %zu row%s left without a value, skipped\n",
                    what, unfilled, unfilled == 1 ? "" : "s");
    }
    glci_outbox_close(&ob);
    glci_agent_csv_free(&csv);
    return rc;
}

/* ---- retract -------------------------------------------------------------- */

int glci_agent_cmd_retract(const glci_agent_config_t *cfg, int argc, char **argv)
{
    const char *pos[2];
    int n_pos = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2])
            return s_usage_error("retract", "unknown option '%s'", argv[i]);
        if (n_pos == 2)
            return s_usage_error("retract", "unexpected argument '%s'", argv[i]);
        pos[n_pos++] = argv[i];
    }
    if (n_pos != 2)
        return s_usage_error("retract", "%s", "needs INDICATOR PERIOD");
    int64_t period;
    if (glci_parse_int64(pos[1], INT32_MIN, INT32_MAX, &period) != 0)
        return s_usage_error("retract", "period '%s' is not an integer year", pos[1]);
    /* The same shape check as every value; whether the collector holds a
     * value to withdraw is the collector's to say (a retraction of nothing
     * comes back as a dead letter). */
    glci_obs_t o = glci_obs_retraction(pos[0], period);
    char why[GLCI_REJECT_MESSAGE_MAX + 1];
    if (glci_obs_check(&o, why, sizeof why) != GLCI_REJECT_NONE)
        return s_usage_error("retract", "%s", why);
    glci_outbox_t *ob = NULL;
    char what[GLCI_OBS_INDICATOR_MAX + 48];
    snprintf(what, sizeof what, "retraction of %s %s", pos[0], pos[1]);
    int rc = s_open_outbox(cfg, "retract", 0, &ob);
    if (rc == 0)
        rc = s_append(ob, cfg, &o, 1, what);
    glci_outbox_close(&ob);
    return rc;
}

/* ---- status -------------------------------------------------------------- */

/* 1 if a `run` holds the outbox's lock, 0 if not. */
static void s_iso_or(int64_t t, const char *none, char *buf, size_t len)
{
    if (t)
        glci_format_iso_time(t, buf, len);
    else
        snprintf(buf, len, "%s", none);
}

/* How status shows the state word the daemon records: a handshake that
 * fails (the collector's key is not collector_key) and one the collector
 * refuses (it does not take this agent's key) are both `refused` (SPEC
 * §9), told apart by the reason; every other word is shown as it is. The
 * metrics file keeps the daemon's words (handshake_failed, docs/METRICS.md). */
static const struct {
    const char *word, *shown, *reason, *said;
} s_shown[] = {
    {"refused", "refused", "key-refused", "key refused"},
    {"handshake-failed", "refused", "handshake-failed", "handshake failed"},
};

/* The connection as status shows word: *reason and *said ("" for none) the
 * reason for JSON/CSV and for the table. */
static const char *s_shown_state(const char *word, const char **reason, const char **said)
{
    for (size_t i = 0; i < sizeof s_shown / sizeof s_shown[0]; i++)
        if (strcmp(word, s_shown[i].word) == 0) {
            *reason = s_shown[i].reason;
            *said = s_shown[i].said;
            return s_shown[i].shown;
        }
    *reason = *said = "";
    return word;
}

/* What status says beyond the outbox: why a connection is refused and when
 * the daemon tries again, and the fingerprints of the keys: while the
 * daemon runs, those it connects with (the outbox has them: a reload that
 * refused a changed key file kept the old key), else those configured. */
typedef struct {
    const char *reason;       /* "key-refused", "handshake-failed"; "" none */
    const char *said;         /* the same for the table; "" none */
    const char *detail;       /* "" none */
    char next_try[32];        /* ISO time, "" none */
    long long next_in;        /* seconds from now, >= 0 */
    char key_fp[GLCI_KEY_FP_LEN + 1];         /* "" when key_file is unset or unreadable */
    char collector_fp[GLCI_KEY_FP_LEN + 1];   /* "" likewise for collector_key */
    char key_problem[2048];   /* why key_file is not the key in use; "" none */
} s_status_extra_t;

/* The running daemon's key (in_use, Z85) against key_file as a reload
 * would take it (a secret key file no one else may read): the file's
 * problem, or that it holds another key, into x->key_problem. */
static void s_key_file_problem(const glci_agent_config_t *cfg, const char *in_use,
                               s_status_extra_t *x)
{
    glci_key_t pub, sec, used;
    char err[512];
    char fp[GLCI_KEY_FP_LEN + 1], file_fp[GLCI_KEY_FP_LEN + 1];
    int rc = glci_keyfile_read(cfg->key_file, &pub, &sec, err, sizeof err);
    sodium_memzero(&sec, sizeof sec);
    memcpy(used.z85, in_use, GLCI_Z85_KEY_LEN + 1);
    glci_key_fingerprint(&used, fp);
    if (rc != 0) {
        snprintf(x->key_problem, sizeof x->key_problem, "%s; the agent keeps key %s", err, fp);
    } else if (strcmp(pub.z85, in_use) != 0) {
        glci_key_fingerprint(&pub, file_fp);
        snprintf(x->key_problem, sizeof x->key_problem, "%s holds key %s, not the key in use "
                 "%s: the agent takes it at its next accepted reload", cfg->key_file, file_fp,
                 fp);
    }
}

static void s_status_extra(const glci_agent_config_t *cfg, const glci_outbox_status_t *st,
                           int running, int64_t now, s_status_extra_t *x)
{
    memset(x, 0, sizeof *x);
    x->detail = running ? st->state_detail : "";
    if (running && st->retry_at) {
        glci_format_iso_time(st->retry_at, x->next_try, sizeof x->next_try);
        x->next_in = st->retry_at > now ? (long long)(st->retry_at - now) : 0;
    }
    glci_key_t k;
    char err[512];
    if (running && st->key_in_use[0]) {
        memcpy(k.z85, st->key_in_use, GLCI_Z85_KEY_LEN + 1);
        glci_key_fingerprint(&k, x->key_fp);
        if (cfg->key_file[0])
            s_key_file_problem(cfg, st->key_in_use, x);
    } else if (cfg->key_file[0] &&
               glci_keyfile_read(cfg->key_file, &k, NULL, err, sizeof err) == 0) {
        glci_key_fingerprint(&k, x->key_fp);
    }
    if (running && st->server_in_use[0]) {
        memcpy(k.z85, st->server_in_use, GLCI_Z85_KEY_LEN + 1);
        glci_key_fingerprint(&k, x->collector_fp);
    } else if (cfg->collector_key[0] &&
               glci_key_from_text_or_file(cfg->collector_key, &k, err, sizeof err) == 0) {
        glci_key_fingerprint(&k, x->collector_fp);
    }
}

static json_t *s_json_text_or_null(const char *text)
{
    return text[0] ? json_string(text) : json_null();
}

/* An event the outbox counts: batches the collector lost, or retained ones
 * it asked for again. The last one's range, stream and time, and totals. */
typedef struct {
    uint64_t events, batches, stream, first, last;
    int64_t at;
} s_event_t;

static s_event_t s_lost_event(const glci_outbox_status_t *st)
{
    s_event_t e = {st->lost_events, st->lost_batches, st->lost_stream, st->lost_first,
                   st->lost_last, st->lost_at};
    return e;
}

static s_event_t s_resent_event(const glci_outbox_status_t *st)
{
    s_event_t e = {st->resent_events, st->resent_batches, st->resent_stream,
                   st->resent_first, st->resent_last, st->resent_at};
    return e;
}

/* {"events", "batches", "last_stream", "last_first", "last_last",
 * "last_at"}, or null when there was none. */
static json_t *s_json_event(const s_event_t *e)
{
    if (!e->events)
        return json_null();
    char stream[24], at[32];
    snprintf(stream, sizeof stream, "%016llx", (unsigned long long)e->stream);
    s_iso_or(e->at, "", at, sizeof at);
    return json_pack("{s:I, s:I, s:s, s:I, s:I, s:s}", "events", (json_int_t)e->events,
                     "batches", (json_int_t)e->batches, "last_stream", stream, "last_first",
                     (json_int_t)e->first, "last_last", (json_int_t)e->last, "last_at", at);
}

/* The table's line for an event: ITEM, "batches F..L of stream S, WHAT, at
 * T (N batches in M events)" and the advice, if any. */
static void s_table_event(glci_table_t *t, const char *item, const char *what,
                          const char *advice, const s_event_t *e)
{
    if (!e->events)
        return;
    char at[32];
    s_iso_or(e->at, "", at, sizeof at);
    glci_table_cell(t, item);
    glci_table_cellf(t, "batches %llu..%llu of stream %016llx, %s, at %s (%llu batch%s in "
                     "%llu event%s)%s", (unsigned long long)e->first,
                     (unsigned long long)e->last, (unsigned long long)e->stream, what, at,
                     (unsigned long long)e->batches, e->batches == 1 ? "" : "es",
                     (unsigned long long)e->events, e->events == 1 ? "" : "s", advice);
}

/* The retention part of the JSON form: what is retained now, the bounds
 * configured, and the collector's requests for retained batches. */
static void s_status_json_retained(json_t *j, const glci_agent_config_t *cfg,
                                   const glci_outbox_status_t *st)
{
    char oldest[32];
    s_iso_or(st->retained_oldest, "", oldest, sizeof oldest);
    s_event_t resent = s_resent_event(st);
    json_object_set_new(j, "retained_batches", json_integer((json_int_t)st->retained_batches));
    json_object_set_new(j, "retained_bytes", json_integer((json_int_t)st->retained_bytes));
    json_object_set_new(j, "retained_oldest", s_json_text_or_null(oldest));
    json_object_set_new(j, "retain_s", json_integer((json_int_t)cfg->retain));
    json_object_set_new(j, "retain_bytes", json_integer((json_int_t)cfg->retain_bytes));
    json_object_set_new(j, "collector_resent", s_json_event(&resent));
}

/* The JSON form: one object, keys in this order (docs/AGENT.md). */
static void s_status_json(const glci_agent_config_t *cfg, const glci_outbox_status_t *st,
                          const char *hex, int running, const char *conn, const char *since,
                          int64_t age, const char *oldest, const char *last_ack,
                          const char *dead, const char *clash_stream,
                          const char *clash_at, const s_status_extra_t *x)
{
    json_t *j = json_object();
    json_object_set_new(j, "outbox", json_string(cfg->outbox));
    json_object_set_new(j, "stream", json_string(hex));
    json_object_set_new(j, "running", json_boolean(running));
    json_object_set_new(j, "connection", json_string(conn));
    json_object_set_new(j, "connection_since", since[0] ? json_string(since) : json_null());
    json_object_set_new(j, "batches", json_integer((json_int_t)st->batches));
    json_object_set_new(j, "observations", json_integer((json_int_t)st->observations));
    json_object_set_new(j, "bytes", json_integer((json_int_t)st->bytes));
    json_object_set_new(j, "limit", json_integer((json_int_t)st->limit));
    json_object_set_new(j, "next_seq", json_integer((json_int_t)st->next_seq));
    json_object_set_new(j, "acked", json_integer((json_int_t)st->acked));
    json_object_set_new(j, "oldest_undelivered", age >= 0 ? json_string(oldest) : json_null());
    json_object_set_new(j, "oldest_age_s", age >= 0 ? json_integer(age) : json_null());
    json_object_set_new(j, "last_ack", last_ack[0] ? json_string(last_ack) : json_null());
    json_object_set_new(j, "rejects", json_integer((json_int_t)st->rejects));
    json_object_set_new(j, "quarantined", json_integer((json_int_t)st->quarantined));
    if (dead[0])
        json_object_set_new(j, "dead_letter_file", json_string(dead));
    s_event_t lost = s_lost_event(st);
    json_object_set_new(j, "collector_lost", s_json_event(&lost));
    json_object_set_new(j, "clash_events", json_integer((json_int_t)st->clash_events));
    json_object_set_new(j, "clash_stream",
                        st->clash_events ? json_string(clash_stream) : json_null());
    json_object_set_new(j, "clash_at", st->clash_events ? json_string(clash_at) : json_null());
    json_object_set_new(j, "dead_letters_pending", json_integer((json_int_t)st->dead_pending));
    s_status_json_retained(j, cfg, st);
    json_object_set_new(j, "connection_detail", s_json_text_or_null(x->detail));
    json_object_set_new(j, "connection_reason", s_json_text_or_null(x->reason));
    json_object_set_new(j, "next_try", s_json_text_or_null(x->next_try));
    json_object_set_new(j, "key_fingerprint", s_json_text_or_null(x->key_fp));
    json_object_set_new(j, "key_file_problem", s_json_text_or_null(x->key_problem));
    json_object_set_new(j, "collector_key_fingerprint", s_json_text_or_null(x->collector_fp));
    glci_json_print(&j, stdout);
}

/* The CSV form: a header and one row. */
static void s_status_csv(const glci_outbox_status_t *st, const char *hex, int running,
                         const char *conn, int64_t age, const char *oldest,
                         const char *last_ack, const char *clash_stream, const char *clash_at,
                         const s_status_extra_t *x)
{
    static const char *const h[] = {
        "stream", "running", "connection", "connection_detail", "next_try", "key_fingerprint",
        "collector_key_fingerprint", "batches", "observations", "bytes", "limit",
        "oldest_undelivered", "oldest_age_s", "last_ack", "acked", "rejects", "quarantined",
        "lost_events", "lost_batches", "clash_events", "clash_stream", "clash_at",
        "dead_letters_pending", "retained_batches", "retained_bytes", "retained_oldest",
        "resent_events", "resent_batches", "connection_reason", "key_file_problem"};
    glci_table_t *t = glci_table_new(sizeof h / sizeof h[0], h, NULL);
    glci_table_cell(t, hex);
    glci_table_cell(t, running ? "true" : "false");
    glci_table_cell(t, conn);
    glci_table_cell(t, x->detail);
    glci_table_cell(t, x->next_try);
    glci_table_cell(t, x->key_fp);
    glci_table_cell(t, x->collector_fp);
    glci_table_cellf(t, "%llu", (unsigned long long)st->batches);
    glci_table_cellf(t, "%llu", (unsigned long long)st->observations);
    glci_table_cellf(t, "%llu", (unsigned long long)st->bytes);
    glci_table_cellf(t, "%llu", (unsigned long long)st->limit);
    glci_table_cell(t, oldest);
    if (age >= 0)
        glci_table_cellf(t, "%lld", (long long)age);
    else
        glci_table_cell(t, "");   /* nothing undelivered: absent, as JSON's null */
    glci_table_cell(t, last_ack);
    glci_table_cellf(t, "%llu", (unsigned long long)st->acked);
    glci_table_cellf(t, "%llu", (unsigned long long)st->rejects);
    glci_table_cellf(t, "%llu", (unsigned long long)st->quarantined);
    glci_table_cellf(t, "%llu", (unsigned long long)st->lost_events);
    glci_table_cellf(t, "%llu", (unsigned long long)st->lost_batches);
    glci_table_cellf(t, "%llu", (unsigned long long)st->clash_events);
    glci_table_cell(t, clash_stream);
    glci_table_cell(t, st->clash_events ? clash_at : "");
    glci_table_cellf(t, "%llu", (unsigned long long)st->dead_pending);
    char oldest_retained[32];
    s_iso_or(st->retained_oldest, "", oldest_retained, sizeof oldest_retained);
    glci_table_cellf(t, "%llu", (unsigned long long)st->retained_batches);
    glci_table_cellf(t, "%llu", (unsigned long long)st->retained_bytes);
    glci_table_cell(t, oldest_retained);
    glci_table_cellf(t, "%llu", (unsigned long long)st->resent_events);
    glci_table_cellf(t, "%llu", (unsigned long long)st->resent_batches);
    glci_table_cell(t, x->reason);
    glci_table_cell(t, x->key_problem);
    glci_table_print_csv(t, stdout);
    glci_table_free(&t);
}

/* The table's retention lines: what is kept for resending, and the
 * collector's requests for it. */
static void s_status_table_retained(glci_table_t *t, const glci_agent_config_t *cfg,
                                    const glci_outbox_status_t *st)
{
    glci_table_cell(t, "retained");
    if (!cfg->retain || !cfg->retain_bytes)
        glci_table_cellf(t, "%llu batches, %llu bytes (retention off: retain or retain_bytes "
                         "is 0)", (unsigned long long)st->retained_batches,
                         (unsigned long long)st->retained_bytes);
    else if (st->retained_batches) {
        char oldest[32];
        glci_format_iso_time(st->retained_oldest, oldest, sizeof oldest);
        glci_table_cellf(t, "%llu batches (%llu..%llu), %llu of %llu bytes, the oldest "
                         "acknowledged at %s (kept %lld s)",
                         (unsigned long long)st->retained_batches,
                         (unsigned long long)st->retained_first,
                         (unsigned long long)st->retained_last,
                         (unsigned long long)st->retained_bytes,
                         (unsigned long long)cfg->retain_bytes, oldest, (long long)cfg->retain);
    } else {
        glci_table_cellf(t, "none yet (kept %lld s, at most %llu bytes)", (long long)cfg->retain,
                         (unsigned long long)cfg->retain_bytes);
    }
    s_event_t resent = s_resent_event(st);
    s_table_event(t, "RESENT", "lost by the collector after it acknowledged them and sent "
                  "again from the retained ones", "", &resent);
}

/* The form for people: one aligned line per item. */
static void s_status_table(const glci_agent_config_t *cfg, const glci_outbox_status_t *st,
                           const char *hex, const char *conn, const char *since, int64_t age,
                           const char *oldest, const char *last_ack, const char *dead,
                           const char *clash_at, const s_status_extra_t *x)
{
    glci_table_t *t = glci_table_new(2, (const char *const[]){"item", "value"}, NULL);
    glci_table_cell(t, "outbox");
    glci_table_cellf(t, "%s (stream %s)", cfg->outbox, hex);
    glci_table_cell(t, "connection");
    glci_table_cellf(t, "%s%s%s%s%s%s", conn, x->said[0] ? " (" : "", x->said,
                     x->said[0] ? ")" : "", since[0] ? " since " : "", since);
    if (x->detail[0]) {
        glci_table_cell(t, "reason");
        glci_table_cell(t, x->detail);
    }
    if (x->next_try[0]) {
        glci_table_cell(t, "next try");
        if (x->next_in > 0)
            glci_table_cellf(t, "%s (in %lld s)", x->next_try, x->next_in);
        else
            glci_table_cellf(t, "%s (now)", x->next_try);
    }
    if (x->key_fp[0]) {
        glci_table_cell(t, "key");
        glci_table_cellf(t, "%s (%s)", x->key_fp, cfg->key_file);
    }
    if (x->key_problem[0]) {
        glci_table_cell(t, "KEY FILE");
        glci_table_cell(t, x->key_problem);
    }
    if (x->collector_fp[0]) {
        glci_table_cell(t, "collector key");
        glci_table_cell(t, x->collector_fp);
    }
    glci_table_cell(t, "depth");
    glci_table_cellf(t, "%llu batches, %llu observations, %llu of %llu bytes",
                     (unsigned long long)st->batches, (unsigned long long)st->observations,
                     (unsigned long long)st->bytes, (unsigned long long)st->limit);
    glci_table_cell(t, "oldest");
    if (age >= 0)
        glci_table_cellf(t, "%s (%lld s ago)", oldest, (long long)age);
    else
        glci_table_cell(t, "-");
    glci_table_cell(t, "last ack");
    if (last_ack[0])
        glci_table_cellf(t, "%s (up to batch %llu)", last_ack, (unsigned long long)st->acked);
    else
        glci_table_cell(t, "never");
    glci_table_cell(t, "rejects");
    glci_table_cellf(t, "%llu%s%s%s", (unsigned long long)st->rejects, dead[0] ? " (in " : "",
                     dead, dead[0] ? ")" : "");
    if (st->dead_pending) {
        glci_table_cell(t, "DEAD PENDING");
        glci_table_cellf(t, "%llu rejected observation%s kept in the outbox, not yet written "
                         "to the dead-letter file", (unsigned long long)st->dead_pending,
                         st->dead_pending == 1 ? "" : "s");
    }
    if (st->quarantined) {
        glci_table_cell(t, "quarantined");
        glci_table_cellf(t, "%llu corrupt record%s kept aside",
                         (unsigned long long)st->quarantined, st->quarantined == 1 ? "" : "s");
    }
    s_event_t lost = s_lost_event(st);
    s_table_event(t, "LOST", "lost by the collector after it acknowledged them",
                  "; re-deliver those values", &lost);
    s_status_table_retained(t, cfg, st);
    if (st->clash_events) {
        glci_table_cell(t, "CLASH");
        glci_table_cellf(t, "the collector held other content under numbers of stream %016llx "
                         "(a cloned or copied outbox), at %s; the undelivered batches moved "
                         "onto a new stream (%llu time%s)", (unsigned long long)st->clash_stream,
                         clash_at, (unsigned long long)st->clash_events,
                         st->clash_events == 1 ? "" : "s");
    }
    glci_table_print_rows(t, stdout);
    glci_table_free(&t);
}

int glci_agent_cmd_status(const glci_agent_config_t *cfg, int argc, char **argv)
{
    const char *format = "table";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (strncmp(argv[i], "--format=", 9) == 0)
            format = argv[i] + 9;
        else
            return s_usage_error("status", "unexpected argument '%s'", argv[i]);
    }
    glci_format_t fmt;
    if (glci_format_parse(format, &fmt) != 0)
        return s_usage_error("status", "--format must be table, json or csv, not '%s'", format);

    /* the lock first: keys the outbox holds are the running daemon's only
     * if that run wrote them, and a run that starts after this look is
     * not taken for one that is there */
    char run[GLCI_OUTBOX_RUN_LEN + 1];
    int running = glci_agent_daemon_holder(cfg->outbox, run, sizeof run);
    glci_outbox_t *ob = NULL;
    int rc = s_open_outbox(cfg, "status", GLCI_OUTBOX_NOCREATE, &ob);
    if (rc != 0)
        return rc;
    glci_outbox_status_t st;
    rc = glci_outbox_status(ob, &st);
    glci_outbox_close(&ob);
    if (rc != 0) {
        fprintf(stderr, "glci-agent status: %s: %s\n", cfg->outbox, glci_outbox_strerror(rc));
        return 1;
    }
    if (!running || !run[0] || strcmp(st.keys_run, run) != 0) {
        st.key_in_use[0] = '\0';          /* not this run's: a run before left them */
        st.server_in_use[0] = '\0';
    }
    const char *conn = running ? (st.state[0] ? st.state : "starting") : "stopped";
    const char *reason, *said;
    conn = s_shown_state(conn, &reason, &said);
    int64_t now = (int64_t)time(NULL);
    int64_t age = st.oldest ? (now > st.oldest ? now - st.oldest : 0) : -1;
    char oldest[32], last_ack[32], since[32], dead[GLCI_AGENT_PATH_MAX + 32] = "";
    char clash_at[32];
    s_iso_or(st.clash_at, "", clash_at, sizeof clash_at);
    s_iso_or(st.oldest, "", oldest, sizeof oldest);
    s_iso_or(st.last_ack, "", last_ack, sizeof last_ack);
    s_iso_or(running ? st.state_since : 0, "", since, sizeof since);
    if (cfg->spool[0])
        glci_agent_deadletter_path(cfg->spool, dead, sizeof dead);

    char hex[24], clash_stream[24] = "";
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)st.stream);
    if (st.clash_events)
        snprintf(clash_stream, sizeof clash_stream, "%016llx",
                 (unsigned long long)st.clash_stream);
    s_status_extra_t x;
    s_status_extra(cfg, &st, running, now, &x);
    x.reason = reason;
    x.said = said;
    /* A write that fails is main's to report (glci_output_check), for
     * every format alike. */
    if (fmt == GLCI_FMT_JSON)
        s_status_json(cfg, &st, hex, running, conn, since, age, oldest, last_ack, dead,
                            clash_stream, clash_at, &x);
    else if (fmt == GLCI_FMT_CSV)
        s_status_csv(&st, hex, running, conn, age, oldest, last_ack, clash_stream, clash_at,
                     &x);
    else
        s_status_table(cfg, &st, hex, conn, since, age, oldest, last_ack, dead,
                       clash_at, &x);
    return 0;
}

/* ---- run ----------------------------------------------------------------- */

int glci_agent_cmd_run(glci_agent_config_t *cfg, int argc, char **argv)
{
    return glci_agent_daemon_run(cfg, argc, argv);
}
