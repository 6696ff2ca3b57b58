// SPDX-License-Identifier: Apache-2.0
//
// One gRPC stream's life inside the server (grpc_server_internal.h): the
// nghttp2 callbacks assemble the request (headers checked as they complete,
// the 5-byte message prefix checked before the message is read, the bytes
// buffered within the server's budget), the finished message goes to a
// worker as a job (inflated there when gzip), and the answer goes back as
// headers + message + trailers, or as one Trailers-Only HEADERS frame for an
// error. Answers that go out before the request has ended are followed by
// RST_STREAM NO_ERROR so the client stops sending.
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "server/auth.h"
#include "server/grpc_server_internal.h"
#include "server/log.h"
#include "util/strbuf.h"

// ---------------------------------------------------------------------------
// status codes and responses
// ---------------------------------------------------------------------------

const char *ptm_grpc_code_name(enum ptm_grpc_code code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    unsigned c = (unsigned)code;
    return c < sizeof names / sizeof names[0] ? names[c] : "UNKNOWN";
}

void ptm_grpc_response_set(struct ptm_grpc_response *res, enum ptm_grpc_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->code = code;
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

// grpc-message: percent-encoded UTF-8 (printable ASCII but '%' as it is,
// every other byte as %XX). A byte that starts no well-formed UTF-8
// sequence goes out as U+FFFD, as everywhere a message quotes input bytes,
// and a message too long is cut between characters, never inside one.
static void percent_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    static const unsigned char replacement[] = {0xef, 0xbf, 0xbd};
    const unsigned char *p = (const unsigned char *)in;
    size_t len = strlen(in), o = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *c = p + i;
        size_t n = ptm_utf8_sequence(c, len - i);
        i += n != 0 ? n : 1;
        if (n == 0)
            c = replacement, n = sizeof replacement;
        bool plain = n == 1 && *c >= 0x20 && *c <= 0x7e && *c != '%';
        if (o + (plain ? 1 : 3 * n) >= cap)
            break;
        if (plain) {
            out[o++] = (char)*c;
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            out[o++] = '%';
            out[o++] = hex[c[k] >> 4];
            out[o++] = hex[c[k] & 15];
        }
    }
    out[o] = '\0';
}

// Base64 without padding, as gRPC sends binary headers. malloc'ed; NULL when
// out of memory.
static char *base64_unpadded(const uint8_t *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out == NULL)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    return out;
}

static nghttp2_nv header(const char *name, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE};
    return nv;
}

// ---------------------------------------------------------------------------
// answering a stream
// ---------------------------------------------------------------------------

static void stream_release_buffer(struct ptm_grpc_server *s, struct grpc_stream *st)
{
    s->buffered -= st->cap;
    free(st->buf);
    st->buf = NULL;
    st->len = st->cap = 0;
}

void ptm_grpc_report_answer(struct ptm_grpc_server *s, struct grpc_stream *st, enum ptm_grpc_code code)
{
    if (s->o.answered != NULL)
        s->o.answered(s->o.ctx, st->method, code, (double)(ptm_grpc_now_ns() - st->started_ns) / 1e9);
}

