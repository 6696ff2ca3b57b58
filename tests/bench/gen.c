// SPDX-License-Identifier: Apache-2.0
//
// Deterministic benchmark inputs. `gen otlp` writes an OTLP v1.10
// ExportProfilesServiceRequest shaped like the OpenTelemetry eBPF profiler's
// output (one resource per process, a CPU profile each, timestamped samples
// with thread attributes, one shared dictionary); `gen pprof` writes a
// gzipped Go-CPU-like pprof file. Both come from a fixed-seed PRNG, so every
// run writes the same bytes; --samples scales every table with the sample
// count (1,000,000 samples give the ~30 MB request of performance-limits.md).
//
// `--shape ebpf` draws the OTLP request in the proportions of the eBPF
// profiler's own requests (tests/../shared/testdata/otlp: 165 to 419
// samples in 105 to 144 KB): nearly every sample its own stack, about eight
// locations per stack and two functions for three locations, a process
// (resource) per 16 samples, so the dictionary is most of the bytes
// (~500 bytes per sample; 2,000 samples are a ~1 MB request). `--seed N`
// draws another request of the same shape (other stacks, samples and
// process ids; the same names), for a load of requests that differ.
//
// The protobuf wire format is written directly: nested messages are encoded
// in place and their key and length inserted in front once their size is
// known. What was written is summarised on stderr as key=value pairs, which
// tests compare with what the decoders read back.
//
//   gen otlp  [--samples N] [--shape default|ebpf] [--seed N] OUT
//   gen pprof [--samples N] [--seed N] OUT
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FULL_SAMPLES 1000000u
#define OTLP_TIME_UNIX_NANO 1767225600000000000ull // 2026-01-01T00:00:00Z
#define OTLP_DURATION_NANO 60000000000ull
#define OTLP_PERIOD 50000000
#define PPROF_PERIOD 10000000

// ---- PRNG: splitmix64, one fixed seed per generator ----

static uint64_t rng_state;
static uint32_t seed; // --seed: 0 draws the bytes the benchmarks have always used

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A number in [0, n), n > 0.
static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)((rng_next() >> 32) * n >> 32);
}

// An index in [1, n]: dictionary entry 0 is the "unset" entry.
static int32_t rng_index(uint32_t n)
{
    return (int32_t)(1 + rng_below(n));
}

// ---- output buffer and protobuf encoding ----

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void die(const char *what)
{
    fprintf(stderr, "gen: %s\n", what);
    exit(1);
}

static void buf_reserve(struct buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap - b->len < n)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (b->p == NULL)
        die("out of memory");
    b->cap = cap;
}

static size_t varint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static void put_varint(struct buf *b, uint64_t v)
{
    buf_reserve(b, 10);
    b->len += varint_encode(b->p + b->len, v);
}

