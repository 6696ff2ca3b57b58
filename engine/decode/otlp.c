// SPDX-License-Identifier: Apache-2.0
//
// The hand-written decoder of OTLP profiles requests (ExportProfilesService-
// Request and ProfilesData share their wire form) in the v1.8, v1.9 and
// v1.10/v1.11 formats. It reads the wire format straight into the model's
// flat tables: strings stay views into the input, lists of indices and values
// are appended to shared vectors, nothing is allocated per message. This is
// the hot path of every request, so the sample loop is kept short; the
// protobuf-c generated decoder (otlp_protobuf_c.c) stays as the cross-check.
//
// Indices are stored as the request wrote them; ptm_batch_finish checks and
// rebases them once the whole request (its dictionary may come last) is read.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/wire.h"
#include "util/arena.h"
#include "util/error.h"

// Field numbers that moved between versions.
struct otlp_fields {
    uint32_t sample_values, sample_attributes, sample_link;
    uint32_t profile_id, profile_dropped, profile_payload_format, profile_attributes;
};

static const struct otlp_fields fields_v18 = {2, 3, 4, 8, 9, 10, 12};
static const struct otlp_fields fields_v19 = {2, 3, 4, 7, 8, 9, 11};
static const struct otlp_fields fields_v110 = {4, 2, 3, 7, 8, 9, 11};

#define MAX_PATH 8

struct otlp_decoder {
    struct ptm_model *m;
    const struct otlp_fields *f;
    int version;
    const uint8_t *start, *end; // the request's bytes, for offsets in messages
    struct ptm_error *err;
    // Where we are, for messages: names and indices of the enclosing fields.
    const char *path_name[MAX_PATH];
    uint32_t path_index[MAX_PATH];
    int depth;
    uint32_t resource; // index of the current resource in the model
    uint32_t scope;
    uint8_t key_sample_attributes, key_sample_values; // packed forms' key bytes
};

// The key byte of a field numbered below 16.
#define KEY(field, wire) ((uint8_t)((field) << 3 | (wire)))

static void path_push(struct otlp_decoder *d, const char *name, uint32_t index)
{
    if (d->depth < MAX_PATH) {
        d->path_name[d->depth] = name;
        d->path_index[d->depth] = index;
    }
    d->depth++;
}

static void path_pop(struct otlp_decoder *d)
{
    d->depth--;
}

static void path_set_index(struct otlp_decoder *d, uint32_t index)
{
    if (d->depth >= 1 && d->depth <= MAX_PATH)
        d->path_index[d->depth - 1] = index;
}

// Error paths are kept out of line so that the field readers below inline
// into the loops that call them a million times; the readers of the forms
// producers write are inlined wherever they are used.
#define COLD __attribute__((cold, noinline))
#define HOT_INLINE inline __attribute__((always_inline))

// Report malformed bytes at r, naming the field path and the byte offset.
// A message field is pushed on the path before its bytes are read, so when
// reading them fails the path already ends in the field: it is named once
// ("resource_profiles[1]", not "resource_profiles[1].resource_profiles").
static COLD int wire_error(struct otlp_decoder *d, const struct pb_reader *r, const char *field,
                           const char *problem)
{
    char path[256];
    size_t n = 0;
    path[0] = '\0';
    int depth = d->depth;
    if (depth >= 1 && depth <= MAX_PATH && strcmp(d->path_name[depth - 1], field) == 0) {
        field = "";
        if (d->path_index[depth - 1] == UINT32_MAX) // no index to show: the field ends the path
            depth--, field = d->path_name[depth];
    }
    for (int i = 0; i < depth && i < MAX_PATH && n < sizeof path; i++) {
        int w = d->path_index[i] == UINT32_MAX
                    ? snprintf(path + n, sizeof path - n, "%s%s", i ? "." : "", d->path_name[i])
                    : snprintf(path + n, sizeof path - n, "%s%s[%" PRIu32 "]", i ? "." : "",
                               d->path_name[i], d->path_index[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    char at[48] = "in a message given more than once"; // a merged copy (merged_body)
    if (r->p >= d->start && r->p <= d->end)
        snprintf(at, sizeof at, "byte %td", r->p - d->start);
    return ptm_error_set(d->err, PTM_EFORMAT, "OTLP v1.%d request, %s: %s%s%s: %s", d->version, at,
                         path, n && field[0] ? "." : "", field, problem);
}

static COLD int nomem(struct otlp_decoder *d)
{
    return ptm_error_set(d->err, PTM_ENOMEM, "out of memory decoding an OTLP request");
}

#define TRUNCATED "truncated or malformed"

// A field arrived with a wire type its schema does not allow.
static COLD int wire_type_error(struct otlp_decoder *d, const struct pb_reader *r,
                                const char *field, uint32_t wire)
{
    char problem[96];
    snprintf(problem, sizeof problem, "unexpected wire type %s", pb_wire_name(wire));
    return wire_error(d, r, field, problem);
}

// A field of the wire type `expected` could not be read at r.
static COLD int field_error(struct otlp_decoder *d, const struct pb_reader *r, const char *field,
                            uint32_t wire, uint32_t expected)
{
    if (wire != expected)
        return wire_type_error(d, r, field, wire);
    return wire_error(d, r, field, TRUNCATED);
}

// A length-delimited field whose length, read at `at`, could not be taken:
// say whether the length itself is cut off or claims more than is left.
static COLD int length_error(struct otlp_decoder *d, struct pb_reader at, const char *field)
{
    uint64_t n;
    struct pb_reader length = at;
    if (!pb_varint(&at, &n))
        return wire_error(d, &length, field, "truncated length");
    char problem[96];
    snprintf(problem, sizeof problem, "length %" PRIu64 " runs past the end (%td bytes left)", n,
             (ptrdiff_t)pb_left(&at));
    return wire_error(d, &length, field, problem);
}

static inline int read_varint_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                                    const char *field, uint64_t *out)
{
    if (wire == PB_VARINT && pb_varint(r, out))
        return 0;
    return field_error(d, r, field, wire, PB_VARINT);
}

static inline int read_int32_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                                   const char *field, int32_t *out)
{
    uint64_t v;
    if (wire == PB_VARINT && pb_varint(r, &v)) {
        *out = (int32_t)v; // int32 on the wire: negative values are sign-extended
        return 0;
    }
    return field_error(d, r, field, wire, PB_VARINT);
}

static inline int read_bytes_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                                   const char *field, struct ptm_str *out)
{
    struct pb_reader sub, at = *r;
    if (wire == PB_LEN && pb_len(r, &sub)) {
        out->ptr = (const char *)sub.p;
        out->len = (uint32_t)pb_left(&sub);
        return 0;
    }
    return wire == PB_LEN ? length_error(d, at, field) : wire_type_error(d, r, field, wire);
}

