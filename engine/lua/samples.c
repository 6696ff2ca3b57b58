// SPDX-License-Identifier: Apache-2.0
//
// The per-profile passes of samples.h: plain loops over the samples.
#include "lua/samples.h"

#include <stddef.h>
#include <string.h>

static double weight_of(const struct ptm_model *model, const struct ptm_profile *p, const struct ptm_sample *s)
{
    const int64_t *values = model->values.data;
    if (p->value_column >= 0) {
        uint32_t col = (uint32_t)p->value_column;
        return col < s->values.len ? (double)values[s->values.off + col] : 0.0;
    }
    if (s->values.len == 0)
        return (double)s->timestamps.len;
    if (s->values.len == 1)
        return (double)values[s->values.off];
    return (double)ptm_sample_weight(model, p, s);
}

// Sample i's attribute of each column's key, the first it has (the columns
// cleared beforehand: 0 when it has none).
static void read_columns(const struct ptm_model *model, const struct ptm_sample *s, uint32_t i,
                         const struct ptm_sample_columns *c)
{
    const int32_t *idx = model->indices.data; // no &data[off]: NULL when no sample has attributes
    for (uint32_t j = s->attributes.off, end = j + s->attributes.len; j < end; j++) {
        uint32_t column = c->column_of[c->key_of[idx[j]]];
        if (column != 0 && c->out[(column - 1) * c->stride + i] == 0)
            c->out[(column - 1) * c->stride + i] = (uint32_t)idx[j];
    }
}

void ptm_samples_read(const struct ptm_model *model, uint32_t profile, double *weight, uint32_t *stack,
                      const struct ptm_sample_columns *columns)
{
    const struct ptm_profile *p = &model->profiles.data[profile];
    if (p->samples.len == 0) // samples.data may be NULL: no &data[off]
        return;
    const struct ptm_sample *s = &model->samples.data[p->samples.off];
    uint32_t n = p->samples.len;
    bool with_columns = columns != NULL && columns->columns != 0;
    for (uint32_t k = 0; with_columns && k < columns->columns; k++)
        memset(columns->out + k * columns->stride, 0, n * sizeof *columns->out);
    // one pass: each sample is read from memory once
    for (uint32_t i = 0; i < n; i++) {
        weight[i] = weight_of(model, p, &s[i]);
        stack[i] = (uint32_t)s[i].stack;
        if (with_columns)
            read_columns(model, &s[i], i, columns);
    }
}

uint32_t ptm_samples_undecided(const struct ptm_model *model, uint32_t profile, const uint8_t *verdict,
                               uint32_t *mark, uint32_t gen, uint32_t *list)
{
    const struct ptm_profile *p = &model->profiles.data[profile];
    if (p->samples.len == 0) // samples.data may be NULL: no &data[off]
        return 0;
    const struct ptm_sample *s = &model->samples.data[p->samples.off];
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const int32_t *idx = model->indices.data;
        for (uint32_t j = s[i].attributes.off, end = j + s[i].attributes.len; j < end; j++) {
            if (verdict[idx[j]] == 0 && mark[idx[j]] != gen) {
                mark[idx[j]] = gen;
                list[n++] = (uint32_t)idx[j];
            }
        }
    }
    return n;
}

uint32_t ptm_samples_unseen(const uint32_t *column, uint32_t n, uint8_t *seen, uint32_t *list)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = column[i];
        if (seen[v] == 0) {
            seen[v] = 1;
            list[count++] = v;
        }
    }
    return count;
}

void ptm_samples_any(const struct ptm_model *model, uint32_t profile, const uint8_t *verdict, uint8_t *out)
{
    const struct ptm_profile *p = &model->profiles.data[profile];
    if (p->samples.len == 0) // samples.data may be NULL: no &data[off]
        return;
    const struct ptm_sample *s = &model->samples.data[p->samples.off];
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const int32_t *idx = model->indices.data;
        uint8_t any = 2;
        for (uint32_t j = s[i].attributes.off, end = j + s[i].attributes.len; j < end; j++)
            if (verdict[idx[j]] == 1)
                any = 1;
        out[i] = any;
    }
}

uint32_t ptm_samples_sum_by(const uint32_t *key, const double *weight, uint32_t n, double *sum, uint32_t *mark,
                            uint32_t gen, uint32_t *touched)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = key[i];
        if (k == PTM_SAMPLES_SKIP)
            continue;
        // Without a branch on the first time a key is reached, which is at
        // random: the old sum is kept or masked to 0.0.
        uint64_t first = mark[k] != gen, old;
        memcpy(&old, &sum[k], sizeof old);
        old &= first - 1;
        double kept;
        memcpy(&kept, &old, sizeof kept);
        touched[count] = k;
        count += (uint32_t)first;
        mark[k] = gen;
        sum[k] = kept + weight[i];
    }
    return count;
}
