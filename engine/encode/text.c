// SPDX-License-Identifier: Apache-2.0
//
// Numbers and attribute values as text, the same in every text encoder
// (OTLP JSON, Prometheus, table), and the walk over a snapshot's runs of
// points.
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode_internal.h"

size_t ptm_format_double(char buf[PTM_NUMBER_TEXT_MAX], double value)
{
    if (isnan(value))
        return (size_t)snprintf(buf, PTM_NUMBER_TEXT_MAX, "NaN");
    if (isinf(value))
        return (size_t)snprintf(buf, PTM_NUMBER_TEXT_MAX, value > 0 ? "+Inf" : "-Inf");
    if (value == 0)
        return (size_t)snprintf(buf, PTM_NUMBER_TEXT_MAX, "0");
    if (value == floor(value) && fabs(value) < 1e17)
        return (size_t)snprintf(buf, PTM_NUMBER_TEXT_MAX, "%.0f", value);
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, PTM_NUMBER_TEXT_MAX, "%.*g", digits, value);
        if (strtod(buf, NULL) == value)
            break;
    }
    return (size_t)n;
}

void ptm_put_value_text(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t value)
{
    enum ptm_label_type type;
    uint32_t string_id;
    int64_t i;
    double d;
    char buf[PTM_NUMBER_TEXT_MAX];
    ptm_store_value_get(store, value, &type, &string_id, &i, &d);
    switch (type) {
    case PTM_LABEL_STRING: {
        size_t len;
        const char *s = ptm_store_string_data(store, string_id, &len);
        ptm_strbuf_append(out, s != NULL ? s : "", len);
        break;
    }
    case PTM_LABEL_INT:
        ptm_strbuf_printf(out, "%" PRId64, i);
        break;
    case PTM_LABEL_DOUBLE:
        ptm_strbuf_append(out, buf, ptm_format_double(buf, d));
        break;
    case PTM_LABEL_BOOL:
        ptm_strbuf_puts(out, i ? "true" : "false");
        break;
    }
}

int64_t ptm_point_int(double value)
{
    if (isnan(value))
        return 0;
    if (value >= 9223372036854775807.0)
        return INT64_MAX;
    if (value <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)llround(value);
}

size_t ptm_resource_run_end(const struct ptm_snapshot *snapshot, size_t i)
{
    size_t j = i;
    while (j < snapshot->len && snapshot->points[j].resource == snapshot->points[i].resource)
        j++;
    return j;
}

size_t ptm_metric_run_end(const struct ptm_snapshot *snapshot, size_t i)
{
    size_t j = i;
    while (j < snapshot->len && snapshot->points[j].resource == snapshot->points[i].resource &&
           snapshot->points[j].metric == snapshot->points[i].metric)
        j++;
    return j;
}
