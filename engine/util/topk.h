// SPDX-License-Identifier: Apache-2.0
//
// Top-k selection, for "keep the N largest series, fold the rest".
#pragma once

#include <stdint.h>

/// The k largest of values[keys[i]] for i < n (keys NULL: values[0..n)),
/// largest first, ties to the lower index, into out (as indices into
/// values); *rest gets the sum of the others. Returns min(k, n).
uint32_t ptm_top_k(const double *values, const uint32_t *keys, uint32_t n, uint32_t k, uint32_t *out,
                   double *rest);
