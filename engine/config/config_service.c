// SPDX-License-Identifier: Apache-2.0
//
// service: extensions, pipelines and telemetry. Every id a pipeline names
// must be defined; a profiletometrics connector is the exporter of a profiles
// pipeline and the receiver of a metrics pipeline, as in the Collector.
//
// Compatibility: the Go connector README's quick start writes
//     traces: {receivers: [otlp], connectors: [profiletometrics]}
// `connectors` is not a Collector pipeline key and the connector takes
// profiles, not traces. Such a pipeline loads as a profiles pipeline
// exporting to the connector, with a warning that shows the right form.
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

static const char *const service_keys[] = {"extensions", "pipelines", "telemetry", NULL};
static const char *const pipeline_keys[] = {"receivers", "processors", "exporters", NULL};
static const char *const signal_names[] = {"profiles", "metrics", "traces", "logs", NULL};

// A pipeline being read, with where each of its ids was written.
struct pipeline_work {
    struct ptm_pipeline_config *p;
    const struct ptm_yaml_node *key; // the pipeline's id
    const struct ptm_yaml_node *node;
    struct ptm_config_pos *receiver_pos, *processor_pos, *exporter_pos;
    const struct ptm_yaml_pair *connectors; // the quick start's key, or NULL
    size_t connector_first;                 // where its ids start in exporters
};

// ---- reading ----

static int pipeline_signal(struct config_walk *w, const struct ptm_yaml_node *key)
{
    const char *id = key->value;
    const char *slash = strchr(id, '/');
    size_t n = slash ? (size_t)(slash - id) : strlen(id);
    for (int i = 0; signal_names[i] != NULL; i++)
        if (strlen(signal_names[i]) == n && strncmp(signal_names[i], id, n) == 0 && (slash == NULL || slash[1]))
            return i;
    char type[64];
    snprintf(type, sizeof type, "%.*s", (int)(n < 63 ? n : 63), id);
    const char *suggestion = walk_suggest(type, signal_names);
    if (suggestion != NULL)
        walk_error(w, key, "unknown pipeline type \"%s\" (did you mean %s?)", type, suggestion);
    else
        walk_error(w, key, "unknown pipeline type \"%s\" (expected profiles, metrics, traces or logs, "
                   "optionally followed by /NAME)", type);
    return -1;
}

// Append the connector ids of the quick start's `connectors:` key to the
// exporters.
static void read_connectors_key(struct config_walk *w, struct pipeline_work *pw)
{
    const char **ids = NULL;
    struct ptm_config_pos *pos = NULL;
    size_t count = 0;
    if (field_strings(w, pw->node, "connectors", &ids, &pos, &count, FIELD_NONEMPTY) != 1 || count == 0)
        return;
    struct ptm_pipeline_config *p = pw->p;
    size_t total = p->exporter_count + count;
    const char **all = walk_calloc(w, total, sizeof *all);
    struct ptm_config_pos *all_pos = walk_calloc(w, total, sizeof *all_pos);
    if (all == NULL || all_pos == NULL)
        return;
    for (size_t i = 0; i < p->exporter_count; i++) {
        all[i] = p->exporters[i];
        all_pos[i] = pw->exporter_pos[i];
    }
    for (size_t i = 0; i < count; i++) {
        all[p->exporter_count + i] = ids[i];
        all_pos[p->exporter_count + i] = pos[i];
    }
    pw->connector_first = p->exporter_count;
    p->exporters = all;
    p->exporter_count = total;
    pw->exporter_pos = all_pos;
}

