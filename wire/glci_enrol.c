/* The enrolment string and the enrolment messages: see glci_enrol.h. */
#include "glci_enrol.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "glci.pb-c.h"
#include "glci_alloc.h"
#include "glci_obs.h"
#include "glci_text.h"
#include "glci_utf8.h"
#include "glci_wire.h"
#include "glci_wire_int.h"

#define S_SAME_STATUS(name, num, text, proto) \
    _Static_assert(GLCI_ENROL_##name == (int)GLCI__ENROL_STATUS__##proto, "enrol status " #name);
GLCI_ENROL_STATUSES(S_SAME_STATUS)

#define S_CHECK_LEN 4
#define S_PREFIX_LEN (sizeof GLCI_ENROL_PREFIX - 1)
/* host len, host, two ports, key, city len, city, secret, checksum */
#define S_PAYLOAD_MAX (1 + GLCI_ENROL_HOST_MAX + 4 + 32 + 1 + GLCI_CITY_ID_MAX + \
                       GLCI_ENROL_SECRET_LEN + S_CHECK_LEN)
_Static_assert(S_PREFIX_LEN + (S_PAYLOAD_MAX * 8 + 4) / 5 <= GLCI_ENROL_TEXT_MAX,
               "the longest enrolment string fits GLCI_ENROL_TEXT_MAX");

/* Crockford's base32 alphabet. */
static const char s_alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";

const char *glci_enrol_status_str(int status)
{
    switch (status) {
#define GLCI_X_(name, num, text, proto) case num: return text;
        GLCI_ENROL_STATUSES(GLCI_X_)
#undef GLCI_X_
    default: return "unknown";
    }
}

/* ---- the enrolment string ------------------------------------------------ */

/* One DNS label: 1 to 63 of [A-Za-z0-9-], not starting or ending with
 * '-'. */
static int s_label_ok(const char *l, size_t n)
{
    if (n == 0 || n > 63 || l[0] == '-' || l[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = l[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* The reason h is no host an agent can connect to, or NULL when it is
 * one. */
static const char *s_host_problem(const char *h)
{
    size_t n = strlen(h);
    if (n == 0)
        return "it is empty";
    if (n > GLCI_ENROL_HOST_MAX)
        return "it is longer than 253 characters";
    if (h[0] == '[' || h[n - 1] == ']') {
        char inside[GLCI_ENROL_HOST_MAX + 1];
        struct in6_addr a6;
        if (n < 3 || h[0] != '[' || h[n - 1] != ']' || memchr(h + 1, '[', n - 2) ||
            memchr(h + 1, ']', n - 2))
            return "its brackets are unbalanced";
        memcpy(inside, h + 1, n - 2);
        inside[n - 2] = '\0';
        return inet_pton(AF_INET6, inside, &a6) == 1 ? NULL
               : "what is inside the brackets is not an IPv6 address";
    }
    if (strchr(h, ':')) {
        const char *colon = strchr(h, ':');
        if (!strchr(colon + 1, ':') && colon[1] && strspn(colon + 1, "0123456789") ==
            strlen(colon + 1))
            return "it holds a port: give the host alone (the ports come from the collector)";
        return "an IPv6 address is written in brackets, as [::1]";
    }
    if (strspn(h, "0123456789.") == n) {
        struct in_addr a4;
        return inet_pton(AF_INET, h, &a4) == 1 ? NULL : "it is not a dotted IPv4 address";
    }
    for (const char *l = h;;) {
        const char *dot = strchr(l, '.');
        size_t ln = dot ? (size_t)(dot - l) : strlen(l);
        if (!s_label_ok(l, ln))
            return "a DNS name's labels are 1 to 63 letters, digits and '-', not "
                   "starting or ending with '-', between single dots";
        if (!dot)
            return NULL;
        l = dot + 1;
    }
}

int glci_enrol_host_check(const char *host, char *err, size_t errlen)
{
    const char *why = s_host_problem(host);
    if (!why)
        return GLCI_WIRE_OK;
    char shown[96];
    glci_utf8_escape(host, 80, shown, sizeof shown);
    glci_errf(err, errlen, "host '%s' is not a DNS name, a dotted IPv4 address or a bracketed "
              "IPv6 one: %s", shown, why);
    return GLCI_WIRE_EINVAL;
}

static void s_checksum(const unsigned char *payload, size_t len, unsigned char out[S_CHECK_LEN])
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)GLCI_ENROL_PREFIX, S_PREFIX_LEN);
    crypto_generichash_update(&st, payload, len);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out, h, S_CHECK_LEN);
}

