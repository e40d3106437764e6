/* Aborting allocation wrappers: see glci_alloc.h. */
#include "glci_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_oom(size_t size)
{
    fprintf(stderr, "glci: out of memory allocating %zu bytes\n", size);
    abort();
}

void *glci_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        s_oom(size);
    return p;
}

void *glci_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        s_oom(n * size);
    return p;
}

void *glci_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        s_oom(size);
    return p;
}

char *glci_xstrdup(const char *s)
{
    return glci_xstrndup(s, strlen(s));
}

char *glci_xstrndup(const char *s, size_t n)
{
    char *p = glci_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
