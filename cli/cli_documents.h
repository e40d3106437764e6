/* The commands that write documents, and the program that runs them.
 *
 * report, template and export --format xlsx need Cairo, fontconfig and
 * libxlsxwriter, whose libraries and their own dependencies cost about
 * 2 ms to load at every start of a process. So their code (cmd_report.c,
 * cmd_template.c, cmd_export_xlsx.c) is left out of glci and linked into
 * glci-report, the whole CLI under another name: glci runs glci-report with
 * its own arguments for these commands, and every other command starts
 * without those libraries (docs/CLI.md, "Performance"). Their --help is
 * the descriptor's text, which glci holds: glci answers it itself
 * (glci_args_help), with or without glci-report.
 *
 * The entry points are weak references: in glci they are NULL, in
 * glci-report and the programs that link every command, the functions. */
#ifndef GLCI_CLI_DOCUMENTS_H
#define GLCI_CLI_DOCUMENTS_H

#include "cli.h"

#define GLCI_CLI_DOCUMENTS_PROGRAM "glci-report"

#pragma weak glci_cmd_report_run
#pragma weak glci_cmd_template_run
#pragma weak glci_export_xlsx

/* 1 if cmd, run with these global options, needs code this program does
 * not hold (its entry point is a NULL weak reference), else 0. */
int glci_cli_documents_elsewhere(const glci_cmd_t *cmd, const glci_cli_t *cli);

/* Replaces this process with glci-report and argv, the program's whole
 * command line as given: the glci-report beside this program's own file
 * (a build tree, or both in one folder), else the installed one
 * (GLCI_LIBEXEC_DIR). Returns only on failure, with the exit status after
 * a one-line error naming the program it could not run. */
int glci_cli_documents_exec(const glci_cmd_t *cmd, char **argv);

#endif
