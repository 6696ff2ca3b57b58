// SPDX-License-Identifier: Apache-2.0
//
// Collecting the store into a snapshot: one point per series with data, its
// interval closed at the collection time, in the deterministic output order
// (resources by attributes, metrics by name, points by attributes). With
// delta temporality, collecting also starts every series' next interval and
// drops the series that stayed idle, so they stop counting against the limit.
#include <stdlib.h>
#include <string.h>

#include "metrics/store_internal.h"

static bool series_emits(const struct ptm_store *store, const struct store_series *s)
{
    return store->opts.temporality == PTM_TEMPORALITY_CUMULATIVE || s->fresh;
}

static uint32_t series_buckets(const struct ptm_store *store, const struct store_series *s)
{
    const struct ptm_metric_def *def = &store->metrics.data[s->metric]->def;
    return def->kind == PTM_METRIC_HISTOGRAM ? def->n_bounds + 1 : 0;
}

// The point for series s, closing its interval at its latest window end (or
// now). Counters and histograms get a start no later than that; gauges keep
// the start of the window their value came from, if known.
static void fill_point(struct ptm_store *store, struct store_series *s, uint64_t now,
                       struct ptm_point *p, uint64_t *buckets)
{
    const struct ptm_metric_def *def = &store->metrics.data[s->metric]->def;
    uint64_t time = s->end ? s->end : now;
    memset(p, 0, sizeof *p);
    p->resource = s->resource;
    p->metric = s->metric;
    p->attributes = s->attributes;
    p->time_unix_nano = time;
    p->value = s->value;
    if (def->kind == PTM_METRIC_GAUGE) {
        p->start_unix_nano = s->start <= time ? s->start : time;
        return;
    }
    if (s->start == 0)
        s->start = now < time ? now : time; // nothing told when it began
    else if (s->start > time)
        s->start = time;
    s->start_fixed = true;
    p->start_unix_nano = s->start;
    if (def->kind == PTM_METRIC_HISTOGRAM) {
        p->count = s->count;
        p->sum = s->sum;
        p->min = s->min;
        p->max = s->max;
        memcpy(buckets, store->bucket_pool.data + s->buckets, (def->n_bounds + 1) * sizeof *buckets);
        p->bucket_counts = buckets;
    }
}

// Delta: the next interval starts where this point ended, empty.
static void start_next_interval(struct ptm_store *store, struct store_series *s, uint64_t time)
{
    s->start = time;
    s->end = 0;
    if (store->metrics.data[s->metric]->def.kind == PTM_METRIC_GAUGE)
        return;
    s->value = 0;
    s->count = 0;
    s->sum = s->min = s->max = 0;
    uint32_t nb = series_buckets(store, s);
    if (nb > 0)
        memset(store->bucket_pool.data + s->buckets, 0, nb * sizeof(uint64_t));
}

// Delta: drop the series that got nothing in the interval just closed
// (except cumulative-reading ones: their readings must keep their baseline)
// and compact the series and their buckets.
static void drop_idle_series(struct ptm_store *store, const bool *emitted)
{
    uint32_t kept = 0, pool = 0;
    for (uint32_t id = 0; id < store->series.len; id++) {
        struct store_series *s = &store->series.data[id];
        uint32_t nb = series_buckets(store, s);
        if (!emitted[id] && s->feed != FEED_READINGS) {
            if (!s->overflow)
                store->metrics.data[s->metric]->series_count--;
            continue;
        }
        if (nb > 0)
            memmove(store->bucket_pool.data + pool, store->bucket_pool.data + s->buckets,
                    nb * sizeof *store->bucket_pool.data);
        s->buckets = pool;
        pool += nb;
        store->series.data[kept++] = *s;
    }
    if (kept == store->series.len)
        return;
    store->series.len = kept;
    store->bucket_pool.len = pool;
    ptm_store_series_reindex(store);
}

// ---- ordering ----

struct order {
    const struct ptm_store *store;
    uint32_t *resource_rank;
    uint32_t *metric_rank;
};

static int compare_resource_ids(const void *a, const void *b, void *arg)
{
    const struct order *o = arg;
    return ptm_store_compare_resources(o->store, *(const uint32_t *)a, *(const uint32_t *)b);
}

static int compare_metric_ids(const void *a, const void *b, void *arg)
{
    const struct order *o = arg;
    return strcmp(o->store->metrics.data[*(const uint32_t *)a]->def.name,
                  o->store->metrics.data[*(const uint32_t *)b]->def.name);
}

