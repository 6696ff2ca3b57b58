// SPDX-License-Identifier: Apache-2.0
//
// Reading a rule test file, and building its inline profiles into a model.
// Every problem is reported as FILE:LINE:COLUMN: KEY.PATH: message, with the
// same walker the configuration uses.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/ruletest.h"
#include "config/fields.h"
#include "util/arena.h"
#include "util/error.h"

static const char *join_dir(struct config_walk *w, const char *dir, const char *path)
{
    if (path[0] == '/' || dir == NULL || dir[0] == '\0')
        return walk_strdup(w, path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *p = walk_calloc(w, n, 1);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, path);
    return p;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    return strndup(path, (size_t)(slash - path));
}

// A map of scalars as two parallel lists of text.
static int read_text_map(struct config_walk *w, const struct ptm_yaml_node *map, const char ***keys,
                         const char ***values, size_t *count)
{
    *count = 0;
    if (map == NULL || map->kind == PTM_YAML_SCALAR) {
        if (map != NULL && !map->is_null)
            walk_error(w, map, "expected a map of attributes, got %s", ptm_yaml_describe(map));
        return map == NULL || map->is_null ? 0 : -1;
    }
    if (map->kind != PTM_YAML_MAP) {
        walk_error(w, map, "expected a map of attributes, got %s", ptm_yaml_describe(map));
        return -1;
    }
    *keys = walk_calloc(w, map->pair_count + 1, sizeof **keys);
    *values = walk_calloc(w, map->pair_count + 1, sizeof **values);
    if (*keys == NULL || *values == NULL)
        return -1;
    for (size_t i = 0; i < map->pair_count; i++) {
        const struct ptm_yaml_pair *p = &map->pairs[i];
        walk_push(w, p->key->value, p->key);
        if (walk_expect_scalar(w, p->value, "an attribute value") == 0) {
            (*keys)[*count] = p->key->value;
            (*values)[*count] = p->value->value;
            (*count)++;
        }
        walk_pop(w);
    }
    return 0;
}

static void parse_expect(struct config_walk *w, const struct ptm_yaml_node *node, struct ruletest_expect *e)
{
    static const char *const known[] = {"metric", "attributes", "resource", "value", "tolerance", NULL};
    e->line = node->line;
    e->tolerance = 1e-9;
    if (!walk_map(w, node, known, NULL))
        return;
    field_string(w, node, "metric", &e->metric, FIELD_REQUIRED | FIELD_NONEMPTY);
    const struct ptm_yaml_node *attrs = walk_enter(w, node, "attributes");
    if (attrs != NULL) {
        read_text_map(w, attrs, &e->keys, &e->values, &e->attr_count);
        walk_pop(w);
    }
    const struct ptm_yaml_node *res = walk_enter(w, node, "resource");
    if (res != NULL) {
        e->has_resource = true;
        read_text_map(w, res, &e->resource_keys, &e->resource_values, &e->resource_count);
        walk_pop(w);
    }
    if (field_double(w, node, "value", &e->value, -1e300, 1e300) == 0)
        walk_missing(w, "value", "the value the series must have");
    field_double(w, node, "tolerance", &e->tolerance, 0, 1);
}

static void parse_case(struct config_walk *w, const struct ptm_yaml_node *node, const char *dir,
                       struct ruletest_case *c)
{
    static const char *const known[] = {"name", "profiles", "files", "expect", NULL};
    c->line = node->line;
    if (!walk_map(w, node, known, NULL))
        return;
    field_string(w, node, "name", &c->name, FIELD_NONEMPTY);
    c->profiles = ptm_yaml_map_get(node, "profiles");
    const char **files = NULL;
    if (field_strings(w, node, "files", &files, NULL, &c->file_count, FIELD_NONEMPTY) > 0) {
        for (size_t i = 0; i < c->file_count; i++)
            files[i] = join_dir(w, dir, files[i]);
        c->files = files;
    }
    if (c->profiles == NULL && c->file_count == 0)
        walk_missing(w, "profiles", "give inline profiles or profile files (files:)");
    const struct ptm_yaml_node *expect = walk_enter(w, node, "expect");
    if (expect == NULL) {
        walk_missing(w, "expect", "the series the rules must produce");
        return;
    }
    if (expect->kind != PTM_YAML_SEQUENCE) {
        walk_error(w, expect, "expected a list of series, got %s", ptm_yaml_describe(expect));
    } else {
        c->expect = walk_calloc(w, expect->item_count + 1, sizeof *c->expect);
        c->expect_count = c->expect ? expect->item_count : 0;
        for (size_t i = 0; i < c->expect_count; i++) {
            walk_push_index(w, i, expect->items[i]);
            parse_expect(w, expect->items[i], &c->expect[i]);
            walk_pop(w);
        }
    }
    walk_pop(w);
}

