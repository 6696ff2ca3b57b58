// SPDX-License-Identifier: Apache-2.0
//
// The pprof decoders (engine/decode/pprof.c by hand, pprof_protobuf_c.c with
// protobuf-c): a hand-described profile built with the protobuf-c generated
// code, written out packed (by protobuf-c) and unpacked or in an unusual
// field order (by the small encoder below), decoded with both decoders and
// checked against values counted by hand; both models must be identical.
// Then the errors, with their exact messages, every truncation of the input,
// and, when PTM_TESTDATA is there, every real pprof file of the test data.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "decode/decode.h"
#include "model_compare.h"
#include "perftools/profiles/profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

// ---- the hand-described profile ----

enum {
    S_EMPTY, S_SAMPLES, S_COUNT, S_CPU, S_NANOS, S_ALLOC, S_BYTES, S_MAIN, S_WORK, S_FIB, S_HELPER,
    S_INLINED, S_FILE, S_BIN, S_BUILD, S_LIBC, S_THREAD, S_WORKER, S_REQUEST, S_DROPPED, S_COMMENT1,
    S_COMMENT2, S_DROP, S_SYSWORK, N_STRINGS
};

static const char *const STRINGS[N_STRINGS] = {
    "", "samples", "count", "cpu", "nanoseconds", "alloc_space", "bytes", "main", "work", "fib",
    "helper", "inlined_add", "app.c", "/bin/app", "abc123", "/lib/libc.so", "thread", "worker",
    "request_id", "dropped", "hand-made", "second comment", "runtime\\..*", "_Z4workv",
};

// Functions, ids deliberately arbitrary: position -> model index + 1.
#define N_FUNCTIONS 5
static const struct {
    uint64_t id;
    int64_t name, system_name, filename, start_line;
} FUNCTIONS[N_FUNCTIONS] = {
    {1000, S_MAIN, 0, S_FILE, 1},     // model function 1
    {77, S_WORK, S_SYSWORK, S_FILE, 15}, // 2
    {5, S_FIB, 0, S_FILE, 25},        // 3, recursive
    {42, S_HELPER, 0, S_FILE, 40},    // 4, called from main and from work
    {9, S_INLINED, 0, S_FILE, 4},     // 5, inlined into helper
};

#define N_MAPPINGS 2
static const struct {
    uint64_t id, start, limit, offset;
    int64_t filename, build_id;
} MAPPINGS[N_MAPPINGS] = {
    {300, 0x400000, 0x500000, 0, S_BIN, S_BUILD},
    {7, 0x7f0000000000, 0x7f0000100000, 0x1000, S_LIBC, 0},
};

#define N_LOCATIONS 6
#define N_LINES 6
static const struct {
    uint64_t id, mapping_id, address;
    size_t n_lines;
    struct {
        uint64_t function_id;
        int64_t line, column;
    } lines[2];
} LOCATIONS[N_LOCATIONS] = {
    {10, 300, 0x401000, 1, {{1000, 10, 0}}},           // model location 1: main
    {20, 300, 0x402000, 1, {{77, 20, 0}}},             // 2: work
    {30, 300, 0x403000, 1, {{5, 30, 7}}},              // 3: fib
    {40, 300, 0x404000, 2, {{9, 5, 0}, {42, 41, 0}}},  // 4: inlined_add inlined into helper
    {50, 7, 0x7f0000001234, 0, {{0, 0, 0}}},           // 5: in libc, no lines
    {60, 300, 0x404100, 1, {{42, 42, 0}}},             // 6: helper, another call site
};

#define N_SAMPLES 6
#define N_TYPES 3
#define N_LABELS 9
static const struct {
    size_t n_ids;
    uint64_t ids[5]; // leaf first
    int64_t values[N_TYPES];
    size_t n_labels;
    struct {
        int64_t key, str, num, num_unit;
    } labels[2];
} SAMPLES[N_SAMPLES] = {
    {5, {30, 30, 30, 20, 10}, {3, 30000000, 0}, 1, {{S_THREAD, S_WORKER, 0, 0}}},
    {3, {40, 20, 10}, {2, 20000000, 1024}, 2, {{S_THREAD, S_WORKER, 0, 0}, {S_BYTES, 0, 1024, S_BYTES}}},
    {2, {60, 10}, {1, 10000000, 0}, 1, {{S_THREAD, S_MAIN, 0, 0}}},
    {3, {50, 40, 10}, {4, 40000000, 4096}, 2, {{S_THREAD, S_MAIN, 0, 0}, {S_BYTES, 0, 4096, S_BYTES}}},
    {4, {30, 30, 20, 10}, {5, 50000000, 0}, 1, {{S_DROPPED, 0, 0, 0}}}, // a label pprof drops
    {5, {30, 30, 30, 20, 10}, {1, 10000000, 0}, 2, {{S_THREAD, S_MAIN, 0, 0}, {S_REQUEST, 0, 7, 0}}},
};

// Hand-counted from the tables above.
#define TOTAL_SAMPLES 16       // 3+2+1+4+5+1
#define TOTAL_CPU 160000000    // 30+20+10+40+50+10 million
#define TOTAL_ALLOC 5120       // 1024+4096
#define TIME_NANOS 1700000000123456789
#define DURATION_NANOS 2000000000
#define PERIOD 10000000

// protobuf-c messages of the profile above; tests change them before packing.
struct fixture {
    Profile profile;
    ValueType sample_types[N_TYPES], period_type;
    ValueType *sample_type_ptrs[N_TYPES];
    Function functions[N_FUNCTIONS];
    Function *function_ptrs[N_FUNCTIONS];
    Mapping mappings[N_MAPPINGS];
    Mapping *mapping_ptrs[N_MAPPINGS];
    Line lines[N_LINES];
    Line *line_ptrs[N_LINES];
    Location locations[N_LOCATIONS];
    Location *location_ptrs[N_LOCATIONS];
    Label labels[N_LABELS];
    Label *label_ptrs[N_LABELS];
    Sample samples[N_SAMPLES];
    Sample *sample_ptrs[N_SAMPLES];
    uint64_t location_ids[N_SAMPLES][5];
    int64_t values[N_SAMPLES][N_TYPES];
    ProtobufCBinaryData strings[N_STRINGS];
    int64_t comments[2];
};

