/* Integration tests of the glci CLI: the real binary, run as a process,
 * against stores filled through the store API. Every command in every
 * format, with the JSON parsed and its fields checked, plus empty stores,
 * unknown cities, periods without data, unranked cities, ties, usage errors
 * (exit 2) and runtime errors (exit 1) with their one-line messages.
 *
 * The fixture (cli_fill_fixture, tiny framework) gives, for 2025:
 *   gamma  index 85 (a 75, b 95), coverage 1     rank 1
 *   alpha  index 80 (a 80, b 80), coverage 0.75  rank 2 (i1 revised 70 -> 80,
 *                                                 i4 carried from 2024)
 *   beta   index 80, same as alpha               rank 2 (tie, listed after)
 *   delta  index 50 (a 50, b 50), coverage 0.5   rank 4
 *   epsilon a only (i1 = 12.345678901234567)     unranked, coverage 0.25
 *   zeta   registered, no data
 * and delta's batch has two rejects (unknown indicator, out of range). */
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

#include "glci_keyfile.h"
#include "test_cli_support.h"

static char s_dir[256];      /* the fixture's folder, shared by the read tests */
static char s_store[300];
static char s_empty[300];

static int s_group_setup(void **state)
{
    cli_tmpdir(s_dir, sizeof s_dir);
    const char *fw = cli_tiny_framework(s_dir);
    snprintf(s_store, sizeof s_store, "%s/store", s_dir);
    snprintf(s_empty, sizeof s_empty, "%s/empty", s_dir);
    glci_store_t *st = cli_store_create(s_store, fw, 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    st = cli_store_create(s_empty, fw, 0);
    glci_store_close(&st);
    return 0;
}

static int s_group_teardown(void **state)
{
    cli_rmdir(s_dir);
    return 0;
}

/* The first line of stderr. */
static const char *s_line1(const cli_out_t *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s", o->err);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* Asserts a runtime error: exit 1, exactly one line on stderr holding `what`. */
static void s_expect_fail(const cli_out_t *o, const char *what)
{
    if (o->status != 1 || !strstr(o->err, what))
        fprintf(stderr, "expected exit 1 with '%s', got %d: %s", what, o->status, o->err);
    assert_int_equal(o->status, 1);
    assert_non_null(strstr(o->err, what));
    assert_non_null(strchr(o->err, '\n'));
    assert_true(strchr(o->err, '\n')[1] == '\0');
    assert_true(strncmp(o->err, "glci", 4) == 0);
}

/* Asserts a usage error: exit 2, the message on the first line, the usage
 * line after it. */
static void s_expect_usage(const cli_out_t *o, const char *what)
{
    char l1[512];
    if (o->status != 2 || !strstr(s_line1(o, l1, sizeof l1), what))
        fprintf(stderr, "expected exit 2 with '%s', got %d: %s", what, o->status, o->err);
    assert_int_equal(o->status, 2);
    assert_non_null(strstr(s_line1(o, l1, sizeof l1), what));
    /* one line: the usage at its end */
    assert_non_null(strstr(o->err, " (usage: glci"));
    assert_true(strchr(o->err, '\n') == o->err + strlen(o->err) - 1);
    assert_string_equal(o->out, "");
}

/* Asserts that the JSON on stdout is byte for byte what jansson gives for
 * the whole document at once (rank streams its rows): parse, dump again
 * with the CLI's flags, compare. */
static void s_expect_canonical(const cli_out_t *o)
{
    json_t *j = cli_json(o);
    char *again = json_dumps(j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    assert_non_null(again);
    size_t len = strlen(again);
    assert_int_equal(strlen(o->out), len + 1);
    assert_memory_equal(o->out, again, len);
    assert_true(o->out[len] == '\n');
    free(again);
    json_decref(j);
}

/* Short names for the support's JSON and CSV helpers. */
static json_t *s_get(json_t *obj, const char *key)
{
    return cli_json_get(obj, key);
}

static double s_num(json_t *obj, const char *key)
{
    return cli_json_num(obj, key);
}

static const char *s_str(json_t *obj, const char *key)
{
    return cli_json_str(obj, key);
}

static size_t s_csv_records(const char *text)
{
    return cli_csv_records(text);
}

/* ---- usage ------------------------------------------------------------ */

static void test_help_everywhere(void **state)
{
    static const char *const cmds[][2] = {
        {"init", NULL}, {"collector-key", NULL}, {"city", "add"}, {"city", "list"},
        {"city", "revoke"}, {"city", "key-add"}, {"city", "key-remove"}, {"rank", NULL}, {"show", NULL}, {"history", NULL},
        {"export", NULL}, {"status", NULL}, {"rejects", NULL}, {"verify", NULL},
        {"backup", NULL}, {"framework", NULL}, {"missing", NULL}, {"retract", NULL},
        {"correct", NULL}, {"edition", "publish"}, {"edition", "list"}, {"edition", "diff"}};
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--help", NULL), 0);
    assert_non_null(strstr(o.out, "usage: glci"));
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "  %s%s%s ", cmds[i][0], cmds[i][1] ? " " : "",
                 cmds[i][1] ? cmds[i][1] : "");
        assert_non_null(strstr(o.out, name));
    }
    cli_out_release(&o);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (cmds[i][1])
            cli_run(&o, cmds[i][0], cmds[i][1], "--help", NULL);
        else
            cli_run(&o, cmds[i][0], "--help", NULL);
        assert_int_equal(o.status, 0);
        char want[64];
        snprintf(want, sizeof want, "usage: glci %s%s%s", cmds[i][0], cmds[i][1] ? " " : "",
                 cmds[i][1] ? cmds[i][1] : "");
        assert_non_null(strstr(o.out, want));
        assert_string_equal(o.err, "");
        cli_out_release(&o);
    }
    assert_int_equal(cli_run(&o, "city", "--help", NULL), 0);
    assert_non_null(strstr(o.out, "city revoke"));
    assert_non_null(strstr(o.out, "glci city key-add ID"));
    assert_non_null(strstr(o.out, "glci city key-remove ID --public-key Z85"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "help", "city", "key-remove", NULL), 0);
    assert_non_null(strstr(o.out, "usage: glci city key-remove ID --public-key Z85"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "help", "rank", NULL), 0);
    assert_non_null(strstr(o.out, "usage: glci rank"));
    cli_out_release(&o);
}

static void test_usage_errors(void **state)
{
    cli_out_t o;
    cli_run(&o, NULL);
    s_expect_usage(&o, "no command given");
    cli_out_release(&o);
    cli_run(&o, "frobnicate", NULL);
    s_expect_usage(&o, "unknown command 'frobnicate'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--bogus", NULL);
    s_expect_usage(&o, "unknown option '--bogus'");
    assert_non_null(strstr(o.err, "usage: glci rank"));
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--period", "20x5", NULL);
    s_expect_usage(&o, "invalid --period '20x5' (a year such as 2025)");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--period", NULL);
    s_expect_usage(&o, "--period needs a value");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--limit", "0", NULL);
    s_expect_usage(&o, "invalid --limit '0'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--area", "a", "--focus", "a.x", NULL);
    s_expect_usage(&o, "either --area or --focus");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "--format", "xml", "rank", NULL);
    s_expect_usage(&o, "unknown format 'xml'");
    cli_out_release(&o);
    cli_run(&o, "rank", "--store", NULL);
    s_expect_usage(&o, "--store needs a value");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "show", NULL);
    s_expect_usage(&o, "missing CITY");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "show", "alpha", "beta", NULL);
    s_expect_usage(&o, "unexpected argument 'beta'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "history", "alpha", NULL);
    s_expect_usage(&o, "missing INDICATOR");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", NULL);
    s_expect_usage(&o, "city needs a subcommand");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "rename", NULL);
    s_expect_usage(&o, "unknown city subcommand 'rename'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--name", "X", "--country", "IE", NULL);
    s_expect_usage(&o, "give --public-key Z85 or --key-out FILE");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--name", "X", "--country", "IE",
            "--public-key", "abc", "--key-out", "/tmp/x", NULL);
    s_expect_usage(&o, "not both");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--name", "X", "--country", "IE",
            "--public-key", "not-a-z85-key", NULL);
    s_expect_usage(&o, "invalid public key 'not-a-z85-key'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "Bad/Id", "--name", "X", "--country", "IE",
            "--key-out", "/tmp/x", NULL);
    s_expect_usage(&o, "city id 'Bad/Id' is not valid");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--country", "IE", "--key-out",
            "/tmp/x", NULL);
    s_expect_usage(&o, "missing --name");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--name", "X", "--country", "I",
            "--key-out", "/tmp/x", NULL);
    s_expect_usage(&o, "country 'I' is not a two-letter ISO 3166-1 code");
    cli_out_release(&o);
    /* The CLI refuses what the store refuses, with the store's message:
     * a subdivision code is no ISO 3166-1 country. */
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--name", "X", "--country", "GB-SCT",
            "--key-out", "/tmp/x", NULL);
    s_expect_usage(&o, "country 'GB-SCT' is not a two-letter ISO 3166-1 code");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "add", "x1", "--name", "tab\there", "--country",
            "IE", "--key-out", "/tmp/x", NULL);
    s_expect_usage(&o, "city name contains a control character");
    cli_out_release(&o);
    cli_run(&o, "init", NULL);
    s_expect_usage(&o, "missing --framework");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "status", "extra", NULL);
    s_expect_usage(&o, "unexpected argument 'extra'");
    cli_out_release(&o);
}

/* ---- runtime errors --------------------------------------------------- */

