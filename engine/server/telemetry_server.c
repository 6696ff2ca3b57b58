// SPDX-License-Identifier: Apache-2.0
//
// The service's own endpoint (service.telemetry.metrics.address, default
// 0.0.0.0:8888): GET /metrics renders the self-telemetry registry in the
// Prometheus text format; GET /health and GET / (and the health_check
// extension's path, on its endpoint) answer 200 "ok" while the service is
// healthy, else 503.
#include <stdlib.h>
#include <string.h>

#include "server/component.h"
#include "server/http.h"
#include "server/log.h"
#include "util/error.h"

#define COMPONENT "telemetry"
#define TEXT_TYPE "text/plain; charset=utf-8"

struct ptm_telemetry_server {
    struct ptm_service *svc;
    struct ptm_http_server *http;
};

static void handle_metrics(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    struct ptm_telemetry_server *s = ctx;
    if (ptm_telemetry_render(ptm_service_telemetry(s->svc), &resp->body) != 0) {
        ptm_strbuf_clear(&resp->body);
        resp->status = 500;
        resp->content_type = TEXT_TYPE;
        ptm_strbuf_puts(&resp->body, "out of memory rendering the metrics\n");
        return;
    }
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void handle_health(void *ctx, const struct ptm_http_request *req, struct ptm_http_response *resp)
{
    struct ptm_telemetry_server *s = ctx;
    bool healthy = ptm_service_healthy(s->svc);
    resp->status = healthy ? 200 : 503;
    resp->content_type = TEXT_TYPE;
    ptm_strbuf_puts(&resp->body, healthy ? "ok\n" : "unavailable\n");
}

struct ptm_telemetry_server *ptm_telemetry_server_start(const char *address, const char *health_path,
                                                        struct ptm_service *svc, struct ptm_error *err)
{
    struct ptm_telemetry_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "service.telemetry.metrics: out of memory");
        return NULL;
    }
    s->svc = svc;
    const struct ptm_http_route routes[] = {
        {"GET", "/metrics", handle_metrics, s},
        {"GET", "/health", handle_health, s},
        {"GET", "/", handle_health, s},
        {"GET", health_path, handle_health, s}, // the health_check extension's path
    };
    bool extra = health_path != NULL && strcmp(health_path, "/") != 0 && strcmp(health_path, "/health") != 0 &&
                 strcmp(health_path, "/metrics") != 0;
    struct ptm_http_options opts = {
        .address = address,
        .component = COMPONENT,
        .routes = routes,
        .route_count = sizeof routes / sizeof routes[0] - (extra ? 0 : 1),
        .max_body = 4096,
        .threads = 2,
    };
    s->http = ptm_http_start(&opts, err);
    if (s->http == NULL) {
        ptm_error_prefix(err, "service.telemetry.metrics.address");
        free(s);
        return NULL;
    }
    ptm_log_info(COMPONENT, "serving the service's metrics on %s/metrics and health on /health (port %u)",
                 address, (unsigned)ptm_http_port(s->http));
    return s;
}

void ptm_telemetry_server_stop(struct ptm_telemetry_server *s)
{
    if (s == NULL)
        return;
    ptm_http_destroy(s->http);
    free(s);
}
