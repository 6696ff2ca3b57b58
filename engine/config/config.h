// SPDX-License-Identifier: Apache-2.0
//
// The configuration: an OpenTelemetry Collector-style YAML file (receivers,
// connectors, exporters, processors, extensions, service) whose
// `connectors.profiletometrics` block takes the keys of the Go
// "profiletometrics" connector, plus this project's extensions. Loading
// checks every key and value and collects all problems of a file, each as
// "FILE:LINE:COLUMN: KEY.PATH: message"; warnings (a key read for
// compatibility, an unset environment variable) are collected the same way.
//
// The structs are plain data for the rest of the engine: strings are
// NUL-terminated and owned by the config, lists are pointer + count, enums
// say what a string key chose, durations are nanoseconds and sizes bytes.
// Every default is filled in, so a reader never has to know one.
// docs/configuration.md is the user's reference for every key.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diagnostics.h"
#include "metrics/store.h"
#include "profiletometrics.h"

struct ptm_arena;

/// Where something was written (1-based); 0/0 for a default.
struct ptm_config_pos {
    uint32_t line;
    uint32_t column;
};

/// A map of strings (headers, const_labels), in file order.
struct ptm_config_string_map {
    const char **keys;
    const char **values;
    size_t count;
};

// ---------------------------------------------------------------------------
// connectors.profiletometrics
// ---------------------------------------------------------------------------

/// metrics.cpu, metrics.memory, metrics.off_cpu.
struct ptm_metric_config {
    bool enabled;
    const char *metric_name; ///< never empty
    /// The unit the metric is reported in, as written but normalised to
    /// UCUM: cpu and off_cpu "s" (default), "ms", "us" or "ns"; memory "By"
    /// (default; "bytes" reads as "By"), "KiBy", "MiBy" or "GiBy".
    const char *unit;
    /// Multiply a value in the base unit (seconds, bytes) by this to get it
    /// in unit: 1 for s and By, 1e9 for ns, 1/1024 for KiBy.
    double unit_scale;
    const char *description; ///< never NULL
};

/// metrics.function.
struct ptm_function_metric_config {
    bool enabled;
    uint32_t top_n; ///< functions kept per metric and flush; 0 = no limit. Default 100
};

/// attributes[].type.
enum ptm_attribute_type {
    PTM_ATTRIBUTE_LITERAL,      ///< value verbatim (also when type is missing, as in Go)
    PTM_ATTRIBUTE_REGEX,        ///< value is a regular expression; see source
    PTM_ATTRIBUTE_STRING_TABLE, ///< the string at index of the profile's string table
};

/// One entry of attributes.
struct ptm_attribute_config {
    const char *key; ///< the data point attribute to set; never empty
    enum ptm_attribute_type type;
    /// literal: the value; regex: the pattern (validated with PCRE2, UTF
    /// mode); string_table: NULL (the index is in index).
    const char *value;
    /// regex only (extension): the attribute whose value the regex runs
    /// over; NULL = the regex runs over the profile's string table.
    const char *source;
    int64_t index; ///< string_table: the string index (>= 0); -1 otherwise
    struct ptm_config_pos pos; ///< the list item
};

/// process_filter, thread_filter, pattern_filter.
struct ptm_filter_config {
    bool enabled;
    /// The regular expressions, validated with PCRE2 (UTF mode): `patterns`
    /// when given, otherwise `pattern` (as the Go connector). Never empty
    /// when enabled.
    const char **patterns;
    struct ptm_config_pos *pattern_pos; ///< where each pattern was written
    size_t pattern_count;
    struct ptm_config_pos pos; ///< the filter's key; 0/0 when not written
};

// enum ptm_temporality (cumulative, delta) comes from metrics/store.h.

/// A rule file listed under rules.
struct ptm_rule_file {
    const char *path;    ///< resolved against the config file's directory
    const char *written; ///< as written in the file
    struct ptm_config_pos pos;
};

