// SPDX-License-Identifier: Apache-2.0
//
// The HTTP server wrapper (engine/server/http.c) driven by a real client
// (libcurl) over loopback: routing by method and path (404, 405, HEAD as
// GET), headers and query parameters as handlers see them, Retry-After,
// the body limit (413 from Content-Length before the body is sent, and for
// a chunked body after it was discarded), the observer seeing every status,
// stop (no more connections), listen errors (bad address, port taken), an
// IPv6 "[::]" listener serving IPv4 too, TLS with a certificate made here
// (OpenSSL), client certificates (mTLS), the lowest TLS version, and the
// errors for unreadable TLS files; bearer token authentication (401 with
// WWW-Authenticate before the body); the connection limit and the slow
// client deadlines (headers, body, idle keep-alive, an answer not taken)
// against raw sockets, in both threading modes, with the events reported;
// then the multipart/form-data parser and media type matching.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/auth.h"
#include "server/http.h"

#include "net.h"

// ---- a server with a few routes ----

struct seen {
    unsigned statuses[32];
    size_t n;
    bool too_large_seen;
};

static void handle_hello(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    resp->content_type = "text/plain";
    ptm_strbuf_puts(&resp->body, "hello\n");
    if (ptm_http_query(req, "retry") != NULL) {
        resp->status = 429;
        resp->retry_after = 7;
    }
}

// Answers "LEN TYPE ENCODING name=NAME x=X-TEST" about the request.
static void handle_echo(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    struct seen *seen = ctx;
    if (req->too_large) {
        seen->too_large_seen = true;
        assert_null(req->body);
        resp->status = 413;
        ptm_strbuf_puts(&resp->body, "too large");
        return;
    }
    const char *name = ptm_http_query(req, "name"), *x = ptm_http_header(req, "x-test");
    ptm_strbuf_printf(&resp->body, "%zu %s %s name=%s x=%s", req->body_len,
                      req->content_type ? req->content_type : "-",
                      req->content_encoding ? req->content_encoding : "-", name ? name : "-", x ? x : "-");
}

// A body of 32 MiB: more than the socket buffers hold.
static void handle_big(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    char *chunk = calloc(1, 1 << 20);
    for (int i = 0; i < 32; i++)
        ptm_strbuf_append(&resp->body, chunk, 1 << 20);
    free(chunk);
}

static void observe(void *ctx, const struct ptm_http_request *req, unsigned status)
{
    struct seen *seen = ctx;
    if (seen->n < 32)
        seen->statuses[seen->n++] = status;
}

static unsigned threads = 2; // the pool size start() asks for; 0: a thread per connection

// Start with opts (address, routes, observer and events filled in when
// left out).
static struct ptm_http_server *start_with(struct ptm_http_options opts, struct seen *seen, struct ptm_error *err)
{
    struct ptm_http_route routes[] = {
        {"GET", "/hello", handle_hello, seen},
        {"POST", "/echo", handle_echo, seen},
        {"GET", "/big", handle_big, seen},
    };
    opts.address = opts.address ? opts.address : "127.0.0.1:0";
    opts.component = "test";
    opts.routes = routes;
    opts.route_count = 3;
    opts.threads = threads;
    opts.observe = observe;
    opts.observe_ctx = seen;
    opts.on_conn_event = net_on_conn_event;
    net_events_reset();
    return ptm_http_start(&opts, err);
}

static struct ptm_http_server *start(const char *address, struct seen *seen, size_t max_body,
                                     const struct ptm_server_tls_config *tls, struct ptm_error *err)
{
    return start_with((struct ptm_http_options){.address = address, .max_body = max_body, .tls = tls}, seen, err);
}

// ---- a client ----

struct reply {
    long status;
    struct ptm_strbuf body;
    char retry_after[32];
    char content_type[64];
    char www_authenticate[128];
    char connection[32];
    CURLcode rc;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    ptm_strbuf_append(&((struct reply *)ctx)->body, data, size * n);
    return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0)
        return;
    line += n;
    len -= n;
    while (len > 0 && (*line == ' '))
        line++, len--;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    snprintf(out, size, "%.*s", (int)len, line);
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    header_value(data, size * n, "retry-after:", r->retry_after, sizeof r->retry_after);
    header_value(data, size * n, "content-type:", r->content_type, sizeof r->content_type);
    header_value(data, size * n, "www-authenticate:", r->www_authenticate, sizeof r->www_authenticate);
    header_value(data, size * n, "connection:", r->connection, sizeof r->connection);
    return size * n;
}

