// SPDX-License-Identifier: Apache-2.0
//
// The configuration layer (engine/config): the YAML tree (positions, styles,
// anchors, limits), ${env:...} expansion, every key's default, every error
// message for a table of bad inputs (exact text, line and column counted by
// hand), the warnings, sizes and durations, the Go README's quick start and
// the example files under examples/config.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/fields.h"
#include "config/yaml.h"

#define MIB (1ULL << 20)
#define MS 1000000ULL
#define SEC 1000000000ULL

// ---- helpers ----

// Load text named config.yaml; the report is the caller's to free.
static struct ptm_config *load(const char *text, struct ptm_config_report *report)
{
    struct ptm_error err = {0};
    *report = (struct ptm_config_report){0};
    struct ptm_config *c = ptm_config_load_string_report(text, "config.yaml", report, &err);
    if (c == NULL)
        for (size_t i = 0; i < report->errors.count; i++)
            print_error("unexpected error: %s\n", report->errors.items[i].text);
    return c;
}

// Load text that must be valid and give exactly the warnings listed.
static struct ptm_config *load_ok(const char *text, const char *const *warnings)
{
    struct ptm_config_report report;
    struct ptm_config *c = load(text, &report);
    assert_non_null(c);
    size_t n = 0;
    while (warnings != NULL && warnings[n] != NULL)
        n++;
    for (size_t i = 0; i < report.warnings.count; i++)
        if (i >= n || strcmp(report.warnings.items[i].text, warnings[i]) != 0)
            print_error("warning %zu: %s\n", i, report.warnings.items[i].text);
    assert_int_equal(report.warnings.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(report.warnings.items[i].text, warnings[i]);
    // The config keeps its own copy of the warnings.
    assert_int_equal(c->warnings.count, n);
    ptm_config_report_fini(&report);
    return c;
}

struct bad_case {
    const char *yaml;
    const char *errors[4];
};

// Load yaml, which must fail with exactly the errors listed, in order.
static void expect_errors(const struct bad_case *t)
{
    struct ptm_config_report report = {0};
    struct ptm_error err = {0};
    struct ptm_config *c = ptm_config_load_string_report(t->yaml, "config.yaml", &report, &err);
    size_t n = 0;
    while (n < 4 && t->errors[n] != NULL)
        n++;
    bool same = c == NULL && report.errors.count == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(report.errors.items[i].text, t->errors[i]) == 0;
    if (!same) {
        print_error("for:\n%s", t->yaml);
        for (size_t i = 0; i < report.errors.count; i++)
            print_error("  got:      %s\n", report.errors.items[i].text);
        for (size_t i = 0; i < n; i++)
            print_error("  expected: %s\n", t->errors[i]);
    }
    assert_null(c);
    assert_int_equal(report.errors.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(report.errors.items[i].text, t->errors[i]);
    assert_int_equal(err.code, PTM_ECONFIG);
    ptm_config_report_fini(&report);
}

#define CONNECTOR "connectors:\n  profiletometrics:\n"

// ---- defaults ----

static void check_connector_defaults(const struct ptm_connector_config *c)
{
    assert_string_equal(c->id, "profiletometrics");
    assert_true(c->metrics.cpu.enabled);
    assert_string_equal(c->metrics.cpu.metric_name, "cpu_time");
    assert_string_equal(c->metrics.cpu.unit, "s");
    assert_true(c->metrics.cpu.unit_scale == 1.0);
    assert_string_equal(c->metrics.cpu.description, "CPU time of the profiled code");
    assert_true(c->metrics.memory.enabled);
    assert_string_equal(c->metrics.memory.metric_name, "memory_allocation");
    assert_string_equal(c->metrics.memory.unit, "By");
    assert_true(c->metrics.memory.unit_scale == 1.0);
    assert_string_equal(c->metrics.memory.description, "Bytes allocated by the profiled code");
    assert_true(c->metrics.off_cpu.enabled);
    assert_string_equal(c->metrics.off_cpu.metric_name, "off_cpu_time");
    assert_string_equal(c->metrics.off_cpu.unit, "s");
    assert_string_equal(c->metrics.off_cpu.description,
                        "Time the profiled threads spent off CPU (blocked or waiting)");
    assert_true(c->metrics.function.enabled);
    assert_int_equal(c->metrics.function.top_n, 100);
    // Not the Go connector's three default attributes (bug B3).
    assert_int_equal(c->attribute_count, 0);
    assert_null(c->attributes);
    const struct ptm_filter_config *filters[] = {&c->process_filter, &c->thread_filter, &c->pattern_filter};
    for (int i = 0; i < 3; i++) {
        assert_false(filters[i]->enabled);
        assert_int_equal(filters[i]->pattern_count, 0);
    }
    assert_int_equal(c->rule_count, 0);
    assert_int_equal(c->temporality, PTM_TEMPORALITY_CUMULATIVE);
    assert_int_equal(c->series_limit, 2000);
    assert_int_equal(c->lua_memory_limit, 64 * MIB);
    assert_int_equal(c->lua_time_limit, SEC);
    assert_int_equal(c->flush_interval, 60 * SEC);
}

static void check_service_defaults(const struct ptm_service_config *s)
{
    assert_int_equal(s->extension_count, 0);
    assert_int_equal(s->pipeline_count, 0);
    assert_int_equal(s->log_level, PTM_LOG_INFO);
    assert_string_equal(s->metrics_address, "0.0.0.0:8888");
    assert_int_equal(s->metrics_level, PTM_TELEMETRY_NORMAL);
}

static void test_default_config(void **state)
{
    (void)state;
    struct ptm_config *c = ptm_config_default();
    assert_non_null(c);
    assert_null(c->file);
    assert_string_equal(c->directory, ".");
    assert_int_equal(c->connector_count, 1);
    check_connector_defaults(&c->connectors[0]);
    assert_int_equal(c->receiver_count + c->processor_count + c->exporter_count + c->extension_count, 0);
    check_service_defaults(&c->service);
    ptm_config_destroy(c);
    ptm_config_destroy(NULL);

    struct ptm_connector_config d;
    ptm_connector_config_defaults(&d);
    check_connector_defaults(&d);
}

static void test_connector_only_file(void **state)
{
    (void)state;
    // A file with just the connector is what `convert` needs.
    struct ptm_config *c = load_ok(CONNECTOR, NULL);
    assert_int_equal(c->connector_count, 1);
    check_connector_defaults(&c->connectors[0]);
    assert_string_equal(c->file, "config.yaml");
    assert_int_equal(c->connectors[0].pos.line, 2);
    assert_int_equal(c->connectors[0].pos.column, 3);
    check_service_defaults(&c->service);
    ptm_config_destroy(c);

    // Relative paths resolve against the directory of the name given.
    struct ptm_error err;
    c = ptm_config_load_string(CONNECTOR, "etc/ptm/config.yaml", &err);
    assert_non_null(c);
    assert_string_equal(c->directory, "etc/ptm");
    ptm_config_destroy(c);

    // An empty file (or only comments) is every default and no component.
    c = load_ok("# nothing here\n", NULL);
    assert_int_equal(c->connector_count, 0);
    ptm_config_destroy(c);
    c = load_ok("", NULL);
    assert_int_equal(c->connector_count, 0);
    ptm_config_destroy(c);

    // A named connector, and a partial section: other keys keep defaults.
    c = load_ok("connectors:\n  profiletometrics/fast:\n    metrics:\n      cpu:\n        enabled: false\n", NULL);
    assert_string_equal(c->connectors[0].id, "profiletometrics/fast");
    assert_false(c->connectors[0].metrics.cpu.enabled);
    assert_string_equal(c->connectors[0].metrics.cpu.metric_name, "cpu_time");
    assert_true(c->connectors[0].metrics.memory.enabled);
    assert_ptr_equal(ptm_config_find_connector(c, "profiletometrics/fast"), &c->connectors[0]);
    assert_null(ptm_config_find_connector(c, "profiletometrics"));
    ptm_config_destroy(c);
}

static void check_grpc_server_defaults(const struct ptm_grpc_server_config *g)
{
    assert_string_equal(g->endpoint, "0.0.0.0:4317");
    assert_int_equal(g->max_recv_msg_size, 4 * MIB);
    assert_false(g->tls.enabled);
    assert_int_equal(g->tls.min_version, PTM_TLS_1_2);
    assert_null(g->auth.authenticator);
    assert_int_equal(g->max_connections, 1000);
    assert_int_equal(g->max_concurrent_streams, 100);
    assert_int_equal(g->max_connection_idle, 120 * SEC);
    assert_int_equal(g->handshake_timeout, 5 * SEC);
    assert_int_equal(g->read_timeout, 60 * SEC);
    assert_int_equal(g->write_timeout, 30 * SEC);
}

static void check_http_server_defaults(const struct ptm_http_server_config *h, const char *endpoint)
{
    assert_string_equal(h->endpoint, endpoint);
    assert_int_equal(h->max_request_body_size, 20 * MIB);
    assert_false(h->tls.enabled);
    assert_int_equal(h->tls.min_version, PTM_TLS_1_2);
    assert_int_equal(h->tls.max_version, PTM_TLS_ANY);
    assert_null(h->auth.authenticator);
    assert_int_equal(h->max_connections, 1000);
    assert_int_equal(h->read_timeout, 60 * SEC);
    assert_int_equal(h->read_header_timeout, 60 * SEC);
    assert_int_equal(h->write_timeout, 30 * SEC);
    assert_int_equal(h->idle_timeout, 60 * SEC);
    assert_true(h->keep_alives_enabled);
}

static void test_component_defaults(void **state)
{
    (void)state;
    static const char text[] = "receivers:\n  otlp:\n    protocols:\n      grpc:\n      http:\n  pyroscope:\n"
                               "processors:\n  batch:\n"
                               "exporters:\n  debug:\n  otlp:\n    endpoint: collector:4317\n"
                               "  otlphttp:\n    endpoint: https://collector:4318\n  prometheus:\n"
                               "  file:\n    path: out.jsonl\n"
                               "extensions:\n  health_check:\n  file_storage:\n  pprof:\n  zpages:\n";
    struct ptm_config *c = load_ok(text, NULL);
    const struct ptm_receiver_config *r = ptm_config_find_receiver(c, "otlp");
    assert_non_null(r);
    assert_int_equal(r->type, PTM_RECEIVER_OTLP);
    assert_true(r->otlp.grpc_enabled);
    check_grpc_server_defaults(&r->otlp.grpc);
    assert_true(r->otlp.http_enabled);
    check_http_server_defaults(&r->otlp.http, "0.0.0.0:4318");
    assert_null(r->otlp.profiles_url_path);
    r = ptm_config_find_receiver(c, "pyroscope");
    assert_int_equal(r->type, PTM_RECEIVER_PYROSCOPE);
    check_http_server_defaults(&r->pyroscope.http, "0.0.0.0:4040");

    const struct ptm_processor_config *p = ptm_config_find_processor(c, "batch");
    assert_int_equal(p->batch.timeout, 200 * MS);
    assert_int_equal(p->batch.send_batch_size, 8192);
    assert_int_equal(p->batch.send_batch_max_size, 0);

    const struct ptm_exporter_config *e = ptm_config_find_exporter(c, "debug");
    assert_int_equal(e->debug.verbosity, PTM_VERBOSITY_BASIC);
    assert_int_equal(e->debug.sampling_initial, 2);
    assert_int_equal(e->debug.sampling_thereafter, 1);
    e = ptm_config_find_exporter(c, "otlp");
    assert_int_equal(e->type, PTM_EXPORTER_OTLP);
    assert_string_equal(e->otlp.endpoint, "collector:4317");
    assert_false(e->otlp.tls.insecure);
    assert_false(e->otlp.tls.insecure_skip_verify);
    assert_null(e->otlp.tls.ca_file);
    assert_int_equal(e->otlp.headers.count, 0);
    assert_int_equal(e->otlp.compression, PTM_COMPRESSION_GZIP);
    assert_int_equal(e->otlp.timeout, 5 * SEC);
    assert_true(e->otlp.retry_on_failure.enabled);
    assert_int_equal(e->otlp.retry_on_failure.initial_interval, 5 * SEC);
    assert_true(e->otlp.retry_on_failure.randomization_factor == 0.5);
    assert_true(e->otlp.retry_on_failure.multiplier == 1.5);
    assert_int_equal(e->otlp.retry_on_failure.max_interval, 30 * SEC);
    assert_int_equal(e->otlp.retry_on_failure.max_elapsed_time, 300 * SEC);
    assert_true(e->otlp.sending_queue.enabled);
    assert_int_equal(e->otlp.sending_queue.num_consumers, 10);
    assert_int_equal(e->otlp.sending_queue.queue_size, 1000);
    assert_null(e->otlp.sending_queue.storage);
    e = ptm_config_find_exporter(c, "otlphttp");
    assert_int_equal(e->type, PTM_EXPORTER_OTLPHTTP);
    assert_string_equal(e->otlp.endpoint, "https://collector:4318");
    assert_null(e->otlp.metrics_endpoint);
    assert_int_equal(e->otlp.encoding, PTM_ENCODING_PROTO);
    assert_int_equal(e->otlp.timeout, 30 * SEC);
    assert_int_equal(e->otlp.compression, PTM_COMPRESSION_GZIP);
    e = ptm_config_find_exporter(c, "prometheus");
    assert_string_equal(e->prometheus.endpoint, "0.0.0.0:8889");
    assert_null(e->prometheus.namespace);
    assert_int_equal(e->prometheus.const_labels.count, 0);
    assert_false(e->prometheus.resource_to_telemetry_conversion);
    assert_int_equal(e->prometheus.metric_expiration, 300 * SEC);
    assert_false(e->prometheus.send_timestamps);
    assert_true(e->prometheus.add_metric_suffixes);
    e = ptm_config_find_exporter(c, "file");
    assert_string_equal(e->file.path, "out.jsonl");
    assert_int_equal(e->file.format, PTM_FILE_FORMAT_JSON);
    assert_false(e->file.append);

    const struct ptm_extension_config *x = ptm_config_find_extension(c, "health_check");
    assert_string_equal(x->endpoint, "0.0.0.0:13133");
    assert_string_equal(x->path, "/");
    assert_false(x->enabled);
    x = ptm_config_find_extension(c, "file_storage");
    assert_string_equal(x->directory, "/var/lib/otelcol/file_storage");
    assert_int_equal(x->timeout, SEC);
    assert_string_equal(ptm_config_find_extension(c, "pprof")->endpoint, "localhost:1777");
    assert_string_equal(ptm_config_find_extension(c, "zpages")->endpoint, "localhost:55679");
    ptm_config_destroy(c);
}

// Every connector key set to a value that is not its default.
static void test_connector_values(void **state)
{
    (void)state;
    static const char text[] = CONNECTOR
        "    metrics:\n"
        "      cpu: {enabled: false, metric_name: proc.cpu, unit: ns, description: CPU}\n"
        "      memory: {metric_name: alloc, unit: bytes}\n"
        "      off_cpu: {enabled: false, unit: ms}\n"
        "      function: {enabled: false, top_n: 0}\n"
        "    attributes:\n"
        "      - {key: service.name, value: checkout}\n"
        "      - {key: version, type: regex, value: 'v(\\d+)'}\n"
        "      - {key: pod, type: regex, value: '^(.*)-x$', source: k8s.pod.name}\n"
        "      - {key: s3, type: string_table, index: 3}\n"
        "      - {key: s4, type: string_table, value: 4}\n"
        "      - {key: n, type: literal, value: 42}\n"
        "    process_filter: {enabled: true, pattern: 'my-app.*'}\n"
        "    thread_filter: {enabled: true, patterns: ['^worker', '(?i)gc']}\n"
        "    pattern_filter: {enabled: false, patterns: [x]}\n"
        "    temporality: delta\n"
        "    series_limit: 10\n"
        "    lua_memory_limit: 1MiB\n"
        "    lua_time_limit: 250ms\n"
        "    flush_interval: 1m30s\n";
    struct ptm_config *c = load_ok(text, NULL);
    const struct ptm_connector_config *k = &c->connectors[0];
    assert_false(k->metrics.cpu.enabled);
    assert_string_equal(k->metrics.cpu.metric_name, "proc.cpu");
    assert_string_equal(k->metrics.cpu.unit, "ns");
    assert_true(k->metrics.cpu.unit_scale == 1e9);
    assert_string_equal(k->metrics.cpu.description, "CPU");
    assert_string_equal(k->metrics.memory.metric_name, "alloc");
    assert_string_equal(k->metrics.memory.unit, "By");
    assert_string_equal(k->metrics.off_cpu.unit, "ms");
    assert_true(k->metrics.off_cpu.unit_scale == 1e3);
    assert_false(k->metrics.function.enabled);
    assert_int_equal(k->metrics.function.top_n, 0);

    assert_int_equal(k->attribute_count, 6);
    const struct ptm_attribute_config *a = k->attributes;
    assert_string_equal(a[0].key, "service.name");
    assert_int_equal(a[0].type, PTM_ATTRIBUTE_LITERAL); // no type: literal, as in Go
    assert_string_equal(a[0].value, "checkout");
    assert_null(a[0].source);
    assert_int_equal(a[0].index, -1);
    assert_int_equal(a[0].pos.line, 9);
    assert_int_equal(a[0].pos.column, 9);
    assert_int_equal(a[1].type, PTM_ATTRIBUTE_REGEX);
    assert_string_equal(a[1].value, "v(\\d+)");
    assert_null(a[1].source);
    assert_string_equal(a[2].source, "k8s.pod.name");
    assert_int_equal(a[3].type, PTM_ATTRIBUTE_STRING_TABLE);
    assert_int_equal(a[3].index, 3);
    assert_null(a[3].value);
    assert_int_equal(a[4].index, 4); // the Go connector's way: the index in value
    assert_string_equal(a[5].value, "42");

    assert_true(k->process_filter.enabled);
    assert_int_equal(k->process_filter.pattern_count, 1);
    assert_string_equal(k->process_filter.patterns[0], "my-app.*");
    assert_int_equal(k->process_filter.pattern_pos[0].line, 15);
    assert_int_equal(k->process_filter.pattern_pos[0].column, 46);
    assert_int_equal(k->process_filter.pos.line, 15);
    assert_int_equal(k->process_filter.pos.column, 5);
    assert_int_equal(k->thread_filter.pattern_count, 2);
    assert_string_equal(k->thread_filter.patterns[1], "(?i)gc");
    assert_false(k->pattern_filter.enabled);
    assert_int_equal(k->pattern_filter.pattern_count, 1);
    assert_int_equal(k->temporality, PTM_TEMPORALITY_DELTA);
    assert_int_equal(k->series_limit, 10);
    assert_int_equal(k->lua_memory_limit, MIB);
    assert_int_equal(k->lua_time_limit, 250 * SEC / 1000);
    assert_int_equal(k->flush_interval, 90 * SEC);
    ptm_config_destroy(c);
}

static void test_component_values(void **state)
{
    (void)state;
    static const char text[] =
        "receivers:\n  otlp/in:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:9999\n"
        "        max_request_body_size: 1MiB\n        profiles_url_path: /p\n"
        "        tls: {cert_file: s.crt, key_file: s.key, client_ca_file: ca.crt, min_version: \"1.3\"}\n"
        "        auth: {authenticator: bearertokenauth/in}\n        max_connections: 7\n"
        "        read_timeout: 3s\n        read_header_timeout: 2s\n        write_timeout: 0s\n"
        "        idle_timeout: 500ms\n        keep_alives_enabled: false\n"
        "      grpc:\n        tls: {cert_file: s.crt, key_file: s.key, min_version: \"1.2\", max_version: \"1.2\"}\n"
        "        auth: {authenticator: bearertokenauth/in}\n        max_connections: 9\n"
        "        max_concurrent_streams: 4\n        keepalive: {server_parameters: {max_connection_idle: 45s}}\n"
        "        handshake_timeout: 1s\n        read_timeout: 0s\n        write_timeout: 2s\n"
        "  pyroscope/p:\n    endpoint: 127.0.0.1:4041\n    max_request_body_size: 2MiB\n"
        "    auth: {authenticator: bearertokenauth/file}\n    tls: {cert_file: s.crt, key_file: s.key}\n"
        "exporters:\n  otlp_grpc:\n    endpoint: http://c:4317\n    tls: {insecure: true, ca_file: ca.pem}\n"
        "    headers: {authorization: Bearer x, x-tenant: \"7\"}\n    compression: none\n    timeout: 250ms\n"
        "    retry_on_failure: {enabled: false, multiplier: 2, max_elapsed_time: 0}\n"
        "    sending_queue: {num_consumers: 2, queue_size: 50, storage: file_storage/q}\n"
        "  otlphttp:\n    metrics_endpoint: http://h/custom\n    encoding: json\n"
        "  prometheus:\n    namespace: ptm\n    const_labels: {env: prod}\n"
        "    resource_to_telemetry_conversion: {enabled: true}\n"
        "  debug:\n    verbosity: detailed\n"
        "  file:\n    path: m.pb\n    format: proto\n    append: true\n"
        "processors:\n  memory_limiter:\n    check_interval: 1s\n    limit_mib: 100\n"
        "extensions:\n  file_storage/q:\n    directory: /var/q\n"
        "  bearertokenauth/in:\n    tokens: [t1, t2]\n    scheme: Token\n    header: X-Auth\n"
        "  bearertokenauth/file:\n    filename: /run/token\n"
        "service:\n  extensions: [file_storage/q, bearertokenauth/in, bearertokenauth/file]\n"
        "  pipelines:\n    profiles:\n      receivers: [otlp/in, pyroscope/p]\n"
        "      exporters: [profiletometrics]\n    metrics:\n      receivers: [profiletometrics]\n"
        "      processors: [memory_limiter]\n      exporters: [otlp_grpc, otlphttp, prometheus, debug, file]\n"
        "  telemetry: {logs: {level: debug}, metrics: {address: 127.0.0.1:9000, level: none}}\n"
        CONNECTOR;
    struct ptm_config *c = load_ok(text, NULL);
    const struct ptm_receiver_config *r = &c->receivers[0];
    assert_string_equal(r->id, "otlp/in");
    assert_true(r->otlp.http_enabled);
    const struct ptm_http_server_config *h = &r->otlp.http;
    assert_string_equal(h->endpoint, "127.0.0.1:9999");
    assert_int_equal(h->max_request_body_size, MIB);
    assert_string_equal(r->otlp.profiles_url_path, "/p");
    assert_true(h->tls.enabled);
    assert_string_equal(h->tls.client_ca_file, "ca.crt");
    assert_int_equal(h->tls.min_version, PTM_TLS_1_3);
    assert_string_equal(h->auth.authenticator, "bearertokenauth/in");
    assert_int_equal(h->auth.pos.line, 9);
    assert_int_equal(h->auth.pos.column, 31);
    assert_int_equal(h->max_connections, 7);
    assert_int_equal(h->read_timeout, 3 * SEC);
    assert_int_equal(h->read_header_timeout, 2 * SEC);
    assert_int_equal(h->write_timeout, 0);
    assert_int_equal(h->idle_timeout, 500 * MS);
    assert_false(h->keep_alives_enabled);
    assert_true(r->otlp.grpc_enabled);
    const struct ptm_grpc_server_config *g = &r->otlp.grpc;
    assert_int_equal(g->tls.min_version, PTM_TLS_1_2);
    assert_int_equal(g->tls.max_version, PTM_TLS_1_2);
    assert_string_equal(g->auth.authenticator, "bearertokenauth/in");
    assert_int_equal(g->max_connections, 9);
    assert_int_equal(g->max_concurrent_streams, 4);
    assert_int_equal(g->max_connection_idle, 45 * SEC);
    assert_int_equal(g->handshake_timeout, SEC);
    assert_int_equal(g->read_timeout, 0);
    assert_int_equal(g->write_timeout, 2 * SEC);
    r = ptm_config_find_receiver(c, "pyroscope/p");
    assert_string_equal(r->pyroscope.http.endpoint, "127.0.0.1:4041");
    assert_int_equal(r->pyroscope.http.max_request_body_size, 2 * MIB);
    assert_string_equal(r->pyroscope.http.auth.authenticator, "bearertokenauth/file");
    const struct ptm_extension_config *x = ptm_config_find_extension(c, "bearertokenauth/in");
    assert_int_equal(x->type, PTM_EXTENSION_BEARERTOKENAUTH);
    assert_true(x->enabled);
    assert_string_equal(x->bearer.header, "X-Auth");
    assert_string_equal(x->bearer.scheme, "Token");
    assert_int_equal(x->bearer.token_count, 2);
    assert_string_equal(x->bearer.tokens[1], "t2");
    assert_null(x->bearer.filename);
    x = ptm_config_find_extension(c, "bearertokenauth/file");
    assert_string_equal(x->bearer.header, "Authorization");
    assert_string_equal(x->bearer.scheme, "Bearer");
    assert_int_equal(x->bearer.token_count, 0);
    assert_string_equal(x->bearer.filename, "/run/token");

    const struct ptm_exporter_config *e = ptm_config_find_exporter(c, "otlp_grpc");
    assert_int_equal(e->type, PTM_EXPORTER_OTLP);
    assert_true(e->otlp.tls.insecure);
    assert_string_equal(e->otlp.tls.ca_file, "ca.pem");
    assert_int_equal(e->otlp.headers.count, 2);
    assert_string_equal(e->otlp.headers.keys[1], "x-tenant");
    assert_string_equal(e->otlp.headers.values[1], "7");
    assert_int_equal(e->otlp.compression, PTM_COMPRESSION_NONE);
    assert_int_equal(e->otlp.timeout, 250 * MS);
    assert_false(e->otlp.retry_on_failure.enabled);
    assert_true(e->otlp.retry_on_failure.multiplier == 2.0);
    assert_int_equal(e->otlp.retry_on_failure.max_elapsed_time, 0);
    assert_int_equal(e->otlp.sending_queue.num_consumers, 2);
    assert_string_equal(e->otlp.sending_queue.storage, "file_storage/q");
    e = ptm_config_find_exporter(c, "otlphttp");
    assert_null(e->otlp.endpoint);
    assert_string_equal(e->otlp.metrics_endpoint, "http://h/custom");
    assert_int_equal(e->otlp.encoding, PTM_ENCODING_JSON);
    e = ptm_config_find_exporter(c, "prometheus");
    assert_string_equal(e->prometheus.namespace, "ptm");
    assert_string_equal(e->prometheus.const_labels.values[0], "prod");
    assert_true(e->prometheus.resource_to_telemetry_conversion);
    assert_int_equal(ptm_config_find_exporter(c, "debug")->debug.verbosity, PTM_VERBOSITY_DETAILED);
    e = ptm_config_find_exporter(c, "file");
    assert_int_equal(e->file.format, PTM_FILE_FORMAT_PROTO);
    assert_true(e->file.append);

    const struct ptm_memory_limiter_config *m = &ptm_config_find_processor(c, "memory_limiter")->memory_limiter;
    assert_int_equal(m->check_interval, SEC);
    assert_int_equal(m->limit, 100 * MIB);
    assert_int_equal(m->spike_limit, 20 * MIB); // a fifth of the limit, as in the Collector
    assert_true(ptm_config_find_extension(c, "file_storage/q")->enabled);

    const struct ptm_service_config *s = &c->service;
    assert_int_equal(s->pipeline_count, 2);
    assert_string_equal(s->pipelines[0].id, "profiles");
    assert_int_equal(s->pipelines[0].signal, PTM_SIGNAL_PROFILES);
    assert_int_equal(s->pipelines[1].signal, PTM_SIGNAL_METRICS);
    assert_int_equal(s->pipelines[1].exporter_count, 5);
    assert_string_equal(s->pipelines[1].exporters[4], "file");
    assert_int_equal(s->log_level, PTM_LOG_DEBUG);
    assert_string_equal(s->metrics_address, "127.0.0.1:9000");
    assert_int_equal(s->metrics_level, PTM_TELEMETRY_NONE);
    ptm_config_destroy(c);
}

// ---- errors ----

static const struct bad_case connector_cases[] = {
    {CONNECTOR "    metrics:\n      cpu:\n        enabled: yes please\n",
     {"config.yaml:5:18: connectors.profiletometrics.metrics.cpu.enabled: expected true or false, got \"yes please\""}},
    {CONNECTOR "    metrics:\n      cpu:\n        enabled: \"true\"\n",
     {"config.yaml:5:18: connectors.profiletometrics.metrics.cpu.enabled: expected true or false, got the string "
      "\"true\" (remove the quotes)"}},
    {CONNECTOR "    metrics:\n      cpu:\n        enabled: on\n",
     {"config.yaml:5:18: connectors.profiletometrics.metrics.cpu.enabled: expected true or false, got \"on\" (YAML "
      "1.1 yes/no/on/off are not booleans here)"}},
    {CONNECTOR "    metrics:\n      cpu:\n        name: cpu\n",
     {"config.yaml:5:9: connectors.profiletometrics.metrics.cpu.name: unknown key (did you mean metric_name?)"}},
    {CONNECTOR "    metrics:\n      memory:\n        name: mem\n",
     {"config.yaml:5:9: connectors.profiletometrics.metrics.memory.name: unknown key (did you mean metric_name?)"}},
    {CONNECTOR "    metrics:\n      cpu:\n        metric_nam: x\n",
     {"config.yaml:5:9: connectors.profiletometrics.metrics.cpu.metric_nam: unknown key (did you mean metric_name?)"}},
    {CONNECTOR "    metrics:\n      cpu:\n        colour: red\n",
     {"config.yaml:5:9: connectors.profiletometrics.metrics.cpu.colour: unknown key (expected one of: enabled, "
      "metric_name, unit, description)"}},
    {CONNECTOR "    metrics:\n      cpu:\n        metric_name: \"\"\n",
     {"config.yaml:5:22: connectors.profiletometrics.metrics.cpu.metric_name: must not be empty"}},
    {CONNECTOR "    metrics:\n      cpu:\n        metric_name: cpu time\n",
     {"config.yaml:5:22: connectors.profiletometrics.metrics.cpu.metric_name: \"cpu time\" is not a valid metric "
      "name (a letter, then letters, digits, _ . - or /; at most 255 characters)"}},
    {CONNECTOR "    metrics:\n      cpu:\n        unit: seconds\n",
     {"config.yaml:5:15: connectors.profiletometrics.metrics.cpu.unit: expected one of s, ms, us, ns, got "
      "\"seconds\""}},
    {CONNECTOR "    metrics:\n      memory:\n        unit: kilobytes\n",
     {"config.yaml:5:15: connectors.profiletometrics.metrics.memory.unit: expected one of By, bytes, KiBy, MiBy, "
      "GiBy, got \"kilobytes\""}},
    {CONNECTOR "    metrics:\n      cpu:\n        description: [a]\n",
     {"config.yaml:5:22: connectors.profiletometrics.metrics.cpu.description: expected a string, got a list"}},
    {CONNECTOR "    metrics:\n      memory:\n        metric_name: cpu_time\n",
     {"config.yaml:2:3: connectors.profiletometrics: metrics.cpu and metrics.memory both use metric_name "
      "\"cpu_time\"; give each its own"}},
    {CONNECTOR "    metrics:\n      cpu: {enabled: false}\n      memory: {enabled: false}\n"
               "      off_cpu: {enabled: false}\n",
     {"config.yaml:2:3: connectors.profiletometrics: at least one metric must be enabled (metrics.cpu, "
      "metrics.memory or metrics.off_cpu), or a rule file listed under rules"}},
    {CONNECTOR "    metrics:\n      function:\n        top_n: -1\n        max_functions: 10\n",
     {"config.yaml:5:16: connectors.profiletometrics.metrics.function.top_n: must be from 0 to 1000000, got -1",
      "config.yaml:6:9: connectors.profiletometrics.metrics.function.max_functions: unknown key (did you mean "
      "top_n?)"}},
    {CONNECTOR "    metrics:\n      function:\n        top_n: \"100\"\n",
     {"config.yaml:5:16: connectors.profiletometrics.metrics.function.top_n: expected a whole number, got the "
      "string \"100\" (remove the quotes)"}},
    {CONNECTOR "    metrics:\n      function:\n        top_n: 1.5\n",
     {"config.yaml:5:16: connectors.profiletometrics.metrics.function.top_n: expected a whole number, got \"1.5\""}},
    {CONNECTOR "    metrics: [cpu]\n",
     {"config.yaml:3:14: connectors.profiletometrics.metrics: expected a map of keys, got a list"}},
    {CONNECTOR "    attributes:\n      - name: x\n        value: y\n",
     {"config.yaml:4:9: connectors.profiletometrics.attributes[0].name: unknown key (did you mean key?)",
      "config.yaml:4:9: connectors.profiletometrics.attributes[0].key: missing required value"}},
    {CONNECTOR "    attributes: {key: a}\n",
     {"config.yaml:3:17: connectors.profiletometrics.attributes: expected a list of {key, value, type}, got a map"}},
    {CONNECTOR "    attributes:\n      - service.name\n",
     {"config.yaml:4:9: connectors.profiletometrics.attributes[0]: expected a map with key, value and type, got a "
      "string"}},
    {CONNECTOR "    attributes:\n      - key: v\n        type: regex\n        value: \"v([\"\n",
     {"config.yaml:6:16: connectors.profiletometrics.attributes[0].value: bad regular expression \"v([\": missing "
      "terminating ] for character class at offset 3"}},
    {CONNECTOR "    attributes:\n      - key: v\n        type: regex\n        value: \"\"\n",
     {"config.yaml:6:16: connectors.profiletometrics.attributes[0].value: must not be empty"}},
    {CONNECTOR "    attributes:\n      - key: a\n        type: literl\n        value: x\n",
     {"config.yaml:5:15: connectors.profiletometrics.attributes[0].type: expected one of literal, regex, "
      "string_table, got \"literl\" (did you mean literal?)"}},
    {CONNECTOR "    attributes:\n      - key: a\n        type: string_table\n        value: abc\n",
     {"config.yaml:6:16: connectors.profiletometrics.attributes[0].value: expected a string table index (a whole "
      "number from 0 to 2147483647), got \"abc\""}},
    {CONNECTOR "    attributes:\n      - key: a\n        type: string_table\n        index: 1\n        value: 2\n",
     {"config.yaml:7:9: connectors.profiletometrics.attributes[0].value: give the string table index in index or "
      "in value, not both"}},
    {CONNECTOR "    attributes:\n      - key: a\n        type: string_table\n",
     {"config.yaml:4:9: connectors.profiletometrics.attributes[0].index: missing required value (the string table "
      "index of a string_table attribute)"}},
    {CONNECTOR "    attributes:\n      - key: a\n        value: b\n        source: c\n",
     {"config.yaml:6:9: connectors.profiletometrics.attributes[0].source: source applies only to type: regex"}},
    {CONNECTOR "    attributes:\n      - key: a\n",
     {"config.yaml:4:9: connectors.profiletometrics.attributes[0].value: missing required value"}},
    {CONNECTOR "    attributes:\n      - key: a\n        type: regex\n        value: x\n        index: 2\n",
     {"config.yaml:7:9: connectors.profiletometrics.attributes[0].index: index applies only to type: string_table"}},
    {CONNECTOR "    process_filter:\n      enabled: true\n",
     {"config.yaml:3:5: connectors.profiletometrics.process_filter: enabled without pattern or patterns: give at "
      "least one regular expression, or set enabled: false (the Go connector then silently dropped every profile)"}},
    {CONNECTOR "    process_filter:\n      enabled: true\n      patterns: [ok, \"(c\"]\n",
     {"config.yaml:5:22: connectors.profiletometrics.process_filter.patterns[1]: bad regular expression \"(c\": "
      "missing closing parenthesis at offset 2"}},
    {CONNECTOR "    process_filter:\n      pattern: \"*x\"\n",
     {"config.yaml:4:16: connectors.profiletometrics.process_filter.pattern: bad regular expression \"*x\": quantifier "
      "does not follow a repeatable item at offset 0"}},
    {CONNECTOR "    process_filter:\n      patterns: [\"\", a]\n",
     {"config.yaml:4:18: connectors.profiletometrics.process_filter.patterns[0]: must not be empty"}},
    {CONNECTOR "    process_filter:\n      process_name_pattern: x\n",
     {"config.yaml:4:7: connectors.profiletometrics.process_filter.process_name_pattern: unknown key (did you mean "
      "pattern?)"}},
    {CONNECTOR "    process_filter:\n      enable_per_process: true\n",
     {"config.yaml:4:7: connectors.profiletometrics.process_filter.enable_per_process: unknown key (the Go connector "
      "never read it; remove it)"}},
    {CONNECTOR "    thread_filter:\n      thread_name_pattern: x\n",
     {"config.yaml:4:7: connectors.profiletometrics.thread_filter.thread_name_pattern: unknown key (did you mean "
      "pattern?)"}},
    {CONNECTOR "    pattern_filter:\n      attribute_patterns: [x]\n",
     {"config.yaml:4:7: connectors.profiletometrics.pattern_filter.attribute_patterns: unknown key (did you mean "
      "patterns?)"}},
    {CONNECTOR "    debug:\n      enabled: true\n",
     {"config.yaml:3:5: connectors.profiletometrics.debug: unknown key (the Go connector's documented debug block "
      "never existed; set service.telemetry.logs.level: debug)"}},
    {CONNECTOR "    enable_cpu_time: true\n",
     {"config.yaml:3:5: connectors.profiletometrics.enable_cpu_time: unknown key (did you mean metrics.cpu.enabled?)"}},
    {CONNECTOR "    cpu_time_metric_name: x\n",
     {"config.yaml:3:5: connectors.profiletometrics.cpu_time_metric_name: unknown key (did you mean "
      "metrics.cpu.metric_name?)"}},
    {CONNECTOR "    attribute_extraction: []\n",
     {"config.yaml:3:5: connectors.profiletometrics.attribute_extraction: unknown key (did you mean attributes?)"}},
    {CONNECTOR "    function_metrics:\n      max_functions: 10\n",
     {"config.yaml:3:5: connectors.profiletometrics.function_metrics: unknown key (did you mean metrics.function? "
      "Its max_functions is metrics.function.top_n)"}},
    {CONNECTOR "    thread_metrics: {enabled: true}\n    process_metrics: {enabled: true}\n",
     {"config.yaml:3:5: connectors.profiletometrics.thread_metrics: unknown key (the Go connector never had it; add "
      "thread.name with a rule file (rules))",
      "config.yaml:4:5: connectors.profiletometrics.process_metrics: unknown key (the Go connector never had it; "
      "add process.executable.name with a rule file (rules))"}},
    {CONNECTOR "    temporality: deltaa\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: expected one of cumulative, delta, got \"deltaa\" "
      "(did you mean delta?)"}},
    {CONNECTOR "    series_limit: 0\n",
     {"config.yaml:3:19: connectors.profiletometrics.series_limit: must be from 1 to 100000000, got 0"}},
    {CONNECTOR "    lua_memory_limit: 100KiB\n",
     {"config.yaml:3:23: connectors.profiletometrics.lua_memory_limit: must be from 1MiB to 1TiB, got 100KiB"}},
    {CONNECTOR "    lua_memory_limit: lots\n",
     {"config.yaml:3:23: connectors.profiletometrics.lua_memory_limit: expected a size such as 64MiB or 1048576, "
      "got \"lots\" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"}},
    {CONNECTOR "    lua_time_limit: 5ms\n",
     {"config.yaml:3:21: connectors.profiletometrics.lua_time_limit: must be from 10ms to 1h, got 5ms"}},
    {CONNECTOR "    flush_interval: 5\n",
     {"config.yaml:3:21: connectors.profiletometrics.flush_interval: expected a duration such as 5s, 250ms or "
      "1m30s, got \"5\" (add a unit: ns, us, ms, s, m or h)"}},
    {CONNECTOR "    flush_interval: 1ms\n",
     {"config.yaml:3:21: connectors.profiletometrics.flush_interval: must be from 10ms to 24h, got 1ms"}},
    {CONNECTOR "    rules: [no-such-rule-file.lua]\n",
     {"config.yaml:3:13: connectors.profiletometrics.rules[0]: cannot read rule file no-such-rule-file.lua: No such "
      "file or directory"}},
    {"connectors:\n  profiletometric:\n",
     {"config.yaml:2:3: connectors.profiletometric: unknown connector type \"profiletometric\" (did you mean "
      "profiletometrics?)"}},
    {"connectors:\n  spanmetrics:\n",
     {"config.yaml:2:3: connectors.spanmetrics: unknown connector type \"spanmetrics\" (supported: "
      "profiletometrics)"}},
    {"connectors:\n  profiletometrics/:\n",
     {"config.yaml:2:3: connectors.profiletometrics/: \"profiletometrics/\" is not a valid connector id (TYPE or "
      "TYPE/NAME; TYPE is a letter then letters, digits or _)"}},
    {"pipelines:\n  x: 1\n", {"config.yaml:1:1: pipelines: unknown key (pipelines go under service:)"}},
    {"conectors:\n", {"config.yaml:1:1: conectors: unknown key (did you mean connectors?)"}},
    {"metrics:\n  cpu: {}\n",
     {"config.yaml:1:1: metrics: unknown key (connector keys go under connectors: profiletometrics:)"}},
    {"- a\n", {"config.yaml:1:1: expected a map with receivers, connectors, exporters and service, got a list"}},
};

static void test_connector_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof connector_cases / sizeof connector_cases[0]; i++)
        expect_errors(&connector_cases[i]);
}

