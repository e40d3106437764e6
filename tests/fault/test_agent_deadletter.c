/* Observations the collector rejects in an APPLIED batch are never lost
 * when the dead-letter file cannot be written: they are stored in the
 * outbox in the transaction that records the ack (the batch is deleted at
 * once), `status` counts them as pending, and they reach rejected.csv as
 * soon as it can be written, also after a kill -9 of the agent in between.
 * Real processes over CURVE on loopback. rejected.csv is a directory at first, so appending to
 * it fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_checker.h"

static size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Pushes one batch with two valid values (recorded in the checker) and two
 * the collector rejects (indicator ids it does not know); tag makes the
 * values of each call differ. */
static void s_push_mixed(glci_sys_t *s, int tag)
{
    char path[700], csv[512];
    snprintf(path, sizeof path, "%s/mixed-%d.csv", s->dir, tag);
    snprintf(csv, sizeof csv,
             "indicator,period,value,source\n"
             "adult_learning_rate,2021,%d.25,\n"
             "no_such_indicator_%d,2021,1.5,\"survey, wave %d\"\n"
             "adult_literacy_rate,2022,%d.5,\n"
             "another_unknown_%d,2022,2.5,\n", 10 + tag, tag, tag, 60 + tag, tag);
    assert_int_equal(glci_ts_write_file(path, csv), 0);
    char v1[32], v2[32];
    snprintf(v1, sizeof v1, "%d.25", 10 + tag);
    snprintf(v2, sizeof v2, "%d.5", 60 + tag);
    glci_checker_expect(s->chk, s->agents[0].city, "adult_learning_rate", 2021,
                        strtod(v1, NULL));
    glci_checker_expect(s->chk, s->agents[0].city, "adult_literacy_rate", 2022,
                        strtod(v2, NULL));
    const char *argv[] = {s->agent_bin, "push", "--config", s->agents[0].conf, "--csv", path,
                          NULL};
    char *err = NULL;
    int rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, NULL, &err);
    if (rc != 0)
        fail_msg("push --csv failed (%d): %s", rc, err ? err : "");
    free(err);
}

/* `glci-agent status --format F` of agent 0; its stdout (caller frees). */
static char *s_status(glci_sys_t *s, const char *format)
{
    const char *argv[] = {s->agent_bin, "status", "--config", s->agents[0].conf, "--format",
                          format, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_ts_run(argv, NULL, 30000, &out, &err);
    if (rc != 0)
        fail_msg("status failed (%d): %s", rc, err ? err : "");
    free(err);
    assert_non_null(out);
    return out;
}

/* Waits until the dead-letter file is a regular file with `rows` rows. */
static char *s_wait_rows(const char *path, size_t rows, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            char *text = glci_ts_read_file(path);
            if (text && s_count(text, "\n") == rows + 1)
                return text;
            free(text);
        }
        glci_sys_sleep_ms(100);
    }
    char *text = glci_ts_read_file(path);
    fail_msg("%s: expected %zu rows, found: %s", path, rows, text ? text : "(nothing)");
    return NULL;
}

static void test_rejections_survive_an_unwritable_dead_letter_file(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 20, .window = 4};
    glci_sys_t *s = glci_sys_open("agent-deadletter", 1, &o);
    char path[700];
    snprintf(path, sizeof path, "%s", s->agents[0].spool);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof path - (size_t)(slash - path), "/rejected.csv");
    assert_int_equal(mkdir(path, 0755), 0);          /* appending to it fails */

    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    s_push_mixed(s, 1);
    for (int i = 0; i < 300 && glci_sys_stored(s->store) < 2; i++)
        glci_sys_sleep_ms(100);
    if (glci_sys_stored(s->store) < 2) {
        char *alog = glci_ts_proc_stderr(s->agents[0].proc);
        fprintf(stderr, "# agent log:\n%s", alog ? alog : "");
        free(alog);
    }
    glci_sys_wait_stored(s, 2, 1000);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);

    /* the batch is acked and gone; its rejected rows wait in the outbox */
    char *js = s_status(s, "json");
    fprintf(stderr, "# status: %s", js);
    assert_non_null(strstr(js, "\"batches\": 0,"));
    assert_non_null(strstr(js, "\"rejects\": 2,"));
    assert_non_null(strstr(js, "\"dead_letters_pending\": 2"));
    free(js);
    char *table = s_status(s, "table");
    assert_non_null(strstr(table, "2 rejected observations kept in the outbox"));
    free(table);
    char *csv = s_status(s, "csv");
    /* dead_letters_pending, then the retention's columns: 1 batch retained */
    assert_non_null(strstr(csv, ",dead_letters_pending,retained_batches,"));
    assert_non_null(strstr(csv, ",2,1,"));
    free(csv);

    /* retried (every second) but warned once per streak of failures */
    glci_sys_sleep_ms(2500);
    char *log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    assert_int_equal(s_count(log, "rejected.csv: cannot append"), 1);
    free(log);

    /* killed with the rows still pending: nothing is lost */
    glci_sys_kill9_agent(s, 0);
    glci_sys_start_agent(s, 0);
    s_push_mixed(s, 2);
    glci_sys_wait_stored(s, 4, 30000);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    js = s_status(s, "json");
    assert_non_null(strstr(js, "\"rejects\": 4,"));
    assert_non_null(strstr(js, "\"dead_letters_pending\": 4"));
    free(js);

    /* the file can be written again: every rejected row appears, once */
    assert_int_equal(rmdir(path), 0);
    char *dl = s_wait_rows(path, 4, 20000);
    assert_non_null(dl);
    fprintf(stderr, "# %s:\n%s", path, dl ? dl : "");
    assert_non_null(strstr(dl, "indicator,period,value,observed_at,source,reason,rejected_at\r\n"));
    assert_int_equal(s_count(dl, "\"no_such_indicator_1\",2021,1.5,,\"survey, wave 1\","
                                 "\"unknown indicator"), 1);
    assert_int_equal(s_count(dl, "\"another_unknown_1\",2022,2.5,,\"\",\"unknown indicator"),
                     1);
    assert_int_equal(s_count(dl, "\"no_such_indicator_2\",2021,1.5,,\"survey, wave 2\","
                                 "\"unknown indicator"), 1);
    assert_int_equal(s_count(dl, "\"another_unknown_2\",2022,2.5,,\"\",\"unknown indicator"),
                     1);
    assert_int_equal(s_count(dl, "adult_l"), 0);      /* the valid rows were stored */
    free(dl);

    js = s_status(s, "json");
    fprintf(stderr, "# status: %s", js);
    assert_non_null(strstr(js, "\"rejects\": 4,"));
    assert_non_null(strstr(js, "\"dead_letters_pending\": 0"));
    assert_non_null(strstr(js, "\"clash_events\": 0, \"clash_stream\": null, "
                               "\"clash_at\": null"));
    free(js);
    table = s_status(s, "table");
    assert_null(strstr(table, "kept in the outbox"));
    free(table);
    log = glci_ts_proc_stderr(s->agents[0].proc);
    assert_non_null(log);
    assert_int_equal(s_count(log, "can be written again"), 1);
    free(log);

    glci_sys_assert_exactly_once(s);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rejections_survive_an_unwritable_dead_letter_file,
                                  glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
