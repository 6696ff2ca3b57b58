// SPDX-License-Identifier: Apache-2.0
//
// The OTLP receiver's HTTP side (protocols.http): POST an
// ExportProfilesServiceRequest to /v1development/profiles or /v1/profiles
// (or to profiles_url_path instead) as application/x-protobuf or
// application/json, optionally gzip-compressed (the decoder inflates it,
// within the service's limit). Answers as the OTLP/HTTP specification says: 200 with an
// ExportProfilesServiceResponse in the request's encoding (partial_success
// set when some profiles were rejected); 400, 413, 429 (with Retry-After),
// 503 (with Retry-After) with a google.rpc.Status body; 415 for a content
// type or encoding we do not read.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/decode.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.pb-c.h"
#include "server/component.h"
#include "server/http.h"
#include "server/log.h"
#include "server/receiver.h"
#include "util/error.h"

#define DEFAULT_PATH_V1DEVELOPMENT "/v1development/profiles"
#define DEFAULT_PATH_V1 "/v1/profiles"
#define PROTOBUF_TYPE "application/x-protobuf"
#define JSON_TYPE "application/json"

// google.rpc.Code values.
#define CODE_INVALID_ARGUMENT 3
#define CODE_RESOURCE_EXHAUSTED 8
#define CODE_UNAVAILABLE 14

// ---- response bodies ----

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse
    export_response;
typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesPartialSuccess partial_success;

// Messages may quote input bytes: a protobuf string must be UTF-8.
static void utf8_copy(struct ptm_strbuf *out, const char *s)
{
    ptm_strbuf_utf8(out, s, strlen(s));
}

static void pack_into(struct ptm_strbuf *out, size_t size, size_t (*pack)(const void *, uint8_t *),
                      const void *msg)
{
    ptm_strbuf_clear(out);
    if (size == 0)
        return;
    uint8_t *tmp = malloc(size);
    if (tmp == NULL) {
        out->failed = true;
        return;
    }
    pack(msg, tmp);
    ptm_strbuf_append(out, tmp, size);
    free(tmp);
}

static size_t pack_status(const void *msg, uint8_t *out)
{
    return google__rpc__status__pack(msg, out);
}

static size_t pack_response(const void *msg, uint8_t *out)
{
    return opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__pack(msg,
                                                                                                           out);
}

// A google.rpc.Status body in the request's encoding.
static void status_body(struct ptm_http_response *resp, bool json, unsigned http, int code, const char *message)
{
    struct ptm_strbuf text = {0};
    utf8_copy(&text, message);
    resp->status = http;
    ptm_strbuf_clear(&resp->body);
    if (json) {
        resp->content_type = JSON_TYPE;
        ptm_strbuf_printf(&resp->body, "{\"code\":%d,\"message\":", code);
        ptm_strbuf_json_string(&resp->body, text.data ? text.data : "", text.len);
        ptm_strbuf_puts(&resp->body, "}");
    } else {
        resp->content_type = PROTOBUF_TYPE;
        Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
        st.code = code;
        st.message = text.data ? text.data : "";
        pack_into(&resp->body, google__rpc__status__get_packed_size(&st), pack_status, &st);
    }
    ptm_strbuf_free(&text);
}

// 200 with an ExportProfilesServiceResponse; partial_success set when
// something was rejected or there is a warning.
static void success_body(struct ptm_http_response *resp, bool json, const struct ptm_submit_result *res)
{
    bool partial = res->status == PTM_SUBMIT_PARTIAL || res->rejected_profiles > 0;
    struct ptm_strbuf text = {0};
    utf8_copy(&text, partial ? res->message : "");
    resp->status = 200;
    if (json) {
        resp->content_type = JSON_TYPE;
        if (!partial) {
            ptm_strbuf_puts(&resp->body, "{}");
        } else {
            ptm_strbuf_printf(&resp->body, "{\"partialSuccess\":{\"rejectedProfiles\":\"%u\",\"errorMessage\":",
                              (unsigned)res->rejected_profiles);
            ptm_strbuf_json_string(&resp->body, text.data ? text.data : "", text.len);
            ptm_strbuf_puts(&resp->body, "}}");
        }
    } else {
        resp->content_type = PROTOBUF_TYPE;
        export_response msg =
            OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_RESPONSE__INIT;
        partial_success ps =
            OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_PARTIAL_SUCCESS__INIT;
        ps.rejected_profiles = res->rejected_profiles;
        ps.error_message = text.data ? text.data : "";
        if (partial)
            msg.partial_success = &ps;
        pack_into(&resp->body,
                  opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__get_packed_size(
                      &msg),
                  pack_response, &msg);
    }
    ptm_strbuf_free(&text);
}

static uint32_t retry_after(const struct ptm_submit_result *res)
{
    return res->retry_after_seconds ? res->retry_after_seconds : 1;
}

