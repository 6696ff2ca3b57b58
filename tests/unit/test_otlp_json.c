// SPDX-License-Identifier: Apache-2.0
//
// The OTLP JSON decoder (engine/decode/otlp_json.c) and its tokenizer
// (engine/decode/json.c): hand-written requests with expectations counted by
// hand, every key spelled snake_case, v1.8 names, numbers as strings and as
// numbers, escapes and surrogate pairs, unknown fields, JSON Lines with a bad
// line, errors with their exact messages, and every truncation of a valid
// request. When PTM_TESTDATA is there, the JSON files of the test data must
// give the same model as the protobuf files they were made from.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/decode.h"
#include "decode/json.h"
#include "model_compare.h"

// ---- helpers ----

struct decoded {
    struct ptm_model *m;
    uint8_t *input;
    int rc;
    struct ptm_error err;
};

// Decode text from a copy of exactly its size, so that ASan sees any read
// past the end. The model keeps views into the copy: both live until done().
static struct decoded decode(const char *text)
{
    struct decoded d;
    size_t len = strlen(text);
    d.m = ptm_model_create();
    assert_non_null(d.m);
    d.input = malloc(len ? len : 1);
    assert_non_null(d.input);
    memcpy(d.input, text, len);
    memset(&d.err, 0, sizeof d.err);
    d.rc = ptm_decode_otlp_json(d.m, d.input, len, PTM_DEFAULT_JSON_MAX_DEPTH, &d.err);
    return d;
}

static struct decoded decode_ok(const char *text)
{
    struct decoded d = decode(text);
    if (d.rc != 0)
        fail_msg("decode failed (%d): %s", d.rc, d.err.message);
    return d;
}

static void done(struct decoded *d)
{
    ptm_model_destroy(d->m);
    free(d->input);
}

static void assert_str(struct ptm_str s, const char *want)
{
    if (s.len != strlen(want) || (s.len && memcmp(s.ptr, want, s.len) != 0))
        fail_msg("got \"%.*s\" (%u bytes), want \"%s\"", (int)s.len, s.ptr ? s.ptr : "", s.len, want);
}

static void assert_bytes(struct ptm_str s, const uint8_t *want, size_t n)
{
    assert_int_equal(s.len, n);
    assert_memory_equal(s.ptr, want, n);
}

static void assert_error(const char *text, int code, const char *message)
{
    struct decoded d = decode(text);
    assert_int_equal(d.rc, code);
    assert_string_equal(d.err.message, message);
    done(&d);
}

static const char *string_at(const struct ptm_model *m, int32_t i)
{
    static char buf[4][256];
    static int which;
    struct ptm_str s = ptm_model_string(m, i);
    char *out = buf[which++ % 4];
    snprintf(out, 256, "%.*s", (int)s.len, s.ptr);
    return out;
}

static int64_t profile_total(const struct ptm_model *m, const struct ptm_profile *p)
{
    int64_t total = 0;
    for (uint32_t i = 0; i < p->samples.len; i++)
        total += ptm_sample_weight(m, p, &m->samples.data[p->samples.off + i]);
    return total;
}

// Both models must be equal in every table, and laid out alike when
// `layout` (the same offsets for every list).
static void assert_same_model(const struct ptm_model *a, const struct ptm_model *b, bool layout)
{
    char why[512];
    unsigned flags = layout ? MODEL_COMPARE_LAYOUT : MODEL_COMPARE_CONTENT;
    if (model_compare(a, b, flags, why, sizeof why) != 0)
        fail_msg("models differ: %s", why);
}

// ---- the hand-written request ----

// Counted by hand:
//   1 resource with 4 attributes (+1 nested in the kvlist = 5 keyvalues,
//   2 anys in the array), dropped 2, schema https://example.com/r
//   1 scope "hand" "1.0"
//   1 profile samples/count, period cpu/nanoseconds 10000000, id 00..0f,
//     attribute 1; samples: 2 timestamps only (weight 2), value 3 (weight
//     3), values 4 and 5 (weight 9) -> total 14
//   strings 9, functions 3, mappings 2, locations 3 (3 lines), stacks 3,
//   attributes 3, links 2; indices: 1 profile + 2 sample attributes + 3
//   stack locations = 6; values 3, timestamps 2.
static const char HAND[] =
    "{\n"
    "  \"resourceProfiles\": [{\n"
    "    \"resource\": {\"attributes\": [\n"
    "        {\"key\": \"service.name\", \"value\": {\"stringValue\": \"caf\\u00e9 \\ud83d\\ude00\"}},\n"
    "        {\"key\": \"tags\", \"value\": {\"arrayValue\": {\"values\": [{\"stringValue\": \"a\"}, {\"intValue\": 7}]}}},\n"
    "        {\"key\": \"nested\", \"value\": {\"kvlistValue\": {\"values\": [{\"key\": \"x\", \"value\": {\"boolValue\": true}}]}}},\n"
    "        {\"keyStrindex\": 5, \"value\": {\"stringValueStrindex\": 6}}\n"
    "      ], \"droppedAttributesCount\": 2},\n"
    "    \"scopeProfiles\": [{\n"
    "      \"scope\": {\"name\": \"hand\", \"version\": \"1.0\", \"unknownScopeField\": {\"a\": [1]}},\n"
    "      \"profiles\": [{\n"
    "        \"sampleType\": {\"typeStrindex\": 1, \"unitStrindex\": 2},\n"
    "        \"periodType\": {\"typeStrindex\": 3, \"unitStrindex\": 4}, \"period\": \"10000000\",\n"
    "        \"timeUnixNano\": \"1700000000000000000\", \"durationNano\": 5000000000,\n"
    "        \"profileId\": \"000102030405060708090a0b0c0d0e0f\",\n"
    "        \"attributeIndices\": [1],\n"
    "        \"samples\": [\n"
    "          {\"stackIndex\": 1, \"timestampsUnixNano\": [\"1700000000000000001\", \"1700000000000000002\"]},\n"
    "          {\"stackIndex\": \"2\", \"values\": [\"3\"], \"attributeIndices\": [1, 2], \"linkIndex\": 1},\n"
    "          {\"stackIndex\": 2, \"values\": [4, \"5\"], \"futureField\": null}\n"
    "        ]}]}],\n"
    "    \"schemaUrl\": \"https://example.com/r\"\n"
    "  }],\n"
    "  \"dictionary\": {\n"
    "    \"stringTable\": [\"\", \"samples\", \"count\", \"cpu\", \"nanoseconds\", \"host\", \"h\\\"1\", \"main\", \"work\"],\n"
    "    \"functionTable\": [{}, {\"nameStrindex\": 7}, {\"nameStrindex\": 8, \"startLine\": \"12\"}],\n"
    "    \"mappingTable\": [{}, {\"memoryStart\": \"4194304\", \"memoryLimit\": \"5242880\", \"filenameStrindex\": 5}],\n"
    "    \"locationTable\": [{}, {\"mappingIndex\": 1, \"address\": \"4198400\", \"lines\": [{\"functionIndex\": 1, \"line\": \"10\"}]},\n"
    "      {\"lines\": [{\"functionIndex\": 2, \"line\": 20, \"column\": 3}, {\"functionIndex\": 1}]}],\n"
    "    \"stackTable\": [{}, {\"locationIndices\": [1]}, {\"locationIndices\": [2, 1]}],\n"
    "    \"attributeTable\": [{}, {\"keyStrindex\": 5, \"value\": {\"stringValue\": \"a\"}},\n"
    "      {\"keyStrindex\": 5, \"value\": {\"intValue\": \"-3\"}, \"unitStrindex\": 2}],\n"
    "    \"linkTable\": [{}, {\"traceId\": \"0102030405060708090a0b0c0d0e0f10\", \"spanId\": \"1112131415161718\"}],\n"
    "    \"unknownTable\": {\"deep\": [[1, 2, {\"x\": null}], \"s\\u0041\", -0.5e-3, false]}\n"
    "  },\n"
    "  \"somethingElse\": [true, false, null, 1.5e10]\n"
    "}\n";