static inline int read_fixed64_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                                     const char *field, uint64_t *out)
{
    if (wire == PB_I64 && pb_fixed64(r, out))
        return 0;
    return field_error(d, r, field, wire, PB_I64);
}

static inline int read_message_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                                     const char *field, struct pb_reader *sub)
{
    struct pb_reader at = *r;
    if (wire == PB_LEN && pb_len(r, sub))
        return 0;
    return wire == PB_LEN ? length_error(d, at, field) : wire_type_error(d, r, field, wire);
}

static COLD int skip_error(struct otlp_decoder *d, const struct pb_reader *r, uint32_t field,
                           uint32_t wire)
{
    char name[32];
    snprintf(name, sizeof name, "field %" PRIu32, field);
    return wire_error(d, r, name, wire == PB_SGROUP || wire == PB_EGROUP
                                      ? "groups are not part of this format"
                                      : TRUNCATED);
}

static int skip_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t field, uint32_t wire)
{
    if (!pb_skip(r, wire))
        return skip_error(d, r, field, wire);
    return 0;
}

static COLD int bad_tag(struct otlp_decoder *d, const struct pb_reader *r)
{
    return wire_error(d, r, "field key", "invalid or truncated");
}

// A repeated field arrives in pieces (packed runs or single varints) that
// must all land in one contiguous list: start the list, or check that it
// still ends where its vector ends.
static inline bool list_extendable(struct ptm_range *list, uint32_t vec_len)
{
    if (list->len == 0) {
        list->off = vec_len;
        return true;
    }
    return list->off + list->len == vec_len;
}

#define SPLIT_LIST "a repeated field split around another list is not supported"

// Append a repeated int32 field (packed or not) to model->indices, extending
// *list, which must end where indices ends.
static int read_indices(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                        const char *field, struct ptm_range *list)
{
    struct ptm_model *m = d->m;
    struct pb_reader sub;
    if (!list_extendable(list, m->indices.len))
        return wire_error(d, r, field, SPLIT_LIST);
    if (wire == PB_VARINT) {
        uint64_t v;
        if (!pb_varint(r, &v))
            return wire_error(d, r, field, TRUNCATED);
        int32_t *slot = PTM_VEC_PUSH(m->indices);
        if (slot == NULL)
            return nomem(d);
        *slot = (int32_t)v;
        list->len++;
        return 0;
    }
    if (wire != PB_LEN)
        return wire_type_error(d, r, field, wire);
    if (!pb_len(r, &sub))
        return wire_error(d, r, field, TRUNCATED);
    if (PTM_VEC_RESERVE(m->indices, pb_left(&sub)) != 0)
        return nomem(d);
    size_t n;
    if (!pb_unpack_int32(&sub, m->indices.data + m->indices.len, &n))
        return wire_error(d, &sub, field, TRUNCATED);
    m->indices.len += (uint32_t)n;
    list->len += (uint32_t)n;
    return 0;
}

// Append a repeated int64 field (packed or not) to model->values.
static int read_values(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                       struct ptm_range *list)
{
    struct ptm_model *m = d->m;
    struct pb_reader sub;
    if (!list_extendable(list, m->values.len))
        return wire_error(d, r, "values", SPLIT_LIST);
    if (wire == PB_VARINT) {
        uint64_t v;
        if (!pb_varint(r, &v))
            return wire_error(d, r, "values", TRUNCATED);
        int64_t *slot = PTM_VEC_PUSH(m->values);
        if (slot == NULL)
            return nomem(d);
        *slot = (int64_t)v;
        list->len++;
        return 0;
    }
    if (wire != PB_LEN)
        return wire_type_error(d, r, "values", wire);
    if (!pb_len(r, &sub))
        return wire_error(d, r, "values", TRUNCATED);
    if (PTM_VEC_RESERVE(m->values, pb_left(&sub)) != 0)
        return nomem(d);
    size_t n;
    if (!pb_unpack_int64(&sub, m->values.data + m->values.len, &n))
        return wire_error(d, &sub, "values", TRUNCATED);
    m->values.len += (uint32_t)n;
    list->len += (uint32_t)n;
    return 0;
}