/// One `profiletometrics` or `profiletometrics/NAME` connector.
struct ptm_connector_config {
    const char *id; ///< "profiletometrics" or "profiletometrics/NAME"
    struct ptm_config_pos pos;
    struct {
        struct ptm_metric_config cpu;     ///< cpu_time, "s"
        struct ptm_metric_config memory;  ///< memory_allocation, "By"
        struct ptm_metric_config off_cpu; ///< off_cpu_time, "s" (extension)
        struct ptm_function_metric_config function;
    } metrics;
    struct ptm_attribute_config *attributes; ///< default: none (not Go's three, bug B3)
    size_t attribute_count;
    struct ptm_filter_config process_filter; ///< on process.executable.name
    struct ptm_filter_config thread_filter;  ///< on thread.name
    struct ptm_filter_config pattern_filter; ///< on any sample attribute value
    struct ptm_rule_file *rules;             ///< extension
    size_t rule_count;
    enum ptm_temporality temporality; ///< default cumulative
    uint32_t series_limit;            ///< per metric; default 2000
    uint64_t lua_memory_limit;        ///< bytes; default 64 MiB, at least 1 MiB
    uint64_t lua_time_limit;          ///< ns a rule file may load, a metric convert a profile; 1 s
    uint64_t flush_interval;          ///< ns; default 60 s
};

// ---------------------------------------------------------------------------
// receivers, processors, exporters, extensions
// ---------------------------------------------------------------------------

/// A TLS protocol version (configtls min_version, max_version).
enum ptm_tls_version {
    PTM_TLS_ANY = 0, ///< max_version not given: the newest the library has
    PTM_TLS_1_0 = 10,
    PTM_TLS_1_1 = 11,
    PTM_TLS_1_2 = 12,
    PTM_TLS_1_3 = 13,
};

/// Server TLS (receivers, the Collector's configtls): both files or
/// neither.
struct ptm_server_tls_config {
    bool enabled; ///< a tls block was given
    const char *cert_file;
    const char *key_file;
    /// Clients must present a certificate signed by one of these (PEM), or
    /// the handshake fails (mTLS). NULL: clients are not asked for one.
    const char *client_ca_file;
    enum ptm_tls_version min_version; ///< default 1.2
    enum ptm_tls_version max_version; ///< default PTM_TLS_ANY
};

/// A receiver's auth block: the id of the authenticator extension every
/// request must satisfy (checked at load: a bearertokenauth extension
/// listed in service.extensions).
struct ptm_server_auth_config {
    const char *authenticator; ///< NULL: no authentication (default)
    struct ptm_config_pos pos; ///< where authenticator was written
};

/// An HTTP receiver's server (protocols.http of otlp, and pyroscope): the
/// Collector's confighttp server keys, plus max_connections. Timeouts are
/// ns, 0 = none, as in the Collector.
struct ptm_http_server_config {
    const char *endpoint;           ///< default "0.0.0.0:4318" (otlp), "0.0.0.0:4040" (pyroscope)
    uint64_t max_request_body_size; ///< bytes; default 20 MiB
    struct ptm_server_tls_config tls;
    struct ptm_server_auth_config auth;
    uint32_t max_connections; ///< open at once; more are refused. Default 1000
    /// The whole request, from its first byte (a new connection: from the
    /// accept) to the last byte of its body; default 1 min (the Collector's
    /// is 0).
    uint64_t read_timeout;
    /// The request line and headers; 0 takes read_timeout. Default 1 min.
    uint64_t read_header_timeout;
    /// From the answer to its last byte sent; default 30 s.
    uint64_t write_timeout;
    /// A kept-alive connection waiting for its next request; 0 takes
    /// read_timeout. Default 1 min.
    uint64_t idle_timeout;
    bool keep_alives_enabled; ///< default true
};

/// The OTLP receiver's gRPC server (protocols.grpc): the Collector's
/// configgrpc server keys, plus limits of this server's own. Timeouts are
/// ns, 0 = none.
struct ptm_grpc_server_config {
    const char *endpoint;       ///< default "0.0.0.0:4317"
    uint64_t max_recv_msg_size; ///< bytes (key max_recv_msg_size_mib); default 4 MiB
    struct ptm_server_tls_config tls;
    struct ptm_server_auth_config auth;
    uint32_t max_connections;        ///< default 1000
    uint32_t max_concurrent_streams; ///< per connection; default 100
    /// keepalive.server_parameters.max_connection_idle: a connection with
    /// no call in progress for this long gets GOAWAY. Default 2 min.
    uint64_t max_connection_idle;
    /// The TLS handshake and the HTTP/2 preface of a new connection;
    /// default 5 s.
    uint64_t handshake_timeout;
    /// A call's headers and whole message, from its first frame; a stream
    /// that stalls mid-message is answered DEADLINE_EXCEEDED. Default 1 min.
    uint64_t read_timeout;
    /// Answers the client does not read: the connection is closed. Default
    /// 30 s.
    uint64_t write_timeout;
};

