// SPDX-License-Identifier: Apache-2.0
//
// The debug exporter: the metrics of every export in the log, as the
// Collector's debug exporter shows them.
// - basic: one line per export, counting resource metrics, metrics and
//   data points;
// - normal: that line, then one line per metric (resource, name, type,
//   unit, number of points);
// - detailed: that line, then every resource, metric and data point in the
//   Collector's text layout ("ResourceMetrics #0", "-> Name: ...",
//   "NumberDataPoints #0", "Value: ..."), written to stderr in one write.
// sampling_initial / sampling_thereafter thin the exports logged per
// second as the Collector's log sampler does: the first `initial` of each
// second, then every `thereafter`-th.
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "encode/encode_internal.h"
#include "server/component.h"
#include "server/log.h"
#include "util/error.h"

struct debug_exporter {
    struct ptm_exporter base;
    char *id;
    char *component;
    enum ptm_debug_verbosity verbosity;
    uint32_t sampling_initial;
    uint32_t sampling_thereafter;
    pthread_mutex_t lock; // the sampler's state
    int64_t window;       // the second being counted
    uint64_t in_window;   // exports seen in it
};

// True when this export is logged.
static bool sample(struct debug_exporter *d)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&d->lock);
    if ((int64_t)ts.tv_sec != d->window) {
        d->window = (int64_t)ts.tv_sec;
        d->in_window = 0;
    }
    uint64_t n = ++d->in_window;
    pthread_mutex_unlock(&d->lock);
    if (n <= d->sampling_initial)
        return true;
    return d->sampling_thereafter > 0 && (n - d->sampling_initial) % d->sampling_thereafter == 0;
}

static size_t count_runs(const struct ptm_snapshot *s, size_t (*run_end)(const struct ptm_snapshot *, size_t))
{
    size_t n = 0;
    for (size_t i = 0; i < s->len; i = run_end(s, i))
        n++;
    return n;
}

// ---- normal ----

static void put_attribute_list(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t set)
{
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    ptm_strbuf_putc(out, '{');
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *key = ptm_store_string_data(store, pairs[2 * i], &len);
        if (i > 0)
            ptm_strbuf_putc(out, ',');
        ptm_strbuf_utf8(out, key, len);
        ptm_strbuf_putc(out, '=');
        ptm_put_value_text(out, store, pairs[2 * i + 1]);
    }
    ptm_strbuf_putc(out, '}');
}

static const char *kind_name(const struct ptm_metric_def *def)
{
    static const char *const names[] = {"Sum", "Gauge", "Histogram"};
    return names[def->kind];
}

static void log_metric_lines(struct debug_exporter *d, const struct ptm_snapshot *s)
{
    struct ptm_strbuf line = {0};
    for (size_t i = 0; i < s->len;) {
        size_t next = ptm_metric_run_end(s, i);
        const struct ptm_metric_def *def = ptm_store_metric(s->store, s->points[i].metric);
        uint32_t attributes, schema_url;
        ptm_store_resource_get(s->store, s->points[i].resource, &attributes, &schema_url);
        ptm_strbuf_clear(&line);
        ptm_strbuf_puts(&line, "resource ");
        put_attribute_list(&line, s->store, attributes);
        ptm_strbuf_printf(&line, " metric %s (%s", def->name, kind_name(def));
        if (def->kind != PTM_METRIC_GAUGE)
            ptm_strbuf_puts(&line, s->temporality == PTM_TEMPORALITY_DELTA ? ", delta" : ", cumulative");
        ptm_strbuf_printf(&line, ", unit \"%s\"): %zu data points", def->unit, next - i);
        if (!line.failed)
            ptm_log_info(d->component, "%s", line.data);
        i = next;
    }
    ptm_strbuf_free(&line);
}

// ---- detailed (the Collector's otlptext layout) ----

