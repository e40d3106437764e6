/* glci-bench index: see bench.h. */
#include <stdio.h>

#include "bench.h"

int glci_bench_index(int argc, char **argv)
{
    fprintf(stderr, "glci-bench index: this benchmark is not written yet\n");
    return 1;
}
