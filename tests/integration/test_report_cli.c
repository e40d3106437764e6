/* glci report, export --format xlsx and template, as the real binary, on a
 * demo-sized store (the shipped framework, twelve cities, 2021-2025) built
 * through the store API: cities with every value, with carried values,
 * one unranked, one active with no data, one revoked with data and one
 * revoked without, one at the best goalpost everywhere (no focus area
 * below the median, so no one to learn from), names with characters HTML
 * must escape, sources marked synthetic.
 *
 * What the files hold is checked by tests/integration/report_check.py with
 * Debian's /usr/bin/python3 against the same binary's JSON: every page in
 * headless Chromium (no console error, no request off the machine, charts
 * loaded, numbers and lights equal to `glci show`, trend classes to `glci
 * trend`, peers to `glci peers`, sorting and filter), the PDF through
 * poppler (two A4 pages, not blank, its peers in the text), the workbook
 * through openpyxl
 * (equal to `glci export --format json`, `glci history`, `glci
 * framework`). A missing browser or tool fails the test: the set-up script
 * installs them. Bad input to each command is checked here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glci_testsupport.h"
#include "glci_text.h"
#include "test_cli_support.h"

#define S_PYTHON "/usr/bin/python3"
#define S_FIRST 2021
#define S_LAST 2025

typedef struct {
    char dir[128];
    char store[160];
    char check[1024];       /* report_check.py */
    char glci[1024];
} fixture_t;

static const char *const s_cities[][3] = {
    {"amman-jo", "Amman", "JO"},          {"aswan-eg", "Aswan", "EG"},
    {"cork-ie", "Cork <Corcaigh> & \"Co\"", "IE"},
    {"dublin-ie", "Dublin", "IE"},         {"espoo-fi", "Espoo", "FI"},
    {"hangzhou-cn", "Hangzhou", "CN"},     {"larissa-gr", "Larissa", "GR"},
    {"mannheim-de", "Mannheim", "DE"},     {"medellin-co", "Medellín", "CO"},
    {"melton-au", "Melton", "AU"},         {"pecs-hu", "Pécs", "HU"},
    {"suwon-kr", "Suwon", "KR"},           {"zurich-ch", "Zürich", "CH"},
};
#define S_N_CITIES (sizeof s_cities / sizeof s_cities[0])
/* medellin-co: too few values to be ranked; suwon-kr: active, no data;
 * melton-au: revoked after its data; dublin-ie: revoked, no data;
 * zurich-ch: every value at the goalpost that scores 100. */

static double s_value(const glci_indicator_t *ind, size_t city, uint32_t i, int32_t p)
{
    if (strcmp(s_cities[city][0], "zurich-ch") == 0)
        return glci_indicator_better(ind, ind->lower, ind->upper) > 0 ? ind->lower : ind->upper;
    unsigned k = (unsigned)(city * 7 + i * 13 + (unsigned)p * 3) % 97;
    if (ind->min == 0 && ind->max == 1)
        return k > 40;
    double hi = ind->max < ind->upper * 1.5 ? ind->max : ind->upper * 1.5;
    if (ind->lower > ind->upper)
        hi = ind->lower * 1.2 < ind->max ? ind->lower * 1.2 : ind->max;
    return ind->min + (hi - ind->min) * (double)k / 97.0;
}

/* Fills a store: synthetic says what the sources say. */
static void s_fill(const char *store, int synthetic)
{
    glci_store_t *st = cli_store_create(store, getenv("GLCI_FRAMEWORK"), 0);
    const glci_framework_t *fw = glci_store_framework(st);
    for (size_t c = 0; c < S_N_CITIES; c++)
        cli_city_add(st, s_cities[c][0], s_cities[c][1], s_cities[c][2]);
    glci_obs_t *obs = calloc(fw->n_ind, sizeof *obs);
    assert_non_null(obs);
    uint64_t seq = 0;
    for (int32_t p = S_FIRST; p <= S_LAST; p++) {
        seq++;
        for (size_t c = 0; c < S_N_CITIES; c++) {
            const char *id = s_cities[c][0];
            if (strcmp(id, "suwon-kr") == 0 || strcmp(id, "dublin-ie") == 0)
                continue;
            size_t n = 0;
            for (uint32_t i = 0; i < fw->n_ind; i++) {
                /* espoo: the last indicators only every other year (carried in 2025);
                 * medellin: a third of them; aswan: a year of gaps */
                if (strcmp(id, "espoo-fi") == 0 && i >= fw->n_ind - 6 && p % 2 == 1)
                    continue;
                if (strcmp(id, "medellin-co") == 0 && i % 3 != 0)
                    continue;
                if (strcmp(id, "aswan-eg") == 0 && p == 2023)
                    continue;
                obs[n++] = (glci_obs_t){.indicator = fw->ind[i].id, .period = p,
                                        .value = s_value(&fw->ind[i], c, i, p),
                                        .observed_at = 1609459200 + (p - S_FIRST) * 31536000LL,
                                        .source = synthetic ? "synthetic test data"
                                                            : "city statistics office",
                                        .has_period = 1, .has_value = 1};
            }
            glci_batch_t b = {.city = id, .stream = 7, .seq = seq, .obs = obs, .n_obs = n};
            glci_batch_result_t r = {0};
            assert_int_equal(glci_store_ingest(st, &b, 1, 1764000000 + p, &r), 0);
            assert_int_equal(r.status, GLCI_BATCH_APPLIED);
            assert_int_equal(r.n_rejections, 0);
            glci_batch_result_release(&r);
        }
    }
    /* a revision, so the values sheet has a row that is not current */
    glci_obs_t rev = {.indicator = fw->ind[0].id, .period = S_LAST, .value = 1.5,
                      .source = synthetic ? "synthetic revision" : "correction",
                      .has_period = 1, .has_value = 1};
    glci_batch_t b = {.city = "cork-ie", .stream = 7, .seq = seq + 1, .obs = &rev, .n_obs = 1};
    glci_batch_result_t r = {0};
    assert_int_equal(glci_store_ingest(st, &b, 1, 1764100000, &r), 0);
    glci_batch_result_release(&r);
    assert_int_equal(glci_store_city_revoke(st, "melton-au", NULL, 0), 0);
    assert_int_equal(glci_store_city_revoke(st, "dublin-ie", NULL, 0), 0);
    free(obs);
    glci_store_close(&st);
}

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    cli_tmpdir(f->dir, sizeof f->dir);
    snprintf(f->store, sizeof f->store, "%s/store", f->dir);
    s_fill(f->store, 1);
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

