/* The report's text as people read it, from the real glci: city names in
 * Arabic and Hebrew, the longest names a city may have, lines that hold
 * more than fits, the footer that names the table, and the site's layout. A store of the
 * shipped framework with every indicator of 2025 for six cities:
 *
 *   metro-br   a 70-byte Latin name with spaces
 *   rtl-xx     "مدينة التعلم · עיר הלמידה", Arabic and Hebrew
 *   long-xx    a 127-byte name, the longest the store takes
 *   llan-gb    a 116-byte name without a space (the village's, twice)
 *   low-a      weak everywhere, so its peers' lines overflow
 *   high-b     strong everywhere
 *
 * The PDFs are read back with poppler (pdftotext), the site's layout is
 * measured in headless Chromium (tests/integration/report_check.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_testsupport.h"
#include "test_cli_support.h"

#define S_PYTHON "/usr/bin/python3"

typedef struct {
    char dir[128];
    char store[160];
    char check[1024];       /* report_check.py */
    char glci[1024];
} fixture_t;

#define S_RTL_NAME "\xd9\x85\xd8\xaf\xd9\x8a\xd9\x86\xd8\xa9 \xd8\xa7\xd9\x84\xd8\xaa\xd8\xb9" \
    "\xd9\x84\xd9\x85 \xc2\xb7 \xd7\xa2\xd7\x99\xd7\xa8 \xd7\x94\xd7\x9c\xd7\x9e\xd7\x99\xd7\x93\xd7\x94"
#define S_METRO_NAME "Metropolitan Region of the Municipality of S\xc3\xa3o Jos\xc3\xa9 dos Campos"
#define S_LLAN "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"

static const char *const s_cities[][3] = {
    {"metro-br", S_METRO_NAME, "BR"},
    {"rtl-xx", S_RTL_NAME, "XX"},
    /* 127 bytes, the longest name the store takes */
    {"long-xx", "The Greater Metropolitan Learning Region of the Twin Cities of Northern "
                "Riverside and Southern Harbourside upon the Sea of Azov", "XX"},
    {"llan-gb", S_LLAN S_LLAN, "GB"},
    {"low-a", "Low A", "AA"},
    {"high-b", "High B", "BB"},
};
#define S_N_CITIES (sizeof s_cities / sizeof s_cities[0])

/* Where in [min, upper or lower] city c's value of indicator i lies: low-a
 * near the worst goalpost, high-b near the best, the others between. */
static double s_value(const glci_indicator_t *ind, size_t c, uint32_t i)
{
    double t;
    if (strcmp(s_cities[c][0], "low-a") == 0)
        t = 0.05;
    else if (strcmp(s_cities[c][0], "high-b") == 0)
        t = 0.95;
    else
        t = 0.2 + 0.6 * (double)((c * 7 + i * 13) % 11) / 10.0;
    if (ind->min == 0 && ind->max == 1)
        return t > 0.5;
    double worst = ind->lower, best = ind->upper;
    if (glci_indicator_better(ind, ind->lower, ind->upper) > 0) {
        worst = ind->upper;
        best = ind->lower;
    }
    /* a number that needs all 17 digits to read back the same */
    return worst + (best - worst) * t + (best - worst) * 1e-9 / 3.0;
}

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    cli_tmpdir(f->dir, sizeof f->dir);
    snprintf(f->store, sizeof f->store, "%s/store", f->dir);
    glci_store_t *st = cli_store_create(f->store, getenv("GLCI_FRAMEWORK"), 0);
    const glci_framework_t *fw = glci_store_framework(st);
    cli_obs_t *obs = calloc(fw->n_ind, sizeof *obs);
    assert_non_null(obs);
    for (size_t c = 0; c < S_N_CITIES; c++) {
        assert_true(strlen(s_cities[c][1]) <= 127);
        cli_city_add(st, s_cities[c][0], s_cities[c][1], s_cities[c][2]);
        for (uint32_t i = 0; i < fw->n_ind; i++)
            obs[i] = (cli_obs_t){fw->ind[i].id, 2025, s_value(&fw->ind[i], c, i)};
        cli_ingest(st, s_cities[c][0], 1, obs, fw->n_ind, 1764000000 + (int64_t)c);
    }
    free(obs);
    glci_store_close(&st);
    const char *src = getenv("GLCI_SOURCE_DIR"), *bin = getenv("GLCI_BIN_DIR");
    assert_non_null(src);
    assert_non_null(bin);
    snprintf(f->check, sizeof f->check, "%s/tests/integration/report_check.py", src);
    snprintf(f->glci, sizeof f->glci, "%s/cli/glci", bin);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    cli_rmdir(f->dir);
    free(f);
    return 0;
}

