/* glci-bench agent: see bench.h. */
#include <stdio.h>

#include "bench.h"

int glci_bench_agent(int argc, char **argv)
{
    fprintf(stderr, "glci-bench agent: this benchmark is not written yet\n");
    return 1;
}
