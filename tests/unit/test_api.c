// SPDX-License-Identifier: Apache-2.0
//
// The public C API (include/profiletometrics.h), used as an embedding
// program uses it: nothing but the public header, on the project's OTLP
// fixture (tests/unit/fixtures.h: its CPU and off-CPU totals per resource
// and per leaf function are counted by hand) and on the example Go CPU
// profile (examples/profiles/go-cpu.pb.gz, whose total `go tool pprof -top`
// prints as 2.98s). Feeding in every form and format, the partial success
// of a partly bad input, every output format, delta and cumulative
// temporality, reset, the error messages, the callbacks' rules, and threads:
// independent converters in parallel, and one converter shared by several
// threads, whose totals must come out exact.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "profiletometrics.h"

// The fixture's hand-counted facts: CPU profiles 0 (resource 0, service
// checkout, 7 events x 10 ms) and 2 (resource 1, billing, 60 ms); off-CPU
// profile 1 (checkout, 15 ms).
#define CHECKOUT_CPU 0.07
#define BILLING_CPU 0.06
#define CHECKOUT_OFF_CPU 0.015
#define GO_CPU_SECONDS 2.98 // go tool pprof -top examples/profiles/go-cpu.pb.gz: "2.98s total"

static bool close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

#define assert_close(a, b)                                                                                    \
    do {                                                                                                      \
        double a_ = (a), b_ = (b);                                                                            \
        if (!close_to(a_, b_))                                                                                \
            fail_msg("%s = %.12g, expected %.12g", #a, a_, b_);                                               \
    } while (0)

// ---- reading data points back ----

// What to sum: the points of metric whose attribute (or resource attribute)
// key has value; key NULL sums every point of the metric.
struct query {
    const char *metric;
    const char *key, *value;
    double sum;
    size_t points;
};

static const char *label_value(const struct ptm_label *labels, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i].key, key) == 0 && labels[i].type == PTM_LABEL_STRING)
            return labels[i].string;
    return NULL;
}

static int sum_point(void *ctx, const struct ptm_data_point *p)
{
    struct query *q = ctx;
    if (strcmp(p->metric, q->metric) != 0)
        return 0;
    if (q->key != NULL) {
        const char *v = label_value(p->attributes, p->attribute_count, q->key);
        if (v == NULL)
            v = label_value(p->resource, p->resource_count, q->key);
        if (v == NULL || strcmp(v, q->value) != 0)
            return 0;
    }
    q->sum += p->value;
    q->points++;
    return 0;
}

static double metric_sum(struct ptm_converter *c, const char *metric, const char *key, const char *value)
{
    struct query q = {.metric = metric, .key = key, .value = value};
    struct ptm_error err;
    struct ptm_collect_options co = {.now_unix_nano = UINT64_C(1800000000000000000)};
    int rc = ptm_converter_walk(c, &co, sum_point, &q, &err);
    if (rc != 0)
        fail_msg("walk: %s", err.message);
    return q.sum;
}

static struct ptm_converter *create_default(void)
{
    struct ptm_error err;
    struct ptm_converter *c = ptm_converter_create(NULL, &err);
    if (c == NULL)
        fail_msg("create: %s", err.message);
    return c;
}

static void feed_fixture(struct ptm_converter *c, int version, unsigned forms, enum ptm_format format)
{
    size_t len;
    uint8_t *data = fixture_otlp(version, "main", forms, &len);
    assert_non_null(data);
    struct ptm_feed_options fo = {.format = format};
    struct ptm_feed_result r;
    struct ptm_error err;
    if (ptm_converter_feed(c, data, len, &fo, &r, &err) != 0)
        fail_msg("feed v1.%d forms %u: %s", version, forms, err.message);
    assert_int_equal(r.profiles, FIXTURE_PROFILES);
    assert_int_equal(r.samples, FIXTURE_SAMPLES);
    assert_int_equal(r.rejected_profiles, 0);
    assert_int_equal(r.rule_failures, 0);
    free(data);
}

// ---- version ----

