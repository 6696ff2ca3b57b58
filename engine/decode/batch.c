// SPDX-License-Identifier: Apache-2.0
//
// Opening and closing a batch (one request or file) of the model. Decoders
// append entries with the indices exactly as the input wrote them, local to
// the request; closing the batch checks every index against the size of the
// table it points into, then rebases it so that it addresses the model's
// global tables. The check happens here, once, for every format: no consumer
// of the model ever sees an index out of range.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "util/error.h"

struct ptm_batch *ptm_batch_begin(struct ptm_model *model, enum ptm_format format,
                                  int otlp_version, uint32_t index)
{
    struct ptm_batch *b = PTM_VEC_PUSH(model->batches);
    if (b == NULL)
        return NULL;
    memset(b, 0, sizeof *b);
    b->format = (uint8_t)format;
    b->otlp_version = (uint8_t)otlp_version;
    b->index = index;
    // For now each range holds where its table starts; finish sets lengths.
    b->resources.off = model->resources.len;
    b->scopes.off = model->scopes.len;
    b->profiles.off = model->profiles.len;
    b->strings.off = model->strings.len;
    b->functions.off = model->functions.len;
    b->locations.off = model->locations.len;
    b->mappings.off = model->mappings.len;
    b->stacks.off = model->stacks.len;
    b->attributes.off = model->attributes.len;
    b->links.off = model->links.len;
    b->keyvalues.off = model->keyvalues.len;
    b->anys.off = model->anys.len;
    return b;
}

// Give an empty dictionary table its "unset" entry 0, so index 0 is always
// valid, as OTLP requires of a conformant producer anyway.
#define ENSURE_ZERO_ENTRY(model, table)                                \
    do {                                                               \
        if ((model)->table.len == batch->table.off) {                  \
            void *e = PTM_VEC_PUSH((model)->table);                    \
            if (e == NULL)                                             \
                return ptm_error_set(err, PTM_ENOMEM, "out of memory"); \
            memset(e, 0, sizeof *(model)->table.data);                 \
        }                                                              \
    } while (0)

static int close_ranges(struct ptm_model *model, struct ptm_batch *batch, struct ptm_error *err)
{
    ENSURE_ZERO_ENTRY(model, strings);
    ENSURE_ZERO_ENTRY(model, functions);
    ENSURE_ZERO_ENTRY(model, locations);
    ENSURE_ZERO_ENTRY(model, mappings);
    ENSURE_ZERO_ENTRY(model, stacks);
    ENSURE_ZERO_ENTRY(model, attributes);
    ENSURE_ZERO_ENTRY(model, links);
    batch->resources.len = model->resources.len - batch->resources.off;
    batch->scopes.len = model->scopes.len - batch->scopes.off;
    batch->profiles.len = model->profiles.len - batch->profiles.off;
    batch->strings.len = model->strings.len - batch->strings.off;
    batch->functions.len = model->functions.len - batch->functions.off;
    batch->locations.len = model->locations.len - batch->locations.off;
    batch->mappings.len = model->mappings.len - batch->mappings.off;
    batch->stacks.len = model->stacks.len - batch->stacks.off;
    batch->attributes.len = model->attributes.len - batch->attributes.off;
    batch->links.len = model->links.len - batch->links.off;
    batch->keyvalues.len = model->keyvalues.len - batch->keyvalues.off;
    batch->anys.len = model->anys.len - batch->anys.off;
    return 0;
}

// Check a request-local index against its table and rebase it. 0 or -1.
// A negative index, seen as unsigned, is past the end of any table.
static inline int rebase(int32_t *index, struct ptm_range table)
{
    if ((uint32_t)*index >= table.len)
        return -1;
    *index += (int32_t)table.off;
    return 0;
}

// Where an entry sits, for messages. Validation touches every sample and
// dictionary entry, so this is only formatted into text when something is
// wrong: "dictionary: stack_table[7]", "profile 2", "profile 2, sample 9",
// "attribute KEY".
struct place {
    const char *name;
    uint32_t index;    // UINT32_MAX: none
    uint32_t sample;   // UINT32_MAX: none
    bool bracket;      // name[index] rather than "name index"
    struct ptm_str key; // set: "attribute KEY"
};

