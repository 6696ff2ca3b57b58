// SPDX-License-Identifier: Apache-2.0
//
// The configuration walk (see fields.h): key path and positions, messages,
// sections with unknown-key detection, and the string-valued fields (strings,
// enums, lists, maps). Number, size, duration and regex fields are in
// fields_values.c.
#include "config/fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/arena.h"

// ---- path and messages ----

static void push_text(struct config_walk *w, const char *text, struct ptm_config_pos pos)
{
    if (w->depth < WALK_MAX_DEPTH) {
        w->stack[w->depth].path_len = w->path_len;
        w->stack[w->depth].pos = pos;
    }
    w->depth++;
    size_t room = sizeof w->path - w->path_len;
    int n = snprintf(w->path + w->path_len, room, "%s", text);
    if (n > 0)
        w->path_len += (size_t)n < room ? (size_t)n : room - 1;
}

static struct ptm_config_pos pos_of(const struct config_walk *w, const struct ptm_yaml_node *at)
{
    if (at != NULL)
        return (struct ptm_config_pos){at->line, at->column};
    return walk_pos(w);
}

void walk_push(struct config_walk *w, const char *key, const struct ptm_yaml_node *at)
{
    char text[256];
    snprintf(text, sizeof text, "%s%s", w->path_len ? "." : "", key);
    push_text(w, text, pos_of(w, at));
}

void walk_push_index(struct config_walk *w, size_t index, const struct ptm_yaml_node *at)
{
    char text[32];
    snprintf(text, sizeof text, "[%zu]", index);
    push_text(w, text, pos_of(w, at));
}

void walk_pop(struct config_walk *w)
{
    w->depth--;
    if (w->depth < WALK_MAX_DEPTH) {
        w->path_len = w->stack[w->depth].path_len;
        w->path[w->path_len] = '\0';
    }
}

struct ptm_config_pos walk_pos(const struct config_walk *w)
{
    if (w->depth == 0)
        return (struct ptm_config_pos){0, 0};
    int top = w->depth <= WALK_MAX_DEPTH ? w->depth - 1 : WALK_MAX_DEPTH - 1;
    return w->stack[top].pos;
}

void walk_error_pos(struct config_walk *w, struct ptm_config_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(w->errors, w->file, pos.line, pos.column, w->path, fmt, ap);
    va_end(ap);
}

void walk_error(struct config_walk *w, const struct ptm_yaml_node *at, const char *fmt, ...)
{
    struct ptm_config_pos pos = pos_of(w, at);
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(w->errors, w->file, pos.line, pos.column, w->path, fmt, ap);
    va_end(ap);
}

void walk_warning(struct config_walk *w, const struct ptm_yaml_node *at, const char *fmt, ...)
{
    struct ptm_config_pos pos = pos_of(w, at);
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(w->warnings, w->file, pos.line, pos.column, w->path, fmt, ap);
    va_end(ap);
}

void walk_warning_pos(struct config_walk *w, struct ptm_config_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(w->warnings, w->file, pos.line, pos.column, w->path, fmt, ap);
    va_end(ap);
}

void walk_missing(struct config_walk *w, const char *key, const char *detail)
{
    struct ptm_config_pos pos = walk_pos(w);
    walk_push(w, key, NULL);
    if (detail != NULL)
        walk_error_pos(w, pos, "missing required value (%s)", detail);
    else
        walk_error_pos(w, pos, "missing required value");
    walk_pop(w);
}

const char *walk_strdup(struct config_walk *w, const char *s)
{
    char *copy = ptm_arena_strndup(w->arena, s, strlen(s));
    if (copy == NULL)
        w->out_of_memory = true;
    return copy;
}

void *walk_calloc(struct config_walk *w, size_t count, size_t size)
{
    if (count == 0)
        return NULL;
    void *p = ptm_arena_calloc(w->arena, count, size);
    if (p == NULL)
        w->out_of_memory = true;
    return p;
}

// ---- suggestions ----

// Levenshtein distance of a and b, capped: anything above 8 counts as 9.
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 8)
        return 9;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

const char *walk_suggest(const char *word, const char *const *candidates)
{
    size_t len = strlen(word);
    size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
    const char *best = NULL;
    size_t best_distance = limit + 1;
    for (size_t i = 0; candidates[i] != NULL; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_distance && d < len) {
            best = candidates[i];
            best_distance = d;
        }
    }
    return best;
}

// ---- sections ----

static void join_names(char *buf, size_t size, const char *const *names)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; names[i] != NULL && n < size; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static void report_unknown_key(struct config_walk *w, const struct ptm_yaml_node *key, const char *const *known,
                               const struct walk_hint *hints)
{
    walk_push(w, key->value, key);
    const char *hint = NULL;
    for (size_t i = 0; hints != NULL && hints[i].key != NULL && hint == NULL; i++)
        if (strcmp(hints[i].key, key->value) == 0)
            hint = hints[i].message;
    const char *suggestion = hint ? NULL : walk_suggest(key->value, known);
    if (hint != NULL) {
        walk_error(w, key, "unknown key (%s)", hint);
    } else if (suggestion != NULL) {
        walk_error(w, key, "unknown key (did you mean %s?)", suggestion);
    } else if (known[0] == NULL) {
        walk_error(w, key, "unknown key (this section takes no keys)");
    } else {
        char names[512];
        join_names(names, sizeof names, known);
        walk_error(w, key, "unknown key (expected one of: %s)", names);
    }
    walk_pop(w);
}

