// SPDX-License-Identifier: Apache-2.0
//
// What the parts of the load generator (build/bench/loadgen, see main.c)
// share: the inputs it sends, the options, one record per request, and the
// client threads (OTLP/HTTP over libcurl, OTLP/gRPC over nghttp2) that fill
// them. Each client thread owns its records; main.c merges them once the
// threads are joined, so nothing but a few counters is shared while the
// load runs.
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// One request body, as read from a file and checked by the engine's
/// decoder (which also counts what the server should count).
struct load_input {
    const char *path;
    uint8_t *payload; ///< the OTLP protobuf request as read (uncompressed)
    size_t payload_len;
    uint8_t *body; ///< what goes on the wire: payload, or its gzip with --gzip
    size_t body_len;
    uint8_t *grpc_frame; ///< body behind the 5-byte gRPC message prefix (gRPC only)
    size_t grpc_frame_len;
    uint64_t samples;  ///< samples in its profiles, as ptm_decode reads them
    uint32_t profiles; ///< profiles in it
};

struct load_options {
    const char *http_url;    ///< OTLP/HTTP: the export URL; or NULL
    const char *grpc_target; ///< OTLP/gRPC: "host:port" (h2c, prior knowledge); or NULL
    unsigned connections;    ///< concurrent connections
    unsigned streams;        ///< gRPC: concurrent requests per connection
    double duration;         ///< seconds of load (when requests is 0)
    uint64_t requests;       ///< send exactly this many, then stop; 0: for duration
    double rate;             ///< requests/s over all connections; 0: as fast as answered
    double warmup;           ///< seconds at the start left out of the rates and latencies
    bool gzip;               ///< compress bodies (Content-Encoding / grpc-encoding gzip)
    bool honour_retry_after; ///< wait the server's Retry-After (or RetryInfo) before the next request
    double timeout;          ///< seconds one request may take
    pid_t server_pid;        ///< sample this process's RSS and CPU; 0: none
    double sample_interval;  ///< seconds between RSS samples
    double progress;         ///< seconds between progress lines on stderr; 0: none
    const char *rss_log;     ///< write "seconds rss_kib" lines here; or NULL
};

/// How a request ended.
enum load_outcome {
    LOAD_OK,          ///< 200 / gRPC OK
    LOAD_THROTTLED,   ///< 429 / RESOURCE_EXHAUSTED (the server is overloaded: retry later)
    LOAD_UNAVAILABLE, ///< 503 / UNAVAILABLE
    LOAD_REFUSED,     ///< another status: 4xx, 5xx, another gRPC code
    LOAD_ERROR,       ///< no answer: connection refused or reset, timeout
    LOAD_OUTCOMES
};

struct load_record {
    double start, end; ///< seconds since the load began; start is the scheduled time with --rate
    uint32_t input;    ///< index into the inputs
    uint16_t status;   ///< HTTP status, or the gRPC status code; 0 with LOAD_ERROR
    uint8_t outcome;   ///< enum load_outcome
};

/// The state all client threads share.
struct load_shared {
    const struct load_options *opts;
    const struct load_input *inputs;
    size_t n_inputs;
    double t0;                     ///< CLOCK_MONOTONIC seconds when the load began
    double stop_at;                ///< seconds since t0 after which no request starts
    atomic_uint_fast64_t claimed;  ///< requests handed out so far (the next one's number)
    atomic_uint_fast64_t finished; ///< requests answered or failed (progress)
    atomic_uint_fast64_t ok_bytes; ///< payload bytes of the requests answered OK (progress)
    atomic_bool abort;             ///< stop now (a fatal client error)
};

/// One client thread: its connection and what it recorded.
struct load_client {
    struct load_shared *shared;
    struct load_record *records;
    size_t n_records, cap_records;
    uint64_t connects;  ///< connections opened (keep-alive reuse shows as few)
    char error[256];    ///< the first transport error, for the report
};

/// Claim the next request: its number (which input, when it is due with
/// --rate). False when the load is over (duration passed, count reached).
bool load_claim(struct load_client *c, uint64_t *number);

/// The input request number n sends: round robin over the inputs, so N
/// requests send each input N / inputs times (the first N % inputs once
/// more), whichever clients send them.
uint32_t load_input_for(const struct load_client *c, uint64_t n);

/// When request n is due with --rate, in seconds since t0 (0 without).
double load_due(const struct load_shared *s, uint64_t n);

/// Make room for one more of *cap items of size bytes at *items holding
/// len (doubling; exits on out of memory).
void load_grow(void **items, size_t len, size_t *cap, size_t size);

/// Append a record (exits on out of memory).
void load_record(struct load_client *c, const struct load_record *r);

/// Remember a transport error message (the first one is kept).
void load_note_error(struct load_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/// Print "loadgen: MESSAGE" on stderr and exit 1.
void load_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/// Seconds since t0.
double load_now(const struct load_shared *s);

/// Sleep until t seconds since t0 (or until the load is aborted).
void load_sleep_until(const struct load_shared *s, double t);

/// The client threads' bodies (arg: struct load_client).
void *load_http_client(void *arg);
void *load_grpc_client(void *arg);

/// Global set-up for the HTTP client (curl_global_init), once, before threads.
int load_http_init(void);
void load_http_fini(void);

// ---- the server's resources, sampled while the load runs (monitor.c) ----

struct load_sample {
    double t;         ///< seconds since t0
    uint64_t rss_kib; ///< VmRSS
    double cpu;       ///< the process's user + system CPU seconds so far
};

/// The CPU time of each of a process's threads at one moment.
struct load_thread_cpu {
    int tid;
    char name[16]; ///< /proc/PID/task/TID/comm
    double cpu;    ///< user + system seconds
};

struct load_threads {
    double t; ///< seconds since t0
    struct load_thread_cpu *items;
    size_t n, cap;
};

/// A thread that samples the server's RSS and CPU every sample_interval
/// and prints a progress line every progress seconds.
struct load_monitor {
    struct load_shared *shared;
    pid_t pid; ///< 0: no sampling (progress lines only)
    struct load_sample *samples;
    size_t n, cap;
    uint64_t hwm_kib; ///< VmHWM at the end
    bool gone;        ///< the process went away during the run
    /// Per-thread CPU when the warm-up ended and at the end (valid when
    /// threads_end.t > threads_start.t).
    struct load_threads threads_start, threads_end;
    // the thread
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool done;
};

/// Print the report of a run on stdout (the RESULT line last).
void load_report(const struct load_shared *s, const struct load_client *clients, size_t n_clients,
                 const struct load_monitor *mon, double wall, double client_cpu);

/// Write every RSS sample to path as "seconds rss_kib cpu_seconds".
void load_write_rss_log(const char *path, const struct load_monitor *mon);

/// Take the first sample and start the thread. Exits on failure.
void load_monitor_start(struct load_monitor *mon, struct load_shared *shared, pid_t pid);

/// Take the last sample (and VmHWM) and join the thread.
void load_monitor_stop(struct load_monitor *mon);

/// Free the samples.
void load_monitor_fini(struct load_monitor *mon);
