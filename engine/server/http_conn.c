// SPDX-License-Identifier: Apache-2.0
//
// The HTTP server's connections (http_internal.h): how many may be open,
// the deadlines of slow clients, and TLS.
//
// The limit is held by libmicrohttpd's accept policy callback, which sees
// every accepted socket before a connection is made of it: it reserves one
// of max_connections or refuses (libmicrohttpd then closes the socket). A
// reservation is given back when the connection's "closed" notification
// comes; an accept let through whose connection never started (out of
// memory, a TLS session that would not initialise) is given back at the
// next accept on the same thread, which the policy tells by a thread-local
// note cleared by the "started" notification.
//
// libmicrohttpd's own timeout restarts with every byte, so a client sending
// its headers a byte every few seconds is never cut. Instead every
// connection is tracked from "started" to "closed", its phase set by the
// request cycle (http.c), and a watchdog thread looks every 100 ms for
// connections past their phase's deadline and shuts their socket down
// (shutdown(2), not close: the descriptor stays libmicrohttpd's, which
// then sees the end of the connection and closes it as usual). The
// "closed" notification comes before libmicrohttpd closes a descriptor and
// takes the same lock, so the watchdog never touches a descriptor that may
// have been reused.
//
// With client_ca_file, every TLS session is set, as it starts, to require a
// client certificate and to verify it against those CAs for client use
// (GnuTLS), so a client without a good one fails the handshake.
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/http_internal.h"
#include "server/log.h"
#include "util/error.h"

#define WATCHDOG_TICK_NS 100000000ull // 100 ms
#define DEFAULT_MAX_CONNECTIONS 1000
#define MAX_EVENTS_PER_TICK 64

// The server whose accept this thread let through last, until its
// connection started.
static _Thread_local struct ptm_http_server *pending_accept;

// ---- the connection limit ----

static void peer_text(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
    if (sa != NULL)
        getnameinfo(sa, len, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    bool v6 = sa != NULL && sa->sa_family == AF_INET6;
    snprintf(out, size, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static void report(struct ptm_http_server *s, enum ptm_conn_event event, const char *detail)
{
    if (detail != NULL)
        ptm_log_debug(s->component, "%s", detail);
    if (s->on_conn_event != NULL)
        s->on_conn_event(s->event_ctx, event, detail);
}

enum MHD_Result ptm_http_accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct ptm_http_server *s = cls;
    if (pending_accept == s) // the connection of the last accept here never started
        atomic_fetch_sub(&s->reserved, 1);
    pending_accept = NULL;
    unsigned open = atomic_fetch_add(&s->reserved, 1);
    if (open >= s->max_connections) {
        atomic_fetch_sub(&s->reserved, 1);
        char peer[64], detail[160];
        peer_text(addr, addrlen, peer, sizeof peer);
        snprintf(detail, sizeof detail, "%s: connection refused: %u open (max_connections %u)", peer, open,
                 s->max_connections);
        report(s, PTM_CONN_REFUSED, detail);
        return MHD_NO;
    }
    pending_accept = s;
    return MHD_YES;
}

// ---- tracking ----

// With client_ca_file: the handshake must bring a client certificate that
// verifies against it, for TLS client use.
static void require_client_certificate(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info == NULL || info->tls_session == NULL)
        return;
    gnutls_session_t session = info->tls_session;
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    gnutls_session_set_verify_cert2(session, &purpose, 1, 0);
}

static void conn_started(struct ptm_http_server *s, struct MHD_Connection *c, void **socket_context)
{
    if (pending_accept == s)
        pending_accept = NULL;
    struct http_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL) // not tracked: no deadline for it, but its reservation goes back at "closed"
        return;
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    conn->fd = fd != NULL ? fd->connect_fd : -1;
    struct sockaddr *sa = addr != NULL ? addr->client_addr : NULL;
    peer_text(sa, sa != NULL && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in),
              conn->peer, sizeof conn->peer);
    conn->phase = PHASE_WAITING;
    conn->since_ns = ptm_http_now_ns();
    if (s->tls_trust != NULL)
        require_client_certificate(c);
    pthread_mutex_lock(&s->conns_lock);
    conn->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = conn;
    s->conns = conn;
    pthread_mutex_unlock(&s->conns_lock);
    *socket_context = conn;
    report(s, PTM_CONN_OPENED, NULL);
}

