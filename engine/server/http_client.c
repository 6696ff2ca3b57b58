// SPDX-License-Identifier: Apache-2.0
//
// libcurl for the network exporters: handle setup, one POST with its
// response collected, error classification, gzip, and decoders of the small
// messages backends answer with. See http_client.h.
#include "server/http_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "decode/json.h"
#include "decode/wire.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

// ---- process-wide setup ----

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ptm_client_global_init(struct ptm_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return ptm_error_set(err, PTM_ENOMEM, "cannot initialise libcurl: %s", curl_easy_strerror(global_rc));
    return 0;
}

// ---- responses ----

void ptm_client_response_reset(struct ptm_client_response *r)
{
    free(r->body);
    free(r->grpc_details);
    memset(r, 0, sizeof *r);
}

static void copy_trimmed(char *out, size_t cap, const char *value, size_t len)
{
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
        len--;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(out, value, len);
    out[len] = '\0';
}

// grpc-message is percent-encoded (%XX for bytes outside printable ASCII).
static void percent_decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0'; r++) {
        unsigned hex;
        if (r[0] == '%' && r[1] != '\0' && r[2] != '\0' && sscanf(r + 1, "%2x", &hex) == 1) {
            *w++ = (char)hex;
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static bool header_is(const char *line, size_t name_len, const char *name)
{
    return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

static void keep_grpc_details(struct ptm_client_response *r, const char *value, size_t len)
{
    free(r->grpc_details);
    r->grpc_details = malloc(len + 1);
    if (r->grpc_details != NULL)
        copy_trimmed(r->grpc_details, len + 1, value, len);
}

// Headers and (for HTTP/2) trailers, one line per call.
static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    struct ptm_client_response *r = userdata;
    size_t len = size * n;
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return len;
    size_t name_len = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t value_len = len - name_len - 1;
    if (header_is(line, name_len, "content-type")) {
        copy_trimmed(r->content_type, sizeof r->content_type, value, value_len);
    } else if (header_is(line, name_len, "retry-after")) {
        copy_trimmed(r->retry_after, sizeof r->retry_after, value, value_len);
    } else if (header_is(line, name_len, "grpc-status")) {
        char text[16];
        copy_trimmed(text, sizeof text, value, value_len);
        r->has_grpc_status = true;
        r->grpc_status = atoi(text);
    } else if (header_is(line, name_len, "grpc-message")) {
        copy_trimmed(r->grpc_message, sizeof r->grpc_message, value, value_len);
        percent_decode(r->grpc_message);
    } else if (header_is(line, name_len, "grpc-encoding")) {
        copy_trimmed(r->grpc_encoding, sizeof r->grpc_encoding, value, value_len);
    } else if (header_is(line, name_len, "grpc-status-details-bin")) {
        keep_grpc_details(r, value, value_len);
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct ptm_client_response *r = userdata;
    size_t len = size * n;
    if (len > PTM_RESPONSE_LIMIT - r->len) {
        r->truncated = true;
        return 0; // curl ends the transfer with CURLE_WRITE_ERROR
    }
    if (r->len + len > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->len + len)
            cap *= 2;
        uint8_t *grown = realloc(r->body, cap);
        if (grown == NULL)
            return 0;
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return len;
}

static int on_progress(void *cancel, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return atomic_load((const atomic_bool *)cancel) ? 1 : 0;
}

// ---- handles ----

// The URL's host and port, for connect-to.
static int url_host_port(CURLU *u, char **host, char **port)
{
    if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
        return -1;
    if (curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        return -1;
    return 0;
}

static int route_override(struct ptm_client_route *route, const char *url, const char *name, struct ptm_error *err)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *rewritten = NULL, *connect_to = NULL;
    int rc = PTM_ECONFIG;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK || url_host_port(u, &host, &port) != 0) {
        ptm_error_set(err, PTM_ECONFIG, "cannot parse the URL \"%s\"", url);
        goto done;
    }
    if (curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_URL, &rewritten, 0) != CURLUE_OK ||
        asprintf(&connect_to, "%s:%s:%s:%s", name, port, host, port) < 0) {
        connect_to = NULL;
        ptm_error_set(err, PTM_ECONFIG, "tls.server_name_override \"%s\" cannot stand in for the host of %s", name,
                      url);
        goto done;
    }
    route->url = strdup(rewritten);
    route->connect_to = curl_slist_append(NULL, connect_to);
    rc = route->url != NULL && route->connect_to != NULL ? 0 : ptm_error_set(err, PTM_ENOMEM, "out of memory");
done:
    free(connect_to);
    curl_free(rewritten);
    curl_free(port);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

int ptm_client_route_init(struct ptm_client_route *route, const char *url, const struct ptm_client_tls_config *tls,
                        struct ptm_error *err)
{
    *route = (struct ptm_client_route){0};
    int rc;
    if (tls->server_name_override != NULL)
        rc = route_override(route, url, tls->server_name_override, err);
    else
        rc = (route->url = strdup(url)) != NULL ? 0 : ptm_error_set(err, PTM_ENOMEM, "out of memory");
    if (rc != 0)
        ptm_client_route_fini(route);
    return rc;
}

void ptm_client_route_fini(struct ptm_client_route *route)
{
    free(route->url);
    curl_slist_free_all(route->connect_to);
    *route = (struct ptm_client_route){0};
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

int ptm_client_tls_copy(struct ptm_client_tls_config *out, const struct ptm_client_tls_config *tls)
{
    *out = *tls;
    out->ca_file = dup_or_null(tls->ca_file);
    out->cert_file = dup_or_null(tls->cert_file);
    out->key_file = dup_or_null(tls->key_file);
    out->server_name_override = dup_or_null(tls->server_name_override);
    if ((tls->ca_file != NULL && out->ca_file == NULL) || (tls->cert_file != NULL && out->cert_file == NULL) ||
        (tls->key_file != NULL && out->key_file == NULL) ||
        (tls->server_name_override != NULL && out->server_name_override == NULL)) {
        ptm_client_tls_fini(out);
        return PTM_ENOMEM;
    }
    return 0;
}

void ptm_client_tls_fini(struct ptm_client_tls_config *tls)
{
    free((char *)tls->ca_file);
    free((char *)tls->cert_file);
    free((char *)tls->key_file);
    free((char *)tls->server_name_override);
    tls->ca_file = tls->cert_file = tls->key_file = tls->server_name_override = NULL;
}

static void set_tls(CURL *h, const struct ptm_client_tls_config *tls)
{
    if (tls->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, tls->ca_file);
    if (tls->cert_file != NULL)
        curl_easy_setopt(h, CURLOPT_SSLCERT, tls->cert_file);
    if (tls->key_file != NULL)
        curl_easy_setopt(h, CURLOPT_SSLKEY, tls->key_file);
    if (tls->insecure_skip_verify) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

CURL *ptm_client_handle_create(const struct ptm_client_target *target, const struct ptm_client_route *route)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, route->url);
    if (route->connect_to != NULL)
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, route->connect_to);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, target->http_version);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(target->timeout / 1000000));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "profiletometrics/" PTM_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    set_tls(h, target->tls);
    return h;
}

