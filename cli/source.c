/* Which table a query reads (SPEC §7): the live store, the store as of a
 * time (recomputed from the values received by then), or an edition (as
 * published), with the period given or chosen by the one rule; what the
 * output says about it; and the operator's identity for the commands that
 * record one. See cli.h and docs/CYCLE.md. */
#include "cli.h"

#include <pwd.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glci_text.h"
#include "glci_utf8.h"

int glci_args_time(const glci_cmd_t *cmd, const char *opt, const char *text, int64_t now,
                   int64_t *out)
{
    int64_t t;
    size_t n = strlen(text);
    if (strcmp(text, "now") == 0) {
        t = now;
    } else if (text[0] == '@') {
        if (glci_parse_int64(text + 1, 0, INT64_MAX / 2, &t) != 0)
            return glci_usage_error(cmd, "invalid time '%.80s' for %s (@ and Unix seconds)",
                                    text, opt);
    } else if (glci_parse_iso_time(text, &t) == 0) {
        if (n == 10)
            t += 86399;         /* a date: as of the end of that day */
    } else {
        return glci_usage_error(cmd, "invalid time '%s' for %s (now, YYYY-MM-DD, "
                                "YYYY-MM-DDTHH:MM:SSZ or @SECONDS, UTC)", text, opt);
    }
    (void)now;
    *out = t;
    return 0;
}

int glci_cli_not_future(const glci_cmd_t *cmd, glci_view_t *v, const char *opt, int64_t t)
{
    int64_t now;
    if (glci_view_now(v, (int64_t)time(NULL), &now) != 0)
        now = (int64_t)time(NULL);
    if (t <= now)
        return 0;
    char when[32];
    glci_format_iso_time(t, when, sizeof when);
    return glci_fail(cmd, "%s %s is in the future (the store holds no later state than now; "
                     "for the latest, give now)",
                     opt, when);
}

int glci_src_args(const glci_cmd_t *cmd, const glci_opt_t *period, const glci_opt_t *as_of,
                  const glci_opt_t *edition, glci_src_args_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = GLCI_SRC_LIVE;
    if (period && period->seen) {
        if (glci_args_period_opt(cmd, period, &out->period) != 0)
            return GLCI_EXIT_USAGE;
        out->has_period = 1;
    }
    if (as_of && as_of->seen && edition && edition->seen)
        return glci_usage_error(cmd, "give either --as-of or --edition, not both (an edition "
                                "has its own as-of time)");
    if (as_of && as_of->seen) {
        if (glci_args_time(cmd, "--as-of", as_of->value, (int64_t)time(NULL), &out->as_of) != 0)
            return GLCI_EXIT_USAGE;
        out->kind = GLCI_SRC_ASOF;
        out->as_of_now = strcmp(as_of->value, "now") == 0;
    }
    if (edition && edition->seen) {
        char why[256];
        if (glci_edition_name_check(edition->value, why, sizeof why) != 0)
            return glci_usage_error(cmd, "%s", why);
        out->kind = GLCI_SRC_EDITION;
        out->edition = edition->value;
    }
    return 0;
}

int glci_source_open(const glci_cmd_t *cmd, const glci_cli_t *cli, glci_view_t *v,
                     const glci_src_args_t *a, int need_table, glci_source_t *out)
{
    memset(out, 0, sizeof *out);
    out->args = *a;
    out->choice.period = a->period;
    out->choice.rule = GLCI_PERIOD_GIVEN;
    int rc = 0;
    char when[32];
    switch (a->kind) {
    case GLCI_SRC_EDITION:
        rc = glci_view_edition(v, a->edition, &out->edition);
        if (rc == GLCI_STORE_ENOENT)
            return glci_fail(cmd, "no edition '%s' in the store (glci edition list)",
                             a->edition);
        if (rc != 0)
            return glci_cli_store_fail(cmd, cli, rc, "cannot read the edition");
        if (a->has_period && a->period != out->edition.period)
            return glci_fail(cmd, "edition %s is of period %d, not %d", a->edition,
                             (int)out->edition.period, (int)a->period);
        out->choice.period = out->edition.period;
        out->choice.rule = GLCI_PERIOD_EDITION;
        out->args.as_of = out->edition.as_of;
        if (need_table && (rc = glci_view_edition_rows(v, a->edition, &out->snap)) != 0)
            return glci_cli_store_fail(cmd, cli, rc, "cannot read the edition");
        return 0;
    case GLCI_SRC_ASOF:
        if (a->as_of_now && (rc = glci_view_now(v, a->as_of, &out->args.as_of)) != 0)
            return glci_cli_store_fail(cmd, cli, rc, "cannot read the store");
        a = &out->args;
        if (glci_cli_not_future(cmd, v, "--as-of", a->as_of) != 0)
            return GLCI_EXIT_FAIL;
        glci_format_iso_time(a->as_of, when, sizeof when);
        if (!a->has_period) {
            rc = glci_view_asof_default_period(v, a->as_of, &out->choice);
            if (rc == GLCI_STORE_ENODATA)
                return glci_fail(cmd, "no data in the store as of %s", when);
            if (rc != 0)
                return glci_cli_store_fail(cmd, cli, rc, "cannot choose the period");
        }
        if (need_table && (rc = glci_view_asof(v, out->choice.period, a->as_of, &out->snap)) != 0)
            return glci_cli_store_fail(cmd, cli, rc, "cannot recompute the results");
        return 0;
    default:
        if (!a->has_period &&
            glci_cli_default_period(cmd, cli, v, &out->choice, &out->choice.period) != 0)
            return GLCI_EXIT_FAIL;
        return 0;
    }
}

