// SPDX-License-Identifier: Apache-2.0
//
// model_compare: walk two models table by table and report the first entry
// where they differ, naming the table, the index and the field.
#include "model_compare.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct compare {
    const struct ptm_model *a, *b;
    unsigned flags;
    char *why;
    size_t why_size;
};

__attribute__((format(printf, 2, 3))) static int differ(struct compare *c, const char *fmt, ...)
{
    if (c->why != NULL && c->why_size != 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, c->why_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int compare_u64(struct compare *c, const char *where, const char *field, uint64_t x,
                       uint64_t y)
{
    if (x == y)
        return 0;
    return differ(c, "%s.%s: %" PRIu64 " vs %" PRIu64, where, field, x, y);
}

static int compare_i64(struct compare *c, const char *where, const char *field, int64_t x,
                       int64_t y)
{
    if (x == y)
        return 0;
    return differ(c, "%s.%s: %" PRId64 " vs %" PRId64, where, field, x, y);
}

static int compare_str(struct compare *c, const char *where, const char *field, struct ptm_str x,
                       struct ptm_str y)
{
    if (x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, x.len) == 0))
        return 0;
    return differ(c, "%s.%s: \"%.*s\" (%" PRIu32 " bytes) vs \"%.*s\" (%" PRIu32 " bytes)", where,
                  field, (int)(x.len > 60 ? 60 : x.len), x.ptr ? x.ptr : "", x.len,
                  (int)(y.len > 60 ? 60 : y.len), y.ptr ? y.ptr : "", y.len);
}

// A range into one of the model's main tables: the same position.
static int compare_position(struct compare *c, const char *where, const char *field,
                            struct ptm_range x, struct ptm_range y)
{
    if (x.off == y.off && x.len == y.len)
        return 0;
    return differ(c, "%s.%s: {%" PRIu32 ", %" PRIu32 "} vs {%" PRIu32 ", %" PRIu32 "}", where,
                  field, x.off, x.len, y.off, y.len);
}

// A range into a shared pool: the same length, and with LAYOUT the same
// offset (empty lists have no meaningful offset).
static int compare_extent(struct compare *c, const char *where, const char *field,
                          struct ptm_range x, struct ptm_range y)
{
    bool layout = (c->flags & MODEL_COMPARE_LAYOUT) && x.len != 0;
    if (x.len == y.len && (!layout || x.off == y.off))
        return 0;
    return compare_position(c, where, field, x, y);
}

#define COMPARE_POOL_LIST(name, pool, type, fmt)                                              \
    static int name(struct compare *c, const char *where, const char *field, struct ptm_range x, \
                    struct ptm_range y)                                                       \
    {                                                                                         \
        if (compare_extent(c, where, field, x, y) != 0)                                       \
            return -1;                                                                        \
        for (uint32_t i = 0; i < x.len; i++) {                                                \
            type u = c->a->pool.data[x.off + i], v = c->b->pool.data[y.off + i];              \
            if (u != v)                                                                       \
                return differ(c, "%s.%s[%" PRIu32 "]: %" fmt " vs %" fmt, where, field, i, u, v); \
        }                                                                                     \
        return 0;                                                                             \
    }

COMPARE_POOL_LIST(compare_indices, indices, int32_t, PRId32)
COMPARE_POOL_LIST(compare_values, values, int64_t, PRId64)
COMPARE_POOL_LIST(compare_timestamps, timestamps, uint64_t, PRIu64)

static int compare_keyvalues(struct compare *c, const char *where, struct ptm_range x,
                             struct ptm_range y);
static int compare_anys(struct compare *c, const char *where, struct ptm_range x, struct ptm_range y);

static int compare_any(struct compare *c, const char *where, const struct ptm_any *x,
                       const struct ptm_any *y)
{
    if (x->kind != y->kind)
        return differ(c, "%s: value kind %d vs %d", where, x->kind, y->kind);
    switch (x->kind) {
    case PTM_ANY_STRING:
        if (compare_i64(c, where, "strindex", x->strindex, y->strindex) != 0)
            return -1;
        return compare_str(c, where, "string", x->u.str, y->u.str);
    case PTM_ANY_BYTES: return compare_str(c, where, "bytes", x->u.str, y->u.str);
    case PTM_ANY_BOOL:
    case PTM_ANY_INT: return compare_i64(c, where, "int", x->u.i, y->u.i);
    case PTM_ANY_DOUBLE:
        if (memcmp(&x->u.d, &y->u.d, sizeof x->u.d) == 0)
            return 0;
        return differ(c, "%s.double: %.17g vs %.17g", where, x->u.d, y->u.d);
    case PTM_ANY_ARRAY: return compare_anys(c, where, x->u.list, y->u.list);
    case PTM_ANY_KVLIST: return compare_keyvalues(c, where, x->u.list, y->u.list);
    default: return 0;
    }
}

