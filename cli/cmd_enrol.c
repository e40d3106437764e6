/* Enrolment and keys you can see (SPEC section 9): glci city add --invite
 * and glci city invite (an enrolment string for a city), glci city invites
 * (the open ones), glci city show (a city with its keys), glci city
 * reinstate, and glci keys refused (the keys the collector refused).
 *
 * An enrolment string names the collector as agents reach it: the host
 * comes from --host (remembered in the store for the next invitations),
 * else the one remembered, else the host the collector listens on when it
 * is not a wildcard; the ports are those the running collector recorded
 * in the store (listen, enrol_listen); the key is the one in use
 * (STORE/collector.pub). The string is printed once and never kept: the
 * store holds only a hash of its secret. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_endpoint.h"
#include "glci_enrol.h"
#include "glci_keyfile.h"

#define S_EXPIRES_DEFAULT "14d"
#define S_EXPIRES_MAX_S (365 * 86400)

/* --expires: a positive whole number and a unit, s, m, h, d or w, nothing
 * before or after them; from one minute to 365 days. 0, or -1. */
static int s_duration(const char *text, int64_t *out)
{
    char *end;
    /* strict: digits first (strtoll alone would take " 1d" and "+1d") */
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (errno || end == text || n <= 0 || strlen(end) != 1)
        return -1;
    int64_t unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600
                 : *end == 'd' ? 86400 : *end == 'w' ? 7 * 86400 : 0;
    if (!unit || n > S_EXPIRES_MAX_S / unit || n * unit < 60)
        return -1;
    *out = (int64_t)n * unit;
    return 0;
}

/* Fills t's host, ports and collector key for the store of cli; host_opt
 * is --host (may be NULL). Prints the failure and returns 1, or 0. */
static int s_token_parts(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_store_t *st,
                         const char *host_opt, glci_enrol_token_t *t)
{
    glci_view_t *v = NULL;
    glci_collector_info_t info;
    if (glci_cli_view(cmd, st, &v) != 0)
        return 1;
    int rc = glci_view_collector(v, &info);
    glci_view_end(&v);
    if (rc != 0)
        return glci_cli_store_fail(cmd, cli, rc, "cannot read the collector's endpoints");
    if (!info.listen[0])
        return glci_fail(cmd, "the collector has not run on the store at %s yet, so its "
                         "endpoints are unknown: start glci-collector (with enrol_listen set) "
                         "once, then invite", cli->store_dir);
    if (!info.enrol_listen[0])
        return glci_fail(cmd, "the collector runs without an enrolment endpoint: set "
                         "enrol_listen (e.g. tcp://0.0.0.0:7462) in its [collector] "
                         "configuration and restart it");
    char lhost[GLCI_ENROL_HOST_MAX + 1], ehost[GLCI_ENROL_HOST_MAX + 1];
    unsigned lport, eport;
    if (glci_endpoint_tcp_split(info.listen, lhost, sizeof lhost, &lport) != 0 ||
        glci_endpoint_tcp_split(info.enrol_listen, ehost, sizeof ehost, &eport) != 0)
        return glci_fail(cmd, "enrolment needs tcp://HOST:PORT endpoints; the collector "
                         "listens on %s and enrols on %s", info.listen, info.enrol_listen);
    const char *host = host_opt ? host_opt : info.host[0] ? info.host : NULL;
    char why[384];
    /* a host remembered before hosts were checked by their form, or the
     * one of listen: --host was checked before */
    if (!host_opt && glci_enrol_host_check(host ? host : lhost, why, sizeof why) != 0)
        return glci_fail(cmd, "the %s %s: give --host NAME, the name or address agents reach "
                         "the collector by", host ? "remembered" : "listen endpoint's", why);
    if (!host && glci_endpoint_host_wildcard(lhost))
        return glci_fail(cmd, "the collector listens on %s, every interface: give --host "
                         "NAME, the name or address agents reach it by (remembered for the "
                         "next invitations)", info.listen);
    snprintf(t->host, sizeof t->host, "%s", host ? host : lhost);
    t->port = (uint16_t)lport;
    t->enrol_port = (uint16_t)eport;

    /* The key the collector serves is collector.key's (the secret file
     * holds its public half too); collector.pub must agree, or a string
     * made from it could never complete a handshake. */
    char path[4096], ppath[4096], err[512] = "";
    glci_key_t pub;
    snprintf(path, sizeof path, "%s/collector.key", cli->store_dir);
    snprintf(ppath, sizeof ppath, "%s/collector.pub", cli->store_dir);
    if (glci_keyfile_read_pair(path, ppath, &pub, err, sizeof err) != 0)
        return glci_fail(cmd, "the collector's key pair: %s; no string is made that could "
                         "never work", err);
    if (glci_key_decode(pub.z85, t->collector_key) != 0)
        return glci_fail(cmd, "the collector's key pair: %s holds no valid key", path);
    return 0;
}

