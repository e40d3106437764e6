/* libFuzzer target for the enrolment decoders: the bytes of one frame go
 * through the request decoder the collector's enrolment endpoint uses and
 * the reply decoder the agent uses, and, as text, through the enrolment
 * string reader. Whatever decodes must encode again and decode to the
 * same thing; whatever is refused is refused with one printable line, and
 * a reply's error text (printed to the operator's terminal) is printable.
 *
 * Run: fuzz_enrol -max_len=2048 NEWDIR tests/fuzz/corpus/enrol */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glci_enrol.h"
#include "glci_fuzz.h"
#include "glci_wire.h"

static void s_request(const uint8_t *data, size_t size)
{
    glci_enrol_request_t r, back;
    char err[256];
    if (glci_enrol_request_unpack(data, size, &r, err, sizeof err) != 0) {
        glci_fuzz_check_line("enrolment request refusal", err, sizeof err);
        return;
    }
    uint8_t *buf;
    size_t len;
    if (glci_enrol_request_pack(&r, &buf, &len) != 0 ||
        glci_enrol_request_unpack(buf, len, &back, err, sizeof err) != 0 ||
        memcmp(&r, &back, sizeof r) != 0)
        abort();
    free(buf);
}

static void s_reply(const uint8_t *data, size_t size)
{
    glci_enrol_reply_t r, back;
    char err[256];
    if (glci_enrol_reply_unpack(data, size, &r, err, sizeof err) != 0) {
        glci_fuzz_check_line("enrolment reply refusal", err, sizeof err);
        return;
    }
    if (r.error[0])
        glci_fuzz_check_line("enrolment reply error", r.error, sizeof r.error);
    uint8_t *buf;
    size_t len;
    if (glci_enrol_reply_pack(&r, &buf, &len) != 0 ||
        glci_enrol_reply_unpack(buf, len, &back, err, sizeof err) != 0 ||
        back.status != r.status || strcmp(back.error, r.error) != 0 ||
        strcmp(back.city, r.city) != 0)
        abort();
    free(buf);
}

static void s_token(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    glci_enrol_token_t t, back;
    char err[256], again[GLCI_ENROL_TEXT_MAX + 1];
    int rc = glci_enrol_token_decode(text, &t, err, sizeof err);
    if (rc != 0)
        glci_fuzz_check_line("enrolment string refusal", err, sizeof err);
    if (rc == 0) {
        if (glci_enrol_token_encode(&t, again, sizeof again) != 0 ||
            glci_enrol_token_decode(again, &back, err, sizeof err) != 0 ||
            memcmp(&t, &back, sizeof t) != 0)
            abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_request(data, size);
    s_reply(data, size);
    s_token(data, size);
    return 0;
}
