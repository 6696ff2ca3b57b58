// SPDX-License-Identifier: Apache-2.0
//
// Sets of sample attributes: for a metric whose series differ in several
// sample attributes, each sample's tuple of the attribute indices it reads
// (one per key, as ptm_samples_read writes them in columns) becomes one
// dense id, the same for every sample with the same tuple. The rule runtime
// then sums by that one id, as it sums a metric that reads one attribute,
// however many attributes the metric reads, and turns each distinct id
// into attribute values once, when it hands the series to the store.
// The ids are interned per profile: each call starts again.
#pragma once

#include <stdint.h>

/// What ptm_sample_sets_intern returns when it runs out of memory.
#define PTM_SAMPLE_SETS_ENOMEM UINT32_MAX

struct ptm_sample_sets;

/// Create an empty interner; NULL when out of memory. Free it with
/// ptm_sample_sets_destroy.
struct ptm_sample_sets *ptm_sample_sets_create(void);

/// Free it. NULL is a no-op.
void ptm_sample_sets_destroy(struct ptm_sample_sets *sets);

/// Forget the sets of the previous call, then give each sample i < n the id
/// of its tuple (columns[0][i], ..., columns[k - 1][i]) in ids[i]: ids are
/// dense from 0, in the order first reached. columns (k borrowed
/// arrays of n entries each) and ids (n entries) belong to the caller.
/// Returns how many distinct tuples, or PTM_SAMPLE_SETS_ENOMEM (ids is then
/// partly written and the interner empty).
uint32_t ptm_sample_sets_intern(struct ptm_sample_sets *sets, const uint32_t *const *columns, uint32_t k, uint32_t n,
                                uint32_t *ids);

/// The tuple of set id, k attribute indices in the order of the columns of
/// the last call; borrowed, valid until the next call. NULL when id is not
/// a set of that call.
const uint32_t *ptm_sample_sets_tuple(const struct ptm_sample_sets *sets, uint32_t id);
