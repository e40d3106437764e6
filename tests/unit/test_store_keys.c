/* Unit tests of store/glci_store_keys.c on real LMDB files: invitations
 * (made with or without the city, one open per city, withdrawn), the
 * enrolment transaction and each way it refuses (no match, used, expired,
 * withdrawn, revoked city, key taken) with nothing written, the secret
 * kept only as a hash (absent from the data file), keys' added and
 * last-used times, the refused-keys table at its bound, revoked cities
 * (key-add refused, reinstate), what the collector says about itself, and
 * a store of the first release (no added databases, keys without times). */
#define _XOPEN_SOURCE 700   /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_store_int.h"

#define S_NOW INT64_C(1800000000)

typedef struct {
    char dir[64];
    glci_store_t *st;
} fixture_t;

static int s_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void s_open(fixture_t *f, unsigned flags)
{
    glci_store_opts_t o = {flags, 0, 0};
    char err[256];
    if (glci_store_open(f->dir, &o, &f->st, err, sizeof err) != 0)
        fail_msg("open: %s", err);
}

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/glci-test-keys-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256];
    const char *fw = getenv("GLCI_FRAMEWORK");
    assert_non_null(fw);
    if (glci_store_create(f->dir, fw, NULL, err, sizeof err) != 0)
        fail_msg("create: %s", err);
    s_open(f, 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    glci_store_close(&f->st);
    nftw(f->dir, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void s_key(unsigned char raw[32], glci_key_t *z)
{
    glci_key_t pub, sec;
    char err[128];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_key_decode(pub.z85, raw), 0);
    if (z)
        *z = pub;
}

static int s_count_invite(void *ctx, const glci_invite_t *inv)
{
    (void)inv;
    (*(int *)ctx)++;
    return 0;
}

static int s_open_invites(fixture_t *f, int64_t now, int all)
{
    glci_view_t *v = NULL;
    int n = 0;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_invites(v, now, all, s_count_invite, &n), 0);
    glci_view_end(&v);
    return n;
}

static uint32_t s_n_keys(fixture_t *f, const char *id)
{
    glci_view_t *v = NULL;
    glci_city_t c;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_city(v, id, &c), 0);
    glci_view_end(&v);
    return c.n_keys;
}

static glci_enrol_outcome_t s_enrol(fixture_t *f, const char *city, const unsigned char *secret,
                                    const unsigned char key[32], int64_t now, char *msg)
{
    glci_enrol_outcome_t o;
    assert_int_equal(glci_store_enrol(f->st, city, secret, key, now, &o, NULL, msg, 256), 0);
    return o;
}

/* city add --invite, then the enrolment: the key registered, the
 * invitation used; a second use of the same string refused. */
static void test_invite_and_enrol(void **state)
{
    fixture_t *f = *state;
    unsigned char secret[GLCI_ENROL_SECRET_LEN], key[32];
    glci_invite_t inv;
    char err[256];
    assert_int_equal(glci_store_invite_add(f->st, "cork-ie", "Cork", "ie", S_NOW,
                                           S_NOW + 86400, secret, &inv, err, sizeof err), 0);
    assert_string_equal(inv.city, "cork-ie");
    assert_int_equal(inv.state, GLCI_INVITE_OPEN);
    assert_int_equal(strlen(inv.id), 16);
    assert_int_equal(s_open_invites(f, S_NOW, 0), 1);
    assert_int_equal(s_n_keys(f, "cork-ie"), 0);

    s_key(key, NULL);
    char city[GLCI_CITY_ID_MAX + 1];
    assert_int_equal(glci_store_city_by_key(f->st, key, city), GLCI_STORE_ENOCITY);
    uint64_t g0, g1;
    assert_int_equal(glci_store_auth_generation(f->st, &g0), 0);
    assert_int_equal(s_enrol(f, "cork-ie", secret, key, S_NOW + 10, err), GLCI_ENROL_OK);
    assert_int_equal(glci_store_auth_generation(f->st, &g1), 0);
    assert_true(g1 > g0);
    assert_int_equal(glci_store_city_by_key(f->st, key, city), 0);
    assert_string_equal(city, "cork-ie");
    assert_int_equal(s_n_keys(f, "cork-ie"), 1);
    assert_int_equal(s_open_invites(f, S_NOW + 10, 0), 0);
    assert_int_equal(s_open_invites(f, S_NOW + 10, 1), 1);

    /* used: refused, with when and by which key */
    unsigned char other[32];
    s_key(other, NULL);
    assert_int_equal(s_enrol(f, "cork-ie", secret, other, S_NOW + 20, err), GLCI_ENROL_USED);
    assert_non_null(strstr(err, "was used at"));
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint_raw(key, fp);
    assert_non_null(strstr(err, fp));
    assert_int_equal(glci_store_city_by_key(f->st, other, city), GLCI_STORE_ENOCITY);
    assert_int_equal(s_n_keys(f, "cork-ie"), 1);

    /* a city that exists cannot be added with an invitation again */
    assert_int_equal(glci_store_invite_add(f->st, "cork-ie", "Cork", "IE", S_NOW,
                                           S_NOW + 10, secret, NULL, err, sizeof err),
                     GLCI_STORE_EEXIST);
    assert_non_null(strstr(err, "glci city invite cork-ie"));
}

