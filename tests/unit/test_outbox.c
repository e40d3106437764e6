/* Unit tests for the agent's outbox (store/glci_outbox.h): stream id, seq
 * numbering at store time, batching, cumulative acks, the size limit,
 * markers, quarantine of a corrupt record, status, reopening, and the
 * rebase onto a new stream after the collector lost acked batches
 * (renumbering, order, refusals, a crash in the middle), the retention of
 * acked batches (kept unchanged, pruned by age and bytes oldest first,
 * never counted against the limit, renumbered by a rebase, dropped by a
 * restream, a corrupt one dropped), and the dead-letter table (add, list, delete, reopen, stored with an ack or a
 * quarantine in the same transaction). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "glci_outbox.h"

static char s_dir[256];
static char s_ob[300];

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/glci-test-outbox-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_ob, sizeof s_ob, "%s/outbox", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static glci_outbox_t *s_open(uint64_t limit)
{
    glci_outbox_t *ob = NULL;
    char err[256];
    glci_outbox_opts_t o = {.limit = limit};
    assert_int_equal(glci_outbox_open(s_ob, &o, &ob, err, sizeof err), 0);
    assert_non_null(ob);
    return ob;
}

static glci_obs_t *s_obs(size_t n)
{
    glci_obs_t *o = calloc(n, sizeof *o);
    for (size_t i = 0; i < n; i++) {
        o[i].indicator = "adult_learning_rate";
        o[i].period = 2000 + (int32_t)(i % 50);
        o[i].has_period = o[i].has_value = 1;
        o[i].value = (double)i + 0.5;
        o[i].observed_at = (int64_t)i;
        o[i].source = (i % 2) ? "survey" : NULL;
    }
    return o;
}

static void test_stream_persists_and_differs(void **state)
{
    glci_outbox_t *ob = s_open(0);
    uint64_t stream = glci_outbox_stream(ob);
    assert_true(stream != 0);
    glci_outbox_close(&ob);
    assert_null(ob);
    glci_outbox_close(&ob);   /* accepts NULL */
    ob = s_open(0);
    assert_true(glci_outbox_stream(ob) == stream);
    glci_outbox_close(&ob);

    /* a new outbox elsewhere gets another stream */
    char other[320];
    snprintf(other, sizeof other, "%s/other", s_dir);
    char err[256];
    assert_int_equal(glci_outbox_open(other, NULL, &ob, err, sizeof err), 0);
    assert_true(glci_outbox_stream(ob) != stream);
    glci_outbox_close(&ob);
}

static void test_nocreate_refuses_missing(void **state)
{
    char err[256] = "", path[320];
    glci_outbox_t *ob = NULL;
    glci_outbox_opts_t o = {.flags = GLCI_OUTBOX_NOCREATE};
    snprintf(path, sizeof path, "%s/none", s_dir);
    assert_int_equal(glci_outbox_open(path, &o, &ob, err, sizeof err), GLCI_OUTBOX_ENOENT);
    assert_null(ob);
    assert_non_null(strstr(err, path));
}

static void test_append_batches_and_read_back(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(25);
    uint64_t first = 0, last = 0, next = 0;
    assert_int_equal(glci_outbox_append(ob, o, 25, 10, 1000, NULL, &first, &last), 0);
    assert_true(first == 1 && last == 3);
    assert_int_equal(glci_outbox_next_seq(ob, &next), 0);
    assert_true(next == 4);
    assert_int_equal(glci_outbox_append(ob, o, 1, 10, 1001, NULL, &first, &last), 0);
    assert_true(first == 4 && last == 4);

    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_read(ob, 3, &b), 0);
    assert_true(b->seq == 3);
    assert_int_equal(b->n_obs, 5);
    assert_int_equal(b->created, 1000);
    assert_string_equal(b->obs[0].indicator, "adult_learning_rate");
    assert_true(b->obs[0].value == 20.5);
    assert_int_equal(b->obs[0].period, 2020);
    assert_int_equal(b->obs[1].observed_at, 21);
    assert_string_equal(b->obs[1].source, "survey");
    assert_string_equal(b->obs[0].source, "");
    glci_outbox_batch_free(&b);
    assert_null(b);
    assert_int_equal(glci_outbox_read(ob, 9, &b), GLCI_OUTBOX_ENOENT);

    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.batches == 4 && st.observations == 26 && st.next_seq == 5);
    assert_int_equal(st.oldest, 1000);
    free(o);
    glci_outbox_close(&ob);
}

