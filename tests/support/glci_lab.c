/* The fault lab: see glci_lab.h.
 *
 * Everything is done with the real tools an operator would use (iproute2's
 * `ip`, `nft`), run through glci_ts_run, so what the tests exercise is the
 * kernel's own namespaces, veth and netfilter. Only two things are done in
 * C: ip_forward inside the hub (a sysctl file opened after setns, so no
 * procps is needed) and the tmpfs mounts. */
#define _GNU_SOURCE               /* setns, CLONE_NEWNET, umount2 */
#include "glci_lab.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glci_testsupport.h"

#define S_IP "/usr/sbin/ip"
#define S_NFT "/usr/sbin/nft"
#define S_TOOL_MS 30000
#define S_DUP_MARK "0x00676c63"   /* "glc": a copy made by a dup rule */

typedef struct {
    int cut;                  /* 0, GLCI_LAB_CUT_DROP or GLCI_LAB_CUT_DOWN */
    unsigned loss, dup;       /* percent */
} s_link_t;

struct glci_lab {
    size_t sites;
    char *dir;                /* scratch: nft scripts */
    char (*ns)[64];           /* [0] collector, [1] hub, [2 + k] site k */
    char (*addr)[20];         /* the node's address, same index ([1] unused) */
    char (*hub_addr)[20];     /* the hub's address on the node's link */
    char (*hub_dev)[16];      /* the hub's end of the node's link */
    s_link_t *link;           /* per node, same index ([1] unused) */
    size_t n_ns;              /* namespaces made so far */
    char (*mounts)[512];
    size_t n_mounts, cap_mounts;
    int watch_fd;             /* write end of the watchdog's pipe */
    const char *prefix[GLCI_LAB_MAX_SITES + 2][4];
};

const char *glci_lab_strerror(int code)
{
    switch (code) {
    case GLCI_LAB_OK:          return "ok";
    case GLCI_LAB_ENOTALLOWED: return "network namespaces are not allowed here";
    case GLCI_LAB_ETOOL:       return "ip or nft failed";
    case GLCI_LAB_EINVAL:      return "invalid argument";
    case GLCI_LAB_ESYS:        return "system call failed";
    default:                   return "unknown lab error";
    }
}

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The first line of a tool's stderr, for a one-line message. */
static void s_first_line(char *text)
{
    if (!text)
        return;
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
}

/* Runs argv; 0 if it exited 0, else GLCI_LAB_ETOOL with its first stderr
 * line in err. */
static int s_tool(const char *const *argv, char *err, size_t errlen)
{
    char *out = NULL, *e = NULL;
    int rc = glci_ts_run(argv, NULL, S_TOOL_MS, &out, &e);
    if (rc != 0) {
        s_first_line(e);
        s_err(err, errlen, "%s %s %s: %s (exit %d)", argv[0], argv[1] ? argv[1] : "",
              argv[1] && argv[2] ? argv[2] : "", e && *e ? e : "no message", rc);
    }
    free(out);
    free(e);
    return rc == 0 ? GLCI_LAB_OK : GLCI_LAB_ETOOL;
}

static int s_node_index(const glci_lab_t *lab, int node)
{
    if (node == GLCI_LAB_COLLECTOR)
        return 0;
    if (node == GLCI_LAB_HUB)
        return 1;
    if (node >= 0 && (size_t)node < lab->sites)
        return 2 + node;
    return -1;
}

/* ---- the watchdog ---------------------------------------------------------- */

/* Runs a tool quietly (no output) and waits for it. */
static void s_quiet(const char *path, const char *a1, const char *a2, const char *a3)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(path, path, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
}

/* Removes a namespace with `ip netns del`, quietly. */
static void s_quiet_netns_del(const char *name)
{
    s_quiet(S_IP, "netns", "del", name);
}

/* The watchdog's life: read "ns NAME" / "mnt PATH" / "dir PATH" lines
 * until the pipe closes (the lab closed, or its process died however it
 * died), then remove every mount, namespace and scratch directory named. */
static void s_watchdog(int fd) __attribute__((noreturn));

