/* Enrolment with the real daemons (SPEC section 9): `glci city add --invite`
 * prints an enrolment string, `glci-agent enrol` turns it into a key pair
 * registered over CURVE and a working config, and the agent's values reach
 * `glci rank`, exactly once. Then every way a string is refused, each with
 * its message and nothing registered: a mistyped one (caught before any
 * network use), a reused, an expired, a withdrawn and a forged one, one for
 * a revoked city (withdrawn by the revocation, and still after a
 * reinstatement), and a brute-forced one (the right secret refused too once
 * an address has failed too often). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_checker.h"
#include "glci_enrol.h"
#include "glci_file.h"
#include "glci_index.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_testsupport.h"
#include "glci_text.h"

/* A system with one harness agent slot (its files replaced by the
 * enrolment) and a collector enrolling on a port of its own. */
static glci_sys_t *s_open(const char *tag, const char *extra)
{
    char conf[512];
    snprintf(conf, sizeof conf, "enrol_listen = tcp://127.0.0.1:%d\nkey_flush = 1\n%s",
             glci_ts_free_port(), extra ? extra : "");
    glci_sys_opts_t o = {.batch_max = 50, .window = 4, .collector_conf = conf};
    glci_sys_t *s = glci_sys_open(tag, 1, &o);
    glci_sys_start_collector(s, NULL);
    return s;
}

/* Runs glci with the system's store; returns stdout (trimmed, malloc'd)
 * and fails the test unless it exits 0. */
static char *s_cli(glci_sys_t *s, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci %s %s exited %d: %s", args[0], args[1] ? args[1] : "", rc, err);
    free(err);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* glci-agent enrol TOKEN into the files of agent slot 0 (or into dir/name
 * when name is given). Returns the exit status; *err the stderr. */
static int s_enrol(glci_sys_t *s, const char *token, const char *name, char **err)
{
    char conf[700], key[700];
    if (name) {
        snprintf(conf, sizeof conf, "%s/%s.conf", s->dir, name);
        snprintf(key, sizeof key, "%s/%s.key", s->dir, name);
    } else {
        snprintf(conf, sizeof conf, "%s", s->agents[0].conf);
        snprintf(key, sizeof key, "%s", s->agents[0].key);
    }
    const char *argv[] = {s->agent_bin, "--config", "/dev/null", "enrol", token,
                          "--config-out", conf, "--key-file", key, "--timeout", "60", NULL};
    return glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, err);
}

/* glci-agent enrol - into the files of agent slot 0 (or dir/name), with
 * stdin the text input. Returns the exit status; *err the stderr. */
static int s_enrol_stdin(glci_sys_t *s, const char *input, const char *name, char **err)
{
    char conf[700], key[700], in[700];
    snprintf(conf, sizeof conf, "%s/%s.conf", s->dir, name ? name : "stdin");
    snprintf(key, sizeof key, "%s/%s.key", s->dir, name ? name : "stdin");
    if (!name) {
        snprintf(conf, sizeof conf, "%s", s->agents[0].conf);
        snprintf(key, sizeof key, "%s", s->agents[0].key);
    }
    snprintf(in, sizeof in, "%s/%s.stdin", s->dir, name ? name : "stdin");
    assert_int_equal(glci_ts_write_file(in, input), 0);
    const char *argv[] = {"/bin/sh", "-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh", in,
                          s->agent_bin, "--config", "/dev/null", "enrol", "-",
                          "--config-out", conf, "--key-file", key, "--timeout", "60", NULL};
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, err);
    unlink(in);
    return rc;
}

/* The string wrapped as a mail program does: over several lines of at
 * most width characters, each indented (malloc'd). */
static char *s_wrapped(const char *token, size_t width)
{
    size_t len = strlen(token), cap = len + (len / width + 1) * 4 + 8, o = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (size_t at = 0; at < len; at += width)
        o += (size_t)snprintf(out + o, cap - o, "  %.*s\r\n", (int)width, token + at);
    return out;
}

static uint32_t s_n_keys(glci_sys_t *s, const char *city)
{
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_city_t c;
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 0};
    char err[256];
    assert_int_equal(glci_store_open(s->store, &o, &st, err, sizeof err), 0);
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_city(v, city, &c), 0);
    glci_view_end(&v);
    glci_store_close(&st);
    return c.n_keys;
}