static void check_hand_resource(const struct ptm_model *m)
{
    assert_int_equal(m->resources.len, 1);
    const struct ptm_resource *r = &m->resources.data[0];
    assert_int_equal(r->dropped_attributes_count, 2);
    assert_str(r->schema_url, "https://example.com/r");
    assert_int_equal(r->attributes.len, 4);
    assert_int_equal(m->keyvalues.len, 5);
    assert_int_equal(m->anys.len, 2);
    const struct ptm_keyvalue *kv = &m->keyvalues.data[r->attributes.off];
    assert_str(kv[0].key, "service.name");
    assert_int_equal(kv[0].value.kind, PTM_ANY_STRING);
    assert_str(kv[0].value.u.str, "caf\xc3\xa9 \xf0\x9f\x98\x80"); // U+00E9, U+1F600
    assert_str(kv[1].key, "tags");
    assert_int_equal(kv[1].value.kind, PTM_ANY_ARRAY);
    assert_int_equal(kv[1].value.u.list.len, 2);
    const struct ptm_any *items = &m->anys.data[kv[1].value.u.list.off];
    assert_str(items[0].u.str, "a");
    assert_int_equal(items[1].kind, PTM_ANY_INT);
    assert_int_equal(items[1].u.i, 7);
    assert_int_equal(kv[2].value.kind, PTM_ANY_KVLIST);
    assert_int_equal(kv[2].value.u.list.len, 1);
    // The nested kvlist comes after the resource's block of 4.
    assert_int_equal(kv[2].value.u.list.off, r->attributes.off + 4);
    const struct ptm_keyvalue *x = &m->keyvalues.data[kv[2].value.u.list.off];
    assert_str(x->key, "x");
    assert_int_equal(x->value.kind, PTM_ANY_BOOL);
    assert_int_equal(x->value.u.i, 1);
    // Key and value given as string-table indices, resolved by the batch.
    assert_str(kv[3].key, "host");
    assert_str(kv[3].value.u.str, "h\"1");
    assert_int_equal(m->scopes.len, 1);
    assert_str(m->scopes.data[0].name, "hand");
    assert_str(m->scopes.data[0].version, "1.0");
}

