/* A hot backup under load, and a restore from it. `glci backup` runs while
 * four agents deliver over CURVE; the copy is consistent (its values are an
 * exact prefix of what each city sent, with stream marks to match, and
 * `glci verify` passes on it) while the live store goes on to hold every
 * value exactly once. Then the institute restores: a collector started on
 * the copy as it is (it carries the collector's key files) serves a reinstalled agent (new outbox, new stream), which
 * delivers exactly its new values, and verify passes on the restored
 * store. */
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

#define N_AGENTS 4

static void test_hot_backup_under_load_and_restore(void **state)
{
    (void)state;
    glci_sys_opts_t o = {.batch_max = 50, .window = 8};
    glci_sys_t *s = glci_sys_open("sys-backup", N_AGENTS, &o);
    char backup[600];
    snprintf(backup, sizeof backup, "%s/backup", s->dir);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++) {
        glci_sys_start_agent(s, i);
        glci_sys_push(s, i, 6000);
    }
    glci_sys_wait_stored(s, 2000, GLCI_SYS_DRAIN_MS);

    const char *args[] = {"backup", backup, NULL};
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci backup exited %d: %s", rc, err ? err : "");
    free(out);
    free(err);
    fprintf(stderr, "# backup taken with %llu values in the live store\n",
            (unsigned long long)glci_sys_stored(s->store));

    /* The live store gets everything, exactly once. */
    glci_sys_assert_exactly_once(s);

    /* The copy is a consistent prefix and verifies. */
    glci_check_result_t r;
    if (glci_checker_run(s->chk, backup, s->glci, 1, &r) != 0)
        fail_msg("the backup is not a consistent prefix: %s", r.first_problem);
    assert_true(r.stored >= 2000);
    assert_int_equal(r.verify_status, 0);
    uint64_t in_backup = r.stored;
    fprintf(stderr, "# backup holds %llu of %llu values\n", (unsigned long long)in_backup,
            (unsigned long long)r.expected);

    /* Restore: the agents stop, a collector runs on the copy. */
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    /* The copy carries the collector's key files: a collector starts on it
     * as it is (docs/OPERATIONS.md, "Backup and restore"), and the agents'
     * collector key still matches. */
    char src[700], dst[700];
    snprintf(src, sizeof src, "%s/collector.key", s->store);
    snprintf(dst, sizeof dst, "%s/collector.key", backup);
    char *key = glci_ts_read_file(src), *copied = glci_ts_read_file(dst);
    assert_non_null(key);
    assert_non_null(copied);
    assert_string_equal(copied, key);
    struct stat sb;
    assert_int_equal(stat(dst, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    free(key);
    free(copied);
    glci_sys_start_collector(s, backup);

    /* City 0 reinstalls its agent: a new outbox, hence a new stream. */
    glci_ts_rmtree(s->agents[0].outbox);
    glci_sys_start_agent(s, 0);
    glci_sys_push(s, 0, 700);
    glci_sys_wait_outbox_empty(s, 0, GLCI_SYS_DRAIN_MS);
    assert_int_equal(glci_sys_stored(backup), in_backup + 700);

    const char *argv[] = {s->glci, "--store", backup, "verify", NULL};
    char *vout = NULL, *verr = NULL;
    rc = glci_ts_run(argv, NULL, GLCI_SYS_DRAIN_MS, &vout, &verr);
    if (rc != 0)
        fail_msg("verify on the restored store exited %d: %s%s", rc, vout, verr);
    free(vout);
    free(verr);

    glci_sys_stop_agent(s, 0);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hot_backup_under_load_and_restore, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
