/* Helpers for the glci CLI tests: see test_cli_support.h. */
#include "test_cli_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glci_keyfile.h"

void cli_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/glci-test-cli-XXXXXX");
    assert_non_null(mkdtemp(buf));
}

void cli_rmdir(const char *dir)
{
    char cmd[600];
    assert_true(strncmp(dir, "/tmp/glci-test-cli-", 19) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static char *s_slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    rewind(f);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    return buf;
}

int cli_runv(cli_out_t *out, const char *const *argv)
{
    char bin[1024];
    const char *dir = getenv("GLCI_BIN_DIR");
    assert_non_null(dir);
    snprintf(bin, sizeof bin, "%s/cli/glci", dir);
    return cli_run_program(out, bin, argv);
}

int cli_run_program(cli_out_t *out, const char *bin, const char *const *argv)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    assert_non_null(fo);
    assert_non_null(fe);
    size_t n = 0;
    while (argv[n])
        n++;
    char **args = calloc(n + 2, sizeof *args);
    assert_non_null(args);
    args[0] = (char *)bin;
    for (size_t i = 0; i < n; i++)
        args[i + 1] = (char *)argv[i];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fileno(fo), 1);
        dup2(fileno(fe), 2);
        execv(bin, args);
        _exit(127);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    free(args);
    fseek(fo, 0, SEEK_END);
    fseek(fe, 0, SEEK_END);
    out->out = s_slurp(fo);
    out->err = s_slurp(fe);
    fclose(fo);
    fclose(fe);
    out->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return out->status;
}

int cli_run(cli_out_t *out, ...)
{
    const char *argv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, out);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(n < 63);
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    return cli_runv(out, argv);
}

void cli_out_release(cli_out_t *out)
{
    free(out->out);
    free(out->err);
    out->out = out->err = NULL;
}

json_t *cli_json(const cli_out_t *out)
{
    json_error_t e;
    json_t *j = json_loads(out->out, 0, &e);
    if (!j)
        fprintf(stderr, "not JSON (%s at line %d): %s\n", e.text, e.line, out->out);
    assert_non_null(j);
    return j;
}

const char *cli_tiny_framework(const char *dir)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/tiny.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[framework]\nid = tiny\nversion = 1\nmin_coverage = 0.5\ncarry_forward = 2\n"
          "aggregation = arithmetic\nfirst_period = 2000\nlast_period = 2100\n\n"
          "[area:a]\nname = Area A\n\n"
          "[focus:a.x]\narea = a\nname = Focus X\n\n"
          "[indicator:i1]\nfocus = a.x\nname = Indicator one\nunit = %\n"
          "direction = higher\nlower = 0\nupper = 100\nmin = 0\nmax = 100\n\n"
          "[indicator:i2]\nfocus = a.x\nname = Indicator two\nunit = count\n"
          "direction = lower\nlower = 0\nupper = 50\nmin = 0\nmax = 1000\n\n"
          "[area:b]\nname = Area B\n\n"
          "[focus:b.y]\narea = b\nname = Focus Y\n\n"
          "[indicator:i3]\nfocus = b.y\nname = Indicator three\nunit = %\n"
          "direction = higher\nlower = 0\nupper = 100\nmin = 0\nmax = 100\n\n"
          "[indicator:i4]\nfocus = b.y\nname = Indicator four, yes/no\nunit = yes/no\n"
          "direction = higher\nlower = 0\nupper = 1\nmin = 0\nmax = 1\n", f);
    assert_int_equal(fclose(f), 0);
    return path;
}

glci_store_t *cli_store_create(const char *dir, const char *fw, size_t map_size)
{
    char err[512] = "";
    glci_store_opts_t opts = {.map_size = map_size};
    int rc = glci_store_create(dir, fw, &opts, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "store create: %s (%s)\n", err, glci_store_strerror(rc));
    assert_int_equal(rc, 0);
    glci_store_t *st = NULL;
    rc = glci_store_open(dir, &opts, &st, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "store open: %s (%s)\n", err, glci_store_strerror(rc));
    assert_int_equal(rc, 0);
    return st;
}

void cli_city_add(glci_store_t *st, const char *id, const char *name, const char *country)
{
    glci_key_t pub, sec;
    char err[256];
    assert_int_equal(glci_key_generate(&pub, &sec, err, sizeof err), 0);
    assert_int_equal(glci_store_city_add(st, id, name, country, pub.z85, NULL, 0), 0);
}

