/* One collector per store (SPEC section 9), private to collector/.
 *
 * The daemon holds a write lock (fcntl F_SETLK) on STORE/collector.lock
 * for its whole life; the kernel drops it when the process ends, however it
 * ends (kill -9 included), so there is never a stale lock to clean up. A
 * second collector on the same store finds it taken and names the holder:
 * the pid comes from F_GETLK, or, when that cannot tell (a holder in
 * another pid namespace shows as 0), from the pid the holder wrote into the
 * file. Two collectors would each take a group of batches into their own
 * transactions and both answer agents; LMDB keeps the file consistent but
 * nothing else would keep their caches (keys, rate limits, refused keys)
 * true. */
#ifndef GLCI_COLLECTOR_LOCK_H
#define GLCI_COLLECTOR_LOCK_H

#include <stddef.h>
#include <sys/types.h>

/* Takes the lock of the store at dir. Returns the open descriptor (keep it
 * open for the daemon's life; closing it releases the lock), or -1 with a
 * line in err: "store DIR is in use by another glci-collector (pid N)", or
 * why the file cannot be opened or locked. *holder (may be NULL) gets the
 * other collector's pid (0 when unknown). */
int glci_collector_lock(const char *dir, pid_t *holder, char *err, size_t errlen);

/* Whether a collector runs on the store at dir, without taking the lock or
 * making its file (for --check-config): 1 when one holds it (*holder its
 * pid, 0 when unknown), 0 when none does (no lock file: none ever ran), -1
 * when it cannot be told (the file cannot be opened or asked). */
int glci_collector_lock_held(const char *dir, pid_t *holder);

#endif
