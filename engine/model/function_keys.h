// SPDX-License-Identifier: Apache-2.0
//
// Functions by name, for everything that groups by function: every distinct
// string that names a function gets a dense key (a location without lines
// stands for itself as "0x<address>"), each stack's leaf key is known, and each
// stack's distinct keys (leaf first, recursion once) are worked out on first
// use and kept. Rules and `inspect` read these instead of walking stack ->
// location -> line -> function -> string for every sample.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"

/// Key 0 means "no function" (an empty stack).
#define PTM_NO_FUNCTION 0u

struct ptm_function_keys;

/// Key every function name of model (borrowed; it must not change while the
/// keys are used). NULL when out of memory.
struct ptm_function_keys *ptm_function_keys_create(const struct ptm_model *model);

/// Free them. NULL is a no-op.
void ptm_function_keys_destroy(struct ptm_function_keys *fk);

/// Number of keys, counting key 0.
uint32_t ptm_function_keys_count(const struct ptm_function_keys *fk);

/// The name of a key (borrowed from the model or the keys).
struct ptm_str ptm_function_keys_name(const struct ptm_function_keys *fk, uint32_t key);

/// The leaf key of every stack, by stack index (borrowed).
const uint32_t *ptm_function_keys_leaves(const struct ptm_function_keys *fk);

/// A stack's distinct keys, leaf first: *len entries at the returned pointer
/// (borrowed, valid while the keys are).
const uint32_t *ptm_function_keys_stack(struct ptm_function_keys *fk, uint32_t stack, uint32_t *len);

/// A stack verdict (as the rule runtime caches them) that leaves the stack out.
#define PTM_STACK_DROPPED 2

/// Sum stacks' weights by function. For each of the n distinct stacks
/// (verdict NULL, or verdict[stack] not PTM_STACK_DROPPED), weight[stack] is
/// added to its leaf key (each false) or to each distinct key on it (each
/// true). The keys that got a sum go to keys, each once, and their sums to
/// sums: in increasing key order, or in the order first reached when there
/// are fewer additions than keys (by the stacks' average length). keys
/// needs room for ptm_function_keys_count() + 1 entries, sums for
/// ptm_function_keys_count(). Returns how many keys, or UINT32_MAX when out
/// of memory.
uint32_t ptm_function_keys_sum(struct ptm_function_keys *fk, bool each, const uint32_t *stacks, uint32_t n,
                               const double *weight, const uint8_t *verdict, uint32_t *keys, double *sums);
