// SPDX-License-Identifier: Apache-2.0
//
// Whole-file reads into a growing buffer.
#include "util/read_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error.h"

int ptm_read_stream(FILE *f, const char *name, uint8_t **data, size_t *len, struct ptm_error *err)
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

int ptm_read_file(const char *path, uint8_t **data, size_t *len, struct ptm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ptm_error_set(err, PTM_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ptm_error_set(err, PTM_EIO, "%s: is a directory", path);
    }
    int rc = ptm_read_stream(f, path, data, len, err);
    fclose(f);
    return rc;
}
