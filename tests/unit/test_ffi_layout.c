// SPDX-License-Identifier: Apache-2.0
//
// The trusted runtime reads the model through LuaJIT FFI declarations
// (scripts/ptm/ffi.lua) that copy engine/model/model.h and
// engine/lua/ffi_api.h. This test compares every size and field offset the C
// compiler sees with what LuaJIT computes from those declarations, so the
// two can never drift apart silently.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/embedded.h"
#include "lua/ffi_api.h"
#include "model/model.h"

static lua_State *ffi_state(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    const struct ptm_embedded_file *f = ptm_embedded_files;
    while (f->path != NULL && strcmp(f->path, "scripts/ptm/ffi.lua") != 0)
        f++;
    assert_non_null(f->path);
    assert_int_equal(luaL_loadbuffer(L, f->data, f->len, "@scripts/ptm/ffi.lua"), 0);
    assert_int_equal(lua_pcall(L, 0, 1, 0), 0);
    lua_setglobal(L, "ffi");
    return L;
}

static size_t lua_size(lua_State *L, const char *expr)
{
    char code[512];
    snprintf(code, sizeof code, "return %s", expr);
    if (luaL_dostring(L, code) != 0)
        fail_msg("%s: %s", expr, lua_tostring(L, -1));
    size_t v = (size_t)lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

#define SIZE(L, type) assert_int_equal(lua_size(L, "ffi.sizeof('" #type "')"), sizeof(type))
#define FIELD(L, type, field) \
    assert_int_equal(lua_size(L, "ffi.offsetof('" #type "', '" #field "')"), offsetof(type, field))

static void model_structs_match(void **state)
{
    (void)state;
    lua_State *L = ffi_state();
    SIZE(L, struct ptm_str);
    SIZE(L, struct ptm_range);
    SIZE(L, struct ptm_any);
    FIELD(L, struct ptm_any, strindex);
    FIELD(L, struct ptm_any, u);
    SIZE(L, struct ptm_keyvalue);
    FIELD(L, struct ptm_keyvalue, key_strindex);
    FIELD(L, struct ptm_keyvalue, value);
    SIZE(L, struct ptm_attribute);
    FIELD(L, struct ptm_attribute, value);
    SIZE(L, struct ptm_function);
    FIELD(L, struct ptm_function, start_line);
    SIZE(L, struct ptm_line);
    FIELD(L, struct ptm_line, line);
    FIELD(L, struct ptm_line, column);
    SIZE(L, struct ptm_location);
    FIELD(L, struct ptm_location, lines);
    FIELD(L, struct ptm_location, attributes);
    FIELD(L, struct ptm_location, address);
    SIZE(L, struct ptm_mapping);
    FIELD(L, struct ptm_mapping, filename);
    FIELD(L, struct ptm_mapping, build_id);
    FIELD(L, struct ptm_mapping, attributes);
    SIZE(L, struct ptm_stack);
    SIZE(L, struct ptm_link);
    SIZE(L, struct ptm_sample);
    FIELD(L, struct ptm_sample, link);
    FIELD(L, struct ptm_sample, attributes);
    FIELD(L, struct ptm_sample, values);
    FIELD(L, struct ptm_sample, timestamps);
    SIZE(L, struct ptm_resource);
    FIELD(L, struct ptm_resource, schema_url);
    SIZE(L, struct ptm_scope);
    FIELD(L, struct ptm_scope, name);
    FIELD(L, struct ptm_scope, attributes);
    FIELD(L, struct ptm_scope, dropped_attributes_count);
    SIZE(L, struct ptm_profile);
    FIELD(L, struct ptm_profile, sample_type);
    FIELD(L, struct ptm_profile, period_type);
    FIELD(L, struct ptm_profile, period);
    FIELD(L, struct ptm_profile, time_unix_nano);
    FIELD(L, struct ptm_profile, duration_nano);
    FIELD(L, struct ptm_profile, samples);
    FIELD(L, struct ptm_profile, value_column);
    FIELD(L, struct ptm_profile, attributes);
    FIELD(L, struct ptm_profile, profile_id);
    FIELD(L, struct ptm_profile, original_payload_format);
    FIELD(L, struct ptm_profile, dropped_attributes_count);
    FIELD(L, struct ptm_profile, comments);
    FIELD(L, struct ptm_profile, drop_frames);
    FIELD(L, struct ptm_profile, keep_frames);
    SIZE(L, struct ptm_batch);
    FIELD(L, struct ptm_batch, index);
    FIELD(L, struct ptm_batch, resources);
    FIELD(L, struct ptm_batch, strings);
    FIELD(L, struct ptm_batch, links);
    FIELD(L, struct ptm_batch, keyvalues);
    FIELD(L, struct ptm_batch, anys);
    SIZE(L, struct ptm_model);
    FIELD(L, struct ptm_model, samples);
    FIELD(L, struct ptm_model, values);
    FIELD(L, struct ptm_model, indices);
    FIELD(L, struct ptm_model, strings);
    FIELD(L, struct ptm_model, stacks);
    FIELD(L, struct ptm_model, attributes);
    FIELD(L, struct ptm_model, keyvalues);
    FIELD(L, struct ptm_model, anys);
    FIELD(L, struct ptm_model, arena);
    FIELD(L, struct ptm_model, rejected_profiles);
    lua_close(L);
}

static void api_structs_match(void **state)
{
    (void)state;
    lua_State *L = ffi_state();
    SIZE(L, struct ptm_agg_entry);
    FIELD(L, struct ptm_agg_entry, sum);
    FIELD(L, struct ptm_agg_entry, count);
    SIZE(L, struct ptm_error);
    SIZE(L, struct ptm_emit);
    FIELD(L, struct ptm_emit, start);
    FIELD(L, struct ptm_emit, scale);
    FIELD(L, struct ptm_emit, consts);
    FIELD(L, struct ptm_emit, part_keys);
    FIELD(L, struct ptm_emit, n_parts);
    FIELD(L, struct ptm_emit, value_of);
    SIZE(L, struct ptm_sample_columns);
    FIELD(L, struct ptm_sample_columns, columns);
    FIELD(L, struct ptm_sample_columns, stride);
    FIELD(L, struct ptm_sample_columns, out);
    SIZE(L, struct ptm_ffi_api);
    FIELD(L, struct ptm_ffi_api, sets_create);
    FIELD(L, struct ptm_ffi_api, sets_tuple);
    FIELD(L, struct ptm_ffi_api, agg_add);
    FIELD(L, struct ptm_ffi_api, spread_functions);
    FIELD(L, struct ptm_ffi_api, define_metric);
    FIELD(L, struct ptm_ffi_api, intern);
    FIELD(L, struct ptm_ffi_api, add);
    FIELD(L, struct ptm_ffi_api, observe);
    FIELD(L, struct ptm_ffi_api, regex_match);
    FIELD(L, struct ptm_ffi_api, fk_create);
    FIELD(L, struct ptm_ffi_api, samples_read);
    FIELD(L, struct ptm_ffi_api, samples_undecided);
    FIELD(L, struct ptm_ffi_api, samples_unseen);
    FIELD(L, struct ptm_ffi_api, samples_any);
    FIELD(L, struct ptm_ffi_api, samples_sum_by);
    FIELD(L, struct ptm_ffi_api, fk_sum);
    FIELD(L, struct ptm_ffi_api, top_k);
    FIELD(L, struct ptm_ffi_api, emit_dense);
    FIELD(L, struct ptm_ffi_api, name_values);
    FIELD(L, struct ptm_ffi_api, model_resource);
    FIELD(L, struct ptm_ffi_api, budget_start);
    FIELD(L, struct ptm_ffi_api, budget_stop);
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_structs_match),
        cmocka_unit_test(api_structs_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
