// SPDX-License-Identifier: Apache-2.0
//
// Typed scalar fields of the configuration walk (see fields.h): booleans,
// integers and floats with ranges, sizes ("64MiB"), Go-style durations
// ("1m30s") and regular expressions, which are compiled (util/regex.h, PCRE2)
// at load time so a bad one is reported with its position, not at run time.
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/fields.h"
#include "util/regex.h"

// Report a quoted value given where a bool or number belongs.
static void report_quoted(struct config_walk *w, const struct ptm_yaml_node *node, const char *expected)
{
    walk_error(w, node, "expected %s, got the string \"%s\" (remove the quotes)", expected, node->value);
}

// Enter key and check the value is a plain scalar; returns the node or NULL
// (absent or null: nothing entered; bad: reported, nothing entered, *rc = -1).
static const struct ptm_yaml_node *enter_plain(struct config_walk *w, const struct ptm_yaml_node *map,
                                               const char *key, const char *expected, int *rc)
{
    *rc = 0;
    const struct ptm_yaml_node *node = walk_enter(w, map, key);
    if (node == NULL)
        return NULL;
    if (node->kind == PTM_YAML_SCALAR && node->is_null) {
        walk_pop(w);
        return NULL;
    }
    if (node->invalid) {
        // already reported
    } else if (node->kind != PTM_YAML_SCALAR) {
        walk_error(w, node, "expected %s, got a %s", expected, ptm_yaml_describe(node));
    } else if (node->is_string) {
        report_quoted(w, node, expected);
    } else {
        return node;
    }
    walk_pop(w);
    *rc = -1;
    return NULL;
}

int field_bool(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, bool *out)
{
    static const char *const yaml11[] = {"yes", "no", "on", "off", "y", "n", NULL};
    int rc;
    const struct ptm_yaml_node *node = enter_plain(w, map, key, "true or false", &rc);
    if (node == NULL)
        return rc;
    const char *v = node->value;
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0) {
        *out = true;
        rc = 1;
    } else if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0) {
        *out = false;
        rc = 1;
    } else {
        bool old_style = false;
        for (int i = 0; yaml11[i]; i++)
            old_style |= strcasecmp(v, yaml11[i]) == 0;
        walk_error(w, node, "expected true or false, got \"%s\"%s", v,
                   old_style ? " (YAML 1.1 yes/no/on/off are not booleans here)" : "");
        rc = -1;
    }
    walk_pop(w);
    return rc;
}

// Parse a plain decimal integer; false when text is not one or overflows.
static bool parse_u64(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = text;
    if (*p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    if (*p != '\0')
        return false;
    *out = v;
    return true;
}

static void report_range(struct config_walk *w, const struct ptm_yaml_node *node, uint64_t min, uint64_t max)
{
    if (max == UINT64_MAX || max == UINT32_MAX)
        walk_error(w, node, "must be at least %" PRIu64 ", got %s", min, node->value);
    else
        walk_error(w, node, "must be from %" PRIu64 " to %" PRIu64 ", got %s", min, max, node->value);
}

int field_u64(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
              uint64_t min, uint64_t max)
{
    int rc;
    const struct ptm_yaml_node *node = enter_plain(w, map, key, "a whole number", &rc);
    if (node == NULL)
        return rc;
    uint64_t v;
    const char *digits = node->value[0] == '-' ? node->value + 1 : node->value;
    if (!parse_u64(digits, &v)) {
        walk_error(w, node, "expected a whole number, got \"%s\"", node->value);
        rc = -1;
    } else if (node->value[0] == '-' || v < min || v > max) {
        report_range(w, node, min, max);
        rc = -1;
    } else {
        *out = v;
        rc = 1;
    }
    walk_pop(w);
    return rc;
}

int field_u32(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint32_t *out,
              uint32_t min, uint32_t max)
{
    uint64_t v = *out;
    int rc = field_u64(w, map, key, &v, min, max);
    if (rc == 1)
        *out = (uint32_t)v;
    return rc;
}

int field_double(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, double *out,
                 double min, double max)
{
    int rc;
    const struct ptm_yaml_node *node = enter_plain(w, map, key, "a number", &rc);
    if (node == NULL)
        return rc;
    char *end;
    double v = strtod(node->value, &end);
    if (end == node->value || *end != '\0' || !isfinite(v)) {
        walk_error(w, node, "expected a number, got \"%s\"", node->value);
        rc = -1;
    } else if (v < min || v > max) {
        walk_error(w, node, "must be from %g to %g, got %s", min, max, node->value);
        rc = -1;
    } else {
        *out = v;
        rc = 1;
    }
    walk_pop(w);
    return rc;
}

// ---- sizes ----

struct unit {
    const char *name;
    uint64_t factor;
};

static const struct unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1000ULL},
    {"kb", 1000ULL},
    {"m", 1000000ULL},
    {"mb", 1000000ULL},
    {"g", 1000000000ULL},
    {"gb", 1000000000ULL},
    {"t", 1000000000000ULL},
    {"tb", 1000000000000ULL},
    {"ki", 1ULL << 10},
    {"kib", 1ULL << 10},
    {"mi", 1ULL << 20},
    {"mib", 1ULL << 20},
    {"gi", 1ULL << 30},
    {"gib", 1ULL << 30},
    {"ti", 1ULL << 40},
    {"tib", 1ULL << 40},
    {NULL, 0},
};