CURLcode ptm_client_post(CURL *handle, struct curl_slist *headers, const void *body, size_t len,
                       const atomic_bool *cancel, struct ptm_client_response *resp, char *errbuf)
{
    ptm_client_response_reset(resp);
    errbuf[0] = '\0';
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, len > 0 ? body : "");
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(handle, CURLOPT_XFERINFODATA, (void *)cancel);
    CURLcode rc = curl_easy_perform(handle);
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &resp->status);
    return rc;
}

bool ptm_client_error_retryable(CURLcode code)
{
    switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE: return false;
    default: return true;
    }
}

void ptm_client_error_message(CURLcode code, const char *errbuf, char *out, size_t cap)
{
    const char *kind = ptm_client_error_retryable(code) ? "connection error" : "client error";
    if (errbuf != NULL && errbuf[0] != '\0')
        snprintf(out, cap, "%s: %s (%s)", kind, curl_easy_strerror(code), errbuf);
    else
        snprintf(out, cap, "%s: %s", kind, curl_easy_strerror(code));
}

struct curl_slist *ptm_client_add_headers(struct curl_slist *list, const struct ptm_config_string_map *headers)
{
    for (size_t i = 0; i < headers->count; i++) {
        char *line = NULL;
        // "Name;" is how curl sends a header with an empty value.
        int n = headers->values[i][0] == '\0' ? asprintf(&line, "%s;", headers->keys[i])
                                              : asprintf(&line, "%s: %s", headers->keys[i], headers->values[i]);
        struct curl_slist *grown = n < 0 ? NULL : curl_slist_append(list, line);
        free(n < 0 ? NULL : line);
        if (grown == NULL) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = grown;
    }
    return list;
}

// ---- gunzip ----

