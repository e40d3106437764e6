/* The wire protocol between glci-agent and glci-collector (docs/PROTOCOL.md):
 * packing and unpacking of Batch and Ack messages (proto/glci.proto) with
 * the limits both sides enforce.
 *
 * Decoding never trusts the bytes: protobuf-c unpacks through an allocator
 * that refuses to hand out more than a byte budget per message, so a small
 * hostile frame cannot make the decoder allocate without bound; then every
 * structural rule (version, stream, sequence number, city and string
 * lengths, observation count) is checked before a caller sees the batch.
 * Per-observation content (known indicator, finite value, ranges) is not a
 * wire matter: the collector's store judges it, observation by observation.
 *
 * Errors: functions return 0 or a negative GLCI_WIRE_E* code,
 * glci_wire_strerror() names it; decoders also write a one-line message into
 * err (errlen bytes, NUL-terminated). */
#ifndef GLCI_WIRE_H
#define GLCI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "glci_obs.h"

#define GLCI_WIRE_VERSION        1u    /* the protocol version spoken here */

enum {
    GLCI_WIRE_OK      = 0,
    GLCI_WIRE_EDECODE = -1,   /* not a protobuf message of the expected type */
    GLCI_WIRE_EBUDGET = -2,   /* decoding would allocate past the budget */
    GLCI_WIRE_EVERSION = -3,  /* a protocol version this side does not speak */
    GLCI_WIRE_EFIELD  = -4,   /* a required field is missing or out of range */
    GLCI_WIRE_ELIMIT  = -5,   /* too many observations or a string too long */
    GLCI_WIRE_EINVAL  = -6    /* bad argument when packing */
};
const char *glci_wire_strerror(int code);

/* Limits a decoder enforces. */
typedef struct {
    size_t batch_max;         /* observations per batch; 0: GLCI_BATCH_OBS_MAX */
    size_t budget;            /* bytes the decoder may allocate, at most;
                                 0: no cap of its own. Never more than 16
                                 bytes per input byte plus 64 KiB. */
} glci_wire_limits_t;

/* A decoded batch; owned by the caller, free with glci_wire_batch_free. */
typedef struct glci_wire_batch {
    uint32_t version;
    uint64_t stream;
    uint64_t seq;             /* >= 1 */
    const char *city;         /* claimed city, "" when absent */
    size_t n_obs;
    glci_obs_t *obs;          /* strings point into the batch, live as long as it */
    void *priv_;              /* the unpacked message and its allocator */
} glci_wire_batch_t;

/* Packs a batch: the one conversion from observations to the protobuf
 * message on the sending side. Fields without has_* are left out, so are
 * indicator and source when NULL or "", and observed_at when 0. city may be
 * NULL. *out receives a glci_xmalloc'd buffer the caller frees, *outlen its
 * size. EINVAL if seq is 0 or city is longer than GLCI_CITY_ID_MAX. */
int glci_wire_batch_pack(uint64_t stream, uint64_t seq, const char *city,
                         const glci_obs_t *obs, size_t n_obs,
                         uint8_t **out, size_t *outlen);

/* Unpacks and checks a batch: the one conversion from the protobuf message
 * to observations on the receiving side. On success *out owns a new batch.
 * Errors: EDECODE (not a Batch), EBUDGET (allocation budget spent),
 * EVERSION (version present and not 1), EFIELD (stream or seq missing, seq
 * 0, a claimed city holding a NUL byte), ELIMIT (more than batch_max
 * observations, or a city over GLCI_CITY_ID_MAX bytes). Observations are
 * not judged here: one whose shape is wrong (glci_obs_check) is the
 * store's to reject alone, so the rest of its batch is stored; an
 * indicator or source that held a NUL byte on the wire (the C string is
 * cut there) is marked with indicator_nul / source_nul for that check. On failure, if partial is not NULL and the
 * bytes decoded, *partial receives stream and seq (0 otherwise) so an ack
 * can name the batch. */
int glci_wire_batch_unpack(const void *buf, size_t len, const glci_wire_limits_t *lim,
                           glci_wire_batch_t **out, uint64_t partial[2],
                           char *err, size_t errlen);

/* Frees a batch and sets *self to NULL; accepts NULL. */
void glci_wire_batch_free(glci_wire_batch_t **self);

/* An ack, packed by the collector and unpacked by the agent. */
typedef struct {
    uint32_t version;
    uint64_t stream;
    uint64_t seq;             /* the batch answered; 0 if it did not decode */
    glci_batch_status_t status;
    uint64_t acked;           /* cumulative mark */
    uint64_t expected;        /* with GAP */
    size_t n_rejections;
    glci_rejection_t *rejections;        /* glci_xmalloc'd when unpacked */
    char error[GLCI_ACK_ERROR_MAX + 1];  /* "" when none */
} glci_wire_ack_t;

/* Packs an ack into a glci_xmalloc'd buffer. EINVAL for a status outside
 * the table (glci_batch_status_valid). */
int glci_wire_ack_pack(const glci_wire_ack_t *ack, uint8_t **out, size_t *outlen);

/* Unpacks an ack into *ack (which the caller releases with
 * glci_wire_ack_release). EDECODE, EBUDGET, EVERSION, EFIELD (status
 * missing or unknown). The error and the rejections' messages arrive as
 * printable UTF-8 whatever the bytes were: control characters and invalid
 * UTF-8 become "\xNN" (glci_utf8_escape), and a text longer than its
 * buffer is cut on a character boundary. */
int glci_wire_ack_unpack(const void *buf, size_t len, glci_wire_ack_t *ack,
                         char *err, size_t errlen);

/* Frees what an unpacked ack owns and zeroes it. */
void glci_wire_ack_release(glci_wire_ack_t *ack);

#endif
