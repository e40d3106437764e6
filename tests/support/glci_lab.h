/* The fault lab: real network namespaces joined by veth pairs, with faults
 * injected on the links, and small tmpfs disks that can be filled, for the
 * network fault tests and the nemesis run.
 *
 * Topology (one lab; every name unique to the process that made it):
 *
 *   collector ns  10.231.0.1 ──veth── 10.231.0.254   hub ns   10.231.1.254 ──veth── 10.231.1.1  site 0 ns
 *                                                    (router,  10.231.2.254 ──veth── 10.231.2.1  site 1 ns
 *                                                     proxy)   ...
 *
 * The hub routes between its links (ip_forward), so a site reaches the
 * collector directly; the fault proxy (glci-faultproxy) runs in the hub too.
 * Addresses exist only inside the lab's namespaces, so two labs (parallel
 * test runs) use the same ones without meeting. Veth ends are created
 * directly inside their namespaces; nothing is added to the root namespace.
 *
 * Faults are per link: the link of a node (the collector or a site) to the
 * hub. Each link's faults are nftables rules in a netdev table on the
 * egress hook of both veth ends, rewritten whole (one nft transaction) on
 * every change: a drop-all cut, random loss (numgen random mod 100), and
 * duplication (dup to the same device; the copy carries a mark so it is
 * not copied again). A cut can instead take the hub's end of the link
 * down.
 *
 * Teardown: glci_lab_close removes everything. A crash of the process that
 * opened the lab (abort, kill -9, a ctest timeout) is covered by a watchdog
 * process, detached from the test's process tree, that holds the read end
 * of a pipe and removes the lab's namespaces and mounts when the pipe
 * closes; and glci_lab_open removes what a lab of a dead process left.
 *
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN), iproute2 and nftables. Errors
 * are negative GLCI_LAB_E* codes with a one-line message in err. */
#ifndef GLCI_LAB_H
#define GLCI_LAB_H

#include <stddef.h>

enum {
    GLCI_LAB_OK = 0,
    GLCI_LAB_ENOTALLOWED = -1,   /* this host does not let us make namespaces */
    GLCI_LAB_ETOOL = -2,         /* ip or nft failed, or is missing */
    GLCI_LAB_EINVAL = -3,        /* a bad argument (node, percent) */
    GLCI_LAB_ESYS = -4           /* a system call failed (fork, mount, ...) */
};

const char *glci_lab_strerror(int code);

/* Nodes: sites are 0 .. sites-1. */
#define GLCI_LAB_COLLECTOR (-1)
#define GLCI_LAB_HUB (-2)

#define GLCI_LAB_MAX_SITES 200

typedef struct glci_lab glci_lab_t;

/* Whether this host lets us make a network namespace (makes and removes
 * one). Returns 0, GLCI_LAB_ENOTALLOWED (with the reason in err: not root,
 * `ip netns add` refused, nft missing) or GLCI_LAB_ETOOL. */
int glci_lab_probe(char *err, size_t errlen);

/* Makes the collector, hub and sites namespaces (1 <= sites <= 200), the
 * links, addresses and routes, and checks that nftables works inside.
 * tag (short, [a-z0-9]) goes into the names. On failure nothing is left
 * behind. */
int glci_lab_open(const char *tag, size_t sites, glci_lab_t **out, char *err, size_t errlen);

/* Removes every namespace and mount of the lab, ends its watchdog, frees it
 * and sets *self to NULL. Processes still running inside keep their
 * namespace alive until they end; the tests start them with a parent-death
 * signal. Accepts NULL. */
void glci_lab_close(glci_lab_t **self);

size_t glci_lab_sites(const glci_lab_t *lab);

/* The namespace name of a node (GLCI_LAB_COLLECTOR, GLCI_LAB_HUB or a
 * site); NULL for a node the lab does not have. Valid while the lab is. */
const char *glci_lab_ns(const glci_lab_t *lab, int node);

/* The node's own address ("10.231.0.1" for the collector, "10.231.K+1.1"
 * for site K); for GLCI_LAB_HUB, NULL (see glci_lab_hub_addr). */
const char *glci_lab_addr(const glci_lab_t *lab, int node);

/* The hub's address on a node's link: what a site connects to for the
 * proxy. NULL for a node the lab does not have. */
const char *glci_lab_hub_addr(const glci_lab_t *lab, int node);

/* Writes the prefix that runs a program inside node's namespace
 * ("/usr/sbin/ip", "netns", "exec", NAME) into argv (cap >= 4 entries) and
 * returns the number of entries, 0 for a node the lab does not have. The
 * strings live as long as the lab. `ip netns exec` execs the program in
 * place, so the pid is the program's. */
size_t glci_lab_exec_prefix(const glci_lab_t *lab, int node, const char **argv, size_t cap);

/* ---- link faults (node: the collector or a site) -------------------------- */

typedef enum {
    GLCI_LAB_CUT_DROP = 1,       /* nftables drops every packet both ways */
    GLCI_LAB_CUT_DOWN = 2        /* the hub's end of the link is down */
} glci_lab_cut_t;

/* Cuts the node's link to the hub (a full partition of that node), or
 * mends it (how = 0: link up and no drop-all). Loss and duplication set on
 * the link stay as they are. */
int glci_lab_cut(glci_lab_t *lab, int node, int how);

/* Drops percent (0..100) of the packets on the link, each direction drawn
 * on its own; 0 removes the loss. */
int glci_lab_loss(glci_lab_t *lab, int node, unsigned percent);

/* Sends percent (0..100) of the packets on the link twice; 0 removes it. */
int glci_lab_dup(glci_lab_t *lab, int node, unsigned percent);

/* Packets the link's rules hit since its faults last changed, both ends
 * added: dropped by a drop-all cut, dropped as loss, sent twice. */
typedef struct {
    unsigned long long cut, lost, duplicated;
} glci_lab_counts_t;

int glci_lab_counts(glci_lab_t *lab, int node, glci_lab_counts_t *out);

/* Every link mended, without loss or duplication. */
int glci_lab_heal(glci_lab_t *lab);

/* ---- disks ------------------------------------------------------------------- */

/* Mounts a tmpfs of bytes (rounded up to pages) on the existing directory
 * dir; unmounted by glci_lab_close, or by the watchdog after a crash. Files
 * already in dir are hidden while it is mounted (copy them in after). */
int glci_lab_tmpfs(glci_lab_t *lab, const char *dir, size_t bytes, char *err, size_t errlen);

/* Fills the file system holding dir: a ballast file (dir/.ballast) takes
 * every free block. glci_lab_unfill removes it. Return 0 or GLCI_LAB_ESYS. */
int glci_lab_fill(const char *dir, char *err, size_t errlen);
int glci_lab_unfill(const char *dir);

#endif
