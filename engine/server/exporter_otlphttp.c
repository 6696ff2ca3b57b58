// SPDX-License-Identifier: Apache-2.0
//
// The otlphttp exporter: POST each ExportMetricsServiceRequest (protobuf,
// or OTLP JSON with encoding: json) to metrics_endpoint, or endpoint +
// "/v1/metrics", with libcurl, as the OTLP/HTTP specification says:
// - 2xx: accepted; a partial_success in the ExportMetricsServiceResponse
//   is logged as a warning and its rejected points counted, never retried;
// - 429, 502, 503, 504 and connection failures (refused, reset, DNS,
//   timeout): retried, after Retry-After (seconds or HTTP-date) when the
//   server sent one and it is longer than the backoff;
// - any other status: refused for good, logged with the status and the
//   google.rpc.Status message of the body when it has one.
// Queueing, retries and the on-disk queue are the sender's (sender.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/exporter_otlp.h"
#include "util/error.h"

// One consumer's connection.
struct http_conn {
    CURL *handle;
    struct ptm_client_response resp;
    char errbuf[CURL_ERROR_SIZE];
};

// ---- the transport ----

static void *http_open(void *ctx)
{
    struct ptm_otlp_exporter *x = ctx;
    struct http_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->handle = ptm_client_handle_create(&x->target, &x->route);
    if (c->handle == NULL) {
        free(c);
        return NULL;
    }
    // Backends may gzip their answers; curl inflates them.
    curl_easy_setopt(c->handle, CURLOPT_ACCEPT_ENCODING, "");
    return c;
}

static void http_close(void *ctx, void *conn)
{
    struct http_conn *c = conn;
    curl_easy_cleanup(c->handle);
    ptm_client_response_reset(&c->resp);
    free(c);
}

static bool is_json(const struct ptm_client_response *r)
{
    return strstr(r->content_type, "json") != NULL;
}

// The reason a backend gave with a failure status: the google.rpc.Status
// message, else the start of the body as text.
static void failure_reason(const struct ptm_client_response *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (r->len == 0)
        return;
    if (is_json(r)) {
        if (ptm_rpc_status_decode_json(r->body, r->len, out, cap))
            return;
    } else {
        struct ptm_rpc_status status;
        if (ptm_rpc_status_decode(r->body, r->len, &status) && status.message[0] != '\0') {
            ptm_body_excerpt((const uint8_t *)status.message, strlen(status.message), out, cap);
            return;
        }
    }
    ptm_body_excerpt(r->body, r->len < 300 ? r->len : 300, out, cap);
}

static void classify_success(const struct ptm_client_response *r, struct ptm_send_result *out)
{
    out->outcome = PTM_SEND_OK;
    if (r->truncated) {
        snprintf(out->message, sizeof out->message, "the response was larger than 4 MiB and was not read");
        return;
    }
    if (r->len == 0)
        return;
    bool ok = is_json(r) ? ptm_partial_success_decode_json(r->body, r->len, &out->rejected_points, out->message,
                                                           sizeof out->message)
                         : ptm_partial_success_decode(r->body, r->len, &out->rejected_points, out->message,
                                                      sizeof out->message);
    if (!ok) {
        out->rejected_points = 0;
        snprintf(out->message, sizeof out->message, "the response (HTTP %ld, %zu bytes) is not an "
                 "ExportMetricsServiceResponse", r->status, r->len);
    }
}

