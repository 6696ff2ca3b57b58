// SPDX-License-Identifier: Apache-2.0
//
// The hand-written decoder of pprof profiles (perftools.profiles.Profile,
// already gunzipped). Strings stay views into the input; ids, labels and
// stacks go through the shared builder (pprof_common.h), which the
// protobuf-c cross-check decoder (pprof_protobuf_c.c) uses too.
//
// A Profile may write its fields in any order (the Go runtime writes samples
// before the locations they refer to), so the top level is read in passes,
// each taking the fields whose references the previous passes made known:
// strings; then sample types, header fields, functions and mappings;
// then locations; then samples. Skipping a field costs one varint, so a pass
// over fields it does not want is cheap, and nothing is copied twice.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/pprof_common.h"
#include "decode/wire.h"
#include "util/error.h"

#define TRUNCATED "truncated or malformed"

struct pprof_decoder {
    struct pprof_builder b;
    struct pprof_header header;
    const uint8_t *start;   // the profile's first byte, for offsets in messages
    uint32_t count[16];     // top-level fields 1..15 seen, by number
    // Where we are, for messages: e.g. sample[17].label[2].
    const char *outer, *inner;
    uint32_t outer_index, inner_index;
};

// Report malformed bytes at r, naming the field path and the byte offset.
static int wire_error(struct pprof_decoder *d, const struct pb_reader *r, const char *field,
                      const char *problem)
{
    char path[96] = "";
    if (d->outer != NULL && d->inner != NULL)
        snprintf(path, sizeof path, "%s[%" PRIu32 "].%s[%" PRIu32 "].", d->outer, d->outer_index,
                 d->inner, d->inner_index);
    else if (d->outer != NULL)
        snprintf(path, sizeof path, "%s[%" PRIu32 "].", d->outer, d->outer_index);
    return ptm_error_set(d->b.err, PTM_EFORMAT, "pprof, byte %td: %s%s: %s", r->p - d->start, path,
                         field, problem);
}

static int wire_type_error(struct pprof_decoder *d, const struct pb_reader *r, const char *field,
                           uint32_t wire)
{
    char problem[64];
    snprintf(problem, sizeof problem, "unexpected wire type %s", pb_wire_name(wire));
    return wire_error(d, r, field, problem);
}

static int bad_tag(struct pprof_decoder *d, const struct pb_reader *r)
{
    return wire_error(d, r, "field key", "invalid or truncated");
}

static int skip_field(struct pprof_decoder *d, struct pb_reader *r, uint32_t field, uint32_t wire)
{
    if (pb_skip(r, wire))
        return 0;
    char name[32];
    snprintf(name, sizeof name, "field %" PRIu32, field);
    return wire_error(d, r, name, wire == PB_SGROUP || wire == PB_EGROUP
                                      ? "groups are not part of this format"
                                      : TRUNCATED);
}

static int read_varint(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire,
                       const char *field, uint64_t *out)
{
    if (wire != PB_VARINT)
        return wire_type_error(d, r, field, wire);
    if (!pb_varint(r, out))
        return wire_error(d, r, field, TRUNCATED);
    return 0;
}

static int read_int64(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire,
                      const char *field, int64_t *out)
{
    uint64_t v;
    int rc = read_varint(d, r, wire, field, &v);
    *out = (int64_t)v;
    return rc;
}

static int read_message(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire,
                        const char *field, struct pb_reader *sub)
{
    if (wire != PB_LEN)
        return wire_type_error(d, r, field, wire);
    if (!pb_len(r, sub))
        return wire_error(d, r, field, TRUNCATED);
    return 0;
}

// ---- pass 1: the string table ----

// Profile's fields by number, for messages about the first pass, which
// skips all but the strings (and so finds any field that is cut short).
static const char *const profile_fields[16] = {
    NULL,          "sample_type", "sample",    "mapping",      "location", "function",
    "string_table", "drop_frames", "keep_frames", "time_nanos", "duration_nanos",
    "period_type", "period",      "comment",   "default_sample_type", "doc_url",
};

static int skip_profile_field(struct pprof_decoder *d, struct pb_reader *r, uint32_t field,
                              uint32_t wire)
{
    if (field >= 16)
        return skip_field(d, r, field, wire);
    if (pb_skip(r, wire))
        return 0;
    return wire_error(d, r, profile_fields[field],
                      wire == PB_SGROUP || wire == PB_EGROUP ? "groups are not part of this format"
                                                             : TRUNCATED);
}

