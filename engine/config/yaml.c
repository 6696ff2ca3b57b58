// SPDX-License-Identifier: Apache-2.0
//
// Builds the YAML node tree of yaml.h from libyaml's event stream. One frame
// per open map or sequence collects its children; when it closes they move
// into the arena, `<<` merges are resolved and duplicate keys reported.
// Anchors map to finished nodes, so an alias shares its target and can never
// form a cycle; every node's weight counts its subtree with aliases expanded,
// which bounds what an alias "bomb" can make the configuration walk do.
#include "config/yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/arena.h"
#include "util/error.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"
#define MAX_ANCHORS 10000

struct frame {
    struct ptm_yaml_node *node;
    const char *anchor; // registered when the frame closes
    const struct ptm_yaml_node **children; // maps: key, value, key, value, ...
    size_t count;
    size_t cap;
    uint64_t weight; // 1 + the weights of the children so far
};

struct anchor {
    const char *name;
    const struct ptm_yaml_node *node;
};

struct loader {
    yaml_parser_t parser;
    const char *text;
    size_t length;
    struct ptm_yaml_document *doc;
    struct ptm_yaml_options options;
    struct ptm_config_diagnostics *errors;
    struct ptm_config_diagnostics *warnings;
    struct ptm_error *err;
    struct frame *frames; // options.max_depth of them
    uint32_t depth;
    struct anchor *anchors;
    size_t anchor_count;
    size_t anchor_cap;
    int documents;
    uint32_t line, column; // position of the scalar being expanded
};

// ---- messages ----

