/* glci init and glci collector-key: creating a store with its embedded
 * framework and the collector's CURVE key pair (DIR/collector.key, secret,
 * mode 0600; DIR/collector.pub), and printing that public key for the
 * cities' agents. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "glci_keyfile.h"

static void s_key_paths(const glci_cli_t *cli, char *sec, size_t sec_len,
                        char *pub, size_t pub_len)
{
    snprintf(sec, sec_len, "%s/collector.key", cli->store_dir);
    snprintf(pub, pub_len, "%s/collector.pub", cli->store_dir);
}

static int s_print_key(const glci_cli_t *cli, const char *pub_path, const glci_key_t *pub)
{
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "store", cli->store_dir,
                              "public_key", pub->z85, "key_file", pub_path);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    if (cli->format == GLCI_FMT_CSV) {
        fputs("public_key\r\n", stdout);
        glci_csv_field(stdout, pub->z85);
        fputs("\r\n", stdout);
        return GLCI_EXIT_OK;
    }
    printf("%s\n", pub->z85);
    return GLCI_EXIT_OK;
}

static int s_init(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "framework", .has_arg = 1}};
    int rc = glci_args_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (!opts[0].seen)
        return glci_usage_error(cmd, "missing --framework FILE");

    char sec_path[4096], pub_path[4096], err[512] = "";
    s_key_paths(cli, sec_path, sizeof sec_path, pub_path, sizeof pub_path);
    /* Refuse before creating anything, so a failed init leaves no store. */
    if (access(sec_path, F_OK) == 0)
        return glci_fail(cmd, "%s already exists, not overwritten", sec_path);
    if (access(pub_path, F_OK) == 0)
        return glci_fail(cmd, "%s already exists, not overwritten", pub_path);

    rc = glci_store_create(cli->store_dir, opts[0].value, NULL, err, sizeof err);
    if (rc == GLCI_STORE_EEXIST)
        return glci_fail(cmd, "a store already exists at %s", cli->store_dir);
    if (rc != 0)
        return glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));

    glci_key_t pub, sec;
    if (glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(sec_path, &pub, &sec, err, sizeof err) != 0)
        return glci_fail(cmd, "%s", err);
    if (glci_keyfile_write_public(pub_path, &pub, err, sizeof err) != 0)
        return glci_fail(cmd, "%s", err);
    memset(&sec, 0, sizeof sec);
    if (cli->format == GLCI_FMT_TABLE)
        fprintf(stderr, "glci init: store created at %s; collector public key "
                        "(also in %s):\n", cli->store_dir, pub_path);
    return s_print_key(cli, pub_path, &pub);
}

static int s_collector_key(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc,
                           char **argv)
{
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        return GLCI_EXIT_FAIL;
    glci_store_close(&st);

    char sec_path[4096], pub_path[4096], err[512] = "";
    s_key_paths(cli, sec_path, sizeof sec_path, pub_path, sizeof pub_path);
    glci_key_t pub;
    if (access(pub_path, F_OK) != 0)
        return glci_fail(cmd, "no collector key at %s (the store was not made by glci init)",
                         pub_path);
    if (glci_keyfile_read(pub_path, &pub, NULL, err, sizeof err) != 0)
        return glci_fail(cmd, "%s", err);
    return s_print_key(cli, pub_path, &pub);
}

const glci_cmd_t glci_cmd_init = {
    .name = "init",
    .usage = "init --framework FILE",
    .summary = "create a store with the framework and the collector's key pair",
    .help =
        "Creates a store in the --store folder (created if missing; it must hold\n"
        "no store), embeds the indicator framework FILE, and creates the\n"
        "collector's CURVE key pair: collector.key (secret, mode 0600, read by\n"
        "glci-collector) and collector.pub. Prints the public key, which every\n"
        "city's agent needs as its collector_key.\n\n"
        "Options:\n"
        "  --framework FILE  the indicator framework (INI, see docs/FRAMEWORK.md)",
    .run = s_init,
};

const glci_cmd_t glci_cmd_collector_key = {
    .name = "collector-key",
    .usage = "collector-key",
    .summary = "print the collector's public key",
    .help = "Prints the collector's public CURVE key (Z85) from collector.pub in the\n"
            "store folder, for the agents' collector_key setting.",
    .run = s_collector_key,
};
