/* A city writing for another, with the real glci-collector and glci-agent
 * on loopback over CURVE (SPEC section 4).
 *
 * Agent c00-xx holds c00-xx's key but its `city` setting says c01-xx,
 * while c01-xx's own agent delivers as usual. Its
 * batches are answered like applied batches whose every observation is
 * rejected as "wrong city": nothing is stored for either city, `glci
 * rejects` lists each observation under c00-xx (the key's city) naming
 * c01-xx, the agent dead-letters every row into rejected.csv, deletes the
 * batches (nothing is retried), and logs one ALARM however many batches it
 * sends. With the setting fixed (a reload), the next values are stored
 * exactly once on the same stream: the rejected batches moved its mark, so
 * there is no gap. A revoked city's agent, its connection open from
 * before, is still refused (FORBIDDEN) and keeps its batches; at the end
 * of its pause it connects again, the collector's ZAP handler refuses its
 * key (`glci keys refused` lists it), and `status` and its metrics file
 * say `refused`, all without a restart; reinstated, the next handshake
 * succeeds, the kept batch is stored exactly once and both say
 * `connected` again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"
#include "glci_keyfile.h"

/* Rewrites agent i's `city` line (the harness writes "city = ID"). */
static void s_set_city(glci_sys_t *s, size_t i, const char *from, const char *to)
{
    char *conf = glci_ts_read_file(s->agents[i].conf);
    assert_non_null(conf);
    char old[96], next[4096];
    snprintf(old, sizeof old, "city = %s\n", from);
    char *at = strstr(conf, old);
    assert_non_null(at);
    snprintf(next, sizeof next, "%.*scity = %s\n%s", (int)(at - conf), conf, to,
             at + strlen(old));
    assert_int_equal(glci_ts_write_file(s->agents[i].conf, next), 0);
    free(conf);
}

