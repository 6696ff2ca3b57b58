// SPDX-License-Identifier: Apache-2.0
//
// The metric store: every series the rules produce, kept across requests so
// counters can be cumulative. A series is (metric, resource, attribute set);
// resources and attribute sets are interned, their strings copied into the
// store (the model's strings die with each request) and repaired to valid
// UTF-8 on the way in, so nothing downstream ever sees bad bytes.
//
// Rules aggregate each profile locally and then hand the store one value per
// distinct series: the store is not on the per-sample path.
//
// Collecting produces a snapshot in a deterministic order (resources by their
// attributes, metrics by name, points by attributes) for the encoders.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiletometrics.h"

// enum ptm_metric_kind, ptm_temporality and ptm_label_type are public:
// include/profiletometrics.h.

enum ptm_number_type {
    PTM_NUMBER_DOUBLE = 0,
    PTM_NUMBER_INT, // points are encoded as integers (as_int); values are rounded
};

/// What a metric is. Strings are copied by ptm_store_define.
struct ptm_metric_def {
    const char *name;        // required; OTel instrument name rules are checked
    const char *description; // may be NULL
    const char *unit;        // UCUM, e.g. "s", "By"; may be NULL
    enum ptm_metric_kind kind;
    enum ptm_number_type value_type;
    const double *bounds;    // histogram: strictly increasing explicit bounds
    uint32_t n_bounds;
    uint32_t series_limit;   // 0: the store's default
};

struct ptm_store;

struct ptm_store_options {
    enum ptm_temporality temporality;
    uint32_t series_limit; // default per metric; 0 picks 2000
};

/// Create a store. opts may be NULL for the defaults. NULL when out of memory.
struct ptm_store *ptm_store_create(const struct ptm_store_options *opts);

/// Free the store. NULL is a no-op.
void ptm_store_destroy(struct ptm_store *store);

/// Cap the bytes interned strings, values and attribute sets may take (the
/// default is 64 MiB): past it, new strings and values fail with UINT32_MAX
/// and new attribute sets become the overflow set, so the data goes to the
/// overflow series. Ids already handed out stay valid.
void ptm_store_set_intern_limit(struct ptm_store *store, size_t bytes);

/// The id of the attribute set {otel.metric.overflow: true}.
uint32_t ptm_store_overflow_attributes(const struct ptm_store *store);

/// Define a metric, or find the one already defined with that name. Returns
/// its id (>= 0), or a negative ptm_err with err saying why (a bad name, or
/// the same name defined before with another kind, unit, value type or
/// histogram bounds; bounds not strictly increasing and finite).
int ptm_store_define(struct ptm_store *store, const struct ptm_metric_def *def, struct ptm_error *err);

/// Number of metrics defined.
uint32_t ptm_store_metric_count(const struct ptm_store *store);

/// The definition of metric id (strings owned by the store).
const struct ptm_metric_def *ptm_store_metric(const struct ptm_store *store, uint32_t id);

/// Intern a string (copied, made valid UTF-8, NUL bytes replaced by U+FFFD so
/// every copy is a proper C string). Returns its id (0 is ""), or UINT32_MAX
/// when out of memory or past the intern limit. Ids are stable for the
/// store's life.
uint32_t ptm_store_string(struct ptm_store *store, const char *ptr, size_t len);

/// The bytes of an interned string.
const char *ptm_store_string_data(const struct ptm_store *store, uint32_t id, size_t *len);

/// Intern a typed attribute value. For PTM_LABEL_STRING, id is a string id
/// from ptm_store_string; INT and BOOL use i; DOUBLE uses d (-0 is 0; NaN is
/// kept, and written as the encodings allow). Returns the value id, or
/// UINT32_MAX for an unknown string id, out of memory or past the intern
/// limit.
uint32_t ptm_store_value(struct ptm_store *store, enum ptm_label_type type, uint32_t string_id,
                         int64_t i, double d);

/// Intern an attribute set given as n (key string id, value id) pairs. The
/// pairs need not be sorted; for a key given twice, the first wins; keys past
/// the 128th distinct one are dropped. Returns the set id (0 is the empty
/// set); the overflow set when a pair holds UINT32_MAX (a string or value
/// that could not be interned) or the set cannot be interned; UINT32_MAX when
/// a pair names an id the store never handed out.
uint32_t ptm_store_attributes(struct ptm_store *store, const uint32_t *pairs, uint32_t n);

/// Intern an output resource: an attribute set and a schema URL (string id,
/// 0 = none). Returns the resource id, or UINT32_MAX when out of memory.
uint32_t ptm_store_resource(struct ptm_store *store, uint32_t attributes, uint32_t schema_url);

