// SPDX-License-Identifier: Apache-2.0
//
// The time limit on Lua code (engine/lua/budget.c) on a bare Lua state:
// which loops it stops, that a pcall cannot swallow its error, that it ends
// with its section, and what it cannot stop: a loop LuaJIT has compiled
// (hooks do not run in compiled code), which is why the runtime turns the
// JIT off for rule files, and why the sandbox looks at the time before
// every call of a C function that can run long. Also the C-stack bound
// (engine/lua/cstack.c) on nested gsub calls, which crash the process
// without it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/budget.h"
#include "lua/cstack.h"

#define MS 1000000ULL

static struct ptm_budget budget;
static struct ptm_cstack cstack;

static int start_section(lua_State *L)
{
    ptm_budget_start(&budget, (int)luaL_optinteger(L, 1, PTM_BUDGET_PROFILE));
    return 0;
}

static int stop_section(lua_State *L)
{
    (void)L;
    ptm_budget_stop(&budget);
    return 0;
}

// A state with the budget (limit_ms), start()/stop()/over() and check() (the
// C-stack check) as globals.
static lua_State *state_with_limit(uint64_t limit_ms)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    ptm_budget_init(&budget, L, limit_ms * MS);
    lua_register(L, "start", start_section);
    lua_register(L, "stop", stop_section);
    lua_pushlightuserdata(L, &budget);
    lua_pushcclosure(L, ptm_budget_over, 1);
    lua_setglobal(L, "over");
    lua_pushlightuserdata(L, &cstack);
    lua_pushlightuserdata(L, &budget);
    lua_pushcclosure(L, ptm_cstack_check, 2);
    lua_setglobal(L, "check");
    return L;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct outcome {
    int rc;        // of lua_pcall
    char msg[1024]; // the error message, "" without one
    double took;   // seconds
};

