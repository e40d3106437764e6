/* Unit tests for common/glci_log_repeat.c. glci_log is swapped at link
 * time for a recorder (this file defines it; glci_common is not linked), and
 * the clock is the time each call passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "glci_log_repeat.h"

static char s_lines[16][1200];
static glci_log_level_t s_levels[16];
static int s_n;

void glci_log(glci_log_level_t level, const char *fmt, ...)
{
    assert_true(s_n < 16);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s_lines[s_n], sizeof s_lines[s_n], fmt, ap);
    va_end(ap);
    s_levels[s_n++] = level;
}

static int s_reset(void **state)
{
    s_n = 0;
    return 0;
}

static void test_first_printed_repeats_counted(void **state)
{
    glci_log_repeat_t r = GLCI_LOG_REPEAT_INIT;
    assert_int_equal(glci_log_repeat(&r, 1000, 5000, GLCI_LOG_ERROR, "handshake failed (%d)", 1),
                     1);
    for (int t = 2000; t < 6000; t += 500)
        assert_int_equal(glci_log_repeat(&r, t, 5000, GLCI_LOG_ERROR, "handshake failed (%d)", 2),
                         0);
    assert_int_equal(s_n, 1);
    assert_string_equal(s_lines[0], "handshake failed (1)");
    assert_int_equal(s_levels[0], GLCI_LOG_ERROR);
    /* at the deadline: printed with the 8 quiet ones and itself */
    assert_int_equal(glci_log_repeat(&r, 6000, 5000, GLCI_LOG_ERROR, "handshake failed (%d)", 3),
                     1);
    assert_int_equal(s_n, 2);
    assert_string_equal(s_lines[1], "handshake failed (3) (repeated 9 times in the last 5.0 s)");
}

/* The quiet time is the caller's backoff step: one line per step. */
static void test_once_per_backoff_step(void **state)
{
    glci_log_repeat_t r = GLCI_LOG_REPEAT_INIT;
    int64_t now = 0, step = 1000;
    int printed = 0;
    /* a try every 250 ms while the backoff doubles from 1 s to 8 s */
    for (; now <= 15000; now += 250) {
        int p = glci_log_repeat(&r, now, step, GLCI_LOG_WARN, "refused");
        if (p) {
            printed++;
            if (step < 8000)
                step *= 2;
        }
    }
    /* printed at 0, 1, 3, 7 s (steps of 1, 2, 4 s), then every 8 s: 15 s */
    assert_int_equal(printed, 5);
    assert_string_equal(s_lines[0], "refused");
    assert_string_equal(s_lines[1], "refused (repeated 4 times in the last 1.0 s)");
    assert_string_equal(s_lines[2], "refused (repeated 8 times in the last 2.0 s)");
    assert_string_equal(s_lines[3], "refused (repeated 16 times in the last 4.0 s)");
    assert_string_equal(s_lines[4], "refused (repeated 32 times in the last 8.0 s)");
}

static void test_end_reports_unprinted(void **state)
{
    glci_log_repeat_t r = GLCI_LOG_REPEAT_INIT;
    glci_log_repeat(&r, 0, 60000, GLCI_LOG_WARN, "cannot write %s", "a.csv");
    glci_log_repeat(&r, 10000, 60000, GLCI_LOG_WARN, "cannot write %s", "b.csv");
    glci_log_repeat(&r, 20000, 60000, GLCI_LOG_ERROR, "cannot write %s", "c.csv");
    assert_int_equal(glci_log_repeat_end(&r, 25000), 1);
    assert_int_equal(s_n, 2);
    /* the last message and level, the repeats since the printed line */
    assert_string_equal(s_lines[1], "cannot write c.csv (repeated 2 times in the last 25 s)");
    assert_int_equal(s_levels[1], GLCI_LOG_ERROR);
    /* after the end the next occurrence is printed at once, plain */
    assert_int_equal(glci_log_repeat(&r, 26000, 60000, GLCI_LOG_WARN, "cannot write x"), 1);
    assert_string_equal(s_lines[2], "cannot write x");
    /* nothing counted: nothing to end */
    assert_int_equal(glci_log_repeat_end(&r, 27000), 0);
    assert_int_equal(glci_log_repeat_end(&r, 28000), 0);
    assert_int_equal(s_n, 3);
}

