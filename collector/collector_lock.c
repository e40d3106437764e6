/* The store's lock file: see collector_lock.h. */
#include "collector_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The pid the holder wrote into the file, or 0. */
static pid_t s_pid_in_file(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    return errno == 0 && end != buf && v > 0 ? (pid_t)v : 0;
}

/* 1 when another process holds a lock on the file (*pid its pid, or the
 * one it wrote, 0 when neither tells), 0 when none does, -1 when F_GETLK
 * fails. */
static int s_holder(int fd, pid_t *pid)
{
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    *pid = 0;
    if (fcntl(fd, F_GETLK, &q) != 0)
        return -1;
    if (q.l_type == F_UNLCK)
        return 0;
    *pid = q.l_pid > 0 ? q.l_pid : s_pid_in_file(fd);
    return 1;
}

static int s_lock_path(const char *dir, char *path, size_t len)
{
    return (size_t)snprintf(path, len, "%s/collector.lock", dir) < len ? 0 : -1;
}

int glci_collector_lock_held(const char *dir, pid_t *holder)
{
    char path[4096];
    *holder = 0;
    if (s_lock_path(dir, path, sizeof path) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = s_holder(fd, holder);
    close(fd);
    return rc;
}

int glci_collector_lock(const char *dir, pid_t *holder, char *err, size_t errlen)
{
    char path[4096];
    if (holder)
        *holder = 0;
    if (s_lock_path(dir, path, sizeof path) != 0) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open the lock file: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        if (e != EACCES && e != EAGAIN) {
            snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
            close(fd);
            return -1;
        }
        pid_t pid = 0;
        s_holder(fd, &pid);
        if (holder)
            *holder = pid;
        if (pid > 0)
            snprintf(err, errlen, "store %s is in use by another glci-collector (pid %ld); "
                     "stop it first, one collector per store", dir, (long)pid);
        else
            snprintf(err, errlen, "store %s is in use by another glci-collector (pid "
                     "unknown); stop it first, one collector per store", dir);
        close(fd);
        return -1;
    }
    /* for people and for a holder another namespace hides */
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
        /* the lock holds without the text; only the message of a second
         * collector in another pid namespace loses the pid */
    }
    return fd;
}