bool walk_map(struct config_walk *w, const struct ptm_yaml_node *node, const char *const *known,
              const struct walk_hint *hints)
{
    if (node == NULL || (node->kind == PTM_YAML_SCALAR && node->is_null))
        return true;
    if (node->kind != PTM_YAML_MAP) {
        walk_error(w, node, "expected a map of keys, got a %s", ptm_yaml_describe(node));
        return false;
    }
    for (size_t i = 0; i < node->pair_count; i++) {
        const char *key = node->pairs[i].key->value;
        bool found = false;
        for (size_t k = 0; known[k] != NULL && !found; k++)
            found = strcmp(known[k], key) == 0;
        if (!found)
            report_unknown_key(w, node->pairs[i].key, known, hints);
    }
    return true;
}

bool walk_expect_map(struct config_walk *w, const struct ptm_yaml_node *node)
{
    if (node == NULL || (node->kind == PTM_YAML_SCALAR && node->is_null))
        return false;
    if (node->kind != PTM_YAML_MAP) {
        walk_error(w, node, "expected a map of keys, got a %s", ptm_yaml_describe(node));
        return false;
    }
    return true;
}

const struct ptm_yaml_node *walk_enter(struct config_walk *w, const struct ptm_yaml_node *map, const char *key)
{
    const struct ptm_yaml_pair *pair = ptm_yaml_map_find(map, key);
    if (pair == NULL)
        return NULL;
    walk_push(w, key, pair->key);
    return pair->value;
}

// ---- string fields ----

int walk_expect_scalar(struct config_walk *w, const struct ptm_yaml_node *node, const char *what)
{
    if (node->invalid)
        return -1; // reported already
    if (node->kind != PTM_YAML_SCALAR || node->is_null) {
        walk_error(w, node, "expected %s, got a %s", what, ptm_yaml_describe(node));
        return -1;
    }
    return 0;
}

// Check one string value against flags; 0 or -1 (reported).
static int check_string(struct config_walk *w, const struct ptm_yaml_node *node, int flags)
{
    if (node->invalid)
        return -1;
    if (node->kind == PTM_YAML_SCALAR && node->is_null) {
        if (!(flags & FIELD_REQUIRED))
            return 0;
        walk_error(w, node, "missing required value");
        return -1;
    }
    if (walk_expect_scalar(w, node, "a string") != 0)
        return -1;
    if ((flags & FIELD_NONEMPTY) && node->length == 0) {
        walk_error(w, node, "must not be empty");
        return -1;
    }
    if (strlen(node->value) != node->length) {
        walk_error(w, node, "must not contain a NUL character");
        return -1;
    }
    return 1;
}

int field_string(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char **out,
                 int flags)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, key);
    if (node == NULL) {
        if (flags & FIELD_REQUIRED) {
            walk_missing(w, key, NULL);
            return -1;
        }
        return 0;
    }
    int rc = check_string(w, node, flags);
    if (rc == 1) {
        const char *copy = walk_strdup(w, node->value);
        if (copy != NULL)
            *out = copy;
    }
    walk_pop(w);
    return rc;
}

int field_enum(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char *const *names,
               int *out)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, key);
    if (node == NULL)
        return 0;
    int rc = check_string(w, node, 0);
    bool found = false;
    for (int i = 0; rc == 1 && names[i] != NULL && !found; i++)
        if (strcmp(names[i], node->value) == 0) {
            *out = i;
            found = true;
        }
    if (rc == 1 && !found) {
        rc = -1;
        char list[512];
        join_names(list, sizeof list, names);
        const char *suggestion = walk_suggest(node->value, names);
        if (suggestion != NULL)
            walk_error(w, node, "expected one of %s, got \"%s\" (did you mean %s?)", list, node->value, suggestion);
        else
            walk_error(w, node, "expected one of %s, got \"%s\"", list, node->value);
    }
    walk_pop(w);
    return rc;
}

// Split text at commas into the arena, as Go's strings.Split (no trimming).
static int split_commas(struct config_walk *w, const struct ptm_yaml_node *node, const char ***out,
                        struct ptm_config_pos **pos, size_t *count)
{
    size_t n = 1;
    for (const char *p = node->value; *p; p++)
        n += *p == ',';
    if (node->length == 0)
        n = 0;
    const char **items = walk_calloc(w, n, sizeof *items);
    struct ptm_config_pos *where = pos ? walk_calloc(w, n, sizeof *where) : NULL;
    if (n > 0 && (items == NULL || (pos && where == NULL)))
        return -1;
    const char *start = node->value;
    for (size_t i = 0; i < n; i++) {
        const char *comma = strchr(start, ',');
        size_t len = comma ? (size_t)(comma - start) : strlen(start);
        char *item = ptm_arena_strndup(w->arena, start, len);
        if (item == NULL) {
            w->out_of_memory = true;
            return -1;
        }
        items[i] = item;
        if (where != NULL)
            where[i] = (struct ptm_config_pos){node->line, node->column};
        start += len + 1;
    }
    *out = items;
    if (pos != NULL)
        *pos = where;
    *count = n;
    return 1;
}

