// SPDX-License-Identifier: Apache-2.0
//
// Passes over one profile's samples that the rule runtime reads instead of
// looping over samples itself: each sample's weight, stack and the
// attribute it has of each key rules read (one pass, once per profile for
// every rule), the distinct attributes of a column not valued yet, and
// sums of the weights by a key per sample. A rule's own per-sample loop is
// left with index look-ups, and its sums are made here.
#pragma once

#include <stdint.h>

#include "model/model.h"

/// A key ptm_samples_sum_by skips: the sample is not counted.
#define PTM_SAMPLES_SKIP UINT32_MAX

/// The attributes of some keys, a column per key: for sample i and column
/// c (0 <= c < columns), out[c * stride + i] is the first of the sample's
/// attribute indices idx whose key goes to that column, column_of[key_of[idx]]
/// == c + 1, or 0 when it has none. key_of has an entry per attribute of the
/// model; column_of one per value key_of holds (0: no column); stride is at
/// least the profile's number of samples.
struct ptm_sample_columns {
    const uint32_t *key_of;
    const uint32_t *column_of;
    uint32_t columns;
    uint32_t stride;
    uint32_t *out;
};

/// For each sample i of model->profiles.data[profile]: its weight in
/// weight[i] (ptm_sample_weight as a double), its stack index in stack[i]
/// and, unless columns is NULL, its columns.
void ptm_samples_read(const struct ptm_model *model, uint32_t profile, double *weight, uint32_t *stack,
                      const struct ptm_sample_columns *columns);

/// The attributes of the profile's samples whose verdict (by attribute
/// index, as the rule runtime caches them: 0 not decided yet, 1 yes, 2 no)
/// is 0, each once: written to list, with mark[idx] = gen. mark and list
/// have an entry per attribute of the model. Returns how many.
uint32_t ptm_samples_undecided(const struct ptm_model *model, uint32_t profile, const uint8_t *verdict,
                               uint32_t *mark, uint32_t gen, uint32_t *list);

/// The values column[0..n) holds whose seen[v] is 0, each once, to list;
/// seen[v] becomes 1 for each. seen and list have an entry per value the
/// column may hold. Returns how many.
uint32_t ptm_samples_unseen(const uint32_t *column, uint32_t n, uint8_t *seen, uint32_t *list);

/// For each sample i of the profile, out[i] = 1 when any of its attributes
/// has verdict 1, else 2.
void ptm_samples_any(const struct ptm_model *model, uint32_t profile, const uint8_t *verdict, uint8_t *out);

/// Sum weight[i] by key[i], for i < n and key[i] not PTM_SAMPLES_SKIP:
/// sum[k] for the keys k with mark[k] == gen after the call, which also go
/// to touched in the order first reached. sum and mark have an entry per
/// key value, touched room for one more than the keys reached. Returns
/// how many keys.
uint32_t ptm_samples_sum_by(const uint32_t *key, const double *weight, uint32_t n, double *sum, uint32_t *mark,
                            uint32_t gen, uint32_t *touched);
