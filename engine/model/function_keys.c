// SPDX-License-Identifier: Apache-2.0
//
// Function keys: names interned once per model, the key of every location
// line (and of every line-less location), each stack's leaf, and each
// stack's distinct keys on first use. Summing stacks' weights by function
// lives here too: spread over every function of a stack, it is tens of
// millions of additions on a large request, a plain C loop.
#include "model/function_keys.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

struct ptm_function_keys {
    const struct ptm_model *model;
    struct ptm_arena *arena; // address names
    PTM_VEC(struct ptm_str) key_names;
    uint32_t *fn_key;               // per function: its key
    uint32_t *location_key;         // per location: its key, or MANY_KEYS | where its keys are in loc_keys
    PTM_VEC(uint32_t) loc_keys;     // for locations of several keys: a count, then the keys
    uint32_t most_location_keys;    // the most keys of one location
    uint32_t *leaves;               // per stack
    struct ptm_range *stack_keys;   // per stack: into stack_list; len UINT32_MAX = not yet
    PTM_VEC(uint32_t) stack_list;
    uint32_t *seen;                 // per key: the last stack walk that listed it
    uint32_t walk;
    double *sums;                   // per key, for ptm_function_keys_sum: UNTOUCHED between calls
    uint16_t *counts16;             // per key, the same as counters: 0 between calls
    uint32_t *counts32;
    uint64_t *bits;                 // per stack a bit, for sorting stacks: all clear between calls
    uint32_t *stack_order;          // per stack, for sorting stacks
};

static uint32_t new_key(struct ptm_function_keys *fk, struct ptm_str name)
{
    struct ptm_str *slot = PTM_VEC_PUSH(fk->key_names);
    if (slot == NULL)
        return UINT32_MAX;
    *slot = name;
    return fk->key_names.len - 1;
}

// A function's key is that of the string naming it (its name, else its
// system name), so no name is hashed: a request's string table holds each
// string once (producers deduplicate it), and when one does not, the store
// still joins series of equal names.
static int key_functions(struct ptm_function_keys *fk)
{
    const struct ptm_model *m = fk->model;
    uint32_t *by_string = calloc(m->strings.len + 1, sizeof *by_string);
    fk->fn_key = malloc((m->functions.len + 1) * sizeof *fk->fn_key);
    if (by_string == NULL || fk->fn_key == NULL) {
        free(by_string);
        return -1;
    }
    uint32_t unknown = PTM_NO_FUNCTION;
    int rc = 0;
    for (uint32_t i = 0; i < m->functions.len && rc == 0; i++) {
        const struct ptm_function *f = &m->functions.data[i];
        int32_t s = ptm_model_string(m, f->name).len != 0 ? f->name : f->system_name;
        uint32_t *key = ptm_model_string(m, s).len != 0 ? &by_string[s] : &unknown;
        if (*key == PTM_NO_FUNCTION) {
            struct ptm_str name = key == &unknown ? (struct ptm_str){"<unknown>", 9} : m->strings.data[s];
            *key = new_key(fk, name);
            rc = *key == UINT32_MAX ? -1 : 0;
        }
        fk->fn_key[i] = *key;
    }
    free(by_string);
    return rc;
}

// A location_key with this bit set points into loc_keys.
#define MANY_KEYS 0x80000000u

// The key of a location without lines: "0x<address>".
static uint32_t address_key(struct ptm_function_keys *fk, uint64_t address)
{
    char text[32];
    int len = snprintf(text, sizeof text, "0x%" PRIx64, address);
    char *copy = ptm_arena_strndup(fk->arena, text, (size_t)len);
    return copy == NULL ? UINT32_MAX : new_key(fk, (struct ptm_str){copy, (uint32_t)len});
}

