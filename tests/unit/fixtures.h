// SPDX-License-Identifier: Apache-2.0
//
// The project's own fixtures for unit tests, built in memory by the same
// builder as build/tools/mkfixture (tests/fixtures/otlp_fixture.h), and the
// numbers counted by hand from their description (see the comment at the
// top of tests/tools/mkfixture.c, which lists the same facts).
#pragma once

#include <stddef.h>
#include <stdint.h>

enum fixture_form {
    FIXTURE_PLAIN = 0,
    FIXTURE_FRAMED = 1, // the Collector file exporter's 4-byte length prefix
    FIXTURE_GZIP = 2,   // gzip-compressed (after framing, when both)
};

/// The OTLP fixture `variant` (NULL or "main" for the main fixture; names in
/// tests/tools/mkfixture.c) as request bytes of wire version 8, 9 or 10, in
/// the forms asked for (FIXTURE_* bits). Returns malloc'ed bytes the caller
/// frees, or NULL when the variant does not exist for that version.
uint8_t *fixture_otlp(int version, const char *variant, unsigned forms, size_t *len);

/// The offsets where the main fixture's top-level fields end (each a
/// resource_profiles or the dictionary): the prefixes of the request that
/// are themselves well-formed requests. Fills at most max, returns the count.
size_t fixture_otlp_boundaries(const uint8_t *data, size_t len, size_t *out, size_t max);

// ---- hand-counted facts of the main fixture (every version) ----

#define FIXTURE_RESOURCES 2
#define FIXTURE_SCOPES 2
#define FIXTURE_PROFILES 3
#define FIXTURE_SAMPLES 9
#define FIXTURE_VALUES 6
#define FIXTURE_TIMESTAMPS 10
#define FIXTURE_STRINGS 23
#define FIXTURE_FUNCTIONS 8
#define FIXTURE_MAPPINGS 2
#define FIXTURE_LOCATIONS 7
#define FIXTURE_LINES 7
#define FIXTURE_STACKS 5
#define FIXTURE_ATTRIBUTES 7
#define FIXTURE_LINKS 2
#define FIXTURE_KEYVALUES 11
#define FIXTURE_ANYS 2
// model->indices: 15 sample attributes, 1 profile attribute, 1 mapping
// attribute, 1 location attribute, 14 stack locations; v1.8 adds 1 comment.
#define FIXTURE_INDICES 32
#define FIXTURE_INDICES_V18 33

struct fixture_leaf {
    const char *function; // the leaf function's name
    int64_t weight;       // the sum of ptm_sample_weight over its samples
};

struct fixture_profile {
    uint32_t resource;
    const char *sample_type, *sample_unit;
    const char *period_type, *period_unit; // "" when unset
    int64_t period;
    uint32_t samples, values, timestamps;
    int64_t total_weight;
    int n_leaves;
    struct fixture_leaf leaves[3];
};

extern const struct fixture_profile fixture_profiles[FIXTURE_PROFILES];

struct fixture_attribute {
    const char *key, *value; // string values only
};

/// The string attributes of each resource (the third one of each is an
/// array or kvlist, checked separately).
extern const struct fixture_attribute fixture_resource_attributes[FIXTURE_RESOURCES][2];
