// SPDX-License-Identifier: Apache-2.0
//
// The LuaJIT side of an engine: one Lua state that holds the trusted runtime
// (scripts/ptm) and every loaded rule, with its memory capped. C enters Lua
// once per request (ptm_lua_run); everything per profile and per sample
// happens inside. A reload builds a new ptm_lua beside the old one and swaps
// only when it loaded cleanly.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "metrics/store.h"
#include "model/model.h"
#include "profiletometrics.h"

struct lua_State;
struct ptm_lua;

#define PTM_DEFAULT_LUA_MEMORY_LIMIT ((size_t)64 << 20)

/// Where a log line from the rules goes. rule may be NULL.
typedef void (*ptm_lua_log_fn)(void *ctx, const char *rule, const char *text);

struct ptm_lua_options {
    size_t memory_limit;    // bytes the Lua state may use; 0 = PTM_DEFAULT_LUA_MEMORY_LIMIT
    uint64_t time_limit;    // nanoseconds a rule file may take to load, and a metric to
                            // convert one profile; 0 = PTM_DEFAULT_LUA_TIME_LIMIT (1 s)
    const char *source_dir; // load scripts/ and rules/ from this directory instead of
                            // the copies compiled into the binary (for development)
    struct ptm_store *store; // where metrics go (borrowed; must outlive the state)
    ptm_lua_log_fn log;      // NULL: stderr
    void *log_ctx;
    /// Push the connector settings table onto L (one value), or NULL for none.
    void (*push_settings)(struct lua_State *L, void *ctx);
    void *settings_ctx;
};

/// Create the state and load the trusted runtime. NULL with err on failure.
struct ptm_lua *ptm_lua_create(const struct ptm_lua_options *opts, struct ptm_error *err);

/// Close the state. NULL is a no-op.
void ptm_lua_destroy(struct ptm_lua *lua);

/// Load a rule file from disk. Its errors name the file and line.
int ptm_lua_load_rule_file(struct ptm_lua *lua, const char *path, struct ptm_error *err);

/// Load a rule from memory: text, the name errors use for it (e.g.
/// "rules/cpu.lua").
int ptm_lua_load_rule_text(struct ptm_lua *lua, const char *text, size_t len, const char *name,
                           struct ptm_error *err);

/// Load a built-in rule by name ("cpu", "memory", ...): rules/NAME.lua.
int ptm_lua_load_builtin(struct ptm_lua *lua, const char *name, struct ptm_error *err);

/// Convert every profile of model into metrics in the store. Rules that fail
/// on a profile are counted and logged, and do not stop the others; *failed
/// (may be NULL) gets how many (metric, profile) pairs failed. Returns 0, or
/// PTM_ERULE / PTM_ENOMEM when the runtime itself failed.
int ptm_lua_run(struct ptm_lua *lua, struct ptm_model *model, unsigned *failed, struct ptm_error *err);

/// Per-rule counts, for reports: calls fn for each loaded rule.
void ptm_lua_rules(struct ptm_lua *lua,
                   void (*fn)(void *ctx, const char *rule, const char *file, unsigned metrics, unsigned errors),
                   void *ctx);

/// Bytes the Lua state uses now.
size_t ptm_lua_memory(const struct ptm_lua *lua);

/// The Lua state (for tests and for pushing settings).
struct lua_State *ptm_lua_state(struct ptm_lua *lua);
