/* `glci-collector --check-config` and `glci-agent check`, the real programs
 * against a real store, key files and a running collector: every problem
 * they look for, each with its one line and exit 1; what is only a note
 * (an address in use, a folder run will make) with exit 0; and a clean
 * configuration with its one line. Problems that root's rights hide (a
 * store or folder this user may not write, a privileged port) are checked
 * as nobody when the test runs as root. As root the test runs in a network
 * namespace of its own, so the addresses it binds are that namespace's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_checker.h"
#include "glci_keyfile.h"

#define S_WAIT_MS 120000

static glci_sys_t *s_sys;
static char s_conf[700];        /* a collector config written by each test */

static int s_setup(void **state)
{
    s_sys = glci_sys_open("check-config", 1, NULL);
    /* nobody must reach the store and the agent's files through the folder */
    assert_int_equal(chmod(s_sys->dir, 0755), 0);
    snprintf(s_conf, sizeof s_conf, "%s/check.conf", s_sys->dir);
    glci_sys_start_collector(s_sys, NULL);
    return 0;
}

static int s_teardown(void **state)
{
    glci_sys_close(&s_sys);
    return 0;
}

/* Runs argv (after the program) as this user, or as nobody when asked and
 * this is root; *out and *err as glci_ts_run. Returns the exit status. */
static int s_run(const char *prog, const char *const *args, int as_nobody, char **out, char **err)
{
    const char *argv[40];
    size_t n = 0;
    if (as_nobody && geteuid() == 0) {
        static const char *const nobody[] = {"/usr/bin/setpriv", "--reuid=65534",
                                             "--regid=65534", "--clear-groups", "--"};
        for (size_t i = 0; i < 5; i++)
            argv[n++] = nobody[i];
    }
    argv[n++] = prog;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    *out = *err = NULL;
    return glci_ts_run(argv, NULL, S_WAIT_MS, out, err);
}

/* prog with args must exit `status` with `line` (a substring) on stderr
 * (a problem) or on stdout (status 0: a note or the last line). */
static void s_expect(const char *prog, const char *const *args, int as_nobody, int status,
                     const char *line)
{
    char *out, *err;
    int rc = s_run(prog, args, as_nobody, &out, &err);
    const char *where = status == 0 ? out : err;
    if (rc != status || !where || !strstr(where, line))
        fail_msg("exit %d (want %d), no \"%s\" in\nstdout: %s\nstderr: %s", rc, status, line,
                 out ? out : "", err ? err : "");
    free(out);
    free(err);
}

/* The collector's check with this config file body (NULL: none) and these
 * flags (s_expect). */
static void s_collector(const char *body, const char *const *flags, int as_nobody, int status,
                        const char *line)
{
    const char *args[20] = {"--check-config"};
    size_t n = 1;
    if (body) {
        assert_int_equal(glci_ts_write_file(s_conf, body), 0);
        assert_int_equal(chmod(s_conf, 0644), 0);
        args[n++] = "--config";
        args[n++] = s_conf;
    }
    for (size_t i = 0; flags && flags[i]; i++)
        args[n++] = flags[i];
    args[n] = NULL;
    s_expect(s_sys->collector_bin, args, as_nobody, status, line);
}

/* A store with its collector key, the system's (running collector's). */
static const char *s_store_flags[] = {"--store", NULL, "--listen", "tcp://127.0.0.1:*", NULL};

static void s_flags_init(void)
{
    s_store_flags[1] = s_sys->store;
}

/* ---- the collector ------------------------------------------------------- */

static void test_collector_config_problems(void **state)
{
    s_flags_init();
    char missing[800];
    snprintf(missing, sizeof missing, "%s/none.conf", s_sys->dir);
    const char *unreadable[] = {"--config", missing, NULL};
    s_collector(NULL, unreadable, 0, 1, "none.conf: cannot read the config: No such file");
    s_collector("[collector]\nbatch_max = lots\n", s_store_flags, 0, 1,
                "check.conf:2: batch_max must be an integer in [1, 1000000], not 'lots'");
    s_collector("[collector]\ncolour = blue\n", s_store_flags, 0, 1,
                "check.conf:2: unknown key 'colour'");
    s_collector("[collector]\nmetrics_listen = :9461\n", s_store_flags, 0, 1,
                "check.conf:2: metrics_listen must be PORT, ADDRESS:PORT or [IPV6]:PORT (no host; "
                "give 9461 for loopback or 0.0.0.0:9461 for every interface), not ':9461'");
    s_collector("[collector]\nmetrics_listen = metrics.example.org:9461\n", s_store_flags, 0, 1,
                "is not an IPv4 address or localhost (give the address, not a host name)");
    s_collector("[collector]\n", NULL, 0, 1,
                "no store given (--store DIR or store = DIR in [collector])");
    /* a port libzmq would read leniently (97031 bound 31495, 0 any) */
    static const char *const bad_ports[] = {"tcp://127.0.0.1:97031", "tcp://127.0.0.1:0",
                                            "tcp://127.0.0.1:7461x", "tcp://127.0.0.1",
                                            "tcp://:7461", "ipc://"};
    for (size_t i = 0; i < sizeof bad_ports / sizeof bad_ports[0]; i++) {
        const char *flags[] = {"--store", s_sys->store, "--listen", bad_ports[i], NULL};
        char line[300];
        snprintf(line, sizeof line, "--listen: listen must be tcp://HOST:PORT with PORT a "
                 "number 1..65535 (or * to bind any), or ipc://PATH, not '%s'", bad_ports[i]);
        s_collector(NULL, flags, 0, 1, line);
    }
    s_collector("[collector]\nenrol_listen = tcp://127.0.0.1:65536\n", s_store_flags, 0, 1,
                "check.conf:2: enrol_listen must be tcp://HOST:PORT with PORT a number "
                "1..65535");
}