// Append a repeated fixed64 field (packed or not) to model->timestamps.
static int read_timestamps(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire,
                           struct ptm_range *list)
{
    struct ptm_model *m = d->m;
    if (!list_extendable(list, m->timestamps.len))
        return wire_error(d, r, "timestamps_unix_nano", SPLIT_LIST);
    if (wire == PB_I64) {
        uint64_t v;
        if (!pb_fixed64(r, &v))
            return wire_error(d, r, "timestamps_unix_nano", TRUNCATED);
        uint64_t *slot = PTM_VEC_PUSH(m->timestamps);
        if (slot == NULL)
            return nomem(d);
        *slot = v;
        list->len++;
        return 0;
    }
    struct pb_reader sub;
    if (wire != PB_LEN)
        return wire_type_error(d, r, "timestamps_unix_nano", wire);
    if (!pb_len(r, &sub))
        return wire_error(d, r, "timestamps_unix_nano", TRUNCATED);
    size_t bytes = pb_left(&sub);
    if (bytes % 8 != 0)
        return wire_error(d, &sub, "timestamps_unix_nano", "packed length is not a multiple of 8");
    size_t n = bytes / 8;
    if (PTM_VEC_RESERVE(m->timestamps, n) != 0)
        return nomem(d);
    memcpy(m->timestamps.data + m->timestamps.len, sub.p, bytes);
    m->timestamps.len += (uint32_t)n;
    list->len += (uint32_t)n;
    return 0;
}

static int read_any(struct otlp_decoder *d, struct pb_reader *r, struct ptm_any *out);

// Count the top-level occurrences of one field in a message, so a list of
// them can be given a contiguous block before nested values are appended.
static int count_field(struct otlp_decoder *d, struct pb_reader r, uint32_t wanted, uint32_t *count)
{
    uint32_t n = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        n += field == wanted;
        if (!pb_skip(&r, wire))
            return skip_error(d, &r, field, wire); // not skip_field: that would skip again
    }
    *count = n;
    return 0;
}

// Appends the bodies of the LEN fields `wanted` of r to out (NULL: only
// counts) and returns their total size. Stops at malformed bytes, which the
// caller's own pass over r reports.
static size_t occurrences(struct pb_reader r, uint32_t wanted, uint8_t *out)
{
    size_t total = 0;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            break;
        if (field != wanted || wire != PB_LEN) {
            if (!pb_skip(&r, wire))
                break;
            continue;
        }
        if (!pb_len(&r, &body))
            break;
        if (out != NULL && pb_left(&body) != 0)
            memcpy(out + total, body.p, pb_left(&body));
        total += pb_left(&body);
    }
    return total;
}

// The body of a singular message field `wanted` whose key was just read
// from r. When the field occurs again later in the message, protobuf merges
// the occurrences, which is reading their bodies one after the other: the
// body is then a copy of all of them, in the model's arena. *later tells
// the caller to skip the later occurrences.
static int merged_body(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire, uint32_t wanted,
                       const char *name, struct pb_reader *body, bool *later)
{
    int rc = read_message_field(d, r, wire, name, body);
    if (rc != 0)
        return rc;
    *later = true;
    size_t more = occurrences(*r, wanted, NULL);
    if (more == 0)
        return 0;
    size_t first = pb_left(body);
    uint8_t *copy = ptm_arena_alloc(d->m->arena, first + more);
    if (copy == NULL)
        return nomem(d);
    if (first != 0)
        memcpy(copy, body->p, first);
    occurrences(*r, wanted, copy + first);
    *body = pb_reader_make(copy, first + more);
    return 0;
}

// A later occurrence of a field merged_body has read already: checked, not
// read again.
static int skip_merged(struct otlp_decoder *d, struct pb_reader *r, uint32_t wire, const char *name)
{
    struct pb_reader body;
    return read_message_field(d, r, wire, name, &body);
}

// KeyValue { 1 key, 2 value, 3 key_strindex (v1.10) }
static int read_keyvalue(struct otlp_decoder *d, struct pb_reader r, uint32_t slot)
{
    struct ptm_keyvalue kv = {.key = {"", 0}, .key_strindex = -1};
    bool value_read = false;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc = 0;
        struct pb_reader sub;
        if (field == 1) {
            rc = read_bytes_field(d, &r, wire, "key", &kv.key);
        } else if (field == 2 && value_read) {
            rc = skip_merged(d, &r, wire, "value");
        } else if (field == 2) {
            rc = merged_body(d, &r, wire, 2, "value", &sub, &value_read);
            if (rc == 0)
                rc = read_any(d, &sub, &kv.value);
        } else if (field == 3 && d->version >= 10) {
            rc = read_int32_field(d, &r, wire, "key_strindex", &kv.key_strindex);
        } else {
            rc = skip_field(d, &r, field, wire);
        }
        if (rc != 0)
            return rc;
    }
    if (kv.key_strindex == 0)
        kv.key_strindex = -1; // proto3: a key_strindex of 0 is no key_strindex; keep the key
    d->m->keyvalues.data[slot] = kv;
    return 0;
}

