/* CURVE key files in the zcert text format: see glci_keyfile.h. */
#include "glci_keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_file.h"

int glci_key_generate(glci_key_t *pub, glci_key_t *sec, char *err, size_t errlen)
{
    /* What zmq_curve_keypair does with libzmq's libsodium back end: a
     * Curve25519 pair from crypto_box_keypair, as Z85 text. Done here so
     * that glci, which only writes and reads keys, need not load libzmq
     * and its dependencies (about 3 ms of every command's start). */
    unsigned char p[crypto_box_PUBLICKEYBYTES], s[crypto_box_SECRETKEYBYTES];
    if (sodium_init() < 0 || crypto_box_keypair(p, s) != 0) {
        snprintf(err, errlen, "cannot generate a CURVE key pair: libsodium failed to start");
        return -1;
    }
    glci_key_encode(p, pub);
    glci_key_encode(s, sec);
    sodium_memzero(s, sizeof s);
    return 0;
}

int glci_key_valid(const char *text)
{
    unsigned char raw[32];
    return glci_key_decode(text, raw) == 0;
}

/* Z85 (ZeroMQ RFC 32): every 4 bytes, big-endian, are 5 digits in base 85
 * of this alphabet, the most significant first. */
static const char s_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* The digit of c, or -1 if c is not in the alphabet. */
static int s_z85_digit(unsigned char c)
{
    const char *p = c ? strchr(s_z85, c) : NULL;
    return p ? (int)(p - s_z85) : -1;
}

int glci_key_decode(const char *z85, unsigned char out[32])
{
    if (!z85 || strlen(z85) != GLCI_Z85_KEY_LEN)
        return -1;
    unsigned char raw[32];
    for (size_t g = 0; g < GLCI_Z85_KEY_LEN / 5; g++) {
        uint64_t v = 0;
        for (size_t i = 0; i < 5; i++) {
            int d = s_z85_digit((unsigned char)z85[g * 5 + i]);
            if (d < 0)
                return -1;
            v = v * 85 + (uint64_t)d;
        }
        if (v > UINT32_MAX)        /* "#####" and the like: no 4 bytes */
            return -1;
        for (size_t i = 0; i < 4; i++)
            raw[g * 4 + i] = (unsigned char)(v >> (24 - 8 * i));
    }
    memcpy(out, raw, sizeof raw);
    return 0;
}

void glci_key_encode(const unsigned char key[32], glci_key_t *out)
{
    for (size_t g = 0; g < 32 / 4; g++) {
        uint32_t v = (uint32_t)key[g * 4] << 24 | (uint32_t)key[g * 4 + 1] << 16 |
                     (uint32_t)key[g * 4 + 2] << 8 | key[g * 4 + 3];
        for (size_t i = 5; i-- > 0;) {
            out->z85[g * 5 + i] = s_z85[v % 85];
            v /= 85;
        }
    }
    out->z85[GLCI_Z85_KEY_LEN] = '\0';
}

void glci_key_fingerprint(const glci_key_t *pub, char out[GLCI_KEY_FP_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)pub->z85, GLCI_Z85_KEY_LEN);
    sodium_bin2hex(out, GLCI_KEY_FP_LEN + 1, h, GLCI_KEY_FP_LEN / 2);
}

void glci_key_fingerprint_raw(const unsigned char key[32], char out[GLCI_KEY_FP_LEN + 1])
{
    glci_key_t z;
    glci_key_encode(key, &z);
    glci_key_fingerprint(&z, out);
}

static int s_write_new(const char *path, mode_t mode, const char *text,
                       char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path,
                 errno == EEXIST ? "already exists, not overwritten" : strerror(errno));
        return -1;
    }
    /* The umask may have narrowed the mode; make it exactly what we asked. */
    int rc = fchmod(fd, mode);
    size_t len = strlen(text);
    size_t done = 0;
    while (rc == 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -1;
            break;
        }
        done += (size_t)n;
    }
    if (rc == 0)
        rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0) {
        unlink(path);
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

static void s_header(char *buf, size_t len, const char *kind)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(buf, len,
             "#   ****  Generated on %s by glci  ****\n"
             "#   ZeroMQ CURVE %s Certificate\n", when, kind);
}

