// SPDX-License-Identifier: Apache-2.0
//
// The OTLP receiver's gRPC side (protocols.grpc): the unary method
// /opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export
// on the gRPC server of grpc_server.h; any other method is UNIMPLEMENTED.
// The request message goes to ptm_service_submit as OTLP protobuf, and the
// result is answered as the OTLP specification says:
//   OK           OK, an empty ExportProfilesServiceResponse
//   PARTIAL      OK, partial_success {rejected_profiles, error_message}
//   BAD_REQUEST  INVALID_ARGUMENT with the message
//   TOO_LARGE    RESOURCE_EXHAUSTED without retry information (not retryable)
//   OVERLOADED   RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail in
//                grpc-status-details-bin
//   UNAVAILABLE  UNAVAILABLE (retryable)
// Overload is RESOURCE_EXHAUSTED + RetryInfo rather than UNAVAILABLE because
// that is the signal the OTLP specification defines for throttling ("the
// client SHOULD interpret RESOURCE_EXHAUSTED as retryable only if the server
// signals that recovery is possible with RetryInfo") and the one that
// carries the delay: the Collector's otlp exporter and the OpenTelemetry
// SDKs retry it and wait retry_delay, while TOO_LARGE, with the same code
// and no RetryInfo, is correctly never retried.
//
// Telemetry (receiver.h), labelled receiver="ID",transport="grpc":
// ptm_receiver_requests_total by gRPC code name ("OK", "INVALID_ARGUMENT",
// ...), the request duration histogram, accepted and refused profiles and
// samples.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/duration.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.pb-c.h"
#include "server/component.h"
#include "server/grpc_server.h"
#include "server/http.h"
#include "server/receiver.h"
#include "server/log.h"
#include "util/error.h"
#include "util/strbuf.h"

#define EXPORT_METHOD "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
#define RETRY_INFO_TYPE_URL "type.googleapis.com/google.rpc.RetryInfo"

struct otlp_grpc {
    struct ptm_receiver base;
    struct ptm_service *svc;
    char *id;
    char component[176]; // "receiver/ID"
    size_t max_message; // max_recv_msg_size: also what a gzip message may inflate to
    struct ptm_receiver_telemetry telemetry;
    struct ptm_grpc_server *server;
};

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse
    export_response;
typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesPartialSuccess partial_success;

// ---- response messages ----

// The ExportProfilesServiceResponse: empty, or with partial_success when
// profiles were rejected or there is a warning. Sets res->body.
static void success_response(struct ptm_grpc_response *res, const struct ptm_submit_result *result)
{
    bool partial = result->status == PTM_SUBMIT_PARTIAL || result->rejected_profiles > 0;
    if (!partial)
        return; // an empty message
    struct ptm_strbuf text = {0};
    ptm_strbuf_utf8(&text, result->message, strlen(result->message)); // protobuf strings are UTF-8
    partial_success ps = OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_PARTIAL_SUCCESS__INIT;
    ps.rejected_profiles = result->rejected_profiles;
    ps.error_message = text.data != NULL ? text.data : "";
    export_response msg = OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_RESPONSE__INIT;
    msg.partial_success = &ps;
    size_t size = opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__get_packed_size(&msg);
    res->body = malloc(size);
    if (res->body == NULL)
        ptm_grpc_response_set(res, PTM_GRPC_RESOURCE_EXHAUSTED, "out of memory packing the response");
    else
        res->body_len =
            opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__pack(&msg,
                                                                                                        res->body);
    ptm_strbuf_free(&text);
}

// grpc-status-details-bin for an overload: google.rpc.Status{code, message,
// details [Any{RetryInfo{retry_delay}}]}. Left unset when out of memory
// (the status code and message still go out).
static void retry_details(struct ptm_grpc_response *res, uint32_t retry_seconds)
{
    Google__Protobuf__Duration delay = GOOGLE__PROTOBUF__DURATION__INIT;
    delay.seconds = retry_seconds;
    Google__Rpc__RetryInfo info = GOOGLE__RPC__RETRY_INFO__INIT;
    info.retry_delay = &delay;
    uint8_t info_bytes[64]; // a Duration of seconds only: at most 15 bytes
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = RETRY_INFO_TYPE_URL;
    any.value.data = info_bytes;
    any.value.len = google__rpc__retry_info__pack(&info, info_bytes);
    Google__Protobuf__Any *details[] = {&any};
    struct ptm_strbuf text = {0};
    ptm_strbuf_utf8(&text, res->message, strlen(res->message));
    Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
    status.code = (int32_t)res->code;
    status.message = text.data != NULL ? text.data : "";
    status.n_details = 1;
    status.details = details;
    size_t size = google__rpc__status__get_packed_size(&status);
    res->details = malloc(size);
    if (res->details != NULL)
        res->details_len = google__rpc__status__pack(&status, res->details);
    ptm_strbuf_free(&text);
}

static void answer_result(struct ptm_grpc_response *res, const struct ptm_submit_result *result)
{
    uint32_t retry = result->retry_after_seconds ? result->retry_after_seconds : 1;
    switch (result->status) {
    case PTM_SUBMIT_OK:
    case PTM_SUBMIT_PARTIAL:
        success_response(res, result);
        return;
    case PTM_SUBMIT_BAD_REQUEST:
        ptm_grpc_response_set(res, PTM_GRPC_INVALID_ARGUMENT, "%s", result->message);
        return;
    case PTM_SUBMIT_TOO_LARGE:
        ptm_grpc_response_set(res, PTM_GRPC_RESOURCE_EXHAUSTED, "%s", result->message);
        return;
    case PTM_SUBMIT_OVERLOADED:
        ptm_grpc_response_set(res, PTM_GRPC_RESOURCE_EXHAUSTED, "%s",
                              result->message[0] ? result->message : "the service is overloaded: retry later");
        retry_details(res, retry);
        return;
    case PTM_SUBMIT_UNAVAILABLE:
        ptm_grpc_response_set(res, PTM_GRPC_UNAVAILABLE, "%s",
                              result->message[0] ? result->message : "the service is shutting down: retry later");
        return;
    }
    ptm_grpc_response_set(res, PTM_GRPC_INTERNAL, "unknown submit status %d", (int)result->status);
}

