// SPDX-License-Identifier: Apache-2.0
//
// receivers: otlp (protocols.grpc, protocols.http) and pyroscope, with the
// Collector's server keys (configgrpc, confighttp, configtls, configauth)
// and their defaults, plus the limits this project adds (max_connections,
// the gRPC server's timeouts). An `auth` block names an authenticator
// extension; that it is a bearertokenauth extension listed in
// service.extensions is checked once the service section is read
// (cfg_check_receiver_auth). Keys the Collector has that mean nothing here
// are accepted with a warning; TLS keys whose loss would weaken a
// connection (cipher_suites, ...) are refused.
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

#define MIB (1ULL << 20)
#define SECOND 1000000000ULL
#define DAY (86400 * SECOND)

void ptm_http_server_config_defaults(struct ptm_http_server_config *s, const char *endpoint)
{
    *s = (struct ptm_http_server_config){
        .endpoint = endpoint,
        .max_request_body_size = 20 * MIB,
        .tls = {.min_version = PTM_TLS_1_2},
        .max_connections = 1000,
        .read_timeout = 60 * SECOND,
        .read_header_timeout = 60 * SECOND,
        .write_timeout = 30 * SECOND,
        .idle_timeout = 60 * SECOND,
        .keep_alives_enabled = true,
    };
}

void ptm_grpc_server_config_defaults(struct ptm_grpc_server_config *s)
{
    *s = (struct ptm_grpc_server_config){
        .endpoint = "0.0.0.0:4317",
        .max_recv_msg_size = 4 * MIB,
        .tls = {.min_version = PTM_TLS_1_2},
        .max_connections = 1000,
        .max_concurrent_streams = 100,
        .max_connection_idle = 120 * SECOND,
        .handshake_timeout = 5 * SECOND,
        .read_timeout = 60 * SECOND,
        .write_timeout = 30 * SECOND,
    };
}

// ---- tls ----

static const char *const tls_server_keys[] = {
    "cert_file", "key_file", "client_ca_file", "min_version", "max_version",
    "ca_file", "reload_interval", "client_ca_file_reload", "include_system_ca_certs_pool", NULL,
};
static const char *const tls_server_ignored[] = {
    "ca_file", "reload_interval", "client_ca_file_reload", "include_system_ca_certs_pool", NULL,
};
static const struct walk_hint tls_server_hints[] = {
    {"cipher_suites", "not supported: the TLS library's default cipher suites are used"},
    {"curve_preferences", "not supported: the TLS library's default curves are used"},
    {"cert_pem", "not supported: give cert_file"},
    {"key_pem", "not supported: give key_file"},
    {"ca_pem", "not supported: give client_ca_file"},
    {"tpm", "not supported: give key_file"},
    {"insecure", "a receiver without TLS has no tls block"},
    {NULL, NULL},
};
static const char *const tls_versions[] = {"1.0", "1.1", "1.2", "1.3", NULL};

static int parse_tls_version(struct config_walk *w, const struct ptm_yaml_node *node, const char *key,
                             enum ptm_tls_version *out)
{
    int index = 0;
    int rc = field_enum(w, node, key, tls_versions, &index);
    if (rc == 1)
        *out = (enum ptm_tls_version)(PTM_TLS_1_0 + index);
    return rc;
}

static void parse_server_tls(struct config_walk *w, const struct ptm_yaml_node *map,
                             struct ptm_server_tls_config *tls)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "tls");
    if (node == NULL)
        return;
    tls->enabled = true;
    if (walk_map(w, node, tls_server_keys, tls_server_hints)) {
        int cert = field_string(w, node, "cert_file", &tls->cert_file, FIELD_NONEMPTY);
        int key = field_string(w, node, "key_file", &tls->key_file, FIELD_NONEMPTY);
        field_string(w, node, "client_ca_file", &tls->client_ca_file, FIELD_NONEMPTY);
        if (cert == 0 && key >= 0)
            walk_missing(w, "cert_file", "a TLS server needs cert_file and key_file");
        if (key == 0 && cert >= 0)
            walk_missing(w, "key_file", "a TLS server needs cert_file and key_file");
        parse_tls_version(w, node, "min_version", &tls->min_version);
        if (parse_tls_version(w, node, "max_version", &tls->max_version) == 1 &&
            tls->max_version < tls->min_version) {
            walk_push(w, "max_version", ptm_yaml_map_find(node, "max_version")->key);
            walk_error(w, ptm_yaml_map_get(node, "max_version"), "must not be below min_version (%s)",
                       tls_versions[tls->min_version - PTM_TLS_1_0]);
            walk_pop(w);
        }
        cfg_warn_ignored_keys(w, node, tls_server_ignored);
    }
    walk_pop(w);
}

// ---- auth ----

