/* The operator's side of enrolment and keys, with the real glci binary on
 * a store made by `glci init`: invitations (where the enrolment string's
 * endpoints and host come from, every refusal), city show with its keys,
 * revoke / key-add refused / reinstate, keys refused, collector-key
 * rotate / retire, a backup that makes its folders and stays private, and
 * the goalposts and better direction of `glci framework` for `lower`
 * indicators and reversed goalposts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_enrol.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "test_cli_support.h"

static char s_dir[128], s_store[256];

static int s_setup(void **state)
{
    (void)state;
    cli_tmpdir(s_dir, sizeof s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    cli_out_t o;
    const char *fw = getenv("GLCI_FRAMEWORK");
    assert_int_equal(cli_run(&o, "--store", s_store, "init", "--framework", fw, NULL), 0);
    assert_non_null(strstr(o.err, "fingerprint "));
    cli_out_release(&o);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    cli_rmdir(s_dir);
    return 0;
}

static void s_expect(int status, const char *in, const char *want, cli_out_t *o)
{
    if (o->status != status || !strstr(in, want))
        fail_msg("exit %d (wanted %d), output lacks \"%s\": %s%s", o->status, status, want,
                 o->out, o->err);
}

/* The store's collector.pub written anew holding pub. */
static void s_pub_put(const glci_key_t *pub)
{
    char path[400], err[256];
    snprintf(path, sizeof path, "%s/collector.pub", s_store);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(glci_keyfile_write_public(path, pub, err, sizeof err), 0);
}

/* The store's collector.pub made to hold another key than collector.key's
 * (*in_use receives the key it held, for s_pub_put). */
static void s_pub_replace(glci_key_t *in_use)
{
    char path[400], err[256];
    glci_key_t other, other_sec;
    snprintf(path, sizeof path, "%s/collector.pub", s_store);
    assert_int_equal(glci_keyfile_read(path, in_use, NULL, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&other, &other_sec, err, sizeof err), 0);
    s_pub_put(&other);
}

/* What a running collector records; without it there is no string. */
static void s_collector_ran(const char *listen, const char *enrol)
{
    glci_store_t *st = NULL;
    glci_store_opts_t opts = {0, 0, 0};
    char err[256];
    assert_int_equal(glci_store_open(s_store, &opts, &st, err, sizeof err), 0);
    assert_int_equal(glci_store_collector_put(st, listen, enrol, NULL), 0);
    glci_store_close(&st);
}

/* glci init into a folder others may write tightens it to 0700 and says
 * so; a folder only its owner writes keeps its mode. */
static void test_init_tightens_folder(void **state)
{
    (void)state;
    char dir[300];
    cli_out_t o;
    const char *fw = getenv("GLCI_FRAMEWORK");
    snprintf(dir, sizeof dir, "%s/open", s_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(cli_run(&o, "--store", dir, "init", "--framework", fw, NULL), 0);
    char line[400];
    snprintf(line, sizeof line, "glci init: note: %s was mode 0777, writable by others; made "
             "0700", dir);
    s_expect(0, o.err, line, &o);
    cli_out_release(&o);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    snprintf(dir, sizeof dir, "%s/group", s_dir);      /* the group may write: said so */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0770), 0);
    assert_int_equal(cli_run(&o, "--store", dir, "init", "--framework", fw, NULL), 0);
    snprintf(line, sizeof line, "glci init: note: %s was mode 0770, writable by group; made "
             "0700", dir);
    s_expect(0, o.err, line, &o);
    cli_out_release(&o);
    snprintf(dir, sizeof dir, "%s/shared", s_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0750), 0);
    assert_int_equal(cli_run(&o, "--store", dir, "init", "--framework", fw, NULL), 0);
    assert_null(strstr(o.err, "note:"));
    cli_out_release(&o);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0750);
}

