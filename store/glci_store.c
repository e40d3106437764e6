/* The collector's store: creating and opening it (schema check, embedded
 * framework), the key and record helpers of glci_store_int.h, and the city
 * administration (each call one durable write transaction). Ingest, views
 * and verify/backup live in their own files. */
#include "glci_store_int.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_keyfile.h"
#include "glci_text.h"
#include "glci_utf8.h"

const char *const glci_store_db_names[S_DB_COUNT] = {
    "meta", "cities", "keys", "streams", "batches", "obs", "history",
    "results", "rank", "periods", "rejects", "city_rejects", "invites", "refused",
    "editions", "edition_rows", "slots", "members", "hruns",
};

const char *glci_store_strerror(int code)
{
    switch (code) {
    case GLCI_STORE_OK: return "success";
    case GLCI_STORE_ENOENT: return "no store";
    case GLCI_STORE_EEXIST: return "already exists";
    case GLCI_STORE_ESCHEMA: return "store made by a newer schema";
    case GLCI_STORE_ENOCITY: return "no such city";
    case GLCI_STORE_ENODATA: return "no data";
    case GLCI_STORE_ENOSPC: return "store is full (map cannot grow or disk full)";
    case GLCI_STORE_ECORRUPT: return "store record does not decode";
    case GLCI_STORE_EINVAL: return "invalid argument";
    case GLCI_STORE_ENOTEMPTY: return "destination is not empty";
    case GLCI_STORE_EVERIFY: return "verify found differences";
    case GLCI_STORE_EIO: return "I/O or LMDB error";
    case GLCI_STORE_ERDONLY: return "store is open read-only";
    case GLCI_STORE_EREVOKED: return "city is revoked";
    case GLCI_STORE_EREMOVED: return "its data file was removed";
    case GLCI_STORE_EBUSY: return "a collector runs on the store";
    default: return "unknown store error";
    }
}

int glci_store_code(int rc)
{
    if (rc == 0 || (rc <= GLCI_STORE_ENOENT && rc >= GLCI_STORE_ELAST))
        return rc;
    switch (rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
        return GLCI_STORE_ENOSPC;
    case MDB_NOTFOUND:
    case ENOENT:
        return GLCI_STORE_ENOENT;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_BAD_VALSIZE:
        return GLCI_STORE_ECORRUPT;
    case EACCES:
    case EROFS:
        return GLCI_STORE_ERDONLY;
    case ENAMETOOLONG:
        return GLCI_STORE_EINVAL;
    case GLCI_MDB_REMOVED:
        return GLCI_STORE_EREMOVED;
    default:
        return GLCI_STORE_EIO;
    }
}

static void s_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_msg(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- Keys and records -------------------------------------------------- */

size_t glci_store_cityz(unsigned char *p, const char *id)
{
    size_t n = strlen(id);
    if (n > GLCI_CITY_ID_MAX)
        n = GLCI_CITY_ID_MAX;
    memcpy(p, id, n);
    p[n] = 0;
    return n + 1;
}

size_t glci_store_obs_key(unsigned char *k, const char *city, uint32_t ind, int32_t period)
{
    size_t n = glci_store_cityz(k, city);
    assert(ind <= UINT16_MAX);      /* the loader refuses over 65,535 indicators */
    glci_be16_put(k + n, (uint16_t)ind);
    glci_bei32_put(k + n + 2, period);
    return n + 6;
}

size_t glci_store_hist_key(unsigned char *k, const char *city, uint64_t no)
{
    size_t n = glci_store_cityz(k, city);
    glci_be64_put(k + n, no);
    return n + 8;
}

size_t glci_store_result_key(unsigned char *k, const char *city, int32_t period)
{
    size_t n = glci_store_cityz(k, city);
    glci_bei32_put(k + n, period);
    return n + 4;
}

size_t glci_store_rank_key(unsigned char *k, int32_t period, double index, const char *city)
{
    size_t n = strlen(city);
    glci_bei32_put(k, period);
    glci_store_rank_key_encode(index, k + 4);
    if (n > GLCI_CITY_ID_MAX)
        n = GLCI_CITY_ID_MAX;
    memcpy(k + 12, city, n);
    return 12 + n;
}

int glci_store_city_decode(const MDB_val *v, s_cityrec_t *out)
{
    if (v->mv_size == sizeof *out) {
        memcpy(out, v->mv_data, sizeof *out);
    } else if (v->mv_size == S_CITYREC_V2_SIZE) {
        memset(out, 0, sizeof *out);
        memcpy(out, v->mv_data, S_CITYREC_V2_SIZE);
    } else if (v->mv_size == S_CITYREC_V1_SIZE) {
        memset(out, 0, sizeof *out);
        memcpy(out, v->mv_data, S_CITYREC_V1_SIZE);
        out->last_change = out->last_seen;
    } else {
        return GLCI_STORE_ECORRUPT;
    }
    out->name[sizeof out->name - 1] = 0;
    out->country[sizeof out->country - 1] = 0;
    return 0;
}

int glci_store_city_get(glci_store_t *st, MDB_txn *txn, const char *id, s_cityrec_t *out)
{
    MDB_val k = {strlen(id), (void *)id}, v;
    int rc;

    if (k.mv_size == 0 || k.mv_size > GLCI_CITY_ID_MAX)
        return GLCI_STORE_ENOCITY;
    rc = mdb_get(txn, st->dbi[S_DB_CITIES], &k, &v);
    if (rc == MDB_NOTFOUND)
        return GLCI_STORE_ENOCITY;
    if (rc != 0)
        return glci_store_code(rc);
    return glci_store_city_decode(&v, out);
}

/* The next NUL-terminated string of p[*at..n) into *out; -1 if none. */
static int s_str_at(const char *p, size_t n, size_t *at, const char **out)
{
    const char *end = *at < n ? memchr(p + *at, 0, n - *at) : NULL;
    if (!end)
        return -1;
    *out = p + *at;
    *at = (size_t)(end - p) + 1;
    return 0;
}

int glci_store_hist_decode(const MDB_val *v, s_hist_t *out)
{
    const char *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (v->mv_size < sizeof out->h + 1)
        return GLCI_STORE_ECORRUPT;
    memcpy(&out->h, p, sizeof out->h);
    size_t at = sizeof out->h + out->h.source_len;
    if (at >= v->mv_size || p[at] != 0)
        return GLCI_STORE_ECORRUPT;
    out->source = p + sizeof out->h;
    out->op = out->sudo = out->reason = "";
    at++;
    if (at == v->mv_size)
        return 0;               /* a value delivered by an agent */
    out->flags = (unsigned char)p[at++];
    if (out->flags & ~(S_HIST_RETRACT | S_HIST_OPERATOR))
        return GLCI_STORE_ECORRUPT;
    if (out->flags & S_HIST_OPERATOR) {
        if (s_str_at(p, v->mv_size, &at, &out->op) != 0 ||
            s_str_at(p, v->mv_size, &at, &out->sudo) != 0 ||
            s_str_at(p, v->mv_size, &at, &out->reason) != 0)
            return GLCI_STORE_ECORRUPT;
    }
    return at == v->mv_size ? 0 : GLCI_STORE_ECORRUPT;
}

int glci_store_now(glci_store_t *st, MDB_txn *txn, int64_t now, int64_t *out)
{
    uint64_t last = 0;
    int rc = glci_store_meta_u64(st, txn, "last_receive", &last);
    if (rc != 0)
        return rc;
    *out = (int64_t)last > now ? (int64_t)last : now;
    return 0;
}

int glci_store_receive_time(glci_store_t *st, MDB_txn *txn, int64_t now, int64_t *out)
{
    uint64_t sealed = 0;
    int rc = glci_store_meta_u64(st, txn, "sealed_until", &sealed);
    if (rc != 0)
        return rc;
    *out = sealed && now <= (int64_t)sealed ? (int64_t)sealed + 1 : now;
    return 0;
}

int glci_store_clock_to(glci_store_t *st, MDB_txn *txn, int64_t t)
{
    uint64_t last = 0;
    int rc = glci_store_meta_u64(st, txn, "last_receive", &last);
    if (rc == 0 && t > (int64_t)last)
        rc = glci_store_meta_put_u64(st, txn, "last_receive", (uint64_t)t);
    return rc;
}

int glci_store_stamp(glci_store_t *st, MDB_txn *txn, int64_t now, int64_t *out)
{
    int rc = glci_store_receive_time(st, txn, now, out);
    return rc != 0 ? rc : glci_store_clock_to(st, txn, *out);
}

/* The key of city's membership change no; k holds S_CITYZ_MAX + 4. */
static size_t s_member_key(unsigned char *k, const char *city, uint32_t no)
{
    size_t n = glci_store_cityz(k, city);
    glci_be32_put(k + n, no);
    return n + 4;
}

/* Walks city's membership log: *n its entries; with t given (t_given),
 * *state the state at t by the rule of glci_store_member_at, -1 when the
 * log is empty. */
static int s_member_walk(glci_store_t *st, MDB_txn *txn, const char *city, int t_given,
                         int64_t t, uint32_t *n, int *state)
{
    unsigned char pk[S_CITYZ_MAX + 4];
    size_t plen = glci_store_cityz(pk, city);
    MDB_cursor *cur;
    MDB_val k = {plen, pk}, d;
    int before = -1, at_t = -1;
    *n = 0;
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_MEMBERS], &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size != plen + 4 || memcmp(k.mv_data, pk, plen) != 0)
            break;
        s_memberrec_t m;
        if (d.mv_size != sizeof m) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(&m, d.mv_data, sizeof m);
        if (*n == 0)
            before = !m.active;
        if (t_given && m.at <= t)
            at_t = m.active != 0;
        (*n)++;
    }
    mdb_cursor_close(cur);
    *state = at_t >= 0 ? at_t : before;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

