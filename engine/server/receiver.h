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
//
// A receiver counts what ptm_service_submit answered with
// ptm_receiver_count_submit, and each answered request with
// ptm_receiver_count_request (HTTP status or gRPC code name).
#pragma once

#include "server/http.h"
#include "server/service.h"
#include "server/telemetry.h"

struct ptm_receiver_telemetry {
    struct ptm_telemetry *telemetry; ///< borrowed; NULL counts nothing
    char labels[224];                ///< `receiver="ID",transport="T"`, escaped
};

/// Describe the families and fill rt for receiver id over transport
/// ("grpc" or "http"). telemetry may be NULL.
void ptm_receiver_telemetry_init(struct ptm_receiver_telemetry *rt, struct ptm_telemetry *telemetry,
                                 const char *id, const char *transport);

/// Count one answered request: code is the HTTP status ("200") or the gRPC
/// code name ("OK"); seconds from its arrival to its answer.
void ptm_receiver_count_request(const struct ptm_receiver_telemetry *rt, const char *code, double seconds);

/// Count what ptm_service_submit answered: profiles and samples accepted,
/// profiles refused, and the request when it was refused as overloaded.
void ptm_receiver_count_submit(const struct ptm_receiver_telemetry *rt, const struct ptm_submit_result *res);

/// A ptm_http_observer (ctx: the struct ptm_receiver_telemetry): count the
/// request by status code with its duration.
void ptm_receiver_observe_http(void *ctx, const struct ptm_http_request *req, unsigned status);
