// SPDX-License-Identifier: Apache-2.0
//
// The metric store (engine/metrics): interning and UTF-8 repair, attribute
// set order and first-wins, metric name rules, counters, gauges, cumulative
// readings and histograms over sequences of collects in both temporalities,
// with start and end times worked out by hand in each test's comment; the
// series limit and its overflow series; the snapshot order; the intern
// budget. Batches (ptm_store_add_batch) make the series that
// ptm_store_attributes and ptm_store_add make series by series.
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
#include "metrics/store_internal.h"
#include "util/error.h"

// ---- helpers ----

static struct ptm_store *new_store(enum ptm_temporality temporality, uint32_t limit)
{
    struct ptm_store_options opts = {temporality, limit};
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

static uint32_t text_value(struct ptm_store *s, const char *text)
{
    uint32_t id = ptm_store_value(s, PTM_LABEL_STRING, str(s, text), 0, 0);
    assert_int_not_equal(id, UINT32_MAX);
    return id;
}

// The attribute set {key: value} (string value).
static uint32_t set1(struct ptm_store *s, const char *key, const char *value)
{
    uint32_t pair[2] = {str(s, key), text_value(s, value)};
    return ptm_store_attributes(s, pair, 1);
}

static uint32_t resource(struct ptm_store *s, const char *service)
{
    return ptm_store_resource(s, set1(s, "service.name", service), 0);
}

static int define(struct ptm_store *s, const char *name, enum ptm_metric_kind kind, const char *unit)
{
    struct ptm_metric_def def = {name, NULL, unit, kind, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    struct ptm_error err;
    int id = ptm_store_define(s, &def, &err);
    assert_true(id >= 0);
    return id;
}

static struct ptm_window win(uint64_t start, uint64_t end)
{
    return (struct ptm_window){start, end};
}

struct expect_point {
    double value;
    uint64_t start, time;
};

// Collect at now and check the snapshot's points, in order.
static void collect_expect(struct ptm_store *s, uint64_t now, const struct expect_point *want, size_t n)
{
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(s, now, &snap), 0);
    assert_int_equal(snap.len, n);
    for (size_t i = 0; i < n; i++) {
        assert_true(snap.points[i].value == want[i].value);
        assert_int_equal(snap.points[i].start_unix_nano, want[i].start);
        assert_int_equal(snap.points[i].time_unix_nano, want[i].time);
    }
    ptm_snapshot_free(&snap);
}

static void assert_stored_bytes(struct ptm_store *s, uint32_t id, const char *bytes, size_t len)
{
    size_t got_len;
    const char *got = ptm_store_string_data(s, id, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, bytes, len);
    assert_int_equal(got[len], '\0');
}

// ---- interning ----

static void strings_are_interned_and_repaired(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    assert_int_equal(ptm_store_string(s, "", 0), 0);
    uint32_t abc = str(s, "abc");
    assert_int_equal(ptm_store_string(s, "abcdef", 3), abc);
    // A lone 0xff is not UTF-8: it becomes U+FFFD (ef bf bd).
    uint32_t bad = ptm_store_string(s, "a\xff", 2);
    assert_stored_bytes(s, bad, "a\xef\xbf\xbd", 4);
    // Another invalid byte repairs to the same bytes, so the same id.
    assert_int_equal(ptm_store_string(s, "a\xfe", 2), bad);
    // A truncated 3-byte sequence (one U+FFFD per byte that does not start
    // a well-formed sequence), and a NUL inside the string.
    assert_stored_bytes(s, ptm_store_string(s, "x\xe2\x82", 3), "x\xef\xbf\xbd\xef\xbf\xbd", 7);
    assert_stored_bytes(s, ptm_store_string(s, "a\0b", 3), "a\xef\xbf\xbd" "b", 5);
    // Valid multi-byte UTF-8 stays as it is.
    assert_stored_bytes(s, str(s, "h\xc3\xa9"), "h\xc3\xa9", 3);
    assert_null(ptm_store_string_data(s, 9999, NULL));
    ptm_store_destroy(s);
}

static void values_are_typed(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t i5 = ptm_store_value(s, PTM_LABEL_INT, 0, 5, 0);
    uint32_t d5 = ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, 5.0);
    uint32_t s5 = text_value(s, "5");
    assert_int_not_equal(i5, d5);
    assert_int_not_equal(i5, s5);
    assert_int_equal(ptm_store_value(s, PTM_LABEL_INT, 0, 5, 0), i5);
    // -0 and 0 are one value; any true bool is 1.
    assert_int_equal(ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, -0.0),
                     ptm_store_value(s, PTM_LABEL_DOUBLE, 0, 0, 0.0));
    assert_int_equal(ptm_store_value(s, PTM_LABEL_BOOL, 0, 7, 0), ptm_store_value(s, PTM_LABEL_BOOL, 0, 1, 0));
    enum ptm_label_type type;
    uint32_t sid;
    int64_t i;
    double d;
    ptm_store_value_get(s, d5, &type, &sid, &i, &d);
    assert_int_equal(type, PTM_LABEL_DOUBLE);
    assert_true(d == 5.0);
    ptm_store_value_get(s, s5, &type, &sid, &i, &d);
    assert_int_equal(type, PTM_LABEL_STRING);
    assert_int_equal(sid, str(s, "5"));
    // A string id the store never gave out.
    assert_int_equal(ptm_store_value(s, PTM_LABEL_STRING, 9999, 0, 0), UINT32_MAX);
    ptm_store_destroy(s);
}

