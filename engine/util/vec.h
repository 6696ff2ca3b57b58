// SPDX-License-Identifier: Apache-2.0
//
// Growable arrays of plain structs. A vector keeps its capacity when cleared,
// so a decoder that fills the same vectors request after request stops
// allocating (and stops touching fresh pages) once it has seen its largest
// request. Lengths are 32-bit: the model addresses everything by int32 index.
#pragma once

#include <stddef.h>
#include <stdint.h>

/// A vector of T: data[0..len), room for cap.
#define PTM_VEC(T)     \
    struct {           \
        T *data;       \
        uint32_t len;  \
        uint32_t cap;  \
    }

/// Make room for at least need elements of elem_size bytes in total. Returns
/// 0, or -1 when out of memory or need exceeds the 32-bit index space.
int ptm_vec_reserve_raw(void **data, uint32_t *cap, size_t elem_size, size_t need);

/// Free a vector's storage (the struct itself is the caller's).
#define PTM_VEC_FREE(v) \
    do {                \
        free((v).data); \
        (v).data = NULL; \
        (v).len = (v).cap = 0; \
    } while (0)

/// Room for n more elements: 0 or -1. Afterwards data is never NULL, even
/// when n is 0, so data + len is a valid pointer to write the elements to
/// (pointer arithmetic on NULL, even adding 0, is undefined).
#define PTM_VEC_RESERVE(v, n)                                                        \
    ((size_t)(v).len + (n) <= (v).cap && (v).cap != 0                                \
         ? 0                                                                         \
         : ptm_vec_reserve_raw((void **)&(v).data, &(v).cap, sizeof *(v).data,       \
                               (size_t)(v).len + (n)))

/// Pointer to a new, uninitialised last element, or NULL when out of memory.
#define PTM_VEC_PUSH(v) \
    (PTM_VEC_RESERVE(v, 1) == 0 ? &(v).data[(v).len++] : NULL)
