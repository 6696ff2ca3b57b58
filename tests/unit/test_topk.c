// SPDX-License-Identifier: Apache-2.0
//
// Top-k selection (engine/util/topk.c): the positions of the k largest,
// largest first; equal values by id, else by position; the rest summed.
// Small whole numbers take the counting path, anything else the heaps: the
// same choices are asserted of both.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>

#include "util/topk.h"

static const double values[6] = {3, 5, 5, 1, 4, 5};

static void by_id(void **state)
{
    (void)state;
    const uint32_t ids[6] = {9, 8, 2, 7, 6, 5};
    uint32_t out[6];
    double rest;
    // the three 5s (ids 2, 5, 8: positions 2, 5, 1); rest 3 + 1 + 4
    assert_int_equal(ptm_top_k(values, ids, 6, 3, out, &rest), 3);
    assert_true(out[0] == 2 && out[1] == 5 && out[2] == 1);
    assert_true(rest == 8);
    // two of the 5s: ids 2 and 5 win over 8, which goes to the rest
    assert_int_equal(ptm_top_k(values, ids, 6, 2, out, &rest), 2);
    assert_true(out[0] == 2 && out[1] == 5);
    assert_true(rest == 13);
}

static void by_position(void **state)
{
    (void)state;
    uint32_t out[6];
    double rest;
    assert_int_equal(ptm_top_k(values, NULL, 6, 4, out, &rest), 4);
    assert_true(out[0] == 1 && out[1] == 2 && out[2] == 5 && out[3] == 4);
    assert_true(rest == 4);
}

static void edges(void **state)
{
    (void)state;
    uint32_t out[6];
    double rest;
    // k past n: all of them, sorted
    assert_int_equal(ptm_top_k(values, NULL, 6, 10, out, &rest), 6);
    assert_true(out[0] == 1 && out[3] == 4 && out[4] == 0 && out[5] == 3);
    assert_true(rest == 0);
    // k = 0: everything is the rest
    assert_int_equal(ptm_top_k(values, NULL, 6, 0, out, &rest), 0);
    assert_true(rest == 23);
    assert_int_equal(ptm_top_k(values, NULL, 0, 3, out, &rest), 0);
    assert_true(rest == 0);
}

// The counting path: whole numbers below 256, ids that fit its bitmap.
// Values as an eBPF profile's function sums: mostly 1.
static void small_whole_numbers(void **state)
{
    (void)state;
    //                         pos: 0  1  2  3  4  5  6  7  8  9
    const double counts[10] = {1, 2, 1, 1, 3, 1, 2, 1, 1, 1};
    const uint32_t ids[10] = {40, 7, 3, 900, 12, 5, 70, 64, 1, 63};
    uint32_t out[10];
    double rest;
    // the 3 (pos 4), the 2s by id (7: pos 1, 70: pos 6), then the 1s by
    // id: 1 (pos 8), 3 (pos 2); left: ids 5, 40, 63, 64, 900, five 1s
    assert_int_equal(ptm_top_k(counts, ids, 10, 5, out, &rest), 5);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6 && out[3] == 8 && out[4] == 2);
    assert_true(rest == 5);
    // k = 3: the 3 and both 2s, no 1 at all; rest 7 x 1
    assert_int_equal(ptm_top_k(counts, ids, 10, 3, out, &rest), 3);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6);
    assert_true(rest == 7);
    // by position: the 2s at 1 and 6, then the 1s at 0 and 2
    assert_int_equal(ptm_top_k(counts, NULL, 10, 5, out, &rest), 5);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6 && out[3] == 0 && out[4] == 2);
    assert_true(rest == 5);
}

// The heaps choose the same: a value with a fraction, an id past the
// bitmap, an id given twice, a negative value each send them there.
static void heap_path_agrees(void **state)
{
    (void)state;
    double counts[10] = {1, 2, 1, 1, 3, 1, 2, 1, 1, 1};
    uint32_t ids[10] = {40, 7, 3, 900, 12, 5, 70, 64, 1, 63};
    uint32_t out[10];
    double rest;
    counts[3] = 0.5; // id 900, the last of the ones left out
    assert_int_equal(ptm_top_k(counts, ids, 10, 5, out, &rest), 5);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6 && out[3] == 8 && out[4] == 2);
    assert_true(rest == 4.5);
    counts[3] = 1;
    ids[3] = 4000000000u; // far past 65,536 bits
    assert_int_equal(ptm_top_k(counts, ids, 10, 5, out, &rest), 5);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6 && out[3] == 8 && out[4] == 2);
    assert_true(rest == 5);
    ids[3] = 900;
    counts[3] = -1;
    assert_int_equal(ptm_top_k(counts, ids, 10, 5, out, &rest), 5);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6 && out[3] == 8 && out[4] == 2);
    assert_true(rest == 3);
    // the same id twice among equal values: both may be chosen, either first
    counts[3] = 1;
    ids[2] = 1;
    assert_int_equal(ptm_top_k(counts, ids, 10, 5, out, &rest), 5);
    assert_true(out[0] == 4 && out[1] == 1 && out[2] == 6);
    assert_true((out[3] == 8 && out[4] == 2) || (out[3] == 2 && out[4] == 8));
    assert_true(rest == 5);
}

