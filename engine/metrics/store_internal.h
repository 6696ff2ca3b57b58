// SPDX-License-Identifier: Apache-2.0
//
// The inside of the metric store, shared by its two halves: store.c (interned
// strings, values, attribute sets, resources, metric definitions) and
// series.c (the series table, temporality, limits, collection).
//
// Everything interned lives in the intern arena, whose byte limit bounds what
// a stream of ever-new attribute values can cost; lookups go through
// ptm_strmap over the interned bytes, so ids are dense and stable and a
// lookup of something already known allocates nothing.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "metrics/store.h"
#include "util/arena.h"
#include "util/hash.h"
#include "util/strbuf.h"
#include "util/vec.h"

/// Default byte budget of the intern arena (strings, values, attribute sets).
#define PTM_STORE_INTERN_BYTES_DEFAULT ((size_t)64 << 20)

/// Attribute pairs kept per set; further distinct keys are dropped, as the
/// OTel SDKs' default attribute count limit does.
#define PTM_STORE_MAX_SET_PAIRS 128

/// Metrics one store can define.
#define PTM_STORE_MAX_METRICS 65536

/// Explicit bounds one histogram can have.
#define PTM_STORE_MAX_BOUNDS 1024

struct store_string {
    const char *ptr; // NUL-terminated copy in the intern arena
    uint32_t len;
};

// The interning key of a value is this struct's bytes (padding zeroed).
struct store_value {
    uint32_t type; // enum ptm_label_type
    uint32_t string_id;
    uint64_t bits; // int64 or double bits; bool as 0/1
};

struct store_set {
    const uint32_t *pairs; // n (key string id, value id) pairs, sorted by key bytes
    uint32_t n;
};

struct store_resource {
    uint32_t attributes;
    uint32_t schema_url;
};

struct store_metric {
    struct ptm_metric_def def; // strings and bounds copied into the intern arena
    uint32_t series_limit;     // resolved: the def's or the store's default
    uint32_t series_count;     // series held, overflow series not counted
    uint64_t overflowed;       // contributions routed to an overflow series
};

/// How a counter series is fed; one series is fed one way only.
enum series_feed {
    FEED_NONE = 0,
    FEED_ADD,      // increments (ptm_store_add)
    FEED_READINGS, // cumulative readings (ptm_store_set_cumulative)
};

struct store_series {
    uint32_t metric, resource, attributes;
    uint8_t feed;        // enum series_feed
    bool overflow;       // the metric's overflow series for this resource
    bool fresh;          // got data since the previous collect
    bool start_fixed;    // start was emitted (or is a restart's) and no longer moves
    bool has_reading;    // reading holds the last cumulative reading
    uint64_t start;      // start of the current point's interval; 0 = unknown yet
    uint64_t end;        // latest window end seen; 0 = none
    double value;        // counter: total of the interval; gauge: last value
    double reading;      // last cumulative reading
    uint64_t count;      // histogram
    double sum, min, max;
    uint32_t buckets; // histogram: offset of n_bounds + 1 counts in bucket_pool
    uint64_t merged_at; // when a merge last updated it (merge.c); 0 = never
};

struct ptm_store {
    struct ptm_store_options opts;
    struct ptm_arena *intern; // limited: see ptm_store_set_intern_limit
    struct ptm_arena *keys;   // resource keys (bounded through their attribute sets)
    struct ptm_strbuf scratch; // UTF-8 repair of incoming strings

    struct ptm_strmap string_map;
    PTM_VEC(struct store_string) strings;
    struct ptm_strmap value_map;
    PTM_VEC(struct store_value) values;
    struct ptm_strmap set_map;
    PTM_VEC(struct store_set) sets;
    uint32_t set_scratch[2 * PTM_STORE_MAX_SET_PAIRS];
    uint32_t overflow_set; // {otel.metric.overflow: true}
    struct ptm_strmap resource_map;
    PTM_VEC(struct store_resource) resources;

    struct ptm_strmap metric_map; // by name
    PTM_VEC(struct store_metric *) metrics;

    // Series by (metric, resource, attributes): open addressing over series
    // ids + 1 (0 = empty slot), rebuilt when idle delta series are dropped.
    uint32_t *series_slots;
    uint32_t series_slot_cap; // a power of two, or 0
    PTM_VEC(struct store_series) series;
    PTM_VEC(uint64_t) bucket_pool;
    uint64_t changes; // adds, sets and observations so far
};

