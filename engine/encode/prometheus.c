// SPDX-License-Identifier: Apache-2.0
//
// Prometheus text exposition format 0.0.4, with OpenTelemetry's Prometheus
// naming (as the Collector's prometheus exporter writes it): metric names
// get the UCUM unit as a word ("s" -> _seconds, "By" -> _bytes) and
// counters "_total"; label names are sanitized; service.name (with
// service.namespace) becomes `job`, service.instance.id `instance`, and the
// other resource attributes go to a `target_info` series, or onto every
// series too when asked. Families are sorted by name, series by labels; no
// timestamps. Prometheus wants cumulative counters: collect the store with
// cumulative temporality for this format.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode_internal.h"
#include "encode/prometheus_names.h"
#include "util/arena.h"

#define NO_FAMILY UINT32_MAX
#define TARGET_INFO "target_info"

struct family {
    const char *name;
    const char *otel_name; // NULL for target_info
    uint32_t metric;       // UINT32_MAX for target_info
};

struct sample {
    uint32_t family;
    const char *labels; // rendered, without braces; "" for none
    const struct ptm_point *point; // NULL for target_info
};

struct label {
    const char *name;
    const char *value;
    uint32_t seq; // order of arrival, to join colliding names stably
};

struct exposition {
    const struct ptm_snapshot *snapshot;
    const struct ptm_store *store;
    const struct ptm_encode_options *opts;
    struct ptm_arena *arena;
    struct family *families;
    uint32_t n_families;
    uint32_t *family_of_metric; // by metric id; NO_FAMILY when not written
    uint32_t target_info;       // family index, or NO_FAMILY
    struct sample *samples;
    size_t n_samples;
    struct label labels[PTM_PROMETHEUS_MAX_LABELS];
    uint32_t n_labels;
    struct ptm_strbuf scratch;
};

// ---- labels ----

static void add_label(struct exposition *e, const char *name, const char *value)
{
    if (e->n_labels < sizeof e->labels / sizeof e->labels[0]) {
        e->labels[e->n_labels] = (struct label){name, value, e->n_labels};
        e->n_labels++;
    }
}

static void remove_label(struct exposition *e, const char *name)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < e->n_labels; i++)
        if (strcmp(e->labels[i].name, name) != 0)
            e->labels[kept++] = e->labels[i];
    e->n_labels = kept;
}

static int compare_labels(const void *a, const void *b)
{
    const struct label *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void put_label_value(struct ptm_strbuf *out, const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\')
            ptm_strbuf_puts(out, "\\\\");
        else if (*p == '"')
            ptm_strbuf_puts(out, "\\\"");
        else if (*p == '\n')
            ptm_strbuf_puts(out, "\\n");
        else
            ptm_strbuf_putc(out, *p);
    }
}

// The labels gathered so far as `a="x",b="y"`, sorted by name; values of
// names that collide after sanitizing are joined with ';'. A copy in the
// arena, or NULL when out of memory.
static const char *render_labels(struct exposition *e)
{
    struct ptm_strbuf *sb = &e->scratch;
    ptm_strbuf_clear(sb);
    qsort(e->labels, e->n_labels, sizeof e->labels[0], compare_labels);
    for (uint32_t i = 0; i < e->n_labels; i++) {
        bool same = i > 0 && strcmp(e->labels[i].name, e->labels[i - 1].name) == 0;
        if (same) {
            ptm_strbuf_putc(sb, ';');
        } else {
            if (i > 0)
                ptm_strbuf_puts(sb, "\",");
            ptm_strbuf_puts(sb, e->labels[i].name);
            ptm_strbuf_puts(sb, "=\"");
        }
        put_label_value(sb, e->labels[i].value);
    }
    if (e->n_labels > 0)
        ptm_strbuf_putc(sb, '"');
    if (sb->failed)
        return NULL;
    return ptm_arena_strndup(e->arena, sb->data != NULL ? sb->data : "", sb->len);
}

