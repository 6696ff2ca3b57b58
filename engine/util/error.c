// SPDX-License-Identifier: Apache-2.0
//
// Error codes, their descriptions and the message helpers; the version.
#include "util/error.h"

#include <stdio.h>
#include <string.h>

const char *ptm_strerror(int code)
{
    switch (code) {
    case PTM_OK: return "success";
    case PTM_ENOMEM: return "out of memory";
    case PTM_EINVAL: return "invalid argument";
    case PTM_EFORMAT: return "malformed input";
    case PTM_EUNSUPPORTED: return "unsupported input";
    case PTM_ELIMIT: return "limit exceeded";
    case PTM_EIO: return "input/output error";
    case PTM_ECONFIG: return "invalid configuration";
    case PTM_ERULE: return "rule error";
    }
    return "unknown error";
}

const char *ptm_version(void)
{
    return PTM_VERSION_STRING;
}

int ptm_version_number(void)
{
    return PTM_VERSION_NUMBER;
}

int ptm_error_setv(struct ptm_error *err, int code, const char *fmt, va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    if (err->message[0] == '\0')
        snprintf(err->message, sizeof err->message, "%s", ptm_strerror(code));
    return code;
}

int ptm_error_set(struct ptm_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptm_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void ptm_error_prefix(struct ptm_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t cap = sizeof err->message;
    size_t plen = strlen(prefix);
    if (plen > cap - 3)
        plen = cap - 3;
    size_t keep = strnlen(err->message, cap - 1);
    if (plen + 2 + keep > cap - 1)
        keep = cap - 1 - plen - 2;
    memmove(err->message + plen + 2, err->message, keep);
    memcpy(err->message, prefix, plen);
    err->message[plen] = ':';
    err->message[plen + 1] = ' ';
    err->message[plen + 2 + keep] = '\0';
}

void ptm_error_clear(struct ptm_error *err)
{
    if (err == NULL)
        return;
    err->code = PTM_OK;
    err->message[0] = '\0';
}