/* Runs report_check.py with args (NULL-terminated); prints its stderr when
 * it fails. Returns its exit status. */
static int s_check(const fixture_t *f, ...)
{
    const char *argv[32] = {S_PYTHON, f->check};
    size_t n = 2;
    va_list ap;
    va_start(ap, f);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 29)
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

static char *s_file(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return glci_ts_read_file(path);
}

static int s_exists(const char *dir, const char *name)
{
    char path[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

/* ---- the site ---------------------------------------------------------- */

/* City id has weak focus areas (weak) or none, by `glci peers`, and its
 * page in site shows them or says there are none. */
static void s_expect_peers(const fixture_t *f, const char *site, const char *id, int weak)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", f->store, "--format", "json", "peers", id, NULL), 0);
    assert_int_equal(strstr(o.out, "\"focus\": []") == NULL, weak);
    cli_out_release(&o);
    char name[128];
    snprintf(name, sizeof name, "city-%s.html", id);
    char *page = s_file(site, name);
    assert_non_null(page);
    assert_int_equal(strstr(page, "class=\"peer-focus\"") != NULL, weak);
    assert_int_equal(strstr(page, "id=\"no-weak\"") == NULL, weak);
    free(page);
}

static void test_report_site_in_browser(void **state)
{
    fixture_t *f = *state;
    char site[300];
    snprintf(site, sizeof site, "%s/site", f->dir);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", f->store, "report", "--out", site, NULL), 0);
    assert_non_null(strstr(o.out, "report 2025: 12 city pages"));
    assert_non_null(strstr(o.out, "index.html"));
    cli_out_release(&o);
    /* the revoked city without data has no page, the revoked one with data has */
    assert_false(s_exists(site, "city-dublin-ie.html"));
    assert_true(s_exists(site, "city-melton-au.html"));
    assert_true(s_exists(site, "city-suwon-kr.html"));
    char *page = s_file(site, "city-cork-ie.html");
    assert_non_null(page);
    assert_null(strstr(page, "<Corcaigh>"));
    assert_non_null(strstr(page, "Cork &lt;Corcaigh&gt; &amp; &quot;Co&quot;"));
    free(page);
    /* the store has cities with and without someone to learn from: the
     * checks below see both kinds of peers section */
    s_expect_peers(f, site, "zurich-ch", 0);
    s_expect_peers(f, site, "aswan-eg", 1);
    const char *shots = getenv("GLCI_REPORT_SHOTS");   /* to keep the screenshots */
    if (shots && *shots)
        assert_int_equal(s_check(f, "browser", "--glci", f->glci, "--store", f->store,
                                 "--report", site, "--synthetic", "yes", "--shots", shots,
                                 NULL), 0);
    else
        assert_int_equal(s_check(f, "browser", "--glci", f->glci, "--store", f->store,
                                 "--report", site, "--synthetic", "yes", NULL), 0);

    /* an earlier period: fewer trend points, same checks */
    snprintf(site, sizeof site, "%s/site-2023", f->dir);
    assert_int_equal(cli_run(&o, "--store", f->store, "report", "--period", "2023", "--out",
                             site, NULL), 0);
    cli_out_release(&o);
    assert_int_equal(s_check(f, "browser", "--glci", f->glci, "--store", f->store, "--report",
                             site, "--period", "2023", "--synthetic", "yes", NULL), 0);
}

static void test_report_pdf(void **state)
{
    fixture_t *f = *state;
    const char *cities[] = {"cork-ie", "medellin-co", "suwon-kr", "espoo-fi", "aswan-eg",
                            "zurich-ch"};
    /* cork has every value (the whole "nothing missing" sentence); suwon
     * none, and its 44 ids fit whole (no peers under them); medellin's 29
     * share the page with three weak focus areas of three peers each, so
     * its list ends "… and N more." */
    const char *cut[] = {"no", "yes", "no", NULL, NULL, "no"};
    for (size_t k = 0; k < 6; k++) {
        char pdf[300];
        snprintf(pdf, sizeof pdf, "%s/%s.pdf", f->dir, cities[k]);
        cli_out_t o;
        assert_int_equal(cli_run(&o, "--store", f->store, "report", "--city", cities[k],
                                 "--pdf", pdf, NULL), 0);
        assert_non_null(strstr(o.out, pdf));
        cli_out_release(&o);
        if (cut[k])
            assert_int_equal(s_check(f, "pdf", pdf, "--glci", f->glci, "--store", f->store,
                                     "--city", cities[k], "--synthetic", "yes",
                                     "--missing-cut", cut[k], NULL), 0);
        else
            assert_int_equal(s_check(f, "pdf", pdf, "--glci", f->glci, "--store", f->store,
                                     "--city", cities[k], "--synthetic", "yes", NULL), 0);
    }
}

/* A framework too large for its missing ids to fit under the table: 12
 * focus areas of 6 indicators with 55-byte ids. sparse reports one
 * indicator per focus area, so 60 are missing: the profile lists the
 * first ones whole and "… and N more." (never an id cut short); full
 * reports all of them. */
static void test_report_pdf_many_missing(void **state)
{
    fixture_t *f = *state;
    char fw[300], store[300];
    snprintf(fw, sizeof fw, "%s/long-ids.ini", f->dir);
    snprintf(store, sizeof store, "%s/long-ids", f->dir);
    FILE *out = fopen(fw, "w");
    assert_non_null(out);
    fprintf(out, "[framework]\nid = long\nversion = 1\nmin_coverage = 0.1\n");
    for (int a = 0; a < 4; a++) {
        fprintf(out, "\n[area:a%d]\nname = Area %d\n", a, a);
        for (int m = 0; m < 3; m++) {
            fprintf(out, "\n[focus:a%d.f%d]\narea = a%d\nname = Focus %d.%d\n", a, m, a, a, m);
            for (int i = 0; i < 6; i++)
                fprintf(out, "\n[indicator:share_of_residents_in_area_%d_focus_%d_measure_%d_of_six]"
                        "\nfocus = a%d.f%d\nname = Measure %d\nunit = %%\ndirection = higher\n"
                        "lower = 0\nupper = 100\nmin = 0\nmax = 100\n", a, m, i, a, m, i);
        }
    }
    assert_int_equal(fclose(out), 0);
    glci_store_t *st = cli_store_create(store, fw, 0);
    const glci_framework_t *fr = glci_store_framework(st);
    assert_int_equal(fr->n_ind, 72);
    cli_city_add(st, "sparse", "Sparse", "IE");
    cli_city_add(st, "full", "Full", "IE");
    cli_obs_t obs[72];
    size_t n = 0;
    for (uint32_t i = 0; i < fr->n_ind; i++)
        if (i % 6 == 0)
            obs[n++] = (cli_obs_t){fr->ind[i].id, 2025, 20};
    cli_ingest(st, "sparse", 1, obs, n, 1764000000);
    for (uint32_t i = 0; i < fr->n_ind; i++)
        obs[i] = (cli_obs_t){fr->ind[i].id, 2025, 70};
    cli_ingest(st, "full", 1, obs, fr->n_ind, 1764000001);
    glci_store_close(&st);

    const char *cities[] = {"sparse", "full"}, *cut[] = {"yes", "no"};
    for (size_t k = 0; k < 2; k++) {
        char pdf[300];
        snprintf(pdf, sizeof pdf, "%s/long-%s.pdf", f->dir, cities[k]);
        cli_out_t o;
        assert_int_equal(cli_run(&o, "--store", store, "report", "--city", cities[k], "--pdf",
                                 pdf, NULL), 0);
        cli_out_release(&o);
        assert_int_equal(s_check(f, "pdf", pdf, "--glci", f->glci, "--store", store, "--city",
                                 cities[k], "--missing-cut", cut[k], NULL), 0);
    }
}

static void test_report_not_synthetic(void **state)
{
    fixture_t *f = *state;
    char store[300], site[300];
    snprintf(store, sizeof store, "%s/real-store", f->dir);
    snprintf(site, sizeof site, "%s/real-site", f->dir);
    s_fill(store, 0);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "report", "--out", site, NULL), 0);
    cli_out_release(&o);
    const char *pages[] = {"index.html", "city-cork-ie.html", "city-suwon-kr.html"};
    for (size_t k = 0; k < 3; k++) {
        char *page = s_file(site, pages[k]);
        assert_non_null(page);
        assert_null(strstr(page, "id=\"synthetic\""));
        free(page);
    }
    char pdf[300];
    snprintf(pdf, sizeof pdf, "%s/real.pdf", f->dir);
    assert_int_equal(cli_run(&o, "--store", store, "report", "--city", "cork-ie", "--pdf", pdf,
                             NULL), 0);
    cli_out_release(&o);
    assert_int_equal(s_check(f, "pdf", pdf, "--glci", f->glci, "--store", store, "--city",
                             "cork-ie", "--synthetic", "no", NULL), 0);
}

