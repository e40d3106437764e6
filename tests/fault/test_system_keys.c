/* Keys at network scale, with the real daemons (SPEC section 9):
 *  - a city registered with a wrong key: its agent shows `refused` with the
 *    reason and the next try, and once the operator adds the right key it
 *    delivers without a restart, exactly once;
 *  - a collector-key rotation with a stale agent: the agent's failed
 *    handshakes are logged a handful of times, not several a second, and
 *    it delivers once it has the new key (a reload); the previous key is
 *    served on previous_listen until retired;
 *  - a flood of unknown keys leaves the refused-keys table at its bound and
 *    the collector's log at a line or two;
 *  - a second collector on the same store is refused, naming the first;
 *  - an agent's reload refuses a secret key file others can read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_checker.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_testsupport.h"

static size_t s_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Waits until agent i's status (JSON) says `state` (a deadline, not a
 * speed). */
static char *s_wait_state(glci_sys_t *s, size_t i, const char *state)
{
    char want[64];
    snprintf(want, sizeof want, "\"connection\": \"%s\"", state);
    return glci_sys_wait_agent_status(s, i, "json", want, 2 * GLCI_SYS_READY_MS);
}

/* The JSON status's connection_since into out ("" when null). */
static void s_since(const char *js, char *out, size_t len)
{
    const char *key = "\"connection_since\": \"";
    const char *at = strstr(js, key);
    out[0] = '\0';
    if (at)
        snprintf(out, len, "%.*s", (int)strcspn(at + strlen(key), "\""), at + strlen(key));
}

static void s_cli_ok(glci_sys_t *s, const char *const *args)
{
    char *err = NULL;
    int rc = glci_sys_cli(s, args, NULL, &err);
    if (rc != 0)
        fail_msg("glci %s %s exited %d: %s", args[0], args[1] ? args[1] : "", rc, err);
    free(err);
}

static void s_public_of(const char *keyfile, glci_key_t *pub)
{
    char err[256];
    assert_int_equal(glci_keyfile_read(keyfile, pub, NULL, err, sizeof err), 0);
}

static void test_wrong_key_fixed_while_the_agent_runs(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 20, .window = 4, .collector_conf = "key_flush = 1\n"};
    glci_sys_t *s = glci_sys_open("sys-keys-wrong", 1, &o);
    glci_key_t real, wrong, sec;
    char err[256], fp[GLCI_KEY_FP_LEN + 1];
    s_public_of(s->agents[0].key, &real);
    glci_key_fingerprint(&real, fp);
    /* the institute registered another key than the city's */
    assert_int_equal(glci_key_generate(&wrong, &sec, err, sizeof err), 0);
    const char *rm[] = {"city", "key-remove", s->agents[0].city, "--public-key", real.z85, NULL};
    s_cli_ok(s, rm);
    const char *add_wrong[] = {"city", "key-add", s->agents[0].city, "--public-key",
                               wrong.z85, NULL};
    s_cli_ok(s, add_wrong);

    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    pid_t pid = glci_ts_proc_pid(s->agents[0].proc);
    glci_sys_push(s, 0, 200);
    char *js = s_wait_state(s, 0, "refused");
    assert_non_null(strstr(js, "refused this agent's key"));
    assert_non_null(strstr(js, "\"connection_reason\": \"key-refused\""));
    assert_non_null(strstr(js, fp));
    assert_null(strstr(js, "\"next_try\": null"));
    free(js);

    /* the refused key is visible at the institute */
    const char *refused[] = {"keys", "refused", "--format", "json", NULL};
    char *out = NULL;
    for (int k = 0; k < 300 && (!out || !strstr(out, fp)); k++) {
        free(out);
        out = NULL;
        glci_sys_sleep_ms(100);
        assert_int_equal(glci_sys_cli(s, refused, &out, NULL), 0);
    }
    assert_non_null(strstr(out, fp));
    assert_non_null(strstr(out, "127.0.0.1"));
    free(out);

    const char *add_real[] = {"city", "key-add", s->agents[0].city, "--public-key", real.z85,
                              NULL};
    s_cli_ok(s, add_real);
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_ts_proc_pid(s->agents[0].proc), pid);   /* no restart */
    js = s_wait_state(s, 0, "connected");
    free(js);
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    fprintf(stderr, "# %zu refusals logged\n", s_count(log, "refused this agent's key"));
    assert_true(s_count(log, "connected to ") >= 1);
    free(log);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