// Add the pairs of attribute set `set` as labels, skipping the keys of set
// `skip` (whose pairs take precedence) and, unless service_keys, the service
// attributes that make job and instance.
static int add_set_labels(struct exposition *e, uint32_t set, uint32_t skip, bool service_keys)
{
    uint32_t n, n_skip;
    const uint32_t *pairs = ptm_store_attribute_pairs(e->store, set, &n);
    const uint32_t *skip_pairs = ptm_store_attribute_pairs(e->store, skip, &n_skip);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = pairs[2 * i];
        bool skipped = !service_keys && ptm_prometheus_is_service_key(e->store, key);
        for (uint32_t j = 0; j < n_skip && !skipped; j++)
            skipped = skip_pairs[2 * j] == key;
        if (skipped)
            continue;
        const char *name = ptm_prometheus_label_name(e->arena, e->store, key);
        const char *value = ptm_prometheus_value_text(e->arena, e->store, pairs[2 * i + 1]);
        if (name == NULL || value == NULL)
            return -1;
        add_label(e, name, value);
    }
    return 0;
}

// job and instance from the resource's service attributes, replacing any
// label of those names.
static int add_job_instance(struct exposition *e, uint32_t resource_set)
{
    const char *job, *instance;
    if (ptm_prometheus_job_instance(e->arena, e->store, resource_set, &job, &instance) != 0)
        return -1;
    if (job != NULL) {
        remove_label(e, "job");
        add_label(e, "job", job);
    }
    if (instance != NULL) {
        remove_label(e, "instance");
        add_label(e, "instance", instance);
    }
    return 0;
}

static const char *point_labels(struct exposition *e, const struct ptm_point *p)
{
    uint32_t resource_set;
    ptm_store_resource_get(e->store, p->resource, &resource_set, NULL);
    e->n_labels = 0;
    if (add_set_labels(e, p->attributes, 0, true) != 0)
        return NULL;
    if (e->opts->resource_to_labels && add_set_labels(e, resource_set, p->attributes, true) != 0)
        return NULL;
    if (add_job_instance(e, resource_set) != 0)
        return NULL;
    // A histogram's buckets carry `le`: an attribute of that name would
    // make every bucket line invalid.
    if (ptm_store_metric(e->store, p->metric)->kind == PTM_METRIC_HISTOGRAM)
        remove_label(e, "le");
    return render_labels(e);
}

// target_info labels of a resource: job, instance and the other attributes;
// NULL in *out when the resource has no other attributes.
static int target_info_labels(struct exposition *e, uint32_t resource, const char **out)
{
    uint32_t resource_set;
    ptm_store_resource_get(e->store, resource, &resource_set, NULL);
    e->n_labels = 0;
    *out = NULL;
    if (add_set_labels(e, resource_set, 0, false) != 0)
        return -1;
    if (e->n_labels == 0)
        return 0;
    if (add_job_instance(e, resource_set) != 0)
        return -1;
    *out = render_labels(e);
    return *out != NULL ? 0 : -1;
}

// ---- families and samples ----

// By Prometheus name; for names that collide, target_info first, then by
// OTel name: the first of each name is the one written.
static int compare_families(const void *a, const void *b)
{
    const struct family *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0 || x->otel_name == y->otel_name)
        return c;
    if (x->otel_name == NULL || y->otel_name == NULL)
        return x->otel_name == NULL ? -1 : 1;
    return strcmp(x->otel_name, y->otel_name);
}