/// Client TLS (exporters).
struct ptm_client_tls_config {
    bool insecure;             ///< plaintext; default false (TLS)
    bool insecure_skip_verify; ///< TLS without checking the server certificate
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    const char *server_name_override;
};

struct ptm_otlp_receiver_config {
    bool grpc_enabled; ///< protocols.grpc was given
    struct ptm_grpc_server_config grpc;
    bool http_enabled; ///< protocols.http was given
    struct ptm_http_server_config http;
    /// protocols.http.profiles_url_path; NULL: /v1development/profiles and
    /// /v1/profiles.
    const char *profiles_url_path;
};

struct ptm_pyroscope_receiver_config {
    struct ptm_http_server_config http; ///< the pprof /ingest push endpoint
};

enum ptm_receiver_type {
    PTM_RECEIVER_OTLP,
    PTM_RECEIVER_PYROSCOPE,
};

struct ptm_receiver_config {
    const char *id; ///< "type" or "type/name"
    enum ptm_receiver_type type;
    struct ptm_config_pos pos;
    union {
        struct ptm_otlp_receiver_config otlp;
        struct ptm_pyroscope_receiver_config pyroscope;
    };
};

/// Fill s with the defaults of an HTTP receiver's server listening on
/// endpoint (a static string).
void ptm_http_server_config_defaults(struct ptm_http_server_config *s, const char *endpoint);

/// Fill s with the defaults of the OTLP gRPC server.
void ptm_grpc_server_config_defaults(struct ptm_grpc_server_config *s);

struct ptm_batch_processor_config {
    uint64_t timeout;             ///< ns; default 200 ms
    uint32_t send_batch_size;     ///< default 8192
    uint32_t send_batch_max_size; ///< 0 = no limit (default)
};

struct ptm_memory_limiter_config {
    uint64_t check_interval;         ///< ns; required, > 0
    uint64_t limit;                  ///< bytes (key limit_mib); 0 = use limit_percentage
    uint64_t spike_limit;            ///< bytes (key spike_limit_mib); default 20% of limit
    uint32_t limit_percentage;       ///< of total memory; 0 = use limit
    uint32_t spike_limit_percentage; ///< default 0
};

enum ptm_processor_type {
    PTM_PROCESSOR_BATCH,
    PTM_PROCESSOR_MEMORY_LIMITER,
};

struct ptm_processor_config {
    const char *id;
    enum ptm_processor_type type;
    struct ptm_config_pos pos;
    union {
        struct ptm_batch_processor_config batch;
        struct ptm_memory_limiter_config memory_limiter;
    };
};

enum ptm_debug_verbosity {
    PTM_VERBOSITY_BASIC,
    PTM_VERBOSITY_NORMAL,
    PTM_VERBOSITY_DETAILED,
};

struct ptm_debug_exporter_config {
    enum ptm_debug_verbosity verbosity; ///< default basic
    uint32_t sampling_initial;          ///< default 2
    uint32_t sampling_thereafter;       ///< default 1
};

enum ptm_compression {
    PTM_COMPRESSION_GZIP, ///< the Collector's default
    PTM_COMPRESSION_NONE,
};

struct ptm_retry_config {
    bool enabled;                ///< default true
    uint64_t initial_interval;   ///< ns; default 5 s
    double randomization_factor; ///< default 0.5
    double multiplier;           ///< default 1.5
    uint64_t max_interval;       ///< ns; default 30 s
    uint64_t max_elapsed_time;   ///< ns; default 300 s; 0 = retry for ever
};

struct ptm_queue_config {
    bool enabled;           ///< default true
    uint32_t num_consumers; ///< default 10
    uint32_t queue_size;    ///< requests; default 1000
    const char *storage;    ///< id of a file_storage extension (on-disk queue), or NULL
    struct ptm_config_pos storage_pos; ///< where storage was written
};

enum ptm_otlp_encoding {
    PTM_ENCODING_PROTO,
    PTM_ENCODING_JSON,
};