#define OTLP_RECEIVER "receivers:\n  otlp:\n    protocols:\n"

static const struct bad_case component_cases[] = {
    {OTLP_RECEIVER "      grpc:\n        endpoint: 4317\n",
     {"config.yaml:5:19: receivers.otlp.protocols.grpc.endpoint: expected host:port such as 0.0.0.0:4317, got "
      "\"4317\""}},
    {"receivers:\n  jaeger:\n",
     {"config.yaml:2:3: receivers.jaeger: unknown receiver type \"jaeger\" (supported: otlp, pyroscope)"}},
    {"receivers:\n  otlp:\n",
     {"config.yaml:2:3: receivers.otlp.protocols: missing required value (give protocols.grpc, protocols.http or "
      "both)"}},
    {"receivers:\n  otlp:\n    protocols: {}\n",
     {"config.yaml:3:5: receivers.otlp.protocols: give grpc, http or both"}},
    {OTLP_RECEIVER "      grpc:\n        auth: {authenticator: bearertokenauth}\n",
     {"config.yaml:5:31: receivers.otlp.protocols.grpc.auth.authenticator: extension \"bearertokenauth\" is not "
      "defined under extensions"}},
    {OTLP_RECEIVER "      http:\n        auth: {authenticator: health_check}\nextensions:\n  health_check:\n",
     {"config.yaml:5:31: receivers.otlp.protocols.http.auth.authenticator: extension \"health_check\" is not an "
      "authenticator: the one supported is bearertokenauth"}},
    {"receivers:\n  pyroscope:\n    auth: {authenticator: bearertokenauth}\n"
     "extensions:\n  bearertokenauth: {token: s3cret}\n",
     {"config.yaml:3:27: receivers.pyroscope.auth.authenticator: extension \"bearertokenauth\" is not enabled: add "
      "it to service.extensions"}},
    {OTLP_RECEIVER "      grpc:\n        auth: {}\n",
     {"config.yaml:5:9: receivers.otlp.protocols.grpc.auth.authenticator: missing required value"}},
    {OTLP_RECEIVER "      grpc:\n        auth: {authenticator: a, request_params: [token]}\n",
     {"config.yaml:5:31: receivers.otlp.protocols.grpc.auth.authenticator: extension \"a\" is not defined under "
      "extensions",
      "config.yaml:5:34: receivers.otlp.protocols.grpc.auth.request_params: unknown key (expected one of: "
      "authenticator)"}},
    {"extensions:\n  bearertokenauth:\n    scheme: Bearer\n",
     {"config.yaml:2:3: extensions.bearertokenauth: give token, tokens or filename"}},
    {"extensions:\n  bearertokenauth:\n    token: s3cret\n    tokens: [s3cret2]\n",
     {"config.yaml:4:5: extensions.bearertokenauth.tokens: give token or tokens, not both"}},
    {"extensions:\n  bearertokenauth:\n    token: \"\"\n    header: \"X Auth\"\n",
     {"config.yaml:3:12: extensions.bearertokenauth.token: must not be empty",
      "config.yaml:4:13: extensions.bearertokenauth.header: \"X Auth\" is not an HTTP header name"}},
    {"extensions:\n  oidc:\n",
     {"config.yaml:2:3: extensions.oidc: unknown extension type \"oidc\" (the authenticator supported is "
      "bearertokenauth)"}},
    {OTLP_RECEIVER "      http:\n        tls: {cert_file: a, key_file: b, min_version: \"1.3\", max_version: \"1.2\"}\n",
     {"config.yaml:5:75: receivers.otlp.protocols.http.tls.max_version: must not be below min_version (1.3)"}},
    {OTLP_RECEIVER "      grpc:\n        tls: {cert_file: a, key_file: b, min_version: \"1.4\"}\n",
     {"config.yaml:5:55: receivers.otlp.protocols.grpc.tls.min_version: expected one of 1.0, 1.1, 1.2, 1.3, got "
      "\"1.4\" (did you mean 1.0?)"}},
    {OTLP_RECEIVER "      grpc:\n        tls: {cert_file: a, key_file: b, cipher_suites: [X]}\n",
     {"config.yaml:5:42: receivers.otlp.protocols.grpc.tls.cipher_suites: unknown key (not supported: the TLS "
      "library's default cipher suites are used)"}},
    {OTLP_RECEIVER "      http:\n        max_connections: 0\n        read_timeout: -1s\n",
     {"config.yaml:5:26: receivers.otlp.protocols.http.max_connections: must be from 1 to 1000000, got 0",
      "config.yaml:6:23: receivers.otlp.protocols.http.read_timeout: expected a duration such as 5s, 250ms or "
      "1m30s, got \"-1s\""}},
    {OTLP_RECEIVER "      grpc:\n        max_recv_msg_size_mib: 0\n",
     {"config.yaml:5:32: receivers.otlp.protocols.grpc.max_recv_msg_size_mib: must be from 1 to 4096, got 0"}},
    {OTLP_RECEIVER "      http:\n        tls:\n          cert_file: a.crt\n",
     {"config.yaml:5:9: receivers.otlp.protocols.http.tls.key_file: missing required value (a TLS server needs "
      "cert_file and key_file)"}},
    {OTLP_RECEIVER "      http:\n        profiles_url_path: v1/profiles\n",
     {"config.yaml:5:28: receivers.otlp.protocols.http.profiles_url_path: must start with /, got \"v1/profiles\""}},
    {OTLP_RECEIVER "      http:\n        max_request_body_size: 1GB x\n",
     {"config.yaml:5:32: receivers.otlp.protocols.http.max_request_body_size: expected a size such as 64MiB or "
      "1048576, got \"1GB x\" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"}},
    {"processors:\n  memory_limiter:\n    limit_mib: 100\n    spike_limit_mib: 200\n",
     {"config.yaml:2:3: processors.memory_limiter.check_interval: missing required value (a duration greater than "
      "zero, such as 1s)",
      "config.yaml:4:22: processors.memory_limiter.spike_limit_mib: must be smaller than limit_mib"}},
    {"processors:\n  memory_limiter:\n    check_interval: 1s\n",
     {"config.yaml:2:3: processors.memory_limiter: give limit_mib or limit_percentage (greater than zero)"}},
    {"processors:\n  memory_limiter:\n    check_interval: 0s\n    limit_percentage: 80\n"
     "    spike_limit_percentage: 90\n",
     {"config.yaml:3:21: processors.memory_limiter.check_interval: must be greater than zero",
      "config.yaml:5:29: processors.memory_limiter.spike_limit_percentage: must be smaller than limit_percentage"}},
    {"processors:\n  batch:\n    send_batch_size: 100\n    send_batch_max_size: 10\n",
     {"config.yaml:4:26: processors.batch.send_batch_max_size: must be 0 or at least send_batch_size (100)"}},
    {"processors:\n  k8sattributes:\n",
     {"config.yaml:2:3: processors.k8sattributes: unknown processor type \"k8sattributes\" (supported: batch, "
      "memory_limiter)"}},
    {"exporters:\n  otlp:\n    compression: zstd\n",
     {"config.yaml:2:3: exporters.otlp.endpoint: missing required value",
      "config.yaml:3:18: exporters.otlp.compression: zstd compression is not supported by profiletometrics; use gzip "
      "or none"}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    compression: brotli\n",
     {"config.yaml:4:18: exporters.otlp.compression: expected one of gzip, none, got \"brotli\""}},
    {"exporters:\n  logging:\n",
     {"config.yaml:2:3: exporters.logging: unknown exporter type \"logging\" (the Collector removed the logging "
      "exporter; use debug)"}},
    {"exporters:\n  otlp_http:\n",
     {"config.yaml:2:3: exporters.otlp_http: unknown exporter type \"otlp_http\" (did you mean otlphttp?)"}},
    {"exporters:\n  otlphttp:\n    endpoint: otlp.example:4318\n",
     {"config.yaml:3:15: exporters.otlphttp.endpoint: expected a URL starting with http:// or https://, got "
      "\"otlp.example:4318\""}},
    {"exporters:\n  otlphttp:\n    encoding: json\n",
     {"config.yaml:2:3: exporters.otlphttp.endpoint: missing required value (or metrics_endpoint)"}},
    {"exporters:\n  otlphttp:\n    endpoint: http://a\n    encoding: xml\n",
     {"config.yaml:4:15: exporters.otlphttp.encoding: expected one of proto, json, got \"xml\""}},
    {"exporters:\n  file:\n    format: json\n", {"config.yaml:2:3: exporters.file.path: missing required value"}},
    {"exporters:\n  debug:\n    verbosity: verbose\n",
     {"config.yaml:3:16: exporters.debug.verbosity: expected one of basic, normal, detailed, got \"verbose\""}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    tls:\n      cert_file: c\n",
     {"config.yaml:4:5: exporters.otlp.tls.key_file: missing required value (a client certificate needs cert_file "
      "and key_file)"}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    retry_on_failure:\n      randomization_factor: 2\n",
     {"config.yaml:5:29: exporters.otlp.retry_on_failure.randomization_factor: must be from 0 to 1, got 2"}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    headers: [a]\n",
     {"config.yaml:4:14: exporters.otlp.headers: expected a map of strings, got a list"}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    sending_queue:\n      storage: file_storage\n",
     {"config.yaml:5:16: exporters.otlp.sending_queue.storage: extension \"file_storage\" is not defined under "
      "extensions"}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    sending_queue:\n      storage: file_storage\n"
     "extensions:\n  file_storage:\n",
     {"config.yaml:5:16: exporters.otlp.sending_queue.storage: extension \"file_storage\" is not enabled: add it to "
      "service.extensions"}},
    {"exporters:\n  otlp:\n    endpoint: a:1\n    sending_queue:\n      storage: health_check\n"
     "extensions:\n  health_check:\n",
     {"config.yaml:5:16: exporters.otlp.sending_queue.storage: extension \"health_check\" is not a file_storage "
      "extension"}},
    {"extensions:\n  healthcheck:\n",
     {"config.yaml:2:3: extensions.healthcheck: unknown extension type \"healthcheck\" (did you mean "
      "health_check?)"}},
};

