// SPDX-License-Identifier: Apache-2.0
//
// The per-profile passes of samples.h: plain loops over the samples.
#include "lua/samples.h"

#include <string.h>

void ptm_samples_read(const struct ptm_model *model, uint32_t profile, double *weight, uint32_t *stack)
{
    const struct ptm_profile *p = &model->profiles.data[profile];
    const struct ptm_sample *s = &model->samples.data[p->samples.off];
    const int64_t *values = model->values.data;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        stack[i] = (uint32_t)s[i].stack;
        if (p->value_column >= 0) {
            uint32_t col = (uint32_t)p->value_column;
            weight[i] = col < s[i].values.len ? (double)values[s[i].values.off + col] : 0.0;
        } else if (s[i].values.len == 0) {
            weight[i] = (double)s[i].timestamps.len;
        } else if (s[i].values.len == 1) {
            weight[i] = (double)values[s[i].values.off];
        } else {
            weight[i] = (double)ptm_sample_weight(model, p, &s[i]);
        }
    }
}

void ptm_samples_attributes(const struct ptm_model *model, uint32_t profile, const uint32_t *key_of,
                            const uint32_t *column_of, uint32_t columns, uint32_t stride, uint32_t *out)
{
    const struct ptm_profile *p = &model->profiles.data[profile];
    const struct ptm_sample *s = &model->samples.data[p->samples.off];
    for (uint32_t c = 0; c < columns; c++)
        memset(out + (size_t)c * stride, 0, p->samples.len * sizeof *out);
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const int32_t *idx = &model->indices.data[s[i].attributes.off];
        for (uint32_t j = 0; j < s[i].attributes.len; j++) {
            uint32_t c = column_of[key_of[idx[j]]];
            if (c != 0 && out[(size_t)(c - 1) * stride + i] == 0)
                out[(size_t)(c - 1) * stride + i] = (uint32_t)idx[j];
        }
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
