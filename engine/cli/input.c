// SPDX-License-Identifier: Apache-2.0
//
// File and standard-input reading, and the option values every subcommand
// that reads profiles shares.
#include "cli/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error.h"

static int read_stream(FILE *f, const char *name, uint8_t **data, size_t *len, struct ptm_error *err)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "%s: out of memory", name);
    for (;;) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return ptm_error_set(err, PTM_ENOMEM, "%s: out of memory after %zu bytes", name, n);
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                return ptm_error_set(err, PTM_EIO, "%s: read failed: %s", name, strerror(e));
            }
            break;
        }
    }
    *data = buf;
    *len = n;
    return 0;
}

int ptm_read_input(const char *path, uint8_t **data, size_t *len, struct ptm_error *err)
{
    if (strcmp(path, "-") == 0)
        return read_stream(stdin, "<stdin>", data, len, err);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ptm_error_set(err, PTM_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ptm_error_set(err, PTM_EIO, "%s: is a directory", path);
    }
    int rc = read_stream(f, path, data, len, err);
    fclose(f);
    return rc;
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
