// SPDX-License-Identifier: Apache-2.0
//
// The OTLP profiles decoder built on protobuf-c generated code: the
// cross-check of the hand-written otlp.c. It unpacks a request with the
// generated code of its wire version (v1.8, v1.9, v1.10/v1.11), the tree
// living in the model's arena, and converts that tree into the model exactly
// as otlp.c would: same tables, same order, indices local to the request for
// ptm_batch_finish to check, strings as views into the tree. Tests decode
// every input with both and require identical models.
//
// The per-version conversion is otlp_protobuf_c_version.h, included once per
// version below; what the versions share (attributes, lists) is here.
#include <stdbool.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/protobuf_c_arena.h"
#include "decode/wire.h"
#include "opentelemetry/proto/profiles/v1development/profiles.pb-c.h"
#include "otlp_v1_8/profiles.pb-c.h"
#include "otlp_v1_9/profiles.pb-c.h"
#include "util/error.h"

// otlp.c refuses attribute values nested deeper than this (its path depth).
#define MAX_VALUE_DEPTH 32

typedef Opentelemetry__Proto__Common__V1__AnyValue pbc_any;
typedef Opentelemetry__Proto__Common__V1__ArrayValue pbc_array;
typedef Opentelemetry__Proto__Common__V1__KeyValue pbc_keyvalue;

struct pbc_converter {
    struct ptm_model *m;
    struct ptm_error *err;
    int version;
};

static int pbc_nomem(struct pbc_converter *c)
{
    return ptm_error_set(c->err, PTM_ENOMEM, "out of memory decoding an OTLP request");
}

static int pbc_unpack_failed(struct pbc_converter *c)
{
    return ptm_error_set(c->err, PTM_EFORMAT,
                         "OTLP v1.%d request: protobuf-c could not unpack the message "
                         "(malformed or another version)",
                         c->version);
}

// A string of the tree (NUL-terminated, in the arena) as a view.
static struct ptm_str pbc_string(const char *s)
{
    if (s == NULL)
        return (struct ptm_str){NULL, 0};
    return (struct ptm_str){s, (uint32_t)strlen(s)};
}

static struct ptm_str pbc_bytes(ProtobufCBinaryData b)
{
    return (struct ptm_str){(const char *)b.data, (uint32_t)b.len};
}

// pbc_append_indices, _values, _timestamps: append n elements to one of the
// model's pools. An empty list is {0, 0}, as otlp.c leaves an absent one.
#define PBC_DEFINE_APPEND(name, pool, type)                                             \
    static int name(struct pbc_converter *c, const type *src, size_t n,                 \
                    struct ptm_range *out)                                              \
    {                                                                                   \
        *out = (struct ptm_range){0, 0};                                                \
        if (n == 0)                                                                     \
            return 0;                                                                   \
        if (PTM_VEC_RESERVE(c->m->pool, n) != 0)                                        \
            return -1;                                                                  \
        *out = (struct ptm_range){c->m->pool.len, (uint32_t)n};                         \
        memcpy(c->m->pool.data + c->m->pool.len, src, n * sizeof *src);                 \
        c->m->pool.len += (uint32_t)n;                                                  \
        return 0;                                                                       \
    }

PBC_DEFINE_APPEND(pbc_append_indices, indices, int32_t)
PBC_DEFINE_APPEND(pbc_append_values, values, int64_t)
PBC_DEFINE_APPEND(pbc_append_timestamps, timestamps, uint64_t)

// ---- attribute values (common.proto, the same type in every version) ----

static int pbc_convert_keyvalues(struct pbc_converter *c, pbc_keyvalue *const *in, size_t n,
                                 struct ptm_range *out);

// ArrayValue into a contiguous block of model->anys; nested lists follow it.
static int pbc_convert_array(struct pbc_converter *c, const pbc_array *in, struct ptm_range *out);

