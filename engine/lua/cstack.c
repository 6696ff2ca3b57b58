// SPDX-License-Identifier: Apache-2.0
//
// The C-stack bound of cstack.h. The allowance is half of what is left of
// the thread's stack at the frame that enters Lua, measured once per thread
// with pthread_getattr_np, so a thread with a small stack (a musl thread has
// 128 KiB) gets a small allowance rather than a crash.
#include "lua/cstack.h"

#include "lua/budget.h"

#include <pthread.h>

#include <lauxlib.h>
#include <lua.h>

// When the thread's stack cannot be measured.
#define FALLBACK_ALLOWANCE ((size_t)256 << 10)

// The lowest address of the calling thread's stack; 0 if unknown.
static uintptr_t stack_low(void)
{
    static _Thread_local uintptr_t low;
    static _Thread_local int measured;
    if (!measured) {
        pthread_attr_t attr;
        void *addr = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0)
                low = (uintptr_t)addr;
            pthread_attr_destroy(&attr);
        }
        measured = 1;
    }
    return low;
}

void ptm_cstack_enter(struct ptm_cstack *c)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t low = stack_low();
    c->entry = here;
    c->allowed = low != 0 && low < here ? (here - low) / 2 : FALLBACK_ALLOWANCE;
}

int ptm_cstack_check(lua_State *L)
{
    const struct ptm_cstack *c = lua_touserdata(L, lua_upvalueindex(1));
    struct ptm_budget *b = lua_touserdata(L, lua_upvalueindex(2));
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (c == NULL || c->entry == 0 || here >= c->entry || c->entry - here <= c->allowed) {
        if (b != NULL) // level 1 is the sandbox's wrapper, level 2 the rule
            ptm_budget_check(b, L, 2);
        return 0;
    }
    // level 1 is the sandbox's wrapper, level 2 the rule that called it
    luaL_where(L, 2);
    lua_pushliteral(L, "stack overflow (calls through gsub, format, sort, coroutines or lpeg nest too deeply)");
    lua_concat(L, 2);
    return lua_error(L);
}
