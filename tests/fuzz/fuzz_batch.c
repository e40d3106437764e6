/* libFuzzer target for the collector's batch path: the bytes of one frame
 * go through the bounded decoder, the city decision (authenticated and
 * insecure mode), the framework's per-observation validation (what the
 * store applies inside its transaction: a value by its range, a retraction
 * by its key, both by the future rule), and back out as an ack that must
 * pack and unpack to the same thing. (The agent's side of the ack is
 * fuzz_ack's.)
 *
 * Run: fuzz_batch -max_len=65536 -dict=tests/fuzz/batch.dict NEWDIR tests/fuzz/corpus/batch */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_collector.h"
#include "glci_fuzz.h"
#include "glci_index.h"
#include "glci_wire.h"

/* The receive time the store would judge the future by: mid-2026. */
#define S_RECV 1782864000            /* 2026-07-01T00:00:00Z */
#define S_RECV_YEAR 2026

static glci_framework_t *s_fw;

static void s_load_framework(void)
{
    if (s_fw)
        return;
    char err[512];
    const char *path = getenv("GLCI_FRAMEWORK");
    if (!path)
        path = GLCI_FRAMEWORK_FILE;
    if (glci_framework_load_file(path, &s_fw, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_batch: %s\n", err);
        abort();
    }
}

static void s_roundtrip_ack(const glci_wire_ack_t *ack)
{
    uint8_t *buf;
    size_t len;
    if (glci_wire_ack_pack(ack, &buf, &len) != 0)
        abort();
    glci_wire_ack_t back;
    char err[200];
    if (glci_wire_ack_unpack(buf, len, &back, err, sizeof err) != 0)
        abort();
    if (back.status != ack->status || back.seq != ack->seq || back.stream != ack->stream ||
        back.acked != ack->acked || back.n_rejections != ack->n_rejections ||
        strcmp(back.error, ack->error) != 0)
        abort();
    for (size_t i = 0; i < ack->n_rejections; i++)
        if (back.rejections[i].index != ack->rejections[i].index ||
            back.rejections[i].reason != ack->rejections[i].reason ||
            strcmp(back.rejections[i].message, ack->rejections[i].message) != 0)
            abort();
    glci_wire_ack_release(&back);
    free(buf);
}

static void s_one(const uint8_t *data, size_t size, const char *user)
{
    glci_wire_limits_t lim = {100, 100 * 512 + (1u << 16)};
    glci_collector_batch_t b;
    char city[GLCI_CITY_ID_MAX + 1];
    glci_wire_ack_t ack;
    int rc = glci_collector_batch_prepare(data, size, user, &lim, &b, city, &ack);
    if (rc != 0) {
        if (rc != GLCI_BATCH_MALFORMED && rc != GLCI_BATCH_FORBIDDEN)
            abort();
        if (b.wb || city[0])
            abort();
        glci_fuzz_check_line("batch refusal", ack.error, sizeof ack.error);
        s_roundtrip_ack(&ack);
        return;
    }
    if (!glci_city_id_valid(city) || b.wb->seq == 0 || b.wb->n_obs > lim.batch_max)
        abort();
    if (user && strcmp(city, user) != 0)
        abort();
    /* a claim of another city is kept (for the store to reject every
     * observation as wrong city) only under CURVE, and only another one */
    GLCI_FUZZ_CHECK(!b.claimed || (user && strcmp(b.claimed, city) != 0 &&
                                   strcmp(b.claimed, b.wb->city) == 0),
                    "batch: a claim kept that is not another city's");

    /* validate like the store does, building the result it would give */
    glci_batch_result_t r;
    memset(&r, 0, sizeof r);
    r.status = GLCI_BATCH_APPLIED;
    r.acked = b.wb->seq;
    r.rejections = calloc(b.wb->n_obs ? b.wb->n_obs : 1, sizeof *r.rejections);
    for (size_t i = 0; i < b.wb->n_obs; i++) {
        const glci_obs_t *o = &b.wb->obs[i];
        char msg[120] = "malformed observation";
        glci_reject_t why = glci_obs_check(o, msg, sizeof msg);
        if (why == GLCI_REJECT_NONE &&
            ((o->source && strlen(o->source) > GLCI_OBS_SOURCE_MAX) ||
             strlen(o->indicator) > GLCI_OBS_INDICATOR_MAX))
            abort(); /* the shape check let a long string through */
        if (why == GLCI_REJECT_NONE)
            GLCI_FUZZ_CHECK(o->retract ? !o->has_value : o->has_value,
                            "batch: the shape check took a %s %s a value",
                            o->retract ? "retraction" : "revision",
                            o->has_value ? "with" : "without");
        if (why == GLCI_REJECT_NONE) {
            /* as the store judges it: a retraction by its key alone */
            uint32_t ind;
            why = o->retract ? glci_framework_check_key(s_fw, o->indicator, o->period, &ind, msg,
                                                        sizeof msg)
                             : glci_framework_check(s_fw, o->indicator, o->period, o->value,
                                                    &ind, msg, sizeof msg);
            if (why == GLCI_REJECT_NONE &&
                ((!o->retract && (!isfinite(o->value) || o->value < s_fw->ind[ind].min ||
                                  o->value > s_fw->ind[ind].max)) ||
                 o->period < s_fw->first_period || o->period > s_fw->last_period))
                abort(); /* the check let a bad value through */
            if (why == GLCI_REJECT_NONE)
                why = glci_framework_check_future(s_fw, o->period, S_RECV, msg, sizeof msg);
            GLCI_FUZZ_CHECK(why != GLCI_REJECT_FUTURE ||
                            o->period > S_RECV_YEAR + s_fw->future_periods,
                            "batch: period %lld refused as in the future", (long long)o->period);
            GLCI_FUZZ_CHECK(why != GLCI_REJECT_NONE ||
                            o->period <= S_RECV_YEAR + s_fw->future_periods,
                            "batch: period %lld taken, in the future", (long long)o->period);
        }
        if (why != GLCI_REJECT_NONE) {
            glci_fuzz_check_line("rejection message", msg, sizeof msg);
            glci_rejection_t *j = &r.rejections[r.n_rejections++];
            j->index = (uint32_t)i;
            j->reason = why;
            snprintf(j->message, sizeof j->message, "%s", msg);
        }
    }
    glci_collector_ack_from_result(&b, &r, &ack);
    if (ack.status != GLCI_BATCH_APPLIED || ack.n_rejections != r.n_rejections)
        abort();
    s_roundtrip_ack(&ack);
    glci_wire_ack_release(&ack);
    free(r.rejections);
    glci_collector_batch_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_load_framework();
    s_one(data, size, "alpha");  /* CURVE: bound to a city */
    s_one(data, size, NULL);     /* insecure: the claimed city */
    return 0;
}
