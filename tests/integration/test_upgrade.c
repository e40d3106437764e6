/* An upgrade from the first release, walked with the real programs on a
 * store of schema 1 (the first release's) with its modes (data.mdb and
 * lock.mdb 0644):
 *
 * - a collector that cannot start (an address it must listen on is taken,
 *   as by the first-release collector still running there: listen,
 *   enrol_listen or metrics_listen) exits 1 naming the address and leaves
 *   the store as it was: schema 1, modes and all;
 * - a collector that starts says "store upgraded from schema 1 to N" and
 *   takes away the modes --check-config refuses, one line each, and the
 *   check then passes; a restart says neither again;
 * - a glci command that writes says the same on stderr; one that only
 *   reads converts and changes nothing; files another user owns keep
 *   their modes;
 * - the CLI's writable open (glci_cli_open, in this process) tightens the
 *   modes and still holds LMDB's lock on lock.mdb once open, as the
 *   collector does.
 *
 * The older store is a new one made back into schema 1 with raw LMDB: the
 * databases added since dropped and meta/schema set to 1 (docs/STORE.md's
 * layout: "schema" a big-endian u32). With no city in it, nothing else
 * differs from what the first release wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "glci_testsupport.h"

#define S_WAIT_MS 120000

typedef struct {
    char *dir;
    char store[512];
    char *glci, *collector;
    glci_ts_proc_t *proc;     /* a collector running, stopped by the teardown */
} fx_t;

/* The databases a first-release store does not have. */
static const char *const s_added[] = {"invites", "refused", "editions", "edition_rows",
                                      "slots", "members", "hruns"};

static void s_make_schema1(const char *store)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, store, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (size_t i = 0; i < sizeof s_added / sizeof s_added[0]; i++) {
        int rc = mdb_dbi_open(txn, s_added[i], 0, &dbi);
        if (rc == MDB_NOTFOUND)
            continue;
        assert_int_equal(rc, 0);
        assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    }
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    unsigned char one[4] = {0, 0, 0, 1};
    MDB_val k = {6, "schema"}, v = {4, one};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static int s_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = glci_ts_tmpdir("upgrade");
    snprintf(f->store, sizeof f->store, "%s/store", f->dir);
    f->glci = glci_ts_bin("cli/glci");
    f->collector = glci_ts_bin("collector/glci-collector");
    const char *init[] = {f->glci, "init", "--framework", glci_ts_framework(), "--store",
                          f->store, NULL};
    assert_int_equal(glci_ts_run(init, NULL, S_WAIT_MS, NULL, NULL), 0);
    s_make_schema1(f->store);
    /* as the first release's glci init left them */
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", f->store);
    assert_int_equal(chmod(path, 0644), 0);
    snprintf(path, sizeof path, "%s/lock.mdb", f->store);
    assert_int_equal(chmod(path, 0644), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *f = *state;
    glci_ts_proc_stop(&f->proc, S_WAIT_MS);    /* one a failed assertion left */
    glci_ts_rmtree(f->dir);
    free(f->dir);
    free(f->glci);
    free(f->collector);
    free(f);
    return 0;
}