static void test_collector_store_problems(void **state)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s/nostore", s_sys->dir);
    const char *gone[] = {"--store", dir, "--listen", "tcp://127.0.0.1:*", NULL};
    s_collector(NULL, gone, 0, 1, "store: ");
    s_collector(NULL, gone, 0, 1, "nostore: no such directory");
    assert_int_equal(mkdir(dir, 0755), 0);
    s_collector(NULL, gone, 0, 1, "nostore: no store here (no data.mdb)");
    /* its key file is looked for too, in its own line */
    s_collector(NULL, gone, 0, 1, "key_file: ");
    assert_int_equal(rmdir(dir), 0);

    /* a store nobody may write, opened read-only beside the running collector */
    char lock[800], data[800], hdir[800], hlock[800], hdata[800];
    snprintf(lock, sizeof lock, "%s/lock.mdb", s_sys->store);
    snprintf(data, sizeof data, "%s/data.mdb", s_sys->store);
    snprintf(hdir, sizeof hdir, "%s/history", s_sys->store);
    snprintf(hlock, sizeof hlock, "%s/history/lock.mdb", s_sys->store);
    snprintf(hdata, sizeof hdata, "%s/history/data.mdb", s_sys->store);
    assert_int_equal(chmod(s_sys->store, 0755), 0);
    assert_int_equal(chmod(lock, 0666), 0);
    assert_int_equal(chmod(data, 0644), 0);
    assert_int_equal(chmod(hdir, 0755), 0);
    assert_int_equal(chmod(hlock, 0666), 0);
    assert_int_equal(chmod(hdata, 0644), 0);
    char line[2000];
    snprintf(line, sizeof line, "store %s: not writable by this user (uid ", s_sys->store);
    if (geteuid() == 0)
        s_collector("[collector]\ninsecure = true\n", s_store_flags, 1, 1, line);

    s_collector("[collector]\nmap_max = 4096\n", s_store_flags, 0, 1,
                "map_max 4096 is not above the ");

    /* modes that let others change (or read) every city's data: each one
     * line naming the path, its mode and the mode it should have; the
     * store folder holds the key too */
    assert_int_equal(chmod(s_sys->store, 0777), 0);
    assert_int_equal(chmod(data, 0666), 0);
    snprintf(line, sizeof line, "store folder %s is mode 0777: writable by group and others; "
             "make it 0700 (chmod 700 %s)", s_sys->store, s_sys->store);
    s_collector(NULL, s_store_flags, 0, 1, line);
    snprintf(line, sizeof line, "store file %s is mode 0666: writable by group and others, "
             "readable by others; make it 0600 (chmod 600 %s)", data, data);
    s_collector(NULL, s_store_flags, 0, 1, line);
    snprintf(line, sizeof line, "store lock file %s is mode 0666: writable by group and "
             "others; make it 0600", lock);
    s_collector(NULL, s_store_flags, 0, 1, line);
    assert_int_equal(chmod(data, 0604), 0);
    snprintf(line, sizeof line, "store file %s is mode 0604: readable by others", data);
    s_collector(NULL, s_store_flags, 0, 1, line);
    /* the history file (schema 7) is judged as the data file is */
    snprintf(line, sizeof line, "history file %s is mode 0644: readable by others; make it "
             "0600 (chmod 600 %s)", hdata, hdata);
    s_collector(NULL, s_store_flags, 0, 1, line);
    snprintf(line, sizeof line, "history lock file %s is mode 0666: writable by group and "
             "others; make it 0600", hlock);
    s_collector(NULL, s_store_flags, 0, 1, line);
    assert_int_equal(chmod(hdir, 0777), 0);
    snprintf(line, sizeof line, "history folder %s is mode 0777: writable by group and others; "
             "make it 0700 (chmod 700 %s)", hdir, hdir);
    s_collector(NULL, s_store_flags, 0, 1, line);
    /* what the package makes passes: a store folder 0750 (StateDirectoryMode)
     * holding files 0600, and a group may read the data file */
    assert_int_equal(chmod(s_sys->store, 0750), 0);
    assert_int_equal(chmod(data, 0640), 0);
    assert_int_equal(chmod(lock, 0600), 0);
    assert_int_equal(chmod(hdir, 0750), 0);
    assert_int_equal(chmod(hdata, 0640), 0);
    assert_int_equal(chmod(hlock, 0600), 0);
    s_collector(NULL, s_store_flags, 0, 0, "configuration ok");
    assert_int_equal(chmod(s_sys->store, 0700), 0);
    assert_int_equal(chmod(data, 0600), 0);
    assert_int_equal(chmod(hdir, 0700), 0);
    assert_int_equal(chmod(hdata, 0600), 0);
}

