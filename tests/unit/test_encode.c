// SPDX-License-Identifier: Apache-2.0
//
// The encoders (engine/encode) on a small snapshot: one resource
// {host.name=h1, service.name=svc}; a counter cpu.time (s) {thread=main}
// 1.5; an int gauge mem (By) set to 2048.6, so 2049; a histogram lat (s)
// with bounds 0.5, 1 fed 0.25, 1, 1, 3 (buckets 1, 2, 1; sum 5.25); all over
// the window [T0, T0 + 10.5 s]. The OTLP protobuf is unpacked with
// protobuf-c and checked field by field; OTLP JSON, Prometheus text and the
// table are compared byte for byte with text written out by hand here.
// Also: number printing, Prometheus naming, label escaping, empty
// snapshots, a histogram with negative values (no sum in OTLP), and format
// names.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "encode/encode_internal.h"
#include "encode/prometheus_names.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#define T0 UINT64_C(1700000000000000000)
#define T1 UINT64_C(1700000010500000000)

struct fixture {
    struct ptm_store *store;
    struct ptm_snapshot snap;
    struct ptm_strbuf out;
};

static uint32_t str(struct ptm_store *s, const char *text)
{
    return ptm_store_string(s, text, strlen(text));
}

static uint32_t text_value(struct ptm_store *s, const char *text)
{
    return ptm_store_value(s, PTM_LABEL_STRING, str(s, text), 0, 0);
}

static uint32_t define(struct ptm_store *s, const char *name, const char *description, const char *unit,
                       enum ptm_metric_kind kind, enum ptm_number_type type)
{
    static const double bounds[] = {0.5, 1};
    struct ptm_metric_def def = {name, description, unit, kind, type, bounds, 2, 0};
    struct ptm_error err;
    int id = ptm_store_define(s, &def, &err);
    assert_true(id >= 0);
    return (uint32_t)id;
}

static void fill(struct ptm_store *s)
{
    uint32_t cpu = define(s, "cpu.time", "CPU", "s", PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE);
    uint32_t mem = define(s, "mem", NULL, "By", PTM_METRIC_GAUGE, PTM_NUMBER_INT);
    uint32_t lat = define(s, "lat", "", "s", PTM_METRIC_HISTOGRAM, PTM_NUMBER_DOUBLE);
    uint32_t res[4] = {str(s, "service.name"), text_value(s, "svc"), str(s, "host.name"), text_value(s, "h1")};
    uint32_t r = ptm_store_resource(s, ptm_store_attributes(s, res, 2), 0);
    uint32_t thread[2] = {str(s, "thread"), text_value(s, "main")};
    struct ptm_window w = {T0, T1};
    assert_int_equal(ptm_store_add(s, cpu, r, ptm_store_attributes(s, thread, 1), 1.5, w), 0);
    assert_int_equal(ptm_store_add(s, mem, r, 0, 2048.6, w), 0);
    assert_int_equal(ptm_store_observe(s, lat, r, 0, 0.25, 1, w), 0);
    assert_int_equal(ptm_store_observe(s, lat, r, 0, 1, 2, w), 0);
    assert_int_equal(ptm_store_observe(s, lat, r, 0, 3, 1, w), 0);
}

static int setup_with(void **state, enum ptm_temporality temporality)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct ptm_store_options opts = {temporality, 0};
    f->store = ptm_store_create(&opts);
    fill(f->store);
    if (ptm_store_collect(f->store, T1 + 1000, &f->snap) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, PTM_TEMPORALITY_CUMULATIVE);
}

static int setup_delta(void **state)
{
    return setup_with(state, PTM_TEMPORALITY_DELTA);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ptm_strbuf_free(&f->out);
    ptm_snapshot_free(&f->snap);
    ptm_store_destroy(f->store);
    free(f);
    return 0;
}

// ---- OTLP protobuf ----

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_request;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;

