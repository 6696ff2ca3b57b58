// SPDX-License-Identifier: Apache-2.0
//
// Receivers and exporters as the service runs them. Each kind has a start
// function; all share stop/destroy through an ops table.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "metrics/store.h"
#include "server/service.h"
#include "server/telemetry.h"

// ---- receivers ----

struct ptm_receiver;

struct ptm_receiver_ops {
    /// Stop accepting new requests and connections; requests already read
    /// are answered. Returns when the listeners are closed.
    void (*stop)(struct ptm_receiver *r);
    void (*destroy)(struct ptm_receiver *r);
};

struct ptm_receiver {
    const struct ptm_receiver_ops *ops;
    const char *id; // the config id, e.g. "otlp"
};

struct ptm_auth;

/// The OTLP receiver's HTTP side (protocols.http), when configured. auth:
/// the authenticator its auth block names (borrowed, must outlive the
/// receiver), or NULL.
struct ptm_receiver *ptm_receiver_otlp_http_start(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                  struct ptm_auth *auth, struct ptm_error *err);
/// The OTLP receiver's gRPC side (protocols.grpc), when configured; auth as
/// above.
struct ptm_receiver *ptm_receiver_otlp_grpc_start(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                  struct ptm_auth *auth, struct ptm_error *err);
/// The Pyroscope-compatible pprof push endpoint (/ingest); auth as above.
struct ptm_receiver *ptm_receiver_pyroscope_start(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                  struct ptm_auth *auth, struct ptm_error *err);

// ---- exporters ----

struct ptm_exporter;

struct ptm_exporter_ops {
    /// A new snapshot (valid only during the call, as is the store behind
    /// it): encode what is needed and queue it. Must not wait on the network.
    /// Returns 0, or a negative ptm_err when the data had to be dropped
    /// (counted and logged by the exporter itself).
    int (*export)(struct ptm_exporter *e, const struct ptm_snapshot *snapshot);
    /// Send what is queued until deadline (CLOCK_MONOTONIC ns), then stop.
    /// What an on-disk queue holds stays there for the next start.
    void (*shutdown)(struct ptm_exporter *e, uint64_t deadline);
    void (*destroy)(struct ptm_exporter *e);
    /// Optional (NULL: nothing waits): make the shutdown deadline "now",
    /// from another thread, while shutdown runs or before it does (a second
    /// SIGTERM).
    void (*abort)(struct ptm_exporter *e);
};

struct ptm_exporter {
    const struct ptm_exporter_ops *ops;
    const char *id; // the config id, e.g. "otlphttp/backend"
};

/// Create the exporter cfg describes (debug, otlp, otlphttp, prometheus,
/// file): one of the constructors below. config is the whole configuration
/// (for extensions such as file_storage); telemetry gets the exporter's
/// counters. NULL with err.
struct ptm_exporter *ptm_exporter_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                         struct ptm_telemetry *telemetry, struct ptm_error *err);

/// True when exporter settings a (of configuration ca) and b (of cb) are the
/// same: a reload keeps the running exporter then, with its queue, its
/// listener and its state.
bool ptm_exporter_config_same(const struct ptm_exporter_config *a, const struct ptm_config *ca,
                              const struct ptm_exporter_config *b, const struct ptm_config *cb);

struct ptm_exporter *ptm_exporter_debug_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                               struct ptm_telemetry *telemetry, struct ptm_error *err);
struct ptm_exporter *ptm_exporter_file_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                              struct ptm_telemetry *telemetry, struct ptm_error *err);
struct ptm_exporter *ptm_exporter_otlphttp_create(const struct ptm_exporter_config *cfg,
                                                  const struct ptm_config *config, struct ptm_telemetry *telemetry,
                                                  struct ptm_error *err);
struct ptm_exporter *ptm_exporter_otlp_grpc_create(const struct ptm_exporter_config *cfg,
                                                   const struct ptm_config *config, struct ptm_telemetry *telemetry,
                                                   struct ptm_error *err);
struct ptm_exporter *ptm_exporter_prometheus_create(const struct ptm_exporter_config *cfg,
                                                    const struct ptm_config *config, struct ptm_telemetry *telemetry,
                                                    struct ptm_error *err);

// ---- the self-telemetry and health endpoint ----

struct ptm_telemetry_server;

/// Serve GET /metrics (the service's own metrics, Prometheus text) and GET
/// /health, GET / and GET health_path (may be NULL) (200 while healthy, else
/// 503) on address ("host:port").
struct ptm_telemetry_server *ptm_telemetry_server_start(const char *address, const char *health_path,
                                                        struct ptm_service *svc, struct ptm_error *err);
void ptm_telemetry_server_stop(struct ptm_telemetry_server *s);