static void test_no_store(void **state)
{
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nothing-here", s_dir);
    static const char *const cmds[] = {"rank", "status", "city list", "framework",
                                       "verify", "export", "rejects", "collector-key"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cli_out_t o;
        char cmd[32], *sub;
        snprintf(cmd, sizeof cmd, "%s", cmds[i]);
        sub = strchr(cmd, ' ');
        if (sub)
            *sub++ = '\0';
        cli_run(&o, "--store", missing, cmd, sub, NULL);
        char want[500];
        snprintf(want, sizeof want, "no store at %s", missing);
        s_expect_fail(&o, want);
        cli_out_release(&o);
    }
    /* $GLCI_STORE is the default for --store */
    cli_out_t o;
    setenv("GLCI_STORE", missing, 1);
    cli_run(&o, "status", NULL);
    unsetenv("GLCI_STORE");
    s_expect_fail(&o, "no store at");
    assert_non_null(strstr(o.err, missing));
    cli_out_release(&o);
}

static void test_unknown_things(void **state)
{
    cli_out_t o;
    cli_run(&o, "--store", s_store, "show", "nowhere", NULL);
    s_expect_fail(&o, "no such city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "history", "nowhere", "i1", NULL);
    s_expect_fail(&o, "no such city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "history", "alpha", "i9", NULL);
    s_expect_fail(&o, "no indicator 'i9'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rejects", "--city", "nowhere", NULL);
    s_expect_fail(&o, "no such city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "city", "revoke", "nowhere", NULL);
    s_expect_fail(&o, "no such city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--area", "zz", NULL);
    s_expect_fail(&o, "no area 'zz'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--focus", "a.zz", NULL);
    s_expect_fail(&o, "no focus area 'a.zz'");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "rank", "--period", "1999", NULL);
    s_expect_fail(&o, "no data for period 1999");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "export", "--period", "2040", NULL);
    s_expect_fail(&o, "no data for period 2040");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "show", "alpha", "--period", "2040", NULL);
    s_expect_fail(&o, "no data for city 'alpha' in period 2040");
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "show", "zeta", NULL);
    s_expect_fail(&o, "no data for city 'zeta'");
    cli_out_release(&o);
}

/* ---- empty store ------------------------------------------------------ */

static void test_empty_store(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_empty, "--format", "json", "city", "list", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "cities")), 0);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_empty, "city", "list", NULL), 0);
    assert_non_null(strstr(o.out, "no cities"));
    cli_out_release(&o);

    cli_run(&o, "--store", s_empty, "rank", NULL);
    s_expect_fail(&o, "no data in the store");
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_empty, "export", "--format", "csv", NULL), 0);
    assert_int_equal(s_csv_records(o.out), 1);
    assert_true(strncmp(o.out, "city,period,rank,index,coverage,area:a,", 39) == 0);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_empty, "export", "--format", "json", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 0);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_empty, "status", "--format", "json", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(s_num(j, "cities"), 0);
    assert_int_equal(s_num(j, "observations"), 0);
    assert_true(json_is_null(s_get(j, "last_ingest")));
    assert_true(json_is_null(s_get(j, "first_period")));
    assert_string_equal(s_str(s_get(j, "framework"), "id"), "tiny");
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_empty, "rejects", "--format", "json", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 0);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_empty, "verify", "--format", "json", NULL), 0);
    j = cli_json(&o);
    assert_true(json_is_true(s_get(j, "ok")));
    assert_int_equal(s_num(j, "count"), 0);
    json_decref(j);
    cli_out_release(&o);

    cli_run(&o, "--store", s_empty, "show", "alpha", NULL);
    s_expect_fail(&o, "no such city 'alpha'");
    cli_out_release(&o);
}

/* ---- rank ------------------------------------------------------------- */

static void s_row(json_t *rows, size_t i, unsigned rank, const char *city, double score)
{
    json_t *r = json_array_get(rows, i);
    assert_non_null(r);
    assert_int_equal((unsigned)s_num(r, "rank"), rank);
    assert_string_equal(s_str(r, "city"), city);
    assert_true(s_num(r, "score") == score);
}

static void test_rank_json(void **state)
{
    cli_out_t o;
    /* --store and --format after the command mean the same */
    assert_int_equal(cli_run(&o, "rank", "--store", s_store, "--format", "json", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(s_num(j, "period"), 2025);
    json_t *rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 4);
    s_row(rows, 0, 1, "gamma", 85.0);
    s_row(rows, 1, 2, "alpha", 80.0);
    s_row(rows, 2, 2, "beta", 80.0);
    s_row(rows, 3, 4, "delta", 50.0);
    assert_string_equal(s_str(json_array_get(rows, 0), "name"), "Gamma");
    assert_true(s_num(json_array_get(rows, 0), "coverage") == 1.0);
    assert_true(s_num(json_array_get(rows, 1), "coverage") == 0.75);
    json_t *un = s_get(j, "unranked");
    assert_int_equal(json_array_size(un), 1);
    assert_string_equal(s_str(json_array_get(un, 0), "city"), "epsilon");
    assert_true(s_num(json_array_get(un, 0), "coverage") == 0.25);
    json_decref(j);
    s_expect_canonical(&o);
    cli_out_release(&o);

    /* the exact text: rows streamed one by one inside the frame */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rank", "--focus",
                             "b.y", "--limit", "1", NULL), 0);
    assert_string_equal(o.out,
        "{\"period\": 2025, \"by\": \"focus\", \"id\": \"b.y\", \"ranked\": 4, "
        "\"period_rule\": \"half_of_active\", \"period_note\": \"period 2025: the latest in "
        "which at least half of the active cities (4 of 6) have reported an index\", "
        "\"as_of\": null, \"edition\": null, "
        "\"rows\": [{\"rank\": 1, \"city\": \"gamma\", \"name\": \"Gamma\", "
        "\"score\": 95.0, \"index\": 85.0, \"coverage\": 1.0}], \"unranked\": "
        "[{\"city\": \"epsilon\", \"name\": \"Epsilon\", \"coverage\": 0.25}]}\n");
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--format=json", "rank", "--store=", NULL), 2);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--format=json", "--store", s_store, "rank", "--limit", "2",
                             NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 2);
    assert_int_equal(json_array_size(s_get(j, "unranked")), 1);
    json_decref(j);
    cli_out_release(&o);

    /* by area: ties at the top, no unranked city */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rank", "--area", "a",
                             "--period", "2025", NULL), 0);
    j = cli_json(&o);
    rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 5);
    s_row(rows, 0, 1, "alpha", 80.0);
    s_row(rows, 1, 1, "beta", 80.0);
    s_row(rows, 2, 3, "gamma", 75.0);
    s_row(rows, 3, 4, "delta", 50.0);
    s_row(rows, 4, 5, "epsilon", 12.345678901234567);
    assert_true(s_num(json_array_get(rows, 3), "index") == 50.0);
    assert_true(json_is_null(s_get(json_array_get(rows, 4), "index")));   /* no index */
    assert_int_equal(json_array_size(s_get(j, "unranked")), 0);
    assert_string_equal(s_str(j, "id"), "a");
    json_decref(j);
    s_expect_canonical(&o);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rank", "--focus",
                             "b.y", NULL), 0);
    j = cli_json(&o);
    rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 4);
    s_row(rows, 0, 1, "gamma", 95.0);
    s_row(rows, 1, 2, "alpha", 80.0);
    s_row(rows, 2, 2, "beta", 80.0);
    s_row(rows, 3, 4, "delta", 50.0);
    assert_int_equal(json_array_size(s_get(j, "unranked")), 1);
    json_decref(j);
    cli_out_release(&o);

    /* 2024: results exist (alpha's and beta's i4) but nobody is ranked */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rank", "--period",
                             "2024", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 0);
    un = s_get(j, "unranked");
    assert_int_equal(json_array_size(un), 2);
    assert_string_equal(s_str(json_array_get(un, 0), "city"), "alpha");
    assert_string_equal(s_str(json_array_get(un, 1), "city"), "beta");
    json_decref(j);
    s_expect_canonical(&o);
    cli_out_release(&o);
}

static void test_rank_table_csv(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "rank", NULL), 0);
    assert_non_null(strstr(o.out, "League table 2025"));
    assert_non_null(strstr(o.out, "Gamma"));
    assert_non_null(strstr(o.out, "85.0"));
    assert_non_null(strstr(o.out, "Unranked"));
    assert_non_null(strstr(o.out, "epsilon"));
    /* aligned: every ranked line starts with the rank right-aligned */
    assert_non_null(strstr(o.out, "\n   1  gamma"));
    assert_non_null(strstr(o.out, "\n   2  alpha"));
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "rank", "--format", "csv", NULL), 0);
    assert_true(strncmp(o.out, "rank,city,name,score,coverage,period\r\n", 38) == 0);
    assert_int_equal(s_csv_records(o.out), 6);
    assert_non_null(strstr(o.out, "\r\n2,beta,\"Beta, \"\"the\"\" Town\",80,0.75,2025\r\n"));
    assert_non_null(strstr(o.out, "\r\n,epsilon,Epsilon,,0.25,2025\r\n"));
    cli_out_release(&o);
    /* a period asked for is named as well */
    assert_int_equal(cli_run(&o, "--store", s_store, "rank", "--format", "csv", "--period",
                             "2024", NULL), 0);
    assert_true(strncmp(o.out, "rank,city,name,score,coverage,period\r\n", 38) == 0);
    assert_non_null(strstr(o.out, ",2024\r\n"));
    assert_null(strstr(o.out, ",2025\r\n"));
    cli_out_release(&o);
}

/* ---- show ------------------------------------------------------------- */