static void test_version(void **state)
{
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", PTM_VERSION_MAJOR, PTM_VERSION_MINOR, PTM_VERSION_PATCH);
    assert_string_equal(text, PTM_VERSION_STRING);
    assert_string_equal(ptm_version(), PTM_VERSION_STRING);
    assert_int_equal(ptm_version_number(), PTM_VERSION_NUMBER);
    assert_int_equal(PTM_VERSION_NUMBER, PTM_VERSION_MAJOR * 10000 + PTM_VERSION_MINOR * 100 + PTM_VERSION_PATCH);
    assert_string_equal(ptm_strerror(PTM_ECONFIG), "invalid configuration");
}

// ---- feeding ----

static void test_fixture_totals(void **state)
{
    struct ptm_converter *c = create_default();
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    assert_close(metric_sum(c, "cpu_time", "service.name", "checkout"), CHECKOUT_CPU);
    assert_close(metric_sum(c, "cpu_time", "service.name", "billing"), BILLING_CPU);
    assert_close(metric_sum(c, "off_cpu_time", "service.name", "checkout"), CHECKOUT_OFF_CPU);
    // Per leaf function, both resources: compute 2 + 2, fib 4 + 3, inline_helper 1 + 1 (x 10 ms).
    assert_close(metric_sum(c, "function_self_cpu_time", "function.name", "compute"), 0.04);
    assert_close(metric_sum(c, "function_self_cpu_time", "function.name", "fib"), 0.07);
    assert_close(metric_sum(c, "function_self_cpu_time", "function.name", "inline_helper"), 0.02);
    // Cumulative by default: a second feed adds up.
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), 2 * (CHECKOUT_CPU + BILLING_CPU));
    ptm_converter_destroy(c);
    ptm_converter_destroy(NULL);
}

// Every wire version and form, detected and named, gives the same numbers.
static void test_forms_and_formats(void **state)
{
    static const struct {
        unsigned forms;
        enum ptm_format named;
    } cases[] = {
        {0, PTM_FORMAT_OTLP},
        {FIXTURE_GZIP, PTM_FORMAT_OTLP},
        {FIXTURE_FRAMED, PTM_FORMAT_OTLP_FRAMED},
        {FIXTURE_FRAMED | FIXTURE_GZIP, PTM_FORMAT_OTLP_FRAMED},
    };
    for (int version = 8; version <= 10; version++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            for (int detect = 0; detect <= 1; detect++) {
                struct ptm_converter *c = create_default();
                feed_fixture(c, version, cases[i].forms, detect ? PTM_FORMAT_AUTO : cases[i].named);
                assert_close(metric_sum(c, "cpu_time", NULL, NULL), CHECKOUT_CPU + BILLING_CPU);
                ptm_converter_destroy(c);
            }
        }
    }
}

static void test_pprof_file(void **state)
{
    const char *root = getenv("PTM_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/profiles/go-cpu.pb.gz", root ? root : ".");
    struct ptm_converter *c = create_default();
    struct ptm_feed_result r;
    struct ptm_error err;
    struct ptm_feed_options fo = {.format = PTM_FORMAT_PPROF};
    if (ptm_converter_feed_file(c, path, &fo, &r, &err) != 0)
        fail_msg("%s", err.message);
    // One pprof profile with two sample types is two model profiles of 6 samples.
    assert_int_equal(r.profiles, 2);
    assert_int_equal(r.samples, 12);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), GO_CPU_SECONDS);
    assert_close(metric_sum(c, "function_self_cpu_time", "function.name", "main.spin"), GO_CPU_SECONDS);

    assert_int_equal(ptm_converter_feed_file(c, "/nonexistent/cpu.pprof", NULL, &r, &err), PTM_EIO);
    assert_string_equal(err.message, "/nonexistent/cpu.pprof: No such file or directory");
    assert_int_equal(r.profiles, 0);
    ptm_converter_destroy(c);
}