// Read "digits[.digits]" at *p into whole and a fraction (numerator over a
// power of ten); false when there are no digits or too many.
static bool read_decimal(const char **p, uint64_t *whole, uint64_t *frac, uint64_t *frac_scale)
{
    const char *s = *p;
    *whole = 0;
    *frac = 0;
    *frac_scale = 1;
    bool any = false;
    for (; isdigit((unsigned char)*s); s++, any = true) {
        uint64_t digit = (uint64_t)(*s - '0');
        if (*whole > (UINT64_MAX - digit) / 10)
            return false;
        *whole = *whole * 10 + digit;
    }
    if (*s == '.') {
        s++;
        for (; isdigit((unsigned char)*s); s++, any = true)
            if (*frac_scale < 1000000000000000000ULL) {
                *frac = *frac * 10 + (uint64_t)(*s - '0');
                *frac_scale *= 10;
            }
    }
    *p = s;
    return any;
}

// whole.frac × factor, or false on overflow.
static bool scale(uint64_t whole, uint64_t frac, uint64_t frac_scale, uint64_t factor, uint64_t *out)
{
    if (factor != 0 && whole > UINT64_MAX / factor)
        return false;
    uint64_t v = whole * factor;
    // frac/frac_scale < 1, so this part is below factor; long double keeps
    // 64 bits of mantissa.
    uint64_t part = (uint64_t)((long double)frac * (long double)factor / (long double)frac_scale);
    if (v > UINT64_MAX - part)
        return false;
    *out = v + part;
    return true;
}

int cfg_parse_size(const char *text, uint64_t *out, char *problem, size_t problem_size)
{
    const char *p = text;
    uint64_t whole, frac, frac_scale;
    if (!read_decimal(&p, &whole, &frac, &frac_scale))
        goto invalid;
    while (*p == ' ')
        p++;
    for (int i = 0; size_units[i].name != NULL; i++) {
        if (strcasecmp(p, size_units[i].name) != 0)
            continue;
        if (!scale(whole, frac, frac_scale, size_units[i].factor, out)) {
            snprintf(problem, problem_size, "size \"%s\" is too large", text);
            return -1;
        }
        return 0;
    }
invalid:
    snprintf(problem, problem_size,
             "expected a size such as 64MiB or 1048576, got \"%s\" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)",
             text);
    return -1;
}

// ---- durations ----

static const struct unit duration_units[] = {
    {"ns", 1ULL},
    {"us", 1000ULL},
    {"\xc2\xb5s", 1000ULL}, // µs, micro sign
    {"\xce\xbcs", 1000ULL}, // μs, Greek mu
    {"ms", 1000000ULL},
    {"s", 1000000000ULL},
    {"m", 60000000000ULL},
    {"h", 3600000000000ULL},
    {NULL, 0},
};

static const struct unit *duration_unit(const char **p)
{
    for (int i = 0; duration_units[i].name != NULL; i++) {
        size_t n = strlen(duration_units[i].name);
        // "ms" must not be read as "m" then a stray "s": units are tried
        // longest first within each letter.
        if (strncmp(*p, duration_units[i].name, n) == 0) {
            *p += n;
            return &duration_units[i];
        }
    }
    return NULL;
}

