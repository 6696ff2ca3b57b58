// SPDX-License-Identifier: Apache-2.0
//
// The Pyroscope-compatible push endpoint (receivers.pyroscope):
//   POST /ingest?name=APP{label=value,...}&from=UNIX_SECONDS&until=UNIX_SECONDS&format=pprof
// with a pprof body, raw (gzipped or not) or as the `profile` part of a
// multipart/form-data body, as the Pyroscope Go SDK and Grafana Alloy send
// it. APP becomes the resource attribute service.name and each label a
// resource attribute of the same name (Pyroscope's internal labels, those
// starting with "__", are left out as Pyroscope does); from/until give the
// profile's window when the pprof carries no time. spyName, sampleRate,
// units and aggregationType are read by Pyroscope for other formats and
// ignored here. Answers: 200 with no body, 400 with a text message, 413,
// 429 and 503 with Retry-After.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/component.h"
#include "server/http.h"
#include "server/log.h"
#include "server/receiver.h"
#include "util/error.h"

#define INGEST_PATH "/ingest"
#define MAX_LABELS 64
#define MAX_PARTS 16
#define TEXT_TYPE "text/plain; charset=utf-8"

/// What the query string says about the push.
struct ingest {
    char *name_copy; // the name parameter, cut into the strings below
    const char *keys[MAX_LABELS + 1];
    const char *values[MAX_LABELS + 1];
    size_t count; // service.name first, then the labels
    uint64_t time_unix_nano, duration_nano;
};

