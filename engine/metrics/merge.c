// SPDX-License-Identifier: Apache-2.0
//
// Folding snapshots into a long-lived store, for exporters that serve what
// was exported so far (the Prometheus exporter): the service's store may
// emit deltas or cumulative values, may be replaced on reload, and drops
// idle series, while a scrape wants every series cumulative until it
// expires. Ids of the snapshot's store mean nothing in the target, so
// metric definitions, resources and attribute sets are re-interned, each
// once per merge (cached by source id). Then each point updates its series:
// delta counters and histograms add, cumulative ones replace, gauges take
// the last value. Every series a merge touches is stamped with the merge
// time; ptm_store_expire drops the stale ones and ptm_store_compact copies
// the live ones into a fresh store so their strings stop piling up.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/store_internal.h"
#include "util/error.h"

#define UNMAPPED UINT32_MAX
#define FAILED (UINT32_MAX - 1)
#define MAX_EXTRA 32

/// Source id -> target id, filled as the points need them.
struct id_maps {
    const struct ptm_store *src;
    struct ptm_store *dst;
    const char *prefix;
    bool replace_changed; // ptm_merge_options.replace_changed
    uint32_t *metrics, *resources, *sets;
    uint32_t extra[2 * MAX_EXTRA]; // target (key, value) pairs added to every point's set
    uint32_t n_extra;
    uint32_t pairs[2 * (PTM_STORE_MAX_SET_PAIRS + MAX_EXTRA)];
};

static uint32_t *unmapped_array(uint32_t n)
{
    uint32_t *a = malloc((n ? n : 1) * sizeof *a);
    if (a != NULL)
        memset(a, 0xff, (n ? n : 1) * sizeof *a); // UNMAPPED
    return a;
}

static int maps_init(struct id_maps *m, struct ptm_store *dst, const struct ptm_store *src, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->src = src;
    m->dst = dst;
    m->prefix = prefix;
    m->metrics = unmapped_array(src->metrics.len);
    m->resources = unmapped_array(src->resources.len);
    m->sets = unmapped_array(src->sets.len);
    return m->metrics && m->resources && m->sets ? 0 : PTM_ENOMEM;
}

static void maps_fini(struct id_maps *m)
{
    free(m->metrics);
    free(m->resources);
    free(m->sets);
}

// ---- re-interning ----

static uint32_t map_string(struct id_maps *m, uint32_t id)
{
    const struct store_string *s = &m->src->strings.data[id];
    return ptm_store_string(m->dst, s->ptr, s->len);
}

static uint32_t map_value(struct id_maps *m, uint32_t id)
{
    enum ptm_label_type type;
    uint32_t string_id;
    int64_t i;
    double d;
    ptm_store_value_get(m->src, id, &type, &string_id, &i, &d);
    if (type == PTM_LABEL_STRING) {
        string_id = map_string(m, string_id);
        if (string_id == UINT32_MAX)
            return UINT32_MAX;
    }
    return ptm_store_value(m->dst, type, string_id, i, d);
}

// The target set of source set id, plus the extra labels when asked. An
// interning failure gives the overflow set (ptm_store_attributes' rule).
static uint32_t map_set(struct id_maps *m, uint32_t id, bool with_extra)
{
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(m->src, id, &n);
    for (uint32_t i = 0; i < n; i++) {
        m->pairs[2 * i] = map_string(m, pairs[2 * i]);
        m->pairs[2 * i + 1] = map_value(m, pairs[2 * i + 1]);
    }
    if (with_extra) {
        memcpy(m->pairs + 2 * n, m->extra, 2 * m->n_extra * sizeof *m->extra);
        n += m->n_extra;
    }
    return ptm_store_attributes(m->dst, m->pairs, n);
}

static uint32_t point_set(struct id_maps *m, uint32_t id)
{
    if (m->sets[id] == UNMAPPED)
        m->sets[id] = map_set(m, id, true);
    return m->sets[id];
}

