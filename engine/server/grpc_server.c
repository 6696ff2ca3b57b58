// SPDX-License-Identifier: Apache-2.0
//
// The gRPC server of grpc_server.h: the listener, the event loop and the
// connections (sockets, TLS, HTTP/2 sessions, timeouts), the worker threads'
// start and stop. What happens on one stream is in grpc_stream.c. Workers
// hand finished jobs back through a done list and an eventfd. A connection
// closed while its jobs run waits on the zombie list until the last job
// comes back; a job whose stream is gone is dropped.
//
// nghttp2 callbacks never close a connection: they mark it broken, and the
// loop closes it after nghttp2 has returned. Closed connections are freed
// only between rounds of epoll events, so no event in hand points at one.
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/grpc_server_internal.h"
#include "server/log.h"
#include "util/error.h"
#include "util/strbuf.h"

#define READ_CHUNK 16384             // bytes per read(2)/SSL_read
#define OUT_CHUNK 65536              // bytes gathered from nghttp2 before a write
#define TICK_MS 200                  // timeout sweep period
#define STREAM_WINDOW (1u << 20)     // per-stream receive window
#define CONNECTION_WINDOW (4u << 20) // per-connection receive window

uint64_t ptm_grpc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t ms_to_ns(uint64_t ms)
{
    return ms * 1000000u;
}

// More than ms (a timeout option, PTM_GRPC_NO_TIMEOUT for none) between
// since and now.
static bool timed_out(uint64_t now, uint64_t since, uint64_t ms)
{
    return ms != PTM_GRPC_NO_TIMEOUT && now - since > ms_to_ns(ms);
}

void ptm_grpc_conn_note_idle(struct grpc_conn *c)
{
    if (c->stream_count == 0 && c->jobs == 0)
        c->idle_since_ns = ptm_grpc_now_ns();
}

void ptm_grpc_conn_event(struct ptm_grpc_server *s, enum ptm_conn_event event, const char *fmt, ...)
{
    char detail[512] = "";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        ptm_log_debug(s->component, "%s", detail);
    }
    if (s->o.on_conn_event != NULL)
        s->o.on_conn_event(s->o.ctx, event, fmt != NULL ? detail : NULL);
}

// ---------------------------------------------------------------------------
// connections: I/O
// ---------------------------------------------------------------------------

static const char *tls_error_text(void)
{
    static _Thread_local char text[256];
    unsigned long e = ERR_get_error();
    if (e == 0)
        return strerror(errno);
    ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return text;
}

// Bytes read (> 0), 0 when nothing is there now, -1 at end or error.
static ssize_t conn_recv(struct grpc_conn *c, uint8_t *buf, size_t len)
{
    if (c->ssl == NULL) {
        for (;;) {
            ssize_t n = recv(c->fd, buf, len, 0);
            if (n > 0)
                return n;
            if (n == 0)
                return -1;
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
    }
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ: return 0;
    case SSL_ERROR_WANT_WRITE: c->tls_want_write = true; return 0;
    case SSL_ERROR_ZERO_RETURN: return -1;
    default:
        ptm_log_debug(c->server->component, "%s: TLS read: %s", c->peer, tls_error_text());
        return -1;
    }
}

