// SPDX-License-Identifier: Apache-2.0
//
// Inside the gRPC server (grpc_server.h): the structures its two files
// share. grpc_server.c runs the event loop, the connections (sockets, TLS,
// timeouts) and the server's life; grpc_stream.c is one stream's life: the
// nghttp2 callbacks that assemble a request, the workers that run the
// handler, and the answers. The event-loop thread owns connections, streams
// and nghttp2 sessions; worker threads see only jobs.
#pragma once

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/grpc_server.h"

#define PREFIX_LEN 5         // gRPC message prefix: compressed flag, 4-byte big-endian length
#define MAX_METHOD 256       // longest :path kept; longer ones are unknown methods

enum grpc_encoding { ENC_IDENTITY, ENC_GZIP, ENC_UNKNOWN };

struct grpc_conn;

struct grpc_stream {
    struct grpc_stream *prev, *next; // the connection's streams
    int32_t id;
    char method[MAX_METHOD + 1];
    char encoding_name[32];
    enum grpc_encoding encoding;
    bool post, grpc_content_type;
    bool headers_done, request_ended, dispatched, answered;
    uint64_t started_ns;
    uint8_t prefix[PREFIX_LEN];
    size_t prefix_len;
    bool compressed, have_message;
    uint32_t declared; // the message length the prefix declared
    uint8_t *buf;      // the message bytes so far
    size_t len, cap;   // cap is charged to the server's buffered bytes
    uint8_t *resp;     // an OK answer: prefix + response message
    size_t resp_len, resp_off;
    char *auth_value;  // the authenticator's header, as sent (malloc'ed), or NULL
    size_t auth_len;
    bool auth_seen, auth_too_long;
};

struct grpc_conn {
    struct grpc_conn *prev, *next; // the server's live (or closed) connections
    struct ptm_grpc_server *server;
    int fd;
    SSL *ssl;
    nghttp2_session *session;
    struct grpc_stream *streams;
    uint32_t stream_count;
    uint32_t jobs; // in the worker pool
    bool tls_ready, got_preface, goaway_sent, broken, closed;
    bool tls_want_write; // OpenSSL needs the socket writable to go on
    uint32_t events;     // epoll interest
    uint64_t opened_ns, last_read_ns, write_progress_ns;
    uint64_t idle_since_ns; // when the last call ended (or the connection opened)
    uint8_t *out;
    size_t out_len, out_off;
    char peer[64];
};

struct grpc_job {
    struct grpc_job *next;
    struct grpc_conn *conn;
    int32_t stream_id;
    char method[MAX_METHOD + 1];
    uint8_t *data;
    size_t len, charged;
    bool gzip;
    uint64_t started_ns; // the stream's
    struct ptm_grpc_response res;
};

struct ptm_grpc_server {
    struct ptm_grpc_server_options o; // strings point at the copies below
    char *address, *component, *cert_file, *key_file, *client_ca_file;
    char **methods;
    size_t n_methods;
    int listen_fd, epoll_fd, event_fd;
    uint16_t port;
    SSL_CTX *ssl_ctx;
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *h2_options;
    struct grpc_conn *conns, *zombies;
    uint32_t n_conns;
    size_t buffered;    // stream buffers and queued messages (loop thread)
    uint64_t accept_paused_until;
    bool stopping;      // loop thread: GOAWAY sent, listener closed
    atomic_bool stop_requested;
    bool stopped;
    pthread_t loop_thread;
    bool loop_started;
    pthread_mutex_t lock; // the queue and done lists
    pthread_cond_t wake;
    struct grpc_job *queue_head, *queue_tail, *done;
    bool workers_quit;
    pthread_t *workers;
    uint32_t n_workers;
};

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t ptm_grpc_now_ns(void);

/// Note that c may have become idle: its idle time starts now when it has
/// no stream and no job left.
void ptm_grpc_conn_note_idle(struct grpc_conn *c);

/// Report event to the server's on_conn_event with a printf-style detail,
/// and log it at debug level.
void ptm_grpc_conn_event(struct ptm_grpc_server *s, enum ptm_conn_event event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// Make the nghttp2 callbacks of a server session (user data: the conn).
/// 0, or -1 when out of memory.
int ptm_grpc_callbacks_create(nghttp2_session_callbacks **out);

/// Answer st once: OK with the response's body, or its code, message and
/// details (http_status is 200 but for requests that are not gRPC).
void ptm_grpc_stream_answer(struct grpc_conn *c, struct grpc_stream *st, int http_status, const struct ptm_grpc_response *res);

/// Answer st with an error the server found itself.
void ptm_grpc_stream_fail(struct grpc_conn *c, struct grpc_stream *st, enum ptm_grpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/// Report a stream that had a request to the answered callback.
void ptm_grpc_report_answer(struct ptm_grpc_server *s, struct grpc_stream *st, enum ptm_grpc_code code);

/// Unlink st from c and free it and its buffers.
void ptm_grpc_stream_free(struct grpc_conn *c, struct grpc_stream *st);

/// A worker thread: runs jobs from the queue until workers_quit.
void *ptm_grpc_worker_main(void *server);

void ptm_grpc_job_free(struct grpc_job *j);
