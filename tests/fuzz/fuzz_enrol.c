/* libFuzzer target for the enrolment decoders (wire/glci_enrol.c): the
 * bytes of one frame go through the request decoder the collector's
 * enrolment endpoint uses and the reply decoder the agent uses, and, as
 * text, through the enrolment string reader glci-agent enrol uses.
 *
 * Contract checked beyond "no crash, no leak" (glci_enrol.h):
 *   - a refusal is one of the codes the header lists for that decoder, with
 *     one printable line;
 *   - an accepted request has a city of 1 to GLCI_CITY_ID_MAX bytes without
 *     a NUL, and packs and unpacks to itself;
 *   - an accepted reply has a status of the table, an error that is
 *     printable text within its buffer, and packs and unpacks to itself;
 *   - an accepted enrolment string carries what encode would write (host of
 *     allowed characters, ports not 0, a city); its canonical form starts
 *     with "glci1", uses only the lower-case alphabet and reads back to the
 *     same token, upper case too; and no single character changed or cut
 *     off the end gives another token (the checksum's promise).
 *
 * Run: fuzz_enrol -max_len=2048 -dict=tests/fuzz/enrol.dict NEWDIR tests/fuzz/corpus/enrol */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glci_enrol.h"
#include "glci_fuzz.h"
#include "glci_wire.h"

/* Crockford's base32 as the encoder writes it. */
static const char s_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* A refused request or reply: one of the wire layer's codes for bad
 * input, and a one-line message. */
static void s_refused(const char *what, int rc, const char *err, size_t errlen)
{
    GLCI_FUZZ_CHECK(rc == GLCI_WIRE_EDECODE || rc == GLCI_WIRE_EVERSION ||
                    rc == GLCI_WIRE_EFIELD || rc == GLCI_WIRE_ELIMIT ||
                    rc == GLCI_WIRE_EBUDGET, "%s: code %d", what, rc);
    glci_fuzz_check_line(what, err, errlen);
}

static void s_request(const uint8_t *data, size_t size)
{
    glci_enrol_request_t r, back;
    char err[256];
    int rc = glci_enrol_request_unpack(data, size, &r, err, sizeof err);
    if (rc != 0) {
        s_refused("enrolment request refusal", rc, err, sizeof err);
        return;
    }
    size_t n = strnlen(r.city, sizeof r.city);
    GLCI_FUZZ_CHECK(n >= 1 && n <= GLCI_CITY_ID_MAX, "enrol request: a city of %zu bytes", n);
    uint8_t *buf;
    size_t len;
    GLCI_FUZZ_CHECK(glci_enrol_request_pack(&r, &buf, &len) == 0,
                    "enrol request: a decoded request does not pack");
    rc = glci_enrol_request_unpack(buf, len, &back, err, sizeof err);
    GLCI_FUZZ_CHECK(rc == 0, "enrol request: a packed request does not unpack: %s", err);
    GLCI_FUZZ_CHECK(strcmp(back.city, r.city) == 0 &&
                    memcmp(back.secret, r.secret, sizeof r.secret) == 0,
                    "enrol request: packing and unpacking changed it (a NUL in the city?)");
    free(buf);
}

static void s_reply(const uint8_t *data, size_t size)
{
    glci_enrol_reply_t r, back;
    char err[256];
    int rc = glci_enrol_reply_unpack(data, size, &r, err, sizeof err);
    if (rc != 0) {
        s_refused("enrolment reply refusal", rc, err, sizeof err);
        return;
    }
    GLCI_FUZZ_CHECK(strcmp(glci_enrol_status_str((int)r.status), "unknown") != 0,
                    "enrol reply: accepted status %d", (int)r.status);
    if (r.error[0])
        glci_fuzz_check_line("enrolment reply error", r.error, sizeof r.error);
    GLCI_FUZZ_CHECK(strnlen(r.city, sizeof r.city) < sizeof r.city,
                    "enrol reply: city runs off its buffer");
    uint8_t *buf;
    size_t len;
    GLCI_FUZZ_CHECK(glci_enrol_reply_pack(&r, &buf, &len) == 0,
                    "enrol reply: a decoded reply does not pack");
    rc = glci_enrol_reply_unpack(buf, len, &back, err, sizeof err);
    GLCI_FUZZ_CHECK(rc == 0, "enrol reply: a packed reply does not unpack: %s", err);
    GLCI_FUZZ_CHECK(back.status == r.status && strcmp(back.error, r.error) == 0 &&
                    strcmp(back.city, r.city) == 0 && back.retry_after == r.retry_after,
                    "enrol reply: packing and unpacking changed it");
    free(buf);
}