static int read_strings(struct pprof_decoder *d, struct pb_reader r)
{
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader s;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field < 16)
            d->count[field]++;
        int rc = field == 6 ? read_message(d, &r, wire, "string_table", &s)
                            : skip_profile_field(d, &r, field, wire);
        if (rc == 0 && field == 6)
            rc = pprof_add_string(&d->b, s.p, pb_left(&s));
        if (rc != 0)
            return rc;
    }
    return 0;
}

// ---- pass 2: sample types, header, comments, functions, mappings ----

// ValueType { 1 type, 2 unit }
static int read_value_type(struct pprof_decoder *d, struct pb_reader r, int64_t *type, int64_t *unit)
{
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc = field == 1   ? read_int64(d, &r, wire, "type", type)
                 : field == 2 ? read_int64(d, &r, wire, "unit", unit)
                              : skip_field(d, &r, field, wire);
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Function { 1 id, 2 name, 3 system_name, 4 filename, 5 start_line }
static int read_function(struct pprof_decoder *d, struct pb_reader r)
{
    struct pprof_function f = {0};
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_varint(d, &r, wire, "id", &f.id); break;
        case 2: rc = read_int64(d, &r, wire, "name", &f.name); break;
        case 3: rc = read_int64(d, &r, wire, "system_name", &f.system_name); break;
        case 4: rc = read_int64(d, &r, wire, "filename", &f.filename); break;
        case 5: rc = read_int64(d, &r, wire, "start_line", &f.start_line); break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return pprof_add_function(&d->b, &f);
}

// Mapping { 1 id, 2 memory_start, 3 memory_limit, 4 file_offset, 5 filename,
// 6 build_id, 7..10 has_* flags (not kept) }
static int read_mapping(struct pprof_decoder *d, struct pb_reader r)
{
    struct pprof_mapping mp = {0};
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_varint(d, &r, wire, "id", &mp.id); break;
        case 2: rc = read_varint(d, &r, wire, "memory_start", &mp.memory_start); break;
        case 3: rc = read_varint(d, &r, wire, "memory_limit", &mp.memory_limit); break;
        case 4: rc = read_varint(d, &r, wire, "file_offset", &mp.file_offset); break;
        case 5: rc = read_int64(d, &r, wire, "filename", &mp.filename); break;
        case 6: rc = read_int64(d, &r, wire, "build_id", &mp.build_id); break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return pprof_add_mapping(&d->b, &mp);
}

// comment: repeated int64, packed or not.
static int read_comments(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire)
{
    int64_t v;
    if (wire != PB_LEN) {
        int rc = read_int64(d, r, wire, "comment", &v);
        return rc ? rc : pprof_add_comment(&d->b, v);
    }
    struct pb_reader list;
    if (!pb_len(r, &list))
        return wire_error(d, r, "comment", TRUNCATED);
    while (!pb_done(&list)) {
        int rc = read_int64(d, &list, PB_VARINT, "comment", &v);
        if (rc == 0)
            rc = pprof_add_comment(&d->b, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

// An entry of a repeated message field: its body, with the path set for
// messages about it.
static int enter_entry(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire,
                       const char *name, uint32_t index, struct pb_reader *body)
{
    d->outer = name;
    d->outer_index = index;
    return read_message(d, r, wire, name, body);
}

static int read_dictionary_field(struct pprof_decoder *d, struct pb_reader *r, uint32_t field,
                                 uint32_t wire, uint32_t *seen)
{
    struct pprof_header *h = &d->header;
    struct pb_reader body;
    int64_t unused;
    int rc;
    switch (field) {
    case 1: {
        int64_t type = 0, unit = 0;
        rc = enter_entry(d, r, wire, "sample_type", seen[1]++, &body);
        if (rc == 0)
            rc = read_value_type(d, body, &type, &unit);
        return rc ? rc : pprof_add_sample_type(&d->b, type, unit);
    }
    case 3:
        rc = enter_entry(d, r, wire, "mapping", seen[3]++, &body);
        return rc ? rc : read_mapping(d, body);
    case 5:
        rc = enter_entry(d, r, wire, "function", seen[5]++, &body);
        return rc ? rc : read_function(d, body);
    case 7: return read_int64(d, r, wire, "drop_frames", &h->drop_frames);
    case 8: return read_int64(d, r, wire, "keep_frames", &h->keep_frames);
    case 9: return read_int64(d, r, wire, "time_nanos", &h->time_nanos);
    case 10: return read_int64(d, r, wire, "duration_nanos", &h->duration_nanos);
    case 11:
        d->outer = NULL;
        rc = read_message(d, r, wire, "period_type", &body);
        return rc ? rc : read_value_type(d, body, &h->period_type, &h->period_unit);
    case 12: return read_int64(d, r, wire, "period", &h->period);
    case 13: return read_comments(d, r, wire);
    case 14: return read_int64(d, r, wire, "default_sample_type", &unused);
    case 15: return read_int64(d, r, wire, "doc_url", &unused);
    default: return skip_field(d, r, field, wire);
    }
}

static int read_dictionary(struct pprof_decoder *d, struct pb_reader r)
{
    uint32_t seen[16] = {0};
    while (!pb_done(&r)) {
        uint32_t field, wire;
        d->outer = NULL;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc = read_dictionary_field(d, &r, field, wire, seen);
        if (rc != 0)
            return rc;
    }
    d->outer = NULL;
    return pprof_end_dictionary(&d->b);
}

// ---- pass 3: locations ----

// Line { 1 function_id, 2 line, 3 column }
static int read_line(struct pprof_decoder *d, struct pb_reader r, uint32_t location, uint32_t line_no)
{
    uint64_t function_id = 0;
    int64_t line = 0, column = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc = field == 1   ? read_varint(d, &r, wire, "function_id", &function_id)
                 : field == 2 ? read_int64(d, &r, wire, "line", &line)
                 : field == 3 ? read_int64(d, &r, wire, "column", &column)
                              : skip_field(d, &r, field, wire);
        if (rc != 0)
            return rc;
    }
    return pprof_add_line(&d->b, location, line_no, function_id, line, column);
}

// Location { 1 id, 2 mapping_id, 3 address, 4 line, 5 is_folded (not kept) }
static int read_location(struct pprof_decoder *d, struct pb_reader r, uint32_t position)
{
    struct pprof_location loc = {0};
    uint32_t lines_off = d->b.m->lines.len;
    uint32_t n_lines = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_varint(d, &r, wire, "id", &loc.id); break;
        case 2: rc = read_varint(d, &r, wire, "mapping_id", &loc.mapping_id); break;
        case 3: rc = read_varint(d, &r, wire, "address", &loc.address); break;
        case 4:
            d->inner = "line";
            d->inner_index = n_lines;
            rc = read_message(d, &r, wire, "line", &body);
            if (rc == 0)
                rc = read_line(d, body, position, n_lines++);
            d->inner = NULL;
            break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return pprof_add_location(&d->b, &loc, lines_off);
}

static int read_locations(struct pprof_decoder *d, struct pb_reader r)
{
    struct ptm_model *m = d->b.m;
    if (PTM_VEC_RESERVE(m->locations, d->count[4]) != 0 ||
        PTM_VEC_RESERVE(m->lines, d->count[4]) != 0)
        return pprof_nomem(&d->b);
    uint32_t n = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 4) {
            rc = enter_entry(d, &r, wire, "location", n, &body);
            if (rc == 0)
                rc = read_location(d, body, n++);
            d->outer = NULL;
        } else {
            rc = skip_field(d, &r, field, wire);
        }
        if (rc != 0)
            return rc;
    }
    return pprof_end_locations(&d->b);
}

// ---- pass 4: samples ----

// location_id: repeated uint64, packed or not; each id is resolved and its
// location index appended to model->indices.
static int read_location_ids(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire,
                             const struct pprof_sample *s)
{
    struct ptm_model *m = d->b.m;
    const struct pprof_ids *ids = &d->b.locations;
    struct pb_reader list;
    if (wire == PB_VARINT) {
        list.p = r->p;
        if (!pb_varint(r, &(uint64_t){0}))
            return wire_error(d, r, "location_id", TRUNCATED);
        list.end = r->p;
    } else if (wire != PB_LEN) {
        return wire_type_error(d, r, "location_id", wire);
    } else if (!pb_len(r, &list)) {
        return wire_error(d, r, "location_id", TRUNCATED);
    }
    // At most one id per byte.
    if (PTM_VEC_RESERVE(m->indices, pb_left(&list)) != 0)
        return pprof_nomem(&d->b);
    int32_t *out = m->indices.data + m->indices.len;
    while (!pb_done(&list)) {
        uint64_t id;
        if (!pb_varint(&list, &id))
            return wire_error(d, &list, "location_id", TRUNCATED);
        if (!pprof_ids_find(ids, id, out++))
            return pprof_unknown_location(&d->b, s, id);
    }
    m->indices.len = (uint32_t)(out - m->indices.data);
    return 0;
}

// value: repeated int64, packed or not, appended to model->values.
static int read_values(struct pprof_decoder *d, struct pb_reader *r, uint32_t wire)
{
    struct ptm_model *m = d->b.m;
    struct pb_reader list;
    if (wire == PB_VARINT) {
        uint64_t v;
        if (!pb_varint(r, &v))
            return wire_error(d, r, "value", TRUNCATED);
        int64_t *slot = PTM_VEC_PUSH(m->values);
        if (slot == NULL)
            return pprof_nomem(&d->b);
        *slot = (int64_t)v;
        return 0;
    }
    if (wire != PB_LEN)
        return wire_type_error(d, r, "value", wire);
    if (!pb_len(r, &list))
        return wire_error(d, r, "value", TRUNCATED);
    if (PTM_VEC_RESERVE(m->values, pb_left(&list)) != 0)
        return pprof_nomem(&d->b);
    while (!pb_done(&list)) {
        uint64_t v;
        if (!pb_varint(&list, &v))
            return wire_error(d, &list, "value", TRUNCATED);
        m->values.data[m->values.len++] = (int64_t)v;
    }
    return 0;
}

// Label { 1 key, 2 str, 3 num, 4 num_unit }
static int read_label(struct pprof_decoder *d, struct pb_reader r, const struct pprof_sample *s,
                      uint32_t label_no)
{
    struct pprof_label l = {0};
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_int64(d, &r, wire, "key", &l.key); break;
        case 2: rc = read_int64(d, &r, wire, "str", &l.str); break;
        case 3: rc = read_int64(d, &r, wire, "num", &l.num); break;
        case 4: rc = read_int64(d, &r, wire, "num_unit", &l.num_unit); break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return pprof_sample_add_label(&d->b, s, label_no, &l);
}

// The labels of a sample, after its stack (both are lists in
// model->indices, so they are read one after the other).
static int read_labels(struct pprof_decoder *d, struct pb_reader r, const struct pprof_sample *s)
{
    uint32_t n = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 3) {
            d->inner = "label";
            d->inner_index = n;
            rc = read_message(d, &r, wire, "label", &body);
            if (rc == 0)
                rc = read_label(d, body, s, n++);
            d->inner = NULL;
        } else {
            rc = skip_field(d, &r, field, wire);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Sample { 1 location_id, 2 value, 3 label }
static int read_sample(struct pprof_decoder *d, struct pb_reader r)
{
    struct pprof_sample s;
    pprof_sample_begin(&d->b, &s);
    struct pb_reader all = r;
    bool has_labels = false;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 1) {
            rc = read_location_ids(d, &r, wire, &s);
        } else if (field == 2) {
            rc = read_values(d, &r, wire);
        } else {
            has_labels |= field == 3;
            rc = skip_field(d, &r, field, wire);
        }
        if (rc != 0)
            return rc;
    }
    int rc = pprof_sample_end_locations(&d->b, &s);
    if (rc == 0 && has_labels)
        rc = read_labels(d, all, &s);
    return rc ? rc : pprof_sample_end(&d->b, &s);
}