// Load code as chunk name, with the JIT off for it when jit_off, and run it
// under the budget's handler.
static struct outcome run(lua_State *L, const char *name, const char *code, int jit_off)
{
    struct outcome o;
    assert_int_equal(luaL_loadbuffer(L, code, strlen(code), name), 0);
    if (jit_off) {
        lua_getglobal(L, "jit");
        lua_getfield(L, -1, "off");
        lua_pushvalue(L, -3);
        lua_pushboolean(L, 1);
        lua_call(L, 2, 0);
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, &budget);
    lua_pushcclosure(L, ptm_budget_traceback, 1);
    lua_insert(L, -2);
    double t0 = now_seconds();
    ptm_cstack_enter(&cstack);
    o.rc = lua_pcall(L, 0, 0, -2);
    cstack.entry = 0;
    ptm_budget_stop(&budget); // as engine/lua/runtime.c does after every call
    o.took = now_seconds() - t0;
    snprintf(o.msg, sizeof o.msg, "%s", o.rc != 0 && lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    // the first line: without the traceback
    o.msg[strcspn(o.msg, "\n")] = '\0';
    lua_settop(L, 0);
    return o;
}

// run() in a state of its own, with a limit of limit_ms.
static struct outcome run_once(uint64_t limit_ms, const char *name, const char *code, int jit_off)
{
    lua_State *L = state_with_limit(limit_ms);
    struct outcome o = run(L, name, code, jit_off);
    lua_close(L);
    return o;
}

static void stops_every_loop(void **state)
{
    (void)state;
    static const char load[] = "rule.lua:2: time limit exceeded: a rule file may use 0.03 s of CPU time while it "
                               "loads (lua_time_limit)";
    static const char profile[] = "rule.lua:2: time limit exceeded: a metric may use 0.03 s of CPU time on one "
                                  "profile (lua_time_limit)";
    static const struct {
        const char *code, *want;
    } cases[] = {
        // every form of loop: a while, a numeric for, a tail call, a goto
        {"start(0)\nwhile true do end", load},
        {"start(0)\nlocal x = 0 for i = 1, 1e18 do x = x + i end", load},
        {"start(0)\nlocal function f() return f() end return f()", load},
        {"start(0)\n::again:: goto again", load},
        // a pcall cannot swallow it: a loop of pcalls of a loop, of
        // coroutines that loop, of errors caught
        {"start()\nwhile true do pcall(function() while true do end end) end", profile},
        {"start()\nwhile true do pcall(coroutine.wrap(function() while true do end end)) end", profile},
        {"start()\nlocal n = 0 while true do n = n + 1 pcall(error, n) end", profile},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct outcome o = run_once(30, "=rule.lua", cases[i].code, 1);
        assert_int_equal(o.rc, LUA_ERRRUN);
        // the position of the loop, the section's kind, the limit and its key
        if (strcmp(o.msg, cases[i].want) != 0)
            fail_msg("case %zu: %s", i, o.msg);
        assert_true(o.took >= 0.03 && o.took < 2.0);
        assert_int_equal(budget.deadline, 0); // the handler ended the section
    }
}

static void ends_with_its_section(void **state)
{
    (void)state;
    lua_State *L = state_with_limit(20);
    // past the deadline, but the section has ended: nothing is raised, and
    // code after it runs at full length (a loop of several limits)
    struct outcome o = run(L, "=rule.lua",
                           "start()\n"
                           "local t0 = os.clock() while os.clock() - t0 < 0.05 do end\n"
                           "stop()\n"
                           "local t1 = os.clock() while os.clock() - t1 < 0.1 do end",
                           1);
    assert_int_equal(o.rc, LUA_ERRRUN);
    assert_non_null(strstr(o.msg, "rule.lua:2: time limit exceeded"));
    o = run(L, "=rule.lua", "start()\nstop()\nlocal t1 = os.clock() while os.clock() - t1 < 0.1 do end", 1);
    assert_int_equal(o.rc, 0);
    // the loop ran to its end, well past the 20 ms limit: os.clock() is the
    // process's CPU time, which a sanitizer's own thread can advance faster
    // than the wall clock, so the bound is half the loop's length
    assert_true(o.took >= 0.05);
    // over() says whether the running section is past its deadline
    static const struct {
        uint64_t deadline;
        int over;
    } cases[] = {{0, 0}, {1, 1}, {UINT64_MAX, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        budget.deadline = cases[i].deadline;
        lua_getglobal(L, "over");
        lua_call(L, 0, 1);
        assert_int_equal(lua_toboolean(L, -1), cases[i].over);
        lua_pop(L, 1);
    }
    budget.deadline = 0;
    lua_close(L);
}

static void compiled_loops_are_not_stopped(void **state)
{
    (void)state;
    // The same loop, longer than the limit many times over: compiled by
    // LuaJIT, no hook runs and it finishes; interpreted (JIT off, as the
    // runtime loads rule files) it is stopped.
    const char *code = "start()\nlocal x = 0 for i = 1, 3e8 do x = x + i end";
    struct outcome compiled = run_once(5, "=rule.lua", code, 0);
    assert_int_equal(compiled.rc, 0);
    assert_true(compiled.took > 0.005);
    struct outcome interpreted = run_once(5, "=rule.lua", code, 1);
    assert_int_equal(interpreted.rc, LUA_ERRRUN);
    assert_non_null(strstr(interpreted.msg, "rule.lua:2: time limit exceeded"));
}

static void looks_before_long_c_calls(void **state)
{
    (void)state;
    // A Lua pattern that backtracks for some milliseconds, called in a loop:
    // the hook, every 1,000,000 instructions, would look at the clock after
    // about 100,000 calls, minutes later. check() before each call (as the
    // sandbox does) stops it at the first call past the limit.
    struct outcome o = run_once(30, "=rule.lua",
                                "local s, find = ('a.'):rep(40), string.find\n"
                                "local function guarded(...) check() return find(...) end\n"
                                "start() while true do guarded(s, '(.-)%.(.-)%.(.-)x') end",
                                1);
    assert_string_equal(o.msg, "rule.lua:3: time limit exceeded: a metric may use 0.03 s of CPU time on one "
                               "profile (lua_time_limit)");
    assert_true(o.took < 2.0);
}

static void names_no_position_in_the_runtime(void **state)
{
    (void)state;
    struct outcome o = run_once(10, "=ptm.plan(m)", "start() while true do end", 1);
    assert_string_equal(o.msg,
                        "time limit exceeded: a metric may use 0.01 s of CPU time on one profile (lua_time_limit)");
}

static void error_objects_are_named_not_called(void **state)
{
    (void)state;
    // called, the __tostring would make the handler fail ("error in error
    // handling")
    struct outcome o = run_once(1000, "=rule.lua",
                                "error(setmetatable({}, { __tostring = function() error('called') end }))", 1);
    assert_string_equal(o.msg, "(error object is a table value)");
}

static void bounds_nested_c_calls(void **state)
{
    (void)state;
    // gsub calling gsub through its replacement function: without check()
    // this overflows the C stack (SIGSEGV)
    struct outcome o = run_once(10000, "=rule.lua",
                                "local gsub = string.gsub\n"
                                "local function guarded(...) check() return gsub(...) end\n"
                                "local function g(s) return (guarded(s, '.', g)) end\n"
                                "g('ab')",
                                1);
    assert_string_equal(o.msg, "rule.lua:3: stack overflow (calls through gsub, format, sort, coroutines or lpeg "
                               "nest too deeply)");
    // outside a call that entered Lua through ptm_cstack_enter, no check
    lua_State *L = state_with_limit(1000);
    lua_getglobal(L, "check");
    assert_int_equal(lua_pcall(L, 0, 0, 0), 0);
    lua_close(L);
}

int main(void)
{
    alarm(60); // a limit that does not hold shows as a loop: end it as a failure
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stops_every_loop),
        cmocka_unit_test(ends_with_its_section),
        cmocka_unit_test(compiled_loops_are_not_stopped),
        cmocka_unit_test(looks_before_long_c_calls),
        cmocka_unit_test(names_no_position_in_the_runtime),
        cmocka_unit_test(error_objects_are_named_not_called),
        cmocka_unit_test(bounds_nested_c_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
