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
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
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

// The n keys are named names[0..want_n), each once, in any order (the
// order a sum takes), and each key's sum is that name's want.
static void expect(const struct ptm_function_keys *fk, const uint32_t *keys, const double *sums, uint32_t n,
                   const char *const *names, const double *want, uint32_t want_n)
{
    assert_int_equal(n, want_n);
    bool seen[16] = {false};
    for (uint32_t i = 0; i < n; i++) {
        struct ptm_str name = ptm_function_keys_name(fk, keys[i]);
        uint32_t w = 0;
        while (w < want_n && !(strlen(names[w]) == name.len && memcmp(names[w], name.ptr, name.len) == 0))
            w++;
        if (w == want_n || seen[w])
            fail_msg("key %u is %.*s, not one of those wanted or given twice", i, (int)name.len, name.ptr);
        seen[w] = true;
        if (sums[i] != want[w])
            fail_msg("%s: sum %g, want %g", names[w], sums[i], want[w]);
    }
}

// Stack weights of the fixture's profile 0: stack 1 2, stack 2 3 + 1, stack 3 1.
static const double weight[5] = {0, 2, 4, 1, 0};


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
// same sums, and a stack of weight 0 still names its functions.
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

// ---- many keys: sums whose keys are noted as they are reached ----

// A pprof profile written here byte by byte: functions f0..f63, location i
// (id i + 1) the one line of function i, and 40 samples of three locations
// each (i, i + 7, i + 19 modulo 64, for i = 0..39): 40 stacks over 67 keys.
// All of them make more additions than there are keys (the counters are
// scanned), five of them fewer (the keys are noted as reached).
struct wbuf {
    uint8_t data[4096];
    size_t len;
};

static void put_varint(struct wbuf *b, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        b->data[b->len++] = (uint8_t)(v | 0x80);
    b->data[b->len++] = (uint8_t)v;
}

static void put_field(struct wbuf *b, uint32_t field, uint64_t v)
{
    put_varint(b, (uint64_t)field << 3);
    put_varint(b, v);
}

static void put_message(struct wbuf *b, uint32_t field, const struct wbuf *m)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, m->len);
    memcpy(b->data + b->len, m->data, m->len);
    b->len += m->len;
}

static void put_string(struct wbuf *b, const char *text)
{
    put_varint(b, 6u << 3 | 2);
    put_varint(b, strlen(text));
    memcpy(b->data + b->len, text, strlen(text));
    b->len += strlen(text);
}

#define MANY_FUNCTIONS 64

static size_t many_functions_pprof(uint8_t *out)
{
    static struct wbuf b, m, line;
    b.len = 0;
    m.len = 0;
    put_field(&m, 1, 1); // samples
    put_field(&m, 2, 2); // count
    put_message(&b, 1, &m);
    for (uint32_t i = 0; i < 40; i++) {
        m.len = 0;
        put_field(&m, 1, i + 1);
        put_field(&m, 1, (i + 7) % MANY_FUNCTIONS + 1);
        put_field(&m, 1, (i + 19) % MANY_FUNCTIONS + 1);
        put_field(&m, 2, 1);
        put_message(&b, 2, &m);
    }
    for (uint32_t i = 0; i < MANY_FUNCTIONS; i++) {
        m.len = 0, line.len = 0;
        put_field(&m, 1, i + 1);
        put_field(&line, 1, i + 1);
        put_message(&m, 4, &line);
        put_message(&b, 4, &m);
    }
    for (uint32_t i = 0; i < MANY_FUNCTIONS; i++) {
        m.len = 0;
        put_field(&m, 1, i + 1);
        put_field(&m, 2, i + 3);
        put_message(&b, 5, &m);
    }
    put_string(&b, "");
    put_string(&b, "samples");
    put_string(&b, "count");
    for (uint32_t i = 0; i < MANY_FUNCTIONS; i++) {
        char name[8];
        snprintf(name, sizeof name, "f%u", i);
        put_string(&b, name);
    }
    memcpy(out, b.data, b.len);
    return b.len;
}