static void test_enrol_refusals_write_nothing(void **state)
{
    fixture_t *f = *state;
    unsigned char secret[GLCI_ENROL_SECRET_LEN], wrong[GLCI_ENROL_SECRET_LEN], key[32];
    char err[256], city[GLCI_CITY_ID_MAX + 1];
    assert_int_equal(glci_store_city_add(f->st, "gent-be", "Gent", "BE", NULL, err, sizeof err),
                     0);
    assert_int_equal(glci_store_invite_add(f->st, "gent-be", NULL, NULL, S_NOW, S_NOW + 100,
                                           secret, NULL, err, sizeof err), 0);
    s_key(key, NULL);

    /* forged: a secret no invitation has; the right secret for another city */
    memcpy(wrong, secret, sizeof wrong);
    wrong[0] ^= 1;
    assert_int_equal(s_enrol(f, "gent-be", wrong, key, S_NOW, err), GLCI_ENROL_NO_MATCH);
    assert_non_null(strstr(err, "no invitation of city 'gent-be'"));
    assert_int_equal(s_enrol(f, "cork-ie", secret, key, S_NOW, err), GLCI_ENROL_NO_MATCH);
    /* an id no city can have is told as such, never as "enrolled" */
    const char *invalid[] = {"NOT VALID", "GENT-BE", "gent-be\nx", ""};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        assert_int_equal(s_enrol(f, invalid[i], secret, key, S_NOW, err), GLCI_ENROL_NO_MATCH);
        assert_null(strstr(err, "enrolled"));
        assert_non_null(strstr(err, "is not a valid city id"));
    }
    assert_int_equal(s_n_keys(f, "gent-be"), 0);

    /* expired */
    assert_int_equal(s_enrol(f, "gent-be", secret, key, S_NOW + 100, err), GLCI_ENROL_EXPIRED);
    assert_non_null(strstr(err, "expired at"));

    /* a new invitation withdraws the first */
    unsigned char second[GLCI_ENROL_SECRET_LEN];
    assert_int_equal(glci_store_invite_add(f->st, "gent-be", NULL, NULL, S_NOW, S_NOW + 100,
                                           second, NULL, err, sizeof err), 0);
    assert_int_equal(s_enrol(f, "gent-be", secret, key, S_NOW + 1, err), GLCI_ENROL_WITHDRAWN);
    assert_non_null(strstr(err, "withdrawn by the institute"));
    assert_int_equal(s_open_invites(f, S_NOW + 1, 0), 1);

    /* withdrawn by hand */
    size_t n = 0;
    assert_int_equal(glci_store_invite_withdraw(f->st, "gent-be", S_NOW + 2, &n, err,
                                                sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(s_enrol(f, "gent-be", second, key, S_NOW + 3, err),
                     GLCI_ENROL_WITHDRAWN);
    assert_int_equal(glci_store_invite_withdraw(f->st, "nowhere", S_NOW, &n, err, sizeof err),
                     GLCI_STORE_ENOCITY);

    /* revoked: its open invitation withdrawn with it, refused to invite */
    unsigned char third[GLCI_ENROL_SECRET_LEN];
    assert_int_equal(glci_store_invite_add(f->st, "gent-be", NULL, NULL, S_NOW, S_NOW + 100,
                                           third, NULL, err, sizeof err), 0);
    assert_int_equal(glci_store_city_revoke_invites(f->st, "gent-be", &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(s_enrol(f, "gent-be", third, key, S_NOW + 4, err),
                     GLCI_ENROL_WITHDRAWN);
    assert_non_null(strstr(err, "when it revoked the city"));
    assert_int_equal(glci_store_city_revoke_invites(f->st, "gent-be", &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    unsigned char scratch[GLCI_ENROL_SECRET_LEN];
    assert_int_equal(glci_store_invite_add(f->st, "gent-be", NULL, NULL, S_NOW, S_NOW + 100,
                                           scratch, NULL, err, sizeof err), GLCI_STORE_EREVOKED);
    assert_non_null(strstr(err, "glci city reinstate gent-be"));
    int was = 0;
    assert_int_equal(glci_store_city_reinstate(f->st, "gent-be", &was, err, sizeof err), 0);
    assert_true(was);
    assert_int_equal(s_enrol(f, "gent-be", third, key, S_NOW + 4, err),
                     GLCI_ENROL_WITHDRAWN);         /* not revived */
    assert_int_equal(glci_store_invite_add(f->st, "gent-be", NULL, NULL, S_NOW, S_NOW + 100,
                                           third, NULL, err, sizeof err), 0);

    /* a key registered already */
    glci_key_t z;
    unsigned char taken[32];
    s_key(taken, &z);
    assert_int_equal(glci_store_city_add(f->st, "oslo-no", "Oslo", "NO", z.z85, err,
                                         sizeof err), 0);
    assert_int_equal(s_enrol(f, "gent-be", third, taken, S_NOW + 5, err),
                     GLCI_ENROL_KEY_TAKEN);
    assert_non_null(strstr(err, "oslo-no"));

    assert_int_equal(s_n_keys(f, "gent-be"), 0);
    assert_int_equal(glci_store_city_by_key(f->st, key, city), GLCI_STORE_ENOCITY);
    /* and the string still works after all that */
    assert_int_equal(s_enrol(f, "gent-be", third, key, S_NOW + 6, err), GLCI_ENROL_OK);
}

/* The secret is nowhere in the store's file: only its hash is kept. */
static void test_secret_stored_only_hashed(void **state)
{
    fixture_t *f = *state;
    unsigned char secret[GLCI_ENROL_SECRET_LEN];
    char err[256], path[128];
    assert_int_equal(glci_store_invite_add(f->st, "lima-pe", "Lima", "PE", S_NOW,
                                           S_NOW + 100, secret, NULL, err, sizeof err), 0);
    glci_store_close(&f->st);
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    rewind(fp);
    unsigned char *data = malloc((size_t)size);
    assert_int_equal(fread(data, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    int found = 0;
    for (long i = 0; i + GLCI_ENROL_SECRET_LEN <= size && !found; i++)
        found = memcmp(data + i, secret, GLCI_ENROL_SECRET_LEN) == 0;
    free(data);
    assert_false(found);
    /* the store folder and its files are for the owner alone */
    struct stat sb;
    assert_int_equal(stat(f->dir, &sb), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    s_open(f, 0);
}

static void test_revoked_city_key_add_and_reinstate(void **state)
{
    fixture_t *f = *state;
    glci_key_t a, b;
    unsigned char ra[32], rb[32];
    char err[256], city[GLCI_CITY_ID_MAX + 1];
    s_key(ra, &a);
    s_key(rb, &b);
    assert_int_equal(glci_store_city_add(f->st, "bonn-de", "Bonn", "DE", a.z85, err,
                                         sizeof err), 0);
    assert_int_equal(glci_store_city_revoke(f->st, "bonn-de", err, sizeof err), 0);
    assert_int_equal(glci_store_city_key_add(f->st, "bonn-de", b.z85, err, sizeof err),
                     GLCI_STORE_EREVOKED);
    assert_non_null(strstr(err, "reinstate it first (`glci city reinstate bonn-de`)"));
    assert_int_equal(glci_store_city_add(f->st, "bonn-de", "Bonn", "DE", NULL, err,
                                         sizeof err), GLCI_STORE_EEXIST);
    assert_non_null(strstr(err, "glci city reinstate bonn-de"));
    assert_int_equal(glci_store_city_by_key(f->st, ra, city), GLCI_STORE_ENOCITY);
    int was = 0;
    assert_int_equal(glci_store_city_reinstate(f->st, "bonn-de", &was, err, sizeof err), 0);
    assert_true(was);
    assert_int_equal(glci_store_city_by_key(f->st, ra, city), 0);
    assert_int_equal(glci_store_city_reinstate(f->st, "bonn-de", &was, err, sizeof err), 0);
    assert_false(was);
    assert_int_equal(glci_store_city_key_add(f->st, "bonn-de", b.z85, err, sizeof err), 0);
    assert_int_equal(glci_store_city_by_key(f->st, rb, city), 0);
    assert_int_equal(glci_store_city_reinstate(f->st, "nowhere", &was, err, sizeof err),
                     GLCI_STORE_ENOCITY);
}

typedef struct {
    glci_city_key_t keys[8];
    int n;
} s_keys_t;

static int s_take_key(void *ctx, const glci_city_key_t *k)
{
    s_keys_t *l = ctx;
    l->keys[l->n++] = *k;
    return 0;
}

static s_keys_t s_city_keys(fixture_t *f, const char *id)
{
    s_keys_t l = {.n = 0};
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_city_keys(v, id, s_take_key, &l), 0);
    glci_view_end(&v);
    return l;
}

static void test_key_times(void **state)
{
    fixture_t *f = *state;
    glci_key_t a, b;
    unsigned char ra[32], rb[32], gone[32];
    char err[256];
    s_key(ra, &a);
    s_key(rb, &b);
    s_key(gone, NULL);
    assert_int_equal(glci_store_city_add(f->st, "riga-lv", "Riga", "LV", a.z85, err,
                                         sizeof err), 0);
    assert_int_equal(glci_store_city_key_add(f->st, "riga-lv", b.z85, err, sizeof err), 0);
    s_keys_t l = s_city_keys(f, "riga-lv");
    assert_int_equal(l.n, 2);
    assert_true(l.keys[0].added > 0);
    assert_int_equal(l.keys[0].last_used, 0);

    glci_key_use_t uses[3];
    memcpy(uses[0].key, ra, 32);
    uses[0].at = S_NOW;
    memcpy(uses[1].key, gone, 32);       /* not registered: skipped */
    uses[1].at = S_NOW;
    memcpy(uses[2].key, ra, 32);         /* an older time never moves it back */
    uses[2].at = S_NOW - 50;
    assert_int_equal(glci_store_key_record(f->st, uses, 3, NULL, 0, 0), 0);
    l = s_city_keys(f, "riga-lv");
    for (int i = 0; i < l.n; i++)
        assert_int_equal(l.keys[i].last_used, memcmp(l.keys[i].key, ra, 32) == 0 ? S_NOW : 0);
    glci_view_t *v = NULL;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_city_keys(v, "nowhere", s_take_key, &l), GLCI_STORE_ENOCITY);
    glci_view_end(&v);
}

typedef struct {
    glci_key_refusal_t rows[64];
    size_t n;
} s_refused_t;

static int s_take_refused(void *ctx, const glci_key_refusal_t *r)
{
    s_refused_t *l = ctx;
    if (l->n < 64)
        l->rows[l->n] = *r;
    l->n++;
    return 0;
}

static size_t s_refused(fixture_t *f, s_refused_t *l)
{
    glci_view_t *v = NULL;
    size_t total = 0;
    memset(l, 0, sizeof *l);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_refused(v, s_take_refused, l, &total), 0);
    glci_view_end(&v);
    assert_int_equal(total, l->n);
    return total;
}

/* A flood of strangers: the table holds `bound` keys, the most recently
 * seen ones; a key seen again is merged, not added. */
static void test_refused_table_is_bounded(void **state)
{
    fixture_t *f = *state;
    enum { BOUND = 40, FLOOD = 130 };
    glci_key_refusal_t r[FLOOD];
    memset(r, 0, sizeof r);
    for (int i = 0; i < FLOOD; i++) {
        s_key(r[i].key, NULL);
        snprintf(r[i].addr, sizeof r[i].addr, "192.0.2.%d", i % 250);
        r[i].first = r[i].last = S_NOW + i;
        r[i].count = 1;
    }
    /* in three flushes, as the collector batches them */
    assert_int_equal(glci_store_key_record(f->st, NULL, 0, r, 50, BOUND), 0);
    assert_int_equal(glci_store_key_record(f->st, NULL, 0, r + 50, 50, BOUND), 0);
    assert_int_equal(glci_store_key_record(f->st, NULL, 0, r + 100, 30, BOUND), 0);
    s_refused_t l;
    assert_int_equal(s_refused(f, &l), BOUND);
    /* the newest first: keys 129 down to 90 */
    for (int i = 0; i < BOUND; i++)
        assert_memory_equal(l.rows[i].key, r[FLOOD - 1 - i].key, 32);

    /* the newest seen again, from elsewhere: merged */
    glci_key_refusal_t again = r[FLOOD - 1];
    again.last = S_NOW + 1000;
    again.count = 5;
    snprintf(again.addr, sizeof again.addr, "198.51.100.7");
    assert_int_equal(glci_store_key_record(f->st, NULL, 0, &again, 1, BOUND), 0);
    assert_int_equal(s_refused(f, &l), BOUND);
    assert_memory_equal(l.rows[0].key, again.key, 32);
    assert_int_equal(l.rows[0].count, 6);
    assert_int_equal(l.rows[0].first, S_NOW + FLOOD - 1);
    assert_int_equal(l.rows[0].last, S_NOW + 1000);
    assert_string_equal(l.rows[0].addr, "198.51.100.7");
}

/* Times are whole seconds: of keys refused within one second, those of an
 * earlier write give way first, then those of the same write in the order
 * given (oldest sighting first), whatever the keys' order. */
static void test_refused_table_ties_in_one_second(void **state)
{
    fixture_t *f = *state;
    enum { BOUND = 16, FLOOD = 32 };
    glci_key_refusal_t r[FLOOD];
    memset(r, 0, sizeof r);
    for (int i = 0; i < FLOOD; i++) {
        s_key(r[i].key, NULL);
        snprintf(r[i].addr, sizeof r[i].addr, "192.0.2.%d", i);
        r[i].first = r[i].last = S_NOW;      /* all in the same second */
        r[i].count = 1;
    }
    /* one write of 20 (more than the bound): the last 16 given stay */
    assert_int_equal(glci_store_key_record(f->st, NULL, 0, r, 20, BOUND), 0);
    s_refused_t l;
    assert_int_equal(s_refused(f, &l), BOUND);
    for (int i = 0; i < 20; i++) {
        int found = 0;
        for (int j = 0; j < BOUND; j++)
            found |= memcmp(l.rows[j].key, r[i].key, 32) == 0;
        if (found != (i >= 4))
            fail_msg("refusal %d of the first write: %s", i, found ? "kept" : "evicted");
    }
    /* a second write in the same second: all 12 of it stay, 4 of the first */
    assert_int_equal(glci_store_key_record(f->st, NULL, 0, r + 20, 12, BOUND), 0);
    assert_int_equal(s_refused(f, &l), BOUND);
    int of_first = 0;
    for (int i = 0; i < FLOOD; i++) {
        int found = 0;
        for (int j = 0; j < BOUND; j++)
            found |= memcmp(l.rows[j].key, r[i].key, 32) == 0;
        if (i >= 20 && !found)
            fail_msg("refusal %d of the second write was evicted", i);
        if (i < 4 && found)
            fail_msg("refusal %d, evicted before, is back", i);
        of_first += i < 20 && found;
    }
    assert_int_equal(of_first, 4);
}

static void test_collector_info(void **state)
{
    fixture_t *f = *state;
    glci_view_t *v = NULL;
    glci_collector_info_t info;
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_collector(v, &info), 0);
    assert_string_equal(info.listen, "");
    glci_view_end(&v);
    assert_int_equal(glci_store_collector_put(f->st, "tcp://0.0.0.0:7461",
                                              "tcp://0.0.0.0:7462", NULL), 0);
    assert_int_equal(glci_store_collector_put(f->st, NULL, NULL, "glci.example.org"), 0);
    assert_int_equal(glci_view_begin(f->st, &v), 0);
    assert_int_equal(glci_view_collector(v, &info), 0);
    glci_view_end(&v);
    assert_string_equal(info.listen, "tcp://0.0.0.0:7461");
    assert_string_equal(info.enrol_listen, "tcp://0.0.0.0:7462");
    assert_string_equal(info.host, "glci.example.org");
}

/* A store of the first release: no invites or refused databases, keys
 * without times. A read-only open sees the tables empty; the first
 * writable open adds them; the old key still authenticates. */
static void test_first_release_store(void **state)
{
    fixture_t *f = *state;
    glci_key_t a;
    unsigned char ra[32];
    char err[256], city[GLCI_CITY_ID_MAX + 1];
    s_key(ra, &a);
    assert_int_equal(glci_store_city_add(f->st, "old-xx", "Old", "XX", NULL, err, sizeof err),
                     0);
    glci_store_close(&f->st);
    /* rewrite with raw LMDB as the first release left it */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (int i = S_DB_FIRST_ADDED; i < S_DB_COUNT; i++) {
        assert_int_equal(mdb_dbi_open(txn, glci_store_db_names[i], 0, &dbi), 0);
        assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    }
    assert_int_equal(mdb_dbi_open(txn, "keys", 0, &dbi), 0);
    MDB_val k = {32, ra}, v = {sizeof "old-xx", "old-xx"};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s_open(f, GLCI_STORE_RDONLY);
    s_refused_t l;
    assert_int_equal(s_refused(f, &l), 0);
    assert_int_equal(s_open_invites(f, S_NOW, 1), 0);
    assert_int_equal(glci_store_city_by_key(f->st, ra, city), 0);
    s_keys_t ks = s_city_keys(f, "old-xx");
    assert_int_equal(ks.n, 1);
    assert_int_equal(ks.keys[0].added, 0);
    glci_store_close(&f->st);

    s_open(f, 0);
    unsigned char secret[GLCI_ENROL_SECRET_LEN];
    assert_int_equal(glci_store_invite_add(f->st, "old-xx", NULL, NULL, S_NOW, S_NOW + 9,
                                           secret, NULL, err, sizeof err), 0);
    assert_int_equal(s_open_invites(f, S_NOW, 0), 1);
    glci_key_use_t use = {.at = S_NOW};
    memcpy(use.key, ra, 32);
    assert_int_equal(glci_store_key_record(f->st, &use, 1, NULL, 0, 0), 0);
    ks = s_city_keys(f, "old-xx");
    assert_int_equal(ks.keys[0].added, 0);
    assert_int_equal(ks.keys[0].last_used, S_NOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invite_and_enrol, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_enrol_refusals_write_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_secret_stored_only_hashed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_revoked_city_key_add_and_reinstate, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_key_times, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refused_table_is_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refused_table_ties_in_one_second, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_collector_info, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_first_release_store, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