static json_t *s_path(json_t *j, size_t area, size_t focus, size_t ind)
{
    json_t *a = json_array_get(s_get(j, "areas"), area);
    assert_non_null(a);
    if (focus == (size_t)-1)
        return a;
    json_t *f = json_array_get(s_get(a, "focus"), focus);
    assert_non_null(f);
    if (ind == (size_t)-1)
        return f;
    json_t *i = json_array_get(s_get(f, "indicators"), ind);
    assert_non_null(i);
    return i;
}

static void test_show_json(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "show", "alpha", "--format", "json", NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(s_str(j, "city"), "alpha");
    assert_int_equal(s_num(j, "period"), 2025);
    assert_true(s_num(j, "index") == 80.0);
    assert_true(s_num(j, "coverage") == 0.75);
    assert_string_equal(s_str(s_path(j, 0, -1, -1), "id"), "a");
    assert_true(s_num(s_path(j, 0, -1, -1), "score") == 80.0);
    assert_string_equal(s_str(s_path(j, 0, 0, -1), "id"), "a.x");
    json_t *i1 = s_path(j, 0, 0, 0);
    assert_string_equal(s_str(i1, "id"), "i1");
    assert_true(s_num(i1, "value") == 80.0);     /* the revision */
    assert_int_equal(s_num(i1, "period"), 2025);
    assert_true(json_is_false(s_get(i1, "carried")));
    assert_true(s_num(i1, "score") == 80.0);
    json_t *i2 = s_path(j, 0, 0, 1);                /* no value: nulls */
    assert_true(json_is_null(s_get(i2, "value")));
    assert_true(json_is_null(s_get(i2, "period")));
    assert_true(json_is_null(s_get(i2, "score")));
    json_t *i4 = s_path(j, 1, 0, 1);
    assert_string_equal(s_str(i4, "id"), "i4");
    assert_int_equal(s_num(i4, "period"), 2024);
    assert_true(json_is_true(s_get(i4, "carried")));
    assert_true(s_num(i4, "score") == 100.0);
    json_decref(j);
    cli_out_release(&o);

    /* unranked: index null; a value that needs 17 digits round-trips */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "show", "epsilon",
                             NULL), 0);
    j = cli_json(&o);
    assert_true(json_is_null(s_get(j, "index")));
    assert_true(json_is_null(s_get(s_path(j, 1, -1, -1), "score")));
    assert_true(s_num(s_path(j, 0, 0, 0), "value") == 12.345678901234567);
    const char *raw = strstr(o.out, "\"value\": ");
    assert_non_null(raw);
    assert_true(strtod(raw + 9, NULL) == 12.345678901234567);
    json_decref(j);
    cli_out_release(&o);

    /* an earlier period */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "show", "beta",
                             "--period", "2024", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(s_num(j, "period"), 2024);
    assert_true(s_num(j, "coverage") == 0.25);
    assert_true(json_is_null(s_get(j, "index")));
    assert_true(json_is_false(s_get(s_path(j, 1, 0, 1), "carried")));
    json_decref(j);
    cli_out_release(&o);
}

static void test_show_table_csv(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "show", "alpha", NULL), 0);
    assert_non_null(strstr(o.out, "Alpha City (alpha, IE), period 2025"));
    assert_non_null(strstr(o.out, "index 80.0"));
    assert_non_null(strstr(o.out, "\nArea A"));
    assert_non_null(strstr(o.out, "\n  Focus X"));
    assert_non_null(strstr(o.out, "\n    i1"));
    assert_non_null(strstr(o.out, "2024*"));
    assert_non_null(strstr(o.out, "* value carried"));
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "show", "gamma", "--format", "csv", NULL), 0);
    assert_true(strncmp(o.out, "level,id,value,period,carried,score,light\r\n", 43) == 0);
    assert_non_null(strstr(o.out, "\r\nindex,gamma,,,,85,\r\n"));
    assert_non_null(strstr(o.out, "\r\narea,b,,,,95,\r\n"));
    /* no dashboard thresholds in this framework: no light */
    assert_non_null(strstr(o.out, "\r\nindicator,i2,25,2025,false,50,\r\n"));
    /* index, coverage, 2 areas, 2 focus areas, 4 indicators, header */
    assert_int_equal(s_csv_records(o.out), 11);
    cli_out_release(&o);
}

/* A subnormal value reads the same, shortest, in every CSV: show's and
 * export's as history's (1e-310, not 9.99999999999997e-311). */
static void test_csv_subnormal_value(void **state)
{
    (void)state;
    char dir[256], store[300];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/store", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), 0);
    cli_city_add(st, "tiny", "Tiny", "IE");
    const cli_obs_t obs[] = {{"i1", 2025, 1e-310}, {"i3", 2025, 60}};
    cli_ingest(st, "tiny", 1, obs, 2, 1764000000);
    glci_store_close(&st);
    static const char *const cmds[][4] = {
        {"history", "tiny", "i1", NULL}, {"show", "tiny", NULL}, {"export", NULL}};
    static const char *const want[] = {"\r\n2025,1e-310,", "\r\nindicator,i1,1e-310,2025,",
                                       ",1e-310,"};
    for (size_t k = 0; k < 3; k++) {
        const char *argv[8] = {"--store", store, "--format", "csv"};
        size_t n = 4;
        for (size_t i = 0; cmds[k][i]; i++)
            argv[n++] = cmds[k][i];
        argv[n] = NULL;
        cli_out_t o;
        if (cli_runv(&o, argv) != 0 || !strstr(o.out, want[k]) || strstr(o.out, "e-311"))
            fail_msg("%s --format csv: exit %d, lacks '%s': %s%s", cmds[k][0], o.status,
                     want[k], o.out, o.err);
        cli_out_release(&o);
    }
    cli_rmdir(dir);
}

/* ---- history ---------------------------------------------------------- */

static void test_history(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "history", "alpha",
                             "i1", NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(s_str(j, "city"), "alpha");
    assert_string_equal(s_str(j, "indicator"), "i1");
    json_t *rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 2);
    json_t *r0 = json_array_get(rows, 0), *r1 = json_array_get(rows, 1);
    assert_true(s_num(r0, "value") == 70.0);
    assert_true(json_is_false(s_get(r0, "current")));
    assert_string_equal(s_str(r0, "received"), "2025-11-24T16:00:00Z");
    assert_true(s_num(r1, "value") == 80.0);
    assert_true(json_is_true(s_get(r1, "current")));
    assert_string_equal(s_str(r1, "received"), "2025-11-24T16:01:00Z");
    assert_int_equal(s_num(r1, "period"), 2025);
    /* stream ids are unsigned 64-bit: 16 hex digits, as the agent shows them */
    assert_string_equal(s_str(r1, "stream"), "fedcba9876543210");
    assert_int_equal(s_num(r1, "seq"), 2);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "history", "alpha", "i1", NULL), 0);
    assert_non_null(strstr(o.out, "2025-11-24T16:01:00Z"));
    assert_non_null(strstr(o.out, "current value"));
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "history", "alpha",
                             "i1", NULL), 0);
    assert_true(strncmp(o.out, "period,value,received,observed_at,current,source,kind,by,"
                               "sudo_user,reason,stream,seq,via\r\n", 89) == 0);
    assert_non_null(strstr(o.out, "\r\n2025,70,2025-11-24T16:00:00Z,,false,,value,,,,"
                                  "fedcba9876543210,"));
    assert_non_null(strstr(o.out, ",agent\r\n"));
    assert_int_equal(s_csv_records(o.out), 3);
    cli_out_release(&o);

    /* a known city without values for it */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "history", "zeta",
                             "i1", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 0);
    json_decref(j);
    cli_out_release(&o);
}

/* ---- export ----------------------------------------------------------- */