// One family per metric with points (seen[metric]), named the Prometheus
// way and sorted by that name, plus target_info.
static int build_families(struct exposition *e, const bool *seen)
{
    uint32_t n_metrics = ptm_store_metric_count(e->store);
    e->families = ptm_arena_alloc(e->arena, (n_metrics + 1) * sizeof *e->families);
    e->family_of_metric = ptm_arena_alloc(e->arena, (n_metrics + 1) * sizeof *e->family_of_metric);
    if (e->families == NULL || e->family_of_metric == NULL)
        return -1;
    for (uint32_t m = 0; m < n_metrics; m++) {
        e->family_of_metric[m] = NO_FAMILY;
        if (!seen[m])
            continue;
        const struct ptm_metric_def *def = ptm_store_metric(e->store, m);
        const char *name = ptm_prometheus_metric_name(e->arena, def, e->opts->no_name_suffixes);
        if (name == NULL)
            return -1;
        e->families[e->n_families++] = (struct family){name, def->name, m};
    }
    e->families[e->n_families++] = (struct family){TARGET_INFO, NULL, UINT32_MAX};
    qsort(e->families, e->n_families, sizeof *e->families, compare_families);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < e->n_families; i++)
        if (kept == 0 || strcmp(e->families[kept - 1].name, e->families[i].name) != 0)
            e->families[kept++] = e->families[i];
    e->n_families = kept;
    for (uint32_t i = 0; i < e->n_families; i++) {
        if (e->families[i].metric == UINT32_MAX)
            e->target_info = i;
        else
            e->family_of_metric[e->families[i].metric] = i;
    }
    return 0;
}

static int add_sample(struct exposition *e, uint32_t family, const char *labels,
                      const struct ptm_point *p)
{
    if (labels == NULL)
        return -1;
    e->samples[e->n_samples++] = (struct sample){family, labels, p};
    return 0;
}

static int build_samples(struct exposition *e)
{
    const struct ptm_snapshot *s = e->snapshot;
    e->samples = ptm_arena_alloc(e->arena, (2 * s->len + 1) * sizeof *e->samples);
    if (e->samples == NULL)
        return -1;
    for (size_t i = 0; i < s->len; i++) {
        const struct ptm_point *p = &s->points[i];
        uint32_t family = e->family_of_metric[p->metric];
        if (family != NO_FAMILY && add_sample(e, family, point_labels(e, p), p) != 0)
            return -1;
        if (i > 0 && s->points[i - 1].resource == p->resource)
            continue;
        const char *labels;
        if (target_info_labels(e, p->resource, &labels) != 0)
            return -1;
        if (labels != NULL && add_sample(e, e->target_info, labels, NULL) != 0)
            return -1;
    }
    return 0;
}

static int compare_samples(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return strcmp(x->labels, y->labels);
}

// ---- output ----

static void put_value(struct ptm_strbuf *out, const struct ptm_metric_def *def, double value)
{
    if (def != NULL && def->value_type == PTM_NUMBER_INT) {
        ptm_strbuf_printf(out, "%" PRId64, ptm_point_int(value));
        return;
    }
    char buf[PTM_NUMBER_TEXT_MAX];
    size_t n = ptm_format_double(buf, value);
    ptm_strbuf_append(out, buf, n);
}

static void put_series(struct ptm_strbuf *out, const char *name, const char *suffix,
                       const char *labels, const char *extra)
{
    ptm_strbuf_puts(out, name);
    ptm_strbuf_puts(out, suffix);
    if (labels[0] != '\0' || extra != NULL) {
        ptm_strbuf_putc(out, '{');
        ptm_strbuf_puts(out, labels);
        if (extra != NULL) {
            if (labels[0] != '\0')
                ptm_strbuf_putc(out, ',');
            ptm_strbuf_puts(out, extra);
        }
        ptm_strbuf_putc(out, '}');
    }
    ptm_strbuf_putc(out, ' ');
}

// A histogram; samples[0..n) are the same series from n resources that no
// label tells apart, added together.
static void put_histogram(struct ptm_strbuf *out, const char *name, const struct ptm_metric_def *def,
                          const struct sample *samples, size_t n)
{
    uint64_t cumulative = 0, count = 0;
    double sum = 0;
    char le[PTM_NUMBER_TEXT_MAX + 8], bound[PTM_NUMBER_TEXT_MAX];
    for (uint32_t i = 0; i <= def->n_bounds; i++) {
        for (size_t k = 0; k < n; k++)
            cumulative += samples[k].point->bucket_counts[i];
        if (i < def->n_bounds)
            ptm_format_double(bound, def->bounds[i]);
        snprintf(le, sizeof le, "le=\"%s\"", i < def->n_bounds ? bound : "+Inf");
        put_series(out, name, "_bucket", samples[0].labels, le);
        ptm_strbuf_printf(out, "%" PRIu64 "\n", cumulative);
    }
    for (size_t k = 0; k < n; k++) {
        sum += samples[k].point->sum;
        count += samples[k].point->count;
    }
    put_series(out, name, "_sum", samples[0].labels, NULL);
    put_value(out, NULL, sum);
    ptm_strbuf_putc(out, '\n');
    put_series(out, name, "_count", samples[0].labels, NULL);
    ptm_strbuf_printf(out, "%" PRIu64 "\n", count);
}

