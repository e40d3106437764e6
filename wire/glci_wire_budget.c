/* The decoders' budget allocator: see glci_wire_int.h. */
#include "glci_wire_int.h"

#include <stdint.h>
#include <stdlib.h>

static void *s_budget_alloc(void *data, size_t size)
{
    glci_wire_budget_t *b = data;
    if (size > b->budget - b->used) {
        b->exhausted = 1;
        return NULL;
    }
    void *p = malloc(size ? size : 1);
    if (!p) {
        b->exhausted = 1;
        return NULL;
    }
    b->used += size;
    return p;
}

static void s_budget_free(void *data, void *ptr)
{
    (void)data;
    free(ptr);
}

void glci_wire_budget_init(glci_wire_budget_t *b, size_t budget)
{
    b->alloc.alloc = s_budget_alloc;
    b->alloc.free = s_budget_free;
    b->alloc.allocator_data = b;
    b->used = 0;
    b->budget = budget;
    b->exhausted = 0;
}

size_t glci_wire_default_budget(size_t len)
{
    /* protobuf-c needs a few times the input: structs per observation,
     * pointer arrays, copies of strings. 16x covers the worst packing
     * (one-byte empty observations) with room to spare. */
    if (len > (SIZE_MAX - 65536) / 16)
        return SIZE_MAX;
    return 16 * len + 65536;
}
