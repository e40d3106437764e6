/* The collector's store: one LMDB environment holding the embedded
 * framework, cities and their keys, exactly-once stream marks, current
 * observations, full history, per-(city, period) index results, a rank view
 * per period, the rejects log and per-city counters. See docs/STORE.md.
 *
 * This is the only interface to the data. It knows nothing of ZeroMQ.
 *
 * Errors, one way for the whole store: every function that can fail returns
 * 0 or a negative GLCI_STORE_E* code, glci_store_strerror() names it, and
 * those whose failure has something to name (a directory, a city, a key)
 * take err/errlen (err may be NULL) and write one line naming it there.
 *
 * Threads: one glci_store_t may be used by one thread at a time, except
 * glci_store_city_by_key, glci_store_key_check and
 * glci_store_auth_generation, which may also run in other threads at the
 * same time (e.g. a ZAP handler while the main thread ingests). A thread
 * must not hold a view while it runs a write (ingest, city admin) on the
 * same handle: growing the map needs every read transaction ended. Many
 * processes may open the same store: one writer at a time (LMDB serialises
 * them; the collector, or the CLI for an admin command) and any number of
 * read-only readers, which survive the writer growing the map.
 *
 * Lifetime of data from a view: every pointer a view hands out (results,
 * strings in rows) points into LMDB's memory map and is valid only until the
 * view ends (glci_view_end) -- copy what must outlive it. */
#ifndef GLCI_STORE_H
#define GLCI_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "glci_index.h"
#include "glci_obs.h"

enum {
    GLCI_STORE_OK        = 0,
    GLCI_STORE_ENOENT    = -1,   /* no store at DIR */
    GLCI_STORE_EEXIST    = -2,   /* a store (or the thing added) already exists */
    GLCI_STORE_ESCHEMA   = -3,   /* store made by a newer (unknown) schema */
    GLCI_STORE_ENOCITY   = -4,   /* no such city */
    GLCI_STORE_ENODATA   = -5,   /* no data for that period / indicator */
    GLCI_STORE_ENOSPC    = -6,   /* map cannot grow further or disk full */
    GLCI_STORE_ECORRUPT  = -7,   /* a record does not decode */
    GLCI_STORE_EINVAL    = -8,   /* bad argument (id syntax, key, period) */
    GLCI_STORE_ENOTEMPTY = -9,   /* backup destination is not empty */
    GLCI_STORE_EVERIFY   = -10,  /* verify found differences */
    GLCI_STORE_EIO       = -11,  /* other LMDB or system error */
    GLCI_STORE_ERDONLY   = -12   /* write attempted on a read-only open */
};
const char *glci_store_strerror(int code);

typedef struct glci_store glci_store_t;

#define GLCI_STORE_RDONLY   0x1u   /* open read-only (CLI queries) */

typedef struct {
    unsigned flags;           /* GLCI_STORE_RDONLY */
    size_t map_size;          /* initial map size in bytes; 0: 64 MiB */
    size_t map_max;           /* the map never grows past this; 0: 1 TiB */
} glci_store_opts_t;

/* Creates a new store in dir (created if missing; must hold no store) with
 * the framework file at framework_path embedded (loaded and checked first).
 * opts may be NULL (defaults); its flags are ignored. Returns 0, or EEXIST
 * (dir already holds a store), EINVAL (NULL argument, path too long, or the
 * framework does not load: err gets its FILE:LINE message), ENOENT (the
 * framework file cannot be read), ERDONLY/EIO (dir cannot be made or
 * written), ENOSPC; err gets a one-line message. Keeps nothing open. */
int glci_store_create(const char *dir, const char *framework_path,
                      const glci_store_opts_t *opts, char *err, size_t errlen);

/* Opens an existing store. Runs mdb_reader_check. ENOENT if dir has no
 * store, ESCHEMA if it was written by a newer schema. */
int glci_store_open(const char *dir, const glci_store_opts_t *opts,
                    glci_store_t **out, char *err, size_t errlen);

/* Closes and sets *self to NULL; accepts NULL. */
void glci_store_close(glci_store_t **self);

/* The embedded framework; owned by the store, valid until close. */
const glci_framework_t *glci_store_framework(const glci_store_t *st);

/* Rejected observations the log keeps per city by default. */
#define GLCI_STORE_REJECTS_KEEP 10000

/* Sets how many rejected observations the log keeps per city (0: the
 * default, GLCI_STORE_REJECTS_KEEP). Past it, each new reject of a city
 * deletes that city's oldest in the same transaction, counted per city and
 * in glci_store_status_t.rejects_dropped: a city flooding bad rows costs
 * its own old rejects, never another city's, and the log a bounded size. */
