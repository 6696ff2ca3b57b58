// SPDX-License-Identifier: Apache-2.0
//
// The format-independent profile model. Every decoder (OTLP protobuf v1.8 to
// v1.11, OTLP JSON, pprof) fills these flat tables; rules, `inspect` and the
// metrics stages read only these. Everything is addressed by integer index
// into a table, as in OTLP's dictionary; strings are views (pointer, length)
// into the input bytes or into the model's arena, never copied per profile.
//
// Conventions, whatever the input format:
// - Index 0 of every dictionary table (strings, functions, locations, lines'
//   functions, mappings, stacks, attributes, links) is the "unset" entry.
// - Indices are global over the model: when one input holds several requests
//   (JSON Lines, the Collector file exporter's framed stream) or several
//   files are decoded into one model, each request's tables are appended and
//   its indices rebased, so an index never needs its request to be read.
// - The first location of a stack is the leaf; the first line of a location
//   is the innermost inlined function.
// - A profile has exactly one sample type. A pprof profile with N sample
//   types becomes N model profiles sharing the same samples; value_column
//   says which value of each sample belongs to the profile.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "profiletometrics.h" // enum ptm_format
#include "util/vec.h"

struct ptm_arena;

/// A string view: len bytes at ptr, not NUL-terminated, borrowed from the
/// input or the model's arena. May hold any bytes, including invalid UTF-8.
struct ptm_str {
    const char *ptr;
    uint32_t len;
};

/// A [off, off+len) slice of one of the model's tables.
struct ptm_range {
    uint32_t off;
    uint32_t len;
};

enum ptm_any_kind {
    PTM_ANY_NONE = 0, // an AnyValue with no value set
    PTM_ANY_STRING,
    PTM_ANY_BOOL,
    PTM_ANY_INT,
    PTM_ANY_DOUBLE,
    PTM_ANY_BYTES,
    PTM_ANY_ARRAY,  // u.list: a range of model.anys
    PTM_ANY_KVLIST, // u.list: a range of model.keyvalues
};

/// An attribute value (OTLP AnyValue).
struct ptm_any {
    uint8_t kind;     // enum ptm_any_kind
    int32_t strindex; // STRING: the string-table index it came as, or -1
    union {
        struct ptm_str str; // STRING, BYTES
        int64_t i;          // INT; BOOL as 0 or 1
        double d;           // DOUBLE
        struct ptm_range list;
    } u;
};

/// A key and value with a literal key (resource, scope, nested kvlists).
struct ptm_keyvalue {
    struct ptm_str key;
    int32_t key_strindex; // the string-table index the key came as (OTLP v1.10), or -1
    struct ptm_any value;
};

/// A dictionary attribute (OTLP KeyValueAndUnit, pprof label).
struct ptm_attribute {
    int32_t key;  // string index
    int32_t unit; // string index, 0 = none
    struct ptm_any value;
};

struct ptm_value_type {
    int32_t type; // string index
    int32_t unit; // string index
};

struct ptm_function {
    int32_t name;        // string index
    int32_t system_name; // string index
    int32_t filename;    // string index
    int64_t start_line;
};

struct ptm_line {
    int32_t function; // function index
    int64_t line;     // 0 = unknown
    int64_t column;   // 0 = unknown
};

struct ptm_location {
    int32_t mapping;              // mapping index, 0 = unknown
    struct ptm_range lines;       // model.lines; innermost inlined first
    struct ptm_range attributes;  // model.indices: attribute indices
    uint64_t address;
};

struct ptm_mapping {
    uint64_t memory_start;
    uint64_t memory_limit;
    uint64_t file_offset;
    int32_t filename;            // string index
    int32_t build_id;            // string index (pprof), 0 = none
    struct ptm_range attributes; // model.indices: attribute indices
};

/// A call stack: model.indices[locations] are location indices, leaf first.
struct ptm_stack {
    struct ptm_range locations;
};

struct ptm_link {
    struct ptm_str trace_id; // 16 bytes when set
    struct ptm_str span_id;  // 8 bytes when set
};

/// One sample. Its weight for a profile is its values (OTLP: one per event,
/// of the profile's sample type; pprof: one per sample type, value_column
/// picks one), or, when it has no values, 1 per timestamp.
struct ptm_sample {
    int32_t stack;               // stack index
    int32_t link;                // link index, 0 = none
    struct ptm_range attributes; // model.indices: attribute indices
    struct ptm_range values;     // model.values
    struct ptm_range timestamps; // model.timestamps, ns since the epoch
};

struct ptm_resource {
    struct ptm_range attributes; // model.keyvalues
    uint32_t dropped_attributes_count;
    struct ptm_str schema_url;
};

struct ptm_scope {
    uint32_t resource; // resource index
    struct ptm_str name;
    struct ptm_str version;
    struct ptm_str schema_url;
    struct ptm_range attributes; // model.keyvalues
    uint32_t dropped_attributes_count;
};

