/* Unit tests for common/glci_wire: batch and ack round trips with presence
 * kept, and every way a decoder refuses bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_utf8.h"
#include "glci_wire.h"

static glci_obs_t s_obs(const char *ind, int64_t period, double value)
{
    glci_obs_t o;
    memset(&o, 0, sizeof o);
    o.indicator = ind;
    o.period = period;
    o.has_period = 1;
    o.value = value;
    o.has_value = 1;
    return o;
}

static void test_batch_roundtrip_keeps_presence(void **state)
{
    glci_obs_t o[4] = {s_obs("a", 2024, 41.5), s_obs("b", 0, 0.0), s_obs("c", -5, -0.0),
                            s_obs(NULL, 2020, 1.0)};
    o[0].source = "census";
    o[0].observed_at = 1719700000;
    o[2].has_value = 0;
    o[3].has_period = 0;
    uint8_t *buf;
    size_t len;
    assert_int_equal(glci_wire_batch_pack(UINT64_MAX, 7, "cork-ie", o, 4, &buf, &len), 0);
    glci_wire_batch_t *b = NULL;
    uint64_t partial[2];
    char err[200];
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, partial, err, sizeof err), 0);
    free(buf);
    assert_int_equal(b->version, GLCI_WIRE_VERSION);
    assert_true(b->stream == UINT64_MAX);
    assert_int_equal(b->seq, 7);
    assert_string_equal(b->city, "cork-ie");
    assert_int_equal(b->n_obs, 4);
    assert_string_equal(b->obs[0].indicator, "a");
    assert_string_equal(b->obs[0].source, "census");
    assert_int_equal(b->obs[0].observed_at, 1719700000);
    assert_true(b->obs[0].value == 41.5);
    /* a real zero value and period 0 are present, not absent */
    assert_true(b->obs[1].has_value);
    assert_true(b->obs[1].has_period);
    assert_int_equal(b->obs[1].period, 0);
    assert_true(b->obs[1].value == 0.0);
    assert_int_equal(b->obs[1].observed_at, 0);      /* unknown: left out, read as 0 */
    assert_null(b->obs[1].source);
    assert_false(b->obs[2].has_value);
    assert_int_equal(b->obs[2].period, -5);
    assert_null(b->obs[3].indicator);
    assert_false(b->obs[3].has_period);
    glci_wire_batch_free(&b);
    assert_null(b);
    glci_wire_batch_free(&b); /* NULL is fine */
}

static void test_batch_nan_inf_travel(void **state)
{
    glci_obs_t o[3] = {s_obs("a", 1, NAN), s_obs("a", 2, INFINITY),
                            s_obs("a", 3, -INFINITY)};
    uint8_t *buf;
    size_t len;
    assert_int_equal(glci_wire_batch_pack(1, 1, NULL, o, 3, &buf, &len), 0);
    glci_wire_batch_t *b = NULL;
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, NULL, NULL, 0), 0);
    free(buf);
    assert_string_equal(b->city, "");
    assert_true(isnan(b->obs[0].value));
    assert_true(isinf(b->obs[1].value) && b->obs[1].value > 0);
    assert_true(isinf(b->obs[2].value) && b->obs[2].value < 0);
    glci_wire_batch_free(&b);
}

