/* glci-agent: the city's agent (SPEC §5). Thin entry point: builds the
 * configuration from --config FILE and flags (which may stand anywhere on
 * the command line), then runs the command. Exit status: 0 success, 1
 * runtime failure, 2 usage error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_agent_cmd.h"
#include "glci_agent_config.h"
#include "glci_alloc.h"
#include "glci_output.h"

int main(int argc, char **argv)
{
    static const char *const commands[] = {"run", "push", "retract", "status", "keygen",
                                           "enrol", "check"};
    glci_agent_config_t cfg;
    char err[1024];
    int n_rest = 0, status = 2, werr;
    char **rest = glci_xcalloc((size_t)argc + 1, sizeof *rest);

    /* A closed pipe is a write error for every command (one line, exit 1:
     * the check at the end), not a silent death by SIGPIPE; `run` ignores
     * it too (glci_agent_daemon.c). */
    signal(SIGPIPE, SIG_IGN);

    /* --help before anything else, so it works with a broken config. */
    const char *command = NULL;
    int help = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            help = 1;
        for (size_t k = 0; !command && k < sizeof commands / sizeof commands[0]; k++)
            if (strcmp(argv[i], commands[k]) == 0)
                command = commands[k];
    }
    if (help) {
        glci_agent_usage(command, stdout);
        status = 0;
        goto done;
    }

    if (glci_agent_config_from_args(&cfg, argc - 1, argv + 1, rest, &n_rest, err,
                                    sizeof err) != 0) {
        /* config errors, unreadable file included, are usage errors (as the
         * collector's), except to check, for which they are what it looks for */
        if (command && strcmp(command, "check") == 0) {
            fprintf(stderr, "glci-agent check: %s\n", err);
            status = 1;
        } else {
            fprintf(stderr, "glci-agent: %s\n", err);
            status = 2;
        }
        goto done;
    }
    if (n_rest == 0) {
        glci_agent_usage(NULL, stderr);
        goto done;
    }
    command = rest[0];
    if (strcmp(command, "run") == 0) {
        if (n_rest > 1) {
            fprintf(stderr, "glci-agent run: unexpected argument '%s' (see glci-agent run "
                    "--help)\n", rest[1]);
            goto done;
        }
        status = glci_agent_cmd_run(&cfg, argc - 1, argv + 1);
    } else if (strcmp(command, "push") == 0) {
        status = glci_agent_cmd_push(&cfg, n_rest - 1, rest + 1);
    } else if (strcmp(command, "retract") == 0) {
        status = glci_agent_cmd_retract(&cfg, n_rest - 1, rest + 1);
    } else if (strcmp(command, "status") == 0) {
        status = glci_agent_cmd_status(&cfg, n_rest - 1, rest + 1);
    } else if (strcmp(command, "keygen") == 0) {
        status = glci_agent_cmd_keygen(&cfg, n_rest - 1, rest + 1);
    } else if (strcmp(command, "enrol") == 0) {
        status = glci_agent_cmd_enrol(&cfg, n_rest - 1, rest + 1);
    } else if (strcmp(command, "check") == 0) {
        status = glci_agent_cmd_check(&cfg, n_rest - 1, rest + 1);
    } else {
        fprintf(stderr, "glci-agent: unknown command '%s' (see glci-agent --help)\n", command);
    }
done:
    /* Lost output is a failure whatever the command returned: one line,
     * unless the command failed with its own already. */
    werr = glci_output_check(stdout);
    if (werr != 0) {
        if (status == 0)
            fprintf(stderr, "glci-agent%s%s: cannot write the output: %s\n", command ? " " : "",
                    command ? command : "", strerror(werr));
        status = 1;
    }
    free(rest);
    return status;
}