static void test_append_rejects_bad_input(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t o = {.has_period = 1, .has_value = 1, .indicator = "", .period = 2020, .value = 1};
    assert_int_equal(glci_outbox_append(ob, &o, 1, 10, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    char longsrc[300];
    memset(longsrc, 'a', sizeof longsrc - 1);
    longsrc[sizeof longsrc - 1] = '\0';
    o.indicator = "x";
    o.source = longsrc;
    assert_int_equal(glci_outbox_append(ob, &o, 1, 10, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    o.source = NULL;
    assert_int_equal(glci_outbox_append(ob, &o, 0, 10, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    assert_int_equal(glci_outbox_append(ob, &o, 1, 0, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    uint64_t next;
    assert_int_equal(glci_outbox_next_seq(ob, &next), 0);
    assert_true(next == 1);
    glci_outbox_close(&ob);
}

static void test_ack_is_cumulative(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(50);
    assert_int_equal(glci_outbox_append(ob, o, 50, 10, 5, NULL, NULL, NULL), 0);
    size_t gone = 99;
    assert_int_equal(glci_outbox_ack(ob, 3, 77, 2, &gone), 0);
    assert_int_equal(gone, 3);
    uint64_t first = 0;
    assert_int_equal(glci_outbox_first_seq(ob, &first), 0);
    assert_true(first == 4);
    /* an old ack deletes nothing more */
    assert_int_equal(glci_outbox_ack(ob, 2, 78, 0, &gone), 0);
    assert_int_equal(gone, 0);
    /* an ack beyond what was stored is clamped */
    assert_int_equal(glci_outbox_ack(ob, 1000, 79, 0, &gone), 0);
    assert_int_equal(gone, 2);
    assert_int_equal(glci_outbox_first_seq(ob, &first), GLCI_OUTBOX_ENOENT);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.batches == 0 && st.observations == 0 && st.bytes == 0);
    assert_true(st.acked == 5 && st.last_ack == 79 && st.rejects == 2);
    assert_int_equal(st.oldest, 0);
    /* numbering continues after the outbox empties */
    uint64_t f, l;
    assert_int_equal(glci_outbox_append(ob, o, 1, 10, 5, NULL, &f, &l), 0);
    assert_true(f == 6);
    free(o);
    glci_outbox_close(&ob);
}

static void test_limit_fails_loudly_keeps_old(void **state)
{
    glci_outbox_t *ob = s_open(4096);
    glci_obs_t *o = s_obs(200);
    uint64_t f, l;
    assert_int_equal(glci_outbox_append(ob, o, 50, 1000, 1, NULL, &f, &l), 0);
    assert_int_equal(glci_outbox_append(ob, o, 200, 1000, 1, NULL, &f, &l),
                     GLCI_OUTBOX_EFULL);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.batches == 1 && st.observations == 50);
    /* after an ack there is room again */
    assert_int_equal(glci_outbox_ack(ob, 1, 2, 0, NULL), 0);
    assert_int_equal(glci_outbox_append(ob, o, 60, 1000, 1, NULL, &f, &l), 0);
    assert_true(f == 2);
    assert_non_null(strstr(glci_outbox_strerror(GLCI_OUTBOX_EFULL), "limit"));
    free(o);
    glci_outbox_close(&ob);
}

static void test_marker_takes_input_once(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(3);
    assert_int_equal(glci_outbox_has_marker(ob, "file:a.csv:1:2"), 0);
    assert_int_equal(glci_outbox_append(ob, o, 3, 10, 1, "file:a.csv:1:2", NULL, NULL), 0);
    assert_int_equal(glci_outbox_has_marker(ob, "file:a.csv:1:2"), 1);
    assert_int_equal(glci_outbox_append(ob, o, 3, 10, 1, "file:a.csv:1:2", NULL, NULL),
                     GLCI_OUTBOX_EEXIST);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.observations == 3);
    free(o);
    glci_outbox_close(&ob);
}

/* Flips a byte of the first occurrence of needle in the outbox's data file,
 * or with `all` of every one (copy-on-write leaves older copies of a record
 * in freed pages). */
static void s_corrupt(const char *needle, int all)
{
    char path[320];
    snprintf(path, sizeof path, "%s/data.mdb", s_ob);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    char *buf = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    size_t nl = strlen(needle);
    int found = 0;
    for (long i = 0; i + (long)nl <= size && (all || !found); i++)
        if (memcmp(buf + i, needle, nl) == 0) {
            fseek(f, i, SEEK_SET);
            fputc('Z', f);
            found = 1;
        }
    assert_true(found);
    fclose(f);
    free(buf);
}

static void test_corrupt_record_is_quarantined(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t o[2] = {
        {.has_period = 1, .has_value = 1, .indicator = "first_one", .period = 2020, .value = 1},
        {.has_period = 1, .has_value = 1, .indicator = "second_unique_marker", .period = 2021, .value = 2},
    };
    assert_int_equal(glci_outbox_append(ob, o, 1, 10, 1, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_append(ob, o + 1, 1, 10, 1, NULL, NULL, NULL), 0);
    glci_outbox_close(&ob);
    s_corrupt("second_unique_marker", 0);
    ob = s_open(0);
    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_read(ob, 1, &b), 0);
    glci_outbox_batch_free(&b);
    assert_int_equal(glci_outbox_read(ob, 2, &b), GLCI_OUTBOX_ECORRUPT);
    assert_null(b);
    assert_int_equal(glci_outbox_quarantine(ob, 2, 9), 0);
    assert_int_equal(glci_outbox_read(ob, 2, &b), 0);
    assert_int_equal(b->n_obs, 0);      /* the number stays, delivery goes on */
    glci_outbox_batch_free(&b);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.quarantined == 1 && st.batches == 2 && st.observations == 1);
    assert_int_equal(glci_outbox_quarantine(ob, 7, 9), GLCI_OUTBOX_ENOENT);
    glci_outbox_close(&ob);
}

static void test_state_for_status(void **state)
{
    glci_outbox_t *ob = s_open(0);
    assert_int_equal(glci_outbox_set_state(ob, "connected", 42), 0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.state, "connected");
    assert_int_equal(st.state_since, 42);
    assert_int_equal(glci_outbox_set_state(ob, "a-state-name-much-longer-than-the-field", 1),
                     GLCI_OUTBOX_EINVAL);
    glci_outbox_close(&ob);
}

/* The keys in use carry the run that wrote them; "" keys clear them, and
 * a key of another length is refused. */
static void test_keys_carry_their_run(void **state)
{
    (void)state;
    const char *k = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    const char *c = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    glci_outbox_t *ob = s_open(0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.key_in_use, "");
    assert_string_equal(st.keys_run, "");
    glci_outbox_set_run(ob, "123-00000000000000ff");
    assert_int_equal(glci_outbox_set_keys(ob, k, c), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.key_in_use, k);
    assert_string_equal(st.server_in_use, c);
    assert_string_equal(st.keys_run, "123-00000000000000ff");
    glci_outbox_close(&ob);

    ob = s_open(0);                        /* another run, not named yet */
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.keys_run, "123-00000000000000ff");
    assert_int_equal(glci_outbox_set_keys(ob, "", ""), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.key_in_use, "");
    assert_string_equal(st.server_in_use, "");
    assert_string_equal(st.keys_run, "");
    assert_int_equal(glci_outbox_set_keys(ob, "short", ""), GLCI_OUTBOX_EINVAL);
    glci_outbox_close(&ob);
}

/* The first value of batch seq: which input batch it holds. */
static double s_first_value(glci_outbox_t *ob, uint64_t seq)
{
    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_read(ob, seq, &b), 0);
    assert_true(b->n_obs > 0);
    double v = b->obs[0].value;
    glci_outbox_batch_free(&b);
    return v;
}

static void test_rebase_renumbers_in_order(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(70);
    /* 7 batches of 10: batch j starts with value (j-1)*10 + 0.5 */
    assert_int_equal(glci_outbox_append(ob, o, 70, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 3, 6, 0, NULL), 0);
    glci_outbox_status_t before;
    assert_int_equal(glci_outbox_status(ob, &before), 0);
    uint64_t old = glci_outbox_stream(ob), fresh = 0, kept = 0;

    /* the collector lost 2..3 (acked, deleted here); 4..7 remain */
    assert_int_equal(glci_outbox_rebase(ob, 2, 3, 1234, &fresh, &kept, NULL), 0);
    assert_true(kept == 4);
    assert_true(fresh != 0 && fresh != old);
    assert_true(glci_outbox_stream(ob) == fresh);
    uint64_t first = 0, next = 0;
    assert_int_equal(glci_outbox_first_seq(ob, &first), 0);
    assert_int_equal(glci_outbox_next_seq(ob, &next), 0);
    assert_true(first == 1 && next == 5);
    for (uint64_t i = 1; i <= 4; i++) {
        glci_outbox_batch_t *b = NULL;
        assert_int_equal(glci_outbox_read(ob, i, &b), 0);
        assert_true(b->seq == i && b->n_obs == 10 && b->created == 5);
        for (size_t j = 0; j < 10; j++) {    /* content unchanged */
            size_t src = (size_t)(i + 2) * 10 + j;
            assert_true(b->obs[j].value == o[src].value);
            assert_int_equal(b->obs[j].period, o[src].period);
            assert_int_equal(b->obs[j].observed_at, o[src].observed_at);
            assert_string_equal(b->obs[j].source, o[src].source ? o[src].source : "");
        }
        glci_outbox_batch_free(&b);
    }
    assert_int_equal(glci_outbox_read(ob, 5, &(glci_outbox_batch_t *){NULL}),
                     GLCI_OUTBOX_ENOENT);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.stream == fresh && st.next_seq == 5 && st.acked == 0);
    assert_true(st.batches == 4 && st.observations == before.observations &&
                st.bytes == before.bytes);
    assert_true(st.lost_stream == old && st.lost_first == 2 && st.lost_last == 3);
    assert_true(st.lost_at == 1234 && st.lost_events == 1 && st.lost_batches == 2);
    assert_true(st.last_ack == before.last_ack);

    /* the next appends continue at k + 1; acks work on the new numbers */
    uint64_t f = 0, l = 0;
    assert_int_equal(glci_outbox_append(ob, o, 15, 10, 7, NULL, &f, &l), 0);
    assert_true(f == 5 && l == 6);
    size_t gone = 0;
    assert_int_equal(glci_outbox_ack(ob, 2, 8, 0, &gone), 0);
    assert_int_equal(gone, 2);
    assert_true(s_first_value(ob, 3) == 50.5);

    /* a second event adds to the totals and keeps the last range */
    uint64_t second = 0;
    assert_int_equal(glci_outbox_rebase(ob, 1, 2, 2000, &second, &kept, NULL), 0);
    assert_true(kept == 4 && second != fresh);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.lost_stream == fresh && st.lost_first == 1 && st.lost_last == 2);
    assert_true(st.lost_events == 2 && st.lost_batches == 4 && st.next_seq == 5);
    assert_true(s_first_value(ob, 1) == 50.5 && s_first_value(ob, 2) == 60.5);
    assert_true(s_first_value(ob, 3) == 0.5 && s_first_value(ob, 4) == 10.5);
    free(o);
    glci_outbox_close(&ob);
}