static bool status_retryable(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

static void classify_status(const struct ptm_client_response *r, struct ptm_send_result *out)
{
    if (r->status >= 200 && r->status < 300) {
        classify_success(r, out);
        return;
    }
    char reason[400];
    failure_reason(r, reason, sizeof reason);
    out->outcome = status_retryable(r->status) && !r->truncated ? PTM_SEND_RETRY : PTM_SEND_PERMANENT;
    snprintf(out->message, sizeof out->message, "HTTP %ld%s%s%s", r->status, reason[0] ? ": " : "", reason,
             r->truncated ? " (response larger than 4 MiB)" : "");
    uint64_t delay;
    if (out->outcome == PTM_SEND_RETRY && r->retry_after[0] != '\0' &&
        ptm_parse_retry_after(r->retry_after, (int64_t)time(NULL), &delay) == 0)
        out->retry_after = delay;
}

static void http_send(void *ctx, void *conn, const struct ptm_request *req, const atomic_bool *cancel,
                      struct ptm_send_result *out)
{
    struct ptm_otlp_exporter *x = ctx;
    struct http_conn *c = conn;
    CURLcode rc = ptm_client_post(c->handle, x->headers[req->flags & 3], req->body, req->len, cancel, &c->resp,
                                c->errbuf);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && c->resp.truncated)) {
        out->outcome = ptm_client_error_retryable(rc) ? PTM_SEND_RETRY : PTM_SEND_PERMANENT;
        ptm_client_error_message(rc, c->errbuf, out->message, sizeof out->message);
        return;
    }
    classify_status(&c->resp, out);
}

// ---- the exporter ----

// The header list for requests with the given flags.
static struct curl_slist *request_headers(uint32_t flags, const struct ptm_config_string_map *configured)
{
    const char *type = flags & PTM_REQUEST_JSON ? "Content-Type: application/json"
                                                : "Content-Type: application/x-protobuf";
    struct curl_slist *list = curl_slist_append(NULL, type);
    if (list != NULL && (flags & PTM_REQUEST_GZIP))
        list = curl_slist_append(list, "Content-Encoding: gzip");
    if (list != NULL) // no "Expect: 100-continue" round trip for large bodies
        list = curl_slist_append(list, "Expect:");
    return list != NULL ? ptm_client_add_headers(list, configured) : NULL;
}

// metrics_endpoint, or endpoint + "/v1/metrics" (one slash between).
static char *metrics_url(const struct ptm_otlp_exporter_config *o)
{
    if (o->metrics_endpoint != NULL)
        return strdup(o->metrics_endpoint);
    size_t n = strlen(o->endpoint);
    while (n > 0 && o->endpoint[n - 1] == '/')
        n--;
    char *url = NULL;
    return asprintf(&url, "%.*s/v1/metrics", (int)n, o->endpoint) < 0 ? NULL : url;
}

static int configure_target(struct ptm_otlp_exporter *x, const struct ptm_otlp_exporter_config *o,
                            struct ptm_error *err)
{
    char *url = metrics_url(o);
    if (url == NULL || ptm_client_tls_copy(&x->tls, &o->tls) != 0) {
        free(url);
        return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", x->id);
    }
    if (o->tls.insecure && strncmp(url, "https://", 8) == 0) {
        ptm_error_set(err, PTM_ECONFIG, "exporter %s: tls.insecure asks for plaintext but the endpoint %s is https",
                      x->id, url);
        free(url);
        return PTM_ECONFIG;
    }
    int rc = ptm_client_route_init(&x->route, url, &x->tls, err);
    free(url);
    if (rc != 0) {
        ptm_error_prefix(err, "exporter %s", x->id);
        return rc;
    }
    x->target = (struct ptm_client_target){x->route.url, &x->tls, o->timeout, CURL_HTTP_VERSION_2TLS};
    x->flags = (o->compression == PTM_COMPRESSION_GZIP ? PTM_REQUEST_GZIP : 0) |
               (o->encoding == PTM_ENCODING_JSON ? PTM_REQUEST_JSON : 0);
    for (uint32_t f = 0; f < 4; f++)
        if ((x->headers[f] = request_headers(f, &o->headers)) == NULL)
            return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", x->id);
    return 0;
}

static const struct ptm_otlp_exporter_kind otlphttp_kind = {configure_target, http_open, http_send, http_close,
                                                           "sending to"};

struct ptm_exporter *ptm_exporter_otlphttp_create(const struct ptm_exporter_config *cfg,
                                                  const struct ptm_config *config, struct ptm_telemetry *telemetry,
                                                  struct ptm_error *err)
{
    return ptm_otlp_exporter_create(cfg, config, telemetry, &otlphttp_kind, err);
}
