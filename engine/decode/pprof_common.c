// SPDX-License-Identifier: Apache-2.0
//
// The pprof builder shared by both pprof decoders (see pprof_common.h):
// checks of string indices and ids with messages that name the entry, id ->
// index resolution, and deduplication of stacks and labels. Indices stored
// in the model are request-local; ptm_batch_finish rebases them.
#include "decode/pprof_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

struct pprof_dedup_slot {
    uint32_t hash;
    uint32_t index; // request-local table index; 0 = empty slot
};

int pprof_nomem(struct pprof_builder *b)
{
    return ptm_error_set(b->err, PTM_ENOMEM, "out of memory decoding a pprof profile");
}

// ---- ids ----

// Move from "ids are positions" to a map, entering the n ids seen so far.
static int ids_start_map(struct pprof_ids *ids, uint32_t n)
{
    ids->hashed = true;
    for (uint32_t i = 0; i < n; i++) {
        if (ptm_u64map_put(&ids->map, (uint64_t)i + 1, i) != 0)
            return -1;
    }
    return 0;
}

// Record the id of the entry at the next position.
static int ids_add(struct pprof_builder *b, struct pprof_ids *ids, uint64_t id)
{
    uint32_t position = ids->len++;
    if (id == 0) {
        if (ids->zeros++ == 0)
            ids->first_zero = position;
        return 0;
    }
    if (!ids->hashed && id == (uint64_t)position + 1)
        return 0;
    if (!ids->hashed && ids_start_map(ids, position) != 0)
        return pprof_nomem(b);
    uint32_t other;
    if (ptm_u64map_get(&ids->map, id, &other))
        return ptm_error_set(b->err, PTM_EFORMAT,
                             "pprof: %s %" PRIu32 ": id %" PRIu64 " is also the id of %s %" PRIu32,
                             ids->name, position, id, ids->name, other);
    if (ptm_u64map_put(&ids->map, id, position) != 0)
        return pprof_nomem(b);
    return 0;
}

// After the last entry: ids must be nonzero, except that a table whose ids
// are all 0 is read by position (id = position + 1), as the .NET profiler
// writes its functions.
static int ids_end(struct pprof_builder *b, const struct pprof_ids *ids)
{
    if (ids->zeros == 0 || ids->zeros == ids->len)
        return 0;
    return ptm_error_set(b->err, PTM_EFORMAT,
                         "pprof: %s %" PRIu32 ": id is 0 (ids must be nonzero; %" PRIu32
                         " of the %" PRIu32 " %s have one)",
                         ids->name, ids->first_zero, ids->len - ids->zeros, ids->len, ids->plural);
}

// ---- strings ----

static uint32_t string_count(const struct pprof_builder *b)
{
    return b->m->strings.len - b->strings_off;
}

// A string index as the model stores it; false when out of range. Index 0
// ("" or unset) is always valid: ptm_batch_finish gives an empty string
// table its "" entry.
static bool string_index(const struct pprof_builder *b, int64_t v, int32_t *out)
{
    bool ok = v == 0 || (v > 0 && (uint64_t)v < string_count(b));
    *out = ok ? (int32_t)v : 0;
    return ok;
}

static int bad_string(struct pprof_builder *b, const char *where, const char *field, int64_t v)
{
    return ptm_error_set(b->err, PTM_EFORMAT,
                         "pprof: %s: %s %" PRId64 " out of range (the profile has %" PRIu32 " strings)",
                         where, field, v, string_count(b));
}

// Check and convert a string index of the entry `what position`.
static int take_string(struct pprof_builder *b, int64_t v, int32_t *out, const char *what,
                       uint32_t position, const char *field)
{
    if (string_index(b, v, out))
        return 0;
    char where[64];
    snprintf(where, sizeof where, "%s %" PRIu32, what, position);
    return bad_string(b, where, field, v);
}

int pprof_add_string(struct pprof_builder *b, const void *ptr, size_t len)
{
    if (len > UINT32_MAX)
        return ptm_error_set(b->err, PTM_ELIMIT, "pprof: string %" PRIu32 " is longer than 4 GiB",
                             string_count(b));
    struct ptm_str *s = PTM_VEC_PUSH(b->m->strings);
    if (s == NULL)
        return pprof_nomem(b);
    s->ptr = len ? ptr : "";
    s->len = (uint32_t)len;
    return 0;
}

