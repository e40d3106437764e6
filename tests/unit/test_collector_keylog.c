/* The key log's gate (collector/collector_keylog.c) on a real store: every
 * write of the log calls the gate first, the daemon's way of keeping the
 * log from writing beside an ingest. The gate of these tests counts its
 * calls and reads, at each, what the store holds, so "before the write" is
 * what the store shows: none of the pending events when the gate runs, all
 * of them once the call returns. The early write when
 * GLCI_COLLECTOR_KEYLOG_USES_MAX distinct keys are pending (the path taken
 * inside ZAP serving, possibly with a group in flight) calls it exactly
 * once, also with the bound lowered (the daemon's test hook); the
 * periodic write calls it, a write not yet due and one with nothing
 * pending do not, and a write the store refuses (a read-only handle)
 * still called it and keeps the events pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector_keylog.h"
#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_testsupport.h"

#define S_NOW INT64_C(1800000000)
#define S_FLUSH_S 60
#define S_KEYS (GLCI_COLLECTOR_KEYLOG_USES_MAX + 1)

typedef struct {
    char *dir;
    glci_store_t *st;
    unsigned char (*keys)[32];
    size_t n_keys;
    /* what the gate saw */
    int gate_calls;
    size_t used_at_gate;       /* keys with a last-used time in the store */
    size_t refused_at_gate;    /* rows of the refused-keys table */
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = glci_ts_tmpdir("keylog");
    size_t n = strlen(f->dir) + 16;
    char *store = malloc(n);
    assert_non_null(store);
    snprintf(store, n, "%s/store", f->dir);
    char err[512];
    if (glci_store_create(store, glci_ts_framework(), NULL, err, sizeof err) != 0 ||
        glci_store_open(store, NULL, &f->st, err, sizeof err) != 0)
        fail_msg("store: %s", err);
    free(store);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    glci_store_close(&f->st);
    glci_ts_rmtree(f->dir);
    free(f->dir);
    free(f->keys);
    free(f);
    return 0;
}

/* n cities k0000..., each with one fresh key, kept in f->keys. */
static void s_cities(fixture_t *f, size_t n)
{
    f->keys = calloc(n, sizeof *f->keys);
    assert_non_null(f->keys);
    f->n_keys = n;
    for (size_t i = 0; i < n; i++) {
        glci_key_t pub, sec;
        char id[32], err[256];
        assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
        assert_int_equal(glci_key_decode(pub.z85, f->keys[i]), 0);
        snprintf(id, sizeof id, "k%04zu", i);
        if (glci_store_city_add(f->st, id, id, "XX", pub.z85, err, sizeof err) != 0)
            fail_msg("city %s: %s", id, err);
    }
}

static int s_count_used(void *ctx, const glci_city_key_t *k)
{
    if (k->last_used != 0)
        (*(size_t *)ctx)++;
    return 0;
}

static int s_each_city(void *ctx, const glci_city_t *c)
{
    void **a = ctx;
    return glci_view_city_keys(a[0], c->id, s_count_used, a[1]);
}

/* How many registered keys have a last-used time in the store: read as
 * `glci city show` reads it (glci_view_city_keys). */
static size_t s_used_in_store(glci_store_t *st)
{
    glci_view_t *v = NULL;
    size_t n = 0;
    assert_int_equal(glci_view_begin(st, &v), 0);
    void *a[2] = {v, &n};
    assert_int_equal(glci_view_cities(v, s_each_city, a), 0);
    glci_view_end(&v);
    return n;
}

static int s_take_last(void *ctx, const glci_city_key_t *k)
{
    *(int64_t *)ctx = k->last_used;
    return 0;
}

/* The last-used time the store has for key i (its city has no other). */
static int64_t s_last_used(fixture_t *f, size_t i)
{
    char id[32];
    snprintf(id, sizeof id, "k%04zu", i);
    glci_view_t *v = NULL;
    int64_t at = -1;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_city_keys(v, id, s_take_last, &at), 0);
    glci_view_end(&v);
    return at;
}

static int s_skip_refusal(void *ctx, const glci_key_refusal_t *r)
{
    (void)ctx;
    (void)r;
    return 0;
}

/* The rows of the store's refused-keys table (`glci keys refused`). */
static size_t s_refused_in_store(glci_store_t *st)
{
    glci_view_t *v = NULL;
    size_t total = 0;
    assert_int_equal(glci_view_begin(st, &v), 0);
    assert_int_equal(glci_view_refused(v, s_skip_refusal, NULL, &total), 0);
    glci_view_end(&v);
    return total;
}

/* The gate: counts its calls and notes what the store holds then. */
static void s_gate(void *arg)
{
    fixture_t *f = arg;
    f->gate_calls++;
    f->used_at_gate = s_used_in_store(f->st);
    f->refused_at_gate = s_refused_in_store(f->st);
}

