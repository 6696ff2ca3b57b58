// SPDX-License-Identifier: Apache-2.0
//
// The metric store's tables of names: interned strings (copied, repaired to
// valid UTF-8), typed attribute values, attribute sets, resources and metric
// definitions. The series themselves live in series.c.
//
// Interning copies into the intern arena, whose byte limit caps what an
// endless stream of new attribute values can cost. When it is full, new
// strings and values fail with UINT32_MAX and a new attribute set becomes the
// overflow set, so the data still lands somewhere: in the overflow series.
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/store_internal.h"
#include "util/error.h"

#define OVERFLOW_KEY "otel.metric.overflow"

static uint32_t intern_empty_set(struct ptm_store *store);
static uint32_t intern_overflow_set(struct ptm_store *store);

struct ptm_store *ptm_store_create(const struct ptm_store_options *opts)
{
    struct ptm_store *store = calloc(1, sizeof *store);
    if (store == NULL)
        return NULL;
    if (opts != NULL)
        store->opts = *opts;
    if (store->opts.series_limit == 0)
        store->opts.series_limit = 2000;
    store->intern = ptm_arena_create(0);
    store->keys = ptm_arena_create(0);
    if (store->intern == NULL || store->keys == NULL)
        goto fail;
    ptm_arena_set_limit(store->intern, PTM_STORE_INTERN_BYTES_DEFAULT);
    // String 0 is "" (no schema URL), set 0 is the empty set.
    if (ptm_store_string(store, "", 0) != 0 || intern_empty_set(store) != 0)
        goto fail;
    store->overflow_set = intern_overflow_set(store);
    if (store->overflow_set == UINT32_MAX)
        goto fail;
    return store;
fail:
    ptm_store_destroy(store);
    return NULL;
}

void ptm_store_destroy(struct ptm_store *store)
{
    if (store == NULL)
        return;
    ptm_store_series_free(store);
    ptm_strmap_free(&store->metric_map);
    PTM_VEC_FREE(store->metrics);
    ptm_strmap_free(&store->resource_map);
    PTM_VEC_FREE(store->resources);
    ptm_strmap_free(&store->set_map);
    PTM_VEC_FREE(store->sets);
    ptm_strmap_free(&store->value_map);
    PTM_VEC_FREE(store->values);
    ptm_strmap_free(&store->string_map);
    PTM_VEC_FREE(store->strings);
    ptm_strbuf_free(&store->scratch);
    ptm_arena_destroy(store->keys);
    ptm_arena_destroy(store->intern);
    free(store);
}

void ptm_store_set_intern_limit(struct ptm_store *store, size_t bytes)
{
    ptm_arena_set_limit(store->intern, bytes);
}

uint32_t ptm_store_overflow_attributes(const struct ptm_store *store)
{
    return store->overflow_set;
}

// ---- strings ----

// Valid UTF-8 without NUL bytes is taken as it is; anything else is rebuilt
// in the scratch buffer with every bad sequence and every NUL as U+FFFD (a
// NUL would cut the string short for every C consumer, protobuf-c included).
static const char *repair_string(struct ptm_store *store, const char *ptr, size_t *len)
{
    if (ptm_utf8_valid(ptr, *len) && memchr(ptr, '\0', *len) == NULL)
        return ptr;
    struct ptm_strbuf *sb = &store->scratch;
    ptm_strbuf_clear(sb);
    size_t start = 0;
    for (size_t i = 0; i <= *len; i++) {
        if (i < *len && ptr[i] != '\0')
            continue;
        ptm_strbuf_utf8(sb, ptr + start, i - start);
        if (i < *len)
            ptm_strbuf_append(sb, "\xef\xbf\xbd", 3);
        start = i + 1;
    }
    if (sb->failed)
        return NULL;
    *len = sb->len;
    return sb->data != NULL ? sb->data : "";
}

bool ptm_store_string_as_is(const char *ptr, size_t len)
{
    return ptr != NULL && len <= UINT32_MAX / 2 && ptm_utf8_valid(ptr, len) && memchr(ptr, '\0', len) == NULL;
}

uint64_t ptm_store_string_hash(const char *ptr, size_t len)
{
    return ptm_strmap_hash(ptr, (uint32_t)len);
}

