// SPDX-License-Identifier: Apache-2.0
//
// Merging snapshots into a store (engine/metrics/merge.c), as the
// Prometheus exporter does with every export: delta counters and
// histograms add up across snapshots, cumulative ones replace (a restarted
// source brings its new start), gauges take the last value; ids are
// re-interned (the target's ids differ from the source's); a name prefix
// and extra labels (a point's own attribute wins); a metric the target
// defines differently is skipped and reported while the rest merge; series
// expire by merge time; compaction keeps every series' state and merge time.
// Every expected value, start and time is worked out by hand in the
// comments from the store's rules (engine/metrics/series.c, collect.c).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/store.h"
#include "util/strbuf.h"

// ---- helpers ----

static struct ptm_store *new_store(enum ptm_temporality temporality)
{
    struct ptm_store_options opts = {temporality, 0};
    struct ptm_store *s = ptm_store_create(&opts);
    assert_non_null(s);
    return s;
}

static uint32_t str(struct ptm_store *s, const char *text)
{
    uint32_t id = ptm_store_string(s, text, strlen(text));
    assert_int_not_equal(id, UINT32_MAX);
    return id;
}

static uint32_t set1(struct ptm_store *s, const char *key, const char *value)
{
    uint32_t pair[2] = {str(s, key), ptm_store_value(s, PTM_LABEL_STRING, str(s, value), 0, 0)};
    return ptm_store_attributes(s, pair, 1);
}

static uint32_t resource(struct ptm_store *s, const char *service)
{
    return ptm_store_resource(s, set1(s, "svc", service), 0);
}

static uint32_t define(struct ptm_store *s, const char *name, enum ptm_metric_kind kind)
{
    static const double bounds[] = {1, 10};
    struct ptm_metric_def def = {name, "d", "s", kind, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    if (kind == PTM_METRIC_HISTOGRAM) {
        def.bounds = bounds;
        def.n_bounds = 2;
    }
    int id = ptm_store_define(s, &def, NULL);
    assert_true(id >= 0);
    return (uint32_t)id;
}

static struct ptm_window win(uint64_t start, uint64_t end)
{
    return (struct ptm_window){start, end};
}

static void put_set(struct ptm_strbuf *out, const struct ptm_store *s, uint32_t set)
{
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(s, set, &n);
    for (uint32_t i = 0; i < n; i++) {
        enum ptm_label_type type;
        uint32_t sid;
        int64_t iv;
        ptm_store_value_get(s, pairs[2 * i + 1], &type, &sid, &iv, NULL);
        ptm_strbuf_printf(out, "%s%s=", i ? "," : "", ptm_store_string_data(s, pairs[2 * i], NULL));
        if (type == PTM_LABEL_STRING)
            ptm_strbuf_puts(out, ptm_store_string_data(s, sid, NULL));
        else
            ptm_strbuf_printf(out, "%lld", (long long)iv);
    }
}

// Collect s at now and write each point as
// "name{resource attrs}[point attrs] value start time", one per line.
static char *collect_text(struct ptm_store *s, uint64_t now)
{
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(s, now, &snap), 0);
    struct ptm_strbuf out = {0};
    for (size_t i = 0; i < snap.len; i++) {
        const struct ptm_point *p = &snap.points[i];
        uint32_t rset;
        ptm_store_resource_get(s, p->resource, &rset, NULL);
        ptm_strbuf_printf(&out, "%s{", ptm_store_metric(s, p->metric)->name);
        put_set(&out, s, rset);
        ptm_strbuf_puts(&out, "}[");
        put_set(&out, s, p->attributes);
        ptm_strbuf_printf(&out, "] %g %llu %llu\n", p->value, (unsigned long long)p->start_unix_nano,
                          (unsigned long long)p->time_unix_nano);
    }
    ptm_snapshot_free(&snap);
    ptm_strbuf_puts(&out, "");
    return out.data;
}

static void expect_text(struct ptm_store *s, uint64_t now, const char *want)
{
    char *got = collect_text(s, now);
    assert_string_equal(got, want);
    free(got);
}

