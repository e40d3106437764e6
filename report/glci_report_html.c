/* The static HTML site of a report (glci_report_write_site): index.html
 * with the league table (sortable by any column, filtered by country, with
 * a few lines of inline script; without script it stays in rank order) and
 * one page per city with its charts (SVG files under charts/, each with a
 * text alternative and its data as a table), the trends of its latest
 * reporting round, the indicator table with lights, what is missing for the
 * round and whom to learn from (each of those from the analysis module,
 * when supplied).
 *
 * Self-contained: CSS and script are inline, charts are local files whose
 * text is drawn as paths, no font or script is fetched, and a
 * Content-Security-Policy forbids the pages any other source. Every text
 * from the store or the framework is escaped (glci_report_esc), and
 * written as page text inside <bdi> (glci_report_text), so right-to-left
 * names keep to themselves. Numbers are
 * shown rounded and carried exactly in data-value attributes, so a program
 * can check a page against `glci show --format json`. */
#include "glci_report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glci_alloc.h"
#include "glci_chart.h"
#include "glci_file.h"
#include "glci_report_int.h"
#include "glci_text.h"

#define S_MARKER ".glci-report"
#define S_MAX_THREADS 4

/* ---- Pieces of every page ----------------------------------------------- */

static void s_css(FILE *f)
{
    fprintf(f, ":root{--city:%s;--median:%s;--green:%s;--yellow:%s;--red:%s;--ink:%s;"
            "--muted:%s;--grid:%s}\n", glci_colour(GLCI_COLOUR_CITY)->hex,
            glci_colour(GLCI_COLOUR_MEDIAN)->hex, glci_colour(GLCI_COLOUR_GREEN)->hex,
            glci_colour(GLCI_COLOUR_YELLOW)->hex, glci_colour(GLCI_COLOUR_RED)->hex,
            glci_colour(GLCI_COLOUR_INK)->hex, glci_colour(GLCI_COLOUR_MUTED)->hex,
            glci_colour(GLCI_COLOUR_GRID)->hex);
    fputs(
        "*{box-sizing:border-box}\n"
        "body{margin:0;font-family:\"DejaVu Sans\",system-ui,sans-serif;color:var(--ink);"
        "background:#fff;line-height:1.45}\n"
        "header,main,footer,nav{max-width:72rem;margin:0 auto;padding:0 1.25rem}\n"
        "nav{padding-top:.75rem}\n"
        "a{color:#005b8f}\n"
        "h1{margin:.2rem 0 .4rem;font-size:1.9rem}\n"
        "h2{margin:2rem 0 .6rem;font-size:1.3rem;border-bottom:2px solid var(--grid)}\n"
        ".kicker{margin:1.2rem 0 0;color:var(--muted);text-transform:uppercase;"
        "letter-spacing:.06em;font-size:.8rem}\n"
        ".meta{color:var(--muted);margin:.2rem 0 1rem}\n"
        ".synthetic{background:#fff1e0;border-bottom:3px solid var(--red);padding:.55rem 1.25rem;"
        "text-align:center}\n"
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}\n"
        "caption{text-align:left;color:var(--muted);padding:.3rem 0}\n"
        "th,td{padding:.32rem .5rem;border-bottom:1px solid #e4e4e8;text-align:left;"
        "vertical-align:top}\n"
        "thead th{border-bottom:2px solid var(--ink);vertical-align:bottom}\n"
        ".num{text-align:right;font-variant-numeric:tabular-nums}\n"
        "td.num{white-space:nowrap}\n"
        ".scroll{overflow-x:auto}\n"
        "th button{font:inherit;font-weight:700;color:inherit;background:none;border:0;"
        "padding:0;cursor:pointer;text-align:inherit}\n"
        "th[aria-sort=ascending] button::after{content:\" \\25B2\"}\n"
        "th[aria-sort=descending] button::after{content:\" \\25BC\"}\n"
        "tr.unranked td{color:var(--muted)}\n"
        "tr.group th{background:#f3f4f7;font-weight:600}\n"
        ".controls{display:flex;gap:.8rem;align-items:center;flex-wrap:wrap;margin:1rem 0}\n"
        "select{font:inherit;padding:.2rem}\n"
        "dl.facts{display:flex;flex-wrap:wrap;gap:.6rem 2.2rem;margin:1rem 0}\n"
        "dl.facts div{min-width:8rem}\n"
        "dl.facts dt{color:var(--muted);font-size:.85rem}\n"
        "dl.facts dd{margin:0;font-size:1.6rem;font-weight:700}\n"
        ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,30rem),1fr));"
        "gap:0 2rem;align-items:start}\n"
        "figure{margin:1.2rem 0 1.5rem}\n"
        "figure img{max-width:100%;height:auto}\n"
        "figcaption{font-weight:600;margin:.2rem 0}\n"
        "details summary{cursor:pointer;color:#005b8f}\n"
        ".carried{color:var(--muted);font-size:.85em}\n"
        ".absent{color:var(--muted)}\n"
        ".light{white-space:nowrap}\n"
        ".light-green .dot{color:var(--green)}.light-yellow .dot{color:#b8a800}"
        ".light-red .dot{color:var(--red)}\n"
        ".trend{white-space:nowrap}.trend-improving .dot{color:var(--green)}"
        ".trend-stagnating .dot{color:var(--muted)}.trend-declining .dot{color:var(--red)}\n"
        "tr.focus th{font-weight:400;padding-left:1.4rem}\n"
        "h3{margin:1.4rem 0 .3rem;font-size:1.1rem}\n"
        "tbody.peer th{white-space:normal;min-width:9rem}\n"
        /* A name may be 127 bytes without a space: headings, captions and
         * name cells break it anywhere rather than run off the page or push
         * a table's numbers out of sight (numbers never break: nowrap). */
        "h1,h2,h3,p,caption,figcaption,dd,td.name,tbody.peer th{overflow-wrap:anywhere}\n"
        "#data-trends{font-size:.88rem}\n"
        "code{font-size:.85em;color:var(--muted)}\n"
        "footer{color:var(--muted);font-size:.85rem;margin-top:2.5rem;padding-bottom:2rem;"
        "border-top:1px solid var(--grid)}\n"
        "@media print{nav,.controls,details summary{display:none}details{display:block}"
        ".synthetic{border:2px solid #000}}\n", f);
}

