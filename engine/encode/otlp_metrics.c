// SPDX-License-Identifier: Apache-2.0
//
// OTLP protobuf: a snapshot as one ExportMetricsServiceRequest, built as a
// protobuf-c message tree in a scratch arena (freed whole at the end) and
// packed straight into the output buffer. One ResourceMetrics per resource,
// one ScopeMetrics (profiletometrics) in each, one Metric per metric.
//
// The store's strings are NUL-free UTF-8 copies that outlive the call, so the
// tree points at them instead of copying.
#include <string.h>

#include "encode/encode_internal.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "util/arena.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_request;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum pb_sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge pb_gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram pb_histogram;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_histogram_point;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;

struct builder {
    const struct ptm_snapshot *snapshot;
    const struct ptm_store *store;
    struct ptm_arena *arena;
    pb_scope scope; // shared by every ScopeMetrics
};

static char *store_text(const struct ptm_store *store, uint32_t id)
{
    const char *s = ptm_store_string_data(store, id, NULL);
    return (char *)(s != NULL ? s : "");
}

static pb_any_value *build_any_value(struct builder *b, uint32_t value)
{
    pb_any_value *v = ptm_arena_alloc(b->arena, sizeof *v);
    if (v == NULL)
        return NULL;
    *v = (pb_any_value)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    enum ptm_label_type type;
    uint32_t string_id;
    int64_t i;
    double d;
    ptm_store_value_get(b->store, value, &type, &string_id, &i, &d);
    switch (type) {
    case PTM_LABEL_STRING:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = store_text(b->store, string_id);
        break;
    case PTM_LABEL_INT:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = i;
        break;
    case PTM_LABEL_DOUBLE:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
        v->double_value = d;
        break;
    case PTM_LABEL_BOOL:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        v->bool_value = i != 0;
        break;
    }
    return v;
}

// The KeyValues of attribute set `set` into *out / *n. 0 or -1.
static int build_attributes(struct builder *b, uint32_t set, pb_key_value ***out, size_t *n)
{
    uint32_t count;
    const uint32_t *pairs = ptm_store_attribute_pairs(b->store, set, &count);
    *n = 0;
    *out = NULL;
    if (count == 0)
        return 0;
    pb_key_value **list = ptm_arena_alloc(b->arena, count * sizeof *list);
    pb_key_value *kvs = ptm_arena_alloc(b->arena, count * sizeof *kvs);
    if (list == NULL || kvs == NULL)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        kvs[i] = (pb_key_value)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
        kvs[i].key = store_text(b->store, pairs[2 * i]);
        kvs[i].value = build_any_value(b, pairs[2 * i + 1]);
        if (kvs[i].value == NULL)
            return -1;
        list[i] = &kvs[i];
    }
    *out = list;
    *n = count;
    return 0;
}

static pb_number_point *build_number_point(struct builder *b, const struct ptm_metric_def *def,
                                           const struct ptm_point *p)
{
    pb_number_point *dp = ptm_arena_alloc(b->arena, sizeof *dp);
    if (dp == NULL)
        return NULL;
    *dp = (pb_number_point)OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
    if (build_attributes(b, p->attributes, &dp->attributes, &dp->n_attributes) != 0)
        return NULL;
    dp->start_time_unix_nano = p->start_unix_nano;
    dp->time_unix_nano = p->time_unix_nano;
    if (def->value_type == PTM_NUMBER_INT) {
        dp->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp->as_int = ptm_point_int(p->value);
    } else {
        dp->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
        dp->as_double = p->value;
    }
    return dp;
}

