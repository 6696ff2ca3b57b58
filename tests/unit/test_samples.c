// SPDX-License-Identifier: Apache-2.0
//
// The per-profile passes the rule runtime reads (engine/lua/samples.c), over
// the main OTLP fixture (tests/fixtures/otlp_fixture.h). Expected values are
// read off the fixture's description: profile 0 has samples on stacks 1, 2,
// 3, 2 with 2, 3, 1 and 1 timestamps (its weights), attributes (1, 3),
// (1, 3), (2, 4), (2, 4); profile 1 has values 5000000 + 7000000 on stack 4
// and 3000000 on stack 1; attributes 1 and 2 are thread.name, 3 and 4
// thread.id.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "decode/decode.h"
#include "fixtures.h"
#include "lua/samples.h"

static uint8_t *data; // the model borrows from it

static int setup(void **state)
{
    size_t len;
    struct ptm_model *m = ptm_model_create();
    struct ptm_error err;
    data = fixture_otlp(10, NULL, 0, &len);
    assert_non_null(data);
    assert_non_null(m);
    assert_int_equal(ptm_decode(m, data, len, NULL, &err), 0);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    ptm_model_destroy(*state);
    free(data);
    return 0;
}

static void weights_and_stacks(void **state)
{
    const struct ptm_model *m = *state;
    double w[4];
    uint32_t st[4];
    ptm_samples_read(m, 0, w, st, NULL);
    // timestamps only: one per timestamp
    assert_true(w[0] == 2 && w[1] == 3 && w[2] == 1 && w[3] == 1);
    assert_true(st[0] == 1 && st[1] == 2 && st[2] == 3 && st[3] == 2);
    ptm_samples_read(m, 1, w, st, NULL);
    // values: their sum
    assert_true(w[0] == 12000000 && w[1] == 3000000);
    assert_true(st[0] == 4 && st[1] == 1);
}

static void attribute_columns(void **state)
{
    const struct ptm_model *m = *state;
    // key ids: thread.name 1, thread.id 2; the rest 0
    const uint32_t key_of[FIXTURE_ATTRIBUTES] = {0, 1, 1, 2, 2, 0, 0};
    double w[4];
    uint32_t st[4], out[2 * 5];
    // thread.id in column 1, thread.name in column 2; stride 5
    const uint32_t both[3] = {0, 2, 1};
    struct ptm_sample_columns columns = {key_of, both, 2, 5, out};
    ptm_samples_read(m, 0, w, st, &columns);
    assert_true(out[0] == 3 && out[1] == 3 && out[2] == 4 && out[3] == 4);
    assert_true(out[5] == 1 && out[6] == 1 && out[7] == 2 && out[8] == 2);
    // thread.id alone; profile 2's samples have none: 0
    const uint32_t id_only[3] = {0, 0, 1};
    columns = (struct ptm_sample_columns){key_of, id_only, 1, 5, out};
    ptm_samples_read(m, 2, w, st, &columns);
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 0);
    // two attributes of a sample under one key: the first one counts
    const uint32_t same_key[FIXTURE_ATTRIBUTES] = {0, 1, 1, 1, 1, 0, 0};
    const uint32_t one[2] = {0, 1};
    columns = (struct ptm_sample_columns){same_key, one, 1, 5, out};
    ptm_samples_read(m, 0, w, st, &columns);
    assert_true(out[0] == 1 && out[1] == 1 && out[2] == 2 && out[3] == 2);
}

static void any_attribute(void **state)
{
    const struct ptm_model *m = *state;
    // attribute 3 (thread.id=101) decided yes, 1 no; the rest not yet
    uint8_t verdict[FIXTURE_ATTRIBUTES] = {0, 2, 0, 1, 0, 0, 0};
    uint32_t mark[FIXTURE_ATTRIBUTES] = {0}, list[FIXTURE_ATTRIBUTES];
    // profile 0's samples have attributes (1, 3), (1, 3), (2, 4), (2, 4)
    assert_int_equal(ptm_samples_undecided(m, 0, verdict, mark, 9, list), 2);
    assert_true(list[0] == 2 && list[1] == 4);
    verdict[2] = 2, verdict[4] = 1;
    uint8_t out[4];
    ptm_samples_any(m, 0, verdict, out);
    assert_true(out[0] == 1 && out[1] == 1 && out[2] == 1 && out[3] == 1);
    verdict[3] = 2, verdict[4] = 2;
    ptm_samples_any(m, 0, verdict, out);
    assert_true(out[0] == 2 && out[1] == 2 && out[2] == 2 && out[3] == 2);
    // all decided: nothing to list
    assert_int_equal(ptm_samples_undecided(m, 0, verdict, mark, 10, list), 0);
}

static void unseen_values(void **state)
{
    (void)state;
    const uint32_t column[6] = {4, 0, 4, 2, 0, 5};
    uint8_t seen[6] = {1, 0, 0, 0, 0, 0}; // 0 is seen already
    uint32_t list[6];
    assert_int_equal(ptm_samples_unseen(column, 6, seen, list), 3);
    assert_true(list[0] == 4 && list[1] == 2 && list[2] == 5);
    assert_true(seen[2] == 1 && seen[4] == 1 && seen[5] == 1 && seen[3] == 0);
    assert_int_equal(ptm_samples_unseen(column, 6, seen, list), 0);
}

static void sums_by_key(void **state)
{
    (void)state;
    const uint32_t key[5] = {1, 2, 3, PTM_SAMPLES_SKIP, 2};
    const double w[5] = {2, 3, 1, 100, 1};
    double sum[4];
    uint32_t mark[4] = {0, 0, 0, 0}, touched[5];
    assert_int_equal(ptm_samples_sum_by(key, w, 5, sum, mark, 7, touched), 3);
    assert_true(touched[0] == 1 && touched[1] == 2 && touched[2] == 3);
    assert_true(sum[1] == 2 && sum[2] == 4 && sum[3] == 1);
    assert_true(mark[0] == 0 && mark[1] == 7);
    // the next generation starts from zero
    assert_int_equal(ptm_samples_sum_by(key + 2, w + 2, 3, sum, mark, 8, touched), 2);
    assert_true(touched[0] == 3 && touched[1] == 2);
    assert_true(sum[3] == 1 && sum[2] == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weights_and_stacks),
        cmocka_unit_test(attribute_columns),
        cmocka_unit_test(any_attribute),
        cmocka_unit_test(unseen_values),
        cmocka_unit_test(sums_by_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
