/* glci against stores it must refuse or report on: a stored result that no
 * longer equals its recomputation (verify exits 1 and names each
 * difference, in every format) and a store written by a newer schema
 * (every command exits 1 saying so). The damage is done with raw LMDB, as
 * a disk fault or a newer program would leave it; the layout it relies on
 * (named databases "results" and "meta", key "schema" = big-endian u32) is
 * docs/STORE.md's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_cli_support.h"

static char s_dir[256];
static char s_store[300];

static int s_setup(void **state)
{
    cli_tmpdir(s_dir, sizeof s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    glci_store_t *st = cli_store_create(s_store, cli_tiny_framework(s_dir), 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    return 0;
}

static int s_teardown(void **state)
{
    cli_rmdir(s_dir);
    return 0;
}

static MDB_env *s_env(MDB_txn **txn)
{
    MDB_env *env = NULL;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, s_store, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, txn), 0);
    return env;
}

/* Adds 1 to the stored index of (city, period) without touching anything
 * else. */
static void s_damage_result(const char *city, int32_t period)
{
    MDB_txn *txn;
    MDB_env *env = s_env(&txn);
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    assert_int_equal(mdb_dbi_open(txn, "results", 0, &dbi), 0);
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    int found = 0;
    size_t len = strlen(city) + 1;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < len || memcmp(k.mv_data, city, len) != 0)
            continue;
        glci_result_t r;
        assert_true(v.mv_size >= sizeof r);
        memcpy(&r, v.mv_data, sizeof r);
        if (r.period != period)
            continue;
        assert_int_equal(r.has_index, 1);
        r.index += 1.0;
        unsigned char *copy = malloc(v.mv_size);
        assert_non_null(copy);
        memcpy(copy, v.mv_data, v.mv_size);
        memcpy(copy, &r, sizeof r);
        MDB_val nv = {v.mv_size, copy};
        assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
        free(copy);
        found = 1;
        break;
    }
    assert_true(found);
    mdb_cursor_close(cur);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void s_set_schema(uint32_t schema)
{
    MDB_txn *txn;
    MDB_env *env = s_env(&txn);
    MDB_dbi dbi;
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    unsigned char b[4] = {(unsigned char)(schema >> 24), (unsigned char)(schema >> 16),
                          (unsigned char)(schema >> 8), (unsigned char)schema};
    MDB_val k = {6, (void *)"schema"}, v = {4, b};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_verify_reports_differences(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "verify", NULL), 0);
    cli_out_release(&o);

    s_damage_result("gamma", 2025);

    assert_int_equal(cli_run(&o, "--store", s_store, "verify", NULL), 1);
    assert_non_null(strstr(o.out, "gamma"));
    assert_non_null(strstr(o.err, "difference"));
    assert_non_null(strstr(o.err, s_store));
    assert_true(strchr(o.err, '\n')[1] == '\0');   /* one line */
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "verify", NULL), 1);
    json_t *j = cli_json(&o);
    assert_true(json_is_false(json_object_get(j, "ok")));
    json_t *diffs = json_object_get(j, "differences");
    size_t n = json_array_size(diffs);
    assert_true(n >= 1);
    assert_int_equal((size_t)json_integer_value(json_object_get(j, "count")), n);
    int named = 0;
    for (size_t i = 0; i < n; i++)
        named |= strstr(json_string_value(json_array_get(diffs, i)), "gamma") != NULL;
    assert_true(named);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "verify", NULL), 1);
    assert_true(strncmp(o.out, "difference\r\n", 12) == 0);
    assert_non_null(strstr(o.out, "gamma"));
    cli_out_release(&o);

    /* a backup is verified too: a damaged store does not make a good copy */
    char dest[400];
    snprintf(dest, sizeof dest, "%s/backup", s_dir);
    assert_int_equal(cli_run(&o, "--store", s_store, "backup", dest, NULL), 1);
    assert_non_null(strstr(o.err, dest));
    cli_out_release(&o);
}

static void test_newer_schema_refused(void **state)
{
    s_set_schema(0x7fffffffu);
    static const char *const cmds[] = {"rank", "status", "framework", "verify", "export"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cli_out_t o;
        assert_int_equal(cli_run(&o, "--store", s_store, cmds[i], NULL), 1);
        assert_non_null(strstr(o.err, "newer schema"));
        assert_non_null(strstr(o.err, s_store));
        assert_true(strchr(o.err, '\n')[1] == '\0');
        cli_out_release(&o);
    }
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "city", "revoke", "alpha", NULL), 1);
    assert_non_null(strstr(o.err, "newer schema"));
    cli_out_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_reports_differences),
        cmocka_unit_test(test_newer_schema_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
