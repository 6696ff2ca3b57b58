// SPDX-License-Identifier: Apache-2.0
//
// A ProtobufCAllocator that allocates from the model's arena, so whatever
// protobuf-c unpacks lives and dies with the request, and freeing the tree is
// free: nothing needs protobuf_c_message_free_unpacked.
#pragma once

#include <protobuf-c/protobuf-c.h>

#include "util/arena.h"

static void *ptm_protobuf_c_arena_alloc(void *arena, size_t size)
{
    return ptm_arena_alloc(arena, size);
}

static void ptm_protobuf_c_arena_free(void *arena, void *pointer)
{
    (void)arena, (void)pointer; // released with the arena
}

/// An allocator for protobuf-c calls, valid while arena is.
static inline ProtobufCAllocator ptm_protobuf_c_arena(struct ptm_arena *arena)
{
    return (ProtobufCAllocator){ptm_protobuf_c_arena_alloc, ptm_protobuf_c_arena_free, arena};
}
