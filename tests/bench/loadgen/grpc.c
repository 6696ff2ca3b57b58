// SPDX-License-Identifier: Apache-2.0
//
// An OTLP/gRPC client thread on nghttp2: one HTTP/2 connection in
// cleartext with prior knowledge (what gRPC clients do without TLS), up to
// --streams unary Export calls in flight on it. Each call is a POST of the
// input's length-prefixed message; its outcome is the grpc-status of the
// trailers (or of a trailers-only answer). libcurl is not used here: the
// curl of Debian 12 (7.88) does not reuse h2c connections reliably
// (curl #10634), and a load tool that reconnects per request measures the
// handshakes.
//
// The connection runs on a non-blocking socket with poll(): submit calls
// while streams are free (and due, with --rate), let nghttp2 write what it
// can, read what came. A connection that breaks fails its calls in flight
// (LOAD_ERROR) and is opened again.
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load.h"
#include "server/http_client.h"

#define EXPORT_PATH "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
#define STREAM_WINDOW (16u << 20)

enum slot_state { SLOT_FREE, SLOT_WAITING, SLOT_ACTIVE };

// One call: waiting for its due time, or in flight on a stream.
struct slot {
    enum slot_state state;
    uint64_t number;
    int32_t stream_id;
    struct load_record rec;
    const struct load_input *in;
    size_t offset; // bytes of the frame handed to nghttp2
    int grpc_status; // -1 until seen
    int http_status;
    double retry_after; // RetryInfo's delay, seconds; 0: none
    bool timed_out;
};

struct conn {
    struct load_client *client;
    int fd;
    nghttp2_session *session;
    struct slot *slots;
    unsigned n_slots, active;
    bool broken;
    double pause_until; // --honour-retry-after: no new call before this
    char authority[300];
    char host[256], port[16];
};

// ---- the call's outcome ----

static void finish(struct conn *cn, struct slot *sl, uint32_t error_code)
{
    struct load_client *c = cn->client;
    struct load_shared *s = c->shared;
    sl->rec.end = load_now(s);
    if (sl->timed_out) {
        sl->rec.outcome = LOAD_ERROR;
        load_note_error(c, "a call took longer than --timeout");
    } else if (sl->grpc_status >= 0) {
        sl->rec.status = (uint16_t)sl->grpc_status;
        sl->rec.outcome = sl->grpc_status == 0    ? LOAD_OK
                          : sl->grpc_status == 8  ? LOAD_THROTTLED
                          : sl->grpc_status == 14 ? LOAD_UNAVAILABLE
                                                  : LOAD_REFUSED;
    } else {
        sl->rec.outcome = LOAD_ERROR;
        if (error_code != 0)
            load_note_error(c, "stream reset: %s", nghttp2_http2_strerror(error_code));
        else
            load_note_error(c, "an answer without grpc-status (HTTP status %d)", sl->http_status);
    }
    load_record(c, &sl->rec);
    if (s->opts->honour_retry_after && sl->retry_after > 0 &&
        (sl->rec.outcome == LOAD_THROTTLED || sl->rec.outcome == LOAD_UNAVAILABLE)) {
        double until = sl->rec.end + sl->retry_after;
        if (until > cn->pause_until)
            cn->pause_until = until;
    }
    sl->state = SLOT_FREE;
    cn->active--;
}

// The delay of a RetryInfo in grpc-status-details-bin (base64 of a
// google.rpc.Status), in seconds; 0 without one.
static double retry_delay(const uint8_t *value, size_t len)
{
    char text[1024];
    uint8_t bytes[768];
    if (len >= sizeof text)
        return 0;
    memcpy(text, value, len);
    text[len] = '\0';
    long n = ptm_base64_decode(text, bytes, sizeof bytes);
    struct ptm_rpc_status st;
    if (n < 0 || !ptm_rpc_status_decode(bytes, (size_t)n, &st) || !st.has_retry_delay)
        return 0;
    return (double)st.retry_delay / 1e9;
}

