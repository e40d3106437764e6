/* Opening outside-named files for reading: see glci_file.h. */
#include "glci_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
