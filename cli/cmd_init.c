/* glci init and glci collector-key: creating a store with its embedded
 * framework and the collector's CURVE key pair (DIR/collector.key, secret,
 * mode 0600; DIR/collector.pub), printing that public key for the cities'
 * agents, and rotating it: `rotate` makes a new pair and installs it in
 * their place, keeping the old one as DIR/collector.previous.key and .pub
 * (served on previous_listen until `retire` removes it). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint(pub, fp);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "store", cli->store_dir,
                              "public_key", pub->z85, "fingerprint", fp, "key_file", pub_path);
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
    if (!opts[0].value[0])
        return glci_usage_error(cmd, "--framework names no file: the path is empty");

    char sec_path[4096], pub_path[4096], err[512] = "";
    s_key_paths(cli, sec_path, sizeof sec_path, pub_path, sizeof pub_path);
    /* Refuse before creating anything, so a failed init leaves no store. */
    if (access(sec_path, F_OK) == 0)
        return glci_fail(cmd, "%s already exists, not overwritten", sec_path);
    if (access(pub_path, F_OK) == 0)
        return glci_fail(cmd, "%s already exists, not overwritten", pub_path);

    /* A failure from here on leaves nothing of init's: the store layer
     * removes what a failed create made, and a key that cannot be written
     * takes the new store (and the folder, when init made it) with it, so
     * the same init succeeds once there is room. */
    struct stat sb;
    int dir_made = stat(cli->store_dir, &sb) != 0;
    /* a lock file that was there stays, as glci_store_create keeps it */
    char lock[4200];
    snprintf(lock, sizeof lock, "%s/lock.mdb", cli->store_dir);
    int lock_made = lstat(lock, &sb) != 0;
    rc = glci_store_create(cli->store_dir, opts[0].value, NULL, err, sizeof err);
    if (rc == GLCI_STORE_EEXIST)
        return glci_fail(cmd, "a store already exists at %s", cli->store_dir);
    if (rc != 0)
        return glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));

    /* A folder that was there keeps its mode, unless others may write it:
     * then anyone could replace the store or the key about to be written,
     * and the collector's own check would refuse it (docs/OPERATIONS.md). */
    if (stat(cli->store_dir, &sb) == 0 && (sb.st_mode & (S_IWGRP | S_IWOTH))) {
        const char *who = (sb.st_mode & S_IWOTH) ? "others" : "group";
        if (chmod(cli->store_dir, 0700) != 0) {
            int e = errno;
            glci_store_unmake(cli->store_dir, dir_made, lock_made);
            return glci_fail(cmd, "%s is mode %04o, writable by %s, and cannot be made "
                             "0700: %s", cli->store_dir, (unsigned)sb.st_mode & 07777, who,
                             strerror(e));
        }
        fprintf(stderr, "glci init: note: %s was mode %04o, writable by %s; made 0700\n",
                cli->store_dir, (unsigned)sb.st_mode & 07777, who);
    }
    glci_key_t pub, sec;
    int keys = glci_key_generate(&pub, &sec, err, sizeof err) == 0 &&
               glci_keyfile_write_secret(sec_path, &pub, &sec, err, sizeof err) == 0;
    if (keys && glci_keyfile_write_public(pub_path, &pub, err, sizeof err) != 0) {
        unlink(sec_path);
        keys = 0;
    }
    memset(&sec, 0, sizeof sec);
    if (!keys) {
        glci_store_unmake(cli->store_dir, dir_made, lock_made);
        return glci_fail(cmd, "%s", err);
    }
    if (cli->format == GLCI_FMT_TABLE) {
        char fp[GLCI_KEY_FP_LEN + 1];
        glci_key_fingerprint(&pub, fp);
        fprintf(stderr, "glci init: store created at %s; collector public key "
                        "(also in %s; fingerprint %s):\n", cli->store_dir, pub_path, fp);
    }
    return s_print_key(cli, pub_path, &pub);
}

static void s_previous_paths(const glci_cli_t *cli, char *sec, size_t sec_len,
                             char *pub, size_t pub_len)
{
    snprintf(sec, sec_len, "%s/collector.previous.key", cli->store_dir);
    snprintf(pub, pub_len, "%s/collector.previous.pub", cli->store_dir);
}

/* The pair in use: collector.key and a collector.pub holding its public
 * key. A missing collector.pub is written again from collector.key when
 * rebuild is set (the secret file holds the public key too). 0 with *pub,
 * or -1 with err naming the file at fault. */