static void test_rotation_with_a_stale_agent(void **state)
{
    (void)state;
    char conf[256];
    int prev_port = glci_ts_free_port();
    snprintf(conf, sizeof conf, "previous_listen = tcp://127.0.0.1:%d\n", prev_port);
    glci_sys_opts_t o = {.batch_max = 20, .window = 4, .collector_conf = conf};
    glci_sys_t *s = glci_sys_open("sys-keys-rotate", 1, &o);
    /* the agent's collector_key: a copy of the key it was given, which a
     * rotation at the institute does not change */
    char given[700];
    snprintf(given, sizeof given, "%s/given-collector.pub", s->dir);
    glci_key_t old_pub, new_pub;
    s_public_of(s->coll_pub, &old_pub);
    char *text = glci_ts_read_file(s->coll_pub);
    assert_int_equal(glci_ts_write_file(given, text), 0);
    free(text);
    char *aconf = glci_ts_read_file(s->agents[0].conf);
    char line[800];
    snprintf(line, sizeof line, "collector_key = %s\n", s->coll_pub);
    char *at = strstr(aconf, line);
    assert_non_null(at);
    size_t cap = strlen(aconf) + 800;
    char *next = malloc(cap);
    /* and a metrics file, as node_exporter's textfile collector reads */
    char prom[700];
    snprintf(prom, sizeof prom, "%s/agent.prom", s->dir);
    snprintf(next, cap, "%.*scollector_key = %s\n%smetrics_file = %s\n", (int)(at - aconf),
             aconf, given, at + strlen(line), prom);
    assert_int_equal(glci_ts_write_file(s->agents[0].conf, next), 0);
    free(next);
    free(aconf);

    glci_sys_start_collector(s, NULL);
    /* previous_listen set before any rotation: nothing listens there yet,
     * said at start and at each reload */
    char note[900];
    snprintf(note, sizeof note, "previous_listen tcp://127.0.0.1:%d is not served until glci "
             "collector-key rotate makes %s/collector.previous.key", prev_port, s->store);
    assert_int_equal(glci_ts_proc_wait_log(s->coll, note, GLCI_SYS_READY_MS), 0);
    assert_int_equal(glci_ts_proc_signal(s->coll, SIGHUP), 0);
    size_t notes = 0;
    for (int waited = 0; notes < 2 && waited < GLCI_SYS_READY_MS; waited += 50) {
        char *clog = glci_ts_proc_stderr(s->coll);
        notes = s_count(clog, note);
        free(clog);
        if (notes < 2)
            glci_sys_sleep_ms(50);
    }
    assert_int_equal(notes, 2);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 100);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    free(glci_sys_wait_file(prom, "glci_agent_connection_state{state=\"connected\"} 1\n",
                            GLCI_SYS_READY_MS));

    /* rotate on the collector's machine alone, and serve the new key */
    const char *rotate[] = {"collector-key", "rotate", NULL};
    s_cli_ok(s, rotate);
    s_public_of(s->coll_pub, &new_pub);
    assert_string_not_equal(new_pub.z85, old_pub.z85);
    const char *show[] = {"collector-key", NULL};
    char *out = NULL;
    assert_int_equal(glci_sys_cli(s, show, &out, NULL), 0);
    assert_non_null(strstr(out, new_pub.z85));       /* the key in use, not the old one */
    free(out);
    char backup[700];
    snprintf(backup, sizeof backup, "%s/backup", s->dir);
    const char *bk[] = {"backup", backup, NULL};
    s_cli_ok(s, bk);
    snprintf(line, sizeof line, "%s/collector.previous.key", backup);
    assert_int_equal(access(line, F_OK), 0);          /* every key file in use */
    snprintf(line, sizeof line, "%s/collector.key", backup);
    glci_key_t in_backup;
    s_public_of(line, &in_backup);
    assert_string_equal(in_backup.z85, new_pub.z85);

    /* a restart, so the agent must handshake again, with its stale key */
    glci_sys_stop_collector(s);
    glci_sys_start_collector(s, NULL);
    glci_sys_push(s, 0, 100);
    /* SPEC 9: a failed handshake shows as refused, its reason telling it
     * from a refused key; the metrics keep the two apart by state */
    char *js = s_wait_state(s, 0, "refused");
    if (!strstr(js, "\"connection_reason\": \"handshake-failed\"") ||
        !strstr(js, "the handshake with the collector failed: its key is not") ||
        strstr(js, "\"next_try\": null"))
        fail_msg("a failed handshake: %s", js);
    char since[64], later[64];
    s_since(js, since, sizeof since);
    assert_true(since[0] != '\0');
    free(js);
    js = glci_sys_agent_status(s, 0, "table");
    if (!strstr(js, "refused (handshake failed) since ") ||
        !strstr(js, "the handshake with the collector failed"))
        fail_msg("a failed handshake in the table: %s", js);
    free(js);
    js = glci_sys_agent_status(s, 0, "csv");
    if (!strstr(js, ",connection_reason,key_file_problem\r\n") ||
        !strstr(js, ",handshake-failed,\r\n"))
        fail_msg("a failed handshake in CSV: %s", js);
    free(js);
    text = glci_sys_wait_file(prom, "glci_agent_connection_state{state=\"handshake_failed\"} "
                              "1\n", GLCI_SYS_READY_MS);
    assert_non_null(strstr(text, "glci_agent_connection_state{state=\"refused\"} 0\n"));
    free(text);
    /* a minute of failures costs a handful of lines, not one per try (the
     * first release logged about 6 a second) */
    glci_sys_sleep_ms(20000);
    /* refused since the first failure, not since the last try */
    js = s_wait_state(s, 0, "refused");
    s_since(js, later, sizeof later);
    free(js);
    assert_string_equal(later, since);
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    size_t lines = s_count(log, "handshake with ");
    fprintf(stderr, "# %zu handshake failures logged in 20 s\n", lines);
    assert_true(lines >= 2 && lines <= 8);
    free(log);
    log = glci_ts_proc_stderr(s->coll);
    assert_true(s_count(log, "\n") < 40);
    free(log);

    /* the previous key is still served, on previous_listen */
    char *coll_log = glci_ts_proc_stderr(s->coll);
    assert_non_null(strstr(coll_log, "previous collector key"));
    free(coll_log);

    /* the agent gets the new key: a reload, no restart */
    text = glci_ts_read_file(s->coll_pub);
    assert_int_equal(glci_ts_write_file(given, text), 0);
    free(text);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    glci_sys_assert_exactly_once(s);
    js = s_wait_state(s, 0, "connected");
    assert_non_null(strstr(js, "\"connection_reason\": null"));
    free(js);
    free(glci_sys_wait_file(prom, "glci_agent_connection_state{state=\"connected\"} 1\n",
                            GLCI_SYS_READY_MS));

    const char *retire[] = {"collector-key", "retire", NULL};
    s_cli_ok(s, retire);
    assert_int_equal(glci_ts_proc_signal(s->coll, SIGHUP), 0);
    assert_int_equal(glci_ts_proc_wait_log(s->coll, "previous collector key retired",
                                           GLCI_SYS_READY_MS), 0);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* A secret key file that became readable by others is refused at a reload
 * as `run` refuses it at start; the agent goes on with the configuration
 * it had, and takes the reload once the mode is right again. */
