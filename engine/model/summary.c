// SPDX-License-Identifier: Apache-2.0
//
// Profile summaries. Every function name and every line-less location gets a
// dense key; each stack's leaf key and its distinct keys are worked out once
// and reused by every sample and profile that points at it, so the per-sample
// work is a weight and a few additions.
#include "model/summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiletometrics.h"
#include "util/arena.h"
#include "util/hash.h"

struct ptm_summarizer {
    const struct ptm_model *model;
    struct ptm_arena *arena;   // address names
    struct ptm_strmap names;   // name -> key
    PTM_VEC(struct ptm_str) key_names;
    uint32_t *location_keys;   // per location: first key of its lines ...
    struct ptm_range *location_key_range; // ... into loc_keys
    PTM_VEC(uint32_t) loc_keys;
    struct ptm_range *stack_keys; // per stack: distinct keys, leaf first; len UINT32_MAX = not yet
    PTM_VEC(uint32_t) stack_key_list;
    uint32_t *key_stamp;          // per key: the last profile that touched it
    uint32_t *key_seen;           // per key: the last stack walk that listed it
    int64_t *self, *cum;          // per key
    uint32_t *stack_stamp, *location_stamp, *function_stamp;
    uint32_t serial;
    PTM_VEC(uint32_t) touched;    // keys touched by the current profile
    PTM_VEC(struct ptm_function_stat) top;
};

static uint32_t intern(struct ptm_summarizer *s, struct ptm_str name)
{
    bool added;
    uint32_t key = ptm_strmap_intern(&s->names, name.ptr, name.len, &added);
    if (key == UINT32_MAX)
        return UINT32_MAX;
    if (added) {
        struct ptm_str *slot = PTM_VEC_PUSH(s->key_names);
        if (slot == NULL)
            return UINT32_MAX;
        *slot = name;
    }
    return key;
}

static struct ptm_str function_name(const struct ptm_model *m, int32_t fn)
{
    const struct ptm_function *f = &m->functions.data[fn];
    struct ptm_str name = ptm_model_string(m, f->name);
    if (name.len == 0)
        name = ptm_model_string(m, f->system_name);
    if (name.len == 0)
        name = (struct ptm_str){"<unknown>", 9};
    return name;
}

// The keys of every location: one per line, or its address when it has none.
static int key_locations(struct ptm_summarizer *s)
{
    const struct ptm_model *m = s->model;
    s->location_key_range = calloc(m->locations.len + 1, sizeof *s->location_key_range);
    if (s->location_key_range == NULL)
        return PTM_ENOMEM;
    for (uint32_t i = 0; i < m->locations.len; i++) {
        const struct ptm_location *loc = &m->locations.data[i];
        s->location_key_range[i].off = s->loc_keys.len;
        if (loc->lines.len == 0) {
            char text[32];
            int n = snprintf(text, sizeof text, "0x%" PRIx64, loc->address);
            char *copy = ptm_arena_strndup(s->arena, text, (size_t)n);
            uint32_t *k = PTM_VEC_PUSH(s->loc_keys);
            if (copy == NULL || k == NULL)
                return PTM_ENOMEM;
            *k = intern(s, (struct ptm_str){copy, (uint32_t)n});
        }
        for (uint32_t l = 0; l < loc->lines.len; l++) {
            uint32_t *k = PTM_VEC_PUSH(s->loc_keys);
            if (k == NULL)
                return PTM_ENOMEM;
            *k = intern(s, function_name(m, m->lines.data[loc->lines.off + l].function));
        }
        if (s->loc_keys.len != 0 && s->loc_keys.data[s->loc_keys.len - 1] == UINT32_MAX)
            return PTM_ENOMEM;
        s->location_key_range[i].len = s->loc_keys.len - s->location_key_range[i].off;
    }
    return 0;
}

void ptm_summarizer_destroy(struct ptm_summarizer *s)
{
    if (s == NULL)
        return;
    ptm_arena_destroy(s->arena);
    ptm_strmap_free(&s->names);
    PTM_VEC_FREE(s->key_names);
    free(s->location_key_range);
    PTM_VEC_FREE(s->loc_keys);
    free(s->stack_keys);
    PTM_VEC_FREE(s->stack_key_list);
    free(s->key_stamp);
    free(s->key_seen);
    free(s->self);
    free(s->cum);
    free(s->stack_stamp);
    free(s->location_stamp);
    free(s->function_stamp);
    PTM_VEC_FREE(s->touched);
    PTM_VEC_FREE(s->top);
    free(s);
}

struct ptm_summarizer *ptm_summarizer_create(const struct ptm_model *model)
{
    struct ptm_summarizer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->model = model;
    s->arena = ptm_arena_create(0);
    if (s->arena == NULL || key_locations(s) != 0)
        goto fail;
    uint32_t keys = s->key_names.len + 1;
    s->stack_keys = malloc((model->stacks.len + 1) * sizeof *s->stack_keys);
    s->key_stamp = calloc(keys, sizeof *s->key_stamp);
    s->key_seen = calloc(keys, sizeof *s->key_seen);
    s->self = calloc(keys, sizeof *s->self);
    s->cum = calloc(keys, sizeof *s->cum);
    s->stack_stamp = calloc(model->stacks.len + 1, sizeof *s->stack_stamp);
    s->location_stamp = calloc(model->locations.len + 1, sizeof *s->location_stamp);
    s->function_stamp = calloc(model->functions.len + 1, sizeof *s->function_stamp);
    if (s->stack_keys == NULL || s->key_stamp == NULL || s->key_seen == NULL || s->self == NULL || s->cum == NULL ||
        s->stack_stamp == NULL || s->location_stamp == NULL || s->function_stamp == NULL)
        goto fail;
    for (uint32_t i = 0; i < model->stacks.len; i++)
        s->stack_keys[i].len = UINT32_MAX;
    return s;
fail:
    ptm_summarizer_destroy(s);
    return NULL;
}