int glci_keyfile_write_secret(const char *path, const glci_key_t *pub,
                              const glci_key_t *sec, char *err, size_t errlen)
{
    char head[160], text[512];
    s_header(head, sizeof head, "**Secret**");
    snprintf(text, sizeof text,
             "%s#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
             "metadata\ncurve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             head, pub->z85, sec->z85);
    return s_write_new(path, 0600, text, err, errlen);
}

int glci_keyfile_write_public(const char *path, const glci_key_t *pub,
                              char *err, size_t errlen)
{
    char head[160], text[512];
    s_header(head, sizeof head, "Public");
    snprintf(text, sizeof text,
             "%s#   Exchange securely, or use a secure mechanism to verify the contents\n"
             "#   of this file after exchange.\n\n"
             "metadata\ncurve\n    public-key = \"%s\"\n",
             head, pub->z85);
    return s_write_new(path, 0644, text, err, errlen);
}

/* Finds `name = "VALUE"` on a line (n bytes, leading blanks skipped);
 * copies VALUE into out. Returns 1 if the line is that key, 0 if another
 * line, -1 if the key is malformed: not 40 Z85 characters in quotes, or
 * anything but blanks after them. */
static int s_match_key(const char *line, size_t n, const char *name, glci_key_t *out)
{
    const char *p = line, *e = line + n;
    size_t k = strlen(name);
    if (n < k || memcmp(line, name, k) != 0)
        return 0;
    for (p += k; p < e && (*p == ' ' || *p == '\t'); p++)
        ;
    if (p == e || *p++ != '=')
        return 0;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (e - p < GLCI_Z85_KEY_LEN + 2 || p[0] != '"' || p[GLCI_Z85_KEY_LEN + 1] != '"')
        return -1;
    memcpy(out->z85, p + 1, GLCI_Z85_KEY_LEN);
    out->z85[GLCI_Z85_KEY_LEN] = '\0';
    for (p += GLCI_Z85_KEY_LEN + 2; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return -1;
    /* a NUL inside the quotes makes the key shorter than 40: not valid */
    return glci_key_valid(out->z85) ? 1 : -1;
}

int glci_keyfile_parse(const char *text, size_t len, const char *name, glci_key_t *pub,
                       glci_key_t *sec, char *err, size_t errlen)
{
    if (len > GLCI_KEYFILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes, not a key file", name,
                 GLCI_KEYFILE_MAX);
        return -1;
    }
    int pub_line = 0, sec_line = 0, lineno = 0;
    for (size_t off = 0; off < len;) {
        const char *p = text + off;
        const char *nl = memchr(p, '\n', len - off);
        size_t n = nl ? (size_t)(nl - p) : len - off;
        off += nl ? n + 1 : n;
        lineno++;
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        int *seen = &pub_line;
        int m = s_match_key(p, n, "public-key", pub);
        if (m == 0 && sec) {
            m = s_match_key(p, n, "secret-key", sec);
            seen = &sec_line;
        }
        if (m == 0)
            continue;
        if (m < 0) {
            snprintf(err, errlen, "%s:%d: malformed key (expected 40 Z85 characters in quotes)",
                     name, lineno);
            return -1;
        }
        if (*seen) {
            snprintf(err, errlen, "%s:%d: a second %s (the first is on line %d)", name, lineno,
                     seen == &pub_line ? "public-key" : "secret-key", *seen);
            return -1;
        }
        *seen = lineno;
    }
    if (!pub_line) {
        snprintf(err, errlen, "%s: no public-key in key file", name);
        return -1;
    }
    if (sec && !sec_line) {
        snprintf(err, errlen, "%s: no secret-key in key file (is it a public key file?)", name);
        return -1;
    }
    /* halves of two pairs could never finish a CURVE handshake: say so now */
    glci_key_t derived;
    unsigned char sraw[32], praw[32];
    int mismatch = 0;
    if (sec) {
        mismatch = glci_key_decode(sec->z85, sraw) != 0 || sodium_init() < 0 ||
                   crypto_scalarmult_base(praw, sraw) != 0;
        if (!mismatch) {
            glci_key_encode(praw, &derived);
            mismatch = strcmp(derived.z85, pub->z85) != 0;
        }
        sodium_memzero(sraw, sizeof sraw);
    }
    if (mismatch) {
        snprintf(err, errlen, "%s: public-key (line %d) is not the public half of secret-key "
                 "(line %d)", name, pub_line, sec_line);
        return -1;
    }
    return 0;
}

int glci_keyfile_read(const char *path, glci_key_t *pub, glci_key_t *sec,
                      char *err, size_t errlen)
{
    /* A FIFO, a folder or a device named as a key file is refused at once
     * (never waited on, never read for ever). A link is followed: the
     * path is the operator's, in a folder only they can write. */
    struct stat st;
    int fd = glci_file_open_regular(path, 0, GLCI_KEYFILE_MAX, "a key file", &st, err,
                                    errlen);
    if (fd < 0)
        return -1;
    int rc = -1;
    char *text = NULL;
    if (sec) {
        if (st.st_mode & 077) {
            snprintf(err, errlen,
                     "%s: secret key file is accessible by group or others "
                     "(mode %04o); run chmod 600 on it", path,
                     (unsigned)(st.st_mode & 07777));
            goto done;
        }
    }
    /* one byte more than a key file may hold tells a larger one (or
     * /dev/zero) from one that fits */
    size_t len;
    int e = glci_file_read_fd(fd, GLCI_KEYFILE_MAX, (uint64_t)st.st_size, &text, &len);
    if (e != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        goto done;
    }
    rc = glci_keyfile_parse(text, len, path, pub, sec, err, errlen);
done:
    free(text);
    close(fd);
    return rc;
}

int glci_keyfile_match_public(const char *pub_path, const glci_key_t *pub,
                              const char *sec_path, char *err, size_t errlen)
{
    glci_key_t file_pub;
    if (glci_keyfile_read(pub_path, &file_pub, NULL, err, errlen) != 0)
        return -1;
    if (strcmp(file_pub.z85, pub->z85) != 0) {
        snprintf(err, errlen, "%s does not hold the public key of %s: not a key pair",
                 pub_path, sec_path);
        return -1;
    }
    return 0;
}

int glci_keyfile_read_pair(const char *sec_path, const char *pub_path, glci_key_t *pub,
                           char *err, size_t errlen)
{
    glci_key_t sec;
    int rc = glci_keyfile_read(sec_path, pub, &sec, err, errlen);
    sodium_memzero(&sec, sizeof sec);
    if (rc != 0)
        return -1;
    return glci_keyfile_match_public(pub_path, pub, sec_path, err, errlen);
}

int glci_key_from_text_or_file(const char *text_or_path, glci_key_t *pub,
                               char *err, size_t errlen)
{
    /* A file wins: a 40-character path made of Z85 characters (such as
     * "/tmp/x/store/collector.pub") is also valid Z85 text. */
    if (access(text_or_path, F_OK) == 0)
        return glci_keyfile_read(text_or_path, pub, NULL, err, errlen);
    if (glci_key_valid(text_or_path)) {
        memcpy(pub->z85, text_or_path, GLCI_Z85_KEY_LEN + 1);
        return 0;
    }
    snprintf(err, errlen, "'%s' is neither a 40-character Z85 key nor a key file",
             text_or_path);
    return -1;
}