/* Runs glci with args, expects status and a stderr containing text. */
static void s_expect(int status, const char *text, const char *const *args)
{
    cli_out_t o;
    assert_int_equal(cli_runv(&o, args), status);
    if (text && !strstr(o.err, text))
        fail_msg("stderr '%s' lacks '%s'", o.err, text);
    /* one line (a usage error's with the usage at its end) */
    size_t lines = 0;
    for (const char *p = o.err; *p; p++)
        lines += *p == '\n';
    assert_true(lines == 1u);
    if (status == 2)
        assert_non_null(strstr(o.err, " (usage: glci "));
    cli_out_release(&o);
}

/* A file that cannot be written: the one line names the path given, not
 * the temporary it is written under (SPEC §5), and nothing is left. */
static void s_expect_unwritable(const char *path, const char *const *args)
{
    char want[700];
    snprintf(want, sizeof want, "cannot write %s: No such file or directory\n", path);
    cli_out_t o;
    assert_int_equal(cli_runv(&o, args), 1);
    size_t n = strlen(o.err), w = strlen(want);
    if (n < w || strcmp(o.err + n - w, want) != 0 || strstr(o.err, ".tmp"))
        fail_msg("stderr '%s' is not '...: %s'", o.err, want);
    assert_non_null(strchr(o.err, '\n'));
    assert_true(strchr(o.err, '\n') == o.err + n - 1);
    cli_out_release(&o);
}