static void test_city_writing_for_another(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 50, .window = 2};
    glci_sys_t *s = glci_sys_open("agent-wrong-city", 2, &o);
    s_set_city(s, 0, "c00-xx", "c01-xx");
    char prom[700], line[800];
    snprintf(prom, sizeof prom, "%s/agent.prom", s->dir);
    char *conf = glci_ts_read_file(s->agents[0].conf);
    assert_non_null(conf);
    snprintf(line, sizeof line, "metrics_file = %s\n", prom);
    char *more = malloc(strlen(conf) + strlen(line) + 1);
    assert_non_null(more);
    snprintf(more, strlen(conf) + strlen(line) + 1, "%s%s", conf, line);
    assert_int_equal(glci_ts_write_file(s->agents[0].conf, more), 0);
    free(more);
    free(conf);
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_start_agent(s, 1);           /* c01-xx's own agent */
    glci_sys_push(s, 1, 20);
    glci_sys_wait_outbox_empty(s, 1, GLCI_SYS_DRAIN_MS);

    /* 3 batches claiming c01-xx: none of it is stored anywhere */
    glci_checker_t *keep = s->chk;
    s->chk = glci_checker_new();
    glci_sys_push(s, 0, 120);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    glci_checker_free(&s->chk);
    s->chk = keep;
    assert_int_equal(glci_sys_stored(s->store), 20);

    /* recorded under the key's city, naming the claimed one */
    const char *mine[] = {"rejects", "--city", "c00-xx", "--format", "json", NULL};
    char *js = glci_sys_cli_ok(s, mine);
    if (glci_ts_count(js, "\"reason\": \"wrong city\"") != 120 ||
        glci_ts_count(js, "batch claims city c01-xx but its key belongs to c00-xx") != 120)
        fail_msg("unexpected rejects of c00-xx: %.2000s", js);
    free(js);
    const char *theirs[] = {"rejects", "--city", "c01-xx", "--format", "json", NULL};
    js = glci_sys_cli_ok(s, theirs);
    assert_non_null(strstr(js, "\"rows\": []"));
    free(js);
    const char *list[] = {"city", "list", "--format", "json", NULL};
    js = glci_sys_cli_ok(s, list);
    assert_non_null(strstr(js, "\"rejects\": 120"));
    free(js);

    /* dead-lettered by the agent, every row, with the collector's reason */
    char dead[700];
    snprintf(dead, sizeof dead, "%s/../rejected.csv", s->agents[0].spool);
    char *csv = NULL;
    for (int waited = 0; waited < GLCI_SYS_DRAIN_MS; waited += 100) {
        free(csv);
        csv = glci_ts_read_file(dead);
        if (csv && glci_ts_count(csv, "batch claims city c01-xx") == 120)
            break;
        glci_sys_sleep_ms(100);
    }
    if (!csv || glci_ts_count(csv, "batch claims city c01-xx but its key belongs to c00-xx") != 120)
        fail_msg("rejected.csv: %s", csv ? csv : "(missing)");
    free(csv);
    js = glci_sys_agent_status(s, 0, "json");
    if (!strstr(js, "\"rejects\": 120") || !strstr(js, "\"batches\": 0, \"observations\": 0") ||
        !strstr(js, "\"collector_lost\": null") || !strstr(js, "\"clash_events\": 0"))
        fail_msg("unexpected status: %s", js);
    free(js);

    /* one ALARM for the three batches, naming the fix */
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    if (glci_ts_count(log, "ALARM") != 1 ||
        !strstr(log, "ALARM: the collector rejected the observations of batch 1") ||
        !strstr(log, "city setting is 'c01-xx' but its key is registered to another city"))
        fail_msg("unexpected agent log: %s", log);
    const char *alarm = strstr(log, "ALARM");
    fprintf(stderr, "# %.*s\n", (int)strcspn(alarm, "\n"), alarm);
    assert_null(strstr(log, "forbidden"));
    free(log);
    assert_int_equal(glci_ts_proc_wait_log(s->coll, "claims city c01-xx but its key belongs to "
                                           "c00-xx", GLCI_SYS_READY_MS), 0);

    /* the setting fixed by a reload: the next values follow on the same
     * stream (batches 4.., no gap), exactly once */
    s_set_city(s, 0, "c01-xx", "c00-xx");
    assert_int_equal(glci_ts_proc_signal(s->agents[0].proc, SIGHUP), 0);
    assert_int_equal(glci_ts_proc_wait_log(s->agents[0].proc, "reload: reconnecting",
                                           GLCI_SYS_READY_MS), 0);
    glci_sys_push(s, 0, 100);
    glci_sys_assert_exactly_once(s);
    assert_int_equal(glci_sys_stored(s->store), 120);
    log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_null(strstr(log, "gap"));
    free(log);

    /* revoked: the batch a spooled file makes is refused and kept */
    const char *revoke[] = {"city", "revoke", "c00-xx", NULL};
    free(glci_sys_cli_ok(s, revoke));
    glci_sys_spool(s, 0, 10);
    /* the agent's log names the key by its fingerprint, never its text */
    glci_key_t pub, sec;
    char fp[GLCI_KEY_FP_LEN + 1], kerr[512], want[200];
    assert_int_equal(glci_keyfile_read(s->agents[0].key, &pub, &sec, kerr, sizeof kerr), 0);
    glci_key_fingerprint(&pub, fp);
    snprintf(want, sizeof want, "as forbidden: key %s is no longer registered to city c00-xx; "
             "the batch is kept", fp);
    if (glci_ts_proc_wait_log(s->agents[0].proc, want, GLCI_SYS_DRAIN_MS) != 0) {
        log = glci_ts_proc_stderr(s->agents[0].proc);
        fail_msg("the revoked agent was not refused: %s", log ? log : "");
    }
    /* on the open connection the collector can only forbid; the agent
     * connects again and the handshake is refused: the key is remembered */
    snprintf(want, sizeof want, "refused this agent's key %s", fp);
    assert_int_equal(glci_ts_proc_wait_log(s->agents[0].proc, want, GLCI_SYS_DRAIN_MS), 0);
    js = glci_sys_wait_agent_status(s, 0, "json", "\"connection\": \"refused\"",
                                    GLCI_SYS_DRAIN_MS);
    if (!strstr(js, "\"batches\": 1, \"observations\": 10") ||
        !strstr(js, "\"connection_reason\": \"key-refused\""))
        fail_msg("the refused batch is not kept, or the key not refused: %s", js);
    free(js);
    free(glci_sys_wait_file(prom, "glci_agent_connection_state{state=\"refused\"} 1\n",
                            GLCI_SYS_DRAIN_MS));
    const char *refused[] = {"keys", "refused", "--format", "json", NULL};
    char *out = NULL;
    for (int k = 0; k < 1200 && (!out || !strstr(out, fp)); k++) {
        free(out);
        out = NULL;
        glci_sys_sleep_ms(200);
        assert_int_equal(glci_sys_cli(s, refused, &out, NULL), 0);
    }
    if (!out || !strstr(out, fp))
        fail_msg("glci keys refused does not list %s: %s", fp, out ? out : "");
    free(out);
    log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_null(strstr(log, pub.z85));
    free(log);
    assert_int_equal(glci_sys_stored(s->store), 120);

    /* reinstated: the next handshake is admitted, the kept batch stored
     * once, and status (both forms) and the metrics file say `connected` */
    const char *reinstate[] = {"city", "reinstate", "c00-xx", NULL};
    free(glci_sys_cli_ok(s, reinstate));
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_sys_stored(s->store), 130);
    glci_sys_assert_exactly_once(s);
    js = glci_sys_wait_agent_status(s, 0, "json", "\"connection\": \"connected\"",
                                    GLCI_SYS_READY_MS);
    if (!strstr(js, "\"connection_detail\": null") ||
        !strstr(js, "\"connection_reason\": null"))
        fail_msg("connected with a reason left over: %s", js);
    free(js);
    js = glci_sys_agent_status(s, 0, "table");
    if (!strstr(js, "connected since ") || strstr(js, "forbidden") || strstr(js, "refused"))
        fail_msg("the table does not say connected: %s", js);
    free(js);
    char *text = glci_sys_wait_file(prom, "glci_agent_connection_state{state=\"connected\"} 1\n",
                                    GLCI_SYS_READY_MS);
    assert_non_null(strstr(text, "glci_agent_connection_state{state=\"forbidden\"} 0\n"));
    assert_non_null(strstr(text, "glci_agent_connection_state{state=\"refused\"} 0\n"));
    free(text);

    glci_sys_stop_agent(s, 1);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_city_writing_for_another, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
