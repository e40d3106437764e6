/* Crafted enrolment strings: see glci_forge.h. */
#include "glci_forge.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SECRET_LEN 16

void glci_forge_enrol(const char *host, const char *city, char *out, size_t outlen)
{
    glci_forge_enrol_n(host, strlen(host), city, out, outlen);
}

void glci_forge_enrol_n(const char *host, size_t hl, const char *city, char *out,
                        size_t outlen)
{
    unsigned char p[600], h[16];
    size_t n = 0, cl = strlen(city);
    if (hl > 255 || cl > 255)
        abort();
    p[n++] = (unsigned char)hl;
    memcpy(p + n, host, hl);
    n += hl;
    p[n++] = 0x1d;          /* 7461 */
    p[n++] = 0x25;
    p[n++] = 0x1d;          /* 7462 */
    p[n++] = 0x26;
    memset(p + n, 0x42, 32);
    n += 32;
    p[n++] = (unsigned char)cl;
    memcpy(p + n, city, cl);
    n += cl;
    memset(p + n, 0xa5, S_SECRET_LEN);
    n += S_SECRET_LEN;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)"glci1", 5);
    crypto_generichash_update(&st, p, n);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(p + n, h, 4);
    n += 4;
    const char *alpha = "0123456789abcdefghjkmnpqrstvwxyz";
    if (outlen < 6 + (n * 8 + 4) / 5)
        abort();
    size_t o = (size_t)snprintf(out, outlen, "glci1");
    unsigned bits = 0, nbits = 0;
    for (size_t i = 0; i < n; i++) {
        bits = ((bits << 8) | p[i]) & 0xffffu;
        for (nbits += 8; nbits >= 5; nbits -= 5)
            out[o++] = alpha[(bits >> (nbits - 5)) & 31u];
    }
    if (nbits)
        out[o++] = alpha[(bits << (5 - nbits)) & 31u];
    out[o] = '\0';
}
