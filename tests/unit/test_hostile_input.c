/* Hostile input at the shared layers (issue 20): text that reorders what
 * follows it, CSV cells a spreadsheet would run, configuration files that
 * say a key twice, key files that are FIFOs, folders or devices, numbers
 * at the edge of the double range, observation times outside any real
 * date, and NUL bytes hidden inside wire strings. Each case is what the
 * attack looked like; each was accepted (or hung) before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_config.h"
#include "glci_file.h"
#include "glci_keyfile.h"
#include "glci_obs.h"
#include "glci_output.h"
#include "glci_text.h"
#include "glci_utf8.h"
#include "glci_wire.h"

static char s_dir[] = "/tmp/glci-hostile-XXXXXX";

static int s_setup(void **state)
{
    (void)state;
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", s_dir, name);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* ---- finding 11: bidirectional controls in names and sources ----------- */

static void test_bidi_controls_are_refused_and_escaped(void **state)
{
    (void)state;
    static const char *const bidi[] = {
        "\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
        "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9",
    };
    for (size_t i = 0; i < sizeof bidi / sizeof bidi[0]; i++) {
        char text[64], out[64];
        snprintf(text, sizeof text, "survey %s2024 tnuoc", bidi[i]);
        const char *why = glci_utf8_problem(text);
        assert_non_null(why);
        assert_non_null(strstr(why, "bidirectional"));
        /* valid UTF-8 still (the CSV reader's encoding check passes it on) */
        assert_true(glci_utf8_valid(text, strlen(text)));
        /* an escaped copy is printable and shows the bytes */
        glci_utf8_escape(text, 100, out, sizeof out);
        assert_null(glci_utf8_problem(out));
        assert_non_null(strstr(out, "\\xE2\\x"));
    }
    /* neighbours of the ranges stay ordinary text (U+2029 below them is a
     * paragraph separator, refused for its own reason) */
    assert_null(glci_utf8_problem("\xE2\x80\xA7 \xE2\x80\xAF \xE2\x81\xA5 \xE2\x81\xAA"));

    /* the observation's source, through the one shape check */
    char msg[128];
    glci_obs_t o = glci_obs_make("adult_learning_rate", 2024, 41);
    o.source = "census \xE2\x80\xAE" "fdp.exe";
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_non_null(strstr(msg, "source contains a bidirectional control"));
}

/* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: valid UTF-8 that
 * editors, browsers and JavaScript show as a line break, so refused where
 * one line of printable text is wanted and escaped where outside text is
 * shown, as the bidirectional controls are. */
static void test_line_separators_are_refused_and_escaped(void **state)
{
    (void)state;
    static const char *const sep[] = {"\xE2\x80\xA8", "\xE2\x80\xA9"};
    for (size_t i = 0; i < 2; i++) {
        char text[64], out[64];
        snprintf(text, sizeof text, "fixed%sALARM: forged", sep[i]);
        const char *why = glci_utf8_problem(text);
        assert_non_null(why);
        assert_string_equal(why, "contains a line or paragraph separator (U+2028, U+2029)");
        assert_non_null(glci_utf8_problem_n(text, strlen(text)));
        assert_true(glci_utf8_valid(text, strlen(text)));
        glci_utf8_escape(text, 100, out, sizeof out);
        assert_null(glci_utf8_problem(out));
        snprintf(text, sizeof text, "fixed\\xE2\\x80\\x%sALARM: forged", i ? "A9" : "A8");
        assert_string_equal(out, text);
    }
    /* a cut separator is not valid UTF-8, as any cut character */
    assert_string_equal(glci_utf8_problem("x\xE2\x80"), "is not valid UTF-8");
    /* the neighbours stay ordinary text */
    assert_null(glci_utf8_problem("\xE2\x80\xA7 \xE2\x80\xA6"));

    /* the observation's source, through the one shape check */
    char msg[128];
    glci_obs_t o = glci_obs_make("adult_learning_rate", 2024, 41);
    o.source = "census\xE2\x80\xA8" "2024";
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "source contains a line or paragraph separator (U+2028, U+2029)");
}

/* ---- finding 7: spreadsheet formulas in every CSV printed ---------------- */

static char *s_csv_of(const char *const *cells, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        glci_csv_field(f, cells[i]);
    }
    fclose(f);
    return buf;
}