int glci_enrol_token_encode(const glci_enrol_token_t *t, char *out, size_t outlen)
{
    size_t hl = strlen(t->host), cl = strlen(t->city);
    if (s_host_problem(t->host) || t->port == 0 || t->enrol_port == 0 ||
        !glci_city_id_valid(t->city) || outlen < GLCI_ENROL_TEXT_MAX + 1)
        return GLCI_WIRE_EINVAL;
    unsigned char p[S_PAYLOAD_MAX];
    size_t n = 0;
    p[n++] = (unsigned char)hl;
    memcpy(p + n, t->host, hl);
    n += hl;
    p[n++] = (unsigned char)(t->port >> 8);
    p[n++] = (unsigned char)t->port;
    p[n++] = (unsigned char)(t->enrol_port >> 8);
    p[n++] = (unsigned char)t->enrol_port;
    memcpy(p + n, t->collector_key, 32);
    n += 32;
    p[n++] = (unsigned char)cl;
    memcpy(p + n, t->city, cl);
    n += cl;
    memcpy(p + n, t->secret, GLCI_ENROL_SECRET_LEN);
    n += GLCI_ENROL_SECRET_LEN;
    s_checksum(p, n, p + n);
    n += S_CHECK_LEN;

    size_t o = 0;
    memcpy(out, GLCI_ENROL_PREFIX, S_PREFIX_LEN);
    o = S_PREFIX_LEN;
    unsigned bits = 0, nbits = 0;
    for (size_t i = 0; i < n; i++) {
        bits = ((bits << 8) | p[i]) & 0xffffu;
        nbits += 8;
        while (nbits >= 5) {
            out[o++] = s_alpha[(bits >> (nbits - 5)) & 31u];
            nbits -= 5;
        }
    }
    if (nbits > 0)
        out[o++] = s_alpha[(bits << (5 - nbits)) & 31u];
    out[o] = '\0';
    sodium_memzero(p, sizeof p);
    return GLCI_WIRE_OK;
}

/* The value of one character, or -1; Crockford's rule reads i and l as 1,
 * o as 0, either case. */
static int s_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    if (c == 'i' || c == 'l')
        return 1;
    if (c == 'o')
        return 0;
    const char *p = c ? strchr(s_alpha, c) : NULL;
    return p ? (int)(p - s_alpha) : -1;
}

