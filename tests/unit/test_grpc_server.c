// SPDX-License-Identifier: Apache-2.0
//
// The gRPC server (engine/server/grpc_server.c, grpc_stream.c) driven by a
// small HTTP/2 client written here on nghttp2's client session, so every
// frame is under the test's control: answers (headers, one length-prefixed
// message, trailers; Trailers-Only errors with percent-encoded grpc-message
// and unpadded base64 grpc-status-details-bin), what the server refuses by
// itself (unknown method or encoding, not gRPC, no or truncated or second
// message, bad compressed flag, corrupt gzip, a declared length over the
// limit, the buffered-bytes budget), a client that is not HTTP/2, the
// timeouts (handshake, idle with
// GOAWAY even while the client pings, a request that never ends or stalls
// mid-message), max_connections, the connection events reported for each,
// bearer token authentication, many streams on one connection, and stop
// answering what is in flight. The expected bytes and
// messages are written out by hand in each test.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "server/auth.h"
#include "server/grpc_server.h"

#include "net.h"

// ---- the server's handler ----

static pthread_mutex_t answered_lock = PTHREAD_MUTEX_INITIALIZER;
static int answered_codes[17];

static void handler(void *ctx, const struct ptm_grpc_request *req, struct ptm_grpc_response *res)
{
    if (strcmp(req->method, "/t.S/Fail") == 0) {
        ptm_grpc_response_set(res, PTM_GRPC_FAILED_PRECONDITION, "100%% bad\nline");
        res->details = malloc(4);
        memcpy(res->details, "\x01\x02\x03\xff", 4);
        res->details_len = 4;
        return;
    }
    if (strcmp(req->method, "/t.S/Slow") == 0)
        nanosleep(&(struct timespec){0, 300000000}, NULL);
    res->body = malloc(req->len + 1);
    memcpy(res->body, req->message, req->len);
    res->body_len = req->len;
}

static void answered(void *ctx, const char *method, enum ptm_grpc_code code, double seconds)
{
    pthread_mutex_lock(&answered_lock);
    answered_codes[code]++;
    pthread_mutex_unlock(&answered_lock);
}

static const char *const methods[] = {"/t.S/Echo", "/t.S/Fail", "/t.S/Slow", NULL};

static struct ptm_grpc_server *start(struct ptm_grpc_server_options o)
{
    o.address = "127.0.0.1:0";
    o.methods = methods;
    o.handler = handler;
    o.answered = answered;
    o.on_conn_event = net_on_conn_event;
    o.component = "test";
    memset(answered_codes, 0, sizeof answered_codes);
    net_events_reset();
    struct ptm_error err = {0};
    struct ptm_grpc_server *s = ptm_grpc_server_start(&o, &err);
    if (s == NULL)
        fail_msg("start: %s", err.message);
    return s;
}

// Milliseconds until the server closes fd (reading and dropping what it sends).
static uint64_t ms_until_closed(int fd, int limit_ms)
{
    uint64_t t0 = net_now_ms();
    char buf[4096];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, limit_ms) == 1 && read(fd, buf, sizeof buf) > 0)
        ;
    return net_now_ms() - t0;
}

// ---- an HTTP/2 client ----

#define MAX_STREAMS 16

struct reply {
    int32_t id;
    char status[8], grpc_status[8], grpc_message[512], details[64], accept_encoding[64];
    uint8_t body[4096];
    size_t body_len;
    bool closed;
    uint32_t close_error;
    uint8_t *send; // the request body, sent from send_off
    size_t send_len, send_off;
    bool stall; // after the body, send nothing more (no END_STREAM)
};

struct client {
    int fd;
    nghttp2_session *session;
    struct reply replies[MAX_STREAMS];
    int n_replies;
    bool eof, goaway;
};

static struct reply *reply_of(struct client *c, int32_t id)
{
    for (int i = 0; i < c->n_replies; i++)
        if (c->replies[i].id == id)
            return &c->replies[i];
    return NULL;
}

static void copy_value(char *out, size_t cap, const uint8_t *value, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(out, value, n);
    out[n] = '\0';
}

