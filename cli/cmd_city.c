/* glci city add / list / revoke: registering cities with their agents'
 * public keys (generating the pair when the institute makes it), listing
 * them with their traffic, and revoking them. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_keyfile.h"

/* Checks the pair --public-key Z85 | --key-out FILE of city add and
 * key-add: exactly one, a valid key, a non-empty file name. Returns
 * GLCI_EXIT_OK or the usage error's exit status. */
static int s_key_opts(const glci_cmd_t *cmd, const glci_opt_t *pk, const glci_opt_t *out)
{
    if (pk->seen && out->seen)
        return glci_usage_error(cmd, "give either --public-key or --key-out, not both");
    if (!pk->seen && !out->seen)
        return glci_usage_error(cmd, "give --public-key Z85 or --key-out FILE%s",
                                strcmp(cmd->name, "city add") == 0 ? " (or --invite)" : "");
    if (pk->seen && !glci_key_valid(pk->value))
        return glci_usage_error(cmd, "invalid public key '%.80s' (40 characters of Z85 text)",
                                pk->value);
    if (out->seen && !*out->value)
        return glci_usage_error(cmd, "option --key-out needs a file name");
    return GLCI_EXIT_OK;
}

/* The city's public key: the one given, or a new pair whose secret half is
 * written to key_out first (mode 0600, never over an existing file), so a
 * failure to write it registers nothing. Sets *made_file when the caller
 * must remove key_out again if registering fails. Returns 0, or -1 after
 * printing the error. */
static int s_key_make(const glci_cmd_t *cmd, const glci_cli_t *cli, const char *given,
                      const char *key_out, glci_key_t *pub, int *made_file)
{
    if (!key_out) {
        /* the collector's own key pasted in place of the agent's: no agent
         * could ever use it (only the collector has its secret half) */
        static const char *const own[] = {"collector.pub", "collector.previous.pub"};
        for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
            char path[4096], err[512];
            glci_key_t c;
            snprintf(path, sizeof path, "%s/%s", cli->store_dir, own[i]);
            if (access(path, F_OK) == 0 &&
                glci_keyfile_read(path, &c, NULL, err, sizeof err) == 0 &&
                strcmp(c.z85, given) == 0)
                return glci_fail(cmd, "public key %s is the collector's own (%s), not an "
                                 "agent's: give the key glci-agent keygen printed", given,
                                 own[i]);
        }
        snprintf(pub->z85, sizeof pub->z85, "%s", given);
        return 0;
    }
    glci_key_t sec;
    char err[512] = "";
    int rc = 0;
    if (glci_key_generate(pub, &sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(key_out, pub, &sec, err, sizeof err) != 0) {
        glci_fail(cmd, "%s", err);
        rc = -1;
    } else {
        *made_file = 1;
    }
    memset(&sec, 0, sizeof sec);
    return rc;
}