#define TABLE_PLACE(table, i) ((struct place){"dictionary: " table, (i), UINT32_MAX, true, {NULL, 0}})
#define NAMED_PLACE(text) ((struct place){(text), UINT32_MAX, UINT32_MAX, false, {NULL, 0}})

static void place_format(const struct place *pl, char *out, size_t size)
{
    if (pl->key.ptr != NULL)
        snprintf(out, size, "attribute %.*s", (int)(pl->key.len > 40 ? 40 : pl->key.len), pl->key.ptr);
    else if (pl->index == UINT32_MAX)
        snprintf(out, size, "%s", pl->name);
    else if (pl->bracket)
        snprintf(out, size, "%s[%" PRIu32 "]", pl->name, pl->index);
    else if (pl->sample == UINT32_MAX)
        snprintf(out, size, "%s %" PRIu32, pl->name, pl->index);
    else
        snprintf(out, size, "%s %" PRIu32 ", sample %" PRIu32, pl->name, pl->index, pl->sample);
}

static int out_of_range(struct ptm_error *err, const struct place *pl, const char *field,
                        int32_t value, const char *table, uint32_t size)
{
    char where[160];
    place_format(pl, where, sizeof where);
    return ptm_error_set(err, PTM_EFORMAT, "%s: %s %" PRId32 " out of range (%s has %" PRIu32 " entries)",
                         where, field, value, table, size);
}

// Check and rebase every index of a list held in model->indices.
static int rebase_list(struct ptm_model *model, struct ptm_range list, struct ptm_range table,
                       const struct place *pl, const char *field, const char *table_name,
                       struct ptm_error *err)
{
    // Indexed from data, not from &data[off]: an empty list may sit in an
    // empty (NULL) vector, where even a zero offset is undefined.
    for (uint32_t i = 0; i < list.len; i++) {
        int32_t *idx = &model->indices.data[list.off + i];
        int32_t before = *idx;
        if (rebase(idx, table) != 0) {
            char at[64];
            snprintf(at, sizeof at, "%s[%" PRIu32 "]", field, i);
            return out_of_range(err, pl, at, before, table_name, table.len);
        }
    }
    return 0;
}

static int check_string(int32_t *index, const struct ptm_batch *b, const struct place *pl,
                        const char *field, struct ptm_error *err)
{
    int32_t before = *index;
    if (rebase(index, b->strings) != 0)
        return out_of_range(err, pl, field, before, "string_table", b->strings.len);
    return 0;
}

// Resolve a string value given as a string-table index (OTLP v1.10, pprof).
static int resolve_any(struct ptm_model *model, struct ptm_any *v, const struct ptm_batch *b,
                       const struct place *pl, struct ptm_error *err)
{
    if (v->kind != PTM_ANY_STRING || v->strindex < 0)
        return 0;
    if (check_string(&v->strindex, b, pl, "string_value_strindex", err) != 0)
        return PTM_EFORMAT;
    v->u.str = model->strings.data[v->strindex];
    return 0;
}

static int check_first_string(const struct ptm_model *model, const struct ptm_batch *b,
                              struct ptm_error *err)
{
    if (b->strings.len > 0 && model->strings.data[b->strings.off].len != 0) {
        struct ptm_str s = model->strings.data[b->strings.off];
        return ptm_error_set(err, PTM_EFORMAT,
                             "dictionary: string_table[0] must be \"\" but is \"%.*s\"",
                             (int)(s.len > 60 ? 60 : s.len), s.ptr);
    }
    return 0;
}

static int check_functions(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    for (uint32_t i = 0; i < b->functions.len; i++) {
        struct ptm_function *f = &model->functions.data[b->functions.off + i];
        struct place pl = TABLE_PLACE("function_table", i);
        if (check_string(&f->name, b, &pl, "name_strindex", err) ||
            check_string(&f->system_name, b, &pl, "system_name_strindex", err) ||
            check_string(&f->filename, b, &pl, "filename_strindex", err))
            return PTM_EFORMAT;
    }
    return 0;
}

