/* glci-collector: parse the command line and the config file, then run the
 * daemon (collector/collector_daemon.c), or check what it needs
 * (--check-config, collector/collector_check.c). Exit 0 after a clean stop,
 * 1 on a runtime failure, 2 on a usage or configuration error; a check
 * exits 0 or 1. */
#include <stdio.h>

#include "glci_collector.h"
#include "glci_log.h"

int main(int argc, char **argv)
{
    glci_collector_args_t args;
    glci_collector_config_t cfg;
    char err[512];

    if (glci_collector_parse_args(argc, argv, &args, err, sizeof err) != 0) {
        fprintf(stderr, "glci-collector: %s (try --help)\n", err);
        return GLCI_COLLECTOR_EXIT_USAGE;
    }
    if (args.help) {
        glci_collector_usage(stdout);
        return GLCI_COLLECTOR_EXIT_OK;
    }
    if (args.check)
        return glci_collector_check(&args, stdout, stderr);
    if (glci_collector_config_build(&args, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "glci-collector: %s\n", err);
        return GLCI_COLLECTOR_EXIT_USAGE;
    }
    glci_log_init("glci-collector", cfg.log_level);
    int status = glci_collector_run(&args, &cfg);
    glci_collector_config_release(&cfg);
    return status;
}
