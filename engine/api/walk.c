// SPDX-License-Identifier: Apache-2.0
//
// A snapshot's points translated into the public data point: the store's
// ids resolved to its strings and values, which the data point borrows.
#include "api/walk.h"

#include <stdlib.h>

#include "util/error.h"

// The labels of one attribute set, in a buffer reused from point to point.
struct labels {
    struct ptm_label *items;
    size_t cap;
};

static const char *string_or_empty(const struct ptm_store *store, uint32_t id)
{
    const char *s = ptm_store_string_data(store, id, NULL);
    return s != NULL ? s : "";
}

static int fill_labels(const struct ptm_store *store, uint32_t set, struct labels *out, size_t *count)
{
    uint32_t n = 0;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    if (n > out->cap) {
        struct ptm_label *bigger = realloc(out->items, n * sizeof *bigger);
        if (bigger == NULL)
            return PTM_ENOMEM;
        out->items = bigger;
        out->cap = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct ptm_label *l = &out->items[i];
        enum ptm_label_type type;
        uint32_t string_id;
        *l = (struct ptm_label){.key = string_or_empty(store, pairs[2 * i])};
        ptm_store_value_get(store, pairs[2 * i + 1], &type, &string_id, &l->int_value, &l->double_value);
        l->type = type;
        if (type == PTM_LABEL_STRING)
            l->string = string_or_empty(store, string_id);
    }
    *count = n;
    return 0;
}

int ptm_walk_snapshot(const struct ptm_snapshot *snap, ptm_data_point_fn fn, void *ctx, struct ptm_error *err)
{
    const struct ptm_store *store = snap->store;
    struct labels resource = {0}, attributes = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < snap->len; i++) {
        const struct ptm_point *p = &snap->points[i];
        const struct ptm_metric_def *def = ptm_store_metric(store, p->metric);
        uint32_t resource_set = 0, schema_url = 0;
        ptm_store_resource_get(store, p->resource, &resource_set, &schema_url);
        struct ptm_data_point dp = {
            .metric = def->name,
            .description = def->description ? def->description : "",
            .unit = def->unit ? def->unit : "",
            .kind = def->kind,
            .temporality = snap->temporality,
            .integer = def->value_type == PTM_NUMBER_INT,
            .schema_url = string_or_empty(store, schema_url),
            .start_unix_nano = p->start_unix_nano,
            .time_unix_nano = p->time_unix_nano,
            .value = p->value,
        };
        if (fill_labels(store, resource_set, &resource, &dp.resource_count) != 0 ||
            fill_labels(store, p->attributes, &attributes, &dp.attribute_count) != 0) {
            rc = ptm_error_set(err, PTM_ENOMEM, "out of memory walking the metrics");
            break;
        }
        dp.resource = resource.items;
        dp.attributes = attributes.items;
        if (def->kind == PTM_METRIC_HISTOGRAM) {
            dp.count = p->count;
            dp.sum = p->sum;
            dp.min = p->min;
            dp.max = p->max;
            dp.bounds = def->bounds;
            dp.bound_count = def->n_bounds;
            dp.bucket_counts = p->bucket_counts;
        }
        rc = fn(ctx, &dp);
    }
    free(resource.items);
    free(attributes.items);
    return rc;
}
