// SPDX-License-Identifier: Apache-2.0
//
// connectors.profiletometrics (and profiletometrics/NAME): the Go
// connector's keys with their defaults, read so that each does what its
// documentation says, plus this project's extensions (off_cpu, top_n, rule
// files, temporality, limits, flush interval). The Go connector's bugs are
// not carried over: no default attributes (B3), a filter enabled without a
// pattern is an error (B6), an empty metric name is an error (B15), every
// regular expression is compiled at load time.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "util/arena.h"

#define MIB (1ULL << 20)
#define SECOND 1000000000ULL

static const char *const connector_types[] = {"profiletometrics", NULL};

static const struct walk_hint connector_type_hints[] = {
    {"profiletometric", "did you mean profiletometrics?"},
    {"profile_to_metrics", "did you mean profiletometrics?"},
    {"profilestometrics", "did you mean profiletometrics?"},
    {NULL, NULL},
};

static const char *const connector_keys[] = {
    "metrics", "attributes", "process_filter", "thread_filter", "pattern_filter", "rules",
    "temporality", "series_limit", "lua_memory_limit", "lua_time_limit", "flush_interval", NULL,
};

// Keys the Go connector's documentation and examples use but that never
// existed (behaviour reference §1).
static const struct walk_hint connector_hints[] = {
    {"debug", "the Go connector's documented debug block never existed; set service.telemetry.logs.level: debug"},
    {"enable_cpu_time", "did you mean metrics.cpu.enabled?"},
    {"cpu_time_metric_name", "did you mean metrics.cpu.metric_name?"},
    {"attribute_extraction", "did you mean attributes?"},
    {"function_metrics", "did you mean metrics.function? Its max_functions is metrics.function.top_n"},
    {"thread_metrics", "the Go connector never had it; add thread.name with a rule file (rules)"},
    {"process_metrics", "the Go connector never had it; add process.executable.name with a rule file (rules)"},
    {"name", "the connector's name goes in its id: profiletometrics/NAME"},
    {NULL, NULL},
};

static const char *const metrics_keys[] = {"cpu", "memory", "function", "off_cpu", NULL};
static const char *const metric_keys[] = {"enabled", "metric_name", "unit", "description", NULL};
static const struct walk_hint metric_hints[] = {
    {"name", "did you mean metric_name?"},
    {NULL, NULL},
};
static const char *const function_keys[] = {"enabled", "top_n", NULL};
static const struct walk_hint function_hints[] = {
    {"max_functions", "did you mean top_n?"},
    {"metric_name", "function metrics are series of the cpu and memory metrics, with function.name"},
    {NULL, NULL},
};

static const char *const attribute_keys[] = {"key", "value", "type", "source", "index", NULL};
static const struct walk_hint attribute_hints[] = {
    {"name", "did you mean key?"},
    {"pattern", "a regex attribute takes its pattern in value, with type: regex"},
    {NULL, NULL},
};
static const char *const attribute_types[] = {"literal", "regex", "string_table", NULL};

static const char *const filter_keys[] = {"enabled", "pattern", "patterns", NULL};
static const struct walk_hint process_filter_hints[] = {
    {"process_name_pattern", "did you mean pattern?"},
    {"enable_per_process", "the Go connector never read it; remove it"},
    {NULL, NULL},
};
static const struct walk_hint thread_filter_hints[] = {
    {"thread_name_pattern", "did you mean pattern?"},
    {NULL, NULL},
};
static const struct walk_hint pattern_filter_hints[] = {
    {"attribute_patterns", "did you mean patterns?"},
    {NULL, NULL},
};

static const char *const temporalities[] = {"cumulative", "delta", NULL};

// Units a metric can be reported in, and the factor from the base unit.
struct unit_choice {
    const char *name;
    const char *ucum;
    double scale;
};
static const struct unit_choice time_units[] = {
    {"s", "s", 1.0}, {"ms", "ms", 1e3}, {"us", "us", 1e6}, {"ns", "ns", 1e9}, {NULL, NULL, 0}};
static const struct unit_choice byte_units[] = {
    {"By", "By", 1.0},
    {"bytes", "By", 1.0},
    {"KiBy", "KiBy", 1.0 / 1024},
    {"MiBy", "MiBy", 1.0 / (1024.0 * 1024)},
    {"GiBy", "GiBy", 1.0 / (1024.0 * 1024 * 1024)},
    {NULL, NULL, 0},
};

