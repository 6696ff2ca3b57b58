// SPDX-License-Identifier: Apache-2.0
//
// The time limit on rule code (lua_time_limit). A count hook, set once for
// the life of the Lua state, runs every PTM_BUDGET_CHECK_EVERY instructions
// the LuaJIT interpreter executes and compares the CPU time of the thread
// that runs the state with the deadline of the section that runs: one rule
// file loading, or one metric on one profile. CPU time rather than wall
// time, so that a busy machine does not make a rule fail. Rule code always
// runs in the interpreter (the runtime turns the JIT off for rule files),
// so a loop in a rule reaches the hook whatever it is; compiled code is the
// trusted runtime's, whose loops are bounded by the request. Past the
// deadline the hook raises an error, and then raises again at every
// instruction, so that a pcall in the rule cannot swallow it, until the
// runtime's error handler (ptm_budget_traceback) ends the section.
//
// Why a hook that is always there rather than a watchdog thread that sets
// one when time is up: lua_sethook from another thread rewrites LuaJIT's
// global hook mask while the Lua thread may be changing it too (entering a
// hook or a finalizer), and a lost update can leave hooks, or the JIT,
// switched off for good. The hook costs about 18% on interpreted code and
// nothing on compiled code (docs/rules.md, "The sandbox", has the figures).
//
// Time spent inside C functions counts, but a hook cannot interrupt one:
// a catastrophic Lua pattern runs to its end. So the sandbox also looks at
// the clock before each call of a C function that can run long (string
// patterns, sort, lpeg; ptm_budget_check, through engine/lua/cstack.c),
// which stops a rule that makes such calls one after another. One call
// that does not return is not stopped.
#pragma once

#include <stdint.h>

struct lua_State;

/// Interpreted instructions between two looks at the clock.
#define PTM_BUDGET_CHECK_EVERY 1000000

/// Default length of a section: 1 s.
#define PTM_DEFAULT_LUA_TIME_LIMIT 1000000000ULL

/// What a section is, for the error message.
enum ptm_budget_section {
    PTM_BUDGET_LOAD = 0,    ///< a rule file runs while it loads
    PTM_BUDGET_PROFILE = 1, ///< one metric converts one profile
};

/// The budget of one Lua state. Owned by the state's ptm_lua; used only
/// from the thread that runs the state.
struct ptm_budget {
    uint64_t limit_ns; ///< length of a section
    uint64_t deadline; ///< thread CPU time, nanoseconds; 0 while no section runs
    uint64_t next_look; ///< wall time (coarse) before which ptm_budget_check need not look
    int section;       ///< enum ptm_budget_section of the running section
    int raising;       ///< past the deadline: the hook runs at every instruction
};

/// Set b up for L (limit_ns 0: the default) and install the hook. b must
/// stay where it is until L is closed.
void ptm_budget_init(struct ptm_budget *b, struct lua_State *L, uint64_t limit_ns);

/// Start a section of kind section (enum ptm_budget_section): its deadline
/// is limit_ns of the calling thread's CPU time from now. Called through the
/// FFI by the trusted runtime, on the thread that runs the state.
void ptm_budget_start(struct ptm_budget *b, int section);

/// Raise the time limit's error, naming the position of the function at
/// level of L's call stack, when the running section is past its deadline.
/// Cheap: it reads the CPU clock only once the section's wall time has run
/// for the limit, and then every 10 ms. Called before C functions that can
/// run long.
void ptm_budget_check(struct ptm_budget *b, struct lua_State *L, int level);

/// End the running section (no-op when none runs).
void ptm_budget_stop(struct ptm_budget *b);

/// A lua_CFunction with the budget (a light userdata) as upvalue 1: true
/// when the running section is past its deadline. The sandbox's xpcall asks
/// it before calling a rule's message handler: an error the hook raises is
/// handled while the hook is still active, that is with hooks off, and a
/// handler that looped then would never be stopped.
int ptm_budget_over(struct lua_State *L);

/// A lua_CFunction for xpcall and lua_pcall, with the budget (a light
/// userdata) as upvalue 1: ends the running section, then returns the error
/// message with a traceback. An error value that is not a string or a number
/// is named by its type: no __tostring of a rule runs here.
int ptm_budget_traceback(struct lua_State *L);
