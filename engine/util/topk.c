// SPDX-License-Identifier: Apache-2.0
//
// Choosing the k largest of n values. Sums are often equal (counts of
// samples), and equal values go by id: a heap ordered by value and id
// reshuffles on every tie. So the k-th largest value is found first with a
// heap ordered by value alone (a value replaces the smallest only when it
// is larger), then the values above it are taken, and of those equal to it
// the ones with the lowest ids; only the k chosen are sorted. O(n log k),
// and most values cost a comparison or two.
#include "util/topk.h"

#include <stddef.h>

enum order { BY_VALUE, BY_ID, BY_VALUE_THEN_ID };

struct values {
    const double *values;
    const uint32_t *ids; // NULL: the position is the id
};

static inline uint32_t id_of(const struct values *v, uint32_t i)
{
    return v->ids != NULL ? v->ids[i] : i;
}

// "a comes before b": by value, larger first; by id, lower first.
static inline int before(const struct values *v, enum order order, uint32_t a, uint32_t b)
{
    if (order == BY_ID || (order == BY_VALUE_THEN_ID && v->values[a] == v->values[b]))
        return id_of(v, a) < id_of(v, b);
    return v->values[a] > v->values[b];
}

// A heap of positions whose root is the one that comes last.
static inline void sift_down(const struct values *v, enum order order, uint32_t *heap, uint32_t size, uint32_t at)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, last = at;
        if (l < size && before(v, order, heap[last], heap[l]))
            last = l;
        if (r < size && before(v, order, heap[last], heap[r]))
            last = r;
        if (last == at)
            return;
        uint32_t t = heap[at];
        heap[at] = heap[last], heap[last] = t;
        at = last;
    }
}

static void heapify(const struct values *v, enum order order, uint32_t *heap, uint32_t size)
{
    for (uint32_t i = size / 2; i-- > 0;)
        sift_down(v, order, heap, size, i);
}

uint32_t ptm_top_k(const double *values, const uint32_t *ids, uint32_t n, uint32_t k, uint32_t *out, double *rest)
{
    const struct values v = {values, ids};
    if (k > n)
        k = n;
    // the sum of all values, in two halves that add up side by side
    double all = 0, all_odd = 0;
    for (uint32_t i = 0; i < k; i++) {
        all += values[i];
        out[i] = i;
    }
    if (k == 0) {
        for (uint32_t i = 0; i < n; i++)
            all += values[i];
        *rest = all;
        return 0;
    }
    // the k largest values, by value alone: the root is the k-th largest
    heapify(&v, BY_VALUE, out, k);
    double kth = values[out[0]];
    for (uint32_t i = k; i < n; i++) {
        if ((i & 1) != 0)
            all_odd += values[i];
        else
            all += values[i];
        if (values[i] > kth) {
            out[0] = i;
            sift_down(&v, BY_VALUE, out, k, 0);
            kth = values[out[0]];
        }
    }
    all += all_odd;
    // Fewer than k values are above the k-th largest, all of them in the
    // heap: take them all, then of the values equal to it the lowest ids
    // (a heap whose root is the highest id taken).
    uint32_t above = 0;
    for (uint32_t i = 0; i < k; i++)
        above += values[out[i]] > kth;
    uint32_t *tie = out + above, want = k - above, ties = 0;
    for (uint32_t i = 0, taken = 0; i < n; i++) {
        if (values[i] > kth) {
            out[taken++] = i;
        } else if (values[i] == kth && ties < want) {
            tie[ties++] = i;
            if (ties == want)
                heapify(&v, BY_ID, tie, want);
        } else if (values[i] == kth && id_of(&v, i) < id_of(&v, tie[0])) {
            tie[0] = i;
            sift_down(&v, BY_ID, tie, want, 0);
        }
    }
    double kept = 0;
    for (uint32_t i = 0; i < k; i++)
        kept += values[out[i]];
    heapify(&v, BY_VALUE_THEN_ID, out, k);
    for (uint32_t size = k; size > 1; size--) {
        uint32_t t = out[0];
        out[0] = out[size - 1], out[size - 1] = t;
        sift_down(&v, BY_VALUE_THEN_ID, out, size - 1, 0);
    }
    *rest = all - kept;
    return k;
}