/* Runs report_check.py with args (NULL-terminated); prints its output when
 * it fails. Returns its exit status. */
static int s_check(const fixture_t *f, ...)
{
    const char *argv[32] = {S_PYTHON, f->check};
    size_t n = 2;
    va_list ap;
    va_start(ap, f);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    /* an upper bound for a loaded machine, never a speed check */
    int status = glci_ts_run(argv, NULL, 600000, &out, &err);
    if (status != 0)
        print_error("report_check.py %s: exit %d\n%s%s\n", argv[2], status, out ? out : "",
                    err ? err : "");
    free(out);
    free(err);
    return status;
}

/* Writes city id's profile to DIR/ID.pdf (path into pdf) with the extra
 * options (NULL-terminated). */
static void s_profile(const fixture_t *f, const char *id, char *pdf, size_t len, ...)
{
    const char *argv[16] = {"--store", f->store, "report", "--city", id, "--pdf", pdf};
    size_t n = 7;
    va_list ap;
    va_start(ap, len);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 15)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    snprintf(pdf, len, "%s/%s.pdf", f->dir, id);
    cli_out_t o;
    assert_int_equal(cli_runv(&o, argv), 0);
    cli_out_release(&o);
}

/* Every city's profile names it whole, in the order it is stored: the
 * Arabic and Hebrew name as typed, not mirrored; the 127-byte one and the
 * one without spaces wrapped over the title's lines, never cut. */
static void test_profile_names(void **state)
{
    fixture_t *f = *state;
    for (size_t c = 0; c < S_N_CITIES; c++) {
        char pdf[300];
        s_profile(f, s_cities[c][0], pdf, sizeof pdf, NULL);
        assert_int_equal(s_check(f, "pdf-text", pdf, "--glci", f->glci, "--store", f->store,
                                 "--city", s_cities[c][0], NULL), 0);
    }
}

/* "Whom to learn from": low-a is below the median everywhere, so its
 * leading cities do better in more indicators than a line holds; each
 * line shows whole indicators (name, value, unit, this city's value) and
 * how many more, never one cut short. rtl-xx's lines carry an Arabic and
 * Hebrew leader name among Latin text. */
static void test_profile_peers_whole(void **state)
{
    fixture_t *f = *state;
    const char *cities[] = {"low-a", "rtl-xx"};
    for (size_t k = 0; k < 2; k++) {
        char pdf[300];
        s_profile(f, cities[k], pdf, sizeof pdf, NULL);
        assert_int_equal(s_check(f, "pdf-text", pdf, "--glci", f->glci, "--store", f->store,
                                 "--city", cities[k], "--peers-whole", NULL), 0);
    }
}

/* The footer names the table whole on both pages: an edition with the
 * longest name an edition may have, and a table as of a time. */
static void test_profile_footer(void **state)
{
    fixture_t *f = *state;
    /* 63 bytes, GLCI_EDITION_NAME_MAX */
    const char *ed = "e2025-final-after-corrections-of-march-and-the-review-of-may-jn";
    assert_int_equal(strlen(ed), 63);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", f->store, "edition", "publish", ed, "--period",
                             "2025", NULL), 0);
    cli_out_release(&o);
    char pdf[300];
    s_profile(f, "metro-br", pdf, sizeof pdf, "--edition", ed, NULL);
    assert_int_equal(s_check(f, "pdf-text", pdf, "--glci", f->glci, "--store", f->store,
                             "--city", "metro-br", "--edition", ed, NULL), 0);
    /* now: the cities were registered today */
    char as_of[32];
    time_t now = time(NULL);
    struct tm tm;
    assert_int_equal(strftime(as_of, sizeof as_of, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm)),
                     20);
    s_profile(f, "rtl-xx", pdf, sizeof pdf, "--as-of", as_of, NULL);
    assert_int_equal(s_check(f, "pdf-text", pdf, "--glci", f->glci, "--store", f->store,
                             "--city", "rtl-xx", "--as-of", as_of, NULL), 0);
}

/* Every time the page holds the name as text (after a tag), it is inside
 * <bdi>; in attributes it stands as it is. */
static void s_no_bare_name(const char *page)
{
    for (const char *at = strstr(page, ">" S_RTL_NAME); at; at = strstr(at + 1, ">" S_RTL_NAME))
        if (at - page < 4 || strncmp(at - 4, "<bdi>", 5) != 0)
            fail_msg("the name without <bdi>: %.120s", at - page > 60 ? at - 60 : page);
}

/* A right-to-left name is marked as an isolate wherever the site prints
 * it as text (<bdi>), so it never reorders the rank, the country or the
 * words beside it: in the league table, and on its city page as the
 * heading and (between FSI and PDI, a title holding no markup) in the
 * title. */