// Bytes written (> 0), 0 when the socket is full, -1 on error.
static ssize_t conn_send(struct grpc_conn *c, const uint8_t *buf, size_t len)
{
    if (c->ssl == NULL) {
        for (;;) {
            ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
    }
    ERR_clear_error();
    int n = SSL_write(c->ssl, buf, (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_WRITE:
    case SSL_ERROR_WANT_READ: return 0;
    default:
        ptm_log_debug(c->server->component, "%s: TLS write: %s", c->peer, tls_error_text());
        return -1;
    }
}

// Write what nghttp2 has to send until done or the socket is full.
static int conn_flush(struct grpc_conn *c)
{
    if (!c->tls_ready)
        return 0;
    for (;;) {
        while (c->out_off < c->out_len) {
            ssize_t n = conn_send(c, c->out + c->out_off, c->out_len - c->out_off);
            if (n < 0)
                return -1;
            if (n == 0)
                return 0;
            c->out_off += (size_t)n;
            c->write_progress_ns = ptm_grpc_now_ns();
        }
        c->out_off = c->out_len = 0;
        while (c->out_len < OUT_CHUNK) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(c->session, &data);
            if (n < 0) {
                ptm_log_debug(c->server->component, "%s: HTTP/2: %s", c->peer, nghttp2_strerror((int)n));
                return -1;
            }
            if (n == 0)
                break;
            // Every chunk nghttp2 returns is at most 16 KiB plus a frame header, so a
            // chunk that does not fit is written after what is there.
            if (c->out_len + (size_t)n > OUT_CHUNK) {
                uint8_t *bigger = realloc(c->out, c->out_len + (size_t)n);
                if (bigger == NULL)
                    return -1;
                c->out = bigger;
            }
            memcpy(c->out + c->out_len, data, (size_t)n);
            c->out_len += (size_t)n;
        }
        if (c->out_len == 0)
            return 0;
        c->write_progress_ns = ptm_grpc_now_ns();
    }
}

// Read everything there is and feed it to nghttp2.
static int conn_read(struct grpc_conn *c)
{
    uint8_t buf[READ_CHUNK];
    for (;;) {
        ssize_t n = conn_recv(c, buf, sizeof buf);
        if (n <= 0)
            return (int)n;
        c->last_read_ns = ptm_grpc_now_ns();
        ssize_t used = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
        if (used < 0) {
            ptm_log_debug(c->server->component, "%s: HTTP/2: %s", c->peer, nghttp2_strerror((int)used));
            return -1;
        }
        if (c->broken)
            return -1;
    }
}

static int conn_handshake(struct grpc_conn *c)
{
    ERR_clear_error();
    int rc = SSL_accept(c->ssl);
    if (rc == 1) {
        c->tls_ready = true;
        return 0;
    }
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ: c->tls_want_write = false; return 0;
    case SSL_ERROR_WANT_WRITE: c->tls_want_write = true; return 0;
    default:
        ptm_log_debug(c->server->component, "%s: TLS handshake: %s", c->peer, tls_error_text());
        return -1;
    }
}

static void conn_free(struct grpc_conn *c)
{
    free(c->out);
    free(c);
}

static void list_remove(struct grpc_conn **head, struct grpc_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void list_push(struct grpc_conn **head, struct grpc_conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head != NULL)
        (*head)->prev = c;
    *head = c;
}

// Close the socket and the session; the struct waits on the zombie list
// for its jobs and the end of the round of events.
static void conn_close(struct grpc_conn *c)
{
    struct ptm_grpc_server *s = c->server;
    epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl != NULL) {
        if (c->tls_ready)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    close(c->fd);
    // nghttp2_session_del does not call on_stream_close: free the streams here.
    while (c->streams != NULL) {
        if (c->streams->headers_done && !c->streams->answered)
            ptm_grpc_report_answer(s, c->streams, PTM_GRPC_CANCELLED);
        ptm_grpc_stream_free(c, c->streams);
    }
    nghttp2_session_del(c->session);
    c->session = NULL;
    c->closed = true;
    list_remove(&s->conns, c);
    s->n_conns--;
    list_push(&s->zombies, c);
    ptm_grpc_conn_event(s, PTM_CONN_CLOSED, NULL);
}

// Free closed connections whose jobs have all come back. Called between
// rounds of events, so no event still in hand points at a freed one.
static void free_zombies(struct ptm_grpc_server *s)
{
    for (struct grpc_conn *c = s->zombies, *next; c != NULL; c = next) {
        next = c->next;
        if (c->jobs == 0) {
            list_remove(&s->zombies, c);
            conn_free(c);
        }
    }
}

