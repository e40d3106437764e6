/* glci backup DEST: a consistent, compacted hot copy of the store while the
 * collector runs, verified after it is written, together with the
 * collector's key files that `glci init` keeps beside the data, so the copy
 * is a store the collector can be started on (every agent was given that
 * collector key). */
#define _XOPEN_SOURCE 700   /* realpath */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_text.h"

/* Every key file the collector may use: the pair in use and, during a
 * rotation, the previous pair (glci collector-key rotate); .key files hold
 * the secret key. */
static const struct {
    const char *name;
    int secret;
} s_key_files[] = {{"collector.pub", 0}, {"collector.key", 1},
                   {"collector.previous.pub", 0}, {"collector.previous.key", 1}};

/* The mode of a secret key's copy, whatever the original's: the collector
 * refuses a secret key file that group or others may read. */
#define S_SECRET_MODE 0600

/* Copies dir/name to dest/name, never over an existing file: a secret key
 * created with S_SECRET_MODE (so no one else can read it at any moment),
 * a public one with the source's permission bits. *mode receives the
 * source's permission bits. Returns 1 if copied, 0 if the store has no
 * such file, -1 with err filled on failure. */
static int s_copy_key(const char *dir, const char *dest, const char *name, int secret,
                      mode_t *mode, char *err, size_t errlen)
{
    char from[4096], to[4096], buf[4096];
    snprintf(from, sizeof from, "%s/%s", dir, name);
    snprintf(to, sizeof to, "%s/%s", dest, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
        return -1;
    }
    struct stat sb;
    int out = -1, rc = -1;
    if (fstat(in, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
        goto done;
    }
    *mode = sb.st_mode & 0777;
    mode_t want = secret ? S_SECRET_MODE : *mode;
    /* the umask only takes bits away; fchmod gives back the owner's */
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, want);
    if (out < 0 || fchmod(out, want) != 0) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        goto done;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", from, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                snprintf(err, errlen, "%s: %s", to, strerror(errno));
                goto done;
            }
            off += w;
        }
    }
    if (fsync(out) != 0) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        goto done;
    }
    rc = 1;
done:
    if (out >= 0)
        close(out);
    if (rc < 0 && out >= 0)
        unlink(to);
    close(in);
    return rc;
}

/* Copies the collector's key files that exist; *copied counts them. A
 * secret key that group or others could read is said in a note on stderr,
 * one line: its copy is S_SECRET_MODE, but the collector refuses the
 * original as it is. */
static int s_copy_keys(const glci_cmd_t *cmd, const char *dir, const char *dest, int *copied,
                       char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof s_key_files / sizeof s_key_files[0]; i++) {
        mode_t mode = 0;
        int rc = s_copy_key(dir, dest, s_key_files[i].name, s_key_files[i].secret, &mode, err,
                            errlen);
        if (rc < 0)
            return -1;
        if (rc > 0 && s_key_files[i].secret && (mode & 077))
            fprintf(stderr, "glci %s: note: %s/%s is accessible by group or others (mode "
                    "%04o), which the collector refuses; its copy is %04o (run chmod 600 on "
                    "the original)\n", cmd->name, dir, s_key_files[i].name, (unsigned)mode,
                    (unsigned)S_SECRET_MODE);
        *copied += rc;
    }
    return 0;
}

/* Makes the folders above dest that are missing, mode 0700 (a backup is as
 * private as the store). 0, or -1 with a line saying what to do. */
static int s_make_parents(const char *dest, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s", dest) >= sizeof path) {
        glci_errf(err, errlen, "%s: path too long", dest);
        return -1;
    }
    char *last = strrchr(path, '/');
    if (!last || last == path)
        return 0;
    *last = '\0';
    for (char *p = path + 1;; p++) {
        int end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            glci_errf(err, errlen, "cannot create the folder %s: %s (as root: install -d -o "
                      "glci -g glci -m 0700 %s)", path, strerror(errno), path);
            return -1;
        }
        if (end)
            break;
        *p = '/';
    }
    return 0;
}

/* path resolved as far as it exists (realpath of its deepest existing
 * ancestor) and the rest, which does not exist and so holds no link, taken
 * as written ("." dropped, ".." one up), into out. 0, or -1 (errno). */
