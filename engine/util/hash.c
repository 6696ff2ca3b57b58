// SPDX-License-Identifier: Apache-2.0
//
// The hash function (8 bytes at a time, multiply and fold, in the manner of
// wyhash) and the two maps of hash.h, with linear probing.
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t read64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t ptm_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL ^ (len * 0xa0761d6478bd642fULL);
    while (len >= 8) {
        h = mix(h ^ read64(p), 0xe7037ed1a0b428dbULL);
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < len; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    h = mix(h ^ tail, 0x8ebc6af09c88c6e3ULL);
    return mix(h, 0x589965cc75374cc3ULL);
}

// ---- uint64 -> uint32 ----

static int u64map_grow(struct ptm_u64map *map)
{
    size_t cap = map->cap ? map->cap * 2 : 64;
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *values = malloc(cap * sizeof *values);
    uint8_t *used = calloc(cap, 1);
    if (keys == NULL || values == NULL || used == NULL) {
        free(keys);
        free(values);
        free(used);
        return -1;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (!map->used[i])
            continue;
        size_t j = ptm_hash_u64(map->keys[i]) & (cap - 1);
        while (used[j])
            j = (j + 1) & (cap - 1);
        used[j] = 1;
        keys[j] = map->keys[i];
        values[j] = map->values[i];
    }
    free(map->keys);
    free(map->values);
    free(map->used);
    map->keys = keys;
    map->values = values;
    map->used = used;
    map->cap = cap;
    return 0;
}

int ptm_u64map_put(struct ptm_u64map *map, uint64_t key, uint32_t value)
{
    if ((map->len + 1) * 4 > map->cap * 3 && u64map_grow(map) != 0)
        return -1;
    size_t mask = map->cap - 1;
    size_t i = ptm_hash_u64(key) & mask;
    while (map->used[i] && map->keys[i] != key)
        i = (i + 1) & mask;
    if (!map->used[i]) {
        map->used[i] = 1;
        map->keys[i] = key;
        map->len++;
    }
    map->values[i] = value;
    return 0;
}

bool ptm_u64map_get(const struct ptm_u64map *map, uint64_t key, uint32_t *value)
{
    if (map->cap == 0)
        return false;
    size_t mask = map->cap - 1;
    for (size_t i = ptm_hash_u64(key) & mask; map->used[i]; i = (i + 1) & mask) {
        if (map->keys[i] == key) {
            *value = map->values[i];
            return true;
        }
    }
    return false;
}

void ptm_u64map_clear(struct ptm_u64map *map)
{
    if (map->cap != 0)
        memset(map->used, 0, map->cap);
    map->len = 0;
}

void ptm_u64map_free(struct ptm_u64map *map)
{
    free(map->keys);
    free(map->values);
    free(map->used);
    memset(map, 0, sizeof *map);
}

// ---- string interning ----

uint64_t ptm_strmap_hash(const char *ptr, uint32_t len)
{
    uint64_t h = ptm_hash_bytes(ptr, len, 0);
    return h ? h : 1; // 0 marks an empty slot
}

static int strmap_grow(struct ptm_strmap *map)
{
    size_t cap = map->cap ? map->cap * 2 : 64;
    struct ptm_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].hash == 0)
            continue;
        size_t j = map->slots[i].hash & (cap - 1);
        while (slots[j].hash != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = map->slots[i];
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    return 0;
}

static size_t strmap_slot(const struct ptm_strmap *map, const char *ptr, uint32_t len, uint64_t h)
{
    size_t mask = map->cap - 1;
    size_t i = h & mask;
    for (const struct ptm_strmap_slot *s = &map->slots[i]; s->hash != 0; s = &map->slots[i]) {
        if (s->hash == h && s->len == len && memcmp(s->ptr, ptr, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

uint32_t ptm_strmap_intern(struct ptm_strmap *map, const char *ptr, uint32_t len, bool *added)
{
    return ptm_strmap_intern_hashed(map, ptr, len, ptm_strmap_hash(ptr, len), added);
}

uint32_t ptm_strmap_intern_hashed(struct ptm_strmap *map, const char *ptr, uint32_t len, uint64_t h, bool *added)
{
    if (((size_t)map->len + 1) * 4 > map->cap * 3 && strmap_grow(map) != 0)
        return UINT32_MAX;
    struct ptm_strmap_slot *slot = &map->slots[strmap_slot(map, ptr, len, h)];
    if (added != NULL)
        *added = slot->hash == 0;
    if (slot->hash == 0)
        *slot = (struct ptm_strmap_slot){h, ptr, len, map->len++};
    return slot->id;
}

uint32_t ptm_strmap_find(const struct ptm_strmap *map, const char *ptr, uint32_t len)
{
    return ptm_strmap_find_hashed(map, ptr, len, ptm_strmap_hash(ptr, len));
}

uint32_t ptm_strmap_find_hashed(const struct ptm_strmap *map, const char *ptr, uint32_t len, uint64_t hash)
{
    if (map->cap == 0)
        return UINT32_MAX;
    const struct ptm_strmap_slot *slot = &map->slots[strmap_slot(map, ptr, len, hash)];
    return slot->hash != 0 ? slot->id : UINT32_MAX;
}

void ptm_strmap_clear(struct ptm_strmap *map)
{
    if (map->cap != 0)
        memset(map->slots, 0, map->cap * sizeof *map->slots);
    map->len = 0;
}

void ptm_strmap_free(struct ptm_strmap *map)
{
    free(map->slots);
    memset(map, 0, sizeof *map);
}
