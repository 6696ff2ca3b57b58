// SPDX-License-Identifier: Apache-2.0
//
// The C end of a plan's flush: one attribute set and store add per series.
#include "lua/emit.h"

#define MAX_PAIRS 130 // the store keeps at most 128 attributes per set (PTM_STORE_MAX_SET_PAIRS)

int ptm_emit_dense(const struct ptm_emit *e, const double *sums, const uint32_t *keys, uint32_t n)
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

void ptm_emit_name_values(struct ptm_store *store, const struct ptm_function_keys *fk, const uint32_t *keys,
                          uint32_t n, uint32_t *value_of)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = keys[i];
        if (key == PTM_NO_FUNCTION || value_of[key] != 0)
            continue;
        struct ptm_str name = ptm_function_keys_name(fk, key);
        uint32_t string = ptm_store_string(store, name.ptr, name.len);
        value_of[key] = ptm_store_value(store, PTM_LABEL_STRING, string, 0, 0) + 1;
    }
}
