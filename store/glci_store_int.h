/* Internals of the collector's store shared by its source files
 * (glci_store.c, glci_store_ingest.c, glci_store_view.c,
 * glci_store_verify.c): the handle, the named databases, the key encodings
 * and the record layouts. docs/STORE.md describes the same layout for
 * people.
 *
 * Key encodings (all integers big-endian, signed ones with the sign bit
 * flipped, so LMDB's memcmp order is numeric order; "cityz" is the city id
 * followed by its NUL, so a city's keys sort together and by id):
 *   meta          ASCII name                     -> per name (see glci_store.c)
 *   cities        id (no NUL)                    -> s_cityrec_t
 *   keys          public key (32 bytes)          -> cityz
 *   streams       cityz | stream u64             -> mark u64
 *   batches       cityz | stream u64 | seq u64   -> 16-byte content hash
 *   obs           cityz | ind u16 | period i32   -> s_obsrec_t
 *   history       cityz | no u64                 -> s_histrec_t + source + NUL
 *                 (from schema 5: a run of entries, keyed by the first's no)
 *   results       cityz | period i32             -> glci_result_t block
 *   rank          period i32 | rank key [8] | id -> coverage f64 + cityz [+ flags u8]
 *   periods       period i32                     -> current observations u64
 *   rejects       no u64                         -> s_rejrec_t + strings
 *   city_rejects  cityz | no u64                 -> (empty)
 *                 (at most rejects_keep per city: older ones dropped, counted
 *                 in meta rejects_dropped/CITY and rejects_dropped)
 * Added in the second release (created by the first writable open of an
 * older store; a read-only open of one that lacks them sees them empty):
 *   invites       hash of (city, secret) [32]     -> s_inviterec_t
 *   refused       public key [32]                -> s_refusedrec_t
 * and the keys database's value grew: cityz, then (when present) the
 * key's added and last-used times as big-endian i64 (a key registered by
 * the first release has neither); for the reporting cycle (SPEC §7),
 * created the same way:
 *   editions      name (no NUL)                  -> s_editionrec_t + who + NUL + sudo + NUL
 *   edition_rows  namez | cityz                  -> rank u32, 0 u32, glci_result_t block
 * and from schema 3 a result is stored split (glci_store_result.c):
 *   results       cityz | period i32             -> head: header, nodes, n_own u32, 0 u32
 *   slots         cityz | period i32 | chunk u16 -> glci_slot_t[n] of the chunk's
 *                                                  indicators (while one is present)
 * and from schema 4 each change of a city's membership is logged:
 *   members       cityz | no u32                 -> s_memberrec_t (no: the city's
 *                                                  changes counted from 0)
 * and from schema 6 the history moved to an added database, in the order
 * it was written (glci_store_history.c; "history" is left empty):
 *   hruns         run u64                        -> s_hrunhead_t, cityz, the run
 *                                                  (the schema-5 record)
 * and from schema 7 hruns lives in a file of its own, the LMDB environment
 * in the store's folder history/ (its one database "hruns", same keys and
 * records); the store's own hruns is left empty and meta hist_runs holds
 * the number of the newest run a city record may name.
 *
 * Records are native-endian C structs copied with memcpy (LMDB values are
 * not aligned); a store file is not portable across byte orders, like LMDB's
 * own file. */
#ifndef GLCI_STORE_INT_H
#define GLCI_STORE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "glci_mdb.h"
#include "glci_store.h"

/* Schema 2 (SPEC §7): city records know when the city was added and when
 * its history last changed, history entries may be retractions and carry
 * an operator's name and reason, and rank-view entries say whether an
 * index is reported (the editions' tables are added databases, above). A
 * schema-1 store is upgraded when it is opened for writing (glci_store.c,
 * s_upgrade_txn) and read as it is when opened read-only.
 * Schema 3 (flat in indicators): a result is its head in results and its
 * present slots in the added database slots (glci_store_result.c); older
 * stores' whole blocks are converted by a writable open, read as they are
 * by a read-only one.
 * Schema 4 (membership over time): every revocation and reinstatement is
 * logged in the added database members, with its time, so that "active
 * at T" is known exactly (glci_store_member_at). The number moved because
 * a program of schema 3 would change a city's state without logging it;
 * it refuses the store instead. Nothing else changes. */