static void test_component_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof component_cases / sizeof component_cases[0]; i++)
        expect_errors(&component_cases[i]);
}

// Lines 1-10; pipelines start on line 11 at column 5.
#define SERVICE_BASE                                                                    \
    "receivers:\n  otlp:\n    protocols:\n      grpc:\n" CONNECTOR "exporters:\n  debug:\n" \
    "service:\n  pipelines:\n"
#define METRICS_PIPELINE "    metrics:\n      receivers: [profiletometrics]\n      exporters: [debug]\n"

static const struct bad_case service_cases[] = {
    {SERVICE_BASE "    profiles:\n      receivers: [otlp, otlp/2]\n      exporters: [profiletometrics]\n"
                  METRICS_PIPELINE,
     {"config.yaml:12:25: service.pipelines.profiles.receivers[1]: \"otlp/2\" is not defined under receivers or "
      "connectors"}},
    {SERVICE_BASE "    profiles:\n      receivers: [otlp]\n      processors: [batch]\n"
                  "      exporters: [profiletometrics]\n" METRICS_PIPELINE,
     {"config.yaml:13:20: service.pipelines.profiles.processors[0]: \"batch\" is not defined under processors"}},
    {SERVICE_BASE "    profiles:\n      receivers: [otlp]\n      exporters: [debug]\n",
     {"config.yaml:13:19: service.pipelines.profiles.exporters[0]: exporter \"debug\" cannot take profiles: a "
      "profiles pipeline exports to a profiletometrics connector"}},
    {SERVICE_BASE "    profiles:\n      receivers: [otlp]\n      exporters: [profiletometrics, prom]\n"
                  METRICS_PIPELINE,
     {"config.yaml:13:37: service.pipelines.profiles.exporters[1]: \"prom\" is not defined under exporters or "
      "connectors"}},
    {SERVICE_BASE "    metrics:\n      receivers: [otlp]\n      exporters: [debug]\n",
     {"config.yaml:12:19: service.pipelines.metrics.receivers[0]: receiver \"otlp\" in a metrics pipeline: "
      "profiletometrics takes in profiles only; a metrics pipeline receives from a profiletometrics connector"}},
    {SERVICE_BASE "    profiles:\n      receivers: [profiletometrics]\n      exporters: [profiletometrics]\n",
     {"config.yaml:12:19: service.pipelines.profiles.receivers[0]: connector \"profiletometrics\" makes metrics: it "
      "is a receiver of a metrics pipeline, not of a profiles pipeline"}},
    {SERVICE_BASE "    metrics:\n      receivers: [profiletometrics]\n      exporters: [profiletometrics]\n",
     {"config.yaml:13:19: service.pipelines.metrics.exporters[0]: connector \"profiletometrics\" takes profiles: it "
      "is an exporter of a profiles pipeline, not of a metrics pipeline"}},
    {SERVICE_BASE "    profiles:\n      receivers: [otlp]\n      exporters: [profiletometrics]\n",
     {"config.yaml:6:3: connectors.profiletometrics: a profiles pipeline exports to it but no metrics pipeline "
      "receives from it: add a pipeline metrics: {receivers: [profiletometrics], exporters: [...]}"}},
    {SERVICE_BASE METRICS_PIPELINE,
     {"config.yaml:6:3: connectors.profiletometrics: a metrics pipeline receives from it but no profiles pipeline "
      "exports to it: add a pipeline profiles: {receivers: [otlp], exporters: [profiletometrics]}"}},
    {SERVICE_BASE "    profiles:\n      receivers: [otlp]\n      exporters: [profiletometrics]\n"
                  "    metrics:\n      receivers: [profiletometrics]\n      exporters: [debug, debug]\n",
     {"config.yaml:16:26: service.pipelines.metrics.exporters[1]: \"debug\" is listed twice"}},
    {SERVICE_BASE "    profiles:\n      exporters: [profiletometrics]\n" METRICS_PIPELINE,
     {"config.yaml:11:5: service.pipelines.profiles.receivers: missing required value (a pipeline needs at least "
      "one receiver)"}},
    {SERVICE_BASE "    profile:\n      receivers: [otlp]\n",
     {"config.yaml:11:5: service.pipelines.profile: unknown pipeline type \"profile\" (did you mean profiles?)"}},
    {SERVICE_BASE "    profiles:\n      receivers: [otlp]\n      exporters: [profiletometrics]\n" METRICS_PIPELINE
                  "      connectors: [profiletometrics]\n",
     {"config.yaml:17:7: service.pipelines.metrics.connectors: unknown key (a connector is listed under exporters "
      "of the pipeline that feeds it and under receivers of the pipeline it feeds)"}},
    {"extensions:\n  pprof:\nservice:\n  extensions: [pprof, zpages]\n  pipelines:\n",
     {"config.yaml:4:23: service.extensions[1]: \"zpages\" is not defined under extensions",
      "config.yaml:5:13: service.pipelines: service needs at least one pipeline"}},
    {"service:\n  telemetry:\n    logs:\n      level: verbose\n",
     {"config.yaml:1:1: service.pipelines: missing required value (service needs at least one pipeline)",
      "config.yaml:4:14: service.telemetry.logs.level: expected one of debug, info, warn, error, got \"verbose\""}},
    {"service:\n  pipeline: {}\n",
     {"config.yaml:1:1: service.pipelines: missing required value (service needs at least one pipeline)",
      "config.yaml:2:3: service.pipeline: unknown key (did you mean pipelines?)"}},
};

