/* Unit tests for wire/glci_enrol: the enrolment string (round trip, typo
 * and truncation caught by the checksum, Crockford's lenient reading,
 * every refusal named) and the enrolment messages (round trips, limits,
 * refusals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci.pb-c.h"
#include "glci_enrol.h"
#include "glci_forge.h"
#include "glci_wire.h"

static glci_enrol_token_t s_token(void)
{
    glci_enrol_token_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "glci.uil.example.org");
    t.port = 7461;
    t.enrol_port = 7462;
    for (int i = 0; i < 32; i++)
        t.collector_key[i] = (unsigned char)(i * 7 + 1);
    snprintf(t.city, sizeof t.city, "cork-ie");
    for (int i = 0; i < GLCI_ENROL_SECRET_LEN; i++)
        t.secret[i] = (unsigned char)(0xa0 + i);
    return t;
}

static void s_encode(const glci_enrol_token_t *t, char *text)
{
    assert_int_equal(glci_enrol_token_encode(t, text, GLCI_ENROL_TEXT_MAX + 1), GLCI_WIRE_OK);
}

static void test_token_roundtrip(void **state)
{
    (void)state;
    glci_enrol_token_t t = s_token(), back;
    char text[GLCI_ENROL_TEXT_MAX + 1], err[256], ep[300];
    s_encode(&t, text);
    assert_memory_equal(text, "glci1", 5);
    /* nothing but the alphabet after the prefix: copy-paste safe */
    assert_int_equal(strspn(text + 5, "0123456789abcdefghjkmnpqrstvwxyz"), strlen(text) - 5);
    assert_true(strlen(text) < 160);
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_memory_equal(&back, &t, sizeof t);
    glci_enrol_token_endpoint(&back, 0, ep, sizeof ep);
    assert_string_equal(ep, "tcp://glci.uil.example.org:7461");
    glci_enrol_token_endpoint(&back, 1, ep, sizeof ep);
    assert_string_equal(ep, "tcp://glci.uil.example.org:7462");

    /* the longest host (four labels, 253 characters) and city fit */
    memset(t.host, 'h', GLCI_ENROL_HOST_MAX);
    t.host[63] = t.host[127] = t.host[191] = '.';
    t.host[GLCI_ENROL_HOST_MAX] = '\0';
    memset(t.city, 'c', GLCI_CITY_ID_MAX);
    t.city[GLCI_CITY_ID_MAX] = '\0';
    s_encode(&t, text);
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_memory_equal(&back, &t, sizeof t);
}

