// SPDX-License-Identifier: Apache-2.0
//
// exportdrive: drive one exporter the way the service's flush loop does,
// for the end-to-end exporter tests (tests/e2e/exporters). It loads a
// configuration (read into memory, parsed with ptm_config_load_string),
// creates the exporter named by --exporter, fills a metric store with known
// series, and calls export() --exports times, --interval-ms apart; then it
// waits --hold-ms, shuts the exporter down with a --shutdown-ms deadline
// and prints the exporter's telemetry (Prometheus text) on stdout.
//
//   exportdrive --config FILE --exporter ID [--exports N] [--interval-ms MS]
//               [--series K] [--base B] [--hold-ms MS] [--shutdown-ms MS]
//
// Export number e runs from B+1 to B+N (B lets a second run continue the
// numbering, so its requests differ from the first run's). With k = e - B
// (the exports of this run so far), resource {service.name: exportdrive},
// and series s = 0..K-1 (attribute series="s<s>"), export e holds:
//   exportdrive.counter   Sum, cumulative, double, unit "1": k*(s+1),
//                         start T0 + B s, time T0 + e s
//   exportdrive.gauge     Gauge, int, unit "By": e*1000 + s, time T0 + e s
//   exportdrive.latency   Histogram, unit "s", bounds [1, 10]: one
//                         observation of 0.5*(s+1) per export: count k,
//                         sum 0.5*(s+1)*k, buckets [k, 0, 0]
// where T0 = 1700000000 s. That is 3*K data points per export.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "metrics/store.h"
#include "server/component.h"
#include "server/service.h"
#include "server/telemetry.h"
#include "util/strbuf.h"

#define SECOND UINT64_C(1000000000)
#define T0 (UINT64_C(1700000000) * SECOND)

struct options {
    const char *config;
    const char *exporter;
    long exports, interval_ms, series, base, hold_ms, shutdown_ms;
};

struct metrics {
    int counter, gauge, latency;
    uint32_t resource;
    uint32_t *series; // attribute set per series
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "exportdrive: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static long number(const char *flag, const char *value)
{
    char *end;
    long v = value != NULL ? strtol(value, &end, 10) : -1;
    if (value == NULL || *end != '\0' || v < 0)
        die("expected a number after", flag);
    return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){NULL, NULL, 3, 0, 2, 0, 0, 10000};
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(f, "--config") == 0 && v != NULL)
            o->config = v;
        else if (strcmp(f, "--exporter") == 0 && v != NULL)
            o->exporter = v;
        else if (strcmp(f, "--exports") == 0)
            o->exports = number(f, v);
        else if (strcmp(f, "--interval-ms") == 0)
            o->interval_ms = number(f, v);
        else if (strcmp(f, "--series") == 0)
            o->series = number(f, v);
        else if (strcmp(f, "--base") == 0)
            o->base = number(f, v);
        else if (strcmp(f, "--hold-ms") == 0)
            o->hold_ms = number(f, v);
        else if (strcmp(f, "--shutdown-ms") == 0)
            o->shutdown_ms = number(f, v);
        else
            die("unknown option or missing value", f);
        i++;
    }
    if (o->config == NULL || o->exporter == NULL)
        die("usage: exportdrive --config FILE --exporter ID [--exports N] [--interval-ms MS] [--series K] "
            "[--base B] [--hold-ms MS] [--shutdown-ms MS]", NULL);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    struct ptm_strbuf sb = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ptm_strbuf_append(&sb, buf, n);
    fclose(f);
    if (sb.failed || sb.data == NULL)
        die("cannot read", path);
    return sb.data;
}

static uint32_t string_value(struct ptm_store *s, const char *v)
{
    return ptm_store_value(s, PTM_LABEL_STRING, ptm_store_string(s, v, strlen(v)), 0, 0);
}

