/* glci-agent check: what `run` needs, checked without running (SPEC section
 * 9): the settings, the key files and their modes, the outbox and spool
 * folders, the metrics file, and a real handshake with the collector,
 * whose outcome is told apart: the collector refused this agent's key, the
 * handshake failed (the collector's key is not collector_key, or what
 * answers is not a collector), or nothing answered in time (and then
 * whether a connection was made at all). One line per problem; every check
 * whose inputs are sound is made, so one run lists everything to fix.
 *
 * Nothing is changed: an outbox or spool folder that does not exist yet is
 * a note (run makes it) when its parent lets this user make it; the outbox
 * is opened without creating one; the handshake sends no batch. */
#include "glci_agent_cmd.h"

#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "glci_agent_config.h"
#include "glci_check.h"
#include "glci_endpoint.h"
#include "glci_keyfile.h"
#include "glci_metrics_file.h"
#include "glci_monitor.h"
#include "glci_outbox.h"
#include "glci_text.h"

#define S_TIMEOUT_S 10

/* A folder run makes when it is missing: 0 when it is there and this user
 * may write it, or is missing with a parent this user may write (a note),
 * else -1 after the problem. */
static int s_folder(glci_check_t *c, const char *name, const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            glci_check_problem(c, "%s %s is not a folder", name, dir);
            return -1;
        }
        if (access(dir, W_OK | X_OK) != 0) {
            glci_check_problem(c, "%s %s: not writable by this user (uid %u): %s", name, dir,
                      (unsigned)geteuid(), strerror(errno));
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        glci_check_problem(c, "%s %s: %s", name, dir, strerror(errno));
        return -1;
    }
    char parent[GLCI_AGENT_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    while (slash && slash > parent && slash[1] == '\0') {   /* "dir/" */
        *slash = '\0';
        slash = strrchr(parent, '/');
    }
    if (slash == parent)
        parent[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    if (access(parent, W_OK | X_OK) != 0) {
        glci_check_problem(c, "%s %s does not exist and cannot be made: folder %s: %s", name, dir,
                  parent, strerror(errno));
        return -1;
    }
    glci_check_note(c, "%s %s does not exist yet; glci-agent run makes it", name, dir);
    return 1;
}

static void s_check_outbox(glci_check_t *c, const glci_agent_config_t *cfg)
{
    if (s_folder(c, "outbox", cfg->outbox) != 0)
        return;
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    glci_outbox_t *ob = NULL;
    char err[1024];
    int rc = glci_outbox_open(cfg->outbox, &o, &ob, err, sizeof err);
    if (rc == GLCI_OUTBOX_ENOENT)
        glci_check_note(c, "outbox %s holds no outbox yet; glci-agent run makes one",
                        cfg->outbox);
    else if (rc != 0)
        glci_check_problem(c, "outbox: %s", err);
    glci_outbox_status_t st;
    if (rc == 0 && cfg->city[0] && glci_outbox_status(ob, &st) == 0 && st.city[0] &&
        strcmp(st.city, cfg->city) != 0)
        glci_check_problem(c, "outbox %s belongs to city %s, not to city %s (config key "
                           "city): give city %s an outbox folder of its own", cfg->outbox,
                           st.city, cfg->city, cfg->city);
    glci_outbox_close(&ob);
}

void glci_agent_check_modes(glci_check_t *c, const glci_agent_config_t *cfg)
{
    /* whoever may write the key's folder may put another key there */
    char dir[GLCI_AGENT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", cfg->key_file);
    if (!cfg->insecure && cfg->key_file[0])
        glci_check_mode(c, "key_file's folder", dirname(dir), S_IWGRP | S_IWOTH, 0750);
    /* a config others may change names the collector and key the agent uses */
    struct stat cs;
    if (cfg->config_path[0] && stat(cfg->config_path, &cs) == 0 && S_ISREG(cs.st_mode))
        glci_check_mode(c, "config file", cfg->config_path, S_IWGRP | S_IWOTH, 0644);
    /* the values not yet delivered: no one else may change them */
    if (cfg->outbox[0] && stat(cfg->outbox, &cs) == 0 && S_ISDIR(cs.st_mode))
        glci_check_mode(c, "outbox folder", cfg->outbox, S_IWGRP | S_IWOTH, 0700);
}

/* ---- the handshake ------------------------------------------------------ */

typedef enum { S_HS_OK, S_HS_REFUSED, S_HS_FAILED, S_HS_TIMEOUT, S_HS_ERROR } s_hs_t;

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects a DEALER as run does and waits for the handshake's outcome (at
 * most timeout_ms); the reason of a problem is written into why. */
static s_hs_t s_handshake(const glci_agent_config_t *cfg, const glci_key_t *pub,
                          const glci_key_t *sec, const glci_key_t *server, int64_t timeout_ms,
                          char *why, size_t whylen)
{
    s_hs_t out = S_HS_ERROR;
    char fp[GLCI_KEY_FP_LEN + 1];
    void *ctx = zmq_ctx_new(), *dealer = NULL, *monitor = NULL;
    int zero = 0, ivl = 200;
    const char *mon_ep = "inproc://glci-agent-check-monitor";
    if (!ctx || !(dealer = zmq_socket(ctx, ZMQ_DEALER)) ||
        zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(dealer, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) != 0 ||
        glci_endpoint_zmq_family(dealer, cfg->collector) != 0)
        goto zmq_fail;
    if (!cfg->insecure &&
        (zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server->z85, GLCI_Z85_KEY_LEN + 1) != 0 ||
         zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, pub->z85, GLCI_Z85_KEY_LEN + 1) != 0 ||
         zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, sec->z85, GLCI_Z85_KEY_LEN + 1) != 0))
        goto zmq_fail;
    if (zmq_socket_monitor(dealer, mon_ep, ZMQ_EVENT_ALL) != 0 ||
        !(monitor = zmq_socket(ctx, ZMQ_PAIR)) ||
        zmq_setsockopt(monitor, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(monitor, mon_ep) != 0)
        goto zmq_fail;
    if (zmq_connect(dealer, cfg->collector) != 0) {
        snprintf(why, whylen, "collector %s: %s", cfg->collector, zmq_strerror(errno));
        goto done;
    }
    int connected = 0, retried = 0;
    int64_t deadline = s_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            break;
        zmq_pollitem_t item = {monitor, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) < 0 && errno != EINTR)
            goto zmq_fail;
        uint16_t event;
        uint32_t value;
        while (glci_monitor_read(monitor, &event, &value)) {
            switch (event) {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                out = S_HS_OK;
                goto done;
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                /* keys named by fingerprint, as in every log (docs/OPERATIONS.md) */
                glci_key_fingerprint(pub, fp);
                snprintf(why, whylen, "the collector at %s refused this agent's key %s%s",
                         cfg->collector, cfg->insecure ? "" : fp,
                         value >= 500 ? " (it could not look the key up: its store is "
                                        "unavailable)"
                                      : " (not registered to a city, or the city is revoked)");
                out = S_HS_REFUSED;
                goto done;
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                if (cfg->insecure)
                    snprintf(why, whylen, "the handshake with %s failed: this agent runs "
                             "insecure (no CURVE) and the collector wants CURVE, or what "
                             "answers there is not a glci collector", cfg->collector);
                else {
                    glci_key_fingerprint(server, fp);
                    snprintf(why, whylen, "the handshake with %s failed: the collector's key "
                             "is not %s (collector_key), or what answers there is not a glci "
                             "collector", cfg->collector, fp);
                }
                out = S_HS_FAILED;
                goto done;
            case ZMQ_EVENT_CONNECTED:
                connected = 1;
                break;
            case ZMQ_EVENT_CONNECT_RETRIED:
                retried = 1;
                break;
            default:
                break;
            }
        }
    }
    out = S_HS_TIMEOUT;
    if (connected)
        snprintf(why, whylen, "%s accepted the connection but the handshake did not finish "
                 "within %lld s (is a glci collector listening there?)", cfg->collector,
                 (long long)(timeout_ms / 1000));
    else if (retried)
        snprintf(why, whylen, "no connection to %s within %lld s: nothing accepts connections "
                 "there (connection refused: is the collector running?)", cfg->collector,
                 (long long)(timeout_ms / 1000));
    else
        snprintf(why, whylen, "no connection to %s within %lld s: no answer (host unreachable, "
                 "or a firewall drops the packets)", cfg->collector,
                 (long long)(timeout_ms / 1000));
    goto done;