static int pbc_convert_any(struct pbc_converter *c, const pbc_any *in, struct ptm_any *out)
{
    memset(out, 0, sizeof *out);
    out->strindex = -1;
    switch (in->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        out->kind = PTM_ANY_STRING;
        out->u.str = pbc_string(in->string_value);
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        out->kind = PTM_ANY_BOOL;
        out->u.i = in->bool_value != 0;
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        out->kind = PTM_ANY_INT;
        out->u.i = in->int_value;
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        out->kind = PTM_ANY_DOUBLE;
        out->u.d = in->double_value;
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        out->kind = PTM_ANY_ARRAY;
        return pbc_convert_array(c, in->array_value, &out->u.list);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        out->kind = PTM_ANY_KVLIST;
        if (in->kvlist_value == NULL)
            return pbc_convert_keyvalues(c, NULL, 0, &out->u.list);
        return pbc_convert_keyvalues(c, in->kvlist_value->values, in->kvlist_value->n_values,
                                     &out->u.list);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        out->kind = PTM_ANY_BYTES;
        out->u.str = pbc_bytes(in->bytes_value);
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX:
        // A v1.10 field: older versions do not know it and ignore it.
        if (c->version >= 10) {
            out->kind = PTM_ANY_STRING;
            out->u.str = (struct ptm_str){NULL, 0}; // resolved by ptm_batch_finish
            out->strindex = in->string_value_strindex;
        }
        return 0;
    default: return 0;
    }
}

static int pbc_convert_array(struct pbc_converter *c, const pbc_array *in, struct ptm_range *out)
{
    struct ptm_model *m = c->m;
    size_t n = in != NULL ? in->n_values : 0;
    if (PTM_VEC_RESERVE(m->anys, n) != 0)
        return pbc_nomem(c);
    out->off = m->anys.len;
    out->len = (uint32_t)n;
    m->anys.len += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        struct ptm_any v;
        int rc = pbc_convert_any(c, in->values[i], &v);
        if (rc != 0)
            return rc;
        m->anys.data[out->off + i] = v;
    }
    return 0;
}

// KeyValue; key_strindex (v1.10) is kept for ptm_batch_finish to resolve.
// Like every proto3 scalar, key_strindex 0 is the same as no key_strindex.
static int pbc_convert_keyvalue(struct pbc_converter *c, const pbc_keyvalue *in,
                                struct ptm_keyvalue *kv)
{
    memset(kv, 0, sizeof *kv);
    kv->key = in->key != NULL ? pbc_string(in->key) : (struct ptm_str){"", 0};
    kv->key_strindex = c->version >= 10 && in->key_strindex != 0 ? in->key_strindex : -1;
    return in->value != NULL ? pbc_convert_any(c, in->value, &kv->value) : 0;
}

// A list of KeyValue as one contiguous block of model->keyvalues; the
// nested lists of its values are appended after the block.
static int pbc_convert_keyvalues(struct pbc_converter *c, pbc_keyvalue *const *in, size_t n,
                                 struct ptm_range *out)
{
    struct ptm_model *m = c->m;
    if (PTM_VEC_RESERVE(m->keyvalues, n) != 0)
        return pbc_nomem(c);
    out->off = m->keyvalues.len;
    out->len = (uint32_t)n;
    m->keyvalues.len += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        struct ptm_keyvalue kv;
        int rc = pbc_convert_keyvalue(c, in[i], &kv);
        if (rc != 0)
            return rc;
        m->keyvalues.data[out->off + i] = kv;
    }
    return 0;
}

static int pbc_convert_resource(struct pbc_converter *c,
                                const Opentelemetry__Proto__Resource__V1__Resource *in,
                                struct ptm_resource *res)
{
    if (in == NULL)
        return 0;
    res->dropped_attributes_count = in->dropped_attributes_count;
    return pbc_convert_keyvalues(c, in->attributes, in->n_attributes, &res->attributes);
}

