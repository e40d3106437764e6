/* One authenticated city flooding a running collector while another goes
 * on with its ordinary batches (issue 20, finding 4): shared by the fault
 * test (tests/fault/test_collector_flood.c, which asserts loose bounds) and
 * glci-bench flood (which prints the figures as JSON).
 *
 * The flooding city sends flood_batches batches of flood_obs observations
 * of an indicator no framework has (every one is rejected, the ack lists
 * them all), keeping flood_window batches in flight, as fast as the
 * collector takes them. The calm city sends one batch of one valid
 * observation at a time and times each from send to ack, from the flood's
 * first send until its last ack. The collector's resident size (VmRSS and
 * RssAnon of /proc/PID/status) is read before, every 100 ms during and
 * settle_ms after the flood. */
#ifndef GLCI_FLOOD_H
#define GLCI_FLOOD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    const char *endpoint;           /* the collector's, tcp://127.0.0.1:PORT */
    const char *server_pub;         /* its public key, Z85 */
    const char *flood_pub, *flood_sec;   /* the flooding city's key pair, Z85 */
    const char *calm_pub, *calm_sec;     /* the calm city's */
    const char *calm_indicator;     /* an indicator of the store's framework */
    size_t flood_batches;           /* 512 in the issue */
    size_t flood_obs;               /* 10000 */
    size_t flood_window;            /* 64 */
    pid_t collector;                /* whose memory is read */
    int settle_ms;                  /* wait before the "after" reading (3000) */
    int timeout_ms;                 /* give up (and fail) after this */
} glci_flood_opts_t;

typedef struct {
    size_t flood_acked;             /* flood batches answered APPLIED */
    uint64_t flood_rejected;        /* rejections their acks listed */
    double flood_s;                 /* first flood send to last flood ack */
    size_t calm_acks;               /* calm batches answered during the flood */
    double calm_p50_ms, calm_p99_ms, calm_max_ms;
    long rss_before_kib, rss_peak_kib, rss_after_kib;
    long anon_before_kib, anon_peak_kib, anon_after_kib;
    char error[512];                /* "" when the run completed */
} glci_flood_result_t;

/* Runs the flood. Returns 0 with *r filled, or -1 with r->error set (a
 * socket failure, an unexpected answer, the timeout). */
int glci_flood_run(const glci_flood_opts_t *o, glci_flood_result_t *r);

/* VmRSS and RssAnon of pid in kB (-1 when unreadable). */
void glci_flood_rss(pid_t pid, long *rss_kib, long *anon_kib);

#endif
