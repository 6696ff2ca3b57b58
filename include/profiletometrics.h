// SPDX-License-Identifier: Apache-2.0
//
// profiletometrics: turn profiles (OTLP profiles, pprof) into OpenTelemetry
// metrics. This header is the whole public C API; everything in it is
// prefixed `ptm_`/`PTM_`, and the shared library exports nothing else.
//
// A converter holds one configuration's rules (the built-in CPU, memory,
// off-CPU and per-function rules it enables, and your rule files) and the
// metric series they fill. Feed it profile bytes; collect the metrics as
// OTLP protobuf, OTLP JSON or Prometheus text, or walk the data points.
//
//     struct ptm_error err;
//     struct ptm_options opts = {0};
//     struct ptm_converter *c = ptm_converter_create(&opts, &err);
//     if (c == NULL) { fprintf(stderr, "%s\n", err.message); ... }
//     ptm_converter_feed_file(c, "cpu.pprof", NULL, NULL, &err);
//     char *text; size_t len;
//     ptm_converter_collect(c, PTM_OUTPUT_PROMETHEUS, NULL, &text, &len, &err);
//     fwrite(text, 1, len, stdout);
//     ptm_free(text);
//     ptm_converter_destroy(c);
//
// Threads: every function may be called from any thread. Converters are
// independent of each other, so threads that each use their own converter
// run in parallel. One converter may also be shared: each call on it holds
// the converter's lock, so calls from several threads run one after the
// other, never interleaved. The callbacks (log, walk) run inside such a
// call, on the calling thread, and must not call back into the same
// converter (that call fails with PTM_EINVAL).
//
// Errors: functions return 0 or a negative enum ptm_err; constructors return
// NULL. Either way the struct ptm_error passed in (may be NULL) says what went
// wrong and where. docs/embedding.md has a complete example.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTM_VERSION_MAJOR 0
#define PTM_VERSION_MINOR 1
#define PTM_VERSION_PATCH 0
#define PTM_VERSION_STRING "0.1.0"
/// The version as one comparable number: MAJOR * 10000 + MINOR * 100 + PATCH.
#define PTM_VERSION_NUMBER (PTM_VERSION_MAJOR * 10000 + PTM_VERSION_MINOR * 100 + PTM_VERSION_PATCH)

/// Error codes. Functions return 0 on success or one of these (negative).
enum ptm_err {
    PTM_OK = 0,
    PTM_ENOMEM = -1,       ///< out of memory
    PTM_EINVAL = -2,       ///< bad argument from the caller
    PTM_EFORMAT = -3,      ///< malformed input data
    PTM_EUNSUPPORTED = -4, ///< well-formed input of a version or kind not supported
    PTM_ELIMIT = -5,       ///< a configured size, depth or count limit was exceeded
    PTM_EIO = -6,          ///< reading or writing a file failed
    PTM_ECONFIG = -7,      ///< bad configuration
    PTM_ERULE = -8,        ///< a rule script failed to load or run
};

/// What went wrong, with a message a user can act on: what, and where
/// (file, message, field, index, line). Caller-owned storage.
struct ptm_error {
    int code;           ///< one of enum ptm_err
    char message[1024]; ///< NUL-terminated, never empty when code != 0
};

/// A static English description of an error code. Never NULL.
const char *ptm_strerror(int code);

/// The library's version as "MAJOR.MINOR.PATCH" (the library actually
/// loaded, which may differ from PTM_VERSION_STRING of the header a program
/// was built with). Static, never NULL.
const char *ptm_version(void);

/// The library's version as PTM_VERSION_NUMBER computes it.
int ptm_version_number(void);

// ---------------------------------------------------------------------------
// Formats and metric vocabulary
// ---------------------------------------------------------------------------

/// Input formats. Gzip-compressed input is recognised and inflated in any
/// case.
enum ptm_format {
    PTM_FORMAT_AUTO = 0,    ///< detect from the bytes
    PTM_FORMAT_OTLP,        ///< OTLP ExportProfilesServiceRequest / ProfilesData protobuf
    PTM_FORMAT_OTLP_JSON,   ///< the protobuf JSON mapping: one request, or JSON Lines
    PTM_FORMAT_OTLP_FRAMED, ///< the Collector file exporter: 4-byte big-endian length + message, repeated
    PTM_FORMAT_PPROF,       ///< perftools.profiles.Profile
};

