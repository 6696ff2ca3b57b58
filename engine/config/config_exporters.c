// SPDX-License-Identifier: Apache-2.0
//
// exporters: debug, otlp (also written otlp_grpc), otlphttp, prometheus and
// file, with the Collector's keys and defaults: TLS, headers, compression,
// timeout, retry_on_failure and sending_queue for the OTLP ones. Only gzip
// compression is built in; zstd and the others are refused by name.
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

#define SECOND 1000000000ULL
#define HOUR (3600 * SECOND)

static const char *const exporter_types[] = {"debug", "otlp", "otlp_grpc", "otlphttp", "prometheus", "file", NULL};
static const enum ptm_exporter_type exporter_type_of[] = {
    PTM_EXPORTER_DEBUG,    PTM_EXPORTER_OTLP,       PTM_EXPORTER_OTLP,
    PTM_EXPORTER_OTLPHTTP, PTM_EXPORTER_PROMETHEUS, PTM_EXPORTER_FILE,
};
static const struct walk_hint exporter_type_hints[] = {
    {"logging", "the Collector removed the logging exporter; use debug"},
    {"otlp_http", "did you mean otlphttp?"},
    {"prometheusremotewrite", "not supported; use prometheus (a scrape endpoint) or otlphttp"},
    {NULL, NULL},
};

// ---- shared OTLP client keys ----

static const char *const tls_client_keys[] = {
    "insecure", "insecure_skip_verify", "ca_file", "cert_file", "key_file", "server_name_override", NULL,
};

static void parse_client_tls(struct config_walk *w, const struct ptm_yaml_node *map,
                             struct ptm_client_tls_config *tls)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "tls");
    if (node == NULL)
        return;
    if (walk_map(w, node, tls_client_keys, NULL)) {
        field_bool(w, node, "insecure", &tls->insecure);
        field_bool(w, node, "insecure_skip_verify", &tls->insecure_skip_verify);
        field_string(w, node, "ca_file", &tls->ca_file, FIELD_NONEMPTY);
        int cert = field_string(w, node, "cert_file", &tls->cert_file, FIELD_NONEMPTY);
        int key = field_string(w, node, "key_file", &tls->key_file, FIELD_NONEMPTY);
        field_string(w, node, "server_name_override", &tls->server_name_override, FIELD_NONEMPTY);
        if (cert == 1 && key == 0)
            walk_missing(w, "key_file", "a client certificate needs cert_file and key_file");
        if (key == 1 && cert == 0)
            walk_missing(w, "cert_file", "a client certificate needs cert_file and key_file");
    }
    walk_pop(w);
}

static void parse_compression(struct config_walk *w, const struct ptm_yaml_node *map, enum ptm_compression *out)
{
    static const char *const refused[] = {"zstd", "snappy", "zlib", "deflate", "lz4", NULL};
    const char *value = NULL;
    if (field_string(w, map, "compression", &value, 0) != 1)
        return;
    if (strcmp(value, "gzip") == 0) {
        *out = PTM_COMPRESSION_GZIP;
        return;
    }
    if (strcmp(value, "none") == 0 || value[0] == '\0') {
        *out = PTM_COMPRESSION_NONE;
        return;
    }
    bool known = false;
    for (int i = 0; refused[i] != NULL; i++)
        known |= strcmp(refused[i], value) == 0;
    walk_push(w, "compression", ptm_yaml_map_find(map, "compression")->key);
    if (known)
        walk_error(w, ptm_yaml_map_get(map, "compression"),
                   "%s compression is not supported by profiletometrics; use gzip or none", value);
    else
        walk_error(w, ptm_yaml_map_get(map, "compression"), "expected one of gzip, none, got \"%s\"", value);
    walk_pop(w);
}

static const char *const retry_keys[] = {
    "enabled", "initial_interval", "randomization_factor", "multiplier", "max_interval", "max_elapsed_time", NULL,
};

