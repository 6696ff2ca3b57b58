// SPDX-License-Identifier: Apache-2.0
//
// The metric store's series: one per (metric, resource, attribute set), found
// through an open-addressing table of series ids. Adding to a known series
// is a hash lookup and a few stores, with no allocation.
//
// Times. A contribution covers a window [start, end] (either may be unknown).
// A series' start is the earliest window start among its first contributions
// (their end when the start is unknown, the collection time when both are);
// it is fixed once emitted. Its point time is the latest window end seen, or
// the collection time. Cumulative temporality keeps accumulating from a fixed
// start; a drop in cumulative readings is a restart and gets a new start.
// Delta temporality emits what came since the previous collect, starting at
// that collect's point time, then starts over; a series idle for a whole
// interval is emitted no more and dropped (cumulative-reading series are kept,
// so their next reading is not mistaken for a first one).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/store_internal.h"

#define NO_SERIES UINT32_MAX

// ---- the series table ----

static uint64_t series_hash(uint32_t metric, uint32_t resource, uint32_t attributes)
{
    return ptm_hash_u64(((uint64_t)metric << 32 | resource) ^ ptm_hash_u64(attributes + 1));
}

static uint32_t table_find(const struct ptm_store *store, uint32_t metric, uint32_t resource,
                           uint32_t attributes)
{
    if (store->series_slot_cap == 0)
        return NO_SERIES;
    uint32_t mask = store->series_slot_cap - 1;
    uint32_t i = (uint32_t)series_hash(metric, resource, attributes) & mask;
    for (; store->series_slots[i] != 0; i = (i + 1) & mask) {
        const struct store_series *s = &store->series.data[store->series_slots[i] - 1];
        if (s->metric == metric && s->resource == resource && s->attributes == attributes)
            return store->series_slots[i] - 1;
    }
    return NO_SERIES;
}

void ptm_store_series_prefetch(const struct ptm_store *store, uint32_t metric, uint32_t resource,
                               uint32_t attributes, bool entry)
{
    if (store->series_slot_cap == 0)
        return;
    const uint32_t *slot =
        &store->series_slots[(uint32_t)series_hash(metric, resource, attributes) & (store->series_slot_cap - 1)];
    if (!entry)
        __builtin_prefetch(slot);
    else if (*slot != 0)
        __builtin_prefetch(&store->series.data[*slot - 1]);
}

static void table_insert(struct ptm_store *store, uint32_t id)
{
    const struct store_series *s = &store->series.data[id];
    uint32_t mask = store->series_slot_cap - 1;
    uint32_t i = (uint32_t)series_hash(s->metric, s->resource, s->attributes) & mask;
    while (store->series_slots[i] != 0)
        i = (i + 1) & mask;
    store->series_slots[i] = id + 1;
}

void ptm_store_series_reindex(struct ptm_store *store)
{
    memset(store->series_slots, 0, (size_t)store->series_slot_cap * sizeof *store->series_slots);
    for (uint32_t id = 0; id < store->series.len; id++)
        table_insert(store, id);
}

// Room for one more series at a load of at most 1/2.
static int table_reserve(struct ptm_store *store)
{
    if (((size_t)store->series.len + 1) * 2 <= store->series_slot_cap)
        return 0;
    if (store->series_slot_cap >= (UINT32_C(1) << 31))
        return -1;
    uint32_t cap = store->series_slot_cap ? store->series_slot_cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    free(store->series_slots);
    store->series_slots = slots;
    store->series_slot_cap = cap;
    ptm_store_series_reindex(store);
    return 0;
}

void ptm_store_series_free(struct ptm_store *store)
{
    free(store->series_slots);
    store->series_slots = NULL;
    store->series_slot_cap = 0;
    PTM_VEC_FREE(store->series);
    PTM_VEC_FREE(store->bucket_pool);
}

static uint32_t bucket_count(const struct store_metric *m)
{
    return m->def.kind == PTM_METRIC_HISTOGRAM ? m->def.n_bounds + 1 : 0;
}

static uint32_t series_create(struct ptm_store *store, uint32_t metric, uint32_t resource,
                              uint32_t attributes, bool overflow)
{
    struct store_metric *m = store->metrics.data[metric];
    uint32_t nb = bucket_count(m);
    if (table_reserve(store) != 0 || PTM_VEC_RESERVE(store->series, 1) != 0 ||
        PTM_VEC_RESERVE(store->bucket_pool, nb) != 0)
        return NO_SERIES;
    uint32_t id = store->series.len++;
    struct store_series *s = &store->series.data[id];
    memset(s, 0, sizeof *s);
    s->metric = metric;
    s->resource = resource;
    s->attributes = attributes;
    s->overflow = overflow;
    s->buckets = store->bucket_pool.len;
    if (nb > 0)
        memset(store->bucket_pool.data + s->buckets, 0, nb * sizeof *store->bucket_pool.data);
    store->bucket_pool.len += nb;
    table_insert(store, id);
    if (!overflow)
        m->series_count++;
    return id;
}

// The series the data goes to: the one for (metric, resource, attributes),
// created if new, or, when the metric is at its limit, the resource's
// overflow series. NULL when out of memory.
static struct store_series *series_for(struct ptm_store *store, uint32_t metric, uint32_t resource,
                                       uint32_t attributes)
{
    struct store_metric *m = store->metrics.data[metric];
    uint32_t id = table_find(store, metric, resource, attributes);
    if (id == NO_SERIES) {
        bool overflow = attributes == store->overflow_set;
        if (!overflow && m->series_count >= m->series_limit) {
            overflow = true;
            attributes = store->overflow_set;
            id = table_find(store, metric, resource, attributes);
        }
        if (id == NO_SERIES)
            id = series_create(store, metric, resource, attributes, overflow);
        if (id == NO_SERIES)
            return NULL;
    }
    struct store_series *s = &store->series.data[id];
    if (s->overflow)
        m->overflowed++;
    return s;
}