static void s_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
          "base-uri 'none'; form-action 'none'\">\n"
          "<meta name=\"generator\" content=\"glci report\">\n<title>", f);
    glci_report_esc(f, title);
    fputs("</title>\n<style>\n", f);
    s_css(f);
    fputs("</style>\n</head>\n<body>\n", f);
}

/* The label every page carries while any value in the report comes from a
 * synthetic source. */
static void s_synthetic(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    if (r->n_synthetic == 0)
        return;
    fprintf(f, "<div class=\"synthetic\" role=\"note\" id=\"synthetic\"><strong>Synthetic "
            "data.</strong> %llu of the %llu values in this report come from sources marked "
            "synthetic (such as the demo's generator): they describe no real city.",
            (unsigned long long)r->n_synthetic, (unsigned long long)r->n_values);
    if (c)
        fprintf(f, " This city: %u of %u values.", c->n_synthetic, c->n_values);
    fputs("</div>\n", f);
}

static void s_footer(FILE *f, const glci_report_t *r)
{
    char when[64];
    glci_report_fmt_time(r->generated, when, sizeof when);
    fputs("<footer>\n<p>Generated ", f);
    glci_report_esc(f, when);
    fputs(" by glci from the collector's store", f);
    if (r->table[0]) {
        fputs(": ", f);
        glci_report_esc(f, r->table);
    }
    fputs(". Framework ", f);
    glci_report_esc(f, r->fw->id);
    fputc(' ', f);
    glci_report_esc(f, r->fw->version);
    fprintf(f, " (SHA-256 %.12s&hellip;). Scores run from 0 to 100; the network median is "
            "taken over the %zu cities with a result for %d. A value is <em>carried</em> when "
            "it comes from an earlier period (at most %d years back).</p>\n</footer>\n",
            r->fw->hash_hex, r->n_with_result, (int)r->period, (int)r->fw->carry_forward);
}

/* A table cell with a number: shown with one decimal, exact in data-value. */
static void s_num_cell(FILE *f, const char *key, glci_report_score_t s)
{
    char shown[32], exact[32] = "";
    glci_report_fmt_score(s, shown, sizeof shown);
    if (s.present)
        glci_format_double(s.score, exact, sizeof exact);
    fputs("<td class=\"num\" data-key=\"", f);
    glci_report_esc(f, key);
    fprintf(f, "\" data-value=\"%s\">%s</td>", exact, shown);
}

/* The two number cells of a data table's row, the city's and the network
 * median. */
static void s_city_and_median(FILE *f, const char *key, glci_report_score_t v,
                              glci_report_score_t median)
{
    s_num_cell(f, key, v);
    s_num_cell(f, "median", median);
}

/* A trend class's cell: an arrow and the word ("" in data-value without
 * one). */
static void s_trend_cell(FILE *f, glci_trend_t trend)
{
    static const char *const arrow[] = {"", "\xe2\x86\x91", "\xe2\x86\x92", "\xe2\x86\x93"};
    const char *word = glci_trend_str(trend);
    if (!word) {
        fputs("<td class=\"trend\" data-key=\"trend\" data-value=\"\">&ndash;</td>", f);
        return;
    }
    fprintf(f, "<td class=\"trend trend-%s\" data-key=\"trend\" data-value=\"%s\"><span "
            "class=\"dot\" aria-hidden=\"true\">%s</span> %s</td>", word, word, arrow[trend], word);
}

/* The cells of a trend cell: since (the previous round), the change per
 * year (exact in data-value) and the class; "first round" without an
 * earlier one. */
static void s_change_cells(FILE *f, const glci_trend_cell_t *t)
{
    if (!t || !t->has_change) {
        fprintf(f, "<td class=\"num\" data-key=\"previous\" data-value=\"\">%s</td>"
                "<td class=\"num\" data-key=\"per_year\" data-value=\"\">&ndash;</td>",
                t && t->present ? "first round" : "&ndash;");
        s_trend_cell(f, GLCI_TREND_NONE);
        return;
    }
    char shown[32], exact[32];
    glci_trend_fmt(t->per_year, shown, sizeof shown);
    glci_format_double(t->per_year, exact, sizeof exact);
    fprintf(f, "<td class=\"num\" data-key=\"previous\" data-value=\"%d\">%d</td>"
            "<td class=\"num\" data-key=\"per_year\" data-value=\"%s\">%s</td>",
            (int)t->previous, (int)t->previous, exact, shown);
    s_trend_cell(f, t->trend);
}

/* 1 if id can name a file of the site: [A-Za-z0-9._-], not starting with
 * a dot (store ids are stricter still). */