static void test_report_errors(void **state)
{
    fixture_t *f = *state;
    char site[300], file[400], pdf[300];
    const char *s = f->store;
    snprintf(site, sizeof site, "%s/other", f->dir);
    snprintf(pdf, sizeof pdf, "%s/x.pdf", f->dir);
    s_expect(2, "give --out DIR", (const char *[]){"--store", s, "report", NULL});
    s_expect(2, "not both", (const char *[]){"--store", s, "report", "--out", site, "--city",
                                              "cork-ie", "--pdf", pdf, NULL});
    s_expect(2, "--pdf needs --city", (const char *[]){"--store", s, "report", "--pdf", pdf,
                                                        NULL});
    s_expect(2, "--city goes with --pdf", (const char *[]){"--store", s, "report", "--out",
                                                            site, "--city", "cork-ie", NULL});
    s_expect(2, "--format does not apply", (const char *[]){"--store", s, "--format", "json",
                                                             "report", "--out", site, NULL});
    s_expect(1, "no edition 'e1'", (const char *[]){"--store", s, "report", "--out", site,
                                                     "--edition", "e1", NULL});
    s_expect(2, "either --as-of or --edition", (const char *[]){"--store", s, "report", "--out",
                                                                 site, "--edition", "e1",
                                                                 "--as-of", "now", NULL});
    s_expect(2, "invalid time 'soon'", (const char *[]){"--store", s, "report", "--out", site,
                                                         "--as-of", "soon", NULL});
    s_expect(2, "invalid --period 'x'", (const char *[]){"--store", s, "report", "--out", site,
                                                        "--period", "x", NULL});
    s_expect(2, "empty", (const char *[]){"--store", s, "report", "--out=", NULL});
    /* documents go to files, never to a file called "-" (docs/CLI.md) */
    s_expect(2, "--out -: this command writes a file, not standard output",
             (const char *[]){"--store", s, "report", "--out", "-", NULL});
    s_expect(2, "--pdf -: this command writes a file, not standard output",
             (const char *[]){"--store", s, "report", "--city", "cork-ie", "--pdf", "-", NULL});
    s_expect(1, "no city 'nowhere'", (const char *[]){"--store", s, "report", "--city",
                                                       "nowhere", "--pdf", pdf, NULL});
    s_expect(1, "revoked and has no data", (const char *[]){"--store", s, "report", "--city",
                                                             "dublin-ie", "--pdf", pdf, NULL});
    s_expect(1, "no data for period 2030", (const char *[]){"--store", s, "report", "--out",
                                                             site, "--period", "2030", NULL});
    s_expect(1, "no store at", (const char *[]){"--store", "/nonexistent/store", "report",
                                                 "--out", site, NULL});
    assert_false(s_exists(f->dir, "x.pdf"));
    assert_false(s_exists(f->dir, "other"));

    /* a folder that holds other files is refused and left as it was */
    assert_int_equal(mkdir(site, 0755), 0);
    snprintf(file, sizeof file, "%s/keep.txt", site);
    assert_int_equal(glci_ts_write_file(file, "mine\n"), 0);
    s_expect(1, "is not empty and holds no glci report", (const char *[]){
        "--store", s, "report", "--out", site, NULL});
    assert_false(s_exists(site, "index.html"));
    char *kept = glci_ts_read_file(file);
    assert_string_equal(kept, "mine\n");
    free(kept);
    /* a PDF that cannot be written names the path */
    snprintf(pdf, sizeof pdf, "%s/no/such/x.pdf", f->dir);
    s_expect_unwritable(pdf, (const char *[]){"--store", s, "report", "--city", "cork-ie",
                                              "--pdf", pdf, NULL});
}

/* ---- export ------------------------------------------------------------ */

/* The exact index of city in `glci show` as JSON with extra arguments
 * (an edition, or none), formatted as the report's data-value carries it. */
static void s_show_index(const char *store, const char *city, const char *edition,
                         char *buf, size_t len)
{
    cli_out_t o;
    if (edition)
        assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "show", city,
                                 "--edition", edition, NULL), 0);
    else
        assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "show", city,
                                 NULL), 0);
    json_t *j = cli_json(&o);
    glci_format_double(cli_json_num(j, "index"), buf, len);
    json_decref(j);
    cli_out_release(&o);
}

/* A published edition stays what it was in the report after a correction:
 * --edition shows the frozen table and names it on every page, the live
 * report the corrected one. */