// The response message, then the trailers with grpc-status 0.
static ssize_t read_response(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                             uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    struct grpc_stream *st = source->ptr;
    size_t n = st->resp_len - st->resp_off;
    if (n > length)
        n = length;
    memcpy(buf, st->resp + st->resp_off, n);
    st->resp_off += n;
    if (st->resp_off == st->resp_len) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv trailer = header("grpc-status", "0");
        if (nghttp2_submit_trailer(session, stream_id, &trailer, 1) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

static int answer_ok(struct grpc_conn *c, struct grpc_stream *st, const uint8_t *body, size_t body_len)
{
    st->resp = malloc(PREFIX_LEN + body_len);
    if (st->resp == NULL)
        return -1;
    st->resp[0] = 0;
    st->resp[1] = (uint8_t)(body_len >> 24);
    st->resp[2] = (uint8_t)(body_len >> 16);
    st->resp[3] = (uint8_t)(body_len >> 8);
    st->resp[4] = (uint8_t)body_len;
    if (body_len > 0)
        memcpy(st->resp + PREFIX_LEN, body, body_len);
    st->resp_len = PREFIX_LEN + body_len;
    nghttp2_nv nv[] = {header(":status", "200"), header("content-type", "application/grpc")};
    nghttp2_data_provider data = {.source.ptr = st, .read_callback = read_response};
    return nghttp2_submit_response(c->session, st->id, nv, 2, &data) == 0 ? 0 : -1;
}

// A Trailers-Only response: one HEADERS frame with the status, END_STREAM.
static int answer_error(struct grpc_conn *c, struct grpc_stream *st, int http_status, enum ptm_grpc_code code,
                        const char *message, const uint8_t *details, size_t details_len)
{
    char status[8], code_text[8], encoded[3 * sizeof((struct ptm_grpc_response *)0)->message + 1];
    snprintf(status, sizeof status, "%d", http_status);
    snprintf(code_text, sizeof code_text, "%d", (int)code);
    percent_encode(message, encoded, sizeof encoded);
    char *details_b64 = details != NULL ? base64_unpadded(details, details_len) : NULL;
    nghttp2_nv nv[6];
    size_t n = 0;
    nv[n++] = header(":status", status);
    nv[n++] = header("content-type", "application/grpc");
    nv[n++] = header("grpc-status", code_text);
    if (encoded[0] != '\0')
        nv[n++] = header("grpc-message", encoded);
    if (details_b64 != NULL)
        nv[n++] = header("grpc-status-details-bin", details_b64);
    if (code == PTM_GRPC_UNIMPLEMENTED)
        nv[n++] = header("grpc-accept-encoding", "identity,gzip");
    int rc = nghttp2_submit_response(c->session, st->id, nv, n, NULL);
    free(details_b64);
    return rc == 0 ? 0 : -1;
}

// Answer st (once): OK with body, or code with message and details.
void ptm_grpc_stream_answer(struct grpc_conn *c, struct grpc_stream *st, int http_status, const struct ptm_grpc_response *res)
{
    if (st->answered)
        return;
    st->answered = true;
    stream_release_buffer(c->server, st);
    int rc = res->code == PTM_GRPC_OK
                 ? answer_ok(c, st, res->body, res->body_len)
                 : answer_error(c, st, http_status, res->code, res->message, res->details, res->details_len);
    if (rc != 0) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        ptm_grpc_report_answer(c->server, st, PTM_GRPC_INTERNAL);
        return;
    }
    ptm_grpc_report_answer(c->server, st, res->code);
}

// Answer st with an error the server found itself.
void ptm_grpc_stream_fail(struct grpc_conn *c, struct grpc_stream *st, enum ptm_grpc_code code, const char *fmt, ...)
{
    struct ptm_grpc_response res = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res.message, sizeof res.message, fmt, ap);
    va_end(ap);
    ptm_grpc_stream_answer(c, st, 200, &res);
}

// ---------------------------------------------------------------------------
// jobs and workers
// ---------------------------------------------------------------------------

void ptm_grpc_job_free(struct grpc_job *j)
{
    free(j->data);
    free(j->res.body);
    free(j->res.details);
    free(j);
}

// Move st's message into a job for the workers.
static void stream_dispatch(struct grpc_conn *c, struct grpc_stream *st)
{
    struct ptm_grpc_server *s = c->server;
    if (c->jobs >= s->o.max_concurrent_streams) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_UNAVAILABLE, "too many requests in progress on this connection (%u)", c->jobs);
        return;
    }
    struct grpc_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_RESOURCE_EXHAUSTED, "out of memory queueing the request");
        return;
    }
    j->conn = c;
    j->stream_id = st->id;
    memcpy(j->method, st->method, sizeof j->method);
    j->data = st->buf;
    j->len = st->len;
    j->charged = st->cap;
    j->gzip = st->compressed;
    j->started_ns = st->started_ns;
    st->buf = NULL;
    st->len = st->cap = 0;
    st->dispatched = true;
    c->jobs++;
    pthread_mutex_lock(&s->lock);
    if (s->queue_tail != NULL)
        s->queue_tail->next = j;
    else
        s->queue_head = j;
    s->queue_tail = j;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

