// SPDX-License-Identifier: Apache-2.0
//
// Open addressing over an index array; entries live densely in insertion
// order. The table is sized to keep probes short and grows by doubling.
#include "metrics/agg.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct ptm_agg {
    struct ptm_agg_entry *entries;
    uint32_t len, cap;
    uint32_t *slots; // entry index + 1, 0 = empty
    uint32_t mask;   // slots - 1
};

struct ptm_agg *ptm_agg_create(void)
{
    return calloc(1, sizeof(struct ptm_agg));
}

void ptm_agg_destroy(struct ptm_agg *agg)
{
    if (agg == NULL)
        return;
    free(agg->entries);
    free(agg->slots);
    free(agg);
}

void ptm_agg_clear(struct ptm_agg *agg)
{
    if (agg->len != 0 && agg->slots != NULL)
        memset(agg->slots, 0, ((size_t)agg->mask + 1) * sizeof *agg->slots);
    agg->len = 0;
}

static inline uint32_t key_hash(uint32_t attributes, uint32_t stack)
{
    return (uint32_t)(ptm_hash_u64((uint64_t)attributes << 32 | stack) >> 32);
}

static int grow(struct ptm_agg *agg)
{
    uint32_t nslots = agg->slots ? (agg->mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    struct ptm_agg_entry *entries = realloc(agg->entries, (size_t)nslots / 2 * sizeof *entries);
    if (slots == NULL || entries == NULL) {
        free(slots);
        if (entries != NULL)
            agg->entries = entries;
        return -1;
    }
    agg->entries = entries;
    agg->cap = nslots / 2;
    for (uint32_t i = 0; i < agg->len; i++) {
        const uint32_t *k = entries[i].key;
        uint32_t s = key_hash(k[0], k[1]) & (nslots - 1);
        while (slots[s] != 0)
            s = (s + 1) & (nslots - 1);
        slots[s] = i + 1;
    }
    free(agg->slots);
    agg->slots = slots;
    agg->mask = nslots - 1;
    return 0;
}

int ptm_agg_add(struct ptm_agg *agg, uint32_t attributes, uint32_t stack, double v)
{
    if (agg->len == agg->cap && grow(agg) != 0)
        return -1;
    uint32_t s = key_hash(attributes, stack) & agg->mask;
    for (;;) {
        uint32_t e = agg->slots[s];
        if (e == 0)
            break;
        struct ptm_agg_entry *x = &agg->entries[e - 1];
        if (x->key[0] == attributes && x->key[1] == stack) {
            x->sum += v;
            x->count++;
            return 0;
        }
        s = (s + 1) & agg->mask;
    }
    struct ptm_agg_entry *x = &agg->entries[agg->len];
    x->key[0] = attributes, x->key[1] = stack;
    x->sum = v;
    x->count = 1;
    agg->slots[s] = ++agg->len;
    return 0;
}

uint32_t ptm_agg_len(const struct ptm_agg *agg)
{
    return agg->len;
}

const struct ptm_agg_entry *ptm_agg_entries(const struct ptm_agg *agg)
{
    return agg->entries;
}
