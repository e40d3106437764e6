/* What glci's analysis commands (trend, peers, sensitivity: SPEC §8) share:
 * finding the city asked for and the period's results, as the analysis in
 * index/glci_analysis.h takes them. Each prints its own one-line failure
 * and returns the exit status to give (0 when it succeeded). */
#ifndef GLCI_CLI_ANALYSIS_H
#define GLCI_CLI_ANALYSIS_H

#include "cli.h"
#include "glci_analysis.h"

/* Copies city id's record into *c. On failure prints "no such city 'ID'"
 * (or the store's error) and returns 1; 0 on success. */
int glci_analysis_city(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                       const char *id, glci_city_t *c);

/* Reads every result of period P (glci_period_load with copies of the
 * results, ranked rows first) into *p, and makes *cities (owned by the
 * caller, free() it; its ids and results point into *p, valid until
 * glci_period_release) the same rows for the analysis. Prints "no data for
 * period P" when it has none and returns 1; 0 on success. */
int glci_analysis_period(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                         const glci_framework_t *fw, int32_t period, glci_period_t *p,
                         glci_city_result_t **cities);

/* The record of city id for its name; out->name is "" when it cannot be
 * read (a name is a courtesy: its absence never fails a command). */
void glci_analysis_name(glci_view_t *v, const char *id, glci_city_t *out);

#endif
