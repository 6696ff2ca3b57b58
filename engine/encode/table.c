// SPDX-License-Identifier: Apache-2.0
//
// A table for people: per resource a header line with its attributes, then
// one row per point in aligned columns: metric, attributes, value, unit,
// kind, and the interval start..end in UTC. Widths count UTF-8 characters,
// not bytes, so names in any script line up.
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "encode/encode_internal.h"
#include "util/arena.h"

#define COLUMNS 6

static const char *const headers[COLUMNS] = {"METRIC", "ATTRIBUTES", "VALUE", "UNIT", "KIND", "TIME"};

struct cells {
    struct ptm_arena *arena;
    struct ptm_strbuf cell; // the cell being written
};

static size_t display_width(const char *s)
{
    size_t width = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        width += (*p & 0xc0) != 0x80; // count the first byte of each character
    return width;
}

static void put_attributes(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t set)
{
    uint32_t n;
    const uint32_t *pairs = ptm_store_attribute_pairs(store, set, &n);
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *key = ptm_store_string_data(store, pairs[2 * i], &len);
        if (i > 0)
            ptm_strbuf_puts(out, ", ");
        ptm_strbuf_append(out, key, len);
        ptm_strbuf_putc(out, '=');
        ptm_put_value_text(out, store, pairs[2 * i + 1]);
    }
}

// Ten significant digits: enough for a person, without the last-bit noise of
// a sum of doubles (0.43000000000000005). Machine formats print every digit.
static void put_number(struct ptm_strbuf *out, double value)
{
    ptm_strbuf_printf(out, "%.10g", value);
}

// A histogram: count, sum, min, max, then each bucket as <=bound:count.
static void put_histogram(struct ptm_strbuf *out, const struct ptm_metric_def *def,
                          const struct ptm_point *p)
{
    ptm_strbuf_printf(out, "count=%" PRIu64 " sum=", p->count);
    put_number(out, p->sum);
    ptm_strbuf_puts(out, " min=");
    put_number(out, p->min);
    ptm_strbuf_puts(out, " max=");
    put_number(out, p->max);
    ptm_strbuf_puts(out, " |");
    for (uint32_t i = 0; i <= def->n_bounds; i++) {
        if (i < def->n_bounds) {
            ptm_strbuf_puts(out, " <=");
            put_number(out, def->bounds[i]);
        } else {
            ptm_strbuf_puts(out, " +Inf");
        }
        ptm_strbuf_printf(out, ":%" PRIu64, p->bucket_counts[i]);
    }
}

static void put_value(struct ptm_strbuf *out, const struct ptm_metric_def *def, const struct ptm_point *p)
{
    if (def->kind == PTM_METRIC_HISTOGRAM)
        put_histogram(out, def, p);
    else if (def->value_type == PTM_NUMBER_INT)
        ptm_strbuf_printf(out, "%" PRId64, ptm_point_int(p->value));
    else
        put_number(out, p->value);
}

// RFC 3339 in UTC, with milliseconds when there are any.
static void put_time(struct ptm_strbuf *out, uint64_t unix_nano)
{
    time_t seconds = (time_t)(unix_nano / 1000000000u);
    unsigned millis = (unsigned)(unix_nano % 1000000000u / 1000000u);
    struct tm tm;
    char buf[64];
    if (gmtime_r(&seconds, &tm) == NULL || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        ptm_strbuf_printf(out, "%" PRIu64, unix_nano);
        return;
    }
    ptm_strbuf_puts(out, buf);
    if (millis != 0)
        ptm_strbuf_printf(out, ".%03u", millis);
    ptm_strbuf_putc(out, 'Z');
}

static void put_kind(struct ptm_strbuf *out, const struct ptm_snapshot *snapshot,
                     const struct ptm_metric_def *def)
{
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    ptm_strbuf_puts(out, kinds[def->kind]);
    if (def->kind != PTM_METRIC_GAUGE && snapshot->temporality == PTM_TEMPORALITY_DELTA)
        ptm_strbuf_puts(out, " (delta)");
}

static void put_interval(struct ptm_strbuf *out, const struct ptm_point *p)
{
    if (p->start_unix_nano != 0) {
        put_time(out, p->start_unix_nano);
        ptm_strbuf_puts(out, "..");
    }
    put_time(out, p->time_unix_nano);
}