/* A refusal: exit 1, stderr naming why, nothing registered, no key left. */
static void s_expect_refused(glci_sys_t *s, const char *token, const char *city,
                             const char *why, const char *name)
{
    char *err = NULL, key[700];
    int rc = s_enrol(s, token, name, &err);
    fprintf(stderr, "# %s: %s", name, err ? err : "");
    if (rc != 1 || !err || !strstr(err, why))
        fail_msg("enrol (%s) exited %d, expected 1 naming \"%s\": %s", name, rc, why, err);
    assert_non_null(strchr(err, '\n'));
    assert_int_equal(strchr(err, '\n')[1], '\0');       /* one line */
    free(err);
    assert_int_equal(s_n_keys(s, city), 0);
    snprintf(key, sizeof key, "%s/%s.key", s->dir, name);
    assert_int_not_equal(access(key, F_OK), 0);
    /* nor the config's temporary, made before the exchange */
    char base[80];
    snprintf(base, sizeof base, "%s.conf", name);
    DIR *d = opendir(s->dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (glci_file_tmp_of(e->d_name, base))
            fail_msg("enrol (%s) left its temporary %s/%s", name, s->dir, e->d_name);
    closedir(d);
}

/* One value for every indicator of the framework for period 2024, mid-way
 * between its goalposts: coverage 1, so the city is ranked. */
static void s_push_full_period(glci_sys_t *s)
{
    glci_framework_t *fw = NULL;
    char err[512];
    assert_int_equal(glci_framework_load_file(glci_ts_framework(), &fw, err, sizeof err), 0);
    size_t cap = 64 + (size_t)fw->n_ind * 96, used = 0;
    char *csv = malloc(cap);
    used += (size_t)snprintf(csv, cap, "indicator,period,value\n");
    uint32_t lane = glci_checker_new_lane(s->chk);
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        double v = (fw->ind[i].lower + fw->ind[i].upper) / 2;
        char text[64];
        snprintf(text, sizeof text, "%.17g", v);
        used += (size_t)snprintf(csv + used, cap - used, "%s,2024,%s\n", fw->ind[i].id, text);
        glci_checker_expect_lane(s->chk, s->agents[0].city, fw->ind[i].id, 2024,
                                 strtod(text, NULL), lane);
    }
    glci_sys_spool_text(s, 0, "full-2024.csv", csv);
    free(csv);
    glci_framework_free(&fw);
}