static void test_reload_refuses_a_readable_key(void **state)
{
    glci_sys_t *s = glci_sys_open("keys-reload-mode", 1, NULL);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 20);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);

    assert_int_equal(chmod(s->agents[0].key, 0644), 0);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    if (glci_ts_proc_wait_log(s->agents[0].proc, "reload refused, keeping the running "
                              "configuration: ", GLCI_SYS_READY_MS) != 0)
        fail_msg("the reload with a readable key was not refused");
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    if (!strstr(log, "secret key file is accessible by group or others (mode 0644)") ||
        strstr(log, "configuration reloaded"))
        fail_msg("unexpected reload lines: %s", log);
    free(log);
    glci_sys_push(s, 0, 20);
    glci_sys_assert_exactly_once(s);

    assert_int_equal(chmod(s->agents[0].key, 0600), 0);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    assert_int_equal(glci_ts_proc_wait_log(s->agents[0].proc, "configuration reloaded",
                                           GLCI_SYS_READY_MS), 0);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* The JSON status's text under key into out ("" when null or missing). */
static void s_status_text(const char *js, const char *key, char *out, size_t len)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\": \"", key);
    const char *at = strstr(js, k);
    out[0] = '\0';
    if (at)
        snprintf(out, len, "%.*s", (int)strcspn(at + strlen(k), "\""), at + strlen(k));
}

