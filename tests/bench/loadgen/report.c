// SPDX-License-Identifier: Apache-2.0
//
// loadgen's report: the records of every client merged into counts by
// outcome and status, the rates and latency percentiles over the measured
// window, the server's RSS and CPU per thread, and the RESULT line.
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"


struct report {
    uint64_t by_outcome[LOAD_OUTCOMES];
    uint64_t ok_samples, ok_profiles, ok_payload, ok_wire;
    // the measured window
    double from, to;
    uint64_t w_ok, w_samples, w_payload, w_wire, w_throttled, w_other;
    double *latencies; // of the OK requests ending in the window, sorted
    size_t n_latencies;
};

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// The p-th percentile (nearest rank) of sorted values; 0 when there are none.
static double percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(p / 100 * (double)n);
    return v[rank == 0 ? 0 : rank - 1];
}

static const char *const outcome_names[LOAD_OUTCOMES] = {"ok", "throttled", "unavailable", "refused", "error"};

static void tally(struct report *rep, const struct load_shared *s, const struct load_client *clients,
                  size_t n_clients)
{
    size_t total = 0;
    for (size_t i = 0; i < n_clients; i++)
        total += clients[i].n_records;
    rep->latencies = malloc((total ? total : 1) * sizeof *rep->latencies);
    if (rep->latencies == NULL)
        load_die("out of memory");
    for (size_t i = 0; i < n_clients; i++) {
        for (size_t k = 0; k < clients[i].n_records; k++) {
            const struct load_record *r = &clients[i].records[k];
            const struct load_input *in = &s->inputs[r->input];
            rep->by_outcome[r->outcome]++;
            bool in_window = r->end >= rep->from && r->end <= rep->to;
            if (r->outcome == LOAD_OK) {
                rep->ok_samples += in->samples;
                rep->ok_profiles += in->profiles;
                rep->ok_payload += in->payload_len;
                rep->ok_wire += in->body_len;
            }
            if (!in_window)
                continue;
            if (r->outcome == LOAD_OK) {
                rep->w_ok++;
                rep->w_samples += in->samples;
                rep->w_payload += in->payload_len;
                rep->w_wire += in->body_len;
                rep->latencies[rep->n_latencies++] = r->end - r->start;
            } else if (r->outcome == LOAD_THROTTLED) {
                rep->w_throttled++;
            } else {
                rep->w_other++;
            }
        }
    }
    qsort(rep->latencies, rep->n_latencies, sizeof *rep->latencies, compare_double);
}

// "200=N 429=M" (HTTP) or "OK=N RESOURCE_EXHAUSTED=M" (gRPC) into out.
static void status_counts(char *out, size_t size, bool grpc, const struct load_client *clients, size_t n_clients)
{
    static const char *const grpc_names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    uint64_t counts[1000] = {0}, errors = 0;
    for (size_t i = 0; i < n_clients; i++)
        for (size_t k = 0; k < clients[i].n_records; k++) {
            const struct load_record *r = &clients[i].records[k];
            if (r->outcome == LOAD_ERROR)
                errors++;
            else
                counts[r->status < 1000 ? r->status : 999]++;
        }
    size_t n = 0;
    out[0] = '\0';
    for (unsigned code = 0; code < 1000 && n < size; code++) {
        if (counts[code] == 0)
            continue;
        if (grpc && code < sizeof grpc_names / sizeof grpc_names[0])
            n += (size_t)snprintf(out + n, size - n, "%s%s=%" PRIu64, n ? " " : "", grpc_names[code], counts[code]);
        else
            n += (size_t)snprintf(out + n, size - n, "%s%u=%" PRIu64, n ? " " : "", code, counts[code]);
    }
    if (errors > 0 && n < size)
        snprintf(out + n, size - n, "%serror=%" PRIu64, n ? " " : "", errors);
}