/* The schema `glci status` reads (read-only: it converts nothing). */
static long s_schema(const fx_t *f)
{
    const char *argv[] = {f->glci, "status", "--store", f->store, "--format", "json", NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(argv, NULL, S_WAIT_MS, &out, &err);
    const char *at = out ? strstr(out, "\"schema\": ") : NULL;
    if (rc != 0 || !at)
        fail_msg("glci status: exit %d\n%s%s", rc, out ? out : "", err ? err : "");
    long n = strtol(at + 10, NULL, 10);
    if (err && *err)
        fail_msg("glci status said: %s", err);
    free(out);
    free(err);
    return n;
}

static unsigned s_mode(const fx_t *f, const char *name)
{
    char path[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s%s%s", f->store, *name ? "/" : "", name);
    assert_int_equal(stat(path, &sb), 0);
    return (unsigned)sb.st_mode & 07777;
}

static void s_has(const char *what, const char *text, const char *want)
{
    if (!text || !strstr(text, want))
        fail_msg("no \"%s\" in %s:\n%s", want, what, text ? text : "");
}

/* A collector that cannot bind an address exits 1 naming it, before it
 * has written anything to the store: listen taken (the first-release
 * collector's), then enrol_listen taken with listen free, then
 * metrics_listen. */
static void test_failed_start_converts_nothing(void **state)
{
    fx_t *f = *state;
    int port;
    int fd = glci_ts_listen_loopback(&port);
    char ep[64], want[128];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    snprintf(want, sizeof want, "cannot listen on %s: Address already in use", ep);

    const char *taken[] = {f->collector, "--store", f->store, "--listen", ep, NULL};
    char *err = NULL;
    assert_int_equal(glci_ts_run(taken, NULL, S_WAIT_MS, NULL, &err), 1);
    s_has("the collector's log", err, want);
    free(err);
    assert_int_equal(s_schema(f), 1);
    assert_int_equal(s_mode(f, "data.mdb"), 0644);

    char conf[600];
    snprintf(conf, sizeof conf, "%s/collector.conf", f->dir);
    char body[200];
    snprintf(body, sizeof body, "[collector]\nenrol_listen = %s\n", ep);
    assert_int_equal(glci_ts_write_file(conf, body), 0);
    const char *enrol[] = {f->collector, "--store", f->store, "--listen", "tcp://127.0.0.1:*",
                           "--config", conf, NULL};
    assert_int_equal(glci_ts_run(enrol, NULL, S_WAIT_MS, NULL, &err), 1);
    s_has("the collector's log", err, want);
    assert_null(strstr(err, "upgraded"));
    free(err);
    assert_int_equal(s_schema(f), 1);
    assert_int_equal(s_mode(f, "data.mdb"), 0644);
    assert_int_equal(s_mode(f, "lock.mdb"), 0644);

    snprintf(body, sizeof body, "[collector]\nmetrics_listen = 127.0.0.1:%d\n", port);
    assert_int_equal(glci_ts_write_file(conf, body), 0);
    snprintf(want, sizeof want, "metrics: cannot listen on 127.0.0.1:%d: Address already in use",
             port);
    assert_int_equal(glci_ts_run(enrol, NULL, S_WAIT_MS, NULL, &err), 1);
    s_has("the collector's log", err, want);
    free(err);
    assert_int_equal(s_schema(f), 1);
    assert_int_equal(s_mode(f, "data.mdb"), 0644);
    close(fd);
}

/* 1 if process pid holds a POSIX lock on path (/proc/locks): LMDB's on
 * lock.mdb, which tell a later opener it is not alone. */
static int s_holds_lock(pid_t pid, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return 0;
    FILE *in = fopen("/proc/locks", "r");
    if (!in)
        return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, in)) {
        char kind[16], dev[64];
        long who;
        if (sscanf(line, "%*s %15s %*s %*s %ld %63s", kind, &who, dev) != 3 ||
            strcmp(kind, "POSIX") != 0 || who != (long)pid)
            continue;
        const char *ino = strrchr(dev, ':');
        found = ino && strtoull(ino + 1, NULL, 10) == (unsigned long long)sb.st_ino;
    }
    fclose(in);
    return found;
}

/* A collector that starts converts the store and says so, takes away the
 * modes the check refuses (one line each), and the check then passes. */