static void test_rebase_survives_reopen_and_empty(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(30);
    assert_int_equal(glci_outbox_append(ob, o, 30, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 3, 6, 0, NULL), 0);   /* now empty, next 4 */
    uint64_t old = glci_outbox_stream(ob), fresh = 0, kept = 99;
    assert_int_equal(glci_outbox_rebase(ob, 1, 3, 50, &fresh, &kept, NULL), 0);
    assert_true(kept == 0);
    glci_outbox_close(&ob);

    ob = s_open(0);
    assert_true(glci_outbox_stream(ob) == fresh && fresh != old);
    uint64_t next = 0, f = 0, l = 0;
    assert_int_equal(glci_outbox_next_seq(ob, &next), 0);
    assert_true(next == 1);
    assert_int_equal(glci_outbox_append(ob, o, 5, 10, 7, NULL, &f, &l), 0);
    assert_true(f == 1 && l == 1);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.lost_stream == old && st.lost_first == 1 && st.lost_last == 3 &&
                st.lost_events == 1 && st.lost_batches == 3 && st.acked == 0);
    free(o);
    glci_outbox_close(&ob);
}

static void test_rebase_refuses_bad_ranges(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(50);
    assert_int_equal(glci_outbox_append(ob, o, 50, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 2, 6, 0, NULL), 0);   /* 3..5 remain */
    uint64_t stream = glci_outbox_stream(ob);
    assert_int_equal(glci_outbox_rebase(ob, 0, 2, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    assert_int_equal(glci_outbox_rebase(ob, 3, 2, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    /* a range reaching batches still here: they can be resent */
    assert_int_equal(glci_outbox_rebase(ob, 1, 3, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    /* a range that stops short of the oldest batch */
    assert_int_equal(glci_outbox_rebase(ob, 1, 1, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    /* nothing changed */
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.stream == stream && glci_outbox_stream(ob) == stream);
    assert_true(st.next_seq == 6 && st.acked == 2 && st.batches == 3);
    assert_true(st.lost_events == 0 && st.lost_stream == 0);
    uint64_t first = 0;
    assert_int_equal(glci_outbox_first_seq(ob, &first), 0);
    assert_true(first == 3 && s_first_value(ob, 3) == 20.5);
    free(o);
    glci_outbox_close(&ob);
}

/* A process killed at a random moment of a large rebase leaves the outbox
 * all old (stream, numbers 101..) or all new (new stream, numbers 1..),
 * never a mix. */
static void test_rebase_is_atomic_across_a_crash(void **state)
{
    enum { N_BATCHES = 20000, ACKED = 100 };
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(N_BATCHES * 2);
    assert_int_equal(glci_outbox_append(ob, o, N_BATCHES * 2, 2, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, ACKED, 6, 0, NULL), 0);
    uint64_t old = glci_outbox_stream(ob);
    glci_outbox_close(&ob);
    unsigned seed = (unsigned)time(NULL);
    int saw_old = 0, saw_new = 0;
    long whole_us = 0;
    for (int round = 0; round < 8; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            glci_outbox_t *c = NULL;
            char err[256];
            if (glci_outbox_open(s_ob, NULL, &c, err, sizeof err) != 0)
                _exit(3);
            int rc = glci_outbox_rebase(c, 1, ACKED, 9, NULL, NULL, NULL);
            _exit(rc == 0 ? 0 : 4);
        }
        /* round 0 runs a whole rebase and times it (fork, open, rebase);
         * the others are killed at a random moment within that time */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (round > 0) {
            long us = whole_us > 1 ? (long)(rand_r(&seed) % (unsigned)whole_us) : 0;
            struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
        }
        int ws = 0;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (round == 0)
            whole_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
        if (WIFEXITED(ws))
            assert_int_equal(WEXITSTATUS(ws), 0);

        ob = s_open(0);
        glci_outbox_status_t st;
        uint64_t first = 0;
        assert_int_equal(glci_outbox_status(ob, &st), 0);
        assert_int_equal(glci_outbox_first_seq(ob, &first), 0);
        assert_true(st.batches == N_BATCHES - ACKED);
        if (st.stream == old) {
            saw_old = 1;
            assert_true(first == ACKED + 1 && st.next_seq == N_BATCHES + 1 &&
                        st.acked == ACKED && st.lost_events == 0);
            assert_true(s_first_value(ob, ACKED + 1) == ACKED * 2 + 0.5);
            assert_true(s_first_value(ob, N_BATCHES) == N_BATCHES * 2 - 2 + 0.5);
        } else {
            saw_new = 1;
            assert_true(first == 1 && st.next_seq == N_BATCHES - ACKED + 1 &&
                        st.acked == 0 && st.lost_events == 1 && st.lost_stream == old);
            assert_true(s_first_value(ob, 1) == ACKED * 2 + 0.5);
            assert_true(s_first_value(ob, N_BATCHES - ACKED) == N_BATCHES * 2 - 2 + 0.5);
            /* rebuild the old state for the next round */
            glci_outbox_close(&ob);
            char cmd[400];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_ob);
            assert_int_equal(system(cmd), 0);
            ob = s_open(0);
            assert_int_equal(glci_outbox_append(ob, o, N_BATCHES * 2, 2, 5, NULL, NULL, NULL),
                             0);
            assert_int_equal(glci_outbox_ack(ob, ACKED, 6, 0, NULL), 0);
            old = glci_outbox_stream(ob);
        }
        glci_outbox_close(&ob);
    }
    assert_true(saw_new);
    fprintf(stderr, "# seed %u, whole rebase %ld us: %s\n", seed, whole_us,
            saw_old ? "saw both outcomes" : "every kill came after the commit");
    free(o);
}

/* A clash (a cloned outbox): the batches the collector stored are dropped,
 * the others renumbered from 1 on a new stream; counts and meta follow. */
static void test_restream_drops_stored_renumbers_rest(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(70);
    /* 7 batches of 10: batch j starts with value (j-1)*10 + 0.5 */
    assert_int_equal(glci_outbox_append(ob, o, 70, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 2, 6, 0, NULL), 0);
    uint64_t old = glci_outbox_stream(ob), fresh = 0, kept = 0;
    const uint64_t drop[] = {5, 7, 99};
    assert_int_equal(glci_outbox_restream(ob, drop, 3, 4, 777, &fresh, &kept), 0);
    assert_true(kept == 3);
    assert_true(fresh != 0 && fresh != old && glci_outbox_stream(ob) == fresh);
    assert_true(s_first_value(ob, 1) == 20.5);
    assert_true(s_first_value(ob, 2) == 30.5);
    assert_true(s_first_value(ob, 3) == 50.5);
    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_read(ob, 4, &b), GLCI_OUTBOX_ENOENT);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.stream == fresh);
    assert_true(st.next_seq == 4);
    assert_true(st.batches == 3 && st.observations == 30);
    assert_true(st.acked == 0);
    assert_true(st.rejects == 4);
    assert_true(st.clash_events == 1 && st.clash_stream == old && st.clash_at == 777);
    assert_true(st.lost_events == 0);
    /* acks on the new stream delete from 1 */
    assert_int_equal(glci_outbox_ack(ob, 3, 8, 0, NULL), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.batches == 0 && st.observations == 0 && st.bytes == 0);
    free(o);
    glci_outbox_close(&ob);
}

/* ---- retention of acked batches ------------------------------------------ */

static glci_outbox_t *s_open_retaining(uint64_t limit, int64_t retain_s, uint64_t retain_bytes)
{
    glci_outbox_t *ob = NULL;
    char err[256];
    glci_outbox_opts_t o = {.limit = limit, .retain_s = retain_s, .retain_bytes = retain_bytes};
    assert_int_equal(glci_outbox_open(s_ob, &o, &ob, err, sizeof err), 0);
    return ob;
}

/* The first value of retained batch seq, or -1 when it is not retained. */
static double s_retained_value(glci_outbox_t *ob, uint64_t seq)
{
    glci_outbox_batch_t *b = NULL;
    int rc = glci_outbox_retained_read(ob, seq, &b);
    if (rc == GLCI_OUTBOX_ENOENT)
        return -1;
    assert_int_equal(rc, 0);
    assert_true(b->n_obs > 0);
    double v = b->obs[0].value;
    glci_outbox_batch_free(&b);
    return v;
}

/* An ack moves its batches, unchanged, to the retained table (status counts
 * them apart from the undelivered ones, and the size limit does not see
 * them); nothing is retained without a policy. */
static void test_ack_retains_batches(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(0, 3600, 1 << 20);
    glci_obs_t *o = s_obs(50);
    /* 5 batches of 10: batch j starts with value (j-1)*10 + 0.5 */
    assert_int_equal(glci_outbox_append(ob, o, 50, 10, 5, NULL, NULL, NULL), 0);
    glci_outbox_status_t before, st;
    assert_int_equal(glci_outbox_status(ob, &before), 0);
    assert_int_equal(glci_outbox_ack(ob, 3, 100, 0, NULL), 0);
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 1 && last == 3);
    for (uint64_t i = 1; i <= 3; i++) {
        glci_outbox_batch_t *b = NULL;
        assert_int_equal(glci_outbox_retained_read(ob, i, &b), 0);
        assert_true(b->seq == i && b->n_obs == 10 && b->created == 5);
        for (size_t j = 0; j < 10; j++) {
            size_t src = (size_t)(i - 1) * 10 + j;
            assert_true(b->obs[j].value == o[src].value);
            assert_string_equal(b->obs[j].indicator, o[src].indicator);
            assert_string_equal(b->obs[j].source, o[src].source ? o[src].source : "");
        }
        glci_outbox_batch_free(&b);
    }
    assert_true(s_retained_value(ob, 4) == -1);   /* not acked */
    assert_int_equal(glci_outbox_first_seq(ob, &first), 0);
    assert_true(first == 4);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.batches == 2 && st.observations == 20);
    assert_true(st.bytes < before.bytes);
    assert_true(st.retained_batches == 3 && st.retained_first == 1 && st.retained_last == 3);
    assert_true(st.retained_bytes == before.bytes - st.bytes);
    assert_true(st.retained_oldest == 100);
    glci_outbox_close(&ob);

    /* without a policy (another process's handle) an ack retains nothing and
     * drops what was kept */
    ob = s_open(0);
    assert_int_equal(glci_outbox_ack(ob, 4, 101, 0, NULL), 0);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), GLCI_OUTBOX_ENOENT);
    assert_true(first == 0 && last == 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.retained_batches == 0 && st.retained_bytes == 0 && st.retained_oldest == 0);
    free(o);
    glci_outbox_close(&ob);
}

