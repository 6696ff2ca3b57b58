// SPDX-License-Identifier: Apache-2.0
//
// Encoders of a metric snapshot: OTLP protobuf (ExportMetricsServiceRequest),
// OTLP JSON (the protobuf JSON mapping, one request per line, as the
// Collector's file exporter writes it), Prometheus text exposition, and a
// table for people. All append to a strbuf; all output is valid UTF-8 (the
// store repaired every string on the way in).
#pragma once

#include <stdbool.h>

#include "metrics/store.h"
#include "util/strbuf.h"

/// The instrumentation scope every encoder writes.
#define PTM_SCOPE_NAME "profiletometrics"

// enum ptm_output_format is public: include/profiletometrics.h.

struct ptm_encode_options {
    /// Prometheus: copy resource attributes onto every series as labels (as
    /// the Collector's resource_to_telemetry_conversion does); otherwise they
    /// go to a target_info series only.
    bool resource_to_labels;
    /// Prometheus: leave out the unit and _total suffixes that OTel's
    /// Prometheus naming adds (cpu_time in s -> cpu_time_seconds_total).
    bool no_name_suffixes;
};

/// Encode snapshot in format, appending to out. opts may be NULL. Returns 0,
/// or PTM_ENOMEM.
int ptm_encode(const struct ptm_snapshot *snapshot, enum ptm_output_format format,
               const struct ptm_encode_options *opts, struct ptm_strbuf *out);

int ptm_encode_otlp(const struct ptm_snapshot *snapshot, struct ptm_strbuf *out);
int ptm_encode_otlp_json(const struct ptm_snapshot *snapshot, struct ptm_strbuf *out);
int ptm_encode_prometheus(const struct ptm_snapshot *snapshot, const struct ptm_encode_options *opts,
                          struct ptm_strbuf *out);
int ptm_encode_table(const struct ptm_snapshot *snapshot, struct ptm_strbuf *out);

/// Parse a format name: otlp, otlp-json, prometheus, table; -1 if unknown.
int ptm_parse_output_format(const char *name);