static void attribute_sets_sorted_first_wins(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t b = str(s, "b"), a = str(s, "a"), ab = str(s, "a.b"), upper = str(s, "B");
    uint32_t v1 = text_value(s, "1"), v2 = text_value(s, "2"), v3 = text_value(s, "3");
    assert_int_equal(ptm_store_attributes(s, NULL, 0), 0);
    // b=1, a=2, b=3: "b" twice, the first (1) wins; sorted a, b.
    uint32_t given[6] = {b, v1, a, v2, b, v3};
    uint32_t set = ptm_store_attributes(s, given, 3);
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(s, set, &n);
    assert_int_equal(n, 2);
    uint32_t want[4] = {a, v2, b, v1};
    assert_memory_equal(pairs, want, sizeof want);
    // The same pairs in another order are the same set.
    uint32_t again[4] = {a, v2, b, v1};
    assert_int_equal(ptm_store_attributes(s, again, 2), set);
    // Key order is by bytes: "B" (0x42) < "a" < "a.b" (a prefix sorts first) < "b".
    uint32_t mixed[8] = {b, v1, ab, v1, a, v1, upper, v1};
    pairs = ptm_store_attribute_pairs(s, ptm_store_attributes(s, mixed, 4), &n);
    assert_int_equal(n, 4);
    assert_int_equal(pairs[0], upper);
    assert_int_equal(pairs[2], a);
    assert_int_equal(pairs[4], ab);
    assert_int_equal(pairs[6], b);
    // Unknown ids are refused; a failed interning upstream means overflow.
    uint32_t unknown[2] = {9999, v1};
    assert_int_equal(ptm_store_attributes(s, unknown, 1), UINT32_MAX);
    uint32_t failed[2] = {a, UINT32_MAX};
    assert_int_equal(ptm_store_attributes(s, failed, 1), ptm_store_overflow_attributes(s));
    ptm_store_destroy(s);
}

// ---- definitions ----

static void metric_names_are_checked(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    struct ptm_error err;
    struct ptm_metric_def def = {NULL, NULL, "s", PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    static const char *const good[] = {"a", "process.cpu.time", "A/b-c_d.9"};
    for (size_t i = 0; i < 3; i++) {
        def.name = good[i];
        assert_int_equal(ptm_store_define(s, &def, &err), (int)i);
    }
    def.name = "9lives";
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL);
    assert_string_equal(err.message, "metric name \"9lives\": must start with an ASCII letter");
    def.name = "_x";
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL);
    def.name = "cpu time";
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL);
    assert_string_equal(err.message, "metric name \"cpu time\": character ' ' at 3 is not allowed "
                                     "(letters, digits, '_', '.', '-', '/')");
    def.name = "caf\xc3\xa9";
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL);
    assert_string_equal(err.message, "metric name: byte 0xc3 at 3 is not allowed "
                                     "(letters, digits, '_', '.', '-', '/')");
    def.name = "";
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL);
    char name[257];
    memset(name, 'a', 256);
    name[256] = '\0';
    def.name = name;
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL); // 256 characters
    name[255] = '\0';
    assert_int_equal(ptm_store_define(s, &def, &err), 3); // 255 are fine
    assert_int_equal(ptm_store_metric_count(s), 4);
    ptm_store_destroy(s);
}