/* Retained bytes never refuse input: the limit bounds undelivered batches
 * only. */
static void test_retained_do_not_count_against_the_limit(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(8192, 3600, 1 << 20);
    glci_obs_t *o = s_obs(100);
    for (int round = 0; round < 5; round++) {
        uint64_t f = 0, l = 0;
        assert_int_equal(glci_outbox_append(ob, o, 100, 100, 5, NULL, &f, &l), 0);
        assert_int_equal(glci_outbox_ack(ob, l, 10 + round, 0, NULL), 0);
    }
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.retained_batches == 5 && st.retained_bytes > st.limit);
    assert_true(st.batches == 0 && st.bytes == 0);
    free(o);
    glci_outbox_close(&ob);
}

/* Oldest first: every batch acked longer ago than retain_s goes at the next
 * ack; a policy set lower later prunes at once. */
static void test_retained_pruned_by_age(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(0, 150, 1 << 20);
    glci_obs_t *o = s_obs(60);
    assert_int_equal(glci_outbox_append(ob, o, 60, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 2, 100, 0, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 4, 200, 0, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 5, 250, 0, NULL), 0);   /* 1..2 are 150 s old */
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 1 && last == 5);
    assert_int_equal(glci_outbox_ack(ob, 5, 251, 0, NULL), 0);   /* 151 s: they go */
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 3 && last == 5);
    assert_true(s_retained_value(ob, 3) == 20.5 && s_retained_value(ob, 2) == -1);
    /* never an unacked one */
    uint64_t seq = 0;
    assert_int_equal(glci_outbox_first_seq(ob, &seq), 0);
    assert_true(seq == 6 && s_first_value(ob, 6) == 50.5);

    /* lowered: 60 s keeps only what was acked at 250 */
    uint64_t dropped = 0;
    assert_int_equal(glci_outbox_retain(ob, 60, 1 << 20, 300, &dropped), 0);
    assert_true(dropped == 2);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 5 && last == 5);
    /* off: everything goes */
    assert_int_equal(glci_outbox_retain(ob, 0, 1 << 20, 300, &dropped), 0);
    assert_true(dropped == 1);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), GLCI_OUTBOX_ENOENT);
    assert_int_equal(glci_outbox_ack(ob, 6, 301, 0, NULL), 0);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), GLCI_OUTBOX_ENOENT);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.retained_bytes == 0 && st.batches == 0);
    free(o);
    glci_outbox_close(&ob);
}