static void test_service_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof service_cases / sizeof service_cases[0]; i++)
        expect_errors(&service_cases[i]);
}

static const struct bad_case yaml_cases[] = {
    {"connectors:\n  profiletometrics:\nconnectors:\n",
     {"config.yaml:3:1: connectors: duplicate key (first defined at line 1, column 1)"}},
    {CONNECTOR "    series_limit: 1\n    series_limit: 2\n",
     {"config.yaml:4:5: connectors.profiletometrics.series_limit: duplicate key (first defined at line 3, column "
      "5)"}},
    {"connectors:\n---\nexporters:\n",
     {"config.yaml:2:1: a second YAML document: a configuration file holds exactly one"}},
    {"connectors:\n\tprofiletometrics:\n",
     {"config.yaml:2:1: invalid YAML: found character that cannot start any token while scanning for the next token "
      "at line 2, column 1 (tabs cannot indent YAML: use spaces)"}},
    {"connectors:\n  profiletometrics: [\n",
     {"config.yaml:3:1: invalid YAML: did not find expected node content while parsing a flow node at line 3, "
      "column 1"}},
    {"connectors: *nothing\n",
     {"config.yaml:1:13: connectors: alias *nothing refers to no anchor &nothing defined before it"}},
    {"? [a]\n: x\n", {"config.yaml:1:3: a map key must be text, not a list"}},
    {CONNECTOR "    temporality: !custom delta\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: unsupported YAML tag !custom"}},
    {CONNECTOR "    temporality: ${env:}\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: ${env:}: invalid environment variable name \"\" "
      "(must match [A-Za-z_][A-Za-z0-9_]*)"}},
    {CONNECTOR "    temporality: ${file:/etc/t}\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: ${file:/etc/t}: the config provider \"file\" is "
      "not supported (only ${env:NAME})"}},
    {CONNECTOR "    temporality: ${env:T\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: \"${env:T\": unterminated ${ (missing })"}},
    {CONNECTOR "    temporality: ${env:A${env:B}}\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: \"${env:A${env:B}\": a ${...} reference inside "
      "another is not supported"}},
    {CONNECTOR "    temporality: ${env:1X}\n",
     {"config.yaml:3:18: connectors.profiletometrics.temporality: ${env:1X}: invalid environment variable name "
      "\"1X\" (must match [A-Za-z_][A-Za-z0-9_]*)"}},
};

