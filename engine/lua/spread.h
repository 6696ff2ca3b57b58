// SPDX-License-Identifier: Apache-2.0
//
// each_function for a plan whose series differ in its sample attributes
// too: its per-profile sums, keyed by (sample key, stack), become sums
// keyed by (sample key, function), each function on a stack getting the
// stack's whole sum (recursion once). One pass in C over the distinct
// (sample key, stack) pairs, where the rule runtime would make a call per
// function and pair.
#pragma once

#include "metrics/agg.h"
#include "model/function_keys.h"

/// For each entry (a, stack) of in, add its sum to the entry (a, f) of out
/// for each distinct function key f of the stack (ptm_function_keys_stack).
/// out is added to, not cleared first. Returns 0, or -1 when out of memory.
int ptm_spread_functions(struct ptm_function_keys *fk, const struct ptm_agg *in, struct ptm_agg *out);
