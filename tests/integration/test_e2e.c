/* End to end: five agents and a collector over CURVE on loopback, values
 * entering through `glci-agent push` and through CSV files renamed into the
 * spool folder, results read back with `glci show` / `glci rank` /
 * `glci rejects` --format json and compared with scores computed here, in
 * the test, from SPEC §3 and a small framework written here -- not by
 * calling the engine.
 *
 * The data set exercises: weights at every level, a `lower` indicator, a
 * yes/no indicator, clamping above the upper goalpost, a revision (the later
 * value wins), a value carried from P-1, one too old to carry, an area with
 * no score (no index), coverage below min_coverage (unranked), two cities
 * with equal indices (rank 1, 2, 2, ...), and a value the collector rejects
 * (unknown indicator). A second, smaller run uses the same tree with
 * aggregation = geometric and areas scored 0 and 0.2 (the index counts them
 * as 1: max(s, 1)).
 *
 * Exactness: the JSON numbers round-trip, and the sums here run in
 * framework order like the engine's, but SPEC §3 fixes the formula, not
 * the association of its operations (100*(v-l)/(u-l) and
 * (v-l)/(u-l)*100 may differ in the last bit). Scores are therefore
 * compared within 1e-9 (scores lie in [0, 100], so that is ~1e-11
 * relative: far above rounding noise of a few ulps, far below any real
 * difference). Coverage (a single division), values, periods, carried flags
 * and ranks are compared exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glci_checker.h"

/* ---- the framework, as the test knows it -------------------------------- */

static const char s_framework[] =
    "[framework]\n"
    "id = e2e-test\n"
    "version = 1\n"
    "min_coverage = 0.7\n"
    "carry_forward = 2\n"
    "aggregation = arithmetic\n"
    "first_period = 2000\n"
    "last_period = 2100\n"
    "\n"
    "[area:a1]\nname = Area one\nweight = 2\n\n"
    "[area:a2]\nname = Area two\nweight = 1\n\n"
    "[focus:a1.f1]\narea = a1\nname = Focus one\nweight = 1\n\n"
    "[focus:a1.f2]\narea = a1\nname = Focus two\nweight = 3\n\n"
    "[focus:a2.f3]\narea = a2\nname = Focus three\nweight = 1\n\n"
    "[indicator:i1]\nfocus = a1.f1\nname = One\nunit = %\ndirection = higher\n"
    "lower = 10\nupper = 60\nmin = 0\nmax = 100\nweight = 1\n\n"
    "[indicator:i2]\nfocus = a1.f1\nname = Two\nunit = %\ndirection = lower\n"
    "lower = 5\nupper = 25\nmin = 0\nmax = 50\nweight = 2\n\n"
    "[indicator:i3]\nfocus = a1.f2\nname = Three\nunit = yes/no\ndirection = higher\n"
    "lower = 0\nupper = 1\nmin = 0\nmax = 1\nweight = 1\n\n"
    "[indicator:i4]\nfocus = a1.f2\nname = Four\nunit = count\ndirection = higher\n"
    "lower = 100\nupper = 500\nmin = 0\nmax = 1000\nweight = 0.5\n\n"
    "[indicator:i5]\nfocus = a2.f3\nname = Five\nunit = %\ndirection = higher\n"
    "lower = 0\nupper = 80\nmin = 0\nmax = 100\nweight = 1\n\n"
    "[indicator:i6]\nfocus = a2.f3\nname = Six\nunit = %\ndirection = lower\n"
    "lower = 0\nupper = 40\nmin = 0\nmax = 100\nweight = 1.5\n";

#define N_IND 6
#define N_FOCUS 3
#define N_AREA 2
#define MIN_COVERAGE 0.7
#define CARRY 2

static const struct {
    const char *id;
    int focus;
    int lower_is_better;
    double lower, upper, weight;
} s_ind[N_IND] = {
    {"i1", 0, 0, 10, 60, 1},  {"i2", 0, 1, 5, 25, 2},   {"i3", 1, 0, 0, 1, 1},
    {"i4", 1, 0, 100, 500, 0.5}, {"i5", 2, 0, 0, 80, 1}, {"i6", 2, 1, 0, 40, 1.5},
};
static const struct {
    const char *id;
    int area;
    double weight;
} s_focus[N_FOCUS] = {{"a1.f1", 0, 1}, {"a1.f2", 0, 3}, {"a2.f3", 1, 1}};
static const struct {
    const char *id;
    double weight;
} s_area[N_AREA] = {{"a1", 2}, {"a2", 1}};

