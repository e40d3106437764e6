/* Enrolment strings as anyone can make them, for the tests that show the
 * programs refuse what a crafted string carries. */
#ifndef GLCI_FORGE_H
#define GLCI_FORGE_H

#include <stddef.h>

/* Writes into out (outlen bytes, 1024 is enough) an enrolment string for
 * host and city, ports 7461 and 7462, a fixed key and secret. Its checksum
 * is right (BLAKE2b-128 of "glci1" and the payload, the first 4 bytes:
 * docs/PROTOCOL.md), and the payload and base32 are made here, without the
 * project's encoder, which refuses such fields. */
void glci_forge_enrol(const char *host, const char *city, char *out, size_t outlen);

/* The same with a host of hl bytes (at most 255), which may hold NUL bytes. */
void glci_forge_enrol_n(const char *host, size_t hl, const char *city, char *out,
                        size_t outlen);

#endif