int ptm_gunzip_limited(const void *data, size_t len, size_t limit, uint8_t **out, size_t *out_len)
{
    z_stream z = {0};
    if (len > UINT32_MAX || inflateInit2(&z, 15 + 32) != Z_OK)
        return PTM_EFORMAT;
    size_t cap = 4096, produced = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf != NULL ? Z_OK : Z_MEM_ERROR;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    while (rc == Z_OK) {
        if (produced == cap) {
            uint8_t *grown = cap < limit + 1 ? realloc(buf, cap * 2) : NULL;
            if (grown == NULL)
                break;
            buf = grown;
            cap *= 2;
        }
        z.next_out = buf + produced;
        z.avail_out = (uInt)(cap - produced);
        rc = inflate(&z, Z_NO_FLUSH);
        produced = cap - z.avail_out;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || produced > limit) {
        free(buf);
        return rc == Z_STREAM_END || rc == Z_OK ? PTM_ELIMIT : PTM_EFORMAT;
    }
    *out = buf;
    *out_len = produced;
    return 0;
}

void ptm_body_excerpt(const uint8_t *body, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    // n + 4 < cap leaves room for the longest sequence and the NUL.
    for (size_t i = 0; i < len && n + 4 < cap;) {
        size_t seq = ptm_utf8_sequence(body + i, len - i);
        if (seq == 0) { // not UTF-8: U+FFFD
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            i++;
        } else if (seq == 1) {
            out[n++] = body[i] < 0x20 || body[i] == 0x7f ? ' ' : (char)body[i];
            i++;
        } else {
            memcpy(out + n, body + i, seq);
            n += seq;
            i += seq;
        }
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

// ---- protobuf answers ----

static void copy_string(const struct pb_reader *s, char *out, size_t cap)
{
    ptm_body_excerpt(s->p, pb_left(s), out, cap);
}

// One field of a message: its number and wire type, and its value when it
// is a varint or length-delimited.
struct pb_field {
    uint32_t number, wire;
    uint64_t varint;        // PB_VARINT
    struct pb_reader bytes; // PB_LEN
};

// The next field of r into *f; the values of other wire types are skipped.
// Returns 1, 0 at the end of r, or -1 when r is malformed.
static int pb_field_next(struct pb_reader *r, struct pb_field *f)
{
    if (pb_done(r))
        return 0;
    if (!pb_tag(r, &f->number, &f->wire))
        return -1;
    bool ok = f->wire == PB_VARINT ? pb_varint(r, &f->varint)
              : f->wire == PB_LEN  ? pb_len(r, &f->bytes)
                                   : pb_skip(r, f->wire);
    return ok ? 1 : -1;
}

// google.protobuf.Duration: 1 seconds, 2 nanos.
static bool decode_duration(struct pb_reader r, uint64_t *ns)
{
    uint64_t seconds = 0, nanos = 0;
    struct pb_field f;
    int more;
    while ((more = pb_field_next(&r, &f)) > 0) {
        if (f.number == 1 && f.wire == PB_VARINT)
            seconds = f.varint;
        else if (f.number == 2 && f.wire == PB_VARINT)
            nanos = f.varint;
    }
    if (more < 0)
        return false;
    int64_t s = (int64_t)seconds, n = (int32_t)nanos;
    if (s < 0 || n < 0)
        *ns = 0;
    else
        *ns = (uint64_t)(s > 1000000000 ? 1000000000 : s) * 1000000000ULL + (uint64_t)n;
    return true;
}

// google.rpc.RetryInfo: 1 retry_delay.
static bool decode_retry_info(struct pb_reader r, uint64_t *ns)
{
    bool found = false;
    struct pb_field f;
    int more;
    while ((more = pb_field_next(&r, &f)) > 0) {
        if (f.number == 1 && f.wire == PB_LEN) {
            if (!decode_duration(f.bytes, ns))
                return false;
            found = true;
        }
    }
    return more == 0 && found;
}

// google.protobuf.Any: 1 type_url, 2 value; a RetryInfo fills out.
static bool decode_detail(struct pb_reader r, struct ptm_rpc_status *out)
{
    static const char retry_info[] = "google.rpc.RetryInfo";
    struct pb_reader type = {0}, value = {0};
    struct pb_field f;
    int more;
    while ((more = pb_field_next(&r, &f)) > 0) {
        if (f.number == 1 && f.wire == PB_LEN)
            type = f.bytes;
        else if (f.number == 2 && f.wire == PB_LEN)
            value = f.bytes;
    }
    if (more < 0)
        return false;
    size_t n = pb_left(&type), want = sizeof retry_info - 1;
    bool is_retry_info = type.p != NULL && n >= want && memcmp(type.p + n - want, retry_info, want) == 0 &&
                         (n == want || type.p[n - want - 1] == '/');
    if (is_retry_info && value.p != NULL)
        out->has_retry_delay = decode_retry_info(value, &out->retry_delay);
    return true;
}

bool ptm_rpc_status_decode(const uint8_t *data, size_t len, struct ptm_rpc_status *out)
{
    *out = (struct ptm_rpc_status){0};
    struct pb_reader r = pb_reader_make(data, len);
    struct pb_field f;
    int more;
    while ((more = pb_field_next(&r, &f)) > 0) {
        if (f.number == 1 && f.wire == PB_VARINT)
            out->code = (int32_t)f.varint;
        else if (f.number == 2 && f.wire == PB_LEN)
            copy_string(&f.bytes, out->message, sizeof out->message);
        else if (f.number == 3 && f.wire == PB_LEN && !decode_detail(f.bytes, out))
            return false;
    }
    return more == 0;
}

long ptm_base64_decode(const char *in, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = in; *p != '\0' && *p != '='; p++) {
        char c = *p;
        int v = c >= 'A' && c <= 'Z' ? c - 'A'
              : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52
              : c == '+' || c == '-' ? 62
              : c == '/' || c == '_' ? 63
                                     : -1;
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)n;
}

// ExportMetricsPartialSuccess: 1 rejected_data_points, 2 error_message.
static bool decode_partial(struct pb_reader r, int64_t *rejected, char *message, size_t cap)
{
    struct pb_field f;
    int more;
    while ((more = pb_field_next(&r, &f)) > 0) {
        if (f.number == 1 && f.wire == PB_VARINT)
            *rejected = (int64_t)f.varint;
        else if (f.number == 2 && f.wire == PB_LEN)
            copy_string(&f.bytes, message, cap);
    }
    return more == 0;
}

bool ptm_partial_success_decode(const uint8_t *data, size_t len, int64_t *rejected, char *message, size_t cap)
{
    *rejected = 0;
    message[0] = '\0';
    struct pb_reader r = pb_reader_make(data, len);
    struct pb_field f;
    int more;
    while ((more = pb_field_next(&r, &f)) > 0)
        if (f.number == 1 && f.wire == PB_LEN && !decode_partial(f.bytes, rejected, message, cap))
            return false;
    return more == 0;
}

// ---- JSON answers ----

// Step j to the value of key in the object being read; *value is its first
// token. False when the object ends first or the JSON is bad.
static bool json_find_key(struct ptm_json *j, const char *key, struct ptm_json_token *value)
{
    size_t key_len = strlen(key);
    for (;;) {
        struct ptm_json_token k;
        if (ptm_json_next(j, &k) != 0 || k.kind != PTM_JSON_KEY || ptm_json_next(j, value) != 0)
            return false;
        if (k.text.len == key_len && memcmp(k.text.ptr, key, key_len) == 0)
            return true;
        if (ptm_json_skip(j, value) != 0)
            return false;
    }
}

// The string or number at data[k1][k2] (k2 NULL: data[k1]) into out.
static bool json_member(const uint8_t *data, size_t len, const char *k1, const char *k2, char *out, size_t cap)
{
    struct ptm_arena *arena = ptm_arena_create(4096);
    if (arena == NULL)
        return false;
    struct ptm_json j;
    struct ptm_json_token t;
    ptm_json_init(&j, data, 0, len, 1, 64, arena, NULL);
    bool ok = ptm_json_next(&j, &t) == 0 && t.kind == PTM_JSON_OBJECT && json_find_key(&j, k1, &t);
    if (ok && k2 != NULL)
        ok = t.kind == PTM_JSON_OBJECT && json_find_key(&j, k2, &t);
    ok = ok && (t.kind == PTM_JSON_STRING || t.kind == PTM_JSON_NUMBER);
    if (ok)
        ptm_body_excerpt((const uint8_t *)t.text.ptr, t.text.len, out, cap);
    ptm_arena_destroy(arena);
    return ok;
}

bool ptm_partial_success_decode_json(const uint8_t *data, size_t len, int64_t *rejected, char *message,
                                     size_t cap)
{
    char number[32];
    *rejected = 0;
    message[0] = '\0';
    if (json_member(data, len, "partialSuccess", "rejectedDataPoints", number, sizeof number))
        *rejected = strtoll(number, NULL, 10);
    json_member(data, len, "partialSuccess", "errorMessage", message, cap);
    return true;
}

bool ptm_rpc_status_decode_json(const uint8_t *data, size_t len, char *message, size_t cap)
{
    return json_member(data, len, "message", NULL, message, cap);
}
