// SPDX-License-Identifier: Apache-2.0
//
// The libcurl side the two network exporters share: a per-consumer handle
// set up from the exporter's TLS, timeout and server-name options; one POST
// whose response body (up to 4 MiB), headers and HTTP/2 trailers (curl
// hands trailers to the header callback) are collected; a transfer that a
// shutdown can abort; the classification of curl's errors; gunzip; and the
// small protobuf and JSON decoders for what backends answer
// (ExportMetricsServiceResponse's partial success, google.rpc.Status and
// its RetryInfo detail).
#pragma once

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/// Response bodies are read up to this many bytes (OTLP's recommendation);
/// a longer one is cut off and flagged.
#define PTM_RESPONSE_LIMIT (4u << 20)

/// curl_global_init, once per process. Returns 0 or PTM_ENOMEM with err.
int ptm_client_global_init(struct ptm_error *err);

/// What one transfer brought back.
struct ptm_client_response {
    long status;       // HTTP status; 0 when none arrived
    uint8_t *body;     // malloc'd; NULL when empty
    size_t len;
    size_t body_cap;
    bool truncated;    // the body went past PTM_RESPONSE_LIMIT
    char content_type[128];
    char retry_after[128];
    bool has_grpc_status;
    int grpc_status;
    char grpc_message[512]; // percent-decoded
    char grpc_encoding[32];
    char *grpc_details; // grpc-status-details-bin as received (base64); malloc'd
};

/// Free what r holds and zero it.
void ptm_client_response_reset(struct ptm_client_response *r);

/// Copy tls into out with its own copies of the strings (a reload frees
/// the config the exporter was made from). Returns 0 or PTM_ENOMEM.
int ptm_client_tls_copy(struct ptm_client_tls_config *out, const struct ptm_client_tls_config *tls);

/// Free the strings of a copy. Safe on a zeroed struct.
void ptm_client_tls_fini(struct ptm_client_tls_config *tls);

/// Where and how an exporter connects.
struct ptm_client_target {
    const char *url;
    const struct ptm_client_tls_config *tls;
    uint64_t timeout;  // ns; 0 = none
    long http_version; // a CURL_HTTP_VERSION_* value
};

/// A target's URL and curl's connect-to list after server_name_override:
/// the URL names the override (for SNI, certificate checks and the Host or
/// :authority header) and connect-to points curl at the configured host.
struct ptm_client_route {
    char *url;                     // malloc'd
    struct curl_slist *connect_to; // NULL without an override
};

/// Fill route from url and tls. Returns 0, or PTM_ECONFIG with err when the
/// URL cannot be parsed.
int ptm_client_route_init(struct ptm_client_route *route, const char *url, const struct ptm_client_tls_config *tls,
                        struct ptm_error *err);
void ptm_client_route_fini(struct ptm_client_route *route);

/// A handle with everything requests share: URL, TLS files and checks,
/// timeout, HTTP version, no redirects, no signals. NULL when out of memory.
CURL *ptm_client_handle_create(const struct ptm_client_target *target, const struct ptm_client_route *route);

/// POST body with headers on handle, filling resp (reset first). The
/// transfer ends early (CURLE_ABORTED_BY_CALLBACK) once *cancel is true.
/// errbuf has CURL_ERROR_SIZE bytes. Returns curl's code.
CURLcode ptm_client_post(CURL *handle, struct curl_slist *headers, const void *body, size_t len,
                       const atomic_bool *cancel, struct ptm_client_response *resp, char *errbuf);

/// True when a failed transfer is a connection problem worth a retry
/// (refused, reset, DNS, timeout, TLS handshake); false for a local problem
/// (a TLS file that cannot be loaded, a bad URL, out of memory).
bool ptm_client_error_retryable(CURLcode code);

/// "connection error: <curl's text> (<details>)" into out.
void ptm_client_error_message(CURLcode code, const char *errbuf, char *out, size_t cap);

/// Append the configured headers ("Name: value") to list. NULL when out of
/// memory (list is then freed).
struct curl_slist *ptm_client_add_headers(struct curl_slist *list, const struct ptm_config_string_map *headers);

/// Inflate gzip data of at most limit bytes into a new malloc'd buffer.
/// Returns 0, PTM_EFORMAT or PTM_ELIMIT.
int ptm_gunzip_limited(const void *data, size_t len, size_t limit, uint8_t **out, size_t *out_len);

/// A printable excerpt of a response body for a log line: valid UTF-8,
/// control characters as spaces, at most cap - 1 bytes.
void ptm_body_excerpt(const uint8_t *body, size_t len, char *out, size_t cap);

// ---- what backends answer ----

/// google.rpc.Status, with the RetryInfo detail when present.
struct ptm_rpc_status {
    int32_t code;
    char message[512];
    bool has_retry_delay;
    uint64_t retry_delay; // ns
};

/// Decode a protobuf google.rpc.Status. False when the bytes are not one.
bool ptm_rpc_status_decode(const uint8_t *data, size_t len, struct ptm_rpc_status *out);

/// Decode base64 (standard or URL alphabet, padding optional) into out
/// (room for cap bytes). Returns the decoded length, or -1 when invalid or
/// too long.
long ptm_base64_decode(const char *in, uint8_t *out, size_t cap);

/// Decode a protobuf ExportMetricsServiceResponse: its partial success's
/// rejected data points and message (empty when absent). False when the
/// bytes are not one.
bool ptm_partial_success_decode(const uint8_t *data, size_t len, int64_t *rejected, char *message, size_t cap);

/// The same from its OTLP JSON form ({"partialSuccess": {...}}).
bool ptm_partial_success_decode_json(const uint8_t *data, size_t len, int64_t *rejected, char *message,
                                     size_t cap);

/// The "message" of a google.rpc.Status in JSON. False when absent.
bool ptm_rpc_status_decode_json(const uint8_t *data, size_t len, char *message, size_t cap);