static int s_add(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "name", .has_arg = 1},
        {.name = "country", .has_arg = 1},
        {.name = "public-key", .has_arg = 1},
        {.name = "key-out", .has_arg = 1},
        {.name = "invite", .has_arg = 0},
        {.name = "expires", .has_arg = 1},
        {.name = "host", .has_arg = 1},
    };
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 7, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    const char *id = pos[0];
    char country[GLCI_COUNTRY_MAX + 1], why[256];
    /* The store's rules, asked before the store is opened; its message is
     * the one printed (a bad id is named before a missing option). */
    int id_ok = glci_city_id_valid(id);
    if (id_ok && !opts[0].seen)
        return glci_usage_error(cmd, "missing --name NAME");
    if (id_ok && !opts[1].seen)
        return glci_usage_error(cmd, "missing --country CC");
    if (glci_city_check(id, opts[0].value, opts[1].value, country, why, sizeof why) != 0)
        return glci_usage_error(cmd, "%s", why);
    if (opts[4].seen) {
        /* the city's agent makes its own key when it enrols */
        if (opts[2].seen || opts[3].seen)
            return glci_usage_error(cmd, "--invite makes no key here: give it without "
                                    "--public-key or --key-out");
        return glci_cli_invite(cmd, cli, id, opts[0].value, country,
                               opts[5].seen ? opts[5].value : NULL,
                               opts[6].seen ? opts[6].value : NULL);
    }
    if (opts[5].seen || opts[6].seen)
        return glci_usage_error(cmd, "--expires and --host go with --invite");
    rc = s_key_opts(cmd, &opts[2], &opts[3]);
    if (rc != GLCI_EXIT_OK)
        return rc;
    const char *key_out = opts[3].seen ? opts[3].value : NULL;

    glci_store_t *st = NULL;
    glci_key_t pub;
    int made_file = 0;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        goto cleanup;
    if (s_key_make(cmd, cli, opts[2].seen ? opts[2].value : NULL, key_out, &pub, &made_file) != 0)
        goto cleanup;
    rc = glci_store_city_add(st, id, opts[0].value, country, pub.z85, why, sizeof why);
    if (rc != 0) {
        glci_fail(cmd, "%s", why);
        goto cleanup;
    }
    made_file = 0;
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint(&pub, fp);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", id, "name",
                              opts[0].value, "country", country, "public_key", pub.z85,
                              "fingerprint", fp, "key_file",
                              key_out ? json_string(key_out) : json_null());
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        fputs("id,public_key\r\n", stdout);
        glci_csv_field(stdout, id);
        fputc(',', stdout);
        glci_csv_field(stdout, pub.z85);
        fputs("\r\n", stdout);
        status = GLCI_EXIT_OK;
    } else {
        if (key_out)
            fprintf(stderr, "glci city add: city '%s' registered; its secret key is in %s "
                            "(give it to the city's agent); public key (fingerprint %s):\n",
                    id, key_out, fp);
        else
            fprintf(stderr, "glci city add: city '%s' registered with key %s\n", id, fp);
        printf("%s\n", pub.z85);
        status = GLCI_EXIT_OK;
    }
cleanup:
    if (made_file)
        unlink(key_out);
    glci_store_close(&st);
    return status;
}

/* The number of keys city id has now, or -1 if it cannot be read. */
static long s_n_keys(glci_store_t *st, const char *id)
{
    glci_view_t *v = NULL;
    glci_city_t c;
    long n = -1;
    if (glci_view_begin(st, &v) == 0 && glci_view_city(v, id, &c) == 0)
        n = (long)c.n_keys;
    glci_view_end(&v);
    return n;
}

/* The failure of a key call: the store's own line naming what is wrong. */
static int s_key_fail(const glci_cmd_t *cmd, const glci_cli_t *cli, const char *why,
                      int rc, const char *what)
{
    if (why[0])
        return glci_fail(cmd, "%s", why);
    return glci_cli_store_fail(cmd, cli, rc, what);
}

/* Prints the result of a key change: JSON {id, public_key, ..., keys},
 * CSV id,public_key,keys, or a line for people. */
static int s_key_print(const glci_cli_t *cli, const char *id, const char *pub,
                       json_t *extra, long n_keys)
{
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(id));
        json_object_set_new(j, "public_key", json_string(pub));
        json_object_update(j, extra);
        json_object_set_new(j, "keys", n_keys >= 0 ? json_integer(n_keys) : json_null());
        json_decref(extra);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    json_decref(extra);
    if (cli->format == GLCI_FMT_CSV) {
        fputs("id,public_key,keys\r\n", stdout);
        glci_csv_field(stdout, id);
        fputc(',', stdout);
        glci_csv_field(stdout, pub);
        if (n_keys >= 0)
            printf(",%ld\r\n", n_keys);
        else
            fputs(",\r\n", stdout);
    }
    return GLCI_EXIT_OK;
}

