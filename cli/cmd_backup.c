/* glci backup DEST: a consistent, compacted hot copy of the store while the
 * collector runs, verified after it is written. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int s_backup(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (!*pos[0])
        return glci_usage_error(cmd, "DEST must not be empty");
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        return GLCI_EXIT_FAIL;
    char err[512] = "";
    int status = GLCI_EXIT_FAIL;
    rc = glci_store_backup(st, pos[0], err, sizeof err);
    if (rc == GLCI_STORE_ENOTEMPTY) {
        glci_fail(cmd, "backup destination %s is not empty", pos[0]);
    } else if (rc == GLCI_STORE_EVERIFY) {
        glci_fail(cmd, "the copy at %s does not verify%s%s", pos[0], err[0] ? ": " : "", err);
    } else if (rc != 0) {
        glci_fail(cmd, "cannot back up to %s: %s", pos[0], err[0] ? err : glci_store_strerror(rc));
    } else if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:b}", "store", cli->store_dir, "dest", pos[0],
                              "verified", 1);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        fputs("store,dest,verified\r\n", stdout);
        glci_csv_field(stdout, cli->store_dir);
        fputc(',', stdout);
        glci_csv_field(stdout, pos[0]);
        fputs(",true\r\n", stdout);
        status = GLCI_EXIT_OK;
    } else {
        printf("store %s copied to %s (compacted) and verified\n", cli->store_dir, pos[0]);
        status = GLCI_EXIT_OK;
    }
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_backup = {
    .name = "backup",
    .usage = "backup DEST",
    .summary = "consistent compacted hot copy, verified",
    .help = "Copies the store into the folder DEST (created if missing; it must be\n"
            "empty) as one consistent, compacted snapshot while the collector keeps\n"
            "running, then opens the copy and verifies it. To restore, stop the\n"
            "collector and point --store at the copy.",
    .pos = {"DEST"},
    .run = s_backup,
};