static int check_mappings(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    for (uint32_t i = 0; i < b->mappings.len; i++) {
        struct ptm_mapping *m = &model->mappings.data[b->mappings.off + i];
        struct place pl = TABLE_PLACE("mapping_table", i);
        if (check_string(&m->filename, b, &pl, "filename_strindex", err) ||
            check_string(&m->build_id, b, &pl, "build_id", err) ||
            rebase_list(model, m->attributes, b->attributes, &pl, "attribute_indices",
                        "attribute_table", err))
            return PTM_EFORMAT;
    }
    return 0;
}

static int check_lines(struct ptm_model *model, const struct ptm_batch *b,
                       const struct ptm_location *loc, const struct place *pl, struct ptm_error *err)
{
    for (uint32_t l = 0; l < loc->lines.len; l++) {
        struct ptm_line *line = &model->lines.data[loc->lines.off + l];
        int32_t fn = line->function;
        if (rebase(&line->function, b->functions) != 0) {
            char field[64];
            snprintf(field, sizeof field, "lines[%" PRIu32 "].function_index", l);
            return out_of_range(err, pl, field, fn, "function_table", b->functions.len);
        }
    }
    return 0;
}

static int check_locations(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    for (uint32_t i = 0; i < b->locations.len; i++) {
        struct ptm_location *loc = &model->locations.data[b->locations.off + i];
        struct place pl = TABLE_PLACE("location_table", i);
        int32_t mapping = loc->mapping;
        if (rebase(&loc->mapping, b->mappings) != 0)
            return out_of_range(err, &pl, "mapping_index", mapping, "mapping_table", b->mappings.len);
        if (check_lines(model, b, loc, &pl, err) ||
            rebase_list(model, loc->attributes, b->attributes, &pl, "attribute_indices",
                        "attribute_table", err))
            return PTM_EFORMAT;
    }
    return 0;
}

static int check_stacks(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    for (uint32_t i = 0; i < b->stacks.len; i++) {
        struct ptm_stack *s = &model->stacks.data[b->stacks.off + i];
        struct place pl = TABLE_PLACE("stack_table", i);
        if (rebase_list(model, s->locations, b->locations, &pl, "location_indices",
                        "location_table", err))
            return PTM_EFORMAT;
    }
    return 0;
}

static int check_attributes(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    for (uint32_t i = 0; i < b->attributes.len; i++) {
        struct ptm_attribute *a = &model->attributes.data[b->attributes.off + i];
        struct place pl = TABLE_PLACE("attribute_table", i);
        if (check_string(&a->key, b, &pl, "key_strindex", err) ||
            check_string(&a->unit, b, &pl, "unit_strindex", err) ||
            resolve_any(model, &a->value, b, &pl, err))
            return PTM_EFORMAT;
    }
    return 0;
}

static int check_dictionary(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    if (check_first_string(model, b, err) || check_functions(model, b, err) ||
        check_mappings(model, b, err) || check_locations(model, b, err) ||
        check_stacks(model, b, err) || check_attributes(model, b, err))
        return PTM_EFORMAT;
    return 0;
}

// Resource and scope attributes: resolve v1.10 key_strindex and
// string_value_strindex references, including inside nested values.
static int resolve_keyvalues(struct ptm_model *model, const struct ptm_batch *b, struct ptm_error *err)
{
    const struct place attribute = NAMED_PLACE("attribute");
    for (uint32_t i = 0; i < b->keyvalues.len; i++) {
        struct ptm_keyvalue *kv = &model->keyvalues.data[b->keyvalues.off + i];
        if (kv->key_strindex >= 0) {
            if (check_string(&kv->key_strindex, b, &attribute, "key_strindex", err) != 0)
                return PTM_EFORMAT;
            kv->key = model->strings.data[kv->key_strindex];
        }
        struct place pl = NAMED_PLACE("attribute");
        pl.key = kv->key.ptr ? kv->key : (struct ptm_str){"", 0};
        if (resolve_any(model, &kv->value, b, &pl, err) != 0)
            return PTM_EFORMAT;
    }
    const struct place array = NAMED_PLACE("array value");
    for (uint32_t i = 0; i < b->anys.len; i++) {
        if (resolve_any(model, &model->anys.data[b->anys.off + i], b, &array, err) != 0)
            return PTM_EFORMAT;
    }
    return 0;
}

