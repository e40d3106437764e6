/* Unit tests of the collector's store on real LMDB files in temp dirs:
 * create/open (ENOENT, EEXIST, ESCHEMA), city administration and key
 * lookups, the ingest paths (applied, duplicate, gap, revision, rejects,
 * forbidden, two streams, reinstalled agent, map full with a tiny map,
 * ENOSPC), the views (rank with ties, results, history, rejects, status),
 * verify catching a corrupted result and rank entry written with raw LMDB,
 * backup, read-only opens (ERDONLY, and surviving a writer that grows the
 * map from another process). */
#define _DEFAULT_SOURCE     /* mincore */
#define _XOPEN_SOURCE 700   /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>

#include "glci_keyfile.h"
#include "glci_mdb.h"
#include "glci_store.h"
#include "glci_store_int.h"
#include "glci_text.h"
#include "glci_utf8.h"

/* ---- helpers ------------------------------------------------------------ */

static int s_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void s_rmtree(const char *path)
{
    nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *s_framework(void)
{
    const char *f = getenv("GLCI_FRAMEWORK");
    assert_non_null(f);
    return f;
}

typedef struct {
    char dir[64];
    glci_store_t *st;
    const glci_framework_t *fw;
    char err[256];            /* the line of the last failed city call */
} fixture_t;

static char s_key_a[GLCI_Z85_KEY_LEN + 1], s_key_b[GLCI_Z85_KEY_LEN + 1],
    s_key_c[GLCI_Z85_KEY_LEN + 1], s_key_d[GLCI_Z85_KEY_LEN + 1];

static void s_make_key(char *out)
{
    glci_key_t pub, sec;
    char err[128];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    memcpy(out, pub.z85, sizeof pub.z85);
}

static void s_open(fixture_t *f, size_t map_size, size_t map_max)
{
    glci_store_opts_t o = {0, map_size, map_max};
    char err[256];
    int rc = glci_store_open(f->dir, &o, &f->st, err, sizeof err);
    if (rc != 0)
        fail_msg("open: %s", err);
    f->fw = glci_store_framework(f->st);
}

static int setup_sized(void **state, size_t map_size, size_t map_max)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/glci-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    glci_store_opts_t o = {0, map_size, map_max};
    int rc = glci_store_create(f->dir, s_framework(), &o, err, sizeof err);
    if (rc != 0)
        fail_msg("create: %s", err);
    s_open(f, map_size, map_max);
    assert_int_equal(glci_store_city_add(f->st, "cork-ie", "Cork", "ie", s_key_a, f->err, sizeof f->err), 0);
    assert_int_equal(glci_store_city_add(f->st, "espoo-fi", "Espoo", "FI", s_key_b, f->err, sizeof f->err), 0);
    assert_int_equal(glci_store_city_add(f->st, "aswan-eg", "Aswan", "EG", s_key_c, f->err, sizeof f->err), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_sized(state, 0, 0);
}

static int setup_tiny(void **state)
{
    return setup_sized(state, 64 * 1024, 0);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    glci_store_close(&f->st);
    assert_null(f->st);
    s_rmtree(f->dir);
    free(f);
    return 0;
}

static glci_obs_t s_obs(const char *ind, int64_t period, double value)
{
    glci_obs_t o;
    memset(&o, 0, sizeof o);
    o.indicator = ind;
    o.period = period;
    o.value = value;
    o.has_period = 1;
    o.has_value = 1;
    return o;
}

/* A value at fraction t of indicator i's valid range. */
static double s_val(const glci_framework_t *fw, uint32_t i, double t)
{
    return fw->ind[i].min + (fw->ind[i].max - fw->ind[i].min) * t;
}

/* Fills obs with every indicator of the framework for period, at fraction t. */
static size_t s_full_obs(const glci_framework_t *fw, glci_obs_t *obs, int64_t period, double t)
{
    for (uint32_t i = 0; i < fw->n_ind; i++)
        obs[i] = s_obs(fw->ind[i].id, period, s_val(fw, i, t));
    return fw->n_ind;
}

/* Receive times of the tests count from S_T0 (2025-11-24), so that the
 * periods they send are never in the future (SPEC §7). */
#define S_T0 1764000000

static int s_ingest1(fixture_t *f, const char *city, uint64_t stream, uint64_t seq,
                     const glci_obs_t *obs, size_t n, int64_t now, glci_batch_result_t *res)
{
    glci_batch_t b = {.city = city, .stream = stream, .seq = seq, .obs = obs, .n_obs = n};
    return glci_store_ingest(f->st, &b, 1, now < S_T0 ? S_T0 + now : now, res);
}

static glci_store_status_t s_status(fixture_t *f)
{
    glci_view_t *v = NULL;
    glci_store_status_t s;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    glci_view_end(&v);
    assert_null(v);
    return s;
}

static glci_city_t s_city(fixture_t *f, const char *id)
{
    glci_view_t *v = NULL;
    glci_city_t c;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_city(v, id, &c), 0);
    glci_view_end(&v);
    return c;
}

static void s_print_diff(void *ctx, const char *d)
{
    (void)ctx;
    print_message("difference: %s\n", d);
}

static void s_verify_ok(fixture_t *f)
{
    uint64_t n = 99;
    assert_int_equal(glci_store_verify(f->st, s_print_diff, NULL, &n), 0);
    assert_int_equal(n, 0);
}

typedef struct {
    glci_history_row_t rows[64];
    char sources[64][32];
    size_t n;
} hist_t;

static int s_hist_cb(void *ctx, const glci_history_row_t *row)
{
    hist_t *h = ctx;
    if (h->n < 64) {
        h->rows[h->n] = *row;
        snprintf(h->sources[h->n], sizeof h->sources[h->n], "%s", row->source);
        h->rows[h->n].source = h->sources[h->n];
        h->n++;
    }
    return 0;
}

static hist_t s_history(fixture_t *f, const char *city, const char *ind)
{
    hist_t h;
    glci_view_t *v = NULL;
    memset(&h, 0, sizeof h);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_history(v, city, ind, s_hist_cb, &h), 0);
    glci_view_end(&v);
    return h;
}

/* ---- create / open ------------------------------------------------------ */

/* The lock file made ahead of LMDB (so a full disk is an error, not
 * SIGBUS) is exactly the size LMDB itself makes on this target: every
 * process derives its reader count from the size. */
static void test_lock_file_is_lmdbs_size(void **state)
{
    (void)state;
    char raw[] = "/tmp/glci-lock-raw-XXXXXX", ours[] = "/tmp/glci-lock-ours-XXXXXX";
    char path[64], err[256];
    assert_non_null(mkdtemp(raw));
    assert_non_null(mkdtemp(ours));
    MDB_env *env;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, raw, 0, 0600), 0);
    mdb_env_close(env);
    glci_mdb_t *m = NULL;
    assert_int_equal(glci_mdb_open(ours, GLCI_MDB_CREATE, 0, 0, 4, &m, err, sizeof err), 0);
    glci_mdb_close(&m);
    struct stat a, b;
    snprintf(path, sizeof path, "%s/lock.mdb", raw);
    assert_int_equal(stat(path, &a), 0);
    unlink(path);
    snprintf(path, sizeof path, "%s/data.mdb", raw);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", ours);
    assert_int_equal(stat(path, &b), 0);
    unlink(path);
    snprintf(path, sizeof path, "%s/data.mdb", ours);
    unlink(path);
    assert_int_equal(rmdir(raw), 0);
    assert_int_equal(rmdir(ours), 0);
    assert_int_equal(b.st_size, a.st_size);
}

static void test_open_missing(void **state)
{
    (void)state;
    glci_store_t *st = (glci_store_t *)1;
    char err[256] = "";
    char dir[] = "/tmp/glci-store-XXXXXX";
    assert_non_null(mkdtemp(dir));

    assert_int_equal(glci_store_open("/tmp/glci-no-such-dir-here", NULL, &st, err, sizeof err),
                     GLCI_STORE_ENOENT);
    assert_null(st);
    assert_non_null(strstr(err, "glci-no-such-dir-here"));
    assert_int_equal(glci_store_open(dir, NULL, &st, err, sizeof err), GLCI_STORE_ENOENT);
    assert_non_null(strstr(err, "no store"));
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    assert_int_equal(glci_store_open(dir, &ro, &st, err, sizeof err), GLCI_STORE_ENOENT);

    /* A bad framework file is refused, naming it; nothing is created. */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.ini", dir);
    FILE *fp = fopen(bad, "w");
    assert_non_null(fp);
    fputs("[framework]\nid = x\n", fp);
    fclose(fp);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/store", dir);
    assert_int_equal(glci_store_create(sub, bad, NULL, err, sizeof err), GLCI_STORE_EINVAL);
    assert_non_null(strstr(err, "bad.ini"));
    assert_int_equal(glci_store_create(sub, "/tmp/glci-no-such.ini", NULL, err, sizeof err),
                     GLCI_STORE_ENOENT);

    /* Create (making missing parent dirs), then a second create is EEXIST. */
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    assert_int_equal(glci_store_create(sub, s_framework(), NULL, err, sizeof err), 0);
    assert_int_equal(glci_store_create(sub, s_framework(), NULL, err, sizeof err),
                     GLCI_STORE_EEXIST);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(glci_store_open(sub, NULL, &st, err, sizeof err), 0);
    assert_string_equal(glci_store_framework(st)->id, "unesco-glci");
    glci_store_close(&st);
    assert_null(st);
    glci_store_close(&st);   /* accepts NULL */
    glci_store_close(NULL);
    s_rmtree(dir);
}

static void test_schema_newer(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char b[4];
    MDB_val k = {6, "schema"}, v = {4, b};

    glci_store_close(&f->st);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, S_DB_COUNT), 0);
    assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    glci_be32_put(b, GLCI_STORE_SCHEMA + 1);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    assert_int_equal(glci_store_open(f->dir, NULL, &f->st, err, sizeof err),
                     GLCI_STORE_ESCHEMA);
    assert_null(f->st);
    assert_non_null(strstr(err, "newer"));
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    assert_int_equal(glci_store_open(f->dir, &ro, &f->st, err, sizeof err),
                     GLCI_STORE_ESCHEMA);
}

/* ---- cities -------------------------------------------------------------- */