static void test_enrol_end_to_end_to_rank(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("sys-enrol-e2e", NULL);
    const char *add[] = {"city", "add", "enrol-xx", "--name", "Enrolled", "--country", "XX",
                         "--invite", "--expires", "2h", NULL};
    char *token = s_cli(s, add);
    assert_memory_equal(token, "glci1", 5);
    const char *invites[] = {"city", "invites", NULL};
    char *list = s_cli(s, invites);
    free(list);

    /* the harness's slot becomes the enrolled city's agent */
    glci_sys_agent_t *a = &s->agents[0];
    snprintf(a->city, sizeof a->city, "enrol-xx");
    unlink(a->conf);
    unlink(a->key);
    /* from stdin, wrapped over several lines as by mail */
    char *err = NULL, *wrapped = s_wrapped(token, 30);
    assert_non_null(strchr(strchr(wrapped, '\n') + 1, '\n'));
    int rc = s_enrol_stdin(s, wrapped, NULL, &err);
    free(wrapped);
    if (rc != 0)
        fail_msg("enrol exited %d: %s", rc, err);
    assert_non_null(strstr(err, "enrolled city enrol-xx with key "));
    /* a config the packaged unit does not read: how to run with it */
    char start[800];
    snprintf(start, sizeof start, "Start the agent: glci-agent --config %s run\n", a->conf);
    if (!strstr(err, start) || strstr(err, "systemctl"))
        fail_msg("enrol does not say how to run with %s: %s", a->conf, err);
    free(err);
    /* the config holds the spool and outbox the harness watches */
    char *conf = glci_ts_read_file(a->conf);
    char line[700];
    snprintf(line, sizeof line, "key_file = %s\n", a->key);
    assert_non_null(strstr(conf, line));
    assert_non_null(strstr(conf, "city = enrol-xx\n"));
    free(conf);
    /* outbox and spool beside the config: the harness's own folders */
    conf = glci_ts_read_file(a->conf);
    snprintf(line, sizeof line, "outbox = %s\n", a->outbox);
    assert_non_null(strstr(conf, line));
    free(conf);
    struct stat sb;
    assert_int_equal(stat(a->key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(s_n_keys(s, "enrol-xx"), 1);

    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 40);
    s_push_full_period(s);
    glci_sys_assert_exactly_once(s);

    const char *rank[] = {"rank", "--period", "2024", "--format", "json", NULL};
    char *out = NULL;
    assert_int_equal(glci_sys_cli(s, rank, &out, NULL), 0);
    assert_non_null(strstr(out, "\"city\": \"enrol-xx\""));
    assert_non_null(strstr(out, "\"rank\": 1"));
    free(out);

    /* the key is visible: its fingerprint, added, last used */
    const char *show[] = {"city", "show", "enrol-xx", "--format", "json", NULL};
    out = NULL;
    assert_int_equal(glci_sys_cli(s, show, &out, NULL), 0);
    assert_non_null(strstr(out, "\"fingerprint\": \""));
    assert_null(strstr(out, "\"last_used\": null"));
    free(out);
    free(token);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* An enrolment string made through the store for an invitation expiring at
 * expires, with the collector's endpoints and key: what `glci city invite`
 * prints, with an expiry the command would not accept. */

/* The port of a tcp://HOST:PORT endpoint (the test fails on another). */
static uint16_t s_port_of(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    int64_t port = 0;
    assert_non_null(colon);
    assert_int_equal(glci_parse_int64(colon + 1, 1, 65535, &port), 0);
    return (uint16_t)port;
}

static char *s_token_expiring(glci_sys_t *s, const char *city, int64_t expires)
{
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_collector_info_t info;
    glci_store_opts_t o = {0, 0, 0};
    char err[256];
    assert_int_equal(glci_store_open(s->store, &o, &st, err, sizeof err), 0);
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_collector(v, &info), 0);
    glci_view_end(&v);
    glci_enrol_token_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "127.0.0.1");
    t.port = s_port_of(info.listen);
    t.enrol_port = s_port_of(info.enrol_listen);
    snprintf(t.city, sizeof t.city, "%s", city);
    glci_key_t pub;
    assert_int_equal(glci_keyfile_read(s->coll_pub, &pub, NULL, err, sizeof err), 0);
    assert_int_equal(glci_key_decode(pub.z85, t.collector_key), 0);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(glci_store_invite_add(st, city, NULL, NULL, now, expires, t.secret, NULL,
                                           err, sizeof err), 0);
    glci_store_close(&st);
    char *text = malloc(GLCI_ENROL_TEXT_MAX + 1);
    assert_int_equal(glci_enrol_token_encode(&t, text, GLCI_ENROL_TEXT_MAX + 1), 0);
    return text;
}

/* The same string with another secret: it passes its checksum, names the
 * right collector, and matches no invitation. */
static char *s_forge(const char *token, unsigned char salt)
{
    glci_enrol_token_t t;
    char err[256];
    assert_int_equal(glci_enrol_token_decode(token, &t, err, sizeof err), 0);
    for (int i = 0; i < GLCI_ENROL_SECRET_LEN; i++)
        t.secret[i] = (unsigned char)(t.secret[i] ^ (salt + i));
    char *text = malloc(GLCI_ENROL_TEXT_MAX + 1);
    assert_int_equal(glci_enrol_token_encode(&t, text, GLCI_ENROL_TEXT_MAX + 1), 0);
    return text;
}

/* glci-agent enrol --config-out DEST (or in place, with --config DEST),
 * key file beside it; returns the exit status, *err the stderr. */