int glci_cli_invite(const glci_cmd_t *cmd, const glci_cli_t *cli, const char *id,
                    const char *name, const char *country, const char *expires_opt,
                    const char *host_opt)
{
    int64_t life;
    if (s_duration(expires_opt ? expires_opt : S_EXPIRES_DEFAULT, &life) != 0)
        return glci_usage_error(cmd, "--expires '%s' is not a duration from 1 minute to 365 "
                                "days (a number and s, m, h, d or w: 14d, 36h)", expires_opt);
    char why[384];
    if (host_opt && glci_enrol_host_check(host_opt, why, sizeof why) != 0)
        return glci_usage_error(cmd, "--%s", why);    /* "--host 'X' is not ..." */
    glci_store_t *st = NULL;
    glci_enrol_token_t t;
    memset(&t, 0, sizeof t);
    int status = GLCI_EXIT_FAIL;
    char err[512] = "", text[GLCI_ENROL_TEXT_MAX + 1];
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        goto cleanup;
    /* everything the string needs is known before anything is written */
    if (s_token_parts(cmd, cli, st, host_opt, &t) != 0)
        goto cleanup;
    int64_t now = (int64_t)time(NULL);
    glci_invite_t inv;
    int rc = glci_store_invite_add(st, id, name, country, now, now + life, t.secret, &inv, err,
                                   sizeof err);
    if (rc != 0) {
        glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));
        goto cleanup;
    }
    snprintf(t.city, sizeof t.city, "%s", id);
    if (glci_enrol_token_encode(&t, text, sizeof text) != 0) {
        glci_fail(cmd, "internal: cannot make the enrolment string");
        goto cleanup;
    }
    if (host_opt && glci_store_collector_put(st, NULL, NULL, host_opt) != 0)
        fprintf(stderr, "glci %s: note: --host %s could not be remembered\n", cmd->name,
                host_opt);
    char expires[32];
    glci_fmt_time(inv.expires, expires, sizeof expires);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "invitation", inv.id,
                              "expires", expires, "enrolment", text);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        printf("id,invitation,expires,enrolment\r\n");
        glci_csv_field(stdout, id);
        printf(",%s,%s,%s\r\n", inv.id, expires, text);
        status = GLCI_EXIT_OK;
    } else {
        fprintf(stderr, "glci %s: %s '%s'; give the city this enrolment string, valid once, "
                "until %s (on its machine: glci-agent enrol STRING):\n", cmd->name,
                name ? "registered city" : "new enrolment string for city", id, expires);
        printf("%s\n", text);
        status = GLCI_EXIT_OK;
    }
cleanup:
    memset(&t, 0, sizeof t);
    memset(text, 0, sizeof text);
    glci_store_close(&st);
    return status;
}

static int s_invite(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {
        {.name = "expires", .has_arg = 1},
        {.name = "host", .has_arg = 1},
        {.name = "withdraw", .has_arg = 0},
    };
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 3, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (!glci_city_id_valid(pos[0]))
        return glci_usage_bad_city(cmd, pos[0]);
    if (!opts[2].seen)
        return glci_cli_invite(cmd, cli, pos[0], NULL, NULL,
                               opts[0].seen ? opts[0].value : NULL,
                               opts[1].seen ? opts[1].value : NULL);
    if (opts[0].seen || opts[1].seen)
        return glci_usage_error(cmd, "--withdraw takes no --expires or --host");
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        return GLCI_EXIT_FAIL;
    size_t n = 0;
    char err[512] = "";
    rc = glci_store_invite_withdraw(st, pos[0], (int64_t)time(NULL), &n, err, sizeof err);
    glci_store_close(&st);
    if (rc != 0)
        return glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:I}", "id", pos[0], "withdrawn", (json_int_t)n);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    if (cli->format == GLCI_FMT_CSV) {
        printf("id,withdrawn\r\n");
        glci_csv_field(stdout, pos[0]);
        printf(",%zu\r\n", n);
        return GLCI_EXIT_OK;
    }
    if (n)
        printf("%zu enrolment string%s of city %s withdrawn: %s refused from now on\n", n,
               n == 1 ? "" : "s", pos[0], n == 1 ? "it is" : "they are");
    else
        printf("city %s has no open enrolment string\n", pos[0]);
    return GLCI_EXIT_OK;
}

