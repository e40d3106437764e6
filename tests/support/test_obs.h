/* Observations held in memory, for unit tests of the index: a list the
 * engine's full path reads through test_obs_lookup, and the result it
 * gives for one period. */
#ifndef TEST_OBS_H
#define TEST_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "glci_index.h"

typedef struct {
    uint32_t ind;               /* index into fw->ind */
    int32_t period;
    double value;
} test_obs_t;

typedef struct {
    const test_obs_t *o;        /* in arrival order: a later one revises */
    size_t n;
} test_obs_list_t;

/* glci_obs_lookup_fn over a test_obs_list_t (ctx): the observation of ind
 * with the greatest period in [lo, hi], the last to arrive for that
 * period. */
int test_obs_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value);

/* glci_index_full of the n observations o for period P under fw, into a
 * new block (free() it); fails the test if the engine fails. */
glci_result_t *test_obs_result(const glci_framework_t *fw, const test_obs_t *o, size_t n,
                               int32_t period);

#endif
