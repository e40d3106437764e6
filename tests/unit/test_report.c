/* Unit tests for report/: the model (league order, medians, what is
 * missing, the synthetic rule), the site's folder rules and escaping, the
 * lights, trends and peers of the analysis module as the pages and the
 * profile render them (and leave them out when not supplied), the PDF
 * profile, the charts' SVG documents and text alternatives, the text
 * helpers, and the xlsx/CSV sheets. The model is filled by hand from
 * results the engine computes and the analysis module's answers; no
 * store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>

#include "glci_analysis.h"
#include "glci_chart.h"
#include "glci_report.h"
#include "glci_sheet.h"
#include "glci_utf8.h"

/* Areas x {focus x.f: a, b} and y {focus y.g: c; focus y.h: d}; names with
 * characters HTML must escape. */
static glci_framework_t *s_fw(void)
{
    static const char text[] =
        "[framework]\nid = t\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
        "first_period = 2000\nlast_period = 2030\n"
        "[area:x]\nname = Access & <quality>\n"
        "[focus:x.f]\narea = x\nname = Focus \"F\"\n"
        "[indicator:a]\nfocus = x.f\nname = Adults in learning\nunit = %\ndirection = higher\n"
        "lower = 0\nupper = 50\nmin = 0\nmax = 100\ngreen = 40\nred = 10\n"
        "[indicator:b]\nfocus = x.f\nname = Early leavers\nunit = %\ndirection = lower\n"
        "lower = 10\nupper = 30\nmin = 0\nmax = 100\n"
        "[area:y]\nname = Y\n"
        "[focus:y.g]\narea = y\nname = G\n"
        "[indicator:c]\nfocus = y.g\nname = A strategy\nunit = yes/no\ndirection = higher\n"
        "lower = 0\nupper = 1\nmin = 0\nmax = 1\n"
        "[focus:y.h]\narea = y\nname = H\n"
        "[indicator:d]\nfocus = y.h\nname = Libraries\nunit = per 10,000\ndirection = higher\n"
        "lower = 20\nupper = 80\nmin = 0\nmax = 1000\ngreen = 60\nred = 30\n";
    glci_framework_t *fw = NULL;
    char err[256];
    int rc = glci_framework_load_text(text, strlen(text), "t.ini", &fw, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return fw;
}

typedef struct {
    uint32_t ind;
    int32_t period;
    double value;
} obs_t;

/* The result of period P of a city with these observations. */
static glci_result_t *s_result(const glci_framework_t *fw, int32_t period, const obs_t *o,
                               size_t n)
{
    glci_result_t *r = aligned_alloc(8, (glci_result_size(fw) + 7) / 8 * 8);
    assert_non_null(r);
    glci_result_init(fw, r, period);
    for (size_t i = 0; i < n; i++)
        if (o[i].period <= period && o[i].period >= period - fw->carry_forward)
            glci_index_apply(fw, r, o[i].ind, o[i].period, o[i].value);
    return r;
}

enum { A, B, C, D };

/* Four cities for 2025 (trend from 2024): beta and alpha ranked 1 and 2,
 * gamma with a result but no index, delta with none. With analysis, the
 * lights, trends and peers as cli/cmd_report.c fills them:
 * - alpha is below the median (80) in x.f (50) and below it (75) in y.h
 *   (50), where beta leads; x.f improves from 35 in 2024, y.h stagnates;
 * - beta's 2024 holds no value (no round): its one round has no trend;
 * - gamma equals the median in x.f, its only score: no weak focus area;
 *   x.f declines from 90 in 2024. */
static void s_fill_with(const glci_framework_t *fw, glci_report_t *r, int analysis)
{
    const obs_t alpha[] = {{A, 2025, 25}, {B, 2025, 20}, {C, 2024, 1}, {D, 2025, 50},
                           {A, 2024, 10}, {B, 2024, 20}, {D, 2024, 50}};
    const obs_t beta[] = {{A, 2025, 50}, {B, 2025, 10}, {C, 2025, 1}, {D, 2025, 80}};
    const obs_t gamma[] = {{A, 2025, 40}, {A, 2024, 45}};
    glci_result_t *now[3] = {0};
    glci_report_init(r, fw, 2025, 2024, 1764000000);
    glci_report_add_city(r, "alpha", "Alpha", "IE");
    glci_report_add_city(r, "beta", "Beta", "DE");
    glci_report_add_city(r, "delta", "Delta", "IE");
    glci_report_add_city(r, "gamma", "Gamma", "FR");
    struct {
        const char *id;
        const obs_t *o;
        size_t n;
        int ranked;
        uint32_t rank;
    } cities[] = {{"alpha", alpha, 7, 1, 2}, {"beta", beta, 4, 1, 1}, {"gamma", gamma, 2, 0, 0}};
    for (size_t k = 0; k < 3; k++) {
        glci_report_city_t *c = glci_report_find(r, cities[k].id);
        assert_non_null(c);
        const glci_result_t *rounds[2];
        size_t n_rounds = 0;
        glci_result_t *past = s_result(fw, 2024, cities[k].o, cities[k].n);
        now[k] = s_result(fw, 2025, cities[k].o, cities[k].n);
        glci_report_set_trend(r, c, 2024, past->has_index != 0, past->index);
        glci_report_set_result(r, c, now[k], cities[k].ranked, cities[k].rank);
        c->n_values = (uint32_t)cities[k].n;
        if (analysis) {
            for (uint32_t i = 0; i < fw->n_ind; i++)
                c->ind[i].light = glci_slot_light(&fw->ind[i], glci_result_slot_c(fw, now[k], i));
            if (glci_result_is_round(fw, past))
                rounds[n_rounds++] = past;
            if (glci_result_is_round(fw, now[k]))
                rounds[n_rounds++] = now[k];
            glci_trend_cell_t cells[2 * 6];
            assert_true(glci_trend_n_nodes(fw) == 6);
            glci_trend_compute(fw, rounds, n_rounds, cells);
            glci_report_set_rounds(r, c, rounds, cells, n_rounds);
        }
        free(past);
    }
    if (analysis) {
        glci_city_result_t in[3];
        for (size_t k = 0; k < 3; k++)
            in[k] = (glci_city_result_t){cities[k].id, now[k]};
        /* as cli/cmd_report.c: one prepared network for every city, which
         * answers as glci_peers_find does */
        glci_peers_net_t *net = NULL;
        assert_int_equal(glci_peers_net_new(fw, in, 3, &net), 0);
        for (size_t k = 0; k < 3; k++) {
            glci_peers_t peers, once;
            assert_int_equal(glci_peers_net_find(net, k, GLCI_PEERS_DEFAULT_FOCUS,
                                                 GLCI_PEERS_DEFAULT_PEERS, &peers), 0);
            assert_int_equal(glci_peers_find(fw, in, 3, k, GLCI_PEERS_DEFAULT_FOCUS,
                                             GLCI_PEERS_DEFAULT_PEERS, &once), 0);
            assert_int_equal(peers.n_focus, once.n_focus);
            for (size_t j = 0; j < peers.n_focus; j++) {
                assert_int_equal(peers.focus[j].focus, once.focus[j].focus);
                assert_int_equal(peers.focus[j].n_peers, once.focus[j].n_peers);
                assert_true(peers.focus[j].median == once.focus[j].median);
            }
            glci_report_set_peers(r, glci_report_find(r, cities[k].id), &peers, in);
            glci_peers_release(&peers);
            glci_peers_release(&once);
        }
        assert_int_equal(glci_peers_net_find(net, 3, 1, 1, &(glci_peers_t){0}),
                         GLCI_INDEX_EINVAL);
        glci_peers_net_free(&net);
        assert_null(net);
        glci_peers_net_free(&net);
        r->has_lights = r->has_trends = r->has_peers = 1;
    }
    for (size_t k = 0; k < 3; k++)
        free(now[k]);
    glci_report_finish(r);
}

static void s_fill(const glci_framework_t *fw, glci_report_t *r)
{
    s_fill_with(fw, r, 0);
}

static void test_league_and_medians(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill(fw, &r);
    const char *order[] = {"beta", "alpha", "gamma", "delta"};
    for (size_t k = 0; k < 4; k++)
        assert_string_equal(r.cities[r.league[k]].id, order[k]);
    assert_int_equal(r.n_ranked, 2);
    assert_int_equal(r.n_with_result, 3);
    /* focus x.f: alpha (a 50, b 50) = 50, beta (100, 100) = 100, gamma (a 80) = 80:
     * the middle of three */
    assert_true(r.focus_median[0].present);
    assert_true(r.focus_median[0].score == 80.0);
    /* focus y.g: alpha c carried (100), beta 100; gamma none: two values */
    assert_true(r.focus_median[1].score == 100.0);
    /* area y: alpha (100 + 50) / 2 = 75, beta (100 + 100) / 2 = 100: the mean of two */
    assert_true(r.area_median[1].present);
    assert_true(r.area_median[1].score == 87.5);
    /* 2024: alpha alone has an index */
    const glci_report_city_t *alpha = glci_report_find(&r, "alpha");
    assert_true(alpha->trend[0].present);
    assert_true(r.index_median[0].score == alpha->trend[0].score);
    assert_int_equal(r.n_values, 13);
    /* no city has a focus y.h score: its median is absent */
    glci_report_release(&r);
    glci_report_release(&r);    /* twice is safe */
    glci_framework_free(&fw);
}

static void test_missing(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill(fw, &r);
    uint32_t out[4];
    /* alpha: c carried from 2024 */
    size_t n = glci_report_missing(&r, glci_report_find(&r, "alpha"), out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], C);
    /* gamma: b, c, d have no value; in framework order */
    n = glci_report_missing(&r, glci_report_find(&r, "gamma"), out);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], B);
    assert_int_equal(out[2], D);
    assert_int_equal(glci_report_missing(&r, glci_report_find(&r, "beta"), out), 0);
    assert_int_equal(glci_report_missing(&r, glci_report_find(&r, "delta"), out), 4);
    assert_null(glci_report_find(&r, "omega"));
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_synthetic_rule(void **state)
{
    (void)state;
    assert_true(glci_report_source_synthetic("synthetic demo data"));
    assert_true(glci_report_source_synthetic("  Synthetic"));
    assert_true(glci_report_source_synthetic("SYNTHETIC, out of range"));
    assert_true(glci_report_source_synthetic("synthetic-v2"));
    assert_false(glci_report_source_synthetic("synthetics"));
    assert_false(glci_report_source_synthetic("not synthetic"));
    assert_false(glci_report_source_synthetic("national statistics office"));
    assert_false(glci_report_source_synthetic(""));
    assert_false(glci_report_source_synthetic(NULL));
}