/* ---- listings ------------------------------------------------------------ */

/* A time cell: ISO for people and CSV, "-" (table) or "" (CSV) for 0. */
static void s_time_cell(glci_table_t *t, glci_format_t fmt, int64_t when)
{
    char buf[40];
    if (fmt == GLCI_FMT_CSV && when == 0)
        buf[0] = '\0';
    else
        glci_fmt_time(when, buf, sizeof buf);
    glci_table_cell(t, buf);
}

/* Prints a listing built both ways: rows (JSON, under key) or the table. */
static int s_print_list(const glci_cli_t *cli, const char *key, json_t *rows, glci_table_t *t,
                        const char *none)
{
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:O}", key, rows);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    if (cli->format == GLCI_FMT_CSV)
        glci_table_print_csv(t, stdout);
    else if (glci_table_rows(t) == 0)
        printf("%s\n", none);
    else
        glci_table_print_text(t, stdout);
    return GLCI_EXIT_OK;
}

typedef struct {
    glci_format_t format;
    const char *city;         /* only this city's; NULL all */
    json_t *rows;
    glci_table_t *table;
} s_list_t;

static int s_invite_row(void *ctx, const glci_invite_t *inv)
{
    s_list_t *l = ctx;
    if (l->city && strcmp(l->city, inv->city) != 0)
        return 0;
    char fp[GLCI_KEY_FP_LEN + 1] = "";
    if (inv->state == GLCI_INVITE_USED)
        glci_key_fingerprint_raw(inv->key, fp);
    json_array_append_new(l->rows, json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "city", inv->city, "invitation", inv->id,
        "state", glci_invite_state_str(inv->state), "created", glci_json_time(inv->created),
        "expires", glci_json_time(inv->expires), "closed", glci_json_time(inv->closed),
        "key_fingerprint", fp[0] ? json_string(fp) : json_null()));
    glci_table_cell(l->table, inv->city);
    glci_table_cell(l->table, inv->id);
    glci_table_cell(l->table, glci_invite_state_str(inv->state));
    s_time_cell(l->table, l->format, inv->created);
    s_time_cell(l->table, l->format, inv->expires);
    s_time_cell(l->table, l->format, inv->closed);
    glci_table_cell(l->table, fp);
    return 0;
}

static const char *const s_invite_headers[] = {"city", "invitation", "state", "created",
                                               "expires", "closed", "key"};

static int s_invites(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "all", .has_arg = 0}};
    int rc = glci_args_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    s_list_t l = {.format = cli->format, .rows = json_array(),
                  .table = glci_table_new(7, s_invite_headers, NULL)};
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    rc = glci_view_invites(v, (int64_t)time(NULL), opts[0].seen, s_invite_row, &l);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the invitations");
        goto cleanup;
    }
    status = s_print_list(cli, "invitations", l.rows, l.table,
                          opts[0].seen ? "no invitations" : "no open invitations");
cleanup:
    json_decref(l.rows);
    glci_table_free(&l.table);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

/* ---- city show ----------------------------------------------------------- */

static int s_key_row(void *ctx, const glci_city_key_t *k)
{
    s_list_t *l = ctx;
    glci_key_t z;
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_encode(k->key, &z);
    glci_key_fingerprint(&z, fp);
    json_array_append_new(l->rows, json_pack("{s:s, s:s, s:o, s:o}", "fingerprint", fp,
                                             "public_key", z.z85, "added",
                                             glci_json_time(k->added), "last_used",
                                             glci_json_time(k->last_used)));
    glci_table_cell(l->table, fp);
    s_time_cell(l->table, l->format, k->added);
    s_time_cell(l->table, l->format, k->last_used);
    glci_table_cell(l->table, z.z85);
    return 0;
}

