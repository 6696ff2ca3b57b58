// SPDX-License-Identifier: Apache-2.0
//
// `profiletometrics test FILE...`: run rule tests. Each test case gets a
// fresh engine with the file's rules, its profiles are converted, and the
// metrics collected are compared with the expected series: for every metric
// a case mentions, each expected series must be there with its value (within
// a relative tolerance), and no other series of that metric may be.
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/engine.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/ruletest.h"
#include "config/config.h"
#include "decode/decode.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

static const char test_usage[] =
    "usage: profiletometrics test [options] FILE...\n"
    "\n"
    "Run rule tests: each FILE (YAML) names rule files, describes input profiles\n"
    "and lists the series the rules must produce. The format is in docs/rules.md\n"
    "(\"Testing rules\"); examples/rules/*_test.yaml are examples.\n"
    "\n"
    "options:\n"
    "  --tap              print TAP (ok / not ok lines) instead of text\n"
    "  --scripts-dir DIR  load scripts/ and rules/ from DIR instead of the built-in copies\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 every test passed, 1 a test failed or a file is wrong.\n";

struct series {
    const char *metric;
    struct ptm_strbuf attrs, resource; // k="v",... sorted by key (the store sorts)
    double value;
    bool matched;
};

struct outcome {
    struct ptm_strbuf report; // the difference, for people
    int failures;
};

// "k=\"v\",k2=\"v2\"" for an attribute set of the store.
static void format_set(const struct ptm_store *store, uint32_t set, struct ptm_strbuf *out)
{
    uint32_t n = 0;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    for (uint32_t i = 0; i < n; i++) {
        size_t klen, vlen;
        const char *k = ptm_store_string_data(store, pairs[2 * i], &klen);
        enum ptm_label_type type;
        uint32_t sid;
        int64_t iv;
        double dv;
        ptm_store_value_get(store, pairs[2 * i + 1], &type, &sid, &iv, &dv);
        ptm_strbuf_printf(out, "%s%.*s=\"", i ? "," : "", (int)klen, k);
        if (type == PTM_LABEL_STRING) {
            const char *v = ptm_store_string_data(store, sid, &vlen);
            ptm_strbuf_append(out, v, vlen);
        } else if (type == PTM_LABEL_INT) {
            ptm_strbuf_printf(out, "%lld", (long long)iv);
        } else if (type == PTM_LABEL_BOOL) {
            ptm_strbuf_puts(out, iv ? "true" : "false");
        } else {
            ptm_strbuf_printf(out, "%.17g", dv);
        }
        ptm_strbuf_putc(out, '"');
    }
}

static int compare_pairs(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(x[0], y[0]);
}