static int compare_anys(struct compare *c, const char *where, struct ptm_range x, struct ptm_range y)
{
    if (compare_extent(c, where, "array", x, y) != 0)
        return -1;
    for (uint32_t i = 0; i < x.len; i++) {
        char at[256];
        snprintf(at, sizeof at, "%s[%" PRIu32 "]", where, i);
        if (compare_any(c, at, &c->a->anys.data[x.off + i], &c->b->anys.data[y.off + i]) != 0)
            return -1;
    }
    return 0;
}

static int compare_keyvalues(struct compare *c, const char *where, struct ptm_range x,
                             struct ptm_range y)
{
    if (compare_extent(c, where, "keyvalues", x, y) != 0)
        return -1;
    for (uint32_t i = 0; i < x.len; i++) {
        const struct ptm_keyvalue *u = &c->a->keyvalues.data[x.off + i];
        const struct ptm_keyvalue *v = &c->b->keyvalues.data[y.off + i];
        char at[256];
        snprintf(at, sizeof at, "%s.keyvalues[%" PRIu32 "]", where, i);
        if (compare_str(c, at, "key", u->key, v->key) ||
            compare_i64(c, at, "key_strindex", u->key_strindex, v->key_strindex) ||
            compare_any(c, at, &u->value, &v->value))
            return -1;
    }
    return 0;
}

static int compare_lines(struct compare *c, const char *where, struct ptm_range x, struct ptm_range y)
{
    if (compare_extent(c, where, "lines", x, y) != 0)
        return -1;
    for (uint32_t i = 0; i < x.len; i++) {
        const struct ptm_line *u = &c->a->lines.data[x.off + i];
        const struct ptm_line *v = &c->b->lines.data[y.off + i];
        char at[160];
        snprintf(at, sizeof at, "%s.lines[%" PRIu32 "]", where, i);
        if (compare_i64(c, at, "function", u->function, v->function) ||
            compare_i64(c, at, "line", u->line, v->line) ||
            compare_i64(c, at, "column", u->column, v->column))
            return -1;
    }
    return 0;
}

// ---- one function per table entry ----

static int compare_batch(struct compare *c, const char *at, const struct ptm_batch *x,
                         const struct ptm_batch *y)
{
    return compare_u64(c, at, "format", x->format, y->format) ||
           compare_u64(c, at, "otlp_version", x->otlp_version, y->otlp_version) ||
           compare_u64(c, at, "otlp_candidates", x->otlp_candidates, y->otlp_candidates) ||
           compare_u64(c, at, "gzipped", x->gzipped, y->gzipped) ||
           compare_u64(c, at, "index", x->index, y->index) ||
           compare_position(c, at, "resources", x->resources, y->resources) ||
           compare_position(c, at, "scopes", x->scopes, y->scopes) ||
           compare_position(c, at, "profiles", x->profiles, y->profiles) ||
           compare_position(c, at, "strings", x->strings, y->strings) ||
           compare_position(c, at, "functions", x->functions, y->functions) ||
           compare_position(c, at, "locations", x->locations, y->locations) ||
           compare_position(c, at, "mappings", x->mappings, y->mappings) ||
           compare_position(c, at, "stacks", x->stacks, y->stacks) ||
           compare_position(c, at, "attributes", x->attributes, y->attributes) ||
           compare_position(c, at, "links", x->links, y->links) ||
           compare_extent(c, at, "keyvalues", x->keyvalues, y->keyvalues) ||
           compare_extent(c, at, "anys", x->anys, y->anys)
               ? -1
               : 0;
}

static int compare_resource(struct compare *c, const char *at, const struct ptm_resource *x,
                            const struct ptm_resource *y)
{
    return compare_keyvalues(c, at, x->attributes, y->attributes) ||
           compare_u64(c, at, "dropped_attributes_count", x->dropped_attributes_count,
                       y->dropped_attributes_count) ||
           compare_str(c, at, "schema_url", x->schema_url, y->schema_url)
               ? -1
               : 0;
}