static void test_report_edition(void **state)
{
    fixture_t *f = *state;
    char store[300], site_e[300], site_l[300], pdf[300], want[400], ed[40], live[40];
    snprintf(store, sizeof store, "%s/edition-store", f->dir);
    snprintf(site_e, sizeof site_e, "%s/site-edition", f->dir);
    snprintf(site_l, sizeof site_l, "%s/site-live", f->dir);
    snprintf(pdf, sizeof pdf, "%s/edition.pdf", f->dir);
    s_fill(store, 1);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "edition", "publish", "e2025", "--period",
                             "2025", NULL), 0);
    cli_out_release(&o);
    s_show_index(store, "cork-ie", "e2025", ed, sizeof ed);
    assert_int_equal(cli_run(&o, "--store", store, "correct", "cork-ie", "adult_learning_rate",
                             "2025", "0", "--reason", "typed in the wrong column", NULL), 0);
    cli_out_release(&o);
    s_show_index(store, "cork-ie", NULL, live, sizeof live);
    assert_string_not_equal(ed, live);

    assert_int_equal(cli_run(&o, "--store", store, "report", "--out", site_e, "--edition",
                             "e2025", NULL), 0);
    assert_non_null(strstr(o.out, "edition e2025"));
    assert_non_null(strstr(o.out, "report 2025: 12 city pages"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "report", "--out", site_l, NULL), 0);
    cli_out_release(&o);
    const char *pages[] = {"index.html", "city-cork-ie.html", "city-amman-jo.html"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        char *e = s_file(site_e, pages[i]), *l = s_file(site_l, pages[i]);
        assert_non_null(e);
        assert_non_null(l);
        assert_non_null(strstr(e, "edition e2025 of period 2025, as published"));
        assert_null(strstr(l, "edition e2025"));
        free(e);
        free(l);
    }
    char *e = s_file(site_e, "city-cork-ie.html"), *l = s_file(site_l, "city-cork-ie.html");
    snprintf(want, sizeof want, "data-value=\"%s\"", ed);
    assert_non_null(strstr(e, want));
    assert_null(strstr(l, want));
    snprintf(want, sizeof want, "data-value=\"%s\"", live);
    assert_non_null(strstr(l, want));
    assert_null(strstr(e, want));
    free(e);
    free(l);

    s_expect(1, "edition e2025 is of period 2025, not 2024",
             (const char *[]){"--store", store, "report", "--out", site_e, "--edition", "e2025",
                              "--period", "2024", NULL});
    assert_int_equal(cli_run(&o, "--store", store, "report", "--city", "cork-ie", "--pdf", pdf,
                             "--edition", "e2025", NULL), 0);
    cli_out_release(&o);
    assert_true(s_exists(f->dir, "edition.pdf"));
}

/* stdout of a command that succeeds (the caller frees it). */
static char *s_stdout(const char *const *args)
{
    cli_out_t o;
    assert_int_equal(cli_runv(&o, args), 0);
    char *out = strdup(o.out);
    assert_non_null(out);
    cli_out_release(&o);
    return out;
}

/* The workbook holds the table export chooses: the rule's period without
 * --period (stdout names it, as the table export does), the one given, or
 * every period with --all-periods; report_check.py compares each with
 * `glci export --format json` given the same options. */
static void test_export_xlsx(void **state)
{
    fixture_t *f = *state;
    const char *s = f->store;
    char x[300], want[400];
    snprintf(x, sizeof x, "%s/rule.xlsx", f->dir);
    char *out = s_stdout((const char *[]){"--store", s, "export", "--format", "xlsx", "--out", x,
                                          NULL});
    char *table = s_stdout((const char *[]){"--store", s, "export", NULL});
    /* the rule's line, word for word what the table export prints first */
    const char *eol = strchr(table, '\n');
    assert_non_null(eol);
    assert_memory_equal(out, table, (size_t)(eol - table + 1));
    assert_non_null(strstr(out, "period 2025: the latest in which at least half of the active "
                                "cities"));
    snprintf(want, sizeof want, "\nwrote %s: 11 results of period 2025\n", x);
    assert_non_null(strstr(out, want));
    free(out);
    free(table);
    assert_int_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, NULL), 0);

    snprintf(x, sizeof x, "%s/all.xlsx", f->dir);
    out = s_stdout((const char *[]){"--store", s, "export", "--all-periods", "--format", "xlsx",
                                    "--out", x, NULL});
    snprintf(want, sizeof want, "wrote %s: ", x);
    assert_memory_equal(out, want, strlen(want));
    assert_non_null(strstr(out, " results of 2021 to "));
    free(out);
    assert_int_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, "--all-periods",
                             NULL), 0);

    snprintf(x, sizeof x, "%s/2024.xlsx", f->dir);
    out = s_stdout((const char *[]){"--store", s, "export", "--period", "2024", "--format",
                                    "xlsx", "--out", x, NULL});
    snprintf(want, sizeof want, "wrote %s: 11 results of period 2024\n", x);
    assert_string_equal(out, want);
    free(out);
    assert_int_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, "--period",
                             "2024", NULL), 0);
}

/* An edition's workbook is the edition's table after the store has
 * changed, and --as-of the store as it was: report_check.py compares each
 * with `glci export --format json` with the same --edition or --as-of, and
 * its values sheet with the history received by then, current as of then
 * (cork's corrected value and amman's retracted one are current as of the
 * edition's time, not now). */