// Finish the cell being written: a copy in the arena, or NULL.
static const char *take_cell(struct cells *c)
{
    const char *copy = c->cell.failed ? NULL
                                      : ptm_arena_strndup(c->arena, c->cell.data ? c->cell.data : "",
                                                          c->cell.len);
    ptm_strbuf_clear(&c->cell);
    return copy;
}

// The six cells of point p into row; 0 or -1.
static int fill_row(struct cells *c, const struct ptm_snapshot *snapshot, const struct ptm_point *p,
                    const char **row)
{
    const struct ptm_metric_def *def = ptm_store_metric(snapshot->store, p->metric);
    ptm_strbuf_puts(&c->cell, def->name);
    row[0] = take_cell(c);
    put_attributes(&c->cell, snapshot->store, p->attributes);
    row[1] = take_cell(c);
    put_value(&c->cell, def, p);
    row[2] = take_cell(c);
    ptm_strbuf_puts(&c->cell, def->unit);
    row[3] = take_cell(c);
    put_kind(&c->cell, snapshot, def);
    row[4] = take_cell(c);
    put_interval(&c->cell, p);
    row[5] = take_cell(c);
    for (int i = 0; i < COLUMNS; i++)
        if (row[i] == NULL)
            return -1;
    return 0;
}

static void put_row(struct ptm_strbuf *out, const char *const *row, const size_t *width)
{
    ptm_strbuf_puts(out, "  ");
    for (int i = 0; i < COLUMNS; i++) {
        ptm_strbuf_puts(out, row[i]);
        if (i == COLUMNS - 1)
            break;
        for (size_t pad = display_width(row[i]); pad < width[i] + 2; pad++)
            ptm_strbuf_putc(out, ' ');
    }
    ptm_strbuf_putc(out, '\n');
}

static void put_resource_header(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t resource)
{
    uint32_t attributes, schema_url;
    ptm_store_resource_get(store, resource, &attributes, &schema_url);
    ptm_strbuf_puts(out, "resource: ");
    if (attributes == 0)
        ptm_strbuf_puts(out, "(no attributes)");
    put_attributes(out, store, attributes);
    if (schema_url != 0)
        ptm_strbuf_printf(out, " (schema %s)", ptm_store_string_data(store, schema_url, NULL));
    ptm_strbuf_putc(out, '\n');
}

// The block of one resource: points [begin, end).
static int put_block(struct cells *c, const struct ptm_snapshot *snapshot, size_t begin, size_t end,
                     struct ptm_strbuf *out)
{
    const char **rows = ptm_arena_alloc(c->arena, (end - begin) * COLUMNS * sizeof *rows);
    if (rows == NULL)
        return -1;
    size_t width[COLUMNS];
    for (int i = 0; i < COLUMNS; i++)
        width[i] = strlen(headers[i]);
    for (size_t i = begin; i < end; i++) {
        const char **row = rows + (i - begin) * COLUMNS;
        if (fill_row(c, snapshot, &snapshot->points[i], row) != 0)
            return -1;
        for (int k = 0; k < COLUMNS; k++) {
            size_t w = display_width(row[k]);
            width[k] = w > width[k] ? w : width[k];
        }
    }
    put_resource_header(out, snapshot->store, snapshot->points[begin].resource);
    put_row(out, headers, width);
    for (size_t i = begin; i < end; i++)
        put_row(out, rows + (i - begin) * COLUMNS, width);
    return 0;
}

int ptm_encode_table(const struct ptm_snapshot *snapshot, struct ptm_strbuf *out)
{
    struct cells c = {ptm_arena_create(0), {0}};
    int rc = PTM_ENOMEM;
    if (c.arena == NULL)
        return rc;
    if (snapshot->len == 0)
        ptm_strbuf_puts(out, "no data points\n");
    size_t i = 0;
    while (i < snapshot->len) {
        size_t next = ptm_resource_run_end(snapshot, i);
        if (i > 0)
            ptm_strbuf_putc(out, '\n');
        if (put_block(&c, snapshot, i, next, out) != 0)
            break;
        i = next;
    }
    if (i == snapshot->len && !out->failed)
        rc = 0;
    ptm_strbuf_free(&c.cell);
    ptm_arena_destroy(c.arena);
    return rc;
}
