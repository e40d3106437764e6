/* The benchmarks of glci-bench. Each takes the arguments after its name,
 * prints one JSON object on stdout and returns the exit status. */
#ifndef GLCI_BENCH_H
#define GLCI_BENCH_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

int glci_bench_index(int argc, char **argv);
int glci_bench_store(int argc, char **argv);
int glci_bench_ingest(int argc, char **argv);
int glci_bench_agent(int argc, char **argv);
int glci_bench_cli(int argc, char **argv);
int glci_bench_sensitivity(int argc, char **argv);
int glci_bench_report(int argc, char **argv);

/* From bench_cli.c, for benchmarks that time whole glci processes: a
 * monotonic clock in ms; the median of n values (sorts v); one run of bin
 * with argv (output to /dev/null), its wall time in ms or -1 unless it
 * exited 0; a store in dir built through the store API (the shipped
 * framework, `cities` cities city00000.., the first `inds` indicators in
 * each of `periods` periods ending 2025), 0 or -1. */
double glci_bench_now_ms(void);
/* An option's value v (NULL when missing) as a whole number in [min, max]
 * into *out: 0, or -1 after "glci-bench BENCH: NAME needs a whole number in
 * [MIN, MAX]" on stderr. */
int glci_bench_opt(const char *bench, const char *name, const char *v, int64_t min,
                   int64_t max, int64_t *out);
/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int glci_bench_free_port(void);
double glci_bench_median(double *v, size_t n);
double glci_bench_run(const char *bin, char *const *argv);
int glci_bench_build_store(const char *dir, int64_t cities, int64_t inds, int64_t periods);
int glci_bench_metrics(int argc, char **argv);
int glci_bench_connections(int argc, char **argv);
int glci_bench_flood(int argc, char **argv);
int glci_bench_pagecache(int argc, char **argv);

/* /proc (bench_proc.c): the 1-minute load average; a process's user +
 * system CPU time in clock ticks and in seconds; its open descriptors; a
 * "Name:   N kB" field of its status file ("VmRSS:", "RssAnon:") in KiB.
 * Each -1 when it cannot be read. */
double glci_bench_loadavg(void);
long long glci_bench_cpu_ticks(pid_t pid);
double glci_bench_cpu_s(pid_t pid);
long glci_bench_fds(pid_t pid);
long glci_bench_status_kib(pid_t pid, const char *field);

/* The machine's CPU time in clock ticks, all cores summed, from the "cpu"
 * line of /proc/stat: idle (idle + iowait), steal (time the hypervisor
 * gave to others while this machine wanted to run) and the total of every
 * field. 0, or -1 when it cannot be read. Two readings' differences tell
 * whether a benchmark's run was starved: see glci_bench_cpu_share. */
typedef struct {
    unsigned long long idle, steal, total;
} glci_bench_machine_t;
int glci_bench_machine(glci_bench_machine_t *m);
/* Percent of the machine's CPU time between readings a and b that was
 * stolen (steal nonzero) or idle: -1 when a reading failed or no tick
 * passed. */
double glci_bench_share(const glci_bench_machine_t *a, const glci_bench_machine_t *b,
                        int steal);

#endif