static void test_export(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "export", "--period",
                             "2025", NULL), 0);
    json_t *j = cli_json(&o);
    json_t *rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 5);
    json_t *g = json_array_get(rows, 0);
    assert_string_equal(s_str(g, "city"), "gamma");
    assert_int_equal(s_num(g, "rank"), 1);
    assert_true(s_num(g, "index") == 85.0);
    assert_true(s_num(s_get(g, "areas"), "b") == 95.0);
    assert_true(s_num(s_get(g, "focus"), "a.x") == 75.0);
    assert_true(s_num(s_get(s_get(g, "indicators"), "i2"), "score") == 50.0);
    json_t *e = json_array_get(rows, 4);
    assert_string_equal(s_str(e, "city"), "epsilon");
    assert_true(json_is_null(s_get(e, "rank")));
    assert_true(json_is_null(s_get(e, "index")));
    assert_true(json_is_null(s_get(s_get(e, "areas"), "b")));
    assert_true(json_is_null(s_get(s_get(s_get(e, "indicators"), "i3"), "value")));
    json_decref(j);
    cli_out_release(&o);

    /* all periods: 2024 (2 cities), 2025-2027 (5 each, carried) */
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "csv", "export",
                             "--all-periods", NULL), 0);
    assert_int_equal(s_csv_records(o.out), 1 + 2 + 5 * 3);
    assert_non_null(strstr(o.out, "city,period,rank,index,coverage,area:a,area:b,focus:a.x,"
                                  "focus:b.y,value:i1,score:i1,value:i2,score:i2,"));
    assert_non_null(strstr(o.out, "\r\ngamma,2025,1,85,1,75,95,75,95,100,100,25,50,90,90,1,100\r\n"));
    assert_non_null(strstr(o.out, "\r\nepsilon,2025,,,0.25,12.345678901234567,,"));
    assert_non_null(strstr(o.out, "\r\ngamma,2027,1,85,"));
    cli_out_release(&o);

    /* without --period: the period the rule chooses, named in the output */
    assert_int_equal(cli_run(&o, "--store", s_store, "export", NULL), 0);
    assert_non_null(strstr(o.out, "gamma"));
    assert_non_null(strstr(o.out, "85.0"));
    assert_non_null(strstr(o.out, "period 2025: the latest in which at least half of the "
                                  "active cities (4 of 6) have reported an index\n"));
    assert_null(strstr(o.out, "2027"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "export", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(s_num(j, "period"), 2025);
    assert_string_equal(s_str(j, "period_rule"), "half_of_active");
    assert_int_equal(json_array_size(s_get(j, "rows")), 5);
    json_decref(j);
    cli_out_release(&o);
    cli_run(&o, "--store", s_store, "export", "--all-periods", "--period", "2025", NULL);
    cli_expect_usage(&o, "--all-periods is the live store's every period");
    cli_out_release(&o);
}

/* ---- status, rejects, framework ---------------------------------------- */

static void test_status(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "status", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(s_num(j, "cities"), 6);
    assert_int_equal(s_num(j, "active_cities"), 6);
    assert_int_equal(s_num(j, "observations"), 13);
    assert_int_equal(s_num(j, "history"), 14);
    assert_int_equal(s_num(j, "rejects"), 2);
    assert_int_equal(s_num(j, "batches"), 6);
    assert_int_equal(s_num(j, "first_period"), 2024);
    assert_int_equal(s_num(j, "last_period"), 2025);
    assert_string_equal(s_str(j, "last_ingest"), "2025-11-24T16:05:00Z");
    /* the store's data file and the space in use, not the reader's map */
    char path[400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", s_store);
    assert_int_equal(stat(path, &sb), 0);
    off_t files = sb.st_size;
    snprintf(path, sizeof path, "%s/history/data.mdb", s_store);     /* schema 7 */
    assert_int_equal(stat(path, &sb), 0);
    files += sb.st_size;
    assert_true(s_num(j, "file_bytes") == (double)files);
    assert_true(s_num(j, "size_bytes") > 0);
    assert_true(s_num(j, "size_bytes") <= s_num(j, "file_bytes"));
    assert_true(s_num(j, "file_bytes") < 64.0 * 1048576.0);   /* a reader maps 64 MiB */
    assert_null(json_object_get(j, "map_bytes"));
    json_t *fw = s_get(j, "framework");
    assert_string_equal(s_str(fw, "id"), "tiny");
    assert_string_equal(s_str(fw, "version"), "1");
    assert_int_equal(strlen(s_str(fw, "hash")), 64);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "status", NULL), 0);
    assert_non_null(strstr(o.out, "cities        6 (6 active)"));
    assert_non_null(strstr(o.out, "periods       2024-2025"));
    assert_non_null(strstr(o.out, " MiB in use, data file "));
    assert_non_null(strstr(o.out, " MiB on disk\n"));
    assert_null(strstr(o.out, "map"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "status", "--format", "csv", NULL), 0);
    assert_int_equal(s_csv_records(o.out), 2);
    assert_non_null(strstr(o.out, ",size_bytes,file_bytes,schema,"));
    char field[64];
    snprintf(field, sizeof field, ",%lld,7,tiny,", (long long)files);
    assert_non_null(strstr(o.out, field));
    cli_out_release(&o);
}

static void test_rejects(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rejects", NULL), 0);
    json_t *j = cli_json(&o);
    json_t *rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 2);
    int unknown = 0, range = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(rows, i);
        assert_string_equal(s_str(r, "city"), "delta");
        assert_string_equal(s_str(r, "received"), "2025-11-24T16:04:00Z");
        assert_string_equal(s_str(r, "stream"), "fedcba9876543210");
        if (strcmp(s_str(r, "reason"), "unknown indicator") == 0) {
            unknown++;
            assert_string_equal(s_str(r, "indicator"), "nope");
        } else {
            range++;
            assert_string_equal(s_str(r, "reason"), "value out of range");
            assert_true(s_num(r, "value") == 150.0);
            assert_int_equal(s_num(r, "period"), 2024);
        }
    }
    assert_int_equal(unknown, 1);
    assert_int_equal(range, 1);
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rejects", "--limit",
                             "1", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 1);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rejects", "--city",
                             "alpha", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 0);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "rejects", "--format", "csv", NULL), 0);
    assert_int_equal(s_csv_records(o.out), 3);
    /* where each came from, as in JSON */
    assert_memory_equal(o.out, "received,city,indicator,period,value,reason,message,stream,seq,"
                               "index\r\n", 70);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "rejects", "--limit",
                             "1", NULL), 0);
    j = cli_json(&o);
    json_t *r0 = json_array_get(s_get(j, "rows"), 0);
    char tail[128];
    snprintf(tail, sizeof tail, ",%s,%lld,%lld\r\n", s_str(r0, "stream"),
             (long long)s_num(r0, "seq"), (long long)s_num(r0, "index"));
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "rejects", "--format", "csv", "--limit",
                             "1", NULL), 0);
    if (!strstr(o.out, tail))
        fail_msg("rejects csv lacks '%s':\n%s", tail, o.out);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "rejects", NULL), 0);
    assert_non_null(strstr(o.out, "unknown indicator"));
    cli_out_release(&o);
}

/* glci framework --format json of store says these cycle settings. */
static void s_expect_cycle(const char *store, int cadence, const char *due, int future)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "framework", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(s_num(j, "cadence"), cadence);
    assert_string_equal(s_str(j, "due"), due);
    assert_int_equal(s_num(j, "future_periods"), future);
    json_decref(j);
    cli_out_release(&o);
}

static void test_framework(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "framework", NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(s_str(j, "id"), "tiny");
    assert_true(s_num(j, "min_coverage") == 0.5);
    assert_int_equal(s_num(j, "carry_forward"), 2);
    assert_string_equal(s_str(j, "aggregation"), "arithmetic");
    json_t *areas = s_get(j, "areas");
    assert_int_equal(json_array_size(areas), 2);
    json_t *i2 = s_path(j, 0, 0, 1);
    assert_string_equal(s_str(i2, "id"), "i2");
    assert_string_equal(s_str(i2, "direction"), "lower");
    assert_true(s_num(i2, "upper") == 50.0);
    assert_true(s_num(i2, "max") == 1000.0);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "framework", NULL), 0);
    assert_non_null(strstr(o.out, "framework tiny 1"));
    assert_non_null(strstr(o.out, "\na       Area A"));
    assert_non_null(strstr(o.out, "\n    i4  Indicator four, yes/no"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_store, "framework", "--format", "csv", NULL), 0);
    assert_int_equal(s_csv_records(o.out), 5);
    assert_non_null(strstr(o.out, "\r\nb,b.y,i4,\"Indicator four, yes/no\",yes/no,higher,0,1,0,1,1,,\r\n"));
    cli_out_release(&o);

    /* the reporting cycle's settings (SPEC section 7), defaults and set */
    s_expect_cycle(s_store, 1, "03-31", 0);
    char dir[256], store[300], fw[400], text[4096];
    cli_tmpdir(dir, sizeof dir);
    FILE *f = fopen(cli_tiny_framework(dir), "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    snprintf(fw, sizeof fw, "%s/cycle.ini", dir);
    f = fopen(fw, "w");
    assert_non_null(f);
    fprintf(f, "[framework]\ncadence = 2\ndue = 06-30\nfuture_periods = 1\n%s",
            text + strlen("[framework]\n"));
    assert_int_equal(fclose(f), 0);
    snprintf(store, sizeof store, "%s/s", dir);
    assert_int_equal(cli_run(&o, "--store", store, "init", "--framework", fw, NULL), 0);
    cli_out_release(&o);
    s_expect_cycle(store, 2, "06-30", 1);
    assert_int_equal(cli_run(&o, "--store", store, "framework", NULL), 0);
    assert_non_null(strstr(o.out, "\nrounds every 2 years, due 06-30 of the year after; values "
                                  "may name up to 1 period after the current year\n"));
    cli_out_release(&o);
    cli_rmdir(dir);
}

/* ---- init, keys, cities (each on its own store) ------------------------ */

static void test_init_and_collector_key(void **state)
{
    char dir[256], store[300], path[500];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/s", dir);
    const char *fw = getenv("GLCI_FRAMEWORK");
    assert_non_null(fw);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "init", "--framework", fw, NULL), 0);
    char key[64];
    snprintf(key, sizeof key, "%s", o.out);
    key[strcspn(key, "\n")] = '\0';
    assert_true(glci_key_valid(key));
    cli_out_release(&o);

    struct stat sb;
    snprintf(path, sizeof path, "%s/collector.key", store);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    glci_key_t pub, sec;
    char err[256];
    assert_int_equal(glci_keyfile_read(path, &pub, &sec, err, sizeof err), 0);
    assert_string_equal(pub.z85, key);

    assert_int_equal(cli_run(&o, "--store", store, "collector-key", NULL), 0);
    assert_true(strncmp(o.out, key, 40) == 0);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "collector-key", NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(s_str(j, "public_key"), key);
    json_decref(j);
    cli_out_release(&o);

    /* a backup carries the collector's keys: a collector can start on it */
    char dest[400];
    snprintf(dest, sizeof dest, "%s/bk", dir);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "backup", dest, NULL), 0);
    j = cli_json(&o);
    assert_int_equal(s_num(j, "key_files"), 2);
    json_decref(j);
    cli_out_release(&o);
    snprintf(path, sizeof path, "%s/collector.key", dest);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    glci_key_t bpub, bsec;
    assert_int_equal(glci_keyfile_read(path, &bpub, &bsec, err, sizeof err), 0);
    assert_string_equal(bpub.z85, key);
    assert_string_equal(bsec.z85, sec.z85);
    assert_int_equal(cli_run(&o, "--store", dest, "collector-key", NULL), 0);
    assert_true(strncmp(o.out, key, 40) == 0);
    cli_out_release(&o);

    /* the shipped framework is embedded */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "status", NULL), 0);
    j = cli_json(&o);
    assert_string_equal(s_str(s_get(j, "framework"), "id"), "unesco-glci");
    assert_int_equal(s_num(s_get(j, "framework"), "areas"), 3);
    assert_int_equal(s_num(s_get(j, "framework"), "focus"), 12);
    json_decref(j);
    cli_out_release(&o);

    cli_run(&o, "--store", store, "init", "--framework", fw, NULL);
    s_expect_fail(&o, "already exists");
    cli_out_release(&o);

    /* a broken framework: FILE:LINE named, no store left behind */
    char bad[400], store2[400];
    snprintf(bad, sizeof bad, "%s/bad.ini", dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("[framework]\nid = x\nversion = 1\ncolour = blue\n", f);
    fclose(f);
    snprintf(store2, sizeof store2, "%s/s2", dir);
    cli_run(&o, "--store", store2, "init", "--framework", bad, NULL);
    s_expect_fail(&o, "bad.ini:4");
    cli_out_release(&o);
    cli_run(&o, "--store", store2, "init", "--framework", "/nonexistent/fw.ini", NULL);
    s_expect_fail(&o, "/nonexistent/fw.ini");
    cli_out_release(&o);
    cli_rmdir(dir);
}