// The same text form for expected attributes (sorted by key).
static void format_expected(const char **keys, const char **values, size_t n, struct ptm_strbuf *out)
{
    const char **pairs = calloc(2 * n + 2, sizeof *pairs);
    if (pairs == NULL) {
        out->failed = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        pairs[2 * i] = keys[i], pairs[2 * i + 1] = values[i];
    qsort(pairs, n, 2 * sizeof *pairs, compare_pairs);
    for (size_t i = 0; i < n; i++)
        ptm_strbuf_printf(out, "%s%s=\"%s\"", i ? "," : "", pairs[2 * i], pairs[2 * i + 1]);
    free(pairs);
}

static struct series *collect_series(struct ptm_engine *engine, uint64_t now, size_t *count)
{
    struct ptm_store *store = ptm_engine_store(engine);
    struct ptm_snapshot snap;
    if (ptm_store_collect(store, now, &snap) != 0)
        return NULL;
    struct series *all = calloc(snap.len + 1, sizeof *all);
    for (size_t i = 0; all != NULL && i < snap.len; i++) {
        const struct ptm_point *p = &snap.points[i];
        const struct ptm_metric_def *def = ptm_store_metric(store, p->metric);
        all[i].metric = def->name;
        format_set(store, p->attributes, &all[i].attrs);
        uint32_t rattrs, url;
        ptm_store_resource_get(store, p->resource, &rattrs, &url);
        format_set(store, rattrs, &all[i].resource);
        all[i].value = def->kind == PTM_METRIC_HISTOGRAM ? p->sum : p->value;
    }
    *count = snap.len;
    ptm_snapshot_free(&snap);
    return all;
}

static bool close_enough(double want, double got, double tolerance)
{
    if (want == got)
        return true;
    double scale = fabs(want) > fabs(got) ? fabs(want) : fabs(got);
    return fabs(want - got) <= tolerance * scale;
}

static const char *text(const struct ptm_strbuf *b)
{
    return b->data ? b->data : "";
}

// Check one expectation against the series; record the difference.
static void check_expect(const struct ruletest_expect *e, struct series *all, size_t n, struct outcome *o)
{
    struct ptm_strbuf want = {0}, want_res = {0};
    format_expected(e->keys, e->values, e->attr_count, &want);
    format_expected(e->resource_keys, e->resource_values, e->resource_count, &want_res);
    double got = 0;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].metric, e->metric) != 0 || strcmp(text(&all[i].attrs), text(&want)) != 0)
            continue;
        if (e->has_resource && strcmp(text(&all[i].resource), text(&want_res)) != 0)
            continue;
        all[i].matched = true;
        got += all[i].value;
        hits++;
    }
    const char *where = e->has_resource ? " on {" : "";
    if (hits == 0) {
        ptm_strbuf_printf(&o->report, "    line %u: %s{%s}%s%s%s: missing (expected %.17g)\n", e->line, e->metric,
                          text(&want), where, e->has_resource ? text(&want_res) : "", e->has_resource ? "}" : "",
                          e->value);
        o->failures++;
    } else if (!close_enough(e->value, got, e->tolerance)) {
        ptm_strbuf_printf(&o->report, "    line %u: %s{%s}%s%s%s: expected %.17g, got %.17g\n", e->line, e->metric,
                          text(&want), where, e->has_resource ? text(&want_res) : "", e->has_resource ? "}" : "",
                          e->value, got);
        o->failures++;
    }
    ptm_strbuf_free(&want);
    ptm_strbuf_free(&want_res);
}

// Series of a metric the case mentions that no expectation matched.
static void check_unexpected(const struct ruletest_case *c, const struct series *all, size_t n, struct outcome *o)
{
    for (size_t i = 0; i < n; i++) {
        if (all[i].matched)
            continue;
        bool mentioned = false;
        for (size_t k = 0; k < c->expect_count && !mentioned; k++)
            mentioned = strcmp(c->expect[k].metric, all[i].metric) == 0;
        if (!mentioned)
            continue;
        ptm_strbuf_printf(&o->report, "    %s{%s} on {%s}: unexpected series, value %.17g\n", all[i].metric,
                          text(&all[i].attrs), text(&all[i].resource), all[i].value);
        o->failures++;
    }
}

static struct ptm_engine *case_engine(const struct ruletest_file *f, const char *scripts_dir,
                                      struct ptm_config **config, struct ptm_error *err)
{
    if (f->config != NULL && (*config = ptm_config_load_file(f->config, err)) == NULL)
        return NULL;
    struct ptm_engine_options eo = {
        .connector = *config && (*config)->connector_count ? &(*config)->connectors[0] : NULL,
        .rule_files = f->rule_files,
        .rule_file_count = f->rule_count,
        .no_builtin_rules = !f->builtin_rules,
        .source_dir = scripts_dir,
    };
    return ptm_engine_create(&eo, err);
}

// Feed the case's profiles (inline, then files) through the engine.
static int feed(const struct ruletest_file *f, const struct ruletest_case *c, struct ptm_engine *engine,
                struct ptm_model *m, struct ptm_error *err)
{
    unsigned failed = 0;
    if (c->profiles != NULL) {
        int rc = ruletest_build_profiles(f, c, m, err);
        if (rc == 0)
            rc = ptm_engine_convert(engine, m, &failed, err);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < c->file_count; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        ptm_model_reset(m);
        int rc = ptm_read_input(c->files[i], &data, &len, err);
        if (rc == 0 && (rc = ptm_decode(m, data, len, NULL, err)) != 0)
            ptm_error_prefix(err, "%s", c->files[i]);
        if (rc == 0)
            rc = ptm_engine_convert(engine, m, &failed, err);
        free(data);
        if (rc != 0)
            return rc;
    }
    if (failed != 0)
        return ptm_error_set(err, PTM_ERULE, "%u rule evaluations failed (see the log above)", failed);
    return 0;
}