/* Schema 5 (history as runs): a history record holds the entries of
 * consecutive numbers of one city that one transaction wrote
 * (glci_store_history.c), one put per city and transaction instead of
 * one per value. A program of schema 4 would read a run as one entry; it
 * refuses the store instead. A writable open rewrites older history as
 * runs; a read-only one reads its records as single entries.
 * Schema 6 (history in the order written): the runs move to the added
 * database hruns, keyed by one number for the whole store that grows
 * with each run, so a commit appends its history at the right edge of
 * one tree instead of writing one leaf per city; each run names the
 * city's run before it and the city record its newest (hist_last), so a
 * city's history is a chain walked back from its record. A writable open
 * moves older history there; a read-only one reads it where it is.
 * Schema 7 (history in a file of its own): hruns moves to the environment
 * in history/, so the file the state's pages are rewritten in stays the
 * size of the state, not of everything ever received (docs/PERFORMANCE.md).
 * An ingest commits its runs there first, then the state that names them;
 * runs above meta hist_runs are a commit's that did not complete, named by
 * nothing, and the next ingest writes over them. A program of schema 6
 * would find no history; it refuses the store instead. */
#define GLCI_STORE_SCHEMA 7u

/* The history file's folder in the store's (schema 7). */
#define S_HIST_DIR "history"

/* What the history file's writer keeps in the page cache of what it
 * appended: the last 8 MiB (a few commits' runs and the tree's right edge);
 * below that its pages are dropped, 16 MiB at a time, after the commit
 * that gathers them (glci_mdb_drop_written). */
#define S_HIST_CACHE_KEEP ((uint64_t)8 << 20)


enum {
    S_DB_META,
    S_DB_CITIES,
    S_DB_KEYS,
    S_DB_STREAMS,
    S_DB_BATCHES,
    S_DB_OBS,
    S_DB_HISTORY,
    S_DB_RESULTS,
    S_DB_RANK,
    S_DB_PERIODS,
    S_DB_REJECTS,
    S_DB_CITY_REJECTS,
    S_DB_INVITES,             /* the first database added after the first release */
    S_DB_REFUSED,
    S_DB_EDITIONS,            /* the reporting cycle's editions */
    S_DB_EDITION_ROWS,
    S_DB_SLOTS,               /* schema 3: a result's indicator slots */
    S_DB_MEMBERS,             /* schema 4: each city's membership changes */
    S_DB_HRUNS,               /* schema 6: the history, in the order written */
    S_DB_COUNT
};

/* The databases every store has had from the first release; the rest are
 * created when a store is first opened for writing. */
#define S_DB_FIRST_ADDED S_DB_INVITES

extern const char *const glci_store_db_names[S_DB_COUNT];

/* Batch hashes kept per stream (to tell a true duplicate from a stream
 * reused with other content). */
#define GLCI_STORE_HASH_KEEP 64u
#define GLCI_STORE_HASH_LEN GLCI_STORE_BATCH_HASH_LEN

/* Bytes of a rejected observation's indicator kept in the rejects log
 * (escaped): any id, however long, is logged recognisably. */
#define GLCI_REJECT_IND_KEEP 200u

/* Longest cityz prefix. */
#define S_CITYZ_MAX (GLCI_CITY_ID_MAX + 1)

typedef struct {
    uint64_t observations;    /* applied values, revisions included; also the
                                 next history number of the city */
    uint64_t rejects;
    uint64_t batches;
    int64_t last_seen;
    uint32_t n_keys;
    uint32_t active;
    char country[8];
    char name[GLCI_CITY_NAME_MAX + 1];
    /* schema 2 */
    int64_t added;            /* when it was registered; 0: before schema 2 */
    int64_t last_change;      /* no history entry of the city was received
                                 later than this (an upper bound) */
    /* schema 6 */
    uint64_t hist_last;       /* the number of its newest run in hruns; 0: none */
} s_cityrec_t;

/* Bytes of a schema-1 city record: the fields before `added`; of a
 * schema-2 to 5 one: the fields before `hist_last`. */