static int client_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                            size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    struct reply *r = reply_of(user_data, frame->hd.stream_id);
    if (r == NULL)
        return 0;
    struct {
        const char *name;
        char *out;
        size_t cap;
    } keep[] = {
        {":status", r->status, sizeof r->status},
        {"grpc-status", r->grpc_status, sizeof r->grpc_status},
        {"grpc-message", r->grpc_message, sizeof r->grpc_message},
        {"grpc-status-details-bin", r->details, sizeof r->details},
        {"grpc-accept-encoding", r->accept_encoding, sizeof r->accept_encoding},
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strlen(keep[i].name) == namelen && memcmp(keep[i].name, name, namelen) == 0)
            copy_value(keep[i].out, keep[i].cap, value, valuelen);
    return 0;
}

static int client_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                          void *user_data)
{
    struct reply *r = reply_of(user_data, stream_id);
    if (r != NULL && r->body_len + len <= sizeof r->body) {
        memcpy(r->body + r->body_len, data, len);
        r->body_len += len;
    }
    return 0;
}

static int client_on_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    struct reply *r = reply_of(user_data, stream_id);
    if (r != NULL) {
        r->closed = true;
        r->close_error = error_code;
    }
    return 0;
}

static int client_on_frame(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct client *c = user_data;
    if (frame->hd.type == NGHTTP2_GOAWAY)
        c->goaway = true;
    return 0;
}

static ssize_t client_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                                uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    struct reply *r = source->ptr;
    size_t n = r->send_len - r->send_off < length ? r->send_len - r->send_off : length;
    if (n == 0 && r->stall)
        return NGHTTP2_ERR_DEFERRED;
    memcpy(buf, r->send + r->send_off, n);
    r->send_off += n;
    if (r->send_off == r->send_len && !r->stall)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void client_open(struct client *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->fd = net_connect(port);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, client_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, client_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, client_on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, client_on_frame);
    assert_int_equal(nghttp2_session_client_new(&c->session, cb, c), 0);
    nghttp2_session_callbacks_del(cb);
    assert_int_equal(nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

static void client_close(struct client *c)
{
    for (int i = 0; i < c->n_replies; i++)
        free(c->replies[i].send);
    nghttp2_session_del(c->session);
    close(c->fd);
}

// Send what the session has; read until done(c) or timeout_ms.
static void pump(struct client *c, bool (*done)(struct client *), int timeout_ms)
{
    uint64_t end = net_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        const uint8_t *data;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(c->session, &data)) > 0)
            if (!c->eof && send(c->fd, data, (size_t)n, MSG_NOSIGNAL) < 0)
                c->eof = true;
        if (done != NULL && done(c))
            return;
        uint64_t now = net_now_ms();
        if (c->eof || now >= end)
            return;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, (int)(end - now)) != 1)
            continue;
        uint8_t buf[16384];
        ssize_t got = read(c->fd, buf, sizeof buf);
        if (got <= 0)
            c->eof = true;
        else
            nghttp2_session_mem_recv(c->session, buf, (size_t)got);
    }
}

static bool all_closed(struct client *c)
{
    for (int i = 0; i < c->n_replies; i++)
        if (!c->replies[i].closed)
            return false;
    return true;
}

// Submit a request: headers (method, path, content type, encoding; NULL =
// left out) and body bytes (NULL: HEADERS with END_STREAM; end false: the
// stream stays open).
struct request {
    const char *method, *path, *content_type, *encoding, *authorization;
    const void *body;
    size_t len;
    bool open; // do not end the stream (with a body: send it, then stall)
};

static struct reply *submit(struct client *c, struct request q)
{
    nghttp2_nv nv[8];
    size_t n = 0;
#define NV(name, value) \
    nv[n++] = (nghttp2_nv){(uint8_t *)(name), (uint8_t *)(value), strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE}
    NV(":method", q.method ? q.method : "POST");
    NV(":scheme", "http");
    NV(":authority", "localhost");
    NV(":path", q.path ? q.path : "/t.S/Echo");
    NV("te", "trailers");
    NV("content-type", q.content_type ? q.content_type : "application/grpc");
    if (q.encoding != NULL)
        NV("grpc-encoding", q.encoding);
    if (q.authorization != NULL)
        NV("authorization", q.authorization);
#undef NV
    assert_true(c->n_replies < MAX_STREAMS);
    struct reply *r = &c->replies[c->n_replies++];
    memset(r, 0, sizeof *r);
    int32_t id;
    if (q.open && q.body == NULL) {
        id = nghttp2_submit_headers(c->session, NGHTTP2_FLAG_NONE, -1, NULL, nv, n, NULL);
    } else if (q.body == NULL) {
        id = nghttp2_submit_request(c->session, NULL, nv, n, NULL, NULL);
    } else {
        r->send = malloc(q.len);
        memcpy(r->send, q.body, q.len);
        r->send_len = q.len;
        r->stall = q.open;
        nghttp2_data_provider prd = {.source.ptr = r, .read_callback = client_read_body};
        id = nghttp2_submit_request(c->session, NULL, nv, n, &prd, NULL);
    }
    assert_true(id > 0);
    r->id = id;
    return r;
}

