/* The descriptors of the commands that write documents -- report (HTML
 * site, PDF profile: Cairo) and template (xlsx sheet: libxlsxwriter) --
 * apart from their code (cmd_report.c, cmd_template.c; export's workbook in
 * cmd_export_xlsx.c), which is only in glci-report (cli_documents.h). glci
 * lists them, checks their global options and runs glci-report for them. */
#include "cli.h"
#include "cli_documents.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int glci_cli_documents_elsewhere(const glci_cmd_t *cmd, const glci_cli_t *cli)
{
    if (!cmd->run)
        return 1;
    return cmd->xlsx && cli->format == GLCI_FMT_XLSX && !glci_export_xlsx;
}

int glci_cli_documents_exec(const glci_cmd_t *cmd, char **argv)
{
    char self[PATH_MAX], path[PATH_MAX + sizeof GLCI_CLI_DOCUMENTS_PROGRAM + 1] = "";
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/%s", self, GLCI_CLI_DOCUMENTS_PROGRAM);
        }
    }
    if (!path[0] || access(path, X_OK) != 0)
        snprintf(path, sizeof path, "%s/%s", GLCI_LIBEXEC_DIR, GLCI_CLI_DOCUMENTS_PROGRAM);
    fflush(stdout);
    execv(path, argv);
    return glci_fail(cmd, "cannot run its program %s: %s", path,
                     strerror(errno));
}

const glci_cmd_t glci_cmd_report = {
    .name = "report",
    .usage = "report --out DIR [--period P] [--as-of TIME | --edition NAME] | "
             "report --city ID --pdf FILE [--period P] [--as-of TIME | --edition NAME]",
    .summary = "HTML report site, or a city's printable PDF profile",
    .help =
        "Writes the report of period P (default: the period rank chooses).\n"
        "With --edition NAME, the published edition's table (its period), and\n"
        "the trend and values as the store held them when the edition froze;\n"
        "with --as-of TIME, the store as of that time (as rank --as-of). Every\n"
        "page names the table it shows.\n\n"
        "With --out DIR: a static site that opens from the folder with no\n"
        "network: index.html, the league table (sortable, filtered by country),\n"
        "and city-ID.html per city with a radar chart of its focus areas against\n"
        "the network median, its index over time, area bars, the trend of each\n"
        "score (as `glci trend`), whom to learn from (as `glci peers`), its\n"
        "indicators (value, period, carried mark, score, light as `glci show`)\n"
        "and what is missing for the round. DIR is made if missing; it must be\n"
        "empty or hold an earlier report.\n\n"
        "With --city ID --pdf FILE: the city's printable profile, two A4 pages.\n\n"
        "Pages are labelled synthetic when any value comes from a source whose\n"
        "text starts with \"synthetic\" (as the demo's data does).\n\n"
        "Options:\n"
        "  --out DIR     the folder of the site (- is refused)\n"
        "  --city ID     the city of the profile\n"
        "  --pdf FILE    the profile to write (a file; - is refused)\n"
        "  --period P    the period (year)\n"
        "  --as-of TIME  now, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS (UTC)\n"
        "  --edition NAME  a published edition (glci edition list)",
    .run = glci_cmd_report_run,     /* NULL in glci */
};

const glci_cmd_t glci_cmd_template = {
    .name = "template",
    .usage = "template --format xlsx|csv --out FILE [--city ID] [--period P]",
    .summary = "data-entry sheet for city staff (xlsx or agent-ready CSV)",
    .help =
        "Writes a data-entry sheet for round P (default: the current round, the\n"
        "latest whose year has ended; see glci missing): one row per indicator\n"
        "with the columns of the agent's\n"
        "spool CSV (indicator, period, value, source). With --city ID each\n"
        "row also shows the city's last value of the indicator (last_value,\n"
        "last_period); the CSV's rows start with the city's values for P where\n"
        "it has them, while the xlsx's value and source cells always start\n"
        "empty (a spreadsheet saves numbers to 15 digits: enter them again).\n\n"
        "--format csv: the CSV the agent takes into its spool folder once every\n"
        "value is filled (delete rows you do not report: the agent refuses a\n"
        "file with an empty value). --format xlsx: the same rows in the sheet\n"
        "'entry', each value checked by Excel against the indicator's valid\n"
        "range, with its name, unit and last value shown as you type; a sheet\n"
        "'guide' lists every indicator; saved as CSV, 'entry' is the agent's\n"
        "format.\n\n"
        "P must lie within the framework's periods and not after the latest\n"
        "period the collector takes today (the current year plus the\n"
        "framework's future_periods).\n\n"
        "Options:\n"
        "  --out FILE    the sheet to write (a file; - is refused)\n"
        "  --city ID     fill in what the store holds for this city\n"
        "  --period P    the round (year)",
    .xlsx = 1,
    .run = glci_cmd_template_run,   /* NULL in glci */
};