int glci_store_member_at(glci_store_t *st, MDB_txn *txn, const char *id,
                         const s_cityrec_t *rec, int64_t t, int *out)
{
    *out = 0;
    if (rec->added > t)
        return 0;               /* registered later */
    if (!st->has_db[S_DB_MEMBERS]) {
        *out = rec->active != 0;
        return 0;
    }
    uint32_t n;
    int state;
    int rc = s_member_walk(st, txn, id, 1, t, &n, &state);
    if (rc != 0)
        return glci_store_code(rc);
    *out = state >= 0 ? state : rec->active != 0;
    return 0;
}

/* Logs a change of city's membership to active at stamp `at`. */
static int s_member_log(glci_store_t *st, MDB_txn *txn, const char *city, int active, int64_t at)
{
    uint32_t n;
    int state;
    int rc = s_member_walk(st, txn, city, 0, 0, &n, &state);
    if (rc != 0)
        return rc;
    unsigned char kb[S_CITYZ_MAX + 4];
    s_memberrec_t m = {.at = at, .active = active ? 1u : 0u};
    MDB_val k = {s_member_key(kb, city, n), kb}, v = {sizeof m, &m};
    return mdb_put(txn, st->dbi[S_DB_MEMBERS], &k, &v, MDB_NOOVERWRITE);
}

int glci_store_meta_u64(glci_store_t *st, MDB_txn *txn, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, st->dbi[S_DB_META], &k, &v);

    *out = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return glci_store_code(rc);
    if (v.mv_size != 8)
        return GLCI_STORE_ECORRUPT;
    *out = glci_be64_get(v.mv_data);
    return 0;
}

int glci_store_meta_put_u64(glci_store_t *st, MDB_txn *txn, const char *name, uint64_t val)
{
    unsigned char b[8];
    MDB_val k = {strlen(name), (void *)name}, v = {8, b};
    glci_be64_put(b, val);
    return mdb_put(txn, st->dbi[S_DB_META], &k, &v, 0);
}

static int s_meta_put(glci_store_t *st, MDB_txn *txn, const char *name,
                      const void *data, size_t len)
{
    MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)data};
    return mdb_put(txn, st->dbi[S_DB_META], &k, &v, 0);
}

/* ---- Create / open / close ---------------------------------------------- */

/* mkdir -p; the store's own folder (the last) is made 0700: it holds the
 * collector's secret key and every city's data. 0 or -1 with errno. */
static int s_mkdirs(const char *dir)
{
    char *p = glci_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
        if (rc)
            break;
    }
    if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

uint32_t glci_store_schema_in(glci_store_t *st, MDB_txn *txn)
{
    MDB_val k = {6, "schema"}, v;
    if (mdb_get(txn, st->dbi[S_DB_META], &k, &v) != 0 || v.mv_size != 4)
        return 0;
    return glci_be32_get(v.mv_data);
}

/* Makes a folder's new entries durable (the history folder in the
 * store's, the files in it): 0 or an errno value. */
static int s_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) != 0 ? errno : 0;
    close(fd);
    return rc;
}

/* Opens the history file of st (schema 7: the environment in
 * DIR/history, its one database hruns); with create, makes the folder
 * (0700) and the file when missing. 0 or a store code, err saying which. */
