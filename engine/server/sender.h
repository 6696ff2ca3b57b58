// SPDX-License-Identifier: Apache-2.0
//
// What the two network exporters (otlphttp, otlp gRPC) share: a bounded
// queue of encoded requests, consumer threads that send them through a
// transport, retry with exponential backoff (or the server's own delay),
// an optional on-disk queue, and the exporter's counters.
//
// Policies, fixed here for both exporters:
// - Full queue: the OLDEST waiting request is dropped to make room for the
//   new one (counted in ptm_exporter_dropped_points_total and logged). With
//   cumulative temporality a newer request carries everything an older one
//   did, so keeping the newest loses least; with delta both choices lose
//   the same amount. Requests being sent are not in the queue and are never
//   dropped for room.
// - sending_queue.enabled false: there is no backlog, but export() still
//   never waits on the network: one consumer, room for one waiting request.
// - Retry: only what the transport calls retryable. The wait is the
//   backoff interval randomised by +-randomization_factor, or the server's
//   delay (Retry-After, gRPC RetryInfo) when that is longer; the interval
//   grows by multiplier up to max_interval. A request is dropped (counted
//   as send failed) when retry_on_failure is disabled or the next attempt
//   would start later than max_elapsed_time after the first (0 = never).
// - On-disk queue: a request is on disk before export() returns, deleted
//   as soon as the backend took it or refused it for good (before it is
//   counted or logged). A SIGKILL loses nothing; a request the backend
//   accepted just before the kill, before its file was deleted, is sent
//   again at the next start (at-least-once: the only possible duplicate).
//   At start the files found there are sent first, oldest first. When the
//   disk cannot take a request (ENOSPC, ...) the error is logged and
//   counted (ptm_exporter_storage_errors_total) and the request is queued
//   in memory only.
// - Reload: the new exporter opens the same directory beside the old one
//   and loads nothing; when the old one is destroyed it hands the stored
//   requests it did not send to the new one, which sends them first.
// - shutdown(deadline): no new requests; consumers keep sending until the
//   queue is empty or the deadline, when the transfers in progress are
//   aborted (curl checks about once a second) and retry waits end. What
//   was only in memory is then lost (counted as dropped); what is on disk
//   stays there for the next start or the next exporter.
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "server/telemetry.h"

// The exporter counters, all labelled exporter="<id>".
#define PTM_EXPORTER_SENT "ptm_exporter_sent_points_total"
#define PTM_EXPORTER_FAILED "ptm_exporter_send_failed_points_total"
#define PTM_EXPORTER_RETRIES "ptm_exporter_retries_total"
#define PTM_EXPORTER_DROPPED "ptm_exporter_dropped_points_total"
#define PTM_EXPORTER_QUEUE_LENGTH "ptm_exporter_queue_length"
#define PTM_EXPORTER_DURATION "ptm_exporter_request_duration_seconds"
#define PTM_EXPORTER_STORAGE_ERRORS "ptm_exporter_storage_errors_total"

/// Declare the exporter metrics (help texts) in t; NULL is a no-op.
void ptm_exporter_describe_telemetry(struct ptm_telemetry *t);

/// `exporter="<id>"` with the id escaped for a label value, into out.
void ptm_exporter_labels(char *out, size_t cap, const char *id);

/// Requests larger than this (before compression) are not sent: OTLP
/// servers refuse them with 413 anyway.
#define PTM_REQUEST_LIMIT (64u << 20)

/// Request flags: how the body is encoded.
enum {
    PTM_REQUEST_GZIP = 1, // the body is gzip'd
    PTM_REQUEST_JSON = 2, // OTLP JSON rather than protobuf
};

/// One encoded request.
struct ptm_request {
    uint8_t *body; // malloc'd, owned by the request
    size_t len;
    uint64_t points; // data points in it
    uint32_t flags;  // PTM_REQUEST_*
    uint64_t disk_seq; // its file in the on-disk queue; 0 = memory only
};

enum ptm_send_outcome {
    PTM_SEND_OK,        // accepted (maybe partly: rejected_points)
    PTM_SEND_RETRY,     // a failure worth another attempt
    PTM_SEND_PERMANENT, // refused for good: drop it
};

/// What one attempt gave.
struct ptm_send_result {
    enum ptm_send_outcome outcome;
    uint64_t retry_after;    // RETRY: the delay the server asked for, ns; 0 = none
    int64_t rejected_points; // OK: a partial success's rejected data points
    char message[512];       // what happened, for the log ("HTTP 503: ...")
};

/// How requests reach the backend. Each consumer thread opens its own
/// connection state, so send never shares one between threads.
struct ptm_sender_transport {
    void *ctx; // borrowed; outlives the sender
    /// Per-consumer state (e.g. a curl handle); NULL when out of memory.
    void *(*open)(void *ctx);
    /// One attempt. cancel becomes true when shutdown gives up: the send
    /// should then end as soon as it can (its result is ignored).
    void (*send)(void *ctx, void *conn, const struct ptm_request *req, const atomic_bool *cancel,
                 struct ptm_send_result *out);
    void (*close)(void *ctx, void *conn);
};