// ---- the handler and the request telemetry ----

static void handle_export(void *ctx, const struct ptm_grpc_request *req, struct ptm_grpc_response *res)
{
    struct otlp_grpc *r = ctx;
    struct ptm_submit sub = {
        .data = req->message != NULL ? (const void *)req->message : "",
        .len = req->len,
        .format = PTM_FORMAT_OTLP,
        .receiver = r->id,
        .received_ns = req->start_ns,
        .max_decompressed = r->max_message,
    };
    struct ptm_submit_result result;
    memset(&result, 0, sizeof result);
    ptm_service_submit(r->svc, &sub, &result);
    ptm_receiver_count_submit(&r->telemetry, &result);
    if (result.status != PTM_SUBMIT_OK)
        ptm_log_debug(r->component, "Export: %s", result.message);
    answer_result(res, &result);
}

static void count_answer(void *ctx, const char *method, enum ptm_grpc_code code, double seconds)
{
    const struct otlp_grpc *r = ctx;
    ptm_receiver_count_request(&r->telemetry, ptm_grpc_code_name(code), seconds);
}

static void conn_event(void *ctx, enum ptm_conn_event event, const char *detail)
{
    struct otlp_grpc *r = ctx;
    ptm_receiver_conn_event(&r->telemetry, event, detail);
}

// ---- the receiver ----

static void otlp_grpc_stop(struct ptm_receiver *base)
{
    struct otlp_grpc *r = (struct otlp_grpc *)base;
    ptm_grpc_server_stop(r->server);
}

static void otlp_grpc_destroy(struct ptm_receiver *base)
{
    struct otlp_grpc *r = (struct otlp_grpc *)base;
    if (r == NULL)
        return;
    ptm_grpc_server_destroy(r->server);
    ptm_receiver_telemetry_fini(&r->telemetry);
    free(r->id);
    free(r);
}

static const struct ptm_receiver_ops otlp_grpc_ops = {
    .stop = otlp_grpc_stop,
    .destroy = otlp_grpc_destroy,
};

// A configured timeout (ns, 0 = none) as the gRPC server takes it.
static uint64_t grpc_timeout(uint64_t ns)
{
    return ns == 0 ? PTM_GRPC_NO_TIMEOUT : ptm_receiver_ms(ns);
}

struct ptm_receiver *ptm_receiver_otlp_grpc_start(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                  struct ptm_auth *auth, struct ptm_error *err)
{
    static const char *const methods[] = {EXPORT_METHOD, NULL};
    struct otlp_grpc *r = calloc(1, sizeof *r);
    if (r == NULL || (r->id = strdup(cfg->id)) == NULL) {
        free(r);
        ptm_error_set(err, PTM_ENOMEM, "receivers.%s: out of memory", cfg->id);
        return NULL;
    }
    r->base.ops = &otlp_grpc_ops;
    r->base.id = r->id;
    r->svc = svc;
    r->max_message = cfg->otlp.grpc.max_recv_msg_size;
    snprintf(r->component, sizeof r->component, "receiver/%s", cfg->id);
    ptm_receiver_telemetry_init(&r->telemetry, ptm_service_telemetry(svc), cfg->id, "grpc");
    const struct ptm_grpc_server_config *g = &cfg->otlp.grpc;
    const struct ptm_server_tls_config *tls = &g->tls;
    struct ptm_grpc_server_options opts = {
        .address = g->endpoint,
        .component = r->component,
        .methods = methods,
        .handler = handle_export,
        .answered = count_answer,
        .ctx = r,
        .max_recv_msg_size = g->max_recv_msg_size,
        .max_connections = g->max_connections,
        .max_concurrent_streams = g->max_concurrent_streams,
        .workers = ptm_http_default_threads(),
        .handshake_timeout_ms = grpc_timeout(g->handshake_timeout),
        .idle_timeout_ms = grpc_timeout(g->max_connection_idle),
        .request_timeout_ms = grpc_timeout(g->read_timeout),
        .write_timeout_ms = grpc_timeout(g->write_timeout),
        .cert_file = tls->enabled ? tls->cert_file : NULL,
        .key_file = tls->enabled ? tls->key_file : NULL,
        .client_ca_file = tls->enabled ? tls->client_ca_file : NULL,
        .tls_min_version = (unsigned)tls->min_version,
        .tls_max_version = (unsigned)tls->max_version,
        .auth = auth,
        .on_conn_event = conn_event,
    };
    r->server = ptm_grpc_server_start(&opts, err);
    if (r->server == NULL) {
        ptm_error_prefix(err, "receivers.%s.protocols.grpc", cfg->id);
        otlp_grpc_destroy(&r->base);
        return NULL;
    }
    char security[192];
    ptm_receiver_security_text(tls, auth, security, sizeof security);
    ptm_log_info(r->component, "OTLP/gRPC listening on %s%s (port %u)", g->endpoint, security,
                 (unsigned)ptm_grpc_server_port(r->server));
    return &r->base;
}
