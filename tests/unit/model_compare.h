// SPDX-License-Identifier: Apache-2.0
//
// Comparing two models entry by entry, for tests that decode one input two
// ways (the hand-written and the protobuf-c decoders, plain and gzipped
// inputs, ...) and require the same result.
#pragma once

#include <stddef.h>

#include "model/model.h"

enum model_compare_flags {
    /// Lists held in the shared pools (indices, values, timestamps, lines,
    /// keyvalues, anys) are compared by what they hold.
    MODEL_COMPARE_CONTENT = 0,
    /// Also require them at the same offsets: the two models were laid out
    /// identically, not only equal in content.
    MODEL_COMPARE_LAYOUT = 1,
};

/// Compare every table of a and b: the same lengths, and entry by entry the
/// same fields; strings and bytes by content, never by pointer. Returns 0
/// when equal; otherwise -1 with the first difference described in why
/// (which may be NULL), e.g. "profiles[1].samples: {4, 2} vs {4, 3}".
int model_compare(const struct ptm_model *a, const struct ptm_model *b, unsigned flags, char *why,
                  size_t why_size);