#define S_CITYREC_V1_SIZE offsetof(s_cityrec_t, added)
#define S_CITYREC_V2_SIZE offsetof(s_cityrec_t, hist_last)

typedef struct {
    double value;
    uint64_t hist_no;         /* the history entry that brought it */
} s_obsrec_t;

typedef struct {
    int32_t period;
    uint32_t source_len;      /* bytes of source after the record, then NUL */
    double value;
    int64_t received;
    int64_t observed_at;
    uint64_t stream, seq;
    uint32_t index;           /* position in its batch */
    uint32_t ind;             /* indicator (framework index) */
} s_histrec_t;

/* A history entry is s_histrec_t, the source text and a NUL; from schema 2
 * it may go on with a flags byte (S_HIST_*) and, with S_HIST_OPERATOR, the
 * operator's name, the SUDO_USER and the reason, each NUL-terminated. A
 * plain value delivered by an agent has no extension (the schema-1 form). */
#define S_HIST_RETRACT  0x1u      /* a revision without a value */
#define S_HIST_OPERATOR 0x2u      /* written by `glci correct|retract` */

/* From schema 5 a history record is a run: the entries of consecutive
 * numbers of one city written in one transaction, keyed by the first
 * entry's number. The value is the count n (u32), the end of each entry
 * as an offset from the value's start (u32 each), then the n entries in
 * number order, each in the form above (glci_store_history.c). A run
 * holds at most S_HIST_RUN_MAX entries and S_HIST_RUN_BYTES bytes, so a
 * huge batch makes several records, never a multi-megabyte value; one
 * entry alone always makes a run. Before schema 5 a record is one entry. */
#define S_HIST_RUN_MAX 512u
#define S_HIST_RUN_BYTES 65536u
#define S_HIST_RUN_HEAD(n) (4u + 4u * (size_t)(n))

/* From schema 6 a run is stored in hruns under its run number (big-endian
 * u64, from 1, one more than the last for each run written, appended):
 * this head, the city's id and NUL, then the run in the schema-5 form
 * (its ends counted from where the run begins). */
typedef struct {
    uint64_t prev;            /* the city's run before this one; 0: none */
    uint64_t first;           /* the number of its first entry */
} s_hrunhead_t;

/* A history entry decoded; strings point into the record. */
typedef struct {
    s_histrec_t h;
    const char *source;       /* "" when none */
    unsigned flags;           /* S_HIST_* */
    const char *op, *sudo, *reason;   /* "" unless S_HIST_OPERATOR */
} s_hist_t;

typedef struct {
    int64_t period;
    double value;
    int64_t received;
    uint64_t stream, seq;
    uint32_t index;
    uint8_t reason, has_period, has_value, reserved;
    uint16_t city_len, ind_len, msg_len, reserved2;   /* each string + NUL follows */
} s_rejrec_t;

/* An enrolment invitation (glci_store_keys.c). */
enum { S_INV_OPEN = 0, S_INV_USED = 1, S_INV_WITHDRAWN = 2 };
/* Why an invitation was withdrawn: by the operator (`glci city invite`,
 * with or without --withdraw) or by the city's revocation. */
enum { S_INV_BY_OPERATOR = 0, S_INV_BY_REVOCATION = 1 };
typedef struct {
    int64_t created, expires;
    int64_t closed;           /* used or withdrawn at; 0 while open */
    uint32_t state;           /* S_INV_* */
    uint32_t why;             /* with S_INV_WITHDRAWN: S_INV_BY_* (0 in older records) */
    unsigned char key[32];    /* with S_INV_USED: the key registered */
    char city[GLCI_CITY_ID_MAX + 1];
} s_inviterec_t;

/* One change of a city's membership (schema 4): from `at` on the city is
 * active (1) or revoked (0). Only changes are logged: a revocation of a
 * revoked city adds none, so the state before a city's first entry is the
 * opposite of that entry's. */
typedef struct {
    int64_t at;               /* the change's receive time (glci_store_stamp) */
    uint32_t active;
    uint32_t reserved;
} s_memberrec_t;

