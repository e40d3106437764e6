/* glci on a live store: while another process ingests batches and grows
 * the LMDB map (the store starts tiny), `glci rank` and `glci show` run in
 * a loop. Every run must succeed and print a self-consistent answer: a
 * league table in rank order with shared ranks for ties, and a city tree
 * whose index, area and focus scores and coverage agree with its indicators
 * (the tiny framework: two areas of one focus area each, weights 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glci_keyfile.h"
#include "test_cli_support.h"

#define S_MAP_SIZE   (256u * 1024u)
#define S_SEED_CITIES 10
#define S_CITIES      240
#define S_MIN_LOOPS   30

/* The writer: registers S_CITIES cities and sends each a batch for 2023-2025
 * (the first ones again as revisions), one durable transaction per batch,
 * then keeps revising until the reader says it has read enough (a byte or
 * EOF on fd `stop`), so reads and writes overlap however fast either is.
 * No cmocka in here: it is a child process; any failure is exit status 1. */
static int s_writer(const char *store, int stop)
{
    uint64_t seq[S_CITIES] = {0};
    glci_store_opts_t opts = {.map_size = S_MAP_SIZE};
    glci_store_t *st = NULL;
    char err[256];
    if (glci_store_open(store, &opts, &st, err, sizeof err) != 0) {
        fprintf(stderr, "writer: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int k = 0; rc == 0; k++) {
        int c = S_SEED_CITIES + k % (S_CITIES - S_SEED_CITIES);
        char id[32], byte;
        snprintf(id, sizeof id, "city%03d", c);
        if (k >= S_CITIES - S_SEED_CITIES) {
            ssize_t got = read(stop, &byte, 1);
            if (got >= 0 || k > 200000)
                break;
        } else {
            glci_key_t pub, sec;
            if (glci_key_generate(&pub, &sec, err, sizeof err) != 0 ||
                glci_store_city_add(st, id, id, "IE", pub.z85, NULL, 0) != 0) {
                rc = 1;
                break;
            }
        }
        for (int round = 0; round < (c < 40 ? 2 : 1) && rc == 0; round++) {
            glci_obs_t o[12];
            size_t n = 0;
            for (int32_t p = 2023; p <= 2025; p++) {
                static const char *const ids[] = {"i1", "i2", "i3", "i4"};
                for (int i = 0; i < 4; i++) {
                    if ((c + i + p) % 7 == 0)
                        continue;   /* some gaps: some cities stay unranked */
                    o[n] = (glci_obs_t){.indicator = ids[i], .period = p,
                                        .value = i == 3 ? (double)((c + p) % 2)
                                                        : (double)((c * 7 + p + (int)seq[c] * 3) % 100),
                                        .has_period = 1, .has_value = 1};
                    n++;
                }
            }
            glci_batch_t b = {.city = id, .stream = 1, .seq = ++seq[c], .obs = o,
                              .n_obs = n};
            glci_batch_result_t r;
            memset(&r, 0, sizeof r);
            if (glci_store_ingest(st, &b, 1, 1764000000 + c, &r) != 0 ||
                r.status != GLCI_BATCH_APPLIED)
                rc = 1;
            glci_batch_result_release(&r);
        }
    }
    glci_store_close(&st);
    return rc;
}

static double s_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* A league table in order: scores descending, ties by city id with a shared
 * rank, ranks 1, 2, 2, 4. */
static void s_check_rank(json_t *j)
{
    json_t *rows = json_object_get(j, "rows");
    assert_non_null(rows);
    assert_true(json_array_size(rows) > 0);
    double prev = 0;
    const char *prev_id = NULL;
    unsigned prev_rank = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        double score = s_num(r, "score");
        unsigned rank = (unsigned)s_num(r, "rank");
        const char *id = json_string_value(json_object_get(r, "city"));
        assert_non_null(id);
        assert_true(score >= 0.0 && score <= 100.0);
        assert_true(s_num(r, "coverage") >= 0.5);
        if (i == 0) {
            assert_int_equal(rank, 1);
        } else if (score == prev) {
            assert_int_equal(rank, prev_rank);
            assert_true(strcmp(prev_id, id) < 0);
        } else {
            assert_true(score < prev);
            assert_int_equal(rank, i + 1);
        }
        prev = score;
        prev_id = id;
        prev_rank = rank;
    }
    json_t *un = json_object_get(j, "unranked");
    assert_non_null(un);
    for (size_t i = 0; i < json_array_size(un); i++)
        assert_true(json_is_number(json_object_get(json_array_get(un, i), "coverage")));
}