static int s_key_add(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "public-key", .has_arg = 1},
        {.name = "key-out", .has_arg = 1},
    };
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 2, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    const char *id = pos[0];
    if (!glci_city_id_valid(id))
        return glci_usage_bad_city(cmd, id);
    rc = s_key_opts(cmd, &opts[0], &opts[1]);
    if (rc != GLCI_EXIT_OK)
        return rc;
    const char *key_out = opts[1].seen ? opts[1].value : NULL;

    glci_store_t *st = NULL;
    glci_key_t pub;
    int made_file = 0;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        goto cleanup;
    if (s_key_make(cmd, cli, opts[0].seen ? opts[0].value : NULL, key_out, &pub, &made_file) != 0)
        goto cleanup;
    char why[256] = "";
    rc = glci_store_city_key_add(st, id, pub.z85, why, sizeof why);
    if (rc != 0) {
        s_key_fail(cmd, cli, why, rc, "cannot add the key");
        goto cleanup;
    }
    made_file = 0;
    long n = s_n_keys(st, id);
    if (cli->format == GLCI_FMT_TABLE) {
        if (key_out)
            fprintf(stderr, "glci city key-add: key added to city '%s' (%ld keys); its "
                            "secret key is in %s (give it to the city's agent); public key:\n",
                    id, n, key_out);
        printf("%s\n", pub.z85);
    }
    status = s_key_print(cli, id, pub.z85,
                         json_pack("{s:o}", "key_file",
                                   key_out ? json_string(key_out) : json_null()), n);
cleanup:
    if (made_file)
        unlink(key_out);
    glci_store_close(&st);
    return status;
}

static int s_key_remove(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "public-key", .has_arg = 1},
    };
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 1, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    const char *id = pos[0];
    if (!glci_city_id_valid(id))
        return glci_usage_bad_city(cmd, id);
    if (!opts[0].seen)
        return glci_usage_error(cmd, "missing --public-key Z85 (the key to remove)");
    if (!glci_key_valid(opts[0].value))
        return glci_usage_error(cmd, "invalid public key '%.80s' (40 characters of Z85 text)",
                                opts[0].value);
    const char *pub = opts[0].value;

    glci_store_t *st = NULL;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        goto cleanup;
    char why[256] = "";
    rc = glci_store_city_key_remove(st, id, pub, why, sizeof why);
    if (rc != 0) {
        s_key_fail(cmd, cli, why, rc, "cannot remove the key");
        goto cleanup;
    }
    long n = s_n_keys(st, id);
    if (cli->format == GLCI_FMT_TABLE) {
        printf("key %s removed from city %s: new connections refused; %ld key%s left\n",
               pub, id, n, n == 1 ? "" : "s");
        if (n == 0)
            fprintf(stderr, "glci city key-remove: city '%s' has no key left: its agent "
                            "cannot connect until one is added (glci city key-add)\n", id);
    }
    status = s_key_print(cli, id, pub, json_pack("{s:b}", "removed", 1), n);
cleanup:
    glci_store_close(&st);
    return status;
}

typedef struct {
    glci_format_t format;
    json_t *rows;
    glci_table_t *table;
    /* the current round (SPEC §7): the status of the row being listed */
    int has_round, past_due;
    int32_t round;
    glci_round_status_t status;
} s_list_t;

/* The round's status of a city for people and CSV: "complete", ... */
static void s_list_round(const s_list_t *l, const glci_city_t *c)
{
    int overdue = l->past_due && l->status != GLCI_ROUND_COMPLETE && c->active;
    if (!l->has_round) {
        glci_table_cell(l->table, "");
        glci_table_cell(l->table, "");
    } else if (l->format == GLCI_FMT_CSV) {
        glci_table_cell(l->table, glci_round_status_str(l->status));
        glci_table_cell(l->table, overdue ? "true" : "false");
    } else {
        glci_table_cellf(l->table, "%d %s", (int)l->round, glci_round_status_str(l->status));
        glci_table_cell(l->table, overdue ? "OVERDUE" : "");
    }
}