/* After a reload refused the key file (the agent keeps its key), status
 * shows the key the running agent connects with, not the file's, and names
 * what is wrong with the file: a file that no longer reads, then one
 * holding another key that others may read; with the old file back, no
 * problem is shown. */
static void test_status_shows_the_key_in_use(void **state)
{
    glci_sys_t *s = glci_sys_open("keys-status-in-use", 1, NULL);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 10);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_key_t old, other, sec;
    char err[256], old_fp[GLCI_KEY_FP_LEN + 1], other_fp[GLCI_KEY_FP_LEN + 1], got[2048];
    s_public_of(s->agents[0].key, &old);
    glci_key_fingerprint(&old, old_fp);

    /* a corrupt key file */
    char saved[800];
    snprintf(saved, sizeof saved, "%s.saved", s->agents[0].key);
    assert_int_equal(rename(s->agents[0].key, saved), 0);
    assert_int_equal(glci_ts_write_file(s->agents[0].key, "curve\n    public-key = \"x\"\n"), 0);
    assert_int_equal(chmod(s->agents[0].key, 0600), 0);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    if (glci_ts_proc_wait_log(s->agents[0].proc, "reload refused, keeping the running "
                              "configuration: ", GLCI_SYS_READY_MS) != 0)
        fail_msg("the reload with a corrupt key was not refused");
    char *js = glci_sys_agent_status(s, 0, "json");
    s_status_text(js, "key_fingerprint", got, sizeof got);
    assert_string_equal(got, old_fp);
    s_status_text(js, "key_file_problem", got, sizeof got);
    if (!strstr(got, s->agents[0].key) || !strstr(got, old_fp))
        fail_msg("key_file_problem does not name the file and the key kept: %s", js);
    free(js);
    char *table = glci_sys_agent_status(s, 0, "table");
    if (!strstr(table, old_fp) || !strstr(table, "KEY FILE"))
        fail_msg("the table does not show the key in use and the file's problem: %s", table);
    free(table);

    /* another key, readable by others: refused too, still the old key */
    assert_int_equal(unlink(s->agents[0].key), 0);
    assert_int_equal(glci_key_generate(&other, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(s->agents[0].key, &other, &sec, err, sizeof err),
                     0);
    glci_key_fingerprint(&other, other_fp);
    assert_int_equal(chmod(s->agents[0].key, 0644), 0);
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    glci_sys_sleep_ms(200);
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    for (int k = 0; k < 300 && s_count(log, "reload refused") < 2; k++) {
        free(log);
        glci_sys_sleep_ms(100);
        log = glci_ts_proc_stderr(s->agents[0].proc);
    }
    assert_int_equal(s_count(log, "reload refused"), 2);
    free(log);
    js = glci_sys_agent_status(s, 0, "json");
    s_status_text(js, "key_fingerprint", got, sizeof got);
    assert_string_equal(got, old_fp);
    assert_null(strstr(js, other_fp));
    s_status_text(js, "key_file_problem", got, sizeof got);
    if (!strstr(got, "accessible by group or others"))
        fail_msg("key_file_problem does not name the mode: %s", js);
    free(js);

    /* the old key back: no problem, the same key */
    assert_int_equal(unlink(s->agents[0].key), 0);
    assert_int_equal(rename(saved, s->agents[0].key), 0);
    js = glci_sys_agent_status(s, 0, "json");
    s_status_text(js, "key_fingerprint", got, sizeof got);
    assert_string_equal(got, old_fp);
    assert_non_null(strstr(js, "\"key_file_problem\": null"));
    free(js);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

/* n strangers, each with a key of its own, knock once. */
static void s_flood(const char *endpoint, const char *server_pub, int n)
{
    void *ctx = zmq_ctx_new();
    void **socks = calloc((size_t)n, sizeof *socks);
    int zero = 0;
    for (int i = 0; i < n; i++) {
        glci_key_t pub, sec;
        char err[128];
        assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
        socks[i] = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(socks[i], ZMQ_CURVE_SERVERKEY, server_pub, GLCI_Z85_KEY_LEN + 1);
        zmq_setsockopt(socks[i], ZMQ_CURVE_PUBLICKEY, pub.z85, GLCI_Z85_KEY_LEN + 1);
        zmq_setsockopt(socks[i], ZMQ_CURVE_SECRETKEY, sec.z85, GLCI_Z85_KEY_LEN + 1);
        assert_int_equal(zmq_connect(socks[i], endpoint), 0);
        if (i % 20 == 19)
            glci_sys_sleep_ms(200);      /* in waves */
    }
    glci_sys_sleep_ms(2000);             /* their handshakes are answered */
    for (int i = 0; i < n; i++)
        zmq_close(socks[i]);
    free(socks);
    zmq_ctx_term(ctx);
}

static size_t s_refused_rows(glci_sys_t *s)
{
    const char *args[] = {"keys", "refused", "--format", "json", NULL};
    char *out = NULL;
    assert_int_equal(glci_sys_cli(s, args, &out, NULL), 0);
    size_t n = s_count(out, "\"fingerprint\"");
    free(out);
    return n;
}

static void test_flood_of_unknown_keys_stays_bounded(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.collector_conf = "refused_max = 16\nkey_flush = 1\n"};
    glci_sys_t *s = glci_sys_open("sys-keys-flood", 1, &o);
    glci_sys_start_collector(s, NULL);
    glci_key_t server;
    s_public_of(s->coll_pub, &server);
    s_flood(s->endpoint, server.z85, 100);
    size_t rows = 0;
    for (int k = 0; k < 300; k++) {
        rows = s_refused_rows(s);
        assert_true(rows <= 16);
        if (rows == 16)
            break;
        glci_sys_sleep_ms(100);
    }
    assert_int_equal(rows, 16);
    s_flood(s->endpoint, server.z85, 40);    /* more: still at the bound */
    glci_sys_sleep_ms(2000);
    assert_int_equal(s_refused_rows(s), 16);
    char *log = glci_ts_proc_stderr(s->coll);
    size_t lines = s_count(log, "zap: refused");
    fprintf(stderr, "# %zu lines for 140 refused keys\n", lines);
    assert_true(lines >= 1 && lines <= 4);
    free(log);
    /* the legitimate city is unaffected */
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 50);
    glci_sys_assert_exactly_once(s);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

