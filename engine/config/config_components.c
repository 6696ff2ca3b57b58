// SPDX-License-Identifier: Apache-2.0
//
// receivers (otlp, pyroscope), processors (batch, memory_limiter) and
// extensions (health_check, file_storage, pprof, zpages) with the
// Collector's keys and defaults. Keys the Collector has that mean nothing
// here are accepted with a warning; keys whose silent loss would change
// behaviour (auth) are refused.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

#define MIB (1ULL << 20)
#define MILLISECOND 1000000ULL
#define SECOND 1000000000ULL

// ---- shared ----

int field_endpoint(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char **out)
{
    const char *value = NULL;
    int rc = field_string(w, map, key, &value, FIELD_NONEMPTY);
    if (rc != 1)
        return rc;
    const char *colon = strrchr(value, ':');
    const char *port = colon ? colon + 1 : "";
    size_t n = strlen(port);
    if (n == 0 || n > 5 || strspn(port, "0123456789") != n || strtoul(port, NULL, 10) > 65535) {
        walk_push(w, key, ptm_yaml_map_find(map, key)->key);
        walk_error(w, ptm_yaml_map_get(map, key), "expected host:port such as 0.0.0.0:4317, got \"%s\"", value);
        walk_pop(w);
        return -1;
    }
    *out = value;
    return 1;
}

void cfg_warn_ignored_keys(struct config_walk *w, const struct ptm_yaml_node *map, const char *const *keys)
{
    for (size_t i = 0; keys[i] != NULL; i++) {
        const struct ptm_yaml_pair *pair = ptm_yaml_map_find(map, keys[i]);
        if (pair == NULL)
            continue;
        walk_push(w, keys[i], pair->key);
        walk_warning(w, pair->key, "accepted for compatibility with the Collector and ignored");
        walk_pop(w);
    }
}

// Keys the Collector's receivers have that would change security if
// dropped silently.
static void refuse_auth(struct config_walk *w, const struct ptm_yaml_node *map)
{
    const struct ptm_yaml_pair *pair = ptm_yaml_map_find(map, "auth");
    if (pair == NULL)
        return;
    walk_push(w, "auth", pair->key);
    walk_error(w, pair->key, "authenticator extensions are not supported; use tls with client_ca_file");
    walk_pop(w);
}

// ---- receivers ----

static const char *const receiver_types[] = {"otlp", "pyroscope", NULL};
static const struct walk_hint receiver_type_hints[] = {
    {"otlpreceiver", "did you mean otlp?"},
    {NULL, NULL},
};

static const char *const tls_server_keys[] = {"cert_file", "key_file", "client_ca_file", NULL};

static void parse_server_tls(struct config_walk *w, const struct ptm_yaml_node *map,
                             struct ptm_server_tls_config *tls)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "tls");
    if (node == NULL)
        return;
    tls->enabled = true;
    if (walk_map(w, node, tls_server_keys, NULL)) {
        int cert = field_string(w, node, "cert_file", &tls->cert_file, FIELD_NONEMPTY);
        int key = field_string(w, node, "key_file", &tls->key_file, FIELD_NONEMPTY);
        field_string(w, node, "client_ca_file", &tls->client_ca_file, FIELD_NONEMPTY);
        if (cert == 0 && key >= 0)
            walk_missing(w, "cert_file", "a TLS server needs cert_file and key_file");
        if (key == 0 && cert >= 0)
            walk_missing(w, "key_file", "a TLS server needs cert_file and key_file");
    }
    walk_pop(w);
}

static const char *const grpc_keys[] = {
    "endpoint", "max_recv_msg_size_mib", "tls", "auth", "transport", "max_concurrent_streams",
    "read_buffer_size", "write_buffer_size", "keepalive", "include_metadata", NULL,
};
static const char *const grpc_ignored[] = {
    "transport", "max_concurrent_streams", "read_buffer_size", "write_buffer_size", "keepalive",
    "include_metadata", NULL,
};