static void test_city_admin(void **state)
{
    char dir[256], store[300], keyfile[400];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/s", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), 0);
    glci_store_close(&st);
    snprintf(keyfile, sizeof keyfile, "%s/cork.key", dir);

    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "city", "add", "cork-ie", "--name", "Cork",
                             "--country", "ie", "--key-out", keyfile, NULL), 0);
    char key[64];
    snprintf(key, sizeof key, "%s", o.out);
    key[strcspn(key, "\n")] = '\0';
    assert_true(glci_key_valid(key));
    cli_out_release(&o);
    struct stat sb;
    assert_int_equal(stat(keyfile, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    glci_key_t pub, sec;
    char err[256];
    assert_int_equal(glci_keyfile_read(keyfile, &pub, &sec, err, sizeof err), 0);
    assert_string_equal(pub.z85, key);

    /* never over an existing key file; nothing registered then */
    cli_run(&o, "--store", store, "city", "add", "dublin-ie", "--name", "Dublin", "--country",
            "IE", "--key-out", keyfile, NULL);
    s_expect_fail(&o, "already exists");
    cli_out_release(&o);
    assert_int_equal(glci_keyfile_read(keyfile, &pub, &sec, err, sizeof err), 0);
    assert_string_equal(pub.z85, key);

    /* a key made elsewhere */
    glci_key_t p2, s2;
    assert_int_equal(glci_key_generate(&p2, &s2, err, sizeof err), 0);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "city", "add",
                             "dublin-ie", "--name", "Dublin", "--country", "IE",
                             "--public-key", p2.z85, NULL), 0);
    json_t *j = cli_json(&o);
    assert_string_equal(s_str(j, "id"), "dublin-ie");
    assert_string_equal(s_str(j, "public_key"), p2.z85);
    assert_true(json_is_null(s_get(j, "key_file")));
    json_decref(j);
    cli_out_release(&o);

    /* the same id again, the same key again */
    cli_run(&o, "--store", store, "city", "add", "dublin-ie", "--name", "Dublin", "--country",
            "IE", "--public-key", s2.z85, NULL);
    s_expect_fail(&o, "already registered");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "add", "galway-ie", "--name", "Galway", "--country",
            "IE", "--public-key", p2.z85, NULL);
    s_expect_fail(&o, "already registered");
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "city", "revoke", "dublin-ie", NULL), 0);
    assert_non_null(strstr(o.out, "revoked"));
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "city", "list", NULL), 0);
    j = cli_json(&o);
    json_t *cities = s_get(j, "cities");
    assert_int_equal(json_array_size(cities), 2);
    json_t *c0 = json_array_get(cities, 0), *c1 = json_array_get(cities, 1);
    assert_string_equal(s_str(c0, "id"), "cork-ie");
    assert_string_equal(s_str(c0, "name"), "Cork");
    assert_string_equal(s_str(c0, "country"), "IE");
    assert_true(json_is_true(s_get(c0, "active")));
    assert_int_equal(s_num(c0, "observations"), 0);
    assert_int_equal(s_num(c0, "rejects"), 0);
    assert_true(json_is_null(s_get(c0, "last_seen")));
    assert_string_equal(s_str(c1, "id"), "dublin-ie");
    assert_true(json_is_false(s_get(c1, "active")));
    json_decref(j);
    cli_out_release(&o);

    assert_int_equal(cli_run(&o, "--store", store, "city", "list", NULL), 0);
    assert_non_null(strstr(o.out, "REVOKED"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "city", "list", "--format", "csv", NULL), 0);
    assert_true(strncmp(o.out, "id,name,country,active,batches,observations,rejects,last_seen,"
                        "status,overdue,round,keys\r\n", 88) == 0);
    assert_non_null(strstr(o.out, "\r\ndublin-ie,Dublin,IE,false,0,0,0,,missing,false,"));
    cli_out_release(&o);
    cli_rmdir(dir);
}

/* Key rotation: city key-add / key-remove in every format, the secret key
 * file, removing the last key, unknown keys and cities, another city's key,
 * and usage errors. */
