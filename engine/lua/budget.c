// SPDX-License-Identifier: Apache-2.0
//
// The time limit on rule code: the count hook and the sections it watches
// (see budget.h for why it works this way).
#include "lua/budget.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

// The registry key under which a state keeps its budget (a light userdata).
static const char budget_key = 0;

// Wall time between two looks at the CPU clock from ptm_budget_check.
#define LOOK_EVERY_NS 10000000ULL

static uint64_t ns_of(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

// CPU time of the calling thread, the one that runs the state. A system
// call (about 160 ns), made once per section and once per look.
static uint64_t now_ns(void)
{
    return ns_of(CLOCK_THREAD_CPUTIME_ID);
}

// Wall time, coarse (a few ms) and cheap (no system call). A thread's CPU
// time grows no faster than wall time, so until a section's wall time has
// run for the limit its CPU time cannot be over it either.
static uint64_t wall_ns(void)
{
    return ns_of(CLOCK_MONOTONIC_COARSE);
}

static struct ptm_budget *budget_of(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&budget_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    struct ptm_budget *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b;
}

// Code of the trusted runtime: its positions mean nothing to a rule's author.
static int trusted_source(const char *source)
{
    return strncmp(source, "@scripts/", 9) == 0 || strncmp(source, "=ptm.", 5) == 0;
}

static void hook(lua_State *L, lua_Debug *ar);

// Raise the time-limit error at the position ar describes (filled with "Sl";
// NULL: none), and from now on at every instruction, until the section ends
// (a pcall in the rule cannot swallow it). [stack: -> (does not return)]
static void raise_over_limit(lua_State *L, const lua_Debug *ar, struct ptm_budget *b)
{
    if (!b->raising) {
        b->raising = 1;
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    }
    char where[300] = "";
    if (ar != NULL && ar->currentline > 0 && !trusted_source(ar->source))
        snprintf(where, sizeof where, "%s:%d: ", ar->short_src, ar->currentline);
    char limit[32];
    if (b->limit_ns % 1000000000ULL == 0)
        snprintf(limit, sizeof limit, "%llu s", (unsigned long long)(b->limit_ns / 1000000000ULL));
    else
        snprintf(limit, sizeof limit, "%.3g s", (double)b->limit_ns / 1e9);
    if (b->section == PTM_BUDGET_LOAD)
        lua_pushfstring(L, "%stime limit exceeded: a rule file may use %s of CPU time while it loads "
                        "(lua_time_limit)", where, limit);
    else
        lua_pushfstring(L, "%stime limit exceeded: a metric may use %s of CPU time on one profile "
                        "(lua_time_limit)", where, limit);
    lua_error(L);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    struct ptm_budget *b = budget_of(L);
    if (b == NULL)
        return;
    if (b->deadline == 0 || now_ns() < b->deadline) {
        if (b->raising) { // the section that overran has ended: back to counting
            b->raising = 0;
            lua_sethook(L, hook, LUA_MASKCOUNT, PTM_BUDGET_CHECK_EVERY);
        }
        return;
    }
    raise_over_limit(L, lua_getinfo(L, "Sl", ar) ? ar : NULL, b);
}

void ptm_budget_init(struct ptm_budget *b, lua_State *L, uint64_t limit_ns)
{
    memset(b, 0, sizeof *b);
    b->limit_ns = limit_ns != 0 ? limit_ns : PTM_DEFAULT_LUA_TIME_LIMIT;
    lua_pushlightuserdata(L, (void *)&budget_key);
    lua_pushlightuserdata(L, b);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_sethook(L, hook, LUA_MASKCOUNT, PTM_BUDGET_CHECK_EVERY);
}

void ptm_budget_start(struct ptm_budget *b, int section)
{
    b->section = section;
    b->deadline = now_ns() + b->limit_ns;
    b->next_look = wall_ns() + b->limit_ns;
}

void ptm_budget_check(struct ptm_budget *b, lua_State *L, int level)
{
    if (b->deadline == 0)
        return;
    uint64_t wall = wall_ns();
    if (wall < b->next_look)
        return;
    b->next_look = wall + LOOK_EVERY_NS;
    if (now_ns() < b->deadline)
        return;
    lua_Debug ar;
    int found = lua_getstack(L, level, &ar) && lua_getinfo(L, "Sl", &ar);
    raise_over_limit(L, found ? &ar : NULL, b);
}

void ptm_budget_stop(struct ptm_budget *b)
{
    b->deadline = 0;
}

int ptm_budget_over(lua_State *L)
{
    const struct ptm_budget *b = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushboolean(L, b->deadline != 0 && now_ns() >= b->deadline);
    return 1;
}

int ptm_budget_traceback(lua_State *L)
{
    ptm_budget_stop(lua_touserdata(L, lua_upvalueindex(1)));
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}
