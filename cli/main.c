/* glci, the operators' CLI: a thin entry point over glci_cli_main (cli.c),
 * so tests and benchmarks can link every command. */
#include "cli.h"

int main(int argc, char **argv)
{
    return glci_cli_main(argc, argv);
}
