/* CURVE key files in the ZeroMQ certificate style (CZMQ zcert):
 *
 *     curve
 *         public-key = "<40 Z85 characters>"
 *         secret-key = "<40 Z85 characters>"     (secret files only)
 *
 * Secret files are created with mode 0600, never over an existing file, and
 * refused on reading when group or others may read them.
 *
 * Errors: functions return 0, or -1 after writing a one-line message that
 * names the file and what is wrong into err (errlen bytes, NUL-terminated). */
#ifndef GLCI_KEYFILE_H
#define GLCI_KEYFILE_H

#include <stddef.h>

#define GLCI_Z85_KEY_LEN 40     /* Z85 text of a 32-byte CURVE key */

/* A key as Z85 text plus its terminating NUL. */
typedef struct {
    char z85[GLCI_Z85_KEY_LEN + 1];
} glci_key_t;

/* Makes a new CURVE key pair (libsodium, as libzmq makes them). Returns 0,
 * or -1 if libsodium cannot start. */
int glci_key_generate(glci_key_t *pub, glci_key_t *sec, char *err, size_t errlen);

/* 1 if text is exactly 40 valid Z85 characters, else 0. */
int glci_key_valid(const char *text);

/* Decodes a valid Z85 key into 32 bytes. Returns 0, or -1 if not valid. */
int glci_key_decode(const char *z85, unsigned char out[32]);

/* Encodes 32 key bytes as Z85 text. */
void glci_key_encode(const unsigned char key[32], glci_key_t *out);

/* A key's fingerprint: the first 16 hex digits (64 bits) of SHA-256 of
 * its 40-character Z85 text, in lower case. Short enough to read over the
 * phone, long enough that no two keys of a network share one by chance;
 * anyone can recompute it from the key alone:
 *     printf '%s' 'Z85KEY' | sha256sum | cut -c1-16
 * It names a key in logs and listings; it never replaces the key where one
 * is checked. */
#define GLCI_KEY_FP_LEN 16
void glci_key_fingerprint(const glci_key_t *pub, char out[GLCI_KEY_FP_LEN + 1]);

/* The same for 32 raw key bytes. */
void glci_key_fingerprint_raw(const unsigned char key[32], char out[GLCI_KEY_FP_LEN + 1]);

/* Writes a secret key file (mode 0600, public and secret key). Fails, without
 * touching it, if path already exists. */
int glci_keyfile_write_secret(const char *path, const glci_key_t *pub,
                              const glci_key_t *sec, char *err, size_t errlen);

/* Writes a public key file (mode 0644). Fails if path already exists. */
int glci_keyfile_write_public(const char *path, const glci_key_t *pub,
                              char *err, size_t errlen);

/* The largest key file read (bytes); a zcert file is under 1 KiB. */
#define GLCI_KEYFILE_MAX 65536

/* Reads a key file. pub receives the public key. If sec is not NULL the file
 * must hold a secret key and must not be readable by group or others; sec
 * receives it, and the public key must be its public half. A key line is
 * `public-key = "Z85"` (or secret-key), after blanks, with only blanks
 * after the closing quote, once per file; every other line (comments,
 * `metadata`, `curve`) is skipped. Anything but a regular file of at most
 * GLCI_KEYFILE_MAX bytes (a FIFO, a folder, /dev/zero) is refused at once
 * with a line saying what it is (glci_file_open_regular). */
int glci_keyfile_read(const char *path, glci_key_t *pub, glci_key_t *sec,
                      char *err, size_t errlen);

/* The largest key file read, in bytes (one is under 400). */
#define GLCI_KEYFILE_MAX 65536

/* Reads the keys of a key file's text (len bytes; name stands for the
 * path in messages), as glci_keyfile_read does after opening the file and
 * checking its mode, by the same rules; text need not be NUL-terminated. */
int glci_keyfile_parse(const char *text, size_t len, const char *name, glci_key_t *pub,
                       glci_key_t *sec, char *err, size_t errlen);

/* The rule of a key pair kept as two files (the collector's collector.key
 * and collector.pub): the public key file pub_path must hold pub, the
 * public half of the secret key file sec_path (named for the message). 0,
 * or -1 with err naming the file at fault: pub_path's read error, or both
 * files when they disagree ("PUB does not hold the public key of SEC: not
 * a key pair"). */
int glci_keyfile_match_public(const char *pub_path, const glci_key_t *pub,
                              const char *sec_path, char *err, size_t errlen);

/* The key pair in use: reads the secret key file sec_path (as
 * glci_keyfile_read with a secret key) and checks pub_path against it
 * (glci_keyfile_match_public). *pub receives the public key; the secret
 * key is not kept. 0, or -1 with err naming the file or files at fault. */
int glci_keyfile_read_pair(const char *sec_path, const char *pub_path, glci_key_t *pub,
                           char *err, size_t errlen);

/* Resolves a key given either as the path of an existing key file (public
 * or secret; only the public key is taken) or as Z85 text. An existing file
 * is preferred, since a 40-character path can also be valid Z85. */
int glci_key_from_text_or_file(const char *text_or_path, glci_key_t *pub,
                               char *err, size_t errlen);

#endif