static void test_site_rtl_isolated(void **state)
{
    fixture_t *f = *state;
    char site[300], path[400];
    snprintf(site, sizeof site, "%s/site-rtl", f->dir);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", f->store, "report", "--out", site, NULL), 0);
    cli_out_release(&o);
    snprintf(path, sizeof path, "%s/index.html", site);
    char *index = glci_ts_read_file(path);
    assert_non_null(index);
    assert_non_null(strstr(index, "<a href=\"city-rtl-xx.html\"><bdi>" S_RTL_NAME
                                  "</bdi></a>"));
    s_no_bare_name(index);
    free(index);
    snprintf(path, sizeof path, "%s/city-rtl-xx.html", site);
    char *page = glci_ts_read_file(path);
    assert_non_null(page);
    assert_non_null(strstr(page, "<h1><bdi>" S_RTL_NAME "</bdi></h1>"));
    assert_non_null(strstr(page, "<title>\xe2\x81\xa8" S_RTL_NAME "\xe2\x81\xa9: "));
    s_no_bare_name(page);
    free(page);
}

/* The site with every name: no heading, caption or cell runs off its
 * box, and the league table's numbers stay in sight beside a name of 116
 * letters without a space (measured in Chromium, report_check.py). */
static void test_site_layout(void **state)
{
    fixture_t *f = *state;
    char site[300];
    snprintf(site, sizeof site, "%s/site", f->dir);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", f->store, "report", "--out", site, NULL), 0);
    cli_out_release(&o);
    assert_int_equal(s_check(f, "layout", "--glci", f->glci, "--store", f->store, "--report",
                             site, NULL), 0);
}

/* The xlsx template's input messages (Excel takes 255 characters) with
 * indicator names far longer: the name is shortened at a word boundary
 * with "…", and the unit, the valid range and the city's last value are
 * always there; the entry starts with no value, not even the city's own
 * for the round (report_check.py template-xlsx). */
static void test_template_long_names(void **state)
{
    fixture_t *f = *state;
    char fw[300], store[300], t[300];
    snprintf(fw, sizeof fw, "%s/long-names.ini", f->dir);
    snprintf(store, sizeof store, "%s/long-names", f->dir);
    snprintf(t, sizeof t, "%s/long-names.xlsx", f->dir);
    /* a name line takes at most 197 bytes, so a name about 190: with a
     * long unit and range that is more than a message holds */
    static const char *const names[] = {
        /* 183 bytes of words */
        "Share of residents aged 15 and over who took part in any organised learning "
        "activity, formal or non-formal, in the twelve months before the survey, counted "
        "once however many they took",
        /* 184 letters without a space */
        "Participationinorganisedlearningactivitiesformalornonformalinthetwelvemonthsbefore"
        "thesurveycountedoncehowevermanyactivitiestheytookpartinasthecitysownhouseholdsurvey"
        "oflearningandpartic",
        "Public libraries per 100,000 residents",
    };
    FILE *out = fopen(fw, "w");
    assert_non_null(out);
    fprintf(out, "[framework]\nid = long-names\nversion = 1\nmin_coverage = 0.5\n\n"
            "[area:a]\nname = Area\n\n[focus:a.f]\narea = a\nname = Focus\n");
    for (size_t i = 0; i < 3; i++)
        fprintf(out, "\n[indicator:ind_%zu]\nfocus = a.f\nname = %s\nunit = hours of "
                "organised learning per 1,000 residents aged 15 and over\ndirection = higher\n"
                "lower = 0\nupper = 100000\nmin = 0\nmax = 1000000\n", i, names[i]);
    assert_int_equal(fclose(out), 0);
    glci_store_t *st = cli_store_create(store, fw, 0);
    cli_city_add(st, "cork-ie", "Cork", "IE");
    cli_obs_t obs[] = {{"ind_0", 2025, 55.085231131998725}, {"ind_1", 2024, 12.5},
                       {"ind_2", 2025, 3}};
    cli_ingest(st, "cork-ie", 1, obs, 3, 1764000000);
    glci_store_close(&st);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "--format", "xlsx", "template", "--city",
                             "cork-ie", "--period", "2025", "--out", t, NULL), 0);
    cli_out_release(&o);
    assert_int_equal(s_check(f, "template-xlsx", t, "--glci", f->glci, "--store", store,
                             "--period", "2025", "--city", "cork-ie", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_names),
        cmocka_unit_test(test_profile_peers_whole),
        cmocka_unit_test(test_profile_footer),
        cmocka_unit_test(test_site_layout),
        cmocka_unit_test(test_site_rtl_isolated),
        cmocka_unit_test(test_template_long_names),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