// Many profiles' worth: the counting path against the heaps on values that
// differ only in that one of them has a fraction far below the k-th (it
// never changes the choice).
static void paths_agree_on_many(void **state)
{
    (void)state;
    enum { N = 600, K = 100 };
    static double whole[N], fraction[N];
    static uint32_t ids[N], out_whole[K], out_fraction[K];
    uint64_t x = 12345;
    for (uint32_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        whole[i] = fraction[i] = (double)(1 + (x >> 60) % 4 / 3); // 1 mostly, some 2
        ids[i] = (uint32_t)(i * 7919 % 7681);                    // distinct, scattered
    }
    whole[N - 1] = 0, fraction[N - 1] = 0.25;
    double rest_whole, rest_fraction;
    assert_int_equal(ptm_top_k(whole, ids, N, K, out_whole, &rest_whole), K);
    assert_int_equal(ptm_top_k(fraction, ids, N, K, out_fraction, &rest_fraction), K);
    for (uint32_t i = 0; i < K; i++)
        assert_int_equal(out_whole[i], out_fraction[i]);
    assert_true(rest_fraction == rest_whole + 0.25);
}

// The same id twice among the values above the k-th (the two 3s, id 5):
// the heaps choose, both 3s first in either order, then the 1 of id 1.
static void repeated_id_above(void **state)
{
    (void)state;
    const double counts[4] = {3, 3, 1, 1};
    const uint32_t ids[4] = {5, 5, 2, 1};
    uint32_t out[4];
    double rest;
    assert_int_equal(ptm_top_k(counts, ids, 4, 3, out, &rest), 3);
    assert_true((out[0] == 0 && out[1] == 1) || (out[0] == 1 && out[1] == 0));
    assert_int_equal(out[2], 3);
    assert_true(rest == 1);
}

// More values above the k-th than the counting path sorts (200 2s, k 250):
// the heaps choose, and choose as the counting path would have.
static void many_above(void **state)
{
    (void)state;
    enum { N = 600, K = 250 };
    static double sums[N];
    static uint32_t ids[N], out[K];
    static bool chosen[N];
    for (uint32_t i = 0; i < N; i++) {
        sums[i] = i % 3 == 0 ? 2 : 1; // 200 2s at 0, 3, 6, ...
        ids[i] = (uint32_t)(i * 7919 % 7681);
    }
    double rest;
    assert_int_equal(ptm_top_k(sums, ids, N, K, out, &rest), K);
    // the 2s by id, then the fifty 1s of the lowest ids (no 1 left out has
    // a lower id than the last taken); rest: 800 in all - 450
    for (uint32_t j = 1; j < K; j++) {
        double a = sums[out[j - 1]], b = sums[out[j]];
        assert_true(a > b || (a == b && ids[out[j - 1]] < ids[out[j]]));
    }
    assert_true(sums[out[199]] == 2 && sums[out[200]] == 1);
    for (uint32_t j = 0; j < K; j++)
        chosen[out[j]] = true;
    for (uint32_t i = 0; i < N; i++)
        assert_true(chosen[i] || sums[i] == 1);
    for (uint32_t i = 0; i < N; i++)
        assert_true(chosen[i] || ids[i] > ids[out[K - 1]]);
    assert_true(rest == 350);
}

// Against a sort: the k first of all positions sorted by value (larger
// first), then id (lower first), on many values with ties (as sums of
// counts by function are) and without, by position, by scattered ids and by
// rising ids, for k from 1 to n - 1; the rest is the sum of the others
// (exact: halves). Many values and few wanted take the candidates above a
// floor found from a sample, unless there are too many candidates (few
// distinct values) or too few (the sample misleads): all these here.
static const double *sorted_values;
static const uint32_t *sorted_ids;

static int by_value_then_id(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    double x = sorted_values[i], y = sorted_values[j];
    if (x != y)
        return x > y ? -1 : 1;
    uint32_t p = sorted_ids ? sorted_ids[i] : i, q = sorted_ids ? sorted_ids[j] : j;
    return p < q ? -1 : p > q;
}

static void matches_a_sort(void **state)
{
    (void)state;
    enum { N = 20000 };
    static double sums[N];
    static uint32_t ids[N], rising[N], out[N], order[N];
    uint64_t x = 42;
    // 0: the values on every 16th position far above the others (what a
    // sample of them says of the k-th largest is wrong)
    const uint32_t ranges[] = {3, 40, 1000000, 0};
    const uint32_t ks[] = {1, 7, 100, 1000, N - 1};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        for (uint32_t i = 0; i < N; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (ranges[r] == 0)
                sums[i] = i % 16 == 0 ? 1000 + i : i % 7;
            else
                sums[i] = (double)((x >> 33) % ranges[r]) / 2;
            ids[i] = (uint32_t)(i * 7919u % N);
            rising[i] = 3 * i + 1;
        }
        for (int with_ids = 0; with_ids < 3; with_ids++) {
            sorted_values = sums, sorted_ids = with_ids == 0 ? NULL : with_ids == 1 ? ids : rising;
            for (uint32_t i = 0; i < N; i++)
                order[i] = i;
            qsort(order, N, sizeof *order, by_value_then_id);
            for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
                double rest, want_rest = 0;
                uint32_t k = ks[t];
                assert_int_equal(ptm_top_k(sums, sorted_ids, N, k, out, &rest), k);
                for (uint32_t j = 0; j < k; j++)
                    if (out[j] != order[j])
                        fail_msg("range %u ids %d k %u: [%u] is %u, want %u", ranges[r], with_ids, k, j, out[j],
                                 order[j]);
                for (uint32_t j = k; j < N; j++)
                    want_rest += sums[order[j]];
                assert_true(rest == want_rest);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_id),
        cmocka_unit_test(by_position),
        cmocka_unit_test(edges),
        cmocka_unit_test(small_whole_numbers),
        cmocka_unit_test(heap_path_agrees),
        cmocka_unit_test(paths_agree_on_many),
        cmocka_unit_test(repeated_id_above),
        cmocka_unit_test(many_above),
        cmocka_unit_test(matches_a_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