static void test_invitations(void **state)
{
    (void)state;
    cli_out_t o;
    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", NULL);
    s_expect(1, o.err, "the collector has not run on the store", &o);
    cli_out_release(&o);

    s_collector_ran("tcp://0.0.0.0:7461", "");
    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", NULL);
    s_expect(1, o.err, "set enrol_listen", &o);
    cli_out_release(&o);

    s_collector_ran("tcp://0.0.0.0:7461", "tcp://0.0.0.0:7462");
    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", NULL);
    s_expect(1, o.err, "give --host NAME", &o);
    cli_out_release(&o);
    /* nothing registered by the refusals */
    cli_run(&o, "--store", s_store, "city", "show", "cork-ie", NULL);
    s_expect(1, o.err, "no such city 'cork-ie'", &o);
    cli_out_release(&o);

    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", "--expires", "0d", "--host", "glci.example.org", NULL);
    s_expect(2, o.err, "--expires '0d' is not a duration", &o);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", "--host", "bad host!", NULL);
    s_expect(2, o.err, "--host 'bad host!' is not a DNS name, a dotted IPv4 address or a "
             "bracketed IPv6 one", &o);
    cli_out_release(&o);
    /* hosts no agent can connect to, by their form; none is remembered */
    const char *hosts[][2] = {{"127.0.0.1:31163", "it holds a port"},
                              {"::1", "brackets, as [::1]"},
                              {"[::1", "unbalanced"},
                              {"a:b:c", "brackets, as [::1]"},
                              {"-x", "labels are 1 to 63"},
                              {"x..y", "labels are 1 to 63"},
                              {"1.2.3.4.5", "not a dotted IPv4 address"}};
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork",
                "--country", "IE", "--invite", "--host", hosts[i][0], NULL);
        s_expect(2, o.err, hosts[i][1], &o);
        assert_non_null(strstr(o.err, hosts[i][0]));
        cli_out_release(&o);
        cli_run(&o, "--store", s_store, "city", "invite", "cork-ie", "--host", hosts[i][0],
                NULL);
        s_expect(2, o.err, hosts[i][1], &o);
        cli_out_release(&o);
    }
    /* --expires in its strict form only */
    const char *durations[] = {" 1d", "+1d", "1d ", "-1d", "1 d", "d"};
    for (size_t i = 0; i < sizeof durations / sizeof *durations; i++) {
        cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork",
                "--country", "IE", "--invite", "--expires", durations[i], "--host",
                "glci.example.org", NULL);
        s_expect(2, o.err, "is not a duration", &o);
        cli_out_release(&o);
    }
    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", "--public-key", "x", NULL);
    s_expect(2, o.err, "--invite makes no key here", &o);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name",
                             "Cork", "--country", "IE", "--invite", "--host",
                             "glci.example.org", "--expires", "3d", NULL), 0);
    char token[GLCI_ENROL_TEXT_MAX + 1];
    snprintf(token, sizeof token, "%s", o.out);
    token[strcspn(token, "\n")] = '\0';
    assert_non_null(strstr(o.err, "valid once, until"));
    cli_out_release(&o);
    glci_enrol_token_t t;
    char err[256];
    assert_int_equal(glci_enrol_token_decode(token, &t, err, sizeof err), 0);
    assert_string_equal(t.host, "glci.example.org");
    assert_int_equal(t.port, 7461);
    assert_int_equal(t.enrol_port, 7462);
    assert_string_equal(t.city, "cork-ie");
    glci_key_t pub;
    char path[400];
    snprintf(path, sizeof path, "%s/collector.pub", s_store);
    assert_int_equal(glci_keyfile_read(path, &pub, NULL, err, sizeof err), 0);
    unsigned char raw[32];
    assert_int_equal(glci_key_decode(pub.z85, raw), 0);
    assert_memory_equal(t.collector_key, raw, 32);

    /* the host is remembered; a second string withdraws the first */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "city", "invite",
                             "cork-ie", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(glci_enrol_token_decode(json_string_value(json_object_get(j, "enrolment")),
                                             &t, err, sizeof err), 0);
    assert_string_equal(t.host, "glci.example.org");
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "city", "invites",
                             NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(json_object_get(j, "invitations")), 1);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "city", "invites",
                             "--all", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(json_object_get(j, "invitations")), 2);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "invite", "cork-ie",
                             "--withdraw", NULL), 0);
    s_expect(0, o.out, "1 enrolment string of city cork-ie withdrawn", &o);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "invites", NULL), 0);
    s_expect(0, o.out, "no open invitations", &o);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "invite", "nowhere", NULL);
    s_expect(1, o.err, "no city 'nowhere'", &o);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "cork-ie", "--name", "Cork", "--country",
            "IE", "--invite", NULL);
    s_expect(1, o.err, "glci city invite cork-ie", &o);
    cli_out_release(&o);

    /* a collector.pub that is not collector.key's public half: the
     * collector serves collector.key, so no string is made from it */
    glci_key_t in_use;
    s_pub_replace(&in_use);
    cli_run(&o, "--store", s_store, "city", "invite", "cork-ie", NULL);
    s_expect(1, o.err, "collector.pub does not hold the public key of ", &o);
    cli_out_release(&o);
    s_pub_put(&in_use);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "invite", "cork-ie", NULL), 0);
    cli_out_release(&o);
}