static void test_yaml_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof yaml_cases / sizeof yaml_cases[0]; i++)
        expect_errors(&yaml_cases[i]);
}

// All errors of a file are reported, sorted by position; err holds the
// first and the count of the others.
static void test_all_errors_reported(void **state)
{
    (void)state;
    static const char text[] = CONNECTOR "    series_limit: 0\n    temporality: x\n"
                                         "exporters:\n  otlp:\n    timeout: 5\n";
    struct ptm_config_report report = {0};
    struct ptm_error err = {0};
    assert_null(ptm_config_load_string_report(text, "config.yaml", &report, &err));
    assert_int_equal(report.errors.count, 4);
    assert_int_equal(report.errors.items[0].line, 3);
    assert_int_equal(report.errors.items[0].column, 19);
    assert_string_equal(report.errors.items[0].path, "connectors.profiletometrics.series_limit");
    assert_string_equal(report.errors.items[0].message, "must be from 1 to 100000000, got 0");
    assert_int_equal(report.errors.items[1].line, 4);
    assert_string_equal(report.errors.items[2].text,
                        "config.yaml:6:3: exporters.otlp.endpoint: missing required value");
    assert_string_equal(report.errors.items[3].text,
                        "config.yaml:7:14: exporters.otlp.timeout: expected a duration such as 5s, 250ms or 1m30s, "
                        "got \"5\" (add a unit: ns, us, ms, s, m or h)");
    assert_int_equal(err.code, PTM_ECONFIG);
    assert_string_equal(err.message, "config.yaml:3:19: connectors.profiletometrics.series_limit: must be from 1 "
                                     "to 100000000, got 0 (and 3 more errors)");
    ptm_config_report_fini(&report);

    // The short form without a report gives the same first error.
    assert_null(ptm_config_load_string(text, "config.yaml", &err));
    assert_string_equal(err.message, "config.yaml:3:19: connectors.profiletometrics.series_limit: must be from 1 "
                                     "to 100000000, got 0 (and 3 more errors)");

    assert_null(ptm_config_load_file("/nonexistent/ptm-config.yaml", &err));
    assert_int_equal(err.code, PTM_EIO);
    assert_string_equal(err.message, "/nonexistent/ptm-config.yaml: cannot open: No such file or directory");
}

