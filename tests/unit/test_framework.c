/* Unit tests for the framework loader (index/glci_framework.c): the shipped
 * framework, defaults, lookups, the content hash, observation checks, and
 * every malformed-file case refused with "FILE:LINE: message". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_index.h"
#include "glci_utf8.h"

/* A minimal valid framework; the line numbers below refer to it. */
static const char s_base[] =
    "[framework]\n"                 /* 1 */
    "id = t\n"                      /* 2 */
    "version = 1\n"                 /* 3 */
    "[area:a]\n"                    /* 4 */
    "name = A\n"                    /* 5 */
    "[focus:a.f]\n"                 /* 6 */
    "area = a\n"                    /* 7 */
    "name = F\n"                    /* 8 */
    "[indicator:i]\n"               /* 9 */
    "focus = a.f\n"                 /* 10 */
    "name = I\n"                    /* 11 */
    "unit = %\n"                    /* 12 */
    "direction = higher\n"          /* 13 */
    "lower = 0\n"                   /* 14 */
    "upper = 100\n"                 /* 15 */
    "min = 0\n"                     /* 16 */
    "max = 100\n";                  /* 17 */

/* s_base with the first occurrence of `from` replaced by `to` (static buffer). */
static const char *s_subst(const char *from, const char *to)
{
    static char buf[8192];
    const char *at = strstr(s_base, from);
    assert_non_null(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - s_base), s_base, to, at + strlen(from));
    return buf;
}

static void s_refuse(const char *text, int line, const char *what)
{
    glci_framework_t *fw = (glci_framework_t *)&fw;   /* must be reset to NULL */
    char err[512] = "", prefix[32];
    int rc = glci_framework_load_text(text, strlen(text), "t.ini", &fw, err, sizeof err);
    if (rc != GLCI_INDEX_EPARSE || !strstr(err, what))
        print_error("expected refusal at line %d with '%s', got rc %d: %s\n", line, what,
                    rc, err);
    assert_int_equal(rc, GLCI_INDEX_EPARSE);
    assert_null(fw);
    if (line > 0)
        snprintf(prefix, sizeof prefix, "t.ini:%d: ", line);
    else
        snprintf(prefix, sizeof prefix, "t.ini: ");
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        print_error("expected prefix '%s', got: %s\n", prefix, err);
    assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
    assert_non_null(strstr(err, what));
    assert_null(strchr(err, '\n'));
}