static void fixture_dictionary(struct fixture *f)
{
    for (int i = 0; i < N_STRINGS; i++)
        f->strings[i] = (ProtobufCBinaryData){strlen(STRINGS[i]), (uint8_t *)STRINGS[i]};
    static const int64_t types[N_TYPES][2] = {{S_SAMPLES, S_COUNT}, {S_CPU, S_NANOS}, {S_ALLOC, S_BYTES}};
    for (int i = 0; i < N_TYPES; i++) {
        perftools__profiles__value_type__init(&f->sample_types[i]);
        f->sample_types[i].type = types[i][0];
        f->sample_types[i].unit = types[i][1];
        f->sample_type_ptrs[i] = &f->sample_types[i];
    }
    for (int i = 0; i < N_FUNCTIONS; i++) {
        Function *fn = &f->functions[i];
        perftools__profiles__function__init(fn);
        fn->id = FUNCTIONS[i].id;
        fn->name = FUNCTIONS[i].name;
        fn->system_name = FUNCTIONS[i].system_name;
        fn->filename = FUNCTIONS[i].filename;
        fn->start_line = FUNCTIONS[i].start_line;
        f->function_ptrs[i] = fn;
    }
    for (int i = 0; i < N_MAPPINGS; i++) {
        Mapping *mp = &f->mappings[i];
        perftools__profiles__mapping__init(mp);
        mp->id = MAPPINGS[i].id;
        mp->memory_start = MAPPINGS[i].start;
        mp->memory_limit = MAPPINGS[i].limit;
        mp->file_offset = MAPPINGS[i].offset;
        mp->filename = MAPPINGS[i].filename;
        mp->build_id = MAPPINGS[i].build_id;
        mp->has_functions = 1;
        f->mapping_ptrs[i] = mp;
    }
}

static void fixture_locations(struct fixture *f)
{
    size_t line = 0;
    for (int i = 0; i < N_LOCATIONS; i++) {
        Location *loc = &f->locations[i];
        perftools__profiles__location__init(loc);
        loc->id = LOCATIONS[i].id;
        loc->mapping_id = LOCATIONS[i].mapping_id;
        loc->address = LOCATIONS[i].address;
        loc->n_line = LOCATIONS[i].n_lines;
        loc->line = &f->line_ptrs[line];
        for (size_t l = 0; l < LOCATIONS[i].n_lines; l++, line++) {
            perftools__profiles__line__init(&f->lines[line]);
            f->lines[line].function_id = LOCATIONS[i].lines[l].function_id;
            f->lines[line].line = LOCATIONS[i].lines[l].line;
            f->lines[line].column = LOCATIONS[i].lines[l].column;
            f->line_ptrs[line] = &f->lines[line];
        }
        f->location_ptrs[i] = loc;
    }
}

static void fixture_samples(struct fixture *f)
{
    size_t label = 0;
    for (int i = 0; i < N_SAMPLES; i++) {
        Sample *s = &f->samples[i];
        perftools__profiles__sample__init(s);
        memcpy(f->location_ids[i], SAMPLES[i].ids, sizeof SAMPLES[i].ids);
        memcpy(f->values[i], SAMPLES[i].values, sizeof SAMPLES[i].values);
        s->n_location_id = SAMPLES[i].n_ids;
        s->location_id = f->location_ids[i];
        s->n_value = N_TYPES;
        s->value = f->values[i];
        s->n_label = SAMPLES[i].n_labels;
        s->label = &f->label_ptrs[label];
        for (size_t l = 0; l < SAMPLES[i].n_labels; l++, label++) {
            Label *lb = &f->labels[label];
            perftools__profiles__label__init(lb);
            lb->key = SAMPLES[i].labels[l].key;
            lb->str = SAMPLES[i].labels[l].str;
            lb->num = SAMPLES[i].labels[l].num;
            lb->num_unit = SAMPLES[i].labels[l].num_unit;
            f->label_ptrs[label] = lb;
        }
        f->sample_ptrs[i] = s;
    }
}

static struct fixture *fixture_create(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fixture_dictionary(f);
    fixture_locations(f);
    fixture_samples(f);
    perftools__profiles__value_type__init(&f->period_type);
    f->period_type.type = S_CPU;
    f->period_type.unit = S_NANOS;
    f->comments[0] = S_COMMENT1;
    f->comments[1] = S_COMMENT2;
    Profile *p = &f->profile;
    perftools__profiles__profile__init(p);
    p->n_sample_type = N_TYPES;
    p->sample_type = f->sample_type_ptrs;
    p->n_sample = N_SAMPLES;
    p->sample = f->sample_ptrs;
    p->n_mapping = N_MAPPINGS;
    p->mapping = f->mapping_ptrs;
    p->n_location = N_LOCATIONS;
    p->location = f->location_ptrs;
    p->n_function = N_FUNCTIONS;
    p->function = f->function_ptrs;
    p->n_string_table = N_STRINGS;
    p->string_table = f->strings;
    p->drop_frames = S_DROP;
    p->time_nanos = TIME_NANOS;
    p->duration_nanos = DURATION_NANOS;
    p->period_type = &f->period_type;
    p->period = PERIOD;
    p->n_comment = 2;
    p->comment = f->comments;
    p->default_sample_type = S_CPU;
    return f;
}

// ---- byte buffers and a small protobuf encoder ----

struct buf {
    uint8_t *data;
    size_t len, cap;
};

