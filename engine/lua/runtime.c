// SPDX-License-Identifier: Apache-2.0
//
// Creating the Lua state with a capped allocator, a time limit (budget.c)
// and a C-stack bound (cstack.c), finding the runtime's modules (compiled
// in, or from a source directory), loading rules, and entering the runtime
// once per request. Every call into Lua goes through lua_pcall with a
// traceback handler; errors come back as messages naming the rule file and
// line.
#include "lua/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/budget.h"
#include "lua/cstack.h"
#include "lua/embedded.h"
#include "lua/ffi_api.h"
#include "util/error.h"

struct ptm_lua {
    lua_State *L;
    size_t used;  // bytes allocated by the state
    size_t limit; // refuse allocations past this
    struct ptm_budget budget;
    struct ptm_cstack cstack;
    char *source_dir;
    ptm_lua_log_fn log;
    void *log_ctx;
    int ref_load; // runtime.load_rule
    int ref_run;  // runtime.run
    int ref_stats;
};

// lua_Alloc with exact accounting: the state may not grow past the limit.
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct ptm_lua *lua = ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        lua->used -= old;
        return NULL;
    }
    // used <= limit always holds, so neither side can wrap around
    if (nsize > old && nsize - old > lua->limit - lua->used)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p != NULL)
        lua->used = lua->used - old + nsize;
    return p;
}

// Call the function below nargs arguments with a traceback handler, which
// also ends a time-limited section an error leaves running.
// [stack: fn args... -> results...]
static int pcall_traced(struct ptm_lua *lua, int nargs, int nresults)
{
    lua_State *L = lua->L;
    int base = lua_gettop(L) - nargs;
    lua_pushlightuserdata(L, &lua->budget);
    lua_pushcclosure(L, ptm_budget_traceback, 1);
    lua_insert(L, base);
    ptm_cstack_enter(&lua->cstack);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua->cstack.entry = 0;
    ptm_budget_stop(&lua->budget);
    lua_remove(L, base);
    return rc;
}

static int lua_failure(lua_State *L, struct ptm_error *err, const char *what)
{
    const char *msg = lua_tostring(L, -1);
    int code = msg != NULL && strstr(msg, "not enough memory") != NULL ? PTM_ENOMEM : PTM_ERULE;
    ptm_error_set(err, code, "%s: %s", what, msg ? msg : "(no message)");
    lua_pop(L, 1);
    return code;
}

// ---- finding Lua sources ----