static void test_cities(void **state)
{
    fixture_t *f = *state;
    unsigned char raw[32];
    char city[GLCI_CITY_ID_MAX + 1];
    uint64_t g0, g1;

    assert_true(glci_city_id_valid("cork-ie"));
    assert_true(glci_city_id_valid("0a._-z"));
    assert_false(glci_city_id_valid(""));
    assert_false(glci_city_id_valid("Cork"));
    assert_false(glci_city_id_valid("-cork"));
    assert_false(glci_city_id_valid("cork ie"));
    char long_id[80];
    memset(long_id, 'a', 64);
    long_id[64] = 0;
    assert_false(glci_city_id_valid(long_id));
    long_id[63] = 0;
    assert_true(glci_city_id_valid(long_id));

#define LASTERR_HAS(text) assert_non_null(strstr(f->err, text))
    assert_int_equal(glci_store_city_add(f->st, "Bad", "X", "IE", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    LASTERR_HAS("city id 'Bad' is not valid");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "", "IE", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    LASTERR_HAS("city name");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", NULL, "IE", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    LASTERR_HAS("city name");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "X\n", "IE", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    LASTERR_HAS("control character");
    char long_name[200];
    memset(long_name, 'n', 128);
    long_name[128] = 0;
    assert_int_equal(glci_store_city_add(f->st, "ok-1", long_name, "IE", NULL, f->err, sizeof f->err),
                     GLCI_STORE_EINVAL);
    LASTERR_HAS("city name");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "X", "IRL", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    LASTERR_HAS("country 'IRL'");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "X", "1E", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    LASTERR_HAS("country '1E'");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "X", "IE", "not-a-key", f->err, sizeof f->err),
                     GLCI_STORE_EINVAL);
    LASTERR_HAS("public key 'not-a-key'");
    assert_int_equal(glci_store_city_add(f->st, "cork-ie", "Cork", "IE", NULL, f->err, sizeof f->err),
                     GLCI_STORE_EEXIST);
    LASTERR_HAS("city 'cork-ie' is already registered");
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "X", "IE", s_key_a, f->err, sizeof f->err), GLCI_STORE_EEXIST);
    LASTERR_HAS("is already registered");
    assert_non_null(strstr(f->err, s_key_a));
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "Okay", "fr", NULL, f->err, sizeof f->err), 0);
    assert_string_equal(f->err, "");

    glci_city_t c = s_city(f, "cork-ie");
    assert_string_equal(c.name, "Cork");
    assert_string_equal(c.country, "IE");   /* stored upper case */
    assert_true(c.active);
    assert_int_equal(c.n_keys, 1);

    assert_int_equal(glci_key_decode(s_key_a, raw), 0);
    assert_int_equal(glci_store_city_by_key(f->st, raw, city), 0);
    assert_string_equal(city, "cork-ie");
    assert_int_equal(glci_store_key_check(f->st, raw, "cork-ie"), 0);
    assert_int_equal(glci_store_key_check(f->st, raw, "espoo-fi"), GLCI_STORE_ENOCITY);

    /* Key rotation. */
    assert_int_equal(glci_store_auth_generation(f->st, &g0), 0);
    assert_int_equal(glci_store_city_key_add(f->st, "cork-ie", s_key_d, f->err, sizeof f->err), 0);
    assert_int_equal(glci_store_city_key_add(f->st, "cork-ie", s_key_d, f->err, sizeof f->err), GLCI_STORE_EEXIST);
    assert_int_equal(glci_store_city_key_add(f->st, "nowhere", s_key_d, f->err, sizeof f->err), GLCI_STORE_ENOCITY);
    assert_int_equal(glci_store_city_key_add(f->st, "cork-ie", "short", f->err, sizeof f->err), GLCI_STORE_EINVAL);
    assert_int_equal(s_city(f, "cork-ie").n_keys, 2);
    assert_int_equal(glci_store_city_key_remove(f->st, "cork-ie", s_key_a, f->err, sizeof f->err), 0);
    assert_int_equal(glci_store_city_key_remove(f->st, "cork-ie", s_key_a, f->err, sizeof f->err), GLCI_STORE_ENOENT);
    LASTERR_HAS("is not registered to city 'cork-ie'");
    assert_int_equal(glci_store_city_key_remove(f->st, "espoo-fi", s_key_d, f->err, sizeof f->err), GLCI_STORE_ENOENT);
    assert_int_equal(glci_store_city_by_key(f->st, raw, city), GLCI_STORE_ENOCITY);
    assert_int_equal(glci_store_auth_generation(f->st, &g1), 0);
    assert_true(g1 >= g0 + 2);

    /* Revoke: its keys are refused at once. */
    assert_int_equal(glci_key_decode(s_key_d, raw), 0);
    assert_int_equal(glci_store_city_by_key(f->st, raw, city), 0);
    assert_int_equal(glci_store_city_revoke(f->st, "cork-ie", f->err, sizeof f->err), 0);
    assert_int_equal(glci_store_city_by_key(f->st, raw, city), GLCI_STORE_ENOCITY);
    assert_int_equal(glci_store_key_check(f->st, raw, "cork-ie"), GLCI_STORE_ENOCITY);
    assert_false(s_city(f, "cork-ie").active);
    assert_int_equal(glci_store_city_revoke(f->st, "nowhere", f->err, sizeof f->err), GLCI_STORE_ENOCITY);
    LASTERR_HAS("no city 'nowhere'");
    assert_int_equal(glci_store_auth_generation(f->st, &g0), 0);
    assert_true(g0 > g1);

    glci_store_status_t s = s_status(f);
    assert_int_equal(s.n_cities, 4);
    assert_int_equal(s.n_active, 3);
}

static int s_list_cb(void *ctx, const glci_city_t *c)
{
    char *buf = ctx;
    size_t l = strlen(buf);
    snprintf(buf + l, 256 - l, "%s,", c->id);
    return 0;
}

static int s_stop_cb(void *ctx, const glci_city_t *c)
{
    (void)c;
    (*(int *)ctx)++;
    return 7;
}

/* A callback's value comes back unchanged from every walk, whatever its
 * sign or size (it is not an LMDB code to map). */
static int s_city_big_cb(void *ctx, const glci_city_t *c)
{
    (void)c;
    return *(int *)ctx;
}

static int s_rank_big_cb(void *ctx, const glci_rank_row_t *r)
{
    (void)r;
    return *(int *)ctx;
}

static int s_res_big_cb(void *ctx, const char *city, const glci_result_t *r)
{
    (void)city;
    (void)r;
    return *(int *)ctx;
}

static int s_hist_big_cb(void *ctx, const glci_history_row_t *r)
{
    (void)r;
    return *(int *)ctx;
}

static int s_rej_big_cb(void *ctx, const glci_reject_row_t *r)
{
    (void)r;
    return *(int *)ctx;
}

static void test_walk_callback_value(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[65];
    glci_batch_result_t res;
    glci_view_t *v = NULL;
    const int vals[] = {-5000, -30798 /* MDB_NOTFOUND's value */, 7, 100000};
    size_t n = s_full_obs(f->fw, obs, 2024, 0.7);
    obs[n++] = s_obs("no_such_indicator", 2024, 1.0);
    assert_int_equal(s_ingest1(f, "cork-ie", 1, 1, obs, n, 1, &res), 0);
    glci_batch_result_release(&res);

    assert_int_equal(glci_view_begin(f->st, &v), 0);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int x = vals[i];
        assert_int_equal(glci_view_cities(v, s_city_big_cb, &x), x);
        assert_int_equal(glci_view_rank(v, 2024, s_rank_big_cb, &x), x);
        assert_int_equal(glci_view_results(v, 2024, s_res_big_cb, &x), x);
        assert_int_equal(glci_view_history(v, "cork-ie", f->fw->ind[0].id, s_hist_big_cb, &x),
                         x);
        assert_int_equal(glci_view_rejects(v, NULL, 0, s_rej_big_cb, &x), x);
        assert_int_equal(glci_view_rejects(v, "cork-ie", 0, s_rej_big_cb, &x), x);
    }
    glci_view_end(&v);
}

static void test_city_list(void **state)
{
    fixture_t *f = *state;
    glci_view_t *v = NULL;
    char buf[256] = "";
    int calls = 0;
    glci_city_t c;

    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_cities(v, s_list_cb, buf), 0);
    assert_string_equal(buf, "aswan-eg,cork-ie,espoo-fi,");
    assert_int_equal(glci_view_cities(v, s_stop_cb, &calls), 7);
    assert_int_equal(calls, 1);
    assert_int_equal(glci_view_city(v, "nowhere", &c), GLCI_STORE_ENOCITY);
    assert_int_equal(glci_view_city(v, "Bad Id", &c), GLCI_STORE_ENOCITY);
    glci_view_end(&v);
}

/* ---- ingest -------------------------------------------------------------- */

static void test_ingest_applied(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    glci_batch_result_t res;
    size_t n = s_full_obs(f->fw, obs, 2024, 0.5);
    obs[0].source = "city survey";
    obs[0].observed_at = 1700000000;

    assert_int_equal(s_ingest1(f, "cork-ie", 11, 1, obs, n, 1800000000, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    assert_int_equal(res.acked, 1);
    assert_int_equal(res.n_rejections, 0);
    glci_batch_result_release(&res);

    glci_store_status_t s = s_status(f);
    assert_int_equal(s.n_observations, n);
    assert_int_equal(s.n_history, n);
    assert_int_equal(s.n_batches, 1);
    assert_int_equal(s.first_period, 2024);
    assert_int_equal(s.last_period, 2024);
    assert_int_equal(s.last_ingest, 1800000000);
    assert_int_equal(s.schema, GLCI_STORE_SCHEMA);
    assert_true(s.size_bytes > 0 && s.size_bytes <= s.map_bytes);
    assert_true(s.file_bytes >= s.size_bytes && s.file_bytes <= s.map_bytes);

    glci_city_t c = s_city(f, "cork-ie");
    assert_int_equal(c.observations, n);
    assert_int_equal(c.batches, 1);
    assert_int_equal(c.last_seen, 1800000000);

    /* Results for 2024 and the carried periods 2025, 2026, not 2027. */
    glci_view_t *v = NULL;
    const glci_result_t *r;
    int32_t latest;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_latest_period(v, &latest), 0);
    assert_int_equal(latest, 2024);
    for (int32_t P = 2024; P <= 2026; P++) {
        assert_int_equal(glci_view_result(v, "cork-ie", P, &r), 0);
        assert_int_equal(r->period, P);
        assert_true(r->has_index);
        assert_true(fabs(r->index - 50.0) < 60.0);
        assert_true(r->coverage == 1.0);
        const glci_slot_t *sl = glci_result_slot_c(f->fw, r, 0);
        assert_int_equal(sl->period, 2024);
        assert_true(sl->present);
    }
    assert_int_equal(glci_view_result(v, "cork-ie", 2027, &r), GLCI_STORE_ENODATA);
    assert_int_equal(glci_view_result(v, "cork-ie", 2023, &r), GLCI_STORE_ENODATA);
    assert_int_equal(glci_view_result(v, "espoo-fi", 2024, &r), GLCI_STORE_ENODATA);
    assert_int_equal(glci_view_result(v, "nowhere", 2024, &r), GLCI_STORE_ENOCITY);
    glci_view_end(&v);

    hist_t h = s_history(f, "cork-ie", f->fw->ind[0].id);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.rows[0].period, 2024);
    assert_int_equal(h.rows[0].received, 1800000000);
    assert_int_equal(h.rows[0].observed_at, 1700000000);
    assert_string_equal(h.rows[0].source, "city survey");
    assert_int_equal(h.rows[0].stream, 11);
    assert_int_equal(h.rows[0].seq, 1);
    assert_true(h.rows[0].current);
    h = s_history(f, "cork-ie", f->fw->ind[1].id);
    assert_string_equal(h.rows[0].source, "");

    /* History of unknown things. */
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_history(v, "cork-ie", "no_such_indicator", s_hist_cb, &h),
                     GLCI_STORE_EINVAL);
    assert_int_equal(glci_view_history(v, "nowhere", f->fw->ind[0].id, s_hist_cb, &h),
                     GLCI_STORE_ENOCITY);
    glci_view_end(&v);
    s_verify_ok(f);
}

/* The batch hash kept for the duplicate check is BLAKE2b-128 of the
 * fields of docs/STORE.md in order; computed here one field per update as
 * earlier versions did, it must match what the store kept (stores written
 * by them are compared against it) for a batch whose input runs over the
 * store's buffer, with a source longer than the buffer itself. */
static void s_ref_hash(const glci_obs_t *obs, size_t n, unsigned char out[16])
{
    crypto_generichash_state h;
    unsigned char buf[34];
    crypto_generichash_init(&h, NULL, 0, 16);
    glci_be64_put(buf, (uint64_t)n);
    crypto_generichash_update(&h, buf, 8);
    for (size_t i = 0; i < n; i++) {
        const glci_obs_t *o = &obs[i];
        uint64_t bits;
        size_t il = o->indicator ? strlen(o->indicator) : 0;
        size_t sl = o->source ? strlen(o->source) : 0;
        memcpy(&bits, &o->value, 8);
        glci_be64_put(buf, (uint64_t)o->period);
        glci_be64_put(buf + 8, o->has_value ? bits : 0);
        glci_be64_put(buf + 16, (uint64_t)o->observed_at);
        glci_be64_put(buf + 24, ((uint64_t)il << 32) | sl);
        buf[32] = (unsigned char)(o->indicator != NULL);
        buf[33] = (unsigned char)((o->has_period ? 1 : 0) | (o->has_value ? 2 : 0) |
                                  (o->source ? 4 : 0) | (o->retract ? 8 : 0));
        crypto_generichash_update(&h, buf, sizeof buf);
        if (il)
            crypto_generichash_update(&h, (const unsigned char *)o->indicator, il);
        if (sl)
            crypto_generichash_update(&h, (const unsigned char *)o->source, sl);
    }
    crypto_generichash_final(&h, out, 16);
}

