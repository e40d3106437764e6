/* The LMDB helper layer under the collector's store and the agent's outbox
 * (private to them: only glci_store and glci_outbox link it, so only their
 * .c files can include it, and through it <lmdb.h>).
 *
 * What it decides once for both users:
 * - Durability: environments are never opened with MDB_NOSYNC,
 *   MDB_NOMETASYNC or MDB_WRITEMAP; a commit that returns 0 is on disk.
 *   MDB_NOTLS is always set, so read transactions are tied to their handle,
 *   not to a thread.
 * - Stale reader slots of dead processes are cleared at open
 *   (mdb_reader_check) and whenever the owner calls glci_mdb_reader_check.
 * - A write transaction is a callback: on MDB_MAP_FULL the transaction is
 *   aborted, the map doubled (up to a maximum) and the SAME callback run
 *   again from scratch, so callbacks must keep no state outside the
 *   transaction between attempts (or reset it on entry).
 * - A read transaction survives another process growing the map: on
 *   MDB_MAP_RESIZED it adopts the new size (mdb_env_set_mapsize(env, 0))
 *   and begins again.
 * - Errors: every function returns 0 or the code LMDB or the system gave
 *   (MDB_* or an errno value), as LMDB itself does; a write callback's own
 *   non-zero code comes back as it is. Each user maps them once into its own
 *   codes (glci_store_code, the outbox's s_code), so this layer knows
 *   nothing of either.
 * - Keys: big-endian helpers, so that memcmp order (LMDB's default) is
 *   numeric order.
 *
 * Lifetime: every MDB_val an LMDB call hands back points into the memory
 * map and is valid only until its transaction ends (or, in a write
 * transaction, until the next write). */
#ifndef GLCI_MDB_H
#define GLCI_MDB_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

typedef struct glci_mdb glci_mdb_t;

#define GLCI_MDB_RDONLY 0x1u   /* read-only open (MDB_RDONLY) */
#define GLCI_MDB_CREATE 0x2u   /* create data.mdb if missing (else ENOENT) */
#define GLCI_MDB_SHARED 0x4u   /* handle shared by threads: see glci_mdb_read_end */

#define GLCI_MDB_DEFAULT_MAP  ((size_t)64 << 20)   /* 64 MiB */

/* glci_mdb_write's code for a data file that has no name left (removed, or
 * renamed over, while the environment was open): a commit would go to a
 * file no one can open again. Outside LMDB's range of codes (MDB_KEYEXIST
 * .. MDB_LAST_ERRCODE) and of errno values. */
#define GLCI_MDB_REMOVED (-30600)
#define GLCI_MDB_DEFAULT_MAX  ((size_t)1 << 40)    /* 1 TiB */

/* Opens the LMDB environment in the existing directory dir.
 * flags: GLCI_MDB_RDONLY, GLCI_MDB_CREATE. map_size (0: 64 MiB) is the
 * initial map size; the map of an existing file is never made smaller than
 * the file's recorded size, except to map_max (0: 1 TiB), which bounds the
 * map of a writable open (see glci_mdb_map_max). max_dbs is the
 * number of named databases the caller will use.
 * Returns 0 and *out, or ENOENT (no data.mdb and no CREATE, or no dir),
 * ENOTDIR (dir is not a folder), the errno of a look at dir or data.mdb
 * that failed otherwise (EACCES: a folder the caller cannot enter),
 * ENAMETOOLONG, ENOSPC (no room for the lock file, allocated before LMDB
 * maps it so a full disk is an error and not SIGBUS), or what mdb_env_open
 * gave (EACCES, MDB_INVALID, MDB_VERSION_MISMATCH...); err gets a one-line
 * message naming dir. A data
 * file shorter than the pages its newest meta page says are in use (a
 * truncated file, which LMDB would map and then fault on: SIGBUS) is
 * MDB_INVALID with a line saying it is truncated, before any data page is
 * read. Runs mdb_reader_check after opening. */
int glci_mdb_open(const char *dir, unsigned flags, size_t map_size,
                  size_t map_max, unsigned max_dbs, glci_mdb_t **out,
                  char *err, size_t errlen);

/* Closes the environment and sets *self to NULL; accepts NULL. No
 * transaction of this handle may be open. */
void glci_mdb_close(glci_mdb_t **self);

