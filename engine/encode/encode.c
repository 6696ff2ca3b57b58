// SPDX-License-Identifier: Apache-2.0
//
// The encoders' front door: pick one by format, and parse format names.
#include <string.h>

#include "encode/encode.h"

int ptm_encode(const struct ptm_snapshot *snapshot, enum ptm_output_format format,
               const struct ptm_encode_options *opts, struct ptm_strbuf *out)
{
    switch (format) {
    case PTM_OUTPUT_OTLP:
        return ptm_encode_otlp(snapshot, out);
    case PTM_OUTPUT_OTLP_JSON:
        return ptm_encode_otlp_json(snapshot, out);
    case PTM_OUTPUT_PROMETHEUS:
        return ptm_encode_prometheus(snapshot, opts, out);
    case PTM_OUTPUT_TABLE:
        return ptm_encode_table(snapshot, out);
    }
    return PTM_EINVAL;
}

int ptm_parse_output_format(const char *name)
{
    static const struct {
        const char *name;
        enum ptm_output_format format;
    } formats[] = {
        {"otlp", PTM_OUTPUT_OTLP},
        {"otlp-json", PTM_OUTPUT_OTLP_JSON},
        {"prometheus", PTM_OUTPUT_PROMETHEUS},
        {"table", PTM_OUTPUT_TABLE},
    };
    for (size_t i = 0; name != NULL && i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(name, formats[i].name) == 0)
            return (int)formats[i].format;
    return -1;
}
