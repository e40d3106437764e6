/* glci-bench store: durable ingest throughput of the store for groups of 1,
 * 10 and 100 batches of 1,000 observations per write transaction (200
 * cities, the shipped framework, 25 periods, values revised as batches
 * repeat), next to a raw LMDB baseline measured in the same run: plain puts
 * of the same observation and history keys and values, in arrival order,
 * one durable transaction per group, no index, no rank view, no counters.
 *
 * Each figure is the median over the transactions of a row of (observations
 * in the transaction / wall time of the transaction, commit included).
 *
 *   glci-bench store [--dir DIR] [--obs N] [--cities N]
 *
 * DIR (default /tmp) must be on the disk to measure: the stores are made in
 * a fresh subdirectory there and removed afterwards. */
#define _XOPEN_SOURCE 700   /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "glci_alloc.h"
#include "glci_store.h"
#include "glci_store_int.h"
#include "glci_text.h"

#define B_PERIOD0 2000
#define B_PERIODS 25
#define B_MAP ((size_t)4 << 30)

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, s_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

typedef struct {
    const glci_framework_t *fw;
    size_t n_cities, n_obs;
    char (*ids)[24];
    uint64_t *seq;            /* per city */
    uint64_t *hist;           /* per city: history numbers for the raw run */
    unsigned seed;
} b_ctx_t;

/* Batch k of the run: city k % n_cities, 1,000 observations over distinct
 * (indicator, period) keys in shuffled order, values random in range. */
static void s_make_batch(b_ctx_t *c, size_t k, glci_obs_t *obs, glci_batch_t *b)
{
    const glci_framework_t *fw = c->fw;
    size_t city = k % c->n_cities;
    size_t n = c->n_obs;
    for (size_t i = 0; i < n; i++) {
        uint32_t ind = (uint32_t)(i % fw->n_ind);
        int32_t p = B_PERIOD0 + (int32_t)((i / fw->n_ind) % B_PERIODS);
        double t = (rand_r(&c->seed) % 10001) / 10000.0;
        memset(&obs[i], 0, sizeof obs[i]);
        obs[i].indicator = fw->ind[ind].id;
        obs[i].period = p;
        obs[i].value = fw->ind[ind].min + (fw->ind[ind].max - fw->ind[ind].min) * t;
        obs[i].observed_at = 1700000000;
        obs[i].has_period = 1;
        obs[i].has_value = 1;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rand_r(&c->seed) % i;
        glci_obs_t tmp = obs[i - 1];
        obs[i - 1] = obs[j];
        obs[j] = tmp;
    }
    b->city = c->ids[city];
    b->stream = 1;
    b->seq = ++c->seq[city];
    b->obs = obs;
    b->n_obs = n;
}

/* The same keys and values as the store's observation and history records,
 * put in arrival order. */