static void test_show_revoke_reinstate(void **state)
{
    (void)state;
    cli_out_t o;
    char keyout[400];
    snprintf(keyout, sizeof keyout, "%s/gent.key", s_dir);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "add", "gent-be", "--name",
                             "Gent", "--country", "BE", "--key-out", keyout, NULL), 0);
    assert_non_null(strstr(o.err, "fingerprint "));
    cli_out_release(&o);
    glci_key_t pub, other, sec;
    char err[256], fp[GLCI_KEY_FP_LEN + 1];
    assert_int_equal(glci_keyfile_read(keyout, &pub, NULL, err, sizeof err), 0);
    glci_key_fingerprint(&pub, fp);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "show", "gent-be", NULL), 0);
    s_expect(0, o.out, fp, &o);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "city", "show",
                             "gent-be", NULL), 0);
    json_t *j = cli_json(&o);
    json_t *k0 = json_array_get(json_object_get(j, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k0, "fingerprint")), fp);
    assert_string_equal(json_string_value(json_object_get(k0, "public_key")), pub.z85);
    assert_true(json_is_string(json_object_get(k0, "added")));
    assert_true(json_is_null(json_object_get(k0, "last_used")));
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "city", "revoke", "gent-be", NULL), 0);
    cli_out_release(&o);
    assert_int_equal(glci_key_generate(&other, &sec, err, sizeof err), 0);
    cli_run(&o, "--store", s_store, "city", "key-add", "gent-be", "--public-key", other.z85,
            NULL);
    s_expect(1, o.err, "city 'gent-be' is revoked, so its keys are refused: reinstate it "
             "first (`glci city reinstate gent-be`), then add the key", &o);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "gent-be", "--name", "Gent", "--country",
            "BE", "--public-key", other.z85, NULL);
    s_expect(1, o.err, "take it back with `glci city reinstate gent-be`", &o);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "show", "gent-be", NULL), 0);
    s_expect(0, o.out, "REVOKED", &o);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "reinstate", "gent-be", NULL), 0);
    s_expect(0, o.out, "city gent-be reinstated", &o);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "key-add", "gent-be",
                             "--public-key", other.z85, NULL), 0);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "reinstate", "nowhere", NULL);
    s_expect(1, o.err, "no such city 'nowhere'", &o);
    cli_out_release(&o);

    /* refused keys: none recorded yet, then the collector's record */
    assert_int_equal(cli_run(&o, "--store", s_store, "keys", "refused", NULL), 0);
    s_expect(0, o.out, "no refused keys recorded", &o);
    cli_out_release(&o);
    glci_store_t *st = NULL;
    glci_store_opts_t opts = {0, 0, 0};
    assert_int_equal(glci_store_open(s_store, &opts, &st, err, sizeof err), 0);
    glci_key_refusal_t r = {.first = 1800000000, .last = 1800000100, .count = 7};
    assert_int_equal(glci_key_decode(pub.z85, r.key), 0);
    snprintf(r.addr, sizeof r.addr, "192.0.2.7");
    assert_int_equal(glci_store_key_record(st, NULL, 0, &r, 1, 0), 0);
    glci_store_close(&st);
    assert_int_equal(cli_run(&o, "--store", s_store, "keys", "refused", NULL), 0);
    s_expect(0, o.out, "192.0.2.7", &o);
    s_expect(0, o.out, fp, &o);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "keys", "refused",
                             NULL), 0);
    s_expect(0, o.out, "key,address,first_seen,last_seen,count,public_key\r\n", &o);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "keys", "accepted", NULL);
    s_expect(2, o.err, "unknown keys subcommand 'accepted' (refused)", &o);
    cli_out_release(&o);
}

