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
    GLCI_STORE_ERDONLY   = -12,  /* write attempted on a read-only open */
    GLCI_STORE_EREVOKED  = -13,  /* the city is revoked (reinstate it first) */
    GLCI_STORE_EREMOVED  = -14,  /* data.mdb was removed under the open store:
                                    nothing can be written durably */
    GLCI_STORE_EBUSY     = -15   /* an upgrade refused: a collector runs on the
                                    store (one of its older schema) */
};
/* The last code of the list above (glci_store_code passes codes through). */
#define GLCI_STORE_ELAST GLCI_STORE_EBUSY
const char *glci_store_strerror(int code);

typedef struct glci_store glci_store_t;
typedef struct glci_view glci_view_t;     /* a read view: see "Read views" */

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
 * written), ENOSPC; err gets a one-line message. Keeps nothing open. A
 * failure leaves nothing of its own: the data and lock files it made are
 * removed, and so is dir when this call made it (folders it made above dir
 * stay), so the same call can succeed once the cause is gone. */
int glci_store_create(const char *dir, const char *framework_path,
                      const glci_store_opts_t *opts, char *err, size_t errlen);

/* Undoes a glci_store_create of dir that has just succeeded, for a caller
 * whose next step failed (glci init's key files): removes dir's data.mdb,
 * its lock.mdb when lock_made (there was none before the create, which
 * keeps one that was there, as this does), then dir itself when dir_made
 * (the caller made it: it did not exist before the create) and it is
 * empty. Only for a store no one has opened since; never for one in use. */
void glci_store_unmake(const char *dir, int dir_made, int lock_made);

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

/* The space the store takes, for a writer's metrics and health and for
 * glci_view_status: cheap (no transaction; LMDB's environment info and an
 * fstat of each file). */
/* One of the store's files: GLCI_STORE_FILE_STATE (data.mdb) or, from
 * schema 7, GLCI_STORE_FILE_HISTORY (history/data.mdb), each an LMDB map
 * of its own grown up to its own bound; the store is full when one is. */
enum { GLCI_STORE_FILE_STATE, GLCI_STORE_FILE_HISTORY, GLCI_STORE_FILES };
typedef struct {
    uint64_t used_bytes;      /* LMDB's high-water mark */
    uint64_t map_bytes;       /* the map as this handle has it now */
    uint64_t map_max_bytes;   /* the bound it never grows past */
    uint64_t file_bytes;      /* the file on disk */
    int linked;               /* 0 when the file was removed under the open store */
} glci_store_file_space_t;

typedef struct {
    /* the sums over the files (linked: all of them are) */
    uint64_t used_bytes;      /* as glci_view_status's size_bytes */
    uint64_t map_bytes;
    uint64_t map_max_bytes;
    uint64_t file_bytes;
    int linked;
    glci_store_file_space_t file[GLCI_STORE_FILES];
    unsigned n_files;         /* 1 before schema 7, else 2 */
} glci_store_space_t;

/* Fills *out. Returns 0, or EIO when the data file cannot be looked at
 * (*out then holds what could be read). */
int glci_store_space(glci_store_t *st, glci_store_space_t *out);

/* ---- A store an earlier release left (glci_store_compat.c) ------------ */

/* The schema the store had when it was opened, and the one it has now: a
 * writable open of an older store upgrades it for good (docs/STORE.md,
 * "Schema"), so the two differ exactly when this open did that, which a
 * caller should say (docs/OPERATIONS.md, "Upgrading"). */
uint32_t glci_store_schema_opened(const glci_store_t *st);
uint32_t glci_store_schema(const glci_store_t *st);

/* The modes of the store's folder and files that --check-config judges a
 * problem (docs/OPERATIONS.md, "Modes the checks judge"): name in the
 * store's folder ("" the folder itself), what the check calls it, the mode
 * bits that are a problem and the mode it tells the operator to set. The
 * one table both the check and glci_store_tighten read. */
typedef struct {
    const char *name;
    const char *what;
    unsigned bad;
    unsigned want;
} glci_store_mode_rule_t;

/* The table, *n entries; static storage. */
const glci_store_mode_rule_t *glci_store_mode_rules(size_t *n);

/* Called with each line glci_store_tighten has to say. */
typedef void (*glci_store_note_fn)(void *arg, const char *line);

