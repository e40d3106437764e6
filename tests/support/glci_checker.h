/* The system-level test harness and its exactly-once checker.
 *
 * A glci_sys_t is one whole installation on loopback in a temp directory,
 * set up the way an operator does it: `glci init --framework`, one `glci
 * city add --key-out` per city, an [agent] config file per city, then the
 * real glci-collector and glci-agent processes (CURVE unless told
 * otherwise). Values enter through `glci-agent push`, `push --csv` or CSV
 * files renamed into the spool folder.
 *
 * The checker is a set test. Every value a test sends is recorded as
 * expected, in sending order, per (city, indicator); each value is unique
 * within its (city, indicator) so a duplicate is detectable. glci_sys_check
 * then reads the store through its read views (glci_view_history, whose rows
 * carry the stream and seq of the batch that brought them) and finds:
 *   lost        expected values not stored,
 *   duplicated  values stored more than once,
 *   unexpected  stored values nobody sent,
 *   disordered  (city, indicator) histories not in sending order, where
 *               the order is that within one lane: the values a city
 *               pushes are one lane (push returns once they are queued, so
 *               their order is settled), each spool file is a lane of its
 *               own (its intake is asynchronous: a file may be taken in
 *               after a push made later, or after a later file),
 *   seq errors  a (city, stream) whose applied seqs are not exactly
 *               1..mark (glci_view_stream_mark), or go backwards within a
 *               history,
 *   not current a (city, indicator, period) whose current value is not
 *               the one stored last (with the order check, the last one
 *               sent in its lane), or that has two,
 * and runs `glci verify` (incremental == full recomputation).
 *
 * Setup failures (cannot write a file, a command fails) fail the running
 * cmocka test with a message; outcomes are returned for the test to assert. */
#ifndef GLCI_CHECKER_H
#define GLCI_CHECKER_H

#include <stddef.h>
#include <stdint.h>

#include "glci_testsupport.h"

/* ---- the checker --------------------------------------------------------- */

typedef struct glci_checker glci_checker_t;

typedef struct {
    uint64_t expected;        /* values recorded as sent */
    uint64_t stored;          /* history rows found (cities and indicators checked) */
    uint64_t lost, duplicated, unexpected, disordered, seq_errors;
    uint64_t not_current;     /* a period whose current value is not the one
                                 that arrived last, or a second current one */
    uint64_t streams;         /* (city, stream) pairs seen */
    int verify_status;        /* exit status of `glci verify` (0 ok); -2 not run */
    char first_problem[512];  /* "" when all is well */
} glci_check_result_t;

glci_checker_t *glci_checker_new(void);

/* Frees the checker and sets *self to NULL; accepts NULL. */
void glci_checker_free(glci_checker_t **self);

/* Records one value as sent by city, after every value recorded before it
 * for the same (city, indicator). value must be what the store will hold
 * (parse the text the agent is given with strtod). */
void glci_checker_expect(glci_checker_t *c, const char *city, const char *indicator,
                         int32_t period, double value);

/* The same, in lane (0: the lane of glci_checker_expect). Order is checked
 * only among values of the same lane; a prefix is judged per lane too. */
void glci_checker_expect_lane(glci_checker_t *c, const char *city, const char *indicator,
                              int32_t period, double value, uint32_t lane);

/* A lane not used before (never 0). */
uint32_t glci_checker_new_lane(glci_checker_t *c);

/* Values recorded so far. */
uint64_t glci_checker_expected(const glci_checker_t *c);

/* Checks the store at store_dir against what was recorded. With prefix set,
 * a (city, indicator) history may be a prefix of what was sent (a backup
 * taken while values were still arriving); nothing stored may be missing
 * from the middle. glci_bin is the CLI used for `glci verify` (NULL: skip).
 * Fills *out; returns 0 if everything holds, -1 otherwise. */
int glci_checker_run(const glci_checker_t *c, const char *store_dir, const char *glci_bin,
                     int prefix, glci_check_result_t *out);