int glci_enrol_token_decode(const char *text, glci_enrol_token_t *t, char *err,
                            size_t errlen)
{
    memset(t, 0, sizeof *t);
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    /* the prefix too has no meaning in letter case: "GLCI1..." is read */
    if (strncasecmp(text, "glci", 4) == 0 && text[4] >= '2' && text[4] <= '9') {
        glci_errf(err, errlen, "enrolment string of version %c: this glci-agent reads "
                  "version 1 only (upgrade it)", text[4]);
        return GLCI_WIRE_EVERSION;
    }
    if (strncasecmp(text, GLCI_ENROL_PREFIX, S_PREFIX_LEN) != 0) {
        glci_errf(err, errlen, "not an enrolment string (it starts with '%s', made by "
                  "`glci city add --invite`)", GLCI_ENROL_PREFIX);
        return GLCI_WIRE_EDECODE;
    }
    unsigned char p[S_PAYLOAD_MAX + 1];
    size_t n = 0;
    unsigned bits = 0, nbits = 0;
    for (const char *c = text + S_PREFIX_LEN; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '-')
            continue;
        int v = s_value(*c);
        if (v < 0) {
            unsigned char ch = (unsigned char)*c;
            if (ch >= 0x21 && ch < 0x7f)
                glci_errf(err, errlen, "enrolment string: character %zu ('%c') is not one "
                          "of 0-9 a-z without u: mistyped?", (size_t)(c - text) + 1, ch);
            else
                glci_errf(err, errlen, "enrolment string: character %zu is not one of 0-9 "
                          "a-z without u: mistyped?", (size_t)(c - text) + 1);
            sodium_memzero(p, sizeof p);
            return GLCI_WIRE_EDECODE;
        }
        bits = ((bits << 5) | (unsigned)v) & 0xffffu;
        nbits += 5;
        if (nbits >= 8) {
            if (n == sizeof p) {
                glci_errf(err, errlen, "enrolment string is too long: pasted twice?");
                sodium_memzero(p, sizeof p);
                return GLCI_WIRE_EDECODE;
            }
            p[n++] = (unsigned char)(bits >> (nbits - 8));
            nbits -= 8;
        }
    }
    int rc = GLCI_WIRE_EDECODE;
    unsigned char sum[S_CHECK_LEN];
    if (n < 1 + 1 + 4 + 32 + 1 + 1 + GLCI_ENROL_SECRET_LEN + S_CHECK_LEN ||
        (bits & ((1u << nbits) - 1u)) != 0) {
        glci_errf(err, errlen, "enrolment string is cut short or mistyped (its checksum "
                  "does not match): copy it again");
        goto done;
    }
    s_checksum(p, n - S_CHECK_LEN, sum);
    if (sodium_memcmp(sum, p + n - S_CHECK_LEN, S_CHECK_LEN) != 0) {
        glci_errf(err, errlen, "enrolment string is mistyped or cut short (its checksum "
                  "does not match): copy it again");
        goto done;
    }
    size_t end = n - S_CHECK_LEN, o = 0;
    size_t hl = p[o++];
    if (hl == 0 || hl > GLCI_ENROL_HOST_MAX || o + hl + 4 + 32 + 1 > end)
        goto bad_layout;
    memcpy(t->host, p + o, hl);
    o += hl;
    t->port = (uint16_t)((p[o] << 8) | p[o + 1]);
    t->enrol_port = (uint16_t)((p[o + 2] << 8) | p[o + 3]);
    o += 4;
    memcpy(t->collector_key, p + o, 32);
    o += 32;
    size_t cl = p[o++];
    if (cl == 0 || cl > GLCI_CITY_ID_MAX || o + cl + GLCI_ENROL_SECRET_LEN != end)
        goto bad_layout;
    memcpy(t->city, p + o, cl);
    o += cl;
    memcpy(t->secret, p + o, GLCI_ENROL_SECRET_LEN);
    /* The checksum is no signature: anyone can make a string that passes
     * it. What is read out of one goes into a config file and a connection,
     * so a field is taken only in the form a real string has. */
    char why[384];
    why[0] = '\0';
    if (strlen(t->city) != cl || !glci_city_id_valid(t->city)) {
        glci_errf(err, errlen, "enrolment string names no valid city id ([a-z0-9][a-z0-9._-]*, "
                  "at most %d characters): forged or damaged", GLCI_CITY_ID_MAX);
        rc = GLCI_WIRE_EFIELD;
        goto done;
    }
    if (strlen(t->host) != hl) {
        glci_errf(err, errlen, "enrolment string names a collector host with a NUL byte "
                  "inside: forged or damaged");
        rc = GLCI_WIRE_EFIELD;
        goto done;
    }
    if (glci_enrol_host_check(t->host, why, sizeof why) != 0) {
        glci_errf(err, errlen, "enrolment string names no usable collector: %s", why);
        rc = GLCI_WIRE_EFIELD;
        goto done;
    }
    if (t->port == 0 || t->enrol_port == 0) {
        glci_errf(err, errlen, "enrolment string names collector port 0: forged or damaged");
        rc = GLCI_WIRE_EFIELD;
        goto done;
    }
    rc = GLCI_WIRE_OK;
    goto done;
bad_layout:
    glci_errf(err, errlen, "enrolment string does not hold a host, ports, key, city and "
              "secret in order (made by another program?)");
done:
    sodium_memzero(p, sizeof p);
    if (rc != GLCI_WIRE_OK)
        sodium_memzero(t, sizeof *t);
    return rc;
}

void glci_enrol_token_endpoint(const glci_enrol_token_t *t, int enrol, char *out,
                               size_t outlen)
{
    snprintf(out, outlen, "tcp://%s:%u", t->host, (unsigned)(enrol ? t->enrol_port : t->port));
}

/* ---- the messages ---------------------------------------------------------- */

static int s_city_len_ok(const char *city)
{
    size_t n = city ? strlen(city) : 0;
    return n > 0 && n <= GLCI_CITY_ID_MAX;
}

int glci_enrol_request_pack(const glci_enrol_request_t *r, uint8_t **out, size_t *outlen)
{
    if (!s_city_len_ok(r->city))
        return GLCI_WIRE_EINVAL;
    Glci__EnrolRequest m = GLCI__ENROL_REQUEST__INIT;
    m.has_version = 1;
    m.version = GLCI_WIRE_VERSION;
    m.city = (char *)r->city;
    m.has_secret = 1;
    m.secret.data = (uint8_t *)r->secret;
    m.secret.len = GLCI_ENROL_SECRET_LEN;
    *outlen = glci__enrol_request__get_packed_size(&m);
    *out = glci_xmalloc(*outlen);
    glci__enrol_request__pack(&m, *out);
    return GLCI_WIRE_OK;
}

int glci_enrol_reply_pack(const glci_enrol_reply_t *r, uint8_t **out, size_t *outlen)
{
    if (strcmp(glci_enrol_status_str((int)r->status), "unknown") == 0)
        return GLCI_WIRE_EINVAL;
    Glci__EnrolReply m = GLCI__ENROL_REPLY__INIT;
    m.has_version = 1;
    m.version = GLCI_WIRE_VERSION;
    m.has_status = 1;
    m.status = (Glci__EnrolStatus)r->status;
    if (r->city[0])
        m.city = (char *)r->city;
    if (r->error[0])
        m.error = (char *)r->error;
    if (r->status == GLCI_ENROL_LIMITED) {
        m.has_retry_after = 1;
        m.retry_after = r->retry_after;
    }
    *outlen = glci__enrol_reply__get_packed_size(&m);
    *out = glci_xmalloc(*outlen);
    glci__enrol_reply__pack(&m, *out);
    return GLCI_WIRE_OK;
}