struct upload {
    size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t k = size * n < u->left ? size * n : u->left;
    memset(buf, 'x', k);
    u->left -= k;
    return k;
}

struct request {
    const char *method; // NULL: GET
    const char *url;
    const char *body;     // POST body (with Content-Length)
    size_t body_len;
    size_t chunked_len;   // POST this many bytes chunked instead
    const char *const *headers;
    const char *cert, *key; // a client certificate
    long tls_max;           // CURL_SSLVERSION_MAX_...; 0: any
};

static struct reply fetch(const struct request *q)
{
    struct reply r = {0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *headers = NULL;
    for (size_t i = 0; q->headers != NULL && q->headers[i] != NULL; i++)
        headers = curl_slist_append(headers, q->headers[i]);
    struct upload up = {q->chunked_len};
    curl_easy_setopt(c, CURLOPT_URL, q->url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    if (q->cert != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, q->cert);
        curl_easy_setopt(c, CURLOPT_SSLKEY, q->key);
    }
    if (q->tls_max != 0)
        curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_DEFAULT | q->tls_max);
    if (q->chunked_len > 0) {
        headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
    } else if (q->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    }
    if (q->method != NULL && strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (q->method != NULL)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    r.rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    ptm_strbuf_puts(&r.body, "");
    return r;
}

static void url(char *out, size_t size, const char *scheme, const char *host, uint16_t port, const char *path)
{
    snprintf(out, size, "%s://%s:%u%s", scheme, host, (unsigned)port, path);
}

static void expect(const struct request *q, long status, const char *body)
{
    struct reply r = fetch(q);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, status);
    if (body != NULL)
        assert_string_equal(r.body.data, body);
    ptm_strbuf_free(&r.body);
}

// ---- tests ----

static void routes_headers_and_query(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct ptm_error err = {0};
    struct ptm_http_server *s = start("127.0.0.1:0", &seen, 0, NULL, &err);
    assert_non_null(s);
    uint16_t port = ptm_http_port(s);
    assert_int_not_equal(port, 0);
    char u[128];

    url(u, sizeof u, "http", "127.0.0.1", port, "/hello");
    struct reply r = fetch(&(struct request){.url = u});
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "hello\n");
    assert_string_equal(r.content_type, "text/plain");
    assert_string_equal(r.retry_after, "");
    ptm_strbuf_free(&r.body);
    expect(&(struct request){.method = "HEAD", .url = u}, 200, "");
    expect(&(struct request){.method = "POST", .url = u, .body = "", .body_len = 0}, 405, NULL);

    url(u, sizeof u, "http", "127.0.0.1", port, "/hello?retry=1");
    r = fetch(&(struct request){.url = u});
    assert_int_equal(r.status, 429);
    assert_string_equal(r.retry_after, "7");
    ptm_strbuf_free(&r.body);

    url(u, sizeof u, "http", "127.0.0.1", port, "/nope");
    expect(&(struct request){.url = u}, 404, NULL);

    // %7B and %7D are { and }; + is a space in a query.
    url(u, sizeof u, "http", "127.0.0.1", port, "/echo?name=my+app%7Benv%3Dprod%7D");
    const char *headers[] = {"Content-Type: application/x-protobuf", "Content-Encoding: gzip", "X-Test: 1", NULL};
    expect(&(struct request){.url = u, .body = "abc", .body_len = 3, .headers = headers}, 200,
           "3 application/x-protobuf gzip name=my app{env=prod} x=1");

    ptm_http_destroy(s);
    // Every answer went past the observer, in order.
    const unsigned want[] = {200, 200, 405, 429, 404, 200};
    assert_int_equal(seen.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < seen.n; i++)
        assert_int_equal(seen.statuses[i], want[i]);
}