static void parse_retry(struct config_walk *w, const struct ptm_yaml_node *map, struct ptm_retry_config *r)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "retry_on_failure");
    if (node == NULL)
        return;
    if (walk_map(w, node, retry_keys, NULL)) {
        field_bool(w, node, "enabled", &r->enabled);
        field_duration(w, node, "initial_interval", &r->initial_interval, 0, HOUR);
        field_double(w, node, "randomization_factor", &r->randomization_factor, 0.0, 1.0);
        field_double(w, node, "multiplier", &r->multiplier, 1.0, 100.0);
        field_duration(w, node, "max_interval", &r->max_interval, 0, 24 * HOUR);
        field_duration(w, node, "max_elapsed_time", &r->max_elapsed_time, 0, 7 * 24 * HOUR);
    }
    walk_pop(w);
}

static const char *const queue_keys[] = {"enabled", "num_consumers", "queue_size", "storage", NULL};

static void parse_queue(struct config_walk *w, const struct ptm_yaml_node *map, struct ptm_queue_config *q)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "sending_queue");
    if (node == NULL)
        return;
    if (walk_map(w, node, queue_keys, NULL)) {
        field_bool(w, node, "enabled", &q->enabled);
        field_u32(w, node, "num_consumers", &q->num_consumers, 1, 1000);
        field_u32(w, node, "queue_size", &q->queue_size, 1, 10000000);
        if (field_string(w, node, "storage", &q->storage, FIELD_NONEMPTY) == 1) {
            const struct ptm_yaml_node *at = ptm_yaml_map_get(node, "storage");
            q->storage_pos = (struct ptm_config_pos){at->line, at->column};
        }
    }
    walk_pop(w);
}

static void otlp_defaults(struct ptm_otlp_exporter_config *o, uint64_t timeout)
{
    *o = (struct ptm_otlp_exporter_config){
        .compression = PTM_COMPRESSION_GZIP,
        .encoding = PTM_ENCODING_PROTO,
        .timeout = timeout,
        .retry_on_failure = {true, 5 * SECOND, 0.5, 1.5, 30 * SECOND, 300 * SECOND},
        .sending_queue = {.enabled = true, .num_consumers = 10, .queue_size = 1000},
    };
}

static void parse_client_common(struct config_walk *w, const struct ptm_yaml_node *node,
                                struct ptm_otlp_exporter_config *o)
{
    parse_client_tls(w, node, &o->tls);
    field_string_map(w, node, "headers", &o->headers);
    parse_compression(w, node, &o->compression);
    field_duration(w, node, "timeout", &o->timeout, 0, HOUR);
    parse_retry(w, node, &o->retry_on_failure);
    parse_queue(w, node, &o->sending_queue);
    const struct ptm_yaml_pair *auth = ptm_yaml_map_find(node, "auth");
    if (auth != NULL) {
        walk_push(w, "auth", auth->key);
        walk_error(w, auth->key, "authenticator extensions are not supported; use headers or tls");
        walk_pop(w);
    }
}

// ---- otlp (gRPC) ----

static const char *const otlp_keys[] = {
    "endpoint", "tls", "headers", "compression", "timeout", "retry_on_failure", "sending_queue", "auth",
    "keepalive", "balancer_name", "wait_for_ready", "read_buffer_size", "write_buffer_size", NULL,
};
static const char *const otlp_ignored[] = {
    "keepalive", "balancer_name", "wait_for_ready", "read_buffer_size", "write_buffer_size", NULL,
};

static void parse_otlp(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_otlp_exporter_config *o)
{
    otlp_defaults(o, 5 * SECOND);
    if (!walk_map(w, node, otlp_keys, NULL))
        return;
    field_string(w, node, "endpoint", &o->endpoint, FIELD_REQUIRED | FIELD_NONEMPTY);
    parse_client_common(w, node, o);
    cfg_warn_ignored_keys(w, node, otlp_ignored);
}

// ---- otlphttp ----

static const char *const otlphttp_keys[] = {
    "endpoint", "metrics_endpoint", "traces_endpoint", "logs_endpoint", "profiles_endpoint", "encoding", "tls",
    "headers", "compression", "timeout", "retry_on_failure", "sending_queue", "auth", "read_buffer_size",
    "write_buffer_size", "max_idle_conns", "max_idle_conns_per_host", "max_conns_per_host", "idle_conn_timeout",
    "disable_keep_alives", "http2_read_idle_timeout", "http2_ping_timeout", NULL,
};
static const char *const otlphttp_ignored[] = {
    "read_buffer_size", "write_buffer_size", "max_idle_conns", "max_idle_conns_per_host", "max_conns_per_host",
    "idle_conn_timeout", "disable_keep_alives", "http2_read_idle_timeout", "http2_ping_timeout", NULL,
};
static const char *const encodings[] = {"proto", "json", NULL};