static void answer_result(struct ptm_http_response *resp, bool json, const struct ptm_submit_result *res)
{
    switch (res->status) {
    case PTM_SUBMIT_OK:
    case PTM_SUBMIT_PARTIAL:
        success_body(resp, json, res);
        return;
    case PTM_SUBMIT_BAD_REQUEST:
        status_body(resp, json, 400, CODE_INVALID_ARGUMENT, res->message);
        return;
    case PTM_SUBMIT_TOO_LARGE:
        status_body(resp, json, 413, CODE_RESOURCE_EXHAUSTED, res->message);
        return;
    case PTM_SUBMIT_OVERLOADED:
        status_body(resp, json, 429, CODE_RESOURCE_EXHAUSTED,
                    res->message[0] ? res->message : "the service is overloaded: retry later");
        resp->retry_after = retry_after(res);
        return;
    case PTM_SUBMIT_UNAVAILABLE:
        status_body(resp, json, 503, CODE_UNAVAILABLE,
                    res->message[0] ? res->message : "the service is shutting down: retry later");
        resp->retry_after = retry_after(res);
        return;
    }
    status_body(resp, json, 500, CODE_UNAVAILABLE, "unknown submit status");
}

// ---- the handler ----

static void text_answer(struct ptm_http_response *resp, unsigned status, const char *fmt, const char *arg)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    ptm_strbuf_printf(&resp->body, fmt, arg);
    ptm_strbuf_putc(&resp->body, '\n');
}

// Check Content-Type and Content-Encoding; false after answering 415.
static bool accept_media(const struct ptm_http_request *req, struct ptm_http_response *resp, bool *json)
{
    *json = ptm_http_media_type_is(req->content_type, JSON_TYPE);
    if (!*json && !ptm_http_media_type_is(req->content_type, PROTOBUF_TYPE)) {
        text_answer(resp, 415,
                    "415 unsupported media type \"%s\": send application/x-protobuf or application/json",
                    req->content_type ? req->content_type : "(none)");
        return false;
    }
    const char *enc = req->content_encoding;
    if (enc != NULL && enc[0] != '\0' && strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "identity") != 0) {
        text_answer(resp, 415, "415 unsupported Content-Encoding \"%s\": send gzip or no encoding", enc);
        return false;
    }
    return true;
}

static void handle_export(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    struct ptm_http_receiver *r = ctx;
    bool json;
    if (!accept_media(req, resp, &json))
        return;
    char message[256];
    if (req->too_large) {
        snprintf(message, sizeof message, "the request body is larger than max_request_body_size (%zu bytes)",
                 r->max_body);
        status_body(resp, json, 413, CODE_RESOURCE_EXHAUSTED, message);
        return;
    }
    const char *enc = req->content_encoding;
    if (enc != NULL && strcasecmp(enc, "gzip") == 0 && !ptm_is_gzip(req->body, req->body_len)) {
        status_body(resp, json, 400, CODE_INVALID_ARGUMENT,
                    "Content-Encoding is gzip, but the body does not start with the gzip magic bytes");
        return;
    }
    struct ptm_submit sub = {
        .data = req->body ? (const void *)req->body : "",
        .len = req->body_len,
        .format = json ? PTM_FORMAT_OTLP_JSON : PTM_FORMAT_OTLP,
        .receiver = r->id,
        .received_ns = req->start_ns,
        .max_decompressed = r->max_body, // the limit holds after gzip too, as in the Collector
    };
    struct ptm_submit_result res;
    memset(&res, 0, sizeof res);
    ptm_service_submit(r->svc, &sub, &res);
    ptm_receiver_count_submit(&r->telemetry, &res);
    if (res.status != PTM_SUBMIT_OK)
        ptm_log_debug(r->component, "%s %s: %s", req->method, req->path, res.message);
    answer_result(resp, json, &res);
}

// ---- the receiver ----

// The routes: both default paths, or profiles_url_path instead (as the
// Collector's *_url_path keys do).
static size_t export_routes(struct ptm_http_receiver *r, const char *custom, struct ptm_http_route *routes)
{
    if (custom != NULL) {
        routes[0] = (struct ptm_http_route){"POST", custom, handle_export, r};
        return 1;
    }
    routes[0] = (struct ptm_http_route){"POST", DEFAULT_PATH_V1DEVELOPMENT, handle_export, r};
    routes[1] = (struct ptm_http_route){"POST", DEFAULT_PATH_V1, handle_export, r};
    return 2;
}

struct ptm_receiver *ptm_receiver_otlp_http_start(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                  struct ptm_auth *auth, struct ptm_error *err)
{
    struct ptm_http_receiver *r = ptm_receiver_http_create(cfg, svc, err);
    if (r == NULL)
        return NULL;
    struct ptm_http_route routes[2];
    size_t count = export_routes(r, cfg->otlp.profiles_url_path, routes);
    return ptm_receiver_http_listen(r, &cfg->otlp.http, auth, routes, count, ".protocols.http", "OTLP/HTTP", err);
}