// Set the epoll interest, or close the connection when it is done.
static void conn_settle(struct grpc_conn *c)
{
    bool done = c->broken || (c->tls_ready && !nghttp2_session_want_read(c->session) &&
                              !nghttp2_session_want_write(c->session) && c->out_off == c->out_len);
    if (done) {
        conn_close(c);
        return;
    }
    uint32_t events = EPOLLIN | EPOLLRDHUP;
    if (c->out_off < c->out_len || c->tls_want_write)
        events |= EPOLLOUT;
    if (events != c->events) {
        struct epoll_event ev = {.events = events, .data.ptr = c};
        epoll_ctl(c->server->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
        c->events = events;
    }
}

static void conn_on_event(struct grpc_conn *c, uint32_t events)
{
    if (c->closed)
        return; // closed earlier in this round of events
    c->tls_want_write = false;
    if (events & EPOLLERR) {
        c->broken = true;
    } else if (!c->tls_ready) {
        if (conn_handshake(c) != 0)
            c->broken = true;
        else if (c->tls_ready && (conn_read(c) < 0 || conn_flush(c) < 0))
            c->broken = true;
    } else {
        if (conn_read(c) < 0 || conn_flush(c) < 0)
            c->broken = true;
    }
    conn_settle(c);
}

// ---------------------------------------------------------------------------
// connections: accept, timeouts, stop
// ---------------------------------------------------------------------------

static int conn_start_session(struct grpc_conn *c)
{
    struct ptm_grpc_server *s = c->server;
    if (nghttp2_session_server_new2(&c->session, s->callbacks, c, s->h2_options) != 0)
        return -1;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->o.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 65536},
    };
    if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 3) != 0 ||
        nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, CONNECTION_WINDOW) != 0)
        return -1;
    return 0;
}

static void peer_name(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
    getnameinfo((const struct sockaddr *)sa, sizeof *sa, host, sizeof host, port, sizeof port,
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, cap, "%s%s%s:%s", sa->ss_family == AF_INET6 ? "[" : "", host,
             sa->ss_family == AF_INET6 ? "]" : "", port);
}

static void conn_accept(struct ptm_grpc_server *s, int fd, const struct sockaddr_storage *sa)
{
    struct grpc_conn *c = calloc(1, sizeof *c);
    if (c == NULL || (c->out = malloc(OUT_CHUNK)) == NULL) {
        free(c);
        close(fd);
        return;
    }
    c->server = s;
    c->fd = fd;
    c->opened_ns = c->last_read_ns = c->write_progress_ns = c->idle_since_ns = ptm_grpc_now_ns();
    peer_name(sa, c->peer, sizeof c->peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->tls_ready = s->ssl_ctx == NULL;
    if (s->ssl_ctx != NULL && ((c->ssl = SSL_new(s->ssl_ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1)) {
        SSL_free(c->ssl);
        conn_free(c);
        close(fd);
        return;
    }
    c->events = EPOLLIN | EPOLLRDHUP;
    struct epoll_event ev = {.events = c->events, .data.ptr = c};
    if (conn_start_session(c) != 0 || epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        nghttp2_session_del(c->session);
        SSL_free(c->ssl);
        conn_free(c);
        close(fd);
        return;
    }
    list_push(&s->conns, c);
    s->n_conns++;
    ptm_log_debug(s->component, "%s: connected", c->peer);
    ptm_grpc_conn_event(s, PTM_CONN_OPENED, NULL);
    if (conn_flush(c) < 0)
        c->broken = true;
    conn_settle(c);
}

static void accept_all(struct ptm_grpc_server *s)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: stop listening for a moment rather than spin.
                ptm_log_warn(s->component, "accept: %s", strerror(errno));
                epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
                s->accept_paused_until = ptm_grpc_now_ns() + ms_to_ns(100);
            }
            return;
        }
        if (s->n_conns >= s->o.max_connections) {
            char peer[64];
            peer_name(&sa, peer, sizeof peer);
            close(fd);
            ptm_grpc_conn_event(s, PTM_CONN_REFUSED, "%s: connection refused: %u open (max_connections %u)", peer,
                                s->n_conns, s->o.max_connections);
            continue;
        }
        conn_accept(s, fd, &sa);
    }
}