/// Output formats.
enum ptm_output_format {
    PTM_OUTPUT_OTLP = 0,   ///< OTLP ExportMetricsServiceRequest protobuf
    PTM_OUTPUT_OTLP_JSON,  ///< the same as OTLP JSON, one request per line
    PTM_OUTPUT_PROMETHEUS, ///< Prometheus text exposition format 0.0.4
    PTM_OUTPUT_TABLE,      ///< a table for people
};

enum ptm_metric_kind {
    PTM_METRIC_COUNTER = 0, ///< a monotonic Sum
    PTM_METRIC_GAUGE,       ///< the last value set
    PTM_METRIC_HISTOGRAM,   ///< explicit-bucket histogram of observations
};

enum ptm_temporality {
    PTM_TEMPORALITY_CUMULATIVE = 0,
    PTM_TEMPORALITY_DELTA,
};

/// Kinds of attribute values.
enum ptm_label_type {
    PTM_LABEL_STRING = 0,
    PTM_LABEL_INT,
    PTM_LABEL_DOUBLE,
    PTM_LABEL_BOOL,
};

// ---------------------------------------------------------------------------
// Converters
// ---------------------------------------------------------------------------

struct ptm_converter;

/// Receives a line of text: configuration warnings ("warning: FILE:LINE:
/// ..."), configuration errors, and what rules log or why one failed on a
/// profile ("RULE: message"). message is borrowed for the call.
typedef void (*ptm_log_fn)(void *ctx, const char *message);

/// How to build a converter. Zero-initialise, then set what you need; every
/// pointer is borrowed for the ptm_converter_create call only.
struct ptm_options {
    /// A Collector-style YAML configuration file (its
    /// connectors.profiletometrics block is read); NULL: none.
    const char *config_file;
    /// The YAML text itself instead of a file (at most one of the two);
    /// relative rule paths in it resolve against the working directory.
    const char *config_yaml;
    /// Which profiletometrics connector of the configuration, e.g.
    /// "profiletometrics/fast"; NULL: the first. Without any configuration
    /// every default applies.
    const char *connector;
    /// More rule files (Lua), loaded after the configured ones.
    const char *const *rule_files;
    size_t rule_file_count;
    /// Load no built-in rule, only the rule files.
    bool no_builtin_rules;
    /// Load the runtime (scripts/) and built-in rules (rules/) from this
    /// directory instead of the copies compiled into the library; NULL:
    /// the compiled-in copies (for rule development).
    const char *scripts_dir;
    /// Where log lines go; NULL: standard error, prefixed "profiletometrics: ".
    ptm_log_fn log;
    void *log_ctx;
};

/// Create a converter: read the configuration, load and compile every rule.
/// opts may be NULL for every default. Returns NULL with err saying why (a
/// configuration error names FILE:LINE:COLUMN and the key; a rule error the
/// rule file and line). A configuration with several errors fails with
/// PTM_ECONFIG, err holding the first and how many more; every one of them
/// (and any PTM_ECONFIG error) is also logged, one line each. Free with
/// ptm_converter_destroy.
struct ptm_converter *ptm_converter_create(const struct ptm_options *opts, struct ptm_error *err);

/// Free the converter and everything it holds. NULL is a no-op. No other
/// call may be running on it or start on it.
void ptm_converter_destroy(struct ptm_converter *converter);

/// How to read one input; NULL for the defaults (zero).
struct ptm_feed_options {
    enum ptm_format format; ///< PTM_FORMAT_AUTO: detect
    int otlp_version;       ///< OTLP wire version: 0 detects; 8, 9, 10 or 11 force v1.8 .. v1.11
};

/// What one input gave.
struct ptm_feed_result {
    uint32_t profiles;          ///< profiles converted
    uint64_t samples;           ///< samples in them
    uint32_t rejected_profiles; ///< invalid profiles left out (see the return value)
    uint32_t rule_failures;     ///< (metric, profile) pairs whose rule failed; each was logged
};

/// Decode len bytes of profile data (borrowed for the call only) and run
/// every rule over every profile in it; the metric series add up across
/// calls. opts and result may be NULL.
///
/// Returns 0 when the whole input was read. PTM_EFORMAT, PTM_EUNSUPPORTED or
/// PTM_ELIMIT when it was malformed, of an unsupported version or too big:
/// err names the message, field and index; when only some profiles were bad
/// the others were still converted (result says how many of each).
/// PTM_ERULE or PTM_ENOMEM when the rule runtime itself failed. A rule that
/// fails on one profile is not an error of the call: it is logged and
/// counted in result->rule_failures, and the other rules go on.
int ptm_converter_feed(struct ptm_converter *converter, const void *data, size_t len,
                       const struct ptm_feed_options *opts, struct ptm_feed_result *result,
                       struct ptm_error *err);