/* ---- the data set ------------------------------------------------------- */

typedef enum { PUSH, SPOOL } s_way_t;

typedef struct {
    int agent;
    const char *ind;
    int period;
    const char *value;
} s_obs_t;

/* In sending order; A=c00 (push), B=c01 (spool), C=c02 (push, same data as
 * B), D=c03 (spool), E=c04 (push). */
static const s_obs_t s_data[] = {
    {0, "i1", 2025, "30"},  {0, "i2", 2025, "12.5"}, {0, "i3", 2025, "1"},
    {0, "i4", 2025, "600"}, {0, "i5", 2025, "64"},   {0, "i6", 2025, "10"},
    {0, "i1", 2025, "45"},  /* revision: 45 replaces 30 */
    {1, "i1", 2024, "52"},  {1, "i2", 2025, "20"},   {1, "i3", 2025, "0"},
    {1, "i4", 2025, "300"}, {1, "i5", 2025, "40"},   {1, "i6", 2022, "8"},  /* too old */
    {2, "i1", 2024, "52"},  {2, "i2", 2025, "20"},   {2, "i3", 2025, "0"},
    {2, "i4", 2025, "300"}, {2, "i5", 2025, "40"},   {2, "i6", 2022, "8"},
    {3, "i1", 2025, "15"},  {3, "i2", 2025, "24"},   {3, "i3", 2025, "0"},
    {3, "i4", 2025, "150"}, {3, "i5", 2025, "8"},    {3, "i6", 2025, "39"},
    {4, "i1", 2025, "60"},  {4, "i2", 2025, "5"},    {4, "i3", 2025, "1"},
    {4, "i4", 2025, "500"},
};
#define N_AGENTS 5

/* The second, geometric framework (the same tree, aggregation = geometric):
 * A has an area scored exactly 0 and B one scored 0.2, both counted as 1 in
 * the index (max(s, 1)); C has every score well above 1. */
static const s_obs_t s_geo_data[] = {
    {0, "i1", 2025, "30"},  {0, "i2", 2025, "12.5"}, {0, "i3", 2025, "1"},
    {0, "i4", 2025, "600"}, {0, "i5", 2025, "0"},    {0, "i6", 2025, "40"},
    {1, "i1", 2025, "45"},  {1, "i2", 2025, "10"},   {1, "i3", 2025, "0"},
    {1, "i4", 2025, "250"}, {1, "i5", 2025, "0.4"},  {1, "i6", 2025, "40"},
    {2, "i1", 2025, "50"},  {2, "i2", 2025, "15"},   {2, "i3", 2025, "1"},
    {2, "i4", 2025, "420"}, {2, "i5", 2025, "56"},   {2, "i6", 2025, "16"},
};

/* The data set and aggregation a test runs with. */
typedef struct {
    const s_obs_t *data;
    size_t n_data;
    int n_agents;
    int geometric;
} s_case_t;

static const s_case_t s_arith_case = {s_data, sizeof s_data / sizeof s_data[0], N_AGENTS, 0};
static const s_case_t s_geo_case = {s_geo_data, sizeof s_geo_data / sizeof s_geo_data[0], 3,
                                    1};
static const s_case_t *s_cur = &s_arith_case;

/* ---- SPEC §3, computed here --------------------------------------------- */

typedef struct {
    int present;
    double value, score;
    int period;
} s_slot_t;

typedef struct {
    s_slot_t ind[N_IND];
    int focus_present[N_FOCUS], area_present[N_AREA];
    double focus[N_FOCUS], area[N_AREA];
    double coverage;
    int has_index;
    double index;
} s_expect_t;

static int s_ind_pos(const char *id)
{
    for (int i = 0; i < N_IND; i++)
        if (strcmp(s_ind[i].id, id) == 0)
            return i;
    return -1;
}