/// Number of resources interned.
uint32_t ptm_store_resource_count(const struct ptm_store *store);

/// The time window a contribution covers, from the profile it came from.
struct ptm_window {
    uint64_t start_unix_nano; // 0: unknown
    uint64_t end_unix_nano;   // 0: unknown (the collection time is used)
};

/// Counter: add value (>= 0) to the series. Gauge: set it. Histogram: not
/// allowed (use ptm_store_observe). Returns 0, or a negative ptm_err:
/// PTM_EINVAL for an unknown id, a window that ends before it starts, a
/// value that is not finite, a negative increment, or a series fed with
/// ptm_store_set_cumulative; PTM_ELIMIT when the total would not be finite;
/// PTM_ENOMEM. A series beyond the metric's limit goes to the metric's
/// overflow series for that resource, whose attributes are
/// {otel.metric.overflow: true}.
int ptm_store_add(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
                  double value, struct ptm_window window);

/// Counter fed with cumulative readings (e.g. Go heap alloc_space, counted
/// since the process started): the series' cumulative value becomes value.
/// A reading below the previous one means the source restarted: the series
/// gets a new start time. With delta temporality a point carries the rise
/// since the previous collect; a series' first reading counts whole. A
/// series is fed either this way or by ptm_store_add (PTM_EINVAL otherwise).
int ptm_store_set_cumulative(struct ptm_store *store, uint32_t metric, uint32_t resource,
                             uint32_t attributes, double value, struct ptm_window window);

/// Many series of one metric and resource whose attribute sets differ in
/// one pair: one profile's sums by function, or by thread.
struct ptm_store_batch {
    uint32_t metric, resource;
    struct ptm_window window;
    double scale;           ///< each series gets sums[i] x scale
    bool cumulative;        ///< readings (ptm_store_set_cumulative) rather than adds
    const uint32_t *consts; ///< n_consts (key string id, value id) pairs of every set (borrowed)
    uint32_t n_consts;
    uint32_t part_key;      ///< the key string id of the pair that differs
};

/// A value of ptm_store_add_batch that means "no such pair in this set".
#define PTM_STORE_NO_PAIR (UINT32_MAX - 1)

/// For each i in order, as ptm_store_attributes of the consts and (part_key,
/// values[i]) (values[i] PTM_STORE_NO_PAIR: the consts alone) and then
/// ptm_store_add, or ptm_store_set_cumulative, of sums[i] x scale; sums of 0
/// are skipped unless cumulative. The table look-ups of a few series are
/// started before the first of them is added, so that their cache misses
/// overlap. Returns 0, or the first failure (negative ptm_err) after trying
/// every series.
int ptm_store_add_batch(struct ptm_store *store, const struct ptm_store_batch *batch, const uint32_t *values,
                        const double *sums, uint32_t n);

/// The value ids of n strings as string values: values[i] is
/// ptm_store_value(PTM_LABEL_STRING, ptm_store_string(ptrs[i], lens[i])),
/// UINT32_MAX when either fails. As one by one, in order, with the
/// look-ups of a few strings started together.
void ptm_store_string_values(struct ptm_store *store, const char *const *ptrs, const uint32_t *lens, uint32_t n,
                             uint32_t *values);

/// Histogram: record count observations of value (finite; count 0 is a
/// no-op).
int ptm_store_observe(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
                      double value, uint64_t count, struct ptm_window window);

/// How many adds, readings and observations the store has taken: a number
/// that moves when anything changed (the service skips flushes when not).
uint64_t ptm_store_changes(const struct ptm_store *store);

/// Series of metric id currently held (not counting the overflow series).
uint32_t ptm_store_series_count(const struct ptm_store *store, uint32_t metric);

/// Points that went to overflow series since the store was created.
uint64_t ptm_store_overflowed(const struct ptm_store *store, uint32_t metric);

/// One data point of a snapshot.
struct ptm_point {
    uint32_t resource;   // resource id
    uint32_t metric;     // metric id
    uint32_t attributes; // attribute set id
    uint64_t start_unix_nano;
    uint64_t time_unix_nano;
    double value;        // counter, gauge
    // histogram
    uint64_t count;
    double sum, min, max;
    const uint64_t *bucket_counts; // n_bounds + 1 entries, owned by the snapshot
};

/// Everything collected at one moment, in output order: points grouped by
/// resource, then metric (by name), then attribute set.
struct ptm_snapshot {
    struct ptm_point *points;
    size_t len;
    enum ptm_temporality temporality;
    const struct ptm_store *store; // for names, resources, attribute sets
    uint64_t *bucket_storage;      // owned
};

