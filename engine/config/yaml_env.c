// SPDX-License-Identifier: Apache-2.0
//
// `${env:NAME}` expansion in configuration values, with the OpenTelemetry
// Collector's syntax: `${env:NAME}`, the bare `${NAME}`, a default with
// `${env:NAME:-default}`, and `$$` for a literal `$`. Only the env provider
// exists here; `${file:...}` and the like are refused by name.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yaml.h"
#include "util/arena.h"

// Longest variable name we look up; longer names are refused.
#define NAME_MAX_LENGTH 255

struct expansion {
    char *out;
    size_t len;
    size_t cap;
};

static int append(struct expansion *e, const char *s, size_t n)
{
    if (e->len + n + 1 > e->cap) {
        size_t cap = e->cap ? e->cap : 64;
        while (cap < e->len + n + 1)
            cap *= 2;
        char *p = realloc(e->out, cap);
        if (p == NULL)
            return PTM_ENOMEM;
        e->out = p;
        e->cap = cap;
    }
    memcpy(e->out + e->len, s, n);
    e->len += n;
    e->out[e->len] = '\0';
    return 0;
}

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_scheme(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_name_char(s[i]) && s[i] != '+' && s[i] != '.' && s[i] != '-')
            return 0;
    return 1;
}

// A parsed reference: the variable name and an optional default.
struct reference {
    const char *name;
    size_t name_len;
    const char *fallback; // NULL when there is no ":-"
    size_t fallback_len;
};

// Split the inside of ${...} (body, n bytes) into a reference, or explain
// why it is not one.
static int parse_reference(const char *body, size_t n, struct reference *ref, char *problem,
                           size_t problem_size)
{
    const char *full = body;
    size_t full_len = n;
    const char *colon = memchr(body, ':', n);
    int is_default = colon != NULL && colon + 1 < body + n && colon[1] == '-';
    if (colon != NULL && !is_default) {
        size_t scheme_len = (size_t)(colon - body);
        if (scheme_len == 3 && memcmp(body, "env", 3) == 0) {
            body += 4;
            n -= 4;
            colon = memchr(body, ':', n);
            is_default = colon != NULL && colon + 1 < body + n && colon[1] == '-';
        } else if (is_scheme(body, scheme_len)) {
            snprintf(problem, problem_size,
                     "${%.*s}: the config provider \"%.*s\" is not supported (only ${env:NAME})",
                     (int)full_len, full, (int)scheme_len, body);
            return PTM_ECONFIG;
        }
    }
    ref->name = body;
    ref->name_len = is_default ? (size_t)(colon - body) : n;
    ref->fallback = is_default ? colon + 2 : NULL;
    ref->fallback_len = is_default ? n - ref->name_len - 2 : 0;
    int valid = ref->name_len > 0 && ref->name_len <= NAME_MAX_LENGTH && is_name_start(ref->name[0]);
    for (size_t i = 1; valid && i < ref->name_len; i++)
        valid = is_name_char(ref->name[i]);
    if (!valid) {
        snprintf(problem, problem_size,
                 "${%.*s}: invalid environment variable name \"%.*s\" (must match [A-Za-z_][A-Za-z0-9_]*)",
                 (int)full_len, full, (int)ref->name_len, ref->name);
        return PTM_ECONFIG;
    }
    return 0;
}

// Append the value of one reference.
static int expand_reference(struct expansion *e, const struct reference *ref,
                            const struct ptm_yaml_options *options, ptm_yaml_unset_fn *unset, void *user)
{
    char name[NAME_MAX_LENGTH + 1];
    memcpy(name, ref->name, ref->name_len);
    name[ref->name_len] = '\0';
    const char *value = options != NULL && options->getenv != NULL ? options->getenv(name, options->getenv_user)
                                                                 : getenv(name);
    if ((value == NULL || value[0] == '\0') && ref->fallback != NULL)
        return append(e, ref->fallback, ref->fallback_len);
    if (value == NULL) {
        if (unset != NULL)
            unset(user, name);
        return 0;
    }
    return append(e, value, strlen(value));
}

// Handle the `$` at text[*i]: `$$`, `${...}` or a plain `$`.
static int expand_dollar(struct expansion *e, const char *text, size_t length, size_t *i,
                         const struct ptm_yaml_options *options, ptm_yaml_unset_fn *unset, void *user,
                         char *problem, size_t problem_size)
{
    size_t at = *i;
    if (at + 1 < length && text[at + 1] == '$') {
        *i = at + 2;
        return append(e, "$", 1);
    }
    if (at + 1 >= length || text[at + 1] != '{') {
        *i = at + 1;
        return append(e, "$", 1);
    }
    const char *body = text + at + 2;
    const char *end = memchr(body, '}', length - at - 2);
    if (end == NULL) {
        snprintf(problem, problem_size, "\"%.*s\": unterminated ${ (missing })", (int)(length - at),
                 text + at);
        return PTM_ECONFIG;
    }
    size_t n = (size_t)(end - body);
    const char *nested = n >= 2 ? memmem(body, n, "${", 2) : NULL;
    if (nested != NULL) {
        snprintf(problem, problem_size, "\"%.*s\": a ${...} reference inside another is not supported",
                 (int)(n + 3), text + at);
        return PTM_ECONFIG;
    }
    struct reference ref;
    int rc = parse_reference(body, n, &ref, problem, problem_size);
    if (rc != 0)
        return rc;
    *i = at + 3 + n;
    return expand_reference(e, &ref, options, unset, user);
}

int ptm_yaml_expand_env(struct ptm_arena *arena, const char *text, size_t length,
                        const struct ptm_yaml_options *options, ptm_yaml_unset_fn *unset, void *user,
                        const char **out, size_t *out_length, char *problem, size_t problem_size)
{
    if (memchr(text, '$', length) == NULL) {
        *out = text;
        *out_length = length;
        return 0;
    }
    struct expansion e = {0};
    int rc = append(&e, "", 0);
    size_t i = 0;
    while (rc == 0 && i < length) {
        const char *dollar = memchr(text + i, '$', length - i);
        size_t plain = dollar != NULL ? (size_t)(dollar - (text + i)) : length - i;
        rc = append(&e, text + i, plain);
        i += plain;
        if (rc == 0 && i < length)
            rc = expand_dollar(&e, text, length, &i, options, unset, user, problem, problem_size);
    }
    if (rc == 0) {
        char *copy = ptm_arena_strndup(arena, e.out, e.len);
        if (copy == NULL)
            rc = PTM_ENOMEM;
        *out = copy;
        *out_length = e.len;
    }
    free(e.out);
    return rc;
}