static int compare_scope(struct compare *c, const char *at, const struct ptm_scope *x,
                         const struct ptm_scope *y)
{
    return compare_u64(c, at, "resource", x->resource, y->resource) ||
           compare_str(c, at, "name", x->name, y->name) ||
           compare_str(c, at, "version", x->version, y->version) ||
           compare_str(c, at, "schema_url", x->schema_url, y->schema_url) ||
           compare_keyvalues(c, at, x->attributes, y->attributes) ||
           compare_u64(c, at, "dropped_attributes_count", x->dropped_attributes_count,
                       y->dropped_attributes_count)
               ? -1
               : 0;
}

static int compare_profile_header(struct compare *c, const char *at, const struct ptm_profile *x,
                                  const struct ptm_profile *y)
{
    return compare_u64(c, at, "batch", x->batch, y->batch) ||
           compare_u64(c, at, "resource", x->resource, y->resource) ||
           compare_u64(c, at, "scope", x->scope, y->scope) ||
           compare_i64(c, at, "sample_type.type", x->sample_type.type, y->sample_type.type) ||
           compare_i64(c, at, "sample_type.unit", x->sample_type.unit, y->sample_type.unit) ||
           compare_i64(c, at, "period_type.type", x->period_type.type, y->period_type.type) ||
           compare_i64(c, at, "period_type.unit", x->period_type.unit, y->period_type.unit) ||
           compare_i64(c, at, "period", x->period, y->period) ||
           compare_u64(c, at, "time_unix_nano", x->time_unix_nano, y->time_unix_nano) ||
           compare_u64(c, at, "duration_nano", x->duration_nano, y->duration_nano)
               ? -1
               : 0;
}

static int compare_profile(struct compare *c, const char *at, const struct ptm_profile *x,
                           const struct ptm_profile *y)
{
    return compare_profile_header(c, at, x, y) ||
           compare_position(c, at, "samples", x->samples, y->samples) ||
           compare_i64(c, at, "value_column", x->value_column, y->value_column) ||
           compare_indices(c, at, "attributes", x->attributes, y->attributes) ||
           compare_str(c, at, "profile_id", x->profile_id, y->profile_id) ||
           compare_str(c, at, "original_payload_format", x->original_payload_format,
                       y->original_payload_format) ||
           compare_u64(c, at, "dropped_attributes_count", x->dropped_attributes_count,
                       y->dropped_attributes_count) ||
           compare_indices(c, at, "comments", x->comments, y->comments) ||
           compare_i64(c, at, "drop_frames", x->drop_frames, y->drop_frames) ||
           compare_i64(c, at, "keep_frames", x->keep_frames, y->keep_frames)
               ? -1
               : 0;
}

static int compare_sample(struct compare *c, const char *at, const struct ptm_sample *x,
                          const struct ptm_sample *y)
{
    return compare_i64(c, at, "stack", x->stack, y->stack) ||
           compare_i64(c, at, "link", x->link, y->link) ||
           compare_indices(c, at, "attributes", x->attributes, y->attributes) ||
           compare_values(c, at, "values", x->values, y->values) ||
           compare_timestamps(c, at, "timestamps", x->timestamps, y->timestamps)
               ? -1
               : 0;
}

static int compare_string(struct compare *c, const char *at, const struct ptm_str *x,
                          const struct ptm_str *y)
{
    return compare_str(c, at, "value", *x, *y);
}

static int compare_function(struct compare *c, const char *at, const struct ptm_function *x,
                            const struct ptm_function *y)
{
    return compare_i64(c, at, "name", x->name, y->name) ||
           compare_i64(c, at, "system_name", x->system_name, y->system_name) ||
           compare_i64(c, at, "filename", x->filename, y->filename) ||
           compare_i64(c, at, "start_line", x->start_line, y->start_line)
               ? -1
               : 0;
}

static int compare_location(struct compare *c, const char *at, const struct ptm_location *x,
                            const struct ptm_location *y)
{
    return compare_i64(c, at, "mapping", x->mapping, y->mapping) ||
           compare_u64(c, at, "address", x->address, y->address) ||
           compare_lines(c, at, x->lines, y->lines) ||
           compare_indices(c, at, "attributes", x->attributes, y->attributes)
               ? -1
               : 0;
}