static void test_collector_key_rotation(void **state)
{
    (void)state;
    cli_out_t o;
    char pub_path[400], prev[400], old[64];
    snprintf(pub_path, sizeof pub_path, "%s/collector.pub", s_store);
    snprintf(prev, sizeof prev, "%s/collector.previous.key", s_store);
    assert_int_equal(cli_run(&o, "--store", s_store, "collector-key", NULL), 0);
    snprintf(old, sizeof old, "%.40s", o.out);
    assert_non_null(strstr(o.err, "key in use "));
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "collector-key", "retire", NULL);
    s_expect(1, o.err, "no rotation is under way", &o);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "collector-key", "rotate", NULL), 0);
    assert_string_not_equal(o.out, old);
    s_expect(0, o.err, "Reload the collector", &o);
    cli_out_release(&o);
    struct stat sb;
    assert_int_equal(stat(prev, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "collector-key", NULL),
                     0);
    assert_null(strstr(o.out, old));                     /* the new key is in use */
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "collector-key", "rotate", NULL);
    s_expect(1, o.err, "a rotation is under way", &o);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "collector-key", "spin", NULL);
    s_expect(2, o.err, "unknown action 'spin'", &o);
    cli_out_release(&o);

    /* a backup carries both pairs, private, into folders it makes */
    char dest[400];
    snprintf(dest, sizeof dest, "%s/backups/glci/2026-12-01", s_dir);
    assert_int_equal(cli_run(&o, "--store", s_store, "backup", dest, NULL), 0);
    cli_out_release(&o);
    const char *files[] = {"data.mdb", "collector.key", "collector.previous.key"};
    for (size_t i = 0; i < 3; i++) {
        char p[500];
        snprintf(p, sizeof p, "%s/%s", dest, files[i]);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 077, 0);
    }
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    char parent[400];
    snprintf(parent, sizeof parent, "%s/backups", s_dir);
    assert_int_equal(stat(parent, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    if (geteuid() != 0) {
        cli_run(&o, "--store", s_store, "backup", "/proc/glci-nowhere/b", NULL);
        s_expect(1, o.err, "cannot create the folder", &o);
        cli_out_release(&o);
    }

    assert_int_equal(cli_run(&o, "--store", s_store, "collector-key", "retire", NULL), 0);
    s_expect(0, o.out, "retired", &o);
    cli_out_release(&o);
    assert_int_not_equal(access(prev, F_OK), 0);
}

/* A backup writes each secret key 0600 whatever the original's mode (the
 * collector would refuse a copy others can read), even under umask 0, and
 * says in one note on stderr that the original is too open; a public key
 * keeps its mode. */
static void test_backup_secret_key_private(void **state)
{
    (void)state;
    char key[400], pub[400], dest[400], p[500], note[600];
    snprintf(key, sizeof key, "%s/collector.key", s_store);
    snprintf(pub, sizeof pub, "%s/collector.pub", s_store);
    snprintf(dest, sizeof dest, "%s/backup-open-key", s_dir);
    assert_int_equal(chmod(key, 0644), 0);
    assert_int_equal(chmod(pub, 0644), 0);
    mode_t old_mask = umask(0);
    cli_out_t o;
    int rc = cli_run(&o, "--store", s_store, "backup", dest, NULL);
    umask(old_mask);
    assert_int_equal(chmod(key, 0600), 0);
    s_expect(0, o.out, "with the collector's key files", &o);
    snprintf(note, sizeof note, "glci backup: note: %s is accessible by group or others (mode "
             "0644), which the collector refuses; its copy is 0600 (run chmod 600 on the "
             "original)\n", key);
    assert_int_equal(rc, 0);
    assert_string_equal(o.err, note);
    cli_out_release(&o);
    struct stat sb;
    snprintf(p, sizeof p, "%s/collector.key", dest);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(p, sizeof p, "%s/collector.pub", dest);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);

    /* a private original: the same copy, no note */
    snprintf(dest, sizeof dest, "%s/backup-private-key", s_dir);
    assert_int_equal(cli_run(&o, "--store", s_store, "backup", dest, NULL), 0);
    assert_string_equal(o.err, "");
    cli_out_release(&o);
    snprintf(p, sizeof p, "%s/collector.key", dest);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* collector-key prints the key the collector serves, collector.key's: a
 * collector.pub holding another key is refused, naming both files, and
 * nothing is printed as the key in use. */
static void test_collector_key_mismatched_pair(void **state)
{
    (void)state;
    cli_out_t o;
    char pub_path[400], sec_path[400], line[1000];
    snprintf(pub_path, sizeof pub_path, "%s/collector.pub", s_store);
    snprintf(sec_path, sizeof sec_path, "%s/collector.key", s_store);
    glci_key_t in_use;
    s_pub_replace(&in_use);
    snprintf(line, sizeof line, "glci collector-key: %s does not hold the public key of %s: "
             "not a key pair\n", pub_path, sec_path);
    static const char *const formats[] = {"table", "json", "csv"};
    for (size_t f = 0; f < 3; f++) {
        cli_run(&o, "--store", s_store, "--format", formats[f], "collector-key", NULL);
        s_expect(1, o.err, line, &o);
        assert_string_equal(o.out, "");
        cli_out_release(&o);
    }
    s_pub_put(&in_use);
    assert_int_equal(cli_run(&o, "--store", s_store, "collector-key", NULL), 0);
    assert_true(strncmp(o.out, in_use.z85, GLCI_Z85_KEY_LEN) == 0);
    cli_out_release(&o);
}

/* A collector whose key_file is kept outside the store (the store has
 * collector.pub but no collector.key): collector-key prints collector.pub
 * without an error, in every format, saying on stderr that the secret key
 * was not there to check it against; an enrolment string is made with
 * that key. A collector.key in the store that disagrees is still refused
 * (test_collector_key_mismatched_pair). */
static void test_collector_key_outside_store(void **state)
{
    (void)state;
    cli_out_t o;
    char pub_path[400], sec_path[400], away[400], err[256];
    snprintf(pub_path, sizeof pub_path, "%s/collector.pub", s_store);
    snprintf(sec_path, sizeof sec_path, "%s/collector.key", s_store);
    snprintf(away, sizeof away, "%s/collector-elsewhere.key", s_dir);
    glci_key_t pub;
    assert_int_equal(glci_keyfile_read(pub_path, &pub, NULL, err, sizeof err), 0);
    assert_int_equal(rename(sec_path, away), 0);

    assert_int_equal(cli_run(&o, "--store", s_store, "collector-key", NULL), 0);
    assert_true(strncmp(o.out, pub.z85, GLCI_Z85_KEY_LEN) == 0);
    assert_non_null(strstr(o.err, "is not in the store"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "collector-key",
                             NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(json_string_value(json_object_get(j, "public_key")), pub.z85);
    json_decref(j);
    cli_out_release(&o);

    s_collector_ran("tcp://0.0.0.0:7461", "tcp://0.0.0.0:7462");
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "city", "add",
                             "oulu-fi", "--name", "Oulu", "--country", "FI", "--invite",
                             "--host", "glci.example.org", NULL), 0);
    j = cli_json(&o);
    glci_enrol_token_t t;
    assert_int_equal(glci_enrol_token_decode(json_string_value(json_object_get(j, "enrolment")),
                                             &t, err, sizeof err), 0);
    unsigned char raw[32];
    assert_int_equal(glci_key_decode(pub.z85, raw), 0);
    assert_memory_equal(t.collector_key, raw, 32);
    json_decref(j);
    cli_out_release(&o);

    /* with neither file there is nothing to print */
    char hold[400];
    snprintf(hold, sizeof hold, "%s/collector-elsewhere.pub", s_dir);
    assert_int_equal(rename(pub_path, hold), 0);
    cli_run(&o, "--store", s_store, "collector-key", NULL);
    s_expect(1, o.err, "no collector key at", &o);
    cli_out_release(&o);
    assert_int_equal(rename(hold, pub_path), 0);
    assert_int_equal(rename(away, sec_path), 0);
    assert_int_equal(cli_run(&o, "--store", s_store, "collector-key", NULL), 0);
    assert_null(strstr(o.err, "is not in the store"));
    cli_out_release(&o);
}

/* `lower` indicators show the value scored 0 first, as the legend says. */
static void test_framework_goalposts_for_lower(void **state)
{
    (void)state;
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "framework", NULL), 0);
    s_expect(0, o.out, "goalposts: the value scored 0..the value scored 100", &o);
    /* poverty_risk_rate: direction lower, lower 5, upper 35 */
    const char *row = strstr(o.out, "poverty_risk_rate");
    assert_non_null(row);
    const char *eol = strchr(row, '\n');
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(eol - row), row);
    assert_non_null(strstr(line, "lower"));
    assert_non_null(strstr(line, "35..5"));
    cli_out_release(&o);
}