static void redefinition_must_agree(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    struct ptm_error err;
    struct ptm_metric_def def = {"cpu", "first", "s", PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    assert_int_equal(ptm_store_define(s, &def, &err), 0);
    def.description = "another description is fine";
    assert_int_equal(ptm_store_define(s, &def, &err), 0);
    assert_string_equal(ptm_store_metric(s, 0)->description, "first");
    def.kind = PTM_METRIC_GAUGE;
    def.unit = "By";
    def.value_type = PTM_NUMBER_INT;
    assert_int_equal(ptm_store_define(s, &def, &err), PTM_EINVAL);
    assert_string_equal(err.message, "metric \"cpu\" defined twice: as a counter in \"s\" with double "
                                     "values, and as a gauge in \"By\" with int values");
    // A NULL unit is the empty unit.
    struct ptm_metric_def bare = {"bare", NULL, NULL, PTM_METRIC_GAUGE, PTM_NUMBER_DOUBLE, NULL, 0, 0};
    assert_int_equal(ptm_store_define(s, &bare, &err), 1);
    bare.unit = "";
    assert_int_equal(ptm_store_define(s, &bare, &err), 1);
    assert_string_equal(ptm_store_metric(s, 1)->unit, "");
    // Histograms: strictly increasing finite bounds, the same ones each time.
    double bounds[3] = {1, 2, 2};
    struct ptm_metric_def h = {"h", NULL, "s", PTM_METRIC_HISTOGRAM, PTM_NUMBER_DOUBLE, bounds, 3, 0};
    assert_int_equal(ptm_store_define(s, &h, &err), PTM_EINVAL);
    assert_string_equal(err.message, "metric \"h\": histogram bound 2 (2) is not above bound 1 (2)");
    bounds[2] = 3;
    assert_int_equal(ptm_store_define(s, &h, &err), 2);
    h.n_bounds = 2;
    assert_int_equal(ptm_store_define(s, &h, &err), PTM_EINVAL);
    bounds[1] = NAN;
    h.n_bounds = 3;
    h.name = "h2";
    assert_int_equal(ptm_store_define(s, &h, &err), PTM_EINVAL);
    ptm_store_destroy(s);
}

// ---- counters ----

// add 2 over [100,110], add 3 over [110,120]; collect: 5 over [100,120].
// add 1 over [120,130]; collect: 6 over [100,130]. Nothing new; collect:
// the same point again (cumulative points are always emitted).
static void counter_cumulative_sequence(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t m = (uint32_t)define(s, "cpu", PTM_METRIC_COUNTER, "s"), r = resource(s, "svc");
    assert_int_equal(ptm_store_add(s, m, r, 0, 2, win(100, 110)), 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, 3, win(110, 120)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{5, 100, 120}}, 1);
    assert_int_equal(ptm_store_add(s, m, r, 0, 1, win(120, 130)), 0);
    collect_expect(s, 2000, (struct expect_point[]){{6, 100, 130}}, 1);
    collect_expect(s, 3000, (struct expect_point[]){{6, 100, 130}}, 1);
    ptm_store_destroy(s);
}

// The same adds with delta: 5 over [100,120]; then 1 over [120,130] (start
// = the previous point's time); then nothing (the idle series is dropped);
// then 4 over [200,210]: a new series, starting at its window's start.
static void counter_delta_sequence(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_DELTA, 0);
    uint32_t m = (uint32_t)define(s, "cpu", PTM_METRIC_COUNTER, "s"), r = resource(s, "svc");
    assert_int_equal(ptm_store_add(s, m, r, 0, 2, win(100, 110)), 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, 3, win(110, 120)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{5, 100, 120}}, 1);
    assert_int_equal(ptm_store_add(s, m, r, 0, 1, win(120, 130)), 0);
    collect_expect(s, 2000, (struct expect_point[]){{1, 120, 130}}, 1);
    assert_int_equal(ptm_store_series_count(s, m), 1);
    collect_expect(s, 3000, NULL, 0);
    assert_int_equal(ptm_store_series_count(s, m), 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, 4, win(200, 210)), 0);
    collect_expect(s, 4000, (struct expect_point[]){{4, 200, 210}}, 1);
    ptm_store_destroy(s);
}

// Windows out of order: [200,210] then [150,160] before the first collect:
// start 150 (the earliest), time 210 (the latest). Unknown windows take the
// collection time: delta add 1 at now 500 -> [500,500], add 2 at 600 ->
// [500,600]. A window known only by its end starts there.
static void counter_times(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_DELTA, 0);
    uint32_t m = (uint32_t)define(s, "cpu", PTM_METRIC_COUNTER, "s"), r = resource(s, "svc");
    assert_int_equal(ptm_store_add(s, m, r, 0, 1, win(200, 210)), 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, 1, win(150, 160)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{2, 150, 210}}, 1);
    collect_expect(s, 1100, NULL, 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, 1, win(0, 0)), 0);
    collect_expect(s, 500, (struct expect_point[]){{1, 500, 500}}, 1);
    assert_int_equal(ptm_store_add(s, m, r, 0, 2, win(0, 0)), 0);
    collect_expect(s, 600, (struct expect_point[]){{2, 500, 600}}, 1);
    assert_int_equal(ptm_store_add(s, m, r, 0, 3, win(0, 700)), 0);
    collect_expect(s, 900, (struct expect_point[]){{3, 600, 700}}, 1);
    ptm_store_destroy(s);
}

// ---- gauges ----