static int s_id_ok(const char *id)
{
    if (!id[0] || id[0] == '.' || strlen(id) > 200)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* ---- index.html ---------------------------------------------------------- */

static int s_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char s_league_js[] =
    "(function(){\n"
    "var t=document.getElementById('league'),b=t.tBodies[0];\n"
    "var sel=document.getElementById('country'),out=document.getElementById('shown');\n"
    "function val(td,num){var v=td.getAttribute('data-value');"
    "if(v===null||v==='')return null;return num?parseFloat(v):v;}\n"
    "Array.prototype.forEach.call(t.tHead.querySelectorAll('button'),function(btn){\n"
    " btn.addEventListener('click',function(){\n"
    "  var th=btn.parentNode,col=th.cellIndex,num=th.getAttribute('data-type')==='num';\n"
    "  var now=th.getAttribute('aria-sort');\n"
    "  var dir=now==='ascending'?'descending':now==='descending'?'ascending':"
    "(th.getAttribute('data-first')||'ascending');\n"
    "  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){"
    "h.removeAttribute('aria-sort');});\n"
    "  th.setAttribute('aria-sort',dir);\n"
    "  var rows=Array.prototype.slice.call(b.rows);\n"
    "  rows.sort(function(x,y){var p=val(x.cells[col],num),q=val(y.cells[col],num);\n"
    "   if(p===null||q===null)return p===q?0:p===null?1:-1;\n"
    "   var d=num?p-q:p.localeCompare(q);return dir==='ascending'?d:-d;});\n"
    "  rows.forEach(function(r){b.appendChild(r);});\n"
    " });\n"
    "});\n"
    "function filter(){var c=sel.value,n=0;Array.prototype.forEach.call(b.rows,function(r){\n"
    " var show=!c||r.getAttribute('data-country')===c;r.hidden=!show;if(show)n++;});\n"
    " out.textContent=n+(n===1?' city':' cities')+' shown';}\n"
    "sel.addEventListener('change',filter);filter();\n"
    "})();\n";

static void s_sort_th(FILE *f, const char *label, int num, const char *extra)
{
    fprintf(f, "<th scope=\"col\"%s%s%s><button type=\"button\">", num ? " class=\"num\"" : "",
            num ? " data-type=\"num\"" : "", extra);
    glci_report_text(f, label);
    fputs("</button></th>", f);
}

static void s_index_page(FILE *f, const glci_report_t *r)
{
    const glci_framework_t *fw = r->fw;
    char title[160];
    snprintf(title, sizeof title, "Global Learning City Index %d: league table", (int)r->period);
    s_head(f, title);
    s_synthetic(f, r, NULL);
    fprintf(f, "<header>\n<p class=\"kicker\">UNESCO Global Learning City Index</p>\n"
            "<h1>League table %d</h1>\n<p class=\"meta\">%zu cities with a result, %zu ranked; "
            "a city is ranked when every area has a score and at least %.0f%% of the "
            "indicators have a value.</p>\n</header>\n<main>\n", (int)r->period,
            r->n_with_result, r->n_ranked, fw->min_coverage * 100.0);

    /* the country filter: each country once, sorted */
    const char **countries = glci_xcalloc(r->n_cities ? r->n_cities : 1, sizeof *countries);
    size_t n_c = 0;
    for (size_t i = 0; i < r->n_cities; i++)
        countries[n_c++] = r->cities[i].country;
    qsort(countries, n_c, sizeof *countries, s_str_cmp);
    fputs("<div class=\"controls\"><label for=\"country\">Country</label>\n<select "
          "id=\"country\"><option value=\"\">All countries</option>", f);
    for (size_t i = 0; i < n_c; i++) {
        if (i > 0 && strcmp(countries[i], countries[i - 1]) == 0)
            continue;
        fputs("<option value=\"", f);
        glci_report_esc(f, countries[i]);
        fputs("\">", f);
        glci_report_esc(f, countries[i]);
        fputs("</option>", f);
    }
    free(countries);
    fprintf(f, "</select>\n<span id=\"shown\" aria-live=\"polite\">%zu cities shown</span>"
            "</div>\n", r->n_cities);

    fprintf(f, "<div class=\"scroll\"><table id=\"league\" class=\"league\">\n<caption>Cities by index %d, highest "
            "first; equal indices share a rank. Select a column heading to sort by it."
            "</caption>\n<thead><tr>", (int)r->period);
    s_sort_th(f, "Rank", 1, " aria-sort=\"ascending\"");
    s_sort_th(f, "City", 0, "");
    s_sort_th(f, "Country", 0, "");
    s_sort_th(f, "Index", 1, " data-first=\"descending\"");
    s_sort_th(f, "Coverage", 1, " data-first=\"descending\"");
    for (uint32_t a = 0; a < fw->n_areas; a++)
        s_sort_th(f, fw->areas[a].name, 1, " data-first=\"descending\"");
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t k = 0; k < r->n_cities; k++) {
        const glci_report_city_t *c = &r->cities[r->league[k]];
        fprintf(f, "<tr data-city=\"%s\" data-country=\"", c->id);
        glci_report_esc(f, c->country);
        fprintf(f, "\"%s>", c->ranked ? "" : " class=\"unranked\"");
        if (c->ranked)
            fprintf(f, "<td class=\"num\" data-key=\"rank\" data-value=\"%u\">%u</td>", c->rank,
                    c->rank);
        else
            fputs("<td class=\"num\" data-key=\"rank\" data-value=\"\">&ndash;</td>", f);
        fputs("<td class=\"name\" data-value=\"", f);
        glci_report_esc(f, c->name);
        fprintf(f, "\"><a href=\"city-%s.html\">", c->id);
        glci_report_text(f, c->name);
        fputs("</a></td><td data-value=\"", f);
        glci_report_esc(f, c->country);
        fputs("\">", f);
        glci_report_esc(f, c->country);
        fputs("</td>", f);
        s_num_cell(f, "index", c->index);
        if (c->has_result) {
            char exact[32];
            glci_format_double(c->coverage, exact, sizeof exact);
            fprintf(f, "<td class=\"num\" data-key=\"coverage\" data-value=\"%s\">%.0f%%</td>",
                    exact, c->coverage * 100.0);
        } else {
            fputs("<td class=\"num\" data-key=\"coverage\" data-value=\"\">no data</td>", f);
        }
        for (uint32_t a = 0; a < fw->n_areas; a++) {
            char key[96];
            snprintf(key, sizeof key, "area:%s", fw->areas[a].id);
            s_num_cell(f, key, c->areas[a]);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table></div>\n", f);
    fprintf(f, "<p>Network median index %d: ", (int)r->period);
    char m[32];
    glci_report_fmt_score(r->index_median[r->n_periods - 1], m, sizeof m);
    fprintf(f, "<span id=\"median-index\">%s</span>.</p>\n</main>\n", m);
    s_footer(f, r);
    fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", s_league_js);
}

/* ---- city pages ---------------------------------------------------------- */

static void s_figure(FILE *f, glci_chart_kind_t kind, const glci_report_t *r,
                     const glci_report_city_t *c)
{
    char title[512], desc[1024];
    double w, h;
    glci_chart_size(kind, &w, &h);
    glci_chart_title(kind, r, c, title, sizeof title);
    glci_chart_describe(kind, r, c, desc, sizeof desc);
    const char *name = glci_chart_name(kind);
    fprintf(f, "<figure class=\"chart chart-%s\" aria-labelledby=\"cap-%s\">\n"
            "<img src=\"charts/%s-%s.svg\" width=\"%.0f\" height=\"%.0f\" alt=\"", name, name,
            c->id, name, w, h);
    glci_report_esc(f, desc);
    fprintf(f, "\">\n<figcaption id=\"cap-%s\">", name);
    /* the caption starts with the city's name: that part as an isolate */
    size_t nl = strlen(c->name);
    if (strncmp(title, c->name, nl) == 0) {
        glci_report_text(f, c->name);
        glci_report_esc(f, title + nl);
    } else {
        glci_report_esc(f, title);
    }
    fputs("</figcaption>\n<details><summary>The data as a table</summary>\n", f);
}

static void s_focus_figure(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    s_figure(f, GLCI_CHART_RADAR, r, c);
    fputs("<table class=\"data\" id=\"data-focus\"><thead><tr><th scope=\"col\">Area</th>"
          "<th scope=\"col\">Focus area</th><th scope=\"col\" class=\"num\">Score</th>"
          "<th scope=\"col\" class=\"num\">Network median</th></tr></thead><tbody>\n", f);
    for (uint32_t k = 0; k < fw->n_focus; k++) {
        fprintf(f, "<tr data-focus=\"");
        glci_report_esc(f, fw->focus[k].id);
        fputs("\"><td>", f);
        glci_report_text(f, fw->areas[fw->focus[k].area].name);
        fputs("</td><th scope=\"row\">", f);
        glci_report_text(f, fw->focus[k].name);
        fputs("</th>", f);
        s_city_and_median(f, "score", c->focus[k], r->focus_median[k]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</details>\n</figure>\n", f);
}

/* With trends, each period that is a reporting round of the city has its
 * index's change a year since the previous round and its class; a period
 * that only carries earlier values is no round. */
static void s_trend_figure(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    s_figure(f, GLCI_CHART_TREND, r, c);
    fprintf(f, "<table class=\"data\" id=\"data-trend\"><thead><tr><th scope=\"col\">Period"
            "</th><th scope=\"col\" class=\"num\">Index</th><th scope=\"col\" class=\"num\">"
            "Network median</th>%s</tr></thead><tbody>\n", r->has_trends ?
            "<th scope=\"col\" class=\"num\">Since</th><th scope=\"col\" class=\"num\">"
            "Change a year</th><th scope=\"col\">Trend</th>" : "");
    for (size_t i = 0; i < r->n_periods; i++) {
        int p = (int)r->first_period + (int)i;
        size_t k = 0;
        while (k < c->n_rounds && c->round_period[k] != p)
            k++;
        int round = k < c->n_rounds;
        fprintf(f, "<tr data-period=\"%d\" data-round=\"%s\"><th scope=\"row\">%d</th>", p,
                round ? "true" : "false", p);
        s_city_and_median(f, "index", c->trend[i], r->index_median[i]);
        if (r->has_trends && round)
            s_change_cells(f, glci_report_round_cell(r, c, k, 0));
        else if (r->has_trends)
            fprintf(f, "<td class=\"num\" colspan=\"2\">%s</td><td class=\"trend\" "
                    "data-key=\"trend\" data-value=\"\">&ndash;</td>", c->trend[i].present ?
                    "no round: values carried" : "no round");
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</details>\n</figure>\n", f);
}

/* One row of the trends table: node's score in the latest round and its
 * change since the round before. */
static void s_trend_row(FILE *f, const glci_report_t *r, const glci_report_city_t *c,
                        size_t node, const char *cls, const char *key, const char *name)
{
    const glci_trend_cell_t *t = glci_report_trend_latest(r, c, node);
    fputs("<tr class=\"", f);
    fputs(cls, f);
    fputs("\" data-node=\"", f);
    glci_report_esc(f, key);
    fputs("\"><th scope=\"row\">", f);
    glci_report_text(f, name);
    fputs("</th>", f);
    s_num_cell(f, "score", (glci_report_score_t){t->score, t->present});
    s_change_cells(f, t);
    fputs("</tr>\n", f);
}

/* The trend of every score at the city's latest reporting round, beside
 * the index over time (the charts' grid). */
static void s_trends(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    if (!r->has_trends)
        return;
    fputs("<section id=\"trends\" class=\"trends\">\n<h2>Trends</h2>\n", f);
    if (c->n_rounds == 0) {
        fprintf(f, "<p id=\"no-rounds\">No reporting round up to %d, so no trend: the city "
                "has no value of its own for any period.</p>\n</section>\n", (int)r->period);
        return;
    }
    int32_t last = c->round_period[c->n_rounds - 1];
    fprintf(f, "<p>Each score at the city's latest reporting round, %d%s, against the previous "
            "round that had it: <em>improving</em> at %+.2f points a year or more, "
            "<em>declining</em> at %+.2f or less, else <em>stagnating</em>.</p>\n"
            "<table class=\"data\" id=\"data-trends\" data-round=\"%d\"><thead><tr>"
            "<th scope=\"col\">Score</th><th scope=\"col\" class=\"num\">%d</th>"
            "<th scope=\"col\" class=\"num\">Since</th><th scope=\"col\" class=\"num\">"
            "Change a year</th><th scope=\"col\">Trend</th></tr></thead><tbody>\n", (int)last,
            last == r->period ? "" : " (later periods only carry its values)", GLCI_TREND_RATE,
            -GLCI_TREND_RATE, (int)last, (int)last);
    s_trend_row(f, r, c, 0, "index", "index", "Index");
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        char key[96];
        snprintf(key, sizeof key, "area:%s", fw->areas[a].id);
        s_trend_row(f, r, c, 1 + a, "area", key, fw->areas[a].name);
        for (uint32_t m = 0; m < fw->areas[a].n_focus; m++) {
            uint32_t fo = fw->areas[a].focus[m];
            snprintf(key, sizeof key, "focus:%s", fw->focus[fo].id);
            s_trend_row(f, r, c, 1 + fw->n_areas + fo, "focus", key, fw->focus[fo].name);
        }
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void s_areas_figure(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    s_figure(f, GLCI_CHART_AREAS, r, c);
    fputs("<table class=\"data\" id=\"data-areas\"><thead><tr><th scope=\"col\"></th>"
          "<th scope=\"col\" class=\"num\">Score</th><th scope=\"col\" class=\"num\">"
          "Network median</th></tr></thead><tbody>\n<tr data-area=\"\"><th scope=\"row\">"
          "Index</th>", f);
    s_city_and_median(f, "score", c->index, r->index_median[r->n_periods - 1]);
    fputs("</tr>\n", f);
    for (uint32_t a = 0; a < fw->n_areas; a++) {
        fputs("<tr data-area=\"", f);
        glci_report_esc(f, fw->areas[a].id);
        fputs("\"><th scope=\"row\">", f);
        glci_report_text(f, fw->areas[a].name);
        fputs("</th>", f);
        s_city_and_median(f, "score", c->areas[a], r->area_median[a]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</details>\n</figure>\n", f);
}

static void s_light(FILE *f, glci_light_t light)
{
    /* a shape as well as a colour: circle, triangle, square */
    static const char *const shape[] = {"", "\xe2\x97\x8f", "\xe2\x96\xb2", "\xe2\x96\xa0"};
    const char *word = glci_light_str(light);
    if (!word) {
        fputs("<td class=\"light\" data-key=\"light\" data-value=\"\">&ndash;</td>", f);
        return;
    }
    fprintf(f, "<td class=\"light light-%s\" data-key=\"light\" data-value=\"%s\"><span "
            "class=\"dot\" aria-hidden=\"true\">%s</span> %s</td>", word, word, shape[light],
            word);
}

static void s_indicators(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    int cols = 5 + (r->has_lights != 0);
    fprintf(f, "<section id=\"indicators\">\n<h2>Indicators %d</h2>\n<table class="
            "\"indicators\">\n<caption>The value used for %d of each indicator, the period it "
            "comes from (marked when carried from an earlier one) and its score.</caption>\n"
            "<thead><tr><th scope=\"col\">Indicator</th><th scope=\"col\" class=\"num\">Value"
            "</th><th scope=\"col\">Unit</th><th scope=\"col\" class=\"num\">Period</th>"
            "<th scope=\"col\" class=\"num\">Score</th>%s</tr></thead>\n", (int)r->period,
            (int)r->period, r->has_lights ? "<th scope=\"col\">Light</th>" : "");
    for (uint32_t k = 0; k < fw->n_focus; k++) {
        const glci_focus_t *fo = &fw->focus[k];
        char s[32], m[32];
        glci_report_fmt_score(c->focus[k], s,
                              sizeof s);
        glci_report_fmt_score(r->focus_median[k], m, sizeof m);
        fprintf(f, "<tbody><tr class=\"group\"><th colspan=\"%d\" scope=\"colgroup\">", cols);
        glci_report_text(f, fo->name);
        fprintf(f, " &middot; score %s (network median %s)</th></tr>\n", s, m);
        for (uint32_t j = 0; j < fo->n_ind; j++) {
            uint32_t i = fo->ind[j];
            const glci_indicator_t *ind = &fw->ind[i];
            const glci_report_ind_t *v = &c->ind[i];
            fputs("<tr data-ind=\"", f);
            glci_report_esc(f, ind->id);
            fprintf(f, "\" data-present=\"%d\" data-carried=\"%s\"><td>", v->present,
                    v->present && v->carried ? "true" : "false");
            glci_report_text(f, ind->name);
            fputs("<br><code>", f);
            glci_report_esc(f, ind->id);
            fputs("</code></td>", f);
            if (v->present) {
                char shown[32], exact[32];
                glci_format_value(v->value, shown, sizeof shown);
                glci_format_double(v->value, exact, sizeof exact);
                fprintf(f, "<td class=\"num\" data-key=\"value\" data-value=\"%s\">%s</td><td>",
                        exact, shown);
                glci_report_text(f, ind->unit);
                fprintf(f, "</td><td class=\"num\" data-key=\"period\" data-value=\"%d\">%d%s"
                        "</td>", (int)v->period, (int)v->period,
                        v->carried ? " <span class=\"carried\">carried</span>" : "");
                s_num_cell(f, "score", (glci_report_score_t){v->score, 1});
            } else {
                fputs("<td class=\"num absent\" data-key=\"value\" data-value=\"\">no value</td>"
                      "<td>", f);
                glci_report_text(f, ind->unit);
                fputs("</td><td class=\"num\" data-key=\"period\" data-value=\"\">&ndash;</td>"
                      "<td class=\"num\" data-key=\"score\" data-value=\"\">&ndash;</td>", f);
            }
            if (r->has_lights)
                s_light(f, v->light);
            fputs("</tr>\n", f);
        }
        fputs("</tbody>\n", f);
    }
    fputs("</table>\n</section>\n", f);
}

static void s_missing(FILE *f, const glci_report_t *r, const glci_report_city_t *c,
                      uint32_t *scratch)
{
    const glci_framework_t *fw = r->fw;
    size_t n = glci_report_missing(r, c, scratch);
    fprintf(f, "<section id=\"missing\">\n<h2>Missing for the %d round</h2>\n", (int)r->period);
    if (n == 0) {
        fprintf(f, "<p>Nothing: every indicator has a value for %d.</p>\n</section>\n",
                (int)r->period);
        return;
    }
    fprintf(f, "<p><span id=\"missing-count\">%zu</span> of %u indicators have no value for %d"
            " (or only one carried from an earlier period).</p>\n<ul>\n", n, fw->n_ind,
            (int)r->period);
    for (size_t k = 0; k < n; k++) {
        const glci_indicator_t *ind = &fw->ind[scratch[k]];
        const glci_report_ind_t *v = &c->ind[scratch[k]];
        fputs("<li data-ind=\"", f);
        glci_report_esc(f, ind->id);
        fputs("\">", f);
        glci_report_text(f, ind->name);
        fputs(" <code>", f);
        glci_report_esc(f, ind->id);
        fputs("</code>: ", f);
        if (v->present) {
            char shown[32];
            glci_format_value(v->value, shown, sizeof shown);
            fprintf(f, "carried from %d (%s ", (int)v->period, shown);
            glci_report_text(f, ind->unit);
            fputs(")", f);
        } else {
            fputs("no value", f);
        }
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</section>\n", f);
}

/* A value with its unit, or "no value"; exact in data-value when exact
 * (else the number is exact elsewhere on the page). */
static void s_value_cell(FILE *f, const char *key, int present, double v, const char *unit,
                         int exact)
{
    if (!present) {
        fprintf(f, "<td class=\"num absent\" data-key=\"%s\" data-value=\"\">no value</td>", key);
        return;
    }
    char shown[32], text[32] = "";
    glci_format_value(v, shown, sizeof shown);
    fprintf(f, "<td class=\"num\" data-key=\"%s\"", key);
    if (exact) {
        glci_format_double(v, text, sizeof text);
        fprintf(f, " data-value=\"%s\"", text);
    }
    fprintf(f, ">%s ", shown);
    glci_report_text(f, unit);
    fputs("</td>", f);
}

/* A score with one decimal, not repeated exactly: the page carries it (or
 * what it is computed from) exactly elsewhere. */
static void s_shown_cell(FILE *f, const char *key, glci_report_score_t s)
{
    char shown[32];
    glci_report_fmt_score(s, shown, sizeof shown);
    fprintf(f, "<td class=\"num\" data-key=\"%s\">%s</td>", key, shown);
}

/* One leading city of a weak focus area: a row group, one row per
 * indicator that makes the difference. The peer's value and score are
 * exact in data-value; this city's value and score are shown only, as the
 * gap (its score minus this city's): the indicator table carries them
 * exactly. */
static void s_peer(FILE *f, const glci_report_t *r, const glci_report_peer_focus_t *pf,
                   const glci_report_peer_t *peer)
{
    const glci_framework_t *fw = r->fw;
    char exact[32];
    glci_format_double(peer->score, exact, sizeof exact);
    fputs("<tbody class=\"peer\" data-city=\"", f);
    glci_report_esc(f, peer->city);
    fprintf(f, "\" data-score=\"%s\" data-rank=\"%u\">\n", exact, peer->rank);
    size_t rows = peer->n_ind ? peer->n_ind : 1;
    for (size_t j = 0; j < rows; j++) {
        const glci_peer_ind_t *d = peer->n_ind ? &peer->ind[j] : NULL;
        if (d) {
            fputs("<tr data-ind=\"", f);
            glci_report_esc(f, fw->ind[d->ind].id);
            fputs("\">", f);
        } else {
            fputs("<tr>", f);
        }
        if (j == 0) {
            fprintf(f, "<th scope=\"rowgroup\" rowspan=\"%zu\">", rows);
            if (s_id_ok(peer->city) && glci_report_find(r, peer->city)) {
                fprintf(f, "<a href=\"city-%s.html\">", peer->city);
                glci_report_text(f, peer->name);
                fputs("</a>", f);
            } else {
                glci_report_text(f, peer->name);
            }
            fprintf(f, "<br><span class=\"carried\">%.1f, rank %u of %zu</span></th>",
                    peer->score, peer->rank, pf->n_scored);
        }
        if (!d) {
            fprintf(f, "<td colspan=\"%d\">no indicator of its own to compare</td></tr>\n",
                    6 + (r->has_lights != 0));
            continue;
        }
        const glci_indicator_t *ind = &fw->ind[d->ind];
        fputs("<td>", f);
        glci_report_text(f, ind->name);
        fputs("</td>", f);
        s_value_cell(f, "value", 1, d->value, ind->unit, 1);
        s_num_cell(f, "score", (glci_report_score_t){d->score, 1});
        if (r->has_lights)
            s_light(f, glci_light(ind, d->value));
        s_value_cell(f, "city_value", d->city_present, d->city_value, ind->unit, 0);
        s_shown_cell(f, "city_score", (glci_report_score_t){d->city_score, d->city_present});
        s_shown_cell(f, "gap", (glci_report_score_t){d->gap, d->city_present});
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n", f);
}

/* Whom to learn from: the city's weak focus areas (below the network's
 * median), weakest first, each with the cities that lead there and the
 * indicators that make the difference (glci_peers_find). */
static void s_peers(FILE *f, const glci_report_t *r, const glci_report_city_t *c)
{
    const glci_framework_t *fw = r->fw;
    if (!r->has_peers)
        return;
    fputs("<section id=\"peers\">\n<h2>Whom to learn from</h2>\n", f);
    if (!c->has_result) {
        fprintf(f, "<p id=\"no-peers\">No result for %d, so nothing to compare with the "
                "network.</p>\n</section>\n", (int)r->period);
        return;
    }
    if (c->n_peer_focus == 0) {
        fprintf(f, "<p id=\"no-weak\">No focus area below the network's median in %d: the city "
                "is at or above the median in every focus area where it has a score.</p>\n"
                "</section>\n", (int)r->period);
        return;
    }
    fprintf(f, "<p>The focus areas where the city is below the network's median in %d, weakest "
            "first, and the cities that lead there (in the network's top quarter and above "
            "this city), with the indicators where they score higher, largest weighted gap "
            "first, then those they report and this city does not.</p>\n", (int)r->period);
    for (size_t k = 0; k < c->n_peer_focus; k++) {
        const glci_report_peer_focus_t *pf = &c->peer_focus[k];
        const glci_focus_t *fo = &fw->focus[pf->focus];
        char score[32], median[32];
        glci_format_double(pf->score, score, sizeof score);
        glci_format_double(pf->median, median, sizeof median);
        fputs("<article class=\"peer-focus\" data-focus=\"", f);
        glci_report_esc(f, fo->id);
        fprintf(f, "\" data-score=\"%s\" data-median=\"%s\" data-cities=\"%zu\">\n<h3>", score,
                median, pf->n_scored);
        glci_report_text(f, fo->name);
        fprintf(f, "</h3>\n<p>This city %.1f; network median %.1f over %zu cities.</p>\n",
                pf->score, pf->median, pf->n_scored);
        if (pf->n_peers == 0) {
            fputs("<p>No other city leads there.</p>\n</article>\n", f);
            continue;
        }
        fputs("<div class=\"scroll\"><table class=\"peers\">\n<caption>Leading cities in ", f);
        glci_report_text(f, fo->name);
        fprintf(f, ", best first, and the indicators where they do better.</caption>\n"
                "<thead><tr><th scope=\"col\">City</th><th scope=\"col\">Indicator</th>"
                "<th scope=\"col\" class=\"num\">Its value</th><th scope=\"col\" class=\"num\">"
                "Its score</th>%s<th scope=\"col\" class=\"num\">This city</th>"
                "<th scope=\"col\" class=\"num\">This city's score</th><th scope=\"col\" "
                "class=\"num\">Gap</th></tr></thead>\n",
                r->has_lights ? "<th scope=\"col\">Light</th>" : "");
        for (size_t p = 0; p < pf->n_peers; p++)
            s_peer(f, r, pf, &pf->peers[p]);
        fputs("</table></div>\n</article>\n", f);
    }
    fputs("</section>\n", f);
}

static void s_city_page(FILE *f, const glci_report_t *r, const glci_report_city_t *c,
                        uint32_t *scratch)
{
    char title[256], v[32];
    /* <title> holds no markup: the name between FSI and PDI isolates it */
    snprintf(title, sizeof title, "\xe2\x81\xa8%s\xe2\x81\xa9: Global Learning City Index %d",
             c->name, (int)r->period);
    s_head(f, title);
    s_synthetic(f, r, c);
    fprintf(f, "<nav><a href=\"index.html\">&larr; League table %d</a></nav>\n<header>\n"
            "<p class=\"kicker\">UNESCO Global Learning City Index &middot; city profile %d</p>\n"
            "<h1>", (int)r->period, (int)r->period);
    glci_report_text(f, c->name);
    fputs("</h1>\n<p class=\"meta\">Country ", f);
    glci_report_esc(f, c->country);
    fprintf(f, " &middot; city id <code>%s</code></p>\n</header>\n<main>\n<dl class=\"facts\">",
            c->id);
    glci_report_fmt_score(c->index, v, sizeof v);
    char exact[32] = "";
    if (c->has_result && c->index.present)
        glci_format_double(c->index.score, exact, sizeof exact);
    fprintf(f, "<div><dt>Index %d</dt><dd data-key=\"index\" data-value=\"%s\">%s</dd></div>",
            (int)r->period, exact, v);
    if (c->ranked)
        fprintf(f, "<div><dt>Rank</dt><dd data-key=\"rank\" data-value=\"%u\">%u of %zu</dd>"
                "</div>", c->rank, c->rank, r->n_ranked);
    else
        fputs("<div><dt>Rank</dt><dd data-key=\"rank\" data-value=\"\">not ranked</dd></div>", f);
    if (c->has_result) {
        glci_format_double(c->coverage, exact, sizeof exact);
        fprintf(f, "<div><dt>Coverage</dt><dd data-key=\"coverage\" data-value=\"%s\">%.0f%%"
                "</dd></div>", exact, c->coverage * 100.0);
    } else {
        fputs("<div><dt>Coverage</dt><dd data-key=\"coverage\" data-value=\"\">no data</dd>"
              "</div>", f);
    }
    glci_report_fmt_score(r->index_median[r->n_periods - 1], v, sizeof v);
    fprintf(f, "<div><dt>Network median</dt><dd>%s</dd></div></dl>\n", v);
    if (!c->has_result)
        fprintf(f, "<p>No result for %d: the city has no value that counts for it.</p>\n",
                (int)r->period);
    else if (!c->ranked)
        fprintf(f, "<p>Not ranked in %d: an area has no score or fewer than %.0f%% of the "
                "indicators have a value.</p>\n", (int)r->period, r->fw->min_coverage * 100.0);
    fputs("<section class=\"charts\" aria-label=\"Charts\">\n", f);
    s_focus_figure(f, r, c);
    s_areas_figure(f, r, c);
    s_trend_figure(f, r, c);
    s_trends(f, r, c);
    fputs("</section>\n", f);
    /* whom to learn from before the reference tables: it is what a city
     * acts on */
    s_peers(f, r, c);
    s_indicators(f, r, c);
    s_missing(f, r, c, scratch);
    fputs("</main>\n", f);
    s_footer(f, r);
    fputs("</body>\n</html>\n", f);
}

/* ---- the folder ----------------------------------------------------------- */

/* dir exists (made now if missing) and is empty or an earlier report. */
static int s_prepare(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make the folder %s: %s", dir, strerror(errno));
        return GLCI_REPORT_EIO;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a folder", dir);
        return GLCI_REPORT_EIO;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read the folder %s: %s", dir, strerror(errno));
        return GLCI_REPORT_EIO;
    }
    int others = 0, marked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strcmp(e->d_name, S_MARKER) == 0)
            marked = 1;
        else if (!glci_file_tmp_of(e->d_name, S_MARKER))    /* ours, cut short */
            others = 1;
    }
    closedir(d);
    if (others && !marked) {
        snprintf(err, errlen, "%s is not empty and holds no glci report (no %s); give a new or "
                 "empty folder", dir, S_MARKER);
        return GLCI_REPORT_ENOTEMPTY;
    }
    return 0;
}

/* Writes city c's three charts and its page. */
static int s_city_files(const glci_report_t *r, const glci_report_city_t *c, const char *dir,
                        uint32_t *scratch, char *err, size_t errlen)
{
    char path[4096];
    glci_report_file_t file = {0};
    int rc = 0;
    for (int k = 0; k < GLCI_CHART_KINDS && rc == 0; k++) {
        snprintf(path, sizeof path, "%s/charts/%s-%s.svg", dir, c->id,
                 glci_chart_name((glci_chart_kind_t)k));
        if ((rc = glci_report_file_open(&file, path, err, errlen)) != 0)
            break;
        rc = glci_chart_svg((glci_chart_kind_t)k, r, c, file.f);
        if (rc != 0) {
            snprintf(err, errlen, "cannot draw %.900s: %s", path, glci_report_strerror(rc));
            break;
        }
        rc = glci_report_file_commit(&file, err, errlen);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/city-%s.html", dir, c->id);
        if ((rc = glci_report_file_open(&file, path, err, errlen)) == 0) {
            s_city_page(file.f, r, c, scratch);
            rc = glci_report_file_commit(&file, err, errlen);
        }
    }
    glci_report_file_abort(&file);
    return rc;
}

/* The city pages are written by a few threads, each taking the next city
 * (charts are most of the work and the cities are independent; Cairo draws
 * on separate surfaces from any thread). The first failure stops them. */
typedef struct {
    const glci_report_t *r;
    const char *dir;
    atomic_size_t next;
    atomic_int failed;
    pthread_mutex_t lock;
    int rc;                     /* the first failure, under lock */
    char err[1024];
} s_work_t;

static void *s_worker(void *arg)
{
    s_work_t *w = arg;
    uint32_t *scratch = glci_xcalloc(w->r->fw->n_ind ? w->r->fw->n_ind : 1, sizeof *scratch);
    char err[1024];
    while (!atomic_load(&w->failed)) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->r->n_cities)
            break;
        int rc = s_city_files(w->r, &w->r->cities[i], w->dir, scratch, err, sizeof err);
        if (rc != 0) {
            pthread_mutex_lock(&w->lock);
            if (w->rc == 0) {
                w->rc = rc;
                snprintf(w->err, sizeof w->err, "%s", err);
            }
            pthread_mutex_unlock(&w->lock);
            atomic_store(&w->failed, 1);
        }
    }
    free(scratch);
    return NULL;
}

static int s_city_pages(const glci_report_t *r, const char *dir, char *err, size_t errlen)
{
    s_work_t w = {.r = r, .dir = dir};
    atomic_init(&w.next, 0);
    atomic_init(&w.failed, 0);
    pthread_mutex_init(&w.lock, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus < 1 ? 1 : cpus > S_MAX_THREADS ? S_MAX_THREADS : (size_t)cpus;
    if (n > r->n_cities)
        n = r->n_cities ? r->n_cities : 1;
    pthread_t threads[S_MAX_THREADS];
    size_t started = 0;
    for (; started + 1 < n; started++)
        if (pthread_create(&threads[started], NULL, s_worker, &w) != 0)
            break;              /* fewer threads; this one works too */
    s_worker(&w);
    for (size_t k = 0; k < started; k++)
        pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&w.lock);
    if (w.rc != 0)
        snprintf(err, errlen, "%s", w.err);
    return w.rc;
}

int glci_report_write_site(const glci_report_t *r, const char *dir, size_t *n_pages,
                           char *err, size_t errlen)
{
    char path[4096];
    glci_report_file_t file = {0};
    int rc;
    if (strlen(dir) > 3000) {
        snprintf(err, errlen, "output folder name too long");
        return GLCI_REPORT_EIO;
    }
    for (size_t i = 0; i < r->n_cities; i++)
        if (!s_id_ok(r->cities[i].id)) {
            snprintf(err, errlen, "city id '%.64s' cannot name a file", r->cities[i].id);
            return GLCI_REPORT_EINVAL;
        }
    rc = s_prepare(dir, err, errlen);
    if (rc != 0)
        return rc;
    snprintf(path, sizeof path, "%s/%s", dir, S_MARKER);
    if ((rc = glci_report_file_open(&file, path, err, errlen)) != 0)
        return rc;
    fputs("glci report: this folder is written by `glci report --out`, which may "
          "overwrite it\n", file.f);
    if ((rc = glci_report_file_commit(&file, err, errlen)) != 0)
        return rc;
    /* charts/ only once the marker is there: a report that fails from here
     * on leaves a folder its retry knows as glci's and replaces */
    snprintf(path, sizeof path, "%s/charts", dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make the folder %s: %s", path, strerror(errno));
        return GLCI_REPORT_EIO;
    }
    if ((rc = s_city_pages(r, dir, err, errlen)) != 0)
        return rc;
    snprintf(path, sizeof path, "%s/index.html", dir);
    if ((rc = glci_report_file_open(&file, path, err, errlen)) != 0)
        return rc;
    s_index_page(file.f, r);
    if ((rc = glci_report_file_commit(&file, err, errlen)) != 0)
        return rc;
    if (n_pages)
        *n_pages = r->n_cities;
    return 0;
}