static void check_hand_dictionary(const struct ptm_model *m)
{
    assert_int_equal(m->strings.len, 9);
    assert_int_equal(m->functions.len, 3);
    assert_int_equal(m->mappings.len, 2);
    assert_int_equal(m->locations.len, 3);
    assert_int_equal(m->lines.len, 3);
    assert_int_equal(m->stacks.len, 3);
    assert_int_equal(m->attributes.len, 3);
    assert_int_equal(m->links.len, 2);
    assert_int_equal(m->indices.len, 6);
    assert_string_equal(string_at(m, m->functions.data[2].name), "work");
    assert_int_equal(m->functions.data[2].start_line, 12);
    assert_int_equal(m->mappings.data[1].memory_start, 0x400000);
    assert_int_equal(m->mappings.data[1].memory_limit, 0x500000);
    assert_int_equal(m->locations.data[1].address, 0x401000);
    const struct ptm_location *loc = &m->locations.data[2];
    assert_int_equal(loc->lines.len, 2);
    assert_int_equal(m->lines.data[loc->lines.off].function, 2);
    assert_int_equal(m->lines.data[loc->lines.off].line, 20);
    assert_int_equal(m->lines.data[loc->lines.off].column, 3);
    assert_int_equal(ptm_model_leaf_function(m, 2), 2);
    const struct ptm_attribute *a = &m->attributes.data[2];
    assert_string_equal(string_at(m, a->key), "host");
    assert_string_equal(string_at(m, a->unit), "count");
    assert_int_equal(a->value.u.i, -3);
    static const uint8_t trace[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t span[8] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    assert_bytes(m->links.data[1].trace_id, trace, 16);
    assert_bytes(m->links.data[1].span_id, span, 8);
}

static void check_hand_profile(const struct ptm_model *m)
{
    assert_int_equal(m->profiles.len, 1);
    const struct ptm_profile *p = &m->profiles.data[0];
    assert_string_equal(string_at(m, p->sample_type.type), "samples");
    assert_string_equal(string_at(m, p->sample_type.unit), "count");
    assert_string_equal(string_at(m, p->period_type.type), "cpu");
    assert_string_equal(string_at(m, p->period_type.unit), "nanoseconds");
    assert_int_equal(p->period, 10000000);
    assert_int_equal(p->time_unix_nano, 1700000000000000000ull);
    assert_int_equal(p->duration_nano, 5000000000ull);
    assert_int_equal(p->value_column, -1);
    static const uint8_t id[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    assert_bytes(p->profile_id, id, 16);
    assert_int_equal(p->attributes.len, 1);
    assert_int_equal(p->samples.len, 3);
    assert_int_equal(m->values.len, 3);
    assert_int_equal(m->timestamps.len, 2);
    const struct ptm_sample *s = &m->samples.data[p->samples.off];
    assert_int_equal(ptm_sample_weight(m, p, &s[0]), 2);
    assert_int_equal(ptm_sample_weight(m, p, &s[1]), 3);
    assert_int_equal(ptm_sample_weight(m, p, &s[2]), 9);
    assert_int_equal(profile_total(m, p), 14);
    assert_int_equal(s[1].link, 1);
    assert_int_equal(s[1].attributes.len, 2);
    assert_int_equal(m->timestamps.data[s[0].timestamps.off + 1], 1700000000000000002ull);
}

static void test_hand_request(void **state)
{
    (void)state;
    struct decoded d = decode_ok(HAND);
    assert_int_equal(d.m->batches.len, 1);
    assert_int_equal(d.m->batches.data[0].format, PTM_FORMAT_OTLP_JSON);
    assert_int_equal(d.m->batches.data[0].otlp_version, 10);
    check_hand_resource(d.m);
    check_hand_dictionary(d.m);
    check_hand_profile(d.m);
    // Strings without escapes are views into the input; escaped ones are not.
    const uint8_t *in = d.input, *in_end = d.input + strlen(HAND);
    struct ptm_str plain = d.m->scopes.data[0].name;
    assert_true((const uint8_t *)plain.ptr > in && (const uint8_t *)plain.ptr < in_end);
    struct ptm_str escaped = d.m->strings.data[6];
    assert_false((const uint8_t *)escaped.ptr >= in && (const uint8_t *)escaped.ptr < in_end);
    done(&d);
}

// The same request through ptm_decode (format detection) with a byte order
// mark in front, and with every key rewritten from lowerCamelCase to the
// proto field name: the model must not change.
static char *to_snake_case(const char *json)
{
    size_t n = strlen(json);
    char *out = malloc(2 * n + 1), *o = out;
    assert_non_null(out);
    for (const char *p = json; *p;) {
        if (*p != '"') {
            *o++ = *p++;
            continue;
        }
        const char *end = p + 1;
        while (*end != '"')
            end += *end == '\\' ? 2 : 1;
        const char *after = end + 1;
        while (*after == ' ')
            after++;
        bool key = *after == ':';
        for (const char *c = p; c <= end; c++) {
            if (key && *c >= 'A' && *c <= 'Z') {
                *o++ = '_';
                *o++ = (char)(*c - 'A' + 'a');
            } else {
                *o++ = *c;
            }
        }
        p = end + 1;
    }
    *o = '\0';
    return out;
}

static void test_snake_case_and_detection(void **state)
{
    (void)state;
    struct decoded camel = decode_ok(HAND);
    char *snake = to_snake_case(HAND);
    assert_non_null(strstr(snake, "\"resource_profiles\""));
    assert_non_null(strstr(snake, "\"timestamps_unix_nano\""));
    assert_null(strstr(snake, "stackIndex"));
    struct decoded s = decode_ok(snake);
    assert_same_model(camel.m, s.m, true);
    done(&s);

    // The comparison is not blind: one value changed is a difference.
    char *changed = strdup(HAND);
    assert_non_null(changed);
    memcpy(strstr(changed, "[4, \"5\"]"), "[4, \"6\"]", 8);
    struct decoded c = decode_ok(changed);
    char why[256];
    assert_int_equal(model_compare(camel.m, c.m, MODEL_COMPARE_CONTENT, why, sizeof why), -1);
    assert_non_null(strstr(why, "values"));
    done(&c);
    free(changed);

    size_t len = strlen(HAND);
    uint8_t *bom = malloc(len + 3);
    assert_non_null(bom);
    memcpy(bom, "\xef\xbb\xbf", 3);
    memcpy(bom + 3, HAND, len);
    struct ptm_model *m = ptm_model_create();
    struct ptm_error err;
    assert_int_equal(ptm_detect_format(bom, len + 3), PTM_FORMAT_OTLP_JSON);
    int rc = ptm_decode(m, bom, len + 3, NULL, &err);
    if (rc != 0)
        fail_msg("%s", err.message);
    assert_same_model(camel.m, m, true);
    ptm_model_destroy(m);
    free(bom);
    free(snake);
    done(&camel);
}

// ---- v1.8 names ----

static const char V18[] =
    "{\"resourceProfiles\":[{\"scopeProfiles\":[{\"profiles\":[{"
    "\"sampleType\":{\"typeStrindex\":1,\"unitStrindex\":2,\"aggregationTemporality\":1},"
    "\"sample\":[{\"stackIndex\":1,\"values\":[\"7\"]},{\"stackIndex\":1,\"values\":[\"8\"]}],"
    "\"commentStrindices\":[3]}]}]}],"
    "\"dictionary\":{\"stringTable\":[\"\",\"cpu\",\"nanoseconds\",\"a comment\",\"f\"],"
    "\"functionTable\":[{},{\"nameStrindex\":4}],"
    "\"locationTable\":[{},{\"line\":[{\"functionIndex\":1,\"line\":\"9\"}]}],"
    "\"stackTable\":[{},{\"locationIndices\":[1]}]}}";

static void test_v18_names(void **state)
{
    (void)state;
    struct decoded d = decode_ok(V18);
    const struct ptm_model *m = d.m;
    assert_int_equal(m->batches.data[0].otlp_version, 8);
    assert_int_equal(m->profiles.len, 1);
    const struct ptm_profile *p = &m->profiles.data[0];
    assert_int_equal(p->samples.len, 2);
    assert_int_equal(profile_total(m, p), 15);
    assert_int_equal(p->comments.len, 1);
    assert_string_equal(string_at(m, m->indices.data[p->comments.off]), "a comment");
    assert_int_equal(m->locations.data[1].lines.len, 1);
    assert_int_equal(m->lines.data[m->locations.data[1].lines.off].line, 9);
    assert_int_equal(ptm_model_leaf_function(m, 1), 1);
    done(&d);
}

// ---- numbers ----

#define ONE_SAMPLE(sample)                                                                    \
    "{\"resourceProfiles\":[{\"scopeProfiles\":[{\"profiles\":[{\"samples\":[" sample "]}]}]}]," \
    "\"dictionary\":{\"stringTable\":[\"\"],\"stackTable\":[{},{}]}}"

static void test_numbers(void **state)
{
    (void)state;
    struct decoded d = decode_ok(ONE_SAMPLE(
        "{\"stackIndex\":1,\"values\":[\"9223372036854775807\",\"9223372036854775806\",1e3,"
        "\"1.5e1\",0,-0,\"120e-1\"]}"));
    const int64_t want[] = {INT64_MAX, INT64_MAX - 1, 1000, 15, 0, 0, 12};
    assert_int_equal(d.m->values.len, 7);
    assert_memory_equal(d.m->values.data, want, sizeof want);
    done(&d);

    d = decode_ok("{\"dictionary\":{\"mappingTable\":[{},{\"memoryLimit\":\"18446744073709551615\","
                  "\"memoryStart\":18446744073709551615,\"fileOffset\":\"-0\"}],"
                  "\"attributeTable\":[{},{\"value\":{\"doubleValue\":-1.25e-3}},"
                  "{\"value\":{\"doubleValue\":\"NaN\"}},{\"value\":{\"doubleValue\":\"-Infinity\"}},"
                  "{\"value\":{\"doubleValue\":\"2.5\"}},{\"value\":{\"doubleValue\":3}}]}}");
    assert_int_equal(d.m->mappings.data[1].memory_limit, UINT64_MAX);
    assert_int_equal(d.m->mappings.data[1].memory_start, UINT64_MAX);
    assert_int_equal(d.m->mappings.data[1].file_offset, 0);
    const struct ptm_attribute *a = d.m->attributes.data;
    assert_int_equal(a[1].value.kind, PTM_ANY_DOUBLE);
    assert_true(a[1].value.u.d == -0.00125);
    assert_true(isnan(a[2].value.u.d));
    assert_true(isinf(a[3].value.u.d) && a[3].value.u.d < 0);
    assert_true(a[4].value.u.d == 2.5);
    assert_true(a[5].value.u.d == 3.0);
    done(&d);

    // Conversions on their own.
    int64_t i;
    uint64_t u;
    double x;
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"1.50e1", 6}, &i), PTM_JSON_NUMBER_OK);
    assert_int_equal(i, 15);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"-9223372036854775808", 20}, &i), PTM_JSON_NUMBER_OK);
    assert_true(i == INT64_MIN); // (a sample value this negative is refused by validation, not here)
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"0.5", 3}, &i), PTM_JSON_NOT_AN_INTEGER);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"0e99999999999", 13}, &i), PTM_JSON_NUMBER_OK);
    assert_int_equal(i, 0);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"1e19", 4}, &i), PTM_JSON_OUT_OF_RANGE);
    assert_int_equal(ptm_json_to_uint64((struct ptm_str){"1e19", 4}, &u), PTM_JSON_NUMBER_OK);
    assert_int_equal(u, 10000000000000000000ull);
    assert_int_equal(ptm_json_to_uint64((struct ptm_str){"18446744073709551616", 20}, &u),
                     PTM_JSON_OUT_OF_RANGE);
    assert_int_equal(ptm_json_to_uint64((struct ptm_str){"-1", 2}, &u), PTM_JSON_OUT_OF_RANGE);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"01", 2}, &i), PTM_JSON_NOT_A_NUMBER);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){" 1", 2}, &i), PTM_JSON_NOT_A_NUMBER);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"+1", 2}, &i), PTM_JSON_NOT_A_NUMBER);
    assert_int_equal(ptm_json_to_int64((struct ptm_str){"", 0}, &i), PTM_JSON_NOT_A_NUMBER);
    assert_int_equal(ptm_json_to_double((struct ptm_str){"1e400", 5}, &x), PTM_JSON_OUT_OF_RANGE);
    assert_int_equal(ptm_json_to_double((struct ptm_str){"1.", 2}, &x), PTM_JSON_NOT_A_NUMBER);
}