// Cumulative: set 5 over [100,110] -> emitted at every collect; set 7 with
// no window -> time = now, no start. Delta: emitted only after a set.
static void gauge_sequences(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t m = (uint32_t)define(s, "mem", PTM_METRIC_GAUGE, "By"), r = resource(s, "svc");
    assert_int_equal(ptm_store_add(s, m, r, 0, 5, win(100, 110)), 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, -3, win(100, 110)), 0); // gauges may go down
    assert_int_equal(ptm_store_add(s, m, r, 0, 5, win(100, 110)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{5, 100, 110}}, 1);
    collect_expect(s, 2000, (struct expect_point[]){{5, 100, 110}}, 1);
    assert_int_equal(ptm_store_add(s, m, r, 0, 7, win(0, 0)), 0);
    collect_expect(s, 3000, (struct expect_point[]){{7, 0, 3000}}, 1);
    collect_expect(s, 4000, (struct expect_point[]){{7, 0, 4000}}, 1);
    ptm_store_destroy(s);

    s = new_store(PTM_TEMPORALITY_DELTA, 0);
    m = (uint32_t)define(s, "mem", PTM_METRIC_GAUGE, "By");
    r = resource(s, "svc");
    assert_int_equal(ptm_store_add(s, m, r, 0, 5, win(100, 110)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{5, 100, 110}}, 1);
    collect_expect(s, 2000, NULL, 0);
    assert_int_equal(ptm_store_add(s, m, r, 0, 6, win(120, 130)), 0);
    collect_expect(s, 3000, (struct expect_point[]){{6, 120, 130}}, 1);
    ptm_store_destroy(s);
}

// ---- cumulative readings ----

// Cumulative: readings 10 over [100,110], 15 over [110,120] -> 15 over
// [100,120]. Reading 4 over [130,140] is below 15: a restart -> 4 over
// [130,140].
static void readings_cumulative_restart(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t m = (uint32_t)define(s, "alloc", PTM_METRIC_COUNTER, "By"), r = resource(s, "svc");
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 10, win(100, 110)), 0);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 15, win(110, 120)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{15, 100, 120}}, 1);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 4, win(130, 140)), 0);
    collect_expect(s, 2000, (struct expect_point[]){{4, 130, 140}}, 1);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 9, win(140, 150)), 0);
    collect_expect(s, 3000, (struct expect_point[]){{9, 130, 150}}, 1);
    // One series, one way of feeding it.
    assert_int_equal(ptm_store_add(s, m, r, 0, 1, win(150, 160)), PTM_EINVAL);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, -1, win(150, 160)), PTM_EINVAL);
    ptm_store_destroy(s);
}

// Delta: 10 over [100,110] (the first reading counts whole); 15 -> 5 over
// [110,120]; 4 (a restart) -> 4 over [120,140]; an idle collect emits
// nothing but keeps the baseline; 6 over [150,160] -> 2 over [140,160].
static void readings_delta(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_DELTA, 0);
    uint32_t m = (uint32_t)define(s, "alloc", PTM_METRIC_COUNTER, "By"), r = resource(s, "svc");
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 10, win(100, 110)), 0);
    collect_expect(s, 1000, (struct expect_point[]){{10, 100, 110}}, 1);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 15, win(110, 120)), 0);
    collect_expect(s, 2000, (struct expect_point[]){{5, 110, 120}}, 1);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 4, win(130, 140)), 0);
    collect_expect(s, 3000, (struct expect_point[]){{4, 120, 140}}, 1);
    collect_expect(s, 4000, NULL, 0);
    assert_int_equal(ptm_store_series_count(s, m), 1);
    assert_int_equal(ptm_store_set_cumulative(s, m, r, 0, 6, win(150, 160)), 0);
    collect_expect(s, 5000, (struct expect_point[]){{2, 140, 160}}, 1);
    ptm_store_destroy(s);
}

// ---- histograms ----

// Bounds 1, 10, 100; bucket i is (b[i-1], b[i]]. Observations: 1 -> 0
// (upper bound included), 1.0000001 -> 1, 10 -> 1, 100 -> 2, 100.5 -> 3,
// -5 -> 0, 0.5 three times -> 0. Buckets 5, 2, 1, 1; count 9; sum
// 1 + 1.0000001 + 10 + 100 + 100.5 - 5 + 1.5; min -5; max 100.5.
static void histogram_buckets_at_bounds(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_DELTA, 0);
    static const double bounds[] = {1, 10, 100};
    struct ptm_metric_def def = {"lat", NULL, "s", PTM_METRIC_HISTOGRAM, PTM_NUMBER_DOUBLE, bounds, 3, 0};
    struct ptm_error err;
    uint32_t m = (uint32_t)ptm_store_define(s, &def, &err), r = resource(s, "svc");
    static const double values[] = {1, 1.0000001, 10, 100, 100.5, -5};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(ptm_store_observe(s, m, r, 0, values[i], 1, win(100, 110)), 0);
    assert_int_equal(ptm_store_observe(s, m, r, 0, 0.5, 3, win(110, 120)), 0);
    assert_int_equal(ptm_store_observe(s, m, r, 0, 7, 0, win(110, 120)), 0); // no-op
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(s, 1000, &snap), 0);
    assert_int_equal(snap.len, 1);
    const struct ptm_point *p = &snap.points[0];
    static const uint64_t want[4] = {5, 2, 1, 1};
    assert_memory_equal(p->bucket_counts, want, sizeof want);
    assert_int_equal(p->count, 9);
    assert_true(p->sum == 1 + 1.0000001 + 10 + 100 + 100.5 - 5 + 1.5);
    assert_true(p->min == -5);
    assert_true(p->max == 100.5);
    assert_int_equal(p->start_unix_nano, 100);
    assert_int_equal(p->time_unix_nano, 120);
    ptm_snapshot_free(&snap);
    // Delta: the next interval starts empty.
    assert_int_equal(ptm_store_observe(s, m, r, 0, 50, 2, win(120, 130)), 0);
    assert_int_equal(ptm_store_collect(s, 2000, &snap), 0);
    assert_int_equal(snap.len, 1);
    static const uint64_t next[4] = {0, 0, 2, 0};
    assert_memory_equal(snap.points[0].bucket_counts, next, sizeof next);
    assert_int_equal(snap.points[0].count, 2);
    assert_true(snap.points[0].sum == 100);
    assert_true(snap.points[0].min == 50 && snap.points[0].max == 50);
    assert_int_equal(snap.points[0].start_unix_nano, 120);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