static void put_bytes(struct buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    if (len != 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_varint(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        v >>= 7;
    } while (v != 0);
    put_bytes(b, tmp, n);
}

static void put_tag(struct buf *b, uint32_t field, uint32_t wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

// A scalar field, left out when zero as proto3 does.
static void put_scalar(struct buf *b, uint32_t field, uint64_t v)
{
    if (v != 0) {
        put_tag(b, field, 0);
        put_varint(b, v);
    }
}

static void put_message(struct buf *b, uint32_t field, const struct buf *body)
{
    put_tag(b, field, 2);
    put_varint(b, body->len);
    put_bytes(b, body->data, body->len);
}

// A repeated varint field, packed (one length-delimited field) or not.
static void put_repeated(struct buf *b, uint32_t field, const uint64_t *v, size_t n, bool packed)
{
    if (n == 0)
        return;
    if (!packed) {
        for (size_t i = 0; i < n; i++) {
            put_tag(b, field, 0);
            put_varint(b, v[i]);
        }
        return;
    }
    struct buf body = {0};
    for (size_t i = 0; i < n; i++)
        put_varint(&body, v[i]);
    put_message(b, field, &body);
    free(body.data);
}

static void put_value_type(struct buf *b, uint32_t field, const ValueType *vt)
{
    struct buf body = {0};
    put_scalar(&body, 1, (uint64_t)vt->type);
    put_scalar(&body, 2, (uint64_t)vt->unit);
    put_message(b, field, &body);
    free(body.data);
}

// How encode_profile writes: packed repeated fields or not; fields in the
// order the Go runtime uses or shuffled (samples first, strings last, a
// message's id after its other fields, labels between location ids).
struct encoding {
    bool packed;
    bool unusual;
};

static void put_label(struct buf *b, const Label *l)
{
    struct buf body = {0};
    put_scalar(&body, 1, (uint64_t)l->key);
    put_scalar(&body, 2, (uint64_t)l->str);
    put_scalar(&body, 3, (uint64_t)l->num);
    put_scalar(&body, 4, (uint64_t)l->num_unit);
    put_message(b, 3, &body);
    free(body.data);
}

static void put_sample(struct buf *b, const Sample *s, struct encoding e)
{
    struct buf body = {0};
    const uint64_t *values = (const uint64_t *)s->value;
    if (!e.unusual) {
        put_repeated(&body, 1, s->location_id, s->n_location_id, e.packed);
        put_repeated(&body, 2, values, s->n_value, e.packed);
        for (size_t i = 0; i < s->n_label; i++)
            put_label(&body, s->label[i]);
    } else {
        // values, the first location id, the labels, the other ids
        put_repeated(&body, 2, values, s->n_value, e.packed);
        size_t first = e.packed ? 0 : s->n_location_id < 1 ? s->n_location_id : 1;
        put_repeated(&body, 1, s->location_id, first, false);
        for (size_t i = 0; i < s->n_label; i++)
            put_label(&body, s->label[i]);
        put_repeated(&body, 1, s->location_id + first, s->n_location_id - first, e.packed);
    }
    put_message(b, 2, &body);
    free(body.data);
}

static void put_location(struct buf *b, const Location *loc, struct encoding e)
{
    struct buf body = {0};
    if (!e.unusual) {
        put_scalar(&body, 1, loc->id);
        put_scalar(&body, 2, loc->mapping_id);
        put_scalar(&body, 3, loc->address);
    }
    for (size_t i = 0; i < loc->n_line; i++) {
        const Line *l = loc->line[i];
        struct buf line = {0};
        if (e.unusual) { // column, line, function_id
            put_scalar(&line, 3, (uint64_t)l->column);
            put_scalar(&line, 2, (uint64_t)l->line);
            put_scalar(&line, 1, l->function_id);
        } else {
            put_scalar(&line, 1, l->function_id);
            put_scalar(&line, 2, (uint64_t)l->line);
            put_scalar(&line, 3, (uint64_t)l->column);
        }
        put_message(&body, 4, &line);
        free(line.data);
    }
    if (e.unusual) {
        put_scalar(&body, 3, loc->address);
        put_scalar(&body, 2, loc->mapping_id);
        put_scalar(&body, 1, loc->id);
    }
    put_message(b, 4, &body);
    free(body.data);
}

static void put_function(struct buf *b, const Function *f, struct encoding e)
{
    struct buf body = {0};
    if (!e.unusual)
        put_scalar(&body, 1, f->id);
    put_scalar(&body, 2, (uint64_t)f->name);
    put_scalar(&body, 3, (uint64_t)f->system_name);
    put_scalar(&body, 4, (uint64_t)f->filename);
    put_scalar(&body, 5, (uint64_t)f->start_line);
    if (e.unusual)
        put_scalar(&body, 1, f->id);
    put_message(b, 5, &body);
    free(body.data);
}

static void put_mapping(struct buf *b, const Mapping *m)
{
    struct buf body = {0};
    put_scalar(&body, 1, m->id);
    put_scalar(&body, 2, m->memory_start);
    put_scalar(&body, 3, m->memory_limit);
    put_scalar(&body, 4, m->file_offset);
    put_scalar(&body, 5, (uint64_t)m->filename);
    put_scalar(&body, 6, (uint64_t)m->build_id);
    put_scalar(&body, 7, m->has_functions);
    put_message(b, 3, &body);
    free(body.data);
}

static void put_strings(struct buf *b, const Profile *p)
{
    for (size_t i = 0; i < p->n_string_table; i++) {
        put_tag(b, 6, 2);
        put_varint(b, p->string_table[i].len);
        put_bytes(b, p->string_table[i].data, p->string_table[i].len);
    }
}

static void put_header(struct buf *b, const Profile *p)
{
    put_scalar(b, 7, (uint64_t)p->drop_frames);
    put_scalar(b, 8, (uint64_t)p->keep_frames);
    put_scalar(b, 10, (uint64_t)p->duration_nanos);
    put_scalar(b, 12, (uint64_t)p->period);
    put_scalar(b, 14, (uint64_t)p->default_sample_type);
}

static void encode_canonical(struct buf *b, const Profile *p, struct encoding e)
{
    for (size_t i = 0; i < p->n_sample_type; i++)
        put_value_type(b, 1, p->sample_type[i]);
    for (size_t i = 0; i < p->n_sample; i++)
        put_sample(b, p->sample[i], e);
    for (size_t i = 0; i < p->n_mapping; i++)
        put_mapping(b, p->mapping[i]);
    for (size_t i = 0; i < p->n_location; i++)
        put_location(b, p->location[i], e);
    for (size_t i = 0; i < p->n_function; i++)
        put_function(b, p->function[i], e);
    put_strings(b, p);
    put_scalar(b, 9, (uint64_t)p->time_nanos);
    put_value_type(b, 11, p->period_type);
    put_header(b, p);
    put_repeated(b, 13, (const uint64_t *)p->comment, p->n_comment, e.packed);
}

static void encode_unusual(struct buf *b, const Profile *p, struct encoding e)
{
    put_scalar(b, 9, (uint64_t)p->time_nanos);
    for (size_t i = 0; i < p->n_sample; i++)
        put_sample(b, p->sample[i], e);
    put_repeated(b, 13, (const uint64_t *)p->comment, 1, e.packed);
    for (size_t i = 0; i < p->n_location; i++)
        put_location(b, p->location[i], e);
    put_value_type(b, 11, p->period_type);
    for (size_t i = 0; i < p->n_function; i++)
        put_function(b, p->function[i], e);
    for (size_t i = 0; i < p->n_sample_type; i++)
        put_value_type(b, 1, p->sample_type[i]);
    for (size_t i = 0; i < p->n_mapping; i++)
        put_mapping(b, p->mapping[i]);
    put_repeated(b, 13, (const uint64_t *)p->comment + 1, p->n_comment - 1, e.packed);
    put_header(b, p);
    put_strings(b, p);
}

static struct buf encode_profile(const Profile *p, struct encoding e)
{
    struct buf b = {0};
    if (e.unusual)
        encode_unusual(&b, p, e);
    else
        encode_canonical(&b, p, e);
    return b;
}

static struct buf pack_profile(const Profile *p)
{
    struct buf b = {0};
    b.len = b.cap = perftools__profiles__profile__get_packed_size(p);
    b.data = malloc(b.len ? b.len : 1);
    assert_non_null(b.data);
    assert_int_equal(perftools__profiles__profile__pack(p, b.data), b.len);
    return b;
}

static struct buf gzip_bytes(const struct buf *in)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    struct buf out = {0};
    out.cap = deflateBound(&zs, in->len) + 32;
    out.data = malloc(out.cap);
    zs.next_in = in->data;
    zs.avail_in = (uInt)in->len;
    zs.next_out = out.data;
    zs.avail_out = (uInt)out.cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

// ---- decoding and comparing ----

static int decode_into(struct ptm_model *m, const struct buf *in, enum ptm_decoder decoder,
                       enum ptm_format format, struct ptm_error *err)
{
    struct ptm_decode_options opts = {.format = format, .decoder = decoder};
    memset(err, 0, sizeof *err);
    return ptm_decode(m, in->data, in->len, &opts, err);
}

static struct ptm_model *decode_ok(const struct buf *in, enum ptm_decoder decoder)
{
    struct ptm_model *m = ptm_model_create();
    assert_non_null(m);
    struct ptm_error err;
    int rc = decode_into(m, in, decoder, PTM_FORMAT_AUTO, &err);
    if (rc != 0)
        fail_msg("decoder %d: %s", (int)decoder, err.message);
    return m;
}

// Both models hold the same tables, entry by entry, laid out alike.
static void assert_models_equal(const struct ptm_model *a, const struct ptm_model *b)
{
    char why[512];
    if (model_compare(a, b, MODEL_COMPARE_LAYOUT, why, sizeof why) != 0)
        fail_msg("models differ: %s", why);
}

// ---- what the model says ----

static int64_t profile_total(const struct ptm_model *m, uint32_t profile)
{
    const struct ptm_profile *p = &m->profiles.data[profile];
    int64_t total = 0;
    for (uint32_t i = 0; i < p->samples.len; i++)
        total += ptm_sample_weight(m, p, &m->samples.data[p->samples.off + i]);
    return total;
}

static bool function_named(const struct ptm_model *m, int32_t fn, const char *name)
{
    struct ptm_str s = fn == 0 ? (struct ptm_str){"", 0} : ptm_model_string(m, m->functions.data[fn].name);
    return s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0;
}

// Sum of the weights of the samples whose leaf function is `name` ("" for
// a leaf without lines).
static int64_t self_of(const struct ptm_model *m, uint32_t profile, const char *name)
{
    const struct ptm_profile *p = &m->profiles.data[profile];
    int64_t sum = 0;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const struct ptm_sample *s = &m->samples.data[p->samples.off + i];
        if (function_named(m, ptm_model_leaf_function(m, s->stack), name))
            sum += ptm_sample_weight(m, p, s);
    }
    return sum;
}

// Sum of the weights of the samples with `name` anywhere on the stack,
// inlined frames included, once per sample.
static int64_t cum_of(const struct ptm_model *m, uint32_t profile, const char *name)
{
    const struct ptm_profile *p = &m->profiles.data[profile];
    int64_t sum = 0;
    for (uint32_t i = 0; i < p->samples.len; i++) {
        const struct ptm_sample *s = &m->samples.data[p->samples.off + i];
        const struct ptm_stack *st = &m->stacks.data[s->stack];
        bool found = false;
        for (uint32_t k = 0; k < st->locations.len && !found; k++) {
            const struct ptm_location *loc = &m->locations.data[m->indices.data[st->locations.off + k]];
            for (uint32_t l = 0; l < loc->lines.len && !found; l++)
                found = function_named(m, m->lines.data[loc->lines.off + l].function, name);
        }
        if (found)
            sum += ptm_sample_weight(m, p, s);
    }
    return sum;
}

static void assert_str(struct ptm_str s, const char *want)
{
    if (s.len != strlen(want) || memcmp(s.ptr, want, s.len) != 0)
        fail_msg("string \"%.*s\" is not \"%s\"", (int)s.len, s.ptr, want);
}

static void assert_list(const struct ptm_model *m, struct ptm_range r, const int32_t *want, uint32_t n)
{
    assert_int_equal(r.len, n);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(m->indices.data[r.off + i], want[i]);
}

// ---- the hand-counted model ----

static void check_fixture_profiles(const struct ptm_model *m)
{
    assert_int_equal(m->batches.len, 1);
    assert_int_equal(m->batches.data[0].format, PTM_FORMAT_PPROF);
    assert_int_equal(m->profiles.len, N_TYPES);
    for (uint32_t i = 0; i < N_TYPES; i++) {
        const struct ptm_profile *p = &m->profiles.data[i];
        assert_int_equal(p->value_column, i);
        assert_int_equal(p->samples.off, 0);
        assert_int_equal(p->samples.len, N_SAMPLES);
        assert_int_equal(p->period_type.type, S_CPU);
        assert_int_equal(p->period_type.unit, S_NANOS);
        assert_int_equal(p->period, PERIOD);
        assert_true(p->time_unix_nano == TIME_NANOS);
        assert_true(p->duration_nano == DURATION_NANOS);
        assert_int_equal(p->drop_frames, S_DROP);
        assert_int_equal(p->keep_frames, 0);
        assert_list(m, p->comments, (const int32_t[]){S_COMMENT1, S_COMMENT2}, 2);
        assert_int_equal(p->resource, 0);
        assert_int_equal(p->scope, 0);
    }
    assert_int_equal(m->profiles.data[0].sample_type.type, S_SAMPLES);
    assert_int_equal(m->profiles.data[1].sample_type.unit, S_NANOS);
    assert_int_equal(m->profiles.data[2].sample_type.type, S_ALLOC);
    assert_int_equal(profile_total(m, 0), TOTAL_SAMPLES);
    assert_int_equal(profile_total(m, 1), TOTAL_CPU);
    assert_int_equal(profile_total(m, 2), TOTAL_ALLOC);
    assert_int_equal(m->resources.len, 1);
    assert_int_equal(m->resources.data[0].attributes.len, 0);
    assert_int_equal(m->scopes.len, 1);
    assert_int_equal(m->links.len, 1);
}

static void check_fixture_dictionary(const struct ptm_model *m)
{
    assert_int_equal(m->strings.len, N_STRINGS);
    assert_str(m->strings.data[S_SYSWORK], "_Z4workv");
    assert_int_equal(m->functions.len, N_FUNCTIONS + 1);
    assert_int_equal(m->functions.data[0].name, 0);
    assert_int_equal(m->functions.data[2].name, S_WORK);
    assert_int_equal(m->functions.data[2].system_name, S_SYSWORK);
    assert_int_equal(m->functions.data[3].start_line, 25);
    assert_int_equal(m->mappings.len, N_MAPPINGS + 1);
    assert_int_equal(m->mappings.data[1].build_id, S_BUILD);
    assert_int_equal(m->mappings.data[1].filename, S_BIN);
    assert_true(m->mappings.data[2].file_offset == 0x1000);
    assert_int_equal(m->locations.len, N_LOCATIONS + 1);
    // location id 40: inlined_add (function 5) inlined into helper (4)
    const struct ptm_location *inl = &m->locations.data[4];
    assert_int_equal(inl->mapping, 1);
    assert_int_equal(inl->lines.len, 2);
    assert_int_equal(m->lines.data[inl->lines.off].function, 5);
    assert_int_equal(m->lines.data[inl->lines.off].line, 5);
    assert_int_equal(m->lines.data[inl->lines.off + 1].function, 4);
    assert_int_equal(m->lines.data[inl->lines.off + 1].line, 41);
    // location id 50: in libc (mapping 2), no lines
    assert_int_equal(m->locations.data[5].mapping, 2);
    assert_int_equal(m->locations.data[5].lines.len, 0);
    assert_true(m->locations.data[5].address == 0x7f0000001234);
    assert_int_equal(m->lines.data[m->locations.data[3].lines.off].column, 7);
    assert_int_equal(m->lines.len, N_LINES);
}

static void check_fixture_samples(const struct ptm_model *m)
{
    // Samples 0 and 5 share their stack: 5 distinct stacks, plus stack 0.
    assert_int_equal(m->stacks.len, 6);
    assert_int_equal(m->samples.data[0].stack, m->samples.data[5].stack);
    assert_list(m, m->stacks.data[m->samples.data[0].stack].locations, (const int32_t[]){3, 3, 3, 2, 1}, 5);
    assert_list(m, m->stacks.data[m->samples.data[3].stack].locations, (const int32_t[]){5, 4, 1}, 3);
    // Labels: thread=worker, bytes=1024, thread=main, bytes=4096,
    // request_id=7, in order of first use; the empty one is dropped.
    assert_int_equal(m->attributes.len, 6);
    const struct ptm_attribute *worker = &m->attributes.data[1];
    assert_int_equal(worker->key, S_THREAD);
    assert_int_equal(worker->value.kind, PTM_ANY_STRING);
    assert_int_equal(worker->value.strindex, S_WORKER);
    assert_str(worker->value.u.str, "worker");
    const struct ptm_attribute *bytes = &m->attributes.data[2];
    assert_int_equal(bytes->key, S_BYTES);
    assert_int_equal(bytes->unit, S_BYTES);
    assert_int_equal(bytes->value.kind, PTM_ANY_INT);
    assert_int_equal(bytes->value.u.i, 1024);
    assert_str(m->attributes.data[3].value.u.str, "main");
    assert_int_equal(m->attributes.data[4].value.u.i, 4096);
    assert_int_equal(m->attributes.data[5].key, S_REQUEST);
    assert_int_equal(m->attributes.data[5].unit, 0);
    assert_int_equal(m->attributes.data[5].value.u.i, 7);
    static const int32_t want[N_SAMPLES][2] = {{1}, {1, 2}, {3}, {3, 4}, {0}, {3, 5}};
    static const uint32_t want_len[N_SAMPLES] = {1, 2, 1, 2, 0, 2};
    for (int i = 0; i < N_SAMPLES; i++)
        assert_list(m, m->samples.data[i].attributes, want[i], want_len[i]);
}

static void check_fixture_functions(const struct ptm_model *m)
{
    // self: leaf functions S0 fib, S1 inlined_add, S2 helper, S3 none
    // (libc, no lines), S4 fib, S5 fib.
    assert_int_equal(self_of(m, 0, "fib"), 3 + 5 + 1);
    assert_int_equal(self_of(m, 0, "inlined_add"), 2);
    assert_int_equal(self_of(m, 0, "helper"), 1);
    assert_int_equal(self_of(m, 0, ""), 4);
    assert_int_equal(self_of(m, 0, "main"), 0);
    assert_int_equal(self_of(m, 1, "fib"), 90000000);
    assert_int_equal(self_of(m, 2, ""), 4096);
    // cum, once per sample: work in S0, S1, S4, S5; helper in S1, S2, S3
    // (through the inlined location too); fib counted once despite recursion.
    assert_int_equal(cum_of(m, 0, "work"), 3 + 2 + 5 + 1);
    assert_int_equal(cum_of(m, 0, "helper"), 2 + 1 + 4);
    assert_int_equal(cum_of(m, 0, "fib"), 3 + 5 + 1);
    assert_int_equal(cum_of(m, 0, "main"), TOTAL_SAMPLES);
    assert_int_equal(cum_of(m, 2, "helper"), 1024 + 4096);
}

static void check_fixture(const struct ptm_model *m)
{
    check_fixture_profiles(m);
    check_fixture_dictionary(m);
    check_fixture_samples(m);
    check_fixture_functions(m);
}

// Decode with both decoders, check the hand-counted values, compare.
static void check_both(const struct buf *in, const struct ptm_model *reference)
{
    struct ptm_model *fast = decode_ok(in, PTM_DECODER_FAST);
    struct ptm_model *slow = decode_ok(in, PTM_DECODER_PROTOBUF_C);
    check_fixture(fast);
    check_fixture(slow);
    assert_models_equal(fast, slow);
    if (reference != NULL)
        assert_models_equal(fast, reference);
    ptm_model_destroy(fast);
    ptm_model_destroy(slow);
}

// ---- tests: the hand-described profile ----

static void test_packed_by_protobuf_c(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    struct buf in = pack_profile(&f->profile);
    check_both(&in, NULL);
    free(in.data);
    free(f);
}

static void test_encodings_give_one_model(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    struct buf packed = pack_profile(&f->profile);
    struct ptm_model *reference = decode_ok(&packed, PTM_DECODER_FAST);
    static const struct encoding encodings[] = {{true, false}, {false, false}, {true, true}, {false, true}};
    for (size_t i = 0; i < sizeof encodings / sizeof *encodings; i++) {
        struct buf in = encode_profile(&f->profile, encodings[i]);
        check_both(&in, reference);
        free(in.data);
    }
    ptm_model_destroy(reference);
    free(packed.data);
    free(f);
}

// The unpacked encoding really writes one field per id: location_id 30 of
// sample 0 appears as the bytes 08 1e (field 1, varint, 30).
static void test_unpacked_bytes(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    Sample *s = f->sample_ptrs[0];
    struct buf body = {0};
    put_repeated(&body, 1, s->location_id, s->n_location_id, false);
    static const uint8_t want[] = {0x08, 30, 0x08, 30, 0x08, 30, 0x08, 20, 0x08, 10};
    assert_int_equal(body.len, sizeof want);
    assert_memory_equal(body.data, want, sizeof want);
    struct buf packed = {0};
    put_repeated(&packed, 1, s->location_id, s->n_location_id, true);
    static const uint8_t want_packed[] = {0x0a, 5, 30, 30, 30, 20, 10};
    assert_memory_equal(packed.data, want_packed, sizeof want_packed);
    free(body.data);
    free(packed.data);
    free(f);
}

static void test_gzip_and_detection(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    struct buf raw = pack_profile(&f->profile);
    struct buf gz = gzip_bytes(&raw);
    struct ptm_model *plain = decode_ok(&raw, PTM_DECODER_FAST);
    assert_false(plain->batches.data[0].gzipped);
    for (int decoder = 0; decoder < 2; decoder++) {
        struct ptm_model *m = decode_ok(&gz, (enum ptm_decoder)decoder);
        assert_true(m->batches.data[0].gzipped);
        assert_int_equal(m->batches.data[0].format, PTM_FORMAT_PPROF);
        check_fixture(m);
        m->batches.data[0].gzipped = false; // the one expected difference
        assert_models_equal(m, plain);
        ptm_model_destroy(m);
    }
    ptm_model_destroy(plain);
    free(gz.data);
    free(raw.data);
    free(f);
}

// Renumbering the ids changes nothing in the model: ids 1..n in order take
// the fast path; ids all 0 (the .NET profiler's functions) are positions.
static void test_ids_do_not_matter(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    struct buf arbitrary = pack_profile(&f->profile);
    struct ptm_model *reference = decode_ok(&arbitrary, PTM_DECODER_FAST);
    for (int i = 0; i < N_FUNCTIONS; i++)
        f->functions[i].id = (uint64_t)i + 1;
    for (int i = 0; i < N_LINES; i++) {
        for (int k = 0; k < N_FUNCTIONS; k++) {
            if (f->lines[i].function_id == FUNCTIONS[k].id) {
                f->lines[i].function_id = (uint64_t)k + 1;
                break;
            }
        }
    }
    for (int i = 0; i < N_LOCATIONS; i++)
        f->locations[i].mapping_id = LOCATIONS[i].mapping_id == 300 ? 1 : 2;
    f->mappings[0].id = 1;
    f->mappings[1].id = 2;
    for (int i = 0; i < N_LOCATIONS; i++)
        f->locations[i].id = (uint64_t)i + 1;
    for (int s = 0; s < N_SAMPLES; s++)
        for (size_t k = 0; k < SAMPLES[s].n_ids; k++)
            f->location_ids[s][k] = SAMPLES[s].ids[k] / 10; // 10..60 -> 1..6
    struct buf sequential = pack_profile(&f->profile);
    check_both(&sequential, reference);
    for (int i = 0; i < N_FUNCTIONS; i++)
        f->functions[i].id = 0;
    struct buf positional = pack_profile(&f->profile);
    check_both(&positional, reference);
    ptm_model_destroy(reference);
    free(arbitrary.data);
    free(sequential.data);
    free(positional.data);
    free(f);
}

// A second file decoded into the same model gets its own batch; every index
// is rebased past the first file's tables.
static void test_two_files_one_model(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    struct buf in = pack_profile(&f->profile);
    for (int decoder = 0; decoder < 2; decoder++) {
        struct ptm_model *m = ptm_model_create();
        struct ptm_error err;
        for (int file = 0; file < 2; file++) {
            if (decode_into(m, &in, (enum ptm_decoder)decoder, PTM_FORMAT_AUTO, &err) != 0)
                fail_msg("file %d: %s", file, err.message);
        }
        assert_int_equal(m->batches.len, 2);
        assert_int_equal(m->profiles.len, 2 * N_TYPES);
        const struct ptm_profile *p = &m->profiles.data[N_TYPES + 1];
        assert_int_equal(p->batch, 1);
        assert_int_equal(p->resource, 1);
        assert_int_equal(p->sample_type.type, N_STRINGS + S_CPU);
        assert_int_equal(p->samples.off, N_SAMPLES);
        assert_int_equal(profile_total(m, N_TYPES + 1), TOTAL_CPU);
        assert_int_equal(self_of(m, N_TYPES, "fib"), 9);
        assert_int_equal(cum_of(m, N_TYPES, "helper"), 7);
        const struct ptm_sample *s = &m->samples.data[N_SAMPLES + 1];
        assert_int_equal(m->indices.data[s->attributes.off + 1], 6 + 2);
        ptm_model_destroy(m);
    }
    free(in.data);
    free(f);
}

static void test_negative_time_and_duration(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    f->profile.time_nanos = -5;
    f->profile.duration_nanos = 0;
    struct buf in = pack_profile(&f->profile);
    for (int decoder = 0; decoder < 2; decoder++) {
        struct ptm_model *m = decode_ok(&in, (enum ptm_decoder)decoder);
        assert_true(m->profiles.data[0].time_unix_nano == (uint64_t)-5);
        ptm_model_destroy(m);
    }
    free(in.data);
    // A window whose end is past 2^64 ns cannot be a metric's time: refused
    // by name (it used to reach the store, which refused every value of it).
    f->profile.duration_nanos = -1;
    in = pack_profile(&f->profile);
    for (int decoder = 0; decoder < 2; decoder++) {
        struct ptm_model *m = ptm_model_create();
        struct ptm_error err;
        assert_int_equal(decode_into(m, &in, (enum ptm_decoder)decoder, PTM_FORMAT_AUTO, &err), PTM_EFORMAT);
        assert_string_equal(err.message, "3 of 3 profiles rejected, the first: profile 0: time_unix_nano "
                                         "18446744073709551611 + duration_nano 18446744073709551615 is past "
                                         "the largest time (2^64 - 1 ns since 1970)");
        assert_int_equal(m->profiles.len, 0);
        ptm_model_destroy(m);
    }
    free(in.data);
    free(f);
}

// A profile of strings only: no sample types, so no profiles.
static void test_no_sample_types(void **state)
{
    (void)state;
    Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
    ProtobufCBinaryData strings[2] = {{0, (uint8_t *)""}, {3, (uint8_t *)"abc"}};
    p.n_string_table = 2;
    p.string_table = strings;
    struct buf in = pack_profile(&p);
    struct ptm_model *fast = decode_ok(&in, PTM_DECODER_FAST);
    struct ptm_model *slow = decode_ok(&in, PTM_DECODER_PROTOBUF_C);
    assert_int_equal(fast->profiles.len, 0);
    assert_int_equal(fast->strings.len, 2);
    assert_models_equal(fast, slow);
    ptm_model_destroy(fast);
    ptm_model_destroy(slow);
    free(in.data);
}

// ---- tests: errors ----

// Decode with both decoders; both must fail with exactly this message.
static void expect_error(const struct buf *in, const char *message)
{
    for (int decoder = 0; decoder < 2; decoder++) {
        struct ptm_model *m = ptm_model_create();
        struct ptm_error err;
        int rc = decode_into(m, in, (enum ptm_decoder)decoder, PTM_FORMAT_PPROF, &err);
        assert_int_equal(rc, PTM_EFORMAT);
        assert_string_equal(err.message, message);
        assert_int_equal(m->profiles.len, 0); // rolled back
        assert_int_equal(m->strings.len, 0);
        ptm_model_destroy(m);
    }
}

static void expect_fixture_error(struct fixture *f, const char *message)
{
    struct buf in = pack_profile(&f->profile);
    expect_error(&in, message);
    free(in.data);
    free(f);
}

static void test_unknown_ids(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    f->location_ids[2][1] = 12345;
    expect_fixture_error(f, "pprof: sample 2: location_id 12345 not found (the profile has 6 locations)");
    f = fixture_create();
    f->location_ids[4][0] = 0;
    expect_fixture_error(f, "pprof: sample 4: location_id 0 not found (the profile has 6 locations)");
    f = fixture_create();
    f->locations[3].mapping_id = 301;
    expect_fixture_error(f, "pprof: location 3: mapping_id 301 not found (the profile has 2 mappings)");
    f = fixture_create();
    f->lines[4].function_id = 4242; // location 3's second line
    expect_fixture_error(f, "pprof: location 3: line 1: function_id 4242 not found (the profile has 5 functions)");
}

static void test_bad_ids(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    f->functions[3].id = 77;
    expect_fixture_error(f, "pprof: function 3: id 77 is also the id of function 1");
    f = fixture_create();
    f->locations[5].id = 10;
    expect_fixture_error(f, "pprof: location 5: id 10 is also the id of location 0");
    f = fixture_create();
    f->locations[2].id = 0;
    expect_fixture_error(f, "pprof: location 2: id is 0 (ids must be nonzero; 5 of the 6 locations have one)");
    f = fixture_create();
    f->mappings[1].id = 0;
    expect_fixture_error(f, "pprof: mapping 1: id is 0 (ids must be nonzero; 1 of the 2 mappings have one)");
}

static void test_bad_strings_and_values(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    f->functions[0].name = 99;
    expect_fixture_error(f, "pprof: function 0: name 99 out of range (the profile has 24 strings)");
    f = fixture_create();
    f->mappings[1].build_id = -2;
    expect_fixture_error(f, "pprof: mapping 1: build_id -2 out of range (the profile has 24 strings)");
    f = fixture_create();
    f->sample_types[2].unit = 24;
    expect_fixture_error(f, "pprof: sample_type 2: unit 24 out of range (the profile has 24 strings)");
    f = fixture_create();
    f->labels[2].num_unit = 1000; // sample 1's second label
    expect_fixture_error(f, "pprof: sample 1: label 1: num_unit 1000 out of range (the profile has 24 strings)");
    f = fixture_create();
    f->comments[1] = 5000000000;
    expect_fixture_error(f, "pprof: comment 1: string index 5000000000 out of range (the profile has 24 strings)");
    f = fixture_create();
    f->profile.keep_frames = 30;
    expect_fixture_error(f, "pprof: profile: keep_frames 30 out of range (the profile has 24 strings)");
    f = fixture_create();
    f->samples[3].n_value = 2;
    expect_fixture_error(f, "pprof: sample 3: 2 values but the profile has 3 sample types");
    f = fixture_create();
    f->strings[0] = (ProtobufCBinaryData){1, (uint8_t *)"x"};
    expect_fixture_error(f, "dictionary: string_table[0] must be \"\" but is \"x\"");
}

// Wire errors name the byte and the field in the hand-written decoder;
// protobuf-c only says that it could not unpack.
static void test_wire_errors(void **state)
{
    (void)state;
    static const struct {
        uint8_t bytes[16];
        size_t len;
        const char *fast;
    } cases[] = {
        // sample_type { type: 1 } declared 5 bytes long, 2 there
        {{0x0a, 0x05, 0x08, 0x01}, 4, "pprof, byte 2: sample_type: truncated or malformed"},
        // string "" then a sample whose location_id is a fixed64
        {{0x32, 0x00, 0x12, 0x09, 0x09, 1, 0, 0, 0, 0, 0, 0, 0}, 13,
         "pprof, byte 5: sample[0].location_id: unexpected wire type fixed64"},
        // string "", a location with a truncated line function_id varint
        {{0x32, 0x00, 0x22, 0x04, 0x22, 0x02, 0x08, 0x80}, 8,
         "pprof, byte 7: location[0].line[0].function_id: truncated or malformed"},
        // a group
        {{0x32, 0x00, 0x0b}, 3, "pprof, byte 3: sample_type: groups are not part of this format"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf in = {(uint8_t *)cases[i].bytes, cases[i].len, cases[i].len};
        struct ptm_error err;
        struct ptm_model *m = ptm_model_create();
        assert_int_equal(decode_into(m, &in, PTM_DECODER_FAST, PTM_FORMAT_PPROF, &err), PTM_EFORMAT);
        assert_string_equal(err.message, cases[i].fast);
        char slow[160];
        snprintf(slow, sizeof slow,
                 "pprof: protobuf-c could not unpack the Profile message (%zu bytes): truncated or malformed",
                 cases[i].len);
        assert_int_equal(decode_into(m, &in, PTM_DECODER_PROTOBUF_C, PTM_FORMAT_PPROF, &err), PTM_EFORMAT);
        assert_string_equal(err.message, slow);
        ptm_model_destroy(m);
    }
}

// Decode the bytes with both decoders into m (reset first). Returns the
// fast decoder's result; when both succeed their models must agree.
static int decode_both_agree(struct ptm_model *fast, struct ptm_model *slow, const struct buf *in)
{
    struct ptm_error e1, e2;
    ptm_model_reset(fast);
    ptm_model_reset(slow);
    int rc1 = decode_into(fast, in, PTM_DECODER_FAST, PTM_FORMAT_PPROF, &e1);
    int rc2 = decode_into(slow, in, PTM_DECODER_PROTOBUF_C, PTM_FORMAT_PPROF, &e2);
    if (rc1 != 0)
        assert_true(e1.message[0] != '\0');
    if (rc2 != 0)
        assert_true(e2.message[0] != '\0');
    if (rc1 == 0 && rc2 == 0)
        assert_models_equal(fast, slow);
    return rc1;
}

// Every prefix of every encoding decodes or fails cleanly (run under ASan
// too), and so does every single-byte corruption of the packed one.
static void test_truncation_and_corruption(void **state)
{
    (void)state;
    struct fixture *f = fixture_create();
    struct ptm_model *fast = ptm_model_create();
    struct ptm_model *slow = ptm_model_create();
    static const struct encoding encodings[] = {{true, false}, {false, true}};
    for (size_t e = 0; e < 2; e++) {
        struct buf in = encode_profile(&f->profile, encodings[e]);
        for (size_t n = 0; n < in.len; n++) {
            struct buf prefix = {in.data, n, n};
            decode_both_agree(fast, slow, &prefix);
        }
        assert_int_equal(decode_both_agree(fast, slow, &in), 0);
        free(in.data);
    }
    struct buf in = pack_profile(&f->profile);
    static const uint8_t replacements[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < in.len; i++) {
        uint8_t saved = in.data[i];
        for (size_t r = 0; r < sizeof replacements; r++) {
            in.data[i] = replacements[r];
            decode_both_agree(fast, slow, &in);
        }
        in.data[i] = saved;
    }
    free(in.data);
    ptm_model_destroy(fast);
    ptm_model_destroy(slow);
    free(f);
}

// ---- tests: the real files of the test data ----

static const char *testdata_pprof(void)
{
    static char path[4096];
    const char *root = getenv("PTM_TESTDATA");
    struct stat st;
    if (root == NULL)
        return NULL;
    snprintf(path, sizeof path, "%s/pprof", root);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

static struct buf read_file(const char *path)
{
    struct buf b = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        put_bytes(&b, chunk, n);
    fclose(f);
    return b;
}

static struct ptm_model *decode_file(const char *path, enum ptm_decoder decoder, struct buf *bytes)
{
    *bytes = read_file(path);
    struct ptm_model *m = ptm_model_create();
    struct ptm_error err;
    int rc = decode_into(m, bytes, decoder, PTM_FORMAT_AUTO, &err);
    if (rc != 0)
        fail_msg("%s (decoder %d): %s", path, (int)decoder, err.message);
    return m;
}

// Decode one file with both decoders and compare; count it.
static void check_file_both(const char *path, unsigned *count)
{
    struct buf b1, b2;
    struct ptm_model *fast = decode_file(path, PTM_DECODER_FAST, &b1);
    struct ptm_model *slow = decode_file(path, PTM_DECODER_PROTOBUF_C, &b2);
    assert_int_equal(fast->batches.data[0].format, PTM_FORMAT_PPROF);
    assert_models_equal(fast, slow);
    ptm_model_destroy(fast);
    ptm_model_destroy(slow);
    free(b1.data);
    free(b2.data);
    (*count)++;
}

static void walk(const char *dir, unsigned *count)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode))
            walk(path, count);
        else
            check_file_both(path, count);
    }
    closedir(d);
}