static void s_compute(int agent, int P, s_expect_t *e)
{
    memset(e, 0, sizeof *e);
    for (int i = 0; i < N_IND; i++) {
        /* 1. the greatest p in [P-carry, P]; a later observation of the
         * same period replaces an earlier one */
        for (size_t k = 0; k < s_cur->n_data; k++) {
            const s_obs_t *o = &s_cur->data[k];
            if (o->agent != agent || strcmp(o->ind, s_ind[i].id) != 0)
                continue;
            int p = o->period;
            if (p < P - CARRY || p > P)
                continue;
            if (!e->ind[i].present || p >= e->ind[i].period) {
                e->ind[i].present = 1;
                e->ind[i].period = p;
                e->ind[i].value = strtod(o->value, NULL);
            }
        }
        if (!e->ind[i].present)
            continue;
        /* 2. score, clamped */
        double v = e->ind[i].value, l = s_ind[i].lower, u = s_ind[i].upper;
        double s = s_ind[i].lower_is_better ? 100.0 * (u - v) / (u - l)
                                            : 100.0 * (v - l) / (u - l);
        e->ind[i].score = s < 0 ? 0 : s > 100 ? 100 : s;
    }
    /* 3. focus areas, 4. areas: weighted means over what is present */
    int n_values = 0;
    for (int f = 0; f < N_FOCUS; f++) {
        double num = 0, den = 0;
        for (int i = 0; i < N_IND; i++)
            if (s_ind[i].focus == f && e->ind[i].present) {
                num += s_ind[i].weight * e->ind[i].score;
                den += s_ind[i].weight;
            }
        e->focus_present[f] = den > 0;
        e->focus[f] = den > 0 ? num / den : 0;
    }
    for (int a = 0; a < N_AREA; a++) {
        double num = 0, den = 0;
        for (int f = 0; f < N_FOCUS; f++)
            if (s_focus[f].area == a && e->focus_present[f]) {
                num += s_focus[f].weight * e->focus[f];
                den += s_focus[f].weight;
            }
        e->area_present[a] = den > 0;
        e->area[a] = den > 0 ? num / den : 0;
    }
    /* 5. coverage, 6. index: arithmetic sum Σ w_a s_a / Σ w_a, or geometric
     * Π max(s_a, 1)^(w_a / Σ w_a), both in framework order */
    for (int i = 0; i < N_IND; i++)
        n_values += e->ind[i].present;
    e->coverage = (double)n_values / (double)N_IND;
    e->has_index = e->coverage >= MIN_COVERAGE;
    double num = 0, den = 0, prod = 1;
    for (int a = 0; a < N_AREA; a++) {
        if (!e->area_present[a])
            e->has_index = 0;
        num += s_area[a].weight * e->area[a];
        den += s_area[a].weight;
    }
    for (int a = 0; a < N_AREA; a++)
        prod *= pow(e->area[a] > 1 ? e->area[a] : 1, s_area[a].weight / den);
    e->index = !e->has_index ? 0 : s_cur->geometric ? prod : num / den;
}

/* ---- comparing with the CLI's JSON --------------------------------------- */

#define TOL 1e-9

static void s_near(const char *what, json_t *j, int present, double want)
{
    if (!present) {
        if (j && !json_is_null(j))
            fail_msg("%s: expected null, got %g", what, json_number_value(j));
        return;
    }
    if (!json_is_number(j))
        fail_msg("%s: expected %.17g, got no number", what, want);
    double got = json_number_value(j);
    if (fabs(got - want) > TOL)
        fail_msg("%s: expected %.17g, got %.17g", what, want, got);
}

static json_t *s_cli_json(glci_sys_t *s, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = glci_sys_cli(s, args, &out, &err);
    if (rc != 0)
        fail_msg("glci %s exited %d: %s", args[0], rc, err ? err : "");
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        fail_msg("glci %s: output is not JSON (%s): %s", args[0], je.text, out);
    free(out);
    free(err);
    return j;
}