// The key path of the child each open frame is building ("a.b[2]"), for the
// first `frames` frames.
static void frames_path(const struct loader *l, uint32_t frames, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < frames && n < size; i++) {
        const struct frame *f = &l->frames[i];
        int w;
        if (f->node->kind == PTM_YAML_SEQUENCE)
            w = snprintf(buf + n, size - n, "[%zu]", f->count);
        else if (f->count % 2 == 1)
            w = snprintf(buf + n, size - n, "%s%s", n ? "." : "", f->children[f->count - 1]->value);
        else
            break;
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static void add_error(struct loader *l, uint32_t line, uint32_t column, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add_error(struct loader *l, uint32_t line, uint32_t column, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(l->errors, l->doc->name, line, column, path, fmt, ap);
    va_end(ap);
}

// Record a problem that stops loading; err gets the same text.
static int fatal(struct loader *l, int code, uint32_t line, uint32_t column, const char *path, const char *fmt,
                 ...) __attribute__((format(printf, 6, 7)));

static int fatal(struct loader *l, int code, uint32_t line, uint32_t column, const char *path, const char *fmt,
                 ...)
{
    size_t before = l->errors->count;
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(l->errors, l->doc->name, line, column, path, fmt, ap);
    va_end(ap);
    if (l->errors->count > before)
        ptm_error_set(l->err, code, "%s", l->errors->items[before].text);
    else
        ptm_error_set(l->err, PTM_ENOMEM, "%s: out of memory reading the configuration", l->doc->name);
    return code;
}

static int out_of_memory(struct loader *l)
{
    ptm_error_set(l->err, PTM_ENOMEM, "%s: out of memory reading the configuration", l->doc->name);
    l->errors->out_of_memory = 1;
    return PTM_ENOMEM;
}

// True when the line (0-based) indents with a tab: libyaml's "cannot start
// any token" then deserves a plainer explanation.
static int line_indents_with_tab(const struct loader *l, size_t line)
{
    const char *p = l->text, *end = l->text + l->length;
    for (size_t i = 0; i < line && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    while (p < end && (*p == ' ' || *p == '\t')) {
        if (*p == '\t')
            return 1;
        p++;
    }
    return 0;
}

static int syntax_error(struct loader *l)
{
    const yaml_parser_t *p = &l->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return out_of_memory(l);
    const char *problem = p->problem ? p->problem : "cannot parse";
    const char *hint = line_indents_with_tab(l, p->problem_mark.line) ? " (tabs cannot indent YAML: use spaces)" : "";
    if (p->context != NULL)
        return fatal(l, PTM_ECONFIG, (uint32_t)p->problem_mark.line + 1, (uint32_t)p->problem_mark.column + 1, NULL,
                     "invalid YAML: %s %s at line %zu, column %zu%s", problem, p->context,
                     p->context_mark.line + 1, p->context_mark.column + 1, hint);
    return fatal(l, PTM_ECONFIG, (uint32_t)p->problem_mark.line + 1, (uint32_t)p->problem_mark.column + 1, NULL,
                 "invalid YAML: %s%s", problem, hint);
}

// ---- nodes ----

static struct ptm_yaml_node *new_node(struct loader *l, enum ptm_yaml_kind kind, const yaml_mark_t *mark)
{
    struct ptm_yaml_node *n = ptm_arena_calloc(l->doc->arena, 1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->line = (uint32_t)mark->line + 1;
    n->column = (uint32_t)mark->column + 1;
    n->weight = 1;
    return n;
}

static const char *copy_string(struct loader *l, const void *s)
{
    if (s == NULL)
        return NULL;
    return ptm_arena_strndup(l->doc->arena, s, strlen(s));
}

// Check an explicit tag: the standard YAML ones are fine, others are refused.
static void check_tag(struct loader *l, const struct ptm_yaml_node *n)
{
    static const char *const known[] = {"str", "int", "float", "bool", "null", "map", "seq", NULL};
    if (n->tag == NULL || strcmp(n->tag, "!") == 0)
        return;
    if (strncmp(n->tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0)
        for (int i = 0; known[i]; i++)
            if (strcmp(n->tag + strlen(YAML_TAG_PREFIX), known[i]) == 0)
                return;
    char path[512];
    frames_path(l, l->depth, path, sizeof path);
    add_error(l, n->line, n->column, path, "unsupported YAML tag %s", n->tag);
}

static int tag_is(const struct ptm_yaml_node *n, const char *name)
{
    size_t p = strlen(YAML_TAG_PREFIX);
    return n->tag != NULL && strncmp(n->tag, YAML_TAG_PREFIX, p) == 0 && strcmp(n->tag + p, name) == 0;
}

static enum ptm_yaml_style scalar_style(yaml_scalar_style_t style)
{
    switch (style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: return PTM_YAML_SINGLE_QUOTED;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return PTM_YAML_DOUBLE_QUOTED;
    case YAML_LITERAL_SCALAR_STYLE: return PTM_YAML_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE: return PTM_YAML_FOLDED;
    default: return PTM_YAML_PLAIN;
    }
}

static int plain_is_null(const char *s)
{
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

// The frame being filled, or NULL at the top level.
static struct frame *top(struct loader *l)
{
    return l->depth ? &l->frames[l->depth - 1] : NULL;
}

// True when the next child of the open frame is a map key.
static int next_is_key(struct loader *l)
{
    const struct frame *f = top(l);
    return f != NULL && f->node->kind == PTM_YAML_MAP && f->count % 2 == 0;
}

static void warn_unset(void *user, const char *name)
{
    struct loader *l = user;
    char path[512];
    frames_path(l, l->depth, path, sizeof path);
    ptm_config_diagnostics_add(l->warnings, l->doc->name, l->line, l->column, path,
                               "environment variable %s is not set; using an empty value", name);
}

// Expand ${env:...} in a value scalar; a bad reference is an error that
// leaves the text as written.
static int expand_scalar(struct loader *l, struct ptm_yaml_node *n)
{
    char problem[512];
    const char *out;
    size_t out_length;
    l->line = n->line;
    l->column = n->column;
    int rc = ptm_yaml_expand_env(l->doc->arena, n->value, n->length, &l->options, warn_unset, l, &out,
                                 &out_length, problem, sizeof problem);
    if (rc == PTM_ENOMEM)
        return out_of_memory(l);
    if (rc != 0) {
        char path[512];
        frames_path(l, l->depth, path, sizeof path);
        add_error(l, n->line, n->column, path, "%s", problem);
        n->invalid = true;
        return 0;
    }
    n->value = out;
    n->length = out_length;
    return 0;
}

// ---- building ----

static int register_anchor(struct loader *l, const char *name, const struct ptm_yaml_node *node)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < l->anchor_count; i++)
        if (strcmp(l->anchors[i].name, name) == 0) {
            l->anchors[i].node = node; // YAML lets a later anchor of the same name win
            return 0;
        }
    if (l->anchor_count == MAX_ANCHORS)
        return fatal(l, PTM_ELIMIT, node->line, node->column, NULL, "more than %d YAML anchors", MAX_ANCHORS);
    if (l->anchor_count == l->anchor_cap) {
        size_t cap = l->anchor_cap ? l->anchor_cap * 2 : 16;
        struct anchor *a = realloc(l->anchors, cap * sizeof *a);
        if (a == NULL)
            return out_of_memory(l);
        l->anchors = a;
        l->anchor_cap = cap;
    }
    l->anchors[l->anchor_count++] = (struct anchor){name, node};
    return 0;
}

// Hand a finished node to the open frame, or make it the root. line and
// column are where it was written: an alias's own place, not its target's.
static int add_child(struct loader *l, const struct ptm_yaml_node *child, uint32_t line, uint32_t column)
{
    struct frame *f = top(l);
    if (f == NULL) {
        l->doc->root = child;
        return 0;
    }
    if (f->node->kind == PTM_YAML_MAP && f->count % 2 == 0 && child->kind != PTM_YAML_SCALAR) {
        char path[512];
        frames_path(l, l->depth - 1, path, sizeof path);
        return fatal(l, PTM_ECONFIG, line, column, path, "a map key must be text, not a %s",
                     ptm_yaml_describe(child));
    }
    f->weight += child->weight;
    if (f->weight > l->options.max_nodes)
        return fatal(l, PTM_ELIMIT, line, column, NULL,
                     "the document expands to more than %llu nodes (through aliases?)",
                     (unsigned long long)l->options.max_nodes);
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        const struct ptm_yaml_node **c = realloc(f->children, cap * sizeof *c);
        if (c == NULL)
            return out_of_memory(l);
        f->children = c;
        f->cap = cap;
    }
    f->children[f->count++] = child;
    return 0;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
    struct ptm_yaml_node *n = new_node(l, PTM_YAML_SCALAR, &ev->start_mark);
    if (n == NULL)
        return out_of_memory(l);
    int is_key = next_is_key(l);
    const char *value = (const char *)ev->data.scalar.value;
    n->length = ev->data.scalar.length;
    n->value = ptm_arena_strndup(l->doc->arena, value ? value : "", value ? n->length : 0);
    n->tag = copy_string(l, ev->data.scalar.tag);
    if (n->value == NULL || (ev->data.scalar.tag != NULL && n->tag == NULL))
        return out_of_memory(l);
    n->style = scalar_style(ev->data.scalar.style);
    check_tag(l, n);
    n->is_null = tag_is(n, "null") || (n->tag == NULL && n->style == PTM_YAML_PLAIN && plain_is_null(n->value));
    n->is_string = tag_is(n, "str") || (n->tag != NULL && strcmp(n->tag, "!") == 0) ||
                   (n->style != PTM_YAML_PLAIN && n->tag == NULL);
    if (!is_key && !n->is_null) {
        int rc = expand_scalar(l, n);
        if (rc != 0)
            return rc;
    }
    const char *anchor = copy_string(l, ev->data.scalar.anchor);
    if (ev->data.scalar.anchor != NULL && anchor == NULL)
        return out_of_memory(l);
    int rc = register_anchor(l, anchor, n);
    return rc ? rc : add_child(l, n, n->line, n->column);
}

static int on_start(struct loader *l, const yaml_event_t *ev, enum ptm_yaml_kind kind)
{
    if (l->depth >= l->options.max_depth)
        return fatal(l, PTM_ELIMIT, (uint32_t)ev->start_mark.line + 1, (uint32_t)ev->start_mark.column + 1, NULL,
                     "maps and lists nest deeper than %u levels", l->options.max_depth);
    struct ptm_yaml_node *n = new_node(l, kind, &ev->start_mark);
    if (n == NULL)
        return out_of_memory(l);
    const yaml_char_t *anchor, *tag;
    if (kind == PTM_YAML_MAP) {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        n->style = ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE ? PTM_YAML_FLOW : PTM_YAML_BLOCK;
    } else {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        n->style = ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE ? PTM_YAML_FLOW : PTM_YAML_BLOCK;
    }
    n->tag = copy_string(l, tag);
    struct frame *f = &l->frames[l->depth];
    *f = (struct frame){.node = n, .anchor = copy_string(l, anchor), .weight = 1};
    if ((tag != NULL && n->tag == NULL) || (anchor != NULL && f->anchor == NULL))
        return out_of_memory(l);
    check_tag(l, n);
    l->depth++;
    return 0;
}

// One candidate entry of a map being closed, for merging and duplicates.
struct entry {
    const struct ptm_yaml_node *key;
    const struct ptm_yaml_node *value;
    size_t rank; // 0 written in this map, 1.. from the n-th merged map
    size_t seq;  // order of appearance
    int keep;
};

static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    size_t n = x->key->length < y->key->length ? x->key->length : y->key->length;
    int c = memcmp(x->key->value, y->key->value, n);
    if (c != 0)
        return c;
    if (x->key->length != y->key->length)
        return x->key->length < y->key->length ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int compare_seq(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int is_merge_key(const struct ptm_yaml_node *key)
{
    return !key->is_string && key->tag == NULL && strcmp(key->value, "<<") == 0;
}

// Append the entries a `<<: value` contributes (value is a map or a list of
// maps); each merged map gets the next rank. Returns the new entry count.
static size_t add_merged(struct loader *l, const struct ptm_yaml_node *value, struct entry *entries, size_t n,
                         size_t cap, size_t *rank)
{
    const struct ptm_yaml_node *const *list = &value;
    size_t count = 1;
    if (value->kind == PTM_YAML_SEQUENCE) {
        list = value->items;
        count = value->item_count;
    }
    for (size_t i = 0; i < count; i++) {
        const struct ptm_yaml_node *m = list[i];
        if (m->kind != PTM_YAML_MAP) {
            char path[512];
            frames_path(l, l->depth - 1, path, sizeof path);
            add_error(l, m->line, m->column, path, "a << merge takes a map or a list of maps, not a %s",
                      ptm_yaml_describe(m));
            continue;
        }
        (*rank)++;
        for (size_t k = 0; k < m->pair_count && n < cap; k++, n++)
            entries[n] = (struct entry){m->pairs[k].key, m->pairs[k].value, *rank, n, 1};
    }
    return n;
}

// Collect the map's own entries and the merged ones into entries[].
static size_t collect_entries(struct loader *l, const struct frame *f, struct entry *entries, size_t cap)
{
    size_t n = 0, rank = 0;
    for (size_t i = 0; i + 1 < f->count; i += 2) {
        if (is_merge_key(f->children[i])) {
            n = add_merged(l, f->children[i + 1], entries, n, cap, &rank);
        } else if (n < cap) {
            entries[n] = (struct entry){f->children[i], f->children[i + 1], 0, n, 1};
            n++;
        }
    }
    return n;
}

// Among entries with equal keys keep the first (own keys beat merged ones);
// two own entries with one key is a duplicate.
static void drop_duplicates(struct loader *l, struct entry *entries, size_t n)
{
    if (n < 2)
        return;
    qsort(entries, n, sizeof *entries, compare_entries);
    for (size_t i = 1; i < n; i++) {
        struct entry *first = &entries[i - 1];
        while (first > entries && !first->keep)
            first--;
        if (entries[i].key->length != first->key->length ||
            memcmp(entries[i].key->value, first->key->value, first->key->length) != 0)
            continue;
        entries[i].keep = 0;
        if (entries[i].rank == 0 && first->rank == 0) {
            char path[512];
            frames_path(l, l->depth - 1, path, sizeof path);
            size_t len = strlen(path);
            snprintf(path + len, sizeof path - len, "%s%s", len ? "." : "", entries[i].key->value);
            add_error(l, entries[i].key->line, entries[i].key->column, path,
                      "duplicate key (first defined at line %u, column %u)", first->key->line,
                      first->key->column);
        }
    }
    qsort(entries, n, sizeof *entries, compare_seq);
}

static size_t merged_size(const struct frame *f)
{
    size_t n = f->count / 2;
    for (size_t i = 0; i + 1 < f->count; i += 2) {
        if (!is_merge_key(f->children[i]))
            continue;
        const struct ptm_yaml_node *v = f->children[i + 1];
        if (v->kind == PTM_YAML_MAP)
            n += v->pair_count;
        for (size_t k = 0; v->kind == PTM_YAML_SEQUENCE && k < v->item_count; k++)
            if (v->items[k]->kind == PTM_YAML_MAP)
                n += v->items[k]->pair_count;
    }
    return n;
}

static int finish_map(struct loader *l, struct frame *f)
{
    size_t cap = merged_size(f);
    struct entry *entries = cap ? malloc(cap * sizeof *entries) : NULL;
    if (cap && entries == NULL)
        return out_of_memory(l);
    size_t n = collect_entries(l, f, entries, cap);
    drop_duplicates(l, entries, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += entries[i].keep;
    struct ptm_yaml_pair *pairs = kept ? ptm_arena_calloc(l->doc->arena, kept, sizeof *pairs) : NULL;
    if (kept && pairs == NULL) {
        free(entries);
        return out_of_memory(l);
    }
    uint64_t weight = 1;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].keep)
            continue;
        pairs[out++] = (struct ptm_yaml_pair){entries[i].key, entries[i].value};
        weight += entries[i].key->weight + entries[i].value->weight;
    }
    free(entries);
    f->node->pairs = pairs;
    f->node->pair_count = kept;
    f->node->weight = weight;
    return 0;
}

static int finish_sequence(struct loader *l, struct frame *f)
{
    const struct ptm_yaml_node **items = NULL;
    if (f->count) {
        items = ptm_arena_alloc(l->doc->arena, f->count * sizeof *items);
        if (items == NULL)
            return out_of_memory(l);
        memcpy(items, f->children, f->count * sizeof *items);
    }
    f->node->items = items;
    f->node->item_count = f->count;
    f->node->weight = f->weight;
    return 0;
}

static int on_end(struct loader *l)
{
    struct frame *f = top(l);
    int rc = f->node->kind == PTM_YAML_MAP ? finish_map(l, f) : finish_sequence(l, f);
    if (rc == 0 && f->node->weight > l->options.max_nodes)
        rc = fatal(l, PTM_ELIMIT, f->node->line, f->node->column, NULL,
                   "the document expands to more than %llu nodes (through aliases?)",
                   (unsigned long long)l->options.max_nodes);
    free(f->children);
    f->children = NULL;
    l->depth--;
    if (rc == 0)
        rc = register_anchor(l, f->anchor, f->node);
    return rc ? rc : add_child(l, f->node, f->node->line, f->node->column);
}

static int on_alias(struct loader *l, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = l->anchor_count; i-- > 0;)
        if (strcmp(l->anchors[i].name, name) == 0)
            return add_child(l, l->anchors[i].node, (uint32_t)ev->start_mark.line + 1,
                             (uint32_t)ev->start_mark.column + 1);
    char path[512];
    frames_path(l, l->depth, path, sizeof path);
    return fatal(l, PTM_ECONFIG, (uint32_t)ev->start_mark.line + 1, (uint32_t)ev->start_mark.column + 1, path,
                 "alias *%s refers to no anchor &%s defined before it", name, name);
}

static int on_event(struct loader *l, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++l->documents > 1)
            return fatal(l, PTM_ECONFIG, (uint32_t)ev->start_mark.line + 1, (uint32_t)ev->start_mark.column + 1,
                         NULL, "a second YAML document: a configuration file holds exactly one");
        return 0;
    case YAML_SCALAR_EVENT: return on_scalar(l, ev);
    case YAML_SEQUENCE_START_EVENT: return on_start(l, ev, PTM_YAML_SEQUENCE);
    case YAML_MAPPING_START_EVENT: return on_start(l, ev, PTM_YAML_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_end(l);
    case YAML_ALIAS_EVENT: return on_alias(l, ev);
    default: return 0;
    }
}

