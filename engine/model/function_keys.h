// SPDX-License-Identifier: Apache-2.0
//
// Functions by name, for everything that groups by function: every distinct
// string that names a function gets a dense key (a location without lines
// stands for itself as "0x<address>"), each stack's leaf key is known, and each
// stack's distinct keys (leaf first, recursion once) are worked out on first
// use and kept. Rules and `inspect` read these instead of walking stack ->
// location -> line -> function -> string for every sample.
#pragma once

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

/// Spread the weights of stacks over their functions: for every stack s
/// with stack_mark[s] == stack_gen, add stack_weight[s] to acc[key] of every
/// distinct key on it. Stacks are visited in index order, so their key lists
/// are read front to back. A key whose mark[key] differs from gen is first
/// reset to 0, marked and appended to touched. Returns the number of keys
/// touched. acc, mark and touched have ptm_function_keys_count() entries;
/// stack_weight and stack_mark one per stack.
uint32_t ptm_function_keys_expand(const struct ptm_function_keys *fk, const double *stack_weight,
                                  const uint32_t *stack_mark, uint32_t stack_gen, double *acc, uint32_t *mark,
                                  uint32_t gen, uint32_t *touched);
