/* glci-bench store: see bench.h. */
#include <stdio.h>

#include "bench.h"

int glci_bench_store(int argc, char **argv)
{
    fprintf(stderr, "glci-bench store: this benchmark is not written yet\n");
    return 1;
}
