// SPDX-License-Identifier: Apache-2.0
//
// Open addressing over the tuples, which lie in one array, k per set, in
// the order of their ids. A sample's tuple is first copied to the row after
// the last set, where it stays when it is new: hashing and comparing always
// read one contiguous row, and a new set costs no copy.
#include "lua/sample_sets.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct ptm_sample_sets {
    uint32_t *tuples;  // k per set, then the row of the sample being looked up
    uint32_t *slot_of; // per set: its slot, to empty the table set by set
    uint32_t len, cap; // sets; cap + 1 rows fit in tuples
    uint32_t k;        // indices per tuple
    uint32_t *slots;   // set id + 1, 0 = empty; twice cap of them
    uint32_t mask;     // slots - 1
};

struct ptm_sample_sets *ptm_sample_sets_create(void)
{
    return calloc(1, sizeof(struct ptm_sample_sets));
}

void ptm_sample_sets_destroy(struct ptm_sample_sets *sets)
{
    if (sets == NULL)
        return;
    free(sets->tuples);
    free(sets->slot_of);
    free(sets->slots);
    free(sets);
}

// Two indices to a 64-bit word at a time, each word mixed into the last.
static uint32_t row_hash(const uint32_t *row, uint32_t k)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    uint32_t j = 0;
    for (; j + 1 < k; j += 2)
        h = ptm_hash_u64(h ^ ((uint64_t)row[j] << 32 | row[j + 1]));
    if (j < k)
        h = ptm_hash_u64(h ^ row[j]);
    return (uint32_t)(h >> 32);
}

// Forget every set, keep the memory; a table sized for tuples of another
// length is dropped.
static void clear(struct ptm_sample_sets *sets, uint32_t k)
{
    if (sets->k != k) {
        free(sets->tuples), free(sets->slot_of), free(sets->slots);
        *sets = (struct ptm_sample_sets){.k = k};
        return;
    }
    for (uint32_t e = 0; e < sets->len; e++)
        sets->slots[sets->slot_of[e]] = 0;
    sets->len = 0;
}

// Room for twice the sets (and the lookup row); the sets are placed anew.
static int grow(struct ptm_sample_sets *sets)
{
    uint32_t cap = sets->cap ? sets->cap * 2 : 128, k = sets->k;
    size_t width = k ? k : 1; // k = 0: every sample has the one empty tuple
    if (cap > (UINT32_MAX - 1) / 2 || (size_t)cap + 1 > SIZE_MAX / sizeof(uint32_t) / width)
        return -1;
    uint32_t *slots = calloc((size_t)cap * 2, sizeof *slots);
    uint32_t *tuples = realloc(sets->tuples, ((size_t)cap + 1) * width * sizeof *tuples);
    if (tuples != NULL)
        sets->tuples = tuples;
    uint32_t *slot_of = realloc(sets->slot_of, (size_t)cap * sizeof *slot_of);
    if (slot_of != NULL)
        sets->slot_of = slot_of;
    if (slots == NULL || tuples == NULL || slot_of == NULL) {
        free(slots);
        return -1;
    }
    uint32_t mask = cap * 2 - 1;
    for (uint32_t e = 0; e < sets->len; e++) {
        uint32_t s = row_hash(tuples + (size_t)e * k, k) & mask;
        while (slots[s] != 0)
            s = (s + 1) & mask;
        slots[s] = e + 1;
        slot_of[e] = s;
    }
    free(sets->slots);
    sets->slots = slots;
    sets->mask = mask;
    sets->cap = cap;
    return 0;
}

// The id of the tuple in the row after the last set, which becomes a new
// set when no set has it.
static uint32_t intern_row(struct ptm_sample_sets *sets)
{
    uint32_t k = sets->k, len = sets->len;
    const uint32_t *row = sets->tuples + (size_t)len * k;
    uint32_t s = row_hash(row, k) & sets->mask;
    for (;;) {
        uint32_t e = sets->slots[s];
        if (e == 0)
            break;
        if (memcmp(sets->tuples + (size_t)(e - 1) * k, row, k * sizeof *row) == 0)
            return e - 1;
        s = (s + 1) & sets->mask;
    }
    sets->slots[s] = len + 1;
    sets->slot_of[len] = s;
    sets->len = len + 1;
    return len;
}

uint32_t ptm_sample_sets_intern(struct ptm_sample_sets *sets, const uint32_t *const *columns,
                                const uint32_t *const *maps, uint32_t k, uint32_t n, uint32_t *ids)
{
    clear(sets, k);
    for (uint32_t i = 0; i < n; i++) {
        if (sets->len == sets->cap && grow(sets) != 0) {
            clear(sets, 0);
            return PTM_SAMPLE_SETS_ENOMEM;
        }
        uint32_t *row = sets->tuples + (size_t)sets->len * k;
        for (uint32_t j = 0; j < k; j++)
            row[j] = maps[j][columns[j][i]];
        ids[i] = intern_row(sets);
    }
    return sets->len;
}

const uint32_t *ptm_sample_sets_tuple(const struct ptm_sample_sets *sets, uint32_t id)
{
    if (id >= sets->len)
        return NULL;
    return sets->tuples + (size_t)id * sets->k;
}
