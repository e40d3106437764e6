/* What every fuzz target asks of a decoder besides not crashing, in one
 * place: how a broken contract is reported, and what an error message must
 * be (one line of printable UTF-8, as every layer's header promises).
 *
 * A target that finds a contract broken prints "contract: ..." naming it
 * and aborts, so libFuzzer keeps the input as a crash artifact like any
 * sanitizer report. */
#ifndef GLCI_FUZZ_H
#define GLCI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The entry point libFuzzer calls; every target defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "contract: " and the message, then aborts. */
void glci_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define GLCI_FUZZ_CHECK(cond, ...)          \
    do {                                    \
        if (!(cond))                        \
            glci_fuzz_fail(__VA_ARGS__);    \
    } while (0)

/* Fails unless msg is a non-empty line of printable UTF-8 (no control
 * character, so no line break) that fits its buffer (strlen < cap: it was
 * terminated, not run off). what names the decoder for the report. */
void glci_fuzz_check_line(const char *what, const char *msg, size_t cap);

/* Lines of len bytes as a line-numbering reader counts them: 1 + the
 * newlines before the last byte. */
size_t glci_fuzz_lines(const uint8_t *data, size_t len);

/* The line number N of a message "NAME:N: ..." (name given), or 0 when the
 * message is "NAME: ..." without one; fails if it starts otherwise. */
size_t glci_fuzz_line_of(const char *what, const char *msg, const char *name);

#endif