// A request with one bad profile: the others still count, and the error
// says which field of which profile.
static void test_partly_bad_input(void **state)
{
    size_t len;
    uint8_t *data = fixture_otlp(10, "bad-stack-index", 0, &len);
    assert_non_null(data);
    struct ptm_converter *c = create_default();
    struct ptm_feed_result r;
    struct ptm_error err;
    assert_int_equal(ptm_converter_feed(c, data, len, NULL, &r, &err), PTM_EFORMAT);
    assert_int_equal(err.code, PTM_EFORMAT);
    assert_non_null(strstr(err.message, "stack_index 99"));
    assert_int_equal(r.rejected_profiles, 1);
    assert_int_equal(r.profiles, FIXTURE_PROFILES - 1);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), BILLING_CPU);
    assert_close(metric_sum(c, "off_cpu_time", NULL, NULL), CHECKOUT_OFF_CPU);
    free(data);

    // Bytes of one format named as another: nothing is taken.
    data = fixture_otlp(10, "main", 0, &len);
    struct ptm_feed_options fo = {.format = PTM_FORMAT_OTLP_JSON};
    assert_int_equal(ptm_converter_feed(c, data, len, &fo, &r, &err), PTM_EFORMAT);
    assert_int_equal(r.profiles, 0);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), BILLING_CPU);
    free(data);

    fo = (struct ptm_feed_options){.otlp_version = 7};
    assert_int_equal(ptm_converter_feed(c, "", 0, &fo, &r, &err), PTM_EINVAL);
    assert_string_equal(err.message, "unknown OTLP version 7 (0 to detect, or 8 to 11 for v1.8 to v1.11)");
    assert_int_equal(ptm_converter_feed(c, NULL, 5, NULL, NULL, &err), PTM_EINVAL);
    assert_int_equal(ptm_converter_feed(NULL, "", 0, NULL, NULL, &err), PTM_EINVAL);
    ptm_converter_destroy(c);
}

// ---- collecting ----

static void test_collect_formats(void **state)
{
    struct ptm_converter *c = create_default();
    feed_fixture(c, 9, 0, PTM_FORMAT_AUTO);
    struct ptm_collect_options co = {.now_unix_nano = UINT64_C(1800000000000000000)};
    struct ptm_error err;
    char *out;
    size_t len;

    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_PROMETHEUS, &co, &out, &len, &err), 0);
    assert_int_equal(strlen(out), len);
    // Sum the cpu_time series of the exposition.
    double total = 0;
    size_t series = 0;
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "cpu_time_seconds_total{", 23) == 0) {
            total += strtod(strrchr(line, ' ') + 1, NULL);
            series++;
        }
    }
    ptm_free(out);
    struct query q = {.metric = "cpu_time"};
    assert_int_equal(ptm_converter_walk(c, &co, sum_point, &q, &err), 0);
    assert_int_equal(series, q.points); // one per resource and thread.name
    assert_close(total, CHECKOUT_CPU + BILLING_CPU);

    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_OTLP_JSON, &co, &out, &len, &err), 0);
    assert_int_equal(strlen(out), len);
    assert_memory_equal(out, "{\"resourceMetrics\":[", 20);
    assert_non_null(strstr(out, "\"name\":\"cpu_time\""));
    ptm_free(out);

    // Protobuf: field 1 (resource_metrics), length-delimited, first.
    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_OTLP, &co, &out, &len, &err), 0);
    assert_true(len > 2);
    assert_int_equal((unsigned char)out[0], 0x0a);
    ptm_free(out);

    assert_int_equal(ptm_converter_collect(c, (enum ptm_output_format)9, &co, &out, &len, &err), PTM_EINVAL);
    assert_null(out);
    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_TABLE, &co, NULL, &len, &err), PTM_EINVAL);
    ptm_free(NULL);
    ptm_converter_destroy(c);

    // Nothing fed: an empty request (no bytes at all in protobuf), still a buffer to free.
    c = create_default();
    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_OTLP, &co, &out, &len, &err), 0);
    assert_non_null(out);
    assert_int_equal(len, 0);
    ptm_free(out);
    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_OTLP_JSON, &co, &out, &len, &err), 0);
    assert_string_equal(out, "{}\n");
    ptm_free(out);
    assert_int_equal(ptm_converter_collect(c, PTM_OUTPUT_PROMETHEUS, &co, &out, &len, &err), 0);
    assert_string_equal(out, "");
    ptm_free(out);
    ptm_converter_destroy(c);
}

static void test_delta_and_reset(void **state)
{
    struct ptm_options o = {.config_yaml = "connectors:\n  profiletometrics:\n    temporality: delta\n"};
    struct ptm_error err;
    struct ptm_converter *c = ptm_converter_create(&o, &err);
    if (c == NULL)
        fail_msg("%s", err.message);
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), CHECKOUT_CPU + BILLING_CPU);
    // The walk was the flush: nothing new since.
    struct query q = {.metric = "cpu_time"};
    assert_int_equal(ptm_converter_walk(c, NULL, sum_point, &q, &err), 0);
    assert_int_equal(q.points, 0);
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), CHECKOUT_CPU + BILLING_CPU);
    ptm_converter_destroy(c);

    // Reset forgets cumulative totals.
    c = create_default();
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    assert_int_equal(ptm_converter_reset(c, &err), 0);
    q = (struct query){.metric = "cpu_time"};
    assert_int_equal(ptm_converter_walk(c, NULL, sum_point, &q, &err), 0);
    assert_int_equal(q.points, 0);
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), CHECKOUT_CPU + BILLING_CPU);
    ptm_converter_destroy(c);
}

