// SPDX-License-Identifier: Apache-2.0
//
// Metric definitions in the store: OTel instrument name rules, histogram
// bounds, and the check that a name defined twice means the same metric.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/store_internal.h"
#include "util/error.h"

#define MAX_NAME 255

static const char *kind_name(enum ptm_metric_kind kind)
{
    switch (kind) {
    case PTM_METRIC_COUNTER:
        return "counter";
    case PTM_METRIC_GAUGE:
        return "gauge";
    case PTM_METRIC_HISTOGRAM:
        return "histogram";
    }
    return "?";
}

static bool name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '/';
}

// OTel instrument names: an ASCII letter, then letters, digits, '_', '.',
// '-' and '/', at most 255 characters.
static int check_name(const char *name, struct ptm_error *err)
{
    if (name == NULL || name[0] == '\0')
        return ptm_error_set(err, PTM_EINVAL, "metric name is empty");
    size_t len = strlen(name);
    if (len > MAX_NAME)
        return ptm_error_set(err, PTM_EINVAL, "metric name \"%.40s...\" has %zu characters: at most %d",
                             name, len, MAX_NAME);
    char first = name[0];
    if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z')))
        return ptm_error_set(err, PTM_EINVAL,
                             "metric name \"%s\": must start with an ASCII letter", name);
    for (size_t i = 1; i < len; i++) {
        if (name_char_ok(name[i]))
            continue;
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x20 && c < 0x7f)
            return ptm_error_set(err, PTM_EINVAL,
                                 "metric name \"%s\": character '%c' at %zu is not allowed "
                                 "(letters, digits, '_', '.', '-', '/')",
                                 name, c, i);
        return ptm_error_set(err, PTM_EINVAL,
                             "metric name: byte 0x%02x at %zu is not allowed "
                             "(letters, digits, '_', '.', '-', '/')",
                             c, i);
    }
    return 0;
}

static int check_bounds(const struct ptm_metric_def *def, struct ptm_error *err)
{
    if (def->n_bounds > PTM_STORE_MAX_BOUNDS)
        return ptm_error_set(err, PTM_ELIMIT, "metric \"%s\": %u histogram bounds, at most %d",
                             def->name, def->n_bounds, PTM_STORE_MAX_BOUNDS);
    if (def->n_bounds > 0 && def->bounds == NULL)
        return ptm_error_set(err, PTM_EINVAL, "metric \"%s\": %u histogram bounds but no array",
                             def->name, def->n_bounds);
    for (uint32_t i = 0; i < def->n_bounds; i++) {
        if (!isfinite(def->bounds[i]))
            return ptm_error_set(err, PTM_EINVAL, "metric \"%s\": histogram bound %u is not finite",
                                 def->name, i);
        if (i > 0 && !(def->bounds[i] > def->bounds[i - 1]))
            return ptm_error_set(err, PTM_EINVAL,
                                 "metric \"%s\": histogram bound %u (%g) is not above bound %u (%g)",
                                 def->name, i, def->bounds[i], i - 1, def->bounds[i - 1]);
    }
    return 0;
}

static int check_def(const struct ptm_metric_def *def, struct ptm_error *err)
{
    int rc = check_name(def->name, err);
    if (rc != 0)
        return rc;
    if ((unsigned)def->kind > PTM_METRIC_HISTOGRAM)
        return ptm_error_set(err, PTM_EINVAL, "metric \"%s\": unknown kind %d", def->name, (int)def->kind);
    if ((unsigned)def->value_type > PTM_NUMBER_INT)
        return ptm_error_set(err, PTM_EINVAL, "metric \"%s\": unknown value type %d", def->name,
                             (int)def->value_type);
    return def->kind == PTM_METRIC_HISTOGRAM ? check_bounds(def, err) : 0;
}

static const char *unit_or_empty(const char *unit)
{
    return unit != NULL ? unit : "";
}

static bool same_bounds(const struct ptm_metric_def *a, const struct ptm_metric_def *b)
{
    if (a->kind != PTM_METRIC_HISTOGRAM)
        return true;
    return a->n_bounds == b->n_bounds &&
           (a->n_bounds == 0 || memcmp(a->bounds, b->bounds, a->n_bounds * sizeof *a->bounds) == 0);
}

static const char *value_type_name(enum ptm_number_type type)
{
    return type == PTM_NUMBER_INT ? "int" : "double";
}