static void body_limit(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct ptm_http_server *s = start("127.0.0.1:0", &seen, 1000, NULL, NULL);
    assert_non_null(s);
    char u[128];
    url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/echo");
    char *big = malloc(2000000);
    memset(big, 'y', 2000000);
    expect(&(struct request){.url = u, .body = big, .body_len = 1000}, 200, "1000 application/x-www-form-urlencoded - name=- x=-");
    assert_false(seen.too_large_seen);
    // Content-Length says 1001: answered before the body is read.
    expect(&(struct request){.url = u, .body = big, .body_len = 1001}, 413, "too large");
    assert_true(seen.too_large_seen);
    expect(&(struct request){.url = u, .body = big, .body_len = 100000}, 413, "too large");
    // Past 1 MB curl asks "Expect: 100-continue" and sends nothing until
    // told to: the 413 comes instead.
    expect(&(struct request){.url = u, .body = big, .body_len = 2000000}, 413, "too large");
    // Chunked, no length: read and thrown away, then 413.
    seen.too_large_seen = false;
    expect(&(struct request){.url = u, .chunked_len = 50000}, 413, "too large");
    assert_true(seen.too_large_seen);
    // Chunked within the limit is kept.
    expect(&(struct request){.url = u, .chunked_len = 999}, 200,
           "999 application/x-www-form-urlencoded - name=- x=-");
    free(big);
    ptm_http_destroy(s);
}

// With a pool and with a thread per connection: serve, stop, refuse.
static void stop_closes_the_listener(void **state)
{
    (void)state;
    for (threads = 0; threads <= 2; threads += 2) {
        struct seen seen = {0};
        struct ptm_http_server *s = start("127.0.0.1:0", &seen, 0, NULL, NULL);
        assert_non_null(s);
        char u[128];
        url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/hello");
        expect(&(struct request){.url = u}, 200, "hello\n");
        url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/echo");
        expect(&(struct request){.url = u, .chunked_len = 100000}, 200,
               "100000 application/x-www-form-urlencoded - name=- x=-");
        ptm_http_stop(s);
        ptm_http_stop(s); // idempotent
        struct reply r = fetch(&(struct request){.url = u});
        assert_int_equal(r.rc, CURLE_COULDNT_CONNECT);
        ptm_strbuf_free(&r.body);
        ptm_http_destroy(s);
    }
    threads = 2;
    ptm_http_destroy(NULL);
}

static void listen_errors(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct ptm_error err = {0};
    assert_null(start("nonsense", &seen, 0, NULL, &err));
    assert_string_equal(err.message, "address \"nonsense\": expected host:port");
    assert_null(start("127.0.0.1:99999", &seen, 0, NULL, &err));
    assert_non_null(strstr(err.message, "a port from 0 to 65535"));
    assert_null(start("[::1:80", &seen, 0, NULL, &err));
    assert_non_null(strstr(err.message, "expected [IPv6]:port"));

    struct ptm_http_server *s = start("127.0.0.1:0", &seen, 0, NULL, NULL);
    assert_non_null(s);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", (unsigned)ptm_http_port(s));
    assert_null(start(taken, &seen, 0, NULL, &err));
    char want[128];
    snprintf(want, sizeof want, "cannot listen on %s: Address already in use", taken);
    assert_string_equal(err.message, want);
    ptm_http_destroy(s);
}

static void ipv6_any_serves_ipv4(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    if (probe < 0) {
        skip();
        return;
    }
    close(probe);
    struct seen seen = {0};
    struct ptm_http_server *s = start("[::]:0", &seen, 0, NULL, NULL);
    assert_non_null(s);
    char u[128];
    url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/hello");
    expect(&(struct request){.url = u}, 200, "hello\n");
    url(u, sizeof u, "http", "[::1]", ptm_http_port(s), "/hello");
    struct reply r = fetch(&(struct request){.url = u});
    if (r.rc == CURLE_OK) // no IPv6 loopback in some containers
        assert_int_equal(r.status, 200);
    ptm_strbuf_free(&r.body);
    ptm_http_destroy(s);
}

