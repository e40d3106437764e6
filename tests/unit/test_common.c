/* Unit tests for common/: key files, strict parsing, time formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "glci_alloc.h"
#include "glci_config.h"
#include "glci_endpoint.h"
#include "glci_keyfile.h"
#include "glci_text.h"
#include "glci_utf8.h"

static char s_dir[256];

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/glci-test-common-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    return 0;
}

static int s_teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_keyfile_roundtrip(void **state)
{
    glci_key_t pub, sec, rpub, rsec;
    char err[256], path[300];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_true(glci_key_valid(pub.z85));
    snprintf(path, sizeof path, "%s/city.key", s_dir);
    assert_int_equal(glci_keyfile_write_secret(path, &pub, &sec, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(glci_keyfile_read(path, &rpub, &rsec, err, sizeof err), 0);
    assert_string_equal(rpub.z85, pub.z85);
    assert_string_equal(rsec.z85, sec.z85);
    /* never overwrites */
    assert_int_equal(glci_keyfile_write_secret(path, &pub, &sec, err, sizeof err), -1);
    assert_non_null(strstr(err, "already exists"));
}

/* The key codec and key pairs are the project's own (glci does not load
 * libzmq); they must agree with libzmq's, which the daemons' CURVE uses,
 * on every key and refuse exactly what libzmq refuses. */
static void test_key_codec_matches_libzmq(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    for (int i = 0; i < 2000; i++) {
        unsigned char raw[32], back[32], zback[32];
        randombytes_buf(raw, sizeof raw);
        if (i == 0)
            memset(raw, 0, sizeof raw);
        if (i == 1)
            memset(raw, 0xff, sizeof raw);
        glci_key_t ours;
        char theirs[41];
        glci_key_encode(raw, &ours);
        assert_non_null(zmq_z85_encode(theirs, raw, 32));
        assert_string_equal(ours.z85, theirs);
        assert_int_equal(glci_key_decode(ours.z85, back), 0);
        assert_memory_equal(back, raw, 32);
        /* one character changed to anything: valid for both or for neither */
        char text[41];
        memcpy(text, theirs, sizeof text);
        text[i % 40] = (char)(1 + randombytes_uniform(255));
        int zok = zmq_z85_decode(zback, text) != NULL;
        assert_int_equal(glci_key_decode(text, back) == 0, zok);
        if (zok)
            assert_memory_equal(back, zback, 32);
    }
    unsigned char raw[32];
    /* 85^5 - 1 does not fit 32 bits: refused, as libzmq refuses it */
    assert_int_equal(glci_key_decode("########################################", raw), -1);
    assert_null(zmq_z85_decode(raw, "########################################"));
    assert_int_equal(glci_key_decode("%nSc0@########################################", raw), -1);
    assert_int_equal(glci_key_decode("%nSc0", raw), -1);
    assert_int_equal(glci_key_decode(NULL, raw), -1);

    /* a generated pair is one libzmq derives the same public key from */
    glci_key_t pub, sec;
    char err[256], derived[41];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(zmq_curve_public(derived, sec.z85), 0);
    assert_string_equal(derived, pub.z85);
    assert_string_not_equal(pub.z85, sec.z85);
}

