// SPDX-License-Identifier: Apache-2.0
//
// A small gRPC server for unary methods: HTTP/2 (libnghttp2) over plain TCP
// with prior knowledge (what gRPC clients send without TLS) or over TLS with
// ALPN "h2" (OpenSSL, optionally verifying client certificates). One
// event-loop thread (epoll) runs every connection and stream; a request whose
// message has arrived whole goes to a small pool of worker threads that
// inflate it (grpc-encoding gzip) and call the handler, so a slow decode
// never holds up the network.
//
// The server answers by itself what needs no handler: a call without the
// bearer token an authenticator wants (UNAUTHENTICATED, before its message
// is read), an unknown method (UNIMPLEMENTED), an unknown grpc-encoding
// (UNIMPLEMENTED), a message whose declared length passes max_recv_msg_size
// (RESOURCE_EXHAUSTED, before its bytes are read), a second message on a
// unary call or a truncated one (INVALID_ARGUMENT), too many bytes buffered
// at once (UNAVAILABLE), a request not received within request_timeout of
// its first frame, a stalled one included (DEADLINE_EXCEEDED). It refuses
// connections past max_connections, drops those that do not finish the TLS
// handshake and the HTTP/2 preface within handshake_timeout and those that
// stop reading what it writes for write_timeout, and says GOAWAY to those
// with no call for idle_timeout (counted from the end of their last call,
// as gRPC's MaxConnectionIdle: pings and stray bytes do not keep a
// connection alive). Each of these is reported to on_conn_event.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiletometrics.h"
#include "server/conn_event.h"

struct ptm_auth;

/// A timeout option's value for "none".
#define PTM_GRPC_NO_TIMEOUT UINT64_MAX

/// gRPC status codes (grpc/doc/statuscodes.md).
enum ptm_grpc_code {
    PTM_GRPC_OK = 0,
    PTM_GRPC_CANCELLED = 1,
    PTM_GRPC_UNKNOWN = 2,
    PTM_GRPC_INVALID_ARGUMENT = 3,
    PTM_GRPC_DEADLINE_EXCEEDED = 4,
    PTM_GRPC_NOT_FOUND = 5,
    PTM_GRPC_ALREADY_EXISTS = 6,
    PTM_GRPC_PERMISSION_DENIED = 7,
    PTM_GRPC_RESOURCE_EXHAUSTED = 8,
    PTM_GRPC_FAILED_PRECONDITION = 9,
    PTM_GRPC_ABORTED = 10,
    PTM_GRPC_OUT_OF_RANGE = 11,
    PTM_GRPC_UNIMPLEMENTED = 12,
    PTM_GRPC_INTERNAL = 13,
    PTM_GRPC_UNAVAILABLE = 14,
    PTM_GRPC_DATA_LOSS = 15,
    PTM_GRPC_UNAUTHENTICATED = 16,
};

/// "OK", "INVALID_ARGUMENT", ...; "UNKNOWN" for a number out of range.
const char *ptm_grpc_code_name(enum ptm_grpc_code code);

/// One request message, whole and inflated. Borrowed for the handler call.
struct ptm_grpc_request {
    const char *method; ///< the :path, e.g. "/pkg.Service/Method"
    const uint8_t *message; ///< never NULL, even when len is 0
    size_t len;
    uint64_t start_ns; ///< CLOCK_MONOTONIC when the stream's headers arrived
};

/// What the handler answers. The server sets code PTM_GRPC_OK and
/// everything else empty before the call.
struct ptm_grpc_response {
    enum ptm_grpc_code code;
    /// grpc-message: any text (percent-encoded on the wire); "" for none.
    char message[1280];
    /// The response message when code is OK (may stay NULL/0: an empty
    /// message). malloc'ed by the handler, freed by the server.
    uint8_t *body;
    size_t body_len;
    /// A serialized google.rpc.Status for grpc-status-details-bin when the
    /// code is not OK, or NULL. malloc'ed by the handler, freed by the server.
    uint8_t *details;
    size_t details_len;
};

/// Set code and a printf-style message.
void ptm_grpc_response_set(struct ptm_grpc_response *res, enum ptm_grpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// Called on a worker thread, concurrently with other calls.
typedef void ptm_grpc_handler_fn(void *ctx, const struct ptm_grpc_request *req, struct ptm_grpc_response *res);

/// Called on the event-loop thread once per stream that had a request: with
/// the status sent (or CANCELLED when the client went away first) and the
/// seconds from its headers to the answer. Keep it short.
typedef void ptm_grpc_answered_fn(void *ctx, const char *method, enum ptm_grpc_code code, double seconds);

/// Zero means the default, as noted; a timeout may be PTM_GRPC_NO_TIMEOUT.
struct ptm_grpc_server_options {
    const char *address;   ///< "host:port", "[v6]:port" or ":port"; port 0 picks a free one. Required
    const char *component; ///< log component, e.g. "receiver/otlp"; default "grpc"
    const char *const *methods; ///< the full method paths served, NULL-terminated. Required
    ptm_grpc_handler_fn *handler; ///< required
    ptm_grpc_answered_fn *answered; ///< may be NULL
    void *ctx;                      ///< passed to handler and answered
    size_t max_recv_msg_size;       ///< bytes of one message, after inflating; default 4 MiB
    size_t max_buffered;            ///< request bytes held at once, all streams; default 256 MiB
    uint32_t max_connections;       ///< default 1024
    uint32_t max_concurrent_streams; ///< per connection; default 100
    uint32_t workers;               ///< handler threads; default 4
    uint64_t handshake_timeout_ms;  ///< TLS handshake and HTTP/2 preface; default 5 s
    uint64_t idle_timeout_ms;       ///< a connection without streams; default 120 s
    uint64_t request_timeout_ms;    ///< from a stream's first frame to its last byte; default 60 s
    uint64_t write_timeout_ms;      ///< pending output not taken by the client; default 30 s
    uint64_t stop_grace_ms;         ///< how long stop waits for answers in flight; default 5 s
    /// TLS when cert_file and key_file are set (PEM); client_ca_file (PEM)
    /// makes client certificates required and verified.
    const char *cert_file;
    const char *key_file;
    const char *client_ca_file;
    unsigned tls_min_version; ///< 10, 11, 12 (default) or 13 for TLS 1.0 .. 1.3
    unsigned tls_max_version; ///< as tls_min_version; 0: the newest OpenSSL has
    /// Every call must pass it (borrowed; it must outlive the server), or
    /// NULL for none.
    struct ptm_auth *auth;
    ptm_conn_event_fn *on_conn_event; ///< may be NULL; called with ctx
};

struct ptm_grpc_server;

/// Bind, listen and start the threads. NULL with err (address in use, bad
/// certificate, ...). The options' strings and methods are copied.
struct ptm_grpc_server *ptm_grpc_server_start(const struct ptm_grpc_server_options *opts, struct ptm_error *err);

/// The port bound (useful with port 0).
uint16_t ptm_grpc_server_port(const struct ptm_grpc_server *s);

/// Close the listener, send GOAWAY on every connection and answer the
/// requests already received (up to stop_grace_ms), then close the rest and
/// join the threads. Idempotent.
void ptm_grpc_server_stop(struct ptm_grpc_server *s);

/// Stop (if not yet) and free. NULL is a no-op.
void ptm_grpc_server_destroy(struct ptm_grpc_server *s);
