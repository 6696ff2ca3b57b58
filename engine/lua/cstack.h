// SPDX-License-Identifier: Apache-2.0
//
// A bound on how deep C functions that call back into Lua may nest. LuaJIT
// checks the depth of its own Lua stack, not of the C stack: string.gsub
// with a function that calls gsub again, coroutine.wrap calling itself,
// lpeg match-time captures matching again, each level a C frame, run the
// thread's C stack out and crash the process (SIGSEGV with the usual 8 MiB
// stack). The sandbox (scripts/ptm/
// sandbox.lua) puts ptm_cstack_check in front of every such function a rule
// can reach; past half of the C stack that was left when C entered Lua the
// call fails with a Lua error instead. The same check goes in front of the
// C functions that can run long (string patterns, sort, lpeg), and looks at
// the time limit there (budget.h), which a hook cannot do inside C.
#pragma once

#include <stddef.h>
#include <stdint.h>

struct lua_State;

struct ptm_cstack {
    uintptr_t entry; ///< the C frame that entered Lua; 0: not in Lua
    size_t allowed;  ///< bytes of C stack Lua may use below entry
};

/// Record that the calling thread enters Lua now. Call it right before
/// lua_pcall, from the function that makes the call.
void ptm_cstack_enter(struct ptm_cstack *c);

/// A lua_CFunction with the struct ptm_cstack (a light userdata) as upvalue
/// 1 and the state's struct ptm_budget as upvalue 2 (or none), called by
/// the sandbox's wrappers before the wrapped function: raises "stack
/// overflow (...)" at the rule's line when the C stack is past its
/// allowance, or the time limit's error when the running section is past
/// its deadline (ptm_budget_check), and returns nothing otherwise.
int ptm_cstack_check(struct lua_State *L);
