/* Observations in memory for unit tests of the index: see test_obs.h. */
#include "test_obs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>

int test_obs_lookup(void *ctx, uint32_t ind, int32_t lo, int32_t hi, int32_t *period,
                    double *value)
{
    const test_obs_list_t *l = ctx;
    int found = 0;
    for (size_t k = 0; k < l->n; k++) {
        if (l->o[k].ind != ind || l->o[k].period < lo || l->o[k].period > hi)
            continue;
        if (!found || l->o[k].period >= *period) {
            *period = l->o[k].period;
            *value = l->o[k].value;
            found = 1;
        }
    }
    return found;
}

glci_result_t *test_obs_result(const glci_framework_t *fw, const test_obs_t *o, size_t n,
                               int32_t period)
{
    glci_result_t *r = malloc(glci_result_size(fw));
    assert_non_null(r);
    test_obs_list_t l = {o, n};
    assert_int_equal(glci_index_full(fw, test_obs_lookup, &l, period, r), 0);
    return r;
}