static int s_hist_open(glci_store_t *st, unsigned flags, const glci_store_opts_t *opts,
                       int create, char *err, size_t errlen)
{
    static const char *const names[1] = {"hruns"};
    char hdir[4096];
    if ((size_t)snprintf(hdir, sizeof hdir, "%s/" S_HIST_DIR, st->dir) >= sizeof hdir) {
        s_msg(err, errlen, "%s: path too long", st->dir);
        return GLCI_STORE_EINVAL;
    }
    if (create && mkdir(hdir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        s_msg(err, errlen, "%s: cannot create the history folder: %s", hdir, strerror(e));
        return glci_store_code(e);
    }
    int rc = glci_mdb_open(hdir, flags | (create ? GLCI_MDB_CREATE : 0),
                           opts ? opts->map_size : 0, opts ? opts->map_max : 0, 1, &st->hmdb,
                           err, errlen);
    if (rc == ENOENT && !create) {
        s_msg(err, errlen, "%s: the store's history file %s/data.mdb is missing", st->dir,
              hdir);
        return GLCI_STORE_ECORRUPT;
    }
    if (rc != 0)
        return glci_store_code(rc);
    if (create) {
        /* the modes of the store's folder and data file, less what the
         * checks refuse, so that a group the store lets read reads this
         * too (docs/OPERATIONS.md) */
        struct stat sb;
        char data[4200];
        if (stat(st->dir, &sb) == 0)
            (void)chmod(hdir, (sb.st_mode & 0750) | 0700);
        snprintf(data, sizeof data, "%s/data.mdb", st->dir);
        if (stat(data, &sb) == 0) {
            snprintf(data, sizeof data, "%s/data.mdb", hdir);
            (void)chmod(data, (sb.st_mode & 0640) | 0600);
        }
    }
    rc = glci_mdb_dbis(st->hmdb, names, NULL, 1, create, &st->hdbi);
    if (rc != 0) {
        rc = rc == MDB_NOTFOUND ? GLCI_STORE_ECORRUPT : glci_store_code(rc);
        s_msg(err, errlen, "%s: not a glci history file (no hruns): %s", hdir,
              glci_store_strerror(rc));
        return rc;
    }
    /* the file and its folder durable before the state names them */
    int e;
    if (create && ((e = s_sync_dir(hdir)) != 0 || (e = s_sync_dir(st->dir)) != 0)) {
        s_msg(err, errlen, "%s: cannot sync the history folder: %s", hdir, strerror(e));
        return glci_store_code(e);
    }
    return 0;
}

typedef struct {
    glci_store_t *st;
    const glci_framework_t *fw;
} s_create_ctx_t;

static int s_create_txn(MDB_txn *txn, void *vctx)
{
    s_create_ctx_t *c = vctx;
    unsigned char b[4];
    int rc;

    glci_be32_put(b, GLCI_STORE_SCHEMA);
    rc = s_meta_put(c->st, txn, "schema", b, 4);
    if (rc == 0)
        rc = s_meta_put(c->st, txn, "framework", c->fw->source, c->fw->source_len);
    if (rc == 0)
        rc = s_meta_put(c->st, txn, "framework_hash", c->fw->hash, 32);
    return rc;
}

/* Removes DIR/history and its files (a store just made, being unmade). */
static void s_hist_unmake(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" S_HIST_DIR "/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/" S_HIST_DIR "/lock.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/" S_HIST_DIR, dir);
    rmdir(path);
}

int glci_store_create(const char *dir, const char *framework_path,
                      const glci_store_opts_t *opts, char *err, size_t errlen)
{
    glci_framework_t *fw = NULL;
    glci_store_t st;
    char path[4096];
    struct stat sb;
    char ferr[512];
    int rc;

    memset(&st, 0, sizeof st);
    if (!dir || !*dir || !framework_path) {
        s_msg(err, errlen, "store directory and framework file are required");
        return GLCI_STORE_EINVAL;
    }
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path) {
        s_msg(err, errlen, "%s: path too long", dir);
        return GLCI_STORE_EINVAL;
    }
    if (stat(path, &sb) == 0) {
        s_msg(err, errlen, "%s: a store already exists here", dir);
        return GLCI_STORE_EEXIST;
    }
    rc = glci_framework_load_file(framework_path, &fw, ferr, sizeof ferr);
    if (rc != 0) {
        s_msg(err, errlen, "%s", ferr);
        return rc == GLCI_INDEX_EIO ? GLCI_STORE_ENOENT : GLCI_STORE_EINVAL;
    }
    int dir_made = stat(dir, &sb) != 0;
    if (s_mkdirs(dir) != 0) {
        s_msg(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
        rc = errno == EACCES || errno == EROFS ? GLCI_STORE_ERDONLY : GLCI_STORE_EIO;
        goto out_fw;
    }
    /* a lock file already there is not ours to remove on a failure */
    char lock[4200];
    snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
    int lock_made = lstat(lock, &sb) != 0;
    rc = glci_store_code(glci_mdb_open(dir, GLCI_MDB_CREATE, opts ? opts->map_size : 0,
                                       opts ? opts->map_max : 0, S_DB_COUNT, &st.mdb,
                                       err, errlen));
    if (rc != 0)
        goto out_unmake;
    rc = glci_store_code(glci_mdb_dbis(st.mdb, glci_store_db_names, NULL, S_DB_COUNT, 1,
                                       st.dbi));
    if (rc != 0) {
        s_msg(err, errlen, "%s: cannot create databases: %s", dir, glci_store_strerror(rc));
        goto out_env;
    }
    /* the history file first: the header, committed last, makes the store */
    st.dir = (char *)dir;
    rc = s_hist_open(&st, 0, opts, 1, err, errlen);
    glci_mdb_close(&st.hmdb);
    if (rc != 0)
        goto out_env;
    s_create_ctx_t ctx = {&st, fw};
    rc = glci_store_code(glci_mdb_write(st.mdb, s_create_txn, &ctx));
    if (rc != 0)
        s_msg(err, errlen, "%s: cannot write the store header: %s", dir,
              glci_store_strerror(rc));
out_env:
    glci_mdb_close(&st.mdb);
out_unmake:
    if (rc != 0) {
        s_hist_unmake(dir);
        unlink(path);             /* data.mdb: not there before (checked above) */
        if (lock_made)
            unlink(lock);
        if (dir_made)
            rmdir(dir);
    }
out_fw:
    glci_framework_free(&fw);
    return rc;
}

void glci_store_unmake(const char *dir, int dir_made, int lock_made)
{
    char path[4200];
    s_hist_unmake(dir);
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    if (lock_made)
        unlink(path);
    if (dir_made)
        rmdir(dir);
}

/* Reads schema and framework. */
static int s_load_header(glci_store_t *st, char *err, size_t errlen)
{
    MDB_txn *txn = NULL;
    MDB_val k, v;
    char ferr[512];
    int rc;

    rc = glci_store_code(glci_mdb_read_begin(st->mdb, &txn));
    if (rc != 0) {
        s_msg(err, errlen, "%s: cannot read: %s", st->dir, glci_store_strerror(rc));
        return rc;
    }
    k.mv_data = "schema";
    k.mv_size = 6;
    rc = mdb_get(txn, st->dbi[S_DB_META], &k, &v);
    if (rc != 0 || v.mv_size != 4) {
        s_msg(err, errlen, "%s: store has no schema record", st->dir);
        rc = GLCI_STORE_ECORRUPT;
        goto out;
    }
    st->schema = glci_be32_get(v.mv_data);
    if (st->schema > GLCI_STORE_SCHEMA) {
        s_msg(err, errlen, "%s: store schema %u is newer than this program's (%u)",
              st->dir, st->schema, GLCI_STORE_SCHEMA);
        rc = GLCI_STORE_ESCHEMA;
        goto out;
    }
    if (st->schema == 0) {
        s_msg(err, errlen, "%s: store schema 0 is not valid", st->dir);
        rc = GLCI_STORE_ECORRUPT;
        goto out;
    }
    k.mv_data = "framework";
    k.mv_size = 9;
    rc = mdb_get(txn, st->dbi[S_DB_META], &k, &v);
    if (rc != 0) {
        s_msg(err, errlen, "%s: store has no embedded framework", st->dir);
        rc = GLCI_STORE_ECORRUPT;
        goto out;
    }
    rc = glci_framework_load_text(v.mv_data, v.mv_size, "embedded framework", &st->fw,
                                  ferr, sizeof ferr);
    if (rc != 0) {
        s_msg(err, errlen, "%s: embedded framework does not load: %s", st->dir, ferr);
        rc = GLCI_STORE_ECORRUPT;
        goto out;
    }
    k.mv_data = "framework_hash";
    k.mv_size = 14;
    rc = mdb_get(txn, st->dbi[S_DB_META], &k, &v);
    if (rc != 0 || v.mv_size != 32 || memcmp(v.mv_data, st->fw->hash, 32) != 0) {
        s_msg(err, errlen, "%s: embedded framework does not match its hash", st->dir);
        rc = GLCI_STORE_ECORRUPT;
        goto out;
    }
    st->rsize = glci_result_size(st->fw);
    st->hsize = glci_store_head_size(st->fw);
    glci_store_chunks_init(st);
    rc = 0;
out:
    glci_mdb_read_end(st->mdb, &txn);
    return rc;
}

static int s_city_put(glci_store_t *st, MDB_txn *txn, const char *id, const s_cityrec_t *rec);

/* The rank view's entries get their flags byte (glci_store_rank_val), read
 * from each entry's result; collected first, as the city records are. */
static int s_upgrade_rank(glci_store_t *st, MDB_txn *txn)
{
    typedef struct {
        unsigned char key[12 + GLCI_CITY_ID_MAX];
        size_t klen;
        unsigned char val[9 + S_CITYZ_MAX];
        size_t vlen;
    } s_rk_t;
    s_rk_t *e = NULL;
    size_t n = 0, cap = 0;
    glci_result_t *r = glci_xmalloc(st->rsize);
    MDB_cursor *cur;
    MDB_val k, d;
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_RANK], &cur);
    if (rc != 0) {
        free(r);
        return rc;
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        double cov;
        const char *city;
        int reported;
        if (k.mv_size < 13 || k.mv_size > 12 + GLCI_CITY_ID_MAX ||
            glci_store_rank_val_decode(&d, &cov, &city, &reported) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (reported >= 0)
            continue;
        unsigned char rk[S_CITYZ_MAX + 4];
        MDB_val key = {glci_store_result_key(rk, city, glci_bei32_get(k.mv_data)), rk}, rd;
        if ((rc = mdb_get(txn, st->dbi[S_DB_RESULTS], &key, &rd)) != 0 ||
            rd.mv_size != st->rsize) {
            rc = rc ? rc : GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(r, rd.mv_data, st->rsize);
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            e = glci_xrealloc(e, cap * sizeof *e);
        }
        memcpy(e[n].key, k.mv_data, k.mv_size);
        e[n].klen = k.mv_size;
        e[n].vlen = glci_store_rank_val(e[n].val, cov, city, glci_result_reported(st->fw, r));
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        MDB_val key = {e[i].klen, e[i].key}, val = {e[i].vlen, e[i].val};
        rc = mdb_put(txn, st->dbi[S_DB_RANK], &key, &val, 0);
    }
    free(e);
    free(r);
    return rc;
}