static void test_testdata_both_decoders(void **state)
{
    (void)state;
    if (testdata_pprof() == NULL)
        return; // reported as "# SKIP" by main
    unsigned count = 0;
    walk(testdata_pprof(), &count);
    assert_int_equal(count, 21); // the files listed in testdata/README.txt under pprof/
}

// Counts checked independently:
//   zcat go/google-pprof_sample.cpu.pb.gz | protoc --decode_raw > s.txt
//   grep -c '^2 {' s.txt   -> 76 samples       grep -c '^4 {' s.txt -> 86 locations
//   grep -c '^5 {' s.txt   -> 14 functions     grep -c '^3 {' s.txt -> 3 mappings
//   grep -c '^6: ' s.txt   -> 30 strings       grep -c '^1 {' s.txt -> 2 sample types
//   top-level 9: 1506718679257235370 (time), 10: 2002012950 (duration), 12: 10000000
// and the totals by summing the sample lines of `go tool pprof -raw FILE`:
//   176 samples/count, 1760000000 cpu/nanoseconds.
//   async-profiler: the same greps give 2614 samples, 201 locations, 201
//   functions, 205 strings, 0 mappings, 1 comment (13:).
//   dotnet (not gzipped): 579 samples, 41 functions whose ids are all 0.
static void test_testdata_counts(void **state)
{
    (void)state;
    if (testdata_pprof() == NULL)
        return; // reported as "# SKIP" by main
    char path[4096];
    struct buf bytes;
    snprintf(path, sizeof path, "%s/go/google-pprof_sample.cpu.pb.gz", testdata_pprof());
    struct ptm_model *m = decode_file(path, PTM_DECODER_FAST, &bytes);
    assert_true(m->batches.data[0].gzipped);
    assert_int_equal(m->profiles.len, 2);
    assert_int_equal(m->samples.len, 76);
    assert_int_equal(m->locations.len, 86 + 1);
    assert_int_equal(m->functions.len, 14 + 1);
    assert_int_equal(m->mappings.len, 3 + 1);
    assert_int_equal(m->strings.len, 30);
    assert_true(m->profiles.data[0].time_unix_nano == 1506718679257235370);
    assert_true(m->profiles.data[0].duration_nano == 2002012950);
    assert_int_equal(m->profiles.data[1].period, 10000000);
    assert_int_equal(profile_total(m, 0), 176);
    assert_int_equal(profile_total(m, 1), 1760000000);
    ptm_model_destroy(m);
    free(bytes.data);

    snprintf(path, sizeof path, "%s/java/pyroscope_async-profiler.cpu.pb.gz", testdata_pprof());
    m = decode_file(path, PTM_DECODER_FAST, &bytes);
    assert_int_equal(m->samples.len, 2614);
    assert_int_equal(m->locations.len, 201 + 1);
    assert_int_equal(m->functions.len, 201 + 1);
    assert_int_equal(m->mappings.len, 1);
    assert_int_equal(m->strings.len, 205);
    assert_int_equal(m->profiles.data[0].comments.len, 1);
    assert_str(ptm_model_string(m, m->indices.data[m->profiles.data[0].comments.off]), "async-profiler");
    ptm_model_destroy(m);
    free(bytes.data);

    snprintf(path, sizeof path, "%s/dotnet/pyroscope_dotnet-pprof-3.uncompressed.pprof", testdata_pprof());
    m = decode_file(path, PTM_DECODER_FAST, &bytes);
    assert_false(m->batches.data[0].gzipped);
    assert_int_equal(m->profiles.len, 6);
    assert_int_equal(m->samples.len, 579);
    assert_int_equal(m->functions.len, 41 + 1);
    // location id 2 has function_id 2: the second function, by position
    assert_int_equal(m->lines.data[m->locations.data[2].lines.off].function, 2);
    ptm_model_destroy(m);
    free(bytes.data);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_by_protobuf_c),
        cmocka_unit_test(test_encodings_give_one_model),
        cmocka_unit_test(test_unpacked_bytes),
        cmocka_unit_test(test_gzip_and_detection),
        cmocka_unit_test(test_ids_do_not_matter),
        cmocka_unit_test(test_two_files_one_model),
        cmocka_unit_test(test_negative_time_and_duration),
        cmocka_unit_test(test_no_sample_types),
        cmocka_unit_test(test_unknown_ids),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_bad_strings_and_values),
        cmocka_unit_test(test_wire_errors),
        cmocka_unit_test(test_truncation_and_corruption),
        cmocka_unit_test(test_testdata_both_decoders),
        cmocka_unit_test(test_testdata_counts),
    };
    // cmocka's skip() prints "not ok ... # SKIP", which counts as a failure;
    // without the test data these tests pass empty and say so in their name.
    if (testdata_pprof() == NULL) {
        size_t n = sizeof tests / sizeof *tests;
        tests[n - 2].name = "# SKIP PTM_TESTDATA/pprof absent: test_testdata_both_decoders";
        tests[n - 1].name = "# SKIP PTM_TESTDATA/pprof absent: test_testdata_counts";
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
