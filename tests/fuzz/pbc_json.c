// SPDX-License-Identifier: Apache-2.0
//
// The OTLP JSON writer of pbc_json.h.
#include "pbc_json.h"

#include <math.h>
#include <string.h>

#include "otlp_v1_8/profiles.pb-c.h"
#include "otlp_v1_9/profiles.pb-c.h"
#include "opentelemetry/proto/profiles/v1development/profiles.pb-c.h"

static void put_name(struct ptm_strbuf *out, const char *name, bool snake)
{
    ptm_strbuf_putc(out, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '_' && !snake && p[1] != '\0') {
            p++;
            ptm_strbuf_putc(out, (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
        } else {
            ptm_strbuf_putc(out, *p);
        }
    }
    ptm_strbuf_puts(out, "\":");
}

static void put_base64(struct ptm_strbuf *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ptm_strbuf_putc(out, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        ptm_strbuf_putc(out, digits[v >> 18 & 63]);
        ptm_strbuf_putc(out, digits[v >> 12 & 63]);
        ptm_strbuf_putc(out, i + 1 < n ? digits[v >> 6 & 63] : '=');
        ptm_strbuf_putc(out, i + 2 < n ? digits[v & 63] : '=');
    }
    ptm_strbuf_putc(out, '"');
}

// The size of the id a bytes field holds (trace, span, profile), or 0.
static size_t id_size(const char *name)
{
    if (strcmp(name, "trace_id") == 0 || strcmp(name, "profile_id") == 0)
        return 16;
    return strcmp(name, "span_id") == 0 ? 8 : 0;
}

struct writer {
    struct ptm_strbuf *out;
    bool snake;
    bool v110; // write common.proto's v1.10 fields
};

static void put_message(const struct writer *w, const ProtobufCMessage *m);

// One value of field f stored at p.
static void put_value(const struct writer *w, const ProtobufCFieldDescriptor *f, const void *p)
{
    struct ptm_strbuf *out = w->out;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: ptm_strbuf_printf(out, "%d", *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: ptm_strbuf_printf(out, "%u", *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: ptm_strbuf_printf(out, "\"%lld\"", (long long)*(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        ptm_strbuf_printf(out, "\"%llu\"", (unsigned long long)*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT: ptm_strbuf_printf(out, "%.9g", (double)*(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d = *(const double *)p;
        if (isnan(d))
            ptm_strbuf_puts(out, "\"NaN\"");
        else if (isinf(d))
            ptm_strbuf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        else
            ptm_strbuf_printf(out, "%.17g", d);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL: ptm_strbuf_puts(out, *(const protobuf_c_boolean *)p ? "true" : "false"); break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        ptm_strbuf_json_string(out, s ? s : "", s ? strlen(s) : 0);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        if (b->len != 0 && b->len == id_size(f->name)) {
            ptm_strbuf_putc(out, '"');
            for (size_t i = 0; i < b->len; i++)
                ptm_strbuf_printf(out, "%02x", b->data[i]);
            ptm_strbuf_putc(out, '"');
        } else {
            put_base64(out, b->data, b->len);
        }
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: put_message(w, *(ProtobufCMessage *const *)p); break;
    }
}

static size_t value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    default: return 4;
    }
}

// Whether a singular field holds something other than its proto3 default.
static bool is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const void *p)
{
    const char *base = (const char *)m;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
        f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s != NULL && s[0] != '\0';
    }
    case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)p != NULL;
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len != 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(p, zero, value_size(f->type)) != 0;
    }
    }
}

// The fields of common.proto (KeyValue, AnyValue) that only v1.10 has.
static bool v110_only(const ProtobufCMessageDescriptor *d, const char *name)
{
    return strcmp(d->package_name, "opentelemetry.proto.common.v1") == 0 &&
           (strcmp(name, "key_strindex") == 0 || strcmp(name, "string_value_strindex") == 0);
}

static void put_message(const struct writer *w, const ProtobufCMessage *m)
{
    struct ptm_strbuf *out = w->out;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    bool first = true;
    ptm_strbuf_putc(out, '{');
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = base + f->offset;
        if (!w->v110 && v110_only(d, f->name))
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            if (n == 0)
                continue;
            if (!first)
                ptm_strbuf_putc(out, ',');
            first = false;
            put_name(out, f->name, w->snake);
            ptm_strbuf_putc(out, '[');
            const char *items = *(char *const *)p;
            for (size_t k = 0; k < n; k++) {
                if (k)
                    ptm_strbuf_putc(out, ',');
                put_value(w, f, items + k * value_size(f->type));
            }
            ptm_strbuf_putc(out, ']');
            continue;
        }
        if (!is_set(m, f, p))
            continue;
        if (!first)
            ptm_strbuf_putc(out, ',');
        first = false;
        put_name(out, f->name, w->snake);
        put_value(w, f, p);
    }
    ptm_strbuf_putc(out, '}');
}

const ProtobufCMessageDescriptor *pbc_json_request_descriptor(int version)
{
    switch (version) {
    case 8: return &opentelemetry__proto__profiles__v1development__v1_8__profiles_data__descriptor;
    case 9: return &opentelemetry__proto__profiles__v1development__v1_9__profiles_data__descriptor;
    case 10:
    case 11: return &opentelemetry__proto__profiles__v1development__profiles_data__descriptor;
    default: return NULL;
    }
}

void pbc_json_write(struct ptm_strbuf *out, const ProtobufCMessage *m, bool snake, int version)
{
    struct writer w = {out, snake, version >= 10};
    put_message(&w, m);
}