// The sum is left out when negative values were recorded (min < 0), as the
// data model asks; bucket counts and bounds point at the snapshot and store.
static pb_histogram_point *build_histogram_point(struct builder *b, const struct ptm_metric_def *def,
                                                 const struct ptm_point *p)
{
    pb_histogram_point *dp = ptm_arena_alloc(b->arena, sizeof *dp);
    if (dp == NULL)
        return NULL;
    *dp = (pb_histogram_point)OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;
    if (build_attributes(b, p->attributes, &dp->attributes, &dp->n_attributes) != 0)
        return NULL;
    dp->start_time_unix_nano = p->start_unix_nano;
    dp->time_unix_nano = p->time_unix_nano;
    dp->count = p->count;
    if (p->min >= 0) {
        dp->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
        dp->sum = p->sum;
    }
    dp->n_bucket_counts = def->n_bounds + 1;
    dp->bucket_counts = (uint64_t *)p->bucket_counts;
    dp->n_explicit_bounds = def->n_bounds;
    dp->explicit_bounds = (double *)def->bounds;
    dp->_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN;
    dp->min = p->min;
    dp->_max_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX;
    dp->max = p->max;
    return dp;
}

// The points [begin, end) into a fresh array of n pointers; 0 or -1.
static int build_points(struct builder *b, const struct ptm_metric_def *def, size_t begin,
                        size_t end, void ***out)
{
    void **list = ptm_arena_alloc(b->arena, (end - begin) * sizeof *list);
    if (list == NULL)
        return -1;
    for (size_t i = begin; i < end; i++) {
        const struct ptm_point *p = &b->snapshot->points[i];
        list[i - begin] = def->kind == PTM_METRIC_HISTOGRAM ? (void *)build_histogram_point(b, def, p)
                                                            : (void *)build_number_point(b, def, p);
        if (list[i - begin] == NULL)
            return -1;
    }
    *out = list;
    return 0;
}

static Opentelemetry__Proto__Metrics__V1__AggregationTemporality temporality(const struct builder *b)
{
    return b->snapshot->temporality == PTM_TEMPORALITY_DELTA
               ? OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
               : OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
}

// Put the points into the metric's data: a Sum, Gauge or Histogram. 0 or -1.
static int build_data(struct builder *b, pb_metric *m, const struct ptm_metric_def *def,
                      size_t begin, size_t end)
{
    void **points;
    if (build_points(b, def, begin, end, &points) != 0)
        return -1;
    size_t n = end - begin;
    if (def->kind == PTM_METRIC_COUNTER) {
        pb_sum *sum = ptm_arena_alloc(b->arena, sizeof *sum);
        if (sum == NULL)
            return -1;
        *sum = (pb_sum)OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
        sum->n_data_points = n;
        sum->data_points = (pb_number_point **)points;
        sum->aggregation_temporality = temporality(b);
        sum->is_monotonic = 1;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
        m->sum = sum;
    } else if (def->kind == PTM_METRIC_GAUGE) {
        pb_gauge *gauge = ptm_arena_alloc(b->arena, sizeof *gauge);
        if (gauge == NULL)
            return -1;
        *gauge = (pb_gauge)OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
        gauge->n_data_points = n;
        gauge->data_points = (pb_number_point **)points;
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        m->gauge = gauge;
    } else {
        pb_histogram *histogram = ptm_arena_alloc(b->arena, sizeof *histogram);
        if (histogram == NULL)
            return -1;
        *histogram = (pb_histogram)OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
        histogram->n_data_points = n;
        histogram->data_points = (pb_histogram_point **)points;
        histogram->aggregation_temporality = temporality(b);
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
        m->histogram = histogram;
    }
    return 0;
}

static pb_metric *build_metric(struct builder *b, size_t begin, size_t end)
{
    const struct ptm_metric_def *def = ptm_store_metric(b->store, b->snapshot->points[begin].metric);
    pb_metric *m = ptm_arena_alloc(b->arena, sizeof *m);
    if (m == NULL)
        return NULL;
    *m = (pb_metric)OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
    m->name = (char *)def->name;
    m->description = (char *)def->description;
    m->unit = (char *)def->unit;
    return build_data(b, m, def, begin, end) == 0 ? m : NULL;
}