static void s_check_show(glci_sys_t *s, int agent, int P)
{
    s_expect_t e;
    s_compute(agent, P, &e);
    char period[16], what[128];
    snprintf(period, sizeof period, "%d", P);
    const char *args[] = {"show", s->agents[agent].city, "--period", period, "--format",
                          "json", NULL};
    json_t *j = s_cli_json(s, args);
    assert_string_equal(json_string_value(json_object_get(j, "city")), s->agents[agent].city);
    assert_int_equal(json_integer_value(json_object_get(j, "period")), P);
    snprintf(what, sizeof what, "%s %d index", s->agents[agent].city, P);
    s_near(what, json_object_get(j, "index"), e.has_index, e.index);
    assert_true(json_number_value(json_object_get(j, "coverage")) == e.coverage);

    json_t *areas = json_object_get(j, "areas");
    assert_int_equal(json_array_size(areas), N_AREA);
    int seen_ind = 0;
    for (int a = 0; a < N_AREA; a++) {
        json_t *ja = json_array_get(areas, (size_t)a);
        assert_string_equal(json_string_value(json_object_get(ja, "id")), s_area[a].id);
        snprintf(what, sizeof what, "%s %d area %s", s->agents[agent].city, P, s_area[a].id);
        s_near(what, json_object_get(ja, "score"), e.area_present[a], e.area[a]);
        json_t *focus = json_object_get(ja, "focus");
        for (size_t k = 0; k < json_array_size(focus); k++) {
            json_t *jf = json_array_get(focus, k);
            const char *fid = json_string_value(json_object_get(jf, "id"));
            int f = 0;
            while (f < N_FOCUS && strcmp(s_focus[f].id, fid) != 0)
                f++;
            assert_true(f < N_FOCUS);
            assert_int_equal(s_focus[f].area, a);
            snprintf(what, sizeof what, "%s %d focus %s", s->agents[agent].city, P, fid);
            s_near(what, json_object_get(jf, "score"), e.focus_present[f], e.focus[f]);
            json_t *inds = json_object_get(jf, "indicators");
            for (size_t m = 0; m < json_array_size(inds); m++) {
                json_t *ji = json_array_get(inds, m);
                int i = s_ind_pos(json_string_value(json_object_get(ji, "id")));
                assert_true(i >= 0);
                assert_int_equal(s_ind[i].focus, f);
                seen_ind++;
                snprintf(what, sizeof what, "%s %d %s", s->agents[agent].city, P, s_ind[i].id);
                s_near(what, json_object_get(ji, "score"), e.ind[i].present, e.ind[i].score);
                if (!e.ind[i].present) {
                    assert_true(json_is_null(json_object_get(ji, "value")));
                    continue;
                }
                /* values and periods are exact */
                assert_true(json_number_value(json_object_get(ji, "value")) == e.ind[i].value);
                assert_int_equal(json_integer_value(json_object_get(ji, "period")),
                                 e.ind[i].period);
                assert_int_equal(json_is_true(json_object_get(ji, "carried")),
                                 e.ind[i].period < P);
            }
        }
    }
    assert_int_equal(seen_ind, N_IND);
    json_decref(j);
}

typedef struct {
    int agent;
    double index, coverage;
} s_ranked_t;

static int s_ranked_cmp(const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    if (x->index != y->index)
        return x->index > y->index ? -1 : 1;
    return (x->agent > y->agent) - (x->agent < y->agent);  /* ids sort like agents */
}

static void s_check_rank(glci_sys_t *s, int P)
{
    s_ranked_t ranked[N_AGENTS];
    int n_ranked = 0, unranked[N_AGENTS], n_unranked = 0;
    for (int a = 0; a < s_cur->n_agents; a++) {
        s_expect_t e;
        s_compute(a, P, &e);
        int any = 0;
        for (int i = 0; i < N_IND; i++)
            any |= e.ind[i].present;
        if (e.has_index)
            ranked[n_ranked++] = (s_ranked_t){a, e.index, e.coverage};
        else if (any)
            unranked[n_unranked++] = a;
    }
    qsort(ranked, (size_t)n_ranked, sizeof *ranked, s_ranked_cmp);

    char period[16];
    snprintf(period, sizeof period, "%d", P);
    const char *args[] = {"rank", "--period", period, "--format", "json", NULL};
    json_t *j = s_cli_json(s, args);
    assert_int_equal(json_integer_value(json_object_get(j, "period")), P);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), n_ranked);
    for (int k = 0; k < n_ranked; k++) {
        json_t *r = json_array_get(rows, (size_t)k);
        /* equal indices share a rank: 1, 2, 2, 4 */
        int want_rank = k + 1;
        for (int q = k; q > 0 && ranked[q - 1].index == ranked[k].index; q--)
            want_rank = q;
        char what[96];
        snprintf(what, sizeof what, "rank %d row %d score", P, k);
        assert_string_equal(json_string_value(json_object_get(r, "city")),
                            s->agents[ranked[k].agent].city);
        assert_int_equal(json_integer_value(json_object_get(r, "rank")), want_rank);
        s_near(what, json_object_get(r, "score"), 1, ranked[k].index);
        assert_true(json_number_value(json_object_get(r, "coverage")) == ranked[k].coverage);
    }
    json_t *un = json_object_get(j, "unranked");
    assert_int_equal(json_array_size(un), n_unranked);
    for (int k = 0; k < n_unranked; k++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(un, (size_t)k),
                                                              "city")),
                            s->agents[unranked[k]].city);
    json_decref(j);
}

