/* An agent that cannot watch its spool folder still delivers: with the
 * user's inotify instances used up (other programs of the same user on a
 * city's machine), the agent warns once and scans the folder every 2 s.
 * The agent runs in a user namespace of its own whose
 * max_inotify_instances is 0 (the host's limit is not touched); where user
 * namespaces cannot be made the test is reported as skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"

static void test_spool_scanned_without_inotify(void **state)
{
    (void)state;
    glci_sys_t *s = glci_sys_open("sys-unwatched", 1, NULL);
    glci_sys_start_collector(s, NULL);
    glci_sys_agent_t *a = &s->agents[0];
    const char *argv[] = {"/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c",
                          "echo 0 > /proc/sys/user/max_inotify_instances || exit 77; "
                          "exec \"$0\" run --config \"$1\"",
                          s->agent_bin, a->conf, NULL};
    a->proc = glci_ts_proc_start(argv, NULL);
    if (glci_ts_proc_wait_ready(a->proc, GLCI_SYS_READY_MS) != 0) {
        char *log = glci_ts_proc_stderr(a->proc);
        int rc = glci_ts_proc_wait_exit(a->proc, GLCI_SYS_STOP_MS);
        if (rc == 77 || (log && strstr(log, "unshare:"))) {
            fprintf(stderr, "# user namespaces cannot be made here: %s\n", log ? log : "");
            free(log);
            glci_sys_close(&s);
            exit(77);           /* ctest: skipped (SKIP_RETURN_CODE) */
        }
        fail_msg("agent not ready (exit %d): %s", rc, log ? log : "");
    }
    assert_int_equal(glci_ts_proc_wait_log(a->proc, "scanning it every 2 s instead",
                                           GLCI_SYS_READY_MS), 0);
    glci_sys_spool(s, 0, 300);
    glci_sys_push(s, 0, 100);
    glci_sys_spool(s, 0, 200);
    glci_sys_assert_exactly_once(s);
    char *log = glci_ts_proc_stderr(a->proc);
    assert_int_equal(glci_ts_count(log, "cannot watch the spool folder"), 1);   /* once */
    free(log);
    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_spool_scanned_without_inotify, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
