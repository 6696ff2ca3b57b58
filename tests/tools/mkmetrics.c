// SPDX-License-Identifier: Apache-2.0
//
// mkmetrics: fill a metric store with a small fixed set of data and write
// one collect of it in an output format, for the end-to-end schema tests
// (tests/e2e/metrics_schema), which check the bytes with independent parsers.
//
//   mkmetrics otlp|otlp-json|prometheus|table [--delta] [--resource-labels] [--no-suffixes]
//
// Two resources (checkout in namespace shop with an instance and a host, and
// cart with nothing else), a counter in seconds with string, int, bool and
// double attributes, an int gauge in bytes, a histogram in milliseconds with
// a value on a bound and one past the last bound, and an attribute value
// with a byte that is not UTF-8.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "metrics/store.h"

#define T0 UINT64_C(1700000000000000000)
#define SECOND UINT64_C(1000000000)

static uint32_t text(struct ptm_store *s, const char *v)
{
    return ptm_store_value(s, PTM_LABEL_STRING, ptm_store_string(s, v, strlen(v)), 0, 0);
}

static uint32_t key(struct ptm_store *s, const char *k)
{
    return ptm_store_string(s, k, strlen(k));
}

static void fail(const char *what)
{
    fprintf(stderr, "mkmetrics: %s failed\n", what);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        fail(what);
}

static void fill(struct ptm_store *s)
{
    struct ptm_error err;
    static const double latency_bounds[] = {1, 10, 100};
    struct ptm_metric_def cpu = {"process.cpu.time", "CPU time by thread", "s",
                                 PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    struct ptm_metric_def mem = {"memory.in_use", "Heap memory in use", "By",
                                 PTM_METRIC_GAUGE, PTM_NUMBER_INT, NULL, 0, 0};
    struct ptm_metric_def lat = {"sample.latency", "Latency \"of\" samples\nby thread", "s",
                                 PTM_METRIC_HISTOGRAM, PTM_NUMBER_DOUBLE, latency_bounds, 3, 0};
    int m_cpu = ptm_store_define(s, &cpu, &err), m_mem = ptm_store_define(s, &mem, &err),
        m_lat = ptm_store_define(s, &lat, &err);
    check(m_cpu, "define cpu");
    check(m_mem, "define mem");
    check(m_lat, "define latency");

    uint32_t shop[8] = {key(s, "service.name"), text(s, "checkout"), key(s, "service.namespace"),
                        text(s, "shop"), key(s, "service.instance.id"), text(s, "pod-1"),
                        key(s, "host.name"), text(s, "node-1")};
    uint32_t cart[2] = {key(s, "service.name"), text(s, "cart")};
    uint32_t r_shop = ptm_store_resource(s, ptm_store_attributes(s, shop, 4), 0);
    uint32_t r_cart = ptm_store_resource(s, ptm_store_attributes(s, cart, 1), 0);

    uint32_t main_thread[8] = {key(s, "thread.name"), text(s, "main"),
                               key(s, "thread.id"), ptm_store_value(s, PTM_LABEL_INT, 0, 42, 0),
                               key(s, "sampled"), ptm_store_value(s, PTM_LABEL_BOOL, 0, 1, 0),
                               key(s, "weight"), ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, 0.5)};
    uint32_t gc_thread[2] = {key(s, "thread.name"), text(s, "gc\xff")};
    uint32_t a_main = ptm_store_attributes(s, main_thread, 4);
    uint32_t a_gc = ptm_store_attributes(s, gc_thread, 1);

    struct ptm_window w = {T0, T0 + 10 * SECOND};
    struct ptm_window w2 = {T0 + 10 * SECOND, T0 + 20 * SECOND};
    check(ptm_store_add(s, m_cpu, r_shop, a_main, 1.5, w), "add");
    check(ptm_store_add(s, m_cpu, r_shop, a_main, 0.25, w2), "add");
    check(ptm_store_add(s, m_cpu, r_shop, a_gc, 0.125, w), "add");
    check(ptm_store_add(s, m_cpu, r_cart, 0, 3, w2), "add");
    check(ptm_store_add(s, m_mem, r_shop, 0, 1048576, w2), "set");
    check(ptm_store_observe(s, m_lat, r_shop, a_main, 0.5, 2, w), "observe");
    check(ptm_store_observe(s, m_lat, r_shop, a_main, 10, 1, w), "observe");
    check(ptm_store_observe(s, m_lat, r_shop, a_main, 250, 1, w2), "observe");
}

int main(int argc, char **argv)
{
    if (argc < 2 || ptm_parse_output_format(argv[1]) < 0) {
        fprintf(stderr, "usage: mkmetrics otlp|otlp-json|prometheus|table [--delta] "
                        "[--resource-labels] [--no-suffixes]\n");
        return 2;
    }
    struct ptm_store_options so = {PTM_TEMPORALITY_CUMULATIVE, 0};
    struct ptm_encode_options eo = {false, false};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--delta") == 0)
            so.temporality = PTM_TEMPORALITY_DELTA;
        else if (strcmp(argv[i], "--resource-labels") == 0)
            eo.resource_to_labels = true;
        else if (strcmp(argv[i], "--no-suffixes") == 0)
            eo.no_name_suffixes = true;
        else
            return fprintf(stderr, "mkmetrics: unknown option %s\n", argv[i]), 2;
    }
    struct ptm_store *store = ptm_store_create(&so);
    if (store == NULL)
        fail("ptm_store_create");
    fill(store);
    struct ptm_snapshot snap;
    struct ptm_strbuf out = {0};
    check(ptm_store_collect(store, T0 + 60 * SECOND, &snap), "collect");
    check(ptm_encode(&snap, (enum ptm_output_format)ptm_parse_output_format(argv[1]), &eo, &out),
          "encode");
    if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        fail("write");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(store);
    return 0;
}