static void put_family_header(struct ptm_strbuf *out, const struct family *f,
                              const struct ptm_metric_def *def)
{
    static const char *const type[] = {"counter", "gauge", "histogram"};
    const char *help = def != NULL ? def->description : "Target metadata";
    if (help[0] != '\0') {
        ptm_strbuf_printf(out, "# HELP %s ", f->name);
        for (const char *p = help; *p != '\0'; p++) {
            if (*p == '\\')
                ptm_strbuf_puts(out, "\\\\");
            else if (*p == '\n')
                ptm_strbuf_puts(out, "\\n");
            else
                ptm_strbuf_putc(out, *p);
        }
        ptm_strbuf_putc(out, '\n');
    }
    ptm_strbuf_printf(out, "# TYPE %s %s\n", f->name, def != NULL ? type[def->kind] : "gauge");
}

// Series that come out identical (the same metric from resources that no
// label tells apart, when resource attributes are not labels) are added
// together: the exposition format allows each series once, and dropping all
// but one would lose data. target_info lines are written once.
static void put_samples(struct exposition *e, struct ptm_strbuf *out)
{
    size_t i = 0;
    while (i < e->n_samples) {
        const struct sample *s = &e->samples[i];
        size_t n = 1;
        while (i + n < e->n_samples && compare_samples(&e->samples[i + n], s) == 0)
            n++;
        const struct family *f = &e->families[s->family];
        const struct ptm_metric_def *def =
            f->metric != UINT32_MAX ? ptm_store_metric(e->store, f->metric) : NULL;
        if (i == 0 || s->family != s[-1].family)
            put_family_header(out, f, def);
        if (def != NULL && def->kind == PTM_METRIC_HISTOGRAM) {
            put_histogram(out, f->name, def, s, n);
        } else {
            double value = 0;
            for (size_t k = 0; k < n && s->point != NULL; k++)
                value += s[k].point->value;
            put_series(out, f->name, "", s->labels, NULL);
            put_value(out, def, s->point != NULL ? value : 1);
            ptm_strbuf_putc(out, '\n');
        }
        i += n;
    }
}

int ptm_encode_prometheus(const struct ptm_snapshot *snapshot, const struct ptm_encode_options *opts,
                          struct ptm_strbuf *out)
{
    static const struct ptm_encode_options defaults = {false, false};
    struct exposition e = {.snapshot = snapshot, .store = snapshot->store,
                           .opts = opts != NULL ? opts : &defaults, .arena = ptm_arena_create(0),
                           .target_info = NO_FAMILY};
    uint32_t n_metrics = ptm_store_metric_count(e.store);
    bool *seen = calloc(n_metrics + 1, sizeof *seen);
    int rc = PTM_ENOMEM;
    if (e.arena == NULL || seen == NULL)
        goto done;
    for (size_t i = 0; i < snapshot->len; i++)
        seen[snapshot->points[i].metric] = true;
    if (build_families(&e, seen) != 0 || build_samples(&e) != 0)
        goto done;
    qsort(e.samples, e.n_samples, sizeof *e.samples, compare_samples);
    put_samples(&e, out);
    rc = out->failed || e.scratch.failed ? PTM_ENOMEM : 0;
done:
    ptm_strbuf_free(&e.scratch);
    free(seen);
    ptm_arena_destroy(e.arena);
    return rc;
}
