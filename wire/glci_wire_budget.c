/* The decoders' budget allocator: see glci_wire_int.h. */
#include "glci_wire_int.h"

#include <stddef.h>
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
    b->chunks = NULL;
}

/* ---- the arena ------------------------------------------------------------ */

struct glci_wire_chunk {
    glci_wire_chunk_t *next;
    size_t size, used;            /* bytes of data[] */
    max_align_t data[];
};

#define S_CHUNK_MIN ((size_t)64 << 10)

static void *s_arena_alloc(void *data, size_t size)
{
    glci_wire_budget_t *b = data;
    if (size > b->budget - b->used) {
        b->exhausted = 1;
        return NULL;
    }
    /* every block aligned like malloc's */
    size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (need == 0)
        need = sizeof(max_align_t);
    glci_wire_chunk_t *c = b->chunks;
    if (!c || c->size - c->used < need) {
        size_t bytes = need > S_CHUNK_MIN ? need : S_CHUNK_MIN;
        c = malloc(sizeof *c + bytes);
        if (!c) {
            b->exhausted = 1;
            return NULL;
        }
        c->size = bytes;
        c->used = 0;
        c->next = b->chunks;
        b->chunks = c;
    }
    void *p = (unsigned char *)c->data + c->used;
    c->used += need;
    b->used += size;
    return p;
}

static void s_arena_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;                    /* given back whole by glci_wire_budget_release */
}

void glci_wire_budget_init_arena(glci_wire_budget_t *b, size_t budget)
{
    glci_wire_budget_init(b, budget);
    b->alloc.alloc = s_arena_alloc;
    b->alloc.free = s_arena_free;
}

void glci_wire_budget_release(glci_wire_budget_t *b)
{
    while (b->chunks) {
        glci_wire_chunk_t *c = b->chunks;
        b->chunks = c->next;
        free(c);
    }
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