/* Oldest first, within retain_bytes: the newest batches that fit stay. */
static void test_retained_pruned_by_bytes(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(0, 3600, 1 << 20);
    glci_obs_t *o = s_obs(10);
    /* equal batches: each record the same size */
    for (int i = 0; i < 6; i++)
        assert_int_equal(glci_outbox_append(ob, o, 10, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 1, 10, 0, NULL), 0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    uint64_t one = st.retained_bytes;
    assert_true(one > 0);
    glci_outbox_close(&ob);

    ob = s_open_retaining(0, 3600, 2 * one + one / 2);     /* room for two */
    assert_int_equal(glci_outbox_ack(ob, 4, 11, 0, NULL), 0);
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 3 && last == 4);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.retained_batches == 2 && st.retained_bytes == 2 * one);
    assert_true(st.batches == 2);                /* 5, 6: never dropped */
    free(o);
    glci_outbox_close(&ob);
}

/* A rebase keeps the retained batches: numbered first on the new stream,
 * still retained (their records and ack times unchanged), the undelivered
 * ones after them; the range lost must end just below the retained. */
static void test_rebase_keeps_the_retained(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(0, 3600, 1 << 20);
    glci_obs_t *o = s_obs(80);
    /* 8 batches; 1..5 acked, 1..2 pruned (older), 3..5 retained, 6..8 here */
    assert_int_equal(glci_outbox_append(ob, o, 80, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 2, 100, 0, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 5, 5000, 0, NULL), 0);   /* 1..2: 4900 s old */
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 3 && last == 5);
    uint64_t old = glci_outbox_stream(ob);
    /* a range reaching into the retained ones is refused: they can be resent */
    assert_int_equal(glci_outbox_rebase(ob, 1, 3, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    assert_int_equal(glci_outbox_rebase(ob, 1, 5, 1, NULL, NULL, NULL), GLCI_OUTBOX_EINVAL);
    uint64_t fresh = 0, kept = 0, retained = 0;
    assert_int_equal(glci_outbox_rebase(ob, 1, 2, 6000, &fresh, &kept, &retained), 0);
    assert_true(fresh != old && kept == 3 && retained == 3);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 1 && last == 3);
    assert_true(s_retained_value(ob, 1) == 20.5 && s_retained_value(ob, 3) == 40.5);
    assert_int_equal(glci_outbox_first_seq(ob, &first), 0);
    assert_true(first == 4 && s_first_value(ob, 4) == 50.5 && s_first_value(ob, 6) == 70.5);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.next_seq == 7 && st.acked == 3 && st.batches == 3);
    assert_true(st.retained_batches == 3 && st.retained_oldest == 5000);
    assert_true(st.lost_first == 1 && st.lost_last == 2 && st.lost_batches == 2);
    /* the next ack (of new numbers) retains after them */
    assert_int_equal(glci_outbox_ack(ob, 4, 6001, 0, NULL), 0);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 1 && last == 4 && s_retained_value(ob, 4) == 50.5);
    free(o);
    glci_outbox_close(&ob);
}

/* A restream (the collector held other content under this stream's
 * numbers) drops the retained batches: they are the old stream's. */
static void test_restream_drops_the_retained(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(0, 3600, 1 << 20);
    glci_obs_t *o = s_obs(50);
    assert_int_equal(glci_outbox_append(ob, o, 50, 10, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 2, 100, 0, NULL), 0);
    assert_int_equal(glci_outbox_restream(ob, NULL, 0, 0, 200, NULL, NULL), 0);
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), GLCI_OUTBOX_ENOENT);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.retained_batches == 0 && st.retained_bytes == 0);
    assert_true(st.batches == 3 && st.next_seq == 4 && st.acked == 0);
    free(o);
    glci_outbox_close(&ob);
}

/* A retained record that fails its checksum reads as corrupt; dropping it
 * with those below leaves the range above it; the resends are noted. */
