// SPDX-License-Identifier: Apache-2.0
//
// Choosing the k largest of n values by a bounded heap: O(n log k), and
// only the chosen ones sorted.
#include "util/topk.h"

#include <stddef.h>

#define KEY(i) (keys != NULL ? keys[i] : (uint32_t)(i))

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

uint32_t ptm_top_k(const double *acc, const uint32_t *keys, uint32_t n, uint32_t k, uint32_t *out, double *rest)
{
    double all = 0;
    for (uint32_t i = 0; i < n; i++)
        all += acc[KEY(i)];
    if (k > n)
        k = n;
    for (uint32_t i = 0; i < k; i++)
        out[i] = KEY(i);
    for (uint32_t i = k / 2; i-- > 0;)
        sift_down(acc, out, k, i);
    for (uint32_t i = k; i < n; i++) {
        if (k > 0 && before(acc, KEY(i), out[0])) {
            out[0] = KEY(i);
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

