// SPDX-License-Identifier: Apache-2.0
//
// OTLP JSON: an ExportMetricsServiceRequest in the protobuf JSON mapping, as
// the Collector's file exporter writes it: lowerCamelCase keys, 64-bit
// integers as strings, enums as integers, fields at their default value left
// out, one request per line. Numbers round-trip exactly; no NaN or infinity
// reaches a point (the store refuses them), so every number is plain JSON.
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "encode/encode_internal.h"

static void put_number(struct ptm_strbuf *out, double value)
{
    char buf[PTM_NUMBER_TEXT_MAX];
    size_t n = ptm_format_double(buf, value);
    ptm_strbuf_append(out, buf, n);
}

static void put_string(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t id)
{
    size_t len;
    const char *s = ptm_store_string_data(store, id, &len);
    ptm_strbuf_json_string(out, s != NULL ? s : "", len);
}

static void put_u64(struct ptm_strbuf *out, const char *key, uint64_t value)
{
    ptm_strbuf_printf(out, "\"%s\":\"%" PRIu64 "\"", key, value);
}

// An attribute's AnyValue. Doubles that are not finite take the mapping's
// string forms.
static void put_any_value(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t value)
{
    enum ptm_label_type type;
    uint32_t string_id;
    int64_t i;
    double d;
    ptm_store_value_get(store, value, &type, &string_id, &i, &d);
    switch (type) {
    case PTM_LABEL_STRING:
        ptm_strbuf_puts(out, "{\"stringValue\":");
        put_string(out, store, string_id);
        break;
    case PTM_LABEL_INT:
        ptm_strbuf_printf(out, "{\"intValue\":\"%" PRId64 "\"", i);
        break;
    case PTM_LABEL_DOUBLE:
        ptm_strbuf_puts(out, "{\"doubleValue\":");
        if (isfinite(d))
            put_number(out, d);
        else
            ptm_strbuf_puts(out, isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        break;
    case PTM_LABEL_BOOL:
        ptm_strbuf_puts(out, i ? "{\"boolValue\":true" : "{\"boolValue\":false");
        break;
    }
    ptm_strbuf_putc(out, '}');
}

// "attributes":[...], or nothing for an empty set. True when it wrote.
static bool put_attributes(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t set)
{
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    if (n == 0)
        return false;
    ptm_strbuf_puts(out, "\"attributes\":[");
    for (uint32_t i = 0; i < n; i++) {
        ptm_strbuf_puts(out, i ? ",{\"key\":" : "{\"key\":");
        put_string(out, store, pairs[2 * i]);
        ptm_strbuf_puts(out, ",\"value\":");
        put_any_value(out, store, pairs[2 * i + 1]);
        ptm_strbuf_putc(out, '}');
    }
    ptm_strbuf_putc(out, ']');
    return true;
}

static void put_times(struct ptm_strbuf *out, const struct ptm_point *p)
{
    if (p->start_unix_nano != 0) {
        put_u64(out, "startTimeUnixNano", p->start_unix_nano);
        ptm_strbuf_putc(out, ',');
    }
    put_u64(out, "timeUnixNano", p->time_unix_nano);
}

static void put_number_point(struct ptm_strbuf *out, const struct ptm_store *store,
                             const struct ptm_metric_def *def, const struct ptm_point *p)
{
    ptm_strbuf_putc(out, '{');
    if (put_attributes(out, store, p->attributes))
        ptm_strbuf_putc(out, ',');
    put_times(out, p);
    if (def->value_type == PTM_NUMBER_INT) {
        ptm_strbuf_printf(out, ",\"asInt\":\"%" PRId64 "\"", ptm_point_int(p->value));
    } else {
        ptm_strbuf_puts(out, ",\"asDouble\":");
        put_number(out, p->value);
    }
    ptm_strbuf_putc(out, '}');
}

// Field order follows the .proto: count, sum, bucketCounts, explicitBounds,
// min, max. The sum is left out when negative values were recorded.
static void put_histogram_point(struct ptm_strbuf *out, const struct ptm_store *store,
                                const struct ptm_metric_def *def, const struct ptm_point *p)
{
    ptm_strbuf_putc(out, '{');
    if (put_attributes(out, store, p->attributes))
        ptm_strbuf_putc(out, ',');
    put_times(out, p);
    ptm_strbuf_putc(out, ',');
    put_u64(out, "count", p->count);
    if (p->min >= 0) {
        ptm_strbuf_puts(out, ",\"sum\":");
        put_number(out, p->sum);
    }
    ptm_strbuf_puts(out, ",\"bucketCounts\":[");
    for (uint32_t i = 0; i <= def->n_bounds; i++)
        ptm_strbuf_printf(out, i ? ",\"%" PRIu64 "\"" : "\"%" PRIu64 "\"", p->bucket_counts[i]);
    ptm_strbuf_putc(out, ']');
    if (def->n_bounds > 0) {
        ptm_strbuf_puts(out, ",\"explicitBounds\":[");
        for (uint32_t i = 0; i < def->n_bounds; i++) {
            if (i)
                ptm_strbuf_putc(out, ',');
            put_number(out, def->bounds[i]);
        }
        ptm_strbuf_putc(out, ']');
    }
    ptm_strbuf_puts(out, ",\"min\":");
    put_number(out, p->min);
    ptm_strbuf_puts(out, ",\"max\":");
    put_number(out, p->max);
    ptm_strbuf_putc(out, '}');
}

static int temporality_value(const struct ptm_snapshot *snapshot)
{
    return snapshot->temporality == PTM_TEMPORALITY_DELTA ? 1 : 2;
}

// One Metric with the points [begin, end) (one resource, one metric).
static void put_metric(struct ptm_strbuf *out, const struct ptm_snapshot *snapshot, size_t begin,
                       size_t end)
{
    const struct ptm_store *store = snapshot->store;
    const struct ptm_metric_def *def = ptm_store_metric(store, snapshot->points[begin].metric);
    ptm_strbuf_puts(out, "{\"name\":");
    ptm_strbuf_json_string(out, def->name, strlen(def->name));
    if (def->description[0] != '\0') {
        ptm_strbuf_puts(out, ",\"description\":");
        ptm_strbuf_json_string(out, def->description, strlen(def->description));
    }
    if (def->unit[0] != '\0') {
        ptm_strbuf_puts(out, ",\"unit\":");
        ptm_strbuf_json_string(out, def->unit, strlen(def->unit));
    }
    static const char *const data_key[] = {",\"sum\":{", ",\"gauge\":{", ",\"histogram\":{"};
    ptm_strbuf_puts(out, data_key[def->kind]);
    ptm_strbuf_puts(out, "\"dataPoints\":[");
    for (size_t i = begin; i < end; i++) {
        if (i > begin)
            ptm_strbuf_putc(out, ',');
        if (def->kind == PTM_METRIC_HISTOGRAM)
            put_histogram_point(out, store, def, &snapshot->points[i]);
        else
            put_number_point(out, store, def, &snapshot->points[i]);
    }
    ptm_strbuf_putc(out, ']');
    if (def->kind != PTM_METRIC_GAUGE)
        ptm_strbuf_printf(out, ",\"aggregationTemporality\":%d", temporality_value(snapshot));
    if (def->kind == PTM_METRIC_COUNTER)
        ptm_strbuf_puts(out, ",\"isMonotonic\":true");
    ptm_strbuf_puts(out, "}}");
}

// One ResourceMetrics with the points [begin, end) (one resource).
static void put_resource_metrics(struct ptm_strbuf *out, const struct ptm_snapshot *snapshot,
                                 size_t begin, size_t end)
{
    const struct ptm_store *store = snapshot->store;
    uint32_t attributes, schema_url;
    ptm_store_resource_get(store, snapshot->points[begin].resource, &attributes, &schema_url);
    ptm_strbuf_puts(out, "{\"resource\":{");
    put_attributes(out, store, attributes);
    ptm_strbuf_puts(out, "},\"scopeMetrics\":[{\"scope\":{\"name\":\"" PTM_SCOPE_NAME
                         "\",\"version\":\"" PTM_VERSION_STRING "\"},\"metrics\":[");
    for (size_t i = begin; i < end;) {
        size_t next = ptm_metric_run_end(snapshot, i);
        if (i > begin)
            ptm_strbuf_putc(out, ',');
        put_metric(out, snapshot, i, next);
        i = next;
    }
    ptm_strbuf_puts(out, "]}]");
    if (schema_url != 0) {
        ptm_strbuf_puts(out, ",\"schemaUrl\":");
        put_string(out, store, schema_url);
    }
    ptm_strbuf_putc(out, '}');
}

int ptm_encode_otlp_json(const struct ptm_snapshot *snapshot, struct ptm_strbuf *out)
{
    ptm_strbuf_putc(out, '{');
    if (snapshot->len > 0) {
        ptm_strbuf_puts(out, "\"resourceMetrics\":[");
        for (size_t i = 0; i < snapshot->len;) {
            size_t next = ptm_resource_run_end(snapshot, i);
            if (i > 0)
                ptm_strbuf_putc(out, ',');
            put_resource_metrics(out, snapshot, i, next);
            i = next;
        }
        ptm_strbuf_putc(out, ']');
    }
    ptm_strbuf_puts(out, "}\n");
    return out->failed ? PTM_ENOMEM : 0;
}
