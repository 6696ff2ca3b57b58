// SPDX-License-Identifier: Apache-2.0
//
// In-memory fixtures for unit tests: the OTLP fixture of
// tests/fixtures/otlp_fixture.h in each of its forms, and the numbers
// counted by hand from its description (tests/tools/mkfixture.c lists them).
#include "fixtures.h"

#include "../fixtures/otlp_fixture.h"

const struct fixture_profile fixture_profiles[FIXTURE_PROFILES] = {
    {.resource = 0, .sample_type = "samples", .sample_unit = "count",
     .period_type = "cpu", .period_unit = "nanoseconds", .period = 10000000,
     .samples = 4, .values = 0, .timestamps = 7, .total_weight = 7,
     .n_leaves = 3, .leaves = {{"compute", 2}, {"fib", 4}, {"inline_helper", 1}}},
    {.resource = 0, .sample_type = "off_cpu", .sample_unit = "nanoseconds",
     .period_type = "", .period_unit = "", .period = 0,
     .samples = 2, .values = 3, .timestamps = 3, .total_weight = 15000000,
     .n_leaves = 2, .leaves = {{"sleep", 12000000}, {"compute", 3000000}}},
    {.resource = 1, .sample_type = "cpu", .sample_unit = "nanoseconds",
     .period_type = "cpu", .period_unit = "nanoseconds", .period = 10000000,
     .samples = 3, .values = 3, .timestamps = 0, .total_weight = 60000000,
     .n_leaves = 3, .leaves = {{"compute", 20000000}, {"fib", 30000000}, {"inline_helper", 10000000}}},
};

const struct fixture_attribute fixture_resource_attributes[FIXTURE_RESOURCES][2] = {
    {{"service.name", "checkout"}, {"process.executable.name", "app"}},
    {{"service.name", "billing"}, {"process.executable.name", "billd"}},
};

uint8_t *fixture_otlp(int version, const char *variant, unsigned forms, size_t *len)
{
    uint8_t *data = otlp_fixture_build(version, variant, len);
    if (data != NULL && (forms & FIXTURE_FRAMED)) {
        size_t n;
        uint8_t *framed = otlp_fixture_frame(data, *len, &n);
        free(data);
        data = framed;
        *len = n;
    }
    if (data != NULL && (forms & FIXTURE_GZIP)) {
        size_t n;
        uint8_t *gzipped = otlp_fixture_gzip(data, *len, &n);
        free(data);
        data = gzipped;
        *len = n;
    }
    return data;
}

// Read a varint; 0 when it runs past the end.
static size_t read_varint(const uint8_t *p, size_t left, uint64_t *out)
{
    *out = 0;
    for (size_t i = 0; i < left && i < 10; i++) {
        *out |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (p[i] < 0x80)
            return i + 1;
    }
    return 0;
}

// The fixture's top-level fields are all length-delimited (field 1 or 2).
size_t fixture_otlp_boundaries(const uint8_t *data, size_t len, size_t *out, size_t max)
{
    size_t n = 0, at = 0;
    while (at < len && n < max) {
        uint64_t key, size;
        size_t k = read_varint(data + at, len - at, &key);
        if (k == 0 || (key & 7) != 2)
            break;
        size_t s = read_varint(data + at + k, len - at - k, &size);
        if (s == 0 || size > len - at - k - s)
            break;
        at += k + s + (size_t)size;
        out[n++] = at;
    }
    return n;
}
