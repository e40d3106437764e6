/* Helpers for integration and fault tests that run the real programs:
 * temporary directories, spawning a program with its stderr captured to a
 * file, waiting until it is ready, signalling and reaping it, running a
 * command to completion with its output captured, and a free loopback port.
 *
 * Readiness: every process started here gets NOTIFY_SOCKET pointing at a
 * datagram socket of its own, so glci_ts_proc_wait_ready() returns exactly
 * when the program calls sd_notify("READY=1"), with no sleeps or polling of
 * ports. Programs that do not notify can be waited for with
 * glci_ts_proc_wait_log() (a substring of their stderr).
 *
 * Deadlines in milliseconds are upper bounds for a slow (sanitizer) build,
 * never assertions about speed. Functions abort the test with a message on
 * a setup failure (fork, socket, mkdtemp) since a test cannot continue;
 * outcomes a test may want to assert on are return values. */
#ifndef GLCI_TESTSUPPORT_H
#define GLCI_TESTSUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* ---- paths and directories -------------------------------------------- */

/* Makes a new directory /tmp/glci-<tag>-XXXXXX; returns its path
 * (malloc'd, the caller frees). */
char *glci_ts_tmpdir(const char *tag);

/* Removes a directory tree (rm -rf). Accepts NULL. */
void glci_ts_rmtree(const char *path);

/* Joins $GLCI_BIN_DIR (the build directory, set by ctest) and rel, e.g.
 * glci_ts_bin("collector/glci-collector"); returns a malloc'd path. Falls
 * back to the current directory when GLCI_BIN_DIR is unset. */
char *glci_ts_bin(const char *rel);

/* The framework file ctest names in $GLCI_FRAMEWORK (aborts if unset). */
const char *glci_ts_framework(void);

/* A TCP port on 127.0.0.1 that was free a moment ago (bound, closed),
 * below the kernel's ephemeral range where it can, so that no outgoing
 * connection's source port (not even a client's self-connect while it
 * dials the port before its server listens) can take it. */
int glci_ts_free_port(void);

/* A TCP listener on 127.0.0.1 at a free port that never accepts (the
 * kernel still completes connections into its backlog, and nothing is
 * ever said on them): a port in use, or a peer that stays silent. Returns
 * the descriptor (the caller closes it), *port its port. */
int glci_ts_listen_loopback(int *port);

/* ---- processes --------------------------------------------------------- */

typedef struct glci_ts_proc glci_ts_proc_t;

/* Starts argv[0] (a path) with argv (NULL-terminated). stdout and stderr go
 * to files in a private temp directory; stdin is /dev/null; env_extra
 * (NULL-terminated "NAME=value" strings, or NULL) is added to the
 * environment, as is NOTIFY_SOCKET. Returns the handle; aborts if fork or
 * exec set-up fails (an exec failure shows as exit status 127). */
glci_ts_proc_t *glci_ts_proc_start(const char *const *argv, const char *const *env_extra);

/* Waits for "READY=1" from the process's sd_notify. Returns 0 when it
 * came, -1 if the process exited first or the deadline passed. */
int glci_ts_proc_wait_ready(glci_ts_proc_t *p, int timeout_ms);

/* Waits until the process's captured stderr contains text. Returns 0, or -1
 * if the process exited without it or the deadline passed. */
int glci_ts_proc_wait_log(glci_ts_proc_t *p, const char *text, int timeout_ms);

/* Sends a signal. Returns 0, or -1 if the process is gone. */
int glci_ts_proc_signal(glci_ts_proc_t *p, int sig);

/* Waits for the process to end. Returns its exit status (0..255), 128+N if
 * killed by signal N, or -1 if it is still running at the deadline. */
int glci_ts_proc_wait_exit(glci_ts_proc_t *p, int timeout_ms);

/* 1 while the process runs, 0 once it has ended (reaps it). */
int glci_ts_proc_alive(glci_ts_proc_t *p);

/* The process id. */
pid_t glci_ts_proc_pid(const glci_ts_proc_t *p);

/* What the process wrote to stderr / stdout so far, NUL-terminated;
 * malloc'd, the caller frees. */
char *glci_ts_proc_stderr(const glci_ts_proc_t *p);
char *glci_ts_proc_stdout(const glci_ts_proc_t *p);

/* Stops the process if it still runs (SIGTERM, then SIGKILL after
 * timeout_ms), removes its temp files, frees the handle and sets *self to
 * NULL. Returns the exit status as glci_ts_proc_wait_exit does (of the
 * earlier exit if it had already ended). Accepts NULL. */
int glci_ts_proc_stop(glci_ts_proc_t **self, int timeout_ms);

/* Runs argv to completion (at most timeout_ms, then SIGKILL). *out and *err
 * (either may be NULL) receive malloc'd stdout / stderr text. Returns the
 * exit status as glci_ts_proc_wait_exit does. */
int glci_ts_run(const char *const *argv, const char *const *env_extra, int timeout_ms,
                char **out, char **err);

/* Runs argv (argv[0] a path) to completion with its standard output a
 * pipe whose reader has already gone (`prog | true` once true has exited)
 * and SIGPIPE at its default, whatever this process does with it; *err
 * (may be NULL) receives its stderr. Returns the exit status, or 128 +
 * the signal that ended it (141 for SIGPIPE). */
int glci_ts_run_closed_pipe(const char *const *argv, char **err);

/* Fills the file system of dir with a file at path (created or replaced)
 * but for `room` bytes. 0, or -1 when there is not that much free or the
 * file cannot be written. */
int glci_ts_fill_fs(const char *dir, const char *path, unsigned long long room);

/* How many times needle occurs in text (overlapping ones included), e.g.
 * a log line in a program's stderr. */
size_t glci_ts_count(const char *text, const char *needle);

/* Moves this process into a network namespace of its own with `lo` up and
 * ::1 on it, so that 127.0.0.1 and ::1 are the namespace's and every
 * program started from here runs in it. Returns 0; 77 (ctest's skip
 * code) with why filled when no namespace may be made here (not root, or
 * refused); 1 with why filled when one was made but its loopback could not
 * be brought up. */
int glci_ts_own_network(char *why, size_t len);

/* glci_ts_own_network for a test whose other cases run without one: 1 in
 * a namespace of its own; 0 where none may be made, after printing
 * "# the cases CASES are skipped: why"; -1 after printing on stderr why
 * the namespace made has no loopback (the test fails). */
int glci_ts_try_own_network(const char *cases);

/* Reads a whole file into a malloc'd NUL-terminated string; NULL if it
 * cannot be read. */
char *glci_ts_read_file(const char *path);

/* Writes text to path (created or truncated). Returns 0, or -1. */
int glci_ts_write_file(const char *path, const char *text);

/* Writes a large CSV to path: the header line, then n lines of row, each
 * '#' in it replaced by the line's number from 0 ("x\n", "x,#,bad\n").
 * Returns 0, or -1. */
int glci_ts_write_rows(const char *path, const char *header, const char *row, int n);

#endif