static void conn_goaway(struct grpc_conn *c)
{
    if (c->goaway_sent)
        return;
    c->goaway_sent = true;
    nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->session),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

// Answer streams whose request is late: stalled mid-message, or trickling.
static void conn_expire_streams(struct grpc_conn *c, uint64_t now)
{
    uint64_t limit = c->server->o.request_timeout_ms;
    for (struct grpc_stream *st = c->streams; st != NULL; st = st->next) {
        if (st->answered || st->dispatched || !timed_out(now, st->started_ns, limit))
            continue;
        ptm_grpc_conn_event(c->server, PTM_CONN_READ_TIMEOUT,
                            "%s: stream %d: the request (%zu of %u message bytes) did not arrive within %llu ms "
                            "(read_timeout); answered DEADLINE_EXCEEDED",
                            c->peer, st->id, st->len, st->declared, (unsigned long long)limit);
        ptm_grpc_stream_fail(c, st, PTM_GRPC_DEADLINE_EXCEEDED, "the request did not arrive within %llu ms",
                             (unsigned long long)limit);
    }
}

static void conn_check_timeouts(struct grpc_conn *c, uint64_t now)
{
    struct ptm_grpc_server *s = c->server;
    const struct ptm_grpc_server_options *o = &s->o;
    if (c->goaway_sent && c->stream_count == 0 && c->jobs == 0 && timed_out(now, c->idle_since_ns, 1000)) {
        c->broken = true; // said GOAWAY a second ago and the client keeps the connection open
    } else if (!c->got_preface) {
        if (timed_out(now, c->opened_ns, o->handshake_timeout_ms)) {
            ptm_grpc_conn_event(s, PTM_CONN_HANDSHAKE_TIMEOUT, "%s: no %sHTTP/2 preface within %llu ms "
                                "(handshake_timeout); connection closed", c->peer, c->ssl != NULL ? "TLS handshake and " : "",
                                (unsigned long long)o->handshake_timeout_ms);
            c->broken = true;
        }
    } else if (c->out_off < c->out_len && timed_out(now, c->write_progress_ns, o->write_timeout_ms)) {
        ptm_grpc_conn_event(s, PTM_CONN_WRITE_TIMEOUT, "%s: not reading the answers for %llu ms (write_timeout); "
                            "connection closed", c->peer, (unsigned long long)o->write_timeout_ms);
        c->broken = true;
    } else if (!c->goaway_sent && c->stream_count == 0 && c->jobs == 0 &&
               timed_out(now, c->idle_since_ns, o->idle_timeout_ms)) {
        ptm_grpc_conn_event(s, PTM_CONN_IDLE_TIMEOUT, "%s: no call for %llu ms (max_connection_idle); GOAWAY",
                            c->peer, (unsigned long long)o->idle_timeout_ms);
        conn_goaway(c);
        c->idle_since_ns = now;
    } else {
        conn_expire_streams(c, now);
    }
    if (!c->broken && conn_flush(c) < 0)
        c->broken = true;
    conn_settle(c);
}

static void sweep_timeouts(struct ptm_grpc_server *s, uint64_t now)
{
    for (struct grpc_conn *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        conn_check_timeouts(c, now);
    }
    if (s->accept_paused_until != 0 && now >= s->accept_paused_until && s->listen_fd >= 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->listen_fd};
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev);
        s->accept_paused_until = 0;
    }
}