// The first value of a sample that its profile counts and that is
// negative, or -1. Values count events, bytes or time: a negative one would
// take away from a counter what other samples added.
static inline int64_t negative_value(const struct ptm_model *model, const struct ptm_profile *p,
                                     const struct ptm_sample *s)
{
    const int64_t *v = model->values.data; // no &data[off]: data is NULL when no sample has values
    if (p->value_column >= 0)
        return (uint32_t)p->value_column < s->values.len && v[s->values.off + (uint32_t)p->value_column] < 0
                   ? p->value_column
                   : -1;
    for (uint32_t i = 0; i < s->values.len; i++)
        if (v[s->values.off + i] < 0)
            return i;
    return -1;
}

// Whether every index of a sample is in range and its values fit its
// profile, without changing anything: the fast path of check_samples.
static inline bool sample_ok(const struct ptm_model *model, const struct ptm_batch *b,
                             const struct ptm_profile *p, const struct ptm_sample *s)
{
    uint32_t bad = ((uint32_t)s->stack >= b->stacks.len) | ((uint32_t)s->link >= b->links.len);
    for (uint32_t i = 0; i < s->attributes.len; i++) // as in rebase_list: no &data[off]
        bad |= (uint32_t)model->indices.data[s->attributes.off + i] >= b->attributes.len;
    if (p->value_column < 0)
        bad |= s->values.len != 0 && s->timestamps.len != 0 && s->values.len != s->timestamps.len;
    else
        bad |= s->values.len <= (uint32_t)p->value_column;
    return bad == 0 && negative_value(model, p, s) < 0;
}

// Say what is wrong with a sample that sample_ok refused.
static int sample_error(struct ptm_model *model, const struct ptm_batch *b,
                        const struct ptm_profile *p, struct ptm_sample *s, const struct place *pl,
                        struct ptm_error *err)
{
    char at[160];
    place_format(pl, at, sizeof at);
    if ((uint32_t)s->stack >= b->stacks.len)
        return out_of_range(err, pl, "stack_index", s->stack, "stack_table", b->stacks.len);
    if ((uint32_t)s->link >= b->links.len)
        return out_of_range(err, pl, "link_index", s->link, "link_table", b->links.len);
    if (rebase_list(model, s->attributes, b->attributes, pl, "attribute_indices",
                    "attribute_table", err))
        return PTM_EFORMAT;
    int64_t negative = negative_value(model, p, s);
    if (negative >= 0)
        return ptm_error_set(err, PTM_EFORMAT,
                             "%s: values[%" PRId64 "] is %" PRId64
                             " (sample values count events, bytes or time: they cannot be negative)",
                             at, negative, model->values.data[s->values.off + negative]);
    if (p->value_column < 0)
        return ptm_error_set(err, PTM_EFORMAT,
                             "%s: %" PRIu32 " values but %" PRIu32
                             " timestamps_unix_nano (they must be equal when both are set)",
                             at, s->values.len, s->timestamps.len);
    return ptm_error_set(err, PTM_EFORMAT, "%s: %" PRIu32 " values, fewer than the sample types",
                         at, s->values.len);
}

// Rebase a checked sample's indices to the model's tables.
static inline void rebase_sample(int32_t *indices, const struct ptm_batch *b, struct ptm_sample *s)
{
    s->stack += (int32_t)b->stacks.off;
    s->link += (int32_t)b->links.off;
    for (uint32_t a = 0; a < s->attributes.len; a++)
        indices[s->attributes.off + a] += (int32_t)b->attributes.off;
}

static int check_samples(struct ptm_model *model, const struct ptm_batch *b,
                         const struct ptm_profile *p, uint32_t profile, struct ptm_error *err)
{
    if (p->samples.len == 0)
        return 0; // the sample table may still be empty (NULL)
    struct ptm_sample *s = &model->samples.data[p->samples.off];
    // The first request of a model needs no rebasing: then this pass only
    // reads, and writes nothing back to the (large) sample table.
    bool rebase_needed = (b->stacks.off | b->links.off | b->attributes.off) != 0;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        if (!sample_ok(model, b, p, &s[i])) {
            struct place pl = {"profile", profile, i, false, {NULL, 0}};
            return sample_error(model, b, p, &s[i], &pl, err);
        }
        if (rebase_needed)
            rebase_sample(model->indices.data, b, &s[i]);
    }
    return 0;
}

