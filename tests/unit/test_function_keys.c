// SPDX-License-Identifier: Apache-2.0
//
// Function keys (engine/model/function_keys.c) over the main OTLP fixture
// (tests/fixtures/otlp_fixture.h), whose stacks are, leaf first:
// 1 [compute run main], 2 [fib fib compute run main] (recursion),
// 3 [inline_helper/parse run main] (inline_helper inlined into parse),
// 4 [sleep run main]. Summing stacks' weights by function: by leaf, and by
// every distinct function (recursion once), each worked out by hand.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "fixtures.h"
#include "model/function_keys.h"

struct fk_state {
    uint8_t *data; // the model borrows its strings
    struct ptm_model *m;
    struct ptm_function_keys *fk;
};

static int setup(void **state)
{
    static struct fk_state s;
    size_t len;
    struct ptm_error err;
    s.data = fixture_otlp(10, NULL, 0, &len);
    s.m = ptm_model_create();
    assert_non_null(s.data);
    assert_int_equal(ptm_decode(s.m, s.data, len, NULL, &err), 0);
    s.fk = ptm_function_keys_create(s.m);
    assert_non_null(s.fk);
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    struct fk_state *s = *state;
    ptm_function_keys_destroy(s->fk);
    ptm_model_destroy(s->m);
    free(s->data);
    return 0;
}

// keys[i] is named names[i] and sums[i] is want[i], for all n.
static void expect(const struct ptm_function_keys *fk, const uint32_t *keys, const double *sums, uint32_t n,
                   const char *const *names, const double *want, uint32_t want_n)
{
    assert_int_equal(n, want_n);
    for (uint32_t i = 0; i < n; i++) {
        struct ptm_str name = ptm_function_keys_name(fk, keys[i]);
        if (strlen(names[i]) != name.len || memcmp(names[i], name.ptr, name.len) != 0)
            fail_msg("key %u is %.*s, want %s", i, (int)name.len, name.ptr, names[i]);
        if (sums[i] != want[i])
            fail_msg("%s: sum %g, want %g", names[i], sums[i], want[i]);
    }
}

// Stack weights of the fixture's profile 0: stack 1 2, stack 2 3 + 1, stack 3 1.
static const double weight[5] = {0, 2, 4, 1, 0};

// Keys are numbered in the order of the fixture's functions: main, run,
// compute, fib, parse, inline_helper, sleep; sums list them in that order.

static void by_leaf(void **state)
{
    struct fk_state *s = *state;
    uint32_t keys[16];
    double sums[16];
    const uint32_t stacks[3] = {3, 1, 2};
    uint32_t n = ptm_function_keys_sum(s->fk, false, stacks, 3, weight, NULL, keys, sums);
    expect(s->fk, keys, sums, n, (const char *const[]){"compute", "fib", "inline_helper"},
           (const double[]){2, 4, 1}, 3);
}

static void by_each_function(void **state)
{
    struct fk_state *s = *state;
    uint32_t keys[16];
    double sums[16];
    const uint32_t stacks[3] = {3, 1, 2};
    // 1 compute run main, 2 fib (once) compute run main, 3 inline_helper parse run main
    const char *const names[] = {"main", "run", "compute", "fib", "parse", "inline_helper"};
    const double want[] = {7, 7, 2 + 4, 4, 1, 1};
    uint32_t n = ptm_function_keys_sum(s->fk, true, stacks, 3, weight, NULL, keys, sums);
    expect(s->fk, keys, sums, n, names, want, 6);
    // the same again: nothing carries over between calls
    n = ptm_function_keys_sum(s->fk, true, stacks, 3, weight, NULL, keys, sums);
    expect(s->fk, keys, sums, n, names, want, 6);
}

static void stacks_left_out(void **state)
{
    struct fk_state *s = *state;
    uint32_t keys[16];
    double sums[16];
    const uint32_t stacks[3] = {1, 2, 3};
    const uint8_t verdict[5] = {0, 1, PTM_STACK_DROPPED, 1, 0};
    uint32_t n = ptm_function_keys_sum(s->fk, true, stacks, 3, weight, verdict, keys, sums);
    expect(s->fk, keys, sums, n, (const char *const[]){"main", "run", "compute", "parse", "inline_helper"},
           (const double[]){3, 3, 2, 1, 1}, 5);
    n = ptm_function_keys_sum(s->fk, false, stacks, 3, weight, verdict, keys, sums);
    expect(s->fk, keys, sums, n, (const char *const[]){"compute", "inline_helper"}, (const double[]){2, 1}, 2);
}

// The sums are kept in counters as narrow as the weights allow: 16 bits
// (whole weights totalling below 65,536, as above), 32 bits (below 2^32),
// else doubles (a larger total, a fraction, a weight of 0). Each gives the
// same sums, and a stack of weight 0 still names its functions. Both ways
// of finding the keys reached are taken: a scan of all 9 keys for 2 or more
// additions, noting them as they come for one leaf.
static void every_width(void **state)
{
    struct fk_state *s = *state;
    const double scale[] = {30000, 1e9, 0.5, 3.25};
    const uint32_t all[3] = {2, 3, 1}, two[2] = {3, 1};
    for (size_t i = 0; i < sizeof scale / sizeof scale[0]; i++) {
        uint32_t keys[16];
        double sums[16], w[5];
        for (int j = 0; j < 5; j++)
            w[j] = weight[j] * scale[i];
        uint32_t n = ptm_function_keys_sum(s->fk, true, all, 3, w, NULL, keys, sums);
        const double *x = &scale[i];
        expect(s->fk, keys, sums, n, (const char *const[]){"main", "run", "compute", "fib", "parse", "inline_helper"},
               (const double[]){7 * *x, 7 * *x, 6 * *x, 4 * *x, 1 * *x, 1 * *x}, 6);
        n = ptm_function_keys_sum(s->fk, true, two, 2, w, NULL, keys, sums);
        expect(s->fk, keys, sums, n, (const char *const[]){"main", "run", "compute", "parse", "inline_helper"},
               (const double[]){3 * *x, 3 * *x, 2 * *x, 1 * *x, 1 * *x}, 5);
        n = ptm_function_keys_sum(s->fk, false, all, 3, w, NULL, keys, sums);
        expect(s->fk, keys, sums, n, (const char *const[]){"compute", "fib", "inline_helper"},
               (const double[]){2 * *x, 4 * *x, 1 * *x}, 3);
        n = ptm_function_keys_sum(s->fk, false, all, 1, w, NULL, keys, sums);
        expect(s->fk, keys, sums, n, (const char *const[]){"fib"}, (const double[]){4 * *x}, 1);
    }
    const double zero[5] = {0, 2, 0, 1, 0};
    uint32_t keys[16];
    double sums[16];
    uint32_t n = ptm_function_keys_sum(s->fk, true, all, 3, zero, NULL, keys, sums);
    expect(s->fk, keys, sums, n, (const char *const[]){"main", "run", "compute", "fib", "parse", "inline_helper"},
           (const double[]){3, 3, 2, 0, 1, 1}, 6);
    n = ptm_function_keys_sum(s->fk, false, two, 2, zero, NULL, keys, sums);
    expect(s->fk, keys, sums, n, (const char *const[]){"compute", "inline_helper"}, (const double[]){2, 1}, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_leaf),
        cmocka_unit_test(by_each_function),
        cmocka_unit_test(stacks_left_out),
        cmocka_unit_test(every_width),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
