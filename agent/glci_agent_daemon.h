/* glci-agent's daemon (`glci-agent run`): spool intake and delivery until
 * SIGTERM/SIGINT; SIGHUP reloads the config file from the same command
 * line. */
#ifndef GLCI_AGENT_DAEMON_H
#define GLCI_AGENT_DAEMON_H

#include <stddef.h>

#include "glci_agent_config.h"

/* Runs the daemon with cfg (checked for what `run` needs first); argc/argv
 * are the command line, kept to rebuild the configuration on SIGHUP.
 * Refuses to start while another `run` holds the outbox. Returns the exit
 * status: 0 after a signal, 1 on a failure, 2 for a bad configuration. */
int glci_agent_daemon_run(glci_agent_config_t *cfg, int argc, char **argv);

/* Whether a `run` holds the outbox folder outbox now (its agent.lock is
 * locked): 1 with its run id in run (len bytes; "" when the run wrote
 * none), else 0 with run "". The run id is written into agent.lock once
 * the lock is taken and stamps the keys the run records in the outbox
 * (glci_outbox_set_run), so a reader trusts only the keys of the run
 * holding the lock: a run that ended (or was killed) left its own. */
int glci_agent_daemon_holder(const char *outbox, char *run, size_t len);

#endif
