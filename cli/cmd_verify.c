/* glci verify: recomputes every result from the raw observations with the
 * engine's full path and compares it bit for bit with the stored one (and
 * the rank view with the results); lists each difference and exits 1 if
 * there is any. Runs in one read transaction, so it is safe on a live
 * store. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    glci_format_t format;
    json_t *diffs;
} s_verify_t;

static void s_diff(void *ctx, const char *difference)
{
    s_verify_t *x = ctx;
    if (x->diffs) {
        json_array_append_new(x->diffs, json_string(difference));
    } else if (x->format == GLCI_FMT_CSV) {
        glci_csv_field(stdout, difference);
        fputs("\r\n", stdout);
    } else {
        printf("%s\n", difference);
    }
}

static int s_verify(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        return GLCI_EXIT_FAIL;
    s_verify_t x = {.format = cli->format};
    if (cli->format == GLCI_FMT_JSON)
        x.diffs = json_array();
    else if (cli->format == GLCI_FMT_CSV)
        fputs("difference\r\n", stdout);
    uint64_t n = 0;
    int status = GLCI_EXIT_FAIL;
    rc = glci_store_verify(st, s_diff, &x, &n);
    if (rc != 0 && rc != GLCI_STORE_EVERIFY) {
        glci_cli_store_fail(cmd, cli, rc, "cannot verify");
        goto cleanup;
    }
    if (x.diffs) {
        json_t *j = json_pack("{s:b, s:I, s:O}", "ok", rc == 0, "count", (json_int_t)n,
                              "differences", x.diffs);
        glci_json_print(&j, stdout);
    } else if (cli->format == GLCI_FMT_TABLE && rc == 0) {
        printf("ok: every stored score and every edition equals its recomputation\n");
    }
    /* stdout first, then the count on stderr; lost output is a failure
     * even when every score agrees */
    int werr = glci_output_check(stdout);
    if (werr != 0)
        glci_fail(cmd, "cannot write the output: %s", strerror(werr));
    else if (rc == GLCI_STORE_EVERIFY)
        glci_fail(cmd, "%llu difference%s between stored and recomputed scores in %s",
                  (unsigned long long)n, n == 1 ? "" : "s", cli->store_dir);
    else
        status = GLCI_EXIT_OK;
cleanup:
    json_decref(x.diffs);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_verify = {
    .name = "verify",
    .usage = "verify",
    .summary = "recompute every score and compare with the stored ones",
    .help = "Recomputes every (city, period) result from the stored observations\n"
            "with the full method and compares it bit for bit with the stored\n"
            "result, and the rank view with the results. Prints each difference\n"
            "and exits 1 if there is any. Safe while the collector runs.",
    .run = s_verify,
};