static void resolve_options(struct ptm_yaml_options *out, const struct ptm_yaml_options *in)
{
    *out = in ? *in : (struct ptm_yaml_options){0};
    if (out->max_bytes == 0)
        out->max_bytes = PTM_YAML_DEFAULT_MAX_BYTES;
    if (out->max_depth == 0)
        out->max_depth = PTM_YAML_DEFAULT_MAX_DEPTH;
    if (out->max_nodes == 0)
        out->max_nodes = PTM_YAML_DEFAULT_MAX_NODES;
}

static int run_parser(struct loader *l)
{
    if (!yaml_parser_initialize(&l->parser))
        return out_of_memory(l);
    yaml_parser_set_input_string(&l->parser, (const unsigned char *)l->text, l->length);
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&l->parser, &ev)) {
            rc = syntax_error(l);
            break;
        }
        rc = on_event(l, &ev);
        int done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (rc != 0 || done)
            break;
    }
    yaml_parser_delete(&l->parser);
    while (l->depth > 0) {
        l->depth--;
        free(l->frames[l->depth].children);
    }
    return rc;
}

struct ptm_yaml_document *ptm_yaml_load_string(const char *text, size_t length, const char *name,
                                               const struct ptm_yaml_options *options,
                                               struct ptm_config_diagnostics *errors,
                                               struct ptm_config_diagnostics *warnings,
                                               struct ptm_error *err)
{
    struct loader l = {.text = text, .length = length, .errors = errors, .warnings = warnings, .err = err};
    resolve_options(&l.options, options);
    struct ptm_arena *arena = ptm_arena_create(0);
    struct ptm_yaml_document *doc = arena ? ptm_arena_calloc(arena, 1, sizeof *doc) : NULL;
    const char *doc_name = doc ? ptm_arena_strndup(arena, name, strlen(name)) : NULL;
    if (doc_name == NULL) {
        ptm_arena_destroy(arena);
        errors->out_of_memory = 1;
        ptm_error_set(err, PTM_ENOMEM, "%s: out of memory reading the configuration", name);
        return NULL;
    }
    doc->arena = arena;
    doc->name = doc_name;
    l.doc = doc;
    int rc;
    if (length > l.options.max_bytes)
        rc = fatal(&l, PTM_ELIMIT, 0, 0, NULL, "the configuration is %zu bytes, more than the limit of %zu",
                   length, l.options.max_bytes);
    else if ((l.frames = calloc(l.options.max_depth, sizeof *l.frames)) == NULL)
        rc = out_of_memory(&l);
    else
        rc = run_parser(&l);
    free(l.frames);
    free(l.anchors);
    if (rc != 0) {
        ptm_yaml_destroy(doc);
        return NULL;
    }
    return doc;
}

