// SPDX-License-Identifier: Apache-2.0
//
// Inside the HTTP server (http.h): what its two files share. http.c is the
// request cycle over libmicrohttpd (routes, bodies, answers, listening, start
// and stop); http_conn.c is the connections: how many may be open, the
// deadlines a slow client meets (checked by a watchdog thread), and TLS
// (certificates, client certificates, protocol versions).
#pragma once

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/http.h"

/// Where a connection is in its request cycle; each phase but HANDLING has
/// a deadline (http_conn.c).
enum http_phase {
    PHASE_WAITING,   ///< for a request: a new connection (read_header_timeout), a kept-alive one (idle_timeout)
    PHASE_HEADERS,   ///< the request line came, the headers have not all (read_header_timeout)
    PHASE_BODY,      ///< the headers came, the body has not all (read_timeout)
    PHASE_HANDLING,  ///< the handler runs: the time is the server's, no deadline
    PHASE_ANSWERING, ///< the answer is being sent (write_timeout)
    PHASE_CLOSING,   ///< past a deadline: shut down, waiting for libmicrohttpd to close it
};

/// One open connection, from libmicrohttpd's "started" to its "closed"
/// notification (its socket context). Its fields are under the server's
/// conns_lock.
struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    enum http_phase phase;
    bool kept_alive;   ///< it answered a request before
    uint64_t since_ns; ///< CLOCK_MONOTONIC: when the phase's deadline started counting
    char peer[64];
};

/// A request being read and answered: libmicrohttpd's per-request pointer,
/// made when the request line arrives.
struct request_state {
    const struct ptm_http_route *route;
    uint64_t start_ns;
    bool begun; ///< the headers came and begin_request ran
    bool too_large;
    struct ptm_strbuf body;
};

struct ptm_http_server {
    struct MHD_Daemon *daemon;
    char *component;
    struct ptm_http_route *routes;
    size_t route_count;
    size_t max_body;
    ptm_http_observer observe;
    void *observe_ctx;
    uint16_t port;
    struct ptm_auth *auth; // borrowed; NULL: no authentication
    bool close_after_answer;
    char *tls_cert, *tls_key, *tls_trust; // PEM text, kept for the daemon's life
    char tls_priorities[96];              // GnuTLS priority string (protocol versions)
    pthread_mutex_t lock;
    pthread_cond_t idle;
    size_t in_flight; // requests begun and not completed
    bool stopped;

    // http_conn.c
    unsigned max_connections;
    atomic_uint reserved; // connections let in by the accept policy and not closed yet
    struct ptm_http_timeouts timeouts;
    ptm_conn_event_fn *on_conn_event;
    void *event_ctx;
    pthread_mutex_t conns_lock;
    struct http_conn *conns;
    pthread_t watchdog;
    bool watchdog_started, watchdog_quit;
    pthread_cond_t watchdog_wake;
};

/// CLOCK_MONOTONIC in ns.
uint64_t ptm_http_now_ns(void);

/// Read the TLS files of tls into s (certificate, key, client CA) and make
/// the priority string of its versions. 0, or an error naming the file.
int ptm_http_tls_load(struct ptm_http_server *s, const struct ptm_server_tls_config *tls, struct ptm_error *err);

/// Set s's connection limits and deadlines from opts, and start the
/// watchdog. 0, or PTM_ENOMEM.
int ptm_http_conns_start(struct ptm_http_server *s, const struct ptm_http_options *opts);

/// Stop the watchdog (after the daemon stopped). Idempotent.
void ptm_http_conns_stop(struct ptm_http_server *s);

/// libmicrohttpd's accept policy (cls: the server): refuse past
/// max_connections.
enum MHD_Result ptm_http_accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/// libmicrohttpd's connection notification (cls: the server): track the
/// connection; with client_ca_file, require its certificate.
void ptm_http_notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                                enum MHD_ConnectionNotificationCode code);

/// Move c's connection to phase (http_conn.c knows when each deadline
/// starts).
void ptm_http_conn_phase(struct ptm_http_server *s, struct MHD_Connection *c, enum http_phase phase);
