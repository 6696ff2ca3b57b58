// SPDX-License-Identifier: Apache-2.0
//
// Building a profile in the model from a description instead of decoding
// one: resources with attributes, profiles with their types, samples with a
// stack of function names (leaf first), values or timestamps, and
// attributes. Rule tests (`profiletometrics test`) and unit tests describe
// their inputs this way. Functions, locations, stacks and attributes are
// shared as a producer would share them; the batch is closed and validated
// like a decoded one.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "profiletometrics.h"

struct ptm_builder;

/// An attribute value for the builder: exactly one of the kinds.
struct ptm_builder_value {
    enum ptm_any_kind kind; // PTM_ANY_STRING, _INT, _DOUBLE or _BOOL
    const char *str;        // STRING (copied)
    int64_t i;              // INT, BOOL
    double d;               // DOUBLE
};

/// Start a batch in model. NULL when out of memory. Everything given to the
/// builder is copied into the model's arena.
struct ptm_builder *ptm_builder_begin(struct ptm_model *model);

/// Add a resource (attributes as n keys and values). Returns 0 or PTM_ENOMEM.
/// Profiles added after it belong to it.
int ptm_builder_resource(struct ptm_builder *b, const char *const *keys,
                         const struct ptm_builder_value *values, size_t n);

struct ptm_builder_profile {
    const char *sample_type, *sample_unit; // e.g. "cpu", "nanoseconds"
    const char *period_type, *period_unit; // may be NULL
    int64_t period;
    uint64_t time_unix_nano, duration_nano;
};

/// Add a profile to the last resource (one is made when there is none).
int ptm_builder_profile(struct ptm_builder *b, const struct ptm_builder_profile *p);

struct ptm_builder_sample {
    const char *const *stack;     // function names, leaf first
    size_t depth;
    const int64_t *values;        // one per event, or one aggregated value
    size_t value_count;
    uint32_t timestamps;          // events without values: this many timestamps
    const char *const *attr_keys; // sample attributes
    const struct ptm_builder_value *attr_values;
    size_t attr_count;
};

/// Add a sample to the last profile.
int ptm_builder_sample(struct ptm_builder *b, const struct ptm_builder_sample *s);

/// Close the batch (validation as for decoded input) and free the builder.
/// Returns 0 or an error with err.
int ptm_builder_finish(struct ptm_builder *b, struct ptm_error *err);

/// Free a builder without closing its batch (after an error).
void ptm_builder_abandon(struct ptm_builder *b);
