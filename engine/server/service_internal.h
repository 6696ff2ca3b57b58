// SPDX-License-Identifier: Apache-2.0
//
// The service's state, shared by service.c (requests, worker, flush) and
// pipeline.c (building receivers and exporters from the configuration,
// reload, shutdown).
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "api/engine.h"
#include "server/component.h"
#include "server/memory_limiter.h"
#include "server/service.h"

/// A decoded request waiting for the worker.
struct queued {
    struct ptm_model *model;
    uint64_t received; // CLOCK_MONOTONIC ns, for the queue-time histogram
};

/// Failures of one rule of the current engine counted in the telemetry so
/// far (an engine's counts start at 0 again after a reload; the telemetry's
/// counter goes on).
struct ptm_rule_errors_seen {
    char *rule;
    unsigned errors;
};

struct ptm_service {
    struct ptm_config *config;                    // owned
    struct ptm_config *receiver_config;           // what the receivers run on, when a reload replaced config
    const struct ptm_connector_config *connector; // within config; NULL = defaults
    struct ptm_telemetry *telemetry;              // owned

    // The engine and the exporters, swapped whole on reload.
    pthread_mutex_t engine_lock;
    struct ptm_engine *engine;
    struct ptm_exporter **exporters;
    size_t n_exporters;

    // Decoded requests, and the models they are decoded into.
    pthread_mutex_t queue_lock;
    pthread_cond_t queue_ready; // work for the worker, or stopping
    pthread_cond_t queue_empty; // the worker went idle with nothing queued
    pthread_cond_t model_free;  // a model came back to the pool (CLOCK_MONOTONIC)
    struct queued *queue;
    size_t queue_cap, queue_head, queue_len;
    struct ptm_model **pool; // models not in use
    size_t pool_len, models_made, models_max;
    bool worker_busy;

    size_t max_decompressed;
    uint64_t flush_interval; // ns
    uint64_t flushed_changes;               // the store's changes at the last flush
    const struct ptm_engine *flushed_engine; // ... of this engine
    pthread_t worker, flusher;
    bool threads_started;
    pthread_mutex_t flush_lock;
    pthread_cond_t flush_wake; // stopping, or a flush wanted now
    atomic_bool stopping;
    atomic_bool healthy;

    struct ptm_memory_limiter *memory_limiter; // NULL: the profiles pipeline has no memory_limiter

    struct ptm_receiver **receivers;
    size_t n_receivers;
    struct ptm_auth **authenticators; // the receivers' bearertokenauth extensions, made once each
    size_t n_authenticators;
    struct ptm_telemetry_server **telemetry_servers;
    size_t n_telemetry_servers;

    struct ptm_rule_errors_seen *rule_errors; // under engine_lock
    size_t n_rule_errors;
};

/// What the pipelines ask for: one connector, its receivers and exporters
/// (ids borrowed from the configuration), and the memory_limiter of a
/// profiles pipeline feeding it (or NULL).
struct ptm_wiring {
    const char *connector;
    const char **receivers;
    size_t n_receivers;
    const char **exporters;
    size_t n_exporters;
    const struct ptm_processor_config *memory_limiter;
};

// pipeline.c: building the parts from the configuration.
/// Read the pipelines: the connector, its receivers and exporters. Errors
/// (no profiles pipeline into a connector, two connectors) in err.
int ptm_service_wire(const struct ptm_config *config, struct ptm_wiring *w, struct ptm_error *err);
void ptm_wiring_free(struct ptm_wiring *w);
/// Shut every exporter of list down (sending until deadline), destroy them
/// and free list.
void ptm_service_destroy_exporters(struct ptm_exporter **list, size_t n, uint64_t deadline);
/// service.telemetry.logs.level, applied to the log.
void ptm_service_apply_log_level(const struct ptm_config *config);
/// Forget the rule error counts of the engine being replaced (engine_lock
/// held).
void ptm_service_reset_rule_errors(struct ptm_service *svc);

/// The running authenticator of extension id, made from config's
/// extension the first time (its token file read). NULL with err.
struct ptm_auth *ptm_service_authenticator(struct ptm_service *svc, const struct ptm_config *config, const char *id,
                                           struct ptm_error *err);

/// Create the engine for connector (NULL: defaults). NULL with err.
struct ptm_engine *ptm_service_make_engine(const struct ptm_config *config,
                                           const struct ptm_connector_config *connector, struct ptm_error *err);

/// Collect the engine's store and hand the snapshot to every exporter.
/// Called with engine_lock held.
void ptm_service_flush_locked(struct ptm_service *svc);

// service.c: the queue, the worker and the flush thread.
int ptm_service_init_queue(struct ptm_service *svc, size_t capacity);
int ptm_service_start_threads(struct ptm_service *svc);
/// Convert everything queued, then stop the worker and the flush thread.
void ptm_service_drain(struct ptm_service *svc);
/// Wait until the worker has converted everything queued so far.
void ptm_service_wait_idle(struct ptm_service *svc);
void ptm_service_free_queue(struct ptm_service *svc);
/// Give back memory held for speed only: idle models, free heap pages (a
/// ptm_memory_release for the memory_limiter; ctx is the service).
void ptm_service_release_memory(void *ctx);