static void test_collector_key_problems(void **state)
{
    char key[800];
    snprintf(key, sizeof key, "%s/collector.key", s_sys->dir);
    const char *flags[] = {"--store", s_sys->store, "--listen", "tcp://127.0.0.1:*",
                           "--key-file", key, NULL};
    s_collector(NULL, flags, 0, 1, "key_file: ");
    s_collector(NULL, flags, 0, 1, "collector.key: No such file or directory");
    assert_int_equal(glci_ts_write_file(key, "[curve]\npublic-key = \"nonsense\"\n"), 0);
    assert_int_equal(chmod(key, 0600), 0);
    s_collector(NULL, flags, 0, 1, "key_file: ");
    glci_key_t pub, sec;
    char err[256];
    assert_int_equal(unlink(key), 0);
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(key, &pub, &sec, err, sizeof err), 0);
    assert_int_equal(chmod(key, 0640), 0);
    s_collector(NULL, flags, 0, 1, "collector.key: secret key file is accessible by group or "
                                   "others (mode 0640); run chmod 600 on it");

    /* during a rotation, the previous key too (only while its file is there) */
    char prev[800], body[2000];
    snprintf(prev, sizeof prev, "%s/collector.previous.key", s_sys->dir);
    snprintf(body, sizeof body, "[collector]\nprevious_listen = ipc://%s/previous.sock\n"
             "previous_key_file = %s\n", s_sys->dir, prev);
    s_collector(body, s_store_flags, 0, 0, "configuration ok");
    char note[2000];
    snprintf(note, sizeof note, "note: previous_listen ipc://%s/previous.sock is not served "
             "until glci collector-key rotate makes %s", s_sys->dir, prev);
    s_collector(body, s_store_flags, 0, 0, note);
    assert_int_equal(glci_keyfile_write_secret(prev, &pub, &sec, err, sizeof err), 0);
    assert_int_equal(chmod(prev, 0644), 0);
    s_collector(body, s_store_flags, 0, 1, "previous_key_file: ");
    s_collector(body, s_store_flags, 0, 1, "collector.previous.key: secret key file is "
                                           "accessible by group or others (mode 0644)");

    /* a key file in a folder others may write: another key could be put
     * in its place */
    char kdir[800], kfile[900], line[2000], store_key[800];
    snprintf(kdir, sizeof kdir, "%s/keys", s_sys->dir);
    snprintf(kfile, sizeof kfile, "%s/collector.key", kdir);
    assert_int_equal(mkdir(kdir, 0700), 0);
    /* the store's own pair, so that its collector.pub agrees */
    snprintf(store_key, sizeof store_key, "%s/collector.key", s_sys->store);
    assert_int_equal(glci_keyfile_read(store_key, &pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(kfile, &pub, &sec, err, sizeof err), 0);
    const char *kflags[] = {"--store", s_sys->store, "--listen", "tcp://127.0.0.1:*",
                            "--key-file", kfile, NULL};
    s_collector(NULL, kflags, 0, 0, "configuration ok");
    assert_int_equal(chmod(kdir, 0777), 0);
    snprintf(line, sizeof line, "key_file's folder %s is mode 0777: writable by group and "
             "others; make it 0700", kdir);
    s_collector(NULL, kflags, 0, 1, line);
    assert_int_equal(chmod(kdir, 0700), 0);
}

/* key_file and the store's collector.pub (the key glci collector-key
 * prints and enrolment strings carry) must be one pair: a key_file whose
 * public half is another key is a problem naming both files. */