static void test_batch_hash_definition(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    size_t n = s_full_obs(f->fw, obs, 2020, 0.3);
    static char longsrc[5000];
    memset(longsrc, 's', sizeof longsrc - 1);
    obs[0].source = "survey 2020";
    obs[n / 2].source = longsrc;
    obs[n - 1].observed_at = S_T0 - 86400;
    glci_batch_result_t res;
    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, obs, n, 100, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    glci_batch_result_release(&res);

    unsigned char want[16], k[64];
    s_ref_hash(obs, n, want);
    size_t kl = glci_store_cityz(k, "cork-ie");
    glci_be64_put(k + kl, 5);
    glci_be64_put(k + kl + 8, 1);
    MDB_txn *txn;
    MDB_val key = {kl + 16, k}, val;
    assert_int_equal(glci_mdb_read_begin(f->st->mdb, &txn), 0);
    assert_int_equal(mdb_get(txn, f->st->dbi[S_DB_BATCHES], &key, &val), 0);
    assert_int_equal(val.mv_size, 16);
    assert_memory_equal(val.mv_data, want, 16);
    glci_mdb_read_end(f->st->mdb, &txn);
    glci_batch_t b = {.city = "cork-ie", .stream = 5, .seq = 1, .obs = obs, .n_obs = n};
    unsigned char got[16];
    glci_store_batch_hash(&b, got);
    assert_memory_equal(got, want, 16);

    /* taken before the ingest (has_hash): the same record */
    b.city = "aswan-eg";
    memcpy(b.hash, want, 16);
    b.has_hash = 1;
    assert_int_equal(glci_store_ingest(f->st, &b, 1, S_T0 + 150, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    glci_batch_result_release(&res);
    kl = glci_store_cityz(k, "aswan-eg");
    glci_be64_put(k + kl, 5);
    glci_be64_put(k + kl + 8, 1);
    key.mv_size = kl + 16;
    assert_int_equal(glci_mdb_read_begin(f->st->mdb, &txn), 0);
    assert_int_equal(mdb_get(txn, f->st->dbi[S_DB_BATCHES], &key, &val), 0);
    assert_memory_equal(val.mv_data, want, 16);
    glci_mdb_read_end(f->st->mdb, &txn);

    /* the same batch again: a duplicate of the same content; one byte of
     * the long source changed: flagged */
    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, obs, n, 200, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_DUPLICATE);
    assert_false(res.content_differs);
    glci_batch_result_release(&res);
    longsrc[4000] = 't';
    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, obs, n, 300, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_DUPLICATE);
    assert_true(res.content_differs);
    glci_batch_result_release(&res);
}

static void test_duplicate(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64], other[1];
    glci_batch_result_t res;
    size_t n = s_full_obs(f->fw, obs, 2020, 0.3);

    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, obs, n, 100, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    glci_store_status_t before = s_status(f);

    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, obs, n, 200, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_DUPLICATE);
    assert_int_equal(res.acked, 1);
    assert_false(res.content_differs);
    assert_int_equal(res.n_rejections, 0);

    /* Same seq, other content: still a duplicate, flagged. */
    other[0] = s_obs(f->fw->ind[0].id, 2020, s_val(f->fw, 0, 0.9));
    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, other, 1, 300, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_DUPLICATE);
    assert_true(res.content_differs);

    glci_store_status_t after = s_status(f);
    assert_int_equal(after.n_history, before.n_history);
    assert_int_equal(after.n_observations, before.n_observations);
    assert_int_equal(after.n_batches, before.n_batches);
    assert_int_equal(after.last_ingest, S_T0 + 100);
    hist_t h = s_history(f, "cork-ie", f->fw->ind[0].id);
    assert_int_equal(h.n, 1);
    s_verify_ok(f);
}