void ptm_store_string_prefetch(const struct ptm_store *store, uint64_t hash, bool key)
{
    if (key)
        ptm_strmap_prefetch_key(&store->string_map, hash);
    else
        ptm_strmap_prefetch(&store->string_map, hash);
}

uint32_t ptm_store_find_string(const struct ptm_store *store, const char *ptr, size_t len, uint64_t hash)
{
    return ptm_strmap_find_hashed(&store->string_map, ptr, (uint32_t)len, hash);
}

uint32_t ptm_store_string(struct ptm_store *store, const char *ptr, size_t len)
{
    if (ptr == NULL && len != 0)
        return UINT32_MAX;
    if (ptr == NULL)
        ptr = "";
    ptr = repair_string(store, ptr, &len);
    if (ptr == NULL || len > UINT32_MAX / 2)
        return UINT32_MAX;
    uint32_t id = ptm_strmap_find(&store->string_map, ptr, (uint32_t)len);
    if (id != UINT32_MAX)
        return id;
    if (PTM_VEC_RESERVE(store->strings, 1) != 0)
        return UINT32_MAX;
    char *copy = ptm_arena_strndup(store->intern, ptr, len);
    if (copy == NULL)
        return UINT32_MAX;
    id = ptm_strmap_intern(&store->string_map, copy, (uint32_t)len, NULL);
    if (id == UINT32_MAX)
        return UINT32_MAX;
    store->strings.data[store->strings.len++] = (struct store_string){copy, (uint32_t)len};
    return id;
}

const char *ptm_store_string_data(const struct ptm_store *store, uint32_t id, size_t *len)
{
    if (id >= store->strings.len) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = store->strings.data[id].len;
    return store->strings.data[id].ptr;
}