static void test_collector_key_pair_problems(void **state)
{
    char dir[800], kfile[900], pub_path[800], line[2400], err[256];
    snprintf(dir, sizeof dir, "%s/otherkey", s_sys->dir);
    snprintf(kfile, sizeof kfile, "%s/collector.key", dir);
    snprintf(pub_path, sizeof pub_path, "%s/collector.pub", s_sys->store);
    assert_int_equal(mkdir(dir, 0700), 0);
    glci_key_t pub, sec;
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(kfile, &pub, &sec, err, sizeof err), 0);
    const char *flags[] = {"--store", s_sys->store, "--listen", "tcp://127.0.0.1:*",
                           "--key-file", kfile, NULL};
    snprintf(line, sizeof line, "glci-collector: %s does not hold the public key of %s: not a "
             "key pair\n", pub_path, kfile);
    s_collector(NULL, flags, 0, 1, line);
    /* the store's own pair is clean */
    s_collector(NULL, s_store_flags, 0, 0, "configuration ok");
}

static void test_collector_address_problems(void **state)
{
    if (geteuid() == 0) {
        const char *low[] = {"--store", s_sys->store, "--listen", "tcp://127.0.0.1:1", NULL};
        s_collector("[collector]\ninsecure = true\n", low, 1, 1,
                    "cannot listen on tcp://127.0.0.1:1: Permission denied");
    }
    const char *no_folder[] = {"--store", s_sys->store, "--listen",
                               "ipc:///nonexistent-glci/collector.sock", NULL};
    s_collector(NULL, no_folder, 0, 1, "cannot listen on ipc:///nonexistent-glci/collector.sock: "
                                       "folder /nonexistent-glci: No such file or directory");
    s_collector("[collector]\nenrol_listen = ipc:///nonexistent-glci/enrol.sock\n",
                s_store_flags, 0, 1, "cannot listen on ipc:///nonexistent-glci/enrol.sock: "
                                     "folder /nonexistent-glci: No such file or directory");
    /* tcp://localhost is bound as 127.0.0.1 (libzmq would take it for an
     * interface name: "No such device") */
    const char *local[] = {"--store", s_sys->store, "--insecure", "--listen",
                           "tcp://localhost:*", NULL};
    s_collector(NULL, local, 0, 0, "configuration ok (store");
    s_collector(NULL, local, 0, 0, "listen tcp://127.0.0.1:* without CURVE");
    /* a bare port for the metrics is named as served: on loopback */
    {
        int port;
        int lfd = glci_ts_listen_loopback(&port);
        close(lfd);                    /* a port free a moment ago */
        char mbody[100], mline[120];
        snprintf(mbody, sizeof mbody, "[collector]\nmetrics_listen = %d\n", port);
        snprintf(mline, sizeof mline, "metrics 127.0.0.1:%d)", port);
        s_collector(mbody, local, 0, 0, mline);
    }
    /* the running collector's endpoint: a note only */
    const char *in_use[] = {"--store", s_sys->store, "--listen", s_sys->endpoint, NULL};
    char note[200];
    snprintf(note, sizeof note, "note: listen %s is in use now (by the running collector?)",
             s_sys->endpoint);
    s_collector(NULL, in_use, 0, 0, note);

    /* metrics_listen: a port held by another, a port nobody may bind */
    int busy;
    int fd = glci_ts_listen_loopback(&busy);
    char body[100];
    snprintf(body, sizeof body, "[collector]\nmetrics_listen = %d\n", busy);
    snprintf(note, sizeof note, "note: metrics_listen 127.0.0.1:%d is in use now", busy);
    s_collector(body, s_store_flags, 0, 0, note);
    close(fd);
    if (geteuid() == 0)
        s_collector("[collector]\nmetrics_listen = 80\ninsecure = true\n", s_store_flags, 1, 1,
                    "cannot listen on 127.0.0.1:80 (metrics_listen): Permission denied");
}

/* With no collector on the store, an address another program holds would
 * keep the collector from starting: a problem, not a note. */
static void test_collector_address_held_by_another(void **state)
{
    glci_sys_stop_collector(s_sys);
    int busy;
    int fd = glci_ts_listen_loopback(&busy);
    char endpoint[64], line[900];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", busy);
    const char *in_use[] = {"--store", s_sys->store, "--listen", endpoint, NULL};
    snprintf(line, sizeof line, "cannot listen on %s (listen): in use by another program, and "
             "no glci-collector runs on store %s", endpoint, s_sys->store);
    s_collector(NULL, in_use, 0, 1, line);
    char body[100];
    snprintf(body, sizeof body, "[collector]\nmetrics_listen = %d\n", busy);
    snprintf(line, sizeof line, "cannot listen on 127.0.0.1:%d (metrics_listen): in use by "
             "another program, and no glci-collector runs on store %s", busy, s_sys->store);
    s_collector(body, s_store_flags, 0, 1, line);
    close(fd);
    glci_sys_start_collector(s_sys, NULL);
}