/* Takes from the store's folder and files the modes --check-config judges
 * a problem (docs/OPERATIONS.md, "Modes the checks judge"), as a store the
 * first release made has them (data.mdb and lock.mdb 0644): data.mdb or
 * lock.mdb that group or others may write, or others read, is made 0600;
 * a folder group or others may write loses those write bits. Only what
 * this process's user owns is changed (another owner's store is left to
 * it), never through a symbolic link. For a writable open, once the
 * program that opened it will run, and BEFORE glci_store_open: each file
 * is opened and closed to be looked at, and closing any descriptor of
 * lock.mdb drops every POSIX lock this process holds on it -- those LMDB
 * takes to know it is not alone, so that another process opening the
 * store would reset the lock table under an open environment. Call it
 * only with no environment of dir open in this process. note (may be
 * NULL) gets one line per change ("store: DIR/data.mdb was mode 0644;
 * made it 0600") and per mode that could not be changed. Returns 0, or
 * EIO when one could not be changed (its line says which). */
int glci_store_tighten(const char *dir, glci_store_note_fn note, void *arg);

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
    int64_t added;            /* Unix seconds it was registered; 0 when it was
                                 registered before stores recorded it */
} glci_city_t;

/* glci_city_id_valid (the rule itself) is glci_obs.h's: the agent, which
 * cannot link the store, asks it too. */

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
 * city without a key). EEXIST if the city or the key is already registered
 * (a revoked city's line says to reinstate it instead), EINVAL for a bad
 * id, name or country (glci_city_check) or key, ERDONLY. err gets the line
 * naming what is wrong. A key is recorded with the time it was added. */
int glci_store_city_add(glci_store_t *st, const char *id, const char *name,
                        const char *country, const char *pubkey_z85,
                        char *err, size_t errlen);

/* Adds another key to a city (key rotation) / removes one. EINVAL for a
 * bad key, ENOCITY for an unknown city, EEXIST if the key is registered
 * already (add), EREVOKED if the city is revoked (add: a key for it would
 * be refused anyway; the line says to reinstate it first), ENOENT if it is
 * not registered to that city (remove). */
int glci_store_city_key_add(glci_store_t *st, const char *id, const char *pubkey_z85,
                            char *err, size_t errlen);
int glci_store_city_key_remove(glci_store_t *st, const char *id, const char *pubkey_z85,
                               char *err, size_t errlen);

/* Marks a city inactive: its keys are refused from then on (ZAP and every
 * following batch), and its open enrolment invitations are withdrawn in
 * the same transaction (a reinstatement never revives one). The change is
 * logged with its time, so tables as of an earlier time keep the city as
 * a member then (docs/CYCLE.md). ENOCITY if unknown. */
int glci_store_city_revoke(glci_store_t *st, const char *id, char *err, size_t errlen);

/* glci_store_city_revoke, also telling how many open invitations it
 * withdrew (*n_withdrawn, may be NULL; 0 on failure). */
int glci_store_city_revoke_invites(glci_store_t *st, const char *id, size_t *n_withdrawn,
                                   char *err, size_t errlen);

/* Takes a revoked city back: its keys are accepted again (ZAP and batches)
 * from the next connection on; the change is logged with its time (tables
 * as of an earlier time keep it revoked then). No invitation comes back:
 * `glci city invite` makes a new one. ENOCITY if unknown; 0 also when it was not
 * revoked (*was_revoked, may be NULL, says which). */
int glci_store_city_reinstate(glci_store_t *st, const char *id, int *was_revoked,
                              char *err, size_t errlen);

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

/* ---- Enrolment, key records, refused keys (glci_store_keys.c) ---------
 *
 * An invitation lets whoever holds its one-time secret register one key
 * for its city (SPEC section 9). The store keeps only a hash of the
 * secret: BLAKE2b-256 (libsodium crypto_generichash) of a domain label, the
 * city id and the secret. The secret is 128 random bits, so finding one
 * from its hash costs 2^128 tries whatever the hash's speed; a password
 * hash (Argon2) protects guessable secrets only, and would let anyone who
 * reaches the enrolment endpoint make the collector spend 64 MiB and a
 * tenth of a second per try. docs/STORE.md has the layout. */

#define GLCI_STORE_ADDR_MAX 63        /* bytes of a peer address kept */
#define GLCI_STORE_REFUSED_MAX 1000   /* refused keys kept by default */

typedef enum {
    GLCI_INVITE_OPEN = 0,
    GLCI_INVITE_USED,
    GLCI_INVITE_WITHDRAWN,
    GLCI_INVITE_EXPIRED            /* open, and past its expiry */
} glci_invite_state_t;

/* "open", "used", "withdrawn", "expired". */
const char *glci_invite_state_str(glci_invite_state_t s);

typedef struct {
    char city[GLCI_CITY_ID_MAX + 1];
    char id[17];              /* hex of the first 8 bytes of its hash: names it */
    glci_invite_state_t state;
    int64_t created, expires;
    int64_t closed;           /* used or withdrawn at; 0 */
    unsigned char key[32];    /* with USED: the key it registered */
} glci_invite_t;

/* Makes an invitation for city id, expiring at expires (> now), and writes
 * its secret into secret (GLCI_ENROL_SECRET_LEN bytes; the store keeps only
 * its hash). An open invitation of the same city is withdrawn in the same
 * transaction: one string is valid per city at a time. With name and
 * country (not NULL) the city is registered first, without a key, in the
 * same transaction (glci city add --invite; the rules and errors of
 * glci_store_city_add); without, it must exist. ENOCITY, EREVOKED (a
 * revoked city: reinstate it first), EINVAL (expires <= now, bad city
 * fields), EEXIST (with name: the city exists), ERDONLY; err names it.
 * Closed and expired invitations older than 90 days are dropped here. */
int glci_store_invite_add(glci_store_t *st, const char *id, const char *name,
                          const char *country, int64_t now, int64_t expires,
                          unsigned char *secret, glci_invite_t *out, char *err, size_t errlen);

/* Withdraws every open invitation of city id (expired ones too); *n gets
 * how many (0 is not an error). ENOCITY for an unknown city. */
int glci_store_invite_withdraw(glci_store_t *st, const char *id, int64_t now, size_t *n,
                               char *err, size_t errlen);

/* What an enrolment came to (glci_store_enrol). */
typedef enum {
    GLCI_ENROL_OK = 0,        /* the key is registered, the invitation used */
    GLCI_ENROL_NO_MATCH,      /* no invitation of that city has that secret */
    GLCI_ENROL_USED,
    GLCI_ENROL_WITHDRAWN,
    GLCI_ENROL_EXPIRED,
    GLCI_ENROL_CITY_REVOKED,
    GLCI_ENROL_KEY_TAKEN      /* the key is registered already */
} glci_enrol_outcome_t;

/* Enrolment: in ONE write transaction, looks up the invitation of city
 * with this secret; if it is open, not expired, and its city active,
 * registers key (32 raw bytes) for the city (added and last used now),
 * marks the invitation used by that key and moves the auth generation.
 * Returns 0 with *outcome (and msg, a line for the agent naming why when
 * it is not OK: used when, expired when, ...); nothing is written unless
 * *outcome is GLCI_ENROL_OK. A negative code when the store failed
 * (ERDONLY, ENOSPC, EIO...): nothing registered. inv (may be NULL)
 * receives the invitation found. */
int glci_store_enrol(glci_store_t *st, const char *city,
                     const unsigned char secret[GLCI_ENROL_SECRET_LEN],
                     const unsigned char key[32], int64_t now, glci_enrol_outcome_t *outcome,
                     glci_invite_t *inv, char *msg, size_t msglen);

/* Calls fn for each invitation, oldest first (state EXPIRED for open ones
 * past their expiry at now); with all 0 only the open, unexpired ones. A
 * copy valid during the call; fn's non-zero value stops the walk and is
 * returned. */
int glci_view_invites(glci_view_t *v, int64_t now, int all,
                      int (*fn)(void *ctx, const glci_invite_t *inv), void *ctx);

/* One registered key of a city. */
typedef struct {
    unsigned char key[32];
    int64_t added;            /* 0: registered before the store kept it */
    int64_t last_used;        /* the last handshake or batch recorded; 0 never */
} glci_city_key_t;

/* Calls fn for each key of city id, in key order. ENOCITY if unknown. */
int glci_view_city_keys(glci_view_t *v, const char *id,
                        int (*fn)(void *ctx, const glci_city_key_t *k), void *ctx);

/* A key the collector refused at the handshake (unknown, or its city
 * revoked). */
typedef struct {
    unsigned char key[32];
    char addr[GLCI_STORE_ADDR_MAX + 1];   /* the last peer address seen with it */
    int64_t first, last;      /* Unix seconds */
    uint64_t count;
} glci_key_refusal_t;

/* A key the collector admitted or took a batch from at time at. */
typedef struct {
    unsigned char key[32];
    int64_t at;
} glci_key_use_t;

/* The collector's batched record of key events, in ONE write transaction:
 * each use moves its key's last-used time forward (keys no longer
 * registered are skipped); each refusal is merged into the refused-keys
 * table (first seen kept, last seen and address taken, counts added), new
 * keys taking free room or, once the table holds bound entries (0:
 * GLCI_STORE_REFUSED_MAX), the place of the least recently seen. So the
 * table never holds more than bound keys, however many strangers knock.
 * refused[] is in the order of the keys' last sightings, oldest first:
 * times are whole seconds, and of keys last seen in the same second those
 * recorded before give way first, then these in their order.
 * ERDONLY, ENOSPC, EIO. */
int glci_store_key_record(glci_store_t *st, const glci_key_use_t *uses, size_t n_uses,
                          const glci_key_refusal_t *refused, size_t n_refused, size_t bound);

/* Calls fn for each refused key, most recently seen first; *total (may be
 * NULL) gets how many the table holds. */
int glci_view_refused(glci_view_t *v, int (*fn)(void *ctx, const glci_key_refusal_t *r),
                      void *ctx, size_t *total);

/* What the running collector says about itself, for `glci city add
 * --invite`: where it listens (its listen and enrol_listen settings, ""
 * when off) and the host name agents reach it by (remembered from the
 * operator's --host). glci_store_collector_put writes the fields that are
 * not NULL. */
typedef struct {
    char listen[256];
    char enrol_listen[256];
    char host[GLCI_ENROL_HOST_MAX + 1];
} glci_collector_info_t;

int glci_store_collector_put(glci_store_t *st, const char *listen, const char *enrol_listen,
                             const char *host);
int glci_view_collector(glci_view_t *v, glci_collector_info_t *out);

/* ---- Ingest ------------------------------------------------------------ */

#define GLCI_STORE_BATCH_HASH_LEN 16u

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
    const char *claimed_city; /* another city the payload names (NULL, "" or
                                 city: none). Such a batch is applied as usual
                                 (deduped, the mark moved) but every observation
                                 is rejected as GLCI_REJECT_WRONG_CITY, logged
                                 under city with the claimed one named */
    int has_hash;             /* hash is glci_store_batch_hash() of this batch,
                                 taken by a caller before the ingest (in a
                                 thread of its own); 0: the ingest takes it */
    unsigned char hash[GLCI_STORE_BATCH_HASH_LEN];
} glci_batch_t;