// The name of each function on a stack, leaf first, walked from the model.
static uint32_t stack_functions(const struct ptm_model *m, uint32_t stack, struct ptm_str *names)
{
    const struct ptm_stack *st = &m->stacks.data[stack];
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->locations.len; i++) {
        const struct ptm_location *loc = &m->locations.data[m->indices.data[st->locations.off + i]];
        for (uint32_t l = 0; l < loc->lines.len; l++) {
            const struct ptm_function *f = &m->functions.data[m->lines.data[loc->lines.off + l].function];
            names[n++] = ptm_model_string(m, f->name);
        }
    }
    return n;
}

// Sums by weight that pass 16 bits (the second stack's), then 32 bits (the
// third's) and are no whole number (the fifth's): the counters are widened
// twice on the way, what was added so far kept, scanned or noted. Against
// the sums worked out from the model's stacks directly.
static void widened_on_the_way(void **state)
{
    (void)state;
    static uint8_t data[4096];
    size_t len = many_functions_pprof(data);
    struct ptm_model *m = ptm_model_create();
    struct ptm_error err;
    assert_non_null(m);
    assert_int_equal(ptm_decode(m, data, len, NULL, &err), 0);
    struct ptm_function_keys *fk = ptm_function_keys_create(m);
    assert_non_null(fk);
    // the 64 functions' keys and the model's own (none, unknown, the address
    // of location 0)
    assert_int_equal(ptm_function_keys_count(fk), MANY_FUNCTIONS + 3);
    uint32_t stacks[48], all = 0;
    for (uint32_t st = 0; st < m->stacks.len; st++)
        if (m->stacks.data[st].locations.len > 0)
            stacks[all++] = st;
    assert_int_equal(all, 40);
    const double first[5] = {60000, 60000, 5e9, 1, 0.5};
    double *by_stack = calloc(m->stacks.len, sizeof *by_stack);
    assert_non_null(by_stack);
    for (uint32_t i = 0; i < all; i++)
        by_stack[stacks[i]] = i < 5 ? first[i] : i;
    for (int run = 0; run < 4; run++) {
        int each = run % 2;
        uint32_t n = run < 2 ? 5 : all;
        // the sums worked out from the model: name -> sum
        struct ptm_str want_name[MANY_FUNCTIONS];
        double want[MANY_FUNCTIONS];
        uint32_t nwant = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct ptm_str names[8];
            uint32_t count = stack_functions(m, stacks[i], names);
            for (uint32_t j = 0; j < (each ? count : 1); j++) {
                uint32_t w = 0;
                while (w < nwant && !(want_name[w].len == names[j].len &&
                                      memcmp(want_name[w].ptr, names[j].ptr, names[j].len) == 0))
                    w++;
                if (w == nwant)
                    want_name[nwant] = names[j], want[nwant++] = 0;
                want[w] += by_stack[stacks[i]];
            }
        }
        uint32_t keys[MANY_FUNCTIONS + 4];
        double sums[MANY_FUNCTIONS + 3];
        uint32_t got = ptm_function_keys_sum(fk, each, stacks, n, by_stack, NULL, keys, sums);
        assert_int_equal(got, nwant);
        for (uint32_t t = 0; t < got; t++) {
            struct ptm_str name = ptm_function_keys_name(fk, keys[t]);
            uint32_t w = 0;
            while (w < nwant && !(want_name[w].len == name.len && memcmp(want_name[w].ptr, name.ptr, name.len) == 0))
                w++;
            if (w == nwant)
                fail_msg("each %d: %.*s is not on the stacks", each, (int)name.len, name.ptr);
            if (sums[t] != want[w])
                fail_msg("each %d: %.*s: %.17g, want %.17g", each, (int)name.len, name.ptr, sums[t], want[w]);
        }
    }
    free(by_stack);
    ptm_function_keys_destroy(fk);
    ptm_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_leaf),
        cmocka_unit_test(by_each_function),
        cmocka_unit_test(stacks_left_out),
        cmocka_unit_test(every_width),
        cmocka_unit_test(widened_on_the_way),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
