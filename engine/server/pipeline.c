// SPDX-License-Identifier: Apache-2.0
//
// From the configuration's pipelines to running parts: the profiles
// pipelines that end in a profiletometrics connector name the receivers to
// start, the metrics pipelines that begin at it name the exporters to feed.
// Also the lifecycle: start, reload (new rules and exporters beside the old,
// swapped between requests), stop.
#include <stdlib.h>
#include <string.h>

#include "server/log.h"
#include "server/service_internal.h"
#include "util/error.h"

#define DEFAULT_QUEUE_REQUESTS 16
#define DEFAULT_MAX_DECOMPRESSED ((size_t)64 << 20) // the OTLP spec's recommendation
#define EXPORT_DRAIN_NS (10ull * 1000000000u)

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

/// What the pipelines ask for: one connector, its receivers and exporters,
/// and the memory_limiter of a profiles pipeline feeding it (or NULL).
struct wiring {
    const char *connector;
    const char **receivers;
    size_t n_receivers;
    const char **exporters;
    size_t n_exporters;
    const struct ptm_processor_config *memory_limiter;
};

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

static void wiring_free(struct wiring *w)
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

static int wire(const struct ptm_config *config, struct wiring *w, struct ptm_error *err)
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

struct ptm_engine *ptm_service_make_engine(const struct ptm_config *config,
                                           const struct ptm_connector_config *connector, struct ptm_error *err)
{
    (void)config;
    struct ptm_engine_options eo = {.connector = connector};
    return ptm_engine_create(&eo, err);
}

// ---- exporters ----

static void destroy_exporters(struct ptm_exporter **list, size_t n, uint64_t deadline)
{
    for (size_t i = 0; i < n; i++)
        list[i]->ops->shutdown(list[i], deadline);
    for (size_t i = 0; i < n; i++)
        list[i]->ops->destroy(list[i]);
    free(list);
}

