/* The node_exporter textfile writer: see glci_metrics_file.h. */
#include "glci_metrics_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_utf8.h"

/* Splits path into its folder ("." when it names none) and file name. */
static void s_split(const char *path, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dirlen, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dirlen, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

/* The check's messages quote the path as configured, which may hold any
 * byte: each quote is escaped (glci_utf8_escape), so a message stays one
 * printable line. */
int glci_metrics_file_check(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    char shown[4 * 256 + 1], dshown[4 * 256 + 1];   /* the quotes, cut after 256 bytes */
    const char *base;
    if (!path || !*path) {
        snprintf(err, errlen, "metrics file: no path given");
        return -1;
    }
    glci_utf8_escape(path, 256, shown, sizeof shown);
    if (strlen(path) >= sizeof dir) {
        glci_utf8_escape(path, 60, shown, sizeof shown);
        snprintf(err, errlen, "metrics file %s...: path too long", shown);
        return -1;
    }
    s_split(path, dir, sizeof dir, &base);
    glci_utf8_escape(dir, 256, dshown, sizeof dshown);
    size_t n = strlen(base);
    if (n <= 5 || strcmp(base + n - 5, ".prom") != 0) {
        snprintf(err, errlen,
                 "metrics file %s: the name must end in .prom (node_exporter's textfile "
                 "collector reads only those)", shown);
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "metrics file %s: folder %s: %s", shown, dshown, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "metrics file %s: %s is not a folder", shown, dshown);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "metrics file %s: folder %s is not writable: %s", shown, dshown,
                 strerror(errno));
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "metrics file %s: is a folder", shown);
        return -1;
    }
    return 0;
}

static int s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int glci_metrics_file_write(glci_metrics_t *reg, const char *path, char *err, size_t errlen)
{
    char dir[4096], tmp[4200], render_err[256] = "";
    const char *base;
    char *text = NULL;
    size_t len = 0;
    int fd = -1, rc = -1;
    const char *step;

    if (glci_metrics_file_check(path, err, errlen) < 0)
        return -1;
    s_split(path, dir, sizeof dir, &base);
    snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base);
    int rendered = glci_metrics_render(reg, &text, &len, render_err, sizeof render_err);

    step = "cannot create a temporary file";
    fd = mkstemp(tmp);
    if (fd < 0) {
        tmp[0] = '\0';
        goto fail;
    }
    step = "cannot write";
    if (s_write_all(fd, text, len) < 0)
        goto fail;
    step = "cannot set the mode";
    if (fchmod(fd, 0644) != 0)
        goto fail;
    step = "cannot sync";
    if (fsync(fd) != 0)
        goto fail;
    step = "cannot close";
    int closing = fd;
    fd = -1;
    if (close(closing) != 0)
        goto fail;
    step = "cannot rename the temporary file over it";
    if (rename(tmp, path) != 0)
        goto fail;
    tmp[0] = '\0';
    /* the rename is durable once the folder is; a failure here leaves a
     * complete file in place, so it is not reported */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (rendered < 0) {
        snprintf(err, errlen, "metrics file %s: written, but %s", path, render_err);
        goto done;
    }
    rc = 0;
    goto done;

fail:
    snprintf(err, errlen, "metrics file %s: %s in %s: %s", path, step, dir, strerror(errno));
    if (fd >= 0)
        close(fd);
done:
    if (tmp[0])
        unlink(tmp);
    free(text);
    return rc;
}