static int key_locations(struct ptm_function_keys *fk)
{
    const struct ptm_model *m = fk->model;
    fk->location_key = malloc((m->locations.len + 1) * sizeof *fk->location_key);
    if (fk->location_key == NULL)
        return -1;
    fk->most_location_keys = 1;
    for (uint32_t i = 0; i < m->locations.len; i++) {
        const struct ptm_location *loc = &m->locations.data[i];
        uint32_t n = loc->lines.len;
        // lines.data may be NULL when no location has lines: no &data[off] then
        const struct ptm_line *lines = n == 0 ? NULL : &m->lines.data[loc->lines.off];
        if (n <= 1) {
            fk->location_key[i] = n == 0 ? address_key(fk, loc->address) : fk->fn_key[lines[0].function];
            if ((fk->location_key[i] & MANY_KEYS) != 0) // out of memory, or 2^31 keys
                return -1;
            continue;
        }
        if (fk->loc_keys.len >= MANY_KEYS || PTM_VEC_RESERVE(fk->loc_keys, (size_t)n + 1) != 0)
            return -1;
        if (n > fk->most_location_keys)
            fk->most_location_keys = n;
        fk->location_key[i] = MANY_KEYS | fk->loc_keys.len;
        uint32_t *out = fk->loc_keys.data + fk->loc_keys.len;
        out[0] = n;
        for (uint32_t l = 0; l < n; l++)
            out[1 + l] = fk->fn_key[lines[l].function];
        fk->loc_keys.len += n + 1;
    }
    return 0;
}

// The keys of a location, innermost first: *n of them at the returned pointer.
static inline const uint32_t *location_keys(const struct ptm_function_keys *fk, uint32_t location, uint32_t *n)
{
    const uint32_t *key = &fk->location_key[location];
    if ((*key & MANY_KEYS) == 0) {
        *n = 1;
        return key;
    }
    const uint32_t *list = fk->loc_keys.data + (*key & ~MANY_KEYS);
    *n = list[0];
    return list + 1;
}

static void key_leaves(struct ptm_function_keys *fk)
{
    const struct ptm_model *m = fk->model;
    for (uint32_t i = 0; i < m->stacks.len; i++) {
        const struct ptm_stack *s = &m->stacks.data[i];
        fk->leaves[i] = PTM_NO_FUNCTION;
        fk->stack_keys[i].len = UINT32_MAX;
        uint32_t n;
        if (s->locations.len > 0)
            fk->leaves[i] = location_keys(fk, (uint32_t)m->indices.data[s->locations.off], &n)[0];
    }
}

static int walk_stack(struct ptm_function_keys *fk, uint32_t stack);

void ptm_function_keys_destroy(struct ptm_function_keys *fk)
{
    if (fk == NULL)
        return;
    ptm_arena_destroy(fk->arena);
    PTM_VEC_FREE(fk->key_names);
    free(fk->fn_key);
    free(fk->location_key);
    PTM_VEC_FREE(fk->loc_keys);
    free(fk->leaves);
    free(fk->stack_keys);
    PTM_VEC_FREE(fk->stack_list);
    free(fk->seen);
    free(fk->sums);
    free(fk->counts16);
    free(fk->counts32);
    free(fk->bits);
    free(fk->stack_order);
    free(fk);
}

struct ptm_function_keys *ptm_function_keys_create(const struct ptm_model *model)
{
    struct ptm_function_keys *fk = calloc(1, sizeof *fk);
    if (fk == NULL)
        return NULL;
    fk->model = model;
    fk->arena = ptm_arena_create(0);
    struct ptm_str *none = PTM_VEC_PUSH(fk->key_names); // key 0
    if (fk->arena == NULL || none == NULL)
        goto fail;
    *none = (struct ptm_str){"", 0};
    if (key_functions(fk) != 0 || key_locations(fk) != 0)
        goto fail;
    fk->leaves = malloc((model->stacks.len + 1) * sizeof *fk->leaves);
    fk->stack_keys = malloc((model->stacks.len + 1) * sizeof *fk->stack_keys);
    fk->seen = calloc(fk->key_names.len + 1, sizeof *fk->seen);
    if (fk->leaves == NULL || fk->stack_keys == NULL || fk->seen == NULL)
        goto fail;
    key_leaves(fk);
    // Every stack's list now, in stack order: expansions that walk stacks in
    // order then read the lists front to back.
    for (uint32_t i = 0; i < model->stacks.len; i++)
        if (walk_stack(fk, i) != 0)
            goto fail;
    return fk;
fail:
    ptm_function_keys_destroy(fk);
    return NULL;
}

uint32_t ptm_function_keys_count(const struct ptm_function_keys *fk)
{
    return fk->key_names.len;
}