static void read_pipeline(struct config_walk *w, const struct ptm_yaml_pair *pair, int signal,
                          struct pipeline_work *pw)
{
    struct ptm_pipeline_config *p = pw->p;
    p->id = walk_strdup(w, pair->key->value);
    p->signal = (enum ptm_signal)signal;
    p->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
    pw->key = pair->key;
    pw->node = pair->value;
    pw->connectors = ptm_yaml_map_find(pair->value, "connectors");
    // `connectors` is known here only for the quick start's form; elsewhere
    // it is reported like any unknown key.
    bool compat = pw->connectors != NULL && (signal == PTM_SIGNAL_TRACES || signal == PTM_SIGNAL_PROFILES);
    static const char *const with_connectors[] = {"receivers", "processors", "exporters", "connectors", NULL};
    static const struct walk_hint hints[] = {
        {"connectors", "a connector is listed under exporters of the pipeline that feeds it and under receivers "
                       "of the pipeline it feeds"},
        {NULL, NULL},
    };
    if (!walk_map(w, pair->value, compat ? with_connectors : pipeline_keys, hints))
        return;
    if (!compat)
        pw->connectors = NULL;
    field_strings(w, pair->value, "receivers", &p->receivers, &pw->receiver_pos, &p->receiver_count, FIELD_NONEMPTY);
    field_strings(w, pair->value, "processors", &p->processors, &pw->processor_pos, &p->processor_count,
                  FIELD_NONEMPTY);
    field_strings(w, pair->value, "exporters", &p->exporters, &pw->exporter_pos, &p->exporter_count, FIELD_NONEMPTY);
    pw->connector_first = p->exporter_count;
    if (pw->connectors != NULL)
        read_connectors_key(w, pw);
}

// ---- checking ----

// Enter the path of item i of list (exporters past connector_first came
// from the `connectors` key).
static void push_item(struct config_walk *w, const struct pipeline_work *pw, const char *list, size_t i)
{
    if (strcmp(list, "exporters") == 0 && pw->connectors != NULL && i >= pw->connector_first) {
        walk_push(w, "connectors", pw->connectors->key);
        walk_push_index(w, i - pw->connector_first, NULL);
    } else {
        walk_push(w, list, NULL);
        walk_push_index(w, i, NULL);
    }
}

static void pop_item(struct config_walk *w)
{
    walk_pop(w);
    walk_pop(w);
}