static uint32_t map_resource(struct id_maps *m, uint32_t id)
{
    if (m->resources[id] != UNMAPPED)
        return m->resources[id];
    const struct store_resource *r = &m->src->resources.data[id];
    uint32_t set = map_set(m, r->attributes, false);
    uint32_t schema = map_string(m, r->schema_url);
    uint32_t out = UINT32_MAX;
    if (set != UINT32_MAX && schema != UINT32_MAX)
        out = ptm_store_resource(m->dst, set, schema);
    return m->resources[id] = out;
}

// The target metric of source metric id, defined with the prefix; FAILED
// (and err) when the target defines that name differently.
static uint32_t map_metric(struct id_maps *m, uint32_t id, bool keep_limit, struct ptm_error *err)
{
    if (m->metrics[id] != UNMAPPED)
        return m->metrics[id];
    const struct store_metric *sm = m->src->metrics.data[id];
    struct ptm_metric_def def = sm->def;
    def.series_limit = keep_limit ? sm->series_limit : 0;
    struct ptm_strbuf name = {0};
    if (m->prefix != NULL)
        ptm_strbuf_puts(&name, m->prefix);
    ptm_strbuf_puts(&name, def.name);
    int rc = name.failed ? ptm_error_set(err, PTM_ENOMEM, "out of memory") : 0;
    if (rc == 0) {
        def.name = name.data;
        rc = ptm_store_define(m->dst, &def, err);
        uint32_t have = ptm_strmap_find(&m->dst->metric_map, def.name, (uint32_t)strlen(def.name));
        if (rc == PTM_EINVAL && m->replace_changed && have != UINT32_MAX)
            rc = ptm_store_redefine(m->dst, have, &def, err);
    }
    ptm_strbuf_free(&name);
    return m->metrics[id] = rc < 0 ? FAILED : (uint32_t)rc;
}

static int intern_extra_labels(struct id_maps *m, const struct ptm_merge_options *opts, struct ptm_error *err)
{
    if (opts->label_count > MAX_EXTRA)
        return ptm_error_set(err, PTM_ELIMIT, "merge: %zu labels to add, at most %d", opts->label_count,
                             MAX_EXTRA);
    for (size_t i = 0; i < opts->label_count; i++) {
        uint32_t key = ptm_store_string(m->dst, opts->label_keys[i], strlen(opts->label_keys[i]));
        uint32_t sid = ptm_store_string(m->dst, opts->label_values[i], strlen(opts->label_values[i]));
        uint32_t value = sid == UINT32_MAX ? UINT32_MAX : ptm_store_value(m->dst, PTM_LABEL_STRING, sid, 0, 0);
        if (key == UINT32_MAX || value == UINT32_MAX)
            return ptm_error_set(err, PTM_ENOMEM, "merge: out of memory interning label \"%s\"",
                                 opts->label_keys[i]);
        m->extra[2 * m->n_extra] = key;
        m->extra[2 * m->n_extra + 1] = value;
        m->n_extra++;
    }
    return 0;
}

// ---- applying points ----

// Widen a series' interval by a point's: the earlier start while the start
// is not fixed yet (collected), the later end.
static void widen(struct store_series *s, const struct ptm_point *p)
{
    uint64_t start = p->start_unix_nano ? p->start_unix_nano : p->time_unix_nano;
    if (start != 0 && !s->start_fixed && (s->start == 0 || start < s->start))
        s->start = start;
    if (p->time_unix_nano > s->end)
        s->end = p->time_unix_nano;
}

static void replace_interval(struct store_series *s, const struct ptm_point *p)
{
    s->start = p->start_unix_nano;
    s->end = p->time_unix_nano;
    s->start_fixed = p->start_unix_nano != 0;
}