static void assert_string_attribute(const pb_key_value *kv, const char *key, const char *value)
{
    assert_string_equal(kv->key, key);
    assert_int_equal(kv->value->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    assert_string_equal(kv->value->string_value, value);
}

static void check_cpu(const pb_metric *m)
{
    assert_string_equal(m->name, "cpu.time");
    assert_string_equal(m->description, "CPU");
    assert_string_equal(m->unit, "s");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    assert_int_equal(m->sum->aggregation_temporality,
                     OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
    assert_true(m->sum->is_monotonic);
    assert_int_equal(m->sum->n_data_points, 1);
    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = m->sum->data_points[0];
    assert_int_equal(p->n_attributes, 1);
    assert_string_attribute(p->attributes[0], "thread", "main");
    assert_int_equal(p->start_time_unix_nano, T0);
    assert_int_equal(p->time_unix_nano, T1);
    assert_int_equal(p->value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    assert_true(p->as_double == 1.5);
}

static void check_lat(const pb_metric *m)
{
    assert_string_equal(m->name, "lat");
    assert_string_equal(m->description, "");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
    assert_int_equal(m->histogram->aggregation_temporality,
                     OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
    assert_int_equal(m->histogram->n_data_points, 1);
    const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p = m->histogram->data_points[0];
    assert_int_equal(p->n_attributes, 0);
    assert_int_equal(p->start_time_unix_nano, T0);
    assert_int_equal(p->time_unix_nano, T1);
    assert_int_equal(p->count, 4);
    assert_int_equal(p->_sum_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM);
    assert_true(p->sum == 5.25);
    assert_int_equal(p->n_bucket_counts, 3);
    assert_int_equal(p->bucket_counts[0], 1);
    assert_int_equal(p->bucket_counts[1], 2);
    assert_int_equal(p->bucket_counts[2], 1);
    assert_int_equal(p->n_explicit_bounds, 2);
    assert_true(p->explicit_bounds[0] == 0.5 && p->explicit_bounds[1] == 1);
    assert_int_equal(p->_min_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN);
    assert_true(p->min == 0.25);
    assert_int_equal(p->_max_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX);
    assert_true(p->max == 3);
}

static void check_mem(const pb_metric *m)
{
    assert_string_equal(m->name, "mem");
    assert_string_equal(m->unit, "By");
    assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    assert_int_equal(m->gauge->n_data_points, 1);
    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = m->gauge->data_points[0];
    assert_int_equal(p->start_time_unix_nano, T0);
    assert_int_equal(p->time_unix_nano, T1);
    assert_int_equal(p->value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
    assert_int_equal(p->as_int, 2049);
}

static void otlp_protobuf_unpacks_field_by_field(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ptm_encode(&f->snap, PTM_OUTPUT_OTLP, NULL, &f->out), 0);
    pb_request *req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
        NULL, f->out.len, (const uint8_t *)f->out.data);
    assert_non_null(req);
    assert_int_equal(req->n_resource_metrics, 1);
    const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[0];
    assert_int_equal(rm->resource->n_attributes, 2);
    assert_string_attribute(rm->resource->attributes[0], "host.name", "h1");
    assert_string_attribute(rm->resource->attributes[1], "service.name", "svc");
    assert_string_equal(rm->schema_url, "");
    assert_int_equal(rm->n_scope_metrics, 1);
    const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[0];
    assert_string_equal(sm->scope->name, "profiletometrics");
    assert_string_equal(sm->scope->version, PTM_VERSION_STRING);
    assert_int_equal(sm->n_metrics, 3);
    check_cpu(sm->metrics[0]);
    check_lat(sm->metrics[1]);
    check_mem(sm->metrics[2]);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(req, NULL);
}

// A histogram that recorded a negative value has no sum (explicit presence).
static void otlp_histogram_without_sum(void **state)
{
    (void)state;
    struct ptm_store *s = ptm_store_create(NULL);
    uint32_t lat = define(s, "lat", NULL, "s", PTM_METRIC_HISTOGRAM, PTM_NUMBER_DOUBLE);
    uint32_t r = ptm_store_resource(s, 0, 0);
    assert_int_equal(ptm_store_observe(s, lat, r, 0, -2, 1, (struct ptm_window){T0, T1}), 0);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    assert_int_equal(ptm_store_collect(s, T1, &snap), 0);
    assert_int_equal(ptm_encode_otlp(&snap, &out), 0);
    pb_request *req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
        NULL, out.len, (const uint8_t *)out.data);
    assert_non_null(req);
    const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p =
        req->resource_metrics[0]->scope_metrics[0]->metrics[0]->histogram->data_points[0];
    assert_int_equal(p->_sum_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM__NOT_SET);
    assert_true(p->min == -2 && p->max == -2);
    assert_int_equal(req->resource_metrics[0]->resource->n_attributes, 0);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(req, NULL);
    ptm_strbuf_clear(&out);
    assert_int_equal(ptm_encode_otlp_json(&snap, &out), 0);
    assert_string_equal(out.data,
                        "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"scope\":{\"name\":"
                        "\"profiletometrics\",\"version\":\"" PTM_VERSION_STRING "\"},\"metrics\":[{\"name\":"
                        "\"lat\",\"unit\":\"s\",\"histogram\":{\"dataPoints\":[{\"startTimeUnixNano\":"
                        "\"1700000000000000000\",\"timeUnixNano\":\"1700000010500000000\",\"count\":\"1\","
                        "\"bucketCounts\":[\"1\",\"0\",\"0\"],\"explicitBounds\":[0.5,1],\"min\":-2,\"max\":-2}],"
                        "\"aggregationTemporality\":2}}]}]}]}\n");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

// ---- OTLP JSON ----

#define JSON_HEAD                                                                                  \
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"host.name\",\"value\":"     \
    "{\"stringValue\":\"h1\"}},{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]}," \
    "\"scopeMetrics\":[{\"scope\":{\"name\":\"profiletometrics\",\"version\":\"" PTM_VERSION_STRING \
    "\"},\"metrics\":["
#define JSON_TIMES "\"startTimeUnixNano\":\"1700000000000000000\",\"timeUnixNano\":\"1700000010500000000\""

static void otlp_json_exact(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ptm_encode(&f->snap, PTM_OUTPUT_OTLP_JSON, NULL, &f->out), 0);
    assert_string_equal(
        f->out.data,
        JSON_HEAD
        "{\"name\":\"cpu.time\",\"description\":\"CPU\",\"unit\":\"s\",\"sum\":{\"dataPoints\":[{\"attributes\":"
        "[{\"key\":\"thread\",\"value\":{\"stringValue\":\"main\"}}]," JSON_TIMES ",\"asDouble\":1.5}],"
        "\"aggregationTemporality\":2,\"isMonotonic\":true}},"
        "{\"name\":\"lat\",\"unit\":\"s\",\"histogram\":{\"dataPoints\":[{" JSON_TIMES ",\"count\":\"4\","
        "\"sum\":5.25,\"bucketCounts\":[\"1\",\"2\",\"1\"],\"explicitBounds\":[0.5,1],\"min\":0.25,"
        "\"max\":3}],\"aggregationTemporality\":2}},"
        "{\"name\":\"mem\",\"unit\":\"By\",\"gauge\":{\"dataPoints\":[{" JSON_TIMES ",\"asInt\":\"2049\"}]}}"
        "]}]}]}\n");
}

static void otlp_json_delta(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ptm_encode_otlp_json(&f->snap, &f->out), 0);
    const char *sum = strstr(f->out.data, "\"aggregationTemporality\":1,\"isMonotonic\":true");
    const char *histogram = strstr(f->out.data, "\"max\":3}],\"aggregationTemporality\":1}");
    assert_non_null(sum);
    assert_non_null(histogram);
    assert_null(strstr(f->out.data, "\"aggregationTemporality\":2"));
}

// Typed attribute values, escapes, a schema URL, a repaired string.
static void otlp_json_values_and_escapes(void **state)
{
    (void)state;
    struct ptm_store *s = ptm_store_create(NULL);
    uint32_t g = define(s, "g", "say \"hi\"\n", NULL, PTM_METRIC_GAUGE, PTM_NUMBER_DOUBLE);
    uint32_t pairs[10] = {str(s, "i"), ptm_store_value(s, PTM_LABEL_INT, 0, -7, 0),
                          str(s, "d"), ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, 0.1),
                          str(s, "b"), ptm_store_value(s, PTM_LABEL_BOOL, 0, 0, 0),
                          str(s, "s"), ptm_store_value(s, PTM_LABEL_STRING, ptm_store_string(s, "\xff", 1), 0, 0),
                          str(s, "n"), ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, NAN)};
    uint32_t r = ptm_store_resource(s, 0, str(s, "https://opentelemetry.io/schemas/1.26.0"));
    assert_int_equal(ptm_store_add(s, g, r, ptm_store_attributes(s, pairs, 5), 0.30000000000000004,
                                   (struct ptm_window){0, 5}),
                     0);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    assert_int_equal(ptm_store_collect(s, 9, &snap), 0);
    assert_int_equal(ptm_encode_otlp_json(&snap, &out), 0);
    assert_string_equal(out.data,
                        "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"scope\":{\"name\":"
                        "\"profiletometrics\",\"version\":\"" PTM_VERSION_STRING "\"},\"metrics\":[{\"name\":"
                        "\"g\",\"description\":\"say \\\"hi\\\"\\n\",\"gauge\":{\"dataPoints\":[{\"attributes\":["
                        "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
                        "{\"key\":\"d\",\"value\":{\"doubleValue\":0.1}},"
                        "{\"key\":\"i\",\"value\":{\"intValue\":\"-7\"}},"
                        "{\"key\":\"n\",\"value\":{\"doubleValue\":\"NaN\"}},"
                        "{\"key\":\"s\",\"value\":{\"stringValue\":\"\xef\xbf\xbd\"}}],"
                        "\"timeUnixNano\":\"5\",\"asDouble\":0.30000000000000004}]}}]}],"
                        "\"schemaUrl\":\"https://opentelemetry.io/schemas/1.26.0\"}]}\n");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

