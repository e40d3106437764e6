/* Memory allocation, decided once: on out-of-memory these print a line and
 * abort, so no caller checks for NULL and no API promises "NULL on error"
 * for allocation failure. */
#ifndef GLCI_ALLOC_H
#define GLCI_ALLOC_H

#include <stddef.h>

void *glci_xmalloc(size_t size);
void *glci_xcalloc(size_t n, size_t size);
void *glci_xrealloc(void *ptr, size_t size);
char *glci_xstrdup(const char *s);
char *glci_xstrndup(const char *s, size_t n);

#endif