/* The content hash the store keeps of an applied batch to tell a resend
 * from a different batch under the same seq (docs/STORE.md, `batches`):
 * BLAKE2b-128 of its observations' fields. */
void glci_store_batch_hash(const glci_batch_t *b, unsigned char out[GLCI_STORE_BATCH_HASH_LEN]);

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
 * after the commit, and zeroed on entry whatever it returns, so each may be
 * released (glci_batch_result_release) on every path. On MDB_MAP_FULL the map is grown and the whole
 * transaction retried. ENOSPC if the map cannot grow (nothing applied). */
int glci_store_ingest(glci_store_t *st, const glci_batch_t *batches, size_t n,
                      int64_t now, glci_batch_result_t *results);

/* ---- Read views (a read-only transaction; see lifetime note above) --- */

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
    uint64_t file_bytes;      /* size of the data files on disk (with the history
                                 file from schema 7); 0 if unknown */
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
    double value;             /* 0 for a retraction */
    int64_t received;         /* Unix seconds */
    int64_t observed_at;      /* 0 unknown */
    const char *source;       /* "" when none; valid until the view ends */
    uint64_t stream, seq;     /* the batch that brought it; 0, 0 from an operator */
    int current;              /* 1 if it is the current value of its period */
    int retracted;            /* a retraction (a revision without a value) */
    int by_operator;          /* written by glci correct / retract: */
    const char *op;           /*   the operator's name ("" otherwise) */
    const char *sudo_user;    /*   SUDO_USER when it was set ("" otherwise) */
    const char *reason;       /*   why ("" otherwise) */
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