static void parse_grpc(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_otlp_receiver_config *r)
{
    r->grpc_enabled = true;
    if (!walk_map(w, node, grpc_keys, NULL))
        return;
    field_endpoint(w, node, "endpoint", &r->grpc.endpoint);
    uint64_t mib = r->grpc.max_recv_msg_size / MIB;
    if (field_u64(w, node, "max_recv_msg_size_mib", &mib, 1, 4096) == 1)
        r->grpc.max_recv_msg_size = mib * MIB;
    parse_server_tls(w, node, &r->grpc.tls);
    refuse_auth(w, node);
    cfg_warn_ignored_keys(w, node, grpc_ignored);
}

static const char *const http_keys[] = {
    "endpoint", "max_request_body_size", "tls", "auth", "traces_url_path", "metrics_url_path",
    "logs_url_path", "profiles_url_path", "include_metadata", "cors", NULL,
};
static const char *const http_ignored[] = {"include_metadata", "cors", NULL};

static void parse_http(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_otlp_receiver_config *r)
{
    r->http_enabled = true;
    if (!walk_map(w, node, http_keys, NULL))
        return;
    field_endpoint(w, node, "endpoint", &r->http.endpoint);
    field_size(w, node, "max_request_body_size", &r->http.max_request_body_size, 1024, 1ULL << 30);
    parse_server_tls(w, node, &r->http.tls);
    refuse_auth(w, node);
    // The other signals' paths mean nothing here; they are read so a
    // Collector file loads, and otherwise ignored.
    const char *ignored = NULL;
    field_string(w, node, "traces_url_path", &ignored, 0);
    field_string(w, node, "metrics_url_path", &ignored, 0);
    field_string(w, node, "logs_url_path", &ignored, 0);
    if (field_string(w, node, "profiles_url_path", &r->http.profiles_url_path, FIELD_NONEMPTY) == 1 &&
        r->http.profiles_url_path[0] != '/') {
        walk_push(w, "profiles_url_path", ptm_yaml_map_find(node, "profiles_url_path")->key);
        walk_error(w, ptm_yaml_map_get(node, "profiles_url_path"), "must start with /, got \"%s\"",
                   r->http.profiles_url_path);
        walk_pop(w);
    }
    cfg_warn_ignored_keys(w, node, http_ignored);
}

static void parse_otlp_receiver(struct config_walk *w, const struct ptm_yaml_node *node,
                                struct ptm_otlp_receiver_config *r)
{
    r->grpc.endpoint = "0.0.0.0:4317";
    r->grpc.max_recv_msg_size = 4 * MIB;
    r->http.endpoint = "0.0.0.0:4318";
    r->http.max_request_body_size = 20 * MIB;
    if (!walk_map(w, node, (const char *const[]){"protocols", NULL}, NULL))
        return;
    const struct ptm_yaml_node *protocols = walk_enter(w, node, "protocols");
    if (protocols == NULL) {
        walk_missing(w, "protocols", "give protocols.grpc, protocols.http or both");
        return;
    }
    if (walk_map(w, protocols, (const char *const[]){"grpc", "http", NULL}, NULL)) {
        const struct ptm_yaml_node *grpc = walk_enter(w, protocols, "grpc");
        if (grpc != NULL) {
            parse_grpc(w, grpc, r);
            walk_pop(w);
        }
        const struct ptm_yaml_node *http = walk_enter(w, protocols, "http");
        if (http != NULL) {
            parse_http(w, http, r);
            walk_pop(w);
        }
        if (grpc == NULL && http == NULL)
            walk_error(w, NULL, "give grpc, http or both");
    }
    walk_pop(w);
}

static void parse_receiver(struct config_walk *w, const struct ptm_yaml_pair *pair, int type,
                           struct ptm_receiver_config *r)
{
    r->id = walk_strdup(w, pair->key->value);
    r->type = (enum ptm_receiver_type)type;
    r->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
    if (r->type == PTM_RECEIVER_OTLP) {
        parse_otlp_receiver(w, pair->value, &r->otlp);
    } else {
        r->pyroscope.endpoint = "0.0.0.0:4040";
        if (walk_map(w, pair->value, (const char *const[]){"endpoint", NULL}, NULL))
            field_endpoint(w, pair->value, "endpoint", &r->pyroscope.endpoint);
    }
}