static void test_city_keys(void **state)
{
    char dir[256], store[300], k1file[400], k2file[400];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/s", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), 0);
    glci_store_close(&st);
    snprintf(k1file, sizeof k1file, "%s/cork-1.key", dir);
    snprintf(k2file, sizeof k2file, "%s/cork-2.key", dir);

    cli_out_t o;
    glci_key_t pub1, pub2, pub3, sec, other;
    char err[256];
    assert_int_equal(cli_run(&o, "--store", store, "city", "add", "cork-ie", "--name", "Cork",
                             "--country", "IE", "--key-out", k1file, NULL), 0);
    cli_out_release(&o);
    assert_int_equal(glci_keyfile_read(k1file, &pub1, &sec, err, sizeof err), 0);
    assert_int_equal(glci_key_generate(&other, &sec, err, sizeof err), 0);
    assert_int_equal(cli_run(&o, "--store", store, "city", "add", "dublin-ie", "--name",
                             "Dublin", "--country", "IE", "--public-key", other.z85, NULL), 0);
    cli_out_release(&o);

    /* the collector's own public key is no agent's: refused, nothing added */
    glci_key_t coll, csec;
    char cpath[400];
    snprintf(cpath, sizeof cpath, "%s/collector.pub", store);
    assert_int_equal(glci_key_generate(&coll, &csec, err, sizeof err), 0);
    assert_int_equal(glci_keyfile_write_public(cpath, &coll, err, sizeof err), 0);
    cli_run(&o, "--store", store, "city", "add", "galway-ie", "--name", "Galway", "--country",
            "IE", "--public-key", coll.z85, NULL);
    char want[200];
    snprintf(want, sizeof want, "public key %s is the collector's own (collector.pub)",
             coll.z85);
    cli_expect_fail(&o, want);
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "key-add", "cork-ie", "--public-key", coll.z85, NULL);
    cli_expect_fail(&o, want);
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "show", "galway-ie", NULL);
    cli_expect_fail(&o, "no such city 'galway-ie'");
    cli_out_release(&o);
    assert_int_equal(unlink(cpath), 0);

    /* a second key made here: secret file 0600, JSON names it, two keys */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "city", "key-add",
                             "cork-ie", "--key-out", k2file, NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(glci_keyfile_read(k2file, &pub2, &sec, err, sizeof err), 0);
    assert_string_equal(s_str(j, "id"), "cork-ie");
    assert_string_equal(s_str(j, "public_key"), pub2.z85);
    assert_string_equal(s_str(j, "key_file"), k2file);
    assert_int_equal(s_num(j, "keys"), 2);
    json_decref(j);
    cli_out_release(&o);
    struct stat sb;
    assert_int_equal(stat(k2file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    unsigned char raw[32];
    char owner[GLCI_CITY_ID_MAX + 1];
    st = NULL;
    assert_int_equal(glci_store_open(store, &(glci_store_opts_t){.flags = GLCI_STORE_RDONLY},
                                     &st, err, sizeof err), 0);
    assert_int_equal(glci_key_decode(pub2.z85, raw), 0);
    assert_int_equal(glci_store_city_by_key(st, raw, owner), 0);
    assert_string_equal(owner, "cork-ie");
    glci_store_close(&st);

    /* never over an existing key file; nothing registered then */
    cli_run(&o, "--store", store, "city", "key-add", "cork-ie", "--key-out", k2file, NULL);
    s_expect_fail(&o, "already exists");
    cli_out_release(&o);

    /* a key made elsewhere, table and CSV */
    assert_int_equal(glci_key_generate(&pub3, &sec, err, sizeof err), 0);
    assert_int_equal(cli_run(&o, "--store", store, "city", "key-add", "cork-ie",
                             "--public-key", pub3.z85, NULL), 0);
    char line[128];
    snprintf(line, sizeof line, "%s\n", pub3.z85);
    assert_string_equal(o.out, line);
    assert_string_equal(o.err, "");
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "csv", "city", "key-remove",
                             "cork-ie", "--public-key", pub3.z85, NULL), 0);
    /* a key that starts like a formula is quoted and led by ' (docs/CLI.md) */
    if (strchr("=+-@", pub3.z85[0]))
        snprintf(line, sizeof line, "id,public_key,keys\r\ncork-ie,\"'%s\",2\r\n", pub3.z85);
    else
        snprintf(line, sizeof line, "id,public_key,keys\r\ncork-ie,%s,2\r\n", pub3.z85);
    assert_string_equal(o.out, line);
    cli_out_release(&o);

    /* the same key again (this city's, another city's) */
    cli_run(&o, "--store", store, "city", "key-add", "cork-ie", "--public-key", pub1.z85, NULL);
    s_expect_fail(&o, "already registered");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "key-add", "cork-ie", "--public-key", other.z85,
            NULL);
    s_expect_fail(&o, "already registered");
    cli_out_release(&o);

    /* removing: another city's key, an unknown key, an unknown city */
    cli_run(&o, "--store", store, "city", "key-remove", "cork-ie", "--public-key", other.z85,
            NULL);
    s_expect_fail(&o, "is not registered to city 'cork-ie'");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "key-remove", "cork-ie", "--public-key", pub3.z85,
            NULL);
    s_expect_fail(&o, "is not registered to city 'cork-ie'");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "key-remove", "nowhere", "--public-key", pub1.z85,
            NULL);
    s_expect_fail(&o, "no city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "key-add", "nowhere", "--public-key", pub3.z85,
            NULL);
    s_expect_fail(&o, "no city 'nowhere'");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "city", "key-add", "nowhere", "--key-out", k1file, NULL);
    s_expect_fail(&o, "already exists");
    cli_out_release(&o);

    /* the rotation: the old key goes, the new one stays */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "city", "key-remove",
                             "cork-ie", "--public-key", pub1.z85, NULL), 0);
    j = cli_json(&o);
    assert_string_equal(s_str(j, "id"), "cork-ie");
    assert_string_equal(s_str(j, "public_key"), pub1.z85);
    assert_true(json_is_true(s_get(j, "removed")));
    assert_int_equal(s_num(j, "keys"), 1);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(glci_store_open(store, &(glci_store_opts_t){.flags = GLCI_STORE_RDONLY},
                                     &st, err, sizeof err), 0);
    assert_int_equal(glci_key_decode(pub1.z85, raw), 0);
    assert_int_equal(glci_store_city_by_key(st, raw, owner), GLCI_STORE_ENOCITY);
    assert_int_equal(glci_key_decode(pub2.z85, raw), 0);
    assert_int_equal(glci_store_city_by_key(st, raw, owner), 0);
    glci_store_close(&st);

    /* the last key: removed, with a note; the city has none left */
    assert_int_equal(cli_run(&o, "--store", store, "city", "key-remove", "cork-ie",
                             "--public-key", pub2.z85, NULL), 0);
    assert_non_null(strstr(o.out, "removed from city cork-ie"));
    assert_non_null(strstr(o.out, "0 keys left"));
    assert_non_null(strstr(o.err, "has no key left"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "city", "list", NULL), 0);
    j = cli_json(&o);
    json_t *c0 = json_array_get(s_get(j, "cities"), 0);
    assert_string_equal(s_str(c0, "id"), "cork-ie");
    assert_int_equal(s_num(c0, "keys"), 0);
    assert_true(json_is_true(s_get(c0, "active")));
    json_decref(j);
    cli_out_release(&o);
    /* and a removed key can be registered again */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "city", "key-add",
                             "cork-ie", "--public-key", pub1.z85, NULL), 0);
    j = cli_json(&o);
    assert_true(json_is_null(s_get(j, "key_file")));
    assert_int_equal(s_num(j, "keys"), 1);
    json_decref(j);
    cli_out_release(&o);

    /* usage errors */
    static const struct {
        const char *args[6];
        const char *what;
    } bad[] = {
        {{"city", "key-add", "cork-ie"}, "give --public-key Z85 or --key-out FILE"},
        {{"city", "key-add", "cork-ie", "--public-key", "short"}, "invalid public key 'short'"},
        {{"city", "key-add", "Cork", "--public-key", "x"}, "city id 'Cork' is not valid"},
        {{"city", "key-add", "--key-out", "/tmp/x"}, "missing ID"},
        {{"city", "key-add", "cork-ie", "--key-out", ""}, "--key-out needs a file name"},
        {{"city", "key-remove", "cork-ie"}, "missing --public-key"},
        {{"city", "key-remove", "cork-ie", "--public-key", "bad"}, "invalid public key 'bad'"},
        {{"city", "key-remove", "cork-ie", "--key-out", "f"}, "unknown option '--key-out'"},
        {{"city", "key-remove", "a", "b", "--public-key"}, "unexpected argument 'b'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[10] = {"--store", store};
        size_t n = 2;
        for (size_t a = 0; a < 6 && bad[i].args[a]; a++)
            argv[n++] = bad[i].args[a];
        argv[n] = NULL;
        cli_runv(&o, argv);
        s_expect_usage(&o, bad[i].what);
        cli_out_release(&o);
    }
    cli_run(&o, "--store", store, "city", "key-add", "cork-ie", "--public-key", pub3.z85,
            "--key-out", k1file, NULL);
    s_expect_usage(&o, "either --public-key or --key-out");
    cli_out_release(&o);
    /* no store */
    snprintf(k1file, sizeof k1file, "%s/none", dir);
    cli_run(&o, "--store", k1file, "city", "key-add", "cork-ie", "--public-key", pub3.z85, NULL);
    s_expect_fail(&o, "no store at");
    cli_out_release(&o);
    cli_rmdir(dir);
}

static void test_city_list_fixture(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "--format", "json", "city", "list", NULL), 0);
    json_t *j = cli_json(&o);
    json_t *cities = s_get(j, "cities");
    assert_int_equal(json_array_size(cities), 6);
    json_t *a = json_array_get(cities, 0);
    assert_string_equal(s_str(a, "id"), "alpha");
    assert_int_equal(s_num(a, "observations"), 4);   /* revision included */
    assert_int_equal(s_num(a, "batches"), 2);
    assert_string_equal(s_str(a, "last_seen"), "2025-11-24T16:01:00Z");
    json_t *d = json_array_get(cities, 2);
    assert_string_equal(s_str(d, "id"), "delta");
    assert_int_equal(s_num(d, "rejects"), 2);
    json_decref(j);
    cli_out_release(&o);
}

/* ---- verify and backup ------------------------------------------------- */

