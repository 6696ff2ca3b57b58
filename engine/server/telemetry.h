// SPDX-License-Identifier: Apache-2.0
//
// The service's metrics about itself, served in the Prometheus text format on
// service.telemetry.metrics.address (default :8888): what came in, what was
// refused, rule errors, series per metric, queue lengths, exports, request
// latencies. Counters, gauges and latency histograms, keyed by name and a
// preformatted label set; thread-safe (a mutex: every update is per request
// or per export, never per sample).
#pragma once

#include "util/strbuf.h"

struct ptm_telemetry;

enum ptm_telemetry_type {
    PTM_TELEMETRY_COUNTER,
    PTM_TELEMETRY_GAUGE,
    PTM_TELEMETRY_HISTOGRAM, // seconds, buckets 1 ms .. 10 s
};

/// NULL when out of memory.
struct ptm_telemetry *ptm_telemetry_create(void);

/// NULL is a no-op.
void ptm_telemetry_destroy(struct ptm_telemetry *t);

/// Declare a metric's type and help text (once, before use; a name used
/// without it is a counter without help).
void ptm_telemetry_describe(struct ptm_telemetry *t, const char *name, enum ptm_telemetry_type type,
                            const char *help);

/// Counter: add v. labels is the text between the braces, e.g.
/// `receiver="otlp/grpc",code="200"`, or NULL for none. Copied.
void ptm_telemetry_add(struct ptm_telemetry *t, const char *name, const char *labels, double v);

/// Gauge: set to v.
void ptm_telemetry_set(struct ptm_telemetry *t, const char *name, const char *labels, double v);

/// Histogram: record one observation (seconds).
void ptm_telemetry_observe(struct ptm_telemetry *t, const char *name, const char *labels, double seconds);

/// The value of a counter or gauge (0 when never set): for tests and logs.
double ptm_telemetry_get(struct ptm_telemetry *t, const char *name, const char *labels);

/// Append everything in the Prometheus text exposition format, sorted.
int ptm_telemetry_render(struct ptm_telemetry *t, struct ptm_strbuf *out);