// A gRPC message: flag, 4-byte length, bytes. Returns its size.
static size_t frame_message(uint8_t *out, uint8_t flag, uint32_t declared, const void *data, size_t len)
{
    out[0] = flag;
    out[1] = (uint8_t)(declared >> 24);
    out[2] = (uint8_t)(declared >> 16);
    out[3] = (uint8_t)(declared >> 8);
    out[4] = (uint8_t)declared;
    memcpy(out + 5, data, len);
    return 5 + len;
}

static struct reply *call(struct client *c, struct request q)
{
    struct reply *r = submit(c, q);
    pump(c, all_closed, 3000);
    assert_true(r->closed);
    return r;
}

static void assert_status(const struct reply *r, const char *grpc_status, const char *message)
{
    assert_string_equal(r->status, "200");
    assert_string_equal(r->grpc_status, grpc_status);
    if (message != NULL && strncmp(r->grpc_message, message, strlen(message)) != 0)
        fail_msg("grpc-message \"%s\" does not start with \"%s\"", r->grpc_message, message);
}

// ---- tests ----

static void code_names(void **state)
{
    assert_string_equal(ptm_grpc_code_name(PTM_GRPC_OK), "OK");
    assert_string_equal(ptm_grpc_code_name(PTM_GRPC_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
    assert_string_equal(ptm_grpc_code_name(PTM_GRPC_UNAUTHENTICATED), "UNAUTHENTICATED");
    assert_string_equal(ptm_grpc_code_name((enum ptm_grpc_code)99), "UNKNOWN");
}

// Headers, one message (prefix 00 00000005 "hello"), trailers grpc-status 0.
static void echo_answers_with_message_and_trailers(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){0});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[64];
    size_t len = frame_message(msg, 0, 5, "hello", 5);
    struct reply *r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "0", "");
    assert_int_equal(r->body_len, 10);
    assert_memory_equal(r->body, "\0\0\0\0\5hello", 10);
    // An empty message is a message: the answer is an empty one.
    len = frame_message(msg, 0, 0, "", 0);
    r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "0", "");
    assert_int_equal(r->body_len, 5);
    assert_memory_equal(r->body, "\0\0\0\0\0", 5);
    // A gzip message (grpc-encoding gzip, flag 1) is inflated for the handler.
    uint8_t gz[128];
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)"inflated!";
    z.avail_in = 9;
    z.next_out = gz;
    z.avail_out = sizeof gz;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    len = frame_message(msg, 1, (uint32_t)z.total_out, gz, z.total_out);
    deflateEnd(&z);
    r = call(&c, (struct request){.body = msg, .len = len, .encoding = "gzip"});
    assert_status(r, "0", "");
    assert_memory_equal(r->body, "\0\0\0\0\11inflated!", 14);
    client_close(&c);
    ptm_grpc_server_destroy(s);
    assert_int_equal(answered_codes[PTM_GRPC_OK], 3);
}

// Trailers-Only: "100% bad\nline" percent-encoded, details 01 02 03 ff as
// unpadded base64 "AQID/w", no DATA.
static void handler_error_is_trailers_only(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){0});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[16];
    size_t len = frame_message(msg, 0, 1, "x", 1);
    struct reply *r = call(&c, (struct request){.path = "/t.S/Fail", .body = msg, .len = len});
    assert_status(r, "9", "100%25 bad%0Aline");
    assert_string_equal(r->grpc_message, "100%25 bad%0Aline");
    assert_string_equal(r->details, "AQID/w");
    assert_int_equal(r->body_len, 0);
    client_close(&c);
    ptm_grpc_server_destroy(s);
}