static int s_resolve(const char *path, char *out, size_t len)
{
    char head[PATH_MAX], rest[PATH_MAX] = "";
    if ((size_t)snprintf(head, sizeof head, "%s", path) >= sizeof head) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char real[PATH_MAX];
    while (!realpath(head[0] ? head : ".", real)) {
        if (errno != ENOENT)
            return -1;
        char *slash = strrchr(head, '/');
        while (slash && slash > head && slash[1] == '\0') {   /* "dir/" */
            *slash = '\0';
            slash = strrchr(head, '/');
        }
        const char *name = slash ? slash + 1 : head;
        char joined[PATH_MAX];
        if ((size_t)snprintf(joined, sizeof joined, "%s%s%s", name, rest[0] ? "/" : "", rest) >=
            sizeof joined) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(rest, joined, sizeof rest);
        if (slash == head)
            head[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            head[0] = '\0';
    }
    if ((size_t)snprintf(out, len, "%s", real) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = rest, *next; c && *c; c = next) {
        next = strchr(c, '/');
        if (next)
            *next++ = '\0';
        if (!*c || strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            char *up = strrchr(out, '/');
            if (up && up > out)
                *up = '\0';
            else
                snprintf(out, len, "/");
            continue;
        }
        size_t n = strlen(out);
        if ((size_t)snprintf(out + n, len - n, "%s%s", n > 1 ? "/" : "", c) >= len - n) {
            errno = ENAMETOOLONG;
            return -1;
        }
    }
    return 0;
}

/* A backup into the store it copies would copy into what it reads, and a
 * restore would put a store inside itself: DEST the store or any folder
 * below it is refused (a folder above it is fine). 0, or -1 with the line. */
static int s_dest_outside(const char *store, const char *dest, char *err, size_t errlen)
{
    char s[PATH_MAX], d[PATH_MAX];
    if (s_resolve(store, s, sizeof s) != 0 || s_resolve(dest, d, sizeof d) != 0)
        return 0;                  /* the store's open, or the copy, says what is wrong */
    size_t n = strlen(s);
    if (strcmp(s, d) == 0)
        glci_errf(err, errlen, "backup destination %s is the store itself: give a folder "
                  "outside the store %s", dest, store);
    else if (strncmp(s, d, n) == 0 && (d[n] == '/' || n == 1))
        glci_errf(err, errlen, "backup destination %s is inside the store %s it copies: "
                  "give a folder outside it", dest, store);
    else
        return 0;
    return -1;
}

static int s_backup(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    if (!*pos[0])
        return glci_usage_error(cmd, "DEST must not be empty");
    char why[4608];
    if (s_dest_outside(cli->store_dir, pos[0], why, sizeof why) != 0)
        return glci_fail(cmd, "%s", why);
    if (s_make_parents(pos[0], why, sizeof why) != 0)
        return glci_fail(cmd, "%s", why);
    glci_store_t *st = NULL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0)
        return GLCI_EXIT_FAIL;
    char err[4608] = "";        /* room for a path and its error */
    int status = GLCI_EXIT_FAIL, keys = 0;
    rc = glci_store_backup(st, pos[0], err, sizeof err);
    if (rc == GLCI_STORE_ENOTEMPTY) {
        glci_fail(cmd, "backup destination %s is not empty", pos[0]);
    } else if (rc == GLCI_STORE_EVERIFY) {
        glci_fail(cmd, "the copy at %s does not verify%s%s", pos[0], err[0] ? ": " : "", err);
    } else if (rc != 0) {
        glci_fail(cmd, "cannot back up to %s: %s", pos[0], err[0] ? err : glci_store_strerror(rc));
    } else if ((rc = s_copy_keys(cmd, cli->store_dir, pos[0], &keys, err, sizeof err)) != 0) {
        glci_fail(cmd, "the store was copied to %s but not its collector key: %s", pos[0], err);
    } else if (cli->format == GLCI_FMT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:b, s:i}", "store", cli->store_dir, "dest", pos[0],
                              "verified", 1, "key_files", keys);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        fputs("store,dest,verified\r\n", stdout);
        glci_csv_field(stdout, cli->store_dir);
        fputc(',', stdout);
        glci_csv_field(stdout, pos[0]);
        fputs(",true\r\n", stdout);
        status = GLCI_EXIT_OK;
    } else {
        printf("store %s copied to %s (compacted) and verified%s\n", cli->store_dir, pos[0],
               keys ? ", with the collector's key files" : "");
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
            "running, then opens the copy and verifies it. Missing folders above\n"
            "DEST are made (mode 0700). DEST is made 0700 and its files 0600. The\n"
            "collector's key files (collector.pub, collector.key, and during a\n"
            "rotation collector.previous.pub and .key) are copied too, the secret\n"
            "keys mode 0600 whatever the original's (a note on stderr says when\n"
            "group or others could read one): keep DEST as private as the store.\n"
            "To restore, stop the collector and copy DEST in place of the store\n"
            "(docs/OPERATIONS.md).",
    .pos = {"DEST"},
    .run = s_backup,
};