static int compare_points(const void *a, const void *b, void *arg)
{
    const struct order *o = arg;
    const struct ptm_point *x = a, *y = b;
    if (x->resource != y->resource)
        return o->resource_rank[x->resource] < o->resource_rank[y->resource] ? -1 : 1;
    if (x->metric != y->metric)
        return o->metric_rank[x->metric] < o->metric_rank[y->metric] ? -1 : 1;
    return ptm_store_compare_sets(o->store, x->attributes, y->attributes);
}

// rank[id] = position of id among 0..n-1 sorted by compare.
static int rank_ids(struct order *o, uint32_t n, uint32_t *rank,
                    int (*compare)(const void *, const void *, void *))
{
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (ids == NULL)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        ids[i] = i;
    qsort_r(ids, n, sizeof *ids, compare, o);
    for (uint32_t i = 0; i < n; i++)
        rank[ids[i]] = i;
    free(ids);
    return 0;
}

static int sort_points(const struct ptm_store *store, struct ptm_point *points, size_t len)
{
    uint32_t nr = store->resources.len, nm = store->metrics.len;
    struct order o = {store, malloc((nr ? nr : 1) * sizeof(uint32_t)),
                      malloc((nm ? nm : 1) * sizeof(uint32_t))};
    int rc = PTM_ENOMEM;
    if (o.resource_rank == NULL || o.metric_rank == NULL ||
        rank_ids(&o, nr, o.resource_rank, compare_resource_ids) != 0 ||
        rank_ids(&o, nm, o.metric_rank, compare_metric_ids) != 0)
        goto done;
    qsort_r(points, len, sizeof *points, compare_points, &o);
    rc = 0;
done:
    free(o.resource_rank);
    free(o.metric_rank);
    return rc;
}

// ---- collect ----

// Allocate the snapshot's arrays for the series that emit; 0 or PTM_ENOMEM.
static int snapshot_alloc(const struct ptm_store *store, struct ptm_snapshot *out, bool **emitted)
{
    size_t points = 0, buckets = 0;
    for (uint32_t id = 0; id < store->series.len; id++) {
        const struct store_series *s = &store->series.data[id];
        if (series_emits(store, s)) {
            points++;
            buckets += series_buckets(store, s);
        }
    }
    out->points = malloc((points ? points : 1) * sizeof *out->points);
    out->bucket_storage = malloc((buckets ? buckets : 1) * sizeof *out->bucket_storage);
    *emitted = calloc(store->series.len ? store->series.len : 1, sizeof **emitted);
    if (out->points == NULL || out->bucket_storage == NULL || *emitted == NULL) {
        free(*emitted);
        ptm_snapshot_free(out);
        return PTM_ENOMEM;
    }
    return 0;
}

int ptm_store_collect(struct ptm_store *store, uint64_t now_unix_nano, struct ptm_snapshot *out)
{
    memset(out, 0, sizeof *out);
    out->temporality = store->opts.temporality;
    out->store = store;
    bool *emitted;
    int rc = snapshot_alloc(store, out, &emitted);
    if (rc != 0)
        return rc;
    // Sorting is the only step that can fail; the series start their next
    // interval only once it has succeeded.
    size_t nb = 0;
    for (uint32_t id = 0; id < store->series.len; id++) {
        struct store_series *s = &store->series.data[id];
        if (!series_emits(store, s))
            continue;
        fill_point(store, s, now_unix_nano, &out->points[out->len++], out->bucket_storage + nb);
        nb += series_buckets(store, s);
    }
    rc = sort_points(store, out->points, out->len);
    if (rc != 0) {
        free(emitted);
        ptm_snapshot_free(out);
        return rc;
    }
    for (uint32_t id = 0; id < store->series.len; id++) {
        struct store_series *s = &store->series.data[id];
        emitted[id] = series_emits(store, s);
        if (emitted[id] && store->opts.temporality == PTM_TEMPORALITY_DELTA)
            start_next_interval(store, s, s->end ? s->end : now_unix_nano);
        s->fresh = false;
    }
    if (store->opts.temporality == PTM_TEMPORALITY_DELTA)
        drop_idle_series(store, emitted);
    free(emitted);
    return 0;
}

void ptm_snapshot_free(struct ptm_snapshot *snapshot)
{
    if (snapshot == NULL)
        return;
    free(snapshot->points);
    free(snapshot->bucket_storage);
    snapshot->points = NULL;
    snapshot->bucket_storage = NULL;
    snapshot->len = 0;
}