void cfg_parse_receivers(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section)
{
    if (!walk_expect_map(w, section))
        return;
    config->receivers = walk_calloc(w, section->pair_count, sizeof *config->receivers);
    if (config->receivers == NULL)
        return;
    for (size_t i = 0; i < section->pair_count; i++) {
        const struct ptm_yaml_pair *pair = &section->pairs[i];
        walk_push(w, pair->key->value, pair->key);
        int type = cfg_component_type(w, pair->key, "receiver", receiver_types, receiver_type_hints);
        if (type >= 0)
            parse_receiver(w, pair, type, &config->receivers[config->receiver_count++]);
        walk_pop(w);
    }
}

// ---- processors ----

static const char *const processor_types[] = {"batch", "memory_limiter", NULL};
static const char *const batch_keys[] = {"timeout", "send_batch_size", "send_batch_max_size", NULL};
static const char *const memory_limiter_keys[] = {
    "check_interval", "limit_mib", "spike_limit_mib", "limit_percentage", "spike_limit_percentage", NULL,
};

static void parse_batch(struct config_walk *w, const struct ptm_yaml_node *node,
                        struct ptm_batch_processor_config *b)
{
    *b = (struct ptm_batch_processor_config){.timeout = 200 * MILLISECOND, .send_batch_size = 8192};
    if (!walk_map(w, node, batch_keys, NULL))
        return;
    field_duration(w, node, "timeout", &b->timeout, 0, 3600 * SECOND);
    field_u32(w, node, "send_batch_size", &b->send_batch_size, 0, UINT32_MAX);
    if (field_u32(w, node, "send_batch_max_size", &b->send_batch_max_size, 0, UINT32_MAX) == 1 &&
        b->send_batch_max_size != 0 && b->send_batch_max_size < b->send_batch_size) {
        walk_push(w, "send_batch_max_size", ptm_yaml_map_find(node, "send_batch_max_size")->key);
        walk_error(w, ptm_yaml_map_get(node, "send_batch_max_size"),
                   "must be 0 or at least send_batch_size (%u)", b->send_batch_size);
        walk_pop(w);
    }
}

// Report problem at key of node (or at the section when key is absent).
static void error_at_key(struct config_walk *w, const struct ptm_yaml_node *node, const char *key,
                         const char *problem)
{
    const struct ptm_yaml_pair *pair = ptm_yaml_map_find(node, key);
    walk_push(w, key, pair ? pair->value : NULL);
    walk_error(w, NULL, "%s", problem);
    walk_pop(w);
}

static void check_memory_limiter(struct config_walk *w, const struct ptm_yaml_node *node,
                                 const struct ptm_memory_limiter_config *m)
{
    if (m->check_interval == 0 && ptm_yaml_map_find(node, "check_interval") == NULL)
        walk_missing(w, "check_interval", "a duration greater than zero, such as 1s");
    else if (m->check_interval == 0)
        error_at_key(w, node, "check_interval", "must be greater than zero");
    if (m->limit == 0 && m->limit_percentage == 0)
        walk_error(w, NULL, "give limit_mib or limit_percentage (greater than zero)");
    if (m->limit != 0 && m->spike_limit >= m->limit)
        error_at_key(w, node, "spike_limit_mib", "must be smaller than limit_mib");
    if (m->limit_percentage != 0 && m->spike_limit_percentage >= m->limit_percentage)
        error_at_key(w, node, "spike_limit_percentage", "must be smaller than limit_percentage");
}