// ---- set up ----

#define PUSH_ZERO(b, table)                              \
    do {                                                 \
        void *e_ = PTM_VEC_PUSH((b)->m->table);          \
        if (e_ == NULL)                                  \
            return pprof_nomem(b);                       \
        memset(e_, 0, sizeof *(b)->m->table.data);       \
    } while (0)

int pprof_builder_init(struct pprof_builder *b, struct ptm_model *m, struct ptm_error *err)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    b->err = err;
    b->strings_off = m->strings.len;
    b->stacks_off = m->stacks.len;
    b->attributes_off = m->attributes.len;
    b->profiles_off = m->profiles.len;
    b->samples_off = m->samples.len;
    b->resource = m->resources.len;
    b->scope = m->scopes.len;
    b->comments.off = m->indices.len;
    b->functions.name = "function";
    b->functions.plural = "functions";
    b->mappings.name = "mapping";
    b->mappings.plural = "mappings";
    b->locations.name = "location";
    b->locations.plural = "locations";
    PUSH_ZERO(b, functions);
    PUSH_ZERO(b, mappings);
    PUSH_ZERO(b, locations);
    PUSH_ZERO(b, stacks);
    PUSH_ZERO(b, attributes);
    PUSH_ZERO(b, links);
    PUSH_ZERO(b, resources);
    PUSH_ZERO(b, scopes);
    m->scopes.data[b->scope].resource = b->resource;
    return 0;
}

void pprof_builder_fini(struct pprof_builder *b)
{
    ptm_u64map_free(&b->functions.map);
    ptm_u64map_free(&b->mappings.map);
    ptm_u64map_free(&b->locations.map);
    free(b->stacks.slots);
    free(b->attributes.slots);
    b->stacks.slots = b->attributes.slots = NULL;
}

// ---- dictionary ----

int pprof_add_sample_type(struct pprof_builder *b, int64_t type, int64_t unit)
{
    struct ptm_model *m = b->m;
    uint32_t position = m->profiles.len - b->profiles_off;
    struct ptm_profile p;
    memset(&p, 0, sizeof p);
    if (take_string(b, type, &p.sample_type.type, "sample_type", position, "type") ||
        take_string(b, unit, &p.sample_type.unit, "sample_type", position, "unit"))
        return PTM_EFORMAT;
    p.value_column = (int32_t)position;
    struct ptm_profile *slot = PTM_VEC_PUSH(m->profiles);
    if (slot == NULL)
        return pprof_nomem(b);
    *slot = p;
    return 0;
}

int pprof_add_comment(struct pprof_builder *b, int64_t strindex)
{
    int32_t s;
    if (take_string(b, strindex, &s, "comment", b->comments.len, "string index") != 0)
        return PTM_EFORMAT;
    int32_t *slot = PTM_VEC_PUSH(b->m->indices);
    if (slot == NULL)
        return pprof_nomem(b);
    *slot = s;
    b->comments.len++;
    return 0;
}

int pprof_add_function(struct pprof_builder *b, const struct pprof_function *f)
{
    struct ptm_model *m = b->m;
    uint32_t position = b->functions.len;
    struct ptm_function fn = {.start_line = f->start_line};
    if (take_string(b, f->name, &fn.name, "function", position, "name") ||
        take_string(b, f->system_name, &fn.system_name, "function", position, "system_name") ||
        take_string(b, f->filename, &fn.filename, "function", position, "filename"))
        return PTM_EFORMAT;
    int rc = ids_add(b, &b->functions, f->id);
    if (rc != 0)
        return rc;
    struct ptm_function *slot = PTM_VEC_PUSH(m->functions);
    if (slot == NULL)
        return pprof_nomem(b);
    *slot = fn;
    return 0;
}

