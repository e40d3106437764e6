/* glci-agent enrol STRING: one-command enrolment (SPEC section 9,
 * docs/AGENT.md "Enrolment").
 *
 *  1. The string is read and checked (checksum, fields) before anything is
 *     touched: a typo costs nothing.
 *  2. A new key pair is written to key_file (secret, 0600, never over an
 *     existing file) and key_file.pub, first, so a key the collector
 *     registers always exists here.
 *  3. A DEALER connects to the enrolment endpoint with CURVE, the server
 *     key being the one in the string: a collector that does not hold its
 *     secret half cannot finish the handshake. The connection's own key is
 *     the key to register; the request carries the city and the secret.
 *  4. ENROLLED: the configuration is written (a new file with
 *     --config-out, else the four connection settings updated in place in
 *     the config file in use) and, when run as root, the key files are
 *     given to the owner of their folder (the service's user). Anything
 *     else: the key files are removed again and the collector's reason is
 *     printed.
 */
#define _XOPEN_SOURCE 700   /* realpath */
#include "glci_agent_cmd.h"
#include "glci_outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_agent_delivery.h"
#include "glci_agent_sender.h"
#include "glci_alloc.h"
#include "glci_endpoint.h"
#include "glci_enrol.h"
#include "glci_file.h"
#include "glci_keyfile.h"
#include "glci_text.h"
#include "glci_wire.h"

#define S_TIMEOUT_S_DEFAULT 30

typedef struct {
    const char *text;         /* the string, or "-": read from stdin */
    const char *config_out;
    const char *key_file;
    long timeout_s;
} s_args_t;

static int s_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int s_usage(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "glci-agent enrol: %s (see glci-agent enrol --help)\n", msg);
    return 2;
}

static int s_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int s_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "glci-agent enrol: %s\n", msg);
    return 1;
}

static int s_parse(int argc, char **argv, s_args_t *a)
{
    memset(a, 0, sizeof *a);
    a->timeout_s = S_TIMEOUT_S_DEFAULT;
    for (int i = 0; i < argc; i++) {
        const char *x = argv[i];
        const char **slot = strcmp(x, "--config-out") == 0 ? &a->config_out
                          : strcmp(x, "--key-file") == 0   ? &a->key_file
                                                           : NULL;
        if (slot || strcmp(x, "--timeout") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return s_usage("%s needs a value", x);
            const char *v = argv[++i];
            if (slot) {
                *slot = v;
                continue;
            }
            int64_t t;
            if (glci_parse_int64(v, 1, 3600, &t) != 0)
                return s_usage("--timeout must be a number of seconds from 1 to 3600, not "
                               "'%s'", v);
            a->timeout_s = (long)t;
        } else if (strncmp(x, "--", 2) == 0) {
            return s_usage("unknown option '%s'", x);
        } else if (!a->text) {
            a->text = x;
        } else {
            return s_usage("unexpected argument '%s'", x);
        }
    }
    if (!a->text)
        return s_usage("%s", "needs the enrolment string (or - to read it from stdin)");
    return 0;
}

/* The string from stdin, so it stays out of the shell history and the
 * process list, into buf (len bytes). Decoding ignores white space
 * (wire/glci_enrol.h), so a string a mail program wrapped over several
 * lines reads whole, as it does as the argument: from a pipe or a file,
 * everything up to EOF; from a terminal, lines until what was read
 * decodes (a one-line paste and Enter, as before), an empty line after
 * some text, or EOF. 0, or -1 with one line in why: nothing but white
 * space, a NUL byte, or more than len - 1 bytes. */
