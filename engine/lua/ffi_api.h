// SPDX-License-Identifier: Apache-2.0
//
// The C functions the trusted Lua runtime calls through LuaJIT's FFI. They
// are handed over as one table of function pointers (a light userdata the
// runtime casts), not looked up by symbol name, so the runtime works the
// same in the executable, the shared library and a Lua module, whatever the
// dynamic linker exports. scripts/ptm/ffi.lua declares the same struct.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lua/budget.h"
#include "lua/emit.h"
#include "lua/sample_sets.h"
#include "lua/samples.h"
#include "lua/spread.h"
#include "metrics/agg.h"
#include "metrics/store.h"
#include "model/function_keys.h"
#include "model/model.h"
#include "util/regex.h"
#include "util/topk.h"

struct ptm_ffi_api {
    void (*samples_read)(const struct ptm_model *model, uint32_t profile, double *weight, uint32_t *stack,
                         const struct ptm_sample_columns *columns);
    uint32_t (*samples_undecided)(const struct ptm_model *model, uint32_t profile, const uint8_t *verdict,
                                  uint32_t *mark, uint32_t gen, uint32_t *list);
    uint32_t (*samples_unseen)(const uint32_t *column, uint32_t n, uint8_t *seen, uint32_t *list);
    void (*samples_any)(const struct ptm_model *model, uint32_t profile, const uint8_t *verdict, uint8_t *out);
    uint32_t (*samples_sum_by)(const uint32_t *key, const double *weight, uint32_t n, double *sum, uint32_t *mark,
                               uint32_t gen, uint32_t *touched);
    struct ptm_sample_sets *(*sets_create)(void);
    void (*sets_destroy)(struct ptm_sample_sets *sets);
    uint32_t (*sets_intern)(struct ptm_sample_sets *sets, const uint32_t *const *columns,
                            const uint32_t *const *maps, uint32_t k, uint32_t n, uint32_t *ids);
    const uint32_t *(*sets_tuple)(const struct ptm_sample_sets *sets, uint32_t id);
    struct ptm_agg *(*agg_create)(void);
    void (*agg_destroy)(struct ptm_agg *agg);
    void (*agg_clear)(struct ptm_agg *agg);
    int (*agg_add)(struct ptm_agg *agg, uint32_t attributes, uint32_t stack, double v);
    uint32_t (*agg_len)(const struct ptm_agg *agg);
    int (*spread_functions)(struct ptm_function_keys *fk, const struct ptm_agg *in, struct ptm_agg *out);
    const struct ptm_agg_entry *(*agg_entries)(const struct ptm_agg *agg);
    int (*define_metric)(struct ptm_store *store, const char *name, const char *description,
                         const char *unit, int kind, int value_type, const double *bounds,
                         uint32_t n_bounds, uint32_t series_limit, struct ptm_error *err);
    uint32_t (*intern)(struct ptm_store *store, const char *ptr, size_t len);
    uint32_t (*value)(struct ptm_store *store, int type, uint32_t string_id, int64_t i, double d);
    uint32_t (*attributes)(struct ptm_store *store, const uint32_t *pairs, uint32_t n);
    uint32_t (*resource)(struct ptm_store *store, uint32_t attributes, uint32_t schema_url);
    int (*add)(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
               double value, uint64_t start, uint64_t end);
    int (*set_cumulative)(struct ptm_store *store, uint32_t metric, uint32_t resource,
                          uint32_t attributes, double value, uint64_t start, uint64_t end);
    int (*observe)(struct ptm_store *store, uint32_t metric, uint32_t resource, uint32_t attributes,
                   double value, uint64_t count, uint64_t start, uint64_t end);
    struct ptm_regex *(*regex_compile)(const char *pattern, size_t len, struct ptm_error *err);
    void (*regex_free)(struct ptm_regex *re);
    int (*regex_match)(struct ptm_regex *re, const char *subject, size_t len, size_t *off, size_t *cap_len);
    struct ptm_function_keys *(*fk_create)(const struct ptm_model *model);
    void (*fk_destroy)(struct ptm_function_keys *fk);
    uint32_t (*fk_count)(const struct ptm_function_keys *fk);
    const char *(*fk_name)(const struct ptm_function_keys *fk, uint32_t key, uint32_t *len);
    const uint32_t *(*fk_leaves)(const struct ptm_function_keys *fk);
    const uint32_t *(*fk_stack)(struct ptm_function_keys *fk, uint32_t stack, uint32_t *len);
    uint32_t (*fk_sum)(struct ptm_function_keys *fk, bool each, const uint32_t *stacks, uint32_t n,
                       const double *weight, const uint8_t *verdict, uint32_t *keys, double *sums);
    uint32_t (*top_k)(const double *values, const uint32_t *ids, uint32_t n, uint32_t k, uint32_t *out,
                      double *rest);
    int (*emit_dense)(const struct ptm_emit *e, const double *sums, const uint32_t *keys, uint32_t n);
    void (*name_values)(struct ptm_store *store, const struct ptm_function_keys *fk, const uint32_t *keys,
                        uint32_t n, uint32_t *value_of);
    uint32_t (*model_resource)(struct ptm_store *store, const struct ptm_model *model, uint32_t r);
    void (*budget_start)(struct ptm_budget *b, int section);
    void (*budget_stop)(struct ptm_budget *b);
};

/// The one table of functions, static.
const struct ptm_ffi_api *ptm_ffi_api(void);

