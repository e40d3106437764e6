/* The collector's memory policy (collector/collector_budget.c,
 * glci_collector_memory_init and _idle) with glibc's allocator, in threads
 * of this process as the store thread would meet it:
 *   - a thread that allocates and frees about a megabyte again and again
 *     (a commit's LMDB pages) takes no new page faults after the first
 *     round: the top of its heap is kept;
 *   - after a thread's flood of 37.5 MiB is freed and the idle trim has
 *     run, at most the kept top (8 MiB) and some slack stay resident.
 * Both depend on glibc's malloc: under AddressSanitizer, whose allocator
 * replaces it, they are skipped and say so. */
#define _GNU_SOURCE                 /* RUSAGE_THREAD */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "collector_budget.h"

#if defined(__SANITIZE_ADDRESS__)
#define S_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_SANITIZED 1
#endif
#endif
#ifndef S_SANITIZED
#define S_SANITIZED 0
#endif

#define S_CHUNK (64 * 1024)   /* below the mmap threshold: from the heap */
#define S_ROUND 16            /* chunks per round: 1 MiB */
#define S_ROUNDS 50
#define S_FLOOD 600           /* chunks of the flood: 37.5 MiB */

static long s_rss_anon_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

static void s_touch(char *p)
{
    for (size_t i = 0; i < S_CHUNK; i += 4096)
        p[i] = (char)i;
}

/* Rounds of a commit's allocations; returns the thread's minor faults
 * after the first round. */
static void *s_churn(void *arg)
{
    long *faults = arg;
    struct rusage a, b;
    char *p[S_ROUND];
    for (int r = 0; r < S_ROUNDS; r++) {
        if (r == 1)
            getrusage(RUSAGE_THREAD, &a);
        for (int i = 0; i < S_ROUND; i++) {
            p[i] = malloc(S_CHUNK);
            s_touch(p[i]);
        }
        for (int i = S_ROUND - 1; i >= 0; i--)
            free(p[i]);
    }
    getrusage(RUSAGE_THREAD, &b);
    *faults = b.ru_minflt - a.ru_minflt;
    return NULL;
}

static void *s_flood(void *arg)
{
    (void)arg;
    char **p = calloc(S_FLOOD, sizeof *p);
    for (int i = 0; i < S_FLOOD; i++) {
        p[i] = malloc(S_CHUNK);
        s_touch(p[i]);
    }
    for (int i = S_FLOOD - 1; i >= 0; i--)
        free(p[i]);
    free(p);
    return NULL;
}

static void test_commits_keep_the_heap_top(void **state)
{
    (void)state;
    if (S_SANITIZED)
        skip();
    pthread_t t;
    long faults = -1;
    assert_int_equal(pthread_create(&t, NULL, s_churn, &faults), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    long pages = (long)(S_ROUNDS - 1) * S_ROUND * (S_CHUNK / 4096);
    print_message("# %ld minor faults in %d rounds after the first (%ld pages touched)\n",
                  faults, S_ROUNDS - 1, pages);
    /* the top given back at each free would fault every page again */
    assert_true(faults >= 0 && faults < pages / 20);
}

static void test_flood_comes_back(void **state)
{
    (void)state;
    if (S_SANITIZED)
        skip();
    long before = s_rss_anon_kib();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_flood, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    long freed = s_rss_anon_kib();
    glci_collector_memory_note(64u << 20);
    glci_collector_memory_idle(INT64_C(1) << 40);
    long after = s_rss_anon_kib();
    print_message("# RssAnon %ld kB before, %ld kB after the flood was freed, %ld kB after "
                  "the idle trim\n", before, freed, after);
    assert_true(before > 0 && after > 0);
    /* at most the kept top (8 MiB) and 4 MiB of slack */
    assert_true(after - before <= 12 * 1024);
}

int main(void)
{
    glci_collector_memory_init();
    if (S_SANITIZED)
        printf("# glibc's allocator is replaced by AddressSanitizer's: its policy is not "
               "tested here\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commits_keep_the_heap_top),
        cmocka_unit_test(test_flood_comes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