static void test_csv_cells_that_are_formulas_are_quoted(void **state)
{
    (void)state;
    static const char *const cells[] = {
        "=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "+1+2", "-1+2", "@SUM(A1)",
        "\tx", "\rx", "-inf", "plain", "-3.5", "+2", "-0", "1e-310", "",
    };
    char *csv = s_csv_of(cells, sizeof cells / sizeof cells[0]);
    assert_string_equal(csv,
        "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"'=cmd|' /C calc'!A0\",\"'+1+2\","
        "\"'-1+2\",\"'@SUM(A1)\",\"'\tx\",\"'\rx\",\"'-inf\",plain,-3.5,+2,-0,1e-310,");
    free(csv);

    /* a table printed as CSV goes the same way, header included */
    static const char *const head[] = {"city", "=name"};
    glci_table_t *t = glci_table_new(2, head, NULL);
    glci_table_cell(t, "cork-ie");
    glci_table_cell(t, "=1+1");
    glci_table_cell(t, "x");
    glci_table_cell(t, "-12.25");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    glci_table_print_csv(t, f);
    fclose(f);
    assert_string_equal(buf, "city,\"'=name\"\r\ncork-ie,\"'=1+1\"\r\nx,-12.25\r\n");
    free(buf);
    glci_table_free(&t);

    /* the always-quoted form (rejected.csv) */
    buf = NULL;
    f = open_memstream(&buf, &len);
    glci_csv_field_quoted(f, "@x");
    fputc(',', f);
    glci_csv_field_quoted(f, "ok");
    fclose(f);
    assert_string_equal(buf, "\"'@x\",\"ok\"");
    free(buf);
}

/* ---- finding 11: duplicate keys in configuration files ----------------- */

typedef struct {
    int64_t batch_max;
    char *spool;
} s_cfg_t;

static const glci_conf_key_t s_keys[] = {
    {"batch_max", GLCI_CONF_INT, "10", "N", "n", offsetof(s_cfg_t, batch_max),
     sizeof(int64_t), 1, 1000, GLCI_CONF_FLAG, NULL},
    {"spool", GLCI_CONF_STRING, NULL, "DIR", "d", offsetof(s_cfg_t, spool), sizeof(char *), 0,
     0, GLCI_CONF_FLAG, NULL},
};
static const glci_conf_map_t s_map = {"agent", s_keys, 2};