static void define_metrics(struct ptm_store *s, long series, struct metrics *m)
{
    static const double bounds[] = {1, 10};
    struct ptm_metric_def counter = {"exportdrive.counter", "a counter", "1", PTM_METRIC_COUNTER,
                                     PTM_NUMBER_DOUBLE, NULL, 0, 0};
    struct ptm_metric_def gauge = {"exportdrive.gauge", "a gauge", "By", PTM_METRIC_GAUGE, PTM_NUMBER_INT, NULL, 0, 0};
    struct ptm_metric_def latency = {"exportdrive.latency", "a histogram", "s", PTM_METRIC_HISTOGRAM,
                                     PTM_NUMBER_DOUBLE, bounds, 2, 0};
    struct ptm_error err;
    if ((m->counter = ptm_store_define(s, &counter, &err)) < 0 || (m->gauge = ptm_store_define(s, &gauge, &err)) < 0 ||
        (m->latency = ptm_store_define(s, &latency, &err)) < 0)
        die("define", err.message);
    uint32_t service[2] = {ptm_store_string(s, "service.name", 12), string_value(s, "exportdrive")};
    m->resource = ptm_store_resource(s, ptm_store_attributes(s, service, 1), 0);
    m->series = calloc((size_t)series, sizeof *m->series);
    if (m->series == NULL)
        die("out of memory", NULL);
    for (long i = 0; i < series; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%ld", i);
        uint32_t pair[2] = {ptm_store_string(s, "series", 6), string_value(s, name)};
        m->series[i] = ptm_store_attributes(s, pair, 1);
    }
}

static void record(struct ptm_store *s, const struct metrics *m, long series, long e)
{
    struct ptm_window w = {T0 + (uint64_t)(e - 1) * SECOND, T0 + (uint64_t)e * SECOND};
    for (long i = 0; i < series; i++) {
        if (ptm_store_add(s, (uint32_t)m->counter, m->resource, m->series[i], (double)(i + 1), w) != 0 ||
            ptm_store_add(s, (uint32_t)m->gauge, m->resource, m->series[i], (double)(e * 1000 + i), w) != 0 ||
            ptm_store_observe(s, (uint32_t)m->latency, m->resource, m->series[i], 0.5 * (double)(i + 1), 1, w) != 0)
            die("recording a value failed", NULL);
    }
}

static struct ptm_exporter *create_exporter(const struct ptm_config *config, const char *id,
                                            struct ptm_telemetry *telemetry)
{
    const struct ptm_exporter_config *cfg = ptm_config_find_exporter(config, id);
    if (cfg == NULL)
        die("no such exporter in the configuration", id);
    struct ptm_error err = {0};
    struct ptm_exporter *e = NULL;
    switch (cfg->type) {
    case PTM_EXPORTER_OTLPHTTP: e = ptm_exporter_otlphttp_create(cfg, config, telemetry, &err); break;
    case PTM_EXPORTER_OTLP: e = ptm_exporter_otlp_grpc_create(cfg, config, telemetry, &err); break;
    case PTM_EXPORTER_DEBUG: e = ptm_exporter_debug_create(cfg, config, telemetry, &err); break;
    case PTM_EXPORTER_FILE: e = ptm_exporter_file_create(cfg, config, telemetry, &err); break;
    case PTM_EXPORTER_PROMETHEUS: die("exportdrive does not drive the prometheus exporter", id);
    }
    if (e == NULL)
        die("cannot create the exporter", err.message);
    return e;
}

static void run_exports(const struct options *o, struct ptm_store *store, const struct metrics *m,
                        struct ptm_exporter *exporter)
{
    for (long k = 1; k <= o->exports; k++) {
        long e = o->base + k;
        record(store, m, o->series, e);
        struct ptm_snapshot snap;
        if (ptm_store_collect(store, T0 + (uint64_t)e * SECOND, &snap) != 0)
            die("collect failed", NULL);
        int rc = exporter->ops->export(exporter, &snap);
        fprintf(stderr, "exportdrive: export %ld: %zu data points, export() returned %d\n", e, snap.len, rc);
        ptm_snapshot_free(&snap);
        if (k < o->exports)
            sleep_ms(o->interval_ms);
    }
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    char *text = read_file(o.config);
    struct ptm_error err = {0};
    struct ptm_config *config = ptm_config_load_string(text, o.config, &err);
    free(text);
    if (config == NULL)
        die("configuration", err.message);
    struct ptm_telemetry *telemetry = ptm_telemetry_create();
    struct ptm_store *store = ptm_store_create(NULL);
    if (telemetry == NULL || store == NULL)
        die("out of memory", NULL);
    struct metrics m;
    define_metrics(store, o.series, &m);
    struct ptm_exporter *exporter = create_exporter(config, o.exporter, telemetry);
    run_exports(&o, store, &m, exporter);
    sleep_ms(o.hold_ms);
    exporter->ops->shutdown(exporter, ptm_monotonic_ns() + (uint64_t)o.shutdown_ms * 1000000);
    exporter->ops->destroy(exporter);
    struct ptm_strbuf out = {0};
    ptm_telemetry_render(telemetry, &out);
    if (out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    ptm_strbuf_free(&out);
    free(m.series);
    ptm_store_destroy(store);
    ptm_telemetry_destroy(telemetry);
    ptm_config_destroy(config);
    return 0;
}