/* Set by main: this process runs in a network namespace of its own (as
 * root), the one place the checks may bind every interface's address. */
static int s_own_net;

static void test_collector_clean(void **state)
{
    s_collector("[collector]\nmetrics_listen = 127.0.0.1:0\n", s_store_flags, 0, 0,
                "glci-collector: configuration ok (store ");
    if (!s_own_net)
        skip();     /* 0.0.0.0 is the host's: not the tests' to bind */
    s_collector("[collector]\ninsecure = true\nmetrics_listen = 0.0.0.0:0\n", s_store_flags, 0, 0,
                "note: insecure = true: no CURVE");
    s_collector("[collector]\nmetrics_listen = 0.0.0.0:0\n", s_store_flags, 0, 0,
                "note: metrics_listen 0.0.0.0:0 is reachable from other machines");
}

/* ---- the agent ----------------------------------------------------------- */

/* glci-agent check with the system's agent config and these flags
 * (s_expect). */
static void s_agent(const char *const *flags, int as_nobody, int status, const char *line)
{
    const char *args[24] = {"--config", s_sys->agents[0].conf, "check", "--timeout", "3"};
    size_t n = 5;
    for (size_t i = 0; flags && flags[i]; i++)
        args[n++] = flags[i];
    args[n] = NULL;
    s_expect(s_sys->agent_bin, args, as_nobody, status, line);
}

static void test_agent_settings_problems(void **state)
{
    char path[800];
    snprintf(path, sizeof path, "%s/none.conf", s_sys->dir);
    const char *args[] = {"check", "--config", path, NULL};
    char *out, *err;
    assert_int_equal(s_run(s_sys->agent_bin, args, 0, &out, &err), 1);
    assert_non_null(strstr(err, "glci-agent check: "));
    assert_non_null(strstr(err, "none.conf: cannot read the config: No such file or directory"));
    free(out);
    free(err);
    s_agent((const char *[]){"--window", "lots", NULL}, 0, 1,
            "--window: window must be an integer in [1, 1024], not 'lots'");
    s_agent((const char *[]){"--city", "Cork!", NULL}, 0, 1, "city must be 1-63 of [a-z0-9._-]");
    snprintf(path, sizeof path, "%s/empty.conf", s_sys->dir);
    assert_int_equal(glci_ts_write_file(path, "[agent]\n"), 0);
    const char *empty[] = {"check", "--config", path, NULL};
    assert_int_equal(s_run(s_sys->agent_bin, empty, 0, &out, &err), 1);
    assert_non_null(strstr(err, "city is not set (config key city, or --city)"));
    assert_non_null(strstr(out, "note: no handshake tried"));
    free(out);
    free(err);
    /* every setting missing: one line each, in one run */
    const char *none[] = {"--config", "/dev/null", "check", NULL};
    assert_int_equal(s_run(s_sys->agent_bin, none, 0, &out, &err), 1);
    assert_string_equal(err,
        "glci-agent check: city is not set (config key city, or --city)\n"
        "glci-agent check: collector is not set (config key collector, or --collector)\n"
        "glci-agent check: outbox is not set (config key outbox, or --outbox)\n"
        "glci-agent check: spool is not set (config key spool, or --spool)\n"
        "glci-agent check: collector_key is not set (config key collector_key, or "
        "--collector-key)\n"
        "glci-agent check: key_file is not set (config key key_file, or --key-file)\n");
    assert_string_equal(out, "glci-agent check: note: no handshake tried: the settings or keys "
                             "above must be fixed first\n");
    free(out);
    free(err);
    /* with insecure, the keys are not needed but a remote endpoint is a
     * problem beside the missing ones */
    const char *loose[] = {"--config", "/dev/null", "--insecure", "--collector",
                           "tcp://glci.example.org:7461", "check", NULL};
    assert_int_equal(s_run(s_sys->agent_bin, loose, 0, &out, &err), 1);
    assert_string_equal(err,
        "glci-agent check: city is not set (config key city, or --city)\n"
        "glci-agent check: outbox is not set (config key outbox, or --outbox)\n"
        "glci-agent check: spool is not set (config key spool, or --spool)\n"
        "glci-agent check: insecure mode refuses collector endpoint "
        "'tcp://glci.example.org:7461': only loopback (127.0.0.0/8, [::1], localhost) or "
        "ipc:// is allowed\n");
    free(out);
    free(err);
    s_agent((const char *[]){"--insecure", "--collector", "tcp://glci.example.org:7461", NULL}, 0, 1,
            "insecure mode refuses collector endpoint 'tcp://glci.example.org:7461'");
    s_agent((const char *[]){"--timeout", "0", NULL}, 0, 2,
            "--timeout must be whole seconds in [1, 3600], not '0'");
    s_agent((const char *[]){"--collector", "tcp://127.0.0.1:65536", NULL}, 0, 1,
            "--collector: collector must be tcp://HOST:PORT with PORT a number 1..65535 (or * "
            "to bind any), or ipc://PATH, not 'tcp://127.0.0.1:65536'");
}

