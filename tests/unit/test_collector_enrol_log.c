/* The enrolment handler's refusal lines stay bounded whatever addresses a
 * peer makes up (shared/SPEC.md section 9: once per backoff step, not per
 * try), and a count held for an address that never comes back is printed
 * once its minute is over (by the loop's tick) or at stop. The lines are
 * read back from standard error, where glci_log writes them; the clock is
 * the one each call passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector_enrol.h"
#include "glci_keyfile.h"

static char s_path[64];
static int s_saved = -1;

/* Standard error appended to a fresh temporary file, for s_lines. */
static void s_capture(void)
{
    fflush(stderr);
    snprintf(s_path, sizeof s_path, "/tmp/glci-test-enrol-log-XXXXXX");
    int fd = mkstemp(s_path);
    assert_true(fd >= 0);
    s_saved = dup(2);
    assert_true(s_saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    close(fd);
}

/* The lines written since s_capture holding what (all when NULL); the
 * whole text in *text when text is not NULL (the caller frees it). */
static int s_lines(const char *what, char **text)
{
    fflush(stderr);
    FILE *f = fopen(s_path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    int lines = 0;
    for (char *l = buf; *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        if (!what || strstr(l, what))
            lines++;
        if (!nl)
            break;
        *nl = '\n';
        l = nl + 1;
    }
    if (text)
        *text = buf;
    else
        free(buf);
    return lines;
}

static void s_release(void)
{
    fflush(stderr);
    dup2(s_saved, 2);
    close(s_saved);
    unlink(s_path);
}

static glci_collector_enrol_t *s_handler(void)
{
    glci_collector_enrol_limits_t lim = {.tries_per_addr = 1000000,
                                         .tries_total = 1000000, .window = 600};
    return glci_collector_enrol_new(NULL, &lim);
}

static void s_try(glci_collector_enrol_t *e, const char *addr, int64_t mono_ms)
{
    unsigned char k[32];
    memset(k, 0x5a, sizeof k);
    glci_key_t z;
    glci_key_encode(k, &z);
    glci_enrol_reply_t reply;
    glci_collector_enrol_handle(e, "junk", 4, z.z85, addr, 1000, mono_ms, &reply);
    assert_int_equal(reply.status, GLCI_ENROL_MALFORMED);
}

static void test_many_addresses_give_bounded_lines(void **state)
{
    (void)state;
    s_capture();
    glci_collector_enrol_t *e = s_handler();
    char addr[64];
    for (int i = 0; i < 500; i++) {
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 250, i % 250);
        s_try(e, addr, 1000 + i);
    }
    int lines = s_lines("enrol: refused a request", NULL);
    if (lines > 65)
        fail_msg("500 addresses in a minute gave %d lines (at most 64 + 1)", lines);
    assert_int_equal(s_lines("more than 64 kinds", NULL), 1);
    /* the minute over, the shared count is printed by the tick alone */
    glci_collector_enrol_tick(e, 1000 + 500 + 60000);
    char *text;
    assert_int_equal(s_lines("more than 64 kinds", &text), 2);
    if (!strstr(text, "(repeated 435 times"))
        fail_msg("no count of the 435 shared refusals: %s", text);
    free(text);
    /* a new minute: new addresses get slots and lines again */
    int before = s_lines(NULL, NULL);
    s_try(e, "192.0.2.7", 200000);
    assert_int_equal(s_lines(NULL, NULL), before + 1);
    glci_collector_enrol_free(&e);
    s_release();
}

static void test_pending_count_printed_without_a_return(void **state)
{
    (void)state;
    s_capture();
    glci_collector_enrol_t *e = s_handler();
    s_try(e, "198.51.100.1", 1000);
    s_try(e, "198.51.100.1", 2000);
    s_try(e, "198.51.100.1", 3000);
    assert_int_equal(s_lines("198.51.100.1", NULL), 1);
    glci_collector_enrol_tick(e, 30000);           /* within the minute: quiet */
    assert_int_equal(s_lines("198.51.100.1", NULL), 1);
    glci_collector_enrol_tick(e, 61000);
    char *text;
    assert_int_equal(s_lines("198.51.100.1", &text), 2);
    if (!strstr(text, "(repeated 2 times"))
        fail_msg("the count was not printed: %s", text);
    free(text);

    /* at stop, a count within its minute is printed too */
    s_try(e, "203.0.113.9", 70000);
    s_try(e, "203.0.113.9", 71000);
    glci_collector_enrol_free(&e);
    assert_int_equal(s_lines("203.0.113.9", &text), 2);
    if (!strstr(text, "(repeated 1 time"))
        fail_msg("the count held at stop was lost: %s", text);
    free(text);
    s_release();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_addresses_give_bounded_lines),
        cmocka_unit_test(test_pending_count_printed_without_a_return),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