static void test_batch_refusals(void **state)
{
    glci_wire_batch_t *b = NULL;
    uint64_t partial[2];
    char err[200];

    static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(glci_wire_batch_unpack(junk, sizeof junk, NULL, &b, partial, err,
                                            sizeof err), GLCI_WIRE_EDECODE);
    assert_null(b);
    assert_non_null(strstr(err, "undecodable"));

    static const unsigned char no_stream[] = {0x08, 0x01, 0x18, 0x05};
    assert_int_equal(glci_wire_batch_unpack(no_stream, sizeof no_stream, NULL, &b, partial,
                                            err, sizeof err), GLCI_WIRE_EFIELD);
    assert_non_null(strstr(err, "stream"));
    assert_int_equal(partial[1], 5);

    static const unsigned char seq0[] = {0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x18, 0x00};
    assert_int_equal(glci_wire_batch_unpack(seq0, sizeof seq0, NULL, &b, partial, err,
                                            sizeof err), GLCI_WIRE_EFIELD);
    assert_non_null(strstr(err, "sequence"));
    assert_int_equal(partial[0], 0x0807060504030201ull);

    static const unsigned char v2[] = {0x08, 0x02, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x18, 0x01};
    assert_int_equal(glci_wire_batch_unpack(v2, sizeof v2, NULL, &b, partial, err,
                                            sizeof err), GLCI_WIRE_EVERSION);
    assert_non_null(strstr(err, "version 2"));

    /* over batch_max */
    glci_obs_t o[5];
    for (int i = 0; i < 5; i++)
        o[i] = s_obs("x", i, i);
    uint8_t *buf;
    size_t len;
    assert_int_equal(glci_wire_batch_pack(1, 1, "c", o, 5, &buf, &len), 0);
    glci_wire_limits_t lim = {4, 0};
    assert_int_equal(glci_wire_batch_unpack(buf, len, &lim, &b, partial, err, sizeof err),
                     GLCI_WIRE_ELIMIT);
    assert_non_null(strstr(err, "5 observations"));
    lim.batch_max = 5;
    assert_int_equal(glci_wire_batch_unpack(buf, len, &lim, &b, partial, err, sizeof err), 0);
    glci_wire_batch_free(&b);

    /* an allocation budget too small */
    lim.budget = 64;
    assert_int_equal(glci_wire_batch_unpack(buf, len, &lim, &b, partial, err, sizeof err),
                     GLCI_WIRE_EBUDGET);
    assert_non_null(strstr(err, "memory"));
    free(buf);

    /* the packer refuses seq 0 and long cities */
    char city[80];
    memset(city, 'c', sizeof city - 1);
    city[sizeof city - 1] = '\0';
    assert_int_equal(glci_wire_batch_pack(1, 0, "c", o, 1, &buf, &len), GLCI_WIRE_EINVAL);
    assert_int_equal(glci_wire_batch_pack(1, 1, city, o, 1, &buf, &len), GLCI_WIRE_EINVAL);
}

static void test_batch_budget_stops_amplification(void **state)
{
    /* 1 MiB of empty observations (2 bytes each) would cost ~40x in
     * structs: the default budget (16x + 64 KiB) refuses it */
    size_t n = 1u << 19, len = 2 * n;
    unsigned char *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = 0x2a;
        buf[2 * i + 1] = 0x00;
    }
    glci_wire_batch_t *b = NULL;
    char err[200];
    glci_wire_limits_t lim = {SIZE_MAX, 0};
    assert_int_equal(glci_wire_batch_unpack(buf, len, &lim, &b, NULL, err, sizeof err),
                     GLCI_WIRE_EBUDGET);
    free(buf);
}

/* Strings over their limits cross the wire intact (the batch is not
 * refused for one observation); the shape check, which the store asks,
 * refuses them one by one. */
