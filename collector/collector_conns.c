/* The connection bookkeeping behind glci_collector_connected_agents: see
 * collector_conns.h for what libzmq's monitor tells and the rule. */
#include "collector_conns.h"

#include <stdlib.h>
#include <string.h>

#include "glci_alloc.h"

enum { S_NONE = 0, S_PENDING, S_OK, S_FAILED };

/* A descriptor beyond any process's limit is a confused event, not a
 * connection: ignored rather than grown for. */
#define S_FD_MAX (1u << 24)

void glci_collector_conns_init(glci_collector_conns_t *c)
{
    memset(c, 0, sizeof *c);
}

void glci_collector_conns_release(glci_collector_conns_t *c)
{
    free(c->state);
    memset(c, 0, sizeof *c);
}

/* Places the pool on the pending descriptors when that is unambiguous, and
 * empties it when no descriptor is left to hold it. */
static void s_settle(glci_collector_conns_t *c)
{
    if (c->pending == 0) {
        c->pool_ok = c->pool_failed = 0;
        return;
    }
    if (c->pool_ok + c->pool_failed != c->pending || (c->pool_ok && c->pool_failed))
        return;
    unsigned char to = c->pool_ok ? S_OK : S_FAILED;
    for (size_t fd = 0; fd < c->cap; fd++)
        if (c->state[fd] == S_PENDING)
            c->state[fd] = to;
    if (to == S_OK)
        c->ok_open += c->pending;
    c->pending = c->pool_ok = c->pool_failed = 0;
}

void glci_collector_conns_accepted(glci_collector_conns_t *c, uint32_t fd)
{
    if (fd >= S_FD_MAX)
        return;
    if (fd >= c->cap) {
        size_t cap = c->cap ? c->cap : 64;
        while (cap <= fd)
            cap *= 2;
        c->state = glci_xrealloc(c->state, cap);
        memset(c->state + c->cap, S_NONE, cap - c->cap);
        c->cap = cap;
    }
    /* an end not seen (it cannot happen in order; be safe) */
    if (c->state[fd] != S_NONE)
        glci_collector_conns_disconnected(c, fd);
    c->state[fd] = S_PENDING;
    c->pending++;
}

void glci_collector_conns_result(glci_collector_conns_t *c, int ok)
{
    if (c->pool_ok + c->pool_failed >= c->pending)
        return;                /* no pending connection can have it */
    if (ok)
        c->pool_ok++;
    else
        c->pool_failed++;
    s_settle(c);
}

int glci_collector_conns_disconnected(glci_collector_conns_t *c, uint32_t fd)
{
    if (fd >= c->cap)
        return 0;
    unsigned char was = c->state[fd];
    c->state[fd] = S_NONE;
    int silent = 0;
    switch (was) {
    case S_OK:
        c->ok_open--;
        break;
    case S_PENDING:
        c->pending--;
        if (c->pool_failed)
            c->pool_failed--;
        else if (c->pool_ok > c->pending)
            c->pool_ok--;
        else
            silent = 1;
        s_settle(c);
        break;
    default:
        break;
    }
    return silent;
}

uint64_t glci_collector_conns_connected(const glci_collector_conns_t *c)
{
    return c->ok_open + c->pool_ok;
}