static int s_enrol_to(glci_sys_t *s, const char *token, const char *dest, int in_place,
                      const char *key, char **err)
{
    const char *out_argv[] = {s->agent_bin, "--config", "/dev/null", "enrol", token,
                              "--config-out", dest, "--key-file", key, "--timeout", "60", NULL};
    const char *in_argv[] = {s->agent_bin, "--config", dest, "enrol", token, "--key-file", key,
                             "--timeout", "60", NULL};
    return glci_ts_run(in_place ? in_argv : out_argv, NULL, GLCI_SYS_DRAIN_MS, NULL, err);
}

/* A refused destination: exit 1, one line naming it and what it is,
 * before the network step (no key made, nothing asked of the collector,
 * so the one-time secret still works). */
static void s_expect_dest_refused(glci_sys_t *s, const char *token, const char *dest,
                                  int in_place, const char *what)
{
    char key[700], *err = NULL;
    snprintf(key, sizeof key, "%s/dest.key", s->dir);
    int rc = s_enrol_to(s, token, dest, in_place, key, &err);
    if (rc != 1 || !err || !strstr(err, dest) || !strstr(err, what) ||
        !strstr(err, "nothing was sent"))
        fail_msg("enrol into %s exited %d, expected 1 naming it %s: %s", dest, rc, what, err);
    assert_int_equal(strchr(err, '\n')[1], '\0');       /* one line */
    free(err);
    assert_int_not_equal(access(key, F_OK), 0);
    assert_int_equal(s_n_keys(s, "gent-be"), 0);
    char *log = glci_ts_proc_stderr(s->coll);
    assert_null(strstr(log, "enrol: "));
    free(log);
}

/* Where the config goes: a FIFO or a symbolic link at the destination
 * (given with --config-out, or the config in use updated in place), or a
 * folder for it that is missing, is refused before anything is sent; and the config is written through a
 * fresh temporary, so a link planted at the old fixed name DEST.tmp is
 * neither followed nor renamed into place. The one string works at the
 * end: no refusal spent it. */
