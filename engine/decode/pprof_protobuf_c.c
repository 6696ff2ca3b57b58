// SPDX-License-Identifier: Apache-2.0
//
// The pprof decoder built on the protobuf-c generated code: protobuf-c
// unpacks the whole Profile into the model's arena, then every entry goes
// through the same builder as in the hand-written decoder (pprof.c), in the
// same order, so both give the same model. Slower; it is the cross-check.
#include <string.h>

#include "decode/decode.h"
#include "decode/pprof_common.h"
#include "decode/protobuf_c_arena.h"
#include "perftools/profiles/profile.pb-c.h"
#include "util/error.h"

typedef Perftools__Profiles__Profile Profile;

static int add_dictionary(struct pprof_builder *b, const Profile *p)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->n_sample_type; i++)
        rc = pprof_add_sample_type(b, p->sample_type[i]->type, p->sample_type[i]->unit);
    for (size_t i = 0; rc == 0 && i < p->n_comment; i++)
        rc = pprof_add_comment(b, p->comment[i]);
    for (size_t i = 0; rc == 0 && i < p->n_function; i++) {
        const Perftools__Profiles__Function *f = p->function[i];
        struct pprof_function fn = {f->id, f->name, f->system_name, f->filename, f->start_line};
        rc = pprof_add_function(b, &fn);
    }
    for (size_t i = 0; rc == 0 && i < p->n_mapping; i++) {
        const Perftools__Profiles__Mapping *mp = p->mapping[i];
        struct pprof_mapping m = {mp->id,       mp->memory_start, mp->memory_limit,
                                  mp->file_offset, mp->filename, mp->build_id};
        rc = pprof_add_mapping(b, &m);
    }
    return rc ? rc : pprof_end_dictionary(b);
}

static int add_locations(struct pprof_builder *b, const Profile *p)
{
    for (size_t i = 0; i < p->n_location; i++) {
        const Perftools__Profiles__Location *loc = p->location[i];
        uint32_t lines_off = b->m->lines.len;
        for (size_t l = 0; l < loc->n_line; l++) {
            const Perftools__Profiles__Line *line = loc->line[l];
            int rc = pprof_add_line(b, (uint32_t)i, (uint32_t)l, line->function_id, line->line,
                                    line->column);
            if (rc != 0)
                return rc;
        }
        struct pprof_location out = {loc->id, loc->mapping_id, loc->address};
        int rc = pprof_add_location(b, &out, lines_off);
        if (rc != 0)
            return rc;
    }
    return pprof_end_locations(b);
}

static int add_sample(struct pprof_builder *b, const Perftools__Profiles__Sample *in)
{
    struct ptm_model *m = b->m;
    struct pprof_sample s;
    pprof_sample_begin(b, &s);
    if (PTM_VEC_RESERVE(m->indices, in->n_location_id) != 0 ||
        PTM_VEC_RESERVE(m->values, in->n_value) != 0)
        return pprof_nomem(b);
    for (size_t i = 0; i < in->n_location_id; i++) {
        if (!pprof_ids_find(&b->locations, in->location_id[i], &m->indices.data[m->indices.len]))
            return pprof_unknown_location(b, &s, in->location_id[i]);
        m->indices.len++;
    }
    if (in->n_value != 0)
        memcpy(&m->values.data[m->values.len], in->value, in->n_value * sizeof *in->value);
    m->values.len += (uint32_t)in->n_value;
    int rc = pprof_sample_end_locations(b, &s);
    for (size_t i = 0; rc == 0 && i < in->n_label; i++) {
        const Perftools__Profiles__Label *l = in->label[i];
        struct pprof_label label = {l->key, l->str, l->num, l->num_unit};
        rc = pprof_sample_add_label(b, &s, (uint32_t)i, &label);
    }
    return rc ? rc : pprof_sample_end(b, &s);
}

static int add_profile(struct pprof_builder *b, const Profile *p)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->n_string_table; i++)
        rc = pprof_add_string(b, p->string_table[i].data, p->string_table[i].len);
    if (rc == 0)
        rc = add_dictionary(b, p);
    if (rc == 0)
        rc = add_locations(b, p);
    if (rc == 0 && PTM_VEC_RESERVE(b->m->samples, p->n_sample) != 0)
        rc = pprof_nomem(b);
    for (size_t i = 0; rc == 0 && i < p->n_sample; i++)
        rc = add_sample(b, p->sample[i]);
    if (rc != 0)
        return rc;
    struct pprof_header h = {
        .drop_frames = p->drop_frames,
        .keep_frames = p->keep_frames,
        .time_nanos = p->time_nanos,
        .duration_nanos = p->duration_nanos,
        .period = p->period,
    };
    if (p->period_type != NULL) {
        h.period_type = p->period_type->type;
        h.period_unit = p->period_type->unit;
    }
    return pprof_builder_finish(b, &h);
}

int ptm_decode_pprof_protobuf_c(struct ptm_model *model, const uint8_t *data, size_t len,
                                struct ptm_error *err)
{
    ProtobufCAllocator allocator = ptm_protobuf_c_arena(model->arena);
    Profile *p = perftools__profiles__profile__unpack(&allocator, len, data);
    if (p == NULL)
        return ptm_error_set(err, PTM_EFORMAT,
                             "pprof: protobuf-c could not unpack the Profile message (%zu bytes): "
                             "truncated or malformed",
                             len);
    struct pprof_builder b;
    int rc = pprof_builder_init(&b, model, err);
    if (rc == 0)
        rc = add_profile(&b, p);
    pprof_builder_fini(&b);
    return rc;
}