// The sample nearest to time t.
static const struct load_sample *sample_at(const struct load_monitor *mon, double t)
{
    const struct load_sample *best = NULL;
    for (size_t i = 0; i < mon->n; i++)
        if (best == NULL || fabs(mon->samples[i].t - t) < fabs(best->t - t))
            best = &mon->samples[i];
    return best;
}

struct rss_summary {
    uint64_t before, start, middle, end, max;
    double cores; // server CPU seconds per second over the window
};

static bool summarise_rss(const struct load_monitor *mon, const struct report *rep, struct rss_summary *out)
{
    if (mon->n < 2)
        return false;
    memset(out, 0, sizeof *out);
    out->before = mon->samples[0].rss_kib;
    const struct load_sample *start = sample_at(mon, rep->from), *end = sample_at(mon, rep->to);
    out->start = start->rss_kib;
    out->middle = sample_at(mon, (rep->from + rep->to) / 2)->rss_kib;
    out->end = end->rss_kib;
    for (size_t i = 0; i < mon->n; i++)
        if (mon->samples[i].rss_kib > out->max)
            out->max = mon->samples[i].rss_kib;
    if (end->t > start->t)
        out->cores = (end->cpu - start->cpu) / (end->t - start->t);
    return true;
}

// CPU seconds per thread name between the two snapshots, largest first.
struct thread_group {
    char name[16];
    double cpu;
};

static size_t group_threads(const struct load_monitor *mon, struct thread_group *out, size_t max)
{
    size_t n = 0;
    const struct load_threads *a = &mon->threads_start, *b = &mon->threads_end;
    for (size_t i = 0; i < b->n; i++) {
        double before = 0; // a thread started since counts from 0
        for (size_t k = 0; k < a->n; k++)
            if (a->items[k].tid == b->items[i].tid)
                before = a->items[k].cpu;
        size_t g = 0;
        while (g < n && strcmp(out[g].name, b->items[i].name) != 0)
            g++;
        if (g == n) {
            if (n == max)
                continue;
            memcpy(out[n].name, b->items[i].name, sizeof out[n].name);
            out[n++].cpu = 0;
        }
        out[g].cpu += b->items[i].cpu - before;
    }
    for (size_t i = 1; i < n; i++) // insertion sort, largest first
        for (size_t k = i; k > 0 && out[k].cpu > out[k - 1].cpu; k--) {
            struct thread_group t = out[k];
            out[k] = out[k - 1], out[k - 1] = t;
        }
    return n;
}

// "where the server's CPU went": per thread name, cores and ms per OK request.
static void print_threads(const struct load_monitor *mon, uint64_t ok, double *server_ms, double *worker_ms)
{
    struct thread_group groups[32];
    double span = mon->threads_end.t - mon->threads_start.t;
    *server_ms = *worker_ms = 0;
    if (mon->threads_end.n == 0 || span <= 0 || ok == 0)
        return;
    size_t n = group_threads(mon, groups, 32);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += groups[i].cpu;
    printf("  server CPU by thread (%.1f s): %.2f cores, %.2f ms per OK request:", span, total / span,
           total * 1e3 / (double)ok);
    for (size_t i = 0; i < n && groups[i].cpu > 0.005 * span; i++)
        printf("%s %s %.2f ms", i ? "," : "", groups[i].name, groups[i].cpu * 1e3 / (double)ok);
    printf("\n");
    *server_ms = total * 1e3 / (double)ok;
    for (size_t i = 0; i < n; i++)
        if (strcmp(groups[i].name, "ptm-worker") == 0)
            *worker_ms = groups[i].cpu * 1e3 / (double)ok;
}

void load_write_rss_log(const char *path, const struct load_monitor *mon)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        load_die("%s: %s", path, strerror(errno));
    fprintf(f, "# seconds rss_kib cpu_seconds\n");
    for (size_t i = 0; i < mon->n; i++)
        fprintf(f, "%.3f %" PRIu64 " %.3f\n", mon->samples[i].t, mon->samples[i].rss_kib, mon->samples[i].cpu);
    if (fclose(f) != 0)
        load_die("%s: %s", path, strerror(errno));
}

