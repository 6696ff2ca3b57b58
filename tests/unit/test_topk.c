// SPDX-License-Identifier: Apache-2.0
//
// Top-k selection (engine/util/topk.c): the positions of the k largest,
// largest first; equal values by id, else by position; the rest summed.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_id),
        cmocka_unit_test(by_position),
        cmocka_unit_test(edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