static void test_agent_key_problems(void **state)
{
    char path[800];
    snprintf(path, sizeof path, "%s/nokey", s_sys->dir);
    s_agent((const char *[]){"--key-file", path, NULL}, 0, 1,
            "key_file: ");
    s_agent((const char *[]){"--key-file", path, NULL}, 0, 1,
            "nokey: No such file or directory");
    const char *key = s_sys->agents[0].key;
    assert_int_equal(chmod(key, 0644), 0);
    s_agent(NULL, 0, 1, "city.key: secret key file is accessible by group or others "
                        "(mode 0644); run chmod 600 on it");
    assert_int_equal(chmod(key, 0600), 0);
    s_agent((const char *[]){"--collector-key", "not-a-key", NULL}, 0, 1, "collector_key: ");
}

static void test_agent_folder_problems(void **state)
{
    char file[800], sub[900], ro[800];
    snprintf(file, sizeof file, "%s/a-file", s_sys->dir);
    assert_int_equal(glci_ts_write_file(file, "x"), 0);
    s_agent((const char *[]){"--outbox", file, NULL}, 0, 1, "outbox ");
    s_agent((const char *[]){"--outbox", file, NULL}, 0, 1, "a-file is not a folder");
    s_agent((const char *[]){"--spool", file, NULL}, 0, 1, "a-file is not a folder");
    snprintf(sub, sizeof sub, "%s/a-file/outbox", s_sys->dir);
    s_agent((const char *[]){"--outbox", sub, NULL}, 0, 1, "a-file/outbox: Not a directory");
    s_agent((const char *[]){"--outbox", "/nonexistent-glci/outbox", NULL}, 0, 1,
            "outbox /nonexistent-glci/outbox does not exist and cannot be made: folder "
            "/nonexistent-glci: No such file or directory");
    /* a folder run will make is only a note */
    snprintf(sub, sizeof sub, "%s/new-spool", s_sys->dir);
    s_agent((const char *[]){"--spool", sub, NULL}, 0, 0,
            "note: spool ");
    /* an outbox folder that holds something else than an outbox */
    snprintf(ro, sizeof ro, "%s/bad-outbox", s_sys->dir);
    assert_int_equal(mkdir(ro, 0700), 0);
    snprintf(sub, sizeof sub, "%s/data.mdb", ro);
    assert_int_equal(glci_ts_write_file(sub, "not an LMDB file"), 0);
    s_agent((const char *[]){"--outbox", ro, NULL}, 0, 1, "outbox: ");
    /* a bad mode is one problem among others: the outbox is still checked */
    assert_int_equal(chmod(ro, 0777), 0);
    s_agent((const char *[]){"--outbox", ro, NULL}, 0, 1, "is mode 0777: writable by group");
    s_agent((const char *[]){"--outbox", ro, NULL}, 0, 1, "outbox: ");
    assert_int_equal(chmod(ro, 0700), 0);
    if (geteuid() == 0) {
        /* folders nobody may write */
        snprintf(ro, sizeof ro, "%s/ro-spool", s_sys->dir);
        assert_int_equal(mkdir(ro, 0755), 0);
        char nkey[800];
        snprintf(nkey, sizeof nkey, "%s/nobody.key", s_sys->dir);
        glci_key_t pub, sec;
        char err[256];
        assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
        assert_int_equal(glci_keyfile_write_secret(nkey, &pub, &sec, err, sizeof err), 0);
        assert_int_equal(chown(nkey, 65534, 65534), 0);
        assert_int_equal(chmod(s_sys->agents[0].conf, 0644), 0);
        char agent_dir[800];
        snprintf(agent_dir, sizeof agent_dir, "%s", s_sys->agents[0].conf);
        *strrchr(agent_dir, '/') = '\0';
        assert_int_equal(chmod(agent_dir, 0755), 0);
        s_agent((const char *[]){"--spool", ro, "--key-file", nkey, "--outbox", "/tmp", NULL}, 1,
                1, "ro-spool: not writable by this user (uid 65534)");
    }
}

/* Modes that let others change what the agent sends, or where: the
 * outbox folder, the key's folder and the config file, each one line. */