static int add_histogram(struct store_series *s, uint64_t *buckets, uint32_t nb, const struct ptm_point *p)
{
    double sum = s->sum + p->sum;
    if (!isfinite(sum) || s->count + p->count < s->count)
        return PTM_ELIMIT;
    for (uint32_t i = 0; i < nb; i++)
        buckets[i] += p->bucket_counts[i];
    if (p->count > 0) {
        s->min = s->count == 0 || p->min < s->min ? p->min : s->min;
        s->max = s->count == 0 || p->max > s->max ? p->max : s->max;
    }
    s->count += p->count;
    s->sum = sum;
    widen(s, p);
    return 0;
}

static void set_histogram(struct store_series *s, uint64_t *buckets, uint32_t nb, const struct ptm_point *p)
{
    memcpy(buckets, p->bucket_counts, nb * sizeof *buckets);
    s->count = p->count;
    s->sum = p->sum;
    s->min = p->min;
    s->max = p->max;
    replace_interval(s, p);
}

static int apply_point(struct ptm_store *dst, struct store_series *s, const struct ptm_metric_def *def,
                       const struct ptm_point *p, bool delta)
{
    if (def->kind == PTM_METRIC_GAUGE) {
        s->value = p->value;
        s->start = p->start_unix_nano;
        s->end = p->time_unix_nano;
        return 0;
    }
    if (def->kind == PTM_METRIC_HISTOGRAM) {
        uint64_t *buckets = dst->bucket_pool.data + s->buckets;
        if (!delta) {
            set_histogram(s, buckets, def->n_bounds + 1, p);
            return 0;
        }
        return add_histogram(s, buckets, def->n_bounds + 1, p);
    }
    s->feed = FEED_ADD;
    if (!delta) {
        s->value = p->value;
        replace_interval(s, p);
        return 0;
    }
    if (!isfinite(s->value + p->value))
        return PTM_ELIMIT;
    s->value += p->value;
    widen(s, p);
    return 0;
}