static int s_raw_group(b_ctx_t *c, MDB_env *env, MDB_dbi dobs, MDB_dbi dhist,
                       const glci_batch_t *b, size_t nb, int64_t now)
{
    MDB_txn *txn;
    unsigned char k[S_CITYZ_MAX + 10], rec[sizeof(s_histrec_t) + 1];
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < nb && rc == 0; i++) {
        size_t city = (size_t)strtoul(b[i].city + 1, NULL, 10);
        for (size_t j = 0; j < b[i].n_obs && rc == 0; j++) {
            const glci_obs_t *o = &b[i].obs[j];
            uint32_t ind = (uint32_t)glci_framework_indicator(c->fw, o->indicator);
            uint64_t no = c->hist[city]++;
            s_obsrec_t orec = {o->value, no};
            s_histrec_t h;
            MDB_val key = {0, k}, val;
            memset(&h, 0, sizeof h);
            h.period = (int32_t)o->period;
            h.value = o->value;
            h.received = now;
            h.observed_at = o->observed_at;
            h.stream = b[i].stream;
            h.seq = b[i].seq;
            h.index = (uint32_t)j;
            h.ind = ind;
            memcpy(rec, &h, sizeof h);
            rec[sizeof h] = 0;
            key.mv_size = glci_store_obs_key(k, b[i].city, ind, (int32_t)o->period);
            val.mv_size = sizeof orec;
            val.mv_data = &orec;
            rc = mdb_put(txn, dobs, &key, &val, 0);
            if (rc != 0)
                break;
            key.mv_size = glci_store_hist_key(k, b[i].city, no);
            val.mv_size = sizeof rec;
            val.mv_data = rec;
            rc = mdb_put(txn, dhist, &key, &val, 0);
        }
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

typedef struct {
    size_t per_txn;
    double obs_per_s, raw_obs_per_s;
    size_t txns;
} b_row_t;

static int s_row(const char *base, b_ctx_t *proto, size_t per_txn, size_t txns, b_row_t *out)
{
    char sdir[600], rdir[600], err[256];
    glci_store_opts_t o = {0, B_MAP, B_MAP};
    glci_store_t *st = NULL;
    MDB_env *env = NULL;
    MDB_txn *txn;
    MDB_dbi dobs, dhist;
    glci_obs_t *obs = glci_xmalloc(per_txn * proto->n_obs * sizeof *obs);
    glci_batch_t *b = glci_xcalloc(per_txn, sizeof *b);
    glci_batch_result_t *res = glci_xcalloc(per_txn, sizeof *res);
    double *rate = glci_xmalloc(txns * sizeof *rate), *raw = glci_xmalloc(txns * sizeof *raw);
    b_ctx_t c = *proto;
    int rc;

    snprintf(sdir, sizeof sdir, "%s/store-%u", base, (unsigned)per_txn);
    snprintf(rdir, sizeof rdir, "%s/raw-%u", base, (unsigned)per_txn);
    if (mkdir(rdir, 0755) != 0) {
        fprintf(stderr, "glci-bench store: %s: cannot create\n", rdir);
        return 1;
    }
    rc = glci_store_create(sdir, GLCI_FRAMEWORK_FILE, &o, err, sizeof err);
    if (rc == 0)
        rc = glci_store_open(sdir, &o, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "glci-bench store: %s\n", err);
        return 1;
    }
    c.fw = glci_store_framework(st);
    c.seq = glci_xcalloc(c.n_cities, sizeof *c.seq);
    c.hist = glci_xcalloc(c.n_cities, sizeof *c.hist);
    for (size_t i = 0; i < c.n_cities; i++) {
        rc = glci_store_city_add(st, c.ids[i], "Bench City", "FR", NULL, NULL, 0);
        if (rc != 0) {
            fprintf(stderr, "glci-bench store: city add: %s\n", glci_store_strerror(rc));
            return 1;
        }
    }
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) || mdb_env_set_mapsize(env, B_MAP) ||
        mdb_env_open(env, rdir, 0, 0644) || mdb_txn_begin(env, NULL, 0, &txn) ||
        mdb_dbi_open(txn, "obs", MDB_CREATE, &dobs) ||
        mdb_dbi_open(txn, "history", MDB_CREATE, &dhist) || mdb_txn_commit(txn)) {
        fprintf(stderr, "glci-bench store: %s: cannot open the raw LMDB baseline\n", rdir);
        return 1;
    }

    /* Both runs get the same batches: regenerate from the same seed. */
    unsigned seed0 = c.seed;
    size_t k = 0;
    for (size_t t = 0; t < txns; t++) {
        for (size_t i = 0; i < per_txn; i++)
            s_make_batch(&c, k++, obs + i * c.n_obs, &b[i]);
        double t0 = s_now();
        rc = glci_store_ingest(st, b, per_txn, 1800000000 + (int64_t)t, res);
        double t1 = s_now();
        if (rc != 0) {
            fprintf(stderr, "glci-bench store: ingest: %s\n", glci_store_strerror(rc));
            return 1;
        }
        for (size_t i = 0; i < per_txn; i++) {
            if (res[i].status != GLCI_BATCH_APPLIED || res[i].n_rejections) {
                fprintf(stderr, "glci-bench store: batch not applied cleanly\n");
                return 1;
            }
            glci_batch_result_release(&res[i]);
        }
        rate[t] = (double)(per_txn * c.n_obs) / (t1 - t0);
    }
    c.seed = seed0;
    memset(c.seq, 0, c.n_cities * sizeof *c.seq);
    k = 0;
    for (size_t t = 0; t < txns; t++) {
        for (size_t i = 0; i < per_txn; i++)
            s_make_batch(&c, k++, obs + i * c.n_obs, &b[i]);
        double t0 = s_now();
        rc = s_raw_group(&c, env, dobs, dhist, b, per_txn, 1800000000 + (int64_t)t);
        double t1 = s_now();
        if (rc != 0) {
            fprintf(stderr, "glci-bench store: raw LMDB: %s\n", mdb_strerror(rc));
            return 1;
        }
        raw[t] = (double)(per_txn * c.n_obs) / (t1 - t0);
    }

    /* The figures only count if the store is right. */
    uint64_t nd = 0;
    if (glci_store_verify(st, NULL, NULL, &nd) != 0) {
        fprintf(stderr, "glci-bench store: verify found %llu differences\n",
                (unsigned long long)nd);
        return 1;
    }
    out->per_txn = per_txn;
    out->txns = txns;
    out->obs_per_s = s_median(rate, txns);
    out->raw_obs_per_s = s_median(raw, txns);
    glci_store_close(&st);
    mdb_env_close(env);
    free(c.seq);
    free(c.hist);
    free(obs);
    free(b);
    free(res);
    free(rate);
    free(raw);
    return 0;
}