static void conn_closed(struct ptm_http_server *s, void **socket_context)
{
    struct http_conn *conn = *socket_context;
    if (conn != NULL) {
        pthread_mutex_lock(&s->conns_lock);
        if (conn->prev != NULL)
            conn->prev->next = conn->next;
        else
            s->conns = conn->next;
        if (conn->next != NULL)
            conn->next->prev = conn->prev;
        pthread_mutex_unlock(&s->conns_lock);
        free(conn);
        *socket_context = NULL;
    }
    atomic_fetch_sub(&s->reserved, 1);
    report(s, PTM_CONN_CLOSED, NULL);
}

void ptm_http_notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                                enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        conn_started(cls, c, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        conn_closed(cls, socket_context);
}

void ptm_http_conn_phase(struct ptm_http_server *s, struct MHD_Connection *c, enum http_phase phase)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct http_conn *conn = info != NULL ? info->socket_context : NULL;
    if (conn == NULL)
        return;
    uint64_t now = ptm_http_now_ns();
    pthread_mutex_lock(&s->conns_lock);
    if (conn->phase != PHASE_CLOSING) {
        // The request's deadlines (headers, body) count from its start: the
        // accept for the first request, the request line for the next ones.
        bool restart = phase == PHASE_ANSWERING || phase == PHASE_WAITING ||
                       (phase == PHASE_HEADERS && conn->kept_alive);
        if (phase == PHASE_WAITING)
            conn->kept_alive = true;
        conn->phase = phase;
        if (restart)
            conn->since_ns = now;
    }
    pthread_mutex_unlock(&s->conns_lock);
}

// ---- the watchdog ----

struct overdue {
    enum ptm_conn_event event;
    char detail[192];
};

// The deadline conn's phase has (ms, 0: none), and the event it makes.
static uint64_t phase_limit(const struct ptm_http_server *s, const struct http_conn *conn,
                            enum ptm_conn_event *event, const char **what, const char **key)
{
    const struct ptm_http_timeouts *t = &s->timeouts;
    uint64_t header = t->read_header_ms ? t->read_header_ms : t->read_ms;
    switch (conn->phase) {
    case PHASE_WAITING:
        if (conn->kept_alive) {
            *event = PTM_CONN_IDLE_TIMEOUT, *what = "no next request", *key = "idle_timeout";
            return t->idle_ms ? t->idle_ms : t->read_ms;
        }
        *event = PTM_CONN_READ_HEADER_TIMEOUT, *what = "no request headers", *key = "read_header_timeout";
        return header;
    case PHASE_HEADERS:
        *event = PTM_CONN_READ_HEADER_TIMEOUT, *what = "the request headers did not all arrive",
        *key = "read_header_timeout";
        return header;
    case PHASE_BODY:
        *event = PTM_CONN_READ_TIMEOUT, *what = "the request body did not all arrive", *key = "read_timeout";
        return t->read_ms;
    case PHASE_ANSWERING:
        *event = PTM_CONN_WRITE_TIMEOUT, *what = "the answer was not taken", *key = "write_timeout";
        return t->write_ms;
    case PHASE_HANDLING:
    case PHASE_CLOSING:
        break;
    }
    return 0;
}

// Shut down the connections past their deadline (at most out_max); their
// events go to out, to be reported without the lock.
static size_t shut_overdue(struct ptm_http_server *s, uint64_t now, struct overdue *out, size_t out_max)
{
    size_t n = 0;
    pthread_mutex_lock(&s->conns_lock);
    for (struct http_conn *conn = s->conns; conn != NULL && n < out_max; conn = conn->next) {
        enum ptm_conn_event event;
        const char *what = NULL, *key = NULL;
        uint64_t ms = phase_limit(s, conn, &event, &what, &key);
        if (ms == 0 || now - conn->since_ns <= ms * 1000000ull || conn->fd < 0)
            continue;
        conn->phase = PHASE_CLOSING;
        shutdown(conn->fd, SHUT_RDWR);
        out[n].event = event;
        snprintf(out[n].detail, sizeof out[n].detail, "%s: %s within %llu ms (%s); connection closed", conn->peer,
                 what, (unsigned long long)ms, key);
        n++;
    }
    pthread_mutex_unlock(&s->conns_lock);
    return n;
}

