/* Crash test of the store (ctest label fault): a child process ingests
 * random groups of batches into a store with a small map (so growth happens
 * too) and is killed with SIGKILL at a random moment, GLCI_CRASH_KILLS
 * times (default 500). After each kill the parent reopens the store and
 * checks that every batch is either wholly applied or not at all:
 *   - per city, the stream mark m, the batch count, the observation and
 *     reject counters and the history of the indicators (all of them on
 *     the first and last round, a rotating eleventh in between) are exactly
 *     those of batches 1..m (the batches are a pure function of (city, seq), so
 *     the parent regenerates them);
 *   - glci_store_verify passes: current values, history, results (bit for
 *     bit against the full path), rank view and counters agree.
 * A commit writes the history file first and the state second (schema 7):
 * a kill between the two leaves runs above the state's hist_runs, named
 * by nothing. The parent counts the kills that did (raw LMDB, before the
 * reopen), and the checks above hold after those as after any other; the
 * child's next ingest writes over them.
 * The child numbers its batches from what the store answers (DUPLICATE and
 * GAP tell it the mark), like an agent does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "glci_store.h"

#define N_CITIES 5
#define MAX_OBS 12
#define MAX_GROUP 6

static const char *s_cities[N_CITIES] = {"a-city", "b-city", "c-city", "d-city", "e-city"};

static uint64_t s_stream_of(int c)
{
    return 0x5eed0000u + (uint64_t)c;
}

typedef struct {
    glci_obs_t obs[MAX_OBS];
    size_t n;
} gen_t;

/* The batch (city c, seq) -- deterministic. Some observations are invalid
 * (unknown indicator, out of range) so rejects are exercised too. */
static void s_gen(const glci_framework_t *fw, int c, uint64_t seq, gen_t *g)
{
    unsigned r = (unsigned)(c * 1000003u + seq * 7919u + 17u);
    g->n = 1 + (size_t)(rand_r(&r) % MAX_OBS);
    for (size_t i = 0; i < g->n; i++) {
        glci_obs_t *o = &g->obs[i];
        uint32_t ind = (uint32_t)rand_r(&r) % fw->n_ind;
        int kind = rand_r(&r) % 20;
        double t = (rand_r(&r) % 1001) / 1000.0;
        memset(o, 0, sizeof *o);
        o->indicator = kind == 0 ? "no_such_indicator" : fw->ind[ind].id;
        o->period = 2015 + rand_r(&r) % 8;
        o->value = fw->ind[ind].min + (fw->ind[ind].max - fw->ind[ind].min) * t;
        if (kind == 1)
            o->value = fw->ind[ind].max + 1.0;
        o->has_period = 1;
        o->has_value = 1;
    }
}

static int s_valid(const glci_framework_t *fw, const glci_obs_t *o, uint32_t *ind)
{
    char msg[128];
    return glci_framework_check(fw, o->indicator, o->period, o->value, ind, msg, sizeof msg) ==
           GLCI_REJECT_NONE;
}

/* ---- the child ----------------------------------------------------------- */

static void s_child(const char *dir, unsigned seed)
{
    glci_store_opts_t o = {0, 128 * 1024, 0};
    glci_store_t *st = NULL;
    char err[256];
    uint64_t next[N_CITIES];
    gen_t gens[MAX_GROUP];
    glci_batch_t b[MAX_GROUP] = {0};
    glci_batch_result_t res[MAX_GROUP];

    if (glci_store_open(dir, &o, &st, err, sizeof err) != 0)
        _exit(2);
    const glci_framework_t *fw = glci_store_framework(st);
    for (int c = 0; c < N_CITIES; c++)
        next[c] = 1;   /* corrected by the first DUPLICATE answer */
    for (;;) {
        size_t n = 1 + (size_t)(rand_r(&seed) % MAX_GROUP);
        int used[N_CITIES] = {0};
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            int c = rand_r(&seed) % N_CITIES;
            if (used[c])
                continue;   /* one batch per stream per group keeps it simple */
            used[c] = 1;
            s_gen(fw, c, next[c], &gens[k]);
            b[k].city = s_cities[c];
            b[k].stream = s_stream_of(c);
            b[k].seq = next[c];
            b[k].obs = gens[k].obs;
            b[k].n_obs = gens[k].n;
            k++;
        }
        if (glci_store_ingest(st, b, k, (int64_t)time(NULL), res) != 0)
            _exit(3);
        for (size_t i = 0; i < k; i++) {
            int c = (int)(b[i].city[0] - 'a');
            if (res[i].status == GLCI_BATCH_APPLIED)
                next[c] = b[i].seq + 1;
            else if (res[i].status == GLCI_BATCH_DUPLICATE)
                next[c] = res[i].acked + 1;
            else if (res[i].status == GLCI_BATCH_GAP)
                next[c] = res[i].expected;
            else
                _exit(4);
            glci_batch_result_release(&res[i]);
        }
    }
}

