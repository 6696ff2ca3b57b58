// SPDX-License-Identifier: Apache-2.0
//
// Building an engine from a connector configuration: the store with its
// temporality and series limit, the Lua state with its memory cap and the
// connector settings as a table, the enabled built-in rules, then the user's
// rule files.
#include "api/engine.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>

#include "util/error.h"

struct ptm_engine {
    struct ptm_store *store;
    struct ptm_lua *lua;
};

// ---- the settings table rules read as ptm.config ----

static void set_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value != NULL ? value : "");
    lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, bool value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

static void set_number(lua_State *L, const char *key, double value)
{
    lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

static void push_metric(lua_State *L, const char *key, const struct ptm_metric_config *m)
{
    lua_newtable(L);
    set_bool(L, "enabled", m->enabled);
    set_string(L, "metric_name", m->metric_name);
    set_string(L, "unit", m->unit);
    set_number(L, "unit_scale", m->unit_scale);
    set_string(L, "description", m->description);
    lua_setfield(L, -2, key);
}

static void push_filter(lua_State *L, const char *key, const struct ptm_filter_config *f)
{
    lua_newtable(L);
    set_bool(L, "enabled", f->enabled);
    lua_newtable(L);
    for (size_t i = 0; i < f->pattern_count; i++) {
        lua_pushstring(L, f->patterns[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "patterns");
    lua_setfield(L, -2, key);
}

static void push_attributes(lua_State *L, const struct ptm_connector_config *c)
{
    static const char *const types[] = {"literal", "regex", "string_table"};
    lua_newtable(L);
    for (size_t i = 0; i < c->attribute_count; i++) {
        const struct ptm_attribute_config *a = &c->attributes[i];
        lua_newtable(L);
        set_string(L, "key", a->key);
        set_string(L, "type", types[a->type]);
        if (a->value != NULL)
            set_string(L, "value", a->value);
        if (a->source != NULL)
            set_string(L, "source", a->source);
        if (a->index >= 0)
            set_number(L, "index", (double)a->index);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "attributes");
}

// [stack: -> settings]
static void push_settings(lua_State *L, void *ctx)
{
    const struct ptm_connector_config *c = ctx;
    lua_newtable(L);
    lua_newtable(L);
    push_metric(L, "cpu", &c->metrics.cpu);
    push_metric(L, "memory", &c->metrics.memory);
    push_metric(L, "off_cpu", &c->metrics.off_cpu);
    lua_newtable(L);
    set_bool(L, "enabled", c->metrics.function.enabled);
    set_number(L, "top_n", c->metrics.function.top_n);
    lua_setfield(L, -2, "function");
    lua_setfield(L, -2, "metrics");
    push_attributes(L, c);
    push_filter(L, "process_filter", &c->process_filter);
    push_filter(L, "thread_filter", &c->thread_filter);
    push_filter(L, "pattern_filter", &c->pattern_filter);
    set_string(L, "temporality", c->temporality == PTM_TEMPORALITY_DELTA ? "delta" : "cumulative");
    set_number(L, "series_limit", c->series_limit);
}

// ---- rules ----

static int load_rules(struct ptm_engine *e, const struct ptm_connector_config *c,
                      const struct ptm_engine_options *opts, struct ptm_error *err)
{
    struct builtin {
        const char *name;
        bool enabled;
    } builtins[] = {
        {"cpu", c->metrics.cpu.enabled},
        {"memory", c->metrics.memory.enabled},
        {"off_cpu", c->metrics.off_cpu.enabled},
        {"function", c->metrics.function.enabled && (c->metrics.cpu.enabled || c->metrics.memory.enabled)},
    };
    for (size_t i = 0; !opts->no_builtin_rules && i < sizeof builtins / sizeof builtins[0]; i++) {
        if (builtins[i].enabled && ptm_lua_load_builtin(e->lua, builtins[i].name, err) != 0)
            return err ? err->code : PTM_ERULE;
    }
    for (size_t i = 0; i < c->rule_count; i++) {
        if (ptm_lua_load_rule_file(e->lua, c->rules[i].path, err) != 0)
            return err ? err->code : PTM_ERULE;
    }
    for (size_t i = 0; i < opts->rule_file_count; i++) {
        if (ptm_lua_load_rule_file(e->lua, opts->rule_files[i], err) != 0)
            return err ? err->code : PTM_ERULE;
    }
    return 0;
}

struct ptm_engine *ptm_engine_create(const struct ptm_engine_options *opts, struct ptm_error *err)
{
    struct ptm_connector_config defaults;
    const struct ptm_connector_config *c = opts->connector;
    if (c == NULL) {
        ptm_connector_config_defaults(&defaults);
        c = &defaults;
    }
    struct ptm_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory creating the engine");
        return NULL;
    }
    struct ptm_store_options so = {.temporality = c->temporality, .series_limit = c->series_limit};
    e->store = ptm_store_create(&so);
    if (e->store == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory creating the metric store");
        goto fail;
    }
    struct ptm_lua_options lo = {
        .memory_limit = (size_t)c->lua_memory_limit,
        .time_limit = c->lua_time_limit,
        .source_dir = opts->source_dir,
        .store = e->store,
        .log = opts->log,
        .log_ctx = opts->log_ctx,
        .push_settings = push_settings,
        .settings_ctx = (void *)c,
    };
    e->lua = ptm_lua_create(&lo, err);
    if (e->lua == NULL || load_rules(e, c, opts, err) != 0)
        goto fail;
    return e;
fail:
    ptm_engine_destroy(e);
    return NULL;
}

void ptm_engine_destroy(struct ptm_engine *engine)
{
    if (engine == NULL)
        return;
    ptm_lua_destroy(engine->lua);
    ptm_store_destroy(engine->store);
    free(engine);
}

int ptm_engine_convert(struct ptm_engine *engine, struct ptm_model *model, unsigned *failed,
                       struct ptm_error *err)
{
    return ptm_lua_run(engine->lua, model, failed, err);
}

struct ptm_store *ptm_engine_store(struct ptm_engine *engine)
{
    return engine->store;
}

struct ptm_lua *ptm_engine_lua(struct ptm_engine *engine)
{
    return engine->lua;
}