void glci_store_set_rejects_keep(glci_store_t *st, size_t keep);

/* Clears stale reader slots (call periodically from a long-running writer).
 * Returns the number cleared or a negative code. */
int glci_store_reader_check(glci_store_t *st);

/* ---- Cities (admin; each call is one write transaction) --------------- */

/* City ids: GLCI_CITY_ID_MAX (glci_limits.h) bytes of [a-z0-9][a-z0-9._-]*. */
#define GLCI_CITY_NAME_MAX 127
#define GLCI_COUNTRY_MAX   7

typedef struct {
    char id[GLCI_CITY_ID_MAX + 1];
    char name[GLCI_CITY_NAME_MAX + 1];
    char country[GLCI_COUNTRY_MAX + 1];
    int active;
    uint64_t observations;    /* applied values, revisions included */
    uint64_t rejects;
    uint64_t batches;
    int64_t last_seen;        /* Unix seconds of the last batch; 0 never */
    uint32_t n_keys;          /* registered public keys */
} glci_city_t;

/* 1 if id is a valid city id. */
int glci_city_id_valid(const char *id);

/* The same as a rule with its message: 0, or EINVAL with "city id 'X' is
 * not valid (...)" in err. */
int glci_city_id_check(const char *id, char *err, size_t errlen);

/* The store's rules for a new city, without a store: the id, the name (1 to
 * 127 bytes of printable UTF-8) and the country (two letters, e.g. "ie";
 * written upper case into country_out, at least 3 bytes, may be NULL).
 * 0, or EINVAL with a line naming what is wrong in err ("country 'GB-SCT'
 * is not a two-letter ISO 3166-1 code"). glci_store_city_add applies the
 * same; a program checks with it before it opens a store. */
int glci_city_check(const char *id, const char *name, const char *country,
                    char *country_out, char *err, size_t errlen);

/* Registers a city with its agent's public key (Z85; NULL registers the
 * city without a key). EEXIST if the city or the key is already registered,
 * EINVAL for a bad id, name or country (glci_city_check) or key, ERDONLY.
 * err gets the line naming what is wrong. */
int glci_store_city_add(glci_store_t *st, const char *id, const char *name,
                        const char *country, const char *pubkey_z85,
                        char *err, size_t errlen);

/* Adds another key to a city (key rotation) / removes one. EINVAL for a
 * bad key, ENOCITY for an unknown city, EEXIST if the key is registered
 * already (add), ENOENT if it is not registered to that city (remove). */
int glci_store_city_key_add(glci_store_t *st, const char *id, const char *pubkey_z85,
                            char *err, size_t errlen);
int glci_store_city_key_remove(glci_store_t *st, const char *id, const char *pubkey_z85,
                               char *err, size_t errlen);

/* Marks a city inactive: its keys are refused from then on (ZAP and every
 * following batch). ENOCITY if unknown. */
int glci_store_city_revoke(glci_store_t *st, const char *id, char *err, size_t errlen);

/* For authentication: the active city that owns this public key (32 raw
 * bytes). Returns 0 and copies the id, ENOCITY if the key is unknown or its
 * city revoked. A fresh read transaction: sees every committed change. */
int glci_store_city_by_key(glci_store_t *st, const unsigned char key[32],
                           char city[GLCI_CITY_ID_MAX + 1]);

/* For a connection already bound to a city: 0 if key (32 raw bytes) is
 * still registered to city and the city is active, ENOCITY otherwise. A
 * fresh read transaction (a few B-tree lookups). Like glci_store_city_by_key
 * and glci_store_auth_generation, may be called from any thread, also while
 * another thread runs an ingest on the same handle. */
int glci_store_key_check(glci_store_t *st, const unsigned char key[32],
                         const char *city);

/* A counter moved by every committed change to cities or keys (add,
 * revoke, key add/remove), by any process. A collector that caches its
 * connection -> city bindings re-checks them (glci_store_key_check) only
 * when this differs from the value it saw last. */
int glci_store_auth_generation(glci_store_t *st, uint64_t *gen);

/* ---- Ingest ------------------------------------------------------------ */

/* One batch from one (authenticated) city's stream. */
typedef struct {
    const char *city;         /* the authenticated city, never the payload's */
    uint64_t stream;
    uint64_t seq;             /* >= 1 */
    const glci_obs_t *obs;    /* judged one by one: glci_obs_check, then
                                 glci_framework_check; rejects are logged with
                                 the indicator and message escaped, so every
                                 stored text is printable, valid UTF-8 */
    size_t n_obs;
} glci_batch_t;

