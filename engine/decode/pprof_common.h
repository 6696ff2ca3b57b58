// SPDX-License-Identifier: Apache-2.0
//
// What the two pprof decoders share: they read the bytes differently (by
// hand in pprof.c, with protobuf-c in pprof_protobuf_c.c) but hand every
// entry to the same builder, which checks it, resolves pprof's arbitrary ids
// to table indices, deduplicates stacks and labels and appends to the model.
// So both produce the same model, table by table, entry by entry.
//
// The builder must be fed in this order, whatever order the file wrote its
// fields in: strings; then sample types, header fields, comments, functions
// and mappings; pprof_end_dictionary; locations with their lines;
// pprof_end_locations; samples; pprof_builder_finish.
//
// Model conventions: functions, locations and mappings get a zero entry 0,
// then one entry per pprof entry in file order (model index = position + 1,
// request-local); each distinct location list becomes one stack (stack 0 is
// the empty one); each distinct label becomes one dictionary attribute; one
// model profile per sample type, all sharing the samples.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/hash.h"

/// pprof ids of one table (functions, mappings or locations) -> model index.
/// While the ids are 1..n in file order (as the Go runtime writes them) no
/// map is built: the id is the index.
struct pprof_ids {
    const char *name, *plural; // "function", "functions", for messages
    struct ptm_u64map map; // id -> position, once the ids stop being 1..n
    uint32_t len;          // entries added
    uint32_t zeros;        // entries whose id is 0
    uint32_t first_zero;   // position of the first of them
    bool hashed;           // map in use
};

/// A set of table entries keyed by content (stacks, attributes).
struct pprof_dedup {
    struct pprof_dedup_slot *slots;
    uint32_t cap; // a power of two, or 0
    uint32_t len;
};

/// Profile fields that apply to every sample type, as the file wrote them.
struct pprof_header {
    int64_t drop_frames, keep_frames; // string indices
    int64_t time_nanos, duration_nanos;
    int64_t period_type, period_unit; // string indices
    int64_t period;
};

struct pprof_function {
    uint64_t id;
    int64_t name, system_name, filename; // string indices
    int64_t start_line;
};

struct pprof_mapping {
    uint64_t id;
    uint64_t memory_start, memory_limit, file_offset;
    int64_t filename, build_id; // string indices
};

struct pprof_location {
    uint64_t id;
    uint64_t mapping_id; // 0 = none
    uint64_t address;
};

struct pprof_label {
    int64_t key, str, num, num_unit; // key, str, num_unit: string indices
};

/// One sample being built: where its lists start.
struct pprof_sample {
    uint32_t index;          // position in the file's sample list
    uint32_t locations_off;  // model->indices, resolved location indices
    uint32_t values_off;     // model->values
    uint32_t attributes_off; // model->indices, set by pprof_sample_end_locations
    int32_t stack;
};

struct pprof_builder {
    struct ptm_model *m;
    struct ptm_error *err;
    // Where this file's entries start in the model's tables.
    uint32_t strings_off, stacks_off, attributes_off, profiles_off, samples_off;
    uint32_t resource, scope; // model indices of the file's resource and scope
    struct ptm_range comments;
    struct pprof_ids functions, mappings, locations;
    struct pprof_dedup stacks, attributes;
};

/// Start a file: zero entries of every table, the resource and the scope.
/// The batch must be open. Returns 0 or PTM_ENOMEM; call pprof_builder_fini
/// in either case.
int pprof_builder_init(struct pprof_builder *b, struct ptm_model *m, struct ptm_error *err);

/// Free the builder's maps (the model keeps what was appended).
void pprof_builder_fini(struct pprof_builder *b);

/// Append string_table entries (borrowed views, kept by the model).
int pprof_add_string(struct pprof_builder *b, const void *ptr, size_t len);

/// Append a sample type: one model profile.
int pprof_add_sample_type(struct pprof_builder *b, int64_t type, int64_t unit);

/// Append a comment (a string index).
int pprof_add_comment(struct pprof_builder *b, int64_t strindex);

int pprof_add_function(struct pprof_builder *b, const struct pprof_function *f);
int pprof_add_mapping(struct pprof_builder *b, const struct pprof_mapping *mp);

/// After every function and mapping: check their ids.
int pprof_end_dictionary(struct pprof_builder *b);

/// Append one Line of the location at position `location` (lines go to
/// model->lines in file order, before pprof_add_location of their location).
int pprof_add_line(struct pprof_builder *b, uint32_t location, uint32_t line_no,
                   uint64_t function_id, int64_t line, int64_t column);

/// Append a location whose lines are model->lines[lines_off..len).
int pprof_add_location(struct pprof_builder *b, const struct pprof_location *loc,
                       uint32_t lines_off);

/// After every location: check their ids.
int pprof_end_locations(struct pprof_builder *b);

/// The model index (request-local) of a pprof id, when known.
static inline bool pprof_ids_find(const struct pprof_ids *ids, uint64_t id, int32_t *index)
{
    if (!ids->hashed) {
        if (id - 1 >= ids->len) // id 0 wraps around
            return false;
        *index = (int32_t)id;
        return true;
    }
    uint32_t position;
    if (!ptm_u64map_get(&ids->map, id, &position))
        return false;
    *index = (int32_t)position + 1;
    return true;
}

/// Start a sample: its resolved location indices are then pushed to
/// model->indices and its values to model->values by the decoder.
void pprof_sample_begin(struct pprof_builder *b, struct pprof_sample *s);

/// The error for a location_id of sample s that no location has.
int pprof_unknown_location(struct pprof_builder *b, const struct pprof_sample *s, uint64_t id);

/// After the sample's locations: turn them into a stack (shared with every
/// sample that has the same list).
int pprof_sample_end_locations(struct pprof_builder *b, struct pprof_sample *s);

/// Add a label of the sample (after pprof_sample_end_locations).
int pprof_sample_add_label(struct pprof_builder *b, const struct pprof_sample *s, uint32_t label_no,
                           const struct pprof_label *label);

/// Check the sample's values and append it.
int pprof_sample_end(struct pprof_builder *b, const struct pprof_sample *s);

/// Fill every profile with the header and the samples.
int pprof_builder_finish(struct pprof_builder *b, const struct pprof_header *h);

/// Set err for running out of memory.
int pprof_nomem(struct pprof_builder *b);