/* The shared start of both unpackers: the size limit and the reason a
 * message did not decode. */
static int s_unpack_fail(const char *what, size_t len, const glci_wire_budget_t *b,
                         char *err, size_t errlen)
{
    if (b->exhausted) {
        glci_errf(err, errlen, "enrolment %s of %zu bytes needs more memory than allowed",
                  what, len);
        return GLCI_WIRE_EBUDGET;
    }
    glci_errf(err, errlen, "undecodable enrolment %s (%zu bytes)", what, len);
    return GLCI_WIRE_EDECODE;
}

static int s_too_big(const char *what, size_t len, char *err, size_t errlen)
{
    glci_errf(err, errlen, "enrolment %s of %zu bytes is over the limit of %d", what, len,
              GLCI_ENROL_MESSAGE_MAX);
    return GLCI_WIRE_ELIMIT;
}

int glci_enrol_request_unpack(const void *buf, size_t len, glci_enrol_request_t *r,
                              char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (len > GLCI_ENROL_MESSAGE_MAX)
        return s_too_big("request", len, err, errlen);
    glci_wire_budget_t b;
    glci_wire_budget_init(&b, glci_wire_default_budget(len));
    Glci__EnrolRequest *m = glci__enrol_request__unpack(&b.alloc, len, buf);
    if (!m)
        return s_unpack_fail("request", len, &b, err, errlen);
    int rc = GLCI_WIRE_OK;
    if (m->has_version && m->version != GLCI_WIRE_VERSION) {
        glci_errf(err, errlen, "enrolment protocol version %u not supported (this side "
                       "speaks %u)", m->version, GLCI_WIRE_VERSION);
        rc = GLCI_WIRE_EVERSION;
    } else if (!s_city_len_ok(m->city)) {
        glci_errf(err, errlen, "enrolment request names no city id of 1 to %d bytes",
                  GLCI_CITY_ID_MAX);
        rc = GLCI_WIRE_EFIELD;
    } else if (!m->has_secret || m->secret.len != GLCI_ENROL_SECRET_LEN) {
        glci_errf(err, errlen, "enrolment request holds no %d-byte secret",
                  GLCI_ENROL_SECRET_LEN);
        rc = GLCI_WIRE_EFIELD;
    } else {
        snprintf(r->city, sizeof r->city, "%s", m->city);
        memcpy(r->secret, m->secret.data, GLCI_ENROL_SECRET_LEN);
    }
    if (m->has_secret)
        sodium_memzero(m->secret.data, m->secret.len);
    glci__enrol_request__free_unpacked(m, &b.alloc);
    return rc;
}

int glci_enrol_reply_unpack(const void *buf, size_t len, glci_enrol_reply_t *r,
                            char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (len > GLCI_ENROL_MESSAGE_MAX)
        return s_too_big("reply", len, err, errlen);
    glci_wire_budget_t b;
    glci_wire_budget_init(&b, glci_wire_default_budget(len));
    Glci__EnrolReply *m = glci__enrol_reply__unpack(&b.alloc, len, buf);
    if (!m)
        return s_unpack_fail("reply", len, &b, err, errlen);
    int rc = GLCI_WIRE_OK;
    if (m->has_version && m->version != GLCI_WIRE_VERSION) {
        glci_errf(err, errlen, "enrolment reply of protocol version %u not supported",
                  m->version);
        rc = GLCI_WIRE_EVERSION;
    } else if (!m->has_status ||
               strcmp(glci_enrol_status_str((int)m->status), "unknown") == 0) {
        glci_errf(err, errlen, "enrolment reply has no known status");
        rc = GLCI_WIRE_EFIELD;
    } else {
        r->status = (glci_enrol_status_t)m->status;
        snprintf(r->city, sizeof r->city, "%s", m->city ? m->city : "");
        snprintf(r->error, sizeof r->error, "%s", m->error ? m->error : "");
        /* printed to a terminal as it is: nothing but printable ASCII */
        for (char *c = r->error; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
        /* a wait only with LIMITED, as the reply type says and pack writes */
        r->retry_after = r->status == GLCI_ENROL_LIMITED && m->has_retry_after ?
                         m->retry_after : 0;
    }
    glci__enrol_reply__free_unpacked(m, &b.alloc);
    return rc;
}