/* Upper case, white space, hyphens, and i/l/o for 1/1/0 read the same. */
static void test_token_lenient_reading(void **state)
{
    (void)state;
    glci_enrol_token_t t = s_token(), back;
    char text[GLCI_ENROL_TEXT_MAX + 1], messy[2 * GLCI_ENROL_TEXT_MAX], err[256];
    s_encode(&t, text);
    size_t m = 0;
    for (size_t i = 0; text[i]; i++) {
        char c = text[i];
        if (i >= 5 && c >= 'a' && c <= 'z' && i % 3 == 0)
            c = (char)(c - 'a' + 'A');
        if (i >= 5 && c == '1')
            c = (i % 2) ? 'l' : 'I';
        if (i >= 5 && c == '0')
            c = 'O';
        messy[m++] = c;
        if (i >= 5 && i % 20 == 0)
            messy[m++] = (i % 40) ? '-' : '\n';
    }
    messy[m] = '\0';
    assert_int_equal(glci_enrol_token_decode(messy, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_memory_equal(&back, &t, sizeof t);

    /* all upper case, the prefix included, as typed from a printed letter
     * (found by the enrolment fuzz target) */
    for (size_t i = 0; text[i]; i++)
        if (text[i] >= 'a' && text[i] <= 'z')
            text[i] = (char)(text[i] - 'a' + 'A');
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_memory_equal(&back, &t, sizeof t);
    text[4] = '2';
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_EVERSION);
}

/* Every single-character change, and every cut, is refused before any
 * network use. */
static void test_token_typos_and_cuts(void **state)
{
    (void)state;
    glci_enrol_token_t t = s_token(), back;
    char text[GLCI_ENROL_TEXT_MAX + 1], bad[GLCI_ENROL_TEXT_MAX + 1], err[256];
    s_encode(&t, text);
    size_t n = strlen(text);
    size_t caught = 0;
    for (size_t i = 5; i < n; i++) {
        memcpy(bad, text, n + 1);
        bad[i] = bad[i] == 'z' ? 'y' : 'z';
        int rc = glci_enrol_token_decode(bad, &back, err, sizeof err);
        caught += rc != GLCI_WIRE_OK;
        assert_int_not_equal(rc, GLCI_WIRE_OK);
        assert_non_null(strstr(err, "mistyped"));
    }
    assert_int_equal(caught, n - 5);
    for (size_t cut = 5; cut < n; cut++) {
        memcpy(bad, text, cut);
        bad[cut] = '\0';
        assert_int_not_equal(glci_enrol_token_decode(bad, &back, err, sizeof err), GLCI_WIRE_OK);
    }
    /* a character outside the alphabet is named with its position */
    memcpy(bad, text, n + 1);
    bad[9] = 'u';
    assert_int_equal(glci_enrol_token_decode(bad, &back, err, sizeof err), GLCI_WIRE_EDECODE);
    assert_non_null(strstr(err, "character 10 ('u')"));
    bad[9] = '\x01';
    assert_int_equal(glci_enrol_token_decode(bad, &back, err, sizeof err), GLCI_WIRE_EDECODE);
    assert_null(strchr(err, '\x01'));
    /* pasted twice */
    snprintf(bad, sizeof bad, "%s%s", text, text + 5);
    assert_int_not_equal(glci_enrol_token_decode(bad, &back, err, sizeof err), GLCI_WIRE_OK);
}

static void test_token_prefixes_and_fields(void **state)
{
    (void)state;
    glci_enrol_token_t t = s_token(), back;
    char text[GLCI_ENROL_TEXT_MAX + 1], err[256];
    assert_int_equal(glci_enrol_token_decode("glci2abc", &back, err, sizeof err),
                     GLCI_WIRE_EVERSION);
    assert_non_null(strstr(err, "version 2"));
    assert_int_equal(glci_enrol_token_decode("rq:rM>}U?@Lns47E1%kR", &back, err, sizeof err),
                     GLCI_WIRE_EDECODE);
    assert_non_null(strstr(err, "not an enrolment string"));
    assert_int_equal(glci_enrol_token_decode("", &back, err, sizeof err), GLCI_WIRE_EDECODE);

    glci_enrol_token_t b = t;
    snprintf(b.host, sizeof b.host, "evil host");
    assert_int_equal(glci_enrol_token_encode(&b, text, sizeof text), GLCI_WIRE_EINVAL);
    b = t;
    b.host[0] = '\0';
    assert_int_equal(glci_enrol_token_encode(&b, text, sizeof text), GLCI_WIRE_EINVAL);
    b = t;
    b.port = 0;
    assert_int_equal(glci_enrol_token_encode(&b, text, sizeof text), GLCI_WIRE_EINVAL);
    b = t;
    b.city[0] = '\0';
    assert_int_equal(glci_enrol_token_encode(&b, text, sizeof text), GLCI_WIRE_EINVAL);
    b = t;
    snprintf(b.city, sizeof b.city, "Cork");
    assert_int_equal(glci_enrol_token_encode(&b, text, sizeof text), GLCI_WIRE_EINVAL);
    b = t;
    snprintf(b.host, sizeof b.host, "127.0.0.1:7461");
    assert_int_equal(glci_enrol_token_encode(&b, text, sizeof text), GLCI_WIRE_EINVAL);
    assert_int_equal(glci_enrol_token_encode(&t, text, 20), GLCI_WIRE_EINVAL);
    b = t;
    snprintf(b.host, sizeof b.host, "[::1]");
    s_encode(&b, text);
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_string_equal(back.host, "[::1]");
}

/* A crafted string passes the checksum; its city id and host must still be
 * valid, so nothing it carries can break a config line or name an endpoint
 * no agent can reach. */
static void test_token_forged_fields(void **state)
{
    (void)state;
    glci_enrol_token_t back;
    char text[1024], err[512];
    glci_forge_enrol("glci.example.org", "cork-ie", text, sizeof text);
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_string_equal(back.city, "cork-ie");

    const char *cities[] = {"cork-ie\nmetrics_file = /tmp/pwn", "CORK-IE", "-cork", "cork ie",
                            "cork\r", ".x"};
    for (size_t i = 0; i < sizeof cities / sizeof *cities; i++) {
        glci_forge_enrol("glci.example.org", cities[i], text, sizeof text);
        assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err),
                         GLCI_WIRE_EFIELD);
        assert_non_null(strstr(err, "no valid city id"));
        assert_null(strchr(err, '\n'));
        assert_int_equal(back.city[0], '\0');
    }
    const char *hosts[] = {"127.0.0.1:31163", "::1", "[::1", "a:b:c", "-x", "x..y",
                           "1.2.3.4.5", "x.", "h\nkey_file = /x", "[1.2.3.4]", "x-.org", "256.1.1.1"};
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        glci_forge_enrol(hosts[i], "cork-ie", text, sizeof text);
        assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err),
                         GLCI_WIRE_EFIELD);
        assert_non_null(strstr(err, "no usable collector"));
        assert_null(strchr(err, '\n'));
    }
}