static void test_verify_backup(void **state)
{
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", s_store, "verify", NULL), 0);
    /* one line */
    assert_string_equal(o.out, "ok: every stored score and every edition equals its "
                               "recomputation\n");
    cli_out_release(&o);

    /* never into the store it copies: the store itself, a folder below it
     * (to be made, or there), also spelt through .. or a link; nothing made */
    char inside[1200], link[400], want[1600];
    snprintf(inside, sizeof inside, "%s/sub/copy", s_store);
    cli_run(&o, "--store", s_store, "backup", inside, NULL);
    snprintf(want, sizeof want, "backup destination %s is inside the store %s it copies",
             inside, s_store);
    s_expect_fail(&o, want);
    cli_out_release(&o);
    snprintf(want, sizeof want, "%s/sub", s_store);
    assert_int_equal(access(want, F_OK), -1);
    cli_run(&o, "--store", s_store, "backup", s_store, NULL);
    s_expect_fail(&o, "is the store itself");
    cli_out_release(&o);
    snprintf(inside, sizeof inside, "%s/../%s/x/../y", s_store, strrchr(s_store, '/') + 1);
    cli_run(&o, "--store", s_store, "backup", inside, NULL);
    s_expect_fail(&o, "is inside the store");
    cli_out_release(&o);
    snprintf(link, sizeof link, "%s/store-link", s_dir);
    assert_int_equal(symlink(s_store, link), 0);
    snprintf(inside, sizeof inside, "%s/copy", link);
    cli_run(&o, "--store", s_store, "backup", inside, NULL);
    s_expect_fail(&o, "is inside the store");
    cli_out_release(&o);
    assert_int_equal(unlink(link), 0);

    char dest[400], bad[400];
    snprintf(dest, sizeof dest, "%s/backup", s_dir);
    assert_int_equal(cli_run(&o, "--store", s_store, "backup", dest, NULL), 0);
    assert_non_null(strstr(o.out, "verified"));
    cli_out_release(&o);
    /* the copy is a store that answers the same */
    assert_int_equal(cli_run(&o, "--store", dest, "--format", "json", "rank", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(json_array_size(s_get(j, "rows")), 4);
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", dest, "verify", NULL), 0);
    cli_out_release(&o);

    cli_run(&o, "--store", s_store, "backup", dest, NULL);
    s_expect_fail(&o, "is not empty");
    cli_out_release(&o);
    snprintf(bad, sizeof bad, "%s/tiny.ini", s_dir);   /* a file, not a folder */
    assert_int_equal(cli_run(&o, "--store", s_store, "backup", bad, NULL), 1);
    cli_out_release(&o);
}

/* glci with args on store, which must succeed: its stdout (caller frees). */
static char *s_ok_out(const char *store, const char *const *args)
{
    const char *argv[16] = {"--store", store};
    size_t n = 2;
    for (size_t k = 0; args[k] && n < 15; k++)
        argv[n++] = args[k];
    argv[n] = NULL;
    cli_out_t o;
    if (cli_runv(&o, argv) != 0)
        fail_msg("glci %s exited %d: %s", args[0], o.status, o.err);
    char *out = o.out;
    o.out = NULL;
    cli_out_release(&o);
    return out;
}

/* Editions' outputs (docs/CLI.md): listed in publication order even
 * within one second; CSV columns named and filled as JSON's fields
 * (rank_change the number, empty where JSON has null); a city without a
 * rank on either side (not in A, unranked in B) has not moved, and the
 * table counts "1 city" / "N cities". */
static void test_edition_outputs(void **state)
{
    (void)state;
    char dir[256], store[300];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/store", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    static const char head[] =
        "name,period,as_of,published,by,cities,ranked,framework_hash,sudo_user\r\n";

    /* three editions in (very likely) one second: publication order */
    const char *names[] = {"zz1", "aa1", "mm1"};
    for (int i = 0; i < 3; i++) {
        char *out = s_ok_out(store, (const char *[]){"--format", "csv", "edition", "publish",
                                                     names[i], "--period", "2025", NULL});
        assert_true(strncmp(out, head, strlen(head)) == 0);
        free(out);
    }
    char *out = s_ok_out(store, (const char *[]){"--format", "json", "edition", "list", NULL});
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    json_t *eds = s_get(j, "editions");
    assert_int_equal(json_array_size(eds), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(s_str(json_array_get(eds, i), "name"), names[i]);
    json_decref(j);
    free(out);
    out = s_ok_out(store, (const char *[]){"--format", "csv", "edition", "list", NULL});
    assert_true(strncmp(out, head, strlen(head)) == 0);
    assert_non_null(strstr(out, "\r\nzz1,2025,"));
    assert_true(strstr(out, "zz1,") < strstr(out, "aa1,") &&
                strstr(out, "aa1,") < strstr(out, "mm1,"));
    free(out);

    /* zeta: not in mm1, unranked in b1 (coverage 0.25): no rank either side */
    free(s_ok_out(store, (const char *[]){"correct", "zeta", "i1", "2025", "10", "--reason",
                                          "r", NULL}));
    free(s_ok_out(store, (const char *[]){"edition", "publish", "b1", "--period", "2025",
                                          NULL}));
    out = s_ok_out(store, (const char *[]){"edition", "diff", "mm1", "b1", NULL});
    assert_non_null(strstr(out, "mm1 (period 2025) -> b1 (period 2025): 0 cities changed "
                                "rank, 0 changed index\n"));
    free(out);
    out = s_ok_out(store, (const char *[]){"--format", "json", "edition", "diff", "mm1", "b1",
                                           NULL});
    j = json_loads(out, 0, NULL);
    assert_int_equal(s_num(j, "rank_changes"), 0);
    json_decref(j);
    free(out);
    out = s_ok_out(store, (const char *[]){"--format", "csv", "edition", "diff", "mm1", "b1",
                                           NULL});
    static const char dhead[] =
        "city,rank_a,rank_b,rank_change,index_a,index_b,index_change,in\r\n";
    assert_true(strncmp(out, dhead, strlen(dhead)) == 0);
    assert_non_null(strstr(out, "\r\ngamma,1,1,0,85,85,0,both\r\n"));
    assert_non_null(strstr(out, "\r\nzeta,,,,,"));
    assert_null(strstr(out, "'="));
    free(out);

    /* zeta ranked last in b2 (coverage 0.5): one city moved */
    free(s_ok_out(store, (const char *[]){"correct", "zeta", "i3", "2025", "1", "--reason",
                                          "r", NULL}));
    free(s_ok_out(store, (const char *[]){"edition", "publish", "b2", "--period", "2025",
                                          NULL}));
    out = s_ok_out(store, (const char *[]){"edition", "diff", "b1", "b2", NULL});
    assert_non_null(strstr(out, ": 1 city changed rank, 1 changed index\n"));
    free(out);

    /* delta to the top in b3: moves are numbers in CSV, signed in the table */
    free(s_ok_out(store, (const char *[]){"correct", "delta", "i1", "2025", "100", "--reason",
                                          "r", NULL}));
    free(s_ok_out(store, (const char *[]){"correct", "delta", "i3", "2025", "100", "--reason",
                                          "r", NULL}));
    free(s_ok_out(store, (const char *[]){"edition", "publish", "b3", "--period", "2025",
                                          NULL}));
    out = s_ok_out(store, (const char *[]){"--format", "csv", "edition", "diff", "b2", "b3",
                                           NULL});
    assert_non_null(strstr(out, "\r\ndelta,4,1,3,50,100,50,both\r\n"));
    assert_non_null(strstr(out, "\r\ngamma,1,2,-1,85,85,0,both\r\n"));
    assert_non_null(strstr(out, "\r\nzeta,5,5,0,5.5,5.5,0,both\r\n"));
    free(out);
    out = s_ok_out(store, (const char *[]){"edition", "diff", "b2", "b3", NULL});
    assert_non_null(strstr(out, ": 4 cities changed rank, 1 changed index\n"));
    assert_non_null(strstr(out, "+3"));
    free(out);
    out = s_ok_out(store, (const char *[]){"verify", NULL});
    free(out);
    cli_rmdir(dir);
}

/* The reporting cycle's commands on a store of their own (it gets an
 * edition): every refusal is one line (or the usage), nothing changes. */
static void test_cycle_commands(void **state)
{
    char dir[256], store[300];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/store", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), 0);
    cli_fill_fixture(st);
    glci_store_close(&st);
    cli_out_t o;

    cli_run(&o, "--store", store, "edition", NULL);
    cli_expect_usage(&o, "edition needs a subcommand: publish, list, diff");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "edition", "frob", NULL);
    cli_expect_usage(&o, "unknown edition subcommand 'frob'");
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "edition", "list", NULL), 0);
    assert_non_null(strstr(o.out, "no editions published"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "edition", "publish",
                             "e1", "--period", "2025", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(s_num(j, "cities"), 5);
    assert_int_equal(s_num(j, "ranked"), 4);
    json_decref(j);
    cli_out_release(&o);
    cli_run(&o, "--store", store, "edition", "diff", "e1", "nope", NULL);
    s_expect_fail(&o, "no edition 'nope' in the store");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "edition", "publish", "e2", "--period", "1990", NULL);
    s_expect_fail(&o, "period 1990 is outside the framework's [2000, 2100]");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "edition", "publish", "e2", "--period", "2010", NULL);
    s_expect_fail(&o, "no data for period 2010 as of that time");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "edition", "publish", "-x", NULL);
    cli_expect_usage(&o, "unknown option '-x'");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "edition", "publish", "a/b", NULL);
    cli_expect_usage(&o, "edition name 'a/b' is not valid");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "rank", "--as-of", "2025-13-01", NULL);
    cli_expect_usage(&o, "invalid time '2025-13-01' for --as-of");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "export", "--edition", "e1", "--all-periods", "--format",
            "xlsx", "--out", "x.xlsx", NULL);
    cli_expect_usage(&o, "--all-periods is the live store's every period");
    cli_out_release(&o);
    /* the edition reads back in every format; verify proves it */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "csv", "rank", "--edition", "e1",
                             NULL), 0);
    assert_non_null(strstr(o.out, "1,gamma,Gamma,85,1,2025\r\n"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "edition", "diff", "e1", "e1", NULL), 0);
    assert_non_null(strstr(o.out, "0 cities changed rank, 0 changed index"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "--format", "csv", "edition", "list", NULL),
                     0);
    assert_non_null(strstr(o.out, "name,period,as_of,published,by,cities,ranked,"
                                  "framework_hash,sudo_user\r\ne1,2025,"));
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", store, "verify", NULL), 0);
    cli_out_release(&o);
    /* history of an operator's work, and the refusals of correct */
    assert_int_equal(cli_run(&o, "--store", store, "correct", "alpha", "i3", "2025", "61",
                             "--reason", "re-keyed", NULL), 0);
    assert_non_null(strstr(o.out, "corrected i3 of alpha for 2025 to 61 (was 60)"));
    cli_out_release(&o);
    cli_run(&o, "--store", store, "correct", "alpha", "i3", "2025", NULL);
    cli_expect_usage(&o, "missing argument");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "retract", "Bad!", "i3", "2025", "--reason", "x", NULL);
    cli_expect_usage(&o, "city id 'Bad!' is not valid");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "retract", "alpha", "i3", "20x5", "--reason", "x", NULL);
    cli_expect_usage(&o, "invalid period '20x5'");
    cli_out_release(&o);
    /* every bad reason is a usage error, one line naming what is wrong */
    char long_reason[202];
    memset(long_reason, 'r', 201);
    long_reason[201] = '\0';
    const char *bad_reasons[][2] = {
        {long_reason, "the reason is 201 bytes, at most 200"},
        {"a\nb", "the reason contains a control character"},
        {"a\xff", "the reason is not valid UTF-8"},
    };
    for (size_t k = 0; k < 3; k++) {
        cli_run(&o, "--store", store, "correct", "alpha", "i3", "2025", "21", "--reason",
                bad_reasons[k][0], NULL);
        cli_expect_usage(&o, bad_reasons[k][1]);
        assert_non_null(strstr(o.err, " (usage: glci correct"));
        cli_out_release(&o);
        cli_run(&o, "--store", store, "retract", "alpha", "i3", "2025", "--reason",
                bad_reasons[k][0], NULL);
        cli_expect_usage(&o, bad_reasons[k][1]);
        cli_out_release(&o);
    }
    /* a period option's error names the option; a positional one says period */
    cli_run(&o, "--store", store, "edition", "publish", "e9", "--period", "abc", NULL);
    cli_expect_usage(&o, "invalid --period 'abc' (a year such as 2025)");
    cli_out_release(&o);
    cli_run(&o, "--store", store, "--format", "csv", "template", "--out", "t.csv", "--period",
            "20x5", NULL);
    cli_expect_usage(&o, "invalid --period '20x5' (a year such as 2025)");
    cli_out_release(&o);
    /* the edition did not move; the live table did */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "show", "alpha",
                             "--edition", "e1", NULL), 0);
    j = cli_json(&o);
    assert_string_equal(s_str(j, "edition"), "e1");
    json_decref(j);
    cli_out_release(&o);
    /* missing on the fixture: every city partial or missing for 2025 */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "missing", "--period",
                             "2025", NULL), 0);
    j = cli_json(&o);
    json_t *rows = s_get(j, "rows");
    assert_int_equal(json_array_size(rows), 6);
    assert_string_equal(s_str(json_array_get(rows, 0), "city"), "alpha");
    assert_string_equal(s_str(json_array_get(rows, 0), "status"), "partial");
    assert_string_equal(s_str(json_array_get(rows, 4), "city"), "gamma");
    assert_string_equal(s_str(json_array_get(rows, 4), "status"), "complete");
    assert_string_equal(s_str(json_array_get(rows, 5), "status"), "missing");
    json_decref(j);
    cli_out_release(&o);
    assert_int_equal(cli_run(&o, "--store", s_empty, "missing", "--period", "2025", NULL), 0);
    assert_non_null(strstr(o.out, "no active cities"));
    cli_out_release(&o);
    cli_rmdir(dir);
}