// Inflate a gzip message, refusing output past max. 0, or -1 with res set.
static int gunzip_message(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len,
                          struct ptm_grpc_response *res)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        ptm_grpc_response_set(res, PTM_GRPC_RESOURCE_EXHAUSTED, "out of memory starting zlib");
        return -1;
    }
    size_t cap = len * 4 < max ? len * 4 + 64 : max + 1, produced = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf != NULL ? Z_OK : Z_MEM_ERROR;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len; // len <= max_recv_msg_size, which fits in 32 bits
    while (rc == Z_OK) {
        if (produced == cap) {
            if (cap > max)
                break;
            size_t bigger = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *grown = realloc(buf, bigger);
            if (grown == NULL) {
                rc = Z_MEM_ERROR;
                break;
            }
            buf = grown;
            cap = bigger;
        }
        z.next_out = buf + produced;
        z.avail_out = (uInt)(cap - produced);
        rc = inflate(&z, Z_NO_FLUSH);
        produced = cap - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_out == 0)
            rc = Z_OK;
    }
    const char *zmsg = z.msg != NULL ? z.msg : "truncated or corrupt data";
    if (rc == Z_STREAM_END && z.avail_in == 0 && produced <= max) {
        inflateEnd(&z);
        *out = buf;
        *out_len = produced;
        return 0;
    }
    if (rc == Z_MEM_ERROR)
        ptm_grpc_response_set(res, PTM_GRPC_RESOURCE_EXHAUSTED, "out of memory inflating the message");
    else if (produced > max)
        ptm_grpc_response_set(res, PTM_GRPC_RESOURCE_EXHAUSTED,
                              "grpc-encoding gzip: the message inflates to more than %zu bytes (max_recv_msg_size)",
                              max);
    else if (rc == Z_STREAM_END)
        ptm_grpc_response_set(res, PTM_GRPC_INTERNAL, "grpc-encoding gzip: %u bytes after the end of the gzip data",
                              z.avail_in);
    else
        ptm_grpc_response_set(res, PTM_GRPC_INTERNAL, "grpc-encoding gzip: the message does not inflate: %s", zmsg);
    inflateEnd(&z);
    free(buf);
    return -1;
}

static void job_run(struct ptm_grpc_server *s, struct grpc_job *j)
{
    j->res.code = PTM_GRPC_OK;
    if (j->gzip) {
        uint8_t *plain;
        size_t plain_len;
        if (gunzip_message(j->data, j->len, s->o.max_recv_msg_size, &plain, &plain_len, &j->res) != 0)
            return;
        free(j->data);
        j->data = plain;
        j->len = plain_len;
    }
    struct ptm_grpc_request req = {j->method, j->data != NULL ? j->data : (const uint8_t *)"", j->len,
                                   j->started_ns};
    s->o.handler(s->o.ctx, &req, &j->res);
}

void *ptm_grpc_worker_main(void *arg)
{
    struct ptm_grpc_server *s = arg;
    pthread_setname_np(pthread_self(), "grpc-worker");
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->queue_head == NULL && !s->workers_quit)
            pthread_cond_wait(&s->wake, &s->lock);
        if (s->workers_quit) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        struct grpc_job *j = s->queue_head;
        s->queue_head = j->next;
        if (s->queue_head == NULL)
            s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        job_run(s, j);

        pthread_mutex_lock(&s->lock);
        j->next = s->done;
        s->done = j;
        pthread_mutex_unlock(&s->lock);
        uint64_t one = 1;
        ssize_t w = write(s->event_fd, &one, sizeof one);
        (void)w; // a full eventfd counter still wakes the loop
    }
}

// ---------------------------------------------------------------------------
// request assembly (nghttp2 callbacks)
// ---------------------------------------------------------------------------

static bool method_known(const struct ptm_grpc_server *s, const char *method)
{
    for (size_t i = 0; i < s->n_methods; i++)
        if (strcmp(s->methods[i], method) == 0)
            return true;
    return false;
}