/* The result as one JSON object (for the soak report); malloc'd. */
char *glci_check_result_json(const glci_check_result_t *r);

/* ---- the system ---------------------------------------------------------- */

typedef struct {
    const char *framework;    /* NULL: the shipped one ($GLCI_FRAMEWORK) */
    int insecure;             /* 1: no CURVE (tests where it is beside the point) */
    int batch_max;            /* agent batch_max; 0: 100 */
    int window;               /* agent window; 0: 8 */
    const char *collector_conf; /* extra lines for the [collector] file, or NULL */
    const char *agent_conf;   /* extra lines for every [agent] file, or NULL */
    size_t store_map;         /* 0: the store is made by `glci init` and `glci city
                                 add`; else through the store API with this map
                                 size and cap (a store small enough to fill) */
} glci_sys_opts_t;

typedef struct {
    char city[64];
    char conf[600], outbox[600], spool[600], key[600];
    glci_ts_proc_t *proc;     /* the running `glci-agent run`, or NULL */
    uint64_t next;            /* values generated by glci_sys_push so far */
} glci_sys_agent_t;

typedef struct {
    char *dir;
    char store[512], endpoint[64], coll_conf[600], coll_pub[600];
    char *glci, *collector_bin, *agent_bin;
    glci_sys_opts_t opts;
    glci_ts_proc_t *coll;
    size_t n_agents;
    glci_sys_agent_t *agents;
    glci_checker_t *chk;
} glci_sys_t;

/* Deadlines (ms): upper bounds for a sanitizer build, never speed checks. */
#define GLCI_SYS_READY_MS 30000
#define GLCI_SYS_STOP_MS  10000
#define GLCI_SYS_DRAIN_MS 240000

/* Creates the store and n cities "c00-xx" .. with keys and agent configs.
 * Starts nothing. Returns the system (free with glci_sys_close). */
glci_sys_t *glci_sys_open(const char *tag, size_t n, const glci_sys_opts_t *opts);

/* Stops every process still running (SIGTERM), removes the directory and
 * frees; sets *self to NULL. Accepts NULL. */
void glci_sys_close(glci_sys_t **self);

/* Every system opened and not yet closed is on a list. A test that fails
 * half-way (cmocka's fail longjmps out of the test function) leaves its
 * system there, processes running; glci_sys_teardown kills every process of
 * every such system with SIGKILL, reaps it and closes the system (the temp
 * directory goes too unless $GLCI_KEEP is set). Use it as the teardown of
 * each system test: cmocka_unit_test_teardown(test, glci_sys_teardown).
 * Returns 0 (cmocka's teardown contract). The same is done at exit
 * (atexit), the directory removed unless $GLCI_KEEP is set, for programs
 * that are not cmocka tests or end early. And the collector and agents run
 * with a parent-death signal (SIGKILL, through setpriv --pdeathsig), so
 * they end with the test process even when it ends by abort or a ctest
 * timeout, where neither teardown nor atexit runs. */
int glci_sys_teardown(void **state);

/* SIGKILLs and reaps every process of every open system, without freeing
 * anything (safe at exit). Returns the number of processes killed. */
size_t glci_sys_kill_all(void);

/* Rewrites agent i's config file with another collector endpoint (a test
 * that puts the collector elsewhere, e.g. in a network namespace); takes
 * effect at the agent's next start. */
void glci_sys_agent_endpoint(glci_sys_t *s, size_t i, const char *endpoint);

/* Rewrites the collector's config file with these extra lines (after
 * [collector]); takes effect at the next start. */
void glci_sys_collector_conf(glci_sys_t *s, const char *lines);

/* Starts the collector on store (NULL: the system's) and waits until it is
 * ready; fails the test if it is not. */
void glci_sys_start_collector(glci_sys_t *s, const char *store);