/// ptm_converter_feed on the contents of the file at path. PTM_EIO when it
/// cannot be read.
int ptm_converter_feed_file(struct ptm_converter *converter, const char *path,
                            const struct ptm_feed_options *opts, struct ptm_feed_result *result,
                            struct ptm_error *err);

/// How to collect; NULL for the defaults (zero).
struct ptm_collect_options {
    /// The time of points whose profiles told none, in ns since the epoch;
    /// 0: the clock now.
    uint64_t now_unix_nano;
    /// Prometheus: put the resource attributes on every series as labels
    /// (the Collector's resource_to_telemetry_conversion); otherwise they go
    /// to a target_info series.
    bool resource_to_labels;
    /// Prometheus: no unit and _total suffixes (cpu_time, not
    /// cpu_time_seconds_total).
    bool no_name_suffixes;
};

/// Collect every series into one encoded buffer: *out gets a buffer the
/// caller owns and frees with ptm_free (NUL-terminated for the text formats;
/// the NUL is not counted in *out_len), *out_len its length. Series come
/// out in a stable order (resources, then metrics by name, then attributes).
///
/// Collecting is the flush: with cumulative temporality (the default) the
/// series keep counting and every collect shows the totals so far; with
/// delta temporality each collect returns what came since the previous one
/// and starts the next interval. Returns 0, PTM_EINVAL for an unknown
/// format, or PTM_ENOMEM (*out is then NULL).
int ptm_converter_collect(struct ptm_converter *converter, enum ptm_output_format format,
                          const struct ptm_collect_options *opts, char **out, size_t *out_len,
                          struct ptm_error *err);

/// Free a buffer the library returned. NULL is a no-op.
void ptm_free(void *ptr);

/// One attribute of a data point or of a resource.
struct ptm_label {
    const char *key; ///< NUL-terminated UTF-8
    enum ptm_label_type type;
    const char *string;  ///< PTM_LABEL_STRING: the value, NUL-terminated UTF-8; NULL otherwise
    int64_t int_value;   ///< PTM_LABEL_INT; PTM_LABEL_BOOL: 0 or 1
    double double_value; ///< PTM_LABEL_DOUBLE
};

/// One data point, as ptm_converter_walk hands it over. Every pointer in it
/// is borrowed: valid during the callback only; copy what you keep.
struct ptm_data_point {
    const char *metric;      ///< the metric's name, e.g. "cpu_time"
    const char *description; ///< "" when none
    const char *unit;        ///< UCUM, e.g. "s", "By"; "" when none
    enum ptm_metric_kind kind;
    enum ptm_temporality temporality; ///< of counters and histograms
    bool integer;                     ///< the metric's points are integers (value is whole)
    const struct ptm_label *resource; ///< the resource's attributes, sorted by key
    size_t resource_count;
    const char *schema_url;             ///< the resource's; "" when none
    const struct ptm_label *attributes; ///< the point's attributes, sorted by key
    size_t attribute_count;
    uint64_t start_unix_nano; ///< start of the interval (counters, histograms)
    uint64_t time_unix_nano;
    double value; ///< counters and gauges
    // histograms
    uint64_t count;
    double sum, min, max;
    const double *bounds; ///< bound_count explicit bounds
    size_t bound_count;
    const uint64_t *bucket_counts; ///< bound_count + 1 counts
};

/// Called once per data point; return 0 to go on, anything else to stop
/// the walk (ptm_converter_walk then returns that value).
typedef int (*ptm_data_point_fn)(void *ctx, const struct ptm_data_point *point);

/// Collect as ptm_converter_collect does (the same flush), and hand every
/// data point to fn in the same order instead of encoding them. Returns 0,
/// what fn returned to stop, or a negative enum ptm_err.
int ptm_converter_walk(struct ptm_converter *converter, const struct ptm_collect_options *opts,
                       ptm_data_point_fn fn, void *ctx, struct ptm_error *err);

/// Start over: forget every series (counters start again from zero) and
/// reload the rules from the same options. On failure the converter is as
/// before and err says why.
int ptm_converter_reset(struct ptm_converter *converter, struct ptm_error *err);

#ifdef __cplusplus
}
#endif