/// otlp / otlp_grpc (gRPC) and otlphttp.
struct ptm_otlp_exporter_config {
    /// gRPC: "host:port", or with http:// (plaintext) or https:// (TLS).
    /// HTTP: the base URL ("/v1/metrics" is appended); NULL when only
    /// metrics_endpoint is given.
    const char *endpoint;
    const char *metrics_endpoint; ///< otlphttp: the full URL; NULL = endpoint + "/v1/metrics"
    enum ptm_otlp_encoding encoding; ///< otlphttp only; default proto
    struct ptm_client_tls_config tls;
    struct ptm_config_string_map headers;
    enum ptm_compression compression; ///< default gzip
    uint64_t timeout;                 ///< ns; default 5 s (otlp), 30 s (otlphttp)
    struct ptm_retry_config retry_on_failure;
    struct ptm_queue_config sending_queue;
};

struct ptm_prometheus_exporter_config {
    const char *endpoint;  ///< default "0.0.0.0:8889"
    const char *namespace; ///< NULL: none
    struct ptm_config_string_map const_labels;
    bool resource_to_telemetry_conversion; ///< default false
    uint64_t metric_expiration;            ///< ns; default 5 min
    bool send_timestamps;                  ///< default false
    bool add_metric_suffixes;              ///< _seconds, _total, ...; default true
};

enum ptm_file_format {
    PTM_FILE_FORMAT_JSON,
    PTM_FILE_FORMAT_PROTO,
};

struct ptm_file_exporter_config {
    const char *path;            ///< required
    enum ptm_file_format format; ///< default json (one JSON object per line)
    bool append;                 ///< default false: truncate at start
};

enum ptm_exporter_type {
    PTM_EXPORTER_DEBUG,
    PTM_EXPORTER_OTLP, ///< also written otlp_grpc
    PTM_EXPORTER_OTLPHTTP,
    PTM_EXPORTER_PROMETHEUS,
    PTM_EXPORTER_FILE,
};

struct ptm_exporter_config {
    const char *id;
    enum ptm_exporter_type type;
    struct ptm_config_pos pos;
    union {
        struct ptm_debug_exporter_config debug;
        struct ptm_otlp_exporter_config otlp; ///< PTM_EXPORTER_OTLP and _OTLPHTTP
        struct ptm_prometheus_exporter_config prometheus;
        struct ptm_file_exporter_config file;
    };
};

enum ptm_extension_type {
    PTM_EXTENSION_HEALTH_CHECK,
    PTM_EXTENSION_FILE_STORAGE,
    PTM_EXTENSION_PPROF,
    PTM_EXTENSION_ZPAGES,
    PTM_EXTENSION_BEARERTOKENAUTH,
};

/// bearertokenauth: what a request must carry, as the Collector's contrib
/// extension takes it. The tokens are secrets: nothing prints them.
struct ptm_bearer_token_config {
    const char *header; ///< default "Authorization"
    const char *scheme; ///< default "Bearer"; "" = the header is the token alone
    const char **tokens; ///< token (one) or tokens (several), as written
    size_t token_count;
    /// A file of tokens, one a line (blank lines skipped), read at start,
    /// on reload and when it changes; NULL: none. When given, tokens are
    /// ignored (with a warning), as in the Collector.
    const char *filename;
};

struct ptm_extension_config {
    const char *id;
    enum ptm_extension_type type;
    struct ptm_config_pos pos;
    bool enabled; ///< listed in service.extensions
    /// health_check: default "0.0.0.0:13133"; pprof: "localhost:1777";
    /// zpages: "localhost:55679"; file_storage: NULL.
    const char *endpoint;
    const char *path;      ///< health_check: default "/"
    const char *directory; ///< file_storage: default "/var/lib/otelcol/file_storage"
    uint64_t timeout;      ///< file_storage: ns; default 1 s
    struct ptm_bearer_token_config bearer; ///< bearertokenauth
};

// ---------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------

enum ptm_signal {
    PTM_SIGNAL_PROFILES,
    PTM_SIGNAL_METRICS,
    PTM_SIGNAL_TRACES, ///< accepted and ignored (warning)
    PTM_SIGNAL_LOGS,   ///< accepted and ignored (warning)
};

/// service.pipelines.ID. Every id is defined (checked at load).
struct ptm_pipeline_config {
    const char *id; ///< "profiles", "metrics/fast", ... as written
    /// What flows through it. A `traces` pipeline holding `connectors:` (the
    /// Go README's quick start) is read as PTM_SIGNAL_PROFILES.
    enum ptm_signal signal;
    struct ptm_config_pos pos;
    const char **receivers;
    size_t receiver_count;
    const char **processors;
    size_t processor_count;
    const char **exporters; ///< connector ids included
    size_t exporter_count;
};

