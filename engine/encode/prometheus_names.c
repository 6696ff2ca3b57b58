// SPDX-License-Identifier: Apache-2.0
//
// OpenTelemetry to Prometheus names, after the rules of the Collector's
// Prometheus translator: metric names as words joined by '_', with the unit
// and "total" added; label names sanitized; job and instance from service
// attributes.
#include <string.h>

#include "encode/encode_internal.h"
#include "encode/prometheus_names.h"

#define MAX_WORDS 300

struct word {
    const char *ptr;
    size_t len;
};

struct words {
    struct word list[MAX_WORDS];
    size_t n;
};

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void add_word(struct words *w, const char *ptr, size_t len)
{
    if (len > 0 && w->n < MAX_WORDS)
        w->list[w->n++] = (struct word){ptr, len};
}

// Split s at every character that is not a letter or digit.
static void split_words(struct words *w, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && is_alnum(s[i]))
            continue;
        add_word(w, s + start, i - start);
        start = i + 1;
    }
}

static bool has_word(const struct words *w, const char *word, size_t len)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->list[i].len == len && memcmp(w->list[i].ptr, word, len) == 0)
            return true;
    return false;
}

struct unit_word {
    const char *ucum;
    const char *word;
};

static const struct unit_word main_units[] = {
    {"d", "days"},       {"h", "hours"},          {"min", "minutes"},     {"s", "seconds"},
    {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"}, {"By", "bytes"},
    {"KiBy", "kibibytes"}, {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"}, {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"}, {"MBy", "megabytes"},    {"GBy", "gigabytes"},  {"TBy", "terabytes"},
    {"m", "meters"},     {"V", "volts"},          {"A", "amperes"},       {"J", "joules"},
    {"W", "watts"},      {"g", "grams"},          {"Cel", "celsius"},     {"Hz", "hertz"},
    {"%", "percent"},    {"1", ""},
};

static const struct unit_word per_units[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"},
};

// The word for one side of a unit ("s" -> seconds), or the unit itself when
// it has none; "" for annotations like "{packet}" and for "1".
static struct word unit_word(const struct unit_word *table, size_t n, const char *unit, size_t len)
{
    while (len > 0 && unit[0] == ' ')
        unit++, len--;
    while (len > 0 && unit[len - 1] == ' ')
        len--;
    if (memchr(unit, '{', len) != NULL || memchr(unit, '}', len) != NULL)
        return (struct word){"", 0};
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i].ucum) == len && memcmp(table[i].ucum, unit, len) == 0)
            return (struct word){table[i].word, strlen(table[i].word)};
    return (struct word){unit, len};
}

// Add a unit word unless the name has it already; a unit that is not one
// word ("foo bar") is added as its words.
static void add_unit_words(struct words *w, struct word unit, const char *prefix)
{
    struct words unit_words = {.n = 0};
    split_words(&unit_words, unit.ptr, unit.len);
    if (unit_words.n == 0 || (unit_words.n == 1 && has_word(w, unit_words.list[0].ptr,
                                                             unit_words.list[0].len)))
        return;
    if (prefix != NULL)
        add_word(w, prefix, strlen(prefix));
    for (size_t i = 0; i < unit_words.n; i++)
        add_word(w, unit_words.list[i].ptr, unit_words.list[i].len);
}

static void suffixed_name(struct ptm_strbuf *sb, const struct ptm_metric_def *def)
{
    struct words w = {.n = 0};
    split_words(&w, def->name, strlen(def->name));
    const char *unit = def->unit, *slash = strchr(unit, '/');
    size_t main_len = slash != NULL ? (size_t)(slash - unit) : strlen(unit);
    add_unit_words(&w, unit_word(main_units, sizeof main_units / sizeof main_units[0], unit, main_len),
                   NULL);
    if (slash != NULL)
        add_unit_words(&w, unit_word(per_units, sizeof per_units / sizeof per_units[0], slash + 1,
                                     strlen(slash + 1)),
                       "per");
    if (def->kind == PTM_METRIC_COUNTER) {
        size_t kept = 0;
        for (size_t i = 0; i < w.n; i++)
            if (!(w.list[i].len == 5 && memcmp(w.list[i].ptr, "total", 5) == 0))
                w.list[kept++] = w.list[i];
        w.n = kept;
        add_word(&w, "total", 5);
    }
    if (w.n > 0 && is_digit(w.list[0].ptr[0]))
        ptm_strbuf_putc(sb, '_');
    for (size_t i = 0; i < w.n; i++) {
        if (i > 0)
            ptm_strbuf_putc(sb, '_');
        ptm_strbuf_append(sb, w.list[i].ptr, w.list[i].len);
    }
}