static int s_list_one(void *ctx, const glci_city_t *c)
{
    s_list_t *l = ctx;
    if (l->rows) {
        json_t *row = json_pack(
            "{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:o}", "id", c->id, "name", c->name,
            "country", c->country, "active", c->active, "batches", (json_int_t)c->batches,
            "observations", (json_int_t)c->observations, "rejects", (json_int_t)c->rejects,
            "keys", (json_int_t)c->n_keys, "last_seen", glci_json_time(c->last_seen));
        json_object_set_new(row, "round", l->has_round ? json_integer(l->round) : json_null());
        json_object_set_new(row, "status", l->has_round
                                               ? json_string(glci_round_status_str(l->status))
                                               : json_null());
        json_object_set_new(row, "overdue", json_boolean(l->has_round && l->past_due &&
                                                         l->status != GLCI_ROUND_COMPLETE &&
                                                         c->active));
        json_array_append_new(l->rows, row);
        return 0;
    }
    char when[40];
    glci_table_cell(l->table, c->id);
    glci_table_cell(l->table, c->name);
    glci_table_cell(l->table, c->country);
    glci_table_cell(l->table, l->format == GLCI_FMT_CSV ? (c->active ? "true" : "false")
                                                        : (c->active ? "yes" : "REVOKED"));
    glci_table_cellf(l->table, "%llu", (unsigned long long)c->batches);
    glci_table_cellf(l->table, "%llu", (unsigned long long)c->observations);
    glci_table_cellf(l->table, "%llu", (unsigned long long)c->rejects);
    if (l->format == GLCI_FMT_CSV && c->last_seen == 0)
        when[0] = '\0';
    else
        glci_fmt_time(c->last_seen, when, sizeof when);
    glci_table_cell(l->table, when);
    s_list_round(l, c);
    if (l->format == GLCI_FMT_CSV) {
        /* columns added after the first release's, at the end of the row */
        if (l->has_round)
            glci_table_cellf(l->table, "%d", (int)l->round);
        else
            glci_table_cell(l->table, "");
        glci_table_cellf(l->table, "%u", (unsigned)c->n_keys);
    }
    return 0;
}

static int s_list_row(void *ctx, const glci_round_row_t *r)
{
    s_list_t *l = ctx;
    l->status = r->status;
    return s_list_one(ctx, r->city);
}

static int s_list(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    static const char *const headers[] = {"id", "name", "country", "active", "batches",
                                          "observations", "rejects", "last_seen", "round",
                                          "overdue"};
    /* JSON's field names; columns added later go at the end */
    static const char *const csv_headers[] = {"id", "name", "country", "active", "batches",
                                              "observations", "rejects", "last_seen", "status",
                                              "overdue", "round", "keys"};
    s_list_t l = {.format = cli->format};
    if (cli->format == GLCI_FMT_JSON)
        l.rows = json_array();
    else if (cli->format == GLCI_FMT_CSV)
        l.table = glci_table_new(12, csv_headers, NULL);
    else
        l.table = glci_table_new(10, headers, "llllrrrlll");
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    /* Each city's status for the current round (glci missing has the rest). */
    const glci_framework_t *fw = glci_store_framework(st);
    int64_t now = (int64_t)time(NULL);
    l.has_round = glci_round_current(fw, now, &l.round) == 0;
    l.past_due = l.has_round && glci_round_past_due(fw, l.round, now);
    rc = l.has_round ? glci_view_round(v, l.round, s_list_row, &l)
                     : glci_view_cities(v, s_list_one, &l);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the cities");
        goto cleanup;
    }
    if (l.rows) {
        json_t *j = json_pack("{s:O}", "cities", l.rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_print_csv(l.table, stdout);
        status = GLCI_EXIT_OK;
    } else {
        if (glci_table_rows(l.table) == 0)
            printf("no cities registered\n");
        else
            glci_table_print_text(l.table, stdout);
        status = GLCI_EXIT_OK;
    }
cleanup:
    json_decref(l.rows);
    glci_table_free(&l.table);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

static int s_revoke(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (glci_city_id_check(pos[0], NULL, 0) != 0)
        return glci_usage_bad_city(cmd, pos[0]);
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        return GLCI_EXIT_FAIL;
    int status = GLCI_EXIT_FAIL;
    size_t n = 0;
    rc = glci_store_city_revoke_invites(st, pos[0], &n, NULL, 0);
    if (rc == GLCI_STORE_ENOCITY || rc == GLCI_STORE_EINVAL) {
        glci_fail(cmd, "no such city '%s'", pos[0]);
    } else if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot revoke the city");
    } else if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:b, s:I}", "id", pos[0], "active", 0,
                              "invitations_withdrawn", (json_int_t)n);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        fputs("id,active,invitations_withdrawn\r\n", stdout);
        glci_csv_field(stdout, pos[0]);
        printf(",false,%zu\r\n", n);
        status = GLCI_EXIT_OK;
    } else {
        /* The withdrawal is said every time: an operator revoking a
         * compromised city needs to know no string of it is left. */
        printf("city %s revoked: its keys are refused from now on, and its open enrolment "
               "strings are withdrawn (%zu)\n", pos[0], n);
        status = GLCI_EXIT_OK;
    }
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_city_add = {
    .name = "city add",
    .usage = "city add ID --name NAME --country CC (--invite [--expires 14d] [--host NAME] | "
             "--public-key Z85 | --key-out FILE)",
    .summary = "register a city with an enrolment string or its agent's key",
    .help =
        "Registers city ID (lower-case letters, digits, '.', '_', '-'). With\n"
        "--invite, prints an enrolment string for the city's agent (`glci-agent\n"
        "enrol STRING` on its machine makes the key pair and registers it; the\n"
        "string works once, until it expires). Or with its agent's public CURVE\n"
        "key: --public-key, the key the city made (glci-agent keygen), checked\n"
        "and registered; --key-out, the pair made here, the secret key written to\n"
        "FILE (mode 0600, never over an existing file) for the city's agent, and\n"
        "the public key printed (its fingerprint on stderr).\n\n"
        "Options:\n"
        "  --name NAME        the city's name, as shown in league tables\n"
        "  --country CC       country code, e.g. IE\n"
        "  --invite           print an enrolment string (see glci city invite --help)\n"
        "  --expires D        with --invite: valid for D (default 14d)\n"
        "  --host NAME        with --invite: the collector's host name for agents\n"
        "  --public-key Z85   the agent's public key (40 characters)\n"
        "  --key-out FILE     generate the pair; write the secret key file here",
    .pos = {"ID"},
    .run = s_add,
};