static void test_agent_mode_problems(void **state)
{
    const glci_sys_agent_t *a = &s_sys->agents[0];
    char kdir[800], line[2000];
    snprintf(kdir, sizeof kdir, "%s", a->key);
    *strrchr(kdir, '/') = '\0';
    struct stat ob, kd, cf;
    int made = mkdir(a->outbox, 0700) == 0;     /* no agent ran yet */
    assert_int_equal(stat(a->outbox, &ob), 0);
    assert_int_equal(stat(kdir, &kd), 0);
    assert_int_equal(stat(a->conf, &cf), 0);
    assert_int_equal(chmod(a->outbox, 0777), 0);
    assert_int_equal(chmod(kdir, 0777), 0);
    assert_int_equal(chmod(a->conf, 0666), 0);
    snprintf(line, sizeof line, "outbox folder %s is mode 0777: writable by group and others; "
             "make it 0700 (chmod 700 %s)", a->outbox, a->outbox);
    s_agent(NULL, 0, 1, line);
    snprintf(line, sizeof line, "key_file's folder %s is mode 0777: writable by group and "
             "others; make it 0750", kdir);
    s_agent(NULL, 0, 1, line);
    snprintf(line, sizeof line, "config file %s is mode 0666: writable by group and others; "
             "make it 0644", a->conf);
    s_agent(NULL, 0, 1, line);
    assert_int_equal(chmod(a->conf, 0664), 0);
    snprintf(line, sizeof line, "config file %s is mode 0664: writable by group;", a->conf);
    s_agent(NULL, 0, 1, line);
    /* the package's own modes pass: the state folder 0750 holding the key,
     * the config 0644 */
    assert_int_equal(chmod(a->outbox, 0700), 0);
    assert_int_equal(chmod(kdir, 0750), 0);
    assert_int_equal(chmod(a->conf, 0644), 0);
    s_agent(NULL, 0, 0, "glci-agent check: ok: ");
    assert_int_equal(chmod(a->outbox, ob.st_mode & 07777), 0);
    assert_int_equal(chmod(kdir, kd.st_mode & 07777), 0);
    assert_int_equal(chmod(a->conf, cf.st_mode & 07777), 0);
    if (made)
        assert_int_equal(rmdir(a->outbox), 0);
}

static void test_agent_metrics_file_problems(void **state)
{
    char path[800];
    snprintf(path, sizeof path, "%s/glci.txt", s_sys->dir);
    s_agent((const char *[]){"--metrics-file", path, NULL}, 0, 1,
            "glci.txt: the name must end in .prom");
    snprintf(path, sizeof path, "%s/nowhere/glci.prom", s_sys->dir);
    s_agent((const char *[]){"--metrics-file", path, NULL}, 0, 1,
            "nowhere: No such file or directory");
}

static void test_agent_handshake_outcomes(void **state)
{
    /* a key the collector does not know */
    char key[800];
    snprintf(key, sizeof key, "%s/unknown.key", s_sys->dir);
    glci_key_t pub, sec, other;
    char err[256];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(key, &pub, &sec, err, sizeof err), 0);
    /* keys are named by fingerprint, never by their Z85 text */
    char fp[GLCI_KEY_FP_LEN + 1], line[300];
    glci_key_fingerprint(&pub, fp);
    snprintf(line, sizeof line, "refused this agent's key %s (not registered to a city, or "
             "the city is revoked)", fp);
    s_agent((const char *[]){"--key-file", key, NULL}, 0, 1, line);
    /* not the collector's key */
    assert_int_equal(glci_key_generate(&other, &sec, err, sizeof err), 0);
    glci_key_fingerprint(&other, fp);
    snprintf(line, sizeof line, "failed: the collector's key is not %s (collector_key), or "
             "what answers there is not a glci collector", fp);
    s_agent((const char *[]){"--collector-key", other.z85, NULL}, 0, 1, line);
    const char *z85[] = {"--config", s_sys->agents[0].conf, "check", "--timeout", "3",
                         "--collector-key", other.z85, "--key-file", key, NULL};
    char *out, *eout;
    assert_int_equal(s_run(s_sys->agent_bin, z85, 0, &out, &eout), 1);
    assert_null(strstr(eout, other.z85));
    assert_null(strstr(eout, pub.z85));
    free(out);
    free(eout);
    /* no CURVE at all against a collector that wants it: said so, with no
     * empty key in the line */
    s_agent((const char *[]){"--insecure", NULL}, 0, 1,
            "failed: this agent runs insecure (no CURVE) and the collector wants CURVE");
    /* nothing listening */
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", glci_ts_free_port());
    s_agent((const char *[]){"--collector", ep, NULL}, 0, 1,
            "within 3 s: nothing accepts connections there (connection refused");
    /* something listening that says nothing */
    int silent;
    int fd = glci_ts_listen_loopback(&silent);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", silent);
    s_agent((const char *[]){"--collector", ep, NULL}, 0, 1,
            "accepted the connection but the handshake did not finish within 3 s");
    close(fd);
}