static void check_url(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char *url)
{
    if (url == NULL || strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
        return;
    walk_push(w, key, ptm_yaml_map_find(map, key)->key);
    walk_error(w, ptm_yaml_map_get(map, key), "expected a URL starting with http:// or https://, got \"%s\"", url);
    walk_pop(w);
}

static void parse_otlphttp(struct config_walk *w, const struct ptm_yaml_node *node,
                           struct ptm_otlp_exporter_config *o)
{
    otlp_defaults(o, 30 * SECOND);
    if (!walk_map(w, node, otlphttp_keys, NULL))
        return;
    if (field_string(w, node, "endpoint", &o->endpoint, FIELD_NONEMPTY) == 1)
        check_url(w, node, "endpoint", o->endpoint);
    if (field_string(w, node, "metrics_endpoint", &o->metrics_endpoint, FIELD_NONEMPTY) == 1)
        check_url(w, node, "metrics_endpoint", o->metrics_endpoint);
    if (ptm_yaml_map_find(node, "endpoint") == NULL && ptm_yaml_map_find(node, "metrics_endpoint") == NULL)
        walk_missing(w, "endpoint", "or metrics_endpoint");
    // The other signals' endpoints are read so a Collector file loads.
    const char *ignored = NULL;
    field_string(w, node, "traces_endpoint", &ignored, 0);
    field_string(w, node, "logs_endpoint", &ignored, 0);
    field_string(w, node, "profiles_endpoint", &ignored, 0);
    int encoding = (int)o->encoding;
    if (field_enum(w, node, "encoding", encodings, &encoding) == 1)
        o->encoding = (enum ptm_otlp_encoding)encoding;
    parse_client_common(w, node, o);
    cfg_warn_ignored_keys(w, node, otlphttp_ignored);
}

// ---- debug, prometheus, file ----

static const char *const debug_keys[] = {
    "verbosity", "sampling_initial", "sampling_thereafter", "use_internal_logger", NULL,
};
static const char *const verbosities[] = {"basic", "normal", "detailed", NULL};

static void parse_debug(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_debug_exporter_config *d)
{
    *d = (struct ptm_debug_exporter_config){PTM_VERBOSITY_BASIC, 2, 1};
    if (!walk_map(w, node, debug_keys, NULL))
        return;
    int verbosity = (int)d->verbosity;
    if (field_enum(w, node, "verbosity", verbosities, &verbosity) == 1)
        d->verbosity = (enum ptm_debug_verbosity)verbosity;
    field_u32(w, node, "sampling_initial", &d->sampling_initial, 0, UINT32_MAX);
    field_u32(w, node, "sampling_thereafter", &d->sampling_thereafter, 1, UINT32_MAX);
    cfg_warn_ignored_keys(w, node, (const char *const[]){"use_internal_logger", NULL});
}

static const char *const prometheus_keys[] = {
    "endpoint", "namespace", "const_labels", "resource_to_telemetry_conversion", "metric_expiration",
    "send_timestamps", "add_metric_suffixes", "enable_open_metrics", NULL,
};

static void parse_prometheus(struct config_walk *w, const struct ptm_yaml_node *node,
                             struct ptm_prometheus_exporter_config *p)
{
    *p = (struct ptm_prometheus_exporter_config){
        .endpoint = "0.0.0.0:8889", .metric_expiration = 300 * SECOND, .add_metric_suffixes = true};
    if (!walk_map(w, node, prometheus_keys, NULL))
        return;
    field_endpoint(w, node, "endpoint", &p->endpoint);
    field_string(w, node, "namespace", &p->namespace, 0);
    field_string_map(w, node, "const_labels", &p->const_labels);
    const struct ptm_yaml_node *conversion = walk_enter(w, node, "resource_to_telemetry_conversion");
    if (conversion != NULL) {
        if (walk_map(w, conversion, (const char *const[]){"enabled", NULL}, NULL))
            field_bool(w, conversion, "enabled", &p->resource_to_telemetry_conversion);
        walk_pop(w);
    }
    field_duration(w, node, "metric_expiration", &p->metric_expiration, SECOND, 30 * 24 * HOUR);
    field_bool(w, node, "send_timestamps", &p->send_timestamps);
    field_bool(w, node, "add_metric_suffixes", &p->add_metric_suffixes);
    cfg_warn_ignored_keys(w, node, (const char *const[]){"enable_open_metrics", NULL});
}

static const char *const file_formats[] = {"json", "proto", NULL};

static void parse_file(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_file_exporter_config *f)
{
    *f = (struct ptm_file_exporter_config){.format = PTM_FILE_FORMAT_JSON};
    if (!walk_map(w, node, (const char *const[]){"path", "format", "append", NULL}, NULL))
        return;
    field_string(w, node, "path", &f->path, FIELD_REQUIRED | FIELD_NONEMPTY);
    int format = (int)f->format;
    if (field_enum(w, node, "format", file_formats, &format) == 1)
        f->format = (enum ptm_file_format)format;
    field_bool(w, node, "append", &f->append);
}

// ---- the section ----

static void parse_exporter(struct config_walk *w, const struct ptm_yaml_pair *pair, int type,
                           struct ptm_exporter_config *e)
{
    e->id = walk_strdup(w, pair->key->value);
    e->type = exporter_type_of[type];
    e->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
    switch (e->type) {
    case PTM_EXPORTER_DEBUG: parse_debug(w, pair->value, &e->debug); break;
    case PTM_EXPORTER_OTLP: parse_otlp(w, pair->value, &e->otlp); break;
    case PTM_EXPORTER_OTLPHTTP: parse_otlphttp(w, pair->value, &e->otlp); break;
    case PTM_EXPORTER_PROMETHEUS: parse_prometheus(w, pair->value, &e->prometheus); break;
    case PTM_EXPORTER_FILE: parse_file(w, pair->value, &e->file); break;
    }
}

void cfg_parse_exporters(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section)
{
    if (!walk_expect_map(w, section))
        return;
    config->exporters = walk_calloc(w, section->pair_count, sizeof *config->exporters);
    if (config->exporters == NULL)
        return;
    for (size_t i = 0; i < section->pair_count; i++) {
        const struct ptm_yaml_pair *pair = &section->pairs[i];
        walk_push(w, pair->key->value, pair->key);
        int type = cfg_component_type(w, pair->key, "exporter", exporter_types, exporter_type_hints);
        if (type >= 0)
            parse_exporter(w, pair, type, &config->exporters[config->exporter_count++]);
        walk_pop(w);
    }
}

static void check_storage(struct config_walk *w, const struct ptm_config *config, const struct ptm_queue_config *q)
{
    const struct ptm_extension_config *e = ptm_config_find_extension(config, q->storage);
    if (e == NULL)
        walk_error_pos(w, q->storage_pos, "extension \"%s\" is not defined under extensions", q->storage);
    else if (e->type != PTM_EXTENSION_FILE_STORAGE)
        walk_error_pos(w, q->storage_pos, "extension \"%s\" is not a file_storage extension", q->storage);
    else if (!e->enabled)
        walk_error_pos(w, q->storage_pos, "extension \"%s\" is not enabled: add it to service.extensions",
                       q->storage);
}

void cfg_check_queue_storage(struct config_walk *w, const struct ptm_config *config)
{
    for (size_t i = 0; i < config->exporter_count; i++) {
        const struct ptm_exporter_config *e = &config->exporters[i];
        if ((e->type != PTM_EXPORTER_OTLP && e->type != PTM_EXPORTER_OTLPHTTP) || e->otlp.sending_queue.storage == NULL)
            continue;
        walk_push(w, "exporters", NULL);
        walk_push(w, e->id, NULL);
        walk_push(w, "sending_queue", NULL);
        walk_push(w, "storage", NULL);
        check_storage(w, config, &e->otlp.sending_queue);
        walk_pop(w);
        walk_pop(w);
        walk_pop(w);
        walk_pop(w);
    }
}