static void test_config_refuses_a_key_given_twice(void **state)
{
    (void)state;
    char path[256], err[512];
    s_cfg_t cfg;
    s_path(path, sizeof path, "twice.conf");
    s_write(path, "[agent]\nbatch_max = 5\nspool = /a\n\nbatch_max = 500\n");
    glci_conf_defaults(&s_map, &cfg);
    assert_int_equal(glci_conf_load(&s_map, &cfg, path, err, sizeof err), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:5: 'batch_max' is given twice in [agent]", path);
    assert_memory_equal(err, want, strlen(want));
    glci_conf_release(&s_map, &cfg);

    /* once each is fine */
    s_write(path, "[agent]\nbatch_max = 5\nspool = /a\n");
    glci_conf_defaults(&s_map, &cfg);
    assert_int_equal(glci_conf_load(&s_map, &cfg, path, err, sizeof err), 0);
    assert_int_equal(cfg.batch_max, 5);
    glci_conf_release(&s_map, &cfg);
}

static void test_config_that_is_a_fifo_does_not_hang(void **state)
{
    (void)state;
    char path[256], err[512];
    s_cfg_t cfg;
    s_path(path, sizeof path, "conf.fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    glci_conf_defaults(&s_map, &cfg);
    alarm(20);      /* a hang fails the test instead of holding ctest */
    assert_int_equal(glci_conf_load(&s_map, &cfg, path, err, sizeof err), -2);
    alarm(0);
    assert_non_null(strstr(err, "is a FIFO, not a regular file"));
    /* /dev/null still means "no settings" */
    assert_int_equal(glci_conf_load(&s_map, &cfg, "/dev/null", err, sizeof err), 0);
    glci_conf_release(&s_map, &cfg);
}

/* ---- finding 10: a FIFO, a folder or a device as key file ---------------- */

static void test_key_file_that_is_not_a_file(void **state)
{
    (void)state;
    char fifo[256], dir[256], big[256], err[512];
    glci_key_t pub, sec;
    s_path(fifo, sizeof fifo, "key.fifo");
    s_path(dir, sizeof dir, "key.dir");
    s_path(big, sizeof big, "key.big");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(mkdir(dir, 0700), 0);

    alarm(20);
    assert_int_equal(glci_keyfile_read(fifo, &pub, &sec, err, sizeof err), -1);
    alarm(0);
    assert_non_null(strstr(err, "is a FIFO, not a regular file"));
    assert_int_equal(glci_keyfile_read(dir, &pub, &sec, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a folder, not a regular file"));
    assert_int_equal(glci_keyfile_read("/dev/zero", &pub, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/dev/zero: is a character device, not a regular file");
    /* the public key given as "text or file" takes the same path */
    assert_int_equal(glci_key_from_text_or_file(fifo, &pub, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a FIFO"));

    FILE *f = fopen(big, "w");
    assert_non_null(f);
    for (int i = 0; i < 70000; i++)
        fputc('#', f);
    fclose(f);
    assert_int_equal(glci_keyfile_read(big, &pub, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "larger than a key file can be"));
}

/* ---- finding 11: 1e-310 and 1e999 ------------------------------------------ */

static void test_numbers_at_the_edge_of_the_double_range(void **state)
{
    (void)state;
    double d = -1;
    assert_int_equal(glci_parse_double("1e-310", &d), 0);
    assert_true(d > 0 && d < 1e-300);
    assert_int_equal(glci_parse_double("4.9e-324", &d), 0);
    assert_true(d > 0);
    assert_int_equal(glci_parse_double("1e999", &d), -2);
    assert_int_equal(glci_parse_double("-1e999", &d), -2);
    assert_int_equal(glci_parse_double("1e308", &d), 0);
}

/* ---- finding 11: observed_at outside any real date ------------------------- */

static void test_observed_at_window(void **state)
{
    (void)state;
    char msg[128];
    glci_obs_t o = glci_obs_make("adult_learning_rate", 2024, 41);
    o.observed_at = INT64_MIN;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "observed_at is outside 1970-01-01 to 2199-12-31");
    o.observed_at = -1;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    o.observed_at = GLCI_OBS_OBSERVED_MAX + 1;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    o.observed_at = INT64_MAX;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_MALFORMED);
    /* the edges and "unknown" pass, and print as dates */
    char iso[40];
    o.observed_at = GLCI_OBS_OBSERVED_MAX;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_NONE);
    glci_format_iso_time(o.observed_at, iso, sizeof iso);
    assert_string_equal(iso, "2199-12-31T23:59:59Z");
    o.observed_at = GLCI_OBS_OBSERVED_MIN;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_NONE);
    o.observed_at = 0;
    assert_int_equal(glci_obs_check(&o, msg, sizeof msg), GLCI_REJECT_NONE);
}

/* ---- finding 11: NUL bytes inside wire strings ----------------------------- */

/* Packs a batch, then turns every '~' of the encoded bytes into a NUL: the
 * protobuf framing (lengths) stays right, the strings now hold NULs. */
static void s_pack_with_nul(const char *city, const glci_obs_t *obs, size_t n, uint8_t **buf,
                            size_t *len)
{
    assert_int_equal(glci_wire_batch_pack(42, 1, city, obs, n, buf, len), 0);
    for (size_t i = 0; i < *len; i++)
        if ((*buf)[i] == '~')
            (*buf)[i] = 0;
}

static void test_nul_bytes_in_wire_strings_are_refused_not_cut(void **state)
{
    (void)state;
    glci_obs_t obs[3] = {glci_obs_make("adult_learning_rate~evil", 2024, 41),
                         glci_obs_make("adult_learning_rate", 2024, 42),
                         glci_obs_make("adult_learning_rate", 2023, 43)};
    obs[2].source = "census~\x01hidden";
    uint8_t *buf;
    size_t len;
    char err[256], msg[128];
    uint64_t partial[2];
    glci_wire_batch_t *b = NULL;

    s_pack_with_nul(NULL, obs, 3, &buf, &len);
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, partial, err, sizeof err), 0);
    free(buf);
    assert_int_equal(b->n_obs, 3);
    /* the C strings are cut... */
    assert_string_equal(b->obs[0].indicator, "adult_learning_rate");
    assert_string_equal(b->obs[2].source, "census");
    /* ...and the shape check refuses exactly those, not the clean one */
    assert_int_equal(glci_obs_check(&b->obs[0], msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "indicator contains a NUL byte");
    assert_int_equal(glci_obs_check(&b->obs[1], msg, sizeof msg), GLCI_REJECT_NONE);
    assert_int_equal(glci_obs_check(&b->obs[2], msg, sizeof msg), GLCI_REJECT_MALFORMED);
    assert_string_equal(msg, "source contains a NUL byte");
    glci_wire_batch_free(&b);

    /* a claimed city "alpha\0..." would read as "alpha": the batch is refused */
    s_pack_with_nul("alpha~x", obs + 1, 1, &buf, &len);
    assert_int_equal(glci_wire_batch_unpack(buf, len, NULL, &b, partial, err, sizeof err),
                     GLCI_WIRE_EFIELD);
    free(buf);
    assert_null(b);
    assert_string_equal(err, "claimed city id contains a NUL byte");
    assert_int_equal(partial[1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bidi_controls_are_refused_and_escaped),
        cmocka_unit_test(test_line_separators_are_refused_and_escaped),
        cmocka_unit_test(test_csv_cells_that_are_formulas_are_quoted),
        cmocka_unit_test(test_config_refuses_a_key_given_twice),
        cmocka_unit_test(test_config_that_is_a_fifo_does_not_hang),
        cmocka_unit_test(test_key_file_that_is_not_a_file),
        cmocka_unit_test(test_numbers_at_the_edge_of_the_double_range),
        cmocka_unit_test(test_observed_at_window),
        cmocka_unit_test(test_nul_bytes_in_wire_strings_are_refused_not_cut),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