// ---- strings ----

static void test_escapes_and_bytes(void **state)
{
    (void)state;
    // Every simple escape, a 2-byte, a 3-byte and a 4-byte character,
    // \u0000, and raw bytes that are not UTF-8 (kept as they are).
    struct decoded d = decode_ok(
        "{\"dictionary\":{\"stringTable\":[\"\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
        "\"\\u00e9\\u20AC\\uD834\\uDD1E\",\"a\\u0000b\",\"\xff\xfe\xc3\"]}}");
    assert_int_equal(d.m->strings.len, 5);
    assert_bytes(d.m->strings.data[1], (const uint8_t *)"\"\\/\b\f\n\r\t", 8);
    assert_bytes(d.m->strings.data[2], (const uint8_t *)"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", 9);
    assert_bytes(d.m->strings.data[3], (const uint8_t *)"a\0b", 3);
    assert_bytes(d.m->strings.data[4], (const uint8_t *)"\xff\xfe\xc3", 3);
    done(&d);

    // Ids as base64 (what protobuf's own JSON printers write) and hex; bytes
    // values in standard and URL-safe base64, with and without padding.
    d = decode_ok("{\"dictionary\":{\"linkTable\":[{},"
                  "{\"traceId\":\"AQIDBAUGBwgJCgsMDQ4PEA==\",\"spanId\":\"ERITFBUWFxg=\"},"
                  "{\"trace_id\":\"0102030405060708090A0B0C0D0E0F10\",\"span_id\":\"1112131415161718\"}],"
                  "\"attributeTable\":[{},{\"value\":{\"bytesValue\":\"+/8=\"}},"
                  "{\"value\":{\"bytesValue\":\"-_8\"}},{\"value\":{\"bytesValue\":\"\"}}]}}");
    struct ptm_link *l = d.m->links.data;
    assert_int_equal(l[1].trace_id.len, 16);
    assert_memory_equal(l[1].trace_id.ptr, l[2].trace_id.ptr, 16);
    assert_int_equal(l[1].span_id.len, 8);
    assert_memory_equal(l[1].span_id.ptr, l[2].span_id.ptr, 8);
    assert_int_equal(l[2].span_id.ptr[7], 0x18);
    assert_bytes(d.m->attributes.data[1].value.u.str, (const uint8_t *)"\xfb\xff", 2);
    assert_bytes(d.m->attributes.data[2].value.u.str, (const uint8_t *)"\xfb\xff", 2);
    assert_int_equal(d.m->attributes.data[3].value.kind, PTM_ANY_BYTES);
    assert_int_equal(d.m->attributes.data[3].value.u.str.len, 0);
    done(&d);
}

