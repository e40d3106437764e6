/* ZAP handler: binds each CURVE connection to the city that owns the
 * client's public key. Runs in the collector's main loop on the REP socket
 * inproc://zeromq.zap.01; libzmq holds the handshake until the reply comes.
 * The city id returned as User-Id is what every later message of that
 * connection carries in zmq_msg_gets(msg, "User-Id"). The reply's metadata
 * also carries the client's public key as the property X-Key (Z85), so the
 * daemon can check on every batch that the key was not removed since. */
#include "collector_zap.h"

#include "collector_auth.h"
#include "collector_enrol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "glci_collector.h"
#include "glci_keyfile.h"
#include "glci_log.h"
#include "glci_log_repeat.h"
#include "glci_utf8.h"

#define S_FRAMES_MAX 8

/* Refusals anyone can cause at will (a random key, a scanner speaking
 * another mechanism): each class is logged once per S_QUIET_MS with a count
 * of the rest (glci_log_repeat), not once per handshake. Used by the one
 * thread that serves ZAP. */
#define S_QUIET_MS 10000
enum { S_REP_MALFORMED, S_REP_DOMAIN, S_REP_MECHANISM, S_REP_KEY, S_REP_N };
static glci_log_repeat_t s_rep[S_REP_N];

static int s_frame_is(zmq_msg_t *m, const char *text)
{
    size_t n = strlen(text);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), text, n) == 0;
}

static void s_send(void *zap, const void *data, size_t len, int more)
{
    if (zmq_send(zap, data, len, more ? ZMQ_SNDMORE : 0) < 0)
        glci_warn("zap: reply failed: %s", zmq_strerror(errno));
}

/* Receives one whole request into frames[]; returns the frame count, 0 if
 * none is waiting, -1 on a socket error. Frames beyond S_FRAMES_MAX are
 * read and dropped (count still grows so the request is refused). */
static int s_recv_request(void *zap, zmq_msg_t frames[S_FRAMES_MAX])
{
    int n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_t *m = n < S_FRAMES_MAX ? &frames[n] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, zap, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            int e = errno;
            zmq_msg_close(m);
            if (n == 0 && e == EAGAIN)
                return 0;
            if (e == EINTR && n > 0)
                continue;
            for (int i = 0; i < n && i < S_FRAMES_MAX; i++)
                zmq_msg_close(&frames[i]);
            return e == EAGAIN || e == EINTR ? 0 : -1;
        }
        more = zmq_msg_more(m);
        if (m == &tmp)
            zmq_msg_close(&tmp);
        n++;
    }
    return n;
}

/* Builds the ZAP reply's metadata (ZMTP property list: 1-byte name length,
 * name, 4-byte big-endian value length, value) holding X-Key = z85. Returns
 * its length; buf must hold S_META_MAX bytes. */
#define S_META_MAX (1 + sizeof GLCI_COLLECTOR_KEY_PROPERTY + 4 + GLCI_Z85_KEY_LEN)
static size_t s_metadata(unsigned char *buf, const char *z85)
{
    size_t nl = strlen(GLCI_COLLECTOR_KEY_PROPERTY), vl = strlen(z85);
    size_t p = 0;
    buf[p++] = (unsigned char)nl;
    memcpy(buf + p, GLCI_COLLECTOR_KEY_PROPERTY, nl);
    p += nl;
    buf[p++] = (unsigned char)(vl >> 24);
    buf[p++] = (unsigned char)(vl >> 16);
    buf[p++] = (unsigned char)(vl >> 8);
    buf[p++] = (unsigned char)vl;
    memcpy(buf + p, z85, vl);
    return p + vl;
}

/* The peer's address frame as printable text (escaped: it is the
 * transport's, but nothing from a frame reaches the log raw). */
static void s_address(zmq_msg_t *m, char *buf, size_t len)
{
    char raw[64];
    size_t n = zmq_msg_size(m);
    if (n >= sizeof raw)
        n = sizeof raw - 1;
    memcpy(raw, zmq_msg_data(m), n);
    raw[n] = '\0';
    glci_utf8_escape(raw, sizeof raw, buf, len);
}

void glci_collector_zap_quiet(int64_t mono_ms, int end)
{
    for (int i = 0; i < S_REP_N; i++) {
        if (end)
            glci_log_repeat_end(&s_rep[i], mono_ms);
        else
            glci_log_repeat_tick(&s_rep[i], mono_ms);
    }
}

