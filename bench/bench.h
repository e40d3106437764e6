/* The benchmarks of glci-bench. Each takes the arguments after its name,
 * prints one JSON object on stdout and returns the exit status. */
#ifndef GLCI_BENCH_H
#define GLCI_BENCH_H

int glci_bench_index(int argc, char **argv);
int glci_bench_store(int argc, char **argv);
int glci_bench_ingest(int argc, char **argv);
int glci_bench_agent(int argc, char **argv);
int glci_bench_cli(int argc, char **argv);
int glci_bench_metrics(int argc, char **argv);

#endif