struct ptm_str ptm_function_keys_name(const struct ptm_function_keys *fk, uint32_t key)
{
    return key < fk->key_names.len ? fk->key_names.data[key] : (struct ptm_str){"", 0};
}

const uint32_t *ptm_function_keys_leaves(const struct ptm_function_keys *fk)
{
    return fk->leaves;
}

// Work out a stack's distinct keys: each key is written, and kept unless
// it was met before on the stack (recursion), without a branch on that.
static int walk_stack(struct ptm_function_keys *fk, uint32_t stack)
{
    const struct ptm_model *m = fk->model;
    const struct ptm_stack *s = &m->stacks.data[stack];
    if (PTM_VEC_RESERVE(fk->stack_list, (size_t)s->locations.len * fk->most_location_keys) != 0)
        return -1;
    uint32_t walk = ++fk->walk, *seen = fk->seen;
    uint32_t *start = fk->stack_list.data + fk->stack_list.len, *out = start;
    const int32_t *locations = m->indices.data; // no &data[off]: NULL when no stack has locations
    for (uint32_t i = s->locations.off, end = i + s->locations.len; i < end; i++) {
        uint32_t n;
        const uint32_t *keys = location_keys(fk, (uint32_t)locations[i], &n);
        for (uint32_t k = 0; k < n; k++) {
            *out = keys[k];
            out += seen[keys[k]] != walk;
            seen[keys[k]] = walk;
        }
    }
    fk->stack_keys[stack] = (struct ptm_range){fk->stack_list.len, (uint32_t)(out - start)};
    fk->stack_list.len += (uint32_t)(out - start);
    return 0;
}

const uint32_t *ptm_function_keys_stack(struct ptm_function_keys *fk, uint32_t stack, uint32_t *len)
{
    if (fk->stack_keys[stack].len == UINT32_MAX && walk_stack(fk, stack) != 0)
        return NULL;
    *len = fk->stack_keys[stack].len;
    return fk->stack_list.data + fk->stack_keys[stack].off;
}

// A sum no stack has added to yet: -0.0, which adding a weight turns into
// that weight, and which is never a sum (weights are whole numbers, never
// -0.0, and x + y is -0.0 only when both are).
static const uint64_t UNTOUCHED = 0x8000000000000000ull;

static inline uint32_t untouched(double sum)
{
    uint64_t bits;
    memcpy(&bits, &sum, sizeof bits);
    return bits == UNTOUCHED;
}

static int reserve_sums(struct ptm_function_keys *fk)
{
    if (fk->sums != NULL)
        return 0;
    uint32_t nstacks = fk->model->stacks.len, nkeys = fk->key_names.len;
    fk->sums = malloc((size_t)nkeys * sizeof *fk->sums);
    fk->counts16 = calloc(nkeys, sizeof *fk->counts16);
    fk->counts32 = calloc(nkeys, sizeof *fk->counts32);
    fk->bits = calloc(nstacks / 64 + 1, sizeof *fk->bits);
    fk->stack_order = malloc(((size_t)nstacks + 1) * sizeof *fk->stack_order);
    if (fk->sums == NULL || fk->counts16 == NULL || fk->counts32 == NULL || fk->bits == NULL ||
        fk->stack_order == NULL) {
        free(fk->sums), free(fk->counts16), free(fk->counts32), free(fk->bits), free(fk->stack_order);
        fk->sums = NULL, fk->counts16 = NULL, fk->counts32 = NULL, fk->bits = NULL, fk->stack_order = NULL;
        return -1;
    }
    for (uint32_t k = 0; k < nkeys; k++)
        memcpy(&fk->sums[k], &UNTOUCHED, sizeof UNTOUCHED);
    return 0;
}

// The n ids (each below limit) in increasing order, each once, into out: a
// bit per id in bits (limit / 64 + 1 words, all clear before and after),
// then the set bits in order. Returns how many.
static uint32_t sort_ids(uint64_t *bits, uint32_t limit, const uint32_t *ids, uint32_t n, uint32_t *out)
{
    for (uint32_t i = 0; i < n; i++)
        bits[ids[i] / 64] |= 1ull << (ids[i] % 64);
    uint32_t sorted = 0;
    for (uint32_t word = 0; word <= limit / 64; word++) {
        for (; bits[word] != 0; bits[word] &= bits[word] - 1)
            out[sorted++] = word * 64 + (uint32_t)__builtin_ctzll(bits[word]);
    }
    return sorted;
}