/* Schema 2 -> 3: every result stored whole becomes its head and its
 * present slots (glci_store_result.c). The keys are collected first, as
 * the city records below are: a record that shrinks moves. */
static int s_upgrade_results(glci_store_t *st, MDB_txn *txn)
{
    typedef struct {
        unsigned char key[S_CITYZ_MAX + 4];
        size_t len;
    } s_rkey_t;
    s_rkey_t *keys = NULL;
    size_t n = 0, cap = 0;
    MDB_cursor *cur;
    MDB_val k, d;
    int rc = mdb_cursor_open(txn, st->dbi[S_DB_RESULTS], &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (d.mv_size != st->rsize)
            continue;
        if (k.mv_size < 6 || k.mv_size > S_CITYZ_MAX + 4 ||
            ((const unsigned char *)k.mv_data)[k.mv_size - 5] != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            keys = glci_xrealloc(keys, cap * sizeof *keys);
        }
        memcpy(keys[n].key, k.mv_data, k.mv_size);
        keys[n].len = k.mv_size;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    glci_result_t *r = glci_xmalloc(st->rsize);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        MDB_val key = {keys[i].len, keys[i].key};
        if ((rc = mdb_get(txn, st->dbi[S_DB_RESULTS], &key, &d)) != 0)
            break;
        memcpy(r, d.mv_data, st->rsize);
        /* the key is cityz | P: the id is the bytes before its NUL */
        rc = glci_store_result_put(st, txn, (const char *)keys[i].key, r);
    }
    free(r);
    free(keys);
    return rc;
}

/* Schema 1 -> 2: every city record rewritten in the longer form (added 0:
 * unknown; last_change: its last batch, which no receive time of its
 * history exceeds), the rank view's entries with their flags byte. Then
 * 2 -> 3: results split into heads and slots. Then the new number, all in
 * one transaction (3 -> 4 changes no record; 4 -> 5 rewrites history as
 * runs, glci_store_hist_upgrade; 5 -> 6 moves them to hruns,
 * glci_store_hist_upgrade6). (The editions' databases,
 * slots and members are added ones, made by s_open_added.) */
