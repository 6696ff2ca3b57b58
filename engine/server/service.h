// SPDX-License-Identifier: Apache-2.0
//
// The running service (`profiletometrics serve`): receivers hand request
// bodies to ptm_service_submit, which decodes and validates them at once (so
// the receiver can answer with the right status: accepted, partly rejected,
// bad request, or overloaded) and queues the decoded model for the one
// conversion worker, which owns the engine (rules and metric store). Every
// flush interval the store is collected and each exporter gets the snapshot.
// SIGHUP builds a new engine beside the old and swaps when it loaded
// cleanly; SIGTERM stops the receivers, drains the queue and flushes.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "model/model.h"
#include "server/telemetry.h"

struct ptm_service;

enum ptm_submit_status {
    PTM_SUBMIT_OK = 0,     // everything accepted
    PTM_SUBMIT_PARTIAL,    // some profiles rejected (OTLP partial success), the rest accepted
    PTM_SUBMIT_BAD_REQUEST, // nothing usable: malformed, unsupported (HTTP 400 / INVALID_ARGUMENT)
    PTM_SUBMIT_TOO_LARGE,  // past a size limit (HTTP 413 / RESOURCE_EXHAUSTED without retry)
    PTM_SUBMIT_OVERLOADED, // the queue is full: retry after retry_after_seconds (429 / RESOURCE_EXHAUSTED)
    PTM_SUBMIT_UNAVAILABLE, // shutting down (503 / UNAVAILABLE)
};

/// A request body as a receiver got it, after transport framing (gRPC
/// message framing, HTTP chunking) and before any content decoding: gzip is
/// recognised and inflated by the decoder, within the service's limit.
struct ptm_submit {
    const void *data;
    size_t len;
    enum ptm_format format;  // PTM_FORMAT_AUTO, or what the content type says
    const char *receiver;    // the receiver's id, e.g. "otlp", for logs
    /// Resource attributes to give profiles that have none of their own (the
    /// Pyroscope push: service.name and the labels of `name=`).
    const char *const *resource_keys;
    const char *const *resource_values;
    size_t resource_count;
    /// The window for profiles that carry no time (pprof pushed with
    /// from/until), in ns since the epoch; 0 = none.
    uint64_t time_unix_nano, duration_nano;
    /// CLOCK_MONOTONIC ns when the request arrived (its headers); 0 = now.
    /// A request that finds every model in use may wait for one until a
    /// second after it arrived: time it spent queued in a receiver counts.
    uint64_t received_ns;
    /// The most a gzip body may inflate to: the receiver's own request size
    /// limit, as the Collector applies it after decompression; 0 = the
    /// service's default (64 MiB).
    size_t max_decompressed;
};

struct ptm_submit_result {
    enum ptm_submit_status status;
    uint32_t accepted_profiles;
    uint32_t rejected_profiles;
    uint64_t accepted_samples;
    uint32_t retry_after_seconds; // OVERLOADED
    char message[1024];           // PARTIAL, BAD_REQUEST, TOO_LARGE: what was wrong
};

/// Decode, validate and queue one request. Thread-safe. When every model of
/// the pool is in use (the queue is full), waits for the conversion to free
/// one until a second after the request arrived (req->received_ns), then
/// answers OVERLOADED: a client sending as fast as it is answered is slowed
/// to the conversion's pace rather than refused at once, and a request that
/// already waited in a receiver's queue is refused at once.
void ptm_service_submit(struct ptm_service *svc, const struct ptm_submit *req, struct ptm_submit_result *out);

/// The service's self-telemetry (for receivers' counters and the :8888
/// endpoint).
struct ptm_telemetry *ptm_service_telemetry(struct ptm_service *svc);

/// True while the service is up and its pipelines run (health endpoint).
bool ptm_service_healthy(struct ptm_service *svc);

/// Start the service the configuration describes: the profiletometrics
/// connector its pipelines use, the receivers feeding it, the exporters it
/// feeds, the self-telemetry endpoint. Takes ownership of config (also on
/// failure). NULL with err naming what could not start.
struct ptm_service *ptm_service_start(struct ptm_config *config, struct ptm_error *err);

/// Apply a new configuration (SIGHUP): build the new rules and the changed
/// exporters beside the running ones and swap them in between requests;
/// exporters whose settings did not change keep running, and the series of
/// metrics the new rules define the same way carry on (reload.c). A bad
/// new configuration is refused (err says why) and the old one keeps
/// running. Receivers keep their listeners; changing them needs a restart
/// (logged). Takes ownership of config.
int ptm_service_reload(struct ptm_service *svc, struct ptm_config *config, struct ptm_error *err);

/// Stop (SIGTERM): close the receivers, convert what is queued, flush once
/// more, and give the exporters until deadline (CLOCK_MONOTONIC ns) to send.
void ptm_service_stop(struct ptm_service *svc, uint64_t deadline);

/// Give up on the deadline of a stop under way in another thread (a second
/// SIGTERM): exporters stop sending now; what they still hold in memory is
/// dropped (counted and logged), what is on disk stays. Thread-safe.
void ptm_service_abort(struct ptm_service *svc);

/// Free a stopped service. NULL is a no-op.
void ptm_service_destroy(struct ptm_service *svc);

/// CLOCK_MONOTONIC now, in ns.
uint64_t ptm_monotonic_ns(void);
