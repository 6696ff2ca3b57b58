// SPDX-License-Identifier: Apache-2.0
//
// A walk over protobuf bytes guided by the protobuf-c descriptors of the
// schema (merged_fields.h).
#include "merged_fields.h"

#include <protobuf-c/protobuf-c.h>

#include "decode/decode.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "pbc_json.h"
#include "perftools/profiles/profile.pb-c.h"
#include "util/arena.h"

#define MAX_FIELDS 64 // more than any message of these schemas has
#define MAX_DEPTH 64

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return true;
    }
    return false;
}

// Skip the value of wire type `wire`; false on malformed bytes.
static bool skip(const uint8_t **p, const uint8_t *end, uint32_t wire)
{
    uint64_t v;
    switch (wire) {
    case 0: return varint(p, end, &v);
    case 1: return end - *p >= 8 ? (*p += 8, true) : false;
    case 5: return end - *p >= 4 ? (*p += 4, true) : false;
    case 2:
        if (!varint(p, end, &v) || v > (uint64_t)(end - *p))
            return false;
        *p += v;
        return true;
    default: return false; // groups are not in these schemas
    }
}

// A field v1.10 added to common.proto (AnyValue.string_value_strindex,
// KeyValue.key_strindex), which every version's descriptors share: in an
// older version's request protobuf-c reads it, the decoders skip it.
static bool newer_field(const ProtobufCMessageDescriptor *desc, uint32_t field, int version)
{
    return version != 0 && version < 10 &&
           ((desc == &opentelemetry__proto__common__v1__any_value__descriptor && field == 8) ||
            (desc == &opentelemetry__proto__common__v1__key_value__descriptor && field == 3));
}

static bool merges(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end, int depth,
                   int version)
{
    if (depth > MAX_DEPTH || desc->n_fields > MAX_FIELDS)
        return false;
    bool seen[MAX_FIELDS] = {false};
    while (p < end) {
        uint64_t tag;
        if (!varint(&p, end, &tag) || tag >> 3 == 0 || tag >> 3 > UINT32_MAX)
            return false;
        uint32_t wire = tag & 7;
        if (newer_field(desc, (uint32_t)(tag >> 3), version))
            return true;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
        if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || wire != 2) {
            if (!skip(&p, end, wire))
                return false;
            continue;
        }
        uint64_t len;
        if (!varint(&p, end, &len) || len > (uint64_t)(end - p))
            return false;
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            size_t i = (size_t)(f - desc->fields);
            if (seen[i])
                return true;
            seen[i] = true;
        }
        if (merges(f->descriptor, p, p + len, depth + 1, version))
            return true;
        p += len;
    }
    return false;
}

bool fuzz_merges_messages(const uint8_t *data, size_t size, int otlp_version)
{
    const ProtobufCMessageDescriptor *desc =
        otlp_version == 0 ? &perftools__profiles__profile__descriptor : pbc_json_request_descriptor(otlp_version);
    if (desc == NULL)
        return false;
    static struct ptm_arena *arena;
    if (ptm_is_gzip(data, size)) {
        if (arena == NULL && (arena = ptm_arena_create(0)) == NULL)
            return true; // cannot tell: do not compare
        ptm_arena_reset(arena);
        struct ptm_error err;
        if (ptm_gunzip(arena, data, size, PTM_DEFAULT_MAX_DECOMPRESSED, &data, &size, &err) != 0)
            return false;
    }
    return merges(desc, data, data + size, 0, otlp_version);
}