static void test_too_long_strings_pass_to_the_shape_check(void **state)
{
    char ind[66], src[202];
    memset(ind, 'i', 65);
    ind[65] = '\0';
    memset(src, 's', 201);
    src[201] = '\0';
    glci_obs_t o[3] = {s_obs(ind, 1, 1), s_obs("ok", 1, 1), s_obs("fine", 1, 1)};
    o[1].source = src;
    uint8_t *buf;
    size_t len;
    char msg[GLCI_REJECT_MESSAGE_MAX + 1];
    assert_int_equal(glci_wire_batch_pack(1, 1, "c", o, 3, &buf, &len), 0);
    glci_wire_batch_t *b = NULL;
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, NULL, NULL, 0), 0);
    free(buf);
    assert_string_equal(b->obs[0].indicator, ind); /* kept for the store */
    assert_int_equal(glci_obs_check(&b->obs[0], msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "indicator is longer than 64 bytes");
    assert_string_equal(b->obs[1].source, src);
    assert_int_equal(glci_obs_check(&b->obs[1], msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "source is 201 bytes, at most 200 bytes");
    assert_int_equal(glci_obs_check(&b->obs[2], msg, sizeof msg), GLCI_REJECT_NONE);
    assert_string_equal(msg, "");
    glci_wire_batch_free(&b);

    ind[64] = '\0'; /* exactly 64 is fine */
    o[0].indicator = ind;
    assert_int_equal(glci_obs_check(&o[0], NULL, 0), GLCI_REJECT_NONE);
}

/* The shape check names each fault; the tables name each number. */
static void test_shape_check_and_tables(void **state)
{
    char msg[GLCI_REJECT_MESSAGE_MAX + 1];
    glci_obs_t o = glci_obs_make(NULL, 2024, 1.0);
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "indicator is missing");
    o.indicator = "";
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    o.indicator = "x";
    o.has_period = 0;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "period is missing");
    o.has_period = 1;
    o.has_value = 0;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "value is missing");
    o.has_value = 1;
    o.source = "tab\there";
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "source contains a control character");
    o.source = "cut\xC3";
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "source is not valid UTF-8");
    o.source = "Statistik \xC3\x96sterreich";
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_NONE);
    /* a NaN or an unknown id is the framework's to judge, not the shape's */
    o = glci_obs_make("no_such_indicator", 99999, NAN);
    assert_int_equal(glci_obs_check(&o, NULL, 0), GLCI_REJECT_NONE);

    assert_string_equal(glci_reject_str(GLCI_REJECT_UNKNOWN_INDICATOR), "unknown indicator");
    assert_string_equal(glci_reject_str(GLCI_REJECT_MALFORMED), "malformed observation");
    assert_string_equal(glci_reject_str((glci_reject_t)99), "unknown reason");
    assert_string_equal(glci_batch_status_str(GLCI_BATCH_GAP), "gap");
    assert_string_equal(glci_batch_status_str(0), "unknown");
    assert_true(glci_batch_status_valid(GLCI_BATCH_UNAVAILABLE));
    assert_false(glci_batch_status_valid(7));
}

/* Packs a and unpacks it into *b (the caller releases b). */
static void s_ack_through(const glci_wire_ack_t *a, glci_wire_ack_t *b)
{
    uint8_t *buf;
    size_t len;
    char err[200];
    assert_int_equal(glci_wire_ack_pack(a, &buf, &len), 0);
    assert_int_equal(glci_wire_ack_unpack(buf, len, b, err, sizeof err), 0);
    free(buf);
}

static void test_ack_roundtrip(void **state)
{
    glci_rejection_t r[2] = {{3, 2, "value is not finite"}, {9, 1, "unknown x"}};
    glci_wire_ack_t a;
    memset(&a, 0, sizeof a);
    a.stream = 42;
    a.seq = 17;
    a.status = GLCI_BATCH_APPLIED;
    a.acked = 17;
    a.n_rejections = 2;
    a.rejections = r;
    glci_wire_ack_t b;
    s_ack_through(&a, &b);
    assert_int_equal(b.stream, 42);
    assert_int_equal(b.seq, 17);
    assert_int_equal(b.status, GLCI_BATCH_APPLIED);
    assert_int_equal(b.acked, 17);
    assert_int_equal(b.n_rejections, 2);
    assert_int_equal(b.rejections[1].index, 9);
    assert_int_equal(b.rejections[1].reason, 1);
    assert_string_equal(b.rejections[0].message, "value is not finite");
    assert_string_equal(b.error, "");
    glci_wire_ack_release(&b);
    assert_null(b.rejections);

    memset(&a, 0, sizeof a);
    a.status = GLCI_BATCH_GAP;
    a.acked = 3;
    a.expected = 4;
    snprintf(a.error, sizeof a.error, "gap");
    s_ack_through(&a, &b);
    assert_int_equal(b.status, GLCI_BATCH_GAP);
    assert_int_equal(b.expected, 4);
    assert_string_equal(b.error, "gap");
    glci_wire_ack_release(&b);

    a.status = (glci_batch_status_t)9;
    uint8_t *buf;
    size_t len;
    assert_int_equal(glci_wire_ack_pack(&a, &buf, &len), GLCI_WIRE_EINVAL);
}