int pprof_add_mapping(struct pprof_builder *b, const struct pprof_mapping *mp)
{
    struct ptm_model *m = b->m;
    uint32_t position = b->mappings.len;
    struct ptm_mapping out = {
        .memory_start = mp->memory_start,
        .memory_limit = mp->memory_limit,
        .file_offset = mp->file_offset,
    };
    if (take_string(b, mp->filename, &out.filename, "mapping", position, "filename") ||
        take_string(b, mp->build_id, &out.build_id, "mapping", position, "build_id"))
        return PTM_EFORMAT;
    int rc = ids_add(b, &b->mappings, mp->id);
    if (rc != 0)
        return rc;
    struct ptm_mapping *slot = PTM_VEC_PUSH(m->mappings);
    if (slot == NULL)
        return pprof_nomem(b);
    *slot = out;
    return 0;
}

int pprof_end_dictionary(struct pprof_builder *b)
{
    if (ids_end(b, &b->functions) || ids_end(b, &b->mappings))
        return PTM_EFORMAT;
    return 0;
}

int pprof_add_line(struct pprof_builder *b, uint32_t location, uint32_t line_no,
                   uint64_t function_id, int64_t line, int64_t column)
{
    struct ptm_line out = {.line = line, .column = column};
    if (function_id != 0 && !pprof_ids_find(&b->functions, function_id, &out.function))
        return ptm_error_set(b->err, PTM_EFORMAT,
                             "pprof: location %" PRIu32 ": line %" PRIu32 ": function_id %" PRIu64
                             " not found (the profile has %" PRIu32 " functions)",
                             location, line_no, function_id, b->functions.len);
    struct ptm_line *slot = PTM_VEC_PUSH(b->m->lines);
    if (slot == NULL)
        return pprof_nomem(b);
    *slot = out;
    return 0;
}

int pprof_add_location(struct pprof_builder *b, const struct pprof_location *loc, uint32_t lines_off)
{
    struct ptm_model *m = b->m;
    uint32_t position = b->locations.len;
    struct ptm_location out = {
        .lines = {lines_off, m->lines.len - lines_off},
        .address = loc->address,
    };
    if (loc->mapping_id != 0 && !pprof_ids_find(&b->mappings, loc->mapping_id, &out.mapping))
        return ptm_error_set(b->err, PTM_EFORMAT,
                             "pprof: location %" PRIu32 ": mapping_id %" PRIu64
                             " not found (the profile has %" PRIu32 " mappings)",
                             position, loc->mapping_id, b->mappings.len);
    int rc = ids_add(b, &b->locations, loc->id);
    if (rc != 0)
        return rc;
    struct ptm_location *slot = PTM_VEC_PUSH(m->locations);
    if (slot == NULL)
        return pprof_nomem(b);
    *slot = out;
    return 0;
}

int pprof_end_locations(struct pprof_builder *b)
{
    return ids_end(b, &b->locations) ? PTM_EFORMAT : 0;
}

// ---- deduplication ----

// Whether the table entry at a request-local index equals the candidate.
typedef bool (*same_entry)(const struct pprof_builder *b, uint32_t index, const void *candidate);

