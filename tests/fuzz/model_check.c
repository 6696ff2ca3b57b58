// SPDX-License-Identifier: Apache-2.0
//
// The model invariants of model_check.h. Dictionary tables are checked in
// full (a batch whose dictionary is bad is rolled back as a whole); samples
// only where a profile points to them (a rejected profile's samples stay in
// the table, unchecked and unused).
#include "model_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_ANY_DEPTH 64

static void __attribute__((noreturn, format(printf, 1, 2))) broken(const char *fmt, ...);

static void broken(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("model invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void check_index(const char *what, uint32_t at, int64_t index, uint32_t size, const char *table)
{
    if (index < 0 || index >= size)
        broken("%s[%" PRIu32 "]: index %" PRId64 " outside %s (%" PRIu32 " entries)", what, at, index,
               table, size);
}

static void check_range(const char *what, uint32_t at, struct ptm_range r, uint32_t size, const char *table)
{
    if ((uint64_t)r.off + r.len > size)
        broken("%s[%" PRIu32 "]: range %" PRIu32 "+%" PRIu32 " outside %s (%" PRIu32 " entries)", what,
               at, r.off, r.len, table, size);
}

static uint64_t digest_str(uint64_t h, struct ptm_str s, const char *what, uint32_t at)
{
    if (s.len > 0 && s.ptr == NULL)
        broken("%s[%" PRIu32 "]: a string of %" PRIu32 " bytes at NULL", what, at, s.len);
    for (uint32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 0x100000001b3ull;
    return h;
}

// Each entry of a list in model->indices must address a table of size entries.
static void check_list(const struct ptm_model *m, const char *what, uint32_t at, struct ptm_range list,
                       uint32_t size, const char *table)
{
    check_range(what, at, list, m->indices.len, "indices");
    for (uint32_t i = 0; i < list.len; i++)
        check_index(what, at, m->indices.data[list.off + i], size, table);
}

static uint64_t check_keyvalues(const struct ptm_model *m, uint64_t h, struct ptm_range r, int depth);

static uint64_t check_any(const struct ptm_model *m, uint64_t h, const struct ptm_any *v, int depth)
{
    if (depth > MAX_ANY_DEPTH)
        broken("attribute values nested deeper than %d levels", MAX_ANY_DEPTH);
    switch (v->kind) {
    case PTM_ANY_NONE:
    case PTM_ANY_BOOL:
    case PTM_ANY_INT:
    case PTM_ANY_DOUBLE: return h;
    case PTM_ANY_STRING:
        if (v->strindex >= 0)
            check_index("string value", 0, v->strindex, m->strings.len, "strings");
        return digest_str(h, v->u.str, "string value", 0);
    case PTM_ANY_BYTES: return digest_str(h, v->u.str, "bytes value", 0);
    case PTM_ANY_ARRAY:
        check_range("array value", 0, v->u.list, m->anys.len, "anys");
        for (uint32_t i = 0; i < v->u.list.len; i++)
            h = check_any(m, h, &m->anys.data[v->u.list.off + i], depth + 1);
        return h;
    case PTM_ANY_KVLIST: return check_keyvalues(m, h, v->u.list, depth + 1);
    default: broken("an attribute value of kind %d", v->kind);
    }
}

static uint64_t check_keyvalues(const struct ptm_model *m, uint64_t h, struct ptm_range r, int depth)
{
    check_range("keyvalue list", 0, r, m->keyvalues.len, "keyvalues");
    for (uint32_t i = 0; i < r.len; i++) {
        const struct ptm_keyvalue *kv = &m->keyvalues.data[r.off + i];
        h = digest_str(h, kv->key, "keyvalue key", r.off + i);
        h = check_any(m, h, &kv->value, depth);
    }
    return h;
}

static uint64_t check_dictionary(const struct ptm_model *m, uint64_t h)
{
    for (uint32_t i = 0; i < m->strings.len; i++)
        h = digest_str(h, m->strings.data[i], "strings", i);
    for (uint32_t i = 0; i < m->functions.len; i++) {
        const struct ptm_function *f = &m->functions.data[i];
        check_index("functions.name", i, f->name, m->strings.len, "strings");
        check_index("functions.system_name", i, f->system_name, m->strings.len, "strings");
        check_index("functions.filename", i, f->filename, m->strings.len, "strings");
    }
    for (uint32_t i = 0; i < m->mappings.len; i++) {
        const struct ptm_mapping *mp = &m->mappings.data[i];
        check_index("mappings.filename", i, mp->filename, m->strings.len, "strings");
        check_index("mappings.build_id", i, mp->build_id, m->strings.len, "strings");
        check_list(m, "mappings.attributes", i, mp->attributes, m->attributes.len, "attributes");
    }
    for (uint32_t i = 0; i < m->locations.len; i++) {
        const struct ptm_location *loc = &m->locations.data[i];
        check_index("locations.mapping", i, loc->mapping, m->mappings.len, "mappings");
        check_range("locations.lines", i, loc->lines, m->lines.len, "lines");
        for (uint32_t l = 0; l < loc->lines.len; l++)
            check_index("locations.lines.function", i, m->lines.data[loc->lines.off + l].function,
                        m->functions.len, "functions");
        check_list(m, "locations.attributes", i, loc->attributes, m->attributes.len, "attributes");
    }
    for (uint32_t i = 0; i < m->stacks.len; i++) {
        check_list(m, "stacks.locations", i, m->stacks.data[i].locations, m->locations.len, "locations");
        if (m->stacks.data[i].locations.len > 0)
            check_index("stack leaf function", i, ptm_model_leaf_function(m, (int32_t)i),
                        m->functions.len, "functions");
    }
    for (uint32_t i = 0; i < m->attributes.len; i++) {
        const struct ptm_attribute *a = &m->attributes.data[i];
        check_index("attributes.key", i, a->key, m->strings.len, "strings");
        check_index("attributes.unit", i, a->unit, m->strings.len, "strings");
        h = check_any(m, h, &a->value, 0);
    }
    for (uint32_t i = 0; i < m->links.len; i++) {
        h = digest_str(h, m->links.data[i].trace_id, "links.trace_id", i);
        h = digest_str(h, m->links.data[i].span_id, "links.span_id", i);
    }
    return h;
}

static uint64_t check_samples(const struct ptm_model *m, uint64_t h, const struct ptm_profile *p, uint32_t at)
{
    check_range("profiles.samples", at, p->samples, m->samples.len, "samples");
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const struct ptm_sample *s = &m->samples.data[p->samples.off + i];
        uint32_t si = p->samples.off + i;
        check_index("samples.stack", si, s->stack, m->stacks.len, "stacks");
        check_index("samples.link", si, s->link, m->links.len, "links");
        check_list(m, "samples.attributes", si, s->attributes, m->attributes.len, "attributes");
        check_range("samples.values", si, s->values, m->values.len, "values");
        check_range("samples.timestamps", si, s->timestamps, m->timestamps.len, "timestamps");
        if (p->value_column >= 0 && (uint32_t)p->value_column >= s->values.len)
            broken("samples[%" PRIu32 "]: %" PRIu32 " values, no column %" PRId32, si, s->values.len,
                   p->value_column);
        h += (uint64_t)ptm_sample_weight(m, p, s);
    }
    return h;
}

static uint64_t check_profiles(const struct ptm_model *m, uint64_t h)
{
    for (uint32_t i = 0; i < m->resources.len; i++) {
        h = check_keyvalues(m, h, m->resources.data[i].attributes, 0);
        h = digest_str(h, m->resources.data[i].schema_url, "resources.schema_url", i);
    }
    for (uint32_t i = 0; i < m->scopes.len; i++) {
        const struct ptm_scope *sc = &m->scopes.data[i];
        check_index("scopes.resource", i, sc->resource, m->resources.len, "resources");
        h = check_keyvalues(m, h, sc->attributes, 0);
        h = digest_str(h, sc->name, "scopes.name", i);
        h = digest_str(h, sc->version, "scopes.version", i);
    }
    for (uint32_t i = 0; i < m->profiles.len; i++) {
        const struct ptm_profile *p = &m->profiles.data[i];
        check_index("profiles.batch", i, p->batch, m->batches.len, "batches");
        check_index("profiles.resource", i, p->resource, m->resources.len, "resources");
        check_index("profiles.scope", i, p->scope, m->scopes.len, "scopes");
        check_index("profiles.sample_type.type", i, p->sample_type.type, m->strings.len, "strings");
        check_index("profiles.sample_type.unit", i, p->sample_type.unit, m->strings.len, "strings");
        check_index("profiles.period_type.type", i, p->period_type.type, m->strings.len, "strings");
        check_index("profiles.period_type.unit", i, p->period_type.unit, m->strings.len, "strings");
        check_index("profiles.drop_frames", i, p->drop_frames, m->strings.len, "strings");
        check_index("profiles.keep_frames", i, p->keep_frames, m->strings.len, "strings");
        check_list(m, "profiles.attributes", i, p->attributes, m->attributes.len, "attributes");
        check_list(m, "profiles.comments", i, p->comments, m->strings.len, "strings");
        h = digest_str(h, p->profile_id, "profiles.profile_id", i);
        h = digest_str(h, p->original_payload_format, "profiles.original_payload_format", i);
        h = check_samples(m, h, p, i);
    }
    return h;
}

// The tables a batch records a range of.
#define BATCH_TABLES(X)                                                                     \
    X(resources) X(scopes) X(profiles) X(strings) X(functions) X(locations) X(mappings)     \
    X(stacks) X(attributes) X(links) X(keyvalues) X(anys)

// A batch's ranges must lie inside the tables, and its profiles say so.
static void check_batches(const struct ptm_model *m)
{
    for (uint32_t i = 0; i < m->batches.len; i++) {
        const struct ptm_batch *b = &m->batches.data[i];
#define CHECK_BATCH_RANGE(table) check_range("batches." #table, i, b->table, m->table.len, #table);
        BATCH_TABLES(CHECK_BATCH_RANGE)
#undef CHECK_BATCH_RANGE
        for (uint32_t p = b->profiles.off; p < b->profiles.off + b->profiles.len; p++) {
            if (m->profiles.data[p].batch != i)
                broken("profiles[%" PRIu32 "]: in batch %" PRIu32 " but says batch %" PRIu32, p, i,
                       m->profiles.data[p].batch);
        }
    }
}

uint64_t fuzz_check_model(const struct ptm_model *model)
{
    check_batches(model);
    uint64_t h = check_dictionary(model, 0xcbf29ce484222325ull);
    return check_profiles(model, h);
}