static void sanitized_name(struct ptm_strbuf *sb, const char *name)
{
    if (is_digit(name[0]))
        ptm_strbuf_putc(sb, '_');
    for (const char *p = name; *p != '\0'; p++)
        ptm_strbuf_putc(sb, is_alnum(*p) || *p == '_' || *p == ':' ? *p : '_');
}

static const char *finish(struct ptm_arena *arena, struct ptm_strbuf *sb)
{
    const char *copy = sb->failed ? NULL : ptm_arena_strndup(arena, sb->data ? sb->data : "", sb->len);
    ptm_strbuf_free(sb);
    return copy;
}

const char *ptm_prometheus_metric_name(struct ptm_arena *arena, const struct ptm_metric_def *def,
                                       bool no_suffixes)
{
    struct ptm_strbuf sb = {0};
    if (no_suffixes)
        sanitized_name(&sb, def->name);
    else
        suffixed_name(&sb, def);
    if (sb.len == 0)
        ptm_strbuf_putc(&sb, '_');
    return finish(arena, &sb);
}

const char *ptm_prometheus_label_name(struct ptm_arena *arena, const struct ptm_store *store,
                                      uint32_t string_id)
{
    size_t len;
    const char *key = ptm_store_string_data(store, string_id, &len);
    struct ptm_strbuf sb = {0};
    if (len == 0 || is_digit(key[0]))
        ptm_strbuf_putc(&sb, '_');
    for (size_t i = 0; i < len;) {
        if (is_alnum(key[i]) || key[i] == '_') {
            ptm_strbuf_putc(&sb, key[i++]);
            continue;
        }
        size_t n = ptm_utf8_sequence((const unsigned char *)key + i, len - i);
        i += n ? n : 1;
        ptm_strbuf_putc(&sb, '_');
    }
    return finish(arena, &sb);
}

const char *ptm_prometheus_value_text(struct ptm_arena *arena, const struct ptm_store *store,
                                      uint32_t value)
{
    struct ptm_strbuf sb = {0};
    ptm_put_value_text(&sb, store, value);
    return finish(arena, &sb);
}

static bool key_is(const struct ptm_store *store, uint32_t string_id, const char *name)
{
    size_t len;
    const char *key = ptm_store_string_data(store, string_id, &len);
    return key != NULL && len == strlen(name) && memcmp(key, name, len) == 0;
}

bool ptm_prometheus_is_service_key(const struct ptm_store *store, uint32_t string_id)
{
    return key_is(store, string_id, "service.name") || key_is(store, string_id, "service.namespace") ||
           key_is(store, string_id, "service.instance.id");
}

int ptm_prometheus_job_instance(struct ptm_arena *arena, const struct ptm_store *store, uint32_t set,
                                const char **job, const char **instance)
{
    uint32_t n, name = UINT32_MAX, space = UINT32_MAX, id = UINT32_MAX;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (key_is(store, pairs[2 * i], "service.name"))
            name = pairs[2 * i + 1];
        else if (key_is(store, pairs[2 * i], "service.namespace"))
            space = pairs[2 * i + 1];
        else if (key_is(store, pairs[2 * i], "service.instance.id"))
            id = pairs[2 * i + 1];
    }
    *job = *instance = NULL;
    if (name != UINT32_MAX) {
        struct ptm_strbuf sb = {0};
        if (space != UINT32_MAX) {
            ptm_put_value_text(&sb, store, space);
            ptm_strbuf_putc(&sb, '/');
        }
        ptm_put_value_text(&sb, store, name);
        if ((*job = finish(arena, &sb)) == NULL)
            return -1;
    }
    if (id != UINT32_MAX && (*instance = ptm_prometheus_value_text(arena, store, id)) == NULL)
        return -1;
    return 0;
}