// The KeyValue entries of a message's field `wanted` (resource attributes,
// scope attributes, a kvlist), into a contiguous range of model->keyvalues.
static int read_keyvalues(struct otlp_decoder *d, struct pb_reader r, uint32_t wanted,
                          struct ptm_range *out)
{
    struct ptm_model *m = d->m;
    uint32_t n;
    int rc = count_field(d, r, wanted, &n);
    if (rc != 0)
        return rc;
    if (PTM_VEC_RESERVE(m->keyvalues, n) != 0)
        return nomem(d);
    out->off = m->keyvalues.len;
    out->len = n;
    m->keyvalues.len += n;
    uint32_t i = 0;
    path_push(d, "attributes", 0);
    while (!pb_done(&r) && rc == 0) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field != wanted) {
            rc = skip_field(d, &r, field, wire);
            continue;
        }
        struct pb_reader sub;
        path_set_index(d, i);
        rc = read_message_field(d, &r, wire, "attributes", &sub);
        if (rc == 0)
            rc = read_keyvalue(d, sub, out->off + i++);
    }
    path_pop(d);
    return rc;
}

// ArrayValue { 1 values } into a contiguous range of model->anys.
static int read_array(struct otlp_decoder *d, struct pb_reader r, struct ptm_range *out)
{
    struct ptm_model *m = d->m;
    uint32_t n;
    int rc = count_field(d, r, 1, &n);
    if (rc != 0)
        return rc;
    if (PTM_VEC_RESERVE(m->anys, n) != 0)
        return nomem(d);
    out->off = m->anys.len;
    out->len = n;
    m->anys.len += n;
    uint32_t i = 0;
    while (!pb_done(&r) && rc == 0) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field != 1) {
            rc = skip_field(d, &r, field, wire);
            continue;
        }
        struct pb_reader sub;
        struct ptm_any v;
        rc = read_message_field(d, &r, wire, "array_value.values", &sub);
        if (rc == 0)
            rc = read_any(d, &sub, &v);
        if (rc == 0)
            m->anys.data[out->off + i++] = v;
    }
    return rc;
}

// AnyValue { oneof: 1 string, 2 bool, 3 int, 4 double, 5 array, 6 kvlist,
// 7 bytes, 8 string_value_strindex (v1.10) }. The last one set wins.
static int depth_guard(struct otlp_decoder *d, const struct pb_reader *r)
{
    if (d->depth > 32)
        return wire_error(d, r, "value", "attribute values nested deeper than 32 levels");
    return 0;
}

static int read_any(struct otlp_decoder *d, struct pb_reader *r, struct ptm_any *out)
{
    memset(out, 0, sizeof *out);
    out->strindex = -1;
    // What a list value appends to the tables, from here on, is its own: a
    // later member of the oneof replaces it, and takes it off again.
    uint32_t anys = d->m->anys.len, keyvalues = d->m->keyvalues.len;
    int rc = depth_guard(d, r);
    while (rc == 0 && !pb_done(r)) {
        uint32_t field, wire;
        uint64_t v = 0;
        struct pb_reader sub;
        if (!pb_tag(r, &field, &wire))
            return bad_tag(d, r);
        bool member = (field >= 1 && field <= 7) || (field == 8 && d->version >= 10);
        if (member && (out->kind == PTM_ANY_ARRAY || out->kind == PTM_ANY_KVLIST)) {
            d->m->anys.len = anys;
            d->m->keyvalues.len = keyvalues;
        }
        switch (field) {
        case 1:
            out->kind = PTM_ANY_STRING;
            out->strindex = -1;
            rc = read_bytes_field(d, r, wire, "string_value", &out->u.str);
            break;
        case 2:
            out->kind = PTM_ANY_BOOL;
            rc = read_varint_field(d, r, wire, "bool_value", &v);
            out->u.i = v != 0;
            break;
        case 3:
            out->kind = PTM_ANY_INT;
            rc = read_varint_field(d, r, wire, "int_value", &v);
            out->u.i = (int64_t)v;
            break;
        case 4:
            out->kind = PTM_ANY_DOUBLE;
            rc = read_fixed64_field(d, r, wire, "double_value", &v);
            memcpy(&out->u.d, &v, sizeof v);
            break;
        case 5:
            out->kind = PTM_ANY_ARRAY;
            path_push(d, "array_value", UINT32_MAX);
            rc = read_message_field(d, r, wire, "array_value", &sub);
            if (rc == 0)
                rc = read_array(d, sub, &out->u.list);
            path_pop(d);
            break;
        case 6:
            out->kind = PTM_ANY_KVLIST;
            path_push(d, "kvlist_value", UINT32_MAX);
            rc = read_message_field(d, r, wire, "kvlist_value", &sub);
            if (rc == 0)
                rc = read_keyvalues(d, sub, 1, &out->u.list);
            path_pop(d);
            break;
        case 7:
            out->kind = PTM_ANY_BYTES;
            rc = read_bytes_field(d, r, wire, "bytes_value", &out->u.str);
            break;
        case 8:
            if (d->version < 10) {
                rc = skip_field(d, r, field, wire);
                break;
            }
            out->kind = PTM_ANY_STRING;
            out->u.str = (struct ptm_str){NULL, 0}; // resolved by ptm_batch_finish
            rc = read_int32_field(d, r, wire, "string_value_strindex", &out->strindex);
            break;
        default: rc = skip_field(d, r, field, wire); break;
        }
    }
    return rc;
}

// ValueType { 1 type_strindex, 2 unit_strindex, 3 aggregation_temporality (v1.8) }
static int read_value_type(struct otlp_decoder *d, struct pb_reader r, struct ptm_value_type *out)
{
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 1)
            rc = read_int32_field(d, &r, wire, "type_strindex", &out->type);
        else if (field == 2)
            rc = read_int32_field(d, &r, wire, "unit_strindex", &out->unit);
        else
            rc = skip_field(d, &r, field, wire);
        if (rc != 0)
            return rc;
    }
    return 0;
}