/// Collect every series with data into *out (caller frees with
/// ptm_snapshot_free). now_unix_nano stands in for unknown times. With
/// delta temporality only series that got data since the previous collect
/// are collected; counters and histograms start a new interval, and the
/// series that got nothing are dropped (except cumulative-reading ones).
/// Not thread-safe: one thread at a time uses a store.
int ptm_store_collect(struct ptm_store *store, uint64_t now_unix_nano, struct ptm_snapshot *out);

void ptm_snapshot_free(struct ptm_snapshot *snapshot);

/// The pairs of an attribute set, sorted by key: n pairs of (key string id,
/// value id). Borrowed from the store.
const uint32_t *ptm_store_attribute_pairs(const struct ptm_store *store, uint32_t attributes, uint32_t *n);

/// A value's type and contents (string values give their string id).
void ptm_store_value_get(const struct ptm_store *store, uint32_t value, enum ptm_label_type *type,
                         uint32_t *string_id, int64_t *i, double *d);

/// A resource's attribute set and schema URL string id.
void ptm_store_resource_get(const struct ptm_store *store, uint32_t resource, uint32_t *attributes,
                            uint32_t *schema_url);

// ---- merging snapshots (metrics/merge.c) ----

/// How ptm_store_merge_with folds a snapshot into a store.
struct ptm_merge_options {
    /// The snapshot holds increments (delta temporality): counters and
    /// histograms add them. Otherwise (cumulative) they replace the series'
    /// value, start and time. Gauges always take the point's value.
    bool delta;
    /// The time the merged series are marked with, for ptm_store_expire;
    /// 0: now (CLOCK_REALTIME).
    uint64_t now_unix_nano;
    /// Put before every metric name (e.g. "myns_"); NULL: none.
    const char *name_prefix;
    /// String attributes added to every point (not to resources); a point's
    /// own attribute with the same key wins.
    const char *const *label_keys;
    const char *const *label_values;
    size_t label_count;
    /// A metric dst defines with another kind, unit, number type or bounds
    /// is defined anew as the snapshot has it, and its old series dropped
    /// (the source's rules changed: a reload). Otherwise its points are
    /// skipped and reported.
    bool replace_changed;
};

/// Merge snapshot snap (of another store, never of dst itself) into dst:
/// metric definitions, resources, attribute sets and their strings are
/// re-interned into dst, then every point updates its series as opts says;
/// start times are kept (a delta series starts at its earliest point's
/// start, until dst is collected). Best effort: a point that cannot be
/// merged (a metric dst defines differently, out of memory) is skipped and
/// the rest are merged; the return value is then the first error, which err
/// (may be NULL) describes; otherwise 0.
int ptm_store_merge_with(struct ptm_store *dst, const struct ptm_snapshot *snap,
                         const struct ptm_merge_options *opts, struct ptm_error *err);

/// ptm_store_merge_with with only `delta` set.
int ptm_store_merge(struct ptm_store *dst, const struct ptm_snapshot *snap, bool delta);

/// Why ptm_store_carry_over left a metric of src behind.
enum ptm_carry_skip {
    PTM_CARRY_GONE,        // dst defines no metric of that name
    PTM_CARRY_CHANGED,     // dst defines it with another kind, unit, number type or bounds
    PTM_CARRY_OVER_LIMIT,  // some of its series are past dst's series limit (the rest are carried)
};

/// Carry the state of src's series into dst, a store that replaces src (a
/// reload: the new rules' store, before anything is added to it): every
/// series of a metric dst defines the same way (kind, unit, number type,
/// histogram bounds) continues in dst with its value, readings, start time
/// and interval, as if the same store had gone on. Metrics dst does not
/// define, or defines differently, are left behind (their series start
/// anew in dst), and so are series past dst's series limit: skipped (may be
/// NULL) is called once per such metric. Nothing is carried when the
/// temporalities differ (skipped is not called; the return is 0). Returns
/// the number of series carried, or PTM_ENOMEM (dst then holds part of
/// them).
int ptm_store_carry_over(struct ptm_store *dst, const struct ptm_store *src,
                         void (*skipped)(void *ctx, const char *metric, enum ptm_carry_skip why), void *ctx);

/// Drop every series last merged before before_unix_nano (series never
/// merged, fed by ptm_store_add and the like, count as merged at 0).
/// Returns how many were dropped. Interned strings and sets stay: see
/// ptm_store_compact.
uint32_t ptm_store_expire(struct ptm_store *store, uint64_t before_unix_nano);

/// A new store (same options, default intern limit) holding store's series
/// and their state, with only the strings, sets, resources and metrics they
/// use: what a long-lived merge target does from time to time so expired
/// series stop costing memory. NULL when out of memory. Free with
/// ptm_store_destroy.
struct ptm_store *ptm_store_compact(const struct ptm_store *store);