// A period or time window no metric can be made of: a negative sampling
// period (CPU time is events x period), or an end time past 2^64 ns.
static int check_profile_numbers(const struct ptm_profile *p, const struct place *where, struct ptm_error *err)
{
    char at[160];
    if (p->period >= 0 && p->duration_nano <= UINT64_MAX - p->time_unix_nano)
        return 0;
    place_format(where, at, sizeof at);
    if (p->period < 0)
        return ptm_error_set(err, PTM_EFORMAT, "%s: period %" PRId64 " is negative", at, p->period);
    return ptm_error_set(err, PTM_EFORMAT,
                         "%s: time_unix_nano %" PRIu64 " + duration_nano %" PRIu64
                         " is past the largest time (2^64 - 1 ns since 1970)",
                         at, p->time_unix_nano, p->duration_nano);
}

static int check_profile(struct ptm_model *model, const struct ptm_batch *b, struct ptm_profile *p,
                         const struct place *where, struct ptm_error *err)
{
    if (check_profile_numbers(p, where, err) != 0)
        return PTM_EFORMAT;
    if (check_string(&p->sample_type.type, b, where, "sample_type.type_strindex", err) ||
        check_string(&p->sample_type.unit, b, where, "sample_type.unit_strindex", err) ||
        check_string(&p->period_type.type, b, where, "period_type.type_strindex", err) ||
        check_string(&p->period_type.unit, b, where, "period_type.unit_strindex", err) ||
        check_string(&p->drop_frames, b, where, "drop_frames", err) ||
        check_string(&p->keep_frames, b, where, "keep_frames", err))
        return PTM_EFORMAT;
    if (rebase_list(model, p->attributes, b->attributes, where, "attribute_indices",
                    "attribute_table", err) ||
        rebase_list(model, p->comments, b->strings, where, "comment", "string_table", err))
        return PTM_EFORMAT;
    return 0;
}

// Check every profile; drop the bad ones, keep the rest. Profiles that share
// their samples (the sample types of one pprof file) share the verdict.
static int check_profiles(struct ptm_model *model, struct ptm_batch *b, struct ptm_error *err)
{
    uint32_t kept = b->profiles.off;
    uint32_t rejected = 0;
    int first_error = 0;
    struct ptm_range last_samples = {UINT32_MAX, 0};
    int last_verdict = 0;
    struct ptm_error local;
    for (uint32_t i = 0; i < b->profiles.len; i++) {
        struct ptm_profile *p = &model->profiles.data[b->profiles.off + i];
        struct place where = {"profile", i, UINT32_MAX, false, {NULL, 0}};
        int rc = check_profile(model, b, p, &where, &local);
        if (rc == 0 && p->samples.off == last_samples.off && p->samples.len == last_samples.len) {
            rc = last_verdict;
        } else if (rc == 0) {
            rc = check_samples(model, b, p, i, &local);
            last_samples = p->samples;
            last_verdict = rc;
        }
        if (rc != 0) {
            if (first_error == 0 && err != NULL)
                *err = local;
            if (first_error == 0)
                first_error = rc;
            rejected++;
            continue;
        }
        model->profiles.data[kept++] = *p;
    }
    if (rejected != 0) {
        uint32_t total = b->profiles.len;
        model->profiles.len = kept;
        b->profiles.len -= rejected;
        model->rejected_profiles += rejected;
        if (total > 1)
            ptm_error_prefix(err, "%" PRIu32 " of %" PRIu32 " profiles rejected, the first", rejected,
                             total);
    }
    return first_error;
}

int ptm_batch_finish(struct ptm_model *model, struct ptm_error *err)
{
    struct ptm_batch *b = &model->batches.data[model->batches.len - 1];
    int rc = close_ranges(model, b, err);
    if (rc == 0)
        rc = check_dictionary(model, b, err);
    if (rc == 0)
        rc = resolve_keyvalues(model, b, err);
    if (rc != 0)
        return rc;
    return check_profiles(model, b, err);
}
