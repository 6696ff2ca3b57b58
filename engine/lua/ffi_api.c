// SPDX-License-Identifier: Apache-2.0
//
// The function table of ffi_api.h, with thin wrappers where the store's
// interface takes structs that are awkward to build from Lua.
#include "lua/ffi_api.h"

static int define_metric(struct ptm_store *store, const char *name, const char *description,
                         const char *unit, int kind, int value_type, const double *bounds, uint32_t n_bounds,
                         uint32_t series_limit, struct ptm_error *err)
{
    struct ptm_metric_def def = {
        .name = name,
        .description = description,
        .unit = unit,
        .kind = (enum ptm_metric_kind)kind,
        .value_type = (enum ptm_number_type)value_type,
        .bounds = bounds,
        .n_bounds = n_bounds,
        .series_limit = series_limit,
    };
    return ptm_store_define(store, &def, err);
}

static uint32_t value(struct ptm_store *store, int type, uint32_t string_id, int64_t i, double d)
{
    return ptm_store_value(store, (enum ptm_label_type)type, string_id, i, d);
}

static int add(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes, double v,
               uint64_t start, uint64_t end)
{
    return ptm_store_add(store, metric, resource, attributes, v, (struct ptm_window){start, end});
}

static int set_cumulative(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
                          double v, uint64_t start, uint64_t end)
{
    return ptm_store_set_cumulative(store, metric, resource, attributes, v, (struct ptm_window){start, end});
}

static int observe(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes, double v,
                   uint64_t count, uint64_t start, uint64_t end)
{
    return ptm_store_observe(store, metric, resource, attributes, v, count, (struct ptm_window){start, end});
}

static const char *fk_name(const struct ptm_function_keys *fk, uint32_t key, uint32_t *len)
{
    struct ptm_str s = ptm_function_keys_name(fk, key);
    *len = s.len;
    return s.ptr;
}

static const struct ptm_ffi_api api = {
    .samples_read = ptm_samples_read,
    .samples_undecided = ptm_samples_undecided,
    .samples_unseen = ptm_samples_unseen,
    .samples_any = ptm_samples_any,
    .samples_sum_by = ptm_samples_sum_by,
    .sets_create = ptm_sample_sets_create,
    .sets_destroy = ptm_sample_sets_destroy,
    .sets_intern = ptm_sample_sets_intern,
    .sets_tuple = ptm_sample_sets_tuple,
    .agg_create = ptm_agg_create,
    .agg_destroy = ptm_agg_destroy,
    .agg_clear = ptm_agg_clear,
    .agg_add = ptm_agg_add,
    .agg_len = ptm_agg_len,
    .spread_functions = ptm_spread_functions,
    .agg_entries = ptm_agg_entries,
    .define_metric = define_metric,
    .intern = ptm_store_string,
    .value = value,
    .attributes = ptm_store_attributes,
    .resource = ptm_store_resource,
    .add = add,
    .set_cumulative = set_cumulative,
    .observe = observe,
    .regex_compile = ptm_regex_compile,
    .regex_free = ptm_regex_free,
    .regex_match = ptm_regex_match,
    .fk_create = ptm_function_keys_create,
    .fk_destroy = ptm_function_keys_destroy,
    .fk_count = ptm_function_keys_count,
    .fk_name = fk_name,
    .fk_leaves = ptm_function_keys_leaves,
    .fk_stack = ptm_function_keys_stack,
    .fk_sum = ptm_function_keys_sum,
    .top_k = ptm_top_k,
    .emit_dense = ptm_emit_dense,
    .name_values = ptm_emit_name_values,
    .model_resource = ptm_emit_resource,
    .budget_start = ptm_budget_start,
    .budget_stop = ptm_budget_stop,
};

const struct ptm_ffi_api *ptm_ffi_api(void)
{
    return &api;
}