/* ---- Corrections by operators (SPEC §7) ---------------------------------- */

/* Bytes of an operator's name and of a SUDO_USER kept with a correction,
 * and of its reason (1 to GLCI_REASON_MAX bytes of printable UTF-8, not
 * only spaces). */
#define GLCI_OPERATOR_MAX 64
#define GLCI_REASON_MAX 200

typedef struct {
    const char *city, *indicator;
    int64_t period;
    int retract;              /* 1: withdraw the current value; 0: set value */
    double value;
    const char *op;           /* the effective user's name, as the OS gives it */
    const char *sudo_user;    /* SUDO_USER, or NULL */
    const char *reason;
} glci_correction_t;

typedef struct {
    int had;                  /* a value was current before */
    double before;            /* that value */
    int64_t received;         /* the time recorded for the correction */
} glci_correction_result_t;

/* Applies one correction in ONE durable write transaction, exactly as an
 * agent's value or retraction is applied (history with who and why, the
 * current value, the index results of the affected periods incrementally,
 * the rank view, counters), while the collector may be writing too. The
 * value is judged like an agent's (shape, framework, future periods at
 * `now`). res (may be NULL) says what was current. Returns 0; ENOCITY
 * (unknown city); EINVAL (unknown indicator, a value or period the
 * framework refuses, a period in the future, an empty, over-long or
 * non-UTF-8 reason or name, a reason of only spaces); ENODATA (a retraction with no current value);
 * ERDONLY; ENOSPC. err gets the line naming what is wrong. */
