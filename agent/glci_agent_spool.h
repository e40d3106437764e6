/* The spool folder: where city staff drop CSV files (see docs/AGENT.md).
 *
 * The folder is shared: members of its group may create, rename and delete
 * entries in it. Nothing here trusts a name found there. Every file is
 * opened relative to the spool folder's descriptor, opened once, with
 * O_NOFOLLOW; only regular files are read; a file is moved with
 * renameat2(RENAME_NOREPLACE), so nothing is ever overwritten; an errors
 * file is created with O_CREAT | O_EXCL | O_NOFOLLOW, so the agent never
 * writes through a link. done/ and failed/ must be real folders owned by
 * the agent's user and writable by nobody else; one that is not (a link,
 * a file, someone else's folder) is moved aside to .NAME.suspect-TIME-N, an
 * ALARM is logged and a new one is made. A symbolic link, FIFO, folder or
 * device under a *.csv name is logged once and left alone.
 *
 * Pick-up rule: only regular files named *.csv whose name does not start
 * with a dot are taken, when inotify reports IN_CLOSE_WRITE or IN_MOVED_TO
 * for them, and at every rescan (at start and every rescan_interval
 * seconds). Writers copy to a dot-file or a *.tmp name and rename it to
 * *.csv when complete. A file written in place under its final name is
 * guarded so that a partial take is impossible or loud:
 *  - where the agent may take a read lease (F_SETLEASE: it owns the file or
 *    has CAP_LEASE), the kernel refuses the lease while anyone has the file
 *    open for writing, and such a file is left; a rescan also leaves a file
 *    modified less than the quiet period ago;
 *  - where leases are refused (the packaged setup: staff own the files),
 *    a file is taken only once its identity (device, inode, size,
 *    modification time) has stayed the same between two looks at least the
 *    quiet period apart and it was last modified at least that long ago
 *    (five times as long when it does not end with a line end);
 *  - after the read, the size and modification time must be what they were
 *    before it, else the file is left for its next look;
 *  - after a file is moved, it is watched (GLCI_AGENT_SPOOL_WATCH_S after
 *    its last change, at most GLCI_AGENT_SPOOL_WATCH_MAX files): if it
 *    grows (a writer still had it open), the rows it gained are read,
 *    queued with their own identity and an ALARM is logged; if it changes
 *    otherwise, or gains text that is not rows, an ALARM says so.
 * A file that stopped changing but is cut mid-row still fails whole into
 * failed/.
 *
 * A file larger than the outbox size limit or than GLCI_AGENT_SPOOL_FILE_MAX
 * (256 MiB) is moved to failed/ without being read, with one line
 * "file: reason" in NAME.errors; so is a file whose rows do not fit in the
 * limit even when the outbox is empty. (A file that fits only once
 * deliveries make room waits in the spool.)
 *
 * A file is validated whole (glci_agent_csv.h). If any row is bad it moves
 * to failed/NAME with failed/NAME.errors beside it, one "line N: reason"
 * per bad row for the first GLCI_AGENT_CSV_ERRORS_LISTED and a last line
 * "and N more bad lines (not listed)", and nothing is queued. Otherwise all
 * its rows are queued in one outbox transaction that also records the
 * file's identity, and the file moves to done/. If the agent dies between
 * the two, the next scan finds the identity recorded and only moves the
 * file: nothing is queued twice. After the move the identity is settled:
 * the file moved back from done/ is delivered again. When a name is already taken in done/ or
 * failed/, ".1", ".2"... are appended.
 *
 * Crash quarantine: before a file is read, its name and identity are
 * written to a marker file in the state folder (the outbox folder), and
 * removed once it has been parsed. A marker found at start means the agent
 * died while reading that file; after GLCI_AGENT_SPOOL_CRASHES_MAX such
 * deaths on the same file it is moved to failed/ with the reason, so a
 * file that makes the agent fail cannot keep it from starting.
 *
 * Names from the spool reach the log escaped (glci_utf8_escape): a name
 * holding a line break or a terminal escape cannot forge log lines. */
#ifndef GLCI_AGENT_SPOOL_H
#define GLCI_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "glci_agent_csv.h"
#include "glci_outbox.h"

/* The quiet period: a rescan leaves files modified less than this many
 * seconds ago, and without leases a file must look the same this long. */
#define GLCI_AGENT_SPOOL_SETTLE_S 2

/* The largest spool file read (bytes); larger ones go to failed/. */
#define GLCI_AGENT_SPOOL_FILE_MAX (256ULL * 1024 * 1024)