// ---- warnings ----

static void test_quick_start_warning(void **state)
{
    (void)state;
    // The Go README's "Configuration Example", verbatim.
    static const char text[] = "receivers:\n"
                               "  otlp:\n"
                               "    protocols:\n"
                               "      grpc:\n"
                               "        endpoint: 0.0.0.0:4317\n"
                               "\n"
                               "connectors:\n"
                               "  profiletometrics:\n"
                               "    metrics:\n"
                               "      cpu:\n"
                               "        enabled: true\n"
                               "        metric_name: \"cpu_time\"\n"
                               "      memory:\n"
                               "        enabled: true\n"
                               "        metric_name: \"memory_allocation\"\n"
                               "    attributes:\n"
                               "      - key: \"service.name\"\n"
                               "        value: \"my-service\"\n"
                               "    process_filter:\n"
                               "      enabled: true\n"
                               "      pattern: \"my-app.*\"\n"
                               "\n"
                               "exporters:\n"
                               "  debug:\n"
                               "    verbosity: detailed\n"
                               "  otlp:\n"
                               "    endpoint: \"http://observability-platform:4317\"\n"
                               "\n"
                               "service:\n"
                               "  pipelines:\n"
                               "    traces:\n"
                               "      receivers: [otlp]\n"
                               "      connectors: [profiletometrics]\n"
                               "    metrics:\n"
                               "      receivers: [profiletometrics]\n"
                               "      exporters: [debug, otlp]\n";
    static const char *const warnings[] = {
        "config.yaml:33:7: service.pipelines.traces.connectors: `connectors` is not a Collector pipeline key (the Go "
        "connector README's quick start); read as the exporters of a profiles pipeline. Write instead: profiles: "
        "{receivers: [otlp], exporters: [profiletometrics]} and metrics: {receivers: [profiletometrics], exporters: "
        "[debug, otlp]}",
        NULL,
    };
    struct ptm_config *c = load_ok(text, warnings);
    const struct ptm_service_config *s = &c->service;
    assert_int_equal(s->pipeline_count, 2);
    assert_string_equal(s->pipelines[0].id, "traces");
    assert_int_equal(s->pipelines[0].signal, PTM_SIGNAL_PROFILES);
    assert_int_equal(s->pipelines[0].exporter_count, 1);
    assert_string_equal(s->pipelines[0].exporters[0], "profiletometrics");
    assert_int_equal(s->pipelines[1].signal, PTM_SIGNAL_METRICS);
    const struct ptm_connector_config *k = &c->connectors[0];
    assert_int_equal(k->attribute_count, 1);
    assert_int_equal(k->attributes[0].type, PTM_ATTRIBUTE_LITERAL);
    assert_string_equal(k->attributes[0].value, "my-service");
    assert_true(k->process_filter.enabled);
    assert_string_equal(k->process_filter.patterns[0], "my-app.*");
    const struct ptm_exporter_config *otlp = ptm_config_find_exporter(c, "otlp");
    assert_string_equal(otlp->otlp.endpoint, "http://observability-platform:4317");
    assert_int_equal(ptm_config_find_exporter(c, "debug")->debug.verbosity, PTM_VERBOSITY_DETAILED);
    ptm_config_destroy(c);
}

