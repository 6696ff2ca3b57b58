// SPDX-License-Identifier: Apache-2.0
//
// The C end of a plan's flush: one attribute set and store add per series,
// handed to the store in batches (ptm_store_add_batch) when one attribute
// varies between series.
#include "lua/emit.h"

#include <math.h>
#include <stdlib.h>

#define MAX_PAIRS 130 // the store keeps at most 128 attributes per set (PTM_STORE_MAX_SET_PAIRS)
#define CHUNK 256     // series handed to the store at a time

// Several varying attributes per key (a set of sample attributes): one
// attribute set and store add per series.
static int emit_sets(const struct ptm_emit *e, const double *sums, const uint32_t *keys, uint32_t n)
{
    uint32_t pairs[2 * MAX_PAIRS];
    uint32_t nc = e->n_consts < MAX_PAIRS ? e->n_consts : MAX_PAIRS;
    for (uint32_t i = 0; i < 2 * nc; i++)
        pairs[i] = e->consts[i];
    int first_error = 0;
    uint32_t parts = e->n_parts < MAX_PAIRS - nc ? e->n_parts : MAX_PAIRS - nc;
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t *value_of = e->value_of + (size_t)keys[i] * e->n_parts;
        double sum = sums[i];
        if (sum == 0 && !e->cumulative)
            continue;
        uint32_t np = nc;
        for (uint32_t j = 0; j < parts; j++) {
            if (value_of[j] != 0) {
                pairs[2 * np] = e->part_keys[j];
                pairs[2 * np + 1] = value_of[j] - 1;
                np++;
            }
        }
        uint32_t set = ptm_store_attributes(e->store, pairs, np);
        struct ptm_window w = {e->start, e->end};
        int rc = set == UINT32_MAX ? PTM_ENOMEM
                 : e->cumulative   ? ptm_store_set_cumulative(e->store, e->metric, e->resource, set, sum * e->scale, w)
                                   : ptm_store_add(e->store, e->metric, e->resource, set, sum * e->scale, w);
        if (rc != 0 && first_error == 0)
            first_error = rc;
    }
    return first_error;
}

int ptm_emit_dense(const struct ptm_emit *e, const double *sums, const uint32_t *keys, uint32_t n)
{
    if (e->n_parts != 1)
        return emit_sets(e, sums, keys, n);
    // One varying attribute (a function, one sample attribute): in batches.
    const struct ptm_store_batch batch = {
        .metric = e->metric,
        .resource = e->resource,
        .window = {e->start, e->end},
        .scale = e->scale,
        .cumulative = e->cumulative != 0,
        .consts = e->consts,
        .n_consts = e->n_consts < MAX_PAIRS - 1 ? e->n_consts : MAX_PAIRS - 1,
        .part_key = e->part_keys[0],
    };
    uint32_t values[CHUNK];
    int first_error = 0;
    for (uint32_t start = 0; start < n; start += CHUNK) {
        uint32_t len = n - start < CHUNK ? n - start : CHUNK;
        for (uint32_t i = 0; i < len; i++) {
            uint32_t v = e->value_of[keys[start + i]];
            values[i] = v != 0 ? v - 1 : PTM_STORE_NO_PAIR;
        }
        int rc = ptm_store_add_batch(e->store, &batch, values, sums + start, len);
        if (rc != 0 && first_error == 0)
            first_error = rc;
    }
    return first_error;
}

void ptm_emit_name_values(struct ptm_store *store, const struct ptm_function_keys *fk, const uint32_t *keys,
                          uint32_t n, uint32_t *value_of)
{
    const char *ptrs[CHUNK];
    uint32_t lens[CHUNK], wanted[CHUNK], values[CHUNK];
    for (uint32_t start = 0; start < n;) {
        // the names not valued yet, each once
        uint32_t m = 0;
        for (; start < n && m < CHUNK; start++) {
            uint32_t key = keys[start];
            if (key == PTM_NO_FUNCTION || value_of[key] != 0)
                continue;
            struct ptm_str name = ptm_function_keys_name(fk, key);
            ptrs[m] = name.ptr, lens[m] = name.len, wanted[m++] = key;
            value_of[key] = UINT32_MAX; // listed
        }
        ptm_store_string_values(store, ptrs, lens, m, values);
        for (uint32_t j = 0; j < m; j++)
            value_of[wanted[j]] = values[j] + 1; // UINT32_MAX (failed): 0, no attribute
    }
}

// 2^53: integers beyond are no Lua numbers (the runtime writes them as text).
#define EXACT 9007199254740992.0

// The value id of an attribute value as the runtime's store_value makes it
// from model.any_value; UINT32_MAX - 1 for none (left out).
static uint32_t any_value(struct ptm_store *store, const struct ptm_any *a)
{
    switch (a->kind) {
    case PTM_ANY_STRING:
        return ptm_store_value(store, PTM_LABEL_STRING, ptm_store_string(store, a->u.str.ptr, a->u.str.len), 0, 0);
    case PTM_ANY_BOOL:
        return ptm_store_value(store, PTM_LABEL_BOOL, 0, a->u.i != 0, 0);
    case PTM_ANY_INT:
        return ptm_store_value(store, PTM_LABEL_INT, 0, a->u.i, 0);
    case PTM_ANY_DOUBLE:
        if (a->u.d == floor(a->u.d) && a->u.d > -EXACT && a->u.d < EXACT)
            return ptm_store_value(store, PTM_LABEL_INT, 0, (int64_t)a->u.d, 0);
        return ptm_store_value(store, PTM_LABEL_DOUBLE, 0, 0, a->u.d);
    default:
        return UINT32_MAX - 1;
    }
}

// Whether the runtime makes the value's text itself.
static bool in_lua(const struct ptm_any *a)
{
    return a->kind == PTM_ANY_BYTES || a->kind == PTM_ANY_ARRAY || a->kind == PTM_ANY_KVLIST ||
           (a->kind == PTM_ANY_INT && (a->u.i <= -(int64_t)EXACT || a->u.i >= (int64_t)EXACT));
}

uint32_t ptm_emit_resource(struct ptm_store *store, const struct ptm_model *model, uint32_t r)
{
    const struct ptm_resource *res = &model->resources.data[r];
    // keyvalues.data is NULL when nothing has attributes: no &data[off] then
    const struct ptm_keyvalue *kv = res->attributes.len ? &model->keyvalues.data[res->attributes.off] : NULL;
    for (uint32_t i = 0; i < res->attributes.len; i++)
        if (in_lua(&kv[i].value))
            return PTM_EMIT_IN_LUA;
    uint32_t small[2 * 32] = {0}, *pairs = small;
    if (res->attributes.len > 32 && (pairs = malloc((size_t)res->attributes.len * 2 * sizeof *pairs)) == NULL)
        return PTM_EMIT_IN_LUA;
    uint32_t n = 0;
    for (uint32_t i = 0; i < res->attributes.len; i++) {
        uint32_t value = any_value(store, &kv[i].value);
        if (value == UINT32_MAX - 1)
            continue;
        pairs[2 * n] = ptm_store_string(store, kv[i].key.ptr, kv[i].key.len);
        pairs[2 * n + 1] = value;
        n++;
    }
    uint32_t set = ptm_store_attributes(store, pairs, n);
    if (pairs != small)
        free(pairs);
    return ptm_store_resource(store, set, ptm_store_string(store, res->schema_url.ptr, res->schema_url.len));
}