static bool listed(const char *const *ids, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

// Report ids listed twice in one list.
static void check_duplicates(struct config_walk *w, const struct pipeline_work *pw, const char *list,
                             const char **ids, const struct ptm_config_pos *pos, size_t count)
{
    for (size_t i = 1; i < count; i++)
        if (listed(ids, i, ids[i])) {
            push_item(w, pw, list, i);
            walk_error_pos(w, pos[i], "\"%s\" is listed twice", ids[i]);
            pop_item(w);
        }
}

static void check_receiver(struct config_walk *w, const struct ptm_config *config, const struct pipeline_work *pw,
                           size_t i)
{
    const struct ptm_pipeline_config *p = pw->p;
    const char *id = p->receivers[i];
    bool is_connector = ptm_config_find_connector(config, id) != NULL;
    push_item(w, pw, "receivers", i);
    if (!is_connector && ptm_config_find_receiver(config, id) == NULL)
        walk_error_pos(w, pw->receiver_pos[i], "\"%s\" is not defined under receivers or connectors", id);
    else if (is_connector && p->signal == PTM_SIGNAL_PROFILES)
        walk_error_pos(w, pw->receiver_pos[i],
                       "connector \"%s\" makes metrics: it is a receiver of a metrics pipeline, not of a profiles "
                       "pipeline", id);
    else if (!is_connector && p->signal == PTM_SIGNAL_METRICS)
        walk_error_pos(w, pw->receiver_pos[i],
                       "receiver \"%s\" in a metrics pipeline: profiletometrics takes in profiles only; a metrics "
                       "pipeline receives from a profiletometrics connector", id);
    pop_item(w);
}

static void check_exporter(struct config_walk *w, const struct ptm_config *config, const struct pipeline_work *pw,
                           size_t i)
{
    const struct ptm_pipeline_config *p = pw->p;
    const char *id = p->exporters[i];
    bool is_connector = ptm_config_find_connector(config, id) != NULL;
    push_item(w, pw, "exporters", i);
    if (!is_connector && ptm_config_find_exporter(config, id) == NULL)
        walk_error_pos(w, pw->exporter_pos[i], "\"%s\" is not defined under exporters or connectors", id);
    else if (!is_connector && p->signal == PTM_SIGNAL_PROFILES)
        walk_error_pos(w, pw->exporter_pos[i],
                       "exporter \"%s\" cannot take profiles: a profiles pipeline exports to a profiletometrics "
                       "connector", id);
    else if (is_connector && p->signal == PTM_SIGNAL_METRICS)
        walk_error_pos(w, pw->exporter_pos[i],
                       "connector \"%s\" takes profiles: it is an exporter of a profiles pipeline, not of a "
                       "metrics pipeline", id);
    pop_item(w);
}

static void check_pipeline(struct config_walk *w, const struct ptm_config *config, const struct pipeline_work *pw)
{
    const struct ptm_pipeline_config *p = pw->p;
    walk_push(w, p->id, pw->key);
    for (size_t i = 0; i < p->receiver_count; i++)
        check_receiver(w, config, pw, i);
    for (size_t i = 0; i < p->processor_count; i++)
        if (ptm_config_find_processor(config, p->processors[i]) == NULL) {
            push_item(w, pw, "processors", i);
            walk_error_pos(w, pw->processor_pos[i], "\"%s\" is not defined under processors", p->processors[i]);
            pop_item(w);
        }
    for (size_t i = 0; i < p->exporter_count; i++)
        check_exporter(w, config, pw, i);
    check_duplicates(w, pw, "receivers", p->receivers, pw->receiver_pos, p->receiver_count);
    check_duplicates(w, pw, "processors", p->processors, pw->processor_pos, p->processor_count);
    check_duplicates(w, pw, "exporters", p->exporters, pw->exporter_pos, p->exporter_count);
    if (p->receiver_count == 0)
        walk_missing(w, "receivers", "a pipeline needs at least one receiver");
    if (p->exporter_count == 0)
        walk_missing(w, "exporters", "a pipeline needs at least one exporter");
    walk_pop(w);
}

// A connector must feed and be fed: exporter of one pipeline, receiver of
// another.
static void check_connector_use(struct config_walk *w, const struct ptm_config *config)
{
    const struct ptm_service_config *s = &config->service;
    for (size_t c = 0; c < config->connector_count; c++) {
        const char *id = config->connectors[c].id;
        bool as_exporter = false, as_receiver = false;
        for (size_t i = 0; i < s->pipeline_count; i++) {
            as_exporter |= listed(s->pipelines[i].exporters, s->pipelines[i].exporter_count, id);
            as_receiver |= listed(s->pipelines[i].receivers, s->pipelines[i].receiver_count, id);
        }
        if (as_exporter == as_receiver)
            continue;
        walk_push(w, "connectors", NULL);
        walk_push(w, id, NULL);
        walk_error_pos(w, config->connectors[c].pos,
                       as_exporter ? "a profiles pipeline exports to it but no metrics pipeline receives from it: "
                                     "add a pipeline metrics: {receivers: [%s], exporters: [...]}"
                                   : "a metrics pipeline receives from it but no profiles pipeline exports to it: "
                                     "add a pipeline profiles: {receivers: [otlp], exporters: [%s]}",
                       id);
        walk_pop(w);
        walk_pop(w);
    }
}

// ---- the quick start's form ----

static void format_list(char *buf, size_t size, const char *const *ids, size_t from, size_t to)
{
    size_t n = 0;
    int wrote = snprintf(buf, size, "[");
    n = wrote > 0 ? (size_t)wrote : 0;
    for (size_t i = from; i < to && n < size; i++) {
        wrote = snprintf(buf + n, size - n, "%s%s", i > from ? ", " : "", ids[i]);
        n += wrote > 0 ? (size_t)wrote : 0;
    }
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

// The exporters of the first metrics pipeline that receives from
// connector, as "[a, b]", or "[...]".
static void metrics_exporters(const struct ptm_service_config *s, const char *connector, char *buf, size_t size)
{
    snprintf(buf, size, "[...]");
    for (size_t i = 0; i < s->pipeline_count; i++) {
        const struct ptm_pipeline_config *p = &s->pipelines[i];
        if (p->signal == PTM_SIGNAL_METRICS && listed(p->receivers, p->receiver_count, connector)) {
            format_list(buf, size, p->exporters, 0, p->exporter_count);
            return;
        }
    }
}

// A traces (or profiles) pipeline that feeds a profiletometrics connector:
// read it as a profiles pipeline and say how to write it.
static void apply_quick_start_form(struct config_walk *w, const struct ptm_config *config, struct pipeline_work *pw)
{
    struct ptm_pipeline_config *p = pw->p;
    const char *connector = NULL;
    for (size_t i = 0; i < p->exporter_count && connector == NULL; i++)
        if (ptm_config_find_connector(config, p->exporters[i]) != NULL)
            connector = p->exporters[i];
    if (connector == NULL || (p->signal != PTM_SIGNAL_TRACES && pw->connectors == NULL))
        return;
    char receivers[256], exporters[256], downstream[256];
    format_list(receivers, sizeof receivers, p->receivers, 0, p->receiver_count);
    format_list(exporters, sizeof exporters, p->exporters, 0, p->exporter_count);
    metrics_exporters(&config->service, connector, downstream, sizeof downstream);
    const char *why = pw->connectors != NULL
                          ? "`connectors` is not a Collector pipeline key (the Go connector README's quick start); "
                            "read as the exporters of a profiles pipeline"
                          : "profiletometrics takes profiles, not traces; read as a profiles pipeline";
    walk_push(w, p->id, pw->key);
    if (pw->connectors != NULL)
        walk_push(w, "connectors", pw->connectors->key);
    walk_warning(w, pw->connectors != NULL ? pw->connectors->key : NULL,
                 "%s. Write instead: profiles: {receivers: %s, exporters: %s} and metrics: {receivers: [%s], "
                 "exporters: %s}",
                 why, receivers, exporters, connector, downstream);
    if (pw->connectors != NULL)
        walk_pop(w);
    walk_pop(w);
    p->signal = PTM_SIGNAL_PROFILES;
}

static void warn_ignored_signal(struct config_walk *w, const struct pipeline_work *pw)
{
    const struct ptm_pipeline_config *p = pw->p;
    if (p->signal != PTM_SIGNAL_TRACES && p->signal != PTM_SIGNAL_LOGS)
        return;
    walk_push(w, p->id, pw->key);
    walk_warning(w, NULL, "ignored: profiletometrics handles profiles and metrics pipelines only");
    walk_pop(w);
}

// ---- sections ----

static void parse_pipelines(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section)
{
    struct ptm_service_config *s = &config->service;
    if (!walk_expect_map(w, section)) {
        if (section->kind == PTM_YAML_SCALAR && section->is_null)
            walk_error(w, section, "service needs at least one pipeline");
        return;
    }
    s->pipelines = walk_calloc(w, section->pair_count, sizeof *s->pipelines);
    struct pipeline_work *work = walk_calloc(w, section->pair_count, sizeof *work);
    if (s->pipelines == NULL || work == NULL)
        return;
    for (size_t i = 0; i < section->pair_count; i++) {
        const struct ptm_yaml_pair *pair = &section->pairs[i];
        walk_push(w, pair->key->value, pair->key);
        int signal = pipeline_signal(w, pair->key);
        if (signal >= 0) {
            work[s->pipeline_count].p = &s->pipelines[s->pipeline_count];
            read_pipeline(w, pair, signal, &work[s->pipeline_count]);
            s->pipeline_count++;
        }
        walk_pop(w);
    }
    for (size_t i = 0; i < s->pipeline_count; i++)
        apply_quick_start_form(w, config, &work[i]);
    for (size_t i = 0; i < s->pipeline_count; i++) {
        warn_ignored_signal(w, &work[i]);
        check_pipeline(w, config, &work[i]);
    }
}

static void parse_service_extensions(struct config_walk *w, struct ptm_config *config,
                                     const struct ptm_yaml_node *section)
{
    struct ptm_service_config *s = &config->service;
    struct ptm_config_pos *pos = NULL;
    if (field_strings(w, section, "extensions", &s->extensions, &pos, &s->extension_count, FIELD_NONEMPTY) != 1)
        return;
    walk_push(w, "extensions", ptm_yaml_map_find(section, "extensions")->key);
    for (size_t i = 0; i < s->extension_count; i++) {
        walk_push_index(w, i, NULL);
        struct ptm_extension_config *e =
            (struct ptm_extension_config *)ptm_config_find_extension(config, s->extensions[i]);
        if (e == NULL)
            walk_error_pos(w, pos[i], "\"%s\" is not defined under extensions", s->extensions[i]);
        else if (listed(s->extensions, i, s->extensions[i]))
            walk_error_pos(w, pos[i], "\"%s\" is listed twice", s->extensions[i]);
        else
            e->enabled = true;
        walk_pop(w);
    }
    walk_pop(w);
}

static void parse_telemetry(struct config_walk *w, struct ptm_service_config *s, const struct ptm_yaml_node *node)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    static const char *const metrics_levels[] = {"none", "basic", "normal", "detailed", NULL};
    if (!walk_map(w, node, (const char *const[]){"logs", "metrics", NULL}, NULL))
        return;
    const struct ptm_yaml_node *logs = walk_enter(w, node, "logs");
    if (logs != NULL) {
        int level = (int)s->log_level;
        if (walk_map(w, logs, (const char *const[]){"level", "encoding", NULL}, NULL) &&
            field_enum(w, logs, "level", levels, &level) == 1)
            s->log_level = (enum ptm_log_level)level;
        cfg_warn_ignored_keys(w, logs, (const char *const[]){"encoding", NULL});
        walk_pop(w);
    }
    const struct ptm_yaml_node *metrics = walk_enter(w, node, "metrics");
    if (metrics != NULL) {
        int level = (int)s->metrics_level;
        if (walk_map(w, metrics, (const char *const[]){"address", "level", NULL}, NULL)) {
            field_endpoint(w, metrics, "address", &s->metrics_address);
            if (field_enum(w, metrics, "level", metrics_levels, &level) == 1)
                s->metrics_level = (enum ptm_telemetry_metrics_level)level;
        }
        walk_pop(w);
    }
}

void cfg_service_defaults(struct ptm_service_config *s)
{
    *s = (struct ptm_service_config){
        .log_level = PTM_LOG_INFO, .metrics_address = "0.0.0.0:8888", .metrics_level = PTM_TELEMETRY_NORMAL};
}

void cfg_parse_service(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *root)
{
    struct ptm_service_config *s = &config->service;
    cfg_service_defaults(s);
    const struct ptm_yaml_node *section = walk_enter(w, root, "service");
    if (section == NULL)
        return;
    if (walk_map(w, section, service_keys, NULL)) {
        parse_service_extensions(w, config, section);
        const struct ptm_yaml_node *pipelines = walk_enter(w, section, "pipelines");
        if (pipelines != NULL) {
            parse_pipelines(w, config, pipelines);
            walk_pop(w);
        } else {
            walk_missing(w, "pipelines", "service needs at least one pipeline");
        }
        const struct ptm_yaml_node *telemetry = walk_enter(w, section, "telemetry");
        if (telemetry != NULL) {
            parse_telemetry(w, s, telemetry);
            walk_pop(w);
        }
    }
    walk_pop(w);
    check_connector_use(w, config);
}
