/* glci-bench: runs one benchmark by name and prints its JSON on stdout.
 * Benchmarks are never part of the pass/fail suite. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} s_benches[] = {
    {"index", glci_bench_index, "incremental index update vs city count"},
    {"store", glci_bench_store, "durable ingest throughput vs raw LMDB"},
    {"ingest", glci_bench_ingest, "collector over CURVE, several senders"},
    {"agent", glci_bench_agent, "agent idle footprint and drain rate"},
    {"cli", glci_bench_cli, "rank/show latency as whole processes"},
    {"sensitivity", glci_bench_sensitivity, "rank sensitivity Monte Carlo vs samples and cities"},
    {"report", glci_bench_report, "glci report (site, PDF, xlsx) as whole processes"},
    {"metrics", glci_bench_metrics, "metric update cost on the hot path, scrape cost"},
    {"connections", glci_bench_connections, "10,000 CURVE agents on one collector: handshakes, "
                                            "RSS per connection, ack latency"},
    {"flood", glci_bench_flood, "one city floods the collector: another's acks, memory"},
    {"pagecache", glci_bench_pagecache, "the kernel's cost of a commit's page writes: "
                                        "append vs overwrite"},
};

int main(int argc, char **argv)
{
    size_t n = sizeof s_benches / sizeof s_benches[0];
    if (argc >= 2) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], s_benches[i].name) == 0)
                return s_benches[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: glci-bench NAME [options]\n");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %-11s %s\n", s_benches[i].name, s_benches[i].what);
    return 2;
}