static int s_pair_in_use(const char *sec_path, const char *pub_path, int rebuild,
                         glci_key_t *pub, char *err, size_t errlen)
{
    if (rebuild && access(pub_path, F_OK) != 0 && errno == ENOENT) {
        glci_key_t sec;
        int rc = glci_keyfile_read(sec_path, pub, &sec, err, errlen);
        memset(&sec, 0, sizeof sec);
        return rc == 0 ? glci_keyfile_write_public(pub_path, pub, err, errlen) : -1;
    }
    return glci_keyfile_read_pair(sec_path, pub_path, pub, err, errlen);
}

/* `rotate`: the new pair goes to .new files first, then four renames put
 * the old pair aside and the new one in its place. Every file they move is
 * checked first, and a rename that fails undoes those before it, so the
 * store keeps a working pair in use whatever happens short of a crash (a
 * crash between two renames leaves both pairs on disk, named, for an
 * operator). */
static int s_rotate(const glci_cmd_t *cmd, const glci_cli_t *cli)
{
    char sec_path[4096], pub_path[4096], psec[4096], ppub[4096], nsec[4200], npub[4200];
    char err[512] = "";
    s_key_paths(cli, sec_path, sizeof sec_path, pub_path, sizeof pub_path);
    s_previous_paths(cli, psec, sizeof psec, ppub, sizeof ppub);
    snprintf(nsec, sizeof nsec, "%s.new", sec_path);
    snprintf(npub, sizeof npub, "%s.new", pub_path);
    glci_key_t old_pub, pub, sec;
    if (access(psec, F_OK) == 0)
        return glci_fail(cmd, "a rotation is under way (%s exists): once every agent has the "
                         "key in use, retire the previous one (glci collector-key retire), "
                         "then rotate again", psec);
    if (s_pair_in_use(sec_path, pub_path, 1, &old_pub, err, sizeof err) != 0)
        return glci_fail(cmd, "%s", err);
    unlink(nsec);                     /* left by a rotation that failed half-way */
    unlink(npub);
    if (glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(nsec, &pub, &sec, err, sizeof err) != 0 ||
        glci_keyfile_write_public(npub, &pub, err, sizeof err) != 0) {
        memset(&sec, 0, sizeof sec);
        unlink(nsec);
        return glci_fail(cmd, "%s", err);
    }
    memset(&sec, 0, sizeof sec);
    const char *from[] = {sec_path, pub_path, nsec, npub};
    const char *to[] = {psec, ppub, sec_path, pub_path};
    size_t done = 0;
    while (done < 4 && rename(from[done], to[done]) == 0)
        done++;
    if (done < 4) {
        int e = errno;
        size_t undone = done;
        while (undone > 0 && rename(to[undone - 1], from[undone - 1]) == 0)
            undone--;
        if (undone == 0) {
            unlink(nsec);
            unlink(npub);
            return glci_fail(cmd, "cannot install the new key in %s: %s -> %s: %s (nothing "
                             "changed: the key in use is still %s)", cli->store_dir,
                             from[done], to[done], strerror(e), sec_path);
        }
        /* Stopped at the first reverse rename that failed: the renames
         * before it stand, and nothing is removed (a new key file may be
         * half of the pair in place). Say where every moved file is. */
        int ue = errno;
        char moved[4 * 8300];
        size_t at = 0;
        for (size_t i = 0; i < undone && at < sizeof moved; i++)
            at += (size_t)snprintf(moved + at, sizeof moved - at, "%s%s is at %s",
                                   i ? "; " : "", from[i], to[i]);
        return glci_fail(cmd, "cannot install the new key in %s: %s -> %s: %s; undoing it "
                         "failed too (%s -> %s: %s), so the keys are half rotated: %s. Move "
                         "them back by hand before the collector starts", cli->store_dir,
                         from[done], to[done], strerror(e), to[undone - 1], from[undone - 1],
                         strerror(ue), moved);
    }
    char fp[GLCI_KEY_FP_LEN + 1], old_fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint(&pub, fp);
    glci_key_fingerprint(&old_pub, old_fp);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "store", cli->store_dir,
                              "public_key", pub.z85, "fingerprint", fp, "key_file", pub_path,
                              "previous_key", old_pub.z85, "previous_fingerprint", old_fp);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    if (cli->format == GLCI_FMT_TABLE)
        fprintf(stderr, "glci collector-key rotate: new collector key %s installed in %s; the "
                "previous key %s is kept as %s. Reload the collector (systemctl reload "
                "glci-collector) to serve the new key; give every agent the new "
                "collector_key; then glci collector-key retire. New key:\n", fp,
                cli->store_dir, old_fp, psec);
    return s_print_key(cli, pub_path, &pub);
}

