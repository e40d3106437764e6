/* glci-bench cli: see bench.h. */
#include <stdio.h>

#include "bench.h"

int glci_bench_cli(int argc, char **argv)
{
    fprintf(stderr, "glci-bench cli: this benchmark is not written yet\n");
    return 1;
}