static void parse_auth(struct config_walk *w, const struct ptm_yaml_node *map, bool http,
                       struct ptm_server_auth_config *auth)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "auth");
    if (node == NULL)
        return;
    static const char *const grpc_auth_keys[] = {"authenticator", NULL};
    static const char *const http_auth_keys[] = {"authenticator", "request_params", NULL};
    if (walk_map(w, node, http ? http_auth_keys : grpc_auth_keys, NULL) &&
        field_string(w, node, "authenticator", &auth->authenticator, FIELD_REQUIRED | FIELD_NONEMPTY) == 1) {
        const struct ptm_yaml_node *value = ptm_yaml_map_get(node, "authenticator");
        auth->pos = (struct ptm_config_pos){value->line, value->column};
    }
    if (http)
        cfg_warn_ignored_keys(w, node, (const char *const[]){"request_params", NULL});
    walk_pop(w);
}

// ---- the servers ----

static const char *const grpc_keys[] = {
    "endpoint", "max_recv_msg_size_mib", "tls", "auth", "max_connections", "max_concurrent_streams", "keepalive",
    "handshake_timeout", "read_timeout", "write_timeout", "transport", "read_buffer_size", "write_buffer_size",
    "include_metadata", NULL,
};
static const char *const grpc_ignored[] = {
    "transport", "read_buffer_size", "write_buffer_size", "include_metadata", NULL,
};

// keepalive: server_parameters.max_connection_idle is the idle timeout; the
// pings and connection ages are not run here.
static void parse_keepalive(struct config_walk *w, const struct ptm_yaml_node *map, struct ptm_grpc_server_config *g)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, "keepalive");
    if (node == NULL)
        return;
    if (walk_map(w, node, (const char *const[]){"server_parameters", "enforcement_policy", NULL}, NULL)) {
        const struct ptm_yaml_node *params = walk_enter(w, node, "server_parameters");
        static const char *const param_keys[] = {
            "max_connection_idle", "max_connection_age", "max_connection_age_grace", "time", "timeout", NULL,
        };
        if (params != NULL) {
            if (walk_map(w, params, param_keys, NULL)) {
                field_duration(w, params, "max_connection_idle", &g->max_connection_idle, 0, DAY);
                cfg_warn_ignored_keys(w, params, param_keys + 1);
            }
            walk_pop(w);
        }
        cfg_warn_ignored_keys(w, node, (const char *const[]){"enforcement_policy", NULL});
    }
    walk_pop(w);
}

static void parse_grpc(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_otlp_receiver_config *r)
{
    struct ptm_grpc_server_config *g = &r->grpc;
    r->grpc_enabled = true;
    if (!walk_map(w, node, grpc_keys, NULL))
        return;
    field_endpoint(w, node, "endpoint", &g->endpoint);
    uint64_t mib = g->max_recv_msg_size / MIB;
    if (field_u64(w, node, "max_recv_msg_size_mib", &mib, 1, 4096) == 1)
        g->max_recv_msg_size = mib * MIB;
    parse_server_tls(w, node, &g->tls);
    parse_auth(w, node, false, &g->auth);
    field_u32(w, node, "max_connections", &g->max_connections, 1, 1000000);
    field_u32(w, node, "max_concurrent_streams", &g->max_concurrent_streams, 1, 100000);
    parse_keepalive(w, node, g);
    field_duration(w, node, "handshake_timeout", &g->handshake_timeout, 0, DAY);
    field_duration(w, node, "read_timeout", &g->read_timeout, 0, DAY);
    field_duration(w, node, "write_timeout", &g->write_timeout, 0, DAY);
    cfg_warn_ignored_keys(w, node, grpc_ignored);
}

// The keys of confighttp's server both HTTP receivers read; url_paths: the
// OTLP receiver's *_url_path keys too.
static const char *const http_keys[] = {
    "endpoint", "max_request_body_size", "tls", "auth", "max_connections", "read_timeout", "read_header_timeout",
    "write_timeout", "idle_timeout", "keep_alives_enabled", "include_metadata", "cors", NULL,
};
static const char *const otlp_http_keys[] = {
    "endpoint", "max_request_body_size", "tls", "auth", "max_connections", "read_timeout", "read_header_timeout",
    "write_timeout", "idle_timeout", "keep_alives_enabled", "include_metadata", "cors",
    "traces_url_path", "metrics_url_path", "logs_url_path", "profiles_url_path", NULL,
};
static const char *const http_ignored[] = {"include_metadata", "cors", NULL};

static void parse_http_server(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_http_server_config *h)
{
    field_endpoint(w, node, "endpoint", &h->endpoint);
    field_size(w, node, "max_request_body_size", &h->max_request_body_size, 1024, 1ULL << 30);
    parse_server_tls(w, node, &h->tls);
    parse_auth(w, node, true, &h->auth);
    field_u32(w, node, "max_connections", &h->max_connections, 1, 1000000);
    field_duration(w, node, "read_timeout", &h->read_timeout, 0, DAY);
    field_duration(w, node, "read_header_timeout", &h->read_header_timeout, 0, DAY);
    field_duration(w, node, "write_timeout", &h->write_timeout, 0, DAY);
    field_duration(w, node, "idle_timeout", &h->idle_timeout, 0, DAY);
    field_bool(w, node, "keep_alives_enabled", &h->keep_alives_enabled);
    cfg_warn_ignored_keys(w, node, http_ignored);
}