// ---- errors, with their exact messages ----

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_error("", PTM_EFORMAT, "unexpected end of input, expected a value at line 1, column 1 (byte 0)");
    assert_error("[]", PTM_EFORMAT, "expected an object at line 1, column 1 (byte 0)");
    assert_error("{\"resourceProfiles\": [", PTM_EFORMAT,
                 "resourceProfiles[0]: unexpected end of input, expected a value at line 1, column 23 (byte 22)");
    assert_error("{\"dictionary\": {\"stringTable\": [\"\", \"ab", PTM_EFORMAT,
                 "dictionary.stringTable[1]: unterminated string at line 1, column 37 (byte 36)");
    assert_error("{\n  \"dictionary\": {\"stringTable\": [\"\\q\"]}}", PTM_EFORMAT,
                 "dictionary.stringTable[0]: invalid escape '\\q' at line 2, column 35 (byte 36)");
    assert_error("{\"a\": \"\\ud800x\"}", PTM_EFORMAT,
                 "unpaired surrogate \\uD800 at line 1, column 8 (byte 7)");
    assert_error("{\"a\": \"\\udc00\"}", PTM_EFORMAT,
                 "unpaired surrogate \\uDC00 at line 1, column 8 (byte 7)");
    assert_error("{\"a\": \"\\u12\"}", PTM_EFORMAT,
                 "invalid \\u escape (4 hex digits must follow) at line 1, column 8 (byte 7)");
    assert_error("{\"a\": \"x\ty\"}", PTM_EFORMAT,
                 "unescaped control character 0x09 in a string at line 1, column 9 (byte 8)");
    assert_error("{\"a\": 01}", PTM_EFORMAT, "invalid number: leading zero at line 1, column 7 (byte 6)");
    assert_error("{\"a\": NaN}", PTM_EFORMAT, "expected a value but found 'N' at line 1, column 7 (byte 6)");
    assert_error("{\"a\": 1.}", PTM_EFORMAT,
                 "invalid number: expected a digit after '.' at line 1, column 9 (byte 8)");
    assert_error("{\"a\": tru}", PTM_EFORMAT, "invalid literal (expected 'true') at line 1, column 7 (byte 6)");
    assert_error("{\"a\": 1,}", PTM_EFORMAT, "expected a key but found '}' at line 1, column 9 (byte 8)");
    assert_error("{\"a\" 1}", PTM_EFORMAT, "expected ':' but found '1' at line 1, column 6 (byte 5)");
    assert_error("{\"a\": [1 2]}", PTM_EFORMAT, "expected ',' or ']' but found '2' at line 1, column 10 (byte 9)");
    assert_error("{} x", PTM_EFORMAT, "unexpected data after the JSON document at line 1, column 4 (byte 3)");
}