static void test_other_warnings(void **state)
{
    (void)state;
    // `patterns: "a,b"` splits at commas, as the Collector's decoder does.
    static const char *const split[] = {
        "config.yaml:5:17: connectors.profiletometrics.process_filter.patterns: \"^a,^b\" was split at commas into 2 "
        "patterns, as the Collector does; write a YAML list if a pattern contains a comma",
        "config.yaml:6:7: connectors.profiletometrics.process_filter.pattern: ignored because patterns is set (as in "
        "the Go connector)",
        NULL,
    };
    struct ptm_config *c =
        load_ok(CONNECTOR "    process_filter:\n      enabled: true\n      patterns: \"^a,^b\"\n      pattern: x\n",
                split);
    const struct ptm_filter_config *f = &c->connectors[0].process_filter;
    assert_int_equal(f->pattern_count, 2);
    assert_string_equal(f->patterns[0], "^a");
    assert_string_equal(f->patterns[1], "^b");
    ptm_config_destroy(c);

    // A traces pipeline that exports to the connector is read as profiles;
    // other traces and logs pipelines are ignored.
    static const char *const traces[] = {
        "config.yaml:11:5: service.pipelines.traces: profiletometrics takes profiles, not traces; read as a profiles "
        "pipeline. Write instead: profiles: {receivers: [otlp], exporters: [profiletometrics]} and metrics: "
        "{receivers: [profiletometrics], exporters: [debug]}",
        "config.yaml:14:5: service.pipelines.logs: ignored: profiletometrics handles profiles and metrics pipelines "
        "only",
        NULL,
    };
    c = load_ok(SERVICE_BASE "    traces:\n      receivers: [otlp]\n      exporters: [profiletometrics]\n"
                             "    logs:\n      receivers: [otlp]\n      exporters: [debug]\n" METRICS_PIPELINE,
                traces);
    assert_int_equal(c->service.pipelines[0].signal, PTM_SIGNAL_PROFILES);
    assert_int_equal(c->service.pipelines[1].signal, PTM_SIGNAL_LOGS);
    ptm_config_destroy(c);

    static const char *const misc[] = {
        "config.yaml:5:9: connectors.profiletometrics.metrics.function.enabled: has no effect while metrics.cpu and "
        "metrics.memory are disabled: function series are series of those metrics",
        "config.yaml:9:22: connectors.profiletometrics.metrics.off_cpu.metric_name: environment variable "
        "PTM_TEST_SURELY_UNSET is not set; using an empty value",
        "config.yaml:14:41: receivers.otlp.protocols.grpc.keepalive.server_parameters.time: accepted for "
        "compatibility with the Collector and ignored",
        "config.yaml:14:52: receivers.otlp.protocols.grpc.keepalive.enforcement_policy: accepted for compatibility "
        "with the Collector and ignored",
        NULL,
    };
    unsetenv("PTM_TEST_SURELY_UNSET");
    c = load_ok(CONNECTOR "    metrics:\n      function:\n        enabled: true\n"
                          "      cpu: {enabled: false}\n      memory: {enabled: false}\n"
                          "      off_cpu:\n        metric_name: off${env:PTM_TEST_SURELY_UNSET}\n"
                          "receivers:\n  otlp:\n    protocols:\n      grpc:\n"
                          "        keepalive: {server_parameters: {time: 2h}, enforcement_policy: {}}\n",
                misc);
    assert_string_equal(c->connectors[0].metrics.off_cpu.metric_name, "off");
    ptm_config_destroy(c);
    // A token without TLS is sent in clear text; a filename wins over token,
    // as in the Collector.
    static const char *const auth[] = {
        "config.yaml:3:27: receivers.pyroscope.auth.authenticator: the bearer token crosses the network in clear "
        "text: add tls",
        "config.yaml:6:5: extensions.bearertokenauth.token: ignored: the tokens are read from filename",
        NULL,
    };
    c = load_ok("receivers:\n  pyroscope:\n    auth: {authenticator: bearertokenauth}\n"
                "extensions:\n  bearertokenauth:\n    token: s3cret\n    filename: /run/token\n"
                "service:\n  extensions: [bearertokenauth]\n  pipelines:\n    profiles:\n"
                "      receivers: [pyroscope]\n      exporters: [profiletometrics]\n"
                "    metrics:\n      receivers: [profiletometrics]\n      exporters: [debug]\n"
                "exporters:\n  debug:\n" CONNECTOR,
                auth);
    const struct ptm_extension_config *x = ptm_config_find_extension(c, "bearertokenauth");
    assert_string_equal(x->bearer.filename, "/run/token");
    ptm_config_destroy(c);
}

// ---- env expansion ----

static const char *fake_env(const char *name, void *user)
{
    (void)user;
    if (strcmp(name, "HOST") == 0)
        return "collector";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "DOLLAR") == 0)
        return "${HOST}";
    return NULL;
}

static int unset_calls;
static void count_unset(void *user, const char *name)
{
    (void)user;
    (void)name;
    unset_calls++;
}

static void test_env_expansion(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int unset;
    } cases[] = {
        {"no dollar", "no dollar", 0},
        {"${env:HOST}:4317", "collector:4317", 0},
        {"${HOST}", "collector", 0},
        {"x${env:NOPE}y", "xy", 1},
        {"${env:NOPE:-fallback}", "fallback", 0},
        {"${env:EMPTY:-fallback}", "fallback", 0},
        {"${env:HOST:-fallback}", "collector", 0},
        {"${NOPE:-a:b}", "a:b", 0},
        {"$${env:HOST}", "${env:HOST}", 0},
        {"$$", "$", 0},
        {"a$b$", "a$b$", 0},
        {"$HOST", "$HOST", 0},
        {"${env:DOLLAR}", "${HOST}", 0}, // values are not expanded again
        {"${env:EMPTY}", "", 0},
    };
    struct ptm_yaml_options options = {.getenv = fake_env};
    struct ptm_arena *arena = NULL;
    struct ptm_config_diagnostics errors = {0}, warnings = {0};
    // A document gives us an arena to expand into.
    struct ptm_yaml_document *doc = ptm_yaml_load_string("a: 1\n", 5, "t.yaml", NULL, &errors, &warnings, NULL);
    assert_non_null(doc);
    arena = doc->arena;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *out;
        size_t len;
        char problem[256];
        unset_calls = 0;
        int rc = ptm_yaml_expand_env(arena, cases[i].in, strlen(cases[i].in), &options, count_unset, NULL, &out, &len,
                                     problem, sizeof problem);
        assert_int_equal(rc, 0);
        assert_string_equal(out, cases[i].out);
        assert_int_equal(len, strlen(cases[i].out));
        assert_int_equal(unset_calls, cases[i].unset);
    }
    ptm_yaml_destroy(doc);

    // Through a whole load, with the process environment; a quoted value
    // stays a string, a plain one is typed after expansion.
    setenv("PTM_TEST_ENABLED", "false", 1);
    setenv("PTM_TEST_LIMIT", "7", 1);
    struct ptm_config *c = load_ok(CONNECTOR "    metrics:\n      cpu:\n        enabled: ${env:PTM_TEST_ENABLED}\n"
                                             "        metric_name: \"${PTM_TEST_NOT_SET:-cpu_seconds}\"\n"
                                             "    series_limit: ${env:PTM_TEST_LIMIT}\n",
                                   NULL);
    assert_false(c->connectors[0].metrics.cpu.enabled);
    assert_string_equal(c->connectors[0].metrics.cpu.metric_name, "cpu_seconds");
    assert_int_equal(c->connectors[0].series_limit, 7);
    ptm_config_destroy(c);
    unsetenv("PTM_TEST_ENABLED");
    unsetenv("PTM_TEST_LIMIT");
}

// ---- sizes and durations ----

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t bytes;
    } ok[] = {
        {"0", 0},
        {"1048576", 1048576},
        {"64MiB", 64ULL << 20},
        {"64 MiB", 64ULL << 20},
        {"64mib", 64ULL << 20},
        {"1KB", 1000},
        {"1kib", 1024},
        {"1.5KiB", 1536},
        {"2GiB", 2ULL << 30},
        {"3G", 3000000000ULL},
        {"1TiB", 1ULL << 40},
        {"10B", 10},
        {"0.5Mi", 512 * 1024},
        {"18446744073709551615", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        char problem[256];
        assert_int_equal(cfg_parse_size(ok[i].text, &v, problem, sizeof problem), 0);
        assert_int_equal(v, ok[i].bytes);
    }
    static const char *const bad[] = {"", "MiB", "-1", "1 2", "1XB", "1MiB ", "99999999999TiB", "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        char problem[256];
        assert_int_equal(cfg_parse_size(bad[i], &v, problem, sizeof problem), -1);
    }
    char problem[256];
    uint64_t v;
    cfg_parse_size("99999999999TiB", &v, problem, sizeof problem);
    assert_string_equal(problem, "size \"99999999999TiB\" is too large");
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t ns;
    } ok[] = {
        {"0", 0},
        {"5s", 5 * SEC},
        {"250ms", 250 * MS},
        {"1m30s", 90 * SEC},
        {"1h", 3600 * SEC},
        {"1.5h", 5400 * SEC},
        {"2h45m10.5s", (2 * 3600 + 45 * 60 + 10) * SEC + 500 * MS},
        {"10us", 10000},
        {"10\xc2\xb5s", 10000},
        {"7ns", 7},
        {".5s", 500 * MS},
        {"0s", 0},
        {"1m0.001s", 60 * SEC + MS},
        {"2562047h", 2562047ULL * 3600 * SEC},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        char problem[256];
        if (cfg_parse_duration(ok[i].text, &v, problem, sizeof problem) != 0)
            print_error("%s: %s\n", ok[i].text, problem);
        assert_int_equal(cfg_parse_duration(ok[i].text, &v, problem, sizeof problem), 0);
        assert_int_equal(v, ok[i].ns);
    }
    static const char *const bad[] = {"", "5", "s", "-5s", "5 s", "5sec", "1d", "5s3", "2562048h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        char problem[256];
        assert_int_equal(cfg_parse_duration(bad[i], &v, problem, sizeof problem), -1);
    }
    char problem[256];
    uint64_t v;
    cfg_parse_duration("2562048h", &v, problem, sizeof problem);
    assert_string_equal(problem, "duration \"2562048h\" is too long");
}