// The existing metric `have` and the new definition must agree.
static int check_same(const struct ptm_metric_def *have, const struct ptm_metric_def *def,
                      struct ptm_error *err)
{
    if (have->kind != def->kind || have->value_type != def->value_type ||
        strcmp(have->unit, unit_or_empty(def->unit)) != 0)
        return ptm_error_set(err, PTM_EINVAL,
                             "metric \"%s\" defined twice: as a %s in \"%s\" with %s values, "
                             "and as a %s in \"%s\" with %s values",
                             have->name, kind_name(have->kind), have->unit,
                             value_type_name(have->value_type), kind_name(def->kind),
                             unit_or_empty(def->unit), value_type_name(def->value_type));
    if (!same_bounds(have, def))
        return ptm_error_set(err, PTM_EINVAL,
                             "metric \"%s\" defined twice: as a histogram with %u bounds, "
                             "and as one with %u other bounds",
                             have->name, have->n_bounds, def->n_bounds);
    return 0;
}

// A string copied into the intern arena as valid UTF-8, via the string table.
static const char *intern_text(struct ptm_store *store, const char *s)
{
    uint32_t id = ptm_store_string(store, s, s != NULL ? strlen(s) : 0);
    return id != UINT32_MAX ? ptm_store_string_data(store, id, NULL) : NULL;
}

static struct store_metric *copy_def(struct ptm_store *store, const struct ptm_metric_def *def)
{
    struct store_metric *m = ptm_arena_calloc(store->intern, 1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->def = *def;
    m->def.name = intern_text(store, def->name);
    m->def.description = intern_text(store, def->description);
    m->def.unit = intern_text(store, def->unit);
    if (m->def.name == NULL || m->def.description == NULL || m->def.unit == NULL)
        return NULL;
    if (def->kind != PTM_METRIC_HISTOGRAM) {
        m->def.bounds = NULL;
        m->def.n_bounds = 0;
    } else if (def->n_bounds > 0) {
        double *bounds = ptm_arena_alloc(store->intern, def->n_bounds * sizeof *bounds);
        if (bounds == NULL)
            return NULL;
        memcpy(bounds, def->bounds, def->n_bounds * sizeof *bounds);
        m->def.bounds = bounds;
    }
    m->series_limit = def->series_limit ? def->series_limit : store->opts.series_limit;
    m->def.series_limit = m->series_limit;
    return m;
}

int ptm_store_define(struct ptm_store *store, const struct ptm_metric_def *def, struct ptm_error *err)
{
    int rc = check_def(def, err);
    if (rc != 0)
        return rc;
    size_t len = strlen(def->name);
    uint32_t id = ptm_strmap_find(&store->metric_map, def->name, (uint32_t)len);
    if (id != UINT32_MAX) {
        rc = check_same(&store->metrics.data[id]->def, def, err);
        return rc != 0 ? rc : (int)id;
    }
    if (store->metrics.len >= PTM_STORE_MAX_METRICS)
        return ptm_error_set(err, PTM_ELIMIT, "metric \"%s\": the store holds %d metrics already",
                             def->name, PTM_STORE_MAX_METRICS);
    struct store_metric *m = copy_def(store, def);
    if (m == NULL || PTM_VEC_RESERVE(store->metrics, 1) != 0)
        return ptm_error_set(err, PTM_ENOMEM,
                             "metric \"%s\": out of memory (or the store's intern budget is spent)",
                             def->name);
    id = ptm_strmap_intern(&store->metric_map, m->def.name, (uint32_t)len, NULL);
    if (id == UINT32_MAX)
        return ptm_error_set(err, PTM_ENOMEM, "metric \"%s\": out of memory", def->name);
    store->metrics.data[store->metrics.len++] = m;
    return (int)id;
}

int ptm_store_redefine(struct ptm_store *store, uint32_t id, const struct ptm_metric_def *def, struct ptm_error *err)
{
    int rc = check_def(def, err);
    if (rc != 0)
        return rc;
    struct store_metric *m = copy_def(store, def); // the old one stays in the arena, unused
    if (m == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "metric \"%s\": out of memory", def->name);
    ptm_store_drop_metric_series(store, id);
    m->overflowed = 0;
    store->metrics.data[id] = m;
    return (int)id;
}

uint32_t ptm_store_metric_count(const struct ptm_store *store)
{
    return store->metrics.len;
}

const struct ptm_metric_def *ptm_store_metric(const struct ptm_store *store, uint32_t id)
{
    return id < store->metrics.len ? &store->metrics.data[id]->def : NULL;
}