static const struct ptm_embedded_file *embedded(const char *path)
{
    for (const struct ptm_embedded_file *f = ptm_embedded_files; f->path != NULL; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

// Read a whole file; NULL with errno set on failure.
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            char *bigger = realloc(buf, cap ? cap * 2 : 8192);
            if (bigger == NULL) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = bigger;
            cap = cap ? cap * 2 : 8192;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

// Load the source file at path (relative to the source tree) as a chunk.
// [stack: -> chunk] or [stack: -> message] on failure.
static int load_source(struct ptm_lua *lua, const char *path)
{
    lua_State *L = lua->L;
    char chunkname[512];
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    if (lua->source_dir == NULL) {
        const struct ptm_embedded_file *f = embedded(path);
        if (f == NULL) {
            lua_pushfstring(L, "%s is not built into this binary", path);
            return LUA_ERRFILE;
        }
        return luaL_loadbufferx(L, f->data, f->len, chunkname, "t");
    }
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", lua->source_dir, path);
    size_t len = 0;
    char *text = slurp(full, &len);
    if (text == NULL) {
        lua_pushfstring(L, "%s: %s", full, strerror(errno));
        return LUA_ERRFILE;
    }
    int rc = luaL_loadbufferx(L, text, len, chunkname, "t");
    free(text);
    return rc;
}

// package.loaders entry: "ptm.x.y" -> scripts/ptm/x/y.lua, "ptm" -> scripts/ptm/init.lua.
static int search_runtime(lua_State *L)
{
    struct ptm_lua *lua = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);
    if (strncmp(name, "ptm", 3) != 0 || (name[3] != '\0' && name[3] != '.')) {
        lua_pushfstring(L, "\n\tno runtime module '%s'", name);
        return 1;
    }
    char path[256];
    int n = snprintf(path, sizeof path, "scripts/%s", name);
    for (int i = 0; i < n; i++)
        if (path[i] == '.')
            path[i] = '/';
    snprintf(path + n, sizeof path - (size_t)n, "%s", name[3] == '\0' ? "/init.lua" : ".lua");
    if (load_source(lua, path) != 0)
        return lua_error(L);
    return 1;
}

// The log function handed to the runtime: log(rule, text).
static int log_from_lua(lua_State *L)
{
    struct ptm_lua *lua = lua_touserdata(L, lua_upvalueindex(1));
    const char *rule = lua_tostring(L, 1);
    const char *text = luaL_optstring(L, 2, "");
    if (lua->log != NULL)
        lua->log(lua->log_ctx, rule, text);
    else
        fprintf(stderr, "profiletometrics: %s%s%s\n", rule ? rule : "", rule ? ": " : "", text);
    return 0;
}

// Put search_runtime first among package.loaders.
static void install_searcher(struct ptm_lua *lua)
{
    lua_State *L = lua->L;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaders");
    int n = (int)lua_objlen(L, -1);
    for (int i = n; i >= 1; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushlightuserdata(L, lua);
    lua_pushcclosure(L, search_runtime, 1);
    lua_rawseti(L, -2, 1);
    lua_pop(L, 2);
}

// What the runtime needs of the host besides the FFI: the error handler
// that ends a time-limited section, the check the sandbox puts in front of
// C functions that call back into Lua or can run long (the C stack and the
// time limit), whether the running section
// is over its time (for the sandbox's xpcall), the budget the runtime starts
// and stops sections of (through the FFI), and the memory limit, for
// messages. [stack: -> host]
static void push_host(struct ptm_lua *lua)
{
    lua_State *L = lua->L;
    lua_createtable(L, 0, 5);
    lua_pushlightuserdata(L, &lua->budget);
    lua_pushcclosure(L, ptm_budget_over, 1);
    lua_setfield(L, -2, "over_time");
    lua_pushlightuserdata(L, &lua->budget);
    lua_pushcclosure(L, ptm_budget_traceback, 1);
    lua_setfield(L, -2, "traceback");
    lua_pushlightuserdata(L, &lua->cstack);
    lua_pushlightuserdata(L, &lua->budget);
    lua_pushcclosure(L, ptm_cstack_check, 2);
    lua_setfield(L, -2, "check_c_call");
    lua_pushlightuserdata(L, &lua->budget);
    lua_setfield(L, -2, "budget");
    lua_pushnumber(L, (double)lua->limit);
    lua_setfield(L, -2, "memory_limit");
}

// require "ptm.runtime"; runtime.init(api, store, settings, log, host); keep refs.
static int start_runtime(struct ptm_lua *lua, const struct ptm_lua_options *opts, struct ptm_error *err)
{
    lua_State *L = lua->L;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "ptm.runtime");
    if (pcall_traced(lua, 1, 1) != 0)
        return lua_failure(L, err, "loading the rule runtime");
    lua_getfield(L, -1, "init");
    lua_pushlightuserdata(L, (void *)ptm_ffi_api());
    lua_pushlightuserdata(L, opts->store);
    if (opts->push_settings != NULL)
        opts->push_settings(L, opts->settings_ctx);
    else
        lua_newtable(L);
    lua_pushlightuserdata(L, lua);
    lua_pushcclosure(L, log_from_lua, 1);
    push_host(lua);
    if (pcall_traced(lua, 5, 0) != 0)
        return lua_failure(L, err, "starting the rule runtime");
    lua_getfield(L, -1, "load_rule");
    lua->ref_load = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "run");
    lua->ref_run = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "stats");
    lua->ref_stats = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return 0;
}

struct ptm_lua *ptm_lua_create(const struct ptm_lua_options *opts, struct ptm_error *err)
{
    struct ptm_lua *lua = calloc(1, sizeof *lua);
    if (lua == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory creating the Lua state");
        return NULL;
    }
    lua->limit = opts->memory_limit ? opts->memory_limit : PTM_DEFAULT_LUA_MEMORY_LIMIT;
    lua->log = opts->log;
    lua->log_ctx = opts->log_ctx;
    if (opts->source_dir != NULL && (lua->source_dir = strdup(opts->source_dir)) == NULL)
        goto nomem;
    lua->L = lua_newstate(capped_alloc, lua);
    if (lua->L == NULL)
        goto nomem;
    luaL_openlibs(lua->L);
    ptm_budget_init(&lua->budget, lua->L, opts->time_limit);
    install_searcher(lua);
    if (start_runtime(lua, opts, err) != 0) {
        ptm_lua_destroy(lua);
        return NULL;
    }
    return lua;
nomem:
    ptm_lua_destroy(lua);
    ptm_error_set(err, PTM_ENOMEM, "out of memory creating the Lua state (limit %zu bytes)",
                  opts->memory_limit ? opts->memory_limit : PTM_DEFAULT_LUA_MEMORY_LIMIT);
    return NULL;
}