// One field of a sample, in any form the schema allows.
static int read_sample_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t field,
                             uint32_t wire, struct ptm_sample *s)
{
    const struct otlp_fields *f = d->f;
    if (field == 1)
        return read_int32_field(d, r, wire, "stack_index", &s->stack);
    if (field == 5)
        return read_timestamps(d, r, wire, &s->timestamps);
    if (field == f->sample_attributes)
        return read_indices(d, r, wire, "attribute_indices", &s->attributes);
    if (field == f->sample_values)
        return read_values(d, r, wire, &s->values);
    if (field == f->sample_link)
        return read_int32_field(d, r, wire, "link_index", &s->link);
    return skip_field(d, r, field, wire);
}

// The forms producers write, read inline by the sample loop: a whole list in
// one packed run. Anything else (a list split in pieces, truncated bytes,
// out of memory) goes back to the length and through the general reader,
// which knows every form and says what is wrong.
static HOT_INLINE int read_packed_indices(struct otlp_decoder *d, struct pb_reader *r,
                                          const char *field, struct ptm_range *list)
{
    struct ptm_model *m = d->m;
    const uint8_t *at = r->p;
    struct pb_reader body;
    size_t n;
    if (list->len == 0 && pb_len(r, &body) && PTM_VEC_RESERVE(m->indices, pb_left(&body)) == 0 &&
        pb_unpack_int32(&body, m->indices.data + m->indices.len, &n)) {
        *list = (struct ptm_range){m->indices.len, (uint32_t)n};
        m->indices.len += (uint32_t)n;
        return 0;
    }
    r->p = at;
    return read_indices(d, r, PB_LEN, field, list);
}

static HOT_INLINE int read_packed_values(struct otlp_decoder *d, struct pb_reader *r,
                                         struct ptm_range *list)
{
    struct ptm_model *m = d->m;
    const uint8_t *at = r->p;
    struct pb_reader body;
    size_t n;
    if (list->len == 0 && pb_len(r, &body) && PTM_VEC_RESERVE(m->values, pb_left(&body)) == 0 &&
        pb_unpack_int64(&body, m->values.data + m->values.len, &n)) {
        *list = (struct ptm_range){m->values.len, (uint32_t)n};
        m->values.len += (uint32_t)n;
        return 0;
    }
    r->p = at;
    return read_values(d, r, PB_LEN, list);
}

// Most samples carry exactly one timestamp: that copy is inlined.
static HOT_INLINE int read_packed_timestamps(struct otlp_decoder *d, struct pb_reader *r,
                                             struct ptm_range *list)
{
    struct ptm_model *m = d->m;
    const uint8_t *at = r->p;
    struct pb_reader body;
    if (list->len == 0 && pb_len(r, &body) && pb_left(&body) % 8 == 0 &&
        PTM_VEC_RESERVE(m->timestamps, pb_left(&body) / 8) == 0) {
        size_t n = pb_left(&body) / 8;
        uint64_t *out = m->timestamps.data + m->timestamps.len;
        if (n == 1) {
            uint64_t t; // a typed store: the compiler need not assume it changed the model
            memcpy(&t, body.p, 8);
            *out = t;
        } else {
            memcpy(out, body.p, n * 8);
        }
        *list = (struct ptm_range){m->timestamps.len, (uint32_t)n};
        m->timestamps.len += (uint32_t)n;
        return 0;
    }
    r->p = at;
    return read_timestamps(d, r, PB_LEN, list);
}

