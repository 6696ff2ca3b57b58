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
#include "model/function_keys.h"

struct ptm_summarizer {
    const struct ptm_model *model;
    struct ptm_function_keys *keys;
    uint32_t *key_stamp; // per key: the last profile that touched it
    int64_t *self, *cum; // per key
    uint32_t *stack_stamp, *location_stamp, *function_stamp;
    uint32_t serial;
    PTM_VEC(uint32_t) touched; // keys touched by the current profile
    PTM_VEC(struct ptm_function_stat) top;
};

void ptm_summarizer_destroy(struct ptm_summarizer *s)
{
    if (s == NULL)
        return;
    ptm_function_keys_destroy(s->keys);
    free(s->key_stamp);
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
    s->keys = ptm_function_keys_create(model);
    if (s->keys == NULL)
        goto fail;
    uint32_t keys = ptm_function_keys_count(s->keys);
    s->key_stamp = calloc(keys, sizeof *s->key_stamp);
    s->self = calloc(keys, sizeof *s->self);
    s->cum = calloc(keys, sizeof *s->cum);
    s->stack_stamp = calloc(model->stacks.len + 1, sizeof *s->stack_stamp);
    s->location_stamp = calloc(model->locations.len + 1, sizeof *s->location_stamp);
    s->function_stamp = calloc(model->functions.len + 1, sizeof *s->function_stamp);
    if (s->key_stamp == NULL || s->self == NULL || s->cum == NULL || s->stack_stamp == NULL ||
        s->location_stamp == NULL || s->function_stamp == NULL)
        goto fail;
    return s;
fail:
    ptm_summarizer_destroy(s);
    return NULL;
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

static int by_self(const void *a, const void *b);

// Keep the top n of s->top (by_self order) at its front, sorted: a partial
// selection first, so a large profile's long tail is never fully sorted.
static void keep_top(struct ptm_summarizer *s, uint32_t n)
{
    struct ptm_function_stat *t = s->top.data;
    uint32_t len = s->top.len;
    if (n != 0 && n < len) {
        // Quickselect the n-th element, then sort the first n.
        uint32_t lo = 0, hi = len - 1, k = n - 1;
        while (lo < hi) {
            struct ptm_function_stat pivot = t[(lo + hi) / 2];
            uint32_t i = lo, j = hi;
            while (i <= j) {
                while (by_self(&t[i], &pivot) < 0)
                    i++;
                while (by_self(&t[j], &pivot) > 0)
                    j--;
                if (i <= j) {
                    struct ptm_function_stat x = t[i];
                    t[i] = t[j], t[j] = x;
                    i++;
                    if (j == 0)
                        break;
                    j--;
                }
            }
            if (k <= j)
                hi = j;
            else if (k >= i)
                lo = i;
            else
                break;
        }
        len = n;
    }
    qsort(t, len, sizeof *t, by_self);
    s->top.len = len;
}

int ptm_summarize_profile(struct ptm_summarizer *s, uint32_t profile, uint32_t top_n,
                          struct ptm_profile_summary *out)
{
    const struct ptm_model *m = s->model;
    const struct ptm_profile *p = &m->profiles.data[profile];
    const uint32_t *leaves = ptm_function_keys_leaves(s->keys);
    memset(out, 0, sizeof *out);
    out->samples = p->samples.len;
    count_tables(s, p, out);
    s->touched.len = 0;
    uint32_t mark = ++s->serial;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const struct ptm_sample *sample = &m->samples.data[p->samples.off + i];
        int64_t w = ptm_sample_weight(m, p, sample);
        saturating_add(&out->total, w);
        uint32_t len;
        const uint32_t *keys = ptm_function_keys_stack(s->keys, (uint32_t)sample->stack, &len);
        if (keys == NULL || PTM_VEC_RESERVE(s->touched, len) != 0)
            return PTM_ENOMEM;
        for (uint32_t k = 0; k < len; k++) {
            uint32_t key = keys[k];
            if (s->key_stamp[key] != mark) {
                s->key_stamp[key] = mark;
                s->self[key] = s->cum[key] = 0;
                s->touched.data[s->touched.len++] = key;
            }
            saturating_add(&s->cum[key], w);
        }
        if (len != 0)
            saturating_add(&s->self[leaves[sample->stack]], w);
    }
    s->top.len = 0;
    if (PTM_VEC_RESERVE(s->top, s->touched.len) != 0)
        return PTM_ENOMEM;
    for (uint32_t i = 0; i < s->touched.len; i++) {
        uint32_t key = s->touched.data[i];
        if (s->self[key] == 0 && s->cum[key] == 0)
            continue;
        s->top.data[s->top.len++] =
            (struct ptm_function_stat){ptm_function_keys_name(s->keys, key), s->self[key], s->cum[key]};
    }
    out->functions_with_value = s->top.len;
    keep_top(s, top_n);
    out->top = s->top.data;
    out->top_len = s->top.len;
    return 0;
}