/* The environment, for mdb_* calls by store/ code. Owned by the handle. */
MDB_env *glci_mdb_env(glci_mdb_t *m);

/* 1 if opened read-only. */
int glci_mdb_rdonly(const glci_mdb_t *m);

/* Current map size in bytes (as this process maps it). */
size_t glci_mdb_map_size(glci_mdb_t *m);

/* Bytes in use: (last used page + 1) * page size. */
uint64_t glci_mdb_used_bytes(glci_mdb_t *m);

/* Asks the kernel to drop from its page cache the pages this handle's
 * commits appended to the data file, from where the drop before stopped
 * to keep bytes below the end of the pages in use. For a file that grows
 * at its end and whose writer does not read back most of what it wrote
 * (the store's history file): its cache would otherwise grow with
 * everything ever written, and each page it grows by is memory the kernel
 * must find (on a virtual machine whose free memory goes back to its host,
 * a fault on the host per page, docs/PERFORMANCE.md "The history file's
 * cache"). The first call notes where the file ends (rounded up to
 * GLCI_MDB_DROP_GRAIN) and drops nothing, so nothing written before this
 * handle's first commit is dropped. The kernel keeps every folio a process
 * maps a page of (one mapped page can keep up to 2 MiB) and the ones not
 * yet written back; a page dropped is read from the disk when next
 * wanted. Call it after a commit returned; a no-op on a read-only handle.
 * The ranges start and end on GLCI_MDB_DROP_GRAIN: the kernel caches a
 * file in folios of up to 2 MiB, aligned to their size, and keeps a folio
 * that a range covers only in part. A range is dropped once it reaches
 * GLCI_MDB_DROP_MIN, so the kernel's work for a drop (a walk of the range
 * and, when a page in it is mapped, a drain of every CPU's page lists that
 * waits for each CPU) comes once per 16 MiB appended, not at every
 * commit. */
void glci_mdb_drop_written(glci_mdb_t *m, uint64_t keep);
#define GLCI_MDB_DROP_GRAIN ((uint64_t)2 << 20)
#define GLCI_MDB_DROP_MIN ((uint64_t)16 << 20)

/* glci_mdb_drop_written's rule, for a file dropped up to from whose
 * written bytes end at end: where the range to drop now ends (from is its
 * start), or 0 when none is due: keep bytes below end stay, the end is
 * rounded down to GLCI_MDB_DROP_GRAIN and the range must reach
 * GLCI_MDB_DROP_MIN. glci-bench pagecache drops a plain file by it. */
uint64_t glci_mdb_drop_due(uint64_t from, uint64_t end, uint64_t keep);

/* The open data file as it stands: its size in bytes and whether it still
 * has a link (0 once removed, or renamed over, while open). 0, or the
 * errno of fstat. */
int glci_mdb_file(glci_mdb_t *m, uint64_t *bytes, int *linked);

/* The bound the map never grows past: the open's map_max (or its default,
 * or map_size when that was larger). A writable open of a file whose
 * recorded map is above it maps map_max, or the data's size when the data
 * already needs more (then the store is full at once); a read-only open
 * keeps the recorded map. */
size_t glci_mdb_map_max(const glci_mdb_t *m);

/* Number of times the map was grown by this handle (for tests). */
unsigned glci_mdb_grow_count(const glci_mdb_t *m);

/* Clears reader slots of dead processes; *dead (may be NULL) receives how
 * many. 0 or mdb_reader_check's code. */
int glci_mdb_reader_check(glci_mdb_t *m, int *dead);

/* Opens (and with create, creates) n named databases in one transaction
 * and stores their handles in dbis[]; handles stay valid until close.
 * flags[i] are MDB_dbi flags (MDB_DUPSORT...) or NULL for none. Without
 * create, a missing database gives MDB_NOTFOUND; EACCES to create on a
 * read-only handle. */
int glci_mdb_dbis(glci_mdb_t *m, const char *const *names, const unsigned *flags,
                  size_t n, int create, MDB_dbi *dbis);

/* A write transaction's body. Returns 0 to commit, or a non-zero code to
 * abort: an LMDB code (MDB_MAP_FULL makes the runner grow the map and call
 * again) or a code of the caller's own, which must not be MDB_MAP_FULL
 * (returned as is). */