/* ---- the parent's check --------------------------------------------------- */

typedef struct {
    const glci_framework_t *fw;
    const glci_obs_t **want;   /* expected rows of one indicator, in order */
    uint64_t *want_seq;
    size_t n_want, pos;
    int bad;
} hcheck_t;

static int s_hist_cb(void *ctx, const glci_history_row_t *row)
{
    hcheck_t *h = ctx;
    if (h->pos >= h->n_want || row->seq != h->want_seq[h->pos] ||
        row->period != h->want[h->pos]->period ||
        memcmp(&row->value, &h->want[h->pos]->value, sizeof(double)) != 0)
        h->bad = 1;
    h->pos++;
    return 0;
}

static void s_print_diff(void *ctx, const char *d)
{
    (void)ctx;
    print_message("verify: %s\n", d);
}

static uint64_t s_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int b = 0; b < 8; b++)
        v = v << 8 | p[b];
    return v;
}

/* The newest run number in the history file and the state's hist_runs
 * (raw LMDB, the store closed): 1 when the file holds runs above it. */
static int s_orphans(const char *dir)
{
    char hdir[256];
    uint64_t last = 0, named = 0;
    snprintf(hdir, sizeof hdir, "%s/history", dir);
    const char *dirs[2] = {hdir, dir};
    for (int e = 0; e < 2; e++) {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        MDB_val k, d;
        assert_int_equal(mdb_env_create(&env), 0);
        assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
        assert_int_equal(mdb_env_open(env, dirs[e], MDB_RDONLY, 0600), 0);
        assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
        assert_int_equal(mdb_dbi_open(txn, e == 0 ? "hruns" : "meta", 0, &dbi), 0);
        if (e == 0) {
            MDB_cursor *cur;
            assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
            if (mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0)
                last = s_be64(k.mv_data);
            mdb_cursor_close(cur);
        } else {
            k = (MDB_val){9, "hist_runs"};
            if (mdb_get(txn, dbi, &k, &d) == 0 && d.mv_size == 8)
                named = s_be64(d.mv_data);
        }
        mdb_txn_abort(txn);
        mdb_env_close(env);
    }
    return last > named;
}

/* Returns the number of applied batches over all cities. The history of
 * every indicator is compared on the first and last round; in between a
 * rotating eleventh of the indicators (the counters and verify cover the
 * rest each time), to keep the test's time linear. */