/* ---- the test ------------------------------------------------------------ */

static void s_deliver(glci_sys_t *s, int agent, s_way_t way)
{
    char csv[4096];
    size_t len = (size_t)snprintf(csv, sizeof csv, "source,value,indicator,period,observed_at\n");
    for (size_t k = 0; k < s_cur->n_data; k++) {
        const s_obs_t *o = &s_cur->data[k];
        if (o->agent != agent)
            continue;
        glci_checker_expect(s->chk, s->agents[agent].city, o->ind, o->period,
                            strtod(o->value, NULL));
        if (way == PUSH)
            glci_sys_push_one(s, (size_t)agent, o->ind, o->period, o->value);
        else
            len += (size_t)snprintf(csv + len, sizeof csv - len,
                                    "\"city office, \"\"e2e\"\"\",%s,%s,%d,2026-06-30\n",
                                    o->value, o->ind, o->period);
    }
    if (way == SPOOL) {
        if (agent == 3 && !s_cur->geometric)  /* one value the collector must reject */
            len += (size_t)snprintf(csv + len, sizeof csv - len, "x,10,i9,2025,2026-06-30\n");
        assert_true(len < sizeof csv);
        glci_sys_spool_text(s, (size_t)agent, "e2e.csv", csv);
    }
}

/* Writes the framework into dir/framework.ini, with aggregation = geometric
 * in place of arithmetic if asked; fw receives the path. */
static void s_write_framework(const char *dir, int geometric, char *fw, size_t fwlen)
{
    static const char arith[] = "aggregation = arithmetic\n";
    char text[sizeof s_framework + 16];
    const char *at = strstr(s_framework, arith);
    assert_non_null(at);
    int len = snprintf(text, sizeof text, "%.*s%s%s", (int)(at - s_framework), s_framework,
                       geometric ? "aggregation = geometric\n" : arith, at + strlen(arith));
    assert_true(len > 0 && (size_t)len < sizeof text);
    snprintf(fw, fwlen, "%s/framework.ini", dir);
    assert_int_equal(glci_ts_write_file(fw, text), 0);
}

static void test_e2e_scores_ranks_and_rejects(void **state)
{
    (void)state;
    s_cur = &s_arith_case;
    char *dir = glci_ts_tmpdir("e2e-fw");
    char fw[600];
    s_write_framework(dir, 0, fw, sizeof fw);

    glci_sys_opts_t o = {.framework = fw, .batch_max = 3, .window = 2};
    glci_sys_t *s = glci_sys_open("e2e", N_AGENTS, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_start_agent(s, i);
    s_deliver(s, 0, PUSH);
    s_deliver(s, 1, SPOOL);
    s_deliver(s, 2, PUSH);
    s_deliver(s, 3, SPOOL);
    s_deliver(s, 4, PUSH);
    glci_sys_assert_exactly_once(s);

    for (int P = 2024; P <= 2027; P++)
        for (int a = 0; a < N_AGENTS; a++)
            if (P != 2024 || a == 1 || a == 2)    /* only B and C have 2024 data */
                s_check_show(s, a, P);
    for (int P = 2024; P <= 2027; P++)
        s_check_rank(s, P);

    /* The rejected value is recorded with its reason. */
    const char *args[] = {"rejects", "--format", "json", NULL};
    json_t *j = s_cli_json(s, args);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 1);
    json_t *r = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(r, "city")), s->agents[3].city);
    assert_string_equal(json_string_value(json_object_get(r, "indicator")), "i9");
    assert_string_equal(json_string_value(json_object_get(r, "reason")), "unknown indicator");
    json_decref(j);

    for (size_t i = 0; i < N_AGENTS; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
    glci_ts_rmtree(dir);
    free(dir);
}