static void test_retained_corrupt_and_dropped(void **state)
{
    (void)state;
    glci_outbox_t *ob = s_open_retaining(0, 3600, 1 << 20);
    glci_obs_t o[3] = {
        {.has_period = 1, .has_value = 1, .indicator = "first_one", .period = 2020, .value = 1},
        {.has_period = 1, .has_value = 1, .indicator = "retained_unique_mark", .period = 2021,
         .value = 2},
        {.has_period = 1, .has_value = 1, .indicator = "third_one", .period = 2022, .value = 3},
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(glci_outbox_append(ob, o + i, 1, 10, 1, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack(ob, 3, 10, 0, NULL), 0);
    glci_outbox_close(&ob);
    s_corrupt("retained_unique_mark", 1);
    ob = s_open_retaining(0, 3600, 1 << 20);
    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_retained_read(ob, 2, &b), GLCI_OUTBOX_ECORRUPT);
    assert_null(b);
    assert_true(s_retained_value(ob, 1) == 1 && s_retained_value(ob, 3) == 3);
    uint64_t dropped = 0, first = 0, last = 0;
    assert_int_equal(glci_outbox_retained_drop(ob, 2, &dropped), 0);
    assert_true(dropped == 2);
    assert_int_equal(glci_outbox_retained_range(ob, &first, &last), 0);
    assert_true(first == 3 && last == 3);

    assert_int_equal(glci_outbox_note_resend(ob, 0, 2, 5), GLCI_OUTBOX_EINVAL);
    assert_int_equal(glci_outbox_note_resend(ob, 3, 2, 5), GLCI_OUTBOX_EINVAL);
    assert_int_equal(glci_outbox_note_resend(ob, 3, 3, 50), 0);
    assert_int_equal(glci_outbox_note_resend(ob, 2, 3, 60), 0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_true(st.resent_events == 2 && st.resent_batches == 3);
    assert_true(st.resent_first == 2 && st.resent_last == 3 && st.resent_at == 60);
    assert_true(st.resent_stream == glci_outbox_stream(ob));
    glci_outbox_close(&ob);
}

/* A retraction (SPEC §7) is stored, read back and dead-lettered as a
 * retraction: no value, the flag kept across reopening. */
static void test_retraction_round_trip(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t o[3] = {glci_obs_make("adult_learning_rate", 2024, 41.0),
                       glci_obs_retraction("adult_learning_rate", 2024),
                       glci_obs_retraction("adult_literacy_rate", 2023)};
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_append(ob, o, 3, 2, 10, NULL, &first, &last), 0);
    glci_outbox_close(&ob);
    ob = s_open(0);
    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_read(ob, first, &b), 0);
    assert_int_equal(b->n_obs, 2);
    assert_false(b->obs[0].retract);
    assert_true(b->obs[0].has_value && b->obs[0].value == 41.0);
    assert_true(b->obs[1].retract && !b->obs[1].has_value);
    assert_string_equal(b->obs[1].indicator, "adult_learning_rate");
    assert_int_equal(b->obs[1].period, 2024);
    glci_outbox_batch_free(&b);
    assert_int_equal(glci_outbox_read(ob, last, &b), 0);
    assert_true(b->obs[0].retract);
    glci_outbox_batch_free(&b);

    glci_outbox_dead_t d = {.obs = o[1], .reason = "nothing to retract", .at = 11};
    assert_int_equal(glci_outbox_dead_add(ob, &d, 1), 0);
    glci_outbox_dead_list_t *l = NULL;
    assert_int_equal(glci_outbox_dead_list(ob, 10, &l), 0);
    assert_int_equal(l->n, 1);
    assert_true(l->rows[0].obs.retract && !l->rows[0].obs.has_value);
    assert_string_equal(l->rows[0].obs.indicator, "adult_learning_rate");
    glci_outbox_dead_list_free(&l);
    glci_outbox_close(&ob);
}

/* A spool file's batches remember where the file went; their dead letters
 * carry it and read back with it, and one without an origin reads "". */
static void test_origin_of_batches_and_dead_letters(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(25);
    char where[256];
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_append(ob, o, 5, 10, 1, "spool:a", &first, &last), 0);
    assert_int_equal(glci_outbox_append_from(ob, o, 25, 10, 1, "spool:b", "/s/done/b.csv",
                                             &first, &last), 0);
    assert_true(first == 2 && last == 4);
    assert_int_equal(glci_outbox_origin(ob, 1, where, sizeof where), 0);
    for (uint64_t seq = 2; seq <= 4; seq++) {
        assert_int_equal(glci_outbox_origin(ob, seq, where, sizeof where), 1);
        assert_string_equal(where, "/s/done/b.csv");
    }
    assert_int_equal(glci_outbox_origin(ob, 5, where, sizeof where), 0);
    assert_int_equal(glci_outbox_append_from(ob, o, 1, 10, 1, NULL, "/s/done/c.csv", NULL,
                                             NULL), GLCI_OUTBOX_EINVAL);

    glci_outbox_dead_t d[2] = {
        {.obs = o[0], .reason = "out of range", .at = 7, .origin = "/s/done/b.csv"},
        {.obs = o[1], .reason = "unknown id", .at = 8, .origin = NULL},
    };
    assert_int_equal(glci_outbox_dead_add(ob, d, 2), 0);
    glci_outbox_close(&ob);
    ob = s_open(0);
    glci_outbox_dead_list_t *l = NULL;
    assert_int_equal(glci_outbox_dead_list(ob, 10, &l), 0);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->rows[0].origin, "/s/done/b.csv");
    assert_string_equal(l->rows[0].reason, "out of range");
    assert_string_equal(l->rows[1].origin, "");
    assert_string_equal(l->rows[1].reason, "unknown id");
    glci_outbox_dead_list_free(&l);
    glci_outbox_close(&ob);
    free(o);
}