struct ptm_profile {
    uint32_t batch;    // the request or file it came from
    uint32_t resource; // resource index
    uint32_t scope;    // scope index
    struct ptm_value_type sample_type;
    struct ptm_value_type period_type;
    int64_t period;
    uint64_t time_unix_nano;
    uint64_t duration_nano;
    struct ptm_range samples; // model.samples
    int32_t value_column;     // -1: every value is an event of sample_type (OTLP)
    struct ptm_range attributes; // model.indices: attribute indices
    struct ptm_str profile_id;
    struct ptm_str original_payload_format;
    uint32_t dropped_attributes_count;
    struct ptm_range comments; // model.indices: string indices (pprof)
    int32_t drop_frames;       // string index (pprof), 0 = none
    int32_t keep_frames;       // string index (pprof), 0 = none
};

// enum ptm_format (the input formats) is public: include/profiletometrics.h.

/// One request (OTLP) or file (pprof) of the input, and where its tables sit.
struct ptm_batch {
    uint8_t format;       // enum ptm_format
    uint8_t otlp_version; // 8, 9 or 10 (v1.10 and v1.11 share a wire format); 0 for pprof
    uint8_t otlp_candidates; // versions the bytes fit: bit 0 v1.8, bit 1 v1.9, bit 2 v1.10
    bool gzipped;         // the input was gzip-compressed
    uint32_t index;       // position in its input (request number, line number - 1)
    struct ptm_range resources, scopes, profiles;
    struct ptm_range strings, functions, locations, mappings, stacks, attributes, links;
    struct ptm_range keyvalues, anys;
};

/// The decoded input. Create once, reset between requests; the tables keep
/// their capacity so steady-state decoding allocates nothing.
struct ptm_model {
    PTM_VEC(struct ptm_batch) batches;
    PTM_VEC(struct ptm_resource) resources;
    PTM_VEC(struct ptm_scope) scopes;
    PTM_VEC(struct ptm_profile) profiles;
    PTM_VEC(struct ptm_sample) samples;
    PTM_VEC(int64_t) values;
    PTM_VEC(uint64_t) timestamps;
    PTM_VEC(int32_t) indices; // every list of indices: stack locations, attribute lists
    PTM_VEC(struct ptm_str) strings;
    PTM_VEC(struct ptm_function) functions;
    PTM_VEC(struct ptm_location) locations;
    PTM_VEC(struct ptm_line) lines;
    PTM_VEC(struct ptm_mapping) mappings;
    PTM_VEC(struct ptm_stack) stacks;
    PTM_VEC(struct ptm_attribute) attributes;
    PTM_VEC(struct ptm_link) links;
    PTM_VEC(struct ptm_keyvalue) keyvalues;
    PTM_VEC(struct ptm_any) anys;
    struct ptm_arena *arena; // decompressed input, unescaped strings, protobuf-c trees
    uint32_t rejected_profiles; // profiles dropped by validation since the last reset
};

/// Create an empty model. Returns NULL when out of memory. Free with
/// ptm_model_destroy.
struct ptm_model *ptm_model_create(void);

/// Free the model, its tables and its arena. NULL is a no-op.
void ptm_model_destroy(struct ptm_model *model);

/// Empty every table and the arena, keeping their memory for reuse.
void ptm_model_reset(struct ptm_model *model);

/// The lengths of every table, to roll a failed decode back with.
struct ptm_model_mark {
    uint32_t len[18];
    size_t arena_used;
};

/// Remember the current table lengths.
void ptm_model_mark(const struct ptm_model *model, struct ptm_model_mark *mark);

/// Truncate every table to the lengths in mark (arena memory is not given
/// back until the next reset).
void ptm_model_rollback(struct ptm_model *model, const struct ptm_model_mark *mark);

/// The string at index i; an empty view when i is out of range.
static inline struct ptm_str ptm_model_string(const struct ptm_model *model, int32_t i)
{
    if (i < 0 || (uint32_t)i >= model->strings.len)
        return (struct ptm_str){"", 0};
    return model->strings.data[i];
}

/// The leaf function of a stack: the innermost function of its first
/// location, or 0 when the stack is empty or the location has no lines.
static inline int32_t ptm_model_leaf_function(const struct ptm_model *model, int32_t stack)
{
    const struct ptm_stack *s = &model->stacks.data[stack];
    if (s->locations.len == 0)
        return 0;
    const struct ptm_location *loc = &model->locations.data[model->indices.data[s->locations.off]];
    if (loc->lines.len == 0)
        return 0;
    return model->lines.data[loc->lines.off].function;
}

/// A sample's weight in its profile's sample type: the value in the
/// profile's column (pprof), the sum of its values (OTLP), or the number of
/// its timestamps when it has no values. Saturates instead of overflowing.
int64_t ptm_sample_weight(const struct ptm_model *model, const struct ptm_profile *profile,
                          const struct ptm_sample *sample);

/// The name of a format, e.g. "otlp-json".
const char *ptm_format_name(enum ptm_format format);