/* ---- files ------------------------------------------------------------- */

static char *s_tmpdir(void)
{
    char *d = strdup("/tmp/glci-test-report-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void s_rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static char *s_read_len(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char *s_read(const char *path)
{
    size_t len;
    return s_read_len(path, &len);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int s_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void test_site_escapes(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    glci_report_init(&r, fw, 2025, 2025, 1764000000);
    glci_report_city_t *c = glci_report_add_city(&r, "evil", "<script>alert('x')</script> & \"q\"",
                                                 "I<E");
    const obs_t o[] = {{A, 2025, 10}};
    glci_result_t *res = s_result(fw, 2025, o, 1);
    glci_report_set_result(&r, c, res, 0, 0);
    free(res);
    glci_report_finish(&r);
    char *dir = s_tmpdir(), err[512] = "", path[600];
    size_t pages = 0;
    assert_int_equal(glci_report_write_site(&r, dir, &pages, err, sizeof err), 0);
    assert_int_equal(pages, 1);
    const char *files[] = {"index.html", "city-evil.html", "charts/evil-radar.svg",
                           "charts/evil-trend.svg", "charts/evil-areas.svg"};
    for (size_t k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        char *text = s_read(path);
        assert_non_null(text);
        assert_null(strstr(text, "<script>alert"));
        assert_null(strstr(text, "I<E"));
        assert_null(strstr(text, "Access & <quality>"));
        assert_non_null(strstr(text, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                                     "&quot;q&quot;"));
        if (k < 2) {
            assert_non_null(strstr(text, "I&lt;E"));
            assert_non_null(strstr(text, "Access &amp; &lt;quality&gt;"));
        }
        free(text);
    }
    /* no synthetic source: no label */
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *text = s_read(path);
    assert_null(strstr(text, "id=\"synthetic\""));
    free(text);
    s_rmrf(dir);
    free(dir);
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_site_folder_rules(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill(fw, &r);
    r.cities[0].n_synthetic = 3;
    glci_report_finish(&r);
    char *dir = s_tmpdir(), err[512] = "", path[700];

    /* a folder with someone else's file is refused, the file kept */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    s_write(path, "mine\n");
    assert_int_equal(glci_report_write_site(&r, dir, NULL, err, sizeof err),
                     GLCI_REPORT_ENOTEMPTY);
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(err, "not empty"));
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/index.html", dir);
    assert_false(s_exists(path));
    s_rmrf(dir);

    /* a new folder, then the same folder again (an earlier report) */
    snprintf(path, sizeof path, "%s/site", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    size_t pages = 0;
    assert_int_equal(glci_report_write_site(&r, path, &pages, err, sizeof err), 0);
    assert_int_equal(pages, 4);
    assert_int_equal(glci_report_write_site(&r, path, &pages, err, sizeof err), 0);
    char file[800];
    snprintf(file, sizeof file, "%s/city-gamma.html", path);
    char *text = s_read(file);
    assert_non_null(text);
    /* every page carries the synthetic label, naming the city's count */
    assert_non_null(strstr(text, "id=\"synthetic\""));
    assert_non_null(strstr(text, "This city: 0 of 2 values."));
    free(text);
    snprintf(file, sizeof file, "%s/index.html.tmp", path);
    assert_false(s_exists(file));

    /* a file where the folder should be; a folder under a missing one */
    snprintf(file, sizeof file, "%s/plain", dir);
    s_write(file, "x");
    assert_int_equal(glci_report_write_site(&r, file, NULL, err, sizeof err), GLCI_REPORT_EIO);
    assert_non_null(strstr(err, "is not a folder"));
    snprintf(file, sizeof file, "%s/no/such/site", dir);
    assert_int_equal(glci_report_write_site(&r, file, NULL, err, sizeof err), GLCI_REPORT_EIO);
    assert_non_null(strstr(err, "no/such/site"));
    glci_report_release(&r);

    /* a city id that cannot name a file: nothing written */
    glci_report_init(&r, fw, 2025, 2025, 0);
    glci_report_add_city(&r, "../up", "Up", "IE");
    glci_report_finish(&r);
    snprintf(file, sizeof file, "%s/bad", dir);
    assert_int_equal(glci_report_write_site(&r, file, NULL, err, sizeof err),
                     GLCI_REPORT_EINVAL);
    assert_non_null(strstr(err, "../up"));
    assert_false(s_exists(file));
    glci_report_release(&r);
    s_rmrf(dir);
    free(dir);
    glci_framework_free(&fw);
}

/* The page of city id in dir, read whole. */
static char *s_page(const char *dir, const char *id)
{
    char path[700];
    snprintf(path, sizeof path, "%s/city-%s.html", dir, id);
    char *text = s_read(path);
    assert_non_null(text);
    return text;
}

/* The first occurrence of from in text (a failure when there is none). */
static const char *s_after(const char *text, const char *from)
{
    const char *at = strstr(text, from);
    if (!at)
        fail_msg("'%s' is not on the page", from);
    return at;
}

/* 1 if what occurs in text after from and before the next until. */
static int s_within(const char *text, const char *from, const char *until, const char *what)
{
    const char *a = s_after(text, from), *b = strstr(a, until), *w = strstr(a, what);
    return w && (!b || w < b);
}

static void test_site_without_analysis(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill(fw, &r);
    char *dir = s_tmpdir(), err[512] = "";
    assert_int_equal(glci_report_write_site(&r, dir, NULL, err, sizeof err), 0);
    char *text = s_page(dir, "alpha");
    assert_null(strstr(text, ">Light</th>"));
    assert_null(strstr(text, "id=\"peers\""));
    assert_null(strstr(text, "id=\"trends\""));
    assert_null(strstr(text, "data-key=\"trend\""));
    /* what is missing: c carried from 2024 */
    assert_non_null(strstr(text, "<li data-ind=\"c\">"));
    assert_non_null(strstr(text, "carried from 2024"));
    free(text);
    s_rmrf(dir);
    free(dir);
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_site_lights(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill_with(fw, &r, 1);
    /* the analysis module's lights: a 25 between red 10 and green 40, d 50
     * likewise; beta's a 50 and d 80 green; b and c have no thresholds */
    const glci_report_city_t *alpha = glci_report_find(&r, "alpha");
    assert_int_equal(alpha->ind[A].light, GLCI_LIGHT_YELLOW);
    assert_int_equal(alpha->ind[B].light, GLCI_LIGHT_NONE);
    assert_int_equal(glci_report_find(&r, "beta")->ind[D].light, GLCI_LIGHT_GREEN);
    char *dir = s_tmpdir(), err[512] = "";
    assert_int_equal(glci_report_write_site(&r, dir, NULL, err, sizeof err), 0);
    char *text = s_page(dir, "alpha");
    assert_non_null(strstr(text, ">Light</th>"));
    const char *table = s_after(text, "id=\"indicators\"");
    assert_true(s_within(table, "<tr data-ind=\"a\"", "</tr>",
                         "data-key=\"light\" data-value=\"yellow\""));
    assert_true(s_within(table, "<tr data-ind=\"b\"", "</tr>",
                         "data-key=\"light\" data-value=\"\""));
    free(text);
    text = s_page(dir, "beta");
    assert_true(s_within(s_after(text, "id=\"indicators\""), "<tr data-ind=\"d\"", "</tr>",
                         "<span class=\"dot\" aria-hidden=\"true\">\xe2\x97\x8f</span> green"));
    free(text);
    /* a city without a result: every light empty */
    text = s_page(dir, "delta");
    assert_null(strstr(text, "data-key=\"light\" data-value=\"green\""));
    assert_null(strstr(text, "data-key=\"light\" data-value=\"yellow\""));
    free(text);
    s_rmrf(dir);
    free(dir);
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_site_trends(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill_with(fw, &r, 1);
    const glci_report_city_t *alpha = glci_report_find(&r, "alpha");
    assert_int_equal(alpha->n_rounds, 2);
    assert_int_equal(alpha->round_period[1], 2025);
    /* node 3 is focus x.f (after the index and the two areas) */
    const glci_trend_cell_t *t = glci_report_trend_latest(&r, alpha, 3);
    assert_int_equal(t->trend, GLCI_TREND_IMPROVING);
    assert_true(t->per_year == 15.0);
    assert_int_equal(glci_report_find(&r, "beta")->n_rounds, 1);
    assert_null(glci_report_trend_latest(&r, glci_report_find(&r, "delta"), 0));

    char *dir = s_tmpdir(), err[512] = "";
    assert_int_equal(glci_report_write_site(&r, dir, NULL, err, sizeof err), 0);
    char *text = s_page(dir, "alpha");
    assert_non_null(strstr(text, "id=\"data-trends\" data-round=\"2025\""));
    assert_true(s_within(text, "data-node=\"focus:x.f\"", "</tr>",
                         "data-key=\"trend\" data-value=\"improving\""));
    assert_true(s_within(text, "data-node=\"focus:x.f\"", "</tr>",
                         "data-key=\"per_year\" data-value=\"15\">+15.00</td>"));
    assert_true(s_within(text, "data-node=\"focus:x.f\"", "</tr>",
                         "data-key=\"previous\" data-value=\"2024\""));
    assert_true(s_within(text, "data-node=\"focus:y.h\"", "</tr>",
                         "data-key=\"trend\" data-value=\"stagnating\""));
    assert_true(s_within(text, "data-node=\"area:x\"", "</tr>", "\xe2\x86\x91</span> improving"));
    /* the index over time: both periods are rounds, 2025 with its trend */
    assert_true(s_within(text, "<tr data-period=\"2024\" data-round=\"true\"", "</tr>",
                         "first round"));
    assert_non_null(strstr(text, "<tr data-period=\"2025\" data-round=\"true\""));
    free(text);
    text = s_page(dir, "gamma");
    assert_true(s_within(text, "data-node=\"focus:x.f\"", "</tr>",
                         "data-key=\"trend\" data-value=\"declining\""));
    assert_true(s_within(text, "data-node=\"focus:x.f\"", "</tr>", ">-10.00</td>"));
    free(text);
    /* beta: 2024 is no round, 2025 its first */
    text = s_page(dir, "beta");
    assert_non_null(strstr(text, "<tr data-period=\"2024\" data-round=\"false\""));
    assert_true(s_within(text, "data-node=\"index\"", "</tr>", "first round"));
    free(text);
    text = s_page(dir, "delta");
    assert_non_null(strstr(text, "id=\"no-rounds\""));
    free(text);

    /* the area bars' text alternative names each area's trend */
    char desc[1024];
    glci_chart_describe(GLCI_CHART_AREAS, &r, alpha, desc, sizeof desc);
    assert_non_null(strstr(desc, "; Access & <quality> 50.0 (median 80.0, improving); "
                                 "Y 75.0 (median 87.5, stagnating)."));
    s_rmrf(dir);
    free(dir);
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_site_peers(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill_with(fw, &r, 1);
    const glci_report_city_t *alpha = glci_report_find(&r, "alpha");
    assert_int_equal(alpha->n_peer_focus, 2);
    /* weakest first, ties in framework order: x.f, then y.h */
    const glci_report_peer_focus_t *pf = &alpha->peer_focus[0];
    assert_int_equal(pf->focus, 0);
    assert_int_equal(alpha->peer_focus[1].focus, 2);
    /* the peers' median is the report's: one rule (glci_median) */
    assert_true(pf->median == 80.0 && r.focus_median[0].score == pf->median);
    assert_true(alpha->peer_focus[1].median == r.focus_median[2].score);
    assert_int_equal(pf->n_scored, 3);
    assert_int_equal(pf->n_peers, 1);
    assert_string_equal(pf->peers[0].city, "beta");
    assert_string_equal(pf->peers[0].name, "Beta");
    assert_int_equal(pf->peers[0].rank, 1);
    assert_int_equal(pf->peers[0].n_ind, 2);
    assert_int_equal(pf->peers[0].ind[0].ind, A);
    assert_true(pf->peers[0].ind[0].gap == 50.0);
    assert_int_equal(glci_report_find(&r, "gamma")->n_peer_focus, 0);

    char *dir = s_tmpdir(), err[512] = "";
    assert_int_equal(glci_report_write_site(&r, dir, NULL, err, sizeof err), 0);
    char *text = s_page(dir, "alpha");
    assert_non_null(strstr(text, "<h2>Whom to learn from</h2>"));
    assert_non_null(strstr(text, "<article class=\"peer-focus\" data-focus=\"x.f\" "
                                 "data-score=\"50\" data-median=\"80\" data-cities=\"3\">"));
    assert_non_null(strstr(text, "<tbody class=\"peer\" data-city=\"beta\" data-score=\"100\" "
                                 "data-rank=\"1\">"));
    assert_non_null(strstr(text, "<a href=\"city-beta.html\"><bdi>Beta</bdi></a>"));
    /* a peer's indicator: its value, score and light exact, the city's
     * value and score and the gap shown (the indicator table has them) */
    const char *row = s_after(s_after(text, "id=\"peers\""), "<tr data-ind=\"a\">");
    assert_true(s_within(row, "<tr", "</tr>",
                         "data-key=\"value\" data-value=\"50\">50 <bdi>%</bdi>"));
    assert_true(s_within(row, "<tr", "</tr>", "data-key=\"light\" data-value=\"green\""));
    assert_true(s_within(row, "<tr", "</tr>", "data-key=\"city_value\">25 <bdi>%</bdi></td>"));
    assert_true(s_within(row, "<tr", "</tr>", "data-key=\"gap\">50.0</td>"));
    /* the weak focus areas in order */
    assert_true(strstr(text, "data-focus=\"x.f\" data-score") <
                strstr(text, "data-focus=\"y.h\" data-score"));
    free(text);
    /* a city with no weak focus area says so; one without a result too */
    text = s_page(dir, "gamma");
    assert_non_null(strstr(text, "id=\"no-weak\""));
    assert_non_null(strstr(text, "No focus area below the network's median in 2025"));
    assert_null(strstr(text, "class=\"peer-focus\""));
    free(text);
    text = s_page(dir, "delta");
    assert_non_null(strstr(text, "id=\"no-peers\""));
    free(text);

    /* names are escaped; a peer outside the report keeps its id as name */
    glci_report_city_t *beta = glci_report_find(&r, "beta");
    const obs_t o[] = {{A, 2025, 50}};
    glci_result_t *res = s_result(fw, 2025, o, 1);
    glci_city_result_t in[2] = {{"beta", res}, {"omega", res}};
    glci_peer_t peer = {.city = 1, .score = 99, .rank = 1};
    glci_peer_focus_t focus = {.focus = 0, .score = 10, .median = 20, .n_scored = 2,
                               .n_peers = 1, .peers = &peer};
    glci_peers_t peers = {.n_focus = 1, .focus = &focus};
    glci_report_set_peers(&r, beta, &peers, in);
    free(res);
    assert_string_equal(beta->peer_focus[0].peers[0].name, "omega");
    free(beta->name);
    beta->name = strdup("Beta <B>");
    assert_int_equal(glci_report_write_site(&r, dir, NULL, err, sizeof err), 0);
    text = s_page(dir, "alpha");
    assert_non_null(strstr(text, "<a href=\"city-beta.html\"><bdi>Beta</bdi></a>"));
    free(text);
    text = s_page(dir, "beta");
    assert_null(strstr(text, "city-omega.html"));
    assert_non_null(strstr(text, "no indicator of its own to compare"));
    assert_non_null(strstr(text, "<h1><bdi>Beta &lt;B&gt;</bdi></h1>"));
    free(text);
    s_rmrf(dir);
    free(dir);
    glci_report_release(&r);
    glci_framework_free(&fw);
}

/* 1 if the PDF at path has two pages (the page tree's "/Count 2", among
 * binary streams). */
static int s_two_pages(const char *path)
{
    size_t len = 0;
    char *pdf = s_read_len(path, &len);
    assert_non_null(pdf);
    assert_memory_equal(pdf, "%PDF-", 5);
    int two_pages = 0;
    for (size_t k = 0; k + 8 <= len && !two_pages; k++)
        two_pages = memcmp(pdf + k, "/Count 2", 8) == 0;
    free(pdf);
    return two_pages;
}

static void test_profile_pdf(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    char *dir = s_tmpdir(), err[512] = "", path[700];
    snprintf(path, sizeof path, "%s/alpha.pdf", dir);
    /* without and with lights, trends and peers: always two pages */
    for (int analysis = 1; analysis >= 0; analysis--) {
        s_fill_with(fw, &r, analysis);
        for (size_t k = 0; k < r.n_cities; k++) {
            assert_int_equal(glci_report_write_profile(&r, &r.cities[k], path, err, sizeof err),
                             0);
            assert_true(s_two_pages(path));
        }
        if (analysis)
            glci_report_release(&r);
    }
    snprintf(path, sizeof path, "%s/missing/alpha.pdf", dir);
    assert_int_equal(glci_report_write_profile(&r, &r.cities[0], path, err, sizeof err),
                     GLCI_REPORT_EIO);
    assert_non_null(strstr(err, "missing/alpha.pdf"));
    s_rmrf(dir);
    free(dir);
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_chart_svg(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    glci_report_t r;
    s_fill(fw, &r);
    for (size_t k = 0; k < r.n_cities; k++) {
        for (int kind = 0; kind < GLCI_CHART_KINDS; kind++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            assert_non_null(f);
            assert_int_equal(glci_chart_svg((glci_chart_kind_t)kind, &r, &r.cities[k], f), 0);
            fclose(f);
            assert_non_null(strstr(buf, "role=\"img\""));
            assert_non_null(strstr(buf, "<title id=\"chart-title\">"));
            assert_non_null(strstr(buf, "<desc id=\"chart-desc\">"));
            assert_non_null(strstr(buf, "</svg>"));
            free(buf);
        }
    }
    /* the text alternatives name the numbers */
    char desc[1024];
    glci_chart_describe(GLCI_CHART_RADAR, &r, glci_report_find(&r, "beta"), desc, sizeof desc);
    assert_non_null(strstr(desc, "Strongest"));
    glci_chart_describe(GLCI_CHART_AREAS, &r, glci_report_find(&r, "delta"), desc, sizeof desc);
    assert_non_null(strstr(desc, "no result for 2025"));
    glci_chart_describe(GLCI_CHART_TREND, &r, glci_report_find(&r, "alpha"), desc, sizeof desc);
    assert_non_null(strstr(desc, "in 2024"));
    glci_report_release(&r);
    glci_framework_free(&fw);
}

static void test_text_helpers(void **state)
{
    (void)state;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 10, 10);
    cairo_t *cr = cairo_create(s);
    glci_chart_font(cr, 10, 0);
    char buf[160];
    const char *text = "Pécs Pécs Pécs Pécs Pécs Pécs Pécs Pécs Pécs Pécs Pécs";
    glci_chart_fit(cr, text, 80, buf, sizeof buf);
    assert_true(strlen(buf) < strlen(text));
    assert_non_null(strstr(buf, "\xe2\x80\xa6"));
    assert_null(glci_utf8_problem(buf));
    assert_true(glci_chart_width(cr, buf) <= 80);
    glci_chart_fit(cr, "short", 80, buf, sizeof buf);
    assert_string_equal(buf, "short");
    /* narrow enough but longer than the buffer: cut between characters
     * (é is two bytes: a cut by bytes would end in half of one), with "…" */
    char small[12];
    glci_chart_fit(cr, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 1e6, small,
                   sizeof small);
    assert_null(glci_utf8_problem(small));
    assert_string_equal(small, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6");
    /* exactly the buffer's size is one byte too long for its NUL */
    glci_chart_fit(cr, "abcdefghijkl", 1e6, small, sizeof small);
    assert_string_equal(small, "abcdefgh\xe2\x80\xa6");
    glci_chart_fit(cr, "abcdefghijk", 1e6, small, sizeof small);
    assert_string_equal(small, "abcdefghijk");

    char lines[3][160], joined[600] = "";
    size_t n = glci_chart_wrap(cr, "Inclusive learning in the education system", 90, 3, lines);
    assert_true(n >= 2);
    for (size_t k = 0; k < n; k++) {
        assert_true(glci_chart_width(cr, lines[k]) <= 90);
        size_t at = strlen(joined);
        snprintf(joined + at, sizeof joined - at, "%s%s", k ? " " : "", lines[k]);
    }
    assert_string_equal(joined, "Inclusive learning in the education system");
    n = glci_chart_wrap(cr, "one two three four five six seven eight nine ten", 40, 2, lines);
    assert_int_equal(n, 2);
    assert_non_null(strstr(lines[1], "\xe2\x80\xa6"));

    /* a list: every item when they fit, else whole items and the count */
    static const char *const ids[] = {"alpha_rate", "beta_share", "gamma", "delta_count",
                                      "epsilon", "zeta_per_capita", "eta", "theta_index"};
    char list[4][160];
    size_t nl = 0;
    assert_int_equal(glci_chart_wrap_list(cr, "Missing:", ids, 8, 2000, 1, list, &nl), 8);
    assert_int_equal(nl, 1);
    assert_string_equal(list[0], "Missing: alpha_rate, beta_share, gamma, delta_count, "
                                 "epsilon, zeta_per_capita, eta, theta_index.");
    size_t shown = glci_chart_wrap_list(cr, "Missing:", ids, 8, 150, 2, list, &nl);
    assert_true(shown > 0 && shown < 8);
    assert_int_equal(nl, 2);
    char want[64];
    snprintf(want, sizeof want, "%s \xe2\x80\xa6 and %zu more.", ids[shown - 1], 8 - shown);
    assert_non_null(strstr(list[1], want));
    joined[0] = '\0';
    for (size_t k = 0; k < nl; k++) {
        assert_true(glci_chart_width(cr, list[k]) <= 150);
        size_t at = strlen(joined);
        snprintf(joined + at, sizeof joined - at, "%s%s", k ? " " : "", list[k]);
    }
    /* the items shown are the first ones, whole, in order */
    char prefix[600] = "Missing:";
    for (size_t k = 0; k < shown; k++) {
        size_t at = strlen(prefix);
        snprintf(prefix + at, sizeof prefix - at, " %s%s", ids[k], k + 1 < shown ? "," : "");
    }
    assert_int_equal(strncmp(joined, prefix, strlen(prefix)), 0);
    /* one more item than fits moves the count, never cuts an item */
    size_t more = glci_chart_wrap_list(cr, "Missing:", ids, 8, 150, 3, list, &nl);
    assert_true(more >= shown);
    /* no room for any item: the head and the count */
    assert_int_equal(glci_chart_wrap_list(cr, "Missing:", ids, 8, 120, 1, list, &nl), 0);
    assert_string_equal(list[0], "Missing: \xe2\x80\xa6 and 8 more.");

    /* a paragraph keeps every character: a word wider than the line is
     * broken inside, and one line when it fits */
    const char *word = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch";
    assert_true(glci_chart_width(cr, word) > 120);
    assert_true(glci_chart_paragraph(cr, 0, 0, word, 120, 12, 0) >= 2);
    assert_int_equal(glci_chart_paragraph(cr, 0, 0, word, 2000, 12, 0), 1);
    assert_int_equal(glci_chart_paragraph(cr, 0, 0, "two words", 2000, 12, 1), 1);
    /* right-to-left text is measured and fitted as any other: a cut one
     * is a prefix of what is stored, the ellipsis after it */
    const char *rtl = "\xd9\x85\xd8\xaf\xd9\x8a\xd9\x86\xd8\xa9 \xd8\xa7\xd9\x84\xd8\xaa"
                      "\xd8\xb9\xd9\x84\xd9\x85";
    assert_true(glci_chart_width(cr, rtl) > 0);
    glci_chart_fit(cr, rtl, glci_chart_width(cr, rtl) / 2, buf, sizeof buf);
    size_t kept = strlen(buf) - 3;
    assert_true(kept > 0 && kept < strlen(rtl));
    assert_int_equal(strncmp(buf, rtl, kept), 0);
    assert_string_equal(buf + kept, "\xe2\x80\xa6");
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

/* ---- sheets -------------------------------------------------------------- */

static void test_template_csv(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    char *dir = s_tmpdir(), err[512] = "", path[700];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    glci_sheet_template_t t = {.fw = fw, .period = 2025};
    assert_int_equal(glci_sheet_template_csv(&t, path, err, sizeof err), 0);
    char *text = s_read(path);
    /* the informational columns: the framework's name, unit and valid
     * range; no city, no last values */
    assert_string_equal(text, "indicator,period,value,source,name,unit,min,max,last_value,"
                              "last_period\r\n"
                              "a,2025,,,Adults in learning,%,0,100,,\r\n"
                              "b,2025,,,Early leavers,%,0,100,,\r\n"
                              "c,2025,,,A strategy,yes/no,0,1,,\r\n"
                              "d,2025,,,Libraries,\"per 10,000\",0,1000,,\r\n");
    free(text);

    /* a city: its own values for the period start filled, older ones do not */
    glci_sheet_last_t last[4] = {
        {.has_last = 1, .last_value = 41.5, .last_period = 2025, .last_source = "office, \"A\""},
        {.has_last = 1, .last_value = 1.0 / 3, .last_period = 2023, .last_source = "old"},
        {0},
        {.has_last = 1, .last_value = 0.1, .last_period = 2025, .last_source = ""},
    };
    t.city = "alpha";
    t.city_name = "Alpha";
    t.country = "IE";
    t.last = last;
    assert_int_equal(glci_sheet_template_csv(&t, path, err, sizeof err), 0);
    text = s_read(path);
    /* last_value and last_period: the latest value of a period <= P, the
     * older ones too (only value starts filled from P's own); numbers
     * round-trip exact */
    assert_string_equal(text, "indicator,period,value,source,name,unit,min,max,last_value,"
                              "last_period\r\n"
                              "a,2025,41.5,\"office, \"\"A\"\"\",Adults in learning,%,0,100,"
                              "41.5,2025\r\n"
                              "b,2025,,,Early leavers,%,0,100,0.3333333333333333,2023\r\n"
                              "c,2025,,,A strategy,yes/no,0,1,,\r\n"
                              "d,2025,0.1,,Libraries,\"per 10,000\",0,1000,0.1,2025\r\n");
    free(text);
    assert_int_equal(glci_sheet_template_xlsx(&t, path, err, sizeof err), 0);
    text = s_read(path);
    assert_memory_equal(text, "PK\x03\x04", 4);
    free(text);

    snprintf(path, sizeof path, "%s/none/t.csv", dir);
    assert_int_equal(glci_sheet_template_csv(&t, path, err, sizeof err), GLCI_REPORT_EIO);
    assert_non_null(strstr(err, "none/t.csv"));
    snprintf(path, sizeof path, "%s/none/t.xlsx", dir);
    assert_int_equal(glci_sheet_template_xlsx(&t, path, err, sizeof err), GLCI_REPORT_EIO);
    assert_non_null(strstr(err, "none/t.xlsx"));
    s_rmrf(dir);
    free(dir);
    glci_framework_free(&fw);
}

static void test_export_xlsx(void **state)
{
    (void)state;
    glci_framework_t *fw = s_fw();
    char *dir = s_tmpdir(), err[512] = "", path[700];
    snprintf(path, sizeof path, "%s/e.xlsx", dir);
    glci_sheet_export_t *x = NULL;
    assert_int_equal(glci_sheet_export_open(path, fw, 1764000000, &x, err, sizeof err), 0);
    const obs_t o[] = {{A, 2025, 25}, {C, 2024, 1}};
    glci_result_t *res = s_result(fw, 2025, o, 2);
    assert_int_equal(glci_sheet_export_result(x, "alpha", "Alpha", "IE", 1, 1, res), 0);
    assert_int_equal(glci_sheet_export_value(x, "alpha", "a", 2025, 25, 1, 0, 1764000000,
                                             "office", 1), 0);
    /* a retraction: a row without a value */
    assert_int_equal(glci_sheet_export_value(x, "alpha", "a", 2025, 0, 0, 0, 1764000100,
                                             "", 0), 0);
    glci_sheet_export_note(x, "edition", "e2025");
    free(res);
    assert_int_equal(glci_sheet_export_close(&x, 2025, 2025, err, sizeof err), 0);
    assert_null(x);
    char *text = s_read(path);
    assert_memory_equal(text, "PK\x03\x04", 4);
    free(text);

    /* an abandoned workbook leaves nothing */
    snprintf(path, sizeof path, "%s/f.xlsx", dir);
    assert_int_equal(glci_sheet_export_open(path, fw, 0, &x, err, sizeof err), 0);
    glci_sheet_export_abort(&x);
    assert_null(x);
    assert_false(s_exists(path));
    snprintf(path, sizeof path, "%s/f.xlsx.tmp", dir);
    assert_false(s_exists(path));
    glci_sheet_export_abort(NULL);

    snprintf(path, sizeof path, "%s/none/e.xlsx", dir);
    assert_int_equal(glci_sheet_export_open(path, fw, 0, &x, err, sizeof err), GLCI_REPORT_EIO);
    char want[800];     /* the path given, not its temporary */
    snprintf(want, sizeof want, "cannot write %s: No such file or directory", path);
    assert_string_equal(err, want);
    assert_null(x);
    s_rmrf(dir);
    free(dir);
    glci_framework_free(&fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_league_and_medians),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_synthetic_rule),
        cmocka_unit_test(test_site_escapes),
        cmocka_unit_test(test_site_folder_rules),
        cmocka_unit_test(test_site_without_analysis),
        cmocka_unit_test(test_site_lights),
        cmocka_unit_test(test_site_trends),
        cmocka_unit_test(test_site_peers),
        cmocka_unit_test(test_profile_pdf),
        cmocka_unit_test(test_chart_svg),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_template_csv),
        cmocka_unit_test(test_export_xlsx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