static inline bool dropped(const uint8_t *verdict, uint32_t stack)
{
    return verdict != NULL && verdict[stack] == PTM_STACK_DROPPED;
}

// How a sum is done. Spread over every function of the stacks, the sums are
// millions of additions at random into one counter per key, and what they
// cost is how many of those counters the cache holds and what is done
// beside each addition:
// - counters: while every weight is a whole number from 1 up and their
//   total fits 16 bits, no sum can pass it, and 16-bit counters add exactly;
//   at the first weight that breaks that, the counters so far are widened to
//   32 bits (the same for 32 bits), else to doubles, and the sum goes on.
//   No pass over the stacks beforehand.
// - scan: unless there are fewer additions than keys (by the stacks'
//   average length), nothing is noted as the keys are reached: the counters
//   of all keys are looked at afterwards, in key order. Else each addition
//   notes a key reached for the first time.
struct sum {
    struct ptm_function_keys *fk;
    bool each, scan;
    const uint32_t *stacks;
    uint32_t n;
    const double *weight;
    const uint8_t *verdict;
    uint32_t *keys;    // the keys reached, noted (not scan)
    uint32_t touched;  // how many
    uint64_t total;    // of the weights added to counters
};

// Whether weight w, added to *total, keeps within counters of limit (a
// power of two up to 2^32; 0: doubles, anything does); adds it when it
// does. The total is a whole number: adding to it is no chain of
// floating-point additions, which would hold back a stack's single
// addition (a leaf's).
static inline bool fits(double w, uint64_t *total, uint64_t limit)
{
    if (limit == 0)
        return true;
    if (!(w >= 1 && w < (double)limit) || w != (double)(uint32_t)w || *total + (uint32_t)w >= limit)
        return false;
    *total += (uint32_t)w;
    return true;
}

// run_NAME: add the stacks from i on to counters of type T (EMPTY between
// calls; a counter is EMPTY until reached when EMPTYP says so) while their
// weights fit LIMIT; returns where it stopped, n when it did not. The keys
// reached are noted without a branch on whether each is: that comes at
// random, and a mispredicted branch costs more than the addition.
// collect_NAME: the keys reached and their sums, counters left EMPTY.
#define DEFINE_SUM(NAME, T, LIMIT, EMPTYP, EMPTY)                                                                    \
    static uint32_t run_##NAME(struct sum *u, uint32_t i, T *acc)                                                   \
    {                                                                                                                \
        const struct ptm_range *range = u->fk->stack_keys;                                                           \
        const uint32_t *lists = u->fk->stack_list.data, *leaves = u->fk->leaves;                                     \
        if (u->each && u->scan && u->verdict == NULL) {                                                              \
            /* the bulk of the work: every key of every stack, nothing beside */                                     \
            uint64_t total = u->total;                                                                               \
            for (; i < u->n; i++) {                                                                                  \
                uint32_t s = u->stacks[i];                                                                           \
                double weight = u->weight[s];                                                                        \
                if (!fits(weight, &total, LIMIT))                                                                    \
                    break;                                                                                           \
                const uint32_t *list = lists + range[s].off;                                                         \
                T w = (T)weight;                                                                                     \
                for (uint32_t k = 0, len = range[s].len; k < len; k++)                                               \
                    acc[list[k]] = (T)(acc[list[k]] + w);                                                            \
            }                                                                                                        \
            u->total = total;                                                                                        \
            return i;                                                                                                \
        }                                                                                                            \
        /* the running total and the keys noted in locals: through u, each */                                    \
        /* write to keys or acc could change them, and they would be read */                                      \
        /* back from memory on every addition */                                                                  \
        uint64_t total = u->total;                                                                                   \
        uint32_t *keys = u->keys, touched = u->touched;                                                              \
        for (; i < u->n; i++) {                                                                                      \
            uint32_t s = u->stacks[i];                                                                               \
            if (dropped(u->verdict, s))                                                                              \
                continue;                                                                                            \
            double weight = u->weight[s];                                                                            \
            if (!fits(weight, &total, LIMIT))                                                                        \
                break;                                                                                               \
            const uint32_t *list = u->each ? lists + range[s].off : &leaves[s];                                      \
            uint32_t len = u->each ? range[s].len : 1;                                                               \
            T w = (T)weight;                                                                                         \
            if (u->scan) {                                                                                           \
                for (uint32_t k = 0; k < len; k++)                                                                   \
                    acc[list[k]] = (T)(acc[list[k]] + w);                                                            \
                continue;                                                                                            \
            }                                                                                                        \
            for (uint32_t k = 0; k < len; k++) {                                                                     \
                T sum = acc[list[k]];                                                                                \
                keys[touched] = list[k];                                                                             \
                touched += EMPTYP(sum);                                                                              \
                acc[list[k]] = (T)(sum + w);                                                                         \
            }                                                                                                        \
        }                                                                                                            \
        u->total = total;                                                                                            \
        u->touched = touched;                                                                                        \
        return i;                                                                                                    \
    }                                                                                                                \
                                                                                                                     \
    static uint32_t collect_##NAME(struct sum *u, T *acc, double *sums)                                             \
    {                                                                                                                \
        uint32_t *keys = u->keys, touched = u->touched, nkeys = u->fk->key_names.len;                                \
        for (uint32_t k = 0; u->scan && k < nkeys; k++) {                                                            \
            keys[touched] = k;                                                                                       \
            touched += !EMPTYP(acc[k]);                                                                              \
        }                                                                                                            \
        for (uint32_t t = 0; t < touched; t++) {                                                                     \
            sums[t] = (double)acc[keys[t]];                                                                          \
            acc[keys[t]] = EMPTY;                                                                                    \
        }                                                                                                            \
        return touched;                                                                                              \
    }

