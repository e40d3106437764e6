/* The LMDB helper layer: durable environments, a write-transaction runner
 * that grows the map on MDB_MAP_FULL and retries, and read transactions
 * that survive map growth by another process. Errors are LMDB's own (MDB_*
 * or errno), as LMDB returns them. See glci_mdb.h for the contract. */
#include "glci_mdb.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_file.h"

struct glci_mdb {
    MDB_env *env;
    size_t map_max;
    unsigned grows;
    int rdonly;
    int shared;                 /* GLCI_MDB_SHARED: map_lock is used */
    pthread_rwlock_t map_lock;  /* shared by read txns, exclusive for remaps */
    uint64_t drop_from;         /* glci_mdb_drop_written: dropped below this; 0: not yet */
};

static void s_lock_rd(glci_mdb_t *m)
{
    if (m->shared)
        pthread_rwlock_rdlock(&m->map_lock);
}

static void s_lock_wr(glci_mdb_t *m)
{
    if (m->shared)
        pthread_rwlock_wrlock(&m->map_lock);
}

static void s_unlock(glci_mdb_t *m)
{
    if (m->shared)
        pthread_rwlock_unlock(&m->map_lock);
}

/* Removes what a failed mdb_env_copy2 into dir may have left. */
static void s_remove_copy(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) < (int)sizeof path)
        unlink(path);
    if (snprintf(path, sizeof path, "%s/lock.mdb", dir) < (int)sizeof path)
        unlink(path);
}

static size_t s_env_map(MDB_env *env)
{
    MDB_envinfo info;
    if (mdb_env_info(env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

/* Bytes in use: (last used page + 1) * page size; 0 if LMDB cannot say. */
static uint64_t s_env_used(MDB_env *env)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &st) != 0)
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

/* A data file cut short (a failed copy, a full disk, a bad restore) still
 * opens: LMDB reads its two meta pages with pread and maps the rest, and
 * the first read of a page past the end of the file is SIGBUS. So, right
 * after mdb_env_open (which has checked the meta pages' magic and version,
 * and so that the file holds them) and before any transaction touches a
 * data page, the file must reach the end of the last page the newest meta
 * page says is in use. The size is read after the meta: a writer in
 * another process only ever appends and commits its meta page last, so a
 * commit in between cannot make a whole file look short. MDB_INVALID when
 * it is short, with the line in err. */
static int s_check_size(MDB_env *env, const char *dir, char *err, size_t errlen)
{
    MDB_envinfo info;
    MDB_stat st;
    struct stat sb;
    int fd = -1;
    int rc = mdb_env_info(env, &info);
    if (rc == 0)
        rc = mdb_env_stat(env, &st);
    if (rc == 0)
        rc = mdb_env_get_fd(env, &fd);
    if (rc != 0)
        return rc;
    if (fstat(fd, &sb) != 0)
        return errno;
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)sb.st_size < need) {
        snprintf(err, errlen, "%s/data.mdb is truncated: %lld bytes, but its last "
                 "committed page ends at byte %llu; restore it from a backup", dir,
                 (long long)sb.st_size, (unsigned long long)need);
        return MDB_INVALID;
    }
    return 0;
}

/* LMDB's lock file as mdb_env_setup_locks (mdb.c) sizes it:
 * sizeof(MDB_txninfo) + (maxreaders - 1) * sizeof(MDB_reader), with the
 * layout of mdb.c built with POSIX mutexes (Linux): the header is two
 * unions padded to 64-byte cache lines -- magic, format, the reader
 * mutex, the last txnid and the reader count; then the writer mutex --
 * and the first reader slot; a reader slot (txnid, pid, thread id) is one
 * cache line. Mirrored here from sizeof(pthread_mutex_t), so the size
 * follows the target: 192 + 125 * 64 = 8192 bytes for LMDB's default 126
 * readers (the store keeps that default) on x86-64 glibc. */
#define S_CACHELINE 64u
#define S_LINES(n) (((n) + S_CACHELINE - 1) & ~(size_t)(S_CACHELINE - 1))
typedef struct {
    uint32_t magic, format;
    pthread_mutex_t rmutex;
    size_t txnid;             /* txnid_t: MDB_ID, a size_t */
    unsigned numreaders;
} s_lmdb_txbody_t;
typedef struct {
    size_t txnid;
    pid_t pid;
    pthread_t tid;
} s_lmdb_rxbody_t;
#define S_LOCK_SLOT S_LINES(sizeof(s_lmdb_rxbody_t))
#define S_LOCK_HEAD (S_LINES(sizeof(s_lmdb_txbody_t)) + S_LINES(sizeof(pthread_mutex_t)) + \
                     S_LOCK_SLOT)