/* A city tree that agrees with itself. */
static void s_check_show(json_t *j)
{
    json_t *areas = json_object_get(j, "areas");
    assert_int_equal(json_array_size(areas), 2);
    double area_sum = 0;
    int n_areas = 0, n_values = 0;
    for (size_t a = 0; a < 2; a++) {
        json_t *area = json_array_get(areas, a);
        json_t *focus = json_array_get(json_object_get(area, "focus"), 0);
        json_t *inds = json_object_get(focus, "indicators");
        double sum = 0;
        int n = 0;
        for (size_t i = 0; i < json_array_size(inds); i++) {
            json_t *s = json_object_get(json_array_get(inds, i), "score");
            if (json_is_number(s)) {
                sum += json_number_value(s);
                n++;
            }
        }
        n_values += n;
        json_t *fs = json_object_get(focus, "score"), *as = json_object_get(area, "score");
        if (n == 0) {
            assert_true(json_is_null(fs));
            assert_true(json_is_null(as));
            continue;
        }
        assert_true(fabs(json_number_value(fs) - sum / n) < 1e-9);
        assert_true(json_number_value(as) == json_number_value(fs));
        area_sum += json_number_value(as);
        n_areas++;
    }
    double coverage = s_num(j, "coverage");
    assert_true(coverage == n_values / 4.0);
    json_t *idx = json_object_get(j, "index");
    if (n_areas == 2 && coverage >= 0.5)
        assert_true(fabs(json_number_value(idx) - area_sum / 2) < 1e-9);
    else
        assert_true(json_is_null(idx));
}

static void test_rank_and_show_while_ingesting(void **state)
{
    char dir[256], store[300];
    cli_tmpdir(dir, sizeof dir);
    snprintf(store, sizeof store, "%s/s", dir);
    glci_store_t *st = cli_store_create(store, cli_tiny_framework(dir), S_MAP_SIZE);
    for (int c = 0; c < S_SEED_CITIES; c++) {
        char id[32];
        snprintf(id, sizeof id, "city%03d", c);
        cli_city_add(st, id, id, "IE");
        const cli_obs_t obs[] = {{"i1", 2025, 10.0 * c}, {"i3", 2025, 50}, {"i4", 2025, c % 2}};
        cli_ingest(st, id, 1, obs, 3, 1764000000);
    }
    glci_store_close(&st);

    cli_out_t o;
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "status", NULL), 0);
    json_t *j = cli_json(&o);
    double map0 = S_MAP_SIZE;
    assert_true(s_num(j, "size_bytes") < map0);
    json_decref(j);
    cli_out_release(&o);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        _exit(s_writer(store, fds[0]));
    }
    close(fds[0]);

    int loops = 0, running = 1, ws = 0;
    while (running || loops < S_MIN_LOOPS + 2) {
        if (loops == S_MIN_LOOPS) {
            assert_int_equal(write(fds[1], "x", 1), 1);
            close(fds[1]);
        }
        if (running && waitpid(pid, &ws, WNOHANG) == pid) {
            running = 0;
            /* the writer stops only when told: every loop so far overlapped it */
            assert_true(loops >= S_MIN_LOOPS);
        }
        cli_run(&o, "--store", store, "--format", "json", "rank", NULL);
        if (o.status != 0)
            fprintf(stderr, "rank failed: %s", o.err);
        assert_int_equal(o.status, 0);
        j = cli_json(&o);
        s_check_rank(j);
        json_decref(j);
        cli_out_release(&o);

        char city[32];
        snprintf(city, sizeof city, "city%03d", loops % S_SEED_CITIES);
        cli_run(&o, "--store", store, "--format", "json", "show", city, NULL);
        if (o.status != 0)
            fprintf(stderr, "show failed: %s", o.err);
        assert_int_equal(o.status, 0);
        j = cli_json(&o);
        s_check_show(j);
        json_decref(j);
        cli_out_release(&o);
        loops++;
    }
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);

    /* the writer grew the map; everything it wrote is there and verifies */
    assert_int_equal(cli_run(&o, "--store", store, "--format", "json", "status", NULL), 0);
    j = cli_json(&o);
    assert_true(s_num(j, "size_bytes") > map0);   /* data past the first map */
    assert_true(s_num(j, "file_bytes") >= s_num(j, "size_bytes"));
    assert_int_equal(s_num(j, "cities"), S_CITIES);
    json_decref(j);
    cli_out_release(&o);
    cli_run(&o, "--store", store, "verify", NULL);
    if (o.status != 0)
        fprintf(stderr, "verify: %.2000s%s", o.out, o.err);
    assert_int_equal(o.status, 0);
    cli_out_release(&o);
    cli_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_and_show_while_ingesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