// A Sample. A large request has a million of them, so the forms producers
// write (stack_index as a varint; attribute_indices, values and timestamps
// packed) are recognised by their one-byte key and read inline; every other
// form, and every error, goes through read_sample_field.
static int read_sample(struct otlp_decoder *d, struct pb_reader r, struct ptm_sample *s)
{
    *s = (struct ptm_sample){0};
    while (!pb_done(&r)) {
        uint8_t key = *r.p;
        int rc;
        if (key == KEY(1, PB_VARINT)) {
            uint64_t v;
            r.p++;
            if (!pb_varint(&r, &v))
                return wire_error(d, &r, "stack_index", TRUNCATED);
            s->stack = (int32_t)v;
            continue;
        }
        if (key == KEY(5, PB_LEN)) {
            r.p++;
            rc = read_packed_timestamps(d, &r, &s->timestamps);
        } else if (key == d->key_sample_attributes) {
            r.p++;
            rc = read_packed_indices(d, &r, "attribute_indices", &s->attributes);
        } else if (key == d->key_sample_values) {
            r.p++;
            rc = read_packed_values(d, &r, &s->values);
        } else {
            uint32_t field, wire;
            if (!pb_tag(&r, &field, &wire))
                return bad_tag(d, &r);
            rc = read_sample_field(d, &r, field, wire, s);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Profile.samples, once its key has been read.
static inline int read_profile_sample(struct otlp_decoder *d, struct pb_reader *r,
                                      struct ptm_profile *p)
{
    struct pb_reader sub;
    if (!pb_len(r, &sub))
        return wire_error(d, r, "samples", TRUNCATED);
    struct ptm_sample *s = PTM_VEC_PUSH(d->m->samples);
    if (s == NULL)
        return nomem(d);
    path_push(d, "samples", p->samples.len);
    int rc = read_sample(d, sub, s);
    path_pop(d);
    p->samples.len++;
    return rc;
}

static int read_profile_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t field,
                              uint32_t wire, struct ptm_profile *p)
{
    const struct otlp_fields *f = d->f;
    struct pb_reader sub;
    uint64_t v = 0;
    int rc;
    switch (field) {
    case 1:
        rc = read_message_field(d, r, wire, "sample_type", &sub);
        return rc ? rc : read_value_type(d, sub, &p->sample_type);
    case 2:
        if (wire != PB_LEN)
            return wire_type_error(d, r, "samples", wire);
        return read_profile_sample(d, r, p);
    case 3: return read_fixed64_field(d, r, wire, "time_unix_nano", &p->time_unix_nano);
    case 4: return read_varint_field(d, r, wire, "duration_nano", &p->duration_nano);
    case 5:
        rc = read_message_field(d, r, wire, "period_type", &sub);
        return rc ? rc : read_value_type(d, sub, &p->period_type);
    case 6:
        rc = read_varint_field(d, r, wire, "period", &v);
        p->period = (int64_t)v;
        return rc;
    }
    if (field == f->profile_id)
        return read_bytes_field(d, r, wire, "profile_id", &p->profile_id);
    if (field == f->profile_dropped) {
        rc = read_varint_field(d, r, wire, "dropped_attributes_count", &v);
        p->dropped_attributes_count = (uint32_t)v;
        return rc;
    }
    if (field == f->profile_payload_format)
        return read_bytes_field(d, r, wire, "original_payload_format", &p->original_payload_format);
    if (field == f->profile_attributes)
        return read_indices(d, r, wire, "attribute_indices", &p->attributes);
    if (d->version == 8 && field == 7)
        return read_indices(d, r, wire, "comment_strindices", &p->comments);
    return skip_field(d, r, field, wire);
}

static int read_profile(struct otlp_decoder *d, struct pb_reader r)
{
    struct ptm_model *m = d->m;
    struct ptm_profile p;
    memset(&p, 0, sizeof p);
    p.batch = m->batches.len - 1;
    p.resource = d->resource;
    p.scope = d->scope;
    p.value_column = -1;
    p.samples.off = m->samples.len;
    // Samples, their index lists and values are appended while the profile
    // is read; the profile itself is pushed last.
    while (!pb_done(&r)) {
        int rc;
        if (*r.p == KEY(2, PB_LEN)) {
            r.p++;
            rc = read_profile_sample(d, &r, &p);
        } else {
            uint32_t field, wire;
            if (!pb_tag(&r, &field, &wire))
                return bad_tag(d, &r);
            rc = read_profile_field(d, &r, field, wire, &p);
        }
        if (rc != 0)
            return rc;
    }
    struct ptm_profile *slot = PTM_VEC_PUSH(m->profiles);
    if (slot == NULL)
        return nomem(d);
    *slot = p;
    return 0;
}

// InstrumentationScope { 1 name, 2 version, 3 attributes, 4 dropped }
static int read_scope(struct otlp_decoder *d, struct pb_reader r, struct ptm_scope *scope)
{
    int rc = 0;
    struct pb_reader all = r;
    while (rc == 0 && !pb_done(&r)) {
        uint32_t field, wire;
        uint64_t v = 0;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field == 1) {
            rc = read_bytes_field(d, &r, wire, "name", &scope->name);
        } else if (field == 2) {
            rc = read_bytes_field(d, &r, wire, "version", &scope->version);
        } else if (field == 4) {
            rc = read_varint_field(d, &r, wire, "dropped_attributes_count", &v);
            scope->dropped_attributes_count = (uint32_t)v;
        } else {
            rc = skip_field(d, &r, field, wire);
        }
    }
    if (rc == 0)
        rc = read_keyvalues(d, all, 3, &scope->attributes);
    return rc;
}

// ScopeProfiles { 1 scope, 2 profiles, 3 schema_url }
static int read_scope_profiles(struct otlp_decoder *d, struct pb_reader r)
{
    struct ptm_model *m = d->m;
    struct ptm_scope *slot = PTM_VEC_PUSH(m->scopes);
    if (slot == NULL)
        return nomem(d);
    memset(slot, 0, sizeof *slot);
    d->scope = m->scopes.len - 1;
    struct ptm_scope scope = {.resource = d->resource};
    uint32_t n_profiles = 0;
    bool scope_read = false;
    int rc = 0;
    while (rc == 0 && !pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader sub;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field == 1 && scope_read) {
            rc = skip_merged(d, &r, wire, "scope");
        } else if (field == 1) {
            path_push(d, "scope", UINT32_MAX);
            rc = merged_body(d, &r, wire, 1, "scope", &sub, &scope_read);
            if (rc == 0)
                rc = read_scope(d, sub, &scope);
            path_pop(d);
        } else if (field == 2) {
            path_push(d, "profiles", n_profiles++);
            rc = read_message_field(d, &r, wire, "profiles", &sub);
            if (rc == 0)
                rc = read_profile(d, sub);
            path_pop(d);
        } else if (field == 3) {
            rc = read_bytes_field(d, &r, wire, "schema_url", &scope.schema_url);
        } else {
            rc = skip_field(d, &r, field, wire);
        }
    }
    m->scopes.data[d->scope] = scope;
    return rc;
}

// Resource { 1 attributes, 2 dropped_attributes_count, 3 entity_refs }
static int read_resource(struct otlp_decoder *d, struct pb_reader r, struct ptm_resource *res)
{
    struct pb_reader all = r;
    int rc = 0;
    while (rc == 0 && !pb_done(&r)) {
        uint32_t field, wire;
        uint64_t v = 0;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field == 2) {
            rc = read_varint_field(d, &r, wire, "dropped_attributes_count", &v);
            res->dropped_attributes_count = (uint32_t)v;
        } else {
            rc = skip_field(d, &r, field, wire);
        }
    }
    if (rc == 0)
        rc = read_keyvalues(d, all, 1, &res->attributes);
    return rc;
}