/// Insert (key, value) into the n sorted pairs, unless the key is there
/// already (the first occurrence wins) or the set is full. Ids are checked
/// by the caller.
void ptm_store_insert_pair(const struct ptm_store *store, uint32_t *pairs, uint32_t *n, uint32_t key, uint32_t value);

/// What ptm_store_sort_pairs returns when the pairs are sorted (no set id is).
#define PTM_STORE_SORTED (UINT32_MAX - 1)

/// The first half of ptm_store_attributes: check n pairs and insert them into
/// sorted[0..*len) (room for PTM_STORE_MAX_SET_PAIRS pairs), the first of a
/// key winning. Returns PTM_STORE_SORTED, or the set every such set is
/// instead: the overflow set (a pair holds UINT32_MAX), UINT32_MAX (an id the
/// store never handed out). The second half is ptm_store_intern_sorted_set
/// (then the overflow set when that fails).
uint32_t ptm_store_sort_pairs(struct ptm_store *store, const uint32_t *pairs, uint32_t n, uint32_t *sorted,
                              uint32_t *len);

/// The hash of n sorted pairs as a set (ptm_strmap_hash of their bytes).
uint64_t ptm_store_set_hash(const uint32_t *pairs, uint32_t n);

/// Start loading the set table's slot for that hash; with key, the bytes of
/// the set in it (when that slot was loaded a while before).
void ptm_store_set_prefetch(const struct ptm_store *store, uint64_t hash, bool key);

/// Intern n sorted pairs whose ptm_store_set_hash is hash: the set id, or
/// UINT32_MAX when out of memory or past the intern limit.
uint32_t ptm_store_intern_sorted_set(struct ptm_store *store, const uint32_t *pairs, uint32_t n, uint64_t hash);

/// True when ptm_store_string keeps the string as it is (valid UTF-8, no
/// NUL byte; ptr not NULL), so that its ptm_store_string_hash is the key.
bool ptm_store_string_as_is(const char *ptr, size_t len);

/// The hash of a string as the string table keeps it; start loading its
/// slot (or, with key, the string in that slot); look it up (the id, or
/// UINT32_MAX when not interned yet: ptm_store_string adds it).
uint64_t ptm_store_string_hash(const char *ptr, size_t len);
void ptm_store_string_prefetch(const struct ptm_store *store, uint64_t hash, bool key);
uint32_t ptm_store_find_string(const struct ptm_store *store, const char *ptr, size_t len, uint64_t hash);

/// The same for values: their hash, prefetches, and interning a value
/// (its padding zeroed) whose hash is hash (the id, or UINT32_MAX when out
/// of memory or past the intern limit).
uint64_t ptm_store_value_hash(const struct store_value *v);
void ptm_store_value_prefetch(const struct ptm_store *store, uint64_t hash, bool key);
uint32_t ptm_store_intern_value(struct ptm_store *store, const struct store_value *v, uint64_t hash);

/// Start loading what finding the series (metric, resource, attributes)
/// reads first: its table slot; with entry, the series in that slot (when
/// the slot was loaded a while before).
void ptm_store_series_prefetch(const struct ptm_store *store, uint32_t metric, uint32_t resource,
                               uint32_t attributes, bool entry);

/// Compare two attribute sets: pair by pair, key bytes then value; a set that
/// is a prefix of the other sorts first. The order of every snapshot.
int ptm_store_compare_sets(const struct ptm_store *store, uint32_t a, uint32_t b);

/// Compare two resources: attribute sets, then schema URLs.
int ptm_store_compare_resources(const struct ptm_store *store, uint32_t a, uint32_t b);

/// Compare two interned strings by bytes.
int ptm_store_compare_strings(const struct ptm_store *store, uint32_t a, uint32_t b);

/// The series for (metric, resource, attributes), created when new; the
/// resource's overflow series when the metric is at its limit. NULL when out
/// of memory. Ids are trusted (merge.c).
struct store_series *ptm_store_series_get(struct ptm_store *store, uint32_t metric, uint32_t resource,
                                          uint32_t attributes);

/// Define metric id anew as def says (same name), dropping its series: a
/// merge whose source changed the metric. Returns id or a negative ptm_err.
int ptm_store_redefine(struct ptm_store *store, uint32_t id, const struct ptm_metric_def *def, struct ptm_error *err);

/// Drop every series of metric (merge.c).
void ptm_store_drop_metric_series(struct ptm_store *store, uint32_t metric);

/// Refill the series table from the series vector (after it was compacted).
void ptm_store_series_reindex(struct ptm_store *store);

/// Free the series table (part of ptm_store_destroy).
void ptm_store_series_free(struct ptm_store *store);
