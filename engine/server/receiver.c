// SPDX-License-Identifier: Apache-2.0
//
// The receivers' shared self-telemetry (receiver.h). Every family carries
// receiver="ID" and transport="grpc"|"http", counted by the receiver that
// answered: one place per fact, so no two families count the same thing.
// Also the HTTP receivers' shell: create, listen, stop, destroy.
#include "server/receiver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth.h"
#include "util/error.h"

#define REQUESTS "ptm_receiver_requests_total"
#define DURATION "ptm_receiver_request_duration_seconds"
#define ACCEPTED "ptm_receiver_accepted_profiles_total"
#define REFUSED "ptm_receiver_refused_profiles_total"
#define SAMPLES "ptm_receiver_accepted_samples_total"
#define OVERLOADED "ptm_receiver_overloaded_requests_total"
#define OPEN "ptm_receiver_open_connections"
#define REFUSED_CONNECTIONS "ptm_receiver_refused_connections_total"
#define TIMEOUTS "ptm_receiver_timeouts_total"
#define LOG_INTERVAL_NS (10 * 1000000000ull)

static const struct {
    const char *name;
    enum ptm_telemetry_type type;
    const char *help;
} families[] = {
    {REQUESTS, PTM_TELEMETRY_COUNTER,
     "Requests received, by receiver, transport and response status (HTTP status or gRPC code name)."},
    {DURATION, PTM_TELEMETRY_HISTOGRAM, "Time from a request's headers to its response, in seconds."},
    {ACCEPTED, PTM_TELEMETRY_COUNTER, "Profiles decoded, validated and queued for conversion."},
    {REFUSED, PTM_TELEMETRY_COUNTER, "Profiles refused by validation (the rejected ones of a partial success)."},
    {SAMPLES, PTM_TELEMETRY_COUNTER, "Samples of the accepted profiles."},
    {OVERLOADED, PTM_TELEMETRY_COUNTER,
     "Requests refused because the conversion queue was full (HTTP 429, gRPC RESOURCE_EXHAUSTED with RetryInfo)."},
    {OPEN, PTM_TELEMETRY_GAUGE, "Connections open."},
    {REFUSED_CONNECTIONS, PTM_TELEMETRY_COUNTER, "Connections refused because max_connections were open."},
    {TIMEOUTS, PTM_TELEMETRY_COUNTER,
     "Connections closed (or gRPC calls answered DEADLINE_EXCEEDED) for a client too slow, by the timeout "
     "setting that caught it."},
};

void ptm_receiver_telemetry_init(struct ptm_receiver_telemetry *rt, struct ptm_telemetry *telemetry,
                                 const char *id, const char *transport)
{
    char value[160];
    ptm_http_label_value(value, sizeof value, id);
    rt->telemetry = telemetry;
    snprintf(rt->labels, sizeof rt->labels, "receiver=\"%s\",transport=\"%s\"", value, transport);
    snprintf(rt->component, sizeof rt->component, "receiver/%s", id);
    for (int i = 0; i < PTM_CONN_EVENT_COUNT; i++)
        ptm_log_limiter_init(&rt->limits[i], LOG_INTERVAL_NS);
    for (size_t i = 0; telemetry != NULL && i < sizeof families / sizeof families[0]; i++)
        ptm_telemetry_describe(telemetry, families[i].name, families[i].type, families[i].help);
}

void ptm_receiver_count_request(const struct ptm_receiver_telemetry *rt, const char *code, double seconds)
{
    if (rt->telemetry == NULL)
        return;
    char labels[288];
    snprintf(labels, sizeof labels, "%s,code=\"%s\"", rt->labels, code);
    ptm_telemetry_add(rt->telemetry, REQUESTS, labels, 1);
    ptm_telemetry_observe(rt->telemetry, DURATION, rt->labels, seconds);
}

void ptm_receiver_count_submit(const struct ptm_receiver_telemetry *rt, const struct ptm_submit_result *res)
{
    if (rt->telemetry == NULL)
        return;
    ptm_telemetry_add(rt->telemetry, ACCEPTED, rt->labels, res->accepted_profiles);
    ptm_telemetry_add(rt->telemetry, REFUSED, rt->labels, res->rejected_profiles);
    ptm_telemetry_add(rt->telemetry, SAMPLES, rt->labels, (double)res->accepted_samples);
    if (res->status == PTM_SUBMIT_OVERLOADED)
        ptm_telemetry_add(rt->telemetry, OVERLOADED, rt->labels, 1);
}

void ptm_receiver_observe_http(void *ctx, const struct ptm_http_request *req, unsigned status)
{
    char code[16];
    snprintf(code, sizeof code, "%u", status);
    ptm_receiver_count_request(ctx, code, ptm_http_elapsed(req));
}

void ptm_receiver_telemetry_fini(struct ptm_receiver_telemetry *rt)
{
    for (int i = 0; i < PTM_CONN_EVENT_COUNT; i++)
        ptm_log_limiter_fini(&rt->limits[i]);
}

const char *ptm_conn_event_name(enum ptm_conn_event event)
{
    switch (event) {
    case PTM_CONN_OPENED:
    case PTM_CONN_CLOSED: return NULL;
    case PTM_CONN_REFUSED: return "max_connections";
    case PTM_CONN_HANDSHAKE_TIMEOUT: return "handshake_timeout";
    case PTM_CONN_READ_HEADER_TIMEOUT: return "read_header_timeout";
    case PTM_CONN_READ_TIMEOUT: return "read_timeout";
    case PTM_CONN_IDLE_TIMEOUT: return "idle_timeout";
    case PTM_CONN_WRITE_TIMEOUT: return "write_timeout";
    }
    return NULL;
}

