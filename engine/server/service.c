// SPDX-License-Identifier: Apache-2.0
//
// Requests in, metrics out. A receiver's thread decodes and validates the
// request into a model taken from a bounded pool (so memory is bounded, and
// a full pool answers "overloaded" at once), then queues it. One worker
// thread owns the engine and converts queued models in order; one flush
// thread collects the store every flush interval and hands the snapshot to
// the exporters.
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "server/http.h"
#include "server/log.h"
#include "server/service_internal.h"
#include "util/arena.h"
#include "util/error.h"

// How long after its arrival a request may wait for a free model.
#define ADMIT_WAIT_NS 1000000000u

uint64_t ptm_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ptm_telemetry *ptm_service_telemetry(struct ptm_service *svc)
{
    return svc->telemetry;
}

bool ptm_service_healthy(struct ptm_service *svc)
{
    return atomic_load(&svc->healthy);
}

// ---- the model pool ----

// A model for a new request. When every model is in use, wait for the
// worker to give one back until ADMIT_WAIT_NS after the request arrived
// (CLOCK_MONOTONIC ns; 0: now); NULL after that (the service is as busy as
// it may be: the caller answers "overloaded").
//
// The wait is the backpressure a client that sends as fast as it is
// answered needs: without it such a client gets 429s as fast as it can
// upload a body, and the uploads thrown away take the CPU the worker needs.
// It counts from the arrival so that requests queued in a receiver (the
// gRPC server's jobs) behind a full pool are refused, not held for a
// second each in turn.
static struct ptm_model *take_model(struct ptm_service *svc, uint64_t received_ns)
{
    struct ptm_model *m = NULL;
    uint64_t until = (received_ns != 0 ? received_ns : ptm_monotonic_ns()) + ADMIT_WAIT_NS;
    struct timespec deadline = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    pthread_mutex_lock(&svc->queue_lock);
    for (;;) {
        if (svc->pool_len > 0) {
            m = svc->pool[--svc->pool_len];
            break;
        }
        if (svc->models_made < svc->models_max) {
            m = ptm_model_create();
            svc->models_made += m != NULL;
            break;
        }
        if (atomic_load(&svc->stopping) || ptm_monotonic_ns() >= until ||
            pthread_cond_timedwait(&svc->model_free, &svc->queue_lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&svc->queue_lock);
    return m;
}

static void give_back(struct ptm_service *svc, struct ptm_model *m)
{
    ptm_model_reset(m);
    pthread_mutex_lock(&svc->queue_lock);
    svc->pool[svc->pool_len++] = m;
    pthread_cond_signal(&svc->model_free);
    pthread_mutex_unlock(&svc->queue_lock);
}

// ---- requests ----

static void result(struct ptm_submit_result *out, enum ptm_submit_status status, const char *message)
{
    out->status = status;
    snprintf(out->message, sizeof out->message, "%s", message ? message : "");
}

// Give the profiles of a pushed pprof what the push said about them: the
// resource attributes (service.name, labels) and the time window.
static int annotate(struct ptm_model *m, const struct ptm_submit *req)
{
    for (uint32_t r = 0; r < m->resources.len && req->resource_count > 0; r++) {
        struct ptm_resource *res = &m->resources.data[r];
        if (res->attributes.len != 0 || PTM_VEC_RESERVE(m->keyvalues, req->resource_count) != 0)
            continue;
        res->attributes = (struct ptm_range){m->keyvalues.len, (uint32_t)req->resource_count};
        for (size_t i = 0; i < req->resource_count; i++) {
            char *k = ptm_arena_strndup(m->arena, req->resource_keys[i], strlen(req->resource_keys[i]));
            char *v = ptm_arena_strndup(m->arena, req->resource_values[i], strlen(req->resource_values[i]));
            if (k == NULL || v == NULL)
                return PTM_ENOMEM;
            struct ptm_keyvalue *kv = &m->keyvalues.data[m->keyvalues.len++];
            kv->key = (struct ptm_str){k, (uint32_t)strlen(k)};
            kv->key_strindex = -1;
            kv->value = (struct ptm_any){.kind = PTM_ANY_STRING, .strindex = -1};
            kv->value.u.str = (struct ptm_str){v, (uint32_t)strlen(v)};
        }
    }
    for (uint32_t p = 0; p < m->profiles.len && req->time_unix_nano != 0; p++) {
        struct ptm_profile *pr = &m->profiles.data[p];
        if (pr->time_unix_nano == 0) {
            pr->time_unix_nano = req->time_unix_nano;
            pr->duration_nano = req->duration_nano;
        }
    }
    return 0;
}

static void enqueue(struct ptm_service *svc, struct ptm_model *m)
{
    pthread_mutex_lock(&svc->queue_lock);
    size_t tail = (svc->queue_head + svc->queue_len) % svc->queue_cap;
    svc->queue[tail] = (struct queued){m, ptm_monotonic_ns()};
    svc->queue_len++;
    ptm_telemetry_set(svc->telemetry, "ptm_service_queue_length", NULL, (double)svc->queue_len);
    pthread_cond_signal(&svc->queue_ready);
    pthread_mutex_unlock(&svc->queue_lock);
}

static uint32_t retry_after(const struct ptm_service *svc)
{
    // The queue drains within a flush interval in the worst case; a second
    // or two is what a busy worker usually needs.
    uint64_t s = svc->flush_interval / 1000000000u;
    return s < 1 ? 1 : s > 5 ? 5 : (uint32_t)s;
}

void ptm_service_submit(struct ptm_service *svc, const struct ptm_submit *req, struct ptm_submit_result *out)
{
    memset(out, 0, sizeof *out);
    if (atomic_load(&svc->stopping)) {
        result(out, PTM_SUBMIT_UNAVAILABLE, "the service is shutting down");
        out->retry_after_seconds = 1;
        return;
    }
    if (!ptm_memory_limiter_admit(svc->memory_limiter, req->len, out->message, sizeof out->message)) {
        out->status = PTM_SUBMIT_OVERLOADED;
        out->retry_after_seconds = retry_after(svc);
        return;
    }
    struct ptm_model *m = take_model(svc, req->received_ns);
    if (m == NULL) {
        ptm_memory_limiter_decoded(svc->memory_limiter, req->len);
        result(out, PTM_SUBMIT_OVERLOADED, "too many requests queued; retry later");
        out->retry_after_seconds = retry_after(svc);
        return;
    }
    // The model keeps views into the bytes: they must live as long as it
    // does, so they are copied into its arena. Not gzip: ptm_decode inflates
    // it into the arena and keeps views into that, never into the input.
    const void *bytes = req->data;
    struct ptm_decode_options opts = {
        .format = req->format,
        .max_decompressed = req->max_decompressed ? req->max_decompressed : svc->max_decompressed,
    };
    struct ptm_error err = {0};
    int rc = 0;
    if (!ptm_is_gzip(req->data, req->len)) {
        void *copy = ptm_arena_alloc(m->arena, req->len ? req->len : 1);
        if (copy == NULL)
            rc = ptm_error_set(&err, PTM_ENOMEM, "out of memory");
        else
            bytes = memcpy(copy, req->data, req->len);
    }
    if (rc == 0)
        rc = ptm_decode(m, bytes, req->len, &opts, &err);
    ptm_memory_limiter_decoded(svc->memory_limiter, req->len);
    out->rejected_profiles = m->rejected_profiles;
    out->accepted_profiles = m->profiles.len;
    for (uint32_t i = 0; i < m->profiles.len; i++)
        out->accepted_samples += m->profiles.data[i].samples.len;
    if (rc == PTM_ENOMEM) {
        result(out, PTM_SUBMIT_OVERLOADED, "out of memory decoding the request; retry later");
        out->retry_after_seconds = retry_after(svc);
    } else if (rc == PTM_ELIMIT) {
        result(out, PTM_SUBMIT_TOO_LARGE, err.message);
    } else if (rc != 0 && m->profiles.len == 0) {
        result(out, PTM_SUBMIT_BAD_REQUEST, err.message);
    } else if (annotate(m, req) != 0) {
        result(out, PTM_SUBMIT_OVERLOADED, "out of memory; retry later");
        out->retry_after_seconds = retry_after(svc);
    } else {
        result(out, rc == 0 ? PTM_SUBMIT_OK : PTM_SUBMIT_PARTIAL, rc == 0 ? NULL : err.message);
    }
    bool queued = (out->status == PTM_SUBMIT_OK || out->status == PTM_SUBMIT_PARTIAL) && m->profiles.len > 0;
    if (!queued) {
        out->accepted_profiles = 0;
        out->accepted_samples = 0;
        if (out->status == PTM_SUBMIT_BAD_REQUEST || out->status == PTM_SUBMIT_TOO_LARGE)
            ptm_log_debug(req->receiver ? req->receiver : "receiver", "refused a request: %s", out->message);
    }
    if (queued)
        enqueue(svc, m);
    else
        give_back(svc, m);
}

// ---- the worker ----

// The count of rule's errors the telemetry has, for the current engine.
static struct ptm_rule_errors_seen *rule_errors_seen(struct ptm_service *svc, const char *rule)
{
    for (size_t i = 0; i < svc->n_rule_errors; i++)
        if (strcmp(svc->rule_errors[i].rule, rule) == 0)
            return &svc->rule_errors[i];
    struct ptm_rule_errors_seen *grown = realloc(svc->rule_errors, (svc->n_rule_errors + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    svc->rule_errors = grown;
    struct ptm_rule_errors_seen *seen = &grown[svc->n_rule_errors];
    if ((seen->rule = strdup(rule)) == NULL)
        return NULL;
    seen->errors = 0;
    svc->n_rule_errors++;
    return seen;
}

// Add what the engine counted since the last time: the engine's counts
// restart with each reload, the telemetry's counter must not.
static void publish_rule_errors(void *ctx, const char *rule, const char *file, unsigned metrics, unsigned errors)
{
    (void)file, (void)metrics;
    struct ptm_service *svc = ctx;
    struct ptm_rule_errors_seen *seen = rule_errors_seen(svc, rule);
    if (seen == NULL || errors < seen->errors)
        return;
    char labels[512];
    ptm_http_label_value(labels, sizeof labels - 8, rule);
    char quoted[520];
    snprintf(quoted, sizeof quoted, "rule=\"%s\"", labels);
    ptm_telemetry_add(svc->telemetry, "ptm_rule_errors_total", quoted, errors - seen->errors);
    seen->errors = errors;
}

void ptm_service_reset_rule_errors(struct ptm_service *svc)
{
    for (size_t i = 0; i < svc->n_rule_errors; i++)
        free(svc->rule_errors[i].rule);
    free(svc->rule_errors);
    svc->rule_errors = NULL;
    svc->n_rule_errors = 0;
}

static void convert(struct ptm_service *svc, struct queued *q)
{
    struct ptm_error err = {0};
    unsigned failed = 0;
    uint64_t t0 = ptm_monotonic_ns();
    pthread_mutex_lock(&svc->engine_lock);
    int rc = ptm_engine_convert(svc->engine, q->model, &failed, &err);
    if (failed != 0)
        ptm_lua_rules(ptm_engine_lua(svc->engine), publish_rule_errors, svc);
    pthread_mutex_unlock(&svc->engine_lock);
    uint64_t t1 = ptm_monotonic_ns();
    uint64_t samples = 0;
    for (uint32_t i = 0; i < q->model->profiles.len; i++)
        samples += q->model->profiles.data[i].samples.len;
    if (rc != 0) {
        ptm_log_error("connector/profiletometrics", "converting a request failed: %s", err.message);
        ptm_telemetry_add(svc->telemetry, "ptm_connector_failed_samples_total", NULL, (double)samples);
    } else {
        ptm_telemetry_add(svc->telemetry, "ptm_connector_converted_samples_total", NULL, (double)samples);
        ptm_telemetry_add(svc->telemetry, "ptm_connector_converted_profiles_total", NULL,
                          q->model->profiles.len);
    }
    ptm_telemetry_observe(svc->telemetry, "ptm_connector_convert_duration_seconds", NULL, (double)(t1 - t0) / 1e9);
    ptm_telemetry_observe(svc->telemetry, "ptm_connector_queue_duration_seconds", NULL,
                          (double)(t0 - q->received) / 1e9);
}

static void *worker_main(void *arg)
{
    struct ptm_service *svc = arg;
    pthread_setname_np(pthread_self(), "ptm-worker"); // for top, perf and loadgen's per-thread CPU
    for (;;) {
        pthread_mutex_lock(&svc->queue_lock);
        svc->worker_busy = false;
        while (svc->queue_len == 0 && !atomic_load(&svc->stopping)) {
            pthread_cond_broadcast(&svc->queue_empty);
            pthread_cond_wait(&svc->queue_ready, &svc->queue_lock);
        }
        if (svc->queue_len == 0) { // stopping, and nothing left
            pthread_cond_broadcast(&svc->queue_empty);
            pthread_mutex_unlock(&svc->queue_lock);
            return NULL;
        }
        struct queued q = svc->queue[svc->queue_head];
        svc->queue_head = (svc->queue_head + 1) % svc->queue_cap;
        svc->queue_len--;
        svc->worker_busy = true;
        ptm_telemetry_set(svc->telemetry, "ptm_service_queue_length", NULL, (double)svc->queue_len);
        pthread_mutex_unlock(&svc->queue_lock);
        convert(svc, &q);
        give_back(svc, q.model);
    }
}

/// Wait until the worker has converted everything queued so far.
static void wait_idle(struct ptm_service *svc)
{
    pthread_mutex_lock(&svc->queue_lock);
    while (svc->queue_len > 0 || svc->worker_busy)
        pthread_cond_wait(&svc->queue_empty, &svc->queue_lock);
    pthread_mutex_unlock(&svc->queue_lock);
}

// ---- flushing ----

static void publish_series(struct ptm_service *svc)
{
    struct ptm_store *store = ptm_engine_store(svc->engine);
    for (uint32_t i = 0; i < ptm_store_metric_count(store); i++) {
        char labels[512];
        snprintf(labels, sizeof labels, "metric=\"%s\"", ptm_store_metric(store, i)->name);
        ptm_telemetry_set(svc->telemetry, "ptm_connector_series", labels, ptm_store_series_count(store, i));
        ptm_telemetry_set(svc->telemetry, "ptm_connector_overflowed_points_total", labels,
                          (double)ptm_store_overflowed(store, i));
    }
}

void ptm_service_flush_locked(struct ptm_service *svc)
{
    // Nothing new since the last flush: exporters already have it all, and
    // a cumulative snapshot would only repeat itself byte for byte.
    uint64_t changes = ptm_store_changes(ptm_engine_store(svc->engine));
    if (changes == svc->flushed_changes && svc->flushed_engine == svc->engine)
        return;
    svc->flushed_changes = changes;
    svc->flushed_engine = svc->engine;
    struct ptm_snapshot snap;
    if (ptm_store_collect(ptm_engine_store(svc->engine), realtime_ns(), &snap) != 0) {
        ptm_log_error("connector/profiletometrics", "out of memory collecting metrics; the flush is skipped");
        return;
    }
    for (size_t i = 0; i < svc->n_exporters && snap.len > 0; i++)
        svc->exporters[i]->ops->export(svc->exporters[i], &snap);
    ptm_telemetry_add(svc->telemetry, "ptm_connector_flushed_points_total", NULL, (double)snap.len);
    publish_series(svc);
    ptm_snapshot_free(&snap);
}

static void *flusher_main(void *arg)
{
    struct ptm_service *svc = arg;
    pthread_setname_np(pthread_self(), "ptm-flush");
    pthread_mutex_lock(&svc->flush_lock);
    while (!atomic_load(&svc->stopping)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + svc->flush_interval;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&svc->flush_wake, &svc->flush_lock, &until);
        if (atomic_load(&svc->stopping))
            break;
        pthread_mutex_unlock(&svc->flush_lock);
        pthread_mutex_lock(&svc->engine_lock);
        ptm_service_flush_locked(svc);
        pthread_mutex_unlock(&svc->engine_lock);
        pthread_mutex_lock(&svc->flush_lock);
    }
    pthread_mutex_unlock(&svc->flush_lock);
    return NULL;
}

// ---- set-up and tear-down of the moving parts ----

int ptm_service_init_queue(struct ptm_service *svc, size_t capacity)
{
    svc->models_max = capacity + 8; // the queue, plus requests being decoded
    // Every queued request holds a model of the pool, so a ring with room
    // for all of them never fills: the pool alone bounds the queue. (A ring
    // of `capacity` overwrote its oldest entry once more requests had been
    // decoded than it held, and that model was then converted twice and
    // handed to two requests at once.)
    svc->queue_cap = svc->models_max;
    svc->queue = calloc(svc->queue_cap, sizeof *svc->queue);
    svc->pool = calloc(svc->models_max, sizeof *svc->pool);
    if (svc->queue == NULL || svc->pool == NULL)
        return PTM_ENOMEM;
    pthread_mutex_init(&svc->queue_lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&svc->model_free, &monotonic);
    pthread_condattr_destroy(&monotonic);
    pthread_cond_init(&svc->queue_ready, NULL);
    pthread_cond_init(&svc->queue_empty, NULL);
    pthread_mutex_init(&svc->engine_lock, NULL);
    pthread_mutex_init(&svc->flush_lock, NULL);
    pthread_cond_init(&svc->flush_wake, NULL);
    return 0;
}

int ptm_service_start_threads(struct ptm_service *svc)
{
    if (pthread_create(&svc->worker, NULL, worker_main, svc) != 0)
        return PTM_ENOMEM;
    if (pthread_create(&svc->flusher, NULL, flusher_main, svc) != 0) {
        atomic_store(&svc->stopping, true);
        pthread_cond_broadcast(&svc->queue_ready);
        pthread_join(svc->worker, NULL);
        return PTM_ENOMEM;
    }
    svc->threads_started = true;
    return 0;
}

void ptm_service_drain(struct ptm_service *svc)
{
    if (!svc->threads_started)
        return;
    wait_idle(svc);
    atomic_store(&svc->stopping, true);
    pthread_mutex_lock(&svc->queue_lock);
    pthread_cond_broadcast(&svc->queue_ready);
    pthread_cond_broadcast(&svc->model_free);
    pthread_mutex_unlock(&svc->queue_lock);
    pthread_mutex_lock(&svc->flush_lock);
    pthread_cond_broadcast(&svc->flush_wake);
    pthread_mutex_unlock(&svc->flush_lock);
    pthread_join(svc->worker, NULL);
    pthread_join(svc->flusher, NULL);
    svc->threads_started = false;
}

void ptm_service_wait_idle(struct ptm_service *svc)
{
    wait_idle(svc);
}

void ptm_service_release_memory(void *ctx)
{
    struct ptm_service *svc = ctx;
    pthread_mutex_lock(&svc->queue_lock);
    for (; svc->pool_len > 0; svc->models_made--)
        ptm_model_destroy(svc->pool[--svc->pool_len]); // made again when needed
    pthread_mutex_unlock(&svc->queue_lock);
    malloc_trim(0); // free heap pages back to the system, every arena's
}

void ptm_service_free_queue(struct ptm_service *svc)
{
    for (size_t i = 0; i < svc->queue_len; i++)
        ptm_model_destroy(svc->queue[(svc->queue_head + i) % svc->queue_cap].model);
    for (size_t i = 0; i < svc->pool_len; i++)
        ptm_model_destroy(svc->pool[i]);
    free(svc->queue);
    free(svc->pool);
    pthread_mutex_destroy(&svc->queue_lock);
    pthread_cond_destroy(&svc->model_free);
    pthread_cond_destroy(&svc->queue_ready);
    pthread_cond_destroy(&svc->queue_empty);
    pthread_mutex_destroy(&svc->engine_lock);
    pthread_mutex_destroy(&svc->flush_lock);
    pthread_cond_destroy(&svc->flush_wake);
}