/* A refused key's record (glci_store_keys.c). */
typedef struct {
    int64_t first, last;
    uint64_t count;
    char addr[GLCI_STORE_ADDR_MAX + 1];
} s_refusedrec_t;

/* An edition's header. */
typedef struct {
    int32_t period;
    uint32_t n_rows;          /* cities with a result */
    uint32_t n_ranked;
    uint16_t who_len, sudo_len;   /* the strings after the record */
    int64_t as_of;
    int64_t published;
    unsigned char fw_hash[32];
} s_editionrec_t;

/* A chunk: the indicators focus[focus].ind[first .. first + n). */
typedef struct {
    uint32_t focus, first, n;
} glci_store_chunk_t;

struct glci_store {
    glci_mdb_t *mdb;
    glci_mdb_t *hmdb;         /* schema 7: the history file (DIR/history); NULL before */
    MDB_dbi hdbi;             /* its hruns */
    MDB_dbi dbi[S_DB_COUNT];
    int has_db[S_DB_COUNT];   /* 0: an added database this (read-only) open lacks */
    glci_framework_t *fw;
    size_t rsize;             /* glci_result_size(fw) */
    size_t hsize;             /* glci_store_head_size(fw) */
    glci_store_chunk_t *chunks;   /* the slots' chunks (glci_store_result.c) */
    uint32_t n_chunks;
    uint32_t *focus_chunk;    /* focus f's chunks: [focus_chunk[f], focus_chunk[f + 1]) */
    uint32_t *ind_chunk;      /* the chunk of each indicator */
    _Atomic(void *) ingest_cache;     /* the last ingest's scratch (glci_store_ingest.c) */
    char *dir;
    uint32_t schema;
    uint32_t schema_opened;   /* meta/schema as the open found it (before an upgrade) */
    uint64_t rejects_keep;    /* rejects kept per city (glci_store_set_rejects_keep) */
};

struct glci_view {
    glci_store_t *st;
    MDB_txn *txn;
    MDB_txn *htxn;            /* the history file's snapshot, begun when first read */
    void *scratch;            /* aligned copy of a result for callbacks */
    void **owned;             /* copies handed out until the view ends */
    size_t n_owned, cap_owned;
};

/* ---- Keys -------------------------------------------------------------- */

/* Writes id + NUL at p; returns the bytes written. */
size_t glci_store_cityz(unsigned char *p, const char *id);

size_t glci_store_obs_key(unsigned char *k, const char *city, uint32_t ind, int32_t period);
/* History is keyed by the city's own counter, not by indicator: the values
 * of one ingest land as one run at the end of each city's range (few pages
 * per city) instead of one page per (city, indicator). A history query
 * filters the city's range by indicator. */
size_t glci_store_hist_key(unsigned char *k, const char *city, uint64_t no);
size_t glci_store_result_key(unsigned char *k, const char *city, int32_t period);
size_t glci_store_rank_key(unsigned char *k, int32_t period, double index, const char *city);

/* A rank-view value: the coverage f64, the cityz and, from schema 2, a
 * flags byte: GLCI_RANK_REPORTED when the result holds a value of its own
 * period (the default-period rule counts those without reading results;
 * glci_result_reported). glci_store_rank_val writes one into v (at least
 * 9 + S_CITYZ_MAX bytes) and returns its size; glci_store_rank_val_decode
 * reads either form: 0 and *reported 1, 0, or -1 for a schema-1 entry
 * without the byte; ECORRUPT. */
#define GLCI_RANK_REPORTED 0x1u
size_t glci_store_rank_val(unsigned char *v, double coverage, const char *city, int reported);
int glci_store_rank_val_decode(const MDB_val *d, double *coverage, const char **city,
                               int *reported);

/* Calls each(ctx, city, reported) for every entry of period P's rank view
 * (the cities with an index), in rank order; reported: the entry's flag
 * (glci_result_reported), read from the result for a schema-1 entry.
 * Stops at each's non-zero value and returns it; else 0, ECORRUPT, EIO. */
int glci_store_rank_each(glci_view_t *v, int32_t period,
                         int (*each)(void *ctx, const char *city, int reported), void *ctx);

/* The rank view's 8 key bytes for an index: they sort (memcmp) in rank
 * order, higher index first; equal indices give equal keys
 * (glci_store_rank.c). */
