/* What a store an earlier release left needs from a newer program besides
 * its schema upgrade (glci_store.c): the schema it had, so that the
 * one-way conversion is said, and modes that the first release gave its
 * files (data.mdb and lock.mdb 0644, from its glci init and its backups)
 * and that --check-config would refuse for ever, taken away once.
 *
 * The modes judged are the table below, which --check-config reads too
 * (and docs/OPERATIONS.md's), plus others reading lock.mdb, which the
 * first release allowed and nothing needs. Each path is opened without following
 * a link and changed through its descriptor, so what was looked at is what
 * is changed; that is why it runs before the store is opened (the close of
 * a descriptor of lock.mdb would drop LMDB's POSIX locks on it). */
#include "glci_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t glci_store_schema_opened(const glci_store_t *st)
{
    return st->schema_opened;
}

uint32_t glci_store_schema(const glci_store_t *st)
{
    return st->schema;
}

static const glci_store_mode_rule_t s_rules[] = {
    {"", "store folder", S_IWGRP | S_IWOTH, 0700},
    {"data.mdb", "store file", S_IWGRP | S_IWOTH | S_IROTH, 0600},
    {"lock.mdb", "store lock file", S_IWGRP | S_IWOTH, 0600},
    /* schema 7: the history file, every city's data too */
    {S_HIST_DIR, "history folder", S_IWGRP | S_IWOTH, 0700},
    {S_HIST_DIR "/data.mdb", "history file", S_IWGRP | S_IWOTH | S_IROTH, 0600},
    {S_HIST_DIR "/lock.mdb", "history lock file", S_IWGRP | S_IWOTH, 0600},
};

const glci_store_mode_rule_t *glci_store_mode_rules(size_t *n)
{
    *n = sizeof s_rules / sizeof s_rules[0];
    return s_rules;
}

static void s_note(glci_store_note_fn note, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_note(glci_store_note_fn note, void *arg, const char *fmt, ...)
{
    char line[4200];
    va_list ap;
    if (!note)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    note(arg, line);
}

/* One path: 0 (nothing to do, or done), or EIO when its mode stays. */
static int s_tighten(const char *path, int dir, unsigned bad, glci_store_note_fn note, void *arg)
{
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (dir ? O_DIRECTORY : 0);
    int fd = open(path, flags);
    if (fd < 0)
        return 0;             /* absent, a link, or not ours to read: left as it is */
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) != 0 || sb.st_uid != geteuid() ||
        (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)))
        goto out;
    unsigned mode = (unsigned)sb.st_mode & 07777;
    if (!(mode & bad))
        goto out;
    unsigned want = dir ? mode & ~(unsigned)(S_IWGRP | S_IWOTH) : 0600u;
    if (fchmod(fd, (mode_t)want) != 0) {
        s_note(note, arg, "store: %s is mode %04o and cannot be made %04o: %s", path, mode,
               want, strerror(errno));
        rc = GLCI_STORE_EIO;
        goto out;
    }
    s_note(note, arg, "store: %s was mode %04o; made it %04o", path, mode, want);
out:
    close(fd);
    return rc;
}

int glci_store_tighten(const char *dir, glci_store_note_fn note, void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules[0]; i++) {
        char path[4096];
        int is_dir = !s_rules[i].name[0] || strcmp(s_rules[i].name, S_HIST_DIR) == 0;
        /* a file others may read is tightened too: lock.mdb's reading by
         * others, which the check lets pass, is something nothing needs */
        unsigned bad = s_rules[i].bad | (is_dir ? 0u : (unsigned)S_IROTH);
        if (!s_rules[i].name[0])
            snprintf(path, sizeof path, "%s", dir);
        else
            snprintf(path, sizeof path, "%s/%s", dir, s_rules[i].name);
        if (s_tighten(path, is_dir, bad, note, arg) != 0)
            rc = GLCI_STORE_EIO;
    }
    return rc;
}
