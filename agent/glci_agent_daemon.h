/* glci-agent's daemon (`glci-agent run`): spool intake and delivery until
 * SIGTERM/SIGINT; SIGHUP reloads the config file from the same command
 * line. */
#ifndef GLCI_AGENT_DAEMON_H
#define GLCI_AGENT_DAEMON_H

#include "glci_agent_config.h"

/* Runs the daemon with cfg (checked for what `run` needs first); argc/argv
 * are the command line, kept to rebuild the configuration on SIGHUP.
 * Refuses to start while another `run` holds the outbox. Returns the exit
 * status: 0 after a signal, 1 on a failure, 2 for a bad configuration. */
int glci_agent_daemon_run(glci_agent_config_t *cfg, int argc, char **argv);

#endif