static void test_collector_says_and_tightens(void **state)
{
    fx_t *f = *state;
    assert_int_equal(chmod(f->store, 0775), 0);
    const char *argv[] = {f->collector, "--store", f->store, "--listen", "tcp://127.0.0.1:*",
                          NULL};
    f->proc = glci_ts_proc_start(argv, NULL);
    assert_int_equal(glci_ts_proc_wait_ready(f->proc, S_WAIT_MS), 0);
    char *log = glci_ts_proc_stderr(f->proc);
    long now = s_schema(f);
    assert_true(now > 1);
    char want[700];
    snprintf(want, sizeof want, "store upgraded from schema 1 to %ld\n", now);
    s_has("the collector's log", log, want);
    assert_int_equal(glci_ts_count(log, "store upgraded"), 1);
    snprintf(want, sizeof want, "store: %s/data.mdb was mode 0644; made it 0600\n", f->store);
    s_has("the collector's log", log, want);
    snprintf(want, sizeof want, "store: %s/lock.mdb was mode 0644; made it 0600\n", f->store);
    s_has("the collector's log", log, want);
    snprintf(want, sizeof want, "store: %s was mode 0775; made it 0755\n", f->store);
    s_has("the collector's log", log, want);
    free(log);
    assert_int_equal(s_mode(f, "data.mdb"), 0600);
    assert_int_equal(s_mode(f, "lock.mdb"), 0600);
    assert_int_equal(s_mode(f, ""), 0755);
    /* what the tightening opened and closed did not take LMDB's locks with
     * it (a close of any descriptor of lock.mdb drops them) */
    char lockpath[600];
    snprintf(lockpath, sizeof lockpath, "%s/lock.mdb", f->store);
    assert_true(s_holds_lock(glci_ts_proc_pid(f->proc), lockpath));

    /* beside the running collector, as OPERATIONS.md has it before a restart */
    const char *check[] = {f->collector, "--check-config", "--store", f->store, "--listen",
                           "tcp://127.0.0.1:*", NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(check, NULL, S_WAIT_MS, &out, &err);
    if (rc != 0)
        fail_msg("--check-config: exit %d\n%s%s", rc, out ? out : "", err ? err : "");
    s_has("the check's output", out, "configuration ok");
    free(out);
    free(err);
    assert_true(s_holds_lock(glci_ts_proc_pid(f->proc), lockpath));
    assert_int_equal(glci_ts_proc_stop(&f->proc, S_WAIT_MS), 0);

    /* said once: a restart finds nothing to say */
    f->proc = glci_ts_proc_start(argv, NULL);
    assert_int_equal(glci_ts_proc_wait_ready(f->proc, S_WAIT_MS), 0);
    log = glci_ts_proc_stderr(f->proc);
    assert_null(strstr(log, "upgraded"));
    assert_null(strstr(log, "made it"));
    free(log);
    assert_int_equal(glci_ts_proc_stop(&f->proc, S_WAIT_MS), 0);
}

/* glci: a query converts and changes nothing; the first command that
 * writes converts the store and says so on stderr, as the collector does. */
static void test_cli_says_and_tightens(void **state)
{
    fx_t *f = *state;
    assert_int_equal(s_schema(f), 1);
    assert_int_equal(s_mode(f, "data.mdb"), 0644);

    char key[600];
    snprintf(key, sizeof key, "%s/cork.key", f->dir);
    const char *add[] = {f->glci, "city", "add", "cork-ie", "--name", "Cork", "--country", "IE",
                         "--key-out", key, "--store", f->store, NULL};
    char *err = NULL;
    assert_int_equal(glci_ts_run(add, NULL, S_WAIT_MS, NULL, &err), 0);
    long now = s_schema(f);
    assert_true(now > 1);
    char want[700];
    snprintf(want, sizeof want, "glci city add: note: store upgraded from schema 1 to %ld\n", now);
    s_has("glci city add's stderr", err, want);
    snprintf(want, sizeof want,
             "glci city add: note: store: %s/data.mdb was mode 0644; made it 0600\n", f->store);
    s_has("glci city add's stderr", err, want);
    free(err);
    assert_int_equal(s_mode(f, "data.mdb"), 0600);
    assert_int_equal(s_mode(f, "lock.mdb"), 0600);

    /* the next writer has nothing to say */
    const char *revoke[] = {f->glci, "city", "revoke", "cork-ie", "--store", f->store, NULL};
    assert_int_equal(glci_ts_run(revoke, NULL, S_WAIT_MS, NULL, &err), 0);
    assert_null(strstr(err, "note:"));
    free(err);
}

/* glci_cli_open for a writer, in this process: the modes are taken away
 * and, once the store is open, this process holds LMDB's POSIX lock on
 * lock.mdb (the tightening runs before the open: closing any descriptor
 * of lock.mdb after it would drop that lock, and the next process to open
 * the store would reset the lock table under this one). */
static void test_cli_open_keeps_its_lock(void **state)
{
    fx_t *f = *state;
    char lockpath[600];
    snprintf(lockpath, sizeof lockpath, "%s/lock.mdb", f->store);
    assert_int_equal(s_mode(f, "lock.mdb"), 0644);
    const glci_cmd_t cmd = {.name = "city add"};
    const glci_cli_t cli = {.store_dir = f->store, .format = GLCI_FMT_TABLE};
    glci_store_t *st = NULL;
    assert_int_equal(glci_cli_open(&cmd, &cli, 0, &st), 0);
    assert_non_null(st);
    assert_int_equal(s_mode(f, "lock.mdb"), 0600);
    assert_true(s_holds_lock(getpid(), lockpath));
    glci_store_close(&st);
    assert_false(s_holds_lock(getpid(), lockpath));
}

/* Files another user owns are left as they are (root's glci on glci's
 * store): the store is still converted, and the modes stay, unsaid. */
static void test_other_owner_left(void **state)
{
    fx_t *f = *state;
    if (geteuid() != 0)
        skip();
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", f->store);
    assert_int_equal(chown(path, 65534, 65534), 0);
    snprintf(path, sizeof path, "%s/lock.mdb", f->store);
    assert_int_equal(chown(path, 65534, 65534), 0);
    char key[600];
    snprintf(key, sizeof key, "%s/cork.key", f->dir);
    const char *add[] = {f->glci, "city", "add", "cork-ie", "--name", "Cork", "--country", "IE",
                         "--key-out", key, "--store", f->store, NULL};
    char *err = NULL;
    assert_int_equal(glci_ts_run(add, NULL, S_WAIT_MS, NULL, &err), 0);
    s_has("glci city add's stderr", err, "store upgraded from schema 1 to");
    assert_null(strstr(err, "made it"));
    free(err);
    assert_int_equal(s_mode(f, "data.mdb"), 0644);
    assert_int_equal(s_mode(f, "lock.mdb"), 0644);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_start_converts_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_collector_says_and_tightens, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cli_says_and_tightens, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cli_open_keeps_its_lock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_other_owner_left, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