void cli_ingest(glci_store_t *st, const char *city, uint64_t seq, const cli_obs_t *obs,
                size_t n, int64_t now)
{
    glci_obs_t *o = calloc(n ? n : 1, sizeof *o);
    assert_non_null(o);
    for (size_t i = 0; i < n; i++) {
        o[i].indicator = obs[i].indicator;
        o[i].period = obs[i].period;
        o[i].value = obs[i].value;
        o[i].has_period = 1;
        o[i].has_value = 1;
    }
    glci_batch_t b = {.city = city, .stream = CLI_STREAM, .seq = seq, .obs = o, .n_obs = n};
    glci_batch_result_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(glci_store_ingest(st, &b, 1, now, &r), 0);
    assert_int_equal(r.status, GLCI_BATCH_APPLIED);
    glci_batch_result_release(&r);
    free(o);
}

void cli_fill_fixture(glci_store_t *st)
{
    cli_city_add(st, "alpha", "Alpha City", "IE");
    cli_city_add(st, "beta", "Beta, \"the\" Town", "DE");
    cli_city_add(st, "gamma", "Gamma", "FR");
    cli_city_add(st, "delta", "Delta", "ES");
    cli_city_add(st, "epsilon", "Epsilon", "IT");
    cli_city_add(st, "zeta", "Zeta", "PT");
    const int64_t t0 = 1764000000; /* 2025-11-24T16:00:00Z */
    const cli_obs_t alpha1[] = {{"i1", 2025, 70}, {"i3", 2025, 60}, {"i4", 2024, 1}};
    const cli_obs_t alpha2[] = {{"i1", 2025, 80}};   /* a revision */
    const cli_obs_t beta[] = {{"i1", 2025, 80}, {"i3", 2025, 60}, {"i4", 2024, 1}};
    const cli_obs_t gamma[] = {{"i1", 2025, 100}, {"i2", 2025, 25}, {"i3", 2025, 90},
                               {"i4", 2025, 1}};
    const cli_obs_t delta[] = {{"i1", 2025, 50}, {"i3", 2025, 50},
                               {"nope", 2025, 1}, {"i1", 2024, 150}};
    const cli_obs_t epsilon[] = {{"i1", 2025, 12.345678901234567}};
    cli_ingest(st, "alpha", 1, alpha1, 3, t0);
    cli_ingest(st, "alpha", 2, alpha2, 1, t0 + 60);
    cli_ingest(st, "beta", 1, beta, 3, t0 + 120);
    cli_ingest(st, "gamma", 1, gamma, 4, t0 + 180);
    cli_ingest(st, "delta", 1, delta, 4, t0 + 240);
    cli_ingest(st, "epsilon", 1, epsilon, 1, t0 + 300);
}

json_t *cli_json_get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        fprintf(stderr, "missing JSON field '%s'\n", key);
    assert_non_null(v);
    return v;
}

double cli_json_num(json_t *obj, const char *key)
{
    json_t *v = cli_json_get(obj, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

const char *cli_json_str(json_t *obj, const char *key)
{
    json_t *v = cli_json_get(obj, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

size_t cli_csv_records(const char *text)
{
    size_t n = 0;
    int quoted = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && p[0] == '\r' && p[1] == '\n')
            n++;
    }
    return n;
}

void cli_expect_fail(const cli_out_t *o, const char *what)
{
    if (o->status != 1 || !strstr(o->err, what))
        fprintf(stderr, "expected exit 1 with '%s', got %d: %s", what, o->status, o->err);
    assert_int_equal(o->status, 1);
    assert_non_null(strstr(o->err, what));
    assert_true(strncmp(o->err, "glci", 4) == 0);
    assert_non_null(strchr(o->err, '\n'));
    assert_true(strchr(o->err, '\n')[1] == '\0');
    assert_string_equal(o->out, "");
}

void cli_expect_usage(const cli_out_t *o, const char *what)
{
    if (o->status != 2 || !strstr(o->err, what))
        fprintf(stderr, "expected exit 2 with '%s', got %d: %s", what, o->status, o->err);
    assert_int_equal(o->status, 2);
    assert_non_null(strstr(o->err, what));
    /* one line: the usage at its end */
    assert_non_null(strstr(o->err, " (usage: glci"));
    assert_true(strchr(o->err, '\n') == o->err + strlen(o->err) - 1);
    assert_string_equal(o->out, "");
}
