// SPDX-License-Identifier: Apache-2.0
//
// The otlp exporter (OTLP over gRPC) without a gRPC library: a unary gRPC
// call is one HTTP/2 POST, which libcurl makes.
// - endpoint "http://host:port" (or "host:port" with tls.insecure) is
//   HTTP/2 in cleartext with prior knowledge (h2c); "https://host:port" or
//   "host:port" is TLS with ALPN h2. "dns:///" in front is accepted.
// - POST /opentelemetry.proto.collector.metrics.v1.MetricsService/Export
//   with content-type application/grpc, te: trailers, grpc-timeout, and
//   the length-prefixed message (gzip'd with grpc-encoding: gzip unless
//   compression is none).
// - The answer: grpc-status, grpc-message and grpc-status-details-bin come
//   in the trailers (or the headers of a trailers-only answer); curl hands
//   both to the header callback. Retryable codes are those the OTLP
//   specification lists: CANCELLED, DEADLINE_EXCEEDED, ABORTED,
//   OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only when
//   the status carries a RetryInfo, whose delay is honoured. Connection
//   failures (refused, DNS, reset, timeout) are retried as UNAVAILABLE.
// Queueing, retries and the on-disk queue are the sender's (sender.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/exporter_otlp.h"
#include "server/log.h"
#include "util/error.h"

#define EXPORT_PATH "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

enum grpc_code {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_ABORTED = 10,
    GRPC_OUT_OF_RANGE = 11,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
    GRPC_DATA_LOSS = 15,
    GRPC_UNAUTHENTICATED = 16,
};

struct grpc_conn {
    CURL *handle;
    struct ptm_client_response resp;
    char errbuf[CURL_ERROR_SIZE];
    uint8_t *frame; // the length-prefixed message being sent
    size_t frame_cap;
};

static const char *code_name(int code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    return code >= 0 && code <= GRPC_UNAUTHENTICATED ? names[code] : "(unknown code)";
}

static bool code_retryable(int code)
{
    return code == GRPC_CANCELLED || code == GRPC_DEADLINE_EXCEEDED || code == GRPC_ABORTED ||
           code == GRPC_OUT_OF_RANGE || code == GRPC_UNAVAILABLE || code == GRPC_DATA_LOSS;
}

// The gRPC code for an HTTP status that is not 200 (gRPC's
// http-grpc-status-mapping).
static int code_of_http_status(long status)
{
    switch (status) {
    case 400: return GRPC_INTERNAL;
    case 401: return GRPC_UNAUTHENTICATED;
    case 403: return GRPC_PERMISSION_DENIED;
    case 404: return GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return GRPC_UNAVAILABLE;
    default: return GRPC_UNKNOWN;
    }
}

// ---- the transport ----

// libcurl before 8.0.0 fails every request that reuses an HTTP/2
// connection made with prior knowledge ("Error in the HTTP2 framing
// layer", curl issue #10634, fixed by PR #10643): h2c connections are then
// not reused.
static bool prior_knowledge_reuse_broken(void)
{
    return curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
}

static void *grpc_open(void *ctx)
{
    struct ptm_otlp_exporter *x = ctx;
    struct grpc_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->handle = ptm_client_handle_create(&x->target, &x->route);
    if (c->handle == NULL) {
        free(c);
        return NULL;
    }
    if (x->target.http_version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && prior_knowledge_reuse_broken())
        curl_easy_setopt(c->handle, CURLOPT_FORBID_REUSE, 1L);
    return c;
}

static void grpc_close(void *ctx, void *conn)
{
    struct grpc_conn *c = conn;
    curl_easy_cleanup(c->handle);
    ptm_client_response_reset(&c->resp);
    free(c->frame);
    free(c);
}

// The 5-byte gRPC message prefix (compressed flag, big-endian length) and
// the message, in c->frame.
static int frame_request(struct grpc_conn *c, const struct ptm_request *req)
{
    size_t need = req->len + 5;
    if (need > c->frame_cap) {
        uint8_t *grown = realloc(c->frame, need);
        if (grown == NULL)
            return PTM_ENOMEM;
        c->frame = grown;
        c->frame_cap = need;
    }
    c->frame[0] = req->flags & PTM_REQUEST_GZIP ? 1 : 0;
    for (int i = 0; i < 4; i++)
        c->frame[1 + i] = (uint8_t)(req->len >> (24 - 8 * i));
    memcpy(c->frame + 5, req->body, req->len);
    return 0;
}