void glci_store_rank_key_encode(double index, unsigned char out[8]);
double glci_store_rank_key_decode(const unsigned char key[8]);

/* Ends a cursor walk: the callback's own non-zero value cb wins, untouched;
 * running off the end (MDB_NOTFOUND) is success; anything else is mapped
 * to a store code. Closes cur. */
int glci_store_walk_end(MDB_cursor *cur, int rc, int cb);

/* Calls each(ctx, id, rec) for every city in id order (rec a decoded copy,
 * id terminated, both valid during the call). Stops at each's non-zero
 * value and returns it; else 0, ECORRUPT or EIO. */
int glci_store_each_city(glci_store_t *st, MDB_txn *txn,
                         int (*each)(void *ctx, const char *id, const s_cityrec_t *rec),
                         void *ctx);

/* Copies the stored result of (city, P) into dst (st->rsize bytes,
 * aligned; either stored form): 1, 0 when there is none, or a negative
 * code (ECORRUPT, ESCHEMA, EIO). */
int glci_store_result_read(glci_store_t *st, MDB_txn *txn, const char *city, int32_t period,
                           void *dst);

/* Calls each(ctx, city, rec) for every city with a result for period, in
 * id order, rec pointing at the stored record in the map (valid during the
 * call; not aligned; a whole block or a head: either begins with the header
 * and the nodes, glci_store_result_decode gives the whole result); the cities named in skip[0..n_skip) (sorted by
 * strcmp) are passed over without reading their results. Stops at each's
 * non-zero value and returns it; else 0, ECORRUPT or EIO. */
int glci_store_each_result(glci_view_t *v, int32_t period, const char *const *skip,
                           size_t n_skip,
                           int (*each)(void *ctx, const char *city, const MDB_val *rec),
                           void *ctx);

/* ---- Results: head and slots (glci_store_result.c) ----------------------- */

/* Slots per chunk record at most: 384 bytes, a tenth of a page. */
#define GLCI_STORE_CHUNK 16u

/* Bytes after the header and nodes in a head: n_own u32, 0 u32. */
#define S_HEAD_TAIL 8u

/* Bytes of a stored head of fw: the header, the area and focus nodes and
 * the tail; it depends on the areas and focus areas, not the indicators. */
size_t glci_store_head_size(const glci_framework_t *fw);

/* The slots key of (city, P, chunk); k holds S_CITYZ_MAX + 6. */
size_t glci_store_slot_key(unsigned char *k, const char *city, int32_t period, uint32_t chunk);

/* Fills st's chunk tables from st->fw (at open); released at close. */
void glci_store_chunks_init(glci_store_t *st);
void glci_store_chunks_release(glci_store_t *st);

/* The slots record of chunk c of r into out (GLCI_STORE_CHUNK slots):
 * returns its size, or 0 when none of its slots is present (no record). */
size_t glci_store_chunk_encode(glci_store_t *st, const glci_result_t *r, uint32_t c,
                               glci_slot_t *out);

/* Copies the slots record v of chunk c into r's slots. 0 or ECORRUPT (no
 * such chunk, or the size is not the chunk's). */
int glci_store_chunk_decode(glci_store_t *st, uint32_t c, const MDB_val *v, glci_result_t *r);

/* The present slots of r that hold a value of r's own period. */
uint32_t glci_store_result_own(const glci_framework_t *fw, const glci_result_t *r);

/* A head record d (st->hsize bytes) into dst (st->rsize bytes, aligned):
 * header and nodes copied, every slot absent; *own (may be NULL) gets its
 * n_own. */
void glci_store_head_decode(glci_store_t *st, const MDB_val *d, glci_result_t *dst,
                            uint32_t *own);

/* Writes the head of r with n_own own into out (st->hsize bytes); returns
 * st->hsize. */
size_t glci_store_head_encode(glci_store_t *st, const glci_result_t *r, uint32_t own,
                              unsigned char *out);

