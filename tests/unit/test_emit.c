// SPDX-License-Identifier: Apache-2.0
//
// The C end of the rule runtime's flush (engine/lua/emit.c): a model
// resource's attributes interned as the runtime's resource_id makes them
// (scripts/ptm/runtime.lua), and the resources it leaves to the runtime.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "lua/emit.h"
#include "metrics/store.h"
#include "model/model.h"

static uint32_t str(struct ptm_store *s, const char *text)
{
    return ptm_store_string(s, text, strlen(text));
}

static struct ptm_keyvalue kv(const char *key, struct ptm_any value)
{
    return (struct ptm_keyvalue){{key, (uint32_t)strlen(key)}, -1, value};
}

static struct ptm_any text(const char *s)
{
    return (struct ptm_any){.kind = PTM_ANY_STRING, .strindex = -1, .u.str = {s, (uint32_t)strlen(s)}};
}

static struct ptm_any number(enum ptm_any_kind kind, int64_t i, double d)
{
    struct ptm_any a = {.kind = (uint8_t)kind, .strindex = -1};
    if (kind == PTM_ANY_DOUBLE)
        a.u.d = d;
    else
        a.u.i = i;
    return a;
}

// A model of one resource with n attributes (borrowed) and a schema URL.
static void one_resource(struct ptm_model *m, struct ptm_resource *r, struct ptm_keyvalue *kvs, uint32_t n,
                         const char *schema_url)
{
    memset(m, 0, sizeof *m);
    *r = (struct ptm_resource){{0, n}, 0, {schema_url, (uint32_t)strlen(schema_url)}};
    m->resources.data = r, m->resources.len = 1;
    m->keyvalues.data = kvs, m->keyvalues.len = n;
}

// service.name "api", up true, pid 4242, shards 3.0 (a whole number: an
// integer, as a Lua number is), ratio 0.25, an empty value (left out).
static void resource_as_the_runtime_makes_it(void **state)
{
    (void)state;
    struct ptm_store_options opts = {PTM_TEMPORALITY_CUMULATIVE, 0};
    struct ptm_store *s = ptm_store_create(&opts);
    struct ptm_keyvalue kvs[6] = {
        kv("service.name", text("api")),
        kv("up", number(PTM_ANY_BOOL, 1, 0)),
        kv("pid", number(PTM_ANY_INT, 4242, 0)),
        kv("shards", number(PTM_ANY_DOUBLE, 0, 3.0)),
        kv("ratio", number(PTM_ANY_DOUBLE, 0, 0.25)),
        kv("empty", (struct ptm_any){.kind = PTM_ANY_NONE, .strindex = -1}),
    };
    struct ptm_model m;
    struct ptm_resource r;
    one_resource(&m, &r, kvs, 6, "https://opentelemetry.io/schemas/1.26.0");
    uint32_t got = ptm_emit_resource(s, &m, 0);
    uint32_t pairs[10] = {
        str(s, "service.name"), ptm_store_value(s, PTM_LABEL_STRING, str(s, "api"), 0, 0),
        str(s, "up"),           ptm_store_value(s, PTM_LABEL_BOOL, 0, 1, 0),
        str(s, "pid"),          ptm_store_value(s, PTM_LABEL_INT, 0, 4242, 0),
        str(s, "shards"),       ptm_store_value(s, PTM_LABEL_INT, 0, 3, 0),
        str(s, "ratio"),        ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, 0.25),
    };
    uint32_t want = ptm_store_resource(s, ptm_store_attributes(s, pairs, 5),
                                       str(s, "https://opentelemetry.io/schemas/1.26.0"));
    assert_int_equal(got, want);
    assert_int_equal(ptm_store_resource_count(s), 1);
    ptm_store_destroy(s);
}

// Bytes, arrays, maps and integers of 2^53 or more are the runtime's (their
// text is made in Lua): nothing is interned. 2^53 - 1 is still a number.
static void left_to_the_runtime(void **state)
{
    (void)state;
    struct ptm_store_options opts = {PTM_TEMPORALITY_CUMULATIVE, 0};
    struct ptm_store *s = ptm_store_create(&opts);
    uint32_t strings = str(s, "probe"); // the next string's id is strings + 1
    struct ptm_any exotic[4] = {
        {.kind = PTM_ANY_BYTES, .strindex = -1, .u.str = {"\x01\x02", 2}},
        {.kind = PTM_ANY_ARRAY, .strindex = -1},
        {.kind = PTM_ANY_KVLIST, .strindex = -1},
        number(PTM_ANY_INT, 9007199254740992LL, 0),
    };
    struct ptm_model m;
    struct ptm_resource r;
    for (int i = 0; i < 4; i++) {
        struct ptm_keyvalue kvs[2] = {kv("service.name", text("api")), kv("x", exotic[i])};
        one_resource(&m, &r, kvs, 2, "");
        assert_int_equal(ptm_emit_resource(s, &m, 0), PTM_EMIT_IN_LUA);
    }
    assert_int_equal(str(s, "next"), strings + 1);
    assert_int_equal(ptm_store_resource_count(s), 0);
    struct ptm_keyvalue kvs[1] = {kv("big", number(PTM_ANY_INT, 9007199254740991LL, 0))};
    one_resource(&m, &r, kvs, 1, "");
    uint32_t pair[2] = {str(s, "big"), ptm_store_value(s, PTM_LABEL_INT, 0, 9007199254740991LL, 0)};
    assert_int_equal(ptm_emit_resource(s, &m, 0), ptm_store_resource(s, ptm_store_attributes(s, pair, 1), str(s, "")));
    ptm_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resource_as_the_runtime_makes_it),
        cmocka_unit_test(left_to_the_runtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