static void test_gap(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[1] = {s_obs(f->fw->ind[0].id, 2020, s_val(f->fw, 0, 0.5))};
    glci_batch_result_t res;

    assert_int_equal(s_ingest1(f, "cork-ie", 5, 3, obs, 1, 100, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_GAP);
    assert_int_equal(res.acked, 0);
    assert_int_equal(res.expected, 1);
    assert_int_equal(s_status(f).n_history, 0);

    assert_int_equal(s_ingest1(f, "cork-ie", 5, 1, obs, 1, 100, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    assert_int_equal(s_ingest1(f, "cork-ie", 5, 3, obs, 1, 100, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_GAP);
    assert_int_equal(res.acked, 1);
    assert_int_equal(res.expected, 2);
    assert_int_equal(s_status(f).n_history, 1);

    /* A group: 3 then 2 in one transaction: 3 is a gap, 2 applies. */
    glci_batch_t g[3] = {{.city = "cork-ie", .stream = 5, .seq = 3, .obs = obs, .n_obs = 1}, {.city = "cork-ie", .stream = 5, .seq = 2, .obs = obs, .n_obs = 1},
                         {.city = "cork-ie", .stream = 5, .seq = 3, .obs = obs, .n_obs = 1}};
    glci_batch_result_t r3[3];
    assert_int_equal(glci_store_ingest(f->st, g, 3, S_T0 + 100, r3), 0);
    assert_int_equal(r3[0].status, GLCI_BATCH_GAP);
    assert_int_equal(r3[1].status, GLCI_BATCH_APPLIED);
    assert_int_equal(r3[1].acked, 2);
    assert_int_equal(r3[2].status, GLCI_BATCH_APPLIED);   /* sees the mark moved by r3[1] */
    assert_int_equal(r3[2].acked, 3);
    for (int i = 0; i < 3; i++)
        glci_batch_result_release(&r3[i]);
    s_verify_ok(f);
}

static void test_revision(void **state)
{
    fixture_t *f = *state;
    const char *ind = f->fw->ind[2].id;
    double v1 = s_val(f->fw, 2, 0.2), v2 = s_val(f->fw, 2, 0.4), v3 = s_val(f->fw, 2, 0.6),
           v4 = s_val(f->fw, 2, 0.8);
    glci_obs_t a[1] = {s_obs(ind, 2021, v1)};
    glci_obs_t b[3] = {s_obs(ind, 2021, v2), s_obs(ind, 2022, v4), s_obs(ind, 2021, v3)};
    glci_batch_result_t res;

    assert_int_equal(s_ingest1(f, "espoo-fi", 9, 1, a, 1, 1000, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    assert_int_equal(s_ingest1(f, "espoo-fi", 9, 2, b, 3, 2000, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);

    hist_t h = s_history(f, "espoo-fi", ind);
    assert_int_equal(h.n, 4);    /* oldest first, every revision kept */
    assert_true(h.rows[0].value == v1 && h.rows[0].received == S_T0 + 1000 && !h.rows[0].current);
    assert_true(h.rows[1].value == v2 && h.rows[1].received == S_T0 + 2000 && !h.rows[1].current);
    assert_true(h.rows[2].value == v4 && h.rows[2].period == 2022 && h.rows[2].current);
    assert_true(h.rows[3].value == v3 && h.rows[3].period == 2021 && h.rows[3].current);

    glci_city_t c = s_city(f, "espoo-fi");
    assert_int_equal(c.observations, 4);   /* revisions included */
    glci_store_status_t s = s_status(f);
    assert_int_equal(s.n_observations, 2);  /* current (indicator, period) values */
    assert_int_equal(s.n_history, 4);

    glci_view_t *v = NULL;
    const glci_result_t *r;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_result(v, "espoo-fi", 2021, &r), 0);
    assert_true(glci_result_slot_c(f->fw, r, 2)->value == v3);
    assert_int_equal(glci_view_result(v, "espoo-fi", 2023, &r), 0);
    assert_true(glci_result_slot_c(f->fw, r, 2)->value == v4);   /* carried 2022 */
    assert_int_equal(glci_result_slot_c(f->fw, r, 2)->period, 2022);
    assert_false(r->has_index);   /* one indicator: coverage too low */
    glci_view_end(&v);
    s_verify_ok(f);
}

/* One group of batches from three cities, taken in an order that is not
 * their ids' (cork, aswan, cork, espoo, aswan) and repeating (indicator,
 * period) within and across batches: each city's history lists its
 * entries in the order they came, the current value is the last one, and
 * the index follows it. */
static void test_group_order(void **state)
{
    fixture_t *f = *state;
    const char *x = f->fw->ind[2].id, *y = f->fw->ind[5].id;
    double v[9];
    for (int i = 0; i < 9; i++)
        v[i] = s_val(f->fw, 2, 0.1 * (i + 1));
    glci_obs_t c1[3] = {s_obs(x, 2021, v[0]), s_obs(y, 2021, s_val(f->fw, 5, 0.5)),
                        s_obs(x, 2021, v[1])};
    glci_obs_t a1[1] = {s_obs(x, 2021, v[2])};
    glci_obs_t c2[2] = {s_obs(x, 2021, v[3]), s_obs(x, 2022, v[4])};
    glci_obs_t e1[1] = {s_obs(x, 2020, v[5])};
    glci_obs_t a2[2] = {s_obs(x, 2021, v[6]), s_obs(x, 2021, v[7])};
    const char *src[] = {"c1-0", "c1-1", "c1-2", "a1-0", "c2-0", "c2-1", "e1-0", "a2-0", "a2-1"};
    glci_obs_t *all[] = {&c1[0], &c1[1], &c1[2], &a1[0], &c2[0], &c2[1], &e1[0], &a2[0], &a2[1]};
    for (int i = 0; i < 9; i++)
        all[i]->source = src[i];
    glci_batch_t b[5] = {{.city = "cork-ie", .stream = 7, .seq = 1, .obs = c1, .n_obs = 3},
                         {.city = "aswan-eg", .stream = 7, .seq = 1, .obs = a1, .n_obs = 1},
                         {.city = "cork-ie", .stream = 8, .seq = 1, .obs = c2, .n_obs = 2},
                         {.city = "espoo-fi", .stream = 7, .seq = 1, .obs = e1, .n_obs = 1},
                         {.city = "aswan-eg", .stream = 7, .seq = 2, .obs = a2, .n_obs = 2}};
    glci_batch_result_t res[5];
    assert_int_equal(glci_store_ingest(f->st, b, 5, S_T0 + 1000, res), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(res[i].status, GLCI_BATCH_APPLIED);
        assert_int_equal(res[i].n_rejections, 0);
        glci_batch_result_release(&res[i]);
    }

    hist_t h = s_history(f, "cork-ie", x);
    assert_int_equal(h.n, 4);
    const char *want_c[] = {"c1-0", "c1-2", "c2-0", "c2-1"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(h.rows[i].source, want_c[i]);
    assert_false(h.rows[0].current || h.rows[1].current);
    assert_true(h.rows[2].current && h.rows[2].value == v[3] && h.rows[2].stream == 8);
    assert_true(h.rows[3].current && h.rows[3].period == 2022);
    h = s_history(f, "aswan-eg", x);
    assert_int_equal(h.n, 3);
    const char *want_a[] = {"a1-0", "a2-0", "a2-1"};
    for (int i = 0; i < 3; i++)
        assert_string_equal(h.rows[i].source, want_a[i]);
    assert_true(h.rows[2].current && h.rows[2].value == v[7] && h.rows[2].seq == 2);
    assert_false(h.rows[0].current || h.rows[1].current);
    h = s_history(f, "espoo-fi", x);
    assert_int_equal(h.n, 1);
    assert_true(h.rows[0].current && h.rows[0].value == v[5]);

    glci_view_t *vw = NULL;
    const glci_result_t *r;
    assert_int_equal(glci_view_begin(f->st, &vw), 0);
    assert_int_equal(glci_view_result(vw, "cork-ie", 2021, &r), 0);
    assert_true(glci_result_slot_c(f->fw, r, 2)->value == v[3]);
    assert_int_equal(glci_view_result(vw, "cork-ie", 2022, &r), 0);
    assert_true(glci_result_slot_c(f->fw, r, 2)->value == v[4]);
    assert_int_equal(glci_view_result(vw, "aswan-eg", 2021, &r), 0);
    assert_true(glci_result_slot_c(f->fw, r, 2)->value == v[7]);
    glci_view_end(&vw);
    assert_int_equal(s_status(f).n_history, 9);
    s_verify_ok(f);
}

typedef struct {
    glci_reject_row_t rows[32];
    char ind[32][64], city[32][64], msg[32][128];
    size_t n;
} rej_t;

static int s_rej_cb(void *ctx, const glci_reject_row_t *row)
{
    rej_t *r = ctx;
    if (r->n < 32) {
        r->rows[r->n] = *row;
        snprintf(r->ind[r->n], 64, "%s", row->indicator);
        snprintf(r->city[r->n], 64, "%s", row->city);
        snprintf(r->msg[r->n], 128, "%s", row->message);
        r->n++;
    }
    return 0;
}

static void test_rejects(void **state)
{
    fixture_t *f = *state;
    const glci_indicator_t *i0 = &f->fw->ind[0];
    char long_src[260];
    memset(long_src, 's', 201);
    long_src[201] = 0;
    glci_obs_t obs[10];
    obs[0] = s_obs(i0->id, 2024, s_val(f->fw, 0, 0.5));             /* valid */
    obs[1] = s_obs("adult_learnig_rate", 2024, 1.0);                 /* unknown */
    obs[2] = s_obs(i0->id, 2024, NAN);
    obs[3] = s_obs(i0->id, 2024, INFINITY);
    obs[4] = s_obs(i0->id, 2024, i0->max + 1.0);                     /* out of range */
    obs[5] = s_obs(i0->id, f->fw->last_period + 1, s_val(f->fw, 0, 0.5));
    obs[6] = s_obs(NULL, 2024, 1.0);                                 /* no indicator */
    obs[7] = s_obs(i0->id, 2024, 1.0);
    obs[7].has_value = 0;
    obs[8] = s_obs(i0->id, 2024, s_val(f->fw, 0, 0.5));
    obs[8].source = long_src;
    obs[9] = s_obs(f->fw->ind[1].id, 2024, s_val(f->fw, 1, 0.5));   /* valid */
    glci_batch_result_t res;

    assert_int_equal(s_ingest1(f, "aswan-eg", 1, 1, obs, 10, 5000, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    assert_int_equal(res.n_rejections, 8);
    const glci_reject_t want[8] = {GLCI_REJECT_UNKNOWN_INDICATOR, GLCI_REJECT_NOT_FINITE,
                                   GLCI_REJECT_NOT_FINITE, GLCI_REJECT_OUT_OF_RANGE,
                                   GLCI_REJECT_BAD_PERIOD, GLCI_REJECT_MALFORMED,
                                   GLCI_REJECT_MALFORMED, GLCI_REJECT_MALFORMED};
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(res.rejections[i].index, i + 1);
        assert_int_equal(res.rejections[i].reason, want[i]);
        assert_true(strlen(res.rejections[i].message) > 0);
    }
    assert_non_null(strstr(res.rejections[0].message, "adult_learnig_rate"));
    assert_non_null(strstr(res.rejections[7].message, "source"));
    glci_batch_result_release(&res);
    assert_null(res.rejections);

    glci_store_status_t s = s_status(f);
    assert_int_equal(s.n_history, 2);
    assert_int_equal(s.n_rejects, 8);
    assert_int_equal(s_city(f, "aswan-eg").rejects, 8);

    /* A reject of another city, then the log: newest first, filters, limit. */
    glci_obs_t o2[1] = {s_obs("bogus", 2024, 1.0)};
    assert_int_equal(s_ingest1(f, "cork-ie", 1, 1, o2, 1, 6000, &res), 0);
    glci_batch_result_release(&res);

    glci_view_t *v = NULL;
    rej_t *r = calloc(1, sizeof *r);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_rejects(v, NULL, 0, s_rej_cb, r), 0);
    assert_int_equal(r->n, 9);
    assert_string_equal(r->city[0], "cork-ie");
    assert_string_equal(r->ind[0], "bogus");
    assert_int_equal(r->rows[0].received, S_T0 + 6000);
    assert_string_equal(r->ind[8], "adult_learnig_rate");
    assert_non_null(strstr(r->msg[8], "adult_learnig_rate"));
    assert_int_equal(r->rows[8].reason, GLCI_REJECT_UNKNOWN_INDICATOR);
    assert_int_equal(r->rows[8].index, 1);
    assert_int_equal(r->rows[8].seq, 1);
    assert_true(r->rows[8].has_value && r->rows[8].value == 1.0);
    assert_string_equal(r->ind[3], "");      /* index 6: no indicator */
    assert_int_equal(r->rows[3].reason, GLCI_REJECT_MALFORMED);
    assert_false(r->rows[2].has_value);      /* index 7: no value */

    memset(r, 0, sizeof *r);
    assert_int_equal(glci_view_rejects(v, "aswan-eg", 0, s_rej_cb, r), 0);
    assert_int_equal(r->n, 8);
    assert_int_equal(r->rows[0].index, 8);
    assert_int_equal(r->rows[7].index, 1);
    memset(r, 0, sizeof *r);
    assert_int_equal(glci_view_rejects(v, "aswan-eg", 3, s_rej_cb, r), 0);
    assert_int_equal(r->n, 3);
    memset(r, 0, sizeof *r);
    assert_int_equal(glci_view_rejects(v, NULL, 2, s_rej_cb, r), 0);
    assert_int_equal(r->n, 2);
    memset(r, 0, sizeof *r);
    assert_int_equal(glci_view_rejects(v, "espoo-fi", 0, s_rej_cb, r), 0);
    assert_int_equal(r->n, 0);
    assert_int_equal(glci_view_rejects(v, "nowhere", 0, s_rej_cb, r), GLCI_STORE_ENOCITY);
    glci_view_end(&v);
    free(r);
    s_verify_ok(f);
}

/* Bytes from the network that are not printable UTF-8 never reach a stored
 * row or a message unescaped: a bad source is MALFORMED, a bad indicator is
 * stored and echoed as \xNN; ids of 64 bytes are unknown, 65 malformed. */
static void test_rejects_bad_text(void **state)
{
    fixture_t *f = *state;
    const glci_indicator_t *i0 = &f->fw->ind[0];
    double ok = s_val(f->fw, 0, 0.5);
    char id64[65], id65[66];
    memset(id64, 'x', 64);
    id64[64] = 0;
    memset(id65, 'x', 65);
    id65[65] = 0;
    glci_obs_t obs[10];
    obs[0] = s_obs(i0->id, 2024, ok);
    obs[0].source = "Caf\xC3\xA9 \xE2\x82\xAC";                     /* valid: kept */
    obs[1] = s_obs(i0->id, 2023, ok);
    obs[1].source = "caf\xC3";                                     /* cut UTF-8 */
    obs[2] = s_obs(i0->id, 2022, ok);
    obs[2].source = "line\nbreak";
    obs[3] = s_obs(i0->id, 2021, ok);
    obs[3].source = "del\x7f";
    obs[4] = s_obs("bad\xff\x01id", 2024, 1.0);
    obs[5] = s_obs(id64, 2024, 1.0);
    obs[6] = s_obs(id65, 2024, 1.0);
    obs[7] = s_obs("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                   "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                   "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                   "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 2024, 1.0);    /* 64 bytes */
    obs[8] = s_obs(i0->id, 2020, ok);
    obs[8].source = "c1 \xC2\x85";                                 /* U+0085 (NEL) */
    obs[9] = s_obs(i0->id, 2019, ok);
    obs[9].source = "surrogate \xED\xA0\x80";
    glci_batch_result_t res;

    assert_int_equal(s_ingest1(f, "aswan-eg", 1, 1, obs, 10, 5000, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    assert_int_equal(res.n_rejections, 9);
    const glci_reject_t want[9] = {GLCI_REJECT_MALFORMED, GLCI_REJECT_MALFORMED,
                                   GLCI_REJECT_MALFORMED, GLCI_REJECT_UNKNOWN_INDICATOR,
                                   GLCI_REJECT_UNKNOWN_INDICATOR, GLCI_REJECT_MALFORMED,
                                   GLCI_REJECT_UNKNOWN_INDICATOR, GLCI_REJECT_MALFORMED,
                                   GLCI_REJECT_MALFORMED};
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(res.rejections[i].index, i + 1);
        assert_int_equal(res.rejections[i].reason, want[i]);
        assert_null(glci_utf8_problem(res.rejections[i].message));
    }
    assert_non_null(strstr(res.rejections[0].message, "is not valid UTF-8"));
    assert_non_null(strstr(res.rejections[1].message, "contains a control character"));
    assert_non_null(strstr(res.rejections[2].message, "contains a control character"));
    assert_string_equal(res.rejections[3].message, "unknown indicator 'bad\\xFF\\x01id'");
    assert_non_null(strstr(res.rejections[4].message, "unknown indicator 'xxxx"));
    assert_non_null(strstr(res.rejections[5].message, "longer than 64 bytes"));
    assert_non_null(strstr(res.rejections[7].message, "contains a control character"));
    assert_non_null(strstr(res.rejections[8].message, "is not valid UTF-8"));
    glci_batch_result_release(&res);

    hist_t h = s_history(f, "aswan-eg", i0->id);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.rows[0].source, "Caf\xC3\xA9 \xE2\x82\xAC");

    glci_view_t *v = NULL;
    rej_t *r = calloc(1, sizeof *r);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_rejects(v, NULL, 0, s_rej_cb, r), 0);
    assert_int_equal(r->n, 9);
    for (size_t i = 0; i < r->n; i++) {
        assert_null(glci_utf8_problem(r->rows[i].indicator));   /* view still open */
        assert_null(glci_utf8_problem(r->rows[i].message));
    }
    assert_string_equal(r->ind[5], "bad\\xFF\\x01id");      /* newest first: index 4 */
    glci_view_end(&v);
    free(r);

    /* City names: valid UTF-8 without control characters. */
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "Caf\xC3", "FR", NULL, f->err, sizeof f->err), GLCI_STORE_EINVAL);
    assert_non_null(strstr(f->err, "city name is not valid UTF-8"));
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "a\xC2\x85", "FR", NULL, f->err, sizeof f->err),
                     GLCI_STORE_EINVAL);
    assert_non_null(strstr(f->err, "control character"));
    assert_int_equal(glci_store_city_add(f->st, "ok-1", "Saint-\xC3\x89tienne", "FR", NULL, f->err, sizeof f->err), 0);
    s_verify_ok(f);
}

static void test_forbidden(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[1] = {s_obs(f->fw->ind[0].id, 2020, s_val(f->fw, 0, 0.5))};
    glci_batch_result_t res[3];

    assert_int_equal(glci_store_city_revoke(f->st, "espoo-fi", f->err, sizeof f->err), 0);
    glci_batch_t b[3] = {{.city = "espoo-fi", .stream = 1, .seq = 1, .obs = obs, .n_obs = 1}, {.city = "nowhere", .stream = 1, .seq = 1, .obs = obs, .n_obs = 1},
                         {.city = "cork-ie", .stream = 1, .seq = 1, .obs = obs, .n_obs = 1}};
    assert_int_equal(glci_store_ingest(f->st, b, 3, S_T0 + 10, res), 0);
    assert_int_equal(res[0].status, GLCI_BATCH_FORBIDDEN);
    assert_int_equal(res[1].status, GLCI_BATCH_FORBIDDEN);
    assert_int_equal(res[2].status, GLCI_BATCH_APPLIED);
    glci_city_t c = s_city(f, "espoo-fi");
    assert_int_equal(c.observations, 0);
    assert_int_equal(c.batches, 0);
    assert_int_equal(c.last_seen, 0);
    assert_int_equal(s_status(f).n_history, 1);
    hist_t h = s_history(f, "espoo-fi", f->fw->ind[0].id);
    assert_int_equal(h.n, 0);
    s_verify_ok(f);
}

static void test_two_streams_and_reinstall(void **state)
{
    fixture_t *f = *state;
    glci_obs_t o1[1] = {s_obs(f->fw->ind[0].id, 2020, s_val(f->fw, 0, 0.1))};
    glci_obs_t o2[1] = {s_obs(f->fw->ind[1].id, 2020, s_val(f->fw, 1, 0.2))};
    glci_batch_result_t res;

    /* Two streams of one city, interleaved: independent marks. */
    for (uint64_t seq = 1; seq <= 3; seq++) {
        assert_int_equal(s_ingest1(f, "cork-ie", 100, seq, o1, 1, 10, &res), 0);
        assert_int_equal(res.status, GLCI_BATCH_APPLIED);
        assert_int_equal(res.acked, seq);
        assert_int_equal(s_ingest1(f, "cork-ie", 200, seq, o2, 1, 10, &res), 0);
        assert_int_equal(res.status, GLCI_BATCH_APPLIED);
        assert_int_equal(res.acked, seq);
    }
    /* The same stream id in another city is another stream. */
    assert_int_equal(s_ingest1(f, "espoo-fi", 100, 1, o1, 1, 10, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);

    /* A reinstalled agent: new stream, starting at 1, is never a replay. */
    assert_int_equal(s_ingest1(f, "cork-ie", 300, 1, o1, 1, 20, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    assert_int_equal(res.acked, 1);
    assert_int_equal(s_ingest1(f, "cork-ie", 100, 3, o1, 1, 20, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_DUPLICATE);
    assert_int_equal(res.acked, 3);

    glci_city_t c = s_city(f, "cork-ie");
    assert_int_equal(c.batches, 7);
    assert_int_equal(c.observations, 7);
    hist_t h = s_history(f, "cork-ie", f->fw->ind[0].id);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.rows[3].stream, 300);
    s_verify_ok(f);
}

typedef struct {
    glci_rank_row_t rows[8];
    char city[8][64];
    size_t n;
} rank_t;

static int s_rank_cb(void *ctx, const glci_rank_row_t *row)
{
    rank_t *r = ctx;
    if (r->n < 8) {
        r->rows[r->n] = *row;
        snprintf(r->city[r->n], 64, "%s", row->city);
        r->n++;
    }
    return 0;
}

static int s_results_cb(void *ctx, const char *city, const glci_result_t *r)
{
    char *buf = ctx;
    size_t l = strlen(buf);
    snprintf(buf + l, 256 - l, "%s:%d,", city, r->has_index ? 1 : 0);
    return 0;
}

static void test_rank_ties(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    glci_batch_result_t res[4];
    size_t n;

    /* espoo and aswan equal, cork higher, a fourth city unranked. */
    assert_int_equal(glci_store_city_add(f->st, "bonn-de", "Bonn", "DE", NULL, f->err, sizeof f->err), 0);
    glci_obs_t hi[64], eq1[64], eq2[64], part[1];
    n = s_full_obs(f->fw, hi, 2023, 0.9);
    s_full_obs(f->fw, eq1, 2023, 0.5);
    s_full_obs(f->fw, eq2, 2023, 0.5);
    part[0] = s_obs(f->fw->ind[0].id, 2023, s_val(f->fw, 0, 0.5));
    glci_batch_t b[4] = {{.city = "espoo-fi", .stream = 1, .seq = 1, .obs = eq1, .n_obs = n}, {.city = "cork-ie", .stream = 1, .seq = 1, .obs = hi, .n_obs = n},
                         {.city = "aswan-eg", .stream = 1, .seq = 1, .obs = eq2, .n_obs = n}, {.city = "bonn-de", .stream = 1, .seq = 1, .obs = part, .n_obs = 1}};
    assert_int_equal(glci_store_ingest(f->st, b, 4, S_T0 + 10, res), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(res[i].status, GLCI_BATCH_APPLIED);

    glci_view_t *v = NULL;
    rank_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_rank(v, 2023, s_rank_cb, &r), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.city[0], "cork-ie");
    assert_int_equal(r.rows[0].rank, 1);
    assert_string_equal(r.city[1], "aswan-eg");
    assert_int_equal(r.rows[1].rank, 2);
    assert_string_equal(r.city[2], "espoo-fi");
    assert_int_equal(r.rows[2].rank, 2);
    assert_true(r.rows[1].index == r.rows[2].index);
    assert_true(r.rows[0].index > r.rows[1].index);
    assert_true(r.rows[0].coverage == 1.0);
    const glci_result_t *res_c;
    assert_int_equal(glci_view_result(v, "cork-ie", 2023, &res_c), 0);
    assert_true(res_c->index == r.rows[0].index);

    /* Carried periods rank too; other periods are empty. */
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_rank(v, 2025, s_rank_cb, &r), 0);
    assert_int_equal(r.n, 3);
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_rank(v, 2026, s_rank_cb, &r), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(glci_view_rank(v, 2022, s_rank_cb, &r), 0);
    assert_int_equal(r.n, 0);

    char buf[256] = "";
    assert_int_equal(glci_view_results(v, 2023, s_results_cb, buf), 0);
    assert_string_equal(buf, "aswan-eg:1,bonn-de:0,cork-ie:1,espoo-fi:1,");

    /* The league by the index: a limit stops the ranked rows, the counts
     * are the whole table's, the unranked follow with rank 0. */
    glci_league_counts_t counts;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_league(v, 2023, GLCI_RANK_INDEX, 0, 2, GLCI_LEAGUE_UNRANKED,
                                      s_rank_cb, &r, &counts), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.city[0], "cork-ie");
    assert_string_equal(r.city[1], "aswan-eg");
    assert_int_equal(r.rows[1].rank, 2);
    assert_string_equal(r.city[2], "bonn-de");
    assert_int_equal(r.rows[2].rank, 0);
    assert_false(r.rows[2].has_index);
    assert_int_equal(counts.ranked, 3);
    assert_int_equal(counts.unranked, 1);
    size_t ranked = 0;
    assert_int_equal(glci_view_league_ranked(v, 2023, GLCI_RANK_INDEX, 0, &ranked), 0);
    assert_int_equal(ranked, 3);
    /* By an area: the same rule, from the results; Bonn's one value gives
     * its area a score, so it ranks there too. */
    int32_t area = (int32_t)f->fw->ind[0].focus;
    area = (int32_t)f->fw->focus[area].area;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_league(v, 2023, GLCI_RANK_AREA, (uint32_t)area, 0,
                                      GLCI_LEAGUE_UNRANKED, s_rank_cb, &r, &counts), 0);
    assert_int_equal(counts.ranked, 4);
    assert_int_equal(counts.unranked, 0);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.rows[0].rank, 1);
    for (size_t i = 1; i < r.n; i++) {
        assert_true(r.rows[i - 1].score >= r.rows[i].score);
        if (r.rows[i - 1].score == r.rows[i].score) {
            assert_int_equal(r.rows[i].rank, r.rows[i - 1].rank);
            assert_true(strcmp(r.city[i - 1], r.city[i]) < 0);
        } else {
            assert_int_equal(r.rows[i].rank, i + 1);
        }
    }
    assert_int_equal(glci_view_league(v, 2023, GLCI_RANK_AREA, f->fw->n_areas, 0, 0,
                                      s_rank_cb, &r, NULL), GLCI_STORE_EINVAL);
    glci_view_end(&v);

    /* Cork drops below the tie: its entry moves, nothing is left behind. */
    glci_obs_t lo[64];
    s_full_obs(f->fw, lo, 2023, 0.1);
    assert_int_equal(s_ingest1(f, "cork-ie", 1, 2, lo, n, 20, res), 0);
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_rank(v, 2023, s_rank_cb, &r), 0);
    glci_view_end(&v);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.city[0], "aswan-eg");
    assert_int_equal(r.rows[0].rank, 1);
    assert_string_equal(r.city[1], "espoo-fi");
    assert_int_equal(r.rows[1].rank, 1);
    assert_string_equal(r.city[2], "cork-ie");
    assert_int_equal(r.rows[2].rank, 3);
    (void)obs;
    s_verify_ok(f);
}