// ---- limits ----

// Limit 3: series k=v1..v3 are kept; v4 and v5 go to the overflow series
// {otel.metric.overflow: true} of the resource (1 + 2 + 3 then 4 + 5); a
// known series still takes data; a new series of another resource goes to
// that resource's overflow series.
static void overflow_at_limit(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    struct ptm_metric_def def = {"cpu", NULL, "s", PTM_METRIC_COUNTER, PTM_NUMBER_DOUBLE, NULL, 0, 3};
    struct ptm_error err;
    uint32_t m = (uint32_t)ptm_store_define(s, &def, &err);
    uint32_t r1 = resource(s, "a"), r2 = resource(s, "b");
    static const char *const values[] = {"v1", "v2", "v3", "v4", "v5"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(ptm_store_add(s, m, r1, set1(s, "k", values[i]), (double)(i + 1), win(100, 110)), 0);
    assert_int_equal(ptm_store_series_count(s, m), 3);
    assert_int_equal(ptm_store_overflowed(s, m), 2);
    assert_int_equal(ptm_store_add(s, m, r1, set1(s, "k", "v1"), 10, win(110, 120)), 0);
    assert_int_equal(ptm_store_add(s, m, r2, set1(s, "k", "v9"), 7, win(110, 120)), 0);
    assert_int_equal(ptm_store_overflowed(s, m), 3);
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(s, 1000, &snap), 0);
    assert_int_equal(snap.len, 5);
    static const double want[5] = {11, 2, 3, 9, 7}; // r1: v1 v2 v3 overflow; r2: overflow
    uint32_t overflow = ptm_store_overflow_attributes(s);
    for (size_t i = 0; i < 5; i++)
        assert_true(snap.points[i].value == want[i]);
    assert_int_equal(snap.points[3].attributes, overflow);
    assert_int_equal(snap.points[4].attributes, overflow);
    assert_int_equal(snap.points[4].resource, r2);
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(s, overflow, &n);
    assert_int_equal(n, 1);
    assert_stored_bytes(s, pairs[0], "otel.metric.overflow", 20);
    enum ptm_label_type type;
    int64_t flag;
    ptm_store_value_get(s, pairs[1], &type, NULL, &flag, NULL);
    assert_int_equal(type, PTM_LABEL_BOOL);
    assert_int_equal(flag, 1);
    ptm_snapshot_free(&snap);
    ptm_store_destroy(s);
}

// Past the intern budget, new strings fail and sets made of them overflow;
// what was interned before keeps working.
static void intern_budget(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t m = (uint32_t)define(s, "cpu", PTM_METRIC_COUNTER, "s"), r = resource(s, "svc");
    uint32_t known = set1(s, "k", "known");
    ptm_store_set_intern_limit(s, 1);
    assert_int_equal(ptm_store_string(s, "new", 3), UINT32_MAX);
    uint32_t pair[2] = {str(s, "k"), ptm_store_value(s, PTM_LABEL_STRING, UINT32_MAX, 0, 0)};
    assert_int_equal(pair[1], UINT32_MAX);
    uint32_t set = ptm_store_attributes(s, pair, 1);
    assert_int_equal(set, ptm_store_overflow_attributes(s));
    assert_int_equal(ptm_store_add(s, m, r, set, 1, win(1, 2)), 0);
    assert_int_equal(ptm_store_add(s, m, r, known, 2, win(1, 2)), 0);
    assert_int_equal(ptm_store_series_count(s, m), 1);
    assert_int_equal(ptm_store_overflowed(s, m), 1);
    ptm_store_destroy(s);
}

// ---- errors and order ----

