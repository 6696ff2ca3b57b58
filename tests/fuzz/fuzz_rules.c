// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the boundary between the engine and the rules. A fixed set
// of rules runs over every fuzzed profile that decodes: the built-in rules
// with the connector's declarative attributes and filters, and the example
// rules of examples/rules. Each input is decoded (format detected), the
// model checked (the Lua runtime reads it through the FFI, unchecked),
// converted by two engines, and the metrics collected and encoded in every
// output format.
//
//   engine "examples": default connector, delta temporality, the built-in
//                      rules and every examples/rules/*.lua
//   engine "declared": attributes (literal, regex over the string table,
//                      regex over an attribute, string_table), a pattern
//                      filter, function top_n 3, series_limit 8 (overflow)
//
// A rule that fails on a profile that decoded and validated is a bug in the
// runtime or a built-in rule: it aborts, with the rule's message. The one
// failure data may rightly cause is the store refusing a value (a negative
// count, a cumulative reading of a series fed by increments): that profile
// is reported and counted, as the engine promises, and the run goes on.
// After each input every series is dropped, so that inputs do not meet in
// the store and a crash replays from its input alone.
// The example rules are found under $PTM_ROOT, else under the source tree
// the target was built from (FUZZ_SOURCE_ROOT).
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/engine.h"
#include "encode/encode.h"
#include "harness.h"

#ifndef FUZZ_SOURCE_ROOT
#define FUZZ_SOURCE_ROOT "."
#endif

#define FUZZ_NOW UINT64_C(1700000000000000000)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

// libFuzzer looks for leaks after any input that allocated more than it
// freed, while the engines live on. LuaJIT (64-bit) keeps its references
// to GC objects as tagged values, which LeakSanitizer does not recognise as
// pointers, so memory the Lua state allocated (through runtime.c's
// capped_alloc) would be reported while Lua still holds it. The Lua GC owns
// that memory; every other allocation is still checked.
const char *__lsan_default_suppressions(void)
{
    return "leak:capped_alloc\n";
}

static const char declared_yaml[] =
    "connectors:\n"
    "  profiletometrics:\n"
    "    metrics:\n"
    "      function: {enabled: true, top_n: 3}\n"
    "    attributes:\n"
    "      - {key: deployment, value: fuzz}\n"
    "      - {key: source_file, type: regex, value: '([A-Za-z_]+)\\.(go|py|c|java)'}\n"
    "      - {key: worker, type: regex, source: thread.name, value: '^([a-z]+)-[0-9]+$'}\n"
    "      - {key: entry, type: string_table, index: 3}\n"
    "    pattern_filter: {enabled: true, patterns: ['[a-z]']}\n"
    "    temporality: delta\n"
    "    series_limit: 8\n"
    "    lua_memory_limit: 32MiB\n";

struct fuzz_engine {
    const char *name;
    struct ptm_engine *engine;
    struct ptm_config *config; // the declared engine's configuration
};

static struct fuzz_engine engines[2];
static const char **rule_paths; // the example rules, for the engines' lifetime
static char first_failure[1024]; // the first log line of an input but the store's refusals
static unsigned log_lines;        // log lines of the input

// Whether a rule's failure is the store refusing a value.
static bool refused_by_store(const char *text)
{
    return strstr(text, ": the store refused ") != NULL;
}

// Rules log their failures here.
static void keep_log(void *ctx, const char *rule, const char *text)
{
    (void)ctx;
    log_lines++;
    if (first_failure[0] == '\0' && !refused_by_store(text))
        snprintf(first_failure, sizeof first_failure, "%s: %s", rule ? rule : "runtime", text);
}

static void __attribute__((noreturn)) fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: rules: %s: %s\n", what, detail);
    abort();
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Every examples/rules/*.lua, sorted; *count of them. Kept as long as the
// process runs, as the engines are.
static const char **example_rules(size_t *count)
{
    const char *root = getenv("PTM_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/examples/rules", root && *root ? root : FUZZ_SOURCE_ROOT);
    DIR *d = opendir(dir);
    if (d == NULL)
        fail("cannot open the example rules", dir);
    const char **paths = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0)
            continue;
        paths = realloc(paths, (n + 1) * sizeof *paths);
        char *path = malloc(strlen(dir) + len + 2);
        if (paths == NULL || path == NULL)
            fail("out of memory", dir);
        sprintf(path, "%s/%s", dir, e->d_name);
        paths[n++] = path;
    }
    closedir(d);
    if (n == 0)
        fail("no example rules", dir);
    qsort(paths, n, sizeof *paths, by_name);
    *count = n;
    return paths;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct ptm_error err;
    struct ptm_connector_config examples_connector;
    ptm_connector_config_defaults(&examples_connector);
    examples_connector.temporality = PTM_TEMPORALITY_DELTA;
    struct ptm_engine_options opts = {.connector = &examples_connector, .log = keep_log};
    rule_paths = example_rules(&opts.rule_file_count);
    opts.rule_files = rule_paths;
    engines[0].name = "examples";
    engines[0].engine = ptm_engine_create(&opts, &err);
    if (engines[0].engine == NULL)
        fail("cannot create the examples engine", err.message);

    engines[1].name = "declared";
    engines[1].config = ptm_config_load_string(declared_yaml, "fuzz_rules.c", &err);
    if (engines[1].config == NULL)
        fail("the declared engine's configuration", err.message);
    struct ptm_engine_options declared = {.connector = &engines[1].config->connectors[0], .log = keep_log};
    engines[1].engine = ptm_engine_create(&declared, &err);
    if (engines[1].engine == NULL)
        fail("cannot create the declared engine", err.message);
    return 0;
}

static void encode_all(struct ptm_engine *engine)
{
    struct ptm_snapshot snap;
    if (ptm_store_collect(ptm_engine_store(engine), FUZZ_NOW, &snap) != 0)
        fail("collect", "out of memory");
    static const struct ptm_encode_options with_labels = {.resource_to_labels = true};
    struct ptm_strbuf out = {0};
    if (ptm_encode(&snap, PTM_OUTPUT_OTLP, NULL, &out) != 0 ||
        ptm_encode(&snap, PTM_OUTPUT_OTLP_JSON, NULL, &out) != 0 ||
        ptm_encode(&snap, PTM_OUTPUT_PROMETHEUS, &with_labels, &out) != 0 ||
        ptm_encode(&snap, PTM_OUTPUT_TABLE, NULL, &out) != 0)
        fail("encode", "out of memory");
    ptm_strbuf_free(&out);
    ptm_snapshot_free(&snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decode(data, size, NULL);
    struct ptm_model *model = fuzz_model();
    struct ptm_error err;
    if (model->profiles.len == 0)
        return 0;
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        unsigned failed = 0;
        first_failure[0] = '\0';
        log_lines = 0;
        int rc = ptm_engine_convert(engines[i].engine, model, &failed, &err);
        if (rc != 0 && rc != PTM_ENOMEM)
            fail(engines[i].name, err.message);
        if (failed != 0 && first_failure[0] != '\0')
            fail(engines[i].name, first_failure);
        if (failed != 0 && log_lines == 0)
            fail(engines[i].name, "a rule failed without a log line");
        encode_all(engines[i].engine);
        ptm_store_expire(ptm_engine_store(engines[i].engine), UINT64_MAX);
    }
    return 0;
}
