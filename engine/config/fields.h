// SPDX-License-Identifier: Apache-2.0
//
// Reading typed values out of the YAML tree while walking it: the current
// key path and position, error and warning reporting in the one format
// ("FILE:LINE:COLUMN: KEY.PATH: message"), unknown keys with a suggestion,
// and one helper per value type (bool, integer, float, size, duration,
// string, enum, list of strings, map of strings, regular expression).
//
// Every field helper looks key up in map (a map node, or NULL/null for an
// empty section); an absent or null value leaves *out as it is, which holds
// the default. Helpers return 1 when they set *out, 0 when the key was absent
// or null, -1 after reporting an error. Strings they return belong to the
// walk's arena.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/yaml.h"

#define WALK_MAX_DEPTH 32

struct config_walk {
    struct ptm_arena *arena; ///< where strings and lists go
    const char *file;        ///< name in messages
    struct ptm_config_diagnostics *errors;
    struct ptm_config_diagnostics *warnings;
    bool out_of_memory;
    char path[1024];
    size_t path_len;
    struct {
        size_t path_len;       ///< path length before this level
        struct ptm_config_pos pos; ///< the key or item of this level
    } stack[WALK_MAX_DEPTH];
    int depth;
};

/// A known mistake and what to say about it: "unknown key (message)".
struct walk_hint {
    const char *key;
    const char *message;
};

// ---- path and messages ----

/// Enter key (its position taken from at, which may be NULL).
void walk_push(struct config_walk *w, const char *key, const struct ptm_yaml_node *at);
/// Enter list item index.
void walk_push_index(struct config_walk *w, size_t index, const struct ptm_yaml_node *at);
/// Leave the level entered last.
void walk_pop(struct config_walk *w);
/// The position of the level entered last.
struct ptm_config_pos walk_pos(const struct config_walk *w);

/// An error at node (NULL: at the current level's key) for the current path.
void walk_error(struct config_walk *w, const struct ptm_yaml_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/// An error at pos for the current path.
void walk_error_pos(struct config_walk *w, struct ptm_config_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/// A warning at node (NULL: at the current level's key).
void walk_warning(struct config_walk *w, const struct ptm_yaml_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/// A warning at pos for the current path.
void walk_warning_pos(struct config_walk *w, struct ptm_config_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/// "PATH.key: missing required value" at the current level's key.
void walk_missing(struct config_walk *w, const char *key, const char *detail);

/// Copy a string into the arena; NULL (and out_of_memory set) on failure.
const char *walk_strdup(struct config_walk *w, const char *s);
/// Zeroed arena memory for count elements; NULL (and out_of_memory) on failure
/// or when count is 0.
void *walk_calloc(struct config_walk *w, size_t count, size_t size);

/// The closest of candidates (NULL-terminated) to word when it is within a
/// small edit distance, else NULL.
const char *walk_suggest(const char *word, const char *const *candidates);

// ---- sections ----

/// Check that node is a map (NULL or null counts as an empty one) and report
/// every key not in known (NULL-terminated): with the hint for it when hints
/// (key NULL-terminated, may be NULL) has one, else with the closest known
/// key or the list of known keys. False when node is not a map (reported).
bool walk_map(struct config_walk *w, const struct ptm_yaml_node *node, const char *const *known,
              const struct walk_hint *hints);

/// True when node is a map; false when it is NULL or null (an empty
/// section) and, after an error, when it is anything else.
bool walk_expect_map(struct config_walk *w, const struct ptm_yaml_node *node);

/// The value under key, with the key entered (walk_pop afterwards) — or
/// NULL, with nothing entered, when the key is absent.
const struct ptm_yaml_node *walk_enter(struct config_walk *w, const struct ptm_yaml_node *map, const char *key);

// ---- typed fields ----

int field_bool(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, bool *out);
int field_u64(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
              uint64_t min, uint64_t max);
int field_u32(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint32_t *out,
              uint32_t min, uint32_t max);
int field_double(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, double *out,
                 double min, double max);
/// "64MiB", "1048576", "1.5 GB" -> bytes, from min to max.
int field_size(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
               uint64_t min, uint64_t max);
/// "5s", "250ms", "1m30s" (Go's syntax) -> nanoseconds, from min to max.
int field_duration(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
                   uint64_t min, uint64_t max);

enum field_string_flags {
    FIELD_REQUIRED = 1, ///< absent or null is an error
    FIELD_NONEMPTY = 2, ///< "" is an error
};
/// Any scalar's text.
int field_string(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char **out,
                 int flags);
/// One of names (NULL-terminated); *out gets its index.
int field_enum(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char *const *names,
               int *out);
/// A list of strings, or one string split at commas as the Collector's
/// decoder does ("a,b" -> ["a", "b"]; "" -> []). pos may be NULL. Each item
/// must be non-empty when FIELD_NONEMPTY is in flags.
int field_strings(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char ***out,
                  struct ptm_config_pos **pos, size_t *count, int flags);
/// A map of strings.
int field_string_map(struct config_walk *w, const struct ptm_yaml_node *map, const char *key,
                     struct ptm_config_string_map *out);

// ---- value parsers, for values not under a plain key ----

/// Parse text as a size in bytes; 0 or a message in problem.
int cfg_parse_size(const char *text, uint64_t *out, char *problem, size_t problem_size);
/// Parse text as a Go duration in nanoseconds; 0 or a message in problem.
int cfg_parse_duration(const char *text, uint64_t *out, char *problem, size_t problem_size);
/// Check that pattern compiles; if not, report it at node and return -1.
int walk_check_regex(struct config_walk *w, const struct ptm_yaml_node *node, const char *pattern);
/// Report node unless it is a scalar (not null, map or list): 0 or -1 (also,
/// silently, for a value whose ${...} was reported already).
int walk_expect_scalar(struct config_walk *w, const struct ptm_yaml_node *node, const char *what);
/// Check "type" or "type/name" (for messages, kind is "receiver", ...); 0 or
/// -1 after reporting at node. *type_length gets the length of the type.
int walk_component_id(struct config_walk *w, const struct ptm_yaml_node *node, const char *kind,
                      size_t *type_length);