/* The result whose results record of (city, P) is d, into dst (st->rsize
 * bytes, aligned): a whole block of schema 1 or 2 is copied, a head gets
 * its slots read from slots in txn; *n_slots (may be NULL) the slot
 * records read. 0, ECORRUPT (neither size, or a slot record that does not
 * decode), ESCHEMA (a head this read-only open of an older store cannot
 * read the slots of), EIO. */
int glci_store_result_decode(glci_store_t *st, MDB_txn *txn, const char *city, int32_t period,
                             const MDB_val *d, glci_result_t *dst, size_t *n_slots);

/* Stores the whole result r of city in the schema-3 form: each present
 * slot, then the head (replacing a record of the older form). 0 or an
 * LMDB code. */
int glci_store_result_put(glci_store_t *st, MDB_txn *txn, const char *city,
                          const glci_result_t *r);

/* Orders a snapshot's rows as a league table by the index (ranked by
 * glci_rank_cmp, then the unranked by id) and sets their ranks and
 * n_ranked (glci_store_rank.c). */
void glci_store_snapshot_rank(glci_snapshot_t *s);

/* The results of period P as of Unix time as_of, ranked, into *out, in
 * txn (glci_store_asof.c; glci_view_asof). honest: recompute every city
 * from its history, never taking a stored result (verify). htxn: the
 * caller's history snapshot slot (glci_store_hist_open), which the walks
 * share, so that a thread never holds two snapshots of the history file
 * (a second begin that met a grown map would wait for the first); NULL:
 * one of its own, ended before the return. */
int glci_store_asof_snapshot(glci_store_t *st, MDB_txn *txn, MDB_txn **htxn, int32_t period,
                             int64_t as_of, int honest, glci_snapshot_t *out);

/* The default period as of as_of in txn (glci_view_asof_default_period);
 * htxn as above. */
int glci_store_asof_default(glci_store_t *st, MDB_txn *txn, MDB_txn **htxn, int64_t as_of,
                            glci_period_choice_t *out);

/* The header of edition name in txn (glci_view_edition). */
int glci_store_edition_get(glci_store_t *st, MDB_txn *txn, const char *name, glci_edition_t *out);

/* The rows of edition name in txn (glci_view_edition_rows). */
int glci_store_edition_rows(glci_store_t *st, MDB_txn *txn, const char *name,
                            glci_snapshot_t *out);

/* Orders a snapshot by the ranks it holds (ranked by rank, ties by id,
 * then the unranked by id) and counts n_ranked (glci_store_rank.c). */
void glci_store_snapshot_order(glci_snapshot_t *s);

/* LMDB or errno code (or a store code, passed through) -> GLCI_STORE_E*:
 * the one mapping of the helper layer's codes. MDB_MAP_FULL and ENOSPC ->
 * ENOSPC; MDB_NOTFOUND and ENOENT -> ENOENT; MDB_CORRUPTED,
 * MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_VERSION_MISMATCH, MDB_BAD_VALSIZE ->
 * ECORRUPT; EACCES, EROFS -> ERDONLY; ENAMETOOLONG -> EINVAL; else EIO. */
int glci_store_code(int rc);

/* ---- Records ----------------------------------------------------------- */

/* Reads the city record of id in txn. 0, ENOCITY, ECORRUPT. */
int glci_store_city_get(glci_store_t *st, MDB_txn *txn, const char *id, s_cityrec_t *out);

/* Decodes a city record of either schema into *out (a schema-1 record
 * has added 0 and last_change = last_seen, which no receive time of its
 * history exceeds). 0 or ECORRUPT. */
int glci_store_city_decode(const MDB_val *v, s_cityrec_t *out);

/* The public form of a city record (id: idlen bytes, not terminated). */
void glci_store_city_out(const char *id, size_t idlen, const s_cityrec_t *rec, glci_city_t *out);

/* Decodes a history record. 0 or ECORRUPT. */
int glci_store_hist_decode(const MDB_val *v, s_hist_t *out);

/* ---- History (glci_store_history.c) --------------------------------------- */

/* A walk of one city's history entries in number order, whatever the
 * store's schema: every reader of the history database goes through it.
 * A value type: open, seek/next/find, close. */