static void test_depth_limit(void **state)
{
    (void)state;
    // An unknown field holding 63 nested arrays: 64 levels with the request
    // object, the limit, so it is skipped. One more is an error.
    char doc[256];
    int n = snprintf(doc, sizeof doc, "{\"x\":%.*s%.*s}", 63,
                     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 63,
                     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_int_equal(n, 132);
    struct decoded d = decode_ok(doc);
    assert_int_equal(d.m->batches.len, 1);
    done(&d);
    snprintf(doc, sizeof doc, "{\"x\":%.*s%.*s}", 64,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 64,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    // The 65th container is the 64th '[', at byte 5 + 63.
    assert_error(doc, PTM_ELIMIT, "nesting deeper than 64 levels at line 1, column 69 (byte 68)");
    // The limit is a parameter.
    struct ptm_model *m = ptm_model_create();
    struct ptm_error err;
    const char *three = "{\"a\":[[1]]}";
    assert_int_equal(ptm_decode_otlp_json(m, (const uint8_t *)three, strlen(three), 2, &err), PTM_ELIMIT);
    assert_string_equal(err.message, "nesting deeper than 2 levels at line 1, column 7 (byte 6)");
    assert_int_equal(ptm_decode_otlp_json(m, (const uint8_t *)three, strlen(three), 3, &err), 0);
    // With a high limit, attribute values still stop at 32 levels (each
    // arrayValue is 3 JSON levels: the AnyValue, the ArrayValue, the list).
    char deep[2048] = "{\"dictionary\":{\"attributeTable\":[{\"value\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "{\"arrayValue\":{\"values\":[");
    strcat(deep, "{}");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]}}");
    strcat(deep, "}]}}");
    ptm_model_reset(m);
    assert_int_equal(ptm_decode_otlp_json(m, (const uint8_t *)deep, strlen(deep), 200, &err), PTM_EFORMAT);
    assert_non_null(strstr(err.message, ": attribute values nested deeper than 32 levels at line 1, column 843 (byte 842)"));
    ptm_model_destroy(m);
}

static void test_type_errors(void **state)
{
    (void)state;
    assert_error(ONE_SAMPLE("{\"stackIndex\":1},{\"stackIndex\":\"x\"}"), PTM_EFORMAT,
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[1].stackIndex: "
                 "expected an integer at line 1, column 96 (byte 95)");
    assert_error(ONE_SAMPLE("{\"stackIndex\":1.5}"), PTM_EFORMAT,
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].stackIndex: "
                 "expected an integer at line 1, column 79 (byte 78)");
    assert_error(ONE_SAMPLE("{\"stackIndex\":2147483648}"), PTM_EFORMAT,
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].stackIndex: "
                 "2147483648 is out of range for int32 at line 1, column 79 (byte 78)");
    assert_error(ONE_SAMPLE("{\"values\":[\"1\",\"9223372036854775808\"]}"), PTM_EFORMAT,
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].values[1]: "
                 "9223372036854775808 is out of range for int64 at line 1, column 80 (byte 79)");
    assert_error(ONE_SAMPLE("{\"timestampsUnixNano\":[\"-1\"]}"), PTM_EFORMAT,
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].timestampsUnixNano[0]: "
                 "-1 is out of range for uint64 at line 1, column 88 (byte 87)");
    assert_error(ONE_SAMPLE("{\"stackIndex\":1,\"stack_index\":1}"), PTM_EFORMAT,
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].stackIndex: "
                 "duplicate key at line 1, column 81 (byte 80)");
    assert_error("{\"dictionary\":{\"stringTable\":[\"\",1]}}", PTM_EFORMAT,
                 "dictionary.stringTable[1]: expected a string at line 1, column 34 (byte 33)");
    assert_error("{\"resourceProfiles\":{}}", PTM_EFORMAT,
                 "resourceProfiles: expected an array at line 1, column 21 (byte 20)");
    assert_error("{\"dictionary\":{\"linkTable\":[{\"traceId\":\"xyz!\"}]}}", PTM_EFORMAT,
                 "dictionary.linkTable[0].traceId: expected a hex or base64 string at line 1, column 40 (byte 39)");
    assert_error("{\"dictionary\":{\"attributeTable\":[{\"value\":{\"stringValue\":\"a\",\"intValue\":1}}]}}",
                 PTM_EFORMAT,
                 "dictionary.attributeTable[0].value.intValue: a second value in one AnyValue "
                 "at line 1, column 73 (byte 72)");
    assert_error("{\"dictionary\":{\"attributeTable\":[{\"value\":{\"boolValue\":\"true\"}}]}}", PTM_EFORMAT,
                 "dictionary.attributeTable[0].value.boolValue: expected true or false at line 1, column 56 (byte 55)");
}

// Indices are checked by ptm_batch_finish: one bad profile of two is left
// out and the batch kept; a request whose only profile is bad is dropped.
static void test_bad_indices(void **state)
{
    (void)state;
    struct decoded d = decode(
        "{\"resourceProfiles\":[{\"scopeProfiles\":[{\"profiles\":["
        "{\"samples\":[{\"stackIndex\":1,\"values\":[\"2\"]}]},"
        "{\"samples\":[{\"stackIndex\":7,\"values\":[\"3\"]}]}]}]}],"
        "\"dictionary\":{\"stringTable\":[\"\"],\"stackTable\":[{},{}]}}");
    assert_int_equal(d.rc, PTM_EFORMAT);
    assert_string_equal(d.err.message, "1 of 2 profiles rejected, the first: profile 1, sample 0: "
                                       "stack_index 7 out of range (stack_table has 2 entries)");
    assert_int_equal(d.m->batches.len, 1);
    assert_int_equal(d.m->profiles.len, 1);
    assert_int_equal(d.m->rejected_profiles, 1);
    assert_int_equal(profile_total(d.m, &d.m->profiles.data[0]), 2);
    done(&d);

    d = decode(ONE_SAMPLE("{\"stackIndex\":2}"));
    assert_int_equal(d.rc, PTM_EFORMAT);
    assert_string_equal(d.err.message, "profile 0, sample 0: stack_index 2 out of range (stack_table has 2 entries)");
    assert_int_equal(d.m->batches.len, 0);
    assert_int_equal(d.m->samples.len, 0);
    assert_int_equal(d.m->rejected_profiles, 0);
    done(&d);
}

// ---- JSON Lines ----

#define LINE_OK(values) ONE_SAMPLE("{\"stackIndex\":1,\"values\":[" values "]}")