static void test_dead_letters_add_list_delete_reopen(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_outbox_status_t st;
    glci_outbox_dead_list_t *l = NULL;
    assert_int_equal(glci_outbox_dead_list(ob, 10, &l), 0);
    assert_int_equal(l->n, 0);
    glci_outbox_dead_list_free(&l);
    assert_null(l);

    glci_outbox_dead_t d[3] = {
        {.obs = {"ind_a", 2021, 1.5, 0, NULL, 1, 1}, .reason = "period out of range", .at = 100},
        {.obs = {"ind_b", 2022, -2.25, 1700000000, "survey, \"q\"", 1, 1}, .reason = "unknown id",
         .at = 101},
        {.obs = {"ind_c", 2023, 1e300, 0, "", 1, 1}, .reason = "", .at = 102},
    };
    assert_int_equal(glci_outbox_dead_add(ob, d, 2), 0);
    assert_int_equal(glci_outbox_dead_add(ob, d + 2, 1), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_int_equal(st.dead_pending, 3);
    assert_int_equal(st.rejects, 3);
    glci_outbox_close(&ob);

    ob = s_open(0);                    /* survives reopening */
    assert_int_equal(glci_outbox_dead_list(ob, 2, &l), 0);   /* at most max, oldest first */
    assert_int_equal(l->n, 2);
    assert_int_equal(l->rows[0].id, 1);
    assert_int_equal(l->rows[1].id, 2);
    assert_string_equal(l->rows[0].obs.indicator, "ind_a");
    assert_int_equal(l->rows[0].obs.period, 2021);
    assert_true(l->rows[0].obs.value == 1.5);
    assert_string_equal(l->rows[0].obs.source, "");
    assert_string_equal(l->rows[0].reason, "period out of range");
    assert_int_equal(l->rows[0].at, 100);
    assert_string_equal(l->rows[1].obs.source, "survey, \"q\"");
    assert_int_equal(l->rows[1].obs.observed_at, 1700000000);
    assert_true(l->rows[1].obs.value == -2.25);
    glci_outbox_dead_list_free(&l);

    size_t gone = 0;
    assert_int_equal(glci_outbox_dead_delete(ob, 2, &gone), 0);
    assert_int_equal(gone, 2);
    assert_int_equal(glci_outbox_dead_delete(ob, 2, &gone), 0);   /* again: nothing */
    assert_int_equal(gone, 0);
    glci_outbox_close(&ob);

    ob = s_open(0);
    assert_int_equal(glci_outbox_dead_list(ob, 10, &l), 0);
    assert_int_equal(l->n, 1);
    assert_int_equal(l->rows[0].id, 3);
    assert_string_equal(l->rows[0].obs.indicator, "ind_c");
    assert_true(l->rows[0].obs.value == 1e300);
    assert_string_equal(l->rows[0].reason, "");
    glci_outbox_dead_list_free(&l);
    assert_int_equal(glci_outbox_dead_add(ob, d, 1), 0);   /* ids go on: 4 */
    assert_int_equal(glci_outbox_dead_list(ob, 10, &l), 0);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->rows[1].id, 4);
    glci_outbox_dead_list_free(&l);
    assert_int_equal(glci_outbox_dead_delete(ob, 100, &gone), 0);
    assert_int_equal(gone, 2);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_int_equal(st.dead_pending, 0);
    assert_int_equal(st.rejects, 4);                   /* the count stays */
    glci_outbox_close(&ob);
}

static void test_dead_letters_refuse_bad_input(void **state)
{
    glci_outbox_t *ob = s_open(0);
    char longind[GLCI_OBS_INDICATOR_MAX + 2], longsrc[GLCI_OBS_SOURCE_MAX + 2];
    char *longreason = malloc(GLCI_OUTBOX_REASON_MAX + 2);
    memset(longind, 'i', sizeof longind - 1);
    longind[sizeof longind - 1] = '\0';
    memset(longsrc, 's', sizeof longsrc - 1);
    longsrc[sizeof longsrc - 1] = '\0';
    memset(longreason, 'r', GLCI_OUTBOX_REASON_MAX + 1);
    longreason[GLCI_OUTBOX_REASON_MAX + 1] = '\0';
    glci_outbox_dead_t ok = {.obs = {"ind", 1, 1.0, 0, NULL, 1, 1}, .reason = "x", .at = 1};
    glci_outbox_dead_t bad = ok;
    assert_int_equal(glci_outbox_dead_add(ob, &ok, 0), GLCI_OUTBOX_EINVAL);
    bad.obs.indicator = "";
    assert_int_equal(glci_outbox_dead_add(ob, &bad, 1), GLCI_OUTBOX_EINVAL);
    bad.obs.indicator = longind;
    assert_int_equal(glci_outbox_dead_add(ob, &bad, 1), GLCI_OUTBOX_EINVAL);
    bad = ok;
    bad.obs.source = longsrc;
    assert_int_equal(glci_outbox_dead_add(ob, &bad, 1), GLCI_OUTBOX_EINVAL);
    bad = ok;
    bad.reason = NULL;
    assert_int_equal(glci_outbox_dead_add(ob, &bad, 1), GLCI_OUTBOX_EINVAL);
    bad.reason = longreason;
    assert_int_equal(glci_outbox_dead_add(ob, &bad, 1), GLCI_OUTBOX_EINVAL);
    /* an ack with a bad dead letter changes nothing */
    glci_obs_t *o = s_obs(2);
    assert_int_equal(glci_outbox_append(ob, o, 2, 1, 5, NULL, NULL, NULL), 0);
    assert_int_equal(glci_outbox_ack_dead(ob, 1, 6, &bad, 1, NULL), GLCI_OUTBOX_EINVAL);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_int_equal(st.batches, 2);
    assert_int_equal(st.dead_pending, 0);
    assert_int_equal(st.rejects, 0);
    free(o);
    free(longreason);
    glci_outbox_close(&ob);
}

