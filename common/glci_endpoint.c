/* Endpoint rules (local or not, syntax, address family): see glci_endpoint.h. */
#include "glci_endpoint.h"

#include <stdio.h>
#include <stdlib.h>
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
    if (strncmp(value, "ipc://", 6) == 0 && value[6] != '\0')
        return 0;
    if (strncmp(value, "tcp://", 6) == 0) {
        /* libzmq reads the port with atoi-like leniency (":97031" bound
         * port 31495, ":0" an ephemeral one): the text after the last ':'
         * must be a port, and something must stand before it */
        const char *h = value + 6, *colon = strrchr(h, ':');
        if (colon && colon > h && s_port_end(colon + 1))
            return 0;
    }
    snprintf(why, whylen, "be tcp://HOST:PORT with PORT a number 1..65535 (or * to bind any), "
             "or ipc://PATH");
    return -1;
}

int glci_endpoint_tcp_split(const char *ep, char *host, size_t hostlen, unsigned *port)
{
    if (!ep || strncmp(ep, "tcp://", 6) != 0)
        return -1;
    const char *h = ep + 6;
    const char *colon = strrchr(h, ':');
    if (!colon || colon == h || strcmp(colon + 1, "*") == 0 || !s_port_end(colon + 1))
        return -1;
    /* an IPv6 address holds colons: its port follows the closing bracket */
    if (h[0] == '[' && colon[-1] != ']')
        return -1;
    size_t n = (size_t)(colon - h);
    if (n >= hostlen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (unsigned)strtoul(colon + 1, NULL, 10);
    return 0;
}

int glci_endpoint_host_wildcard(const char *host)
{
    return strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0;
}

int glci_endpoint_ipv6(const char *endpoint)
{
    return endpoint && strncmp(endpoint, "tcp://", 6) == 0 && strchr(endpoint + 6, '[') != NULL;
}