static void test_agent_clean(void **state)
{
    char line[800];
    snprintf(line, sizeof line, "glci-agent check: ok: city %s, handshake with %s",
             s_sys->agents[0].city, s_sys->endpoint);
    s_agent(NULL, 0, 0, line);
    char prom[800];
    snprintf(prom, sizeof prom, "%s/glci-agent.prom", s_sys->dir);
    s_agent((const char *[]){"--metrics-file", prom, NULL}, 0, 0, prom);
}

/* The daemons judge the same modes at start: each problem one warning in
 * the log, and they start all the same (a deployment that runs keeps
 * running). The collector first takes from its store what modes it can
 * (glci_store_tighten, its own files only): here the store is another
 * user's, so its folder's mode stays and is told, once; and key_file lies
 * in a folder others may write. */
static void test_daemons_warn_of_modes(void **state)
{
    char kdir[800], kfile[900], store_key[800], err[256], conf[1200], line[2000];
    glci_key_t pub, sec;
    snprintf(kdir, sizeof kdir, "%s/daemon-keys", s_sys->dir);
    snprintf(kfile, sizeof kfile, "%s/collector.key", kdir);
    snprintf(store_key, sizeof store_key, "%s/collector.key", s_sys->store);
    assert_int_equal(mkdir(kdir, 0777), 0);
    assert_int_equal(chmod(kdir, 0777), 0);
    assert_int_equal(glci_keyfile_read(store_key, &pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(kfile, &pub, &sec, err, sizeof err), 0);
    glci_sys_stop_collector(s_sys);
    snprintf(conf, sizeof conf, "key_file = %s\n", kfile);
    glci_sys_collector_conf(s_sys, conf);
    int other = geteuid() == 0;          /* root can give the store to nobody */
    if (other)
        assert_int_equal(chown(s_sys->store, 65534, 65534), 0);
    assert_int_equal(chmod(s_sys->store, 0777), 0);
    glci_sys_start_collector(s_sys, NULL);
    snprintf(line, sizeof line, "warn glci-collector: key_file's folder %s is mode 0777: "
             "writable by group and others; make it 0700", kdir);
    assert_int_equal(glci_ts_proc_wait_log(s_sys->coll, line, S_WAIT_MS), 0);
    if (other) {
        snprintf(line, sizeof line, "warn glci-collector: store folder %s is mode 0777: "
                 "writable by group and others; make it 0700", s_sys->store);
        assert_int_equal(glci_ts_proc_wait_log(s_sys->coll, line, S_WAIT_MS), 0);
        char *log = glci_ts_proc_stderr(s_sys->coll);
        snprintf(line, sizeof line, "%s is mode 0777", s_sys->store);
        if (glci_ts_count(log, line) != 1)
            fail_msg("the store folder's mode is not told once: %s", log);
        free(log);
    }
    glci_sys_stop_collector(s_sys);
    if (other)
        assert_int_equal(chown(s_sys->store, 0, 0), 0);
    assert_int_equal(chmod(s_sys->store, 0700), 0);
    glci_sys_collector_conf(s_sys, NULL);
    glci_sys_start_collector(s_sys, NULL);

    const glci_sys_agent_t *a = &s_sys->agents[0];
    mkdir(a->outbox, 0700);
    assert_int_equal(chmod(a->outbox, 0777), 0);
    glci_sys_start_agent(s_sys, 0);
    snprintf(line, sizeof line, "warn glci-agent: outbox folder %s is mode 0777: writable by "
             "group and others; make it 0700", a->outbox);
    assert_int_equal(glci_ts_proc_wait_log(a->proc, line, S_WAIT_MS), 0);
    assert_int_equal(glci_ts_proc_wait_log(a->proc, "started: city", S_WAIT_MS), 0);
    glci_sys_stop_agent(s_sys, 0);
    assert_int_equal(chmod(a->outbox, 0700), 0);
}

int main(void)
{
    s_own_net = glci_ts_try_own_network("binding 0.0.0.0");
    if (s_own_net < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collector_config_problems),
        cmocka_unit_test(test_collector_store_problems),
        cmocka_unit_test(test_collector_key_problems),
        cmocka_unit_test(test_collector_key_pair_problems),
        cmocka_unit_test(test_collector_address_problems),
        cmocka_unit_test(test_collector_address_held_by_another),
        cmocka_unit_test(test_collector_clean),
        cmocka_unit_test(test_agent_settings_problems),
        cmocka_unit_test(test_agent_key_problems),
        cmocka_unit_test(test_agent_folder_problems),
        cmocka_unit_test(test_agent_mode_problems),
        cmocka_unit_test(test_agent_metrics_file_problems),
        cmocka_unit_test(test_agent_handshake_outcomes),
        cmocka_unit_test(test_agent_clean),
        cmocka_unit_test(test_daemons_warn_of_modes),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
