/* libFuzzer target for the CURVE key file reader (common/glci_keyfile.c,
 * glci_keyfile_parse: what glci_keyfile_read does after opening the file
 * and checking its mode). The bytes are one key file, read as a secret
 * file and as a public one.
 *
 * The contract is checked against a model of the format of glci_keyfile.h
 * (CZMQ's zcert): a line whose first word, after blanks, is public-key or
 * secret-key followed by '=' is a key line and must be exactly
 * `NAME = "<40 Z85 characters>"` with only blanks after it, once; every
 * other line is a comment or a header and is skipped. Checked beyond "no
 * crash, no leak":
 *   - the reader accepts exactly the texts the model accepts, and takes the
 *     key the model reads, which decodes and encodes back to itself;
 *   - a secret file's public key is the one its secret key makes (a file
 *     whose halves do not belong together is refused: its handshake could
 *     never succeed);
 *   - a file read as secret reads as public to the same public key;
 *   - every refusal is one printable line naming the file.
 *
 * Run: fuzz_keyfile -dict=tests/fuzz/keyfile.dict NEWDIR tests/fuzz/corpus/keyfile */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "glci_fuzz.h"
#include "glci_keyfile.h"

#define S_NAME "fuzz.key"

/* The value of a key line of the model: 1 and the key when the line is
 * NAME = "KEY" and blanks, -1 when it is a malformed line for NAME, 0 when
 * it is another line. */
static int s_model_line(const char *b, const char *e, const char *name, char out[41])
{
    size_t n = strlen(name);
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    if ((size_t)(e - b) < n || memcmp(b, name, n) != 0)
        return 0;
    const char *p = b + n;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p == e || *p != '=')
        return 0;
    p++;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (e - p < GLCI_Z85_KEY_LEN + 2 || p[0] != '"' || p[GLCI_Z85_KEY_LEN + 1] != '"')
        return -1;
    memcpy(out, p + 1, GLCI_Z85_KEY_LEN);
    out[GLCI_Z85_KEY_LEN] = '\0';
    if (memchr(out, '\0', GLCI_Z85_KEY_LEN) || !glci_key_valid(out))
        return -1;
    for (p += GLCI_Z85_KEY_LEN + 2; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return -1;
    return 1;
}

/* 1 if the model accepts the text (keys in pub, sec when want_sec). */
static int s_model(const char *text, size_t len, int want_sec, char pub[41], char sec[41])
{
    int have_pub = 0, have_sec = 0;
    if (len > GLCI_KEYFILE_MAX)
        return 0;
    for (size_t off = 0; off < len;) {
        const char *b = text + off;
        const char *nl = memchr(b, '\n', len - off);
        const char *e = nl ? nl : text + len;
        off = (size_t)(e - text) + (nl ? 1 : 0);
        int m = s_model_line(b, e, "public-key", pub);
        if (m < 0 || (m > 0 && have_pub++))
            return 0;
        if (m == 0 && want_sec) {
            m = s_model_line(b, e, "secret-key", sec);
            if (m < 0 || (m > 0 && have_sec++))
                return 0;
        }
    }
    if (!have_pub || (want_sec && !have_sec))
        return 0;
    if (want_sec) {
        char derived[41];
        if (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0)
            return 0;
    }
    return 1;
}

static void s_key_ok(const glci_key_t *k, const char *what)
{
    unsigned char raw[32];
    glci_key_t again;
    GLCI_FUZZ_CHECK(glci_key_decode(k->z85, raw) == 0, "keyfile: %s key does not decode", what);
    glci_key_encode(raw, &again);
    GLCI_FUZZ_CHECK(strcmp(again.z85, k->z85) == 0, "keyfile: %s key does not encode back",
                    what);
}

/* Reads the text as a secret or a public file and checks it against the
 * model; returns 1 if accepted, the public key in *pub. */
static int s_one(const uint8_t *data, size_t size, int want_sec, glci_key_t *pub)
{
    glci_key_t sec;
    char err[512], mpub[41], msec[41];
    int rc = glci_keyfile_parse((const char *)data, size, S_NAME, pub, want_sec ? &sec : NULL,
                                err, sizeof err);
    int model = s_model((const char *)data, size, want_sec, mpub, msec);
    const char *kind = want_sec ? "secret" : "public";
    GLCI_FUZZ_CHECK(rc == 0 || rc == -1, "keyfile: code %d", rc);
    if (rc != 0) {
        glci_fuzz_check_line("keyfile error", err, sizeof err);
        glci_fuzz_line_of("keyfile error", err, S_NAME);
        GLCI_FUZZ_CHECK(!model, "keyfile: a good %s file refused: %s", kind, err);
        return 0;
    }
    GLCI_FUZZ_CHECK(model, "keyfile: a %s file the format refuses was accepted", kind);
    GLCI_FUZZ_CHECK(strcmp(pub->z85, mpub) == 0, "keyfile: %s file: not the public key of its "
                    "key line", kind);
    s_key_ok(pub, "public");
    if (want_sec) {
        GLCI_FUZZ_CHECK(strcmp(sec.z85, msec) == 0, "keyfile: not the secret key of its line");
        s_key_ok(&sec, "secret");
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glci_key_t pub_s, pub_p;
    int secret = s_one(data, size, 1, &pub_s);
    int public = s_one(data, size, 0, &pub_p);
    GLCI_FUZZ_CHECK(!secret || (public && strcmp(pub_s.z85, pub_p.z85) == 0),
                    "keyfile: a secret file does not read as a public one");
    return 0;
}