// Collect src at now and merge the snapshot into dst.
static int collect_merge(struct ptm_store *src, uint64_t now, struct ptm_store *dst,
                         const struct ptm_merge_options *opts, struct ptm_error *err)
{
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(src, now, &snap), 0);
    int rc = ptm_store_merge_with(dst, &snap, opts, err);
    ptm_snapshot_free(&snap);
    return rc;
}

static const struct ptm_merge_options DELTA = {.delta = true, .now_unix_nano = 1000};
static const struct ptm_merge_options CUMULATIVE = {.delta = false, .now_unix_nano = 1000};

// ---- counters ----

// Delta snapshots add up. src (delta): add 1.5 over [100,200], collect at
// 300: point 1.5 from 100 to 200. Add 2 over [250,400], collect at 500: the
// interval starts at the previous point's time, 200: 2 from 200 to 400.
// dst: 3.5, starting at the earlier start 100, time 400. After dst is
// collected its start is fixed: add 0.25 over [450,550] (point from 400 to
// 550) gives 3.75 from 100 to 550.
static void delta_counters_add_up(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "cpu_time", PTM_METRIC_COUNTER);
    uint32_t r = resource(src, "a"), a = set1(src, "k", "v");
    assert_int_equal(ptm_store_add(src, m, r, a, 1.5, win(100, 200)), 0);
    assert_int_equal(collect_merge(src, 300, dst, &DELTA, NULL), 0);
    assert_int_equal(ptm_store_add(src, m, r, a, 2.0, win(250, 400)), 0);
    assert_int_equal(collect_merge(src, 500, dst, &DELTA, NULL), 0);
    expect_text(dst, 600, "cpu_time{svc=a}[k=v] 3.5 100 400\n");
    assert_int_equal(ptm_store_add(src, m, r, a, 0.25, win(450, 550)), 0);
    assert_int_equal(collect_merge(src, 700, dst, &DELTA, NULL), 0);
    expect_text(dst, 800, "cpu_time{svc=a}[k=v] 3.75 100 550\n");
    // A merge of nothing changes nothing: src has no fresh series.
    assert_int_equal(collect_merge(src, 900, dst, &DELTA, NULL), 0);
    expect_text(dst, 1000, "cpu_time{svc=a}[k=v] 3.75 100 550\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// Cumulative snapshots replace. src (cumulative): add 1 over [100,200] ->
// 1 from 100 to 200; add 2 over [250,400] -> 3 from 100 to 400. dst: 3, not
// 4. A new source (the service reloaded) starts again: 0.5 over
// [1000,1100] -> dst 0.5 from 1000 to 1100.
static void cumulative_counters_replace(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_CUMULATIVE);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "cpu_time", PTM_METRIC_COUNTER);
    uint32_t r = resource(src, "a"), a = set1(src, "k", "v");
    assert_int_equal(ptm_store_add(src, m, r, a, 1, win(100, 200)), 0);
    assert_int_equal(collect_merge(src, 300, dst, &CUMULATIVE, NULL), 0);
    assert_int_equal(ptm_store_add(src, m, r, a, 2, win(250, 400)), 0);
    assert_int_equal(collect_merge(src, 500, dst, &CUMULATIVE, NULL), 0);
    expect_text(dst, 600, "cpu_time{svc=a}[k=v] 3 100 400\n");
    ptm_store_destroy(src);

    src = new_store(PTM_TEMPORALITY_CUMULATIVE);
    m = define(src, "cpu_time", PTM_METRIC_COUNTER);
    assert_int_equal(ptm_store_add(src, m, resource(src, "a"), set1(src, "k", "v"), 0.5, win(1000, 1100)), 0);
    assert_int_equal(collect_merge(src, 1200, dst, &CUMULATIVE, NULL), 0);
    expect_text(dst, 1300, "cpu_time{svc=a}[k=v] 0.5 1000 1100\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// Gauges take the last value with its window: 5 over [100,200], then 7
// over [300,400] -> 7 from 300 to 400 (whether the merge says delta or not).
static void gauges_take_last_value(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "heap", PTM_METRIC_GAUGE);
    uint32_t r = resource(src, "a");
    assert_int_equal(ptm_store_add(src, m, r, 0, 5, win(100, 200)), 0);
    assert_int_equal(collect_merge(src, 250, dst, &DELTA, NULL), 0);
    assert_int_equal(ptm_store_add(src, m, r, 0, 7, win(300, 400)), 0);
    assert_int_equal(collect_merge(src, 450, dst, &CUMULATIVE, NULL), 0);
    expect_text(dst, 500, "heap{svc=a}[] 7 300 400\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// ---- histograms (bounds 1 and 10: buckets <=1, (1,10], >10) ----

static void expect_histogram(struct ptm_store *dst, uint64_t count, double sum, double min, double max,
                             const uint64_t buckets[3], uint64_t start, uint64_t time)
{
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(dst, 10000, &snap), 0);
    assert_int_equal(snap.len, 1);
    const struct ptm_point *p = &snap.points[0];
    assert_int_equal(p->count, count);
    assert_true(fabs(p->sum - sum) < 1e-12);
    assert_true(p->min == min);
    assert_true(p->max == max);
    for (int i = 0; i < 3; i++)
        assert_int_equal(p->bucket_counts[i], buckets[i]);
    assert_int_equal(p->start_unix_nano, start);
    assert_int_equal(p->time_unix_nano, time);
    ptm_snapshot_free(&snap);
}

// First interval: 0.5 twice and 5 once over [50,100]: count 3, sum 6, min
// 0.5, max 5, buckets [2,1,0]. Second: 20 and 0.2 over [150,200]: count 2,
// sum 20.2, min 0.2, max 20, buckets [1,0,1]. Delta: dst adds up to count
// 5, sum 6 + 20.2, min 0.2, max 20, buckets [3,1,1], from 50 to 200.
static void delta_histograms_add_up(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "latency", PTM_METRIC_HISTOGRAM);
    uint32_t r = resource(src, "a");
    assert_int_equal(ptm_store_observe(src, m, r, 0, 0.5, 2, win(50, 100)), 0);
    assert_int_equal(ptm_store_observe(src, m, r, 0, 5, 1, win(50, 100)), 0);
    assert_int_equal(collect_merge(src, 120, dst, &DELTA, NULL), 0);
    assert_int_equal(ptm_store_observe(src, m, r, 0, 20, 1, win(150, 200)), 0);
    assert_int_equal(ptm_store_observe(src, m, r, 0, 0.2, 1, win(150, 200)), 0);
    assert_int_equal(collect_merge(src, 220, dst, &DELTA, NULL), 0);
    expect_histogram(dst, 5, 6.0 + (20.0 + 0.2), 0.2, 20, (const uint64_t[]){3, 1, 1}, 50, 200);
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// The same observations from a cumulative source: the second snapshot
// already holds everything (count 5 ...), and replaces the first.
static void cumulative_histograms_replace(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_CUMULATIVE);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "latency", PTM_METRIC_HISTOGRAM);
    uint32_t r = resource(src, "a");
    assert_int_equal(ptm_store_observe(src, m, r, 0, 0.5, 2, win(50, 100)), 0);
    assert_int_equal(ptm_store_observe(src, m, r, 0, 5, 1, win(50, 100)), 0);
    assert_int_equal(collect_merge(src, 120, dst, &CUMULATIVE, NULL), 0);
    assert_int_equal(ptm_store_observe(src, m, r, 0, 20, 1, win(150, 200)), 0);
    assert_int_equal(ptm_store_observe(src, m, r, 0, 0.2, 1, win(150, 200)), 0);
    assert_int_equal(collect_merge(src, 220, dst, &CUMULATIVE, NULL), 0);
    expect_histogram(dst, 5, (0.5 * 2 + 5.0) + 20.0 + 0.2, 0.2, 20, (const uint64_t[]){3, 1, 1}, 50, 200);
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// ---- ids, names, labels, conflicts ----