#if defined(__x86_64__) && defined(__GLIBC__)
_Static_assert(S_LOCK_HEAD == 192 && S_LOCK_SLOT == 64,
               "lock.mdb layout differs from LMDB's on x86-64 glibc");
#endif

/* LMDB creates lock.mdb with ftruncate, maps it and writes its header
 * through the map: on a full file system the sparse page cannot be
 * allocated and the write is SIGBUS, not an error. So a missing or short
 * lock file is allocated here first, to exactly the size LMDB makes (never
 * more: every process sharing the file derives its reader count from its
 * size, and a longer file would give a later process more slots than the
 * one already running maps). A full disk is then ENOSPC with err naming
 * the file, and a lock file this call made is removed again. A file that
 * cannot be opened for writing is left to mdb_env_open, which says why or
 * opens without it (a read-only store on read-only media). 0 or ENOSPC. */
static int s_prepare_lock(MDB_env *env, const char *dir, char *err, size_t errlen)
{
    unsigned readers = 0;
    char path[4096];
    struct stat sb;
    if (mdb_env_get_maxreaders(env, &readers) != 0 || readers == 0 ||
        snprintf(path, sizeof path, "%s/lock.mdb", dir) >= (int)sizeof path)
        return 0;
    off_t need = (off_t)((size_t)(readers - 1) * S_LOCK_SLOT + S_LOCK_HEAD);
    if (stat(path, &sb) == 0 && (!S_ISREG(sb.st_mode) || sb.st_size >= need))
        return 0;
    int made = 1;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
        made = 0;
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return 0;
    int rc = 0;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < need)
        rc = posix_fallocate(fd, 0, need);
    close(fd);
    if (rc != ENOSPC && rc != EDQUOT)
        return 0;                 /* no such call here: LMDB's ftruncate as before */
    if (made)
        unlink(path);
    snprintf(err, errlen, "%s: no space for the lock file (%lld bytes): %s", path,
             (long long)need, strerror(rc));
    return ENOSPC;
}

