// SPDX-License-Identifier: Apache-2.0
//
// Lifetime of the model: create, reset between requests, roll back a failed
// decode, destroy.
#include "model/model.h"

#include <stdlib.h>

#include "util/arena.h"

// Every table of the model, in one list, so reset, mark and rollback cannot
// forget one.
#define PTM_MODEL_TABLES(X)                                                                  \
    X(batches) X(resources) X(scopes) X(profiles) X(samples) X(values) X(timestamps)         \
    X(indices) X(strings) X(functions) X(locations) X(lines) X(mappings) X(stacks)           \
    X(attributes) X(links) X(keyvalues) X(anys)

struct ptm_model *ptm_model_create(void)
{
    struct ptm_model *model = calloc(1, sizeof *model);
    if (model == NULL)
        return NULL;
    model->arena = ptm_arena_create(0);
    if (model->arena == NULL) {
        free(model);
        return NULL;
    }
    return model;
}

void ptm_model_destroy(struct ptm_model *model)
{
    if (model == NULL)
        return;
#define FREE_TABLE(t) PTM_VEC_FREE(model->t);
    PTM_MODEL_TABLES(FREE_TABLE)
#undef FREE_TABLE
    ptm_arena_destroy(model->arena);
    free(model);
}

void ptm_model_reset(struct ptm_model *model)
{
#define CLEAR_TABLE(t) model->t.len = 0;
    PTM_MODEL_TABLES(CLEAR_TABLE)
#undef CLEAR_TABLE
    ptm_arena_reset(model->arena);
    model->rejected_profiles = 0;
}

void ptm_model_mark(const struct ptm_model *model, struct ptm_model_mark *mark)
{
    int i = 0;
#define MARK_TABLE(t) mark->len[i++] = model->t.len;
    PTM_MODEL_TABLES(MARK_TABLE)
#undef MARK_TABLE
    mark->arena_used = ptm_arena_used(model->arena);
}

void ptm_model_rollback(struct ptm_model *model, const struct ptm_model_mark *mark)
{
    int i = 0;
#define ROLLBACK_TABLE(t) model->t.len = mark->len[i++];
    PTM_MODEL_TABLES(ROLLBACK_TABLE)
#undef ROLLBACK_TABLE
}

int64_t ptm_sample_weight(const struct ptm_model *model, const struct ptm_profile *profile,
                          const struct ptm_sample *sample)
{
    if (profile->value_column >= 0) {
        if ((uint32_t)profile->value_column >= sample->values.len)
            return 0;
        return model->values.data[sample->values.off + (uint32_t)profile->value_column];
    }
    if (sample->values.len == 0)
        return sample->timestamps.len;
    int64_t sum = 0;
    const int64_t *v = &model->values.data[sample->values.off];
    for (uint32_t i = 0; i < sample->values.len; i++) {
        if (__builtin_add_overflow(sum, v[i], &sum))
            return v[i] > 0 ? INT64_MAX : INT64_MIN;
    }
    return sum;
}

const char *ptm_format_name(enum ptm_format format)
{
    switch (format) {
    case PTM_FORMAT_AUTO: return "auto";
    case PTM_FORMAT_OTLP: return "otlp";
    case PTM_FORMAT_OTLP_JSON: return "otlp-json";
    case PTM_FORMAT_OTLP_FRAMED: return "otlp-framed";
    case PTM_FORMAT_PPROF: return "pprof";
    }
    return "unknown";
}
