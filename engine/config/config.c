// SPDX-License-Identifier: Apache-2.0
//
// Loading a configuration: the YAML file becomes a node tree (yaml.c), the
// top-level sections are read in order (config_components.c,
// config_connector.c, config_exporters.c), then the service section is
// checked against every component (config_service.c). Every error of the
// file is collected; the load fails if there is any, reporting the first.
#include "config/config.h"

#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/yaml.h"
#include "util/arena.h"
#include "util/error.h"

static const char *const top_keys[] = {
    "receivers", "processors", "exporters", "connectors", "extensions", "service", NULL,
};

static const struct walk_hint top_hints[] = {
    {"pipelines", "pipelines go under service:"},
    {"telemetry", "telemetry goes under service:"},
    {"profiletometrics", "the connector goes under connectors: (connectors: {profiletometrics: {...}})"},
    {"metrics", "connector keys go under connectors: profiletometrics:"},
    {"attributes", "connector keys go under connectors: profiletometrics:"},
    {"process_filter", "connector keys go under connectors: profiletometrics:"},
    {"rules", "connector keys go under connectors: profiletometrics:"},
    {NULL, NULL},
};

int cfg_component_type(struct config_walk *w, const struct ptm_yaml_node *key, const char *kind,
                   const char *const *types, const struct walk_hint *hints)
{
    size_t type_length;
    if (walk_component_id(w, key, kind, &type_length) != 0)
        return -1;
    char type[64];
    snprintf(type, sizeof type, "%.*s", (int)type_length, key->value);
    for (int i = 0; types[i] != NULL; i++)
        if (strcmp(types[i], type) == 0)
            return i;
    for (size_t i = 0; hints != NULL && hints[i].key != NULL; i++)
        if (strcmp(hints[i].key, type) == 0) {
            walk_error(w, key, "unknown %s type \"%s\" (%s)", kind, type, hints[i].message);
            return -1;
        }
    const char *suggestion = walk_suggest(type, types);
    if (suggestion != NULL) {
        walk_error(w, key, "unknown %s type \"%s\" (did you mean %s?)", kind, type, suggestion);
        return -1;
    }
    char list[256];
    size_t n = 0;
    list[0] = '\0';
    for (int i = 0; types[i] != NULL && n < sizeof list; i++) {
        int wrote = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", types[i]);
        n += wrote > 0 ? (size_t)wrote : 0;
    }
    walk_error(w, key, "unknown %s type \"%s\" (supported: %s)", kind, type, list);
    return -1;
}

// ---- creating and freeing ----

// The directory relative rule paths start from: name's directory, or ".".
static const char *directory_of(struct ptm_arena *arena, const char *name)
{
    const char *slash = name ? strrchr(name, '/') : NULL;
    if (slash == NULL)
        return ".";
    if (slash == name)
        return "/";
    return ptm_arena_strndup(arena, name, (size_t)(slash - name));
}

static struct ptm_config *config_create(const char *name)
{
    struct ptm_arena *arena = ptm_arena_create(0);
    struct ptm_config *c = arena ? ptm_arena_calloc(arena, 1, sizeof *c) : NULL;
    if (c == NULL) {
        ptm_arena_destroy(arena);
        return NULL;
    }
    c->arena = arena;
    c->file = name ? ptm_arena_strndup(arena, name, strlen(name)) : NULL;
    c->directory = directory_of(arena, name);
    if ((name != NULL && c->file == NULL) || c->directory == NULL) {
        ptm_arena_destroy(arena);
        return NULL;
    }
    cfg_service_defaults(&c->service);
    return c;
}

void ptm_config_destroy(struct ptm_config *config)
{
    if (config == NULL)
        return;
    ptm_config_diagnostics_fini(&config->warnings);
    ptm_arena_destroy(config->arena);
}

void ptm_config_report_fini(struct ptm_config_report *report)
{
    if (report == NULL)
        return;
    ptm_config_diagnostics_fini(&report->errors);
    ptm_config_diagnostics_fini(&report->warnings);
}

struct ptm_config *ptm_config_default(void)
{
    struct ptm_config *c = config_create(NULL);
    if (c == NULL)
        return NULL;
    c->connectors = ptm_arena_calloc(c->arena, 1, sizeof *c->connectors);
    if (c->connectors == NULL) {
        ptm_config_destroy(c);
        return NULL;
    }
    ptm_connector_config_defaults(&c->connectors[0]);
    c->connector_count = 1;
    return c;
}

// ---- reading a document ----

typedef void section_parser(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section);

static void parse_section(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *root,
                          const char *key, section_parser *parse)
{
    const struct ptm_yaml_node *node = walk_enter(w, root, key);
    if (node == NULL)
        return;
    parse(w, config, node);
    walk_pop(w);
}