/* report, template and export's workbook run in glci-report (the
 * program beside glci, with glci's own arguments); glci itself loads none
 * of Cairo, fontconfig, libxlsxwriter and libzmq (cli_documents.h). */
static void s_write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int s_run_in(const char *dir, cli_out_t *out, const char *const *args)
{
    char bin[600];
    snprintf(bin, sizeof bin, "%s/glci", dir);
    cli_out_release(out);
    return cli_run_program(out, bin, args);
}

static void test_documents_program(void **state)
{
    (void)state;
    const char *bin_dir = getenv("GLCI_BIN_DIR");
    char cmd[2048], dir[256], args_path[400], helper[400];
    /* glci's start loads its own libraries only (LD_DEBUG=libs lists each) */
    snprintf(cmd, sizeof cmd, "LD_DEBUG=libs '%s/cli/glci' --version 2>&1 >/dev/null | "
             "grep -c -e 'init: .*liblmdb' -e 'init: .*libcairo' -e 'init: .*libzmq' "
             "-e 'init: .*libxlsxwriter' -e 'init: .*libfontconfig'", bin_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int count = -1;
    assert_int_equal(fscanf(p, "%d", &count), 1);
    pclose(p);
    assert_int_equal(count, 1);     /* liblmdb alone: the check sees the list */

    cli_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "cp '%s/cli/glci' '%s/glci'", bin_dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(args_path, sizeof args_path, "%s/args", dir);
    snprintf(helper, sizeof helper, "%s/glci-report", dir);
    snprintf(cmd, sizeof cmd, "#!/bin/sh\nprintf '%%s|' \"$0\" \"$@\" > '%s'\n", args_path);
    s_write_file(helper, cmd, 0755);

    cli_out_t o = {0};
    const char *report[] = {"--store", "/nowhere", "report", "--out", "a b", "--period",
                            "2025", NULL};
    assert_int_equal(s_run_in(dir, &o, report), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s|--store|/nowhere|report|--out|a b|--period|2025|", helper);
    assert_string_equal(s_read_file(args_path), want);

    /* the help of a document command is glci's own (its descriptor) */
    assert_int_equal(unlink(args_path), 0);
    const char *help[] = {"help", "template", NULL};
    assert_int_equal(s_run_in(dir, &o, help), 0);
    assert_non_null(strstr(o.out, "usage: glci template "));
    assert_null(s_read_file(args_path));

    const char *xlsx[] = {"export", "--format=xlsx", "--out", "w.xlsx", NULL};
    assert_int_equal(s_run_in(dir, &o, xlsx), 0);
    snprintf(want, sizeof want, "%s|export|--format=xlsx|--out|w.xlsx|", helper);
    assert_string_equal(s_read_file(args_path), want);

    /* CSV export and every other command run in glci itself */
    assert_int_equal(unlink(args_path), 0);
    const char *csv[] = {"--store", "/nowhere", "export", "--format", "csv", NULL};
    assert_int_equal(s_run_in(dir, &o, csv), 1);
    assert_non_null(strstr(o.err, "glci export: no store at /nowhere"));
    assert_null(s_read_file(args_path));

    /* a glci-report that cannot run: one line naming it, exit 1 */
    assert_int_equal(unlink(helper), 0);
    assert_int_equal(mkdir(helper, 0755), 0);
    assert_int_equal(s_run_in(dir, &o, report), 1);
    snprintf(want, sizeof want, "glci report: cannot run its program %s: Permission denied\n",
             helper);
    assert_string_equal(o.err, want);
    cli_out_release(&o);
    cli_rmdir(dir);
}

/* A glci copied alone, without glci-report beside it or installed, still
 * answers --help (and -h, and `glci help CMD`) for the commands whose code
 * is in glci-report, exit 0, with the text glci-report prints. */
static void test_documents_help_alone(void **state)
{
    (void)state;
    const char *bin_dir = getenv("GLCI_BIN_DIR");
    char cmd[1024], dir[256], helper[600];
    cli_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "cp '%s/cli/glci' '%s/glci'", bin_dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(helper, sizeof helper, "%s/cli/glci-report", bin_dir);
    static const char *const asks[][5] = {
        {"report", "--help", NULL},
        {"template", "--help", NULL},
        {"template", "-h", NULL},
        {"report", "--out", "x", "--help", NULL},
        {"export", "--format", "xlsx", "--help", NULL},
        {"help", "report", NULL},
        {"--help", "template", NULL},
    };
    for (size_t k = 0; k < sizeof asks / sizeof asks[0]; k++) {
        cli_out_t o = {0}, want = {0};
        const char *name = strcmp(asks[k][0], "help") == 0 || strcmp(asks[k][0], "--help") == 0
                               ? asks[k][1] : asks[k][0];
        char usage[64];
        snprintf(usage, sizeof usage, "usage: glci %s ", name);
        if (s_run_in(dir, &o, asks[k]) != 0 || strncmp(o.out, usage, strlen(usage)) != 0 ||
            o.err[0])
            fail_msg("glci alone, %s %s: exit %d, stdout '%.60s', stderr '%s'", asks[k][0],
                     asks[k][1], o.status, o.out, o.err);
        assert_int_equal(cli_run_program(&want, helper, asks[k]), 0);
        assert_string_equal(o.out, want.out);
        cli_out_release(&o);
        cli_out_release(&want);
    }
    /* --help=... stays the usage error it is in glci-report */
    cli_out_t o = {0};
    const char *bad[] = {"report", "--help=x", NULL};
    assert_int_equal(s_run_in(dir, &o, bad), 2);
    assert_non_null(strstr(o.err, "option --help takes no value"));
    cli_out_release(&o);
    cli_rmdir(dir);
}

/* show and peers without --period for a city that reported ahead of the
 * network: the rule's period (2020) and every one before it hold nothing
 * of it, so its first result after the rule's (2025) is shown, not "no
 * data"; a city with no result at all is still refused. */
static void test_city_ahead_of_the_rule(void **state)
{
    (void)state;
    char dir[256], store[300];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/store", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), 0);
    const char *early[] = {"a", "b", "c"};
    const cli_obs_t y2020[] = {{"i1", 2020, 50}, {"i3", 2020, 60}};
    const cli_obs_t y2025[] = {{"i1", 2025, 70}};
    for (int i = 0; i < 3; i++) {
        cli_city_add(st, early[i], early[i], "IE");
        cli_ingest(st, early[i], 1, y2020, 2, 1764000000 + i);
    }
    cli_city_add(st, "d", "D", "IE");
    cli_city_add(st, "e", "E", "IE");
    cli_ingest(st, "d", 1, y2025, 1, 1764000100);
    glci_store_close(&st);
    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "rank", NULL), 0);
    json_t *j = cli_json(&o);
    assert_int_equal(s_num(j, "period"), 2020);
    json_decref(j);
    cli_out_release(&o);
    const char *cmds[] = {"show", "peers"};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(cli_run(&o, "--store", store, "--format", "json", cmds[k], "d",
                                 NULL), 0);
        j = cli_json(&o);
        assert_int_equal(s_num(j, "period"), 2025);
        json_decref(j);
        cli_out_release(&o);
        cli_run(&o, "--store", store, cmds[k], "e", NULL);
        cli_expect_fail(&o, "no data for city 'e'");
        cli_out_release(&o);
    }
    /* a city with a result in the rule's period: that one */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "show", "a", NULL), 0);
    j = cli_json(&o);
    assert_int_equal(s_num(j, "period"), 2020);
    json_decref(j);
    cli_out_release(&o);
    cli_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_no_store),
        cmocka_unit_test(test_unknown_things),
        cmocka_unit_test(test_empty_store),
        cmocka_unit_test(test_rank_json),
        cmocka_unit_test(test_rank_table_csv),
        cmocka_unit_test(test_show_json),
        cmocka_unit_test(test_show_table_csv),
        cmocka_unit_test(test_csv_subnormal_value),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_framework),
        cmocka_unit_test(test_city_list_fixture),
        cmocka_unit_test(test_init_and_collector_key),
        cmocka_unit_test(test_city_admin),
        cmocka_unit_test(test_city_keys),
        cmocka_unit_test(test_verify_backup),
        cmocka_unit_test(test_cycle_commands),
        cmocka_unit_test(test_edition_outputs),
        cmocka_unit_test(test_documents_program),
        cmocka_unit_test(test_documents_help_alone),
        cmocka_unit_test(test_city_ahead_of_the_rule),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