// Everything the report says, worked out once.
struct figures {
    struct report rep;
    double window; // seconds measured
    uint64_t sent, connects;
    double p50, p90, p99, max; // latency of the OK requests, seconds
    struct rss_summary rss;
    bool have_rss;
};

static void print_summary(const struct load_shared *s, const struct load_client *clients, size_t n_clients,
                          const struct figures *f, double wall)
{
    const struct load_options *o = s->opts;
    char streams[48] = "", statuses[512];
    if (o->grpc_target && o->streams > 1)
        snprintf(streams, sizeof streams, " x %u streams", o->streams);
    printf("target: %s %s, %u connection(s)%s, %s%s\n", o->grpc_target ? "OTLP/gRPC" : "OTLP/HTTP",
           o->grpc_target ? o->grpc_target : o->http_url, o->connections, streams, o->gzip ? "gzip" : "uncompressed",
           o->rate > 0 ? ", fixed rate" : ", closed loop");
    for (size_t i = 0; i < s->n_inputs; i++)
        printf("input %zu: %s, %zu bytes (%zu on the wire), %u profiles, %" PRIu64 " samples\n", i,
               s->inputs[i].path, s->inputs[i].payload_len, s->inputs[i].body_len, s->inputs[i].profiles,
               s->inputs[i].samples);
    status_counts(statuses, sizeof statuses, o->grpc_target != NULL, clients, n_clients);
    printf("requests: %" PRIu64 " sent in %.1f s over %" PRIu64 " connection(s) opened; %s\n", f->sent, wall,
           f->connects, statuses);
    printf("outcomes:");
    for (int k = 0; k < LOAD_OUTCOMES; k++)
        printf(" %s=%" PRIu64, outcome_names[k], f->rep.by_outcome[k]);
    printf("\naccepted: %" PRIu64 " profiles, %" PRIu64 " samples, %.1f MB of payload\n", f->rep.ok_profiles,
           f->rep.ok_samples, (double)f->rep.ok_payload / 1e6);
    for (size_t i = 0; i < n_clients; i++)
        if (clients[i].error[0] != '\0')
            printf("client %zu: first error: %s\n", i, clients[i].error);
}

static void print_window(const struct figures *f, double client_cores)
{
    const struct report *rep = &f->rep;
    double w = f->window;
    printf("measured %.1f s .. %.1f s (%.1f s):\n", rep->from, rep->to, w);
    printf("  %.1f requests/s OK, %.1f MB/s of OTLP payload (%.1f MB/s on the wire), %.2f M samples/s\n",
           (double)rep->w_ok / w, (double)rep->w_payload / 1e6 / w, (double)rep->w_wire / 1e6 / w,
           (double)rep->w_samples / 1e6 / w);
    printf("  throttled (429 / RESOURCE_EXHAUSTED) %.1f/s, other failures %.1f/s\n", (double)rep->w_throttled / w,
           (double)rep->w_other / w);
    printf("  latency of OK requests: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", f->p50 * 1e3,
           f->p90 * 1e3, f->p99 * 1e3, f->max * 1e3);
    printf("  loadgen CPU: %.2f cores\n", client_cores);
}

// The server's RSS, and its CPU per thread over the OK requests answered
// while the thread snapshots were apart.
static void print_server(const struct load_client *clients, size_t n_clients, const struct load_monitor *mon,
                         const struct figures *f, double *server_ms, double *worker_ms)
{
    uint64_t ok = 0;
    for (size_t i = 0; i < n_clients; i++)
        for (size_t k = 0; k < clients[i].n_records; k++) {
            const struct load_record *r = &clients[i].records[k];
            ok += r->outcome == LOAD_OK && r->end >= mon->threads_start.t && r->end <= mon->threads_end.t;
        }
    print_threads(mon, ok, server_ms, worker_ms);
    const struct rss_summary *rss = &f->rss;
    if (f->have_rss)
        printf("server pid %d: RSS MiB before %.1f, start %.1f, middle %.1f, end %.1f, max %.1f (VmHWM %.1f); "
               "CPU %.2f cores\n",
               (int)mon->pid, (double)rss->before / 1024, (double)rss->start / 1024, (double)rss->middle / 1024,
               (double)rss->end / 1024, (double)rss->max / 1024, (double)mon->hwm_kib / 1024, rss->cores);
    else if (mon->pid != 0)
        printf("server pid %d: %s\n", (int)mon->pid, mon->gone ? "went away during the run" : "too few samples");
}

