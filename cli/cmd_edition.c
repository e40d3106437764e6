/* glci edition publish / list / diff (SPEC §7): published league tables.
 * publish freezes the as-of recomputation of a period in one store write
 * transaction (glci_store_edition_publish); list and diff read them back.
 * rank, show and export read one with --edition NAME (source.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glci_alloc.h"
#include "glci_text.h"

static json_t *s_edition_json(const glci_edition_t *e)
{
    return json_pack("{s:s, s:i, s:o, s:o, s:I, s:I, s:s, s:s, s:o}", "name", e->name, "period",
                     (int)e->period, "as_of", glci_json_time(e->as_of), "published",
                     glci_json_time(e->published), "cities", (json_int_t)e->n_rows, "ranked",
                     (json_int_t)e->n_ranked, "framework_hash", e->fw_hash_hex, "by", e->by,
                     "sudo_user", e->sudo_user[0] ? json_string(e->sudo_user) : json_null());
}

/* An edition as a table row: in CSV every field of s_edition_json under
 * its JSON name (sudo_user empty when null); for people, the publisher
 * with the sudo user in one column and the hash cut to 12 digits. */
static glci_table_t *s_edition_table(int csv)
{
    static const char *const h[] = {"name", "period", "as_of", "published", "by", "cities",
                                    "ranked", "framework_hash", "sudo_user"};
    static const char *const people[] = {"name", "period", "as_of", "published", "by",
                                         "cities", "ranked", "framework"};
    return csv ? glci_table_new(9, h, NULL) : glci_table_new(8, people, "lrlllrrl");
}

static void s_edition_cells(glci_table_t *t, const glci_edition_t *e, int csv)
{
    char a[32], p[32];
    glci_format_iso_time(e->as_of, a, sizeof a);
    glci_format_iso_time(e->published, p, sizeof p);
    glci_table_cell(t, e->name);
    glci_table_cellf(t, "%d", (int)e->period);
    glci_table_cell(t, a);
    glci_table_cell(t, p);
    if (e->sudo_user[0] && !csv)
        glci_table_cellf(t, "%s (sudo from %s)", e->by, e->sudo_user);
    else
        glci_table_cell(t, e->by);
    glci_table_cellf(t, "%zu", e->n_rows);
    glci_table_cellf(t, "%zu", e->n_ranked);
    if (csv) {
        glci_table_cell(t, e->fw_hash_hex);
        glci_table_cell(t, e->sudo_user);
    } else {
        glci_table_cellf(t, "%.12s", e->fw_hash_hex);
    }
}

/* ---- publish ----------------------------------------------------------------- */

static int s_publish(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    glci_opt_t opts[] = {{.name = "period", .has_arg = 1}, {.name = "as-of", .has_arg = 1}};
    const char *pos[1];
    int rc = glci_args_parse(cmd, argc, argv, opts, 2, pos, 1, 1, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    char why[256];
    if (glci_edition_name_check(pos[0], why, sizeof why) != 0)
        return glci_usage_error(cmd, "%s", why);
    int64_t now = (int64_t)time(NULL), as_of = now;
    int32_t period = 0;
    if (opts[0].seen && glci_args_period_opt(cmd, &opts[0], &period) != 0)
        return GLCI_EXIT_USAGE;
    if (opts[1].seen && glci_args_time(cmd, "--as-of", opts[1].value, now, &as_of) != 0)
        return GLCI_EXIT_USAGE;

    char op[GLCI_OPERATOR_MAX + 1], sudo[GLCI_OPERATOR_MAX + 1], err[512] = "";
    glci_cli_operator(op, sudo);
    glci_edition_spec_t spec = {.name = pos[0], .has_period = opts[0].seen, .period = period,
                                .as_of = as_of,
                                .as_of_now = !opts[1].seen || strcmp(opts[1].value, "now") == 0,
                                .op = op, .sudo_user = sudo[0] ? sudo : NULL};
    glci_edition_t e;
    glci_store_t *st = NULL;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 0, &st) != 0)
        goto cleanup;
    rc = glci_store_edition_publish(st, &spec, now, &e, err, sizeof err);
    if (rc != 0) {
        glci_fail(cmd, "%s", err[0] ? err : glci_store_strerror(rc));
        goto cleanup;
    }
    char when[32];
    glci_format_iso_time(e.as_of, when, sizeof when);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *j = s_edition_json(&e);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
    } else if (cli->format == GLCI_FMT_CSV) {
        glci_table_t *t = s_edition_table(1);
        s_edition_cells(t, &e, 1);
        glci_table_print_csv(t, stdout);
        glci_table_free(&t);
        status = GLCI_EXIT_OK;
    } else {
        printf("published edition %s: period %d as the store held it at %s, %zu cities "
               "(%zu ranked), framework %.12s; it never changes\n", e.name, (int)e.period,
               when, e.n_rows, e.n_ranked, e.fw_hash_hex);
        status = GLCI_EXIT_OK;
    }