static void test_dead_letters_stored_with_ack_and_quarantine(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(6);
    assert_int_equal(glci_outbox_append(ob, o, 6, 2, 5, NULL, NULL, NULL), 0);  /* 1..3 */
    glci_outbox_batch_t *b = NULL;
    assert_int_equal(glci_outbox_read(ob, 1, &b), 0);
    glci_outbox_dead_t d = {.obs = b->obs[1], .reason = "value out of range", .at = 9};
    size_t gone = 0;
    assert_int_equal(glci_outbox_ack_dead(ob, 1, 10, &d, 1, &gone), 0);
    glci_outbox_batch_free(&b);
    assert_int_equal(gone, 1);
    glci_outbox_close(&ob);

    ob = s_open(0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_int_equal(st.batches, 2);
    assert_int_equal(st.acked, 1);
    assert_int_equal(st.dead_pending, 1);
    assert_int_equal(st.rejects, 1);
    glci_outbox_dead_list_t *l = NULL;
    assert_int_equal(glci_outbox_dead_list(ob, 10, &l), 0);
    assert_int_equal(l->n, 1);
    assert_string_equal(l->rows[0].obs.indicator, o[1].indicator);
    assert_true(l->rows[0].obs.value == o[1].value);
    assert_string_equal(l->rows[0].obs.source, "survey");
    assert_string_equal(l->rows[0].reason, "value out of range");
    glci_outbox_dead_list_free(&l);

    /* a MALFORMED batch: its rows stored as dead letters with the quarantine */
    assert_int_equal(glci_outbox_read(ob, 2, &b), 0);
    glci_outbox_dead_t q[2] = {{.obs = b->obs[0], .reason = "malformed", .at = 11},
                               {.obs = b->obs[1], .reason = "malformed", .at = 11}};
    assert_int_equal(glci_outbox_quarantine_dead(ob, 99, 12, q, 2), GLCI_OUTBOX_ENOENT);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_int_equal(st.dead_pending, 1);                /* nothing stored */
    assert_int_equal(glci_outbox_quarantine_dead(ob, 2, 11, q, 2), 0);
    glci_outbox_batch_free(&b);
    assert_int_equal(glci_outbox_read(ob, 2, &b), 0);
    assert_int_equal(b->n_obs, 0);
    glci_outbox_batch_free(&b);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_int_equal(st.dead_pending, 3);
    assert_int_equal(st.rejects, 3);
    assert_int_equal(st.quarantined, 1);
    free(o);
    glci_outbox_close(&ob);
}

/* An outbox belongs to one city: made for galway-ie it records galway-ie,
 * is refused to cobh-ie (ECITY, both named) with nothing changed, and opens
 * for galway-ie or an opener that names none; an outbox with no city (made
 * by an older agent) adopts the first city named. */
static void test_city_recorded_and_checked(void **state)
{
    glci_outbox_t *ob = NULL;
    char err[512];
    glci_outbox_opts_t o = {.city = "galway-ie"};
    assert_int_equal(glci_outbox_open(s_ob, &o, &ob, err, sizeof err), 0);
    glci_outbox_status_t st;
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.city, "galway-ie");
    uint64_t stream = glci_outbox_stream(ob);
    glci_obs_t *obs = s_obs(3);
    assert_int_equal(glci_outbox_append(ob, obs, 3, 10, 1, NULL, NULL, NULL), 0);
    glci_outbox_close(&ob);

    o.city = "cobh-ie";
    assert_int_equal(glci_outbox_open(s_ob, &o, &ob, err, sizeof err), GLCI_OUTBOX_ECITY);
    assert_null(ob);
    if (!strstr(err, "belongs to city galway-ie, not to city cobh-ie") || strchr(err, '\n'))
        fail_msg("err: %s", err);
    o.city = NULL;
    assert_int_equal(glci_outbox_open(s_ob, &o, &ob, err, sizeof err), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.city, "galway-ie");
    assert_int_equal(st.observations, 3);
    assert_true(glci_outbox_stream(ob) == stream);
    glci_outbox_close(&ob);
    o.city = "galway-ie";
    assert_int_equal(glci_outbox_open(s_ob, &o, &ob, err, sizeof err), 0);
    glci_outbox_close(&ob);

    /* an outbox made without a city adopts the first one named */
    char older[320];
    snprintf(older, sizeof older, "%s/older", s_dir);
    assert_int_equal(glci_outbox_open(older, NULL, &ob, err, sizeof err), 0);
    assert_int_equal(glci_outbox_status(ob, &st), 0);
    assert_string_equal(st.city, "");
    glci_outbox_close(&ob);
    o.city = "cobh-ie";
    assert_int_equal(glci_outbox_open(older, &o, &ob, err, sizeof err), 0);
    glci_outbox_close(&ob);
    o.city = "galway-ie";
    assert_int_equal(glci_outbox_open(older, &o, &ob, err, sizeof err), GLCI_OUTBOX_ECITY);
    free(obs);
}

/* A settled marker no longer refuses its input (a file delivered and
 * dropped again is new input), while its origin still names the batches
 * it queued; an unsettled one refuses (the crash window of a take). */
static void test_marker_settle(void **state)
{
    glci_outbox_t *ob = s_open(0);
    glci_obs_t *o = s_obs(3);
    char where[256];
    uint64_t first = 0, last = 0;
    assert_int_equal(glci_outbox_append_from(ob, o, 3, 10, 1, "spool:f", "/s/done/f.csv",
                                             &first, &last), 0);
    assert_int_equal(glci_outbox_has_marker(ob, "spool:f"), 1);
    assert_int_equal(glci_outbox_append(ob, o, 3, 10, 1, "spool:f", NULL, NULL),
                     GLCI_OUTBOX_EEXIST);
    assert_int_equal(glci_outbox_marker_settle(ob, "spool:f"), 0);
    assert_int_equal(glci_outbox_has_marker(ob, "spool:f"), 0);
    assert_int_equal(glci_outbox_marker_settle(ob, "spool:f"), 0);   /* settled before */
    assert_int_equal(glci_outbox_origin(ob, first, where, sizeof where), 1);
    assert_string_equal(where, "/s/done/f.csv");
    /* the same input again: new batches, and its own origin */
    assert_int_equal(glci_outbox_append_from(ob, o, 3, 10, 1, "spool:f", "/s/done/f.csv.1",
                                             &first, &last), 0);
    assert_true(first == 2);
    assert_int_equal(glci_outbox_origin(ob, 2, where, sizeof where), 1);
    assert_string_equal(where, "/s/done/f.csv.1");
    assert_int_equal(glci_outbox_origin(ob, 1, where, sizeof where), 1);
    assert_string_equal(where, "/s/done/f.csv");
    assert_int_equal(glci_outbox_marker_settle(ob, "spool:f"), 0);
    assert_int_equal(glci_outbox_has_marker(ob, "spool:f"), 0);
    assert_int_equal(glci_outbox_origin(ob, 2, where, sizeof where), 1);
    assert_string_equal(where, "/s/done/f.csv.1");
    glci_outbox_close(&ob);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_persists_and_differs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_city_recorded_and_checked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_marker_settle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retraction_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_origin_of_batches_and_dead_letters, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters_add_list_delete_reopen, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters_refuse_bad_input, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters_stored_with_ack_and_quarantine,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_nocreate_refuses_missing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_append_batches_and_read_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_append_rejects_bad_input, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ack_is_cumulative, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_limit_fails_loudly_keeps_old, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_marker_takes_input_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record_is_quarantined, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_state_for_status, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keys_carry_their_run, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rebase_renumbers_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rebase_survives_reopen_and_empty, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_rebase_refuses_bad_ranges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restream_drops_stored_renumbers_rest, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_ack_retains_batches, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retained_do_not_count_against_the_limit, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_retained_pruned_by_age, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retained_pruned_by_bytes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rebase_keeps_the_retained, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restream_drops_the_retained, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retained_corrupt_and_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rebase_is_atomic_across_a_crash, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
