/* The spool CSV's informational columns: see glci_spool_csv.h. */
#include "glci_spool_csv.h"

#include <assert.h>
#include <string.h>

static const char *const s_names[GLCI_SPOOL_INFO_N] = {
#define S_NAME(n, h, d) h,
    GLCI_SPOOL_INFO_COLUMNS(S_NAME)
#undef S_NAME
};

const char *glci_spool_info_name(glci_spool_info_t k)
{
    assert(k < GLCI_SPOOL_INFO_N);
    return s_names[k];
}

static const char *const s_ignored[GLCI_SPOOL_IGNORED_N] = {
#define S_NAME(n, h, d) h,
    GLCI_SPOOL_IGNORED_COLUMNS(S_NAME)
#undef S_NAME
};

int glci_spool_ignored_find(const char *name)
{
    for (int k = 0; k < GLCI_SPOOL_IGNORED_N; k++)
        if (strcmp(name, s_ignored[k]) == 0)
            return k;
    return -1;
}