static int s_same_token(const glci_enrol_token_t *a, const glci_enrol_token_t *b)
{
    return strcmp(a->host, b->host) == 0 && a->port == b->port &&
           a->enrol_port == b->enrol_port &&
           memcmp(a->collector_key, b->collector_key, sizeof a->collector_key) == 0 &&
           strcmp(a->city, b->city) == 0 && memcmp(a->secret, b->secret, sizeof a->secret) == 0;
}

/* Decodes text: 1 and *t when it is accepted, else 0 with a refusal checked. */
static int s_decode(const char *text, glci_enrol_token_t *t)
{
    char err[256];
    int rc = glci_enrol_token_decode(text, t, err, sizeof err);
    if (rc == 0)
        return 1;
    GLCI_FUZZ_CHECK(rc == GLCI_WIRE_EDECODE || rc == GLCI_WIRE_EVERSION ||
                    rc == GLCI_WIRE_EFIELD, "enrol string: code %d", rc);
    glci_fuzz_check_line("enrolment string refusal", err, sizeof err);
    return 0;
}

static void s_token_ok(const glci_enrol_token_t *t)
{
    size_t n = strnlen(t->host, sizeof t->host);
    GLCI_FUZZ_CHECK(n >= 1 && n <= GLCI_ENROL_HOST_MAX, "enrol string: host of %zu bytes", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->host[i];
        GLCI_FUZZ_CHECK(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']',
                        "enrol string: host with byte 0x%02x", c);
    }
    n = strnlen(t->city, sizeof t->city);
    GLCI_FUZZ_CHECK(n >= 1 && n <= GLCI_CITY_ID_MAX, "enrol string: city of %zu bytes", n);
    GLCI_FUZZ_CHECK(t->port != 0 && t->enrol_port != 0, "enrol string: port 0");
}

static void s_token(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    glci_enrol_token_t t, back;
    char canon[GLCI_ENROL_TEXT_MAX + 1];
    if (!s_decode(text, &t))
        goto cleanup;
    s_token_ok(&t);
    GLCI_FUZZ_CHECK(glci_enrol_token_encode(&t, canon, sizeof canon) == 0,
                    "enrol string: a decoded token does not encode");
    size_t n = strlen(canon), pre = strlen(GLCI_ENROL_PREFIX);
    GLCI_FUZZ_CHECK(n > pre && strncmp(canon, GLCI_ENROL_PREFIX, pre) == 0 &&
                    strspn(canon + pre, s_alphabet) == n - pre,
                    "enrol string: the canonical form '%s' is not glci1 + the alphabet", canon);
    GLCI_FUZZ_CHECK(s_decode(canon, &back) && s_same_token(&t, &back),
                    "enrol string: the canonical form reads to another token");

    /* the same in upper case (the prefix included): case does not matter */
    char upper[GLCI_ENROL_TEXT_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        upper[i] = (char)toupper((unsigned char)canon[i]);
    GLCI_FUZZ_CHECK(s_decode(upper, &back) && s_same_token(&t, &back),
                    "enrol string: upper case reads to another token");

    /* one slip, at a place and to a letter the input picks: refused, or the
     * same token (a change only in the last character's unused bits) */
    size_t at = pre + (size > 0 ? data[0] : 0u) % (n - pre);
    const char *was = strchr(s_alphabet, canon[at]);
    size_t by = 1 + (size > 1 ? data[1] : 0u) % (sizeof s_alphabet - 2);
    char slip[GLCI_ENROL_TEXT_MAX + 1];
    memcpy(slip, canon, n + 1);
    slip[at] = s_alphabet[((size_t)(was - s_alphabet) + by) % (sizeof s_alphabet - 1)];
    GLCI_FUZZ_CHECK(!s_decode(slip, &back) || s_same_token(&t, &back),
                    "enrol string: a slip at character %zu reads as another token", at);

    /* cut short by one character */
    memcpy(slip, canon, n + 1);
    slip[n - 1] = '\0';
    GLCI_FUZZ_CHECK(!s_decode(slip, &back) || s_same_token(&t, &back),
                    "enrol string: cut short, it reads as another token");
cleanup:
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_request(data, size);
    s_reply(data, size);
    s_token(data, size);
    return 0;
}
