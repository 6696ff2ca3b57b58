// SPDX-License-Identifier: Apache-2.0
//
// The store's work for a rule's profile, many at a time: the series of one
// metric and resource whose attribute sets differ in one pair (a hundred
// functions, a few threads), and the names of those functions as values.
// One by one it is ptm_store_attributes and ptm_store_add (ptm_store_string
// and ptm_store_value); here the pairs every set shares are checked and
// sorted once, each set is the shared pairs with one value written in, and
// the look-ups go in rounds over a few at a time: hash each and start
// loading its table slot, then the bytes in that slot, then intern them in
// order and start loading what comes next (the series' slots and series),
// and only then add. A store of a few hundred thousand strings, sets and
// series does not fit in the caches, and one at a time would wait for each
// of those misses in turn. Once the metric holds as many series as its limit,
// a set not interned yet can have no series: its data goes to the overflow
// series without the set being interned (the store keeps no sets for what
// is past the limit, and looks up no series for them).
#include <string.h>

#include "metrics/store_internal.h"

// Series per round: enough misses in flight, few enough that the slots
// loaded first are still in the cache when the round reads them.
#define ROUND 16

// How the sets of a batch are made.
struct batch_sets {
    uint32_t instead;                               // PTM_STORE_SORTED, or the set of every series
    uint32_t shared[2 * PTM_STORE_MAX_SET_PAIRS];   // the shared pairs, sorted
    uint32_t n_shared;
    uint32_t with[2 * PTM_STORE_MAX_SET_PAIRS];     // the shared pairs and the one that differs
    uint32_t n_with;
    uint32_t at;                                    // where that one's value is in with; UINT32_MAX: dropped
    uint32_t part_key;
};

static void sets_prepare(struct ptm_store *store, const struct ptm_store_batch *b, struct batch_sets *s)
{
    s->n_shared = 0;
    s->instead = ptm_store_sort_pairs(store, b->consts, b->n_consts, s->shared, &s->n_shared);
    s->part_key = b->part_key;
    s->at = UINT32_MAX;
    if (s->instead != PTM_STORE_SORTED || b->part_key >= store->strings.len)
        return;
    // As ptm_store_insert_pair would put it: nowhere when a shared pair has
    // its key, or the set is full.
    memcpy(s->with, s->shared, (size_t)s->n_shared * 2 * sizeof *s->with);
    s->n_with = s->n_shared;
    ptm_store_insert_pair(store, s->with, &s->n_with, b->part_key, 0);
    for (uint32_t j = 0; s->n_with > s->n_shared && j < s->n_with; j++)
        if (s->with[2 * j] == b->part_key)
            s->at = 2 * j + 1;
}

// The set of a series whose differing value is value, as
// ptm_store_attributes would make it; UINT32_MAX for a pair it would refuse.
// Interns the set unless hash_only, which gives its hash in *hash instead
// (and 0 when the set is not interned from with). *hash holds the hash from
// the hash_only call when interning. With find_only, a set not interned yet
// is the overflow set.
static uint32_t set_of(struct ptm_store *store, struct batch_sets *s, uint32_t value, bool hash_only,
                       bool find_only, uint64_t *hash)
{
    if (s->instead != PTM_STORE_SORTED)
        return s->instead;
    if (value != PTM_STORE_NO_PAIR) {
        // the checks of ptm_store_sort_pairs, for the pair that differs
        if (s->part_key == UINT32_MAX || value == UINT32_MAX)
            return store->overflow_set;
        if (s->part_key >= store->strings.len || value >= store->values.len)
            return UINT32_MAX;
    }
    uint32_t id;
    if (value == PTM_STORE_NO_PAIR || s->at == UINT32_MAX) {
        if (hash_only) {
            *hash = 0;
            return 0;
        }
        id = ptm_store_intern_sorted_set(store, s->shared, s->n_shared, ptm_store_set_hash(s->shared, s->n_shared));
    } else {
        s->with[s->at] = value;
        if (hash_only) {
            *hash = ptm_store_set_hash(s->with, s->n_with);
            return 0;
        }
        id = find_only ? ptm_strmap_find_hashed(&store->set_map, (const char *)s->with,
                                                 s->n_with * 2 * (uint32_t)sizeof *s->with, *hash)
                       : ptm_store_intern_sorted_set(store, s->with, s->n_with, *hash);
    }
    return id != UINT32_MAX ? id : store->overflow_set;
}

