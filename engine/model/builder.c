// SPDX-License-Identifier: Apache-2.0
//
// The model builder: appends to the model exactly what a decoder of an OTLP
// request would, with request-local indices, then closes the batch with
// ptm_batch_finish so the result passes the same checks.
#include "model/builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/hash.h"

struct ptm_builder {
    struct ptm_model *m;
    struct ptm_batch *batch;
    struct ptm_strmap strings;   // text -> local string index
    struct ptm_strmap functions; // name -> local function index - 1
    struct ptm_strmap stacks;    // packed location list -> local stack index - 1
    struct ptm_strmap attributes; // packed (key, kind, value) -> local attribute index - 1
    bool has_resource;
    bool has_profile;
    int failed;
};

static char *copy(struct ptm_builder *b, const char *s, size_t len)
{
    char *p = ptm_arena_alloc(b->m->arena, len + 1);
    if (p == NULL) {
        b->failed = PTM_ENOMEM;
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

// The local index of string s in the batch's string table.
static int32_t string_index(struct ptm_builder *b, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    uint32_t id = ptm_strmap_find(&b->strings, s ? s : "", (uint32_t)len);
    if (id != UINT32_MAX)
        return (int32_t)id;
    char *c = copy(b, s ? s : "", len);
    struct ptm_str *slot = c ? PTM_VEC_PUSH(b->m->strings) : NULL;
    if (slot == NULL) {
        b->failed = PTM_ENOMEM;
        return 0;
    }
    *slot = (struct ptm_str){c, (uint32_t)len};
    id = ptm_strmap_intern(&b->strings, c, (uint32_t)len, NULL);
    if (id == UINT32_MAX)
        b->failed = PTM_ENOMEM;
    return (int32_t)id;
}

struct ptm_builder *ptm_builder_begin(struct ptm_model *model)
{
    struct ptm_builder *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->m = model;
    b->batch = ptm_batch_begin(model, PTM_FORMAT_OTLP, 10, model->batches.len);
    if (b->batch == NULL) {
        free(b);
        return NULL;
    }
    // Index 0 of every table is the unset entry.
    string_index(b, "");
    struct ptm_function *f = PTM_VEC_PUSH(model->functions);
    struct ptm_location *l = PTM_VEC_PUSH(model->locations);
    struct ptm_stack *s = PTM_VEC_PUSH(model->stacks);
    struct ptm_attribute *a = PTM_VEC_PUSH(model->attributes);
    if (f == NULL || l == NULL || s == NULL || a == NULL) {
        ptm_builder_abandon(b);
        return NULL;
    }
    memset(f, 0, sizeof *f);
    memset(l, 0, sizeof *l);
    memset(s, 0, sizeof *s);
    memset(a, 0, sizeof *a);
    a->value.strindex = -1;
    return b;
}

static struct ptm_any any_of(struct ptm_builder *b, const struct ptm_builder_value *v)
{
    struct ptm_any a = {.kind = (uint8_t)v->kind, .strindex = -1};
    if (v->kind == PTM_ANY_STRING) {
        size_t len = strlen(v->str);
        char *c = copy(b, v->str, len);
        a.u.str = (struct ptm_str){c ? c : "", c ? (uint32_t)len : 0};
    } else if (v->kind == PTM_ANY_DOUBLE) {
        a.u.d = v->d;
    } else {
        a.u.i = v->i;
    }
    return a;
}

int ptm_builder_resource(struct ptm_builder *b, const char *const *keys,
                         const struct ptm_builder_value *values, size_t n)
{
    struct ptm_model *m = b->m;
    struct ptm_resource *r = PTM_VEC_PUSH(m->resources);
    struct ptm_scope *sc = PTM_VEC_PUSH(m->scopes);
    if (r == NULL || sc == NULL || PTM_VEC_RESERVE(m->keyvalues, n) != 0)
        return b->failed = PTM_ENOMEM;
    memset(r, 0, sizeof *r);
    memset(sc, 0, sizeof *sc);
    sc->resource = m->resources.len - 1;
    r->attributes = (struct ptm_range){m->keyvalues.len, (uint32_t)n};
    for (size_t i = 0; i < n; i++) {
        struct ptm_keyvalue *kv = &m->keyvalues.data[m->keyvalues.len++];
        size_t len = strlen(keys[i]);
        char *k = copy(b, keys[i], len);
        kv->key = (struct ptm_str){k ? k : "", k ? (uint32_t)len : 0};
        kv->key_strindex = -1;
        kv->value = any_of(b, &values[i]);
    }
    b->has_resource = true;
    return b->failed;
}

int ptm_builder_profile(struct ptm_builder *b, const struct ptm_builder_profile *p)
{
    if (!b->has_resource && ptm_builder_resource(b, NULL, NULL, 0) != 0)
        return b->failed;
    struct ptm_model *m = b->m;
    struct ptm_profile *out = PTM_VEC_PUSH(m->profiles);
    if (out == NULL)
        return b->failed = PTM_ENOMEM;
    memset(out, 0, sizeof *out);
    out->batch = m->batches.len - 1;
    out->resource = m->resources.len - 1;
    out->scope = m->scopes.len - 1;
    out->sample_type = (struct ptm_value_type){string_index(b, p->sample_type), string_index(b, p->sample_unit)};
    out->period_type = (struct ptm_value_type){string_index(b, p->period_type), string_index(b, p->period_unit)};
    out->period = p->period;
    out->time_unix_nano = p->time_unix_nano;
    out->duration_nano = p->duration_nano;
    out->value_column = -1;
    out->samples.off = m->samples.len;
    b->has_profile = true;
    return b->failed;
}

// The local index of the function (and its one-line location) named name.
static int32_t location_of(struct ptm_builder *b, const char *name)
{
    struct ptm_model *m = b->m;
    uint32_t id = ptm_strmap_find(&b->functions, name, (uint32_t)strlen(name));
    if (id != UINT32_MAX)
        return (int32_t)id + 1;
    char *key = copy(b, name, strlen(name));
    struct ptm_function *f = key ? PTM_VEC_PUSH(m->functions) : NULL;
    struct ptm_line *line = f ? PTM_VEC_PUSH(m->lines) : NULL;
    struct ptm_location *loc = line ? PTM_VEC_PUSH(m->locations) : NULL;
    if (loc == NULL) {
        b->failed = PTM_ENOMEM;
        return 0;
    }
    int32_t index = (int32_t)(m->functions.len - 1 - b->batch->functions.off);
    *f = (struct ptm_function){.name = string_index(b, name)};
    *line = (struct ptm_line){.function = index};
    *loc = (struct ptm_location){.lines = {m->lines.len - 1, 1}};
    id = ptm_strmap_intern(&b->functions, key, (uint32_t)strlen(key), NULL);
    if (id == UINT32_MAX)
        b->failed = PTM_ENOMEM;
    return index;
}

// The local index of the stack of these function names.
static int32_t stack_of(struct ptm_builder *b, const char *const *names, size_t depth)
{
    struct ptm_model *m = b->m;
    int32_t *locs = ptm_arena_alloc(m->arena, (depth ? depth : 1) * sizeof *locs);
    if (locs == NULL) {
        b->failed = PTM_ENOMEM;
        return 0;
    }
    for (size_t i = 0; i < depth; i++)
        locs[i] = location_of(b, names[i]);
    uint32_t bytes = (uint32_t)(depth * sizeof *locs);
    uint32_t id = ptm_strmap_find(&b->stacks, (const char *)locs, bytes);
    if (id != UINT32_MAX)
        return (int32_t)id + 1;
    struct ptm_stack *s = PTM_VEC_PUSH(m->stacks);
    if (s == NULL || PTM_VEC_RESERVE(m->indices, depth) != 0) {
        b->failed = PTM_ENOMEM;
        return 0;
    }
    s->locations = (struct ptm_range){m->indices.len, (uint32_t)depth};
    memcpy(m->indices.data + m->indices.len, locs, bytes);
    m->indices.len += (uint32_t)depth;
    if (ptm_strmap_intern(&b->stacks, (const char *)locs, bytes, NULL) == UINT32_MAX)
        b->failed = PTM_ENOMEM;
    return (int32_t)(m->stacks.len - 1 - b->batch->stacks.off);
}

// The local index of the dictionary attribute (key, value).
static int32_t attribute_of(struct ptm_builder *b, const char *key, const struct ptm_builder_value *v)
{
    struct ptm_model *m = b->m;
    char packed[512];
    int n = snprintf(packed, sizeof packed, "%s%c%d%c%s%c%lld%c%.17g", key, 0, (int)v->kind, 0,
                     v->kind == PTM_ANY_STRING ? v->str : "", 0, (long long)v->i, 0, v->d);
    if (n < 0 || (size_t)n >= sizeof packed) {
        b->failed = PTM_EINVAL;
        return 0;
    }
    uint32_t id = ptm_strmap_find(&b->attributes, packed, (uint32_t)n);
    if (id != UINT32_MAX)
        return (int32_t)id + 1;
    char *stored = copy(b, packed, (size_t)n);
    struct ptm_attribute *a = stored ? PTM_VEC_PUSH(m->attributes) : NULL;
    if (a == NULL) {
        b->failed = PTM_ENOMEM;
        return 0;
    }
    a->key = string_index(b, key);
    a->unit = 0;
    a->value = any_of(b, v);
    if (ptm_strmap_intern(&b->attributes, stored, (uint32_t)n, NULL) == UINT32_MAX)
        b->failed = PTM_ENOMEM;
    return (int32_t)(m->attributes.len - 1 - b->batch->attributes.off);
}

int ptm_builder_sample(struct ptm_builder *b, const struct ptm_builder_sample *s)
{
    struct ptm_model *m = b->m;
    if (!b->has_profile)
        return b->failed = PTM_EINVAL;
    struct ptm_sample out = {.stack = stack_of(b, s->stack, s->depth)};
    out.attributes.off = m->indices.len;
    for (size_t i = 0; i < s->attr_count; i++) {
        int32_t a = attribute_of(b, s->attr_keys[i], &s->attr_values[i]);
        int32_t *slot = PTM_VEC_PUSH(m->indices);
        if (slot == NULL)
            return b->failed = PTM_ENOMEM;
        *slot = a;
        out.attributes.len++;
    }
    out.values.off = m->values.len;
    for (size_t i = 0; i < s->value_count; i++) {
        int64_t *slot = PTM_VEC_PUSH(m->values);
        if (slot == NULL)
            return b->failed = PTM_ENOMEM;
        *slot = s->values[i];
        out.values.len++;
    }
    // Timestamps spread over the profile's window, one per event.
    const struct ptm_profile *p = &m->profiles.data[m->profiles.len - 1];
    out.timestamps.off = m->timestamps.len;
    for (uint32_t i = 0; i < s->timestamps; i++) {
        uint64_t *slot = PTM_VEC_PUSH(m->timestamps);
        if (slot == NULL)
            return b->failed = PTM_ENOMEM;
        *slot = p->time_unix_nano + (s->timestamps ? p->duration_nano / s->timestamps * i : 0);
        out.timestamps.len++;
    }
    struct ptm_sample *slot = PTM_VEC_PUSH(m->samples);
    if (slot == NULL)
        return b->failed = PTM_ENOMEM;
    *slot = out;
    m->profiles.data[m->profiles.len - 1].samples.len++;
    return b->failed;
}

static void builder_free(struct ptm_builder *b)
{
    ptm_strmap_free(&b->strings);
    ptm_strmap_free(&b->functions);
    ptm_strmap_free(&b->stacks);
    ptm_strmap_free(&b->attributes);
    free(b);
}

int ptm_builder_finish(struct ptm_builder *b, struct ptm_error *err)
{
    int rc = b->failed;
    if (rc != 0)
        ptm_error_set(err, rc, "building a profile: %s", ptm_strerror(rc));
    else
        rc = ptm_batch_finish(b->m, err);
    builder_free(b);
    return rc;
}

void ptm_builder_abandon(struct ptm_builder *b)
{
    if (b != NULL)
        builder_free(b);
}
