// SPDX-License-Identifier: Apache-2.0
//
// Hashing and two small open-addressing maps: one from 64-bit keys to 32-bit
// values (pprof ids to table indices), one that interns byte strings to
// dense ids (function names, label values). Both grow by doubling and keep
// their memory across clears.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// A fast, well-mixed 64-bit hash of len bytes (not cryptographic).
uint64_t ptm_hash_bytes(const void *data, size_t len, uint64_t seed);

/// Mix a 64-bit integer into a hash.
static inline uint64_t ptm_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/// uint64 -> uint32 map.
struct ptm_u64map {
    uint64_t *keys;
    uint32_t *values;
    uint8_t *used;
    size_t cap; // a power of two, or 0
    size_t len;
};

/// Insert or overwrite. Returns 0, or -1 when out of memory.
int ptm_u64map_put(struct ptm_u64map *map, uint64_t key, uint32_t value);

/// Look up key; true and *value when present.
bool ptm_u64map_get(const struct ptm_u64map *map, uint64_t key, uint32_t *value);

/// Forget every entry; keep the memory.
void ptm_u64map_clear(struct ptm_u64map *map);

/// Free the map's storage (the struct is the caller's).
void ptm_u64map_free(struct ptm_u64map *map);

/// One slot of a ptm_strmap: what a probe reads sits together, so a lookup
/// in a large map costs one cache miss for the slot and one for the key's
/// bytes (the store's maps grow to 10^5 entries and more).
struct ptm_strmap_slot {
    uint64_t hash; // 0 = empty
    const char *ptr;
    uint32_t len;
    uint32_t id;
};

/// Interns byte strings: each distinct string gets the next id from 0. The
/// strings are borrowed: they must outlive the map's next clear.
struct ptm_strmap {
    struct ptm_strmap_slot *slots;
    size_t cap;
    uint32_t len; // ids handed out
};

/// The id of the string (ptr, len), adding it if new (*added says which).
/// Returns the id, or UINT32_MAX when out of memory.
uint32_t ptm_strmap_intern(struct ptm_strmap *map, const char *ptr, uint32_t len, bool *added);

/// The id of the string, or UINT32_MAX when absent.
uint32_t ptm_strmap_find(const struct ptm_strmap *map, const char *ptr, uint32_t len);

/// The hash a strmap keeps of (ptr, len), for the _hashed calls: a caller
/// that looks many strings up hashes them first and prefetches their slots
/// (ptm_strmap_prefetch), so that the cache misses overlap.
uint64_t ptm_strmap_hash(const char *ptr, uint32_t len);

/// ptm_strmap_intern and ptm_strmap_find with the string's ptm_strmap_hash.
uint32_t ptm_strmap_intern_hashed(struct ptm_strmap *map, const char *ptr, uint32_t len, uint64_t hash,
                                  bool *added);
uint32_t ptm_strmap_find_hashed(const struct ptm_strmap *map, const char *ptr, uint32_t len, uint64_t hash);

/// Start loading the slot where a string of that hash is looked up first.
static inline void ptm_strmap_prefetch(const struct ptm_strmap *map, uint64_t hash)
{
    if (map->cap != 0)
        __builtin_prefetch(&map->slots[hash & (map->cap - 1)]);
}

/// Start loading the bytes of the string in that first slot when its hash is
/// this one (a lookup that finds it compares them). The slot should be in
/// the cache by then (ptm_strmap_prefetch, a while before).
static inline void ptm_strmap_prefetch_key(const struct ptm_strmap *map, uint64_t hash)
{
    if (map->cap == 0)
        return;
    const struct ptm_strmap_slot *slot = &map->slots[hash & (map->cap - 1)];
    if (slot->hash == hash)
        __builtin_prefetch(slot->ptr);
}

void ptm_strmap_clear(struct ptm_strmap *map);
void ptm_strmap_free(struct ptm_strmap *map);