/* Random batches over several cities and periods, grouped: verify proves
 * incremental == full. */
static void test_random_verify(void **state)
{
    fixture_t *f = *state;
    const char *cities[3] = {"aswan-eg", "cork-ie", "espoo-fi"};
    uint64_t seqs[3] = {0, 0, 0};
    glci_obs_t obs[8][40];
    glci_batch_t b[8] = {0};
    glci_batch_result_t res[8];
    unsigned seed = 12345;

    for (int round = 0; round < 30; round++) {
        size_t nb = 1 + (size_t)(rand_r(&seed) % 8);
        for (size_t i = 0; i < nb; i++) {
            int c = rand_r(&seed) % 3;
            size_t n = 1 + (size_t)(rand_r(&seed) % 40);
            for (size_t j = 0; j < n; j++) {
                uint32_t ind = (uint32_t)rand_r(&seed) % f->fw->n_ind;
                obs[i][j] = s_obs(f->fw->ind[ind].id, 2015 + rand_r(&seed) % 8,
                                  s_val(f->fw, ind, (rand_r(&seed) % 1000) / 999.0));
            }
            b[i].city = cities[c];
            b[i].stream = 42;
            b[i].seq = ++seqs[c];
            b[i].obs = obs[i];
            b[i].n_obs = n;
        }
        assert_int_equal(glci_store_ingest(f->st, b, nb, S_T0 + 1000 + round, res), 0);
        for (size_t i = 0; i < nb; i++) {
            assert_int_equal(res[i].status, GLCI_BATCH_APPLIED);
            glci_batch_result_release(&res[i]);
        }
    }
    s_verify_ok(f);
}

/* Values and withdrawals at random over the keys of three cities (n_ind
 * indicators by n_per periods), at most max_obs in each of up to 8 batches
 * a transaction, so that a transaction meets keys stored side by side,
 * keys absent between stored ones, withdrawals of what is stored and of
 * what is not, and a key twice: the store's count of current values
 * follows a model after every transaction, and verify finds nothing. With
 * paged, each transaction also picks how much it withdraws (none to all),
 * and every fifth withdraws all of a city's values below a random
 * indicator and gives new ones above it, so that deletes empty and merge
 * pages, or empty the table, before the walk goes on. (The ingest walks
 * the current values with one cursor, taking the record after the key
 * before as the answer when it can; a wrong answer shows as a count off.) */
enum { S_RW_IND = 44, S_RW_PER = 25, S_RW_OBS = 400 };

static void s_random_withdrawals(fixture_t *f, int n_ind, int n_per, int max_obs, int paged,
                                 unsigned seed)
{
    static const char *const cities[3] = {"aswan-eg", "cork-ie", "espoo-fi"};
    static unsigned char present[3][S_RW_IND][S_RW_PER];
    static glci_obs_t obs[8][S_RW_OBS];
    memset(present, 0, sizeof present);
    uint64_t seqs[3] = {0, 0, 0}, model = 0, most = 0;
    glci_batch_t b[8];
    glci_batch_result_t res[8];
    size_t withdrawn = 0, withdrawn_absent = 0, refused = 0;

    assert_true(n_ind <= S_RW_IND && n_per <= S_RW_PER && max_obs <= S_RW_OBS);
    assert_true((int)f->fw->n_ind >= n_ind);
    for (int round = 0; round < 120; round++) {
        size_t nb = 1 + (size_t)(rand_r(&seed) % 8);
        int pw = paged ? rand_r(&seed) % 101 : 33;     /* % withdrawn */
        int mass = paged && round % 5 == 4;
        memset(b, 0, sizeof b);
        for (size_t i = 0; i < nb; i++) {
            int c = rand_r(&seed) % 3;
            size_t n = 1 + (size_t)(rand_r(&seed) % (unsigned)max_obs);
            int cut = rand_r(&seed) % n_ind;
            if (mass && i == 0)
                n = (size_t)max_obs;
            for (size_t j = 0; j < n; j++) {
                uint32_t ind = (uint32_t)rand_r(&seed) % (uint32_t)n_ind;
                int per = rand_r(&seed) % n_per;
                int out = rand_r(&seed) % 100 < pw;
                if (mass && i == 0) {
                    /* all of the city's values below cut, then new ones */
                    size_t k = j;
                    if (k < (size_t)cut * (size_t)n_per) {
                        ind = (uint32_t)(k / (size_t)n_per);
                        per = (int)(k % (size_t)n_per);
                        out = 1;
                    } else {
                        out = 0;
                    }
                }
                obs[i][j] = s_obs(f->fw->ind[ind].id, 2000 + per,
                                  s_val(f->fw, ind, (rand_r(&seed) % 1000) / 999.0));
                if (out) {
                    obs[i][j].retract = 1;
                    obs[i][j].has_value = 0;
                    obs[i][j].value = 0;
                    withdrawn++;
                    withdrawn_absent += !present[c][ind][per];
                    present[c][ind][per] = 0;
                } else {
                    present[c][ind][per] = 1;
                }
            }
            b[i].city = cities[c];
            b[i].stream = 42;
            b[i].seq = ++seqs[c];
            b[i].obs = obs[i];
            b[i].n_obs = n;
        }
        assert_int_equal(glci_store_ingest(f->st, b, nb, S_T0 + 1000 + round, res), 0);
        for (size_t i = 0; i < nb; i++) {
            assert_int_equal(res[i].status, GLCI_BATCH_APPLIED);
            /* only a withdrawal of what is not stored is refused */
            for (size_t r = 0; r < res[i].n_rejections; r++) {
                assert_non_null(strstr(res[i].rejections[r].message, " to retract"));
                refused++;
            }
            glci_batch_result_release(&res[i]);
        }
        model = 0;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < n_ind; i++)
                for (int p = 0; p < n_per; p++)
                    model += present[c][i][p];
        assert_int_equal(s_status(f).n_observations, model);
        most = model > most ? model : most;
        if (round % 30 == 29)
            s_verify_ok(f);
    }
    /* the cases above did come up */
    assert_true(withdrawn > 100 && withdrawn_absent > 20 && refused > 0);
    if (paged)    /* many leaf pages of current values at the fullest */
        assert_true(most > 2000);
}

static void test_random_withdrawals(void **state)
{
    s_random_withdrawals(*state, 5, 6, 24, 0, 4242);
}