static void parse_document(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *root)
{
    if (root == NULL || (root->kind == PTM_YAML_SCALAR && root->is_null))
        return; // an empty file: every default
    if (root->kind != PTM_YAML_MAP) {
        walk_error(w, root, "expected a map with receivers, connectors, exporters and service, got a %s",
                   ptm_yaml_describe(root));
        return;
    }
    walk_map(w, root, top_keys, top_hints);
    parse_section(w, config, root, "extensions", cfg_parse_extensions);
    parse_section(w, config, root, "receivers", cfg_parse_receivers);
    parse_section(w, config, root, "processors", cfg_parse_processors);
    parse_section(w, config, root, "connectors", cfg_parse_connectors);
    parse_section(w, config, root, "exporters", cfg_parse_exporters);
    cfg_parse_service(w, config, root);
    cfg_check_queue_storage(w, config);
    cfg_check_receiver_auth(w, config);
}

// Put the first error (and how many more there are) into err.
static void report_first_error(const struct ptm_config_diagnostics *errors, const char *name, int code,
                               struct ptm_error *err)
{
    if (errors->count == 0) {
        ptm_error_set(err, PTM_ENOMEM, "%s: out of memory reading the configuration", name);
        return;
    }
    if (errors->count == 1)
        ptm_error_set(err, code, "%s", errors->items[0].text);
    else
        ptm_error_set(err, code, "%s (and %zu more error%s)", errors->items[0].text, errors->count - 1,
                      errors->count == 2 ? "" : "s");
}

// Load from path (a file) or text; name is used in messages.
static struct ptm_config *load(const char *path, const char *text, const char *name,
                               struct ptm_config_report *report, struct ptm_error *err)
{
    struct ptm_config_diagnostics errors = {0}, warnings = {0};
    struct ptm_error yaml_err = {0};
    if (name == NULL)
        name = "<configuration>";
    struct ptm_yaml_document *doc =
        path ? ptm_yaml_load_file(path, NULL, &errors, &warnings, &yaml_err)
             : ptm_yaml_load_string(text, strlen(text), name, NULL, &errors, &warnings, &yaml_err);
    struct ptm_config *config = doc ? config_create(name) : NULL;
    if (config != NULL) {
        struct config_walk w = {.arena = config->arena, .file = name, .errors = &errors, .warnings = &warnings};
        parse_document(&w, config, doc->root);
        if (w.out_of_memory)
            errors.out_of_memory = 1;
    } else if (doc != NULL) {
        errors.out_of_memory = 1;
    }
    ptm_yaml_destroy(doc);
    ptm_config_diagnostics_sort(&errors);
    ptm_config_diagnostics_sort(&warnings);

    struct ptm_error e = {0};
    if (doc == NULL)
        e = yaml_err;
    else if (errors.count > 0 || errors.out_of_memory || warnings.out_of_memory)
        report_first_error(&errors, name, errors.count ? PTM_ECONFIG : PTM_ENOMEM, &e);
    else if (ptm_config_diagnostics_copy(&config->warnings, &warnings) != 0)
        ptm_error_set(&e, PTM_ENOMEM, "%s: out of memory reading the configuration", name);
    if (e.code != PTM_OK) {
        ptm_config_destroy(config);
        config = NULL;
    }
    if (err != NULL)
        *err = e;
    if (report != NULL && (ptm_config_diagnostics_move(&report->errors, &errors) != 0 ||
                           ptm_config_diagnostics_move(&report->warnings, &warnings) != 0))
        report->errors.out_of_memory = 1;
    ptm_config_diagnostics_fini(&errors);
    ptm_config_diagnostics_fini(&warnings);
    return config;
}

struct ptm_config *ptm_config_load_file_report(const char *path, struct ptm_config_report *report,
                                               struct ptm_error *err)
{
    return load(path, NULL, path, report, err);
}

struct ptm_config *ptm_config_load_file(const char *path, struct ptm_error *err)
{
    return load(path, NULL, path, NULL, err);
}

struct ptm_config *ptm_config_load_string_report(const char *text, const char *name,
                                                 struct ptm_config_report *report, struct ptm_error *err)
{
    return load(NULL, text, name, report, err);
}

struct ptm_config *ptm_config_load_string(const char *text, const char *name, struct ptm_error *err)
{
    return load(NULL, text, name, NULL, err);
}

// ---- look-ups ----

#define FIND(list, count)                                  \
    do {                                                   \
        for (size_t i = 0; config != NULL && i < (count); i++) \
            if (strcmp((list)[i].id, id) == 0)             \
                return &(list)[i];                         \
        return NULL;                                       \
    } while (0)

const struct ptm_connector_config *ptm_config_find_connector(const struct ptm_config *config, const char *id)
{
    FIND(config->connectors, config->connector_count);
}

const struct ptm_receiver_config *ptm_config_find_receiver(const struct ptm_config *config, const char *id)
{
    FIND(config->receivers, config->receiver_count);
}

const struct ptm_processor_config *ptm_config_find_processor(const struct ptm_config *config, const char *id)
{
    FIND(config->processors, config->processor_count);
}

const struct ptm_exporter_config *ptm_config_find_exporter(const struct ptm_config *config, const char *id)
{
    FIND(config->exporters, config->exporter_count);
}

const struct ptm_extension_config *ptm_config_find_extension(const struct ptm_config *config, const char *id)
{
    FIND(config->extensions, config->extension_count);
}