void ptm_receiver_conn_event(void *ctx, enum ptm_conn_event event, const char *detail)
{
    struct ptm_receiver_telemetry *rt = ctx;
    if (rt->telemetry != NULL) {
        char labels[288];
        switch (event) {
        case PTM_CONN_OPENED: ptm_telemetry_add(rt->telemetry, OPEN, rt->labels, 1); break;
        case PTM_CONN_CLOSED: ptm_telemetry_add(rt->telemetry, OPEN, rt->labels, -1); break;
        case PTM_CONN_REFUSED: ptm_telemetry_add(rt->telemetry, REFUSED_CONNECTIONS, rt->labels, 1); break;
        default:
            snprintf(labels, sizeof labels, "%s,timeout=\"%s\"", rt->labels, ptm_conn_event_name(event));
            ptm_telemetry_add(rt->telemetry, TIMEOUTS, labels, 1);
        }
    }
    // Closing an idle connection is routine; the others are clients to look at.
    enum ptm_log_level_value level = event == PTM_CONN_IDLE_TIMEOUT ? PTM_LOG_LEVEL_DEBUG : PTM_LOG_LEVEL_WARN;
    if (detail != NULL && event != PTM_CONN_OPENED && event != PTM_CONN_CLOSED)
        ptm_log_limited(&rt->limits[event], level, rt->component, "%s", detail);
}

uint64_t ptm_receiver_ms(uint64_t ns)
{
    return (ns + 999999u) / 1000000u;
}

void ptm_receiver_http_options(const struct ptm_http_server_config *h, struct ptm_auth *auth,
                               struct ptm_receiver_telemetry *rt, struct ptm_http_timeouts *timeouts,
                               struct ptm_http_options *opts)
{
    *timeouts = (struct ptm_http_timeouts){
        .read_header_ms = ptm_receiver_ms(h->read_header_timeout),
        .read_ms = ptm_receiver_ms(h->read_timeout),
        .write_ms = ptm_receiver_ms(h->write_timeout),
        .idle_ms = ptm_receiver_ms(h->idle_timeout),
    };
    opts->address = h->endpoint;
    opts->component = rt->component;
    opts->max_body = h->max_request_body_size;
    opts->tls = &h->tls;
    opts->threads = ptm_http_default_threads();
    opts->max_connections = h->max_connections;
    opts->timeouts = timeouts;
    opts->close_after_answer = !h->keep_alives_enabled;
    opts->auth = auth;
    opts->observe = ptm_receiver_observe_http;
    opts->observe_ctx = rt;
    opts->on_conn_event = ptm_receiver_conn_event;
    opts->event_ctx = rt;
}

void ptm_receiver_security_text(const struct ptm_server_tls_config *tls, struct ptm_auth *auth, char *out,
                                size_t size)
{
    bool on = tls != NULL && tls->enabled;
    snprintf(out, size, "%s%s%s%s%s", on ? " with TLS" : "", on && tls->client_ca_file ? " and client certificates" : "",
             auth != NULL ? (on ? " and" : " with") : "", auth != NULL ? " bearer token auth " : "",
             auth != NULL ? ptm_auth_id(auth) : "");
}

// ---- the HTTP receivers' shell ----

static void http_receiver_stop(struct ptm_receiver *base)
{
    ptm_http_stop(((struct ptm_http_receiver *)base)->http);
}

static void http_receiver_destroy(struct ptm_receiver *base)
{
    struct ptm_http_receiver *r = (struct ptm_http_receiver *)base;
    if (r == NULL)
        return;
    ptm_http_destroy(r->http);
    ptm_receiver_telemetry_fini(&r->telemetry);
    free(r->id);
    free(r);
}

static const struct ptm_receiver_ops http_receiver_ops = {
    .stop = http_receiver_stop,
    .destroy = http_receiver_destroy,
};

struct ptm_http_receiver *ptm_receiver_http_create(const struct ptm_receiver_config *cfg, struct ptm_service *svc,
                                                   struct ptm_error *err)
{
    struct ptm_http_receiver *r = calloc(1, sizeof *r);
    if (r == NULL || (r->id = strdup(cfg->id)) == NULL) {
        free(r);
        ptm_error_set(err, PTM_ENOMEM, "receivers.%s: out of memory", cfg->id);
        return NULL;
    }
    r->base.ops = &http_receiver_ops;
    r->base.id = r->id;
    r->svc = svc;
    snprintf(r->component, sizeof r->component, "receiver/%s", cfg->id);
    ptm_receiver_telemetry_init(&r->telemetry, ptm_service_telemetry(svc), cfg->id, "http");
    return r;
}

struct ptm_receiver *ptm_receiver_http_listen(struct ptm_http_receiver *r, const struct ptm_http_server_config *h,
                                              struct ptm_auth *auth, const struct ptm_http_route *routes,
                                              size_t route_count, const char *where, const char *name,
                                              struct ptm_error *err)
{
    struct ptm_http_options opts = {0};
    struct ptm_http_timeouts timeouts;
    ptm_receiver_http_options(h, auth, &r->telemetry, &timeouts, &opts);
    opts.routes = routes;
    opts.route_count = route_count;
    r->max_body = opts.max_body;
    r->http = ptm_http_start(&opts, err);
    if (r->http == NULL) {
        ptm_error_prefix(err, "receivers.%s%s", r->id, where);
        http_receiver_destroy(&r->base);
        return NULL;
    }
    char security[192];
    ptm_receiver_security_text(&h->tls, auth, security, sizeof security);
    ptm_log_info(r->component, "%s listening on %s%s (port %u)", name, h->endpoint, security,
                 (unsigned)ptm_http_port(r->http));
    return &r->base;
}
