// SPDX-License-Identifier: Apache-2.0
//
// From the configuration's pipelines to running parts: the profiles
// pipelines that end in a profiletometrics connector name the receivers to
// start, the metrics pipelines that begin at it name the exporters to feed.
// Also the lifecycle: start and stop (reload is in reload.c).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/auth.h"
#include "server/log.h"
#include "server/sender.h"
#include "server/service_internal.h"
#include "util/error.h"

#define DEFAULT_QUEUE_REQUESTS 16
#define DEFAULT_MAX_DECOMPRESSED ((size_t)64 << 20) // the OTLP spec's recommendation

static bool is_connector_id(const char *id)
{
    return strcmp(id, "profiletometrics") == 0 || strncmp(id, "profiletometrics/", 17) == 0;
}

static bool listed(const char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

// The first memory_limiter among a pipeline's processors, or NULL.
static const struct ptm_processor_config *memory_limiter_of(const struct ptm_config *config,
                                                            const struct ptm_pipeline_config *p)
{
    for (size_t i = 0; i < p->processor_count; i++) {
        const struct ptm_processor_config *proc = ptm_config_find_processor(config, p->processors[i]);
        if (proc != NULL && proc->type == PTM_PROCESSOR_MEMORY_LIMITER)
            return proc;
    }
    return NULL;
}

void ptm_wiring_free(struct ptm_wiring *w)
{
    free(w->receivers);
    free(w->exporters);
}

static int add_unique(const char ***list, size_t *n, const char *id)
{
    if (listed(*list, *n, id))
        return 0;
    const char **grown = realloc(*list, (*n + 1) * sizeof **list);
    if (grown == NULL)
        return PTM_ENOMEM;
    grown[(*n)++] = id;
    *list = grown;
    return 0;
}

int ptm_service_wire(const struct ptm_config *config, struct ptm_wiring *w, struct ptm_error *err)
{
    memset(w, 0, sizeof *w);
    const struct ptm_service_config *s = &config->service;
    for (size_t i = 0; i < s->pipeline_count; i++) {
        const struct ptm_pipeline_config *p = &s->pipelines[i];
        if (p->signal != PTM_SIGNAL_PROFILES)
            continue;
        for (size_t e = 0; e < p->exporter_count; e++) {
            if (!is_connector_id(p->exporters[e]))
                continue;
            if (w->connector != NULL && strcmp(w->connector, p->exporters[e]) != 0)
                return ptm_error_set(err, PTM_ECONFIG,
                                     "pipelines use two profiletometrics connectors (%s and %s); serve runs one",
                                     w->connector, p->exporters[e]);
            w->connector = p->exporters[e];
            if (w->memory_limiter == NULL)
                w->memory_limiter = memory_limiter_of(config, p);
            for (size_t r = 0; r < p->receiver_count; r++)
                if (add_unique(&w->receivers, &w->n_receivers, p->receivers[r]) != 0)
                    return ptm_error_set(err, PTM_ENOMEM, "out of memory");
        }
    }
    if (w->connector == NULL)
        return ptm_error_set(err, PTM_ECONFIG,
                             "no profiles pipeline ends in a profiletometrics connector: add one such as "
                             "service.pipelines.profiles: {receivers: [otlp], exporters: [profiletometrics]}");
    for (size_t i = 0; i < s->pipeline_count; i++) {
        const struct ptm_pipeline_config *p = &s->pipelines[i];
        if (p->signal != PTM_SIGNAL_METRICS || !listed(p->receivers, p->receiver_count, w->connector))
            continue;
        for (size_t e = 0; e < p->exporter_count; e++)
            if (add_unique(&w->exporters, &w->n_exporters, p->exporters[e]) != 0)
                return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    }
    if (w->n_exporters == 0)
        ptm_log_warn("service", "no metrics pipeline takes the metrics of %s: they are converted but not sent "
                                "anywhere (add service.pipelines.metrics: {receivers: [%s], exporters: [...]})",
                     w->connector, w->connector);
    return 0;
}

// ---- the rules' log ----

#define RULE_ERROR_LINES_PER_SECOND 5

static pthread_mutex_t rule_log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t rule_log_second;
static unsigned rule_log_lines;

// True when one more rule error line may be written this second: a broken
// rule fails on every profile, the counter has them all, the log a sample.
// The first failure past the limit says so.
static bool rule_error_line_allowed(void)
{
    pthread_mutex_lock(&rule_log_lock);
    time_t now = time(NULL);
    if (now != rule_log_second) {
        rule_log_second = now;
        rule_log_lines = 0;
    }
    unsigned line = ++rule_log_lines;
    pthread_mutex_unlock(&rule_log_lock);
    if (line == RULE_ERROR_LINES_PER_SECOND + 1)
        ptm_log_warn("rule", "more than %d rule errors this second: the others are not logged "
                             "(ptm_rule_errors_total counts them all)",
                     RULE_ERROR_LINES_PER_SECOND);
    return line <= RULE_ERROR_LINES_PER_SECOND;
}

// The rules' log lines in the service's log, component "rule", message
// starting with the rule's file: a failure ("error: " then the message,
// then the Lua traceback) as one error line, the traceback as a debug line;
// anything else (a rule's print) as an info line.
static void rule_log(void *ctx, const char *rule, const char *text)
{
    (void)ctx;
    rule = rule != NULL ? rule : "?";
    if (strncmp(text, "error: ", 7) != 0) {
        ptm_log_info("rule", "%s: %s", rule, text);
        return;
    }
    if (!rule_error_line_allowed())
        return;
    const char *message = text + 7, *traceback = strchr(message, '\n');
    int length = traceback != NULL ? (int)(traceback - message) : (int)strlen(message);
    ptm_log_error("rule", "%s: %.*s", rule, length, message);
    if (traceback != NULL)
        ptm_log_debug("rule", "%s: %s", rule, traceback + 1);
}

struct ptm_engine *ptm_service_make_engine(const struct ptm_config *config,
                                           const struct ptm_connector_config *connector, struct ptm_error *err)
{
    (void)config;
    struct ptm_engine_options eo = {.connector = connector, .log = rule_log};
    return ptm_engine_create(&eo, err);
}

// ---- exporters ----

void ptm_service_destroy_exporters(struct ptm_exporter **list, size_t n, uint64_t deadline)
{
    for (size_t i = 0; i < n; i++)
        list[i]->ops->shutdown(list[i], deadline);
    for (size_t i = 0; i < n; i++)
        list[i]->ops->destroy(list[i]);
    free(list);
}

static int make_exporters(const struct ptm_config *config, const struct ptm_wiring *w, struct ptm_telemetry *t,
                          struct ptm_exporter ***out, struct ptm_error *err)
{
    struct ptm_exporter **list = calloc(w->n_exporters + 1, sizeof *list);
    if (list == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->n_exporters; i++) {
        const struct ptm_exporter_config *cfg = ptm_config_find_exporter(config, w->exporters[i]);
        if (cfg == NULL || (list[i] = ptm_exporter_create(cfg, config, t, err)) == NULL) {
            if (cfg == NULL)
                ptm_error_set(err, PTM_ECONFIG, "exporter %s is not defined", w->exporters[i]);
            else
                ptm_error_prefix(err, "exporter %s", w->exporters[i]);
            ptm_service_destroy_exporters(list, i, ptm_monotonic_ns());
            return err ? err->code : PTM_ECONFIG;
        }
    }
    *out = list;
    return 0;
}

// ---- receivers ----

static int add_receiver(struct ptm_service *svc, struct ptm_receiver *r)
{
    struct ptm_receiver **grown = realloc(svc->receivers, (svc->n_receivers + 1) * sizeof *grown);
    if (grown == NULL) {
        r->ops->stop(r);
        r->ops->destroy(r);
        return PTM_ENOMEM;
    }
    grown[svc->n_receivers++] = r;
    svc->receivers = grown;
    return 0;
}

struct ptm_auth *ptm_service_authenticator(struct ptm_service *svc, const struct ptm_config *config, const char *id,
                                           struct ptm_error *err)
{
    for (size_t i = 0; i < svc->n_authenticators; i++)
        if (strcmp(ptm_auth_id(svc->authenticators[i]), id) == 0)
            return svc->authenticators[i];
    const struct ptm_extension_config *x = ptm_config_find_extension(config, id);
    if (x == NULL || x->type != PTM_EXTENSION_BEARERTOKENAUTH) {
        ptm_error_set(err, PTM_ECONFIG, "extensions.%s: not a bearertokenauth extension", id);
        return NULL;
    }
    struct ptm_auth **grown =
        realloc(svc->authenticators, (svc->n_authenticators + 1) * sizeof *svc->authenticators);
    if (grown == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        return NULL;
    }
    svc->authenticators = grown;
    struct ptm_auth *a = ptm_auth_create(id, &x->bearer, err);
    if (a != NULL)
        svc->authenticators[svc->n_authenticators++] = a;
    return a;
}

// The authenticator an auth block names, in *out (NULL when none).
static int auth_of(struct ptm_service *svc, const struct ptm_server_auth_config *auth, struct ptm_auth **out,
                   struct ptm_error *err)
{
    *out = NULL;
    if (auth->authenticator == NULL)
        return 0;
    *out = ptm_service_authenticator(svc, svc->config, auth->authenticator, err);
    return *out != NULL ? 0 : (err ? err->code : PTM_ECONFIG);
}

static int start_receiver(struct ptm_service *svc, const struct ptm_receiver_config *cfg, struct ptm_error *err)
{
    struct ptm_receiver *parts[2] = {NULL, NULL};
    struct ptm_auth *auth;
    if (cfg->type == PTM_RECEIVER_PYROSCOPE) {
        if (auth_of(svc, &cfg->pyroscope.http.auth, &auth, err) != 0 ||
            (parts[0] = ptm_receiver_pyroscope_start(cfg, svc, auth, err)) == NULL)
            return err ? err->code : PTM_ECONFIG;
    } else {
        if (cfg->otlp.grpc_enabled && (auth_of(svc, &cfg->otlp.grpc.auth, &auth, err) != 0 ||
                                       (parts[0] = ptm_receiver_otlp_grpc_start(cfg, svc, auth, err)) == NULL))
            return err ? err->code : PTM_ECONFIG;
        if (cfg->otlp.http_enabled && (auth_of(svc, &cfg->otlp.http.auth, &auth, err) != 0 ||
                                       (parts[1] = ptm_receiver_otlp_http_start(cfg, svc, auth, err)) == NULL)) {
            if (parts[0] != NULL && add_receiver(svc, parts[0]) != 0)
                return PTM_ENOMEM;
            return err ? err->code : PTM_ECONFIG;
        }
    }
    for (int i = 0; i < 2; i++)
        if (parts[i] != NULL && add_receiver(svc, parts[i]) != 0)
            return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    return 0;
}

static void stop_receivers(struct ptm_service *svc)
{
    for (size_t i = 0; i < svc->n_receivers; i++)
        svc->receivers[i]->ops->stop(svc->receivers[i]);
}

// ---- telemetry endpoints ----

static int add_telemetry_server(struct ptm_service *svc, const char *address, const char *health_path,
                                struct ptm_error *err)
{
    struct ptm_telemetry_server *s = ptm_telemetry_server_start(address, health_path, svc, err);
    if (s == NULL)
        return err ? err->code : PTM_ECONFIG;
    struct ptm_telemetry_server **grown =
        realloc(svc->telemetry_servers, (svc->n_telemetry_servers + 1) * sizeof *grown);
    if (grown == NULL) {
        ptm_telemetry_server_stop(s);
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    }
    grown[svc->n_telemetry_servers++] = s;
    svc->telemetry_servers = grown;
    return 0;
}

static int start_telemetry(struct ptm_service *svc, struct ptm_error *err)
{
    const struct ptm_config *c = svc->config;
    if (c->service.metrics_level != PTM_TELEMETRY_NONE &&
        add_telemetry_server(svc, c->service.metrics_address, NULL, err) != 0)
        return err ? err->code : PTM_ECONFIG;
    for (size_t i = 0; i < c->extension_count; i++) {
        const struct ptm_extension_config *x = &c->extensions[i];
        if (x->enabled && x->type == PTM_EXTENSION_HEALTH_CHECK &&
            add_telemetry_server(svc, x->endpoint, x->path, err) != 0)
            return err ? err->code : PTM_ECONFIG;
    }
    return 0;
}

static void describe_telemetry(struct ptm_telemetry *t)
{
    static const struct {
        const char *name;
        enum ptm_telemetry_type type;
        const char *help;
    } metrics[] = {
        {"ptm_service_queue_length", PTM_TELEMETRY_GAUGE, "Decoded requests waiting for conversion"},
        {"ptm_connector_converted_samples_total", PTM_TELEMETRY_COUNTER, "Samples converted by the rules"},
        {"ptm_connector_converted_profiles_total", PTM_TELEMETRY_COUNTER, "Profiles converted by the rules"},
        {"ptm_connector_failed_samples_total", PTM_TELEMETRY_COUNTER, "Samples of requests whose conversion failed"},
        {"ptm_connector_convert_duration_seconds", PTM_TELEMETRY_HISTOGRAM, "Time to convert one request"},
        {"ptm_connector_queue_duration_seconds", PTM_TELEMETRY_HISTOGRAM, "Time a request waited in the queue"},
        {"ptm_connector_flushed_points_total", PTM_TELEMETRY_COUNTER, "Data points handed to the exporters"},
        {"ptm_connector_series", PTM_TELEMETRY_GAUGE, "Live series per metric"},
        {"ptm_connector_overflowed_points_total", PTM_TELEMETRY_COUNTER,
         "Contributions that went to a metric's overflow series"},
        {"ptm_rule_errors_total", PTM_TELEMETRY_COUNTER, "Rule evaluations that failed, per rule"},
        {"ptm_service_reloads_total", PTM_TELEMETRY_COUNTER, "Configuration reloads, by result"},
    };
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        ptm_telemetry_describe(t, metrics[i].name, metrics[i].type, metrics[i].help);
}

// ---- lifecycle ----

void ptm_service_apply_log_level(const struct ptm_config *config)
{
    static const enum ptm_log_level_value levels[] = {PTM_LOG_LEVEL_DEBUG, PTM_LOG_LEVEL_INFO, PTM_LOG_LEVEL_WARN,
                                                      PTM_LOG_LEVEL_ERROR};
    ptm_log_set_level(levels[config->service.log_level]);
}

struct ptm_service *ptm_service_start(struct ptm_config *config, struct ptm_error *err)
{
    struct ptm_service *svc = calloc(1, sizeof *svc);
    struct ptm_wiring w = {0};
    if (svc == NULL) {
        ptm_config_destroy(config);
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        return NULL;
    }
    svc->config = config;
    ptm_service_apply_log_level(config);
    if ((svc->telemetry = ptm_telemetry_create()) == NULL ||
        ptm_service_init_queue(svc, DEFAULT_QUEUE_REQUESTS) != 0) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        goto fail;
    }
    describe_telemetry(svc->telemetry);
    if (ptm_service_wire(config, &w, err) != 0)
        goto fail;
    svc->connector = ptm_config_find_connector(config, w.connector);
    svc->flush_interval = svc->connector ? svc->connector->flush_interval : 60ull * 1000000000u;
    svc->max_decompressed = DEFAULT_MAX_DECOMPRESSED;
    if ((svc->engine = ptm_service_make_engine(config, svc->connector, err)) == NULL ||
        make_exporters(config, &w, svc->telemetry, &svc->exporters, err) != 0)
        goto fail;
    svc->n_exporters = w.n_exporters;
    if (ptm_service_start_threads(svc) != 0) {
        ptm_error_set(err, PTM_ENOMEM, "cannot start the service's threads");
        goto fail;
    }
    if (w.memory_limiter != NULL &&
        (svc->memory_limiter = ptm_memory_limiter_start(w.memory_limiter->id, &w.memory_limiter->memory_limiter,
                                                        ptm_service_release_memory, svc, svc->telemetry, err)) == NULL)
        goto fail;
    for (size_t i = 0; i < w.n_receivers; i++) {
        const struct ptm_receiver_config *rc = ptm_config_find_receiver(config, w.receivers[i]);
        if (rc == NULL) {
            ptm_error_set(err, PTM_ECONFIG, "receiver %s is not defined", w.receivers[i]);
            goto fail;
        }
        if (start_receiver(svc, rc, err) != 0) {
            ptm_error_prefix(err, "receiver %s", w.receivers[i]);
            goto fail;
        }
    }
    if (start_telemetry(svc, err) != 0)
        goto fail;
    atomic_store(&svc->healthy, true);
    ptm_log_info("service", "running: connector %s, %zu receivers, %zu exporters, flush every %.3g s", w.connector,
                 w.n_receivers, w.n_exporters, (double)svc->flush_interval / 1e9);
    ptm_wiring_free(&w);
    return svc;
fail:
    ptm_wiring_free(&w);
    ptm_service_stop(svc, ptm_monotonic_ns());
    ptm_service_destroy(svc);
    return NULL;
}