static int stop_at_first(void *ctx, const struct ptm_data_point *p)
{
    (*(int *)ctx)++;
    return 7;
}

struct reentry {
    struct ptm_converter *c;
    int rc;
    struct ptm_error err;
};

// A callback that calls back into its own converter gets an error.
static int call_back_in(void *ctx, const struct ptm_data_point *p)
{
    struct reentry *r = ctx;
    r->rc = ptm_converter_feed(r->c, "", 0, NULL, NULL, &r->err);
    return 1;
}

static void test_walk_callbacks(void **state)
{
    struct ptm_converter *c = create_default();
    feed_fixture(c, 10, 0, PTM_FORMAT_AUTO);
    struct ptm_error err;
    int calls = 0;
    assert_int_equal(ptm_converter_walk(c, NULL, stop_at_first, &calls, &err), 7);
    assert_int_equal(calls, 1);
    struct reentry r = {.c = c};
    assert_int_equal(ptm_converter_walk(c, NULL, call_back_in, &r, &err), 1);
    assert_int_equal(r.rc, PTM_EINVAL);
    assert_string_equal(r.err.message, "called on a converter from inside one of its own callbacks");
    assert_int_equal(ptm_converter_walk(c, NULL, NULL, NULL, &err), PTM_EINVAL);
    ptm_converter_destroy(c);
}

// ---- configuration, rules and their errors ----

struct log {
    char text[4096];
    int lines;
};

static void collect_log(void *ctx, const char *message)
{
    struct log *l = ctx;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%s\n", message);
    l->lines++;
}

static void test_config_errors(void **state)
{
    struct log log = {0};
    struct ptm_options o = {
        .config_yaml = "connectors:\n  profiletometrics:\n    metrics:\n      cpu:\n        enabeld: true\n"
                       "    series_limit: -1\n",
        .log = collect_log,
        .log_ctx = &log,
    };
    struct ptm_error err;
    assert_null(ptm_converter_create(&o, &err));
    assert_int_equal(err.code, PTM_ECONFIG);
    assert_non_null(strstr(err.message, "<configuration>:5:9: connectors.profiletometrics.metrics.cpu.enabeld"));
    assert_non_null(strstr(err.message, "(and 1 more error)"));
    assert_int_equal(log.lines, 2);
    assert_non_null(strstr(log.text, "<configuration>:6:"));

    o = (struct ptm_options){.config_yaml = "connectors:\n  profiletometrics:\n", .connector = "profiletometrics/x",
                             .log = collect_log, .log_ctx = &log};
    assert_null(ptm_converter_create(&o, &err));
    assert_int_equal(err.code, PTM_ECONFIG);
    assert_string_equal(err.message, "<configuration> defines no connector profiletometrics/x");

    o = (struct ptm_options){.config_file = "a.yaml", .config_yaml = ""};
    assert_null(ptm_converter_create(&o, &err));
    assert_string_equal(err.message, "set config_file or config_yaml, not both");

    const char *missing[] = {"/nonexistent/rule.lua"};
    o = (struct ptm_options){.rule_files = missing, .rule_file_count = 1};
    assert_null(ptm_converter_create(&o, &err));
    assert_int_equal(err.code, PTM_EIO);
    assert_non_null(strstr(err.message, "/nonexistent/rule.lua"));
}