static int merge_point(struct id_maps *m, const struct ptm_point *p, bool delta, uint64_t now,
                       struct ptm_error *err)
{
    if (p->metric >= m->src->metrics.len || p->resource >= m->src->resources.len ||
        p->attributes >= m->src->sets.len)
        return ptm_error_set(err, PTM_EINVAL, "merge: a point names an id its store does not have");
    uint32_t metric = map_metric(m, p->metric, false, err);
    if (metric == FAILED)
        return err != NULL && err->code != 0 ? err->code : PTM_EINVAL;
    uint32_t resource = map_resource(m, p->resource);
    uint32_t set = point_set(m, p->attributes);
    if (resource == UINT32_MAX || set == UINT32_MAX)
        return ptm_error_set(err, PTM_ENOMEM, "merge: out of memory interning a resource or attribute set");
    struct store_series *s = ptm_store_series_get(m->dst, metric, resource, set);
    if (s == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "merge: out of memory adding a series");
    const struct ptm_metric_def *def = &m->dst->metrics.data[metric]->def;
    int rc = apply_point(m->dst, s, def, p, delta);
    if (rc != 0)
        return ptm_error_set(err, rc, "merge: metric \"%s\": the total is no longer finite", def->name);
    s->fresh = true;
    s->merged_at = now;
    m->dst->changes++;
    return 0;
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ptm_store_merge_with(struct ptm_store *dst, const struct ptm_snapshot *snap,
                         const struct ptm_merge_options *opts, struct ptm_error *err)
{
    if (snap->store == NULL || snap->store == dst)
        return ptm_error_set(err, PTM_EINVAL, "merge: the snapshot has no store, or is of the target itself");
    struct id_maps m;
    int first = maps_init(&m, dst, snap->store, opts->name_prefix);
    if (first != 0) {
        maps_fini(&m);
        return ptm_error_set(err, first, "merge: out of memory");
    }
    m.replace_changed = opts->replace_changed;
    first = intern_extra_labels(&m, opts, err);
    if (first != 0) {
        maps_fini(&m);
        return first;
    }
    uint64_t now = opts->now_unix_nano ? opts->now_unix_nano : realtime_ns();
    struct ptm_error point_err = {0};
    for (size_t i = 0; i < snap->len; i++) {
        int rc = merge_point(&m, &snap->points[i], opts->delta, now, &point_err);
        if (rc != 0 && first == 0) {
            first = rc;
            if (err != NULL)
                *err = point_err;
        }
    }
    maps_fini(&m);
    return first;
}

int ptm_store_merge(struct ptm_store *dst, const struct ptm_snapshot *snap, bool delta)
{
    struct ptm_merge_options opts = {.delta = delta};
    return ptm_store_merge_with(dst, snap, &opts, NULL);
}

// ---- expiry and compaction ----

// Drop the series drop() picks, keeping the rest (and their buckets) packed.
static uint32_t drop_series(struct ptm_store *store, bool (*drop)(const struct store_series *s, uint64_t arg),
                            uint64_t arg)
{
    uint32_t kept = 0, pool = 0, dropped = 0;
    for (uint32_t id = 0; id < store->series.len; id++) {
        struct store_series *s = &store->series.data[id];
        const struct ptm_metric_def *def = &store->metrics.data[s->metric]->def;
        uint32_t nb = def->kind == PTM_METRIC_HISTOGRAM ? def->n_bounds + 1 : 0;
        if (drop(s, arg)) {
            if (!s->overflow)
                store->metrics.data[s->metric]->series_count--;
            dropped++;
            continue;
        }
        if (nb > 0)
            memmove(store->bucket_pool.data + pool, store->bucket_pool.data + s->buckets,
                    nb * sizeof *store->bucket_pool.data);
        s->buckets = pool;
        pool += nb;
        store->series.data[kept++] = *s;
    }
    if (dropped > 0) {
        store->series.len = kept;
        store->bucket_pool.len = pool;
        ptm_store_series_reindex(store);
    }
    return dropped;
}

static bool merged_before(const struct store_series *s, uint64_t before)
{
    return s->merged_at < before;
}

uint32_t ptm_store_expire(struct ptm_store *store, uint64_t before_unix_nano)
{
    return drop_series(store, merged_before, before_unix_nano);
}

static bool of_metric(const struct store_series *s, uint64_t metric)
{
    return s->metric == metric;
}

void ptm_store_drop_metric_series(struct ptm_store *store, uint32_t metric)
{
    drop_series(store, of_metric, metric);
}

// Copy series s of m->src, state and all, into m->dst.
static int copy_series(struct id_maps *m, const struct store_series *s)
{
    uint32_t metric = map_metric(m, s->metric, true, NULL);
    uint32_t resource = map_resource(m, s->resource);
    uint32_t set = s->overflow ? m->dst->overflow_set : point_set(m, s->attributes);
    if (metric == FAILED || resource == UINT32_MAX || set == UINT32_MAX)
        return PTM_ENOMEM;
    struct store_series *t = ptm_store_series_get(m->dst, metric, resource, set);
    if (t == NULL)
        return PTM_ENOMEM;
    uint32_t buckets = t->buckets;
    *t = *s;
    t->metric = metric;
    t->resource = resource;
    t->attributes = set;
    t->buckets = buckets;
    const struct ptm_metric_def *def = &m->src->metrics.data[s->metric]->def;
    if (def->kind == PTM_METRIC_HISTOGRAM)
        memcpy(m->dst->bucket_pool.data + buckets, m->src->bucket_pool.data + s->buckets,
               (def->n_bounds + 1) * sizeof(uint64_t));
    return 0;
}

struct ptm_store *ptm_store_compact(const struct ptm_store *store)
{
    struct ptm_store *out = ptm_store_create(&store->opts);
    if (out == NULL)
        return NULL;
    struct id_maps m;
    int rc = maps_init(&m, out, store, NULL);
    for (uint32_t id = 0; rc == 0 && id < store->series.len; id++)
        rc = copy_series(&m, &store->series.data[id]);
    // Keep the overflow tallies of the metrics that still have series.
    for (uint32_t id = 0; rc == 0 && id < store->metrics.len; id++)
        if (m.metrics[id] != UNMAPPED && m.metrics[id] != FAILED)
            out->metrics.data[m.metrics[id]]->overflowed = store->metrics.data[id]->overflowed;
    maps_fini(&m);
    if (rc != 0) {
        ptm_store_destroy(out);
        return NULL;
    }
    out->changes = store->changes;
    return out;
}

// ---- carrying series over to a replacing store ----

static bool same_definition(const struct ptm_metric_def *a, const struct ptm_metric_def *b)
{
    if (a->kind != b->kind || a->value_type != b->value_type || strcmp(a->unit, b->unit) != 0)
        return false;
    return a->kind != PTM_METRIC_HISTOGRAM ||
           (a->n_bounds == b->n_bounds &&
            (a->n_bounds == 0 || memcmp(a->bounds, b->bounds, a->n_bounds * sizeof *a->bounds) == 0));
}

// dst's id of src's metric id when dst defines it the same way; else
// UNMAPPED (gone) or FAILED (changed).
static uint32_t carried_metric(const struct ptm_store *dst, const struct ptm_store *src, uint32_t id)
{
    const struct ptm_metric_def *def = &src->metrics.data[id]->def;
    uint32_t found = ptm_strmap_find(&dst->metric_map, def->name, (uint32_t)strlen(def->name));
    if (found == UINT32_MAX)
        return UNMAPPED;
    return same_definition(&dst->metrics.data[found]->def, def) ? found : FAILED;
}

int ptm_store_carry_over(struct ptm_store *dst, const struct ptm_store *src,
                         void (*skipped)(void *ctx, const char *metric, enum ptm_carry_skip why), void *ctx)
{
    if (src->opts.temporality != dst->opts.temporality)
        return 0;
    struct id_maps m;
    int rc = maps_init(&m, dst, src, NULL);
    bool *over_limit = calloc(src->metrics.len ? src->metrics.len : 1, sizeof *over_limit);
    if (rc != 0 || over_limit == NULL) {
        maps_fini(&m);
        free(over_limit);
        return PTM_ENOMEM;
    }
    for (uint32_t id = 0; id < src->metrics.len; id++) {
        m.metrics[id] = carried_metric(dst, src, id);
        if (m.metrics[id] == UNMAPPED || m.metrics[id] == FAILED) {
            if (skipped != NULL)
                skipped(ctx, src->metrics.data[id]->def.name,
                        m.metrics[id] == UNMAPPED ? PTM_CARRY_GONE : PTM_CARRY_CHANGED);
            continue;
        }
        dst->metrics.data[m.metrics[id]]->overflowed = src->metrics.data[id]->overflowed;
    }
    int carried = 0;
    for (uint32_t i = 0; rc == 0 && i < src->series.len; i++) {
        const struct store_series *s = &src->series.data[i];
        uint32_t metric = m.metrics[s->metric];
        if (metric == UNMAPPED || metric == FAILED)
            continue;
        const struct store_metric *target = dst->metrics.data[metric];
        if (!s->overflow && target->series_count >= target->series_limit) {
            over_limit[s->metric] = true; // copy_series would land in the overflow series
            continue;
        }
        rc = copy_series(&m, s);
        carried += rc == 0;
    }
    for (uint32_t id = 0; skipped != NULL && id < src->metrics.len; id++)
        if (over_limit[id])
            skipped(ctx, src->metrics.data[id]->def.name, PTM_CARRY_OVER_LIMIT);
    maps_fini(&m);
    free(over_limit);
    return rc != 0 ? rc : carried;
}
