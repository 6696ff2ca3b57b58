// SPDX-License-Identifier: Apache-2.0
//
// What the receivers' servers (the gRPC server, the HTTP server) tell their
// owner about connections: opened and closed (a gauge of open ones),
// refused past max_connections, and closed or answered for being too slow,
// each kind named after the setting that caught it. The receiver turns them
// into self-telemetry and rate-limited log lines (receiver.h).
#pragma once

enum ptm_conn_event {
    PTM_CONN_OPENED,
    PTM_CONN_CLOSED,
    PTM_CONN_REFUSED,             ///< max_connections reached: closed at once
    PTM_CONN_HANDSHAKE_TIMEOUT,   ///< gRPC: TLS handshake and HTTP/2 preface
    PTM_CONN_READ_HEADER_TIMEOUT, ///< HTTP: request line and headers
    PTM_CONN_READ_TIMEOUT,        ///< HTTP: the whole request; gRPC: a call's message (DEADLINE_EXCEEDED)
    PTM_CONN_IDLE_TIMEOUT,        ///< HTTP: kept alive with no request; gRPC: no call (max_connection_idle)
    PTM_CONN_WRITE_TIMEOUT,       ///< the client does not take the answer
};

#define PTM_CONN_EVENT_COUNT (PTM_CONN_WRITE_TIMEOUT + 1)

/// Called from the server's threads, concurrently; keep it short. detail is
/// a sentence for the log naming the peer and what happened (NULL for
/// OPENED and CLOSED).
typedef void ptm_conn_event_fn(void *ctx, enum ptm_conn_event event, const char *detail);

/// The setting an event is named after ("read_header_timeout", ...); NULL
/// for OPENED and CLOSED.
const char *ptm_conn_event_name(enum ptm_conn_event event);