/* The collector's texts reach the agent's log and rejected.csv: whatever
 * bytes they hold, they arrive as one printable line of valid UTF-8, cut
 * on a character boundary (found by fuzz_ack). */
static void test_ack_texts_arrive_printable(void **state)
{
    glci_rejection_t r[1] = {{1, 2, ""}};
    snprintf(r[0].message, sizeof r[0].message, "caf\xc3 \xff");
    glci_wire_ack_t a;
    memset(&a, 0, sizeof a);
    a.status = GLCI_BATCH_MALFORMED;
    a.n_rejections = 1;
    a.rejections = r;
    snprintf(a.error, sizeof a.error, "line one\nFAKE log line\x1b[31m");
    glci_wire_ack_t b;
    char err[200];
    s_ack_through(&a, &b);
    assert_string_equal(b.error, "line one\\x0AFAKE log line\\x1B[31m");
    assert_string_equal(b.rejections[0].message, "caf\\xC3 \\xFF");
    glci_wire_ack_release(&b);

    /* Ack{status APPLIED, rejections [{message: 118 x and a euro sign}]}:
     * 121 bytes for a 119-byte buffer, cut before the euro sign */
    unsigned char raw[4 + 2 + 2 + 121];
    size_t n = 0;
    raw[n++] = 0x20;
    raw[n++] = 0x01;
    raw[n++] = 0x3a;
    raw[n++] = 2 + 121;
    raw[n++] = 0x1a;
    raw[n++] = 121;
    memset(raw + n, 'x', 118);
    memcpy(raw + n + 118, "\xe2\x82\xac", 3);
    n += 121;
    assert_int_equal(glci_wire_ack_unpack(raw, n, &b, err, sizeof err), 0);
    assert_int_equal(b.n_rejections, 1);
    assert_int_equal(strlen(b.rejections[0].message), 118);
    assert_null(glci_utf8_problem(b.rejections[0].message));
    glci_wire_ack_release(&b);
}

static void test_ack_refusals(void **state)
{
    glci_wire_ack_t b;
    char err[200];
    static const unsigned char junk[] = {0xff, 0xff};
    assert_int_equal(glci_wire_ack_unpack(junk, sizeof junk, &b, err, sizeof err),
                     GLCI_WIRE_EDECODE);
    static const unsigned char no_status[] = {0x08, 0x01, 0x28, 0x05};
    assert_int_equal(glci_wire_ack_unpack(no_status, sizeof no_status, &b, err, sizeof err),
                     GLCI_WIRE_EFIELD);
    assert_non_null(strstr(err, "status"));
    static const unsigned char unknown_status[] = {0x20, 0x07};
    assert_int_equal(glci_wire_ack_unpack(unknown_status, sizeof unknown_status, &b, err,
                                          sizeof err), GLCI_WIRE_EFIELD);
    static const unsigned char v3[] = {0x08, 0x03, 0x20, 0x01};
    assert_int_equal(glci_wire_ack_unpack(v3, sizeof v3, &b, err, sizeof err),
                     GLCI_WIRE_EVERSION);
}

static void test_names(void **state)
{
    assert_string_equal(glci_batch_status_str(GLCI_BATCH_FORBIDDEN), "forbidden");
    assert_string_equal(glci_batch_status_str(0), "unknown");
    assert_string_equal(glci_wire_strerror(GLCI_WIRE_EBUDGET),
                        "message needs more memory than allowed");
    assert_string_equal(glci_wire_strerror(-99), "unknown wire error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_roundtrip_keeps_presence),
        cmocka_unit_test(test_batch_nan_inf_travel),
        cmocka_unit_test(test_batch_refusals),
        cmocka_unit_test(test_batch_budget_stops_amplification),
        cmocka_unit_test(test_too_long_strings_pass_to_the_shape_check),
        cmocka_unit_test(test_shape_check_and_tables),
        cmocka_unit_test(test_ack_roundtrip),
        cmocka_unit_test(test_ack_texts_arrive_printable),
        cmocka_unit_test(test_ack_refusals),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
