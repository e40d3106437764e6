/* Every limit an observation, a batch or an ack meets on its way from a
 * city's spreadsheet to the store, defined here once. The CSV reader, the
 * outbox, the wire codec, the collector and the store all ask these
 * numbers; none keeps a copy. docs/PROTOCOL.md lists them for people. */
#ifndef GLCI_LIMITS_H
#define GLCI_LIMITS_H

/* Bytes of an indicator id an observation may carry. Longer is malformed;
 * up to this, an id the framework does not define (framework ids stop at
 * GLCI_FRAMEWORK_ID_MAX, 63) is an unknown indicator. */
#define GLCI_OBS_INDICATOR_MAX 64

/* Bytes of an observation's source text (SPEC §5). */
#define GLCI_OBS_SOURCE_MAX 200

/* The window of an observation's observed_at, in Unix seconds (0 means
 * unknown and is always allowed): 1970-01-01T00:00:01Z to
 * 2199-12-31T23:59:59Z. Every time in it prints as an ISO 8601 date; a
 * time outside it is no real observation date (the periods themselves
 * start at 2000) and makes the observation malformed. */
#define GLCI_OBS_OBSERVED_MIN 1
#define GLCI_OBS_OBSERVED_MAX 7258118399

/* Bytes of a city id ([a-z0-9][a-z0-9._-]*), on the wire and in the store. */
#define GLCI_CITY_ID_MAX 63

/* Observations in one batch: the most an agent may be configured to put in
 * one, and the collector's default cap (its batch_max setting). */
#define GLCI_BATCH_OBS_MAX 10000

/* Bytes of the message of one rejection in an ack. */
#define GLCI_REJECT_MESSAGE_MAX 119

/* Bytes of an ack's error text. */
#define GLCI_ACK_ERROR_MAX 255

/* ---- Enrolment (SPEC section 9, docs/PROTOCOL.md "Enrolment") -------- */

/* Bytes of an enrolment's one-time secret: 128 bits from libsodium's
 * randombytes_buf. */
#define GLCI_ENROL_SECRET_LEN 16

/* Bytes of the collector's host name (or address) in an enrolment string:
 * a DNS name is at most 253 characters. */
#define GLCI_ENROL_HOST_MAX 253

/* Characters of an enrolment string, prefix included: the longest host and
 * city id, in base32, fit. */
#define GLCI_ENROL_TEXT_MAX 640

/* Bytes of an enrolment request or reply frame; the collector's enrolment
 * socket drops a connection that sends more (ZMQ_MAXMSGSIZE). */
#define GLCI_ENROL_MESSAGE_MAX 1024

/* Bytes of an enrolment reply's error text. */
#define GLCI_ENROL_ERROR_MAX 255

#endif