const glci_cmd_t glci_cmd_city_list = {
    .name = "city list",
    .usage = "city list",
    .summary = "list cities with last seen, batches, observations, rejects",
    .help = "Lists every registered city in id order: name, country, whether it is\n"
            "active, batches and observations applied (revisions included),\n"
            "rejected observations, when it last delivered a batch (UTC), and its\n"
            "status for the current round (complete, partial or missing; overdue\n"
            "once the round is past due and it is not complete: see glci missing).",
    .run = s_list,
};

const glci_cmd_t glci_cmd_city_revoke = {
    .name = "city revoke",
    .usage = "city revoke ID",
    .summary = "revoke a city: its keys are refused at once",
    .help = "Marks city ID inactive: new connections and every further batch from\n"
            "its keys are refused at once, and its open enrolment strings are\n"
            "withdrawn (reinstating it does not revive them: `glci city invite`\n"
            "makes a new one). Its data stays in the store, and tables as of an\n"
            "earlier time still count it as active then.",
    .pos = {"ID"},
    .run = s_revoke,
};

const glci_cmd_t glci_cmd_city_key_add = {
    .name = "city key-add",
    .usage = "city key-add ID (--public-key Z85 | --key-out FILE)",
    .summary = "register another key for a city (key rotation)",
    .help =
        "Registers another public CURVE key for city ID, next to the keys it\n"
        "has: the agent may connect with either until the old one is removed\n"
        "(glci city key-remove), so a rotation has no gap. With --public-key\n"
        "the key the city made (glci-agent keygen) is checked and registered;\n"
        "with --key-out the pair is made here, the secret key written to FILE\n"
        "(mode 0600, never over an existing file) and the public key printed.\n"
        "A key registered already, to this or another city, is refused.\n\n"
        "Options:\n"
        "  --public-key Z85   the agent's new public key (40 characters)\n"
        "  --key-out FILE     generate the pair; write the secret key file here",
    .pos = {"ID"},
    .run = s_key_add,
};

const glci_cmd_t glci_cmd_city_key_remove = {
    .name = "city key-remove",
    .usage = "city key-remove ID --public-key Z85",
    .summary = "remove one of a city's keys (new connections refused)",
    .help =
        "Removes the public key Z85 from city ID: new connections under that\n"
        "key are refused at once (one already open is not cut: revoke the city\n"
        "for that); the city's other keys keep working. Removing the last key is allowed (a note says so):\n"
        "the city then cannot deliver until a key is added again. The key must\n"
        "be registered to ID.\n\n"
        "Options:\n"
        "  --public-key Z85   the key to remove (40 characters)",
    .pos = {"ID"},
    .run = s_key_remove,
};
