// SPDX-License-Identifier: Apache-2.0
//
// The exporter factory: one constructor per exporter type; and the test a
// reload uses to keep a running exporter whose settings did not change.
#include <string.h>

#include "server/component.h"
#include "util/error.h"

struct ptm_exporter *ptm_exporter_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                         struct ptm_telemetry *telemetry, struct ptm_error *err)
{
    switch (cfg->type) {
    case PTM_EXPORTER_DEBUG: return ptm_exporter_debug_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_OTLP: return ptm_exporter_otlp_grpc_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_OTLPHTTP: return ptm_exporter_otlphttp_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_PROMETHEUS: return ptm_exporter_prometheus_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_FILE: return ptm_exporter_file_create(cfg, config, telemetry, err);
    }
    ptm_error_set(err, PTM_ECONFIG, "exporter %s: unknown type", cfg->id);
    return NULL;
}

// ---- same settings ----

static bool same_string(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_map(const struct ptm_config_string_map *a, const struct ptm_config_string_map *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!same_string(a->keys[i], b->keys[i]) || !same_string(a->values[i], b->values[i]))
            return false;
    return true;
}

static bool same_tls(const struct ptm_client_tls_config *a, const struct ptm_client_tls_config *b)
{
    return a->insecure == b->insecure && a->insecure_skip_verify == b->insecure_skip_verify &&
           same_string(a->ca_file, b->ca_file) && same_string(a->cert_file, b->cert_file) &&
           same_string(a->key_file, b->key_file) && same_string(a->server_name_override, b->server_name_override);
}

// The directory an on-disk queue lives in, or NULL for a memory queue.
static const char *queue_directory(const struct ptm_queue_config *q, const struct ptm_config *config)
{
    const struct ptm_extension_config *x = q->storage ? ptm_config_find_extension(config, q->storage) : NULL;
    return x != NULL ? x->directory : NULL;
}

static bool same_otlp(const struct ptm_otlp_exporter_config *a, const struct ptm_config *ca,
                      const struct ptm_otlp_exporter_config *b, const struct ptm_config *cb)
{
    const struct ptm_retry_config *ra = &a->retry_on_failure, *rb = &b->retry_on_failure;
    const struct ptm_queue_config *qa = &a->sending_queue, *qb = &b->sending_queue;
    return same_string(a->endpoint, b->endpoint) && same_string(a->metrics_endpoint, b->metrics_endpoint) &&
           a->encoding == b->encoding && same_tls(&a->tls, &b->tls) && same_map(&a->headers, &b->headers) &&
           a->compression == b->compression && a->timeout == b->timeout && ra->enabled == rb->enabled &&
           ra->initial_interval == rb->initial_interval && ra->randomization_factor == rb->randomization_factor &&
           ra->multiplier == rb->multiplier && ra->max_interval == rb->max_interval &&
           ra->max_elapsed_time == rb->max_elapsed_time && qa->enabled == qb->enabled &&
           qa->num_consumers == qb->num_consumers && qa->queue_size == qb->queue_size &&
           same_string(qa->storage, qb->storage) && same_string(queue_directory(qa, ca), queue_directory(qb, cb));
}

bool ptm_exporter_config_same(const struct ptm_exporter_config *a, const struct ptm_config *ca,
                              const struct ptm_exporter_config *b, const struct ptm_config *cb)
{
    if (a->type != b->type || strcmp(a->id, b->id) != 0)
        return false;
    switch (a->type) {
    case PTM_EXPORTER_DEBUG:
        return a->debug.verbosity == b->debug.verbosity && a->debug.sampling_initial == b->debug.sampling_initial &&
               a->debug.sampling_thereafter == b->debug.sampling_thereafter;
    case PTM_EXPORTER_OTLP:
    case PTM_EXPORTER_OTLPHTTP: return same_otlp(&a->otlp, ca, &b->otlp, cb);
    case PTM_EXPORTER_PROMETHEUS: {
        const struct ptm_prometheus_exporter_config *pa = &a->prometheus, *pb = &b->prometheus;
        return same_string(pa->endpoint, pb->endpoint) && same_string(pa->namespace, pb->namespace) &&
               same_map(&pa->const_labels, &pb->const_labels) &&
               pa->resource_to_telemetry_conversion == pb->resource_to_telemetry_conversion &&
               pa->metric_expiration == pb->metric_expiration && pa->send_timestamps == pb->send_timestamps &&
               pa->add_metric_suffixes == pb->add_metric_suffixes;
    }
    case PTM_EXPORTER_FILE:
        return same_string(a->file.path, b->file.path) && a->file.format == b->file.format &&
               a->file.append == b->file.append;
    }
    return false;
}
