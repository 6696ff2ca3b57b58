// SPDX-License-Identifier: Apache-2.0
//
// The service's HTTP/1.1 servers (the OTLP/HTTP receiver, the Pyroscope
// /ingest endpoint, the Prometheus exporter's and the telemetry /metrics)
// over libmicrohttpd. A server listens on "host:port", optionally with TLS
// (and client certificates), and dispatches each request by exact method
// and path to a handler that gets the whole body at once: bodies are
// collected up to a limit, and a body past it is not kept (the handler is
// told so and answers 413; when Content-Length already says so, before the
// client sends the body). With an authenticator, a request without its
// token is answered 401 with WWW-Authenticate before its body is read.
// Handlers run on the server's threads (a pool, or one per connection) and
// may block, e.g. on a decode.
//
// A server protects itself from clients that hold connections: at most
// max_connections are open (more are closed at once), and a client that
// sends its headers, its body, or takes the answer too slowly, or keeps an
// idle connection past idle_timeout, is disconnected (confighttp's
// timeouts; each counts from the start of what it limits, so a client
// sending a byte at a time gains nothing). Each is reported to
// on_conn_event.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "profiletometrics.h"
#include "server/conn_event.h"
#include "util/strbuf.h"

struct ptm_http_server;
struct ptm_auth;

/// One request as a handler sees it. Everything is borrowed for the call.
struct ptm_http_request {
    const char *method;           ///< "GET", "POST", ...; HEAD is routed as GET
    const char *path;             ///< without the query string, percent-decoded
    const char *content_type;     ///< the header as sent, or NULL
    const char *content_encoding; ///< the header as sent, or NULL
    const uint8_t *body;          ///< the whole body; NULL when empty or too_large
    size_t body_len;
    bool too_large;    ///< the body was longer than the limit and was not kept
    uint64_t start_ns; ///< CLOCK_MONOTONIC when the request's headers arrived
    void *connection;  ///< for ptm_http_query and ptm_http_header
};

/// What a handler answers. The server frees body after sending it.
struct ptm_http_response {
    unsigned status;          ///< 200 when left 0
    const char *content_type; ///< a static string, or NULL for none
    struct ptm_strbuf body;
    uint32_t retry_after; ///< seconds for a Retry-After header; 0: none
    char www_authenticate[128]; ///< a WWW-Authenticate header's value; "": none
};

typedef void (*ptm_http_handler)(void *ctx, const struct ptm_http_request *req,
                                 struct ptm_http_response *resp);

/// Called once per answered request, whoever answered it (a handler, or the
/// server with 404, 405 or 413): for request counters and latencies.
typedef void (*ptm_http_observer)(void *ctx, const struct ptm_http_request *req, unsigned status);

struct ptm_http_route {
    const char *method; ///< "GET" or "POST"
    const char *path;   ///< matched exactly, e.g. "/v1/profiles"
    ptm_http_handler handler;
    void *ctx;
};

/// A server's deadlines in ms, 0 = none, with confighttp's meaning:
/// read_header from a request's start (a new connection's accept, or its
/// request line on a kept-alive one) to its last header; read from that
/// start to the body's last byte; write from the answer to its last byte
/// sent; idle for a kept-alive connection's next request line. A
/// read_header or idle of 0 takes read's value.
struct ptm_http_timeouts {
    uint64_t read_header_ms, read_ms, write_ms, idle_ms;
};

struct ptm_http_options {
    /// "host:port": an address (0.0.0.0, [::] for IPv6 and IPv4), a name
    /// (localhost), or nothing for every interface (":4318"). Port 0 takes a
    /// free port: ptm_http_port tells which.
    const char *address;
    const char *component; ///< the log component, e.g. "receiver/otlp"
    const struct ptm_http_route *routes; ///< copied, as are their strings
    size_t route_count;
    size_t max_body;                         ///< bytes a request body may have; 0: 20 MiB
    const struct ptm_server_tls_config *tls; ///< NULL or not enabled: plain HTTP
    unsigned threads;         ///< a pool of this many threads; 0: one thread per connection
    unsigned max_connections; ///< open at once; 0: 1000
    /// The deadlines; NULL: read_header 60 s, read 60 s, write 30 s, idle
    /// 60 s.
    const struct ptm_http_timeouts *timeouts;
    bool close_after_answer;  ///< "Connection: close" on every answer (no keep-alive)
    struct ptm_auth *auth;    ///< borrowed, must outlive the server; NULL: no authentication
    ptm_http_observer observe; ///< may be NULL
    void *observe_ctx;
    ptm_conn_event_fn *on_conn_event; ///< may be NULL
    void *event_ctx;
};

/// Listen and serve. NULL with err naming the address and the reason (the
/// address is taken, TLS files unreadable, TLS missing from libmicrohttpd).
/// Free with ptm_http_destroy.
struct ptm_http_server *ptm_http_start(const struct ptm_http_options *opts, struct ptm_error *err);

/// The port the server listens on (the one picked when asked for port 0).
uint16_t ptm_http_port(const struct ptm_http_server *s);

/// Stop accepting connections, give requests being answered up to five
/// seconds to finish, then close every connection. Idempotent.
void ptm_http_stop(struct ptm_http_server *s);

/// Stop (when not stopped yet) and free. NULL is a no-op.
void ptm_http_destroy(struct ptm_http_server *s);

/// A query parameter of the request, percent-decoded; NULL when absent.
const char *ptm_http_query(const struct ptm_http_request *req, const char *name);

/// A request header (name case-insensitive); NULL when absent.
const char *ptm_http_header(const struct ptm_http_request *req, const char *name);

/// True when the Content-Type value names media_type (case-insensitive),
/// whatever its parameters: "application/json; charset=utf-8" is
/// "application/json".
bool ptm_http_media_type_is(const char *content_type, const char *media_type);

/// The seconds since req->start_ns.
double ptm_http_elapsed(const struct ptm_http_request *req);

/// The thread pool size for a receiver: the CPUs online, at least 2 and at
/// most 8.
unsigned ptm_http_default_threads(void);

/// Escape s for a Prometheus label value (backslash, quote, newline) into
/// out (always NUL-terminated; cut short when it does not fit).
void ptm_http_label_value(char *out, size_t size, const char *s);

// ---- multipart/form-data (RFC 7578) ----

/// One part of a multipart body: views into the body.
struct ptm_http_part {
    char name[64];     ///< the form field name (Content-Disposition name=); cut at 63 bytes
    char filename[64]; ///< "" when none
    const uint8_t *data;
    size_t len;
};

/// Split a multipart/form-data body (content_type carries the boundary)
/// into at most max parts. Returns the number of parts, or PTM_EFORMAT with
/// err saying what is wrong (no boundary, a part without headers, no
/// closing delimiter, more than max parts).
int ptm_http_multipart_parse(const char *content_type, const uint8_t *body, size_t len,
                             struct ptm_http_part *parts, size_t max, struct ptm_error *err);