/* Every refusal of a host says why in printable text, and a length byte
 * past the host's room is a layout error, not a copy past the field. */
static void test_token_forged_host_lengths(void **state)
{
    (void)state;
    glci_enrol_token_t back;
    char text[1024], err[512], host[256];
    glci_forge_enrol_n("ab\0cd", 5, "cork-ie", text, sizeof text);
    memset(err, 0x7f, sizeof err);
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_EFIELD);
    assert_non_null(strstr(err, "NUL byte"));
    for (const char *c = err; *c; c++)
        assert_true(*c >= ' ' && *c < 0x7f);
    assert_int_equal(back.host[0], '\0');

    for (size_t hl = GLCI_ENROL_HOST_MAX + 1; hl <= 255; hl++) {
        memset(host, 'a', hl);
        glci_forge_enrol_n(host, hl, "cork-ie", text, sizeof text);
        memset(err, 0x7f, sizeof err);
        assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err),
                         GLCI_WIRE_EDECODE);
        assert_non_null(strstr(err, "does not hold a host, ports"));
        for (const char *c = err; *c; c++)
            assert_true(*c >= ' ' && *c < 0x7f);
    }
    /* the longest host that fits is judged as a host (one label too long) */
    memset(host, 'a', GLCI_ENROL_HOST_MAX);
    glci_forge_enrol_n(host, GLCI_ENROL_HOST_MAX, "cork-ie", text, sizeof text);
    assert_int_equal(glci_enrol_token_decode(text, &back, err, sizeof err), GLCI_WIRE_EFIELD);
    assert_non_null(strstr(err, "no usable collector: host 'aaa"));
}