static void test_random_withdrawals_paged(void **state)
{
    s_random_withdrawals(*state, S_RW_IND, S_RW_PER, S_RW_OBS, 1, 777);
}

/* ---- map full ------------------------------------------------------------ */

static void test_map_full_grows(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    glci_batch_t b[20] = {0};
    glci_batch_result_t res[20];
    size_t n = s_full_obs(f->fw, obs, 2010, 0.4);
    size_t map0 = s_status(f).map_bytes;
    uint64_t seq = 0;

    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 20; i++) {
            b[i].city = "cork-ie";
            b[i].stream = 1;
            b[i].seq = ++seq;
            b[i].obs = obs;
            b[i].n_obs = n;
        }
        assert_int_equal(glci_store_ingest(f->st, b, 20, S_T0 + round, res), 0);
        for (int i = 0; i < 20; i++)
            assert_int_equal(res[i].status, GLCI_BATCH_APPLIED);
    }
    glci_store_status_t s = s_status(f);
    assert_true(s.map_bytes > map0);
    assert_int_equal(s.n_history, 200 * n);
    assert_int_equal(s_city(f, "cork-ie").batches, 200);
    s_verify_ok(f);

    /* The grown size survives a reopen. */
    glci_store_close(&f->st);
    s_open(f, 64 * 1024, 0);
    assert_true(s_status(f).map_bytes >= s.map_bytes);
}

/* Pages of path's file in [lo, hi) that are in the page cache. */
static size_t s_cached_pages(const char *path, uint64_t lo, uint64_t hi)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true((uint64_t)sb.st_size >= hi);
    void *m = mmap(NULL, (size_t)hi, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (size_t)(hi + pg - 1) / pg, cached = 0;
    unsigned char *vec = malloc(n);
    assert_int_equal(mincore(m, (size_t)hi, vec), 0);
    for (size_t k = (size_t)(lo / pg); k < n; k++)
        cached += vec[k] & 1u;
    free(vec);
    munmap(m, (size_t)hi);
    close(fd);
    return cached;
}

/* The history file's writer drops from the page cache what it appended,
 * all but the last S_HIST_CACHE_KEEP bytes (and what waits for the next
 * drop, under GLCI_MDB_DROP_MIN), and what it dropped is still read back
 * whole (verify reads every run from the disk again). */
static void test_history_cache_dropped(void **state)
{
    fixture_t *f = *state;
    char path[sizeof f->dir + 32];
    snprintf(path, sizeof path, "%s/history/data.mdb", f->dir);
    struct statfs fs;
    assert_int_equal(statfs(path, &fs), 0);
    /* file systems whose pages are the file (tmpfs, ramfs) or that cache
     * outside the page cache (ZFS): nothing to drop */
    if (fs.f_type == 0x01021994 || fs.f_type == 0x858458f6 || fs.f_type == 0x2fc12fc1) {
        print_message("skipped: %s is on a file system whose cache cannot be dropped "
                      "(tmpfs, ramfs or ZFS)\n", path);
        skip();
    }
    enum { PERIODS = 20, BATCHES = 20, TXNS = 48 };
    size_t per = f->fw->n_ind * PERIODS;
    glci_obs_t *obs = calloc(per * BATCHES, sizeof *obs);
    glci_batch_t b[BATCHES] = {0};
    glci_batch_result_t res[BATCHES];
    uint64_t seq = 0, start = 0;
    for (int t = 0; t < TXNS; t++) {
        for (int i = 0; i < BATCHES; i++) {
            glci_obs_t *o = obs + (size_t)i * per;
            for (uint32_t k = 0; k < f->fw->n_ind; k++)
                for (int p = 0; p < PERIODS; p++)
                    o[k * PERIODS + (uint32_t)p] =
                        s_obs(f->fw->ind[k].id, 2000 + p,
                              s_val(f->fw, k, (double)((t * BATCHES + i) % 97) / 97.0));
            b[i] = (glci_batch_t){.city = "cork-ie", .stream = 1, .seq = ++seq, .obs = o,
                                  .n_obs = per};
        }
        assert_int_equal(glci_store_ingest(f->st, b, BATCHES, S_T0 + t, res), 0);
        for (int i = 0; i < BATCHES; i++) {
            assert_int_equal(res[i].status, GLCI_BATCH_APPLIED);
            glci_batch_result_release(&res[i]);
        }
        if (t == 0)             /* the first commit only notes the end */
            start = glci_mdb_used_bytes(f->st->hmdb);
    }
    free(obs);
    uint64_t end = glci_mdb_used_bytes(f->st->hmdb);
    assert_true(end > start + S_HIST_CACHE_KEEP + GLCI_MDB_DROP_MIN + 8 * GLCI_MDB_DROP_GRAIN);
    /* the whole folios between where the first commit ended and the last
     * bytes kept, less what may wait for a drop of its own */
    uint64_t lo = (start + GLCI_MDB_DROP_GRAIN - 1) & ~(GLCI_MDB_DROP_GRAIN - 1);
    uint64_t hi = (end - S_HIST_CACHE_KEEP - GLCI_MDB_DROP_MIN) & ~(GLCI_MDB_DROP_GRAIN - 1);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t dropped = (size_t)((hi - lo) / pg);
    size_t cached = s_cached_pages(path, lo, hi);
    /* what may be left: the folios holding the tree's branch pages, which
     * the commits after read back (mapped, so kept); without the drops
     * every page is cached */
    if (cached * 4 > dropped)
        fail_msg("%zu of the %zu appended pages below the last %llu bytes still cached",
                 cached, dropped, (unsigned long long)S_HIST_CACHE_KEEP);
    /* the last bytes stay: the next commit reads the right edge */
    size_t kept = s_cached_pages(path, end - S_HIST_CACHE_KEEP, end);
    assert_true(kept * 2 > S_HIST_CACHE_KEEP / pg);
    glci_store_status_t st = s_status(f);
    assert_int_equal(st.n_history, (uint64_t)TXNS * BATCHES * per);
    s_verify_ok(f);
}

static void test_map_full_enospc(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    glci_batch_t b[50] = {0};
    glci_batch_result_t res[50];
    glci_store_close(&f->st);
    s_open(f, 64 * 1024, 128 * 1024);
    size_t n = s_full_obs(f->fw, obs, 2010, 0.4);   /* ids from the new handle */
    glci_store_status_t before = s_status(f);
    for (int i = 0; i < 50; i++) {
        b[i].city = "cork-ie";
        b[i].stream = 1;
        b[i].seq = (uint64_t)i + 1;
        b[i].obs = obs;
        b[i].n_obs = n;
    }
    assert_int_equal(glci_store_ingest(f->st, b, 50, S_T0 + 1, res), GLCI_STORE_ENOSPC);
    glci_store_status_t after = s_status(f);
    assert_int_equal(after.n_history, before.n_history);
    assert_int_equal(after.n_batches, 0);
    /* A small batch still fits afterwards. */
    assert_int_equal(glci_store_ingest(f->st, b, 1, S_T0 + 1, res), 0);
    assert_int_equal(res[0].status, GLCI_BATCH_APPLIED);
    s_verify_ok(f);
}

/* A map_max below the 64 MiB a store records from its creation holds at
 * once: the map is cut to it (or to the data, when that needs more), and
 * the store is full there with nothing applied; a read-only open keeps the
 * recorded map. */
static void test_map_max_below_the_recorded_map(void **state)
{
    fixture_t *f = *state;
    glci_store_space_t sp;
    assert_int_equal(glci_store_space(f->st, &sp), 0);
    assert_true(sp.map_bytes >= (64u << 20));
    uint64_t used = sp.used_bytes;

    glci_store_close(&f->st);
    s_open(f, 0, 1u << 20);
    assert_int_equal(glci_store_space(f->st, &sp), 0);
    /* the bound is each file's: the state's and the history's (schema 7) */
    assert_int_equal(sp.map_bytes, 2u << 20);
    assert_int_equal(sp.map_max_bytes, 2u << 20);

    glci_store_close(&f->st);
    s_open(f, 0, 4096);
    assert_int_equal(glci_store_space(f->st, &sp), 0);
    assert_int_equal(sp.map_bytes, used);
    glci_obs_t obs[64];
    glci_batch_t b = {.city = "cork-ie", .stream = 1, .seq = 1, .obs = obs};
    b.n_obs = s_full_obs(f->fw, obs, 2010, 0.4);
    glci_batch_result_t res;
    assert_int_equal(glci_store_ingest(f->st, &b, 1, S_T0 + 1, &res), GLCI_STORE_ENOSPC);
    assert_int_equal(s_status(f).n_history, 0);

    glci_store_close(&f->st);
    glci_store_opts_t o = {GLCI_STORE_RDONLY, 0, 4096};
    char err[256];
    assert_int_equal(glci_store_open(f->dir, &o, &f->st, err, sizeof err), 0);
    assert_int_equal(glci_store_space(f->st, &sp), 0);
    assert_true(sp.map_bytes >= (64u << 20));
    glci_store_close(&f->st);
    s_open(f, 0, 0);
    b.n_obs = s_full_obs(f->fw, obs, 2010, 0.4);    /* ids from the new handle */
    assert_int_equal(glci_store_ingest(f->st, &b, 1, S_T0 + 1, &res), 0);
    assert_int_equal(res.status, GLCI_BATCH_APPLIED);
    glci_batch_result_release(&res);
    s_verify_ok(f);
}

/* ---- verify ------------------------------------------------------------- */

typedef struct {
    char lines[8][256];
    size_t n;
} diffs_t;

static void s_diff_cb(void *ctx, const char *d)
{
    diffs_t *x = ctx;
    if (x->n < 8)
        snprintf(x->lines[x->n], 256, "%s", d);
    x->n++;
}

/* Raw LMDB access to the closed store's file. */
static void s_raw_open(fixture_t *f, MDB_env **env, MDB_txn **txn)
{
    glci_store_close(&f->st);
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_maxdbs(*env, S_DB_COUNT), 0);
    assert_int_equal(mdb_env_set_mapsize(*env, 64u << 20), 0);
    assert_int_equal(mdb_env_open(*env, f->dir, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
}

/* Cork and Espoo with every indicator for 2024 (results 2024-2026), and
 * a store that verifies. */
static void s_two_full_cities(fixture_t *f)
{
    glci_obs_t obs[64];
    glci_batch_result_t res;
    size_t n = s_full_obs(f->fw, obs, 2024, 0.7);
    assert_int_equal(s_ingest1(f, "cork-ie", 1, 1, obs, n, 1, &res), 0);
    s_full_obs(f->fw, obs, 2024, 0.3);
    assert_int_equal(s_ingest1(f, "espoo-fi", 1, 1, obs, n, 1, &res), 0);
    s_verify_ok(f);
}

static void test_verify_detects_corruption(void **state)
{
    fixture_t *f = *state;
    s_two_full_cities(f);

    /* A wrong index in a stored result. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char k[80];
    MDB_val key = {glci_store_result_key(k, "cork-ie", 2025), k}, val;
    size_t hsize = glci_store_head_size(f->fw);     /* the head: header and nodes */
    glci_result_t *r = malloc(glci_result_size(f->fw));
    s_raw_open(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "results", 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
    assert_int_equal(val.mv_size, hsize);
    memcpy(r, val.mv_data, hsize);
    r->index = nextafter(r->index, 1000.0);   /* one ulp: bit for bit matters */
    val.mv_data = r;
    assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    /* one ulp in a slot of espoo's (stored apart from the head, in the
     * chunk of the first focus area) */
    unsigned char sk[80];
    MDB_val skey = {glci_store_slot_key(sk, "espoo-fi", 2025, 0), sk}, sval;
    glci_slot_t slot;
    assert_int_equal(mdb_dbi_open(txn, "slots", 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &skey, &sval), 0);
    unsigned char chunk[GLCI_STORE_CHUNK * sizeof slot];
    assert_true(sval.mv_size >= sizeof slot && sval.mv_size <= sizeof chunk);
    memcpy(chunk, sval.mv_data, sval.mv_size);
    memcpy(&slot, chunk, sizeof slot);
    slot.score = nextafter(slot.score, 1000.0);
    memcpy(chunk, &slot, sizeof slot);
    sval.mv_data = chunk;
    assert_int_equal(mdb_put(txn, dbi, &skey, &sval, 0), 0);
    /* and a slot of a result that does not exist */
    skey.mv_size = glci_store_slot_key(sk, "espoo-fi", 2090, 0);
    assert_int_equal(mdb_put(txn, dbi, &skey, &sval, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s_open(f, 0, 0);
    diffs_t d;
    uint64_t nd = 0;
    memset(&d, 0, sizeof d);
    assert_int_equal(glci_store_verify(f->st, s_diff_cb, &d, &nd), GLCI_STORE_EVERIFY);
    assert_true(nd >= 1);
    assert_non_null(strstr(d.lines[0], "cork-ie period 2025"));
    int saw_rank = 0;
    for (size_t i = 0; i < d.n && i < 8; i++)
        saw_rank |= strstr(d.lines[i], "rank view") != NULL;
    assert_true(saw_rank);   /* the rank view no longer matches the index */
    int saw_slot = 0, saw_orphan = 0;
    for (size_t i = 0; i < d.n && i < 8; i++) {
        saw_slot |= strstr(d.lines[i], "espoo-fi period 2025: stored result differs") != NULL;
        saw_orphan |= strstr(d.lines[i], "slots: ") != NULL;
    }
    assert_true(saw_slot);
    assert_true(saw_orphan);

    /* Delete a rank entry of espoo: reported. */
    glci_view_t *v = NULL;
    const glci_result_t *er;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_result(v, "espoo-fi", 2024, &er), 0);
    double eidx = er->index;
    glci_view_end(&v);
    s_raw_open(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "rank", 0, &dbi), 0);
    key.mv_size = glci_store_rank_key(k, 2024, eidx, "espoo-fi");
    assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    s_open(f, 0, 0);
    memset(&d, 0, sizeof d);
    assert_int_equal(glci_store_verify(f->st, s_diff_cb, &d, &nd), GLCI_STORE_EVERIFY);
    int saw_missing = 0;
    for (size_t i = 0; i < d.n && i < 8; i++)
        saw_missing |= strstr(d.lines[i], "espoo-fi period 2024: ranked result is missing") != NULL;
    assert_true(saw_missing);
    assert_int_equal(glci_store_verify(f->st, NULL, NULL, NULL), GLCI_STORE_EVERIFY);
    free(r);
}

typedef struct {
    char lines[32][320];
    size_t n;
} many_diffs_t;

static void s_many_cb(void *ctx, const char *d)
{
    many_diffs_t *x = ctx;
    if (x->n < 32)
        snprintf(x->lines[x->n++], sizeof x->lines[0], "%s", d);
}

static int s_has_line(const many_diffs_t *d, const char *want)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->lines[i], want) == 0)
            return 1;
    return 0;
}