static int dedup_grow(struct pprof_dedup *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    struct pprof_dedup_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (t->slots[i].index == 0)
            continue;
        uint32_t j = t->slots[i].hash & (cap - 1);
        while (slots[j].index != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

// Find the entry the caller's `same` says equals the candidate, or claim a
// slot for new_index. Returns the index found, new_index when added, or 0
// when out of memory.
static uint32_t dedup_find_or_add(const struct pprof_builder *b, struct pprof_dedup *t, uint64_t hash,
                                  same_entry same, const void *candidate, uint32_t new_index)
{
    if ((t->len + 1) * 2 > t->cap && (t->cap >= UINT32_MAX / 2 || dedup_grow(t) != 0))
        return 0;
    uint32_t h = (uint32_t)(hash ^ hash >> 32);
    uint32_t mask = t->cap - 1;
    uint32_t i = h & mask;
    for (; t->slots[i].index != 0; i = (i + 1) & mask) {
        if (t->slots[i].hash == h && same(b, t->slots[i].index, candidate))
            return t->slots[i].index;
    }
    t->slots[i] = (struct pprof_dedup_slot){h, new_index};
    t->len++;
    return new_index;
}

// ---- samples ----

void pprof_sample_begin(struct pprof_builder *b, struct pprof_sample *s)
{
    s->index = b->m->samples.len - b->samples_off;
    s->locations_off = b->m->indices.len;
    s->values_off = b->m->values.len;
    s->attributes_off = 0;
    s->stack = 0;
}

int pprof_unknown_location(struct pprof_builder *b, const struct pprof_sample *s, uint64_t id)
{
    return ptm_error_set(b->err, PTM_EFORMAT,
                         "pprof: sample %" PRIu32 ": location_id %" PRIu64
                         " not found (the profile has %" PRIu32 " locations)",
                         s->index, id, b->locations.len);
}

static bool same_stack(const struct pprof_builder *b, uint32_t index, const void *candidate)
{
    const struct ptm_range *list = candidate;
    const struct ptm_stack *s = &b->m->stacks.data[b->stacks_off + index];
    return s->locations.len == list->len &&
           memcmp(&b->m->indices.data[s->locations.off], &b->m->indices.data[list->off],
                  list->len * sizeof(int32_t)) == 0;
}

int pprof_sample_end_locations(struct pprof_builder *b, struct pprof_sample *s)
{
    struct ptm_model *m = b->m;
    struct ptm_range list = {s->locations_off, m->indices.len - s->locations_off};
    s->stack = 0;
    if (list.len != 0) {
        uint64_t hash = ptm_hash_bytes(&m->indices.data[list.off], list.len * sizeof(int32_t), 0);
        uint32_t next = m->stacks.len - b->stacks_off;
        uint32_t found = dedup_find_or_add(b, &b->stacks, hash, same_stack, &list, next);
        if (found == 0)
            return pprof_nomem(b);
        if (found != next) {
            m->indices.len = list.off; // the same list is already a stack
        } else {
            struct ptm_stack *slot = PTM_VEC_PUSH(m->stacks);
            if (slot == NULL)
                return pprof_nomem(b);
            slot->locations = list;
        }
        s->stack = (int32_t)found;
    }
    s->attributes_off = m->indices.len;
    return 0;
}

static bool same_attribute(const struct pprof_builder *b, uint32_t index, const void *candidate)
{
    const struct ptm_attribute *x = &b->m->attributes.data[b->attributes_off + index];
    const struct ptm_attribute *y = candidate;
    if (x->key != y->key || x->unit != y->unit || x->value.kind != y->value.kind)
        return false;
    return y->value.kind == PTM_ANY_STRING ? x->value.strindex == y->value.strindex
                                           : x->value.u.i == y->value.u.i;
}

static int bad_label_string(struct pprof_builder *b, const struct pprof_sample *s,
                            uint32_t label_no, const char *field, int64_t v)
{
    char where[64];
    snprintf(where, sizeof where, "sample %" PRIu32 ": label %" PRIu32, s->index, label_no);
    return bad_string(b, where, field, v);
}

// A label as an attribute: str set (nonzero) makes a string label, else a
// numeric one with num_unit as its unit.
static int label_attribute(struct pprof_builder *b, const struct pprof_sample *s, uint32_t label_no,
                           const struct pprof_label *l, struct ptm_attribute *a)
{
    memset(a, 0, sizeof *a);
    a->value.strindex = -1;
    if (!string_index(b, l->key, &a->key))
        return bad_label_string(b, s, label_no, "key", l->key);
    if (l->str != 0) {
        if (!string_index(b, l->str, &a->value.strindex))
            return bad_label_string(b, s, label_no, "str", l->str);
        a->value.kind = PTM_ANY_STRING;
        a->value.u.str = b->m->strings.data[b->strings_off + (uint32_t)a->value.strindex];
        return 0;
    }
    if (!string_index(b, l->num_unit, &a->unit))
        return bad_label_string(b, s, label_no, "num_unit", l->num_unit);
    a->value.kind = PTM_ANY_INT;
    a->value.u.i = l->num;
    return 0;
}

static uint64_t attribute_hash(const struct ptm_attribute *a)
{
    uint64_t v = a->value.kind == PTM_ANY_STRING ? (uint64_t)a->value.strindex : (uint64_t)a->value.u.i;
    uint64_t h = ptm_hash_u64((uint64_t)(uint32_t)a->key << 32 | (uint32_t)a->unit);
    return ptm_hash_u64(h ^ v ^ (uint64_t)a->value.kind << 60);
}

int pprof_sample_add_label(struct pprof_builder *b, const struct pprof_sample *s, uint32_t label_no,
                           const struct pprof_label *label)
{
    struct ptm_model *m = b->m;
    // A label with neither a value nor a unit says nothing: pprof drops it.
    if (label->str == 0 && label->num == 0 && label->num_unit == 0)
        return 0;
    struct ptm_attribute a;
    int rc = label_attribute(b, s, label_no, label, &a);
    if (rc != 0)
        return rc;
    uint32_t next = m->attributes.len - b->attributes_off;
    uint32_t found = dedup_find_or_add(b, &b->attributes, attribute_hash(&a), same_attribute, &a, next);
    if (found == 0)
        return pprof_nomem(b);
    if (found == next) {
        struct ptm_attribute *slot = PTM_VEC_PUSH(m->attributes);
        if (slot == NULL)
            return pprof_nomem(b);
        *slot = a;
    }
    int32_t *index = PTM_VEC_PUSH(m->indices);
    if (index == NULL)
        return pprof_nomem(b);
    *index = (int32_t)found;
    return 0;
}

int pprof_sample_end(struct pprof_builder *b, const struct pprof_sample *s)
{
    struct ptm_model *m = b->m;
    uint32_t n_values = m->values.len - s->values_off;
    uint32_t n_types = m->profiles.len - b->profiles_off;
    if (n_values != n_types)
        return ptm_error_set(b->err, PTM_EFORMAT,
                             "pprof: sample %" PRIu32 ": %" PRIu32 " values but the profile has %" PRIu32
                             " sample types",
                             s->index, n_values, n_types);
    struct ptm_sample *slot = PTM_VEC_PUSH(m->samples);
    if (slot == NULL)
        return pprof_nomem(b);
    memset(slot, 0, sizeof *slot);
    slot->stack = s->stack;
    slot->attributes = (struct ptm_range){s->attributes_off, m->indices.len - s->attributes_off};
    slot->values = (struct ptm_range){s->values_off, n_values};
    return 0;
}

// ---- the profiles ----

int pprof_builder_finish(struct pprof_builder *b, const struct pprof_header *h)
{
    struct ptm_model *m = b->m;
    int32_t drop, keep, period_type, period_unit;
    if (!string_index(b, h->drop_frames, &drop))
        return bad_string(b, "profile", "drop_frames", h->drop_frames);
    if (!string_index(b, h->keep_frames, &keep))
        return bad_string(b, "profile", "keep_frames", h->keep_frames);
    if (!string_index(b, h->period_type, &period_type))
        return bad_string(b, "profile", "period_type.type", h->period_type);
    if (!string_index(b, h->period_unit, &period_unit))
        return bad_string(b, "profile", "period_type.unit", h->period_unit);
    struct ptm_range samples = {b->samples_off, m->samples.len - b->samples_off};
    for (uint32_t i = b->profiles_off; i < m->profiles.len; i++) {
        // Each profile gets its own copy of the comments: ptm_batch_finish
        // rebases every profile's list, and a shared one would be rebased
        // once per sample type.
        struct ptm_range comments = b->comments;
        if (i > b->profiles_off && comments.len != 0) {
            if (PTM_VEC_RESERVE(m->indices, comments.len) != 0)
                return pprof_nomem(b);
            comments.off = m->indices.len;
            memcpy(&m->indices.data[comments.off], &m->indices.data[b->comments.off],
                   comments.len * sizeof(int32_t));
            m->indices.len += comments.len;
        }
        struct ptm_profile *p = &m->profiles.data[i];
        p->batch = m->batches.len - 1;
        p->resource = b->resource;
        p->scope = b->scope;
        p->period_type = (struct ptm_value_type){period_type, period_unit};
        p->period = h->period;
        p->time_unix_nano = (uint64_t)h->time_nanos; // negative: kept as the bits it had
        p->duration_nano = (uint64_t)h->duration_nanos;
        p->samples = samples;
        p->comments = comments;
        p->drop_frames = drop;
        p->keep_frames = keep;
    }
    return 0;
}
