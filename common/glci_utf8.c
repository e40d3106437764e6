/* UTF-8 hygiene for text from outside: see glci_utf8.h. */
#include "glci_utf8.h"

#include <stdio.h>
#include <string.h>

/* 1 if the n bytes at s start with the UTF-8 form of a bidirectional
 * embedding, override or isolate control: U+202A-U+202E (E2 80 AA-AE) or
 * U+2066-U+2069 (E2 81 A6-A9). Shown raw they reorder the text around them
 * ("Trojan Source", CVE-2021-42574), so a name, a source or a log line
 * could read as something it is not. */
static int s_bidi(const unsigned char *s, size_t n)
{
    return n >= 3 && s[0] == 0xe2 &&
           ((s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae) ||
            (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9));
}

/* 1 if the n bytes at s start with U+2028 LINE SEPARATOR or U+2029
 * PARAGRAPH SEPARATOR (E2 80 A8, E2 80 A9): Unicode's own line breaks,
 * which editors, browsers and JavaScript take for a new line, so text
 * meant as one line (a reason, a source, a log line) would show as two. */
static int s_separator(const unsigned char *s, size_t n)
{
    return n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes) that encodes a
 * printable character (not C0, not DEL, not a C1 control, not a
 * bidirectional control, not a line or paragraph separator), or 0. Refuses overlong forms, surrogates and
 * code points above U+10FFFF. */
static size_t s_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;

    if (c < 0x20 || c == 0x7f)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len || s_bidi(s, n) || s_separator(s, n))
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

const char *glci_utf8_problem(const char *s)
{
    return glci_utf8_problem_n(s, strlen(s));
}

/* glci_utf8_problem_n, with U+2028/U+2029 taken as text when separators. */
static const char *s_problem(const char *s, size_t n, int separators)
{
    const unsigned char *p = (const unsigned char *)s;
    const char *why = NULL;

    for (size_t i = 0; i < n;) {
        size_t k = s_seq(p + i, n - i);
        if (!k && separators && s_separator(p + i, n - i))
            k = 3;
        if (k) {
            i += k;
            continue;
        }
        if (p[i] < 0x20 || p[i] == 0x7f ||
            (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
            return "contains a control character";
        if (s_bidi(p + i, n - i))
            return "contains a bidirectional control character (U+202A-U+202E, U+2066-U+2069)";
        if (s_separator(p + i, n - i))
            return "contains a line or paragraph separator (U+2028, U+2029)";
        why = "is not valid UTF-8";     /* keep looking for a control byte */
        i++;
    }
    return why;
}

const char *glci_utf8_problem_n(const char *s, size_t n)
{
    return s_problem(s, n, 0);
}

const char *glci_utf8_problem_framework(const char *s)
{
    return s_problem(s, strlen(s), 1);
}

size_t glci_utf8_escape(const char *s, size_t max_in, char *out, size_t outlen)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strnlen(s, max_in), o = 0;

    if (outlen == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t k = s_seq(p + i, n - i);
        if (k) {
            if (o + k >= outlen)
                break;
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        } else {
            if (o + 4 >= outlen)
                break;
            snprintf(out + o, 5, "\\x%02X", p[i]);
            o += 4;
            i++;
        }
    }
    out[o] = '\0';
    return o;
}

int glci_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = s_seq(p + i, len - i);
        if (k == 0) {
            /* s_seq refuses C1 controls, bidirectional controls and the
             * separators, which are valid UTF-8 */
            if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                k = 2;
            else if (s_bidi(p + i, len - i) || s_separator(p + i, len - i))
                k = 3;
            else
                return 0;
        }
        i += k;
    }
    return 1;
}