struct ptm_yaml_document *ptm_yaml_load_file(const char *path, const struct ptm_yaml_options *options,
                                             struct ptm_config_diagnostics *errors,
                                             struct ptm_config_diagnostics *warnings,
                                             struct ptm_error *err)
{
    struct ptm_yaml_options resolved;
    resolve_options(&resolved, options);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        ptm_config_diagnostics_add(errors, path, 0, 0, NULL, "cannot open: %s", strerror(e));
        ptm_error_set(err, PTM_EIO, "%s: cannot open: %s", path, strerror(e));
        return NULL;
    }
    // Read one byte past the limit to tell "at the limit" from "over it".
    size_t cap = resolved.max_bytes + 1;
    char *text = malloc(cap);
    size_t length = text ? fread(text, 1, cap, f) : 0;
    int failed = text == NULL ? PTM_ENOMEM : ferror(f) ? PTM_EIO : 0;
    int e = errno;
    fclose(f);
    if (failed != 0) {
        free(text);
        const char *why = failed == PTM_ENOMEM ? "out of memory" : strerror(e);
        ptm_config_diagnostics_add(errors, path, 0, 0, NULL, "cannot read: %s", why);
        ptm_error_set(err, failed, "%s: cannot read: %s", path, why);
        return NULL;
    }
    struct ptm_yaml_document *doc = ptm_yaml_load_string(text, length, path, &resolved, errors, warnings, err);
    free(text);
    return doc;
}

