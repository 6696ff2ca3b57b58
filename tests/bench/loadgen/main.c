// SPDX-License-Identifier: Apache-2.0
//
// loadgen: sends OTLP profile requests to a running `profiletometrics serve`
// (or any OTLP profiles receiver) and says how fast they were taken.
//
//   loadgen --http URL | --grpc HOST:PORT [options] FILE...
//
// Each FILE is one ExportProfilesServiceRequest (OTLP protobuf; e.g. written
// by `build/bench/gen otlp --samples 36000`, about 1 MB). Every file is
// decoded once by the engine first: a file it cannot read is refused, and
// its profiles and samples are what the tool counts as sent. Several client
// threads, one keep-alive connection each (OTLP/HTTP over libcurl; OTLP/gRPC
// over nghttp2 in cleartext with prior knowledge, several streams per
// connection with --streams), send the files round robin (request n sends
// file n mod the number of files) for --duration seconds or exactly
// --requests requests. With --rate the requests are due at fixed times (open loop) and
// a request's latency counts from when it was due, so a server that falls
// behind shows in the latencies rather than hiding in a slower send rate.
//
// Reported: requests by outcome and status; over the run after --warmup,
// requests/s, payload MB/s (10^6 bytes of uncompressed OTLP per second of
// requests answered OK), samples/s and latency p50/p90/p99/max of the OK
// requests; with --pid, the server's RSS (VmRSS sampled every
// --sample-interval: before the load, at the end of the warm-up, in the
// middle, at the end, the largest, and VmHWM) and the CPU it used. The last
// line is for scripts: "RESULT key=value ...".
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "../bench.h"
#include "decode/decode.h"
#include "load.h"

void load_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

// ---- what the client threads share ----

double load_now(const struct load_shared *s)
{
    return now_seconds() - s->t0;
}