void ptm_connector_config_defaults(struct ptm_connector_config *c)
{
    *c = (struct ptm_connector_config){
        .id = "profiletometrics",
        .metrics =
            {
                .cpu = {true, "cpu_time", "s", 1.0, "CPU time of the profiled code"},
                .memory = {true, "memory_allocation", "By", 1.0, "Bytes allocated by the profiled code"},
                .off_cpu = {true, "off_cpu_time", "s", 1.0,
                            "Time the profiled threads spent off CPU (blocked or waiting)"},
                .function = {true, 100},
            },
        .temporality = PTM_TEMPORALITY_CUMULATIVE,
        .series_limit = 2000,
        .lua_memory_limit = 64 * MIB,
        .lua_time_limit = SECOND,
        .flush_interval = 60 * SECOND,
    };
}

// ---- metrics ----

static bool valid_metric_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

static void parse_unit(struct config_walk *w, const struct ptm_yaml_node *map, const struct unit_choice *units,
                       struct ptm_metric_config *m)
{
    const char *names[8];
    int n = 0;
    for (; units[n].name != NULL; n++)
        names[n] = units[n].name;
    names[n] = NULL;
    int choice = -1;
    if (field_enum(w, map, "unit", names, &choice) == 1) {
        m->unit = units[choice].ucum;
        m->unit_scale = units[choice].scale;
    }
}

static void parse_metric(struct config_walk *w, const struct ptm_yaml_node *metrics, const char *key,
                         const struct unit_choice *units, struct ptm_metric_config *m)
{
    const struct ptm_yaml_node *node = walk_enter(w, metrics, key);
    if (node == NULL)
        return;
    if (walk_map(w, node, metric_keys, metric_hints)) {
        field_bool(w, node, "enabled", &m->enabled);
        if (field_string(w, node, "metric_name", &m->metric_name, FIELD_NONEMPTY) == 1 &&
            !valid_metric_name(m->metric_name)) {
            walk_push(w, "metric_name", ptm_yaml_map_find(node, "metric_name")->key);
            walk_error(w, ptm_yaml_map_get(node, "metric_name"),
                       "\"%s\" is not a valid metric name (a letter, then letters, digits, _ . - or /; at most "
                       "255 characters)",
                       m->metric_name);
            walk_pop(w);
        }
        parse_unit(w, node, units, m);
        field_string(w, node, "description", &m->description, 0);
    }
    walk_pop(w);
}

static void parse_function(struct config_walk *w, const struct ptm_yaml_node *metrics,
                           struct ptm_function_metric_config *f)
{
    const struct ptm_yaml_node *node = walk_enter(w, metrics, "function");
    if (node == NULL)
        return;
    if (walk_map(w, node, function_keys, function_hints)) {
        field_bool(w, node, "enabled", &f->enabled);
        field_u32(w, node, "top_n", &f->top_n, 0, 1000000);
    }
    walk_pop(w);
}

static void parse_metrics(struct config_walk *w, const struct ptm_yaml_node *connector,
                          struct ptm_connector_config *c)
{
    const struct ptm_yaml_node *node = walk_enter(w, connector, "metrics");
    if (node == NULL)
        return;
    if (walk_map(w, node, metrics_keys, NULL)) {
        parse_metric(w, node, "cpu", time_units, &c->metrics.cpu);
        parse_metric(w, node, "memory", byte_units, &c->metrics.memory);
        parse_metric(w, node, "off_cpu", time_units, &c->metrics.off_cpu);
        parse_function(w, node, &c->metrics.function);
    }
    walk_pop(w);
}

// ---- attributes ----

// Refuse key in an attribute of a type it does not apply to.
static void refuse_key(struct config_walk *w, const struct ptm_yaml_node *item, const char *key,
                       const char *applies_to)
{
    const struct ptm_yaml_pair *pair = ptm_yaml_map_find(item, key);
    if (pair == NULL)
        return;
    walk_push(w, key, pair->key);
    walk_error(w, pair->key, "%s applies only to type: %s", key, applies_to);
    walk_pop(w);
}

