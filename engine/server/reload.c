// SPDX-License-Identifier: Apache-2.0
//
// SIGHUP: apply a new configuration without losing data. Everything that
// can fail is built first, beside the running parts: the new engine (rules
// and store) and the exporters whose settings changed. A failure there
// refuses the configuration and nothing running is touched. Then, between
// two requests (under the engine lock):
//   - the old store is flushed to the running exporters;
//   - the state of every series whose metric the new rules define the same
//     way (name, kind, unit, number type, bounds) is carried into the new
//     store, so cumulative counters continue with their start times and
//     cumulative readings (Go heap profiles) keep their last reading;
//     series of a metric that is gone or defined differently start anew;
//   - the engine and the exporter list are swapped; new Prometheus
//     exporters and exporters of a new id get the carried state at once
//     (a replaced OTLP exporter's predecessor sent it already).
// Exporters whose settings did not change keep running untouched (their
// queues, Prometheus listener and scrape state, open file). Changed or
// removed ones get EXPORT_DRAIN_NS to send what they hold; an on-disk queue
// hands its unsent requests to the exporter of the same id that replaces
// it. A changed Prometheus exporter on the port of an outgoing one starts
// once that one has let go of the port. Receivers and the telemetry
// endpoint keep the settings they started with (a change is logged).
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/auth.h"
#include "server/log.h"
#include "server/service_internal.h"
#include "util/error.h"

#define EXPORT_DRAIN_NS (10ull * 1000000000u)

/// The exporters of the new configuration, and what happens to the old.
struct exporter_plan {
    struct ptm_exporter **list; // the new list: kept and made ones; room for the deferred
    bool *made;                 // list[i] was made by this reload
    bool *seed;                 // list[i] gets the store's contents at once (see seeds())
    size_t n;
    const struct ptm_exporter_config **deferred; // to make once the old ones are gone
    size_t n_deferred;
    bool *kept; // per running exporter: it stays
};

static void plan_free(struct exporter_plan *p)
{
    free(p->list);
    free(p->made);
    free(p->seed);
    free(p->deferred);
    free(p->kept);
}

// Undo a plan that will not be applied: destroy what it made.
static void plan_discard(struct exporter_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->made[i])
            p->list[i]->ops->destroy(p->list[i]);
    plan_free(p);
}

static const char *port_of(const char *endpoint)
{
    const char *colon = endpoint != NULL ? strrchr(endpoint, ':') : NULL;
    return colon != NULL ? colon + 1 : "";
}

// A Prometheus exporter that must wait for an outgoing one's port.
static bool needs_old_port(const struct ptm_service *svc, const struct exporter_plan *p,
                           const struct ptm_exporter_config *cfg)
{
    if (cfg->type != PTM_EXPORTER_PROMETHEUS)
        return false;
    for (size_t i = 0; i < svc->n_exporters; i++) {
        const struct ptm_exporter_config *old = ptm_config_find_exporter(svc->config, svc->exporters[i]->id);
        if (!p->kept[i] && old != NULL && old->type == PTM_EXPORTER_PROMETHEUS &&
            strcmp(port_of(old->prometheus.endpoint), port_of(cfg->prometheus.endpoint)) == 0)
            return true;
    }
    return false;
}

// A new exporter that must get what the store holds now rather than at the
// next flush: one whose id did not run before (a new backend), and a
// Prometheus exporter (it serves its own state, which starts empty). A
// replaced OTLP exporter does not: its predecessor sent the last flush, or
// handed it over in the on-disk queue.
static bool seeds(const struct ptm_service *svc, const struct ptm_exporter_config *cfg)
{
    if (cfg->type == PTM_EXPORTER_PROMETHEUS)
        return true;
    for (size_t i = 0; i < svc->n_exporters; i++)
        if (strcmp(svc->exporters[i]->id, cfg->id) == 0)
            return false;
    return true;
}

// The running exporter id with the same settings in the new configuration,
// or -1.
static long running_same(const struct ptm_service *svc, const struct ptm_config *config,
                         const struct ptm_exporter_config *cfg)
{
    for (size_t i = 0; i < svc->n_exporters; i++) {
        if (strcmp(svc->exporters[i]->id, cfg->id) != 0)
            continue;
        const struct ptm_exporter_config *old = ptm_config_find_exporter(svc->config, cfg->id);
        return old != NULL && ptm_exporter_config_same(old, svc->config, cfg, config) ? (long)i : -1;
    }
    return -1;
}

