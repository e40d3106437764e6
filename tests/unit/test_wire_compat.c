/* Retractions between releases (SPEC §7, docs/PROTOCOL.md): a retraction
 * encoded by this release, decoded with the first release's schema
 * (tests/unit/glci_v1.proto, compiled here) and its decoding rules, is an
 * observation without a value, which that collector rejects as malformed
 * and never takes as a value; and an observation without a value from an
 * old agent is never taken for a retraction here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "glci_v1.pb-c.h"
#include "glci_wire.h"

/* The first release's conversion of a decoded observation (wire/glci_wire.c
 * as it was): presence of the value from the message, nothing else. */
static glci_obs_t s_v1_obs(const Glci__V1__Observation *o)
{
    glci_obs_t w;
    memset(&w, 0, sizeof w);
    w.indicator = o->indicator;
    w.source = o->source;
    w.has_period = o->has_period;
    w.period = o->period;
    w.has_value = o->has_value;
    w.value = o->value;
    w.observed_at = o->has_observed_at ? o->observed_at : 0;
    return w;
}

static void test_retraction_refused_by_old_rules(void **state)
{
    (void)state;
    glci_obs_t obs[2] = {glci_obs_make("adult_learning_rate", 2024, 41.5),
                         glci_obs_retraction("adult_learning_rate", 2024)};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(glci_wire_batch_pack(7, 1, "cork-ie", obs, 2, &buf, &len), 0);

    /* The old schema parses it (the new field is skipped as unknown)... */
    Glci__V1__Batch *m = glci__v1__batch__unpack(NULL, len, buf);
    assert_non_null(m);
    assert_int_equal(m->n_obs, 2);
    glci_obs_t value = s_v1_obs(m->obs[0]), retraction = s_v1_obs(m->obs[1]);
    assert_true(value.has_value && value.value == 41.5);
    assert_string_equal(retraction.indicator, "adult_learning_rate");
    assert_true(retraction.has_period && retraction.period == 2024);
    /* ...as an observation without a value: the old check rejects it as
     * malformed, by itself; the value beside it passes. */
    assert_false(retraction.has_value);
    char msg[GLCI_REJECT_MESSAGE_MAX + 1];
    assert_int_equal(glci_obs_check(&retraction, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "value is missing");
    assert_int_equal(glci_obs_check(&value, msg, sizeof msg), GLCI_REJECT_NONE);
    glci__v1__batch__free_unpacked(m, NULL);

    /* This release reads back exactly what was sent. */
    glci_wire_batch_t *b = NULL;
    char err[256];
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, NULL, err, sizeof err), 0);
    assert_false(b->obs[0].retract);
    assert_true(b->obs[1].retract && !b->obs[1].has_value);
    assert_int_equal(glci_obs_check(&b->obs[1], msg, sizeof msg), GLCI_REJECT_NONE);
    glci_wire_batch_free(&b);
    free(buf);
}

static void test_missing_value_is_no_retraction(void **state)
{
    (void)state;
    /* An old agent's observation without a value... */
    Glci__V1__Observation o = GLCI__V1__OBSERVATION__INIT;
    o.indicator = (char *)"adult_learning_rate";
    o.has_period = 1;
    o.period = 2024;
    Glci__V1__Observation *po = &o;
    Glci__V1__Batch b1 = GLCI__V1__BATCH__INIT;
    b1.has_version = b1.has_stream = b1.has_seq = 1;
    b1.version = 1;
    b1.stream = 7;
    b1.seq = 1;
    b1.n_obs = 1;
    b1.obs = &po;
    size_t len = glci__v1__batch__get_packed_size(&b1);
    uint8_t *buf = malloc(len);
    glci__v1__batch__pack(&b1, buf);
    /* ...is malformed here too, never a retraction */
    glci_wire_batch_t *b = NULL;
    char err[256], msg[GLCI_REJECT_MESSAGE_MAX + 1];
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, NULL, err, sizeof err), 0);
    assert_false(b->obs[0].retract);
    assert_int_equal(glci_obs_check(&b->obs[0], msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "value is missing");
    glci_wire_batch_free(&b);
    free(buf);

    /* and a retraction that carries a value is refused */
    glci_obs_t both = glci_obs_retraction("adult_learning_rate", 2024);
    both.has_value = 1;
    assert_int_equal(glci_obs_check(&both, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "a retraction carries no value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retraction_refused_by_old_rules),
        cmocka_unit_test(test_missing_value_is_no_retraction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