static void test_json_lines(void **state)
{
    (void)state;
    // Line 3 is bad, line 4 is blank: lines 1, 2 and 5 decode.
    const char *text = LINE_OK("\"5\"") "\n" LINE_OK("1,2") "\r\n"
                       ONE_SAMPLE("{\"stackIndex\":\"x\"}") "\n   \n" LINE_OK("\"100\"") "\n";
    struct decoded d = decode(text);
    assert_int_equal(d.rc, PTM_EFORMAT);
    // Each line is 158 bytes; line 3 starts at byte 319 (after "\n" and
    // "\r\n"), its bad value at column 79.
    assert_string_equal(d.err.message,
                        "line 3: resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].stackIndex: "
                        "expected an integer at line 3, column 79 (byte 397)");
    const struct ptm_model *m = d.m;
    assert_int_equal(m->batches.len, 3);
    assert_int_equal(m->batches.data[0].index, 0);
    assert_int_equal(m->batches.data[1].index, 1);
    assert_int_equal(m->batches.data[2].index, 4);
    assert_int_equal(m->profiles.len, 3);
    assert_int_equal(profile_total(m, &m->profiles.data[0]), 5);
    assert_int_equal(profile_total(m, &m->profiles.data[1]), 3);
    assert_int_equal(profile_total(m, &m->profiles.data[2]), 100);
    // Each batch's indices were rebased onto its own tables.
    assert_int_equal(m->profiles.data[2].batch, 2);
    const struct ptm_sample *s = &m->samples.data[m->profiles.data[2].samples.off];
    assert_int_equal(s->stack, (int32_t)m->batches.data[2].stacks.off + 1);
    done(&d);

    // A broken first line does not hide the others.
    d = decode("{\"resourceProfiles\":[}\n" LINE_OK("\"4\"") "\n");
    assert_int_equal(d.rc, PTM_EFORMAT);
    assert_string_equal(d.err.message, "line 1: resourceProfiles[0]: expected a value but found '}' "
                                       "at line 1, column 22 (byte 21)");
    assert_int_equal(d.m->batches.len, 1);
    assert_int_equal(d.m->batches.data[0].index, 1);
    done(&d);

    // A document that spans lines is one request, not lines, even when one
    // of its lines is a complete JSON value.
    d = decode("{\n\"resourceProfiles\":\n[]\n}\n\n");
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.m->batches.len, 1);
    done(&d);
    d = decode_ok("{\"resourceProfiles\": [\n"
                  "{\"scopeProfiles\": [{\"profiles\": [{\"samples\": [{\"stackIndex\": 1, \"values\": [\"6\"]}]}]}]}\n"
                  "], \"dictionary\": {\"stringTable\": [\"\"], \"stackTable\": [{}, {}]}}\n");
    assert_int_equal(d.m->batches.len, 1);
    assert_int_equal(profile_total(d.m, &d.m->profiles.data[0]), 6);
    done(&d);
    assert_error("{\n}\nx", PTM_EFORMAT, "unexpected data after the JSON document at line 3, column 1 (byte 4)");

    // Data after the request on a line of JSON Lines is that line's error.
    d = decode("{} x\n{}\n");
    assert_int_equal(d.rc, PTM_EFORMAT);
    assert_string_equal(d.err.message, "line 1: unexpected data after the JSON document at line 1, column 4 (byte 3)");
    assert_int_equal(d.m->batches.len, 1);
    assert_int_equal(d.m->batches.data[0].index, 1);
    done(&d);
}

// Every proper prefix of a valid request is an error, never a crash, and
// leaves the model empty.
static void test_truncation(void **state)
{
    (void)state;
    size_t len = strlen(HAND);
    for (size_t n = 0; n < len; n++) {
        struct ptm_model *m = ptm_model_create();
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, HAND, n);
        struct ptm_error err;
        int rc = ptm_decode_otlp_json(m, copy, n, PTM_DEFAULT_JSON_MAX_DEPTH, &err);
        // The prefix up to the closing brace is the whole request.
        if (n == len - 1)
            assert_int_equal(rc, 0);
        else if (rc == 0)
            fail_msg("prefix of %zu bytes decoded", n);
        else
            assert_int_equal(m->batches.len, 0);
        free(copy);
        ptm_model_destroy(m);
    }
}

// Every byte of the request replaced by a few others: an error or a model,
// never a crash.
static void test_corruption(void **state)
{
    (void)state;
    static const char replacements[] = {'\0', '"', '\\', '{', '[', ']', '}', ',', ':', '1', '\xff'};
    size_t len = strlen(HAND);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    struct ptm_model *m = ptm_model_create();
    for (size_t i = 0; i < len; i++) {
        for (size_t r = 0; r < sizeof replacements; r++) {
            memcpy(copy, HAND, len);
            copy[i] = (uint8_t)replacements[r];
            struct ptm_error err;
            ptm_model_reset(m);
            int rc = ptm_decode_otlp_json(m, copy, len, PTM_DEFAULT_JSON_MAX_DEPTH, &err);
            // Batches survive an error only when some profiles were
            // rejected or the damage made the text read as JSON Lines
            // (e.g. a first line "1"), where the good lines are kept.
            if (rc != 0 && m->batches.len != 0 && m->rejected_profiles == 0 &&
                strncmp(err.message, "line ", 5) != 0)
                fail_msg("byte %zu -> 0x%02x: %u batches kept after: %s", i,
                         (uint8_t)replacements[r], m->batches.len, err.message);
            if (rc != 0)
                assert_true(err.message[0] != '\0');
        }
    }
    ptm_model_destroy(m);
    free(copy);
}

