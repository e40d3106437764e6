/* Unit tests for common/glci_log_kinds.c, counted by the lines each call
 * says it printed; the clock is the time each call passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "glci_log_kinds.h"

static void test_kinds_beyond_the_slots_share_one_line(void **state)
{
    (void)state;
    glci_log_kinds_t *k = glci_log_kinds_new(3, 60000, " [others]");
    int lines = 0;
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "city-%d", i);
        lines += glci_log_kinds(k, key, 1000 + i, GLCI_LOG_WARN, "refused %s", key);
    }
    assert_int_equal(lines, 3 + 1);
    /* a known kind is counted, not printed */
    assert_int_equal(glci_log_kinds(k, "city-1", 2000, GLCI_LOG_WARN, "refused city-1"), 0);
    /* within the minute the tick holds the counts; after it, prints them */
    assert_int_equal(glci_log_kinds_tick(k, 30000), 0);
    assert_int_equal(glci_log_kinds_tick(k, 62000), 2);   /* city-1 and the others */
    /* slots with nothing to say are taken by new kinds */
    assert_int_equal(glci_log_kinds(k, "new-a", 70000, GLCI_LOG_WARN, "refused new-a"), 1);
    assert_int_equal(glci_log_kinds(k, "new-b", 70000, GLCI_LOG_WARN, "refused new-b"), 1);
    assert_int_equal(glci_log_kinds(k, "new-b", 70001, GLCI_LOG_WARN, "refused new-b"), 0);
    /* the end prints what is held, quiet time over or not */
    assert_int_equal(glci_log_kinds_end(k, 70002), 1);
    assert_int_equal(glci_log_kinds_end(k, 70003), 0);
    glci_log_kinds_free(&k, 70004);
    assert_null(k);
    glci_log_kinds_free(&k, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_beyond_the_slots_share_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