/* `direction = lower` over lower 10, upper 3 scores 3 as 0 and 10 as 100:
 * the table says better higher (the score's slope, as the loader's own
 * message does), goalposts 3..10; JSON keeps the raw keys and adds
 * "better". */
static void test_framework_better_for_reversed_goalposts(void **state)
{
    (void)state;
    char ini[400], store[400];
    snprintf(ini, sizeof ini, "%s/reversed.ini", s_dir);
    snprintf(store, sizeof store, "%s/reversed", s_dir);
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    fputs("[framework]\nid = r\nversion = 1\n[area:a]\nname = A\n[focus:a.f]\narea = a\n"
          "name = F\n"
          "[indicator:rev]\nfocus = a.f\nname = R\nunit = u\ndirection = lower\n"
          "lower = 10\nupper = 3\nmin = 0\nmax = 20\n"
          "[indicator:std]\nfocus = a.f\nname = S\nunit = u\ndirection = lower\n"
          "lower = 3\nupper = 10\nmin = 0\nmax = 20\n"
          "[indicator:up]\nfocus = a.f\nname = U\nunit = u\ndirection = higher\n"
          "lower = 10\nupper = 3\nmin = 0\nmax = 20\n", f);
    fclose(f);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "init", "--framework", ini, NULL), 0);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "framework", NULL), 0);
    static const struct {
        const char *id, *better, *goalposts;
    } want[] = {{"rev", "higher", "3..10"}, {"std", "lower", "10..3"}, {"up", "lower", "10..3"}};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        char head[16], line[512];
        snprintf(head, sizeof head, "    %s ", want[k].id);
        const char *row = strstr(o.out, head);
        assert_non_null(row);
        const char *eol = strchr(row, '\n');
        snprintf(line, sizeof line, "%.*s", (int)(eol - row), row);
        /* columns: id, name, unit, better, goalposts, ... */
        char id[32], name[32], unit[32], better[32], goal[32];
        assert_int_equal(sscanf(line, "%31s %31s %31s %31s %31s", id, name, unit, better,
                                goal), 5);
        if (strcmp(better, want[k].better) != 0 || strcmp(goal, want[k].goalposts) != 0)
            fail_msg("%s: better %s, goalposts %s; wanted %s, %s: %s", want[k].id, better,
                     goal, want[k].better, want[k].goalposts, line);
    }
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "framework", NULL), 0);
    json_t *j = cli_json(&o);
    json_t *inds = cli_json_get(json_array_get(cli_json_get(json_array_get(
                                    cli_json_get(j, "areas"), 0), "focus"), 0), "indicators");
    assert_int_equal(json_array_size(inds), 3);
    for (size_t k = 0; k < 3; k++) {
        json_t *i = json_array_get(inds, k);
        assert_string_equal(cli_json_str(i, "id"), want[k].id);
        assert_string_equal(cli_json_str(i, "better"), want[k].better);
        assert_string_equal(cli_json_str(i, "direction"), k == 2 ? "higher" : "lower");
    }
    assert_true(cli_json_num(json_array_get(inds, 0), "lower") == 10.0);
    assert_true(cli_json_num(json_array_get(inds, 0), "upper") == 3.0);
    json_decref(j);
    cli_out_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_tightens_folder),
        cmocka_unit_test(test_invitations),
        cmocka_unit_test(test_show_revoke_reinstate),
        cmocka_unit_test(test_collector_key_outside_store),
        cmocka_unit_test(test_collector_key_mismatched_pair),
        cmocka_unit_test(test_collector_key_rotation),
        cmocka_unit_test(test_backup_secret_key_private),
        cmocka_unit_test(test_framework_goalposts_for_lower),
        cmocka_unit_test(test_framework_better_for_reversed_goalposts),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
