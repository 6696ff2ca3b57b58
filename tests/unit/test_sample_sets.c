// SPDX-License-Identifier: Apache-2.0
//
// Interning each sample's tuple of values (engine/lua/sample_sets.c): ids
// dense from 0 in the order first reached, the same id for the same tuple
// (also when the maps give other indices the same value), the tuple of an
// id read back, every call starting again, any number of columns, and a
// table that grows past its first size.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "lua/sample_sets.h"

// An identity map over the indices 0 .. 29999.
static uint32_t *identity(void)
{
    static uint32_t map[30000];
    for (uint32_t i = 0; i < 30000; i++)
        map[i] = i;
    return map;
}

static void ids_in_order_first_reached(void **state)
{
    (void)state;
    struct ptm_sample_sets *sets = ptm_sample_sets_create();
    assert_non_null(sets);
    // five samples; the first two share a tuple, the last has none of the keys
    const uint32_t a[5] = {1, 1, 2, 1, 0}, b[5] = {5, 5, 5, 6, 0}, c[5] = {7, 7, 7, 7, 0};
    const uint32_t *columns[3] = {a, b, c};
    const uint32_t *same[3] = {identity(), identity(), identity()};
    uint32_t ids[5];
    assert_int_equal(ptm_sample_sets_intern(sets, columns, same, 3, 5, ids), 4);
    assert_true(ids[0] == 0 && ids[1] == 0 && ids[2] == 1 && ids[3] == 2 && ids[4] == 3);
    const uint32_t *t = ptm_sample_sets_tuple(sets, 1);
    assert_true(t[0] == 2 && t[1] == 5 && t[2] == 7);
    t = ptm_sample_sets_tuple(sets, 3);
    assert_true(t[0] == 0 && t[1] == 0 && t[2] == 0);
    assert_null(ptm_sample_sets_tuple(sets, 4));
    // the order of the columns matters: (5, 1) is not (1, 5)
    const uint32_t *swapped[2] = {b, a};
    assert_int_equal(ptm_sample_sets_intern(sets, swapped, same, 2, 4, ids), 3);
    assert_true(ids[0] == 0 && ids[1] == 0 && ids[2] == 1 && ids[3] == 2);
    t = ptm_sample_sets_tuple(sets, 2);
    assert_true(t[0] == 6 && t[1] == 1);
    assert_null(ptm_sample_sets_tuple(sets, 3)); // the last call's sets only
    ptm_sample_sets_destroy(sets);
    ptm_sample_sets_destroy(NULL);
}

static void by_value(void **state)
{
    (void)state;
    struct ptm_sample_sets *sets = ptm_sample_sets_create();
    // indices 1 and 2 of column a have one value (what a rule's capture
    // makes of two thread names, say), 0 has none; column b is read twice,
    // as is and through a map that keeps its last digit
    const uint32_t a[4] = {1, 2, 1, 0}, b[4] = {13, 23, 14, 13};
    const uint32_t pool[3] = {0, 7, 7}, last[24] = {[13] = 3, [14] = 4, [23] = 3};
    const uint32_t *columns[3] = {a, b, b}, *maps[3] = {pool, identity(), last};
    uint32_t ids[4];
    assert_int_equal(ptm_sample_sets_intern(sets, columns, maps, 3, 4, ids), 4);
    assert_true(ids[0] == 0 && ids[1] == 1 && ids[2] == 2 && ids[3] == 3);
    const uint32_t *t = ptm_sample_sets_tuple(sets, 3);
    assert_true(t[0] == 0 && t[1] == 13 && t[2] == 3);
    // without column b as is: samples 0 and 1 have the same values
    const uint32_t *fewer_columns[2] = {a, b}, *fewer_maps[2] = {pool, last};
    assert_int_equal(ptm_sample_sets_intern(sets, fewer_columns, fewer_maps, 2, 4, ids), 3);
    assert_true(ids[0] == 0 && ids[1] == 0 && ids[2] == 1 && ids[3] == 2);
    // the tuples lie one after another
    const uint32_t *first = ptm_sample_sets_tuple(sets, 0);
    assert_ptr_equal(ptm_sample_sets_tuple(sets, 2), first + 2 * 2);
    assert_true(first[2] == 7 && first[3] == 4);
    ptm_sample_sets_destroy(sets);
}

static void grows_and_starts_again(void **state)
{
    (void)state;
    enum { N = 40000, DISTINCT = 10000 };
    struct ptm_sample_sets *sets = ptm_sample_sets_create();
    uint32_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *ids = malloc(N * sizeof *ids);
    assert_true(sets && a && b && ids);
    // sample i has (i % 10000, 3 x (i % 10000)): 10000 tuples, each first
    // reached by sample i < 10000, so its id is i % 10000
    for (uint32_t i = 0; i < N; i++)
        a[i] = i % DISTINCT, b[i] = 3 * (i % DISTINCT);
    const uint32_t *columns[2] = {a, b}, *maps[2] = {identity(), identity()};
    for (int round = 0; round < 2; round++) {
        assert_int_equal(ptm_sample_sets_intern(sets, columns, maps, 2, N, ids), DISTINCT);
        for (uint32_t i = 0; i < N; i++)
            assert_int_equal(ids[i], i % DISTINCT);
        const uint32_t *t = ptm_sample_sets_tuple(sets, 9999);
        assert_true(t[0] == 9999 && t[1] == 29997);
    }
    // after the large call, a small one sees only its own sets
    assert_int_equal(ptm_sample_sets_intern(sets, columns, maps, 2, 3, ids), 3);
    assert_null(ptm_sample_sets_tuple(sets, 3));
    free(a), free(b), free(ids);
    ptm_sample_sets_destroy(sets);
}

static void many_columns(void **state)
{
    (void)state;
    enum { K = 130, N = 4 };
    struct ptm_sample_sets *sets = ptm_sample_sets_create();
    static uint32_t values[K][N];
    const uint32_t *columns[K], *maps[K];
    // samples 0 and 2 alike in all 130 columns; 1 and 3 differ from them
    // in the last column only
    for (uint32_t j = 0; j < K; j++) {
        for (uint32_t i = 0; i < N; i++)
            values[j][i] = j + 1;
        columns[j] = values[j];
        maps[j] = identity();
    }
    values[K - 1][1] = values[K - 1][3] = 1000;
    uint32_t ids[N];
    assert_int_equal(ptm_sample_sets_intern(sets, columns, maps, K, N, ids), 2);
    assert_true(ids[0] == 0 && ids[1] == 1 && ids[2] == 0 && ids[3] == 1);
    assert_int_equal(ptm_sample_sets_tuple(sets, 1)[K - 1], 1000);
    assert_int_equal(ptm_sample_sets_tuple(sets, 1)[K - 2], K - 1);
    ptm_sample_sets_destroy(sets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_in_order_first_reached),
        cmocka_unit_test(by_value),
        cmocka_unit_test(grows_and_starts_again),
        cmocka_unit_test(many_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