int ptm_store_compare_strings(const struct ptm_store *store, uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    const struct store_string *x = &store->strings.data[a], *y = &store->strings.data[b];
    int c = memcmp(x->ptr, y->ptr, x->len < y->len ? x->len : y->len);
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

// ---- values ----

// Intern bytes that are the key of a table entry: find them, or copy them
// into arena and add them, setting *added. UINT32_MAX when out of memory or
// past the arena's limit. The copy stays where ptm_store_* tables point.
static uint32_t intern_key_hashed(struct ptm_strmap *map, struct ptm_arena *arena, const void *key,
                                  size_t len, uint64_t hash, const void **copy_out, bool *added)
{
    *added = false;
    uint32_t id = ptm_strmap_find_hashed(map, key, (uint32_t)len, hash);
    if (id != UINT32_MAX)
        return id;
    void *copy = ptm_arena_alloc(arena, len ? len : 1);
    if (copy == NULL)
        return UINT32_MAX;
    memcpy(copy, key, len);
    if (copy_out != NULL)
        *copy_out = copy;
    return ptm_strmap_intern_hashed(map, copy, (uint32_t)len, hash, added);
}

static uint32_t intern_key(struct ptm_strmap *map, struct ptm_arena *arena, const void *key,
                           size_t len, const void **copy_out, bool *added)
{
    return intern_key_hashed(map, arena, key, len, ptm_strmap_hash(key, (uint32_t)len), copy_out, added);
}

uint32_t ptm_store_value(struct ptm_store *store, enum ptm_label_type type, uint32_t string_id,
                         int64_t i, double d)
{
    struct store_value v;
    memset(&v, 0, sizeof v);
    v.type = (uint32_t)type;
    switch (type) {
    case PTM_LABEL_STRING:
        if (string_id >= store->strings.len)
            return UINT32_MAX;
        v.string_id = string_id;
        break;
    case PTM_LABEL_INT:
        v.bits = (uint64_t)i;
        break;
    case PTM_LABEL_BOOL:
        v.bits = i != 0;
        break;
    case PTM_LABEL_DOUBLE:
        if (d == 0)
            d = 0; // -0 and 0 are one value
        if (isnan(d))
            d = NAN;
        memcpy(&v.bits, &d, sizeof d);
        break;
    default:
        return UINT32_MAX;
    }
    return ptm_store_intern_value(store, &v, ptm_store_value_hash(&v));
}

uint64_t ptm_store_value_hash(const struct store_value *v)
{
    return ptm_strmap_hash((const char *)v, sizeof *v);
}

void ptm_store_value_prefetch(const struct ptm_store *store, uint64_t hash, bool key)
{
    if (key)
        ptm_strmap_prefetch_key(&store->value_map, hash);
    else
        ptm_strmap_prefetch(&store->value_map, hash);
}

uint32_t ptm_store_intern_value(struct ptm_store *store, const struct store_value *v, uint64_t hash)
{
    if (PTM_VEC_RESERVE(store->values, 1) != 0)
        return UINT32_MAX;
    bool added;
    uint32_t id = intern_key_hashed(&store->value_map, store->intern, v, sizeof *v, hash, NULL, &added);
    if (added)
        store->values.data[store->values.len++] = *v;
    return id;
}

void ptm_store_value_get(const struct ptm_store *store, uint32_t value, enum ptm_label_type *type,
                         uint32_t *string_id, int64_t *i, double *d)
{
    struct store_value v = {0};
    if (value < store->values.len)
        v = store->values.data[value];
    double dv;
    memcpy(&dv, &v.bits, sizeof dv);
    if (type != NULL)
        *type = (enum ptm_label_type)v.type;
    if (string_id != NULL)
        *string_id = v.string_id;
    if (i != NULL)
        *i = (int64_t)v.bits;
    if (d != NULL)
        *d = v.type == PTM_LABEL_DOUBLE ? dv : 0;
}

static int compare_numbers(double a, double b)
{
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return isnan(a) - isnan(b); // NaN after everything
}

static int compare_values(const struct ptm_store *store, uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    const struct store_value *x = &store->values.data[a], *y = &store->values.data[b];
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    double dx, dy;
    switch (x->type) {
    case PTM_LABEL_STRING:
        return ptm_store_compare_strings(store, x->string_id, y->string_id);
    case PTM_LABEL_INT:
        return (int64_t)x->bits < (int64_t)y->bits ? -1 : (int64_t)x->bits > (int64_t)y->bits;
    case PTM_LABEL_DOUBLE:
        memcpy(&dx, &x->bits, sizeof dx);
        memcpy(&dy, &y->bits, sizeof dy);
        return compare_numbers(dx, dy);
    default:
        return x->bits < y->bits ? -1 : x->bits > y->bits;
    }
}

// ---- attribute sets ----

void ptm_store_insert_pair(const struct ptm_store *store, uint32_t *pairs, uint32_t *n, uint32_t key, uint32_t value)
{
    uint32_t lo = 0, hi = *n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = ptm_store_compare_strings(store, pairs[2 * mid], key);
        if (c == 0)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (*n == PTM_STORE_MAX_SET_PAIRS)
        return;
    memmove(pairs + 2 * lo + 2, pairs + 2 * lo, (size_t)(*n - lo) * 2 * sizeof *pairs);
    pairs[2 * lo] = key;
    pairs[2 * lo + 1] = value;
    (*n)++;
}

uint64_t ptm_store_set_hash(const uint32_t *pairs, uint32_t n)
{
    return ptm_strmap_hash((const char *)pairs, n * 2 * (uint32_t)sizeof *pairs);
}

void ptm_store_set_prefetch(const struct ptm_store *store, uint64_t hash, bool key)
{
    if (key)
        ptm_strmap_prefetch_key(&store->set_map, hash);
    else
        ptm_strmap_prefetch(&store->set_map, hash);
}

uint32_t ptm_store_intern_sorted_set(struct ptm_store *store, const uint32_t *pairs, uint32_t n, uint64_t hash)
{
    if (PTM_VEC_RESERVE(store->sets, 1) != 0)
        return UINT32_MAX;
    bool added;
    const void *copy = NULL;
    uint32_t id = intern_key_hashed(&store->set_map, store->intern, pairs, (size_t)n * 2 * sizeof *pairs, hash,
                                    &copy, &added);
    if (added)
        store->sets.data[store->sets.len++] = (struct store_set){copy, n};
    return id;
}

// Intern sorted pairs as a set; UINT32_MAX when out of memory.
static uint32_t intern_sorted_set(struct ptm_store *store, const uint32_t *pairs, uint32_t n)
{
    return ptm_store_intern_sorted_set(store, pairs, n, ptm_store_set_hash(pairs, n));
}

static uint32_t intern_empty_set(struct ptm_store *store)
{
    return intern_sorted_set(store, store->set_scratch, 0);
}

static uint32_t intern_overflow_set(struct ptm_store *store)
{
    uint32_t key = ptm_store_string(store, OVERFLOW_KEY, strlen(OVERFLOW_KEY));
    uint32_t value = ptm_store_value(store, PTM_LABEL_BOOL, 0, 1, 0);
    if (key == UINT32_MAX || value == UINT32_MAX)
        return UINT32_MAX;
    uint32_t pair[2] = {key, value};
    return intern_sorted_set(store, pair, 1);
}

uint32_t ptm_store_sort_pairs(struct ptm_store *store, const uint32_t *pairs, uint32_t n, uint32_t *sorted,
                              uint32_t *len)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = pairs[2 * i], value = pairs[2 * i + 1];
        // A string or value that could not be interned (the budget is
        // spent) sends the data to the overflow series.
        if (key == UINT32_MAX || value == UINT32_MAX)
            return store->overflow_set;
        if (key >= store->strings.len || value >= store->values.len)
            return UINT32_MAX;
        ptm_store_insert_pair(store, sorted, len, key, value);
    }
    return PTM_STORE_SORTED;
}