static int s_read_stdin(char *buf, size_t len, char *why, size_t whylen)
{
    int tty = isatty(STDIN_FILENO);
    size_t n = 0, line_start = 0, text = 0;   /* text: non-blank bytes so far */
    int ch;
    buf[0] = '\0';
    while ((ch = getchar()) != EOF) {
        if (n + 1 >= len) {
            snprintf(why, whylen, "stdin holds more than %zu bytes: not an enrolment string "
                     "(one is at most %d characters, white space aside)", len - 1,
                     GLCI_ENROL_TEXT_MAX);
            return -1;
        }
        if (ch == '\0') {
            snprintf(why, whylen, "stdin holds a NUL byte: not an enrolment string");
            return -1;
        }
        buf[n++] = (char)ch;
        buf[n] = '\0';
        text += !strchr(" \t\r\n", ch);
        if (!tty || ch != '\n')
            continue;
        int blank = strspn(buf + line_start, " \t\r\n") == n - line_start;
        line_start = n;
        if (blank && text)
            break;
        glci_enrol_token_t t;
        char ignored[256];
        int whole = text && glci_enrol_token_decode(buf, &t, ignored, sizeof ignored) == 0;
        sodium_memzero(&t, sizeof t);
        if (whole)
            break;
    }
    if (!text) {
        snprintf(why, whylen, "no enrolment string on stdin");
        return -1;
    }
    return 0;
}

/* ---- talking to the enrolment endpoint ------------------------------------ */

/* Sends the request and waits for the reply, watching the handshake. 0
 * with *reply, or 1 after printing why there is none. */
static int s_exchange(void *zctx, const glci_enrol_token_t *t, const glci_key_t *pub,
                      const glci_key_t *sec, long timeout_s, glci_enrol_reply_t *reply)
{
    char endpoint[GLCI_ENROL_HOST_MAX + 32], server[GLCI_Z85_KEY_LEN + 1];
    glci_enrol_token_endpoint(t, 1, endpoint, sizeof endpoint);
    zmq_z85_encode(server, t->collector_key, 32);
    int status = 1, zero = 0, one = 1;
    void *dealer = zmq_socket(zctx, ZMQ_DEALER), *mon = NULL;
    int64_t maxmsg = GLCI_ENROL_MESSAGE_MAX;
    if (!dealer || zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(dealer, ZMQ_IMMEDIATE, &one, sizeof one) != 0 ||
        zmq_setsockopt(dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        glci_endpoint_zmq_family(dealer, endpoint) != 0 ||
        zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server, sizeof server) != 0 ||
        zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, pub->z85, sizeof pub->z85) != 0 ||
        zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, sec->z85, sizeof sec->z85) != 0 ||
        zmq_socket_monitor(dealer, "inproc://glci-enrol-monitor",
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        !(mon = zmq_socket(zctx, ZMQ_PAIR)) ||
        zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(mon, "inproc://glci-enrol-monitor") != 0 ||
        zmq_connect(dealer, endpoint) != 0) {
        s_fail("cannot set up the connection to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        goto done;
    }
    glci_enrol_request_t req;
    memset(&req, 0, sizeof req);
    snprintf(req.city, sizeof req.city, "%s", t->city);
    memcpy(req.secret, t->secret, sizeof req.secret);
    uint8_t *buf = NULL;
    size_t len = 0;
    int packed = glci_enrol_request_pack(&req, &buf, &len);
    sodium_memzero(&req, sizeof req);
    if (packed != 0) {
        s_fail("internal: cannot pack the enrolment request");
        goto done;
    }
    int64_t deadline = glci_agent_time_now().ms + timeout_s * 1000;
    int sent = 0, connected = 0;
    for (;;) {
        int64_t left = deadline - glci_agent_time_now().ms;
        if (left <= 0) {
            s_fail("no answer from %s within %ld s: %s", endpoint, timeout_s,
                   connected ? "the collector took the request but did not reply"
                             : "is the collector running with enrol_listen there, and is its "
                               "port open to this machine?");
            break;
        }
        if (!sent && zmq_send(dealer, buf, len, ZMQ_DONTWAIT) >= 0)
            sent = 1;                 /* ZMQ_IMMEDIATE: taken once the handshake is done */
        zmq_pollitem_t items[2] = {{dealer, 0, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, sent ? (long)left : (left < 50 ? (long)left : 50)) < 0 &&
            zmq_errno() != EINTR) {
            s_fail("poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        uint16_t ev;
        int failed = 0;
        while (glci_agent_monitor_read(mon, &ev)) {
            if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                connected = 1;
            else
                failed = 1;
        }
        if (failed && !connected) {
            s_fail("the handshake with %s failed: the collector there does not serve the "
                   "key this enrolment string names: it may not have been reloaded since its "
                   "key changed (then the same string works once it is), or the string is "
                   "older than its key; or no glci collector answers there", endpoint);
            break;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT) >= 0) {
                char err[256];
                int rc = glci_enrol_reply_unpack(zmq_msg_data(&m), zmq_msg_size(&m), reply, err,
                                                 sizeof err);
                zmq_msg_close(&m);
                if (rc != 0)
                    s_fail("the collector's answer does not decode: %s", err);
                else
                    status = 0;
                break;
            }
            zmq_msg_close(&m);
        }
    }
    free(buf);
done:
    if (dealer) {
        zmq_socket_monitor(dealer, NULL, 0);
        zmq_close(dealer);
    }
    if (mon)
        zmq_close(mon);
    return status;
}