int ruletest_parse(const struct ptm_yaml_document *doc, struct ptm_arena *arena,
                   struct ptm_config_diagnostics *errors, struct ruletest_file *out)
{
    static const char *const known[] = {"rule_files", "builtin_rules", "config", "now", "tests", NULL};
    struct ptm_config_diagnostics warnings = {0};
    struct config_walk w = {.arena = arena, .file = doc->name, .errors = errors, .warnings = &warnings};
    size_t before = errors->count;
    char *dir = dir_of(doc->name);
    memset(out, 0, sizeof *out);
    out->path = doc->name;
    const struct ptm_yaml_node *root = doc->root;
    if (dir == NULL || !walk_map(&w, root, known, NULL) || root == NULL)
        goto done;
    const char **rules = NULL;
    if (field_strings(&w, root, "rule_files", &rules, NULL, &out->rule_count, FIELD_NONEMPTY) > 0) {
        for (size_t i = 0; i < out->rule_count; i++)
            rules[i] = join_dir(&w, dir, rules[i]);
        out->rule_files = rules;
    }
    out->builtin_rules = out->rule_count == 0;
    field_bool(&w, root, "builtin_rules", &out->builtin_rules);
    if (field_string(&w, root, "config", &out->config, FIELD_NONEMPTY) > 0)
        out->config = join_dir(&w, dir, out->config);
    field_u64(&w, root, "now", &out->now, 0, UINT64_MAX);
    const struct ptm_yaml_node *tests = walk_enter(&w, root, "tests");
    if (tests == NULL) {
        walk_missing(&w, "tests", "a list of test cases");
        goto done;
    }
    if (tests->kind != PTM_YAML_SEQUENCE || tests->item_count == 0) {
        walk_error(&w, tests, "expected a non-empty list of test cases");
    } else {
        out->cases = walk_calloc(&w, tests->item_count, sizeof *out->cases);
        out->case_count = out->cases ? tests->item_count : 0;
        for (size_t i = 0; i < out->case_count; i++) {
            walk_push_index(&w, i, tests->items[i]);
            parse_case(&w, tests->items[i], dir, &out->cases[i]);
            walk_pop(&w);
        }
    }
    walk_pop(&w);
done:
    free(dir);
    ptm_config_diagnostics_fini(&warnings);
    if (w.out_of_memory)
        ptm_config_diagnostics_add(errors, doc->name, 0, 0, NULL, "out of memory");
    return errors->count == before ? 0 : -1;
}

// ---- inline profiles ----

static struct ptm_builder_value value_of(const struct ptm_yaml_node *n)
{
    struct ptm_builder_value v = {.kind = PTM_ANY_STRING, .str = n->value};
    if (n->is_string)
        return v;
    char *end;
    long long i = strtoll(n->value, &end, 10);
    if (n->value[0] != '\0' && *end == '\0')
        return (struct ptm_builder_value){.kind = PTM_ANY_INT, .i = i};
    double d = strtod(n->value, &end);
    if (n->value[0] != '\0' && *end == '\0')
        return (struct ptm_builder_value){.kind = PTM_ANY_DOUBLE, .d = d};
    if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0)
        return (struct ptm_builder_value){.kind = PTM_ANY_BOOL, .i = n->value[0] == 't'};
    return v;
}