typedef struct {
    MDB_cursor *cur;
    unsigned char pk[S_CITYZ_MAX];  /* the city's key prefix, cityz */
    size_t plen;
    int runs;                 /* 0: single entries; 1: runs by city (schema 5);
                                 2: chained runs in hruns (schema 6) */
    int state;                /* internal: where the cursor stands */
    MDB_val d;                /* the record being read (a run: from its count) */
    uint64_t first;           /* its first entry's number */
    uint32_t n, i;            /* its entries; the next one to give */
    /* schema 6: the city's runs, oldest first, read back from its record */
    MDB_txn *txn;
    MDB_dbi dbi;
    struct glci_hist_link {
        uint64_t no;          /* the run's number in hruns */
        uint64_t first;       /* its first entry's number */
    } *chain;
    size_t n_chain, ci;       /* how many; the one loaded, or to load next */
    int broken;               /* the chain ended at a run that is missing or
                                 whose head does not parse: told once by the
                                 next entry of a walk (not by a find) */
} glci_hist_iter_t;

/* Opens a walk of city's history in txn, positioned at its first entry.
 * The record form is the store's schema's; a handle that opened an older
 * store read-only and meets one a writable open has since upgraded gets
 * ESCHEMA ("reopen"). From schema 7 the runs are read in a snapshot of
 * the history file: *htxn, begun by the first walk that needs it (*htxn
 * NULL) after txn was, so that it holds every run txn's records name;
 * the caller keeps it for its other walks and ends it after txn's last
 * (glci_store_hist_txn_end). 0, ESCHEMA, ECORRUPT, EIO. Close the walk in
 * every case after a 0 (glci_store_hist_close). */
int glci_store_hist_open(glci_store_t *st, MDB_txn *txn, MDB_txn **htxn, const char *city,
                         glci_hist_iter_t *it);

/* meta/schema as txn sees it (0 when absent or of the wrong size): what
 * an upgrade or a copy checks against what the open found. */
uint32_t glci_store_schema_in(glci_store_t *st, MDB_txn *txn);

/* Ends a history snapshot glci_store_hist_open began; accepts NULL. */
void glci_store_hist_txn_end(glci_store_t *st, MDB_txn **htxn);

/* Positions the walk so that the next entry given is number `from`, or
 * the first one after it. 0 or a store code. */
int glci_store_hist_seek(glci_hist_iter_t *it, uint64_t from);

/* The next entry: 1 with *no its number and *entry its bytes (in the map,
 * valid until the transaction ends; glci_store_hist_decode reads them), 0
 * after the city's last entry, or a negative code. ECORRUPT means the
 * record at the walk does not parse as a run or has a key of the wrong
 * shape; the walk has stepped past it, so a caller may go on (verify)
 * or stop. */
int glci_store_hist_next(glci_hist_iter_t *it, uint64_t *no, MDB_val *entry);

/* Entry number `no` of the city: 1 with *entry, 0 when there is none, or a
 * negative code; the walk goes on after it. */
int glci_store_hist_find(glci_hist_iter_t *it, uint64_t no, MDB_val *entry);

/* Ends the walk (its cursor); accepts one never opened (zeroed). */
void glci_store_hist_close(glci_hist_iter_t *it);

/* Whether an entry of len bytes may join a run of n entries holding body
 * bytes of entries: the one rule of a run's bound, for the ingest and
 * the upgrade alike (an empty run takes any entry). */
int glci_store_hist_run_fits(size_t n, size_t body, size_t len);

/* Writes a run's head at p: n, then each entry's end, ends[i] being the
 * end of entry i counted from the first entry's start. Returns
 * S_HIST_RUN_HEAD(n). */
size_t glci_store_hist_run_head(unsigned char *p, uint32_t n, const uint32_t *ends);

/* Schema 4 -> 5, inside the upgrade's write transaction: every history
 * record (one entry each) rewritten in place as runs of up to the bound,
 * city by city, with one run's bytes in memory at a time. 0 or a code. */
int glci_store_hist_upgrade(glci_store_t *st, MDB_txn *txn);

/* Schema 5 -> 6, inside the upgrade's write transaction: every run moved
 * from history to hruns, city by city (its runs chained, its record given
 * its newest), and history emptied. 0 or a code. */
int glci_store_hist_upgrade6(glci_store_t *st, MDB_txn *txn);

