// SPDX-License-Identifier: Apache-2.0
//
// Top-k selection, for "keep the N largest series, fold the rest".
#pragma once

#include <stdint.h>

/// The positions of the k largest of values[0..n), largest first, into out;
/// of equal values the one with the lower id comes first (ids[i], or i when
/// ids is NULL). *rest gets the sum of the others. Returns min(k, n).
uint32_t ptm_top_k(const double *values, const uint32_t *ids, uint32_t n, uint32_t k, uint32_t *out,
                   double *rest);