// The response message of a successful call: its partial success.
static void read_response(const struct ptm_client_response *r, struct ptm_send_result *out)
{
    out->outcome = PTM_SEND_OK;
    if (r->len < 5)
        return; // no message: nothing rejected
    size_t len = (size_t)r->body[1] << 24 | (size_t)r->body[2] << 16 | (size_t)r->body[3] << 8 | r->body[4];
    const uint8_t *msg = r->body + 5;
    uint8_t *inflated = NULL;
    if (len > r->len - 5) {
        snprintf(out->message, sizeof out->message, "the response message is cut off (%zu of %zu bytes)",
                 r->len - 5, len);
        return;
    }
    if (r->body[0] == 1 && ptm_gunzip_limited(msg, len, PTM_RESPONSE_LIMIT, &inflated, &len) != 0) {
        snprintf(out->message, sizeof out->message, "the compressed response message cannot be inflated");
        return;
    }
    if (!ptm_partial_success_decode(inflated != NULL ? inflated : msg, len, &out->rejected_points, out->message,
                                    sizeof out->message)) {
        out->rejected_points = 0;
        snprintf(out->message, sizeof out->message, "the response is not an ExportMetricsServiceResponse");
    }
    free(inflated);
}

// The RetryInfo delay of grpc-status-details-bin, when there is one.
static bool retry_delay(const struct ptm_client_response *r, uint64_t *delay)
{
    if (r->grpc_details == NULL)
        return false;
    size_t cap = strlen(r->grpc_details);
    uint8_t *bytes = malloc(cap + 1);
    struct ptm_rpc_status status;
    long n = bytes != NULL ? ptm_base64_decode(r->grpc_details, bytes, cap) : -1;
    bool found = n >= 0 && ptm_rpc_status_decode(bytes, (size_t)n, &status) && status.has_retry_delay;
    free(bytes);
    if (found)
        *delay = status.retry_delay;
    return found;
}

static void classify_status(const struct ptm_client_response *r, struct ptm_send_result *out)
{
    int code = r->has_grpc_status ? r->grpc_status : r->status != 200 ? code_of_http_status(r->status) : GRPC_INTERNAL;
    if (code == GRPC_OK) {
        read_response(r, out);
        return;
    }
    uint64_t delay = 0;
    bool has_delay = retry_delay(r, &delay);
    bool retry = code_retryable(code) || (code == GRPC_RESOURCE_EXHAUSTED && has_delay);
    out->outcome = retry ? PTM_SEND_RETRY : PTM_SEND_PERMANENT;
    out->retry_after = retry && has_delay ? delay : 0;
    const char *text = r->grpc_message[0] != '\0' ? r->grpc_message
                       : r->has_grpc_status     ? "(no message)"
                       : r->status != 200       ? "the answer is not gRPC"
                                                : "the answer carries no grpc-status";
    char http[32] = "";
    if (!r->has_grpc_status)
        snprintf(http, sizeof http, "; HTTP status %ld", r->status);
    snprintf(out->message, sizeof out->message, "gRPC %s (%d): %.400s%s", code_name(code), code, text, http);
}

static void grpc_send(void *ctx, void *conn, const struct ptm_request *req, const atomic_bool *cancel,
                      struct ptm_send_result *out)
{
    struct ptm_otlp_exporter *x = ctx;
    struct grpc_conn *c = conn;
    if (frame_request(c, req) != 0) {
        out->outcome = PTM_SEND_RETRY;
        snprintf(out->message, sizeof out->message, "out of memory framing the request");
        return;
    }
    CURLcode rc = ptm_client_post(c->handle, x->headers[req->flags & PTM_REQUEST_GZIP ? 1 : 0], c->frame,
                                  req->len + 5, cancel, &c->resp, c->errbuf);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && c->resp.truncated)) {
        out->outcome = ptm_client_error_retryable(rc) ? PTM_SEND_RETRY : PTM_SEND_PERMANENT;
        ptm_client_error_message(rc, c->errbuf, out->message, sizeof out->message);
        return;
    }
    long version = 0;
    curl_easy_getinfo(c->handle, CURLINFO_HTTP_VERSION, &version);
    if (version != CURL_HTTP_VERSION_2_0) {
        out->outcome = PTM_SEND_PERMANENT;
        snprintf(out->message, sizeof out->message, "the server did not answer over HTTP/2 (gRPC needs it)");
        return;
    }
    classify_status(&c->resp, out);
}

