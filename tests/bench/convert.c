// SPDX-License-Identifier: Apache-2.0
//
// Convert benchmark: the whole path a request takes — decode, the default
// rules (cpu, memory, off_cpu, function), collect and OTLP protobuf encode —
// timed phase by phase. One engine, as a server keeps it; the first request
// (fresh heap, Lua traces not yet compiled) is reported apart from the
// steady state (the median of N more). Aggregation per sample is the time
// of the rules phase divided by the samples of the request. Each phase is
// timed on the wall clock and in CPU time of the process: on a machine
// busy with other work the wall clock counts the time others ran too, the
// CPU time much less so.
//
// With several files the requests go round robin over them into the one
// engine (the store then holds the series of all, as a server's does; the
// figures per sample are the first file's), and --no-collect leaves the
// collect and encode out of each request (a server does them once per
// flush interval): the rules phase is then what the service's worker does
// per request.
//
// --config takes the first profiletometrics connector of a Collector-style
// configuration instead of the defaults (other filters and attributes).
//
//   convert [--repeat N] [--no-collect] [--config FILE] FILE...
//
// The last line is for scripts: "RESULT key=value ...".
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api/engine.h"
#include "bench.h"
#include "config/config.h"
#include "decode/decode.h"
#include "encode/encode.h"
#include "util/strbuf.h"

struct phases {
    double decode, rules, encode, total;                 // wall clock
    double cpu_decode, cpu_rules, cpu_encode, cpu_total; // CPU time of the process
    size_t output_bytes;
};

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const struct ptm_error *err)
{
    fprintf(stderr, "convert bench: %s: %s\n", what, err->message);
    exit(1);
}

// One request through every phase.
static struct phases run_once(struct ptm_engine *e, struct ptm_model *m, const void *data, size_t len,
                              struct ptm_strbuf *out, bool collect)
{
    struct phases ph = {0};
    struct ptm_error err;
    unsigned failed = 0;
    double t0 = now_seconds(), c0 = cpu_seconds();
    ptm_model_reset(m);
    if (ptm_decode(m, data, len, NULL, &err) != 0)
        die("decode", &err);
    double t1 = now_seconds(), c1 = cpu_seconds();
    if (ptm_engine_convert(e, m, &failed, &err) != 0 || failed != 0)
        die("rules", &err);
    double t2 = now_seconds(), c2 = cpu_seconds();
    ph.decode = t1 - t0, ph.cpu_decode = c1 - c0;
    ph.rules = t2 - t1, ph.cpu_rules = c2 - c1;
    ph.total = t2 - t0, ph.cpu_total = c2 - c0;
    if (!collect)
        return ph;
    struct ptm_snapshot snap;
    if (ptm_store_collect(ptm_engine_store(e), 1, &snap) != 0) {
        fprintf(stderr, "convert bench: collect failed\n");
        exit(1);
    }
    ptm_strbuf_clear(out);
    if (ptm_encode(&snap, PTM_OUTPUT_OTLP, NULL, out) != 0) {
        fprintf(stderr, "convert bench: encode failed\n");
        exit(1);
    }
    ptm_snapshot_free(&snap);
    double t3 = now_seconds(), c3 = cpu_seconds();
    ph.encode = t3 - t2, ph.cpu_encode = c3 - c2;
    ph.total = t3 - t0, ph.cpu_total = c3 - c0;
    ph.output_bytes = out->len;
    return ph;
}

static int by_total(const void *a, const void *b)
{
    const struct phases *x = a, *y = b;
    return (x->total > y->total) - (x->total < y->total);
}

static int by_cpu_total(const void *a, const void *b)
{
    const struct phases *x = a, *y = b;
    return (x->cpu_total > y->cpu_total) - (x->cpu_total < y->cpu_total);
}