#define IS_ZERO(sum) ((sum) == 0)
DEFINE_SUM(doubles, double, 0, untouched, -0.0)
DEFINE_SUM(counts32, uint32_t, 1ull << 32, IS_ZERO, 0)
DEFINE_SUM(counts16, uint16_t, 1ull << 16, IS_ZERO, 0)

// Move the counters reached so far (all keys when scanning, else those
// noted) from narrow to wide, leaving narrow 0 and wide's others as they
// were (empty).
#define WIDEN(u, narrow, wide)                                                                                       \
    do {                                                                                                             \
        uint32_t count = (u)->scan ? (u)->fk->key_names.len : (u)->touched;                                          \
        for (uint32_t t = 0; t < count; t++) {                                                                       \
            uint32_t k = (u)->scan ? t : (u)->keys[t];                                                               \
            if ((narrow)[k] != 0)                                                                                    \
                (wide)[k] = (narrow)[k];                                                                             \
            (narrow)[k] = 0;                                                                                         \
        }                                                                                                            \
    } while (0)

uint32_t ptm_function_keys_sum(struct ptm_function_keys *fk, bool each, const uint32_t *stacks, uint32_t n,
                               const double *weight, const uint8_t *verdict, uint32_t *keys, double *sums)
{
    if (reserve_sums(fk) != 0)
        return UINT32_MAX;
    // spread over their functions, stacks in index order: the weights,
    // verdicts and key lists are read front to back
    if (each) {
        n = sort_ids(fk->bits, fk->model->stacks.len, stacks, n, fk->stack_order);
        stacks = fk->stack_order;
    }
    uint32_t nstacks = fk->model->stacks.len;
    double adds = each && nstacks > 0 ? (double)n * fk->stack_list.len / nstacks : n;
    struct sum u = {fk, each, adds >= fk->key_names.len, stacks, n, weight, verdict, keys, 0, 0};
    uint32_t i = run_counts16(&u, 0, fk->counts16);
    if (i == n)
        return collect_counts16(&u, fk->counts16, sums);
    WIDEN(&u, fk->counts16, fk->counts32);
    i = run_counts32(&u, i, fk->counts32);
    if (i == n)
        return collect_counts32(&u, fk->counts32, sums);
    WIDEN(&u, fk->counts32, fk->sums);
    run_doubles(&u, i, fk->sums);
    return collect_doubles(&u, fk->sums, sums);
}
