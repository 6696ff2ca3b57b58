// SPDX-License-Identifier: Apache-2.0
//
// A bump allocator for data that lives as long as one request: decompressed
// input, unescaped JSON strings, whatever protobuf-c unpacks. Allocation is a
// pointer bump; there is no per-object free. Reset keeps the largest chunk so a
// steady stream of similar requests touches no fresh pages; destroy frees every
// chunk (a handful, not one per object).
#pragma once

#include <stddef.h>

struct ptm_arena;

/// Create an arena whose first chunk holds at least chunk_size bytes (0 picks
/// a default). Returns NULL when out of memory. Free with ptm_arena_destroy.
struct ptm_arena *ptm_arena_create(size_t chunk_size);

/// Free the arena and everything allocated from it. NULL is a no-op.
void ptm_arena_destroy(struct ptm_arena *arena);

/// size bytes aligned to 16, owned by the arena, valid until the next reset or
/// destroy. Returns NULL when out of memory or past the arena's limit.
void *ptm_arena_alloc(struct ptm_arena *arena, size_t size);

/// Like ptm_arena_alloc, zero-filled.
void *ptm_arena_calloc(struct ptm_arena *arena, size_t count, size_t size);

/// Copy len bytes of s into the arena and NUL-terminate the copy.
char *ptm_arena_strndup(struct ptm_arena *arena, const char *s, size_t len);

/// Forget every allocation; keep the largest chunk for reuse.
void ptm_arena_reset(struct ptm_arena *arena);

/// Refuse allocations that would take the arena past limit bytes in all (0 =
/// no limit). The limit guards against inputs that inflate without bound.
void ptm_arena_set_limit(struct ptm_arena *arena, size_t limit);

/// Bytes handed out since the last reset.
size_t ptm_arena_used(const struct ptm_arena *arena);