static void test_export_xlsx_edition_as_of(void **state)
{
    fixture_t *f = *state;
    char store[300], x[300], want[500];
    snprintf(store, sizeof store, "%s/xlsx-edition-store", f->dir);
    s_fill(store, 1);
    const char *s = store;
    free(s_stdout((const char *[]){"--store", s, "edition", "publish", "e2025", "--period",
                                   "2025", NULL}));
    free(s_stdout((const char *[]){"--store", s, "correct", "cork-ie", "adult_learning_rate",
                                   "2025", "0", "--reason", "typed in the wrong column",
                                   NULL}));
    free(s_stdout((const char *[]){"--store", s, "retract", "amman-jo", "adult_learning_rate",
                                   "2025", "--reason", "not measured", NULL}));

    snprintf(x, sizeof x, "%s/e2025.xlsx", f->dir);
    char *out = s_stdout((const char *[]){"--store", s, "export", "--edition", "e2025",
                                          "--format", "xlsx", "--out", x, NULL});
    assert_memory_equal(out, "edition e2025: the store as of ", 31);
    snprintf(want, sizeof want, "\nwrote %s: 11 results of period 2025\n", x);
    assert_non_null(strstr(out, want));
    free(out);
    assert_int_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, "--edition",
                             "e2025", NULL), 0);
    /* the live workbook is not the edition's: the check tells them apart */
    snprintf(x, sizeof x, "%s/live2025.xlsx", f->dir);
    free(s_stdout((const char *[]){"--store", s, "export", "--format", "xlsx", "--out", x,
                                   NULL}));
    assert_int_not_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, "--edition",
                                 "e2025", NULL), 0);

    /* as of the edition's time, given as a time: the revision of 1764100000
     * counts, the correction and the retraction made after it do not */
    char edition_time[32];
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s, "--format", "json", "export", "--edition",
                             "e2025", NULL), 0);
    json_t *j = cli_json(&o);
    snprintf(edition_time, sizeof edition_time, "%s", json_string_value(json_object_get(j,
                                                                                  "as_of")));
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(strlen(edition_time), 20);
    const char *times[] = {edition_time, "now"};
    for (size_t k = 0; k < 2; k++) {
        snprintf(x, sizeof x, "%s/asof%zu.xlsx", f->dir, k);
        out = s_stdout((const char *[]){"--store", s, "export", "--as-of", times[k],
                                        "--format", "xlsx", "--out", x, NULL});
        assert_non_null(strstr(out, "period 2025: the latest in which"));
        assert_non_null(strstr(out, ": recomputed from the values received by then\n"));
        free(out);
        assert_int_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, "--as-of",
                                 times[k], NULL), 0);
    }
    snprintf(x, sizeof x, "%s/asof2024.xlsx", f->dir);
    out = s_stdout((const char *[]){"--store", s, "export", "--as-of", edition_time,
                                    "--period", "2024", "--format", "xlsx", "--out", x, NULL});
    snprintf(want, sizeof want, "as of %s: recomputed from the values received by then\n"
             "wrote %s: 11 results of period 2024\n", edition_time, x);
    assert_string_equal(out, want);
    free(out);
    assert_int_equal(s_check(f, "xlsx", x, "--glci", f->glci, "--store", s, "--as-of",
                             edition_time, "--period", "2024", NULL), 0);
    snprintf(x, sizeof x, "%s/bad-edition.xlsx", f->dir);
    s_expect(1, "edition e2025 is of period 2025, not 2024",
             (const char *[]){"--store", s, "export", "--edition", "e2025", "--period", "2024",
                              "--format", "xlsx", "--out", x, NULL});
    assert_false(s_exists(f->dir, "bad-edition.xlsx"));
}

static void test_export_xlsx_errors(void **state)
{
    fixture_t *f = *state;
    const char *s = f->store;
    char x[300];
    snprintf(x, sizeof x, "%s/bad.xlsx", f->dir);
    s_expect(2, "--format xlsx needs --out FILE", (const char *[]){"--store", s, "--format",
                                                                    "xlsx", "export", NULL});
    s_expect(2, "--out -: this command writes a file, not standard output",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--out", "-", NULL});
    s_expect(2, "--out is for --format xlsx", (const char *[]){"--store", s, "--format", "csv",
                                                                "export", "--out", x, NULL});
    s_expect(2, "--format xlsx is only for export and template",
             (const char *[]){"--store", s, "--format", "xlsx", "rank", NULL});
    s_expect(2, "unknown format 'xls'", (const char *[]){"--store", s, "--format", "xls",
                                                          "export", NULL});
    s_expect(1, "no data for period 2040", (const char *[]){"--store", s, "--format", "xlsx",
                                                             "export", "--period", "2040",
                                                             "--out", x, NULL});
    /* the tables that make no sense together, and those that do not exist */
    static const char all_not[] = "--all-periods is the live store's every period: not with "
                                  "--period, --as-of or --edition";
    s_expect(2, all_not, (const char *[]){"--store", s, "--format", "xlsx", "export",
                                          "--all-periods", "--edition", "e1", "--out", x, NULL});
    s_expect(2, all_not, (const char *[]){"--store", s, "--format", "xlsx", "export",
                                          "--all-periods", "--as-of", "now", "--out", x, NULL});
    s_expect(2, all_not, (const char *[]){"--store", s, "--format", "xlsx", "export",
                                          "--all-periods", "--period", "2024", "--out", x,
                                          NULL});
    s_expect(2, "give either --as-of or --edition, not both",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--as-of", "now",
                              "--edition", "e1", "--out", x, NULL});
    s_expect(2, "invalid time 'soon' for --as-of",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--as-of", "soon",
                              "--out", x, NULL});
    s_expect(1, "no edition 'e1' in the store",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--edition", "e1",
                              "--out", x, NULL});
    s_expect(1, "no data in the store as of 2000-01-01T23:59:59Z",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--as-of",
                              "2000-01-01", "--out", x, NULL});
    s_expect(1, "no data for period 2040 as of 2025-11-25T05:53:20Z",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--as-of",
                              "@1764050000", "--period", "2040", "--out", x, NULL});
    s_expect(1, "--as-of 2999-01-01T23:59:59Z is in the future",
             (const char *[]){"--store", s, "--format", "xlsx", "export", "--as-of",
                              "2999-01-01", "--out", x, NULL});
    assert_false(s_exists(f->dir, "bad.xlsx"));
    assert_false(s_exists(f->dir, "bad.xlsx.tmp"));
    snprintf(x, sizeof x, "%s/no/such/bad.xlsx", f->dir);
    s_expect_unwritable(x, (const char *[]){"--store", s, "--format", "xlsx", "export", "--out",
                                            x, NULL});
    s_expect_unwritable(x, (const char *[]){"--store", s, "--format", "xlsx", "export",
                                            "--period", "2024", "--out", x, NULL});
}