// Go's time.Time String(): "2023-11-14 22:13:20.5 +0000 UTC".
static void put_time(struct ptm_strbuf *out, const char *label, uint64_t unix_nano)
{
    time_t sec = (time_t)(unix_nano / 1000000000);
    uint32_t ns = (uint32_t)(unix_nano % 1000000000);
    struct tm tm;
    char text[64];
    gmtime_r(&sec, &tm);
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
    ptm_strbuf_printf(out, "%s: %s", label, text);
    if (ns != 0) {
        char frac[16];
        int n = snprintf(frac, sizeof frac, "%09u", ns);
        while (n > 0 && frac[n - 1] == '0')
            frac[--n] = '\0';
        ptm_strbuf_printf(out, ".%s", frac);
    }
    ptm_strbuf_puts(out, " +0000 UTC\n");
}

static void put_typed_value(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t value)
{
    static const char *const types[] = {"Str", "Int", "Double", "Bool"};
    enum ptm_label_type type;
    uint32_t string_id;
    int64_t i;
    double v;
    ptm_store_value_get(store, value, &type, &string_id, &i, &v);
    ptm_strbuf_printf(out, "%s(", types[type]);
    ptm_put_value_text(out, store, value);
    ptm_strbuf_putc(out, ')');
}

static void put_attribute_block(struct ptm_strbuf *out, const char *title, const struct ptm_store *store,
                                uint32_t set)
{
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    if (n == 0)
        return;
    ptm_strbuf_printf(out, "%s:\n", title);
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *key = ptm_store_string_data(store, pairs[2 * i], &len);
        ptm_strbuf_puts(out, "     -> ");
        ptm_strbuf_utf8(out, key, len);
        ptm_strbuf_puts(out, ": ");
        put_typed_value(out, store, pairs[2 * i + 1]);
        ptm_strbuf_putc(out, '\n');
    }
}

// The sum is left out when negative values were recorded, as the encoders
// do.
static void put_histogram_values(struct ptm_strbuf *out, const struct ptm_metric_def *def,
                                 const struct ptm_point *p)
{
    ptm_strbuf_printf(out, "Count: %" PRIu64 "\n", p->count);
    if (p->min >= 0)
        ptm_strbuf_printf(out, "Sum: %f\n", p->sum);
    if (p->count > 0)
        ptm_strbuf_printf(out, "Min: %f\nMax: %f\n", p->min, p->max);
    for (uint32_t b = 0; b < def->n_bounds; b++)
        ptm_strbuf_printf(out, "ExplicitBounds #%u: %f\n", b, def->bounds[b]);
    for (uint32_t b = 0; b <= def->n_bounds && p->bucket_counts != NULL; b++)
        ptm_strbuf_printf(out, "Buckets #%u, Count: %" PRIu64 "\n", b, p->bucket_counts[b]);
}

static void put_point(struct ptm_strbuf *out, const struct ptm_snapshot *s, const struct ptm_metric_def *def,
                      const struct ptm_point *p, size_t index)
{
    bool histogram = def->kind == PTM_METRIC_HISTOGRAM;
    ptm_strbuf_printf(out, "%s #%zu\n", histogram ? "HistogramDataPoints" : "NumberDataPoints", index);
    put_attribute_block(out, "Data point attributes", s->store, p->attributes);
    if (p->start_unix_nano != 0)
        put_time(out, "StartTimestamp", p->start_unix_nano);
    put_time(out, "Timestamp", p->time_unix_nano);
    if (histogram)
        put_histogram_values(out, def, p);
    else if (def->value_type == PTM_NUMBER_INT)
        ptm_strbuf_printf(out, "Value: %" PRId64 "\n", ptm_point_int(p->value));
    else
        ptm_strbuf_printf(out, "Value: %f\n", p->value);
}

static void put_descriptor(struct ptm_strbuf *out, const struct ptm_snapshot *s, const struct ptm_metric_def *def,
                           size_t index)
{
    ptm_strbuf_printf(out, "Metric #%zu\nDescriptor:\n     -> Name: %s\n     -> Description: %s\n"
                           "     -> Unit: %s\n     -> DataType: %s\n",
                      index, def->name, def->description, def->unit, kind_name(def));
    if (def->kind == PTM_METRIC_COUNTER)
        ptm_strbuf_puts(out, "     -> IsMonotonic: true\n");
    if (def->kind != PTM_METRIC_GAUGE)
        ptm_strbuf_printf(out, "     -> AggregationTemporality: %s\n",
                          s->temporality == PTM_TEMPORALITY_DELTA ? "Delta" : "Cumulative");
}

