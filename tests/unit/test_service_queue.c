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
// then answered "overloaded"; once the worker runs, each accepted request
// is converted exactly once and every model is back in the pool once.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

static struct ptm_service *start_service(void)
{
    struct ptm_error err = {0};
    struct ptm_config *config = ptm_config_load_string(config_text, "service.yaml", &err);
    if (config == NULL)
        fail_msg("config: %s", err.message);
    struct ptm_service *svc = ptm_service_start(config, &err);
    if (svc == NULL)
        fail_msg("start: %s", err.message);
    return svc;
}

static enum ptm_submit_status submit(struct ptm_service *svc, const uint8_t *body, size_t len)
{
    struct ptm_submit req = {.data = body, .len = len, .format = PTM_FORMAT_OTLP, .receiver = "test"};
    struct ptm_submit_result res;
    ptm_service_submit(svc, &req, &res);
    return res.status;
}

// Fill the pool with the worker held, then let it convert everything.
static void fill_and_drain(struct ptm_service *svc, const uint8_t *body, size_t len, double *converted)
{
    size_t pool = svc->models_max;
    pthread_mutex_lock(&svc->engine_lock);
    for (size_t i = 0; i < pool; i++)
        assert_int_equal(submit(svc, body, len), PTM_SUBMIT_OK);
    assert_int_equal(submit(svc, body, len), PTM_SUBMIT_OVERLOADED);
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

static void test_every_model_of_the_pool_can_be_queued(void **state)
{
    (void)state;
    size_t len;
    uint8_t *body = fixture_otlp(10, NULL, FIXTURE_PLAIN, &len);
    assert_non_null(body);
    struct ptm_service *svc = start_service();
    double converted = 0;
    fill_and_drain(svc, body, len, &converted);
    fill_and_drain(svc, body, len, &converted); // and again, from the pool
    ptm_service_stop(svc, ptm_monotonic_ns() + 1000000000u);
    ptm_service_destroy(svc);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_model_of_the_pool_can_be_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