void ptm_store_string_values(struct ptm_store *store, const char *const *ptrs, const uint32_t *lens, uint32_t n,
                             uint32_t *values)
{
    for (uint32_t start = 0; start < n; start += ROUND) {
        uint32_t end = n - start < ROUND ? n : start + ROUND;
        uint64_t hash[ROUND];
        struct store_value v[ROUND];
        // the strings' slots (those interned as they are), then their bytes
        for (uint32_t i = start; i < end; i++) {
            hash[i - start] = 0;
            if (ptm_store_string_as_is(ptrs[i], lens[i])) {
                hash[i - start] = ptm_store_string_hash(ptrs[i], lens[i]);
                ptm_store_string_prefetch(store, hash[i - start], false);
            }
        }
        for (uint32_t i = start; i < end; i++)
            if (hash[i - start] != 0)
                ptm_store_string_prefetch(store, hash[i - start], true);
        // the strings, in order; their values' slots
        for (uint32_t i = start; i < end; i++) {
            uint32_t id = UINT32_MAX;
            if (hash[i - start] != 0)
                id = ptm_store_find_string(store, ptrs[i], lens[i], hash[i - start]);
            if (id == UINT32_MAX)
                id = ptm_store_string(store, ptrs[i], lens[i]);
            memset(&v[i - start], 0, sizeof v[i - start]);
            v[i - start].type = PTM_LABEL_STRING;
            v[i - start].string_id = id;
            hash[i - start] = 0;
            if (id != UINT32_MAX) {
                hash[i - start] = ptm_store_value_hash(&v[i - start]);
                ptm_store_value_prefetch(store, hash[i - start], false);
            }
        }
        for (uint32_t i = start; i < end; i++)
            if (hash[i - start] != 0)
                ptm_store_value_prefetch(store, hash[i - start], true);
        for (uint32_t i = start; i < end; i++)
            values[i] = hash[i - start] != 0 ? ptm_store_intern_value(store, &v[i - start], hash[i - start]) : UINT32_MAX;
    }
}

int ptm_store_add_batch(struct ptm_store *store, const struct ptm_store_batch *b, const uint32_t *values,
                        const double *sums, uint32_t n)
{
    struct batch_sets s;
    sets_prepare(store, b, &s);
    const struct store_metric *m = b->metric < store->metrics.len ? store->metrics.data[b->metric] : NULL;
    int first_error = 0;
    for (uint32_t start = 0; start < n; start += ROUND) {
        uint32_t end = n - start < ROUND ? n : start + ROUND;
        uint64_t hash[ROUND];
        uint32_t set[ROUND];
        bool full = m != NULL && m->series_count >= m->series_limit;
        for (uint32_t i = start; i < end; i++) {
            hash[i - start] = 0;
            if (sums[i] == 0 && !b->cumulative)
                continue;
            set_of(store, &s, values[i], true, full, &hash[i - start]);
            if (hash[i - start] != 0)
                ptm_store_set_prefetch(store, hash[i - start], false);
        }
        for (uint32_t i = start; i < end; i++)
            if (hash[i - start] != 0)
                ptm_store_set_prefetch(store, hash[i - start], true);
        for (uint32_t i = start; i < end; i++) {
            if (sums[i] == 0 && !b->cumulative)
                continue;
            set[i - start] = set_of(store, &s, values[i], false, full, &hash[i - start]);
            if (set[i - start] != UINT32_MAX)
                ptm_store_series_prefetch(store, b->metric, b->resource, set[i - start], false);
        }
        for (uint32_t i = start; i < end; i++)
            if ((sums[i] != 0 || b->cumulative) && set[i - start] != UINT32_MAX)
                ptm_store_series_prefetch(store, b->metric, b->resource, set[i - start], true);
        for (uint32_t i = start; i < end; i++) {
            if (sums[i] == 0 && !b->cumulative)
                continue;
            uint32_t id = set[i - start];
            double value = sums[i] * b->scale;
            int rc = id == UINT32_MAX ? PTM_ENOMEM
                     : b->cumulative  ? ptm_store_set_cumulative(store, b->metric, b->resource, id, value, b->window)
                                      : ptm_store_add(store, b->metric, b->resource, id, value, b->window);
            if (rc != 0 && first_error == 0)
                first_error = rc;
        }
    }
    return first_error;
}