// A string_table attribute's index: from index, or (as the Go connector
// read it) from a numeric value.
static void parse_string_table_index(struct config_walk *w, const struct ptm_yaml_node *item,
                                     struct ptm_attribute_config *a)
{
    uint64_t index = 0;
    const struct ptm_yaml_pair *value = ptm_yaml_map_find(item, "value");
    if (ptm_yaml_map_find(item, "index") != NULL) {
        if (value != NULL) {
            walk_push(w, "value", value->key);
            walk_error(w, value->key, "give the string table index in index or in value, not both");
            walk_pop(w);
        }
        if (field_u64(w, item, "index", &index, 0, INT32_MAX) == 1)
            a->index = (int64_t)index;
        return;
    }
    if (value == NULL || (value->value->kind == PTM_YAML_SCALAR && value->value->is_null)) {
        walk_missing(w, "index", "the string table index of a string_table attribute");
        return;
    }
    walk_push(w, "value", value->key);
    if (walk_expect_scalar(w, value->value, "a string table index") == 0) {
        const char *text = value->value->value;
        size_t n = strlen(text);
        if (n == 0 || n > 10 || strspn(text, "0123456789") != n || strtoull(text, NULL, 10) > INT32_MAX)
            walk_error(w, value->value, "expected a string table index (a whole number from 0 to %d), got \"%s\"",
                       INT32_MAX, text);
        else
            a->index = (int64_t)strtoull(text, NULL, 10);
    }
    walk_pop(w);
}

static void parse_attribute(struct config_walk *w, const struct ptm_yaml_node *item,
                            struct ptm_attribute_config *a)
{
    *a = (struct ptm_attribute_config){.type = PTM_ATTRIBUTE_LITERAL, .index = -1,
                                       .pos = {item->line, item->column}};
    if (item->kind != PTM_YAML_MAP) {
        walk_error(w, item, "expected a map with key, value and type, got a %s", ptm_yaml_describe(item));
        return;
    }
    walk_map(w, item, attribute_keys, attribute_hints);
    field_string(w, item, "key", &a->key, FIELD_REQUIRED | FIELD_NONEMPTY);
    int type = PTM_ATTRIBUTE_LITERAL;
    field_enum(w, item, "type", attribute_types, &type);
    a->type = (enum ptm_attribute_type)type;
    switch (a->type) {
    case PTM_ATTRIBUTE_LITERAL:
        field_string(w, item, "value", &a->value, FIELD_REQUIRED);
        refuse_key(w, item, "source", "regex");
        refuse_key(w, item, "index", "string_table");
        break;
    case PTM_ATTRIBUTE_REGEX:
        if (field_string(w, item, "value", &a->value, FIELD_REQUIRED | FIELD_NONEMPTY) == 1) {
            walk_push(w, "value", ptm_yaml_map_find(item, "value")->key);
            walk_check_regex(w, ptm_yaml_map_get(item, "value"), a->value);
            walk_pop(w);
        }
        field_string(w, item, "source", &a->source, FIELD_NONEMPTY);
        refuse_key(w, item, "index", "string_table");
        break;
    case PTM_ATTRIBUTE_STRING_TABLE:
        parse_string_table_index(w, item, a);
        refuse_key(w, item, "source", "regex");
        break;
    }
}

static void parse_attributes(struct config_walk *w, const struct ptm_yaml_node *connector,
                             struct ptm_connector_config *c)
{
    const struct ptm_yaml_node *node = walk_enter(w, connector, "attributes");
    if (node == NULL)
        return;
    if (node->kind == PTM_YAML_SEQUENCE) {
        c->attributes = walk_calloc(w, node->item_count, sizeof *c->attributes);
        c->attribute_count = c->attributes ? node->item_count : 0;
        for (size_t i = 0; i < c->attribute_count; i++) {
            walk_push_index(w, i, node->items[i]);
            parse_attribute(w, node->items[i], &c->attributes[i]);
            walk_pop(w);
        }
    } else if (!(node->kind == PTM_YAML_SCALAR && node->is_null)) {
        walk_error(w, node, "expected a list of {key, value, type}, got a %s", ptm_yaml_describe(node));
    }
    walk_pop(w);
}

// ---- filters ----

static void check_patterns(struct config_walk *w, const struct ptm_yaml_node *filter, const char *key,
                           const struct ptm_filter_config *f)
{
    const struct ptm_yaml_pair *pair = ptm_yaml_map_find(filter, key);
    walk_push(w, key, pair->key);
    const struct ptm_yaml_node *list = pair->value;
    for (size_t i = 0; i < f->pattern_count; i++) {
        const struct ptm_yaml_node *at = list->kind == PTM_YAML_SEQUENCE ? list->items[i] : list;
        if (list->kind == PTM_YAML_SEQUENCE)
            walk_push_index(w, i, at);
        walk_check_regex(w, at, f->patterns[i]);
        if (list->kind == PTM_YAML_SEQUENCE)
            walk_pop(w);
    }
    walk_pop(w);
}