// ---- nghttp2 callbacks ----

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t len, int flags, void *user_data)
{
    (void)session, (void)flags;
    struct conn *cn = user_data;
    ssize_t n = send(cn->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return NGHTTP2_ERR_WOULDBLOCK;
    load_note_error(cn->client, "send: %s", strerror(errno));
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    (void)flags, (void)user_data;
    struct slot *sl = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (sl == NULL || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    char v[16];
    size_t vn = valuelen < sizeof v - 1 ? valuelen : sizeof v - 1;
    memcpy(v, value, vn);
    v[vn] = '\0';
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        sl->http_status = atoi(v);
    else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        sl->grpc_status = atoi(v);
    else if (namelen == 23 && memcmp(name, "grpc-status-details-bin", 23) == 0)
        sl->retry_after = retry_delay(value, valuelen);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    struct conn *cn = user_data;
    struct slot *sl = nghttp2_session_get_stream_user_data(session, stream_id);
    if (sl != NULL && sl->state == SLOT_ACTIVE) {
        nghttp2_session_set_stream_user_data(session, stream_id, NULL);
        finish(cn, sl, error_code);
    }
    return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)session, (void)stream_id, (void)user_data;
    struct slot *sl = source->ptr;
    size_t left = sl->in->grpc_frame_len - sl->offset;
    size_t n = left < length ? left : length;
    memcpy(buf, sl->in->grpc_frame + sl->offset, n);
    sl->offset += n;
    if (sl->offset == sl->in->grpc_frame_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

// ---- the connection ----

static void split_target(struct conn *cn, const char *target)
{
    const char *colon = strrchr(target, ':');
    const char *host = target;
    size_t hlen = colon ? (size_t)(colon - target) : strlen(target);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']')
        host++, hlen -= 2;
    snprintf(cn->host, sizeof cn->host, "%.*s", (int)hlen, host);
    snprintf(cn->port, sizeof cn->port, "%s", colon ? colon + 1 : "4317");
    snprintf(cn->authority, sizeof cn->authority, "%s", target);
}

static int connect_to(struct conn *cn)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    int gai = getaddrinfo(cn->host, cn->port, &hints, &list);
    if (gai != 0) {
        load_note_error(cn->client, "%s:%s: %s", cn->host, cn->port, gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        load_note_error(cn->client, "connect to %s: %s", cn->authority, strerror(e));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int open_session(struct conn *cn)
{
    cn->fd = connect_to(cn);
    if (cn->fd < 0)
        return -1;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        return -1;
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int rc = nghttp2_session_client_new(&cn->session, cb, cn);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        return -1;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
    };
    nghttp2_submit_settings(cn->session, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(cn->session, NGHTTP2_FLAG_NONE, 0, STREAM_WINDOW);
    cn->broken = false;
    cn->client->connects++;
    return 0;
}

// Close the connection; the calls in flight on it failed.
static void close_session(struct conn *cn)
{
    if (cn->session != NULL)
        nghttp2_session_del(cn->session); // calls no stream-close callback
    cn->session = NULL;
    if (cn->fd >= 0)
        close(cn->fd);
    cn->fd = -1;
    for (unsigned i = 0; i < cn->n_slots; i++)
        if (cn->slots[i].state == SLOT_ACTIVE)
            finish(cn, &cn->slots[i], NGHTTP2_CONNECT_ERROR);
}

static void submit(struct conn *cn, struct slot *sl)
{
    const struct load_options *o = cn->client->shared->opts;
#define HEADER(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv headers[] = {
        HEADER(":method", "POST"),
        HEADER(":scheme", "http"),
        HEADER(":path", EXPORT_PATH),
        HEADER(":authority", cn->authority),
        HEADER("content-type", "application/grpc"),
        HEADER("te", "trailers"),
        HEADER("user-agent", "profiletometrics-loadgen"),
        HEADER("grpc-encoding", "gzip"),
    };
#undef HEADER
    size_t n_headers = sizeof headers / sizeof headers[0] - (o->gzip ? 0 : 1);
    nghttp2_data_provider body = {.source.ptr = sl, .read_callback = read_body};
    sl->offset = 0;
    sl->grpc_status = -1;
    sl->http_status = 0;
    sl->retry_after = 0;
    sl->timed_out = false;
    sl->state = SLOT_ACTIVE;
    cn->active++;
    if (cn->session == NULL) { // not connected: the call fails at once
        finish(cn, sl, NGHTTP2_CONNECT_ERROR);
        return;
    }
    sl->stream_id = nghttp2_submit_request(cn->session, NULL, headers, n_headers, &body, sl);
    if (sl->stream_id < 0) {
        load_note_error(cn->client, "nghttp2_submit_request: %s", nghttp2_strerror(sl->stream_id));
        finish(cn, sl, NGHTTP2_INTERNAL_ERROR);
    }
}

// Claim calls for free slots and start those that are due. Returns the
// seconds until the next one is due (or 0.1 when nothing waits); *over is
// set once no more calls will be claimed.
static double start_calls(struct conn *cn, bool *over)
{
    struct load_shared *s = cn->client->shared;
    const struct load_options *o = s->opts;
    double now = load_now(s), wait = 0.1;
    for (unsigned i = 0; i < cn->n_slots; i++) {
        struct slot *sl = &cn->slots[i];
        if (sl->state == SLOT_FREE && !*over && now >= cn->pause_until) {
            if (!load_claim(cn->client, &sl->number)) {
                *over = true;
                continue;
            }
            sl->rec = (struct load_record){.input = load_input_for(cn->client, sl->number)};
            sl->in = &s->inputs[sl->rec.input];
            sl->state = SLOT_WAITING;
        }
        if (sl->state != SLOT_WAITING)
            continue;
        double due = load_due(s, sl->number);
        if (o->rate > 0 && due > now) {
            if (due - now < wait)
                wait = due - now;
            continue;
        }
        sl->rec.start = o->rate > 0 ? due : now;
        submit(cn, sl);
    }
    if (now < cn->pause_until && cn->pause_until - now < wait)
        wait = cn->pause_until - now;
    return wait;
}

// Cancel the calls that have taken longer than --timeout.
static void expire_calls(struct conn *cn)
{
    struct load_shared *s = cn->client->shared;
    double now = load_now(s);
    for (unsigned i = 0; i < cn->n_slots; i++) {
        struct slot *sl = &cn->slots[i];
        if (sl->state != SLOT_ACTIVE || sl->timed_out || now - sl->rec.start < s->opts->timeout)
            continue;
        sl->timed_out = true;
        if (nghttp2_submit_rst_stream(cn->session, NGHTTP2_FLAG_NONE, sl->stream_id, NGHTTP2_CANCEL) != 0)
            cn->broken = true;
    }
}

// Read what the socket has and feed it to nghttp2.
static void receive(struct conn *cn)
{
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(cn->fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            load_note_error(cn->client, "the server closed the connection%s%s", n < 0 ? ": " : "",
                            n < 0 ? strerror(errno) : "");
            cn->broken = true;
            return;
        }
        ssize_t rc = nghttp2_session_mem_recv(cn->session, buf, (size_t)n);
        if (rc < 0) {
            load_note_error(cn->client, "HTTP/2: %s", nghttp2_strerror((int)rc));
            cn->broken = true;
            return;
        }
    }
}

static bool any_waiting(const struct conn *cn)
{
    for (unsigned i = 0; i < cn->n_slots; i++)
        if (cn->slots[i].state == SLOT_WAITING)
            return true;
    return false;
}

static void run_connection(struct conn *cn)
{
    struct load_shared *s = cn->client->shared;
    bool over = false;
    while (!atomic_load(&s->abort)) {
        if (over && cn->active == 0 && !any_waiting(cn))
            return;
        if (cn->session == NULL && open_session(cn) != 0)
            close_session(cn); // the calls due now fail at once; try again in a while
        double wait = start_calls(cn, &over);
        if (over && cn->active == 0 && !any_waiting(cn))
            return;
        if (cn->session == NULL) {
            load_sleep_until(s, load_now(s) + 0.1);
            continue;
        }
        expire_calls(cn);
        if (!cn->broken && nghttp2_session_send(cn->session) != 0)
            cn->broken = true;
        if (!cn->broken && !nghttp2_session_want_read(cn->session) && !nghttp2_session_want_write(cn->session)) {
            load_note_error(cn->client, "the server ended the HTTP/2 session");
            cn->broken = true;
        }
        if (cn->broken) {
            close_session(cn);
            continue;
        }
        struct pollfd p = {.fd = cn->fd, .events = POLLIN};
        if (nghttp2_session_want_write(cn->session))
            p.events |= POLLOUT;
        int ms = (int)(wait * 1000) + 1;
        if (poll(&p, 1, ms) > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)))
            receive(cn);
    }
}

void *load_grpc_client(void *arg)
{
    struct load_client *c = arg;
    const struct load_options *o = c->shared->opts;
    struct conn cn = {.client = c, .fd = -1, .n_slots = o->streams};
    cn.slots = calloc(o->streams, sizeof *cn.slots);
    if (cn.slots == NULL)
        load_die("out of memory");
    split_target(&cn, o->grpc_target);
    run_connection(&cn);
    close_session(&cn);
    // Calls claimed but never started (an abort) are not counted.
    free(cn.slots);
    return NULL;
}