static pb_scope_metrics *build_scope_metrics(struct builder *b, size_t begin, size_t end)
{
    size_t n = 0;
    for (size_t i = begin; i < end; i = ptm_metric_run_end(b->snapshot, i))
        n++;
    pb_scope_metrics *sm = ptm_arena_alloc(b->arena, sizeof *sm);
    pb_metric **metrics = ptm_arena_alloc(b->arena, n * sizeof *metrics);
    if (sm == NULL || metrics == NULL)
        return NULL;
    *sm = (pb_scope_metrics)OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
    sm->scope = &b->scope;
    sm->n_metrics = n;
    sm->metrics = metrics;
    n = 0;
    for (size_t i = begin; i < end;) {
        size_t next = ptm_metric_run_end(b->snapshot, i);
        metrics[n] = build_metric(b, i, next);
        if (metrics[n++] == NULL)
            return NULL;
        i = next;
    }
    return sm;
}

static pb_resource_metrics *build_resource_metrics(struct builder *b, size_t begin, size_t end)
{
    pb_resource_metrics *rm = ptm_arena_alloc(b->arena, sizeof *rm);
    pb_resource *resource = ptm_arena_alloc(b->arena, sizeof *resource);
    pb_scope_metrics **scopes = ptm_arena_alloc(b->arena, sizeof *scopes);
    if (rm == NULL || resource == NULL || scopes == NULL)
        return NULL;
    *rm = (pb_resource_metrics)OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
    *resource = (pb_resource)OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    uint32_t attributes, schema_url;
    ptm_store_resource_get(b->store, b->snapshot->points[begin].resource, &attributes, &schema_url);
    if (build_attributes(b, attributes, &resource->attributes, &resource->n_attributes) != 0)
        return NULL;
    scopes[0] = build_scope_metrics(b, begin, end);
    if (scopes[0] == NULL)
        return NULL;
    rm->resource = resource;
    rm->n_scope_metrics = 1;
    rm->scope_metrics = scopes;
    rm->schema_url = store_text(b->store, schema_url);
    return rm;
}

static int build_request(struct builder *b, pb_request *req)
{
    size_t n = 0;
    for (size_t i = 0; i < b->snapshot->len; i = ptm_resource_run_end(b->snapshot, i))
        n++;
    if (n == 0)
        return 0;
    req->resource_metrics = ptm_arena_alloc(b->arena, n * sizeof *req->resource_metrics);
    if (req->resource_metrics == NULL)
        return -1;
    for (size_t i = 0; i < b->snapshot->len;) {
        size_t next = ptm_resource_run_end(b->snapshot, i);
        pb_resource_metrics *rm = build_resource_metrics(b, i, next);
        if (rm == NULL)
            return -1;
        req->resource_metrics[req->n_resource_metrics++] = rm;
        i = next;
    }
    return 0;
}

struct strbuf_sink {
    ProtobufCBuffer base;
    struct ptm_strbuf *out;
};

static void sink_append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data)
{
    struct strbuf_sink *sink = (struct strbuf_sink *)buffer;
    ptm_strbuf_append(sink->out, data, len);
}

int ptm_encode_otlp(const struct ptm_snapshot *snapshot, struct ptm_strbuf *out)
{
    struct builder b = {snapshot, snapshot->store, ptm_arena_create(0),
                        OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT};
    if (b.arena == NULL)
        return PTM_ENOMEM;
    b.scope.name = PTM_SCOPE_NAME;
    b.scope.version = PTM_VERSION_STRING;
    pb_request req = OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    int rc = PTM_ENOMEM;
    if (build_request(&b, &req) == 0) {
        struct strbuf_sink sink = {{NULL}, out};
        sink.base.append = sink_append;
        protobuf_c_message_pack_to_buffer(&req.base, &sink.base);
        rc = out->failed ? PTM_ENOMEM : 0;
    }
    ptm_arena_destroy(b.arena);
    return rc;
}