// Fill f->patterns from `patterns` (preferred) or `pattern`, as Go does.
static void choose_patterns(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_filter_config *f)
{
    const char *pattern = NULL;
    field_string(w, node, "pattern", &pattern, 0);
    size_t count = 0;
    const char **patterns = NULL;
    struct ptm_config_pos *where = NULL;
    if (field_strings(w, node, "patterns", &patterns, &where, &count, FIELD_NONEMPTY) == 1 && count > 0) {
        const struct ptm_yaml_pair *pair = ptm_yaml_map_find(node, "patterns");
        if (pair->value->kind == PTM_YAML_SCALAR && count > 1) {
            walk_push(w, "patterns", pair->key);
            walk_warning(w, pair->value,
                         "\"%s\" was split at commas into %zu patterns, as the Collector does; write a YAML list "
                         "if a pattern contains a comma",
                         pair->value->value, count);
            walk_pop(w);
        }
        if (pattern != NULL && pattern[0] != '\0') {
            const struct ptm_yaml_pair *p = ptm_yaml_map_find(node, "pattern");
            walk_push(w, "pattern", p->key);
            walk_warning(w, p->key, "ignored because patterns is set (as in the Go connector)");
            walk_pop(w);
        }
        f->patterns = patterns;
        f->pattern_pos = where;
        f->pattern_count = count;
        check_patterns(w, node, "patterns", f);
    } else if (pattern != NULL && pattern[0] != '\0') {
        const struct ptm_yaml_pair *p = ptm_yaml_map_find(node, "pattern");
        f->patterns = walk_calloc(w, 1, sizeof *f->patterns);
        f->pattern_pos = walk_calloc(w, 1, sizeof *f->pattern_pos);
        if (f->patterns == NULL || f->pattern_pos == NULL)
            return;
        f->patterns[0] = pattern;
        f->pattern_pos[0] = (struct ptm_config_pos){p->value->line, p->value->column};
        f->pattern_count = 1;
        walk_push(w, "pattern", p->key);
        walk_check_regex(w, p->value, pattern);
        walk_pop(w);
    }
}

static void parse_filter(struct config_walk *w, const struct ptm_yaml_node *connector, const char *key,
                         const struct walk_hint *hints, struct ptm_filter_config *f)
{
    const struct ptm_yaml_node *node = walk_enter(w, connector, key);
    if (node == NULL)
        return;
    f->pos = walk_pos(w);
    if (walk_map(w, node, filter_keys, hints)) {
        field_bool(w, node, "enabled", &f->enabled);
        choose_patterns(w, node, f);
        if (f->enabled && f->pattern_count == 0)
            walk_error(w, NULL,
                       "enabled without pattern or patterns: give at least one regular expression, or set "
                       "enabled: false (the Go connector then silently dropped every profile)");
    }
    walk_pop(w);
}

// ---- extensions at the top level ----

static const char *resolve_path(struct config_walk *w, const char *directory, const char *path)
{
    if (path[0] == '/' || directory == NULL || strcmp(directory, ".") == 0)
        return path;
    size_t dl = strlen(directory), pl = strlen(path);
    char *out = ptm_arena_alloc(w->arena, dl + 1 + pl + 1);
    if (out == NULL) {
        w->out_of_memory = true;
        return path;
    }
    memcpy(out, directory, dl);
    out[dl] = '/';
    memcpy(out + dl + 1, path, pl + 1);
    return out;
}

static void parse_rules(struct config_walk *w, const struct ptm_config *config,
                        const struct ptm_yaml_node *connector, struct ptm_connector_config *c)
{
    const char **paths = NULL;
    struct ptm_config_pos *where = NULL;
    size_t count = 0;
    if (field_strings(w, connector, "rules", &paths, &where, &count, FIELD_NONEMPTY) != 1 || count == 0)
        return;
    c->rules = walk_calloc(w, count, sizeof *c->rules);
    if (c->rules == NULL)
        return;
    c->rule_count = count;
    walk_push(w, "rules", ptm_yaml_map_find(connector, "rules")->key);
    for (size_t i = 0; i < count; i++) {
        struct ptm_rule_file *r = &c->rules[i];
        r->written = paths[i];
        r->path = resolve_path(w, config->directory, paths[i]);
        r->pos = where[i];
        if (access(r->path, R_OK) != 0) {
            int e = errno;
            walk_push_index(w, i, NULL);
            walk_error_pos(w, r->pos, "cannot read rule file %s: %s", r->path, strerror(e));
            walk_pop(w);
        }
    }
    walk_pop(w);
}