int glci_bench_store(int argc, char **argv)
{
    const char *dir = "/tmp";
    int64_t n_obs = 1000, n_cities = 200;
    char base[512];
    b_ctx_t c;
    b_row_t rows[3];
    const size_t per[3] = {1, 10, 100};
    const size_t txns[3] = {200, 40, 10};
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--obs") == 0 && i + 1 < argc) {
            if (glci_parse_int64(argv[++i], 1, 100000, &n_obs) != 0) {
                fprintf(stderr, "glci-bench store: --obs: not a number in 1..100000: %s\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--cities") == 0 && i + 1 < argc) {
            if (glci_parse_int64(argv[++i], 1, 100000, &n_cities) != 0) {
                fprintf(stderr, "glci-bench store: --cities: not a number in 1..100000: %s\n",
                        argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: glci-bench store [--dir DIR] [--obs N] [--cities N]\n");
            return 2;
        }
    }
    snprintf(base, sizeof base, "%s/glci-bench-store-XXXXXX", dir);
    if (!mkdtemp(base)) {
        fprintf(stderr, "glci-bench store: %s: cannot make a directory\n", dir);
        return 1;
    }
    memset(&c, 0, sizeof c);
    c.n_cities = (size_t)n_cities;
    c.n_obs = (size_t)n_obs;
    c.seed = 20261125;
    c.ids = glci_xcalloc(c.n_cities, sizeof *c.ids);
    for (size_t i = 0; i < c.n_cities; i++)
        snprintf(c.ids[i], sizeof c.ids[i], "c%05u", (unsigned)i);
    for (int r = 0; r < 3 && rc == 0; r++)
        rc = s_row(base, &c, per[r], txns[r], &rows[r]);
    nftw(base, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(c.ids);
    if (rc != 0)
        return rc;

    printf("{\"bench\": \"store\", \"obs_per_batch\": %zu, \"cities\": %zu, "
           "\"periods\": %d, \"rows\": [",
           c.n_obs, c.n_cities, B_PERIODS);
    for (int r = 0; r < 3; r++)
        printf("%s{\"batches_per_txn\": %zu, \"txns\": %zu, \"obs_per_s\": %.0f, "
               "\"raw_obs_per_s\": %.0f, \"ratio\": %.3f}",
               r ? ", " : "", rows[r].per_txn, rows[r].txns, rows[r].obs_per_s,
               rows[r].raw_obs_per_s, rows[r].obs_per_s / rows[r].raw_obs_per_s);
    printf("]}\n");
    return 0;
}