/* Starts the collector and returns its process without waiting; the
 * caller owns it (it is not on the teardown list unless stored in s->coll). */
glci_ts_proc_t *glci_sys_spawn_collector(glci_sys_t *s, const char *store);

/* kill -9 and reap the collector / agent i. */
void glci_sys_kill9_collector(glci_sys_t *s);
void glci_sys_kill9_agent(glci_sys_t *s, size_t i);

/* Stops with SIGTERM and asserts a clean exit (0). */
void glci_sys_stop_collector(glci_sys_t *s);
void glci_sys_stop_agent(glci_sys_t *s, size_t i);

/* Starts `glci-agent run` for agent i and waits until it is ready. */
void glci_sys_start_agent(glci_sys_t *s, size_t i);

/* Queues n more unique values for agent i with `glci-agent push --csv`
 * (durable when it returns) and records them in the checker. */
void glci_sys_push(glci_sys_t *s, size_t i, size_t n);

/* The same n values written as a CSV file renamed into agent i's spool
 * folder (the agent's `run` takes it in); the file is a lane of its own. */
void glci_sys_spool(glci_sys_t *s, size_t i, size_t n);

/* One value with `glci-agent push INDICATOR PERIOD VALUE` (text as given). */
void glci_sys_push_one(glci_sys_t *s, size_t i, const char *indicator, int32_t period,
                       const char *value);

/* A CSV text (header included) renamed into agent i's spool; the caller
 * records the expected values itself. */
void glci_sys_spool_text(glci_sys_t *s, size_t i, const char *name, const char *csv);

/* Applied values (revisions included) in the store: glci_view_status's
 * n_history. */
uint64_t glci_sys_stored(const char *store);

/* Waits until the store holds n values; fails the test at the deadline. */
void glci_sys_wait_stored(glci_sys_t *s, uint64_t n, int timeout_ms);

/* Waits until agent i's outbox is empty (everything acked). */
void glci_sys_wait_outbox_empty(glci_sys_t *s, size_t i, int timeout_ms);

/* Every value expected is stored: waits for the store to hold them all and
 * every outbox to drain, runs the checker and asserts 0 lost, 0 duplicated,
 * nothing unexpected, in order, seqs exact and `glci verify` passing. */
void glci_sys_assert_exactly_once(glci_sys_t *s);

/* `glci-agent status --format FORMAT` of agent i: its stdout (caller
 * frees); fails the test if it exits other than 0. */
char *glci_sys_agent_status(glci_sys_t *s, size_t i, const char *format);

/* The whole number under "key" in a `status --format json` text; fails
 * the running test when the key is not there. */
long long glci_sys_json_int(const char *js, const char *key);

/* Waits until `glci-agent status --format FORMAT` of agent i holds want,
 * and returns that output (caller frees); fails the test with the last
 * one at the deadline. */
char *glci_sys_wait_agent_status(glci_sys_t *s, size_t i, const char *format,
                                 const char *want, int timeout_ms);

/* Waits until the file at path holds want (a metrics file the agent
 * rewrites), and returns its text (caller frees); fails the test with the
 * last text at the deadline. */
char *glci_sys_wait_file(const char *path, const char *want, int timeout_ms);

/* Runs glci with the system's store: argv after "glci --store S". Returns
 * the exit status; *out / *err as glci_ts_run. */
int glci_sys_cli(glci_sys_t *s, const char *const *args, char **out, char **err);

/* glci_sys_cli that must succeed: its stdout (malloc'd); a non-zero exit
 * fails the running test with glci's stderr. */
char *glci_sys_cli_ok(glci_sys_t *s, const char *const *args);

/* A small deterministic PRNG for "random moments" (xorshift64*), seeded
 * from $GLCI_SEED or the time; the seed is printed so a run can be
 * repeated. */
uint64_t glci_sys_seed(void);
uint64_t glci_sys_rand(uint64_t *state);

void glci_sys_sleep_ms(long ms);

#endif