void ptm_service_abort(struct ptm_service *svc)
{
    for (size_t i = 0; i < svc->n_exporters; i++)
        if (svc->exporters[i]->ops->abort != NULL)
            svc->exporters[i]->ops->abort(svc->exporters[i]);
}

// One line per exporter that sent anything: what became of its data points
// over the service's life (the telemetry endpoint is gone by now).
static void log_exporter_totals(struct ptm_service *svc)
{
    for (size_t i = 0; i < svc->n_exporters; i++) {
        char labels[512], component[192];
        ptm_exporter_labels(labels, sizeof labels, svc->exporters[i]->id);
        double sent = ptm_telemetry_get(svc->telemetry, PTM_EXPORTER_SENT, labels);
        double failed = ptm_telemetry_get(svc->telemetry, PTM_EXPORTER_FAILED, labels);
        double dropped = ptm_telemetry_get(svc->telemetry, PTM_EXPORTER_DROPPED, labels);
        if (sent + failed + dropped == 0)
            continue;
        snprintf(component, sizeof component, "exporter/%s", svc->exporters[i]->id);
        ptm_log(failed + dropped > 0 ? PTM_LOG_LEVEL_WARN : PTM_LOG_LEVEL_INFO, component,
                "stopped: %.0f data points sent, %.0f failed, %.0f dropped since the service started", sent, failed,
                dropped);
    }
}