static bool header_is(const uint8_t *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

#define MAX_AUTH_VALUE 8192 // longer credentials are refused, not kept

// Keep the value of the authenticator's header (HTTP/2 names are lower
// case; the configured name may not be). A value past MAX_AUTH_VALUE is
// not kept: it is refused as invalid.
static void stream_note_auth(struct grpc_stream *st, const char *want, const uint8_t *name, size_t namelen,
                             const uint8_t *value, size_t valuelen)
{
    if (namelen != strlen(want) || strncasecmp((const char *)name, want, namelen) != 0 || st->auth_seen)
        return;
    st->auth_seen = true;
    if (valuelen > MAX_AUTH_VALUE || (st->auth_value = malloc(valuelen + 1)) == NULL) {
        st->auth_too_long = true;
        return;
    }
    memcpy(st->auth_value, value, valuelen);
    st->auth_value[valuelen] = '\0';
    st->auth_len = valuelen;
}

static void stream_note_header(struct grpc_stream *st, const uint8_t *name, size_t namelen, const uint8_t *value,
                               size_t valuelen)
{
    if (header_is(name, namelen, ":method")) {
        st->post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
    } else if (header_is(name, namelen, ":path")) {
        if (valuelen <= MAX_METHOD) {
            memcpy(st->method, value, valuelen);
            st->method[valuelen] = '\0';
        }
    } else if (header_is(name, namelen, "content-type")) {
        // application/grpc, application/grpc+proto, application/grpc;charset=...
        st->grpc_content_type = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
                                (valuelen == 16 || value[16] == '+' || value[16] == ';');
    } else if (header_is(name, namelen, "grpc-encoding")) {
        size_t n = valuelen < sizeof st->encoding_name - 1 ? valuelen : sizeof st->encoding_name - 1;
        memcpy(st->encoding_name, value, n);
        st->encoding_name[n] = '\0';
        st->encoding = header_is(value, valuelen, "identity") ? ENC_IDENTITY
                       : header_is(value, valuelen, "gzip")   ? ENC_GZIP
                                                              : ENC_UNKNOWN;
    }
}

// Check the call's credentials; false after answering UNAUTHENTICATED.
static bool stream_authenticated(struct grpc_conn *c, struct grpc_stream *st)
{
    struct ptm_auth *auth = c->server->o.auth;
    if (auth == NULL)
        return true;
    enum ptm_auth_result r =
        st->auth_too_long ? PTM_AUTH_INVALID : ptm_auth_check(auth, st->auth_value, st->auth_len);
    if (r == PTM_AUTH_OK)
        return true;
    ptm_log_debug(c->server->component, "%s: stream %d: unauthenticated: %s", c->peer, st->id,
                  ptm_auth_result_text(r));
    ptm_grpc_stream_fail(c, st, PTM_GRPC_UNAUTHENTICATED, "%s (metadata %s)", ptm_auth_result_text(r),
                         ptm_auth_header(auth));
    return false;
}

// The request headers are complete: refuse what no handler may see.
static void stream_check_headers(struct grpc_conn *c, struct grpc_stream *st)
{
    struct ptm_grpc_server *s = c->server;
    struct ptm_grpc_response res = {.code = PTM_GRPC_UNIMPLEMENTED};
    st->headers_done = true;
    if (s->stopping) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_UNAVAILABLE, "the server is shutting down");
    } else if (!st->post) {
        snprintf(res.message, sizeof res.message, "gRPC requests are POST");
        ptm_grpc_stream_answer(c, st, 405, &res);
    } else if (!st->grpc_content_type) {
        res.code = PTM_GRPC_INTERNAL;
        snprintf(res.message, sizeof res.message, "content-type is not application/grpc");
        ptm_grpc_stream_answer(c, st, 415, &res);
    } else if (!stream_authenticated(c, st)) {
        return;
    } else if (!method_known(s, st->method)) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_UNIMPLEMENTED, "unknown method %s", st->method[0] ? st->method : "(path too long)");
    } else if (st->encoding == ENC_UNKNOWN) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_UNIMPLEMENTED, "grpc-encoding \"%s\" is not supported (identity, gzip)",
                    st->encoding_name);
    }
}

// Read the 5-byte message prefix; false when it refused the message.
static bool stream_take_prefix(struct grpc_conn *c, struct grpc_stream *st)
{
    struct ptm_grpc_server *s = c->server;
    const uint8_t *p = st->prefix;
    st->declared = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    st->compressed = p[0] == 1;
    if (p[0] > 1) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_INTERNAL, "invalid compressed flag %u in the message prefix", p[0]);
        return false;
    }
    if (st->compressed && st->encoding != ENC_GZIP) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_INTERNAL, "compressed message without a grpc-encoding");
        return false;
    }
    if (st->declared > s->o.max_recv_msg_size) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_RESOURCE_EXHAUSTED,
                    "received message larger than max (%u vs. %zu bytes; receiver max_recv_msg_size_mib)",
                    st->declared, s->o.max_recv_msg_size);
        return false;
    }
    st->have_message = st->declared == 0;
    return true;
}