void load_sleep_until(const struct load_shared *s, double t)
{
    for (;;) {
        double left = t - load_now(s);
        if (left <= 0 || atomic_load(&s->abort))
            return;
        if (left > 0.1)
            left = 0.1; // wake up now and then to notice an abort
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

bool load_claim(struct load_client *c, uint64_t *number)
{
    struct load_shared *s = c->shared;
    if (atomic_load(&s->abort))
        return false;
    if (s->opts->requests == 0 && load_now(s) >= s->stop_at)
        return false;
    uint64_t n = atomic_fetch_add(&s->claimed, 1);
    if (s->opts->requests != 0 && n >= s->opts->requests)
        return false;
    if (s->opts->rate > 0 && load_due(s, n) >= s->stop_at)
        return false;
    *number = n;
    return true;
}

uint32_t load_input_for(const struct load_client *c, uint64_t n)
{
    return (uint32_t)(n % c->shared->n_inputs);
}

double load_due(const struct load_shared *s, uint64_t n)
{
    return s->opts->rate > 0 ? (double)n / s->opts->rate : 0;
}

void load_grow(void **items, size_t len, size_t *cap, size_t size)
{
    if (len < *cap)
        return;
    size_t n = *cap ? 2 * *cap : 1024;
    void *p = realloc(*items, n * size);
    if (p == NULL)
        load_die("out of memory");
    *items = p;
    *cap = n;
}

void load_record(struct load_client *c, const struct load_record *r)
{
    load_grow((void **)&c->records, c->n_records, &c->cap_records, sizeof *c->records);
    c->records[c->n_records++] = *r;
    atomic_fetch_add(&c->shared->finished, 1);
    if (r->outcome == LOAD_OK)
        atomic_fetch_add(&c->shared->ok_bytes, c->shared->inputs[r->input].payload_len);
}

void load_note_error(struct load_client *c, const char *fmt, ...)
{
    if (c->error[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
}

// ---- options ----

static const char usage_text[] =
    "usage: loadgen --http URL | --grpc HOST:PORT [options] FILE...\n"
    "  FILE                    an OTLP ExportProfilesServiceRequest (protobuf); several are sent round robin\n"
    "  --http URL              OTLP/HTTP, e.g. http://127.0.0.1:4318/v1development/profiles\n"
    "  --grpc HOST:PORT        OTLP/gRPC in cleartext (HTTP/2 with prior knowledge)\n"
    "  -c, --connections N     concurrent keep-alive connections (default 4)\n"
    "  --streams N             gRPC: requests in flight per connection (default 1)\n"
    "  -d, --duration SECS     how long to send (default 10)\n"
    "  -n, --requests N        send exactly N requests instead\n"
    "  --rate R                requests/s in all, due at fixed times (default: as fast as answered)\n"
    "  --warmup SECS           leave the first SECS out of rates and latencies (default 0)\n"
    "  --gzip                  send the bodies gzip-compressed\n"
    "  --honour-retry-after    wait as long as a 429/503 Retry-After (gRPC RetryInfo) asks\n"
    "  --timeout SECS          how long one request may take (default 30)\n"
    "  --pid PID               the server's process: sample its RSS and CPU\n"
    "  --sample-interval SECS  between RSS samples (default 1)\n"
    "  --rss-log FILE          write every sample as \"seconds rss_kib cpu_seconds\"\n"
    "  --progress SECS         a progress line on stderr every SECS (default 0: none)\n";

static double parse_seconds(const char *opt, const char *s, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= min) || v > 1e7)
        load_die("%s: expected a number of seconds >= %g, not \"%s\"", opt, min, s);
    return v;
}

static uint64_t parse_count(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        load_die("%s: expected a whole number from %" PRIu64 " to %" PRIu64 ", not \"%s\"", opt, min, max, s);
    return v;
}

static int parse_options(int argc, char **argv, struct load_options *o)
{
    enum { O_HTTP = 256, O_GRPC, O_STREAMS, O_RATE, O_WARMUP, O_GZIP, O_RETRY, O_TIMEOUT, O_PID,
           O_INTERVAL, O_RSSLOG, O_PROGRESS };
    static const struct option longs[] = {
        {"http", required_argument, NULL, O_HTTP},
        {"grpc", required_argument, NULL, O_GRPC},
        {"connections", required_argument, NULL, 'c'},
        {"streams", required_argument, NULL, O_STREAMS},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"rate", required_argument, NULL, O_RATE},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"gzip", no_argument, NULL, O_GZIP},
        {"honour-retry-after", no_argument, NULL, O_RETRY},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"pid", required_argument, NULL, O_PID},
        {"sample-interval", required_argument, NULL, O_INTERVAL},
        {"rss-log", required_argument, NULL, O_RSSLOG},
        {"progress", required_argument, NULL, O_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct load_options){.connections = 4, .streams = 1, .duration = 10, .timeout = 30,
                               .sample_interval = 1};
    int c;
    while ((c = getopt_long(argc, argv, "c:d:n:h", longs, NULL)) != -1) {
        switch (c) {
        case O_HTTP: o->http_url = optarg; break;
        case O_GRPC: o->grpc_target = optarg; break;
        case 'c': o->connections = (unsigned)parse_count("--connections", optarg, 1, 1000); break;
        case O_STREAMS: o->streams = (unsigned)parse_count("--streams", optarg, 1, 100); break;
        case 'd': o->duration = parse_seconds("--duration", optarg, 0.001); break;
        case 'n': o->requests = parse_count("--requests", optarg, 1, UINT32_MAX); break;
        case O_RATE: o->rate = parse_seconds("--rate", optarg, 0.001); break;
        case O_WARMUP: o->warmup = parse_seconds("--warmup", optarg, 0); break;
        case O_GZIP: o->gzip = true; break;
        case O_RETRY: o->honour_retry_after = true; break;
        case O_TIMEOUT: o->timeout = parse_seconds("--timeout", optarg, 0.001); break;
        case O_PID: o->server_pid = (pid_t)parse_count("--pid", optarg, 1, INT32_MAX); break;
        case O_INTERVAL: o->sample_interval = parse_seconds("--sample-interval", optarg, 0.01); break;
        case O_RSSLOG: o->rss_log = optarg; break;
        case O_PROGRESS: o->progress = parse_seconds("--progress", optarg, 0); break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: fputs(usage_text, stderr); exit(2);
        }
    }
    if ((o->http_url == NULL) == (o->grpc_target == NULL) || optind >= argc) {
        fputs(usage_text, stderr);
        exit(2);
    }
    if (o->warmup >= o->duration && o->requests == 0)
        load_die("--warmup (%g s) leaves nothing of --duration (%g s) to measure", o->warmup, o->duration);
    return optind;
}

// ---- inputs ----

static void gzip_input(struct load_input *in)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        load_die("%s: deflateInit2 failed", in->path);
    size_t cap = deflateBound(&z, in->payload_len);
    in->body = malloc(cap);
    if (in->body == NULL)
        load_die("out of memory");
    z.next_in = in->payload;
    z.avail_in = (uInt)in->payload_len;
    z.next_out = in->body;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        load_die("%s: deflate failed", in->path);
    in->body_len = cap - z.avail_out;
    deflateEnd(&z);
}