// ResourceProfiles { 1 resource, 2 scope_profiles, 3 schema_url }
static int read_resource_profiles(struct otlp_decoder *d, struct pb_reader r)
{
    struct ptm_model *m = d->m;
    struct ptm_resource *slot = PTM_VEC_PUSH(m->resources);
    if (slot == NULL)
        return nomem(d);
    memset(slot, 0, sizeof *slot);
    d->resource = m->resources.len - 1;
    struct ptm_resource res;
    memset(&res, 0, sizeof res);
    uint32_t n_scopes = 0;
    bool resource_read = false;
    int rc = 0;
    while (rc == 0 && !pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader sub;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        if (field == 1 && resource_read) {
            rc = skip_merged(d, &r, wire, "resource");
        } else if (field == 1) {
            path_push(d, "resource", UINT32_MAX);
            rc = merged_body(d, &r, wire, 1, "resource", &sub, &resource_read);
            if (rc == 0)
                rc = read_resource(d, sub, &res);
            path_pop(d);
        } else if (field == 2) {
            path_push(d, "scope_profiles", n_scopes++);
            rc = read_message_field(d, &r, wire, "scope_profiles", &sub);
            if (rc == 0)
                rc = read_scope_profiles(d, sub);
            path_pop(d);
        } else if (field == 3) {
            rc = read_bytes_field(d, &r, wire, "schema_url", &res.schema_url);
        } else {
            rc = skip_field(d, &r, field, wire);
        }
    }
    m->resources.data[d->resource] = res;
    return rc;
}

// ---- dictionary ----