// ---- Prometheus ----

static void prometheus_exact(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ptm_encode(&f->snap, PTM_OUTPUT_PROMETHEUS, NULL, &f->out), 0);
    assert_string_equal(f->out.data, "# HELP cpu_time_seconds_total CPU\n"
                                     "# TYPE cpu_time_seconds_total counter\n"
                                     "cpu_time_seconds_total{job=\"svc\",thread=\"main\"} 1.5\n"
                                     "# TYPE lat_seconds histogram\n"
                                     "lat_seconds_bucket{job=\"svc\",le=\"0.5\"} 1\n"
                                     "lat_seconds_bucket{job=\"svc\",le=\"1\"} 3\n"
                                     "lat_seconds_bucket{job=\"svc\",le=\"+Inf\"} 4\n"
                                     "lat_seconds_sum{job=\"svc\"} 5.25\n"
                                     "lat_seconds_count{job=\"svc\"} 4\n"
                                     "# TYPE mem_bytes gauge\n"
                                     "mem_bytes{job=\"svc\"} 2049\n"
                                     "# HELP target_info Target metadata\n"
                                     "# TYPE target_info gauge\n"
                                     "target_info{host_name=\"h1\",job=\"svc\"} 1\n");
}

static void prometheus_resource_labels_no_suffixes(void **state)
{
    struct fixture *f = *state;
    struct ptm_encode_options opts = {.resource_to_labels = true, .no_name_suffixes = true};
    assert_int_equal(ptm_encode_prometheus(&f->snap, &opts, &f->out), 0);
    assert_string_equal(f->out.data,
                        "# HELP cpu_time CPU\n"
                        "# TYPE cpu_time counter\n"
                        "cpu_time{host_name=\"h1\",job=\"svc\",service_name=\"svc\",thread=\"main\"} 1.5\n"
                        "# TYPE lat histogram\n"
                        "lat_bucket{host_name=\"h1\",job=\"svc\",service_name=\"svc\",le=\"0.5\"} 1\n"
                        "lat_bucket{host_name=\"h1\",job=\"svc\",service_name=\"svc\",le=\"1\"} 3\n"
                        "lat_bucket{host_name=\"h1\",job=\"svc\",service_name=\"svc\",le=\"+Inf\"} 4\n"
                        "lat_sum{host_name=\"h1\",job=\"svc\",service_name=\"svc\"} 5.25\n"
                        "lat_count{host_name=\"h1\",job=\"svc\",service_name=\"svc\"} 4\n"
                        "# TYPE mem gauge\n"
                        "mem{host_name=\"h1\",job=\"svc\",service_name=\"svc\"} 2049\n"
                        "# HELP target_info Target metadata\n"
                        "# TYPE target_info gauge\n"
                        "target_info{host_name=\"h1\",job=\"svc\"} 1\n");
}