int main(int argc, char **argv)
{
    int repeat = 10;
    bool collect = true;
    const char *paths[16], *config_path = NULL;
    size_t n_files = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-collect") == 0)
            collect = false;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else if (n_files < 16)
            paths[n_files++] = argv[i];
    }
    if (n_files == 0 || repeat < 0) {
        fprintf(stderr, "usage: convert [--repeat N] [--no-collect] [--config FILE] FILE... (at most 16)\n");
        return 2;
    }
    const char *path = paths[0];
    void *datas[16];
    size_t lens[16];
    for (size_t i = 0; i < n_files; i++)
        datas[i] = read_file(paths[i], &lens[i]);
    void *data = datas[0];
    size_t len = lens[0];
    struct ptm_error err;
    struct ptm_config *config = NULL;
    if (config_path != NULL && (config = ptm_config_load_file(config_path, &err)) == NULL)
        die("configuration", &err);
    double t0 = now_seconds();
    struct ptm_engine_options eo = {0};
    if (config != NULL && config->connector_count > 0)
        eo.connector = &config->connectors[0];
    struct ptm_engine *e = ptm_engine_create(&eo, &err);
    if (e == NULL)
        die("engine", &err);
    double setup = now_seconds() - t0;
    struct ptm_model *m = ptm_model_create();
    struct ptm_strbuf out = {0};
    struct phases first = run_once(e, m, data, len, &out, collect);
    uint32_t samples = 0;
    for (uint32_t i = 0; i < m->profiles.len; i++)
        samples += m->profiles.data[i].samples.len;
    struct phases *runs = calloc((size_t)repeat + 1, sizeof *runs);
    for (int i = 0; i < repeat; i++) {
        size_t f = (size_t)(i + 1) % n_files;
        runs[i] = run_once(e, m, datas[f], lens[f], &out, collect);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = (double)ru.ru_maxrss * 1024.0 / (double)len;
    printf("input %s: %zu bytes, %u samples; engine set-up %.1f ms\n", path, len, samples, setup * 1e3);
    if (n_files > 1)
        printf("(and %zu more files, round robin)\n", n_files - 1);
    printf("first request: %.1f ms (decode %.1f, rules %.1f, collect+encode %.1f), %.2f M samples/s\n",
           first.total * 1e3, first.decode * 1e3, first.rules * 1e3, first.encode * 1e3,
           samples / first.total / 1e6);
    struct phases med = first, cpu = first;
    if (repeat > 0) {
        qsort(runs, (size_t)repeat, sizeof *runs, by_cpu_total);
        cpu = runs[repeat / 2];
        qsort(runs, (size_t)repeat, sizeof *runs, by_total);
        med = runs[repeat / 2];
        printf("steady (median of %d): %.1f ms (decode %.1f, rules %.1f, collect+encode %.1f), "
               "%.2f M samples/s, rules %.1f ns/sample\n",
               repeat, med.total * 1e3, med.decode * 1e3, med.rules * 1e3, med.encode * 1e3,
               samples / med.total / 1e6, med.rules * 1e9 / samples);
        printf("steady CPU time (median of %d): %.1f ms (decode %.1f, rules %.1f, collect+encode %.1f), "
               "%.2f M samples/s, rules %.1f ns/sample\n",
               repeat, cpu.cpu_total * 1e3, cpu.cpu_decode * 1e3, cpu.cpu_rules * 1e3, cpu.cpu_encode * 1e3,
               samples / cpu.cpu_total / 1e6, cpu.cpu_rules * 1e9 / samples);
    }
    printf("output %zu bytes of OTLP protobuf; peak RSS %.1f MiB = %.2fx input\n", med.output_bytes,
           (double)ru.ru_maxrss / 1024.0, rss);
    printf("RESULT samples=%u first_ms=%.3f steady_ms=%.3f steady_msps=%.4f rules_ns=%.2f rss_x=%.3f "
           "cpu_steady_msps=%.4f cpu_rules_ns=%.2f\n",
           samples, first.total * 1e3, med.total * 1e3, samples / med.total / 1e6, med.rules * 1e9 / samples, rss,
           samples / cpu.cpu_total / 1e6, cpu.cpu_rules * 1e9 / samples);
    free(runs);
    ptm_strbuf_free(&out);
    ptm_model_destroy(m);
    ptm_engine_destroy(e);
    ptm_config_destroy(config);
    for (size_t i = 0; i < n_files; i++)
        free(datas[i]);
    return 0;
}