// The target already holds other strings, sets and a metric, so none of the
// source's ids mean the same there; two resources and two metrics (defined
// b then a) land under their own names, in the snapshot order (resources by
// attributes, metrics by name).
static void ids_are_reinterned(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t other = define(dst, "other", PTM_METRIC_COUNTER);
    assert_int_equal(ptm_store_add(dst, other, resource(dst, "zzz"), set1(dst, "q", "w"), 9, win(1, 2)), 0);
    uint32_t b = define(src, "b_metric", PTM_METRIC_COUNTER);
    uint32_t a = define(src, "a_metric", PTM_METRIC_COUNTER);
    uint32_t x = resource(src, "x"), y = resource(src, "y");
    uint32_t n7 = ptm_store_value(src, PTM_LABEL_INT, 0, 7, 0);
    uint32_t pair[2] = {str(src, "n"), n7};
    uint32_t with_int = ptm_store_attributes(src, pair, 1);
    assert_int_equal(ptm_store_add(src, b, y, with_int, 1, win(10, 20)), 0);
    assert_int_equal(ptm_store_add(src, a, y, 0, 2, win(10, 20)), 0);
    assert_int_equal(ptm_store_add(src, a, x, set1(src, "k", "v"), 3, win(10, 20)), 0);
    assert_int_equal(collect_merge(src, 30, dst, &DELTA, NULL), 0);
    expect_text(dst, 40,
                "a_metric{svc=x}[k=v] 3 10 20\n"
                "a_metric{svc=y}[] 2 10 20\n"
                "b_metric{svc=y}[n=7] 1 10 20\n"
                "other{svc=zzz}[q=w] 9 1 2\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// A prefix before every name; extra labels on every point (not on the
// resource), where the point's own "k" wins over the extra "k".
static void prefix_and_extra_labels(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "cpu_time", PTM_METRIC_COUNTER);
    assert_int_equal(ptm_store_add(src, m, resource(src, "a"), set1(src, "k", "v"), 1, win(10, 20)), 0);
    const char *keys[] = {"env", "k"}, *values[] = {"prod", "override"};
    struct ptm_merge_options opts = {.delta = true, .now_unix_nano = 5, .name_prefix = "ns_",
                                     .label_keys = keys, .label_values = values, .label_count = 2};
    assert_int_equal(collect_merge(src, 30, dst, &opts, NULL), 0);
    expect_text(dst, 40, "ns_cpu_time{svc=a}[env=prod,k=v] 1 10 20\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// dst has cpu_time as a gauge: the source's counter cpu_time cannot go
// there. The merge says so (naming it) and still merges mem.
static void conflicting_metric_is_skipped(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    define(dst, "cpu_time", PTM_METRIC_GAUGE);
    uint32_t cpu = define(src, "cpu_time", PTM_METRIC_COUNTER);
    uint32_t mem = define(src, "mem", PTM_METRIC_COUNTER);
    uint32_t r = resource(src, "a");
    assert_int_equal(ptm_store_add(src, cpu, r, 0, 1, win(10, 20)), 0);
    assert_int_equal(ptm_store_add(src, mem, r, 0, 2, win(10, 20)), 0);
    struct ptm_error err = {0};
    int rc = collect_merge(src, 30, dst, &DELTA, &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err.message, "cpu_time"));
    expect_text(dst, 40, "mem{svc=a}[] 2 10 20\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// With replace_changed (the Prometheus exporter after a reload that changed
// a rule): dst holds cpu_time as a gauge with series s=A (value 9); the
// source's counter cpu_time replaces the definition and A's series, and
// both of its points merge: B 1 and C 2 (cumulative: as they are).
static void changed_metric_is_replaced(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_CUMULATIVE);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t old = define(dst, "cpu_time", PTM_METRIC_GAUGE);
    assert_int_equal(ptm_store_add(dst, old, resource(dst, "a"), set1(dst, "s", "A"), 9, win(1, 2)), 0);
    uint32_t cpu = define(src, "cpu_time", PTM_METRIC_COUNTER);
    uint32_t r = resource(src, "a");
    assert_int_equal(ptm_store_add(src, cpu, r, set1(src, "s", "B"), 1, win(10, 20)), 0);
    assert_int_equal(ptm_store_add(src, cpu, r, set1(src, "s", "C"), 2, win(10, 20)), 0);
    struct ptm_merge_options opts = CUMULATIVE;
    opts.replace_changed = true;
    assert_int_equal(collect_merge(src, 30, dst, &opts, NULL), 0);
    assert_int_equal(ptm_store_metric(dst, old)->kind, PTM_METRIC_COUNTER);
    assert_int_equal(ptm_store_series_count(dst, old), 2);
    expect_text(dst, 40, "cpu_time{svc=a}[s=B] 1 10 20\ncpu_time{svc=a}[s=C] 2 10 20\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// ---- expiry and compaction ----

// Series A and B merged at 1000, then only A at 2000 (a delta source emits
// only what got data). Expiring what was merged before 1500 drops B alone.
// Compaction keeps A's value, start, time and merge time: expiring before
// 1500 drops nothing there, before 2500 drops A.
static void expiry_and_compaction(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "cpu_time", PTM_METRIC_COUNTER);
    uint32_t h = define(src, "latency", PTM_METRIC_HISTOGRAM);
    uint32_t r = resource(src, "a");
    uint32_t sa = set1(src, "s", "A"), sb = set1(src, "s", "B");
    assert_int_equal(ptm_store_add(src, m, r, sa, 1, win(10, 20)), 0);
    assert_int_equal(ptm_store_add(src, m, r, sb, 2, win(10, 20)), 0);
    assert_int_equal(ptm_store_observe(src, h, r, sa, 5, 3, win(10, 20)), 0);
    struct ptm_merge_options at1000 = {.delta = true, .now_unix_nano = 1000};
    struct ptm_merge_options at2000 = {.delta = true, .now_unix_nano = 2000};
    assert_int_equal(collect_merge(src, 30, dst, &at1000, NULL), 0);
    assert_int_equal(ptm_store_add(src, m, r, sa, 4, win(40, 50)), 0);
    assert_int_equal(ptm_store_observe(src, h, r, sa, 0.5, 1, win(40, 50)), 0);
    assert_int_equal(collect_merge(src, 60, dst, &at2000, NULL), 0);
    assert_int_equal(ptm_store_expire(dst, 0), 0);
    assert_int_equal(ptm_store_expire(dst, 1500), 1);
    // The histogram of A (3 x 5, then 1 x 0.5) stays: count 4, buckets [1,3,0].
    const char *want = "cpu_time{svc=a}[s=A] 5 10 50\nlatency{svc=a}[s=A] 0 10 50\n";
    expect_text(dst, 70, want);
    {
        struct ptm_store *compact = ptm_store_compact(dst);
        assert_non_null(compact);
        expect_text(compact, 70, want);
        struct ptm_snapshot snap;
        assert_int_equal(ptm_store_collect(compact, 80, &snap), 0);
        assert_int_equal(snap.len, 2);
        assert_int_equal(snap.points[1].count, 4);
        assert_int_equal(snap.points[1].bucket_counts[0], 1);
        assert_int_equal(snap.points[1].bucket_counts[1], 3);
        assert_int_equal(snap.points[1].bucket_counts[2], 0);
        ptm_snapshot_free(&snap);
        assert_int_equal(ptm_store_expire(compact, 1500), 0);
        assert_int_equal(ptm_store_expire(compact, 2500), 2);
        expect_text(compact, 90, "");
        ptm_store_destroy(compact);
    }
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// ---- carrying series over to a replacing store (a reload) ----

struct skips {
    char text[256];
};

static void note_skip(void *ctx, const char *metric, enum ptm_carry_skip why)
{
    static const char *const names[] = {"gone", "changed", "over-limit"};
    struct skips *k = ctx;
    size_t n = strlen(k->text);
    snprintf(k->text + n, sizeof k->text - n, "%s:%s ", metric, names[why]);
}

// src (cumulative): cpu_time gets 2 over [100,200] and is collected at 300
// (point 2 from 100 to 200, start now fixed); "old" gets 1; "mem" is a
// counter. dst (the new rules) defines cpu_time the same way, "mem" as a
// gauge and no "old": cpu_time's series is carried, the other two are
// reported. In dst, 1 more over [250,400] continues it: 3 from 100 to 400.
static void carry_over_continues_counters(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_CUMULATIVE);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t cpu = define(src, "cpu_time", PTM_METRIC_COUNTER);
    uint32_t old = define(src, "old", PTM_METRIC_COUNTER);
    uint32_t mem = define(src, "mem", PTM_METRIC_COUNTER);
    uint32_t r = resource(src, "a"), a = set1(src, "k", "v");
    assert_int_equal(ptm_store_add(src, cpu, r, a, 2, win(100, 200)), 0);
    assert_int_equal(ptm_store_add(src, old, r, a, 1, win(100, 200)), 0);
    assert_int_equal(ptm_store_add(src, mem, r, a, 5, win(100, 200)), 0);
    expect_text(src, 300, "cpu_time{svc=a}[k=v] 2 100 200\nmem{svc=a}[k=v] 5 100 200\nold{svc=a}[k=v] 1 100 200\n");
    uint32_t dcpu = define(dst, "cpu_time", PTM_METRIC_COUNTER);
    define(dst, "mem", PTM_METRIC_GAUGE);
    struct skips k = {{0}};
    assert_int_equal(ptm_store_carry_over(dst, src, note_skip, &k), 1);
    assert_string_equal(k.text, "old:gone mem:changed ");
    assert_int_equal(ptm_store_metric_count(dst), 2);
    assert_int_equal(ptm_store_series_count(dst, dcpu), 1);
    uint32_t dr = resource(dst, "a"), da = set1(dst, "k", "v");
    assert_int_equal(ptm_store_add(dst, dcpu, dr, da, 1, win(250, 400)), 0);
    expect_text(dst, 500, "cpu_time{svc=a}[k=v] 3 100 400\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
}

// Cumulative readings (delta temporality): src reads 10 over [100,200],
// collected at 300 (a first reading counts whole: 10 from 100 to 200).
// Carried, the next reading 15 over [300,400] in dst is a rise of 5 from the
// previous point's time 200, not a first reading of 15. Stores of different
// temporalities carry nothing.
static void carry_over_keeps_readings(void **state)
{
    (void)state;
    struct ptm_store *src = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *dst = new_store(PTM_TEMPORALITY_DELTA);
    struct ptm_store *other = new_store(PTM_TEMPORALITY_CUMULATIVE);
    uint32_t m = define(src, "alloc", PTM_METRIC_COUNTER);
    uint32_t r = resource(src, "a");
    assert_int_equal(ptm_store_set_cumulative(src, m, r, 0, 10, win(100, 200)), 0);
    expect_text(src, 300, "alloc{svc=a}[] 10 100 200\n");
    uint32_t dm = define(dst, "alloc", PTM_METRIC_COUNTER);
    define(other, "alloc", PTM_METRIC_COUNTER);
    assert_int_equal(ptm_store_carry_over(other, src, NULL, NULL), 0);
    assert_int_equal(ptm_store_carry_over(dst, src, NULL, NULL), 1);
    assert_int_equal(ptm_store_set_cumulative(dst, dm, resource(dst, "a"), 0, 15, win(300, 400)), 0);
    expect_text(dst, 500, "alloc{svc=a}[] 5 200 400\n");
    ptm_store_destroy(src);
    ptm_store_destroy(dst);
    ptm_store_destroy(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delta_counters_add_up),
        cmocka_unit_test(cumulative_counters_replace),
        cmocka_unit_test(gauges_take_last_value),
        cmocka_unit_test(delta_histograms_add_up),
        cmocka_unit_test(cumulative_histograms_replace),
        cmocka_unit_test(ids_are_reinterned),
        cmocka_unit_test(prefix_and_extra_labels),
        cmocka_unit_test(conflicting_metric_is_skipped),
        cmocka_unit_test(changed_metric_is_replaced),
        cmocka_unit_test(expiry_and_compaction),
        cmocka_unit_test(carry_over_continues_counters),
        cmocka_unit_test(carry_over_keeps_readings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
