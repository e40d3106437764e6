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

int glci_collector_lock(const char *dir, pid_t *holder, char *err, size_t errlen)
{
    char path[4096];
    if (holder)
        *holder = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/collector.lock", dir) >= sizeof path) {
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
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        pid_t pid = 0;
        if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
            pid = q.l_pid;
        if (pid <= 0)
            pid = s_pid_in_file(fd);
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