void ptm_yaml_destroy(struct ptm_yaml_document *doc)
{
    if (doc != NULL)
        ptm_arena_destroy(doc->arena);
}

const struct ptm_yaml_pair *ptm_yaml_map_find(const struct ptm_yaml_node *map, const char *key)
{
    if (map == NULL || map->kind != PTM_YAML_MAP)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->pair_count; i++) {
        const struct ptm_yaml_node *k = map->pairs[i].key;
        if (k->length == len && memcmp(k->value, key, len) == 0)
            return &map->pairs[i];
    }
    return NULL;
}

const struct ptm_yaml_node *ptm_yaml_map_get(const struct ptm_yaml_node *map, const char *key)
{
    const struct ptm_yaml_pair *p = ptm_yaml_map_find(map, key);
    return p ? p->value : NULL;
}

static int looks_like_number(const char *s)
{
    char *end;
    if (*s == '\0')
        return 0;
    (void)strtod(s, &end);
    return *end == '\0';
}

const char *ptm_yaml_describe(const struct ptm_yaml_node *node)
{
    if (node == NULL)
        return "nothing";
    if (node->kind == PTM_YAML_MAP)
        return "map";
    if (node->kind == PTM_YAML_SEQUENCE)
        return "list";
    if (node->is_null)
        return "null";
    if (node->is_string)
        return "string";
    if (strcmp(node->value, "true") == 0 || strcmp(node->value, "false") == 0 || strcmp(node->value, "True") == 0 ||
        strcmp(node->value, "False") == 0 || strcmp(node->value, "TRUE") == 0 || strcmp(node->value, "FALSE") == 0)
        return "bool";
    if (looks_like_number(node->value))
        return "number";
    return "string";
}