/* ---- template ---------------------------------------------------------- */

/* The fields of one CSV line (RFC 4180, no line break inside a field: the
 * template's texts have none) into f[0..cap), quotes undone; at most 255
 * bytes each. Returns the field count; *next is the next line. */
static size_t s_csv_line(const char *line, char f[][256], size_t cap, const char **next)
{
    size_t n = 0, len = 0;
    int quoted = 0;
    const char *p = line;
    for (;; p++) {
        if (quoted && *p == '"' && p[1] == '"') {
            if (len < 255)
                f[n][len++] = '"';
            p++;
        } else if (*p == '"' && (quoted || len == 0)) {
            quoted = !quoted;
        } else if (!quoted && (*p == ',' || *p == '\r' || *p == '\0')) {
            assert_true(n < cap);
            f[n++][len] = '\0';
            len = 0;
            if (*p != ',')
                break;
        } else if (len < 255) {
            f[n][len++] = *p;
        }
    }
    *next = *p == '\r' ? p + 2 : p;
    return n;
}

/* A number field the template wrote: it reads back as exactly v. */
static void s_assert_exact(const char *field, double v, const char *what)
{
    double got;
    if (glci_parse_double(field, &got) != 0 || got != v)
        fail_msg("%s '%s' is not %.17g", what, field, v);
}

static void test_template(void **state)
{
    fixture_t *f = *state;
    char t[300];
    cli_out_t o;
    /* espoo 2025: its own values for 2025 start filled, the carried ones do not */
    snprintf(t, sizeof t, "%s/espoo.csv", f->dir);
    assert_int_equal(cli_run(&o, "--store", f->store, "--format", "csv", "template", "--city",
                             "espoo-fi", "--period", "2025", "--out", t, NULL), 0);
    assert_non_null(strstr(o.out, "44 indicators"));
    cli_out_release(&o);
    char *csv = glci_ts_read_file(t);
    assert_non_null(csv);
    static const char head[] = "indicator,period,value,source,name,unit,min,max,last_value,"
                               "last_period\r\nadult_learning_rate,2025,";
    assert_memory_equal(csv, head, sizeof head - 1);
    /* every row: the framework's name, unit and valid range; espoo's own
     * 2025 value, else empty; its last value of a period <= 2025 and that
     * period (2024 for the six it gives every other year), exact */
    glci_framework_t *fw = NULL;
    char ferr[512];
    assert_int_equal(glci_framework_load_file(getenv("GLCI_FRAMEWORK"), &fw, ferr, sizeof ferr),
                     0);
    const size_t espoo = 4;
    assert_string_equal(s_cities[espoo][0], "espoo-fi");
    size_t rows = 0, empty = 0;
    const char *line = strstr(csv, "\r\n") + 2;
    for (uint32_t i = 0; *line; i++) {
        char fld[10][256];
        assert_true(i < fw->n_ind);
        assert_int_equal(s_csv_line(line, fld, 10, &line), 10);
        const glci_indicator_t *ind = &fw->ind[i];
        int carried = i >= fw->n_ind - 6;
        int32_t last = carried ? 2024 : 2025;
        double v = s_value(ind, espoo, i, last);
        assert_string_equal(fld[0], ind->id);
        assert_string_equal(fld[1], "2025");
        if (carried)
            assert_string_equal(fld[2], "");
        else
            s_assert_exact(fld[2], v, "value");
        assert_string_equal(fld[3], carried ? "" : "synthetic test data");
        assert_string_equal(fld[4], ind->name);
        assert_string_equal(fld[5], ind->unit);
        s_assert_exact(fld[6], ind->min, "min");
        s_assert_exact(fld[7], ind->max, "max");
        s_assert_exact(fld[8], v, "last_value");
        s_assert_exact(fld[9], last, "last_period");
        rows++;
        empty += fld[2][0] == '\0';
    }
    assert_int_equal(rows, 44);
    assert_int_equal(empty, 6);
    free(csv);

    /* suwon-kr has no values: last_value and last_period empty; no city: the same */
    const char *blank[] = {"suwon-kr", NULL};
    for (const char *const *city = blank; ; city++) {
        snprintf(t, sizeof t, "%s/blank.csv", f->dir);
        if (*city)
            assert_int_equal(cli_run(&o, "--store", f->store, "--format", "csv", "template",
                                     "--city", *city, "--out", t, NULL), 0);
        else
            assert_int_equal(cli_run(&o, "--store", f->store, "--format", "csv", "template",
                                     "--out", t, NULL), 0);
        cli_out_release(&o);
        csv = glci_ts_read_file(t);
        assert_non_null(csv);
        assert_memory_equal(csv, head, strstr(head, "\r\n") + 2 - head);
        line = strstr(csv, "\r\n") + 2;
        for (uint32_t i = 0; *line; i++) {
            char fld[10][256];
            assert_int_equal(s_csv_line(line, fld, 10, &line), 10);
            assert_string_equal(fld[0], fw->ind[i].id);
            assert_string_equal(fld[2], "");
            assert_string_equal(fld[4], fw->ind[i].name);
            assert_string_equal(fld[8], "");
            assert_string_equal(fld[9], "");
        }
        free(csv);
        if (!*city)
            break;
    }
    glci_framework_free(&fw);
    snprintf(t, sizeof t, "%s/espoo.xlsx", f->dir);
    assert_int_equal(cli_run(&o, "--store", f->store, "--format", "xlsx", "template", "--city",
                             "espoo-fi", "--period", "2025", "--out", t, NULL), 0);
    cli_out_release(&o);
    assert_int_equal(s_check(f, "template-xlsx", t, "--glci", f->glci, "--store", f->store,
                             "--period", "2025", "--city", "espoo-fi", NULL), 0);
    /* no city: every value empty */
    snprintf(t, sizeof t, "%s/blank.xlsx", f->dir);
    assert_int_equal(cli_run(&o, "--store", f->store, "--format", "xlsx", "template",
                             "--period", "2026", "--out", t, NULL), 0);
    cli_out_release(&o);
    assert_int_equal(s_check(f, "template-xlsx", t, "--glci", f->glci, "--store", f->store,
                             "--period", "2026", NULL), 0);
}

