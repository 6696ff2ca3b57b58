// SPDX-License-Identifier: Apache-2.0
//
// Vector growth. Large vectors are asked to be backed by transparent huge
// pages, which makes the first touch of a big model several times cheaper.
#include "util/vec.h"

#include <stdlib.h>
#include <sys/mman.h>

#define PAGE ((uintptr_t)4096)
#define HUGE_PAGE ((size_t)2 << 20)

// Advise the whole of a large block, rounded out to pages. Covering all of
// it matters: advice on part of a mapping splits it, and glibc can then no
// longer grow it in place with mremap, so the next realloc copies.
static void advise_huge(void *p, size_t bytes)
{
    uintptr_t start = (uintptr_t)p & ~(PAGE - 1);
    uintptr_t end = ((uintptr_t)p + bytes + PAGE - 1) & ~(PAGE - 1);
    madvise((void *)start, end - start, MADV_HUGEPAGE);
}

int ptm_vec_reserve_raw(void **data, uint32_t *cap, size_t elem_size, size_t need)
{
    if (need <= *cap && *cap != 0)
        return 0;
    if (need > UINT32_MAX)
        return -1;
    size_t n = *cap ? (size_t)*cap * 2 : 16;
    while (n < need)
        n *= 2;
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    if (n > SIZE_MAX / elem_size)
        return -1;
    void *p = realloc(*data, n * elem_size);
    if (p == NULL)
        return -1;
    if (n * elem_size >= 2 * HUGE_PAGE)
        advise_huge(p, n * elem_size);
    *data = p;
    *cap = (uint32_t)n;
    return 0;
}
