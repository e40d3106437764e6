/* Helpers for the glci CLI tests: temporary folders, running the real glci
 * binary with its output captured, a small framework with exactly known
 * scores, and filling a store through the store API. */
#ifndef TEST_CLI_SUPPORT_H
#define TEST_CLI_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "glci_store.h"

typedef struct {
    int status;         /* exit status, or 128 + signal */
    char *out, *err;    /* captured stdout / stderr, NUL-terminated, owned */
} cli_out_t;

/* Makes a fresh folder /tmp/glci-test-cli-XXXXXX into buf. */
void cli_tmpdir(char *buf, size_t len);

/* rm -rf of a folder made by cli_tmpdir. */
void cli_rmdir(const char *dir);

/* Runs $GLCI_BIN_DIR/cli/glci with the NULL-terminated arguments, waits,
 * captures its output. Returns the exit status (also in out->status). */
int cli_run(cli_out_t *out, ...);
int cli_runv(cli_out_t *out, const char *const *argv);

/* The same with another program than the build's glci (argv without its
 * argv[0], which is bin). */
int cli_run_program(cli_out_t *out, const char *bin, const char *const *argv);

void cli_out_release(cli_out_t *out);

/* Parses out->out as JSON (fails the test if it does not parse). */
json_t *cli_json(const cli_out_t *out);

/* Writes the test framework into dir/tiny.ini and returns its path
 * (static buffer): areas a (focus a.x: i1 higher 0..100, i2 lower 0..50,
 * range 0..1000) and b (focus b.y: i3 higher 0..100, i4 yes/no), all
 * weights 1, min_coverage 0.5, carry_forward 2, arithmetic. */
const char *cli_tiny_framework(const char *dir);

/* Creates a store at dir with framework fw (map_size 0 = default) and
 * opens it for writing. */
glci_store_t *cli_store_create(const char *dir, const char *fw, size_t map_size);

/* Registers a city with a fresh key. */
void cli_city_add(glci_store_t *st, const char *id, const char *name, const char *country);

/* Ingests one batch of n observations (indicator, period, value triples)
 * for city as the next seq of stream 1 of that city, received at `now`. */
typedef struct {
    const char *indicator;
    int32_t period;
    double value;
} cli_obs_t;
/* The stream id of every fixture batch: its top bit is set, so output that
 * printed it as a signed number would show. */
#define CLI_STREAM 0xfedcba9876543210ULL

void cli_ingest(glci_store_t *st, const char *city, uint64_t seq, const cli_obs_t *obs,
                size_t n, int64_t now);

/* The standard fixture in the tiny framework (see test_cli.c for the
 * numbers it leads to). */
void cli_fill_fixture(glci_store_t *st);

/* obj[key] (fails the test when it is missing); its number; its string. */
json_t *cli_json_get(json_t *obj, const char *key);
double cli_json_num(json_t *obj, const char *key);
const char *cli_json_str(json_t *obj, const char *key);

/* Counts the CSV records of text (CRLF ends; quoted fields may hold line
 * breaks). */
size_t cli_csv_records(const char *text);

/* Asserts a runtime error: exit 1, one line on stderr starting "glci" and
 * holding what, nothing on stdout. */
void cli_expect_fail(const cli_out_t *o, const char *what);

/* Asserts a usage error: exit 2, what on stderr, then the usage line,
 * nothing on stdout. */
void cli_expect_usage(const cli_out_t *o, const char *what);

#endif