/* Schema 6 -> 7, a step of its own after the state's upgrade to 6 has
 * committed, inside the state's write transaction txn: every run of the
 * state's hruns copied to the history file (emptied first: a copy a crash
 * interrupted is made again) and committed there, then, in txn, the
 * state's hruns emptied and meta hist_runs set to the newest run. 0 or a
 * code. */
int glci_store_hist_upgrade7(glci_store_t *st, MDB_txn *txn);

/* Parses a schema-6 run record (k, d) of hruns: its head, its city (the
 * NUL-terminated id in the value, *city, *clen bytes without the NUL) and
 * where the run lies (*run; its own form is not checked here). 0 or
 * ECORRUPT. */
int glci_store_hrun_parse(const MDB_val *k, const MDB_val *d, uint64_t *no, s_hrunhead_t *head,
                          const char **city, size_t *clen, MDB_val *run);

/* The receive time to record for a write at `now`: never at or before the
 * as-of time of a published edition (meta sealed_until), so that what an
 * edition froze stays the as-of recomputation at its time. */
int glci_store_receive_time(glci_store_t *st, MDB_txn *txn, int64_t now, int64_t *out);

/* glci_store_receive_time for a write that is not an ingest (a city
 * registered, invited, revoked or reinstated), also moving meta
 * last_receive when the time is ahead of it, so that "as of now" holds the
 * write. */
int glci_store_stamp(glci_store_t *st, MDB_txn *txn, int64_t now, int64_t *out);

/* Moves meta last_receive (the store's clock) to t when t is ahead of it:
 * a receive time just recorded, which "as of now" must hold. 0 or an LMDB
 * code. */
int glci_store_clock_to(glci_store_t *st, MDB_txn *txn, int64_t t);

/* Whether city id (its record rec) was a member at Unix time t: added at
 * or before t and active then, by its membership log (glci_store.c):
 * the state the last change at or before t (in the order the changes were
 * made) set; with no such change, the state before its first change; with
 * no change logged (or a store without the log), its state now. */
int glci_store_member_at(glci_store_t *st, MDB_txn *txn, const char *id,
                         const s_cityrec_t *rec, int64_t t, int *out);

/* Withdraws city's open invitations at now, for why (S_INV_BY_*); with
 * S_INV_BY_OPERATOR also drops records closed (or expired) more than 90
 * days ago (a revocation only withdraws); *n: how many were withdrawn
 * (glci_store_keys.c). 0 or an LMDB code. */
int glci_store_invites_withdraw(glci_store_t *st, MDB_txn *txn, const char *city, int64_t now,
                                uint32_t why, size_t *n);

/* "Now" as the store knows it: now, or the latest receive time recorded
 * (meta last_receive) when the sealing above put that ahead of the clock. */
int glci_store_now(glci_store_t *st, MDB_txn *txn, int64_t now, int64_t *out);

/* The value of the keys database for a key of city registered at added:
 * cityz, added, last used (0). Returns its length; v must hold
 * S_CITYZ_MAX + 16 bytes. */
size_t glci_store_keyval(unsigned char *v, const char *city, int64_t added, int64_t last_used);

/* Reads a keys value: the owner's id (copied into city), and the times
 * (0 when the record predates them). 0 or ECORRUPT. */
int glci_store_keyval_parse(const MDB_val *v, char city[GLCI_CITY_ID_MAX + 1], int64_t *added,
                            int64_t *last_used);

/* Frees the ingest scratch the handle keeps (at close). */
void glci_store_ingest_cache_free(glci_store_t *st);

/* Moves the auth generation (every change to cities or keys). */
int glci_store_bump_auth(glci_store_t *st, MDB_txn *txn);

/* A write callback's own "decided, nothing to commit": glci_mdb_write
 * aborts and hands it back; never an LMDB or store code. */
#define S_TXN_NOCOMMIT (-1000)

/* Meta u64 counters (absent = 0). */
int glci_store_meta_u64(glci_store_t *st, MDB_txn *txn, const char *name, uint64_t *out);
int glci_store_meta_put_u64(glci_store_t *st, MDB_txn *txn, const char *name, uint64_t v);

#endif