enum ptm_log_level {
    PTM_LOG_DEBUG,
    PTM_LOG_INFO,
    PTM_LOG_WARN,
    PTM_LOG_ERROR,
};

enum ptm_telemetry_metrics_level {
    PTM_TELEMETRY_NONE,
    PTM_TELEMETRY_BASIC,
    PTM_TELEMETRY_NORMAL,
    PTM_TELEMETRY_DETAILED,
};

struct ptm_service_config {
    const char **extensions; ///< ids, each defined under extensions
    size_t extension_count;
    struct ptm_pipeline_config *pipelines; ///< in file order
    size_t pipeline_count;
    enum ptm_log_level log_level; ///< telemetry.logs.level; default info
    const char *metrics_address;  ///< telemetry.metrics.address; default "0.0.0.0:8888"
    enum ptm_telemetry_metrics_level metrics_level; ///< default normal
};

// ---------------------------------------------------------------------------
// the whole configuration
// ---------------------------------------------------------------------------

struct ptm_config {
    const char *file;      ///< the name used in messages; NULL for ptm_config_default
    const char *directory; ///< where relative rule paths start: the file's directory, or "."
    struct ptm_connector_config *connectors; ///< in file order
    size_t connector_count;
    struct ptm_receiver_config *receivers;
    size_t receiver_count;
    struct ptm_processor_config *processors;
    size_t processor_count;
    struct ptm_exporter_config *exporters;
    size_t exporter_count;
    struct ptm_extension_config *extensions;
    size_t extension_count;
    struct ptm_service_config service;
    /// Warnings of the load that made this config, sorted by position.
    struct ptm_config_diagnostics warnings;
    struct ptm_arena *arena; ///< owns everything above except warnings
};

/// Everything a load found, for a CLI to print: errors and warnings, each
/// sorted by position. Zero-initialise; free with ptm_config_report_fini.
struct ptm_config_report {
    struct ptm_config_diagnostics errors;
    struct ptm_config_diagnostics warnings;
};

void ptm_config_report_fini(struct ptm_config_report *report);

/// Load the configuration file at path (named path in messages). Returns
/// NULL when the file has any error: err (may be NULL) then holds the first
/// error's text, followed by " (and N more errors)" when there are more.
/// Free the result with ptm_config_destroy.
struct ptm_config *ptm_config_load_file(const char *path, struct ptm_error *err);

/// Like ptm_config_load_file, and also fill report (may be NULL) with every
/// error and warning found, whether the load succeeds or not.
struct ptm_config *ptm_config_load_file_report(const char *path, struct ptm_config_report *report,
                                               struct ptm_error *err);

/// Load YAML text held in memory. name is the file name used in messages
/// (NULL: "<configuration>");
/// relative rule paths resolve against name's directory when name contains
/// a '/', else against the current directory.
struct ptm_config *ptm_config_load_string(const char *text, const char *name, struct ptm_error *err);

/// Like ptm_config_load_string, with a report as in
/// ptm_config_load_file_report.
struct ptm_config *ptm_config_load_string_report(const char *text, const char *name,
                                                 struct ptm_config_report *report, struct ptm_error *err);

/// The configuration when there is no file: one connector
/// "profiletometrics" with every default, and nothing else (no receivers,
/// exporters or pipelines). NULL when out of memory.
struct ptm_config *ptm_config_default(void);

/// Free a configuration. NULL is a no-op.
void ptm_config_destroy(struct ptm_config *config);

/// Fill c with the connector defaults (id "profiletometrics"; strings are
/// static): what a caller uses when a file defines no connector.
void ptm_connector_config_defaults(struct ptm_connector_config *c);

/// Look a component up by id; NULL when not defined. The result is borrowed
/// from config.
const struct ptm_connector_config *ptm_config_find_connector(const struct ptm_config *config, const char *id);
const struct ptm_receiver_config *ptm_config_find_receiver(const struct ptm_config *config, const char *id);
const struct ptm_processor_config *ptm_config_find_processor(const struct ptm_config *config, const char *id);
const struct ptm_exporter_config *ptm_config_find_exporter(const struct ptm_config *config, const char *id);
const struct ptm_extension_config *ptm_config_find_extension(const struct ptm_config *config, const char *id);