// ---- the exporter ----

// The call's URL from the endpoint: "[dns:///][http://|https://]host:port";
// without a scheme, TLS unless tls.insecure.
static int export_url(struct ptm_otlp_exporter *x, const struct ptm_otlp_exporter_config *o, char **url,
                      struct ptm_error *err)
{
    const char *rest = o->endpoint;
    if (strncmp(rest, "dns:///", 7) == 0)
        rest += 7;
    bool tls = !o->tls.insecure;
    if (strncmp(rest, "http://", 7) == 0) {
        tls = false;
        rest += 7;
    } else if (strncmp(rest, "https://", 8) == 0) {
        tls = true;
        rest += 8;
        if (o->tls.insecure)
            ptm_log_warn(x->component, "tls.insecure is ignored: the endpoint %s asks for TLS", o->endpoint);
    } else if (strstr(rest, "://") != NULL) {
        return ptm_error_set(err, PTM_ECONFIG, "exporter %s: endpoint \"%s\": expected host:port, http://host:port "
                             "or https://host:port", x->id, o->endpoint);
    }
    size_t n = strcspn(rest, "/");
    if (n == 0)
        return ptm_error_set(err, PTM_ECONFIG, "exporter %s: endpoint \"%s\" names no host", x->id, o->endpoint);
    if (asprintf(url, "%s://%.*s" EXPORT_PATH, tls ? "https" : "http", (int)n, rest) < 0) {
        *url = NULL;
        return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", x->id);
    }
    x->target.http_version = tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    return 0;
}

// grpc-timeout: at most 8 digits and a unit.
static void timeout_header(char *out, size_t cap, uint64_t timeout)
{
    uint64_t ms = timeout / 1000000;
    if (ms <= 99999999)
        snprintf(out, cap, "grpc-timeout: %lum", (unsigned long)(ms > 0 ? ms : 1));
    else
        snprintf(out, cap, "grpc-timeout: %luS", (unsigned long)(timeout / 1000000000));
}

static struct curl_slist *request_headers(bool gzip, uint64_t timeout, const struct ptm_config_string_map *configured)
{
    static const char *const fixed[] = {"content-type: application/grpc", "te: trailers",
                                        "grpc-accept-encoding: gzip", "Expect:"};
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if ((list = curl_slist_append(list, fixed[i])) == NULL)
            return NULL;
    if (gzip && (list = curl_slist_append(list, "grpc-encoding: gzip")) == NULL)
        return NULL;
    if (timeout > 0) {
        char line[64];
        timeout_header(line, sizeof line, timeout);
        if ((list = curl_slist_append(list, line)) == NULL)
            return NULL;
    }
    return ptm_client_add_headers(list, configured);
}

static int configure_target(struct ptm_otlp_exporter *x, const struct ptm_otlp_exporter_config *o,
                            struct ptm_error *err)
{
    char *url = NULL;
    if (ptm_client_tls_copy(&x->tls, &o->tls) != 0)
        return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", x->id);
    int rc = export_url(x, o, &url, err);
    if (rc == 0 && (rc = ptm_client_route_init(&x->route, url, &x->tls, err)) != 0)
        ptm_error_prefix(err, "exporter %s", x->id);
    free(url);
    if (rc != 0)
        return rc;
    x->target.url = x->route.url;
    x->target.tls = &x->tls;
    x->target.timeout = o->timeout;
    x->flags = o->compression == PTM_COMPRESSION_GZIP ? PTM_REQUEST_GZIP : 0;
    for (int gzip = 0; gzip < 2; gzip++)
        if ((x->headers[gzip] = request_headers(gzip, o->timeout, &o->headers)) == NULL)
            return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", x->id);
    return 0;
}

static const struct ptm_otlp_exporter_kind grpc_kind = {configure_target, grpc_open, grpc_send, grpc_close,
                                                       "sending gRPC to"};

struct ptm_exporter *ptm_exporter_otlp_grpc_create(const struct ptm_exporter_config *cfg,
                                                   const struct ptm_config *config, struct ptm_telemetry *telemetry,
                                                   struct ptm_error *err)
{
    return ptm_otlp_exporter_create(cfg, config, telemetry, &grpc_kind, err);
}