// What the server refuses without the handler, each on the same connection.
static void server_refusals(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.max_recv_msg_size = 1000});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[64], two[64];
    struct reply *r = call(&c, (struct request){.path = "/t.S/Nope", .body = "\0\0\0\0\0", .len = 5});
    assert_status(r, "12", "unknown method /t.S/Nope");
    assert_string_equal(r->accept_encoding, "identity,gzip");
    r = call(&c, (struct request){.encoding = "snappy", .body = "\0\0\0\0\0", .len = 5});
    assert_status(r, "12", "grpc-encoding \"snappy\" is not supported (identity, gzip)");
    r = call(&c, (struct request){.content_type = "application/json", .body = "{}", .len = 2});
    assert_string_equal(r->status, "415");
    r = call(&c, (struct request){.method = "PUT", .body = "\0\0\0\0\0", .len = 5});
    assert_string_equal(r->status, "405");
    r = call(&c, (struct request){0});
    assert_status(r, "3", "the request has no message");
    size_t len = frame_message(msg, 0, 10, "abc", 3);
    r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "3", "truncated message: 3 of 10 bytes");
    len = frame_message(msg, 0, 1, "a", 1);
    len += frame_message(msg + len, 0, 1, "b", 1);
    r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "3", "a unary call carries one message; a second one came");
    len = frame_message(two, 1, 3, "abc", 3);
    r = call(&c, (struct request){.body = two, .len = len});
    assert_status(r, "13", "compressed message without a grpc-encoding");
    len = frame_message(two, 2, 3, "abc", 3);
    r = call(&c, (struct request){.body = two, .len = len});
    assert_status(r, "13", "invalid compressed flag 2 in the message prefix");
    len = frame_message(two, 1, 7, "notgzip", 7);
    r = call(&c, (struct request){.body = two, .len = len, .encoding = "gzip"});
    assert_status(r, "13", "grpc-encoding gzip: the message does not inflate");
    // Declared 5000 > 1000: refused at the prefix; the rest is never read.
    len = frame_message(two, 0, 5000, "abc", 3);
    r = call(&c, (struct request){.body = two, .len = len});
    assert_status(r, "8", "received message larger than max (5000 vs. 1000 bytes");
    // The connection still serves.
    len = frame_message(msg, 0, 2, "ok", 2);
    r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "0", "");
    client_close(&c);
    ptm_grpc_server_destroy(s);
    assert_int_equal(answered_codes[PTM_GRPC_UNIMPLEMENTED], 3); // 405 counts as UNIMPLEMENTED
    assert_int_equal(answered_codes[PTM_GRPC_INVALID_ARGUMENT], 3);
    assert_int_equal(answered_codes[PTM_GRPC_INTERNAL], 4); // 415 counts as INTERNAL
    assert_int_equal(answered_codes[PTM_GRPC_RESOURCE_EXHAUSTED], 1);
    assert_int_equal(answered_codes[PTM_GRPC_OK], 1);
}

// max_buffered 70000: a 200000-byte message gets its first 65536-byte
// buffer, and the next growth (to 131072) is refused with UNAVAILABLE.
static void buffered_budget(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.max_buffered = 70000});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    size_t big = 200000;
    uint8_t *msg = calloc(1, big + 5);
    size_t len = frame_message(msg, 0, (uint32_t)big, msg + 5, 0) + big;
    struct reply *r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "14", "the server holds too many request bytes (65536); retry later");
    // The budget is given back: a small message passes.
    len = frame_message(msg, 0, 2, "ok", 2);
    r = call(&c, (struct request){.body = msg, .len = len});
    assert_status(r, "0", "");
    free(msg);
    client_close(&c);
    ptm_grpc_server_destroy(s);
}

// Ten streams at once on one connection, each its own answer.
static void many_streams_on_one_connection(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){0});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[10][16];
    for (unsigned i = 0; i < 10; i++) {
        char text[16];
        snprintf(text, sizeof text, "req%u", i);
        size_t len = frame_message(msg[i], 0, 4, text, 4);
        submit(&c, (struct request){.path = i % 3 == 0 ? "/t.S/Slow" : "/t.S/Echo", .body = msg[i], .len = len});
    }
    pump(&c, all_closed, 5000);
    for (unsigned i = 0; i < 10; i++) {
        char want[16] = {0, 0, 0, 0, 4, 'r', 'e', 'q', (char)('0' + i)};
        assert_status(&c.replies[i], "0", "");
        assert_int_equal(c.replies[i].body_len, 9);
        assert_memory_equal(c.replies[i].body, want, 9);
    }
    client_close(&c);
    ptm_grpc_server_destroy(s);
}