static int s_show(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (!glci_city_id_valid(pos[0]))
        return glci_usage_bad_city(cmd, pos[0]);
    static const char *const kh[] = {"key", "added", "last_used", "public_key"};
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_city_t c;
    int status = GLCI_EXIT_FAIL;
    s_list_t keys = {.format = cli->format, .rows = json_array(),
                     .table = glci_table_new(4, kh, NULL)};
    s_list_t inv = {.format = cli->format, .city = pos[0], .rows = json_array(),
                    .table = glci_table_new(7, s_invite_headers, NULL)};
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    rc = glci_view_city(v, pos[0], &c);
    if (rc == GLCI_STORE_ENOCITY) {
        glci_fail(cmd, "no such city '%s'", pos[0]);
        goto cleanup;
    }
    if (rc == 0)
        rc = glci_view_city_keys(v, pos[0], s_key_row, &keys);
    if (rc == 0)
        rc = glci_view_invites(v, (int64_t)time(NULL), 0, s_invite_row, &inv);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
        goto cleanup;
    }
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:o, s:O, s:O}", "id", c.id,
                              "name", c.name, "country", c.country, "active", c.active,
                              "batches", (json_int_t)c.batches, "observations",
                              (json_int_t)c.observations, "rejects", (json_int_t)c.rejects,
                              "last_seen", glci_json_time(c.last_seen), "keys", keys.rows,
                              "invitations", inv.rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        /* one row per key: what a spreadsheet of keys needs */
        glci_table_print_csv(keys.table, stdout);
        status = GLCI_EXIT_OK;
    } else {
        char seen[40];
        glci_fmt_time(c.last_seen, seen, sizeof seen);
        printf("city        %s (%s, %s)%s\n", c.id, c.name, c.country,
               c.active ? "" : "  REVOKED: its keys are refused (glci city reinstate)");
        printf("delivered   %llu batches, %llu observations, %llu rejects; last seen %s\n",
               (unsigned long long)c.batches, (unsigned long long)c.observations,
               (unsigned long long)c.rejects, seen);
        printf("keys        %zu\n", glci_table_rows(keys.table));
        if (glci_table_rows(keys.table)) {
            printf("\n");
            glci_table_print_text(keys.table, stdout);
        }
        if (glci_table_rows(inv.table)) {
            printf("\nopen enrolment string:\n");
            glci_table_print_text(inv.table, stdout);
        }
        status = GLCI_EXIT_OK;
    }
cleanup:
    json_decref(keys.rows);
    json_decref(inv.rows);
    glci_table_free(&keys.table);
    glci_table_free(&inv.table);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

/* ---- reinstate ------------------------------------------------------------ */

static int s_reinstate(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (!glci_city_id_valid(pos[0]))
        return glci_usage_bad_city(cmd, pos[0]);
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        return GLCI_EXIT_FAIL;
    int was = 0;
    char err[512] = "";
    rc = glci_store_city_reinstate(st, pos[0], &was, err, sizeof err);
    glci_store_close(&st);
    if (rc == GLCI_STORE_ENOCITY)
        return glci_fail(cmd, "no such city '%s'", pos[0]);
    if (rc != 0)
        return glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:b, s:b}", "id", pos[0], "active", 1, "was_revoked", was);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    if (cli->format == GLCI_FMT_CSV) {
        printf("id,active,was_revoked\r\n");
        glci_csv_field(stdout, pos[0]);
        printf(",true,%s\r\n", was ? "true" : "false");
        return GLCI_EXIT_OK;
    }
    if (was)
        printf("city %s reinstated: its keys are accepted again from the next connection\n",
               pos[0]);
    else
        printf("city %s was not revoked; nothing changed\n", pos[0]);
    return GLCI_EXIT_OK;
}

/* ---- keys refused ----------------------------------------------------------- */

typedef struct {
    s_list_t l;
    size_t limit, n;
} s_refused_list_t;

static int s_refused_row(void *ctx, const glci_key_refusal_t *r)
{
    s_refused_list_t *rl = ctx;
    if (rl->limit && rl->n >= rl->limit)
        return 1;
    rl->n++;
    glci_key_t z;
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_encode(r->key, &z);
    glci_key_fingerprint(&z, fp);
    json_array_append_new(rl->l.rows, json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:I}", "fingerprint", fp, "public_key", z.z85, "address",
        r->addr, "first_seen", glci_json_time(r->first), "last_seen", glci_json_time(r->last),
        "count", (json_int_t)r->count));
    glci_table_cell(rl->l.table, fp);
    glci_table_cell(rl->l.table, r->addr);
    s_time_cell(rl->l.table, rl->l.format, r->first);
    s_time_cell(rl->l.table, rl->l.format, r->last);
    glci_table_cellf(rl->l.table, "%llu", (unsigned long long)r->count);
    glci_table_cell(rl->l.table, z.z85);
    return 0;
}