// Mapping { 1 memory_start, 2 memory_limit, 3 file_offset, 4 filename_strindex,
// 5 attribute_indices }
static int read_mapping(struct otlp_decoder *d, struct pb_reader r, struct ptm_mapping *mp)
{
    memset(mp, 0, sizeof *mp);
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_varint_field(d, &r, wire, "memory_start", &mp->memory_start); break;
        case 2: rc = read_varint_field(d, &r, wire, "memory_limit", &mp->memory_limit); break;
        case 3: rc = read_varint_field(d, &r, wire, "file_offset", &mp->file_offset); break;
        case 4: rc = read_int32_field(d, &r, wire, "filename_strindex", &mp->filename); break;
        case 5: rc = read_indices(d, &r, wire, "attribute_indices", &mp->attributes); break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Line { 1 function_index, 2 line, 3 column }
static int read_line(struct otlp_decoder *d, struct pb_reader r, struct ptm_line *line)
{
    memset(line, 0, sizeof *line);
    while (!pb_done(&r)) {
        uint32_t field, wire;
        uint64_t v = 0;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_int32_field(d, &r, wire, "function_index", &line->function); break;
        case 2:
            rc = read_varint_field(d, &r, wire, "line", &v);
            line->line = (int64_t)v;
            break;
        case 3:
            rc = read_varint_field(d, &r, wire, "column", &v);
            line->column = (int64_t)v;
            break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Location { 1 mapping_index, 2 address, 3 lines, 4 attribute_indices }
static int read_location(struct otlp_decoder *d, struct pb_reader r, struct ptm_location *loc)
{
    struct ptm_model *m = d->m;
    memset(loc, 0, sizeof *loc);
    loc->lines.off = m->lines.len;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader sub;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_int32_field(d, &r, wire, "mapping_index", &loc->mapping); break;
        case 2: rc = read_varint_field(d, &r, wire, "address", &loc->address); break;
        case 3: {
            rc = read_message_field(d, &r, wire, "lines", &sub);
            if (rc != 0)
                break;
            struct ptm_line *line = PTM_VEC_PUSH(m->lines);
            if (line == NULL)
                return nomem(d);
            loc->lines.len++;
            path_push(d, "lines", loc->lines.len - 1);
            rc = read_line(d, sub, line);
            path_pop(d);
            break;
        }
        case 4:
            rc = wire == PB_LEN ? read_packed_indices(d, &r, "attribute_indices", &loc->attributes)
                                : read_indices(d, &r, wire, "attribute_indices", &loc->attributes);
            break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Function { 1 name_strindex, 2 system_name_strindex, 3 filename_strindex, 4 start_line }
static int read_function(struct otlp_decoder *d, struct pb_reader r, struct ptm_function *fn)
{
    memset(fn, 0, sizeof *fn);
    while (!pb_done(&r)) {
        uint32_t field, wire;
        uint64_t v = 0;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        switch (field) {
        case 1: rc = read_int32_field(d, &r, wire, "name_strindex", &fn->name); break;
        case 2: rc = read_int32_field(d, &r, wire, "system_name_strindex", &fn->system_name); break;
        case 3: rc = read_int32_field(d, &r, wire, "filename_strindex", &fn->filename); break;
        case 4:
            rc = read_varint_field(d, &r, wire, "start_line", &v);
            fn->start_line = (int64_t)v;
            break;
        default: rc = skip_field(d, &r, field, wire); break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Link { 1 trace_id, 2 span_id }
static int read_link(struct otlp_decoder *d, struct pb_reader r, struct ptm_link *link)
{
    memset(link, 0, sizeof *link);
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 1)
            rc = read_bytes_field(d, &r, wire, "trace_id", &link->trace_id);
        else if (field == 2)
            rc = read_bytes_field(d, &r, wire, "span_id", &link->span_id);
        else
            rc = skip_field(d, &r, field, wire);
        if (rc != 0)
            return rc;
    }
    return 0;
}

// KeyValueAndUnit { 1 key_strindex, 2 value, 3 unit_strindex }
static int read_attribute(struct otlp_decoder *d, struct pb_reader r, struct ptm_attribute *a)
{
    memset(a, 0, sizeof *a);
    a->value.strindex = -1;
    bool value_read = false;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader sub;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 1) {
            rc = read_int32_field(d, &r, wire, "key_strindex", &a->key);
        } else if (field == 2 && value_read) {
            rc = skip_merged(d, &r, wire, "value");
        } else if (field == 2) {
            rc = merged_body(d, &r, wire, 2, "value", &sub, &value_read);
            if (rc == 0)
                rc = read_any(d, &sub, &a->value);
        } else if (field == 3) {
            rc = read_int32_field(d, &r, wire, "unit_strindex", &a->unit);
        } else {
            rc = skip_field(d, &r, field, wire);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Stack { 1 location_indices }
static int read_stack(struct otlp_decoder *d, struct pb_reader r, struct ptm_stack *s)
{
    memset(s, 0, sizeof *s);
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc;
        if (field == 1 && wire == PB_LEN)
            rc = read_packed_indices(d, &r, "location_indices", &s->locations);
        else if (field == 1)
            rc = read_indices(d, &r, wire, "location_indices", &s->locations);
        else
            rc = skip_field(d, &r, field, wire);
        if (rc != 0)
            return rc;
    }
    return 0;
}

// Push one entry of a dictionary table and decode it in place.
#define READ_TABLE_ENTRY(d, r, wire, table, name, count, reader)          \
    do {                                                                   \
        struct pb_reader sub_;                                             \
        rc = read_message_field(d, r, wire, name, &sub_);                  \
        if (rc != 0)                                                       \
            break;                                                         \
        void *e_ = PTM_VEC_PUSH((d)->m->table);                            \
        if (e_ == NULL)                                                    \
            return nomem(d);                                               \
        uint32_t at_ = (d)->m->table.len - 1;                              \
        path_push(d, name, (count)++);                                     \
        rc = reader(d, sub_, &(d)->m->table.data[at_]);                    \
        path_pop(d);                                                       \
    } while (0)

struct table_counts {
    uint32_t mappings, locations, functions, links, strings, attributes, stacks;
};

static int read_dictionary_field(struct otlp_decoder *d, struct pb_reader *r, uint32_t field,
                                 uint32_t wire, struct table_counts *n)
{
    int rc = 0;
    switch (field) {
    case 1: READ_TABLE_ENTRY(d, r, wire, mappings, "mapping_table", n->mappings, read_mapping); break;
    case 2: READ_TABLE_ENTRY(d, r, wire, locations, "location_table", n->locations, read_location); break;
    case 3: READ_TABLE_ENTRY(d, r, wire, functions, "function_table", n->functions, read_function); break;
    case 4: READ_TABLE_ENTRY(d, r, wire, links, "link_table", n->links, read_link); break;
    case 5: {
        struct ptm_str *s = PTM_VEC_PUSH(d->m->strings);
        if (s == NULL)
            return nomem(d);
        path_push(d, "string_table", n->strings++);
        rc = read_bytes_field(d, r, wire, "value", s);
        path_pop(d);
        break;
    }
    case 6:
        READ_TABLE_ENTRY(d, r, wire, attributes, "attribute_table", n->attributes, read_attribute);
        break;
    case 7: READ_TABLE_ENTRY(d, r, wire, stacks, "stack_table", n->stacks, read_stack); break;
    default: rc = skip_field(d, r, field, wire); break;
    }
    return rc;
}

static int read_dictionary(struct otlp_decoder *d, struct pb_reader r)
{
    struct table_counts n = {0};
    while (!pb_done(&r)) {
        uint32_t field, wire;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(d, &r);
        int rc = read_dictionary_field(d, &r, field, wire, &n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ptm_decode_otlp(struct ptm_model *model, const uint8_t *data, size_t len, int version,
                    struct ptm_error *err)
{
    struct otlp_decoder d = {.m = model, .version = version, .start = data, .end = data + len, .err = err};
    d.f = version == 8 ? &fields_v18 : version == 9 ? &fields_v19 : &fields_v110;
    d.key_sample_attributes = KEY(d.f->sample_attributes, PB_LEN);
    d.key_sample_values = KEY(d.f->sample_values, PB_LEN);
    struct pb_reader r = pb_reader_make(data, len);
    uint32_t n_resources = 0;
    int rc = 0;
    while (rc == 0 && !pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader sub;
        if (!pb_tag(&r, &field, &wire))
            return bad_tag(&d, &r);
        if (field == 1) {
            path_push(&d, "resource_profiles", n_resources++);
            rc = read_message_field(&d, &r, wire, "resource_profiles", &sub);
            if (rc == 0)
                rc = read_resource_profiles(&d, sub);
            path_pop(&d);
        } else if (field == 2) {
            // A message field that occurs twice is merged: the tables of the
            // second dictionary append to those of the first.
            path_push(&d, "dictionary", UINT32_MAX);
            rc = read_message_field(&d, &r, wire, "dictionary", &sub);
            if (rc == 0)
                rc = read_dictionary(&d, sub);
            path_pop(&d);
        } else {
            rc = skip_field(&d, &r, field, wire);
        }
    }
    return rc;
}
