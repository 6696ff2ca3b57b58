// SPDX-License-Identifier: Apache-2.0
//
// Choosing the k largest of n values. Sums are often equal (counts of
// samples), and equal values go by id: a heap ordered by value and id
// reshuffles on every tie. So the k-th largest value is found first with a
// heap ordered by value alone (a value replaces the smallest only when it
// is larger), then the values above it are taken, and of those equal to it
// the ones with the lowest ids; only the k chosen are sorted. O(n log k),
// and most values cost a comparison or two. Sums of counts are small whole
// numbers with many ties, and there the k-th largest rises slowly, each
// value equal to it replaced one at a time: so with many values and few
// wanted, a sample of the values gives a floor first, and the heaps see
// only the values not below it.
//
// Small profiles (the eBPF profiler's: a few dozen samples over hundreds of
// functions) give sums that are small whole numbers, nearly all equal, and
// there every step of those heaps is a branch nobody can predict. When all
// values are whole numbers below SMALL_VALUES and the ids fit, the k-th
// largest comes from counting the values; the few above it are sorted as
// keys of (value, id), and those equal to it are ranked with a bitmap over
// the ids: a bit per value, its rank the bits set below it. Three passes
// over the values and none of the heaps.
#include "util/topk.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

// Values counted by the fast path: whole numbers in [0, SMALL_VALUES).
#define SMALL_VALUES 256
// The most values it is tried on: beyond, a value is mostly below the k-th
// largest and costs the heap one comparison.
#define SMALL_PROFILE 4096
// Words of its bitmap of ids (on the stack): ids below 65,536.
#define BITMAP_WORDS 1024
// The most values above the k-th it sorts (by insertion, on the stack).
#define ABOVE 128

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

static inline uint32_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

// Sort the n keys (value rank << 48 | id << 32 | position) by value rank,
// then id: few of them, by insertion.
static void sort_keys(uint64_t *keys, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint64_t key = keys[i];
        uint32_t j = i;
        for (; j > 0 && keys[j - 1] > key; j--)
            keys[j] = keys[j - 1];
        keys[j] = key;
    }
}

// The fast path: the k chosen into out, by value, then id. False (out
// written or not) when a value is not a small whole number, an id is past
// the bitmap, more than ABOVE values are above the k-th, or an id is given
// twice: the heaps then choose.
static bool top_k_small(const struct values *v, uint32_t n, uint32_t k, uint32_t *out)
{
    const double *values = v->values;
    uint32_t count[SMALL_VALUES] = {0}, top_id = 0, highest = 0;
    for (uint32_t i = 0; i < n; i++) {
        double x = values[i];
        bool in_range = x >= 0 && x < SMALL_VALUES;
        uint32_t whole = in_range ? (uint32_t)x : 0;
        if (!in_range || (double)whole != x)
            return false;
        count[whole]++;
        highest = whole > highest ? whole : highest;
        uint32_t id = id_of(v, i);
        top_id = id > top_id ? id : top_id;
    }
    if (top_id / 64 >= BITMAP_WORDS)
        return false;
    // the k-th largest value, and how many are above it
    uint32_t kth = highest, above = 0;
    while (above + count[kth] < k)
        above += count[kth--];
    if (above > ABOVE)
        return false;
    // those above it as sortable keys; those equal to it as bits by id
    uint64_t keys[ABOVE], bits[BITMAP_WORDS];
    uint32_t words = top_id / 64 + 1, a = 0;
    memset(bits, 0, words * sizeof *bits);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)values[i], id = id_of(v, i);
        if (x > kth) {
            keys[a++] = (uint64_t)(highest - x) << 48 | (uint64_t)id << 32 | i;
        } else if (x == kth) {
            if ((bits[id / 64] >> (id % 64) & 1) != 0)
                return false;
            bits[id / 64] |= 1ull << (id % 64);
        }
    }
    sort_keys(keys, above);
    for (uint32_t j = 0; j < above; j++) {
        if (j > 0 && keys[j] >> 32 == keys[j - 1] >> 32)
            return false;
        out[j] = (uint32_t)keys[j];
    }
    // of those equal to it, the lowest ids: each at its rank (the bits set
    // below its own), up to the word of the want-th
    uint32_t want = k - above, below[BITMAP_WORDS], last = 0;
    for (uint32_t w = 0, set = 0; set < want; w++) {
        below[w] = set;
        set += popcount64(bits[w]);
        last = w;
    }
    for (uint32_t i = 0; i < n && want > 0; i++) {
        uint32_t id = id_of(v, i);
        if ((uint32_t)values[i] != kth || id / 64 > last)
            continue;
        uint32_t rank = below[id / 64] + popcount64(bits[id / 64] & ((1ull << (id % 64)) - 1));
        if (rank < want)
            out[above + rank] = i;
    }
    return true;
}

// The sum of all values: in four parts side by side, so that the additions
// go at the speed of the loads and not of one addition's latency after
// another (the order is fixed: the same values give the same sum).
static double sum_all(const double *values, uint32_t n)
{
    double a = 0, b = 0, c = 0, d = 0;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a += values[i];
        b += values[i + 1];
        c += values[i + 2];
        d += values[i + 3];
    }
    for (; i < n; i++)
        a += values[i];
    return (a + b) + (c + d);
}