static int run_case(const struct ruletest_file *f, const struct ruletest_case *c, const char *scripts_dir,
                    struct outcome *o)
{
    struct ptm_error err;
    struct ptm_config *config = NULL;
    struct ptm_engine *engine = case_engine(f, scripts_dir, &config, &err);
    struct ptm_model *m = engine ? ptm_model_create() : NULL;
    int rc = engine == NULL ? err.code : m == NULL ? PTM_ENOMEM : feed(f, c, engine, m, &err);
    if (rc != 0) {
        ptm_strbuf_printf(&o->report, "    %s\n", rc == PTM_ENOMEM ? "out of memory" : err.message);
        o->failures++;
    } else {
        size_t n = 0;
        struct series *all = collect_series(engine, f->now ? f->now : 1, &n);
        for (size_t k = 0; all != NULL && k < c->expect_count; k++)
            check_expect(&c->expect[k], all, n, o);
        if (all != NULL)
            check_unexpected(c, all, n, o);
        for (size_t i = 0; all != NULL && i < n; i++) {
            ptm_strbuf_free(&all[i].attrs);
            ptm_strbuf_free(&all[i].resource);
        }
        free(all);
    }
    ptm_model_destroy(m);
    ptm_engine_destroy(engine);
    ptm_config_destroy(config);
    return o->failures == 0 ? 0 : -1;
}

struct totals {
    int tests, failed, tap_number;
    bool tap;
};

static void run_file(const char *path, const char *scripts_dir, struct totals *t)
{
    struct ptm_config_diagnostics errors = {0}, warnings = {0};
    struct ptm_error err;
    struct ptm_arena *arena = ptm_arena_create(0);
    struct ptm_yaml_document *doc = arena ? ptm_yaml_load_file(path, NULL, &errors, &warnings, &err) : NULL;
    struct ruletest_file f;
    if (doc == NULL || ruletest_parse(doc, arena, &errors, &f) != 0) {
        for (size_t i = 0; i < errors.count; i++)
            fprintf(t->tap ? stdout : stderr, "%s%s\n", t->tap ? "# " : "", errors.items[i].text);
        if (t->tap)
            printf("not ok %d - %s: the test file is wrong\n", ++t->tap_number, path);
        t->tests++, t->failed++;
    } else {
        if (!t->tap)
            printf("%s\n", path);
        for (size_t i = 0; i < f.case_count; i++) {
            const struct ruletest_case *c = &f.cases[i];
            struct outcome o = {0};
            int rc = run_case(&f, c, scripts_dir, &o);
            const char *name = c->name ? c->name : "(unnamed)";
            t->tests++;
            t->failed += rc != 0;
            if (t->tap) {
                printf("%s %d - %s: %s\n", rc == 0 ? "ok" : "not ok", ++t->tap_number, path, name);
                if (rc != 0 && o.report.data)
                    for (char *line = strtok(o.report.data, "\n"); line; line = strtok(NULL, "\n"))
                        printf("# %s\n", line);
            } else {
                printf("  %s %s (line %u)\n%s", rc == 0 ? "ok  " : "FAIL", name, c->line,
                       rc == 0 ? "" : text(&o.report));
            }
            ptm_strbuf_free(&o.report);
        }
    }
    ptm_yaml_destroy(doc);
    ptm_config_diagnostics_fini(&errors);
    ptm_config_diagnostics_fini(&warnings);
    ptm_arena_destroy(arena);
}

int ptm_cmd_test(int argc, char **argv)
{
    enum { OPT_TAP = 256, OPT_SCRIPTS };
    static const struct option longs[] = {
        {"tap", no_argument, NULL, OPT_TAP},
        {"scripts-dir", required_argument, NULL, OPT_SCRIPTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct totals t = {0};
    const char *scripts_dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case OPT_TAP: t.tap = true; break;
        case OPT_SCRIPTS: scripts_dir = optarg; break;
        case 'h': fputs(test_usage, stdout); return PTM_EXIT_OK;
        default: fputs("try 'profiletometrics test --help'\n", stderr); return PTM_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        ptm_cli_error("test: no FILE given");
        return PTM_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++)
        run_file(argv[i], scripts_dir, &t);
    if (t.tap)
        printf("1..%d\n", t.tap_number);
    else
        printf("%d tests, %d failed\n", t.tests, t.failed);
    return t.failed == 0 ? PTM_EXIT_OK : PTM_EXIT_USAGE;
}
