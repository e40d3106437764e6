/* collector_daemon: the summary line the collector logs once a minute,
 * each count with its noun in the singular or the plural. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "glci_collector.h"

static void test_summary_counts_agree_with_their_nouns(void **state)
{
    (void)state;
    char line[256];
    glci_collector_stats_t one = {1, 1, 0, 1};
    glci_collector_stats_line(&one, 60, line, sizeof line);
    assert_string_equal(line, "last 60s: 1 batch applied, 1 observation stored, 0 rejected, "
                              "1 batch refused");
    glci_collector_stats_t many = {2, 0, 3, 0};
    glci_collector_stats_line(&many, 60, line, sizeof line);
    assert_string_equal(line, "last 60s: 2 batches applied, 0 observations stored, 3 rejected, "
                              "0 batches refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_counts_agree_with_their_nouns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
