/* The spool folder: where city staff drop CSV files (see docs/AGENT.md).
 *
 * Pick-up rule: only regular files named *.csv whose name does not start
 * with a dot are taken, when inotify reports IN_CLOSE_WRITE or IN_MOVED_TO
 * for them, and at every rescan (at start and every rescan_interval
 * seconds). Writers copy to a dot-file or a *.tmp name and rename it to
 * *.csv when complete. A file written in place under its final name is
 * guarded three ways: it is not taken while anyone has it open for writing
 * (a read lease, F_SETLEASE, is refused then; the lease is held until the
 * file is moved, so a writer opening it meanwhile waits); a rescan does not
 * take a file modified less than GLCI_AGENT_SPOOL_SETTLE_S seconds ago (nor
 * does an event, where leases are unavailable: not the file's owner and no
 * CAP_LEASE); and a file whose size or mtime changed while it was read is
 * left for its next event or rescan. A file that stopped changing but is
 * cut mid-row still fails whole into failed/.
 *
 * A file larger than the outbox size limit or than GLCI_AGENT_SPOOL_FILE_MAX
 * (256 MiB) is moved to failed/ without being read, with one line
 * "file: reason" in NAME.errors; so is a file whose rows do not fit in the limit
 * even when the outbox is empty. (A file that fits only once deliveries
 * make room waits in the spool.)
 *
 * A file is validated whole (glci_agent_csv.h). If any row is bad it moves
 * to failed/NAME with failed/NAME.errors beside it, one "line N: reason"
 * per bad row, and nothing is queued. Otherwise all its rows are queued in
 * one outbox transaction that also records the file's identity (name,
 * device, inode, size, modification time), and the file moves to done/. If
 * the agent dies between the two, the next scan finds the identity recorded
 * and only moves the file: nothing is queued twice. When a name is already
 * taken in done/ or failed/, ".1", ".2"... are appended.
 *
 * The dead-letter file rejected.csv lives beside the spool folder (in its
 * parent): observations the collector rejected, as
 * indicator,period,value,observed_at,source,reason,rejected_at. */
#ifndef GLCI_AGENT_SPOOL_H
#define GLCI_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "glci_agent_csv.h"
#include "glci_outbox.h"

/* A rescan leaves files modified less than this many seconds ago. */
#define GLCI_AGENT_SPOOL_SETTLE_S 2

/* The largest spool file read (bytes); larger ones go to failed/. */
#define GLCI_AGENT_SPOOL_FILE_MAX (256ULL * 1024 * 1024)

/* Creates spool/, spool/done/ and spool/failed/ if missing. 0 or
 * GLCI_AGENT_EIO (message in err). */
int glci_agent_spool_prepare(const char *spool, char *err, size_t errlen);

/* 1 if name is one the spool takes (*.csv, not a dot-file). */
int glci_agent_spool_name_ok(const char *name);

typedef struct {
    size_t files_done;        /* queued (or found queued) and moved to done/ */
    size_t files_failed;      /* moved to failed/ */
    size_t files_waiting;     /* left in place: outbox full or an I/O error */
    size_t files_busy;        /* left in place: being written or changed lately */
    uint64_t rows_queued;
} glci_agent_spool_stats_t;

/* Takes one file of the spool folder (name without folder), read in
 * dialect (glci_agent_csv.h; AUTO: as the file says). On success done/
 * gets NAME.log beside it: when, the dialect and why, the batches. Adds to
 * *stats.
 * Returns 0 when the file was handled (done or failed), EFULL when the
 * outbox limit keeps it waiting until deliveries make room, EIO/EOUTBOX
 * otherwise (message in err). A name that vanished or is not a regular
 * file is ignored (0). */
int glci_agent_spool_take(glci_outbox_t *ob, const char *spool, const char *name,
                          size_t batch_max, glci_agent_csv_dialect_t dialect,
                          glci_agent_spool_stats_t *stats, char *err, size_t errlen);

/* Takes every file the spool holds, in name order, logging each outcome.
 * Returns 0, or the first error (after trying every file). */
int glci_agent_spool_scan(glci_outbox_t *ob, const char *spool, size_t batch_max,
                          glci_agent_csv_dialect_t dialect, glci_agent_spool_stats_t *stats);

#endif