static uint64_t s_check(const char *dir, int round, int full)
{
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    char err[256];
    uint64_t total = 0, nd = 0;
    int rc = glci_store_open(dir, NULL, &st, err, sizeof err);
    if (rc != 0)
        fail_msg("reopen after kill: %s", err);
    const glci_framework_t *fw = glci_store_framework(st);

    assert_int_equal(glci_view_begin(st, &v), 0);
    for (int c = 0; c < N_CITIES; c++) {
        uint64_t mark = 0, n_valid = 0, n_rej = 0;
        glci_city_t city;
        rc = glci_view_stream_mark(v, s_cities[c], s_stream_of(c), &mark);
        assert_true(rc == 0 || rc == GLCI_STORE_ENODATA);
        assert_int_equal(glci_view_city(v, s_cities[c], &city), 0);
        assert_int_equal(city.batches, mark);

        /* Regenerate batches 1..mark; bucket valid observations per indicator. */
        size_t cap = (size_t)mark * MAX_OBS + 1;
        gen_t *gens = malloc(((size_t)mark + 1) * sizeof *gens);
        const glci_obs_t **rows = malloc(cap * sizeof *rows);
        uint64_t *seqs = malloc(cap * sizeof *seqs);
        uint32_t *inds = malloc(cap * sizeof *inds);
        size_t nr = 0;
        for (uint64_t s = 1; s <= mark; s++) {
            s_gen(fw, c, s, &gens[s]);
            for (size_t i = 0; i < gens[s].n; i++) {
                uint32_t ind;
                if (s_valid(fw, &gens[s].obs[i], &ind)) {
                    rows[nr] = &gens[s].obs[i];
                    seqs[nr] = s;
                    inds[nr] = ind;
                    nr++;
                    n_valid++;
                } else {
                    n_rej++;
                }
            }
        }
        assert_int_equal(city.observations, n_valid);
        assert_int_equal(city.rejects, n_rej);
        const glci_obs_t **want = malloc(cap * sizeof *want);
        uint64_t *want_seq = malloc(cap * sizeof *want_seq);
        for (uint32_t ind = 0; ind < fw->n_ind; ind++) {
            if (!full && ind % 11 != (uint32_t)round % 11)
                continue;
            hcheck_t h = {fw, want, want_seq, 0, 0, 0};
            for (size_t i = 0; i < nr; i++)
                if (inds[i] == ind) {
                    want[h.n_want] = rows[i];
                    want_seq[h.n_want++] = seqs[i];
                }
            assert_int_equal(glci_view_history(v, s_cities[c], fw->ind[ind].id, s_hist_cb, &h),
                             0);
            if (h.bad || h.pos != h.n_want)
                fail_msg("%s %s: history is not exactly batches 1..%llu", s_cities[c],
                         fw->ind[ind].id, (unsigned long long)mark);
        }
        free(want);
        free(want_seq);
        free(gens);
        free(rows);
        free(seqs);
        free(inds);
        total += mark;
    }
    glci_view_end(&v);
    rc = glci_store_verify(st, s_print_diff, NULL, &nd);
    assert_int_equal(nd, 0);
    assert_int_equal(rc, 0);
    glci_store_close(&st);
    return total;
}

static void test_kill_during_ingest(void **state)
{
    (void)state;
    const char *fwpath = getenv("GLCI_FRAMEWORK");
    const char *kills_env = getenv("GLCI_CRASH_KILLS");
    int kills = kills_env ? (int)strtol(kills_env, NULL, 10) : 500;
    char dir[] = "/tmp/glci-crash-XXXXXX";
    char err[256];
    glci_store_t *st = NULL;
    glci_store_opts_t o = {0, 128 * 1024, 0};
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    uint64_t applied = 0, prev = 0;
    int progressed = 0, orphaned = 0;

    assert_non_null(fwpath);
    if (kills <= 0)
        kills = 500;
    print_message("seed %u, %d kills\n", seed, kills);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(glci_store_create(dir, fwpath, &o, err, sizeof err), 0);
    assert_int_equal(glci_store_open(dir, &o, &st, err, sizeof err), 0);
    for (int c = 0; c < N_CITIES; c++)
        assert_int_equal(glci_store_city_add(st, s_cities[c], "City", "FR", NULL, NULL, 0), 0);
    glci_store_close(&st);

    for (int k = 0; k < kills; k++) {
        unsigned child_seed = (unsigned)rand_r(&seed);
        /* Mostly short lives (kills during open and early commits), some
         * longer ones so the store keeps growing. */
        long us = (long)(rand_r(&seed) % 20000);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            s_child(dir, child_seed);
        struct timespec ts = {0, us * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("child ended on its own (status %d) instead of being killed", status);
        orphaned += s_orphans(dir);
        applied = s_check(dir, k, k == 0 || k == kills - 1);
        assert_true(applied >= prev);   /* nothing committed is ever lost */
        if (applied > prev)
            progressed++;
        prev = applied;
    }
    print_message("%llu batches applied; progress in %d of %d runs; %d kills between the "
                  "history's commit and the state's\n",
                  (unsigned long long)applied, progressed, kills, orphaned);
    assert_true(applied > 0);
    assert_true(progressed > 0);
    /* the case the two files add was met (about two kills in three meet it) */
    if (kills >= 100)
        assert_true(orphaned > 0);

    /* Clean up the tree. */
    char path[256];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    /* schema 7: the history file */
    snprintf(path, sizeof path, "%s/history/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/history/lock.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/history", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_ingest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
