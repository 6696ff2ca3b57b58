// SPDX-License-Identifier: Apache-2.0
//
// Choosing the k largest of n values by a bounded heap: O(n log k), and
// only the chosen ones sorted. Most values are smaller than the smallest
// chosen so far, and cost one comparison.
#include "util/topk.h"

#include <stddef.h>

struct order {
    const double *values;
    const uint32_t *ids;
};

// "a before b": larger value first, then lower id.
static inline int before(const struct order *o, uint32_t a, uint32_t b)
{
    if (o->values[a] != o->values[b])
        return o->values[a] > o->values[b];
    return o->ids != NULL ? o->ids[a] < o->ids[b] : a < b;
}

// A heap whose root is the one that comes last in "before" order.
static void sift_down(const struct order *o, uint32_t *heap, uint32_t size, uint32_t at)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, last = at;
        if (l < size && before(o, heap[last], heap[l]))
            last = l;
        if (r < size && before(o, heap[last], heap[r]))
            last = r;
        if (last == at)
            return;
        uint32_t t = heap[at];
        heap[at] = heap[last], heap[last] = t;
        at = last;
    }
}

uint32_t ptm_top_k(const double *values, const uint32_t *ids, uint32_t n, uint32_t k, uint32_t *out, double *rest)
{
    const struct order o = {values, ids};
    if (k > n)
        k = n;
    double all = 0;
    for (uint32_t i = 0; i < k; i++) {
        all += values[i];
        out[i] = i;
    }
    for (uint32_t i = k / 2; i-- > 0;)
        sift_down(&o, out, k, i);
    for (uint32_t i = k; i < n; i++) {
        all += values[i];
        // below the last one chosen: not chosen (equal ones go by id)
        if (k == 0 || values[i] < values[out[0]] || !before(&o, i, out[0]))
            continue;
        out[0] = i;
        sift_down(&o, out, k, 0);
    }
    double kept = 0;
    for (uint32_t i = 0; i < k; i++)
        kept += values[out[i]];
    for (uint32_t size = k; size > 1; size--) {
        uint32_t t = out[0];
        out[0] = out[size - 1], out[size - 1] = t;
        sift_down(&o, out, size - 1, 0);
    }
    *rest = all - kept;
    return k;
}