// Answer finished jobs on their streams (loop thread).
static void finish_jobs(struct ptm_grpc_server *s)
{
    uint64_t count;
    ssize_t r = read(s->event_fd, &count, sizeof count);
    (void)r; // nonblocking: empty when another pass already took the jobs
    pthread_mutex_lock(&s->lock);
    struct grpc_job *j = s->done;
    s->done = NULL;
    pthread_mutex_unlock(&s->lock);
    while (j != NULL) {
        struct grpc_job *next = j->next;
        struct grpc_conn *c = j->conn;
        s->buffered -= j->charged;
        c->jobs--;
        ptm_grpc_conn_note_idle(c);
        if (!c->closed) {
            struct grpc_stream *st = nghttp2_session_get_stream_user_data(c->session, j->stream_id);
            if (st != NULL)
                ptm_grpc_stream_answer(c, st, 200, &j->res);
            if (conn_flush(c) < 0)
                c->broken = true;
            conn_settle(c);
        }
        ptm_grpc_job_free(j);
        j = next;
    }
}

// Stop listening and say GOAWAY; connections close as their streams finish.
static void begin_stop(struct ptm_grpc_server *s)
{
    s->stopping = true;
    if (s->listen_fd >= 0) {
        epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    for (struct grpc_conn *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (!c->got_preface)
            c->broken = true;
        else
            conn_goaway(c);
        if (!c->broken && conn_flush(c) < 0)
            c->broken = true;
        conn_settle(c);
    }
}

static void *loop_main(void *arg)
{
    struct ptm_grpc_server *s = arg;
    pthread_setname_np(pthread_self(), "grpc-loop"); // for top, perf and loadgen's per-thread CPU
    struct epoll_event events[64];
    uint64_t next_sweep = ptm_grpc_now_ns() + ms_to_ns(TICK_MS), deadline = 0;
    for (;;) {
        int n = epoll_wait(s->epoll_fd, events, 64, TICK_MS);
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &s->listen_fd)
                accept_all(s);
            else if (p == &s->event_fd)
                finish_jobs(s);
            else
                conn_on_event(p, events[i].events);
        }
        uint64_t now = ptm_grpc_now_ns();
        if (!s->stopping && atomic_load(&s->stop_requested)) {
            begin_stop(s);
            deadline = now + ms_to_ns(s->o.stop_grace_ms);
        }
        if (now >= next_sweep) {
            sweep_timeouts(s, now);
            next_sweep = now + ms_to_ns(TICK_MS);
        }
        free_zombies(s);
        if (s->stopping && (s->conns == NULL || now >= deadline))
            break;
    }
    while (s->conns != NULL)
        conn_close(s->conns);
    free_zombies(s);
    return NULL;
}

// ---------------------------------------------------------------------------
// start and stop
// ---------------------------------------------------------------------------

static int split_address(const char *address, char *host, size_t host_cap, const char **port)
{
    const char *colon;
    const char *h = address;
    size_t hlen;
    if (address[0] == '[') {
        const char *close_bracket = strchr(address, ']');
        if (close_bracket == NULL || close_bracket[1] != ':')
            return -1;
        h = address + 1;
        hlen = (size_t)(close_bracket - h);
        colon = close_bracket + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - address);
    }
    if (hlen >= host_cap || colon[1] == '\0')
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = colon + 1;
    return 0;
}

static int listen_on(struct ptm_grpc_server *s, struct ptm_error *err)
{
    char host[256];
    const char *port;
    if (split_address(s->address, host, sizeof host, &port) != 0)
        return ptm_error_set(err, PTM_ECONFIG, "grpc endpoint \"%s\": expected host:port", s->address);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int rc = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &res);
    if (rc != 0)
        return ptm_error_set(err, PTM_ECONFIG, "grpc endpoint \"%s\": %s", s->address, gai_strerror(rc));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return ptm_error_set(err, PTM_EIO, "grpc endpoint \"%s\": %s", s->address, strerror(saved));
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    s->listen_fd = fd;
    return 0;
}