/* The head of (city, P) (header, nodes, tail) into buf, for a change. */
static void s_head_get(MDB_txn *txn, MDB_dbi dbi, const char *city, int32_t P, void *buf,
                       size_t hsize)
{
    unsigned char k[80];
    MDB_val key = {glci_store_result_key(k, city, P), k}, val;
    assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
    assert_int_equal(val.mv_size, hsize);
    memcpy(buf, val.mv_data, hsize);
}

static void s_head_put(MDB_txn *txn, MDB_dbi dbi, const char *city, int32_t P, void *buf,
                       size_t hsize)
{
    unsigned char k[80];
    MDB_val key = {glci_store_result_key(k, city, P), k}, val = {hsize, buf};
    assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
}

/* "FIELD stored, recomputed original" as verify words it. */
static void s_want(char *buf, size_t len, const char *city, int32_t P, const char *field,
                   const char *stored, const char *orig)
{
    snprintf(buf, len, "%s period %d: stored result differs from the full recomputation "
             "(%s %s, recomputed %s)", city, (int)P, field, stored, orig);
}

static void s_fmt2(double a, double b, char *x, char *y)
{
    glci_format_double(a, x, 40);
    glci_format_double(b, y, 40);
    assert_true(strtod(x, NULL) == a && strtod(y, NULL) == b);   /* round-trip exact */
    assert_string_not_equal(x, y);
}

/* One field changed in each of several stored results: verify names that
 * field, with the stored and the recomputed value, even where the index is
 * the same on both sides (an area, a focus area, coverage, a slot). */
static void test_verify_names_the_field(void **state)
{
    fixture_t *f = *state;
    s_two_full_cities(f);

    /* a copy of the framework: the store's goes with it while the file is
     * changed underneath */
    glci_framework_t *fw = NULL;
    char err[512];
    assert_int_equal(glci_framework_load_file(s_framework(), &fw, err, sizeof err), 0);
    size_t hsize = glci_store_head_size(fw);
    glci_result_t *r = malloc(glci_result_size(fw));
    assert_non_null(r);
    char x[40], y[40], want[8][400];
    size_t nw = 0;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi, sdbi;
    s_raw_open(f, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "results", 0, &dbi), 0);
    assert_int_equal(mdb_dbi_open(txn, "slots", 0, &sdbi), 0);

    /* cork 2024: the index, one ulp */
    s_head_get(txn, dbi, "cork-ie", 2024, r, hsize);
    double was = r->index;
    r->index = nextafter(r->index, 1000.0);
    s_fmt2(r->index, was, x, y);
    s_want(want[nw++], sizeof want[0], "cork-ie", 2024, "index", x, y);
    s_head_put(txn, dbi, "cork-ie", 2024, r, hsize);

    /* cork 2025: an area's score, the index left as it was */
    s_head_get(txn, dbi, "cork-ie", 2025, r, hsize);
    glci_node_t *node = glci_result_area(fw, r, 1);
    was = node->score;
    node->score = nextafter(node->score, -1.0);
    s_fmt2(node->score, was, x, y);
    s_want(want[nw++], sizeof want[0], "cork-ie", 2025, "area building_blocks score", x, y);
    s_head_put(txn, dbi, "cork-ie", 2025, r, hsize);

    /* cork 2026: a focus area's score */
    s_head_get(txn, dbi, "cork-ie", 2026, r, hsize);
    node = glci_result_focus(fw, r, 2);
    was = node->score;
    node->score += 0.5;
    s_fmt2(node->score, was, x, y);
    s_want(want[nw++], sizeof want[0], "cork-ie", 2026, "focus benefits.sustainability score",
           x, y);
    s_head_put(txn, dbi, "cork-ie", 2026, r, hsize);

    /* espoo 2024: coverage */
    s_head_get(txn, dbi, "espoo-fi", 2024, r, hsize);
    was = r->coverage;
    r->coverage = nextafter(r->coverage, 0.0);
    s_fmt2(r->coverage, was, x, y);
    s_want(want[nw++], sizeof want[0], "espoo-fi", 2024, "coverage", x, y);
    s_head_put(txn, dbi, "espoo-fi", 2024, r, hsize);

    /* espoo 2025: the first slot's value; 2026: the second slot's period
     * (slots are stored apart from the head, by chunks of the first focus
     * area) */
    static const struct {
        const char *city;
        int32_t P;
        int what;      /* 0 value, 1 period, 2 score */
    } slots[] = {{"espoo-fi", 2025, 0}, {"espoo-fi", 2026, 1}};
    for (size_t k = 0; k < sizeof slots / sizeof *slots; k++) {
        unsigned char sk[80];
        MDB_val skey = {glci_store_slot_key(sk, slots[k].city, slots[k].P, 0), sk}, sval;
        glci_slot_t chunk[GLCI_STORE_CHUNK];
        assert_int_equal(mdb_get(txn, sdbi, &skey, &sval), 0);
        assert_true(sval.mv_size >= 2 * sizeof *chunk && sval.mv_size <= sizeof chunk);
        memcpy(chunk, sval.mv_data, sval.mv_size);
        glci_slot_t *slot = &chunk[slots[k].what];
        const char *id = fw->ind[slots[k].what].id;
        char field[96];
        if (slots[k].what == 0) {
            was = slot->value;
            slot->value = nextafter(slot->value, 1e9);
            s_fmt2(slot->value, was, x, y);
            snprintf(field, sizeof field, "indicator %s value", id);
        } else {
            int32_t wp = slot->period;
            slot->period = wp - 1;
            snprintf(x, sizeof x, "%d", (int)slot->period);
            snprintf(y, sizeof y, "%d", (int)wp);
            snprintf(field, sizeof field, "indicator %s period", id);
        }
        s_want(want[nw++], sizeof want[0], slots[k].city, slots[k].P, field, x, y);
        sval.mv_data = chunk;
        assert_int_equal(mdb_put(txn, sdbi, &skey, &sval, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s_open(f, 0, 0);
    many_diffs_t d;
    memset(&d, 0, sizeof d);
    uint64_t nd = 0;
    assert_int_equal(glci_store_verify(f->st, s_many_cb, &d, &nd), GLCI_STORE_EVERIFY);
    for (size_t k = 0; k < nw; k++) {
        if (!s_has_line(&d, want[k])) {
            for (size_t i = 0; i < d.n; i++)
                print_error("  got: %s\n", d.lines[i]);
            fail_msg("no line: %s", want[k]);
        }
    }
    free(r);
    glci_framework_free(&fw);
}

/* glci_result_diff alone: every kind of field, and none for equal blocks. */
static void test_result_diff_fields(void **state)
{
    fixture_t *f = *state;
    const glci_framework_t *fw = f->fw;
    size_t sz = glci_result_size(fw);
    glci_result_t *a = malloc(sz), *b = malloc(sz);
    assert_non_null(a);
    assert_non_null(b);
    char buf[320];
    glci_result_init(fw, a, 2024);
    glci_result_init(fw, b, 2024);
    assert_int_equal(glci_result_diff(fw, a, b, "recomputed", buf, sizeof buf), 0);
    assert_string_equal(buf, "");

    b->has_index = 1;
    b->index = 41.5;
    assert_int_equal(glci_result_diff(fw, a, b, "recomputed", buf, sizeof buf), 1);
    assert_string_equal(buf, "index none, recomputed 41.5");
    glci_result_init(fw, b, 2024);

    b->n_values = 3;
    assert_int_equal(glci_result_diff(fw, a, b, "recomputed", buf, sizeof buf), 1);
    assert_string_equal(buf, "n_values 0, recomputed 3");
    glci_result_init(fw, b, 2024);

    /* -0.0 and 0.0 print apart: bit for bit, as memcmp compares */
    glci_result_focus(fw, b, 0)->score = -0.0;
    assert_int_equal(glci_result_diff(fw, a, b, "recomputed", buf, sizeof buf), 1);
    assert_string_equal(buf, "focus benefits.empowerment score 0, recomputed -0");
    glci_result_init(fw, b, 2024);

    glci_result_area(fw, b, 2)->reserved = 7;
    assert_int_equal(glci_result_diff(fw, a, b, "recomputed", buf, sizeof buf), 1);
    assert_string_equal(buf, "area conditions reserved 0, recomputed 7");
    glci_result_init(fw, b, 2024);

    uint32_t last = fw->n_ind - 1;
    glci_slot_t *s = glci_result_slot(fw, b, last);
    s->present = 1;
    s->value = 0.1;
    s->period = 2023;
    s->score = 12.5;
    char want[320];
    assert_int_equal(glci_result_diff(fw, a, b, "recomputed", buf, sizeof buf), 1);
    snprintf(want, sizeof want, "indicator %s value none, recomputed 0.1", fw->ind[last].id);
    assert_string_equal(buf, want);
    *glci_result_slot(fw, a, last) = *s;
    glci_result_slot(fw, a, last)->score = 1.0 / 3.0;
    assert_int_equal(glci_result_diff(fw, a, b, "edition", buf, sizeof buf), 1);
    snprintf(want, sizeof want, "indicator %s score 0.3333333333333333, edition 12.5",
             fw->ind[last].id);
    assert_string_equal(buf, want);
    free(a);
    free(b);
}

/* ---- backup ------------------------------------------------------------- */

static void test_backup(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    glci_batch_result_t res;
    char err[512] = "", dest[128], file[160];
    size_t n = s_full_obs(f->fw, obs, 2024, 0.7);
    assert_int_equal(s_ingest1(f, "cork-ie", 1, 1, obs, n, 1, &res), 0);

    snprintf(dest, sizeof dest, "%s-bk", f->dir);
    assert_int_equal(mkdir(dest, 0755), 0);
    snprintf(file, sizeof file, "%s/junk", dest);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(glci_store_backup(f->st, dest, err, sizeof err), GLCI_STORE_ENOTEMPTY);
    assert_non_null(strstr(err, "not empty"));
    unlink(file);

    assert_int_equal(glci_store_backup(f->st, dest, err, sizeof err), 0);
    assert_int_equal(glci_store_backup(f->st, dest, err, sizeof err), GLCI_STORE_ENOTEMPTY);

    glci_store_t *copy = NULL;
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    assert_int_equal(glci_store_open(dest, &ro, &copy, err, sizeof err), 0);
    glci_view_t *v = NULL;
    glci_store_status_t s;
    assert_int_equal(glci_view_begin(copy, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.n_history, n);
    assert_int_equal(s.n_cities, 3);
    glci_view_end(&v);
    glci_store_close(&copy);
    s_rmtree(dest);

    /* Into a directory that does not exist yet. */
    assert_int_equal(glci_store_backup(f->st, dest, err, sizeof err), 0);
    s_rmtree(dest);
}

/* Another process grows the store after this handle opened it (with a
 * small map); the backup adopts the grown map instead of failing with
 * MDB_MAP_RESIZED (which also left an empty data.mdb behind). */
static void test_backup_after_growth(void **state)
{
    fixture_t *f = *state;
    char err[512] = "", dest[128];

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        glci_store_t *w = NULL;
        glci_store_opts_t o = {0, 64 * 1024, 0};
        glci_obs_t obs[64];
        glci_batch_t b[10] = {0};
        glci_batch_result_t res[10];
        uint64_t seq = 0;
        if (glci_store_open(f->dir, &o, &w, err, sizeof err) != 0)
            _exit(2);
        size_t n = s_full_obs(glci_store_framework(w), obs, 2012, 0.6);
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 10; i++) {
                b[i].city = "espoo-fi";
                b[i].stream = 3;
                b[i].seq = ++seq;
                b[i].obs = obs;
                b[i].n_obs = n;
            }
            if (glci_store_ingest(w, b, 10, S_T0 + 7, res) != 0)
                _exit(3);
        }
        glci_store_close(&w);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    snprintf(dest, sizeof dest, "%s-bk", f->dir);
    int rc = glci_store_backup(f->st, dest, err, sizeof err);
    if (rc != 0)
        print_error("backup: %s\n", err);
    assert_int_equal(rc, 0);

    glci_store_t *copy = NULL;
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
    assert_int_equal(glci_store_open(dest, &ro, &copy, err, sizeof err), 0);
    glci_view_t *v = NULL;
    glci_store_status_t s;
    assert_int_equal(glci_view_begin(copy, &v), 0);
    assert_int_equal(glci_view_status(v, &s), 0);
    assert_int_equal(s.n_batches, 200);
    glci_view_end(&v);
    glci_store_close(&copy);
    s_rmtree(dest);
}

/* ---- read-only ---------------------------------------------------------- */

static void test_rdonly(void **state)
{
    fixture_t *f = *state;
    glci_batch_result_t res;
    char err[256];
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};

    glci_store_close(&f->st);
    assert_int_equal(glci_store_open(f->dir, &ro, &f->st, err, sizeof err), 0);
    f->fw = glci_store_framework(f->st);
    glci_obs_t obs[1] = {s_obs(f->fw->ind[0].id, 2020, s_val(f->fw, 0, 0.5))};
    /* results are zeroed on this path too: the collector releases every
     * result of a group whatever the ingest returned */
    memset(&res, 0xa5, sizeof res);
    assert_int_equal(s_ingest1(f, "cork-ie", 1, 1, obs, 1, 1, &res), GLCI_STORE_ERDONLY);
    glci_batch_result_t zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&res, &zero, sizeof res);
    glci_batch_result_release(&res);
    assert_int_equal(glci_store_city_add(f->st, "new-1", "N", "FR", NULL, f->err, sizeof f->err), GLCI_STORE_ERDONLY);
    assert_int_equal(glci_store_city_revoke(f->st, "cork-ie", f->err, sizeof f->err), GLCI_STORE_ERDONLY);
    assert_non_null(strstr(f->err, "read-only"));
    assert_int_equal(s_status(f).n_cities, 3);
    s_verify_ok(f);
}