// A request whose stream never ends: DEADLINE_EXCEEDED after 300 ms, then
// RST_STREAM NO_ERROR (the server answered before the request ended).
static void request_timeout(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.request_timeout_ms = 300});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint64_t t0 = net_now_ms();
    struct reply *r = submit(&c, (struct request){.open = true});
    pump(&c, all_closed, 3000);
    uint64_t took = net_now_ms() - t0;
    assert_true(r->closed);
    assert_status(r, "4", "the request did not arrive within 300 ms");
    assert_int_equal(r->close_error, NGHTTP2_NO_ERROR);
    assert_true(took >= 250 && took < 1500);
    client_close(&c);
    ptm_grpc_server_destroy(s);
    assert_int_equal(answered_codes[PTM_GRPC_DEADLINE_EXCEEDED], 1);
    assert_int_equal(net_events_of(PTM_CONN_READ_TIMEOUT), 1);
}

// A message that stops coming half way (10 of 100 bytes, the stream left
// open) is answered DEADLINE_EXCEEDED after request_timeout, and counted;
// the connection goes on serving.
static void stalled_message(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.request_timeout_ms = 300});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[16];
    size_t len = frame_message(msg, 0, 100, "0123456789", 10);
    uint64_t t0 = net_now_ms();
    struct reply *r = submit(&c, (struct request){.body = msg, .len = len, .open = true});
    pump(&c, all_closed, 3000);
    uint64_t took = net_now_ms() - t0;
    assert_true(r->closed);
    assert_status(r, "4", "the request did not arrive within 300 ms");
    assert_true(took >= 250 && took < 1500);
    assert_int_equal(net_events_of(PTM_CONN_READ_TIMEOUT), 1);
    assert_true(net_last_detail_has("(10 of 100 message bytes) did not arrive within 300 ms (read_timeout)"));
    len = frame_message(msg, 0, 2, "hi", 2);
    assert_status(call(&c, (struct request){.body = msg, .len = len}), "0", "");
    client_close(&c);
    ptm_grpc_server_destroy(s);
}

// A client that sends nothing is closed after handshake_timeout (300 ms).
static void handshake_timeout(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.handshake_timeout_ms = 300});
    int fd = net_connect(ptm_grpc_server_port(s));
    uint64_t took = ms_until_closed(fd, 3000);
    assert_true(took >= 250 && took < 1500);
    close(fd);
    ptm_grpc_server_destroy(s);
    assert_int_equal(net_events_of(PTM_CONN_HANDSHAKE_TIMEOUT), 1);
    assert_int_equal(net_events_of(PTM_CONN_OPENED), 1);
    assert_int_equal(net_events_of(PTM_CONN_CLOSED), 1);
}

// HTTP/1.1 instead of the HTTP/2 preface: closed at once, long before the
// handshake timeout (5 s here).
static void not_http2_is_closed(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){0});
    int fd = net_connect(ptm_grpc_server_port(s));
    const char *get = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_int_equal(send(fd, get, strlen(get), MSG_NOSIGNAL), (ssize_t)strlen(get));
    assert_true(ms_until_closed(fd, 3000) < 1000);
    close(fd);
    ptm_grpc_server_destroy(s);
}

// After a request, a connection without streams for idle_timeout (400 ms)
// gets GOAWAY and is closed. Idle counts from the end of the last call, as
// gRPC's MaxConnectionIdle: a client sending PINGs every 100 ms is no
// different.
static bool never(struct client *c)
{
    return false;
}

static void idle_timeout(void **state)
{
    for (int pings = 0; pings <= 1; pings++) {
        struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.idle_timeout_ms = 400});
        struct client c;
        client_open(&c, ptm_grpc_server_port(s));
        uint8_t msg[16];
        size_t len = frame_message(msg, 0, 2, "hi", 2);
        call(&c, (struct request){.body = msg, .len = len});
        uint64_t t0 = net_now_ms();
        while (!c.eof && net_now_ms() - t0 < 3000) {
            if (pings)
                nghttp2_submit_ping(c.session, NGHTTP2_FLAG_NONE, NULL);
            pump(&c, never, 100);
        }
        uint64_t took = net_now_ms() - t0;
        assert_true(c.goaway);
        assert_true(c.eof);
        assert_true(took >= 300 && took < 1500);
        client_close(&c);
        ptm_grpc_server_destroy(s);
        assert_int_equal(net_events_of(PTM_CONN_IDLE_TIMEOUT), 1);
    }
}