/* ---- writing the configuration -------------------------------------------- */

typedef struct {
    const char *name, *value;
    int done;
} s_setting_t;

/* The config's temporary, made beside it before the network step (a
 * folder it cannot be made in is found while the one-time secret is still
 * unspent) and written after: fd -1 and path "" once it is closed and
 * placed or removed. */
typedef struct {
    int fd;
    char path[GLCI_AGENT_PATH_MAX + 16];
} s_tmp_t;

/* Makes t beside dest (glci_file_tmp_make: nothing planted beside dest is
 * opened). 0, or -1 with err naming dest. */
static int s_tmp_open(s_tmp_t *t, const char *dest, char *err, size_t errlen)
{
    t->fd = glci_file_tmp_make(t->path, sizeof t->path, dest, 0, 0600);
    if (t->fd >= 0)
        return 0;
    t->path[0] = '\0';
    return glci_errf(err, errlen, "cannot write %s: %s", dest, strerror(errno));
}

/* Closes t and removes its file, when still there; for every path out. */
static void s_tmp_drop(s_tmp_t *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->path[0])
        unlink(t->path);
    t->fd = -1;
    t->path[0] = '\0';
}

/* Writes text into t and renames it onto path (glci_file_place: path must
 * be missing or a regular file), with mode (and, when keep is not NULL,
 * owner) of keep. t is used up either way. 0, or -1 with err naming
 * path. */