int glci_collector_zap_serve(void *zap, glci_store_t *st, glci_collector_keylog_t *kl,
                             int64_t now, int64_t mono_ms)
{
    int answered = 0;
    for (;;) {
        zmq_msg_t f[S_FRAMES_MAX];
        int n = s_recv_request(zap, f);
        if (n <= 0)
            return n < 0 ? -1 : answered;

        const char *code = "400", *text = "refused";
        char city[GLCI_CITY_ID_MAX + 1] = "";
        char addr[4 * 64] = "?";
        unsigned char meta[S_META_MAX];
        size_t meta_len = 0;
        /* version, request id, domain, address, identity, mechanism, key */
        if (n >= 4 && n <= S_FRAMES_MAX)
            s_address(&f[3], addr, sizeof addr);
        if (n != 7 || n > S_FRAMES_MAX || !s_frame_is(&f[0], "1.0")) {
            text = "malformed ZAP request";
            glci_log_repeat(&s_rep[S_REP_MALFORMED], mono_ms, S_QUIET_MS, GLCI_LOG_WARN,
                            "zap: malformed request (%d frames) refused", n);
        } else if (!s_frame_is(&f[2], GLCI_COLLECTOR_ZAP_DOMAIN) &&
                   !s_frame_is(&f[2], GLCI_COLLECTOR_ENROL_DOMAIN)) {
            text = "wrong domain";
            glci_log_repeat(&s_rep[S_REP_DOMAIN], mono_ms, S_QUIET_MS, GLCI_LOG_WARN,
                            "zap: connection from %s for another domain refused", addr);
        } else if (!s_frame_is(&f[5], "CURVE") || zmq_msg_size(&f[6]) != 32) {
            text = "CURVE required";
            glci_log_repeat(&s_rep[S_REP_MECHANISM], mono_ms, S_QUIET_MS, GLCI_LOG_WARN,
                            "zap: connection from %s without CURVE refused", addr);
        } else if (s_frame_is(&f[2], GLCI_COLLECTOR_ENROL_DOMAIN)) {
            /* the enrolment socket: any key may ask to be enrolled */
            glci_key_t z;
            glci_key_encode(zmq_msg_data(&f[6]), &z);
            code = "200";
            text = "OK";
            meta_len = s_metadata(meta, z.z85);
            glci_debug("zap: enrolment connection from %s", addr);
        } else {
            const unsigned char *key = zmq_msg_data(&f[6]);
            glci_key_t z;
            char fp[GLCI_KEY_FP_LEN + 1];
            glci_key_encode(key, &z);
            glci_key_fingerprint(&z, fp);
            int rc = glci_store_city_by_key(st, key, city);
            if (rc == 0) {
                code = "200";
                text = "OK";
                meta_len = s_metadata(meta, z.z85);
                glci_info("zap: admitted %s (key %s) from %s", city, fp, addr);
                if (kl)
                    glci_collector_keylog_used(kl, key, now);
            } else if (rc == GLCI_STORE_ENOCITY) {
                city[0] = '\0';
                text = "unknown or revoked key";
                /* the key log says it once a minute; without one, once per
                 * S_QUIET_MS here */
                if (kl)
                    glci_collector_keylog_refused(kl, key, addr, now, mono_ms);
                else
                    glci_log_repeat(&s_rep[S_REP_KEY], mono_ms, S_QUIET_MS, GLCI_LOG_WARN,
                                    "zap: refused unknown or revoked key %s from %s", fp, addr);
            } else {
                city[0] = '\0';
                code = "500";
                text = "store unavailable";
                glci_error("zap: store lookup failed (%s); refusing %s",
                           glci_store_strerror(rc), addr);
            }
        }
        /* Reply: version, request id (echoed), status code, text, user id,
         * metadata (X-Key when admitted). A request too broken to have a
         * request id still gets a well-formed reply so the REP socket stays
         * in step. */
        s_send(zap, "1.0", 3, 1);
        if (n >= 2 && n <= S_FRAMES_MAX)
            s_send(zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), 1);
        else
            s_send(zap, "", 0, 1);
        s_send(zap, code, strlen(code), 1);
        s_send(zap, text, strlen(text), 1);
        s_send(zap, city, strlen(city), 1);
        s_send(zap, meta, meta_len, 0);
        for (int i = 0; i < n && i < S_FRAMES_MAX; i++)
            zmq_msg_close(&f[i]);
        answered++;
    }
}