static int s_upgrade_txn(MDB_txn *txn, void *vctx)
{
    glci_store_t *st = vctx;
    MDB_cursor *cur;
    MDB_val k, d;
    unsigned char b[4];
    int rc;

    /* another writable open may have upgraded it since this one looked */
    if (glci_store_schema_in(st, txn) >= 6)
        return S_TXN_NOCOMMIT;
    if (st->schema >= 2)
        goto schema3;

    /* Read every record first: a record that grows moves, and the key a
     * cursor hands out points into the page it leaves. */
    typedef struct {
        char id[GLCI_CITY_ID_MAX + 1];
        s_cityrec_t rec;
    } s_up_t;
    s_up_t *up = NULL;
    size_t n = 0, cap = 0;
    if ((rc = mdb_cursor_open(txn, st->dbi[S_DB_CITIES], &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (d.mv_size != S_CITYREC_V1_SIZE)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            up = glci_xrealloc(up, cap * sizeof *up);
        }
        if (k.mv_size == 0 || k.mv_size > GLCI_CITY_ID_MAX ||
            (rc = glci_store_city_decode(&d, &up[n].rec)) != 0) {
            rc = GLCI_STORE_ECORRUPT;
            break;
        }
        memcpy(up[n].id, k.mv_data, k.mv_size);
        up[n].id[k.mv_size] = 0;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = s_city_put(st, txn, up[i].id, &up[i].rec);
    free(up);
    if (rc == 0)
        rc = s_upgrade_rank(st, txn);
    if (rc != 0)
        return rc;
schema3:
    if (st->schema < 3 && (rc = s_upgrade_results(st, txn)) != 0)
        return rc;
    /* 3 -> 4: the membership log starts empty (the database is an added
     * one); a city's state before its first logged change is what it was
     * then (glci_store_member_at). 4 -> 5: history as runs. */
    if (st->schema < 5 && (rc = glci_store_hist_upgrade(st, txn)) != 0)
        return rc;
    /* 5 -> 6: the runs in the order written, chained per city. */
    if (st->schema < 6 && (rc = glci_store_hist_upgrade6(st, txn)) != 0)
        return rc;
    glci_be32_put(b, 6);
    return s_meta_put(st, txn, "schema", b, 4);
}

typedef struct {
    glci_store_t *st;
    const glci_store_opts_t *opts;
    char herr[512];           /* why the history file would not open */
} s_up7_ctx_t;

/* 6 -> 7: the runs moved to the history file (glci_store_hist_upgrade7),
 * committed there before this transaction commits the new number. The
 * history file is made and opened here, holding the state's writer lock:
 * another writable open upgrading at the same time would otherwise find
 * the file this one has only begun to make (empty: refused). */
static int s_upgrade7_txn(MDB_txn *txn, void *vctx)
{
    s_up7_ctx_t *c = vctx;
    glci_store_t *st = c->st;
    unsigned char b[4];
    if (!st->hmdb) {
        int rc = s_hist_open(st, GLCI_MDB_SHARED, c->opts, 1, c->herr, sizeof c->herr);
        if (rc != 0)
            return rc;
    }
    /* Another writable open may have upgraded it since this one looked:
     * the copy would then empty the history file and fill it from the
     * state's hruns, empty by now. */
    if (glci_store_schema_in(st, txn) >= 7)
        return S_TXN_NOCOMMIT;
    int rc = glci_store_hist_upgrade7(st, txn);
    if (rc != 0)
        return rc;
    glci_be32_put(b, 7);
    return s_meta_put(st, txn, "schema", b, 4);
}

/* Whether another process holds the collector's lock on the store
 * (STORE/collector.lock, collector/collector_lock.h): 1 with its pid (0
 * when unknown), else 0. A process's own lock is no other's (fcntl), so a
 * collector upgrading the store it has locked is not stopped by it. */
static int s_collector_elsewhere(const char *dir, long *pid)
{
    char path[4096];
    *pid = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/collector.lock", dir) >= sizeof path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int held = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK;
    if (held)
        *pid = q.l_pid > 0 ? (long)q.l_pid : 0;
    close(fd);
    return held;
}

/* An older store opened for writing is upgraded; one opened read-only
 * is read as it is. Not while a collector runs on it: that one is of
 * the older schema (a collector upgrades at its own start), keeps writing
 * the older form and would make what it writes unreadable to this one
 * (docs/STORE.md, "Schema"). */
static int s_upgrade(glci_store_t *st, int rdonly, const glci_store_opts_t *opts, char *err,
                     size_t errlen)
{
    if (st->schema >= GLCI_STORE_SCHEMA || rdonly)
        return 0;
    long pid;
    if (s_collector_elsewhere(st->dir, &pid)) {
        char who[32] = "";
        if (pid > 0)
            snprintf(who, sizeof who, " (pid %ld)", pid);
        s_msg(err, errlen, "%s: a collector%s runs on this schema-%u store: stop it before a "
              "program of schema %u upgrades the store", st->dir, who, st->schema,
              GLCI_STORE_SCHEMA);
        return GLCI_STORE_EBUSY;
    }
    int rc = 0;
    if (st->schema < 6)
        rc = glci_mdb_write(st->mdb, s_upgrade_txn, st);
    if (rc == S_TXN_NOCOMMIT)
        rc = 0;               /* done by another open meanwhile */
    rc = glci_store_code(rc);
    if (rc == 0) {
        st->schema = 6;       /* what is committed now; the history file next */
        s_up7_ctx_t c = {st, opts, ""};
        rc = glci_mdb_write(st->mdb, s_upgrade7_txn, &c);
        rc = glci_store_code(rc == S_TXN_NOCOMMIT ? 0 : rc);
        if (rc != 0 && c.herr[0]) {
            s_msg(err, errlen, "cannot upgrade the store to schema %u: %s", GLCI_STORE_SCHEMA,
                  c.herr);
            return rc;
        }
    }
    if (rc != 0) {
        s_msg(err, errlen, "%s: cannot upgrade the store to schema %u: %s", st->dir,
              GLCI_STORE_SCHEMA, glci_store_strerror(rc));
        return rc;
    }
    st->schema = GLCI_STORE_SCHEMA;
    return 0;
}

/* The databases added after the first release: opened when present;
 * created by a writable open of an older store (a one-time write
 * transaction); on a read-only open of one, absent (has_db 0: readers see
 * them empty). */
static int s_open_added(glci_store_t *st, unsigned flags, char *err, size_t errlen)
{
    size_t first = S_DB_FIRST_ADDED, n = S_DB_COUNT - S_DB_FIRST_ADDED;
    for (size_t i = 0; i < first; i++)
        st->has_db[i] = 1;
    int rc = glci_mdb_dbis(st->mdb, glci_store_db_names + first, NULL, n, 0, st->dbi + first);
    if (rc == MDB_NOTFOUND && !(flags & GLCI_MDB_RDONLY))
        rc = glci_mdb_dbis(st->mdb, glci_store_db_names + first, NULL, n, 1, st->dbi + first);
    if (rc == 0) {
        for (size_t i = first; i < S_DB_COUNT; i++)
            st->has_db[i] = 1;
        return 0;
    }
    if (rc != MDB_NOTFOUND) {
        rc = glci_store_code(rc);
        s_msg(err, errlen, "%s: cannot open the databases added after the first release: %s", st->dir,
              glci_store_strerror(rc));
        return rc;
    }
    /* read-only, an older store: open those that exist one by one */
    for (size_t i = first; i < S_DB_COUNT; i++)
        st->has_db[i] = glci_mdb_dbis(st->mdb, glci_store_db_names + i, NULL, 1, 0,
                                      st->dbi + i) == 0;
    return 0;
}

int glci_store_open(const char *dir, const glci_store_opts_t *opts,
                    glci_store_t **out, char *err, size_t errlen)
{
    glci_store_t *st;
    unsigned flags = GLCI_MDB_SHARED;
    int rc;

    *out = NULL;
    if (!dir || !*dir) {
        s_msg(err, errlen, "no store directory given");
        return GLCI_STORE_EINVAL;
    }
    if (opts && (opts->flags & GLCI_STORE_RDONLY))
        flags |= GLCI_MDB_RDONLY;
    if (sodium_init() < 0) {
        s_msg(err, errlen, "libsodium cannot initialise");
        return GLCI_STORE_EIO;
    }
    st = glci_xcalloc(1, sizeof *st);
    st->dir = glci_xstrdup(dir);
    st->rejects_keep = GLCI_STORE_REJECTS_KEEP;
    rc = glci_store_code(glci_mdb_open(dir, flags, opts ? opts->map_size : 0,
                                       opts ? opts->map_max : 0, S_DB_COUNT, &st->mdb,
                                       err, errlen));
    if (rc != 0)
        goto fail;
    rc = glci_mdb_dbis(st->mdb, glci_store_db_names, NULL, S_DB_FIRST_ADDED, 0, st->dbi);
    /* a database missing from an existing file: not a store of ours */
    rc = rc == MDB_NOTFOUND ? GLCI_STORE_ECORRUPT : glci_store_code(rc);
    if (rc != 0) {
        s_msg(err, errlen, "%s: not a glci store (databases missing): %s", dir,
              glci_store_strerror(rc));
        goto fail;
    }
    rc = s_open_added(st, flags, err, errlen);
    if (rc != 0)
        goto fail;
    rc = s_load_header(st, err, errlen);
    if (rc != 0)
        goto fail;
    st->schema_opened = st->schema;
    if (st->schema >= 7 && (rc = s_hist_open(st, flags, opts, 0, err, errlen)) != 0)
        goto fail;
    rc = s_upgrade(st, (flags & GLCI_MDB_RDONLY) != 0, opts, err, errlen);
    if (rc != 0)
        goto fail;
    *out = st;
    return 0;
fail:
    glci_store_close(&st);
    return rc;
}

void glci_store_close(glci_store_t **self)
{
    if (!self || !*self)
        return;
    glci_mdb_close(&(*self)->hmdb);
    glci_mdb_close(&(*self)->mdb);
    glci_store_ingest_cache_free(*self);
    glci_store_chunks_release(*self);
    glci_framework_free(&(*self)->fw);
    free((*self)->dir);
    free(*self);
    *self = NULL;
}

const glci_framework_t *glci_store_framework(const glci_store_t *st)
{
    return st->fw;
}

void glci_store_set_rejects_keep(glci_store_t *st, size_t keep)
{
    st->rejects_keep = keep ? keep : GLCI_STORE_REJECTS_KEEP;
}

int glci_store_reader_check(glci_store_t *st)
{
    int dead = 0, hdead = 0;
    int rc = glci_store_code(glci_mdb_reader_check(st->mdb, &dead));
    if (rc == 0 && st->hmdb)
        rc = glci_store_code(glci_mdb_reader_check(st->hmdb, &hdead));
    return rc != 0 ? rc : dead + hdead;
}

int glci_store_space(glci_store_t *st, glci_store_space_t *out)
{
    glci_mdb_t *files[GLCI_STORE_FILES] = {st->mdb, st->hmdb};
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->linked = 1;
    for (unsigned i = 0; i < GLCI_STORE_FILES && files[i]; i++) {
        glci_store_file_space_t *f = &out->file[i];
        f->used_bytes = glci_mdb_used_bytes(files[i]);
        f->map_bytes = glci_mdb_map_size(files[i]);
        f->map_max_bytes = glci_mdb_map_max(files[i]);
        if (glci_mdb_file(files[i], &f->file_bytes, &f->linked) != 0)
            rc = GLCI_STORE_EIO;
        out->used_bytes += f->used_bytes;
        out->map_bytes += f->map_bytes;
        out->map_max_bytes += f->map_max_bytes;
        out->file_bytes += f->file_bytes;
        out->linked = out->linked && f->linked;
        out->n_files = i + 1;
    }
    return rc;
}

/* ---- Cities -------------------------------------------------------------- */

typedef struct {
    glci_store_t *st;
    const char *id;
    const char *name;
    char country[3];
    unsigned char key[32];
    int has_key;
    int key_taken;            /* EEXIST came from the key, not the city */
    int was_revoked;          /* the city was revoked when the txn read it */
    int op;                   /* S_OP_* */
    int64_t now;
    size_t n_withdrawn;       /* revoke: open invitations it withdrew */
} s_admin_ctx_t;

enum { S_OP_ADD, S_OP_KEY_ADD, S_OP_KEY_REMOVE, S_OP_REVOKE, S_OP_REINSTATE };

static int s_city_put(glci_store_t *st, MDB_txn *txn, const char *id, const s_cityrec_t *rec)
{
    MDB_val k = {strlen(id), (void *)id}, v = {sizeof *rec, (void *)rec};
    return mdb_put(txn, st->dbi[S_DB_CITIES], &k, &v, 0);
}

int glci_store_bump_auth(glci_store_t *st, MDB_txn *txn)
{
    uint64_t g;
    int rc = glci_store_meta_u64(st, txn, "auth_generation", &g);
    if (rc != 0)
        return rc;
    return glci_store_meta_put_u64(st, txn, "auth_generation", g + 1);
}

size_t glci_store_keyval(unsigned char *v, const char *city, int64_t added, int64_t last_used)
{
    size_t n = glci_store_cityz(v, city);
    glci_bei64_put(v + n, added);
    glci_bei64_put(v + n + 8, last_used);
    return n + 16;
}

int glci_store_keyval_parse(const MDB_val *v, char city[GLCI_CITY_ID_MAX + 1], int64_t *added,
                            int64_t *last_used)
{
    const unsigned char *p = v->mv_data;
    const unsigned char *nul = v->mv_size ? memchr(p, 0, v->mv_size) : NULL;
    if (!nul || nul == p || (size_t)(nul - p) > GLCI_CITY_ID_MAX)
        return GLCI_STORE_ECORRUPT;
    size_t n = (size_t)(nul - p) + 1;
    if (v->mv_size != n && v->mv_size != n + 16)
        return GLCI_STORE_ECORRUPT;
    memcpy(city, p, n);
    *added = v->mv_size == n ? 0 : glci_bei64_get(p + n);
    *last_used = v->mv_size == n ? 0 : glci_bei64_get(p + n + 8);
    return 0;
}

/* The key part of an admin change: add (refused when registered already)
 * or remove (refused unless registered to this city). */
static int s_admin_key(s_admin_ctx_t *c, MDB_txn *txn, s_cityrec_t *rec)
{
    glci_store_t *st = c->st;
    MDB_val k = {32, c->key}, v;
    int rc = mdb_get(txn, st->dbi[S_DB_KEYS], &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (c->op == S_OP_KEY_REMOVE) {
        char owner[GLCI_CITY_ID_MAX + 1];
        int64_t added, used;
        if (rc == MDB_NOTFOUND || glci_store_keyval_parse(&v, owner, &added, &used) != 0 ||
            strcmp(owner, c->id) != 0)
            return GLCI_STORE_ENOENT;
        rc = mdb_del(txn, st->dbi[S_DB_KEYS], &k, NULL);
        if (rc == 0 && rec->n_keys > 0)
            rec->n_keys--;
        return rc;
    }
    if (rc == 0) {
        c->key_taken = 1;
        return GLCI_STORE_EEXIST;
    }
    unsigned char kv[S_CITYZ_MAX + 16];
    v.mv_size = glci_store_keyval(kv, c->id, c->now, 0);
    v.mv_data = kv;
    rc = mdb_put(txn, st->dbi[S_DB_KEYS], &k, &v, 0);
    if (rc == 0)
        rec->n_keys++;
    return rc;
}

static int s_admin_txn(MDB_txn *txn, void *vctx)
{
    s_admin_ctx_t *c = vctx;
    glci_store_t *st = c->st;
    s_cityrec_t rec;
    int rc;

    c->key_taken = 0;   /* this body may run again after a map growth */
    rc = glci_store_city_get(st, txn, c->id, &rec);
    c->was_revoked = rc == 0 && !rec.active;
    if (c->op == S_OP_ADD) {
        if (rc == 0)
            return GLCI_STORE_EEXIST;
        if (rc != GLCI_STORE_ENOCITY)
            return rc;
        memset(&rec, 0, sizeof rec);
        rec.active = 1;
        snprintf(rec.name, sizeof rec.name, "%s", c->name);
        memcpy(rec.country, c->country, 3);
        /* When it joined: an edition of an earlier time never holds it. */
        if ((rc = glci_store_stamp(st, txn, (int64_t)time(NULL), &rec.added)) != 0)
            return rc;
    } else if (rc != 0) {
        return rc;
    }

    if (c->op == S_OP_REVOKE || c->op == S_OP_REINSTATE) {
        int active = c->op == S_OP_REINSTATE;
        int64_t at;
        /* A change is logged with its time, so that tables as of an
         * earlier time keep the membership of then. */
        if ((uint32_t)active != (rec.active != 0) &&
            ((rc = glci_store_stamp(st, txn, c->now, &at)) != 0 ||
             (rc = s_member_log(st, txn, c->id, active, at)) != 0))
            return rc;
        /* A revoked city may have been revoked for a compromised machine:
         * no enrolment string of it stays usable, whatever follows. */
        c->n_withdrawn = 0;
        if (!active && (rc = glci_store_invites_withdraw(st, txn, c->id, c->now,
                                                         S_INV_BY_REVOCATION,
                                                         &c->n_withdrawn)) != 0)
            return rc;
        rec.active = (uint32_t)active;
    } else if (c->op == S_OP_KEY_ADD && !rec.active) {
        return GLCI_STORE_EREVOKED;     /* its keys would be refused: say so now */
    } else if (c->has_key) {
        rc = s_admin_key(c, txn, &rec);
        if (rc != 0)
            return rc;
    }
    rc = s_city_put(st, txn, c->id, &rec);
    if (rc != 0)
        return rc;
    return glci_store_bump_auth(st, txn);
}

int glci_city_id_check(const char *id, char *err, size_t errlen)
{
    if (glci_city_id_valid(id))
        return 0;
    glci_errf(err, errlen, "city id '%.80s' is not valid ([a-z0-9][a-z0-9._-]*, at most %d "
              "characters)", id ? id : "", GLCI_CITY_ID_MAX);
    return GLCI_STORE_EINVAL;
}

static int s_admin(glci_store_t *st, s_admin_ctx_t *c, const char *pubkey_z85,
                   int key_required, char *err, size_t errlen)
{
    int rc;

    if (glci_mdb_rdonly(st->mdb)) {
        glci_errf(err, errlen, "%s: store is open read-only", st->dir);
        return GLCI_STORE_ERDONLY;
    }
    if (glci_city_id_check(c->id, err, errlen) != 0)
        return c->op == S_OP_ADD ? GLCI_STORE_EINVAL : GLCI_STORE_ENOCITY;
    if (pubkey_z85) {
        if (!glci_key_valid(pubkey_z85) || glci_key_decode(pubkey_z85, c->key) != 0) {
            glci_errf(err, errlen, "public key '%.60s' is not 40 Z85 characters", pubkey_z85);
            return GLCI_STORE_EINVAL;
        }
        c->has_key = 1;
    } else if (key_required) {
        glci_errf(err, errlen, "a public key is required");
        return GLCI_STORE_EINVAL;
    }
    c->st = st;
    c->now = (int64_t)time(NULL);
    if (!pubkey_z85)
        pubkey_z85 = "";        /* only named in messages below */
    rc = glci_store_code(glci_mdb_write(st->mdb, s_admin_txn, c));
    switch (rc) {
    case 0:
        if (err && errlen)
            err[0] = '\0';
        break;
    case GLCI_STORE_EEXIST:
        if (c->op == S_OP_ADD && !c->key_taken && c->was_revoked)
            glci_errf(err, errlen, "city '%s' is registered and revoked: take it back with "
                      "`glci city reinstate %s`", c->id, c->id);
        else if (c->op == S_OP_ADD && !c->key_taken)
            glci_errf(err, errlen, "city '%s' is already registered", c->id);
        else
            glci_errf(err, errlen, "public key %s is already registered", pubkey_z85);
        break;
    case GLCI_STORE_ENOCITY:
        glci_errf(err, errlen, "no city '%s'", c->id);
        break;
    case GLCI_STORE_EREVOKED:
        glci_errf(err, errlen, "city '%s' is revoked, so its keys are refused: reinstate it "
                  "first (`glci city reinstate %s`), then add the key", c->id, c->id);
        break;
    case GLCI_STORE_ENOENT:
        glci_errf(err, errlen, "public key %s is not registered to city '%s'", pubkey_z85,
                  c->id);
        break;
    default:
        glci_errf(err, errlen, "%s: cannot write: %s", st->dir, glci_store_strerror(rc));
        break;
    }
    return rc;
}

int glci_city_check(const char *id, const char *name, const char *country,
                    char *country_out, char *err, size_t errlen)
{
    const char *why;
    size_t nlen = name ? strlen(name) : 0;

    if (glci_city_id_check(id, err, errlen) != 0)
        return GLCI_STORE_EINVAL;
    if (nlen == 0 || nlen > GLCI_CITY_NAME_MAX) {
        glci_errf(err, errlen, "city name must be 1 to %d bytes", GLCI_CITY_NAME_MAX);
        return GLCI_STORE_EINVAL;
    }
    /* Names are shown and written as JSON: valid UTF-8, no control
     * characters. */
    if ((why = glci_utf8_problem(name)) != NULL) {
        glci_errf(err, errlen, "city name %s", why);
        return GLCI_STORE_EINVAL;
    }
    if (!country || strlen(country) != 2 || !isalpha((unsigned char)country[0]) ||
        !isalpha((unsigned char)country[1])) {
        glci_errf(err, errlen, "country '%.20s' is not a two-letter ISO 3166-1 code",
                  country ? country : "");
        return GLCI_STORE_EINVAL;
    }
    if (country_out) {
        country_out[0] = (char)toupper((unsigned char)country[0]);
        country_out[1] = (char)toupper((unsigned char)country[1]);
        country_out[2] = '\0';
    }
    return 0;
}

int glci_store_city_add(glci_store_t *st, const char *id, const char *name,
                        const char *country, const char *pubkey_z85,
                        char *err, size_t errlen)
{
    s_admin_ctx_t c;
    int rc;

    memset(&c, 0, sizeof c);
    if ((rc = glci_city_check(id, name, country, c.country, err, errlen)) != 0)
        return rc;
    c.id = id;
    c.name = name;
    c.op = S_OP_ADD;
    return s_admin(st, &c, pubkey_z85, 0, err, errlen);
}

int glci_store_city_key_add(glci_store_t *st, const char *id, const char *pubkey_z85,
                            char *err, size_t errlen)
{
    s_admin_ctx_t c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.op = S_OP_KEY_ADD;
    return s_admin(st, &c, pubkey_z85, 1, err, errlen);
}

int glci_store_city_key_remove(glci_store_t *st, const char *id, const char *pubkey_z85,
                               char *err, size_t errlen)
{
    s_admin_ctx_t c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.op = S_OP_KEY_REMOVE;
    return s_admin(st, &c, pubkey_z85, 1, err, errlen);
}

int glci_store_city_revoke(glci_store_t *st, const char *id, char *err, size_t errlen)
{
    return glci_store_city_revoke_invites(st, id, NULL, err, errlen);
}

int glci_store_city_revoke_invites(glci_store_t *st, const char *id, size_t *n_withdrawn,
                                   char *err, size_t errlen)
{
    s_admin_ctx_t c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.op = S_OP_REVOKE;
    int rc = s_admin(st, &c, NULL, 0, err, errlen);
    if (n_withdrawn)
        *n_withdrawn = rc == 0 ? c.n_withdrawn : 0;
    return rc;
}

int glci_store_city_reinstate(glci_store_t *st, const char *id, int *was_revoked,
                              char *err, size_t errlen)
{
    s_admin_ctx_t c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.op = S_OP_REINSTATE;
    int rc = s_admin(st, &c, NULL, 0, err, errlen);
    if (was_revoked)
        *was_revoked = rc == 0 && c.was_revoked;
    return rc;
}

/* The active city owning key, copied into city (may be NULL). */
static int s_key_lookup(glci_store_t *st, const unsigned char key[32],
                        char city[GLCI_CITY_ID_MAX + 1])
{
    MDB_txn *txn = NULL;
    MDB_val k = {32, (void *)key}, v;
    char id[GLCI_CITY_ID_MAX + 1];
    s_cityrec_t rec;
    int rc;

    rc = glci_store_code(glci_mdb_read_begin(st->mdb, &txn));
    if (rc != 0)
        return rc;
    rc = mdb_get(txn, st->dbi[S_DB_KEYS], &k, &v);
    if (rc == MDB_NOTFOUND) {
        rc = GLCI_STORE_ENOCITY;
        goto out;
    }
    if (rc != 0) {
        rc = glci_store_code(rc);
        goto out;
    }
    int64_t added, used;
    rc = glci_store_keyval_parse(&v, id, &added, &used);
    if (rc != 0)
        goto out;
    rc = glci_store_city_get(st, txn, id, &rec);
    if (rc == 0 && !rec.active)
        rc = GLCI_STORE_ENOCITY;
    if (rc == 0)
        memcpy(city, id, strlen(id) + 1);
out:
    glci_mdb_read_end(st->mdb, &txn);
    return rc;
}

int glci_store_city_by_key(glci_store_t *st, const unsigned char key[32],
                           char city[GLCI_CITY_ID_MAX + 1])
{
    return s_key_lookup(st, key, city);
}

int glci_store_key_check(glci_store_t *st, const unsigned char key[32], const char *city)
{
    char owner[GLCI_CITY_ID_MAX + 1];
    int rc = s_key_lookup(st, key, owner);
    if (rc != 0)
        return rc;
    return strcmp(owner, city) == 0 ? 0 : GLCI_STORE_ENOCITY;
}

int glci_store_auth_generation(glci_store_t *st, uint64_t *gen)
{
    MDB_txn *txn = NULL;
    int rc = glci_store_code(glci_mdb_read_begin(st->mdb, &txn));
    if (rc != 0)
        return rc;
    rc = glci_store_meta_u64(st, txn, "auth_generation", gen);
    glci_mdb_read_end(st->mdb, &txn);
    return rc;
}
