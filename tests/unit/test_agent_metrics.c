/* The agent's metrics file (agent/glci_agent_metrics.c) over a real outbox
 * in a temp folder, with the clock passed in: when it is written (first
 * step, every 15 s, a second after a change of state, a second after a
 * failed write), what it holds (the outbox's figures, one state selected
 * or none, the sender's counters), and that a moved path leaves no file
 * behind. */
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

#include "glci_agent_metrics.h"
#include "glci_testsupport.h"

static char *s_dir;
static char s_file[600], s_other[600];
static glci_outbox_t *s_ob;
static glci_agent_meter_t *s_m;

static int s_setup(void **state)
{
    char outbox[600], err[512];
    s_dir = glci_ts_tmpdir("agent-metrics");
    snprintf(outbox, sizeof outbox, "%s/outbox", s_dir);
    snprintf(s_file, sizeof s_file, "%s/glci-agent.prom", s_dir);
    snprintf(s_other, sizeof s_other, "%s/moved.prom", s_dir);
    if (glci_outbox_open(outbox, NULL, &s_ob, err, sizeof err) != 0)
        fail_msg("%s", err);
    glci_obs_t o = {.indicator = "adult_learning_rate", .period = 2024, .has_period = 1,
                    .value = 41, .has_value = 1};
    assert_int_equal(glci_outbox_append(s_ob, &o, 1, 100, 1764547200, NULL, NULL, NULL), 0);
    assert_int_equal(glci_agent_meter_open("cork-ie", &s_m, err, sizeof err), 0);
    return 0;
}

static int s_teardown(void **state)
{
    glci_agent_meter_close(&s_m);
    glci_outbox_close(&s_ob);
    glci_ts_rmtree(s_dir);
    free(s_dir);
    return 0;
}

/* 1 if the step at now wrote the file (it is removed first). */
static int s_writes(const char *state, int64_t now)
{
    unlink(s_file);
    glci_agent_meter_step(s_m, s_file, s_ob, state, now);
    return access(s_file, F_OK) == 0;
}

static int s_has(const char *path, const char *line)
{
    char *text = glci_ts_read_file(path);
    int yes = text && strstr(text, line) != NULL;
    free(text);
    return yes;
}

static void test_when_it_is_written(void **state)
{
    assert_true(s_writes("connecting", 1000));                  /* the first step */
    assert_true(s_has(s_file, "glci_agent_connection_state{state=\"connecting\"} 1\n"));
    assert_true(s_has(s_file, "glci_agent_outbox_batches 1\n"));
    assert_true(s_has(s_file, "glci_agent_build_info{version=\""));
    assert_false(s_writes("connecting", 2000));
    assert_int_equal(glci_agent_meter_timeout(s_m, s_file, "connecting", 2000), 14000);
    /* a change of state: a second after the last write, not before */
    assert_int_equal(glci_agent_meter_timeout(s_m, s_file, "connected", 1500), 500);
    assert_false(s_writes("connected", 1500));
    assert_true(s_writes("connected", 2000));
    assert_true(s_has(s_file, "glci_agent_connection_state{state=\"connected\"} 1\n"));
    assert_true(s_has(s_file, "glci_agent_connection_state{state=\"connecting\"} 0\n"));
    /* and every 15 s whatever happens */
    assert_false(s_writes("connected", 16999));
    assert_true(s_writes("connected", 17000));
}