static void test_single_repeat_and_no_quiet(void **state)
{
    glci_log_repeat_t r = GLCI_LOG_REPEAT_INIT;
    glci_log_repeat(&r, 0, 1000, GLCI_LOG_WARN, "x");
    glci_log_repeat(&r, 500, 1000, GLCI_LOG_WARN, "x");
    glci_log_repeat_end(&r, 600);
    assert_string_equal(s_lines[1], "x (repeated 1 time in the last 0.6 s)");
    /* quiet time 0 (or negative): every occurrence is printed */
    glci_log_repeat_t q = GLCI_LOG_REPEAT_INIT;
    for (int i = 0; i < 3; i++)
        assert_int_equal(glci_log_repeat(&q, 100, i - 1, GLCI_LOG_INFO, "y"), 1);
    assert_int_equal(s_n, 5);
    assert_string_equal(s_lines[4], "y");
}

/* A count is printed once the quiet time is over, even if the error never
 * comes again; not before, and not twice. */
static void test_tick_prints_after_quiet_time(void **state)
{
    glci_log_repeat_t r = GLCI_LOG_REPEAT_INIT;
    assert_int_equal(glci_log_repeat_tick(&r, 0), 0);    /* nothing yet */
    glci_log_repeat(&r, 0, 60000, GLCI_LOG_WARN, "refused key %s", "A");
    assert_int_equal(glci_log_repeat_tick(&r, 30000), 0);   /* printed, none counted */
    glci_log_repeat(&r, 1200, 60000, GLCI_LOG_WARN, "refused key %s", "B");
    glci_log_repeat(&r, 2400, 60000, GLCI_LOG_WARN, "refused key %s", "C");
    assert_int_equal(glci_log_repeat_tick(&r, 59999), 0);   /* still quiet */
    assert_int_equal(s_n, 1);
    assert_int_equal(glci_log_repeat_tick(&r, 60000), 1);
    assert_int_equal(s_n, 2);
    assert_string_equal(s_lines[1], "refused key C (repeated 2 times in the last 60 s)");
    assert_int_equal(glci_log_repeat_tick(&r, 120000), 0);  /* said once */
    /* started over: the next one is printed at once */
    assert_int_equal(glci_log_repeat(&r, 120500, 60000, GLCI_LOG_WARN, "refused key D"), 1);
    assert_int_equal(s_n, 3);
}

static void test_long_message_truncated(void **state)
{
    glci_log_repeat_t r = GLCI_LOG_REPEAT_INIT;
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    glci_log_repeat(&r, 0, 10, GLCI_LOG_WARN, "%s", big);
    glci_log_repeat(&r, 5, 10, GLCI_LOG_WARN, "%s", big);
    glci_log_repeat(&r, 20, 10, GLCI_LOG_WARN, "%s", big);
    assert_int_equal(s_n, 2);
    assert_int_equal(strlen(s_lines[0]), sizeof r.last - 1);
    /* the count survives a message cut to fit */
    assert_non_null(strstr(s_lines[1], "a (repeated 2 times in the last 0.0 s)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_printed_repeats_counted, s_reset),
        cmocka_unit_test_setup(test_once_per_backoff_step, s_reset),
        cmocka_unit_test_setup(test_end_reports_unprinted, s_reset),
        cmocka_unit_test_setup(test_single_repeat_and_no_quiet, s_reset),
        cmocka_unit_test_setup(test_tick_prints_after_quiet_time, s_reset),
        cmocka_unit_test_setup(test_long_message_truncated, s_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
