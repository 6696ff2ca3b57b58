// SPDX-License-Identifier: Apache-2.0
//
// The Prometheus exporter (exporters.prometheus): GET /metrics on endpoint
// serves, in the Prometheus text format, everything exported so far. Each
// snapshot the service exports is merged into the exporter's own cumulative
// store (ptm_store_merge_with): delta counters add up, cumulative ones
// replace, gauges keep the last value; namespace prefixes every metric name
// and const_labels go onto every series. A series no export has updated for
// metric_expiration disappears; a metric whose definition changed (a reload
// with other rules) replaces the old one and its series. Merges and scrapes
// take the same lock, so a scrape never sees half a merge; a scrape
// collects the store at that moment and encodes it (resource attributes as
// labels when resource_to_telemetry_conversion is on; no unit and _total
// suffixes when add_metric_suffixes is off).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode/encode.h"
#include "server/component.h"
#include "server/http.h"
#include "server/log.h"
#include "util/error.h"

#define METRICS_PATH "/metrics"
#define TEXT_FORMAT "text/plain; version=0.0.4; charset=utf-8"
#define SERIES_LIMIT 100000
// Expired series leave their strings behind; after this many, the store is
// copied into a fresh one without them.
#define COMPACT_AFTER_DROPPED 1024

struct prometheus_exporter {
    struct ptm_exporter base;
    char *id;
    char component[176]; // "exporter/ID"
    pthread_mutex_t lock;
    struct ptm_store *store; // cumulative; under lock
    uint64_t expiration;     // ns; 0: never
    uint32_t dropped;        // series expired since the last compaction
    char *prefix;            // "namespace_", or NULL
    char **labels;           // const_labels: keys, then values (copies: a reload frees the config)
    struct ptm_merge_options merge;
    struct ptm_encode_options encode;
    struct ptm_http_server *http;
};

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct ptm_store *new_store(void)
{
    struct ptm_store_options opts = {.temporality = PTM_TEMPORALITY_CUMULATIVE, .series_limit = SERIES_LIMIT};
    return ptm_store_create(&opts);
}

// Drop the series not updated for metric_expiration, and compact the store
// once enough were dropped. Called with the lock held.
static void expire(struct prometheus_exporter *e, uint64_t now)
{
    if (e->expiration == 0 || now < e->expiration)
        return;
    e->dropped += ptm_store_expire(e->store, now - e->expiration);
    if (e->dropped < COMPACT_AFTER_DROPPED)
        return;
    struct ptm_store *compact = ptm_store_compact(e->store);
    if (compact == NULL) {
        ptm_log_warn(e->component, "out of memory compacting the metric store; keeping it as it is");
        return;
    }
    ptm_store_destroy(e->store);
    e->store = compact;
    e->dropped = 0;
}

// ---- export ----

static int prometheus_export(struct ptm_exporter *base, const struct ptm_snapshot *snapshot)
{
    struct prometheus_exporter *e = (struct prometheus_exporter *)base;
    struct ptm_error err = {0};
    uint64_t now = realtime_ns();
    pthread_mutex_lock(&e->lock);
    struct ptm_merge_options opts = e->merge;
    opts.delta = snapshot->temporality == PTM_TEMPORALITY_DELTA;
    opts.now_unix_nano = now;
    int rc = ptm_store_merge_with(e->store, snapshot, &opts, &err);
    expire(e, now);
    pthread_mutex_unlock(&e->lock);
    if (rc != 0)
        ptm_log_warn(e->component, "some points were not merged: %s", err.message);
    return rc;
}

// ---- scrape ----

static void handle_metrics(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    struct prometheus_exporter *e = ctx;
    uint64_t now = realtime_ns();
    struct ptm_snapshot snap;
    pthread_mutex_lock(&e->lock);
    expire(e, now);
    int rc = ptm_store_collect(e->store, now, &snap);
    if (rc == 0) {
        rc = ptm_encode_prometheus(&snap, &e->encode, &resp->body);
        ptm_snapshot_free(&snap);
    }
    pthread_mutex_unlock(&e->lock);
    if (rc != 0) {
        ptm_strbuf_clear(&resp->body);
        resp->status = 500;
        resp->content_type = "text/plain; charset=utf-8";
        ptm_strbuf_printf(&resp->body, "cannot render the metrics: %s\n", ptm_strerror(rc));
        return;
    }
    resp->content_type = TEXT_FORMAT;
}

// ---- lifecycle ----

static void prometheus_shutdown(struct ptm_exporter *base, uint64_t deadline)
{
    struct prometheus_exporter *e = (struct prometheus_exporter *)base;
    ptm_http_stop(e->http);
}