static void s_watchdog(int fd)
{
    char buf[65536];
    size_t n = 0;
    for (;;) {
        if (n == sizeof buf)
            break;            /* far more than any lab registers */
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    /* mounts first (newest first), then namespaces */
    for (int pass = 0; pass < 2; pass++) {
        size_t end = n;
        while (end > 0) {
            size_t start = end - 1;
            while (start > 0 && buf[start - 1] != '\n')
                start--;
            char line[600];
            size_t len = end - start;
            if (len >= sizeof line)
                len = sizeof line - 1;
            memcpy(line, buf + start, len);
            line[len] = '\0';
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (pass == 0 && strncmp(line, "mnt ", 4) == 0)
                (void)umount2(line + 4, MNT_DETACH);
            else if (pass == 1 && strncmp(line, "ns ", 3) == 0)
                s_quiet_netns_del(line + 3);
            else if (pass == 1 && strncmp(line, "dir ", 4) == 0)
                s_quiet("/bin/rm", "-rf", "--", line + 4);
            end = start;
        }
    }
    _exit(0);
}

/* Starts the watchdog: a grandchild in a session of its own, reparented
 * away from the test, so a ctest timeout that kills the test's process
 * tree does not kill it too. */
static int s_watchdog_start(glci_lab_t *lab, char *err, size_t errlen)
{
    int pfd[2];
    if (pipe(pfd) != 0) {
        s_err(err, errlen, "pipe: %s", strerror(errno));
        return GLCI_LAB_ESYS;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        s_err(err, errlen, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return GLCI_LAB_ESYS;
    }
    if (pid == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536)
            max = 65536;
        for (int fd = 3; fd < max; fd++)
            if (fd != pfd[0])
                close(fd);
        s_watchdog(pfd[0]);
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(pfd[0]);
    /* not inherited by the programs the tests start: the pipe must close
     * when this process ends, whatever still runs */
    if (fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
        s_err(err, errlen, "fcntl: %s", strerror(errno));
        close(pfd[1]);
        return GLCI_LAB_ESYS;
    }
    lab->watch_fd = pfd[1];
    return GLCI_LAB_OK;
}

static void s_watch(glci_lab_t *lab, const char *kind, const char *what)
{
    char line[600];
    int n = snprintf(line, sizeof line, "%s %s\n", kind, what);
    if (n > 0 && (size_t)n < sizeof line)
        (void)!write(lab->watch_fd, line, (size_t)n);
}

/* Removes namespaces "glcilab-TAG-PID-N-ROLE" whose PID is gone: what a lab
 * left when even its watchdog could not run. */
static void s_sweep_stale(void)
{
    DIR *d = opendir("/run/netns");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "glcilab-", 8) != 0)
            continue;
        /* ROLE, N and PID are the last three '-' fields */
        const char *p = e->d_name + strlen(e->d_name);
        int dashes = 0;
        while (p > e->d_name && dashes < 3)
            if (*--p == '-')
                dashes++;
        if (dashes < 3)
            continue;
        char *end = NULL;
        errno = 0;
        long pid = strtol(p + 1, &end, 10);
        if (errno || !end || *end != '-' || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            s_quiet_netns_del(e->d_name);
    }
    closedir(d);
}

/* ---- probe and set-up ------------------------------------------------------- */

int glci_lab_probe(char *err, size_t errlen)
{
    if (geteuid() != 0) {
        s_err(err, errlen, "not root: network namespaces need CAP_NET_ADMIN");
        return GLCI_LAB_ENOTALLOWED;
    }
    if (access(S_IP, X_OK) != 0) {
        s_err(err, errlen, "%s (iproute2) is not installed", S_IP);
        return GLCI_LAB_ENOTALLOWED;
    }
    if (access(S_NFT, X_OK) != 0) {
        s_err(err, errlen, "%s (nftables) is not installed", S_NFT);
        return GLCI_LAB_ENOTALLOWED;
    }
    char name[64], msg[512];
    snprintf(name, sizeof name, "glcilab-probe-%ld-0-p", (long)getpid());
    const char *add[] = {S_IP, "netns", "add", name, NULL};
    if (s_tool(add, msg, sizeof msg) != 0) {
        s_err(err, errlen, "cannot make a network namespace: %s", msg);
        return GLCI_LAB_ENOTALLOWED;
    }
    const char *nft[] = {S_IP, "netns", "exec", name, S_NFT, "add table netdev glcilab", NULL};
    int rc = s_tool(nft, msg, sizeof msg);
    s_quiet_netns_del(name);
    if (rc != 0) {
        s_err(err, errlen, "nftables does not work inside a namespace: %s", msg);
        return GLCI_LAB_ENOTALLOWED;
    }
    return GLCI_LAB_OK;
}