// A self-signed certificate and its key, written to dir/cert.pem and
// dir/key.pem.
static void make_certificate(const char *dir)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    char path[512];
    snprintf(path, sizeof path, "%s/cert.pem", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void tls(void **state)
{
    (void)state;
    char dir[] = "/tmp/ptm-test-http-XXXXXX";
    assert_non_null(mkdtemp(dir));
    make_certificate(dir);
    char cert[512], key[512], missing[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(missing, sizeof missing, "%s/none.pem", dir);
    struct seen seen = {0};
    struct ptm_error err = {0};

    struct ptm_server_tls_config cfg = {.enabled = true, .cert_file = cert, .key_file = key};
    struct ptm_http_server *s = start("127.0.0.1:0", &seen, 0, &cfg, &err);
    assert_non_null(s);
    char u[128];
    url(u, sizeof u, "https", "127.0.0.1", ptm_http_port(s), "/hello");
    expect(&(struct request){.url = u}, 200, "hello\n");
    ptm_http_destroy(s);

    cfg.key_file = missing;
    assert_null(start("127.0.0.1:0", &seen, 0, &cfg, &err));
    char want[600];
    snprintf(want, sizeof want, "tls.key_file \"%s\": No such file or directory", missing);
    assert_string_equal(err.message, want);
    cfg.key_file = key;
    cfg.client_ca_file = missing;
    assert_null(start("127.0.0.1:0", &seen, 0, &cfg, &err));
    snprintf(want, sizeof want, "tls.client_ca_file \"%s\": No such file or directory", missing);
    assert_string_equal(err.message, want);

    // mTLS: the certificate is its own CA here. Without a client
    // certificate the handshake fails; with one signed by the CA it serves.
    cfg.client_ca_file = cert;
    s = start("127.0.0.1:0", &seen, 0, &cfg, &err);
    assert_non_null(s);
    url(u, sizeof u, "https", "127.0.0.1", ptm_http_port(s), "/hello");
    struct reply r = fetch(&(struct request){.url = u});
    assert_int_not_equal(r.rc, CURLE_OK);
    ptm_strbuf_free(&r.body);
    expect(&(struct request){.url = u, .cert = cert, .key = key}, 200, "hello\n");
    ptm_http_destroy(s);

    // min_version 1.3: a client that stops at TLS 1.2 fails the handshake.
    cfg.client_ca_file = NULL;
    cfg.min_version = PTM_TLS_1_3;
    s = start("127.0.0.1:0", &seen, 0, &cfg, &err);
    assert_non_null(s);
    url(u, sizeof u, "https", "127.0.0.1", ptm_http_port(s), "/hello");
    r = fetch(&(struct request){.url = u, .tls_max = CURL_SSLVERSION_MAX_TLSv1_2});
    assert_int_not_equal(r.rc, CURLE_OK);
    ptm_strbuf_free(&r.body);
    expect(&(struct request){.url = u}, 200, "hello\n");
    ptm_http_destroy(s);

    unlink(cert);
    unlink(key);
    rmdir(dir);
}

// ---- authentication ----

static void bearer_token(void **state)
{
    struct ptm_auth *auth = net_auth("s3cret");
    struct ptm_error err = {0};
    struct seen seen = {0};
    struct ptm_http_server *s = start_with((struct ptm_http_options){.auth = auth, .max_body = 1000}, &seen, &err);
    assert_non_null(s);
    char u[128];
    url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/echo");
    struct reply r = fetch(&(struct request){.url = u, .body = "abc", .body_len = 3});
    assert_int_equal(r.status, 401);
    assert_string_equal(r.www_authenticate, "Bearer");
    assert_string_equal(r.body.data, "401 unauthorized: missing credentials: send the bearer token (header "
                                     "Authorization)\n");
    ptm_strbuf_free(&r.body);
    const char *wrong[] = {"Authorization: Bearer nope", NULL};
    r = fetch(&(struct request){.url = u, .body = "abc", .body_len = 3, .headers = wrong});
    assert_int_equal(r.status, 401);
    assert_string_equal(r.www_authenticate, "Bearer error=\"invalid_token\"");
    ptm_strbuf_free(&r.body);
    // Before the body, and before the route: a 2 MB body is not read, a
    // path that does not exist is not told.
    char *big = calloc(1, 2000000);
    r = fetch(&(struct request){.url = u, .body = big, .body_len = 2000000});
    assert_int_equal(r.status, 401);
    ptm_strbuf_free(&r.body);
    free(big);
    url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/nope");
    expect(&(struct request){.url = u}, 401, NULL);
    const char *right[] = {"Authorization: bearer s3cret", NULL};
    url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/echo");
    expect(&(struct request){.url = u, .body = "abc", .body_len = 3, .headers = right}, 200,
           "3 application/x-www-form-urlencoded - name=- x=-");
    ptm_http_destroy(s);
    ptm_auth_destroy(auth);
    const unsigned want[] = {401, 401, 401, 401, 200};
    assert_int_equal(seen.n, 5);
    for (size_t i = 0; i < seen.n; i++)
        assert_int_equal(seen.statuses[i], want[i]);
}

// ---- connections: the limit, the slow clients ----

// Send text a byte every step_ms until the server closes the connection
// or limit_ms; what the server sent goes to got (may be NULL). Returns the
// milliseconds until it closed (limit_ms when it did not).
static uint64_t trickle(int fd, const char *text, int step_ms, int limit_ms, char *got, size_t got_size)
{
    uint64_t t0 = net_now_ms();
    size_t sent = 0, have = 0;
    for (;;) {
        if (text != NULL && text[sent] != '\0' && send(fd, text + sent, 1, MSG_NOSIGNAL) == 1)
            sent++;
        struct pollfd p = {fd, POLLIN, 0};
        int wait = step_ms > 0 ? step_ms : limit_ms;
        while (poll(&p, 1, wait) == 1) {
            char buf[4096];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0)
                return net_now_ms() - t0;
            if (got != NULL && have + (size_t)n < got_size) {
                memcpy(got + have, buf, (size_t)n);
                have += (size_t)n;
                got[have] = '\0';
            }
            wait = 0;
        }
        if (net_now_ms() - t0 >= (uint64_t)limit_ms)
            return (uint64_t)limit_ms;
    }
}

// max_connections 2: a third is closed at once and counted; once one is
// closed, a new one is served.
static void connection_limit(void **state)
{
    for (threads = 0; threads <= 2; threads += 2) {
        struct seen seen = {0};
        struct ptm_http_server *s = start_with((struct ptm_http_options){.max_connections = 2}, &seen, NULL);
        assert_non_null(s);
        uint16_t port = ptm_http_port(s);
        int a = net_connect(port), b = net_connect(port);
        assert_true(net_events_reach(PTM_CONN_OPENED, 2));
        int c = net_connect(port);
        assert_true(trickle(c, NULL, 0, 2000, NULL, 0) < 1000);
        close(c);
        assert_true(net_events_reach(PTM_CONN_REFUSED, 1));
        assert_true(net_last_detail_has(": connection refused: 2 open (max_connections 2)"));
        close(a);
        assert_true(net_events_reach(PTM_CONN_CLOSED, 1));
        char u[128];
        url(u, sizeof u, "http", "127.0.0.1", port, "/hello");
        expect(&(struct request){.url = u}, 200, "hello\n");
        close(b);
        ptm_http_destroy(s);
        assert_int_equal(net_events_of(PTM_CONN_OPENED), net_events_of(PTM_CONN_CLOSED));
    }
    threads = 2;
}

// Each deadline counts from the start of what it limits: a client sending
// a byte every 100 ms is closed when the deadline is up, and a good client
// is served meanwhile.
static void slow_clients(void **state)
{
    static const struct ptm_http_timeouts t = {.read_header_ms = 400, .read_ms = 800, .write_ms = 400, .idle_ms = 400};
    for (threads = 0; threads <= 2; threads += 2) {
        struct seen seen = {0};
        struct ptm_http_server *s = start_with((struct ptm_http_options){.timeouts = &t}, &seen, NULL);
        assert_non_null(s);
        uint16_t port = ptm_http_port(s);
        char u[128];
        url(u, sizeof u, "http", "127.0.0.1", port, "/hello");

        // Headers a byte at a time: closed at read_header_timeout.
        int fd = net_connect(port);
        uint64_t took = trickle(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
                                100, 3000, NULL, 0);
        close(fd);
        assert_true(took >= 350 && took < 1500);
        assert_true(net_events_reach(PTM_CONN_READ_HEADER_TIMEOUT, 1));
        assert_true(net_last_detail_has("within 400 ms (read_header_timeout); connection closed"));

        // A body a byte at a time: closed at read_timeout, counted from the
        // request's start.
        fd = net_connect(port);
        const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
        assert_int_equal(send(fd, head, strlen(head), 0), (ssize_t)strlen(head));
        took = trickle(fd, "0123456789012345678901234567890123456789", 100, 3000, NULL, 0);
        close(fd);
        assert_true(took >= 700 && took < 2000);
        assert_true(net_events_reach(PTM_CONN_READ_TIMEOUT, 1));
        expect(&(struct request){.url = u}, 200, "hello\n");

        // Kept alive after an answer, then silent: closed at idle_timeout.
        fd = net_connect(port);
        const char *get = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(send(fd, get, strlen(get), 0), (ssize_t)strlen(get));
        char got[1024] = "";
        took = trickle(fd, NULL, 0, 3000, got, sizeof got);
        close(fd);
        assert_non_null(strstr(got, "HTTP/1.1 200"));
        assert_true(took >= 350 && took < 1500);
        assert_true(net_events_reach(PTM_CONN_IDLE_TIMEOUT, 1));

        // An answer of 32 MiB the client does not read: closed at
        // write_timeout.
        fd = net_connect(port);
        const char *big = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(send(fd, big, strlen(big), 0), (ssize_t)strlen(big));
        assert_true(net_events_reach(PTM_CONN_WRITE_TIMEOUT, 1));
        close(fd);
        assert_int_equal(net_events_of(PTM_CONN_READ_HEADER_TIMEOUT), 1);
        assert_int_equal(net_events_of(PTM_CONN_READ_TIMEOUT), 1);
        assert_int_equal(net_events_of(PTM_CONN_IDLE_TIMEOUT), 1);
        ptm_http_destroy(s);
    }
    threads = 2;
}

// Stop waits for the answers of requests whose headers came, not for a
// client still sending its headers.
static void stop_skips_unfinished_headers(void **state)
{
    struct seen seen = {0};
    struct ptm_http_server *s = start_with((struct ptm_http_options){0}, &seen, NULL);
    assert_non_null(s);
    int fd = net_connect(ptm_http_port(s));
    const char *partial = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: a";
    assert_int_equal(send(fd, partial, strlen(partial), 0), (ssize_t)strlen(partial));
    nanosleep(&(struct timespec){0, 200000000}, NULL);
    uint64_t t0 = net_now_ms();
    ptm_http_stop(s);
    assert_true(net_now_ms() - t0 < 2000);
    close(fd);
    ptm_http_destroy(s);
}

// keep-alives off: every answer says Connection: close.
static void no_keep_alive(void **state)
{
    struct seen seen = {0};
    struct ptm_http_server *s = start_with((struct ptm_http_options){.close_after_answer = true}, &seen, NULL);
    assert_non_null(s);
    char u[128];
    url(u, sizeof u, "http", "127.0.0.1", ptm_http_port(s), "/hello");
    struct reply r = fetch(&(struct request){.url = u});
    assert_int_equal(r.status, 200);
    assert_string_equal(r.connection, "close");
    ptm_strbuf_free(&r.body);
    ptm_http_destroy(s);
}

// ---- multipart ----

// What the Pyroscope Go SDK sends (Go's mime/multipart writer): CRLF line
// ends, a profile part and a prev_profile part, a closing delimiter.
static const char GO_BODY[] = "--b0undary\r\n"
                              "Content-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n"
                              "Content-Type: application/octet-stream\r\n"
                              "\r\n"
                              "PPROF\r\nBYTES\r\n"
                              "--b0undary\r\n"
                              "Content-Disposition: form-data; name=\"prev_profile\"; filename=\"profile.pprof\"\r\n"
                              "\r\n"
                              "OLD\r\n"
                              "--b0undary--\r\n";

static void multipart_parts(void **state)
{
    (void)state;
    struct ptm_http_part parts[4];
    struct ptm_error err = {0};
    int n = ptm_http_multipart_parse("multipart/form-data; boundary=b0undary", (const uint8_t *)GO_BODY,
                                     strlen(GO_BODY), parts, 4, &err);
    assert_int_equal(n, 2);
    assert_string_equal(parts[0].name, "profile");
    assert_string_equal(parts[0].filename, "profile.pprof");
    // The CRLF before a delimiter belongs to the delimiter.
    assert_int_equal(parts[0].len, 12);
    assert_memory_equal(parts[0].data, "PPROF\r\nBYTES", 12);
    assert_string_equal(parts[1].name, "prev_profile");
    assert_int_equal(parts[1].len, 3);
    assert_memory_equal(parts[1].data, "OLD", 3);

    // A quoted boundary, a preamble, and bare LF in the part headers.
    const char body[] = "preamble\r\n--q b\ncontent-disposition: form-data; name=sample_type_config\n\n{}\r\n--q b--";
    n = ptm_http_multipart_parse("multipart/form-data; charset=x; boundary=\"q b\"", (const uint8_t *)body,
                                 strlen(body), parts, 4, &err);
    assert_int_equal(n, 1);
    assert_string_equal(parts[0].name, "sample_type_config");
    assert_string_equal(parts[0].filename, "");
    assert_int_equal(parts[0].len, 2);
}

static void multipart_errors(void **state)
{
    (void)state;
    struct ptm_http_part parts[1];
    struct ptm_error err = {0};
    const uint8_t *b = (const uint8_t *)GO_BODY;
    assert_int_equal(ptm_http_multipart_parse("multipart/form-data", b, strlen(GO_BODY), parts, 1, &err),
                     PTM_EFORMAT);
    assert_string_equal(err.message, "multipart body: no boundary in the Content-Type \"multipart/form-data\"");
    assert_int_equal(ptm_http_multipart_parse("multipart/form-data; boundary=other", b, strlen(GO_BODY), parts,
                                              1, &err),
                     PTM_EFORMAT);
    assert_string_equal(err.message, "multipart body: no delimiter line \"--other\"");
    assert_int_equal(ptm_http_multipart_parse("multipart/form-data; boundary=b0undary", b, strlen(GO_BODY), parts,
                                              1, &err),
                     PTM_EFORMAT);
    assert_string_equal(err.message, "multipart body: more than 1 parts");
    // Cut in the first part's data: no delimiter after it.
    assert_int_equal(ptm_http_multipart_parse("multipart/form-data; boundary=b0undary", b, 135, parts, 1, &err),
                     PTM_EFORMAT);
    assert_string_equal(err.message,
                        "multipart body: part 0 (\"profile\"): no delimiter after its data (the body is cut short?)");
    // Cut in the headers.
    assert_int_equal(ptm_http_multipart_parse("multipart/form-data; boundary=b0undary", b, 40, parts, 1, &err),
                     PTM_EFORMAT);
    assert_string_equal(err.message, "multipart body: part 0: its headers do not end");
}

static void media_types(void **state)
{
    (void)state;
    assert_true(ptm_http_media_type_is("application/json", "application/json"));
    assert_true(ptm_http_media_type_is("Application/JSON; charset=utf-8", "application/json"));
    assert_true(ptm_http_media_type_is(" application/json ;x=y", "application/json"));
    assert_false(ptm_http_media_type_is("application/jsonx", "application/json"));
    assert_false(ptm_http_media_type_is("application/x-protobuf", "application/json"));
    assert_false(ptm_http_media_type_is(NULL, "application/json"));
    char out[16];
    ptm_http_label_value(out, sizeof out, "a\"b\\c\nd");
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
    ptm_http_label_value(out, 6, "abcdefgh");
    assert_string_equal(out, "abc");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_headers_and_query),
        cmocka_unit_test(body_limit),
        cmocka_unit_test(stop_closes_the_listener),
        cmocka_unit_test(listen_errors),
        cmocka_unit_test(ipv6_any_serves_ipv4),
        cmocka_unit_test(tls),
        cmocka_unit_test(bearer_token),
        cmocka_unit_test(connection_limit),
        cmocka_unit_test(slow_clients),
        cmocka_unit_test(no_keep_alive),
        cmocka_unit_test(stop_skips_unfinished_headers),
        cmocka_unit_test(multipart_parts),
        cmocka_unit_test(multipart_errors),
        cmocka_unit_test(media_types),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