// Read, check and prepare one file: the engine decodes it as the server
// will, which also counts its profiles and samples.
static void load_file(struct load_input *in, const char *path, const struct load_options *o,
                      struct ptm_model *m)
{
    in->path = path;
    in->payload = read_file(path, &in->payload_len);
    struct ptm_error err;
    struct ptm_decode_options dopts = {.format = PTM_FORMAT_OTLP};
    ptm_model_reset(m);
    if (ptm_decode(m, in->payload, in->payload_len, &dopts, &err) != 0)
        load_die("%s: not a valid OTLP profiles request: %s", path, err.message);
    if (ptm_is_gzip(in->payload, in->payload_len))
        load_die("%s: gzip-compressed; give the uncompressed request (and --gzip to send it compressed)", path);
    in->profiles = m->profiles.len;
    for (uint32_t i = 0; i < m->profiles.len; i++)
        in->samples += m->profiles.data[i].samples.len;
    if (o->gzip) {
        gzip_input(in);
    } else {
        in->body = in->payload;
        in->body_len = in->payload_len;
    }
    if (o->grpc_target != NULL) {
        if (in->body_len > UINT32_MAX)
            load_die("%s: too large for one gRPC message", path);
        in->grpc_frame_len = 5 + in->body_len;
        in->grpc_frame = malloc(in->grpc_frame_len);
        if (in->grpc_frame == NULL)
            load_die("out of memory");
        uint32_t n = (uint32_t)in->body_len;
        in->grpc_frame[0] = o->gzip ? 1 : 0; // the compressed flag
        in->grpc_frame[1] = (uint8_t)(n >> 24);
        in->grpc_frame[2] = (uint8_t)(n >> 16);
        in->grpc_frame[3] = (uint8_t)(n >> 8);
        in->grpc_frame[4] = (uint8_t)n;
        memcpy(in->grpc_frame + 5, in->body, in->body_len);
    }
}

static void free_input(struct load_input *in)
{
    if (in->body != in->payload)
        free(in->body);
    free(in->payload);
    free(in->grpc_frame);
}

// ---- running ----

static double cpu_seconds_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv)
{
    struct load_options o;
    int first = parse_options(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    size_t n_inputs = (size_t)(argc - first);
    struct load_input *inputs = calloc(n_inputs, sizeof *inputs);
    struct ptm_model *m = ptm_model_create();
    if (inputs == NULL || m == NULL)
        load_die("out of memory");
    for (size_t i = 0; i < n_inputs; i++)
        load_file(&inputs[i], argv[first + (int)i], &o, m);
    ptm_model_destroy(m);
    if (o.http_url != NULL && load_http_init() != 0)
        load_die("curl_global_init failed");

    struct load_shared shared = {.opts = &o, .inputs = inputs, .n_inputs = n_inputs,
                                 .stop_at = o.requests ? INFINITY : o.duration};
    struct load_client *clients = calloc(o.connections, sizeof *clients);
    pthread_t *threads = calloc(o.connections, sizeof *threads);
    if (clients == NULL || threads == NULL)
        load_die("out of memory");
    struct load_monitor mon;
    double cpu0 = cpu_seconds_self();
    shared.t0 = now_seconds();
    load_monitor_start(&mon, &shared, o.server_pid);
    void *(*body)(void *) = o.http_url != NULL ? load_http_client : load_grpc_client;
    for (unsigned i = 0; i < o.connections; i++) {
        clients[i] = (struct load_client){.shared = &shared};
        if (pthread_create(&threads[i], NULL, body, &clients[i]) != 0)
            load_die("cannot start client thread %u", i);
    }
    for (unsigned i = 0; i < o.connections; i++)
        pthread_join(threads[i], NULL);
    double wall = load_now(&shared);
    double client_cpu = cpu_seconds_self() - cpu0;
    load_monitor_stop(&mon);

    load_report(&shared, clients, o.connections, &mon, wall, client_cpu);
    if (o.rss_log != NULL)
        load_write_rss_log(o.rss_log, &mon);
    for (unsigned i = 0; i < o.connections; i++)
        free(clients[i].records);
    for (size_t i = 0; i < n_inputs; i++)
        free_input(&inputs[i]);
    load_monitor_fini(&mon);
    free(clients);
    free(threads);
    free(inputs);
    if (o.http_url != NULL)
        load_http_fini();
    return 0;
}