static void put_key(struct buf *b, uint32_t field, uint32_t wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

// A varint field; proto3 leaves zero values out.
static void put_uint(struct buf *b, uint32_t field, uint64_t v)
{
    if (v == 0)
        return;
    put_key(b, field, 0);
    put_varint(b, v);
}

static void put_fixed64(struct buf *b, uint32_t field, uint64_t v)
{
    put_key(b, field, 1);
    buf_reserve(b, 8);
    for (int i = 0; i < 8; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct buf *b, uint32_t field, const void *data, size_t n)
{
    put_key(b, field, 2);
    put_varint(b, n);
    buf_reserve(b, n);
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_string(struct buf *b, uint32_t field, const char *s)
{
    put_bytes(b, field, s, strlen(s));
}

// Nested messages: remember where the body starts, write it, then insert the
// key and length in front of it.
static size_t msg_begin(const struct buf *b)
{
    return b->len;
}

static void msg_end(struct buf *b, uint32_t field, size_t start)
{
    uint8_t head[20];
    size_t n = varint_encode(head, (uint64_t)field << 3 | 2);
    n += varint_encode(head + n, b->len - start);
    buf_reserve(b, n);
    memmove(b->p + start + n, b->p + start, b->len - start);
    memcpy(b->p + start, head, n);
    b->len += n;
}

static void put_packed(struct buf *b, uint32_t field, const int64_t *v, size_t count)
{
    size_t at = msg_begin(b);
    for (size_t i = 0; i < count; i++)
        put_varint(b, (uint64_t)v[i]);
    msg_end(b, field, at);
}

// ---- the shape of a generated profile ----

struct shape {
    uint32_t samples, resources, stacks, locations, functions, mappings;
    uint32_t thread_names, thread_ids, files, handlers;
};

// A full-size count scaled to the number of samples, at least 1.
static uint32_t scaled(uint64_t full, uint32_t samples)
{
    uint64_t v = full * samples / FULL_SAMPLES;
    return v ? (uint32_t)v : 1;
}

// The eBPF profiler's proportions (see the top of the file).
static struct shape shape_ebpf(uint32_t samples)
{
    uint32_t stacks = samples - samples / 10;
    stacks = stacks ? stacks : 1;
    struct shape s = {
        .samples = samples,
        .resources = samples / 16 ? samples / 16 : 1,
        .stacks = stacks,
        .locations = 8 * stacks,
        .functions = 16 * stacks / 3,
        .mappings = samples / 40 ? samples / 40 : 1,
        .thread_names = samples / 10 ? samples / 10 : 1,
        .thread_ids = samples / 4 ? samples / 4 : 1,
        .files = 16 * stacks / 3 / 15 ? 16 * stacks / 3 / 15 : 1,
        .handlers = 50,
    };
    return s;
}

static struct shape shape_for(uint32_t samples, bool pprof)
{
    struct shape s = {
        .samples = samples,
        .resources = scaled(64, samples),
        .stacks = scaled(20000, samples),
        .locations = scaled(pprof ? 100000 : 200000, samples),
        .functions = scaled(30000, samples),
        .mappings = pprof ? 4 : scaled(500, samples),
        .thread_names = scaled(500, samples),
        .thread_ids = scaled(2000, samples),
        .files = scaled(2000, samples),
        .handlers = 50,
    };
    return s;
}

// Stacks are drawn once: OTLP writes them to its stack table, pprof into
// every sample that uses them. Locations are 1-based ids/indices.
struct stacks {
    uint32_t *off; // stack i (0-based) is loc[off[i] .. off[i+1])
    int64_t *loc;
};

static struct stacks stacks_draw(const struct shape *s)
{
    struct stacks st;
    st.off = malloc(((size_t)s->stacks + 1) * sizeof *st.off);
    st.loc = malloc((size_t)s->stacks * 40 * sizeof *st.loc);
    if (st.off == NULL || st.loc == NULL)
        die("out of memory");
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->stacks; i++) {
        st.off[i] = n;
        uint32_t depth = 20 + rng_below(21);
        for (uint32_t d = 0; d < depth; d++)
            st.loc[n++] = rng_index(s->locations);
    }
    st.off[s->stacks] = n;
    return st;
}

static void stacks_free(struct stacks *st)
{
    free(st->off);
    free(st->loc);
}

// ---- names: a pure function of the index, no PRNG state ----

static uint64_t mix(uint64_t x)
{
    x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdull;
    x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static const char *const words[] = {
    "alloc", "buffer", "cache", "codec", "conn", "decode", "encode", "event", "flush", "frame",
    "handler", "hash", "index", "loop", "map", "merge", "parse", "pool", "queue", "read",
    "render", "request", "route", "scan", "schedule", "session", "sort", "stream", "sync", "table",
    "timer", "tree", "update", "write", "worker", "zone",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *word(uint64_t h, int which)
{
    return words[(h >> (which * 8)) % NWORDS];
}

static void function_name(uint32_t i, char *out, size_t size)
{
    uint64_t h = mix(i);
    snprintf(out, size, "github.com/example/%s/%s.(*%s%s).%s%" PRIu32, word(h, 0), word(h, 1),
             word(h, 2), word(h, 3), word(h, 4), i);
}

static void file_name(uint32_t i, char *out, size_t size)
{
    uint64_t h = mix(i + 0x5000000);
    snprintf(out, size, "/src/github.com/example/%s/%s_%" PRIu32 ".go", word(h, 0), word(h, 1), i);
}

static void mapping_name(uint32_t i, char *out, size_t size)
{
    uint64_t h = mix(i + 0x9000000);
    snprintf(out, size, "/usr/lib/x86_64-linux-gnu/lib%s%s.so.%" PRIu32, word(h, 0), word(h, 1), i);
}

static void thread_name(uint32_t i, char *out, size_t size)
{
    snprintf(out, size, "%s-%" PRIu32, word(mix(i + 0xd000000), 0), i);
}

static void build_id(uint32_t i, char *out, size_t size)
{
    snprintf(out, size, "%016" PRIx64 "%016" PRIx64 "%08" PRIx32, mix(i), mix(i + 1),
             (uint32_t)mix(i + 2));
}

static void handler_name(uint32_t i, char *out, size_t size)
{
    uint64_t h = mix(i + 0x7000000);
    snprintf(out, size, "/api/v1/%s/%s", word(h, 0), word(h, 1));
}

// ---- the string table, shared by both formats ----

// Fixed strings come first; generated names follow in the order of the
// functions below.
enum fixed_string {
    S_EMPTY, S_SAMPLES, S_COUNT, S_CPU, S_NANOSECONDS, S_THREAD_NAME, S_THREAD_ID, S_BUILD_ID,
    S_FRAME_TYPE, S_HANDLER, S_WORKER, S_FIXED
};

static const char *const fixed_strings[S_FIXED] = {
    "", "samples", "count", "cpu", "nanoseconds", "thread.name", "thread.id",
    "process.executable.build_id.gnu", "profile.frame.type", "handler", "worker",
};

static int32_t str_function(uint32_t i) { return (int32_t)(S_FIXED + i); }
static int32_t str_file(const struct shape *s, uint32_t i) { return str_function(s->functions) + (int32_t)i; }
static int32_t str_mapping(const struct shape *s, uint32_t i) { return str_file(s, s->files) + (int32_t)i; }
static int32_t str_handler(const struct shape *s, uint32_t i) { return str_mapping(s, s->mappings) + (int32_t)i; }
static int32_t string_count(const struct shape *s, bool pprof)
{
    return pprof ? str_handler(s, s->handlers) : str_mapping(s, s->mappings);
}

static void put_string_table(struct buf *b, uint32_t field, const struct shape *s, bool pprof)
{
    char name[256];
    for (int i = 0; i < S_FIXED; i++)
        put_string(b, field, fixed_strings[i]);
    for (uint32_t i = 0; i < s->functions; i++) {
        function_name(i, name, sizeof name);
        put_string(b, field, name);
    }
    for (uint32_t i = 0; i < s->files; i++) {
        file_name(i, name, sizeof name);
        put_string(b, field, name);
    }
    for (uint32_t i = 0; i < s->mappings; i++) {
        mapping_name(i, name, sizeof name);
        put_string(b, field, name);
    }
    for (uint32_t i = 0; pprof && i < s->handlers; i++) {
        handler_name(i, name, sizeof name);
        put_string(b, field, name);
    }
}

// ---- OTLP v1.10 ----

// The attribute table: 0 unset, then one build id per mapping, the frame
// types, the thread names, the thread ids.
static const char *const frame_types[] = {"native", "kernel", "go", "python"};
#define NFRAME_TYPES 4

static int32_t attr_build_id(uint32_t mapping) { return (int32_t)(1 + mapping); }
static int32_t attr_frame_type(const struct shape *s, uint32_t t) { return (int32_t)(1 + s->mappings + t); }
static int32_t attr_thread_name(const struct shape *s, uint32_t t) { return attr_frame_type(s, NFRAME_TYPES) + (int32_t)t; }
static int32_t attr_thread_id(const struct shape *s, uint32_t t) { return attr_thread_name(s, s->thread_names) + (int32_t)t; }
static int32_t attribute_count(const struct shape *s) { return attr_thread_id(s, s->thread_ids); }

// What was generated, for the summary line.
struct totals {
    uint64_t samples, values, timestamps, weight, cpu_nanos;
};

// KeyValue with a literal key; value is an AnyValue string or int.
static void put_keyvalue_string(struct buf *b, uint32_t field, const char *key, const char *value)
{
    size_t kv = msg_begin(b);
    put_string(b, 1, key);
    size_t any = msg_begin(b);
    put_string(b, 1, value);
    msg_end(b, 2, any);
    msg_end(b, field, kv);
}

static void put_keyvalue_int(struct buf *b, uint32_t field, const char *key, int64_t value)
{
    size_t kv = msg_begin(b);
    put_string(b, 1, key);
    size_t any = msg_begin(b);
    put_key(b, 3, 0);
    put_varint(b, (uint64_t)value);
    msg_end(b, 2, any);
    msg_end(b, field, kv);
}

static void put_value_type(struct buf *b, uint32_t field, int32_t type, int32_t unit)
{
    size_t at = msg_begin(b);
    put_uint(b, 1, (uint64_t)type);
    put_uint(b, 2, (uint64_t)unit);
    msg_end(b, field, at);
}

// Sample { 1 stack_index, 2 attribute_indices, 4 values, 5 timestamps }
static void put_otlp_sample(struct buf *b, const struct shape *s, uint64_t timestamp,
                            struct totals *t)
{
    size_t at = msg_begin(b);
    put_uint(b, 1, (uint64_t)rng_index(s->stacks));
    int64_t attrs[2] = {attr_thread_name(s, rng_below(s->thread_names)),
                        attr_thread_id(s, rng_below(s->thread_ids))};
    put_packed(b, 2, attrs, 2);
    if (rng_below(10) == 0) {
        int64_t value = 1 + rng_below(3);
        put_packed(b, 4, &value, 1);
        t->values++;
        t->weight += (uint64_t)value;
    } else {
        t->weight++;
    }
    size_t ts = msg_begin(b);
    for (int i = 0; i < 8; i++) {
        buf_reserve(b, 1);
        b->p[b->len++] = (uint8_t)(timestamp >> (8 * i));
    }
    msg_end(b, 5, ts);
    t->samples++;
    t->timestamps++;
    msg_end(b, 2, at);
}

// Profile: CPU samples/count with a 50 ms cpu/nanoseconds period.
static void put_otlp_profile(struct buf *b, const struct shape *s, uint32_t n, struct totals *t)
{
    size_t at = msg_begin(b);
    put_value_type(b, 1, S_SAMPLES, S_COUNT);
    for (uint32_t i = 0; i < n; i++)
        put_otlp_sample(b, s, OTLP_TIME_UNIX_NANO + OTLP_DURATION_NANO / n * i + rng_below(1000),
                        t);
    put_fixed64(b, 3, OTLP_TIME_UNIX_NANO);
    put_uint(b, 4, OTLP_DURATION_NANO);
    put_value_type(b, 5, S_CPU, S_NANOSECONDS);
    put_uint(b, 6, OTLP_PERIOD);
    msg_end(b, 2, at);
}

static void put_otlp_resource_profiles(struct buf *b, const struct shape *s, uint32_t r,
                                       uint32_t n, struct totals *t)
{
    char name[64], path[96];
    snprintf(name, sizeof name, "service-%" PRIu32, r);
    snprintf(path, sizeof path, "/usr/local/bin/service-%" PRIu32, r);
    size_t rp = msg_begin(b);
    size_t res = msg_begin(b);
    put_keyvalue_int(b, 1, "process.pid", 1000 + 37 * (int64_t)r + 1000003 * (int64_t)seed);
    put_keyvalue_string(b, 1, "process.executable.name", name);
    put_keyvalue_string(b, 1, "process.executable.path", path);
    msg_end(b, 1, res);
    size_t sp = msg_begin(b);
    size_t scope = msg_begin(b);
    put_string(b, 1, "go.opentelemetry.io/ebpf-profiler");
    put_string(b, 2, "v0.0.202614");
    msg_end(b, 1, scope);
    put_otlp_profile(b, s, n, t);
    put_string(b, 3, "https://opentelemetry.io/schemas/1.37.0");
    msg_end(b, 2, sp);
    put_string(b, 3, "https://opentelemetry.io/schemas/1.37.0");
    msg_end(b, 1, rp);
}

static uint64_t mapping_start(uint32_t i)
{
    return 0x7f0000000000ull + (uint64_t)i * 0x10000000ull;
}

// Mapping { 1 memory_start, 2 memory_limit, 3 file_offset, 4 filename, 5 attribute_indices }
static void put_otlp_mappings(struct buf *b, const struct shape *s)
{
    put_bytes(b, 1, "", 0);
    for (uint32_t i = 0; i < s->mappings; i++) {
        size_t at = msg_begin(b);
        put_uint(b, 1, mapping_start(i));
        put_uint(b, 2, mapping_start(i) + 0x1000000 + rng_below(0x1000000));
        put_uint(b, 3, (uint64_t)rng_below(16) * 4096);
        put_uint(b, 4, (uint64_t)str_mapping(s, i));
        int64_t attr = attr_build_id(i);
        put_packed(b, 5, &attr, 1);
        msg_end(b, 1, at);
    }
}

// Location { 1 mapping_index, 2 address, 3 lines, 4 attribute_indices }; a
// fifth of them carry an inlined frame as a second line.
static void put_otlp_locations(struct buf *b, const struct shape *s)
{
    put_bytes(b, 2, "", 0);
    for (uint32_t i = 0; i < s->locations; i++) {
        size_t at = msg_begin(b);
        int32_t mapping = rng_index(s->mappings);
        put_uint(b, 1, (uint64_t)mapping);
        put_uint(b, 2, mapping_start((uint32_t)mapping - 1) + rng_below(0x1000000));
        uint32_t lines = rng_below(5) == 0 ? 2 : 1;
        for (uint32_t l = 0; l < lines; l++) {
            size_t line = msg_begin(b);
            put_uint(b, 1, (uint64_t)rng_index(s->functions));
            put_uint(b, 2, 1 + rng_below(5000));
            msg_end(b, 3, line);
        }
        int64_t attr = attr_frame_type(s, rng_below(NFRAME_TYPES));
        put_packed(b, 4, &attr, 1);
        msg_end(b, 2, at);
    }
}

// Function { 1 name, 3 filename, 4 start_line }
static void put_otlp_functions(struct buf *b, const struct shape *s)
{
    put_bytes(b, 3, "", 0);
    for (uint32_t i = 0; i < s->functions; i++) {
        size_t at = msg_begin(b);
        put_uint(b, 1, (uint64_t)str_function(i));
        put_uint(b, 3, (uint64_t)str_file(s, rng_below(s->files)));
        put_uint(b, 4, 1 + rng_below(3000));
        msg_end(b, 3, at);
    }
}

// KeyValueAndUnit { 1 key_strindex, 2 value } with a string or int value.
static void put_attribute_string(struct buf *b, int32_t key, const char *value)
{
    size_t at = msg_begin(b);
    put_uint(b, 1, (uint64_t)key);
    size_t any = msg_begin(b);
    put_string(b, 1, value);
    msg_end(b, 2, any);
    msg_end(b, 6, at);
}

static void put_attribute_int(struct buf *b, int32_t key, int64_t value)
{
    size_t at = msg_begin(b);
    put_uint(b, 1, (uint64_t)key);
    size_t any = msg_begin(b);
    put_key(b, 3, 0);
    put_varint(b, (uint64_t)value);
    msg_end(b, 2, any);
    msg_end(b, 6, at);
}

static void put_otlp_attributes(struct buf *b, const struct shape *s)
{
    char text[128];
    put_bytes(b, 6, "", 0);
    for (uint32_t i = 0; i < s->mappings; i++) {
        build_id(i, text, sizeof text);
        put_attribute_string(b, S_BUILD_ID, text);
    }
    for (uint32_t i = 0; i < NFRAME_TYPES; i++)
        put_attribute_string(b, S_FRAME_TYPE, frame_types[i]);
    for (uint32_t i = 0; i < s->thread_names; i++) {
        thread_name(i, text, sizeof text);
        put_attribute_string(b, S_THREAD_NAME, text);
    }
    for (uint32_t i = 0; i < s->thread_ids; i++)
        put_attribute_int(b, S_THREAD_ID, 4000 + 3 * (int64_t)i);
}

// Stack { 1 location_indices }
static void put_otlp_stacks(struct buf *b, const struct shape *s, const struct stacks *st)
{
    put_bytes(b, 7, "", 0);
    for (uint32_t i = 0; i < s->stacks; i++) {
        size_t at = msg_begin(b);
        put_packed(b, 1, st->loc + st->off[i], st->off[i + 1] - st->off[i]);
        msg_end(b, 7, at);
    }
}

static void put_otlp_dictionary(struct buf *b, const struct shape *s, const struct stacks *st)
{
    size_t at = msg_begin(b);
    put_otlp_mappings(b, s);
    put_otlp_locations(b, s);
    put_otlp_functions(b, s);
    put_bytes(b, 4, "", 0); // link_table: only the zero entry
    put_string_table(b, 5, s, false);
    put_otlp_attributes(b, s);
    put_otlp_stacks(b, s, st);
    msg_end(b, 2, at);
}

static void generate_otlp(struct buf *b, const struct shape *s, struct totals *t)
{
    struct stacks st = stacks_draw(s);
    for (uint32_t r = 0; r < s->resources; r++) {
        uint32_t first = (uint32_t)((uint64_t)s->samples * r / s->resources);
        uint32_t next = (uint32_t)((uint64_t)s->samples * (r + 1) / s->resources);
        put_otlp_resource_profiles(b, s, r, next - first, t);
    }
    size_t dict = b->len;
    put_otlp_dictionary(b, s, &st);
    fprintf(stderr,
            "gen otlp: samples=%" PRIu64 " values=%" PRIu64 " timestamps=%" PRIu64
            " weight=%" PRIu64 " resources=%" PRIu32 " profiles=%" PRIu32 " stacks=%" PRIu32
            " locations=%" PRIu32 " functions=%" PRIu32 " mappings=%" PRIu32
            " strings=%" PRId32 " attributes=%" PRId32 " dictionary_bytes=%zu bytes=%zu\n",
            t->samples, t->values, t->timestamps, t->weight, s->resources, s->resources,
            s->stacks + 1, s->locations + 1, s->functions + 1, s->mappings + 1,
            string_count(s, false), attribute_count(s), b->len - dict, b->len);
    stacks_free(&st);
}

// ---- pprof (Go CPU) ----

// Label { 1 key, 2 str, 3 num }
static void put_pprof_label(struct buf *b, int32_t key, int32_t str, int64_t num)
{
    size_t at = msg_begin(b);
    put_uint(b, 1, (uint64_t)key);
    put_uint(b, 2, (uint64_t)str);
    put_uint(b, 3, (uint64_t)num);
    msg_end(b, 3, at);
}

// Sample { 1 location_id, 2 value [count, cpu ns], 3 label }: every sample
// has a handler label, half also a numeric worker label.
static void put_pprof_sample(struct buf *b, const struct shape *s, const struct stacks *st,
                             struct totals *t)
{
    size_t at = msg_begin(b);
    uint32_t stack = rng_below(s->stacks);
    put_packed(b, 1, st->loc + st->off[stack], st->off[stack + 1] - st->off[stack]);
    int64_t count = rng_below(8) == 0 ? 2 + rng_below(9) : 1;
    int64_t values[2] = {count, count * PPROF_PERIOD};
    put_packed(b, 2, values, 2);
    put_pprof_label(b, S_HANDLER, str_handler(s, rng_below(s->handlers)), 0);
    if (rng_below(2) == 0)
        put_pprof_label(b, S_WORKER, 0, 1 + rng_below(64));
    msg_end(b, 2, at);
    t->samples++;
    t->values += 2;
    t->weight += (uint64_t)count;
    t->cpu_nanos += (uint64_t)(count * PPROF_PERIOD);
}

// Mapping { 1 id, 2 start, 3 limit, 4 offset, 5 filename, 6 build_id, 7-10 has_* }
static void put_pprof_mappings(struct buf *b, const struct shape *s)
{
    for (uint32_t i = 0; i < s->mappings; i++) {
        size_t at = msg_begin(b);
        put_uint(b, 1, i + 1);
        put_uint(b, 2, mapping_start(i));
        put_uint(b, 3, mapping_start(i) + 0x2000000);
        put_uint(b, 5, (uint64_t)str_mapping(s, i));
        for (uint32_t f = 7; f <= 10; f++)
            put_uint(b, f, 1);
        msg_end(b, 3, at);
    }
}

// Location { 1 id, 2 mapping_id, 3 address, 4 line { 1 function_id, 2 line } }
static void put_pprof_locations(struct buf *b, const struct shape *s)
{
    for (uint32_t i = 0; i < s->locations; i++) {
        size_t at = msg_begin(b);
        int32_t mapping = rng_index(s->mappings);
        put_uint(b, 1, i + 1);
        put_uint(b, 2, (uint64_t)mapping);
        put_uint(b, 3, mapping_start((uint32_t)mapping - 1) + rng_below(0x2000000));
        uint32_t lines = rng_below(5) == 0 ? 2 : 1;
        for (uint32_t l = 0; l < lines; l++) {
            size_t line = msg_begin(b);
            put_uint(b, 1, (uint64_t)rng_index(s->functions));
            put_uint(b, 2, 1 + rng_below(5000));
            msg_end(b, 4, line);
        }
        msg_end(b, 4, at);
    }
}

// Function { 1 id, 2 name, 3 system_name, 4 filename, 5 start_line }
static void put_pprof_functions(struct buf *b, const struct shape *s)
{
    for (uint32_t i = 0; i < s->functions; i++) {
        size_t at = msg_begin(b);
        put_uint(b, 1, i + 1);
        put_uint(b, 2, (uint64_t)str_function(i));
        put_uint(b, 3, (uint64_t)str_function(i));
        put_uint(b, 4, (uint64_t)str_file(s, rng_below(s->files)));
        put_uint(b, 5, 1 + rng_below(3000));
        msg_end(b, 5, at);
    }
}

static void generate_pprof(struct buf *b, const struct shape *s, struct totals *t)
{
    struct stacks st = stacks_draw(s);
    put_value_type(b, 1, S_SAMPLES, S_COUNT);
    put_value_type(b, 1, S_CPU, S_NANOSECONDS);
    for (uint32_t i = 0; i < s->samples; i++)
        put_pprof_sample(b, s, &st, t);
    put_pprof_mappings(b, s);
    put_pprof_locations(b, s);
    put_pprof_functions(b, s);
    put_string_table(b, 6, s, true);
    put_uint(b, 9, OTLP_TIME_UNIX_NANO);
    put_uint(b, 10, OTLP_DURATION_NANO);
    put_value_type(b, 11, S_CPU, S_NANOSECONDS);
    put_uint(b, 12, PPROF_PERIOD);
    stacks_free(&st);
}

// gzip at the speed setting the Go runtime uses for its profiles.
static struct buf gzip_buf(const struct buf *in)
{
    z_stream z = {0};
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed");
    struct buf out = {0};
    buf_reserve(&out, deflateBound(&z, in->len));
    z.next_in = in->p;
    z.avail_in = (uInt)in->len;
    z.next_out = out.p;
    z.avail_out = (uInt)out.cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("deflate failed");
    out.len = out.cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

// ---- command line ----

static void write_file(const char *path, const struct buf *b)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0) {
        perror(tmp);
        exit(1);
    }
    if (rename(tmp, path) != 0) {
        perror(path);
        exit(1);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: gen otlp|pprof [--samples N] [--shape default|ebpf] [--seed N] OUT\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    bool pprof = strcmp(argv[1], "pprof") == 0;
    if (!pprof && strcmp(argv[1], "otlp") != 0)
        usage();
    uint32_t samples = FULL_SAMPLES;
    const char *out = NULL;
    bool ebpf = false;
    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "--samples") == 0 || strcmp(argv[i], "--seed") == 0) && i + 1 < argc) {
            bool is_seed = argv[i][2] == 's' && argv[i][3] == 'e';
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || (v == 0 && !is_seed) || v > 100000000)
                usage();
            *(is_seed ? &seed : &samples) = (uint32_t)v;
        } else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc && !pprof) {
            ebpf = strcmp(argv[++i], "ebpf") == 0;
            if (!ebpf && strcmp(argv[i], "default") != 0)
                usage();
        } else if (out == NULL && argv[i][0] != '-') {
            out = argv[i];
        } else {
            usage();
        }
    }
    if (out == NULL)
        usage();
    struct shape s = ebpf ? shape_ebpf(samples) : shape_for(samples, pprof);
    struct totals t = {0};
    struct buf b = {0};
    rng_state = (pprof ? 0x70726f66ull : 0x6f746c70ull) + 0x9e3779b97f4a7c15ull * seed;
    if (pprof) {
        generate_pprof(&b, &s, &t);
        struct buf z = gzip_buf(&b);
        fprintf(stderr,
                "gen pprof: samples=%" PRIu64 " values=%" PRIu64 " weight=%" PRIu64
                " cpu_nanos=%" PRIu64 " locations=%" PRIu32 " functions=%" PRIu32
                " mappings=%" PRIu32 " strings=%" PRId32 " unpacked_bytes=%zu bytes=%zu\n",
                t.samples, t.values, t.weight, t.cpu_nanos, s.locations, s.functions, s.mappings,
                string_count(&s, true), b.len, z.len);
        write_file(out, &z);
        free(z.p);
    } else {
        generate_otlp(&b, &s, &t);
        write_file(out, &b);
    }
    free(b.p);
    return 0;
}