static void prometheus_destroy(struct ptm_exporter *base)
{
    struct prometheus_exporter *e = (struct prometheus_exporter *)base;
    if (e == NULL)
        return;
    ptm_http_destroy(e->http);
    ptm_store_destroy(e->store);
    pthread_mutex_destroy(&e->lock);
    for (size_t i = 0; e->labels != NULL && i < 2 * e->merge.label_count; i++)
        free(e->labels[i]);
    free(e->labels);
    free(e->prefix);
    free(e->id);
    free(e);
}

static const struct ptm_exporter_ops prometheus_ops = {
    .export = prometheus_export,
    .shutdown = prometheus_shutdown,
    .destroy = prometheus_destroy,
};

// namespace becomes "namespace_" before every name: check now that the
// names it makes are valid, rather than at every export.
static int set_namespace(struct prometheus_exporter *e, const char *namespace, struct ptm_error *err)
{
    if (namespace == NULL || namespace[0] == '\0')
        return 0;
    size_t n = strlen(namespace);
    e->prefix = malloc(n + 2);
    if (e->prefix == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    snprintf(e->prefix, n + 2, "%s_", namespace);
    char name[320];
    snprintf(name, sizeof name, "%sx", e->prefix);
    struct ptm_metric_def def = {.name = name, .kind = PTM_METRIC_COUNTER};
    struct ptm_store *probe = new_store();
    int rc = probe == NULL ? ptm_error_set(err, PTM_ENOMEM, "out of memory") : ptm_store_define(probe, &def, err);
    ptm_store_destroy(probe);
    if (rc < 0)
        return ptm_error_set(err, PTM_ECONFIG,
                             "namespace \"%s\" does not make valid metric names: it must start with an ASCII "
                             "letter and hold only letters, digits, '_', '.', '-' and '/'",
                             namespace);
    e->merge.name_prefix = e->prefix;
    return 0;
}

// Copy const_labels: the exporter may outlive the configuration (a reload
// keeps an exporter whose settings did not change).
static int copy_labels(struct prometheus_exporter *e, const struct ptm_config_string_map *labels)
{
    size_t n = labels->count;
    e->labels = calloc(2 * n + 1, sizeof *e->labels);
    if (e->labels == NULL)
        return PTM_ENOMEM;
    e->merge.label_count = n;
    for (size_t i = 0; i < n; i++)
        if ((e->labels[i] = strdup(labels->keys[i])) == NULL || (e->labels[n + i] = strdup(labels->values[i])) == NULL)
            return PTM_ENOMEM;
    e->merge.label_keys = (const char *const *)e->labels;
    e->merge.label_values = (const char *const *)e->labels + n;
    return 0;
}

static struct prometheus_exporter *prometheus_alloc(const struct ptm_exporter_config *cfg)
{
    struct prometheus_exporter *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    pthread_mutex_init(&e->lock, NULL);
    e->base.ops = &prometheus_ops;
    e->id = strdup(cfg->id);
    e->base.id = e->id;
    e->store = new_store();
    if (e->id == NULL || e->store == NULL) {
        prometheus_destroy(&e->base);
        return NULL;
    }
    snprintf(e->component, sizeof e->component, "exporter/%s", cfg->id);
    return e;
}

struct ptm_exporter *ptm_exporter_prometheus_create(const struct ptm_exporter_config *cfg,
                                                    const struct ptm_config *config, struct ptm_telemetry *telemetry,
                                                    struct ptm_error *err)
{
    const struct ptm_prometheus_exporter_config *pc = &cfg->prometheus;
    struct prometheus_exporter *e = prometheus_alloc(cfg);
    if (e == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "exporters.%s: out of memory", cfg->id);
        return NULL;
    }
    e->expiration = pc->metric_expiration;
    if (copy_labels(e, &pc->const_labels) != 0) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        goto fail;
    }
    e->encode.resource_to_labels = pc->resource_to_telemetry_conversion;
    e->encode.no_name_suffixes = !pc->add_metric_suffixes;
    e->merge.replace_changed = true; // a reload changed a rule: the new definition wins
    if (set_namespace(e, pc->namespace, err) != 0)
        goto fail;
    if (pc->send_timestamps)
        ptm_log_warn(e->component, "send_timestamps is not supported: samples are written without timestamps");
    struct ptm_http_route route = {"GET", METRICS_PATH, handle_metrics, e};
    struct ptm_http_options opts = {
        .address = pc->endpoint,
        .component = e->component,
        .routes = &route,
        .route_count = 1,
        .max_body = 4096,
        .threads = 2,
    };
    e->http = ptm_http_start(&opts, err);
    if (e->http == NULL)
        goto fail;
    ptm_log_info(e->component, "serving Prometheus metrics on %s%s (port %u)", pc->endpoint, METRICS_PATH,
                 (unsigned)ptm_http_port(e->http));
    return &e->base;
fail:
    ptm_error_prefix(err, "exporters.%s", cfg->id);
    prometheus_destroy(&e->base);
    return NULL;
}