static void print_result(const struct figures *f, const struct load_monitor *mon, double client_cores,
                         double server_ms, double worker_ms)
{
    const struct report *rep = &f->rep;
    double w = f->window;
    printf("RESULT requests=%" PRIu64, f->sent);
    for (int k = 0; k < LOAD_OUTCOMES; k++)
        printf(" %s=%" PRIu64, outcome_names[k], rep->by_outcome[k]);
    printf(" accepted_profiles=%" PRIu64 " accepted_samples=%" PRIu64 " accepted_bytes=%" PRIu64
           " connects=%" PRIu64 " window_s=%.3f rps=%.2f mbps=%.2f wire_mbps=%.2f msps=%.4f"
           " p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f client_cores=%.3f",
           rep->ok_profiles, rep->ok_samples, rep->ok_payload, f->connects, w, (double)rep->w_ok / w,
           (double)rep->w_payload / 1e6 / w, (double)rep->w_wire / 1e6 / w, (double)rep->w_samples / 1e6 / w,
           f->p50 * 1e3, f->p90 * 1e3, f->p99 * 1e3, f->max * 1e3, client_cores);
    if (f->have_rss)
        printf(" rss_before_kib=%" PRIu64 " rss_start_kib=%" PRIu64 " rss_middle_kib=%" PRIu64
               " rss_end_kib=%" PRIu64 " rss_max_kib=%" PRIu64 " hwm_kib=%" PRIu64 " server_cores=%.3f",
               f->rss.before, f->rss.start, f->rss.middle, f->rss.end, f->rss.max, mon->hwm_kib, f->rss.cores);
    if (server_ms > 0)
        printf(" server_ms_per_request=%.3f worker_ms_per_request=%.3f", server_ms, worker_ms);
    printf("\n");
}

void load_report(const struct load_shared *s, const struct load_client *clients, size_t n_clients,
                 const struct load_monitor *mon, double wall, double client_cpu)
{
    const struct load_options *o = s->opts;
    struct figures f = {.rep = {.from = 0, .to = o->requests ? wall : s->stop_at}};
    if (o->warmup < f.rep.to)
        f.rep.from = o->warmup;
    tally(&f.rep, s, clients, n_clients);
    f.window = f.rep.to - f.rep.from > 0 ? f.rep.to - f.rep.from : 1e-9;
    for (size_t i = 0; i < n_clients; i++)
        f.connects += clients[i].connects;
    for (int k = 0; k < LOAD_OUTCOMES; k++)
        f.sent += f.rep.by_outcome[k];
    f.p50 = percentile(f.rep.latencies, f.rep.n_latencies, 50);
    f.p90 = percentile(f.rep.latencies, f.rep.n_latencies, 90);
    f.p99 = percentile(f.rep.latencies, f.rep.n_latencies, 99);
    f.max = percentile(f.rep.latencies, f.rep.n_latencies, 100);
    f.have_rss = summarise_rss(mon, &f.rep, &f.rss);
    double client_cores = client_cpu / wall, server_ms = 0, worker_ms = 0;
    print_summary(s, clients, n_clients, &f, wall);
    print_window(&f, client_cores);
    print_server(clients, n_clients, mon, &f, &server_ms, &worker_ms);
    print_result(&f, mon, client_cores, server_ms, worker_ms);
    free(f.rep.latencies);
}