struct store_series *ptm_store_series_get(struct ptm_store *store, uint32_t metric, uint32_t resource,
                                          uint32_t attributes)
{
    return series_for(store, metric, resource, attributes);
}

// ---- contributions ----

static int check_target(const struct ptm_store *store, uint32_t metric, uint32_t resource,
                        uint32_t attributes, struct ptm_window window)
{
    if (metric >= store->metrics.len || resource >= store->resources.len ||
        attributes >= store->sets.len)
        return PTM_EINVAL;
    if (window.start_unix_nano != 0 && window.end_unix_nano != 0 &&
        window.start_unix_nano > window.end_unix_nano)
        return PTM_EINVAL;
    return 0;
}

static enum ptm_metric_kind metric_kind(const struct ptm_store *store, uint32_t metric)
{
    return store->metrics.data[metric]->def.kind;
}

// Widen the series' interval by a window: an earlier start while the start
// is not fixed yet, a later end.
static void note_window(struct store_series *s, struct ptm_window w)
{
    uint64_t start = w.start_unix_nano ? w.start_unix_nano : w.end_unix_nano;
    if (start != 0 && !s->start_fixed && (s->start == 0 || start < s->start))
        s->start = start;
    if (w.end_unix_nano > s->end)
        s->end = w.end_unix_nano;
    s->fresh = true;
}

static int add_to_counter(struct store_series *s, double value, struct ptm_window window)
{
    if (s->feed == FEED_READINGS)
        return PTM_EINVAL;
    if (!isfinite(s->value + value))
        return PTM_ELIMIT;
    s->feed = FEED_ADD;
    s->value += value;
    note_window(s, window);
    return 0;
}

static void set_gauge(struct store_series *s, double value, struct ptm_window window)
{
    s->value = value;
    s->start = window.start_unix_nano;
    s->end = window.end_unix_nano;
    s->fresh = true;
}

int ptm_store_add(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
                  double value, struct ptm_window window)
{
    int rc = check_target(store, metric, resource, attributes, window);
    if (rc != 0)
        return rc;
    enum ptm_metric_kind kind = metric_kind(store, metric);
    if (!isfinite(value) || kind == PTM_METRIC_HISTOGRAM || (kind == PTM_METRIC_COUNTER && value < 0))
        return PTM_EINVAL;
    struct store_series *s = series_for(store, metric, resource, attributes);
    if (s == NULL)
        return PTM_ENOMEM;
    store->changes++;
    if (kind == PTM_METRIC_GAUGE) {
        set_gauge(s, value, window);
        return 0;
    }
    return add_to_counter(s, value, window);
}

int ptm_store_set_cumulative(struct ptm_store *store, uint32_t metric, uint32_t resource,
                             uint32_t attributes, double value, struct ptm_window window)
{
    int rc = check_target(store, metric, resource, attributes, window);
    if (rc != 0)
        return rc;
    if (!isfinite(value) || value < 0 || metric_kind(store, metric) != PTM_METRIC_COUNTER)
        return PTM_EINVAL;
    struct store_series *s = series_for(store, metric, resource, attributes);
    if (s == NULL)
        return PTM_ENOMEM;
    if (s->feed == FEED_ADD)
        return PTM_EINVAL;
    bool restart = s->has_reading && value < s->reading;
    double increase = s->has_reading && !restart ? value - s->reading : value;
    if (store->opts.temporality == PTM_TEMPORALITY_DELTA) {
        if (!isfinite(s->value + increase))
            return PTM_ELIMIT;
        s->value += increase;
    } else {
        s->value = value;
        if (restart) { // the source counts from zero again, since about now
            s->start = 0;
            s->start_fixed = false;
        }
    }
    s->feed = FEED_READINGS;
    s->reading = value;
    s->has_reading = true;
    note_window(s, window);
    store->changes++;
    return 0;
}

// Index of the bucket (bounds[i-1], bounds[i]] holding value; n when above all.
static uint32_t bucket_index(const double *bounds, uint32_t n, double value)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (value <= bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int ptm_store_observe(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
                      double value, uint64_t count, struct ptm_window window)
{
    int rc = check_target(store, metric, resource, attributes, window);
    if (rc != 0)
        return rc;
    if (!isfinite(value) || metric_kind(store, metric) != PTM_METRIC_HISTOGRAM)
        return PTM_EINVAL;
    if (count == 0)
        return 0;
    struct store_series *s = series_for(store, metric, resource, attributes);
    if (s == NULL)
        return PTM_ENOMEM;
    double sum = s->sum + value * (double)count;
    if (!isfinite(sum) || s->count + count < s->count)
        return PTM_ELIMIT;
    const struct ptm_metric_def *def = &store->metrics.data[metric]->def;
    store->bucket_pool.data[s->buckets + bucket_index(def->bounds, def->n_bounds, value)] += count;
    if (s->count == 0 || value < s->min)
        s->min = value;
    if (s->count == 0 || value > s->max)
        s->max = value;
    s->count += count;
    s->sum = sum;
    note_window(s, window);
    store->changes++;
    return 0;
}

uint64_t ptm_store_changes(const struct ptm_store *store)
{
    return store->changes;
}

uint32_t ptm_store_series_count(const struct ptm_store *store, uint32_t metric)
{
    return metric < store->metrics.len ? store->metrics.data[metric]->series_count : 0;
}

uint64_t ptm_store_overflowed(const struct ptm_store *store, uint32_t metric)
{
    return metric < store->metrics.len ? store->metrics.data[metric]->overflowed : 0;
}