static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                     unsigned int inlen, void *arg)
{
    for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
        if (in[i] == 2 && i + 3 <= inlen && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int tls_setup(struct ptm_grpc_server *s, struct ptm_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "TLS: %s", tls_error_text());
    s->ssl_ctx = ctx;
    static const int versions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
    SSL_CTX_set_min_proto_version(ctx, versions[s->o.tls_min_version - 10]);
    if (s->o.tls_max_version != 0)
        SSL_CTX_set_max_proto_version(ctx, versions[s->o.tls_max_version - 10]);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1)
        return ptm_error_set(err, PTM_ECONFIG, "tls cert_file \"%s\": %s", s->cert_file, tls_error_text());
    if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) != 1)
        return ptm_error_set(err, PTM_ECONFIG, "tls key_file \"%s\": %s", s->key_file, tls_error_text());
    if (SSL_CTX_check_private_key(ctx) != 1)
        return ptm_error_set(err, PTM_ECONFIG, "tls key_file \"%s\" does not match cert_file \"%s\": %s",
                             s->key_file, s->cert_file, tls_error_text());
    if (s->client_ca_file != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(s->client_ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, s->client_ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return ptm_error_set(err, PTM_ECONFIG, "tls client_ca_file \"%s\": %s", s->client_ca_file,
                                 tls_error_text());
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return 0;
}

// Copy the options and fill in the defaults.
static int copy_options(struct ptm_grpc_server *s, const struct ptm_grpc_server_options *opts)
{
    bool failed = false;
    s->o = *opts;
    s->address = ptm_strdup_or_null(opts->address, &failed);
    s->component = ptm_strdup_or_null(opts->component ? opts->component : "grpc", &failed);
    s->cert_file = ptm_strdup_or_null(opts->cert_file, &failed);
    s->key_file = ptm_strdup_or_null(opts->key_file, &failed);
    s->client_ca_file = ptm_strdup_or_null(opts->client_ca_file, &failed);
    while (opts->methods[s->n_methods] != NULL)
        s->n_methods++;
    s->methods = calloc(s->n_methods + 1, sizeof *s->methods);
    failed |= s->methods == NULL;
    for (size_t i = 0; !failed && i < s->n_methods; i++)
        s->methods[i] = ptm_strdup_or_null(opts->methods[i], &failed);
    struct ptm_grpc_server_options *o = &s->o;
    o->max_recv_msg_size = o->max_recv_msg_size ? o->max_recv_msg_size : 4u << 20;
    if (o->max_recv_msg_size > UINT32_MAX)
        o->max_recv_msg_size = UINT32_MAX; // the prefix cannot declare more
    o->max_buffered = o->max_buffered ? o->max_buffered : (size_t)256 << 20;
    o->max_connections = o->max_connections ? o->max_connections : 1024;
    o->max_concurrent_streams = o->max_concurrent_streams ? o->max_concurrent_streams : 100;
    o->workers = o->workers ? o->workers : 4;
    o->tls_min_version = o->tls_min_version >= 10 && o->tls_min_version <= 13 ? o->tls_min_version : 12;
    if (o->tls_max_version != 0 && (o->tls_max_version < o->tls_min_version || o->tls_max_version > 13))
        o->tls_max_version = 0;
    o->handshake_timeout_ms = o->handshake_timeout_ms ? o->handshake_timeout_ms : 5000;
    o->idle_timeout_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 120000;
    o->request_timeout_ms = o->request_timeout_ms ? o->request_timeout_ms : 60000;
    o->write_timeout_ms = o->write_timeout_ms ? o->write_timeout_ms : 30000;
    o->stop_grace_ms = o->stop_grace_ms ? o->stop_grace_ms : 5000;
    return failed ? -1 : 0;
}

// Start the loop and the workers with SIGPIPE blocked: a peer that hangs up
// while OpenSSL writes gives EPIPE, not a signal that kills the process.
static int start_threads(struct ptm_grpc_server *s, struct ptm_error *err)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = 0;
    s->workers = calloc(s->o.workers, sizeof *s->workers);
    if (s->workers == NULL)
        rc = ptm_error_set(err, PTM_ENOMEM, "out of memory starting the gRPC workers");
    for (uint32_t i = 0; rc == 0 && i < s->o.workers; i++) {
        if (pthread_create(&s->workers[i], NULL, ptm_grpc_worker_main, s) != 0)
            rc = ptm_error_set(err, PTM_ENOMEM, "cannot start a gRPC worker thread");
        else
            s->n_workers++;
    }
    if (rc == 0 && pthread_create(&s->loop_thread, NULL, loop_main, s) != 0)
        rc = ptm_error_set(err, PTM_ENOMEM, "cannot start the gRPC event loop thread");
    s->loop_started = rc == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

struct ptm_grpc_server *ptm_grpc_server_start(const struct ptm_grpc_server_options *opts, struct ptm_error *err)
{
    struct ptm_grpc_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory starting the gRPC server");
        return NULL;
    }
    s->listen_fd = s->epoll_fd = s->event_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (opts->address == NULL || opts->methods == NULL || opts->handler == NULL) {
        ptm_error_set(err, PTM_EINVAL, "gRPC server: address, methods and handler are required");
        goto fail;
    }
    if (copy_options(s, opts) != 0) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory starting the gRPC server");
        goto fail;
    }
    if (s->cert_file != NULL && s->key_file != NULL && tls_setup(s, err) != 0)
        goto fail;
    if (listen_on(s, err) != 0)
        goto fail;
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event listen_ev = {.events = EPOLLIN, .data.ptr = &s->listen_fd};
    struct epoll_event event_ev = {.events = EPOLLIN, .data.ptr = &s->event_fd};
    if (s->epoll_fd < 0 || s->event_fd < 0 || epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &listen_ev) != 0 ||
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->event_fd, &event_ev) != 0) {
        ptm_error_set(err, PTM_EIO, "gRPC server: epoll: %s", strerror(errno));
        goto fail;
    }
    if (ptm_grpc_callbacks_create(&s->callbacks) != 0 || nghttp2_option_new(&s->h2_options) != 0) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory setting up HTTP/2");
        goto fail;
    }
    if (start_threads(s, err) != 0)
        goto fail;
    return s;