static glci_collector_keylog_t *s_log(fixture_t *f, glci_store_t *st)
{
    glci_collector_keylog_t *kl = glci_collector_keylog_new(st, 0, S_FLUSH_S);
    assert_non_null(kl);
    glci_collector_keylog_gate(kl, s_gate, f);
    return kl;
}

static size_t s_pending_uses(const glci_collector_keylog_t *kl)
{
    size_t used = 0;
    glci_collector_keylog_pending(kl, NULL, &used, NULL);
    return used;
}

/* GLCI_COLLECTOR_KEYLOG_USES_MAX distinct keys wait in memory; one more
 * writes them, calling the gate once before the write; the new key is
 * the one left pending. */
static void test_full_table_calls_the_gate_before_the_write(void **state)
{
    fixture_t *f = *state;
    s_cities(f, S_KEYS);
    glci_collector_keylog_t *kl = s_log(f, f->st);
    for (size_t i = 0; i < GLCI_COLLECTOR_KEYLOG_USES_MAX; i++)
        glci_collector_keylog_used(kl, f->keys[i], S_NOW);
    assert_int_equal(f->gate_calls, 0);
    assert_int_equal(s_pending_uses(kl), GLCI_COLLECTOR_KEYLOG_USES_MAX);
    assert_int_equal(s_used_in_store(f->st), 0);
    /* a key already pending is merged: no write */
    glci_collector_keylog_used(kl, f->keys[0], S_NOW + 1);
    assert_int_equal(f->gate_calls, 0);

    glci_collector_keylog_used(kl, f->keys[S_KEYS - 1], S_NOW + 2);
    assert_int_equal(f->gate_calls, 1);
    assert_int_equal(f->used_at_gate, 0);          /* the gate ran before the write */
    assert_int_equal(s_used_in_store(f->st), GLCI_COLLECTOR_KEYLOG_USES_MAX);
    assert_int_equal(s_last_used(f, 0), S_NOW + 1);
    assert_int_equal(s_last_used(f, 1), S_NOW);
    assert_int_equal(s_last_used(f, S_KEYS - 1), 0);
    assert_int_equal(s_pending_uses(kl), 1);

    /* the last key is written at free, through the gate too */
    glci_collector_keylog_free(&kl);
    assert_null(kl);
    assert_int_equal(f->gate_calls, 2);
    assert_int_equal(f->used_at_gate, GLCI_COLLECTOR_KEYLOG_USES_MAX);
    assert_int_equal(s_last_used(f, S_KEYS - 1), S_NOW + 2);
}

/* A lowered bound (the daemon's test hook) fills with as many keys: the
 * next new one writes them, through the gate. */
static void test_lowered_bound_writes_early(void **state)
{
    fixture_t *f = *state;
    s_cities(f, 3);
    glci_collector_keylog_t *kl = s_log(f, f->st);
    glci_collector_keylog_uses_max(kl, 2);
    glci_collector_keylog_used(kl, f->keys[0], S_NOW);
    glci_collector_keylog_used(kl, f->keys[1], S_NOW);
    assert_int_equal(f->gate_calls, 0);
    glci_collector_keylog_used(kl, f->keys[2], S_NOW + 1);
    assert_int_equal(f->gate_calls, 1);
    assert_int_equal(f->used_at_gate, 0);
    assert_int_equal(s_used_in_store(f->st), 2);
    assert_int_equal(s_pending_uses(kl), 1);
    glci_collector_keylog_free(&kl);
    assert_int_equal(s_last_used(f, 2), S_NOW + 1);
}

/* The periodic write calls the gate before it writes; one not yet due
 * does not call it, nor write. Refusals go the same way. */
static void test_periodic_write_calls_the_gate_first(void **state)
{
    fixture_t *f = *state;
    s_cities(f, 2);
    glci_collector_keylog_t *kl = s_log(f, f->st);
    glci_collector_keylog_used(kl, f->keys[0], S_NOW);
    unsigned char stranger[32];
    memset(stranger, 0x5a, sizeof stranger);
    glci_collector_keylog_refused(kl, stranger, "192.0.2.7", S_NOW, 0);
    assert_int_equal(f->gate_calls, 0);

    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW, 0), 0);
    assert_int_equal(f->gate_calls, 1);
    assert_int_equal(f->used_at_gate, 0);
    assert_int_equal(f->refused_at_gate, 0);
    assert_int_equal(s_last_used(f, 0), S_NOW);
    assert_int_equal(s_refused_in_store(f->st), 1);

    glci_collector_keylog_used(kl, f->keys[1], S_NOW + 1);
    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW + S_FLUSH_S - 1, 0), 0);
    assert_int_equal(f->gate_calls, 1);            /* not due: no gate, no write */
    assert_int_equal(s_last_used(f, 1), 0);
    assert_int_equal(s_pending_uses(kl), 1);

    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW + S_FLUSH_S, 0), 0);
    assert_int_equal(f->gate_calls, 2);
    assert_int_equal(f->used_at_gate, 1);
    assert_int_equal(s_last_used(f, 1), S_NOW + 1);
    assert_int_equal(s_pending_uses(kl), 0);
    glci_collector_keylog_free(&kl);
    assert_int_equal(f->gate_calls, 2);
}

