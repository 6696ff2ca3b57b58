// SPDX-License-Identifier: Apache-2.0
//
// A small registry: a flat array of (name, labels) entries found by linear
// search under a mutex. A service has a few hundred of them at most, and
// they change per request, not per sample.
#include "server/telemetry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiletometrics.h"

static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

struct family {
    char *name;
    enum ptm_telemetry_type type;
    char *help;
};

struct entry {
    char *name;
    char *labels; // "" for none
    double value; // counter, gauge; histogram: sum
    uint64_t count;
    uint64_t buckets[N_BOUNDS + 1];
};

struct ptm_telemetry {
    pthread_mutex_t lock;
    struct family *families;
    size_t n_families, cap_families;
    struct entry *entries;
    size_t n_entries, cap_entries;
};

struct ptm_telemetry *ptm_telemetry_create(void)
{
    struct ptm_telemetry *t = calloc(1, sizeof *t);
    if (t != NULL)
        pthread_mutex_init(&t->lock, NULL);
    return t;
}

void ptm_telemetry_destroy(struct ptm_telemetry *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_families; i++) {
        free(t->families[i].name);
        free(t->families[i].help);
    }
    for (size_t i = 0; i < t->n_entries; i++) {
        free(t->entries[i].name);
        free(t->entries[i].labels);
    }
    free(t->families);
    free(t->entries);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static int grow(void **data, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 32;
    void *p = realloc(*data, c * size);
    if (p == NULL)
        return -1;
    *data = p;
    *cap = c;
    return 0;
}

void ptm_telemetry_describe(struct ptm_telemetry *t, const char *name, enum ptm_telemetry_type type,
                            const char *help)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n_families; i++) {
        if (strcmp(t->families[i].name, name) == 0) {
            pthread_mutex_unlock(&t->lock);
            return;
        }
    }
    if (grow((void **)&t->families, &t->cap_families, t->n_families, sizeof *t->families) == 0) {
        struct family *f = &t->families[t->n_families];
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        f->type = type;
        if (f->name != NULL && f->help != NULL)
            t->n_families++;
        else {
            free(f->name);
            free(f->help);
        }
    }
    pthread_mutex_unlock(&t->lock);
}

// The entry for (name, labels), made when new. Called with the lock held.
static struct entry *find(struct ptm_telemetry *t, const char *name, const char *labels)
{
    if (labels == NULL)
        labels = "";
    for (size_t i = 0; i < t->n_entries; i++)
        if (strcmp(t->entries[i].name, name) == 0 && strcmp(t->entries[i].labels, labels) == 0)
            return &t->entries[i];
    if (grow((void **)&t->entries, &t->cap_entries, t->n_entries, sizeof *t->entries) != 0)
        return NULL;
    struct entry *e = &t->entries[t->n_entries];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    e->labels = strdup(labels);
    if (e->name == NULL || e->labels == NULL) {
        free(e->name);
        free(e->labels);
        return NULL;
    }
    t->n_entries++;
    return e;
}

void ptm_telemetry_add(struct ptm_telemetry *t, const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&t->lock);
    struct entry *e = find(t, name, labels);
    if (e != NULL)
        e->value += v;
    pthread_mutex_unlock(&t->lock);
}

void ptm_telemetry_set(struct ptm_telemetry *t, const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&t->lock);
    struct entry *e = find(t, name, labels);
    if (e != NULL)
        e->value = v;
    pthread_mutex_unlock(&t->lock);
}

void ptm_telemetry_observe(struct ptm_telemetry *t, const char *name, const char *labels, double seconds)
{
    pthread_mutex_lock(&t->lock);
    struct entry *e = find(t, name, labels);
    if (e != NULL) {
        size_t b = 0;
        while (b < N_BOUNDS && seconds > bounds[b])
            b++;
        e->buckets[b]++;
        e->count++;
        e->value += seconds;
    }
    pthread_mutex_unlock(&t->lock);
}

double ptm_telemetry_get(struct ptm_telemetry *t, const char *name, const char *labels)
{
    double v = 0;
    pthread_mutex_lock(&t->lock);
    if (labels == NULL)
        labels = "";
    for (size_t i = 0; i < t->n_entries; i++)
        if (strcmp(t->entries[i].name, name) == 0 && strcmp(t->entries[i].labels, labels) == 0)
            v = t->entries[i].value;
    pthread_mutex_unlock(&t->lock);
    return v;
}

static int by_name_labels(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->labels, y->labels);
}

static const struct family *family_of(const struct ptm_telemetry *t, const char *name)
{
    for (size_t i = 0; i < t->n_families; i++)
        if (strcmp(t->families[i].name, name) == 0)
            return &t->families[i];
    return NULL;
}

static void put_labels(struct ptm_strbuf *out, const char *labels, const char *extra)
{
    if (labels[0] == '\0' && extra == NULL)
        return;
    ptm_strbuf_putc(out, '{');
    ptm_strbuf_puts(out, labels);
    if (extra != NULL) {
        if (labels[0] != '\0')
            ptm_strbuf_putc(out, ',');
        ptm_strbuf_puts(out, extra);
    }
    ptm_strbuf_putc(out, '}');
}

static void put_entry(struct ptm_strbuf *out, const struct entry *e, enum ptm_telemetry_type type)
{
    if (type != PTM_TELEMETRY_HISTOGRAM) {
        ptm_strbuf_puts(out, e->name);
        put_labels(out, e->labels, NULL);
        ptm_strbuf_printf(out, " %.17g\n", e->value);
        return;
    }
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= N_BOUNDS; b++) {
        char le[32];
        cumulative += e->buckets[b];
        if (b < N_BOUNDS)
            snprintf(le, sizeof le, "le=\"%g\"", bounds[b]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        ptm_strbuf_printf(out, "%s_bucket", e->name);
        put_labels(out, e->labels, le);
        ptm_strbuf_printf(out, " %llu\n", (unsigned long long)cumulative);
    }
    ptm_strbuf_printf(out, "%s_sum", e->name);
    put_labels(out, e->labels, NULL);
    ptm_strbuf_printf(out, " %.17g\n", e->value);
    ptm_strbuf_printf(out, "%s_count", e->name);
    put_labels(out, e->labels, NULL);
    ptm_strbuf_printf(out, " %llu\n", (unsigned long long)e->count);
}

int ptm_telemetry_render(struct ptm_telemetry *t, struct ptm_strbuf *out)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&t->lock);
    qsort(t->entries, t->n_entries, sizeof *t->entries, by_name_labels);
    for (size_t i = 0; i < t->n_entries; i++) {
        const struct entry *e = &t->entries[i];
        const struct family *f = family_of(t, e->name);
        enum ptm_telemetry_type type = f ? f->type : PTM_TELEMETRY_COUNTER;
        if (i == 0 || strcmp(e->name, t->entries[i - 1].name) != 0) {
            if (f != NULL && f->help[0] != '\0')
                ptm_strbuf_printf(out, "# HELP %s %s\n", e->name, f->help);
            ptm_strbuf_printf(out, "# TYPE %s %s\n", e->name, types[type]);
        }
        put_entry(out, e, type);
    }
    pthread_mutex_unlock(&t->lock);
    return out->failed ? PTM_ENOMEM : 0;
}
