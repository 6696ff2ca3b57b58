// SPDX-License-Identifier: Apache-2.0
//
// The HTTP server wrapper over libmicrohttpd (see http.h): the request
// cycle. We open the listening socket ourselves (to name the address in
// errors, to take port 0 and to serve IPv4 and IPv6 on "[::]") and hand it
// to the daemon. Each request gets a small state (its route and its body so
// far) in the daemon's per-request pointer, made when its request line
// arrives (the URI log callback, the first moment libmicrohttpd tells of a
// request); the request-completed callback frees it and counts it out, which
// is how ptm_http_stop knows the answers in flight are sent. Each step tells
// http_conn.c where the connection is, for its deadlines.
#include "server/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/auth.h"
#include "server/http_internal.h"
#include "server/log.h"
#include "util/error.h"

#define DEFAULT_MAX_BODY ((size_t)20 << 20)
#define STOP_GRACE_NS (5 * 1000000000ull)

uint64_t ptm_http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double ptm_http_elapsed(const struct ptm_http_request *req)
{
    return (double)(ptm_http_now_ns() - req->start_ns) / 1e9;
}

// ---- small helpers for handlers ----

const char *ptm_http_query(const struct ptm_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *ptm_http_header(const struct ptm_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

bool ptm_http_media_type_is(const char *content_type, const char *media_type)
{
    if (content_type == NULL)
        return false;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t n = strlen(media_type);
    if (strncasecmp(content_type, media_type, n) != 0)
        return false;
    const char *rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

void ptm_http_label_value(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 3 < size; s++) {
        if (*s == '\\' || *s == '"')
            out[n++] = '\\';
        if (*s == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
            continue;
        }
        out[n++] = *s;
    }
    out[n] = '\0';
}

unsigned ptm_http_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 8 ? 8 : (unsigned)n;
}

// ---- answering ----

static enum MHD_Result send_response(struct MHD_Connection *c, struct ptm_http_response *resp, bool close_after)
{
    struct MHD_Response *r;
    if (resp->body.failed || resp->body.len == 0)
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(resp->body.len, resp->body.data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        ptm_strbuf_free(&resp->body);
        return MHD_NO;
    }
    if (resp->body.len != 0 && !resp->body.failed)
        resp->body.data = NULL; // the response frees it now
    ptm_strbuf_free(&resp->body);
    if (resp->content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    if (resp->retry_after != 0) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%u", (unsigned)resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (resp->www_authenticate[0] != '\0')
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
    if (close_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(c, resp->status ? resp->status : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static void fill_request(struct ptm_http_request *req, struct MHD_Connection *c, const char *method,
                         const char *path, const struct request_state *st)
{
    memset(req, 0, sizeof *req);
    req->method = method;
    req->path = path;
    req->connection = c;
    req->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->content_encoding =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    req->too_large = st->too_large;
    req->start_ns = st->start_ns;
    if (!st->too_large && st->body.len > 0) {
        req->body = (const uint8_t *)st->body.data;
        req->body_len = st->body.len;
    }
}

// Answer with the route's handler (or with text when there is no route)
// and tell the observer.
static enum MHD_Result answer(struct ptm_http_server *s, struct MHD_Connection *c, const char *method,
                              const char *path, struct request_state *st, struct ptm_http_response *resp)
{
    struct ptm_http_request req;
    fill_request(&req, c, method, path, st);
    ptm_http_conn_phase(s, c, PHASE_HANDLING);
    if (st->route != NULL)
        st->route->handler(st->route->ctx, &req, resp);
    unsigned status = resp->status ? resp->status : MHD_HTTP_OK;
    enum MHD_Result rc = send_response(c, resp, s->close_after_answer);
    ptm_http_conn_phase(s, c, PHASE_ANSWERING);
    if (s->observe != NULL)
        s->observe(s->observe_ctx, &req, status);
    return rc;
}

static enum MHD_Result answer_text(struct ptm_http_server *s, struct MHD_Connection *c,
                                   const char *method, const char *path, struct request_state *st,
                                   unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static enum MHD_Result answer_text(struct ptm_http_server *s, struct MHD_Connection *c,
                                   const char *method, const char *path, struct request_state *st,
                                   unsigned status, const char *fmt, ...)
{
    struct ptm_http_response resp = {.status = status, .content_type = "text/plain; charset=utf-8"};
    va_list ap;
    va_start(ap, fmt);
    ptm_strbuf_vprintf(&resp.body, fmt, ap);
    va_end(ap);
    ptm_strbuf_putc(&resp.body, '\n');
    st->route = NULL;
    return answer(s, c, method, path, st, &resp);
}

// ---- the request cycle ----

static const struct ptm_http_route *find_route(const struct ptm_http_server *s, const char *method,
                                               const char *path, bool *path_known)
{
    if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        method = MHD_HTTP_METHOD_GET;
    *path_known = false;
    for (size_t i = 0; i < s->route_count; i++) {
        if (strcmp(s->routes[i].path, path) != 0)
            continue;
        *path_known = true;
        if (strcmp(s->routes[i].method, method) == 0)
            return &s->routes[i];
    }
    return NULL;
}

// The body will not fit when Content-Length says it is longer than the
// limit. *declared: the length it gives (0 when none).
static bool declared_too_large(const struct ptm_http_server *s, struct MHD_Connection *c, size_t *declared)
{
    *declared = 0;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return false;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno == ERANGE || (end != cl && n > s->max_body))
        return true;
    *declared = end != cl ? (size_t)n : 0;
    return false;
}

// The request line arrived: its state, before any header (the URI log
// callback; cls: the server). The connection now waits for the headers.
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct ptm_http_server *s = cls;
    struct request_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL; // on_request tries again when the headers are in
    ptm_http_conn_phase(s, c, PHASE_HEADERS);
    return st;
}

// 401 with the challenge, before the body is read; false when the request
// may go on.
static bool refuse_unauthenticated(struct ptm_http_server *s, struct MHD_Connection *c, const char *method,
                                   const char *path, struct request_state *st, enum MHD_Result *rc)
{
    const char *header = ptm_auth_header(s->auth);
    const char *value = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
    enum ptm_auth_result r = ptm_auth_check(s->auth, value, value != NULL ? strlen(value) : 0);
    if (r == PTM_AUTH_OK)
        return false;
    const union MHD_ConnectionInfo *peer = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const struct http_conn *conn = peer != NULL ? peer->socket_context : NULL;
    ptm_log_debug(s->component, "%s: %s %s: unauthenticated: %s", conn != NULL ? conn->peer : "?", method, path,
                  ptm_auth_result_text(r));
    struct ptm_http_response resp = {.status = MHD_HTTP_UNAUTHORIZED, .content_type = "text/plain; charset=utf-8"};
    ptm_auth_challenge(s->auth, r, resp.www_authenticate, sizeof resp.www_authenticate);
    ptm_strbuf_printf(&resp.body, "401 unauthorized: %s (header %s)\n", ptm_auth_result_text(r), header);
    st->route = NULL;
    *rc = answer(s, c, method, path, st, &resp);
    return true;
}

// The headers are in: route, authenticate, check the declared length.
static enum MHD_Result begin_request(struct ptm_http_server *s, struct MHD_Connection *c,
                                     const char *path, const char *method, struct request_state *st)
{
    // Counted in flight from here: stop waits for the answers of requests
    // whose headers came, not for clients still sending theirs.
    st->begun = true;
    st->start_ns = ptm_http_now_ns();
    pthread_mutex_lock(&s->lock);
    s->in_flight++;
    pthread_mutex_unlock(&s->lock);
    ptm_http_conn_phase(s, c, PHASE_BODY);
    enum MHD_Result rc;
    if (s->auth != NULL && refuse_unauthenticated(s, c, method, path, st, &rc))
        return rc;
    bool path_known;
    st->route = find_route(s, method, path, &path_known);
    if (st->route == NULL && !path_known)
        return answer_text(s, c, method, path, st, MHD_HTTP_NOT_FOUND, "404 page not found: %s", path);
    if (st->route == NULL)
        return answer_text(s, c, method, path, st, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "405 method %s not allowed for %s", method, path);
    size_t declared;
    if (declared_too_large(s, c, &declared)) {
        st->too_large = true;
        struct ptm_http_response resp = {0};
        return answer(s, c, method, path, st, &resp);
    }
    // Room for the whole body at once: ~1 MB in 256-byte doublings would
    // copy it once more. (Out of memory here shows when the body is kept.)
    if (declared > 0)
        ptm_strbuf_reserve(&st->body, declared);
    return MHD_YES;
}

// Keep a piece of the body, or drop it (and everything before it) once the
// body is past the limit: the rest is read and thrown away.
static void collect_body(struct ptm_http_server *s, struct request_state *st, const char *data, size_t len)
{
    if (st->too_large)
        return;
    if (len > s->max_body - st->body.len) {
        st->too_large = true;
        ptm_strbuf_free(&st->body);
        return;
    }
    ptm_strbuf_append(&st->body, data, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct ptm_http_server *s = cls;
    struct request_state *st = *con_cls;
    if (st == NULL) { // the request line's state could not be made
        st = *con_cls = on_request_line(s, url, c);
        if (st == NULL)
            return MHD_NO;
    }
    if (!st->begun)
        return begin_request(s, c, url, method, st);
    if (*upload_data_size > 0) {
        collect_body(s, st, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->body.failed)
        return answer_text(s, c, method, url, st, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "500 out of memory reading the request body");
    struct ptm_http_response resp = {0};
    return answer(s, c, method, url, st, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ptm_http_server *s = cls;
    struct request_state *st = *con_cls;
    ptm_http_conn_phase(s, c, PHASE_WAITING);
    if (st == NULL)
        return;
    bool begun = st->begun;
    ptm_strbuf_free(&st->body);
    free(st);
    *con_cls = NULL;
    if (!begun)
        return;
    pthread_mutex_lock(&s->lock);
    s->in_flight--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static void on_daemon_log(void *cls, const char *fmt, va_list ap)
{
    const struct ptm_http_server *s = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    ptm_log_debug(s->component, "libmicrohttpd: %s", line);
}

// ---- listening ----

// Split "host:port", "[v6]:port" or ":port" into host (empty for every
// interface) and port.
static int split_address(const char *address, char *host, size_t host_size, char *port, size_t port_size,
                         struct ptm_error *err)
{
    const char *colon;
    const char *h = address;
    size_t hlen;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (close == NULL || close[1] != ':')
            return ptm_error_set(err, PTM_ECONFIG, "address \"%s\": expected [IPv6]:port", address);
        h = address + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL)
            return ptm_error_set(err, PTM_ECONFIG, "address \"%s\": expected host:port", address);
        hlen = (size_t)(colon - address);
    }
    const char *p = colon + 1;
    if (hlen >= host_size || strlen(p) >= port_size || *p == '\0' || strspn(p, "0123456789") != strlen(p) ||
        atol(p) > 65535)
        return ptm_error_set(err, PTM_ECONFIG, "address \"%s\": expected host:port with a port from 0 to 65535",
                             address);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    strcpy(port, p);
    return 0;
}

// A bound, listening, non-blocking socket for ai; -1 with errno set.
static int listen_on(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) // "[::]" serves IPv4 too, as Go's listeners do
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

// Listen on the first address host resolves to (IPv4 first, so "localhost"
// means 127.0.0.1 as in the Collector). Returns the socket, or -1 with err.
static int open_listener(const char *address, int *family, struct ptm_error *err)
{
    char host[256], port[8];
    if (split_address(address, host, sizeof host, port, sizeof port, err) != 0)
        return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &list);
    if (gai != 0) {
        ptm_error_set(err, PTM_ECONFIG, "address \"%s\": cannot resolve \"%s\": %s", address, host,
                      gai_strerror(gai));
        return -1;
    }
    int fd = -1, last_errno = EADDRNOTAVAIL;
    for (int want = AF_INET; fd < 0 && want != 0; want = want == AF_INET ? AF_INET6 : 0) {
        for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
            if (ai->ai_family != want)
                continue;
            fd = listen_on(ai);
            if (fd < 0)
                last_errno = errno;
            else
                *family = ai->ai_family;
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        ptm_error_set(err, PTM_EIO, "cannot listen on %s: %s", address, strerror(last_errno));
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

// ---- start and stop ----

static int copy_routes(struct ptm_http_server *s, const struct ptm_http_options *opts)
{
    s->routes = calloc(opts->route_count ? opts->route_count : 1, sizeof *s->routes);
    if (s->routes == NULL)
        return PTM_ENOMEM;
    for (size_t i = 0; i < opts->route_count; i++) {
        s->routes[i] = opts->routes[i];
        s->routes[i].method = strdup(opts->routes[i].method);
        s->routes[i].path = strdup(opts->routes[i].path);
        s->route_count++;
        if (s->routes[i].method == NULL || s->routes[i].path == NULL)
            return PTM_ENOMEM;
    }
    return 0;
}

static struct MHD_Daemon *start_daemon(struct ptm_http_server *s, const struct ptm_http_options *opts,
                                       int fd, int family)
{
    // MHD_USE_AUTO: epoll for a pool, poll (not select and its 1024 fds)
    // for a thread per connection.
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_AUTO;
    if (opts->threads == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (s->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    // The connection limit is the accept policy's (counted, over every
    // thread of the pool); libmicrohttpd's own, which it splits between the
    // threads, only backs it up. The deadlines are http_conn.c's watchdog's:
    // libmicrohttpd's timeout restarts with every byte a slow client sends.
    unsigned pool = opts->threads > 1 ? opts->threads : 1;
    struct MHD_OptionItem items[16];
    size_t n = 0;
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, s->max_connections * pool + 16, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 0, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)ptm_http_notify_connection, s};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, s};
    if (opts->threads > 1)
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, opts->threads, NULL};
    if (s->tls_cert != NULL) {
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, s->tls_priorities};
    }
    if (s->tls_trust != NULL)
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, s->tls_trust};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, 0, ptm_http_accept_policy, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                            on_daemon_log, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_ARRAY, items,
                            MHD_OPTION_END);
}

struct ptm_http_server *ptm_http_start(const struct ptm_http_options *opts, struct ptm_error *err)
{
    int fd = -1, family = AF_INET;
    struct ptm_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto nomem;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_cond_init(&s->watchdog_wake, NULL);
    s->component = strdup(opts->component ? opts->component : "http");
    s->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    s->observe = opts->observe;
    s->observe_ctx = opts->observe_ctx;
    s->auth = opts->auth;
    s->close_after_answer = opts->close_after_answer;
    if (s->component == NULL || copy_routes(s, opts) != 0 || ptm_http_conns_start(s, opts) != 0)
        goto nomem;
    if (opts->tls != NULL && opts->tls->enabled && ptm_http_tls_load(s, opts->tls, err) != 0)
        goto fail;
    fd = open_listener(opts->address, &family, err);
    if (fd < 0)
        goto fail;
    s->port = bound_port(fd);
    s->daemon = start_daemon(s, opts, fd, family);
    if (s->daemon == NULL) {
        ptm_error_set(err, PTM_EIO, "cannot start the HTTP server on %s (libmicrohttpd refused; "
                      "see the debug log)", opts->address);
        goto fail;
    }
    return s;
nomem:
    ptm_error_set(err, PTM_ENOMEM, "out of memory starting the HTTP server on %s", opts->address);
fail:
    if (fd >= 0)
        close(fd);
    ptm_http_destroy(s);
    return NULL;
}

uint16_t ptm_http_port(const struct ptm_http_server *s)
{
    return s->port;
}

// Wait until every request begun has been answered and sent, or until the
// grace period is over.
static void wait_idle(struct ptm_http_server *s)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    uint64_t ns = (uint64_t)deadline.tv_nsec + STOP_GRACE_NS;
    deadline.tv_sec += (time_t)(ns / 1000000000ull);
    deadline.tv_nsec = (long)(ns % 1000000000ull);
    pthread_mutex_lock(&s->lock);
    while (s->in_flight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) != 0)
            break;
    pthread_mutex_unlock(&s->lock);
}

void ptm_http_stop(struct ptm_http_server *s)
{
    if (s == NULL || s->stopped || s->daemon == NULL)
        return;
    s->stopped = true;
    // The listening socket is ours after MHD_quiesce_daemon, but MHD's
    // threads take it out of their epoll set a little later: closed now,
    // that fails and MHD aborts the process. Shut down, it refuses new
    // clients at once (Linux resets a listening socket's queue); it is
    // closed once MHD has stopped.
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        shutdown(fd, SHUT_RDWR);
    wait_idle(s);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    ptm_http_conns_stop(s);
}

void ptm_http_destroy(struct ptm_http_server *s)
{
    if (s == NULL)
        return;
    ptm_http_stop(s);
    for (size_t i = 0; i < s->route_count; i++) {
        free((char *)s->routes[i].method);
        free((char *)s->routes[i].path);
    }
    free(s->routes);
    ptm_http_conns_stop(s);
    free(s->tls_cert);
    free(s->tls_key);
    free(s->tls_trust);
    free(s->component);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->watchdog_wake);
    pthread_mutex_destroy(&s->conns_lock);
    free(s);
}