/* A taken file is watched for growth this long after its last change. */
#define GLCI_AGENT_SPOOL_WATCH_S 600
/* Files watched at once (the oldest watch ends first). */
#define GLCI_AGENT_SPOOL_WATCH_MAX 64

/* Deaths while reading one file after which it is moved to failed/. */
#define GLCI_AGENT_SPOOL_CRASHES_MAX 2

/* The marker's name in the state folder. */
#define GLCI_AGENT_SPOOL_MARKER "spool.reading"

typedef struct glci_agent_spool glci_agent_spool_t;

typedef struct {
    const char *state_dir;    /* where the crash marker lives; NULL: no marker */
    int64_t settle_ms;        /* the quiet period; 0: GLCI_AGENT_SPOOL_SETTLE_S */
} glci_agent_spool_opts_t;

/* Opens the spool folder (made if missing, with done/ and failed/, which
 * are checked as above). opts may be NULL. With a state folder, a marker
 * left by a death while reading is looked at now (the file it names is
 * moved to failed/ after GLCI_AGENT_SPOOL_CRASHES_MAX deaths on it).
 * Returns 0 and *out, or GLCI_AGENT_EIO with a message in err. */
int glci_agent_spool_open(const char *spool, const glci_agent_spool_opts_t *opts,
                          glci_agent_spool_t **out, char *err, size_t errlen);

/* Whether the spool path still names the folder opened (device and
 * inode): an operator may move or remove the folder and make a new one
 * while `run` runs. Returns 0 when it does; 1 when the path names another
 * folder, which is then opened in place of the old one (its done/ and
 * failed/ made or checked as at open; the caller re-arms its inotify
 * watch); GLCI_AGENT_EIO with a line in err when the path is missing or
 * not a folder (the old folder is kept open and should not be scanned;
 * call again later) or the new folder cannot be opened. */
int glci_agent_spool_refresh(glci_agent_spool_t *sp, char *err, size_t errlen);

/* Closes the folder and every watched file; sets *self to NULL; accepts
 * NULL. */
void glci_agent_spool_close(glci_agent_spool_t **self);

/* 1 if name is one the spool takes (*.csv, not a dot-file). */
int glci_agent_spool_name_ok(const char *name);

typedef struct {
    size_t files_done;        /* queued (or found queued) and moved to done/ */
    size_t files_failed;      /* moved to failed/ */
    size_t files_waiting;     /* left in place: outbox full or an I/O error */
    size_t files_busy;        /* left in place: being written, changed lately,
                                 or not yet quiet long enough */
    uint64_t rows_queued;     /* rows queued, rows a watched file gained included */
} glci_agent_spool_stats_t;

/* The identity a take records in the outbox for spool file name with
 * status sb (name, device, inode, size, modification time), into out: the
 * outbox refuses to queue it again while it is recorded, which covers a
 * stop between queueing the rows and the move to done/ (the file found in
 * the spool again is only moved). Once the file is in done/ the identity
 * is settled (glci_outbox_marker_settle): the same file dropped back into
 * the spool, which a rename does not change, is delivered again, as the
 * re-delivery after a collector lost data asks. */
#define GLCI_AGENT_SPOOL_IDENTITY_MAX 512
struct stat;
void glci_agent_spool_identity(const char *name, const struct stat *sb, char *out, size_t len);

/* Takes one file of the spool folder (name without folder), read in
 * dialect (glci_agent_csv.h; AUTO: as the file says). Once it is in done/,
 * NAME.log beside it says when, the dialect and why, the batches. Adds to
 * *stats. Returns 0 when the file was handled (done, failed or left busy), EFULL
 * when the outbox limit keeps it waiting until deliveries make room,
 * EIO/EOUTBOX otherwise (message in err). A name that vanished is ignored
 * (0); one that is not a regular file is logged once and ignored. */
int glci_agent_spool_take(glci_agent_spool_t *sp, glci_outbox_t *ob, const char *name,
                          size_t batch_max, glci_agent_csv_dialect_t dialect,
                          glci_agent_spool_stats_t *stats, char *err, size_t errlen);

/* Looks at the files watched since they were taken, then takes every file
 * the spool holds, in name order, logging each outcome. Returns 0, or the
 * first error (after trying every file). */
int glci_agent_spool_scan(glci_agent_spool_t *sp, glci_outbox_t *ob, size_t batch_max,
                          glci_agent_csv_dialect_t dialect, glci_agent_spool_stats_t *stats);

/* 1 while a look soon is wanted: files wait for their quiet period or are
 * watched for growth (the daemon then rescans about every quiet period
 * plus a second). */
int glci_agent_spool_wants_look(const glci_agent_spool_t *sp);

#endif