/* A reader holds the store open (with a small map) while another process
 * grows the map many times over; the reader's old snapshot stays readable
 * and its next view sees everything. */
static void test_rdonly_during_growth(void **state)
{
    fixture_t *f = *state;
    char err[256];
    glci_store_opts_t ro = {GLCI_STORE_RDONLY, 64 * 1024, 0};   /* a small map */
    glci_view_t *v = NULL;
    glci_store_status_t s0, s1;

    glci_store_close(&f->st);
    assert_int_equal(glci_store_open(f->dir, &ro, &f->st, err, sizeof err), 0);
    f->fw = glci_store_framework(f->st);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s0), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The writer: its own handle, a tiny map that must grow. */
        glci_store_t *w = NULL;
        glci_store_opts_t o = {0, 64 * 1024, 0};
        glci_obs_t obs[64];
        glci_batch_t b[10] = {0};
        glci_batch_result_t res[10];
        const glci_framework_t *fw;
        uint64_t seq = 0;
        if (glci_store_open(f->dir, &o, &w, err, sizeof err) != 0)
            _exit(2);
        fw = glci_store_framework(w);
        size_t n = s_full_obs(fw, obs, 2012, 0.6);
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 10; i++) {
                b[i].city = "espoo-fi";
                b[i].stream = 3;
                b[i].seq = ++seq;
                b[i].obs = obs;
                b[i].n_obs = n;
            }
            if (glci_store_ingest(w, b, 10, S_T0 + 7, res) != 0)
                _exit(3);
        }
        glci_store_close(&w);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* The old snapshot still answers as before. */
    glci_city_t c;
    assert_int_equal(glci_view_city(v, "espoo-fi", &c), 0);
    assert_int_equal(c.batches, 0);
    glci_view_end(&v);

    /* A new view adopts the grown map and sees every batch. */
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_status(v, &s1), 0);
    assert_int_equal(s1.n_batches, 200);
    assert_true(s1.map_bytes > s0.map_bytes);
    assert_int_equal(glci_view_city(v, "espoo-fi", &c), 0);
    assert_int_equal(c.batches, 200);
    glci_view_end(&v);
    s_verify_ok(f);
}

/* The ZAP handler's calls run in another thread while ingest grows the map
 * many times (the map lock keeps their read transactions safe). */
typedef struct {
    glci_store_t *st;
    unsigned char key[32];
    volatile int stop;
    long lookups, failures;
} auth_thread_t;

static void *s_auth_loop(void *arg)
{
    auth_thread_t *a = arg;
    char city[GLCI_CITY_ID_MAX + 1];
    uint64_t gen;
    while (!a->stop) {
        if (glci_store_city_by_key(a->st, a->key, city) != 0 || strcmp(city, "cork-ie") != 0 ||
            glci_store_key_check(a->st, a->key, "cork-ie") != 0 ||
            glci_store_auth_generation(a->st, &gen) != 0)
            a->failures++;
        a->lookups++;
    }
    return NULL;
}

static void test_auth_thread_during_growth(void **state)
{
    fixture_t *f = *state;
    glci_obs_t obs[64];
    glci_batch_t b[10] = {0};
    glci_batch_result_t res[10];
    size_t n = s_full_obs(f->fw, obs, 2012, 0.6);
    size_t map0 = s_status(f).map_bytes;
    auth_thread_t a;
    pthread_t th;
    uint64_t seq = 0;

    memset(&a, 0, sizeof a);
    a.st = f->st;
    assert_int_equal(glci_key_decode(s_key_a, a.key), 0);
    assert_int_equal(pthread_create(&th, NULL, s_auth_loop, &a), 0);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 10; i++) {
            b[i].city = "cork-ie";
            b[i].stream = 1;
            b[i].seq = ++seq;
            b[i].obs = obs;
            b[i].n_obs = n;
        }
        assert_int_equal(glci_store_ingest(f->st, b, 10, S_T0 + round, res), 0);
    }
    a.stop = 1;
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(s_status(f).map_bytes > map0);
    assert_true(a.lookups > 0);
    assert_int_equal(a.failures, 0);
    s_verify_ok(f);
}

/* A reader process killed inside a read transaction leaves a stale slot
 * that the writer's periodic reader_check clears. */
static void test_reader_check(void **state)
{
    fixture_t *f = *state;
    int pipefd[2];
    char c;
    char err[256];

    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        glci_store_t *st = NULL;
        glci_view_t *v = NULL;
        glci_store_opts_t ro = {GLCI_STORE_RDONLY, 0, 0};
        if (glci_store_open(f->dir, &ro, &st, err, sizeof err) != 0 ||
            glci_view_begin(st, &v) != 0)
            _exit(2);
        if (write(pipefd[1], "r", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    close(pipefd[1]);
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    close(pipefd[0]);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(glci_store_reader_check(f->st), 1);   /* the dead reader's slot */
    assert_int_equal(glci_store_reader_check(f->st), 0);
}

static void test_framework_hash_mismatch(void **state)
{
    fixture_t *f = *state;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char junk[32];
    MDB_val k = {14, "framework_hash"}, v = {32, junk};
    char err[256] = "";

    memset(junk, 0xab, sizeof junk);
    glci_store_close(&f->st);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, S_DB_COUNT), 0);
    assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(glci_store_open(f->dir, NULL, &f->st, err, sizeof err),
                     GLCI_STORE_ECORRUPT);
    assert_non_null(strstr(err, "does not match its hash"));
}

static void test_strerror(void **state)
{
    (void)state;
    for (int c = 0; c >= -12; c--)
        assert_true(strlen(glci_store_strerror(c)) > 0);
    assert_string_equal(glci_store_strerror(-99), "unknown store error");
    assert_int_equal(glci_store_code(MDB_MAP_FULL), GLCI_STORE_ENOSPC);
    assert_int_equal(glci_store_code(MDB_NOTFOUND), GLCI_STORE_ENOENT);
    assert_int_equal(glci_store_code(MDB_CORRUPTED), GLCI_STORE_ECORRUPT);
    assert_int_equal(glci_store_code(EACCES), GLCI_STORE_ERDONLY);
    assert_int_equal(glci_store_code(EIO), GLCI_STORE_EIO);
    assert_int_equal(glci_store_code(GLCI_STORE_EVERIFY), GLCI_STORE_EVERIFY);
    unsigned char b[8];
    glci_bei32_put(b, -5);
    assert_int_equal(glci_bei32_get(b), -5);
    unsigned char c[8];
    glci_bei32_put(c, 3);
    assert_true(memcmp(b, c, 4) < 0);
    glci_bei64_put(b, -1);
    glci_bei64_put(c, 0);
    assert_true(memcmp(b, c, 8) < 0);
    assert_int_equal(glci_bei64_get(b), -1);
}

/* The rank view's key encoding (glci_store_rank.c). */
static void test_rank_helpers(void **state)
{
    (void)state;
    /* keys sort with memcmp in rank order; equal indices give equal keys */
    const double order[] = {100.0, 99.99999999999999, 71.234, 50.0, 1.0, 1e-300, 0.0,
                            -1e-300, -1.0, -1e300};
    unsigned char k1[8], k2[8];
    for (size_t i = 0; i + 1 < sizeof order / sizeof order[0]; i++) {
        glci_store_rank_key_encode(order[i], k1);
        glci_store_rank_key_encode(order[i + 1], k2);
        assert_true(memcmp(k1, k2, 8) < 0);
        assert_true(glci_store_rank_key_decode(k1) == order[i]);
    }
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        glci_store_rank_key_encode(order[i], k1);
        double back = glci_store_rank_key_decode(k1);
        assert_memory_equal(&back, &order[i], sizeof back);
    }
    glci_store_rank_key_encode(80.0, k1);
    glci_store_rank_key_encode(80.0, k2);
    assert_memory_equal(k1, k2, 8);
    glci_store_rank_key_encode(-0.0, k1);
    glci_store_rank_key_encode(0.0, k2);
    assert_memory_equal(k1, k2, 8);
    glci_store_rank_key_encode(71.234, k1);
    glci_store_rank_key_encode(71.23400000000001, k2);
    assert_true(memcmp(k1, k2, 8) > 0);
}

int main(void)
{
    s_make_key(s_key_a);
    s_make_key(s_key_b);
    s_make_key(s_key_c);
    s_make_key(s_key_d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_helpers),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_lock_file_is_lmdbs_size),
        cmocka_unit_test(test_open_missing),
        cmocka_unit_test_setup_teardown(test_schema_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_city_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_callback_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_hash_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_streams_and_reinstall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rank_ties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_withdrawals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_withdrawals_paged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_grows, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_enospc, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_history_cache_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_max_below_the_recorded_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_detects_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_names_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_diff_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_after_growth, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_rdonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rdonly_during_growth, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_auth_thread_during_growth, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_reader_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framework_hash_mismatch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