/* ip_forward = 1 inside namespace name: the sysctl belongs to the network
 * namespace of whoever opens the file, so a child joins it and writes. */
static int s_forwarding(const char *name, char *err, size_t errlen)
{
    char path[300];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    pid_t pid = fork();
    if (pid < 0) {
        s_err(err, errlen, "fork: %s", strerror(errno));
        return GLCI_LAB_ESYS;
    }
    if (pid == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
            _exit(1);
        int s = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
        if (s < 0 || write(s, "1\n", 2) != 2)
            _exit(2);
        _exit(0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        s_err(err, errlen, "cannot turn on forwarding in %s (step %d)", name,
              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return GLCI_LAB_ESYS;
    }
    return GLCI_LAB_OK;
}

/* Runs `ip [-n NS] -batch FILE` over the lines in text. */
static int s_ip_batch(glci_lab_t *lab, const char *ns, const char *text, char *err,
                      size_t errlen)
{
    char path[600];
    snprintf(path, sizeof path, "%s/ip.batch", lab->dir);
    if (glci_ts_write_file(path, text) != 0) {
        s_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return GLCI_LAB_ESYS;
    }
    const char *with_ns[] = {S_IP, "-n", ns, "-batch", path, NULL};
    const char *plain[] = {S_IP, "-batch", path, NULL};
    return s_tool(ns ? with_ns : plain, err, errlen);
}

/* A growing text buffer for batch files and nft scripts. */
typedef struct {
    char *p;
    size_t n, cap;
} s_text_t;

static void s_add(s_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_add(s_text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            abort();
        if (t->p && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        t->cap = (t->cap + (size_t)k + 1) * 2;
        t->p = realloc(t->p, t->cap);
        if (!t->p)
            abort();
    }
}

static void s_free_lab(glci_lab_t *lab)
{
    if (lab->watch_fd >= 0)
        close(lab->watch_fd);
    glci_ts_rmtree(lab->dir);
    free(lab->dir);
    free(lab->ns);
    free(lab->addr);
    free(lab->hub_addr);
    free(lab->hub_dev);
    free(lab->link);
    free(lab->mounts);
    free(lab);
}

static void s_remove_all(glci_lab_t *lab)
{
    for (size_t m = lab->n_mounts; m-- > 0;)
        (void)umount2(lab->mounts[m], MNT_DETACH);
    lab->n_mounts = 0;
    for (size_t i = 0; i < lab->n_ns; i++)
        s_quiet_netns_del(lab->ns[i]);
    lab->n_ns = 0;
}

static int s_tag_ok(const char *tag)
{
    size_t n = strlen(tag);
    if (n == 0 || n > 12)
        return 0;
    for (const char *p = tag; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

int glci_lab_open(const char *tag, size_t sites, glci_lab_t **out, char *err, size_t errlen)
{
    static unsigned s_count;
    *out = NULL;
    if (!tag || !s_tag_ok(tag)) {
        s_err(err, errlen, "lab tag '%s' must be 1 to 12 of [a-z0-9]", tag ? tag : "");
        return GLCI_LAB_EINVAL;
    }
    if (sites < 1 || sites > GLCI_LAB_MAX_SITES) {
        s_err(err, errlen, "a lab has 1 to %d sites, not %zu", GLCI_LAB_MAX_SITES, sites);
        return GLCI_LAB_EINVAL;
    }
    int rc = glci_lab_probe(err, errlen);
    if (rc != 0)
        return rc;
    s_sweep_stale();

    glci_lab_t *lab = calloc(1, sizeof *lab);
    if (!lab)
        abort();
    lab->watch_fd = -1;
    lab->sites = sites;
    size_t nodes = sites + 2;
    lab->ns = calloc(nodes, sizeof *lab->ns);
    lab->addr = calloc(nodes, sizeof *lab->addr);
    lab->hub_addr = calloc(nodes, sizeof *lab->hub_addr);
    lab->hub_dev = calloc(nodes, sizeof *lab->hub_dev);
    lab->link = calloc(nodes, sizeof *lab->link);
    if (!lab->ns || !lab->addr || !lab->hub_addr || !lab->hub_dev || !lab->link)
        abort();
    lab->dir = glci_ts_tmpdir("lab");
    unsigned serial = s_count++;
    for (size_t i = 0; i < nodes; i++) {
        char role[8];
        if (i == 0)
            snprintf(role, sizeof role, "c");
        else if (i == 1)
            snprintf(role, sizeof role, "h");
        else
            snprintf(role, sizeof role, "s%zu", i - 2);
        snprintf(lab->ns[i], sizeof lab->ns[i], "glcilab-%s-%ld-%u-%s", tag, (long)getpid(),
                 serial, role);
        if (i != 1) {
            /* link L (0 the collector's, K+1 site K's): 10.231.L.0/24 */
            size_t l = i == 0 ? 0 : i - 1;
            snprintf(lab->addr[i], sizeof lab->addr[i], "10.231.%zu.1", l);
            snprintf(lab->hub_addr[i], sizeof lab->hub_addr[i], "10.231.%zu.254", l);
            snprintf(lab->hub_dev[i], sizeof lab->hub_dev[i], "to-%s", role);
        }
        lab->prefix[i][0] = S_IP;
        lab->prefix[i][1] = "netns";
        lab->prefix[i][2] = "exec";
        lab->prefix[i][3] = lab->ns[i];
    }

    rc = s_watchdog_start(lab, err, errlen);
    if (rc != 0)
        goto fail;
    s_watch(lab, "dir", lab->dir);

    /* namespaces and veth pairs, each end created inside its namespace */
    s_text_t t = {0};
    for (size_t i = 0; i < nodes; i++) {
        s_watch(lab, "ns", lab->ns[i]);
        s_add(&t, "netns add %s\n", lab->ns[i]);
    }
    for (size_t i = 0; i < nodes; i++)
        if (i != 1)
            s_add(&t, "link add %s netns %s type veth peer name up0 netns %s\n",
                  lab->hub_dev[i], lab->ns[1], lab->ns[i]);
    lab->n_ns = nodes;
    rc = s_ip_batch(lab, NULL, t.p, err, errlen);
    free(t.p);
    if (rc != 0)
        goto fail;

    for (size_t i = 0; i < nodes; i++) {
        s_text_t b = {0};
        s_add(&b, "link set lo up\n");
        if (i == 1) {
            for (size_t j = 0; j < nodes; j++)
                if (j != 1)
                    s_add(&b, "addr add %s/24 dev %s\nlink set %s up\n", lab->hub_addr[j],
                          lab->hub_dev[j], lab->hub_dev[j]);
        } else {
            s_add(&b, "addr add %s/24 dev up0\nlink set up0 up\nroute add default via %s\n",
                  lab->addr[i], lab->hub_addr[i]);
        }
        rc = s_ip_batch(lab, lab->ns[i], b.p, err, errlen);
        free(b.p);
        if (rc != 0)
            goto fail;
    }
    rc = s_forwarding(lab->ns[1], err, errlen);
    if (rc != 0)
        goto fail;
    *out = lab;
    return GLCI_LAB_OK;

fail:
    s_remove_all(lab);
    s_free_lab(lab);
    return rc;
}

void glci_lab_close(glci_lab_t **self)
{
    if (!self || !*self)
        return;
    s_remove_all(*self);
    s_free_lab(*self);
    *self = NULL;
}

size_t glci_lab_sites(const glci_lab_t *lab)
{
    return lab->sites;
}

const char *glci_lab_ns(const glci_lab_t *lab, int node)
{
    int i = s_node_index(lab, node);
    return i < 0 ? NULL : lab->ns[i];
}

const char *glci_lab_addr(const glci_lab_t *lab, int node)
{
    int i = s_node_index(lab, node);
    return i < 0 || i == 1 ? NULL : lab->addr[i];
}

const char *glci_lab_hub_addr(const glci_lab_t *lab, int node)
{
    int i = s_node_index(lab, node);
    return i < 0 || i == 1 ? NULL : lab->hub_addr[i];
}

size_t glci_lab_exec_prefix(const glci_lab_t *lab, int node, const char **argv, size_t cap)
{
    int i = s_node_index(lab, node);
    if (i < 0 || cap < 4)
        return 0;
    for (size_t k = 0; k < 4; k++)
        argv[k] = lab->prefix[i][k];
    return 4;
}

/* ---- link faults ------------------------------------------------------------ */

/* The nft script of one end of a link: a netdev table on the egress of dev. */
static void s_nft_end(s_text_t *t, const char *table, const char *dev, const s_link_t *l)
{
    s_add(t, "table netdev %s\ndelete table netdev %s\n", table, table);
    if (l->cut != GLCI_LAB_CUT_DROP && l->loss == 0 && l->dup == 0)
        return;               /* no fault: no table at all */
    s_add(t, "table netdev %s {\n  chain out {\n"
             "    type filter hook egress device \"%s\" priority 0; policy accept;\n",
          table, dev);
    if (l->cut == GLCI_LAB_CUT_DROP)
        s_add(t, "    counter drop\n");
    if (l->loss)
        s_add(t, "    numgen random mod 100 < %u counter drop\n", l->loss);
    if (l->dup) {
        s_add(t, "    meta mark " S_DUP_MARK " accept\n");
        s_add(t, "    numgen random mod 100 < %u counter meta mark set " S_DUP_MARK
                 " dup to \"%s\"\n",
              l->dup, dev);
    }
    s_add(t, "  }\n}\n");
}

static int s_nft(glci_lab_t *lab, const char *ns, const char *script)
{
    char path[600], msg[512];
    snprintf(path, sizeof path, "%s/rules.nft", lab->dir);
    if (glci_ts_write_file(path, script) != 0)
        return GLCI_LAB_ESYS;
    const char *argv[] = {S_IP, "netns", "exec", ns, S_NFT, "-f", path, NULL};
    int rc = s_tool(argv, msg, sizeof msg);
    if (rc != 0)
        fprintf(stderr, "lab: nft in %s: %s\n", ns, msg);
    return rc;
}

/* Writes the link's state to the kernel: both ends' tables, the hub's end
 * up or down. */
static int s_apply(glci_lab_t *lab, int i)
{
    const s_link_t *l = &lab->link[i];
    s_text_t t = {0};
    char table[48];
    snprintf(table, sizeof table, "glcilab_%s", lab->hub_dev[i] + 3);   /* after "to-" */
    s_nft_end(&t, table, lab->hub_dev[i], l);
    int rc = s_nft(lab, lab->ns[1], t.p);
    t.n = 0;
    if (rc == 0) {
        s_nft_end(&t, "glcilab", "up0", l);
        rc = s_nft(lab, lab->ns[i], t.p);
    }
    free(t.p);
    if (rc == 0) {
        const char *argv[] = {S_IP, "-n", lab->ns[1], "link", "set", lab->hub_dev[i],
                              l->cut == GLCI_LAB_CUT_DOWN ? "down" : "up", NULL};
        char msg[512];
        rc = s_tool(argv, msg, sizeof msg);
        if (rc != 0)
            fprintf(stderr, "lab: %s\n", msg);
    }
    return rc;
}

static int s_link_index(const glci_lab_t *lab, int node)
{
    int i = s_node_index(lab, node);
    return i == 1 ? -1 : i;
}

int glci_lab_cut(glci_lab_t *lab, int node, int how)
{
    int i = s_link_index(lab, node);
    if (i < 0 || (how != 0 && how != GLCI_LAB_CUT_DROP && how != GLCI_LAB_CUT_DOWN))
        return GLCI_LAB_EINVAL;
    lab->link[i].cut = how;
    return s_apply(lab, i);
}

/* Sets a percentage of the node's link (the loss or dup field at off). */
static int s_set_percent(glci_lab_t *lab, int node, size_t off, unsigned percent)
{
    int i = s_link_index(lab, node);
    if (i < 0 || percent > 100)
        return GLCI_LAB_EINVAL;
    *(unsigned *)((char *)&lab->link[i] + off) = percent;
    return s_apply(lab, i);
}

int glci_lab_loss(glci_lab_t *lab, int node, unsigned percent)
{
    return s_set_percent(lab, node, offsetof(s_link_t, loss), percent);
}

int glci_lab_dup(glci_lab_t *lab, int node, unsigned percent)
{
    return s_set_percent(lab, node, offsetof(s_link_t, dup), percent);
}

int glci_lab_heal(glci_lab_t *lab)
{
    int rc = GLCI_LAB_OK;
    for (size_t i = 0; i < lab->sites + 2; i++) {
        if (i == 1)
            continue;
        lab->link[i] = (s_link_t){0, 0, 0};
        if (s_apply(lab, (int)i) != 0)
            rc = GLCI_LAB_ETOOL;
    }
    return rc;
}

/* Adds the counters of one end's table (nft list output) to *out. */
static int s_count_end(glci_lab_t *lab, const char *ns, const char *table,
                       glci_lab_counts_t *out)
{
    const char *argv[] = {S_IP, "netns", "exec", ns, S_NFT, "list", "table", "netdev", table,
                          NULL};
    char *text = NULL, *e = NULL;
    int rc = glci_ts_run(argv, NULL, S_TOOL_MS, &text, &e);
    free(e);
    (void)lab;
    if (rc != 0) {
        free(text);
        return 0;             /* no table: no fault on this end, nothing counted */
    }
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        const char *c = strstr(line, "counter packets ");
        if (c) {
            unsigned long long n = strtoull(c + 16, NULL, 10);
            if (strstr(line, "dup to"))
                out->duplicated += n;
            else if (strstr(line, "numgen"))
                out->lost += n;
            else
                out->cut += n;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return 0;
}

int glci_lab_counts(glci_lab_t *lab, int node, glci_lab_counts_t *out)
{
    memset(out, 0, sizeof *out);
    int i = s_link_index(lab, node);
    if (i < 0)
        return GLCI_LAB_EINVAL;
    char table[48];
    snprintf(table, sizeof table, "glcilab_%s", lab->hub_dev[i] + 3);
    s_count_end(lab, lab->ns[1], table, out);
    s_count_end(lab, lab->ns[i], "glcilab", out);
    return GLCI_LAB_OK;
}

/* ---- disks ------------------------------------------------------------------- */

int glci_lab_tmpfs(glci_lab_t *lab, const char *dir, size_t bytes, char *err, size_t errlen)
{
    char opts[64];
    snprintf(opts, sizeof opts, "size=%zu,mode=0755", bytes);
    if (strlen(dir) >= sizeof lab->mounts[0]) {
        s_err(err, errlen, "%s: path too long", dir);
        return GLCI_LAB_EINVAL;
    }
    if (lab->n_mounts == lab->cap_mounts) {
        lab->cap_mounts = lab->cap_mounts ? lab->cap_mounts * 2 : 4;
        lab->mounts = realloc(lab->mounts, lab->cap_mounts * sizeof *lab->mounts);
        if (!lab->mounts)
            abort();
    }
    s_watch(lab, "mnt", dir);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        s_err(err, errlen, "mount tmpfs on %s: %s", dir, strerror(errno));
        return GLCI_LAB_ESYS;
    }
    snprintf(lab->mounts[lab->n_mounts++], sizeof lab->mounts[0], "%s", dir);
    return GLCI_LAB_OK;
}

int glci_lab_fill(const char *dir, char *err, size_t errlen)
{
    char path[600];
    snprintf(path, sizeof path, "%s/.ballast", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        s_err(err, errlen, "%s: %s", path, strerror(errno));
        return GLCI_LAB_ESYS;
    }
    /* every free block, in steps that shrink as space runs out (a writer
     * racing with us may take some between statvfs and fallocate) */
    off_t size = lseek(fd, 0, SEEK_END);
    for (off_t step = (off_t)1 << 30; step >= 4096;) {
        int rc = posix_fallocate(fd, size, step);
        if (rc == 0)
            size += step;
        else if (rc == ENOSPC)
            step /= 2;
        else {
            s_err(err, errlen, "fallocate %s: %s", path, strerror(rc));
            close(fd);
            return GLCI_LAB_ESYS;
        }
    }
    close(fd);
    return GLCI_LAB_OK;
}

int glci_lab_unfill(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/.ballast", dir);
    return unlink(path) == 0 || errno == ENOENT ? GLCI_LAB_OK : GLCI_LAB_ESYS;
}