static void test_second_collector_refused(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("sys-keys-two", 1, NULL);
    glci_sys_start_collector(s, NULL);
    glci_ts_proc_t *second = glci_sys_spawn_collector(s, NULL);
    assert_int_equal(glci_ts_proc_wait_exit(second, GLCI_SYS_READY_MS), 1);
    char *err = glci_ts_proc_stderr(second);
    char want[128];
    snprintf(want, sizeof want, "is in use by another glci-collector (pid %ld)",
             (long)glci_ts_proc_pid(s->coll));
    if (!strstr(err, want))
        fail_msg("second collector said: %s", err);
    free(err);
    glci_ts_proc_stop(&second, GLCI_SYS_STOP_MS);
    /* the first goes on serving */
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 20);
    glci_sys_assert_exactly_once(s);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_wrong_key_fixed_while_the_agent_runs, glci_sys_teardown),
        cmocka_unit_test_teardown(test_rotation_with_a_stale_agent, glci_sys_teardown),
        cmocka_unit_test_teardown(test_flood_of_unknown_keys_stays_bounded, glci_sys_teardown),
        cmocka_unit_test_teardown(test_second_collector_refused, glci_sys_teardown),
        cmocka_unit_test_teardown(test_reload_refuses_a_readable_key, glci_sys_teardown),
        cmocka_unit_test_teardown(test_status_shows_the_key_in_use, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
