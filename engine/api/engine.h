// SPDX-License-Identifier: Apache-2.0
//
// An engine: the rules of one configuration (the built-in rules it enables
// and the user's rule files) in one Lua state, and the metric store they
// fill. Decoded models go in; the store is collected and encoded by the
// caller. One engine is used by one thread at a time.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "lua/runtime.h"
#include "metrics/store.h"
#include "model/model.h"

struct ptm_engine;

struct ptm_engine_options {
    const struct ptm_connector_config *connector; // NULL: every default
    const char *const *rule_files;                // more rule files (e.g. from --rules)
    size_t rule_file_count;
    bool no_builtin_rules;  // load only the rule files
    const char *source_dir; // load scripts/ and rules/ from here (development)
    ptm_lua_log_fn log;     // NULL: stderr
    void *log_ctx;
};

/// Create an engine: the store, the Lua state, every rule loaded and
/// compiled. NULL with err naming the rule file and line, or the setting,
/// that failed.
struct ptm_engine *ptm_engine_create(const struct ptm_engine_options *opts, struct ptm_error *err);

/// Free the engine. NULL is a no-op.
void ptm_engine_destroy(struct ptm_engine *engine);

/// Run every rule over every profile of model. Rules that fail on a profile
/// are counted in *failed (may be NULL) and logged; the others go on.
int ptm_engine_convert(struct ptm_engine *engine, struct ptm_model *model, unsigned *failed,
                       struct ptm_error *err);

/// The store the rules fill (owned by the engine).
struct ptm_store *ptm_engine_store(struct ptm_engine *engine);

/// The Lua side (owned by the engine), for rule statistics.
struct ptm_lua *ptm_engine_lua(struct ptm_engine *engine);
