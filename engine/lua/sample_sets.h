// SPDX-License-Identifier: Apache-2.0
//
// Sets of sample attributes: for a metric whose series differ in several
// sample attributes, each sample's tuple of values (one per attribute the
// metric reads: the value its rule makes of the sample's attribute of that
// key, as a store value id) becomes one dense id, the same for every sample
// with the same tuple. The rule runtime then sums by that one id, as it
// sums a metric that reads one attribute, however many attributes the
// metric reads; and as the tuple is the series' values, an id is a series:
// nothing is merged afterwards, and the tuples are what the store is handed.
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
/// of its tuple (maps[0][columns[0][i]], ..., maps[k - 1][columns[k - 1][i]])
/// in ids[i]: ids are dense from 0, in the order first reached. Column j
/// holds an index per sample (an attribute index, as ptm_samples_read
/// writes them), map j a value per index. columns and maps (k borrowed
/// arrays each, of n entries and of one past the largest index) and ids (n
/// entries) belong to the caller. Returns how many distinct tuples, or
/// PTM_SAMPLE_SETS_ENOMEM (ids is then partly written and the interner
/// empty).
uint32_t ptm_sample_sets_intern(struct ptm_sample_sets *sets, const uint32_t *const *columns,
                                const uint32_t *const *maps, uint32_t k, uint32_t n, uint32_t *ids);

/// The tuple of set id, k values in the order of the columns of the last
/// call; borrowed, valid until the next call. NULL when id is not a set of
/// that call. The tuples lie one after another in the order of their ids:
/// the tuple of id is at the tuple of 0 + id x k.
const uint32_t *ptm_sample_sets_tuple(const struct ptm_sample_sets *sets, uint32_t id);