static void *watchdog_main(void *arg)
{
    struct ptm_http_server *s = arg;
    pthread_setname_np(pthread_self(), "http-watchdog");
    struct overdue *found = malloc(MAX_EVENTS_PER_TICK * sizeof *found);
    pthread_mutex_lock(&s->conns_lock);
    while (!s->watchdog_quit) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + WATCHDOG_TICK_NS;
        until.tv_sec += (time_t)(ns / 1000000000ull);
        until.tv_nsec = (long)(ns % 1000000000ull);
        pthread_cond_timedwait(&s->watchdog_wake, &s->conns_lock, &until);
        if (s->watchdog_quit || found == NULL)
            continue;
        pthread_mutex_unlock(&s->conns_lock);
        size_t n = shut_overdue(s, ptm_http_now_ns(), found, MAX_EVENTS_PER_TICK);
        for (size_t i = 0; i < n; i++)
            report(s, found[i].event, found[i].detail);
        pthread_mutex_lock(&s->conns_lock);
    }
    pthread_mutex_unlock(&s->conns_lock);
    free(found);
    return NULL;
}

int ptm_http_conns_start(struct ptm_http_server *s, const struct ptm_http_options *opts)
{
    s->max_connections = opts->max_connections ? opts->max_connections : DEFAULT_MAX_CONNECTIONS;
    s->timeouts = opts->timeouts != NULL ? *opts->timeouts
                                         : (struct ptm_http_timeouts){60000, 60000, 30000, 60000};
    s->on_conn_event = opts->on_conn_event;
    s->event_ctx = opts->event_ctx;
    const struct ptm_http_timeouts *t = &s->timeouts;
    if (t->read_header_ms == 0 && t->read_ms == 0 && t->write_ms == 0 && t->idle_ms == 0)
        return 0; // no deadline: nothing to watch
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_destroy(&s->watchdog_wake);
    pthread_cond_init(&s->watchdog_wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0)
        return PTM_ENOMEM;
    s->watchdog_started = true;
    return 0;
}

void ptm_http_conns_stop(struct ptm_http_server *s)
{
    if (!s->watchdog_started)
        return;
    pthread_mutex_lock(&s->conns_lock);
    s->watchdog_quit = true;
    pthread_cond_broadcast(&s->watchdog_wake);
    pthread_mutex_unlock(&s->conns_lock);
    pthread_join(s->watchdog, NULL);
    s->watchdog_started = false;
}

// ---- TLS ----

static char *read_pem(const char *path, const char *key, struct ptm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        ptm_error_set(err, PTM_EIO, "tls.%s \"%s\": %s", key, path, strerror(errno));
        return NULL;
    }
    struct ptm_strbuf sb = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ptm_strbuf_append(&sb, buf, n);
    bool failed = ferror(f) || sb.failed || sb.len == 0;
    fclose(f);
    if (failed) {
        ptm_strbuf_free(&sb);
        ptm_error_set(err, PTM_EIO, "tls.%s \"%s\": cannot read it, or it is empty", key, path);
        return NULL;
    }
    return sb.data;
}

// "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3" for min 1.2 and no max.
static void tls_priorities(char *out, size_t size, enum ptm_tls_version min, enum ptm_tls_version max)
{
    size_t n = (size_t)snprintf(out, size, "NORMAL:-VERS-ALL");
    if (min < PTM_TLS_1_0)
        min = PTM_TLS_1_2;
    if (max == PTM_TLS_ANY || max > PTM_TLS_1_3)
        max = PTM_TLS_1_3;
    for (int v = (int)min; v <= (int)max && n < size; v++)
        n += (size_t)snprintf(out + n, size - n, ":+VERS-TLS1.%d", v - PTM_TLS_1_0);
}

int ptm_http_tls_load(struct ptm_http_server *s, const struct ptm_server_tls_config *tls, struct ptm_error *err)
{
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
        return ptm_error_set(err, PTM_EUNSUPPORTED,
                             "tls is configured, but this libmicrohttpd was built without TLS "
                             "(GnuTLS) support: install a libmicrohttpd with HTTPS, or remove tls");
    if (tls->cert_file == NULL || tls->key_file == NULL)
        return ptm_error_set(err, PTM_ECONFIG, "tls needs both cert_file and key_file");
    s->tls_cert = read_pem(tls->cert_file, "cert_file", err);
    if (s->tls_cert == NULL)
        return PTM_EIO;
    s->tls_key = read_pem(tls->key_file, "key_file", err);
    if (s->tls_key == NULL)
        return PTM_EIO;
    if (tls->client_ca_file != NULL && (s->tls_trust = read_pem(tls->client_ca_file, "client_ca_file", err)) == NULL)
        return PTM_EIO;
    tls_priorities(s->tls_priorities, sizeof s->tls_priorities, tls->min_version, tls->max_version);
    return 0;
}
