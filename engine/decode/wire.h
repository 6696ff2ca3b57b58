// SPDX-License-Identifier: Apache-2.0
//
// Reading the protobuf wire format by hand, for the decoders whose speed
// matters (OTLP profiles, pprof). Every read checks what remains before it
// trusts a length or a count from the input. Functions return true on
// success; on failure the reader is left where the bad bytes start, so the
// caller can say where.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum pb_wire_type {
    PB_VARINT = 0,
    PB_I64 = 1,
    PB_LEN = 2,
    PB_SGROUP = 3,
    PB_EGROUP = 4,
    PB_I32 = 5,
};

struct pb_reader {
    const uint8_t *p;
    const uint8_t *end;
};

static inline struct pb_reader pb_reader_make(const void *data, size_t len)
{
    return (struct pb_reader){(const uint8_t *)data, (const uint8_t *)data + len};
}

static inline size_t pb_left(const struct pb_reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool pb_done(const struct pb_reader *r)
{
    return r->p >= r->end;
}

// A varint near the end of the input: every byte is bounds-checked.
static inline bool pb_varint_slow(struct pb_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *p = r->p;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= r->end)
            return false;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            r->p = p;
            *out = v;
            return true;
        }
    }
    return false; // more than 10 bytes
}

// A varint that is known to end before the buffer does: a byte below 0x80
// follows within 10 bytes, or the buffer has at least 10 bytes left, so no
// byte needs its own bounds check. Returns the byte after it, or NULL for a
// varint longer than 10 bytes.
static inline const uint8_t *pb_varint_unchecked(const uint8_t *p, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *out = v;
            return p + i + 1;
        }
    }
    return NULL;
}

// A varint read as one 8-byte word: p must have 8 readable bytes. The
// continuation bits locate its last byte; its 7-bit groups are then packed
// together pairwise, in three steps, instead of one byte at a time.
static inline const uint8_t *pb_varint_word(const uint8_t *p, uint64_t *out)
{
    uint64_t x;
    memcpy(&x, p, 8); // little-endian hosts only, as pb_fixed64
    uint64_t last = ~x & 0x8080808080808080ull; // the clear continuation bits
    if (last == 0)
        return pb_varint_unchecked(p, out); // 9 or 10 bytes, or too long
    int bits = __builtin_ctzll(last) + 1;   // up to the end of the last byte
    if (bits < 64)
        x &= ((uint64_t)1 << bits) - 1;
    x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
    x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
    x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
    *out = x;
    return p + bits / 8;
}

/// Read a varint into *out.
static inline bool pb_varint(struct pb_reader *r, uint64_t *out)
{
    const uint8_t *p = r->p;
    if (p < r->end && p[0] < 0x80) {
        *out = p[0];
        r->p = p + 1;
        return true;
    }
    if (r->end - p < 10)
        return pb_varint_slow(r, out);
    p = pb_varint_word(p, out);
    if (p == NULL)
        return false;
    r->p = p;
    return true;
}

/// Read a field key: field number and wire type.
static inline bool pb_tag(struct pb_reader *r, uint32_t *field, uint32_t *wire)
{
    uint64_t key;
    if (!pb_varint(r, &key) || key > UINT32_MAX)
        return false;
    *field = (uint32_t)(key >> 3);
    *wire = (uint32_t)(key & 7);
    return *field != 0;
}

/// Read a length-delimited field's body as a sub-reader.
static inline bool pb_len(struct pb_reader *r, struct pb_reader *sub)
{
    uint64_t n;
    if (!pb_varint(r, &n) || n > pb_left(r))
        return false;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return true;
}

static inline bool pb_fixed64(struct pb_reader *r, uint64_t *out)
{
    if (pb_left(r) < 8)
        return false;
    memcpy(out, r->p, 8); // little-endian hosts only (x86_64, aarch64)
    r->p += 8;
    return true;
}

static inline bool pb_fixed32(struct pb_reader *r, uint32_t *out)
{
    if (pb_left(r) < 4)
        return false;
    memcpy(out, r->p, 4);
    r->p += 4;
    return true;
}

/// Skip a field of the given wire type. Groups are refused: no message in
/// the formats we read has one.
static inline bool pb_skip(struct pb_reader *r, uint32_t wire)
{
    uint64_t v;
    struct pb_reader sub;
    switch (wire) {
    case PB_VARINT: return pb_varint(r, &v);
    case PB_I64:
        if (pb_left(r) < 8)
            return false;
        r->p += 8;
        return true;
    case PB_LEN: return pb_len(r, &sub);
    case PB_I32:
        if (pb_left(r) < 4)
            return false;
        r->p += 4;
        return true;
    default: return false;
    }
}

/// Count the varints in a packed body (bytes without the continuation bit).
/// The body must end on a complete varint.
static inline bool pb_packed_varint_count(const struct pb_reader *r, size_t *count)
{
    size_t n = 0;
    for (const uint8_t *p = r->p; p < r->end; p++)
        n += *p < 0x80;
    if (r->p < r->end && r->end[-1] >= 0x80)
        return false;
    *count = n;
    return true;
}

/// Decode the packed varints of body into out, which has room for
/// pb_left(body) elements (a varint takes at least one byte), narrowing each
/// to int32 as protobuf does for int32 fields. On success *count is the
/// number decoded; on failure (a varint cut off or longer than 10 bytes)
/// body is left at the bad varint.
static inline bool pb_unpack_int32(struct pb_reader *body, int32_t *out, size_t *count)
{
    int32_t *o = out;
    const uint8_t *p = body->p;
    // A body that ends on a varint's last byte bounds every varint in it,
    // so the loop below needs no per-byte bounds checks. Otherwise a varint
    // is cut off: step to the first bad one, for the caller's message.
    if (p < body->end && body->end[-1] >= 0x80) {
        uint64_t v;
        while (pb_varint(body, &v))
            ;
        return false;
    }
    while (p < body->end) {
        uint64_t v;
        if (p[0] < 0x80) {
            *o++ = p[0];
            p++;
            continue;
        }
        if (p[1] < 0x80) { // p[0] continues, so p[1] is inside the body
            *o++ = (int32_t)((p[0] & 0x7f) | (uint32_t)p[1] << 7);
            p += 2;
            continue;
        }
        const uint8_t *next = pb_varint_unchecked(p, &v);
        if (next == NULL) {
            body->p = p;
            return false;
        }
        *o++ = (int32_t)v;
        p = next;
    }
    body->p = p;
    *count = (size_t)(o - out);
    return true;
}

/// The same for int64 fields.
static inline bool pb_unpack_int64(struct pb_reader *body, int64_t *out, size_t *count)
{
    int64_t *o = out;
    const uint8_t *p = body->p;
    if (p < body->end && body->end[-1] >= 0x80) { // as in pb_unpack_int32
        uint64_t v;
        while (pb_varint(body, &v))
            ;
        return false;
    }
    while (p < body->end) {
        uint64_t v;
        const uint8_t *next = pb_varint_unchecked(p, &v);
        if (next == NULL) {
            body->p = p;
            return false;
        }
        *o++ = (int64_t)v;
        p = next;
    }
    body->p = p;
    *count = (size_t)(o - out);
    return true;
}

/// The name of a wire type, for messages.
static inline const char *pb_wire_name(uint32_t wire)
{
    static const char *const names[] = {"varint", "fixed64", "length-delimited", "start-group",
                                        "end-group", "fixed32", "type 6", "type 7"};
    return names[wire & 7];
}
