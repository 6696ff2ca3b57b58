// SPDX-License-Identifier: Apache-2.0
//
// Regression: the service's request queue overflowed when more requests had
// been decoded than it held (16, while the model pool lets 24 be decoded):
// the ring overwrote its oldest entry, that model was lost, another was
// converted twice and put back in the pool twice, and two receivers then
// decoded into the same model at once (a crash under load, found with
// build/bench/loadgen over OTLP/gRPC).
//
// The worker is held on the engine lock while every model of the pool is
// filled with a request: each must be accepted until the pool is empty,
// then answered "overloaded" after waiting for a model until a second after
// it arrived (at once when it arrived longer ago); once the worker runs, each accepted request is converted exactly once and every
// model is back in the pool once. And the backpressure: a request that
// finds the pool empty is accepted when the worker frees a model within
// that second.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "config/config.h"
#include "fixtures.h"
#include "server/service.h"
#include "server/service_internal.h"

static const char config_text[] =
    "receivers:\n"
    "  otlp:\n"
    "    protocols:\n"
    "      http: {endpoint: 127.0.0.1:0}\n"
    "connectors:\n"
    "  profiletometrics: {}\n"
    "exporters:\n"
    "  prometheus: {endpoint: 127.0.0.1:0}\n"
    "service:\n"
    "  telemetry:\n"
    "    metrics: {address: 127.0.0.1:0}\n"
    "  pipelines:\n"
    "    profiles: {receivers: [otlp], exporters: [profiletometrics]}\n"
    "    metrics: {receivers: [profiletometrics], exporters: [prometheus]}\n";

// A running service and the request the tests send it (the main fixture).
struct running {
    struct ptm_service *svc;
    uint8_t *body;
    size_t len;
};

static int setup(void **state)
{
    struct ptm_error err = {0};
    struct running *run = calloc(1, sizeof *run);
    struct ptm_config *config = ptm_config_load_string(config_text, "service.yaml", &err);
    if (run == NULL || config == NULL)
        return -1;
    run->body = fixture_otlp(10, NULL, FIXTURE_PLAIN, &run->len);
    run->svc = ptm_service_start(config, &err);
    if (run->body == NULL || run->svc == NULL) {
        print_error("start: %s\n", err.message);
        return -1;
    }
    *state = run;
    return 0;
}

static int teardown(void **state)
{
    struct running *run = *state;
    ptm_service_stop(run->svc, ptm_monotonic_ns() + 1000000000u);
    ptm_service_destroy(run->svc);
    free(run->body);
    free(run);
    return 0;
}

// Submit a request that arrived at received_ns (0: now).
static enum ptm_submit_status submit_received(struct ptm_service *svc, const uint8_t *body, size_t len,
                                              uint64_t received_ns)
{
    struct ptm_submit req = {.data = body, .len = len, .format = PTM_FORMAT_OTLP, .receiver = "test",
                             .received_ns = received_ns};
    struct ptm_submit_result res;
    ptm_service_submit(svc, &req, &res);
    return res.status;
}

static enum ptm_submit_status submit(struct ptm_service *svc, const uint8_t *body, size_t len)
{
    return submit_received(svc, body, len, 0);
}

// Fill the pool with the worker held, then let it convert everything.
static void fill_and_drain(struct ptm_service *svc, const uint8_t *body, size_t len, double *converted)
{
    size_t pool = svc->models_max;
    pthread_mutex_lock(&svc->engine_lock);
    for (size_t i = 0; i < pool; i++)
        assert_int_equal(submit(svc, body, len), PTM_SUBMIT_OK);
    // One that arrived two seconds ago (queued in a receiver) is refused at once.
    uint64_t t0 = ptm_monotonic_ns();
    assert_int_equal(submit_received(svc, body, len, t0 - 2000000000u), PTM_SUBMIT_OVERLOADED);
    assert_true(ptm_monotonic_ns() - t0 < 500000000u);
    // One that arrives now waits the second it may, then is refused.
    t0 = ptm_monotonic_ns();
    assert_int_equal(submit(svc, body, len), PTM_SUBMIT_OVERLOADED);
    uint64_t waited = ptm_monotonic_ns() - t0;
    assert_true(waited >= 900000000u && waited < 5000000000u);
    pthread_mutex_unlock(&svc->engine_lock);
    ptm_service_wait_idle(svc);
    *converted += (double)pool;
    assert_true(ptm_telemetry_get(svc->telemetry, "ptm_connector_converted_profiles_total", NULL) ==
                *converted * FIXTURE_PROFILES);
    // Every model is back in the pool, each once.
    pthread_mutex_lock(&svc->queue_lock);
    assert_int_equal(svc->pool_len, svc->models_made);
    for (size_t i = 0; i < svc->pool_len; i++)
        for (size_t k = i + 1; k < svc->pool_len; k++)
            assert_ptr_not_equal(svc->pool[i], svc->pool[k]);
    pthread_mutex_unlock(&svc->queue_lock);
}

// A thread that holds the engine lock (so the worker stops at its next
// request) from when it is started until after_ns have passed.
struct holder {
    struct ptm_service *svc;
    uint64_t after_ns;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool holding;
};

static void *hold_engine(void *arg)
{
    struct holder *h = arg;
    pthread_mutex_lock(&h->svc->engine_lock);
    pthread_mutex_lock(&h->lock);
    h->holding = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    struct timespec ts = {(time_t)(h->after_ns / 1000000000u), (long)(h->after_ns % 1000000000u)};
    nanosleep(&ts, NULL);
    pthread_mutex_unlock(&h->svc->engine_lock);
    return NULL;
}

static void test_a_full_pool_makes_requests_wait(void **state)
{
    struct running *run = *state;
    struct ptm_service *svc = run->svc;
    const uint8_t *body = run->body;
    size_t len = run->len;
    struct holder h = {.svc = svc, .after_ns = 300000000u};
    pthread_mutex_init(&h.lock, NULL);
    pthread_cond_init(&h.cond, NULL);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, hold_engine, &h), 0);
    pthread_mutex_lock(&h.lock);
    while (!h.holding)
        pthread_cond_wait(&h.cond, &h.lock);
    pthread_mutex_unlock(&h.lock);
    uint64_t t0 = ptm_monotonic_ns();
    for (size_t i = 0; i < svc->models_max; i++)
        assert_int_equal(submit(svc, body, len), PTM_SUBMIT_OK);
    // The pool is empty now: this one waits until the holder lets the
    // worker go (300 ms after it took the lock), then gets a model.
    assert_int_equal(submit(svc, body, len), PTM_SUBMIT_OK);
    uint64_t waited = ptm_monotonic_ns() - t0;
    assert_true(waited >= 250000000u && waited < 900000000u);
    pthread_join(thread, NULL);
    ptm_service_wait_idle(svc);
    assert_true(ptm_telemetry_get(svc->telemetry, "ptm_connector_converted_profiles_total", NULL) ==
                (double)(svc->models_max + 1) * FIXTURE_PROFILES);
    pthread_mutex_destroy(&h.lock);
    pthread_cond_destroy(&h.cond);
}

static void test_every_model_of_the_pool_can_be_queued(void **state)
{
    struct running *run = *state;
    double converted = 0;
    fill_and_drain(run->svc, run->body, run->len, &converted);
    fill_and_drain(run->svc, run->body, run->len, &converted); // and again, from the pool
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_model_of_the_pool_can_be_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_full_pool_makes_requests_wait, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
