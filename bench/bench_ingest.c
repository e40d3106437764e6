/* glci-bench ingest: see bench.h. */
#include <stdio.h>

#include "bench.h"

int glci_bench_ingest(int argc, char **argv)
{
    fprintf(stderr, "glci-bench ingest: this benchmark is not written yet\n");
    return 1;
}
