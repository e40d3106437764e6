/* Strict number and time parsing/formatting: see glci_text.h. */
#include "glci_text.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int glci_parse_double(const char *text, double *out)
{
    if (!text || !*text || isspace((unsigned char)text[0]))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return -1;
    /* strtod accepts hex floats; a city office never means one. */
    if (strchr(text, 'x') || strchr(text, 'X'))
        return -1;
    /* ERANGE is both overflow (+-HUGE_VAL: no double holds the number) and
     * underflow (a subnormal such as 1e-310, or 0 below about 4.9e-324):
     * the latter is the nearest double, as for any decimal. */
    if (errno == ERANGE && isinf(v))
        return -2;
    *out = v;
    return 0;
}

int glci_parse_int64(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!text || !*text || isspace((unsigned char)text[0]))
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < min || v > max)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int64_t glci_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int s_digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int glci_parse_iso_time(const char *text, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    size_t len = text ? strlen(text) : 0;
    if (len != 10 && len != 20)
        return -1;
    if (s_digits(text, 4, &y) || text[4] != '-' || s_digits(text + 5, 2, &mo) ||
        text[7] != '-' || s_digits(text + 8, 2, &d))
        return -1;
    if (len == 20) {
        if (text[10] != 'T' || s_digits(text + 11, 2, &h) || text[13] != ':' ||
            s_digits(text + 14, 2, &mi) || text[16] != ':' ||
            s_digits(text + 17, 2, &s) || text[19] != 'Z')
            return -1;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    *out = glci_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

void glci_format_iso_time(int64_t unix_seconds, char *buf, size_t len)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    /* the year in four digits, as glci_parse_iso_time reads it: strftime's
     * %Y writes the year 225 as "225" */
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900)
        snprintf(buf, len, "@%lld", (long long)unix_seconds);
    else
        snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Trying 15, 16 and 17 significant digits: every decimal of at most 15
 * digits survives a trip through a double (DBL_DIG), so when 15 digits
 * read back they are the shortest form, trailing zeros dropped by %g.
 * Subnormals carry fewer bits, so 15 digits may read back without being
 * the shortest (1e-310 as 9.99999999999997e-311): they try every
 * precision. */
int glci_format_shortest_g(double v, char *buf, size_t len)
{
    int first = fabs(v) < DBL_MIN && v != 0.0 ? 1 : 15;
    for (int prec = first; prec < 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return prec;
    }
    snprintf(buf, len, "%.17g", v);
    return 17;
}

void glci_format_double(double v, char *buf, size_t len)
{
    char g[40];
    glci_format_shortest_g(v, g, sizeof g);
    /* Plain decimals for the magnitudes people read (no "1.4e+02"). */
    double a = v < 0 ? -v : v;
    if (isfinite(v) && (a == 0.0 || (a >= 1e-4 && a < 1e15))) {
        /* n significant digits of the shortest form and the decimal
         * exponent e of v give the decimals it needs: n - 1 - e. */
        int n = 0, lead = 1;
        const char *p = g;
        for (; *p && *p != 'e'; p++) {
            if (*p < '0' || *p > '9')
                continue;
            if (*p == '0' && lead)
                continue;
            lead = 0;
            n++;
        }
        char e[40];
        snprintf(e, sizeof e, "%.*e", n > 0 ? n - 1 : 0, v);
        const char *x = strchr(e, 'e');
        int exp10 = x ? (int)strtol(x + 1, NULL, 10) : 0;
        int dec = n - 1 - exp10;
        if (dec < 0)
            dec = 0;
        if (dec <= 20) {
            snprintf(buf, len, "%.*f", dec, v);
            if (strtod(buf, NULL) == v)
                return;
        }
        for (dec = 0; dec <= 20; dec++) {          /* not expected: the long way */
            snprintf(buf, len, "%.*f", dec, v);
            if (strtod(buf, NULL) == v)
                return;
        }
    }
    snprintf(buf, len, "%s", g);
}

/* Drops a UTF-8 character that a cut at len left incomplete at the end of
 * s[0..len). */
static void s_cut_whole(char *s, size_t len)
{
    size_t i = len, cont = 0;
    while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        cont++;
    }
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (need > 1 && cont + 1 < need)
        s[i - 1] = '\0';
}

int glci_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* a message cut to fit never ends inside a character: quoted text
         * stays valid UTF-8 */
        if (n >= 0 && (size_t)n >= errlen)
            s_cut_whole(err, errlen - 1);
    }
    return -1;
}

void glci_format_value(double v, char *buf, size_t len)
{
    double a = v < 0 ? -v : v;
    if (!isfinite(v) || (a != 0.0 && (a < 0.01 || a >= 1e9))) {
        snprintf(buf, len, "%.4g", v);
        return;
    }
    snprintf(buf, len, "%.2f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, len, "0");
}