static int sequence_strings(struct config_walk *w, const struct ptm_yaml_node *node, const char ***out,
                            struct ptm_config_pos **pos, size_t *count, int flags)
{
    size_t n = node->item_count;
    const char **items = walk_calloc(w, n, sizeof *items);
    struct ptm_config_pos *where = pos ? walk_calloc(w, n, sizeof *where) : NULL;
    if (n > 0 && (items == NULL || (pos && where == NULL)))
        return -1;
    int rc = 1;
    for (size_t i = 0; i < n; i++) {
        const struct ptm_yaml_node *item = node->items[i];
        walk_push_index(w, i, item);
        if (check_string(w, item, flags | FIELD_REQUIRED) == 1) {
            items[i] = walk_strdup(w, item->value);
            if (where != NULL)
                where[i] = (struct ptm_config_pos){item->line, item->column};
        } else {
            rc = -1;
        }
        walk_pop(w);
    }
    if (rc == 1) {
        *out = items;
        if (pos != NULL)
            *pos = where;
        *count = n;
    }
    return rc;
}

int field_strings(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, const char ***out,
                  struct ptm_config_pos **pos, size_t *count, int flags)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, key);
    if (node == NULL)
        return 0;
    int rc;
    if (node->kind == PTM_YAML_SCALAR && node->is_null) {
        *out = NULL;
        if (pos != NULL)
            *pos = NULL;
        *count = 0;
        rc = 1;
    } else if (node->kind == PTM_YAML_SEQUENCE) {
        rc = sequence_strings(w, node, out, pos, count, flags);
    } else if (node->kind == PTM_YAML_SCALAR) {
        rc = check_string(w, node, 0) == 1 ? split_commas(w, node, out, pos, count) : -1;
        for (size_t i = 0; rc == 1 && (flags & FIELD_NONEMPTY) && i < *count; i++)
            if ((*out)[i][0] == '\0') {
                walk_error(w, node, "item %zu of \"%s\" (split at commas) is empty", i, node->value);
                rc = -1;
            }
    } else {
        walk_error(w, node, "expected a list of strings, got a %s", ptm_yaml_describe(node));
        rc = -1;
    }
    walk_pop(w);
    return rc;
}

int field_string_map(struct config_walk *w, const struct ptm_yaml_node *map, const char *key,
                     struct ptm_config_string_map *out)
{
    const struct ptm_yaml_node *node = walk_enter(w, map, key);
    if (node == NULL)
        return 0;
    if (node->kind == PTM_YAML_SCALAR && node->is_null) {
        walk_pop(w);
        *out = (struct ptm_config_string_map){0};
        return 1;
    }
    if (node->kind != PTM_YAML_MAP) {
        walk_error(w, node, "expected a map of strings, got a %s", ptm_yaml_describe(node));
        walk_pop(w);
        return -1;
    }
    size_t n = node->pair_count;
    struct ptm_config_string_map m = {walk_calloc(w, n, sizeof *m.keys), walk_calloc(w, n, sizeof *m.values), n};
    int rc = n == 0 || (m.keys != NULL && m.values != NULL) ? 1 : -1;
    for (size_t i = 0; rc == 1 && i < n; i++) {
        walk_push(w, node->pairs[i].key->value, node->pairs[i].key);
        if (check_string(w, node->pairs[i].value, FIELD_REQUIRED) == 1) {
            m.keys[i] = walk_strdup(w, node->pairs[i].key->value);
            m.values[i] = walk_strdup(w, node->pairs[i].value->value);
        } else {
            rc = -1;
        }
        walk_pop(w);
    }
    if (rc == 1)
        *out = m;
    walk_pop(w);
    return rc;
}

int walk_component_id(struct config_walk *w, const struct ptm_yaml_node *node, const char *kind,
                      size_t *type_length)
{
    const char *id = node->value;
    const char *slash = strchr(id, '/');
    size_t tl = slash ? (size_t)(slash - id) : strlen(id);
    bool ok = tl > 0 && tl <= 63 && ((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z'));
    for (size_t i = 1; ok && i < tl; i++) {
        char c = id[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (ok && slash != NULL)
        ok = slash[1] != '\0' && strlen(slash + 1) <= 1024 && strchr(slash + 1, '/') == NULL;
    if (!ok) {
        walk_error(w, node, "\"%s\" is not a valid %s id (TYPE or TYPE/NAME; TYPE is a letter then letters, "
                   "digits or _)", id, kind);
        return -1;
    }
    *type_length = tl;
    return 0;
}
