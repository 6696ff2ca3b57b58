// SPDX-License-Identifier: Apache-2.0
//
// What the receivers (OTLP/gRPC, OTLP/HTTP, Pyroscope /ingest) share: their
// self-telemetry, one set of families labelled as the Collector labels its
// own receiver metrics, receiver="ID" (the configuration's id, "otlp",
// "otlp/edge", "pyroscope") and transport="grpc" or "http":
//
//   ptm_receiver_requests_total{receiver,transport,code}
//   ptm_receiver_request_duration_seconds{receiver,transport}   histogram
//   ptm_receiver_accepted_profiles_total{receiver,transport}
//   ptm_receiver_refused_profiles_total{receiver,transport}
//   ptm_receiver_accepted_samples_total{receiver,transport}
//   ptm_receiver_overloaded_requests_total{receiver,transport}
//   ptm_receiver_open_connections{receiver,transport}              gauge
//   ptm_receiver_refused_connections_total{receiver,transport}
//   ptm_receiver_timeouts_total{receiver,transport,timeout}
//
// A receiver counts what ptm_service_submit answered with
// ptm_receiver_count_submit, and each answered request with
// ptm_receiver_count_request (HTTP status or gRPC code name). Its server
// reports connections to ptm_receiver_conn_event, which counts them and
// logs refusals and timeouts as warnings (idle ones, routine, at debug
// level), at most one line per kind every 10 s (the next line says how many
// were left out).
//
// The two HTTP receivers also share their shell (ptm_http_receiver): the
// record their handlers read, its construction, listening and ops.
#pragma once

#include "server/component.h"
#include "server/conn_event.h"
#include "server/http.h"
#include "server/log.h"
#include "server/service.h"
#include "server/telemetry.h"

struct ptm_receiver_telemetry {
    struct ptm_telemetry *telemetry; ///< borrowed; NULL counts nothing
    char labels[224];                ///< `receiver="ID",transport="T"`, escaped
    char component[176];             ///< "receiver/ID", for the log
    struct ptm_log_limiter limits[PTM_CONN_EVENT_COUNT];
};

/// Describe the families and fill rt for receiver id over transport
/// ("grpc" or "http"). telemetry may be NULL. Free with
/// ptm_receiver_telemetry_fini.
void ptm_receiver_telemetry_init(struct ptm_receiver_telemetry *rt, struct ptm_telemetry *telemetry,
                                 const char *id, const char *transport);

void ptm_receiver_telemetry_fini(struct ptm_receiver_telemetry *rt);

/// A ptm_conn_event_fn (ctx: the struct ptm_receiver_telemetry).
void ptm_receiver_conn_event(void *ctx, enum ptm_conn_event event, const char *detail);

/// The options of an HTTP receiver's server from its configuration h:
/// limits, deadlines (into *timeouts, which must live as long as *opts is
/// used), TLS, auth (may be NULL) and the connection events to rt.
void ptm_receiver_http_options(const struct ptm_http_server_config *h, struct ptm_auth *auth,
                               struct ptm_receiver_telemetry *rt, struct ptm_http_timeouts *timeouts,
                               struct ptm_http_options *opts);

/// " with TLS", " with TLS and client certificates", then " and bearer
/// token auth (ID)" when auth is set, or "" for neither: for the
/// "listening" log line.
void ptm_receiver_security_text(const struct ptm_server_tls_config *tls, struct ptm_auth *auth, char *out,
                                size_t size);

/// A configured duration (ns, 0 = none) in whole ms, rounded up; 0 stays 0.
uint64_t ptm_receiver_ms(uint64_t ns);

/// Count one answered request: code is the HTTP status ("200") or the gRPC
/// code name ("OK"); seconds from its arrival to its answer.
void ptm_receiver_count_request(const struct ptm_receiver_telemetry *rt, const char *code, double seconds);

/// Count what ptm_service_submit answered: profiles and samples accepted,
/// profiles refused, and the request when it was refused as overloaded.
void ptm_receiver_count_submit(const struct ptm_receiver_telemetry *rt, const struct ptm_submit_result *res);

/// A ptm_http_observer (ctx: the struct ptm_receiver_telemetry): count the
/// request by status code with its duration.
void ptm_receiver_observe_http(void *ctx, const struct ptm_http_request *req, unsigned status);

// ---- the HTTP receivers' shell ----

/// An HTTP receiver (OTLP/HTTP, Pyroscope /ingest): what its handlers read.
struct ptm_http_receiver {
    struct ptm_receiver base;
    struct ptm_service *svc; // borrowed
    char *id;
    char component[176]; // "receiver/ID"
    size_t max_body;     // max_request_body_size
    struct ptm_receiver_telemetry telemetry;
    struct ptm_http_server *http;
};

/// An HTTP receiver for cfg, not listening yet (its routes take it as ctx).
/// NULL with err when out of memory.
struct ptm_http_receiver *ptm_receiver_http_create(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                   struct ptm_error *err);

/// Serve routes (copied) on h with auth (may be NULL; borrowed), and log
/// "NAME listening on ...". On failure r is destroyed and NULL returned with
/// err, prefixed with "receivers.ID" and where (".protocols.http", or "").
struct ptm_receiver *ptm_receiver_http_listen(struct ptm_http_receiver *r, const struct ptm_http_server_config *h,
                                              struct ptm_auth *auth, const struct ptm_http_route *routes,
                                              size_t route_count, const char *where, const char *name,
                                              struct ptm_error *err);
