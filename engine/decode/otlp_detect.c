// SPDX-License-Identifier: Apache-2.0
//
// Telling OTLP profiles wire versions apart. Nothing on the wire names the
// version, so this walks the request without building anything and looks for
// fields whose number or wire type only one version uses (the table in §2.5
// of the formats reference). Each observation narrows a set of candidate
// versions; older formats (v1.3 to v1.7) are recognised so they can be
// refused by name rather than decoded into nonsense.
#include <string.h>

#include "decode/decode.h"
#include "decode/wire.h"

#define V8 1u
#define V9 2u
#define V10 4u
#define V_ALL (V8 | V9 | V10)

struct scan {
    unsigned mask;
    int older;            // an unsupported older version found, or 0
    const char *older_evidence;
    const char *evidence; // the last observation that narrowed the mask
    uint32_t n_attributes; // dictionary attribute_table entries
    bool dictionary;
};

static void narrow(struct scan *s, unsigned allowed, const char *why)
{
    if ((s->mask & allowed) != s->mask && (s->mask & allowed) != 0) {
        s->mask &= allowed;
        s->evidence = why;
    }
}

static void found_older(struct scan *s, int version, const char *why)
{
    if (s->older == 0) {
        s->older = version;
        s->older_evidence = why;
    }
}

static bool settled(const struct scan *s)
{
    return s->older != 0 || (s->mask & (s->mask - 1)) == 0;
}

// Calls fn(ctx, field, wire, body) for each field of a message; body is the
// field's bytes for LEN fields. Stops at malformed bytes (the decoder will
// then say what is wrong) and when fn returns false.
typedef bool (*field_fn)(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                         uint64_t varint);

static void each_field(struct pb_reader r, field_fn fn, void *ctx)
{
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body = {NULL, NULL};
        uint64_t v = 0;
        if (!pb_tag(&r, &field, &wire))
            return;
        if (wire == PB_LEN) {
            if (!pb_len(&r, &body))
                return;
        } else if (wire == PB_VARINT) {
            if (!pb_varint(&r, &v))
                return;
        } else if (!pb_skip(&r, wire)) {
            return;
        }
        if (!fn(ctx, field, wire, &body, v))
            return;
    }
}

// ---- samples ----

struct sample_fields {
    unsigned seen;      // bit per field number 1..7
    size_t n2, n5;      // element counts of fields 2 and 5
    uint64_t max2;      // the largest element of field 2
    bool f2_unpacked;
};

static bool sample_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                         uint64_t v)
{
    struct sample_fields *f = ctx;
    if (field < 8)
        f->seen |= 1u << field;
    if (field == 3 || field == 4)
        f->seen |= (wire == PB_LEN ? 0x100u : 0x200u) << (field - 3) * 2;
    if (field == 2) {
        if (wire == PB_LEN) {
            size_t n = 0;
            struct pb_reader b = *body;
            while (!pb_done(&b)) {
                uint64_t x;
                if (!pb_varint(&b, &x))
                    break;
                if (x > f->max2)
                    f->max2 = x;
                n++;
            }
            f->n2 += n;
        } else if (wire == PB_VARINT) {
            f->n2++;
            if (v > f->max2)
                f->max2 = v;
        }
    }
    if (field == 5)
        f->n5 += wire == PB_LEN ? pb_left(body) / 8 : 1;
    return true;
}

// Sample field 3/4 wire type bits set by sample_field.
#define F3_LEN 0x100u
#define F3_VARINT 0x200u
#define F4_LEN 0x400u
#define F4_VARINT 0x800u

static void scan_sample(struct scan *s, struct pb_reader body)
{
    struct sample_fields f = {0};
    each_field(body, sample_field, &f);
    if (f.seen & F4_LEN)
        narrow(s, V10, "a sample's field 4 is length-delimited (v1.10 packed values)");
    if (f.seen & F3_VARINT)
        narrow(s, V10, "a sample's field 3 is a varint (v1.10 link_index)");
    if (f.seen & F3_LEN)
        narrow(s, V8 | V9, "a sample's field 3 is length-delimited (v1.8/v1.9 attribute_indices)");
    if (f.seen & F4_VARINT)
        narrow(s, V8 | V9, "a sample's field 4 is a varint (v1.8/v1.9 link_index)");
    if ((f.seen & (1u << 3 | 1u << 4)) != 0)
        return;
    // Only fields 1, 2 and 5: field 2 is values (v1.9) or attribute_indices
    // (v1.10). v1.9 requires as many values as timestamps; v1.10 forbids a
    // sample with neither values nor timestamps.
    if ((f.seen & 1u << 2) && !(f.seen & 1u << 5))
        narrow(s, V8 | V9, "a sample has field 2 but no timestamps (v1.8/v1.9 values)");
    else if ((f.seen & 1u << 2) && f.n2 != f.n5)
        narrow(s, V10, "a sample's field 2 and timestamps differ in length (v1.10 attribute_indices)");
    else if ((f.seen & 1u << 2) && s->dictionary && f.max2 >= s->n_attributes)
        narrow(s, V8 | V9, "a sample's field 2 exceeds the attribute table (v1.8/v1.9 values)");
}