void ptm_service_stop(struct ptm_service *svc, uint64_t deadline)
{
    if (svc == NULL)
        return;
    atomic_store(&svc->healthy, false);
    stop_receivers(svc);
    ptm_memory_limiter_stop(svc->memory_limiter);
    svc->memory_limiter = NULL;
    ptm_service_drain(svc);
    if (svc->engine != NULL) {
        pthread_mutex_lock(&svc->engine_lock);
        ptm_service_flush_locked(svc);
        pthread_mutex_unlock(&svc->engine_lock);
    }
    for (size_t i = 0; i < svc->n_exporters; i++)
        svc->exporters[i]->ops->shutdown(svc->exporters[i], deadline);
    log_exporter_totals(svc);
    for (size_t i = 0; i < svc->n_telemetry_servers; i++)
        ptm_telemetry_server_stop(svc->telemetry_servers[i]);
    svc->n_telemetry_servers = 0;
}

void ptm_service_destroy(struct ptm_service *svc)
{
    if (svc == NULL)
        return;
    for (size_t i = 0; i < svc->n_receivers; i++)
        svc->receivers[i]->ops->destroy(svc->receivers[i]);
    free(svc->receivers);
    for (size_t i = 0; i < svc->n_authenticators; i++)
        ptm_auth_destroy(svc->authenticators[i]);
    free(svc->authenticators);
    for (size_t i = 0; i < svc->n_exporters; i++)
        svc->exporters[i]->ops->destroy(svc->exporters[i]);
    free(svc->exporters);
    free(svc->telemetry_servers);
    ptm_engine_destroy(svc->engine);
    ptm_service_reset_rule_errors(svc);
    if (svc->queue != NULL)
        ptm_service_free_queue(svc);
    ptm_telemetry_destroy(svc->telemetry);
    ptm_config_destroy(svc->receiver_config);
    ptm_config_destroy(svc->config);
    free(svc);
}
