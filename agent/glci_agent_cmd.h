/* The commands of glci-agent (SPEC §5, §7, §9): run, push, retract, status, keygen,
 * enrol, check. Each
 * takes the configuration built from the file and flags and the remaining
 * arguments after the command name, prints its own errors (one line on
 * stderr) and returns the exit status: 0 success, 1 runtime failure, 2
 * usage error. */
#ifndef GLCI_AGENT_CMD_H
#define GLCI_AGENT_CMD_H

#include <stdio.h>

#include "glci_agent_config.h"
#include "glci_check.h"

/* The daemon: spool intake, delivery, until SIGTERM/SIGINT; SIGHUP reloads
 * the config file. Refuses to start while another `run` holds the outbox. */
int glci_agent_cmd_run(glci_agent_config_t *cfg, int argc, char **argv);

/* push INDICATOR PERIOD VALUE [--observed-at T] [--source S] | push --csv FILE */
int glci_agent_cmd_push(const glci_agent_config_t *cfg, int argc, char **argv);

/* retract INDICATOR PERIOD: a retraction into the outbox (SPEC §7) */
int glci_agent_cmd_retract(const glci_agent_config_t *cfg, int argc, char **argv);

/* status [--format table|json|csv] */
int glci_agent_cmd_status(const glci_agent_config_t *cfg, int argc, char **argv);

/* check [--timeout S]: the settings, keys and their modes, the folders, the
 * metrics file and a handshake with the collector (glci_agent_check.c);
 * one line per problem, 0 when there is none, else 1. */
int glci_agent_cmd_check(const glci_agent_config_t *cfg, int argc, char **argv);

/* The modes check judges (docs/OPERATIONS.md, "Modes the checks judge"):
 * the folder holding key_file, the config file and the outbox folder, one
 * problem through c for each that group or others may write. check prints
 * them; run logs them as warnings at start (c->to_log) and runs all the
 * same. */
void glci_agent_check_modes(glci_check_t *c, const glci_agent_config_t *cfg);

/* keygen --out FILE */
int glci_agent_cmd_keygen(const glci_agent_config_t *cfg, int argc, char **argv);

/* enrol STRING|- [--config-out FILE] [--key-file FILE] [--timeout S]
 * (glci_agent_enrol.c): makes the key pair, registers it with the
 * collector by the enrolment string's one-time secret, writes the
 * configuration. */
int glci_agent_cmd_enrol(const glci_agent_config_t *cfg, int argc, char **argv);

/* The city the outbox in dir belongs to, into city (len bytes): 1 when an
 * outbox there records one, 0 when there is no outbox or it records none
 * yet (it adopts the next city that opens it), -1 when it cannot be
 * opened. Opens without creating or recording anything: for `check` and
 * `enrol`, which must not claim an outbox. */
int glci_agent_outbox_city(const char *dir, char *city, size_t len);

/* Prints the usage of a command (NULL: the program's) on out, for --help
 * and errors: its text, then the settings from the configuration table. */
void glci_agent_usage(const char *command, FILE *out);

#endif