static void parse_memory_limiter(struct config_walk *w, const struct ptm_yaml_node *node,
                                 struct ptm_memory_limiter_config *m)
{
    *m = (struct ptm_memory_limiter_config){0};
    if (!walk_map(w, node, memory_limiter_keys, NULL))
        return;
    field_duration(w, node, "check_interval", &m->check_interval, 0, 3600 * SECOND);
    uint64_t limit_mib = 0, spike_mib = 0;
    field_u64(w, node, "limit_mib", &limit_mib, 0, 1ULL << 24);
    int spike_given = field_u64(w, node, "spike_limit_mib", &spike_mib, 0, 1ULL << 24);
    field_u32(w, node, "limit_percentage", &m->limit_percentage, 0, 100);
    field_u32(w, node, "spike_limit_percentage", &m->spike_limit_percentage, 0, 100);
    m->limit = limit_mib * MIB;
    // The Collector's default spike is a fifth of the limit.
    m->spike_limit = spike_given == 1 ? spike_mib * MIB : m->limit / 5;
    check_memory_limiter(w, node, m);
}

void cfg_parse_processors(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section)
{
    if (!walk_expect_map(w, section))
        return;
    config->processors = walk_calloc(w, section->pair_count, sizeof *config->processors);
    if (config->processors == NULL)
        return;
    for (size_t i = 0; i < section->pair_count; i++) {
        const struct ptm_yaml_pair *pair = &section->pairs[i];
        walk_push(w, pair->key->value, pair->key);
        int type = cfg_component_type(w, pair->key, "processor", processor_types, NULL);
        if (type >= 0) {
            struct ptm_processor_config *p = &config->processors[config->processor_count++];
            p->id = walk_strdup(w, pair->key->value);
            p->type = (enum ptm_processor_type)type;
            p->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
            if (p->type == PTM_PROCESSOR_BATCH)
                parse_batch(w, pair->value, &p->batch);
            else
                parse_memory_limiter(w, pair->value, &p->memory_limiter);
        }
        walk_pop(w);
    }
}

// ---- extensions ----

static const char *const extension_types[] = {"health_check", "file_storage", "pprof", "zpages", NULL};
static const struct walk_hint extension_type_hints[] = {
    {"healthcheck", "did you mean health_check?"},
    {"storage", "did you mean file_storage?"},
    {NULL, NULL},
};

static void parse_extension_keys(struct config_walk *w, const struct ptm_yaml_node *node,
                                 struct ptm_extension_config *e)
{
    switch (e->type) {
    case PTM_EXTENSION_HEALTH_CHECK:
        e->endpoint = "0.0.0.0:13133";
        e->path = "/";
        if (walk_map(w, node, (const char *const[]){"endpoint", "path", NULL}, NULL)) {
            field_endpoint(w, node, "endpoint", &e->endpoint);
            field_string(w, node, "path", &e->path, FIELD_NONEMPTY);
        }
        break;
    case PTM_EXTENSION_FILE_STORAGE:
        e->directory = "/var/lib/otelcol/file_storage";
        e->timeout = SECOND;
        if (walk_map(w, node, (const char *const[]){"directory", "timeout", NULL}, NULL)) {
            field_string(w, node, "directory", &e->directory, FIELD_NONEMPTY);
            field_duration(w, node, "timeout", &e->timeout, 0, 3600 * SECOND);
        }
        break;
    case PTM_EXTENSION_PPROF:
    case PTM_EXTENSION_ZPAGES:
        e->endpoint = e->type == PTM_EXTENSION_PPROF ? "localhost:1777" : "localhost:55679";
        if (walk_map(w, node, (const char *const[]){"endpoint", NULL}, NULL))
            field_endpoint(w, node, "endpoint", &e->endpoint);
        break;
    }
}

void cfg_parse_extensions(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section)
{
    if (!walk_expect_map(w, section))
        return;
    config->extensions = walk_calloc(w, section->pair_count, sizeof *config->extensions);
    if (config->extensions == NULL)
        return;
    for (size_t i = 0; i < section->pair_count; i++) {
        const struct ptm_yaml_pair *pair = &section->pairs[i];
        walk_push(w, pair->key->value, pair->key);
        int type = cfg_component_type(w, pair->key, "extension", extension_types, extension_type_hints);
        if (type >= 0) {
            struct ptm_extension_config *e = &config->extensions[config->extension_count++];
            e->id = walk_strdup(w, pair->key->value);
            e->type = (enum ptm_extension_type)type;
            e->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
            parse_extension_keys(w, pair->value, e);
        }
        walk_pop(w);
    }
}