static void text_answer(struct ptm_http_response *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void text_answer(struct ptm_http_response *resp, unsigned status, const char *fmt, ...)
{
    resp->status = status;
    resp->content_type = TEXT_TYPE;
    ptm_strbuf_clear(&resp->body);
    va_list ap;
    va_start(ap, fmt);
    ptm_strbuf_vprintf(&resp->body, fmt, ap);
    va_end(ap);
    ptm_strbuf_putc(&resp->body, '\n');
}

// ---- the query string ----

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

// Cut "k=v,k2=v2" (the text between the braces) into labels.
static int parse_labels(char *text, struct ingest *in, struct ptm_error *err)
{
    char *save = NULL;
    for (char *item = strtok_r(text, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (eq == NULL)
            return ptm_error_set(err, PTM_EFORMAT, "name: label \"%s\" has no '=' (expected name=value)",
                                 trim(item));
        *eq = '\0';
        char *key = trim(item), *value = trim(eq + 1);
        if (key[0] == '\0')
            return ptm_error_set(err, PTM_EFORMAT, "name: a label has an empty name (value \"%s\")", value);
        if (key[0] == '_' && key[1] == '_')
            continue; // Pyroscope's own (__session_id__, __name__): not resource attributes
        if (in->count > MAX_LABELS)
            return ptm_error_set(err, PTM_ELIMIT, "name: more than %d labels", MAX_LABELS);
        in->keys[in->count] = key;
        in->values[in->count] = value;
        in->count++;
    }
    return 0;
}

// "APP{label=value,...}": APP is service.name.
static int parse_name(const char *name, struct ingest *in, struct ptm_error *err)
{
    if (name == NULL || name[0] == '\0')
        return ptm_error_set(err, PTM_EFORMAT,
                             "the query parameter name is required (name=APP or name=APP{label=value,...})");
    in->name_copy = strdup(name);
    if (in->name_copy == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    char *brace = strchr(in->name_copy, '{');
    char *labels = NULL;
    if (brace != NULL) {
        size_t n = strlen(brace);
        if (brace[n - 1] != '}')
            return ptm_error_set(err, PTM_EFORMAT, "name \"%s\": the labels do not end with '}'", name);
        brace[n - 1] = '\0';
        *brace = '\0';
        labels = brace + 1;
    }
    char *app = trim(in->name_copy);
    if (app[0] == '\0')
        return ptm_error_set(err, PTM_EFORMAT, "name \"%s\": the application name before '{' is empty", name);
    in->keys[0] = "service.name";
    in->values[0] = app;
    in->count = 1;
    return labels != NULL ? parse_labels(labels, in, err) : 0;
}

// A Unix time in seconds; absent is 0.
static int parse_seconds(const char *key, const char *text, uint64_t *out, struct ptm_error *err)
{
    *out = 0;
    if (text == NULL || text[0] == '\0')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || text[0] == '-' || v > UINT64_MAX / 1000000000ull)
        return ptm_error_set(err, PTM_EFORMAT, "%s \"%s\": expected a Unix time in seconds", key, text);
    *out = v;
    return 0;
}

static int parse_query(const struct ptm_http_request *req, struct ingest *in, struct ptm_error *err)
{
    const char *format = ptm_http_query(req, "format");
    if (format != NULL && format[0] != '\0' && strcmp(format, "pprof") != 0)
        return ptm_error_set(err, PTM_EUNSUPPORTED, "format \"%s\" is not supported: only format=pprof is",
                             format);
    uint64_t from, until;
    if (parse_seconds("from", ptm_http_query(req, "from"), &from, err) != 0 ||
        parse_seconds("until", ptm_http_query(req, "until"), &until, err) != 0)
        return PTM_EFORMAT;
    if (from != 0 && until != 0 && until < from)
        return ptm_error_set(err, PTM_EFORMAT, "until (%llu) is before from (%llu)", (unsigned long long)until,
                             (unsigned long long)from);
    in->time_unix_nano = from * 1000000000ull;
    in->duration_nano = from != 0 && until != 0 ? (until - from) * 1000000000ull : 0;
    return parse_name(ptm_http_query(req, "name"), in, err);
}

// ---- the body ----

// The pprof bytes: the body, or its `profile` part when it is multipart.
static int find_profile(const struct ptm_http_receiver *r, const struct ptm_http_request *req, const uint8_t **data,
                        size_t *len, struct ptm_error *err)
{
    *data = req->body ? req->body : (const uint8_t *)"";
    *len = req->body_len;
    if (!ptm_http_media_type_is(req->content_type, "multipart/form-data"))
        return 0;
    struct ptm_http_part parts[MAX_PARTS];
    int n = ptm_http_multipart_parse(req->content_type, req->body, req->body_len, parts, MAX_PARTS, err);
    if (n < 0)
        return n;
    bool found = false;
    for (int i = 0; i < n; i++) {
        if (strcmp(parts[i].name, "profile") == 0 && !found) {
            *data = parts[i].data;
            *len = parts[i].len;
            found = true;
        } else {
            ptm_log_debug(r->component, "ingest: ignoring the multipart part \"%s\" (%zu bytes)", parts[i].name,
                          parts[i].len);
        }
    }
    if (!found)
        return ptm_error_set(err, PTM_EFORMAT, "the multipart body has no \"profile\" part");
    return 0;
}

// ---- the handler ----

static void answer_result(struct ptm_http_response *resp, const struct ptm_submit_result *res)
{
    uint32_t retry = res->retry_after_seconds ? res->retry_after_seconds : 1;
    switch (res->status) {
    case PTM_SUBMIT_OK:
    case PTM_SUBMIT_PARTIAL:
        resp->status = 200;
        return;
    case PTM_SUBMIT_BAD_REQUEST:
        text_answer(resp, 400, "%s", res->message);
        return;
    case PTM_SUBMIT_TOO_LARGE:
        text_answer(resp, 413, "%s", res->message);
        return;
    case PTM_SUBMIT_OVERLOADED:
        text_answer(resp, 429, "the service is overloaded: retry later");
        resp->retry_after = retry;
        return;
    case PTM_SUBMIT_UNAVAILABLE:
        text_answer(resp, 503, "the service is shutting down: retry later");
        resp->retry_after = retry;
        return;
    }
    text_answer(resp, 500, "unknown submit status");
}

static void handle_ingest(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    struct ptm_http_receiver *r = ctx;
    if (req->too_large) {
        text_answer(resp, 413, "the request body is larger than max_request_body_size (%zu bytes)", r->max_body);
        return;
    }
    struct ingest in;
    memset(&in, 0, sizeof in);
    struct ptm_error err = {0};
    const uint8_t *data;
    size_t len;
    if (parse_query(req, &in, &err) != 0 || find_profile(r, req, &data, &len, &err) != 0) {
        text_answer(resp, 400, "%s", err.message);
        free(in.name_copy);
        return;
    }
    struct ptm_submit sub = {
        .data = data,
        .len = len,
        .format = PTM_FORMAT_PPROF,
        .receiver = r->id,
        .resource_keys = in.keys,
        .resource_values = in.values,
        .resource_count = in.count,
        .time_unix_nano = in.time_unix_nano,
        .duration_nano = in.duration_nano,
        .received_ns = req->start_ns,
    };
    struct ptm_submit_result res;
    memset(&res, 0, sizeof res);
    ptm_service_submit(r->svc, &sub, &res);
    ptm_receiver_count_submit(&r->telemetry, &res);
    if (res.status != PTM_SUBMIT_OK)
        ptm_log_debug(r->component, "ingest %s: %s", in.values[0], res.message);
    free(in.name_copy);
    answer_result(resp, &res);
}

// ---- the receiver ----

struct ptm_receiver *ptm_receiver_pyroscope_start(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                  struct ptm_auth *auth, struct ptm_error *err)
{
    struct ptm_http_receiver *r = ptm_receiver_http_create(cfg, svc, err);
    if (r == NULL)
        return NULL;
    struct ptm_http_route route = {"POST", INGEST_PATH, handle_ingest, r};
    return ptm_receiver_http_listen(r, &cfg->pyroscope.http, auth, &route, 1, "", "Pyroscope /ingest", err);
}