static void bad_contributions_are_refused(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t c = (uint32_t)define(s, "c", PTM_METRIC_COUNTER, "s");
    static const double bounds[] = {1};
    struct ptm_metric_def def = {"h", NULL, "s", PTM_METRIC_HISTOGRAM, PTM_NUMBER_DOUBLE, bounds, 1, 0};
    struct ptm_error err;
    uint32_t h = (uint32_t)ptm_store_define(s, &def, &err), r = resource(s, "svc");
    assert_int_equal(ptm_store_add(s, c, r, 0, -1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, c, r, 0, NAN, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, c, r, 0, INFINITY, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, h, r, 0, 1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_observe(s, c, r, 0, 1, 1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_observe(s, h, r, 0, NAN, 1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, 99, r, 0, 1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, c, 99, 0, 1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, c, r, 9999, 1, win(1, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, c, r, 0, 1, win(3, 2)), PTM_EINVAL);
    assert_int_equal(ptm_store_add(s, c, r, 0, 1e308, win(1, 2)), 0);
    assert_int_equal(ptm_store_add(s, c, r, 0, 1e308, win(1, 2)), PTM_ELIMIT);
    // Nothing refused made a series.
    assert_int_equal(ptm_store_series_count(s, h), 0);
    assert_int_equal(ptm_store_series_count(s, c), 1);
    ptm_store_destroy(s);
}

// Resources by attributes (svc=a before svc=b, whatever the interning
// order), metrics by name ("a.x" before "b"), points by attributes.
static void snapshot_order(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    uint32_t mb = (uint32_t)define(s, "b", PTM_METRIC_COUNTER, "s");
    uint32_t ma = (uint32_t)define(s, "a.x", PTM_METRIC_COUNTER, "s");
    uint32_t rb = resource(s, "b"), ra = resource(s, "a");
    uint32_t t2 = set1(s, "t", "2"), t1 = set1(s, "t", "1");
    struct ptm_window w = win(1, 2);
    assert_int_equal(ptm_store_add(s, mb, rb, t2, 1, w), 0);
    assert_int_equal(ptm_store_add(s, mb, rb, t1, 2, w), 0);
    assert_int_equal(ptm_store_add(s, ma, rb, 0, 3, w), 0);
    assert_int_equal(ptm_store_add(s, mb, ra, t1, 4, w), 0);
    assert_int_equal(ptm_store_add(s, ma, ra, t2, 5, w), 0);
    assert_int_equal(ptm_store_add(s, ma, ra, 0, 6, w), 0);
    // ra: a.x {} 6, a.x {t=2} 5, b {t=1} 4; rb: a.x {} 3, b {t=1} 2, b {t=2} 1
    collect_expect(s, 10,
                   (struct expect_point[]){{6, 1, 2}, {5, 1, 2}, {4, 1, 2}, {3, 1, 2}, {2, 1, 2}, {1, 1, 2}},
                   6);
    ptm_store_destroy(s);
}

// ---- batches ----

// A batch's store: a counter "f" (series limit limit, 0: the default) on
// the resource {service.name: svc}, series differing in "function".
struct batch_fixture {
    struct ptm_store *s;
    uint32_t metric;
    struct ptm_store_batch b;
};

static struct batch_fixture batch_fixture(uint32_t limit)
{
    struct batch_fixture f;
    f.s = new_store(PTM_TEMPORALITY_CUMULATIVE, limit);
    f.metric = (uint32_t)define(f.s, "f", PTM_METRIC_COUNTER, "s");
    f.b = (struct ptm_store_batch){f.metric, resource(f.s, "svc"), {0, 0}, 1, false, NULL, 0, str(f.s, "function")};
    return f;
}

// The set {k1: v1, k2: v2} as ptm_store_attributes makes it.
static uint32_t set2(struct ptm_store *s, const char *k1, const char *v1, const char *k2, const char *v2)
{
    uint32_t pairs[4] = {str(s, k1), text_value(s, v1), str(s, k2), text_value(s, v2)};
    return ptm_store_attributes(s, pairs, 2);
}

struct want_series {
    uint32_t attributes;
    double value;
};

// Collect and check metric's points (attributes, value), in order.
static void collect_series(struct ptm_store *s, uint32_t metric, const struct want_series *want, size_t n)
{
    struct ptm_snapshot snap;
    assert_int_equal(ptm_store_collect(s, 1000, &snap), 0);
    size_t got = 0;
    for (size_t i = 0; i < snap.len; i++) {
        if (snap.points[i].metric != metric)
            continue;
        assert_true(got < n);
        assert_int_equal(snap.points[i].attributes, want[got].attributes);
        assert_true(snap.points[i].value == want[got].value);
        got++;
    }
    assert_int_equal(got, n);
    ptm_snapshot_free(&snap);
}

// One profile's sums by function: {process: a, function: ...}, sums x 0.5;
// a zero sum makes no series; a series without a function gets the set
// {process: a}; past the limit of 3 series, the overflow series.
static void batch_adds_as_series_by_series(void **state)
{
    (void)state;
    struct batch_fixture f = batch_fixture(3);
    struct ptm_store *s = f.s;
    uint32_t consts[2] = {str(s, "process"), text_value(s, "a")};
    f.b.consts = consts, f.b.n_consts = 1, f.b.scale = 0.5;
    // g (4), h (0: none), the process alone (6), e (2), k (8: the 4th, overflow)
    uint32_t values[5] = {text_value(s, "g"), text_value(s, "h"), PTM_STORE_NO_PAIR, text_value(s, "e"),
                          text_value(s, "k")};
    double sums[5] = {4, 0, 6, 2, 8};
    assert_int_equal(ptm_store_add_batch(s, &f.b, values, sums, 5), 0);
    assert_int_equal(ptm_store_series_count(s, f.metric), 3);
    assert_int_equal(ptm_store_overflowed(s, f.metric), 1);
    // in the order of the sets' first keys: "function" < "otel.metric.overflow" < "process"
    struct want_series want[4] = {
        {set2(s, "function", "e", "process", "a"), 1},
        {set2(s, "function", "g", "process", "a"), 2},
        {ptm_store_overflow_attributes(s), 4},
        {set1(s, "process", "a"), 3},
    };
    collect_series(s, f.metric, want, 4);
    ptm_store_destroy(s);
}

// The pair that differs has the key of a shared pair: the shared one wins,
// as in ptm_store_attributes, and every series is the shared set.
static void batch_shared_key_wins(void **state)
{
    (void)state;
    struct batch_fixture f = batch_fixture(0);
    uint32_t consts[2] = {str(f.s, "function"), text_value(f.s, "main")};
    f.b.consts = consts, f.b.n_consts = 1;
    uint32_t values[2] = {text_value(f.s, "g"), text_value(f.s, "h")};
    double sums[2] = {1, 2};
    assert_int_equal(ptm_store_add_batch(f.s, &f.b, values, sums, 2), 0);
    collect_series(f.s, f.metric, (struct want_series[]){{set1(f.s, "function", "main"), 3}}, 1);
    ptm_store_destroy(f.s);
}

// Ids the store refuses: a value that could not be interned (UINT32_MAX)
// goes to the overflow series; one never handed out is PTM_ENOMEM, the
// first failure, returned after the others were added; a shared pair that
// could not be interned sends every series to the overflow series.
static void batch_refused_ids(void **state)
{
    (void)state;
    struct batch_fixture f = batch_fixture(0);
    struct ptm_store *s = f.s;
    uint32_t consts[2] = {str(s, "process"), text_value(s, "a")};
    f.b.consts = consts, f.b.n_consts = 1;
    uint32_t values[4] = {UINT32_MAX, 999999, text_value(s, "g"), 999998};
    double sums[4] = {1, 2, 4, 8};
    assert_int_equal(ptm_store_add_batch(s, &f.b, values, sums, 4), PTM_ENOMEM);
    struct want_series want[2] = {{set2(s, "function", "g", "process", "a"), 4}, {ptm_store_overflow_attributes(s), 1}};
    collect_series(s, f.metric, want, 2);
    consts[1] = UINT32_MAX;
    uint32_t more[2] = {text_value(s, "g"), PTM_STORE_NO_PAIR};
    double more_sums[2] = {16, 32};
    assert_int_equal(ptm_store_add_batch(s, &f.b, more, more_sums, 2), 0);
    want[1].value = 1 + 16 + 32;
    collect_series(s, f.metric, want, 2);
    ptm_store_destroy(s);
}

// Cumulative readings: a zero is a reading too (a series at 0), and each
// reading x 2 sets its series: g 0 then 6, h 10 then 14.
static void batch_readings(void **state)
{
    (void)state;
    struct batch_fixture f = batch_fixture(0);
    f.b.cumulative = true, f.b.scale = 2, f.b.window = (struct ptm_window){0, 100};
    uint32_t values[2] = {text_value(f.s, "g"), text_value(f.s, "h")};
    double first[2] = {0, 5}, second[2] = {3, 7};
    assert_int_equal(ptm_store_add_batch(f.s, &f.b, values, first, 2), 0);
    assert_int_equal(ptm_store_series_count(f.s, f.metric), 2);
    f.b.window = (struct ptm_window){0, 200};
    assert_int_equal(ptm_store_add_batch(f.s, &f.b, values, second, 2), 0);
    struct want_series want[2] = {{set1(f.s, "function", "g"), 6}, {set1(f.s, "function", "h"), 14}};
    collect_series(f.s, f.metric, want, 2);
    ptm_store_destroy(f.s);
}

// More series than one round of look-ups (16): functions f00..f39 with
// sums 1..40 and a limit of 30: f00..f29 get series, f30..f39 the overflow
// series (31 + ... + 40 = 355).
static void batch_many_rounds(void **state)
{
    (void)state;
    struct batch_fixture f = batch_fixture(30);
    uint32_t values[40];
    double sums[40];
    struct want_series want[31];
    char name[8];
    for (uint32_t i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "f%02u", i);
        values[i] = text_value(f.s, name);
        sums[i] = i + 1;
    }
    assert_int_equal(ptm_store_add_batch(f.s, &f.b, values, sums, 40), 0);
    for (uint32_t i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "f%02u", i);
        want[i] = (struct want_series){set1(f.s, "function", name), i + 1};
    }
    want[30] = (struct want_series){ptm_store_overflow_attributes(f.s), 355};
    collect_series(f.s, f.metric, want, 31);
    ptm_store_destroy(f.s);
}

// Past the series limit (3), a batch's new sets are not interned: their data
// goes to the overflow series (16 + 32), and the store holds no more sets
// than before. A set interned already (by another metric's series) but
// without a series of this metric goes there too.
static void batch_past_the_limit_interns_no_set(void **state)
{
    (void)state;
    struct batch_fixture f = batch_fixture(3);
    struct ptm_store *s = f.s;
    uint32_t values[3] = {text_value(s, "a"), text_value(s, "b"), text_value(s, "c")};
    double sums[3] = {1, 2, 4};
    assert_int_equal(ptm_store_add_batch(s, &f.b, values, sums, 3), 0);
    assert_int_equal(ptm_store_series_count(s, f.metric), 3);
    uint32_t other = (uint32_t)define(s, "other", PTM_METRIC_COUNTER, "s");
    uint32_t e = set1(s, "function", "e");
    assert_int_equal(ptm_store_add(s, other, f.b.resource, e, 1, f.b.window), 0);
    uint32_t sets = s->sets.len;
    uint32_t more[3] = {text_value(s, "d"), text_value(s, "e"), text_value(s, "a")};
    double more_sums[3] = {16, 32, 64};
    assert_int_equal(ptm_store_add_batch(s, &f.b, more, more_sums, 3), 0);
    assert_int_equal(s->sets.len, sets);
    assert_int_equal(ptm_store_overflowed(s, f.metric), 2);
    struct want_series want[4] = {
        {set1(s, "function", "a"), 1 + 64},
        {set1(s, "function", "b"), 2},
        {set1(s, "function", "c"), 4},
        {ptm_store_overflow_attributes(s), 16 + 32},
    };
    collect_series(s, f.metric, want, 4);
    ptm_store_destroy(s);
}

// Strings as values, many at once: the value of each as one by one makes
// it; the same string twice is one value; a string with a bad byte or a NUL
// is repaired first (both as "x\xef\xbf\xbdy"); NULL of length 0 is "",
// NULL of another length fails; more than one round (16) of them.
static void string_values_as_one_by_one(void **state)
{
    (void)state;
    struct ptm_store *s = new_store(PTM_TEMPORALITY_CUMULATIVE, 0);
    enum { N = 24 };
    const char *ptrs[N] = {"main", "x\xffy", "main", "x\0y", NULL, NULL};
    uint32_t lens[N] = {4, 3, 4, 3, 0, 5};
    char names[N][8];
    for (uint32_t i = 6; i < N; i++) {
        snprintf(names[i], sizeof names[i], "fn%u", i);
        ptrs[i] = names[i], lens[i] = (uint32_t)strlen(names[i]);
    }
    uint32_t values[N];
    ptm_store_string_values(s, ptrs, lens, N, values);
    assert_int_equal(values[0], text_value(s, "main"));
    assert_int_equal(values[2], values[0]);
    assert_int_equal(values[1], text_value(s, "x\xef\xbf\xbdy"));
    assert_int_equal(values[3], values[1]);
    assert_int_equal(values[4], text_value(s, ""));
    assert_int_equal(values[5], UINT32_MAX);
    for (uint32_t i = 6; i < N; i++)
        assert_int_equal(values[i], text_value(s, names[i]));
    ptm_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_are_interned_and_repaired),
        cmocka_unit_test(values_are_typed),
        cmocka_unit_test(attribute_sets_sorted_first_wins),
        cmocka_unit_test(metric_names_are_checked),
        cmocka_unit_test(redefinition_must_agree),
        cmocka_unit_test(counter_cumulative_sequence),
        cmocka_unit_test(counter_delta_sequence),
        cmocka_unit_test(counter_times),
        cmocka_unit_test(gauge_sequences),
        cmocka_unit_test(readings_cumulative_restart),
        cmocka_unit_test(readings_delta),
        cmocka_unit_test(histogram_buckets_at_bounds),
        cmocka_unit_test(overflow_at_limit),
        cmocka_unit_test(intern_budget),
        cmocka_unit_test(bad_contributions_are_refused),
        cmocka_unit_test(snapshot_order),
        cmocka_unit_test(batch_adds_as_series_by_series),
        cmocka_unit_test(batch_shared_key_wins),
        cmocka_unit_test(batch_refused_ids),
        cmocka_unit_test(batch_readings),
        cmocka_unit_test(batch_many_rounds),
        cmocka_unit_test(batch_past_the_limit_interns_no_set),
        cmocka_unit_test(string_values_as_one_by_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
