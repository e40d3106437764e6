/* glci-agent's metrics file: see glci_agent_metrics.h. */
#include "glci_agent_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_agent_config.h"
#include "glci_alloc.h"
#include "glci_log.h"
#include "glci_log_repeat.h"
#include "glci_metrics_file.h"

#define S_LOG_QUIET_MS 60000

struct glci_agent_meter {
    glci_metrics_t *reg;
    glci_agent_metrics_t m;
    int written;                       /* a write was tried */
    int64_t last_ms;                   /* when */
    int64_t retry_ms;                  /* a failed write: when to try again; 0 none */
    char state[32];                    /* the state last written */
    char path[GLCI_AGENT_PATH_MAX];    /* the file last written */
    glci_log_repeat_t log_write;
};

/* The sender's words (`glci-agent status`) in the catalog's order: the
 * catalog's label values with '-' for '_'. */
static const char *const s_states[GLCI_MC_STATE_N] = {
    [GLCI_MC_STATE_CONNECTING] = "connecting",
    [GLCI_MC_STATE_CONNECTED] = "connected",
    [GLCI_MC_STATE_DISCONNECTED] = "disconnected",
    [GLCI_MC_STATE_REFUSED] = "refused",
    [GLCI_MC_STATE_HANDSHAKE_FAILED] = "handshake-failed",
    [GLCI_MC_STATE_FORBIDDEN] = "forbidden",
    [GLCI_MC_STATE_MALFORMED] = "malformed",
    [GLCI_MC_STATE_RESTREAMING] = "restreaming",
    [GLCI_MC_STATE_RECOVERING] = "recovering",
};

int glci_agent_meter_open(const char *city, glci_agent_meter_t **out, char *err,
                          size_t errlen)
{
    glci_agent_meter_t *m = glci_xcalloc(1, sizeof *m);
    *out = NULL;
    m->reg = glci_metrics_new();
    if (glci_metrics_catalog_agent(m->reg, city, &m->m, err, errlen) != 0) {
        glci_metrics_destroy(&m->reg);
        free(m);
        return GLCI_AGENT_EUSAGE;
    }
    *out = m;
    return GLCI_AGENT_OK;
}

void glci_agent_meter_close(glci_agent_meter_t **self)
{
    if (!self || !*self)
        return;
    glci_metrics_destroy(&(*self)->reg);
    free(*self);
    *self = NULL;
}

const glci_agent_metrics_t *glci_agent_meter_metrics(const glci_agent_meter_t *m)
{
    return &m->m;
}

static void s_select_state(glci_agent_meter_t *m, const char *state)
{
    for (size_t i = 0; i < GLCI_MC_STATE_N; i++)
        if (strcmp(state, s_states[i]) == 0) {
            glci_gauge_select(m->m.connection_state, i);
            return;
        }
    for (size_t i = 0; i < GLCI_MC_STATE_N; i++)
        glci_gauge_set(m->m.connection_state, i, 0.0);
}

/* The gauges from one read of the outbox, then the file. */
static void s_write(glci_agent_meter_t *m, const char *path, glci_outbox_t *ob,
                    const char *state, int64_t now_ms)
{
    glci_outbox_status_t st;
    char err[1024];
    int rc = glci_outbox_status(ob, &st);
    if (rc == 0) {
        glci_gauge_set(m->m.outbox_batches, 0, (double)st.batches);
        glci_gauge_set(m->m.outbox_bytes, 0, (double)st.bytes);
        glci_gauge_set(m->m.outbox_limit, 0, (double)st.limit);
        glci_gauge_set(m->m.outbox_oldest, 0, (double)st.oldest);
        glci_gauge_set(m->m.retained_batches, 0, (double)st.retained_batches);
        glci_gauge_set(m->m.retained_bytes, 0, (double)st.retained_bytes);
        glci_gauge_set(m->m.last_ack, 0, (double)st.last_ack);
        glci_gauge_set(m->m.dead_letters_pending, 0, (double)st.dead_pending);
    }
    s_select_state(m, state);
    m->written = 1;
    m->last_ms = now_ms;
    snprintf(m->state, sizeof m->state, "%s", state);
    if (rc == 0)
        rc = glci_metrics_file_write(m->reg, path, err, sizeof err);
    else
        snprintf(err, sizeof err, "metrics file %s not written: the outbox cannot be read: %s",
                 path, glci_outbox_strerror(rc));
    if (rc != 0) {
        glci_log_repeat(&m->log_write, now_ms, S_LOG_QUIET_MS, GLCI_LOG_WARN, "%s", err);
        m->retry_ms = now_ms + GLCI_AGENT_METRICS_MIN_MS;
    } else {
        glci_log_repeat_end(&m->log_write, now_ms);
        m->retry_ms = 0;
    }
}

/* A reload that moved the file (or removed the setting) leaves no stale
 * file behind for node_exporter to serve. */
static void s_moved(glci_agent_meter_t *m, const char *path)
{
    if (strcmp(path, m->path) == 0)
        return;
    if (m->path[0] && unlink(m->path) != 0 && errno != ENOENT)
        glci_warn("cannot remove the old metrics file %s: %s", m->path, strerror(errno));
    snprintf(m->path, sizeof m->path, "%s", path);
    m->written = 0;
}

static int64_t s_due(const glci_agent_meter_t *m, const char *state)
{
    if (!m->written)
        return 0;
    if (m->retry_ms)
        return m->retry_ms;
    if (strcmp(state, m->state) != 0)
        return m->last_ms + GLCI_AGENT_METRICS_MIN_MS;
    return m->last_ms + GLCI_AGENT_METRICS_EVERY_MS;
}

void glci_agent_meter_step(glci_agent_meter_t *m, const char *path, glci_outbox_t *ob,
                           const char *state, int64_t now_ms)
{
    s_moved(m, path);
    if (path[0] && now_ms >= s_due(m, state))
        s_write(m, path, ob, state, now_ms);
}

void glci_agent_meter_flush(glci_agent_meter_t *m, const char *path, glci_outbox_t *ob,
                            const char *state, int64_t now_ms)
{
    s_moved(m, path);
    if (path[0])
        s_write(m, path, ob, state, now_ms);
}

long glci_agent_meter_timeout(const glci_agent_meter_t *m, const char *path, const char *state,
                              int64_t now_ms)
{
    if (!path[0])
        return GLCI_AGENT_METRICS_EVERY_MS;
    int64_t t = s_due(m, state) - now_ms;
    return t < 0 ? 0 : (long)t;
}