struct ptm_sender_options {
    const char *id;                     // the exporter id, for logs and labels; copied
    const struct ptm_retry_config *retry; // copied
    const struct ptm_queue_config *queue; // enabled, num_consumers, queue_size; copied
    /// The on-disk queue's directory (the file_storage directory plus the
    /// exporter id), or NULL for a memory-only queue. Requests found there
    /// are loaded first.
    const char *storage_directory;
    struct ptm_telemetry *telemetry; // may be NULL; borrowed
    /// The clock (CLOCK_MONOTONIC ns) retries measure elapsed time with,
    /// and the random source ([0, 1)) of the jitter; NULL for the real ones.
    /// Tests inject both.
    uint64_t (*now)(void);
    double (*random)(void);
};

struct ptm_sender;

/// Start the consumer threads (after loading the on-disk queue, if any).
/// NULL with err when the storage directory cannot be opened or threads or
/// memory run out.
struct ptm_sender *ptm_sender_create(const struct ptm_sender_options *opts,
                                     const struct ptm_sender_transport *transport, struct ptm_error *err);

/// Queue a request without waiting on the network (the disk write of the
/// on-disk queue happens here). req->body becomes the sender's in every
/// case. Returns 0, or PTM_EINVAL after shutdown (the request is dropped
/// and counted).
int ptm_sender_submit(struct ptm_sender *s, struct ptm_request *req);

/// Stop taking requests; send until the queue is empty or deadline
/// (CLOCK_MONOTONIC ns), then abort and stop the consumers.
void ptm_sender_shutdown(struct ptm_sender *s, uint64_t deadline);

/// Make the shutdown deadline "now", for a shutdown under way (another
/// thread waits in ptm_sender_shutdown) or to come: what is still queued is
/// given up as at the deadline. Thread-safe.
void ptm_sender_abort(struct ptm_sender *s);

/// Shut down at once if still running, and free. NULL is a no-op.
void ptm_sender_destroy(struct ptm_sender *s);

/// Encode snapshot as an ExportMetricsServiceRequest (OTLP protobuf, or
/// OTLP JSON with PTM_REQUEST_JSON), gzip it with PTM_REQUEST_GZIP, and
/// queue it. An empty snapshot is not sent. Returns 0, or a negative
/// ptm_err when the data had to be dropped (counted and logged): out of
/// memory, larger than PTM_REQUEST_LIMIT, or after shutdown.
struct ptm_snapshot;
int ptm_sender_export(struct ptm_sender *s, const struct ptm_snapshot *snapshot, uint32_t flags);

/// The on-disk queue's directory for an OTLP exporter: the directory of
/// the file_storage extension sending_queue.storage names, plus the
/// exporter id. *out (malloc'd) is NULL without storage, or when the queue
/// is disabled (a warning). Returns 0, or PTM_ECONFIG / PTM_ENOMEM with err.
int ptm_exporter_storage_directory(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                   char **out, struct ptm_error *err);

/// gzip data into a new malloc'd buffer. Returns 0 or PTM_ENOMEM.
int ptm_gzip(const void *data, size_t len, uint8_t **out, size_t *out_len);

/// Requests waiting in the queue (not those being sent).
size_t ptm_sender_queue_length(struct ptm_sender *s);

// ---- retry timing (pure, for tests) ----

#define PTM_BACKOFF_STOP UINT64_MAX

struct ptm_backoff {
    struct ptm_retry_config cfg;
    uint64_t started;  // the first attempt, ns
    double interval;   // the next interval before randomisation, ns
};

/// Begin a request's retries; now is when the first attempt started.
void ptm_backoff_start(struct ptm_backoff *b, const struct ptm_retry_config *cfg, uint64_t now);

/// The wait before the next attempt, in ns: the current interval scaled by
/// a factor in [1 - randomization_factor, 1 + randomization_factor] chosen
/// by random01 in [0, 1), or server_delay if that is longer; the interval
/// then grows by multiplier up to max_interval. PTM_BACKOFF_STOP when
/// retries are disabled or the next attempt would start after
/// max_elapsed_time (0 = no limit) since the first.
uint64_t ptm_backoff_next(struct ptm_backoff *b, uint64_t now, uint64_t server_delay, double random01);

/// Parse a Retry-After header value: delay-seconds ("120") or an HTTP-date
/// (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
/// and asctime forms), relative to now_unix (seconds since the epoch). A
/// date in the past is a delay of 0. Returns 0 with *delay_ns, or -1 when
/// the value is neither.
int ptm_parse_retry_after(const char *value, int64_t now_unix, uint64_t *delay_ns);