int glci_mdb_open(const char *dir, unsigned flags, size_t map_size,
                  size_t map_max, unsigned max_dbs, glci_mdb_t **out,
                  char *err, size_t errlen)
{
    int rc;
    char path[4096];
    struct stat sb;
    MDB_env *env = NULL;
    unsigned envflags = MDB_NOTLS;
    int rdonly = (flags & GLCI_MDB_RDONLY) != 0;

    *out = NULL;
    /* A cap below the default initial map is the initial map too, so the
     * cap holds for a store whose file records less than the default. */
    if (map_size == 0)
        map_size = map_max && map_max < GLCI_MDB_DEFAULT_MAP ? map_max : GLCI_MDB_DEFAULT_MAP;
    if (map_max == 0)
        map_max = GLCI_MDB_DEFAULT_MAX;
    if (map_max < map_size)
        map_max = map_size;

    if (stat(dir, &sb) != 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(err, errlen, "%s: no such directory", dir);
        else
            snprintf(err, errlen, "%s: %s", dir, strerror(e));
        return e;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: is %s, not a directory", dir, glci_file_kind(sb.st_mode));
        return ENOTDIR;
    }
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "%s: path too long", dir);
        return ENAMETOOLONG;
    }
    /* Only a data file that is not there means no store: one the user may
     * not look at (a folder it cannot enter) is that error, not "none". */
    int have_file = stat(path, &sb) == 0;
    if (!have_file && errno != ENOENT) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(e));
        return e;
    }
    if (!(flags & GLCI_MDB_CREATE) && !have_file) {
        snprintf(err, errlen, "%s: no store here (no data.mdb)", dir);
        return ENOENT;
    }
    /* LMDB would take an empty file for a new environment: a truncated
     * outbox would silently become a new one, its batches gone. Only a
     * missing file is created. */
    if (have_file && sb.st_size == 0) {
        snprintf(err, errlen, "%s/data.mdb is empty (0 bytes): truncated; restore it from "
                 "a backup, or remove it to start anew", dir);
        return MDB_INVALID;
    }
    if (rdonly)
        envflags |= MDB_RDONLY;

    rc = mdb_env_create(&env);
    if (rc != 0)
        goto fail;
    rc = mdb_env_set_maxdbs(env, max_dbs);
    if (rc != 0)
        goto fail;
    rc = mdb_env_set_mapsize(env, map_size);
    if (rc != 0)
        goto fail;
    rc = s_prepare_lock(env, dir, err, errlen);
    if (rc != 0) {
        mdb_env_close(env);
        return rc;
    }
    /* 0600: a store holds every city's data, an outbox a city's; the lock
     * file is written by every reader, which must be the owner anyway. */
    rc = mdb_env_open(env, dir, envflags, 0600);
    if (rc != 0)
        goto fail;
    rc = s_check_size(env, dir, err, errlen);
    if (rc == MDB_INVALID) {
        mdb_env_close(env);
        return rc;
    }
    if (rc != 0)
        goto fail;

    /* LMDB maps the size asked for (at least the data); never map less
     * than the size the file records, grown by earlier runs, unless that is
     * above map_max: a writer then maps map_max, or the data's own size
     * when that is more (LMDB maps no less), so a cap set below what
     * `glci init` or an earlier run recorded holds from the first write
     * (the store is full there) instead of only once the map would grow. */
    rc = mdb_env_set_mapsize(env, 0);
    if (rc != 0)
        goto fail;
    size_t recorded = s_env_map(env);
    size_t want = recorded < map_size ? map_size : recorded;
    if (!rdonly && recorded > map_max) {
        uint64_t used = s_env_used(env);
        want = used > map_max ? (size_t)used : map_max;
    }
    if (want != recorded) {
        rc = mdb_env_set_mapsize(env, want);
        if (rc != 0)
            goto fail;
    }

    int dead = 0;
    rc = mdb_reader_check(env, &dead);
    if (rc != 0)
        goto fail;

    glci_mdb_t *m = glci_xcalloc(1, sizeof *m);
    m->env = env;
    m->map_max = map_max;
    m->rdonly = rdonly;
    m->shared = (flags & GLCI_MDB_SHARED) != 0;
    if (m->shared)
        pthread_rwlock_init(&m->map_lock, NULL);
    *out = m;
    return 0;

fail:
    if (rc == MDB_INVALID && have_file)
        snprintf(err, errlen, "%s/data.mdb (%lld bytes) is truncated or not an LMDB file: %s",
                 dir, (long long)sb.st_size, mdb_strerror(rc));
    else
        snprintf(err, errlen, "%s: cannot open LMDB environment: %s", dir,
                 mdb_strerror(rc));
    if (env)
        mdb_env_close(env);
    return rc;
}

void glci_mdb_close(glci_mdb_t **self)
{
    if (!self || !*self)
        return;
    mdb_env_close((*self)->env);
    if ((*self)->shared)
        pthread_rwlock_destroy(&(*self)->map_lock);
    free(*self);
    *self = NULL;
}

MDB_env *glci_mdb_env(glci_mdb_t *m)
{
    return m->env;
}

int glci_mdb_rdonly(const glci_mdb_t *m)
{
    return m->rdonly;
}