int cfg_parse_duration(const char *text, uint64_t *out, char *problem, size_t problem_size)
{
    if (strcmp(text, "0") == 0) {
        *out = 0;
        return 0;
    }
    const char *p = text;
    uint64_t total = 0;
    if (*p == '+')
        p++;
    bool bare_number = false;
    do {
        uint64_t whole, frac, frac_scale, part;
        if (!read_decimal(&p, &whole, &frac, &frac_scale))
            goto invalid;
        const struct unit *u = duration_unit(&p);
        if (u == NULL) {
            bare_number = *p == '\0';
            goto invalid;
        }
        if (!scale(whole, frac, frac_scale, u->factor, &part) || part > (uint64_t)INT64_MAX ||
            total > (uint64_t)INT64_MAX - part) {
            snprintf(problem, problem_size, "duration \"%s\" is too long", text);
            return -1;
        }
        total += part;
    } while (*p != '\0');
    *out = total;
    return 0;
invalid:
    snprintf(problem, problem_size, "expected a duration such as 5s, 250ms or 1m30s, got \"%s\"%s", text,
             bare_number ? " (add a unit: ns, us, ms, s, m or h)" : "");
    return -1;
}

// Enter key, take a scalar's text and parse it with parser; range-check.
static int field_parsed(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
                        uint64_t min, uint64_t max, int (*parser)(const char *, uint64_t *, char *, size_t),
                        void (*show)(char *, size_t, uint64_t))
{
    const struct ptm_yaml_node *node = walk_enter(w, map, key);
    if (node == NULL)
        return 0;
    int rc = 0;
    uint64_t v;
    char problem[512];
    if (node->kind == PTM_YAML_SCALAR && node->is_null) {
        rc = 0;
    } else if (node->invalid) {
        rc = -1;
    } else if (walk_expect_scalar(w, node, "a value") != 0) {
        rc = -1;
    } else if (parser(node->value, &v, problem, sizeof problem) != 0) {
        walk_error(w, node, "%s", problem);
        rc = -1;
    } else if (v < min || v > max) {
        char low[64], high[64];
        show(low, sizeof low, min);
        show(high, sizeof high, max);
        if (max == UINT64_MAX)
            walk_error(w, node, "must be at least %s, got %s", low, node->value);
        else
            walk_error(w, node, "must be from %s to %s, got %s", low, high, node->value);
        rc = -1;
    } else {
        *out = v;
        rc = 1;
    }
    walk_pop(w);
    return rc;
}

// Show a byte count the way a user writes it: 1MiB, 512KiB, 1000.
static void show_size(char *buf, size_t size, uint64_t v)
{
    static const char *const names[] = {"TiB", "GiB", "MiB", "KiB"};
    for (int i = 0; i < 4; i++) {
        uint64_t f = 1ULL << (10 * (4 - i));
        if (v >= f && v % f == 0) {
            snprintf(buf, size, "%" PRIu64 "%s", v / f, names[i]);
            return;
        }
    }
    snprintf(buf, size, "%" PRIu64, v);
}

// Show nanoseconds as a Go duration: 1h, 30s, 250ms, 10us, 5ns.
static void show_duration(char *buf, size_t size, uint64_t v)
{
    static const struct unit units[] = {
        {"h", 3600000000000ULL}, {"m", 60000000000ULL}, {"s", 1000000000ULL}, {"ms", 1000000ULL}, {"us", 1000ULL}};
    for (int i = 0; i < 5; i++)
        if (v >= units[i].factor && v % units[i].factor == 0) {
            snprintf(buf, size, "%" PRIu64 "%s", v / units[i].factor, units[i].name);
            return;
        }
    snprintf(buf, size, "%" PRIu64 "ns", v);
}

int field_size(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
               uint64_t min, uint64_t max)
{
    return field_parsed(w, map, key, out, min, max, cfg_parse_size, show_size);
}

int field_duration(struct config_walk *w, const struct ptm_yaml_node *map, const char *key, uint64_t *out,
                   uint64_t min, uint64_t max)
{
    return field_parsed(w, map, key, out, min, max, cfg_parse_duration, show_duration);
}

// ---- regular expressions ----

int walk_check_regex(struct config_walk *w, const struct ptm_yaml_node *node, const char *pattern)
{
    // The same compiler the rules use, so what loads here compiles there.
    struct ptm_error err = {0};
    struct ptm_regex *re = ptm_regex_compile(pattern, strlen(pattern), &err);
    if (re != NULL) {
        ptm_regex_free(re);
        return 0;
    }
    if (err.code == PTM_ENOMEM)
        w->out_of_memory = true;
    else
        walk_error(w, node, "%s", err.message);
    return -1;
}