static int pbc_convert_scope(struct pbc_converter *c,
                             const Opentelemetry__Proto__Common__V1__InstrumentationScope *in,
                             struct ptm_scope *scope)
{
    if (in == NULL)
        return 0;
    scope->name = pbc_string(in->name);
    scope->version = pbc_string(in->version);
    scope->dropped_attributes_count = in->dropped_attributes_count;
    return pbc_convert_keyvalues(c, in->attributes, in->n_attributes, &scope->attributes);
}

// The next field of a message's bytes: its number, and for a
// length-delimited field its body. The bytes were unpacked already, so they
// are well-formed.
static bool pbc_next_field(struct pb_reader *r, uint32_t *field, struct pb_reader *body)
{
    uint32_t wire;
    if (pb_done(r) || !pb_tag(r, field, &wire))
        return false;
    if (wire == PB_LEN)
        return pb_len(r, body);
    *body = (struct pb_reader){r->p, r->p};
    return pb_skip(r, wire);
}

// ---- nesting guard ----
//
// protobuf-c unpacks nested messages by recursion without a depth limit, and
// AnyValue is the one recursive message of a profiles request: a small input
// of deeply nested kvlists would exhaust the stack. So before unpacking, the
// attribute values are walked with a bounded depth, counted as otlp.c counts
// it, and refused past the same limit.

enum nesting { NESTING_OK, NESTING_TOO_DEEP, NESTING_MALFORMED };

typedef enum nesting (*nested_fn)(struct pb_reader body, int depth);

// Calls fn on the body of every LEN field `wanted` of a message.
static enum nesting each_nested(struct pb_reader r, uint32_t wanted, nested_fn fn, int depth)
{
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            return NESTING_MALFORMED;
        if (field != wanted || wire != PB_LEN) {
            if (!pb_skip(&r, wire))
                return NESTING_MALFORMED;
            continue;
        }
        if (!pb_len(&r, &body))
            return NESTING_MALFORMED;
        enum nesting verdict = fn(body, depth);
        if (verdict != NESTING_OK)
            return verdict;
    }
    return NESTING_OK;
}

static enum nesting any_nesting(struct pb_reader any, int depth);

static enum nesting keyvalue_nesting(struct pb_reader keyvalue, int depth)
{
    return each_nested(keyvalue, 2, any_nesting, depth);
}

static enum nesting kvlist_nesting(struct pb_reader kvlist, int depth)
{
    // otlp.c counts kvlist_value and its attributes list: two levels.
    return each_nested(kvlist, 1, keyvalue_nesting, depth + 2);
}

static enum nesting array_nesting(struct pb_reader array, int depth)
{
    return each_nested(array, 1, any_nesting, depth + 1);
}

static enum nesting any_nesting(struct pb_reader any, int depth)
{
    if (depth > MAX_VALUE_DEPTH)
        return NESTING_TOO_DEEP;
    enum nesting verdict = each_nested(any, 5, array_nesting, depth);
    return verdict != NESTING_OK ? verdict : each_nested(any, 6, kvlist_nesting, depth);
}

// Resource attributes sit at depth 3 (resource_profiles, resource,
// attributes), scope attributes at 4, dictionary attribute values at 2.
static enum nesting resource_nesting(struct pb_reader resource, int depth)
{
    (void)depth;
    return each_nested(resource, 1, keyvalue_nesting, 3);
}

static enum nesting scope_nesting(struct pb_reader scope, int depth)
{
    (void)depth;
    return each_nested(scope, 3, keyvalue_nesting, 4);
}

static enum nesting scope_profiles_nesting(struct pb_reader scope_profiles, int depth)
{
    return each_nested(scope_profiles, 1, scope_nesting, depth);
}

static enum nesting resource_profiles_nesting(struct pb_reader rp, int depth)
{
    enum nesting verdict = each_nested(rp, 1, resource_nesting, depth);
    return verdict != NESTING_OK ? verdict : each_nested(rp, 2, scope_profiles_nesting, depth);
}

