// SPDX-License-Identifier: Apache-2.0
//
// What the two OTLP exporters (otlp over gRPC, otlphttp) share around their
// transports: the exporter record, its construction (id, log component,
// target, on-disk queue directory, sender) and its ops (export, shutdown,
// destroy, abort). Each exporter supplies how its target and headers are
// configured and how one request is sent (sender.h's transport).
#pragma once

#include "server/component.h"
#include "server/http_client.h"
#include "server/sender.h"

struct ptm_otlp_exporter {
    struct ptm_exporter base;
    char *id;
    char *component; // "exporter/<id>", for logs
    struct ptm_client_tls_config tls; // strings owned
    struct ptm_client_route route;
    struct ptm_client_target target;
    uint32_t flags;                // what new requests are: PTM_REQUEST_*
    struct curl_slist *headers[4]; // by request flags; those a kind does not use stay NULL
    struct ptm_sender *sender;
};

/// What differs between the exporters.
struct ptm_otlp_exporter_kind {
    /// Fill tls, route, target, flags and headers from the settings.
    /// Returns 0, or a negative ptm_err with err (what was set is freed by
    /// the destroy).
    int (*configure)(struct ptm_otlp_exporter *x, const struct ptm_otlp_exporter_config *o, struct ptm_error *err);
    /// The transport's functions; their ctx is the ptm_otlp_exporter.
    void *(*open)(void *ctx);
    void (*send)(void *ctx, void *conn, const struct ptm_request *req, const atomic_bool *cancel,
                 struct ptm_send_result *out);
    void (*close)(void *ctx, void *conn);
    /// The info line logged once started, before the URL ("sending to").
    const char *started;
};

/// Create an OTLP exporter of the given kind (borrowed; outlives it) from
/// cfg; config and telemetry as for ptm_exporter_create. NULL with err.
struct ptm_exporter *ptm_otlp_exporter_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                              struct ptm_telemetry *telemetry,
                                              const struct ptm_otlp_exporter_kind *kind, struct ptm_error *err);
