/* Message and group budgets and the memory policy: see collector_budget.h. */
#include "collector_budget.h"

#include <malloc.h>

#define S_TRIM_BYTES (1u << 20)   /* taken in since the last trim */
#define S_TRIM_EVERY_MS 1000
#define S_MMAP_THRESHOLD (128 * 1024)
/* Free memory kept at the top of each heap when free() trims it. Without
 * it, every commit gave back and faulted in again the pages LMDB allocates
 * for the history file's large values: about 9,000 page faults a second in
 * the store thread under load. A pad and not a higher trim threshold: a
 * thread's heap gives its top back only on free() (malloc_trim returns the
 * main heap's top, and only free pages inside the other heaps), so a high
 * threshold would keep a flood's memory in the store thread's heap for
 * good; the pad bounds what stays there. */
#define S_TOP_PAD (8u << 20)

static uint64_t s_since_trim;
static int64_t s_last_trim_ms;

int glci_collector_recv(void *router, zmq_msg_t *id, zmq_msg_t *body, glci_collector_msg_t *m)
{
    m->frames = 0;
    m->bytes = 0;
    zmq_msg_init(id);
    if (zmq_msg_recv(id, router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(id);
        return 0;
    }
    zmq_msg_init(body);
    if (!zmq_msg_more(id))
        return 1;
    /* the rest of the message is already in libzmq: these never block */
    if (zmq_msg_recv(body, router, 0) < 0)
        return 1;
    m->frames = 1;
    m->bytes = zmq_msg_size(body);
    int more = zmq_msg_more(body);
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, router, 0) < 0) {
            zmq_msg_close(&extra);
            break;
        }
        more = zmq_msg_more(&extra);
        m->frames++;
        m->bytes += zmq_msg_size(&extra);
        zmq_msg_close(&extra);
    }
    return 1;
}

int glci_collector_group_open(const glci_collector_group_t *g,
                              const glci_collector_group_budget_t *b)
{
    if (g->batches == 0)
        return 1;
    return g->batches < b->batches_max && (!b->bytes_max || g->bytes < b->bytes_max) &&
           (!b->obs_max || g->obs < b->obs_max);
}

void glci_collector_group_add(glci_collector_group_t *g, uint64_t bytes, uint64_t obs)
{
    g->batches++;
    g->bytes += bytes;
    g->obs += obs;
}

void glci_collector_memory_init(void)
{
    mallopt(M_MMAP_THRESHOLD, S_MMAP_THRESHOLD);
    mallopt(M_TOP_PAD, S_TOP_PAD);
}

void glci_collector_memory_note(uint64_t bytes)
{
    s_since_trim += bytes;
}

void glci_collector_memory_idle(int64_t now_ms)
{
    if (s_since_trim < S_TRIM_BYTES || now_ms - s_last_trim_ms < S_TRIM_EVERY_MS)
        return;
    malloc_trim(0);
    s_since_trim = 0;
    s_last_trim_ms = now_ms;
}