int glci_source_active(glci_view_t *v, const glci_source_t *s, uint32_t *out)
{
    *out = 0;
    if (s->args.kind == GLCI_SRC_LIVE) {
        glci_store_status_t ss;
        int rc = glci_view_status(v, &ss);
        if (rc == 0)
            *out = ss.n_active;
        return rc;
    }
    /* the count the rule as of the table's time uses (the store decides who
     * was active then), already at hand when the rule chose the period */
    if (s->args.kind == GLCI_SRC_ASOF && !s->args.has_period) {
        *out = s->choice.n_active;
        return 0;
    }
    glci_period_choice_t ch;
    int rc = glci_view_asof_default_period(v, s->args.as_of, &ch);
    if (rc == 0)
        *out = ch.n_active;
    return rc;
}

void glci_source_release(glci_source_t *s)
{
    glci_snapshot_release(&s->snap);
}

int glci_source_period(glci_view_t *v, const glci_framework_t *fw, glci_source_t *s,
                       int32_t p, glci_period_t *out)
{
    if (!s || s->args.kind == GLCI_SRC_LIVE)
        return glci_period_load(v, fw, p, out);
    glci_period_from_snapshot(&s->snap, out);
    return 0;
}

int glci_source_no_data(const glci_cmd_t *cmd, const glci_source_t *s)
{
    char when[32];
    glci_format_iso_time(s->args.as_of, when, sizeof when);
    if (s->args.kind == GLCI_SRC_ASOF)
        return glci_fail(cmd, "no data for period %d as of %s", (int)s->choice.period, when);
    return glci_fail(cmd, "no data for period %d", (int)s->choice.period);
}

void glci_source_json(const glci_source_t *s, json_t *obj)
{
    char line[256];
    glci_period_rule_text(&s->choice, line, sizeof line);
    json_object_set_new(obj, "period_rule", json_string(glci_period_rule_str(s->choice.rule)));
    json_object_set_new(obj, "period_note", json_string(line));
    json_object_set_new(obj, "as_of", s->args.kind == GLCI_SRC_LIVE
                                          ? json_null() : glci_json_time(s->args.as_of));
    json_object_set_new(obj, "edition", s->args.kind == GLCI_SRC_EDITION
                                            ? json_string(s->edition.name) : json_null());
}

void glci_source_print(const glci_source_t *s, FILE *out)
{
    char line[256], when[32], pub[32];
    if (s->choice.rule != GLCI_PERIOD_GIVEN && s->choice.rule != GLCI_PERIOD_EDITION) {
        glci_period_rule_text(&s->choice, line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    glci_format_iso_time(s->args.as_of, when, sizeof when);
    if (s->args.kind == GLCI_SRC_ASOF)
        fprintf(out, "as of %s: recomputed from the values received by then\n", when);
    if (s->args.kind == GLCI_SRC_EDITION) {
        const glci_edition_t *e = &s->edition;
        glci_format_iso_time(e->published, pub, sizeof pub);
        fprintf(out, "edition %s: the store as of %s, published %s by %s%s%s%s; framework "
                "%.12s\n", e->name, when, pub, e->by, e->sudo_user[0] ? " (sudo from " : "",
                e->sudo_user, e->sudo_user[0] ? ")" : "", e->fw_hash_hex);
    }
}

void glci_cli_operator(char *name, char *sudo)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        glci_utf8_escape(pw->pw_name, GLCI_OPERATOR_MAX, name, GLCI_OPERATOR_MAX + 1);
    else
        snprintf(name, GLCI_OPERATOR_MAX + 1, "uid %u", (unsigned)geteuid());
    /* SUDO_USER is what sudo says, not a proof: kept as printable text. */
    const char *s = getenv("SUDO_USER");
    sudo[0] = '\0';
    if (s && *s)
        glci_utf8_escape(s, GLCI_OPERATOR_MAX, sudo, GLCI_OPERATOR_MAX + 1);
}