static void parse_http(struct config_walk *w, const struct ptm_yaml_node *node, struct ptm_otlp_receiver_config *r)
{
    r->http_enabled = true;
    if (!walk_map(w, node, otlp_http_keys, NULL))
        return;
    parse_http_server(w, node, &r->http);
    // The other signals' paths mean nothing here; they are read so a
    // Collector file loads, and otherwise ignored.
    const char *ignored = NULL;
    field_string(w, node, "traces_url_path", &ignored, 0);
    field_string(w, node, "metrics_url_path", &ignored, 0);
    field_string(w, node, "logs_url_path", &ignored, 0);
    if (field_string(w, node, "profiles_url_path", &r->profiles_url_path, FIELD_NONEMPTY) == 1 &&
        r->profiles_url_path[0] != '/') {
        walk_push(w, "profiles_url_path", ptm_yaml_map_find(node, "profiles_url_path")->key);
        walk_error(w, ptm_yaml_map_get(node, "profiles_url_path"), "must start with /, got \"%s\"",
                   r->profiles_url_path);
        walk_pop(w);
    }
}

static void parse_otlp_receiver(struct config_walk *w, const struct ptm_yaml_node *node,
                                struct ptm_otlp_receiver_config *r)
{
    ptm_grpc_server_config_defaults(&r->grpc);
    ptm_http_server_config_defaults(&r->http, "0.0.0.0:4318");
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

// ---- receivers ----

static const char *const receiver_types[] = {"otlp", "pyroscope", NULL};
static const struct walk_hint receiver_type_hints[] = {
    {"otlpreceiver", "did you mean otlp?"},
    {NULL, NULL},
};

static void parse_receiver(struct config_walk *w, const struct ptm_yaml_pair *pair, int type,
                           struct ptm_receiver_config *r)
{
    r->id = walk_strdup(w, pair->key->value);
    r->type = (enum ptm_receiver_type)type;
    r->pos = (struct ptm_config_pos){pair->key->line, pair->key->column};
    if (r->type == PTM_RECEIVER_OTLP) {
        parse_otlp_receiver(w, pair->value, &r->otlp);
    } else {
        ptm_http_server_config_defaults(&r->pyroscope.http, "0.0.0.0:4040");
        if (walk_map(w, pair->value, http_keys, NULL))
            parse_http_server(w, pair->value, &r->pyroscope.http);
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

// ---- the authenticators, once the service is read ----

static void check_auth(struct config_walk *w, const struct ptm_config *config, const struct ptm_server_auth_config *auth,
                       const struct ptm_server_tls_config *tls)
{
    const char *id = auth->authenticator;
    const struct ptm_extension_config *e = ptm_config_find_extension(config, id);
    walk_push(w, "auth", NULL);
    walk_push(w, "authenticator", NULL);
    if (e == NULL)
        walk_error_pos(w, auth->pos, "extension \"%s\" is not defined under extensions", id);
    else if (e->type != PTM_EXTENSION_BEARERTOKENAUTH)
        walk_error_pos(w, auth->pos, "extension \"%s\" is not an authenticator: the one supported is bearertokenauth",
                       id);
    else if (!e->enabled)
        walk_error_pos(w, auth->pos, "extension \"%s\" is not enabled: add it to service.extensions", id);
    else if (!tls->enabled)
        walk_warning_pos(w, auth->pos, "the bearer token crosses the network in clear text: add tls");
    walk_pop(w);
    walk_pop(w);
}

void cfg_check_receiver_auth(struct config_walk *w, const struct ptm_config *config)
{
    for (size_t i = 0; i < config->receiver_count; i++) {
        const struct ptm_receiver_config *r = &config->receivers[i];
        walk_push(w, "receivers", NULL);
        walk_push(w, r->id, NULL);
        if (r->type == PTM_RECEIVER_PYROSCOPE) {
            if (r->pyroscope.http.auth.authenticator != NULL)
                check_auth(w, config, &r->pyroscope.http.auth, &r->pyroscope.http.tls);
        } else {
            walk_push(w, "protocols", NULL);
            const struct ptm_otlp_receiver_config *o = &r->otlp;
            if (o->grpc_enabled && o->grpc.auth.authenticator != NULL) {
                walk_push(w, "grpc", NULL);
                check_auth(w, config, &o->grpc.auth, &o->grpc.tls);
                walk_pop(w);
            }
            if (o->http_enabled && o->http.auth.authenticator != NULL) {
                walk_push(w, "http", NULL);
                check_auth(w, config, &o->http.auth, &o->http.tls);
                walk_pop(w);
            }
            walk_pop(w);
        }
        walk_pop(w);
        walk_pop(w);
    }
}
