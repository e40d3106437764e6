/* Helpers of glci's analysis commands: see analysis.h. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>

#include "glci_alloc.h"

int glci_analysis_city(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                       const char *id, glci_city_t *c)
{
    int rc = glci_view_city(v, id, c);
    if (rc == GLCI_STORE_ENOCITY || rc == GLCI_STORE_EINVAL)
        return glci_fail(cmd, "no such city '%s'", id);
    if (rc != 0)
        return glci_cli_store_fail(cmd, cli, rc, "cannot read the city");
    return 0;
}

int glci_analysis_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                         const glci_framework_t *fw, int32_t period, glci_period_t *p,
                         glci_city_result_t **cities)
{
    *cities = NULL;
    int rc = glci_period_load(v, fw, period, p);
    if (rc != 0)
        return glci_cli_store_fail(cmd, cli, rc, "cannot read the results");
    if (p->n == 0) {
        glci_period_release(p);
        return glci_fail(cmd, "no data for period %d", (int)period);
    }
    *cities = glci_xmalloc(p->n * sizeof **cities);
    for (size_t k = 0; k < p->n; k++) {
        (*cities)[k].city = p->rows[k].city;
        (*cities)[k].result = p->rows[k].result;
    }
    return 0;
}

void glci_analysis_name(glci_view_t *v, const char *id, glci_city_t *out)
{
    if (glci_view_city(v, id, out) != 0)
        out->name[0] = '\0';
}