static const char *metric_name(struct ptm_arena *arena, const char *name, const char *unit,
                               enum ptm_metric_kind kind)
{
    struct ptm_metric_def def = {name, "", unit, kind, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    return ptm_prometheus_metric_name(arena, &def, false);
}

static void prometheus_metric_names(void **state)
{
    (void)state;
    struct ptm_arena *a = ptm_arena_create(0);
    assert_string_equal(metric_name(a, "cpu.time", "s", PTM_METRIC_COUNTER), "cpu_time_seconds_total");
    assert_string_equal(metric_name(a, "http.server.duration", "ms", PTM_METRIC_HISTOGRAM),
                        "http_server_duration_milliseconds");
    assert_string_equal(metric_name(a, "memory.in_use", "By", PTM_METRIC_GAUGE), "memory_in_use_bytes");
    assert_string_equal(metric_name(a, "load", "1", PTM_METRIC_GAUGE), "load");
    assert_string_equal(metric_name(a, "requests", "1/s", PTM_METRIC_GAUGE), "requests_per_second");
    assert_string_equal(metric_name(a, "data", "By/s", PTM_METRIC_GAUGE), "data_bytes_per_second");
    assert_string_equal(metric_name(a, "packets", "{packet}", PTM_METRIC_COUNTER), "packets_total");
    assert_string_equal(metric_name(a, "cpu.seconds", "s", PTM_METRIC_COUNTER), "cpu_seconds_total");
    assert_string_equal(metric_name(a, "gc.total.time", "s", PTM_METRIC_COUNTER), "gc_time_seconds_total");
    assert_string_equal(metric_name(a, "temp", "Cel", PTM_METRIC_GAUGE), "temp_celsius");
    assert_string_equal(metric_name(a, "odd", "foo bar", PTM_METRIC_GAUGE), "odd_foo_bar");
    assert_string_equal(metric_name(a, "a--b//c", "", PTM_METRIC_GAUGE), "a_b_c");
    struct ptm_metric_def def = {"a.b-c/d:e", "", "s", PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    assert_string_equal(ptm_prometheus_metric_name(a, &def, true), "a_b_c_d:e");
    ptm_arena_destroy(a);
}

static void prometheus_label_names_and_values(void **state)
{
    (void)state;
    struct ptm_store *s = ptm_store_create(NULL);
    struct ptm_arena *a = ptm_arena_create(0);
    assert_string_equal(ptm_prometheus_label_name(a, s, str(s, "a.b")), "a_b");
    assert_string_equal(ptm_prometheus_label_name(a, s, str(s, "9x")), "_9x");
    assert_string_equal(ptm_prometheus_label_name(a, s, str(s, "caf\xc3\xa9")), "caf_");
    assert_string_equal(ptm_prometheus_label_name(a, s, 0), "_");
    // Escapes; "x.y" and "x_y" collide and are joined with ';' in key order;
    // a resource without service.name has no job, only target_info.
    uint32_t g = define(s, "g", NULL, NULL, PTM_METRIC_GAUGE, PTM_NUMBER_DOUBLE);
    uint32_t pairs[4] = {str(s, "x.y"), text_value(s, "a\\b\"c\nd"), str(s, "x_y"), text_value(s, "2")};
    uint32_t res[4] = {str(s, "service.instance.id"), text_value(s, "i-1"), str(s, "zone"), text_value(s, "z")};
    uint32_t r = ptm_store_resource(s, ptm_store_attributes(s, res, 2), 0);
    assert_int_equal(ptm_store_add(s, g, r, ptm_store_attributes(s, pairs, 2), -0.5, (struct ptm_window){1, 2}),
                     0);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    assert_int_equal(ptm_store_collect(s, 9, &snap), 0);
    assert_int_equal(ptm_encode_prometheus(&snap, NULL, &out), 0);
    assert_string_equal(out.data, "# TYPE g gauge\n"
                                  "g{instance=\"i-1\",x_y=\"a\\\\b\\\"c\\nd;2\"} -0.5\n"
                                  "# HELP target_info Target metadata\n"
                                  "# TYPE target_info gauge\n"
                                  "target_info{instance=\"i-1\",zone=\"z\"} 1\n");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_arena_destroy(a);
    ptm_store_destroy(s);
}

// An attribute named le on a histogram would clash with the bucket label.
static void prometheus_histogram_drops_le_attribute(void **state)
{
    (void)state;
    struct ptm_store *s = ptm_store_create(NULL);
    uint32_t h = define(s, "h", NULL, NULL, PTM_METRIC_HISTOGRAM, PTM_NUMBER_INT);
    uint32_t pair[2] = {str(s, "le"), text_value(s, "x")};
    uint32_t r = ptm_store_resource(s, 0, 0);
    assert_int_equal(ptm_store_observe(s, h, r, ptm_store_attributes(s, pair, 1), 0.75, 2,
                                       (struct ptm_window){1, 2}),
                     0);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    assert_int_equal(ptm_store_collect(s, 9, &snap), 0);
    assert_int_equal(ptm_encode_prometheus(&snap, NULL, &out), 0);
    assert_string_equal(out.data, "# TYPE h histogram\n"
                                  "h_bucket{le=\"0.5\"} 0\n"
                                  "h_bucket{le=\"1\"} 2\n"
                                  "h_bucket{le=\"+Inf\"} 2\n"
                                  "h_sum 1.5\n"
                                  "h_count 2\n");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

// Regression: two resources that no label tells apart (no service.name, no
// resource labels) used to lose all but the first series; they add up.
static void prometheus_adds_series_no_label_tells_apart(void **state)
{
    (void)state;
    struct ptm_store *s = ptm_store_create(NULL);
    uint32_t c = define(s, "work", NULL, "s", PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE);
    uint32_t h = define(s, "h", NULL, NULL, PTM_METRIC_HISTOGRAM, PTM_NUMBER_INT);
    uint32_t pid1[2] = {str(s, "process.pid"), ptm_store_value(s, PTM_LABEL_INT, 0, 1, 0)};
    uint32_t pid2[2] = {str(s, "process.pid"), ptm_store_value(s, PTM_LABEL_INT, 0, 2, 0)};
    uint32_t r1 = ptm_store_resource(s, ptm_store_attributes(s, pid1, 1), 0);
    uint32_t r2 = ptm_store_resource(s, ptm_store_attributes(s, pid2, 1), 0);
    uint32_t fn[2] = {str(s, "function.name"), text_value(s, "main")};
    uint32_t set = ptm_store_attributes(s, fn, 1);
    struct ptm_window w = {1, 2};
    assert_int_equal(ptm_store_add(s, c, r1, set, 1.5, w), 0);
    assert_int_equal(ptm_store_add(s, c, r2, set, 2.25, w), 0);
    assert_int_equal(ptm_store_observe(s, h, r1, 0, 0.75, 2, w), 0);
    assert_int_equal(ptm_store_observe(s, h, r2, 0, 0.25, 1, w), 0);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    assert_int_equal(ptm_store_collect(s, 9, &snap), 0);
    assert_int_equal(ptm_encode_prometheus(&snap, NULL, &out), 0);
    // 1.5 + 2.25 = 3.75; buckets (<=0.5: 1), (<=1: 1 + 2 = 3); sum 1.5 + 0.25
    assert_string_equal(out.data, "# TYPE h histogram\n"
                                  "h_bucket{le=\"0.5\"} 1\n"
                                  "h_bucket{le=\"1\"} 3\n"
                                  "h_bucket{le=\"+Inf\"} 3\n"
                                  "h_sum 1.75\n"
                                  "h_count 3\n"
                                  "# HELP target_info Target metadata\n"
                                  "# TYPE target_info gauge\n"
                                  "target_info{process_pid=\"1\"} 1\n"
                                  "target_info{process_pid=\"2\"} 1\n"
                                  "# TYPE work_seconds_total counter\n"
                                  "work_seconds_total{function_name=\"main\"} 3.75\n");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

// ---- table ----

static void table_exact(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ptm_encode(&f->snap, PTM_OUTPUT_TABLE, NULL, &f->out), 0);
    assert_string_equal(
        f->out.data,
        "resource: host.name=h1, service.name=svc\n"
        "  METRIC    ATTRIBUTES   VALUE                                                   UNIT  KIND       TIME\n"
        "  cpu.time  thread=main  1.5                                                     s     counter    "
        "2023-11-14T22:13:20Z..2023-11-14T22:13:30.500Z\n"
        "  lat                    count=4 sum=5.25 min=0.25 max=3 | <=0.5:1 <=1:2 +Inf:1  s     histogram  "
        "2023-11-14T22:13:20Z..2023-11-14T22:13:30.500Z\n"
        "  mem                    2049                                                    By    gauge      "
        "2023-11-14T22:13:20Z..2023-11-14T22:13:30.500Z\n");
}

// ---- the rest ----

static void empty_snapshot(void **state)
{
    (void)state;
    struct ptm_store *s = ptm_store_create(NULL);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    assert_int_equal(ptm_store_collect(s, 1, &snap), 0);
    assert_int_equal(ptm_encode_otlp(&snap, &out), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(ptm_encode_otlp_json(&snap, &out), 0);
    assert_string_equal(out.data, "{}\n");
    ptm_strbuf_clear(&out);
    assert_int_equal(ptm_encode_prometheus(&snap, NULL, &out), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(ptm_encode_table(&snap, &out), 0);
    assert_string_equal(out.data, "no data points\n");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

static void expect_number(double value, const char *text)
{
    char buf[PTM_NUMBER_TEXT_MAX];
    size_t n = ptm_format_double(buf, value);
    assert_string_equal(buf, text);
    assert_int_equal(n, strlen(text));
}

// The shortest text that reads back as the same double (what Python's repr
// prints, with C's exponent form).
static void numbers_round_trip(void **state)
{
    (void)state;
    expect_number(1.5, "1.5");
    expect_number(3, "3");
    expect_number(-0.0, "0");
    expect_number(0.1, "0.1");
    expect_number(1.0 / 3, "0.3333333333333333");
    expect_number(0.1 + 0.2, "0.30000000000000004");
    expect_number(1e-7, "1e-07");
    expect_number(9007199254740992.0, "9007199254740992");
    expect_number(123456789012345678.0, "1.2345678901234568e+17");
    expect_number(1e20, "1e+20");
    expect_number(-2.5e-300, "-2.5e-300");
    expect_number(NAN, "NaN");
    expect_number(-INFINITY, "-Inf");
    assert_int_equal(ptm_point_int(2.5), 3);
    assert_int_equal(ptm_point_int(-2.5), -3);
    assert_int_equal(ptm_point_int(1e300), INT64_MAX);
    assert_int_equal(ptm_point_int(-1e300), INT64_MIN);
}

static void format_names(void **state)
{
    (void)state;
    assert_int_equal(ptm_parse_output_format("otlp"), PTM_OUTPUT_OTLP);
    assert_int_equal(ptm_parse_output_format("otlp-json"), PTM_OUTPUT_OTLP_JSON);
    assert_int_equal(ptm_parse_output_format("prometheus"), PTM_OUTPUT_PROMETHEUS);
    assert_int_equal(ptm_parse_output_format("table"), PTM_OUTPUT_TABLE);
    assert_int_equal(ptm_parse_output_format("json"), -1);
    assert_int_equal(ptm_parse_output_format(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(otlp_protobuf_unpacks_field_by_field, setup, teardown),
        cmocka_unit_test(otlp_histogram_without_sum),
        cmocka_unit_test_setup_teardown(otlp_json_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(otlp_json_delta, setup_delta, teardown),
        cmocka_unit_test(otlp_json_values_and_escapes),
        cmocka_unit_test_setup_teardown(prometheus_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(prometheus_resource_labels_no_suffixes, setup, teardown),
        cmocka_unit_test(prometheus_metric_names),
        cmocka_unit_test(prometheus_label_names_and_values),
        cmocka_unit_test(prometheus_histogram_drops_le_attribute),
        cmocka_unit_test(prometheus_adds_series_no_label_tells_apart),
        cmocka_unit_test_setup_teardown(table_exact, setup, teardown),
        cmocka_unit_test(empty_snapshot),
        cmocka_unit_test(numbers_round_trip),
        cmocka_unit_test(format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