static int plan_exporters(struct ptm_service *svc, const struct ptm_config *config, const struct ptm_wiring *w,
                          struct exporter_plan *p, struct ptm_error *err)
{
    memset(p, 0, sizeof *p);
    p->list = calloc(w->n_exporters + 1, sizeof *p->list);
    p->made = calloc(w->n_exporters + 1, sizeof *p->made);
    p->seed = calloc(w->n_exporters + 1, sizeof *p->seed);
    p->deferred = calloc(w->n_exporters + 1, sizeof *p->deferred);
    p->kept = calloc(svc->n_exporters + 1, sizeof *p->kept);
    if (p->list == NULL || p->made == NULL || p->seed == NULL || p->deferred == NULL || p->kept == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    // The exporters to make are listed in deferred first; the second loop
    // reads entry i before it may write entry n_deferred <= i.
    const struct ptm_exporter_config **fresh = p->deferred;
    size_t n_fresh = 0;
    for (size_t i = 0; i < w->n_exporters; i++) {
        const struct ptm_exporter_config *cfg = ptm_config_find_exporter(config, w->exporters[i]);
        if (cfg == NULL)
            return ptm_error_set(err, PTM_ECONFIG, "exporter %s is not defined", w->exporters[i]);
        long same = running_same(svc, config, cfg);
        if (same >= 0) {
            p->kept[same] = true;
            p->list[p->n++] = svc->exporters[same];
        } else {
            fresh[n_fresh++] = cfg;
        }
    }
    for (size_t i = 0; i < n_fresh; i++) {
        const struct ptm_exporter_config *cfg = fresh[i];
        if (needs_old_port(svc, p, cfg)) {
            p->deferred[p->n_deferred++] = cfg;
            continue;
        }
        struct ptm_exporter *e = ptm_exporter_create(cfg, config, svc->telemetry, err);
        if (e == NULL) {
            ptm_error_prefix(err, "exporter %s", cfg->id);
            return err ? err->code : PTM_ECONFIG;
        }
        p->made[p->n] = true;
        p->seed[p->n] = seeds(svc, cfg);
        p->list[p->n++] = e;
    }
    return 0;
}

// ---- the state of the store ----

static void log_not_carried(void *ctx, const char *metric, enum ptm_carry_skip why)
{
    (void)ctx;
    static const char *const reasons[] = {
        [PTM_CARRY_GONE] = "no rule defines it any more",
        [PTM_CARRY_CHANGED] = "its kind, unit, number type or buckets changed: its series start again from 0",
        [PTM_CARRY_OVER_LIMIT] = "the new series_limit is lower: the series past it start again in the overflow series",
    };
    ptm_log_warn("service", "reload: metric %s: %s", metric, reasons[why]);
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Hand the current store's contents to the exporters of list that pick[]
// marks. engine_lock held.
static void export_current(struct ptm_service *svc, struct ptm_exporter **list, const bool *pick, size_t n)
{
    struct ptm_snapshot snap;
    if (ptm_store_collect(ptm_engine_store(svc->engine), realtime_ns(), &snap) != 0) {
        ptm_log_error("service", "reload: out of memory collecting the metrics for the new exporters");
        return;
    }
    for (size_t i = 0; i < n && snap.len > 0; i++)
        if (pick[i])
            list[i]->ops->export(list[i], &snap);
    ptm_snapshot_free(&snap);
}

// ---- what a reload cannot change ----

static bool same_text(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_tls(const struct ptm_server_tls_config *a, const struct ptm_server_tls_config *b)
{
    return a->enabled == b->enabled &&
           (!a->enabled || (same_text(a->cert_file, b->cert_file) && same_text(a->key_file, b->key_file) &&
                            same_text(a->client_ca_file, b->client_ca_file) && a->min_version == b->min_version &&
                            a->max_version == b->max_version));
}

static bool same_http_server(const struct ptm_http_server_config *a, const struct ptm_http_server_config *b)
{
    return same_text(a->endpoint, b->endpoint) && a->max_request_body_size == b->max_request_body_size &&
           same_tls(&a->tls, &b->tls) && same_text(a->auth.authenticator, b->auth.authenticator) &&
           a->max_connections == b->max_connections && a->read_timeout == b->read_timeout &&
           a->read_header_timeout == b->read_header_timeout && a->write_timeout == b->write_timeout &&
           a->idle_timeout == b->idle_timeout && a->keep_alives_enabled == b->keep_alives_enabled;
}

static bool same_grpc_server(const struct ptm_grpc_server_config *a, const struct ptm_grpc_server_config *b)
{
    return same_text(a->endpoint, b->endpoint) && a->max_recv_msg_size == b->max_recv_msg_size &&
           same_tls(&a->tls, &b->tls) && same_text(a->auth.authenticator, b->auth.authenticator) &&
           a->max_connections == b->max_connections && a->max_concurrent_streams == b->max_concurrent_streams &&
           a->max_connection_idle == b->max_connection_idle && a->handshake_timeout == b->handshake_timeout &&
           a->read_timeout == b->read_timeout && a->write_timeout == b->write_timeout;
}

static bool same_receiver(const struct ptm_receiver_config *a, const struct ptm_receiver_config *b)
{
    if (a == NULL || b == NULL || a->type != b->type)
        return a == b;
    if (a->type == PTM_RECEIVER_PYROSCOPE)
        return same_http_server(&a->pyroscope.http, &b->pyroscope.http);
    const struct ptm_otlp_receiver_config *x = &a->otlp, *y = &b->otlp;
    return x->grpc_enabled == y->grpc_enabled && x->http_enabled == y->http_enabled &&
           (!x->grpc_enabled || same_grpc_server(&x->grpc, &y->grpc)) &&
           (!x->http_enabled || (same_http_server(&x->http, &y->http) &&
                                 same_text(x->profiles_url_path, y->profiles_url_path)));
}

static void warn_restart_only(const struct ptm_service *svc, const struct ptm_config *config,
                              const struct ptm_wiring *w)
{
    const struct ptm_config *running = svc->receiver_config ? svc->receiver_config : svc->config;
    struct ptm_wiring was;
    struct ptm_error ignored;
    bool changed = ptm_service_wire(running, &was, &ignored) != 0 || was.n_receivers != w->n_receivers;
    for (size_t i = 0; !changed && i < w->n_receivers; i++)
        changed = !same_receiver(ptm_config_find_receiver(running, w->receivers[i]),
                                 ptm_config_find_receiver(config, w->receivers[i]));
    ptm_wiring_free(&was);
    if (changed)
        ptm_log_warn("service", "reload: the receivers changed; they keep running as they started (restart "
                                "profiletometrics serve to apply the change)");
    if (!same_text(running->service.metrics_address, config->service.metrics_address) ||
        running->service.metrics_level != config->service.metrics_level)
        ptm_log_warn("service", "reload: service.telemetry.metrics changed; the telemetry endpoint keeps running "
                                "as it started (restart to apply the change)");
}

// ---- the authenticators: new tokens, same receivers ----

// Give the running authenticators the settings of config's extensions of
// the same id: their token files are read again. One that cannot be read
// is logged and keeps its tokens, as when the file changes.
static void update_authenticators(struct ptm_service *svc, const struct ptm_config *config)
{
    for (size_t i = 0; i < svc->n_authenticators; i++) {
        struct ptm_auth *a = svc->authenticators[i];
        const struct ptm_extension_config *x = ptm_config_find_extension(config, ptm_auth_id(a));
        struct ptm_error err = {0};
        if (x == NULL || x->type != PTM_EXTENSION_BEARERTOKENAUTH)
            ptm_log_warn("service", "reload: extension %s is gone; the receivers that use it keep it as it was "
                                    "(restart to apply)", ptm_auth_id(a));
        else if (ptm_auth_update(a, &x->bearer, &err) != 0)
            ptm_log_error("service", "reload: %s; its tokens stay as they were", err.message);
    }
}

// ---- the reload ----

// Swap the new engine and exporters in, carrying the store's state over.
// Returns the outgoing exporters (to shut down) in *old, *n_old.
static void swap_in(struct ptm_service *svc, struct ptm_engine *engine, const struct ptm_connector_config *connector,
                    struct exporter_plan *p, struct ptm_exporter ***old, size_t *n_old)
{
    pthread_mutex_lock(&svc->engine_lock);
    ptm_service_flush_locked(svc); // what the old rules made goes out through the running exporters
    int carried = ptm_store_carry_over(ptm_engine_store(engine), ptm_engine_store(svc->engine), log_not_carried,
                                       NULL);
    if (carried < 0)
        ptm_log_error("service", "reload: out of memory carrying the series over; some start again from 0");
    else if (ptm_store_metric_count(ptm_engine_store(svc->engine)) > 0)
        ptm_log_info("service", "reload: %d series carried over to the new rules", carried);
    struct ptm_engine *old_engine = svc->engine;
    *n_old = 0;
    for (size_t i = 0; i < svc->n_exporters; i++)
        if (!p->kept[i])
            svc->exporters[(*n_old)++] = svc->exporters[i];
    *old = svc->exporters;
    svc->engine = engine;
    svc->exporters = p->list;
    svc->n_exporters = p->n;
    p->list = NULL;
    svc->connector = connector;
    if (connector != NULL)
        svc->flush_interval = connector->flush_interval;
    ptm_service_reset_rule_errors(svc);
    // The running exporters have all of it; new backends and Prometheus
    // exporters get it now.
    svc->flushed_engine = engine;
    svc->flushed_changes = ptm_store_changes(ptm_engine_store(engine));
    export_current(svc, svc->exporters, p->seed, svc->n_exporters);
    pthread_mutex_unlock(&svc->engine_lock);
    ptm_engine_destroy(old_engine);
}

// The Prometheus exporters that waited for an outgoing one's port.
static void start_deferred(struct ptm_service *svc, const struct ptm_config *config, const struct exporter_plan *p)
{
    for (size_t i = 0; i < p->n_deferred; i++) {
        struct ptm_error err = {0};
        struct ptm_exporter *e = ptm_exporter_create(p->deferred[i], config, svc->telemetry, &err);
        if (e == NULL) {
            ptm_log_error("service", "reload: exporter %s could not start, it stays off until the next reload: %s",
                          p->deferred[i]->id, err.message);
            continue;
        }
        bool seed = true;
        pthread_mutex_lock(&svc->engine_lock);
        svc->exporters[svc->n_exporters++] = e; // the list has room for every exporter of the plan
        export_current(svc, &e, &seed, 1);
        pthread_mutex_unlock(&svc->engine_lock);
    }
}

int ptm_service_reload(struct ptm_service *svc, struct ptm_config *config, struct ptm_error *err)
{
    struct ptm_wiring w = {0};
    struct ptm_engine *engine = NULL;
    struct exporter_plan plan = {0};
    if (ptm_service_wire(config, &w, err) != 0)
        goto fail;
    const struct ptm_connector_config *connector = ptm_config_find_connector(config, w.connector);
    if ((engine = ptm_service_make_engine(config, connector, err)) == NULL ||
        plan_exporters(svc, config, &w, &plan, err) != 0)
        goto fail;
    warn_restart_only(svc, config, &w);
    update_authenticators(svc, config);
    size_t n_made = 0;
    for (size_t i = 0; i < plan.n; i++)
        n_made += plan.made[i];
    size_t n_kept = plan.n - n_made;
    struct ptm_exporter **old;
    size_t n_old;
    swap_in(svc, engine, connector, &plan, &old, &n_old);
    ptm_service_destroy_exporters(old, n_old, ptm_monotonic_ns() + EXPORT_DRAIN_NS);
    start_deferred(svc, config, &plan);
    // The receivers keep running on the configuration they started with.
    struct ptm_config *previous = svc->config;
    svc->config = config;
    if (svc->receiver_config == NULL)
        svc->receiver_config = previous;
    else
        ptm_config_destroy(previous);
    ptm_service_apply_log_level(config);
    ptm_telemetry_add(svc->telemetry, "ptm_service_reloads_total", "result=\"ok\"", 1);
    ptm_log_info("service", "reloaded: connector %s, %zu exporters kept as they run, %zu started, %zu stopped, flush "
                            "every %.3g s",
                 w.connector, n_kept, n_made + plan.n_deferred, n_old, (double)svc->flush_interval / 1e9);
    plan_free(&plan);
    ptm_wiring_free(&w);
    return 0;
fail:
    plan_discard(&plan);
    ptm_engine_destroy(engine);
    ptm_wiring_free(&w);
    ptm_config_destroy(config);
    ptm_telemetry_add(svc->telemetry, "ptm_service_reloads_total", "result=\"refused\"", 1);
    return err ? err->code : PTM_ECONFIG;
}