uint32_t ptm_store_attributes(struct ptm_store *store, const uint32_t *pairs, uint32_t n)
{
    uint32_t *sorted = store->set_scratch;
    uint32_t len = 0;
    uint32_t instead = ptm_store_sort_pairs(store, pairs, n, sorted, &len);
    if (instead != PTM_STORE_SORTED)
        return instead;
    uint32_t id = intern_sorted_set(store, sorted, len);
    return id != UINT32_MAX ? id : store->overflow_set;
}

const uint32_t *ptm_store_attribute_pairs(const struct ptm_store *store, uint32_t attributes, uint32_t *n)
{
    if (attributes >= store->sets.len) {
        *n = 0;
        return NULL;
    }
    *n = store->sets.data[attributes].n;
    return store->sets.data[attributes].pairs;
}

int ptm_store_compare_sets(const struct ptm_store *store, uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    const struct store_set *x = &store->sets.data[a], *y = &store->sets.data[b];
    uint32_t n = x->n < y->n ? x->n : y->n;
    for (uint32_t i = 0; i < n; i++) {
        int c = ptm_store_compare_strings(store, x->pairs[2 * i], y->pairs[2 * i]);
        if (c == 0)
            c = compare_values(store, x->pairs[2 * i + 1], y->pairs[2 * i + 1]);
        if (c != 0)
            return c;
    }
    return x->n < y->n ? -1 : x->n > y->n;
}

// ---- resources ----

uint32_t ptm_store_resource(struct ptm_store *store, uint32_t attributes, uint32_t schema_url)
{
    if (attributes >= store->sets.len || schema_url >= store->strings.len)
        return UINT32_MAX;
    if (PTM_VEC_RESERVE(store->resources, 1) != 0)
        return UINT32_MAX;
    struct store_resource r = {attributes, schema_url};
    bool added;
    uint32_t id = intern_key(&store->resource_map, store->keys, &r, sizeof r, NULL, &added);
    if (added)
        store->resources.data[store->resources.len++] = r;
    return id;
}

void ptm_store_resource_get(const struct ptm_store *store, uint32_t resource, uint32_t *attributes,
                            uint32_t *schema_url)
{
    struct store_resource r = {0, 0};
    if (resource < store->resources.len)
        r = store->resources.data[resource];
    if (attributes != NULL)
        *attributes = r.attributes;
    if (schema_url != NULL)
        *schema_url = r.schema_url;
}

uint32_t ptm_store_resource_count(const struct ptm_store *store)
{
    return store->resources.len;
}

int ptm_store_compare_resources(const struct ptm_store *store, uint32_t a, uint32_t b)
{
    const struct store_resource *x = &store->resources.data[a], *y = &store->resources.data[b];
    int c = ptm_store_compare_sets(store, x->attributes, y->attributes);
    return c != 0 ? c : ptm_store_compare_strings(store, x->schema_url, y->schema_url);
}