zmq_fail:
    snprintf(why, whylen, "cannot set up a connection to %s: %s", cfg->collector,
             zmq_strerror(errno));
done:
    if (dealer) {
        zmq_socket_monitor(dealer, NULL, 0);
        zmq_close(dealer);
    }
    if (monitor)
        zmq_close(monitor);
    if (ctx)
        zmq_ctx_term(ctx);
    return out;
}

/* ---- the command ------------------------------------------------------------ */

/* One line per missing or bad setting (glci_agent_config_problems). */
static void s_setting_problem(void *arg, const char *line)
{
    glci_check_problem(arg, "%s", line);
}

static int s_parse_args(int argc, char **argv, int64_t *timeout_s)
{
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--timeout=", 10) == 0)
            v = argv[i] + 10;
        else {
            fprintf(stderr, "glci-agent check: unexpected argument '%s' (see glci-agent check "
                    "--help)\n", argv[i]);
            return -1;
        }
        if (glci_parse_int64(v, 1, 3600, timeout_s) != 0) {
            fprintf(stderr, "glci-agent check: --timeout must be whole seconds in [1, 3600], "
                    "not '%s'\n", v);
            return -1;
        }
    }
    return 0;
}

int glci_agent_cmd_check(const glci_agent_config_t *cfg, int argc, char **argv)
{
    int64_t timeout_s = S_TIMEOUT_S;
    if (s_parse_args(argc, argv, &timeout_s) != 0)
        return 2;
    glci_check_t c = {"glci-agent check", stdout, stderr, 0, 0};
    char err[1024];

    /* the settings run needs; the metrics file on its own below */
    glci_agent_config_t settings = *cfg;
    settings.metrics_file[0] = '\0';
    int settings_ok = glci_agent_config_problems(&settings, s_setting_problem, &c) == 0;

    glci_key_t pub, sec, server;
    memset(&pub, 0, sizeof pub);
    memset(&sec, 0, sizeof sec);
    memset(&server, 0, sizeof server);
    int keys_ok = 1;
    if (!cfg->insecure) {
        if (cfg->key_file[0] &&
            glci_keyfile_read(cfg->key_file, &pub, &sec, err, sizeof err) != 0) {
            glci_check_problem(&c, "key_file: %s", err);
            keys_ok = 0;
        }
        if (cfg->collector_key[0] &&
            glci_key_from_text_or_file(cfg->collector_key, &server, err, sizeof err) != 0) {
            glci_check_problem(&c, "collector_key: %s", err);
            keys_ok = 0;
        }
    }
    glci_agent_check_modes(&c, cfg);
    if (cfg->outbox[0])
        s_check_outbox(&c, cfg);
    if (cfg->spool[0])
        s_folder(&c, "spool", cfg->spool);
    if (cfg->metrics_file[0] && glci_metrics_file_check(cfg->metrics_file, err, sizeof err) != 0)
        glci_check_problem(&c, "%s", err);

    if (settings_ok && keys_ok) {
        char why[1024];
        s_hs_t hs = s_handshake(cfg, &pub, &sec, &server, timeout_s * 1000, why, sizeof why);
        if (hs != S_HS_OK)
            glci_check_problem(&c, "%s", why);
    } else {
        glci_check_note(&c, "no handshake tried: the settings or keys above must be fixed first");
    }
    sodium_memzero(&sec, sizeof sec);
    if (c.problems == 0)
        printf("glci-agent check: ok: city %s, handshake with %s%s, outbox %s, spool %s, "
               "metrics file %s\n", cfg->city, cfg->collector,
               cfg->insecure ? " (insecure)" : "", cfg->outbox, cfg->spool,
               cfg->metrics_file[0] ? cfg->metrics_file : "none");
    return glci_check_status(&c);
}
