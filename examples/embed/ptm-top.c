/* <DESC> CPU seconds per function from profile files, with libprofiletometrics </DESC> */
// SPDX-License-Identifier: Apache-2.0
//
// ptm-top: read profiles (pprof, OTLP, gzipped or not) and print the CPU
// seconds each function used, as `go tool pprof -top` does: "flat" with the
// function as the leaf frame, "cum" with it anywhere on the stack. Or, with
// -p, print every metric the built-in rules make as Prometheus text.
//
//   ptm-top [-p] [-c CONFIG.yaml] FILE...
//
// It uses only the installed library: see the Makefile beside it and
// docs/embedding.md.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <profiletometrics.h>

// The configuration when none is given: every function, not just the
// top 100 of each profile.
static const char default_config[] = "connectors:\n"
                                     "  profiletometrics:\n"
                                     "    metrics:\n"
                                     "      function:\n"
                                     "        top_n: 0\n";

struct function {
    char *name;
    double flat, cum; // seconds
};

struct table {
    struct function *items;
    size_t len, cap;
    double total; // cpu_time, seconds
};

static int add(struct table *t, const char *name, double flat, double cum)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct function *bigger = realloc(t->items, cap * sizeof *bigger);
        if (bigger == NULL)
            return -1;
        t->items = bigger;
        t->cap = cap;
    }
    size_t n = strlen(name) + 1;
    char *copy = malloc(n);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, n); // the data point's strings are borrowed: copy what we keep
    t->items[t->len++] = (struct function){copy, flat, cum};
    return 0;
}

static const char *attribute(const struct ptm_data_point *p, const char *key)
{
    for (size_t i = 0; i < p->attribute_count; i++)
        if (strcmp(p->attributes[i].key, key) == 0 && p->attributes[i].type == PTM_LABEL_STRING)
            return p->attributes[i].string;
    return NULL;
}

// ptm_converter_walk's callback: one data point of any metric.
static int take_point(void *ctx, const struct ptm_data_point *p)
{
    struct table *t = ctx;
    if (strcmp(p->metric, "cpu_time") == 0) {
        t->total += p->value;
        return 0;
    }
    int flat = strcmp(p->metric, "function_self_cpu_time") == 0;
    int cum = strcmp(p->metric, "function_total_cpu_time") == 0;
    const char *name = attribute(p, "function.name");
    if ((!flat && !cum) || name == NULL)
        return 0;
    return add(t, name, flat ? p->value : 0, cum ? p->value : 0) == 0 ? 0 : 1; // non-zero stops the walk
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct function *)a)->name, ((const struct function *)b)->name);
}

static int by_flat_then_cum(const void *a, const void *b)
{
    const struct function *x = a, *y = b;
    if (x->flat != y->flat)
        return x->flat < y->flat ? 1 : -1;
    if (x->cum != y->cum)
        return x->cum < y->cum ? 1 : -1;
    return strcmp(x->name, y->name);
}

// One row per function: the same function in several processes (resources)
// or both metrics come as several points.
static void merge(struct table *t)
{
    qsort(t->items, t->len, sizeof *t->items, by_name);
    size_t out = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (out > 0 && strcmp(t->items[out - 1].name, t->items[i].name) == 0) {
            t->items[out - 1].flat += t->items[i].flat;
            t->items[out - 1].cum += t->items[i].cum;
            free(t->items[i].name);
        } else {
            t->items[out++] = t->items[i];
        }
    }
    t->len = out;
    qsort(t->items, t->len, sizeof *t->items, by_flat_then_cum);
}

static int print_top(struct ptm_converter *c)
{
    struct table t = {0};
    struct ptm_error err;
    int rc = ptm_converter_walk(c, NULL, take_point, &t, &err);
    if (rc != 0)
        fprintf(stderr, "ptm-top: %s\n", rc < 0 ? err.message : "out of memory");
    else {
        merge(&t);
        printf("total %.9f s\n%14s %14s  %s\n", t.total, "flat", "cum", "function");
        for (size_t i = 0; i < t.len; i++)
            printf("%14.9f %14.9f  %s\n", t.items[i].flat, t.items[i].cum, t.items[i].name);
    }
    for (size_t i = 0; i < t.len; i++)
        free(t.items[i].name);
    free(t.items);
    return rc == 0 ? 0 : 1;
}

static int print_prometheus(struct ptm_converter *c)
{
    char *text;
    size_t len;
    struct ptm_error err;
    if (ptm_converter_collect(c, PTM_OUTPUT_PROMETHEUS, NULL, &text, &len, &err) != 0) {
        fprintf(stderr, "ptm-top: %s\n", err.message);
        return 1;
    }
    fwrite(text, 1, len, stdout);
    ptm_free(text);
    return 0;
}

int main(int argc, char **argv)
{
    int prometheus = 0, first = 1;
    struct ptm_options opts = {.config_yaml = default_config};
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-p") == 0) {
            prometheus = 1;
        } else if (strcmp(argv[first], "-c") == 0 && first + 1 < argc) {
            opts.config_file = argv[++first];
            opts.config_yaml = NULL;
        } else {
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: ptm-top [-p] [-c CONFIG.yaml] FILE...\n");
        return 1;
    }

    struct ptm_error err;
    struct ptm_converter *c = ptm_converter_create(&opts, &err);
    if (c == NULL) {
        fprintf(stderr, "ptm-top: %s\n", err.message);
        return 1;
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
        // The format is detected; a partly bad file still gives its good profiles.
        if (ptm_converter_feed_file(c, argv[i], NULL, NULL, &err) != 0) {
            fprintf(stderr, "ptm-top: %s\n", err.message);
            status = 2;
        }
    }
    if ((prometheus ? print_prometheus(c) : print_top(c)) != 0)
        status = 1;
    ptm_converter_destroy(c);
    return status;
}
