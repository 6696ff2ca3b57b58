// SPDX-License-Identifier: Apache-2.0
//
// Spreading sums keyed by (sample key, stack) over each stack's functions
// (engine/lua/spread.c), over the main OTLP fixture's stacks
// (tests/fixtures/otlp_fixture.h), leaf first: 1 [compute run main],
// 2 [fib fib compute run main] (recursion), 3 [inline_helper/parse run main].
// The sums per (sample key, function) are worked out by hand.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "fixtures.h"
#include "lua/spread.h"

// The sum of out's entry (a, the function named name); -1 when it has none.
static double sum_of(const struct ptm_function_keys *fk, const struct ptm_agg *out, uint32_t a, const char *name)
{
    const struct ptm_agg_entry *e = ptm_agg_entries(out);
    for (uint32_t i = 0; i < ptm_agg_len(out); i++) {
        struct ptm_str s = ptm_function_keys_name(fk, e[i].key[1]);
        if (e[i].key[0] == a && s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0)
            return e[i].sum;
    }
    return -1;
}

static void each_function_of_each_stack(void **state)
{
    (void)state;
    size_t len;
    struct ptm_error err;
    uint8_t *data = fixture_otlp(10, NULL, 0, &len);
    struct ptm_model *m = ptm_model_create();
    assert_int_equal(ptm_decode(m, data, len, NULL, &err), 0);
    struct ptm_function_keys *fk = ptm_function_keys_create(m);
    struct ptm_agg *in = ptm_agg_create(), *out = ptm_agg_create();
    assert_true(fk && in && out);
    // sample key 7: stacks 1 (2) and 2 (3); sample key 9: stacks 2 (5) and 3 (1)
    assert_int_equal(ptm_agg_add(in, 7, 1, 2), 0);
    assert_int_equal(ptm_agg_add(in, 7, 2, 3), 0);
    assert_int_equal(ptm_agg_add(in, 9, 2, 5), 0);
    assert_int_equal(ptm_agg_add(in, 9, 3, 1), 0);
    assert_int_equal(ptm_spread_functions(fk, in, out), 0);
    // key 7: compute, run, main on both stacks; fib once for stack 2
    assert_true(sum_of(fk, out, 7, "compute") == 5 && sum_of(fk, out, 7, "run") == 5);
    assert_true(sum_of(fk, out, 7, "main") == 5 && sum_of(fk, out, 7, "fib") == 3);
    // key 9: fib 5 (recursion once), compute 5, inline_helper and parse 1,
    // run and main 6
    assert_true(sum_of(fk, out, 9, "fib") == 5 && sum_of(fk, out, 9, "compute") == 5);
    assert_true(sum_of(fk, out, 9, "inline_helper") == 1 && sum_of(fk, out, 9, "parse") == 1);
    assert_true(sum_of(fk, out, 9, "run") == 6 && sum_of(fk, out, 9, "main") == 6);
    assert_int_equal(ptm_agg_len(out), 4 + 6);
    assert_true(sum_of(fk, out, 7, "parse") == -1);
    ptm_agg_destroy(in), ptm_agg_destroy(out);
    ptm_function_keys_destroy(fk);
    ptm_model_destroy(m);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_function_of_each_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