// The general path: heaps over the positions pos[0..n) (in increasing
// order; NULL: 0..n-1), 1 <= k <= n.
static uint32_t top_k_heap(const struct values *vs, const uint32_t *pos, uint32_t n, uint32_t k, uint32_t *out)
{
    const struct values v = *vs;
    const double *values = v.values;
    // the k largest values, by value alone: the root is the k-th largest,
    // and each later value costs a comparison with it, nearly always false
    for (uint32_t i = 0; i < k; i++)
        out[i] = pos != NULL ? pos[i] : i;
    heapify(&v, BY_VALUE, out, k);
    double kth = values[out[0]];
    for (uint32_t i = k; i < n; i++) {
        uint32_t p = pos != NULL ? pos[i] : i;
        if (values[p] > kth) {
            out[0] = p;
            sift_down(&v, BY_VALUE, out, k, 0);
            kth = values[out[0]];
        }
    }
    // The values above the k-th largest are all in the heap, fewer than k
    // of them: keep those, then of the values equal to it the lowest ids.
    uint32_t above = 0;
    for (uint32_t i = 0; i < k; i++)
        if (values[out[i]] > kth)
            out[above++] = out[i];
    uint32_t *tie = out + above, want = k - above, ties = 0;
    if (v.ids == NULL) {
        // ids are positions: the first ones met, and no need to look further
        for (uint32_t i = 0; i < n && ties < want; i++) {
            uint32_t p = pos != NULL ? pos[i] : i;
            if (values[p] == kth)
                tie[ties++] = p;
        }
    } else {
        // a heap whose root is the highest id taken
        for (uint32_t i = 0; i < n; i++) {
            uint32_t p = pos != NULL ? pos[i] : i;
            if (values[p] != kth)
                continue;
            if (ties < want) {
                tie[ties++] = p;
                if (ties == want)
                    heapify(&v, BY_ID, tie, want);
            } else if (v.ids[p] < v.ids[tie[0]]) {
                tie[0] = p;
                sift_down(&v, BY_ID, tie, want, 0);
            }
        }
    }
    k = above + ties; // k, unless the k-th largest is NaN
    heapify(&v, BY_VALUE_THEN_ID, out, k);
    for (uint32_t size = k; size > 1; size--) {
        uint32_t t = out[0];
        out[0] = out[size - 1], out[size - 1] = t;
        sift_down(&v, BY_VALUE_THEN_ID, out, size - 1, 0);
    }
    return k;
}

// Many values, few wanted: the heaps see only the candidates, the values
// not below a floor the k-th largest is likely above: a sample (every
// STRIDE-th value) gives it, its r-th largest with r half again k's share
// of the sample. When fewer than k values reach the floor, the k-th largest
// may be under it, and when more than CANDIDATES do, the floor says little:
// then UINT32_MAX, and the heaps see everything. Most values cost a
// comparison and no branch.
#define STRIDE 16
#define CANDIDATES 4096
#define MOST_WANTED 256

static uint32_t top_k_filtered(const struct values *v, uint32_t n, uint32_t k, uint32_t *out)
{
    if (k > MOST_WANTED || n / (4 * STRIDE) < k)
        return UINT32_MAX;
    const double *values = v->values;
    // the r largest of the sample, largest first, by insertion (r is small)
    uint32_t r = k * 3 / (2 * STRIDE) + 2, have = 0;
    double best[MOST_WANTED * 3 / (2 * STRIDE) + 2];
    for (uint32_t i = 0; i < n; i += STRIDE) {
        double x = values[i];
        if (have == r && !(x > best[r - 1]))
            continue;
        uint32_t j = have < r ? have++ : r - 1;
        for (; j > 0 && best[j - 1] < x; j--)
            best[j] = best[j - 1];
        best[j] = x;
    }
    double floor = best[r - 1];
    uint32_t cand[CANDIDATES], c = 0;
    for (uint32_t i = 0; i < n; i++) {
        cand[c] = i;
        c += values[i] >= floor;
        if (c == CANDIDATES)
            return UINT32_MAX;
    }
    return c < k ? UINT32_MAX : top_k_heap(v, cand, c, k, out);
}

uint32_t ptm_top_k(const double *values, const uint32_t *ids, uint32_t n, uint32_t k, uint32_t *out, double *rest)
{
    const struct values v = {values, ids};
    if (k > n)
        k = n;
    if (k > 0 && (k == n || n > SMALL_PROFILE || !top_k_small(&v, n, k, out))) {
        uint32_t chosen = top_k_filtered(&v, n, k, out);
        k = chosen != UINT32_MAX ? chosen : top_k_heap(&v, NULL, n, k, out);
    }
    double kept = 0;
    for (uint32_t i = 0; i < k; i++)
        kept += values[out[i]];
    *rest = sum_all(values, n) - kept;
    return k;
}