void ptm_lua_destroy(struct ptm_lua *lua)
{
    if (lua == NULL)
        return;
    if (lua->L != NULL)
        lua_close(lua->L);
    free(lua->source_dir);
    free(lua);
}

// runtime.load_rule(text, chunkname, name) -> true | false, message
static int call_load_rule(struct ptm_lua *lua, const char *text, size_t len, const char *chunkname,
                          const char *name, struct ptm_error *err)
{
    lua_State *L = lua->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lua->ref_load);
    lua_pushlstring(L, text, len);
    lua_pushstring(L, chunkname);
    lua_pushstring(L, name);
    if (pcall_traced(lua, 3, 2) != 0)
        return lua_failure(L, err, name);
    int ok = lua_toboolean(L, -2);
    if (!ok) {
        const char *msg = lua_tostring(L, -1);
        ptm_error_set(err, PTM_ERULE, "%s", msg ? msg : "failed to load");
    }
    lua_pop(L, 2);
    return ok ? 0 : PTM_ERULE;
}

int ptm_lua_load_rule_text(struct ptm_lua *lua, const char *text, size_t len, const char *name,
                           struct ptm_error *err)
{
    char chunkname[512];
    snprintf(chunkname, sizeof chunkname, "@%s", name);
    return call_load_rule(lua, text, len, chunkname, name, err);
}

int ptm_lua_load_rule_file(struct ptm_lua *lua, const char *path, struct ptm_error *err)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (text == NULL)
        return ptm_error_set(err, PTM_EIO, "rule file %s: %s", path, strerror(errno));
    int rc = ptm_lua_load_rule_text(lua, text, len, path, err);
    free(text);
    return rc;
}

int ptm_lua_load_builtin(struct ptm_lua *lua, const char *name, struct ptm_error *err)
{
    char path[256];
    snprintf(path, sizeof path, "rules/%s.lua", name);
    if (lua->source_dir == NULL) {
        const struct ptm_embedded_file *f = embedded(path);
        if (f == NULL)
            return ptm_error_set(err, PTM_ERULE, "no built-in rule named %s", name);
        return ptm_lua_load_rule_text(lua, f->data, f->len, path, err);
    }
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", lua->source_dir, path);
    size_t len = 0;
    char *text = slurp(full, &len);
    if (text == NULL)
        return ptm_error_set(err, PTM_ERULE, "built-in rule %s: %s: %s", name, full, strerror(errno));
    int rc = ptm_lua_load_rule_text(lua, text, len, path, err);
    free(text);
    return rc;
}

int ptm_lua_run(struct ptm_lua *lua, struct ptm_model *model, unsigned *failed, struct ptm_error *err)
{
    lua_State *L = lua->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lua->ref_run);
    lua_pushlightuserdata(L, model);
    if (pcall_traced(lua, 1, 1) != 0)
        return lua_failure(L, err, "converting profiles");
    if (failed != NULL)
        *failed = (unsigned)lua_tointeger(L, -1);
    lua_pop(L, 1);
    // Give back what the request's caches used now, not at some later step.
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}

void ptm_lua_rules(struct ptm_lua *lua,
                   void (*fn)(void *ctx, const char *rule, const char *file, unsigned metrics, unsigned errors),
                   void *ctx)
{
    lua_State *L = lua->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lua->ref_stats);
    if (pcall_traced(lua, 0, 1) != 0) {
        lua_pop(L, 1);
        return;
    }
    lua_getfield(L, -1, "rules");
    int n = (int)lua_objlen(L, -1);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "file");
        lua_getfield(L, -3, "metrics");
        lua_getfield(L, -4, "errors");
        fn(ctx, lua_tostring(L, -4), lua_tostring(L, -3), (unsigned)lua_tointeger(L, -2),
           (unsigned)lua_tointeger(L, -1));
        lua_pop(L, 5);
    }
    lua_pop(L, 2);
}

size_t ptm_lua_memory(const struct ptm_lua *lua)
{
    return lua->used;
}

struct lua_State *ptm_lua_state(struct ptm_lua *lua)
{
    return lua->L;
}
