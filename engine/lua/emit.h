// SPDX-License-Identifier: Apache-2.0
//
// Handing a plan's per-profile sums to the store from C: for the common
// shape where one thing varies between series (a leaf function, a function
// on the stack, one sample attribute, a set of sample attributes), the sums
// come as a list of (key, sum) with the key a dense index of that thing, and
// the attribute values of each key in a table. Turning each into an
// attribute set and a store add is a loop the rule runtime would otherwise
// run in Lua once per series.
#pragma once

#include <stdint.h>

#include "metrics/store.h"
#include "model/function_keys.h"

struct ptm_emit {
    struct ptm_store *store;
    uint32_t metric;
    uint32_t resource;
    uint64_t start, end;      // the profile's window
    double scale;             // value = sum x scale
    int cumulative;           // readings: ptm_store_set_cumulative instead of add
    const uint32_t *consts;   // attribute pairs every series has (key id, value id)...
    uint32_t n_consts;
    const uint32_t *part_keys; // the key ids of the varying attributes...
    uint32_t n_parts;          // ...at least 1
    const uint32_t *value_of;  // per dense index d, from value_of[d * n_parts]: the value id + 1
                               // of each varying attribute (0: the attribute is left out)
};

/// Add sums[i] x scale, for each of the n keys[i], to the series of the
/// constant attributes plus the varying ones of the key. Sums of 0 are
/// skipped unless the values are cumulative readings. Returns 0, or the
/// first failure of the store (negative), after trying every key.
int ptm_emit_dense(const struct ptm_emit *e, const double *sums, const uint32_t *keys, uint32_t n);

/// The store value of the function name of each of keys[0..n) whose
/// value_of[key] is still 0: value_of[key] = its value id + 1. Key 0 (no
/// function) stays 0: the series has no such attribute.
void ptm_emit_name_values(struct ptm_store *store, const struct ptm_function_keys *fk, const uint32_t *keys,
                          uint32_t n, uint32_t *value_of);

/// What ptm_emit_resource returns for a resource the runtime interns itself.
#define PTM_EMIT_IN_LUA (UINT32_MAX - 1)

/// The store resource of model resource r: its attributes as the rule
/// runtime makes them (scripts/ptm/runtime.lua, resource_id: each value
/// interned before its key, strings as strings, booleans, whole numbers
/// within 2^53 of 0 as integers, other numbers as doubles; attributes
/// without a value left out), then its schema URL. PTM_EMIT_IN_LUA, having
/// interned nothing, when an attribute is bytes, an array, a map or an
/// integer of 2^53 or more, whose text the runtime makes; UINT32_MAX when
/// the store is out of memory.
uint32_t ptm_emit_resource(struct ptm_store *store, const struct ptm_model *model, uint32_t r);