// Attributes of a resource or sample: keys and typed values.
static int attrs_of(struct config_walk *w, const struct ptm_yaml_node *map, const char ***keys,
                    struct ptm_builder_value **values, size_t *count)
{
    const char **k = NULL, **text = NULL;
    if (read_text_map(w, map, &k, &text, count) != 0)
        return -1;
    *keys = k;
    *values = walk_calloc(w, *count + 1, sizeof **values);
    for (size_t i = 0; *values != NULL && i < *count; i++)
        (*values)[i] = value_of(ptm_yaml_map_get(map, k[i]));
    return *values == NULL && *count ? -1 : 0;
}

// "type/unit" into two strings.
static int split_type(struct config_walk *w, const struct ptm_yaml_node *n, const char **type, const char **unit)
{
    const char *slash = n ? strchr(n->value, '/') : NULL;
    if (slash == NULL) {
        walk_error(w, n, "expected TYPE/UNIT, e.g. cpu/nanoseconds");
        return -1;
    }
    *type = walk_strdup(w, n->value);
    char *t = (char *)*type;
    if (t != NULL)
        t[slash - n->value] = '\0';
    *unit = t ? t + (slash - n->value) + 1 : NULL;
    return 0;
}

// time: seconds since the epoch, or YYYY-MM-DDTHH:MM:SSZ.
static int parse_time(struct config_walk *w, const struct ptm_yaml_node *n, uint64_t *out)
{
    char *end;
    double secs = strtod(n->value, &end);
    if (*end == '\0' && n->value[0] != '\0' && secs >= 0) {
        *out = (uint64_t)(secs * 1e9);
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(n->value, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL || strcmp(rest, "Z") != 0) {
        walk_error(w, n, "expected seconds since the epoch or YYYY-MM-DDTHH:MM:SSZ, got \"%s\"", n->value);
        return -1;
    }
    *out = (uint64_t)timegm(&tm) * 1000000000u;
    return 0;
}

static int build_sample(struct config_walk *w, const struct ptm_yaml_node *n, struct ptm_builder *b)
{
    static const char *const known[] = {"stack", "value", "values", "timestamps", "attributes", NULL};
    if (!walk_map(w, n, known, NULL) || n == NULL)
        return -1;
    struct ptm_builder_sample s = {0};
    const char **stack = NULL;
    field_strings(w, n, "stack", &stack, NULL, &s.depth, FIELD_REQUIRED | FIELD_NONEMPTY);
    s.stack = stack;
    int64_t one;
    uint64_t u = 0;
    const struct ptm_yaml_node *vs = ptm_yaml_map_get(n, "values");
    if (field_u64(w, n, "value", &u, 0, INT64_MAX) > 0) {
        one = (int64_t)u;
        s.values = &one;
        s.value_count = 1;
    } else if (vs != NULL && vs->kind == PTM_YAML_SEQUENCE) {
        int64_t *list = walk_calloc(w, vs->item_count + 1, sizeof *list);
        for (size_t i = 0; list != NULL && i < vs->item_count; i++) {
            char *end;
            list[i] = strtoll(vs->items[i]->value ? vs->items[i]->value : "", &end, 10);
            if (vs->items[i]->kind != PTM_YAML_SCALAR || *end != '\0')
                walk_error(w, vs->items[i], "values: expected whole numbers");
        }
        s.values = list;
        s.value_count = vs->item_count;
    }
    uint32_t ts = 0;
    field_u32(w, n, "timestamps", &ts, 0, 1000000);
    s.timestamps = ts;
    if (s.value_count == 0 && s.timestamps == 0)
        walk_missing(w, "value", "a sample needs value, values or timestamps");
    const struct ptm_yaml_node *attrs = walk_enter(w, n, "attributes");
    const char **keys = NULL;
    struct ptm_builder_value *values = NULL;
    if (attrs != NULL) {
        attrs_of(w, attrs, &keys, &values, &s.attr_count);
        walk_pop(w);
    }
    s.attr_keys = keys;
    s.attr_values = values;
    return ptm_builder_sample(b, &s);
}

static int build_profile(struct config_walk *w, const struct ptm_yaml_node *n, struct ptm_builder *b)
{
    static const char *const known[] = {"resource", "sample_type", "period", "time", "duration", "samples", NULL};
    if (!walk_map(w, n, known, NULL) || n == NULL)
        return -1;
    const struct ptm_yaml_node *res = walk_enter(w, n, "resource");
    if (res != NULL) {
        const char **keys = NULL;
        struct ptm_builder_value *values = NULL;
        size_t count = 0;
        if (attrs_of(w, res, &keys, &values, &count) == 0)
            ptm_builder_resource(b, keys, values, count);
        walk_pop(w);
    }
    struct ptm_builder_profile p = {0};
    const struct ptm_yaml_node *st = walk_enter(w, n, "sample_type");
    if (st == NULL)
        walk_missing(w, "sample_type", "TYPE/UNIT, e.g. cpu/nanoseconds");
    else if (split_type(w, st, &p.sample_type, &p.sample_unit) == 0)
        walk_pop(w);
    else
        walk_pop(w);
    const struct ptm_yaml_node *period = walk_enter(w, n, "period");
    if (period != NULL) {
        // "10000000 cpu/nanoseconds"
        char type[256];
        long long v = 0;
        if (sscanf(period->value ? period->value : "", "%lld %255s", &v, type) != 2 ||
            split_type(w, &(struct ptm_yaml_node){.kind = PTM_YAML_SCALAR, .value = type, .line = period->line,
                                                  .column = period->column},
                       &p.period_type, &p.period_unit) != 0)
            walk_error(w, period, "expected \"N TYPE/UNIT\", e.g. \"10000000 cpu/nanoseconds\"");
        p.period = v;
        walk_pop(w);
    }
    const struct ptm_yaml_node *time = walk_enter(w, n, "time");
    if (time != NULL) {
        parse_time(w, time, &p.time_unix_nano);
        walk_pop(w);
    }
    field_duration(w, n, "duration", &p.duration_nano, 0, UINT64_MAX);
    ptm_builder_profile(b, &p);
    const struct ptm_yaml_node *samples = walk_enter(w, n, "samples");
    if (samples == NULL) {
        walk_missing(w, "samples", "a list of samples");
        return -1;
    }
    for (size_t i = 0; samples->kind == PTM_YAML_SEQUENCE && i < samples->item_count; i++) {
        walk_push_index(w, i, samples->items[i]);
        build_sample(w, samples->items[i], b);
        walk_pop(w);
    }
    if (samples->kind != PTM_YAML_SEQUENCE)
        walk_error(w, samples, "expected a list of samples, got %s", ptm_yaml_describe(samples));
    walk_pop(w);
    return 0;
}

int ruletest_build_profiles(const struct ruletest_file *file, const struct ruletest_case *c,
                            struct ptm_model *model, struct ptm_error *err)
{
    if (c->profiles == NULL)
        return 0;
    struct ptm_config_diagnostics errors = {0}, warnings = {0};
    struct ptm_arena *arena = ptm_arena_create(0);
    struct ptm_builder *b = arena ? ptm_builder_begin(model) : NULL;
    if (b == NULL) {
        ptm_arena_destroy(arena);
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    }
    struct config_walk w = {.arena = arena, .file = file->path, .errors = &errors, .warnings = &warnings};
    walk_push(&w, "profiles", c->profiles);
    if (c->profiles->kind != PTM_YAML_SEQUENCE)
        walk_error(&w, c->profiles, "expected a list of profiles, got %s", ptm_yaml_describe(c->profiles));
    for (size_t i = 0; c->profiles->kind == PTM_YAML_SEQUENCE && i < c->profiles->item_count; i++) {
        walk_push_index(&w, i, c->profiles->items[i]);
        build_profile(&w, c->profiles->items[i], b);
        walk_pop(&w);
    }
    int rc;
    if (errors.count > 0) {
        rc = ptm_error_set(err, PTM_EINVAL, "%s", errors.items[0].text);
        ptm_builder_abandon(b);
    } else {
        rc = ptm_builder_finish(b, err);
    }
    ptm_config_diagnostics_fini(&errors);
    ptm_config_diagnostics_fini(&warnings);
    ptm_arena_destroy(arena);
    return rc;
}