static enum nesting attribute_entry_nesting(struct pb_reader entry, int depth)
{
    (void)depth;
    return each_nested(entry, 2, any_nesting, 2);
}

static enum nesting dictionary_nesting(struct pb_reader dictionary, int depth)
{
    return each_nested(dictionary, 6, attribute_entry_nesting, depth);
}

static enum nesting request_nesting(const uint8_t *data, size_t len)
{
    struct pb_reader r = pb_reader_make(data, len);
    enum nesting verdict = each_nested(r, 1, resource_profiles_nesting, 0);
    return verdict != NESTING_OK ? verdict : each_nested(r, 2, dictionary_nesting, 0);
}

// ---- one converter per wire version ----

#define PBC_CAT_(a, b) a##b
#define PBC_CAT(a, b) PBC_CAT_(a, b)

#define PBC(name) Opentelemetry__Proto__Profiles__V1development__V18__##name
#define PBC_FN(name) name##_v18
#define PBC_UNPACK opentelemetry__proto__profiles__v1development__v1_8__profiles_data__unpack
#define PBC_SAMPLES sample
#define PBC_LINES line
#define PBC_PROFILE_ATTRIBUTES 12
#define PBC_HAS_COMMENTS 1
#include "decode/otlp_protobuf_c_version.h"
#undef PBC
#undef PBC_FN
#undef PBC_UNPACK
#undef PBC_SAMPLES
#undef PBC_LINES
#undef PBC_PROFILE_ATTRIBUTES
#undef PBC_HAS_COMMENTS

#define PBC(name) Opentelemetry__Proto__Profiles__V1development__V19__##name
#define PBC_FN(name) name##_v19
#define PBC_UNPACK opentelemetry__proto__profiles__v1development__v1_9__profiles_data__unpack
#define PBC_SAMPLES samples
#define PBC_LINES lines
#define PBC_PROFILE_ATTRIBUTES 11
#define PBC_HAS_COMMENTS 0
#include "decode/otlp_protobuf_c_version.h"
#undef PBC
#undef PBC_FN
#undef PBC_UNPACK
#undef PBC_SAMPLES
#undef PBC_LINES
#undef PBC_PROFILE_ATTRIBUTES
#undef PBC_HAS_COMMENTS

#define PBC(name) Opentelemetry__Proto__Profiles__V1development__##name
#define PBC_FN(name) name##_v110
#define PBC_UNPACK opentelemetry__proto__profiles__v1development__profiles_data__unpack
#define PBC_SAMPLES samples
#define PBC_LINES lines
#define PBC_PROFILE_ATTRIBUTES 11
#define PBC_HAS_COMMENTS 0
#include "decode/otlp_protobuf_c_version.h"
#undef PBC
#undef PBC_FN
#undef PBC_UNPACK
#undef PBC_SAMPLES
#undef PBC_LINES
#undef PBC_PROFILE_ATTRIBUTES
#undef PBC_HAS_COMMENTS

int ptm_decode_otlp_protobuf_c(struct ptm_model *model, const uint8_t *data, size_t len,
                               int version, struct ptm_error *err)
{
    struct pbc_converter c = {.m = model, .err = err, .version = version};
    if (version < 8 || version > 10)
        return ptm_error_set(err, PTM_EUNSUPPORTED, "OTLP profiles v1.%d has no protobuf-c decoder",
                             version);
    switch (request_nesting(data, len)) {
    case NESTING_TOO_DEEP:
        return ptm_error_set(err, PTM_EFORMAT,
                             "OTLP v1.%d request: attribute values nested deeper than %d levels",
                             version, MAX_VALUE_DEPTH);
    case NESTING_MALFORMED: return pbc_unpack_failed(&c);
    case NESTING_OK: break;
    }
    switch (version) {
    case 8: return decode_v18(&c, data, len);
    case 9: return decode_v19(&c, data, len);
    default: return decode_v110(&c, data, len);
    }
}