fail:
    ptm_grpc_server_destroy(s);
    return NULL;
}

uint16_t ptm_grpc_server_port(const struct ptm_grpc_server *s)
{
    return s->port;
}

// Free jobs the workers never took or that came back after the loop ended.
static void drain_jobs(struct ptm_grpc_server *s)
{
    struct grpc_job *lists[2] = {s->queue_head, s->done};
    s->queue_head = s->queue_tail = s->done = NULL;
    for (int i = 0; i < 2; i++) {
        for (struct grpc_job *j = lists[i], *next; j != NULL; j = next) {
            next = j->next;
            s->buffered -= j->charged;
            j->conn->jobs--;
            ptm_grpc_job_free(j);
        }
    }
    free_zombies(s);
}

void ptm_grpc_server_stop(struct ptm_grpc_server *s)
{
    if (s == NULL || s->stopped)
        return;
    s->stopped = true;
    if (s->loop_started) {
        atomic_store(&s->stop_requested, true);
        uint64_t one = 1;
        ssize_t w = write(s->event_fd, &one, sizeof one);
        (void)w;
        pthread_join(s->loop_thread, NULL);
    }
    pthread_mutex_lock(&s->lock);
    s->workers_quit = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    for (uint32_t i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i], NULL);
    drain_jobs(s);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
}

void ptm_grpc_server_destroy(struct ptm_grpc_server *s)
{
    if (s == NULL)
        return;
    ptm_grpc_server_stop(s);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    if (s->event_fd >= 0)
        close(s->event_fd);
    SSL_CTX_free(s->ssl_ctx);
    nghttp2_session_callbacks_del(s->callbacks);
    nghttp2_option_del(s->h2_options);
    for (size_t i = 0; s->methods != NULL && i < s->n_methods; i++)
        free(s->methods[i]);
    free(s->methods);
    free(s->address);
    free(s->component);
    free(s->cert_file);
    free(s->key_file);
    free(s->client_ca_file);
    free(s->workers);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