/* What the collector answers for one batch. status is APPLIED (stored now,
 * some observations may be rejected), DUPLICATE (seq <= mark: nothing
 * changed, ack again), GAP (seq > mark + 1: answer with expected) or
 * FORBIDDEN (city unknown or revoked: nothing stored). */
typedef struct {
    glci_batch_status_t status;
    uint64_t acked;           /* the stream's mark after this batch */
    uint64_t expected;        /* with GAP: acked + 1 */
    int content_differs;      /* DUPLICATE whose content differs from the batch
                                 applied under that seq (recent batches only) */
    size_t n_rejections;
    glci_rejection_t *rejections;   /* owned; glci_batch_result_release */
} glci_batch_result_t;

/* Frees r->rejections and zeroes n_rejections; the struct itself stays the
 * caller's. Accepts NULL and a result with no rejections; safe to call twice. */
void glci_batch_result_release(glci_batch_result_t *r);

/* Applies n batches in ONE durable write transaction, in order (a later
 * batch of the same stream sees the mark moved by an earlier one). For each
 * batch: dedupe by (city, stream, seq); validate each observation; store
 * the valid ones (current value + history with receive time `now`), log the
 * invalid ones as rejects; update the index results of the affected
 * periods incrementally and the rank view; move the mark. results[i]
 * answers batches[i]; they are meaningful only if this returns 0, i.e.
 * after the commit. On MDB_MAP_FULL the map is grown and the whole
 * transaction retried. ENOSPC if the map cannot grow (nothing applied). */
int glci_store_ingest(glci_store_t *st, const glci_batch_t *batches, size_t n,
                      int64_t now, glci_batch_result_t *results);

/* ---- Read views (a read-only transaction; see lifetime note above) --- */

typedef struct glci_view glci_view_t;

/* Begins a view: one read-only snapshot of the store, adopting a map grown
 * by another process. Returns 0 and *out (owned by the caller, end it with
 * glci_view_end before closing st), or a mapped LMDB error such as EIO
 * (*out NULL). Any number
 * of views may be open in other threads; this thread must not run a write
 * on st while it holds one. */
int glci_view_begin(glci_store_t *st, glci_view_t **out);

/* Ends the view and sets *self to NULL; accepts NULL and *self == NULL.
 * Every pointer the view handed out becomes invalid. */
void glci_view_end(glci_view_t **self);

typedef struct {
    uint32_t n_cities, n_active;
    uint64_t n_observations;  /* current (city, indicator, period) values */
    uint64_t n_history;       /* applied values, revisions included */
    uint64_t n_rejects;       /* observations ever rejected */
    uint64_t n_batches;
    int32_t first_period, last_period;   /* of data; 0 when none */
    int64_t last_ingest;      /* Unix seconds; 0 never */
    uint64_t size_bytes;      /* bytes in use */
    uint64_t map_bytes;       /* current map size of this handle (a reader's
                                 default map, not the store's) */
    uint32_t schema;
    uint64_t file_bytes;      /* size of the data file on disk; 0 if unknown */
    uint64_t rejects_dropped; /* of n_rejects, dropped from the log (per-city cap) */
} glci_store_status_t;

/* Fills *out (a plain copy, the caller's) with the store's counters as of
 * the view's snapshot. Returns 0, ECORRUPT (a counter does not decode) or
 * EIO. */
int glci_view_status(glci_view_t *v, glci_store_status_t *out);

/* The latest period that has any observation (not counting carried
 * periods). ENODATA on an empty store. */
int glci_view_latest_period(glci_view_t *v, int32_t *period);

/* Copies city id's record into *out (no pointers into the store). Returns
 * 0, ENOCITY (unknown or invalid id), ECORRUPT or EIO. */
int glci_view_city(glci_view_t *v, const char *id, glci_city_t *out);

/* Calls fn for each city in id order with a copy valid during the call;
 * stops early and returns fn's value unchanged if it returns non-zero.
 * Otherwise returns 0, ECORRUPT (a record does not decode) or EIO. */
int glci_view_cities(glci_view_t *v, int (*fn)(void *ctx, const glci_city_t *c),
                     void *ctx);

/* The highest applied sequence number of (city, stream). ENOCITY, or
 * ENODATA if the stream never had a batch applied. */
int glci_view_stream_mark(glci_view_t *v, const char *city, uint64_t stream,
                          uint64_t *mark);

/* ---- League tables (glci_store_rank.c) ----------------------------------
 *
 * Rank order is index/'s rule (glci_rank_cmp, glci_rank_assign: by score
 * descending; equal scores share a rank, 1, 2, 2, 4, and are listed by city
 * id); the store applies it to what it holds. The index is ranked from the
 * rank view that ingest keeps (a cursor walk, no sort); an area's or a
 * focus area's score from the period's results, ordered here. */

