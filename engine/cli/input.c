// SPDX-License-Identifier: Apache-2.0
//
// File and standard-input reading (util/read_file.c does the work), and
// the option values every subcommand that reads profiles shares.
#include "cli/input.h"

#include <stdlib.h>
#include <string.h>

#include "util/read_file.h"

int ptm_read_input(const char *path, uint8_t **data, size_t *len, struct ptm_error *err)
{
    if (strcmp(path, "-") == 0)
        return ptm_read_stream(stdin, "<stdin>", data, len, err);
    return ptm_read_file(path, data, len, err);
}

int ptm_parse_format(const char *text)
{
    static const struct {
        const char *name;
        enum ptm_format format;
    } names[] = {{"auto", PTM_FORMAT_AUTO},         {"otlp", PTM_FORMAT_OTLP},
                 {"otlp-proto", PTM_FORMAT_OTLP},    {"otlp-json", PTM_FORMAT_OTLP_JSON},
                 {"otlp-framed", PTM_FORMAT_OTLP_FRAMED}, {"pprof", PTM_FORMAT_PPROF}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(text, names[i].name) == 0)
            return (int)names[i].format;
    return -1;
}

int ptm_parse_otlp_version(const char *text)
{
    if (text[0] == 'v')
        text++;
    if (strncmp(text, "1.", 2) == 0)
        text += 2;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || v < 3 || v > 11)
        return -1;
    return (int)v;
}