typedef int (*glci_mdb_write_fn)(MDB_txn *txn, void *ctx);

/* Runs fn in a durable write transaction and commits. On MDB_MAP_FULL (from
 * fn or from the commit) aborts, doubles the map (capped at map_max) and
 * runs fn again; MDB_MAP_FULL once the map is at its maximum. Returns 0
 * after the commit returned 0 (then, and only then, the changes are
 * durable), or fn's or LMDB's code (nothing changed); ENOSPC where LMDB
 * says EIO (a short write) and the file system has less than 1 MiB left
 * for this process: a full disk. GLCI_MDB_REMOVED (nothing committed) when
 * the data file was removed while open: checked right before each commit,
 * so nothing is reported durable that a restart would not find. EACCES on
 * a read-only handle. No other
 * transaction of this handle may be open (the map cannot be resized then). */
int glci_mdb_write(glci_mdb_t *m, glci_mdb_write_fn fn, void *ctx);

/* Begins a read-only transaction, adopting a map grown by another process
 * (MDB_MAP_RESIZED). End it with glci_mdb_read_end (always right) or, on a
 * handle opened without GLCI_MDB_SHARED, mdb_txn_abort.
 *
 * GLCI_MDB_SHARED: growing the map unmaps it, which would pull the memory
 * from under a read transaction of another thread. With this flag, read
 * transactions hold a shared lock from begin to glci_mdb_read_end and map
 * changes take it exclusively, so reads may run in other threads while a
 * write transaction runs. A write transaction (glci_mdb_write) holds the
 * lock shared too, from begin to commit/abort, so no other thread remaps
 * while it is active. A thread must not hold a read transaction while it
 * runs glci_mdb_write on the same handle. */
int glci_mdb_read_begin(glci_mdb_t *m, MDB_txn **out);

/* Aborts a read transaction begun with glci_mdb_read_begin, releases the
 * shared lock, sets *txn to NULL; accepts NULL. */
void glci_mdb_read_end(glci_mdb_t *m, MDB_txn **txn);

/* Renews a reset read-only transaction, with the same MDB_MAP_RESIZED
 * handling (the txn is aborted and begun again: *txn may change). Not for
 * GLCI_MDB_SHARED handles (EINVAL there). Begin gives MDB_MAP_RESIZED if
 * the map kept changing under it for 1000 tries. */
int glci_mdb_read_renew(glci_mdb_t *m, MDB_txn **txn);

/* Compacting copy of the environment into the existing empty directory dir
 * (mdb_env_copy2 with MDB_CP_COMPACT). If another process grew the map
 * after this handle mapped it (MDB_MAP_RESIZED), adopts the new size and
 * copies once more. On failure removes the dir/data.mdb (and lock.mdb) it
 * may have left, so that a retry finds dir empty. Returns 0 or the LMDB /
 * errno code. No transaction of this handle may
 * be open in the calling thread; on a GLCI_MDB_SHARED handle the copy holds
 * the map lock shared, like a read. */
int glci_mdb_copy(glci_mdb_t *m, const char *dir);

/* ---- Big-endian key helpers ------------------------------------------- */

static inline void glci_be16_put(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static inline uint16_t glci_be16_get(const unsigned char *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static inline void glci_be32_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline uint32_t glci_be32_get(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void glci_be64_put(unsigned char *p, uint64_t v)
{
    glci_be32_put(p, (uint32_t)(v >> 32));
    glci_be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t glci_be64_get(const unsigned char *p)
{
    return ((uint64_t)glci_be32_get(p) << 32) | glci_be32_get(p + 4);
}

/* Signed integers with the sign bit flipped, so memcmp order is numeric
 * order across negative and positive values. */
static inline void glci_bei32_put(unsigned char *p, int32_t v)
{
    glci_be32_put(p, (uint32_t)v ^ 0x80000000u);
}

static inline int32_t glci_bei32_get(const unsigned char *p)
{
    return (int32_t)(glci_be32_get(p) ^ 0x80000000u);
}

static inline void glci_bei64_put(unsigned char *p, int64_t v)
{
    glci_be64_put(p, (uint64_t)v ^ 0x8000000000000000u);
}

static inline int64_t glci_bei64_get(const unsigned char *p)
{
    return (int64_t)(glci_be64_get(p) ^ 0x8000000000000000u);
}

#endif
