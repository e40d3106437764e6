/* A test's CURVE DEALERs talking to a real glci-collector: clients with a
 * monitor of their handshakes, batches of one indicator, acks checked as
 * they come, and the store's mark of a stream read beside the running
 * collector. Every failure ends the cmocka test with the tail of the
 * collector's stderr. The sockets a test opens are kept in the peer, so
 * that a test that fails halfway still closes them at its teardown
 * (glci_peer_close_all) and zmq_ctx_term does not wait for them. */
#ifndef GLCI_PEER_H
#define GLCI_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "glci_keyfile.h"
#include "glci_store.h"
#include "glci_testsupport.h"
#include "glci_wire.h"

#define GLCI_PEER_OPEN_MAX 16

typedef struct {
    void *ctx;                      /* the test's ZeroMQ context */
    const char *endpoint;           /* the collector's data endpoint */
    const glci_key_t *server_pub;   /* the collector's public key */
    const char *store;              /* its store, read for marks */
    glci_ts_proc_t *const *proc;    /* the collector, for its log; may be NULL */
    int wait_ms;                    /* how long a handshake or an ack may take */
    int monitors;
    void *open[GLCI_PEER_OPEN_MAX];
} glci_peer_t;

/* A store in a new temp dir (tag names it) with n cities ids[i], each
 * with a new key pair pub[i]/sec[i], the collector's key pair in its
 * collector.key, an endpoint on a free loopback port, a ZeroMQ context,
 * and the peer over them (handshakes and acks may take wait_ms). */
typedef struct {
    char *dir, *store, *bin;         /* the temp dir, its store, glci-collector */
    char endpoint[64];
    glci_key_t server_pub, server_sec;
    void *ctx;
    glci_ts_proc_t *proc;            /* the collector, once the test starts it */
    glci_peer_t peer;
} glci_peer_lab_t;

/* 0, or -1 with the reason on stderr. */
int glci_peer_lab_open(glci_peer_lab_t *l, const char *tag, const char *const *ids, size_t n,
                       glci_key_t *pub, glci_key_t *sec, int wait_ms);

/* Stops the collector (SIGTERM, stop_ms), closes the sockets a failed test
 * left, ends the context, removes the dir and frees. */
void glci_peer_lab_close(glci_peer_lab_t *l, int stop_ms);

/* The monotonic clock in ms; a sleep of ms. */
int64_t glci_peer_ms(void);
void glci_peer_sleep_ms(int ms);

/* Ends the test with what and the last 3,000 bytes of the collector's
 * stderr. */
void glci_peer_fail(const glci_peer_t *p, const char *what);

/* Keeps sock among the open ones (keep 1) or forgets it (keep 0). */
void glci_peer_keep(glci_peer_t *p, void *sock, int keep);

/* Closes every socket still kept (a failed test's). */
void glci_peer_close_all(glci_peer_t *p);

/* A DEALER with the key pair pub/sec, connected to the collector, with a
 * monitor of its handshakes in *monitor. */
void *glci_peer_dealer(glci_peer_t *p, const glci_key_t *pub, const glci_key_t *sec,
                       void **monitor);

/* Waits for the DEALER's CURVE handshake to succeed (the collector's ZAP
 * handler admitted its key). Returns the monotonic ms it was seen at. */
int64_t glci_peer_wait_handshake(const glci_peer_t *p, void *monitor);

/* Stops watching sock's handshakes and closes *monitor; NULLs it. */
void glci_peer_monitor_end(glci_peer_t *p, void *sock, void **monitor);

/* Closes a DEALER and its monitor (NULL, or *monitor NULL: none); NULLs
 * both. */
void glci_peer_close(glci_peer_t *p, void **sock, void **monitor);

/* Sends seq of stream for city: n observations of adult_learning_rate,
 * period first_period + i % 20, values base + (i % 4096) / 1024. */
void glci_peer_send(void *sock, uint64_t stream, uint64_t seq, const char *city, size_t n,
                    int64_t first_period, double base);

/* 1 if a message is waiting on sock within timeout_ms. */
int glci_peer_waiting(void *sock, int timeout_ms);

/* The next ack on sock into *ack (the caller releases it); returns the
 * monotonic ms it arrived at. */
int64_t glci_peer_recv_ack(const glci_peer_t *p, void *sock, glci_wire_ack_t *ack);

/* The next ack on sock, expected to be status for seq with acked; returns
 * the monotonic ms it arrived at. */
int64_t glci_peer_expect_ack(const glci_peer_t *p, void *sock, uint64_t seq, int status,
                             uint64_t acked);

/* The highest seq the store has applied of (city, stream), 0 for none, and
 * the store's counters in *status when it is not NULL (a read-only open
 * beside the collector). */
uint64_t glci_peer_mark(const glci_peer_t *p, const char *city, uint64_t stream,
                        glci_store_status_t *status);

#endif