static int s_retire(const glci_cmd_t *cmd, const glci_cli_t *cli)
{
    char psec[4096], ppub[4096], err[512];
    s_previous_paths(cli, psec, sizeof psec, ppub, sizeof ppub);
    glci_key_t old, in_use;
    if (access(psec, F_OK) != 0)
        return glci_fail(cmd, "no previous collector key in %s: no rotation is under way",
                         cli->store_dir);
    /* the previous key may be the only one left that works */
    char sec_path[4096], pub_path[4096];
    s_key_paths(cli, sec_path, sizeof sec_path, pub_path, sizeof pub_path);
    if (s_pair_in_use(sec_path, pub_path, 0, &in_use, err, sizeof err) != 0)
        return glci_fail(cmd, "the previous key %s is not retired while there is no key pair "
                         "in use: %s", psec, err);
    if (glci_keyfile_read(psec, &old, NULL, err, sizeof err) != 0)
        return glci_fail(cmd, "%s", err);
    if (unlink(psec) != 0)
        return glci_fail(cmd, "%s: %s", psec, strerror(errno));
    unlink(ppub);
    char fp[GLCI_KEY_FP_LEN + 1];
    glci_key_fingerprint(&old, fp);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "store", cli->store_dir, "retired_key",
                              old.z85, "retired_fingerprint", fp);
        return glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    }
    if (cli->format == GLCI_FMT_CSV) {
        printf("retired_key,retired_fingerprint\r\n");
        glci_csv_field(stdout, old.z85);
        printf(",%s\r\n", fp);
        return GLCI_EXIT_OK;
    }
    printf("previous collector key %s retired; reload the collector (systemctl reload "
           "glci-collector) to stop serving it\n", fp);
    return GLCI_EXIT_OK;
}

static int s_collector_key(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc,
                           char **argv)
{
    const char *pos[1] = {NULL};
    size_t n_pos = 0;
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 0, 1, &n_pos);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (n_pos && strcmp(pos[0], "rotate") != 0 && strcmp(pos[0], "retire") != 0)
        return glci_usage_error(cmd, "unknown action '%.80s' (rotate or retire)", pos[0]);
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        return GLCI_EXIT_FAIL;
    glci_store_close(&st);
    if (n_pos && strcmp(pos[0], "rotate") == 0)
        return s_rotate(cmd, cli);
    if (n_pos)
        return s_retire(cmd, cli);

    char sec_path[4096], pub_path[4096], psec[4096], ppub[4096], err[512] = "";
    s_key_paths(cli, sec_path, sizeof sec_path, pub_path, sizeof pub_path);
    s_previous_paths(cli, psec, sizeof psec, ppub, sizeof ppub);
    glci_key_t pub, prev;
    if (access(pub_path, F_OK) != 0)
        return glci_fail(cmd, "no collector key at %s (the store was not made by glci init)",
                         pub_path);
    /* the key the collector serves is collector.key's: a collector.pub
     * that is not its public half is never printed as the key in use */
    if (s_pair_in_use(sec_path, pub_path, 0, &pub, err, sizeof err) != 0)
        return glci_fail(cmd, "%s", err);
    int has_prev = glci_keyfile_read(ppub, &prev, NULL, err, sizeof err) == 0;
    if (cli->format == GLCI_FMT_TABLE) {
        char fp[GLCI_KEY_FP_LEN + 1], pfp[GLCI_KEY_FP_LEN + 1];
        glci_key_fingerprint(&pub, fp);
        if (has_prev) {
            glci_key_fingerprint(&prev, pfp);
            fprintf(stderr, "glci collector-key: key in use %s (%s); the previous key %s is "
                    "kept until glci collector-key retire\n", fp, pub_path, pfp);
        } else {
            fprintf(stderr, "glci collector-key: key in use %s (%s)\n", fp, pub_path);
        }
    }
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
    .usage = "collector-key [rotate | retire]",
    .summary = "print, rotate or retire the collector's public key",
    .help = "Prints the collector's public CURVE key in use (Z85) from collector.pub\n"
            "in the store folder, for the agents' collector_key setting, and its\n"
            "fingerprint on stderr; a collector.pub that is not collector.key's\n"
            "public half is refused.\n\n"
            "  rotate   makes a new key pair and installs it as collector.key and\n"
            "           collector.pub; the old pair is kept as collector.previous.key\n"
            "           and .pub. A reloaded collector serves the new key on listen and\n"
            "           the previous one on previous_listen (when set) until it is\n"
            "           retired. Needs no other program (docs/OPERATIONS.md).\n"
            "  retire   removes the previous key once every agent has the new one;\n"
            "           reload the collector to stop serving it.",
    .pos = {"ACTION"},
    .run = s_collector_key,
};
