/* Opening outside-named files for reading, and the temporaries of files
 * written whole and renamed into place: see glci_file.h. */
#include "glci_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_text.h"

const char *glci_file_kind(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

static int s_null_device(const struct stat *sb)
{
    return S_ISCHR(sb->st_mode) && major(sb->st_rdev) == 1 && minor(sb->st_rdev) == 3;
}

int glci_file_open_regular(const char *path, unsigned opts, uint64_t max_bytes,
                           const char *what, struct stat *sb, char *err, size_t errlen)
{
    struct stat st;
    int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    if (opts & GLCI_FILE_NOFOLLOW)
        flags |= O_NOFOLLOW;
    int fd = open(path, flags);
    if (fd < 0) {
        if (errno == ELOOP && (opts & GLCI_FILE_NOFOLLOW))
            return glci_errf(err, errlen, "%s: is a symbolic link, not a regular file", path);
        return glci_errf(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return glci_errf(err, errlen, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) && !((opts & GLCI_FILE_NULL_OK) && s_null_device(&st))) {
        close(fd);
        return glci_errf(err, errlen, "%s: is %s, not a regular file", path,
                         glci_file_kind(st.st_mode));
    }
    if (max_bytes && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return glci_errf(err, errlen, "%s: %lld bytes, larger than %s can be (%llu)", path,
                         (long long)st.st_size, what ? what : "the file",
                         (unsigned long long)max_bytes);
    }
    /* Reads from here on block as usual (a regular file never waits). */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (sb)
        *sb = st;
    return fd;
}

int glci_file_read_fd(int fd, uint64_t max_bytes, uint64_t size_hint, char **text,
                      size_t *len)
{
    size_t limit = (size_t)max_bytes + 1;
    size_t cap = size_hint < max_bytes ? (size_t)size_hint + 1 : limit, got = 0;
    char *buf = glci_xmalloc(cap);
    for (;;) {
        if (got == cap) {
            if (cap == limit)
                break;
            cap = cap > limit / 2 ? limit : 2 * cap;
            buf = glci_xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            *text = NULL;
            *len = 0;
            return e;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *text = buf;
    *len = got;
    return 0;
}

int glci_file_check_replace(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return glci_errf(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (S_ISREG(st.st_mode))
        return 0;
    if (S_ISLNK(st.st_mode))
        return glci_errf(err, errlen, "%s: is a symbolic link; name the file itself, not a "
                         "link to it", path);
    return glci_errf(err, errlen, "%s: is %s; only a regular file (or a new one) is written "
                     "there", path, glci_file_kind(st.st_mode));
}

/* The temporary's name: ".NAME.XXXXXX" beside path (XXXXXX random). */
static int s_tmp_name(char *buf, size_t len, const char *path)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[6];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    int n = snprintf(buf, len, "%.*s.%s.%c%c%c%c%c%c", dirlen, path, path + dirlen,
                     alpha[r[0] % 36], alpha[r[1] % 36], alpha[r[2] % 36], alpha[r[3] % 36],
                     alpha[r[4] % 36], alpha[r[5] % 36]);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int glci_file_tmp_of(const char *entry, const char *base)
{
    size_t bl = strlen(base);
    if (entry[0] != '.' || strncmp(entry + 1, base, bl) != 0 || entry[1 + bl] != '.')
        return 0;
    const char *x = entry + bl + 2;
    return strlen(x) == 6 && strspn(x, "abcdefghijklmnopqrstuvwxyz0123456789") == 6;
}

int glci_file_tmp_make(char *tmp, size_t len, const char *path, int dir, mode_t mode)
{
    for (int tries = 0; tries < 64; tries++) {
        if (s_tmp_name(tmp, len, path) != 0) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd;
        if (dir) {
            if (mkdir(tmp, 0700) != 0) {
                if (errno == EEXIST)
                    continue;
                return -1;
            }
            fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        } else {
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
            if (fd < 0 && errno == EEXIST)
                continue;
            if (fd < 0)
                return -1;
        }
        struct stat sb;
        int ok = fd >= 0 && fstat(fd, &sb) == 0 && sb.st_uid == geteuid() &&
                 (dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
        if (!ok) {
            int e = fd < 0 ? errno : EPERM;
            if (fd >= 0)
                close(fd);
            if (dir)
                rmdir(tmp);
            else
                unlink(tmp);
            errno = e;
            return -1;
        }
        if (dir) {
            close(fd);
            return 0;
        }
        return fd;
    }
    errno = EEXIST;
    return -1;
}

int glci_file_place(const char *tmp, const char *path, char *err, size_t errlen)
{
    if (glci_file_check_replace(path, err, errlen) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return glci_errf(err, errlen, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}
