/* glci status: a summary of the store -- cities, observations, periods,
 * last ingest, rejects, size, and the embedded framework's id, version and
 * hash. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int s_status(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    int status = GLCI_EXIT_FAIL;
    glci_store_status_t s;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    const glci_framework_t *fw = glci_store_framework(st);
    rc = glci_view_status(v, &s);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the store status");
        goto cleanup;
    }
    int has_data = s.first_period != 0 || s.last_period != 0;
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, "
            "s:{s:s, s:s, s:s, s:I, s:I, s:I}}",
            "store", cli->store_dir, "cities", (json_int_t)s.n_cities, "active_cities",
            (json_int_t)s.n_active, "observations", (json_int_t)s.n_observations,
            "history", (json_int_t)s.n_history, "batches", (json_int_t)s.n_batches,
            "rejects", (json_int_t)s.n_rejects, "first_period",
            has_data ? json_integer(s.first_period) : json_null(), "last_period",
            has_data ? json_integer(s.last_period) : json_null(), "last_ingest",
            glci_json_time(s.last_ingest), "size_bytes", (json_int_t)s.size_bytes,
            "file_bytes", (json_int_t)s.file_bytes, "schema", (json_int_t)s.schema,
            "framework", "id", fw->id, "version", fw->version, "hash", fw->hash_hex,
            "areas", (json_int_t)fw->n_areas, "focus", (json_int_t)fw->n_focus,
            "indicators", (json_int_t)fw->n_ind);
        /* of the rejects, how many the per-city cap of the log dropped */
        json_object_set_new(j, "rejects_dropped", json_integer((json_int_t)s.rejects_dropped));
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
        goto cleanup;
    }
    char ingest[40];
    glci_fmt_time(s.last_ingest, ingest, sizeof ingest);
    if (cli->format == GLCI_FMT_CSV) {
        static const char *const headers[] = {
            "store", "cities", "active_cities", "observations", "history", "batches",
            "rejects", "first_period", "last_period", "last_ingest", "size_bytes",
            "file_bytes", "schema", "framework", "framework_version", "framework_hash"};
        glci_table_t *t = glci_table_new(16, headers, NULL);
        glci_table_cell(t, cli->store_dir);
        glci_table_cellf(t, "%u", s.n_cities);
        glci_table_cellf(t, "%u", s.n_active);
        glci_table_cellf(t, "%llu", (unsigned long long)s.n_observations);
        glci_table_cellf(t, "%llu", (unsigned long long)s.n_history);
        glci_table_cellf(t, "%llu", (unsigned long long)s.n_batches);
        glci_table_cellf(t, "%llu", (unsigned long long)s.n_rejects);
        if (has_data) {
            glci_table_cellf(t, "%d", (int)s.first_period);
            glci_table_cellf(t, "%d", (int)s.last_period);
        } else {
            glci_table_cell(t, "");
            glci_table_cell(t, "");
        }
        glci_table_cell(t, s.last_ingest ? ingest : "");
        glci_table_cellf(t, "%llu", (unsigned long long)s.size_bytes);
        glci_table_cellf(t, "%llu", (unsigned long long)s.file_bytes);
        glci_table_cellf(t, "%u", s.schema);
        glci_table_cell(t, fw->id);
        glci_table_cell(t, fw->version);
        glci_table_cell(t, fw->hash_hex);
        glci_table_print_csv(t, stdout);
        glci_table_free(&t);
        status = GLCI_EXIT_OK;
        goto cleanup;
    }
    /* For people: one aligned line per item. */
    glci_table_t *t = glci_table_new(2, (const char *const[]){"item", "value"}, NULL);
    glci_table_cell(t, "store");
    glci_table_cellf(t, "%s (schema %u)", cli->store_dir, s.schema);
    glci_table_cell(t, "framework");
    glci_table_cellf(t, "%s %s (%u areas, %u focus areas, %u indicators)", fw->id,
                     fw->version, fw->n_areas, fw->n_focus, fw->n_ind);
    glci_table_cell(t, "hash");
    glci_table_cell(t, fw->hash_hex);
    glci_table_cell(t, "cities");
    glci_table_cellf(t, "%u (%u active)", s.n_cities, s.n_active);
    glci_table_cell(t, "observations");
    glci_table_cellf(t, "%llu current, %llu applied with revisions",
                     (unsigned long long)s.n_observations, (unsigned long long)s.n_history);
    glci_table_cell(t, "batches");
    glci_table_cellf(t, "%llu", (unsigned long long)s.n_batches);
    glci_table_cell(t, "rejects");
    if (s.rejects_dropped)
        glci_table_cellf(t, "%llu (the oldest %llu no longer in the log: it keeps the last of "
                         "each city)", (unsigned long long)s.n_rejects,
                         (unsigned long long)s.rejects_dropped);
    else
        glci_table_cellf(t, "%llu", (unsigned long long)s.n_rejects);
    glci_table_cell(t, "periods");
    if (has_data)
        glci_table_cellf(t, "%d-%d", (int)s.first_period, (int)s.last_period);
    else
        glci_table_cell(t, "none yet");
    glci_table_cell(t, "last ingest");
    glci_table_cell(t, s.last_ingest ? ingest : "never");
    glci_table_cell(t, "size");
    glci_table_cellf(t, "%.1f MiB in use, data file %.1f MiB on disk",
                     (double)s.size_bytes / 1048576.0, (double)s.file_bytes / 1048576.0);
    glci_table_print_rows(t, stdout);
    glci_table_free(&t);
    status = GLCI_EXIT_OK;
cleanup:
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_status = {
    .name = "status",
    .usage = "status",
    .summary = "store summary: cities, observations, periods, size, framework",
    .help = "Summarises the store: cities (active ones), current observations and\n"
            "all applied values, batches, rejects, the periods with data, the last\n"
            "ingest (UTC), the space in use and the size of the data file on disk,\n"
            "and the embedded framework's id, version and hash.",
    .run = s_status,
};
