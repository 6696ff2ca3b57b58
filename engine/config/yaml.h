// SPDX-License-Identifier: Apache-2.0
//
// A small YAML document tree for configuration files, built with libyaml.
// Maps, sequences and scalars, each with its 1-based line and column; scalars
// keep how they were written, so a quoted "true" stays a string. The loader
// bounds what a file can cost (bytes, nesting depth, nodes after alias
// expansion), supports anchors, aliases and `<<` merge keys, refuses a second
// document in one file and reports duplicate map keys. Scalar values (not
// keys) have `${env:NAME}` references expanded the way the OpenTelemetry
// Collector does (see ptm_yaml_expand_env).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diagnostics.h"
#include "profiletometrics.h"

struct ptm_arena;

enum ptm_yaml_kind {
    PTM_YAML_SCALAR,
    PTM_YAML_MAP,
    PTM_YAML_SEQUENCE,
};

/// How a node was written.
enum ptm_yaml_style {
    PTM_YAML_PLAIN,         ///< scalar without quotes: may be a bool, a number or null
    PTM_YAML_SINGLE_QUOTED, ///< 'text'
    PTM_YAML_DOUBLE_QUOTED, ///< "text"
    PTM_YAML_LITERAL,       ///< |
    PTM_YAML_FOLDED,        ///< >
    PTM_YAML_BLOCK,         ///< map or sequence in block style
    PTM_YAML_FLOW,          ///< map or sequence in flow style: {a: 1} or [a, b]
};

struct ptm_yaml_node;

/// One entry of a map.
struct ptm_yaml_pair {
    const struct ptm_yaml_node *key; ///< always a scalar
    const struct ptm_yaml_node *value;
};

/// A node of the tree. Nodes reached through an alias are shared: the tree
/// is a DAG, never a cycle. Everything is owned by the document's arena.
struct ptm_yaml_node {
    enum ptm_yaml_kind kind;
    enum ptm_yaml_style style;
    uint32_t line;   ///< 1-based line of the node's first character
    uint32_t column; ///< 1-based column of the node's first character
    const char *tag; ///< explicit tag, resolved ("tag:yaml.org,2002:str"), or NULL

    // Scalars.
    const char *value; ///< NUL-terminated text, ${env:...} expanded (keys are not)
    size_t length;     ///< bytes in value (it may hold NUL bytes from escapes)
    bool is_null;      ///< plain "", "~", "null", "Null", "NULL", or tagged !!null
    bool is_string;    ///< quoted, block or tagged !!str: never a bool, number or null
    bool invalid;      ///< a bad ${...} in it was reported already: readers skip it

    // Maps: entries in file order, `<<` merges resolved, keys unique.
    const struct ptm_yaml_pair *pairs;
    size_t pair_count;

    // Sequences.
    const struct ptm_yaml_node *const *items;
    size_t item_count;

    uint64_t weight; ///< nodes in this subtree with every alias counted in full
};

/// Environment look-up for ${env:NAME}: the value, or NULL when unset.
typedef const char *ptm_yaml_getenv_fn(const char *name, void *user);

/// Limits and hooks; a zero field takes its default.
struct ptm_yaml_options {
    size_t max_bytes;          ///< input size; default 4 MiB
    uint32_t max_depth;        ///< nesting of maps and sequences; default 64
    uint64_t max_nodes;        ///< nodes after alias expansion; default 100000
    ptm_yaml_getenv_fn *getenv; ///< default getenv(3)
    void *getenv_user;
};

#define PTM_YAML_DEFAULT_MAX_BYTES ((size_t)4 << 20)
#define PTM_YAML_DEFAULT_MAX_DEPTH 64u
#define PTM_YAML_DEFAULT_MAX_NODES 100000u

/// A loaded file. root is NULL when the input holds no document (empty, or
/// only comments).
struct ptm_yaml_document {
    struct ptm_arena *arena;
    const char *name; ///< the file name used in messages (a copy)
    const struct ptm_yaml_node *root;
};

/// Parse length bytes of text. name is the file name for messages. options
/// may be NULL (defaults).
///
/// Problems that leave a usable tree (duplicate keys, bad ${...} references)
/// are appended to errors and the document is still returned; a reference to
/// an unset variable adds a warning. Fatal problems (invalid YAML, a limit,
/// a second document, out of memory) return NULL, append to errors and fill
/// err (which may be NULL) with the same text. errors and warnings must not
/// be NULL. Free the document with ptm_yaml_destroy.
struct ptm_yaml_document *ptm_yaml_load_string(const char *text, size_t length, const char *name,
                                               const struct ptm_yaml_options *options,
                                               struct ptm_config_diagnostics *errors,
                                               struct ptm_config_diagnostics *warnings,
                                               struct ptm_error *err);

/// Read and parse the file at path (named path in messages), as
/// ptm_yaml_load_string. A file that cannot be read is a fatal PTM_EIO error.
struct ptm_yaml_document *ptm_yaml_load_file(const char *path, const struct ptm_yaml_options *options,
                                             struct ptm_config_diagnostics *errors,
                                             struct ptm_config_diagnostics *warnings,
                                             struct ptm_error *err);

/// Free a document and every node. NULL is a no-op.
void ptm_yaml_destroy(struct ptm_yaml_document *doc);

/// The entry of map whose key is key, or NULL (also when map is not a map).
const struct ptm_yaml_pair *ptm_yaml_map_find(const struct ptm_yaml_node *map, const char *key);

/// The value under key in map, or NULL.
const struct ptm_yaml_node *ptm_yaml_map_get(const struct ptm_yaml_node *map, const char *key);

/// "map", "sequence", "null", "string", "bool", "number" or "scalar": what a
/// user would call the node, for messages such as "expected a map, got a
/// sequence".
const char *ptm_yaml_describe(const struct ptm_yaml_node *node);

/// Called once per reference to an unset variable.
typedef void ptm_yaml_unset_fn(void *user, const char *name);

/// Expand environment references in text as the OpenTelemetry Collector
/// does: `${env:NAME}` and `${NAME}` become the variable's value ("" when it
/// is unset, after calling unset); `${env:NAME:-default}` gives default when
/// the variable is unset or empty; `$$` is a literal `$`; any other `$` is
/// kept. NAME must match [A-Za-z_][A-Za-z0-9_]*. Other schemes (file:,
/// http:, yaml:, ...) are refused. Values are not expanded again.
///
/// Returns 0 with *out (NUL-terminated: text itself when there is no `$`,
/// otherwise a copy in arena) and *out_length;
/// PTM_ECONFIG with problem filled for a bad reference; PTM_ENOMEM.
/// options and unset may be NULL.
int ptm_yaml_expand_env(struct ptm_arena *arena, const char *text, size_t length,
                        const struct ptm_yaml_options *options, ptm_yaml_unset_fn *unset, void *user,
                        const char **out, size_t *out_length, char *problem, size_t problem_size);