// A rule that fails on each CPU profile: counted and logged, the other
// rules go on.
static void test_rule_failures(void **state)
{
    char path[] = "/tmp/ptm-test-api-XXXXXX.lua";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    static const char rule[] =
        "local ptm = require \"ptm\"\n"
        "ptm.metric { name = \"broken\", unit = \"s\",\n"
        "  profiles = ptm.profile_type { period_type = \"cpu\" },\n"
        "  value = function(p) error(\"boom\") end }\n";
    assert_int_equal(write(fd, rule, sizeof rule - 1), (ssize_t)(sizeof rule - 1));
    close(fd);
    struct log log = {0};
    const char *rules[] = {path};
    struct ptm_options o = {.rule_files = rules, .rule_file_count = 1, .log = collect_log, .log_ctx = &log};
    struct ptm_error err;
    struct ptm_converter *c = ptm_converter_create(&o, &err);
    unlink(path);
    if (c == NULL)
        fail_msg("%s", err.message);
    size_t len;
    uint8_t *data = fixture_otlp(10, "main", 0, &len);
    struct ptm_feed_result r;
    assert_int_equal(ptm_converter_feed(c, data, len, NULL, &r, &err), 0);
    assert_int_equal(r.rule_failures, 2);
    assert_int_equal(log.lines, 2);
    assert_non_null(strstr(log.text, "boom"));
    assert_non_null(strstr(log.text, path + 5)); // the rule file's name
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), CHECKOUT_CPU + BILLING_CPU);
    free(data);
    ptm_converter_destroy(c);
}

// ---- threads ----

#define THREADS 4
#define FEEDS 12

struct worker {
    struct ptm_converter *c; // shared, or NULL: create one
    uint8_t *data;
    size_t len;
    int failures;
    int torn;   // collects that saw part of a feed
    double cpu; // own converter: its cpu_time at the end
};

static int add_cpu(void *ctx, const struct ptm_data_point *p)
{
    if (strcmp(p->metric, "cpu_time") == 0)
        *(double *)ctx += p->value;
    return 0;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct ptm_error err;
    struct ptm_converter *c = w->c ? w->c : ptm_converter_create(NULL, &err);
    if (c == NULL) {
        w->failures++;
        return NULL;
    }
    for (int i = 0; i < FEEDS; i++) {
        struct ptm_feed_result r;
        if (ptm_converter_feed(c, w->data, w->len, NULL, &r, &err) != 0 || r.profiles != FIXTURE_PROFILES)
            w->failures++;
        // Collect between feeds too: a collect must never see half a feed,
        // so the CPU seen is always a whole number of feeds.
        char *out;
        size_t len;
        if (ptm_converter_collect(c, PTM_OUTPUT_OTLP, NULL, &out, &len, &err) != 0)
            w->failures++;
        else
            ptm_free(out);
        double seen = 0, feeds = 0;
        if (ptm_converter_walk(c, NULL, add_cpu, &seen, &err) != 0)
            w->failures++;
        feeds = seen / (CHECKOUT_CPU + BILLING_CPU);
        if (fabs(feeds - round(feeds)) > 1e-6)
            w->torn++;
    }
    if (w->c == NULL) {
        if (ptm_converter_walk(c, NULL, add_cpu, &w->cpu, &err) != 0)
            w->failures++;
        ptm_converter_destroy(c);
    }
    return NULL;
}

static void run_workers(struct ptm_converter *shared)
{
    size_t len;
    uint8_t *data = fixture_otlp(10, "main", FIXTURE_GZIP, &len);
    assert_non_null(data);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.c = shared, .data = data, .len = len};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].torn, 0);
        if (shared == NULL)
            assert_close(w[i].cpu, FEEDS * (CHECKOUT_CPU + BILLING_CPU));
    }
    free(data);
}

static void test_threads_own_converters(void **state)
{
    run_workers(NULL);
}

static void test_threads_shared_converter(void **state)
{
    struct ptm_converter *c = create_default();
    run_workers(c);
    assert_close(metric_sum(c, "cpu_time", NULL, NULL), THREADS * FEEDS * (CHECKOUT_CPU + BILLING_CPU));
    assert_close(metric_sum(c, "cpu_time", "service.name", "checkout"), THREADS * FEEDS * CHECKOUT_CPU);
    ptm_converter_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_fixture_totals),
        cmocka_unit_test(test_forms_and_formats),
        cmocka_unit_test(test_pprof_file),
        cmocka_unit_test(test_partly_bad_input),
        cmocka_unit_test(test_collect_formats),
        cmocka_unit_test(test_delta_and_reset),
        cmocka_unit_test(test_walk_callbacks),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_rule_failures),
        cmocka_unit_test(test_threads_own_converters),
        cmocka_unit_test(test_threads_shared_converter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