// The distinct keys of a stack, leaf first, computed on first use.
static int stack_keys(struct ptm_summarizer *s, int32_t stack, struct ptm_range *out)
{
    if (s->stack_keys[stack].len != UINT32_MAX) {
        *out = s->stack_keys[stack];
        return 0;
    }
    const struct ptm_model *m = s->model;
    const struct ptm_stack *st = &m->stacks.data[stack];
    uint32_t mark = ++s->serial;
    struct ptm_range r = {s->stack_key_list.len, 0};
    for (uint32_t i = 0; i < st->locations.len; i++) {
        struct ptm_range lk = s->location_key_range[m->indices.data[st->locations.off + i]];
        for (uint32_t k = 0; k < lk.len; k++) {
            uint32_t key = s->loc_keys.data[lk.off + k];
            if (s->key_seen[key] == mark)
                continue;
            s->key_seen[key] = mark;
            uint32_t *slot = PTM_VEC_PUSH(s->stack_key_list);
            if (slot == NULL)
                return PTM_ENOMEM;
            *slot = key;
            r.len++;
        }
    }
    s->stack_keys[stack] = r;
    *out = r;
    return 0;
}

static void saturating_add(int64_t *sum, int64_t v)
{
    if (__builtin_add_overflow(*sum, v, sum))
        *sum = v > 0 ? INT64_MAX : INT64_MIN;
}

// Count the distinct stacks, locations and functions a profile uses.
static void count_tables(struct ptm_summarizer *s, const struct ptm_profile *p,
                         struct ptm_profile_summary *out)
{
    const struct ptm_model *m = s->model;
    uint32_t mark = ++s->serial;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        int32_t stack = m->samples.data[p->samples.off + i].stack;
        if (s->stack_stamp[stack] == mark)
            continue;
        s->stack_stamp[stack] = mark;
        out->stacks++;
        const struct ptm_stack *st = &m->stacks.data[stack];
        for (uint32_t l = 0; l < st->locations.len; l++) {
            int32_t loc = m->indices.data[st->locations.off + l];
            if (s->location_stamp[loc] == mark)
                continue;
            s->location_stamp[loc] = mark;
            out->locations++;
            const struct ptm_location *lp = &m->locations.data[loc];
            for (uint32_t k = 0; k < lp->lines.len; k++) {
                int32_t fn = m->lines.data[lp->lines.off + k].function;
                if (s->function_stamp[fn] != mark) {
                    s->function_stamp[fn] = mark;
                    out->functions++;
                }
            }
        }
    }
}

static int by_self(const void *a, const void *b)
{
    const struct ptm_function_stat *x = a, *y = b;
    if (x->self != y->self)
        return x->self < y->self ? 1 : -1;
    if (x->cum != y->cum)
        return x->cum < y->cum ? 1 : -1;
    uint32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.ptr, y->name.ptr, n);
    if (c != 0)
        return c;
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

int ptm_summarize_profile(struct ptm_summarizer *s, uint32_t profile, struct ptm_profile_summary *out)
{
    const struct ptm_model *m = s->model;
    const struct ptm_profile *p = &m->profiles.data[profile];
    memset(out, 0, sizeof *out);
    out->samples = p->samples.len;
    count_tables(s, p, out);
    s->touched.len = 0;
    uint32_t mark = ++s->serial;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const struct ptm_sample *sample = &m->samples.data[p->samples.off + i];
        int64_t w = ptm_sample_weight(m, p, sample);
        saturating_add(&out->total, w);
        struct ptm_range keys;
        if (stack_keys(s, sample->stack, &keys) != 0)
            return PTM_ENOMEM;
        for (uint32_t k = 0; k < keys.len; k++) {
            uint32_t key = s->stack_key_list.data[keys.off + k];
            if (s->key_stamp[key] != mark) {
                s->key_stamp[key] = mark;
                s->self[key] = s->cum[key] = 0;
                uint32_t *t = PTM_VEC_PUSH(s->touched);
                if (t == NULL)
                    return PTM_ENOMEM;
                *t = key;
            }
            saturating_add(&s->cum[key], w);
        }
        if (keys.len != 0)
            saturating_add(&s->self[s->stack_key_list.data[keys.off]], w);
    }
    s->top.len = 0;
    if (PTM_VEC_RESERVE(s->top, s->touched.len) != 0)
        return PTM_ENOMEM;
    for (uint32_t i = 0; i < s->touched.len; i++) {
        uint32_t key = s->touched.data[i];
        if (s->self[key] == 0 && s->cum[key] == 0)
            continue;
        s->top.data[s->top.len++] = (struct ptm_function_stat){s->key_names.data[key], s->self[key], s->cum[key]};
    }
    qsort(s->top.data, s->top.len, sizeof *s->top.data, by_self);
    out->top = s->top.data;
    out->top_len = s->top.len;
    return 0;
}