static void test_enrol_destinations(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("sys-enrol-dest", NULL);
    const char *add[] = {"city", "add", "gent-be", "--name", "Gent", "--country", "BE",
                         "--invite", NULL};
    char *token = s_cli(s, add);
    char fifo[700], link[700], real[700], victim[700], conf[700], planted[720], key[700];
    snprintf(fifo, sizeof fifo, "%s/fifo.conf", s->dir);
    snprintf(link, sizeof link, "%s/link.conf", s->dir);
    snprintf(real, sizeof real, "%s/real.conf", s->dir);
    snprintf(victim, sizeof victim, "%s/victim", s->dir);
    snprintf(conf, sizeof conf, "%s/gent.conf", s->dir);
    snprintf(planted, sizeof planted, "%s.tmp", conf);
    snprintf(key, sizeof key, "%s/gent.key", s->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(glci_ts_write_file(real, "[agent]\ncity = gent-be\n"), 0);
    assert_int_equal(symlink(real, link), 0);
    assert_int_equal(glci_ts_write_file(victim, "not the agent's\n"), 0);

    s_expect_dest_refused(s, token, fifo, 0, "is a FIFO");
    /* a folder the config cannot be made in (root can write anywhere, but
     * not into a folder that is not there): refused before the exchange,
     * as a destination of the wrong kind is */
    char nowhere[720];
    snprintf(nowhere, sizeof nowhere, "%s/no-such-folder/gent.conf", s->dir);
    s_expect_dest_refused(s, token, nowhere, 0, "No such file or directory");
    s_expect_dest_refused(s, token, link, 0, "is a symbolic link");
    s_expect_dest_refused(s, token, link, 1, "is a symbolic link");
    char target[700];
    ssize_t tl = readlink(link, target, sizeof target - 1);
    assert_true(tl > 0);
    target[tl] = '\0';
    assert_string_equal(target, real);
    char *text = glci_ts_read_file(real);
    assert_string_equal(text, "[agent]\ncity = gent-be\n");
    free(text);

    /* a link planted where the config's temporary used to be */
    assert_int_equal(symlink(victim, planted), 0);
    char *err = NULL;
    int rc = s_enrol_to(s, token, conf, 0, key, &err);
    if (rc != 0)
        fail_msg("enrol exited %d: %s", rc, err);
    free(err);
    assert_int_equal(s_n_keys(s, "gent-be"), 1);
    text = glci_ts_read_file(victim);
    assert_string_equal(text, "not the agent's\n");
    free(text);
    struct stat sb;
    assert_int_equal(lstat(planted, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(lstat(conf, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    text = glci_ts_read_file(conf);
    assert_non_null(strstr(text, "city = gent-be\n"));
    assert_non_null(strstr(text, "key_file = "));
    free(text);
    free(token);
    glci_sys_close(&s);
}

static void test_enrol_refusals(void **state)
{
    (void)state;
    glci_sys_t *s = s_open("sys-enrol-refused", "enrol_tries_per_addr = 3\n");
    const char *add[] = {"city", "add", "gent-be", "--name", "Gent", "--country", "BE",
                         "--invite", NULL};
    char *token = s_cli(s, add);

    /* mistyped: refused by the agent before any network use */
    char *typo = strdup(token);
    typo[20] = typo[20] == 'z' ? 'y' : 'z';
    char *err = NULL;
    assert_int_equal(s_enrol(s, typo, "typo", &err), 2);
    assert_non_null(strstr(err, "mistyped"));
    free(err);
    free(typo);
    /* on stdin: nothing but white space, a NUL, or more than a string can
     * be, each one line, before any network use */
    assert_int_equal(s_enrol_stdin(s, " \n\t\n", "blank", &err), 2);
    assert_non_null(strstr(err, "glci-agent enrol: no enrolment string on stdin (see"));
    free(err);
    char *big = malloc(4000);
    assert_non_null(big);
    memset(big, 'a', 3999);
    big[3999] = '\0';
    assert_int_equal(s_enrol_stdin(s, big, "big", &err), 2);
    free(big);
    if (!strstr(err, "stdin holds more than 1281 bytes: not an enrolment string (one is at "
                     "most 640 characters, white space aside) (see"))
        fail_msg("unexpected: %s", err);
    free(err);
    /* mistyped on stdin, over two lines */
    typo = s_wrapped(token, 60);
    typo[25] = typo[25] == 'z' ? 'y' : 'z';
    assert_int_equal(s_enrol_stdin(s, typo, "typo2", &err), 2);
    assert_non_null(strstr(err, "mistyped"));
    free(err);
    free(typo);
    char *log = glci_ts_proc_stderr(s->coll);
    assert_null(strstr(log, "enrol: "));
    free(log);

    /* the config in use is /dev/null (here through a link, so that a
     * regression could only replace the link): there is no file to update
     * in place, so nothing is made and nothing is asked of the collector */
    char link[700], beside[700];
    snprintf(link, sizeof link, "%s/null.conf", s->dir);
    snprintf(beside, sizeof beside, "%s/city.key", s->dir);
    assert_int_equal(symlink("/dev/null", link), 0);
    const char *in_place[] = {s->agent_bin, "--config", link, "enrol", token, "--timeout",
                              "60", NULL};
    assert_int_equal(glci_ts_run(in_place, NULL, GLCI_SYS_DRAIN_MS, NULL, &err), 2);
    assert_non_null(strstr(err, "no config file to update: "));
    assert_non_null(strstr(err, "null.conf is not a regular file (give --config-out FILE"));
    free(err);
    char target[64];
    ssize_t tl = readlink(link, target, sizeof target - 1);
    assert_int_equal(tl, 9);
    target[tl] = '\0';
    assert_string_equal(target, "/dev/null");
    assert_int_equal(access(beside, F_OK), -1);

    /* forged: a secret no invitation has (one failed try of 3) */
    char *forged = s_forge(token, 0x5a);
    s_expect_refused(s, forged, "gent-be", "no invitation of city 'gent-be'", "forged");
    free(forged);

    /* withdrawn, then the new string works once and is refused reused */
    const char *withdraw[] = {"city", "invite", "gent-be", "--withdraw", NULL};
    free(s_cli(s, withdraw));
    s_expect_refused(s, token, "gent-be", "withdrawn by the institute", "withdrawn");
    free(token);
    const char *again[] = {"city", "invite", "gent-be", NULL};
    token = s_cli(s, again);
    assert_int_equal(s_enrol(s, token, "first", &err), 0);
    free(err);
    assert_int_equal(s_n_keys(s, "gent-be"), 1);
    char *second_err = NULL;
    assert_int_equal(s_enrol(s, token, "reused", &second_err), 1);
    assert_non_null(strstr(second_err, "was used at"));
    free(second_err);
    assert_int_equal(s_n_keys(s, "gent-be"), 1);
    free(token);

    /* expired */
    const char *add2[] = {"city", "add", "oslo-no", "--name", "Oslo", "--country", "NO", NULL};
    char *out = NULL;
    assert_int_equal(glci_sys_cli(s, add2, &out, NULL), 2);   /* a key or --invite needed */
    free(out);
    const char *add3[] = {"city", "add", "oslo-no", "--name", "Oslo", "--country", "NO",
                          "--invite", NULL};
    free(s_cli(s, add3));
    char *expiring = s_token_expiring(s, "oslo-no", (int64_t)time(NULL) + 1);
    glci_sys_sleep_ms(2100);
    s_expect_refused(s, expiring, "oslo-no", "expired at", "expired");
    free(expiring);

    /* revoked */
    const char *inv[] = {"city", "invite", "oslo-no", NULL};
    token = s_cli(s, inv);
    const char *revoke[] = {"city", "revoke", "oslo-no", NULL};
    char *said = s_cli(s, revoke);
    assert_non_null(strstr(said, "its open enrolment strings are withdrawn (1)"));
    free(said);
    s_expect_refused(s, token, "oslo-no", "withdrawn by the institute at", "revoked");
    const char *reinstate[] = {"city", "reinstate", "oslo-no", NULL};
    free(s_cli(s, reinstate));
    /* the revocation withdrew the string for good: a reinstatement does
     * not make a compromised machine's secret usable again */
    s_expect_refused(s, token, "oslo-no", "when it revoked the city: ask it for a new one",
                     "reinstated");
    const char *all[] = {"--format", "csv", "city", "invites", "--all", NULL};
    char *out_all = NULL;
    assert_int_equal(glci_sys_cli(s, all, &out_all, NULL), 0);
    assert_non_null(strstr(out_all, "oslo-no"));
    assert_non_null(strstr(out_all, "withdrawn"));
    assert_null(strstr(out_all, "open"));
    free(out_all);
    free(token);
    token = s_cli(s, inv);

    /* brute force: two more failed tries reach the limit of 3 from this
     * address; then the right secret is refused too, and nothing of it is
     * registered */
    for (unsigned char k = 1; k <= 2; k++) {
        forged = s_forge(token, k);
        s_expect_refused(s, forged, "oslo-no", "no invitation", k == 1 ? "guess1" : "guess2");
        free(forged);
    }
    s_expect_refused(s, token, "oslo-no", "too many failed enrolment tries from 127.0.0.1",
                     "limited");
    free(token);
    log = glci_ts_proc_stderr(s->coll);
    assert_non_null(strstr(log, "has failed too often"));
    /* each kind of refusal is logged at least once with its city and
     * address, however close together they came: repeats of one kind for
     * one city are what is counted */
    const char *kinds[] = {"city gent-be from 127.0.0.1: no invitation of city 'gent-be'",
                           "city gent-be from 127.0.0.1: this enrolment string was withdrawn",
                           "city gent-be from 127.0.0.1: this enrolment string was used at",
                           "city oslo-no from 127.0.0.1: this enrolment string expired at",
                           "city oslo-no from 127.0.0.1: this enrolment string was withdrawn",
                           "city oslo-no from 127.0.0.1: no invitation of city 'oslo-no'"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strstr(log, kinds[i]))
            fail_msg("the collector's log lacks \"%s\":\n%s", kinds[i], log);
    free(log);

    /* a string made after a key rotation the collector has not been
     * reloaded for names a key it does not serve yet: said so */
    const char *rotate[] = {"collector-key", "rotate", NULL};
    free(s_cli(s, rotate));
    token = s_cli(s, inv);
    s_expect_refused(s, token, "oslo-no", "it may not have been reloaded since its key changed",
                     "unreloaded");
    free(token);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_enrol_end_to_end_to_rank, glci_sys_teardown),
        cmocka_unit_test_teardown(test_enrol_refusals, glci_sys_teardown),
        cmocka_unit_test_teardown(test_enrol_destinations, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
