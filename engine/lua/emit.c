// SPDX-License-Identifier: Apache-2.0
//
// The C end of a plan's flush: one attribute set and store add per series,
// handed to the store in batches (ptm_store_add_batch).
#include "lua/emit.h"

#define MAX_PAIRS 130 // the store keeps at most 128 attributes per set
#define CHUNK 256     // series handed to the store at a time

int ptm_emit_dense(const struct ptm_emit *e, const double *sums, const uint32_t *keys, uint32_t n)
{
    const struct ptm_store_batch batch = {
        .metric = e->metric,
        .resource = e->resource,
        .window = {e->start, e->end},
        .scale = e->scale,
        .cumulative = e->cumulative != 0,
        .consts = e->consts,
        .n_consts = e->n_consts < MAX_PAIRS - 1 ? e->n_consts : MAX_PAIRS - 1,
        .part_key = e->part_key,
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