cleanup:
    glci_store_close(&st);
    return status;
}

/* ---- list ---------------------------------------------------------------------- */

typedef struct {
    glci_edition_t *e;
    size_t n, cap;
} s_list_t;

static int s_list_add(void *ctx, const glci_edition_t *e)
{
    s_list_t *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->e = glci_xrealloc(l->e, l->cap * sizeof *l->e);
    }
    l->e[l->n++] = *e;
    return 0;
}

static int s_list(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    s_list_t l = {0};
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    rc = glci_view_editions(v, s_list_add, &l);
    if (rc != 0) {
        glci_cli_store_fail(cmd, cli, rc, "cannot read the editions");
        goto cleanup;
    }
    if (l.n > 1)
        qsort(l.e, l.n, sizeof *l.e, glci_edition_cmp);
    if (cli->format == GLCI_FMT_JSON) {
        json_t *rows = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(rows, s_edition_json(&l.e[i]));
        json_t *j = json_pack("{s:o}", "editions", rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
        goto cleanup;
    }
    int csv = cli->format == GLCI_FMT_CSV;
    glci_table_t *t = s_edition_table(csv);
    for (size_t i = 0; i < l.n; i++)
        s_edition_cells(t, &l.e[i], csv);
    if (csv)
        glci_table_print_csv(t, stdout);
    else if (l.n == 0)
        printf("no editions published\n");
    else
        glci_table_print_text(t, stdout);
    glci_table_free(&t);
    status = GLCI_EXIT_OK;
cleanup:
    free(l.e);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

/* ---- diff ------------------------------------------------------------------------ */

static int s_row_cmp(const void *a, const void *b)
{
    return strcmp(((const glci_snapshot_row_t *)a)->city, ((const glci_snapshot_row_t *)b)->city);
}

typedef struct {
    const char *city;
    const glci_snapshot_row_t *a, *b;
} s_pair_t;

/* A side's rank: 0 when the city is unranked there or not in it. */
static uint32_t s_rank_of(const glci_snapshot_row_t *r)
{
    return r ? r->rank : 0;
}

/* The places moved up from A to B, as the table shows it ("+2", "-1",
 * "=") or as CSV carries the number ("2", "-1", "0", as JSON's
 * rank_change); "" when either side has no rank (JSON null). */
static void s_rank_change(const s_pair_t *p, int csv, char *buf, size_t len)
{
    uint32_t ra = s_rank_of(p->a), rb = s_rank_of(p->b);
    long long d = (long long)ra - (long long)rb;
    if (!ra || !rb)
        snprintf(buf, len, "%s", "");
    else if (csv)
        snprintf(buf, len, "%lld", d);
    else if (d == 0)
        snprintf(buf, len, "=");
    else
        snprintf(buf, len, "%+lld", d);
}

/* Which editions hold the city: "both", "a" or "b". */
static const char *s_in(const s_pair_t *p)
{
    return p->a && p->b ? "both" : p->a ? "a" : "b";
}

static int s_has_index(const glci_snapshot_row_t *r)
{
    return r && r->result->has_index;
}

static int s_diff(const glci_cmd_t *cmd, const glci_cli_t *cli, int argc, char **argv)
{
    const char *pos[2];
    int rc = glci_args_parse(cmd, argc, argv, NULL, 0, pos, 2, 2, NULL);
    if (rc != GLCI_ARGS_OK)
        return rc == GLCI_ARGS_HELP ? GLCI_EXIT_OK : GLCI_EXIT_USAGE;
    char why[256];
    for (int k = 0; k < 2; k++)
        if (glci_edition_name_check(pos[k], why, sizeof why) != 0)
            return glci_usage_error(cmd, "%s", why);
    glci_store_t *st = NULL;
    glci_view_t *v = NULL;
    glci_edition_t e[2];
    glci_snapshot_t s[2] = {{0}, {0}};
    s_pair_t *pairs = NULL;
    int status = GLCI_EXIT_FAIL;
    if (glci_cli_open(cmd, cli, 1, &st) != 0 || glci_cli_view(cmd, st, &v) != 0)
        goto cleanup;
    for (int k = 0; k < 2; k++) {
        rc = glci_view_edition(v, pos[k], &e[k]);
        if (rc == 0)
            rc = glci_view_edition_rows(v, pos[k], &s[k]);
        if (rc == GLCI_STORE_ENOENT) {
            glci_fail(cmd, "no edition '%s' in the store (glci edition list)", pos[k]);
            goto cleanup;
        }
        if (rc != 0) {
            glci_cli_store_fail(cmd, cli, rc, "cannot read the edition");
            goto cleanup;
        }
    }
    /* Pairs by city: in B's order (rank, then the unranked), then the
     * cities only A holds, in A's order. */
    size_t n = 0;
    pairs = glci_xcalloc(s[0].n + s[1].n + 1, sizeof *pairs);
    glci_snapshot_row_t *by_city = glci_xmalloc((s[0].n + 1) * sizeof *by_city);
    memcpy(by_city, s[0].rows, s[0].n * sizeof *by_city);
    qsort(by_city, s[0].n, sizeof *by_city, s_row_cmp);
    unsigned char *seen = glci_xcalloc(s[0].n + 1, 1);
    for (size_t i = 0; i < s[1].n; i++) {
        glci_snapshot_row_t key;
        snprintf(key.city, sizeof key.city, "%s", s[1].rows[i].city);
        glci_snapshot_row_t *a = s[0].n ? bsearch(&key, by_city, s[0].n, sizeof *by_city,
                                                  s_row_cmp) : NULL;
        if (a)
            seen[a - by_city] = 1;
        pairs[n++] = (s_pair_t){s[1].rows[i].city, a, &s[1].rows[i]};
    }
    for (size_t i = 0; i < s[0].n; i++) {
        glci_snapshot_row_t *a = bsearch(&s[0].rows[i], by_city, s[0].n, sizeof *by_city,
                                         s_row_cmp);
        if (!seen[a - by_city])
            pairs[n++] = (s_pair_t){s[0].rows[i].city, a, NULL};
    }
    size_t moved = 0, rescored = 0;
    for (size_t i = 0; i < n; i++) {
        const s_pair_t *p = &pairs[i];
        /* unranked and not in the edition are both "no rank": a city
         * without one on either side has not moved */
        moved += s_rank_of(p->a) != s_rank_of(p->b);
        rescored += s_has_index(p->a) != s_has_index(p->b) ||
                    (s_has_index(p->a) && p->a->result->index != p->b->result->index);
    }
    if (cli->format == GLCI_FMT_JSON) {
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
            const s_pair_t *p = &pairs[i];
            int ha = s_has_index(p->a), hb = s_has_index(p->b);
            int ra = p->a && p->a->rank, rb = p->b && p->b->rank;
            json_array_append_new(rows, json_pack(
                "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "city", p->city, "in", s_in(p),
                "rank_a",
                ra ? json_integer(p->a->rank) : json_null(), "rank_b",
                rb ? json_integer(p->b->rank) : json_null(), "rank_change",
                ra && rb ? json_integer((json_int_t)p->a->rank - (json_int_t)p->b->rank)
                         : json_null(),
                "index_a", glci_json_num(ha ? p->a->result->index : 0.0, ha), "index_b",
                glci_json_num(hb ? p->b->result->index : 0.0, hb), "index_change",
                glci_json_num(ha && hb ? p->b->result->index - p->a->result->index : 0.0,
                              ha && hb)));
        }
        json_t *j = json_pack("{s:o, s:o, s:I, s:I, s:o}", "a", s_edition_json(&e[0]), "b",
                              s_edition_json(&e[1]), "rank_changes", (json_int_t)moved,
                              "index_changes", (json_int_t)rescored, "rows", rows);
        status = glci_json_print(&j, stdout) == 0 ? GLCI_EXIT_OK : GLCI_EXIT_FAIL;
        goto cleanup_pairs;
    }
    int csv = cli->format == GLCI_FMT_CSV;
    /* CSV has JSON's row fields, "in" last; the table marks it instead */
    static const char *const h[] = {"city", "rank_a", "rank_b", "rank_change", "index_a",
                                    "index_b", "index_change", "in"};
    glci_table_t *t = glci_table_new(csv ? 8 : 7, h, csv ? NULL : "lrrrrrr");
    for (size_t i = 0; i < n; i++) {
        const s_pair_t *p = &pairs[i];
        char buf[64];
        int ha = s_has_index(p->a), hb = s_has_index(p->b);
        glci_table_cell(t, p->city);
        if (p->a && p->a->rank)
            glci_table_cellf(t, "%u", p->a->rank);
        else
            glci_table_cell(t, csv ? "" : p->a ? "-" : "(not in A)");
        if (p->b && p->b->rank)
            glci_table_cellf(t, "%u", p->b->rank);
        else
            glci_table_cell(t, csv ? "" : p->b ? "-" : "(not in B)");
        s_rank_change(p, csv, buf, sizeof buf);
        glci_table_cell(t, buf);
        for (int k = 0; k < 2; k++) {
            const glci_snapshot_row_t *r = k ? p->b : p->a;
            int has = k ? hb : ha;
            if (csv)
                glci_fmt_exact(has ? r->result->index : 0.0, has, buf, sizeof buf);
            else
                glci_fmt_score(has ? r->result->index : 0.0, has, buf, sizeof buf);
            glci_table_cell(t, buf);
        }
        double d = ha && hb ? p->b->result->index - p->a->result->index : 0.0;
        if (csv)
            glci_fmt_exact(d, ha && hb, buf, sizeof buf);
        else if (ha && hb)
            snprintf(buf, sizeof buf, "%+.3f", d);
        else
            buf[0] = '\0';
        glci_table_cell(t, buf);
        if (csv)
            glci_table_cell(t, s_in(p));
    }
    if (csv) {
        glci_table_print_csv(t, stdout);
    } else {
        printf("edition %s (period %d) -> %s (period %d): %zu %s changed rank, %zu "
               "changed index\n", e[0].name, (int)e[0].period, e[1].name, (int)e[1].period,
               moved, moved == 1 ? "city" : "cities", rescored);
        glci_table_print_text(t, stdout);
        printf("\nrank change: places moved up from A to B; index change: B - A\n");
    }
    glci_table_free(&t);
    status = GLCI_EXIT_OK;
cleanup_pairs:
    free(seen);
    free(by_city);
cleanup:
    free(pairs);
    glci_snapshot_release(&s[0]);
    glci_snapshot_release(&s[1]);
    glci_view_end(&v);
    glci_store_close(&st);
    return status;
}

const glci_cmd_t glci_cmd_edition_publish = {
    .name = "edition publish",
    .usage = "edition publish NAME [--period P] [--as-of TIME]",
    .summary = "freeze a league table under a name, for good",
    .help =
        "Publishes edition NAME: the league table and every city's scores of\n"
        "period P (default: the period rank would choose as of TIME) as the\n"
        "store held them at TIME (default now), recomputed from the values\n"
        "received by then, with the framework hash. Written once in one\n"
        "transaction and never changed: a second publish under the same name is\n"
        "refused. Cities registered after TIME are not in it. Writes that come\n"
        "later are recorded after TIME, so glci verify can prove the edition\n"
        "equal to its recomputation at any later date. NAME: 1 to 63 of A-Z a-z\n"
        "0-9 . _ -, starting with a letter or digit. See docs/CYCLE.md.\n\n"
        "Options:\n"
        "  --period P     the period (year)\n"
        "  --as-of TIME   now, YYYY-MM-DD (the end of that day), YYYY-MM-DDTHH:MM:SSZ\n"
        "                 or @SECONDS, UTC; never in the future",
    .pos = {"NAME"},
    .run = s_publish,
};

const glci_cmd_t glci_cmd_edition_list = {
    .name = "edition list",
    .usage = "edition list",
    .summary = "the published editions",
    .help = "Lists every edition, oldest publication first: name, period, as-of time,\n"
            "when and by whom it was published, cities (ranked) and framework hash.",
    .run = s_list,
};

const glci_cmd_t glci_cmd_edition_diff = {
    .name = "edition diff",
    .usage = "edition diff A B",
    .summary = "rank and score changes city by city between two editions",
    .help = "Compares edition A with edition B city by city (the periods may\n"
            "differ): each city's rank and index in both, the places it moved up\n"
            "from A to B and the change of its index (B - A); cities in only one\n"
            "are marked. Rows follow B's table, then the cities only A holds.",
    .pos = {"A", "B"},
    .run = s_diff,
};
