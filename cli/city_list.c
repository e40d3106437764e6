/* Every city of a read view, copied, for commands that walk the results of
 * all cities and need their names (report, export --format xlsx): one
 * cursor walk instead of a lookup per row. See cli.h. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

static int s_add(void *ctx, const glci_city_t *c)
{
    glci_city_list_t *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->rows = glci_xrealloc(l->rows, l->cap * sizeof *l->rows);
    }
    l->rows[l->n++] = *c;
    return 0;
}

int glci_city_list_load(glci_view_t *v, glci_city_list_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = glci_view_cities(v, s_add, out);
    if (rc != 0)
        glci_city_list_release(out);
    return rc;
}

static int s_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const glci_city_t *)elem)->id);
}

const glci_city_t *glci_city_list_find(const glci_city_list_t *l, const char *id)
{
    return l->n ? bsearch(id, l->rows, l->n, sizeof *l->rows, s_cmp) : NULL;
}

void glci_city_list_release(glci_city_list_t *l)
{
    free(l->rows);
    memset(l, 0, sizeof *l);
}
