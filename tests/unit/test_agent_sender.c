/* The sender's backoff rule (glci_agent_backoff): one pause per group of
 * failing answers, doubling once per pause, capped at 60 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "glci_agent_sender.h"

static void test_window_of_failures_doubles_once(void **state)
{
    (void)state;
    int64_t d = 1000, until = 0;
    /* 8 answers of one window, all UNAVAILABLE, arriving together */
    assert_int_equal(glci_agent_backoff(&d, &until, 10000, 0xffffffffu), 1);
    int64_t first = until;
    assert_true(first >= 10500 && first <= 11000);
    for (int i = 0; i < 7; i++)
        assert_int_equal(glci_agent_backoff(&d, &until, 10000 + i, 12345u * (uint32_t)i), 0);
    assert_true(until == first);
    assert_true(d == 2000);
    /* the next failure after the pause: 2 s base, then 4 s */
    assert_int_equal(glci_agent_backoff(&d, &until, first, 0), 1);
    assert_true(until == first + 1000);
    assert_true(d == 4000);
}

static void test_backoff_is_capped(void **state)
{
    (void)state;
    int64_t d = 1000, until = 0, now = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(glci_agent_backoff(&d, &until, now, 7u), 1);
        assert_true(until - now <= 60000);
        now = until;
    }
    assert_true(d == 60000);
    assert_true(until - now <= 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_of_failures_doubles_once),
        cmocka_unit_test(test_backoff_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