size_t glci_mdb_map_size(glci_mdb_t *m)
{
    MDB_envinfo info;
    if (mdb_env_info(m->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

uint64_t glci_mdb_used_bytes(glci_mdb_t *m)
{
    return s_env_used(m->env);
}

uint64_t glci_mdb_drop_due(uint64_t from, uint64_t end, uint64_t keep)
{
    if (end < keep)
        return 0;
    uint64_t to = (end - keep) & ~(GLCI_MDB_DROP_GRAIN - 1);
    return to >= from + GLCI_MDB_DROP_MIN ? to : 0;
}

void glci_mdb_drop_written(glci_mdb_t *m, uint64_t keep)
{
    int fd;
    if (m->rdonly)
        return;
    /* the meta pages are read through the map, which a reader adopting
     * another process's growth may be remapping */
    s_lock_rd(m);
    uint64_t end = s_env_used(m->env);
    int rc = mdb_env_get_fd(m->env, &fd);
    s_unlock(m);
    if (end == 0 || rc != 0)
        return;
    if (m->drop_from == 0) {
        /* rounded up: nothing written before this handle's first commit is
         * ever in a range; the first unit also holds the meta pages */
        m->drop_from = (end + GLCI_MDB_DROP_GRAIN - 1) & ~(GLCI_MDB_DROP_GRAIN - 1);
        return;
    }
    uint64_t to = glci_mdb_drop_due(m->drop_from, end, keep);
    if (to == 0)
        return;
    /* advice only: a failure leaves the pages cached, nothing else */
    (void)posix_fadvise(fd, (off_t)m->drop_from, (off_t)(to - m->drop_from),
                        POSIX_FADV_DONTNEED);
    m->drop_from = to;
}

size_t glci_mdb_map_max(const glci_mdb_t *m)
{
    return m->map_max;
}

unsigned glci_mdb_grow_count(const glci_mdb_t *m)
{
    return m->grows;
}

int glci_mdb_reader_check(glci_mdb_t *m, int *dead)
{
    int n = 0;
    int rc = mdb_reader_check(m->env, &n);
    if (dead)
        *dead = rc == 0 ? n : 0;
    return rc;
}

int glci_mdb_dbis(glci_mdb_t *m, const char *const *names, const unsigned *flags,
                  size_t n, int create, MDB_dbi *dbis)
{
    MDB_txn *txn = NULL;
    int rc;

    if (create && m->rdonly)
        return EACCES;
    if (create)
        rc = mdb_txn_begin(m->env, NULL, 0, &txn);
    else
        rc = glci_mdb_read_begin(m, &txn);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        unsigned f = flags ? flags[i] : 0;
        if (create)
            f |= MDB_CREATE;
        rc = mdb_dbi_open(txn, names[i], f, &dbis[i]);
        if (rc != 0) {
            if (create)
                mdb_txn_abort(txn);
            else
                glci_mdb_read_end(m, &txn);
            return rc;
        }
    }
    /* Committing (even a read-only txn) keeps the handles in the env. */
    rc = mdb_txn_commit(txn);
    if (!create)
        s_unlock(m);
    return rc;
}

/* Doubles the map, capped at map_max. MDB_MAP_FULL if already at the cap. */
static int s_grow(glci_mdb_t *m)
{
    size_t cur = glci_mdb_map_size(m);
    size_t next;

    int rc;

    if (cur >= m->map_max)
        return MDB_MAP_FULL;
    next = cur > m->map_max / 2 ? m->map_max : cur * 2;
    s_lock_wr(m);
    rc = mdb_env_set_mapsize(m->env, next);
    s_unlock(m);
    if (rc != 0)
        return MDB_MAP_FULL;
    m->grows++;
    return 0;
}

/* Less than this free in the environment's file system, and a failed
 * write is taken for a full disk. */
#define S_FULL_BYTES (1u << 20)

/* LMDB answers a short write (what a full disk gives: the write stops at
 * the last free block) with EIO, its code for "wrote less than asked"; a
 * caller needs to tell that from a failing disk. 1 if the file system of
 * the environment is full for this process (root may use the reserved
 * blocks, others not). */
static int s_disk_full(glci_mdb_t *m)
{
    const char *path = NULL;
    struct statvfs v;
    if (mdb_env_get_path(m->env, &path) != 0 || !path || statvfs(path, &v) != 0)
        return 0;
    unsigned long long blocks = geteuid() == 0 ? v.f_bfree : v.f_bavail;
    return blocks * v.f_frsize < S_FULL_BYTES;
}

int glci_mdb_file(glci_mdb_t *m, uint64_t *bytes, int *linked)
{
    mdb_filehandle_t fd;
    struct stat sb;
    int rc = mdb_env_get_fd(m->env, &fd);
    if (rc != 0)
        return rc;
    if (fstat(fd, &sb) != 0)
        return errno;
    *bytes = (uint64_t)sb.st_size;
    *linked = sb.st_nlink > 0;
    return 0;
}

/* 1 when the environment's data file has no link left: removed (or
 * renamed over) while open. One fstat, cheap beside a durable commit. */
static int s_removed(glci_mdb_t *m)
{
    uint64_t bytes;
    int linked;
    return glci_mdb_file(m, &bytes, &linked) == 0 && !linked;
}

/* On a shared handle the write transaction holds the map lock SHARED from
 * mdb_txn_begin to commit/abort. lmdb.h allows a remap (mdb_env_set_mapsize)
 * only while no transaction of the process is active; LMDB itself only
 * refuses it (EINVAL) once the write txn is registered, which leaves a
 * window inside mdb_txn_begin, and a reader that retries on EINVAL can give
 * up while a long write runs. Holding the lock shared makes every remap (a
 * reader adopting another process's growth) wait until the write txn has
 * ended, while readers in other threads, which also hold it shared, still
 * run beside the write and beside each other. The lock is released before
 * this thread remaps itself (adopting a grown map at begin, doubling it on
 * MDB_MAP_FULL), both of which take it exclusively. */
int glci_mdb_write(glci_mdb_t *m, glci_mdb_write_fn fn, void *ctx)
{
    MDB_txn *txn;
    int rc;

    if (m->rdonly)
        return EACCES;
    for (;;) {
        s_lock_rd(m);
        rc = mdb_txn_begin(m->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            /* Another process grew the map: adopt its size. */
            s_unlock(m);
            s_lock_wr(m);
            rc = mdb_env_set_mapsize(m->env, 0);
            s_unlock(m);
            if (rc != 0)
                return rc;
            continue;
        }
        if (rc != 0) {
            s_unlock(m);
            return rc;
        }
        rc = fn(txn, ctx);
        if (rc == 0 && s_removed(m))
            rc = GLCI_MDB_REMOVED;
        if (rc != 0)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);   /* frees txn whatever it returns */
        s_unlock(m);
        if (rc == 0)
            return 0;
        if (rc == EIO && s_disk_full(m))
            return ENOSPC;
        if (rc != MDB_MAP_FULL)
            return rc;
        rc = s_grow(m);
        if (rc != 0)
            return rc;
    }
}

int glci_mdb_read_begin(glci_mdb_t *m, MDB_txn **out)
{
    int rc;

    *out = NULL;
    for (int tries = 0; tries < 1000; tries++) {
        s_lock_rd(m);
        rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, out);
        if (rc != MDB_MAP_RESIZED) {
            if (rc != 0) {
                *out = NULL;
                s_unlock(m);
            }
            return rc;
        }
        s_unlock(m);
        /* Another process grew the map: adopt its size. A write
         * transaction of this handle in another thread holds the lock
         * shared, so this waits for it to end; EINVAL (a txn LMDB still
         * counts) is retried shortly. */
        s_lock_wr(m);
        rc = mdb_env_set_mapsize(m->env, 0);
        s_unlock(m);
        if (rc == EINVAL) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        } else if (rc != 0) {
            return rc;
        }
    }
    return MDB_MAP_RESIZED;
}