// ---- profiles ----

static bool value_type_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                             uint64_t v)
{
    (void)wire, (void)body, (void)v;
    if (field == 3)
        narrow(ctx, V8, "a ValueType has aggregation_temporality (v1.8)");
    return true;
}

struct profile_scan {
    struct scan *s;
    unsigned field3_wires; // bit per wire type seen at field 3
    bool field10;
    // Before v1.8, without a dictionary: what tells v1.4/v1.5 (tables inside
    // the Profile) from v1.6 (tables in ProfilesData, which a request lacks).
    bool tables_inside;  // field 4 or 7 is a message (location/attribute table), or field 10 holds ""
    bool scalars_at_4_7; // field 4 or 7 is a varint (v1.6 time_nanos, period)
    bool field18, field22; // v1.4 attributes (KeyValue), v1.5 attribute_indices
};

static bool profile_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                          uint64_t v)
{
    struct profile_scan *ps = ctx;
    struct scan *s = ps->s;
    (void)v;
    switch (field) {
    case 1:
    case 5:
        if (wire == PB_LEN)
            each_field(*body, value_type_field, s);
        break;
    case 2:
        if (wire == PB_I64)
            found_older(s, 3, "profiles carry ProfileContainer start/end times");
        else if (wire == PB_LEN)
            scan_sample(s, *body);
        break;
    case 3: ps->field3_wires |= 1u << wire; break;
    case 7:
        if (wire == PB_VARINT)
            narrow(s, V8, "Profile field 7 is a varint (v1.8 comment_strindices)");
        break;
    case 8:
        narrow(s, wire == PB_LEN ? V8 : V9 | V10,
               wire == PB_LEN ? "Profile field 8 is bytes (v1.8 profile_id)"
                              : "Profile field 8 is a varint (v1.9+ dropped_attributes_count)");
        break;
    case 9:
        narrow(s, wire == PB_VARINT ? V8 : V9 | V10,
               wire == PB_VARINT ? "Profile field 9 is a varint (v1.8 dropped_attributes_count)"
                                 : "Profile field 9 is a string (v1.9+ original_payload_format)");
        break;
    case 10:
        ps->field10 |= wire == PB_LEN;
        ps->tables_inside |= wire == PB_LEN && pb_left(body) == 0; // string_table[0], ""
        break;
    case 11:
        if (wire == PB_VARINT)
            narrow(s, V9 | V10, "Profile field 11 is a varint (v1.9+ attribute_indices)");
        break;
    case 12: narrow(s, V8, "Profile has field 12 (v1.8 attribute_indices)"); break;
    case 18: ps->field18 |= wire == PB_LEN; break;
    case 22: ps->field22 = true; break;
    default: break;
    }
    if (field == 4 || field == 7) {
        ps->tables_inside |= wire == PB_LEN;
        ps->scalars_at_4_7 |= wire == PB_VARINT;
    }
    return s->older == 0;
}

// A request without a dictionary from before v1.7: v1.4 and v1.5 keep the
// tables inside each Profile (string_table at field 10, whose first entry is
// "", location_table at 4, attribute_table at 7) and differ in how the
// Profile's own attributes are given (v1.4: field 18, KeyValue; v1.5: field
// 22, indices); v1.6 moved the tables out (to ProfilesData, which an export
// request does not carry) and has plain numbers at 4 (time_nanos) and 7
// (period).
static void found_dictionaryless(struct scan *s, const struct profile_scan *ps, const char *why)
{
    if (ps->tables_inside && ps->field18)
        found_older(s, 4, "the Profile carries its own string table and KeyValue attributes (field 18)");
    else if (ps->tables_inside && ps->field22)
        found_older(s, 5, "the Profile carries its own string table and attribute_indices (field 22)");
    else if (ps->tables_inside)
        found_older(s, PTM_OTLP_V1_4_OR_5, "the Profile carries its own string and location tables");
    else if (ps->scalars_at_4_7)
        found_older(s, 6, "the request has no dictionary and Profile fields 4 and 7 are time_nanos and period");
    else
        found_older(s, PTM_OTLP_V1_4_TO_6, why);
}

