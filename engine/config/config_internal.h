// SPDX-License-Identifier: Apache-2.0
//
// What the files of engine/config share: one parse function per top-level
// section, each reading its part of the tree into the config with the walk
// of fields.h. config.c runs them in order; config_service.c runs last
// because it checks the pipelines against every component defined.
#pragma once

#include "config/config.h"
#include "config/fields.h"

/// Check a component id under a section (key is the id's key node) and find
/// its type in types (NULL-terminated). Returns the type's index, or -1
/// after reporting an invalid id or an unknown type (with hints for known
/// mistakes, or the closest type).
int cfg_component_type(struct config_walk *w, const struct ptm_yaml_node *key, const char *kind,
                   const char *const *types, const struct walk_hint *hints);

/// A "host:port" string (config_components.c); as field_string.
int field_endpoint(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char **out);

/// Warn about each of keys (NULL-terminated) present in map: read for
/// compatibility with the Collector and ignored (config_components.c).
void cfg_warn_ignored_keys(struct config_walk *w, const struct ptm_yaml_node *map, const char *const *keys);

/// connectors: (config_connector.c)
void cfg_parse_connectors(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section);

/// receivers: (config_receivers.c)
void cfg_parse_receivers(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section);

/// Check each receiver's auth.authenticator against the extensions (run
/// after cfg_parse_service has marked the enabled ones).
void cfg_check_receiver_auth(struct config_walk *w, const struct ptm_config *config);

/// processors:, extensions: (config_components.c)
void cfg_parse_processors(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section);
void cfg_parse_extensions(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section);

/// exporters: (config_exporters.c)
void cfg_parse_exporters(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *section);

/// Check each exporter's sending_queue.storage against the extensions (run
/// after cfg_parse_service has marked the enabled ones).
void cfg_check_queue_storage(struct config_walk *w, const struct ptm_config *config);

/// The service defaults (config_service.c).
void cfg_service_defaults(struct ptm_service_config *s);

/// The service section of root, if any (config_service.c). Runs after every
/// component is read: it checks the pipelines' ids against them.
void cfg_parse_service(struct config_walk *w, struct ptm_config *config, const struct ptm_yaml_node *root);