static int s_keys_refused(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "limit", .has_arg = 1}};
    int rc = glci_args_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    static const char *const h[] = {"key", "address", "first_seen", "last_seen", "count",
                                    "public_key"};
    s_refused_list_t rl = {.l = {.format = cli->format, .rows = json_array(),
                                 .table = glci_table_new(6, h, "llllrl")}};
    if (opts[0].seen && glci_args_limit(cmd, &opts[0], &rl.limit) != 0) {
        json_decref(rl.l.rows);
        glci_table_free(&rl.l.table);
        return GLCI_EXIT_USAGE;
    }
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    size_t total = 0;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    rc = glci_view_refused(v, s_refused_row, &rl, &total);
    if (rc != 0 && rc != 1) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the refused keys");
        goto cleanup;
    }
    status = s_print_list(cli, "refused", rl.l.rows, rl.l.table,
                          "no refused keys recorded");
    if (cli->format == GLCI_FMT_TABLE && rl.n < total)
        printf("(%zu of %zu shown; --limit)\n", rl.n, total);
cleanup:
    json_decref(rl.l.rows);
    glci_table_free(&rl.l.table);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_city_invite = {
    .name = "city invite",
    .usage = "city invite ID [--expires 14d] [--host NAME] | city invite ID --withdraw",
    .summary = "a new enrolment string for a city, or withdraw its open one",
    .help =
        "Prints a new enrolment string for city ID (registered, not revoked); the\n"
        "city's agent runs `glci-agent enrol STRING` to make its key pair and\n"
        "register it. The string works once and until it expires; a new one\n"
        "withdraws the city's earlier open string. With --withdraw, the open\n"
        "string is withdrawn and nothing new is made.\n\n"
        "Options:\n"
        "  --expires D     how long it is valid: a number and s, m, h, d or w (default 14d,\n"
        "                  at most 365d)\n"
        "  --host NAME     the collector's host name as agents reach it (remembered;\n"
        "                  needed once when the collector listens on every interface)\n"
        "  --withdraw      withdraw the city's open enrolment string",
    .pos = {"ID"},
    .run = s_invite,
};

const glci_cmd_t glci_cmd_city_invites = {
    .name = "city invites",
    .usage = "city invites [--all]",
    .summary = "list the open enrolment strings",
    .help = "Lists the open enrolment strings (invitations), oldest first: city,\n"
            "invitation id, created, expires. With --all, also those used (with the\n"
            "key each registered), withdrawn and expired in the last 90 days.",
    .run = s_invites,
};

const glci_cmd_t glci_cmd_city_show = {
    .name = "city show",
    .usage = "city show ID",
    .summary = "a city with its keys (fingerprint, added, last used)",
    .help = "Shows city ID: name, country, whether it is active, what it delivered,\n"
            "and each of its keys with its fingerprint, when it was added and when\n"
            "the collector last saw it used, and an open enrolment string. CSV: one\n"
            "row per key.",
    .pos = {"ID"},
    .run = s_show,
};

const glci_cmd_t glci_cmd_city_reinstate = {
    .name = "city reinstate",
    .usage = "city reinstate ID",
    .summary = "take a revoked city back: its keys are accepted again",
    .help = "Marks the revoked city ID active again: its keys are accepted from the\n"
            "next connection on, and it may be invited and given keys again. Remove\n"
            "a key that was compromised first (glci city key-remove).",
    .pos = {"ID"},
    .run = s_reinstate,
};

const glci_cmd_t glci_cmd_keys_refused = {
    .name = "keys refused",
    .usage = "keys refused [--limit N]",
    .summary = "keys the collector refused, most recent first",
    .help = "Lists the public keys the collector refused at the handshake (not\n"
            "registered, or their city revoked), most recently seen first, with\n"
            "fingerprint, the last address seen, first and last seen and how many\n"
            "times. The collector keeps a bounded number (refused_max, the least\n"
            "recently seen giving way) and writes them every few seconds.\n\n"
            "Options:\n"
            "  --limit N   at most N rows",
    .run = s_keys_refused,
};
