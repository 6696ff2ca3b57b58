-- SPDX-License-Identifier: Apache-2.0
--
-- The C declarations the trusted runtime reads the model through: a copy of
-- engine/model/model.h and engine/lua/ffi_api.h for LuaJIT's FFI. A unit test
-- compares every size and offset here with the C compiler's, so the two
-- cannot drift apart. Only the trusted runtime (scripts/ptm) loads this;
-- rules never see the FFI.
local ffi = require "ffi"

ffi.cdef [[
struct ptm_str { const char *ptr; uint32_t len; };
struct ptm_range { uint32_t off; uint32_t len; };
struct ptm_any {
    uint8_t kind;
    int32_t strindex;
    union { struct ptm_str str; int64_t i; double d; struct ptm_range list; } u;
};
struct ptm_keyvalue { struct ptm_str key; int32_t key_strindex; struct ptm_any value; };
struct ptm_attribute { int32_t key; int32_t unit; struct ptm_any value; };
struct ptm_value_type { int32_t type; int32_t unit; };
struct ptm_function { int32_t name; int32_t system_name; int32_t filename; int64_t start_line; };
struct ptm_line { int32_t function; int64_t line; int64_t column; };
struct ptm_location {
    int32_t mapping; struct ptm_range lines; struct ptm_range attributes; uint64_t address;
};
struct ptm_mapping {
    uint64_t memory_start; uint64_t memory_limit; uint64_t file_offset;
    int32_t filename; int32_t build_id; struct ptm_range attributes;
};
struct ptm_stack { struct ptm_range locations; };
struct ptm_link { struct ptm_str trace_id; struct ptm_str span_id; };
struct ptm_sample {
    int32_t stack; int32_t link; struct ptm_range attributes; struct ptm_range values;
    struct ptm_range timestamps;
};
struct ptm_resource { struct ptm_range attributes; uint32_t dropped_attributes_count; struct ptm_str schema_url; };
struct ptm_scope {
    uint32_t resource; struct ptm_str name; struct ptm_str version; struct ptm_str schema_url;
    struct ptm_range attributes; uint32_t dropped_attributes_count;
};
struct ptm_profile {
    uint32_t batch; uint32_t resource; uint32_t scope;
    struct ptm_value_type sample_type; struct ptm_value_type period_type;
    int64_t period; uint64_t time_unix_nano; uint64_t duration_nano;
    struct ptm_range samples; int32_t value_column; struct ptm_range attributes;
    struct ptm_str profile_id; struct ptm_str original_payload_format;
    uint32_t dropped_attributes_count; struct ptm_range comments;
    int32_t drop_frames; int32_t keep_frames;
};
struct ptm_batch {
    uint8_t format; uint8_t otlp_version; uint8_t otlp_candidates; bool gzipped; uint32_t index;
    struct ptm_range resources, scopes, profiles;
    struct ptm_range strings, functions, locations, mappings, stacks, attributes, links;
    struct ptm_range keyvalues, anys;
};
struct ptm_model {
    struct { struct ptm_batch *data; uint32_t len, cap; } batches;
    struct { struct ptm_resource *data; uint32_t len, cap; } resources;
    struct { struct ptm_scope *data; uint32_t len, cap; } scopes;
    struct { struct ptm_profile *data; uint32_t len, cap; } profiles;
    struct { struct ptm_sample *data; uint32_t len, cap; } samples;
    struct { int64_t *data; uint32_t len, cap; } values;
    struct { uint64_t *data; uint32_t len, cap; } timestamps;
    struct { int32_t *data; uint32_t len, cap; } indices;
    struct { struct ptm_str *data; uint32_t len, cap; } strings;
    struct { struct ptm_function *data; uint32_t len, cap; } functions;
    struct { struct ptm_location *data; uint32_t len, cap; } locations;
    struct { struct ptm_line *data; uint32_t len, cap; } lines;
    struct { struct ptm_mapping *data; uint32_t len, cap; } mappings;
    struct { struct ptm_stack *data; uint32_t len, cap; } stacks;
    struct { struct ptm_attribute *data; uint32_t len, cap; } attributes;
    struct { struct ptm_link *data; uint32_t len, cap; } links;
    struct { struct ptm_keyvalue *data; uint32_t len, cap; } keyvalues;
    struct { struct ptm_any *data; uint32_t len, cap; } anys;
    void *arena;
    uint32_t rejected_profiles;
};

struct ptm_agg;
struct ptm_sample_sets;
struct ptm_store;
struct ptm_regex;
struct ptm_function_keys;
struct ptm_budget;
struct ptm_agg_entry { uint32_t key[2]; double sum; uint64_t count; };
struct ptm_emit {
    struct ptm_store *store; uint32_t metric; uint32_t resource; uint64_t start, end; double scale;
    int cumulative; const uint32_t *consts; uint32_t n_consts; const uint32_t *part_keys; uint32_t n_parts;
    const uint32_t *value_of;
};
struct ptm_error { int code; char message[1024]; };
struct ptm_sample_columns {
    const uint32_t *key_of; const uint32_t *column_of; uint32_t columns; uint32_t stride; uint32_t *out;
};

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
]]

return ffi