static void test_host_check(void **state)
{
    (void)state;
    char err[512];
    const char *good[] = {"glci.example.org", "localhost", "127.0.0.1", "[::1]",
                          "[2001:db8::7]", "a-b.c", "x1", "EXAMPLE.org"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(glci_enrol_host_check(good[i], err, sizeof err), GLCI_WIRE_OK);
    assert_int_equal(glci_enrol_host_check("127.0.0.1:31163", err, sizeof err),
                     GLCI_WIRE_EINVAL);
    assert_non_null(strstr(err, "host '127.0.0.1:31163'"));
    assert_non_null(strstr(err, "holds a port"));
    assert_int_equal(glci_enrol_host_check("::1", err, sizeof err), GLCI_WIRE_EINVAL);
    assert_non_null(strstr(err, "brackets, as [::1]"));
    assert_int_equal(glci_enrol_host_check("[::1", err, sizeof err), GLCI_WIRE_EINVAL);
    assert_non_null(strstr(err, "unbalanced"));
    assert_int_equal(glci_enrol_host_check("1.2.3.4.5", err, sizeof err), GLCI_WIRE_EINVAL);
    assert_non_null(strstr(err, "not a dotted IPv4"));
    assert_int_equal(glci_enrol_host_check("x..y", err, sizeof err), GLCI_WIRE_EINVAL);
    assert_non_null(strstr(err, "labels are 1 to 63"));
    char label[80];
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_int_equal(glci_enrol_host_check(label, err, sizeof err), GLCI_WIRE_EINVAL);
    label[63] = '\0';
    assert_int_equal(glci_enrol_host_check(label, err, sizeof err), GLCI_WIRE_OK);
    char big[300];
    memset(big, 'a', 254);
    for (int i = 63; i < 254; i += 64)
        big[i] = '.';
    big[254] = '\0';
    assert_int_equal(glci_enrol_host_check(big, err, sizeof err), GLCI_WIRE_EINVAL);
    assert_int_equal(glci_enrol_host_check("a\x01b", err, sizeof err), GLCI_WIRE_EINVAL);
    assert_null(strchr(err, '\x01'));
}

static void test_request_roundtrip_and_refusals(void **state)
{
    (void)state;
    glci_enrol_request_t r, back;
    memset(&r, 0, sizeof r);
    snprintf(r.city, sizeof r.city, "cork-ie");
    memset(r.secret, 0x5a, sizeof r.secret);
    uint8_t *buf;
    size_t len;
    char err[256];
    assert_int_equal(glci_enrol_request_pack(&r, &buf, &len), GLCI_WIRE_OK);
    assert_int_equal(glci_enrol_request_unpack(buf, len, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_string_equal(back.city, "cork-ie");
    assert_memory_equal(back.secret, r.secret, sizeof r.secret);
    free(buf);

    assert_int_equal(glci_enrol_request_unpack("\xff\xff\xff", 3, &back, err, sizeof err),
                     GLCI_WIRE_EDECODE);
    static uint8_t big[GLCI_ENROL_MESSAGE_MAX + 1];
    assert_int_equal(glci_enrol_request_unpack(big, sizeof big, &back, err, sizeof err),
                     GLCI_WIRE_ELIMIT);

    /* a secret of the wrong length, no city, another version */
    Glci__EnrolRequest m = GLCI__ENROL_REQUEST__INIT;
    uint8_t raw[64];
    m.city = "cork-ie";
    m.has_secret = 1;
    m.secret.data = raw;
    m.secret.len = 15;
    memset(raw, 1, sizeof raw);
    uint8_t out[256];
    len = glci__enrol_request__pack(&m, out);
    assert_int_equal(glci_enrol_request_unpack(out, len, &back, err, sizeof err),
                     GLCI_WIRE_EFIELD);
    assert_non_null(strstr(err, "16-byte secret"));
    m.secret.len = 16;
    m.city = NULL;
    len = glci__enrol_request__pack(&m, out);
    assert_int_equal(glci_enrol_request_unpack(out, len, &back, err, sizeof err),
                     GLCI_WIRE_EFIELD);
    m.city = "cork-ie";
    m.has_version = 1;
    m.version = 2;
    len = glci__enrol_request__pack(&m, out);
    assert_int_equal(glci_enrol_request_unpack(out, len, &back, err, sizeof err),
                     GLCI_WIRE_EVERSION);
    r.city[0] = '\0';
    assert_int_equal(glci_enrol_request_pack(&r, &buf, &len), GLCI_WIRE_EINVAL);
}

static void test_reply_roundtrip_and_refusals(void **state)
{
    (void)state;
    glci_enrol_reply_t r, back;
    memset(&r, 0, sizeof r);
    r.status = GLCI_ENROL_LIMITED;
    r.retry_after = 600;
    snprintf(r.error, sizeof r.error, "too many failed tries\x1b[2J");
    uint8_t *buf;
    size_t len;
    char err[256];
    assert_int_equal(glci_enrol_reply_pack(&r, &buf, &len), GLCI_WIRE_OK);
    assert_int_equal(glci_enrol_reply_unpack(buf, len, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_int_equal(back.status, GLCI_ENROL_LIMITED);
    assert_int_equal(back.retry_after, 600);
    assert_string_equal(back.error, "too many failed tries?[2J");
    free(buf);

    r.status = (glci_enrol_status_t)9;
    assert_int_equal(glci_enrol_reply_pack(&r, &buf, &len), GLCI_WIRE_EINVAL);
    Glci__EnrolReply m = GLCI__ENROL_REPLY__INIT;
    uint8_t out[64];
    len = glci__enrol_reply__pack(&m, out);
    assert_int_equal(glci_enrol_reply_unpack(out, len, &back, err, sizeof err),
                     GLCI_WIRE_EFIELD);
    assert_string_equal(glci_enrol_status_str(GLCI_ENROL_ENROLLED), "enrolled");
    assert_string_equal(glci_enrol_status_str(0), "unknown");

    /* a wait comes only with LIMITED: another status's retry_after is not
     * taken, so the reply packs back to what was read (found by the
     * enrolment fuzz target) */
    m.has_status = 1;
    m.status = GLCI__ENROL_STATUS__ENROL_MALFORMED;
    m.has_retry_after = 1;
    m.retry_after = 36;
    len = glci__enrol_reply__pack(&m, out);
    assert_int_equal(glci_enrol_reply_unpack(out, len, &back, err, sizeof err), GLCI_WIRE_OK);
    assert_int_equal(back.status, GLCI_ENROL_MALFORMED);
    assert_int_equal(back.retry_after, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_roundtrip),
        cmocka_unit_test(test_token_lenient_reading),
        cmocka_unit_test(test_token_typos_and_cuts),
        cmocka_unit_test(test_token_prefixes_and_fields),
        cmocka_unit_test(test_token_forged_fields),
        cmocka_unit_test(test_token_forged_host_lengths),
        cmocka_unit_test(test_host_check),
        cmocka_unit_test(test_request_roundtrip_and_refusals),
        cmocka_unit_test(test_reply_roundtrip_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