static void put_resource(struct ptm_strbuf *out, const struct ptm_snapshot *s, size_t begin, size_t end,
                         size_t index)
{
    uint32_t attributes, schema_url;
    size_t len = 0;
    ptm_store_resource_get(s->store, s->points[begin].resource, &attributes, &schema_url);
    const char *url = schema_url != 0 ? ptm_store_string_data(s->store, schema_url, &len) : "";
    ptm_strbuf_printf(out, "ResourceMetrics #%zu\nResource SchemaURL: %.*s\n", index, (int)len, url);
    put_attribute_block(out, "Resource attributes", s->store, attributes);
    ptm_strbuf_puts(out, "ScopeMetrics #0\nScopeMetrics SchemaURL: \nInstrumentationScope " PTM_SCOPE_NAME
                         " " PTM_VERSION_STRING "\n");
    size_t metric = 0;
    for (size_t i = begin; i < end; metric++) {
        size_t next = ptm_metric_run_end(s, i);
        const struct ptm_metric_def *def = ptm_store_metric(s->store, s->points[i].metric);
        put_descriptor(out, s, def, metric);
        for (size_t k = i; k < next; k++)
            put_point(out, s, def, &s->points[k], k - i);
        i = next;
    }
}

static void write_detailed(struct debug_exporter *d, const struct ptm_snapshot *s)
{
    struct ptm_strbuf text = {0};
    size_t index = 0;
    for (size_t i = 0; i < s->len; index++) {
        size_t next = ptm_resource_run_end(s, i);
        put_resource(&text, s, i, next, index);
        i = next;
    }
    if (text.failed) {
        ptm_log_error(d->component, "out of memory formatting the detailed output");
    } else if (text.len > 0) {
        ssize_t w = write(2, text.data, text.len);
        (void)w;
    }
    ptm_strbuf_free(&text);
}

// ---- the exporter ----

static int debug_export(struct ptm_exporter *e, const struct ptm_snapshot *s)
{
    struct debug_exporter *d = (struct debug_exporter *)e;
    if (!sample(d))
        return 0;
    ptm_log_info(d->component, "MetricsExporter: resource metrics: %zu, metrics: %zu, data points: %zu",
                 count_runs(s, ptm_resource_run_end), count_runs(s, ptm_metric_run_end), s->len);
    if (d->verbosity == PTM_VERBOSITY_NORMAL)
        log_metric_lines(d, s);
    else if (d->verbosity == PTM_VERBOSITY_DETAILED)
        write_detailed(d, s);
    return 0;
}

// Every export was written when it was made: nothing waits.
static void debug_shutdown(struct ptm_exporter *e, uint64_t deadline)
{
}

static void debug_destroy(struct ptm_exporter *e)
{
    struct debug_exporter *d = (struct debug_exporter *)e;
    if (d == NULL)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d->component);
    free(d->id);
    free(d);
}

static const struct ptm_exporter_ops debug_ops = {debug_export, debug_shutdown, debug_destroy, NULL};

struct ptm_exporter *ptm_exporter_debug_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                               struct ptm_telemetry *telemetry, struct ptm_error *err)
{
    struct debug_exporter *d = calloc(1, sizeof *d);
    if (d == NULL || (d->id = strdup(cfg->id)) == NULL || asprintf(&d->component, "exporter/%s", cfg->id) < 0) {
        if (d != NULL)
            free(d->id);
        free(d);
        ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", cfg->id);
        return NULL;
    }
    d->base = (struct ptm_exporter){&debug_ops, d->id};
    d->verbosity = cfg->debug.verbosity;
    d->sampling_initial = cfg->debug.sampling_initial;
    d->sampling_thereafter = cfg->debug.sampling_thereafter;
    d->window = -1;
    pthread_mutex_init(&d->lock, NULL);
    return &d->base;
}