/* The same tree aggregated geometrically: three agents (push, spool,
 * push), index and rank checked against Π max(s_a, 1)^(w_a / Σ w_a). */
static void test_e2e_geometric_aggregation(void **state)
{
    (void)state;
    s_cur = &s_geo_case;
    char *dir = glci_ts_tmpdir("e2e-geo-fw");
    char fw[600];
    s_write_framework(dir, 1, fw, sizeof fw);

    glci_sys_opts_t o = {.framework = fw, .batch_max = 4, .window = 2};
    glci_sys_t *s = glci_sys_open("e2e-geo", (size_t)s_geo_case.n_agents, &o);
    glci_sys_start_collector(s, NULL);
    for (size_t i = 0; i < (size_t)s_geo_case.n_agents; i++)
        glci_sys_start_agent(s, i);
    s_deliver(s, 0, PUSH);
    s_deliver(s, 1, SPOOL);
    s_deliver(s, 2, PUSH);
    glci_sys_assert_exactly_once(s);

    for (int a = 0; a < s_geo_case.n_agents; a++)
        s_check_show(s, a, 2025);
    s_check_rank(s, 2025);

    for (size_t i = 0; i < (size_t)s_geo_case.n_agents; i++)
        glci_sys_stop_agent(s, i);
    glci_sys_stop_collector(s);
    glci_sys_close(&s);
    glci_ts_rmtree(dir);
    free(dir);
    s_cur = &s_arith_case;
}

/* The geometric data set is what its comment says: areas at 0 and 0.2
 * count as 1, so A and B get the index max(a1, 1)^(2/3), which differs from
 * the arithmetic mean. */
static void test_e2e_geometric_data_set(void **state)
{
    (void)state;
    s_expect_t a, b, c;
    s_cur = &s_geo_case;
    s_compute(0, 2025, &a);
    s_compute(1, 2025, &b);
    s_compute(2, 2025, &c);
    s_cur = &s_arith_case;
    assert_true(a.has_index && b.has_index && c.has_index);
    assert_true(a.area_present[1] && a.area[1] == 0);
    assert_true(b.area[1] > 0 && b.area[1] < 1);
    assert_true(c.area[0] > 1 && c.area[1] > 1);
    assert_true(fabs(a.index - pow(a.area[0], 2.0 / 3.0)) < 1e-12);
    assert_true(fabs(b.index - pow(b.area[0], 2.0 / 3.0)) < 1e-12);
    assert_true(fabs(a.index - (2 * a.area[0] + a.area[1]) / 3) > 1);
    fprintf(stderr, "# geometric 2025 indices: A %.17g B %.17g C %.17g\n", a.index, b.index,
            c.index);
}

/* The data set really exercises what the header says (guards the test). */
static void test_e2e_data_set_covers_the_method(void **state)
{
    (void)state;
    s_expect_t a, b, c, d, e, b27;
    s_compute(0, 2025, &a);
    s_compute(1, 2025, &b);
    s_compute(2, 2025, &c);
    s_compute(3, 2025, &d);
    s_compute(4, 2025, &e);
    s_compute(1, 2027, &b27);
    assert_true(a.ind[0].value == 45);                  /* revision */
    assert_true(a.ind[3].score == 100);                 /* clamped */
    assert_true(b.ind[0].present && b.ind[0].period == 2024);   /* carried */
    assert_false(b.ind[5].present);                     /* too old to carry */
    assert_true(b.has_index && c.has_index && b.index == c.index);   /* a tie */
    fprintf(stderr, "# 2025 indices: A %.17g B %.17g C %.17g D %.17g\n", a.index, b.index,
            c.index, d.index);
    assert_true(a.has_index && d.has_index && a.index > b.index && d.index < b.index);
    assert_true(!e.has_index && !e.area_present[1] && e.coverage < MIN_COVERAGE);
    assert_true(!b27.has_index && b27.area_present[0] && b27.area_present[1] &&
                b27.coverage < MIN_COVERAGE);           /* coverage alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e_data_set_covers_the_method),
        cmocka_unit_test_teardown(test_e2e_scores_ranks_and_rejects, glci_sys_teardown),
        cmocka_unit_test(test_e2e_geometric_data_set),
        cmocka_unit_test_teardown(test_e2e_geometric_aggregation, glci_sys_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