static int read_samples(struct pprof_decoder *d, struct pb_reader r)
{
    struct ptm_model *m = d->b.m;
    // One value per sample type per sample; no more values than bytes.
    size_t values = (size_t)d->count[2] * d->count[1];
    if (PTM_VEC_RESERVE(m->samples, d->count[2]) != 0 ||
        PTM_VEC_RESERVE(m->values, values < pb_left(&r) ? values : pb_left(&r)) != 0)
        return pprof_nomem(&d->b);
    uint32_t n = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 2) {
            rc = enter_entry(d, &r, wire, "sample", n++, &body);
            if (rc == 0)
                rc = read_sample(d, body);
            d->outer = NULL;
        } else {
            rc = skip_field(d, &r, field, wire);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ptm_decode_pprof(struct ptm_model *model, const uint8_t *data, size_t len, struct ptm_error *err)
{
    struct pprof_decoder d;
    memset(&d, 0, sizeof d);
    d.start = data;
    struct pb_reader all = pb_reader_make(data, len);
    int rc = pprof_builder_init(&d.b, model, err);
    if (rc == 0)
        rc = read_strings(&d, all);
    if (rc == 0 && (PTM_VEC_RESERVE(model->functions, d.count[5]) != 0 ||
                    PTM_VEC_RESERVE(model->mappings, d.count[3]) != 0))
        rc = pprof_nomem(&d.b);
    if (rc == 0)
        rc = read_dictionary(&d, all);
    if (rc == 0)
        rc = read_locations(&d, all);
    if (rc == 0)
        rc = read_samples(&d, all);
    if (rc == 0)
        rc = pprof_builder_finish(&d.b, &d.header);
    pprof_builder_fini(&d.b);
    return rc;
}
