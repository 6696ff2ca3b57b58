// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the configuration loader (YAML, environment references, the
// Collector sections and the connector's keys). A load either fails with at
// least one error that names where, or gives a configuration that keeps the
// promises config.h makes about it; both are checked.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: config: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_metric(const struct ptm_metric_config *m)
{
    if (m->metric_name == NULL || m->metric_name[0] == '\0')
        broken("a metric without a name", NULL);
    if (m->description == NULL || m->unit == NULL || m->unit[0] == '\0')
        broken("a metric without a description or unit", m->metric_name);
    if (!(m->unit_scale > 0))
        broken("a metric whose unit scale is not positive", m->metric_name);
}

static void check_filter(const struct ptm_filter_config *f)
{
    if (f->enabled && f->pattern_count == 0)
        broken("an enabled filter without a pattern", NULL);
    for (size_t i = 0; i < f->pattern_count; i++) {
        if (f->patterns[i] == NULL)
            broken("a filter pattern is NULL", NULL);
    }
}

static void check_connector(const struct ptm_connector_config *c)
{
    if (c->id == NULL || strncmp(c->id, "profiletometrics", 16) != 0)
        broken("a connector id that is not profiletometrics[/NAME]", c->id);
    check_metric(&c->metrics.cpu);
    check_metric(&c->metrics.memory);
    check_metric(&c->metrics.off_cpu);
    for (size_t i = 0; i < c->attribute_count; i++) {
        const struct ptm_attribute_config *a = &c->attributes[i];
        if (a->key == NULL || a->key[0] == '\0')
            broken("an attribute without a key", NULL);
        if ((a->type == PTM_ATTRIBUTE_STRING_TABLE) != (a->index >= 0))
            broken("an attribute index that does not match its type", a->key);
        if (a->type != PTM_ATTRIBUTE_STRING_TABLE && a->value == NULL)
            broken("a literal or regex attribute without a value", a->key);
    }
    check_filter(&c->process_filter);
    check_filter(&c->thread_filter);
    check_filter(&c->pattern_filter);
    for (size_t i = 0; i < c->rule_count; i++) {
        if (c->rules[i].path == NULL || c->rules[i].path[0] == '\0')
            broken("a rule file without a path", NULL);
    }
    if (c->lua_memory_limit < (1u << 20))
        broken("lua_memory_limit below 1 MiB", c->id);
}

static void check_config(const struct ptm_config *config)
{
    for (size_t i = 0; i < config->connector_count; i++) {
        check_connector(&config->connectors[i]);
        if (ptm_config_find_connector(config, config->connectors[i].id) == NULL)
            broken("a connector its own configuration cannot find", config->connectors[i].id);
    }
    for (size_t i = 0; i < config->receiver_count; i++) {
        if (ptm_config_find_receiver(config, config->receivers[i].id) == NULL)
            broken("a receiver its own configuration cannot find", config->receivers[i].id);
    }
    for (size_t i = 0; i < config->exporter_count; i++) {
        if (ptm_config_find_exporter(config, config->exporters[i].id) == NULL)
            broken("an exporter its own configuration cannot find", config->exporters[i].id);
    }
    for (size_t i = 0; i < config->service.extension_count; i++) {
        if (ptm_config_find_extension(config, config->service.extensions[i]) == NULL)
            broken("service.extensions names an undefined extension", config->service.extensions[i]);
    }
}

static void check_diagnostics(const struct ptm_config_diagnostics *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct ptm_config_diagnostic *d = &list->items[i];
        if (d->text == NULL || d->text[0] == '\0' || d->message == NULL || d->path == NULL)
            broken("a diagnostic without text", NULL);
        if (i > 0 && d->line != 0 &&
            (d->line < list->items[i - 1].line ||
             (d->line == list->items[i - 1].line && d->column < list->items[i - 1].column)))
            broken("diagnostics out of order", d->text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct ptm_config_report report;
    memset(&report, 0, sizeof report);
    struct ptm_error err;
    memset(&err, 0, sizeof err);
    struct ptm_config *config = ptm_config_load_string_report(text, "fuzz/config.yaml", &report, &err);
    check_diagnostics(&report.errors);
    check_diagnostics(&report.warnings);
    if (config == NULL) {
        if (err.code == 0 || err.message[0] == '\0')
            broken("a failed load without an error message", NULL);
        if (err.code == PTM_ECONFIG && report.errors.count == 0)
            broken("a configuration error that the report does not list", err.message);
    } else {
        if (report.errors.count != 0)
            broken("a configuration with errors was loaded", report.errors.items[0].text);
        check_config(config);
    }
    ptm_config_destroy(config);
    ptm_config_report_fini(&report);
    free(text);
    return 0;
}
