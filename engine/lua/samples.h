// SPDX-License-Identifier: Apache-2.0
//
// Passes over one profile's samples that the rule runtime reads instead of
// looping over samples itself: each sample's weight and stack, which
// attribute of a key each sample has, and sums of the weights by a key per
// sample. The first two run once per profile and serve every rule that
// reads it; a rule's own per-sample loop is left with index look-ups, and
// its sums are made here.
#pragma once

#include <stdint.h>

#include "model/model.h"

/// A key ptm_samples_sum_by skips: the sample is not counted.
#define PTM_SAMPLES_SKIP UINT32_MAX

/// For each sample i of model->profiles.data[profile]: its weight in
/// weight[i] (ptm_sample_weight as a double) and its stack index in stack[i].
void ptm_samples_read(const struct ptm_model *model, uint32_t profile, double *weight, uint32_t *stack);

/// For each sample i of the profile, in column c (0 <= c < columns) of out,
/// out[c * stride + i]: the first of its attribute indices idx whose key
/// goes to that column, column_of[key_of[idx]] == c + 1, or 0 when it has
/// none. key_of has an entry per attribute of the model; column_of one per
/// value key_of holds (0: no column). stride is at least the profile's
/// number of samples.
void ptm_samples_attributes(const struct ptm_model *model, uint32_t profile, const uint32_t *key_of,
                            const uint32_t *column_of, uint32_t columns, uint32_t stride, uint32_t *out);

/// Sum weight[i] by key[i], for i < n and key[i] not PTM_SAMPLES_SKIP:
/// sum[k] for the keys k with mark[k] == gen after the call, which also go
/// to touched in the order first reached. sum and mark have an entry per
/// key value, touched room for one more than the keys reached. Returns
/// how many keys.
uint32_t ptm_samples_sum_by(const uint32_t *key, const double *weight, uint32_t n, double *sum, uint32_t *mark,
                            uint32_t gen, uint32_t *touched);