/* Nothing pending: no write, so no gate, forced or not, nor at free. */
static void test_nothing_pending_no_gate(void **state)
{
    fixture_t *f = *state;
    glci_collector_keylog_t *kl = s_log(f, f->st);
    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW, 0), 0);
    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW, 1), 0);
    glci_collector_keylog_free(&kl);
    assert_int_equal(f->gate_calls, 0);
}

/* A write the store refuses (a read-only handle): the gate ran, the code
 * comes back, and the events stay pending for the next try; the full
 * table's early write too. */
static void test_failed_write_keeps_the_events(void **state)
{
    fixture_t *f = *state;
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    char err[256];
    glci_store_close(&f->st);
    size_t n = strlen(f->dir) + 16;
    char *store = malloc(n);
    assert_non_null(store);
    snprintf(store, n, "%s/store", f->dir);
    if (glci_store_open(store, &ro, &f->st, err, sizeof err) != 0)
        fail_msg("open read-only: %s", err);
    free(store);

    glci_collector_keylog_t *kl = s_log(f, f->st);
    unsigned char key[32];
    memset(key, 0, sizeof key);
    glci_collector_keylog_used(kl, key, S_NOW);
    unsigned char stranger[32];
    memset(stranger, 0xa5, sizeof stranger);
    glci_collector_keylog_refused(kl, stranger, "192.0.2.8", S_NOW, 0);
    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW, 1), GLCI_STORE_ERDONLY);
    assert_int_equal(f->gate_calls, 1);
    size_t refused = 0, used = 0;
    glci_collector_keylog_pending(kl, &refused, &used, NULL);
    assert_int_equal(refused, 1);
    assert_int_equal(used, 1);

    /* the table filled: the early write goes through the gate, fails, and
     * what was pending stays */
    for (size_t i = 1; i <= GLCI_COLLECTOR_KEYLOG_USES_MAX; i++) {
        key[0] = (unsigned char)(i & 0xff);
        key[1] = (unsigned char)(i >> 8);
        glci_collector_keylog_used(kl, key, S_NOW + 1);
    }
    assert_int_equal(f->gate_calls, 2);
    glci_collector_keylog_pending(kl, &refused, &used, NULL);
    assert_int_equal(refused, 1);
    assert_int_equal(used, GLCI_COLLECTOR_KEYLOG_USES_MAX);
    glci_collector_keylog_free(&kl);
    assert_int_equal(f->gate_calls, 3);            /* the last try, at free */
}

static int s_has_refused(void *ctx, const glci_key_refusal_t *r)
{
    const unsigned char *key = ctx;
    return memcmp(r->key, key, 32) == 0;    /* stops the walk: found */
}

static int s_refused_has(glci_store_t *st, const unsigned char key[32])
{
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(st, &v), 0);
    int rc = glci_view_refused(v, s_has_refused, (void *)key, NULL);
    glci_view_end(&v);
    return rc != 0;
}

/* The pending table at its bound, keys all refused within one second: the
 * least recently seen gives way by the order of sightings, a key seen again
 * counts as seen last, and the store keeps the same ones. */
static void test_ties_in_one_second_keep_the_latest(void **state)
{
    fixture_t *f = *state;
    enum { BOUND = 8, N = 13 };
    glci_collector_keylog_t *kl = glci_collector_keylog_new(f->st, BOUND, S_FLUSH_S);
    assert_non_null(kl);
    unsigned char keys[N][32];
    for (int i = 0; i < N; i++) {
        memset(keys[i], 0, 32);
        keys[i][0] = (unsigned char)(0xf0 - i);   /* key order against sighting order */
        keys[i][31] = 0x5a;
    }
    for (int i = 0; i < 12; i++)
        glci_collector_keylog_refused(kl, keys[i], "192.0.2.1", S_NOW, 1000 + i);
    glci_collector_keylog_refused(kl, keys[4], "192.0.2.1", S_NOW, 1100);  /* seen again */
    glci_collector_keylog_refused(kl, keys[12], "192.0.2.1", S_NOW, 1101);
    size_t refused = 0;
    uint64_t dropped = 0;
    glci_collector_keylog_pending(kl, &refused, NULL, &dropped);
    assert_int_equal(refused, BOUND);
    assert_int_equal(dropped, 5);
    assert_int_equal(glci_collector_keylog_flush(kl, S_NOW, 1), 0);
    int want[N] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1};   /* 4 and 6..12 */
    for (int i = 0; i < N; i++)
        if (s_refused_has(f->st, keys[i]) != want[i])
            fail_msg("key %d: %s the store's table", i, want[i] ? "missing from" : "kept in");
    glci_collector_keylog_free(&kl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_table_calls_the_gate_before_the_write,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lowered_bound_writes_early, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_periodic_write_calls_the_gate_first, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_nothing_pending_no_gate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ties_in_one_second_keep_the_latest, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_the_events, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
