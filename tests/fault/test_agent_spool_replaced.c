/* The spool folder replaced while `run` runs, with the real glci-collector
 * and glci-agent on loopback: moved aside and made anew, then removed and
 * made anew. Files dropped into each new folder are delivered exactly once,
 * the agent saying once that it took up the new folder, and warning while
 * none is there; no SIGHUP or restart is needed. (The agent kept the first
 * folder's descriptor and inotify watch: such files stayed forever, without
 * a line in the log.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glci_checker.h"
#include "glci_testsupport.h"

static void test_spool_folder_replaced_while_running(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 50, .window = 4};
    glci_sys_t *s = glci_sys_open("agent-spool-replaced", 1, &o);
    glci_sys_agent_t *a = &s->agents[0];
    glci_sys_start_collector(s, NULL);
    glci_sys_start_agent(s, 0);
    glci_sys_spool(s, 0, 10);
    glci_sys_wait_stored(s, 10, GLCI_SYS_DRAIN_MS);

    /* mv spool spool.old; mkdir spool; a new file */
    char old[700], cmd[2048];
    snprintf(old, sizeof old, "%s.old", a->spool);
    assert_int_equal(rename(a->spool, old), 0);
    assert_int_equal(mkdir(a->spool, 0755), 0);
    glci_sys_spool(s, 0, 10);
    glci_sys_wait_stored(s, 20, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_ts_proc_wait_log(a->proc, "the spool folder was replaced while "
                                           "running", GLCI_SYS_READY_MS), 0);
    snprintf(cmd, sizeof cmd, "%s/done", a->spool);
    struct stat sb;
    assert_int_equal(stat(cmd, &sb), 0);         /* done/ made in the new folder */

    /* rm -rf spool: warned about; a folder made later is taken up */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", a->spool);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(glci_ts_proc_wait_log(a->proc, "the spool folder is gone",
                                           GLCI_SYS_READY_MS), 0);
    assert_int_equal(mkdir(a->spool, 0755), 0);
    glci_sys_spool(s, 0, 10);
    glci_sys_wait_stored(s, 30, GLCI_SYS_DRAIN_MS);
    char *log = glci_ts_proc_stderr(a->proc);
    assert_non_null(log);
    if (glci_ts_count(log, "the spool folder was replaced while running") != 2)
        fail_msg("log: %s", log);
    free(log);
    glci_sys_assert_exactly_once(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_spool_folder_replaced_while_running, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
