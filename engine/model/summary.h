// SPDX-License-Identifier: Apache-2.0
//
// What a person wants to know first about a profile: how many samples,
// stacks, locations and functions it uses, its total, and its top functions
// by self value (the leaf frame's function, the innermost inlined one) and
// cumulative value (counted once per sample for every function anywhere on
// its stack, so recursion counts once) — the numbers `go tool pprof -top`
// prints. Functions are grouped by name; a location without lines stands for
// itself as its address.
#pragma once

#include <stdint.h>

#include "model/model.h"

struct ptm_function_stat {
    struct ptm_str name; // borrowed from the model or the summarizer
    int64_t self;
    int64_t cum;
};

struct ptm_profile_summary {
    uint32_t samples;   // samples of the profile
    uint32_t stacks;    // distinct stacks they use
    uint32_t locations; // distinct locations on those stacks
    uint32_t functions; // distinct functions of those locations
    int64_t total;      // sum of the sample weights
    uint32_t functions_with_value; // functions with a nonzero self or cum
    struct ptm_function_stat *top; // the first top_n of them (all for 0),
    uint32_t top_len;              // by self, then cum (descending), then name
};

struct ptm_summarizer;

/// A workspace for summarizing the profiles of one model (borrowed; it must
/// not change while the summarizer is used). NULL when out of memory.
struct ptm_summarizer *ptm_summarizer_create(const struct ptm_model *model);

/// Free the workspace. NULL is a no-op.
void ptm_summarizer_destroy(struct ptm_summarizer *s);

/// Summarize model->profiles.data[profile], listing its top_n functions (0 =
/// all). out->top stays valid until the next call or destroy. Returns 0 or
/// PTM_ENOMEM.
int ptm_summarize_profile(struct ptm_summarizer *s, uint32_t profile, uint32_t top_n,
                          struct ptm_profile_summary *out);
