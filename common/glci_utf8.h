/* Text that came from outside (the network, a file, a user) on its way into
 * stored records and messages: a check that it is valid UTF-8 without
 * control characters, and an escaper that makes any bytes printable, valid
 * UTF-8 (JSON encoders refuse anything else). Pure functions, no errors. */
#ifndef GLCI_UTF8_H
#define GLCI_UTF8_H

#include <stddef.h>

/* NULL if s (NUL-terminated) is valid UTF-8 holding no control character
 * (C0 bytes 0x01-0x1F, DEL 0x7F, C1 U+0080-U+009F), no bidirectional
 * control (U+202A-U+202E, U+2066-U+2069: shown raw they reorder the text
 * around them) and no line or paragraph separator (U+2028, U+2029: shown
 * raw they break the line); else a short phrase for a message, "contains
 * a control character", "contains a bidirectional control character
 * (...)", "contains a line or paragraph separator (U+2028, U+2029)" or "is
 * not valid UTF-8" (a static string). */
const char *glci_utf8_problem(const char *s);

/* The same for len bytes that may hold NUL bytes (a NUL is a control
 * character). */
const char *glci_utf8_problem_n(const char *s, size_t len);

/* glci_utf8_problem for the texts of a framework file, which also take
 * U+2028 and U+2029: frameworks holding them were taken before those were
 * refused elsewhere, and a store's embedded framework is checked again at
 * every open, so refusing them would leave such a store unopenable. Every
 * output escapes or encodes a framework's texts (JSON, HTML, CSV). */
const char *glci_utf8_problem_framework(const char *s);

/* 1 if s[0..len) is valid UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF), control characters and NUL bytes allowed; else 0. */
int glci_utf8_valid(const char *s, size_t len);

/* Copies at most max_in bytes of s (stopping at its NUL) into out as
 * printable, valid UTF-8: each printable UTF-8 character is copied as is,
 * every other byte (control, bidirectional control, line or paragraph
 * separator, stray or invalid UTF-8) becomes the four characters "\xNN"
 * (upper-case hex). This is the
 * escaper for any outside text on its way into a log line or a stored
 * message: the result holds no line break, no terminal escape and nothing
 * that reorders what follows it. Never writes more than outlen bytes
 * and always terminates out (outlen > 0); it stops before a character or
 * escape that would not fit whole, so the result is never cut inside one.
 * Returns the length written. */
size_t glci_utf8_escape(const char *s, size_t max_in, char *out, size_t outlen);

#endif