static glci_framework_t *s_load(const char *text)
{
    glci_framework_t *fw = NULL;
    char err[512] = "";
    int rc = glci_framework_load_text(text, strlen(text), "t.ini", &fw, err, sizeof err);
    if (rc != 0)
        print_error("unexpected refusal: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(fw);
    return fw;
}

static const char *s_shipped_path(void)
{
    const char *p = getenv("GLCI_FRAMEWORK");
    return p && *p ? p : GLCI_FRAMEWORK_FILE;
}

/* ---- Valid files ------------------------------------------------------- */

static void test_shipped_framework(void **state)
{
    glci_framework_t *fw = NULL;
    char err[512] = "";
    int rc = glci_framework_load_file(s_shipped_path(), &fw, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(fw->id, "unesco-glci");
    assert_int_equal(fw->n_areas, 3);
    assert_int_equal(fw->n_focus, 12);
    assert_true(fw->n_ind >= 36);
    assert_int_equal(glci_framework_area(fw, "benefits"), 0);
    assert_int_equal(glci_framework_area(fw, "building_blocks"), 1);
    assert_int_equal(glci_framework_area(fw, "conditions"), 2);
    assert_int_equal(fw->areas[0].n_focus, 3);
    assert_int_equal(fw->areas[1].n_focus, 6);
    assert_int_equal(fw->areas[2].n_focus, 3);
    for (uint32_t f = 0; f < fw->n_focus; f++) {
        const glci_focus_t *fo = &fw->focus[f];
        const char *area_id = fw->areas[fo->area].id;
        assert_true(fo->n_ind >= 3);
        /* focus ids are area.short */
        assert_int_equal(strncmp(fo->id, area_id, strlen(area_id)), 0);
        assert_int_equal(fo->id[strlen(area_id)], '.');
    }
    for (uint32_t i = 0; i < fw->n_ind; i++) {
        const glci_indicator_t *in = &fw->ind[i];
        assert_true(in->min <= in->max);
        assert_true(in->lower != in->upper);
        assert_true(in->lower >= in->min && in->upper <= in->max);
        assert_true(in->weight > 0);
        assert_int_equal(glci_framework_indicator(fw, in->id), (int32_t)i);
        if (strcmp(in->unit, "yes/no") == 0) {
            assert_true(in->min == 0 && in->max == 1 && in->lower == 0 && in->upper == 1);
        }
    }
    assert_int_equal(glci_framework_indicator(fw, "adult_learning_rate"), 0);
    assert_true(fw->source_len > 0);
    assert_int_equal(strlen(fw->source), fw->source_len);
    assert_int_equal(strlen(fw->hash_hex), 64);
    glci_framework_free(&fw);
    assert_null(fw);
    glci_framework_free(&fw);       /* NULL is fine */
    glci_framework_free(NULL);
}

static void test_defaults_and_order(void **state)
{
    glci_framework_t *fw = s_load(s_base);
    assert_string_equal(fw->id, "t");
    assert_string_equal(fw->version, "1");
    assert_true(fw->min_coverage == 0.8);
    assert_int_equal(fw->carry_forward, 2);
    assert_int_equal(fw->aggregation, GLCI_AGG_ARITHMETIC);
    assert_int_equal(fw->first_period, 2000);
    assert_int_equal(fw->last_period, 2100);
    assert_true(fw->areas[0].weight == 1.0);
    assert_true(fw->focus[0].weight == 1.0);
    assert_true(fw->ind[0].weight == 1.0);
    assert_string_equal(fw->ind[0].unit, "%");
    assert_int_equal(fw->ind[0].direction, GLCI_DIR_HIGHER);
    glci_framework_free(&fw);

    /* Order is the file's order, forward references are fine, indented
     * lines and inline comments are read as expected. */
    fw = s_load("[framework]\nid = x\nversion = 2\naggregation = geometric ; comment\n"
                "carry_forward = 0\nmin_coverage = 1\nfirst_period = 2010\nlast_period = 2010\n"
                "[indicator:z]\n  focus = b.g\n  name = Z\n  unit = n\n  direction = lower\n"
                "  lower = 1\n  upper = 2\n  min = -5\n  max = 5\n  weight = 2.5\n"
                "[area:b]\nname = B\nweight = 3\n"
                "[area:a]\nname = A\n"
                "[focus:a.f]\narea = a\nname = F\n"
                "[focus:b.g]\narea = b\nname = G\nweight = 0.5\n"
                "[indicator:y]\nfocus = a.f\nname = Y\nunit = n\ndirection = higher\n"
                "lower = 0\nupper = 1\nmin = 0\nmax = 1\n");
    assert_int_equal(fw->aggregation, GLCI_AGG_GEOMETRIC);
    assert_int_equal(fw->carry_forward, 0);
    assert_true(fw->min_coverage == 1.0);
    assert_int_equal(fw->first_period, 2010);
    assert_int_equal(fw->last_period, 2010);
    assert_string_equal(fw->areas[0].id, "b");
    assert_true(fw->areas[0].weight == 3.0);
    assert_string_equal(fw->focus[1].id, "b.g");
    assert_int_equal(fw->focus[1].area, 0);
    assert_int_equal(fw->areas[0].focus[0], 1);
    assert_string_equal(fw->ind[0].id, "z");
    assert_int_equal(fw->ind[0].focus, 1);
    assert_int_equal(fw->ind[0].direction, GLCI_DIR_LOWER);
    assert_true(fw->ind[0].weight == 2.5);
    assert_true(fw->ind[0].min == -5);
    assert_int_equal(glci_framework_focus(fw, "b.g"), 1);
    assert_int_equal(glci_framework_focus(fw, "b"), -1);
    assert_int_equal(glci_framework_indicator(fw, "y"), 1);
    assert_int_equal(glci_framework_indicator(fw, "Y"), -1);
    assert_int_equal(glci_framework_indicator(fw, ""), -1);
    glci_framework_free(&fw);
}

static void test_many_ids_lookup(void **state)
{
    /* Enough indicators to exercise collisions in the id table. */
    size_t cap = 1 << 20, n = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    n += (size_t)snprintf(t + n, cap - n,
                          "[framework]\nid = big\nversion = 1\n[area:a]\nname = A\n"
                          "[focus:a.f]\narea = a\nname = F\n");
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(t + n, cap - n,
                              "[indicator:ind%d]\nfocus = a.f\nname = N\nunit = u\n"
                              "direction = higher\nlower = 0\nupper = 1\nmin = 0\nmax = 1\n", i);
    glci_framework_t *fw = s_load(t);
    assert_int_equal(fw->n_ind, 2000);
    char id[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "ind%d", i);
        assert_int_equal(glci_framework_indicator(fw, id), i);
    }
    assert_int_equal(glci_framework_indicator(fw, "ind2000"), -1);
    glci_framework_free(&fw);
    free(t);
}

static void test_hash_is_canonical(void **state)
{
    glci_framework_t *a = s_load(s_base);
    /* Comments, blank lines, spacing, key order and number spelling do not
     * change the hash. */
    glci_framework_t *b = s_load(
        "; a comment\n\n[framework]\nversion=1\nid   =   t   ; inline\n\n"
        "[area:a]\nweight = 1.0\nname = A\n[focus:a.f]\nname = F\narea = a\n"
        "[indicator:i]\nmax = 1e2\nmin = 0.0\nupper = 100\nlower = -0\ndirection = higher\n"
        "unit = %\nname = I\nfocus = a.f\nweight = 1\n");
    assert_string_equal(a->hash_hex, b->hash_hex);
    assert_memory_equal(a->hash, b->hash, 32);
    /* Any value change does. */
    const char *changes[][2] = {
        {"upper = 100", "upper = 99"}, {"name = I", "name = I2"}, {"unit = %", "unit = pct"},
        {"version = 1", "version = 1.1"}, {"direction = higher", "direction = lower"},
        {"max = 100", "max = 101"}, {"id = t", "id = t\ncarry_forward = 3"},
        {"id = t", "id = t\nmin_coverage = 0.5"}, {"id = t", "id = t\naggregation = geometric"},
        {"name = A", "name = A\nweight = 2"},
    };
    for (size_t k = 0; k < sizeof changes / sizeof changes[0]; k++) {
        glci_framework_t *c = s_load(s_subst(changes[k][0], changes[k][1]));
        if (strcmp(a->hash_hex, c->hash_hex) == 0)
            print_error("change %zu did not change the hash\n", k);
        assert_string_not_equal(a->hash_hex, c->hash_hex);
        glci_framework_free(&c);
    }
    /* The source text is kept as given. */
    assert_int_equal(a->source_len, strlen(s_base));
    assert_string_equal(a->source, s_base);
    glci_framework_free(&a);
    glci_framework_free(&b);
}

static void test_text_need_not_be_terminated(void **state)
{
    size_t n = strlen(s_base);
    char *t = malloc(n + 8);
    assert_non_null(t);
    memcpy(t, s_base, n);
    memcpy(t + n, "garbage", 8);       /* beyond len: never read */
    glci_framework_t *fw = NULL;
    char err[256];
    assert_int_equal(glci_framework_load_text(t, n, NULL, &fw, err, sizeof err), 0);
    assert_int_equal(fw->source_len, n);
    assert_int_equal(fw->source[n], '\0');
    glci_framework_free(&fw);
    /* No final newline and CRLF line ends are fine. */
    fw = s_load("[framework]\r\nid = t\r\nversion = 1\r\n[area:a]\r\nname = A\r\n"
                "[focus:a.f]\r\narea = a\r\nname = F\r\n[indicator:i]\r\nfocus = a.f\r\n"
                "name = I\r\nunit = %\r\ndirection = higher\r\nlower = 0\r\nupper = 1\r\n"
                "min = 0\r\nmax = 1");
    assert_true(fw->ind[0].max == 1);
    assert_string_equal(fw->ind[0].name, "I");
    glci_framework_free(&fw);
    free(t);
}

static void test_load_file_errors(void **state)
{
    glci_framework_t *fw = NULL;
    char err[512] = "";
    assert_int_equal(glci_framework_load_file("/nonexistent/glci.ini", &fw, err, sizeof err),
                     GLCI_INDEX_EIO);
    assert_null(fw);
    assert_non_null(strstr(err, "/nonexistent/glci.ini: "));
    /* A file with an error is named with its path. */
    char path[] = "/tmp/glci-test-fw-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = s_subst("upper = 100", "upper = 0");
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(glci_framework_load_file(path, &fw, err, sizeof err), GLCI_INDEX_EPARSE);
    char want[64];
    snprintf(want, sizeof want, "%s:15: ", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    unlink(path);
    assert_string_equal(glci_index_strerror(GLCI_INDEX_EIO), "framework file cannot be read");
    assert_non_null(glci_index_strerror(GLCI_INDEX_EPARSE));
    assert_non_null(glci_index_strerror(12345));
}

/* A FIFO, a device and a file over the limit are refused at once, before
 * any read: /dev/zero was read for ever, doubling a buffer. */
static void test_load_file_not_a_framework_file(void **state)
{
    (void)state;
    glci_framework_t *fw = NULL;
    char err[512] = "";
    assert_int_equal(glci_framework_load_file("/dev/zero", &fw, err, sizeof err),
                     GLCI_INDEX_EIO);
    assert_null(fw);
    assert_string_equal(err, "/dev/zero: is a character device, not a regular file");

    char dir[] = "/tmp/glci-test-fw-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(glci_framework_load_file(path, &fw, err, sizeof err), GLCI_INDEX_EIO);
    assert_null(fw);
    assert_non_null(strstr(err, "/fifo: is a FIFO, not a regular file"));
    unlink(path);
    assert_int_equal(glci_framework_load_file(dir, &fw, err, sizeof err), GLCI_INDEX_EIO);
    assert_non_null(strstr(err, ": is a folder, not a regular file"));

    /* one byte over 64 MiB, sparse: refused from its size alone */
    snprintf(path, sizeof path, "%s/big.ini", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s_base, strlen(s_base)), (ssize_t)strlen(s_base));
    assert_int_equal(ftruncate(fd, (off_t)GLCI_FRAMEWORK_MAX_BYTES + 1), 0);
    close(fd);
    assert_int_equal(glci_framework_load_file(path, &fw, err, sizeof err), GLCI_INDEX_EIO);
    assert_null(fw);
    char want[128];
    snprintf(want, sizeof want, "%s: 67108865 bytes, larger than a framework file can be "
             "(67108864)", path);
    assert_string_equal(err, want);
    /* at the limit the size passes and the text is judged: the NUL bytes
     * of the hole are refused as text */
    assert_int_equal(truncate(path, (off_t)GLCI_FRAMEWORK_MAX_BYTES), 0);
    assert_int_equal(glci_framework_load_file(path, &fw, err, sizeof err), GLCI_INDEX_EPARSE);
    assert_null(fw);
    snprintf(want, sizeof want, "%s:18: ", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    unlink(path);
    rmdir(dir);

    /* the same bound holds for text in memory (an embedded copy) */
    char *big = calloc(1, GLCI_FRAMEWORK_MAX_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(glci_framework_load_text(big, GLCI_FRAMEWORK_MAX_BYTES + 1, "e.ini", &fw,
                                              err, sizeof err), GLCI_INDEX_EPARSE);
    assert_null(fw);
    assert_string_equal(err, "e.ini: 67108865 bytes, larger than a framework file can be "
                             "(67108864)");
    free(big);
}

/* ---- Refusals: one test per rule --------------------------------------- */

static void test_refuse_unknown_key(void **state)
{
    s_refuse(s_subst("unit = %", "unit = %\ncolour = red"), 13, "unknown key 'colour'");
    s_refuse(s_subst("version = 1", "version = 1\nweight = 2"), 4, "unknown key 'weight'");
}

static void test_refuse_duplicate_key(void **state)
{
    s_refuse(s_subst("name = A", "name = A\nname = B"), 6, "duplicate key 'name'");
}

static void test_refuse_key_outside_section(void **state)
{
    char t[2048];
    snprintf(t, sizeof t, "id = t\n%s", s_base);
    s_refuse(t, 1, "outside any section");
}

static void test_refuse_unknown_section_kind(void **state)
{
    s_refuse(s_subst("[area:a]", "[region:a]"), 4, "unknown section kind 'region'");
    s_refuse(s_subst("[area:a]", "[area]"), 4, "needs an id");
    s_refuse(s_subst("[area:a]", "[area:]"), 4, "bad id");
    s_refuse(s_subst("[area:a]", "[area:a b]"), 4, "bad id");
    s_refuse(s_subst("[framework]", "[framework:x]"), 1, "takes no id");
}

static void test_refuse_missing_field(void **state)
{
    s_refuse(s_subst("unit = %\n", ""), 9, "missing field 'unit'");
    s_refuse(s_subst("name = I\n", ""), 9, "missing field 'name'");
    s_refuse(s_subst("focus = a.f\n", ""), 9, "missing field 'focus'");
    s_refuse(s_subst("direction = higher\n", ""), 9, "missing field 'direction'");
    s_refuse(s_subst("lower = 0\n", ""), 9, "missing field 'lower'");
    s_refuse(s_subst("upper = 100\n", ""), 9, "missing field 'upper'");
    s_refuse(s_subst("min = 0\n", ""), 9, "missing field 'min'");
    s_refuse(s_subst("max = 100\n", ""), 9, "missing field 'max'");
    s_refuse(s_subst("area = a\n", ""), 6, "missing field 'area'");
    s_refuse(s_subst("name = F\n", ""), 6, "missing field 'name'");
    s_refuse(s_subst("name = A\n", ""), 4, "missing field 'name'");
    s_refuse(s_subst("id = t\n", ""), 1, "missing field 'id'");
    s_refuse(s_subst("version = 1\n", ""), 1, "missing field 'version'");
    s_refuse(s_subst("name = I", "name ="), 11, "empty value for 'name'");
}

static void test_refuse_missing_framework(void **state)
{
    s_refuse(s_subst("[framework]\nid = t\nversion = 1\n", ""), 0, "no [framework] section");
    s_refuse(s_subst("[area:a]", "[framework]\n[area:a]"), 4, "duplicate [framework]");
    s_refuse("[framework]\nid = t\nversion = 1\n", 0, "no [area:ID] section");
    s_refuse("", 0, "no [framework] section");
}

static void test_refuse_duplicate_id(void **state)
{
    char t[4096];
    snprintf(t, sizeof t, "%s[indicator:i]\nfocus = a.f\nname = J\nunit = %%\n"
             "direction = higher\nlower = 0\nupper = 1\nmin = 0\nmax = 1\n", s_base);
    s_refuse(t, 18, "duplicate id 'i' (first on line 9)");
    s_refuse(s_subst("[indicator:i]", "[area:a]\nname = B\n[indicator:i]"), 9,
             "duplicate id 'a'");
    s_refuse(s_subst("[indicator:i]", "[focus:a.f]\narea = a\nname = G\n[indicator:i]"), 9,
             "duplicate id 'a.f'");
}

static void test_refuse_dangling_reference(void **state)
{
    s_refuse(s_subst("area = a", "area = nowhere"), 7, "unknown area 'nowhere'");
    s_refuse(s_subst("focus = a.f", "focus = a.g"), 10, "unknown focus area 'a.g'");
}

static void test_refuse_goalposts(void **state)
{
    s_refuse(s_subst("upper = 100", "upper = 0"), 15, "lower and upper are equal");
    s_refuse(s_subst("max = 100", "max = -1"), 17, "min 0 is greater than max -1");
}

static void test_refuse_non_numeric(void **state)
{
    s_refuse(s_subst("lower = 0", "lower = zero"), 14, "'lower' is not a finite number");
    s_refuse(s_subst("upper = 100", "upper = 100abc"), 15, "'upper' is not a finite number");
    s_refuse(s_subst("upper = 100", "upper = nan"), 15, "not a finite number");
    s_refuse(s_subst("max = 100", "max = inf"), 17, "not a finite number");
    s_refuse(s_subst("min = 0", "min = 0x10"), 16, "not a finite number");
    s_refuse(s_subst("min = 0", "min = 1e999"), 16, "not a finite number");
    s_refuse(s_subst("name = A", "name = A\nweight = heavy"), 6, "'weight' is not a finite");
    s_refuse(s_subst("version = 1", "version = 1\nmin_coverage = most"), 4,
             "'min_coverage' is not a finite number");
    s_refuse(s_subst("version = 1", "version = 1\nfirst_period = 2000.5"), 4,
             "'first_period' is not an integer");
    s_refuse(s_subst("version = 1", "version = 1\ncarry_forward = two"), 4,
             "'carry_forward' is not an integer");
}

/* The store keys observations by a 16-bit indicator index: a framework of
 * 65,536 indicators is refused with "FILE: message". */
static void test_refuse_too_many_indicators(void **state)
{
    (void)state;
    size_t cap = (size_t)65536 * 48 + 256, n = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    n += (size_t)snprintf(t + n, cap - n,
                          "[framework]\nid = big\nversion = 1\n[area:a]\nname = A\n"
                          "[focus:a.f]\narea = a\nname = F\n");
    for (int i = 0; i < 65536; i++)
        n += (size_t)snprintf(t + n, cap - n, "[indicator:i%d]\n", i);
    assert_true(n < cap);
    s_refuse(t, 0, "too many indicators (65536; at most 65535)");
    free(t);
}

static void test_refuse_weight(void **state)
{
    s_refuse(s_subst("max = 100", "max = 100\nweight = 0"), 18, "weight must be positive");
    s_refuse(s_subst("name = F", "name = F\nweight = -1"), 9, "weight must be positive");
    s_refuse(s_subst("name = A", "name = A\nweight = -0.5"), 6, "weight must be positive");
    /* Finite but huge weights would overflow the weighted sums to inf (and
     * the index to NaN): the cap is 1e6, on every level. */
    s_refuse(s_subst("max = 100", "max = 100\nweight = 1e308"), 18,
             "weight must be at most 1000000, not '1e308'");
    s_refuse(s_subst("name = F", "name = F\nweight = 1000000.5"), 9,
             "weight must be at most 1000000");
    s_refuse(s_subst("name = A", "name = A\nweight = 2e6"), 6, "weight must be at most 1000000");
    glci_framework_t *fw = s_load(s_subst("max = 100", "max = 100\nweight = 1e6"));
    assert_true(fw->ind[0].weight == 1e6);
    glci_framework_free(&fw);
}

/* Goalposts, the valid range and thresholds are capped at 1e100 in
 * magnitude, so no score's arithmetic overflows (docs/FRAMEWORK.md). */
static void test_refuse_huge_unit_numbers(void **state)
{
    (void)state;
    s_refuse(s_subst("upper = 100", "upper = 1e307"), 15,
             "'upper' must be between -1e100 and 1e100, not '1e307'");
    s_refuse(s_subst("lower = 0", "lower = -1e308"), 14,
             "'lower' must be between -1e100 and 1e100, not '-1e308'");
    s_refuse(s_subst("min = 0", "min = -1.000001e100"), 16,
             "'min' must be between -1e100 and 1e100");
    s_refuse(s_subst("max = 100", "max = 2e100"), 17, "'max' must be between");
    s_refuse(s_subst("max = 100", "max = 100\ngreen = 1e101\nred = 10"), 18,
             "'green' must be between -1e100 and 1e100, not '1e101'");
    s_refuse(s_subst("max = 100", "max = 100\ngreen = 90\nred = -1e300"), 19,
             "'red' must be between -1e100 and 1e100, not '-1e300'");
}

/* The largest goalposts accepted score exactly as SPEC section 3 says:
 * half-way is 50, the ends 0 and 100, and no value in [min, max] gives a
 * NaN or an infinity. */
static void test_largest_goalposts_score(void **state)
{
    (void)state;
    char t[2048];
    snprintf(t, sizeof t, "%s", s_subst("lower = 0\nupper = 100\nmin = 0\nmax = 100",
                                        "lower = -1e100\nupper = 1e100\nmin = -1e100\n"
                                        "max = 1e100"));
    glci_framework_t *fw = s_load(t);
    const glci_indicator_t *in = &fw->ind[0];
    assert_true(in->lower == -1e100 && in->upper == 1e100);
    assert_true(glci_indicator_score(in, 0.0) == 50.0);
    assert_true(glci_indicator_score(in, 1e100) == 100.0);
    assert_true(glci_indicator_score(in, -1e100) == 0.0);
    assert_true(glci_indicator_score(in, 5e99) == 75.0);
    /* what the collector lets reach the score: [min, max], finite */
    uint32_t at = 9;
    assert_int_equal(glci_framework_check(fw, "i", 2020, 1e100, &at, NULL, 0),
                     GLCI_REJECT_NONE);
    assert_int_equal(at, 0);
    assert_int_equal(glci_framework_check(fw, "i", 2020, -1e100, NULL, NULL, 0),
                     GLCI_REJECT_NONE);
    assert_int_equal(glci_framework_check(fw, "i", 2020, 1.000001e100, NULL, NULL, 0),
                     GLCI_REJECT_OUT_OF_RANGE);
    assert_int_equal(glci_framework_check(fw, "i", 2020, -1e308, NULL, NULL, 0),
                     GLCI_REJECT_OUT_OF_RANGE);
    assert_int_equal(glci_framework_check(fw, "i", 2020, INFINITY, NULL, NULL, 0),
                     GLCI_REJECT_NOT_FINITE);
    glci_framework_free(&fw);

    /* 0 .. 1e100: the value half-way scores 50 within one rounding */
    fw = s_load(s_subst("lower = 0\nupper = 100\nmin = 0\nmax = 100",
                        "lower = 0\nupper = 1e100\nmin = 0\nmax = 1e100"));
    double s = glci_indicator_score(&fw->ind[0], 5e99);
    assert_true(fabs(s - 50.0) <= 50.0 * 4 * 2.220446049250313e-16);
    assert_true(glci_indicator_score(&fw->ind[0], 1e100) == 100.0);
    glci_framework_free(&fw);

    /* direction lower, reversed, at the cap */
    fw = s_load(s_subst("direction = higher\nlower = 0\nupper = 100\nmin = 0\nmax = 100",
                        "direction = lower\nlower = 1e100\nupper = -1e100\nmin = -1e100\n"
                        "max = 1e100"));
    assert_true(glci_indicator_score(&fw->ind[0], 0.0) == 50.0);
    assert_true(glci_indicator_score(&fw->ind[0], 1e100) == 100.0);
    assert_true(glci_indicator_score(&fw->ind[0], -1e100) == 0.0);
    glci_framework_free(&fw);

    /* Goalposts a hair apart and a value at the cap: the quotient may round
     * to infinity, but only when the exact score is far past 100 or below
     * 0, so the clamp gives the right answer and never NaN. */
    fw = s_load(s_subst("lower = 0\nupper = 100\nmin = 0\nmax = 100",
                        "lower = 0\nupper = 1e-300\nmin = -1e100\nmax = 1e100"));
    assert_true(glci_indicator_score(&fw->ind[0], 1e100) == 100.0);
    assert_true(glci_indicator_score(&fw->ind[0], -1e100) == 0.0);
    assert_true(fabs(glci_indicator_score(&fw->ind[0], 5e-301) - 50.0) < 1e-12);
    glci_framework_free(&fw);
}

static void test_refuse_empty_area_or_focus(void **state)
{
    s_refuse(s_subst("[focus:a.f]", "[area:b]\nname = B\n[focus:a.f]"), 6,
             "area 'b' has no focus areas");
    s_refuse(s_subst("[indicator:i]", "[focus:a.g]\narea = a\nname = G\n[indicator:i]"), 9,
             "focus area 'a.g' has no indicators");
    /* A section with no keys at all is still seen (inih never reports it). */
    s_refuse(s_subst("[indicator:i]", "[area:b]\n[indicator:i]"), 9, "missing field 'name'");
    s_refuse(s_subst("[indicator:i]", "[focus:a.g]\n\n; nothing\n[indicator:i]"), 9,
             "missing field 'area' in [focus:a.g]");
}

static void test_refuse_bad_names(void **state)
{
    s_refuse(s_subst("version = 1", "version = 1\naggregation = harmonic"), 4,
             "aggregation must be arithmetic or geometric, not 'harmonic'");
    s_refuse(s_subst("direction = higher", "direction = up"), 13,
             "direction must be higher or lower, not 'up'");
}

/* Names, units, ids and versions reach tables, JSON and HTML: a control
 * character or invalid UTF-8 in one is refused at its line; and a message
 * that quotes the file's bytes stays one printable line (found by
 * fuzz_framework). */
static void test_refuse_text_that_is_not_text(void **state)
{
    s_refuse(s_subst("name = A", "name = A\x1b[31m"), 5,
             "'name' in [area:a] contains a control character");
    s_refuse(s_subst("unit = %", "unit = \xb5g"), 12,
             "'unit' in [indicator:i] is not valid UTF-8");
    s_refuse(s_subst("version = 1", "version = 1\r2"), 3,
             "'version' in [framework] contains a control character");
    s_refuse(s_subst("max = 100", "max = 1\x01"), 17, "'max' is not a finite number: '1\\x01'");
    s_refuse(s_subst("max = 100", "m\xffx = 1"), 17, "unknown key 'm\\xFFx' in [indicator:i]");
    glci_framework_t *fw = s_load(s_subst("name = A", "name = \xC3\x89tape \xE2\x82\xAC"));
    assert_string_equal(fw->areas[0].name, "\xC3\x89tape \xE2\x82\xAC");
    glci_framework_free(&fw);
    /* a line separator pasted into a name is taken, as it was before other
     * texts refused it: a store embedding such a framework still opens */
    fw = s_load(s_subst("name = A", "name = A\xE2\x80\xA8" "B"));
    assert_string_equal(fw->areas[0].name, "A\xE2\x80\xA8" "B");
    glci_framework_free(&fw);
    assert_null(glci_utf8_problem_framework("one\xE2\x80\xA9two"));
    assert_non_null(glci_utf8_problem_framework("one\x01two"));
}

static void test_refuse_framework_settings(void **state)
{
    s_refuse(s_subst("version = 1", "version = 1\nmin_coverage = 1.5"), 4,
             "min_coverage must be in [0, 1]");
    s_refuse(s_subst("version = 1", "version = 1\nmin_coverage = -0.1"), 4,
             "min_coverage must be in [0, 1]");
    s_refuse(s_subst("version = 1", "version = 1\ncarry_forward = -1"), 4,
             "carry_forward must not be negative");
    s_refuse(s_subst("version = 1", "version = 1\nfirst_period = 2050\nlast_period = 2040"), 5,
             "first_period 2050 is after last_period 2040");
    s_refuse(s_subst("version = 1", "version = 1\nfirst_period = 2200"), 4,
             "first_period 2200 is after last_period 2100");
    s_refuse(s_subst("version = 1", "version = 1\nlast_period = 0"), 4,
             "'last_period' must be in");
}

/* The reporting cycle's keys (SPEC §7): defaults, values, the hash only
 * when set, each bad value refused at its line. */
static void test_cycle_keys(void **state)
{
    glci_framework_t *a = s_load(s_base);
    assert_int_equal(a->cadence, 1);
    assert_int_equal(a->due_month, 3);
    assert_int_equal(a->due_day, 31);
    assert_int_equal(a->future_periods, 0);
    assert_int_equal(a->cycle_set, 0);
    glci_framework_t *b = s_load(s_subst("version = 1", "version = 1\ncadence = 2\n"
                                                        "due = 06-30\nfuture_periods = 1"));
    assert_int_equal(b->cadence, 2);
    assert_int_equal(b->due_month, 6);
    assert_int_equal(b->due_day, 30);
    assert_int_equal(b->future_periods, 1);
    assert_string_not_equal(a->hash_hex, b->hash_hex);
    /* set to its default, a key still enters the hash; each key alone does */
    const char *alone[] = {"version = 1\ncadence = 1", "version = 1\ndue = 03-31",
                           "version = 1\nfuture_periods = 0"};
    char seen[3][65];
    for (int k = 0; k < 3; k++) {
        glci_framework_t *c = s_load(s_subst("version = 1", alone[k]));
        assert_string_not_equal(a->hash_hex, c->hash_hex);
        snprintf(seen[k], sizeof seen[k], "%s", c->hash_hex);
        glci_framework_free(&c);
    }
    assert_string_not_equal(seen[0], seen[1]);
    assert_string_not_equal(seen[1], seen[2]);
    assert_string_not_equal(seen[0], seen[2]);
    glci_framework_free(&a);
    glci_framework_free(&b);

    s_refuse(s_subst("version = 1", "version = 1\ncadence = 0"), 4,
             "'cadence' must be in [1, 100]");
    s_refuse(s_subst("version = 1", "version = 1\ncadence = two"), 4,
             "'cadence' is not an integer: 'two'");
    s_refuse(s_subst("version = 1", "version = 1\nfuture_periods = -1"), 4,
             "'future_periods' must be in [0, 100]");
    s_refuse(s_subst("version = 1", "version = 1\ndue = 3-31"), 4,
             "due must be a day of the year as MM-DD (e.g. 03-31), not '3-31'");
    s_refuse(s_subst("version = 1", "version = 1\ndue = 13-01"), 4,
             "due 13-01 is not a day of the year (MM-DD)");
    s_refuse(s_subst("version = 1", "version = 1\ndue = 04-31"), 4,
             "due 04-31 is not a day of the year");
    s_refuse(s_subst("version = 1", "version = 1\ndue = 02-29"), 4,
             "due 02-29 is not a day of every year (use 02-28 or 03-01)");
    s_refuse(s_subst("version = 1", "version = 1\ncadence = 2\ncadence = 3"), 5,
             "duplicate key 'cadence' (first on line 4)");
}

/* Rounds, due days, statuses, the future rule and the default-period rule
 * (index/glci_cycle.c). */
static void test_cycle_rules(void **state)
{
    glci_framework_t *fw = s_load(s_subst("version = 1", "version = 1\ncadence = 2\n"
                                                         "future_periods = 1"));
    const int64_t dec2026 = 1796083200;                  /* 2026-12-01T00:00:00Z */
    const int64_t mar2025 = 1743379200;                  /* 2025-03-31T00:00:00Z */
    int32_t P = 0;
    assert_int_equal(glci_utc_year(dec2026), 2026);
    assert_int_equal(glci_round_current(fw, dec2026, &P), 0);
    assert_int_equal(P, 2024);                 /* rounds 2000, 2002, ...; 2025 has ended */
    assert_true(glci_round_is(fw, 2024) && !glci_round_is(fw, 2025));
    assert_int_equal(glci_round_due(fw, 2024), mar2025);
    char due[16];
    glci_round_due_text(fw, 2024, due, sizeof due);
    assert_string_equal(due, "2025-03-31");
    assert_false(glci_round_past_due(fw, 2024, mar2025 + 86399));   /* the due day itself */
    assert_true(glci_round_past_due(fw, 2024, mar2025 + 86400));
    assert_int_equal(glci_round_current(fw, 946684800 /* 2000-01-01 */, &P), GLCI_INDEX_EINVAL);

    char msg[128];
    assert_int_equal(glci_framework_check_future(fw, 2027, dec2026, msg, sizeof msg),
                     GLCI_REJECT_NONE);               /* future_periods = 1 */
    assert_int_equal(glci_framework_check_future(fw, 2028, dec2026, msg, sizeof msg),
                     GLCI_REJECT_FUTURE);
    assert_string_equal(msg, "period 2028 is in the future (at most 2027 on 2026-12-01)");

    glci_result_t *r = malloc(glci_result_size(fw));
    glci_result_init(fw, r, 2025);
    uint32_t rep = 9;
    assert_int_equal(glci_round_status(fw, NULL, &rep), GLCI_ROUND_MISSING);
    assert_int_equal(rep, 0);
    assert_int_equal(glci_index_apply(fw, r, 0, 2024, 50), 1);       /* carried only */
    assert_int_equal(glci_round_status(fw, r, &rep), GLCI_ROUND_MISSING);
    assert_true(r->has_index && !glci_result_reported(fw, r));
    assert_int_equal(glci_index_apply(fw, r, 0, 2025, 60), 1);
    assert_int_equal(glci_round_status(fw, r, &rep), GLCI_ROUND_COMPLETE);
    assert_true(glci_result_reported(fw, r));
    assert_string_equal(glci_round_status_str(GLCI_ROUND_PARTIAL), "partial");
    free(r);

    /* the chooser: half of the active, else any, else the latest */
    glci_period_count_t c[3] = {{2026, 1, 1}, {2025, 2, 3}, {2024, 4, 4}};
    glci_period_choice_t ch;
    assert_int_equal(glci_period_choose(c, 3, 4, &ch), 0);
    assert_int_equal(ch.period, 2025);
    assert_int_equal(ch.rule, GLCI_PERIOD_HALF);
    assert_int_equal(glci_period_choose(c, 3, 9, &ch), 0);
    assert_int_equal(ch.period, 2026);
    assert_int_equal(ch.rule, GLCI_PERIOD_ANY_INDEX);
    char line[200];
    glci_period_rule_text(&ch, line, sizeof line);
    assert_string_equal(line, "period 2026: the latest in which any city has reported an "
                              "index (in none have half of the 9 active cities)");
    glci_period_count_t none[2] = {{2026, 0, 0}, {2025, 0, 0}};
    assert_int_equal(glci_period_choose(none, 2, 3, &ch), 0);
    assert_int_equal(ch.period, 2026);
    assert_int_equal(ch.rule, GLCI_PERIOD_LATEST_DATA);
    assert_string_equal(glci_period_rule_str(ch.rule), "latest_with_data");
    assert_int_equal(glci_period_choose(none, 0, 3, &ch), GLCI_INDEX_EINVAL);
    glci_period_count_t revoked[1] = {{2025, 0, 2}};     /* no active city at all */
    assert_int_equal(glci_period_choose(revoked, 1, 0, &ch), 0);
    assert_int_equal(ch.rule, GLCI_PERIOD_ANY_INDEX);
    glci_framework_free(&fw);
}

static void test_refuse_long_line(void **state)
{
    char name[400], line[420];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(line, sizeof line, "name = %s", name);
    s_refuse(s_subst("name = I", line), 11, "line too long");
    /* 197 bytes is the limit: accepted at it, refused one past it. */
    char at[200];
    memset(at, 'y', sizeof at);
    memcpy(at, "name = ", 7);
    at[197] = '\0';
    glci_framework_t *fw = s_load(s_subst("name = I", at));
    assert_int_equal(strlen(fw->ind[0].name), 190);
    glci_framework_free(&fw);
    at[197] = 'y';
    at[198] = '\0';
    s_refuse(s_subst("name = I", at), 11, "line too long (198 bytes, at most 197)");
    /* A comment line is no exception. */
    snprintf(line, sizeof line, "; %s\nname = I", name);
    s_refuse(s_subst("name = I", line), 11, "line too long");
}

static void test_refuse_syntax(void **state)
{
    s_refuse(s_subst("name = I", "name I"), 11, "syntax error");
    s_refuse(s_subst("[area:a]", "[area:a"), 4, "without closing ']'");
    s_refuse(s_subst("[area:a]", "[area:a] trailing"), 4, "unexpected text after ']'");
    s_refuse(s_subst("name = I", "= I"), 11, "");
    char t[1024];
    memcpy(t, s_base, sizeof s_base);
    t[30] = '\0';                               /* a NUL inside line 3 */
    glci_framework_t *fw = NULL;
    char err[256];
    assert_int_equal(glci_framework_load_text(t, sizeof s_base - 1, "t.ini", &fw, err,
                                              sizeof err), GLCI_INDEX_EPARSE);
    assert_non_null(strstr(err, "NUL byte"));
    /* the first problem wins, whoever finds it: inih's syntax error on
     * line 8 comes before the reader's long line 11 */
    char longer[260];
    memset(longer, 'z', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    snprintf(t, sizeof t, "%s", s_subst("name = F", "name F"));
    char *at = strstr(t, "name = I");
    assert_non_null(at);
    snprintf(at, sizeof t - (size_t)(at - t), "name = %s\n", longer);
    s_refuse(t, 8, "syntax error");
}

/* ---- Observation checks ------------------------------------------------ */

static void test_check_observation(void **state)
{
    glci_framework_t *fw = s_load(s_subst("[indicator:i]", "[indicator:j]\nfocus = a.f\n"
                                          "name = J\nunit = u\ndirection = lower\nlower = -1\n"
                                          "upper = 1\nmin = -2\nmax = 2\n[indicator:i]"));
    char msg[256];
    uint32_t ind = 99;
    assert_int_equal(glci_framework_check(fw, "i", 2024, 50, &ind, msg, sizeof msg),
                     GLCI_REJECT_NONE);
    assert_int_equal(ind, 1);
    assert_int_equal(glci_framework_check(fw, "j", 2000, -2, &ind, msg, sizeof msg),
                     GLCI_REJECT_NONE);
    assert_int_equal(ind, 0);
    assert_int_equal(glci_framework_check(fw, "i", 2100, 100, &ind, NULL, 0), GLCI_REJECT_NONE);
    assert_int_equal(glci_framework_check(fw, "k", 2024, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_UNKNOWN_INDICATOR);
    assert_string_equal(msg, "unknown indicator 'k'");
    assert_int_equal(glci_framework_check(fw, "i", 2024, 120, &ind, msg, sizeof msg),
                     GLCI_REJECT_OUT_OF_RANGE);
    assert_string_equal(msg, "value 120 outside [0, 100] for i");
    assert_int_equal(glci_framework_check(fw, "j", 2024, -2.5, &ind, msg, sizeof msg),
                     GLCI_REJECT_OUT_OF_RANGE);
    assert_int_equal(glci_framework_check(fw, "i", 2024, NAN, &ind, msg, sizeof msg),
                     GLCI_REJECT_NOT_FINITE);
    assert_int_equal(glci_framework_check(fw, "i", 2024, INFINITY, &ind, msg, sizeof msg),
                     GLCI_REJECT_NOT_FINITE);
    assert_int_equal(glci_framework_check(fw, "i", 2024, -INFINITY, &ind, msg, sizeof msg),
                     GLCI_REJECT_NOT_FINITE);
    assert_int_equal(glci_framework_check(fw, "i", 1999, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_BAD_PERIOD);
    assert_non_null(strstr(msg, "period 1999 outside [2000, 2100]"));
    assert_int_equal(glci_framework_check(fw, "i", 2101, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_BAD_PERIOD);
    assert_int_equal(glci_framework_check(fw, "i", INT64_MIN, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_BAD_PERIOD);
    assert_int_equal(glci_framework_check(fw, "", 2024, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_MALFORMED);
    assert_int_equal(glci_framework_check(fw, NULL, 2024, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_MALFORMED);
    char longid[100];
    memset(longid, 'i', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    /* Not in the framework, however long: unknown, echoed cut after 64. */
    assert_int_equal(glci_framework_check(fw, longid, 2024, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_UNKNOWN_INDICATOR);
    assert_non_null(strstr(msg, "iiii...'"));
    longid[64] = '\0';
    assert_int_equal(glci_framework_check(fw, longid, 2024, 1, &ind, msg, sizeof msg),
                     GLCI_REJECT_UNKNOWN_INDICATOR);
    assert_null(strstr(msg, "..."));
    /* Bytes that are not printable UTF-8 are echoed as \xNN. */
    assert_int_equal(glci_framework_check(fw, "k\x01\xff\xC3\xA9", 2024, 1, &ind, msg,
                                          sizeof msg), GLCI_REJECT_UNKNOWN_INDICATOR);
    assert_string_equal(msg, "unknown indicator 'k\\x01\\xFF\xC3\xA9'");
    /* A short buffer is never cut inside a character or an escape. */
    char small[40];
    assert_int_equal(glci_framework_check(fw, "\xC3\xA9\x01\x02\x03\x04\x05\x06", 2024, 1,
                                          &ind, small, sizeof small),
                     GLCI_REJECT_UNKNOWN_INDICATOR);
    assert_null(glci_utf8_problem(small));
    assert_string_equal(glci_reject_str(GLCI_REJECT_UNKNOWN_INDICATOR), "unknown indicator");
    assert_string_equal(glci_reject_str(GLCI_REJECT_NOT_FINITE), "value is not finite");
    assert_string_equal(glci_reject_str(GLCI_REJECT_OUT_OF_RANGE), "value out of range");
    assert_string_equal(glci_reject_str(GLCI_REJECT_BAD_PERIOD), "period out of range");
    assert_string_equal(glci_reject_str(GLCI_REJECT_MALFORMED), "malformed observation");
    glci_framework_free(&fw);
}

static void test_utf8_text(void **state)
{
    (void)state;
    char out[64];
    assert_null(glci_utf8_problem(""));
    assert_null(glci_utf8_problem("plain ascii ~"));
    assert_null(glci_utf8_problem("Saint-\xC3\x89tienne \xE2\x82\xAC \xF0\x9F\x98\x80"));
    assert_string_equal(glci_utf8_problem("tab\there"), "contains a control character");
    assert_string_equal(glci_utf8_problem("del\x7f"), "contains a control character");
    assert_string_equal(glci_utf8_problem("nel\xC2\x85"), "contains a control character");
    assert_string_equal(glci_utf8_problem("cut\xC3"), "is not valid UTF-8");
    assert_string_equal(glci_utf8_problem("\xC0\xAF"), "is not valid UTF-8");    /* overlong */
    assert_string_equal(glci_utf8_problem("\xED\xA0\x80"), "is not valid UTF-8"); /* surrogate */
    assert_string_equal(glci_utf8_problem("\xF4\x90\x80\x80"), "is not valid UTF-8");
    assert_string_equal(glci_utf8_problem("\xff and \x01"), "contains a control character");
    static const char *const seps[] = {"one\xE2\x80\xA8two", "one\xE2\x80\xA9two"};
    for (size_t i = 0; i < 2; i++) {
        const char *why = glci_utf8_problem(seps[i]);
        assert_non_null(why);
        assert_string_equal(why, "contains a line or paragraph separator (U+2028, U+2029)");
    }
    assert_true(glci_utf8_valid("one\xE2\x80\xA8two\xE2\x80\xA9", 12));
    assert_int_equal(glci_utf8_escape("a\xE2\x80\xA8" "b", 100, out, sizeof out), 14);
    assert_string_equal(out, "a\\xE2\\x80\\xA8b");

    assert_int_equal(glci_utf8_escape("a\x01" "b\xff\xC3\xA9", 100, out, sizeof out), 12);
    assert_string_equal(out, "a\\x01b\\xFF\xC3\xA9");
    assert_null(glci_utf8_problem(out));
    /* max_in bounds the input; a cut sequence is escaped. */
    glci_utf8_escape("\xC3\xA9xyz", 1, out, sizeof out);
    assert_string_equal(out, "\\xC3");
    /* outlen: never cut inside an escape or a character. */
    glci_utf8_escape("ab\x01", 100, out, 5);
    assert_string_equal(out, "ab");
    glci_utf8_escape("a\xE2\x82\xAC", 100, out, 4);
    assert_string_equal(out, "a");
    glci_utf8_escape("x", 100, out, 1);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_framework),
        cmocka_unit_test(test_defaults_and_order),
        cmocka_unit_test(test_many_ids_lookup),
        cmocka_unit_test(test_hash_is_canonical),
        cmocka_unit_test(test_text_need_not_be_terminated),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_load_file_not_a_framework_file),
        cmocka_unit_test(test_refuse_unknown_key),
        cmocka_unit_test(test_refuse_duplicate_key),
        cmocka_unit_test(test_refuse_key_outside_section),
        cmocka_unit_test(test_refuse_unknown_section_kind),
        cmocka_unit_test(test_refuse_missing_field),
        cmocka_unit_test(test_refuse_missing_framework),
        cmocka_unit_test(test_refuse_duplicate_id),
        cmocka_unit_test(test_refuse_dangling_reference),
        cmocka_unit_test(test_refuse_goalposts),
        cmocka_unit_test(test_refuse_non_numeric),
        cmocka_unit_test(test_refuse_weight),
        cmocka_unit_test(test_refuse_too_many_indicators),
        cmocka_unit_test(test_refuse_huge_unit_numbers),
        cmocka_unit_test(test_largest_goalposts_score),
        cmocka_unit_test(test_refuse_empty_area_or_focus),
        cmocka_unit_test(test_refuse_bad_names),
        cmocka_unit_test(test_refuse_text_that_is_not_text),
        cmocka_unit_test(test_refuse_framework_settings),
        cmocka_unit_test(test_cycle_keys),
        cmocka_unit_test(test_cycle_rules),
        cmocka_unit_test(test_refuse_long_line),
        cmocka_unit_test(test_refuse_syntax),
        cmocka_unit_test(test_check_observation),
        cmocka_unit_test(test_utf8_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
