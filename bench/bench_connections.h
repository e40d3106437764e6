/* glci-bench connections: what the bench and its agent processes say to
 * each other over two pipes (see bench_connections.c for the benchmark,
 * bench_connections_agents.c for the agents). Every message is one fixed
 * struct; a reply to SEND is followed by n_lat doubles (ack latencies in
 * ms). */
#ifndef GLCI_BENCH_CONNECTIONS_H
#define GLCI_BENCH_CONNECTIONS_H

#include <stdint.h>

#include "glci_keyfile.h"
#include "glci_index.h"

enum {
    GLCI_BC_CONNECT = 'C',  /* one DEALER per agent, connected (no waiting) */
    GLCI_BC_ROUND = 'R',    /* every agent sends one batch; wait for every ack */
    GLCI_BC_SEND = 'S',     /* the latency phase: the first `senders` agents send */
    GLCI_BC_QUIT = 'Q'      /* close everything and exit */
};

typedef struct {
    int32_t op;
    int32_t senders;        /* SEND: agents of this process that send */
    int32_t batch;          /* SEND: observations per batch */
    int32_t seconds;        /* SEND: how long */
    double rate;            /* SEND: batches per second per sender */
    double t_start;         /* SEND: CLOCK_MONOTONIC seconds of the first send */
    double spacing;         /* SEND: seconds between the first sends of two senders */
    int32_t sender_base;    /* SEND: this process's first sender, counted over all */
    int32_t reserved;
} glci_bc_cmd_t;

typedef struct {
    int32_t op;
    int32_t ok;             /* sockets made / batches acked APPLIED */
    int32_t failed;         /* batches not acked, or acked otherwise */
    int32_t n_lat;          /* SEND: latencies that follow */
    char error[256];        /* the first failure, if any */
} glci_bc_reply_t;

/* What an agent process needs; the bench fills it before forking, so the
 * child has its own copy. */
typedef struct {
    const char *endpoint;
    const glci_key_t *server_pub;
    const glci_key_t *pub, *sec;    /* every agent's, indexed by agent number */
    const glci_framework_t *fw;     /* for the batches' content */
    int first, n;                   /* the agents of this process */
    int cmd_fd, res_fd;             /* commands in, replies out */
} glci_bc_agents_t;

/* The city id of agent k ("c00042"), into buf (at least 16 bytes). */
void glci_bc_city(int k, char *buf, size_t len);

/* The body of an agent process: serves commands until QUIT or the end of
 * the command pipe. Returns the exit status (0, or 1 after a failure it
 * could not report). */
int glci_bc_agents_main(const glci_bc_agents_t *a);

/* Whole writes and reads on a pipe: 0, or -1 (errno set; 0 bytes read at
 * the end of the pipe is -1 with errno 0). */
int glci_bc_write(int fd, const void *buf, size_t len);
int glci_bc_read(int fd, void *buf, size_t len);

#endif