// Field 3 of a Profile is time_unix_nano (fixed64) since v1.8; before, it
// was location_indices (v1.6, v1.7) or mapping_table (v1.4, v1.5), and
// without a dictionary the string table sat in field 10.
static void scan_profile(struct scan *s, struct pb_reader body)
{
    struct profile_scan ps = {.s = s};
    each_field(body, profile_field, &ps);
    if (s->older != 0 || (ps.field3_wires & 1u << PB_I64))
        return;
    if (ps.field3_wires != 0 && s->dictionary)
        found_older(s, 7, "Profile field 3 is location_indices, not time_unix_nano");
    else if (ps.field3_wires != 0)
        found_dictionaryless(s, &ps, "the request has no dictionary and Profile field 3 is not time_unix_nano");
    else if (ps.field10 && !s->dictionary)
        found_dictionaryless(s, &ps, "the request has no dictionary and its string table sits inside each Profile");
}

// ---- resources, scopes ----

static bool keyvalue_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                           uint64_t v)
{
    (void)wire, (void)body, (void)v;
    if (field == 3)
        narrow(ctx, V10, "an attribute uses key_strindex (v1.10)");
    return true;
}

static bool resource_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                           uint64_t v)
{
    (void)v;
    if (field == 1 && wire == PB_LEN)
        each_field(*body, keyvalue_field, ctx);
    return true;
}

static bool scope_profiles_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                                 uint64_t v)
{
    (void)v;
    if (field == 2 && wire == PB_LEN)
        scan_profile(ctx, *body);
    return !settled(ctx);
}

static bool resource_profiles_field(void *ctx, uint32_t field, uint32_t wire,
                                    struct pb_reader *body, uint64_t v)
{
    (void)v;
    if (field == 1 && wire == PB_LEN)
        each_field(*body, resource_field, ctx);
    if (field == 2 && wire == PB_LEN)
        each_field(*body, scope_profiles_field, ctx);
    return !settled(ctx);
}

// ---- dictionary ----

static bool attribute_entry_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                                  uint64_t v)
{
    (void)body, (void)v;
    struct scan *s = ctx;
    if (field == 1 && wire == PB_LEN)
        found_older(s, 7, "the dictionary's attribute_table holds KeyValue entries with string keys");
    return true;
}

static bool dictionary_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                             uint64_t v)
{
    (void)v;
    struct scan *s = ctx;
    if (field == 6 && wire == PB_LEN) {
        s->n_attributes++;
        each_field(*body, attribute_entry_field, s);
    }
    return s->older == 0;
}

static bool request_field(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                          uint64_t v)
{
    (void)v;
    struct scan *s = ctx;
    if (field == 2 && wire == PB_LEN) {
        s->dictionary = true;
        each_field(*body, dictionary_field, s);
    }
    return true;
}

static bool request_profiles(void *ctx, uint32_t field, uint32_t wire, struct pb_reader *body,
                             uint64_t v)
{
    (void)v;
    if (field == 1 && wire == PB_LEN)
        each_field(*body, resource_profiles_field, ctx);
    return !settled(ctx);
}

void ptm_otlp_detect(const uint8_t *data, size_t len, struct ptm_otlp_detection *out)
{
    struct scan s = {.mask = V_ALL, .evidence = "nothing in the request tells v1.8, v1.9 and v1.10 apart"};
    struct pb_reader r = pb_reader_make(data, len);
    // The dictionary first (it may come last on the wire): its attribute
    // table's size is a tie-breaker for samples.
    each_field(r, request_field, &s);
    if (s.older == 0)
        each_field(r, request_profiles, &s);
    memset(out, 0, sizeof *out);
    out->candidates = s.mask;
    if (s.older != 0) {
        out->unsupported = s.older;
        out->evidence = s.older_evidence;
        return;
    }
    out->version = s.mask & V10 ? 10 : s.mask & V9 ? 9 : 8;
    out->evidence = s.evidence;
}
