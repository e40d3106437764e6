/* The strict local-endpoint check: see glci_endpoint.h. */
#include "glci_endpoint.h"

#include <stdio.h>
#include <string.h>

/* 1 if p is PORT and the end of the text: "*" or a decimal 1..65535. */
static int s_port_end(const char *p)
{
    if (strcmp(p, "*") == 0)
        return 1;
    long val = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) {
        val = val * 10 + (*p - '0');
        p++;
        digits++;
    }
    return digits > 0 && *p == '\0' && val >= 1 && val <= 65535;
}

int glci_endpoint_local(const char *ep)
{
    if (!ep)
        return 0;
    if (strncmp(ep, "ipc://", 6) == 0)
        return ep[6] != '\0';
    if (strncmp(ep, "tcp://", 6) != 0)
        return 0;
    const char *h = ep + 6;
    if (strncmp(h, "localhost:", 10) == 0)
        return s_port_end(h + 10);
    if (strncmp(h, "[::1]:", 6) == 0)
        return s_port_end(h + 6);
    if (strncmp(h, "127.", 4) != 0)
        return 0;
    /* 127.a.b.c: three more dotted numbers 0..255, then ':' */
    const char *p = h + 4;
    for (int part = 0; part < 3; part++) {
        int digits = 0, val = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            val = val * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || val > 255)
            return 0;
        if (part < 2) {
            if (*p != '.')
                return 0;
            p++;
        }
    }
    return *p == ':' && s_port_end(p + 1);
}

int glci_endpoint_scheme_check(const char *value, char *why, size_t whylen)
{
    if (strncmp(value, "tcp://", 6) == 0 || strncmp(value, "ipc://", 6) == 0)
        return 0;
    snprintf(why, whylen, "be a tcp:// or ipc:// endpoint");
    return -1;
}
