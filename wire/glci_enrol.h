/* Enrolment on the wire (SPEC section 9, docs/PROTOCOL.md "Enrolment"): the
 * enrolment string an operator hands to a city, and the two messages the
 * agent and the collector's enrolment endpoint exchange.
 *
 * The enrolment string is
 *
 *     glci1<base32 of: host, data port, enrolment port, collector key,
 *                      city id, secret, checksum>
 *
 * "glci1" names the format and its version; the rest is Crockford's base32
 * alphabet (0-9 a-z without i, l, o, u), so the text has no punctuation a
 * mail client or a terminal splits it at, reads aloud unambiguously, and
 * survives a change of case. The last 4 bytes are a BLAKE2b checksum of the
 * prefix and the payload before them: a mistyped or truncated string is
 * refused with a message before any network use (1 in 4 billion slips by).
 * Decoding ignores white space and '-' (a string wrapped or grouped by
 * hand) and reads 'i'/'l' as '1' and 'o' as '0', as Crockford's rule says.
 * Payload: host length (1 byte) and host (a DNS name, a dotted IPv4 address
 * or a bracketed IPv6 one), data port and enrolment port (2 bytes each,
 * big-endian), the collector's 32-byte public key, city id length (1 byte)
 * and id, the 16-byte secret.
 *
 * The checksum is not a signature: it catches accidents, not forgeries. A
 * forged string fails at the collector (no invitation matches its secret)
 * or before (its collector key is not the collector's: the CURVE handshake
 * fails).
 *
 * Errors: the wire layer's convention (GLCI_WIRE_E*, glci_wire_strerror),
 * with a one-line message in err. */
#ifndef GLCI_ENROL_H
#define GLCI_ENROL_H

#include <stddef.h>
#include <stdint.h>

#include "glci_limits.h"

#define GLCI_ENROL_PREFIX "glci1"

/* What an enrolment string carries. */
typedef struct {
    char host[GLCI_ENROL_HOST_MAX + 1];
    uint16_t port;                                /* the collector's data endpoint */
    uint16_t enrol_port;                          /* its enrolment endpoint */
    unsigned char collector_key[32];
    char city[GLCI_CITY_ID_MAX + 1];
    unsigned char secret[GLCI_ENROL_SECRET_LEN];
} glci_enrol_token_t;

/* Whether host is one an enrolment string may name: a DNS name (labels of
 * 1 to 63 of [A-Za-z0-9-], not starting or ending with '-', at most 253
 * characters in all), a dotted IPv4 address (when it is all digits and
 * dots) or an IPv6 address in brackets ("[::1]"). 0, or EINVAL with a line
 * in err naming the host (escaped) and what is wrong ("it holds a port"). */
int glci_enrol_host_check(const char *host, char *err, size_t errlen);

/* Writes t as an enrolment string into out (outlen bytes, at least
 * GLCI_ENROL_TEXT_MAX + 1). EINVAL for a host glci_enrol_host_check
 * refuses, a port 0, or a city id that is not valid (glci_city_id_valid). */
int glci_enrol_token_encode(const glci_enrol_token_t *t, char *out, size_t outlen);

/* Reads an enrolment string. EVERSION for a glciN prefix this side does
 * not speak; EDECODE for another prefix, a character outside the alphabet
 * (named with its position), a wrong checksum ("mistyped or cut short"),
 * or a payload whose lengths do not add up; EFIELD for a host, port or city
 * id that encode would refuse (the checksum is no signature: a crafted
 * string passes it, so nothing but a valid city id and host comes out). */
int glci_enrol_token_decode(const char *text, glci_enrol_token_t *t, char *err,
                            size_t errlen);

/* "tcp://HOST:PORT" of the data endpoint (enrol 0) or the enrolment
 * endpoint (enrol 1). */
void glci_enrol_token_endpoint(const glci_enrol_token_t *t, int enrol, char *out,
                               size_t outlen);

/* ---- The messages ------------------------------------------------------- */

/* X(NAME, number, text, name in proto enum glci.EnrolStatus); the numbers
 * are the proto's (checked at compile time in glci_enrol.c). */
#define GLCI_ENROL_STATUSES(X)                                                         \
    X(ENROLLED, 1, "enrolled", ENROLLED)          /* the connection's key registered */ \
    X(REFUSED, 2, "refused", ENROL_REFUSED)       /* permanent for this string */       \
    X(LIMITED, 3, "limited", ENROL_LIMITED)       /* too many failed tries: wait */     \
    X(UNAVAILABLE, 4, "unavailable", ENROL_UNAVAILABLE) /* transient: try again */      \
    X(MALFORMED, 5, "malformed", ENROL_MALFORMED) /* the request broke the protocol */

typedef enum {
#define GLCI_X_(name, num, text, proto) GLCI_ENROL_##name = num,
    GLCI_ENROL_STATUSES(GLCI_X_)
#undef GLCI_X_
} glci_enrol_status_t;

/* The table's text, "unknown" for any other number. */
const char *glci_enrol_status_str(int status);

typedef struct {
    char city[GLCI_CITY_ID_MAX + 1];
    unsigned char secret[GLCI_ENROL_SECRET_LEN];
} glci_enrol_request_t;

typedef struct {
    glci_enrol_status_t status;
    char city[GLCI_CITY_ID_MAX + 1];          /* with ENROLLED */
    char error[GLCI_ENROL_ERROR_MAX + 1];     /* "" when none */
    uint32_t retry_after;                     /* seconds, with LIMITED */
} glci_enrol_reply_t;

/* Pack into a glci_xmalloc'd buffer the caller frees. EINVAL for a city id
 * that is empty or too long, or a reply status outside the table. */
int glci_enrol_request_pack(const glci_enrol_request_t *r, uint8_t **out, size_t *outlen);
int glci_enrol_reply_pack(const glci_enrol_reply_t *r, uint8_t **out, size_t *outlen);

/* Unpack one frame, at most GLCI_ENROL_MESSAGE_MAX bytes (ELIMIT past it)
 * and decoded within a small allocation budget. Request: EDECODE,
 * EVERSION, EFIELD (city missing, empty or over GLCI_CITY_ID_MAX bytes;
 * secret missing or not GLCI_ENROL_SECRET_LEN bytes). Reply: EDECODE,
 * EVERSION, EFIELD (no known status); texts longer than the buffers are
 * cut. The message in err never repeats the peer's bytes. */
int glci_enrol_request_unpack(const void *buf, size_t len, glci_enrol_request_t *r,
                              char *err, size_t errlen);
int glci_enrol_reply_unpack(const void *buf, size_t len, glci_enrol_reply_t *r,
                            char *err, size_t errlen);

#endif