int glci_store_correct(glci_store_t *st, const glci_correction_t *c, int64_t now,
                       glci_correction_result_t *res, char *err, size_t errlen);

/* ---- The reporting cycle (SPEC §7; glci_store_cycle.c) ------------------- */

/* One city's status for round P. Pointers are valid during the callback. */
typedef struct {
    const glci_city_t *city;
    glci_round_status_t status;
    uint32_t reported;        /* indicators with a value of P itself */
    const uint32_t *missing;  /* the others, framework order */
    uint32_t n_missing;
    const glci_result_t *result;   /* its result of P (aligned), NULL if none */
} glci_round_row_t;

/* Calls fn for every city (id order) with its status for period P (the
 * rule of glci_round_status). Stops at fn's non-zero value and returns it;
 * else 0, ECORRUPT, EIO. */
int glci_view_round(glci_view_t *v, int32_t period,
                    int (*fn)(void *ctx, const glci_round_row_t *row), void *ctx);

/* The default period of the live store (glci_period_choose over the
 * periods with data, latest first, counting from the stored results).
 * ENODATA on a store without data. */
int glci_view_default_period(glci_view_t *v, glci_period_choice_t *out);

/* "Now" for as-of purposes: now, or the latest receive time the store
 * recorded when that is later (a write in the second of an edition is
 * recorded after it: docs/CYCLE.md). As of the result, the store is its
 * live state. 0 or a code. */
int glci_view_now(glci_view_t *v, int64_t now, int64_t *out);

/* ---- Snapshots: a period's table as of a time, or as published ---------- */

typedef struct {
    char city[GLCI_CITY_ID_MAX + 1];
    glci_result_t *result;    /* glci_result_size bytes, owned */
    uint32_t rank;            /* by the index; 0 unranked */
} glci_snapshot_row_t;

typedef struct {
    int32_t period;
    size_t n, n_ranked;
    glci_snapshot_row_t *rows;    /* ranked first in rank order, then the
                                     unranked by id */
} glci_snapshot_t;

/* Frees the rows and zeroes s; accepts a zeroed snapshot. */
void glci_snapshot_release(glci_snapshot_t *s);

/* The row of city, or NULL. */
const glci_snapshot_row_t *glci_snapshot_find(const glci_snapshot_t *s, const char *city);

/* The league table of a snapshot by `by`, walked like glci_view_league
 * (the same rule, rows, limit, flags and counts; row strings live as long
 * as the snapshot). 0, EINVAL (which out of range), or fn's value. */
int glci_snapshot_league(const glci_framework_t *fw, const glci_snapshot_t *s,
                         glci_rank_by_t by, uint32_t which, size_t limit, unsigned flags,
                         int (*fn)(void *ctx, const glci_rank_row_t *row), void *ctx,
                         glci_league_counts_t *counts);

/* Recomputes period P as the store held it at Unix time as_of: from the
 * history entries received up to as_of (in the order they were applied;
 * a retraction withdraws at its time), with the engine's full path, for
 * every city registered by then (revoked cities included: their data
 * stays). A city whose history has no entry received after as_of gets its
 * stored result, which verify proves equal to that recomputation. *out is
 * the caller's (glci_snapshot_release). 0, ECORRUPT, EIO. */
int glci_view_asof(glci_view_t *v, int32_t period, int64_t as_of, glci_snapshot_t *out);