static void test_keyfile_refuses_open_secret(void **state)
{
    glci_key_t pub, sec, rsec;
    char err[256], path[300];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/open.key", s_dir);
    assert_int_equal(glci_keyfile_write_secret(path, &pub, &sec, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(glci_keyfile_read(path, &pub, &rsec, err, sizeof err), -1);
    assert_non_null(strstr(err, "group or others"));
    /* a public read does not need the secret to be private */
    assert_int_equal(glci_keyfile_read(path, &pub, NULL, err, sizeof err), 0);
}

static void test_keyfile_public_has_no_secret(void **state)
{
    glci_key_t pub, sec, rsec, got;
    char err[256], path[300];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/city.pub", s_dir);
    assert_int_equal(glci_keyfile_write_public(path, &pub, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(glci_keyfile_read(path, &got, &rsec, err, sizeof err), -1);
    assert_non_null(strstr(err, "no secret-key"));
    assert_int_equal(glci_key_from_text_or_file(path, &got, err, sizeof err), 0);
    assert_string_equal(got.z85, pub.z85);
    assert_int_equal(glci_key_from_text_or_file(pub.z85, &got, err, sizeof err), 0);
    assert_int_equal(glci_key_from_text_or_file("not-a-key", &got, err, sizeof err), -1);
}

/* A path of exactly 40 Z85 characters is still read as a file. */
static void test_key_path_that_looks_like_z85(void **state)
{
    glci_key_t pub, sec, got;
    char err[256], dir[32], path[96];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    /* "/tmp/glci-z85-XXXXXX" is 20 characters; "/" and 19 more make 40 */
    snprintf(dir, sizeof dir, "/tmp/glci-z85-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/collector-key.pub00", dir);
    assert_int_equal(strlen(path), GLCI_Z85_KEY_LEN);
    assert_true(glci_key_valid(path));
    assert_int_equal(glci_keyfile_write_public(path, &pub, err, sizeof err), 0);
    assert_int_equal(glci_key_from_text_or_file(path, &got, err, sizeof err), 0);
    assert_string_equal(got.z85, pub.z85);
    unlink(path);
    rmdir(dir);
}

/* The fingerprint is what `printf '%s' KEY | sha256sum | cut -c1-16`
 * prints (docs/OPERATIONS.md tells operators so): the key of ZeroMQ's
 * CURVE test vectors, checked against sha256sum's answer. */
static void test_key_fingerprint(void **state)
{
    glci_key_t k;
    char fp[GLCI_KEY_FP_LEN + 1], raw_fp[GLCI_KEY_FP_LEN + 1];
    unsigned char raw[32];
    snprintf(k.z85, sizeof k.z85, "%s", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    glci_key_fingerprint(&k, fp);
    assert_string_equal(fp, "84112785d1092a7e");
    assert_int_equal(glci_key_decode(k.z85, raw), 0);
    glci_key_fingerprint_raw(raw, raw_fp);
    assert_string_equal(raw_fp, fp);
    k.z85[0] = 'r' + 1;
    glci_key_fingerprint(&k, raw_fp);
    assert_string_not_equal(raw_fp, fp);
}

static void test_keyfile_malformed(void **state)
{
    glci_key_t pub;
    char err[256], path[300];
    snprintf(path, sizeof path, "%s/bad.pub", s_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("curve\n    public-key = \"short\"\n", f);
    fclose(f);
    assert_int_equal(glci_keyfile_read(path, &pub, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: malformed key"));
    assert_false(glci_key_valid("0123456789012345678901234567890123456789x"));
    assert_false(glci_key_valid("012345678901234567890123456789012345678~"));
}

/* A collector's pair kept as two files: the public file must hold the
 * secret file's public half. A match reads; a public file of another
 * pair, or one cut short, is refused naming the file at fault; with no
 * secret file (a key_file kept elsewhere) glci_keyfile_read_served takes
 * the public file unchecked, and with one it checks as read_pair does. */
static void test_keyfile_pair(void **state)
{
    (void)state;
    glci_key_t pub, sec, other, other_sec, got;
    char err[512], sec_path[300], pub_path[300], missing[300];
    snprintf(sec_path, sizeof sec_path, "%s/collector.key", s_dir);
    snprintf(pub_path, sizeof pub_path, "%s/collector.pub", s_dir);
    snprintf(missing, sizeof missing, "%s/elsewhere.key", s_dir);
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&other, &other_sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_secret(sec_path, &pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_public(pub_path, &pub, err, sizeof err), 0);

    assert_int_equal(glci_keyfile_read_pair(sec_path, pub_path, &got, err, sizeof err), 0);
    assert_string_equal(got.z85, pub.z85);
    assert_int_equal(glci_keyfile_match_public(pub_path, &pub, sec_path, err, sizeof err), 0);
    int checked = -1;
    assert_int_equal(glci_keyfile_read_served(sec_path, pub_path, &got, &checked, err,
                                              sizeof err), 0);
    assert_int_equal(checked, 1);
    assert_string_equal(got.z85, pub.z85);

    /* the public file of another pair */
    char want[800];
    snprintf(want, sizeof want, "%s does not hold the public key of %s: not a key pair",
             pub_path, sec_path);
    assert_int_equal(glci_keyfile_match_public(pub_path, &other, sec_path, err, sizeof err),
                     -1);
    assert_string_equal(err, want);
    assert_int_equal(unlink(pub_path), 0);
    assert_int_equal(glci_keyfile_write_public(pub_path, &other, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_read_pair(sec_path, pub_path, &got, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_int_equal(glci_keyfile_read_served(sec_path, pub_path, &got, &checked, err,
                                              sizeof err), -1);
    assert_string_equal(err, want);

    /* with no secret file here, the public one as it is */
    assert_int_equal(glci_keyfile_read_served(missing, pub_path, &got, &checked, err,
                                              sizeof err), 0);
    assert_int_equal(checked, 0);
    assert_string_equal(got.z85, other.z85);

    /* a public file cut short: its own read error, naming it */
    FILE *f = fopen(pub_path, "w");
    assert_non_null(f);
    fputs("curve\n    public-key = \"", f);
    fwrite(pub.z85, 1, 20, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(glci_keyfile_read_pair(sec_path, pub_path, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, pub_path));
    assert_null(strstr(err, "not a key pair"));
    assert_int_equal(glci_keyfile_match_public(pub_path, &pub, sec_path, err, sizeof err), -1);
    assert_non_null(strstr(err, pub_path));
    assert_int_equal(glci_keyfile_read_served(missing, pub_path, &got, &checked, err,
                                              sizeof err), -1);
    assert_non_null(strstr(err, pub_path));
    /* and a secret file that is missing, for read_pair: named */
    assert_int_equal(glci_keyfile_read_pair(missing, pub_path, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    sodium_memzero(&sec, sizeof sec);
    sodium_memzero(&other_sec, sizeof other_sec);
}

/* Key files read by their lines as written (found by fuzz_keyfile): a
 * secret file whose halves are of two pairs, a key given twice, text after
 * a key and a key in the tail of a long comment line are refused or
 * ignored as they should be; a file that never ends is not read whole. */
static void test_keyfile_lines(void **state)
{
    glci_key_t pub, sec, pub2, sec2, got, gsec;
    char err[512], text[1200];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&pub2, &sec2, err, sizeof err), 0);

    snprintf(text, sizeof text, "curve\r\n\tpublic-key=\"%s\" \r\n  secret-key = \"%s\"",
             pub.z85, sec.z85);
    assert_int_equal(glci_keyfile_parse(text, strlen(text), "k", &got, &gsec, err, sizeof err),
                     0);
    assert_string_equal(got.z85, pub.z85);
    assert_string_equal(gsec.z85, sec.z85);

    snprintf(text, sizeof text, "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             pub.z85, sec2.z85);
    assert_int_equal(glci_keyfile_parse(text, strlen(text), "k", &got, &gsec, err, sizeof err),
                     -1);
    assert_string_equal(err, "k: public-key (line 2) is not the public half of secret-key "
                        "(line 3)");
    /* read as a public file, the secret half is not looked at */
    assert_int_equal(glci_keyfile_parse(text, strlen(text), "k", &got, NULL, err, sizeof err), 0);

    snprintf(text, sizeof text, "public-key = \"%s\"\npublic-key = \"%s\"\n", pub.z85,
             pub2.z85);
    assert_int_equal(glci_keyfile_parse(text, strlen(text), "k", &got, NULL, err, sizeof err),
                     -1);
    assert_string_equal(err, "k:2: a second public-key (the first is on line 1)");

    snprintf(text, sizeof text, "public-key = \"%s\" # mine\n", pub.z85);
    assert_int_equal(glci_keyfile_parse(text, strlen(text), "k", &got, NULL, err, sizeof err),
                     -1);
    assert_string_equal(err, "k:1: malformed key (expected 40 Z85 characters in quotes)");

    /* 512 bytes of comment, then a key: one line, a comment, no key */
    int n = snprintf(text, sizeof text, "# %0509d", 0);
    snprintf(text + n, sizeof text - (size_t)n, "public-key = \"%s\"\n", pub.z85);
    assert_int_equal(glci_keyfile_parse(text, strlen(text), "k", &got, NULL, err, sizeof err),
                     -1);
    assert_string_equal(err, "k: no public-key in key file");

    assert_int_equal(glci_keyfile_read("/dev/zero", &got, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/dev/zero: is a character device, not a regular file");
    char *big = glci_xmalloc(GLCI_KEYFILE_MAX + 2);
    memset(big, '#', GLCI_KEYFILE_MAX + 1);
    big[GLCI_KEYFILE_MAX + 1] = '\0';
    assert_int_equal(glci_keyfile_parse(big, GLCI_KEYFILE_MAX + 1, "k", &got, NULL, err,
                                        sizeof err), -1);
    assert_string_equal(err, "k: larger than 65536 bytes, not a key file");
    free(big);
}

/* ---- the config table's file reader (common/glci_config.c) ------------- */

typedef struct {
    char path[32];
    char name[16];
    int n;
} s_conf_t;

static const glci_conf_key_t s_conf_keys[] = {
    {"path", GLCI_CONF_TEXT, NULL, NULL, "", offsetof(s_conf_t, path),
     sizeof(((s_conf_t *)0)->path), 0, 0, 0, NULL},
    {"name", GLCI_CONF_TEXT, "none", NULL, "", offsetof(s_conf_t, name),
     sizeof(((s_conf_t *)0)->name), 0, 0, 0, NULL},
    {"n", GLCI_CONF_INT, "1", NULL, "", offsetof(s_conf_t, n), sizeof(int), 0, 9, 0, NULL},
};
static const glci_conf_map_t s_conf_map = {"t", s_conf_keys, 3};

static void s_conf_refused(const char *text, size_t len, const char *want)
{
    s_conf_t c;
    char err[512];
    glci_conf_defaults(&s_conf_map, &c);
    assert_int_equal(glci_conf_load_text(&s_conf_map, &c, text, len, "t.conf", err, sizeof err),
                     -1);
    if (strcmp(err, want) != 0)
        fail_msg("error '%s', wanted '%s'", err, want);
}

/* What inih alone does with a file, each refused or read as written
 * (found by fuzz_config): a long line was split in two, an indented line
 * glued to the key before it, a NUL byte cut the value short, an unknown
 * section without keys passed, an error was named at an earlier syntax
 * error's line, and messages echoed control characters. */
static void test_config_file_means_what_it_shows(void **state)
{
    s_conf_t c;
    char err[512], text[400];
    glci_conf_defaults(&s_conf_map, &c);
    static const char ok[] = "\xEF\xBB\xBF[t]\r\n  path = /a ; comment\r\n\tname: b\n";
    assert_int_equal(glci_conf_load_text(&s_conf_map, &c, ok, sizeof ok - 1, "t.conf", err,
                                         sizeof err), 0);
    assert_string_equal(c.path, "/a");
    assert_string_equal(c.name, "b");       /* indented: its own key, not path's tail */
    assert_int_equal(glci_conf_load_text(&s_conf_map, &c, "", 0, "t.conf", err, sizeof err), 0);

#define S_REFUSED(lit, want) s_conf_refused(lit, sizeof lit - 1, want)
    int len = snprintf(text, sizeof text, "[t]\nname = %0190d", 0);
    snprintf(text + len, sizeof text - (size_t)len, "n = 9\n");
    s_conf_refused(text, strlen(text), "t.conf:2: line too long (202 bytes, at most 197)");
    S_REFUSED("[t]\nname = ab\0cd\n", "t.conf:2: NUL byte in line");
    S_REFUSED("[t]\nname = a\n[other]\n", "t.conf:3: unknown section [other]: only [t] is read");
    S_REFUSED("\r\xEF\xBB\xBF [other]\nname = a\n",
              "t.conf:1: unknown section [other]: only [t] is read");
    S_REFUSED("[t]\nnot ini\nbogus = 1\n", "t.conf:2: not a valid INI line");
    S_REFUSED("[t]\nbogus = 1\nnot ini\n", "t.conf:2: unknown key 'bogus'");
    S_REFUSED("[t]\nn = \x1b[2J\xff\n",
              "t.conf:2: n must be an integer in [0, 9], not '\\x1B[2J\\xFF'");
    S_REFUSED("[t]\nb\x01" "d = 1\n", "t.conf:2: unknown key 'b\\x01d'");
#undef S_REFUSED

    /* a file: a regular one, read whole, at most GLCI_CONF_FILE_MAX bytes */
    glci_conf_defaults(&s_conf_map, &c);
    assert_int_equal(glci_conf_load(&s_conf_map, &c, "/dev/zero", err, sizeof err), -2);
    assert_string_equal(err, "/dev/zero: cannot read the config: is a character device, "
                        "not a regular file");
    char big[300];
    snprintf(big, sizeof big, "%s/big.conf", s_dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    fputs("[t]\n", f);
    for (int i = 0; i < GLCI_CONF_FILE_MAX / 8; i++)
        fputs("; ......\n", f);
    fclose(f);
    assert_int_equal(glci_conf_load(&s_conf_map, &c, big, err, sizeof err), -1);
    assert_non_null(strstr(err, "big.conf: larger than 1048576 bytes, not a config file"));
    unlink(big);
    assert_int_equal(glci_conf_load(&s_conf_map, &c, s_dir, err, sizeof err), -2);
    assert_non_null(strstr(err, "cannot read the config"));
}

static void test_parse_numbers(void **state)
{
    double d;
    int64_t i;
    assert_int_equal(glci_parse_double("41.5", &d), 0);
    assert_true(d == 41.5);
    assert_int_equal(glci_parse_double("0", &d), 0);
    assert_true(d == 0.0);
    assert_int_equal(glci_parse_double("-1e3", &d), 0);
    assert_int_equal(glci_parse_double("", &d), -1);
    assert_int_equal(glci_parse_double(" 1", &d), -1);
    assert_int_equal(glci_parse_double("1 ", &d), -1);
    assert_int_equal(glci_parse_double("12abc", &d), -1);
    assert_int_equal(glci_parse_double("0x10", &d), -1);
    assert_int_equal(glci_parse_double("1e999", &d), -2);
    assert_int_equal(glci_parse_double("1e-310", &d), 0);     /* subnormal */
    assert_true(d > 0 && d < 2.3e-308);
    assert_int_equal(glci_parse_double("-1e-400", &d), 0);    /* the nearest double: -0 */
    assert_true(d == 0);
    assert_int_equal(glci_parse_double("nan", &d), 0);
    assert_true(isnan(d));
    assert_int_equal(glci_parse_int64("2025", 0, 3000, &i), 0);
    assert_int_equal(i, 2025);
    assert_int_equal(glci_parse_int64("3001", 0, 3000, &i), -1);
    assert_int_equal(glci_parse_int64("20.5", 0, 3000, &i), -1);
    assert_int_equal(glci_parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &i), -1);
}

/* A message cut to fit its buffer ends on a character boundary, so quoted
 * text stays valid UTF-8 (found by the config fuzz target: the collector's
 * insecure-endpoint refusal quoting a long endpoint). */
static void test_errf_cuts_whole_characters(void **state)
{
    (void)state;
    char err[8];
    assert_int_equal(glci_errf(err, sizeof err, "ab%s", "cd\xc3\xa9" "f"), -1);
    assert_string_equal(err, "abcd\xc3\xa9" "f");            /* fits: 7 bytes */
    glci_errf(err, sizeof err, "abcdef%s", "\xc3\xa9");
    assert_string_equal(err, "abcdef");                      /* 1 of 2 bytes fits */
    glci_errf(err, sizeof err, "abcde%s", "\xe2\x82\xac");
    assert_string_equal(err, "abcde");                       /* 3-byte euro, 2 fit */
    glci_errf(err, sizeof err, "abc%s", "\xf0\x9f\x98\x80");
    assert_string_equal(err, "abc\xf0\x9f\x98\x80");       /* 4 of 4 fit exactly */
    glci_errf(err, sizeof err, "abcd%s", "\xf0\x9f\x98\x80");
    assert_string_equal(err, "abcd");
    glci_errf(err, sizeof err, "abcdefghij");
    assert_string_equal(err, "abcdefg");                     /* ASCII: a plain cut */
    glci_errf(err, 1, "x");
    assert_string_equal(err, "");
    assert_null(glci_utf8_problem(err));
}

static void test_iso_time(void **state)
{
    int64_t t;
    char buf[32];
    assert_int_equal(glci_parse_iso_time("2025-06-30", &t), 0);
    assert_int_equal(t, 1751241600);
    assert_int_equal(glci_parse_iso_time("2025-06-30T12:00:00Z", &t), 0);
    assert_int_equal(t, 1751241600 + 43200);
    glci_format_iso_time(t, buf, sizeof buf);
    assert_string_equal(buf, "2025-06-30T12:00:00Z");
    assert_int_equal(glci_parse_iso_time("2025-02-29", &t), -1);
    assert_int_equal(glci_parse_iso_time("2024-02-29", &t), 0);
    assert_int_equal(glci_parse_iso_time("2025-13-01", &t), -1);
    assert_int_equal(glci_parse_iso_time("2025-06-30T12:00:00", &t), -1);
    assert_int_equal(glci_parse_iso_time("2025-6-30", &t), -1);
    assert_int_equal(glci_parse_iso_time("1969-12-31", &t), 0);
    assert_int_equal(t, -86400);
    /* every date the parser takes prints back in its form (found by
     * fuzz_csv: the year 225 printed as "225") */
    static const char *const early[] = {"0225-06-30T00:00:00Z", "0000-01-01T00:00:00Z",
                                        "9999-12-31T23:59:59Z"};
    for (size_t i = 0; i < 3; i++) {
        int64_t back;
        assert_int_equal(glci_parse_iso_time(early[i], &t), 0);
        glci_format_iso_time(t, buf, sizeof buf);
        assert_string_equal(buf, early[i]);
        assert_int_equal(glci_parse_iso_time(buf, &back), 0);
        assert_true(back == t);
    }
}

static void test_format_double_roundtrip(void **state)
{
    const double vals[] = {0.0, 41.0, 71.234, 0.1, 1.0 / 3.0, 66.66666666666667, -2.5e-300, 1e21};
    char buf[40];
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        glci_format_double(vals[k], buf, sizeof buf);
        assert_true(strtod(buf, NULL) == vals[k]);
    }
    glci_format_double(41.0, buf, sizeof buf);
    assert_string_equal(buf, "41");
    glci_format_double(0.1, buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    glci_format_double(140.0, buf, sizeof buf);
    assert_string_equal(buf, "140");
    glci_format_double(-0.0, buf, sizeof buf);
    assert_true(strtod(buf, NULL) == 0.0);
    glci_format_double(1200.0, buf, sizeof buf);
    assert_string_equal(buf, "1200");
    glci_format_double(0.30000000000000004, buf, sizeof buf);
    assert_string_equal(buf, "0.30000000000000004");
    glci_format_double(5e-324, buf, sizeof buf);        /* a subnormal: fewer digits */
    assert_string_equal(buf, "5e-324");
    glci_format_double(-5.828994249469882e-310, buf, sizeof buf);
    assert_string_equal(buf, "-5.8289942494699e-310");

    /* Random bit patterns and decimals: every form reads back as the value,
     * and in the plain range no shorter number of decimals would. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        if (i % 2) {
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v))
                continue;
        } else {
            v = (double)(x % 100000000) / 1000.0;
        }
        glci_format_double(v, buf, sizeof buf);
        assert_true(strtod(buf, NULL) == v);
        const char *dot = strchr(buf, '.');
        if (!strchr(buf, 'e') && dot) {
            int dec = (int)strlen(dot + 1);
            char shorter[64];
            snprintf(shorter, sizeof shorter, "%.*f", dec - 1, v);
            assert_false(strtod(shorter, NULL) == v);
        }
    }
}

/* A bracketed address makes the socket speak IPv6; anything else leaves it
 * IPv4 (a name included: libzmq would dial its AAAA record only), and a
 * socket told once is told again, not left as it was. */
static void test_endpoint_family(void **state)
{
    (void)state;
    static const char *const v6[] = {"tcp://[::1]:7461", "tcp://[::]:7461", "tcp://[::]:*",
                                     "tcp://[2001:db8::7]:7461", "tcp://[::1]:0;[::1]:7461"};
    static const char *const v4[] = {"tcp://127.0.0.1:7461", "tcp://*:7461",
                                     "tcp://0.0.0.0:7461", "tcp://localhost:7461",
                                     "tcp://glci.example.org:7461", "tcp://eth0:7461",
                                     "ipc:///tmp/[x]", "inproc://[x]", "", NULL};
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    assert_non_null(sock);
    int ipv6;
    size_t len = sizeof ipv6;
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
        if (glci_endpoint_ipv6(v6[i]) != 1)
            fail_msg("%s should want IPv6", v6[i]);
        assert_int_equal(glci_endpoint_zmq_family(sock, v6[i]), 0);
        assert_int_equal(zmq_getsockopt(sock, ZMQ_IPV6, &ipv6, &len), 0);
        assert_int_equal(ipv6, 1);
    }
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
        if (glci_endpoint_ipv6(v4[i]) != 0)
            fail_msg("%s should stay IPv4", v4[i] ? v4[i] : "NULL");
        assert_int_equal(glci_endpoint_zmq_family(sock, v4[i]), 0);
        assert_int_equal(zmq_getsockopt(sock, ZMQ_IPV6, &ipv6, &len), 0);
        assert_int_equal(ipv6, 0);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyfile_roundtrip),
        cmocka_unit_test(test_key_codec_matches_libzmq),
        cmocka_unit_test(test_keyfile_refuses_open_secret),
        cmocka_unit_test(test_keyfile_public_has_no_secret),
        cmocka_unit_test(test_keyfile_malformed),
        cmocka_unit_test(test_keyfile_pair),
        cmocka_unit_test(test_key_fingerprint),
        cmocka_unit_test(test_key_path_that_looks_like_z85),
        cmocka_unit_test(test_keyfile_lines),
        cmocka_unit_test(test_config_file_means_what_it_shows),
        cmocka_unit_test(test_parse_numbers),
        cmocka_unit_test(test_errf_cuts_whole_characters),
        cmocka_unit_test(test_iso_time),
        cmocka_unit_test(test_format_double_roundtrip),
        cmocka_unit_test(test_endpoint_family),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