static int compare_mapping(struct compare *c, const char *at, const struct ptm_mapping *x,
                           const struct ptm_mapping *y)
{
    return compare_u64(c, at, "memory_start", x->memory_start, y->memory_start) ||
           compare_u64(c, at, "memory_limit", x->memory_limit, y->memory_limit) ||
           compare_u64(c, at, "file_offset", x->file_offset, y->file_offset) ||
           compare_i64(c, at, "filename", x->filename, y->filename) ||
           compare_i64(c, at, "build_id", x->build_id, y->build_id) ||
           compare_indices(c, at, "attributes", x->attributes, y->attributes)
               ? -1
               : 0;
}

static int compare_stack(struct compare *c, const char *at, const struct ptm_stack *x,
                         const struct ptm_stack *y)
{
    return compare_indices(c, at, "locations", x->locations, y->locations);
}

static int compare_attribute(struct compare *c, const char *at, const struct ptm_attribute *x,
                             const struct ptm_attribute *y)
{
    return compare_i64(c, at, "key", x->key, y->key) ||
           compare_i64(c, at, "unit", x->unit, y->unit) ||
           compare_any(c, at, &x->value, &y->value)
               ? -1
               : 0;
}

static int compare_link(struct compare *c, const char *at, const struct ptm_link *x,
                        const struct ptm_link *y)
{
    return compare_str(c, at, "trace_id", x->trace_id, y->trace_id) ||
           compare_str(c, at, "span_id", x->span_id, y->span_id)
               ? -1
               : 0;
}

// Compare the lengths of a table, then each of its entries with fn.
#define COMPARE_TABLE(c, table, fn)                                                            \
    do {                                                                                       \
        if ((c)->a->table.len != (c)->b->table.len)                                            \
            return differ(c, #table ": %" PRIu32 " vs %" PRIu32 " entries", (c)->a->table.len, \
                          (c)->b->table.len);                                                  \
        for (uint32_t i_ = 0; i_ < (c)->a->table.len; i_++) {                                  \
            char at_[64];                                                                      \
            snprintf(at_, sizeof at_, #table "[%" PRIu32 "]", i_);                             \
            if (fn(c, at_, &(c)->a->table.data[i_], &(c)->b->table.data[i_]) != 0)             \
                return -1;                                                                     \
        }                                                                                      \
    } while (0)

#define COMPARE_POOL_LENGTH(c, pool)                                                           \
    do {                                                                                       \
        if ((c)->a->pool.len != (c)->b->pool.len)                                              \
            return differ(c, #pool ": %" PRIu32 " vs %" PRIu32 " entries", (c)->a->pool.len,   \
                          (c)->b->pool.len);                                                   \
    } while (0)

int model_compare(const struct ptm_model *a, const struct ptm_model *b, unsigned flags, char *why,
                  size_t why_size)
{
    struct compare c = {a, b, flags, why, why_size};
    if (why != NULL && why_size != 0)
        why[0] = '\0';
    if (a->rejected_profiles != b->rejected_profiles)
        return differ(&c, "rejected_profiles: %" PRIu32 " vs %" PRIu32, a->rejected_profiles,
                      b->rejected_profiles);
    COMPARE_TABLE(&c, batches, compare_batch);
    COMPARE_TABLE(&c, resources, compare_resource);
    COMPARE_TABLE(&c, scopes, compare_scope);
    COMPARE_TABLE(&c, profiles, compare_profile);
    COMPARE_TABLE(&c, samples, compare_sample);
    COMPARE_TABLE(&c, strings, compare_string);
    COMPARE_TABLE(&c, functions, compare_function);
    COMPARE_TABLE(&c, locations, compare_location);
    COMPARE_TABLE(&c, mappings, compare_mapping);
    COMPARE_TABLE(&c, stacks, compare_stack);
    COMPARE_TABLE(&c, attributes, compare_attribute);
    COMPARE_TABLE(&c, links, compare_link);
    if (flags & MODEL_COMPARE_LAYOUT) {
        COMPARE_POOL_LENGTH(&c, values);
        COMPARE_POOL_LENGTH(&c, timestamps);
        COMPARE_POOL_LENGTH(&c, indices);
        COMPARE_POOL_LENGTH(&c, lines);
        COMPARE_POOL_LENGTH(&c, keyvalues);
        COMPARE_POOL_LENGTH(&c, anys);
    }
    return 0;
}