/* The default period as of as_of: glci_period_choose over the periods with
 * data then, from the same recomputation. ENODATA if there was none. */
int glci_view_asof_default_period(glci_view_t *v, int64_t as_of, glci_period_choice_t *out);

/* ---- Editions (glci_store_edition.c) ---------------------------------------
 *
 * A published league table: every city's result of one period as the store
 * held it at an as-of time (glci_view_asof), its rank, and the framework
 * hash, written once under a name and never changed. */

/* Names: 1 to GLCI_EDITION_NAME_MAX bytes of [A-Za-z0-9._-], starting with a
 * letter or digit. */
#define GLCI_EDITION_NAME_MAX 63

typedef struct {
    char name[GLCI_EDITION_NAME_MAX + 1];
    int32_t period;
    int64_t as_of;            /* what it froze: the store at this time */
    int64_t published;        /* when it was written */
    uint64_t seq;             /* publication order, from 1; 0 for an edition
                                 published before the store numbered them */
    size_t n_rows, n_ranked;
    unsigned char fw_hash[32];
    char fw_hash_hex[65];
    char by[GLCI_OPERATOR_MAX + 1];         /* who published it */
    char sudo_user[GLCI_OPERATOR_MAX + 1];  /* "" when not through sudo */
} glci_edition_t;

/* 0 if name is a valid edition name, else EINVAL with the line in err. */
int glci_edition_name_check(const char *name, char *err, size_t errlen);

/* Publication order, for qsort of glci_edition_t: the unnumbered editions
 * (which the store's older code wrote before any numbered one) first, by
 * published time, then name; then the numbered ones by seq, whatever the
 * wall clock did between their publications. */
int glci_edition_cmp(const void *a, const void *b);

typedef struct {
    const char *name;
    int has_period;           /* period given; else the default period as of as_of */
    int32_t period;           /* when has_period: any year, checked against the
                                 framework (0 is a year like any other) */
    int64_t as_of;            /* at most the store's now (glci_view_now) */
    int as_of_now;            /* as_of is "now": the store's now (glci_view_now),
                                 which includes every write committed before */
    const char *op, *sudo_user;   /* who publishes (sudo_user may be NULL) */
} glci_edition_spec_t;

/* Publishes an edition in ONE durable write transaction: the as-of
 * recomputation of the period at spec->as_of, computed inside the
 * transaction, with its ranks and the framework hash. From then on no
 * write is recorded as received at or before as_of, so the edition stays
 * equal to its recomputation. *out (may be NULL) describes it. EEXIST (the
 * name is taken: nothing changes), EINVAL (bad name, as_of after the
 * store's now, a given period outside the framework), ENODATA (no result of the period as of
 * then), ERDONLY, ENOSPC; err names it. */
int glci_store_edition_publish(glci_store_t *st, const glci_edition_spec_t *spec, int64_t now,
                               glci_edition_t *out, char *err, size_t errlen);

/* The edition called name into *out. ENOENT if there is none. */
int glci_view_edition(glci_view_t *v, const char *name, glci_edition_t *out);

/* Calls fn for every edition (name order; glci_edition_cmp gives the
 * publication order); stops at fn's non-zero value. */
int glci_view_editions(glci_view_t *v, int (*fn)(void *ctx, const glci_edition_t *e),
                       void *ctx);

/* The rows of edition name as a snapshot (*out, the caller's). ENOENT,
 * ECORRUPT. */
int glci_view_edition_rows(glci_view_t *v, const char *name, glci_snapshot_t *out);

/* ---- Verify and backup ------------------------------------------------- */

/* Recomputes every (city, period) result from the stored observations with
 * the engine's full path and compares it bit for bit with the stored
 * result, and the rank view with the results; checks that history and the
 * current values agree (a retraction leaves no current value, and follows
 * a value); and recomputes every edition as of its time, never from a
 * stored result, comparing each row bit for bit. fn (may be NULL) receives one
 * line per difference. Returns 0 if none, EVERIFY if any (count in
 * *n_diffs), another code on failure. */
int glci_store_verify(glci_store_t *st,
                      void (*fn)(void *ctx, const char *difference), void *ctx,
                      uint64_t *n_diffs);

/* Consistent compacted hot copy into dest (created if missing; must be
 * empty), then opens the copy and verifies it. ENOTEMPTY, EVERIFY. */
int glci_store_backup(glci_store_t *st, const char *dest, char *err, size_t errlen);

#endif
