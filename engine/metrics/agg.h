// SPDX-License-Identifier: Apache-2.0
//
// The per-profile local aggregator: sums keyed by two 32-bit parts, what a
// sample's series is told apart by in its attributes (an attribute index,
// or the id of its set of attribute indices: engine/lua/sample_sets.h) and
// in its stack (a function name id, a stack index, a from_stack value of
// one request). The rule runtime adds into it once per sample for metrics
// whose series depend on both, then hands each distinct key to the metric
// store once. Entries are kept in insertion order, so results are
// deterministic.
#pragma once

#include <stdint.h>

struct ptm_agg_entry {
    uint32_t key[2]; // the attributes part, the stack part
    double sum;
    uint64_t count; // number of adds
};

struct ptm_agg;

/// Create an empty aggregator; NULL when out of memory.
struct ptm_agg *ptm_agg_create(void);

/// Free it. NULL is a no-op.
void ptm_agg_destroy(struct ptm_agg *agg);

/// Forget every entry, keep the memory.
void ptm_agg_clear(struct ptm_agg *agg);

/// Add v to the entry of key (attributes, stack). Returns 0, or -1 when out
/// of memory.
int ptm_agg_add(struct ptm_agg *agg, uint32_t attributes, uint32_t stack, double v);

/// Number of entries.
uint32_t ptm_agg_len(const struct ptm_agg *agg);

/// The entries, in insertion order; valid until the next add or clear.
const struct ptm_agg_entry *ptm_agg_entries(const struct ptm_agg *agg);