// The tokenizer on its own: skipping, counting, positions.
static void test_tokenizer(void **state)
{
    (void)state;
    const char *text = "[1, {\"a\": [true, null]}, \"x\\n\", [], -2.5e3]";
    struct ptm_json j;
    struct ptm_json_token t;
    ptm_json_init(&j, (const uint8_t *)text, 0, strlen(text), 1, 8, NULL, NULL);
    j.unescape = false;
    assert_int_equal(ptm_json_next(&j, &t), 0);
    assert_int_equal(t.kind, PTM_JSON_ARRAY);
    uint32_t n = 0;
    assert_int_equal(ptm_json_count_elements(&j, &n), 0);
    assert_int_equal(n, 5);
    static const uint8_t kinds[] = {PTM_JSON_NUMBER, PTM_JSON_OBJECT, PTM_JSON_STRING, PTM_JSON_ARRAY,
                                    PTM_JSON_NUMBER, PTM_JSON_ARRAY_END};
    for (size_t i = 0; i < sizeof kinds; i++) {
        assert_int_equal(ptm_json_next(&j, &t), 0);
        assert_int_equal(t.kind, kinds[i]);
        assert_int_equal(ptm_json_skip(&j, &t), 0);
    }
    assert_true(t.kind == PTM_JSON_ARRAY_END && ptm_json_done(&j));
    assert_int_equal(ptm_json_next(&j, &t), 0);
    assert_int_equal(t.kind, PTM_JSON_EOF);
}

// ---- the test data ----

static const char *testdata(const char *rel)
{
    static char path[4096];
    const char *root = getenv("PTM_TESTDATA");
    struct stat st;
    if (root == NULL)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return stat(path, &st) == 0 ? path : NULL;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    uint8_t *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return data;
}

static struct ptm_model *decode_file(const char *rel, uint8_t **data)
{
    size_t len;
    *data = read_file(testdata(rel), &len);
    struct ptm_model *m = ptm_model_create();
    struct ptm_error err;
    int rc = ptm_decode(m, *data, len, NULL, &err);
    if (rc != 0)
        fail_msg("%s: %s", rel, err.message);
    return m;
}

// Without the test data the test passes with a "# SKIP" note: cmocka's
// skip() prints "not ok", which tests/run would count as a failure.
static bool have_testdata(const char *rel)
{
    if (testdata(rel) != NULL)
        return true;
    print_message("# SKIP %s is not in PTM_TESTDATA\n", rel);
    return false;
}

static void compare_json_with_binary(const char *json, const char *binary, int version,
                                     bool layout)
{
    if (!have_testdata(json) || !have_testdata(binary))
        return;
    uint8_t *a_bytes, *b_bytes;
    struct ptm_model *a = decode_file(json, &a_bytes);
    struct ptm_model *b = decode_file(binary, &b_bytes);
    assert_int_equal(a->batches.len, 1);
    assert_int_equal(a->batches.data[0].format, PTM_FORMAT_OTLP_JSON);
    assert_int_equal(b->batches.data[0].format, PTM_FORMAT_OTLP);
    assert_int_equal(a->batches.data[0].otlp_version, version);
    // What only tells the encodings apart is made equal; everything else
    // must be the same, with `layout` down to where each list sits.
    a->batches.data[0].format = b->batches.data[0].format;
    a->batches.data[0].otlp_version = b->batches.data[0].otlp_version;
    a->batches.data[0].otlp_candidates = b->batches.data[0].otlp_candidates;
    assert_same_model(a, b, layout);
    ptm_model_destroy(a);
    ptm_model_destroy(b);
    free(a_bytes);
    free(b_bytes);
}

static void test_testdata_v110(void **state)
{
    (void)state;
    compare_json_with_binary("otlp/v1.10/pyroscope_otel-ebpf-profile.pb.json",
                             "otlp/v1.10/pyroscope_otel-ebpf-profile.pb.bin", 10, true);
}

static void test_testdata_v18(void **state)
{
    (void)state;
    // The JSON writes "dictionary" before "resourceProfiles", the binary the
    // other way round, so the shared lists are filled in another order.
    compare_json_with_binary("otlp/v1.8/pyroscope_otel-ebpf-profile.pb.json",
                             "otlp/v1.8/pyroscope_otel-ebpf-profile.pb.bin", 8, false);
}

// Counts checked independently with /usr/bin/python3's json module over
// the lines of the file: 189 non-blank lines, one profile each, 419 samples
// and 424 timestamps in all, no values; line 184 (index 183) has 33
// samples, 34 timestamps, 51 strings, 152 locations; line 17 (index 16)
// has 30 samples, 32 timestamps, 89 strings.
static void test_testdata_jsonl(void **state)
{
    (void)state;
    const char *rel = "otlp/v1.9-json/elastic_loadgen_ebpf_profiles.jsonl";
    if (!have_testdata(rel))
        return;
    uint8_t *bytes;
    struct ptm_model *m = decode_file(rel, &bytes);
    assert_int_equal(m->batches.len, 189);
    assert_int_equal(m->profiles.len, 189);
    assert_int_equal(m->samples.len, 419);
    assert_int_equal(m->timestamps.len, 424);
    assert_int_equal(m->values.len, 0);
    const struct ptm_batch *b = &m->batches.data[183];
    assert_int_equal(b->index, 183);
    assert_int_equal(b->otlp_version, 10);
    assert_int_equal(b->strings.len, 51);
    assert_int_equal(b->locations.len, 152);
    const struct ptm_profile *p = &m->profiles.data[b->profiles.off];
    assert_int_equal(p->samples.len, 33);
    assert_int_equal(profile_total(m, p), 34);
    b = &m->batches.data[16];
    assert_int_equal(b->strings.len, 89);
    p = &m->profiles.data[b->profiles.off];
    assert_int_equal(p->samples.len, 30);
    assert_int_equal(profile_total(m, p), 32);
    ptm_model_destroy(m);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_request),
        cmocka_unit_test(test_snake_case_and_detection),
        cmocka_unit_test(test_v18_names),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_escapes_and_bytes),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_bad_indices),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_tokenizer),
        cmocka_unit_test(test_testdata_v110),
        cmocka_unit_test(test_testdata_v18),
        cmocka_unit_test(test_testdata_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