static void test_words_and_counters(void **state)
{
    const glci_agent_metrics_t *m = glci_agent_meter_metrics(s_m);
    glci_counter_add(m->batches_acked, 0, 3);
    glci_counter_inc(m->observations_rejected, GLCI_MC_REJECT_OUT_OF_RANGE);
    glci_agent_meter_flush(s_m, s_file, s_ob, "handshake-failed", 20000);
    assert_true(s_has(s_file, "glci_agent_connection_state{state=\"handshake_failed\"} 1\n"));
    assert_true(s_has(s_file, "glci_agent_batches_acked_total 3\n"));
    assert_true(s_has(s_file,
                      "glci_agent_observations_rejected_total{reason=\"out_of_range\"} 1\n"));
    /* a stopped agent, or a word the catalog does not know: no state */
    static const char *const states[] = {"connecting", "connected", "disconnected",
                                         "refused", "handshake_failed", "forbidden",
                                         "malformed", "restreaming", "recovering"};
    const char *const words[] = {"", "stopped"};
    for (size_t w = 0; w < 2; w++) {
        glci_agent_meter_flush(s_m, s_file, s_ob, words[w], 21000);
        for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
            char line[128];
            snprintf(line, sizeof line, "glci_agent_connection_state{state=\"%s\"} 0\n",
                     states[i]);
            assert_true(s_has(s_file, line));
        }
    }
}

static void test_moved_and_failed(void **state)
{
    glci_agent_meter_flush(s_m, s_file, s_ob, "connected", 30000);
    assert_int_equal(access(s_file, F_OK), 0);
    /* a reload moved the file: the old one goes, the new one comes at once */
    glci_agent_meter_step(s_m, s_other, s_ob, "connected", 30001);
    assert_int_equal(access(s_other, F_OK), 0);
    assert_int_not_equal(access(s_file, F_OK), 0);
    /* unset: nothing more, and nothing left */
    glci_agent_meter_step(s_m, "", s_ob, "connected", 30002);
    assert_int_not_equal(access(s_other, F_OK), 0);
    assert_int_equal(glci_agent_meter_timeout(s_m, "", "connected", 30002),
                     GLCI_AGENT_METRICS_EVERY_MS);

    /* a folder that went away: tried again a second later, not 15 s */
    char gone[700];
    snprintf(gone, sizeof gone, "%s/gone", s_dir);
    assert_int_equal(mkdir(gone, 0755), 0);
    char path[800];
    snprintf(path, sizeof path, "%s/glci-agent.prom", gone);
    assert_int_equal(rmdir(gone), 0);
    glci_agent_meter_step(s_m, path, s_ob, "connected", 40000);
    assert_int_equal(glci_agent_meter_timeout(s_m, path, "connected", 40000), 1000);
    assert_int_equal(mkdir(gone, 0755), 0);
    glci_agent_meter_step(s_m, path, s_ob, "connected", 40999);
    assert_int_not_equal(access(path, F_OK), 0);
    glci_agent_meter_step(s_m, path, s_ob, "connected", 41000);
    assert_int_equal(access(path, F_OK), 0);
}

/* Acked batches a retention keeps are counted apart from the undelivered
 * ones; resending them is the "recovering" state. */
static void test_retained_and_recovering(void **state)
{
    glci_obs_t o = {.indicator = "adult_learning_rate", .period = 2025, .has_period = 1,
                    .value = 42, .has_value = 1};
    assert_int_equal(glci_outbox_retain(s_ob, 3600, 1 << 20, 1764547200, NULL), 0);
    assert_int_equal(glci_outbox_append(s_ob, &o, 1, 100, 1764547201, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(s_ob, 1, 1764547202, 0, NULL), 0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(s_ob, &st), 0);
    assert_true(st.retained_batches == 1 && st.retained_bytes > 0);
    glci_agent_meter_flush(s_m, s_file, s_ob, "recovering", 50000);
    char line[128];
    snprintf(line, sizeof line, "glci_agent_retained_bytes %llu\n",
             (unsigned long long)st.retained_bytes);
    assert_true(s_has(s_file, line));
    assert_true(s_has(s_file, "glci_agent_retained_batches 1\n"));
    assert_true(s_has(s_file, "glci_agent_outbox_batches 1\n"));
    assert_true(s_has(s_file, "glci_agent_connection_state{state=\"recovering\"} 1\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_when_it_is_written),
        cmocka_unit_test(test_words_and_counters),
        cmocka_unit_test(test_moved_and_failed),
        cmocka_unit_test(test_retained_and_recovering),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