static void parse_limits(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_connector_config *c)
{
    int temporality = (int)c->temporality;
    if (field_enum(w, node, "temporality", temporalities, &temporality) == 1)
        c->temporality = (enum ptm_temporality)temporality;
    field_u32(w, node, "series_limit", &c->series_limit, 1, 100000000);
    field_size(w, node, "lua_memory_limit", &c->lua_memory_limit, MIB, 1ULL << 40);
    field_duration(w, node, "lua_time_limit", &c->lua_time_limit, 10 * 1000000ULL, 3600 * SECOND);
    field_duration(w, node, "flush_interval", &c->flush_interval, 10 * 1000000ULL, 24 * 3600 * SECOND);
}

// ---- checks across keys ----

static void check_names_distinct(struct config_walk *w, const struct ptm_connector_config *c)
{
    const struct ptm_metric_config *m[3] = {&c->metrics.cpu, &c->metrics.memory, &c->metrics.off_cpu};
    static const char *const names[3] = {"cpu", "memory", "off_cpu"};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (m[i]->enabled && m[j]->enabled && strcmp(m[i]->metric_name, m[j]->metric_name) == 0)
                walk_error(w, NULL, "metrics.%s and metrics.%s both use metric_name \"%s\"; give each its own",
                           names[i], names[j], m[i]->metric_name);
}

// metrics.function adds per-function series to the cpu and memory metrics:
// written as enabled while both are off, it would do nothing.
static void check_function_alone(struct config_walk *w, const struct ptm_yaml_node *connector,
                                 const struct ptm_connector_config *c)
{
    const struct ptm_yaml_node *function = ptm_yaml_map_get(ptm_yaml_map_get(connector, "metrics"), "function");
    const struct ptm_yaml_pair *enabled = ptm_yaml_map_find(function, "enabled");
    if (enabled == NULL || !c->metrics.function.enabled || c->metrics.cpu.enabled || c->metrics.memory.enabled)
        return;
    walk_push(w, "metrics.function.enabled", enabled->key);
    walk_warning(w, enabled->key, "has no effect while metrics.cpu and metrics.memory are disabled: function "
                                  "series are series of those metrics");
    walk_pop(w);
}

static void check_connector(struct config_walk *w, const struct ptm_yaml_node *node,
                            const struct ptm_connector_config *c)
{
    if (!c->metrics.cpu.enabled && !c->metrics.memory.enabled && !c->metrics.off_cpu.enabled && c->rule_count == 0)
        walk_error(w, NULL, "at least one metric must be enabled (metrics.cpu, metrics.memory or "
                            "metrics.off_cpu), or a rule file listed under rules");
    check_function_alone(w, node, c);
    check_names_distinct(w, c);
}

static void parse_connector(struct config_walk *w, const struct ptm_config *config,
                            const struct ptm_yaml_pair *pair, struct ptm_connector_config *c)
{
    ptm_connector_config_defaults(c);
    c->id = walk_strdup(w, pair->key->value);
    c->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
    const struct ptm_yaml_node *node = pair->value;
    if (!walk_map(w, node, connector_keys, connector_hints))
        return;
    parse_metrics(w, node, c);
    parse_attributes(w, node, c);
    parse_filter(w, node, "process_filter", process_filter_hints, &c->process_filter);
    parse_filter(w, node, "thread_filter", thread_filter_hints, &c->thread_filter);
    parse_filter(w, node, "pattern_filter", pattern_filter_hints, &c->pattern_filter);
    parse_rules(w, config, node, c);
    parse_limits(w, node, c);
    check_connector(w, node, c);
}

void cfg_parse_connectors(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section)
{
    if (!walk_expect_map(w, section))
        return;
    config->connectors = walk_calloc(w, section->pair_count, sizeof *config->connectors);
    if (config->connectors == NULL)
        return;
    for (size_t i = 0; i < section->pair_count; i++) {
        const struct ptm_yaml_pair *pair = &section->pairs[i];
        walk_push(w, pair->key->value, pair->key);
        if (cfg_component_type(w, pair->key, "connector", connector_types, connector_type_hints) >= 0)
            parse_connector(w, config, pair, &config->connectors[config->connector_count++]);
        walk_pop(w);
    }
}