static void test_suggestions(void **state)
{
    (void)state;
    static const char *const keys[] = {"enabled", "metric_name", "unit", "description", NULL};
    assert_string_equal(walk_suggest("enable", keys), "enabled");
    assert_string_equal(walk_suggest("Enabled", keys), "enabled");
    assert_string_equal(walk_suggest("metricname", keys), "metric_name");
    assert_string_equal(walk_suggest("descripton", keys), "description");
    assert_string_equal(walk_suggest("units", keys), "unit");
    assert_null(walk_suggest("name", keys));
    assert_null(walk_suggest("colour", keys));
    assert_null(walk_suggest("x", keys));
}

// ---- the YAML tree ----

static struct ptm_yaml_document *parse(const char *text, const struct ptm_yaml_options *options,
                                       struct ptm_config_diagnostics *errors)
{
    struct ptm_config_diagnostics warnings = {0};
    struct ptm_yaml_document *doc =
        ptm_yaml_load_string(text, strlen(text), "t.yaml", options, errors, &warnings, NULL);
    ptm_config_diagnostics_fini(&warnings);
    return doc;
}

static void test_yaml_tree(void **state)
{
    (void)state;
    static const char text[] = "a: true\n"
                               "b: \"true\"\n"
                               "c: 'x'\n"
                               "d:\n"
                               "  - 1\n"
                               "  - ~\n"
                               "  -\n"
                               "e: |\n"
                               "  line\n"
                               "f: {g: [1, 2]}\n"
                               "h: !!str 12\n";
    struct ptm_config_diagnostics errors = {0};
    struct ptm_yaml_document *doc = parse(text, NULL, &errors);
    assert_non_null(doc);
    assert_int_equal(errors.count, 0);
    const struct ptm_yaml_node *root = doc->root;
    assert_int_equal(root->kind, PTM_YAML_MAP);
    assert_int_equal(root->pair_count, 7);
    const struct ptm_yaml_node *a = ptm_yaml_map_get(root, "a");
    assert_int_equal(a->style, PTM_YAML_PLAIN);
    assert_false(a->is_string);
    assert_string_equal(ptm_yaml_describe(a), "bool");
    const struct ptm_yaml_node *b = ptm_yaml_map_get(root, "b");
    assert_int_equal(b->style, PTM_YAML_DOUBLE_QUOTED);
    assert_true(b->is_string);
    assert_string_equal(b->value, "true");
    assert_int_equal(b->line, 2);
    assert_int_equal(b->column, 4);
    assert_int_equal(ptm_yaml_map_get(root, "c")->style, PTM_YAML_SINGLE_QUOTED);
    const struct ptm_yaml_node *d = ptm_yaml_map_get(root, "d");
    assert_int_equal(d->kind, PTM_YAML_SEQUENCE);
    assert_int_equal(d->item_count, 3);
    assert_int_equal(d->items[0]->line, 5);
    assert_int_equal(d->items[0]->column, 5);
    assert_string_equal(ptm_yaml_describe(d->items[0]), "number");
    assert_true(d->items[1]->is_null);
    assert_true(d->items[2]->is_null);
    const struct ptm_yaml_node *e = ptm_yaml_map_get(root, "e");
    assert_int_equal(e->style, PTM_YAML_LITERAL);
    assert_string_equal(e->value, "line\n");
    const struct ptm_yaml_node *f = ptm_yaml_map_get(root, "f");
    assert_int_equal(f->style, PTM_YAML_FLOW);
    assert_int_equal(ptm_yaml_map_get(f, "g")->item_count, 2);
    assert_int_equal(ptm_yaml_map_get(f, "g")->column, 8);
    const struct ptm_yaml_node *h = ptm_yaml_map_get(root, "h");
    assert_true(h->is_string);
    assert_string_equal(h->tag, "tag:yaml.org,2002:str");
    assert_null(ptm_yaml_map_get(root, "z"));
    assert_null(ptm_yaml_map_get(a, "x"));
    ptm_yaml_destroy(doc);
    ptm_yaml_destroy(NULL);

    doc = parse("# only a comment\n", NULL, &errors);
    assert_non_null(doc);
    assert_null(doc->root);
    ptm_yaml_destroy(doc);
}

static void test_yaml_anchors(void **state)
{
    (void)state;
    static const char text[] = "base: &b {x: 1, y: 2}\n"
                               "more: &m {z: 3}\n"
                               "one: *b\n"
                               "merged:\n"
                               "  <<: [*b, *m]\n"
                               "  y: 20\n";
    struct ptm_config_diagnostics errors = {0};
    struct ptm_yaml_document *doc = parse(text, NULL, &errors);
    assert_non_null(doc);
    assert_int_equal(errors.count, 0);
    const struct ptm_yaml_node *root = doc->root;
    assert_ptr_equal(ptm_yaml_map_get(root, "one"), ptm_yaml_map_get(root, "base"));
    const struct ptm_yaml_node *m = ptm_yaml_map_get(root, "merged");
    // Merged keys take the place of the `<<`, in order; an own key wins over
    // a merged one of the same name.
    assert_int_equal(m->pair_count, 3);
    assert_string_equal(m->pairs[0].key->value, "x");
    assert_string_equal(m->pairs[1].key->value, "z");
    assert_string_equal(m->pairs[2].key->value, "y");
    assert_string_equal(m->pairs[2].value->value, "20");
    assert_int_equal(m->pairs[2].value->line, 6);
    assert_null(ptm_yaml_map_find(m, "<<"));
    ptm_yaml_destroy(doc);

    // A merge of something other than maps is an error.
    doc = parse("a: &s 1\nb:\n  <<: *s\n", NULL, &errors);
    assert_non_null(doc);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].text, "t.yaml:1:4: b: a << merge takes a map or a list of maps, not a number");
    ptm_yaml_destroy(doc);
    ptm_config_diagnostics_fini(&errors);
}

static void test_yaml_limits(void **state)
{
    (void)state;
    struct ptm_config_diagnostics errors = {0};
    // 64 levels of nesting load; 65 do not.
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    struct ptm_yaml_document *doc = parse(deep, NULL, &errors);
    assert_non_null(doc);
    ptm_yaml_destroy(doc);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    assert_null(parse(deep, NULL, &errors));
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].text, "t.yaml:1:65: maps and lists nest deeper than 64 levels");
    ptm_config_diagnostics_fini(&errors);

    // Aliases that expand without bound are stopped.
    static const char bomb[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    struct ptm_error err = {0};
    struct ptm_config_diagnostics warnings = {0};
    assert_null(ptm_yaml_load_string(bomb, strlen(bomb), "t.yaml", NULL, &errors, &warnings, &err));
    assert_int_equal(err.code, PTM_ELIMIT);
    assert_string_equal(err.message, "t.yaml:5:44: the document expands to more than 100000 nodes (through aliases?)");
    ptm_config_diagnostics_fini(&errors);

    // The size limit.
    struct ptm_yaml_options small = {.max_bytes = 8};
    assert_null(ptm_yaml_load_string("a: 123456\n", 10, "t.yaml", &small, &errors, &warnings, &err));
    assert_int_equal(err.code, PTM_ELIMIT);
    assert_string_equal(err.message, "t.yaml: the configuration is 10 bytes, more than the limit of 8");
    ptm_config_diagnostics_fini(&errors);
    ptm_config_diagnostics_fini(&warnings);
}

// ---- files ----

static const char *root_dir(void)
{
    const char *root = getenv("PTM_ROOT");
    return root != NULL ? root : ".";
}

static void test_example_files(void **state)
{
    (void)state;
    static const char *const names[] = {"minimal.yaml", "full.yaml", "connector-quickstart.yaml"};
    static const size_t warning_counts[] = {0, 0, 1};
    for (size_t i = 0; i < 3; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/examples/config/%s", root_dir(), names[i]);
        struct ptm_config_report report = {0};
        struct ptm_error err = {0};
        struct ptm_config *c = ptm_config_load_file_report(path, &report, &err);
        if (c == NULL)
            print_error("%s\n", err.message);
        assert_non_null(c);
        assert_int_equal(report.warnings.count, warning_counts[i]);
        assert_int_equal(c->connector_count, 1);
        if (strcmp(names[i], "full.yaml") == 0) {
            // full.yaml shows every connector key at its default.
            check_connector_defaults(&c->connectors[0]);
            assert_int_equal(c->receiver_count, 2);
            const struct ptm_receiver_config *otlp = ptm_config_find_receiver(c, "otlp");
            check_http_server_defaults(&otlp->otlp.http, "0.0.0.0:4318");
            check_http_server_defaults(&ptm_config_find_receiver(c, "pyroscope")->pyroscope.http, "0.0.0.0:4040");
            check_grpc_server_defaults(&otlp->otlp.grpc);
            assert_int_equal(c->exporter_count, 5);
            assert_int_equal(c->extension_count, 4);
            assert_true(ptm_config_find_extension(c, "health_check")->enabled);
        }
        ptm_config_report_fini(&report);
        ptm_config_destroy(c);
    }
}

// Rule files resolve against the config file's directory.
static void test_rule_paths(void **state)
{
    (void)state;
    const char *tmp = getenv("PTM_TMP");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/ptm-config-test-XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char sub[600], rule[700], config[700];
    snprintf(sub, sizeof sub, "%s/rules", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(rule, sizeof rule, "%s/rules/mine.lua", dir);
    FILE *f = fopen(rule, "w");
    assert_non_null(f);
    fputs("-- a rule\n", f);
    fclose(f);
    snprintf(config, sizeof config, "%s/config.yaml", dir);
    f = fopen(config, "w");
    assert_non_null(f);
    fputs(CONNECTOR "    rules: [rules/mine.lua]\n    metrics: {cpu: {enabled: false}, memory: {enabled: false}, "
                    "off_cpu: {enabled: false}}\n",
          f);
    fclose(f);
    struct ptm_error err = {0};
    struct ptm_config *c = ptm_config_load_file(config, &err);
    assert_non_null(c);
    assert_string_equal(c->directory, dir);
    assert_int_equal(c->connectors[0].rule_count, 1);
    assert_string_equal(c->connectors[0].rules[0].written, "rules/mine.lua");
    assert_string_equal(c->connectors[0].rules[0].path, rule);
    assert_int_equal(c->connectors[0].rules[0].pos.line, 3);
    assert_int_equal(c->connectors[0].rules[0].pos.column, 13);
    ptm_config_destroy(c);
    unlink(config);
    unlink(rule);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_config),
        cmocka_unit_test(test_connector_only_file),
        cmocka_unit_test(test_component_defaults),
        cmocka_unit_test(test_connector_values),
        cmocka_unit_test(test_component_values),
        cmocka_unit_test(test_connector_errors),
        cmocka_unit_test(test_component_errors),
        cmocka_unit_test(test_service_errors),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_quick_start_warning),
        cmocka_unit_test(test_other_warnings),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_suggestions),
        cmocka_unit_test(test_yaml_tree),
        cmocka_unit_test(test_yaml_anchors),
        cmocka_unit_test(test_yaml_limits),
        cmocka_unit_test(test_example_files),
        cmocka_unit_test(test_rule_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