// Room for need message bytes, charged to the server. false when refused.
static bool stream_reserve(struct grpc_conn *c, struct grpc_stream *st, size_t need)
{
    struct ptm_grpc_server *s = c->server;
    if (need <= st->cap)
        return true;
    size_t cap = st->cap * 2 > 65536 ? st->cap * 2 : 65536;
    if (cap < need)
        cap = need;
    if (cap > st->declared)
        cap = st->declared;
    if (s->buffered + (cap - st->cap) > s->o.max_buffered) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_UNAVAILABLE, "the server holds too many request bytes (%zu); retry later",
                    s->buffered);
        return false;
    }
    uint8_t *b = realloc(st->buf, cap);
    if (b == NULL) {
        ptm_grpc_stream_fail(c, st, PTM_GRPC_RESOURCE_EXHAUSTED, "out of memory for a %u-byte message", st->declared);
        return false;
    }
    s->buffered += cap - st->cap;
    st->buf = b;
    st->cap = cap;
    return true;
}

static void stream_take_bytes(struct grpc_conn *c, struct grpc_stream *st, const uint8_t *data, size_t len)
{
    while (len > 0 && !st->answered) {
        if (st->have_message) {
            ptm_grpc_stream_fail(c, st, PTM_GRPC_INVALID_ARGUMENT, "a unary call carries one message; a second one came");
            return;
        }
        if (st->prefix_len < PREFIX_LEN) {
            size_t n = PREFIX_LEN - st->prefix_len < len ? PREFIX_LEN - st->prefix_len : len;
            memcpy(st->prefix + st->prefix_len, data, n);
            st->prefix_len += n;
            data += n;
            len -= n;
            if (st->prefix_len == PREFIX_LEN && !stream_take_prefix(c, st))
                return;
            continue;
        }
        size_t n = st->declared - st->len < len ? st->declared - st->len : len;
        if (!stream_reserve(c, st, st->len + n))
            return;
        memcpy(st->buf + st->len, data, n);
        st->len += n;
        data += n;
        len -= n;
        st->have_message = st->len == st->declared;
    }
}

// The client finished sending: hand the message on, or say what is missing.
static void stream_request_end(struct grpc_conn *c, struct grpc_stream *st)
{
    st->request_ended = true;
    if (st->answered || st->dispatched)
        return;
    if (st->prefix_len == 0)
        ptm_grpc_stream_fail(c, st, PTM_GRPC_INVALID_ARGUMENT, "the request has no message");
    else if (!st->have_message)
        ptm_grpc_stream_fail(c, st, PTM_GRPC_INVALID_ARGUMENT, "truncated message: %zu of %u bytes",
                    st->prefix_len < PREFIX_LEN ? 0 : st->len, st->prefix_len < PREFIX_LEN ? 0 : st->declared);
    else
        stream_dispatch(c, st);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct grpc_conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct grpc_stream *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    st->id = frame->hd.stream_id;
    st->started_ns = ptm_grpc_now_ns();
    st->next = c->streams;
    if (c->streams != NULL)
        c->streams->prev = st;
    c->streams = st;
    c->stream_count++;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    struct ptm_auth *auth = ((struct grpc_conn *)user_data)->server->o.auth;
    if (st != NULL) {
        stream_note_header(st, name, namelen, value, valuelen);
        if (auth != NULL)
            stream_note_auth(st, ptm_auth_header(auth), name, namelen, value, valuelen);
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct grpc_conn *c = user_data;
    c->got_preface = true; // nghttp2 checked the client magic and its SETTINGS first
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    struct grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        stream_check_headers(c, st);
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
        stream_request_end(c, st);
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *user_data)
{
    struct grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st != NULL && !st->answered && !st->dispatched)
        stream_take_bytes(user_data, st, data, len);
    return 0;
}

// An answer that went out before the request ended: tell the client to stop
// sending (RST_STREAM NO_ERROR after the END_STREAM, as HTTP/2 allows).
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    struct grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st != NULL && !st->request_ended)
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    return 0;
}

void ptm_grpc_stream_free(struct grpc_conn *c, struct grpc_stream *st)
{
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    c->stream_count--;
    stream_release_buffer(c->server, st);
    free(st->resp);
    free(st->auth_value);
    free(st);
    ptm_grpc_conn_note_idle(c);
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    struct grpc_conn *c = user_data;
    struct grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st == NULL)
        return 0;
    if (st->headers_done && !st->answered)
        ptm_grpc_report_answer(c->server, st, PTM_GRPC_CANCELLED);
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    ptm_grpc_stream_free(c, st);
    return 0;
}


int ptm_grpc_callbacks_create(nghttp2_session_callbacks **out)
{
    if (nghttp2_session_callbacks_new(out) != 0)
        return -1;
    nghttp2_session_callbacks *cb = *out;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    return 0;
}
