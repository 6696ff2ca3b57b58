// SPDX-License-Identifier: Apache-2.0
//
// processors (batch, memory_limiter) and extensions (health_check,
// file_storage, pprof, zpages, bearertokenauth) with the Collector's keys
// and defaults, and what every component section shares (endpoints,
// ignored keys). Receivers are in config_receivers.c.
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

static const char *const extension_types[] = {
    "health_check", "file_storage", "pprof", "zpages", "bearertokenauth", NULL,
};
static const struct walk_hint extension_type_hints[] = {
    {"healthcheck", "did you mean health_check?"},
    {"storage", "did you mean file_storage?"},
    {"basicauth", "the authenticator supported is bearertokenauth"},
    {"oidc", "the authenticator supported is bearertokenauth"},
    {"oauth2client", "the authenticator supported is bearertokenauth"},
    {NULL, NULL},
};

// An HTTP header name: an RFC 9110 token.
static bool is_header_name(const char *s)
{
    return s[0] != '\0' && strspn(s, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(s);
}

// bearertokenauth: token, tokens or filename (which wins, with a warning,
// as in the Collector). Token values are never quoted in messages.
static void parse_bearer_token(struct config_walk *w, const struct ptm_yaml_node *node,
                               struct ptm_bearer_token_config *b)
{
    static const char *const keys[] = {"header", "scheme", "token", "tokens", "filename", NULL};
    b->header = "Authorization";
    b->scheme = "Bearer";
    if (!walk_map(w, node, keys, NULL))
        return;
    if (field_string(w, node, "header", &b->header, FIELD_NONEMPTY) == 1 && !is_header_name(b->header)) {
        walk_push(w, "header", ptm_yaml_map_find(node, "header")->key);
        walk_error(w, ptm_yaml_map_get(node, "header"), "\"%s\" is not an HTTP header name", b->header);
        walk_pop(w);
    }
    field_string(w, node, "scheme", &b->scheme, 0);
    const char *token = NULL;
    int one = field_string(w, node, "token", &token, FIELD_NONEMPTY);
    int many = field_strings(w, node, "tokens", &b->tokens, NULL, &b->token_count, FIELD_NONEMPTY);
    int file = field_string(w, node, "filename", &b->filename, FIELD_NONEMPTY);
    if (one == 1 && many == 1) {
        walk_push(w, "tokens", ptm_yaml_map_find(node, "tokens")->key);
        walk_error(w, NULL, "give token or tokens, not both");
        walk_pop(w);
    } else if (one == 1 && (b->tokens = walk_calloc(w, 1, sizeof *b->tokens)) != NULL) {
        b->tokens[0] = token;
        b->token_count = 1;
    }
    if (file == 1 && (one == 1 || many == 1)) {
        const char *key = one == 1 ? "token" : "tokens";
        walk_push(w, key, ptm_yaml_map_find(node, key)->key);
        walk_warning(w, NULL, "ignored: the tokens are read from filename");
        walk_pop(w);
    }
    if (one == 0 && many == 0 && file == 0)
        walk_error(w, NULL, "give token, tokens or filename");
    else if (many == 1 && b->token_count == 0 && file == 0)
        walk_error(w, ptm_yaml_map_get(node, "tokens"), "give at least one token");
}

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
    case PTM_EXTENSION_BEARERTOKENAUTH:
        parse_bearer_token(w, node, &e->bearer);
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