static int s_write_atomic(s_tmp_t *t, const char *path, const char *text,
                          const struct stat *keep, char *err, size_t errlen)
{
    mode_t mode = keep ? keep->st_mode & 0777 : 0644;
    size_t n = strlen(text), off = 0;
    int rc = fchmod(t->fd, mode);
    if (rc == 0 && keep && geteuid() == 0)
        rc = fchown(t->fd, keep->st_uid, keep->st_gid);
    while (rc == 0 && off < n) {
        ssize_t w = write(t->fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = -1;
        else
            off += (size_t)w;
    }
    if (rc == 0)
        rc = fsync(t->fd);
    int e = errno;
    close(t->fd);
    t->fd = -1;
    if (rc != 0) {
        s_tmp_drop(t);
        return glci_errf(err, errlen, "cannot write %s: %s", path, strerror(e));
    }
    rc = glci_file_place(t->path, path, err, errlen);   /* removes it on failure */
    t->path[0] = '\0';
    if (rc > 0) {                       /* in place: say it may not last a crash */
        fprintf(stderr, "glci-agent enrol: note: %s\n", err);
        rc = 0;
    }
    return rc;
}

/* The first setting whose value holds a control character (a line break
 * would start another setting in the file), or NULL. Every value is
 * checked where it comes from (the string's fields by its decoder); this
 * is the writer's own guard. */
static const s_setting_t *s_bad_setting(const s_setting_t *set, size_t n_set)
{
    for (size_t i = 0; i < n_set; i++)
        for (const unsigned char *c = (const unsigned char *)set[i].value; *c; c++)
            if (*c < 0x20 || *c == 0x7f)
                return &set[i];
    return NULL;
}

static int s_refuse_setting(const s_setting_t *bad, char *err, size_t errlen)
{
    return glci_errf(err, errlen, "%s: its value holds a control character, which a config "
                     "line cannot hold", bad->name);
}

static void s_append(char **buf, size_t *len, size_t *cap, const char *text, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = glci_xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static void s_append_setting(char **buf, size_t *len, size_t *cap, const s_setting_t *s)
{
    char line[GLCI_AGENT_PATH_MAX + 64];
    int n = snprintf(line, sizeof line, "%s = %s\n", s->name, s->value);
    s_append(buf, len, cap, line, (size_t)n);
}

/* The name of an INI line's key when it is "name = ..." (not a comment);
 * copied into out. 1 if it is one. */
static int s_line_key(const char *line, size_t n, char *out, size_t outlen)
{
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t start = i;
    while (i < n && line[i] != '=' && line[i] != ' ' && line[i] != '\t' && line[i] != ';' &&
           line[i] != '#' && line[i] != '[')
        i++;
    size_t end = i;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (end == start || i >= n || line[i] != '=' || end - start >= outlen)
        return 0;
    memcpy(out, line + start, end - start);
    out[end - start] = '\0';
    return 1;
}

/* The config file in use, with the settings changed in place: in its
 * [agent] section a line setting one of them is replaced, the others are
 * added right after the section's header (comments and every other line
 * stay as they are); a file without the section gets one at its end. */
static int s_update_config(s_tmp_t *t, const char *path, s_setting_t *set, size_t n_set,
                           char *err, size_t errlen)
{
    struct stat sb;
    const s_setting_t *bad = s_bad_setting(set, n_set);
    if (bad)
        return s_refuse_setting(bad, err, errlen);
    if (stat(path, &sb) != 0)
        return glci_errf(err, errlen, "%s: %s", path, strerror(errno));
    FILE *f = fopen(path, "r");
    if (!f)
        return glci_errf(err, errlen, "%s: %s", path, strerror(errno));
    char *out = NULL, line[4096];
    size_t len = 0, cap = 0;
    int in_agent = 0, seen_agent = 0;
    size_t agent_pos = 0;     /* where the [agent] section's first line goes */
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        const char *p = line + strspn(line, " \t");
        if (*p == '[') {
            in_agent = strncmp(p, "[agent]", 7) == 0;
            s_append(&out, &len, &cap, line, n);
            if (in_agent && !seen_agent) {
                seen_agent = 1;
                agent_pos = len;
            }
            continue;
        }
        char key[64];
        if (in_agent && s_line_key(line, n, key, sizeof key)) {
            size_t i = 0;
            while (i < n_set && strcmp(set[i].name, key) != 0)
                i++;
            if (i < n_set) {
                if (!set[i].done)
                    s_append_setting(&out, &len, &cap, &set[i]);
                set[i].done = 1;      /* a second line of the same key is dropped */
                continue;
            }
        }
        s_append(&out, &len, &cap, line, n);
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(out);
        return glci_errf(err, errlen, "%s: cannot read it", path);
    }
    /* settings the [agent] section lacks, or the section itself */
    char *tail = NULL;
    size_t tlen = 0, tcap = 0;
    if (!seen_agent)
        s_append(&tail, &tlen, &tcap, "\n[agent]\n", 9);
    for (size_t i = 0; i < n_set; i++)
        if (!set[i].done)
            s_append_setting(&tail, &tlen, &tcap, &set[i]);
    if (tlen && seen_agent) {
        /* right after the [agent] header */
        size_t pos = agent_pos;
        char *merged = glci_xmalloc(len + tlen + 1);
        memcpy(merged, out, pos);
        memcpy(merged + pos, tail, tlen);
        memcpy(merged + pos + tlen, out + pos, len - pos + 1);
        free(out);
        out = merged;
    } else if (tlen) {
        s_append(&out, &len, &cap, tail, tlen);
    }
    free(tail);
    int rc = s_write_atomic(t, path, out ? out : "", &sb, err, errlen);
    free(out);
    return rc;
}

/* A new config file with everything `run` needs. */
static int s_new_config(s_tmp_t *t, const char *path, const s_setting_t *set, size_t n_set,
                        char *err, size_t errlen)
{
    struct stat sb;
    const s_setting_t *bad = s_bad_setting(set, n_set);
    if (bad)
        return s_refuse_setting(bad, err, errlen);
    if (lstat(path, &sb) == 0)
        return glci_errf(err, errlen, "%s: already exists, not overwritten (leave out "
                         "--config-out to update the config file in use)", path);
    char *out = NULL, when[32];
    size_t len = 0, cap = 0;
    glci_format_iso_time((int64_t)time(NULL), when, sizeof when);
    char head[128];
    int n = snprintf(head, sizeof head, "; written by glci-agent enrol at %s\n[agent]\n", when);
    s_append(&out, &len, &cap, head, (size_t)n);
    for (size_t i = 0; i < n_set; i++)
        s_append_setting(&out, &len, &cap, &set[i]);
    int rc = s_write_atomic(t, path, out, NULL, err, errlen);
    free(out);
    return rc;
}

/* Run as root, the key files go to the owner of their folder: the
 * service's user, who must read the secret key. */
static void s_give_keys(const char *key_file, const char *pub_file)
{
    if (geteuid() != 0)
        return;
    char dir[GLCI_AGENT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", key_file);
    struct stat sb;
    if (stat(dirname(dir), &sb) != 0 || sb.st_uid == 0)
        return;
    if (chown(key_file, sb.st_uid, sb.st_gid) != 0 || chown(pub_file, sb.st_uid, sb.st_gid) != 0)
        fprintf(stderr, "glci-agent enrol: note: cannot give %s to uid %ld: %s\n", key_file,
                (long)sb.st_uid, strerror(errno));
}

/* The folder of path, absolute (the daemon may run from anywhere), for
 * defaults beside a new config file. */
static void s_dir_of(const char *path, char *out, size_t len)
{
    char tmp[GLCI_AGENT_PATH_MAX], abs[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    const char *d = dirname(tmp);
    const char *src = realpath(d, abs) ? abs : d;
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1;        /* a path this long is refused when it is used */
    memcpy(out, src, n);
    out[n] = '\0';
}

/* path made absolute against the working folder. */
static void s_absolute(char *path, size_t len)
{
    char cwd[PATH_MAX], tmp[GLCI_AGENT_PATH_MAX];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
        return;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", cwd, path) < sizeof tmp &&
        strlen(tmp) < len)
        memcpy(path, tmp, strlen(tmp) + 1);
}

int glci_agent_cmd_enrol(const glci_agent_config_t *cfg, int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    char text[GLCI_ENROL_TEXT_MAX * 2 + 2], err[1024];
    if (strcmp(a.text, "-") == 0) {
        if (s_read_stdin(text, sizeof text, err, sizeof err) != 0) {
            sodium_memzero(text, sizeof text);
            return s_usage("%s", err);
        }
    } else {
        snprintf(text, sizeof text, "%s", a.text);
    }
    glci_enrol_token_t t;
    rc = glci_enrol_token_decode(text, &t, err, sizeof err);
    sodium_memzero(text, sizeof text);
    if (rc != 0)
        return s_usage("%s", err);
    if (cfg->insecure)
        return s_usage("%s", "enrolment needs CURVE: it cannot run with --insecure");

    /* where the key and the config go, refused before anything is made */
    char key_file[GLCI_AGENT_PATH_MAX], pub_file[GLCI_AGENT_PATH_MAX + 8];
    char outbox[GLCI_AGENT_PATH_MAX], spool[GLCI_AGENT_PATH_MAX];
    char dir[GLCI_AGENT_PATH_MAX - 16];   /* room for "/city.key" beside it */
    const char *config = a.config_out ? a.config_out : cfg->config_path;
    if (!config[0])
        return s_usage("%s", "no config file to update: give --config-out FILE (or --config "
                       "FILE naming the one the service reads)");
    /* updated in place through a rename: only a file can be (never
     * /dev/null, which stands for an empty config, nor a FIFO or a folder;
     * nor can the key go beside one in /dev) */
    struct stat cs;
    if (!a.config_out && (stat(config, &cs) != 0 || !S_ISREG(cs.st_mode)))
        return s_usage("no config file to update: %s is not a regular file (give "
                       "--config-out FILE for the config to write)", config);
    s_dir_of(config, dir, sizeof dir);
    if (a.key_file)
        snprintf(key_file, sizeof key_file, "%s", a.key_file);
    else if (cfg->key_file[0])
        snprintf(key_file, sizeof key_file, "%s", cfg->key_file);
    else
        snprintf(key_file, sizeof key_file, "%s/city.key", dir);
    s_absolute(key_file, sizeof key_file);
    snprintf(pub_file, sizeof pub_file, "%s.pub", key_file);
    snprintf(outbox, sizeof outbox, "%s", cfg->outbox[0] ? cfg->outbox : "");
    snprintf(spool, sizeof spool, "%s", cfg->spool[0] ? cfg->spool : "");
    if (!outbox[0])
        snprintf(outbox, sizeof outbox, "%s/outbox", dir);
    if (!spool[0])
        snprintf(spool, sizeof spool, "%s/spool", dir);
    char fp[GLCI_KEY_FP_LEN + 1], endpoint[GLCI_ENROL_HOST_MAX + 32];
    char ckey[GLCI_Z85_KEY_LEN + 1];
    glci_enrol_token_endpoint(&t, 0, endpoint, sizeof endpoint);
    zmq_z85_encode(ckey, t.collector_key, 32);
    s_setting_t set[] = {
        {"city", t.city, 0},       {"collector", endpoint, 0}, {"collector_key", ckey, 0},
        {"key_file", key_file, 0}, {"outbox", outbox, 0},      {"spool", spool, 0},
    };
    /* refused before a key is made or the network used */
    const s_setting_t *bad = s_bad_setting(set, 6);
    if (bad)
        return s_usage("%s: its value holds a control character, which a config line "
                       "cannot hold", bad->name);
    /* an outbox holds one city's batches: a config of this city must not
     * point at another's */
    char held[GLCI_OUTBOX_CITY_MAX + 1];
    if (glci_agent_outbox_city(outbox, held, sizeof held) == 1 && strcmp(held, t.city) != 0)
        return s_fail("outbox %s belongs to city %s, not to city %s: set outbox (and spool) "
                      "in the config to a new folder for city %s, then enrol again", outbox,
                      held, t.city, t.city);
    struct stat sb;
    if (lstat(key_file, &sb) == 0 || lstat(pub_file, &sb) == 0)
        return s_fail("%s already exists: this machine has a key pair there; remove %s and "
                      "%s to enrol again, or give --key-file FILE", lstat(key_file, &sb) == 0
                      ? key_file : pub_file, key_file, pub_file);
    /* the config is written after the secret is spent: a destination it
     * could not be renamed onto (a link, a FIFO, a device) is refused now */
    if (glci_file_check_replace(config, err, sizeof err) != 0)
        return s_fail("%s (nothing was sent: the enrolment string still works)", err);
    if (a.config_out && lstat(a.config_out, &sb) == 0)
        return s_fail("%s: already exists, not overwritten (leave out --config-out to update "
                      "the config file in use)", a.config_out);
    /* and its temporary made now: a folder it cannot be made in (missing,
     * not writable, full) is refused while the string is unspent */
    s_tmp_t ctmp;
    if (s_tmp_open(&ctmp, config, err, sizeof err) != 0)
        return s_fail("%s (nothing was sent: the enrolment string still works)", err);

    glci_key_t pub, sec;
    if (glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
        glci_keyfile_write_secret(key_file, &pub, &sec, err, sizeof err) != 0) {
        s_tmp_drop(&ctmp);
        return s_fail("%s", err);
    }
    if (glci_keyfile_write_public(pub_file, &pub, err, sizeof err) != 0) {
        unlink(key_file);
        s_tmp_drop(&ctmp);
        return s_fail("%s", err);
    }
    glci_key_fingerprint(&pub, fp);

    void *zctx = zmq_ctx_new();
    glci_enrol_reply_t reply;
    int status = 1;
    rc = zctx ? s_exchange(zctx, &t, &pub, &sec, a.timeout_s, &reply) : 1;
    sodium_memzero(&sec, sizeof sec);
    if (!zctx)
        s_fail("cannot start ZeroMQ: %s", zmq_strerror(zmq_errno()));
    if (zctx)
        zmq_ctx_term(zctx);
    if (rc != 0)
        goto refused;
    if (reply.status != GLCI_ENROL_ENROLLED) {
        s_fail("the collector %s: %s", reply.status == GLCI_ENROL_LIMITED
               ? "takes no enrolment tries from here for now" : "refused this enrolment",
               reply.error[0] ? reply.error : glci_enrol_status_str((int)reply.status));
        goto refused;
    }

    /* in place, the connection settings; a new file, all of them */
    rc = a.config_out ? s_new_config(&ctmp, a.config_out, set, 6, err, sizeof err)
                      : s_update_config(&ctmp, config, set, 4, err, sizeof err);
    s_tmp_drop(&ctmp);                  /* what a refusal before the write left */
    s_give_keys(key_file, pub_file);
    if (rc != 0) {
        /* registered: the key stays, the settings must be made by hand */
        fprintf(stderr, "glci-agent enrol: enrolled city %s with key %s (%s), but the "
                "configuration could not be written: %s. Set in [agent]: city = %s, "
                "collector = %s, collector_key = %s, key_file = %s\n", t.city, fp, key_file,
                err, t.city, endpoint, ckey, key_file);
        return 1;
    }
    /* the packaged unit reads the packaged config only: another file is
     * run with --config */
    char conf_abs[PATH_MAX], packaged[PATH_MAX], start[PATH_MAX + 64];
    const char *shown = realpath(config, conf_abs) ? conf_abs : config;
    if (strcmp(config, GLCI_AGENT_DEFAULT_CONFIG) == 0 ||
        (realpath(GLCI_AGENT_DEFAULT_CONFIG, packaged) && strcmp(shown, packaged) == 0))
        snprintf(start, sizeof start, "systemctl enable --now glci-agent (or glci-agent run)");
    else
        snprintf(start, sizeof start, "glci-agent --config %s run", shown);
    fprintf(stderr, "glci-agent enrol: enrolled city %s with key %s (%s); %s %s. Start the "
            "agent: %s\n", t.city, fp, key_file,
            a.config_out ? "configuration written to" : "configuration updated in", config,
            start);
    printf("%s\n", fp);
    status = 0;
    sodium_memzero(&t, sizeof t);
    return status;

refused:
    s_tmp_drop(&ctmp);
    unlink(key_file);
    unlink(pub_file);
    sodium_memzero(&t, sizeof t);
    return status;
}