static int make_exporters(const struct ptm_config *config, const struct wiring *w, struct ptm_telemetry *t,
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
            destroy_exporters(list, i, ptm_monotonic_ns());
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

static int start_receiver(struct ptm_service *svc, const struct ptm_receiver_config *cfg, struct ptm_error *err)
{
    struct ptm_receiver *parts[2] = {NULL, NULL};
    if (cfg->type == PTM_RECEIVER_PYROSCOPE) {
        parts[0] = ptm_receiver_pyroscope_start(cfg, svc, err);
        if (parts[0] == NULL)
            return err ? err->code : PTM_ECONFIG;
    } else {
        if (cfg->otlp.grpc_enabled && (parts[0] = ptm_receiver_otlp_grpc_start(cfg, svc, err)) == NULL)
            return err ? err->code : PTM_ECONFIG;
        if (cfg->otlp.http_enabled && (parts[1] = ptm_receiver_otlp_http_start(cfg, svc, err)) == NULL) {
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

static int add_telemetry_server(struct ptm_service *svc, const char *address, struct ptm_error *err)
{
    struct ptm_telemetry_server *s = ptm_telemetry_server_start(address, svc, err);
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
        add_telemetry_server(svc, c->service.metrics_address, err) != 0)
        return err ? err->code : PTM_ECONFIG;
    for (size_t i = 0; i < c->extension_count; i++) {
        const struct ptm_extension_config *x = &c->extensions[i];
        if (x->enabled && x->type == PTM_EXTENSION_HEALTH_CHECK && add_telemetry_server(svc, x->endpoint, err) != 0)
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
        {"ptm_service_accepted_profiles_total", PTM_TELEMETRY_COUNTER, "Profiles decoded and queued for conversion"},
        {"ptm_service_rejected_profiles_total", PTM_TELEMETRY_COUNTER, "Profiles refused by validation"},
        {"ptm_service_accepted_samples_total", PTM_TELEMETRY_COUNTER, "Samples of the accepted profiles"},
        {"ptm_service_overloaded_requests_total", PTM_TELEMETRY_COUNTER, "Requests refused because the queue was full"},
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

static const struct ptm_connector_config *find_connector(const struct ptm_config *config, const char *id)
{
    return ptm_config_find_connector(config, id);
}

static void log_level_from(const struct ptm_config *config)
{
    static const enum ptm_log_level_value levels[] = {PTM_LOG_LEVEL_DEBUG, PTM_LOG_LEVEL_INFO, PTM_LOG_LEVEL_WARN,
                                                      PTM_LOG_LEVEL_ERROR};
    ptm_log_set_level(levels[config->service.log_level]);
}

struct ptm_service *ptm_service_start(struct ptm_config *config, struct ptm_error *err)
{
    struct ptm_service *svc = calloc(1, sizeof *svc);
    struct wiring w = {0};
    if (svc == NULL) {
        ptm_config_destroy(config);
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        return NULL;
    }
    svc->config = config;
    log_level_from(config);
    if ((svc->telemetry = ptm_telemetry_create()) == NULL ||
        ptm_service_init_queue(svc, DEFAULT_QUEUE_REQUESTS) != 0) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        goto fail;
    }
    describe_telemetry(svc->telemetry);
    if (wire(config, &w, err) != 0)
        goto fail;
    svc->connector = find_connector(config, w.connector);
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
    wiring_free(&w);
    return svc;
fail:
    wiring_free(&w);
    ptm_service_stop(svc, ptm_monotonic_ns());
    ptm_service_destroy(svc);
    return NULL;
}

int ptm_service_reload(struct ptm_service *svc, struct ptm_config *config, struct ptm_error *err)
{
    struct wiring w = {0};
    struct ptm_engine *engine = NULL;
    struct ptm_exporter **exporters = NULL;
    const struct ptm_connector_config *connector = NULL;
    if (wire(config, &w, err) != 0)
        goto fail;
    connector = find_connector(config, w.connector);
    if ((engine = ptm_service_make_engine(config, connector, err)) == NULL ||
        make_exporters(config, &w, svc->telemetry, &exporters, err) != 0)
        goto fail;
    // Everything converted with the old rules goes out through the old
    // exporters before the new ones take over: nothing is lost.
    pthread_mutex_lock(&svc->engine_lock);
    ptm_service_flush_locked(svc);
    struct ptm_engine *old_engine = svc->engine;
    struct ptm_exporter **old_exporters = svc->exporters;
    size_t old_n = svc->n_exporters;
    svc->engine = engine;
    svc->exporters = exporters;
    svc->n_exporters = w.n_exporters;
    svc->connector = connector;
    svc->flush_interval = connector ? connector->flush_interval : svc->flush_interval;
    pthread_mutex_unlock(&svc->engine_lock);
    destroy_exporters(old_exporters, old_n, ptm_monotonic_ns() + EXPORT_DRAIN_NS);
    ptm_engine_destroy(old_engine);
    // The receivers keep running on the old configuration's settings.
    struct ptm_config *old = svc->config;
    svc->config = config;
    log_level_from(config);
    if (svc->receiver_config == NULL)
        svc->receiver_config = old;
    else
        ptm_config_destroy(old);
    ptm_telemetry_add(svc->telemetry, "ptm_service_reloads_total", "result=\"ok\"", 1);
    ptm_log_info("service", "reloaded: connector %s, %zu exporters (receivers unchanged; restart to change them)",
                 w.connector, w.n_exporters);
    wiring_free(&w);
    return 0;
fail:
    ptm_engine_destroy(engine);
    wiring_free(&w);
    ptm_config_destroy(config);
    ptm_telemetry_add(svc->telemetry, "ptm_service_reloads_total", "result=\"refused\"", 1);
    return err ? err->code : PTM_ECONFIG;
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
    for (size_t i = 0; i < svc->n_exporters; i++)
        svc->exporters[i]->ops->destroy(svc->exporters[i]);
    free(svc->exporters);
    free(svc->telemetry_servers);
    ptm_engine_destroy(svc->engine);
    if (svc->queue != NULL)
        ptm_service_free_queue(svc);
    ptm_telemetry_destroy(svc->telemetry);
    ptm_config_destroy(svc->receiver_config);
    ptm_config_destroy(svc->config);
    free(svc);
}