// With an authenticator, a call without the token, or with another one, is
// answered UNAUTHENTICATED before its message is read; the right token
// passes.
static void authentication(void **state)
{
    struct ptm_auth *auth = net_auth("s3cret");
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.auth = auth});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[16];
    size_t len = frame_message(msg, 0, 2, "hi", 2);
    assert_status(call(&c, (struct request){.body = msg, .len = len}), "16",
                  "missing credentials: send the bearer token (metadata Authorization)");
    assert_status(call(&c, (struct request){.body = msg, .len = len, .authorization = "Bearer s3cre"}), "16",
                  "invalid credentials: the scheme or the token does not match (metadata Authorization)");
    assert_status(call(&c, (struct request){.path = "/t.S/Nope", .body = msg, .len = len}), "16", "missing");
    struct reply *r = call(&c, (struct request){.body = msg, .len = len, .authorization = "bearer s3cret"});
    assert_status(r, "0", "");
    assert_memory_equal(r->body, "\0\0\0\0\2hi", 7);
    client_close(&c);
    ptm_grpc_server_destroy(s);
    ptm_auth_destroy(auth);
    assert_int_equal(answered_codes[PTM_GRPC_UNAUTHENTICATED], 3);
    assert_int_equal(answered_codes[PTM_GRPC_OK], 1);
}

// max_connections 1: a second connection is closed at once; the first serves.
static void max_connections(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){.max_connections = 1});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[16];
    size_t len = frame_message(msg, 0, 2, "hi", 2);
    assert_status(call(&c, (struct request){.body = msg, .len = len}), "0", "");
    int second = net_connect(ptm_grpc_server_port(s));
    assert_true(ms_until_closed(second, 3000) < 1000);
    close(second);
    assert_true(net_events_reach(PTM_CONN_REFUSED, 1));
    assert_true(net_last_detail_has(": connection refused: 1 open (max_connections 1)"));
    assert_status(call(&c, (struct request){.body = msg, .len = len}), "0", "");
    client_close(&c);
    ptm_grpc_server_destroy(s);
}

// Stop while a request runs (300 ms): GOAWAY, the answer, then the close.
static void stop_answers_in_flight(void **state)
{
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){0});
    struct client c;
    client_open(&c, ptm_grpc_server_port(s));
    uint8_t msg[16];
    size_t len = frame_message(msg, 0, 4, "slow", 4);
    struct reply *r = submit(&c, (struct request){.path = "/t.S/Slow", .body = msg, .len = len});
    pump(&c, NULL, 100); // the request reaches the worker
    ptm_grpc_server_stop(s);
    pump(&c, NULL, 2000);
    assert_true(c.goaway);
    assert_true(r->closed);
    assert_status(r, "0", "");
    assert_memory_equal(r->body, "\0\0\0\0\4slow", 9);
    assert_true(c.eof);
    client_close(&c);
    ptm_grpc_server_destroy(s);
}

static void start_errors(void **state)
{
    struct ptm_error err = {0};
    struct ptm_grpc_server_options o = {.address = "nocolon", .methods = methods, .handler = handler};
    assert_null(ptm_grpc_server_start(&o, &err));
    assert_int_equal(err.code, PTM_ECONFIG);
    assert_string_equal(err.message, "grpc endpoint \"nocolon\": expected host:port");
    struct ptm_grpc_server *s = start((struct ptm_grpc_server_options){0});
    char busy[32];
    snprintf(busy, sizeof busy, "127.0.0.1:%u", ptm_grpc_server_port(s));
    o.address = busy;
    assert_null(ptm_grpc_server_start(&o, &err));
    char want[96];
    snprintf(want, sizeof want, "grpc endpoint \"%s\": Address already in use", busy);
    assert_string_equal(err.message, want);
    ptm_grpc_server_destroy(s);
    ptm_grpc_server_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(code_names),
        cmocka_unit_test(echo_answers_with_message_and_trailers),
        cmocka_unit_test(handler_error_is_trailers_only),
        cmocka_unit_test(server_refusals),
        cmocka_unit_test(buffered_budget),
        cmocka_unit_test(many_streams_on_one_connection),
        cmocka_unit_test(request_timeout),
        cmocka_unit_test(stalled_message),
        cmocka_unit_test(handshake_timeout),
        cmocka_unit_test(not_http2_is_closed),
        cmocka_unit_test(idle_timeout),
        cmocka_unit_test(authentication),
        cmocka_unit_test(max_connections),
        cmocka_unit_test(stop_answers_in_flight),
        cmocka_unit_test(start_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
