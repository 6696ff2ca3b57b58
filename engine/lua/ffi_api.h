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
#include "metrics/agg.h"
#include "metrics/store.h"
#include "model/function_keys.h"
#include "model/model.h"
#include "util/regex.h"
#include "util/topk.h"

struct ptm_ffi_api {
    void (*weights)(const struct ptm_model *model, uint32_t profile, double *out);
    struct ptm_agg *(*agg_create)(void);
    void (*agg_destroy)(struct ptm_agg *agg);
    void (*agg_clear)(struct ptm_agg *agg);
    int (*agg_add)(struct ptm_agg *agg, uint32_t k0, uint32_t k1, uint32_t k2, uint32_t k3, double v);
    uint32_t (*agg_len)(const struct ptm_agg *agg);
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
    uint32_t (*fk_expand)(const struct ptm_function_keys *fk, const double *stack_weight,
                          const uint32_t *stack_mark, uint32_t stack_gen, double *acc, uint32_t *mark,
                          uint32_t gen, uint32_t *touched);
    uint32_t (*top_k)(const double *values, const uint32_t *keys, uint32_t n, uint32_t k, uint32_t *out,
                      double *rest);
    int (*emit_dense)(const struct ptm_emit *e, const double *acc, const uint32_t *keys, uint32_t n);
    void (*budget_start)(struct ptm_budget *b, int section);
    void (*budget_stop)(struct ptm_budget *b);
};

/// The one table of functions, static.
const struct ptm_ffi_api *ptm_ffi_api(void);

/// Fill out[i] with the weight of sample i of model->profiles.data[profile]
/// (ptm_sample_weight as a double), for every sample of the profile.
void ptm_ffi_weights(const struct ptm_model *model, uint32_t profile, double *out);
