// SPDX-License-Identifier: Apache-2.0
//
// multipart/form-data bodies (RFC 7578 over RFC 2046), as the Pyroscope Go
// SDK and Grafana Alloy push profiles: a `profile` part, sometimes a
// `prev_profile` and a `sample_type_config` part. The whole body is in
// memory already, so parts are views into it: find each delimiter line
// "--BOUNDARY", read the part's headers up to the empty line, take the
// bytes up to the next "\r\n--BOUNDARY". Line ends are CRLF, as every
// sender writes them; a bare LF is accepted in the part headers.
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/http.h"
#include "util/error.h"

#define MAX_BOUNDARY 200

// The boundary parameter of a Content-Type value (quoted or not) into out;
// false when there is none or it is longer than RFC 2046's 70 (we allow
// some slack).
static bool find_boundary(const char *content_type, char *out, size_t size)
{
    const char *p = content_type;
    while ((p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "boundary=", 9) != 0)
            continue;
        p += 9;
        size_t n;
        if (*p == '"') {
            p++;
            const char *q = strchr(p, '"');
            if (q == NULL)
                return false;
            n = (size_t)(q - p);
        } else {
            n = strcspn(p, "; \t");
        }
        if (n == 0 || n >= size)
            return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

static const uint8_t *find_bytes(const uint8_t *hay, size_t hay_len, const char *needle, size_t n)
{
    return memmem(hay, hay_len, needle, n);
}

// The value of parameter `param` (name or filename) in a Content-Disposition
// header value, into out ("" when absent).
static void disposition_param(const char *value, size_t len, const char *param, char *out, size_t size)
{
    out[0] = '\0';
    size_t plen = strlen(param);
    for (size_t i = 0; i + plen + 1 < len; i++) {
        bool at_word = i == 0 || value[i - 1] == ';' || value[i - 1] == ' ' || value[i - 1] == '\t';
        if (!at_word || strncasecmp(value + i, param, plen) != 0 || value[i + plen] != '=')
            continue;
        const char *v = value + i + plen + 1;
        const char *end = value + len;
        size_t n;
        if (v < end && *v == '"') {
            v++;
            const char *q = memchr(v, '"', (size_t)(end - v));
            n = (size_t)((q ? q : end) - v);
        } else {
            n = 0;
            while (v + n < end && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
                n++;
        }
        if (n >= size)
            n = size - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return;
    }
}

// Read the part headers starting at p (after the delimiter line) up to the
// empty line; fill name and filename. Returns where the data starts, or NULL
// when the headers do not end.
static const uint8_t *read_part_headers(const uint8_t *p, const uint8_t *end, struct ptm_http_part *part)
{
    part->name[0] = part->filename[0] = '\0';
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return NULL;
        size_t len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0)
            return nl + 1;
        static const char cd[] = "content-disposition:";
        if (len > sizeof cd - 1 && strncasecmp((const char *)p, cd, sizeof cd - 1) == 0) {
            const char *v = (const char *)p + sizeof cd - 1;
            size_t vlen = len - (sizeof cd - 1);
            disposition_param(v, vlen, "name", part->name, sizeof part->name);
            disposition_param(v, vlen, "filename", part->filename, sizeof part->filename);
        }
        p = nl + 1;
    }
    return NULL;
}

int ptm_http_multipart_parse(const char *content_type, const uint8_t *body, size_t len,
                             struct ptm_http_part *parts, size_t max, struct ptm_error *err)
{
    char boundary[MAX_BOUNDARY + 1];
    char delim[MAX_BOUNDARY + 5];
    if (content_type == NULL || !find_boundary(content_type, boundary, sizeof boundary))
        return ptm_error_set(err, PTM_EFORMAT, "multipart body: no boundary in the Content-Type \"%s\"",
                             content_type ? content_type : "");
    int dlen = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    const uint8_t *end = body + len;
    // The first delimiter may open the body without the CRLF before it.
    const uint8_t *p;
    if (len >= (size_t)dlen - 2 && memcmp(body, delim + 2, (size_t)dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        p = find_bytes(body, len, delim, (size_t)dlen);
        if (p == NULL)
            return ptm_error_set(err, PTM_EFORMAT, "multipart body: no delimiter line \"--%s\"", boundary);
        p += dlen;
    }
    size_t n = 0;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return (int)n; // the closing delimiter
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return ptm_error_set(err, PTM_EFORMAT, "multipart body: part %zu: no line after its delimiter",
                                 n);
        if (n == max)
            return ptm_error_set(err, PTM_EFORMAT, "multipart body: more than %zu parts", max);
        struct ptm_http_part *part = &parts[n];
        const uint8_t *data = read_part_headers(nl + 1, end, part);
        if (data == NULL)
            return ptm_error_set(err, PTM_EFORMAT, "multipart body: part %zu: its headers do not end", n);
        const uint8_t *next = find_bytes(data, (size_t)(end - data), delim, (size_t)dlen);
        if (next == NULL)
            return ptm_error_set(err, PTM_EFORMAT,
                                 "multipart body: part %zu (\"%s\"): no delimiter after its data "
                                 "(the body is cut short?)",
                                 n, part->name);
        part->data = data;
        part->len = (size_t)(next - data);
        n++;
        p = next + dlen;
    }
}
