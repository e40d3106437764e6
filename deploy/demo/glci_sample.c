/* glci-sample: a seeded generator of SYNTHETIC indicator data for the demo.
 *
 * For one city it writes a spool CSV (indicator,period,value,observed_at,
 * source) with values for most indicators of the framework over a range of
 * years: a city-specific level, a gentle yearly trend, some gaps, and --
 * for the first two cities of the demo -- one row the collector must reject.
 * With --revisions it writes instead a few restated values of an earlier
 * year. The same seed always gives the same file. The data is invented and
 * labelled "synthetic" in its source column; it describes no real city.
 *
 * The file is written under a dot-name and renamed into place, so an agent
 * watching the folder never sees it half-written. Prints the number of rows
 * written on stdout. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_index.h"
#include "glci_text.h"

typedef struct {
    const char *framework, *city, *spool;
    uint64_t seed;
    int64_t position, first, last;
    int revisions;
} s_opts_t;

static uint64_t s_rng;

static uint64_t s_next(void)
{
    /* splitmix64: small, seedable, good enough for sample data. */
    uint64_t z = (s_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double s_unit(void)
{
    return (double)(s_next() >> 11) / 9007199254740992.0;
}

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* A plausible value of indicator ind for a city whose strength is level
 * (0..1, higher is better whatever the direction). */
static double s_value(const glci_indicator_t *ind, double level)
{
    double f = level + (s_unit() - 0.5) * 0.3;
    if (f < 0.02)
        f = 0.02;
    if (f > 0.98)
        f = 0.98;
    if (ind->min == 0 && ind->max == 1 && ind->lower == 0 && ind->upper == 1)
        return f > 0.45 ? 1.0 : 0.0;   /* a yes/no policy item */
    double span = ind->upper - ind->lower;
    double v = ind->direction == GLCI_DIR_HIGHER ? ind->lower + f * span
                                                 : ind->upper - f * span;
    if (v < ind->min)
        v = ind->min;
    if (v > ind->max)
        v = ind->max;
    return v;
}

static int s_usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "glci-sample: %s\n", msg);
    fprintf(stderr, "usage: glci-sample --framework FILE --city ID --position N --seed N "
                    "--first YEAR --last YEAR --spool DIR [--revisions]\n");
    return 2;
}

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->first = 2021;
    o->last = 2025;
    o->seed = 2013;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--revisions") == 0) {
            o->revisions = 1;
            continue;
        }
        if (i + 1 >= argc)
            return s_usage("an option is missing its value");
        const char *v = argv[++i];
        int64_t n = 0;
        if (strcmp(a, "--framework") == 0)
            o->framework = v;
        else if (strcmp(a, "--city") == 0)
            o->city = v;
        else if (strcmp(a, "--spool") == 0)
            o->spool = v;
        else if (strcmp(a, "--seed") == 0 || strcmp(a, "--position") == 0 ||
                 strcmp(a, "--first") == 0 || strcmp(a, "--last") == 0) {
            if (glci_parse_int64(v, 0, INT64_MAX, &n) != 0)
                return s_usage("a number option has a non-numeric value");
            if (a[2] == 's')
                o->seed = (uint64_t)n;
            else if (a[2] == 'p')
                o->position = n;
            else if (a[2] == 'f')
                o->first = n;
            else
                o->last = n;
        } else {
            return s_usage("unknown option");
        }
    }
    if (!o->framework || !o->city || !o->spool || o->first > o->last)
        return s_usage("--framework, --city and --spool are required, first <= last");
    return 0;
}

int main(int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc)
        return rc;

    char err[512];
    glci_framework_t *fw = NULL;
    if (glci_framework_load_file(o.framework, &fw, err, sizeof err) != 0) {
        fprintf(stderr, "glci-sample: %s\n", err);
        return 1;
    }
    s_rng = o.seed ^ s_hash(o.city);
    double level = 0.25 + 0.6 * s_unit();
    /* One city in the demo reports only about half of the indicators, every
     * year the same ones, so it has results but too little coverage to be
     * ranked. */
    int sparse = o.position == 5;

    char tmp[1024], final[1024];
    snprintf(tmp, sizeof tmp, "%s/.%s-%s.csv.tmp", o.spool, o.city,
             o.revisions ? "revisions" : "data");
    snprintf(final, sizeof final, "%s/%s-%s.csv", o.spool, o.city,
             o.revisions ? "revisions" : "data");
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "glci-sample: %s: %s\n", tmp, strerror(errno));
        glci_framework_free(&fw);
        return 1;
    }
    fprintf(f, "indicator,period,value,observed_at,source\n");
    long rows = 0;
    char num[40];
    for (int64_t year = o.first; year <= o.last; year++) {
        double trend = 0.015 * (double)(year - o.first);
        for (uint32_t i = 0; i < fw->n_ind; i++) {
            const glci_indicator_t *ind = &fw->ind[i];
            int reported = sparse ? (s_hash(ind->id) ^ s_hash(o.city)) % 100 < 50
                                  : s_unit() < 0.93;
            double v = s_value(ind, level + trend);
            if (o.revisions) {
                /* restate three values of the year before last */
                if (year != o.last - 1 || i % 13 != 0)
                    continue;
                v = s_value(ind, level + trend + 0.05);
            } else if (!reported) {
                continue;
            }
            /* one decimal for wide ranges, two for narrow ones */
            snprintf(num, sizeof num, "%.*f", fabs(ind->max - ind->min) > 20 ? 1 : 2, v);
            fprintf(f, "%s,%" PRId64 ",%s,%" PRId64 "-12-31,\"synthetic demo data%s\"\n",
                    ind->id, year, num, year, o.revisions ? ", revised" : "");
            rows++;
        }
    }
    if (!o.revisions && o.position == 0) {
        fprintf(f, "adult_learnig_rate,%" PRId64 ",41,,\"synthetic demo data, misspelt id\"\n",
                o.last);
        rows++;
    }
    if (!o.revisions && o.position == 1) {
        const glci_indicator_t *ind = &fw->ind[0];
        glci_format_double(ind->max + 40, num, sizeof num);
        fprintf(f, "%s,%" PRId64 ",%s,,\"synthetic demo data, out of range\"\n",
                ind->id, o.last, num);
        rows++;
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, final) != 0) {
        fprintf(stderr, "glci-sample: %s: %s\n", final, strerror(errno));
        unlink(tmp);
        glci_framework_free(&fw);
        return 1;
    }
    printf("%ld\n", rows);
    glci_framework_free(&fw);
    return 0;
}