typedef enum { GLCI_RANK_INDEX, GLCI_RANK_AREA, GLCI_RANK_FOCUS } glci_rank_by_t;

typedef struct {
    uint32_t rank;            /* 1, 2, 2, 4...; 0 for an unranked city */
    const char *city;         /* valid until the view ends */
    double score;             /* what is ranked on (the index, or the area's or
                                 focus area's score); 0 when unranked */
    double index;             /* 0 when !has_index */
    int has_index;
    double coverage;
} glci_rank_row_t;

typedef struct {
    size_t ranked;            /* cities with a score to rank on */
    size_t unranked;          /* cities with a result for P but no such score
                                 (counted only when unranked rows are asked) */
} glci_league_counts_t;

#define GLCI_LEAGUE_UNRANKED 0x1u   /* also walk the unranked cities */

/* Walks the league table of period P by `by` (which: the area's or focus
 * area's index in the framework; ignored for the index): the ranked cities
 * in rank order, at most limit of them (0: all), then, with
 * GLCI_LEAGUE_UNRANKED, every city with a result for P but no score to
 * rank on, by id (rank 0). Stops early and returns fn's value when fn
 * returns non-zero. counts (may be NULL) receives the whole table's counts
 * even when limit cut the walk. By the index only the rows given to fn are
 * read (the rest of the ranked are counted from keys). Returns 0, EINVAL
 * (which out of range), ECORRUPT or EIO. */
int glci_view_league(glci_view_t *v, int32_t period, glci_rank_by_t by, uint32_t which,
                     size_t limit, unsigned flags,
                     int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx,
                     glci_league_counts_t *counts);

/* The number of ranked cities of period P by `by` (no row is read by the
 * index). 0, EINVAL, ECORRUPT, EIO. */
int glci_view_league_ranked(glci_view_t *v, int32_t period, glci_rank_by_t by,
                            uint32_t which, size_t *ranked);

/* The rank view of period P in rank order: glci_view_league by the index,
 * no limit, without the unranked. */
int glci_view_rank(glci_view_t *v, int32_t period,
                   int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx);

/* Calls fn for each city that has a result for period P (city id order),
 * ranked or not; r is an aligned copy valid only during the call. */
int glci_view_results(glci_view_t *v, int32_t period,
                      int (*fn)(void *ctx, const char *city, const glci_result_t *r),
                      void *ctx);

/* The stored result of (city, P). ENOCITY, or ENODATA if it has none.
 * *out is an aligned copy owned by the view, valid until the view ends. */
int glci_view_result(glci_view_t *v, const char *city, int32_t period,
                     const glci_result_t **out);

typedef struct {
    int32_t period;
    double value;
    int64_t received;         /* Unix seconds */
    int64_t observed_at;      /* 0 unknown */
    const char *source;       /* "" when none; valid until the view ends */
    uint64_t stream, seq;     /* the batch that brought it */
    int current;              /* 1 if it is the current value of its period */
} glci_history_row_t;

/* Every applied value of (city, indicator), oldest first. ENOCITY,
 * EINVAL for an unknown indicator. */
int glci_view_history(glci_view_t *v, const char *city, const char *indicator,
                      int (*fn)(void *ctx, const glci_history_row_t *row), void *ctx);

typedef struct {
    const char *city;
    const char *indicator;    /* as received, "" if absent */
    int64_t period;
    double value;
    int has_period, has_value;
    glci_reject_t reason;
    const char *message;
    int64_t received;
    uint64_t stream, seq;
    uint32_t index;           /* position in its batch */
} glci_reject_row_t;

/* Rejected observations, newest first, optionally of one city, at most
 * limit (0: all). */
int glci_view_rejects(glci_view_t *v, const char *city, size_t limit,
                      int (*fn)(void *ctx, const glci_reject_row_t *row), void *ctx);

/* ---- Verify and backup ------------------------------------------------- */

/* Recomputes every (city, period) result from the stored observations with
 * the engine's full path and compares it bit for bit with the stored
 * result, and the rank view with the results. fn (may be NULL) receives one
 * line per difference. Returns 0 if none, EVERIFY if any (count in
 * *n_diffs), another code on failure. */
int glci_store_verify(glci_store_t *st,
                      void (*fn)(void *ctx, const char *difference), void *ctx,
                      uint64_t *n_diffs);

/* Consistent compacted hot copy into dest (created if missing; must be
 * empty), then opens the copy and verifies it. ENOTEMPTY, EVERIFY. */
int glci_store_backup(glci_store_t *st, const char *dest, char *err, size_t errlen);

#endif
