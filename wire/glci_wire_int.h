/* What the wire layer's codecs share, private to wire/: the budget
 * allocator every decoder unpacks through.
 *
 * It counts every byte protobuf-c asks for while it unpacks one message and
 * refuses once the budget is spent; frees do not give bytes back (a message
 * is unpacked once, then freed whole), which keeps the count a simple upper
 * bound on what one frame can cost. */
#ifndef GLCI_WIRE_INT_H
#define GLCI_WIRE_INT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct glci_wire_chunk glci_wire_chunk_t;

typedef struct {
    ProtobufCAllocator alloc;     /* pass &b.alloc to the unpack function */
    size_t used, budget;
    int exhausted;                /* 1 once a request was refused */
    glci_wire_chunk_t *chunks;    /* arena: the chunks handed out from, newest first */
} glci_wire_budget_t;

/* Makes b an allocator that hands out at most budget bytes in all. */
void glci_wire_budget_init(glci_wire_budget_t *b, size_t budget);

/* The same budget, handed out from an arena: a frees nothing, everything
 * goes at once with glci_wire_budget_release (a batch of a thousand
 * observations is a few thousand small allocations, which malloc and free
 * one by one cost the collector 5% of its time). */
void glci_wire_budget_init_arena(glci_wire_budget_t *b, size_t budget);

/* Frees an arena's memory (nothing for a plain budget); b may be reused
 * after another init. */
void glci_wire_budget_release(glci_wire_budget_t *b);

/* The budget for a frame of len bytes when the caller sets none: 16 bytes
 * per input byte plus 64 KiB. */
size_t glci_wire_default_budget(size_t len);

#endif