static void test_template_errors(void **state)
{
    fixture_t *f = *state;
    const char *s = f->store;
    char t[300];
    snprintf(t, sizeof t, "%s/t.csv", f->dir);
    s_expect(2, "give --format xlsx or --format csv", (const char *[]){"--store", s, "template",
                                                                        "--out", t, NULL});
    s_expect(2, "give --format xlsx or --format csv",
             (const char *[]){"--store", s, "--format", "json", "template", "--out", t, NULL});
    s_expect(2, "missing --out FILE", (const char *[]){"--store", s, "--format", "csv",
                                                        "template", NULL});
    s_expect(1, "no city 'nowhere'", (const char *[]){"--store", s, "--format", "csv",
                                                       "template", "--city", "nowhere", "--out",
                                                       t, NULL});
    s_expect(1, "outside the framework's 2000 to 2100",
             (const char *[]){"--store", s, "--format", "csv", "template", "--period", "1999",
                              "--out", t, NULL});
    for (int k = 0; k < 2; k++)
        s_expect(2, "--out -: this command writes a file, not standard output",
                 (const char *[]){"--store", s, "--format", k ? "xlsx" : "csv", "template",
                                  "--out", "-", NULL});
    /* a round later than the collector takes today: no agent could
     * deliver it (the current UTC year plus future_periods, 0 here) */
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    int year = utc.tm_year + 1900;
    char next[16], want[96], this_year[16];
    snprintf(next, sizeof next, "%d", year + 1);
    snprintf(this_year, sizeof this_year, "%d", year);
    snprintf(want, sizeof want, "period %d is in the future (at most %d on ", year + 1, year);
    s_expect(1, want, (const char *[]){"--store", s, "--format", "csv", "template",
                                       "--period", next, "--out", t, NULL});
    s_expect(1, "the collector would refuse every value of this sheet",
             (const char *[]){"--store", s, "--format", "xlsx", "template", "--period", next,
                              "--out", t, NULL});
    assert_false(s_exists(f->dir, "t.csv"));
    /* the current year itself is a period the collector takes */
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s, "--format", "csv", "template", "--period",
                             this_year, "--out", t, NULL), 0);
    cli_out_release(&o);
    assert_true(s_exists(f->dir, "t.csv"));
    assert_int_equal(unlink(t), 0);
    snprintf(t, sizeof t, "%s/no/such/t.xlsx", f->dir);
    s_expect_unwritable(t, (const char *[]){"--store", s, "--format", "xlsx", "template",
                                            "--out", t, NULL});
    snprintf(t, sizeof t, "%s/no/such/t.csv", f->dir);
    s_expect_unwritable(t, (const char *[]){"--store", s, "--format", "csv", "template",
                                            "--out", t, NULL});
    s_expect_unwritable(t, (const char *[]){"--store", s, "--format", "csv", "template",
                                            "--city", "espoo-fi", "--out", t, NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_site_in_browser),
        cmocka_unit_test(test_report_pdf),
        cmocka_unit_test(test_report_pdf_many_missing),
        cmocka_unit_test(test_report_not_synthetic),
        cmocka_unit_test(test_report_errors),
        cmocka_unit_test(test_report_edition),
        cmocka_unit_test(test_export_xlsx),
        cmocka_unit_test(test_export_xlsx_edition_as_of),
        cmocka_unit_test(test_export_xlsx_errors),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_template_errors),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
