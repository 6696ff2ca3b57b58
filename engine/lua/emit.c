// SPDX-License-Identifier: Apache-2.0
//
// The C end of a plan's flush: top selection over a dense array, and one
// attribute set and store add per series.
#include "lua/emit.h"

#include <stdlib.h>

#define MAX_PAIRS 130 // the store keeps at most 128 attributes per set

// "a before b": larger sum first, then lower index.
static int before(const double *acc, uint32_t a, uint32_t b)
{
    return acc[a] > acc[b] || (acc[a] == acc[b] && a < b);
}

// A heap whose root is the one that comes last in "before" order.
static void sift_down(const double *acc, uint32_t *heap, uint32_t size, uint32_t at)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, last = at;
        if (l < size && before(acc, heap[last], heap[l]))
            last = l;
        if (r < size && before(acc, heap[last], heap[r]))
            last = r;
        if (last == at)
            return;
        uint32_t t = heap[at];
        heap[at] = heap[last], heap[last] = t;
        at = last;
    }
}

uint32_t ptm_emit_select_top(const double *acc, const uint32_t *keys, uint32_t n, uint32_t k, uint32_t *out,
                             double *rest)
{
    double all = 0;
    for (uint32_t i = 0; i < n; i++)
        all += acc[keys[i]];
    if (k > n)
        k = n;
    for (uint32_t i = 0; i < k; i++)
        out[i] = keys[i];
    for (uint32_t i = k / 2; i-- > 0;)
        sift_down(acc, out, k, i);
    for (uint32_t i = k; i < n; i++) {
        if (k > 0 && before(acc, keys[i], out[0])) {
            out[0] = keys[i];
            sift_down(acc, out, k, 0);
        }
    }
    double kept = 0;
    for (uint32_t i = 0; i < k; i++)
        kept += acc[out[i]];
    for (uint32_t size = k; size > 1; size--) {
        uint32_t t = out[0];
        out[0] = out[size - 1], out[size - 1] = t;
        sift_down(acc, out, size - 1, 0);
    }
    *rest = all - kept;
    return k;
}

int ptm_emit_dense(const struct ptm_emit *e, const double *acc, const uint32_t *keys, uint32_t n)
{
    uint32_t pairs[2 * MAX_PAIRS];
    uint32_t nc = e->n_consts < MAX_PAIRS - 1 ? e->n_consts : MAX_PAIRS - 1;
    for (uint32_t i = 0; i < 2 * nc; i++)
        pairs[i] = e->consts[i];
    int first_error = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = keys[i];
        double sum = acc[key];
        if (sum == 0 && !e->cumulative)
            continue;
        uint32_t np = nc;
        if (e->value_of[key] != 0) {
            pairs[2 * np] = e->part_key;
            pairs[2 * np + 1] = e->value_of[key] - 1;
            np++;
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
