// SPDX-License-Identifier: Apache-2.0
//
// mkfixture: writes the project's own OTLP profiles fixtures, packed with
// the protobuf-c generated code of each wire version.
//
//   build/tools/mkfixture otlp --version 8|9|10 [--variant NAME] [--gzip] [--framed] OUT
//   build/tools/mkfixture list
//
// The fixture is described by hand in tests/fixtures/otlp_fixture.h (one
// builder, shared with the unit tests through tests/unit/fixtures.c). What
// it holds, counted by hand from that description:
//
// Dictionary (index 0 of every table is the empty "unset" entry):
//   string_table   23: "" samples count cpu nanoseconds off_cpu main run
//                  compute fib parse inline_helper sleep app.go /usr/bin/app
//                  thread.name thread.id profile.frame.type service.name
//                  checkout app mkfixture profile.source
//   function_table  8: -, main, run, compute, fib, parse, inline_helper, sleep
//   mapping_table   2: -, /usr/bin/app 0x400000-0x500000 (attribute 5)
//   location_table  7: -, main, run, compute, fib, parse with inline_helper
//                  inlined (2 lines, innermost first; attribute 5), sleep
//                  -> 7 lines in all
//   stack_table     5: -, [compute run main], [fib fib compute run main]
//                  (recursion), [inline_helper/parse run main], [sleep run main]
//   attribute_table 7: -, thread.name=worker-1, thread.name=worker-2,
//                  thread.id=101, thread.id=102, profile.frame.type=native,
//                  profile.source={name: mkfixture, version: 1}
//   link_table      2: -, trace id 01..10, span id 11..18
//
// Resources (2) and scopes (2, one each, named "mkfixture" "1.0"):
//   resource 0: service.name=checkout, process.executable.name=app,
//               process.command_args=[app, --fast]
//   resource 1: service.name=billing, process.executable.name=billd,
//               deployment={region: eu, replicas: 3}; its scope has
//               profiler.mode=sampling
//   keyvalues 11 (3 + 3 + 2 nested + 1 scope + 2 nested in attribute 6),
//   anys 2 (the command_args items)
//
// Profiles (3), samples (9), values (6), timestamps (10):
//   profile 0 (resource 0) samples/count, period cpu/nanoseconds 10000000,
//     timestamps only: 4 samples, 7 timestamps, 0 values, total weight 7
//     leaf compute 2, fib 4, inline_helper 1 (fib anywhere in the stack: 4)
//     profile_id a0..af; v1.8 only: comment "mkfixture"
//   profile 1 (resource 0) off_cpu/nanoseconds, no period, values and
//     timestamps: 2 samples, 3 values, 3 timestamps, total 15000000
//     leaf sleep 12000000, compute 3000000; sample 1 has link 1
//   profile 2 (resource 1) cpu/nanoseconds, period cpu/nanoseconds 10000000,
//     plain values: 3 samples, 3 values, 0 timestamps, total 60000000
//     leaf compute 20000000, fib 30000000, inline_helper 10000000;
//     dropped_attributes_count 1, attribute profile.source
//   Samples carry thread.name (and, in profiles 0 and 1, thread.id).
//
// Variants:
//   main                        the above
//   bad-stack-index             profile 0 sample 1 has stack_index 99
//   bad-string0                 string_table[0] is "oops"
//   bad-function-index          location 5, line 1 has function_index 42
//   values-timestamps-mismatch  profile 1 sample 0: 2 values, 1 timestamp
//   empty                       resource 0 with its scope, no profiles, no
//                               dictionary
//   v10-strindex-attrs          (v1.10 only) resource 0's service.name key
//                               and value, and process.executable.name's
//                               value, sent as key_strindex and
//                               string_value_strindex (18, 19, 20)
//
// The version-telling fields: v1.8 has profile 0's profile_id at field 8,
// profile 2's attribute_indices at field 12 and an aggregation_temporality
// (DELTA) in profile 1's sample type; v1.9 has profile 2's
// dropped_attributes_count at field 8 (varint); v1.10 has packed values at
// sample field 4 and a sample whose field 2 and timestamps differ in length.
// Every version's main fixture is 1234 to 1239 bytes; protoc --decode with
// the matching schema of engine/proto shows no unknown field.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fixtures/otlp_fixture.h"

struct options {
    int version;
    const char *variant;
    bool gzip, framed;
    const char *out;
};

static int usage(void)
{
    fprintf(stderr, "usage: mkfixture otlp --version 8|9|10 [--variant NAME] [--gzip] [--framed] OUT\n"
                    "       mkfixture list\n");
    return 2;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
            o->version = atoi(argv[++i]);
        else if (strcmp(argv[i], "--variant") == 0 && i + 1 < argc)
            o->variant = argv[++i];
        else if (strcmp(argv[i], "--gzip") == 0)
            o->gzip = true;
        else if (strcmp(argv[i], "--framed") == 0)
            o->framed = true;
        else if (argv[i][0] != '-' && o->out == NULL)
            o->out = argv[i];
        else
            return -1;
    }
    return o->version != 0 && o->out != NULL ? 0 : -1;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "mkfixture: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t written = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || written != len) {
        fprintf(stderr, "mkfixture: %s: write failed\n", path);
        return 1;
    }
    return 0;
}

// Wrap *data in another form, freeing the old bytes.
static uint8_t *rewrap(uint8_t *data, size_t *len,
                       uint8_t *(*wrap)(const uint8_t *, size_t, size_t *))
{
    size_t out_len;
    uint8_t *out = wrap(data, *len, &out_len);
    free(data);
    *len = out_len;
    return out;
}

static int make_otlp(const struct options *o)
{
    size_t len;
    uint8_t *data = otlp_fixture_build(o->version, o->variant, &len);
    if (data == NULL) {
        fprintf(stderr, "mkfixture: no variant \"%s\" for version %d (see mkfixture list)\n",
                o->variant ? o->variant : "main", o->version);
        return 2;
    }
    if (o->framed)
        data = rewrap(data, &len, otlp_fixture_frame);
    if (o->gzip && data != NULL)
        data = rewrap(data, &len, otlp_fixture_gzip);
    if (data == NULL) {
        fprintf(stderr, "mkfixture: gzip failed\n");
        return 1;
    }
    int rc = write_file(o->out, data, len);
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < sizeof otlp_fixture_variants / sizeof *otlp_fixture_variants; i++)
            printf("%s\n", otlp_fixture_variants[i]);
        return 0;
    }
    struct options o = {0};
    if (argc < 2 || strcmp(argv[1], "otlp") != 0 || parse_options(argc, argv, &o) != 0)
        return usage();
    return make_otlp(&o);
}