void glci_mdb_read_end(glci_mdb_t *m, MDB_txn **txn)
{
    if (!txn || !*txn)
        return;
    mdb_txn_abort(*txn);
    *txn = NULL;
    s_unlock(m);
}

int glci_mdb_read_renew(glci_mdb_t *m, MDB_txn **txn)
{
    int rc;

    if (m->shared)
        return EINVAL;
    rc = mdb_txn_renew(*txn);
    if (rc != MDB_MAP_RESIZED)
        return rc;
    mdb_txn_abort(*txn);
    *txn = NULL;
    rc = mdb_env_set_mapsize(m->env, 0);
    if (rc != 0)
        return rc;
    return glci_mdb_read_begin(m, txn);
}

int glci_mdb_copy(glci_mdb_t *m, const char *dir)
{
    int rc;

    for (int tries = 0;; tries++) {
        /* The copy runs its own read transaction: hold the map lock shared
         * like any read, so no other thread remaps under it. */
        s_lock_rd(m);
        rc = mdb_env_copy2(m->env, dir, MDB_CP_COMPACT);
        s_unlock(m);
        if (rc == 0)
            return 0;
        s_remove_copy(dir);
        if (rc != MDB_MAP_RESIZED || tries > 0)
            return rc;
        /* Another process grew the store after this handle mapped it: adopt
         * its size (no transaction of this handle is open here, by the
         * contract) and copy again. */
        s_lock_wr(m);
        rc = mdb_env_set_mapsize(m->env, 0);
        s_unlock(m);
        if (rc != 0)
            return rc;
    }
}
